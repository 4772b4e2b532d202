// imgcreate — an owned libsolv Queue (a growable array of Ids).
#pragma once

#include <imgcreate/install/solv/c_api.hpp>

#include <cstddef>
#include <initializer_list>
#include <utility>

namespace imgcreate::install::solv {

class IdQueue {
public:
    IdQueue() { queue_init(&queue_); }
    IdQueue(std::initializer_list<Id> ids) : IdQueue() {
        for (Id id : ids) push(id);
    }
    ~IdQueue() { queue_free(&queue_); }
    IdQueue(const IdQueue& other) { queue_init_clone(&queue_, const_cast<Queue*>(&other.queue_)); }
    IdQueue(IdQueue&& other) noexcept : IdQueue() { std::swap(queue_, other.queue_); }
    IdQueue& operator=(IdQueue other) noexcept {
        std::swap(queue_, other.queue_);
        return *this;
    }

    void push(Id id) { queue_push(&queue_, id); }
    void push(Id how, Id what) { queue_push2(&queue_, how, what); }
    void append(const IdQueue& other) { queue_insertn(&queue_, queue_.count, other.queue_.count, other.queue_.elements); }
    void clear() { queue_empty(&queue_); }
    std::size_t size() const noexcept { return static_cast<std::size_t>(queue_.count); }
    bool empty() const noexcept { return queue_.count == 0; }
    Id operator[](std::size_t i) const noexcept { return queue_.elements[i]; }
    Id& operator[](std::size_t i) noexcept { return queue_.elements[i]; }
    const Id* begin() const noexcept { return queue_.elements; }
    const Id* end() const noexcept { return queue_.elements + queue_.count; }

    Queue* get() noexcept { return &queue_; }
    const Queue* get() const noexcept { return &queue_; }

private:
    Queue queue_;
};

}  // namespace imgcreate::install::solv

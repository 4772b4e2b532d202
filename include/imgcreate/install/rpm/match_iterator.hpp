// imgcreate — an iterator over rpmdb headers that frees itself.
#pragma once

#include <imgcreate/install/rpm/header.hpp>

#include <optional>
#include <utility>

#include <rpm/rpmdb.h>

namespace imgcreate::install::rpm {

class MatchIterator {
public:
    explicit MatchIterator(rpmdbMatchIterator mi) noexcept : mi_(mi) {}
    MatchIterator(MatchIterator&& other) noexcept : mi_(std::exchange(other.mi_, nullptr)) {}
    MatchIterator& operator=(MatchIterator&&) = delete;
    MatchIterator(const MatchIterator&) = delete;
    ~MatchIterator() {
        if (mi_) rpmdbFreeIterator(mi_);
    }

    // The next header, owned by the caller; nullopt at the end (or on an empty match).
    std::optional<Header> next() {
        if (!mi_) return std::nullopt;
        ::Header h = rpmdbNextIterator(mi_);
        if (!h) return std::nullopt;
        return Header::borrow(h);
    }

private:
    rpmdbMatchIterator mi_ = nullptr;
};

}  // namespace imgcreate::install::rpm

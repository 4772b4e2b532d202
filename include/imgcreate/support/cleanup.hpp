// imgcreate — undo actions run last-in first-out, each exactly once. A failing action is
// logged and the rest still run: cleanup never throws, so it is safe from destructors.
#pragma once

#include <imgcreate/support/log.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace imgcreate {

class CleanupStack {
public:
    using Token = std::size_t;

    CleanupStack() = default;
    CleanupStack(const CleanupStack&) = delete;
    CleanupStack& operator=(const CleanupStack&) = delete;
    ~CleanupStack() { run_all(); }

    // Registers `undo` (described by `what`, e.g. "unmount /var/tmp/imgcreate-x/install_root").
    Token push(std::string what, std::function<void()> undo) {
        actions_.push_back({std::move(what), std::move(undo), next_token_});
        return next_token_++;
    }

    // Runs one action now (out of order), e.g. an unmount step done on the normal path.
    // Throws what the action throws: on the normal path a failure must reach the caller.
    void run(Token token) {
        for (auto it = actions_.begin(); it != actions_.end(); ++it) {
            if (it->token != token) continue;
            auto action = std::move(*it);
            actions_.erase(it);
            action.undo();
            return;
        }
    }

    // Forgets an action without running it (the resource was handed over or already freed).
    void release(Token token) {
        std::erase_if(actions_, [token](const Action& a) { return a.token == token; });
    }

    // Runs every pending action, newest first. Returns what was undone, for the
    // "cleaned up: ..." line a user sees after Ctrl-C.
    std::vector<std::string> run_all() noexcept {
        std::vector<std::string> done;
        while (!actions_.empty()) {
            auto action = std::move(actions_.back());
            actions_.pop_back();
            try {
                action.undo();
                done.push_back(action.what);
                log::debug("cleaned up: ", action.what);
            } catch (const std::exception& e) {
                log::error("cleanup step failed: ", action.what, ": ", e.what());
            } catch (...) {
                log::error("cleanup step failed: ", action.what);
            }
        }
        return done;
    }

    bool empty() const noexcept { return actions_.empty(); }
    std::size_t size() const noexcept { return actions_.size(); }
    std::vector<std::string> pending() const {
        std::vector<std::string> out;
        for (auto it = actions_.rbegin(); it != actions_.rend(); ++it) out.push_back(it->what);
        return out;
    }

private:
    struct Action {
        std::string what;
        std::function<void()> undo;
        Token token;
    };
    std::vector<Action> actions_;
    Token next_token_ = 0;
};

}  // namespace imgcreate

// imgcreate — turning SIGINT/SIGTERM into an orderly unwind. The handler only records the
// signal; long operations call check_interrupted() at safe points, which throws
// InterruptedError so every RAII handle and cleanup action runs on the way out.
#pragma once

#include <imgcreate/support/error.hpp>

#include <atomic>
#include <csignal>

namespace imgcreate {

namespace detail {
inline std::atomic<int>& pending_signal() {
    static std::atomic<int> signal{0};
    return signal;
}
extern "C" inline void record_signal(int signal) { pending_signal().store(signal); }
}  // namespace detail

inline int interrupted() noexcept { return detail::pending_signal().load(); }

inline void check_interrupted() {
    if (int sig = interrupted()) throw InterruptedError(sig);
}

// While alive, SIGINT and SIGTERM are recorded instead of killing the process; the previous
// handlers come back when it goes. Nested guards are fine.
class InterruptGuard {
public:
    InterruptGuard() {
        struct sigaction action{};
        action.sa_handler = detail::record_signal;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGINT, &action, &old_int_);
        ::sigaction(SIGTERM, &action, &old_term_);
    }
    ~InterruptGuard() {
        ::sigaction(SIGINT, &old_int_, nullptr);
        ::sigaction(SIGTERM, &old_term_, nullptr);
    }
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

    // Forget a recorded signal (tests, or a frontend that asked the user and carries on).
    static void reset() noexcept { detail::pending_signal().store(0); }

private:
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
};

}  // namespace imgcreate

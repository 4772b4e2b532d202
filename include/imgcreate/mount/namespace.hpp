// imgcreate — the build's private mount namespace. Every mount a build makes lives in a
// namespace of its own whose root is recursively private: nothing propagates to the host's
// mount table (on systemd hosts "/" is shared, so without this an install root's /proc and
// /dev/pts would show up in every other namespace), and when the process dies — even by
// SIGKILL — the kernel takes the namespace and every mount in it away.
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <cerrno>
#include <filesystem>
#include <string>

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

namespace imgcreate::mount {

namespace detail {
inline bool& in_private_namespace() {
    static bool entered = false;
    return entered;
}

inline std::size_t thread_count() {
    std::error_code ec;
    std::size_t n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec))
        ++n;
    return n;
}
}  // namespace detail

// Moves this process into a new mount namespace with "/" made private, once; later calls do
// nothing. unshare(CLONE_NEWNS) needs the process to be single-threaded (it also unshares
// the filesystem context, which threads share), so call it before starting any thread.
inline void enter_private_mount_namespace() {
    if (detail::in_private_namespace()) return;
    if (auto threads = detail::thread_count(); threads > 1)
        throw MountError("cannot enter a private mount namespace: the process already runs " + std::to_string(threads) +
                         " threads; make the build's mounts before starting any thread");
    if (::unshare(CLONE_NEWNS) != 0)
        throw MountError(errno_message("cannot enter a private mount namespace (unshare)", {}, errno) +
                         " (building images needs root: run with sudo)");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        throw MountError(errno_message("cannot make the build's mount namespace private", "/", errno));
    detail::in_private_namespace() = true;
    log::debug("entered a private mount namespace");
}

inline bool in_private_mount_namespace() noexcept { return detail::in_private_namespace(); }

}  // namespace imgcreate::mount

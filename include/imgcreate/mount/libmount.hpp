// imgcreate — mounting through libmount. `Context` owns one libmnt_context; `Mount` is a
// mounted filesystem whose destructor unmounts it. An unmount that fails because the
// filesystem is busy is never retried lazily: the error names the processes holding it.
#pragma once

#include <imgcreate/mount/busy.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <cerrno>
#include <filesystem>
#include <string>
#include <utility>

extern "C" {
#include <libmount/libmount.h>
}

namespace imgcreate::mount {

namespace detail {

class Context {
public:
    Context() : cxt_(mnt_new_context()) {
        if (!cxt_) throw MountError("libmount: cannot allocate a mount context (out of memory)");
        // The build's mounts live in its own namespace: recording them in the host-wide
        // /run/mount/utab would leave stale entries behind, and mount.<type> helpers would
        // run outside our control.
        mnt_context_disable_mtab(cxt_, 1);
        mnt_context_disable_helpers(cxt_, 1);
        mnt_context_set_optsmode(cxt_, MNT_OMODE_NOTAB);
    }
    ~Context() { mnt_free_context(cxt_); }
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    libmnt_context* get() const noexcept { return cxt_; }

    // libmount's own explanation of return code `rc` ("mount(2) system call failed: ...").
    std::string explain(int rc) const {
        char buf[512] = {};
        mnt_context_get_excode(cxt_, rc, buf, sizeof buf);
        return buf[0] ? std::string(buf) : "libmount error " + std::to_string(rc);
    }

private:
    libmnt_context* cxt_;
};

inline void check(int rc, const char* what, const std::filesystem::path& target) {
    if (rc < 0) throw MountError(errno_message(std::string("libmount: cannot set the ") + what, target, -rc), target.string());
}

}  // namespace detail

// What to mount where. `options` is a mount(8)-style option string ("bind", "ro,nosuid",
// "mode=0755"); empty `fstype` lets libmount probe the source.
struct MountSpec {
    std::string source;
    std::filesystem::path target;
    std::string fstype;
    std::string options;
};

// Unmounts `target`. Throws MountError naming the processes that keep it busy.
inline void unmount(const std::filesystem::path& target) {
    detail::Context cxt;
    detail::check(mnt_context_set_target(cxt.get(), target.c_str()), "unmount target", target);
    int rc = mnt_context_umount(cxt.get());
    if (rc == 0) {
        log::debug("unmounted ", target.string());
        return;
    }
    // Positive: the umount(2) call failed with that errno; negative: a library error.
    const int err = rc > 0 ? mnt_context_get_syscall_errno(cxt.get()) : -rc;
    if (err == EBUSY)
        throw MountError("cannot unmount " + target.string() + ": it is busy; stop these processes and unmount it "
                         "by hand:" + describe_holders(target),
                         target.string());
    throw MountError("cannot unmount " + target.string() + ": " + cxt.explain(rc), target.string());
}

class Mount {
public:
    static Mount mount(const MountSpec& spec) {
        detail::Context cxt;
        auto* c = cxt.get();
        detail::check(mnt_context_set_source(c, spec.source.c_str()), "mount source", spec.target);
        detail::check(mnt_context_set_target(c, spec.target.c_str()), "mount target", spec.target);
        if (!spec.fstype.empty()) detail::check(mnt_context_set_fstype(c, spec.fstype.c_str()), "filesystem type", spec.target);
        if (!spec.options.empty()) detail::check(mnt_context_set_options(c, spec.options.c_str()), "mount options", spec.target);
        int rc = mnt_context_mount(c);
        if (rc != 0 || mnt_context_get_status(c) != 1)
            throw MountError("cannot mount " + spec.source + " on " + spec.target.string() +
                                 (spec.fstype.empty() ? "" : " (" + spec.fstype + ")") + ": " + cxt.explain(rc),
                             spec.target.string());
        log::debug("mounted ", spec.source, " on ", spec.target.string(),
                   spec.options.empty() ? std::string() : " (" + spec.options + ")");
        return Mount(spec.target);
    }

    // Takes charge of a filesystem mounted on `target` by other means (another process of the
    // same mount namespace): it is unmounted like one this class mounted.
    static Mount adopt(std::filesystem::path target) { return Mount(std::move(target)); }

    Mount(Mount&& other) noexcept : target_(std::exchange(other.target_, {})) {}
    Mount& operator=(Mount&& other) noexcept {
        if (this != &other) {
            release_quietly();
            target_ = std::exchange(other.target_, {});
        }
        return *this;
    }
    Mount(const Mount&) = delete;
    Mount& operator=(const Mount&) = delete;
    ~Mount() { release_quietly(); }

    const std::filesystem::path& target() const noexcept { return target_; }
    bool mounted() const noexcept { return !target_.empty(); }

    // Unmounts now; throws (and stays mounted, so a later attempt can succeed) on failure.
    void unmount() {
        if (target_.empty()) return;
        mount::unmount(target_);
        target_.clear();
    }

private:
    explicit Mount(std::filesystem::path target) : target_(std::move(target)) {}

    void release_quietly() noexcept {
        try {
            unmount();
        } catch (const std::exception& e) {
            log::error(e.what());
        }
    }

    std::filesystem::path target_;
};

}  // namespace imgcreate::mount

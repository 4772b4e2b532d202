// imgcreate — building without root: the process enters a user namespace in which it is root,
// with the caller's subordinate uid and gid ranges (/etc/subuid, /etc/subgid) mapped for the
// image's other accounts, plus a pid namespace (so the install root gets a /proc of its own) and
// a private mount namespace. Inside it the build mounts what it mounts as root does (tmpfs,
// proc, devpts, binds), chroots and runs rpm, scriptlets, dracut and setfiles; it cannot use
// loop devices, so its filesystems are made from the tree (mount/tree_filesystem.hpp).
//
//   mapping   namespace uid 0 -> the caller's uid; 1 .. N -> the caller's subordinate range of
//             N ids (newuidmap and newgidmap, from Debian's uidmap package, write the maps);
//             the same for gids
//   processes enter_user_namespace() forks. The parent stays outside the pid namespace, passes
//             SIGINT, SIGTERM, SIGHUP and SIGQUIT on to the child and exits as it does; the child
//             returns from the call as pid 1 of the new pid namespace. Every process the build
//             leaves behind dies with it, and so does the mount namespace with every mount.
//             If the parent is killed (even by SIGKILL) the child gets SIGTERM and cleans up
//             as on Ctrl-C; if the child is killed, the parent removes the build directory.
//
// Call it before starting any thread (unshare(2) refuses a multi-threaded process), as early in
// main() as you can: code before it runs once, code after it runs in the child.
#pragma once

#include <imgcreate/mount/namespace.hpp>
#include <imgcreate/support/build_dir.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/interrupt.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace imgcreate {

// The build cannot enter its user namespace: no subordinate range, user namespaces refused by
// the host, or newuidmap/newgidmap failing. The message says which and what to do.
class UserNamespaceError : public Error {
public:
    explicit UserNamespaceError(const std::string& what) : Error(what, "user namespace") {}
};

namespace mount {

// One line of /etc/subuid or /etc/subgid: the ids start .. start + count - 1.
struct SubordinateRange {
    unsigned long start = 0;
    unsigned long count = 0;
};

// The largest range `file` gives the user (named by login name or by number), if any.
inline std::optional<SubordinateRange> subordinate_range(const std::filesystem::path& file, const std::string& user,
                                                         unsigned long id) {
    std::ifstream in(file);
    std::optional<SubordinateRange> best;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::string name, start, count;
        if (!std::getline(fields, name, ':') || !std::getline(fields, start, ':') || !std::getline(fields, count)) continue;
        if (name != user && name != std::to_string(id)) continue;
        try {
            SubordinateRange r{std::stoul(start), std::stoul(count)};
            if (r.count > 0 && (!best || r.count > best->count)) best = r;
        } catch (const std::exception&) {
        }
    }
    return best;
}

namespace detail {

struct UserNamespaceState {
    bool entered = false;
    SubordinateRange uids, gids;
};
inline UserNamespaceState& user_namespace_state() {
    static UserNamespaceState state;
    return state;
}

// Shared with the parent, which removes the build dir when the child is killed. A fixed page:
// the child writes it with no allocation, the parent reads it after the child is gone.
struct SharedBuildDir {
    char path[4000];
};
inline SharedBuildDir*& shared_build_dir() {
    static SharedBuildDir* page = nullptr;
    return page;
}

inline pid_t& namespace_child() {
    static pid_t pid = 0;
    return pid;
}
extern "C" inline void forward_signal(int sig) {
    if (namespace_child() > 0) ::kill(namespace_child(), sig);
}

inline std::string read_first_line(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    return line;
}

// Why unshare(CLONE_NEWUSER) was refused, in words a user can act on; `proc` is where procfs is.
inline std::string why_no_user_namespace(int err, const std::filesystem::path& proc = "/proc") {
    const std::string head = "cannot build without root: ";
    if (read_first_line(proc / "sys/kernel/unprivileged_userns_clone") == "0")
        return head + "user namespaces are disabled for users on this host (sysctl kernel.unprivileged_userns_clone = 0); "
                      "an administrator can allow them with `sysctl -w kernel.unprivileged_userns_clone=1`, or build as root";
    if (read_first_line(proc / "sys/user/max_user_namespaces") == "0")
        return head + "user namespaces are disabled on this host (sysctl user.max_user_namespaces = 0); an administrator can "
                      "allow them with `sysctl -w user.max_user_namespaces=15000`, or build as root";
    if (read_first_line(proc / "sys/kernel/apparmor_restrict_unprivileged_userns") == "1")
        return head + "AppArmor refuses user namespaces to unconfined programs on this host "
                      "(sysctl kernel.apparmor_restrict_unprivileged_userns = 1); an administrator can allow them, or build as root";
    std::ifstream status(proc / "self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("Seccomp:", 0) == 0 && line.find('2') != std::string::npos)
            return head + "a seccomp filter refuses to create a user namespace (" + std::strerror(err) +
                   "); in a container, run it with a seccomp profile that allows unshare(CLONE_NEWUSER) "
                   "(e.g. podman/docker --security-opt seccomp=unconfined), or build as root";
    if (err == EUSERS || err == ENOSPC)
        return head + "this user has reached its limit of user namespaces (" + std::strerror(err) +
               "; see /proc/sys/user/max_user_namespaces)";
    return head + "the kernel refuses to create a user namespace: " + std::strerror(err);
}

inline std::string user_name(uid_t uid) {
    if (const passwd* pw = ::getpwuid(uid)) return pw->pw_name;
    return std::to_string(uid);
}

// Runs newuidmap/newgidmap for `pid`; returns what failed, or nothing.
inline std::optional<std::string> write_maps(pid_t pid, uid_t uid, gid_t gid, const SubordinateRange& uids,
                                             const SubordinateRange& gids) {
    auto map = [&](const std::string& program, unsigned long own, const SubordinateRange& range) -> std::optional<std::string> {
        Command c;
        c.argv = {find_program(program).string(), std::to_string(pid), "0", std::to_string(own), "1", "1",
                  std::to_string(range.start), std::to_string(range.count)};
        c.check = false;
        c.log_output = false;
        const auto result = run(c);
        if (result.exit_status == 0) return std::nullopt;
        return program + " failed (" + imgcreate::detail::tail_of(result.output, 3) + ")";
    };
    if (auto failed = map("newuidmap", uid, uids)) return failed;
    return map("newgidmap", gid, gids);
}

}  // namespace detail

// Whether this process runs in a user namespace other than the host's.
inline bool in_user_namespace() {
    if (detail::user_namespace_state().entered) return true;
    std::ifstream map("/proc/self/uid_map");
    unsigned long inside = 0, outside = 0, count = 0;
    if (!(map >> inside >> outside >> count)) return false;
    return !(inside == 0 && outside == 0 && count == 4294967295UL);
}

// The subordinate ranges mapped into this build's namespace (ids 1 .. count), once entered.
inline SubordinateRange mapped_uid_range() { return detail::user_namespace_state().uids; }
inline SubordinateRange mapped_gid_range() { return detail::user_namespace_state().gids; }

// The build records its build directory here, so that the parent outside the namespace can
// remove it if the build is killed (SIGKILL): only the namespace's root can delete files owned
// by the subordinate ids. Does nothing outside a namespace entered by enter_user_namespace().
inline void record_build_dir(const std::filesystem::path& dir) noexcept {
    auto* page = detail::shared_build_dir();
    if (!page) return;
    const auto text = dir.string();
    if (text.size() >= sizeof page->path) return;
    std::memcpy(page->path, text.c_str(), text.size() + 1);
}

// What the caller needs before a build without root can start, checked without side effects:
// nothing when it can, else the reason with what to do.
inline std::optional<std::string> user_namespace_problem() {
    const uid_t uid = ::getuid();
    const auto name = detail::user_name(uid);
    const auto fix = "`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " + name + "`";
    if (!subordinate_range("/etc/subuid", name, uid))
        return "cannot build without root: user " + name + " has no subordinate uid range in /etc/subuid; an administrator "
               "can give it one with " + fix + ", or build as root";
    if (!subordinate_range("/etc/subgid", name, uid))
        return "cannot build without root: user " + name + " has no subordinate gid range in /etc/subgid; an administrator "
               "can give it one with " + fix + ", or build as root";
    for (const char* program : {"newuidmap", "newgidmap"}) {
        try {
            find_program(program);
        } catch (const std::exception&) {
            return std::string("cannot build without root: ") + program + " is not installed (install the uidmap package: "
                   "apt-get install uidmap), or build as root";
        }
    }
    return std::nullopt;
}

// Enters the build's user, pid and mount namespaces (see the top of this file). Returns in the
// child; the parent never returns. Does nothing for root or when already inside.
inline void enter_user_namespace() {
    auto& state = detail::user_namespace_state();
    if (state.entered || ::geteuid() == 0) return;
    if (auto problem = user_namespace_problem()) throw UserNamespaceError(*problem);
    {
        std::error_code ec;
        std::size_t threads = 0;
        for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
             !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
            ++threads;
        if (threads > 1)
            throw UserNamespaceError("cannot enter a user namespace: the process already runs " + std::to_string(threads) +
                                     " threads; call enter_user_namespace() before starting any thread");
    }
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    const auto name = detail::user_name(uid);
    const auto uids = *subordinate_range("/etc/subuid", name, uid);
    const auto gids = *subordinate_range("/etc/subgid", name, uid);

    // The maps are written from outside: newuidmap, set-uid root on the host, would have no
    // privilege inside a namespace that does not map the host's root. So a process forked
    // before unshare() writes them for this one.
    int go[2];
    if (::pipe2(go, O_CLOEXEC) != 0) throw UserNamespaceError(errno_message("cannot create a pipe", {}, errno));
    const pid_t self = ::getpid();
    const pid_t mapper = ::fork();
    if (mapper < 0) throw UserNamespaceError(errno_message("cannot fork", {}, errno));
    if (mapper == 0) {
        ::close(go[1]);
        char c = 0;
        if (::read(go[0], &c, 1) != 1 || c != 'm') ::_exit(3);
        std::optional<std::string> failed;
        try {
            failed = detail::write_maps(self, uid, gid, uids, gids);
        } catch (const std::exception& e) {
            failed = e.what();
        }
        if (failed) {
            std::fprintf(stderr, "%s\n", failed->c_str());
            ::_exit(1);
        }
        ::_exit(0);
    }
    ::close(go[0]);
    auto wait_mapper = [&] {
        int status = 0;
        while (::waitpid(mapper, &status, 0) < 0 && errno == EINTR) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    };
    if (::unshare(CLONE_NEWUSER) != 0) {
        const int err = errno;
        ::close(go[1]);
        wait_mapper();
        throw UserNamespaceError(detail::why_no_user_namespace(err));
    }
    const char m = 'm';
    const bool sent = ::write(go[1], &m, 1) == 1;
    ::close(go[1]);
    if (!sent || wait_mapper() != 0)
        throw UserNamespaceError("cannot map the subordinate ids of user " + name + " (uids " + std::to_string(uids.start) +
                                 "+" + std::to_string(uids.count) + " of /etc/subuid, gids " + std::to_string(gids.start) +
                                 "+" + std::to_string(gids.count) + " of /etc/subgid) into the build's user namespace: "
                                 "see newuidmap's message above");
    // Supplementary groups of the host are not mapped: they would show as nobody.
    ::setgroups(0, nullptr);
    if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0)
        throw UserNamespaceError(errno_message("cannot become root in the build's user namespace", {}, errno));
    if (::unshare(CLONE_NEWPID) != 0)
        throw UserNamespaceError(errno_message("cannot create the build's pid namespace", {}, errno));

    auto* page = static_cast<detail::SharedBuildDir*>(
        ::mmap(nullptr, sizeof(detail::SharedBuildDir), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    if (page == MAP_FAILED) throw UserNamespaceError(errno_message("cannot map a shared page", {}, errno));
    page->path[0] = '\0';

    const pid_t child = ::fork();
    if (child < 0) throw UserNamespaceError(errno_message("cannot fork into the build's pid namespace", {}, errno));
    if (child == 0) {
        // pid 1 of the new namespace. If the parent goes, the build stops as on Ctrl-C.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        // pid 1 ignores a signal it has no handler for: until the program installs its own
        // (InterruptGuard), SIGINT and SIGTERM are recorded for check_interrupted().
        struct sigaction record {};
        record.sa_handler = imgcreate::detail::record_signal;
        sigemptyset(&record.sa_mask);
        for (int sig : {SIGINT, SIGTERM}) ::sigaction(sig, &record, nullptr);
        if (::unshare(CLONE_NEWNS) != 0)
            throw UserNamespaceError(errno_message("cannot create the build's mount namespace", {}, errno));
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            throw UserNamespaceError(errno_message("cannot make the build's mount namespace private", "/", errno));
        // The namespace's own /proc: pids, /proc/self and the mount table as the build sees them.
        if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
            throw UserNamespaceError(errno_message("cannot mount the build's /proc", "/proc", errno));
        state.entered = true;
        detail::in_private_namespace() = true;
        state.uids = uids;
        state.gids = gids;
        detail::shared_build_dir() = page;
        log::debug("entered a user namespace: uid 0 is ", uid, ", uids 1-", uids.count, " are ", uids.start, "-",
                   uids.start + uids.count - 1);
        return;
    }

    // The parent: pass signals on, wait, clean up after a killed child, exit as it did.
    detail::namespace_child() = child;
    struct sigaction forward {};
    forward.sa_handler = detail::forward_signal;
    sigemptyset(&forward.sa_mask);
    forward.sa_flags = SA_RESTART;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(sig, &forward, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) ::_exit(1);
    }
    if (WIFSIGNALED(status)) {
        const std::filesystem::path dir = page->path;
        try {
            remove_build_dir(dir);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s\n", e.what());
        }
        std::fflush(nullptr);
        ::signal(WTERMSIG(status), SIG_DFL);
        ::raise(WTERMSIG(status));
        ::_exit(128 + WTERMSIG(status));
    }
    std::fflush(nullptr);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

}  // namespace mount

using mount::enter_user_namespace;

}  // namespace imgcreate

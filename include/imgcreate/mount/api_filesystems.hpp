// imgcreate — what programs running inside the install root (rpm scriptlets, %post) expect
// of a running system: /proc, /sys, a minimal /dev with /dev/pts and /dev/shm, the package
// cache at /var/cache/dnf, /etc/mtab and /etc/fstab.
//
// Every filesystem is a fresh instance rather than a bind of the host's, so nothing done in
// the root reaches the host: /dev is a tmpfs with only the harmless nodes livecd-tools makes
// (never the host's disks), /dev/pts a new devpts instance, /sys read-only. A fresh sysfs
// still shares its root directory with the host's /sys (one kernfs node, one mode), so /sys
// is a tmpfs holding read-only binds of a fresh sysfs's top-level directories: rpm sets the
// mode a package gives /sys on that tmpfs, never on the host's, whatever mode the host's
// /sys has. On unmount, /proc, /sys and /dev in the image take the mode and owner their
// mounted roots ended with, which is what the packages that own them gave. When the host
// runs SELinux, its selinuxfs is bound in with `load` covered by /dev/null, as livecd-tools
// does, so a policy package's scriptlet cannot load its policy into the host kernel.
//
// Each mount is pushed on the build's cleanup stack as it is made, so a failure halfway
// unmounts exactly what was mounted, newest first.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/mount/libmount.hpp>
#include <imgcreate/mount/user_namespace.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/root_path.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <csignal>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

namespace imgcreate::mount {

// livecd-tools' fstab: the root device by the name the kernel gives it, then the API
// filesystems systemd mounts anyway.
inline std::string default_fstab(const std::string& root_fstype) {
    return "/dev/root  /         " + root_fstype +
           "    defaults,noatime 0 0\n"
           "devpts     /dev/pts  devpts  gid=5,mode=620   0 0\n"
           "tmpfs      /dev/shm  tmpfs   defaults         0 0\n"
           "proc       /proc     proc    defaults         0 0\n"
           "sysfs      /sys      sysfs   defaults         0 0\n";
}

class ApiFilesystems {
public:
    // Mounts everything in ctx.install_root; `fstab` (if not empty) becomes /etc/fstab.
    void mount(BuildContext& ctx, const std::string& fstab = {}) {
        RootDir root(ctx.install_root);
        const bool userns = in_user_namespace();
        userns_ = userns;
        if (userns) {
            // In a user namespace rpm cannot give a mounted proc the owner its package names (the
            // root of every proc belongs to the host's root, which the namespace does not map), so
            // /proc waits for that package: the install policy mounts it through ctx.mount_proc.
            record_scaffolding(ctx, root, "proc");
            root.mkdirs("proc");
            // rpm calls back chrooted in the root: the mount goes on the directory an fd names.
            auto dir = std::make_shared<UniqueFd>(root.open("proc", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0));
            // A build stopped before that package (Ctrl-C in the transaction) lets go of the
            // directory before the root it is in is unmounted.
            tokens_.push_back(ctx.cleanup.push("close " + (ctx.install_root / "proc").string(), [dir] { dir->reset(); }));
            ctx.mount_proc = [this, &ctx, dir] {
                if (!*dir) return;
                const auto target = ctx.install_root / "proc";
                mount_proc_on(dir->get(), target);
                dir->reset();
                auto handle = std::make_shared<Mount>(Mount::adopt(target));
                tokens_.push_back(ctx.cleanup.push("unmount " + target.string(), [handle] { handle->unmount(); }));
            };
        } else {
            mount_in_root(ctx, root, {"proc", "/proc", "proc", "nosuid,nodev,noexec"});
        }
        mount_sysfs(ctx, root);
        if (host_has_selinuxfs() && !userns) {
            mount_in_root(ctx, root, {"/sys/fs/selinux", "/sys/fs/selinux", "", "bind"});
            mount_in_root(ctx, root, {"/dev/null", "/sys/fs/selinux/load", "", "bind"});
        }
        mount_in_root(ctx, root, {"tmpfs", "/dev", "tmpfs", "mode=0755,nosuid,size=64k"});
        make_minimal_dev(ctx, root, userns);
        mount_in_root(ctx, root, {"devpts", "/dev/pts", "devpts", "newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec"});
        mount_in_root(ctx, root, {"tmpfs", "/dev/shm", "tmpfs", "mode=1777,nosuid,nodev"});
        bind_cache(ctx, root);
        if (!lexists(root, "etc/mtab")) {
            root.mkdirs("etc");
            root.symlink("etc/mtab", "/proc/self/mounts");
        }
        if (!fstab.empty()) {
            root.mkdirs("etc");
            root.write_file("etc/fstab", fstab);
        }
        // Last pushed, so first run: nothing can be unmounted while they hold it.
        tokens_.push_back(ctx.cleanup.push("stop processes left running in " + ctx.install_root.string(),
                                           [root = ctx.install_root] { stop_processes_in_root(root); }));
    }

    // A daemon a %post or a scriptlet started chrooted in the root and left running would
    // keep every mount busy. Those are the build's own: they are stopped (TERM, then KILL),
    // and named in the log. Processes from outside the root are never touched: they are
    // reported by the unmount that they block.
    static void stop_processes_in_root(const std::filesystem::path& root) {
        auto left = processes_rooted_in(root);
        if (left.empty()) return;
        for (const auto& p : left) {
            log::warning("stopping pid ", p.pid, " (", p.command, "), left running in the install root by the build");
            ::kill(p.pid, SIGTERM);
        }
        // As pid 1 of its own pid namespace (a build without root) the build is the parent of
        // the daemons it orphaned: it reaps them, or they would stay as zombies.
        auto reap = [&] {
            for (const auto& p : left) ::waitpid(p.pid, nullptr, WNOHANG);
        };
        for (int i = 0; i < 200 && !processes_rooted_in(root).empty(); ++i, reap()) ::usleep(10000);
        for (const auto& p : processes_rooted_in(root)) ::kill(p.pid, SIGKILL);
        for (int i = 0; i < 200 && !processes_rooted_in(root).empty(); ++i, reap()) ::usleep(10000);
    }

    // Unmounts them, newest first; a busy one is an error naming its holders. Then /proc,
    // /sys and /dev in the image get the mode and owner their mounted roots had.
    void unmount(BuildContext& ctx) {
        ctx.mount_proc = nullptr;
        if (tokens_.empty()) return;
        const RootDir root(ctx.install_root);
        std::vector<std::pair<const char*, struct stat>> tops;
        // In a user namespace /proc was a plain directory while its package was unpacked.
        for (const char* dir : {"proc", "sys", "dev"})
            if (!userns_ || std::string_view(dir) != "proc") tops.emplace_back(dir, stat_of(root, dir));
        while (!tokens_.empty()) {
            auto token = tokens_.back();
            tokens_.pop_back();
            ctx.cleanup.run(token);
        }
        for (const auto& [dir, st] : tops) take_mode_and_owner(root, dir, st);
        // As root, /proc takes the mode of the mounted proc (0555) when no package gave it one.
        if (userns_ && std::find(ctx.scaffolding.begin(), ctx.scaffolding.end(), std::filesystem::path("proc")) !=
                           ctx.scaffolding.end())
            root.chmod("proc", 0555);
    }

    bool mounted() const noexcept { return !tokens_.empty(); }

private:
    void mount_in_root(BuildContext& ctx, const RootDir& root, MountSpec spec) {
        // The mount point is resolved inside the root: a base image's symlinked /proc or
        // /var/cache cannot send a mount onto the host.
        const auto rel = spec.target;
        if (spec.options == "bind" && !std::filesystem::is_directory(spec.source)) {
            if (!root.exists(rel)) throw MountError("cannot bind " + spec.source + ": " + rel.string() + " is missing in the root");
        } else {
            record_scaffolding(ctx, root, rel);
            root.mkdirs(rel);
        }
        spec.target = root.host_path(rel);
        auto handle = std::make_shared<Mount>(Mount::mount(spec));
        tokens_.push_back(ctx.cleanup.push("unmount " + spec.target.string(), [handle] { handle->unmount(); }));
    }

    // The components of `rel` that do not exist yet, which mkdirs is about to make.
    static void record_scaffolding(BuildContext& ctx, const RootDir& root, const std::filesystem::path& rel) {
        std::filesystem::path partial;
        for (const auto& part : rel.relative_path()) {
            partial /= part;
            if (!lexists(root, partial)) ctx.scaffolding.push_back(partial);
        }
    }

    void mount_sysfs(BuildContext& ctx, const RootDir& root) {
        record_scaffolding(ctx, root, "sys");
        root.mkdirs("sys");
        const std::string mode = octal(stat_of(root, "sys").st_mode);
        mount_in_root(ctx, root, {"tmpfs", "/sys", "tmpfs", "mode=" + mode + ",nosuid,nodev,noexec,size=64k"});
        // The fresh sysfs is mounted inside the tmpfs just long enough to bind its directories.
        const std::filesystem::path staging = "sys/.sysfs";
        root.mkdirs(staging, 0700);
        {
            Mount sysfs = fresh_sysfs(root.host_path(staging));
            std::vector<std::string> names;
            for (const auto& entry : std::filesystem::directory_iterator(sysfs.target()))
                if (entry.is_directory() && !entry.is_symlink()) names.push_back(entry.path().filename().string());
            std::sort(names.begin(), names.end());
            for (const auto& name : names)
                mount_in_root(ctx, root, {(sysfs.target() / name).string(), "/sys/" + name, "",
                                          "bind,ro,nosuid,nodev,noexec"});
            sysfs.unmount();
        }
        root.remove(staging);
    }

    // A new sysfs instance on `target`. In a user namespace the kernel gives one only to a
    // process whose network namespace that user namespace owns: a child in a new network
    // namespace mounts it in this mount namespace, and the build (whose downloads need the
    // host's network) stays where it is.
    static Mount fresh_sysfs(const std::filesystem::path& target) {
        const MountSpec spec{"sysfs", target, "sysfs", "ro,nosuid,nodev,noexec"};
        if (!in_user_namespace()) return Mount::mount(spec);
        const pid_t child = ::fork();
        if (child < 0) throw MountError(errno_message("cannot fork to mount sysfs", target, errno));
        if (child == 0) {
            if (::unshare(CLONE_NEWNET) != 0) ::_exit(2);
            ::_exit(::mount("sysfs", target.c_str(), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0
                        ? 0
                        : 3);
        }
        int status = 0;
        while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw MountError("cannot mount sysfs on " + target.string() + " in the build's user namespace (" +
                                 (WIFEXITED(status) && WEXITSTATUS(status) == 2 ? "no network namespace" : "mount refused") +
                                 ")",
                             target.string());
        log::debug("mounted sysfs on ", target.string(), " from a network namespace of the build's own");
        return Mount::adopt(target);
    }

    // A new proc on the directory `dir` refers to, wherever this process's root is.
    static void mount_proc_on(int dir, const std::filesystem::path& shown) {
        UniqueFd context(::fsopen("proc", FSOPEN_CLOEXEC));
        if (!context || ::fsconfig(context.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
            throw MountError(errno_message("cannot make a proc filesystem for", shown, errno), shown.string());
        UniqueFd made(::fsmount(context.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
        if (!made || ::move_mount(made.get(), "", dir, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
            throw MountError(errno_message("cannot mount proc on", shown, errno), shown.string());
        log::debug("mounted proc on ", shown.string(), " now that its package has given it its owner and mode");
    }

    static std::string octal(mode_t mode) {
        char text[16];
        std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
        return text;
    }

    static struct stat stat_of(const RootDir& root, const std::filesystem::path& rel) {
        struct stat st {};
        auto fd = root.open(rel, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
        if (::fstat(fd.get(), &st) != 0) throw MountError(errno_message("cannot stat", root.path() / rel, errno));
        return st;
    }

    // The directory under a mount point takes the mode and owner the mounted root had.
    static void take_mode_and_owner(const RootDir& root, const std::filesystem::path& rel, const struct stat& mounted) {
        const struct stat under = stat_of(root, rel);
        if ((under.st_mode & 07777) == (mounted.st_mode & 07777) && under.st_uid == mounted.st_uid &&
            under.st_gid == mounted.st_gid)
            return;
        root.chown(rel, mounted.st_uid, mounted.st_gid);
        root.chmod(rel, mounted.st_mode & 07777);
        log::debug("/", rel.string(), " in the image: mode ", octal(mounted.st_mode), ", as it was while mounted");
    }

    // Device nodes cannot be made in a user namespace: there each is an empty file with the
    // host's node bound onto it, and /dev/ptmx is a link to the devpts instance's.
    void make_minimal_dev(BuildContext& ctx, const RootDir& root, bool userns) {
        struct Node {
            const char* name;
            unsigned major, minor;
        };
        static constexpr Node nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8},
                                         {"urandom", 1, 9}, {"tty", 5, 0}, {"ptmx", 5, 2}};
        // mode 0: RootDir passes a mode whenever O_TMPFILE's bits are set, and O_TMPFILE includes O_DIRECTORY.
        auto dev = root.open("dev", O_PATH | O_DIRECTORY, 0);
        if (userns) {
            for (const auto& n : nodes) {
                const std::string name = n.name;
                if (name == "ptmx") {
                    root.symlink("dev/ptmx", "pts/ptmx");
                    continue;
                }
                root.write_file("dev/" + name, "", 0666);
                mount_in_root(ctx, root, {"/dev/" + name, "/dev/" + name, "", "bind"});
            }
        }
        for (const auto& n : userns ? std::span<const Node>() : std::span<const Node>(nodes)) {
            if (::mknodat(dev.get(), n.name, S_IFCHR | 0666, makedev(n.major, n.minor)) != 0 ||
                ::fchmodat(dev.get(), n.name, 0666, 0) != 0)
                throw MountError(errno_message("cannot create the device node", root.path() / "dev" / n.name, errno));
        }
        static constexpr const char* links[][2] = {
            {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}};
        for (const auto& l : links)
            if (::symlinkat(l[1], dev.get(), l[0]) != 0)
                throw MountError(errno_message("cannot create the link", root.path() / "dev" / l[0], errno));
    }

    void bind_cache(BuildContext& ctx, const RootDir& root) {
        const auto cache = ctx.cache_dir();
        std::error_code ec;
        std::filesystem::create_directories(cache, ec);
        if (ec) throw MountError("cannot create the package cache " + cache.string() + ": " + ec.message(), cache.string());
        mount_in_root(ctx, root, {cache.string(), "/var/cache/dnf", "", "bind"});
    }

    static bool lexists(const RootDir& root, const std::filesystem::path& rel) {
        try {
            root.open(rel, O_PATH | O_NOFOLLOW);
            return true;
        } catch (const Error&) {
            return false;
        }
    }

    static bool host_has_selinuxfs() {
        struct statfs st {};
        return ::statfs("/sys/fs/selinux", &st) == 0 && st.f_type == SELINUX_MAGIC;
    }

    std::vector<CleanupStack::Token> tokens_;
    bool userns_ = false;
};

}  // namespace imgcreate::mount

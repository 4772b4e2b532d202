// imgcreate — livecd-creator -l/--shell: a root shell chrooted in the configured install root,
// before it is unmounted. For the shell's lifetime the root also gets the host's /dev (with
// /dev/pts and /dev/shm), /run and /etc/resolv.conf, the live ISO tree at /run/iso and the
// host's root at /run/hostroot, as livecd-tools gives it. The shell runs with the caller's
// environment and a prompt naming the install root. When it exits, those mounts go, and the
// kickstart's SELinux setting is applied again (the shell may have changed the config or
// created unlabelled files).
#pragma once

#include <imgcreate/boot/live_layout.hpp>
#include <imgcreate/configure/appliers.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/mount/libmount.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>
#include <imgcreate/support/root_path.hpp>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

extern char** environ;

namespace imgcreate::frontend {

// The prompt of the -l shell: it says which tree the user is in.
inline const std::string shell_prompt = "[\\u@\\h install_root \\w]\\$ ";

// bash when the root has it, else its /bin/sh (a busybox root has no bash).
inline std::string shell_in_root(const std::filesystem::path& root) {
    RootDir dir(root);
    for (const char* shell : {"/bin/bash", "/usr/bin/bash"})
        if (dir.exists(shell)) return shell;
    return "/bin/sh";
}

// The caller's environment with the shell's prompt.
inline std::map<std::string, std::string> shell_environment() {
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        const std::string entry = *e;
        const auto eq = entry.find('=');
        if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    env["PS1"] = shell_prompt;
    return env;
}

namespace detail {

// The mounts made for the shell, each on the build's cleanup stack (an interrupt undoes them).
class ShellMounts {
public:
    explicit ShellMounts(BuildContext& ctx) : ctx_(ctx), root_(ctx.install_root) {}
    ~ShellMounts() { undo(); }

    // Binds host `source` on `target` inside the root; a missing source is skipped with a
    // note, like livecd-tools does. A file target that does not exist is made for the bind and
    // removed afterwards; a symlinked one (resolv.conf into /run) is left alone.
    void bind(const std::filesystem::path& source, const std::filesystem::path& target) {
        namespace fs = std::filesystem;
        std::error_code ec;
        if (!fs::exists(source, ec)) {
            log::info("-l: no ", source.string(), " on this host, so none at ", target.string(), " in the shell");
            return;
        }
        const bool dir = fs::is_directory(source, ec);
        std::function<void()> remove_target;
        if (dir) {
            if (!root_.exists(target)) {
                root_.mkdirs(target);
                // A directory made in a host bind (/run) is the host's: take it away again.
                const auto host = root_.host_path(target);
                remove_target = [host] {
                    std::error_code e;
                    std::filesystem::remove(host, e);
                };
            }
        } else {
            if (fs::is_symlink(root_.path() / target.relative_path(), ec)) {
                log::info("-l: ", target.string(), " is a symlink in the root; it is not bound over");
                return;
            }
            if (!root_.exists(target)) {
                root_.mkdirs(target.parent_path());
                root_.write_file(target, "");
                remove_target = [root = root_.path(), target] { RootDir(root).remove(target); };
            }
        }
        const auto host_target = root_.host_path(target);
        auto handle = std::make_shared<mount::Mount>(mount::Mount::mount({source.string(), host_target, "", "bind"}));
        tokens_.push_back(ctx_.cleanup.push("unmount " + host_target.string(), [handle, remove_target] {
            handle->unmount();
            if (remove_target) remove_target();
        }));
    }

    void undo() {
        while (!tokens_.empty()) {
            const auto token = tokens_.back();
            tokens_.pop_back();
            ctx_.cleanup.run(token);
        }
    }

private:
    BuildContext& ctx_;
    RootDir root_;
    std::vector<CleanupStack::Token> tokens_;
};

}  // namespace detail

// Runs the -l shell; returns its exit status (which does not stop the build).
inline int open_shell(BuildContext& ctx, bool live) {
    namespace fs = std::filesystem;
    const auto shell = shell_in_root(ctx.install_root);
    int status = 0;
    {
        detail::ShellMounts mounts(ctx);
        if (::geteuid() == 0) {
            mounts.bind("/dev", "/dev");
            mounts.bind("/dev/pts", "/dev/pts");
            mounts.bind("/dev/shm", "/dev/shm");
            mounts.bind("/run", "/run");
            mounts.bind("/etc/resolv.conf", "/etc/resolv.conf");
            if (live) mounts.bind(boot::live_iso_dir(ctx), "/run/iso");
            mounts.bind("/", "/run/hostroot");
        }
        Logger::instance().clear_status();
        std::cout << "Shell (" << shell << ") in the install root " << ctx.install_root.string()
                  << "; exit it (Ctrl-D) and the build goes on.\n"
                  << std::string(72, '-') << std::endl;
        status = run_interactive_in_root(ctx.install_root, {shell}, shell_environment());
        log::debug("the shell exited with status ", status);
        mounts.undo();
    }
    configure::apply_selinux(ctx);
    return status;
}

}  // namespace imgcreate::frontend

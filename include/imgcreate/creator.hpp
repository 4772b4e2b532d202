// imgcreate — Creator<Mount, Install, Boot, Stage>: an image creator composed at compile time.
//
//   mount()      the build enters a private mount namespace; MountPolicy makes the install root
//   install()    the creator mounts the API filesystems (/proc, /sys, /dev, the package cache)
//                and writes /etc/fstab; BootPolicy::before_install, then InstallPolicy fills it
//   configure()  kickstart appliers, BootPolicy::configure_boot, %post scripts, SELinux relabel
//   unmount()    BootPolicy::before_unmount, API filesystems down, MountPolicy::unmount
//   package()    StagePolicy turns the result into the deliverable in the output dir
//
// Before mount() does any work (even the %pre scripts), what can be known wrong is refused:
// a name or label livecd-tools would refuse (label.hpp), an output dir that cannot be
// written, a host program a policy names in required_programs(ctx), and whatever a policy's
// optional check(ctx) throws for (RpmInstall: an unknown verification level, no repository
// or an unreadable .repo file; LoopMount: a --base-on image that is not there). A step that fails
// because the tmpdir filled up says so in its first line, whichever tool met the full disk.
//
// Each step may be called alone, in that order; out of order is a StepOrderError.
// cleanup() undoes whatever is still held, newest first, and is what the destructor calls.
//
// Mounts need root. Without it (unit tests, a DirectoryMount tree built under `unshare -Ur`
// or by a user) there is no private namespace and no API filesystems, and the log says so.
// The API filesystems go up at the start of install() rather than at the end of mount():
// nothing runs inside the root before install, and mount() then holds only what the mount
// policy made, so a build stopped right after mount() has exactly that to undo.
#pragma once

#include <imgcreate/concepts.hpp>
#include <imgcreate/configure/appliers.hpp>
#include <imgcreate/configure/script.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/label.hpp>
#include <imgcreate/mount/api_filesystems.hpp>
#include <imgcreate/mount/build_mounts.hpp>
#include <imgcreate/mount/namespace.hpp>
#include <imgcreate/mount/user_namespace.hpp>
#include <imgcreate/support/build_dir.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/interrupt.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <unistd.h>

namespace imgcreate {

// M, I, B, S are checked by the static assertions in the class body (concepts.hpp): a policy that
// lacks a member, or has an optional hook of the wrong signature, fails there with one error
// naming the slot and the member, and the steps below then compile to nothing rather than add
// follow-on errors.
template <typename M, typename I, typename B, typename S>
class Creator {
    static_assert(sizeof(check_mount_policy<M>) + sizeof(check_install_policy<I>) + sizeof(check_boot_policy<B>) +
                      sizeof(check_stage_policy<S>) > 0,
                  "every slot is checked");
    static constexpr bool valid_ = MountPolicy<M> && InstallPolicy<I> && BootPolicy<B> && StagePolicy<S>;

public:
    explicit Creator(std::shared_ptr<const kickstart::Kickstart> ks, CreatorOptions options = {}, M mount = {},
                     I install = {}, B boot = {}, S stage = {})
        : mount_(std::move(mount)), install_(std::move(install)), boot_(std::move(boot)), stage_(std::move(stage)) {
        ctx_.kickstart = std::move(ks);
        ctx_.options = std::move(options);
    }
    Creator(const Creator&) = delete;
    Creator& operator=(const Creator&) = delete;
    ~Creator() { cleanup(); }

    // Runs every step in order, then cleans up; returns the path of the deliverable.
    // On an exception the steps already taken are undone before it propagates.
    std::filesystem::path create() {
        try {
            mount();
            install();
            configure();
            unmount();
            package();
        } catch (...) {
            cleanup();
            throw;
        }
        cleanup();
        log_timings();
        return ctx_.output;
    }

    void mount() {
        if constexpr (valid_) mount_step();
    }
    void install() {
        if constexpr (valid_) install_step();
    }
    // install() for a root that needs no packages: the API filesystems and the boot policy's
    // preparation, no %pre-install and no package transaction (livecd-creator -l --base-on
    // opens the base for editing as it is).
    void skip_install() {
        if constexpr (valid_) skip_install_step();
    }
    void configure() {
        if constexpr (valid_) configure_step();
    }
    void unmount() {
        if constexpr (valid_) unmount_step();
    }
    std::filesystem::path package() {
        if constexpr (valid_) return package_step();
        else return {};
    }

    // An interactive root shell inside the install root, between steps (livecd-creator -l).
    void launch_shell(const std::string& shell = "/bin/sh") {
        if (state_ < Step::mounted || state_ >= Step::unmounted)
            throw Error("launch_shell() needs a mounted install root: call it between mount() and unmount()", "shell");
        log::info("launching a shell in ", ctx_.install_root.string(), "; exit it to continue the build");
        run_interactive_in_root(ctx_.install_root, {shell});
    }

    // Undoes whatever is still held, newest first; safe to call at any time, any number of
    // times. Returns what it undid.
    std::vector<std::string> cleanup() noexcept {
        auto undone = ctx_.cleanup.run_all();
        if (state_ != Step::packaged && state_ != Step::none) state_ = Step::cleaned;
        return undone;
    }

    KernelVersions kernel_versions() const {
        if (state_ < Step::installed) throw StepOrderError("kernel_versions", "install");
        if constexpr (valid_) return install_.kernel_versions(ctx_);
        else return {};
    }

    BuildContext& context() noexcept { return ctx_; }
    const BuildContext& context() const noexcept { return ctx_; }
    M& mount_policy() noexcept { return mount_; }
    I& install_policy() noexcept { return install_; }
    B& boot_policy() noexcept { return boot_; }
    S& stage_policy() noexcept { return stage_; }

private:
    enum class Step { none, mounted, installed, configured, unmounted, packaged, cleaned };

    void mount_step() {
        expect(Step::none, "mount", "a new creator: mount() runs once per creator");
        check_options();
        step("mount", [&] {
            configure::run_scripts(ctx_, kickstart::ScriptType::pre);  // on the host, nothing mounted yet
            enter_build_namespace();
            ctx_.build_dir = make_build_dir(ctx_.options.tmpdir);
            mount::record_build_dir(ctx_.build_dir);
            log::info("build directory: ", ctx_.build_dir.string());
            if (!ctx_.options.nocleanup) {
                auto dir = ctx_.build_dir;
                ctx_.cleanup.push("remove " + dir.string(), [dir] { remove_build_dir(dir); });
            }
            mount_.mount(ctx_);
            if (ctx_.install_root.empty()) throw MountError("the mount policy did not set an install root");
        });
        state_ = Step::mounted;
    }

    void install_step() {
        expect(Step::mounted, "install", "mount");
        step("install", [&] {
            mount_api_filesystems();
            configure::run_scripts(ctx_, kickstart::ScriptType::pre_install);
            boot_.before_install(ctx_);
            explaining_full_root([&] { install_.install(ctx_); });
            mount_deferred_proc();
        });
        state_ = Step::installed;
    }

    void skip_install_step() {
        expect(Step::mounted, "skip_install", "mount");
        step("install", [&] {
            mount_api_filesystems();
            mount_deferred_proc();
            boot_.before_install(ctx_);
            log::info("installing no packages: the root is used as it is");
        });
        state_ = Step::installed;
    }

    void configure_step() {
        expect(Step::installed, "configure", "install");
        step("configure", [&] {
            explaining_full_root([&] {
                configure::apply_all(ctx_);
                boot_.configure_boot(ctx_);
                configure::run_scripts(ctx_, kickstart::ScriptType::post);
                configure::apply_selinux(ctx_);  // last: the relabel must see what %post made
            });
        });
        state_ = Step::configured;
    }

    void unmount_step() {
        if (state_ == Step::none) throw StepOrderError("unmount", "mount");
        if (state_ >= Step::unmounted) throw Error("unmount() called twice: the root is already unmounted", "unmount");
        step("unmount", [&] {
            boot_.before_unmount(ctx_);
            mount::unmount_api(api_, ctx_);
            mount_.unmount(ctx_);
        });
        state_ = Step::unmounted;
    }

    std::filesystem::path package_step() {
        if (state_ < Step::unmounted) throw StepOrderError("package", state_ < Step::installed ? "install" : "unmount");
        if (state_ < Step::installed) throw StepOrderError("package", "install");
        if (state_ == Step::packaged) throw Error("package() called twice: the image is already packaged", "package");
        // Once the stage has published the output the build is done: a signal that lands after
        // that cannot undo it, so it is reported, not raised.
        step("package", [&] { ctx_.output = std::filesystem::path(stage_.package(ctx_)); }, Checks::before_only);
        state_ = Step::packaged;
        log::info("wrote ", ctx_.output.string());
        if (const int sig = interrupted())
            log::warning(InterruptedError(sig).what(), " after ", ctx_.output.string(),
                         " was written: too late to stop, the image is complete");
        return ctx_.output;
    }

    void expect(Step wanted, const char* step_name, const char* needed) const {
        if (state_ == Step::cleaned)
            throw Error(std::string(step_name) + "() called after cleanup(): make a new creator to build again", step_name);
        if (state_ == wanted) return;
        if (state_ < wanted) throw StepOrderError(step_name, needed);
        throw Error(std::string(step_name) + "() called again: it has already run", step_name);
    }

    enum class Checks { before_and_after, before_only };

    template <typename F> void step(const std::string& name, F&& work, Checks checks = Checks::before_and_after) {
        check_interrupted();
        log::debug("step ", name, " starts");
        ctx_.timings.time(name, [&] { explaining_full_tmpdir(name, std::forward<F>(work)); });
        if (checks == Checks::before_and_after) check_interrupted();
    }

    // What can be known wrong before any work (the %pre scripts included) is refused first:
    // a name or label livecd-tools would refuse, an output dir that cannot be written.
    void check_options() const {
        if (auto problem = naming_problem(ctx_.options)) throw ConfigError(*problem, ctx_.options.name);
        check_output_dir(ctx_.options.outdir);
        check_programs(mount_);
        check_programs(install_);
        check_programs(boot_);
        check_programs(stage_);
        check_policy(mount_);
        check_policy(install_);
        check_policy(boot_);
        check_policy(stage_);
        check_outputs();
    }

    // An output that already exists is refused now, not after the whole build (has_outputs_hook).
    void check_outputs() const {
        if constexpr (has_outputs_hook<S>) {
            for (const std::filesystem::path& out : std::vector<std::filesystem::path>(stage_.outputs(ctx_))) {
                std::error_code ec;
                if (std::filesystem::symlink_status(out, ec).type() != std::filesystem::file_type::not_found)
                    throw OutputExistsError(out);
            }
        }
    }

    // A policy may check the options and kickstart it will work from (has_check_hook).
    template <typename P> void check_policy(const P& policy) const {
        if constexpr (has_check_hook<P>) policy.check(ctx_);
    }

    // A policy may name the host programs it will run ({program, Debian package} pairs), so
    // a missing one is reported now rather than after the packages are installed.
    template <typename P> void check_programs(const P& policy) const {
        if constexpr (has_required_programs_hook<P>) {
            for (const auto& [program, package] : RequiredPrograms(policy.required_programs(ctx_)))
                require_program(program, package);
        }
    }

    // A step that failed because the tmpdir filled up says so first: whatever tool met the
    // full disk (mkfs, rpm, resize2fs, mksquashfs, xorriso) reports it its own way.
    template <typename F> void explaining_full_tmpdir(const std::string& name, F&& work) {
        try {
            std::forward<F>(work)();
        } catch (const InterruptedError&) {
            throw;
        } catch (const std::exception& e) {
            const auto dir = ctx_.build_dir.empty() ? ctx_.options.tmpdir : ctx_.build_dir;
            std::uint64_t image_bytes = 0;
            if constexpr (has_filesystem_hook<M>)
                if (!ctx_.build_dir.empty()) image_bytes = std::uint64_t(mount_.filesystem().size_mib) << 20;
            if (auto message = tmpdir_full_message(ctx_.options.tmpdir, dir, image_bytes))
                throw Error(*message + "\n  " + e.what(), name, ctx_.options.tmpdir.string());
            throw;
        }
    }

    static bool privileged() { return ::geteuid() == 0; }

    void enter_build_namespace() {
        if (privileged())
            mount::enter_private_namespace();
        else
            log::debug("not running as root: the build's mounts (if any) share the caller's mount namespace");
    }

    void mount_api_filesystems() {
        if (!privileged()) {
            log::info("not running as root: the install root gets no /proc, /sys, /dev or cache mount; package "
                      "scriptlets that need them will fail");
            return;
        }
        std::string fstab;
        if constexpr (has_fstab_hook<M>) fstab = mount_.fstab(ctx_);
        mount::mount_api(api_, ctx_, fstab);
    }

    // /proc, when it waited for its package (ctx.mount_proc) and the install policy did not mount it.
    void mount_deferred_proc() {
        if (ctx_.mount_proc) ctx_.mount_proc();
        ctx_.mount_proc = nullptr;
    }

    // A step that failed because the image filled up gets the mount policy's explanation
    // (which option to raise, by how much) in front of the error it met.
    template <typename F> void explaining_full_root(F&& work) {
        try {
            std::forward<F>(work)();
        } catch (const InterruptedError&) {
            throw;
        } catch (const std::exception& e) {
            if constexpr (has_full_root_message_hook<M>) {
                if (std::optional<std::string> message = mount_.full_root_message(ctx_))
                    throw MountError(*message + "\n  " + e.what());
            }
            throw;
        }
    }

    void log_timings() const {
        std::string line = "timings:";
        char buf[64];
        for (const auto& [phase, seconds] : ctx_.timings.phases) {
            std::snprintf(buf, sizeof buf, " %s %.2fs", phase.c_str(), seconds);
            line += buf;
        }
        std::snprintf(buf, sizeof buf, " (total %.2fs)", ctx_.timings.total());
        log::info(line + buf);
    }

    BuildContext ctx_;
    M mount_;
    I install_;
    B boot_;
    S stage_;
    mount::ApiFilesystems api_;
    Step state_ = Step::none;
};

}  // namespace imgcreate

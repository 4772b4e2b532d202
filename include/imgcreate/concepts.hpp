// imgcreate — what a policy must provide for each role, and the optional hooks it may provide.
//
// A Creator<Mount, Install, Boot, Stage> is composed from four policies. Each required member is
// its own named concept, and Creator checks every slot with the static assertions at the end of
// this file, so a composition that lacks a member fails with one error that names the slot, the
// policy (in the "In instantiation of" line above it) and the member:
//
//   In instantiation of 'struct imgcreate::check_mount_policy<LeakyMount>':
//   ...  error: static assertion failed: the mount policy has no `void unmount(BuildContext&)`
//
// Required members (return values other than package()'s and kernel_versions()' are ignored):
//
//   Mount    void mount(BuildContext&)              sets ctx.install_root; runs first
//            void unmount(BuildContext&)            releases what mount() made
//   Install  void install(BuildContext&)            fills ctx.install_root with packages
//            KernelVersions kernel_versions(const BuildContext&) const
//                                                   what it installed; anything that converts
//   Boot     void before_install(BuildContext&)     before the packages go in (dracut settings)
//            void configure_boot(BuildContext&)     after the kickstart is applied, before %post
//            void before_unmount(BuildContext&)     takes back what before_install added
//   Stage    std::filesystem::path package(BuildContext&)
//                                                   the deliverable in ctx.options.outdir; anything
//                                                   that converts to a path (a std::string) is fine
//
// Optional hooks. A policy without the member simply has no such hook; a policy WITH a member of
// that name whose signature does not match is refused at compile time, because a near miss (a
// non-const check, required_programs() without the context, a bool instead of void) would
// otherwise compile and never be called:
//
//   any slot  void check(const BuildContext&) const
//                 before anything is done (before even the %pre scripts): throw an imgcreate::Error
//                 that says what to change, for what would only fail after minutes of work
//             RequiredPrograms required_programs(const BuildContext&) const
//                 {program, Debian package} pairs the policy will run on the host; a missing one
//                 is refused before any work, naming the package to install
//   Stage     std::vector<std::filesystem::path> outputs(const BuildContext&) const
//                 the paths package() will create; one that already exists is refused before
//                 any work (an OutputExistsError) instead of after the whole build
//   Mount     std::string fstab(const BuildContext&) const
//                 the image's /etc/fstab, written before the packages go in
//             std::optional<std::string> full_root_message(const BuildContext&) const
//                 when a step fails and the root is full: which option to raise, by how much
//             const auto& filesystem() const    (with a size_mib member, in MiB)
//                 the image's size, so a full tmpdir can be told from a full image
//
// A policy author's own header needs only this file and context.hpp.
#pragma once

#include <imgcreate/context.hpp>

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace imgcreate {

// {program, Debian package} pairs, as required_programs(ctx) returns them.
using RequiredPrograms = std::vector<std::pair<std::string, std::string>>;

// ---- MountPolicy: provides the install root (a plain dir, a loop-mounted image, ...) ----
template <typename P>
concept has_mount_step = requires(P& policy, BuildContext& ctx) { policy.mount(ctx); };
template <typename P>
concept has_unmount_step = requires(P& policy, BuildContext& ctx) { policy.unmount(ctx); };
template <typename P>
concept MountPolicy = std::movable<P> && has_mount_step<P> && has_unmount_step<P>;

// ---- InstallPolicy: fills the root with packages, and knows what it installed ----
template <typename P>
concept has_install_step = requires(P& policy, BuildContext& ctx) { policy.install(ctx); };
template <typename P>
concept reports_kernel_versions = requires(const P& policy, const BuildContext& ctx) {
    { policy.kernel_versions(ctx) } -> std::convertible_to<KernelVersions>;
};
template <typename P>
concept InstallPolicy = std::movable<P> && has_install_step<P> && reports_kernel_versions<P>;

// ---- BootPolicy: makes the root bootable the way the image type needs ----
template <typename P>
concept has_before_install_hook = requires(P& policy, BuildContext& ctx) {
    policy.before_install(ctx);  // e.g. dracut config the kernel's scripts read
};
template <typename P>
concept has_configure_boot_step = requires(P& policy, BuildContext& ctx) { policy.configure_boot(ctx); };
template <typename P>
concept has_before_unmount_hook = requires(P& policy, BuildContext& ctx) {
    policy.before_unmount(ctx);  // take back what before_install added
};
template <typename P>
concept BootPolicy = std::movable<P> && has_before_install_hook<P> && has_configure_boot_step<P> &&
                     has_before_unmount_hook<P>;

// ---- StagePolicy: turns the unmounted result into the deliverable in the output dir ----
template <typename P>
concept has_package_step = requires(P& policy, BuildContext& ctx) {
    { policy.package(ctx) } -> std::convertible_to<std::filesystem::path>;
};
template <typename P>
concept StagePolicy = std::movable<P> && has_package_step<P>;

// ---- Optional hooks: the exact signatures ----
template <typename P>
concept has_check_hook = requires(const P& policy, const BuildContext& ctx) {
    { policy.check(ctx) } -> std::same_as<void>;
};
template <typename P>
concept has_required_programs_hook = requires(const P& policy, const BuildContext& ctx) {
    { policy.required_programs(ctx) } -> std::convertible_to<RequiredPrograms>;
};
template <typename P>
concept has_outputs_hook = requires(const P& policy, const BuildContext& ctx) {
    { policy.outputs(ctx) } -> std::convertible_to<std::vector<std::filesystem::path>>;
};
template <typename P>
concept has_fstab_hook = requires(const P& policy, const BuildContext& ctx) {
    { policy.fstab(ctx) } -> std::convertible_to<std::string>;
};
template <typename P>
concept has_full_root_message_hook = requires(const P& policy, const BuildContext& ctx) {
    { policy.full_root_message(ctx) } -> std::convertible_to<std::optional<std::string>>;
};
template <typename P>
concept has_filesystem_hook = requires(const P& policy) {
    { policy.filesystem().size_mib } -> std::convertible_to<std::uint64_t>;
};

// ---- Whether a policy has a member of a hook's name, whatever its signature ----
// A class deriving from both the policy and a decoy with the same member name makes the name
// ambiguous exactly when the policy has it (a function, an overload set, a template or data).
namespace detail {
struct decoy_check { int check; };
struct decoy_required_programs { int required_programs; };
struct decoy_outputs { int outputs; };
struct decoy_fstab { int fstab; };
struct decoy_full_root_message { int full_root_message; };
struct decoy_filesystem { int filesystem; };
template <typename P, typename Decoy> struct probe : P, Decoy {};
template <typename P>
concept probeable = std::is_class_v<P> && !std::is_final_v<P>;
}  // namespace detail

template <typename P>
concept names_check = detail::probeable<P> && !requires { &detail::probe<P, detail::decoy_check>::check; };
template <typename P>
concept names_required_programs =
    detail::probeable<P> && !requires { &detail::probe<P, detail::decoy_required_programs>::required_programs; };
template <typename P>
concept names_outputs = detail::probeable<P> && !requires { &detail::probe<P, detail::decoy_outputs>::outputs; };
template <typename P>
concept names_fstab = detail::probeable<P> && !requires { &detail::probe<P, detail::decoy_fstab>::fstab; };
template <typename P>
concept names_full_root_message =
    detail::probeable<P> && !requires { &detail::probe<P, detail::decoy_full_root_message>::full_root_message; };
template <typename P>
concept names_filesystem = detail::probeable<P> && !requires { &detail::probe<P, detail::decoy_filesystem>::filesystem; };

// ---- The checks Creator makes of each slot: one static assertion per member ----
// The struct's name says what is checked and, with its slot tag, for which role; the policy is
// the template argument printed in the compiler's "In instantiation of" line.
namespace slot {
struct mount;
struct install;
struct boot;
struct stage;
}  // namespace slot

template <typename Slot, typename P> struct check_optional_hooks {
    static_assert(!names_check<P> || has_check_hook<P>,
                  "the policy's `check` member is not `void check(const BuildContext&) const`");
    static_assert(!names_required_programs<P> || has_required_programs_hook<P>,
                  "the policy's `required_programs` member is not "
                  "`RequiredPrograms required_programs(const BuildContext&) const`");
    static constexpr bool ok = (!names_check<P> || has_check_hook<P>) &&
                               (!names_required_programs<P> || has_required_programs_hook<P>);
};

template <typename P> struct check_mount_policy {
    static_assert(sizeof(check_optional_hooks<slot::mount, P>) > 0);
    static_assert(has_mount_step<P>, "the mount policy has no `void mount(BuildContext&)`");
    static_assert(has_unmount_step<P>, "the mount policy has no `void unmount(BuildContext&)`");
    static_assert(std::movable<P>, "the mount policy is not movable");
    static_assert(!names_fstab<P> || has_fstab_hook<P>,
                  "the mount policy's `fstab` member is not `std::string fstab(const BuildContext&) const`");
    static_assert(!names_full_root_message<P> || has_full_root_message_hook<P>,
                  "the mount policy's `full_root_message` member is not "
                  "`std::optional<std::string> full_root_message(const BuildContext&) const`");
    static_assert(!names_filesystem<P> || has_filesystem_hook<P>,
                  "the mount policy's `filesystem` member is not a const `filesystem()` returning something "
                  "with a `size_mib`");
    static constexpr bool ok = MountPolicy<P> && check_optional_hooks<slot::mount, P>::ok &&
                               (!names_fstab<P> || has_fstab_hook<P>) &&
                               (!names_full_root_message<P> || has_full_root_message_hook<P>) &&
                               (!names_filesystem<P> || has_filesystem_hook<P>);
};

template <typename P> struct check_install_policy {
    static_assert(sizeof(check_optional_hooks<slot::install, P>) > 0);
    static_assert(has_install_step<P>, "the install policy has no `void install(BuildContext&)`");
    static_assert(reports_kernel_versions<P>,
                  "the install policy has no `KernelVersions kernel_versions(const BuildContext&) const`");
    static_assert(std::movable<P>, "the install policy is not movable");
    static constexpr bool ok = InstallPolicy<P> && check_optional_hooks<slot::install, P>::ok;
};

template <typename P> struct check_boot_policy {
    static_assert(sizeof(check_optional_hooks<slot::boot, P>) > 0);
    static_assert(has_before_install_hook<P>, "the boot policy has no `void before_install(BuildContext&)`");
    static_assert(has_configure_boot_step<P>, "the boot policy has no `void configure_boot(BuildContext&)`");
    static_assert(has_before_unmount_hook<P>, "the boot policy has no `void before_unmount(BuildContext&)`");
    static_assert(std::movable<P>, "the boot policy is not movable");
    static constexpr bool ok = BootPolicy<P> && check_optional_hooks<slot::boot, P>::ok;
};

template <typename P> struct check_stage_policy {
    static_assert(sizeof(check_optional_hooks<slot::stage, P>) > 0);
    static_assert(has_package_step<P>,
                  "the stage policy has no `std::filesystem::path package(BuildContext&)` (its result must "
                  "convert to a path)");
    static_assert(std::movable<P>, "the stage policy is not movable");
    static_assert(!names_outputs<P> || has_outputs_hook<P>,
                  "the stage policy's `outputs` member is not "
                  "`std::vector<std::filesystem::path> outputs(const BuildContext&) const`");
    static constexpr bool ok =
        StagePolicy<P> && check_optional_hooks<slot::stage, P>::ok && (!names_outputs<P> || has_outputs_hook<P>);
};

// A whole composition: every slot checked, each with its own message.
template <typename M, typename I, typename B, typename S>
inline constexpr bool valid_composition =
    check_mount_policy<M>::ok && check_install_policy<I>::ok && check_boot_policy<B>::ok && check_stage_policy<S>::ok;

}  // namespace imgcreate

// imgcreate — what a policy must provide for each role. Each requirement is its own named
// concept, so a policy that lacks one is rejected with a message naming the missing step.
#pragma once

#include <imgcreate/context.hpp>

#include <concepts>
#include <filesystem>

namespace imgcreate {

// ---- MountPolicy: provides the install root (a plain dir, a loop-mounted image, ...) ----
template <typename P>
concept has_mount_step = requires(P& policy, BuildContext& ctx) {
    { policy.mount(ctx) } -> std::same_as<void>;
};
template <typename P>
concept has_unmount_step = requires(P& policy, BuildContext& ctx) {
    { policy.unmount(ctx) } -> std::same_as<void>;
};
template <typename P>
concept MountPolicy = std::movable<P> && has_mount_step<P> && has_unmount_step<P>;

// ---- InstallPolicy: fills the root with packages, and knows what it installed ----
template <typename P>
concept has_install_step = requires(P& policy, BuildContext& ctx) {
    { policy.install(ctx) } -> std::same_as<void>;
};
template <typename P>
concept reports_kernel_versions = requires(P& policy, const BuildContext& ctx) {
    { policy.kernel_versions(ctx) } -> std::same_as<KernelVersions>;
};
template <typename P>
concept InstallPolicy = std::movable<P> && has_install_step<P> && reports_kernel_versions<P>;

// ---- BootPolicy: makes the root bootable the way the image type needs ----
template <typename P>
concept has_before_install_hook = requires(P& policy, BuildContext& ctx) {
    { policy.before_install(ctx) } -> std::same_as<void>;  // e.g. dracut config the kernel's scripts read
};
template <typename P>
concept has_configure_boot_step = requires(P& policy, BuildContext& ctx) {
    { policy.configure_boot(ctx) } -> std::same_as<void>;
};
template <typename P>
concept has_before_unmount_hook = requires(P& policy, BuildContext& ctx) {
    { policy.before_unmount(ctx) } -> std::same_as<void>;  // take back what before_install added
};
template <typename P>
concept BootPolicy = std::movable<P> && has_before_install_hook<P> && has_configure_boot_step<P> &&
                     has_before_unmount_hook<P>;

// ---- StagePolicy: turns the unmounted result into the deliverable in the output dir ----
template <typename P>
concept has_package_step = requires(P& policy, BuildContext& ctx) {
    { policy.package(ctx) } -> std::same_as<std::filesystem::path>;
};
template <typename P>
concept StagePolicy = std::movable<P> && has_package_step<P>;

// ---- Optional, for any policy: refusing bad input before the build does any work ----
// The creator calls check(ctx) before the %pre scripts run and before anything is made;
// it throws (an imgcreate::Error saying what to change) for what the policy would only
// meet later, after minutes of work, such as a kickstart without a package repository.
template <typename P>
concept has_check_hook = requires(const P& policy, const BuildContext& ctx) {
    { policy.check(ctx) } -> std::same_as<void>;
};

}  // namespace imgcreate

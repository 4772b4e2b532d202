// imgcreate — RpmInstall, the InstallPolicy that ships: the kickstart's repositories and
// %packages resolved with libsolv, the packages fetched (or read in place from local
// repositories), then installed into the root by one rpm transaction, as livecd-tools
// does with dnf.
#pragma once

#include <imgcreate/concepts.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/install/dbpath.hpp>
#include <imgcreate/install/progress.hpp>
#include <imgcreate/support/separate_compilation.hpp>

#include <filesystem>

namespace imgcreate::install {

struct RpmInstall {
    std::filesystem::path dbpath = fedora_dbpath;  // an existing database in the root (--base-on) wins
    ProgressFunction progress = default_progress;
    TransactionResult result;                      // of the last install()

    // Before any work: an unknown --pkgverify-level, and for a build from nothing a kickstart
    // without a repository or a .repo file that cannot be read, would otherwise fail only
    // after the image is made. (A --base-on build may skip install(): livecd-creator -l.)
    IMGCREATE_DECL void check(const BuildContext& ctx) const;

    IMGCREATE_DECL void install(BuildContext& ctx);

    IMGCREATE_DECL KernelVersions kernel_versions(const BuildContext& ctx) const;
};

static_assert(InstallPolicy<RpmInstall>, "RpmInstall must model InstallPolicy");

}  // namespace imgcreate::install

namespace imgcreate {
// Every stock policy is named directly in imgcreate, as imgcreate.hpp lists them.
using install::RpmInstall;
}  // namespace imgcreate

#if !defined(IMGCREATE_SEPARATE_COMPILATION)
#include <imgcreate/install/impl/rpm_install.ipp>
#endif

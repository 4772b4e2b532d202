// imgcreate — the kernels installed in a root, read from its rpm database as livecd-tools
// reads them: every package that provides "kernel", with the version taken from the
// /boot/vmlinuz-<version> file it ships (the version dracut and the boot loader need).
#pragma once

#include <imgcreate/install/dbpath.hpp>
#include <imgcreate/support/separate_compilation.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace imgcreate::install {

// package name -> kernel versions it installed, sorted; empty when no kernel is installed.
IMGCREATE_DECL std::map<std::string, std::vector<std::string>> kernel_versions(
    const std::filesystem::path& root, const std::filesystem::path& dbpath = fedora_dbpath);

}  // namespace imgcreate::install

#if !defined(IMGCREATE_SEPARATE_COMPILATION)
#include <imgcreate/install/impl/kernel_versions.ipp>
#endif

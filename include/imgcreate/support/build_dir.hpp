// imgcreate — the build directory: made fresh under the user's tmpdir, and removed only when
// nothing is mounted below it (a recursive delete through a leftover bind mount would eat
// the host's files, so a leftover mount is reported instead).
#pragma once

#include <imgcreate/support/separate_compilation.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace imgcreate {

// Mount points of this process's mount namespace at or below `dir`, deepest first.
IMGCREATE_DECL std::vector<std::filesystem::path> mounts_below(const std::filesystem::path& dir);

IMGCREATE_DECL std::filesystem::path make_build_dir(const std::filesystem::path& tmpdir);

// Removes the build dir unless something is still mounted below it.
IMGCREATE_DECL void remove_build_dir(const std::filesystem::path& dir);

// Checked before a build starts, so a build is not wasted on an output it cannot write: the
// output dir, or the nearest folder that exists above it, must be a writable directory.
IMGCREATE_DECL void check_output_dir(const std::filesystem::path& outdir);

// When the filesystem holding `dir` has (nearly) run out of space or inodes: the first line
// of an error saying so, with its size, what the build's largest file may grow to
// (`may_need_bytes`, 0 when unknown) and what to do; otherwise nothing.
IMGCREATE_DECL std::optional<std::string> tmpdir_full_message(const std::filesystem::path& tmpdir,
                                                              const std::filesystem::path& dir,
                                                              std::uint64_t may_need_bytes = 0);

}  // namespace imgcreate

#if !defined(IMGCREATE_SEPARATE_COMPILATION)
#include <imgcreate/support/impl/build_dir.ipp>
#endif

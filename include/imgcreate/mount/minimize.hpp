// imgcreate — shrinking a finished, unmounted image file to what it holds, as livecd-tools
// does at package time: a forced e2fsck (resize2fs refuses an unchecked filesystem),
// resize2fs -M, then the file cut to the filesystem's new end. Only the end is cut, so the
// holes of the sparse file stay holes.
//
// xfs cannot shrink at all, and btrfs only while mounted: those images keep the size the
// kickstart gave them (still sparse, so they take on disk only what they hold), and the log
// says so.
#pragma once

#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <string>

#include <fcntl.h>
#include <unistd.h>

namespace imgcreate::mount {

namespace detail {

inline std::uint32_t le32(const unsigned char* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

}  // namespace detail

// Bytes the ext2/3/4 filesystem in `image` spans, from its superblock (1 KiB in): blocks
// count (high half only with the 64bit feature) times block size.
inline std::uint64_t ext_filesystem_bytes(const std::filesystem::path& image) {
    UniqueFd fd(::open(image.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw MountError(errno_message("cannot read the image", image, errno), image.string());
    unsigned char sb[1024];
    if (::pread(fd.get(), sb, sizeof sb, 1024) != static_cast<ssize_t>(sizeof sb) || sb[0x38] != 0x53 || sb[0x39] != 0xEF)
        throw MountError("no ext2/3/4 filesystem found in " + image.string(), image.string());
    std::uint64_t blocks = detail::le32(sb + 0x04);
    if (detail::le32(sb + 0x60) & 0x80) blocks |= static_cast<std::uint64_t>(detail::le32(sb + 0x150)) << 32;
    const std::uint64_t block_size = 1024ull << detail::le32(sb + 0x18);
    return blocks * block_size;
}

// Checks an ext* image with e2fsck -f -y; anything e2fsck could not repair is an error.
inline void check_ext_filesystem(const std::filesystem::path& image) {
    Command fsck;
    fsck.argv = {require_program("e2fsck", "e2fsprogs").string(), "-f", "-y", image.string()};
    fsck.check = false;
    auto result = run(fsck);
    // 1 and 2: errors found and corrected. 4 and up: left uncorrected, or e2fsck failed.
    if (result.exit_status >= 4)
        throw CommandError(fsck.argv, result.exit_status, ::imgcreate::detail::tail_of(result.output, 20),
                           "found errors it could not correct (exit status " + std::to_string(result.exit_status) + ")");
}

inline void minimize_image(const std::filesystem::path& image, const std::string& fstype) {
    if (!is_ext(fstype)) {
        log::info(fstype, " cannot be shrunk offline: ", image.filename().string(),
                  " keeps its full size, sparse (only the data it holds takes disk space)");
        return;
    }
    const auto before = std::filesystem::file_size(image);
    check_ext_filesystem(image);
    run({require_program("resize2fs", "e2fsprogs").string(), "-M", image.string()});
    const auto bytes = ext_filesystem_bytes(image);
    if (bytes < before && ::truncate(image.c_str(), static_cast<off_t>(bytes)) != 0)
        throw MountError(errno_message("cannot cut the image to its minimised size", image, errno), image.string());
    log::info("minimised ", image.filename().string(), " from ", before >> 20, " MiB to ", bytes >> 20, " MiB");
}

}  // namespace imgcreate::mount

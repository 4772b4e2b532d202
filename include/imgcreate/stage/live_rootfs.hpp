// imgcreate — the live root image as it goes on the ISO. Normally the loop image itself,
// minimised. For a reproducible build (SOURCE_DATE_EPOCH) it is written afresh from the
// mounted tree with mkfs.ext4 -d, with a UUID and directory hash seed derived from the label
// and epoch and every time stamp clamped, since a filesystem that was mounted read-write keeps
// a journal, allocation order and times of its own that no two builds share.
#pragma once

#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/libmount.hpp>
#include <imgcreate/mount/loop_device.hpp>
#include <imgcreate/mount/minimize.hpp>
#include <imgcreate/mount/tree_filesystem.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include <sys/stat.h>

namespace imgcreate::stage {

using mount::derived_uuid;
using mount::write_reproducible_ext4;

// Mounts an image file read-only on `mountpoint` for as long as `work` runs.
template <typename F> void with_image_mounted(const std::filesystem::path& image, const std::filesystem::path& mountpoint,
                                              F&& work) {
    std::filesystem::create_directories(mountpoint);
    auto loop = mount::LoopDevice::attach(image, true);
    auto m = mount::Mount::mount({loop.path().string(), mountpoint, "", "ro"});
    loop.close();  // the mount alone holds the autoclear device now
    std::forward<F>(work)();
    m.unmount();
}

// Shrinks the image; with an epoch the tools' own time stamps are the epoch too (e2fsck
// reads E2FSCK_TIME, the rest E2FSPROGS_FAKE_TIME), and the superblock's lifetime-writes
// counter, which depends on how much the tools happened to write, is reset.
inline void minimise_live_rootfs(const std::filesystem::path& image, std::optional<long long> epoch) {
    if (!epoch) {
        mount::minimize_image(image, "ext4");
        return;
    }
    const auto e = std::to_string(*epoch);
    struct ScopedEnv {
        std::string name, saved;
        bool had;
        ScopedEnv(const char* n, const std::string& value) : name(n), had(::getenv(n) != nullptr) {
            if (had) saved = ::getenv(n);
            ::setenv(n, value.c_str(), 1);
        }
        ~ScopedEnv() { had ? ::setenv(name.c_str(), saved.c_str(), 1) : ::unsetenv(name.c_str()); }
    } fake("E2FSPROGS_FAKE_TIME", e), fsck("E2FSCK_TIME", e);
    mount::minimize_image(image, "ext4");
    run({require_program("debugfs", "e2fsprogs").string(), "-w", "-R", "ssv kbytes_written 0", image.string()});
    run({require_program("debugfs", "e2fsprogs").string(), "-w", "-R", "ssv lastcheck " + e, image.string()});
}

}  // namespace imgcreate::stage

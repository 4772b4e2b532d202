// imgcreate — MkfsMount: the install root is a plain directory, and unmount() makes the root
// filesystem image from it (mkfs.ext4 -d, mkfs.btrfs --rootdir: mount/tree_filesystem.hpp)
// where LoopMount leaves its loop image, <build_dir>/root.img, with the same type, size, label
// and fstab. The stage policies (CopyStage, IsoStage) take it from there as they do from
// LoopMount's, so
//
//   Creator<MkfsMount, RpmInstall, NoBoot, CopyStage>      is LoopImage's result, and
//   Creator<LiveMkfsMount, RpmInstall, LiveBoot, IsoStage> is LiveImage's,
//
// made with no loop device and no mount of the image: what a build by a user in a user
// namespace can do (mount/user_namespace.hpp), and what root gets with --no-loop.
//
// For a reproducible build (SOURCE_DATE_EPOCH) an ext* image is written reproducibly here, so
// IsoStage need not write it again (BuildContext::root_image_reproducible). The tree is removed
// once the image holds it. --base-on needs the loop path: it is refused before any work.
//
// The tree is held in memory, a tmpfs of the image's size mounted on the install root in the
// build's private mount namespace, when the image is at most half of the memory the host has
// available (CreatorOptions::tree_on_disk turns it off): the install writes no file to disk, and
// the tree goes with one unmount instead of an unlink of every file, which is what made this
// path slower than the loop device's. The image made from it is the same either way (mkfs -d
// reads directories in name order). A tree bigger than the tmpfs is "the image is full", as on
// a loop-mounted image of that size.
#pragma once

#include <imgcreate/concepts.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/mount/api_filesystems.hpp>
#include <imgcreate/mount/directory_mount.hpp>
#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/libmount.hpp>
#include <imgcreate/mount/tree_filesystem.hpp>
#include <imgcreate/support/build_dir.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sys/statvfs.h>
#include <unistd.h>

namespace imgcreate {

namespace mount {
// MemAvailable from /proc/meminfo, in bytes; nothing if it cannot be read.
inline std::optional<std::uint64_t> available_memory_bytes() {
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    std::uint64_t kib = 0;
    std::string unit;
    while (meminfo >> key >> kib) {
        std::getline(meminfo, unit);
        if (key == "MemAvailable:") return kib * 1024;
    }
    return std::nullopt;
}
}  // namespace mount

class MkfsMount {
public:
    static std::filesystem::path image_path(const BuildContext& ctx) { return ctx.build_dir / "root.img"; }

    void mount(BuildContext& ctx) {
        spec_ = mount::root_filesystem(ctx);
        mount::make_install_directory(ctx);
        // --nocleanup keeps the tree for a look after a failure: on disk, then.
        if (!ctx.options.tree_on_disk && !ctx.options.nocleanup) hold_tree_in_memory(ctx);
        std::error_code ec;
        // An ext* filesystem has /lost+found from mkfs on; made now, the SELinux relabel labels it
        // as it does on a loop-mounted image, and mkfs -d gives its own the label.
        if (mount::is_ext(spec_.fstype)) {
            std::filesystem::create_directory(ctx.install_root / "lost+found", ec);
            std::filesystem::permissions(ctx.install_root / "lost+found", std::filesystem::perms(0700), ec);
        }
        mounted_ = true;
        log::info("installing into the directory ", ctx.install_root.string(), in_memory_ ? " (in memory)" : "", "; the ",
                  spec_.size_mib, " MiB ", spec_.fstype, " image is made from it at the end");
    }

    // Makes root.img from the tree, then removes the tree.
    void unmount(BuildContext& ctx) {
        if (!mounted_) return;
        const auto epoch = ctx.options.source_date_epoch;
        mount::make_filesystem_from_tree(spec_, ctx.install_root, image_path(ctx), epoch);
        ctx.root_image_reproducible = epoch && mount::is_ext(spec_.fstype);
        mounted_ = false;
        if (memory_token_) {
            auto token = *memory_token_;
            memory_token_.reset();
            ctx.cleanup.run(token);
        } else {
            remove_tree(ctx);
        }
    }

    // The end of the build for a stage that takes the tree itself (a flat live squashfs): no image.
    void unmount_keeping_tree(BuildContext&) { mounted_ = false; }

    std::string fstab(const BuildContext&) const { return mount::default_fstab(spec_.fstype); }
    const mount::FilesystemSpec& filesystem() const noexcept { return spec_; }

    // After a failed install or configure step: a tree in memory that filled its tmpfs (the
    // image's size) is an image too small for it.
    std::optional<std::string> full_root_message(const BuildContext& ctx) const {
        if (!memory_token_) return std::nullopt;
        struct statvfs st {};
        if (::statvfs(ctx.install_root.c_str(), &st) != 0) return std::nullopt;
        const double mib = 1024.0 * 1024.0;
        const double free = static_cast<double>(st.f_bavail) * st.f_frsize;
        if (free > 4 * mib) return std::nullopt;
        char numbers[160];
        std::snprintf(numbers, sizeof numbers, "the tree holds %.1f MiB, the %s image is %llu MiB",
                      static_cast<double>(st.f_blocks - st.f_bfree) * st.f_frsize / mib, spec_.fstype.c_str(),
                      static_cast<unsigned long long>(spec_.size_mib));
        return "the image is full: raise part / --size (" + std::string(numbers) + ")";
    }

    bool tree_in_memory() const noexcept { return in_memory_; }

    RequiredPrograms required_programs(const BuildContext& ctx) const {
        const auto fstype = mount::root_filesystem(ctx).fstype;
        return {{"mkfs." + fstype, mount::package_providing_mkfs(fstype)}};
    }

    // Before any work: a filesystem mkfs cannot fill from a tree, and --base-on.
    void check(const BuildContext& ctx) const {
        mount::mkfs_from_tree_command(mount::root_filesystem(ctx), "tree", "image");
        if (!ctx.options.base_on.empty())
            throw MountError("--base-on " + ctx.options.base_on.string() + " needs the image loop-mounted, and this build "
                             "makes its image from a directory: build as root with a loop device (LoopMount) to build on "
                             "an existing image", ctx.options.base_on.string());
    }

private:
    // A tmpfs of the image's size on the install root, when the image is at most half of the
    // available memory and this process may mount (root, or root of its user namespace: the
    // build's mount namespace is private either way, so the tmpfs goes with the build however it
    // ends). Otherwise, or if the mount fails, the tree stays on disk.
    void hold_tree_in_memory(BuildContext& ctx) {
        const std::uint64_t bytes = spec_.size_mib << 20;
        const auto available = mount::available_memory_bytes();
        if (::geteuid() != 0 || !available || bytes > *available / 2) {
            log::debug("the tree is installed on disk: ", spec_.size_mib, " MiB is more than half of the available memory, "
                       "or this process cannot mount");
            return;
        }
        try {
            auto tmpfs = std::make_shared<mount::Mount>(mount::Mount::mount(
                {"tmpfs", ctx.install_root, "tmpfs", "mode=0755,size=" + std::to_string(spec_.size_mib) + "m,nr_inodes=0"}));
            memory_token_ = ctx.cleanup.push("unmount the in-memory tree " + ctx.install_root.string(),
                                             [tmpfs] { tmpfs->unmount(); });
            in_memory_ = true;
        } catch (const MountError& e) {
            log::debug("the tree is installed on disk: ", e.what());
        }
    }

    // Never through a mount left below it (remove_build_dir refuses then).
    static void remove_tree(const BuildContext& ctx) { remove_build_dir(ctx.install_root); }

    mount::FilesystemSpec spec_;
    bool mounted_ = false;
    bool in_memory_ = false;
    std::optional<CleanupStack::Token> memory_token_;
};

}  // namespace imgcreate

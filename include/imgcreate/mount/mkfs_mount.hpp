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
// The tree is held in memory, a tmpfs of the image's size (mount/tree_in_memory.hpp), when the
// image is at most half of the available memory: the tree then goes with one unmount instead of
// an unlink of every file, which is what made this path slower than the loop device's. The image made from it is the same either way (mkfs -d
// reads directories in name order). A tree bigger than the tmpfs is "the image is full", as on
// a loop-mounted image of that size.
#pragma once

#include <imgcreate/concepts.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/mount/api_filesystems.hpp>
#include <imgcreate/mount/directory_mount.hpp>
#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/tree_filesystem.hpp>
#include <imgcreate/mount/tree_in_memory.hpp>
#include <imgcreate/support/build_dir.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace imgcreate {

class MkfsMount {
public:
    static std::filesystem::path image_path(const BuildContext& ctx) { return ctx.build_dir / "root.img"; }

    void mount(BuildContext& ctx) {
        spec_ = mount::root_filesystem(ctx);
        mount::make_install_directory(ctx);
        memory_.hold(ctx, spec_.size_mib);
        std::error_code ec;
        // An ext* filesystem has /lost+found from mkfs on; made now, the SELinux relabel labels it
        // as it does on a loop-mounted image, and mkfs -d gives its own the label.
        if (mount::is_ext(spec_.fstype)) {
            std::filesystem::create_directory(ctx.install_root / "lost+found", ec);
            std::filesystem::permissions(ctx.install_root / "lost+found", std::filesystem::perms(0700), ec);
        }
        mounted_ = true;
        log::info("installing into the directory ", ctx.install_root.string(), memory_.held() ? " (in memory)" : "", "; the ",
                  spec_.size_mib, " MiB ", spec_.fstype, " image is made from it at the end");
    }

    // Makes root.img from the tree, then removes the tree.
    void unmount(BuildContext& ctx) {
        if (!mounted_) return;
        const auto epoch = ctx.options.source_date_epoch;
        mount::make_filesystem_from_tree(spec_, ctx.install_root, image_path(ctx), epoch);
        ctx.root_image_reproducible = epoch && mount::is_ext(spec_.fstype);
        mounted_ = false;
        if (!memory_.drop(ctx)) remove_tree(ctx);
    }

    // The end of the build for a stage that takes the tree itself (a flat live squashfs): no image.
    void unmount_keeping_tree(BuildContext&) { mounted_ = false; }

    std::string fstab(const BuildContext&) const { return mount::default_fstab(spec_.fstype); }
    const mount::FilesystemSpec& filesystem() const noexcept { return spec_; }

    // After a failed install or configure step: a tree in memory that filled its tmpfs (the
    // image's size) is an image too small for it.
    std::optional<std::string> full_root_message(const BuildContext& ctx) const {
        return memory_.full_message(ctx, "part / --size",
                                    "the " + spec_.fstype + " image is " + std::to_string(spec_.size_mib) + " MiB");
    }

    bool tree_in_memory() const noexcept { return memory_.held(); }

    RequiredPrograms required_programs(const BuildContext& ctx) const {
        const auto fstype = mount::root_filesystem(ctx).fstype;
        RequiredPrograms programs{{"mkfs." + fstype, mount::package_providing_mkfs(fstype)}};
        if (fstype == "xfs") programs.push_back({"xfs_db", "xfsprogs"});  // attributes and times after mkfs.xfs -p
        return programs;
    }

    // Before any work: a filesystem mkfs cannot fill from a tree, and --base-on.
    void check(const BuildContext& ctx) const {
        const auto spec = mount::root_filesystem(ctx);
        mount::mkfs_from_tree_command(spec, "tree", "image");
        if (!ctx.options.base_on.empty())
            throw MountError("--base-on " + ctx.options.base_on.string() + " needs the image loop-mounted, and this build "
                             "makes its image from a directory: build as root with a loop device (LoopMount) to build on "
                             "an existing image", ctx.options.base_on.string());
    }

private:
    // Never through a mount left below it (remove_build_dir refuses then).
    static void remove_tree(const BuildContext& ctx) { remove_build_dir(ctx.install_root); }

    mount::FilesystemSpec spec_;
    bool mounted_ = false;
    mount::TreeInMemory memory_;
};

}  // namespace imgcreate

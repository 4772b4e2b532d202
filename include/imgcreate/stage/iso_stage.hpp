// imgcreate — IsoStage, the StagePolicy of live ISOs:
//
//   1. the root image: minimised (and, for SOURCE_DATE_EPOCH builds, written afresh
//      reproducibly), labelled _<fslabel>
//   2. LiveOS/squashfs.img holding LiveOS/rootfs.img; --flat-squashfs squashes the tree
//      itself; --skip-compression puts LiveOS/rootfs.img on the ISO as it is
//   3. xorriso: a hybrid ISO (CD and USB disk; BIOS and EFI) around the tree LiveBoot made,
//      then implantisomd5
//   4. published whole as <outdir>/<name>.iso
#pragma once

#include <imgcreate/boot/live_layout.hpp>
#include <imgcreate/label.hpp>
#include <imgcreate/boot/isolinux.hpp>
#include <imgcreate/concepts.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/loop_mount.hpp>
#include <imgcreate/stage/clamp_times.hpp>
#include <imgcreate/stage/live_rootfs.hpp>
#include <imgcreate/stage/publish.hpp>
#include <imgcreate/stage/squashfs.hpp>
#include <imgcreate/stage/xorriso.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace imgcreate {

struct IsoStage {
    std::filesystem::path package(BuildContext& ctx) {
        namespace fs = std::filesystem;
        const auto iso_dir = boot::live_iso_dir(ctx);
        const auto image = LoopMount::image_path(ctx);
        const auto epoch = ctx.options.source_date_epoch;
        if (!fs::is_directory(iso_dir))
            throw StageError("no ISO tree in " + iso_dir.string() + ": IsoStage needs LiveBoot's configure_boot first");
        fs::create_directories(iso_dir / "LiveOS");

        ctx.timings.time("rootfs", [&] { prepare_rootfs(ctx, image); });
        ctx.timings.time("squashfs", [&] { place_rootfs(ctx, image, iso_dir); });
        if (epoch) clamp_times(iso_dir, *epoch);

        const auto iso = ctx.build_dir / boot::live_iso_name(ctx.options);
        ctx.timings.time("iso", [&] {
            stage::make_iso(layout(ctx), iso);
            stage::implant_md5(iso);
        });
        return stage::publish(iso, ctx.options.outdir, boot::live_iso_name(ctx.options));
    }

    // Checked by the creator before the build starts.
    std::vector<std::filesystem::path> outputs(const BuildContext& ctx) const {
        return {ctx.options.outdir / boot::live_iso_name(ctx.options)};
    }
    RequiredPrograms required_programs(const BuildContext& ctx) const {
        RequiredPrograms programs;
        if (!ctx.options.skip_compression) programs.emplace_back("mksquashfs", "squashfs-tools");
        programs.emplace_back("xorriso", "xorriso");
        return programs;
    }

    static stage::IsoLayout layout(const BuildContext& ctx) {
        namespace fs = std::filesystem;
        stage::IsoLayout l;
        l.tree = boot::live_iso_dir(ctx);
        l.volume_id = image_label(ctx.options);
        l.epoch = ctx.options.source_date_epoch;
        if (fs::exists(l.tree / "isolinux/isolinux.bin")) {
            l.bios = stage::BiosLoader::isolinux;
            l.isolinux_hybrid_mbr = boot::find_syslinux_file(ctx.install_root, "isohdpfx.bin");
            if (fs::exists(l.tree / boot::live_efiboot_in_tree)) {
                l.efiboot = l.tree / boot::live_efiboot_in_tree;
                l.efiboot_in_tree = boot::live_efiboot_in_tree;
            }
        } else {
            l.bios = fs::exists(l.tree / "images/eltorito.img") ? stage::BiosLoader::grub : stage::BiosLoader::none;
            if (fs::exists(boot::live_efiboot_outside(ctx))) l.efiboot = boot::live_efiboot_outside(ctx);
        }
        return l;
    }

private:
    static std::string rootfs_label(const BuildContext& ctx) {
        return mount::filesystem_label("ext4", image_label(ctx.options));
    }

    void prepare_rootfs(const BuildContext& ctx, const std::filesystem::path& image) {
        namespace fs = std::filesystem;
        const auto epoch = ctx.options.source_date_epoch;
        if (!fs::exists(image) && tree_only(ctx)) return;  // a flat squashfs of the tree: no image
        if (epoch && !ctx.root_image_reproducible) {
            const auto fresh = ctx.build_dir / "rootfs-reproducible.img";
            stage::with_image_mounted(image, ctx.build_dir / "rootfs-ro", [&] {
                stage::write_reproducible_ext4(ctx.build_dir / "rootfs-ro", fresh, rootfs_label(ctx), fs::file_size(image),
                                               *epoch);
            });
            fs::rename(fresh, image);
            log::info("rewrote the root image reproducibly (SOURCE_DATE_EPOCH=", *epoch, ")");
        }
        if (!ctx.options.skip_minimize) stage::minimise_live_rootfs(image, epoch);
    }

    void place_rootfs(const BuildContext& ctx, const std::filesystem::path& image, const std::filesystem::path& iso_dir) {
        namespace fs = std::filesystem;
        stage::SquashfsOptions squash;
        squash.compression = ctx.options.compression;
        squash.epoch = ctx.options.source_date_epoch;
        if (ctx.options.skip_compression) {
            fs::rename(image, iso_dir / "LiveOS/rootfs.img");
            return;
        }
        if (ctx.options.flat_squashfs && !fs::exists(image) && tree_only(ctx)) {
            stage::make_squashfs(ctx.install_root, iso_dir / "LiveOS/squashfs.img", squash);
            return;
        }
        if (ctx.options.flat_squashfs) {
            stage::with_image_mounted(image, ctx.build_dir / "rootfs-ro",
                                      [&] { stage::make_squashfs(ctx.build_dir / "rootfs-ro", iso_dir / "LiveOS/squashfs.img", squash); });
            return;
        }
        const auto source = ctx.build_dir / "squashfs-root";
        fs::create_directories(source / "LiveOS");
        fs::rename(image, source / "LiveOS/rootfs.img");
        if (squash.epoch) clamp_times(source, *squash.epoch);
        stage::make_squashfs(source, iso_dir / "LiveOS/squashfs.img", squash);
        fs::remove_all(source);
    }

    static void clamp_times(const std::filesystem::path& dir, long long epoch) { stage::clamp_times(dir, epoch); }

    // The mount policy left the tree, not an image (LiveMkfsMount with --flat-squashfs).
    static bool tree_only(const BuildContext& ctx) {
        return !ctx.install_root.empty() && std::filesystem::is_directory(ctx.install_root / "usr");
    }
};

}  // namespace imgcreate

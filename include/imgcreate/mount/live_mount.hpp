// imgcreate — LiveMount: the live root is a loop-mounted ext4 image labelled _<fslabel>
// (LoopMount does the work). --base-on may name an existing live ISO: its root image is
// taken out of LiveOS/squashfs.img (with xorriso and unsquashfs: no iso9660 mount needed)
// and the build goes on from there, installing only what is missing. --compression-type None
// (livecd-tools' "read the compressor from the base") is resolved here: the base's squashfs
// compressor, or no compression when the base holds its root image uncompressed.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/label.hpp>
#include <imgcreate/concepts.hpp>
#include <imgcreate/mount/loop_mount.hpp>
#include <imgcreate/mount/mkfs_mount.hpp>
#include <imgcreate/stage/squashfs.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <type_traits>

namespace imgcreate {

namespace mount {

// An ISO 9660 image has "CD001" at byte 32769.
inline bool is_iso9660(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    char magic[5] = {};
    in.seekg(32769);
    in.read(magic, 5);
    return in && std::memcmp(magic, "CD001", 5) == 0;
}

// Takes the root image out of a live ISO into `image`: LiveOS/squashfs.img holding
// LiveOS/rootfs.img (or the older ext3fs.img), a flat squashfs (written into a fresh ext4
// image), or LiveOS/rootfs.img directly on the ISO (--skip-compression). Returns the
// compressor of its squashfs.img, or nothing when the root image was on the ISO as it is.
inline std::optional<std::string> extract_live_root(const std::filesystem::path& iso, const std::filesystem::path& image,
                              const std::filesystem::path& work, const std::string& label) {
    namespace fs = std::filesystem;
    require_program("xorriso", "xorriso");
    fs::create_directories(work);
    const auto listing = run({"xorriso", "-indev", iso.string(), "-find", "/LiveOS", "-type", "f"}).output;
    auto extract = [&](const std::string& inside, const fs::path& to) {
        run({"xorriso", "-osirrox", "on", "-indev", iso.string(), "-extract", inside, to.string()});
    };
    if (listing.find("'/LiveOS/rootfs.img'") != std::string::npos) {
        extract("/LiveOS/rootfs.img", image);
        return std::nullopt;
    }
    if (listing.find("'/LiveOS/squashfs.img'") == std::string::npos)
        throw MountError("--base-on " + iso.string() + " is not a live ISO: it has neither LiveOS/squashfs.img nor "
                         "LiveOS/rootfs.img", iso.string());
    const auto squash = work / "squashfs.img";
    extract("/LiveOS/squashfs.img", squash);
    const auto compression = stage::squashfs_compression(squash);
    require_program("unsquashfs", "squashfs-tools");
    const auto tree = work / "squashfs-root";
    run({"unsquashfs", "-no-progress", "-f", "-d", tree.string(), squash.string()});
    fs::remove(squash);
    for (const char* name : {"LiveOS/rootfs.img", "LiveOS/ext3fs.img"}) {
        if (fs::is_regular_file(tree / name)) {
            fs::rename(tree / name, image);
            fs::remove_all(tree);
            return compression;
        }
    }
    // Flat: the tree is the root itself.
    std::uintmax_t bytes = 0;
    for (const auto& e : fs::recursive_directory_iterator(tree))
        if (e.is_regular_file() && !e.is_symlink()) bytes += e.file_size();
    { std::ofstream(image).flush(); }
    fs::resize_file(image, (bytes + bytes / 2 + (64u << 20)) / 4096 * 4096);
    run({require_program("mkfs.ext4", "e2fsprogs").string(), "-F", "-q", "-L", label, "-d", tree.string(), image.string()});
    fs::remove_all(tree);
    return compression;
}

}  // namespace mount

// The live root: LoopMount's loop image (LiveMount) or MkfsMount's image made from a directory
// (LiveMkfsMount), labelled _<fslabel>. For a flat squashfs (--flat-squashfs) LiveMkfsMount
// makes no image: IsoStage squashes the tree itself.
template <typename Inner> class BasicLiveMount {
    static constexpr bool loop_ = std::is_same_v<Inner, LoopMount>;

public:
    static std::filesystem::path image_path(const BuildContext& ctx) { return Inner::image_path(ctx); }

    void mount(BuildContext& ctx) {
        const auto base = ctx.options.base_on;
        if constexpr (loop_) {
            if (!base.empty() && mount::is_iso9660(base)) {
                const auto extracted = ctx.build_dir / "base-on-rootfs.img";
                log::info("--base-on: taking the root image out of ", base.string());
                const auto compression = mount::extract_live_root(base, extracted, ctx.build_dir / "base-on",
                                                                  mount::filesystem_label("ext4", image_label(ctx.options)));
                resolve_compression_from_base(ctx, compression);
                ctx.options.base_on = extracted;
                try {
                    inner_.mount(ctx);
                } catch (...) {
                    ctx.options.base_on = base;
                    throw;
                }
                ctx.options.base_on = base;
                std::filesystem::remove(extracted);
                return;
            }
        }
        if (!base.empty()) resolve_compression_from_base(ctx, std::nullopt);
        inner_.mount(ctx);
    }

    void unmount(BuildContext& ctx) {
        if constexpr (!loop_) {
            if (ctx.options.flat_squashfs && !ctx.options.skip_compression) {
                inner_.unmount_keeping_tree(ctx);
                return;
            }
        }
        inner_.unmount(ctx);
    }

    std::string fstab(const BuildContext& ctx) const { return inner_.fstab(ctx); }
    std::optional<std::string> full_root_message(const BuildContext& ctx) const {
        if constexpr (has_full_root_message_hook<Inner>) return inner_.full_root_message(ctx);
        else return std::nullopt;
    }
    const mount::FilesystemSpec& filesystem() const noexcept { return inner_.filesystem(); }
    auto required_programs(const BuildContext& ctx) const { return inner_.required_programs(ctx); }
    void check(const BuildContext& ctx) const { inner_.check(ctx); }

private:
    // --compression-type None: the base's compressor, or none when the base is not squashed.
    static void resolve_compression_from_base(BuildContext& ctx, const std::optional<std::string>& compression) {
        if (ctx.options.compression != stage::compression_from_base) return;
        if (compression) {
            ctx.options.compression = *compression;
            log::info("--compression-type None: squashing with ", *compression, ", as ", ctx.options.base_on.string(),
                      " is");
        } else {
            ctx.options.compression = "xz";  // what the initramfs is compressed with
            ctx.options.skip_compression = true;
            log::info("--compression-type None: ", ctx.options.base_on.string(),
                      " holds its root image uncompressed, so this ISO does too");
        }
    }

    Inner inner_;
};

using LiveMount = BasicLiveMount<LoopMount>;
using LiveMkfsMount = BasicLiveMount<MkfsMount>;

}  // namespace imgcreate

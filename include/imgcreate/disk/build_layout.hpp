// imgcreate — the layout of this build's disks: the kickstart's, with the sizes the user gave and
// the identities derived from the build (its directory, or its name and SOURCE_DATE_EPOCH). The
// mount, boot and stage policies each ask for it and get the same answer.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/disk/layout.hpp>
#include <imgcreate/disk/partition_table.hpp>
#include <imgcreate/kickstart/document.hpp>
#include <imgcreate/mount/tree_filesystem.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace imgcreate::disk {

inline LayoutOptions layout_options(const BuildContext& ctx) {
    LayoutOptions options;
    options.memory_mib = ctx.options.vmem_mib;
    options.disk_size_mib = ctx.options.disk_size_mib;
    return options;
}

// The layout with no identities: what check() refuses before any work.
inline Layout plan_build_layout(const BuildContext& ctx) {
    if (!ctx.kickstart) throw ConfigError("a disk image needs a kickstart with its part lines");
    return plan_layout(*ctx.kickstart, layout_options(ctx));
}

inline Layout build_layout(const BuildContext& ctx) {
    auto layout = plan_build_layout(ctx);
    assign_identities(layout, identity_seed(ctx.options.name, ctx.build_dir, ctx.options.source_date_epoch));
    return layout;
}

// The layout DiskStage makes from `tree`. autopart without --disk-size gets its first disk just
// large enough for the tree: the partition that grows (/ for plain, the btrfs volume for btrfs,
// the physical volume whose logical volume / then grows for lvm)
// is given what the tree below it takes, a fifth more and 256 MiB (the filesystem's own blocks and
// room for the first boots), in steps of 256 MiB, never less than anaconda's 1 GiB.
inline Layout build_layout_for_tree(const BuildContext& ctx, const std::filesystem::path& tree) {
    namespace fs = std::filesystem;
    auto layout = build_layout(ctx);
    if (!layout.autopart || layout.disks.empty() || ctx.options.disk_size_mib.count(layout.disks.front().name)) return layout;
    const Disk& disk = layout.disks.front();
    const Partition* grown = nullptr;
    for (const auto& p : disk.partitions)
        if (p.grow) grown = &p;
    if (!grown) return layout;
    // the tree below the growing partition: all of it but the other partitions' mount points
    std::vector<std::string> elsewhere;
    for (const auto& p : disk.partitions)
        if (&p != grown && !p.mountpoint.empty() && p.mountpoint != "/") elsewhere.push_back(p.mountpoint);
    std::sort(elsewhere.begin(), elsewhere.end());
    std::uint64_t bytes = mount::detail::tree_bytes(tree);
    std::string last;
    for (const auto& mp : elsewhere) {
        if (!last.empty() && mp.rfind(last + "/", 0) == 0) continue;  // /boot/efi inside /boot: counted with it
        last = mp;
        bytes -= std::min(bytes, mount::detail::tree_bytes(tree / fs::path(mp).relative_path()));
    }
    const std::uint64_t mib = (bytes + (1 << 20) - 1) >> 20;
    const std::uint64_t need = ((mib + mib / 5 + 256 + 255) / 256) * 256;
    if (need <= grown->size_mib) return layout;
    auto options = layout_options(ctx);
    std::uint64_t size = disk.size_mib + (need - grown->size_mib);
    Layout sized;
    for (int attempt = 0; attempt < 4; ++attempt) {  // the grown size follows the disk's less what is fixed
        options.disk_size_mib[disk.name] = size;
        sized = plan_layout(*ctx.kickstart, options);
        // a disk this large would be laid out otherwise (autopart's own /home from 50 GiB free): keep
        // the layout the build was planned with, and let the filesystem say it is full
        if (sized.disks.front().partitions.size() != disk.partitions.size()) return layout;
        const auto& now = sized.disks.front().partitions[static_cast<std::size_t>(grown - disk.partitions.data())];
        if (now.size_mib == need) break;
        if (now.size_mib > need) size -= now.size_mib - need;
        else size += need - now.size_mib;
    }
    assign_identities(sized, identity_seed(ctx.options.name, ctx.build_dir, ctx.options.source_date_epoch));
    const auto& mountpoint = !grown->volume.empty()            ? "btrfs volume " + grown->volume
                             : !grown->physical_volume.empty() ? "LVM physical volume " + grown->physical_volume
                                                               : grown->mountpoint;
    log::info("autopart without --disk-size: disk ", disk.name, " is ", sized.disks.front().size_mib, " MiB, so that ",
              mountpoint, " (", need, " MiB) holds the tree's ", mib, " MiB (--disk-size sets it)");
    return sized;
}

}  // namespace imgcreate::disk

// imgcreate — DiskMount: the install root of a disk image is a plain directory, as DirectoryMount's,
// and the image's /etc/fstab names the filesystems of the kickstart's layout by the UUIDs they
// will get when DiskStage makes them from the tree (disk/build_layout.hpp). A layout that cannot
// be made is refused before any work (check), and so is a missing mkfs.
#pragma once

#include <imgcreate/concepts.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/disk/btrfs_volume.hpp>
#include <imgcreate/disk/build_layout.hpp>
#include <imgcreate/install/package_request.hpp>
#include <imgcreate/mount/directory_mount.hpp>
#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/tree_in_memory.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/root_path.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>

namespace imgcreate {

class DiskMount {
public:
    void mount(BuildContext& ctx) {
        layout_ = disk::build_layout(ctx);
        // The tree in memory when the disks' filesystems fit in half of the available memory: it
        // then goes with one unmount, where removing it file by file from a disk mounted with
        // discard takes longer than the whole build. autopart without --disk-size makes its disk
        // as large as the tree at the end (disk::build_layout_for_tree): its tree may take all of
        // that half, not only the smallest layout planned now.
        sized_by_tree_ = layout_.autopart && !layout_.disks.empty() &&
                         !ctx.options.disk_size_mib.count(layout_.disks.front().name);
        memory_limit_mib_ = std::max<std::uint64_t>(total_mib(), 64);
        if (sized_by_tree_)
            if (const auto available = mount::available_memory_bytes())
                memory_limit_mib_ = std::max(memory_limit_mib_, (*available / 2) >> 20);
        // As anaconda adds it: the image activates its volume groups with lvm when it boots.
        if (!layout_.groups.empty() && !lvm2_listed(ctx)) {
            const auto groups = group_names(layout_);
            ctx.added_packages.push_back({"lvm2", "the layout's LVM volume group " + groups +
                                                      " (lvm2 is added for it, as anaconda adds it)"});
            log::info("lvm2 added to the packages: the image activates LVM volume group ", groups, " with it when it boots");
        }
        if (!memory_.hold_with_siblings(ctx, memory_limit_mib_)) DirectoryMount{}.mount(ctx);
        make_lost_and_found(ctx);
        for (const auto& d : layout_.disks)
            log::info("disk ", d.name, ": ", d.size_mib, " MiB, ", d.label == disk::LabelType::gpt ? "GPT" : "msdos", ", ",
                      d.partitions.size(), " partitions; the filesystems are made from ", ctx.install_root.string(),
                      memory_.held() ? " (in memory, up to " + std::to_string(memory_limit_mib_) + " MiB)" : "", " at the end");
    }
    void unmount(BuildContext&) {}

    std::string fstab(const BuildContext&) const { return disk::fstab(layout_); }
    const disk::Layout& layout() const noexcept { return layout_; }
    bool tree_in_memory() const noexcept { return memory_.held(); }

    // After a failed install or configure step: a tree in memory that filled its tmpfs (the
    // size of every filesystem of the layout) is a layout too small for it.
    std::optional<std::string> full_root_message(const BuildContext& ctx) const {
        if (sized_by_tree_) {
            if (!memory_.full_message(ctx, "", "")) return std::nullopt;
            return "the tree outgrew the " + std::to_string(memory_limit_mib_) + " MiB of memory it was installed in (half "
                   "of what was available; autopart without --disk-size makes the disk as large as the tree): build "
                   "with --tree-on-disk";
        }
        return memory_.full_message(ctx, "the part sizes", "the layout's partitions hold " + std::to_string(total_mib()) + " MiB");
    }

    void check(const BuildContext& ctx) const {
        const auto layout = disk::plan_build_layout(ctx);
        for (const auto& note : layout.notes) log::info(note);
        if (!layout.groups.empty() && ctx.kickstart)
            for (const auto& e : ctx.kickstart->packages.entries)
                if (e.kind == kickstart::PackageKind::exclude && install::spec_may_name(e.name, "lvm2"))
                    throw ConfigError(e.origin.file + ":" + std::to_string(e.origin.line) + ": -" + e.name +
                                      " leaves lvm2 out of the image, and the layout has LVM volume group " +
                                      group_names(layout) + ", which the image activates with lvm when it boots: "
                                      "remove -" + e.name + ", or lay the disk out with part lines (or autopart "
                                      "--type=plain)");
        const bool subvolumes = std::any_of(layout.volumes.begin(), layout.volumes.end(),
                                            [](const disk::BtrfsVolume& v) { return !v.subvolumes.empty(); });
        if (subvolumes && !find_program("mkfs.btrfs").empty() && !disk::mkfs_btrfs_makes_subvolumes())
            throw ConfigError("this mkfs.btrfs makes no subvolumes from a tree (it has no --subvol; btrfs-progs 6.12 and "
                              "later have it): on Debian 12 install btrfs-progs from bookworm-backports "
                              "(scripts/install-deps does, or: apt-get install -t bookworm-backports btrfs-progs)");
    }

    RequiredPrograms required_programs(const BuildContext& ctx) const {
        RequiredPrograms programs{{"sfdisk", "fdisk"}};
        std::set<std::string> types;
        const auto layout = disk::plan_build_layout(ctx);
        for (const auto* p : layout.filesystems()) types.insert(p->fstype);
        for (const auto& t : types) {
            if (t == "swap") programs.push_back({"mkswap", "util-linux"});
            else if (t == "vfat") programs.insert(programs.end(), {{"mkfs.fat", "dosfstools"}, {"mcopy", "mtools"}});
            else programs.push_back({"mkfs." + t, mount::package_providing_mkfs(t)});
            if (t == "xfs") programs.push_back({"xfs_db", "xfsprogs"});
        }
        return programs;
    }

private:
    static std::string group_names(const disk::Layout& layout) {
        std::string names;
        for (const auto& g : layout.groups) names += (names.empty() ? "" : ", ") + g.name;
        return names;
    }

    static bool lvm2_listed(const BuildContext& ctx) {
        if (!ctx.kickstart) return false;
        const auto& entries = ctx.kickstart->packages.entries;
        return std::any_of(entries.begin(), entries.end(), [](const kickstart::PackageEntry& e) {
            return e.kind == kickstart::PackageKind::package && install::spec_may_name(e.name, "lvm2");
        });
    }

    // Every ext* filesystem has /lost+found from mkfs on, and anaconda installs into the mounted
    // filesystems, so the image's packages and %post see it and the relabel labels it. Made in
    // the tree now, as anaconda's mkfs would, it gets its label the same way, and mkfs.ext4 -d
    // gives its own lost+found the tree's mode and label.
    void make_lost_and_found(const BuildContext& ctx) const {
        RootDir root(ctx.install_root);
        for (const auto* fs : layout_.filesystems()) {
            const auto& p = *fs;
            if (p.content != disk::Content::filesystem || !mount::is_ext(p.fstype) || p.mountpoint.empty()) continue;
            const auto mountpoint = std::filesystem::path(p.mountpoint).relative_path();
            if (!mountpoint.empty()) root.mkdirs(mountpoint);
            root.mkdirs(mountpoint / "lost+found", 0700);
            root.chmod(mountpoint / "lost+found", 0700);
        }
    }

    std::uint64_t total_mib() const {
        std::uint64_t mib = 0;
        for (const auto& d : layout_.disks)
            for (const auto& p : d.partitions) mib += p.size_mib;
        return mib;
    }

    disk::Layout layout_;
    mount::TreeInMemory memory_;
    bool sized_by_tree_ = false;
    std::uint64_t memory_limit_mib_ = 0;
};

}  // namespace imgcreate

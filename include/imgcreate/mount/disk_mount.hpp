// imgcreate — DiskMount: the install root of a disk image is a plain directory, as DirectoryMount's,
// and the image's /etc/fstab names the filesystems of the kickstart's layout by the UUIDs they
// will get when DiskStage makes them from the tree (disk/build_layout.hpp). A layout that cannot
// be made is refused before any work (check), and so is a missing mkfs.
#pragma once

#include <imgcreate/concepts.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/disk/build_layout.hpp>
#include <imgcreate/mount/directory_mount.hpp>
#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/support/log.hpp>

#include <set>
#include <string>

namespace imgcreate {

class DiskMount {
public:
    void mount(BuildContext& ctx) {
        layout_ = disk::build_layout(ctx);
        DirectoryMount{}.mount(ctx);
        for (const auto& d : layout_.disks)
            log::info("disk ", d.name, ": ", d.size_mib, " MiB, ", d.label == disk::LabelType::gpt ? "GPT" : "msdos", ", ",
                      d.partitions.size(), " partitions; the filesystems are made from ", ctx.install_root.string(),
                      " at the end");
    }
    void unmount(BuildContext&) {}

    std::string fstab(const BuildContext&) const { return disk::fstab(layout_); }
    const disk::Layout& layout() const noexcept { return layout_; }

    void check(const BuildContext& ctx) const { disk::plan_build_layout(ctx); }

    RequiredPrograms required_programs(const BuildContext& ctx) const {
        RequiredPrograms programs{{"sfdisk", "fdisk"}};
        std::set<std::string> types;
        for (const auto& d : disk::plan_build_layout(ctx).disks)
            for (const auto& p : d.partitions) types.insert(p.fstype);
        for (const auto& t : types) {
            if (t == "biosboot") continue;
            if (t == "swap") programs.push_back({"mkswap", "util-linux"});
            else if (t == "vfat") programs.insert(programs.end(), {{"mkfs.fat", "dosfstools"}, {"mcopy", "mtools"}});
            else programs.push_back({"mkfs." + t, mount::package_providing_mkfs(t)});
            if (t == "xfs") programs.push_back({"xfs_db", "xfsprogs"});
        }
        return programs;
    }

private:
    disk::Layout layout_;
};

}  // namespace imgcreate

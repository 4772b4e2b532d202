// imgcreate — a layout's identities, its /etc/fstab and its partition tables, written with
// sfdisk into image files (sfdisk works on a regular file as on a disk: no loop device).
//
// Every UUID (filesystems, swap, GPT disk and partitions, the msdos disk id) is derived from a
// seed: the build's own directory for an ordinary build, the image's name and SOURCE_DATE_EPOCH
// for a reproducible one. The fstab, written before the packages go in, and the filesystems,
// made at the end, then agree without either waiting for the other.
#pragma once

#include <imgcreate/disk/layout.hpp>
#include <imgcreate/disk/lvm.hpp>
#include <imgcreate/mount/tree_filesystem.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/process.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

namespace imgcreate::disk {

// GPT partition types.
inline constexpr const char* gpt_linux_data = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
inline constexpr const char* gpt_linux_swap = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F";
inline constexpr const char* gpt_esp = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
inline constexpr const char* gpt_bios_boot = "21686148-6449-6E6F-744E-656564454649";
inline constexpr const char* gpt_prep_boot = "9E1A2D38-C612-4316-AA26-8B49521E5A8B";
inline constexpr const char* gpt_linux_lvm = "E6D6D379-F507-44C2-A23C-238F2A3DF928";

inline std::string gpt_type(const Partition& p) {
    switch (p.content) {
        case Content::esp: return gpt_esp;
        case Content::swap: return gpt_linux_swap;
        case Content::biosboot: return gpt_bios_boot;
        case Content::prepboot: return gpt_prep_boot;
        case Content::pv: return gpt_linux_lvm;
        default: return gpt_linux_data;
    }
}

inline std::string mbr_type(const Partition& p) {
    switch (p.content) {
        case Content::esp: return "ef";
        case Content::swap: return "82";
        case Content::prepboot: return "41";
        case Content::pv: return "8e";
        default: return "83";
    }
}

// A vfat volume id as fstab and blkid write it (XXXX-XXXX), from a UUID.
inline std::string vfat_volume_id(const std::string& uuid) {
    std::string hex;
    for (char c : uuid)
        if (std::isxdigit(static_cast<unsigned char>(c))) hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return hex.substr(0, 4) + "-" + hex.substr(4, 4);
}

inline std::string upper(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

// Gives every disk and partition its identities, derived from `seed`. GPT GUIDs are written as
// sfdisk and blkid show them, in capitals.
inline void assign_identities(Layout& layout, const std::string& seed) {
    for (auto& d : layout.disks) {
        const auto disk_uuid = mount::derived_uuid(seed + "/disk/" + d.name);
        d.id = d.label == LabelType::gpt ? upper(disk_uuid) : "0x" + disk_uuid.substr(0, 8);
        for (auto& p : d.partitions) {
            const auto key = seed + "/" + d.name + "/" + std::to_string(p.number);
            p.partuuid = d.label == LabelType::gpt ? upper(mount::derived_uuid(key + "/partition")) : "";
            p.uuid = mount::derived_uuid(key + "/filesystem");
            if (p.fstype == "vfat") p.uuid = vfat_volume_id(p.uuid);
            if (holds_no_filesystem(p.content)) p.uuid.clear();
            if (p.content == Content::pv) p.lvm_id = lvm::derived_id(key + "/pv");
        }
    }
    for (auto& g : layout.groups) {
        const auto key = seed + "/lvm/" + g.name;
        g.id = lvm::derived_id(key);
        for (auto& lv : g.volumes) {
            lv.uuid = mount::derived_uuid(key + "/" + lv.logical_volume + "/filesystem");
            lv.lvm_id = lvm::derived_id(key + "/" + lv.logical_volume);
        }
    }
}

// How the fstab and the kernel's command line name a filesystem: a logical volume by its
// /dev/mapper name, as anaconda writes it; anything else by UUID.
inline std::string fstab_device(const Layout& layout, const Partition& p) {
    if (const auto* g = layout.group_of(p)) return "/dev/mapper/" + lvm::mapper_name(g->name, p.logical_volume);
    return "UUID=" + p.uuid;
}

// The seed of an ordinary build (its build directory is unique) or of a reproducible one.
inline std::string identity_seed(const std::string& name, const std::filesystem::path& build_dir,
                                 std::optional<long long> epoch) {
    return epoch ? "imgcreate-disk/" + name + "/" + std::to_string(*epoch) : "imgcreate-disk/" + build_dir.string();
}

// /etc/fstab for the layout: filesystems by UUID, parents before what is mounted on them, swap
// last; the columns anaconda writes. A btrfs subvolume is its volume's UUID with subvol=name (a
// volume's top level: subvolid=5, whatever the default subvolume), then the member's --fsoptions.
inline std::string fstab(const Layout& layout) {
    struct Entry {
        std::string device, mountpoint, fstype, options;
        const char* passes;
    };
    std::vector<Entry> mounted;
    std::vector<const Partition*> swaps;
    for (const auto* fs : layout.filesystems()) {
        const auto& p = *fs;
        if (p.content == Content::swap) {
            swaps.push_back(&p);
        } else if (!p.mountpoint.empty()) {
            std::string opts = p.fsoptions;
            if (opts.empty()) opts = p.content == Content::esp ? "umask=0077,shortname=winnt" : "defaults";
            const char* passes = mount::is_ext(p.fstype) ? (p.mountpoint == "/" ? "1 1" : "1 2")
                                 : p.fstype == "vfat"    ? "0 2"
                                                         : "0 0";
            mounted.push_back({fstab_device(layout, p), p.mountpoint, p.fstype, opts, passes});
        }
    }
    for (const auto& v : layout.volumes) {
        const auto* member = layout.member_of(v);
        if (!member) continue;
        const std::string more = member->fsoptions.empty() ? "" : "," + member->fsoptions;
        if (!v.mountpoint.empty()) mounted.push_back({"UUID=" + member->uuid, v.mountpoint, "btrfs", "subvolid=5" + more, "0 0"});
        for (const auto& s : v.subvolumes)
            if (!s.mountpoint.empty())
                mounted.push_back({"UUID=" + member->uuid, s.mountpoint, "btrfs", "subvol=" + s.name + more, "0 0"});
    }
    std::stable_sort(mounted.begin(), mounted.end(), [](const Entry& a, const Entry& b) { return a.mountpoint < b.mountpoint; });
    std::string out = std::string("# Written by imgcreate: the filesystems of the disk image, by UUID") +
                      (layout.groups.empty() ? "" : " (logical volumes by their /dev/mapper name)") + ".\n";
    auto line = [&](const std::string& spec, const std::string& where, const std::string& type, const std::string& opts,
                    const char* passes) {
        out += spec + " " + where + " " + type + " " + opts + " " + passes + "\n";
    };
    for (const auto& e : mounted) line(e.device, e.mountpoint, e.fstype, e.options, e.passes);
    for (const auto* p : swaps)
        line(fstab_device(layout, *p), "none", "swap", p->fsoptions.empty() ? "defaults" : p->fsoptions, "0 0");
    return out;
}

inline constexpr std::uint64_t sectors_per_mib = 2048;

// sfdisk's input for the disk: sizes in 512-byte sectors, every start given.
inline std::string sfdisk_script(const Disk& disk) {
    const bool gpt = disk.label == LabelType::gpt;
    std::string s = std::string("label: ") + (gpt ? "gpt" : "dos") + "\n";
    if (!disk.id.empty()) s += "label-id: " + disk.id + "\n";
    s += "unit: sectors\n";
    if (gpt) s += "first-lba: 2048\n";
    s += "\n";
    auto sectors = [](std::uint64_t mib) { return std::to_string(mib * sectors_per_mib); };
    // BIOSes that look for an active partition find the one holding /boot (or /).
    const Partition* active = nullptr;
    for (const auto& p : disk.partitions)
        if (p.mountpoint == "/boot" || (!active && (p.mountpoint == "/" || !p.volume.empty()))) active = &p;
    for (const auto& p : disk.partitions) {
        if (disk.extended_number && p.number == 5)
            s += "start=" + sectors(disk.extended_start_mib) + ", size=" + sectors(disk.extended_size_mib) + ", type=5\n";
        s += "start=" + sectors(p.start_mib) + ", size=" + sectors(p.size_mib) + ", type=" + (gpt ? gpt_type(p) : mbr_type(p));
        if (gpt && !p.partuuid.empty()) s += ", uuid=" + p.partuuid;
        if (!gpt && &p == active) s += ", bootable";
        s += "\n";
    }
    return s;
}

// Writes the disk's partition table into `image`, a file already of the disk's size.
inline void write_partition_table(const Disk& disk, const std::filesystem::path& image) {
    Command sfdisk;
    sfdisk.argv = {require_program("sfdisk", "fdisk").string(), "--quiet", "--no-reread", "--no-tell-kernel", "--wipe",
                   "never", image.string()};
    sfdisk.input = sfdisk_script(disk);
    run(sfdisk);
}

}  // namespace imgcreate::disk

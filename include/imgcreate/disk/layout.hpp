// imgcreate — the storage layout of a disk image, worked out from the kickstart alone: which
// disks (--ondisk), which partitions on each, in which order, at which offset, of which size,
// holding which filesystem. A pure function (plan_layout) with no I/O, so a layout that cannot
// be made is refused before any work, with the line that asks for it and the numbers.
//
// What it follows is anaconda's partitioning, for a disk that is made to measure:
//
//   part/partition   --size (MiB; 500 when not given, as blivet's default), --grow, --maxsize,
//                    --fstype ext4 (the default) ext3 ext2 xfs btrfs vfat efi biosboot swap,
//                    --label, --fsoptions, --mkfsoptions, --ondisk, --asprimary, --recommended
//                    and --hibernation (swap: anaconda's suggestion for the guest's memory)
//   reqpart          the platform's partitions the boot loader needs (x86_64, booting both ways:
//                    biosboot 1 MiB on GPT, and /boot/efi 500-600 MiB); --add-boot a 1 GiB /boot;
//                    on the boot disk (bootloader --boot-drive, else the disk of /), which is first
//   clearpart        --disklabel gpt (the default) or msdos; the disks are new, so what it clears
//                    is empty anyway, as with zerombr
//   btrfs            a volume on one part btrfs.NN member (btrfs none --label=fedora btrfs.01, or a
//                    mount point for its top level; --data/--metadata single,
//                    --mkfsoptions) and its subvolumes (btrfs / --subvol --name=root fedora), the
//                    parent named by its label, LABEL=label or the member
//   volgroup         an LVM volume group on one part pv.NN physical volume (--pesize in KiB, whole
//                    MiB); the volume group's metadata is written into the image (disk/lvm.hpp),
//                    no device-mapper needed. A growing physical volume holds at least what its
//                    logical volumes ask for
//   logvol           a logical volume of ext4/ext3/ext2/xfs/btrfs or swap (--vgname, --name, --size,
//                    --grow, --maxsize, --percent of what the fixed sizes leave, --recommended for
//                    swap, --label, --fsoptions, --mkfsoptions), laid out in the group's extents in
//                    the kickstart's order; /boot stays on a partition, as anaconda keeps it
//   autopart         --type=lvm (the default), plain or btrfs, as anaconda lays out Fedora: reqpart's
//                    partitions, /boot (1 GiB ext4, unless --noboot), then / (1 GiB growing up to
//                    70 GiB, ext4 or --fstype, and /home 500 MiB growing when a given disk size
//                    leaves 50 GiB free) as logical volumes root and home of volume group fedora on
//                    a growing physical volume (lvm), as partitions (plain), or a btrfs volume
//                    labelled fedora with subvolumes root (/) and
//                    home (/home, unless --nohome), mounted with compress=zstd:1; no swap
//                    (Fedora's is zram). Without a disk size, DiskStage makes the disk as large
//                    as the tree needs (build_layout_for_tree)
//
// Sizes are whole MiB, every partition starts on a MiB boundary. A disk's size is what its
// partitions need (1 MiB in front for the table and the alignment, 1 MiB behind for the backup
// GPT) unless LayoutOptions gives one; then the --grow partitions share what is free in
// proportion to their base sizes, each up to its --maxsize, as anaconda grows them, and a
// layout that does not fit is refused. Without a disk size a --grow partition keeps its base.
//
// Partitions are ordered as anaconda allocates them: the boot loader's (biosboot, the ESP)
// first, then /boot, then --asprimary ones, fixed sizes before growing ones, larger before
// smaller, and the kickstart's order among equals. On an msdos disk with more than four
// partitions the first three are primary and the rest logical in an extended partition.
//
// Refused, with what to write instead: thin LVM (logvol --thin/--thinpool, autopart --type=thinp)
// and software RAID need device-mapper's thin target or md, which a disk made from files never
// has; encryption (LUKS needs device-mapper too); existing partitions (--onpart, --noformat,
// --useexisting, --resize); btrfs volumes of more than one member (a filesystem made from a tree
// is made on one device), and volume groups of more than one physical volume.
#pragma once

#include <imgcreate/kickstart/document.hpp>
#include <imgcreate/support/error.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace imgcreate::disk {

enum class LabelType { gpt, dos };

// What a partition holds.
enum class Content {
    filesystem,  // ext2/3/4, xfs, btrfs, vfat, mounted at its mount point
    esp,         // vfat, the EFI system partition (/boot/efi)
    swap,
    biosboot,    // GRUB's core.img on a GPT disk booted by a BIOS; no filesystem
    prepboot,    // PowerPC's PReP boot partition, left empty: Fedora's cloud kickstarts ask for one on
                 // every architecture, and anaconda makes it on x86_64 too; no filesystem
    pv,          // an LVM physical volume: its volume group's label and metadata, then the filesystems
                 // of the group's logical volumes (disk/lvm.hpp); no filesystem of its own
};

// A partition that holds no filesystem of its own: nothing is made in it as such, mounted from it or
// named in the fstab.
inline bool holds_no_filesystem(Content c) { return c == Content::biosboot || c == Content::prepboot || c == Content::pv; }

struct Partition {
    std::string mountpoint;    // "/", "/boot", "/boot/efi", "/home"; empty for swap, biosboot and prepboot
    std::string fstype;        // ext4, ext3, ext2, xfs, btrfs, vfat, swap, biosboot, prepboot
    Content content = Content::filesystem;
    std::string label;         // --label, as given (empty: none)
    std::string fsoptions;     // --fsoptions: the fstab options (empty: the type's defaults)
    std::string mkfsoptions;   // --mkfsoptions, added to mkfs's arguments
    std::uint64_t base_mib = 0;  // the requested size (--size or the default)
    std::uint64_t max_mib = 0;   // --maxsize (0: none)
    bool grow = false;
    bool asprimary = false;
    bool logical = false;      // msdos only: inside the extended partition
    int number = 0;            // its number in the partition table (1-based; logicals from 5)
    std::uint64_t start_mib = 0;  // offset on the disk
    std::uint64_t size_mib = 0;   // after growing
    std::string uuid;             // the filesystem's or swap's UUID (vfat: its volume id, XXXX-XXXX)
    std::string partuuid;         // GPT: the partition's unique GUID
    std::string volume;           // a btrfs volume's member: its name on the part line (btrfs.01)
    std::string physical_volume;  // an LVM physical volume: its name on the part line (pv.01)
    // A logical volume (a logvol line; held by a VolumeGroup, not by a disk): its name. Its start_mib
    // is on the disk, inside its group's physical volume; its sizes are whole extents.
    std::string logical_volume;
    std::string volume_group;     // a logical volume's group (sysvg)
    std::string lvm_id;           // LVM's identity of a physical or logical volume (32 characters)
    int percent = 0;              // a logical volume's --percent (of the group's space the fixed sizes leave)
    kickstart::Origin origin;     // the line that asked for it (none for reqpart's own)
};

// A btrfs subvolume: a directory of its volume (its name, the path from the top level: root, or
// root/var/log inside subvolume root), mounted with subvol=name.
struct Subvolume {
    std::string name;
    std::string mountpoint;  // empty: made, not mounted
    kickstart::Origin origin;
};

// A btrfs volume (a kickstart btrfs line without --subvol) on its one member partition, whose
// uuid is the filesystem's.
struct BtrfsVolume {
    std::string member;      // btrfs.01
    std::string mountpoint;  // of the top level; empty for none
    std::string label, data_level, metadata_level, mkfsoptions;
    std::vector<Subvolume> subvolumes;
    kickstart::Origin origin;
};

// An LVM volume group (a volgroup line) on its one physical volume, a partition, and its logical
// volumes, laid out in the group's extents in the order the kickstart gives them. The physical
// volume's data starts 1 MiB in (LVM's pe_start), after its label and metadata.
struct VolumeGroup {
    std::string name;                 // sysvg
    std::string member;               // the physical volume's name on its part line, pv.01
    std::uint64_t extent_mib = 4;     // --pesize (LVM's default 4 MiB)
    std::uint64_t extents = 0;        // in the physical volume, once it is sized
    std::vector<Partition> volumes;   // the logical volumes
    std::string id;                   // LVM's identity of the group
    kickstart::Origin origin;
};

inline constexpr std::uint64_t lvm_data_offset_mib = 1;  // pe_start: the label and metadata area before it

// What is mounted at a mount point: a partition's filesystem, a volume's top level or a subvolume.
struct Mounted {
    const Partition* partition = nullptr;  // the partition holding the filesystem
    const BtrfsVolume* volume = nullptr;   // set for a volume's top level and its subvolumes
    const Subvolume* subvolume = nullptr;
};

struct Disk {
    std::string name;          // "sda", as --ondisk names it
    LabelType label = LabelType::gpt;
    std::uint64_t size_mib = 0;
    std::vector<Partition> partitions;  // in table order
    // msdos with logical partitions: the extended partition's number, start and size.
    int extended_number = 0;
    std::uint64_t extended_start_mib = 0, extended_size_mib = 0;
    std::string id;            // GPT: the disk GUID; msdos: the 32-bit disk identifier, 0x...
};

struct Layout {
    std::vector<Disk> disks;  // the disk holding / first, then in the order the kickstart names them
    std::vector<BtrfsVolume> volumes;
    std::vector<VolumeGroup> groups;
    bool autopart = false;    // laid out by autopart: its sizes follow the disk's
    std::vector<std::string> notes;  // where the plan reads the lines as anaconda does and a reader might not

    // The partition mounted at `mountpoint` itself (not a btrfs volume's), or null.
    // A logical volume's is its own.
    const Partition* find(const std::string& mountpoint) const {
        for (const auto* p : filesystems())
            if (p->mountpoint == mountpoint) return p;
        return nullptr;
    }
    const Disk* disk_of(const std::string& mountpoint) const {
        for (const auto& d : disks)
            for (const auto& p : d.partitions) {
                if (p.mountpoint == mountpoint) return &d;
                if (const auto* g = group_on(p))
                    for (const auto& lv : g->volumes)
                        if (lv.mountpoint == mountpoint) return &d;
            }
        return nullptr;
    }
    // Every partition and logical volume that holds a filesystem or swap of its own, the disks' first.
    std::vector<const Partition*> filesystems() const {
        std::vector<const Partition*> out;
        for (const auto& d : disks)
            for (const auto& p : d.partitions)
                if (!holds_no_filesystem(p.content)) out.push_back(&p);
        for (const auto& g : groups)
            for (const auto& lv : g.volumes) out.push_back(&lv);
        return out;
    }
    // The volume group on a physical volume, or null.
    const VolumeGroup* group_on(const Partition& pv) const {
        for (const auto& g : groups)
            if (!pv.physical_volume.empty() && g.member == pv.physical_volume) return &g;
        return nullptr;
    }
    // The volume group holding a logical volume, or null.
    const VolumeGroup* group_of(const Partition& lv) const {
        for (const auto& g : groups)
            if (!lv.logical_volume.empty() && g.name == lv.volume_group) return &g;
        return nullptr;
    }
    // The physical volume of a group, or null.
    const Partition* member_of(const VolumeGroup& group) const {
        for (const auto& d : disks)
            for (const auto& p : d.partitions)
                if (p.physical_volume == group.member) return &p;
        return nullptr;
    }
    // The partition of a btrfs volume, or null.
    const Partition* member_of(const BtrfsVolume& volume) const {
        for (const auto& d : disks)
            for (const auto& p : d.partitions)
                if (p.volume == volume.member) return &p;
        return nullptr;
    }
    const BtrfsVolume* volume_of(const Partition& member) const {
        for (const auto& v : volumes)
            if (!member.volume.empty() && v.member == member.volume) return &v;
        return nullptr;
    }
    // What is mounted at `mountpoint`: partition null when nothing is.
    Mounted mounted(const std::string& mountpoint) const {
        if (const auto* p = find(mountpoint)) return {p, nullptr, nullptr};
        for (const auto& v : volumes) {
            if (v.mountpoint == mountpoint) return {member_of(v), &v, nullptr};
            for (const auto& s : v.subvolumes)
                if (s.mountpoint == mountpoint) return {member_of(v), &v, &s};
        }
        return {};
    }
    // Every mount point of the layout: partitions', volumes' and subvolumes'.
    std::vector<std::string> mountpoints() const {
        std::vector<std::string> out;
        for (const auto* p : filesystems())
            if (!p->mountpoint.empty()) out.push_back(p->mountpoint);
        for (const auto& v : volumes) {
            if (!v.mountpoint.empty()) out.push_back(v.mountpoint);
            for (const auto& s : v.subvolumes)
                if (!s.mountpoint.empty()) out.push_back(s.mountpoint);
        }
        return out;
    }
    // The filesystem holding `path` of the installed system (the mount point nearest above it) and
    // the path within that filesystem: /boot on a / that is subvolume root is /root/boot of the
    // volume; on a /boot partition it is / of that partition.
    std::pair<Mounted, std::string> locate(const std::string& path) const {
        std::string best;
        for (const auto& m : mountpoints()) {
            const bool above = m == "/" || path == m || path.rfind(m + "/", 0) == 0;
            if (above && m.size() > best.size()) best = m;
        }
        if (best.empty()) return {};
        const auto at = mounted(best);
        std::string inside = best == "/" ? path : path.substr(best.size());
        if (at.subvolume) inside = "/" + at.subvolume->name + (inside == "/" ? "" : inside);
        if (inside.empty()) inside = "/";
        return {at, inside};
    }
};

struct LayoutOptions {
    std::string default_disk = "sda";                 // the disk of a part line without --ondisk (appliance-creator's)
    std::map<std::string, std::uint64_t> disk_size_mib;  // a disk's size; absent: what its partitions need
    std::uint64_t memory_mib = 1024;                  // the guest's memory, for part swap --recommended
};

// Sizes of the pieces a filesystem cannot be made smaller than (MiB).
inline std::uint64_t minimum_size_mib(const std::string& fstype) {
    if (fstype == "xfs") return 300;
    if (fstype == "btrfs") return 128;
    if (fstype == "vfat") return 1;
    if (fstype == "swap") return 1;
    if (fstype == "biosboot") return 1;
    if (fstype == "prepboot") return 4;
    if (fstype == "lvmpv") return lvm_data_offset_mib + 4;  // the metadata and one extent
    return 8;  // ext*
}

// anaconda's suggested swap for a machine with `memory_mib` of memory: twice the memory below
// 2 GiB, as much below 8 GiB, half below 64 GiB, else 4 GiB. For hibernation the memory itself is
// added (up to 64 GiB of memory; above, hibernation is not sized for). Otherwise the swap is at
// most a tenth of the disk space, when that is known (`disk_mib`, 0: not known).
inline std::uint64_t recommended_swap_mib(std::uint64_t memory_mib, bool hibernation = false, std::uint64_t disk_mib = 0) {
    std::uint64_t swap = memory_mib < 2048 ? 2 * memory_mib : memory_mib < 8192 ? memory_mib
                                                            : memory_mib < 65536 ? memory_mib / 2 : 4096;
    if (hibernation && memory_mib <= 65536) swap += memory_mib;
    if (!hibernation && disk_mib && swap > disk_mib / 10) swap = disk_mib / 10;
    return swap;
}

namespace detail {

[[noreturn]] inline void refuse(const kickstart::Origin& origin, const std::string& message) {
    if (!origin.file.empty()) throw KickstartError(origin.file, origin.line, message);
    throw ConfigError(message);
}

// The storage commands this layout cannot serve, refused before anything else.
inline void refuse_unsupported(const kickstart::Kickstart& ks) {
    if (!ks.raids.empty())
        refuse(ks.raids.front().origin, "raid: software RAID needs md devices, which a disk image made from files "
                                        "has none of: give each filesystem its own part line");
    if (ks.autopart) {
        const auto& a = *ks.autopart;
        if (a.type == "thinp")
            refuse(a.origin, "autopart --type=thinp: a thin pool's volumes are written by device-mapper's thin target, "
                             "which a disk image made from files has none of: write autopart --type=lvm (or plain, or "
                             "btrfs)");
        if (a.encrypted)
            refuse(a.origin, "autopart --encrypted needs device-mapper (LUKS), which a disk image made from files has none "
                             "of: drop --encrypted");
        if (!ks.partitions.empty() || !ks.btrfs.empty() || !ks.volgroups.empty() || !ks.logvols.empty())
            refuse(a.origin, "autopart lays out the whole disk: drop it or the part, btrfs, volgroup and logvol lines");
    }
}

inline LabelType label_type(const kickstart::Kickstart& ks) {
    if (!ks.clearpart || ks.clearpart->disklabel.empty()) return LabelType::gpt;
    const auto& l = ks.clearpart->disklabel;
    if (l == "gpt") return LabelType::gpt;
    if (l == "msdos" || l == "mbr" || l == "dos") return LabelType::dos;
    refuse(ks.clearpart->origin, "clearpart --disklabel=" + l + ": a disk image gets gpt or msdos");
}

// A part line as a request: its content, type and size checked.
inline Partition request_from(const kickstart::PartitionData& p, const LayoutOptions& options) {
    Partition r;
    r.origin = p.origin;
    const std::string& mp = p.mountpoint;
    const std::string line = "part " + mp;
    if (mp.rfind("raid.", 0) == 0) refuse(p.origin, line + ": a RAID member; software RAID is not made in disk images");
    if (!p.onpart.empty() || !p.format || p.resize)
        refuse(p.origin, line + ": --onpart, --noformat, --useexisting and --resize name partitions that already exist; "
                                "a disk image is new: drop them");
    if (p.encrypted)
        refuse(p.origin, line + ": --encrypted needs device-mapper (LUKS), which a disk image made from files has none "
                                "of: drop --encrypted");
    if (!p.onbiosdisk.empty()) refuse(p.origin, line + ": --onbiosdisk names a BIOS disk number; use --ondisk=sda");

    std::string fstype = p.fstype;
    const bool member = mp.rfind("btrfs.", 0) == 0;
    if (member) {
        if (!fstype.empty() && fstype != "btrfs")
            refuse(p.origin, line + " --fstype=" + fstype + ": a btrfs volume's member holds btrfs");
        fstype = "btrfs";
        r.volume = mp;
    }
    if (mp.rfind("pv.", 0) == 0) {
        if (!fstype.empty() && fstype != "lvmpv")
            refuse(p.origin, line + " --fstype=" + fstype + ": an LVM physical volume holds its volume group");
        fstype = "lvmpv";
        r.content = Content::pv;
        r.physical_volume = mp;
    }
    if (mp == "swap") fstype = "swap";
    if (mp == "biosboot") fstype = "biosboot";
    if (mp == "prepboot") fstype = "prepboot";
    if (fstype.empty()) fstype = "ext4";
    if (fstype == "efi") {
        r.content = Content::esp;
        fstype = "vfat";
    } else if (fstype == "swap") {
        r.content = Content::swap;
    } else if (fstype == "biosboot") {
        r.content = Content::biosboot;
    } else if (fstype == "prepboot") {
        r.content = Content::prepboot;
    } else if (fstype == "vfat" && mp == "/boot/efi") {
        r.content = Content::esp;
    }
    static const char* known[] = {"ext4", "ext3", "ext2", "xfs", "btrfs", "vfat", "swap", "biosboot", "prepboot", "lvmpv"};
    if (std::find(std::begin(known), std::end(known), fstype) == std::end(known))
        refuse(p.origin, line + " --fstype=" + fstype + ": a disk image makes ext4, ext3, ext2, xfs, btrfs, vfat, efi, "
                                "swap, biosboot and prepboot partitions");
    if (r.content == Content::swap && p.fstype == "swap" && mp != "swap")
        refuse(p.origin, line + " --fstype=swap: swap is not mounted; write 'part swap'");
    if (r.content == Content::biosboot && mp != "biosboot" && !mp.empty())
        refuse(p.origin, line + " --fstype=biosboot: a biosboot partition has no mount point; write 'part biosboot "
                                "--fstype=biosboot --size=1'");
    if (r.content == Content::prepboot && mp != "prepboot" && !mp.empty())
        refuse(p.origin, line + " --fstype=prepboot: a PReP boot partition has no mount point; write 'part prepboot "
                                "--fstype=prepboot --size=4'");
    if (r.content == Content::filesystem && fstype == "lvmpv")
        refuse(p.origin, line + " --fstype=lvmpv: an LVM physical volume is named pv.NN: write 'part pv.01 --size=...' and "
                                "'volgroup NAME pv.01'");
    if ((r.content == Content::filesystem || r.content == Content::esp) && !member && (mp.empty() || mp.front() != '/'))
        refuse(p.origin, "part " + mp + ": the mount point of a filesystem starts with /");
    r.fstype = fstype;
    if ((r.content == Content::filesystem || r.content == Content::esp) && !member) r.mountpoint = mp;

    if (p.size && *p.size <= 0) refuse(p.origin, line + " --size=" + std::to_string(*p.size) + ": give the size in MiB");
    if (p.maxsize < 0) refuse(p.origin, line + " --maxsize=" + std::to_string(p.maxsize) + ": give the size in MiB");
    // anaconda sizes a --recommended or --hibernation swap itself: its --size and --grow are not read.
    const bool suggested = r.content == Content::swap && (p.recommended || p.hibernation);
    if (suggested) {
        std::uint64_t disks_mib = 0;
        for (const auto& [name, size] : options.disk_size_mib) disks_mib += size;
        r.base_mib = std::max<std::uint64_t>(1, recommended_swap_mib(options.memory_mib, p.hibernation, disks_mib));
    } else if (p.size) r.base_mib = static_cast<std::uint64_t>(*p.size);
    else if (r.content == Content::biosboot) r.base_mib = 1;
    else if (r.content == Content::prepboot) r.base_mib = 4;
    else r.base_mib = 500;  // blivet's default partition size
    r.grow = p.grow && !suggested;
    r.max_mib = r.grow ? static_cast<std::uint64_t>(p.maxsize) : 0;
    if (r.max_mib && r.max_mib < r.base_mib)
        refuse(p.origin, line + ": --maxsize=" + std::to_string(r.max_mib) + " is smaller than --size=" +
                             std::to_string(r.base_mib));
    if (r.content == Content::prepboot && r.base_mib > 10)
        refuse(p.origin, line + ": " + std::to_string(r.base_mib) + " MiB is more than the 10 MiB a PReP boot partition "
                                "may have: give --size=4");
    const auto minimum = minimum_size_mib(fstype);
    if (r.base_mib < minimum)
        refuse(p.origin, line + ": " + std::to_string(r.base_mib) + " MiB is too small for " + fstype + ", which needs at least " +
                             std::to_string(minimum) + " MiB");
    r.label = p.label;
    r.fsoptions = p.fsoptions;
    r.mkfsoptions = p.mkfsoptions;
    r.asprimary = p.asprimary;
    return r;
}

// reqpart: what the boot loader needs on this platform (x86_64 booting from BIOS and UEFI), for
// whichever of them the kickstart did not ask for itself.
inline std::vector<Partition> platform_requests(const kickstart::ReqPart& reqpart, LabelType label,
                                                const std::vector<Partition>& asked) {
    auto has = [&](Content c, const std::string& mp) {
        return std::any_of(asked.begin(), asked.end(), [&](const Partition& p) {
            return p.content == c && (mp.empty() || p.mountpoint == mp);
        });
    };
    std::vector<Partition> out;
    if (label == LabelType::gpt && !has(Content::biosboot, "")) {
        Partition p;
        p.fstype = "biosboot";
        p.content = Content::biosboot;
        p.base_mib = 1;
        out.push_back(p);
    }
    if (!has(Content::esp, "")) {
        Partition p;
        p.mountpoint = "/boot/efi";
        p.fstype = "vfat";
        p.content = Content::esp;
        p.base_mib = 500;
        p.max_mib = 600;
        p.grow = true;
        out.push_back(p);
    }
    if (reqpart.add_boot && !has(Content::filesystem, "/boot")) {
        Partition p;
        p.mountpoint = "/boot";
        p.fstype = "ext4";
        p.base_mib = 1024;
        out.push_back(p);
    }
    return out;
}

// anaconda's weights: the boot loader's partitions go first, then /boot.
inline int weight(const Partition& p) {
    if (p.content == Content::biosboot || p.content == Content::esp) return 5000;
    if (p.mountpoint == "/boot") return 2000;
    return 0;
}

inline void sort_requests(std::vector<Partition>& parts) {
    std::stable_sort(parts.begin(), parts.end(), [](const Partition& a, const Partition& b) {
        if (weight(a) != weight(b)) return weight(a) > weight(b);
        if (a.asprimary != b.asprimary) return a.asprimary;
        if (a.grow != b.grow) return !a.grow;
        return a.base_mib > b.base_mib;
    });
}

// anaconda's growth: the free space is shared among the growing partitions in proportion to
// their base sizes; one that reaches its --maxsize stops there and what it leaves is shared
// again among the others.
inline void grow_requests(std::vector<Partition>& parts, std::uint64_t free_mib) {
    for (auto& p : parts) p.size_mib = p.base_mib;
    std::vector<Partition*> growing;
    for (auto& p : parts)
        if (p.grow) growing.push_back(&p);
    while (free_mib > 0 && !growing.empty()) {
        std::uint64_t base_total = 0;
        for (auto* p : growing) base_total += p->base_mib;
        std::uint64_t handed = 0;
        std::vector<Partition*> still;
        for (auto* p : growing) {
            std::uint64_t share = free_mib * p->base_mib / base_total;
            const std::uint64_t room = p->max_mib ? p->max_mib - p->size_mib : UINT64_MAX;
            if (share >= room) share = room;
            else still.push_back(p);
            p->size_mib += share;
            handed += share;
        }
        free_mib -= handed;
        if (still.size() == growing.size() && handed == 0) {
            // Rounding left less than one MiB per partition: the rest to the first ones.
            for (auto* p : still) {
                if (free_mib == 0) break;
                ++p->size_mib;
                --free_mib;
            }
            break;
        }
        growing = std::move(still);
    }
}

inline std::string describe(const Partition& p) {
    if (p.content == Content::swap) return "swap";
    if (p.content == Content::biosboot) return "biosboot";
    if (p.content == Content::prepboot) return "prepboot";
    if (p.content == Content::pv) return p.physical_volume;
    if (p.mountpoint.empty() && !p.volume.empty()) return p.volume;
    if (p.mountpoint.empty() && !p.logical_volume.empty()) return "logical volume " + p.logical_volume;
    return p.mountpoint;
}

inline std::string mib(std::uint64_t v) { return std::to_string(v) + " MiB"; }

// Table numbers, logical partitions and offsets, for partitions already sized and ordered.
inline void place(Disk& disk) {
    auto& parts = disk.partitions;
    const bool extended = disk.label == LabelType::dos && parts.size() > 4;
    if (extended) {
        // Three primary partitions: every --asprimary one, and the first others in order; the rest are
        // logical, after them in the extended partition. (The boot loader's and /boot sort before
        // --asprimary ones, and give way to them here.)
        const auto asked = static_cast<std::size_t>(std::count_if(parts.begin(), parts.end(), [](const Partition& p) { return p.asprimary; }));
        if (asked > 3) {
            const auto fourth = std::find_if(parts.begin(), parts.end(), [n = 0](const Partition& p) mutable {
                return p.asprimary && ++n == 4;
            });
            refuse(fourth->origin, "part " + describe(*fourth) + " --asprimary: an msdos disk has four primary "
                                   "partitions, and with more than four partitions one of them is the extended "
                                   "partition: at most three may be --asprimary");
        }
        std::size_t others = 3 - asked;
        for (auto& p : parts) {
            if (p.asprimary) continue;
            if (others > 0) --others;
            else p.logical = true;
        }
        std::stable_partition(parts.begin(), parts.end(), [](const Partition& p) { return !p.logical; });
    }
    std::uint64_t at = 1;  // the table, and the first MiB boundary
    int number = 1;
    for (auto& p : parts) {
        if (p.logical && disk.extended_number == 0) {
            disk.extended_number = number++;
            disk.extended_start_mib = at;
            number = 5;
        }
        if (p.logical) at += 1;  // each logical partition's EBR, on its own MiB
        p.start_mib = at;
        p.number = number++;
        at += p.size_mib;
    }
    if (disk.extended_number) disk.extended_size_mib = at - disk.extended_start_mib;
}

// MiB a disk needs besides its partitions' sizes: the table in front, the backup GPT behind, an
// EBR before each logical partition.
inline std::uint64_t overhead_mib(const Disk& disk) {
    std::uint64_t extra = 1 + (disk.label == LabelType::gpt ? 1 : 0);
    if (disk.label == LabelType::dos && disk.partitions.size() > 4) extra += disk.partitions.size() - 3;
    return extra;
}

// A subvolume's name is its path from the volume's top level, an argument of mkfs.btrfs --subvol:
// plain names joined by '/' (root/var/log is a subvolume inside subvolume root, or inside a
// directory root when no subvolume has that name).
inline void check_subvolume_name(const kickstart::BtrfsData& b) {
    const auto& n = b.name;
    bool plain = !n.empty() && n.find(':') == std::string::npos && n.front() != '-';
    for (std::size_t at = 0; plain && at <= n.size();) {
        const auto end = std::min(n.find('/', at), n.size());
        const auto part = n.substr(at, end - at);
        plain = !part.empty() && part != "." && part != "..";
        at = end + 1;
    }
    if (!plain)
        refuse(b.origin, "btrfs " + b.mountpoint + " --subvol --name=" + n + ": a subvolume's name is its path from the "
                         "volume's top level: names joined by '/' (no ':', no empty, '.' or '..' part, no leading '-')");
}

inline std::string btrfs_level(const kickstart::BtrfsData& b, std::string level, const char* option) {
    for (auto& c : level) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!level.empty() && level != "single" && level != "dup")
        refuse(b.origin, "btrfs " + b.mountpoint + " " + option + "=" + level + ": a volume on one member has the profile "
                         "single; " + level + " needs several devices");
    return level;
}

// The kickstart's btrfs lines as volumes with their subvolumes, each volume on one member.
inline std::vector<BtrfsVolume> plan_volumes(const kickstart::Kickstart& ks, const std::vector<Partition>& requests) {
    std::vector<BtrfsVolume> volumes;
    for (const auto& b : ks.btrfs) {
        if (!b.format || b.useexisting)
            refuse(b.origin, "btrfs " + b.mountpoint + ": --noformat and --useexisting name a volume that already exists; "
                             "a disk image is new: drop them");
        if (b.subvol) continue;
        if (b.devices.size() != 1)
            refuse(b.origin, "btrfs " + b.mountpoint + ": a volume of " + std::to_string(b.devices.size()) +
                             " members is not made in disk images (its filesystem is made from the tree on one "
                             "partition): give it one part btrfs.NN member");
        const auto& member = b.devices.front();
        const bool known = std::any_of(requests.begin(), requests.end(), [&](const Partition& p) { return p.volume == member; });
        if (!known)
            refuse(b.origin, "btrfs " + b.mountpoint + ": its member " + member + " has no 'part " + member +
                             " --size=SIZE_IN_MIB' line");
        for (const auto& v : volumes)
            if (v.member == member)
                refuse(b.origin, "btrfs " + b.mountpoint + ": " + member + " is already the member of the volume on line " +
                                 std::to_string(v.origin.line));
        BtrfsVolume v;
        v.member = member;
        v.mountpoint = b.mountpoint == "none" ? "" : b.mountpoint;
        if (!v.mountpoint.empty() && v.mountpoint.front() != '/')
            refuse(b.origin, "btrfs " + b.mountpoint + ": the mount point of a volume starts with /, or is none");
        v.label = b.label;
        v.data_level = btrfs_level(b, b.data_level, "--data");
        v.metadata_level = btrfs_level(b, b.metadata_level, "--metadata");
        v.mkfsoptions = b.mkfsoptions;
        v.origin = b.origin;
        volumes.push_back(std::move(v));
    }
    for (const auto& b : ks.btrfs) {
        if (!b.subvol) continue;
        check_subvolume_name(b);
        const auto& parent = b.devices.front();
        auto v = std::find_if(volumes.begin(), volumes.end(), [&](const BtrfsVolume& x) {
            return x.member == parent || (!x.label.empty() && (parent == x.label || parent == "LABEL=" + x.label));
        });
        if (v == volumes.end()) {
            std::string names;
            for (const auto& x : volumes) names += (names.empty() ? "" : ", ") + (x.label.empty() ? x.member : x.label);
            refuse(b.origin, "btrfs " + b.mountpoint + " --subvol: no volume is named " + parent + " (" +
                             (names.empty() ? std::string("there is no btrfs volume line") : "the volumes: " + names) +
                             "); name the parent by its --label, as LABEL=label, or by its member btrfs.NN");
        }
        for (const auto& s : v->subvolumes)
            if (s.name == b.name)
                refuse(b.origin, "btrfs " + b.mountpoint + " --subvol --name=" + b.name + ": the volume has a subvolume of "
                                 "that name already (line " + std::to_string(s.origin.line) + ")");
        Subvolume sub;
        sub.name = b.name;
        sub.mountpoint = b.mountpoint == "none" ? "" : b.mountpoint;
        if (!sub.mountpoint.empty() && sub.mountpoint.front() != '/')
            refuse(b.origin, "btrfs " + b.mountpoint + ": the mount point of a subvolume starts with /, or is none");
        sub.origin = b.origin;
        v->subvolumes.push_back(std::move(sub));
    }
    for (const auto& r : requests)
        if (!r.volume.empty() &&
            std::none_of(volumes.begin(), volumes.end(), [&](const BtrfsVolume& v) { return v.member == r.volume; }))
            refuse(r.origin, "part " + r.volume + ": a btrfs member needs its volume: add 'btrfs none --label=NAME " +
                             r.volume + "' (and btrfs / --subvol --name=root NAME for its subvolumes)");
    return volumes;
}

// A volume group's or logical volume's name as LVM takes it.
inline void check_lvm_name(const kickstart::Origin& origin, const std::string& line, const std::string& name) {
    bool fine = !name.empty() && name.size() <= 127 && name.front() != '-' && name != "." && name != "..";
    for (char c : name) fine = fine && (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '_' || c == '.' || c == '-');
    if (!fine)
        refuse(origin, line + ": '" + name + "' is not a name LVM takes: letters, digits and + _ . -, not starting with -");
}

// The kickstart's volgroup and logvol lines as volume groups, each on one physical volume, their
// logical volumes with the sizes they ask for (growing and --percent ones are sized with the disk).
inline std::vector<VolumeGroup> plan_groups(const kickstart::Kickstart& ks, const std::vector<Partition>& requests,
                                            const LayoutOptions& options) {
    std::vector<VolumeGroup> groups;
    for (const auto& v : ks.volgroups) {
        const std::string line = "volgroup " + v.name;
        if (!v.format || v.useexisting)
            refuse(v.origin, line + ": --noformat and --useexisting name a volume group that already exists; a disk image is "
                             "new: drop them");
        check_lvm_name(v.origin, line, v.name);
        for (const auto& g : groups)
            if (g.name == v.name)
                refuse(v.origin, line + " is given twice (the first on line " + std::to_string(g.origin.line) + ")");
        if (v.physvols.size() != 1)
            refuse(v.origin, line + ": " + (v.physvols.empty() ? std::string("name its physical volume (volgroup ") + v.name +
                                                                     " pv.01, with part pv.01 --size=... --grow)"
                                                               : "a volume group is made here on one physical volume, and "
                                                                 "this one names " + std::to_string(v.physvols.size()) +
                                                                 ": give it one part pv.NN line, growing (--grow) or as large "
                                                                 "as they were together"));
        const auto& pv = v.physvols.front();
        const bool exists = std::any_of(requests.begin(), requests.end(), [&](const Partition& r) { return r.physical_volume == pv; });
        if (!exists) refuse(v.origin, line + " " + pv + ": no part line makes " + pv + " (add part " + pv + " --size=... --grow)");
        for (const auto& g : groups)
            if (g.member == pv)
                refuse(v.origin, line + " " + pv + ": " + pv + " holds volume group " + g.name + " already (line " +
                                 std::to_string(g.origin.line) + ")");
        VolumeGroup g;
        g.name = v.name;
        g.member = pv;
        g.origin = v.origin;
        if (v.pesize && *v.pesize != 0) {  // 0: pykickstart's "not given"
            // --pesize is in KiB; extents of whole MiB keep every logical volume on a MiB boundary.
            const long long kib = *v.pesize;
            if (kib < 1024 || kib % 1024 != 0 || ((kib / 1024) & (kib / 1024 - 1)) != 0)
                refuse(v.origin, line + " --pesize=" + std::to_string(kib) + ": give the extent size in KiB, a power of two "
                                 "of whole MiB (1024, 2048, 4096 ...; LVM's default is 4096)");
            g.extent_mib = static_cast<std::uint64_t>(kib / 1024);
        }
        groups.push_back(std::move(g));
    }
    for (const auto& l : ks.logvols) {
        const std::string line = "logvol " + l.mountpoint;
        if (!l.format || l.useexisting)
            refuse(l.origin, line + ": --noformat and --useexisting name a logical volume that already exists; a disk image "
                             "is new: drop them");
        if (l.thin || l.thinpool)
            refuse(l.origin, line + ": thin volumes are written by device-mapper's thin target, which a disk image made from "
                             "files has none of: drop --thin and --thinpool");
        if (l.encrypted)
            refuse(l.origin, line + ": --encrypted needs device-mapper (LUKS), which a disk image made from files has none "
                             "of: drop --encrypted");
        auto g = std::find_if(groups.begin(), groups.end(), [&](const VolumeGroup& x) { return x.name == l.vgname; });
        if (g == groups.end())
            refuse(l.origin, line + " --vgname=" + l.vgname + ": " +
                             (l.vgname.empty() ? std::string("name the volume group (--vgname)")
                                               : "no volgroup line makes " + l.vgname));
        check_lvm_name(l.origin, line + " --name", l.name);
        for (const auto& x : g->volumes)
            if (x.logical_volume == l.name)
                refuse(l.origin, line + " --name=" + l.name + ": volume group " + g->name + " has a logical volume of that "
                                 "name already (line " + std::to_string(x.origin.line) + ")");
        Partition r;
        r.origin = l.origin;
        r.logical_volume = l.name;
        r.volume_group = g->name;
        std::string fstype = l.mountpoint == "swap" ? "swap" : l.fstype.empty() ? "ext4" : l.fstype;
        if (fstype == "swap" && l.mountpoint != "swap")
            refuse(l.origin, line + " --fstype=swap: swap is not mounted; write 'logvol swap'");
        if (fstype == "swap") r.content = Content::swap;
        static const char* known[] = {"ext4", "ext3", "ext2", "xfs", "btrfs", "swap"};
        if (std::find(std::begin(known), std::end(known), fstype) == std::end(known))
            refuse(l.origin, line + " --fstype=" + fstype + ": a logical volume here holds ext4, ext3, ext2, xfs, btrfs or "
                             "swap");
        if (r.content == Content::filesystem && (l.mountpoint.empty() || l.mountpoint.front() != '/'))
            refuse(l.origin, line + ": the mount point of a filesystem starts with / (or write 'logvol swap' for swap)");
        if (r.content == Content::filesystem && l.mountpoint == "/boot/efi")
            refuse(l.origin, line + ": the firmware reads the EFI system partition, which is a partition: write 'part "
                             "/boot/efi --fstype=efi' (or reqpart)");
        if (r.content == Content::filesystem) r.mountpoint = l.mountpoint;
        r.fstype = fstype;
        const bool suggested = r.content == Content::swap && l.recommended;
        if (l.size && *l.size <= 0) refuse(l.origin, line + " --size=" + std::to_string(*l.size) + ": give the size in MiB");
        if (suggested) {
            std::uint64_t disks_mib = 0;
            for (const auto& [name, size] : options.disk_size_mib) disks_mib += size;
            r.base_mib = std::max<std::uint64_t>(1, recommended_swap_mib(options.memory_mib, false, disks_mib));
        } else if (l.percent && *l.percent != 0) {  // 0: pykickstart's "not given"
            if (*l.percent <= 0 || *l.percent > 100)
                refuse(l.origin, line + " --percent=" + std::to_string(*l.percent) + ": give a percentage from 1 to 100");
            r.percent = static_cast<int>(*l.percent);
        } else if (l.size) {
            r.base_mib = static_cast<std::uint64_t>(*l.size);
        } else {
            refuse(l.origin, line + ": give the logical volume's size (--size=MiB, --percent=N or, for swap, --recommended)");
        }
        r.grow = l.grow && !suggested && !r.percent;
        r.max_mib = r.grow ? static_cast<std::uint64_t>(l.maxsize) : 0;
        if (r.max_mib && r.max_mib < r.base_mib)
            refuse(l.origin, line + ": --maxsize=" + std::to_string(r.max_mib) + " is smaller than --size=" +
                             std::to_string(r.base_mib));
        if (!r.percent && r.base_mib < minimum_size_mib(fstype))
            refuse(l.origin, line + ": " + std::to_string(r.base_mib) + " MiB is too small for " + fstype + ", which needs at "
                             "least " + std::to_string(minimum_size_mib(fstype)) + " MiB");
        r.label = l.label;
        r.fsoptions = l.fsoptions;
        r.mkfsoptions = l.mkfsoptions;
        g->volumes.push_back(std::move(r));
    }
    for (const auto& r : requests)
        if (!r.physical_volume.empty() &&
            std::none_of(groups.begin(), groups.end(), [&](const VolumeGroup& g) { return g.member == r.physical_volume; }))
            refuse(r.origin, "part " + r.physical_volume + ": an LVM physical volume needs its volume group: add 'volgroup "
                             "NAME " + r.physical_volume + "' (and logvol / --vgname=NAME --name=root --size=... for its "
                             "logical volumes)");
    return groups;
}

inline std::uint64_t extents_for(std::uint64_t mib, std::uint64_t extent_mib) { return (mib + extent_mib - 1) / extent_mib; }

// What a group's physical volume must hold: LVM's metadata and every fixed size in whole extents.
inline std::uint64_t group_needs_mib(const VolumeGroup& g) {
    std::uint64_t extents = 0;
    for (const auto& lv : g.volumes) extents += extents_for(lv.base_mib, g.extent_mib);
    return lvm_data_offset_mib + extents * g.extent_mib;
}

// The logical volumes sized in the extents their physical volume gives (`pv`, placed on its
// disk) and laid out one after the other: the fixed sizes, then the --percent ones out of what
// those leave, then the growing ones sharing the rest as partitions share a disk.
inline void size_group(VolumeGroup& g, const Partition& pv) {
    const auto ext = g.extent_mib;
    g.extents = (pv.size_mib - lvm_data_offset_mib) / ext;
    std::uint64_t fixed = 0;
    for (const auto& lv : g.volumes) fixed += extents_for(lv.base_mib, ext);
    if (fixed > g.extents) {
        std::string sizes;
        for (const auto& lv : g.volumes) sizes += (sizes.empty() ? "" : ", ") + lv.logical_volume + " " + mib(lv.base_mib);
        refuse(g.origin, "volgroup " + g.name + ": its logical volumes need " + mib(fixed * ext) + " (" + sizes + "), and " +
                         pv.physical_volume + " holds " + mib(g.extents * ext) + " of extents (" + mib(pv.size_mib) +
                         " less 1 MiB of LVM metadata): make " + pv.physical_volume + " larger or the volumes smaller");
    }
    const std::uint64_t left = g.extents - fixed;
    std::uint64_t taken = fixed;
    int percents = 0;
    for (auto& lv : g.volumes) {
        if (!lv.percent) continue;
        percents += lv.percent;
        if (percents > 100)
            refuse(lv.origin, "logvol " + describe(lv) + " --percent=" + std::to_string(lv.percent) + ": the --percent "
                              "values of volume group " + g.name + "'s logical volumes add up to " + std::to_string(percents) +
                              ", more than the 100 percent there is");
        const std::uint64_t extents = left * static_cast<std::uint64_t>(lv.percent) / 100;
        lv.base_mib = extents * ext;
        if (lv.base_mib < minimum_size_mib(lv.fstype))
            refuse(lv.origin, "logvol " + describe(lv) + " --percent=" + std::to_string(lv.percent) + ": that is " +
                              mib(lv.base_mib) + " of the " + mib(left * ext) + " volume group " + g.name + " has beside "
                              "its fixed sizes, too small for " + lv.fstype + ": give " +
                              (pv.grow ? "--disk-size, " : "") + "a larger " + pv.physical_volume + " or --size");
        taken += extents;
    }
    // growth in extents
    std::vector<Partition> in_extents;
    for (const auto& lv : g.volumes) {
        Partition e;
        e.base_mib = lv.percent ? lv.base_mib / ext : extents_for(lv.base_mib, ext);
        e.max_mib = lv.max_mib ? std::max<std::uint64_t>(lv.max_mib / ext, e.base_mib) : 0;
        e.grow = lv.grow;
        in_extents.push_back(e);
    }
    grow_requests(in_extents, g.extents - taken);
    std::uint64_t at = 0;
    for (std::size_t i = 0; i < g.volumes.size(); ++i) {
        auto& lv = g.volumes[i];
        lv.size_mib = in_extents[i].size_mib * ext;
        lv.start_mib = pv.start_mib + lvm_data_offset_mib + at * ext;
        at += in_extents[i].size_mib;
    }
}

// The mount points of the partitions and volumes, each once.
inline void refuse_twice_mounted(const std::vector<Partition>& requests, const std::vector<BtrfsVolume>& volumes,
                                 const std::vector<VolumeGroup>& groups = {}) {
    std::map<std::string, int> line_of;
    auto note = [&](const std::string& mp, const kickstart::Origin& origin, const std::string& what) {
        if (mp.empty()) return;
        auto [it, fresh] = line_of.emplace(mp, origin.line);
        if (!fresh) refuse(origin, what + " " + mp + " is given twice (the first on line " + std::to_string(it->second) + ")");
    };
    for (const auto& r : requests) note(r.mountpoint, r.origin, "part");
    for (const auto& g : groups)
        for (const auto& lv : g.volumes) note(lv.mountpoint, lv.origin, "logvol");
    for (const auto& v : volumes) {
        note(v.mountpoint, v.origin, "btrfs");
        for (const auto& s : v.subvolumes) note(s.mountpoint, s.origin, "btrfs");
    }
}

// autopart --type=plain|btrfs as anaconda lays out Fedora, as the kickstart lines it stands for.
inline kickstart::Kickstart with_autopart(const kickstart::Kickstart& ks, const LayoutOptions& options) {
    kickstart::Kickstart out = ks;
    const auto& a = *ks.autopart;
    out.autopart.reset();
    out.reqpart = kickstart::ReqPart{!a.noboot, a.origin};
    auto part = [&](const std::string& mp, const std::string& fstype, long long size, bool grow, long long maxsize) {
        kickstart::PartitionData p;
        p.mountpoint = mp;
        p.fstype = fstype;
        p.size = size;
        p.grow = grow;
        p.maxsize = maxsize;
        p.origin = a.origin;
        out.partitions.push_back(p);
    };
    const bool btrfs = a.type == "btrfs";
    const bool lvm = a.type == "lvm" || a.type.empty();
    const std::string fstype = a.fstype.empty() ? "ext4" : a.fstype;
    static const char* root_types[] = {"ext4", "ext3", "ext2", "xfs", "btrfs"};
    if (!btrfs && std::find(std::begin(root_types), std::end(root_types), fstype) == std::end(root_types))
        refuse(a.origin, "autopart --fstype=" + fstype + ": autopart makes / and /boot of ext4, ext3, ext2, xfs or btrfs");
    if (!a.noboot && !btrfs && !a.fstype.empty()) {
        // reqpart --add-boot's /boot, in autopart's filesystem type
        out.reqpart->add_boot = false;
        part("/boot", fstype, 1024, false, 0);
    }
    if (btrfs) {
        part("btrfs.autopart", "btrfs", 1024, true, 0);
        out.partitions.back().fsoptions = "compress=zstd:1";  // Fedora's btrfs_compression
        auto line = [&](const std::string& mp, bool subvol, const std::string& name, const std::string& label) {
            kickstart::BtrfsData b;
            b.mountpoint = mp;
            b.subvol = subvol;
            b.name = name;
            b.label = label;
            b.devices = {subvol ? std::string("fedora") : std::string("btrfs.autopart")};
            b.origin = a.origin;
            out.btrfs.push_back(b);
        };
        line("none", false, "", "fedora");
        line("/", true, "root", "");
        if (!a.nohome) line("/home", true, "home", "");
        return out;
    }
    // /home of its own only where the disk leaves it 50 GiB.
    const auto size = options.disk_size_mib.find(options.default_disk);
    const std::uint64_t taken = 1024 + 600 + 2 + 1 + (a.noboot ? 0 : 1024) + (lvm ? lvm_data_offset_mib + 8 : 0);
    const bool home = !a.nohome && size != options.disk_size_mib.end() && size->second >= taken + 500 + 50 * 1024;
    if (lvm) {
        // a physical volume filling the disk, volume group fedora, logical volumes root and home
        part("pv.autopart", "", 1024, true, 0);
        kickstart::VolGroupData vg;
        vg.name = "fedora";
        vg.physvols = {"pv.autopart"};
        vg.origin = a.origin;
        out.volgroups.push_back(vg);
        auto logvol = [&](const std::string& mp, const std::string& name, long long lv_size, long long maxsize) {
            kickstart::LogVolData lv;
            lv.mountpoint = mp;
            lv.name = name;
            lv.vgname = "fedora";
            lv.fstype = fstype;
            lv.size = lv_size;
            lv.grow = true;
            lv.maxsize = maxsize;
            lv.origin = a.origin;
            out.logvols.push_back(lv);
        };
        logvol("/", "root", 1024, 70 * 1024);
        if (home) logvol("/home", "home", 500, 0);
        return out;
    }
    part("/", fstype, 1024, true, 70 * 1024);
    if (home) part("/home", fstype, 500, true, 0);
    return out;
}

// What to say when a partition autopart laid out is full (`said`: "the image is full: raise part
// /boot --size (the tree holds ...)"): autopart has no --size to raise. A growing partition grows
// with the disk; the others are as large as anaconda makes them. Empty for anything else.
inline std::optional<std::string> autopart_full_message(const Layout& layout, const Partition& p, const std::string& said) {
    const std::string full = "the image is full: raise part ";
    const auto numbers = said.find(" (");
    if (!layout.autopart || said.rfind(full, 0) != 0 || numbers == std::string::npos) return std::nullopt;
    const bool grows = p.grow && (p.max_mib == 0 || p.size_mib < p.max_mib);
    return "the image is full: autopart's " + p.mountpoint +
           (grows ? " grows with the disk; give a larger --disk-size"
                  : " is " + mib(p.size_mib) + ", as large as anaconda makes it; lay the disk out with part lines " +
                        (layout.groups.empty() ? "" : "(and volgroup and logvol lines) ") + "instead of autopart, giving " +
                        p.mountpoint + " a larger --size") +
           said.substr(numbers);
}

}  // namespace detail

// The layout the kickstart asks for. Throws KickstartError (naming the line) or ConfigError for
// what cannot be made, before anything is.
inline Layout plan_layout(const kickstart::Kickstart& ks, const LayoutOptions& options = {}) {
    using namespace detail;
    refuse_unsupported(ks);
    if (ks.autopart) {
        auto layout = plan_layout(with_autopart(ks, options), options);
        layout.autopart = true;
        return layout;
    }
    const LabelType label = label_type(ks);

    std::vector<Partition> requests;
    std::vector<std::string> disk_names;  // each request's disk
    std::vector<std::string> notes;
    for (const auto& p : ks.partitions) {
        Partition r = request_from(p, options);
        for (const auto& q : requests)
            if (!r.volume.empty() && q.volume == r.volume)
                refuse(p.origin, "part " + r.volume + " is given twice (the first on line " + std::to_string(q.origin.line) + ")");
        if (r.content == Content::biosboot && label == LabelType::dos)
            refuse(p.origin, "part biosboot: a biosboot partition is for GPT disks; this disk is msdos (clearpart "
                             "--disklabel=msdos), where GRUB lives in the gap after the MBR: drop the line");
        // A later part line for a mount point replaces the earlier, as anaconda (and livecd-creator, reading
        // the root's size) takes them: a spin's kickstart resizes the / its base kickstart gave.
        if (!r.mountpoint.empty())
            for (std::size_t i = 0; i < requests.size(); ++i)
                if (requests[i].mountpoint == r.mountpoint) {
                    notes.push_back(p.origin.file + ":" + std::to_string(p.origin.line) + ": part " + r.mountpoint +
                                    " replaces the part " + r.mountpoint + " of line " + std::to_string(requests[i].origin.line));
                    requests.erase(requests.begin() + static_cast<std::ptrdiff_t>(i));
                    disk_names.erase(disk_names.begin() + static_cast<std::ptrdiff_t>(i));
                    break;
                }
        if (r.content == Content::swap && (p.recommended || p.hibernation))
            notes.push_back(p.origin.file + ":" + std::to_string(p.origin.line) + ": part swap --" +
                            (p.hibernation ? "hibernation" : "recommended") + " is " + mib(r.base_mib) +
                            ", as anaconda suggests for " + mib(options.memory_mib) + " of memory (--vmem)" +
                            (p.size || p.grow ? "; its --size and --grow are not read" : ""));
        if (r.content == Content::prepboot)
            notes.push_back(p.origin.file + ":" + std::to_string(p.origin.line) + ": part prepboot is made empty, as anaconda "
                            "makes it: PowerPC firmware reads a PReP boot partition, x86_64 firmware never does");
        disk_names.push_back(p.ondisk.empty() ? options.default_disk : p.ondisk);
        requests.push_back(std::move(r));
    }
    std::vector<std::string> disk_order;  // in the order the kickstart first names them
    for (const auto& name : disk_names)
        if (std::find(disk_order.begin(), disk_order.end(), name) == disk_order.end()) disk_order.push_back(name);
    auto volumes = plan_volumes(ks, requests);
    auto groups = plan_groups(ks, requests, options);
    refuse_twice_mounted(requests, volumes, groups);
    // A growing physical volume holds at least what its logical volumes ask for (a disk made to
    // measure has no more to give it); a fixed one that cannot is refused with the numbers.
    for (const auto& g : groups)
        for (auto& r : requests) {
            if (r.physical_volume != g.member) continue;
            const auto need = group_needs_mib(g);
            if (r.base_mib >= need) continue;
            if (!r.grow) {
                std::string sizes;
                for (const auto& lv : g.volumes)
                    if (!lv.percent) sizes += ", " + lv.logical_volume + " " + mib(lv.base_mib);
                refuse(r.origin, "part " + r.physical_volume + " is " + mib(r.base_mib) + ", and the logical volumes of " +
                                 g.name + " need " + mib(need) + " (1 MiB of LVM metadata" + sizes + ", in " +
                                 mib(g.extent_mib) + " extents): give part " + r.physical_volume + " --size=" +
                                 std::to_string(need) + " or --grow");
            }
            if (r.max_mib && r.max_mib < need)
                refuse(r.origin, "part " + r.physical_volume + " --maxsize=" + std::to_string(r.max_mib) + ": the logical "
                                 "volumes of " + g.name + " need " + mib(need) + " (with 1 MiB of LVM metadata): give a "
                                 "--maxsize of " + std::to_string(need) + " or more");
            r.base_mib = need;
        }
    // The partition holding /: its own, or its btrfs volume's member.
    std::string root_member, root_pv;
    for (const auto& g : groups)
        for (const auto& lv : g.volumes)
            if (lv.mountpoint == "/") root_pv = g.member;
    for (const auto& v : volumes)
        if (v.mountpoint == "/" || std::any_of(v.subvolumes.begin(), v.subvolumes.end(),
                                               [](const Subvolume& s) { return s.mountpoint == "/"; }))
            root_member = v.member;
    const auto root = std::find_if(requests.begin(), requests.end(), [&](const Partition& p) {
        return p.mountpoint == "/" || (!root_member.empty() && p.volume == root_member) ||
               (!root_pv.empty() && p.physical_volume == root_pv);
    });
    if (root == requests.end()) {
        if (ks.partitions.empty() && !ks.reqpart)
            throw ConfigError("the kickstart has no part lines: a disk image needs at least 'part / --size=SIZE_IN_MIB'");
        throw ConfigError("the kickstart has no 'part /' line (nor a btrfs / volume or subvolume, nor a logvol /): a disk "
                          "image needs a root filesystem");
    }
    // The boot disk, where GRUB and reqpart's partitions go: bootloader --boot-drive's, else the disk of /.
    std::string boot_disk = disk_names[static_cast<std::size_t>(root - requests.begin())];
    if (ks.bootloader && !ks.bootloader->boot_drive.empty()) {
        std::string drive = ks.bootloader->boot_drive;
        if (drive.rfind("/dev/", 0) == 0) drive.erase(0, 5);
        const bool named = std::find(disk_order.begin(), disk_order.end(), drive) != disk_order.end();
        if (drive.empty() || drive.find('/') != std::string::npos || (!named && !ks.reqpart)) {
            std::string disks;
            for (const auto& d : disk_order) disks += (disks.empty() ? "" : ", ") + d;
            refuse(ks.bootloader->origin, "bootloader --boot-drive=" + ks.bootloader->boot_drive + ": no part line is on " +
                                              "that disk (the disks: " + disks + "); name one of them, as --ondisk names it" +
                                              (ks.reqpart ? "" : ", or add reqpart to put the boot loader's partitions there"));
        }
        boot_disk = drive;
    }
    if (ks.reqpart) {
        for (auto& r : platform_requests(*ks.reqpart, label, requests)) {
            r.origin = ks.reqpart->origin;
            requests.push_back(std::move(r));
            disk_names.push_back(boot_disk);
        }
    }

    // The boot disk first, the others in the order the kickstart names them.
    std::vector<std::string> order{boot_disk};
    for (const auto& d : disk_order)
        if (d != boot_disk) order.push_back(d);
    for (const auto& [name, size] : options.disk_size_mib)
        if (std::find(order.begin(), order.end(), name) == order.end())
            throw ConfigError("a size is given for disk " + name + ", and no part line is on it (--ondisk=" + name + ")");

    Layout layout;
    layout.volumes = std::move(volumes);
    layout.notes = std::move(notes);
    for (const auto& name : order) {
        Disk disk;
        disk.name = name;
        disk.label = label;
        for (std::size_t i = 0; i < requests.size(); ++i)
            if (disk_names[i] == name) disk.partitions.push_back(requests[i]);
        sort_requests(disk.partitions);
        if (label == LabelType::dos) {
            std::size_t primary_only = 0;
            for (const auto& p : disk.partitions) primary_only += p.asprimary ? 1 : 0;
            if (primary_only > 4)
                refuse(disk.partitions.front().origin, "disk " + name + ": " + std::to_string(primary_only) +
                                                           " partitions are --asprimary, and an msdos disk has four "
                                                           "primary partitions");
        }
        std::uint64_t needed = overhead_mib(disk);
        for (const auto& p : disk.partitions) needed += p.base_mib;
        std::uint64_t free_mib = 0;
        if (auto it = options.disk_size_mib.find(name); it != options.disk_size_mib.end()) {
            if (it->second < needed) {
                std::string parts;
                for (const auto& p : disk.partitions) parts += (parts.empty() ? "" : ", ") + describe(p) + " " + mib(p.base_mib);
                throw ConfigError("the partitions on disk " + name + " need " + mib(needed) + " (" + parts +
                                  ", and " + mib(overhead_mib(disk)) + " for the partition table), and the disk is " +
                                  mib(it->second) + ": make the disk larger or the partitions smaller");
            }
            disk.size_mib = it->second;
            free_mib = it->second - needed;
        }
        grow_requests(disk.partitions, free_mib);
        place(disk);
        if (!disk.size_mib) {
            disk.size_mib = overhead_mib(disk);
            for (const auto& p : disk.partitions) disk.size_mib += p.size_mib;
        }
        if (label == LabelType::dos && disk.size_mib > (std::uint64_t{2} << 20))
            throw ConfigError("disk " + name + " is " + mib(disk.size_mib) + ", and an msdos partition table addresses "
                              "2 TiB at most: use clearpart --disklabel=gpt");
        layout.disks.push_back(std::move(disk));
    }
    layout.groups = std::move(groups);
    for (auto& g : layout.groups) size_group(g, *layout.member_of(g));
    // GRUB reads the kernels from /boot, and anaconda keeps /boot off LVM (its stage2 device is a
    // partition, a RAID or btrfs): so does this.
    if (const auto* boot = layout.locate("/boot").first.partition; boot && !boot->logical_volume.empty())
        refuse(boot->origin, "logvol " + boot->mountpoint + ": /boot " + (boot->mountpoint == "/" ? "(inside /) " : "") +
                             "would be on LVM, and the boot loader reads the kernels from /boot on a partition, as "
                             "anaconda has it: add part /boot --size=1024 (or reqpart --add-boot)");
    return layout;
}

}  // namespace imgcreate::disk

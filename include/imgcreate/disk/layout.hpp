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
//                    (swap: anaconda's suggestion for the guest's memory)
//   reqpart          the platform's partitions the boot loader needs (x86_64, booting both ways:
//                    biosboot 1 MiB on GPT, and /boot/efi 500-600 MiB); --add-boot a 1 GiB /boot
//   clearpart        --disklabel gpt (the default) or msdos; the disks are new, so what it clears
//                    is empty anyway, as with zerombr
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
// Refused, with what to write instead: LVM (volgroup, logvol, autopart --type=lvm/thinp, part
// pv.*) and software RAID need device-mapper or md, which a disk made from files never has;
// encryption (LUKS needs device-mapper too); existing partitions (--onpart, --noformat,
// --useexisting, --resize); btrfs volumes and autopart, not yet made.
#pragma once

#include <imgcreate/kickstart/document.hpp>
#include <imgcreate/support/error.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace imgcreate::disk {

enum class LabelType { gpt, dos };

// What a partition holds.
enum class Content {
    filesystem,  // ext2/3/4, xfs, btrfs, vfat, mounted at its mount point
    esp,         // vfat, the EFI system partition (/boot/efi)
    swap,
    biosboot,    // GRUB's core.img on a GPT disk booted by a BIOS; no filesystem
};

struct Partition {
    std::string mountpoint;    // "/", "/boot", "/boot/efi", "/home"; empty for swap and biosboot
    std::string fstype;        // ext4, ext3, ext2, xfs, btrfs, vfat, swap, biosboot
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
    kickstart::Origin origin;     // the line that asked for it (none for reqpart's own)
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

    // The partition mounted at `mountpoint`, or null.
    const Partition* find(const std::string& mountpoint) const {
        for (const auto& d : disks)
            for (const auto& p : d.partitions)
                if (p.mountpoint == mountpoint) return &p;
        return nullptr;
    }
    const Disk* disk_of(const std::string& mountpoint) const {
        for (const auto& d : disks)
            for (const auto& p : d.partitions)
                if (p.mountpoint == mountpoint) return &d;
        return nullptr;
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
    return 8;  // ext*
}

// anaconda's suggested swap for a machine with `memory_mib` of memory.
inline std::uint64_t recommended_swap_mib(std::uint64_t memory_mib) {
    if (memory_mib < 2048) return 2 * memory_mib;
    if (memory_mib < 8192) return memory_mib;
    if (memory_mib < 65536) return memory_mib / 2;
    return 4096;
}

namespace detail {

[[noreturn]] inline void refuse(const kickstart::Origin& origin, const std::string& message) {
    if (!origin.file.empty()) throw KickstartError(origin.file, origin.line, message);
    throw ConfigError(message);
}

inline const char* lvm_refusal() {
    return "LVM needs device-mapper to write its volumes, and a disk image here is made from files with none: "
           "use part lines (part / --size=..., part /home --size=...) instead of volgroup/logvol";
}

// The storage commands this layout cannot serve, refused before anything else.
inline void refuse_unsupported(const kickstart::Kickstart& ks) {
    if (!ks.volgroups.empty()) refuse(ks.volgroups.front().origin, std::string("volgroup: ") + lvm_refusal());
    if (!ks.logvols.empty()) refuse(ks.logvols.front().origin, std::string("logvol: ") + lvm_refusal());
    if (!ks.raids.empty())
        refuse(ks.raids.front().origin, "raid: software RAID needs md devices, which a disk image made from files "
                                        "has none of: give each filesystem its own part line");
    if (!ks.btrfs.empty())
        refuse(ks.btrfs.front().origin, "btrfs volumes and subvolumes are not made in disk images yet (the "
                                        "filesystems are made from the tree without mounting them, and Debian 12's "
                                        "mkfs.btrfs makes no subvolumes): use part / --fstype=btrfs for a btrfs root "
                                        "without subvolumes");
    if (ks.autopart) {
        const auto& type = ks.autopart->type;
        if (type == "lvm" || type == "thinp" || type.empty())
            refuse(ks.autopart->origin, "autopart" + (type.empty() ? std::string(" (LVM by default)") : " --type=" + type) +
                                            ": " + lvm_refusal());
        refuse(ks.autopart->origin, "autopart --type=" + type + " is not made in disk images yet: write the "
                                    "partitions as part lines (reqpart, part /boot, part /)");
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
    if (mp.rfind("pv.", 0) == 0) refuse(p.origin, line + ": an LVM physical volume. " + lvm_refusal());
    if (mp.rfind("raid.", 0) == 0) refuse(p.origin, line + ": a RAID member; software RAID is not made in disk images");
    if (mp.rfind("btrfs.", 0) == 0)
        refuse(p.origin, line + ": a btrfs volume member; btrfs volumes are not made in disk images yet");
    if (!p.onpart.empty() || !p.format || p.resize)
        refuse(p.origin, line + ": --onpart, --noformat, --useexisting and --resize name partitions that already exist; "
                                "a disk image is new: drop them");
    if (p.encrypted)
        refuse(p.origin, line + ": --encrypted needs device-mapper (LUKS), which a disk image made from files has none "
                                "of: drop --encrypted");
    if (!p.onbiosdisk.empty()) refuse(p.origin, line + ": --onbiosdisk names a BIOS disk number; use --ondisk=sda");

    std::string fstype = p.fstype;
    if (mp == "swap") fstype = "swap";
    if (mp == "biosboot") fstype = "biosboot";
    if (fstype.empty()) fstype = "ext4";
    if (fstype == "efi") {
        r.content = Content::esp;
        fstype = "vfat";
    } else if (fstype == "swap") {
        r.content = Content::swap;
    } else if (fstype == "biosboot") {
        r.content = Content::biosboot;
    } else if (fstype == "vfat" && mp == "/boot/efi") {
        r.content = Content::esp;
    }
    static const char* known[] = {"ext4", "ext3", "ext2", "xfs", "btrfs", "vfat", "swap", "biosboot"};
    if (std::find(std::begin(known), std::end(known), fstype) == std::end(known))
        refuse(p.origin, line + " --fstype=" + fstype + ": a disk image makes ext4, ext3, ext2, xfs, btrfs, vfat, efi, "
                                "swap and biosboot partitions");
    if (r.content == Content::swap && p.fstype == "swap" && mp != "swap")
        refuse(p.origin, line + " --fstype=swap: swap is not mounted; write 'part swap'");
    if (r.content == Content::biosboot && mp != "biosboot" && !mp.empty())
        refuse(p.origin, line + " --fstype=biosboot: a biosboot partition has no mount point; write 'part biosboot "
                                "--fstype=biosboot --size=1'");
    if ((r.content == Content::filesystem || r.content == Content::esp) && (mp.empty() || mp.front() != '/'))
        refuse(p.origin, "part " + mp + ": the mount point of a filesystem starts with /");
    r.fstype = fstype;
    if (r.content == Content::filesystem || r.content == Content::esp) r.mountpoint = mp;

    if (p.size && *p.size <= 0) refuse(p.origin, line + " --size=" + std::to_string(*p.size) + ": give the size in MiB");
    if (p.maxsize < 0) refuse(p.origin, line + " --maxsize=" + std::to_string(p.maxsize) + ": give the size in MiB");
    if (p.size) r.base_mib = static_cast<std::uint64_t>(*p.size);
    else if (p.recommended && r.content == Content::swap) r.base_mib = recommended_swap_mib(options.memory_mib);
    else if (r.content == Content::biosboot) r.base_mib = 1;
    else r.base_mib = 500;  // blivet's default partition size
    r.grow = p.grow;
    r.max_mib = p.grow ? static_cast<std::uint64_t>(p.maxsize) : 0;
    if (r.max_mib && r.max_mib < r.base_mib)
        refuse(p.origin, line + ": --maxsize=" + std::to_string(r.max_mib) + " is smaller than --size=" +
                             std::to_string(r.base_mib));
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

inline std::string mib(std::uint64_t v) { return std::to_string(v) + " MiB"; }

// Table numbers, logical partitions and offsets, for partitions already sized and ordered.
inline void place(Disk& disk) {
    auto& parts = disk.partitions;
    const bool extended = disk.label == LabelType::dos && parts.size() > 4;
    if (extended) {
        // The first three are primary (--asprimary ones were sorted to the front).
        for (std::size_t i = 3; i < parts.size(); ++i) {
            if (parts[i].asprimary)
                refuse(parts[i].origin, "part " + parts[i].mountpoint + " --asprimary: an msdos disk has four primary "
                                        "partitions, and with more than four partitions one of them is the extended "
                                        "partition: at most three may be --asprimary");
            parts[i].logical = true;
        }
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

inline std::string describe(const Partition& p) {
    if (p.content == Content::swap) return "swap";
    if (p.content == Content::biosboot) return "biosboot";
    return p.mountpoint;
}

}  // namespace detail

// The layout the kickstart asks for. Throws KickstartError (naming the line) or ConfigError for
// what cannot be made, before anything is.
inline Layout plan_layout(const kickstart::Kickstart& ks, const LayoutOptions& options = {}) {
    using namespace detail;
    refuse_unsupported(ks);
    const LabelType label = label_type(ks);

    std::vector<Partition> requests;
    std::vector<std::string> disk_order;
    auto note_disk = [&](const std::string& name) {
        if (std::find(disk_order.begin(), disk_order.end(), name) == disk_order.end()) disk_order.push_back(name);
    };
    std::map<std::string, std::string> disk_of;  // mount point (or "swap#n") -> disk
    std::vector<std::string> disk_names;
    for (const auto& p : ks.partitions) {
        Partition r = request_from(p, options);
        if (!r.mountpoint.empty())
            for (const auto& q : requests)
                if (q.mountpoint == r.mountpoint)
                    refuse(p.origin, "part " + r.mountpoint + " is given twice (the first on line " +
                                         std::to_string(q.origin.line) + ")");
        if (r.content == Content::biosboot && label == LabelType::dos)
            refuse(p.origin, "part biosboot: a biosboot partition is for GPT disks; this disk is msdos (clearpart "
                             "--disklabel=msdos), where GRUB lives in the gap after the MBR: drop the line");
        const std::string disk = p.ondisk.empty() ? options.default_disk : p.ondisk;
        note_disk(disk);
        disk_names.push_back(disk);
        requests.push_back(std::move(r));
    }
    const auto root = std::find_if(requests.begin(), requests.end(), [](const Partition& p) { return p.mountpoint == "/"; });
    if (root == requests.end()) {
        if (ks.partitions.empty() && !ks.reqpart)
            throw ConfigError("the kickstart has no part lines: a disk image needs at least 'part / --size=SIZE_IN_MIB'");
        throw ConfigError("the kickstart has no 'part /' line: a disk image needs a root filesystem");
    }
    const std::string boot_disk = disk_names[static_cast<std::size_t>(root - requests.begin())];
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
    return layout;
}

}  // namespace imgcreate::disk

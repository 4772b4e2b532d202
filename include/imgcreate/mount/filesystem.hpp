// imgcreate — the root filesystem of an image: its type, size and label as the kickstart's
// `part /` line and the user's --fslabel give them, and making it with mkfs.
//
// Label rule (livecd-tools'): "_" + the image's label (label.hpp: --fslabel, else the name),
// cut to what the filesystem stores: 16 characters for ext*, 12 for xfs, 255 for btrfs. A label
// given on the `part / --label` line is used as written (still cut to the limit).
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/label.hpp>
#include <imgcreate/kickstart/document.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/process.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace imgcreate::mount {

struct FilesystemSpec {
    std::string fstype = "ext4";
    std::uint64_t size_mib = 4096;  // livecd-tools' default image size
    std::string label;
    std::string uuid;               // empty: the tool picks one (a reproducible ext* image derives one)
    std::string mountpoint = "/";   // where it is mounted, for the messages
    std::vector<std::string> mkfs_options;  // part --mkfsoptions, added before the device
};

inline bool is_ext(const std::string& fstype) { return fstype == "ext2" || fstype == "ext3" || fstype == "ext4"; }

inline std::size_t label_limit(const std::string& fstype) {
    if (fstype == "xfs") return 12;
    if (fstype == "btrfs") return 255;
    return 16;
}

inline std::string filesystem_label(const std::string& fstype, const std::string& fslabel) {
    return ("_" + fslabel).substr(0, label_limit(fstype));
}

// What the kickstart's `part /` lines say of the root, read as livecd-creator reads them: a spin's
// kickstart often repeats `part /` after its base's to resize it (Fedora's live spins: 5120 MiB,
// then the spin's size), so the size is the last line's that gives one, the type and label the
// first line's that gives them.
struct RootPartitionLines {
    std::optional<long long> size;
    std::string fstype, label;
};

inline RootPartitionLines root_partition_lines(const BuildContext& ctx) {
    RootPartitionLines out;
    if (!ctx.kickstart) return out;
    for (const auto& p : ctx.kickstart->partitions) {
        if (p.mountpoint != "/") continue;
        if (p.size) out.size = p.size;
        if (out.fstype.empty()) out.fstype = p.fstype;
        if (out.label.empty()) out.label = p.label;
    }
    return out;
}

// The root filesystem this build makes, checked: an unsupported type or a size too small to
// hold a filesystem is refused before anything is created.
inline FilesystemSpec root_filesystem(const BuildContext& ctx) {
    FilesystemSpec spec;
    const auto part = root_partition_lines(ctx);
    if (!part.fstype.empty()) spec.fstype = part.fstype;
    if (part.size) {
        if (*part.size <= 0)
            throw MountError("part / --size " + std::to_string(*part.size) + " is not a size: give the image size in MiB");
        spec.size_mib = static_cast<std::uint64_t>(*part.size);
    }
    if (!is_ext(spec.fstype) && spec.fstype != "xfs" && spec.fstype != "btrfs")
        throw MountError("part / --fstype " + spec.fstype + " is not supported for a loop image: use ext4 (the default), "
                         "ext3, ext2, xfs or btrfs");
    const std::uint64_t minimum = spec.fstype == "xfs" ? 300 : spec.fstype == "btrfs" ? 128 : 8;
    if (spec.size_mib < minimum)
        throw MountError("part / --size " + std::to_string(spec.size_mib) + " is too small for " + spec.fstype +
                         ": it needs at least " + std::to_string(minimum) + " MiB");
    spec.label = !part.label.empty() ? part.label.substr(0, label_limit(spec.fstype))
                                : filesystem_label(spec.fstype, image_label(ctx.options));
    return spec;
}

inline std::vector<std::string> mkfs_command(const FilesystemSpec& spec, const std::filesystem::path& device) {
    std::vector<std::string> argv{"mkfs." + spec.fstype};
    if (is_ext(spec.fstype))
        // 1% reserved like livecd-tools; -q: the progress bars only fill the log.
        argv.insert(argv.end(), {"-F", "-q", "-m", "1", "-b", "4096"});
    else if (spec.fstype == "xfs")
        argv.insert(argv.end(), {"-f", "-q", "-b", "size=4096"});
    else
        argv.insert(argv.end(), {"-f", "-q"});
    if (!spec.label.empty()) argv.insert(argv.end(), {"-L", spec.label});
    if (!spec.uuid.empty()) {
        if (spec.fstype == "xfs") argv.insert(argv.end(), {"-m", "uuid=" + spec.uuid});
        else argv.insert(argv.end(), {"-U", spec.uuid});
    }
    argv.insert(argv.end(), spec.mkfs_options.begin(), spec.mkfs_options.end());
    argv.push_back(device.string());
    return argv;
}

inline std::string package_providing_mkfs(const std::string& fstype) {
    if (fstype == "xfs") return "xfsprogs";
    if (fstype == "btrfs") return "btrfs-progs";
    if (fstype == "vfat") return "dosfstools";
    if (fstype == "swap") return "util-linux";
    return "e2fsprogs";
}

// Makes the filesystem on `device` (an image file or a block device).
inline void make_filesystem(const FilesystemSpec& spec, const std::filesystem::path& device) {
    auto argv = mkfs_command(spec, device);
    argv.front() = require_program(argv.front(), package_providing_mkfs(spec.fstype)).string();
    run(argv);
}

}  // namespace imgcreate::mount

// imgcreate — a layout's disks written as image files from an installed tree, with no loop
// device and no mount: each filesystem is made from its part of the tree in a file of its own
// (mount/tree_filesystem.hpp; the subtrees of the filesystems mounted below it left out; a btrfs
// volume with its subvolumes, disk/btrfs_volume.hpp), then
// copied into the disk image at its partition's offset, holes kept; the partition table is
// written with sfdisk on the image file. The images are sparse. The filesystems are made side
// by side, one per processor.
#pragma once

#include <imgcreate/disk/btrfs_volume.hpp>
#include <imgcreate/disk/layout.hpp>
#include <imgcreate/disk/lvm.hpp>
#include <imgcreate/disk/partition_table.hpp>
#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/tree_filesystem.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/interrupt.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/root_path.hpp>
#include <imgcreate/support/side_by_side.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace imgcreate::disk {

// Copies the data of `source` (not its holes) into `target` at `offset`.
inline void copy_sparse(const std::filesystem::path& source, const std::filesystem::path& target, std::uint64_t offset) {
    UniqueFd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
    UniqueFd out(::open(target.c_str(), O_WRONLY | O_CLOEXEC));
    if (!in || !out)
        throw StageError("cannot open " + (in ? target : source).string() + ": " + std::strerror(errno), target.string());
    const off_t end = ::lseek(in.get(), 0, SEEK_END);
    off_t data = 0;
    std::vector<char> buffer;
    while (data < end) {
        data = ::lseek(in.get(), data, SEEK_DATA);
        if (data < 0) break;  // ENXIO: only a hole is left
        off_t hole = ::lseek(in.get(), data, SEEK_HOLE);
        if (hole < 0) hole = end;
        for (off_t at = data; at < hole;) {
            loff_t from = at, to = static_cast<loff_t>(offset) + at;
            ssize_t n = ::copy_file_range(in.get(), &from, out.get(), &to, static_cast<std::size_t>(hole - at), 0);
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
                buffer.resize(1 << 20);
                n = ::pread(in.get(), buffer.data(), std::min<std::size_t>(buffer.size(), static_cast<std::size_t>(hole - at)), at);
                if (n > 0 && ::pwrite(out.get(), buffer.data(), static_cast<std::size_t>(n), static_cast<off_t>(offset) + at) != n)
                    n = -1;
            }
            if (n <= 0)
                throw StageError("cannot copy " + source.string() + " into " + target.string() + ": " +
                                 (n < 0 ? std::strerror(errno) : "unexpected end of file"), target.string());
            at += n;
        }
        data = hole;
    }
}

// The filesystem a partition gets made with.
inline mount::FilesystemSpec filesystem_spec(const Partition& p) {
    mount::FilesystemSpec spec;
    spec.fstype = p.fstype;
    spec.size_mib = p.size_mib;
    spec.label = p.label.substr(0, p.fstype == "vfat" ? 11 : mount::label_limit(p.fstype));
    spec.uuid = p.uuid;
    spec.mountpoint = p.content == Content::swap ? "swap" : p.mountpoint;
    std::istringstream words(p.mkfsoptions);
    for (std::string w; words >> w;) spec.mkfs_options.push_back(w);
    return spec;
}

// The image file of a disk: <name>-<disk>.raw, as appliance-creator names it.
inline std::filesystem::path disk_image_path(const std::filesystem::path& dir, const std::string& name, const Disk& disk) {
    return dir / (name + "-" + disk.name + ".raw");
}

namespace detail {

// Makes partition `p`'s filesystem from `subtree` in `image` at the partition's offset: written
// there (ext*), or made in `piece` and copied in, holes kept.
inline void write_partition(const Layout& layout, const Partition& p, const std::filesystem::path& subtree,
                            const std::filesystem::path& piece, const std::filesystem::path& image,
                            std::optional<long long> epoch) {
    const auto spec = filesystem_spec(p);
    const bool in_place = mount::writes_at_offset(spec, epoch.has_value());
    try {
        if (in_place)
            mount::make_filesystem_from_tree(spec, subtree, image, epoch, {}, p.start_mib << 20);
        else
            mount::make_filesystem_from_tree(spec, subtree, piece, epoch);
    } catch (const MountError& e) {
        if (const auto message = autopart_full_message(layout, p, e.what())) throw MountError(*message, e.resource());
        // a logical volume's size is its logvol line's
        std::string said = e.what();
        if (const auto at = said.find("raise part "); !p.logical_volume.empty() && at != std::string::npos)
            throw MountError(said.replace(at, 11, "raise logvol "), e.resource());
        throw;
    }
    if (in_place) return;
    copy_sparse(piece, image, p.start_mib << 20);
    std::filesystem::remove(piece);
}

// Each mount point must be a directory of the tree, reached through directories: its subtree is
// moved aside (a rename of the host path), and a link on the way (a package's /opt -> /opt, say)
// would lead out of the tree. Anaconda mounts every filesystem before the install, so a package
// could not put a link there either.
inline void refuse_linked_mountpoints(const Layout& layout, const std::filesystem::path& tree) {
    namespace fs = std::filesystem;
    for (const auto& m : layout.mountpoints()) {
        fs::path at = tree;
        for (const auto& part : fs::path(m).relative_path()) {
            at /= part;
            struct stat st {};
            if (::lstat(at.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
            const auto in_image = "/" + at.lexically_relative(tree).string();
            std::error_code ec;
            const auto what = S_ISLNK(st.st_mode) ? "a symbolic link to " + fs::read_symlink(at, ec).string()
                                                  : std::string("not a directory");
            throw MountError("the mount point " + m + " cannot be made: " + in_image + " in the image is " + what +
                                 ", and a filesystem is made from the directory it is mounted on. Mount it elsewhere, "
                                 "or make " + in_image + " a directory in %post",
                             at.string());
        }
    }
}

}  // namespace detail

// Writes every disk of `layout` (its identities assigned) into `dir` from `tree`, the installed
// root; returns the image files, the boot disk's first. `work` holds each filesystem while it is
// made. Every mount point gets its directory in the tree (an empty /home, say) first.
//
// The filesystems are made side by side, one per processor: the subtree of every mount point but
// / waits beside the tree meanwhile (a rename: nothing is copied), so that each filesystem is
// made from a tree of its own that holds none of the others'. A btrfs volume, made from the
// whole tree with its subvolumes, is made first, alone.
inline std::vector<std::filesystem::path> assemble_disks(const Layout& layout, const std::filesystem::path& tree,
                                                         const std::filesystem::path& dir, const std::filesystem::path& work,
                                                         const std::string& name, std::optional<long long> epoch,
                                                         unsigned workers = 0) {
    namespace fs = std::filesystem;
    detail::refuse_linked_mountpoints(layout, tree);
    RootDir root(tree);
    for (const auto& m : layout.mountpoints())
        if (m != "/") root.mkdirs(fs::path(m).relative_path());
    fs::create_directories(work);

    struct Piece {
        const Partition* partition;
        fs::path image, piece;
    };
    std::vector<fs::path> images;
    std::vector<Piece> pieces;
    for (const auto& d : layout.disks) {
        const auto image = disk_image_path(dir, name, d);
        mount::detail::make_sparse_file(image, d.size_mib << 20);
        write_partition_table(d, image);
        images.push_back(image);
        for (const auto& p : d.partitions) {
            if (const auto* group = layout.group_on(p)) {
                // the group's label and metadata; its logical volumes are made below, each at its offset
                const long long time = epoch ? *epoch
                                             : std::chrono::duration_cast<std::chrono::seconds>(
                                                   std::chrono::system_clock::now().time_since_epoch()).count();
                // (the device's name a hint LVM keeps: sda2, nvme0n1p2)
                const auto device = "/dev/" + d.name + (std::isdigit(static_cast<unsigned char>(d.name.back())) ? "p" : "") +
                                    std::to_string(p.number);
                write_volume_group(*group, p, device, image, "imgcreate", time);
                for (const auto& lv : group->volumes)
                    pieces.push_back({&lv, image, work / (d.name + "-lv-" + group->name + "-" + lv.logical_volume + ".img")});
                log::info("wrote LVM volume group ", group->name, " (", group->extents, " extents of ", group->extent_mib,
                          " MiB) on ", d.name, p.number, ", with ", group->volumes.size(), " logical volume(s)");
                continue;
            }
            if (holds_no_filesystem(p.content)) continue;  // left zeroed (and sparse)
            const auto piece = work / (d.name + "-" + std::to_string(p.number) + ".img");
            if (const auto* volume = layout.volume_of(p)) {
                if (epoch) log::warning(mount::not_reproducible_warning("btrfs"));
                make_btrfs_volume(layout, *volume, tree, piece);
                copy_sparse(piece, image, p.start_mib << 20);
                fs::remove(piece);
                continue;
            }
            pieces.push_back({&p, image, piece});
        }
    }

    // Every mount point but /, the deepest first: each subtree moved aside holds no other.
    std::vector<fs::path> mountpoints;
    for (const auto& m : layout.mountpoints())
        if (m != "/") mountpoints.push_back(fs::path(m).relative_path());
    std::stable_sort(mountpoints.begin(), mountpoints.end(), [](const fs::path& a, const fs::path& b) {
        return std::distance(a.begin(), a.end()) > std::distance(b.begin(), b.end());
    });
    {
        mount::detail::ExcludedSubtrees apart(tree, mountpoints);
        std::vector<std::function<void()>> jobs;
        // The largest first: the others fit in beside it.
        std::stable_sort(pieces.begin(), pieces.end(),
                         [](const Piece& a, const Piece& b) { return a.partition->size_mib > b.partition->size_mib; });
        for (const auto& piece : pieces) {
            const auto& p = *piece.partition;
            const bool whole = p.mountpoint.empty() || p.mountpoint == "/";  // swap takes nothing from it
            const auto subtree = whole ? tree : apart.aside(tree, fs::path(p.mountpoint).relative_path());
            if (subtree.empty()) throw MountError("the mount point " + p.mountpoint + " was not set aside", p.mountpoint);
            jobs.push_back([&layout, &p, subtree, piece, epoch] {
                check_interrupted();
                detail::write_partition(layout, p, subtree, piece.piece, piece.image, epoch);
            });
        }
        run_side_by_side(jobs, workers);
    }
    for (const auto& d : layout.disks)
        log::info("wrote disk ", d.name, " (", d.size_mib, " MiB, ", d.partitions.size(), " partitions) to ",
                  disk_image_path(dir, name, d).string());
    return images;
}

}  // namespace imgcreate::disk

// imgcreate — a layout's disks written as image files from an installed tree, with no loop
// device and no mount: each filesystem is made from its part of the tree in a file of its own
// (mount/tree_filesystem.hpp; the subtrees of the filesystems mounted below it left out; a btrfs
// volume with its subvolumes, disk/btrfs_volume.hpp), then
// copied into the disk image at its partition's offset, holes kept; the partition table is
// written with sfdisk on the image file. The images are sparse.
#pragma once

#include <imgcreate/disk/btrfs_volume.hpp>
#include <imgcreate/disk/layout.hpp>
#include <imgcreate/disk/partition_table.hpp>
#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/tree_filesystem.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/root_path.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
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

// The mount points of the layout below `mountpoint`, relative to it, the top-most only
// (/boot/efi is inside /boot's subtree when / leaves /boot out).
inline std::vector<std::filesystem::path> nested_mountpoints(const Layout& layout, const std::string& mountpoint) {
    std::vector<std::string> below;
    const std::string prefix = mountpoint == "/" ? "/" : mountpoint + "/";
    for (const auto& m : layout.mountpoints())
        if (m != mountpoint && m.rfind(prefix, 0) == 0) below.push_back(m);
    std::vector<std::filesystem::path> out;
    for (const auto& m : below) {
        bool inside_another = false;
        for (const auto& other : below)
            if (other != m && m.rfind(other + "/", 0) == 0) inside_another = true;
        if (!inside_another) out.push_back(std::filesystem::path(m.substr(prefix.size())));
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The image file of a disk: <name>-<disk>.raw, as appliance-creator names it.
inline std::filesystem::path disk_image_path(const std::filesystem::path& dir, const std::string& name, const Disk& disk) {
    return dir / (name + "-" + disk.name + ".raw");
}

// Writes every disk of `layout` (its identities assigned) into `dir` from `tree`, the installed
// root; returns the image files, the boot disk's first. `work` holds each filesystem while it is
// made. Every mount point gets its directory in the tree (an empty /home, say) first.
inline std::vector<std::filesystem::path> assemble_disks(const Layout& layout, const std::filesystem::path& tree,
                                                         const std::filesystem::path& dir, const std::filesystem::path& work,
                                                         const std::string& name, std::optional<long long> epoch) {
    namespace fs = std::filesystem;
    RootDir root(tree);
    for (const auto& m : layout.mountpoints())
        if (m != "/") root.mkdirs(fs::path(m).relative_path());
    fs::create_directories(work);
    std::vector<fs::path> images;
    for (const auto& d : layout.disks) {
        const auto image = disk_image_path(dir, name, d);
        mount::detail::make_sparse_file(image, d.size_mib << 20);
        write_partition_table(d, image);
        for (const auto& p : d.partitions) {
            if (holds_no_filesystem(p.content)) continue;  // left zeroed (and sparse)
            const auto piece = work / (d.name + "-" + std::to_string(p.number) + ".img");
            if (const auto* volume = layout.volume_of(p)) {
                if (epoch) log::warning("btrfs images made from a tree are not byte-reproducible: only ext* is");
                make_btrfs_volume(layout, *volume, tree, piece);
                copy_sparse(piece, image, p.start_mib << 20);
                fs::remove(piece);
                continue;
            }
            const bool whole = p.mountpoint.empty() || p.mountpoint == "/";  // swap takes nothing from it
            const auto subtree = whole ? tree : root.host_path(fs::path(p.mountpoint).relative_path());
            try {
                mount::make_filesystem_from_tree(filesystem_spec(p), subtree, piece, epoch,
                                                 p.mountpoint.empty() ? std::vector<fs::path>{} : nested_mountpoints(layout, p.mountpoint));
            } catch (const MountError& e) {
                // autopart's partitions have no --size to raise: they grow with the disk.
                const std::string full = "the image is full: raise part ", said = e.what();
                if (!layout.autopart || said.rfind(full, 0) != 0 || said.find(" (") == std::string::npos) throw;
                throw MountError("the image is full: autopart's " + p.mountpoint + " grows with the disk; give a larger "
                                 "--disk-size" + said.substr(said.find(" (")), e.resource());
            }
            copy_sparse(piece, image, p.start_mib << 20);
            fs::remove(piece);
        }
        log::info("wrote disk ", d.name, " (", d.size_mib, " MiB, ", d.partitions.size(), " partitions) to ", image.string());
        images.push_back(image);
    }
    return images;
}

}  // namespace imgcreate::disk

// imgcreate — a btrfs volume of a layout made from the installed tree with no mount: mkfs.btrfs
// --rootdir from a staging directory whose top level is the volume's, with every subvolume's
// files under its name, and --subvol for each (btrfs-progs 6.12 or later: on Debian 12, the one
// from bookworm-backports, which scripts/install-deps installs).
//
// The staging directory is made by renaming, never copying: the entries of each subvolume's
// mount point move into <staging>/<name>, the deepest mount points first, so a subvolume's files
// leave its parent's behind and the parent keeps the empty directory as its mount point. A nested
// subvolume (root/var/log) sits inside its parent's directory, which takes in the rest of the
// parent's files around it. What other filesystems are mounted on (/boot, /boot/efi) moves aside first the same way. Everything
// goes back when the volume is made, or fails to be.
#pragma once

#include <imgcreate/disk/layout.hpp>
#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/tree_filesystem.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace imgcreate::disk {

namespace detail {

// A directory made (or one already there) like another: owner, mode, times and extended
// attributes (the SELinux label of a subvolume's top directory is its mount point's). Whether it
// was made.
inline bool make_directory_like(const std::filesystem::path& made, const std::filesystem::path& model) {
    struct stat st {};
    if (::lstat(model.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw MountError("the mount point " + model.string() + " is not a directory in the tree", model.string());
    const bool fresh = std::filesystem::create_directory(made);
    if (::lchown(made.c_str(), st.st_uid, st.st_gid) != 0 || ::chmod(made.c_str(), st.st_mode & 07777) != 0)
        throw MountError("cannot give " + made.string() + " the owner and mode of " + model.string(), made.string());
    std::vector<char> names(65536);
    const ssize_t n = ::llistxattr(model.c_str(), names.data(), names.size());
    for (ssize_t at = 0; n > 0 && at < n; at += static_cast<ssize_t>(std::strlen(names.data() + at)) + 1) {
        const char* name = names.data() + at;
        std::vector<char> value(65536);
        const ssize_t size = ::lgetxattr(model.c_str(), name, value.data(), value.size());
        if (size >= 0) ::lsetxattr(made.c_str(), name, value.data(), static_cast<std::size_t>(size), 0);
    }
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    ::utimensat(AT_FDCWD, made.c_str(), times, AT_SYMLINK_NOFOLLOW);
    return fresh;
}

// Renames of a directory's entries into another, undone in reverse order when it goes. A staging
// directory made as the parent of a nested subvolume (root/var for root/var/log) takes in the
// entries of the tree's directory moved onto it, and a subvolume's own directory stands for its
// mount point, whose files it already holds.
class EntryMoves {
public:
    EntryMoves() = default;
    EntryMoves(const EntryMoves&) = delete;
    EntryMoves& operator=(const EntryMoves&) = delete;
    ~EntryMoves() { undo(); }

    // Makes `to` like `from` (or gives it `from`'s attributes); moves every entry of `from` into it.
    void move_entries(const std::filesystem::path& from, const std::filesystem::path& to) {
        namespace fs = std::filesystem;
        if (make_directory_like(to, from)) made_.push_back(to);
        for (const auto& e : fs::directory_iterator(from)) {
            const auto target = to / e.path().filename();
            if (fs::exists(fs::symlink_status(target))) {
                const auto own = subvolumes_.find(target);
                if (own != subvolumes_.end() && own->second == e.path()) continue;  // the subvolume's mount point
                if (std::find(parents_.begin(), parents_.end(), target) != parents_.end() && e.is_directory() &&
                    !e.is_symlink()) {
                    move_entries(e.path(), target);
                    continue;
                }
                throw MountError(target.string() + " is both in " + from.string() + " and a subvolume of the btrfs volume "
                                 "made from it: rename the subvolume (btrfs --name)", target.string());
            }
            fs::rename(e.path(), target);
            moved_.push_back({e.path(), target});
        }
    }

    // Makes `destination`, a subvolume's directory in the staging whose files are those of
    // `mountpoint` in the tree (none for a subvolume not mounted), and the staging directories
    // above it: a parent whose name is its mount point's parent's (root/var of root/var/log at
    // /var/log) is made like that directory of the tree, any other like the mount point.
    void make_subvolume(const std::filesystem::path& staging, const std::filesystem::path& destination,
                        const std::filesystem::path& mountpoint, const std::filesystem::path& tree) {
        namespace fs = std::filesystem;
        std::vector<std::pair<fs::path, fs::path>> above;  // (parent, model), the nearest first
        auto model = mountpoint.empty() ? tree : mountpoint;
        bool mirrors = !mountpoint.empty();
        for (auto below = destination; below.parent_path() != staging; below = below.parent_path()) {
            mirrors = mirrors && model != tree && below.filename() == model.filename();
            if (mirrors) model = model.parent_path();
            above.emplace_back(below.parent_path(), mirrors ? model : (mountpoint.empty() ? tree : mountpoint));
        }
        for (auto it = above.rbegin(); it != above.rend(); ++it) {
            if (fs::exists(fs::symlink_status(it->first))) continue;
            make_directory_like(it->first, it->second);
            made_.push_back(it->first);
            parents_.push_back(it->first);
        }
        if (make_directory_like(destination, mountpoint.empty() ? tree : mountpoint)) made_.push_back(destination);
        subvolumes_[destination] = mountpoint;
    }

    // Puts every entry back; false when one could not go back (it is then still where it was moved).
    bool undo() noexcept {
        bool whole = true;
        for (auto it = moved_.rbegin(); it != moved_.rend(); ++it) {
            std::error_code ec;
            std::filesystem::rename(it->second, it->first, ec);
            if (ec) {
                whole = false;
                log::error("cannot put ", it->second.string(), " back at ", it->first.string(), ": ", ec.message());
            }
        }
        moved_.clear();
        for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
            std::error_code ec;
            std::filesystem::remove(*it, ec);
        }
        made_.clear();
        parents_.clear();
        subvolumes_.clear();
        return whole;
    }

private:
    std::vector<std::pair<std::filesystem::path, std::filesystem::path>> moved_;
    std::vector<std::filesystem::path> made_;
    std::vector<std::filesystem::path> parents_;
    std::map<std::filesystem::path, std::filesystem::path> subvolumes_;
};

inline std::size_t depth(const std::string& mountpoint) {
    return mountpoint == "/" ? 0 : static_cast<std::size_t>(std::count(mountpoint.begin(), mountpoint.end(), '/'));
}

inline bool strictly_below(const std::string& path, const std::string& mountpoint) {
    return path != mountpoint && (mountpoint == "/" || path.rfind(mountpoint + "/", 0) == 0);
}

inline std::filesystem::path inside(const std::filesystem::path& tree, const std::string& mountpoint) {
    return mountpoint == "/" ? tree : tree / std::filesystem::path(mountpoint).relative_path();
}

}  // namespace detail

// mkfs.btrfs's arguments for `volume` on `image` from `staging`.
inline std::vector<std::string> mkfs_btrfs_volume_command(const BtrfsVolume& volume, const Partition& member,
                                                          const std::filesystem::path& staging,
                                                          const std::filesystem::path& image) {
    std::vector<std::string> argv{"mkfs.btrfs", "-f", "-q"};
    if (!volume.label.empty()) argv.insert(argv.end(), {"-L", volume.label.substr(0, mount::label_limit("btrfs"))});
    if (!member.uuid.empty()) argv.insert(argv.end(), {"-U", member.uuid});
    if (!volume.data_level.empty()) argv.insert(argv.end(), {"-d", volume.data_level});
    if (!volume.metadata_level.empty()) argv.insert(argv.end(), {"-m", volume.metadata_level});
    std::istringstream words(volume.mkfsoptions + " " + member.mkfsoptions);
    for (std::string w; words >> w;) argv.push_back(w);
    // The tree's files compressed as the fstab's compress= (or compress-force=) will write new ones.
    std::istringstream options(member.fsoptions);
    for (std::string o; std::getline(options, o, ',');)
        for (const std::string key : {"compress=", "compress-force="})
            if (o.rfind(key, 0) == 0) argv.insert(argv.end(), {"--compress", o.substr(key.size())});
    argv.insert(argv.end(), {"--rootdir", staging.string()});
    for (const auto& s : volume.subvolumes) argv.insert(argv.end(), {"--subvol", s.name});
    argv.push_back(image.string());
    return argv;
}

// Whether the host's mkfs.btrfs makes subvolumes from a tree (--subvol, btrfs-progs 6.12 on).
inline bool mkfs_btrfs_makes_subvolumes() {
    const auto mkfs = find_program("mkfs.btrfs");
    if (mkfs.empty()) return false;
    Command help;
    help.argv = {mkfs.string(), "--help"};
    help.check = false;
    help.log_output = false;
    return run(help).output.find("--subvol") != std::string::npos;
}

// Makes `image` (a file of the member's size) holding `volume` with its part of `tree`: the top
// level's files (its mount point's, when it has one) and each subvolume's under its name.
inline void make_btrfs_volume(const Layout& layout, const BtrfsVolume& volume, const std::filesystem::path& tree,
                              const std::filesystem::path& image) {
    namespace fs = std::filesystem;
    using namespace detail;
    const auto* member = layout.member_of(volume);
    if (!member) throw MountError("btrfs volume " + volume.member + " has no partition");
    const auto staging = fs::path(tree.string() + ".btrfs-" + volume.member);
    fs::remove_all(staging);

    // The pieces of the volume, the deepest mount point first.
    struct Piece {
        std::string mountpoint;
        fs::path destination;
    };
    std::vector<Piece> pieces;
    for (const auto& s : volume.subvolumes) pieces.push_back({s.mountpoint, staging / s.name});
    if (!volume.mountpoint.empty()) pieces.push_back({volume.mountpoint, staging});
    std::stable_sort(pieces.begin(), pieces.end(),
                     [](const Piece& a, const Piece& b) { return depth(a.mountpoint) > depth(b.mountpoint); });
    const auto all = layout.mountpoints();

    EntryMoves moves;
    int aside = 0;
    fs::create_directory(staging);
    ::chmod(staging.c_str(), 0755);
    try {
        // Every subvolume's directory first, so that a parent's files can move around a nested one.
        for (const auto& s : volume.subvolumes)
            moves.make_subvolume(staging, staging / s.name, s.mountpoint.empty() ? fs::path() : inside(tree, s.mountpoint),
                                 tree);
        for (const auto& piece : pieces) {
            if (piece.mountpoint.empty()) continue;  // a subvolume made but not mounted: empty
            // What other filesystems are mounted on inside this piece stays behind, its mount point empty.
            for (const auto& m : all) {
                if (!strictly_below(m, piece.mountpoint)) continue;
                const bool ours = std::any_of(pieces.begin(), pieces.end(), [&](const Piece& p) { return p.mountpoint == m; });
                const auto dir = inside(tree, m);
                if (ours || !fs::is_directory(dir)) continue;
                moves.move_entries(dir, fs::path(tree.string() + ".aside-" + std::to_string(aside++)));
            }
            moves.move_entries(inside(tree, piece.mountpoint), piece.destination);
        }
        auto argv = mkfs_btrfs_volume_command(volume, *member, staging, image);
        argv.front() = require_program("mkfs.btrfs", "btrfs-progs").string();
        mount::detail::make_sparse_file(image, member->size_mib << 20);
        run(argv);
    } catch (...) {
        // what could not go back stays in the staging directory, for the user to take
        if (moves.undo()) {
            std::error_code ec;
            fs::remove_all(staging, ec);
        }
        throw;
    }
    if (!moves.undo())
        throw MountError("files of the tree could not be put back from " + staging.string() + " (the log names them)",
                         staging.string());
    fs::remove_all(staging);
    std::string names;
    for (const auto& s : volume.subvolumes) names += (names.empty() ? "" : ", ") + s.name;
    log::info("made a ", member->size_mib, " MiB btrfs volume", volume.label.empty() ? "" : " labelled '" + volume.label + "'",
              names.empty() ? std::string() : " with subvolumes " + names, " from ", tree.string());
}

}  // namespace imgcreate::disk

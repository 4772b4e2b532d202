// imgcreate — a filesystem image made from a directory tree, with no loop device and no mount:
// mkfs.ext2/3/4 -d, mkfs.btrfs --rootdir. The files keep the owners, modes, extended attributes
// (SELinux labels, file capabilities) and time stamps they have in the tree, so a build by a
// user in a user namespace gives the same image as one by root.
//
// Also xfs (mkfs.xfs -p with a prototype file written from the tree for the files, owners and
// modes; then every inode is given its extended attributes, time stamps and sticky bit, which a
// prototype file cannot carry, by writing them into the image (mount/xfs_inode.hpp); hard links
// become copies), vfat (mkfs.fat, then mtools copies the tree in) and swap (mkswap; no tree). Subtrees the image must not hold
// (what other filesystems are mounted on) are left out: their directories stay, empty, as the
// mount points.
//
// For a reproducible build (an epoch, from SOURCE_DATE_EPOCH) an ext* image gets a UUID and
// directory hash seed derived from its label and the epoch, the tools' own clocks set to the
// epoch and every inode's times clamped to it: the same tree gives the same bytes, whichever
// filesystem the tree was read from (mkfs.ext4 -d adds a directory's entries in name order).
#pragma once

#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/xfs_inode.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace imgcreate::mount {

// A UUID derived from text (FNV-1a twice), formatted as ext4 wants it.
inline std::string derived_uuid(const std::string& text) {
    std::uint64_t a = 14695981039346656037ULL, b = 0x9E3779B97F4A7C15ULL;
    for (unsigned char c : text) {
        a = (a ^ c) * 1099511628211ULL;
        b = (b ^ c) * 0x100000001B3ULL + 0x5bd1e995;
    }
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                  static_cast<unsigned>((b >> 48) & 0xfff), static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return buf;
}

namespace detail {

inline std::string debugfs_quote(const std::string& path) {
    std::string q = "\"";
    for (char c : path) {
        if (c == '"' || c == '\\') q += '\\';
        q += c;
    }
    return q + "\"";
}

// debugfs commands that give every inode the clamped times mkfs.ext4 -d could not: it
// copies atime and ctime from the source as they are now.
inline std::string time_fix_script(const std::filesystem::path& tree, long long epoch) {
    std::string script;
    const auto e = "@" + std::to_string(epoch);
    auto add = [&](const std::string& inside, const struct stat& st) {
        const auto q = debugfs_quote(inside);
        const long long mtime = std::min<long long>(st.st_mtim.tv_sec, epoch);
        script += "sif " + q + " mtime @" + std::to_string(mtime) + "\n";
        script += "sif " + q + " atime @" + std::to_string(mtime) + "\n";
        script += "sif " + q + " ctime " + e + "\n";
        script += "sif " + q + " crtime " + e + "\n";
    };
    struct stat st {};
    ::lstat(tree.c_str(), &st);
    add("/", st);
    for (auto it = std::filesystem::recursive_directory_iterator(tree, std::filesystem::directory_options::none);
         it != std::filesystem::recursive_directory_iterator(); ++it) {
        if (::lstat(it->path().c_str(), &st) != 0) continue;
        add("/" + it->path().lexically_relative(tree).string(), st);
        if (it->is_symlink()) it.disable_recursion_pending();
    }
    return script;
}

inline std::map<std::string, std::string> epoch_environment(long long epoch) {
    std::map<std::string, std::string> env;
    for (const auto& [k, v] : clean_environment()) env[k] = v;
    env["E2FSPROGS_FAKE_TIME"] = std::to_string(epoch);
    env["SOURCE_DATE_EPOCH"] = std::to_string(epoch);
    return env;
}

// An empty file of `bytes`, sparse.
inline void make_sparse_file(const std::filesystem::path& image, std::uint64_t bytes) {
    std::error_code ec;
    std::filesystem::remove(image, ec);
    { std::ofstream(image).flush(); }
    std::filesystem::resize_file(image, bytes, ec);
    if (ec) throw MountError("cannot make the image file " + image.string() + ": " + ec.message(), image.string());
}

// Disk space the files of a tree take, in bytes (what du reports).
inline std::uint64_t tree_bytes(const std::filesystem::path& tree) {
    std::uint64_t bytes = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(tree, ec); !ec && it != std::filesystem::recursive_directory_iterator();
         it.increment(ec)) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) == 0) bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
    return bytes;
}

}  // namespace detail

// Writes `image` anew from `tree`, byte-identical for the same tree and epoch.
// `uuid` empty: one derived from the label and the epoch.
inline void write_reproducible_ext4(const std::filesystem::path& tree, const std::filesystem::path& image,
                                    const std::string& label, std::uint64_t size_bytes, long long epoch,
                                    const std::string& fstype = "ext4", const std::string& given_uuid = {},
                                    const std::vector<std::string>& mkfs_options = {}) {
    namespace fs = std::filesystem;
    const auto env = detail::epoch_environment(epoch);
    const auto uuid = given_uuid.empty() ? derived_uuid(label + "/" + std::to_string(epoch)) : given_uuid;
    const auto seed = derived_uuid("hash-seed/" + label + "/" + std::to_string(epoch) +
                                   (given_uuid.empty() ? "" : "/" + given_uuid));

    detail::make_sparse_file(image, size_bytes);
    Command mkfs;
    mkfs.argv = {require_program("mkfs." + fstype, "e2fsprogs").string(), "-F", "-q", "-L", label, "-m", "1", "-b", "4096",
                 "-U", uuid, "-E", "hash_seed=" + seed + ",lazy_itable_init=0,lazy_journal_init=0"};
    mkfs.argv.insert(mkfs.argv.end(), mkfs_options.begin(), mkfs_options.end());
    mkfs.argv.insert(mkfs.argv.end(), {"-d", tree.string(), image.string()});
    mkfs.env = env;
    run(mkfs);

    const auto script = image.string() + ".times";
    std::ofstream(script) << detail::time_fix_script(tree, epoch);
    Command debugfs;
    debugfs.argv = {require_program("debugfs", "e2fsprogs").string(), "-w", "-f", script, image.string()};
    debugfs.env = env;
    debugfs.log_output = false;
    run(debugfs);
    fs::remove(script);
}

// What a build under SOURCE_DATE_EPOCH says of a filesystem made from a tree that stays different
// from build to build (btrfs: mkfs.btrfs adds the files in the order the directories list them,
// which inode numbers and data placement follow, and draws UUIDs of its own).
inline std::string not_reproducible_warning(const std::string& fstype) {
    return fstype + " images made from a tree are not byte-reproducible (mkfs." + fstype +
           " numbers the files in the order the directories list them and draws its own UUIDs): only ext*, xfs, "
           "vfat and swap are; use one of them where every build must give the same disk";
}

// The mkfs command that makes `spec`'s filesystem on `image` holding `tree`'s files (ext*, btrfs
// and xfs; for xfs `tree` is the prototype file written from the tree).
inline std::vector<std::string> mkfs_from_tree_command(const FilesystemSpec& spec, const std::filesystem::path& tree,
                                                       const std::filesystem::path& image) {
    auto argv = mkfs_command(spec, image);
    argv.pop_back();
    if (is_ext(spec.fstype))
        argv.insert(argv.end(), {"-d", tree.string()});
    else if (spec.fstype == "btrfs")
        argv.insert(argv.end(), {"--rootdir", tree.string()});
    else if (spec.fstype == "xfs")
        argv.insert(argv.end(), {"-p", tree.string()});
    else
        throw MountError("making " + spec.fstype + " from a directory tree is not supported: use ext4 (the default), "
                         "ext3, ext2, xfs or btrfs for part " + spec.mountpoint + ", or build as root with a loop device");
    argv.push_back(image.string());
    return argv;
}

namespace detail {

// Moves the excluded subtrees of a tree out of it, leaving each directory in place, empty, with
// its owner, mode and times; puts them back when it goes. The subtrees move to siblings of the
// tree (the same filesystem: a rename, however large they are).
class ExcludedSubtrees {
public:
    ExcludedSubtrees(const std::filesystem::path& tree, const std::vector<std::filesystem::path>& excluded) {
        try {
            move_aside(tree, excluded);
        } catch (...) {
            put_back();
            throw;
        }
    }
    ExcludedSubtrees(const ExcludedSubtrees&) = delete;
    ExcludedSubtrees& operator=(const ExcludedSubtrees&) = delete;
    ~ExcludedSubtrees() { put_back(); }

    // Where the subtree at `tree`/`rel` waits meanwhile, or empty when it was not moved (no
    // directory there). Listed deepest first, a subtree moved aside holds none of the others.
    std::filesystem::path aside(const std::filesystem::path& tree, const std::filesystem::path& rel) const {
        for (const auto& [inside, where] : moved_)
            if (inside == tree / rel) return where;
        return {};
    }

private:
    void move_aside(const std::filesystem::path& tree, const std::vector<std::filesystem::path>& excluded) {
        namespace fs = std::filesystem;
        int n = 0;
        for (const auto& rel : excluded) {
            const auto inside = tree / rel;
            struct stat st {};
            if (::lstat(inside.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
            const auto aside = fs::path(tree.string() + ".excluded-" + std::to_string(n++));
            fs::rename(inside, aside);
            moved_.push_back({inside, aside});
            fs::create_directory(inside);
            if (::lchown(inside.c_str(), st.st_uid, st.st_gid) != 0 || ::chmod(inside.c_str(), st.st_mode & 07777) != 0)
                throw MountError("cannot give the mount point " + inside.string() + " its owner and mode", inside.string());
            // Its SELinux label too: the mount point is labelled in the filesystem that holds it.
            char label[256];
            const ssize_t length = ::lgetxattr(aside.c_str(), "security.selinux", label, sizeof label);
            if (length > 0 && ::lsetxattr(inside.c_str(), "security.selinux", label, static_cast<std::size_t>(length), 0) != 0)
                log::warning("the mount point ", inside.string(), " keeps no SELinux label: ", std::strerror(errno));
            const struct timespec times[2] = {st.st_atim, st.st_mtim};
            ::utimensat(AT_FDCWD, inside.c_str(), times, AT_SYMLINK_NOFOLLOW);
        }
    }
    void put_back() noexcept {
        for (auto it = moved_.rbegin(); it != moved_.rend(); ++it) {
            std::error_code ec;
            std::filesystem::remove(it->first, ec);
            std::filesystem::rename(it->second, it->first, ec);
            if (ec) log::error("cannot put ", it->second.string(), " back at ", it->first.string(), ": ", ec.message());
        }
        moved_.clear();
    }

    std::vector<std::pair<std::filesystem::path, std::filesystem::path>> moved_;
};

// Whether xfs_db, reading its commands from standard input, takes `name` as it is: UTF-8 with no
// control character (it mangles a lone byte above 0x7f and a carriage return).
inline bool xfs_db_can_name(const std::string& name) {
    for (std::size_t i = 0; i < name.size();) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c < 0x20 || c == 0x7f) return false;
        const std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        if (length == 0 || i + length > name.size()) return false;
        for (std::size_t k = 1; k < length; ++k)
            if ((static_cast<unsigned char>(name[i + k]) >> 6) != 0x2) return false;
        i += length;
    }
    return true;
}

// xfsprogs' prototype file: "name mode uid gid [source|target|major minor]" per entry, "$" after
// each directory's entries. It cannot name a file with white space in its name, and cannot set
// the sticky bit (xfs_update_inodes gives it afterwards).
inline std::string xfs_protofile(const std::filesystem::path& tree) {
    namespace fs = std::filesystem;
    auto mode_text = [](const struct stat& st) {
        char type = '-';
        if (S_ISDIR(st.st_mode)) type = 'd';
        else if (S_ISLNK(st.st_mode)) type = 'l';
        else if (S_ISBLK(st.st_mode)) type = 'b';
        else if (S_ISCHR(st.st_mode)) type = 'c';
        else if (S_ISFIFO(st.st_mode)) type = 'p';
        char text[8];
        std::snprintf(text, sizeof text, "%c%c%c%03o", type, (st.st_mode & S_ISUID) ? 'u' : '-',
                      (st.st_mode & S_ISGID) ? 'g' : '-', static_cast<unsigned>(st.st_mode & 0777));
        return std::string(text);
    };
    auto ids = [](const struct stat& st) { return " " + std::to_string(st.st_uid) + " " + std::to_string(st.st_gid); };
    std::string out = "/dev/null\n0 0\n";
    struct stat st {};
    if (::lstat(tree.c_str(), &st) != 0) throw MountError("cannot read the tree " + tree.string(), tree.string());
    out += mode_text(st) + ids(st) + "\n";
    // Depth first, each directory's entries in name order (the same tree gives the same file).
    std::function<void(const fs::path&, int)> walk = [&](const fs::path& dir, int depth) {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        const std::string indent(static_cast<std::size_t>(depth), ' ');
        for (const auto& name : names) {
            const auto path = dir / name;
            if (name.find_first_of(" \t\n") != std::string::npos || name == "$")
                throw MountError("xfs cannot be made from a tree holding " + path.string() + ": mkfs.xfs's prototype "
                                 "file cannot name it; use ext4 for that partition", path.string());
            if (::lstat(path.c_str(), &st) != 0) continue;
            if (S_ISSOCK(st.st_mode)) continue;
            if (S_ISDIR(st.st_mode) && !xfs_db_can_name(name))
                throw MountError("xfs cannot be made from a tree holding the directory " + path.string() + ": xfs_db, "
                                 "which reads it back, cannot name it (a control character, or not UTF-8); use ext4 "
                                 "for that partition", path.string());
            out += indent + name + " " + mode_text(st) + ids(st);
            if (S_ISREG(st.st_mode)) out += " " + path.string();
            else if (S_ISLNK(st.st_mode)) out += " " + fs::read_symlink(path).string();
            else if (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode))
                out += " " + std::to_string(major(st.st_rdev)) + " " + std::to_string(minor(st.st_rdev));
            out += "\n";
            if (S_ISDIR(st.st_mode)) {
                walk(path, depth + 1);
                out += indent + "$\n";
            }
        }
    };
    walk(tree, 1);
    out += "$\n";
    return out;
}

// A POSIX ACL in the xattr form the kernel gives (little-endian: version 2, then tag, perm, id
// per entry) written as xfs keeps it on disk (big-endian: count, then tag, id, perm, pad).
inline std::string xfs_acl_from_xattr(const std::string& xattr, const std::string& where) {
    auto le = [&](std::size_t at, int bytes) {
        std::uint32_t v = 0;
        for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(xattr[at + static_cast<std::size_t>(i)]);
        return v;
    };
    auto be = [](std::string& out, std::uint32_t v, int bytes) {
        for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
    };
    if (xattr.size() < 4 || (xattr.size() - 4) % 8 != 0 || le(0, 4) != 2)
        throw MountError("the POSIX ACL of " + where + " is not in the form the kernel writes (version 2)", where);
    const std::size_t count = (xattr.size() - 4) / 8;
    std::string out;
    be(out, static_cast<std::uint32_t>(count), 4);
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t at = 4 + 8 * i;
        be(out, le(at, 2), 4);      // tag
        be(out, le(at + 4, 4), 4);  // id
        be(out, le(at + 2, 2), 2);  // perm
        be(out, 0, 2);
    }
    return out;
}

// The extended attributes of `path` (not followed), in the order llistxattr gives them, as xfs
// keeps them: POSIX ACLs in xfs's own form, as trusted attributes.
inline std::vector<xfs::Attr> xfs_attrs(const std::filesystem::path& path) {
    std::vector<xfs::Attr> attrs;
    ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
    if (size <= 0) return attrs;
    std::string names(static_cast<std::size_t>(size), '\0');
    size = ::llistxattr(path.c_str(), names.data(), names.size());
    if (size < 0) throw MountError("cannot list the extended attributes of " + path.string(), path.string());
    names.resize(static_cast<std::size_t>(size));
    for (std::size_t at = 0; at < names.size();) {
        const std::string name = names.c_str() + at;
        at += name.size() + 1;
        // A tree on xfs shows its ACLs twice: as system.posix_acl_* and as xfs stores them.
        if (name == "trusted.SGI_ACL_FILE" || name == "trusted.SGI_ACL_DEFAULT") continue;
        // An attribute may hold nothing (length 0); one gone meanwhile (-1) is left out.
        ssize_t length = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
        if (length < 0) continue;
        std::string value(static_cast<std::size_t>(length), '\0');
        if (length > 0) length = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
        if (length < 0) continue;
        value.resize(static_cast<std::size_t>(length));
        auto after = [&](const std::string& prefix) { return name.substr(prefix.size()); };
        if (name.rfind("security.", 0) == 0) attrs.push_back({xfs::attr_security, after("security."), value});
        else if (name.rfind("trusted.", 0) == 0) attrs.push_back({xfs::attr_trusted, after("trusted."), value});
        else if (name.rfind("user.", 0) == 0) attrs.push_back({xfs::attr_user, after("user."), value});
        else if (name == "system.posix_acl_access")
            attrs.push_back({xfs::attr_trusted, "SGI_ACL_FILE", xfs_acl_from_xattr(value, path.string())});
        else if (name == "system.posix_acl_default")
            attrs.push_back({xfs::attr_trusted, "SGI_ACL_DEFAULT", xfs_acl_from_xattr(value, path.string())});
        else
            throw MountError("xfs cannot be made from a tree whose " + path.string() + " has the extended attribute " +
                             name + ": use ext4 for that filesystem", path.string());
        // A short-form entry holds a name and a value of at most 254 bytes each, as the kernel keeps
        // them (a longer one goes to an attribute block, which is not written here).
        if (attrs.back().name.empty() || attrs.back().name.size() > 254)
            throw MountError("xfs cannot be made from a tree whose " + path.string() + " has the extended attribute '" +
                             name + "': its name within the namespace must be 1 to 254 bytes", path.string());
        if (attrs.back().value.size() > 254)
            throw MountError("xfs cannot be made from a tree whose " + path.string() + " has an extended attribute of " +
                             std::to_string(attrs.back().value.size()) + " bytes (" + name + "): at most 254 fit in "
                             "the inode; use ext4 for that filesystem", path.string());
    }
    return attrs;
}

// An inode of the tree as an xfs image made from it must have it: its path inside, its
// lstat and its extended attributes. Listed in the prototype file's order.
struct XfsInode {
    std::string path;
    struct stat st {};
    std::vector<xfs::Attr> attrs;
    // What its data fork would hold in the inode: a directory's short-form entries (a 6-byte
    // header, then per entry 8 bytes and the name, with 4-byte inode numbers), a symbolic
    // link's target; for a file, one extent record.
    std::size_t local_bytes = 0;
};

inline std::vector<XfsInode> xfs_inodes(const std::filesystem::path& tree) {
    namespace fs = std::filesystem;
    std::vector<XfsInode> inodes;
    auto add = [&](const fs::path& path, const std::string& rel) -> std::optional<std::size_t> {
        XfsInode inode;
        if (::lstat(path.c_str(), &inode.st) != 0 || S_ISSOCK(inode.st.st_mode)) return std::nullopt;
        inode.path = rel;
        inode.attrs = xfs_attrs(path);
        inode.local_bytes = S_ISLNK(inode.st.st_mode) ? static_cast<std::size_t>(inode.st.st_size) : S_ISDIR(inode.st.st_mode) ? 6 : 16;
        inodes.push_back(std::move(inode));
        return inodes.size() - 1;
    };
    // The prototype file's order: depth first, each directory's entries in name order.
    std::function<void(const fs::path&, const std::string&, std::size_t)> walk = [&](const fs::path& dir,
                                                                                    const std::string& rel,
                                                                                    std::size_t index) {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        for (const auto& name : names) {
            const auto entry = add(dir / name, rel + "/" + name);
            if (!entry) continue;
            inodes[index].local_bytes += 8 + name.size();
            if (S_ISDIR(inodes[*entry].st.st_mode)) walk(dir / name, rel + "/" + name, *entry);
        }
    };
    if (add(tree, "/")) walk(tree, "", 0);
    return inodes;
}

// The data fork an inode made by the prototype file will have, by the tree: a directory's entries
// or a symbolic link's target in the inode when they fit in `literal` bytes, else extents (one
// record for a file with data); a device's number.
inline xfs::Format xfs_expected_format(const XfsInode& inode, std::size_t literal) {
    if (S_ISBLK(inode.st.st_mode) || S_ISCHR(inode.st.st_mode)) return xfs::Format::device;
    const bool local = (S_ISDIR(inode.st.st_mode) || S_ISLNK(inode.st.st_mode)) && inode.local_bytes <= literal;
    return local ? xfs::Format::local : xfs::Format::extents;
}

// The inode number of each of `inodes` in the xfs image made from them, in the same order: xfs_db
// lists every directory (one `ls` each, read-only), and each entry is found by its name.
inline std::vector<std::uint64_t> xfs_inode_numbers(const std::string& xfs_db, const std::filesystem::path& image,
                                                    const std::vector<XfsInode>& inodes) {
    std::string script;
    std::vector<std::size_t> directories;
    for (std::size_t i = 0; i < inodes.size(); ++i)
        if (S_ISDIR(inodes[i].st.st_mode)) {
            script += "ls " + inodes[i].path + "\n";
            directories.push_back(i);
        }
    Command db;
    db.argv = {xfs_db, "-r", image.string()};
    db.input = script;
    db.log_output = false;
    const auto sections = xfs::parse_ls(run(db).output, image.string());
    if (sections.size() != directories.size())
        throw MountError("xfs_db listed " + std::to_string(sections.size()) + " of the " + std::to_string(directories.size()) +
                         " directories of " + image.string(), image.string());
    std::vector<std::uint64_t> numbers(inodes.size(), 0);
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < inodes.size(); ++i) index.emplace(inodes[i].path, i);
    for (std::size_t d = 0; d < directories.size(); ++d) {
        const auto& dir = inodes[directories[d]].path;
        for (const auto& [name, number] : sections[d]) {
            if (name == "..") continue;
            if (name == ".") {
                numbers[directories[d]] = number;
                continue;
            }
            const auto it = index.find(dir == "/" ? "/" + name : dir + "/" + name);
            if (it == index.end())
                throw MountError("the xfs image made from the tree holds " + dir + "/" + name + ", which the tree does not",
                                 image.string());
            numbers[it->second] = number;
        }
    }
    for (std::size_t i = 0; i < inodes.size(); ++i)
        if (numbers[i] == 0)
            throw MountError("the xfs image made from the tree has no " + inodes[i].path, image.string());
    return numbers;
}

// An inode of the tree that does not fit the xfs image's inodes: its extended attributes beside
// its data fork (xfs::attr_fork_offset), or a symbolic link's target, which mkfs.xfs 6.1 writes
// wrong (a block without its header) unless it is in the inode. What to say of it.
struct XfsNoRoom {
    std::string what;
};

inline XfsNoRoom xfs_no_room_for_attrs(const std::string& path, std::size_t data, std::size_t attr, std::size_t literal) {
    return {path + " holds " + std::to_string(data) + " bytes of entries or extents and " + std::to_string(attr) +
            " of extended attributes, and an inode has " + std::to_string(literal) + " for both"};
}

inline XfsNoRoom xfs_no_room_for_link(const std::string& path, std::size_t target, std::size_t literal) {
    return {"the symbolic link " + path + " has a target of " + std::to_string(target) + " bytes, which mkfs.xfs writes "
            "right only in the inode, and an inode has " + std::to_string(literal)};
}

// Gives every inode of the xfs `image`, made from `inodes` with a prototype file, what the
// prototype could not: extended attributes, permission bits (the sticky bit), the four times.
// The first inode whose attributes find no room stops it (the image is then made again, or not
// used). See xfs_inode.hpp.
inline std::optional<XfsNoRoom> xfs_update_inodes(const std::string& xfs_db, const std::filesystem::path& image,
                                                  const std::vector<XfsInode>& inodes,
                                                  std::optional<long long> epoch = std::nullopt) {
    const auto numbers = xfs_inode_numbers(xfs_db, image, inodes);
    UniqueFd fd(::open(image.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) throw MountError("cannot open " + image.string() + ": " + std::strerror(errno), image.string());
    auto read_at = [&](std::string& bytes, std::uint64_t offset) {
        if (::pread(fd.get(), bytes.data(), bytes.size(), static_cast<off_t>(offset)) != static_cast<ssize_t>(bytes.size()))
            throw MountError("cannot read " + image.string() + " at byte " + std::to_string(offset), image.string());
    };
    auto write_at = [&](const std::string& bytes, std::uint64_t offset) {
        if (::pwrite(fd.get(), bytes.data(), bytes.size(), static_cast<off_t>(offset)) != static_cast<ssize_t>(bytes.size()))
            throw MountError("cannot write " + image.string() + " at byte " + std::to_string(offset) + ": " +
                             std::strerror(errno), image.string());
    };
    std::string sb(4096, '\0');
    read_at(sb, 0);
    const auto g = xfs::read_geometry(sb, image.string());
    const bool any_attrs = std::any_of(inodes.begin(), inodes.end(), [](const XfsInode& i) { return !i.attrs.empty(); });
    if (any_attrs && !g.attr2())
        throw MountError("xfs without attr2 (its attribute forks at a fixed place) cannot be made from a tree with "
                         "extended attributes: drop -i attr=1 from --mkfsoptions", image.string());
    std::string inode(g.inode_size, '\0');
    auto* bytes = reinterpret_cast<unsigned char*>(inode.data());
    for (std::size_t i = 0; i < inodes.size(); ++i) {
        const auto offset = g.inode_offset(numbers[i]);
        read_at(inode, offset);
        xfs::check_inode(bytes, g, numbers[i], inodes[i].st.st_mode, inodes[i].path);
        if (S_ISLNK(inodes[i].st.st_mode) && xfs::data_fork(bytes, g).format != xfs::Format::local)
            return xfs_no_room_for_link(inodes[i].path, static_cast<std::size_t>(inodes[i].st.st_size), g.literal());
        unsigned fork_offset = 0;
        if (!inodes[i].attrs.empty()) {
            if (bytes[82] != 0)
                throw MountError("the xfs inode of " + inodes[i].path + " has extended attributes already", image.string());
            const auto data = xfs::data_fork(bytes, g);
            const auto attr = xfs::attr_fork_bytes(inodes[i].attrs);
            const auto chosen = xfs::attr_fork_offset(data.format, data.bytes, attr, g.literal());
            if (!chosen)
                return xfs_no_room_for_attrs(inodes[i].path, data.format == xfs::Format::btree ? 0 : data.bytes, attr, g.literal());
            fork_offset = *chosen;
        }
        xfs::update_inode(bytes, g, inodes[i].st, inodes[i].attrs, fork_offset, epoch);
        write_at(inode, offset);
    }
    if (epoch)
        for (const auto number : {g.realtime_bitmap_inode, g.realtime_summary_inode}) {
            const auto offset = g.inode_offset(number);
            read_at(inode, offset);
            xfs::check_inode(bytes, g, number, S_IFREG, "the realtime inode");
            xfs::reset_inode(bytes, g, *epoch);
            write_at(inode, offset);
        }
    if (any_attrs && xfs::set_attr_bit(sb, g)) write_at(sb.substr(0, g.sector_size), 0);
    return std::nullopt;
}

// mkfs.xfs -p with a prototype file, then every inode is given its extended attributes, sticky
// bit and times (xfs_update_inodes). An inode must hold its attributes beside its data: when one
// cannot, the filesystem is made again with larger inodes (1024, then 2048 bytes), unless the
// kickstart chose the inode size; an inode that fits in none is an error that names it.
// With an epoch the image is reproducible: a UUID derived from the label and the epoch (unless
// the spec gives one), the times clamped, generation numbers 0.
inline void make_xfs_from_tree(const FilesystemSpec& given, const std::filesystem::path& tree,
                               const std::filesystem::path& image, std::optional<long long> epoch = std::nullopt) {
    auto spec = given;
    if (epoch && spec.uuid.empty()) spec.uuid = derived_uuid("xfs/" + spec.label + "/" + std::to_string(*epoch));
    const auto proto = image.string() + ".proto";
    std::ofstream(proto) << xfs_protofile(tree);
    const auto inodes = xfs_inodes(tree);
    const auto xfs_db = require_program("xfs_db", "xfsprogs").string();
    bool size_chosen = false;
    for (std::size_t i = 0; i + 1 < spec.mkfs_options.size(); ++i)
        if (spec.mkfs_options[i] == "-i" && spec.mkfs_options[i + 1].find("size=") != std::string::npos) size_chosen = true;
    std::vector<int> inode_sizes = {0};
    if (!size_chosen) inode_sizes.insert(inode_sizes.end(), {1024, 2048});
    // The first size to try: the smallest in which, by the tree, every inode's attributes fit
    // (mkfs's default being 512 bytes with CRCs); the image made then says whether they do.
    std::size_t attempt = 0;
    auto fits_in = [&](std::size_t inode_size) {
        const std::size_t literal = inode_size - 176;
        return std::all_of(inodes.begin(), inodes.end(), [&](const XfsInode& i) {
            if (S_ISLNK(i.st.st_mode) && i.local_bytes > literal) return false;
            if (i.attrs.empty()) return true;
            const auto format = xfs_expected_format(i, literal);
            return xfs::attr_fork_offset(format, format == xfs::Format::local ? i.local_bytes : 16,
                                         xfs::attr_fork_bytes(i.attrs), literal).has_value();
        });
    };
    while (attempt + 1 < inode_sizes.size() && !fits_in(inode_sizes[attempt] == 0 ? 512 : inode_sizes[attempt])) ++attempt;
    if (attempt > 0)
        log::info("xfs: ", inode_sizes[attempt], "-byte inodes, so that every directory's entries and symbolic link's "
                  "target fit in its inode beside its extended attributes");
    for (;; ++attempt) {
        auto argv = mkfs_from_tree_command(spec, proto, image);
        argv.front() = require_program(argv.front(), "xfsprogs").string();
        if (inode_sizes[attempt] != 0)
            argv.insert(argv.end() - 1, {"-i", "size=" + std::to_string(inode_sizes[attempt])});
        run(argv);
        const auto no_room = xfs_update_inodes(xfs_db, image, inodes, epoch);
        if (!no_room) break;
        const auto& numbers = no_room->what;
        if (attempt + 1 == inode_sizes.size()) {
            std::filesystem::remove(proto);
            throw MountError("xfs cannot be made from this tree: " + numbers + (size_chosen ? " (the inode size "
                             "--mkfsoptions chose); drop -i size= or use ext4" : " even in the largest inodes; use ext4") +
                             " for part " + spec.mountpoint, image.string());
        }
        log::info("xfs: ", numbers, "; made again with ", inode_sizes[attempt + 1], "-byte inodes");
        detail::make_sparse_file(image, spec.size_mib << 20);
    }
    std::filesystem::remove(proto);
}

// mkfs.fat in the file, then mtools copies the tree in. The volume id is the spec's UUID as
// vfat writes it (XXXX-XXXX); with an epoch every time stamp is the epoch, so the same tree gives
// the same bytes.
inline void make_vfat_from_tree(const FilesystemSpec& spec, const std::filesystem::path& tree,
                                const std::filesystem::path& image, std::optional<long long> epoch) {
    namespace fs = std::filesystem;
    make_sparse_file(image, spec.size_mib << 20);
    Command mkfs;
    mkfs.argv = {require_program("mkfs.fat", "dosfstools").string()};
    if (spec.size_mib >= 64) mkfs.argv.insert(mkfs.argv.end(), {"-F", "32"});  // what firmware expects of an ESP
    if (!spec.label.empty()) mkfs.argv.insert(mkfs.argv.end(), {"-n", spec.label});
    if (epoch) mkfs.argv.push_back("--invariant");  // before -i: it sets a volume id of its own
    if (!spec.uuid.empty()) {
        std::string id;
        for (char c : spec.uuid)
            if (c != '-') id += c;
        mkfs.argv.insert(mkfs.argv.end(), {"-i", id.substr(0, 8)});
    }
    mkfs.argv.insert(mkfs.argv.end(), spec.mkfs_options.begin(), spec.mkfs_options.end());
    mkfs.argv.push_back(image.string());
    run(mkfs);

    // mcopy copies what a link names, on the host: a link in the image (to /etc/shadow, say) would
    // bring the host's file in. vfat holds no links, and rpm cannot write one on a mounted ESP.
    std::error_code ec;
    for (fs::recursive_directory_iterator it(tree, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_symlink(ec))
            throw MountError("the vfat filesystem for " + spec.mountpoint + " cannot hold the symbolic link " +
                                 (fs::path(spec.mountpoint) / it->path().lexically_relative(tree)).string() + " -> " +
                                 fs::read_symlink(it->path(), ec).string() +
                                 ": vfat has no links (rpm could not write one on a real ESP either); replace it "
                                 "with a copy, or remove it, in %post",
                             it->path().string());
    if (ec) throw MountError("cannot read " + tree.string() + ": " + ec.message(), tree.string());
    std::vector<std::string> entries;
    for (const auto& e : fs::directory_iterator(tree)) entries.push_back(e.path().string());
    if (entries.empty()) return;
    std::sort(entries.begin(), entries.end());
    Command mcopy;
    // With an epoch every file gets it (mtools' clock is SOURCE_DATE_EPOCH); else each keeps its own time.
    mcopy.argv = {require_program("mcopy", "mtools").string(), "-s", "-p", "-Q", "-i", image.string()};
    if (!epoch) mcopy.argv.push_back("-m");
    mcopy.argv.insert(mcopy.argv.end(), entries.begin(), entries.end());
    mcopy.argv.push_back("::/");
    std::map<std::string, std::string> env;
    for (const auto& [k, v] : clean_environment()) env[k] = v;
    env["MTOOLS_SKIP_CHECK"] = "1";
    if (epoch) env["SOURCE_DATE_EPOCH"] = std::to_string(*epoch);
    mcopy.env = env;
    run(mcopy);
}

inline void make_swap(const FilesystemSpec& spec, const std::filesystem::path& image) {
    make_sparse_file(image, spec.size_mib << 20);
    std::vector<std::string> argv = {require_program("mkswap", "util-linux").string(), "-q"};
    if (!spec.label.empty()) argv.insert(argv.end(), {"-L", spec.label});
    if (!spec.uuid.empty()) argv.insert(argv.end(), {"-U", spec.uuid});
    argv.push_back(image.string());
    run(argv);
}

}  // namespace detail

// Whether make_filesystem_from_tree can write `spec`'s filesystem straight into a disk image at
// an offset: ext* not made reproducibly (mke2fs -E offset=), unless the kickstart's
// --mkfsoptions give extended options of their own (mke2fs keeps only the last -E).
inline bool writes_at_offset(const FilesystemSpec& spec, bool reproducible) {
    if (!is_ext(spec.fstype) || reproducible) return false;
    for (const auto& o : spec.mkfs_options)
        if (o.rfind("-E", 0) == 0 || o.rfind("-R", 0) == 0) return false;
    return true;
}

// Makes `image`, a sparse file of spec.size_mib MiB, holding `tree`'s files in a new `spec`
// filesystem, without the subtrees named in `excluded` (relative to the tree; their directories
// stay, empty). With an epoch an ext* image is reproducible (see above). A tree that does not fit
// is an error that says by how much. A swap "filesystem" takes nothing from the tree.
// `offset` (only where writes_at_offset): `image` is a disk image that exists, and the filesystem
// is written into it there, at spec.size_mib MiB, with nothing to copy afterwards.
inline void make_filesystem_from_tree(const FilesystemSpec& spec, const std::filesystem::path& tree,
                                      const std::filesystem::path& image, std::optional<long long> epoch = std::nullopt,
                                      const std::vector<std::filesystem::path>& excluded = {},
                                      std::optional<std::uint64_t> offset = std::nullopt) {
    if (offset && !writes_at_offset(spec, epoch.has_value()))
        throw MountError("a " + spec.fstype + " filesystem cannot be written into a disk image at an offset", image.string());
    const std::uint64_t bytes = spec.size_mib << 20;
    if (spec.fstype == "swap") {
        detail::make_swap(spec, image);
        log::info("made a ", spec.size_mib, " MiB swap area");
        return;
    }
    detail::ExcludedSubtrees aside(tree, excluded);
    try {
        if (epoch && is_ext(spec.fstype)) {
            write_reproducible_ext4(tree, image, spec.label, bytes, *epoch, spec.fstype, spec.uuid, spec.mkfs_options);
        } else if (spec.fstype == "vfat") {
            detail::make_vfat_from_tree(spec, tree, image, epoch);
        } else if (spec.fstype == "xfs") {
            detail::make_sparse_file(image, bytes);
            detail::make_xfs_from_tree(spec, tree, image, epoch);
        } else {
            if (epoch) log::warning(not_reproducible_warning(spec.fstype));
            auto argv = mkfs_from_tree_command(spec, tree, image);
            argv.front() = require_program(argv.front(), package_providing_mkfs(spec.fstype)).string();
            if (offset) {
                argv.insert(argv.end() - 1, {"-E", "offset=" + std::to_string(*offset)});
                argv.push_back(std::to_string(spec.size_mib) + "M");
            } else {
                detail::make_sparse_file(image, bytes);
            }
            run(argv);
        }
    } catch (const CommandError&) {
        const auto used = detail::tree_bytes(tree);
        // A filesystem keeps part of itself for metadata and the journal; 95 % is what can hold files.
        if (used > bytes / 100 * 95) {
            char numbers[160];
            std::snprintf(numbers, sizeof numbers, "the tree holds %.1f MiB, the %s image is %llu MiB", used / 1048576.0,
                          spec.fstype.c_str(), static_cast<unsigned long long>(spec.size_mib));
            throw MountError("the image is full: raise part " + spec.mountpoint + " --size (" + std::string(numbers) + ")",
                             image.string());
        }
        throw;
    }
    // The mount point says which part of the tree it holds (the tree may be that part moved aside).
    log::info("made a ", spec.size_mib, " MiB ", spec.fstype, " image", spec.label.empty() ? "" : " labelled '" + spec.label + "'",
              spec.mountpoint.empty() ? " from " + tree.string() : " for " + spec.mountpoint,
              offset ? " in " + image.filename().string() + " at " + std::to_string(*offset >> 20) + " MiB" : "");
}

}  // namespace imgcreate::mount

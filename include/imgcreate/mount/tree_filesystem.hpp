// imgcreate — a filesystem image made from a directory tree, with no loop device and no mount:
// mkfs.ext2/3/4 -d, mkfs.btrfs --rootdir. The files keep the owners, modes, extended attributes
// (SELinux labels, file capabilities) and time stamps they have in the tree, so a build by a
// user in a user namespace gives the same image as one by root.
//
// Also xfs (mkfs.xfs -p with a prototype file written from the tree for the files, owners and
// modes; then xfs_db gives every inode its extended attributes, time stamps and sticky bit, which
// a prototype file cannot carry; hard links become copies), vfat (mkfs.fat,
// then mtools copies the tree in) and swap (mkswap; no tree). Subtrees the image must not hold
// (what other filesystems are mounted on) are left out: their directories stay, empty, as the
// mount points.
//
// For a reproducible build (an epoch, from SOURCE_DATE_EPOCH) an ext* image gets a UUID and
// directory hash seed derived from its label and the epoch, the tools' own clocks set to the
// epoch and every inode's times clamped to it: the same tree gives the same bytes, whichever
// filesystem the tree was read from (mkfs.ext4 -d adds a directory's entries in name order).
#pragma once

#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>

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

// xfsprogs' prototype file: "name mode uid gid [source|target|major minor]" per entry, "$" after
// each directory's entries. It cannot name a file with white space in its name, and cannot set
// the sticky bit: those directories are listed in `sticky` for xfs_db to fix afterwards.
inline std::string xfs_protofile(const std::filesystem::path& tree, std::vector<std::string>& sticky) {
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
    if (st.st_mode & S_ISVTX) sticky.push_back("/");
    // Depth first, each directory's entries in name order (the same tree gives the same file).
    std::function<void(const fs::path&, const std::string&, int)> walk = [&](const fs::path& dir, const std::string& rel,
                                                                            int depth) {
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
            out += indent + name + " " + mode_text(st) + ids(st);
            if (S_ISREG(st.st_mode)) out += " " + path.string();
            else if (S_ISLNK(st.st_mode)) out += " " + fs::read_symlink(path).string();
            else if (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode))
                out += " " + std::to_string(major(st.st_rdev)) + " " + std::to_string(minor(st.st_rdev));
            out += "\n";
            if (S_ISDIR(st.st_mode)) {
                if (st.st_mode & S_ISVTX) sticky.push_back(rel + "/" + name);
                walk(path, rel + "/" + name, depth + 1);
                out += indent + "$\n";
            }
        }
    };
    walk(tree, "", 1);
    out += "$\n";
    return out;
}

// xfs_db's value for a time stamp: on a bigtime filesystem the nanoseconds since the oldest time
// xfs can hold (-2^31 s), in the one field; else seconds and nanoseconds apart.
inline std::vector<std::string> xfs_time_writes(const std::string& field, const struct timespec& t, bool bigtime) {
    if (bigtime) {
        const auto raw = (static_cast<unsigned long long>(t.tv_sec + 2147483648LL)) * 1000000000ULL +
                         static_cast<unsigned long long>(t.tv_nsec);
        return {"write " + field + ".sec " + std::to_string(raw)};
    }
    return {"write " + field + ".sec " + std::to_string(t.tv_sec), "write " + field + ".nsec " + std::to_string(t.tv_nsec)};
}

// An extended attribute as xfs stores it: xfs_db's namespace flag for attr_set (-s security,
// -r trusted and xfs's own, -u user), the name within the namespace, the value.
struct XfsAttr {
    std::string flag;
    std::string name;
    std::string value;
};

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

// The extended attributes of `path` (not followed), in the order llistxattr gives them.
inline std::vector<XfsAttr> xfs_attrs(const std::filesystem::path& path) {
    std::vector<XfsAttr> attrs;
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
        ssize_t length = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
        if (length <= 0) continue;
        std::string value(static_cast<std::size_t>(length), '\0');
        length = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
        if (length <= 0) continue;
        value.resize(static_cast<std::size_t>(length));
        auto after = [&](const std::string& prefix) { return name.substr(prefix.size()); };
        if (name.rfind("security.", 0) == 0) attrs.push_back({"-s", after("security."), value});
        else if (name.rfind("trusted.", 0) == 0) attrs.push_back({"-r", after("trusted."), value});
        else if (name.rfind("user.", 0) == 0) attrs.push_back({"-u", after("user."), value});
        else if (name == "system.posix_acl_access")
            attrs.push_back({"-r", "SGI_ACL_FILE", xfs_acl_from_xattr(value, path.string())});
        else if (name == "system.posix_acl_default")
            attrs.push_back({"-r", "SGI_ACL_DEFAULT", xfs_acl_from_xattr(value, path.string())});
        else
            throw MountError("xfs cannot be made from a tree whose " + path.string() + " has the extended attribute " +
                             name + ": use ext4 for that filesystem", path.string());
        if (attrs.back().name.empty() || attrs.back().name.find_first_of(" \t\n\"'\\") != std::string::npos)
            throw MountError("xfs cannot be made from a tree whose " + path.string() + " has the extended attribute '" +
                             name + "': xfs_db cannot name it; use ext4 for that filesystem", path.string());
        // A short-form entry holds a value of at most 255 bytes (one byte of length).
        if (attrs.back().value.size() > 255)
            throw MountError("xfs cannot be made from a tree whose " + path.string() + " has an extended attribute of " +
                             std::to_string(attrs.back().value.size()) + " bytes (" + name + "): at most 255 fit in "
                             "the inode; use ext4 for that filesystem", path.string());
    }
    return attrs;
}

// An inode of the tree as an xfs image made from it must have it: its path inside, its
// lstat and its extended attributes. Listed in the prototype file's order.
struct XfsInode {
    std::string path;
    struct stat st {};
    std::vector<XfsAttr> attrs;
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

// Bytes the short-form attribute fork holding `attrs` takes: a 4-byte header, then per entry
// its name and value lengths and flags (3 bytes), the name and the value.
inline std::size_t xfs_attr_fork_bytes(const std::vector<XfsAttr>& attrs) {
    std::size_t bytes = 4;
    for (const auto& a : attrs) bytes += 3 + a.name.size() + a.value.size();
    return bytes;
}

// Whether an inode whose data fork holds `data_bytes` (a short-form directory's entries, a
// symbolic link's target, the extent records) keeps them beside a short-form attribute fork of
// `attr_bytes` in an inode with `literal` bytes for both. xfs_db adds an attribute fork only so:
// a data fork that no longer fits would have to be converted, which xfsprogs 6.1's xfs_db cannot
// (it crashes doing it to a directory). The data fork is given at least the 36 bytes xfs keeps
// for a B+tree root, rounded to 8 as the fork offset is.
inline bool xfs_attrs_fit(std::size_t data_bytes, std::size_t attr_bytes, std::size_t literal) {
    const std::size_t data = (std::max<std::size_t>(data_bytes, 36) + 7) / 8 * 8;
    return data + attr_bytes <= literal;
}

// The xfs_db commands that give every inode of an xfs image made from `inodes` with a prototype
// file what the prototype could not: the extended attributes (attr_set makes each with a value
// of its length, then the value is written into the short-form entry, the n-th set being the
// n-th entry), the sticky bit, and the access, change, modification and creation times (last:
// setting an attribute changes the inode).
inline std::string xfs_inode_script(const std::vector<XfsInode>& inodes, bool bigtime) {
    static const char hex[] = "0123456789abcdef";
    std::string script;
    for (const auto& inode : inodes) {
        const auto& st = inode.st;
        script += "path " + inode.path + "\n";
        for (std::size_t i = 0; i < inode.attrs.size(); ++i) {
            const auto& a = inode.attrs[i];
            script += "attr_set " + a.flag + " -v " + std::to_string(a.value.size()) + " " + a.name + "\n";
            if (a.value.empty()) continue;
            script += "write a.sfattr.list[" + std::to_string(i) + "].value #";
            for (unsigned char c : a.value) {
                script += hex[c >> 4];
                script += hex[c & 15];
            }
            script += "\n";
        }
        if (st.st_mode & S_ISVTX) {
            char mode[16];
            std::snprintf(mode, sizeof mode, "0%o", static_cast<unsigned>(st.st_mode));
            script += std::string("write core.mode ") + mode + "\n";
        }
        for (const auto& [field, t] : {std::pair<const char*, struct timespec>{"core.atime", st.st_atim},
                                       {"core.mtime", st.st_mtim}, {"core.ctime", st.st_ctim}, {"v3.crtime", st.st_ctim}})
            for (const auto& w : xfs_time_writes(field, t, bigtime)) script += w + "\n";
    }
    return script;
}

// The value of `field = value` lines in xfs_db's output, in order.
inline std::vector<std::string> xfs_db_values(const std::string& output, const std::string& field) {
    std::vector<std::string> values;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind(field + " = ", 0) == 0) values.push_back(line.substr(field.size() + 3));
    return values;
}

// The first inode of `inodes` whose extended attributes would not fit beside its data fork in
// the xfs image (see xfs_attrs_fit), or none.
struct XfsNoRoom {
    std::string path;
    std::size_t data_bytes = 0;
    std::size_t attr_bytes = 0;
    std::size_t literal = 0;
};

inline std::optional<XfsNoRoom> xfs_attr_room(const std::string& xfs_db, const std::filesystem::path& image,
                                              const std::vector<XfsInode>& inodes) {
    const auto sb = run({xfs_db, "-r", "-c", "sb 0", "-c", "print inodesize", "-c", "version", image.string()}).output;
    const auto sizes = xfs_db_values(sb, "inodesize");
    if (sizes.empty()) throw MountError("xfs_db could not read the inode size of " + image.string(), image.string());
    // The inode's core takes 176 bytes in a v5 (CRC) filesystem, 100 before.
    const std::size_t core = sb.find("CRC") != std::string::npos ? 176 : 100;
    const std::size_t literal = std::stoul(sizes.front()) - core;
    std::string script;
    std::vector<const XfsInode*> asked;
    for (const auto& inode : inodes) {
        if (inode.attrs.empty()) continue;
        script += "path " + inode.path + "\nprint core.format core.size core.nextents\n";
        asked.push_back(&inode);
    }
    if (asked.empty()) return std::nullopt;
    Command db;
    db.argv = {xfs_db, "-r", image.string()};
    db.input = script;
    db.log_output = false;
    const auto output = run(db).output;
    const auto formats = xfs_db_values(output, "core.format");
    const auto sizes_on_disk = xfs_db_values(output, "core.size");
    const auto extents = xfs_db_values(output, "core.nextents");
    if (formats.size() != asked.size() || sizes_on_disk.size() != asked.size() || extents.size() != asked.size())
        throw MountError("xfs_db could not read back every inode of " + image.string() + " made from the tree",
                         image.string());
    for (std::size_t i = 0; i < asked.size(); ++i) {
        std::size_t data = 0;
        if (formats[i].rfind("1 ", 0) == 0) data = std::stoul(sizes_on_disk[i]);          // local
        else if (formats[i].rfind("2 ", 0) == 0) data = 16 * std::stoul(extents[i]);      // extents
        else if (formats[i].rfind("0 ", 0) == 0) data = 4;                                // a device
        else data = std::numeric_limits<std::size_t>::max() / 2;                           // a B+tree: never
        const auto attr = xfs_attr_fork_bytes(asked[i]->attrs);
        if (!xfs_attrs_fit(data, attr, literal)) return XfsNoRoom{asked[i]->path, data, attr, literal};
    }
    return std::nullopt;
}

// mkfs.xfs -p with a prototype file, then xfs_db gives every inode its extended attributes,
// sticky bit and times. An inode must hold its attributes beside its data (xfs_attrs_fit): when
// one cannot, the filesystem is made again with larger inodes (1024, then 2048 bytes), unless the
// kickstart chose the inode size; an inode that fits in none is an error that names it.
inline void make_xfs_from_tree(const FilesystemSpec& spec, const std::filesystem::path& tree,
                               const std::filesystem::path& image) {
    std::vector<std::string> sticky;
    const auto proto = image.string() + ".proto";
    std::ofstream(proto) << xfs_protofile(tree, sticky);
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
            if (i.attrs.empty()) return true;
            const bool local = (S_ISDIR(i.st.st_mode) || S_ISLNK(i.st.st_mode)) && i.local_bytes <= literal;
            return xfs_attrs_fit(local ? i.local_bytes : 16, xfs_attr_fork_bytes(i.attrs), literal);
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
        const auto no_room = xfs_attr_room(xfs_db, image, inodes);
        if (!no_room) break;
        const auto numbers = no_room->path + " holds " + std::to_string(no_room->data_bytes) + " bytes of entries or " +
                             "extents and " + std::to_string(no_room->attr_bytes) + " of extended attributes, and an "
                             "inode has " + std::to_string(no_room->literal) + " for both";
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

    const bool bigtime = run({xfs_db, "-r", "-c", "version", image.string()}).output.find("BIGTIME") != std::string::npos;
    Command db;
    db.argv = {xfs_db, "-x", image.string()};
    db.input = xfs_inode_script(inodes, bigtime);
    db.log_output = false;
    const auto result = run(db);
    // xfs_db goes on after a command it cannot carry out, and exits 0: its complaints are the errors.
    std::istringstream lines(result.output);
    for (std::string line; std::getline(lines, line);) {
        if (line.find(" = ") != std::string::npos) continue;  // a written field, echoed
        throw MountError("xfs_db could not give " + image.string() + " the tree's attributes and time stamps: " + line,
                         image.string());
    }
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
            if (epoch) log::warning("xfs images made from a tree are not byte-reproducible: only ext* is");
            detail::make_sparse_file(image, bytes);
            detail::make_xfs_from_tree(spec, tree, image);
        } else {
            if (epoch) log::warning(spec.fstype, " images made from a tree are not byte-reproducible: only ext* is");
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

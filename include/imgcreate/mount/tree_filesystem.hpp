// imgcreate — a filesystem image made from a directory tree, with no loop device and no mount:
// mkfs.ext2/3/4 -d, mkfs.btrfs --rootdir. The files keep the owners, modes, extended attributes
// (SELinux labels, file capabilities) and time stamps they have in the tree, so a build by a
// user in a user namespace gives the same image as one by root.
//
// Also xfs (mkfs.xfs -p with a prototype file written from the tree for the files, owners and
// modes; then xfs_db gives every inode its time stamps and sticky bit, which a prototype file
// cannot carry; extended attributes are not kept, and hard links become copies), vfat (mkfs.fat,
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
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

// The xfs_db commands that give every inode of an xfs image made from `tree` with a prototype
// file what the prototype could not: the sticky bit, and the access, change, modification and
// creation times. Not the extended attributes: xfsprogs 6.1's xfs_db crashes (SIGSEGV) setting
// one on a directory whose entries are held in its inode, the common case.
inline std::string xfs_inode_script(const std::filesystem::path& tree, bool bigtime) {
    namespace fs = std::filesystem;
    std::string script;
    auto fix = [&](const fs::path& path, const std::string& rel) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0 || S_ISSOCK(st.st_mode)) return;
        script += "path " + rel + "\n";
        if (st.st_mode & S_ISVTX) {
            char mode[16];
            std::snprintf(mode, sizeof mode, "0%o", static_cast<unsigned>(st.st_mode));
            script += std::string("write core.mode ") + mode + "\n";
        }
        for (const auto& [field, t] : {std::pair<const char*, struct timespec>{"core.atime", st.st_atim},
                                       {"core.mtime", st.st_mtim}, {"core.ctime", st.st_ctim}, {"v3.crtime", st.st_ctim}})
            for (const auto& w : xfs_time_writes(field, t, bigtime)) script += w + "\n";
    };
    fix(tree, "/");
    // The prototype file's order: depth first, each directory's entries in name order.
    std::function<void(const fs::path&, const std::string&)> walk = [&](const fs::path& dir, const std::string& rel) {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        for (const auto& name : names) {
            const auto path = dir / name;
            fix(path, rel + "/" + name);
            struct stat st {};
            if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) walk(path, rel + "/" + name);
        }
    };
    walk(tree, "");
    return script;
}

inline void make_xfs_from_tree(const FilesystemSpec& spec, const std::filesystem::path& tree,
                               const std::filesystem::path& image) {
    std::vector<std::string> sticky;
    const auto proto = image.string() + ".proto";
    std::ofstream(proto) << xfs_protofile(tree, sticky);
    auto argv = mkfs_from_tree_command(spec, proto, image);
    argv.front() = require_program(argv.front(), "xfsprogs").string();
    run(argv);
    std::filesystem::remove(proto);

    const auto xfs_db = require_program("xfs_db", "xfsprogs").string();
    const bool bigtime = run({xfs_db, "-r", "-c", "version", image.string()}).output.find("BIGTIME") != std::string::npos;
    Command db;
    db.argv = {xfs_db, "-x", image.string()};
    db.input = xfs_inode_script(tree, bigtime);
    db.log_output = false;
    const auto result = run(db);
    // xfs_db goes on after a command it cannot carry out, and exits 0: its complaints are the errors.
    std::istringstream lines(result.output);
    for (std::string line; std::getline(lines, line);) {
        if (line.find(" = ") != std::string::npos) continue;  // a written field, echoed
        throw MountError("xfs_db could not give " + image.string() + " the tree's time stamps: " + line,
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

// Makes `image`, a sparse file of spec.size_mib MiB, holding `tree`'s files in a new `spec`
// filesystem, without the subtrees named in `excluded` (relative to the tree; their directories
// stay, empty). With an epoch an ext* image is reproducible (see above). A tree that does not fit
// is an error that says by how much. A swap "filesystem" takes nothing from the tree.
inline void make_filesystem_from_tree(const FilesystemSpec& spec, const std::filesystem::path& tree,
                                      const std::filesystem::path& image, std::optional<long long> epoch = std::nullopt,
                                      const std::vector<std::filesystem::path>& excluded = {}) {
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
            detail::make_sparse_file(image, bytes);
            auto argv = mkfs_from_tree_command(spec, tree, image);
            argv.front() = require_program(argv.front(), package_providing_mkfs(spec.fstype)).string();
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
    log::info("made a ", spec.size_mib, " MiB ", spec.fstype, " image", spec.label.empty() ? "" : " labelled '" + spec.label + "'",
              " from ", tree.string());
}

}  // namespace imgcreate::mount

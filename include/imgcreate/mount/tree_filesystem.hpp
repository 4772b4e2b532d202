// imgcreate — a filesystem image made from a directory tree, with no loop device and no mount:
// mkfs.ext2/3/4 -d, mkfs.btrfs --rootdir. The files keep the owners, modes, extended attributes
// (SELinux labels, file capabilities) and time stamps they have in the tree, so a build by a
// user in a user namespace gives the same image as one by root.
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
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/stat.h>

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
inline void write_reproducible_ext4(const std::filesystem::path& tree, const std::filesystem::path& image,
                                    const std::string& label, std::uint64_t size_bytes, long long epoch,
                                    const std::string& fstype = "ext4") {
    namespace fs = std::filesystem;
    const auto env = detail::epoch_environment(epoch);
    const auto uuid = derived_uuid(label + "/" + std::to_string(epoch));
    const auto seed = derived_uuid("hash-seed/" + label + "/" + std::to_string(epoch));

    detail::make_sparse_file(image, size_bytes);
    Command mkfs;
    mkfs.argv = {require_program("mkfs." + fstype, "e2fsprogs").string(), "-F", "-q", "-L", label, "-m", "1", "-b", "4096",
                 "-U", uuid, "-E", "hash_seed=" + seed + ",lazy_itable_init=0,lazy_journal_init=0",
                 "-d", tree.string(), image.string()};
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

// The mkfs command that makes `spec`'s filesystem on `image` holding `tree`'s files.
inline std::vector<std::string> mkfs_from_tree_command(const FilesystemSpec& spec, const std::filesystem::path& tree,
                                                       const std::filesystem::path& image) {
    auto argv = mkfs_command(spec, image);
    argv.pop_back();
    if (is_ext(spec.fstype))
        argv.insert(argv.end(), {"-d", tree.string()});
    else if (spec.fstype == "btrfs")
        argv.insert(argv.end(), {"--rootdir", tree.string()});
    else
        throw MountError("making " + spec.fstype + " from a directory tree is not supported: use ext4 (the default), "
                         "ext3, ext2 or btrfs for part /, or build as root with a loop device");
    argv.push_back(image.string());
    return argv;
}

// Makes `image`, a sparse file of spec.size_mib MiB, holding `tree`'s files in a new `spec`
// filesystem. With an epoch an ext* image is reproducible (see above). A tree that does not fit
// is an error that says by how much.
inline void make_filesystem_from_tree(const FilesystemSpec& spec, const std::filesystem::path& tree,
                                      const std::filesystem::path& image, std::optional<long long> epoch = std::nullopt) {
    const std::uint64_t bytes = spec.size_mib << 20;
    try {
        if (epoch && is_ext(spec.fstype)) {
            write_reproducible_ext4(tree, image, spec.label, bytes, *epoch, spec.fstype);
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
            throw MountError("the image is full: raise part / --size (" + std::string(numbers) + ")", image.string());
        }
        throw;
    }
    log::info("made a ", spec.size_mib, " MiB ", spec.fstype, " image labelled '", spec.label, "' from ", tree.string());
}

}  // namespace imgcreate::mount

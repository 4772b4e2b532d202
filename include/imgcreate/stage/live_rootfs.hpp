// imgcreate — the live root image as it goes on the ISO. Normally the loop image itself,
// minimised. For a reproducible build (SOURCE_DATE_EPOCH) it is written afresh from the
// mounted tree with mkfs.ext4 -d, with a UUID and directory hash seed derived from the label
// and epoch and every time stamp clamped, since a filesystem that was mounted read-write keeps
// a journal, allocation order and times of its own that no two builds share.
#pragma once

#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/libmount.hpp>
#include <imgcreate/mount/loop_device.hpp>
#include <imgcreate/mount/minimize.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include <sys/stat.h>

namespace imgcreate::stage {

// Mounts an image file read-only on `mountpoint` for as long as `work` runs.
template <typename F> void with_image_mounted(const std::filesystem::path& image, const std::filesystem::path& mountpoint,
                                              F&& work) {
    std::filesystem::create_directories(mountpoint);
    auto loop = mount::LoopDevice::attach(image, true);
    auto m = mount::Mount::mount({loop.path().string(), mountpoint, "", "ro"});
    loop.close();  // the mount alone holds the autoclear device now
    std::forward<F>(work)();
    m.unmount();
}

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

}  // namespace detail

// Writes `image` anew from `tree` (a mounted root), byte-identical for the same tree and epoch.
inline void write_reproducible_ext4(const std::filesystem::path& tree, const std::filesystem::path& image,
                                    const std::string& label, std::uint64_t size_bytes, long long epoch) {
    namespace fs = std::filesystem;
    std::map<std::string, std::string> env;
    for (const auto& [k, v] : clean_environment()) env[k] = v;
    env["E2FSPROGS_FAKE_TIME"] = std::to_string(epoch);
    env["SOURCE_DATE_EPOCH"] = std::to_string(epoch);
    const auto uuid = derived_uuid(label + "/" + std::to_string(epoch));
    const auto seed = derived_uuid("hash-seed/" + label + "/" + std::to_string(epoch));

    std::error_code ec;
    fs::remove(image, ec);
    { std::ofstream(image).flush(); }
    fs::resize_file(image, size_bytes);
    Command mkfs;
    mkfs.argv = {require_program("mkfs.ext4", "e2fsprogs").string(), "-F", "-q", "-L", label, "-m", "1", "-b", "4096",
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

// Shrinks the image; with an epoch the tools' own time stamps are the epoch too (e2fsck
// reads E2FSCK_TIME, the rest E2FSPROGS_FAKE_TIME), and the superblock's lifetime-writes
// counter, which depends on how much the tools happened to write, is reset.
inline void minimise_live_rootfs(const std::filesystem::path& image, std::optional<long long> epoch) {
    if (!epoch) {
        mount::minimize_image(image, "ext4");
        return;
    }
    const auto e = std::to_string(*epoch);
    struct ScopedEnv {
        std::string name, saved;
        bool had;
        ScopedEnv(const char* n, const std::string& value) : name(n), had(::getenv(n) != nullptr) {
            if (had) saved = ::getenv(n);
            ::setenv(n, value.c_str(), 1);
        }
        ~ScopedEnv() { had ? ::setenv(name.c_str(), saved.c_str(), 1) : ::unsetenv(name.c_str()); }
    } fake("E2FSPROGS_FAKE_TIME", e), fsck("E2FSCK_TIME", e);
    mount::minimize_image(image, "ext4");
    run({require_program("debugfs", "e2fsprogs").string(), "-w", "-R", "ssv kbytes_written 0", image.string()});
    run({require_program("debugfs", "e2fsprogs").string(), "-w", "-R", "ssv lastcheck " + e, image.string()});
}

}  // namespace imgcreate::stage

// imgcreate — an install tree held in memory: a tmpfs on the install root, in the build's private
// mount namespace, for the policies that make their filesystems from the tree at the end
// (MkfsMount, and any policy of that kind). The install then writes no file to disk, and the
// tree goes with one unmount instead of an unlink of every file; since the mount namespace is
// the build's own, the tmpfs goes with the build however it ends, SIGKILL included.
//
// It is taken only when the tree's limit is at most half of the memory the host has available
// and this process may mount (root, or root of its user namespace); CreatorOptions::tree_on_disk
// and nocleanup (which keeps the tree for a look after a failure) keep the tree on disk. A tree
// that outgrows the tmpfs fails with ENOSPC, as it would in an image of that size.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/mount/libmount.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include <sys/statvfs.h>
#include <unistd.h>

namespace imgcreate::mount {

// MemAvailable from /proc/meminfo, in bytes; nothing if it cannot be read.
inline std::optional<std::uint64_t> available_memory_bytes() {
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    std::uint64_t kib = 0;
    std::string unit;
    while (meminfo >> key >> kib) {
        std::getline(meminfo, unit);
        if (key == "MemAvailable:") return kib * 1024;
    }
    return std::nullopt;
}

class TreeInMemory {
public:
    // Mounts a tmpfs of `limit_mib` on ctx.install_root (an empty directory) if the rules above
    // allow; otherwise, or if the mount fails, leaves the tree on disk. Returns whether it is in memory.
    bool hold(BuildContext& ctx, std::uint64_t limit_mib) {
        if (ctx.options.tree_on_disk || ctx.options.nocleanup) return false;
        const auto available = available_memory_bytes();
        if (::geteuid() != 0 || !available || (limit_mib << 20) > *available / 2) {
            log::debug("the tree is installed on disk: ", limit_mib,
                       " MiB is more than half of the available memory, or this process cannot mount");
            return false;
        }
        try {
            auto tmpfs = std::make_shared<Mount>(Mount::mount(
                {"tmpfs", ctx.install_root, "tmpfs", "mode=0755,size=" + std::to_string(limit_mib) + "m,nr_inodes=0"}));
            token_ = ctx.cleanup.push("unmount the in-memory tree " + ctx.install_root.string(), [tmpfs] { tmpfs->unmount(); });
            held_ = true;
        } catch (const MountError& e) {
            log::debug("the tree is installed on disk: ", e.what());
        }
        return held_;
    }

    // The same, for a policy that also moves parts of the tree aside next to it (DiskStage's
    // subtrees of other filesystems, ExcludedSubtrees): the tmpfs goes on <build_dir>/in-memory
    // and the install root is made inside it, so those renames stay within the tmpfs. Sets
    // ctx.install_root either way (to <build_dir>/install_root when the tree stays on disk).
    bool hold_with_siblings(BuildContext& ctx, std::uint64_t limit_mib) {
        const auto memory = ctx.build_dir / "in-memory";
        std::error_code ec;
        std::filesystem::create_directory(memory, ec);
        const auto install_root = ctx.install_root;
        ctx.install_root = memory;
        const bool held = !ec && hold(ctx, limit_mib);
        ctx.install_root = install_root;
        if (!held) {
            std::filesystem::remove(memory, ec);
            return false;
        }
        ctx.install_root = memory / "install_root";
        std::filesystem::create_directory(ctx.install_root, ec);
        if (ec) throw MountError("cannot create the install root " + ctx.install_root.string() + ": " + ec.message(),
                                 ctx.install_root.string());
        std::filesystem::permissions(ctx.install_root, std::filesystem::perms(0755), ec);
        return true;
    }

    // Drops the tree now (it goes at cleanup otherwise). False if it is not in memory.
    bool drop(BuildContext& ctx) {
        if (!token_) return false;
        auto token = *token_;
        token_.reset();
        ctx.cleanup.run(token);
        return true;
    }

    bool held() const noexcept { return held_; }

    // After a failed install or configure step: a tree that filled its tmpfs is an image too
    // small for it ("the image is full: raise ..."); nothing otherwise.
    std::optional<std::string> full_message(const BuildContext& ctx, const std::string& what_to_raise,
                                            const std::string& image) const {
        if (!token_) return std::nullopt;
        struct statvfs st {};
        if (::statvfs(ctx.install_root.c_str(), &st) != 0) return std::nullopt;
        const double mib = 1024.0 * 1024.0;
        if (static_cast<double>(st.f_bavail) * st.f_frsize > 4 * mib) return std::nullopt;
        char numbers[160];
        std::snprintf(numbers, sizeof numbers, "the tree holds %.1f MiB, ",
                      static_cast<double>(st.f_blocks - st.f_bfree) * st.f_frsize / mib);
        return "the image is full: raise " + what_to_raise + " (" + numbers + image + ")";
    }

private:
    std::optional<CleanupStack::Token> token_;
    bool held_ = false;
};

}  // namespace imgcreate::mount

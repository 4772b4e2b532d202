// imgcreate — LoopMount: the install root is a filesystem image file mounted through a loop
// device, as livecd-tools' LoopImageCreator makes it.
//
//   mount()    a sparse file of `part / --size` MiB (or a copy of --base-on, grown to that
//              size), mkfs with the kickstart's fstype and the label rule, bound to a loop
//              device with autoclear, mounted on <build_dir>/install_root
//   unmount()  unmounts it; the loop device goes with the mount
//
// The image stays in the build dir as image_path(ctx) for the stage policy (CopyStage).
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/mount/api_filesystems.hpp>
#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/libmount.hpp>
#include <imgcreate/mount/loop_device.hpp>
#include <imgcreate/mount/minimize.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace imgcreate {

class LoopMount {
public:
    static std::filesystem::path image_path(const BuildContext& ctx) { return ctx.build_dir / "root.img"; }

    void mount(BuildContext& ctx) {
        spec_ = mount::root_filesystem(ctx);
        const auto image = image_path(ctx);
        if (ctx.options.base_on.empty())
            make_image(image);
        else
            copy_base_image(ctx.options.base_on, image);

        auto loop = mount::LoopDevice::attach(image);
        ctx.install_root = ctx.build_dir / "install_root";
        std::error_code ec;
        std::filesystem::create_directory(ctx.install_root, ec);
        if (ec) throw MountError("cannot create the install root " + ctx.install_root.string() + ": " + ec.message());
        auto root = std::make_shared<mount::Mount>(
            mount::Mount::mount({loop.path().string(), ctx.install_root, spec_.fstype, ""}));
        root_token_ = ctx.cleanup.push("unmount " + ctx.install_root.string(), [root] { root->unmount(); });
        // From here the mount alone holds the device; unmounting it releases the device.
        loop.close();
        log::info("mounted a ", spec_.size_mib, " MiB ", spec_.fstype, " image labelled '", spec_.label, "' on ",
                  ctx.install_root.string());
    }

    void unmount(BuildContext& ctx) {
        if (!root_token_) return;
        auto token = *root_token_;
        root_token_.reset();
        ctx.cleanup.run(token);
    }

    std::string fstab(const BuildContext&) const { return mount::default_fstab(spec_.fstype); }

    // After a failed install or configure step: if the image ran out of space or inodes,
    // the fix the user needs, with the numbers; otherwise nothing.
    std::optional<std::string> full_root_message(const BuildContext& ctx) const {
        if (!root_token_) return std::nullopt;
        struct statvfs st {};
        if (::statvfs(ctx.install_root.c_str(), &st) != 0) return std::nullopt;
        const double mib = 1024.0 * 1024.0;
        const double total = static_cast<double>(st.f_blocks) * st.f_frsize;
        const double free = static_cast<double>(st.f_bfree) * st.f_frsize;
        // ext4 keeps min(2%, 16 MiB) back from every writer for its own metadata, and
        // delayed allocation strands a little more: "full" is that plus a small margin.
        const bool no_space = free < std::min(total / 50, 16 * mib) + 2 * mib + total / 200;
        const bool no_inodes = st.f_files > 0 && st.f_ffree == 0;
        if (!no_space && !no_inodes) return std::nullopt;
        char numbers[200];
        std::snprintf(numbers, sizeof numbers, "the image is %llu MiB; its %s filesystem has %.1f MiB in use and %.1f MiB free%s",
                      static_cast<unsigned long long>(spec_.size_mib), spec_.fstype.c_str(), (total - free) / mib, free / mib,
                      no_inodes ? " and no free inodes" : "");
        return "the image is full: raise part / --size (" + std::string(numbers) + ")";
    }

    const mount::FilesystemSpec& filesystem() const noexcept { return spec_; }

    // Checked by the creator before the build starts: mkfs for the kickstart's filesystem.
    std::vector<std::pair<std::string, std::string>> required_programs(const BuildContext& ctx) const {
        const auto fstype = mount::root_filesystem(ctx).fstype;
        return {{"mkfs." + fstype, mount::package_providing_mkfs(fstype)}};
    }

    // Before any work: a --base-on image that is not there (an ISO is LiveMount's to open).
    void check(const BuildContext& ctx) const {
        const auto& base = ctx.options.base_on;
        if (!base.empty() && !std::filesystem::is_regular_file(base))
            throw MountError("--base-on " + base.string() + " is not an image file", base.string());
    }

private:
    void make_image(const std::filesystem::path& image) const {
        {
            UniqueFd fd(::open(image.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
            if (!fd) throw MountError(errno_message("cannot create the image file", image, errno), image.string());
            // Sparse: the file takes on disk only what the filesystem writes into it.
            if (::ftruncate(fd.get(), static_cast<off_t>(spec_.size_mib << 20)) != 0)
                throw MountError(errno_message("cannot size the image file", image, errno), image.string());
        }
        mount::make_filesystem(spec_, image);
    }

    // --base-on: a copy of an earlier image, grown to the kickstart's size; the install
    // step then only adds what it lacks.
    void copy_base_image(const std::filesystem::path& base, const std::filesystem::path& image) const {
        if (!std::filesystem::is_regular_file(base))
            throw MountError("--base-on " + base.string() + " is not an image file", base.string());
        run({"cp", "--sparse=always", "--reflink=auto", base.string(), image.string()});
        const auto size = std::filesystem::file_size(image);
        const auto wanted = spec_.size_mib << 20;
        if (size >= wanted) return;
        if (!mount::is_ext(spec_.fstype)) {
            log::warning("--base-on: ", spec_.fstype, " images are used at their own size (", size >> 20, " MiB)");
            return;
        }
        if (::truncate(image.c_str(), static_cast<off_t>(wanted)) != 0)
            throw MountError(errno_message("cannot grow the image file", image, errno), image.string());
        mount::check_ext_filesystem(image);
        run({require_program("resize2fs", "e2fsprogs").string(), image.string()});
        log::info("grew the --base-on image from ", size >> 20, " MiB to ", spec_.size_mib, " MiB");
    }

    mount::FilesystemSpec spec_;
    std::optional<CleanupStack::Token> root_token_;
};

}  // namespace imgcreate

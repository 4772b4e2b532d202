// imgcreate — LiveBoot, the BootPolicy of live ISOs:
//
//   before_install   the live dracut config goes into the root, so the kernel package's
//                    scripts build an initramfs with dmsquash-live (as livecd-tools does); with
//                    --cache, an image an earlier build of the same packages made is reused
//   configure_boot   every installed kernel and its initramfs into images/pxeboot (an
//                    initramfs built by the host's dracut when the image has none), then the
//                    boot loaders: GRUB2 BIOS El Torito or isolinux, and GRUB2 EFI with its
//                    efiboot.img
//   before_unmount   the dracut config is taken out again
//
// The ISO tree is left in live_iso_dir(ctx) for IsoStage.
#pragma once

#include <imgcreate/boot/dracut.hpp>
#include <imgcreate/boot/efiboot.hpp>
#include <imgcreate/boot/grub.hpp>
#include <imgcreate/boot/initramfs_cache.hpp>
#include <imgcreate/boot/isolinux.hpp>
#include <imgcreate/boot/live_layout.hpp>
#include <imgcreate/label.hpp>
#include <imgcreate/boot/live_menu.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/install/kernel_versions.hpp>
#include <imgcreate/kickstart/document.hpp>
#include <imgcreate/stage/clamp_times.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/root_path.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace imgcreate {

namespace boot::detail {

namespace fs = std::filesystem;

inline void write_text(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw BootError("cannot write " + path.string(), path.string());
}

// Copies `from` to `to`. A file of the image (`from` below `root`) is read through the image's own
// links: a link in it to /etc/shadow names the image's, not the build host's.
inline void copy_into(const fs::path& from, const fs::path& to, const fs::path& root = {}) {
    fs::create_directories(to.parent_path());
    const auto rel = root.empty() ? fs::path() : from.lexically_relative(root);
    if (rel.empty() || *rel.begin() == "..") {
        fs::copy_file(from, to, fs::copy_options::overwrite_existing);
        return;
    }
    const auto in = RootDir(root).open(rel, O_RDONLY);
    struct stat st {};
    if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw BootError("/" + rel.string() + " in the image is not a file", rel.string());
    std::ofstream out(to, std::ios::binary | std::ios::trunc);
    char buffer[1 << 16];
    for (;;) {
        const ssize_t n = ::read(in.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw BootError("cannot read /" + rel.string() + " in the image: " + std::strerror(errno), rel.string());
        if (n == 0) break;
        out.write(buffer, n);
    }
    if (!out.flush()) throw BootError("cannot write " + to.string(), to.string());
    out.close();
    fs::permissions(to, fs::perms(st.st_mode & 0777));
}

// Kernels in the order they go on the ISO: the default one (bootloader --default names its
// package, else "kernel") first, so vmlinuz0 is what the menus start by default.
inline std::vector<LiveKernel> live_kernels(const BuildContext& ctx) {
    std::vector<LiveKernel> kernels;
    for (const auto& [package, versions] : install::kernel_versions(ctx.install_root))
        for (const auto& v : versions) kernels.push_back({package, v, false});
    if (kernels.empty()) {  // no rpm database (a root filled some other way): read /boot
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(ctx.install_root / "boot", ec)) {
            auto name = e.path().filename().string();
            if (name.rfind("vmlinuz-", 0) == 0 && name.find("rescue") == std::string::npos)
                kernels.push_back({"kernel", name.substr(8), false});
        }
        std::sort(kernels.begin(), kernels.end(), [](auto& a, auto& b) { return a.version < b.version; });
    }
    if (kernels.empty())
        throw BootError("no kernel is installed in the image: a live ISO needs one (add 'kernel' to %packages)");

    std::string wanted = ctx.kickstart && ctx.kickstart->bootloader ? ctx.kickstart->bootloader->default_entry : "";
    if (wanted.empty()) wanted = "kernel";
    auto matches = [&](const LiveKernel& k) { return k.package == wanted || k.package == "kernel-" + wanted; };
    auto it = std::find_if(kernels.rbegin(), kernels.rend(), matches);  // newest version of that package
    std::size_t chosen = it == kernels.rend() ? 0 : static_cast<std::size_t>(kernels.rend() - it - 1);
    if (it == kernels.rend() && ctx.kickstart && ctx.kickstart->bootloader && !ctx.kickstart->bootloader->default_entry.empty())
        log::warning("bootloader --default=", wanted, " names no installed kernel; the default is ", kernels[0].package);
    kernels[chosen].is_default = true;
    std::rotate(kernels.begin(), kernels.begin() + static_cast<long>(chosen), kernels.begin() + static_cast<long>(chosen) + 1);
    return kernels;
}

inline bool root_has_program(const fs::path& root, const std::string& name) {
    for (const char* dir : {"usr/bin", "usr/sbin", "bin", "sbin"})
        if (fs::exists(root / dir / name)) return true;
    return false;
}

// The image's own signed EFI loaders, as livecd-tools takes them: shim as BOOTX64.EFI and
// the CD-capable grub (gcdx64) beside it.
inline bool copy_image_efi_loaders(const fs::path& root, const fs::path& efi_dir) {
    const RootDir image(root);
    if (!image.is_directory("boot/efi/EFI")) return false;
    std::error_code ec;
    for (const auto& vendor : fs::directory_iterator(image.host_path("boot/efi/EFI"), ec)) {
        const auto dir = fs::path("boot/efi/EFI") / vendor.path().filename();
        fs::path grub;
        for (const char* g : {"gcdx64.efi", "grubx64.efi"})
            if (image.is_regular_file(dir / g)) { grub = dir / g; break; }
        if (!image.is_regular_file(dir / "shimx64.efi") || grub.empty()) continue;
        copy_into(root / dir / "shimx64.efi", efi_dir / "BOOTX64.EFI", root);
        copy_into(root / grub, efi_dir / "grubx64.efi", root);
        log::info("EFI boot: the image's own shim and GRUB from /", dir.string());
        return true;
    }
    return false;
}

}  // namespace boot::detail

class LiveBoot {
public:
    void before_install(BuildContext& ctx) {
        RootDir root(ctx.install_root);
        root.mkdirs("etc/dracut.conf.d");
        if (root.exists(boot::live_dracut_conf_path)) saved_conf_ = root.read_file(boot::live_dracut_conf_path);
        root.write_file(boot::live_dracut_conf_path, boot::live_dracut_conf(compressor(ctx), ctx.options.dracut_conf_args));
        wrote_conf_ = true;
        boot::stand_in_for_dracut(ctx);
    }

    void configure_boot(BuildContext& ctx) {
        namespace fs = std::filesystem;
        const auto iso = boot::live_iso_dir(ctx);
        fs::create_directories(iso / "LiveOS");
        boot::LiveMenu menu = menu_for(ctx);
        copy_kernels(ctx, menu);
        if (ctx.options.syslinux)
            install_isolinux(ctx, menu);
        else
            install_grub_bios(ctx, menu);
        install_grub_efi(ctx, menu);
    }

    void before_unmount(BuildContext& ctx) {
        if (!wrote_conf_) return;
        RootDir root(ctx.install_root);
        // A package that shipped its own copy while ours was there left it as .rpmnew.
        const std::string rpmnew = boot::live_dracut_conf_path.string() + ".rpmnew";
        if (root.exists(rpmnew)) {
            saved_conf_ = root.read_file(rpmnew);
            root.remove(rpmnew);
        }
        if (saved_conf_)
            root.write_file(boot::live_dracut_conf_path, *saved_conf_);
        else
            root.remove(boot::live_dracut_conf_path);
        wrote_conf_ = false;
    }

    // The menu the boot loaders were given (for frontends and tests).
    const boot::LiveMenu& menu() const noexcept { return menu_; }

private:
    static std::string compressor(const BuildContext& ctx) {
        // The squashfs compressor's name (xz1m is xz with other settings); xz when there is none.
        auto c = ctx.options.compression.substr(0, ctx.options.compression.find(' '));
        if (c == "xz1m" || c == "xz1M") return "xz";
        return c.empty() || c == "none" || c == "None" ? "xz" : c;
    }

    boot::LiveMenu menu_for(const BuildContext& ctx) {
        namespace fs = std::filesystem;
        boot::LiveMenu menu;
        if (!ctx.options.title.empty()) menu.title = ctx.options.title;
        if (!ctx.options.product.empty()) menu.product = ctx.options.product;
        menu.label = image_label(ctx.options);
        const auto* bl = ctx.kickstart && ctx.kickstart->bootloader ? &*ctx.kickstart->bootloader : nullptr;
        if (bl && bl->timeout) menu.timeout_seconds = *bl->timeout;
        menu.kernel_args = boot::live_kernel_args(menu.label, ctx.options.flat_squashfs, bl ? bl->append : "");
        menu.kernels = boot::detail::live_kernels(ctx);
        menu.check_media = boot::detail::root_has_program(ctx.install_root, "checkisomd5");
        std::error_code ec;
        const RootDir image(ctx.install_root);
        for (const auto& e : fs::directory_iterator(ctx.install_root / "boot", ec))
            if (e.path().filename().string().rfind("memtest86", 0) == 0 &&
                image.is_regular_file(fs::path("boot") / e.path().filename())) {
                boot::detail::copy_into(ctx.install_root / "boot" / e.path().filename(),
                                        boot::live_iso_dir(ctx) / "isolinux/memtest", ctx.install_root);
                menu.memtest = true;
                break;
            }
        menu_ = menu;
        return menu;
    }

    void copy_kernels(const BuildContext& ctx, const boot::LiveMenu& menu) {
        namespace fs = std::filesystem;
        const auto images = boot::live_iso_dir(ctx) / menu.images_dir;
        fs::create_directories(images);
        const auto& root = ctx.install_root;
        for (std::size_t i = 0; i < menu.kernels.size(); ++i) {
            const auto& k = menu.kernels[i];
            const auto n = std::to_string(i);
            const auto vmlinuz = root / "boot" / ("vmlinuz-" + k.version);
            if (!RootDir(root).is_regular_file(vmlinuz.lexically_relative(root)))
                throw BootError("kernel " + k.version + " of package " + k.package + " has no /boot/vmlinuz-" + k.version +
                                " in the image", k.version);
            boot::detail::copy_into(vmlinuz, images / ("vmlinuz" + n), root);
            const auto initrd = images / ("initrd" + n + ".img");
            if (auto own = boot::installed_initramfs(root, k.version); !own.empty()) {
                boot::detail::copy_into(own, initrd, root);
                continue;
            }
            boot::HostInitramfs job;
            job.root = root;
            job.kernel_version = k.version;
            job.compression = compressor(ctx);
            job.dracut_conf_args = ctx.options.dracut_conf_args;
            job.cache_dir = ctx.cache_dir() / "initramfs";
            job.epoch = ctx.options.source_date_epoch;
            boot::build_host_initramfs(job, initrd);
        }
    }

    void install_isolinux(const BuildContext& ctx, const boot::LiveMenu& menu) {
        const auto dir = boot::live_iso_dir(ctx) / "isolinux";
        for (const auto& f : boot::isolinux_files())
            boot::detail::copy_into(boot::find_syslinux_file(ctx.install_root, f), dir / f, ctx.install_root);
        boot::detail::write_text(dir / "isolinux.cfg", boot::isolinux_config(menu));
        log::info("BIOS boot: isolinux");
    }

    void install_grub_bios(const BuildContext& ctx, const boot::LiveMenu& menu) {
        namespace fs = std::filesystem;
        const auto iso = boot::live_iso_dir(ctx);
        const fs::path own = ctx.install_root / "usr/lib/grub/i386-pc";
        const fs::path modules = fs::is_directory(own) ? own : fs::path("/usr/lib/grub/i386-pc");
        fs::create_directories(iso / "images");
        boot::make_grub_image(boot::Firmware::bios, modules, menu.label, "/boot/grub2", iso / "images/eltorito.img");
        boot::detail::write_text(iso / "boot/grub2/grub.cfg", boot::grub_config(menu, boot::Firmware::bios));
        log::info("BIOS boot: GRUB2 El Torito image from ", modules.string());
    }

    void install_grub_efi(const BuildContext& ctx, const boot::LiveMenu& menu) {
        namespace fs = std::filesystem;
        const auto iso = boot::live_iso_dir(ctx);
        const auto efi_dir = iso / "EFI/BOOT";
        fs::create_directories(efi_dir);
        if (!boot::detail::copy_image_efi_loaders(ctx.install_root, efi_dir)) {
            boot::make_grub_image(boot::Firmware::efi, "/usr/lib/grub/x86_64-efi", menu.label, "/EFI/BOOT",
                                  efi_dir / "BOOTX64.EFI");
            log::info("EFI boot: GRUB2 built from the host's modules (the image has no shim/grub)");
        }
        boot::detail::write_text(efi_dir / "grub.cfg", boot::grub_config(menu, boot::Firmware::efi));
        if (ctx.options.source_date_epoch) stage::clamp_times(iso, *ctx.options.source_date_epoch);

        std::vector<boot::EfiFile> files;
        for (const auto& e : fs::directory_iterator(efi_dir))
            if (e.is_regular_file()) files.push_back({e.path(), "EFI/BOOT/" + e.path().filename().string()});
        std::sort(files.begin(), files.end(), [](auto& a, auto& b) { return a.target < b.target; });
        const auto image = ctx.options.syslinux ? iso / boot::live_efiboot_in_tree : boot::live_efiboot_outside(ctx);
        fs::create_directories(image.parent_path());
        boot::make_efiboot_image(files, image, ctx.options.source_date_epoch);
    }

    std::optional<std::string> saved_conf_;
    bool wrote_conf_ = false;
    boot::LiveMenu menu_;
};

}  // namespace imgcreate

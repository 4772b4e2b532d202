// imgcreate — DiskBoot, the BootPolicy of disk images: GRUB 2 for BIOS and UEFI, the initramfs
// from the image's own dracut.
//
//   before_install   a dracut config that makes the initramfs generic (not host-only) with the
//                    disk controllers and filesystems a VM's disk needs, so the kernel package's
//                    own scripts build one that boots on any machine; its gzip made by the host's
//                    pigz on every core, and with --cache, an image an earlier build of the same
//                    packages made reused (boot/initramfs_cache.hpp)
//   configure_boot   /boot/grub2/grub.cfg: an entry for every installed kernel (bootloader
//                    --default's package first, newest first), root=UUID= of the layout's / (and
//                    rootflags=subvol= when / is a btrfs subvolume; GRUB then reads /boot as
//                    /<subvolume>/boot of the volume),
//                    bootloader --append and --timeout, --password (plain or --iscrypted, a
//                    grub.pbkdf2 hash) for editing entries, and GRUB on the serial line when the
//                    kernel's console is one. BIOS: core.img and boot.img for
//                    DiskStage to write into the disk (disk/bios_boot.hpp), from the image's
//                    own GRUB modules, else the host's. UEFI, when the layout has an ESP: the
//                    image's own shim and GRUB (else a GRUB made from the host's modules) as
//                    /boot/efi/EFI/BOOT/BOOTX64.EFI, with a grub.cfg that finds /boot by UUID;
//                    the ESP is then made from /boot/efi like any filesystem. A GPT disk with an
//                    ESP and no biosboot partition boots with UEFI alone; one that could boot
//                    neither way is refused before any work (check)
//                    With bootloader --disabled, as anaconda: no boot loader at all (no grub.cfg, no
//                    GRUB in the disk or the ESP), and no kernel needed (a container's disk).
//                    bootloader --location=none still gets GRUB, as livecd-creator reads it: the
//                    live spins ask for it, and a disk made from one is meant to boot.
//                    /root/anaconda-ks.cfg: the kickstart, flattened, as appliance-creator writes it
//   before_unmount   the dracut config is taken out again
#pragma once

#include <imgcreate/boot/dracut.hpp>
#include <imgcreate/boot/grub.hpp>
#include <imgcreate/boot/initramfs_cache.hpp>
#include <imgcreate/concepts.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/disk/build_layout.hpp>
#include <imgcreate/install/kernel_versions.hpp>
#include <imgcreate/kickstart/document.hpp>
#include <imgcreate/kickstart/writer.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>
#include <imgcreate/support/root_path.hpp>

#include <rpm/rpmver.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace imgcreate {

namespace boot {

inline const std::filesystem::path disk_dracut_conf_path = "etc/dracut.conf.d/90-imgcreate-disk.conf";

inline std::string disk_dracut_conf() {
    return "# Disk image settings, written for the build and removed before the image is made.\n"
           "hostonly=\"no\"\n"
           "add_drivers+=\" ahci ata_piix sd_mod virtio_blk virtio_scsi virtio_pci nvme \"\n"
           "filesystems+=\" ext4 ext3 xfs btrfs vfat \"\n";
}

struct DiskKernel {
    std::string package, version;
};

// What GRUB needs to know of the layout: where /boot's files are, and the root's UUID.
struct DiskMenu {
    std::string title = "Linux";
    std::string boot_uuid;        // the filesystem holding /boot
    std::string boot_prefix;      // /boot's path in its filesystem: "/boot" when it is on /, "/root/boot" on a /
                                  // that is btrfs subvolume root, "" when it is a filesystem of its own
    std::string root_uuid;
    std::string root_subvolume;   // when / is a btrfs subvolume: its name (rootflags=subvol=)
    std::string root_device;      // when / is a logical volume: its /dev/mapper path, in place of UUID=
    std::vector<std::string> lvm_volumes;  // group/volume of the root's and swap's logical volumes (rd.lvm.lv=)
    std::string append;           // bootloader --append
    long long timeout_seconds = 5;
    std::vector<DiskKernel> kernels;  // the default first
    std::string password_hash;        // grub.pbkdf2.sha512...: editing entries and the shell need root's password
};

inline bool serial_console(const std::string& append) { return append.find("console=ttyS") != std::string::npos; }

// /boot/grub2/grub.cfg.
inline std::string disk_grub_config(const DiskMenu& menu) {
    std::string cfg = "set default=\"0\"\nset timeout=" + std::to_string(menu.timeout_seconds) + "\n";
    if (serial_console(menu.append))
        cfg += "serial --unit=0 --speed=115200\nterminal_input console serial\nterminal_output console serial\n";
    cfg += "insmod part_gpt\ninsmod part_msdos\ninsmod ext2\ninsmod xfs\ninsmod btrfs\n";
    cfg += "search --no-floppy --fs-uuid --set=root " + menu.boot_uuid + "\n";
    // As anaconda sets it: anyone may boot the entries, only root may edit them or open a shell.
    if (!menu.password_hash.empty()) cfg += "set superusers=\"root\"\npassword_pbkdf2 root " + menu.password_hash + "\n";
    cfg += "\n";
    for (const auto& k : menu.kernels) {
        std::string args = "root=" + (menu.root_device.empty() ? "UUID=" + menu.root_uuid : menu.root_device) + " ro" +
                           (menu.root_subvolume.empty() ? "" : " rootflags=subvol=" + menu.root_subvolume);
        for (const auto& lv : menu.lvm_volumes) args += " rd.lvm.lv=" + lv;
        if (!menu.append.empty()) args += " " + menu.append;
        cfg += "menuentry " + grub_quoted(menu.title + " (" + k.version + ")") + " --class gnu-linux --class gnu --class os" +
               (menu.password_hash.empty() ? "" : " --unrestricted") + " {\n";
        cfg += "\tlinux " + menu.boot_prefix + "/vmlinuz-" + k.version + " " + args + "\n";
        cfg += "\tinitrd " + menu.boot_prefix + "/initramfs-" + k.version + ".img\n";
        cfg += "}\n";
    }
    return cfg;
}

// What a GRUB image built for this disk runs first: find /boot by UUID, read the menu there.
inline std::string disk_grub_early_config(const DiskMenu& menu) {
    return "search --no-floppy --fs-uuid --set=root " + menu.boot_uuid + "\n"
           "set prefix=($root)" + menu.boot_prefix + "/grub2\n"
           "export prefix\n"
           "configfile $prefix/grub.cfg\n";
}

// bootloader --password: a grub.pbkdf2 hash as given (--iscrypted), or made from the plaintext by
// grub-mkpasswd-pbkdf2 (fed on its standard input, never on a command line).
inline std::string grub_password_hash(const std::string& password, bool iscrypted) {
    if (iscrypted) {
        if (password.rfind("grub.pbkdf2.", 0) != 0)
            throw ConfigError("bootloader --iscrypted --password takes a GRUB hash, grub.pbkdf2.sha512.10000.<salt>.<hash> "
                              "as grub2-mkpasswd-pbkdf2 prints it");
        return password;
    }
    Command mkpasswd;
    mkpasswd.argv = {require_program("grub-mkpasswd-pbkdf2", "grub-common").string()};
    mkpasswd.input = password + "\n" + password + "\n";
    mkpasswd.log_output = false;
    const auto out = run(mkpasswd).output;
    const auto at = out.find("grub.pbkdf2.");
    if (at == std::string::npos) throw BootError("grub-mkpasswd-pbkdf2 printed no hash");
    return out.substr(at, out.find_first_of(" \n", at) - at);
}

// A debug kernel (kernel-debug's, version ...+debug): never the default unless asked for.
inline bool debug_kernel(const DiskKernel& k) {
    return k.package.find("-debug") != std::string::npos ||
           (k.version.size() > 6 && k.version.compare(k.version.size() - 6, 6, "+debug") == 0);
}

// The kernels with bootloader --default's package (or "kernel-" + it) first, then the others but
// debug kernels, then those; newest first within each, as rpm compares versions (6.10 after 6.9).
inline void order_kernels(std::vector<DiskKernel>& kernels, const std::string& default_package) {
    auto preferred = [&](const DiskKernel& k) {
        return !default_package.empty() && (k.package == default_package || k.package == "kernel-" + default_package);
    };
    std::stable_sort(kernels.begin(), kernels.end(), [&](const DiskKernel& a, const DiskKernel& b) {
        if (preferred(a) != preferred(b)) return preferred(a);
        if (debug_kernel(a) != debug_kernel(b)) return !debug_kernel(a);
        return rpmvercmp(a.version.c_str(), b.version.c_str()) > 0;
    });
}

inline std::vector<std::string> disk_grub_modules(Firmware firmware) {
    std::vector<std::string> modules = {"part_gpt", "part_msdos", "ext2", "xfs", "btrfs", "fat", "normal", "configfile",
                                        "search", "search_fs_uuid", "linux", "echo", "test", "gzio", "serial",
                                        "terminal", "ls", "cat", "sleep", "reboot", "halt", "all_video", "password_pbkdf2"};
    modules.insert(modules.begin(), firmware == Firmware::bios ? "biosdisk" : "efi_gop");
    return modules;
}

inline void make_disk_grub_image(Firmware firmware, const std::filesystem::path& module_dir, const DiskMenu& menu,
                                 const std::filesystem::path& output) {
    require_program("grub-mkimage", "grub-common");
    const auto early = output.string() + ".early.cfg";
    std::ofstream(early) << disk_grub_early_config(menu);
    std::vector<std::string> argv = {"grub-mkimage", "-O", firmware == Firmware::bios ? "i386-pc" : "x86_64-efi",
                                     "-d", module_dir.string(), "-p", menu.boot_prefix + "/grub2", "-c", early,
                                     "-o", output.string()};
    for (const auto& m : disk_grub_modules(firmware)) argv.push_back(m);
    run(argv);
    std::filesystem::remove(early);
}

// Whether GRUB has a place on the disk for BIOS booting: the gap after an msdos disk's MBR, or a
// GPT disk's biosboot partition.
inline bool bios_bootable(const disk::Disk& disk) {
    return disk.label == disk::LabelType::dos ||
           std::any_of(disk.partitions.begin(), disk.partitions.end(),
                       [](const disk::Partition& p) { return p.content == disk::Content::biosboot; });
}

// Where DiskBoot leaves boot.img and core.img for DiskStage.
inline std::filesystem::path disk_bios_boot_dir(const BuildContext& ctx) { return ctx.build_dir / "bios-boot"; }

}  // namespace boot

class DiskBoot {
public:
    void before_install(BuildContext& ctx) {
        RootDir root(ctx.install_root);
        root.mkdirs(boot::disk_dracut_conf_path.parent_path());
        root.write_file(boot::disk_dracut_conf_path, boot::disk_dracut_conf());
        wrote_conf_ = true;
        boot::stand_in_for_dracut(ctx);
    }

    void configure_boot(BuildContext& ctx) {
        write_kickstart(ctx);
        if (disabled(ctx)) {
            log::info("boot loader: none (bootloader --disabled): the disk gets no GRUB and no grub.cfg, and boots "
                      "only with a kernel given from outside");
            return;
        }
        const auto layout = disk::build_layout(ctx);
        menu_ = menu_for(ctx, layout);
        RootDir root(ctx.install_root);
        root.mkdirs("boot/grub2");
        root.write_file("boot/grub2/grub.cfg", boot::disk_grub_config(menu_));
        log::info("GRUB menu: ", menu_.kernels.size(), " kernel(s), root=",
                  menu_.root_device.empty() ? "UUID=" + menu_.root_uuid : menu_.root_device);
        if (boot::bios_bootable(layout.disks.front())) {
            prepare_bios(ctx);
        } else {
            log::info("BIOS boot: none (GPT disk ", layout.disks.front().name, " has no biosboot partition; 'reqpart' or "
                      "'part biosboot --fstype=biosboot --size=1' adds one)");
        }
        if (layout.find("/boot/efi")) prepare_efi(ctx);
        else log::info("UEFI boot: none (the layout has no /boot/efi)");
    }

    void before_unmount(BuildContext& ctx) {
        if (!wrote_conf_) return;
        RootDir(ctx.install_root).remove(boot::disk_dracut_conf_path);
        wrote_conf_ = false;
    }

    const boot::DiskMenu& menu() const noexcept { return menu_; }

    // A disk that could boot neither way is refused before any work.
    void check(const BuildContext& ctx) const {
        if (disabled(ctx)) return;
        const auto layout = disk::plan_build_layout(ctx);
        if (layout.disks.empty() || boot::bios_bootable(layout.disks.front()) || layout.find("/boot/efi")) return;
        throw ConfigError("disk " + layout.disks.front().name + " would boot neither with BIOS nor with UEFI: it is GPT with "
                          "no biosboot partition, and the layout has no /boot/efi. Add 'reqpart' (both), or 'part biosboot "
                          "--fstype=biosboot --size=1' (BIOS), or 'part /boot/efi --fstype=efi --size=600' (UEFI); or "
                          "'bootloader --disabled' for a disk with no boot loader");
    }

    RequiredPrograms required_programs(const BuildContext& ctx) const {
        if (disabled(ctx)) return {};
        return {{"grub-mkimage", "grub-common"}};
    }

private:
    // /root/anaconda-ks.cfg: the kickstart the image was built from, flattened, as appliance-creator
    // and anaconda leave it; root's alone (0600), since it may hold passwords.
    static void write_kickstart(const BuildContext& ctx) {
        if (!ctx.kickstart) return;
        RootDir root(ctx.install_root);
        if (!root.is_directory("root")) root.mkdirs("root", 0700);
        kickstart::WriteOptions options;
        options.header = "# The kickstart this image was built from, written by imgcreate";
        root.write_file("root/anaconda-ks.cfg", kickstart::to_string(*ctx.kickstart, options), 0600);
    }

    static bool disabled(const BuildContext& ctx) { return ctx.kickstart && ctx.kickstart->bootloader && ctx.kickstart->bootloader->disabled; }

    static boot::DiskMenu menu_for(const BuildContext& ctx, const disk::Layout& layout) {
        boot::DiskMenu menu;
        if (!ctx.options.product.empty()) menu.title = ctx.options.product;
        const auto root_fs = layout.mounted("/");
        const auto [boot_fs, boot_path] = layout.locate("/boot");
        menu.root_uuid = root_fs.partition->uuid;
        if (root_fs.subvolume) menu.root_subvolume = root_fs.subvolume->name;
        // As anaconda boots LVM: the root by its /dev/mapper name, and dracut told which logical
        // volumes to activate, the root's, /usr's (dracut mounts it) and swap's; lvm in the system
        // activates the others.
        if (layout.group_of(*root_fs.partition)) menu.root_device = disk::fstab_device(layout, *root_fs.partition);
        for (const auto& g : layout.groups)
            for (const auto& lv : g.volumes)
                if (lv.mountpoint == "/" || lv.mountpoint == "/usr" || lv.content == disk::Content::swap)
                    menu.lvm_volumes.push_back(g.name + "/" + lv.logical_volume);
        menu.boot_uuid = boot_fs.partition->uuid;
        menu.boot_prefix = boot_path == "/" ? "" : boot_path;
        const auto* bootloader = ctx.kickstart && ctx.kickstart->bootloader ? &*ctx.kickstart->bootloader : nullptr;
        if (bootloader) {
            menu.append = bootloader->append;
            if (bootloader->timeout) menu.timeout_seconds = *bootloader->timeout;
            if (!bootloader->password.empty())
                menu.password_hash = boot::grub_password_hash(bootloader->password, bootloader->iscrypted);
        }
        for (const auto& [package, versions] : install::kernel_versions(ctx.install_root))
            for (const auto& v : versions) menu.kernels.push_back({package, v});
        if (menu.kernels.empty())
            throw BootError("no kernel is installed in the image: a disk image that boots needs one (add 'kernel' to "
                            "%packages)");
        if (!layout.groups.empty() && !RootDir(ctx.install_root).exists("usr/sbin/lvm") && !RootDir(ctx.install_root).exists("sbin/lvm"))
            throw BootError("the layout has LVM volume group " + layout.groups.front().name + ", and the image has no lvm to "
                            "activate it when it boots (nor its dracut to put it in the initramfs): the lvm2 package "
                            "installed gives no /usr/sbin/lvm; install one that does",
                            layout.groups.front().name);
        boot::order_kernels(menu.kernels, bootloader ? bootloader->default_entry : "");
        for (const auto& k : menu.kernels) {
            if (!std::filesystem::is_regular_file(ctx.install_root / "boot" / ("vmlinuz-" + k.version)))
                throw BootError("kernel " + k.version + " has no /boot/vmlinuz-" + k.version + " in the image", k.version);
            if (!std::filesystem::is_regular_file(ctx.install_root / "boot" / ("initramfs-" + k.version + ".img")))
                throw BootError("kernel " + k.version + " has no /boot/initramfs-" + k.version + ".img: the image's dracut "
                                "made none (is dracut in %packages, and does the kernel package run it?)", k.version);
        }
        return menu;
    }

    void prepare_bios(const BuildContext& ctx) const {
        namespace fs = std::filesystem;
        const fs::path own = ctx.install_root / "usr/lib/grub/i386-pc";
        const fs::path modules = fs::is_regular_file(own / "boot.img") ? own : fs::path("/usr/lib/grub/i386-pc");
        const auto dir = boot::disk_bios_boot_dir(ctx);
        fs::create_directories(dir);
        boot::make_disk_grub_image(boot::Firmware::bios, modules, menu_, dir / "core.img");
        fs::copy_file(modules / "boot.img", dir / "boot.img", fs::copy_options::overwrite_existing);
        log::info("BIOS boot: GRUB core.img from ", modules.string());
    }

    void prepare_efi(const BuildContext& ctx) const {
        namespace fs = std::filesystem;
        RootDir root(ctx.install_root);
        const fs::path fallback = "boot/efi/EFI/BOOT";
        root.mkdirs(fallback);
        const auto stub = boot::disk_grub_early_config(menu_);
        std::error_code ec;
        for (const auto& vendor : fs::directory_iterator(ctx.install_root / "boot/efi/EFI", ec)) {
            const fs::path dir = fs::path("boot/efi/EFI") / vendor.path().filename();
            if (dir == fallback || !root.exists(dir / "shimx64.efi") || !root.exists(dir / "grubx64.efi")) continue;
            root.write_file(fallback / "BOOTX64.EFI", root.read_file(dir / "shimx64.efi"));
            root.write_file(fallback / "grubx64.efi", root.read_file(dir / "grubx64.efi"));
            // GRUB reads grub.cfg beside itself, whichever of the two paths the firmware took.
            root.write_file(dir / "grub.cfg", stub);
            root.write_file(fallback / "grub.cfg", stub);
            log::info("UEFI boot: the image's own shim and GRUB from /", dir.string());
            return;
        }
        boot::make_disk_grub_image(boot::Firmware::efi, "/usr/lib/grub/x86_64-efi", menu_, root.host_path(fallback) / "BOOTX64.EFI");
        log::info("UEFI boot: GRUB built from the host's modules (the image has no shim and GRUB)");
    }

    bool wrote_conf_ = false;
    boot::DiskMenu menu_;
};

}  // namespace imgcreate

// imgcreate — isolinux for live ISOs (livecd-creator --syslinux): the menu as pure text from a
// LiveMenu, and the loader files from the image (/usr/share/syslinux) or the host (Debian's
// isolinux and syslinux-common).
#pragma once

#include <imgcreate/boot/live_menu.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/process.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace imgcreate::boot {

namespace detail {

inline std::string isolinux_entry(const LiveMenu& menu, const std::string& label, std::size_t index,
                                  const std::string& title, const std::string& extra_args) {
    const std::string i = std::to_string(index);
    return "label " + label + i + "\n"
           "  menu label " + title + "\n"
           "  kernel /" + menu.images_dir + "/vmlinuz" + i + "\n"
           "  append initrd=/" + menu.images_dir + "/initrd" + i + ".img " + menu.kernel_args +
           (extra_args.empty() ? "" : " " + extra_args) + "\n";
}

}  // namespace detail

// isolinux.cfg: the start entries on the main menu (the default kernel marked), then a
// troubleshooting submenu: basic graphics, the media check (when checkisomd5 is in the
// image), the memory test (when memtest86+ is) and booting the local drive.
inline std::string isolinux_config(const LiveMenu& menu, const std::string& menu_module = "vesamenu.c32") {
    std::string cfg;
    cfg += "default " + menu_module + "\n";
    cfg += "timeout " + std::to_string(menu.timeout_seconds * 10) + "\n";
    cfg += "menu autoboot Booting " + menu.title + " in # second{,s}. Press a key to stop.\n";
    cfg += "menu title " + menu.title + "\n";
    cfg += "menu tabmsg Press Tab to edit the kernel command line.\n";
    cfg += "menu separator\n";
    for (std::size_t k = 0; k < menu.kernels.size(); ++k) {
        cfg += detail::isolinux_entry(menu, "linux", k, "^Start " + kernel_entry_name(menu, menu.kernels[k]), "");
        if (menu.kernels[k].is_default) cfg += "  menu default\n";
    }
    cfg += "menu separator\n";
    cfg += "menu begin ^Troubleshooting\n";
    cfg += "  menu title Troubleshooting\n";
    for (std::size_t k = 0; k < menu.kernels.size(); ++k) {
        const auto name = kernel_entry_name(menu, menu.kernels[k]);
        cfg += detail::isolinux_entry(menu, "basic", k, "Start " + name + " in ^basic graphics mode", "nomodeset");
        if (menu.check_media)
            cfg += detail::isolinux_entry(menu, "check", k, "^Test this media & start " + name, "rd.live.check");
    }
    if (menu.memtest) cfg += "label memtest\n  menu label Run a ^memory test\n  kernel /isolinux/memtest\n";
    cfg += "label local\n  menu label Boot from ^local drive\n  localboot 0xffff\n";
    cfg += "menu separator\n";
    cfg += "label returntomain\n  menu label Return to ^main menu\n  menu exit\n";
    cfg += "menu end\n";
    return cfg;
}

// The files isolinux needs beside isolinux.cfg (ldlinux.c32 above all: without it isolinux
// cannot even show a prompt).
inline const std::vector<std::string>& isolinux_files() {
    static const std::vector<std::string> files = {"isolinux.bin", "ldlinux.c32", "libcom32.c32", "libutil.c32",
                                                   "vesamenu.c32"};
    return files;
}

// Where a file of syslinux lives: the image's own syslinux package first, then the host's.
inline std::filesystem::path find_syslinux_file(const std::filesystem::path& root, const std::string& name) {
    std::vector<std::filesystem::path> dirs = {root / "usr/share/syslinux", root / "usr/lib/syslinux",
                                               "/usr/lib/ISOLINUX", "/usr/lib/syslinux/modules/bios",
                                               "/usr/lib/syslinux/mbr", "/usr/share/syslinux"};
    for (const auto& dir : dirs)
        if (std::filesystem::is_regular_file(dir / name)) return dir / name;
    throw BootError("syslinux file " + name + " was found neither in the image nor on the host: install the "
                    "'isolinux' and 'syslinux-common' packages (or syslinux in the image)", name);
}

}  // namespace imgcreate::boot

// imgcreate — GRUB2 for live ISOs: the menu (pure text from a LiveMenu), and the El Torito
// BIOS image and the EFI executable, taken from the image's own shim/grub when it ships
// them, else built from the host's GRUB modules (Debian: grub-pc-bin, grub-efi-amd64-bin).
#pragma once

#include <imgcreate/boot/live_menu.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace imgcreate::boot {

enum class Firmware { bios, efi };

// `text` as one word of grub.cfg, in single quotes: a ' in it (--product "Joe's OS") closes the
// quotes, is given escaped, and opens them again.
inline std::string grub_quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

namespace detail {

inline std::string grub_entry(const LiveMenu& menu, std::size_t index, const std::string& title,
                              const std::string& extra_args, const std::string& indent) {
    const std::string i = std::to_string(index);
    std::string args = menu.kernel_args + (extra_args.empty() ? "" : " " + extra_args);
    return indent + "menuentry " + grub_quoted(title) + " --class gnu-linux --class gnu --class os {\n" +
           indent + "\tlinux /" + menu.images_dir + "/vmlinuz" + i + " " + args + "\n" +
           indent + "\tinitrd /" + menu.images_dir + "/initrd" + i + ".img\n" +
           indent + "}\n";
}

}  // namespace detail

// grub.cfg for a live ISO: one "Start" entry per kernel (the default first, so entry 0 is
// the default), a media check entry when checkisomd5 is in the image, and a troubleshooting
// submenu with basic graphics (and, on BIOS, booting the first disk instead).
inline std::string grub_config(const LiveMenu& menu, Firmware firmware) {
    std::string cfg;
    cfg += "set default=\"0\"\n";
    cfg += "set timeout=" + std::to_string(menu.timeout_seconds) + "\n\n";
    cfg += "function load_video {\n";
    cfg += firmware == Firmware::efi ? "  insmod efi_gop\n  insmod efi_uga\n" : "";
    cfg += "  insmod all_video\n}\n\n";
    cfg += "load_video\nset gfxpayload=keep\ninsmod gzio\ninsmod part_gpt\ninsmod part_msdos\ninsmod iso9660\n\n";
    cfg += "search --no-floppy --set=root -l '" + menu.label + "'\n\n";
    for (std::size_t k = 0; k < menu.kernels.size(); ++k) {
        const auto name = kernel_entry_name(menu, menu.kernels[k]);
        cfg += detail::grub_entry(menu, k, "Start " + name, "", "");
        if (menu.check_media) cfg += detail::grub_entry(menu, k, "Test this media & start " + name, "rd.live.check", "");
    }
    cfg += "submenu 'Troubleshooting -->' {\n";
    for (std::size_t k = 0; k < menu.kernels.size(); ++k)
        cfg += detail::grub_entry(menu, k, "Start " + kernel_entry_name(menu, menu.kernels[k]) + " in basic graphics mode",
                                  "nomodeset", "\t");
    if (firmware == Firmware::bios) {
        if (menu.memtest) cfg += "\tmenuentry 'Run a memory test' {\n\t\tlinux16 /isolinux/memtest\n\t}\n";
        cfg += "\tmenuentry 'Boot from the first local drive' {\n\t\tchainloader (hd0)+1\n\t}\n";
    }
    cfg += "}\n";
    return cfg;
}

// The config built into a host-made GRUB image: find the ISO by its label, whatever
// device the firmware started us from (CD, USB disk, the EFI partition), then read the
// menu from it.
inline std::string grub_early_config(const std::string& label, const std::string& config_dir) {
    return "search --no-floppy --set=root -l '" + label + "'\n"
           "set prefix=($root)" + config_dir + "\n"
           "configfile $prefix/grub.cfg\n";
}

// Modules built into host-made images: everything the menu above uses, so nothing has to
// be loaded from the media.
inline std::vector<std::string> grub_image_modules(Firmware firmware) {
    std::vector<std::string> modules = {"iso9660", "part_gpt", "part_msdos", "fat",   "ext2",   "normal", "configfile",
                                        "search",  "search_label", "search_fs_uuid", "linux", "echo", "test", "gzio",
                                        "all_video", "font", "gfxterm", "ls", "cat", "sleep", "reboot", "halt", "chain"};
    if (firmware == Firmware::bios) {
        modules.insert(modules.begin(), "biosdisk");
        modules.push_back("linux16");
    } else {
        modules.push_back("efi_gop");
        modules.push_back("efi_uga");
    }
    return modules;
}

// Builds a GRUB image with grub-mkimage from `module_dir` (the host's /usr/lib/grub/<platform>
// or the image's own), the early config embedded.
inline void make_grub_image(Firmware firmware, const std::filesystem::path& module_dir, const std::string& label,
                            const std::string& config_dir, const std::filesystem::path& output) {
    require_program("grub-mkimage", "grub-common");
    if (!std::filesystem::is_directory(module_dir))
        throw BootError("GRUB modules for " + std::string(firmware == Firmware::bios ? "BIOS" : "EFI") +
                            " booting are missing: " + module_dir.string() + " does not exist (install " +
                            (firmware == Firmware::bios ? "grub-pc-bin" : "grub-efi-amd64-bin") + ")",
                        module_dir.string());
    const auto early = output.parent_path() / (output.filename().string() + ".early.cfg");
    std::ofstream(early) << grub_early_config(label, config_dir);
    std::vector<std::string> argv = {"grub-mkimage", "-O", firmware == Firmware::bios ? "i386-pc-eltorito" : "x86_64-efi",
                                     "-d", module_dir.string(), "-p", config_dir, "-c", early.string(),
                                     "-o", output.string()};
    for (const auto& m : grub_image_modules(firmware)) argv.push_back(m);
    run(argv);
    std::filesystem::remove(early);
}

}  // namespace imgcreate::boot

// imgcreate — the hybrid ISO: xorriso (-as mkisofs) lays out one file that boots as a CD
// (El Torito: BIOS and EFI entries) and as a USB disk (an MBR, and a GPT whose EFI system
// partition is the appended efiboot.img); then implantisomd5 so checkisomd5 (rd.live.check)
// can verify the media.
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/process.hpp>

#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace imgcreate::stage {

enum class BiosLoader { grub, isolinux, none };

struct IsoLayout {
    std::filesystem::path tree;                // the ISO's contents
    std::string volume_id;                     // = fslabel, at most 32 characters
    BiosLoader bios = BiosLoader::grub;
    std::filesystem::path grub_hybrid_mbr = "/usr/lib/grub/i386-pc/boot_hybrid.img";
    std::filesystem::path isolinux_hybrid_mbr;  // isohdpfx.bin
    std::filesystem::path efiboot;             // GRUB layout: appended as partition 2; isolinux: inside the tree
    std::string efiboot_in_tree;               // isolinux layout: its path inside the tree ("images/efiboot.img")
    std::optional<long long> epoch;            // volume dates from the epoch
};

// "2023111422132000": the 16 digits xorriso's --modification-date wants, in UTC.
inline std::string iso_date(long long epoch) {
    std::time_t t = static_cast<std::time_t>(epoch);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S00", &tm);
    return buf;
}

inline std::vector<std::string> xorriso_argv(const IsoLayout& layout, const std::filesystem::path& iso) {
    if (layout.volume_id.empty() || layout.volume_id.size() > 32)
        throw StageError("the ISO volume id must be 1 to 32 characters: '" + layout.volume_id +
                         "' (set it with --fslabel)", layout.volume_id);
    std::vector<std::string> a = {"xorriso", "-as", "mkisofs", "-o", iso.string(), "-R", "-J", "-joliet-long",
                                  "-V", layout.volume_id};
    if (layout.epoch) {
        // Volume dates, the GPT disk GUID and every file's three times from the epoch (the
        // tree's mtimes are clamped to it before); SOURCE_DATE_EPOCH is set for the rest.
        a.insert(a.end(), {"--modification-date=" + iso_date(*layout.epoch), "--set_all_file_dates", "set_to_mtime",
                           "--gpt_disk_guid", "modification-date"});
    }
    const bool has_efi = !layout.efiboot.empty();
    if (layout.bios == BiosLoader::grub) {
        a.insert(a.end(), {"--grub2-mbr", layout.grub_hybrid_mbr.string(), "-partition_offset", "16"});
        if (has_efi)
            a.insert(a.end(), {"-appended_part_as_gpt", "-append_partition", "2", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
                               layout.efiboot.string()});
        a.insert(a.end(), {"-iso_mbr_part_type", "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "-c", "boot.cat",
                           "--boot-catalog-hide", "-b", "images/eltorito.img", "-no-emul-boot", "-boot-load-size", "4",
                           "-boot-info-table", "--grub2-boot-info"});
        if (has_efi)
            a.insert(a.end(), {"-eltorito-alt-boot", "-e", "--interval:appended_partition_2:all::", "-no-emul-boot"});
    } else if (layout.bios == BiosLoader::isolinux) {
        a.insert(a.end(), {"-isohybrid-mbr", layout.isolinux_hybrid_mbr.string(), "-c", "isolinux/boot.cat",
                           "-b", "isolinux/isolinux.bin", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table"});
        if (has_efi)
            a.insert(a.end(), {"-eltorito-alt-boot", "-e", layout.efiboot_in_tree, "-no-emul-boot",
                               "-isohybrid-gpt-basdat"});
    } else if (has_efi) {
        a.insert(a.end(), {"-append_partition", "2", "0xef", layout.efiboot.string(), "-e",
                           "--interval:appended_partition_2:all::", "-no-emul-boot"});
    }
    a.push_back(layout.tree.string());
    return a;
}

inline void make_iso(const IsoLayout& layout, const std::filesystem::path& iso) {
    require_program("xorriso", "xorriso");
    std::error_code ec;
    std::filesystem::remove(iso, ec);
    Command cmd;
    cmd.argv = xorriso_argv(layout, iso);
    if (layout.epoch) {
        cmd.env = clean_environment();
        (*cmd.env)["SOURCE_DATE_EPOCH"] = std::to_string(*layout.epoch);
    }
    run(cmd);
}

// Implants the md5 checkisomd5 verifies. Missing isomd5sum is a warning, as in livecd-tools:
// the ISO boots, only the media check entry cannot work.
inline void implant_md5(const std::filesystem::path& iso) {
    if (find_program("implantisomd5").empty()) {
        log::warning("implantisomd5 not found (install isomd5sum): the ISO has no media check checksum");
        return;
    }
    run({"implantisomd5", "--force", iso.string()});
}

}  // namespace imgcreate::stage

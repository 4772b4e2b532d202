// imgcreate — efiboot.img, the FAT image UEFI firmware boots a live ISO from (its El Torito
// EFI entry and the ISO's appended EFI system partition). Made without mounting anything:
// mkfs.fat makes the filesystem in a file, mtools copies the files in.
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/process.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace imgcreate::boot {

// One file to put in the image: its source on the host and its path inside, e.g.
// {"/.../BOOTX64.EFI", "EFI/BOOT/BOOTX64.EFI"}.
struct EfiFile {
    std::filesystem::path source;
    std::string target;
};

// Size of the FAT image in KiB: the files, plus room for FAT tables and directories,
// rounded up to whole MiB.
inline std::uintmax_t efiboot_size_kib(const std::vector<EfiFile>& files) {
    std::uintmax_t bytes = 0;
    for (const auto& f : files) bytes += (std::filesystem::file_size(f.source) + 4095) / 4096 * 4096;
    std::uintmax_t kib = bytes / 1024 + 512 + bytes / 1024 / 16;
    return (kib + 1023) / 1024 * 1024;
}

// With `epoch`, the volume id is fixed and every time stamp is the epoch (mkfs.fat
// --invariant, mtools' SOURCE_DATE_EPOCH), so the image is the same from build to build.
inline void make_efiboot_image(const std::vector<EfiFile>& files, const std::filesystem::path& output,
                               std::optional<long long> epoch = std::nullopt) {
    require_program("mkfs.fat", "dosfstools");
    require_program("mcopy", "mtools");
    std::error_code ec;
    std::filesystem::remove(output, ec);

    Command mkfs;
    mkfs.argv = {"mkfs.fat", "-C", "-n", "EFIBOOT"};
    if (epoch) mkfs.argv.insert(mkfs.argv.end(), {"--invariant", "-i", "1A5EB007"});
    mkfs.argv.push_back(output.string());
    mkfs.argv.push_back(std::to_string(efiboot_size_kib(files)));
    run(mkfs);

    std::map<std::string, std::string> env;
    for (const auto& [k, v] : clean_environment()) env[k] = v;
    env["MTOOLS_SKIP_CHECK"] = "1";
    if (epoch) env["SOURCE_DATE_EPOCH"] = std::to_string(*epoch);

    std::set<std::string> dirs;
    for (const auto& f : files)
        for (auto p = std::filesystem::path(f.target).parent_path(); !p.empty() && p != "/"; p = p.parent_path())
            dirs.insert(p.string());
    // std::set sorts parents before children ("EFI" < "EFI/BOOT").
    for (const auto& dir : dirs) {
        Command mmd;
        mmd.argv = {"mmd", "-i", output.string(), "::/" + dir};
        mmd.env = env;
        run(mmd);
    }
    for (const auto& f : files) {
        Command mcopy;
        mcopy.argv = {"mcopy", "-i", output.string()};
        if (epoch) mcopy.argv.push_back("-m");  // the source's (clamped) time instead of now
        mcopy.argv.insert(mcopy.argv.end(), {f.source.string(), "::/" + f.target});
        mcopy.env = env;
        run(mcopy);
    }
}

}  // namespace imgcreate::boot

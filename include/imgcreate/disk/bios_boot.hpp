// imgcreate — GRUB's BIOS boot code written into a disk image file, what grub-bios-setup does on a
// disk, with no device: boot.img's code into the MBR (the partition table and disk signature
// kept), told where core.img starts; core.img into the biosboot partition (GPT) or the gap
// after the MBR (msdos), its first sector told where the rest of it lies.
//
// The places GRUB 2 reads (its boot.S and diskboot.S): the 8-byte LBA of core.img at 0x5c of
// boot.img, the boot drive check at 0x66 (a jump the setup turns into two NOPs for hard disks,
// where some BIOSes pass a wrong drive number), and the last 12 bytes of core.img's first sector:
// a block list entry {start LBA (8 bytes), sectors (2), load segment (2)}.
#pragma once

#include <imgcreate/disk/layout.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace imgcreate::disk {

namespace bios {
inline constexpr std::size_t sector = 512;
inline constexpr std::size_t bpb_start = 0x03, bpb_end = 0x5a;  // a FAT boot sector's parameters
inline constexpr std::size_t kernel_sector = 0x5c;
inline constexpr std::size_t drive_check = 0x66;
inline constexpr std::size_t code_end = 0x1b8;  // the disk signature and partition table follow
inline constexpr std::uint16_t core_load_segment = 0x800 + (sector >> 4);
}  // namespace bios

namespace detail {

inline std::vector<unsigned char> read_all(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw BootError("cannot read " + path.string(), path.string());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void put_le(std::vector<unsigned char>& bytes, std::size_t at, std::uint64_t value, int width) {
    for (int i = 0; i < width; ++i) bytes[at + static_cast<std::size_t>(i)] = static_cast<unsigned char>(value >> (8 * i));
}

}  // namespace detail

// Where core.img goes on the disk (its first LBA) and how many sectors it may take.
struct CoreLocation {
    std::uint64_t lba = 0;
    std::uint64_t max_sectors = 0;
};

inline CoreLocation core_location(const Disk& disk) {
    if (disk.label == LabelType::dos) {
        std::uint64_t first = UINT64_MAX;
        for (const auto& p : disk.partitions) first = std::min(first, p.start_mib);
        return {1, first * 2048 - 1};
    }
    for (const auto& p : disk.partitions)
        if (p.content == Content::biosboot) return {p.start_mib * 2048, p.size_mib * 2048};
    throw BootError("disk " + disk.name + " has GPT and no biosboot partition, so GRUB has nowhere to go for BIOS booting: "
                    "add 'reqpart' or 'part biosboot --fstype=biosboot --size=1' to the kickstart");
}

// The MBR sector with boot.img's code, given the MBR now on the disk.
inline std::vector<unsigned char> patched_mbr(std::vector<unsigned char> boot_img, const std::vector<unsigned char>& mbr,
                                              std::uint64_t core_lba) {
    using namespace bios;
    if (boot_img.size() != sector) throw BootError("GRUB's boot.img is not one sector");
    std::copy(mbr.begin() + bpb_start, mbr.begin() + bpb_end, boot_img.begin() + bpb_start);
    detail::put_le(boot_img, kernel_sector, core_lba, 8);
    boot_img[drive_check] = 0x90;
    boot_img[drive_check + 1] = 0x90;
    std::vector<unsigned char> out = mbr;
    std::copy(boot_img.begin(), boot_img.begin() + code_end, out.begin());
    return out;
}

// core.img with its first sector's block list naming the rest of it, at `core_lba` on.
inline std::vector<unsigned char> patched_core(std::vector<unsigned char> core, std::uint64_t core_lba) {
    using namespace bios;
    if (core.size() < 2 * sector) throw BootError("GRUB's core.img is smaller than two sectors");
    core.resize((core.size() + sector - 1) / sector * sector, 0);
    const std::uint64_t sectors = core.size() / sector;
    const std::size_t entry = sector - 12;
    detail::put_le(core, entry, core_lba + 1, 8);
    detail::put_le(core, entry + 8, sectors - 1, 2);
    detail::put_le(core, entry + 10, core_load_segment, 2);
    // The entry before it ends the list.
    std::fill(core.begin() + static_cast<long>(entry - 12), core.begin() + static_cast<long>(entry), 0);
    return core;
}

// Writes boot.img and core.img (as grub-mkimage -O i386-pc made them) into `image`, a disk
// assembled from `disk`.
inline void install_bios_boot(const std::filesystem::path& image, const Disk& disk, const std::filesystem::path& boot_img,
                              const std::filesystem::path& core_img) {
    const auto where = core_location(disk);
    auto core = patched_core(detail::read_all(core_img), where.lba);
    if (core.size() / bios::sector > where.max_sectors)
        throw BootError("GRUB's core.img (" + std::to_string(core.size() / bios::sector) + " sectors) does not fit the " +
                        std::to_string(where.max_sectors) + " sectors " +
                        (disk.label == LabelType::dos ? "before the first partition" : "of the biosboot partition"));
    UniqueFd fd(::open(image.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) throw BootError("cannot open " + image.string() + ": " + std::strerror(errno), image.string());
    std::vector<unsigned char> mbr(bios::sector);
    if (::pread(fd.get(), mbr.data(), mbr.size(), 0) != static_cast<ssize_t>(mbr.size()))
        throw BootError("cannot read the MBR of " + image.string(), image.string());
    const auto sector0 = patched_mbr(detail::read_all(boot_img), mbr, where.lba);
    const auto offset = static_cast<off_t>(where.lba * bios::sector);
    if (::pwrite(fd.get(), core.data(), core.size(), offset) != static_cast<ssize_t>(core.size()) ||
        ::pwrite(fd.get(), sector0.data(), sector0.size(), 0) != static_cast<ssize_t>(sector0.size()))
        throw BootError("cannot write GRUB's boot code into " + image.string() + ": " + std::strerror(errno), image.string());
    log::info("BIOS boot: GRUB's boot.img in the MBR of ", image.filename().string(), ", core.img (",
              core.size() / bios::sector, " sectors) at sector ", where.lba);
}

}  // namespace imgcreate::disk

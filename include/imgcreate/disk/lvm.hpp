// imgcreate — an LVM volume group written into a disk image as plain bytes: the physical volume's
// label and its metadata area, in LVM2's own on-disk format, so that lvm and dracut find the group
// and its logical volumes when the image boots. No device-mapper and no lvm tool is needed to make
// it: the logical volumes are linear, each one run of extents, and their filesystems are copied in
// at their offsets like partitions' (disk/assemble.hpp).
//
// The physical volume, from its first byte:
//   sector 1      the label ("LABELONE", "LVM2 001"): the volume's id, its size, where its data
//                 starts (1 MiB in) and where its metadata area is (4 KiB in, up to the data)
//   4 KiB         the metadata area's header (" LVM2 x[5A%r0N*>"), pointing 512 bytes on to
//   4.5 KiB       the volume group's metadata, LVM's text format, with its terminating NUL
//   1 MiB         the extents
// Every checksum is LVM's: CRC-32 (reflected, polynomial 0xEDB88320) from 0xF597A6CF, no final xor.
#pragma once

#include <imgcreate/disk/layout.hpp>
#include <imgcreate/mount/tree_filesystem.hpp>
#include <imgcreate/support/crc32.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace imgcreate::disk {

namespace lvm {

inline constexpr std::uint64_t label_sector = 1;
inline constexpr std::uint64_t metadata_offset = 4096;   // the metadata area's header, from the volume's start
inline constexpr std::uint64_t metadata_header_size = 512;
inline constexpr std::uint64_t data_offset = lvm_data_offset_mib << 20;

// LVM's checksum.
inline std::uint32_t crc(const unsigned char* data, std::size_t size, std::uint32_t value = 0xf597a6cfU) {
    return support::crc32_reflected<0xedb88320U>(data, size, value);
}

// An id as LVM makes them: 32 letters and digits, derived from `key`.
inline std::string derived_id(const std::string& key) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string hex;
    for (const auto& part : {mount::derived_uuid(key + "/lvm/1"), mount::derived_uuid(key + "/lvm/2")})
        for (char c : part)
            if (c != '-') hex += c;
    std::string id;
    for (std::size_t i = 0; i + 1 < hex.size() && id.size() < 32; i += 2)
        id += alphabet[std::stoul(hex.substr(i, 2), nullptr, 16) % 62];
    return id;
}

// An id as the metadata text writes it: 6-4-4-4-4-4-6.
inline std::string formatted_id(const std::string& id) {
    std::string out;
    static const int groups[] = {6, 4, 4, 4, 4, 4, 6};
    std::size_t at = 0;
    for (int n : groups) {
        if (!out.empty()) out += '-';
        out += id.substr(at, static_cast<std::size_t>(n));
        at += static_cast<std::size_t>(n);
    }
    return out;
}

// /dev/mapper's name of a logical volume: group-volume, each '-' in either doubled.
inline std::string mapper_name(const std::string& group, const std::string& volume) {
    auto escape = [](const std::string& s) {
        std::string out;
        for (char c : s) out += c == '-' ? std::string("--") : std::string(1, c);
        return out;
    };
    return escape(group) + "-" + escape(volume);
}

// The volume group's metadata, LVM's text format. `device` is where the physical volume was
// (a hint LVM keeps, /dev/sda2), `host` and `time` what the text says made it.
inline std::string metadata_text(const VolumeGroup& g, const Partition& pv, const std::string& device, const std::string& host,
                                 long long time) {
    const auto sectors = [](std::uint64_t mib) { return std::to_string(mib * 2048); };
    const std::string when = std::to_string(time);
    std::string t = g.name + " {\nid = \"" + formatted_id(g.id) + "\"\nseqno = 1\nformat = \"lvm2\"\n" +
                    "status = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\nflags = []\nextent_size = " + sectors(g.extent_mib) +
                    "\nmax_lv = 0\nmax_pv = 0\nmetadata_copies = 0\n\nphysical_volumes {\n\npv0 {\nid = \"" +
                    formatted_id(pv.lvm_id) + "\"\ndevice = \"" + device + "\"\n\nstatus = [\"ALLOCATABLE\"]\nflags = []\n" +
                    "dev_size = " + sectors(pv.size_mib) + "\npe_start = " + sectors(lvm_data_offset_mib) +
                    "\npe_count = " + std::to_string(g.extents) + "\n}\n}\n";
    if (!g.volumes.empty()) {
        t += "\nlogical_volumes {\n";
        std::uint64_t at = 0;
        for (const auto& lv : g.volumes) {
            const std::uint64_t extents = lv.size_mib / g.extent_mib;
            t += "\n" + lv.logical_volume + " {\nid = \"" + formatted_id(lv.lvm_id) + "\"\n" +
                 "status = [\"READ\", \"WRITE\", \"VISIBLE\"]\nflags = []\ncreation_time = " + when +
                 "\ncreation_host = \"" + host + "\"\nsegment_count = 1\n\nsegment1 {\nstart_extent = 0\nextent_count = " +
                 std::to_string(extents) + "\n\ntype = \"striped\"\nstripe_count = 1\n\nstripes = [\n\"pv0\", " +
                 std::to_string(at) + "\n]\n}\n}\n";
            at += extents;
        }
        t += "}\n";
    }
    t += "\n}\n# Generated by imgcreate\n\ncontents = \"Text Format Volume Group\"\nversion = 1\n\ndescription = \"\"\n\n"
         "creation_host = \"" + host + "\"\ncreation_time = " + when + "\n";
    return t;
}

namespace detail {

inline void put32(std::vector<unsigned char>& b, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<unsigned char>(v >> (8 * i));
}
inline void put64(std::vector<unsigned char>& b, std::size_t at, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<unsigned char>(v >> (8 * i));
}
inline void put(std::vector<unsigned char>& b, std::size_t at, const std::string& s) { std::memcpy(&b[at], s.data(), s.size()); }

}  // namespace detail

// The physical volume's first `data_offset` bytes: its label, the metadata area's header and the
// metadata, zeros elsewhere.
inline std::vector<unsigned char> physical_volume_header(const VolumeGroup& g, const Partition& pv, const std::string& device,
                                                         const std::string& host, long long time) {
    using namespace detail;
    std::vector<unsigned char> b(data_offset, 0);
    const std::size_t label = label_sector * 512;
    put(b, label, "LABELONE");
    put64(b, label + 8, label_sector);
    put32(b, label + 20, 32);  // the volume's header, from the label's start
    put(b, label + 24, "LVM2 001");
    std::size_t at = label + 32;
    if (pv.lvm_id.size() != 32) throw StageError("physical volume " + pv.physical_volume + " has no LVM id", pv.physical_volume);
    put(b, at, pv.lvm_id);
    at += 32;
    put64(b, at, pv.size_mib << 20);
    at += 8;
    put64(b, at, data_offset);  // data: from 1 MiB to the end (size 0)
    at += 16 + 16;              // and the list's end
    put64(b, at, metadata_offset);
    put64(b, at + 8, data_offset - metadata_offset);
    at += 16 + 16;
    put32(b, at, 2);            // the header's extension, version 2
    put32(b, at + 4, 1);        // in a volume group
    // (no boot loader area, and the list's end: zeros)
    put32(b, label + 16, crc(&b[label + 20], 512 - 20));

    const std::string text = metadata_text(g, pv, device, host, time);
    const std::size_t size = text.size() + 1;  // with its NUL
    if (metadata_header_size + size > data_offset - metadata_offset)
        throw StageError("the metadata of volume group " + g.name + " is larger than its metadata area", g.name);
    const std::size_t mda = metadata_offset;
    put(b, mda + 4, " LVM2 x[5A%r0N*>");
    put32(b, mda + 20, 1);
    put64(b, mda + 24, metadata_offset);
    put64(b, mda + 32, data_offset - metadata_offset);
    put64(b, mda + 40, metadata_header_size);
    put64(b, mda + 48, size);
    put(b, mda + metadata_header_size, text);
    put32(b, mda + 56, crc(&b[mda + metadata_header_size], size));
    put32(b, mda, crc(&b[mda + 4], metadata_header_size - 4));
    return b;
}

}  // namespace lvm

// Writes volume group `g`'s physical volume header into `image`, at its partition `pv`'s offset.
inline void write_volume_group(const VolumeGroup& g, const Partition& pv, const std::string& device,
                               const std::filesystem::path& image, const std::string& host, long long time) {
    const auto bytes = lvm::physical_volume_header(g, pv, device, host, time);
    UniqueFd out(::open(image.c_str(), O_WRONLY | O_CLOEXEC));
    const auto offset = static_cast<off_t>(pv.start_mib << 20);
    // only the label's sector and the metadata area (its header, then the text whose size the header's
    // first raw_locn holds): the rest stays a hole
    std::uint64_t text_size = 0;
    for (int i = 0; i < 8; ++i)
        text_size |= std::uint64_t{bytes[lvm::metadata_offset + 48 + static_cast<std::size_t>(i)]} << (8 * i);
    const std::size_t end = lvm::metadata_offset + lvm::metadata_header_size + text_size;
    if (!out || ::pwrite(out.get(), bytes.data() + 512, 512, offset + 512) != 512 ||
        ::pwrite(out.get(), bytes.data() + lvm::metadata_offset, end - lvm::metadata_offset,
                 offset + static_cast<off_t>(lvm::metadata_offset)) != static_cast<ssize_t>(end - lvm::metadata_offset))
        throw StageError("cannot write volume group " + g.name + " into " + image.string() + ": " + std::strerror(errno),
                         image.string());
}

}  // namespace imgcreate::disk

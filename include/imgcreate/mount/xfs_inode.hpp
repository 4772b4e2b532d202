// imgcreate — xfs inodes given, byte by byte in the image file, what mkfs.xfs's prototype file
// cannot carry: the extended attributes (a short-form attribute fork in the inode), the sticky
// bit and the four time stamps. The inode's checksum is made again; no mount and no xfs_db write.
//
// The on-disk format is xfs's (xfs_format.h): the superblock's geometry says where inode N lives
// (its group, block and slot), the inode core holds mode, times and fork offset at fixed offsets,
// big-endian, and a v5 (CRC) inode ends its core with a CRC-32C of the whole inode. An attribute
// fork is placed as the kernel places one (xfs_attr_shortform_bytesfit): at the end of the inode's
// literal area, never below what the data fork holds, so the data fork never has to be converted.
// A short-form entry holds a name and a value of at most 254 bytes each, as the kernel keeps them.
// Every inode is checked before it is changed (magic, number, checksum, file type), so a wrong
// place is an error, never a corrupted image.
#pragma once

#include <imgcreate/support/crc32.hpp>
#include <imgcreate/support/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <time.h>

namespace imgcreate::mount::xfs {

// An extended attribute's namespace as an attribute entry's flags say it.
inline constexpr std::uint8_t attr_user = 0;
inline constexpr std::uint8_t attr_trusted = 2;   // XFS_ATTR_ROOT
inline constexpr std::uint8_t attr_security = 4;  // XFS_ATTR_SECURE

struct Attr {
    std::uint8_t flags = attr_user;
    std::string name;   // within its namespace
    std::string value;
};

// Bytes a short-form attribute fork holding `attrs` takes: a 4-byte header, then per entry its
// name and value lengths and flags (3 bytes), the name and the value.
inline std::size_t attr_fork_bytes(const std::vector<Attr>& attrs) {
    std::size_t bytes = 4;
    for (const auto& a : attrs) bytes += 3 + a.name.size() + a.value.size();
    return bytes;
}

// What an inode's data fork holds (di_format).
enum class Format : std::uint8_t { device = 0, local = 1, extents = 2, btree = 3 };

// The fork offset, in 8-byte units from the start of the literal area, at which the kernel puts a
// short-form attribute fork of `attr_bytes` in an inode whose data fork (`format`) holds
// `data_bytes` of its `literal` bytes; none when the two do not fit side by side without
// converting the data fork (a short-form directory to a block, extents to a B+tree), which only
// the kernel does. As the kernel's xfs_attr_shortform_bytesfit: the data fork keeps at least room
// for a B+tree root of three records (52 bytes, rounded to 8), and the attribute fork at least
// room for one of two (36 bytes).
inline std::optional<unsigned> attr_fork_offset(Format format, std::size_t data_bytes, std::size_t attr_bytes,
                                                std::size_t literal) {
    if (attr_bytes > literal) return std::nullopt;
    const std::size_t offset = (literal - attr_bytes) >> 3;
    if (format == Format::device) return offset >= 1 ? std::optional<unsigned>(1) : std::nullopt;
    if (format == Format::btree) return std::nullopt;
    const std::size_t least = (std::max<std::size_t>(data_bytes, 52) + 7) >> 3;
    const std::size_t most = (literal - 36) >> 3;
    const std::size_t chosen = std::min(offset, most);
    if (chosen < least) return std::nullopt;
    return static_cast<unsigned>(chosen);
}

namespace detail {

inline std::uint64_t get_be(const unsigned char* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
    return v;
}

inline void put_be(unsigned char* p, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<unsigned char>(v & 0xff);
}

inline std::uint32_t get_le32(const unsigned char* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

inline void put_le32(unsigned char* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i, v >>= 8) p[i] = static_cast<unsigned char>(v & 0xff);
}

// The CRC-32C xfs keeps at `at` in `size` bytes: of them all, with its own 4 bytes as zeros.
inline std::uint32_t block_crc(unsigned char* p, std::size_t size, std::size_t at) {
    const auto kept = get_le32(p + at);
    put_le32(p + at, 0);
    const auto crc = support::crc32c(p, size);
    put_le32(p + at, kept);
    return crc;
}

}  // namespace detail

// The superblock fields (xfs_dsb) that say where an inode is and what it looks like.
struct Geometry {
    std::uint32_t block_size = 0;
    std::uint32_t ag_blocks = 0;
    std::uint16_t version = 0;        // sb_versionnum: the version in its low 4 bits, then feature bits
    std::uint16_t sector_size = 0;
    std::uint16_t inode_size = 0;
    std::uint8_t inodes_per_block_log = 0;
    std::uint8_t ag_block_log = 0;
    std::uint32_t features2 = 0;
    std::uint64_t realtime_bitmap_inode = 0;   // mkfs's own inodes, in every filesystem
    std::uint64_t realtime_summary_inode = 0;

    static constexpr std::uint16_t attr_bit = 0x0010;     // XFS_SB_VERSION_ATTRBIT
    static constexpr std::uint32_t attr2_bit = 0x0008;    // XFS_SB_VERSION2_ATTR2BIT

    bool v5() const { return (version & 0xf) == 5; }
    bool attr2() const { return v5() || (features2 & attr2_bit) != 0; }
    // The inode core: 176 bytes in a v5 inode (version 3), 100 before.
    std::size_t core_size() const { return v5() ? 176 : 100; }
    std::size_t literal() const { return inode_size - core_size(); }

    // The byte at which inode `ino` starts: its allocation group, the block in it and the slot in it.
    std::uint64_t inode_offset(std::uint64_t ino) const {
        const unsigned agino_bits = static_cast<unsigned>(ag_block_log) + inodes_per_block_log;
        const std::uint64_t ag = ino >> agino_bits;
        const std::uint64_t agino = ino & ((std::uint64_t{1} << agino_bits) - 1);
        const std::uint64_t block = agino >> inodes_per_block_log;
        const std::uint64_t slot = agino & ((std::uint64_t{1} << inodes_per_block_log) - 1);
        return (ag * ag_blocks + block) * block_size + slot * inode_size;
    }
};

// The geometry of the superblock `sb` (its first sector, at least 512 bytes), checked: the magic,
// and in v5 the checksum.
inline Geometry read_geometry(std::string& sb, const std::string& where) {
    using detail::get_be;
    if (sb.size() < 512) throw MountError(where + " is too short to hold an xfs superblock", where);
    auto* p = reinterpret_cast<unsigned char*>(sb.data());
    if (get_be(p, 4) != 0x58465342) throw MountError(where + " holds no xfs superblock (no XFSB magic)", where);
    Geometry g;
    g.block_size = static_cast<std::uint32_t>(get_be(p + 4, 4));
    g.ag_blocks = static_cast<std::uint32_t>(get_be(p + 84, 4));
    g.version = static_cast<std::uint16_t>(get_be(p + 100, 2));
    g.sector_size = static_cast<std::uint16_t>(get_be(p + 102, 2));
    g.inode_size = static_cast<std::uint16_t>(get_be(p + 104, 2));
    g.inodes_per_block_log = p[123];
    g.ag_block_log = p[124];
    g.features2 = static_cast<std::uint32_t>(get_be(p + 200, 4));
    g.realtime_bitmap_inode = get_be(p + 64, 8);
    g.realtime_summary_inode = get_be(p + 72, 8);
    if (g.sector_size < 512 || sb.size() < g.sector_size || g.inode_size < g.core_size() + 64 || g.block_size == 0)
        throw MountError(where + " has an xfs superblock this build does not understand (sector " +
                         std::to_string(g.sector_size) + ", inode " + std::to_string(g.inode_size) + " bytes)", where);
    if (g.v5() && detail::block_crc(p, g.sector_size, 224) != detail::get_le32(p + 224))
        throw MountError(where + "'s xfs superblock fails its checksum", where);
    return g;
}

// Sets the superblock's "has extended attributes" bit (what the kernel and xfs_db set when a
// filesystem gets its first attribute fork), the checksum made again. False: it was set already.
inline bool set_attr_bit(std::string& sb, const Geometry& g) {
    auto* p = reinterpret_cast<unsigned char*>(sb.data());
    const auto version = static_cast<std::uint16_t>(detail::get_be(p + 100, 2));
    if (version & Geometry::attr_bit) return false;
    detail::put_be(p + 100, version | Geometry::attr_bit, 2);
    if (g.v5()) detail::put_le32(p + 224, detail::block_crc(p, g.sector_size, 224));
    return true;
}

// What an inode's data fork holds, read from the inode: its format and the bytes it needs in the
// inode (a short-form directory's or a symbolic link's size, 16 per extent record, 4 for a device).
struct DataFork {
    Format format = Format::extents;
    std::size_t bytes = 0;
};

// A v5 inode with large extent counters (XFS_DIFLAG2_NREXT64) counts its data extents in 64 bits
// at byte 24, its attribute extents in 32 bits at 76; else 32 bits at 76 and 16 bits at 80.
inline bool large_extent_counts(const unsigned char* inode, const Geometry& g) {
    return g.v5() && (detail::get_be(inode + 120, 8) & 0x10) != 0;
}

inline DataFork data_fork(const unsigned char* inode, const Geometry& g) {
    using detail::get_be;
    DataFork d;
    d.format = static_cast<Format>(inode[5]);
    const auto extents = large_extent_counts(inode, g) ? get_be(inode + 24, 8) : get_be(inode + 76, 4);
    switch (d.format) {
        case Format::device: d.bytes = 4; break;
        case Format::local: d.bytes = static_cast<std::size_t>(get_be(inode + 56, 8)); break;
        case Format::extents: d.bytes = 16 * static_cast<std::size_t>(extents); break;
        default: d.bytes = 0; break;
    }
    return d;
}

// Checks that `inode` (inode_size bytes, read from inode `ino`'s place) is that inode, of the
// file type `mode` says, and untouched (checksum).
inline void check_inode(unsigned char* inode, const Geometry& g, std::uint64_t ino, mode_t mode, const std::string& where) {
    using detail::get_be;
    const auto at = " (inode " + std::to_string(ino) + ")";
    if (get_be(inode, 2) != 0x494e) throw MountError("the xfs image has no inode where " + where + "'s should be" + at, where);
    if (g.v5()) {
        if (get_be(inode + 152, 8) != ino) throw MountError("the xfs inode of " + where + " names another number" + at, where);
        if (detail::block_crc(inode, g.inode_size, 100) != detail::get_le32(inode + 100))
            throw MountError("the xfs inode of " + where + " fails its checksum" + at, where);
    }
    if ((get_be(inode + 2, 2) & S_IFMT) != (mode & S_IFMT))
        throw MountError("the xfs inode of " + where + " is not of its file type in the tree" + at, where);
}

// A time stamp in xfs's form: with bigtime (an inode flag) nanoseconds since -2^31 s in one 64-bit
// field, up to the kernel's latest (2486); else 32-bit seconds and nanoseconds. A time outside
// what the form holds is its earliest or latest, to the second, as the kernel clamps it.
inline void put_time(unsigned char* p, const struct timespec& t, bool bigtime) {
    constexpr long long low = -2147483648LL;
    const long long high = bigtime ? 16299260424LL : 2147483647LL;  // XFS_BIGTIME_TIME_MAX, or 2038
    const long long seconds = std::clamp<long long>(t.tv_sec, low, high);
    const auto nanoseconds = static_cast<std::uint64_t>(seconds == t.tv_sec ? t.tv_nsec : 0);
    if (bigtime) {
        detail::put_be(p, static_cast<std::uint64_t>(seconds - low) * 1000000000ULL + nanoseconds, 8);
    } else {
        detail::put_be(p, static_cast<std::uint32_t>(static_cast<std::int32_t>(seconds)), 4);
        detail::put_be(p + 4, nanoseconds, 4);
    }
}

// The times a reproducible image gives an inode, as a reproducible ext4 image does: the
// modification time clamped to the epoch (a later one is the epoch, to the second), the access
// time the same, the change and creation times the epoch.
inline struct stat clamped_times(struct stat st, long long epoch) {
    if (st.st_mtim.tv_sec >= epoch) st.st_mtim = {static_cast<time_t>(epoch), 0};
    st.st_atim = st.st_mtim;
    st.st_ctim = {static_cast<time_t>(epoch), 0};
    return st;
}

// Gives a checked inode (check_inode) the tree's permission bits (the sticky bit among them), its
// attributes as a short-form attribute fork at `fork_offset` (attr_fork_offset), and the access,
// modification and change times, and the change time as its creation time; then its checksum.
// With an epoch the times are clamped (clamped_times) and the generation number, which mkfs
// draws at random, is 0, so that the same tree gives the same bytes.
inline void update_inode(unsigned char* inode, const Geometry& g, const struct stat& tree_st, const std::vector<Attr>& attrs,
                         unsigned fork_offset, std::optional<long long> epoch = std::nullopt) {
    const struct stat st = epoch ? clamped_times(tree_st, *epoch) : tree_st;
    if (epoch) detail::put_be(inode + 92, 0, 4);  // di_gen
    using detail::get_be;
    using detail::put_be;
    const auto mode = static_cast<std::uint16_t>(get_be(inode + 2, 2));
    put_be(inode + 2, (mode & S_IFMT) | (st.st_mode & 07777), 2);
    if (!attrs.empty()) {
        inode[82] = static_cast<unsigned char>(fork_offset);             // di_forkoff
        inode[83] = static_cast<unsigned char>(Format::local);           // di_aformat
        if (large_extent_counts(inode, g)) put_be(inode + 76, 0, 4);     // di_big_anextents
        else put_be(inode + 80, 0, 2);                                   // di_anextents
        unsigned char* fork = inode + g.core_size() + 8 * fork_offset;
        const auto total = attr_fork_bytes(attrs);
        std::fill(fork, inode + g.inode_size, 0);
        put_be(fork, total, 2);
        fork[2] = static_cast<unsigned char>(attrs.size());
        unsigned char* at = fork + 4;
        for (const auto& a : attrs) {
            at[0] = static_cast<unsigned char>(a.name.size());
            at[1] = static_cast<unsigned char>(a.value.size());
            at[2] = a.flags;
            at = std::copy(a.name.begin(), a.name.end(), at + 3);
            at = std::copy(a.value.begin(), a.value.end(), at);
        }
    }
    const bool bigtime = g.v5() && (get_be(inode + 120, 8) & 0x8) != 0;  // XFS_DIFLAG2_BIGTIME
    put_time(inode + 32, st.st_atim, bigtime);
    put_time(inode + 40, st.st_mtim, bigtime);
    put_time(inode + 48, st.st_ctim, bigtime);
    if (g.v5()) {
        put_time(inode + 144, st.st_ctim, bigtime);
        detail::put_le32(inode + 100, detail::block_crc(inode, g.inode_size, 100));
    }
}

// An inode of mkfs's own (the realtime bitmap and summary) in a reproducible image: the epoch as
// its four times, generation 0, its checksum made again.
inline void reset_inode(unsigned char* inode, const Geometry& g, long long epoch) {
    const bool bigtime = g.v5() && (detail::get_be(inode + 120, 8) & 0x8) != 0;
    const struct timespec t = {static_cast<time_t>(epoch), 0};
    for (std::size_t at : {32, 40, 48}) put_time(inode + at, t, bigtime);
    detail::put_be(inode + 92, 0, 4);
    if (g.v5()) {
        put_time(inode + 144, t, bigtime);
        detail::put_le32(inode + 100, detail::block_crc(inode, g.inode_size, 100));
    }
}

// The entries of each directory xfs_db's `ls` listed, in the order listed: its sections (a
// "path:" line, then "cookie inode type hash name_length name" per entry), each entry's name and
// inode number. Anything else in the output (xfs_db's complaints) is an error.
inline std::vector<std::vector<std::pair<std::string, std::uint64_t>>> parse_ls(const std::string& output,
                                                                                const std::string& where) {
    std::vector<std::vector<std::pair<std::string, std::uint64_t>>> sections;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        if (line.front() < '0' || line.front() > '9') {
            if (line.back() != ':') throw MountError("xfs_db could not list the directories of " + where + ": " + line, where);
            sections.emplace_back();
            continue;
        }
        std::istringstream fields(line);
        std::string cookie, inode, type, hash;
        std::size_t length = 0;
        fields >> cookie >> inode >> type >> hash >> length;
        const auto start = static_cast<std::size_t>(fields.tellg()) + 1;
        if (!fields || sections.empty() || start + length > line.size() || inode.find_first_not_of("0123456789") != std::string::npos)
            throw MountError("xfs_db listed a directory of " + where + " in a form this build does not read: " + line, where);
        sections.back().emplace_back(line.substr(start, length), std::stoull(inode));
    }
    return sections;
}

}  // namespace imgcreate::mount::xfs

// xfs's on-disk pieces imgcreate writes itself (mount/xfs_inode.hpp), against numbers xfsprogs
// 6.1 and the kernel's format give; the whole path, image and kernel, is in test_mount.
#include <catch2/catch.hpp>

#include <imgcreate/disk/lvm.hpp>
#include <imgcreate/mount/xfs_inode.hpp>
#include <imgcreate/support/crc32.hpp>

#include <string>

using namespace imgcreate;
using mount::xfs::Format;

namespace {
std::uint32_t crc_of(const std::string& text, bool lvm = false) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    return lvm ? disk::lvm::crc(p, text.size()) : support::crc32c(p, text.size());
}
}  // namespace

TEST_CASE("xfs's CRC-32C and LVM's CRC-32 give their formats' check values") {
    CHECK(crc_of("123456789") == 0xe3069283U);  // the CRC-32C check value
    CHECK(crc_of("") == 0U);
    // LVM's: the standard CRC-32 register without its initial and final inversion
    CHECK(crc_of("123456789", true) == support::crc32_reflected<0xedb88320U>(
                                           reinterpret_cast<const unsigned char*>("123456789"), 9, 0xf597a6cfU));
    CHECK(~support::crc32_reflected<0xedb88320U>(reinterpret_cast<const unsigned char*>("123456789"), 9, ~0U) == 0xcbf43926U);
}

TEST_CASE("an xfs attribute fork goes where the kernel puts it, or nowhere when the data fork would have to move") {
    // /etc/pam.d of the testdistro in 2048-byte inodes (1872 literal bytes): 317 bytes of short-form
    // entries and a 41-byte SELinux label; xfs_db's attr_set put the fork at 228.
    CHECK(mount::xfs::attr_fork_offset(Format::local, 317, 41, 1872) == 228u);
    // 512-byte inodes (336 literal bytes): the fork ends the inode, 8-byte aligned
    CHECK(mount::xfs::attr_fork_offset(Format::local, 6, 41, 336) == 36u);
    CHECK(mount::xfs::attr_fork_offset(Format::extents, 16, 41, 336) == 36u);
    // a small fork is still given room for an attribute B+tree root of two records (36 bytes):
    // libxfs puts one 8-byte attribute at 37, as xfs_db's attr_set shows
    CHECK(mount::xfs::attr_fork_offset(Format::extents, 0, 8, 336) == 37u);
    CHECK(mount::xfs::attr_fork_offset(Format::local, 296, 8, 336) == 37u);
    CHECK_FALSE(mount::xfs::attr_fork_offset(Format::local, 297, 8, 336));
    // the data fork keeps room for a B+tree root of three records (52 bytes): a 290-byte fork,
    // which libxfs moves to a block, finds none in the inode
    CHECK_FALSE(mount::xfs::attr_fork_offset(Format::local, 6, 290, 336));
    CHECK(mount::xfs::attr_fork_offset(Format::local, 6, 280, 336) == 7u);
    // 326 bytes of entries and a 40-byte label do not fit side by side in 336
    CHECK_FALSE(mount::xfs::attr_fork_offset(Format::local, 326, 40, 336));
    CHECK(mount::xfs::attr_fork_offset(Format::local, 326, 40, 848) == 101u);
    // a device's number takes the first 8 bytes
    CHECK(mount::xfs::attr_fork_offset(Format::device, 4, 41, 336) == 1u);
    CHECK(mount::xfs::attr_fork_offset(Format::device, 4, 328, 336) == 1u);
    CHECK_FALSE(mount::xfs::attr_fork_offset(Format::device, 4, 329, 336));
    // a data fork in a B+tree, or a fork larger than the inode
    CHECK_FALSE(mount::xfs::attr_fork_offset(Format::btree, 0, 41, 336));
    CHECK_FALSE(mount::xfs::attr_fork_offset(Format::extents, 0, 400, 336));
    CHECK(mount::xfs::attr_fork_bytes({{mount::xfs::attr_security, "selinux", std::string(27, 'x')}}) == 41u);
    CHECK(mount::xfs::attr_fork_bytes({{mount::xfs::attr_user, "a", ""}, {mount::xfs::attr_trusted, "bc", "d"}}) == 4u + 4 + 6);
}

TEST_CASE("an xfs inode number is found at its allocation group, block and slot") {
    mount::xfs::Geometry g;
    g.block_size = 4096;
    g.ag_blocks = 131072;
    g.inode_size = 2048;
    g.inodes_per_block_log = 1;
    g.ag_block_log = 17;
    // 557313 = group 2, inode 33025 in it: block 16512, slot 1
    CHECK(g.inode_offset(557313) == (2ULL * 131072 + 16512) * 4096 + 2048);
    CHECK(g.inode_offset(64) == 32ULL * 4096);
    g.version = 0xb4b5;
    CHECK(g.v5());
    CHECK(g.literal() == 1872u);
    g.version = 0xb4a4;
    CHECK_FALSE(g.v5());
    CHECK(g.literal() == 1948u);
}

TEST_CASE("xfs_db's ls output is read as each directory's names and inode numbers") {
    const std::string out = "/:\n"
                            "8          64                 directory      0x0000002e   1 . (good)\n"
                            "10         64                 directory      0x0000172e   2 .. (good)\n"
                            "12         67                 symlink        0x0018b4ee   3 bin (good)\n"
                            "/etc:\n"
                            "8          557121             directory      0x0000002e   1 . (good)\n"
                            "14         557130             regular        0x0c5bf7f4   8 a b:c (x (good)\n";
    const auto sections = mount::xfs::parse_ls(out, "x.img");
    REQUIRE(sections.size() == 2);
    CHECK(sections[0][2] == std::pair<std::string, std::uint64_t>{"bin", 67});
    CHECK(sections[1][1] == std::pair<std::string, std::uint64_t>{"a b:c (x", 557130});
    CHECK_THROWS_WITH(mount::xfs::parse_ls("/nope: no such file or directory\n", "x.img"),
                      "xfs_db could not list the directories of x.img: /nope: no such file or directory");
    CHECK_THROWS_WITH(mount::xfs::parse_ls("/:\n8 64 directory 0x2e 40 .\n", "x.img"),
                      Catch::StartsWith("xfs_db listed a directory of x.img in a form this build does not read"));
}

TEST_CASE("an xfs time stamp is written in the inode's own form, clamped to what it holds") {
    unsigned char b[8] = {};
    mount::xfs::put_time(b, {1, 5}, true);  // bigtime: nanoseconds since -2^31 s
    CHECK(mount::xfs::detail::get_be(b, 8) == 2147483649ULL * 1000000000ULL + 5);
    mount::xfs::put_time(b, {1600000001, 987654321}, false);
    CHECK(mount::xfs::detail::get_be(b, 4) == 1600000001U);
    CHECK(mount::xfs::detail::get_be(b + 4, 4) == 987654321U);
    mount::xfs::put_time(b, {5000000000LL, 7}, false);  // past 2038: the latest 32 bits hold, to the second
    CHECK(mount::xfs::detail::get_be(b, 4) == 2147483647U);
    CHECK(mount::xfs::detail::get_be(b + 4, 4) == 0U);
    // bigtime ends in 2486 (XFS_BIGTIME_TIME_MAX): a later time is that, not a wrapped count
    mount::xfs::put_time(b, {19880899200LL, 3}, true);
    CHECK(mount::xfs::detail::get_be(b, 8) == (16299260424ULL + 2147483648ULL) * 1000000000ULL);
    mount::xfs::put_time(b, {-5000000000LL, 3}, true);  // before 1901: the earliest
    CHECK(mount::xfs::detail::get_be(b, 8) == 0U);
    // a reproducible image: times after the epoch are the epoch, access as modification, change the epoch
    struct stat st {};
    st.st_mtim = {1800000000, 5};
    st.st_atim = {1900000000, 6};
    st.st_ctim = {1900000000, 7};
    auto c = mount::xfs::clamped_times(st, 1700000000);
    CHECK((c.st_mtim.tv_sec == 1700000000 && c.st_mtim.tv_nsec == 0 && c.st_atim.tv_sec == 1700000000 &&
           c.st_ctim.tv_sec == 1700000000 && c.st_ctim.tv_nsec == 0));
    st.st_mtim = {1600000000, 5};
    c = mount::xfs::clamped_times(st, 1700000000);
    CHECK((c.st_mtim.tv_sec == 1600000000 && c.st_mtim.tv_nsec == 5 && c.st_atim.tv_sec == 1600000000));
}

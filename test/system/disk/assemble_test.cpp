// Disk images assembled from a tree with no loop device and no mount, checked offline as a user
// would: sfdisk --json reads the table back, blkid -p probes each partition at its offset, each
// filesystem passes its fsck and holds its own part of the tree (and not the parts mounted on it),
// and the fstab's UUIDs are the filesystems'.
#include <catch2/catch.hpp>

#include <fcntl.h>

#include "system/mount/fixture.hpp"
#include "support/skip.hpp"

#include <imgcreate/disk/assemble.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/loop_device.hpp>
#include <imgcreate/support/process.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <sys/xattr.h>

using namespace imgcreate;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

// A small installed system: files in /, /boot, /boot/efi, /home, /var, a sticky /home/shared.
void make_tree(const fs::path& root) {
    write(root / "etc/os-release", "NAME=tree\n");
    write(root / "usr/bin/tool", std::string(200000, 'x'));
    write(root / "boot/vmlinuz-6.1", std::string(100000, 'k'));
    write(root / "boot/efi/EFI/BOOT/BOOTX64.EFI", "efi binary");
    write(root / "home/alice/notes", "hello");
    const struct timespec notes_time[2] = {{1600000000, 123456789}, {1600000000, 123456789}};
    ::utimensat(AT_FDCWD, (root / "home/alice/notes").c_str(), notes_time, 0);
    write(root / "var/lib/data", "var data");
    write(root / "srv/www/index.html", "<p>hi</p>");
    fs::create_directories(root / "home/shared");
    ::chmod((root / "home/shared").c_str(), 01777);
    fs::create_directory_symlink("usr/bin", root / "bin");
}

std::string output_of(std::vector<std::string> argv) {
    Command c;
    c.argv = std::move(argv);
    c.log_output = false;
    return run(c).output;
}

// One partition's bytes as a file of its own (sparse), for the tools that take no offset.
fs::path extract(const fs::path& image, const disk::Partition& p, const fs::path& dir) {
    const auto out = dir / ("part" + std::to_string(p.number));
    run({"dd", "if=" + image.string(), "of=" + out.string(), "bs=1M", "skip=" + std::to_string(p.start_mib),
         "count=" + std::to_string(p.size_mib), "conv=sparse", "status=none"});
    return out;
}

// sfdisk --json, one line for the table ("gpt <id>") and one per partition ("<start> <size> <type>
// <uuid> <bootable>"), the entries in table order.
std::vector<std::string> table(const fs::path& image) {
    Command c;
    c.argv = {"/bin/sh", "-c",
              "sfdisk --json \"$0\" | python3 -c 'import json, sys\n"
              "t = json.load(sys.stdin)[\"partitiontable\"]\n"
              "print(t[\"label\"], t.get(\"id\", \"\"))\n"
              "for p in t[\"partitions\"]: print(p[\"start\"], p[\"size\"], p[\"type\"], p.get(\"uuid\", \"-\"), "
              "p.get(\"bootable\", False))'",
              image.string()};
    c.log_output = false;
    std::vector<std::string> lines;
    std::istringstream in(run(c).output);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string row(std::uint64_t start_mib, std::uint64_t size_mib, const std::string& type, const std::string& uuid,
                bool bootable = false) {
    return std::to_string(start_mib * 2048) + " " + std::to_string(size_mib * 2048) + " " + type + " " + uuid + " " +
           (bootable ? "True" : "False");
}

std::string probe(const fs::path& image, const disk::Partition& p, const char* tag) {
    Command c;
    c.argv = {"blkid", "-p", "-O", std::to_string(p.start_mib << 20), "-S", std::to_string(p.size_mib << 20), "-s", tag,
              "-o", "value", image.string()};
    c.check = false;
    c.log_output = false;
    auto out = run(c).output;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

const disk::Partition& partition(const disk::Disk& d, const std::string& what) {
    for (const auto& p : d.partitions)
        if (disk::detail::describe(p) == what) return p;
    FAIL("no partition " << what);
    throw 0;
}

disk::Layout planned(const std::string& ks) {
    auto layout = disk::plan_layout(kickstart::parse_string(ks, "disk.ks"));
    disk::assign_identities(layout, disk::identity_seed("t", "", 1700000000));
    return layout;
}

// assemble_disks (the disk named "appliance", pieces in <scratch>/work), with the log it wrote.
std::pair<std::vector<fs::path>, std::string> assemble_logged(const disk::Layout& layout, const fs::path& tree,
                                                              const fs::path& scratch, std::optional<long long> epoch) {
    Logger::instance().open_file((scratch / "log").string());
    std::vector<fs::path> images;
    try {
        images = disk::assemble_disks(layout, tree, scratch, scratch / "work", "appliance", epoch);
    } catch (...) {
        Logger::instance().close_file();
        throw;
    }
    Logger::instance().close_file();
    std::ifstream in(scratch / "log");
    return {images, std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>())};
}

void require_tools() {
    for (const char* t : {"sfdisk", "blkid", "mkfs.ext4", "mkfs.xfs", "mkfs.btrfs", "mkfs.fat", "mcopy", "mkswap", "xfs_db",
                          "e2fsck", "xfs_repair", "fsck.vfat", "btrfs", "debugfs", "dd"})
        IMGCREATE_REQUIRE_PROGRAM(t);
}

}  // namespace

TEST_CASE("a GPT disk with biosboot, ESP, /boot, /, xfs /home and swap is assembled from the tree and reads back") {
    require_tools();
    // Without an epoch the ext4 filesystems are written into the disk image in place, side by side
    // with the others; with one, each is made reproducibly on its own and copied in.
    const auto epoch = GENERATE(values<std::optional<long long>>({std::nullopt, 1700000000LL}));
    INFO((epoch ? "SOURCE_DATE_EPOCH" : "no epoch"));
    test::ScratchDir scratch;
    const auto tree = scratch.path / "tree";
    make_tree(tree);
    // labelled as a relabel leaves them: the mount points keep their labels in the filesystem that holds them
    const std::string boot_label = "system_u:object_r:boot_t:s0", home_label = "system_u:object_r:home_root_t:s0";
    REQUIRE(::lsetxattr((tree / "boot").c_str(), "security.selinux", boot_label.c_str(), boot_label.size() + 1, 0) == 0);
    REQUIRE(::lsetxattr((tree / "home").c_str(), "security.selinux", home_label.c_str(), home_label.size() + 1, 0) == 0);
    auto layout = planned("reqpart --add-boot\n"
                          "part / --size=64 --label=root\n"
                          "part /home --fstype=xfs --size=300\n"
                          "part swap --size=16\n");
    const auto [images, log] = assemble_logged(layout, tree, scratch.path, epoch);
    // where each ext4 filesystem was written
    CHECK((log.find("image labelled 'root' for / in appliance-sda.raw at ") != std::string::npos) == !epoch);
    CHECK(fs::is_empty(scratch.path / "work"));  // no piece left
    REQUIRE(images.size() == 1);
    const auto& image = images[0];
    const auto& d = layout.disks[0];
    CHECK(image.filename() == "appliance-sda.raw");
    CHECK(fs::file_size(image) == d.size_mib << 20);
    // No loop device holds the image or its pieces. (Tests beside this one under ctest -j may bind
    // their own, so the count is no measure; that a user, who can bind none, builds the same disk
    // is the proof that none is needed.)
    for (const auto& binding : mount::bound_loop_devices()) CHECK_THAT(binding.backing_file.string(), !Contains(scratch.path.string()));

    SECTION("the image is sparse: its blocks are far fewer than its size") {
        struct stat st {};
        ::stat(image.c_str(), &st);
        CHECK(static_cast<std::uint64_t>(st.st_blocks) * 512 < (d.size_mib << 20) / 10);
    }

    SECTION("sfdisk reads the table back as planned") {
        std::vector<std::string> expected{"gpt " + d.id};
        for (const auto& p : d.partitions) expected.push_back(row(p.start_mib, p.size_mib, disk::gpt_type(p), p.partuuid));
        CHECK(table(image) == expected);
    }

    SECTION("blkid finds each filesystem at its offset with the UUID the fstab names") {
        const auto fstab = disk::fstab(layout);
        std::map<std::string, std::string> types{{"/", "ext4"}, {"/boot", "ext4"}, {"/boot/efi", "vfat"},
                                                 {"/home", "xfs"}, {"swap", "swap"}};
        for (const auto& [what, type] : types) {
            INFO(what);
            const auto& p = partition(d, what);
            CHECK(probe(image, p, "TYPE") == type);
            CHECK(probe(image, p, "UUID") == p.uuid);
            CHECK_THAT(fstab, Contains("UUID=" + p.uuid + " " + (what == "swap" ? std::string("none") : what) + " "));
        }
        CHECK(probe(image, partition(d, "/"), "LABEL") == "root");
    }

    SECTION("every filesystem passes its fsck and holds its own files, not those mounted on it") {
        const auto work = scratch.path / "check";
        fs::create_directories(work);
        const auto root = extract(image, partition(d, "/"), work);
        run({"e2fsck", "-fn", root.string()});
        const auto ls_root = output_of({"debugfs", "-R", "ls -l /", root.string()});
        CHECK_THAT(ls_root, Contains("etc"));
        CHECK_THAT(ls_root, Contains("home"));
        CHECK_THAT(output_of({"debugfs", "-R", "ls /usr/bin", root.string()}), Contains("tool"));
        CHECK_THAT(output_of({"debugfs", "-R", "ls /boot", root.string()}), !Contains("vmlinuz"));
        CHECK_THAT(output_of({"debugfs", "-R", "ls /home", root.string()}), !Contains("alice"));
        CHECK_THAT(output_of({"debugfs", "-R", "stat /bin", root.string()}), Contains("Type: symlink"));
        CHECK_THAT(output_of({"debugfs", "-R", "ea_list /boot", root.string()}), Contains(boot_label));
        CHECK_THAT(output_of({"debugfs", "-R", "ea_list /home", root.string()}), Contains(home_label));

        const auto boot = extract(image, partition(d, "/boot"), work);
        run({"e2fsck", "-fn", boot.string()});
        CHECK_THAT(output_of({"debugfs", "-R", "ls /", boot.string()}), Contains("vmlinuz-6.1"));
        const auto ls_efi_mountpoint = output_of({"debugfs", "-R", "ls /efi", boot.string()});
        CHECK_THAT(ls_efi_mountpoint, !Contains("EFI"));

        const auto esp = extract(image, partition(d, "/boot/efi"), work);
        run({"fsck.vfat", "-n", esp.string()});
        Command mdir;
        mdir.argv = {"mdir", "-i", esp.string(), "::/EFI/BOOT"};
        mdir.env = std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}, {"MTOOLS_SKIP_CHECK", "1"}};
        CHECK_THAT(run(mdir).output, Contains("BOOTX64"));

        const auto home = extract(image, partition(d, "/home"), work);
        run({"xfs_repair", "-n", "-f", home.string()});
        CHECK_THAT(output_of({"xfs_db", "-r", "-c", "path /alice", "-c", "ls", home.string()}), Contains("notes"));
        CHECK_THAT(output_of({"xfs_db", "-r", "-c", "path /shared", "-c", "print core.mode", home.string()}),
                   Contains("core.mode = 041777"));
        // The prototype file carries no time stamps: xfs_db gives the tree's.
        const auto times = output_of({"xfs_db", "-r", "-c", "path /alice/notes", "-c", "print core.mtime", home.string()});
        CHECK_THAT(times, Contains("core.mtime.sec = ") && Contains(" 2020\n"));  // in the local time zone
        CHECK_THAT(times, Contains("core.mtime.nsec = 123456789"));
    }

    SECTION("the tree is whole again afterwards") {
        CHECK(fs::exists(tree / "boot/vmlinuz-6.1"));
        CHECK(fs::exists(tree / "boot/efi/EFI/BOOT/BOOTX64.EFI"));
        CHECK(fs::exists(tree / "home/alice/notes"));
        CHECK_FALSE(fs::exists(scratch.path / "tree.excluded-0"));
    }
}

TEST_CASE("an ext4 part whose --mkfsoptions give their own -E is made on its own and copied in, with those options") {
    require_tools();
    // mke2fs keeps only the last -E, so writing at an offset (-E offset=) would drop the user's
    test::ScratchDir scratch;
    const auto tree = scratch.path / "tree";
    make_tree(tree);
    auto layout = planned("part / --size=64 --mkfsoptions=\"-E stride=16,stripe_width=32\"\n"
                          "part /boot --size=32\n");
    const auto [images, log] = assemble_logged(layout, tree, scratch.path, std::nullopt);
    INFO(log);
    CHECK(log.find("ext4 image for / in appliance-sda.raw at ") == std::string::npos);
    CHECK(log.find("ext4 image for /boot in appliance-sda.raw at ") != std::string::npos);
    REQUIRE(images.size() == 1);
    const auto& d = layout.disks[0];
    const auto work = scratch.path / "check";
    fs::create_directories(work);
    const auto root = extract(images[0], partition(d, "/"), work);
    run({"e2fsck", "-fn", root.string()});
    const auto super = output_of({"dumpe2fs", "-h", root.string()});
    CHECK_THAT(super, Contains("RAID stride:              16"));
    CHECK_THAT(super, Contains("RAID stripe width:        32"));
    CHECK(probe(images[0], partition(d, "/"), "UUID") == partition(d, "/").uuid);
    CHECK_THAT(output_of({"debugfs", "-R", "ls /usr/bin", root.string()}), Contains("tool"));
    const auto boot = extract(images[0], partition(d, "/boot"), work);
    run({"e2fsck", "-fn", boot.string()});
    CHECK_THAT(output_of({"dumpe2fs", "-h", boot.string()}), !Contains("RAID stride"));
    CHECK_THAT(output_of({"debugfs", "-R", "ls /", boot.string()}), Contains("vmlinuz-6.1"));
    CHECK(fs::is_empty(scratch.path / "work"));
}

TEST_CASE("a mount point reached through a link in the tree, or a link in a vfat tree, is refused and the host is untouched") {
    require_tools();
    test::ScratchDir scratch;
    const auto tree = scratch.path / "tree";
    make_tree(tree);
    // a directory of the host that an absolute link in the image would name if followed outside the tree
    const auto host = scratch.path / "host";
    write(host / "data/keep", "the host's own file");
    write(host / "secret", "the host's secret");

    SECTION("a mount point below a link: its subtree would be the host's") {
        fs::create_directory_symlink(host, tree / "opt");
        auto layout = planned("part / --size=64\npart /opt/data --size=16\n");
        try {
            disk::assemble_disks(layout, tree, scratch.path, scratch.path / "work", "appliance", std::nullopt);
            FAIL("a mount point below a link was made");
        } catch (const MountError& e) {
            CHECK_THAT(std::string(e.what()), Contains("the mount point /opt/data cannot be made: /opt in the image is a "
                                                       "symbolic link to " + host.string()));
        }
        CHECK_THAT(output_of({"cat", (host / "data/keep").string()}), Contains("the host's own file"));
        CHECK_FALSE(fs::exists(scratch.path / "appliance-sda.raw"));
    }
    SECTION("a link in the ESP's tree: mtools would copy the host's file it names") {
        fs::create_symlink(host / "secret", tree / "boot/efi/EFI/BOOT/grub.cfg");
        auto layout = planned("part /boot/efi --fstype=efi --size=50\npart / --size=64\n");
        try {
            disk::assemble_disks(layout, tree, scratch.path, scratch.path / "work", "appliance", std::nullopt);
            FAIL("a vfat filesystem was made from a tree with a link");
        } catch (const MountError& e) {
            CHECK_THAT(std::string(e.what()), Contains("the vfat filesystem for /boot/efi cannot hold the symbolic link "
                                                       "/boot/efi/EFI/BOOT/grub.cfg -> " + (host / "secret").string()));
        }
        CHECK(fs::is_symlink(tree / "boot/efi/EFI/BOOT/grub.cfg"));  // the tree is whole again
        CHECK(fs::exists(tree / "boot/efi/EFI/BOOT/BOOTX64.EFI"));
        for (const auto& e : fs::directory_iterator(scratch.path)) CHECK_THAT(e.path().filename().string(), !Contains("tree."));
    }
}

TEST_CASE("an msdos disk with a btrfs root and logical partitions is assembled and reads back") {
    require_tools();
    test::ScratchDir scratch;
    const auto tree = scratch.path / "tree";
    make_tree(tree);
    auto layout = planned("clearpart --all --disklabel=msdos\nzerombr\n"
                          "part /boot --size=32\npart / --fstype=btrfs --size=160\npart swap --size=8\n"
                          "part /var --fstype=ext3 --size=16\npart /srv --fstype=ext2 --size=12\n");
    const auto image = disk::assemble_disks(layout, tree, scratch.path, scratch.path / "work", "m", 1700000000).at(0);
    const auto& d = layout.disks[0];
    std::vector<std::string> expected{"dos " + d.id,
                                      row(1, 32, "83", "-", true),
                                      row(33, 160, "83", "-"),
                                      row(193, 16, "83", "-"),  // larger before smaller: /var, /srv, swap
                                      row(209, 1 + 12 + 1 + 8, "5", "-"),
                                      row(210, 12, "83", "-"),
                                      row(210 + 12 + 1, 8, "82", "-")};
    CHECK(table(image) == expected);
    std::map<std::string, std::string> types{{"/", "btrfs"}, {"/boot", "ext4"}, {"/var", "ext3"}, {"/srv", "ext2"},
                                             {"swap", "swap"}};
    for (const auto& [what, type] : types) {
        INFO(what);
        CHECK(probe(image, partition(d, what), "TYPE") == type);
        CHECK(probe(image, partition(d, what), "UUID") == partition(d, what).uuid);
    }
    const auto work = scratch.path / "check";
    fs::create_directories(work);
    const auto root = extract(image, partition(d, "/"), work);
    run({"btrfs", "check", "--readonly", root.string()});
    const auto listing = output_of({"btrfs", "inspect-internal", "dump-tree", "-t", "fs", root.string()});
    CHECK_THAT(listing, Contains("name: os-release"));
    CHECK_THAT(listing, Contains("name: srv"));
    CHECK_THAT(listing, !Contains("name: index.html"));
    const auto srv = extract(image, partition(d, "/srv"), work);
    run({"e2fsck", "-fn", srv.string()});
    CHECK_THAT(output_of({"debugfs", "-R", "ls /www", srv.string()}), Contains("index.html"));
}

TEST_CASE("a partition too small for its part of the tree is an error naming the mount point and the numbers") {
    require_tools();
    test::ScratchDir scratch;
    const auto tree = scratch.path / "tree";
    make_tree(tree);
    write(tree / "home/alice/big", std::string(12 << 20, 'b'));
    // /home a partition or a logical volume
    const bool lvm = GENERATE(false, true);
    auto layout = planned(lvm ? "part /boot --size=16\npart pv.01 --size=10 --grow\nvolgroup vg pv.01\n"
                                "logvol / --vgname=vg --name=root --size=64\nlogvol /home --vgname=vg --name=home --size=8\n"
                              : "part / --size=64\npart /home --size=8\n");
    // made in place (no epoch) or on its own and copied in (an epoch): the same error
    const auto epoch = GENERATE(values<std::optional<long long>>({std::nullopt, 1700000000LL}));
    INFO((epoch ? "SOURCE_DATE_EPOCH" : "no epoch") << (lvm ? ", LVM" : ""));
    try {
        disk::assemble_disks(layout, tree, scratch.path, scratch.path / "work", "full", epoch);
        FAIL("the build went on");
    } catch (const MountError& e) {
        CHECK_THAT(e.what(), Contains(lvm ? "raise logvol /home --size" : "raise part /home --size"));
        CHECK_THAT(e.what(), Contains("the ext4 image is 8 MiB"));
    }
    CHECK(fs::exists(tree / "home/alice/big"));  // the tree is whole again
    CHECK(fs::exists(tree / "etc"));
    CHECK_FALSE(fs::exists(scratch.path / "tree.excluded-0"));
}

TEST_CASE("the same tree and epoch give the same disk image, byte for byte") {
    require_tools();
    test::ScratchDir scratch;
    const auto tree = scratch.path / "tree";
    make_tree(tree);
    const std::string ks = "reqpart\npart / --size=64\npart swap --size=8\n";
    auto a = planned(ks), b = planned(ks);
    fs::create_directories(scratch.path / "a");
    fs::create_directories(scratch.path / "b");
    const auto one = disk::assemble_disks(a, tree, scratch.path / "a", scratch.path / "work", "r", 1700000000).at(0);
    const auto two = disk::assemble_disks(b, tree, scratch.path / "b", scratch.path / "work", "r", 1700000000).at(0);
    CHECK(output_of({"sha256sum", "-b", one.string()}).substr(0, 64) == output_of({"sha256sum", "-b", two.string()}).substr(0, 64));
}

namespace {

// A filesystem image loop-mounted read-only (root can mount btrfs here), unmounted when it goes.
struct ReadOnlyMount {
    fs::path dir;
    ReadOnlyMount(const fs::path& image, const fs::path& at, const std::string& options) : dir(at) {
        fs::create_directories(dir);
        run({"mount", "-t", "btrfs", "-o", "loop,ro" + (options.empty() ? "" : "," + options), image.string(), dir.string()});
    }
    ~ReadOnlyMount() {
        Command c;
        c.argv = {"umount", dir.string()};
        c.check = false;
        run(c);
    }
    ReadOnlyMount(const ReadOnlyMount&) = delete;
    ReadOnlyMount& operator=(const ReadOnlyMount&) = delete;
};

std::string mode_of(const fs::path& path) {
    struct stat st {};
    ::lstat(path.c_str(), &st);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%o", st.st_mode & 07777);
    return buf;
}

// Root (the volumes are read back through loop mounts) and an mkfs.btrfs with --subvol.
void require_btrfs_subvolumes() {
    require_tools();
    IMGCREATE_REQUIRE_ROOT();
    if (!disk::mkfs_btrfs_makes_subvolumes()) IMGCREATE_SKIP("mkfs.btrfs has no --subvol (scripts/install-deps installs one)");
}

}  // namespace

TEST_CASE("a btrfs volume with subvolumes root and home is made from the tree, each subvolume holding its mount point's files") {
    require_btrfs_subvolumes();
    test::ScratchDir scratch;
    const auto tree = scratch.path / "tree";
    make_tree(tree);
    ::chmod((tree / "home/alice").c_str(), 0700);
    auto layout = planned("reqpart\n"
                          "part prepboot --fstype=prepboot --size=4\n"  // as Fedora Cloud's kickstart has it
                          "part /var --fstype=ext4 --size=16\n"
                          "part btrfs.01 --size=200 --fsoptions=compress=zstd:1\n"
                          "btrfs none --label=fedora btrfs.01\n"
                          "btrfs / --subvol --name=root fedora\n"
                          "btrfs /home --subvol --name=home fedora\n");
    const auto image = disk::assemble_disks(layout, tree, scratch.path, scratch.path / "work", "b", std::nullopt).at(0);
    const auto& d = layout.disks[0];
    std::vector<std::string> expected{"gpt " + d.id};
    for (const auto& p : d.partitions) expected.push_back(row(p.start_mib, p.size_mib, disk::gpt_type(p), p.partuuid));
    CHECK(table(image) == expected);
    const auto& member = partition(d, "btrfs.01");
    CHECK(probe(image, member, "TYPE") == "btrfs");
    // the PReP partition: its type, and nothing in it
    const auto& prep = partition(d, "prepboot");
    CHECK(disk::gpt_type(prep) == "9E1A2D38-C612-4316-AA26-8B49521E5A8B");
    CHECK(output_of({"cmp", "-n", std::to_string(prep.size_mib << 20), "-i", std::to_string(prep.start_mib << 20) + ":0",
                     image.string(), "/dev/zero"}).empty());
    CHECK(probe(image, member, "UUID") == member.uuid);
    CHECK(probe(image, member, "LABEL") == "fedora");
    const auto fstab = disk::fstab(layout);
    CHECK_THAT(fstab, Contains("UUID=" + member.uuid + " / btrfs subvol=root,compress=zstd:1 0 0\n"));
    CHECK_THAT(fstab, Contains("UUID=" + member.uuid + " /home btrfs subvol=home,compress=zstd:1 0 0\n"));
    CHECK_THAT(fstab, Contains("UUID=" + partition(d, "/var").uuid + " /var ext4 "));

    const auto work = scratch.path / "check";
    fs::create_directories(work);
    const auto volume = extract(image, member, work);
    run({"btrfs", "check", "--readonly", volume.string()});
    // compress=zstd:1 in the fstab: the tree's files are compressed so too (3: zstd)
    CHECK_THAT(output_of({"btrfs", "inspect-internal", "dump-tree", "-t", "256", volume.string()}), Contains("compression 3"));
    {
        ReadOnlyMount top(volume, work / "top", "subvolid=5");
        const auto listing = output_of({"btrfs", "subvolume", "list", top.dir.string()});
        CHECK_THAT(listing, Contains("top level 5 path root\n") && Contains("top level 5 path home\n"));
        CHECK(fs::exists(top.dir / "root/boot/vmlinuz-6.1"));  // where GRUB reads it
    }
    {
        ReadOnlyMount root(volume, work / "root", "subvol=root");
        CHECK(fs::exists(root.dir / "etc/os-release"));
        CHECK(fs::exists(root.dir / "usr/bin/tool"));
        CHECK(fs::is_symlink(root.dir / "bin"));
        CHECK(fs::is_directory(root.dir / "home"));
        CHECK(fs::is_empty(root.dir / "home"));  // the mount point of subvolume home
        CHECK(fs::is_empty(root.dir / "var"));   // and of the ext4 /var
        CHECK(fs::exists(root.dir / "boot/efi"));
        CHECK(fs::is_empty(root.dir / "boot/efi"));
    }
    {
        ReadOnlyMount home(volume, work / "home", "subvol=home");
        CHECK(fs::exists(home.dir / "alice/notes"));
        CHECK(mode_of(home.dir / "alice") == "700");
        CHECK(mode_of(home.dir / "shared") == "1777");
    }
    const auto var = extract(image, partition(d, "/var"), work);
    CHECK_THAT(output_of({"debugfs", "-R", "ls /lib", var.string()}), Contains("data"));

    // The tree is whole again, and nothing of the staging is left beside it.
    CHECK(fs::exists(tree / "etc/os-release"));
    CHECK(fs::exists(tree / "home/alice/notes"));
    CHECK(fs::exists(tree / "var/lib/data"));
    CHECK(fs::exists(tree / "boot/efi/EFI/BOOT/BOOTX64.EFI"));
    for (const auto& e : fs::directory_iterator(scratch.path)) CHECK_THAT(e.path().filename().string(), !Contains("tree."));
}

TEST_CASE("a btrfs volume mounted at / keeps a subvolume named as its mount point there, and a name taken by the tree is an error") {
    require_btrfs_subvolumes();
    test::ScratchDir scratch;
    const auto tree = scratch.path / "tree";
    make_tree(tree);
    auto layout = planned("reqpart\npart btrfs.01 --size=200\nbtrfs / --label=sys btrfs.01\n"
                          "btrfs /home --subvol --name=home sys\nbtrfs /srv --subvol --name=srv-data sys\n");
    const auto image = disk::assemble_disks(layout, tree, scratch.path, scratch.path / "work", "t", std::nullopt).at(0);
    const auto work = scratch.path / "check";
    fs::create_directories(work);
    const auto volume = extract(image, partition(layout.disks[0], "btrfs.01"), work);
    {
        ReadOnlyMount top(volume, work / "top", "");
        CHECK(fs::exists(top.dir / "etc/os-release"));
        CHECK(fs::exists(top.dir / "home/alice/notes"));  // subvolume home, at its own mount point
        CHECK(fs::is_empty(top.dir / "srv"));              // the mount point of srv-data
        CHECK(fs::exists(top.dir / "srv-data/www/index.html"));
        CHECK_THAT(output_of({"btrfs", "subvolume", "list", top.dir.string()}), Contains("path home\n") && Contains("path srv-data\n"));
    }
    CHECK_THAT(disk::fstab(layout), Contains(" / btrfs subvolid=5 0 0\n"));

    auto clash = planned("reqpart\npart btrfs.01 --size=200\nbtrfs / --label=sys btrfs.01\nbtrfs /home --subvol --name=etc sys\n");
    try {
        disk::assemble_disks(clash, tree, scratch.path, scratch.path / "work", "c", std::nullopt);
        FAIL("the build went on");
    } catch (const MountError& e) {
        CHECK_THAT(e.what(), Contains("is both in") && Contains("rename the subvolume"));
    }
    CHECK(fs::exists(tree / "etc/os-release"));
    CHECK(fs::exists(tree / "home/alice/notes"));
}

TEST_CASE("nested subvolumes: root/var/lib inside subvolume root, data/srv inside a directory, each with its files") {
    require_btrfs_subvolumes();
    test::ScratchDir scratch;
    const auto tree = scratch.path / "tree";
    make_tree(tree);
    ::chmod((tree / "var").c_str(), 0750);
    // The nested subvolume comes before its parent on purpose: the order of the lines does not matter.
    auto layout = planned("reqpart\npart btrfs.01 --size=200\nbtrfs none --label=fedora btrfs.01\n"
                          "btrfs /var/lib --subvol --name=root/var/lib fedora\n"
                          "btrfs / --subvol --name=root fedora\n"
                          "btrfs /srv --subvol --name=data/srv fedora\n");
    const auto image = disk::assemble_disks(layout, tree, scratch.path, scratch.path / "work", "n", std::nullopt).at(0);
    const auto& member = partition(layout.disks[0], "btrfs.01");
    const auto fstab = disk::fstab(layout);
    CHECK_THAT(fstab, Contains("UUID=" + member.uuid + " /var/lib btrfs subvol=root/var/lib 0 0\n"));
    CHECK_THAT(fstab, Contains("UUID=" + member.uuid + " /srv btrfs subvol=data/srv 0 0\n"));

    const auto work = scratch.path / "check";
    fs::create_directories(work);
    const auto volume = extract(image, member, work);
    run({"btrfs", "check", "--readonly", volume.string()});
    {
        ReadOnlyMount top(volume, work / "top", "subvolid=5");
        const auto listing = output_of({"btrfs", "subvolume", "list", top.dir.string()});
        CHECK_THAT(listing, Contains(" path root\n") && Contains(" path root/var/lib\n") && Contains(" path data/srv\n"));
        CHECK_THAT(listing, !Contains(" path data\n"));  // a directory, not a subvolume
        CHECK(fs::exists(top.dir / "data/srv/www/index.html"));
    }
    {
        ReadOnlyMount root(volume, work / "root", "subvol=root");
        CHECK(fs::exists(root.dir / "etc/os-release"));
        CHECK(mode_of(root.dir / "var") == "750");          // the directory around the nested subvolume is /var
        CHECK(fs::exists(root.dir / "var/lib/data"));       // subvolume root/var/lib, seen inside root
        CHECK(fs::is_empty(root.dir / "srv"));              // the mount point of data/srv
        CHECK(!fs::exists(root.dir / "data"));
    }
    {
        ReadOnlyMount lib(volume, work / "lib", "subvol=root/var/lib");
        CHECK(fs::exists(lib.dir / "data"));
    }
    // The tree is whole again, nothing of the staging left beside it.
    CHECK(fs::exists(tree / "var/lib/data"));
    CHECK(fs::exists(tree / "srv/www/index.html"));
    CHECK(fs::exists(tree / "etc/os-release"));
    CHECK(mode_of(tree / "var") == "750");
    for (const auto& e : fs::directory_iterator(scratch.path)) CHECK_THAT(e.path().filename().string(), !Contains("tree."));
}

TEST_CASE("an LVM volume group is written with no device-mapper: its label and metadata where LVM reads them, each logical volume's filesystem at its extents") {
    require_tools();
    IMGCREATE_REQUIRE_PROGRAM("python3");
    test::ScratchDir scratch;
    const auto tree = scratch.path / "tree";
    make_tree(tree);
    auto layout = planned("part /boot --size=32\npart pv.01 --size=100 --grow\nvolgroup vg0 pv.01\n"
                          "logvol / --vgname=vg0 --name=root --size=64 --label=root\n"
                          "logvol /home --vgname=vg0 --name=home --size=300 --fstype=xfs\n"
                          "logvol swap --vgname=vg0 --name=swap --size=8\n");
    const auto [images, log] = assemble_logged(layout, tree, scratch.path, 1700000000);
    const auto& image = images.at(0);
    const auto& d = layout.disks[0];
    const auto& g = layout.groups.at(0);
    const auto& pv = partition(d, "pv.01");
    CHECK_THAT(log, Contains("wrote LVM volume group vg0 (" + std::to_string(g.extents) + " extents of 4 MiB) on sda2, with 3 "
                             "logical volume(s)"));
    CHECK(table(image).at(2) == row(pv.start_mib, pv.size_mib, "E6D6D379-F507-44C2-A23C-238F2A3DF928", pv.partuuid));
    // blkid checks the label's checksum, and gives the physical volume's id as LVM writes it
    CHECK(probe(image, pv, "TYPE") == "LVM2_member");
    CHECK(probe(image, pv, "UUID") == disk::lvm::formatted_id(pv.lvm_id));

    // The metadata area, read as LVM reads it, its checksums computed with zlib's CRC-32 (LVM's is
    // the same polynomial, from 0xF597A6CF and without the final inversion).
    Command read;
    read.argv = {"python3", "-c",
                 "import struct, sys, zlib\n"
                 "f = open(sys.argv[1], 'rb'); f.seek(int(sys.argv[2]) * 1048576); b = f.read(1048576)\n"
                 "crc = lambda data: zlib.crc32(data, 0xf597a6cf ^ 0xffffffff) ^ 0xffffffff\n"
                 "m = b[4096:]\n"
                 "assert m[4:20] == b' LVM2 x[5A%r0N*>', 'magic'\n"
                 "assert struct.unpack('<I', m[0:4])[0] == crc(m[4:512]), 'header checksum'\n"
                 "offset, size, checksum = struct.unpack('<QQI', m[40:60])\n"
                 "text = m[offset:offset + size]\n"
                 "assert checksum == crc(text), 'metadata checksum'\n"
                 "assert text[-1:] == b'\\0', 'terminating NUL'\n"
                 "l = b[512:1024]\n"
                 "assert struct.unpack('<I', l[16:20])[0] == crc(l[20:512]), 'label checksum'\n"
                 "sys.stdout.write(text[:-1].decode())\n",
                 image.string(), std::to_string(pv.start_mib)};
    read.log_output = false;
    const auto text = run(read).output;
    CHECK(text == disk::lvm::metadata_text(g, pv, "/dev/sda2", "imgcreate", 1700000000));
    CHECK_THAT(text, Contains("pe_count = " + std::to_string(g.extents) + "\n"));

    const auto work = scratch.path / "check";
    fs::create_directories(work);
    std::uint64_t extent = 0;
    for (const auto& lv : g.volumes) {
        INFO(lv.logical_volume);
        CHECK(lv.start_mib == pv.start_mib + 1 + extent * 4);
        CHECK_THAT(text, Contains(lv.logical_volume + " {\n") &&
                             Contains("extent_count = " + std::to_string(lv.size_mib / 4) + "\n\ntype = \"striped\"\n"
                                      "stripe_count = 1\n\nstripes = [\n\"pv0\", " + std::to_string(extent) + "\n]"));
        extent += lv.size_mib / 4;
        CHECK(probe(image, lv, "TYPE") == (lv.content == disk::Content::swap ? "swap" : lv.fstype));
        CHECK(probe(image, lv, "UUID") == lv.uuid);
        const auto piece = work / lv.logical_volume;
        run({"dd", "if=" + image.string(), "of=" + piece.string(), "bs=1M", "skip=" + std::to_string(lv.start_mib),
             "count=" + std::to_string(lv.size_mib), "conv=sparse", "status=none"});
        if (lv.fstype == "ext4") {
            run({"e2fsck", "-fn", piece.string()});
            CHECK_THAT(output_of({"debugfs", "-R", "ls /usr/bin", piece.string()}), Contains("tool"));
            CHECK_THAT(output_of({"debugfs", "-R", "ls /home", piece.string()}), !Contains("alice"));
            CHECK_THAT(output_of({"debugfs", "-R", "ls /boot", piece.string()}), !Contains("vmlinuz"));
        } else if (lv.fstype == "xfs") {
            run({"xfs_repair", "-n", "-f", piece.string()});
            CHECK_THAT(output_of({"xfs_db", "-r", "-c", "path /alice", "-c", "ls", piece.string()}), Contains("notes"));
        }
    }
    CHECK(probe(image, partition(d, "/boot"), "UUID") == layout.find("/boot")->uuid);
    const auto fstab = disk::fstab(layout);
    CHECK_THAT(fstab, Contains("\n/dev/mapper/vg0-root / ext4 defaults 1 1\nUUID=" + layout.find("/boot")->uuid +
                               " /boot ext4 defaults 1 2\n/dev/mapper/vg0-home /home xfs defaults 0 0\n"));
    CHECK_THAT(fstab, Contains("\n/dev/mapper/vg0-swap none swap defaults 0 0\n"));
}

TEST_CASE("two volume groups on one disk may name their logical volumes alike: each filesystem is made on its own") {
    require_tools();
    test::ScratchDir scratch;
    const auto tree = scratch.path / "tree";
    make_tree(tree);
    // made on their own and side by side (xfs, and ext4 under an epoch): one work file each
    auto layout = planned("part /boot --size=32\npart pv.01 --size=100 --grow\npart pv.02 --size=100 --grow\n"
                          "volgroup a pv.01\nvolgroup b pv.02\nlogvol / --vgname=a --name=data --size=64\n"
                          "logvol /home --vgname=b --name=data --size=300 --fstype=xfs\n");
    const auto image = disk::assemble_disks(layout, tree, scratch.path, scratch.path / "work", "two", 1700000000).at(0);
    for (const char* mp : {"/", "/home"}) {
        INFO(mp);
        const auto* lv = layout.find(mp);
        REQUIRE(lv);
        CHECK(probe(image, *lv, "UUID") == lv->uuid);
        CHECK(probe(image, *lv, "TYPE") == lv->fstype);
    }
    CHECK(disk::fstab(layout).find("/dev/mapper/b-data /home xfs") != std::string::npos);
}

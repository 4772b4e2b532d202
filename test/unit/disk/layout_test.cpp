// The disk layout a kickstart asks for, worked out with no I/O: partitions, their order, sizes
// and offsets; what is refused, with the line and the numbers; the fstab and sfdisk's input.
#include <catch2/catch.hpp>

#include <imgcreate/disk/layout.hpp>
#include <imgcreate/disk/partition_table.hpp>
#include <imgcreate/install/package_request.hpp>
#include <imgcreate/kickstart/kickstart.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/skip.hpp"

using namespace imgcreate;
using Catch::Matchers::Contains;

namespace {

disk::Layout plan(const std::string& text, const disk::LayoutOptions& options = {}) {
    return disk::plan_layout(kickstart::parse_string(text, "disk.ks"), options);
}

std::string refusal(const std::string& text, const disk::LayoutOptions& options = {}) {
    try {
        plan(text, options);
    } catch (const Error& e) {
        return e.what();
    }
    return "(accepted)";
}

std::vector<std::string> names(const disk::Disk& d) {
    std::vector<std::string> out;
    for (const auto& p : d.partitions) out.push_back(disk::detail::describe(p));
    return out;
}

}  // namespace

TEST_CASE("one part / line gives one GPT disk sda of the root's size plus the table's two MiB") {
    auto layout = plan("part / --size=2048\n");
    REQUIRE(layout.disks.size() == 1);
    const auto& d = layout.disks[0];
    CHECK(d.name == "sda");
    CHECK(d.label == disk::LabelType::gpt);
    CHECK(d.size_mib == 2050);
    REQUIRE(d.partitions.size() == 1);
    CHECK(d.partitions[0].fstype == "ext4");
    CHECK(d.partitions[0].number == 1);
    CHECK(d.partitions[0].start_mib == 1);
    CHECK(d.partitions[0].size_mib == 2048);
}

TEST_CASE("reqpart adds biosboot and the ESP, and partitions go in anaconda's order") {
    auto layout = plan("reqpart --add-boot\n"
                       "part swap --recommended\n"
                       "part /home --size=100 --grow\n"
                       "part / --size=1500 --fstype=xfs --label=root --fsoptions=noatime\n",
                       {.memory_mib = 512});
    const auto& d = layout.disks.at(0);
    CHECK(names(d) == std::vector<std::string>{"biosboot", "/boot/efi", "/boot", "/", "swap", "/home"});
    CHECK(d.partitions[0].size_mib == 1);
    CHECK(d.partitions[1].fstype == "vfat");
    CHECK(d.partitions[1].content == disk::Content::esp);
    CHECK(d.partitions[1].size_mib == 500);  // grows only into a given disk size
    CHECK(d.partitions[2].size_mib == 1024);
    CHECK(d.partitions[3].label == "root");
    CHECK(d.partitions[3].fsoptions == "noatime");
    CHECK(d.partitions[4].size_mib == 1024);  // twice the guest's 512 MiB
    std::uint64_t at = 1;
    int number = 1;
    for (const auto& p : d.partitions) {
        CHECK(p.start_mib == at);
        CHECK(p.number == number++);
        at += p.size_mib;
    }
    CHECK(d.size_mib == at + 1);
}

TEST_CASE("part swap --recommended and --hibernation are sized as anaconda suggests, whatever --size and --grow say") {
    auto swap_of = [](const std::string& line, const disk::LayoutOptions& options) {
        const auto layout = plan("part / --size=1000\n" + line + "\n", options);
        for (const auto& p : layout.disks.at(0).partitions)
            if (p.content == disk::Content::swap) return p;
        FAIL("no swap partition");
        return disk::Partition{};
    };
    // twice the memory below 2 GiB, as much below 8 GiB, half below 64 GiB, then 4 GiB
    CHECK(swap_of("part swap --recommended", {.memory_mib = 1024}).size_mib == 2048);
    CHECK(swap_of("part swap --recommended", {.memory_mib = 4096}).size_mib == 4096);
    CHECK(swap_of("part swap --recommended", {.memory_mib = 16384}).size_mib == 8192);
    CHECK(swap_of("part swap --recommended", {.memory_mib = 131072}).size_mib == 4096);
    // hibernation adds the memory (below 64 GiB of it)
    CHECK(swap_of("part swap --hibernation", {.memory_mib = 4096}).size_mib == 8192);
    CHECK(swap_of("part swap --hibernation", {.memory_mib = 131072}).size_mib == 4096);
    // --size and --grow are not read: the suggestion is the size
    const auto fixed = swap_of("part swap --recommended --size=100 --grow", {.disk_size_mib = {{"sda", 30000}}, .memory_mib = 1024});
    CHECK(fixed.size_mib == 2048);
    CHECK_FALSE(fixed.grow);
    // at most a tenth of a given disk, except for hibernation
    CHECK(swap_of("part swap --recommended", {.disk_size_mib = {{"sda", 20000}}, .memory_mib = 4096}).size_mib == 2000);
    CHECK(swap_of("part swap --hibernation", {.disk_size_mib = {{"sda", 20000}}, .memory_mib = 4096}).size_mib == 8192);

    const auto notes = plan("part / --size=1000\npart swap --recommended --size=100\n", {.memory_mib = 1024}).notes;
    REQUIRE(notes.size() == 1);
    CHECK(notes[0] == "disk.ks:2: part swap --recommended is 2048 MiB, as anaconda suggests for 1024 MiB of memory "
                      "(--vmem); its --size and --grow are not read");
}

TEST_CASE("part --grow partitions share a given disk size in proportion to their base, up to --maxsize") {
    const std::string ks = "part / --size=1000 --grow\n"
                           "part /var --size=500 --grow --maxsize=700\n"
                           "part /srv --size=500 --grow\n";
    SECTION("without a cap reached, in proportion") {
        // 2002 needed, 4002 given: 2000 to share, 1000 : 500 : 500 -> /var would get 500, capped at 200.
        auto d = plan(ks, {.disk_size_mib = {{"sda", 4002}}}).disks.at(0);
        REQUIRE(names(d) == std::vector<std::string>{"/", "/var", "/srv"});
        CHECK(d.partitions[1].size_mib == 700);
        // What /var could not take (300) is shared again by / and /srv, 2 : 1.
        CHECK(d.partitions[0].size_mib == 1000 + 1000 + 200);
        CHECK(d.partitions[2].size_mib == 500 + 500 + 100);
        CHECK(d.partitions[2].start_mib + d.partitions[2].size_mib + 1 == 4002);
    }
    SECTION("every MiB is handed out even when the shares round down") {
        auto d = plan(ks, {.disk_size_mib = {{"sda", 2003}}}).disks.at(0);
        std::uint64_t sum = 0;
        for (const auto& p : d.partitions) sum += p.size_mib;
        CHECK(sum == 2001);
    }
    SECTION("without a disk size every partition keeps its base size") {
        auto d = plan(ks).disks.at(0);
        CHECK(d.partitions[0].size_mib == 1000);
        CHECK(d.size_mib == 2002);
    }
}

TEST_CASE("a layout that does not fit the disk is refused with the numbers") {
    auto message = refusal("part / --size=3000\npart swap --size=512\n", {.disk_size_mib = {{"sda", 2048}}});
    CHECK_THAT(message, Contains("disk sda need 3514 MiB"));
    CHECK_THAT(message, Contains("/ 3000 MiB, swap 512 MiB"));
    CHECK_THAT(message, Contains("the disk is 2048 MiB"));
}

TEST_CASE("part --ondisk puts partitions on several disks, the one holding / first") {
    auto layout = plan("part /data --size=100 --ondisk=vdb\n"
                       "part / --size=1000 --ondisk=vda\n"
                       "part /srv --size=200 --ondisk=vdc\n"
                       "part /var --size=300 --ondisk=vdb\n");
    REQUIRE(layout.disks.size() == 3);
    CHECK(layout.disks[0].name == "vda");
    CHECK(layout.disks[1].name == "vdb");
    CHECK(names(layout.disks[1]) == std::vector<std::string>{"/var", "/data"});  // larger first
    CHECK(layout.disks[2].name == "vdc");
    CHECK(layout.disk_of("/srv")->name == "vdc");
    CHECK(refusal("part / --size=100\n", {.disk_size_mib = {{"sdz", 500}}}) ==
          "a size is given for disk sdz, and no part line is on it (--ondisk=sdz)");
}

TEST_CASE("bootloader --boot-drive puts reqpart's partitions and GRUB on that disk, which comes first") {
    auto layout = plan("bootloader --boot-drive=/dev/sdb\nreqpart\npart / --size=1000\npart /srv --size=100 --ondisk=sdb\n");
    REQUIRE(layout.disks.size() == 2);
    CHECK(layout.disks[0].name == "sdb");
    CHECK(names(layout.disks[0]) == std::vector<std::string>{"biosboot", "/boot/efi", "/srv"});
    CHECK(layout.disks[1].name == "sda");
    CHECK(names(layout.disks[1]) == std::vector<std::string>{"/"});

    // a disk of its own for the boot loader's partitions
    auto own = plan("bootloader --boot-drive=sdc\nreqpart\npart / --size=1000\n");
    REQUIRE(own.disks.size() == 2);
    CHECK(own.disks[0].name == "sdc");
    CHECK(names(own.disks[0]) == std::vector<std::string>{"biosboot", "/boot/efi"});

    CHECK(refusal("bootloader --boot-drive=sdc\npart / --size=1000\npart /srv --size=100 --ondisk=sdb\n") ==
          "disk.ks:1: bootloader --boot-drive=sdc: no part line is on that disk (the disks: sda, sdb); name one of them, "
          "as --ondisk names it, or add reqpart to put the boot loader's partitions there");
}

TEST_CASE("an msdos disk with more than four partitions has three primary ones and the rest logical") {
    auto d = plan("clearpart --all --disklabel=msdos\nzerombr\n"
                  "part /boot --size=300\npart / --size=1000\npart swap --size=100\n"
                  "part /home --size=50\npart /var --size=40\n").disks.at(0);
    CHECK(d.label == disk::LabelType::dos);
    CHECK(names(d) == std::vector<std::string>{"/boot", "/", "swap", "/home", "/var"});
    CHECK(d.partitions[2].number == 3);
    CHECK_FALSE(d.partitions[2].logical);
    CHECK(d.extended_number == 4);
    CHECK(d.extended_start_mib == 1 + 300 + 1000 + 100);
    CHECK(d.partitions[3].number == 5);
    CHECK(d.partitions[3].logical);
    CHECK(d.partitions[3].start_mib == d.extended_start_mib + 1);  // the EBR's MiB before it
    CHECK(d.partitions[4].number == 6);
    CHECK(d.partitions[4].start_mib == d.partitions[3].start_mib + 50 + 1);
    CHECK(d.extended_size_mib == 1 + 50 + 1 + 40);
    CHECK(d.size_mib == d.extended_start_mib + d.extended_size_mib);
    CHECK_THAT(disk::sfdisk_script(d), Contains("start=2869248, size=188416, type=5\n"));
    CHECK_THAT(disk::sfdisk_script(d), Contains("start=2048, size=614400, type=83, bootable\n"));

    SECTION("--asprimary partitions are primary even where the boot loader's and /boot sort before them") {
        auto a = plan("clearpart --disklabel=msdos\nreqpart --add-boot\npart / --size=1000\n"
                      "part /a --size=10 --asprimary\npart /b --size=20 --asprimary\npart /c --size=30\n").disks.at(0);
        CHECK(names(a) == std::vector<std::string>{"/boot/efi", "/b", "/a", "/boot", "/", "/c"});
        for (std::size_t i = 0; i < a.partitions.size(); ++i) {
            CHECK(a.partitions[i].logical == (i >= 3));
            CHECK(a.partitions[i].number == (i < 3 ? static_cast<int>(i) + 1 : static_cast<int>(i) + 2));
        }
        CHECK(a.extended_number == 4);
        CHECK(a.extended_start_mib == a.partitions[2].start_mib + a.partitions[2].size_mib);
        CHECK(a.partitions[3].start_mib == a.extended_start_mib + 1);
        CHECK(a.size_mib == a.extended_start_mib + a.extended_size_mib);
    }
    SECTION("--asprimary beyond what the extended partition leaves is refused") {
        CHECK_THAT(refusal("clearpart --disklabel=msdos\npart / --size=1000\npart /a --size=10 --asprimary\n"
                           "part /b --size=10 --asprimary\npart /c --size=10 --asprimary\npart /d --size=10 --asprimary\n"),
                   Contains("at most three may be --asprimary"));
    }
}

TEST_CASE("what a disk image cannot hold is refused before any work, naming the line") {
    CHECK_THAT(refusal("part / --size=100\nvolgroup vg pv.01\n"), Contains("disk.ks:2: volgroup vg pv.01: no part line makes pv.01"));
    CHECK_THAT(refusal("part / --size=1000 --encrypted --passphrase=x\n"), Contains("disk.ks:1: part /: --encrypted needs device-mapper"));
    CHECK_THAT(refusal("part / --size=1000 --onpart=sda1\n"), Contains("a disk image is new"));
    CHECK_THAT(refusal("part / --size=1000 --fstype=ntfs\n"), Contains("--fstype=ntfs: a disk image makes ext4"));
    CHECK_THAT(refusal("part / --size=200 --fstype=xfs\n"), Contains("200 MiB is too small for xfs, which needs at least 300 MiB"));
    CHECK_THAT(refusal("part / --size=1000 --grow --maxsize=500\n"), Contains("--maxsize=500 is smaller than --size=1000"));
    CHECK_THAT(refusal("part /boot --size=500\n"), Contains("no 'part /' line"));
    CHECK_THAT(refusal("part / --size=500\nbtrfs none --label=x btrfs.1\npart btrfs.1 --size=600\nbtrfs / --subvol --name=root x\n"),
               Contains("disk.ks:4: btrfs / is given twice (the first on line 1)"));
    CHECK_THAT(refusal("part prepboot --fstype=prepboot --size=20\npart / --size=500\n"),
               Contains("disk.ks:1: part prepboot: 20 MiB is more than the 10 MiB a PReP boot partition may have"));
    CHECK_THAT(refusal("part /boot/prep --fstype=prepboot --size=4\npart / --size=500\n"),
               Contains("a PReP boot partition has no mount point"));
    CHECK_THAT(refusal("clearpart --disklabel=msdos\npart biosboot --fstype=biosboot --size=1\npart / --size=500\n"),
               Contains("a biosboot partition is for GPT disks"));
    CHECK_THAT(refusal("part / --size=500\nbtrfs / --subvol --name=root LABEL=x\n"),
               Contains("disk.ks:2: btrfs / --subvol: no volume is named LABEL=x (there is no btrfs volume line)"));
}

namespace {
const std::string fedora_btrfs = "reqpart --add-boot\n"
                                 "part btrfs.01 --size=2000 --grow --fsoptions=compress=zstd:1\n"
                                 "btrfs none --label=fedora btrfs.01\n"
                                 "btrfs / --subvol --name=root fedora\n"
                                 "btrfs /home --subvol --name=home LABEL=fedora\n";
}

TEST_CASE("a btrfs volume on a part btrfs.NN member holds its subvolumes, mounted by the volume's UUID with subvol=") {
    auto layout = plan(fedora_btrfs, {.disk_size_mib = {{"sda", 4096}}});
    const auto& d = layout.disks.at(0);
    CHECK(names(d) == std::vector<std::string>{"biosboot", "/boot/efi", "/boot", "btrfs.01"});
    const auto& member = d.partitions[3];
    CHECK(member.fstype == "btrfs");
    CHECK(member.volume == "btrfs.01");
    CHECK(member.start_mib + member.size_mib == 4096 - 1);  // grown to the backup GPT
    REQUIRE(layout.volumes.size() == 1);
    const auto& v = layout.volumes[0];
    CHECK(v.label == "fedora");
    CHECK(v.mountpoint.empty());
    REQUIRE(v.subvolumes.size() == 2);
    CHECK(v.subvolumes[0].name == "root");
    CHECK(v.subvolumes[0].mountpoint == "/");
    CHECK(v.subvolumes[1].name == "home");
    CHECK(layout.mounted("/").partition == &member);
    CHECK(layout.mounted("/").subvolume == &v.subvolumes[0]);
    CHECK(layout.find("/") == nullptr);  // no partition of its own
    CHECK(layout.locate("/boot").second == "/");
    CHECK(layout.locate("/var/log").second == "/root/var/log");
    CHECK(layout.locate("/home/alice").second == "/home/alice");
    CHECK(layout.locate("/home").first.subvolume == &v.subvolumes[1]);

    disk::assign_identities(layout, "seed");
    const auto uuid = layout.disks[0].partitions[3].uuid;
    CHECK(disk::fstab(layout) == "# Written by imgcreate: the filesystems of the disk image, by UUID.\n"
                                 "UUID=" + uuid + " / btrfs subvol=root,compress=zstd:1 0 0\n"
                                 "UUID=" + layout.find("/boot")->uuid + " /boot ext4 defaults 1 2\n"
                                 "UUID=" + layout.find("/boot/efi")->uuid + " /boot/efi vfat umask=0077,shortname=winnt 0 2\n"
                                 "UUID=" + uuid + " /home btrfs subvol=home,compress=zstd:1 0 0\n");
}

TEST_CASE("without a /boot partition GRUB finds /boot inside the root subvolume, and a volume's top level may be mounted") {
    auto layout = plan("reqpart\npart btrfs.7 --size=3000\nbtrfs /top --label=sys --data=single --metadata=single btrfs.7\n"
                       "btrfs / --subvol --name=root sys\nbtrfs none --subvol --name=snapshots btrfs.7\n");
    CHECK(layout.locate("/boot").second == "/root/boot");
    CHECK(layout.locate("/top/x").second == "/x");
    CHECK(layout.volumes.at(0).metadata_level == "single");
    disk::assign_identities(layout, "seed");
    const auto fstab = disk::fstab(layout);
    CHECK_THAT(fstab, Contains(" /top btrfs subvolid=5 0 0\n"));
    CHECK_THAT(fstab, !Contains("snapshots"));
    CHECK(layout.mountpoints() == std::vector<std::string>{"/boot/efi", "/top", "/"});
}

TEST_CASE("btrfs volumes a disk image cannot make are refused before any work, naming the line") {
    CHECK_THAT(refusal("part btrfs.01 --size=500\npart btrfs.02 --size=500\nbtrfs / --label=f btrfs.01 btrfs.02\n"),
               Contains("disk.ks:3: btrfs /: a volume of 2 members is not made in disk images"));
    CHECK_THAT(refusal("part btrfs.01 --size=500\nbtrfs / --label=f btrfs.02\n"),
               Contains("disk.ks:2: btrfs /: its member btrfs.02 has no 'part btrfs.02 --size=SIZE_IN_MIB' line"));
    CHECK_THAT(refusal("part / --size=500\npart btrfs.01 --size=500\n"),
               Contains("disk.ks:2: part btrfs.01: a btrfs member needs its volume"));
    CHECK_THAT(refusal("part btrfs.01 --size=500\nbtrfs none --label=f btrfs.01\nbtrfs / --subvol --name=root g\n"),
               Contains("disk.ks:3: btrfs / --subvol: no volume is named g (the volumes: f)"));
    CHECK_THAT(refusal("part btrfs.01 --size=500\nbtrfs none --label=f btrfs.01\nbtrfs / --subvol --name=a//b f\n"),
               Contains("disk.ks:3: btrfs / --subvol --name=a//b: a subvolume's name is its path from the volume's top level"));
    CHECK_THAT(refusal("part btrfs.01 --size=500\nbtrfs none --label=f btrfs.01\nbtrfs / --subvol --name=root/../x f\n"),
               Contains("no ':', no empty, '.' or '..' part"));
    CHECK_THAT(refusal("part btrfs.01 --size=500\nbtrfs none --label=f btrfs.01\nbtrfs / --subvol --name=root/ f\n"),
               Contains("--name=root/: a subvolume's name"));
    CHECK_THAT(refusal("part btrfs.01 --size=500\nbtrfs none --label=f btrfs.01\nbtrfs / --subvol --name=r f\n"
                       "btrfs /home --subvol --name=r f\n"),
               Contains("disk.ks:4: btrfs /home --subvol --name=r: the volume has a subvolume of that name already (line 3)"));
    CHECK_THAT(refusal("part / --size=500\npart btrfs.01 --size=500\nbtrfs none --label=f btrfs.01\n"
                       "btrfs / --subvol --name=r f\n"),
               Contains("disk.ks:4: btrfs / is given twice (the first on line 1)"));
    CHECK_THAT(refusal("part btrfs.01 --size=500\nbtrfs / --label=f --data=raid1 btrfs.01\n"),
               Contains("--data=raid1: a volume on one member has the profile single"));
    CHECK_THAT(refusal("part btrfs.01 --size=500\nbtrfs / --label=f --useexisting btrfs.01\n"), Contains("a disk image is new"));
    CHECK_THAT(refusal("part btrfs.01 --size=500 --fstype=xfs\nbtrfs / --label=f btrfs.01\n"),
               Contains("a btrfs volume's member holds btrfs"));
    CHECK_THAT(refusal("part btrfs.01 --size=500\nbtrfs none --label=f btrfs.01\nbtrfs /home --subvol --name=home f\n"),
               Contains("nor a btrfs / volume or subvolume"));
}

TEST_CASE("autopart --type=btrfs lays out reqpart's partitions, a 1 GiB ext4 /boot and a volume with root and home") {
    auto layout = plan("autopart --type=btrfs\n", {.disk_size_mib = {{"sda", 8192}}});
    const auto& d = layout.disks.at(0);
    CHECK(names(d) == std::vector<std::string>{"biosboot", "/boot/efi", "/boot", "btrfs.autopart"});
    CHECK(layout.find("/boot")->size_mib == 1024);
    CHECK(layout.find("/boot")->fstype == "ext4");
    CHECK(d.partitions[3].fstype == "btrfs");
    CHECK(d.partitions[3].fsoptions == "compress=zstd:1");
    CHECK(d.partitions[3].start_mib + d.partitions[3].size_mib == 8192 - 1);
    REQUIRE(layout.volumes.size() == 1);
    CHECK(layout.volumes[0].label == "fedora");
    REQUIRE(layout.volumes[0].subvolumes.size() == 2);
    CHECK(layout.mounted("/").subvolume->name == "root");
    CHECK(layout.mounted("/home").subvolume->name == "home");

    auto bare = plan("autopart --type=btrfs --nohome --noboot --noswap\nclearpart --disklabel=msdos\n");
    CHECK(names(bare.disks.at(0)) == std::vector<std::string>{"/boot/efi", "btrfs.autopart"});
    CHECK(bare.volumes.at(0).subvolumes.size() == 1);
    CHECK(bare.locate("/boot").second == "/root/boot");
}

TEST_CASE("autopart --type=plain lays out /boot and a growing /, and /home only where the disk leaves it 50 GiB") {
    auto small = plan("autopart --type=plain --fstype=xfs\n", {.disk_size_mib = {{"sda", 10240}}});
    CHECK(names(small.disks.at(0)) == std::vector<std::string>{"biosboot", "/boot/efi", "/boot", "/"});
    CHECK(small.find("/")->fstype == "xfs");
    CHECK(small.find("/boot")->fstype == "xfs");
    CHECK(small.find("/")->grow);
    CHECK(small.find("/")->max_mib == 70 * 1024);
    auto large = plan("autopart --type=plain\n", {.disk_size_mib = {{"sda", 200 * 1024}}});
    CHECK(names(large.disks.at(0)) == std::vector<std::string>{"biosboot", "/boot/efi", "/boot", "/", "/home"});
    CHECK(large.find("/")->size_mib == 70 * 1024);
    CHECK(large.find("/boot")->fstype == "ext4");
    auto nohome = plan("autopart --type=plain --nohome\n", {.disk_size_mib = {{"sda", 100 * 1024}}});
    CHECK(nohome.find("/home") == nullptr);
    CHECK(plan("autopart --type=plain\n").find("/")->size_mib == 1024);
}

TEST_CASE("a full autopart partition says whether a larger disk helps: / grows, /boot and a full-grown ESP do not") {
    const auto layout = plan("autopart --type=plain --nohome\n", {.disk_size_mib = {{"sda", 40000}}});
    const std::string said = "the image is full: raise part X --size (the tree holds 1100 MiB)";
    auto message = [&](const std::string& mountpoint) {
        return disk::detail::autopart_full_message(layout, *layout.find(mountpoint), said).value_or("(none)");
    };
    CHECK(message("/") == "the image is full: autopart's / grows with the disk; give a larger --disk-size "
                          "(the tree holds 1100 MiB)");
    CHECK(message("/boot") == "the image is full: autopart's /boot is 1024 MiB, as large as anaconda makes it; lay the "
                              "disk out with part lines instead of autopart, giving /boot a larger --size "
                              "(the tree holds 1100 MiB)");
    CHECK_THAT(message("/boot/efi"), Contains("autopart's /boot/efi is 600 MiB, as large as anaconda makes it"));
    // a kickstart's own part lines have sizes to raise: the message stands
    const auto own = plan("part / --size=1000\n");
    CHECK_FALSE(disk::detail::autopart_full_message(own, *own.find("/"), said));
}

TEST_CASE("autopart of thin LVM or encrypted is refused with what to write instead") {
    CHECK_THAT(refusal("autopart --type=thinp\n"), Contains("disk.ks:1: autopart --type=thinp: a thin pool's volumes") &&
                                                   Contains("write autopart --type=lvm"));
    CHECK_THAT(refusal("autopart --type=btrfs --encrypted --passphrase=x\n"), Contains("autopart --encrypted needs device-mapper"));
}

TEST_CASE("identities are derived from the seed: the same seed gives the same UUIDs, another seed others") {
    const std::string ks = "reqpart\npart / --size=1000\npart swap --size=100\n";
    auto a = plan(ks), b = plan(ks), c = plan(ks);
    disk::assign_identities(a, disk::identity_seed("img", "/var/tmp/x", 1700000000));
    disk::assign_identities(b, disk::identity_seed("img", "/var/tmp/y", 1700000000));
    disk::assign_identities(c, disk::identity_seed("img", "/var/tmp/x", std::nullopt));
    CHECK(a.find("/")->uuid == b.find("/")->uuid);
    CHECK(a.disks[0].id == b.disks[0].id);
    CHECK(a.find("/")->uuid != c.find("/")->uuid);
    CHECK(a.find("/")->uuid != a.find("/")->partuuid);
    const auto* esp = a.find("/boot/efi");
    REQUIRE(esp);
    CHECK(esp->uuid.size() == 9);
    CHECK(esp->uuid[4] == '-');
}

TEST_CASE("the fstab names every filesystem and swap by UUID, parents first, with anaconda's columns") {
    auto layout = plan("reqpart --add-boot\npart / --size=1000 --fsoptions=noatime\npart swap --size=100\n"
                       "part /var --size=400 --fstype=xfs\n");
    disk::assign_identities(layout, "seed");
    const auto uuid = [&](const char* mp) { return layout.find(mp)->uuid; };
    std::string swap_uuid;
    for (const auto& p : layout.disks[0].partitions)
        if (p.content == disk::Content::swap) swap_uuid = p.uuid;
    CHECK(disk::fstab(layout) == "# Written by imgcreate: the filesystems of the disk image, by UUID.\n"
                                 "UUID=" + uuid("/") + " / ext4 noatime 1 1\n"
                                 "UUID=" + uuid("/boot") + " /boot ext4 defaults 1 2\n"
                                 "UUID=" + uuid("/boot/efi") + " /boot/efi vfat umask=0077,shortname=winnt 0 2\n"
                                 "UUID=" + uuid("/var") + " /var xfs defaults 0 0\n"
                                 "UUID=" + swap_uuid + " none swap defaults 0 0\n");
}

TEST_CASE("sfdisk's input for a GPT disk gives every start, size, type and GUID") {
    auto layout = plan("reqpart\npart / --size=1000\n");
    disk::assign_identities(layout, "seed");
    const auto& d = layout.disks[0];
    CHECK(disk::sfdisk_script(d) ==
          "label: gpt\nlabel-id: " + d.id + "\nunit: sectors\nfirst-lba: 2048\n\n"
          "start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, uuid=" + d.partitions[0].partuuid + "\n"
          "start=4096, size=1024000, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=" + d.partitions[1].partuuid + "\n"
          "start=1028096, size=2048000, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=" + d.partitions[2].partuuid + "\n");
}

TEST_CASE("Fedora Cloud's kickstart plans as its image is laid out: /boot, then a btrfs volume with root and home") {
    const auto cloud = kickstart::parse_file(std::string(IMGCREATE_SOURCE_DIR) + "/examples/kickstarts/cloud-base.ks");
    auto layout = disk::plan_layout(cloud, {.disk_size_mib = {{"sda", 5 * 1024}}});
    CHECK(names(layout.disks.at(0)) == std::vector<std::string>{"biosboot", "/boot/efi", "/boot", "btrfs.007"});
    const auto& member = layout.disks[0].partitions[3];
    CHECK(member.volume == "btrfs.007");
    CHECK(member.start_mib + member.size_mib == 5 * 1024 - 1);
    CHECK(layout.mounted("/").subvolume->name == "root");
    CHECK(layout.mounted("/home").subvolume->name == "home");
    CHECK(layout.locate("/boot").second == "/");
}

namespace {

// The storage a flattened kickstart plans, in a line: each disk's label and partitions, then each
// btrfs volume's subvolumes; or "refused: " and the message.
std::string planned(const kickstart::Kickstart& ks, const disk::LayoutOptions& options) {
    std::string out;
    try {
        const auto layout = disk::plan_layout(ks, options);
        for (const auto& d : layout.disks) {
            out += d.name + (d.label == disk::LabelType::gpt ? " gpt:" : " msdos:");
            for (const auto& p : d.partitions)
                out += " " + (p.volume.empty() ? disk::detail::describe(p) : p.volume) + "=" + p.fstype + "/" +
                       std::to_string(p.size_mib);
            out += ";";
        }
        for (const auto& g : layout.groups) {
            out += " " + g.name + ":";
            for (const auto& lv : g.volumes)
                out += " " + lv.logical_volume + "@" + (lv.mountpoint.empty() ? "swap" : lv.mountpoint) + "=" + lv.fstype +
                       "/" + std::to_string(lv.size_mib);
        }
        for (const auto& v : layout.volumes) {
            out += " " + v.label + ":";
            for (const auto& sub : v.subvolumes) out += " " + sub.name + "@" + sub.mountpoint;
        }
    } catch (const Error& e) {
        out = std::string("refused: ") + e.what();
    }
    return out;
}

}  // namespace

TEST_CASE("a later part line for a mount point replaces the earlier, as anaconda reads them, and says so") {
    const auto layout = plan("part / --size=5120\npart /home --size=600 --ondisk=sdb\npart / --size=9000 --fstype=xfs\n"
                             "part /home --size=700\n");
    REQUIRE(layout.disks.size() == 1);  // sdb held only the /home that was replaced
    CHECK(names(layout.disks[0]) == std::vector<std::string>{"/", "/home"});
    CHECK(layout.find("/")->size_mib == 9000);
    CHECK(layout.find("/")->fstype == "xfs");
    CHECK(layout.find("/home")->size_mib == 700);
    REQUIRE(layout.notes.size() == 2);
    CHECK(layout.notes[0] == "disk.ks:3: part / replaces the part / of line 1");
}

TEST_CASE("part prepboot is an empty PReP partition: its type in GPT and msdos, no filesystem, not in the fstab") {
    auto gpt = plan("part prepboot --fstype=prepboot --size=4\npart / --size=500\n");
    disk::assign_identities(gpt, "seed");
    const auto& prep = gpt.disks[0].partitions[1];
    REQUIRE(disk::detail::describe(prep) == "prepboot");
    CHECK(prep.size_mib == 4);
    CHECK(prep.uuid.empty());
    CHECK(disk::holds_no_filesystem(prep.content));
    CHECK(disk::gpt_type(prep) == "9E1A2D38-C612-4316-AA26-8B49521E5A8B");
    CHECK_THAT(disk::fstab(gpt), !Contains("prep"));
    CHECK(disk::fstab(gpt).find("UUID=") == disk::fstab(gpt).rfind("UUID="));  // only /
    CHECK_THAT(gpt.notes.at(0), Contains("disk.ks:1: part prepboot is made empty"));
    const auto dos = plan("clearpart --disklabel=msdos\npart prepboot --fstype=prepboot\npart / --size=500\n");
    CHECK(disk::mbr_type(dos.disks[0].partitions[1]) == "41");
    CHECK(dos.disks[0].partitions[1].size_mib == 4);
}

TEST_CASE("Fedora's own kickstarts plan the disks anaconda makes of them, or are refused naming the line") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(IMGCREATE_SHARED_DIR) / "kickstarts/fedora/flattened";
    if (!fs::is_directory(dir)) IMGCREATE_SKIP("needs " + dir.string() + " (the real kickstarts are optional)");
    std::map<std::string, std::string> plans;
    for (const auto& e : fs::directory_iterator(dir)) {
        const auto ks = kickstart::parse_file(e.path().string());
        const bool storage = !ks.partitions.empty() || ks.autopart || ks.reqpart || !ks.btrfs.empty() || !ks.volgroups.empty();
        if (!storage) continue;
        // a disk of 20 GiB for those that grow, on the disk their lines name
        disk::LayoutOptions options;
        options.disk_size_mib[ks.partitions.empty() || ks.partitions.front().ondisk.empty() ? "sda"
                                                                                             : ks.partitions.front().ondisk] = 20 * 1024;
        plans[e.path().filename().string()] = planned(ks, options);
    }
    REQUIRE(plans.size() >= 40);
    std::size_t made = 0;
    for (const auto& [name, plan] : plans) {
        INFO(name << " => " << plan);
        CHECK(plan.rfind("refused: ", 0) == std::string::npos);
        ++made;
        if (name == "fedora-disk-server.ks" || name == "fedora-server-vm-full.ks") {
            // Fedora Server: autopart's LVM (volume group fedora on a physical volume filling the disk,
            // / growing into all of its 4713 extents of 4 MiB, 1 MiB of LVM metadata before them), or
            // its own volume group sysvg, / an xfs logical volume growing from 4000 MiB to its
            // --maxsize of 16000
            if (name == "fedora-disk-server.ks")
                CHECK(plan == "sda msdos: /boot/efi=vfat/600 /boot=ext4/1024 pv.autopart=lvmpv/18855; fedora: root@/=ext4/18852");
            else
                CHECK(plan == "sda gpt: biosboot=biosboot/1 /boot/efi=vfat/600 /boot=ext4/1024 pv.007=lvmpv/18853; "
                              "sysvg: root@/=xfs/16000");
        } else if (name.find("cloud-base") != std::string::npos || name.find("-vagrant") != std::string::npos) {
            // anaconda's layout of the cloud images: the PReP partition is made (empty) on x86_64 too
            // (anaconda on a BIOS machine puts the ESP after /boot; this platform boots both ways, and
            // the boot loader's partitions come first)
            CHECK(plan == "sda gpt: /boot/efi=vfat/100 biosboot=biosboot/1 /boot=ext4/1000 prepboot=prepboot/4 "
                          "btrfs.007=btrfs/19373; fedora: home@/home root@/");
        } else if (name.rfind("fedora-disk-", 0) == 0) {
            // autopart --type=btrfs on msdos: no biosboot (GRUB goes after the MBR), the ESP, /boot, the volume
            CHECK(plan == "sda msdos: /boot/efi=vfat/600 /boot=ext4/1024 btrfs.autopart=btrfs/18855; fedora: root@/ home@/home");
        } else if (name.find("container") != std::string::npos) {
            CHECK(plan == "sda gpt: biosboot=biosboot/1 /boot/efi=vfat/600 /=ext4/19877;");
        } else if (name == "fedora-eln-guest.ks") {
            CHECK(plan == "vda gpt: biosboot=biosboot/1 /boot/efi=vfat/600 /=xfs/8000;");
        } else if (name == "fedora-modular-disk-minimal.ks") {
            CHECK(plan == "sda msdos: /boot/efi=vfat/600 /boot=ext4/1024 /=ext4/18855;");
        } else {
            // the live kickstarts: a spin's part / replaces its base's 5120 MiB one, the last line winning
            const auto ks = kickstart::parse_file((dir / name).string());
            std::optional<long long> last;
            for (const auto& p : ks.partitions)
                if (p.mountpoint == "/") last = p.size;
            REQUIRE(last);
            CHECK(plan == "sda gpt: /=ext4/" + std::to_string(*last) + ";");
        }
    }
    CHECK(made >= 35);
}

TEST_CASE("LVM: a volume group on a growing physical volume holds its logical volumes in whole extents, in the kickstart's order") {
    const std::string ks = "reqpart --add-boot\npart pv.01 --size=1000 --grow\nvolgroup vg0 pv.01\n"
                           "logvol / --vgname=vg0 --name=root --size=1500 --fstype=xfs\n"
                           "logvol /home --vgname=vg0 --name=home --size=301\nlogvol swap --vgname=vg0 --name=swap --size=64\n";
    SECTION("without a disk size the physical volume holds what they ask for, rounded up to extents, and 1 MiB of metadata") {
        const auto layout = plan(ks);
        REQUIRE(layout.groups.size() == 1);
        const auto& g = layout.groups[0];
        const auto* pv = layout.member_of(g);
        REQUIRE(pv);
        CHECK(pv->content == disk::Content::pv);
        CHECK(pv->fstype == "lvmpv");
        CHECK(pv->size_mib == 1 + 1500 + 304 + 64);  // /home's 301 MiB is 76 extents of 4 MiB
        CHECK(g.extents == (1500 + 304 + 64) / 4);
        REQUIRE(g.volumes.size() == 3);
        CHECK(g.volumes[0].size_mib == 1500);
        CHECK(g.volumes[1].size_mib == 304);
        CHECK(g.volumes[2].size_mib == 64);
        CHECK(g.volumes[0].start_mib == pv->start_mib + 1);
        CHECK(g.volumes[1].start_mib == pv->start_mib + 1 + 1500);
        CHECK(g.volumes[2].start_mib == pv->start_mib + 1 + 1500 + 304);
        CHECK(layout.find("/")->logical_volume == "root");
        CHECK(layout.disk_of("/home")->name == "sda");
        CHECK(layout.group_of(*layout.find("/home")) == &g);
        const auto copy = layout;  // a copy finds the group by name, whichever layout the volume came from
        CHECK(copy.group_of(*layout.find("/home")) == &copy.groups[0]);
        const auto mps = layout.mountpoints();
        CHECK(std::count(mps.begin(), mps.end(), "/home") == 1);
        CHECK(disk::gpt_type(*pv) == "E6D6D379-F507-44C2-A23C-238F2A3DF928");
    }
    SECTION("with a disk size the physical volume grows, and so do the logical volumes that --grow, up to --maxsize") {
        const auto layout = plan("part /boot --size=500\npart pv.01 --size=1000 --grow\nvolgroup vg0 pv.01 --pesize=8192\n"
                                 "logvol / --vgname=vg0 --name=root --size=1000 --grow --maxsize=3000\n"
                                 "logvol /var --vgname=vg0 --name=var --size=500 --grow\n",
                                 {"sda", {{"sda", 6002}}, 1024});
        const auto& g = layout.groups.at(0);
        const auto* pv = layout.member_of(g);
        CHECK(pv->size_mib == 6002 - 2 - 500);
        CHECK(g.extent_mib == 8);
        CHECK(g.extents == (5500 - 1) / 8);  // 687
        // 687 - 125 - 63 = 499 free extents, shared 2:1; root stops at 375 extents, var takes the rest
        CHECK(g.volumes[0].size_mib == 3000);
        CHECK(g.volumes[1].size_mib == (687 - 375) * 8);
    }
    SECTION("logvol swap --recommended is anaconda's suggestion for the guest's memory") {
        const auto layout = plan("part /boot --size=500\npart pv.01 --size=100 --grow\nvolgroup vg pv.01\n"
                                 "logvol / --vgname=vg --name=root --size=1000\n"
                                 "logvol swap --vgname=vg --name=swap --recommended --size=10\n",
                                 {"sda", {}, 1536});
        CHECK(layout.groups.at(0).volumes.at(1).size_mib == 3072);
        CHECK(layout.groups.at(0).volumes.at(1).content == disk::Content::swap);
    }
    SECTION("--percent takes its share of what the fixed sizes leave") {
        const auto layout = plan("part pv.01 --size=4001\nvolgroup vg pv.01\npart /boot --size=500\n"
                                 "logvol / --vgname=vg --name=root --size=1000\nlogvol /srv --vgname=vg --name=srv --percent=50\n");
        CHECK(layout.find("/srv")->size_mib == (1000 - 250) / 2 * 4);
    }
}

TEST_CASE("LVM: the fstab names logical volumes by their /dev/mapper names, as anaconda writes them") {
    auto layout = plan("part /boot --size=500\npart pv.01 --size=100 --grow\nvolgroup my-vg pv.01\n"
                       "logvol / --vgname=my-vg --name=root --size=1000\nlogvol swap --vgname=my-vg --name=swap-1 --size=64\n");
    disk::assign_identities(layout, "seed");
    CHECK(disk::lvm::mapper_name("my-vg", "swap-1") == "my--vg-swap--1");
    const auto fstab = disk::fstab(layout);
    CHECK_THAT(fstab, Contains("\n/dev/mapper/my--vg-root / ext4 defaults 1 1\n"));
    CHECK_THAT(fstab, Contains("\nUUID=" + layout.find("/boot")->uuid + " /boot ext4 defaults 1 2\n"));
    CHECK_THAT(fstab, Contains("\n/dev/mapper/my--vg-swap--1 none swap defaults 0 0\n"));
    const auto& g = layout.groups.at(0);
    CHECK(g.id.size() == 32);
    CHECK(layout.member_of(g)->lvm_id.size() == 32);
    CHECK(g.volumes[0].lvm_id != g.volumes[1].lvm_id);
    CHECK(disk::lvm::formatted_id(g.id).size() == 38);
    CHECK_FALSE(g.volumes[0].uuid.empty());
    const auto text = disk::lvm::metadata_text(g, *layout.member_of(g), "/dev/sda2", "h", 1700000000);
    CHECK_THAT(text, Contains("my-vg {\nid = \"" + disk::lvm::formatted_id(g.id) + "\"\nseqno = 1\n"));
    CHECK_THAT(text, Contains("extent_size = 8192\n"));
    CHECK_THAT(text, Contains("pe_start = 2048\npe_count = " + std::to_string(g.extents) + "\n"));
    CHECK_THAT(text, Contains("swap-1 {\n"));
    CHECK_THAT(text, Contains("extent_count = 16\n\ntype = \"striped\"\nstripe_count = 1\n\nstripes = [\n\"pv0\", 250\n]"));
}

TEST_CASE("LVM layouts that cannot be made are refused before any work, with the line and the numbers") {
    CHECK_THAT(refusal("part /boot --size=500\npart pv.01 --size=1000\nvolgroup vg pv.01\nlogvol / --vgname=vg --name=root --size=1000\n"),
               Contains("disk.ks:2: part pv.01 is 1000 MiB, and the logical volumes of vg need 1001 MiB") &&
                   Contains("give part pv.01 --size=1001 or --grow"));
    CHECK_THAT(refusal("part pv.01 --size=100 --grow\nvolgroup vg pv.01\nlogvol / --vgname=vg --name=root --size=1000\n"),
               Contains("disk.ks:3: logvol /: /boot (inside /) would be on LVM") && Contains("add part /boot --size=1024"));
    CHECK_THAT(refusal("part / --size=1000\npart pv.01 --size=100 --grow\nvolgroup vg pv.01\n"
                       "logvol /boot --vgname=vg --name=boot --size=500\n"),
               Contains("disk.ks:4: logvol /boot: /boot would be on LVM"));
    CHECK_THAT(refusal("part / --size=1000\npart pv.01 --size=100\n"), Contains("disk.ks:2: part pv.01: an LVM physical volume needs its volume group"));
    CHECK_THAT(refusal("part / --size=1000\npart pv.01 --size=100\npart pv.02 --size=100\nvolgroup vg pv.01 pv.02\n"),
               Contains("disk.ks:4: volgroup vg: a volume group is made here on one physical volume"));
    CHECK_THAT(refusal("part /boot --size=500\npart pv.01 --size=100 --grow\nvolgroup vg pv.01\n"
                       "logvol / --vgname=other --name=root --size=1000\n"),
               Contains("disk.ks:4: logvol / --vgname=other: no volgroup line makes other"));
    CHECK_THAT(refusal("part /boot --size=500\npart pv.01 --size=100 --grow\nvolgroup vg pv.01 --pesize=1000\n"),
               Contains("--pesize=1000: give the extent size in KiB, a power of two of whole MiB"));
    CHECK_THAT(refusal("part /boot --size=500\npart pv.01 --size=100 --grow\nvolgroup vg pv.01\n"
                       "logvol / --vgname=vg --name=root --size=1000\nlogvol /var --vgname=vg --name=root --size=100\n"),
               Contains("disk.ks:5: logvol /var --name=root: volume group vg has a logical volume of that name already"));
    CHECK_THAT(refusal("part /boot --size=500\npart pv.01 --size=100 --grow\nvolgroup vg pv.01\n"
                       "logvol / --vgname=vg --name=root --size=1000 --thinpool\n"),
               Contains("disk.ks:4: logvol /: thin volumes are written by device-mapper's thin target"));
    CHECK_THAT(refusal("part /boot --size=500\npart pv.01 --size=100 --grow\nvolgroup vg pv.01\n"
                       "logvol / --vgname=vg --name=root --size=1000 --fstype=vfat\n"),
               Contains("--fstype=vfat: a logical volume here holds ext4, ext3, ext2, xfs, btrfs or swap"));
    CHECK_THAT(refusal("part /boot --size=500\npart pv.01 --size=100 --grow\nvolgroup vg pv.01\n"
                       "logvol / --vgname=vg --name=root --size=1000\npart / --size=100\n"),
               Contains("disk.ks:5: part / is given twice") || Contains("logvol / is given twice"));
    CHECK_THAT(refusal("part /boot --size=500\npart pv.01 --size=100 --grow\nvolgroup vg pv.01\n"
                       "logvol / --vgname=vg --name=root --size=1000\nlogvol /srv --vgname=vg --name=srv --percent=1\n"),
               Contains("logvol /srv --percent=1: that is 0 MiB") && Contains("give --disk-size"));
    CHECK_THAT(refusal("part /boot --size=500\npart pv.01 --size=100 --grow\nvolgroup vg pv.01\n"
                       "logvol / --vgname=vg --name=root --size=1000\n",
                       {"sda", {{"sda", 1200}}, 1024}),
               Contains("the partitions on disk sda need 1503 MiB"));
    CHECK_THAT(refusal("part /boot --size=500\npart pv.01 --size=1000\nvolgroup vg pv.01\n"
                       "logvol / --vgname=vg --name=root --percent=60\nlogvol /srv --vgname=vg --name=srv --percent=60\n"),
               Contains("disk.ks:5: logvol /srv --percent=60: the --percent values of volume group vg's logical volumes add up "
                        "to 120, more than the 100 percent there is"));
    CHECK_THAT(refusal("part /boot --size=500\npart pv.01 --size=1000\nvolgroup vg pv.01\n"
                       "logvol / --vgname=vg --name=root --size=500\nlogvol /srv --vgname=vg --name=srv --percent=1\n"),
               Contains("too small for ext4: give a larger pv.01 or --size"));
    CHECK_THAT(refusal("part /boot --size=500\npart pv.01 --size=500 --grow --maxsize=1000\nvolgroup vg pv.01\n"
                       "logvol / --vgname=vg --name=root --size=2000\n", {"sda", {{"sda", 10000}}, 1024}),
               Contains("disk.ks:2: part pv.01 --maxsize=1000: the logical volumes of vg need 2001 MiB"));
    CHECK_THAT(refusal("part /boot --size=500\npart pv.01 --size=100 --grow\nvolgroup vg pv.01\n"
                       "logvol / --vgname=vg --name=root --size=1000\nlogvol /x --vgname=vg --name=x --size=100 --fstype=swap\n"),
               Contains("disk.ks:5: logvol /x --fstype=swap: swap is not mounted; write 'logvol swap'"));
    CHECK_THAT(refusal("autopart --fstype=vfat\n"), Contains("disk.ks:1: autopart --fstype=vfat: autopart makes / and /boot of"));
}

TEST_CASE("autopart lays out LVM by default as anaconda does for Fedora: volume group fedora, / growing, /home from 50 GiB free") {
    const auto small = plan("autopart\n", {"sda", {{"sda", 20 * 1024}}, 1024});
    REQUIRE(small.groups.size() == 1);
    CHECK(small.groups[0].name == "fedora");
    CHECK(names(small.disks[0]) == std::vector<std::string>{"biosboot", "/boot/efi", "/boot", "pv.autopart"});
    REQUIRE(small.groups[0].volumes.size() == 1);
    CHECK(small.groups[0].volumes[0].mountpoint == "/");
    CHECK(small.groups[0].volumes[0].size_mib == small.groups[0].extents * 4);
    const auto large = plan("autopart --type=lvm --fstype=xfs\n", {"sda", {{"sda", 200 * 1024}}, 1024});
    const auto& g = large.groups.at(0);
    REQUIRE(g.volumes.size() == 2);
    CHECK(g.volumes[0].size_mib == 70 * 1024);
    CHECK(g.volumes[0].fstype == "xfs");
    CHECK(g.volumes[1].mountpoint == "/home");
    CHECK(g.volumes[1].size_mib == (g.extents - 70 * 256) * 4);
    CHECK_THAT(refusal("autopart\nvolgroup vg pv.01\n"), Contains("disk.ks:2:") && Contains("autopart"));
}

TEST_CASE("an LVM layout's lvm2 is named by a %packages spec as a glob, name-version or name.arch, not by another name") {
    using imgcreate::install::spec_may_name;
    for (const char* spec : {"lvm2", "lvm*", "lvm?", "lvm2-2.03.16", "lvm2-0:2.03*", "lvm2.x86_64", "lvm2-2*"}) {
        INFO(spec);
        CHECK(spec_may_name(spec, "lvm2"));
    }
    for (const char* spec : {"lvm2-libs", "lvm2-devel", "lvm", "lvm2x", "lvm2-", "lvm2."}) {
        INFO(spec);
        CHECK_FALSE(spec_may_name(spec, "lvm2"));
    }
}

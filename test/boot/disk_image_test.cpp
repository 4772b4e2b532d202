// The testdistro disk image (appliance-creator with examples/testdistro/disk.ks, built by the
// "build the testdistro images" fixture) booted under qemu as its user would: BIOS from root's raw
// disk, UEFI from the qcow2 a user built, through the image's own shim and GRUB; alice logs in on the serial
// console, / is on the partition the kickstart's layout puts it, and every fstab entry is mounted.
// Offline: the image's fstab names the UUIDs blkid finds at the layout's offsets. The btrfs disk
// (disk-btrfs.ks, built by a user without root) boots with BIOS from its root subvolume, GRUB
// reading /boot inside it; the two-disk layout (disk-two.ks: a btrfs root on sda, /home and /srv
// on sdb) boots with UEFI with both disks attached; the LVM layout (disk-lvm.ks, its volume group
// written by appliance-creator without device-mapper) boots with BIOS, the image's own lvm
// activating it.
#include "serial_console.hpp"

#include <imgcreate/disk/layout.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/support/process.hpp>

#include <catch2/catch.hpp>
#include <support/relabel_check.hpp>
#include <support/skip.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <sys/mount.h>

using namespace imgcreate::test;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

const fs::path out_dir = fs::path(IMGCREATE_BINARY_DIR) / "testdistro";
// appliance-creator delivers each appliance into OUTDIR/NAME/.
const fs::path raw = out_dir / "imgcreate-testdistro-disk/imgcreate-testdistro-disk-sda.raw";
const fs::path qcow2 = out_dir / "user/imgcreate-testdistro-disk/imgcreate-testdistro-disk-sda.qcow2";  // -f qcow2, by a user
const fs::path btrfs_raw = out_dir / "user/imgcreate-testdistro-disk-btrfs/imgcreate-testdistro-disk-btrfs-sda.raw";
const fs::path two_sda = out_dir / "user/imgcreate-testdistro-disk-two/imgcreate-testdistro-disk-two-sda.qcow2";
const fs::path two_sdb = out_dir / "user/imgcreate-testdistro-disk-two/imgcreate-testdistro-disk-two-sdb.qcow2";
const fs::path lvm_raw = out_dir / "user/imgcreate-testdistro-disk-lvm/imgcreate-testdistro-disk-lvm-sda.raw";

// The layout the kickstart asks for, as the build planned it.
imgcreate::disk::Layout kickstart_layout() {
    return imgcreate::disk::plan_layout(imgcreate::kickstart::parse_file((out_dir / "disk.ks").string()));
}

// A guest booting `image` (and `more` disks) from `firmware`, its serial log named after `name`.
Guest disk_guest(const fs::path& image, Firmware firmware, const std::string& format, const std::string& name,
                 std::vector<fs::path> more = {}) {
    Guest guest;
    guest.iso = image;
    guest.more_disks = std::move(more);
    guest.firmware = firmware;
    guest.medium = Medium::disk;
    guest.disk_format = format;
    guest.serial_log = out_dir / (name + ".serial.log");
    return guest;
}

// What a booted disk answered: whether alice logged in, the system's state, each command's reply
// by its key, and the console's transcript.
struct Session {
    bool logged_in = false;
    SerialGuest::Reply state;
    std::map<std::string, SerialGuest::Reply> replies;
    std::string transcript;
    const SerialGuest::Reply& operator[](const std::string& key) const { return replies.at(key); }
};

// What runs a command as root with alice's password: a user cannot read the devices to check them.
const std::string as_root = "echo imgcreate | sudo -S -p '' ";

// Boots `guest`, logs alice in, waits for the system to be up and runs each command as her.
Session boot_and_run(const Guest& guest, const std::string& name, const std::vector<std::pair<std::string, std::string>>& commands) {
    Session session;
    GuestSlot slot;
    SerialGuest vm(guest, out_dir / name);
    session.logged_in = vm.log_in("alice", "imgcreate", std::chrono::seconds(900));
    if (session.logged_in) {
        session.state = vm.run("systemctl is-system-running --wait", std::chrono::seconds(600));
        for (const auto& [key, command] : commands) session.replies[key] = vm.run(command);
    }
    session.transcript = vm.transcript();
    return session;
}

// The checks every disk boot makes: logged in, the system up, findmnt --verify content.
void check_session(const Session& session) {
    INFO("serial console transcript:\n" << session.transcript);
    REQUIRE(session.logged_in);
    INFO("is-system-running: '" << session.state.output << "'");
    CHECK((session.state.output == "running" || session.state.output == "degraded"));
    INFO("findmnt --verify: " << session["verify"].output);
    CHECK(session["verify"].status == 0);
    CHECK_THAT(session["verify"].output, Contains("Success, no errors or warnings detected"));
}

Session boot_and_check(Firmware firmware, const fs::path& image, const std::string& format, const std::string& name) {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("qemu-system-x86_64");
    if (firmware == Firmware::uefi && !fs::exists("/usr/share/ovmf/OVMF.fd"))
        IMGCREATE_SKIP("needs /usr/share/ovmf/OVMF.fd (the ovmf package)");
    if (!fs::exists(image)) IMGCREATE_SKIP(image.string() + " was not built: run 'ctest -L boot' (its fixture builds it)");
    return boot_and_run(disk_guest(image, firmware, format, name), name,
                        {{"failed", "systemctl --failed --no-legend --plain"},
                         {"root", "findmnt -n -o SOURCE,FSTYPE /"},
                         {"home", "findmnt -n -o SOURCE,FSTYPE /home; stat -f -c %T /home/alice"},
                         {"boot", "findmnt -n -o SOURCE,FSTYPE /boot"},
                         {"esp", "findmnt -n -o SOURCE,FSTYPE /boot/efi"},
                         {"swap", "tail -n +2 /proc/swaps | cut -d' ' -f1"},
                         {"verify", as_root + "findmnt --verify 2>&1"},
                         {"efi", "test -d /sys/firmware/efi && echo uefi || echo bios"},
                         {"cmdline", "cat /proc/cmdline"}});
}

std::string device(const imgcreate::disk::Partition& p) { return "/dev/sda" + std::to_string(p.number); }

void check_disk_system(const Session& c, const std::string& firmware) {
    INFO("failed units: " << (c.logged_in ? c["failed"].output : ""));
    check_session(c);
    const auto layout = kickstart_layout();
    const auto& sda = layout.disks.at(0);
    CHECK(c["root"].output == device(*layout.find("/")) + " ext4");
    CHECK(c["home"].output == device(*layout.find("/home")) + " xfs\nxfs");
    CHECK(c["boot"].output == device(*layout.find("/boot")) + " ext4");
    CHECK(c["esp"].output == device(*layout.find("/boot/efi")) + " vfat");
    std::string swap;
    for (const auto& p : sda.partitions)
        if (p.content == imgcreate::disk::Content::swap) swap = device(p);
    CHECK(c["swap"].output == swap);
    CHECK(c["efi"].output == firmware);
    // bootloader --append of base.ks, after the root the layout gave
    CHECK_THAT(c["cmdline"].output, Contains("ro console=ttyS0 security=selinux"));
}

std::string probe_type(const fs::path& image, const imgcreate::disk::Partition& p) {
    auto out = imgcreate::run({"blkid", "-p", "-O", std::to_string(p.start_mib << 20), "-S", std::to_string(p.size_mib << 20),
                               "-s", "TYPE", "-o", "value", image.string()})
                   .output;
    return out.substr(0, out.find('\n'));
}

std::string probe(const fs::path& image, const imgcreate::disk::Partition& p) {
    auto out = imgcreate::run({"blkid", "-p", "-O", std::to_string(p.start_mib << 20), "-S", std::to_string(p.size_mib << 20),
                               "-s", "UUID", "-o", "value", image.string()})
                   .output;
    return out.substr(0, out.find('\n'));
}

}  // namespace

TEST_CASE("the testdistro disk image boots with BIOS from the raw disk, / and every fstab entry where disk.ks puts them") {
    auto checks = boot_and_check(Firmware::bios, raw, "raw", "disk-bios-raw");
    check_disk_system(checks, "bios");
}

TEST_CASE("the testdistro disk image a user built as qcow2 boots with UEFI through the image's own shim and GRUB") {
    auto checks = boot_and_check(Firmware::uefi, qcow2, "qcow2", "disk-uefi-qcow2");
    check_disk_system(checks, "uefi");
    CHECK_THAT(checks.transcript, Contains("MOKvar="));  // shim ran: it leaves its MOK variables table
}

TEST_CASE("the testdistro disk image is sparse, has its checksum, and its fstab names the UUIDs blkid finds") {
    IMGCREATE_REQUIRE_ROOT();
    if (!fs::exists(raw)) IMGCREATE_SKIP(raw.string() + " was not built: run 'ctest -L boot' (its fixture builds it)");
    const auto layout = kickstart_layout();
    CHECK(fs::file_size(raw) == layout.disks.at(0).size_mib << 20);
    CHECK(imgcreate::run({"sh", "-c", "cd '" + raw.parent_path().string() + "' && sha256sum -c imgcreate-testdistro-disk-sda.raw.sha256"})
              .exit_status == 0);
    CHECK_THAT(imgcreate::run({"du", "--block-size=1M", raw.string()}).output, !Contains(std::to_string(layout.disks[0].size_mib)));
    // /etc/fstab of the root filesystem, read with debugfs from the partition's bytes
    const auto* root = layout.find("/");
    const auto part = out_dir / "disk-root.img";
    imgcreate::run({"dd", "if=" + raw.string(), "of=" + part.string(), "bs=1M", "skip=" + std::to_string(root->start_mib),
                    "count=" + std::to_string(root->size_mib), "conv=sparse", "status=none"});
    const auto fstab = imgcreate::run({"debugfs", "-R", "cat /etc/fstab", part.string()}).output;
    fs::remove(part);
    for (const auto& p : layout.disks[0].partitions) {
        if (imgcreate::disk::holds_no_filesystem(p.content)) continue;
        INFO(p.mountpoint);
        CHECK_THAT(fstab, Contains("UUID=" + probe(raw, p) + " "));
    }
    CHECK_THAT(fstab, Contains(" / ext4 defaults 1 1"));
    CHECK_THAT(fstab, Contains(" /home xfs defaults 0 0"));
}

TEST_CASE("the testdistro disk's / has every file labelled as the image's policy says, the mount points of /boot and /home and lost+found too") {
    IMGCREATE_REQUIRE_ROOT();
    if (!fs::exists(raw)) IMGCREATE_SKIP(raw.string() + " was not built: run 'ctest -L boot' (its fixture builds it)");
    const auto* root = kickstart_layout().find("/");
    REQUIRE(root);
    const auto at = out_dir / "disk-root-labels";
    fs::create_directories(at);
    imgcreate::run({"mount", "-o", "ro,loop,offset=" + std::to_string(root->start_mib << 20), raw.string(), at.string()});
    const auto mislabelled = imgcreate::test::mislabelled_files(at);
    ::umount2(at.c_str(), 0);
    // lost+found too: mke2fs takes it from the tree, where the relabel labelled it
    INFO(mislabelled.size() << " mislabelled, the first: " << (mislabelled.empty() ? "" : mislabelled.front()));
    CHECK(mislabelled.empty());
}

TEST_CASE("the testdistro disk's initramfs is what the image's dracut made, in gzip from the host's pigz, as root and as a user") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("pigz");
    if (!fs::exists(raw)) IMGCREATE_SKIP(raw.string() + " was not built: run 'ctest -L boot' (its fixture builds it)");
    // the user's build kept its initramfs in a new cache: its dracut ran, and compressed with the host's pigz
    const auto user_log = imgcreate::run({"cat", (out_dir / "user-disk.log").string()}).output;
    CHECK_THAT(user_log, Contains("the image's dracut compressed 1 initramfs with the host's pigz on "));
    // root's raw disk, the one the BIOS boot test boots: /boot's initramfs, read from the partition
    const auto* boot = kickstart_layout().find("/boot");
    REQUIRE(boot);
    const auto part = out_dir / "disk-boot.img";
    const auto image = out_dir / "disk-initramfs.img";
    imgcreate::run({"dd", "if=" + raw.string(), "of=" + part.string(), "bs=1M", "skip=" + std::to_string(boot->start_mib),
                    "count=" + std::to_string(boot->size_mib), "conv=sparse", "status=none"});
    const auto listing = imgcreate::run({"debugfs", "-R", "ls -p /", part.string()}).output;
    const auto at = listing.find("/initramfs-");
    REQUIRE(at != std::string::npos);
    const auto name = listing.substr(at + 1, listing.find('/', at + 1) - at - 1);
    imgcreate::run({"debugfs", "-R", "dump /" + name + " " + image.string(), part.string()});
    fs::remove(part);
    CHECK(imgcreate::run({"od", "-An", "-tx1", "-N2", image.string()}).output == " 1f 8b\n");
    // dracut's cpio with systemd in it; pigz -9 -n -T -R of it gives the same bytes (the image's gzip would not)
    CHECK_THAT(imgcreate::run({"sh", "-c", "gzip -dc '" + image.string() + "' | cpio -t --quiet"}).output, Contains("usr/lib/systemd/systemd"));
    CHECK(imgcreate::run({"sh", "-c", "gzip -dc '" + image.string() + "' | pigz -9 -n -T -R | cmp - '" + image.string() + "'"})
              .exit_status == 0);
    fs::remove(image);
}

TEST_CASE("the testdistro btrfs disk built by a user boots with BIOS: / is subvolume root, /home subvolume home") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("qemu-system-x86_64");
    if (!fs::exists(btrfs_raw)) IMGCREATE_SKIP(btrfs_raw.string() + " was not built: run 'ctest -L boot' (its fixture builds it)");
    const auto layout = imgcreate::disk::plan_layout(imgcreate::kickstart::parse_file((out_dir / "disk-btrfs.ks").string()));
    const auto& member = layout.disks.at(0).partitions.back();
    REQUIRE(member.volume == "btrfs.01");
    // UEFI's GRUB (the ESP's grub.cfg beside shim) reads /boot inside subvolume root too.
    const auto* esp = layout.find("/boot/efi");
    REQUIRE(esp);
    imgcreate::Command mtype;
    mtype.argv = {"mtype", "-i", btrfs_raw.string() + "@@" + std::to_string(esp->start_mib << 20), "::/EFI/BOOT/grub.cfg"};
    mtype.env = std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}, {"MTOOLS_SKIP_CHECK", "1"}};
    mtype.log_output = false;
    CHECK_THAT(imgcreate::run(mtype).output, Contains("set prefix=($root)/root/boot/grub2\n"));
    const auto c = boot_and_run(disk_guest(btrfs_raw, Firmware::bios, "raw", "disk-btrfs-bios-raw"), "disk-btrfs-bios-raw",
                                {{"root", "findmnt -nr -o FSTYPE,FSROOT /"},
                                 {"home", "findmnt -nr -o FSTYPE,FSROOT /home; stat -f -c %T /home/alice"},
                                 {"source", "findmnt -n -o SOURCE /"},
                                 {"boot", "findmnt -n /boot; ls /boot/grub2/grub.cfg"},
                                 {"verify", as_root + "findmnt --verify 2>&1"},
                                 {"cmdline", "cat /proc/cmdline"}});
    check_session(c);
    CHECK(c["root"].output == "btrfs /root");
    CHECK(c["home"].output == "btrfs /home\nbtrfs");
    CHECK_THAT(c["source"].output, Contains(device(member)));
    CHECK(c["boot"].output == "/boot/grub2/grub.cfg");  // not a mount point: a directory of subvolume root
    CHECK_THAT(c["cmdline"].output, Contains(" ro rootflags=subvol=root console=ttyS0"));
}

TEST_CASE("the testdistro on two disks built by a user boots with UEFI: / is btrfs root on sda, /var/log its nested subvolume, /home and /srv on sdb") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("qemu-system-x86_64");
    if (!fs::exists("/usr/share/ovmf/OVMF.fd")) IMGCREATE_SKIP("needs /usr/share/ovmf/OVMF.fd (the ovmf package)");
    if (!fs::exists(two_sda) || !fs::exists(two_sdb))
        IMGCREATE_SKIP(two_sda.string() + " was not built: run 'ctest -L boot' (its fixture builds it)");
    const auto layout = imgcreate::disk::plan_layout(imgcreate::kickstart::parse_file((out_dir / "disk-two.ks").string()));
    REQUIRE(layout.disks.size() == 2);
    REQUIRE(layout.disks.at(1).name == "sdb");
    const auto* home = layout.find("/home");
    const auto* srv = layout.find("/srv");
    const auto* esp = layout.find("/boot/efi");
    REQUIRE((home && srv && esp));
    const auto c = boot_and_run(disk_guest(two_sda, Firmware::uefi, "qcow2", "disk-two-uefi", {two_sdb}), "disk-two-uefi",
                                {{"root", "findmnt -nr -o SOURCE,FSTYPE,FSROOT /; findmnt -nr -o SOURCE,FSTYPE,FSROOT /var/log"},
                                 {"mounts", "for m in /boot/efi /home /srv; do findmnt -nr -o SOURCE,FSTYPE $m; done"},
                                 {"verify", as_root + "findmnt --verify 2>&1"},
                                 {"efi", "test -d /sys/firmware/efi && echo uefi || echo bios"}});
    check_session(c);
    const auto& member = layout.disks.at(0).partitions.back();
    REQUIRE(member.volume == "btrfs.01");
    const auto volume = "/dev/sda" + std::to_string(member.number);
    CHECK(c["root"].output == volume + "[/root] btrfs /root\n" + volume + "[/root/var/log] btrfs /root/var/log");
    CHECK(c["mounts"].output == "/dev/sda" + std::to_string(esp->number) + " vfat\n/dev/sdb" + std::to_string(home->number) +
                                    " xfs\n/dev/sdb" + std::to_string(srv->number) + " ext4");
    CHECK(c["efi"].output == "uefi");
}

TEST_CASE("the testdistro LVM disk built by a user boots with BIOS: /, /home and swap are logical volumes the image's lvm finds") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("qemu-system-x86_64");
    if (!fs::exists(lvm_raw)) IMGCREATE_SKIP(lvm_raw.string() + " was not built: run 'ctest -L boot' (its fixture builds it)");
    auto layout = imgcreate::disk::plan_layout(imgcreate::kickstart::parse_file((out_dir / "disk-lvm.ks").string()));
    REQUIRE(layout.groups.size() == 1);
    const auto& group = layout.groups.front();
    const auto* pv = layout.member_of(group);
    REQUIRE(pv);
    // disk-lvm.ks does not name lvm2: the build added it, as anaconda does
    std::ifstream log(out_dir / "user-disk-lvm.log");
    const std::string build_log{std::istreambuf_iterator<char>(log), {}};
    CHECK_THAT(build_log, Catch::Contains("lvm2 added to the packages: the image activates LVM volume group testdistro"));
    // Offline: blkid finds the physical volume's label (its checksum verified) at the partition's
    // offset, and each logical volume's filesystem where the volume group's extents put it.
    CHECK(probe_type(lvm_raw, *pv) == "LVM2_member");
    for (const auto& lv : group.volumes) {
        INFO(lv.logical_volume);
        CHECK(probe_type(lvm_raw, lv) == (lv.content == imgcreate::disk::Content::swap ? "swap" : lv.fstype));
    }
    const auto c = boot_and_run(
        disk_guest(lvm_raw, Firmware::bios, "raw", "disk-lvm-bios-raw"), "disk-lvm-bios-raw",
        {{"mounts", "for m in / /home /boot /boot/efi; do findmnt -n -o SOURCE,FSTYPE $m; done"},
         {"swap", "tail -n +2 /proc/swaps | cut -d' ' -f1; readlink -f /dev/mapper/testdistro-swap"},
         {"volumes", as_root + "lvs --noheadings --separator ' ' -o lv_name,lv_size,devices --units m testdistro 2>/dev/null | "
                               "sed 's/^ *//'"},
         {"check", as_root + "vgck testdistro 2>&1"},
         {"verify", as_root + "findmnt --verify 2>&1"},
         {"cmdline", "cat /proc/cmdline"}});
    check_session(c);
    const auto& mounts = c["mounts"];
    const auto& swap = c["swap"];
    const auto& volumes = c["volumes"];
    const auto& check = c["check"];
    const auto& cmdline = c["cmdline"];
    const auto part = [&](const char* mp) { return "/dev/sda" + std::to_string(layout.find(mp)->number); };
    CHECK(mounts.output == "/dev/mapper/testdistro-root xfs\n/dev/mapper/testdistro-home ext4\n" + part("/boot") +
                               " ext4\n" + part("/boot/efi") + " vfat");
    const auto swap_lines = swap.output.substr(0, swap.output.find('\n'));
    CHECK(swap_lines.rfind("/dev/dm-", 0) == 0);
    CHECK(swap.output == swap_lines + "\n" + swap_lines);
    // each logical volume its size, on the physical volume's extents in the kickstart's order
    std::string expected;
    std::uint64_t extent = 0;
    std::map<std::string, std::string> by_name;
    for (const auto& lv : group.volumes) {
        by_name[lv.logical_volume] = lv.logical_volume + " " + std::to_string(lv.size_mib) + ".00m /dev/sda" +
                                     std::to_string(pv->number) + "(" + std::to_string(extent) + ")";
        extent += lv.size_mib / group.extent_mib;
    }
    for (const auto& [name, line] : by_name) expected += (expected.empty() ? "" : "\n") + line;  // lvs sorts by name
    CHECK(volumes.output == expected);
    INFO("vgck: " << check.output);
    CHECK(check.status == 0);
    CHECK_THAT(cmdline.output, Contains("root=/dev/mapper/testdistro-root ro rd.lvm.lv=testdistro/root "
                                        "rd.lvm.lv=testdistro/swap console=ttyS0"));
}

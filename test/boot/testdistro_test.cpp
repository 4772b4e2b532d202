// The testdistro system (Debian 12's packages as RPMs, built by the "build the testdistro
// images" fixture) checked as its user would: the live ISO booted under qemu three ways
// (BIOS CD, UEFI CD through the image's shim, BIOS USB disk), alice logged in on the serial
// console, and what systemd, PAM, sudo, sshd, SELinux and the kickstart made of the system
// looked at; and the loop image from image.ks checked offline.
#include "serial_console.hpp"

#include <imgcreate/support/process.hpp>

#include <catch2/catch.hpp>
#include <support/relabel_check.hpp>
#include <support/skip.hpp>
#include <support/tree_listing.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>

using namespace imgcreate::test;
namespace fs = std::filesystem;

namespace {

const fs::path out_dir = fs::path(IMGCREATE_BINARY_DIR) / "testdistro";
const fs::path iso = out_dir / "imgcreate-testdistro.iso";
// The same kickstart built by a user without root (test/boot/build-testdistro).
const fs::path user_iso = out_dir / "user" / "imgcreate-testdistro-user.iso";

std::string sha256_of(const fs::path& file) {
    auto out = imgcreate::run({"sha256sum", file.string()}).output;
    return out.substr(0, out.find(' '));
}

// A file of the ISO, extracted with xorriso (iso9660 cannot be mounted here).
fs::path from_iso(const std::string& path, const fs::path& to, const fs::path& image = iso) {
    fs::remove(to);
    imgcreate::run({"xorriso", "-osirrox", "on", "-indev", image.string(), "-extract", path, to.string()});
    return to;
}

struct LiveChecks {
    bool logged_in = false;
    SerialGuest::Reply state, failed, hostname, localtime, timezone, id, sudo_without_password, sudo_with_password,
        ssh_enabled, ssh_active, root_password, selinux_mode, passwd_label, passwd_expected_label, root_source,
        initramfs, efi;
    std::string transcript;
};

// Boots the ISO, logs in as alice and asks the system what a user would check.
LiveChecks boot_and_check(Firmware firmware, Medium medium, const std::string& name, const fs::path& image = iso) {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("qemu-system-x86_64");
    if (firmware == Firmware::uefi && !fs::exists("/usr/share/ovmf/OVMF.fd"))
        IMGCREATE_SKIP("needs /usr/share/ovmf/OVMF.fd (the ovmf package)");
    if (!fs::exists(image)) IMGCREATE_SKIP(image.string() + " was not built: run 'ctest -L boot' (its fixture builds it)");
    Guest guest;
    guest.iso = image;
    guest.firmware = firmware;
    guest.medium = medium;
    guest.serial_log = out_dir / (name + ".serial.log");
    LiveChecks c;
    {
        GuestSlot slot;
        SerialGuest vm(guest, out_dir / name);
        c.logged_in = vm.log_in("alice", "imgcreate", std::chrono::seconds(900));
        if (c.logged_in) {
            const std::string as_root = "echo imgcreate | sudo -S -p '' ";
            c.state = vm.run("systemctl is-system-running --wait", std::chrono::seconds(600));
            c.failed = vm.run("systemctl --failed --no-legend --plain");
            c.hostname = vm.run("hostname");
            c.localtime = vm.run("readlink /etc/localtime");
            c.timezone = vm.run("timedatectl show --property=Timezone --value");
            c.id = vm.run("id alice");
            c.sudo_without_password = vm.run("sudo -n true 2>&1");
            c.sudo_with_password = vm.run(as_root + "id -un");
            c.ssh_enabled = vm.run("systemctl is-enabled sshd");
            c.ssh_active = vm.run("systemctl is-active sshd");
            c.root_password = vm.run(as_root + "passwd -S root");
            c.selinux_mode = vm.run("/usr/sbin/getenforce");
            c.passwd_label = vm.run("stat -c %C /etc/passwd");
            c.passwd_expected_label = vm.run("/usr/sbin/matchpathcon -n /etc/passwd");
            c.root_source = vm.run("findmnt -n -o SOURCE /");
            c.initramfs = vm.run(as_root + "sha256sum /boot/initramfs-*.img | cut -d' ' -f1");
            c.efi = vm.run("test -d /sys/firmware/efi && echo uefi || echo bios");
        }
        c.transcript = vm.transcript();
    }
    return c;
}

void check_live_system(const LiveChecks& c, const std::string& firmware, const fs::path& image = iso) {
    INFO("serial console transcript:\n" << c.transcript);
    REQUIRE(c.logged_in);
    // running, or degraded with the failed units named
    if (c.state.output == "degraded") std::cerr << "systemd is degraded; failed units:\n" << c.failed.output << "\n";
    INFO("is-system-running: '" << c.state.output << "' (exit status " << c.state.status << "); failed units: "
                                 << c.failed.output);
    CHECK((c.state.output == "running" || c.state.output == "degraded"));
    CHECK(c.hostname.output == "imgcreate-live");
    CHECK(c.localtime.output == "../usr/share/zoneinfo/Europe/Prague");
    CHECK(c.timezone.output == "Europe/Prague");
    CHECK(c.id.output.find("(wheel)") != std::string::npos);
    // sudoers (the kickstart's %post) lets wheel use sudo with the user's password, never without
    CHECK(c.sudo_without_password.status != 0);
    CHECK(c.sudo_without_password.output.find("password is required") != std::string::npos);
    CHECK(c.sudo_with_password.status == 0);
    CHECK(c.sudo_with_password.output == "root");
    CHECK(c.ssh_enabled.output == "enabled");
    CHECK(c.ssh_active.output == "active");
    CHECK(c.root_password.output.rfind("root L ", 0) == 0);  // rootpw --lock
    CHECK(c.selinux_mode.output == "Permissive");
    CHECK(c.passwd_label.status == 0);
    CHECK(c.passwd_label.output.find("unlabeled") == std::string::npos);
    CHECK(c.passwd_label.output == c.passwd_expected_label.output);
    CHECK(c.root_source.output == "/dev/mapper/live-rw");
    CHECK(c.efi.output == firmware);
    // the initramfs the image's own dracut made is the one the ISO boots
    const auto initrd = from_iso("/images/pxeboot/initrd0.img", out_dir / (image.stem().string() + "-initrd0-" + firmware + ".img"), image);
    CHECK(c.initramfs.output == sha256_of(initrd));
}

}  // namespace

TEST_CASE("the testdistro live ISO boots with BIOS from a CD and alice logs in to a working system") {
    auto checks = boot_and_check(Firmware::bios, Medium::cdrom, "bios-cdrom");
    check_live_system(checks, "bios");
}

TEST_CASE("the testdistro live ISO a user built without root boots with BIOS from a CD and alice logs in") {
    auto checks = boot_and_check(Firmware::bios, Medium::cdrom, "user-bios-cdrom", user_iso);
    check_live_system(checks, "bios", user_iso);
}

TEST_CASE("the testdistro live ISO boots with UEFI from a CD through the image's own shim and GRUB") {
    auto checks = boot_and_check(Firmware::uefi, Medium::cdrom, "uefi-cdrom");
    check_live_system(checks, "uefi");
    // the EFI loaders on the ISO are the image's: Debian's signed shim and GRUB
    auto shim = from_iso("/EFI/BOOT/BOOTX64.EFI", out_dir / "BOOTX64.EFI");
    auto grub = from_iso("/EFI/BOOT/grubx64.efi", out_dir / "grubx64.efi");
    auto repo_file = [](const std::string& rpm, const std::string& path) {
        const auto dir = out_dir / "rpm-extract";
        fs::remove_all(dir);
        fs::create_directories(dir);
        fs::path package;
        for (const auto& e : fs::directory_iterator(out_dir / "repo"))
            if (e.path().filename().string().rfind(rpm + "-", 0) == 0) package = e.path();
        imgcreate::run({"sh", "-c", "cd '" + dir.string() + "' && rpm2cpio '" + package.string() + "' | cpio -idm --quiet"});
        return dir / path;
    };
    CHECK(sha256_of(shim) == sha256_of(repo_file("shim-x64", "boot/efi/EFI/fedora/shimx64.efi")));
    CHECK(sha256_of(grub) == sha256_of(repo_file("grub2-efi-x64", "boot/efi/EFI/fedora/gcdx64.efi")));
}

TEST_CASE("the testdistro live ISO written to a USB disk boots with BIOS and alice logs in") {
    auto checks = boot_and_check(Firmware::bios, Medium::disk, "bios-disk");
    check_live_system(checks, "bios");
}

namespace {

std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string field_line(const std::string& text, const std::string& name) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind(name + ":", 0) == 0) return line;
    return {};
}

std::string xattr(const fs::path& p, const char* name) {
    char value[512];
    auto n = ::lgetxattr(p.c_str(), name, value, sizeof value);
    return n < 0 ? std::string() : std::string(value, static_cast<std::size_t>(n));
}

class ReadOnlyMount {
public:
    ReadOnlyMount(const fs::path& image, const fs::path& at) : at_(at) {
        fs::create_directories(at);
        imgcreate::run({"mount", "-o", "ro,loop", image.string(), at.string()});
    }
    ~ReadOnlyMount() { ::umount2(at_.c_str(), 0); }

private:
    fs::path at_;
};

}  // namespace

TEST_CASE("the testdistro loop image is a clean ext4 file system with the accounts, files and labels of a real system") {
    IMGCREATE_REQUIRE_ROOT();
    const auto image = out_dir / "imgcreate-testdistro-image.img";
    if (!fs::exists(image)) IMGCREATE_SKIP(image.string() + " was not built: run 'ctest -L boot' (its fixture builds it)");
    imgcreate::Command fsck;
    fsck.argv = {"e2fsck", "-fn", image.string()};
    fsck.check = false;
    auto checked = imgcreate::run(fsck);
    INFO(checked.output);
    CHECK(checked.exit_status == 0);

    const auto root = out_dir / "image-mount";
    ReadOnlyMount mounted(image, root);
    auto stat_of = [&](const std::string& path) {
        struct stat st {};
        REQUIRE(::lstat((root / path).c_str(), &st) == 0);
        return st;
    };
    SECTION("accounts: root locked, alice with her password and in wheel, her home hers") {
        const auto shadow = read_text(root / "etc/shadow");
        CHECK(field_line(shadow, "root").rfind("root:!", 0) == 0);
        CHECK(field_line(shadow, "alice").rfind("alice:$y$", 0) == 0);  // yescrypt hash of the plaintext
        CHECK(field_line(read_text(root / "etc/group"), "wheel").find("alice") != std::string::npos);
        const auto passwd = field_line(read_text(root / "etc/passwd"), "alice");
        REQUIRE_FALSE(passwd.empty());
        const auto uid = static_cast<uid_t>(std::stoul(passwd.substr(passwd.find(":x:") + 3)));
        CHECK(stat_of("home/alice").st_uid == uid);
        // system accounts the packages' %pre made
        CHECK_FALSE(field_line(read_text(root / "etc/passwd"), "sshd").empty());
        CHECK_FALSE(field_line(read_text(root / "etc/passwd"), "messagebus").empty());
    }
    SECTION("owners, modes and capabilities as the Debian packages have them") {
        const auto shadow_group = field_line(read_text(root / "etc/group"), "shadow");
        REQUIRE_FALSE(shadow_group.empty());
        const auto shadow_gid = static_cast<gid_t>(std::stoul(shadow_group.substr(shadow_group.find(":x:") + 3)));
        CHECK(stat_of("usr/bin/chage").st_gid == shadow_gid);
        CHECK((stat_of("usr/bin/chage").st_mode & 07777) == 02755);
        CHECK(stat_of("etc/shadow").st_gid == shadow_gid);
        CHECK((stat_of("usr/bin/sudo").st_mode & 07777) == 04755);
        CHECK_FALSE(xattr(root / "usr/bin/ping", "security.capability").empty());
        auto caps = imgcreate::run({"getcap", (root / "usr/bin/ping").string()}).output;
        CHECK(caps.find("cap_net_raw=ep") != std::string::npos);
        CHECK(fs::read_symlink(root / "bin") == "usr/bin");
        CHECK(fs::read_symlink(root / "usr/bin/awk") == "mawk");
    }
    SECTION("%config files are marked so in the image's rpm database, and the kickstart's edits are in them") {
        imgcreate::Command query;
        query.argv = {"rpm", "--root", root.string(), "--dbpath", "/usr/lib/sysimage/rpm", "-qc", "openssh-server", "sudo"};
        auto config = imgcreate::run(query).output;
        CHECK(config.find("/etc/ssh/sshd_config") != std::string::npos);
        CHECK(config.find("/etc/sudoers") != std::string::npos);
        CHECK(read_text(root / "etc/ssh/sshd_config").find("\nPermitRootLogin no") != std::string::npos);
        CHECK(read_text(root / "etc/sudoers.d/wheel") == "%wheel ALL=(ALL) ALL\n");
    }
    SECTION("systemd: sshd enabled, the zone, the host name") {
        CHECK(fs::is_symlink(root / "etc/systemd/system/multi-user.target.wants/sshd.service"));
        CHECK(fs::read_symlink(root / "etc/localtime") == "../usr/share/zoneinfo/Europe/Prague");
        CHECK(read_text(root / "etc/hostname") == "imgcreate-live\n");
    }
    SECTION("SELinux: permissive, and the files labelled by the image's policy") {
        CHECK(read_text(root / "etc/selinux/config").find("\nSELINUX=permissive") != std::string::npos);
        CHECK(xattr(root / "etc/passwd", "security.selinux").rfind("system_u:object_r:", 0) == 0);
        CHECK(xattr(root / "usr/sbin/sshd", "security.selinux").find("sshd_exec_t") != std::string::npos);
    }
    SECTION("every file has the label the image's policy gives its path: the relabel, split over the processors, missed none") {
        // the package cache's mount point included: setfiles saw the directory under it
        const auto mislabelled = imgcreate::test::mislabelled_files(root);
        INFO(mislabelled.size() << " mislabelled, the first: " << (mislabelled.empty() ? "" : mislabelled.front()));
        CHECK(mislabelled.empty());
    }
    SECTION("the kernel and the initramfs its %posttrans built with the image's dracut") {
        bool found = false;
        for (const auto& e : fs::directory_iterator(root / "boot"))
            if (e.path().filename().string().rfind("initramfs-", 0) == 0) found = fs::file_size(e.path()) > 1'000'000;
        CHECK(found);
    }
}

TEST_CASE("an xfs loop image a user built without root holds root's files, owners, modes, labels and capabilities") {
    IMGCREATE_REQUIRE_ROOT();
    const auto image = out_dir / "imgcreate-testdistro-image.img";
    const auto xfs_image = out_dir / "user" / "imgcreate-testdistro-user-xfs.img";
    for (const auto& p : {image, xfs_image})
        if (!fs::exists(p)) IMGCREATE_SKIP(p.string() + " was not built: run 'ctest -L boot' (its fixture builds it)");
    imgcreate::Command repair;
    repair.argv = {"xfs_repair", "-n", "-f", xfs_image.string()};
    repair.check = false;
    const auto repaired = imgcreate::run(repair);
    INFO(repaired.output);
    CHECK(repaired.exit_status == 0);

    std::map<std::string, std::string> roots, users;
    std::string fstab;
    {
        // a mount point of this test's own: the test beside it under ctest -j mounts the same image
        ReadOnlyMount a(image, out_dir / "compare-root-for-xfs");
        ReadOnlyMount b(xfs_image, out_dir / "compare-xfs");
        roots = imgcreate::test::describe_tree(out_dir / "compare-root-for-xfs");
        users = imgcreate::test::describe_tree(out_dir / "compare-xfs");
        fstab = read_text(out_dir / "compare-xfs/etc/fstab");
    }
    REQUIRE(roots.size() > 5000);
    // Each build's dracut writes its own initramfs; lost+found is ext4's own; fstab names the
    // root's filesystem.
    CHECK(fstab.find("/dev/root  /         xfs ") != std::string::npos);
    std::vector<std::string> ignored = {"lost+found", "etc/fstab"};
    for (const auto& [path, what] : roots)
        if (path.rfind("boot/initramfs-", 0) == 0) ignored.push_back(path);
    REQUIRE(ignored.size() == 3);
    const auto differences = imgcreate::test::listing_differences(roots, users, ignored);
    INFO(differences);
    CHECK(differences.empty());
    CHECK(users.at("usr/bin/ping").find("security.capability=") != std::string::npos);
    CHECK(users.at("etc/pam.d").find("security.selinux=system_u:object_r:") != std::string::npos);
}

TEST_CASE("the loop image and the tree a user built without root hold root's files, owners, modes, labels and capabilities") {
    IMGCREATE_REQUIRE_ROOT();
    const auto image = out_dir / "imgcreate-testdistro-image.img";
    const auto user_image = out_dir / "user" / "imgcreate-testdistro-user-image.img";
    const auto user_tree = out_dir / "user" / "imgcreate-testdistro-user-tree";
    for (const auto& p : {image, user_image, user_tree})
        if (!fs::exists(p)) IMGCREATE_SKIP(p.string() + " was not built: run 'ctest -L boot' (its fixture builds it)");
    imgcreate::Command fsck;
    fsck.argv = {"e2fsck", "-fn", user_image.string()};
    fsck.check = false;
    CHECK(imgcreate::run(fsck).exit_status == 0);

    std::map<std::string, std::string> roots, users;
    {
        ReadOnlyMount a(image, out_dir / "compare-root-for-user");
        ReadOnlyMount b(user_image, out_dir / "compare-user");
        roots = imgcreate::test::describe_tree(out_dir / "compare-root-for-user");
        users = imgcreate::test::describe_tree(out_dir / "compare-user");
    }
    REQUIRE(roots.size() > 5000);
    // dracut's output differs from one run to the next (and, without root, has no device nodes)
    std::vector<std::string> initramfs;
    for (const auto& [path, what] : roots)
        if (path.rfind("boot/initramfs-", 0) == 0) initramfs.push_back(path);
    REQUIRE(initramfs.size() == 1);
    const auto differences = imgcreate::test::listing_differences(roots, users, initramfs);
    INFO(differences);
    CHECK(differences.empty());
    CHECK(roots.at("usr/bin/ping").find("security.capability=") != std::string::npos);
    CHECK(roots.at("usr/bin/sudo") == users.at("usr/bin/sudo"));

    // The tree: the same paths, modes and owners, seen from outside the user's namespace
    // (its root is the user, its other ids the subordinate range from 300000).
    struct stat user_st {};
    REQUIRE(::stat((out_dir / "user").c_str(), &user_st) == 0);
    auto inside = [&](unsigned long id, unsigned long own) { return id == own ? 0 : id - 300000 + 1; };
    std::string tree_differences;
    std::size_t compared = 0;
    for (auto it = fs::recursive_directory_iterator(user_tree); it != fs::recursive_directory_iterator(); ++it) {
        const auto rel = it->path().lexically_relative(user_tree).string();
        struct stat st {};
        ::lstat(it->path().c_str(), &st);
        const auto expected = roots.find(rel);
        if (expected == roots.end()) {
            tree_differences += "only in the tree: " + rel + "\n";
            continue;
        }
        std::ostringstream d;
        d << std::oct << st.st_mode << std::dec << " " << inside(st.st_uid, user_st.st_uid) << ":"
          << inside(st.st_gid, user_st.st_gid);
        const auto& want = expected->second;
        const auto head = want.substr(0, want.find(' ', want.find(' ') + 1));
        if (d.str() != head) tree_differences += rel + ": " + head + " against " + d.str() + "\n";
        ++compared;
    }
    INFO(tree_differences);
    CHECK(tree_differences.empty());
    CHECK(compared + 10 > roots.size());
}

// The disk image's GRUB menu and boot code, as text and bytes: what GRUB is given to read, and
// what grub-bios-setup would have written into the MBR and core.img.
#include <catch2/catch.hpp>

#include <imgcreate/boot/disk_boot.hpp>
#include <imgcreate/disk/bios_boot.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/support/process.hpp>

#include <string>
#include <vector>

using namespace imgcreate;
using Catch::Matchers::Contains;

namespace {

boot::DiskMenu menu() {
    boot::DiskMenu m;
    m.title = "Testdistro";
    m.boot_uuid = "b00b";
    m.boot_prefix = "";
    m.root_uuid = "7007";
    m.append = "console=ttyS0 quiet";
    m.timeout_seconds = 1;
    m.kernels = {{"kernel-core", "6.1.0-57-amd64"}};
    return m;
}

}  // namespace

TEST_CASE("the disk's grub.cfg for one kernel on a /boot of its own is exactly this") {
    CHECK(boot::disk_grub_config(menu()) ==
          "set default=\"0\"\nset timeout=1\n"
          "serial --unit=0 --speed=115200\nterminal_input console serial\nterminal_output console serial\n"
          "insmod part_gpt\ninsmod part_msdos\ninsmod ext2\ninsmod xfs\ninsmod btrfs\n"
          "search --no-floppy --fs-uuid --set=root b00b\n\n"
          "menuentry 'Testdistro (6.1.0-57-amd64)' --class gnu-linux --class gnu --class os {\n"
          "\tlinux /vmlinuz-6.1.0-57-amd64 root=UUID=7007 ro console=ttyS0 quiet\n"
          "\tinitrd /initramfs-6.1.0-57-amd64.img\n"
          "}\n");
    SECTION("with /boot on /, the paths start with /boot, and no serial console without console=ttyS") {
        auto m = menu();
        m.boot_prefix = "/boot";
        m.append = "";
        const auto cfg = boot::disk_grub_config(m);
        CHECK_THAT(cfg, Contains("\tlinux /boot/vmlinuz-6.1.0-57-amd64 root=UUID=7007 ro\n"));
        CHECK_THAT(cfg, !Contains("serial"));
        CHECK(boot::disk_grub_early_config(m) ==
              "search --no-floppy --fs-uuid --set=root b00b\nset prefix=($root)/boot/grub2\nexport prefix\n"
              "configfile $prefix/grub.cfg\n");
    }
    SECTION("a password makes root the superuser; the entries still boot without it") {
        auto m = menu();
        m.password_hash = "grub.pbkdf2.sha512.10000.AA.BB";
        const auto cfg = boot::disk_grub_config(m);
        CHECK_THAT(cfg, Contains("set superusers=\"root\"\npassword_pbkdf2 root grub.pbkdf2.sha512.10000.AA.BB\n"));
        CHECK_THAT(cfg, Contains("--class os --unrestricted {\n"));
    }
}

TEST_CASE("bootloader --password: an --iscrypted one must be a GRUB hash, a plain one is hashed by GRUB's tool") {
    CHECK(boot::grub_password_hash("grub.pbkdf2.sha512.10000.AA.BB", true) == "grub.pbkdf2.sha512.10000.AA.BB");
    CHECK_THROWS_WITH(boot::grub_password_hash("$6$salt$hash", true), Contains("takes a GRUB hash"));
    if (!find_program("grub-mkpasswd-pbkdf2").empty()) {
        const auto hash = boot::grub_password_hash("secret", false);
        CHECK(hash.rfind("grub.pbkdf2.sha512.10000.", 0) == 0);
        CHECK(hash.find('\n') == std::string::npos);
    }
}

TEST_CASE("bootloader --default puts its kernel package first, newest first within each") {
    std::vector<boot::DiskKernel> k = {{"kernel-core", "6.1.0"}, {"kernel-debug", "6.1.0"}, {"kernel-core", "6.5.0"},
                                       {"kernel-debug", "6.2.0"}};
    boot::order_kernels(k, "debug");
    CHECK(k[0].package == "kernel-debug");
    CHECK(k[0].version == "6.2.0");
    CHECK(k[2].package == "kernel-core");
    CHECK(k[2].version == "6.5.0");
    boot::order_kernels(k, "");
    CHECK(k[0].version == "6.5.0");
}

TEST_CASE("the default kernel is the newest as rpm compares versions, and never a debug kernel unless asked for") {
    std::vector<boot::DiskKernel> k = {{"kernel-core", "6.9.12-200.fc40.x86_64"},
                                       {"kernel-debug-core", "6.10.3-200.fc40.x86_64+debug"},
                                       {"kernel-core", "6.10.3-200.fc40.x86_64"}};
    boot::order_kernels(k, "");
    CHECK(k[0].version == "6.10.3-200.fc40.x86_64");
    CHECK(k[1].version == "6.9.12-200.fc40.x86_64");
    CHECK(k[2].package == "kernel-debug-core");
    boot::order_kernels(k, "debug-core");
    CHECK(k[0].package == "kernel-debug-core");
}

TEST_CASE("a title with a quote is one word of grub.cfg, and GRUB's own checker reads the menu") {
    CHECK(boot::grub_quoted("Joe's OS") == "'Joe'\\''s OS'");
    auto m = menu();
    m.title = "Joe's OS";
    const auto cfg = boot::disk_grub_config(m);
    CHECK_THAT(cfg, Contains("menuentry 'Joe'\\''s OS (6.1.0-57-amd64)' --class"));
    if (find_program("grub-script-check").empty()) return;
    Command check;
    check.argv = {"grub-script-check"};
    check.input = cfg;
    check.check = false;
    check.log_output = false;
    const auto r = run(check);
    INFO(r.output);
    CHECK(r.exit_status == 0);
}

TEST_CASE("GRUB's boot code is patched as grub-bios-setup patches it") {
    std::vector<unsigned char> boot_img(512, 0xAA), mbr(512, 0);
    for (std::size_t i = 0x1b8; i < 512; ++i) mbr[i] = static_cast<unsigned char>(i);  // signature and table
    mbr[0x10] = 0x42;  // a BPB byte of the disk's sector
    const auto sector0 = disk::patched_mbr(boot_img, mbr, 2048);
    CHECK(sector0[0x10] == 0x42);
    CHECK(sector0[0x5c] == 0x00);
    CHECK(sector0[0x5d] == 0x08);  // 2048, little-endian
    CHECK(sector0[0x66] == 0x90);
    CHECK(sector0[0x67] == 0x90);
    CHECK(sector0[0x100] == 0xAA);
    for (std::size_t i = 0x1b8; i < 512; ++i) CHECK(sector0[i] == mbr[i]);

    std::vector<unsigned char> core(512 * 3 + 100, 0x11);
    const auto patched = disk::patched_core(core, 2048);
    REQUIRE(patched.size() == 512 * 4);
    CHECK(patched[500] == 0x01);  // start 2049
    CHECK(patched[501] == 0x08);
    CHECK(patched[508] == 3);     // three sectors after the first
    CHECK(patched[510] == 0x20);  // load segment 0x820
    CHECK(patched[511] == 0x08);
    CHECK(patched[496] == 0);     // the list ends before it
    CHECK(patched[488] == 0);

    SECTION("core.img goes in the biosboot partition on GPT, after the MBR on msdos") {
        auto gpt = disk::plan_layout(kickstart::parse_string("reqpart\npart / --size=100\n", "k.ks")).disks[0];
        CHECK(disk::core_location(gpt).lba == 2048);
        CHECK(disk::core_location(gpt).max_sectors == 2048);
        auto dos = disk::plan_layout(kickstart::parse_string("clearpart --disklabel=msdos\npart / --size=100\n", "k.ks")).disks[0];
        CHECK(disk::core_location(dos).lba == 1);
        CHECK(disk::core_location(dos).max_sectors == 2047);
        auto none = disk::plan_layout(kickstart::parse_string("part / --size=100\n", "k.ks")).disks[0];
        CHECK_THROWS_WITH(disk::core_location(none), Contains("add 'reqpart'"));
    }
}

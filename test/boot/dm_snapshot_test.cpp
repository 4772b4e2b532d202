// Pieces this machine's kernel lacks (device-mapper, SELinux), tested in a guest: the demo
// kernel in qemu with a small initramfs (busybox, the kernel's modules and a guest program),
// the verdict read from the serial console.
#include "qemu.hpp"

#include <catch2/catch.hpp>
#include <support/skip.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace fs = std::filesystem;
using namespace imgcreate;

namespace {

// The start of every guest's /init: busybox's applets and the API filesystems.
constexpr const char* init_start = "#!/bin/sh\n"
                                   "/bin/busybox --install -s /bin\n"
                                   "mount -t proc proc /proc; mount -t sysfs sysfs /sys\n"
                                   "mount -t devtmpfs devtmpfs /dev; mount -t tmpfs tmpfs /tmp\n";

}  // namespace

TEST_CASE("DmSnapshot gives a writable view of an image without touching it, and leaves no device (in a qemu guest)") {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* p : {"qemu-system-x86_64", "rpm2cpio", "cpio"}) IMGCREATE_REQUIRE_PROGRAM(p);
    if (fs::exists("/dev/mapper/control"))
        std::cerr << "note: this kernel has device-mapper, but the test runs in a guest all the same\n";
    test::KernelGuest guest;
    guest.work = fs::path(IMGCREATE_BINARY_DIR) / "demo" / "dm-guest";
    if (!guest.prepare(fs::path(IMGCREATE_BINARY_DIR) / "demo" / "repo"))
        IMGCREATE_SKIP("the demo repository is not built: run the 'build the demo ISOs' test first");
    guest.add_program(DM_SNAPSHOT_GUEST);
    const std::string console = guest.boot(std::string(init_start) +
                                           "modprobe loop && modprobe dm_snapshot || echo 'DMSNAPSHOT-FAIL: no loop or dm_snapshot module'\n"
                                           "/dm_snapshot_guest\n"
                                           "poweroff -f\n");
    const bool passed = console.find("DMSNAPSHOT-PASS") != std::string::npos;
    if (!passed) std::cerr << "---- guest console ----\n" << console << "\n---- end ----\n";
    CHECK(passed);
    CHECK(console.find("DMSNAPSHOT-FAIL") == std::string::npos);
}

TEST_CASE("On a host with SELinux the root gets its selinuxfs with load covered by /dev/null (in a qemu guest)") {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* p : {"qemu-system-x86_64", "rpm2cpio", "cpio", "ldd"}) IMGCREATE_REQUIRE_PROGRAM(p);
    test::KernelGuest guest;
    guest.work = fs::path(IMGCREATE_BINARY_DIR) / "demo" / "selinux-guest";
    if (!guest.prepare(fs::path(IMGCREATE_BINARY_DIR) / "demo" / "repo"))
        IMGCREATE_SKIP("the demo repository is not built: run the 'build the demo ISOs' test first");
    guest.add_program(SELINUXFS_GUEST);
    const std::string console = guest.boot(std::string(init_start) +
                                           "mount -t selinuxfs selinuxfs /sys/fs/selinux || echo 'SELINUXFS-FAIL: no selinuxfs'\n"
                                           "/selinuxfs_guest\n"
                                           "poweroff -f\n",
                                           "security=selinux selinux=1");
    const bool passed = console.find("SELINUXFS-PASS") != std::string::npos;
    if (!passed) std::cerr << "---- guest console ----\n" << console << "\n---- end ----\n";
    CHECK(passed);
    CHECK(console.find("SELINUXFS-FAIL") == std::string::npos);
}

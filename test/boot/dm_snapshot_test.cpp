// DmSnapshot needs device-mapper, which this machine's kernel lacks: the test boots the demo
// kernel in qemu with a small initramfs (busybox, the loop and dm modules, and the static
// dm_snapshot_guest program) and reads the verdict from the serial console.
#include "qemu.hpp"

#include <catch2/catch.hpp>
#include <support/skip.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace fs = std::filesystem;
using namespace imgcreate;

TEST_CASE("DmSnapshot gives a writable view of an image without touching it, and leaves no device (in a qemu guest)") {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* p : {"qemu-system-x86_64", "rpm2cpio", "cpio"}) IMGCREATE_REQUIRE_PROGRAM(p);
    if (fs::exists("/dev/mapper/control"))
        std::cerr << "note: this kernel has device-mapper, but the test runs in a guest all the same\n";
    const fs::path demo = fs::path(IMGCREATE_BINARY_DIR) / "demo";
    const fs::path guest_program = DM_SNAPSHOT_GUEST;
    fs::path kernel_rpm;
    for (const auto& e : fs::directory_iterator(demo / "repo"))
        if (e.path().filename().string().rfind("kernel-", 0) == 0) kernel_rpm = e.path();
    if (kernel_rpm.empty()) IMGCREATE_SKIP("the demo repository is not built: run the 'build the demo ISOs' test first");

    const fs::path work = demo / "dm-guest";
    fs::remove_all(work);
    const fs::path root = work / "root";
    fs::create_directories(root);
    run({"sh", "-c", "cd '" + root.string() + "' && rpm2cpio '" + kernel_rpm.string() + "' | cpio -idm --quiet"});
    for (const char* d : {"bin", "proc", "sys", "dev", "tmp", "lib/modules"}) fs::create_directories(root / d);
    for (const auto& e : fs::directory_iterator(root / "usr/lib/modules"))
        fs::rename(e.path(), root / "lib/modules" / e.path().filename());
    fs::path vmlinuz;
    for (const auto& e : fs::directory_iterator(root / "boot")) vmlinuz = work / "vmlinuz", fs::rename(e.path(), vmlinuz);
    fs::copy_file("/bin/busybox", root / "bin/busybox");
    fs::create_symlink("busybox", root / "bin/sh");
    fs::copy_file(guest_program, root / "dm_snapshot_guest");
    std::ofstream(root / "init") << "#!/bin/sh\n"
                                    "/bin/busybox --install -s /bin\n"
                                    "mount -t proc proc /proc; mount -t sysfs sysfs /sys\n"
                                    "mount -t devtmpfs devtmpfs /dev; mount -t tmpfs tmpfs /tmp\n"
                                    "modprobe loop && modprobe dm_snapshot || echo 'DMSNAPSHOT-FAIL: no loop or dm_snapshot module'\n"
                                    "/dm_snapshot_guest\n"
                                    "poweroff -f\n";
    fs::permissions(root / "init", fs::perms(0755));
    run({"sh", "-c", "cd '" + root.string() + "' && find . | cpio -o -H newc --quiet | gzip -1 > ../initrd.img"});

    test::GuestSlot slot;
    Command qemu;
    qemu.argv = {"qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-nographic", "-no-reboot", "-monitor", "none",
                 "-serial", "file:" + (work / "serial.log").string(), "-kernel", vmlinuz.string(),
                 "-initrd", (work / "initrd.img").string(), "-append", "console=ttyS0 panic=-1 quiet"};
    qemu.timeout = std::chrono::seconds(400);
    qemu.check = false;
    qemu.log_output = false;
    run(qemu);
    std::ifstream in(work / "serial.log", std::ios::binary);
    const std::string console = test::strip_terminal_codes(std::string((std::istreambuf_iterator<char>(in)), {}));
    const bool passed = console.find("DMSNAPSHOT-PASS") != std::string::npos;
    if (!passed) std::cerr << "---- guest console ----\n" << console << "\n---- end ----\n";
    CHECK(passed);
    CHECK(console.find("DMSNAPSHOT-FAIL") == std::string::npos);
}

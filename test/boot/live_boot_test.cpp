// The demo live ISOs (built by the "build the demo ISOs" fixture) boot in qemu: BIOS and UEFI
// from a CD, BIOS from the ISO as a hard disk, a flat squashfs on overlayfs, and isolinux.
#include "qemu.hpp"

#include <catch2/catch.hpp>
#include <support/skip.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

using namespace imgcreate::test;

namespace {

const std::filesystem::path iso_dir = std::filesystem::path(IMGCREATE_BINARY_DIR) / "demo" / "isos";

GuestResult boot_demo(const std::string& iso_name, Firmware firmware, Medium medium, const std::string& log_name) {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("qemu-system-x86_64");
    if (firmware == Firmware::uefi && !std::filesystem::exists("/usr/share/ovmf/OVMF.fd"))
        IMGCREATE_SKIP("needs /usr/share/ovmf/OVMF.fd (the ovmf package)");
    const auto iso = iso_dir / iso_name;
    if (!std::filesystem::exists(iso))
        IMGCREATE_SKIP(iso.string() + " was not built: run the 'build the demo ISOs' test first (ctest -L boot)");
    Guest guest;
    guest.iso = iso;
    guest.firmware = firmware;
    guest.medium = medium;
    guest.serial_log = iso_dir / (log_name + ".serial.log");
    auto result = boot(guest);
    if (booted_line(result.console).empty()) {
        std::cerr << "---- serial console of " << log_name << (result.timed_out ? " (timed out)" : "") << " ----\n"
                  << result.console << "\n---- end of console ----\n";
    }
    return result;
}

}  // namespace

TEST_CASE("the demo ISO boots with BIOS from a CD-ROM to init on the device-mapper snapshot") {
    auto result = boot_demo("imgcreate-demo.iso", Firmware::bios, Medium::cdrom, "bios-cdrom");
    CHECK_FALSE(result.timed_out);
    CHECK(booted_line(result.console) == "IMGCREATE-DEMO-BOOTED root=/dev/mapper/live-rw ext4");
}

TEST_CASE("the demo ISO boots with UEFI (OVMF) from a CD-ROM to init on the device-mapper snapshot") {
    auto result = boot_demo("imgcreate-demo.iso", Firmware::uefi, Medium::cdrom, "uefi-cdrom");
    CHECK_FALSE(result.timed_out);
    CHECK(booted_line(result.console) == "IMGCREATE-DEMO-BOOTED root=/dev/mapper/live-rw ext4");
}

TEST_CASE("the demo ISO written to a disk boots with BIOS through its hybrid MBR") {
    auto result = boot_demo("imgcreate-demo.iso", Firmware::bios, Medium::disk, "bios-disk");
    CHECK_FALSE(result.timed_out);
    CHECK(booted_line(result.console) == "IMGCREATE-DEMO-BOOTED root=/dev/mapper/live-rw ext4");
}

TEST_CASE("a --flat-squashfs demo ISO boots to init on overlayfs") {
    auto result = boot_demo("imgcreate-demo-flat.iso", Firmware::bios, Medium::cdrom, "flat-bios-cdrom");
    CHECK_FALSE(result.timed_out);
    CHECK(booted_line(result.console) == "IMGCREATE-DEMO-BOOTED root=LiveOS_rootfs overlay");
}

TEST_CASE("a --syslinux demo ISO boots with BIOS from a CD-ROM through isolinux") {
    auto result = boot_demo("imgcreate-demo-syslinux.iso", Firmware::bios, Medium::cdrom, "syslinux-bios-cdrom");
    CHECK_FALSE(result.timed_out);
    CHECK(result.console.find("ISOLINUX") != std::string::npos);
    CHECK(booted_line(result.console) == "IMGCREATE-DEMO-BOOTED root=/dev/mapper/live-rw ext4");
}

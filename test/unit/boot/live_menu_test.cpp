// The live ISO's boot menus and tool command lines, as text: what GRUB, isolinux, dracut,
// mksquashfs and xorriso are given; and the image's EFI loaders it takes.
#include <catch2/catch.hpp>

#include <imgcreate/boot/dracut.hpp>
#include <imgcreate/boot/grub.hpp>
#include <imgcreate/boot/isolinux.hpp>
#include <imgcreate/boot/live_boot.hpp>
#include <imgcreate/boot/live_menu.hpp>
#include <imgcreate/stage/squashfs.hpp>
#include <imgcreate/stage/xorriso.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace imgcreate;

namespace {

boot::LiveMenu demo_menu() {
    boot::LiveMenu menu;
    menu.title = "Demo Live";
    menu.product = "Demo";
    menu.label = "DEMO-1";
    menu.kernel_args = boot::live_kernel_args("DEMO-1", false, "console=ttyS0");
    menu.kernels = {{"kernel", "6.1.0-56-amd64", true}};
    menu.timeout_seconds = 1;
    return menu;
}

bool contains(const std::vector<std::string>& argv, const std::string& word) {
    return std::find(argv.begin(), argv.end(), word) != argv.end();
}

}  // namespace

TEST_CASE("live kernel arguments name the media by label, then the kickstart's --append") {
    CHECK(boot::live_kernel_args("F40-Live", false, "") == "root=live:CDLABEL=F40-Live rd.live.image");
    CHECK(boot::live_kernel_args("F40-Live", false, "quiet rhgb") == "root=live:CDLABEL=F40-Live rd.live.image quiet rhgb");
    SECTION("a flat squashfs adds the overlayfs switch with a space before it") {
        CHECK(boot::live_kernel_args("L", true, "quiet") == "root=live:CDLABEL=L rd.live.image rd.live.overlay.overlayfs quiet");
        CHECK(boot::live_kernel_args("L", true, "rd.live.overlay.overlayfs=1") ==
              "root=live:CDLABEL=L rd.live.image rd.live.overlay.overlayfs=1");
    }
}

TEST_CASE("the BIOS GRUB menu for one kernel is exactly this") {
    CHECK(boot::grub_config(demo_menu(), boot::Firmware::bios) ==
          "set default=\"0\"\n"
          "set timeout=1\n"
          "\n"
          "function load_video {\n"
          "  insmod all_video\n"
          "}\n"
          "\n"
          "load_video\nset gfxpayload=keep\ninsmod gzio\ninsmod part_gpt\ninsmod part_msdos\ninsmod iso9660\n"
          "\n"
          "search --no-floppy --set=root -l 'DEMO-1'\n"
          "\n"
          "menuentry 'Start Demo' --class gnu-linux --class gnu --class os {\n"
          "\tlinux /images/pxeboot/vmlinuz0 root=live:CDLABEL=DEMO-1 rd.live.image console=ttyS0\n"
          "\tinitrd /images/pxeboot/initrd0.img\n"
          "}\n"
          "submenu 'Troubleshooting -->' {\n"
          "\tmenuentry 'Start Demo in basic graphics mode' --class gnu-linux --class gnu --class os {\n"
          "\t\tlinux /images/pxeboot/vmlinuz0 root=live:CDLABEL=DEMO-1 rd.live.image console=ttyS0 nomodeset\n"
          "\t\tinitrd /images/pxeboot/initrd0.img\n"
          "\t}\n"
          "\tmenuentry 'Boot from the first local drive' {\n"
          "\t\tchainloader (hd0)+1\n"
          "\t}\n"
          "}\n");
}

TEST_CASE("the EFI GRUB menu loads the EFI video drivers and has no local-drive entry") {
    auto cfg = boot::grub_config(demo_menu(), boot::Firmware::efi);
    CHECK(cfg.find("function load_video {\n  insmod efi_gop\n  insmod efi_uga\n  insmod all_video\n}\n") != std::string::npos);
    CHECK(cfg.find("chainloader") == std::string::npos);
    CHECK(cfg.find("menuentry 'Start Demo' ") != std::string::npos);
}

TEST_CASE("every installed kernel gets entries, and only the default one is named by the product alone") {
    auto menu = demo_menu();
    menu.kernels.push_back({"kernel-debug", "6.1.0-57-amd64", false});
    menu.check_media = true;
    auto cfg = boot::grub_config(menu, boot::Firmware::bios);
    CHECK(cfg.find("menuentry 'Start Demo' ") != std::string::npos);
    CHECK(cfg.find("menuentry 'Start Demo (debug 6.1.0-57-amd64)' --class gnu-linux --class gnu --class os {\n"
                   "\tlinux /images/pxeboot/vmlinuz1 ") != std::string::npos);
    CHECK(cfg.find("menuentry 'Test this media & start Demo' --class gnu-linux --class gnu --class os {\n"
                   "\tlinux /images/pxeboot/vmlinuz0 root=live:CDLABEL=DEMO-1 rd.live.image console=ttyS0 rd.live.check\n") !=
          std::string::npos);
    CHECK(cfg.find("\tinitrd /images/pxeboot/initrd1.img\n") != std::string::npos);
}

TEST_CASE("the isolinux menu is exactly this: start, then troubleshooting with basic graphics, check, memtest, local") {
    auto menu = demo_menu();
    menu.check_media = true;
    menu.memtest = true;
    CHECK(boot::isolinux_config(menu) ==
          "default vesamenu.c32\n"
          "timeout 10\n"
          "menu autoboot Booting Demo Live in # second{,s}. Press a key to stop.\n"
          "menu title Demo Live\n"
          "menu tabmsg Press Tab to edit the kernel command line.\n"
          "menu separator\n"
          "label linux0\n"
          "  menu label ^Start Demo\n"
          "  kernel /images/pxeboot/vmlinuz0\n"
          "  append initrd=/images/pxeboot/initrd0.img root=live:CDLABEL=DEMO-1 rd.live.image console=ttyS0\n"
          "  menu default\n"
          "menu separator\n"
          "menu begin ^Troubleshooting\n"
          "  menu title Troubleshooting\n"
          "label basic0\n"
          "  menu label Start Demo in ^basic graphics mode\n"
          "  kernel /images/pxeboot/vmlinuz0\n"
          "  append initrd=/images/pxeboot/initrd0.img root=live:CDLABEL=DEMO-1 rd.live.image console=ttyS0 nomodeset\n"
          "label check0\n"
          "  menu label ^Test this media & start Demo\n"
          "  kernel /images/pxeboot/vmlinuz0\n"
          "  append initrd=/images/pxeboot/initrd0.img root=live:CDLABEL=DEMO-1 rd.live.image console=ttyS0 rd.live.check\n"
          "label memtest\n"
          "  menu label Run a ^memory test\n"
          "  kernel /isolinux/memtest\n"
          "label local\n"
          "  menu label Boot from ^local drive\n"
          "  localboot 0xffff\n"
          "menu separator\n"
          "label returntomain\n"
          "  menu label Return to ^main menu\n"
          "  menu exit\n"
          "menu end\n");
}

TEST_CASE("without checkisomd5 or memtest in the image their entries are left out") {
    auto cfg = boot::isolinux_config(demo_menu());
    CHECK(cfg.find("rd.live.check") == std::string::npos);
    CHECK(cfg.find("memtest") == std::string::npos);
    CHECK(cfg.find("label local\n") != std::string::npos);
}

TEST_CASE("the image built into host GRUB finds the media by label and reads the menu from it") {
    CHECK(boot::grub_early_config("DEMO-1", "/EFI/BOOT") ==
          "search --no-floppy --set=root -l 'DEMO-1'\nset prefix=($root)/EFI/BOOT\nconfigfile $prefix/grub.cfg\n");
}

TEST_CASE("the live dracut config adds dmsquash-live, the compressor and the live drivers") {
    auto conf = boot::live_dracut_conf("zstd");
    CHECK(conf.find("add_dracutmodules+=\" dmsquash-live \"\n") != std::string::npos);
    CHECK(conf.find("compress=\"zstd\"\n") != std::string::npos);
    CHECK(conf.find("hostonly=\"no\"\n") != std::string::npos);
    CHECK(conf.find("add_drivers+=\" sr_mod sd_mod cdrom ") != std::string::npos);
    SECTION("--dracut-conf-args with a '+' adds lines to the defaults") {
        auto extra = boot::live_dracut_conf("xz", "+omit_dracutmodules+=\" plymouth \"");
        CHECK(extra.find("add_dracutmodules+=\" dmsquash-live \"\n") != std::string::npos);
        CHECK(extra.find("omit_dracutmodules+=\" plymouth \"\n") != std::string::npos);
    }
    SECTION("--dracut-conf-args without '+' replaces the defaults, keeping drivers and filesystems") {
        auto replaced = boot::live_dracut_conf("xz", "compress=\"lz4\"");
        CHECK(replaced.find("dmsquash-live") == std::string::npos);
        CHECK(replaced.find("compress=\"lz4\"\n") != std::string::npos);
        CHECK(replaced.find("filesystems+=\" vfat msdos isofs ext4 xfs btrfs squashfs overlay \"\n") != std::string::npos);
    }
}

TEST_CASE("mksquashfs uses every core, the chosen compressor, a bounded cache and, for reproducible builds, fixed times") {
    stage::SquashfsOptions options;
    options.compression = "zstd -Xcompression-level 19";
    options.processors = 2;
    CHECK(stage::mksquashfs_argv("/tree", "/iso/LiveOS/squashfs.img", options) ==
          std::vector<std::string>{"mksquashfs", "/tree", "/iso/LiveOS/squashfs.img", "-noappend", "-no-progress", "-comp",
                                   "zstd", "-Xcompression-level", "19", "-processors", "2", "-mem", "64M"});
    options.processors = 8;
    CHECK(contains(stage::mksquashfs_argv("/t", "/s", options), "256M"));
    options.memory_mib = 100;
    CHECK(contains(stage::mksquashfs_argv("/t", "/s", options), "100M"));
    options.compression = "xz";
    options.epoch = 1700000000;
    auto argv = stage::mksquashfs_argv("/t", "/s", options);
    CHECK(contains(argv, "-reproducible"));
    CHECK(contains(argv, "-all-time"));
    options.compression = "brotli";
    CHECK_THROWS_WITH(stage::mksquashfs_argv("/t", "/s", options),
                      "unknown squashfs compression 'brotli': choose xz, zstd, lz4 or gzip");
}

TEST_CASE("the GRUB ISO layout is hybrid: grub MBR, El Torito BIOS image, EFI image appended as a GPT partition") {
    stage::IsoLayout layout;
    layout.tree = "/b/iso";
    layout.volume_id = "DEMO-1";
    layout.efiboot = "/b/efiboot.img";
    auto argv = stage::xorriso_argv(layout, "/out/demo.iso");
    CHECK(std::vector<std::string>(argv.begin(), argv.begin() + 10) ==
          std::vector<std::string>{"xorriso", "-as", "mkisofs", "-o", "/out/demo.iso", "-R", "-J", "-joliet-long", "-V",
                                   "DEMO-1"});
    CHECK(contains(argv, "--grub2-mbr"));
    CHECK(contains(argv, "images/eltorito.img"));
    CHECK(contains(argv, "--interval:appended_partition_2:all::"));
    CHECK(contains(argv, "/b/efiboot.img"));
    CHECK(argv.back() == "/b/iso");
    SECTION("a volume id longer than 32 characters is refused") {
        layout.volume_id = std::string(33, 'x');
        CHECK_THROWS_AS(stage::xorriso_argv(layout, "/o.iso"), StageError);
    }
    SECTION("SOURCE_DATE_EPOCH fixes the volume dates and the file dates") {
        layout.epoch = 1700000000;
        auto dated = stage::xorriso_argv(layout, "/o.iso");
        CHECK(contains(dated, "--modification-date=2023111422132000"));
        CHECK(contains(dated, "set_to_mtime"));
    }
}

TEST_CASE("the isolinux ISO layout uses isohdpfx and the EFI image inside the tree") {
    stage::IsoLayout layout;
    layout.tree = "/b/iso";
    layout.volume_id = "DEMO";
    layout.bios = stage::BiosLoader::isolinux;
    layout.isolinux_hybrid_mbr = "/usr/lib/ISOLINUX/isohdpfx.bin";
    layout.efiboot = "/b/iso/images/efiboot.img";
    layout.efiboot_in_tree = "images/efiboot.img";
    auto argv = stage::xorriso_argv(layout, "/o.iso");
    CHECK(contains(argv, "-isohybrid-mbr"));
    CHECK(contains(argv, "isolinux/isolinux.bin"));
    CHECK(contains(argv, "-isohybrid-gpt-basdat"));
    CHECK(contains(argv, "images/efiboot.img"));
}

TEST_CASE("a live ISO takes the image's shim and GRUB through the image's own links, never a file of the build host") {
    namespace fs = std::filesystem;
    char tmpl[] = "/tmp/imgcreate-efi-XXXXXX";
    const fs::path dir = ::mkdtemp(tmpl);
    struct Remove {
        fs::path path;
        ~Remove() {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    } remove{dir};
    const auto root = dir / "root", iso = dir / "iso";
    auto write = [](const fs::path& path, const std::string& text) {
        fs::create_directories(path.parent_path());
        std::ofstream(path) << text;
    };
    write(root / "usr/share/shim/shimx64.efi", "the image's shim");
    write(root / "boot/efi/EFI/fedora/grubx64.efi", "the image's grub");
    // an absolute link, as packages ship them: it names a file of the image
    fs::create_symlink("/usr/share/shim/shimx64.efi", root / "boot/efi/EFI/fedora/shimx64.efi");
    auto read = [](const fs::path& path) {
        std::ifstream in(path);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };

    SECTION("the link is followed inside the image") {
        REQUIRE(boot::detail::copy_image_efi_loaders(root, iso));
        CHECK(read(iso / "BOOTX64.EFI") == "the image's shim");
        CHECK(read(iso / "grubx64.efi") == "the image's grub");
    }
    SECTION("a link to a file the image does not have is no loader, though the host has that file") {
        write(dir / "host-grub.efi", "the build host's file");
        fs::remove(root / "boot/efi/EFI/fedora/grubx64.efi");
        fs::create_symlink(dir / "host-grub.efi", root / "boot/efi/EFI/fedora/grubx64.efi");
        CHECK_FALSE(boot::detail::copy_image_efi_loaders(root, iso));
        CHECK_FALSE(fs::exists(iso / "grubx64.efi"));
    }
}

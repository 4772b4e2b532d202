// Which argument of a dracut call is the image it writes, and which calls are never answered
// from the initramfs cache (boot/initramfs_cache.hpp).
#include <imgcreate/boot/initramfs_cache.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using imgcreate::boot::dracut_image_argument;
using Args = std::vector<std::string>;

TEST_CASE("a dracut call's image is its first operand, after options with and without values") {
    CHECK(dracut_image_argument(Args{"--force", "--kver", "6.1.0-57-amd64", "/boot/initramfs-6.1.0-57-amd64.img"}) == 3u);
    CHECK(dracut_image_argument(Args{"-f", "/boot/initramfs.img", "6.1.0-57-amd64"}) == 1u);
    CHECK(dracut_image_argument(Args{"--kver=6.1", "--add", "dmsquash-live", "--omit", "plymouth", "out.img"}) == 5u);
    CHECK(dracut_image_argument(Args{"-fv", "-a", "lvm crypt", "-c", "/etc/x.conf", "out.img"}) == 5u);
    CHECK(dracut_image_argument(Args{"-alvm", "-qf", "out.img", "6.1"}) == 2u);
    CHECK(dracut_image_argument(Args{"--no-hostonly", "--reproducible", "--compress=zstd", "--", "-odd.img"}) == 4u);
    // kernel-install's 50-dracut.install: a staging directory that differs in every run
    CHECK(dracut_image_argument(Args{"-f", "--kver", "6.1", "/tmp/kernel-install.XXXX/initrd"}) == 3u);
}

TEST_CASE("dracut calls that depend on the build host, write no image or are not understood are never cached") {
    CHECK(dracut_image_argument(Args{"--hostonly", "out.img"}) == std::nullopt);
    CHECK(dracut_image_argument(Args{"-H", "out.img"}) == std::nullopt);
    CHECK(dracut_image_argument(Args{"-fH", "out.img"}) == std::nullopt);
    CHECK(dracut_image_argument(Args{"--local", "out.img"}) == std::nullopt);
    CHECK(dracut_image_argument(Args{"--sysroot", "/mnt", "out.img"}) == std::nullopt);
    CHECK(dracut_image_argument(Args{"--add-fstab", "/etc/fstab", "out.img"}) == std::nullopt);
    CHECK(dracut_image_argument(Args{"--regenerate-all", "--force"}) == std::nullopt);
    CHECK(dracut_image_argument(Args{"--uefi", "out.efi"}) == std::nullopt);
    CHECK(dracut_image_argument(Args{"--print-cmdline"}) == std::nullopt);
    CHECK(dracut_image_argument(Args{"--force", "--kver", "6.1"}) == std::nullopt);  // dracut picks the path
    CHECK(dracut_image_argument(Args{"--kver"}) == std::nullopt);
    CHECK(dracut_image_argument(Args{"--force=yes", "out.img"}) == std::nullopt);
    CHECK(dracut_image_argument(Args{"--some-new-option", "out.img"}) == std::nullopt);
}

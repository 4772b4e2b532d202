// Which argument of a dracut call is the image it writes, which calls are never answered from the
// initramfs cache, and the host's pigz the image's dracut gets (boot/initramfs_cache.hpp).
#include <imgcreate/boot/initramfs_cache.hpp>

#include <catch2/catch.hpp>
#include <support/skip.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
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

TEST_CASE("the host's pigz, copied with the loader and libraries ldd names, runs from the copy alone") {
    namespace fs = std::filesystem;
    IMGCREATE_REQUIRE_PROGRAM("pigz");
    const auto pigz = imgcreate::boot::detail::host_pigz();
    REQUIRE(pigz);
    const fs::path dir = fs::temp_directory_path() / ("imgcreate-host-pigz-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    const auto digest = imgcreate::boot::detail::install_host_pigz(dir, *pigz);
    CHECK(digest.size() == 64);
    CHECK(imgcreate::boot::detail::install_host_pigz(dir, *pigz) == digest);  // the same files, the same digest
    std::vector<std::string> argv = {(dir / "host/pigz.bin").string(), "-V"};
    if (!pigz->loader.empty()) {
        argv.insert(argv.begin(), {(dir / "host/ld.so").string(), "--library-path", (dir / "host/lib").string()});
        bool has_libc = false;
        for (const auto& [name, file] : pigz->libraries) has_libc = has_libc || name.rfind("libc.so", 0) == 0;
        CHECK(has_libc);
    }
    imgcreate::Command version;
    version.argv = argv;
    version.env = std::map<std::string, std::string>{{"PATH", "/nonexistent"}};  // nothing of the host's but the copy
    const auto r = imgcreate::run(version);
    CHECK_THAT(r.output, Catch::Matchers::Contains("pigz"));
    const auto script = imgcreate::boot::detail::read_all(dir / "host/pigz");
    CHECK_THAT(script, Catch::Matchers::Contains(" -p " + std::to_string(std::max(1u, std::thread::hardware_concurrency()))));
    CHECK_THAT(script, Catch::Matchers::Contains("set -- -9 -n -T -R"));  // dracut's own pigz options when it names none
    fs::remove_all(dir);
}

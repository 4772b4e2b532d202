// livecd-creator on the demo kickstart, end to end: what is on the ISO, that checkisomd5
// passes, that the build leaves nothing mounted, and that two builds with the same
// SOURCE_DATE_EPOCH are byte-identical.
#include <catch2/catch.hpp>
#include <support/rpmrepo.hpp>
#include <support/skip.hpp>

#include <imgcreate/support/process.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <unistd.h>

namespace fs = std::filesystem;
using imgcreate::Command;
using imgcreate::run;

namespace {

const fs::path work = fs::path(IMGCREATE_BINARY_DIR) / "demo" / "system-live";
const fs::path creator = fs::path(IMGCREATE_BINARY_DIR) / "examples" / "livecd-creator";

void require_setup() {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* p : {"xorriso", "mksquashfs", "dracut", "grub-mkimage", "mkfs.fat", "mcopy", "rpmbuild",
                          "createrepo_c", "checkisomd5"})
        IMGCREATE_REQUIRE_PROGRAM(p);
    if (!fs::exists(creator)) IMGCREATE_SKIP(creator.string() + " is not built (cmake --build ... --target livecd-creator)");
}

const fs::path& kickstart() {
    static const fs::path ks = [] {
        run({IMGCREATE_SOURCE_DIR "/examples/demo/make-repo", (work / "repo").string()});
        std::ifstream in(IMGCREATE_SOURCE_DIR "/examples/demo/demo-live.ks");
        std::stringstream text;
        text << in.rdbuf();
        auto s = text.str();
        s.replace(s.find("@DEMO_REPO@"), 11, (work / "repo").string());
        std::ofstream(work / "demo-live.ks") << s;
        return work / "demo-live.ks";
    }();
    return ks;
}

// Builds one ISO named `name` into work/<name>/ from `ks`; returns its path.
fs::path build_from(const fs::path& ks, const std::string& name, std::vector<std::string> extra,
                    std::optional<long long> epoch = {});

// Builds one ISO named `name` into work/<name>/ from the demo kickstart; returns its path.
fs::path build(const std::string& name, std::vector<std::string> extra, std::optional<long long> epoch = {}) {
    return build_from(kickstart(), name, std::move(extra), epoch);
}

fs::path build_from(const fs::path& ks, const std::string& name, std::vector<std::string> extra,
                    std::optional<long long> epoch) {
    const auto dir = work / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    Command cmd;
    cmd.argv = {creator.string(), "-c", ks.string(), "--fslabel", "IMGDEMO", "--compression-type", "zstd",
                // The reproducible builds share nothing, not even the host-built initramfs;
                // the others share one cache.
                "--cache", (epoch ? dir / "cache" : work / "cache").string(), "-t", dir.string(), "-o", dir.string(), "-q"};
    cmd.argv.insert(cmd.argv.end(), extra.begin(), extra.end());
    if (epoch) {
        cmd.env = imgcreate::clean_environment();
        (*cmd.env)["SOURCE_DATE_EPOCH"] = std::to_string(*epoch);
    }
    run(cmd);
    return dir / "IMGDEMO.iso";
}

std::string sha256(const fs::path& file) { return run({"sha256sum", file.string()}).output.substr(0, 64); }

std::string iso_files(const fs::path& iso) {
    return run({"xorriso", "-indev", iso.string(), "-find", "/", "-type", "f"}).output;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string slurp(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The demo kickstart with `before_packages` added above its %packages section, `packages`
// added to it, and `tail` after it.
fs::path demo_variant(const std::string& name, const std::string& before_packages, const std::string& packages,
                      const std::string& tail) {
    std::string s = slurp(kickstart());
    const auto at = s.find("%packages");
    s.insert(at, before_packages);
    const auto end = s.find("%end", s.find("%packages"));
    s.insert(end, packages);
    s += tail;
    const auto path = work / (name + ".ks");
    std::ofstream(path) << s;
    return path;
}

// A file's text inside an ext4 image, through debugfs.
std::string file_in_image(const fs::path& image, const std::string& path) {
    // debugfs prints its banner on stderr
    return run({"sh", "-c", "debugfs -R 'cat " + path + "' '" + image.string() + "' 2>/dev/null"}).output;
}

}  // namespace

TEST_CASE("two builds of the demo with the same SOURCE_DATE_EPOCH are byte-identical ISOs") {
    require_setup();
    const auto first = build("reproducible-1", {}, 1700000000);
    const auto second = build("reproducible-2", {}, 1700000000);
    CHECK(fs::file_size(first) == fs::file_size(second));
    CHECK(sha256(first) == sha256(second));
    CHECK(run({"checkisomd5", first.string()}).exit_status == 0);
}

TEST_CASE("the demo ISO holds the squashed root, every kernel, both boot loaders, and passes checkisomd5") {
    require_setup();
    const auto iso = build("default", {});
    const auto files = iso_files(iso);
    for (const char* f : {"'/LiveOS/squashfs.img'", "'/images/pxeboot/vmlinuz0'", "'/images/pxeboot/initrd0.img'",
                          "'/images/eltorito.img'", "'/boot/grub2/grub.cfg'", "'/EFI/BOOT/BOOTX64.EFI'",
                          "'/EFI/BOOT/grub.cfg'"})
        CHECK(has(files, f));
    CHECK(run({"checkisomd5", iso.string()}).output.find("PASS") != std::string::npos);
    // The volume id is the label, the root image inside the squashfs is LiveOS/rootfs.img.
    CHECK(has(run({"xorriso", "-indev", iso.string(), "-pvd_info"}).output, "Volume Id    : IMGDEMO"));
    const auto squash = work / "default" / "squashfs.img";
    run({"xorriso", "-osirrox", "on", "-indev", iso.string(), "-extract", "/LiveOS/squashfs.img", squash.string()});
    CHECK(has(run({"unsquashfs", "-l", squash.string()}).output, "squashfs-root/LiveOS/rootfs.img"));
    // The dracut config livecd-tools puts in for the build is gone from the image.
    const auto rootfs = work / "default" / "rootfs.img";
    run({"unsquashfs", "-f", "-d", (work / "default" / "sq").string(), squash.string()});
    Command stat;
    stat.argv = {"debugfs", "-R", "stat /etc/dracut.conf.d/99-liveos.conf",
                 (work / "default" / "sq" / "LiveOS" / "rootfs.img").string()};
    stat.check = false;
    CHECK(has(run(stat).output, "File not found"));
    Command label;
    label.argv = {"e2label", (work / "default" / "sq" / "LiveOS" / "rootfs.img").string()};
    CHECK(run(label).output == "_IMGDEMO\n");
    CHECK(run({"losetup", "-a"}).output.find((work / "default").string()) == std::string::npos);
}

TEST_CASE("a build with --skip-compression puts LiveOS/rootfs.img on the ISO itself") {
    require_setup();
    const auto files = iso_files(build("uncompressed", {"--skip-compression"}));
    CHECK(has(files, "'/LiveOS/rootfs.img'"));
    CHECK_FALSE(has(files, "squashfs.img"));
}

TEST_CASE("a build with --syslinux puts isolinux and its menu on the ISO, and the EFI image inside the tree") {
    require_setup();
    const auto iso = build("syslinux", {"--syslinux"});
    const auto files = iso_files(iso);
    for (const char* f : {"'/isolinux/isolinux.bin'", "'/isolinux/ldlinux.c32'", "'/isolinux/vesamenu.c32'",
                          "'/isolinux/isolinux.cfg'", "'/images/efiboot.img'"})
        CHECK(has(files, f));
    CHECK_FALSE(has(files, "eltorito.img"));
}

TEST_CASE("a build with --base-on a live ISO keeps the base's root and adds only what the kickstart adds") {
    require_setup();
    IMGCREATE_REQUIRE_PROGRAM("debugfs");
    const auto extra_repo = imgcreate::test::build_repo(IMGCREATE_TEST_SOURCE_DIR "/system/live/specs", work / "extra-repo");
    // the base: the demo, with a %post that leaves a mark only the base has
    const std::string token = "base-" + std::to_string(::getpid());
    const auto base_ks = demo_variant("base", "", "", "%post\necho " + token + " > /etc/base-marker\n%end\n");
    const auto base = build_from(base_ks, "base-on-base", {"--skip-compression"});
    // the rebuild: no %post, one more package from another repository
    const auto more_ks = demo_variant("more", "repo --name=extra --baseurl=file://" + extra_repo.string() + "\n",
                                      "demo-extra\n", "");
    const auto rebuilt = build_from(more_ks, "base-on-rebuilt", {"--base-on", base.string()});
    const auto dir = work / "base-on-rebuilt";
    // --compression-type zstd was asked for: the rebuilt ISO is squashed even though the base was not
    const auto files = iso_files(rebuilt);
    CHECK(has(files, "'/LiveOS/squashfs.img'"));
    CHECK(has(files, "'/images/pxeboot/vmlinuz0'"));
    run({"xorriso", "-osirrox", "on", "-indev", rebuilt.string(), "-extract", "/LiveOS/squashfs.img",
         (dir / "squashfs.img").string()});
    run({"unsquashfs", "-f", "-d", (dir / "sq").string(), (dir / "squashfs.img").string()});
    const auto rootfs = dir / "sq" / "LiveOS" / "rootfs.img";
    CHECK(file_in_image(rootfs, "/etc/base-marker") == token + "\n");
    CHECK(file_in_image(rootfs, "/usr/share/demo-extra/marker") == "added by the rebuild\n");
    // the rpm database in the rebuilt root lists the base's packages and the new one, once each
    fs::create_directories(dir / "db");
    run({"debugfs", "-R", "rdump /usr/lib/sysimage/rpm " + (dir / "db").string(), rootfs.string()});
    const auto qa = run({"rpm", "--dbpath", (dir / "db" / "rpm").string(), "-qa", "--qf", "%{NAME}\\n"}).output;
    for (const char* name : {"filesystem\n", "busybox\n", "demo-extra\n"}) {
        const auto first = qa.find(name);
        CHECK(first != std::string::npos);
        CHECK(qa.find(name, first + 1) == std::string::npos);
    }
    CHECK(run({"losetup", "-a"}).output.find(work.string()) == std::string::npos);
}

// image-creator end to end: a kickstart against a test repository in, <name>.img out,
// checked as a user would: e2fsck, the label, a mount showing the packages, what their
// scriptlets did and every configured file; the host keeps no mount, loop device or build dir.
#include <catch2/catch.hpp>

#include "system/mount/fixture.hpp"

#include <imgcreate/mount/libmount.hpp>
#include <imgcreate/mount/loop_device.hpp>
#include <imgcreate/mount/namespace.hpp>
#include <imgcreate/support/process.hpp>
#include <support/rpmrepo.hpp>
#include <support/skip.hpp>

using namespace imgcreate;
using namespace imgcreate::test;

namespace {

const fs::path image_creator = fs::path(IMGCREATE_BINARY_DIR) / "examples" / "image-creator";

fs::path test_repo() {
    RepoBuildOptions options;
    return build_repo(fs::path(IMGCREATE_TEST_SOURCE_DIR) / "data/repos/install",
                      fs::path(IMGCREATE_BINARY_DIR) / "test-data/mount/repo", options);
}

std::string kickstart_text(const fs::path& repo) {
    return "repo --name=local --baseurl=file://" + repo.string() +
           "\n"
           "part / --size 128 --fstype ext4\n"
           "timezone Europe/Berlin\n"
           "selinux --disabled\n"
           "%packages --nocore\n"
           "hello\n"
           "%end\n"
           "%post\n"
           "echo \"configured in $(cat /etc/mtab >/dev/null && echo a chroot)\" > /etc/imgcreate-post\n"
           "%end\n";
}

}  // namespace

TEST_CASE("image-creator builds a clean, minimised ext4 image holding the packages and the configuration") {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* p : {"rpmbuild", "createrepo_c", "busybox", "e2fsck", "blkid"}) IMGCREATE_REQUIRE_PROGRAM(p);
    if (!fs::exists(image_creator)) IMGCREATE_SKIP(image_creator.string() + " is not built (--target image-creator)");
    ScratchDir tmp;
    const auto repo = test_repo();
    const auto ks = tmp.path / "small-image.ks";
    std::ofstream(ks) << kickstart_text(repo);

    Command cmd;
    cmd.argv = {image_creator.string(), "-c", ks.string(), "-f", "Demo-Image-Label", "-t", (tmp.path / "tmp").string(),
                "-o", (tmp.path / "out").string(), "--cache", (tmp.path / "cache").string()};
    cmd.check = false;
    auto result = run(cmd);
    INFO(result.output);
    REQUIRE(result.exit_status == 0);
    const auto image = tmp.path / "out/Demo-Image-Label.img";  // -f names the image too, as in livecd-tools
    CHECK_THAT(result.output, Catch::EndsWith("\n" + image.string() + "\n"));

    Command fsck;
    fsck.argv = {"e2fsck", "-fn", image.string()};
    fsck.check = false;
    CHECK(run(fsck).exit_status == 0);
    CHECK(run({"blkid", "-o", "value", "-s", "LABEL", image.string()}).output == "_Demo-Image-Labe\n");
    CHECK(fs::file_size(image) < (64u << 20));

    auto inside = in_child([&] {
        mount::enter_private_mount_namespace();
        auto loop = mount::LoopDevice::attach(image, true);
        auto dir = tmp.path / "look";
        fs::create_directory(dir);
        auto m = mount::Mount::mount({loop.path().string(), dir, "", "ro"});
        std::string out;
        for (const char* f : {"usr/bin/hello", "usr/bin/busybox", "usr/lib/sysimage/rpm/rpmdb.sqlite"})
            out += std::string(f) + (fs::exists(dir / f) ? " present\n" : " missing\n");
        out += "scriptlets: " + slurp(dir / "var/log/hello-scriptlets.log");
        out += "%post: " + slurp(dir / "etc/imgcreate-post");
        out += "localtime -> " + fs::read_symlink(dir / "etc/localtime").string() + "\n";
        out += "mtab -> " + fs::read_symlink(dir / "etc/mtab").string() + "\n";
        out += "fstab: " + slurp(dir / "etc/fstab").substr(0, slurp(dir / "etc/fstab").find('\n') + 1);
        out += "dev, proc, sys entries: " +
               std::to_string(entries_of(dir / "dev").size() + entries_of(dir / "proc").size() + entries_of(dir / "sys").size()) + "\n";
        m.unmount();
        fs::remove(dir);
        return out;
    });
    CHECK(inside ==
          "usr/bin/hello present\n"
          "usr/bin/busybox present\n"
          "usr/lib/sysimage/rpm/rpmdb.sqlite present\n"
          "scriptlets: pre 1\npost 1\n"
          "%post: configured in a chroot\n"
          "localtime -> ../usr/share/zoneinfo/Europe/Berlin\n"
          "mtab -> /proc/self/mounts\n"
          "fstab: /dev/root  /         ext4    defaults,noatime 0 0\n"
          "dev, proc, sys entries: 0\n");

    CHECK(entries_of(tmp.path / "tmp").empty());
    CHECK(mount_points_below(tmp.path).empty());
    CHECK(loops_below_after_settling(tmp.path).empty());
}

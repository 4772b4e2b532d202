// LoopMount + CopyStage through the Creator: the image a user gets, checked with the tools a
// user would use on it (e2fsck, blkid, debugfs, a mount).
#include <catch2/catch.hpp>

#include "system/mount/fixture.hpp"

#include <imgcreate/imgcreate.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/libmount.hpp>
#include <imgcreate/mount/loop_device.hpp>
#include <imgcreate/mount/loop_mount.hpp>
#include <imgcreate/mount/namespace.hpp>
#include <imgcreate/stage/copy_stage.hpp>
#include <imgcreate/support/root_path.hpp>
#include <support/skip.hpp>

#include <sys/stat.h>

using namespace imgcreate;
using namespace imgcreate::test;

namespace {

// Stands in for an rpm transaction: writes files, and reports what the root had mounted
// while it ran.
struct WriteFilesInstall {
    std::string marker = "first";
    void install(BuildContext& ctx) {
        RootDir root(ctx.install_root);
        root.mkdirs("etc");
        root.write_file("etc/" + marker, marker + "\n");
        root.mkdirs("usr/share/demo");
        root.write_file("usr/share/demo/payload", std::string(4 << 20, 'x'));
        std::vector<std::string> mounted;
        for (const auto& m : mounts_below(ctx.install_root)) {
            auto rel = m.string().substr(ctx.install_root.string().size());
            if (rel.rfind("/sys/", 0) != 0) mounted.push_back(rel);  // /sys's binds of sysfs directories
        }
        std::sort(mounted.begin(), mounted.end());
        std::string seen;
        for (const auto& m : mounted) seen += m + "\n";
        root.write_file("seen-mounts", seen);
    }
    KernelVersions kernel_versions(const BuildContext&) const { return {}; }
};

using TestLoopImage = Creator<LoopMount, WriteFilesInstall, NoBoot, CopyStage>;

CreatorOptions options_in(const ScratchDir& tmp, const std::string& name) {
    CreatorOptions o;
    o.name = name;
    o.tmpdir = tmp.path / "tmp";
    o.outdir = tmp.path / "out";
    o.cache_dir = tmp.path / "cache";
    return o;
}

std::shared_ptr<const kickstart::Kickstart> ks(const std::string& text) {
    return std::make_shared<kickstart::Kickstart>(kickstart::parse_string(text));
}

std::string command_output(std::vector<std::string> argv) {
    Command cmd;
    cmd.argv = std::move(argv);
    cmd.check = false;
    return run(cmd).output;
}

std::string debugfs_cat(const fs::path& image, const std::string& file) {
    // Output and errors come interleaved: drop debugfs's version banner.
    auto out = command_output({"debugfs", "-R", "cat " + file, image.string()});
    if (out.rfind("debugfs ", 0) == 0) out.erase(0, out.find('\n') + 1);
    while (!out.empty() && out.front() == '\n') out.erase(0, 1);
    return out;
}

// Mounts the finished image read-only (in a child, in its own namespace) and lists what a
// user would look at.
std::string look_inside(const fs::path& image) {
    return in_child([image] {
        mount::enter_private_mount_namespace();
        auto loop = mount::LoopDevice::attach(image, true);
        auto dir = image.parent_path() / "look";
        fs::create_directory(dir);
        auto m = mount::Mount::mount({loop.path().string(), dir, "", "ro"});
        std::string out;
        for (const char* f : {"etc/first", "etc/second", "etc/fstab", "usr/share/demo/payload"})
            out += std::string(f) + (fs::exists(dir / f) ? " present\n" : " missing\n");
        out += "etc/mtab -> " + fs::read_symlink(dir / "etc/mtab").string() + "\n";
        out += "dev entries: " + std::to_string(entries_of(dir / "dev").size()) + "\n";
        m.unmount();
        fs::remove(dir);
        return out;
    });
}

}  // namespace

TEST_CASE("a loop image build gives a minimised, sparse, clean ext4 image holding what was installed") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    auto report = in_child([&] {
        TestLoopImage creator(ks("part / --size 128 --fstype ext4\n"), options_in(tmp, "demo"));
        return creator.create().string();
    });
    const auto image = tmp.path / "out/demo.img";
    REQUIRE(report == image.string());

    // Minimised: far below the 128 MiB asked for, and still sparse.
    const auto size = fs::file_size(image);
    CHECK(size < (32u << 20));
    struct stat st {};
    REQUIRE(::stat(image.c_str(), &st) == 0);
    CHECK(static_cast<std::uintmax_t>(st.st_blocks) * 512 <= size);

    Command fsck;
    fsck.argv = {"e2fsck", "-fn", image.string()};
    fsck.check = false;
    CHECK(run(fsck).exit_status == 0);
    CHECK(command_output({"blkid", "-o", "value", "-s", "LABEL", image.string()}) == "_demo\n");
    CHECK(command_output({"blkid", "-o", "value", "-s", "TYPE", image.string()}) == "ext4\n");

    // While the install ran, the root had its API filesystems and the cache; none is in the image.
    CHECK(debugfs_cat(image, "/seen-mounts") == "/dev\n/dev/pts\n/dev/shm\n/proc\n/sys\n/var/cache/dnf\n");
    CHECK(debugfs_cat(image, "/etc/fstab").rfind("/dev/root  /         ext4    defaults,noatime 0 0\n", 0) == 0);
    CHECK(look_inside(image) ==
          "etc/first present\n"
          "etc/second missing\n"
          "etc/fstab present\n"
          "usr/share/demo/payload present\n"
          "etc/mtab -> /proc/self/mounts\n"
          "dev entries: 0\n");

    // Nothing of the build is left: no build dir, no mount, no loop device.
    CHECK(entries_of(tmp.path / "tmp").empty());
    CHECK(mount_points_below(tmp.path).empty());
    CHECK(loops_below_after_settling(tmp.path).empty());
}

TEST_CASE("xfs and btrfs images get their label rule and keep their size, sparse") {
    IMGCREATE_REQUIRE_ROOT();
    struct Case {
        std::string fstype;
        unsigned size_mib;
        std::string label;
    };
    for (const auto& c : {Case{"xfs", 300, "_Fedora-Work"}, Case{"btrfs", 160, "_Fedora-Workstation-Live"}}) {
        INFO(c.fstype);
        if (find_program("mkfs." + c.fstype).empty()) continue;
        ScratchDir tmp;
        auto options = options_in(tmp, "img");
        options.fslabel = "Fedora-Workstation-Live";
        auto report = in_child([&] {
            TestLoopImage creator(ks("part / --size " + std::to_string(c.size_mib) + " --fstype " + c.fstype + "\n"), options);
            return creator.create().string();
        });
        const auto image = tmp.path / "out/img.img";
        REQUIRE(report == image.string());
        CHECK(fs::file_size(image) == (std::uintmax_t{c.size_mib} << 20));
        struct stat st {};
        REQUIRE(::stat(image.c_str(), &st) == 0);
        CHECK(static_cast<std::uintmax_t>(st.st_blocks) * 512 < fs::file_size(image) / 2);
        CHECK(command_output({"blkid", "-o", "value", "-s", "LABEL", image.string()}) == c.label + "\n");
        CHECK(command_output({"blkid", "-o", "value", "-s", "TYPE", image.string()}) == c.fstype + "\n");
        CHECK(look_inside(image).rfind("etc/first present\n", 0) == 0);
        CHECK(entries_of(tmp.path / "tmp").empty());
        CHECK(loops_below_after_settling(tmp.path).empty());
    }
}

TEST_CASE("a loop image with a name longer than a CD label is built under that name, labelled with its start") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    const std::string name = "appliance-with-a-name-longer-than-32-characters";
    auto report = in_child([&] {
        TestLoopImage creator(ks("part / --size 64\n"), options_in(tmp, name));
        return creator.create().string();
    });
    const auto image = tmp.path / "out" / (name + ".img");
    REQUIRE(report == image.string());
    CHECK(command_output({"blkid", "-o", "value", "-s", "LABEL", image.string()}) == "_appliance-with-\n");
    CHECK(look_inside(image).rfind("etc/first present\n", 0) == 0);
    CHECK(loops_below_after_settling(tmp.path).empty());
}

// A 64 MiB image holding etc/first, built in tmp's out dir as base.img, to build on (--base-on).
static std::string base_image(const ScratchDir& tmp) {
    auto image = in_child([&] {
        TestLoopImage creator(ks("part / --size 64\n"), options_in(tmp, "base"));
        return creator.create().string();
    });
    REQUIRE(image == (tmp.path / "out/base.img").string());
    return image;
}

TEST_CASE("building on an earlier image (--base-on) copies it, grows it to the kickstart's size and adds to it") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    const auto first = base_image(tmp);
    const auto base_size = fs::file_size(first);

    auto options = options_in(tmp, "grown");
    options.base_on = first;
    options.skip_minimize = true;
    auto second = in_child([&] {
        TestLoopImage creator(ks("part / --size 256\n"), options, {}, WriteFilesInstall{"second"});
        return creator.create().string();
    });
    REQUIRE(second == (tmp.path / "out/grown.img").string());
    CHECK(fs::file_size(second) == (256u << 20));
    CHECK(fs::file_size(first) == base_size);  // the base image itself is untouched
    Command fsck;
    fsck.argv = {"e2fsck", "-fn", second};
    fsck.check = false;
    CHECK(run(fsck).exit_status == 0);
    auto inside = look_inside(second);
    CHECK(inside.rfind("etc/first present\netc/second present\n", 0) == 0);
    CHECK(loops_below_after_settling(tmp.path).empty());
}

TEST_CASE("a kickstart without a repository is refused before its %pre runs, unless it opens a --base-on image as it is") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    const auto base = base_image(tmp);
    const std::string no_repo = "part / --size 64\n%pre\ntouch " + (tmp.path / "pre-ran").string() + "\n%end\n";

    // From nothing, LoopImage's RpmInstall could only fail after the image is made.
    auto refused = in_child([&] {
        LoopImage creator(ks(no_repo), options_in(tmp, "fresh"));
        try {
            creator.mount();
            return std::string("mounted");
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
    });
    CHECK(refused.rfind("no package repository: add a 'repo --name=... --baseurl=...' line", 0) == 0);
    CHECK_FALSE(fs::exists(tmp.path / "pre-ran"));
    CHECK(entries_of(tmp.path / "tmp").empty());

    // livecd-creator -l --base-on: the base is opened for editing and nothing is installed.
    auto options = options_in(tmp, "edited");
    options.base_on = base;
    options.skip_minimize = true;
    auto edited = in_child([&] {
        LoopImage creator(ks(no_repo), options);
        creator.mount();
        creator.skip_install();
        creator.configure();
        creator.unmount();
        return creator.package().string();
    });
    CHECK(edited == (tmp.path / "out/edited.img").string());
    CHECK(fs::exists(tmp.path / "pre-ran"));
    CHECK(look_inside(edited).rfind("etc/first present\n", 0) == 0);
    CHECK(loops_below_after_settling(tmp.path).empty());
}

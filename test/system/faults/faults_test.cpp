// Faults during a loop image build: signals at each step, an exception in each step,
// SIGKILL, a full image, a missing mkfs, an unwritable output dir. Each build runs in a
// forked child; the test then checks the host: no mount below the scratch dir, no loop device
// bound to a file in it, no build dir, no output. Signalled and failed builds also check
// their own namespace before exiting: the cleanup itself, not the namespace's death, must
// have taken every mount down.
#include <catch2/catch.hpp>

#include "system/mount/fixture.hpp"

#include <imgcreate/imgcreate.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/libmount.hpp>
#include <imgcreate/mount/loop_mount.hpp>
#include <imgcreate/mount/namespace.hpp>
#include <imgcreate/stage/copy_stage.hpp>
#include <imgcreate/support/interrupt.hpp>
#include <imgcreate/support/root_path.hpp>
#include <support/skip.hpp>

#include <csignal>

using namespace imgcreate;
using namespace imgcreate::test;

namespace {

// Where the injected fault strikes, and how.
struct FaultPlan {
    enum class Action { none, pause, fail, fill };
    std::string step;
    Action action = Action::none;
    fs::path markers;  // "<markers>/at-<step>" appears when a paused build reaches its step
    fs::path localtime_target;  // non-empty: the "package" ships /etc/localtime -> this host path
};

FaultPlan& plan() {
    static FaultPlan p;
    return p;
}

void fault_point(const std::string& step) {
    const auto& p = plan();
    if (p.step != step) return;
    if (p.action == FaultPlan::Action::fail) throw Error("injected failure in the " + step + " step", step);
    if (p.action != FaultPlan::Action::pause) return;
    std::ofstream(p.markers / ("at-" + step)).close();
    for (int i = 0; i < 6000; ++i) {
        check_interrupted();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw Error("fault test: no signal came");
}

template <typename Base> struct FaultMountOf : Base {
    void mount(BuildContext& ctx) {
        Base::mount(ctx);
        fault_point("mount");
    }
};
using FaultMount = FaultMountOf<LoopMount>;
using FaultTreeMount = FaultMountOf<MkfsMount>;

struct FaultInstall {
    void install(BuildContext& ctx) {
        RootDir root(ctx.install_root);
        root.mkdirs("etc");
        root.write_file("etc/os-release", "NAME=Demo\n");
        // A shell for %post scripts: the host's static busybox.
        root.mkdirs("bin");
        fs::copy_file("/usr/bin/busybox", ctx.install_root / "bin/busybox");
        root.symlink("bin/sh", "busybox");
        if (!plan().localtime_target.empty()) root.symlink("etc/localtime", plan().localtime_target.string());
        if (plan().step == "install" && plan().action == FaultPlan::Action::fill) {
            // More than `part / --size` holds.
            std::string chunk(1 << 20, 'x');
            for (int i = 0; i < 256; ++i) root.append_file("payload", chunk);
        }
        fault_point("install");
    }
    KernelVersions kernel_versions(const BuildContext&) const { return {}; }
};

struct FaultBoot {
    void before_install(BuildContext&) {}
    void configure_boot(BuildContext&) { fault_point("configure"); }
    void before_unmount(BuildContext&) { fault_point("unmount"); }
};

struct FaultStage {
    std::filesystem::path package(BuildContext& ctx) {
        fault_point("package");
        return CopyStage{}.package(ctx);
    }
};

using FaultImage = Creator<FaultMount, FaultInstall, FaultBoot, FaultStage>;
// --no-loop's composition: the tree in memory (or on disk), the image made from it by mkfs -d.
using FaultTreeImage = Creator<FaultTreeMount, FaultInstall, FaultBoot, FaultStage>;

CreatorOptions options_in(const ScratchDir& tmp) {
    CreatorOptions o;
    o.name = "fault";
    o.tmpdir = tmp.path / "tmp";
    o.outdir = tmp.path / "out";
    o.cache_dir = tmp.path / "cache";
    return o;
}

// The child's side: runs the build, then reports how it ended and what its own namespace
// still holds below the scratch dir.
template <typename Image = FaultImage>
std::string build(const ScratchDir& tmp, const std::string& kickstart = "part / --size 64\n", CreatorOptions options = {}) {
    if (options.name.empty()) options = options_in(tmp);
    InterruptGuard guard;
    std::string outcome;
    {
        Image creator(std::make_shared<kickstart::Kickstart>(kickstart::parse_string(kickstart)), options);
        try {
            creator.create();
            outcome = "built";
            if constexpr (std::is_same_v<Image, FaultTreeImage>)
                outcome += creator.mount_policy().tree_in_memory() ? " from a tree in memory" : " from a tree on disk";
        } catch (const InterruptedError& e) {
            outcome = e.what();
        } catch (const std::exception& e) {
            outcome = std::string("failed: ") + e.what();
        }
    }
    auto left = mount_points_below(tmp.path / "tmp");
    outcome += "\nmounts left in the build's namespace: " + std::to_string(left.size());
    for (const auto& m : left) outcome += "\n  " + m;
    return outcome;
}

// The host's side: nothing of the build may remain.
void check_nothing_left(const ScratchDir& tmp) {
    CHECK(mount_points_below(tmp.path).empty());
    CHECK(loops_below_after_settling(tmp.path).empty());
    CHECK(entries_of(tmp.path / "tmp").empty());
    CHECK(entries_of(tmp.path / "out").empty());
}

const char* const steps[] = {"mount", "install", "configure", "unmount", "package"};

}  // namespace

TEST_CASE("SIGINT or SIGTERM during any step stops the build and leaves nothing behind") {
    IMGCREATE_REQUIRE_ROOT();
    for (int sig : {SIGINT, SIGTERM}) {
        for (const char* step : steps) {
            INFO("signal " << sig << " during " << step);
            ScratchDir tmp;
            plan() = {step, FaultPlan::Action::pause, tmp.path};
            Child child([&] { return build(tmp); });
            REQUIRE(wait_for_file(tmp.path / (std::string("at-") + step)));
            child.signal(sig);
            CHECK(child.wait() == std::string("interrupted by ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                                      "\nmounts left in the build's namespace: 0");
            check_nothing_left(tmp);
        }
    }
    plan() = {};
}

TEST_CASE("an exception in any step unwinds the build and leaves nothing behind") {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* step : steps) {
        INFO("failure in " << step);
        ScratchDir tmp;
        plan() = {step, FaultPlan::Action::fail, tmp.path};
        auto report = in_child([&] { return build(tmp); });
        CHECK(report == std::string("failed: injected failure in the ") + step +
                            " step\nmounts left in the build's namespace: 0");
        check_nothing_left(tmp);
    }
    plan() = {};
}

TEST_CASE("SIGKILL during install leaves no mount and no loop device: the namespace dies with the process") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    plan() = {"install", FaultPlan::Action::pause, tmp.path};
    Child child([&] { return build(tmp); });
    REQUIRE(wait_for_file(tmp.path / "at-install"));
    // While it runs, the build's mounts are invisible to the host, its loop device is not.
    CHECK(mount_points_below(tmp.path).empty());
    CHECK(loops_below(tmp.path).size() == 1);
    child.signal(SIGKILL);
    CHECK(child.exit_code() == 128 + SIGKILL);
    CHECK(mount_points_below(tmp.path).empty());
    CHECK(loops_below_after_settling(tmp.path).empty());
    // No code ran after the kill: the build dir (files only, nothing mounted) is all that
    // remains, for the user to delete.
    CHECK(entries_of(tmp.path / "tmp").size() == 1);
    CHECK(entries_of(tmp.path / "out").empty());
    plan() = {};
}

TEST_CASE("a payload bigger than part / --size fails with the size to raise") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    plan() = {"install", FaultPlan::Action::fill, tmp.path};
    auto report = in_child([&] { return build(tmp); });
    INFO(report);
    CHECK_THAT(report, Catch::StartsWith("failed: the image is full: raise part / --size (the image is 64 MiB; its ext4 "
                                         "filesystem has "));
    CHECK_THAT(report, Catch::Contains(" MiB free)\n  cannot write /payload in "));
    CHECK_THAT(report, Catch::Contains("No space left on device"));
    CHECK_THAT(report, Catch::EndsWith("\nmounts left in the build's namespace: 0"));
    check_nothing_left(tmp);
    plan() = {};
}

TEST_CASE("the --no-loop path holds its tree in memory and gives the image the tree on disk gives, byte for byte") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    plan() = {};
    auto options = options_in(tmp);
    options.source_date_epoch = 1700000000;
    // The image as MkfsMount writes it: minimising (e2fsck, resize2fs) stamps the current time.
    options.skip_minimize = true;
    CHECK(in_child([&] { return build<FaultTreeImage>(tmp, "part / --size 64\n", options); }) ==
          "built from a tree in memory\nmounts left in the build's namespace: 0");
    fs::rename(tmp.path / "out/fault.img", tmp.path / "in-memory.img");
    options.tree_on_disk = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // another second on the clock: the epoch must rule
    CHECK(in_child([&] { return build<FaultTreeImage>(tmp, "part / --size 64\n", options); }) ==
          "built from a tree on disk\nmounts left in the build's namespace: 0");
    const bool same_bytes = slurp(tmp.path / "out/fault.img") == slurp(tmp.path / "in-memory.img");
    CHECK(same_bytes);
    CHECK(entries_of(tmp.path / "tmp").empty());
}

TEST_CASE("the --no-loop path: SIGTERM or an exception in any step leaves nothing, an xfs root is made, and a full tree says the size to raise") {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* step : steps) {
        INFO("SIGTERM during " << step);
        ScratchDir tmp;
        plan() = {step, FaultPlan::Action::pause, tmp.path};
        Child child([&] { return build<FaultTreeImage>(tmp); });
        REQUIRE(wait_for_file(tmp.path / (std::string("at-") + step)));
        child.signal(SIGTERM);
        CHECK(child.wait() == "interrupted by SIGTERM\nmounts left in the build's namespace: 0");
        check_nothing_left(tmp);
    }
    for (const char* step : steps) {
        INFO("failure in " << step);
        ScratchDir tmp;
        plan() = {step, FaultPlan::Action::fail, tmp.path};
        CHECK(in_child([&] { return build<FaultTreeImage>(tmp); }) ==
              std::string("failed: injected failure in the ") + step + " step\nmounts left in the build's namespace: 0");
        check_nothing_left(tmp);
    }
    {
        ScratchDir tmp;
        plan() = {};
        CHECK(in_child([&] { return build<FaultTreeImage>(tmp, "part / --size 300 --fstype xfs\n"); }) ==
              "built from a tree in memory\nmounts left in the build's namespace: 0");
        Command repair;
        repair.argv = {"xfs_repair", "-n", "-f", (tmp.path / "out/fault.img").string()};
        repair.check = false;
        CHECK(run(repair).exit_status == 0);
        fs::remove(tmp.path / "out/fault.img");
        check_nothing_left(tmp);
    }
    ScratchDir tmp;
    plan() = {"install", FaultPlan::Action::fill, tmp.path};
    auto report = in_child([&] { return build<FaultTreeImage>(tmp); });
    INFO(report);
    CHECK_THAT(report, Catch::StartsWith("failed: the image is full: raise part / --size (the tree holds "));
    CHECK_THAT(report, Catch::Contains("the ext4 image is 64 MiB)\n  cannot write /payload in "));
    CHECK_THAT(report, Catch::EndsWith("\nmounts left in the build's namespace: 0"));
    check_nothing_left(tmp);
    plan() = {};
}

TEST_CASE("a missing mkfs tool is named with the package that provides it") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    plan() = {};
    auto report = in_child([&] {
        // A host without e2fsprogs, as far as this child can tell.
        mount::enter_private_mount_namespace();
        auto hidden = mount::Mount::mount({"/dev/null", "/usr/sbin/mkfs.ext4", "", "bind"});
        return build(tmp);
    });
    CHECK(report == "failed: required program 'mkfs.ext4' was not found on this host: install the 'e2fsprogs' "
                    "package\nmounts left in the build's namespace: 0");
    check_nothing_left(tmp);
}

TEST_CASE("an unwritable output dir is refused before the build starts, and leaves nothing behind") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    plan() = {};
    auto options = options_in(tmp);
    options.outdir = tmp.path / "readonly/out";
    auto report = in_child([&] {
        mount::enter_private_mount_namespace();
        fs::create_directories(tmp.path / "readonly");
        // Root writes anywhere a mode allows nothing: only a read-only mount stops it.
        auto ro = mount::Mount::mount({"tmpfs", tmp.path / "readonly", "tmpfs", "ro,size=1m"});
        // the %pre, the first thing a build runs, must not: nothing is done for a build that cannot finish
        auto r = build(tmp, "part / --size 64\n%pre\ntouch " + (tmp.path / "pre-ran").string() + "\n%end\n", options);
        ro.unmount();
        return r;
    });
    CHECK(report == "failed: cannot create the output directory " + options.outdir.string() +
                        ": Read-only file system (choose another with -o/--output)\nmounts left in the build's namespace: 0");
    check_nothing_left(tmp);
    CHECK_FALSE(fs::exists(tmp.path / "pre-ran"));
    CHECK_FALSE(fs::exists(tmp.path / "readonly/out"));
}

TEST_CASE("a %post --erroronfail script that exits 1 aborts the build and leaves nothing behind") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("busybox");
    ScratchDir tmp;
    plan() = {};
    auto report = in_child([&] { return build(tmp, "part / --size 64\n%post --erroronfail\necho giving up\nexit 1\n%end\n"); });
    INFO(report);
    CHECK_THAT(report, Catch::StartsWith("failed: %post"));
    CHECK_THAT(report, Catch::Contains("giving up"));
    CHECK_THAT(report, Catch::EndsWith("\nmounts left in the build's namespace: 0"));
    check_nothing_left(tmp);
}

TEST_CASE("a package that ships /etc/localtime as a symlink to a host path gets nothing written outside the root") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("busybox");
    ScratchDir tmp;
    const auto host_file = tmp.path / "host-localtime";
    std::ofstream(host_file) << "the host's zone\n";
    plan() = {};
    plan().localtime_target = host_file;
    auto report = in_child([&] { return build(tmp, "part / --size 64\ntimezone Europe/Berlin\n"); });
    plan() = {};
    CHECK(report == "built\nmounts left in the build's namespace: 0");
    CHECK(slurp(host_file) == "the host's zone\n");
    CHECK(fs::is_regular_file(fs::symlink_status(host_file)));
    const auto image = tmp.path / "out/fault.img";
    auto inside = in_child([&] {
        mount::enter_private_mount_namespace();
        auto loop = mount::LoopDevice::attach(image, true);
        auto dir = tmp.path / "look";
        fs::create_directory(dir);
        auto m = mount::Mount::mount({loop.path().string(), dir, "", "ro"});
        auto target = fs::read_symlink(dir / "etc/localtime").string();
        m.unmount();
        fs::remove(dir);
        return target;
    });
    CHECK(inside == "../usr/share/zoneinfo/Europe/Berlin");
    CHECK(mount_points_below(tmp.path).empty());
    CHECK(loops_below_after_settling(tmp.path).empty());
    CHECK(entries_of(tmp.path / "tmp").empty());
}

TEST_CASE("with nocleanup a failed build keeps its build dir, with the image, but nothing mounted or bound") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    plan() = {"configure", FaultPlan::Action::fail, tmp.path};
    auto options = options_in(tmp);
    options.nocleanup = true;
    auto report = in_child([&] { return build(tmp, "part / --size 64\n", options); });
    plan() = {};
    CHECK(report == "failed: injected failure in the configure step\nmounts left in the build's namespace: 0");
    CHECK(mount_points_below(tmp.path).empty());
    CHECK(loops_below_after_settling(tmp.path).empty());
    const auto builds = entries_of(tmp.path / "tmp");
    REQUIRE(builds.size() == 1);
    const auto build_dir = tmp.path / "tmp" / builds.front();
    CHECK(fs::is_regular_file(build_dir / "root.img"));
    CHECK(fs::is_empty(build_dir / "install_root"));
    CHECK(entries_of(tmp.path / "out").empty());
}

TEST_CASE("a daemon a %post script leaves running in the root is stopped, so every mount comes down") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("busybox");
    ScratchDir tmp;
    plan() = {};
    auto report = in_child([&] {
        return build(tmp, "part / --size 64\n%post\nbusybox sleep 600 </dev/null >/dev/null 2>&1 &\n%end\n");
    });
    CHECK(report == "built\nmounts left in the build's namespace: 0");
    CHECK(fs::exists(tmp.path / "out/fault.img"));
    CHECK(mount_points_below(tmp.path).empty());
    CHECK(loops_below_after_settling(tmp.path).empty());
    CHECK(entries_of(tmp.path / "tmp").empty());
}

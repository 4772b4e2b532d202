// Loop devices, libmount handles, the private namespace and the API filesystems.
#include <catch2/catch.hpp>

#include "system/mount/fixture.hpp"

#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/api_filesystems.hpp>
#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/libmount.hpp>
#include <imgcreate/mount/loop_device.hpp>
#include <imgcreate/mount/namespace.hpp>
#include <support/skip.hpp>

#include <set>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

using namespace imgcreate;
using namespace imgcreate::test;

namespace {

fs::path sparse_file(const fs::path& dir, const std::string& name, std::uintmax_t mib) {
    auto file = dir / name;
    std::ofstream(file).close();
    fs::resize_file(file, mib << 20);
    return file;
}

long statfs_type(const fs::path& p) {
    struct statfs st {};
    return ::statfs(p.c_str(), &st) == 0 ? static_cast<long>(st.f_type) : 0;
}

bool has_line_containing(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("a loop device is bound with autoclear and released when its last holder goes") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    auto image = sparse_file(tmp.path, "disk.img", 16);
    fs::path device;
    {
        auto loop = mount::LoopDevice::attach(image);
        device = loop.path();
        CHECK(loops_below(tmp.path) == std::vector<std::string>{device.string() + " -> " + image.string()});
        auto flags = slurp("/sys/block/" + device.filename().string() + "/loop/autoclear");
        CHECK(flags == "1\n");
    }
    CHECK(loops_below_after_settling(tmp.path).empty());
}

TEST_CASE("loop devices past /dev/loop7 get their device node made") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    std::vector<mount::LoopDevice> held;
    for (int i = 0; i < 9; ++i) held.push_back(mount::LoopDevice::attach(sparse_file(tmp.path, std::to_string(i) + ".img", 1)));
    int highest = 0;
    for (const auto& loop : held) {
        highest = std::max(highest, loop.number());
        struct stat st {};
        REQUIRE(::stat(loop.path().c_str(), &st) == 0);
        CHECK(S_ISBLK(st.st_mode));
        CHECK(major(st.st_rdev) == 7);
        CHECK(static_cast<int>(minor(st.st_rdev)) == loop.number());
    }
    CHECK(highest >= 8);
    CHECK(loops_below(tmp.path).size() == 9);
    held.clear();
    CHECK(loops_below_after_settling(tmp.path).empty());
}

TEST_CASE("a mount handle unmounts on destruction, and a busy mount names the processes holding it") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    auto target = tmp.path / "mnt";
    fs::create_directory(target);
    {
        auto m = mount::Mount::mount({"tmpfs", target, "tmpfs", "size=1m"});
        CHECK(mount_points_below(tmp.path) == std::vector<std::string>{target.string()});
        fs::create_directory(target / "held");

        pid_t sleeper = ::fork();
        if (sleeper == 0) {
            if (::chdir((target / "held").c_str()) != 0) ::_exit(1);
            ::execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
            ::_exit(1);
        }
        // Wait until the sleeper sits in the mount.
        for (int i = 0; i < 400 && fs::read_symlink("/proc/" + std::to_string(sleeper) + "/cwd").string() != (target / "held").string(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        for (int i = 0; i < 400 && slurp("/proc/" + std::to_string(sleeper) + "/comm") != "sleep\n"; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));

        std::string message;
        try {
            m.unmount();
        } catch (const MountError& e) {
            message = e.what();
        }
        CHECK(has_line_containing(message, "cannot unmount " + target.string() + ": it is busy; stop these processes"));
        CHECK(has_line_containing(message, "pid " + std::to_string(sleeper) + " (sleep): cwd"));
        CHECK(m.mounted());
        CHECK(mount_points_below(tmp.path) == std::vector<std::string>{target.string()});
        ::kill(sleeper, SIGKILL);
        ::waitpid(sleeper, nullptr, 0);
    }
    CHECK(mount_points_below(tmp.path).empty());
}

TEST_CASE("mounts made in the build's namespace never reach the host, even below a shared mount") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    // "/" is private on this host, so make the propagation the namespace must stop.
    auto shared = tmp.path / "shared";
    fs::create_directories(shared);
    auto outer = mount::Mount::mount({"tmpfs", shared, "tmpfs", "size=1m"});
    REQUIRE(::mount(nullptr, shared.c_str(), nullptr, MS_SHARED, nullptr) == 0);
    fs::create_directory(shared / "inner");
    auto marker = tmp.path / "mounted";

    auto mount_inside = [&](bool private_namespace) {
        return [=] {
            if (private_namespace) {
                mount::enter_private_mount_namespace();
            } else if (::unshare(CLONE_NEWNS) != 0) {
                return std::string("unshare failed");
            }
            auto m = mount::Mount::mount({"tmpfs", shared / "inner", "tmpfs", "size=1m"});
            std::ofstream(marker).close();
            while (fs::exists(marker)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
            return std::string("ok");
        };
    };

    SECTION("a plain new namespace lets the mount through (the test can fail)") {
        Child child(mount_inside(false));
        REQUIRE(wait_for_file(marker));
        CHECK(mount_points_below(shared).size() == 2);
        fs::remove(marker);
        CHECK(child.wait() == "ok");
        // The child's unmount propagated back as well.
        CHECK(mount_points_below(shared).size() == 1);
    }
    SECTION("the build's private namespace keeps it in") {
        Child child(mount_inside(true));
        REQUIRE(wait_for_file(marker));
        CHECK(mount_points_below(shared) == std::vector<std::string>{shared.string()});
        fs::remove(marker);
        CHECK(child.wait() == "ok");
    }
    outer.unmount();
    CHECK(mount_points_below(tmp.path).empty());
}

TEST_CASE("the API filesystems give the root /proc, /sys, a minimal /dev, the cache, mtab and fstab, and go away") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir tmp;
    auto report = in_child([&] {
        mount::enter_private_mount_namespace();
        BuildContext ctx;
        ctx.build_dir = tmp.path;
        ctx.install_root = tmp.path / "root";
        ctx.options.cache_dir = tmp.path / "cache";
        fs::create_directories(ctx.install_root);
        mount::ApiFilesystems api;
        api.mount(ctx, mount::default_fstab("ext4"));
        std::ostringstream out;
        auto mounted = mount_points_below(ctx.install_root);
        std::sort(mounted.begin(), mounted.end());
        std::set<std::string> sys_binds;
        for (const auto& m : mounted) {
            const auto rel = m.substr(ctx.install_root.string().size());
            if (rel.rfind("/sys/", 0) == 0) sys_binds.insert(rel);
            else out << "mount " << rel << "\n";
        }
        // /sys is a tmpfs holding read-only binds of a fresh sysfs's directories.
        out << "sys binds devices, class, kernel: "
            << (sys_binds.count("/sys/devices") && sys_binds.count("/sys/class") && sys_binds.count("/sys/kernel")) << "\n";
        out << "sys is a tmpfs: " << (statfs_type(ctx.install_root / "sys") == TMPFS_MAGIC) << "\n";
        out << "sys/class links resolve: " << fs::exists(ctx.install_root / "sys/class/mem/null/dev") << "\n";
        const auto root = ctx.install_root;
        out << "proc self: " << fs::exists(root / "proc/self/status") << "\n";
        out << "sys read-only: " << (::access((root / "sys/kernel").c_str(), W_OK) != 0 && errno == EROFS) << "\n";
        for (const char* node : {"null", "zero", "full", "random", "urandom", "tty", "ptmx"}) {
            struct stat st {};
            ::lstat((root / "dev" / node).c_str(), &st);
            out << node << " " << major(st.st_rdev) << ":" << minor(st.st_rdev) << " " << std::oct << (st.st_mode & 07777)
                << std::dec << (S_ISCHR(st.st_mode) ? " char" : " not-char") << "\n";
        }
        for (const char* link : {"fd", "stdin", "stdout", "stderr"}) out << link << " -> " << fs::read_symlink(root / "dev" / link).string() << "\n";
        out << "etc/mtab -> " << fs::read_symlink(root / "etc/mtab").string() << "\n";
        auto fstab = slurp(root / "etc/fstab");
        out << "fstab: " << fstab.substr(0, fstab.find('\n')) << "\n";
        std::ofstream(root / "var/cache/dnf/written-in-root").close();
        out << "cache bound: " << fs::exists(tmp.path / "cache/written-in-root") << "\n";
        out << "cleanup actions: one per mount and the process stop: " << (ctx.cleanup.size() == mounted.size() + 1) << "\n";
        api.unmount(ctx);
        out << "after unmount: " << mount_points_below(ctx.install_root).size() << " mounts, " << ctx.cleanup.size()
            << " cleanup actions, /dev holds " << entries_of(root / "dev").size() << " entries\n";
        return out.str();
    });
    CHECK(report ==
          "mount /dev\n"
          "mount /dev/pts\n"
          "mount /dev/shm\n"
          "mount /proc\n"
          "mount /sys\n"
          "mount /var/cache/dnf\n"
          "sys binds devices, class, kernel: 1\n"
          "sys is a tmpfs: 1\n"
          "sys/class links resolve: 1\n"
          "proc self: 1\n"
          "sys read-only: 1\n"
          "null 1:3 666 char\n"
          "zero 1:5 666 char\n"
          "full 1:7 666 char\n"
          "random 1:8 666 char\n"
          "urandom 1:9 666 char\n"
          "tty 5:0 666 char\n"
          "ptmx 5:2 666 char\n"
          "fd -> /proc/self/fd\n"
          "stdin -> /proc/self/fd/0\n"
          "stdout -> /proc/self/fd/1\n"
          "stderr -> /proc/self/fd/2\n"
          "etc/mtab -> /proc/self/mounts\n"
          "fstab: /dev/root  /         ext4    defaults,noatime 0 0\n"
          "cache bound: 1\n"
          "cleanup actions: one per mount and the process stop: 1\n"
          "after unmount: 0 mounts, 0 cleanup actions, /dev holds 0 entries\n");
    CHECK(mount_points_below(tmp.path).empty());
}

TEST_CASE("the filesystem label follows livecd-tools: an underscore, then the label cut to the filesystem's limit") {
    CHECK(mount::filesystem_label("ext4", "Fedora-Workstation-Live") == "_Fedora-Workstat");
    CHECK(mount::filesystem_label("xfs", "Fedora-Workstation-Live") == "_Fedora-Work");
    CHECK(mount::filesystem_label("btrfs", "Fedora-Workstation-Live") == "_Fedora-Workstation-Live");
    BuildContext ctx;
    ctx.options.name = "demo";
    CHECK(mount::root_filesystem(ctx).label == "_demo");
    ctx.options.name = "Fedora-Workstation-Live-Rawhide-x86_64";  // without a label, the name cut to 32 is one
    ctx.kickstart = std::make_shared<kickstart::Kickstart>(kickstart::parse_string("part / --size 300 --fstype btrfs\n"));
    CHECK(mount::root_filesystem(ctx).label == "_Fedora-Workstation-Live-Rawhide-");
    ctx.kickstart.reset();
    ctx.options.name = "demo";
    CHECK(mount::root_filesystem(ctx).size_mib == 4096);
    CHECK(mount::root_filesystem(ctx).fstype == "ext4");
    ctx.kickstart = std::make_shared<kickstart::Kickstart>(kickstart::parse_string("part / --size 300 --fstype xfs\n"));
    ctx.options.fslabel = "My-Very-Long-Label";
    auto spec = mount::root_filesystem(ctx);
    CHECK(spec.fstype == "xfs");
    CHECK(spec.size_mib == 300);
    CHECK(spec.label == "_My-Very-Lon");
    ctx.kickstart = std::make_shared<kickstart::Kickstart>(kickstart::parse_string("part / --size 64 --fstype vfat\n"));
    CHECK_THROWS_WITH(mount::root_filesystem(ctx), "part / --fstype vfat is not supported for a loop image: use ext4 "
                                                   "(the default), ext3, ext2, xfs or btrfs");
    ctx.kickstart = std::make_shared<kickstart::Kickstart>(kickstart::parse_string("part / --size 100 --fstype xfs\n"));
    CHECK_THROWS_WITH(mount::root_filesystem(ctx), "part / --size 100 is too small for xfs: it needs at least 300 MiB");
}

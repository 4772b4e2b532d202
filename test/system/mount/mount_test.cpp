// Loop devices, libmount handles, the private namespace and the API filesystems.
#include <catch2/catch.hpp>

#include "system/mount/fixture.hpp"

#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/api_filesystems.hpp>
#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/libmount.hpp>
#include <imgcreate/mount/loop_device.hpp>
#include <imgcreate/mount/namespace.hpp>
#include <imgcreate/mount/tree_filesystem.hpp>
#include <imgcreate/support/process.hpp>
#include <support/skip.hpp>

#include <array>
#include <set>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

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

TEST_CASE("a spin's part / after its base's sizes the root, as livecd-creator reads the lines: the last size, the first type and label") {
    BuildContext ctx;
    ctx.options.name = "spin";
    auto with = [&](const std::string& text) {
        ctx.kickstart = std::make_shared<kickstart::Kickstart>(kickstart::parse_string(text, "spin.ks"));
        return mount::root_filesystem(ctx);
    };
    auto spec = with("part / --fstype=\"ext4\" --size=5120\npart / --size=9000\n");  // Fedora's KDE live spin
    CHECK(spec.size_mib == 9000);
    CHECK(spec.fstype == "ext4");
    spec = with("part / --fstype=xfs --size=5120 --label=base\npart / --size=7000 --fstype=btrfs --label=spin\npart / --fstype=ext4\n");
    CHECK(spec.size_mib == 7000);
    CHECK(spec.fstype == "xfs");
    CHECK(spec.label == "base");
    const auto kde = fs::path(IMGCREATE_SHARED_DIR) / "kickstarts/fedora/flattened/fedora-live-kde.ks";
    if (fs::exists(kde)) {
        ctx.kickstart = std::make_shared<kickstart::Kickstart>(kickstart::parse_file(kde.string()));
        CHECK(mount::root_filesystem(ctx).size_mib == 9000);
    }
}

namespace {

void set_xattr(const fs::path& p, const std::string& name, const std::string& value) {
    REQUIRE(::lsetxattr(p.c_str(), name.c_str(), value.data(), value.size(), 0) == 0);
}

std::string get_xattr(const fs::path& p, const std::string& name) {
    char value[512];
    const auto n = ::lgetxattr(p.c_str(), name.c_str(), value, sizeof value);
    return n < 0 ? std::string("(none)") : std::string(value, static_cast<std::size_t>(n));
}

// A directory of `count` empty files named so that its short-form entries take 6 + count *
// (8 + name_length) bytes in an xfs inode.
void directory_of(const fs::path& dir, int count, std::size_t name_length) {
    fs::create_directories(dir);
    for (int i = 0; i < count; ++i) {
        auto name = std::to_string(i);
        name = std::string(name_length - name.size(), 'f') + name;
        std::ofstream(dir / name).close();
    }
}

// A POSIX ACL as the kernel gives it: version 2, then per entry tag, perm and id (little-endian).
std::string acl_xattr(const std::vector<std::array<unsigned, 3>>& entries) {
    std::string v = {2, 0, 0, 0};
    for (const auto& [tag, perm, id] : entries) {
        v += {static_cast<char>(tag), 0, static_cast<char>(perm), 0};
        for (int i = 0; i < 4; ++i) v += static_cast<char>((id >> (8 * i)) & 0xff);
    }
    return v;
}

}  // namespace

TEST_CASE("an xfs image made from a tree keeps labels, capabilities, ACLs, the sticky bit and times, in larger inodes when entries leave no room") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("mkfs.xfs");
    IMGCREATE_REQUIRE_PROGRAM("xfs_repair");
    ScratchDir tmp;
    const auto tree = tmp.path / "tree";
    // 22 entries of 6 + 22 * 16 = 358 bytes fit no 512-byte inode (336 for the data): block form.
    // 20 entries of 8 characters: 326 bytes fit, but not beside a 40-byte label: the image is
    // made again with 1024-byte inodes, where both fit.
    directory_of(tree / "etc/tight", 20, 8);
    directory_of(tree / "etc/block", 22, 8);
    fs::create_directories(tree / "tmp");
    ::chmod((tree / "tmp").c_str(), 01777);
    std::ofstream(tree / "ping") << "#!/bin/sh\n";
    fs::create_symlink("etc/tight", tree / "link");
    // a target longer than a 512-byte inode holds: mkfs.xfs 6.1 writes it right only in the inode
    const std::string long_target(400, 't');
    fs::create_symlink(long_target, tree / "longlink");
    const std::string label = "system_u:object_r:etc_t:s0";
    for (auto it = fs::recursive_directory_iterator(tree); it != fs::recursive_directory_iterator(); ++it)
        set_xattr(it->path(), "security.selinux", label);
    set_xattr(tree, "security.selinux", "system_u:object_r:root_t:s0");
    // cap_net_raw=ep, as setcap writes it (VFS_CAP_REVISION_2)
    const std::string cap("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
    set_xattr(tree / "ping", "security.capability", cap);
    set_xattr(tree / "ping", "user.origin", "test");
    // an attribute that holds nothing (xfs_db cannot make one: the comparison below leaves it out)
    std::ofstream(tree / "notes") << "n\n";
    set_xattr(tree / "notes", "user.empty", "");
    // a device: its attribute fork goes right after the device number
    REQUIRE(::mknod((tree / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    set_xattr(tree / "null", "security.selinux", "system_u:object_r:null_device_t:s0");
    // user::rwx user:1000:rwx group::r-x mask::rwx other::r-x, and a default group:100:r-x
    const auto access = acl_xattr({{1, 7, 0xffffffff}, {2, 7, 1000}, {4, 5, 0xffffffff}, {0x10, 7, 0xffffffff}, {0x20, 5, 0xffffffff}});
    const auto defaults = acl_xattr({{1, 7, 0xffffffff}, {4, 5, 0xffffffff}, {8, 5, 100}, {0x10, 5, 0xffffffff}, {0x20, 5, 0xffffffff}});
    set_xattr(tree / "etc", "system.posix_acl_access", access);
    set_xattr(tree / "etc", "system.posix_acl_default", defaults);
    const struct timespec when[2] = {{1600000000, 123456789}, {1600000001, 987654321}};
    ::utimensat(AT_FDCWD, (tree / "etc/tight").c_str(), when, AT_SYMLINK_NOFOLLOW);

    mount::FilesystemSpec spec;
    spec.fstype = "xfs";
    spec.size_mib = 300;
    spec.mountpoint = "/";
    spec.label = "attrs";
    const auto image = tmp.path / "xfs.img";
    mount::make_filesystem_from_tree(spec, tree, image);
    // Reading a directory may move its access time (relatime): the image has the tree's as it is now.
    struct stat tight {};
    REQUIRE(::lstat((tree / "etc/tight").c_str(), &tight) == 0);
    CHECK(run({"xfs_repair", "-n", "-f", image.string()}).exit_status == 0);
    CHECK_THAT(run({"xfs_db", "-r", "-c", "sb 0", "-c", "print inodesize", image.string()}).output,
               Catch::Contains("inodesize = 1024"));

    // What the kernel reads back through a read-only loop mount, in a child's own namespace;
    // each line a difference.
    const auto differences = in_child([&] {
        mount::enter_private_mount_namespace();
        auto loop = mount::LoopDevice::attach(image, true);
        const auto m = tmp.path / "mnt";
        fs::create_directories(m);
        auto mounted = mount::Mount::mount({loop.path().string(), m, "xfs", "ro"});
        std::string out;
        auto expect = [&](const fs::path& p, const std::string& name, const std::string& want) {
            if (get_xattr(p, name) != want) out += p.lexically_relative(m).string() + " " + name + "\n";
        };
        for (const char* p : {"etc", "etc/tight", "etc/block", "etc/tight/ffffff19", "tmp", "link"})
            expect(m / p, "security.selinux", label);
        expect(m, "security.selinux", "system_u:object_r:root_t:s0");
        expect(m / "ping", "security.capability", cap);
        expect(m / "ping", "user.origin", "test");
        expect(m / "notes", "user.empty", "");
        expect(m / "null", "security.selinux", "system_u:object_r:null_device_t:s0");
        expect(m / "etc", "system.posix_acl_access", access);
        expect(m / "etc", "system.posix_acl_default", defaults);
        struct stat st {};
        if (::lstat((m / "tmp").c_str(), &st) != 0 || (st.st_mode & 07777) != 01777) out += "tmp mode\n";
        if (::lstat((m / "etc/tight").c_str(), &st) != 0 || st.st_mtim.tv_sec != 1600000001 ||
            st.st_mtim.tv_nsec != 987654321 || st.st_atim.tv_sec != tight.st_atim.tv_sec ||
            st.st_atim.tv_nsec != tight.st_atim.tv_nsec)
            out += "etc/tight times\n";
        if (std::distance(fs::directory_iterator(m / "etc/tight"), fs::directory_iterator()) != 20) out += "etc/tight entries\n";
        if (::lstat((m / "null").c_str(), &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) out += "null\n";
        std::error_code ec;
        if (fs::read_symlink(m / "longlink", ec).string() != long_target) out += "longlink " + ec.message() + "\n";
        mounted.unmount();
        return out;
    });
    CHECK(differences == "");

    // Each attribute fork is where xfs's own library puts it, holding what it writes: the same
    // inodes given the same attributes by xfs_db's attr_set (libxfs) in an image made with the
    // same prototype file read back the same. The change and creation times are the tree's.
    const auto oracle = tmp.path / "oracle.img";
    {
        std::ofstream(tmp.path / "proto") << mount::detail::xfs_protofile(tree);
        std::ofstream(oracle).close();
        fs::resize_file(oracle, 300 << 20);
        REQUIRE(run({"mkfs.xfs", "-q", "-i", "size=1024", "-p", (tmp.path / "proto").string(), oracle.string()}).exit_status == 0);
        std::string script;
        for (const char* p : {"/", "/etc", "/etc/tight", "/etc/block", "/ping", "/null", "/link"}) {
            script += std::string("path ") + p + "\n";
            const auto attrs = mount::detail::xfs_attrs(tree / fs::path(p).relative_path());
            for (std::size_t i = 0; i < attrs.size(); ++i) {
                const auto& a = attrs[i];
                const char* flag = a.flags == mount::xfs::attr_security ? "-s" : a.flags == mount::xfs::attr_trusted ? "-r" : "-u";
                script += std::string("attr_set ") + flag + " -v " + std::to_string(a.value.size()) + " " + a.name + "\n";
                if (a.value.empty()) continue;
                script += "write a.sfattr.list[" + std::to_string(i) + "].value #";
                for (unsigned char c : a.value) script += "0123456789abcdef"[c >> 4], script += "0123456789abcdef"[c & 15];
                script += "\n";
            }
        }
        Command db;
        db.argv = {"xfs_db", "-x", oracle.string()};
        db.input = script;
        db.log_output = false;
        run(db);
    }
    for (const char* p : {"/", "/etc", "/etc/tight", "/etc/block", "/ping", "/null", "/link"}) {
        INFO(p);
        auto fork = [&](const fs::path& img) {
            return run({"xfs_db", "-r", "-c", std::string("path ") + p, "-c", "print core.forkoff core.aformat core.naextents a",
                        img.string()}).output;
        };
        const auto ours = fork(image);
        CHECK_THAT(ours, Catch::Contains("a.sfattr.hdr.count"));
        CHECK(ours == fork(oracle));
    }
    struct stat ping {};
    REQUIRE(::lstat((tree / "ping").c_str(), &ping) == 0);
    auto nanoseconds = [&](const std::string& field) {
        return run({"xfs_db", "-r", "-c", "path /ping", "-c", "print " + field + ".nsec", image.string()}).output;
    };
    CHECK(nanoseconds("core.ctime") == "core.ctime.nsec = " + std::to_string(ping.st_ctim.tv_nsec) + "\n");
    CHECK(nanoseconds("v3.crtime") == "v3.crtime.nsec = " + std::to_string(ping.st_ctim.tv_nsec) + "\n");

    // A v5 filesystem is the default; a v4 one (no checksums, 100-byte inode cores, no creation
    // time) is made from the tree too when the kickstart asks for it.
    {
        auto v4 = spec;
        v4.mkfs_options = {"-m", "crc=0"};
        const auto old = tmp.path / "v4.img";
        mount::make_filesystem_from_tree(v4, tree, old);
        CHECK(run({"xfs_repair", "-n", "-f", old.string()}).exit_status == 0);
        const auto out = run({"xfs_db", "-r", "-c", "version", "-c", "path /etc/tight", "-c", "print core.mtime.nsec",
                              "-c", "path /tmp", "-c", "print core.mode", "-c", "path /ping", "-c", "print a", old.string()}).output;
        CHECK_THAT(out, Catch::Contains("V4,") && Catch::Contains("core.mtime.nsec = 987654321") &&
                            Catch::Contains("core.mode = 041777") && Catch::Contains("a.sfattr.hdr.count = 3"));
    }

    // A directory xfs_db could not name when it reads the image back is refused before mkfs.
    {
        const auto odd = tmp.path / "odd";
        fs::create_directories(odd / "carriage\rreturn");
        CHECK_THROWS_WITH(mount::make_filesystem_from_tree(spec, odd, tmp.path / "odd.img"),
                          Catch::Contains("xfs cannot be made from a tree holding the directory ") &&
                              Catch::Contains(": xfs_db, which reads it back, cannot name it"));
    }

    // The kickstart chose the inode size (part --mkfsoptions): no room is an error naming the directory.
    spec.mkfs_options = {"-i", "size=512"};
    CHECK_THROWS_WITH(mount::make_filesystem_from_tree(spec, tree, image),
                      "xfs cannot be made from this tree: /etc/tight holds 326 bytes of entries or extents and 40 of "
                      "extended attributes, and an inode has 336 for both (the inode size --mkfsoptions chose); drop "
                      "-i size= or use ext4 for part /");
}

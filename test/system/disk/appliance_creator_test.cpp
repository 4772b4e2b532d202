// appliance-creator end to end on the small test repository (a stand-in kernel, GRUB from the
// host): the disk converted to qcow2 with its checksum and description, read back offline; and
// a layout it cannot make refused before any work.
#include <catch2/catch.hpp>

#include <imgcreate/disk/btrfs_volume.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/tree_in_memory.hpp>
#include <imgcreate/support/process.hpp>
#include <support/rpmrepo.hpp>
#include <support/skip.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace imgcreate;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const fs::path appliance_creator = fs::path(IMGCREATE_BINARY_DIR) / "examples/appliance-creator";

struct Scratch {
    fs::path path;
    explicit Scratch(std::string tmpl = "/var/tmp/imgcreate-appliance-XXXXXX") {
        if (::mkdtemp(tmpl.data())) path = tmpl;
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

}  // namespace

// The user builds without root run as (the rootless tests' user), with a subordinate range.
const passwd& build_user() {
    static const passwd user = [] {
        const char* name = "imgcreate-rootless";
        if (!::getpwnam(name)) run({"useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name});
        Command has_range;
        has_range.argv = {"grep", "-q", std::string("^") + name + ":", "/etc/subuid"};
        has_range.check = false;
        if (run(has_range).exit_status != 0)
            run({"usermod", "--add-subuids", "300000-365535", "--add-subgids", "300000-365535", name});
        return *::getpwnam(name);
    }();
    return user;
}

namespace {

// A directory "user" in `scratch` that the build user owns (the scratch readable by it).
fs::path user_dir(const fs::path& scratch, const passwd& user) {
    fs::permissions(scratch, fs::perms(0755));
    const auto dir = scratch / "user";
    fs::create_directories(dir);
    REQUIRE(::chown(dir.c_str(), user.pw_uid, user.pw_gid) == 0);
    return dir;
}

struct As {
    const passwd* user = nullptr;  // null: root
};

CommandResult appliance(const std::vector<std::string>& args, const std::string& source_date_epoch = {}, As as = {}) {
    Command c;
    if (!source_date_epoch.empty()) {
        c.env = std::map<std::string, std::string>{{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};
        (*c.env)["SOURCE_DATE_EPOCH"] = source_date_epoch;
    }
    if (as.user)
        c.argv = {"setpriv", "--reuid=" + std::to_string(as.user->pw_uid), "--regid=" + std::to_string(as.user->pw_gid),
                  "--clear-groups", "--"};
    c.argv.push_back(appliance_creator.string());
    c.argv.insert(c.argv.end(), args.begin(), args.end());
    c.check = false;
    c.log_output = false;
    return run(c);
}

std::string output_of(std::vector<std::string> argv) {
    Command c;
    c.argv = std::move(argv);
    c.log_output = false;
    return run(c).output;
}

void require_tools() {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* p : {"rpmbuild", "createrepo_c", "sfdisk", "mkfs.ext4", "mkfs.fat", "mcopy", "mkswap", "qemu-img",
                          "grub-mkimage", "debugfs", "blkid"})
        IMGCREATE_REQUIRE_PROGRAM(p);
    if (!fs::exists("/usr/lib/grub/i386-pc/boot.img") || !fs::is_directory("/usr/lib/grub/x86_64-efi"))
        IMGCREATE_SKIP("needs the host's GRUB modules (grub-pc-bin, grub-efi-amd64-bin)");
    if (!fs::exists(appliance_creator)) IMGCREATE_SKIP(appliance_creator.string() + " is not built (--target appliance-creator)");
}

// The small test repository (built once), as a kickstart's repo line.
std::string local_repo_line() {
    const auto repo = test::build_repo(fs::path(IMGCREATE_TEST_SOURCE_DIR) / "data/repos/install",
                                       fs::path(IMGCREATE_BINARY_DIR) / "test-data/disk/repo");
    return "repo --name=local --baseurl=file://" + repo.string() + "\n";
}

// How many of `count` bytes of `raw` from `offset` on are not zero.
std::string nonzero_bytes(const fs::path& raw, std::uint64_t offset, std::uint64_t count) {
    return output_of({"sh", "-c", "tail -c +" + std::to_string(offset + 1) + " '" + raw.string() + "' | head -c " +
                                      std::to_string(count) + " | tr -d '\\000' | wc -c"});
}

// mdir -b of `dir` in the vfat filesystem `offset_mib` MiB into `raw`, or its complaint.
std::string vfat_listing(const fs::path& raw, std::uint64_t offset_mib, const std::string& dir) {
    Command mdir;
    mdir.argv = {"mdir", "-b", "-i", raw.string() + "@@" + std::to_string(offset_mib << 20), "::" + dir};
    mdir.env = std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}, {"MTOOLS_SKIP_CHECK", "1"}};
    mdir.check = false;
    mdir.log_output = false;
    return run(mdir).output;
}

}  // namespace

// The small repository's system on a GPT disk with reqpart's partitions, /, an ext3 /var and swap.
fs::path small_kickstart(const fs::path& dir) {
    const auto ks = dir / "small.ks";
    std::ofstream(ks) << local_repo_line()
                      << "selinux --disabled\nbootloader --timeout=3 --append=\"console=ttyS0\"\n"
                      << "reqpart\npart / --size=64\npart /var --size=16 --fstype=ext3\npart swap --size=8\n"
                      // api-dirs owns /proc, /sys and /dev, as Fedora's filesystem package does
                      << "%packages --nocore\nhello\nkernel-core\napi-dirs\n%end\n"
                      // the stand-in kernel has no dracut to make its initramfs: a stand-in for that too
                      << "%pre-install\nmkdir -p \"$INSTALL_ROOT/boot\"\n"
                      << "echo initramfs > \"$INSTALL_ROOT/boot/initramfs-6.5.6-300.fc39.x86_64.img\"\n%end\n";
    return ks;
}

TEST_CASE("appliance-creator -f qcow2 --checksum makes a bootable-shaped disk, its checksum and its description") {
    require_tools();
    Scratch s;
    const auto ks = small_kickstart(s.path);
    const auto out = s.path / "out/small";  // appliance-creator's form: OUTDIR/NAME/
    auto r = appliance({"-c", ks.string(), "-n", "small", "-f", "qcow2", "--checksum", "--vmem", "768", "--vcpu", "2",
                        "--version", "1.0", "-t", s.path.string(), "-o", (s.path / "out").string(), "--cache",
                        (s.path / "cache").string()});
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    // nothing in OUTDIR but the appliance's directory, and in it its disk, checksum and description
    std::set<std::string> delivered, in_outdir;
    for (const auto& e : fs::directory_iterator(s.path / "out")) in_outdir.insert(e.path().filename().string());
    for (const auto& e : fs::directory_iterator(out)) delivered.insert(e.path().filename().string());
    CHECK(in_outdir == std::set<std::string>{"small"});
    CHECK(delivered == std::set<std::string>{"small-sda.qcow2", "small-sda.qcow2.sha256", "small.xml"});
    CHECK(r.output.find(out.string() + "/small-sda.qcow2") != std::string::npos);

    const auto qcow2 = out / "small-sda.qcow2";
    CHECK_THAT(output_of({"qemu-img", "info", qcow2.string()}), Contains("file format: qcow2"));
    CHECK(output_of({"sh", "-c", "cd '" + out.string() + "' && sha256sum -c small-sda.qcow2.sha256"}) == "small-sda.qcow2: OK\n");
    const auto xml = output_of({"cat", (out / "small.xml").string()});
    CHECK_THAT(xml, Contains("<name version='1.0'>small</name>"));
    CHECK_THAT(xml, Contains("<vcpu>2</vcpu>"));
    CHECK_THAT(xml, Contains("<memory>786432</memory>"));
    CHECK_THAT(xml, !Contains("<interface/>"));  // the kickstart has no network line
    // the disk's sha1 and sha256, as appliance-creator records them
    const auto sha1 = output_of({"sha1sum", qcow2.string()}).substr(0, 40);
    const auto sha256 = output_of({"sha256sum", qcow2.string()}).substr(0, 64);
    CHECK_THAT(xml, Contains("    <disk file='small-sda.qcow2' use='system' format='qcow2'>\n"
                             "      <checksum type='sha1'>" + sha1 + "</checksum>\n"
                             "      <checksum type='sha256'>" + sha256 + "</checksum>\n    </disk>\n"));
    CHECK(fs::directory_iterator(s.path / "out") != fs::directory_iterator());
    // nothing of the build is left in the tmpdir but the cache and what the test put there
    for (const auto& e : fs::directory_iterator(s.path)) {
        const auto name = e.path().filename().string();
        CHECK((name == "cache" || name == "out" || name == "small.ks"));
    }

    const auto raw = s.path / "back.raw";
    run({"qemu-img", "convert", "-f", "qcow2", "-O", "raw", qcow2.string(), raw.string()});
    const auto dump = output_of({"sfdisk", "--dump", raw.string()});
    CHECK_THAT(dump, Contains("label: gpt"));
    CHECK_THAT(dump, Contains(raw.string() + "1 : start=        2048, size=        2048, type=21686148-6449-6E6F-744E-656564454649"));
    CHECK_THAT(dump, Contains(raw.string() + "5 : "));

    SECTION("GRUB's boot.img is in the MBR, pointing at core.img in the biosboot partition") {
        const auto mbr = output_of({"sh", "-c", "head -c 512 '" + raw.string() + "' | od -A d -t x1 -j 92 -N 8"});
        CHECK_THAT(mbr, Contains("00 08 00 00 00 00 00 00"));  // LBA 2048, little-endian
        CHECK_THAT(output_of({"sh", "-c", "head -c 440 '" + raw.string() + "' | strings"}), Contains("GRUB"));
    }
    SECTION("the ESP holds a GRUB for UEFI and its grub.cfg finds /boot, here on /") {
        CHECK_THAT(vfat_listing(raw, 2, "/EFI/BOOT"), Contains("BOOTX64.EFI"));
    }
    SECTION("the root's fstab and grub.cfg name the UUIDs blkid finds") {
        const auto root = s.path / "root.img";
        // reqpart: biosboot 1 MiB, ESP 500 MiB; then / at 502 MiB
        run({"dd", "if=" + raw.string(), "of=" + root.string(), "bs=1M", "skip=502", "count=64", "conv=sparse", "status=none"});
        const auto uuid = output_of({"blkid", "-p", "-s", "UUID", "-o", "value", root.string()});
        REQUIRE(uuid.size() == 37);
        const auto fstab = output_of({"debugfs", "-R", "cat /etc/fstab", root.string()});
        CHECK_THAT(fstab, Contains("UUID=" + uuid.substr(0, 36) + " / ext4 defaults 1 1"));
        CHECK_THAT(fstab, Contains(" /var ext3 defaults 1 2"));
        CHECK_THAT(fstab, Contains(" none swap defaults 0 0"));
        const auto grub = output_of({"debugfs", "-R", "cat /boot/grub2/grub.cfg", root.string()});
        CHECK_THAT(grub, Contains("set timeout=3"));
        CHECK_THAT(grub, Contains("linux /boot/vmlinuz-6.5.6-300.fc39.x86_64 root=UUID=" + uuid.substr(0, 36) + " ro console=ttyS0"));
        CHECK_THAT(grub, Contains("terminal_output console serial"));
        CHECK_THAT(output_of({"debugfs", "-R", "ls /etc/dracut.conf.d", root.string()}), !Contains("imgcreate-disk"));
        // the kickstart, as ksflatten writes it, is left for root as appliance-creator leaves it
        auto in_image = output_of({"debugfs", "-R", "cat /root/anaconda-ks.cfg", root.string()});
        in_image = in_image.substr(in_image.find('\n') + 1);  // debugfs's banner
        CHECK_THAT(in_image, StartsWith("# The kickstart this image was built from, written by imgcreate\n"));
        const auto flat = output_of({(fs::path(IMGCREATE_BINARY_DIR) / "examples/ksflatten").string(), "-c", ks.string()});
        CHECK(in_image.substr(in_image.find('\n')) == flat.substr(flat.find('\n')));
        CHECK_THAT(output_of({"debugfs", "-R", "stat /root/anaconda-ks.cfg", root.string()}), Contains("Mode:  0600"));
    }
}

// The small repository's system with a dracut stand-in whose every run writes a different image.
fs::path dracut_kickstart(const fs::path& dir, const std::string& extra_packages = {}) {
    const auto standin = test::build_repo(fs::path(IMGCREATE_TEST_SOURCE_DIR) / "system/disk/specs",
                                          fs::path(IMGCREATE_BINARY_DIR) / "test-data/disk/standin-repo");
    const auto ks = dir / ("dracut" + std::to_string(extra_packages.size()) + ".ks");
    std::ofstream(ks) << local_repo_line()
                      << "repo --name=standin --baseurl=file://" << standin.string() << "\n"
                      << "selinux --disabled\nbootloader --timeout=3\nreqpart\npart / --size=64\n"
                      << "%packages --nocore\nbusybox-sh\nkernel-core\napi-dirs\ndracut-standin\n" << extra_packages
                      << "%end\n";
    return ks;
}

// A file of the disk's root filesystem (after reqpart's 501 MiB), or debugfs's complaint.
std::string root_file(const fs::path& raw, const fs::path& scratch, const std::string& path) {
    const auto root = scratch / "root.img";
    run({"dd", "if=" + raw.string(), "of=" + root.string(), "bs=1M", "skip=502", "count=64", "conv=sparse", "status=none"});
    Command cat;
    cat.argv = {"debugfs", "-R", "cat " + path, root.string()};
    cat.log_output = false;
    cat.check = false;
    auto out = run(cat).output;
    fs::remove(root);
    return out;
}

TEST_CASE("bootloader --disabled gives a disk with no boot loader anywhere and needs no kernel, and %post sees the ext4 root's lost+found") {
    require_tools();
    Scratch s;
    const auto ks = s.path / "container.ks";
    // a container kickstart's way (Fedora's container kickstarts say bootloader --disabled), on a
    // disk with reqpart's biosboot and ESP: no kernel is installed
    std::ofstream(ks) << local_repo_line()
                      << "selinux --disabled\nbootloader --disabled\nreqpart\npart / --size=64\n"
                      << "%packages --nocore\nhello\napi-dirs\n%end\n"
                      // what %post (and the relabel after it) sees: / is ext4, so /lost+found is there
                      << "%post --nochroot\nstat -c '%a %U' \"$INSTALL_ROOT/lost+found\" > \"$INSTALL_ROOT/seen-by-post\"\n%end\n";
    auto r = appliance({"-c", ks.string(), "-n", "container", "-t", s.path.string(), "-o", (s.path / "out").string()});
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    CHECK_THAT(r.output, Contains("boot loader: none (bootloader --disabled)"));
    const auto raw = s.path / "out/container/container-sda.raw";
    // the MBR's boot code and the biosboot partition hold nothing
    CHECK(nonzero_bytes(raw, 0, 440) == "0\n");
    CHECK(nonzero_bytes(raw, 1 << 20, 1 << 20) == "0\n");
    // the ESP is made, and empty of a boot loader
    const auto esp = vfat_listing(raw, 2, "/");
    CHECK_THAT(esp, !Contains("EFI"));
    CHECK_THAT(esp, !Contains("Cannot initialize"));
    CHECK_THAT(root_file(raw, s.path, "/boot/grub2/grub.cfg"), Contains("File not found"));
    CHECK_THAT(root_file(raw, s.path, "/usr/bin/hello"), !Contains("File not found"));
    CHECK_THAT(root_file(raw, s.path, "/seen-by-post"), Contains("\n700 root\n"));
}

TEST_CASE("a GPT disk with an ESP and no biosboot boots with UEFI alone, one with neither is refused before any work") {
    require_tools();
    Scratch s;
    const auto ks = s.path / "uefi.ks";
    std::ofstream(ks) << local_repo_line()
                      << "selinux --disabled\nbootloader --timeout=1\n"
                      << "part /boot/efi --fstype=efi --size=100\npart / --size=64\n"
                      << "%packages --nocore\nhello\nkernel-core\napi-dirs\n%end\n"
                      << "%pre-install\nmkdir -p \"$INSTALL_ROOT/boot\"\n"
                      << "echo initramfs > \"$INSTALL_ROOT/boot/initramfs-6.5.6-300.fc39.x86_64.img\"\n%end\n";
    auto r = appliance({"-c", ks.string(), "-n", "uefi", "-t", s.path.string(), "-o", (s.path / "out").string()});
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    CHECK_THAT(r.output, Contains("BIOS boot: none (GPT disk sda has no biosboot partition"));
    const auto raw = s.path / "out/uefi/uefi-sda.raw";
    CHECK(nonzero_bytes(raw, 0, 440) == "0\n");
    CHECK_THAT(vfat_listing(raw, 1, "/EFI/BOOT"), Contains("BOOTX64.EFI"));

    // neither a biosboot partition nor an ESP: said before the repository is even read
    const auto none = s.path / "none.ks";
    std::ofstream(none) << "repo --name=gone --baseurl=file:///nonexistent/repo\npart / --size=64\n%packages\nhello\n%end\n";
    auto refused = appliance({"-c", none.string(), "-n", "none", "-t", s.path.string(), "-o", (s.path / "out2").string()});
    CHECK(refused.exit_status == 1);
    CHECK_THAT(refused.output, Contains("error: disk sda would boot neither with BIOS nor with UEFI: it is GPT with no "
                                        "biosboot partition, and the layout has no /boot/efi. Add 'reqpart'"));
    CHECK_FALSE(fs::exists(s.path / "out2"));
}

TEST_CASE("with --cache, a build of the same packages reuses the initramfs dracut made, other packages run dracut again") {
    require_tools();
    Scratch s;
    const auto cache = s.path / "cache";
    const std::string initramfs = "/boot/initramfs-6.5.6-300.fc39.x86_64.img";
    auto build = [&](const std::string& name, const fs::path& ks, bool tree_on_disk = false) {
        std::vector<std::string> args = {"-c", ks.string(), "-n", name, "-t", s.path.string(), "-o", (s.path / "out").string(),
                                         "--cache", cache.string()};
        if (tree_on_disk) args.push_back("--tree-on-disk");
        auto r = appliance(args);
        INFO(r.output);
        REQUIRE(r.exit_status == 0);
        return r.output;
    };
    const auto ks = dracut_kickstart(s.path);
    const auto first = build("first", ks);
    CHECK_THAT(first, Contains("kept the initramfs image " + initramfs));
    const auto first_raw = s.path / "out/first/first-sda.raw";
    const auto image = root_file(first_raw, s.path, initramfs);
    REQUIRE_THAT(image, Contains("initramfs "));
    CHECK_THAT(root_file(first_raw, s.path, "/boot/dracut-runs"), Contains("dracut --force --kver 6.5.6-300.fc39.x86_64 " + initramfs));

    // the same packages, the tree on disk this time (the cache's packages bind-mounted from the
    // same filesystem): the image comes from the cache, and dracut never ran
    const auto second = build("second", ks, true);
    CHECK_THAT(second, Contains("reused the initramfs image an earlier build of the same packages made"));
    const auto second_raw = s.path / "out/second/second-sda.raw";
    CHECK(root_file(second_raw, s.path, initramfs) == image);
    CHECK_THAT(root_file(second_raw, s.path, "/boot/dracut-runs"), Contains("File not found"));
    Command ls;
    ls.argv = {"sh", "-c", "dd if='" + second_raw.string() + "' of='" + (s.path / "r.img").string() +
                               "' bs=1M skip=502 count=64 status=none && debugfs -R 'ls -l /' '" + (s.path / "r.img").string() + "'"};
    ls.log_output = false;
    const auto listing = run(ls).output;
    CHECK_THAT(listing, Contains("boot"));
    CHECK_THAT(listing, !Contains("imgcreate"));  // the stand-in's directory left with the transaction

    // another package: dracut runs again, and its new image is kept beside the first
    const auto third = build("third", dracut_kickstart(s.path, "test-setup\n"));
    CHECK_THAT(third, Contains("kept the initramfs image " + initramfs));
    CHECK_THAT(third, !Contains("reused the initramfs"));
    const auto third_image = root_file(s.path / "out/third/third-sda.raw", s.path, initramfs);
    CHECK_THAT(third_image, Contains("initramfs "));
    CHECK(third_image != image);
    std::size_t keys = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(cache / "initramfs")) ++keys;
    CHECK(keys == 2);

    // without --cache nothing is kept or reused: dracut runs
    auto r = appliance({"-c", ks.string(), "-n", "fourth", "-t", s.path.string(), "-o", (s.path / "out").string()});
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    CHECK_THAT(r.output, !Contains("initramfs image"));
    CHECK(root_file(s.path / "out/fourth/fourth-sda.raw", s.path, initramfs) != image);
}

// A file of the disk's root filesystem, byte for byte, copied to `to` (debugfs dump); false when
// the filesystem has no such file.
bool dump_root_file(const fs::path& raw, const fs::path& scratch, const std::string& path, const fs::path& to) {
    const auto root = scratch / "root.img";
    run({"dd", "if=" + raw.string(), "of=" + root.string(), "bs=1M", "skip=502", "count=64", "conv=sparse", "status=none"});
    fs::remove(to);
    Command dump;
    dump.argv = {"debugfs", "-R", "dump " + path + " " + to.string(), root.string()};
    dump.log_output = false;
    dump.check = false;
    run(dump);
    fs::remove(root);
    return fs::exists(to) && fs::file_size(to) > 0;
}

TEST_CASE("the image's dracut compresses with the host's pigz when it would use gzip, and not at all in an image without gzip") {
    require_tools();
    IMGCREATE_REQUIRE_PROGRAM("pigz");
    Scratch s;
    const std::string initramfs = "/boot/initramfs-6.5.6-300.fc39.x86_64.img";
    auto r = appliance({"-c", dracut_kickstart(s.path, "gzip-busybox\n").string(), "-n", "pigz", "-t", s.path.string(), "-o",
                        (s.path / "out").string()});
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    CHECK_THAT(r.output, Contains("the image's dracut compressed 1 initramfs with the host's pigz on "));
    const auto image = s.path / "initramfs.img";
    REQUIRE(dump_root_file(s.path / "out/pigz/pigz-sda.raw", s.path, initramfs, image));
    CHECK(output_of({"od", "-An", "-tx1", "-N2", image.string()}) == " 1f 8b\n");
    CHECK_THAT(output_of({"sh", "-c", "gzip -dc '" + image.string() + "'"}), Contains("initramfs "));
    // made by the host's pigz as dracut runs pigz (the image's busybox gzip makes other bytes):
    // compressing what it holds again gives the same file
    CHECK(run({"sh", "-c", "gzip -dc '" + image.string() + "' | pigz -9 -n -T -R | cmp - '" + image.string() + "'"}).exit_status == 0);
    Command ls;
    ls.argv = {"sh", "-c", "dd if='" + (s.path / "out/pigz/pigz-sda.raw").string() + "' of='" + (s.path / "r.img").string() +
                               "' bs=1M skip=502 count=64 status=none && debugfs -R 'ls -l /' '" + (s.path / "r.img").string() + "'"};
    ls.log_output = false;
    CHECK_THAT(run(ls).output, !Contains("imgcreate"));  // the host's pigz left with the transaction
    fs::remove(s.path / "r.img");

    // no gzip in the image: dracut would write its image uncompressed, and does
    auto plain = appliance({"-c", dracut_kickstart(s.path).string(), "-n", "plain", "-t", s.path.string(), "-o",
                            (s.path / "out").string()});
    INFO(plain.output);
    REQUIRE(plain.exit_status == 0);
    CHECK_THAT(plain.output, !Contains("host's pigz"));
    REQUIRE(dump_root_file(s.path / "out/plain/plain-sda.raw", s.path, initramfs, image));
    CHECK_THAT(output_of({"cat", image.string()}), StartsWith("initramfs "));
}

TEST_CASE("a layout appliance-creator cannot make is refused before any work, with the line and what to write instead") {
    require_tools();
    Scratch s;
    const auto ks = s.path / "lvm.ks";
    // The repository does not exist: a build that got as far as reading it would say so instead.
    std::ofstream(ks) << "repo --name=gone --baseurl=file:///nonexistent/repo\n"
                      << "part /boot --size=500\npart pv.01 --size=2000\nvolgroup vg pv.01\n"
                      << "logvol / --vgname=vg --name=root --size=3000\n%packages\nhello\n%end\n";
    auto r = appliance({"-c", ks.string(), "-n", "lvm", "-t", s.path.string(), "-o", (s.path / "out").string()});
    CHECK(r.exit_status == 1);
    CHECK_THAT(r.output, Contains("lvm.ks:3: part pv.01 is 2000 MiB, and the logical volumes of vg need 3001 MiB"));
    CHECK_THAT(r.output, Contains("give part pv.01 --size=3001 or --grow"));
    CHECK_FALSE(fs::exists(s.path / "out"));
    for (const auto& e : fs::directory_iterator(s.path)) CHECK(e.path().filename() == "lvm.ks");
    fs::remove(ks);

    SECTION("and so is an output that exists already, before anything is made") {
        const auto small = small_kickstart(s.path);
        fs::create_directories(s.path / "out/small");
        std::ofstream(s.path / "out/small/small.xml") << "an earlier appliance";
        auto again = appliance({"-c", small.string(), "-n", "small", "-t", s.path.string(), "-o", (s.path / "out").string()});
        CHECK(again.exit_status == 1);
        CHECK_THAT(again.output, Contains("small.xml already exists"));
        CHECK_FALSE(fs::exists(s.path / "out/small/small-sda.raw"));
        CHECK(output_of({"cat", (s.path / "out/small/small.xml").string()}) == "an earlier appliance\n");
    }
    SECTION("and so is a file where the appliance's directory would be") {
        const auto small = small_kickstart(s.path);
        fs::create_directories(s.path / "out");
        std::ofstream(s.path / "out/small") << "not a directory";
        auto again = appliance({"-c", small.string(), "-n", "small", "-t", s.path.string(), "-o", (s.path / "out").string()});
        CHECK(again.exit_status == 1);
        CHECK_THAT(again.output, Contains("/out/small already exists"));
        CHECK_THAT(again.output, !Contains("installing"));
        CHECK(output_of({"cat", (s.path / "out/small").string()}) == "not a directory\n");
    }
    SECTION("image-creator --image-type disk writes into the output directory itself, as for its other images") {
        const auto small = small_kickstart(s.path);
        Command c;
        c.argv = {(appliance_creator.parent_path() / "image-creator").string(), "--image-type", "disk", "-c", small.string(),
                  "-f", "flat", "-t", s.path.string(), "-o", (s.path / "out").string(), "--cache", (s.path / "cache").string()};
        c.check = false;
        c.log_output = false;
        auto r = run(c);
        INFO(r.output);
        REQUIRE(r.exit_status == 0);
        std::set<std::string> delivered;
        for (const auto& e : fs::directory_iterator(s.path / "out")) delivered.insert(e.path().filename().string());
        CHECK(delivered == std::set<std::string>{"flat-sda.raw", "flat.xml"});
    }
    SECTION("and so is one that does not fit the disk size given, with the numbers") {
        std::ofstream(ks) << "repo --name=gone --baseurl=file:///nonexistent/repo\npart / --size=3000\n";
        auto big = appliance({"-c", ks.string(), "--disk-size", "2G", "-t", s.path.string(), "-o", (s.path / "out").string()});
        CHECK(big.exit_status == 1);
        CHECK_THAT(big.output, Contains("the partitions on disk sda need 3002 MiB (/ 3000 MiB, and 2 MiB for the partition "
                                        "table), and the disk is 2048 MiB"));
    }
}

TEST_CASE("appliance-creator -p packs the appliance into one archive under NAME/, with what -i includes, the same bytes under an epoch") {
    require_tools();
    Scratch s;
    const auto ks = small_kickstart(s.path);
    fs::create_directories(s.path / "extra/docs");
    std::ofstream(s.path / "extra/README") << "read me\n";
    std::ofstream(s.path / "extra/docs/notes") << "notes\n";
    auto build = [&](const std::string& package, const std::string& out) {
        auto r = appliance({"-c", ks.string(), "-n", "packed", "-p", package, "-i", (s.path / "extra").string(), "-t",
                            s.path.string(), "-o", (s.path / out).string(), "--cache", (s.path / "cache").string()},
                           "1700000000");
        INFO(r.output);
        REQUIRE(r.exit_status == 0);
        std::set<std::string> delivered;
        for (const auto& e : fs::directory_iterator(s.path / out)) delivered.insert(e.path().filename().string());
        return delivered;
    };
    // tar.gz: only the archive in OUTDIR; in it NAME/ with the disk (kept sparse), the description
    // and the included directory's entries, owned by root; the same bytes a second time.
    CHECK(build("tar.gz", "one") == std::set<std::string>{"packed.tar.gz"});
    CHECK(build("tar.gz", "two") == std::set<std::string>{"packed.tar.gz"});
    const auto archive = s.path / "one/packed.tar.gz";
    CHECK(output_of({"sha256sum", archive.string()}).substr(0, 64) ==
          output_of({"sha256sum", (s.path / "two/packed.tar.gz").string()}).substr(0, 64));
    const auto listing = output_of({"tar", "-tzvf", archive.string()});
    INFO(listing);
    for (const char* member : {"packed/packed-sda.raw", "packed/packed.xml", "packed/README", "packed/docs/notes"})
        CHECK_THAT(listing, Contains(member));
    CHECK_THAT(listing, Contains("0/0 "));
    fs::create_directories(s.path / "unpacked");
    run({"tar", "-xzf", archive.string(), "-C", (s.path / "unpacked").string()});
    const auto raw = s.path / "unpacked/packed/packed-sda.raw";
    CHECK_THAT(output_of({"sfdisk", "--json", raw.string()}), Contains("\"label\": \"gpt\""));
    struct stat st {};
    REQUIRE(::stat(raw.c_str(), &st) == 0);
    CHECK(static_cast<std::uint64_t>(st.st_blocks) * 512 < static_cast<std::uint64_t>(st.st_size) / 2);  // still sparse
    CHECK(output_of({"cat", (s.path / "unpacked/packed/docs/notes").string()}) == "notes\n");
    CHECK_THAT(output_of({"cat", (s.path / "unpacked/packed/packed.xml").string()}), Contains("<name>packed</name>"));

    // zip: the same files under NAME/, no directory entries; the same bytes a second time
    CHECK(build("zip", "zip") == std::set<std::string>{"packed.zip"});
    CHECK(build("zip", "zip2") == std::set<std::string>{"packed.zip"});
    CHECK(output_of({"sha256sum", (s.path / "zip/packed.zip").string()}).substr(0, 64) ==
          output_of({"sha256sum", (s.path / "zip2/packed.zip").string()}).substr(0, 64));
    const auto names = output_of({"sh", "-c", "unzip -Z1 '" + (s.path / "zip/packed.zip").string() + "' | sort"});
    CHECK(names == "packed/README\npacked/docs/notes\npacked/packed-sda.raw\npacked/packed.xml\n");
    CHECK(output_of({"unzip", "-p", (s.path / "zip/packed.zip").string(), "packed/README"}) == "read me\n");

    // without -p, what -i names goes into OUTDIR/NAME/ beside the disk
    auto r = appliance({"-c", ks.string(), "-n", "beside", "-i", (s.path / "extra/README").string(), "-t", s.path.string(),
                        "-o", (s.path / "dir").string(), "--cache", (s.path / "cache").string()});
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    std::set<std::string> delivered;
    for (const auto& e : fs::directory_iterator(s.path / "dir/beside")) delivered.insert(e.path().filename().string());
    CHECK(delivered == std::set<std::string>{"README", "beside-sda.raw", "beside.xml"});
}

TEST_CASE("a package format appliance-creator does not make, a missing -i, or an -i named like an output are refused before any work") {
    require_tools();
    Scratch s;
    const auto ks = small_kickstart(s.path);
    auto rar = appliance({"-c", ks.string(), "-n", "x", "-p", "rar", "-t", s.path.string(), "-o", (s.path / "out").string()});
    CHECK(rar.exit_status == 2);
    CHECK_THAT(rar.output, Contains("'rar' is not a package format: use none, zip, zip.64, tar, tar.gz or tar.bz2"));
    auto missing = appliance({"-c", ks.string(), "-n", "x", "-i", (s.path / "nothing").string(), "-t", s.path.string(), "-o",
                              (s.path / "out").string()});
    CHECK(missing.exit_status == 2);
    CHECK_THAT(missing.output, Contains("the file or directory to include, " + (s.path / "nothing").string() + ", does not exist"));
    fs::create_directories(s.path / "clash");
    std::ofstream(s.path / "clash/x.xml") << "mine";
    auto clash = appliance({"-c", ks.string(), "-n", "x", "-i", (s.path / "clash").string(), "-t", s.path.string(), "-o",
                            (s.path / "out").string()});
    CHECK(clash.exit_status == 1);
    CHECK_THAT(clash.output, Contains("the included " + (s.path / "clash/x.xml").string() +
                                      " has the name of a file the build delivers (x.xml)"));
    CHECK_THAT(clash.output, !Contains("installing"));
    CHECK_FALSE(fs::exists(s.path / "out"));
    // a link to nothing in the directory would fail the copy after the build: refused before it
    fs::create_directories(s.path / "dangling/sub");
    fs::create_symlink("gone", s.path / "dangling/sub/link");
    auto dangling = appliance({"-c", ks.string(), "-n", "x", "-i", (s.path / "dangling").string(), "-t", s.path.string(),
                               "-o", (s.path / "out").string()});
    CHECK(dangling.exit_status == 1);
    CHECK_THAT(dangling.output, Contains("the included " + (s.path / "dangling/sub/link").string() +
                                         " is a link to gone, which does not exist"));
    CHECK_THAT(dangling.output, !Contains("installing"));
    CHECK_FALSE(fs::exists(s.path / "out"));
}

TEST_CASE("when the disk fills while the appliance is delivered, what was already delivered is taken back, with the directories the build made") {
    require_tools();
    Scratch s;
    const auto ks = small_kickstart(s.path);
    // The build works in memory (/dev/shm), so delivering into the scratch directory copies each
    // file across filesystems; a cp put first on PATH fails on the second file, the description,
    // as a full disk would, after the disk image was delivered.
    const Scratch work_dir("/dev/shm/imgcreate-publish-XXXXXX");
    REQUIRE_FALSE(work_dir.path.empty());
    struct stat a {}, b {};
    REQUIRE(::stat(work_dir.path.c_str(), &a) == 0);
    REQUIRE(::stat(s.path.c_str(), &b) == 0);
    REQUIRE(a.st_dev != b.st_dev);
    fs::create_directories(s.path / "bin");
    std::ofstream(s.path / "bin/cp") << "#!/bin/sh\nfor a; do last=$a; done\ncase $last in\n"
                                     << "*.xml.partial) echo \"cp: error writing '$last': No space left on device\" >&2; exit 1 ;;\n"
                                     << "esac\nexec /bin/cp \"$@\"\n";
    fs::permissions(s.path / "bin/cp", fs::perms(0755));
    auto deliver = [&](const fs::path& outdir) {
        Command c;
        c.argv = {appliance_creator.string(), "-c", ks.string(), "-n", "full", "-t", work_dir.path.string(), "-o",
                  outdir.string(), "--cache", (s.path / "cache").string()};
        c.env = std::map<std::string, std::string>{{"PATH", (s.path / "bin").string() + ":/usr/sbin:/usr/bin:/sbin:/bin"}};
        c.check = false;
        c.log_output = false;
        return run(c);
    };
    auto entries = [](const fs::path& dir) {
        std::set<std::string> names;
        for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
        return names;
    };

    // OUTDIR exists: it is left as it was, empty; OUTDIR/NAME, which the build made, is gone
    fs::create_directories(s.path / "out");
    auto r = deliver(s.path / "out");
    INFO(r.output);
    CHECK(r.exit_status == 1);
    CHECK_THAT(r.output, Contains("error: cannot copy full.xml into " + (s.path / "out/full").string() + ": cp: error writing"));
    CHECK_THAT(r.output, Contains("No space left on device"));
    CHECK_THAT(r.output, Contains("the appliance was not delivered: took back full-sda.raw, removed " +
                                  (s.path / "out/full").string() + ", which the build had made"));
    CHECK(fs::is_directory(s.path / "out"));
    CHECK(entries(s.path / "out").empty());
    CHECK(entries(work_dir.path).empty());  // nor is anything left of the build

    // OUTDIR did not exist: every directory the build made for it is gone, up to one that was there
    auto deeper = deliver(s.path / "made/deeper");
    INFO(deeper.output);
    CHECK(deeper.exit_status == 1);
    CHECK_THAT(deeper.output, Contains("No space left on device"));
    CHECK_FALSE(fs::exists(s.path / "made"));
    CHECK_THAT(deeper.output, Contains("removed " + (s.path / "made").string() + ", which the build had made"));
    CHECK(entries(work_dir.path).empty());

    // and with nothing in the way, the same build delivers
    fs::remove(s.path / "bin/cp");
    auto ok = deliver(s.path / "out");
    INFO(ok.output);
    REQUIRE(ok.exit_status == 0);
    CHECK(entries(s.path / "out/full") == std::set<std::string>{"full-sda.raw", "full.xml"});
}

TEST_CASE("two builds with the same SOURCE_DATE_EPOCH give the same raw disk, byte for byte, from a tree in memory or on disk, and vmdk and vdi hold that disk") {
    require_tools();
    Scratch s;
    const auto ks = small_kickstart(s.path);
    std::vector<std::string> sums;
    // The first with its tree in memory (the default), the second on disk: the same bytes.
    for (const char* out : {"one", "two"}) {
        std::vector<std::string> args = {"-c", ks.string(), "-n", "same", "-t", s.path.string(), "-o", (s.path / out).string(),
                                         "--cache", (s.path / "cache").string()};
        if (std::string(out) == "two") args.push_back("--tree-on-disk");
        auto r = appliance(args, "1700000000");
        INFO(r.output);
        REQUIRE(r.exit_status == 0);
        CHECK((r.output.find(" (in memory, up to ") != std::string::npos) == (std::string(out) == "one"));
        sums.push_back(output_of({"sha256sum", (s.path / out / "same/same-sda.raw").string()}).substr(0, 64));
    }
    CHECK(sums[0] == sums[1]);

    // -f qcow2 (twice), vmdk and vdi: the same disk in the format asked for, its description naming it.
    std::vector<std::string> qcow2_sums;
    for (const std::string format : {"qcow2", "vmdk", "vdi", "qcow2"}) {
        fs::remove_all(s.path / format);
        auto r = appliance({"-c", ks.string(), "-n", "same", "-f", format, "-t", s.path.string(), "-o",
                            (s.path / format).string(), "--cache", (s.path / "cache").string()},
                           "1700000000");
        INFO(r.output);
        REQUIRE(r.exit_status == 0);
        const auto image = s.path / format / "same" / ("same-sda." + format);
        CHECK_THAT(output_of({"qemu-img", "info", image.string()}), Contains("file format: " + format));
        CHECK(output_of({"qemu-img", "compare", "-f", format, "-F", "raw", image.string(), (s.path / "one/same/same-sda.raw").string()}) ==
              "Images are identical.\n");
        CHECK_THAT(output_of({"cat", (s.path / format / "same/same.xml").string()}),
                   Contains("<disk file='same-sda." + format + "' use='system' format='" + format + "'"));
        CHECK(!fs::exists(s.path / format / "same/same-sda.raw"));
        if (format == "qcow2") qcow2_sums.push_back(output_of({"sha256sum", image.string()}).substr(0, 64));
    }
    // Under SOURCE_DATE_EPOCH the compressed clusters are written in order: the same qcow2 file.
    REQUIRE(qcow2_sums.size() == 2);
    CHECK(qcow2_sums[0] == qcow2_sums[1]);
}

TEST_CASE("a user without root builds the same disk as root, byte for byte, with no loop device, an xfs partition too") {
    require_tools();
    for (const char* p : {"setpriv", "newuidmap", "newgidmap", "useradd"}) IMGCREATE_REQUIRE_PROGRAM(p);
    Scratch s;
    const auto& user = build_user();
    const auto home = user_dir(s.path, user);
    const auto ks = small_kickstart(s.path);
    // an xfs /srv holding files %post makes, at each build's own time
    auto text = output_of({"cat", ks.string()});
    text.replace(text.find("part swap"), 0, "part /srv --size=300 --fstype=xfs\n");
    std::ofstream(ks) << text << "%post\nmkdir -p /srv/data\necho x > /srv/data/file\n%end\n";
    std::vector<std::string> sums;
    for (const bool by_user : {false, true}) {
        const auto dir = by_user ? home : s.path / "root";
        auto r = appliance({"-c", ks.string(), "-n", "same", "-t", dir.string(), "-o", (dir / "out").string(), "--cache",
                            (dir / "cache").string()},
                           "1700000000", As{by_user ? &user : nullptr});
        INFO(r.output);
        REQUIRE(r.exit_status == 0);
        const auto image = dir / "out/same/same-sda.raw";
        if (by_user) CHECK(fs::status(image).permissions() != fs::perms::none);
        struct stat st {};
        ::stat(image.c_str(), &st);
        CHECK(st.st_uid == (by_user ? user.pw_uid : 0));
        sums.push_back(output_of({"sha256sum", image.string()}).substr(0, 64));
    }
    CHECK(sums[0] == sums[1]);
    // the file %post made has the epoch for its times and generation 0 in either build
    const auto layout = disk::plan_layout(kickstart::parse_file(ks.string()));
    const auto* srv = layout.find("/srv");
    REQUIRE(srv);
    const auto piece = s.path / "srv.img";
    run({"dd", "if=" + (home / "out/same/same-sda.raw").string(), "of=" + piece.string(), "bs=1M",
         "skip=" + std::to_string(srv->start_mib), "count=" + std::to_string(srv->size_mib), "conv=sparse", "status=none"});
    run({"xfs_repair", "-n", "-f", piece.string()});
    ::setenv("TZ", "UTC", 1);  // xfs_db writes times in the local zone
    CHECK(output_of({"xfs_db", "-r", "-c", "path /data/file", "-c", "print core.size core.gen core.mtime core.ctime",
                     piece.string()}) == "core.size = 2\ncore.gen = 0\ncore.mtime.sec = Tue Nov 14 22:13:20 2023\n"
                                        "core.mtime.nsec = 0\ncore.ctime.sec = Tue Nov 14 22:13:20 2023\ncore.ctime.nsec = 0\n");
}

TEST_CASE("a user builds an LVM layout with no device-mapper: the volume group's label where blkid finds it, the fstab by /dev/mapper names, GRUB told to activate the root") {
    require_tools();
    for (const char* p : {"setpriv", "newuidmap", "newgidmap", "useradd"}) IMGCREATE_REQUIRE_PROGRAM(p);
    Scratch s;
    const auto& user = build_user();
    const auto dir = user_dir(s.path, user);
    auto text = output_of({"cat", small_kickstart(s.path).string()});
    const std::string plain = "reqpart\npart / --size=64\npart /var --size=16 --fstype=ext3\npart swap --size=8\n";
    text.replace(text.find(plain), plain.size(),
                 "reqpart --add-boot\npart pv.01 --size=50 --grow\nvolgroup sys-vg pv.01\n"
                 "logvol / --vgname=sys-vg --name=root --size=64\nlogvol /usr --vgname=sys-vg --name=usr --size=16\n"
                 "logvol /var --vgname=sys-vg --name=var --size=16 --fstype=ext3\n"
                 "logvol swap --vgname=sys-vg --name=swap --size=8\n");
    const auto ks = s.path / "lvm.ks";
    std::ofstream(ks) << text;

    SECTION("lvm2 is added to the packages, as anaconda adds it: with no repository holding it the build stops before the install, saying why") {
        auto r = appliance({"-c", ks.string(), "-n", "nolvm", "-t", dir.string(), "-o", (dir / "out").string()}, {}, As{&user});
        CHECK(r.exit_status == 1);
        CHECK_THAT(r.output, Contains("lvm2 added to the packages: the image activates LVM volume group sys-vg with it") &&
                                 Contains("the layout's LVM volume group sys-vg (lvm2 is added for it, as anaconda adds it): "
                                          "package 'lvm2'") &&
                                 Contains("matched nothing in the enabled repositories"));
        CHECK_FALSE(fs::exists(dir / "out/nolvm/nolvm-sda.raw"));
    }
    SECTION("--ignoremissing does not let the build go on without lvm2") {
        text.replace(text.find("%packages --nocore"), 18, "%packages --nocore --ignoremissing");
        std::ofstream(ks) << text;
        auto r = appliance({"-c", ks.string(), "-n", "nolvm", "-t", dir.string(), "-o", (dir / "out").string()}, {}, As{&user});
        CHECK(r.exit_status == 1);
        CHECK_THAT(r.output, Contains("(lvm2 is added for it, as anaconda adds it): package 'lvm2'"));
        CHECK_THAT(r.output, !Contains("installing 1/"));
    }
    SECTION("-lvm2 in %packages is refused before any work") {
        std::ofstream(ks, std::ios::app) << "%packages\n-lvm*\n%end\n";
        auto r = appliance({"-c", ks.string(), "-n", "nolvm", "-t", dir.string(), "-o", (dir / "out").string()}, {}, As{&user});
        CHECK(r.exit_status == 1);
        CHECK_THAT(r.output, Contains(": -lvm* leaves lvm2 out of the image, and the layout has LVM volume group sys-vg"));
        CHECK_THAT(r.output, !Contains("selected package"));
        CHECK_FALSE(fs::exists(dir / "out/nolvm/nolvm-sda.raw"));
    }
    SECTION("with lvm2 in a repository it is installed, and the image is made and reads back") {
        const auto standin = test::build_repo(fs::path(IMGCREATE_TEST_SOURCE_DIR) / "system/disk/specs",
                                              fs::path(IMGCREATE_BINARY_DIR) / "test-data/disk/standin-repo");
        text = "repo --name=standin --baseurl=file://" + standin.string() + "\n" + text;
        std::ofstream(ks) << text;
        auto r = appliance({"-c", ks.string(), "-n", "lvm", "-t", dir.string(), "-o", (dir / "out").string()}, {}, As{&user});
        INFO(r.output);
        REQUIRE(r.exit_status == 0);
        CHECK_THAT(r.output, Contains("selected package: 'lvm2'"));
        CHECK_THAT(r.output, Contains("wrote LVM volume group sys-vg ("));
        // lvm2 named in %packages, in any form (here a version), is not added a second time
        auto pinned = text;
        pinned.replace(pinned.find("%packages --nocore\n"), 19, "%packages --nocore\nlvm2-2.03.16\n");
        std::ofstream(s.path / "pinned.ks") << pinned;
        auto p = appliance({"-c", (s.path / "pinned.ks").string(), "-n", "pinned", "-t", dir.string(), "-o",
                            (dir / "pinned").string()}, {}, As{&user});
        INFO(p.output);
        CHECK(p.exit_status == 0);
        CHECK_THAT(p.output, Contains("selected package: 'lvm2-2.03.16'") && !Contains("lvm2 added"));
        CHECK_THAT(r.output, Contains("GRUB menu: 1 kernel(s), root=/dev/mapper/sys--vg-root"));
        const auto image = dir / "out/lvm/lvm-sda.raw";
        auto layout = disk::plan_layout(kickstart::parse_file(ks.string()));
        const auto& g = layout.groups.at(0);
        const auto* pv = layout.member_of(g);
        REQUIRE(pv);
        CHECK(output_of({"blkid", "-p", "-O", std::to_string(pv->start_mib << 20), "-S", std::to_string(pv->size_mib << 20),
                         "-s", "TYPE", "-o", "value", image.string()}) == "LVM2_member\n");
        const auto* root = layout.find("/");
        REQUIRE(root);
        CHECK(root->logical_volume == "root");
        const auto piece = s.path / "root.img";
        run({"dd", "if=" + image.string(), "of=" + piece.string(), "bs=1M", "skip=" + std::to_string(root->start_mib),
             "count=" + std::to_string(root->size_mib), "conv=sparse", "status=none"});
        run({"e2fsck", "-fn", piece.string()});
        const auto fstab = output_of({"debugfs", "-R", "cat /etc/fstab", piece.string()});
        CHECK_THAT(fstab, Contains("\n/dev/mapper/sys--vg-root / ext4 defaults 1 1\n"));
        CHECK_THAT(fstab, Contains("\n/dev/mapper/sys--vg-var /var ext3 defaults 1 2\n"));
        CHECK_THAT(fstab, Contains("\n/dev/mapper/sys--vg-swap none swap defaults 0 0\n"));
        const auto* usr = layout.find("/usr");
        REQUIRE(usr);
        const auto usr_piece = s.path / "usr.img";
        run({"dd", "if=" + image.string(), "of=" + usr_piece.string(), "bs=1M", "skip=" + std::to_string(usr->start_mib),
             "count=" + std::to_string(usr->size_mib), "conv=sparse", "status=none"});
        CHECK_THAT(output_of({"debugfs", "-R", "stat /sbin/lvm", usr_piece.string()}), Contains("Mode:  0755"));
        const auto* boot = layout.find("/boot");
        REQUIRE(boot);
        const auto boot_piece = s.path / "boot.img";
        run({"dd", "if=" + image.string(), "of=" + boot_piece.string(), "bs=1M", "skip=" + std::to_string(boot->start_mib),
             "count=" + std::to_string(boot->size_mib), "conv=sparse", "status=none"});
        CHECK_THAT(output_of({"debugfs", "-R", "cat /grub2/grub.cfg", boot_piece.string()}),
                   Contains(" root=/dev/mapper/sys--vg-root ro rd.lvm.lv=sys-vg/root rd.lvm.lv=sys-vg/usr "
                            "rd.lvm.lv=sys-vg/swap console=ttyS0"));  // dracut mounts /usr too
    }
}

TEST_CASE("appliance-creator makes one image per disk of --ondisk, each with its table, and the fstab names partitions on both") {
    require_tools();
    Scratch s;
    const auto small = small_kickstart(s.path);
    // The small kickstart with /var and swap on a second disk.
    std::ifstream in(small);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string old_parts = "part / --size=64\npart /var --size=16 --fstype=ext3\npart swap --size=8\n";
    REQUIRE(text.find(old_parts) != std::string::npos);
    text.replace(text.find(old_parts), old_parts.size(),
                 "part / --size=64 --ondisk=sda\npart /var --size=16 --fstype=ext3 --ondisk=sdb\n"
                 "part swap --size=8 --ondisk=sdb\n");
    const auto ks = s.path / "two.ks";
    std::ofstream(ks) << text;
    const auto out = s.path / "out/two";
    auto r = appliance({"-c", ks.string(), "-n", "two", "--checksum", "-t", s.path.string(), "-o", out.parent_path().string(), "--cache",
                        (s.path / "cache").string()});
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const auto sda = out / "two-sda.raw", sdb = out / "two-sdb.raw";
    REQUIRE(fs::exists(sda));
    REQUIRE(fs::exists(sdb));
    for (const auto& p : {sda, sdb, out / "two-sda.raw.sha256", out / "two-sdb.raw.sha256", out / "two.xml"})
        CHECK_THAT(r.output, Contains("wrote " + p.string()));
    CHECK(output_of({"sh", "-c", "cd '" + out.string() + "' && sha256sum -c two-sda.raw.sha256 two-sdb.raw.sha256"}) ==
          "two-sda.raw: OK\ntwo-sdb.raw: OK\n");
    const auto xml = output_of({"cat", (out / "two.xml").string()});
    CHECK_THAT(xml, Contains("<disk file='two-sda.raw' use='system' format='raw'"));
    CHECK_THAT(xml, Contains("<disk file='two-sdb.raw' use='system' format='raw'"));
    CHECK_THAT(xml, Contains("target='hda'"));
    CHECK_THAT(xml, Contains("target='hdb'"));

    // sda: reqpart's biosboot and ESP, then /; sdb: /var, then swap, each from 1 MiB on.
    const auto a = output_of({"sfdisk", "--dump", sda.string()});
    CHECK_THAT(a, Contains(sda.string() + "3 : "));
    CHECK_THAT(a, !Contains(sda.string() + "4 : "));
    const auto b = output_of({"sfdisk", "--dump", sdb.string()});
    CHECK_THAT(b, Contains("label: gpt"));
    CHECK_THAT(b, Contains(sdb.string() + "1 : start=        2048, size=       32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4"));
    CHECK_THAT(b, Contains(sdb.string() + "2 : start=       34816, size=       16384, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"));
    CHECK(output_of({"sfdisk", "--part-uuid", sda.string(), "1"}) != output_of({"sfdisk", "--part-uuid", sdb.string(), "1"}));

    auto probe = [](const fs::path& image, int start_mib, const char* tag) {
        Command c;
        c.argv = {"blkid", "-p", "-O", std::to_string(start_mib << 20), "-s", tag, "-o", "value", image.string()};
        c.log_output = false;
        auto v = run(c).output;
        return v.substr(0, v.find('\n'));
    };
    CHECK(probe(sdb, 1, "TYPE") == "ext3");
    CHECK(probe(sdb, 17, "TYPE") == "swap");
    const auto root = s.path / "root.img";
    run({"dd", "if=" + sda.string(), "of=" + root.string(), "bs=1M", "skip=502", "count=64", "conv=sparse", "status=none"});
    const auto fstab = output_of({"debugfs", "-R", "cat /etc/fstab", root.string()});
    CHECK_THAT(fstab, Contains("UUID=" + probe(sdb, 1, "UUID") + " /var ext3 defaults 1 2"));
    CHECK_THAT(fstab, Contains("UUID=" + probe(sdb, 17, "UUID") + " none swap defaults 0 0"));
    // /var's files are on sdb's ext3, not under / on sda
    const auto var = s.path / "var.img";
    run({"dd", "if=" + sdb.string(), "of=" + var.string(), "bs=1M", "skip=1", "count=16", "conv=sparse", "status=none"});
    CHECK_THAT(output_of({"debugfs", "-R", "ls -l /", var.string()}), Contains("lib"));
    CHECK_THAT(output_of({"debugfs", "-R", "ls /var", root.string()}), !Contains("lib"));
}

TEST_CASE("bootloader --boot-drive=sdb puts reqpart's partitions and GRUB on sdb, the first disk of the description") {
    require_tools();
    Scratch s;
    std::ifstream in(small_kickstart(s.path));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string old_lines = "bootloader --timeout=3 --append=\"console=ttyS0\"\nreqpart\npart / --size=64\n"
                                  "part /var --size=16 --fstype=ext3\n";
    REQUIRE(text.find(old_lines) != std::string::npos);
    text.replace(text.find(old_lines), old_lines.size(),
                 "bootloader --timeout=3 --boot-drive=sdb\nreqpart\npart / --size=64\n"
                 "part /var --size=16 --fstype=ext3 --ondisk=sdb\n"
                 "network --bootproto=dhcp --device=eth0\nnetwork --hostname=bd\n");
    const auto ks = s.path / "boot-drive.ks";
    std::ofstream(ks) << text;
    const auto out = s.path / "out/bd";
    auto r = appliance({"-c", ks.string(), "-n", "bd", "-t", s.path.string(), "-o", out.parent_path().string(), "--cache",
                        (s.path / "cache").string()});
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const auto sda = out / "bd-sda.raw", sdb = out / "bd-sdb.raw";
    const auto xml = output_of({"cat", (out / "bd.xml").string()});
    CHECK_THAT(xml, Contains("<disk file='bd-sdb.raw' use='system' format='raw'"));
    CHECK_THAT(xml, Contains("<disk file='bd-sda.raw' use='system' format='raw'"));
    CHECK(xml.find("bd-sdb.raw") < xml.find("bd-sda.raw"));
    // an <interface/> for each network line, as appliance-creator writes them
    CHECK_THAT(xml, Contains("<memory>524288</memory>\n      <interface/>\n      <interface/>\n      <graphics/>\n"));

    // sdb: biosboot, ESP, /var; sda: / and swap
    const auto b = output_of({"sfdisk", "--dump", sdb.string()});
    CHECK_THAT(b, Contains(sdb.string() + "1 : start=        2048, size=        2048, type=21686148-6449-6E6F-744E-656564454649"));
    CHECK_THAT(b, Contains(sdb.string() + "2 : start=        4096, size=     1024000, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B"));
    CHECK_THAT(b, Contains(sdb.string() + "3 : "));
    const auto a = output_of({"sfdisk", "--dump", sda.string()});
    CHECK_THAT(a, Contains(sda.string() + "2 : "));
    CHECK_THAT(a, !Contains(sda.string() + "3 : "));
    CHECK_THAT(a, !Contains("type=21686148") && !Contains("type=C12A7328"));
    // GRUB's boot code is in sdb's MBR and core.img in its biosboot partition; sda's MBR has no code
    CHECK_THAT(output_of({"sh", "-c", "head -c 440 '" + sdb.string() + "' | strings"}), Contains("GRUB"));
    CHECK(nonzero_bytes(sdb, 1 << 20, 512) != "0\n");
    CHECK(nonzero_bytes(sda, 0, 440) == "0\n");
    // GRUB on sdb finds /boot on sda's / by its UUID
    CHECK_THAT(r.output, Contains("BIOS boot: GRUB's boot.img in the MBR of bd-sdb.raw"));
    CHECK_THAT(vfat_listing(sdb, 2, "/EFI/BOOT"), Contains("BOOTX64.EFI"));
}

TEST_CASE("a user builds autopart --type=btrfs: root and home subvolumes, fstab by subvol=, GRUB reading /boot inside root") {
    require_tools();
    for (const char* p : {"setpriv", "newuidmap", "newgidmap", "useradd", "mkfs.btrfs", "btrfs", "mount"})
        IMGCREATE_REQUIRE_PROGRAM(p);
    if (!disk::mkfs_btrfs_makes_subvolumes()) IMGCREATE_SKIP("mkfs.btrfs has no --subvol (scripts/install-deps installs one)");
    Scratch s;
    const auto& user = build_user();
    const auto dir = user_dir(s.path, user);
    auto text = output_of({"cat", small_kickstart(s.path).string()});
    text.replace(text.find("reqpart\n"), std::string("reqpart\npart / --size=64\npart /var --size=16 --fstype=ext3\npart swap --size=8\n").size(),
                 "autopart --type=btrfs --noboot\n");
    const auto ks = s.path / "btrfs.ks";
    std::ofstream(ks) << text;

    SECTION("autopart of thin LVM is refused before any work, saying what to write") {
        std::ofstream(s.path / "lvm.ks") << "autopart --type=thinp\n";
        auto r = appliance({"-c", (s.path / "lvm.ks").string(), "-t", dir.string(), "-o", (dir / "out").string()}, {}, As{&user});
        CHECK(r.exit_status == 1);
        CHECK_THAT(r.output, Contains("lvm.ks:1: autopart --type=thinp: a thin pool's volumes are written by device-mapper") &&
                                 Contains("write autopart --type=lvm"));
        CHECK_FALSE(fs::exists(dir / "out"));
    }
    SECTION("a mkfs.btrfs without --subvol is refused before any work, saying where a newer one is") {
        const auto fake = s.path / "old-btrfs-progs";
        fs::create_directories(fake);
        std::ofstream(fake / "mkfs.btrfs") << "#!/bin/sh\necho 'usage: mkfs.btrfs [options] dev'\n";
        fs::permissions(fake / "mkfs.btrfs", fs::perms(0755));
        Command c;
        c.argv = {appliance_creator.string(), "-c", ks.string(), "-n", "old", "-t", s.path.string(), "-o", (s.path / "out").string()};
        c.env = std::map<std::string, std::string>{{"PATH", fake.string() + ":/usr/sbin:/usr/bin:/sbin:/bin"}};
        c.check = false;
        c.log_output = false;
        const auto r = run(c);
        CHECK(r.exit_status == 1);
        CHECK_THAT(r.output, Contains("this mkfs.btrfs makes no subvolumes from a tree") &&
                                 Contains("apt-get install -t bookworm-backports btrfs-progs"));
        CHECK_FALSE(fs::exists(s.path / "out"));
    }
    SECTION("the disk reads back; under SOURCE_DATE_EPOCH the build says the btrfs volume is not reproducible, and why") {
        auto r = appliance({"-c", ks.string(), "-n", "bt", "-t", dir.string(), "-o", (dir / "out").string(), "--cache",
                            (dir / "cache").string()},
                           "1700000000", As{&user});
        INFO(r.output);
        REQUIRE(r.exit_status == 0);
        CHECK_THAT(r.output, Contains("warning: btrfs images made from a tree are not byte-reproducible (mkfs.btrfs numbers the "
                                      "files in the order the directories list them and draws its own UUIDs): only ext*, xfs, "
                                      "vfat and swap are"));
        const auto raw = dir / "out/bt/bt-sda.raw";
        const auto layout = disk::plan_layout(kickstart::parse_file(ks.string()));
        const auto& member = layout.disks.at(0).partitions.at(2);
        REQUIRE(member.fstype == "btrfs");
        const auto dump = output_of({"sfdisk", "--dump", raw.string()});
        CHECK_THAT(dump, Contains(raw.string() + "3 : start=" + std::string(12 - std::to_string(member.start_mib * 2048).size(), ' ') +
                                  std::to_string(member.start_mib * 2048) + ", size="));
        const auto volume = s.path / "volume.img";
        run({"dd", "if=" + raw.string(), "of=" + volume.string(), "bs=1M", "skip=" + std::to_string(member.start_mib),
             "count=" + std::to_string(member.size_mib), "conv=sparse", "status=none"});
        auto uuid = output_of({"blkid", "-p", "-s", "UUID", "-o", "value", volume.string()});
        uuid = uuid.substr(0, uuid.find('\n'));
        REQUIRE(uuid.size() == 36);
        CHECK_THAT(output_of({"blkid", "-p", "-s", "LABEL", "-o", "value", volume.string()}), Contains("fedora"));
        const auto at = s.path / "mnt";
        fs::create_directories(at);
        run({"mount", "-t", "btrfs", "-o", "loop,ro", volume.string(), at.string()});
        std::string fstab, grub, subvolumes, kernel;
        try {
            fstab = output_of({"cat", (at / "root/etc/fstab").string()});
            grub = output_of({"cat", (at / "root/boot/grub2/grub.cfg").string()});
            subvolumes = output_of({"btrfs", "subvolume", "list", at.string()});
            kernel = output_of({"ls", (at / "root/boot").string()});
        } catch (...) {
            run({"umount", at.string()});
            throw;
        }
        run({"umount", at.string()});
        CHECK_THAT(subvolumes, Contains("top level 5 path root\n") && Contains("top level 5 path home\n"));
        CHECK_THAT(kernel, Contains("vmlinuz-6.5.6-300.fc39.x86_64"));
        CHECK_THAT(fstab, Contains("UUID=" + uuid + " / btrfs subvol=root,compress=zstd:1 0 0\n"));
        CHECK_THAT(fstab, Contains("UUID=" + uuid + " /home btrfs subvol=home,compress=zstd:1 0 0\n"));
        CHECK_THAT(fstab, Contains(" /boot/efi vfat "));
        CHECK_THAT(grub, Contains("search --no-floppy --fs-uuid --set=root " + uuid + "\n"));
        CHECK_THAT(grub, Contains("linux /root/boot/vmlinuz-6.5.6-300.fc39.x86_64 root=UUID=" + uuid +
                                  " ro rootflags=subvol=root console=ttyS0"));
        CHECK_THAT(grub, Contains("initrd /root/boot/initramfs-6.5.6-300.fc39.x86_64.img"));
    }
}

TEST_CASE("autopart without --disk-size makes the disk as large as the tree needs, a --disk-size too small says so") {
    require_tools();
    Scratch s;
    auto text = output_of({"cat", small_kickstart(s.path).string()});
    const std::string parts = "reqpart\npart / --size=64\npart /var --size=16 --fstype=ext3\npart swap --size=8\n";
    REQUIRE(text.find(parts) != std::string::npos);
    text.replace(text.find(parts), parts.size(), "autopart --type=plain --nohome\n");
    // autopart's / is 1 GiB at least: a tree of 1100 MiB that does not compress overflows it.
    const std::string pre = "%pre-install\n";
    text.insert(text.find(pre) + pre.size(), "head -c 1100M /dev/urandom > \"$INSTALL_ROOT/payload\"\n");
    const auto ks = s.path / "autopart.ks";
    std::ofstream(ks) << text;

    // with a disk size, / is what the disk leaves: 2700 MiB less reqpart's and /boot's 1.6 GiB is too small
    auto r = appliance({"-c", ks.string(), "-n", "full", "--disk-size", "2700", "-t", (s.path / "tmp").string(), "-o",
                        (s.path / "out").string(), "--cache", (s.path / "cache").string()});
    CHECK(r.exit_status == 1);
    CHECK_THAT(r.output, Contains("appliance-creator: error: the image is full: autopart's / grows with the disk; give a "
                                  "larger --disk-size (the tree holds "));
    CHECK_FALSE(fs::exists(s.path / "out"));
    CHECK(fs::is_empty(s.path / "tmp"));

    // without one, the disk is made for the tree: / of 1792 MiB (1103 MiB, a fifth more and 256, in 256 MiB steps)
    r = appliance({"-c", ks.string(), "-n", "sized", "-t", (s.path / "tmp").string(), "-o", (s.path / "out").string(),
                   "--cache", (s.path / "cache").string()});
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    // its tree in memory is not held to the smallest layout planned before the install (2649 MiB):
    // it may take half of the available memory
    if (const auto at = r.output.find("(in memory, up to "); at != std::string::npos) {
        const auto limit = std::stoull(r.output.substr(at + 18));
        if (const auto available = mount::available_memory_bytes(); available && (*available >> 21) > 4096)
            CHECK(limit > 4096);
        else
            CHECK(limit >= 2649);
    }
    CHECK_THAT(r.output, Contains("autopart without --disk-size: disk sda is "));
    CHECK_THAT(r.output, Contains("so that / (1792 MiB) holds the tree's 110"));
    const auto raw = s.path / "out/sized/sized-sda.raw";
    const auto dump = output_of({"sfdisk", "--dump", raw.string()});
    CHECK_THAT(dump, Contains(raw.string() + "4 : start=     3330048, size=     3670016,"));  // / after biosboot, ESP, /boot
    CHECK(fs::is_empty(s.path / "tmp"));
}

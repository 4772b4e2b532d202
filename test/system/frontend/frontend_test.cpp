// livecd-creator / image-creator and custom_creator end to end, as a user runs them: help,
// usage and kickstart mistakes, an fs build with --report and --lockfile-out, a second one from
// the lockfile, an image build whose report matches the file, and a user-defined stage.
#include <catch2/catch.hpp>

#include <imgcreate/support/process.hpp>
#include <support/rpmrepo.hpp>
#include <support/skip.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace imgcreate;

namespace {

const fs::path examples = fs::path(IMGCREATE_BINARY_DIR) / "examples";

struct Scratch {
    fs::path path;
    Scratch() {
        char tmpl[] = "/var/tmp/imgcreate-frontend-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

struct Outcome {
    int status;
    std::string out;
    std::string err;
};

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs a program with stdout and stderr kept apart.
Outcome run_program(const std::string& program, const std::vector<std::string>& args, const fs::path& scratch) {
    std::string line = quote((examples / program).string());
    for (const auto& a : args) line += " " + quote(a);
    const auto err = scratch / "stderr";
    Command cmd;
    cmd.argv = {"sh", "-c", line + " 2>" + quote(err.string())};
    cmd.check = false;
    auto r = run(cmd);
    return {r.exit_status, r.output, slurp(err)};
}

void require_program_built(const std::string& name) {
    if (!fs::exists(examples / name)) IMGCREATE_SKIP((examples / name).string() + " is not built (--target " + name + ")");
}

fs::path test_repo() {
    return test::build_repo(fs::path(IMGCREATE_TEST_SOURCE_DIR) / "data/repos/install",
                            fs::path(IMGCREATE_BINARY_DIR) / "test-data/frontend/repo");
}

std::string kickstart_text(const fs::path& repo) {
    return "repo --name=local --baseurl=file://" + repo.string() +
           "\n"
           "part / --size 128 --fstype ext4\n"
           "selinux --disabled\n"
           "%packages --nocore\n"
           "hello\n"
           "%end\n";
}

// The "nevra" values of a report, one per line, through Python's JSON parser.
std::string report_packages(const fs::path& report) {
    return run({"python3", "-c",
                "import json,sys\nr=json.load(open(sys.argv[1]))\nprint('\\n'.join(p['nevra'] for p in r['packages']))",
                report.string()})
        .output;
}

std::string report_field(const fs::path& report, const std::string& expression) {
    return run({"python3", "-c", "import json,sys\nr=json.load(open(sys.argv[1]))\nprint(" + expression + ")",
                report.string()})
        .output;
}

}  // namespace

TEST_CASE("livecd-creator --help prints the usage and the options and exits 0") {
    require_program_built("livecd-creator");
    Scratch s;
    auto r = run_program("livecd-creator", {"--help"}, s.path);
    CHECK(r.status == 0);
    CHECK(r.out.rfind("usage: livecd-creator [options] -c KICKSTART | livecd-creator [options] KICKSTART\n", 0) == 0);
    CHECK(r.out.find("--compression-type") != std::string::npos);
    CHECK(r.err.empty());
}

TEST_CASE("an unknown option exits 2 with the usage line") {
    require_program_built("image-creator");
    Scratch s;
    auto r = run_program("image-creator", {"--frobnicate", "a.ks"}, s.path);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err ==
          "usage: image-creator [options] -c KICKSTART | image-creator [options] KICKSTART\n"
          "image-creator: error: unrecognised option '--frobnicate'\n"
          "Try 'image-creator --help' for the options.\n");
}

TEST_CASE("a --logfile that cannot be opened is a usage mistake, said before any work") {
    require_program_built("image-creator");
    Scratch s;
    const auto log = (s.path / "no-such-dir/build.log").string();
    auto r = run_program("image-creator", {"--logfile", log, "-c", (s.path / "a.ks").string()}, s.path);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err ==
          "usage: image-creator [options] -c KICKSTART | image-creator [options] KICKSTART\n"
          "image-creator: error: cannot open the log file " + log + " for appending: No such file or directory; give a "
          "file in a directory you can write to\n"
          "Try 'image-creator --help' for the options.\n");
}

TEST_CASE("a missing kickstart exits 1 and names the file") {
    require_program_built("image-creator");
    Scratch s;
    const auto missing = (s.path / "missing.ks").string();
    auto r = run_program("image-creator", {"-q", "-c", missing}, s.path);
    CHECK(r.status == 1);
    CHECK(r.err.rfind("image-creator: error: " + missing + ": Unable to open input kickstart file: ", 0) == 0);
}

TEST_CASE("a kickstart error is shown with its file and line") {
    require_program_built("livecd-creator");
    Scratch s;
    const auto ks = s.path / "bad.ks";
    std::ofstream(ks) << "lang en_US.UTF-8\nfrobnicate --now\n";
    auto r = run_program("livecd-creator", {"-q", ks.string()}, s.path);
    CHECK(r.status == 1);
    CHECK(r.err.rfind("livecd-creator: error: " + ks.string() + ":2: ", 0) == 0);
}

TEST_CASE("the --print-includes option lists the kickstart and its %include files") {
    require_program_built("image-creator");
    Scratch s;
    std::ofstream(s.path / "part.ks") << "lang en_US.UTF-8\n";
    std::ofstream(s.path / "top.ks") << "%include part.ks\nselinux --disabled\n";
    auto r = run_program("image-creator", {"--print-includes", (s.path / "top.ks").string()}, s.path);
    CHECK(r.status == 0);
    CHECK(r.out == (s.path / "top.ks").string() + "\n" + (s.path / "part.ks").string() + "\n");
}

TEST_CASE("an fs build writes the tree, a report and a lockfile, and a build from the lockfile installs the same set") {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* p : {"rpmbuild", "createrepo_c", "python3"}) IMGCREATE_REQUIRE_PROGRAM(p);
    require_program_built("image-creator");
    Scratch s;
    const auto ks = s.path / "tree.ks";
    std::ofstream(ks) << kickstart_text(test_repo());
    const auto common = std::vector<std::string>{"--image-type", "fs", "-n", "tree", "-q", "-t", s.path.string(),
                                                 "--cache", (s.path / "cache").string()};
    auto args = common;
    args.insert(args.end(), {"-o", (s.path / "first").string(), "--lockfile-out", (s.path / "lock").string(), "--report",
                             (s.path / "first.json").string(), ks.string()});
    fs::create_directories(s.path / "first");
    auto r = run_program("image-creator", args, s.path);
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out == (s.path / "first/tree").string() + "\n");
    CHECK(fs::exists(s.path / "first/tree/usr/bin/hello"));
    const auto packages = report_packages(s.path / "first.json");
    CHECK(packages.find("hello-") != std::string::npos);
    CHECK(packages.find("busybox-sh-") != std::string::npos);
    CHECK(report_field(s.path / "first.json", "r['output']['path'], r['output']['sha256'], r['image_type']") ==
          (s.path / "first/tree").string() + " None fs\n");
    CHECK(report_field(s.path / "first.json", "[p['name'] for p in r['phases']]") ==
          "['mount', 'install', 'configure', 'unmount', 'package']\n");
    CHECK(slurp(s.path / "lock").rfind("# imgcreate lockfile 1\n", 0) == 0);

    args = common;
    args.insert(args.end(), {"-o", (s.path / "second").string(), "--lockfile", (s.path / "lock").string(), "--report",
                             (s.path / "second.json").string(), ks.string()});
    fs::create_directories(s.path / "second");
    r = run_program("image-creator", args, s.path);
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(report_packages(s.path / "second.json") == packages);
}

TEST_CASE("an image build's report gives the image's size and sha256") {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* p : {"rpmbuild", "createrepo_c", "python3", "mkfs.ext4", "sha256sum"}) IMGCREATE_REQUIRE_PROGRAM(p);
    require_program_built("livecd-creator");
    Scratch s;
    const auto ks = s.path / "disk.ks";
    std::ofstream(ks) << kickstart_text(test_repo());
    // livecd-creator with --image-type image: the type option beats the program's name.
    auto r = run_program("livecd-creator", {"--image-type", "image", "-t", s.path.string(), "-o", s.path.string(), "--cache",
                                            (s.path / "cache").string(), "--report", (s.path / "r.json").string(),
                                            "-c", ks.string()},
                         s.path);
    INFO(r.err);
    REQUIRE(r.status == 0);
    // livecd-tools' default name: image-<kickstart>-YYYYMMDDHHMM.img.
    const std::string prefix = (s.path / "image-disk-").string();
    REQUIRE(r.out.size() == prefix.size() + 17);
    CHECK(r.out.rfind(prefix, 0) == 0);
    CHECK(std::all_of(r.out.begin() + prefix.size(), r.out.begin() + prefix.size() + 12, ::isdigit));
    CHECK(r.out.substr(prefix.size() + 12) == ".img\n");
    CHECK(r.err.find("using label '") != std::string::npos);
    const fs::path image = r.out.substr(0, r.out.size() - 1);
    CHECK(r.err.find("phases: mount ") != std::string::npos);
    CHECK(report_field(s.path / "r.json", "r['output']['size'], r['output']['sha256']") ==
          std::to_string(fs::file_size(image)) + " " + run({"sha256sum", image.string()}).output.substr(0, 64) + "\n");
    CHECK(report_packages(s.path / "r.json").find("hello-") != std::string::npos);
}

TEST_CASE("custom_creator packs the installed tree with its own tar.zst stage") {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* p : {"rpmbuild", "createrepo_c", "zstd", "tar"}) IMGCREATE_REQUIRE_PROGRAM(p);
    require_program_built("custom_creator");
    Scratch s;
    const auto ks = s.path / "custom.ks";
    std::ofstream(ks) << kickstart_text(test_repo());
    auto r = run_program("custom_creator", {ks.string(), s.path.string(), s.path.string()}, s.path);
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out == (s.path / "custom.tar.zst").string() + "\n");
    const auto listing = run({"tar", "--zstd", "-tf", (s.path / "custom.tar.zst").string()}).output;
    CHECK(listing.find("./usr/bin/hello\n") != std::string::npos);
}

TEST_CASE("a CMake project builds images with imgcreate_add_image, with the stock creator and with its own, again "
          "only when an included file changes") {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* p : {"rpmbuild", "createrepo_c", "ninja"}) IMGCREATE_REQUIRE_PROGRAM(p);
    // cmake --install needs every installed program built.
    for (const char* p : {"livecd-creator", "image-creator", "ksvalidator", "ksflatten", "custom_creator"})
        require_program_built(p);
    Scratch s;
    const auto repo = test_repo();
    run({"cmake", "--install", IMGCREATE_BINARY_DIR, "--prefix", (s.path / "prefix").string()});
    CHECK(fs::exists(s.path / "prefix/share/man/man1/livecd-creator.1"));
    CHECK(fs::exists(s.path / "prefix/share/man/man1/ksvalidator.1"));
    // The frontends and their man pages are installed; the example programs are not.
    for (const char* p : {"livecd-creator", "image-creator", "ksvalidator", "ksflatten"}) CHECK(fs::exists(s.path / "prefix/bin" / p));
    CHECK_FALSE(fs::exists(s.path / "prefix/bin/custom_creator"));
    fs::create_directories(s.path / "ks");
    std::ofstream(s.path / "ks/part.ks") << "repo --name=local --baseurl=file://" << repo.string() << "\nselinux --disabled\n";
    std::ofstream(s.path / "ks/top.ks") << "%include part.ks\n%packages --nocore\nhello\n%end\n";
    run({"cmake", "-S", IMGCREATE_TEST_SOURCE_DIR "/packaging/fixtures/image-consumer", "-B", (s.path / "build").string(),
         "-G", "Ninja", "-DCMAKE_PREFIX_PATH=" + (s.path / "prefix").string(), "-DKICKSTART=" + (s.path / "ks/top.ks").string(),
         "-DSCRATCH=" + s.path.string()});
    const std::vector<std::string> build{"cmake", "--build", (s.path / "build").string(), "--target", "tree", "packed"};
    auto first = run(build).output;
    INFO(first);
    CHECK(first.find("Building the tree tree from ") != std::string::npos);
    CHECK(first.find("Building the image packed with tar_creator") != std::string::npos);
    CHECK(fs::exists(s.path / "build/out/tree/usr/bin/hello"));
    // The project's own creator ran (built against the installed package) and made its output.
    CHECK(first.find("tar_creator wrote " + (s.path / "build/out/packed.tar.zst").string()) != std::string::npos);
    CHECK(run({"tar", "--zstd", "-tf", (s.path / "build/out/packed.tar.zst").string()}).output.find("./usr/bin/hello\n") !=
          std::string::npos);
    CHECK(run(build).output.find("no work to do") != std::string::npos);
    std::ofstream(s.path / "ks/part.ks", std::ios::app) << "rootpw --lock\n";
    auto third = run(build).output;
    CHECK(third.find("Building the tree tree from ") != std::string::npos);
    CHECK(third.find("Building the image packed with tar_creator") != std::string::npos);
    CHECK(third.find("tar_creator wrote ") != std::string::npos);
    CHECK(fs::exists(s.path / "build/out/tree/usr/bin/hello"));
}

TEST_CASE("run by a user with no subordinate ids, the programs say what a build without root needs and exit 1") {
    IMGCREATE_REQUIRE_ROOT();  // to drop to nobody
    IMGCREATE_REQUIRE_PROGRAM("setpriv");
    require_program_built("image-creator");
    Scratch s;
    fs::permissions(s.path, fs::perms(0755));
    std::ofstream(s.path / "a.ks") << "selinux --disabled\n";
    Command cmd;
    cmd.argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", (examples / "image-creator").string(),
                (s.path / "a.ks").string()};
    cmd.check = false;
    auto r = run(cmd);
    CHECK(r.exit_status == 1);
    CHECK(r.output ==
          "image-creator: error: cannot build without root: user nobody has no subordinate uid range in /etc/subuid; an "
          "administrator can give it one with `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 nobody`, "
          "or build as root\n");
}

TEST_CASE("Ctrl-C during a build exits 130 with a line saying what was cleaned up") {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* p : {"rpmbuild", "createrepo_c"}) IMGCREATE_REQUIRE_PROGRAM(p);
    require_program_built("image-creator");
    Scratch s;
    const auto ks = s.path / "slow.ks";
    std::ofstream(ks) << kickstart_text(test_repo()) << "%post --nochroot\ntouch " << (s.path / "in-post").string()
                      << "\nsleep 3\n%end\n";
    const std::string line = quote((examples / "image-creator").string()) + " --image-type fs -n slow -q -t " +
                             quote(s.path.string()) + " -o " + quote(s.path.string()) + " " + quote(ks.string()) +
                             " 2>" + quote((s.path / "err").string()) + " & pid=$!; while [ ! -e " +
                             quote((s.path / "in-post").string()) +
                             " ]; do sleep 0.1; done; kill -INT $pid; wait $pid; echo status $?";
    auto r = run({"sh", "-c", line});
    CHECK(r.output == "status 130\n");
    const auto err = slurp(s.path / "err");
    const auto build_dir = err.substr(err.rfind(", remove ") + 9);
    CHECK(err.rfind("image-creator: interrupted by SIGINT; cleaned up: ", 0) == 0);
    CHECK(build_dir.rfind((s.path / "imgcreate-").string(), 0) == 0);
    CHECK_FALSE(fs::exists(build_dir.substr(0, build_dir.size() - 1)));
    CHECK_FALSE(fs::exists(s.path / "slow"));
}

// ---- live builds: mksquashfs's progress, -l, --base-on with --compression-type None ----

namespace {

// The demo's repository (Debian's kernel and busybox as rpms) and kickstart; the package and
// initramfs cache stays in the build tree, so only the first run builds an initramfs.
struct LiveSetup {
    fs::path dir = fs::path(IMGCREATE_BINARY_DIR) / "test-data/frontend/live";
    fs::path kickstart = dir / "demo-live.ks";
    fs::path cache = dir / "cache";
    LiveSetup() {
        fs::create_directories(dir);
        run({IMGCREATE_SOURCE_DIR "/examples/demo/make-repo", (dir / "repo").string()});
        auto text = slurp(IMGCREATE_SOURCE_DIR "/examples/demo/demo-live.ks");
        text.replace(text.find("@DEMO_REPO@"), 11, (dir / "repo").string());
        std::ofstream(kickstart) << text;
    }
};

void require_live_tools() {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* p : {"xorriso", "mksquashfs", "unsquashfs", "dracut", "grub-mkimage", "mkfs.fat", "mcopy", "rpmbuild",
                          "createrepo_c", "debugfs", "script"})
        IMGCREATE_REQUIRE_PROGRAM(p);
    require_program_built("livecd-creator");
}

// The root image's squashfs compressor and the text of `file` inside it.
std::pair<std::string, std::string> look_inside(const fs::path& iso, const fs::path& work, const std::string& file) {
    fs::create_directories(work);
    run({"xorriso", "-osirrox", "on", "-indev", iso.string(), "-extract", "/LiveOS/squashfs.img", (work / "sq.img").string()});
    std::string compression;
    std::istringstream sb(run({"unsquashfs", "-s", (work / "sq.img").string()}).output);
    for (std::string line; std::getline(sb, line);)
        if (line.rfind("Compression ", 0) == 0) compression = line.substr(12);
    run({"unsquashfs", "-no-progress", "-d", (work / "tree").string(), (work / "sq.img").string()});
    Command cat;
    cat.argv = {"debugfs", "-R", "cat " + file, (work / "tree/LiveOS/rootfs.img").string()};
    cat.log_output = false;
    auto text = run(cat).output;
    // debugfs puts its version line first.
    if (auto nl = text.find('\n'); text.rfind("debugfs ", 0) == 0 && nl != std::string::npos) text.erase(0, nl + 1);
    fs::remove_all(work);
    return {compression, text};
}

}  // namespace

TEST_CASE("a live build on a terminal shows mksquashfs's progress, and -l runs a shell with the host's mounts in the image") {
    require_live_tools();
    LiveSetup live;
    Scratch s;
    // What the user types into the shell; it records what the shell saw in the image.
    std::ofstream(s.path / "typed") << "echo \"mark $IMGCREATE_TEST_MARK\" > /etc/shell-result\n"
                                       "ls /run/iso >> /etc/shell-result\n"
                                       "test -d /run/hostroot" << s.path.string() << " && echo hostroot >> /etc/shell-result\n"
                                       "test -c /dev/pts/ptmx && echo pts >> /etc/shell-result\n"
                                       "echo \"PS1=$PS1\" >> /etc/shell-result\n"
                                       "exit\n";
    const bool had_run_iso = fs::exists("/run/iso"), had_hostroot = fs::exists("/run/hostroot");
    const std::string creator = quote((examples / "livecd-creator").string()) + " -c " + quote(live.kickstart.string()) +
                                " -f PTYLIVE --compression-type lz4 -l --cache " + quote(live.cache.string()) + " -t " +
                                quote(s.path.string()) + " -o " + quote(s.path.string());
    Command cmd;
    cmd.argv = {"sh", "-c", "IMGCREATE_TEST_MARK=m42 script -qec " + quote(creator) + " /dev/null < " +
                                quote((s.path / "typed").string())};
    cmd.check = false;
    cmd.log_output = false;
    auto r = run(cmd);
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    // The status line: redrawn in place ("\r\033[K"), in the rpm transaction's look.
    CHECK(r.output.find("\r\033[K[1/3] installing filesystem-") != std::string::npos);
    CHECK(r.output.find("] squashing squashfs.img 100%") != std::string::npos);
    CHECK(r.output.find("\r\033[K[") != std::string::npos);
    CHECK(r.output.find("Shell (/bin/sh) in the install root ") != std::string::npos);
    CHECK(fs::exists("/run/iso") == had_run_iso);
    CHECK(fs::exists("/run/hostroot") == had_hostroot);

    const auto [compression, result] = look_inside(s.path / "PTYLIVE.iso", s.path / "look", "/etc/shell-result");
    CHECK(compression == "lz4");
    CHECK(result ==
          "mark m42\n"
          "EFI\nLiveOS\nboot\nimages\n"
          "hostroot\n"
          "pts\n"
          "PS1=[\\u@\\h install_root \\w]\\$ \n");
    CHECK(run({"findmnt", "-rn", "-o", "TARGET"}).output.find(s.path.string()) == std::string::npos);

    SECTION("on a pipe: no progress line, the log lines only; --base-on with -l installs nothing, None keeps lz4") {
        fs::create_directories(s.path / "second");
        std::ofstream(s.path / "typed2") << "echo edited > /etc/second-edit\n";
        Command again;
        again.argv = {"sh", "-c", quote((examples / "livecd-creator").string()) + " -c " + quote(live.kickstart.string()) +
                                      " -f SECOND -b " + quote((s.path / "PTYLIVE.iso").string()) +
                                      " --compression-type None -l --cache " + quote(live.cache.string()) + " -t " +
                                      quote(s.path.string()) + " -o " + quote((s.path / "second").string()) + " < " +
                                      quote((s.path / "typed2").string()) + " 2>&1 | cat"};
        again.log_output = false;
        const auto out = run(again).output;
        INFO(out);
        CHECK(out.find('\r') == std::string::npos);
        CHECK(out.find("\033[") == std::string::npos);
        CHECK(out.find("squashing squashfs.img") == std::string::npos);
        CHECK(out.find("\ninstalling no packages: the root is used as it is\n") != std::string::npos);
        CHECK(out.find("\n--compression-type None: squashing with lz4, as " + (s.path / "PTYLIVE.iso").string() + " is\n") !=
              std::string::npos);
        CHECK(out.find("/LiveOS/squashfs.img (lz4)\n") != std::string::npos);
        CHECK(out.find("installing filesystem-") == std::string::npos);
        CHECK_THAT(out, Catch::EndsWith("\n" + (s.path / "second/SECOND.iso").string() + "\n"));
        const auto [second_compression, edit] =
            look_inside(s.path / "second/SECOND.iso", s.path / "look2", "/etc/second-edit");
        CHECK(second_compression == "lz4");
        CHECK(edit == "edited\n");
        CHECK(look_inside(s.path / "second/SECOND.iso", s.path / "look3", "/etc/shell-result").second.rfind("mark m42\n", 0) ==
              0);

        // A base holding its root image uncompressed (-s) gives, with None, an uncompressed ISO.
        auto quick = [&](const std::string& label, const fs::path& base, const std::string& extra) {
            fs::create_directories(s.path / label);
            run({"sh", "-c", quote((examples / "livecd-creator").string()) + " -q -l -c " + quote(live.kickstart.string()) +
                                 " -f " + label + " -b " + quote(base.string()) + " " + extra + " --cache " +
                                 quote(live.cache.string()) + " -t " + quote(s.path.string()) + " -o " +
                                 quote((s.path / label).string()) + " </dev/null"});
            return run({"sh", "-c", "xorriso -indev " + quote((s.path / label / (label + ".iso")).string()) +
                                         " -find /LiveOS -type f 2>/dev/null"})
                .output;
        };
        CHECK(quick("PLAIN", s.path / "second/SECOND.iso", "-s") == "'/LiveOS/rootfs.img'\n");
        CHECK(quick("KEPT", s.path / "PLAIN/PLAIN.iso", "--compression-type None") == "'/LiveOS/rootfs.img'\n");
        CHECK(quick("SQUASHED", s.path / "PLAIN/PLAIN.iso", "--compression-type gzip") == "'/LiveOS/squashfs.img'\n");
    }
}

TEST_CASE("livecd-creator refuses --compression-type None without --base-on as a usage mistake") {
    require_program_built("livecd-creator");
    Scratch s;
    auto r = run_program("livecd-creator", {"--compression-type", "None", "a.ks"}, s.path);
    CHECK(r.status == 2);
    CHECK(r.err ==
          "usage: livecd-creator [options] -c KICKSTART | livecd-creator [options] KICKSTART\n"
          "livecd-creator: error: --compression-type None takes the compressor of the --base-on ISO, and there is no "
          "--base-on: give one, or name a compressor (xz, zstd, lz4, gzip, lzo)\n"
          "Try 'livecd-creator --help' for the options.\n");
}

// ---- ksvalidator and ksflatten, as pykickstart's users run them ----

TEST_CASE("ksvalidator exits 0 on a valid kickstart and 1 on one with errors, listing them all") {
    require_program_built("ksvalidator");
    Scratch s;
    const auto good = (s.path / "good.ks").string(), bad = (s.path / "bad.ks").string();
    std::ofstream(good) << "lang en_US\nkeyboard us\n%packages\n@core\n%end\n";
    std::ofstream(bad) << "lang\nkeyboard us\npart / --size=x\n";
    auto ok = run_program("ksvalidator", {good}, s.path);
    CHECK(ok.status == 0);
    CHECK(ok.out == "\nChecking kickstart file " + good + "\n\n");
    auto r = run_program("ksvalidator", {bad}, s.path);
    CHECK(r.status == 1);
    CHECK(r.out == "\nChecking kickstart file " + bad + "\n\n" + bad + ":1: the following arguments are required: <lang>\n" + bad +
                       ":3: argument --size: invalid int value: 'x'\n");
    // -e: the first one only
    auto first = run_program("ksvalidator", {"-e", bad}, s.path);
    CHECK(first.status == 1);
    CHECK(first.out.find(":3:") == std::string::npos);
    CHECK(first.out.find(":1: the following arguments are required") != std::string::npos);
    // several files and a pattern: every file checked, one bad one fails the run
    auto both = run_program("ksvalidator", {(s.path / "*.ks").string()}, s.path);
    CHECK(both.status == 1);
    CHECK(both.out.find("Checking kickstart file " + good) != std::string::npos);
    CHECK(both.out.find("Checking kickstart file " + bad) != std::string::npos);
    auto none = run_program("ksvalidator", {(s.path / "*.cfg").string()}, s.path);
    CHECK(none.status == 1);
    CHECK(none.out == "No files match the patterns.\n");
}

TEST_CASE("ksvalidator counts deprecated options as errors as pykickstart does, unless --allow-warnings") {
    require_program_built("ksvalidator");
    Scratch s;
    const auto ks = (s.path / "old.ks").string();
    std::ofstream(ks) << "timezone UTC --isUtc\nlang en_US\nlang de_DE\n";
    auto r = run_program("ksvalidator", {ks}, s.path);
    CHECK(r.status == 1);
    CHECK(r.out.find(ks + ":1: The --isUtc option of timezone is deprecated") != std::string::npos);
    // the override of one lang by another is a note, printed, never an error
    CHECK(r.out.find(ks + ":3: warning: The lang command overrides the lang command given at " + ks + ":2") != std::string::npos);
    auto lenient = run_program("ksvalidator", {"--allow-warnings", ks}, s.path);
    CHECK(lenient.status == 0);
    CHECK(lenient.out.find(ks + ":1: warning: The --isUtc option of timezone is deprecated") != std::string::npos);
}

TEST_CASE("ksvalidator reads %include files only with -i") {
    require_program_built("ksvalidator");
    Scratch s;
    std::ofstream(s.path / "top.ks") << "lang en_US\n%include part.ks\n";
    std::ofstream(s.path / "part.ks") << "keyboard\n";
    const auto top = (s.path / "top.ks").string();
    CHECK(run_program("ksvalidator", {top}, s.path).status == 0);
    auto r = run_program("ksvalidator", {"-i", top}, s.path);
    CHECK(r.status == 1);
    CHECK(r.out.find((s.path / "part.ks").string() + ":1: One of --xlayouts, --vckeymap options with value(s) or argument is expected for the keyboard command") != std::string::npos);
}

TEST_CASE("ksvalidator knows its syntax versions and refuses others") {
    require_program_built("ksvalidator");
    Scratch s;
    auto l = run_program("ksvalidator", {"-l"}, s.path);
    CHECK(l.status == 0);
    CHECK(l.out.find("DEVEL\n") != std::string::npos);
    std::ofstream(s.path / "a.ks") << "lang en_US\n";
    auto v = run_program("ksvalidator", {"-v", "RHEL3", (s.path / "a.ks").string()}, s.path);
    CHECK(v.status == 1);
    CHECK(v.out.find("The version RHEL3 is not supported") != std::string::npos);
    auto u = run_program("ksvalidator", {"--frob"}, s.path);
    CHECK(u.status == 2);
    CHECK(u.err.rfind("usage: ksvalidator", 0) == 0);
}

TEST_CASE("ksvalidator fails exactly the real Fedora kickstarts pykickstart's validator fails") {
    require_program_built("ksvalidator");
    const fs::path root = fs::path(IMGCREATE_SHARED_DIR) / "kickstarts" / "fedora";
    if (!fs::exists(root)) IMGCREATE_SKIP(root.string() + " is not there");
    Scratch s;
    std::vector<std::string> failing;
    std::size_t checked = 0;
    for (const auto& e : fs::directory_iterator(root)) {
        if (e.path().extension() != ".ks") continue;
        ++checked;
        auto r = run_program("ksvalidator", {e.path().string()}, s.path);
        if (r.status != 0) {
            failing.push_back(e.path().filename().string());
            // only for deprecated options
            CHECK(r.out.find("is deprecated") != std::string::npos);
        }
    }
    std::sort(failing.begin(), failing.end());
    CHECK(checked >= 60);
    // pykickstart 3.74's ksvalidator (newest syntax) exits 1 on these seven, for deprecated options
    CHECK(failing == std::vector<std::string>{"fedora-cloud-base.ks", "fedora-container-base-minimal.ks",
                                              "fedora-container-base.ks", "fedora-container-common.ks",
                                              "fedora-container-toolbox.ks", "fedora-eln-container-base.ks",
                                              "fedora-modular-disk-minimal.ks"});
}

TEST_CASE("ksflatten writes one stand-alone file, to stdout or -o, and skips %ksappend as pykickstart's does") {
    require_program_built("ksflatten");
    require_program_built("ksvalidator");
    Scratch s;
    std::ofstream(s.path / "top.ks") << "%include part.ks\n%ksappend " << (s.path / "extra.ks").string()
                                     << "\n%packages\nvim\n%end\n";
    std::ofstream(s.path / "part.ks") << "lang en_US\nkeyboard us\n";
    std::ofstream(s.path / "extra.ks") << "timezone UTC\n";
    const auto top = (s.path / "top.ks").string(), out = (s.path / "flat.ks").string();
    auto r = run_program("ksflatten", {"-c", top}, s.path);
    CHECK(r.status == 0);
    CHECK(r.out.find("lang en_US\n") != std::string::npos);
    CHECK(r.out.find("# Keyboard layouts\nkeyboard 'us'\n") != std::string::npos);
    CHECK(r.out.find("%include") == std::string::npos);
    CHECK(r.out.find("timezone") == std::string::npos);
    CHECK(r.out.find("%packages\nvim\n\n%end\n") != std::string::npos);
    auto o = run_program("ksflatten", {"--config", top, "-o", out}, s.path);
    CHECK(o.status == 0);
    CHECK(o.out.empty());
    CHECK(slurp(out) == r.out);
    // what it wrote is a valid kickstart on its own
    CHECK(run_program("ksvalidator", {out}, s.path).status == 0);
    auto missing = run_program("ksflatten", {}, s.path);
    CHECK(missing.status == 2);
    CHECK(missing.err.find("the following arguments are required: -c/--config") != std::string::npos);
    std::ofstream(s.path / "broken.ks") << "lang en_US\n%post\necho\n";
    auto broken = run_program("ksflatten", {"-c", (s.path / "broken.ks").string()}, s.path);
    CHECK(broken.status == 1);
    CHECK(broken.err.find((s.path / "broken.ks").string() + ":2: Section %post does not end with %end.") != std::string::npos);
}

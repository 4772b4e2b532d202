// Kill points inside the long phases of a real LoopImage build (LoopMount, RpmInstall, NoBoot,
// CopyStage from a repository served over HTTP): while mkfs.ext4 runs, while packages
// download (the server pauses before each rpm), inside the rpm transaction (a Lua %pre that
// spins), and while the image is minimised (e2fsck / resize2fs). At each, SIGINT, SIGTERM and
// SIGKILL. Afterwards the host must hold no mount or loop device below the scratch dir, no
// process still working on the build, and no file in the output dir; after SIGINT/SIGTERM no
// build dir either (after SIGKILL no code runs, so its files stay, with nothing mounted).
// A live build (LiveMount, RpmInstall, IsoStage, with a boot policy that only makes the ISO
// tree) is interrupted the same ways while mksquashfs runs and while xorriso runs.
#include <catch2/catch.hpp>

#include "system/mount/fixture.hpp"

#include <imgcreate/imgcreate.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/support/interrupt.hpp>
#include <support/local_server.hpp>
#include <support/rpmrepo.hpp>
#include <support/skip.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <csignal>
#include <cstdio>
#include <functional>

using namespace imgcreate;
using namespace imgcreate::test;

namespace {

int kill_points_tried = 0;
const int report_at_exit = std::atexit([] {
    if (kill_points_tried) std::printf("kill points tried: %d\n", kill_points_tried);
});

fs::path slow_repo() {
    return build_repo(fs::path(IMGCREATE_TEST_SOURCE_DIR) / "system/faults/specs",
                      fs::path(IMGCREATE_BINARY_DIR) / "test-repos/faults-slow");
}

// The slow server, stopped when it goes.
struct SlowServer : imgcreate::test::LocalServer {
    SlowServer(const fs::path& dir, double delay, const fs::path& marker)
        : LocalServer({"/usr/bin/python3", std::string(IMGCREATE_TEST_SOURCE_DIR) + "/system/faults/slow-http-server.py",
                       dir.string(), "{port}", std::to_string(delay), marker.string()}) {}
};

// Processes (other than the build itself) working on something below `dir`: named in their
// command line, or with their root or working dir there.
std::vector<std::string> processes_on(const fs::path& dir, pid_t except = -1) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& p : fs::directory_iterator("/proc", ec)) {
        const auto name = p.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos || std::stoi(name) == except) continue;
        std::string cmdline = slurp(p.path() / "cmdline");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        bool hit = cmdline.find(dir.string() + "/") != std::string::npos;
        for (const char* link : {"root", "cwd"}) {
            std::error_code e2;
            hit = hit || fs::read_symlink(p.path() / link, e2).string().rfind(dir.string() + "/", 0) == 0;
        }
        if (hit && name != std::to_string(::getpid())) out.push_back(name + ": " + cmdline);
    }
    return out;
}

// A moment for the kernel to deliver the helpers' parent-death signal; far less than any
// helper here would need to finish its work on its own.
std::vector<std::string> processes_on_after_settling(const fs::path& dir, pid_t except) {
    auto left = processes_on(dir, except);
    for (int i = 0; i < 8 && !left.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        left = processes_on(dir, except);
    }
    return left;
}

// A helper program of the build (by its command name) running on the scratch dir.
bool helper_running(const fs::path& dir, const std::vector<std::string>& names) {
    std::error_code ec;
    for (const auto& p : fs::directory_iterator("/proc", ec)) {
        const auto pid = p.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        auto comm = slurp(p.path() / "comm");
        if (!comm.empty() && comm.back() == '\n') comm.pop_back();
        if (std::find(names.begin(), names.end(), comm) == names.end()) continue;
        auto cmdline = slurp(p.path() / "cmdline");
        if (cmdline.find(dir.string() + "/") != std::string::npos) return true;
    }
    return false;
}

// The marker the slow package's %pre writes, seen through the build's own mount namespace.
bool transaction_started(pid_t build, const fs::path& tmpdir) {
    for (const auto& b : entries_of(tmpdir)) {
        const auto marker = "/proc/" + std::to_string(build) + "/root" + (tmpdir / b / "install_root/slow-scriptlet-started").string();
        if (fs::exists(marker)) return true;
    }
    return false;
}

struct KillPoint {
    const char* phase;
    std::function<bool(pid_t, const fs::path& scratch)> reached;
};

bool poll(const std::function<bool()>& reached, std::chrono::seconds limit = std::chrono::seconds(120)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!reached()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return true;
}

const char* signal_name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGKILL"; }

// A build in a forked child: its outcome's first line, and what its namespace still held.
template <typename Image> Child start_build(const std::string& ks, const CreatorOptions& options) {
    return Child([ks, options] {
        InterruptGuard guard;
        std::string outcome;
        {
            Image creator(std::make_shared<kickstart::Kickstart>(kickstart::parse_string(ks)), options);
            try {
                creator.create();
                outcome = "built";
            } catch (const std::exception& e) {
                outcome = e.what();
                outcome = outcome.substr(0, outcome.find('\n'));
            }
        }
        return outcome + "\nmounts left in the build's namespace: " + std::to_string(mount_points_below(options.tmpdir).size());
    });
}

// Signals the build once `reached` holds, then checks what it left on the host.
void kill_and_check(Child& child, int sig, const fs::path& scratch, const std::function<bool()>& reached,
                    pid_t server = -1) {
    REQUIRE(poll(reached));
    child.signal(sig);
    ++kill_points_tried;
    const auto report = child.wait();
    if (sig == SIGKILL) {
        CHECK(child.exit_code() == 128 + SIGKILL);
    } else {
        CHECK(report == std::string("interrupted by ") + signal_name(sig) + "\nmounts left in the build's namespace: 0");
    }
    CHECK(mount_points_below(scratch).empty());
    CHECK(loops_below_after_settling(scratch).empty());
    CHECK(processes_on_after_settling(scratch, server).empty());
    CHECK(entries_of(scratch / "out").empty());
    if (sig != SIGKILL) CHECK(entries_of(scratch / "tmp").empty());
}

// The ISO tree and nothing else: IsoStage then makes a plain data ISO, with no boot loader
// or initramfs to build first.
struct IsoTreeOnly {
    void before_install(BuildContext&) {}
    void configure_boot(BuildContext& ctx) {
        fs::create_directories(boot::live_iso_dir(ctx));
        std::ofstream(boot::live_iso_dir(ctx) / "README") << "kill point test\n";
    }
    void before_unmount(BuildContext&) {}
};
using BareLiveImage = Creator<LiveMount, install::RpmInstall, IsoTreeOnly, IsoStage>;

}  // namespace

TEST_CASE("SIGINT, SIGTERM or SIGKILL inside mkfs, download, the rpm transaction or minimising leaves nothing behind") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("rpmbuild");
    IMGCREATE_REQUIRE_PROGRAM("createrepo_c");
    IMGCREATE_REQUIRE_PROGRAM("busybox");
    const auto repo = slow_repo();
    const std::vector<KillPoint> points = {
        {"mkfs", [](pid_t, const fs::path& s) { return helper_running(s, {"mkfs.ext4", "mke2fs"}); }},
        {"download", [](pid_t, const fs::path& s) { return fs::exists(s / "download-started"); }},
        {"transaction", [](pid_t pid, const fs::path& s) { return transaction_started(pid, s / "tmp"); }},
        {"minimise", [](pid_t, const fs::path& s) { return helper_running(s, {"e2fsck", "resize2fs"}); }},
    };
    for (const auto& point : points) {
        for (int sig : {SIGINT, SIGTERM, SIGKILL}) {
            INFO(signal_name(sig) << " during " << point.phase);
            ScratchDir tmp;
            SlowServer server(repo, 0.5, tmp.path / "download-started");
            CreatorOptions options;
            options.name = "killed";
            options.tmpdir = tmp.path / "tmp";
            options.outdir = tmp.path / "out";
            options.cache_dir = tmp.path / "cache";
            fs::create_directories(options.tmpdir);
            const std::string ks = "repo --name=slow --baseurl=" + server.url() +
                                   "\npart / --size 3072\n%packages --nocore\nbusybox-sh\nslow-scriptlet\n%end\n";
            auto child = start_build<LoopImage>(ks, options);
            // the slow server names the scratch dir on its command line: not the build's
            kill_and_check(child, sig, tmp.path, [&] { return point.reached(child.pid(), tmp.path); }, server.pid());
        }
    }
    std::printf("kill points tried inside long phases: %d\n", kill_points_tried);
}

TEST_CASE("SIGINT, SIGTERM or SIGKILL while mksquashfs or xorriso runs in a live build leaves nothing behind") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("rpmbuild");
    IMGCREATE_REQUIRE_PROGRAM("createrepo_c");
    IMGCREATE_REQUIRE_PROGRAM("busybox");
    IMGCREATE_REQUIRE_PROGRAM("mksquashfs");
    IMGCREATE_REQUIRE_PROGRAM("xorriso");
    const auto repo = slow_repo();
    const int before = kill_points_tried;
    // Each phase made long enough to be caught: an unminimised 1 GiB root image to squash, or
    // (without compression) to write whole into the ISO.
    struct LivePoint {
        const char* phase;
        const char* helper;
        bool skip_compression;
    };
    for (const auto& point : {LivePoint{"squashfs", "mksquashfs", false}, LivePoint{"iso", "xorriso", true}}) {
        for (int sig : {SIGINT, SIGTERM, SIGKILL}) {
            INFO(signal_name(sig) << " during " << point.phase);
            ScratchDir tmp;
            CreatorOptions options;
            options.name = "killed";
            options.tmpdir = tmp.path / "tmp";
            options.outdir = tmp.path / "out";
            options.cache_dir = tmp.path / "cache";
            options.skip_minimize = true;
            options.skip_compression = point.skip_compression;
            fs::create_directories(options.tmpdir);
            const std::string ks = "repo --name=local --baseurl=file://" + repo.string() +
                                   "\npart / --size 1024\n%packages --nocore\nbusybox-sh\n%end\n";
            auto child = start_build<BareLiveImage>(ks, options);
            kill_and_check(child, sig, tmp.path, [&] { return helper_running(tmp.path, {point.helper}); });
        }
    }
    CHECK(kill_points_tried - before == 6);
    std::printf("kill points tried in the live build's squashfs and ISO phases: %d\n", kill_points_tried - before);
}

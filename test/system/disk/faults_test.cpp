// SIGINT, SIGTERM and SIGKILL sent to `image-creator --image-type disk` at each long step of a
// disk build on the small test repository, as root and as a user with no loop device: while
// packages install, while mkfs.ext4 makes a filesystem from the tree, while mcopy fills the ESP,
// while sfdisk writes the partition table and while qemu-img converts the disk. A step is
// caught by putting a stand-in for its program first on PATH: it says it started, then waits
// to be killed. Afterwards nothing may be left: no build dir, no output file, no process, no
// mount, no loop device (after SIGKILL to root's build, whose code then never runs, its build dir
// stays, unmounted, as in test/system/faults); the exit status is 130 after SIGINT or SIGTERM,
// SIGKILL's after SIGKILL.
#include <catch2/catch.hpp>

#include "system/mount/fixture.hpp"
#include "support/skip.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace imgcreate::test;

fs::path small_kickstart(const fs::path& dir);  // appliance_creator_test.cpp
const passwd& build_user();                     // appliance_creator_test.cpp

namespace {

const fs::path image_creator = fs::path(IMGCREATE_BINARY_DIR) / "examples/image-creator";

struct KillPoint {
    const char* step;
    const char* program;  // the stand-in put first on PATH; empty: the log line below instead
    const char* log_line;
};

// A program that says it was reached and then waits to be killed (a busy loop in the shell
// itself, so no child outlives it).
void write_stand_in(const fs::path& bin, const std::string& program, const fs::path& marker) {
    fs::create_directories(bin);
    const auto path = bin / program;
    std::ofstream(path) << "#!/bin/sh\n: > '" << marker.string() << "'\nwhile :; do :; done\n";
    fs::permissions(path, fs::perms(0755));
}

// image-creator --image-type disk in the background, its output in `log`.
pid_t start_build(const std::vector<std::string>& argv, const fs::path& log, const fs::path& bin) {
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    const std::string path = bin.string() + ":/usr/sbin:/usr/bin:/sbin:/bin";
    ::setenv("PATH", path.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
}

// What is left of a build in `dir` (its build dir, an output), and processes working there or
// running as the user's namespace: empty once everything is gone.
// After SIGKILL to root's build no code of it runs, so its build dir stays (with nothing mounted
// in it), as in the other fault tests; a user's build lives on in its namespace and cleans up.
std::vector<std::string> leftovers(const fs::path& dir, const passwd* user, bool build_dir_may_stay) {
    std::vector<std::string> left;
    if (!build_dir_may_stay)
        for (const auto& name : entries_of(dir / "tmp")) left.push_back("tmp/" + name);
    for (const auto& name : entries_of(dir / "out")) left.push_back("out/" + name);
    for (const auto& m : mount_points_below(dir)) left.push_back("mount " + m);
    for (const auto& l : loops_below(dir)) left.push_back("loop " + l);
    for (const auto& p : fs::directory_iterator("/proc")) {
        const auto pid = p.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos || pid == std::to_string(::getpid())) continue;
        auto cmdline = slurp(p.path() / "cmdline");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        struct stat st {};
        const bool users = user && ::stat(p.path().c_str(), &st) == 0 &&
                           (st.st_uid == user->pw_uid || (st.st_uid >= 300000 && st.st_uid < 365536));
        if (cmdline.find(dir.string() + "/") != std::string::npos || users) left.push_back(pid + ": " + cmdline);
    }
    return left;
}

std::vector<std::string> leftovers_after_settling(const fs::path& dir, const passwd* user, bool build_dir_may_stay) {
    auto left = leftovers(dir, user, build_dir_may_stay);
    for (int i = 0; i < 100 && !left.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        left = leftovers(dir, user, build_dir_may_stay);
    }
    return left;
}

const char* signal_name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGKILL"; }

}  // namespace

TEST_CASE("SIGINT, SIGTERM or SIGKILL at each long step of a disk build, by root or a user, leaves nothing behind") {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* p : {"rpmbuild", "createrepo_c", "sfdisk", "mkfs.ext4", "mkfs.fat", "mcopy", "mkswap", "qemu-img",
                          "grub-mkimage", "setpriv", "newuidmap", "newgidmap", "useradd"})
        IMGCREATE_REQUIRE_PROGRAM(p);
    if (!fs::exists(image_creator)) IMGCREATE_SKIP(image_creator.string() + " is not built (--target image-creator)");
    const std::vector<KillPoint> points = {
        {"install", "", "installing "},
        {"filesystems from the tree", "mkfs.ext4", nullptr},
        {"the ESP", "mcopy", nullptr},
        {"assembly", "sfdisk", nullptr},
        {"conversion", "qemu-img", nullptr},
    };
    int tried = 0;
    for (const passwd* user : {static_cast<const passwd*>(nullptr), &build_user()}) {
        for (const auto& point : points) {
            for (int sig : {SIGINT, SIGTERM, SIGKILL}) {
                ScratchDir s;
                fs::permissions(s.path, fs::perms(0755));
                const auto dir = s.path / "build";
                for (const char* d : {"tmp", "out", "cache", "mark"}) fs::create_directories(dir / d);
                if (user)
                    for (const auto& d : {dir, dir / "tmp", dir / "out", dir / "cache", dir / "mark"})
                        REQUIRE(::chown(d.c_str(), user->pw_uid, user->pw_gid) == 0);
                const auto marker = dir / "mark/reached";
                if (*point.program) write_stand_in(s.path / "bin", point.program, marker);
                const auto ks = small_kickstart(s.path);
                std::vector<std::string> argv;
                if (user)
                    argv = {"setpriv", "--reuid=" + std::to_string(user->pw_uid), "--regid=" + std::to_string(user->pw_gid),
                            "--clear-groups", "--"};
                argv.insert(argv.end(), {image_creator.string(), "--image-type", "disk", "-c", ks.string(), "-n", "killed",
                                         "--format", "qcow2", "--debug", "-t", (dir / "tmp").string(), "-o", (dir / "out").string(),
                                         "--cache", (dir / "cache").string()});
                const auto log = s.path / "build.log";
                const pid_t child = start_build(argv, log, s.path / "bin");
                const auto reached = [&] {
                    return *point.program ? fs::exists(marker) : slurp(log).find(point.log_line) != std::string::npos;
                };
                const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
                while (!reached() && std::chrono::steady_clock::now() < deadline)
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                INFO(signal_name(sig) << " during " << point.step << (user ? " by a user" : " by root") << "\n" << slurp(log));
                REQUIRE(reached());
                ::kill(child, sig);
                ++tried;
                int status = 0;
                ::waitpid(child, &status, 0);
                if (sig == SIGKILL) CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
                else CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 130));
                std::string left;
                for (const auto& l : leftovers_after_settling(dir, user, sig == SIGKILL && !user)) left += l + "\n";
                INFO("left behind:\n" << left);
                CHECK(left.empty());
            }
        }
    }
    CHECK(tried == 30);
    std::printf("disk build kill points tried: %d\n", tried);
}

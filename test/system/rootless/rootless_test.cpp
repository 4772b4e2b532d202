// Builds by an ordinary user: the frontends run as a user with a subordinate id range (made
// here, as CI does: imgcreate-rootless, ids 300000-365535), enter a user namespace of their own
// and make every image with no loop device and no mount on the host. Checked as a user would:
// the outputs are theirs and complete, the live ISO is byte-identical to root's under
// SOURCE_DATE_EPOCH, the loop image holds the same files with the same owners, modes and
// extended attributes as root's, each refusal says what to do, and a signal leaves nothing.
#include <catch2/catch.hpp>
#include <support/rpmrepo.hpp>
#include <support/skip.hpp>
#include <support/tree_listing.hpp>

#include <imgcreate/mount/libmount.hpp>
#include <imgcreate/mount/loop_device.hpp>
#include <imgcreate/mount/namespace.hpp>
#include <imgcreate/mount/user_namespace.hpp>
#include <imgcreate/support/process.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace imgcreate;
using imgcreate::test::describe_tree;
using imgcreate::test::listing_differences;

namespace {

const fs::path work = fs::path(IMGCREATE_BINARY_DIR) / "demo" / "system-rootless";
const fs::path bin = fs::path(IMGCREATE_BINARY_DIR) / "examples";
constexpr const char* user_name = "imgcreate-rootless";
constexpr long long epoch = 1700000000;

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The test user, with a subordinate range; made once.
const passwd& test_user() {
    static const passwd user = [] {
        if (!::getpwnam(user_name))
            run({"useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user_name});
        if (slurp("/etc/subuid").find(std::string(user_name) + ":") == std::string::npos)
            run({"usermod", "--add-subuids", "300000-365535", "--add-subgids", "300000-365535", user_name});
        return *::getpwnam(user_name);
    }();
    return user;
}

void require_setup() {
    IMGCREATE_REQUIRE_ROOT();
    for (const char* p : {"newuidmap", "newgidmap", "setpriv", "useradd", "rpmbuild", "createrepo_c", "xorriso",
                          "mksquashfs", "dracut"})
        IMGCREATE_REQUIRE_PROGRAM(p);
    if (!fs::exists(bin / "livecd-creator")) IMGCREATE_SKIP("livecd-creator is not built");
    test_user();
}

// A directory the test user owns, empty.
fs::path user_dir(const std::string& name) {
    const auto dir = work / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    ::chown(dir.c_str(), test_user().pw_uid, test_user().pw_gid);
    return dir;
}

// The demo repository and kickstart, readable by the test user.
const fs::path& demo_kickstart() {
    static const fs::path ks = [] {
        fs::create_directories(work);
        fs::permissions(work, fs::perms(0755));
        run({IMGCREATE_SOURCE_DIR "/examples/demo/make-repo", (work / "repo").string()});
        auto s = slurp(IMGCREATE_SOURCE_DIR "/examples/demo/demo-live.ks");
        s.replace(s.find("@DEMO_REPO@"), 11, (work / "repo").string());
        std::ofstream(work / "demo-live.ks") << s;
        return work / "demo-live.ks";
    }();
    return ks;
}

std::vector<std::string> as_user(const passwd& user, std::vector<std::string> argv) {
    std::vector<std::string> full = {"setpriv", "--reuid=" + std::to_string(user.pw_uid),
                                     "--regid=" + std::to_string(user.pw_gid), "--clear-groups", "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
}

// Starts `argv` with its output in `log`; `prepare` runs in the child first (false: exit 97).
template <typename Prepare> pid_t start_logged(const std::vector<std::string>& argv, const fs::path& log, Prepare prepare) {
    const pid_t child = ::fork();
    if (child != 0) return child;
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    if (!prepare()) ::_exit(97);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(99);
}

CommandResult build(const std::vector<std::string>& argv, bool user, std::optional<long long> at = {}) {
    Command cmd;
    cmd.argv = user ? as_user(test_user(), argv) : argv;
    cmd.check = false;
    if (at) {
        cmd.env = clean_environment();
        (*cmd.env)["SOURCE_DATE_EPOCH"] = std::to_string(*at);
    }
    return run(cmd);
}

std::vector<std::string> demo_args(const std::string& program, const fs::path& dir, const std::string& label) {
    return {(bin / program).string(), "-c", demo_kickstart().string(), "-f", label, "--compression-type", "zstd",
            "-t", dir.string(), "-o", dir.string(), "--cache", (dir / "cache").string(), "-q"};
}

// The files of an ext4 image, read through a read-only loop mount in a child's own namespace.
std::map<std::string, std::string> files_of_image(const fs::path& image) {
    const auto listing = work / (image.filename().string() + ".listing");
    const pid_t child = ::fork();
    if (child == 0) {
        try {
            mount::enter_private_mount_namespace();
            auto loop = mount::LoopDevice::attach(image, true);
            const auto dir = work / (image.filename().string() + ".mnt");
            fs::create_directories(dir);
            auto m = mount::Mount::mount({loop.path().string(), dir, "", "ro"});
            std::ofstream out(listing);
            for (const auto& [path, what] : describe_tree(dir)) out << path << '\t' << what << '\n';
            out.close();
            m.unmount();
            ::_exit(0);
        } catch (...) {
            ::_exit(1);
        }
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    std::map<std::string, std::string> files;
    std::istringstream in(slurp(listing));
    for (std::string line; std::getline(in, line);) {
        const auto tab = line.find('\t');
        files[line.substr(0, tab)] = line.substr(tab + 1);
    }
    return files;
}

}  // namespace

TEST_CASE("a user builds the demo's live ISO byte-identical to root's, with no loop device") {
    require_setup();
    const auto user = user_dir("live-user");
    const auto root = user_dir("live-root");
    auto r = build(demo_args("livecd-creator", user, "ROOTLESS"), true, epoch);
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const auto iso = user / "ROOTLESS.iso";
    REQUIRE(fs::exists(iso));
    struct stat st {};
    ::stat(iso.c_str(), &st);
    CHECK(st.st_uid == test_user().pw_uid);  // the user's own file
    CHECK(std::distance(fs::directory_iterator(user), fs::directory_iterator()) == 2);  // the ISO and the cache

    auto rr = build(demo_args("livecd-creator", root, "ROOTLESS"), false, epoch);
    INFO(rr.output);
    REQUIRE(rr.exit_status == 0);
    Command cmp;
    cmp.argv = {"cmp", iso.string(), (root / "ROOTLESS.iso").string()};
    cmp.check = false;
    const auto same = run(cmp);
    INFO("cmp: " << same.output);
    CHECK(same.exit_status == 0);
}

TEST_CASE("a user's loop image holds root's files, owners, modes and attributes, and a user's tree is complete") {
    require_setup();
    const auto user = user_dir("image-user");
    const auto root = user_dir("image-root");
    auto args = [&](const fs::path& dir) {
        auto a = demo_args("image-creator", dir, "demo-image");
        a.insert(a.end(), {"--image-type", "image"});
        return a;
    };
    auto r = build(args(user), true);
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    auto rr = build(args(root), false);
    INFO(rr.output);
    REQUIRE(rr.exit_status == 0);
    Command fsck;
    fsck.argv = {"e2fsck", "-fn", (user / "demo-image.img").string()};
    fsck.check = false;
    CHECK(run(fsck).exit_status == 0);

    auto mine = files_of_image(user / "demo-image.img");
    auto theirs = files_of_image(root / "demo-image.img");
    REQUIRE(mine.size() > 50);
    const auto differences = listing_differences(theirs, mine);
    INFO(differences);
    CHECK(differences.empty());

    const auto tree_dir = user_dir("tree-user");
    auto t = demo_args("image-creator", tree_dir, "demo-tree");
    t.insert(t.end(), {"--image-type", "fs"});
    auto tr = build(t, true);
    INFO(tr.output);
    REQUIRE(tr.exit_status == 0);
    const auto tree = tree_dir / "demo-tree";
    CHECK(fs::exists(tree / "usr/bin/busybox"));
    struct stat st {};
    ::lstat((tree / "usr/bin").c_str(), &st);
    CHECK(st.st_uid == test_user().pw_uid);  // root inside the namespace is the user outside
}

TEST_CASE("a build by a user refuses with what to do: no subordinate range, user namespaces off, a seccomp filter") {
    require_setup();
    const auto dir = user_dir("refusals");
    const auto args = demo_args("livecd-creator", dir, "REFUSED");

    SECTION("no range in /etc/subuid") {
        const char* other = "imgcreate-norange";
        if (!::getpwnam(other)) run({"useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", other});
        Command cmd;
        cmd.argv = as_user(*::getpwnam(other), args);
        cmd.check = false;
        const auto r = run(cmd);
        CHECK(r.exit_status == 1);
        CHECK_THAT(r.output, Catch::StartsWith("livecd-creator: error: cannot build without root: user imgcreate-norange "
                                               "has no subordinate uid range in /etc/subuid"));
        CHECK_THAT(r.output, Catch::Contains("usermod --add-subuids 100000-165535 --add-subgids 100000-165535 "
                                             "imgcreate-norange"));
    }
    SECTION("user namespaces disabled by a sysctl") {
        // Where the sysctls can be written (not in every container), end to end; always, the
        // diagnosis from each sysctl's value.
        const fs::path debian_knob = "/proc/sys/kernel/unprivileged_userns_clone";
        const bool debian = fs::exists(debian_knob);
        const fs::path knob = debian ? debian_knob : fs::path("/proc/sys/user/max_user_namespaces");
        const auto saved = slurp(knob);
        const std::string debian_says = "cannot build without root: user namespaces are disabled for users on this host "
                                        "(sysctl kernel.unprivileged_userns_clone = 0)";
        const std::string others_say = "cannot build without root: user namespaces are disabled on this host (sysctl "
                                       "user.max_user_namespaces = 0)";
        if (std::ofstream(knob) << saved) {
            CommandResult r;
            {
                struct Restore {
                    fs::path knob;
                    std::string value;
                    ~Restore() { std::ofstream(knob) << value; }
                } restore{knob, saved};
                std::ofstream(knob) << "0\n";
                r = build(args, true);
            }
            CHECK(slurp(knob) == saved);
            CHECK(r.exit_status == 1);
            CHECK_THAT(r.output, Catch::StartsWith("livecd-creator: error: " + (debian ? debian_says : others_say)));
        } else {
            WARN("cannot write " << knob << " here: the refusal is checked from a copy of /proc only");
        }
        const auto proc = dir / "proc";
        fs::create_directories(proc / "sys/kernel");
        fs::create_directories(proc / "sys/user");
        fs::create_directories(proc / "self");
        std::ofstream(proc / "self/status") << "Name:\tx\nSeccomp:\t0\n";
        std::ofstream(proc / "sys/user/max_user_namespaces") << "0\n";
        CHECK_THAT(mount::detail::why_no_user_namespace(ENOSPC, proc), Catch::StartsWith(others_say));
        std::ofstream(proc / "sys/kernel/unprivileged_userns_clone") << "0\n";
        CHECK_THAT(mount::detail::why_no_user_namespace(EPERM, proc), Catch::StartsWith(debian_says));
    }
    SECTION("a seccomp filter refusing unshare") {
        const auto out = dir / "seccomp.out";
        const pid_t child = start_logged(args, out, [] {
            if (::setgroups(0, nullptr) != 0 || ::setresgid(test_user().pw_gid, test_user().pw_gid, test_user().pw_gid) != 0 ||
                ::setresuid(test_user().pw_uid, test_user().pw_uid, test_user().pw_uid) != 0)
                return false;
            static struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_unshare, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            };
            struct sock_fprog program = {static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
            return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
        });
        int status = 0;
        ::waitpid(child, &status, 0);
        const auto said = slurp(out);
        INFO(said);
        CHECK(WEXITSTATUS(status) == 1);
        CHECK_THAT(said, Catch::StartsWith("livecd-creator: error: cannot build without root: a seccomp filter refuses "
                                           "to create a user namespace"));
    }
}

TEST_CASE("a package owning a file for a uid outside the user's range is named, with the uid") {
    require_setup();
    const auto repo = imgcreate::test::build_repo(IMGCREATE_TEST_SOURCE_DIR "/system/rootless/specs", work / "bigowner-repo");
    const auto dir = user_dir("bigowner");
    const auto ks = dir / "bigowner.ks";
    std::ofstream(ks) << "repo --name=big --baseurl=file://" << repo.string()
                      << "\npart / --size 64\nselinux --disabled\n%packages --nocore\nbigowner\n%end\n";
    const auto r = build({(bin / "image-creator").string(), "-c", ks.string(), "-t", dir.string(), "-o", dir.string(), "-q"},
                         true);
    INFO(r.output);
    CHECK(r.exit_status == 1);
    CHECK_THAT(r.output, Catch::Contains("/opt/bigowner/data belongs to user big (uid 70000), outside the ids 0-65536 this "
                                         "build's user namespace maps"));
}

namespace {

// The pid of the build inside the namespace: the child of the program the user started.
pid_t namespace_child_of(pid_t parent) {
    std::istringstream children(slurp("/proc/" + std::to_string(parent) + "/task/" + std::to_string(parent) + "/children"));
    pid_t pid = 0;
    children >> pid;
    return pid;
}

}  // namespace

TEST_CASE("SIGINT, SIGTERM or SIGKILL to a user's build, at mount or during the transaction, leaves nothing") {
    require_setup();
    struct Point {
        const char* name;
        const char* log_line;  // the build has reached the point once its log shows this
    };
    // -1: SIGKILL to the build inside the namespace rather than to the program the user started.
    for (const Point point : {Point{"mount", "build directory: "}, Point{"install", "installing "}}) {
        for (int sig : {SIGINT, SIGTERM, SIGKILL, -1}) {
            if (sig == -1 && std::string(point.name) == "mount") continue;
            const auto dir = user_dir(std::string("signal-") + point.name + "-" + std::to_string(sig));
            const auto log = dir / "build.log";
            auto argv = as_user(test_user(), demo_args("livecd-creator", dir, "SIGNALLED"));
            argv.erase(std::find(argv.begin(), argv.end(), "-q"));
            argv.push_back("--debug");
            const pid_t child = start_logged(argv, log, [] { return true; });
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
            while (slurp(log).find(point.log_line) == std::string::npos && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            INFO("at " << point.name << ", signal " << sig << "\n" << slurp(log));
            REQUIRE(slurp(log).find(point.log_line) != std::string::npos);
            if (sig == -1) {
                const pid_t inner = namespace_child_of(child);
                REQUIRE(inner > 0);
                ::kill(inner, SIGKILL);
            } else {
                ::kill(child, sig);
            }
            int status = 0;
            ::waitpid(child, &status, 0);
            if (sig == SIGKILL || sig == -1) CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
            else CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 130));
            // After SIGKILL to the program, the build inside stops as on Ctrl-C, in the background.
            auto leftovers = [&] {
                std::vector<std::string> left;
                for (const auto& e : fs::directory_iterator(dir)) {
                    const auto name = e.path().filename().string();
                    if (name != "cache" && name != "build.log") left.push_back(name);
                }
                for (const auto& p : fs::directory_iterator("/proc")) {
                    struct stat st {};
                    if (::stat(p.path().c_str(), &st) != 0 || !std::isdigit(p.path().filename().string()[0])) continue;
                    if ((st.st_uid >= 300000 && st.st_uid < 365536) || st.st_uid == test_user().pw_uid)
                        left.push_back(p.path().string() + " (" + slurp(p.path() / "comm") + ")");
                }
                return left;
            };
            const auto settle = std::chrono::steady_clock::now() + std::chrono::seconds(30);
            while (!leftovers().empty() && std::chrono::steady_clock::now() < settle)
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            std::string left;
            for (const auto& l : leftovers()) left += l + " ";
            INFO("left behind: " << left);
            CHECK(leftovers().empty());
        }
    }
}

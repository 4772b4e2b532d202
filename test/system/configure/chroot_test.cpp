#include <catch2/catch.hpp>

#include "minimal_root.hpp"

#include <imgcreate/configure/appliers.hpp>
#include <imgcreate/configure/script.hpp>
#include <imgcreate/imgcreate.hpp>
#include <imgcreate/support/build_dir.hpp>

#include <chrono>
#include <memory>
#include <thread>

#include <poll.h>
#include <sys/mount.h>
#include <pty.h>
#include <sys/wait.h>

using namespace imgcreate;
using namespace imgcreate::test;
namespace cfg = imgcreate::configure;
using kickstart::ScriptType;

namespace {

void require_tools() {
    IMGCREATE_REQUIRE_ROOT();
    if (!fs::exists("/bin/busybox")) IMGCREATE_SKIP("needs /bin/busybox (busybox-static)");
}

struct Root {
    TempDir dir;
    fs::path path = dir.path / "root";
    explicit Root(bool with_shadow_tools = false) { populate_minimal_root(path, with_shadow_tools); }
    std::string read(const std::string& rel) const { return read_host_file(path / rel); }
};

// Lines of `text` without those a shell adds to its own environment.
std::string without_shell_variables(const std::string& text) {
    std::string out;
    for (const auto& line : cfg::split(text, '\n'))
        if (!line.empty() && line.rfind("PWD=", 0) != 0 && line.rfind("SHLVL=", 0) != 0 && line.rfind("OLDPWD=", 0) != 0)
            out += line + "\n";
    return out;
}

std::string sorted_lines(const std::string& text) {
    auto lines = cfg::split(text, '\n');
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const auto& l : lines)
        if (!l.empty()) out += l + "\n";
    return out;
}

bool mounts_left_under(const fs::path& dir) { return !mounts_below(dir).empty(); }

using ScriptedCreator = Creator<DirectoryMount, CopyTreeInstall, NoBoot, TreeStage>;

std::shared_ptr<const kickstart::Kickstart> shared_ks(const std::string& text) {
    return std::make_shared<const kickstart::Kickstart>(ks(text));
}

}  // namespace

TEST_CASE("a chrooted %post runs inside the root, from /, with the clean environment") {
    require_tools();
    Root r;
    auto k = ks("%post\nenv | sort > /env.txt\npwd > /pwd.txt\ncat /marker > /seen.txt\necho $0 > /name.txt\n%end\n");
    cfg::ScriptRunOptions options;
    options.install_root = r.path;
    cfg::run_scripts(k, ScriptType::post, options);
    std::string expected;
    for (const auto& [k2, v] : clean_environment()) expected += k2 + "=" + v + "\n";
    CHECK(without_shell_variables(sorted_lines(r.read("env.txt"))) == expected);
    CHECK(r.read("pwd.txt") == "/\n");
    CHECK(r.read("seen.txt") == "in-the-root\n");
    auto name = r.read("name.txt");
    CHECK(name.rfind("/tmp/ks-script-", 0) == 0);
    CHECK_FALSE(fs::exists(r.path / name.substr(1, name.size() - 2)));  // the script file is gone
}

TEST_CASE("the --log of a chrooted %post is written inside the root, not on the host") {
    require_tools();
    Root r;
    const std::string name = "/root/imgcreate-test-" + r.path.parent_path().filename().string() + ".log";
    auto k = ks("%post --log=" + name + "\necho hello from the image\necho to stderr >&2\n%end\n");
    cfg::ScriptRunOptions options;
    options.install_root = r.path;
    cfg::run_scripts(k, ScriptType::post, options);
    CHECK(r.read(name.substr(1)) == "hello from the image\nto stderr\n");
    CHECK(mode_of(r.path / name.substr(1)) == 0600);
    CHECK_FALSE(fs::exists(name));  // not on the host
}

TEST_CASE("an interpreter missing from the root fails a chrooted --erroronfail %post with a clear message") {
    require_tools();
    Root r;
    auto k = ks("%post --interpreter=/usr/bin/python3 --erroronfail\nprint(1)\n%end\n");
    cfg::ScriptRunOptions options;
    options.install_root = r.path;
    CHECK_THROWS_WITH(cfg::run_scripts(k, ScriptType::post, options),
                      Catch::StartsWith("%post script at test.ks:1 could not be started with /usr/bin/python3 inside the "
                                        "install root (is the interpreter installed there?)"));
}

TEST_CASE("a hanging chrooted %post is stopped at the time limit") {
    require_tools();
    Root r;
    auto k = ks("%post\necho waiting\nsleep 600\n%end\n");
    cfg::ScriptRunOptions options;
    options.install_root = r.path;
    options.timeout = std::chrono::milliseconds(1000);
    auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(cfg::run_scripts(k, ScriptType::post, options),
                      "%post script at test.ks:1 did not finish within 1 s and was stopped\n  last output:\n    waiting");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(15));
}

TEST_CASE("create() runs %pre, %pre-install, the appliers and %post in that order") {
    require_tools();
    TempDir tmp;
    Root tree;
    auto journal = tmp.path / "journal";
    auto k = shared_ks("lang de_DE.UTF-8\n"
                       "%pre\necho \"pre root=[${INSTALL_ROOT}]\" >> " + journal.string() + "\n%end\n"
                       "%pre-install\ntest -d \"$INSTALL_ROOT\" && echo pre-install >> " + journal.string() + "\n%end\n"
                       "%post --nochroot\necho \"post-nochroot $(cat $INSTALL_ROOT/etc/locale.conf)\" >> " + journal.string() + "\n%end\n"
                       "%post\necho chrooted > /post-ran\n%end\n");
    CreatorOptions o;
    o.name = "scripted";
    o.tmpdir = tmp.path / "build";
    o.outdir = tmp.path / "out";
    ScriptedCreator creator(k, o, {}, CopyTreeInstall{tree.path});
    auto out = creator.create();
    CHECK(read_host_file(journal) == "pre root=[]\npre-install\npost-nochroot LANG=\"de_DE.UTF-8\"\n");
    CHECK(read_host_file(out / "post-ran") == "chrooted\n");
    CHECK_FALSE(mounts_left_under(tmp.path));
}

TEST_CASE("a %post --erroronfail that exits 1 aborts create() naming the script, and leaves no mount and no build dir") {
    require_tools();
    TempDir tmp;
    Root tree;
    auto k = shared_ks("lang C\n\n%post --erroronfail\necho about to fail\nexit 1\n%end\n"
                       "%post --nochroot\ntouch " + (tmp.path / "never").string() + "\n%end\n");
    CreatorOptions o;
    o.name = "failing";
    o.tmpdir = tmp.path / "build";
    o.outdir = tmp.path / "out";
    fs::create_directories(o.tmpdir);
    ScriptedCreator creator(k, o, {}, CopyTreeInstall{tree.path});
    try {
        creator.create();
        FAIL("create() succeeded");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) == "%post script at test.ks:3 failed with exit status 1\n  last output:\n    about to fail");
    }
    CHECK_FALSE(fs::exists(tmp.path / "never"));
    CHECK_FALSE(mounts_left_under(tmp.path));
    CHECK(fs::is_empty(o.tmpdir));
    CHECK_FALSE(fs::exists(o.outdir / "failing"));
}

TEST_CASE("a %pre --erroronfail failure stops mount() before an install root exists") {
    require_tools();
    TempDir tmp;
    auto k = shared_ks("%pre --erroronfail\nexit 7\n%end\n");
    CreatorOptions o;
    o.tmpdir = tmp.path / "build";
    fs::create_directories(o.tmpdir);
    ScriptedCreator creator(k, o, {}, CopyTreeInstall{tmp.path});
    CHECK_THROWS_WITH(creator.mount(), "%pre script at test.ks:1 failed with exit status 7");
    CHECK(fs::is_empty(o.tmpdir));
}

TEST_CASE("useradd, groupadd and sshkey create the kickstart's accounts inside the image") {
    require_tools();
    Root r(true);
    auto k = ks("group --name=devs --gid=5000\n"
                "user --name=alice --uid=1500 --groups=wheel,devs,media(6000) --password=secret --shell=/bin/sh "
                "--gecos=\"Alice Example\"\n"
                "user --name=bob --lock\n"
                "group --name=carol --gid=7000\n"
                "user --name=carol\n"
                "sshkey --username=alice \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 alice@laptop\"\n"
                "rootpw --plaintext rootsecret\n");
    cfg::apply_all(k, RootDir(r.path));
    auto passwd = r.read("etc/passwd");
    CHECK(passwd.find("alice:x:1500:1500:Alice Example:/home/alice:/bin/sh\n") != std::string::npos);
    CHECK(passwd.find("bob:x:") != std::string::npos);
    CHECK(passwd.find(":7000:") != std::string::npos);  // carol joins the group named like her
    auto group = r.read("etc/group");
    CHECK(group.find("devs:x:5000:alice\n") != std::string::npos);
    CHECK(group.find("media:x:6000:alice\n") != std::string::npos);
    CHECK(group.find("wheel:x:10:alice\n") != std::string::npos);
    auto shadow = r.read("etc/shadow");
    std::string alice_hash, bob_hash, root_hash;
    for (const auto& line : cfg::split(shadow, '\n')) {
        auto f = cfg::split(line, ':');
        if (f.size() < 2) continue;
        if (f[0] == "alice") alice_hash = f[1];
        if (f[0] == "bob") bob_hash = f[1];
        if (f[0] == "root") root_hash = f[1];
    }
    CHECK(cfg::password_matches("secret", alice_hash));
    CHECK(bob_hash.rfind('!', 0) == 0);
    CHECK(cfg::password_matches("rootsecret", root_hash));
    CHECK(stat_of(r.path / "home/alice").st_uid == 1500);
    CHECK(read_host_file(r.path / "home/alice/.ssh/authorized_keys") == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 alice@laptop\n");
    CHECK(stat_of(r.path / "home/alice/.ssh/authorized_keys").st_uid == 1500);
    CHECK(stat_of(r.path / "home/alice/.ssh/authorized_keys").st_gid == 1500);
    CHECK(mode_of(r.path / "home/alice/.ssh/authorized_keys") == 0600);
    CHECK(mode_of(r.path / "home/alice/.ssh") == 0700);
    CHECK(shadow.find("secret") == std::string::npos);
}

TEST_CASE("firewall-offline-cmd and setfiles run chrooted in the image with the kickstart's arguments") {
    require_tools();
    Root r;
    const std::string recorder = "#!/bin/sh\necho \"$@\" > /tmp/$(basename $0).argv\ncat /marker >> /tmp/$(basename $0).argv\n";
    write_host_file(r.path / "usr/sbin/firewall-offline-cmd", recorder, fs::perms(0755));
    write_host_file(r.path / "usr/sbin/setfiles", recorder, fs::perms(0755));
    write_host_file(r.path / "etc/selinux/config", "SELINUX=disabled\nSELINUXTYPE=targeted\n");
    write_host_file(r.path / "etc/selinux/targeted/policy/policy.33", "");
    auto k = ks("firewall --enabled --service=mdns --port=22:tcp\nselinux --enforcing\n");
    cfg::apply_all(k, RootDir(r.path));
    cfg::apply_selinux(k, RootDir(r.path));
    CHECK(r.read("tmp/firewall-offline-cmd.argv") == "--enabled --port=22:tcp --service=mdns\nin-the-root\n");
    CHECK(r.read("tmp/setfiles.argv") ==
          "-F -p -e /proc -e /sys -e /dev -c /etc/selinux/targeted/policy/policy.33 "
          "/etc/selinux/targeted/contexts/files/file_contexts /\nin-the-root\n");
    CHECK(r.read("etc/selinux/config") == "SELINUX=enforcing\nSELINUXTYPE=targeted\n");
}

TEST_CASE("setfiles labels the directory under the bound package cache, never the host's cache, which stays bound") {
    require_tools();
    Root r;
    write_host_file(r.path / "usr/sbin/setfiles",
                    "#!/bin/sh\necho \"$@\" > /tmp/setfiles.argv\nls /var/cache/dnf > /tmp/setfiles.seen\n", fs::perms(0755));
    write_host_file(r.path / "etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=targeted\n");
    write_host_file(r.path / "etc/selinux/targeted/policy/policy.33", "");
    write_host_file(r.path / "var/cache/dnf/the-image-s", "");
    TempDir host_cache;
    write_host_file(host_cache.path / "the-host-s", "");
    run({"mount", "--bind", host_cache.path.string(), (r.path / "var/cache/dnf").string()});
    struct Unbind {
        fs::path at;
        ~Unbind() { ::umount2(at.c_str(), MNT_DETACH); }
    } unbind{r.path / "var/cache/dnf"};

    cfg::apply_selinux(ks("selinux --enforcing\n"), RootDir(r.path));
    CHECK(r.read("tmp/setfiles.seen") == "the-image-s\n");  // what the image keeps there
    CHECK(r.read("tmp/setfiles.argv").find("/var/cache/dnf") == std::string::npos);
    CHECK(fs::exists(r.path / "var/cache/dnf/the-host-s"));  // still bound for the build
}

TEST_CASE("a failed relabel stops an enforcing build and is only an error line for a permissive one") {
    require_tools();
    Root r;
    write_host_file(r.path / "usr/sbin/setfiles", "#!/bin/sh\necho cannot label >&2\nexit 1\n", fs::perms(0755));
    write_host_file(r.path / "etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=targeted\n");
    write_host_file(r.path / "etc/selinux/targeted/policy/policy.33", "");
    CHECK_THROWS_WITH(cfg::apply_selinux(ks("selinux --enforcing\n"), RootDir(r.path)),
                      Catch::StartsWith("selinux: relabelling the install root failed: the image would not boot enforcing"));
    LogCapture log;
    cfg::apply_selinux(ks("selinux --permissive\n"), RootDir(r.path));
    CHECK(log.has("error: selinux: relabelling the install root failed"));
}

TEST_CASE("launch_shell() opens an interactive shell inside the install root") {
    require_tools();
    TempDir tmp;
    Root tree;
    int master = -1;
    pid_t child = ::forkpty(&master, nullptr, nullptr, nullptr);
    REQUIRE(child >= 0);
    if (child == 0) {
        int status = 1;
        try {
            CreatorOptions o;
            o.tmpdir = tmp.path;
            ScriptedCreator creator(nullptr, o, {}, CopyTreeInstall{tree.path});
            creator.mount();
            creator.install();
            creator.launch_shell();
            status = 0;
            creator.cleanup();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "launch_shell test: %s\n", e.what());
        }
        std::_Exit(status);
    }
    std::string seen;
    auto read_until = [&](const std::string& wanted, std::chrono::seconds limit) {
        auto until = std::chrono::steady_clock::now() + limit;
        while (seen.find(wanted) == std::string::npos && std::chrono::steady_clock::now() < until) {
            pollfd p{master, POLLIN, 0};
            if (::poll(&p, 1, 200) <= 0) continue;
            char buf[4096];
            ssize_t n = ::read(master, buf, sizeof buf);
            if (n <= 0) break;
            seen.append(buf, static_cast<std::size_t>(n));
        }
        return seen.find(wanted) != std::string::npos;
    };
    CHECK(read_until("imgcreate-chroot# ", std::chrono::seconds(60)));
    std::string typed = "echo \"answer $((6 * 7)) $(cat /marker)\"; exit\n";
    REQUIRE(::write(master, typed.data(), typed.size()) == static_cast<ssize_t>(typed.size()));
    CHECK(read_until("answer 42 in-the-root", std::chrono::seconds(30)));
    int status = -1;
    for (int i = 0; i < 300 && ::waitpid(child, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::close(master);
    INFO(seen);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK_FALSE(mounts_left_under(tmp.path));
    CHECK(fs::is_empty(tmp.path));
}

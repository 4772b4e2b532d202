#include <catch2/catch.hpp>

#include "fake_root.hpp"

#include <imgcreate/configure/script.hpp>

#include <chrono>

using namespace imgcreate;
using namespace imgcreate::test;
namespace cfg = imgcreate::configure;
using kickstart::ScriptType;

namespace {

// The environment a script received, one NAME=value per line, sorted (python prints it so
// that no shell adds PWD or SHLVL of its own).
// (Read from /proc: python itself adds LC_CTYPE to os.environ when LANG=C.)
const char* print_environment =
    "import os\n"
    "for e in sorted(x.decode() for x in open('/proc/self/environ', 'rb').read().split(b'\\0') if x): print(e)\n";

std::string expected_environment(const std::map<std::string, std::string>& env) {
    std::string out;
    for (const auto& [k, v] : env) out += k + "=" + v + "\n";
    return out;
}

}  // namespace

TEST_CASE("%pre scripts run on the host in file order with the clean environment and no INSTALL_ROOT") {
    TempDir tmp;
    auto out = tmp.path / "out";
    auto k = ks("%pre\necho one >> " + out.string() + "\n%end\n"
                "%post --nochroot\necho post >> " + out.string() + "\n%end\n"
                "%pre --interpreter=/usr/bin/python3\n" + std::string(print_environment) +
                "import sys\nopen('" + out.string() + "', 'a').write('two\\n')\n%end\n");
    cfg::ScriptRunOptions options;
    cfg::run_scripts(k, ScriptType::pre, options);
    CHECK(read_host_file(out) == "one\ntwo\n");
    auto result = cfg::run_script(k.scripts[2], options);
    CHECK(result.output == expected_environment(clean_environment()));
}

TEST_CASE("a %post --nochroot script runs on the host with INSTALL_ROOT naming the install root") {
    FakeRoot r;
    auto k = ks("%post --nochroot --interpreter=/usr/bin/python3\n" + std::string(print_environment) +
                "open(os.environ['INSTALL_ROOT'] + '/etc/from-post', 'w').write('written from the host\\n')\n%end\n");
    cfg::ScriptRunOptions options;
    options.install_root = r.path;
    auto result = cfg::run_script(k.scripts[0], options);
    auto env = clean_environment();
    env["INSTALL_ROOT"] = r.path.string();
    CHECK(result.exit_status == 0);
    CHECK(result.output == expected_environment(env));
    CHECK(r.read("etc/from-post") == "written from the host\n");
}

TEST_CASE("a failing --erroronfail script is a ConfigError naming its file:line and its last output lines") {
    TempDir tmp;
    auto marker = tmp.path / "after";
    auto k = ks("lang C\n"
                "%post --nochroot --erroronfail\nfor i in 1 2 3 4 5; do echo line $i; done\necho broken >&2\nexit 3\n%end\n"
                "%post --nochroot\ntouch " + marker.string() + "\n%end\n");
    cfg::ScriptRunOptions options;
    options.install_root = tmp.path;
    options.tail_lines = 3;
    try {
        cfg::run_scripts(k, ScriptType::post, options);
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) ==
              "%post script at test.ks:2 failed with exit status 3\n"
              "  last output:\n    line 4\n    line 5\n    broken");
        CHECK(e.step() == "configure");
    }
    CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("a failing script without --erroronfail is a warning and the next script still runs") {
    TempDir tmp;
    LogCapture log;
    auto marker = tmp.path / "after";
    auto k = ks("%post --nochroot\necho oops\nexit 1\n%end\n%post --nochroot\ntouch " + marker.string() + "\n%end\n");
    cfg::ScriptRunOptions options;
    options.install_root = tmp.path;
    cfg::run_scripts(k, ScriptType::post, options);
    CHECK(fs::exists(marker));
    CHECK(log.has("warning: %post script at test.ks:1 failed with exit status 1"));
    CHECK(log.has("(no --erroronfail: the build goes on)"));
}

TEST_CASE("the --log of a host script is written on the host, and anaconda's /mnt/sysimage means the install root") {
    FakeRoot r;
    TempDir tmp;
    auto host_log = tmp.path / "logs/deep/post.log";
    auto k = ks("%post --nochroot --log=" + host_log.string() + "\necho to the host log\n%end\n"
                "%post --nochroot --logfile=/mnt/sysimage/root/anaconda-post-nochroot.log\necho into the image\n%end\n");
    cfg::ScriptRunOptions options;
    options.install_root = r.path;
    cfg::run_scripts(k, ScriptType::post, options);
    CHECK(read_host_file(host_log) == "to the host log\n");
    CHECK(r.read("root/anaconda-post-nochroot.log") == "into the image\n");
    CHECK(mode_of(r.path / "root/anaconda-post-nochroot.log") == 0600);
    CHECK_FALSE(fs::exists("/mnt/sysimage/root/anaconda-post-nochroot.log"));
}

TEST_CASE("a script that runs past the time limit is stopped and stops the build even without --erroronfail") {
    TempDir tmp;
    auto k = ks("%post --nochroot\necho started\nsleep 60\n%end\n");
    cfg::ScriptRunOptions options;
    options.install_root = tmp.path;
    options.timeout = std::chrono::milliseconds(700);
    auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(cfg::run_scripts(k, ScriptType::post, options),
                      "%post script at test.ks:1 did not finish within 0.7 s and was stopped\n  last output:\n    started");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

TEST_CASE("an interpreter that does not exist fails the script with a message saying so") {
    TempDir tmp;
    auto k = ks("%pre --interpreter=/nonexistent/bin/perl --erroronfail\nprint 1;\n%end\n");
    CHECK_THROWS_WITH(cfg::run_scripts(k, ScriptType::pre, cfg::ScriptRunOptions{}),
                      Catch::StartsWith("%pre script at test.ks:1 could not be started with /nonexistent/bin/perl"));
}

TEST_CASE("the script file is removed after the script ran") {
    TempDir tmp;
    auto k = ks("%pre\necho $0 > " + (tmp.path / "name").string() + "\n%end\n");
    cfg::run_scripts(k, ScriptType::pre, cfg::ScriptRunOptions{});
    auto name = read_host_file(tmp.path / "name");
    REQUIRE(name.size() > 1);
    name.pop_back();
    CHECK(name.find("ks-script-") != std::string::npos);
    CHECK_FALSE(fs::exists(name));
}

TEST_CASE("a chrooted %post without an install root is refused before anything runs") {
    auto k = ks("%post\ntrue\n%end\n");
    CHECK_THROWS_WITH(cfg::run_scripts(k, ScriptType::post, cfg::ScriptRunOptions{}),
                      "%post script at test.ks:1 runs chrooted but there is no install root yet");
}

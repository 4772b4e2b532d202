// The bad-input catalogue: one row per way a user can get a build wrong, each driven through
// the real entry points (a kickstart file parsed as a frontend does, then LoopImage with its
// real policies: LoopMount, RpmInstall, NoBoot, CopyStage), in a forked child. Each row names
// the exact first line of the error the user sees; after each, the host must hold no mount
// or loop device below the scratch dir, no process running there, an empty tmpdir, and no
// file in the output dir but the ones the row put there itself.
//
// The expected first lines are in expected-messages.txt ("row name | first line"), read at
// run time; a row without one fails showing what it got. IMGCREATE_CATALOGUE_PRINT=1 prints
// every row's actual first line in that format.
#include <catch2/catch.hpp>

#include "system/mount/fixture.hpp"

#include <imgcreate/imgcreate.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/libmount.hpp>
#include <imgcreate/mount/namespace.hpp>
#include <imgcreate/support/interrupt.hpp>
#include <support/local_server.hpp>
#include <support/rpmrepo.hpp>
#include <support/skip.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <csignal>
#include <functional>
#include <map>
#include <regex>
#include <set>

using namespace imgcreate;
using namespace imgcreate::test;

namespace {

fs::path install_repo() {
    return build_repo(fs::path(IMGCREATE_TEST_SOURCE_DIR) / "data/repos/install",
                      fs::path(IMGCREATE_BINARY_DIR) / "test-repos/bad-input-install");
}

// A copy of the install repository the row may damage.
fs::path repo_copy(const fs::path& scratch, const std::string& name) {
    const auto dir = scratch / name;
    fs::copy(install_repo(), dir, fs::copy_options::recursive);
    return dir;
}

fs::path primary_of(const fs::path& repo) {
    for (const auto& e : fs::directory_iterator(repo / "repodata"))
        if (e.path().filename().string().find("-primary.xml") != std::string::npos) return e.path();
    throw Error("no primary in " + repo.string());
}

fs::path rpm_of(const fs::path& repo, const std::string& name) {
    for (const auto& e : fs::recursive_directory_iterator(repo))
        if (e.path().extension() == ".rpm" && e.path().filename().string().rfind(name + "-", 0) == 0) return e.path();
    throw Error("no " + name + " rpm in " + repo.string());
}

using imgcreate::test::HttpServer;  // python3 -m http.server on 127.0.0.1, stopped when it goes

// What a row works with: the scratch dir and the options the build will get.
struct Env {
    fs::path scratch;
    CreatorOptions options;
    std::string ks_path;  // empty: <scratch>/ks/<row>.ks holding the row's kickstart
    std::string http_url;  // a server over an empty folder
    std::vector<mount::Mount> mounts;  // the row's own mounts, taken down after the build
};

struct Row {
    std::string name;
    std::string kickstart;  // @REPO@: the install test repository, @SCRATCH@: the scratch dir
    std::string expected;   // exact first line of the error; @SCRATCH@ and @REPO@ substituted
    // In the child, before the build: may enter a private namespace and mount, make files.
    std::function<void(Env&)> setup = [](Env&) {};
    std::vector<std::string> out_files = {};  // what the row itself leaves in the output dir
    bool live = false;  // a LiveImage (LiveMount, RpmInstall, LiveBoot, IsoStage) rather than a LoopImage
};

std::string substitute(std::string s, const Env& env) {
    s = std::regex_replace(s, std::regex("@SCRATCH@"), env.scratch.string());
    return std::regex_replace(s, std::regex("@REPO@"), install_repo().string());
}

std::string base(const std::string& packages = "busybox-sh\n", const std::string& extra = "") {
    return "repo --name=local --baseurl=file://@REPO@\npart / --size 64\n" + extra + "%packages --nocore\n" + packages +
           "%end\n";
}

// An expected line as a regex: literal text, where @ANY@ stands for a generated name or a
// checksum (no slash, no space).
std::string pattern_of(const std::string& expected) {
    static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
    const std::string escaped = std::regex_replace(expected, special, R"(\$&)");
    return std::regex_replace(escaped, std::regex("@ANY@"), "[^/ ]*");
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Processes whose root or working dir is below `dir`: a %post or a helper left running.
std::vector<std::string> processes_below(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& p : fs::directory_iterator("/proc", ec)) {
        const auto pid = p.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        for (const char* link : {"root", "cwd"}) {
            std::error_code e2;
            const auto target = fs::read_symlink(p.path() / link, e2).string();
            if (!e2 && target.rfind(dir.string() + "/", 0) == 0) out.push_back(pid + " " + link + " " + target);
        }
    }
    return out;
}

// Runs one row in a child; returns the report: the first error line (or "built") and what
// the child's namespace still held.
std::string run_row(const Row& row, Env& env) {
    return in_child([&] {
        InterruptGuard guard;
        row.setup(env);
        if (env.ks_path.empty()) {
            env.ks_path = (env.scratch / "ks" / (row.name.substr(0, 40) + ".ks")).string();
            std::replace(env.ks_path.begin() + static_cast<long>(env.scratch.string().size()), env.ks_path.end(), ' ', '-');
            fs::create_directories(env.scratch / "ks");
            std::ofstream(env.ks_path) << substitute(row.kickstart, env);
        }
        std::string outcome;
        try {
            auto ks = std::make_shared<kickstart::Kickstart>(kickstart::parse_file(env.ks_path));
            if (row.live) {
                LiveImage creator(ks, env.options);
                creator.create();
            } else {
                LoopImage creator(ks, env.options);
                creator.create();
            }
            outcome = "built";
        } catch (const std::exception& e) {
            outcome = first_line(e.what());
        }
        while (!env.mounts.empty()) env.mounts.pop_back();
        return outcome + "\nmounts left in the build's namespace: " +
               std::to_string(mount_points_below(env.options.tmpdir).size());
    });
}

std::vector<Row> catalogue();

std::map<std::string, std::string> expected_messages() {
    std::map<std::string, std::string> out;
    std::ifstream in(std::string(IMGCREATE_TEST_SOURCE_DIR) + "/system/bad_input/expected-messages.txt");
    for (std::string line; std::getline(in, line);) {
        const auto bar = line.find(" | ");
        if (line.empty() || line[0] == '#' || bar == std::string::npos) continue;
        out[line.substr(0, bar)] = line.substr(bar + 3);
    }
    return out;
}

}  // namespace

TEST_CASE("every bad input in the catalogue fails with its exact message and leaves the host clean") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("rpmbuild");
    IMGCREATE_REQUIRE_PROGRAM("createrepo_c");
    install_repo();
    const bool print = std::getenv("IMGCREATE_CATALOGUE_PRINT") != nullptr;
    auto rows = catalogue();
    // IMGCREATE_CATALOGUE_ROWS=REGEX: only the rows whose name matches (while working on some)
    if (const char* only = std::getenv("IMGCREATE_CATALOGUE_ROWS")) {
        const std::regex wanted(only);
        std::erase_if(rows, [&](const Row& r) { return !std::regex_search(r.name, wanted); });
    }
    const auto expected = expected_messages();
    ScratchDir www;
    HttpServer server(www.path);
    std::set<std::string> names;
    for (const auto& row : rows) names.insert(row.name);
    CHECK(names.size() == rows.size());
    if (!std::getenv("IMGCREATE_CATALOGUE_ROWS")) CHECK(rows.size() >= 40);
    for (const auto& row : rows) {
        INFO("row: " << row.name);
        ScratchDir tmp;
        Env env;
        env.scratch = tmp.path;
        env.http_url = server.url();
        env.options.name = "bad";
        env.options.tmpdir = tmp.path / "tmp";
        env.options.outdir = tmp.path / "out";
        env.options.cache_dir = tmp.path / "cache";
        fs::create_directories(env.options.tmpdir);
        fs::create_directories(env.options.outdir);
        const auto report = run_row(row, env);
        if (print) std::printf("%s | %s\n", row.name.c_str(), first_line(report).c_str());
        const auto it = expected.find(row.name);
        CHECK(it != expected.end());
        const std::string want = row.expected != "?" ? row.expected : it != expected.end() ? it->second : "(no entry)";
        CHECK_THAT(report, Catch::Matches(pattern_of(substitute(want, env) + "\nmounts left in the build's namespace: 0")));
        CHECK_FALSE(fs::exists(tmp.path / "pre-ran"));  // refused before the %pre, where a row has one marking
        CHECK(mount_points_below(tmp.path).empty());
        CHECK(loops_below_after_settling(tmp.path).empty());
        CHECK(processes_below(tmp.path).empty());
        CHECK(entries_of(tmp.path / "tmp").empty());
        auto out = entries_of(tmp.path / "out");
        std::sort(out.begin(), out.end());
        CHECK(out == row.out_files);
    }
}

namespace {

std::vector<Row> catalogue() {
    std::vector<Row> rows;
    auto ks_row = [&](std::string name, std::string text, std::string expected) {
        rows.push_back({std::move(name), std::move(text), std::move(expected)});
    };
    // --- malformed kickstarts: the parser's message, with file and line -------------------
    ks_row("an unknown command", base() + "frobnicate --now\n", "?");
    ks_row("an unknown option", base() + "selinux --sometimes\n", "?");
    ks_row("a %packages section without %end", "part / --size 64\n%packages\nbusybox-sh\n", "?");
    ks_row("a %post without %end", base() + "%post\necho hi\n", "?");
    ks_row("an unknown section", base() + "%postinstall\necho\n%end\n", "?");
    ks_row("rootpw with two arguments", base() + "rootpw a b\n", "?");
    ks_row("timezone without a zone", base() + "timezone\n", "?");
    ks_row("lang without a language", base() + "lang\n", "?");
    ks_row("network with an unknown boot protocol", base() + "network --bootproto=foo\n", "?");
    ks_row("bootloader with a non-numeric timeout", base() + "bootloader --timeout=abc\n", "?");
    ks_row("part with a non-numeric size", "repo --name=local --baseurl=file://@REPO@\npart / --size big\n", "?");
    ks_row("an %include of a missing file", base() + "%include @SCRATCH@/missing.ks\n", "?");
    ks_row("an unterminated quote", base() + "rootpw \"secret\n", "?");
    ks_row("a repo without a name", base() + "repo --baseurl=file:///nowhere\n", "?");
    ks_row("timesource with both --ntp-server and --ntp-pool",
           base() + "timesource --ntp-server a.example --ntp-pool b.example\n", "?");
    ks_row("a %post with an unknown option", base() + "%post --sometimes\necho\n%end\n", "?");
    ks_row("a %packages section with an unknown option",
           "repo --name=local --baseurl=file://@REPO@\npart / --size 64\n%packages --sometimes\nbusybox-sh\n%end\n", "?");
    ks_row("a user without --name", base() + "user --groups=wheel\n", "?");
    ks_row("network with a non-boolean --onboot", base() + "network --onboot=maybe\n", "?");
    ks_row("keyboard with two layouts as arguments", base() + "keyboard us de\n", "?");
    ks_row("services without --enabled or --disabled", base() + "services\n", "?");
    ks_row("bootloader with an unknown location", base() + "bootloader --location=floppy\n", "?");
    ks_row("an %include that includes itself", base() + "%include @SCRATCH@/ks/an-%include-that-includes-itself.ks\n", "?");

    // --- packages and repositories ----------------------------------------------------------
    // Rows with this %pre must be refused before any work: the %pre would otherwise run, on
    // the host, for nothing.
    const std::string pre_marks = "%pre\ntouch @SCRATCH@/pre-ran\n%end\n";
    ks_row("a kickstart without a repository", "part / --size 64\n%packages --nocore\nbusybox-sh\n%end\n" + pre_marks, "?");
    rows.push_back({"a .repo file that does not exist", base() + pre_marks, "?",
                    [](Env& env) { env.options.repo_files = {env.scratch / "none.repo"}; }});
    rows.push_back({"a .repo file without an enabled repository", base() + pre_marks, "?", [](Env& env) {
                        const auto file = env.scratch / "off.repo";
                        std::ofstream(file) << "[off]\nname=off\nbaseurl=file:///srv/none\nenabled=0\n";
                        env.options.repo_files = {file};
                    }});
    ks_row("an unknown package", base("busybox-sh\nno-such-package\n"), "?");
    ks_row("an unknown group", base("@no-such-group\n"), "?");
    ks_row("two packages that conflict on a file", base("conflict-a\nconflict-b\n"), "?");
    rows.push_back({"an unresolvable dependency", base("hello\n"), "?", [](Env& env) {
                        // the repository without test-setup, which hello requires
                        const auto repo = repo_copy(env.scratch, "no-setup");
                        fs::remove(rpm_of(repo, "test-setup"));
                        run({"createrepo_c", "--quiet", repo.string()});
                        env.ks_path = (env.scratch / "no-setup.ks").string();
                        std::ofstream(env.ks_path) << "repo --name=partial --baseurl=file://" + repo.string() +
                                                          "\npart / --size 64\n%packages --nocore\nhello\n%end\n";
                    }});
    ks_row("an unreachable repository", "repo --name=far --baseurl=http://127.0.0.1:" + std::to_string(free_port()) +
                                            "/repo\npart / --size 64\n%packages --nocore\nbusybox-sh\n%end\n", "?");
    ks_row("a repository folder without repodata", "repo --name=empty --baseurl=file://@SCRATCH@\npart / --size 64\n"
                                                   "%packages --nocore\nbusybox-sh\n%end\n", "?");
    auto damaged = [&](std::string name, std::function<void(const fs::path&)> damage) {
        rows.push_back({std::move(name), "", "?", [damage](Env& env) {
                            const auto repo = repo_copy(env.scratch, "damaged");
                            damage(repo);
                            env.ks_path = (env.scratch / "damaged.ks").string();
                            std::ofstream(env.ks_path) << "repo --name=damaged --baseurl=file://" + repo.string() +
                                                              "\npart / --size 64\n%packages --nocore\nhello\n%end\n";
                        }});
    };
    damaged("a corrupt repomd.xml", [](const fs::path& repo) {
        std::ofstream(repo / "repodata/repomd.xml") << "<repomd><data type=\"primary\"><location href=";
    });
    damaged("a repomd.xml in an encoding expat does not know", [](const fs::path& repo) {
        std::ofstream(repo / "repodata/repomd.xml") << "<?xml version=\"1.0\" encoding=\"UTF7\"?>\n\x04\n";
    });
    damaged("a primary.xml whose checksum does not match repomd.xml", [](const fs::path& repo) {
        const auto primary = primary_of(repo);
        std::ofstream(primary, std::ios::app) << "extra";
    });
    damaged("a missing primary.xml", [](const fs::path& repo) { fs::remove(primary_of(repo)); });
    damaged("a truncated rpm", [](const fs::path& repo) {
        const auto rpm = rpm_of(repo, "hello");
        fs::resize_file(rpm, fs::file_size(rpm) / 2);
    });
    damaged("an rpm replaced by garbage of the same size", [](const fs::path& repo) {
        const auto rpm = rpm_of(repo, "hello");
        const auto size = fs::file_size(rpm);
        std::ofstream(rpm, std::ios::trunc) << std::string(size, 'x');
    });
    damaged("a package whose rpm is missing", [](const fs::path& repo) { fs::remove(rpm_of(repo, "hello")); });
    rows.push_back({"an unknown --pkgverify-level", base() + pre_marks, "?", [](Env& env) { env.options.pkgverify_level = "strict"; }});
    rows.push_back({"--cacheonly with an empty cache for a remote repository",
                    "repo --name=far --baseurl=http://127.0.0.1:1/repo\npart / --size 64\n%packages --nocore\nbusybox-sh\n%end\n",
                    "?", [](Env& env) { env.options.cacheonly = true; }});
    ks_row("a package whose %pre scriptlet fails", base("busybox-sh\npre-fails\n"), "?");

    // --- the image, the host, the output ----------------------------------------------------
    ks_row("an image too small for its packages", "repo --name=local --baseurl=file://@REPO@\npart / --size 2\n"
                                                  "%packages --nocore\nbusybox-sh\nbig-payload\n%end\n", "?");
    // not an error: like livecd-creator, a loop image without part / gets the default size
    rows.push_back({"no part line: the loop image gets the default size",
                    "repo --name=local --baseurl=file://@REPO@\n%packages --nocore\nbusybox-sh\n%end\n", "built",
                    [](Env&) {}, {"bad.img"}});
    ks_row("an unknown filesystem type", "repo --name=local --baseurl=file://@REPO@\npart / --size 64 --fstype foofs\n"
                                         "%packages --nocore\nbusybox-sh\n%end\n", "?");
    rows.push_back({"a read-only tmpdir", base(), "?", [](Env& env) {
                        mount::enter_private_mount_namespace();
                        env.mounts.push_back(mount::Mount::mount({"tmpfs", env.options.tmpdir, "tmpfs", "ro,size=1m"}));
                    }});
    rows.push_back({"a tmpdir that is a file", base(), "?", [](Env& env) {
                        env.options.tmpdir = env.scratch / "not-a-dir";
                        std::ofstream(env.options.tmpdir) << "x";
                    }});
    rows.push_back({"an output file that already exists", base(), "?", [](Env& env) {
                        std::ofstream(env.options.outdir / "bad.img") << "an earlier build";
                    }, {"bad.img"}});
    rows.push_back({"an output dir that cannot be made (read-only parent)", base(), "?", [](Env& env) {
                        mount::enter_private_mount_namespace();
                        fs::create_directories(env.scratch / "ro");
                        env.mounts.push_back(mount::Mount::mount({"tmpfs", env.scratch / "ro", "tmpfs", "ro,size=1m"}));
                        env.options.outdir = env.scratch / "ro/out";
                    }});
    ks_row("a repo URL with an unknown scheme", "repo --name=odd --baseurl=gopher://127.0.0.1/repo\npart / --size 64\n"
                                                "%packages --nocore\nbusybox-sh\n%end\n", "?");
    ks_row("a %packages entry excluded and asked for", base("busybox-sh\n-busybox-sh\nno-such-package\n"), "?");
    ks_row("two %packages sections", base() + "%packages\nhello\n%end\n", "?");
    rows.push_back({"a missing mkfs.ext4", base(), "?", [](Env& env) {
                        mount::enter_private_mount_namespace();
                        env.mounts.push_back(mount::Mount::mount({"/dev/null", "/usr/sbin/mkfs.ext4", "", "bind"}));
                    }});
    rows.push_back({"a label longer than 32 characters", base() + pre_marks, "?",
                    [](Env& env) { env.options.fslabel = "Fedora-Workstation-Live-Rawhide-x86_64"; }});
    rows.push_back({"a label with a space", base() + pre_marks, "?", [](Env& env) { env.options.fslabel = "My Live"; }});
    rows.push_back({"a name that is the label, with a space", base() + pre_marks, "?",
                    [](Env& env) { env.options.name = "my image"; }});
    rows.push_back({"a name with a slash", base() + pre_marks, "?", [](Env& env) { env.options.name = "../bad"; }});
    rows.push_back({"a tmpdir that fills up", base("busybox-sh\nbig-payload\n"), "?", [](Env& env) {
                        mount::enter_private_mount_namespace();
                        env.mounts.push_back(mount::Mount::mount({"tmpfs", env.options.tmpdir, "tmpfs", "size=12m"}));
                    }});
    rows.push_back({"a read-only output dir", base() + pre_marks, "?", [](Env& env) {
                        mount::enter_private_mount_namespace();
                        env.mounts.push_back(mount::Mount::mount({"tmpfs", env.options.outdir, "tmpfs", "ro,size=1m"}));
                    }});
    rows.push_back({"an output dir that is a file", base() + pre_marks, "?", [](Env& env) {
                        env.options.outdir = env.scratch / "out/file";
                        std::ofstream(env.options.outdir) << "x";
                    }, {"file"}});
    // A live image whose host lacks a tool of the ISO stage: refused before anything is installed.
    rows.push_back({"a live image without mksquashfs", base() + pre_marks, "?", [](Env& env) {
                        mount::enter_private_mount_namespace();
                        env.mounts.push_back(mount::Mount::mount({"/dev/null", "/usr/bin/mksquashfs", "", "bind"}));
                    }, {}, true});
    rows.push_back({"a live image without xorriso", base() + pre_marks, "?", [](Env& env) {
                        mount::enter_private_mount_namespace();
                        env.mounts.push_back(mount::Mount::mount({"/dev/null", "/usr/bin/xorriso", "", "bind"}));
                    }, {}, true});
    rows.push_back({"a --base-on image that does not exist", base() + pre_marks, "?",
                    [](Env& env) { env.options.base_on = env.scratch / "none.img"; }});
    ks_row("a %post --erroronfail that exits 1", base("busybox-sh\n", "") + "%post --erroronfail\necho giving up\nexit 1\n%end\n", "?");
    ks_row("a %pre --erroronfail that exits 1 on the host", base() + "%pre --erroronfail\nexit 3\n%end\n", "?");
    ks_row("a %post with a missing interpreter", base() + "%post --interpreter /usr/bin/no-such-shell --erroronfail\necho\n%end\n", "?");
    rows.push_back({"a %post that hangs past --script-timeout", base() + "%post\nsleep 600\n%end\n", "?",
                    [](Env& env) { env.options.script_timeout = std::chrono::seconds(2); }});
    rows.push_back({"a kickstart URL that answers 404", "", "?",
                    [](Env& env) { env.ks_path = env.http_url + "/missing.ks"; }});
    rows.push_back({"a kickstart file that does not exist", "", "?",
                    [](Env& env) { env.ks_path = (env.scratch / "nowhere.ks").string(); }});
    return rows;
}

}  // namespace

// Two builds at once, each in its own process, started together.
namespace {

std::pair<std::string, std::string> two_builds(const ScratchDir& tmp, const CreatorOptions& a, const CreatorOptions& b,
                                               const std::string& kickstart) {
    Env env;
    env.scratch = tmp.path;
    const auto text = substitute(kickstart, env);
    auto build = [&](CreatorOptions options) {
        return [options, text, &tmp] {
            while (!fs::exists(tmp.path / "go")) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            InterruptGuard guard;
            try {
                LoopImage creator(std::make_shared<kickstart::Kickstart>(kickstart::parse_string(text)), options);
                creator.create();
                return std::string("built");
            } catch (const std::exception& e) {
                return first_line(e.what());
            }
        };
    };
    Child first(build(a)), second(build(b));
    std::ofstream(tmp.path / "go").close();
    return {first.wait(), second.wait()};
}

CreatorOptions options_for(const ScratchDir& tmp, const std::string& name, const std::string& tmpdir) {
    CreatorOptions o;
    o.name = name;
    o.tmpdir = tmp.path / tmpdir;
    o.outdir = tmp.path / "out";
    o.cache_dir = tmp.path / "cache";
    fs::create_directories(o.tmpdir);
    return o;
}

}  // namespace

TEST_CASE("two builds sharing one cache dir: one builds, the other is refused by the cache lock, the cache stays whole") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("rpmbuild");
    ScratchDir tmp;
    // both reach their install step (which holds the lock for a second or more) together
    const auto [first, second] = two_builds(tmp, options_for(tmp, "one", "tmp1"), options_for(tmp, "two", "tmp2"),
                                            base("busybox-sh\nhello\n"));
    const std::string refused = "the package cache " + (tmp.path / "cache").string() +
                                " is in use by another build: wait for it to finish, or give this build its own with --cache";
    INFO(first << " / " << second);
    CHECK(((first == "built" && second == refused) || (first == refused && second == "built")));
    // the cache is usable: a third build from it, offline, succeeds
    auto third = options_for(tmp, "three", "tmp3");
    third.cacheonly = true;
    const auto report = in_child([&] {
        try {
            Env env;
            env.scratch = tmp.path;
            LoopImage creator(std::make_shared<kickstart::Kickstart>(
                                  kickstart::parse_string(substitute(base("busybox-sh\nhello\n"), env))), third);
            creator.create();
            return std::string("built");
        } catch (const std::exception& e) {
            return first_line(e.what());
        }
    });
    CHECK(report == "built");
    CHECK(mount_points_below(tmp.path).empty());
    CHECK(loops_below_after_settling(tmp.path).empty());
    for (const char* t : {"tmp1", "tmp2", "tmp3"}) CHECK(entries_of(tmp.path / t).empty());
}

TEST_CASE("two builds with the same name in one output dir: one image, the other build refused, nothing partial") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("rpmbuild");
    ScratchDir tmp;
    auto a = options_for(tmp, "same", "tmp1");
    auto b = options_for(tmp, "same", "tmp2");
    b.cache_dir = tmp.path / "cache2";
    const auto [first, second] = two_builds(tmp, a, b, base());
    const std::string refused = "the output " + (tmp.path / "out/same.img").string() +
                                " already exists: remove it, or build under another name (CreatorOptions::name) or into another directory (CreatorOptions::outdir)";
    INFO(first << " / " << second);
    CHECK(((first == "built" && second == refused) || (first == refused && second == "built")));
    CHECK(entries_of(tmp.path / "out") == std::vector<std::string>{"same.img"});
    CHECK(mount_points_below(tmp.path).empty());
    CHECK(loops_below_after_settling(tmp.path).empty());
    for (const char* t : {"tmp1", "tmp2"}) CHECK(entries_of(tmp.path / t).empty());
}

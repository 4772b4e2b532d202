// RpmInstall end to end: a directory tree built from a kickstart with
// Creator<DirectoryMount, RpmInstall, NoBoot, TreeStage>, compared with what dnf installs.
#include "rpm_fixture.hpp"

#include <imgcreate/boot/no_boot.hpp>
#include <imgcreate/creator.hpp>
#include <imgcreate/install/rpm_install.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/directory_mount.hpp>
#include <imgcreate/stage/tree_stage.hpp>

#include <support/local_server.hpp>
#include <support/rpmrepo.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdio>

using namespace imgcreate;
using namespace imgcreate::test;

namespace {

using TreeCreator = Creator<DirectoryMount, install::RpmInstall, NoBoot, TreeStage>;

fs::path test_repo() {
    return build_repo(install_specs_dir(), install_cache_dir() / "repo");
}

TreeCreator tree_creator(const std::string& kickstart_text, const ScratchDir& dir) {
    CreatorOptions options;
    options.name = "tree";
    options.tmpdir = dir / "tmp";
    options.outdir = dir / "out";
    options.pkgverify_level = "all";  // kickstart repos have gpgcheck off: their packages need digests only
    fs::create_directories(options.tmpdir);
    auto ks = std::make_shared<const kickstart::Kickstart>(kickstart::parse_string(kickstart_text, "tree.ks"));
    return TreeCreator(ks, options);
}

std::string kickstart_for(const fs::path& repo, const std::string& packages_header, const std::string& packages) {
    return "repo --name=local --baseurl=file://" + repo.string() + "\n" + "%packages --nocore " + packages_header + "\n" +
           packages + "%end\n";
}

// Every path under root (with symlink targets), minus the package managers' own state and
// what the creator adds around the packages (API filesystem mount points, /etc/mtab).
std::vector<std::string> tree_listing(const fs::path& root, const fs::path& dnf_cache) {
    const std::vector<std::string> skipped = {"/usr/lib/sysimage", "/root", "/var/lib/dnf", "/var/cache", "/var/lib/rpm",
                                              "/etc/dnf", "/etc/rpm", "/var/log/dnf", "/var/log/hawkey", "/dev",
                                              "/proc", "/sys", "/etc/mtab", dnf_cache.string()};
    std::vector<std::string> out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        const std::string rel = "/" + it->path().lexically_relative(root).string();
        bool skip = rel == "/usr/lib";
        for (const auto& s : skipped) skip = skip || rel.rfind(s, 0) == 0 || s.rfind(rel + "/", 0) == 0;
        if (skip) continue;
        std::string entry = rel;
        if (it->is_symlink()) entry += " -> " + fs::read_symlink(it->path()).string();
        else if (it->is_directory()) entry += "/";
        out.push_back(entry);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("a tree built from a kickstart has the packages, flags and kernels the kickstart asks for") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir dir("creator-tree");
    const auto repo = test_repo();
    auto creator = tree_creator("selinux --disabled\n" + kickstart_for(repo, "--excludedocs --instLangs=fr",
                                                                         "hello\nhello-watcher\nkernel-core\n"),
                                dir);
    creator.mount();
    creator.install();
    CHECK(creator.kernel_versions() ==
          KernelVersions{{"kernel-core", {"6.5.6-300.fc39.x86_64"}}});
    creator.configure();
    creator.unmount();
    const fs::path tree = creator.package();
    creator.cleanup();

    CHECK(tree == dir / "out/tree");
    CHECK(rpm_qa(tree) == std::vector<std::string>{"busybox-sh-1.35.0-1.x86_64", "hello-1:2.12-3.noarch",
                                                   "hello-watcher-1.0-1.noarch", "kernel-core-6.5.6-300.fc39.noarch",
                                                   "test-setup-1.0-1.noarch"});
    CHECK(read_text(tree / "usr/share/hello/data.txt") == "data\n");
    CHECK_FALSE(fs::exists(tree / "usr/share/doc/hello/README"));
    CHECK(fs::exists(tree / "usr/share/locale/fr/LC_MESSAGES/hello.mo"));
    CHECK_FALSE(fs::exists(tree / "usr/share/locale/de/LC_MESSAGES/hello.mo"));
    CHECK(read_text(tree / "etc/rpm/macros.imgcreate") ==
          "%_excludedocs 1\n%_install_langs fr\n%__file_context_path %{nil}\n");
    CHECK(read_text(tree / "var/log/hello-scriptlets.log") == "pre 1\npost 1\n");
    CHECK(lines_of(read_text(tree / "var/log/hello-watcher.log")).size() == 2);
    CHECK(creator.install_policy().result.installed.size() == 5);
    // No debris of the build: the directories it mounted on, which no package owns, are gone;
    // /var, which a package's /var/log sits in, stays.
    for (const char* debris : {"proc", "sys", "dev", "var/cache"}) CHECK_FALSE(fs::exists(tree / debris));
    CHECK(fs::is_directory(tree / "var/log"));
    CHECK(fs::is_symlink(tree / "etc/mtab"));
    CHECK(install::unowned_paths(tree, {"proc", "var/log", "/tmp", "var/cache/dnf"}) ==
          std::vector<fs::path>{"proc", "var/cache/dnf"});
}

namespace {

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

// The mode of the host's /sys for as long as it lives, then the old one again. A fresh sysfs
// shares its root with every other, so this is the only way to give a build another /sys mode.
class HostSysMode {
public:
    explicit HostSysMode(mode_t mode) : old_(mode_of("/sys")) { REQUIRE(::chmod("/sys", mode) == 0); }
    ~HostSysMode() { ::chmod("/sys", old_); }
    HostSysMode(const HostSysMode&) = delete;
    HostSysMode& operator=(const HostSysMode&) = delete;

private:
    mode_t old_;
};

// Builds a tree of `package` and returns the modes of its /proc, /sys and /dev, octal.
std::string api_dir_modes_of_tree(const std::string& package, const ScratchDir& dir) {
    auto creator = tree_creator(kickstart_for(test_repo(), "", package + "\n"), dir);
    const fs::path tree = creator.create();
    char text[32];
    std::snprintf(text, sizeof text, "%04o %04o %04o", mode_of(tree / "proc"), mode_of(tree / "sys"),
                  mode_of(tree / "dev"));
    return text;
}

}  // namespace

TEST_CASE("the image's /proc, /sys and /dev get their package's modes, whatever the host's are, and the host's stay") {
    IMGCREATE_REQUIRE_ROOT();
    const mode_t host_proc = mode_of("/proc"), host_sys = mode_of("/sys"), host_dev = mode_of("/dev");
    SECTION("modes no kernel mount has") {
        ScratchDir dir("api-dirs-odd");
        CHECK(api_dir_modes_of_tree("api-dirs-odd", dir) == "0751 0755 0750");
    }
    SECTION("Fedora's modes, on a host whose /sys is 0755 (as some container runtimes leave it)") {
        ScratchDir dir("api-dirs-host-sys-0755");
        std::string modes;
        {
            HostSysMode host(0755);
            modes = api_dir_modes_of_tree("api-dirs", dir);
            CHECK(mode_of("/sys") == 0755);
        }
        CHECK(modes == "0555 0555 0755");
    }
    CHECK(mode_of("/proc") == host_proc);
    CHECK(mode_of("/sys") == host_sys);
    CHECK(mode_of("/dev") == host_dev);
}

TEST_CASE("a tree built from a kickstart has the same packages and files as dnf --installroot installs") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("dnf");
    ScratchDir dir("creator-vs-dnf");
    const auto repo = test_repo();
    auto creator = tree_creator(kickstart_for(repo, "", "hello\nhello-watcher\n"), dir);
    const fs::path tree = creator.create();

    const fs::path dnf_root = dir / "dnf-root";
    Command dnf;
    dnf.argv = {"dnf", "--installroot=" + dnf_root.string(), "--releasever=39", "--noplugins",
                "--setopt=reposdir=" + (dir / "no-repos").string(), "--disablerepo=*",
                "--repofrompath=local," + repo.string(), "--enablerepo=local", "--nogpgcheck",
                "--setopt=install_weak_deps=False", "--setopt=cachedir=" + (dir / "dnf-cache").string(), "-y",
                "install", "hello", "hello-watcher"};
    run(dnf);

    std::vector<std::string> dnf_nevras;
    for (auto& line : lines_of(run({"rpm", "--root", dnf_root.string(), "-qa", "--qf", "%{NEVRA}\n"}).output))
        dnf_nevras.push_back(line);
    std::sort(dnf_nevras.begin(), dnf_nevras.end());
    CHECK(rpm_qa(tree) == dnf_nevras);
    const fs::path dnf_cache = dir / "dnf-cache";
    CHECK(tree_listing(tree, dnf_cache) == tree_listing(dnf_root, dnf_cache));
    CHECK(read_text(tree / "var/log/hello-watcher.log") == read_text(dnf_root / "var/log/hello-watcher.log"));
}

TEST_CASE("a repository's gpgkey on an http server is downloaded, imported and enforced, and kept for --cacheonly") {
    IMGCREATE_REQUIRE_ROOT();
    IMGCREATE_REQUIRE_PROGRAM("createrepo_c");
    IMGCREATE_REQUIRE_PROGRAM("python3");
    auto key = SigningKey::make("remote");
    auto other = SigningKey::make("other");
    ScratchDir dir("remote-gpgkey");
    // a signed repository and its key, served from 127.0.0.1
    const fs::path served = dir / "served";
    fs::create_directories(served / "repo");
    for (const char* spec : {"busybox-sh", "test-setup", "hello"})
        fs::copy_file(key.sign_copy(build_rpm(spec)), served / "repo" / key.sign_copy(build_rpm(spec)).filename());
    run({"createrepo_c", "--quiet", (served / "repo").string()});
    fs::copy_file(key.public_key, served / "key.asc");
    fs::copy_file(other.public_key, served / "other.asc");
    test::HttpServer server(served.string());
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());

    auto build = [&](const std::string& gpgkey, bool cacheonly, const std::string& name) {
        write_text(dir / (name + ".repo"), "[signed]\nname=signed\nbaseurl=" + base + "/repo\ngpgcheck=1\ngpgkey=" + gpgkey + "\n");
        CreatorOptions options;
        options.name = name;
        options.tmpdir = dir / "tmp";
        options.outdir = dir / ("out-" + name);
        options.cache_dir = dir / "cache";
        options.cacheonly = cacheonly;
        options.pkgverify_level = "all";
        options.repo_files = {dir / (name + ".repo")};
        fs::create_directories(options.tmpdir);
        auto ks = std::make_shared<const kickstart::Kickstart>(
            kickstart::parse_string("%packages --nocore\nhello\n%end\n", name + ".ks"));
        TreeCreator creator(ks, options);
        return creator.create();
    };
    auto failure = [&](const std::string& gpgkey, bool cacheonly, const std::string& name) {
        try {
            build(gpgkey, cacheonly, name);
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };

    const fs::path tree = build(base + "/key.asc", false, "good");
    auto qa = rpm_qa(tree);
    CHECK(std::find(qa.begin(), qa.end(), "hello-1:2.12-3.noarch") != qa.end());
    CHECK(std::count_if(qa.begin(), qa.end(), [&](const std::string& n) {
              return n.rfind("gpg-pubkey-" + key.key_id.substr(8) + "-", 0) == 0;
          }) == 1);
    // the wrong key, downloaded the same way, stops the build naming the package's key and the repo
    const std::string wrong = failure(base + "/other.asc", false, "wrong");
    CHECK(wrong.find(key.key_id) != std::string::npos);
    CHECK(wrong.find("signed") != std::string::npos);
    // a key URL that 404s is an error naming the repo and the URL
    const std::string missing = failure(base + "/nothere.asc", false, "missing");
    CHECK(missing.find("signed") != std::string::npos);
    CHECK(missing.find("cannot download its gpgkey " + base + "/nothere.asc") != std::string::npos);
    // --cacheonly: the key downloaded before is used without the server
    server.stop();
    const fs::path again = build(base + "/key.asc", true, "again");
    CHECK(rpm_qa(again) == rpm_qa(tree));
    // ...and one never downloaded is an error saying so
    const std::string uncached = failure(base + "/never.asc", true, "uncached");
    CHECK(uncached.find("is not in the cache") != std::string::npos);
}

TEST_CASE("the kickstart's url line is a repository named url, beside the repo lines") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir dir("url-line");
    const auto repo = test_repo();
    auto creator = tree_creator("url --url=file://" + repo.string() + "\n%packages --nocore\nhello\n%end\n", dir);
    const fs::path tree = creator.create();
    auto qa = rpm_qa(tree);
    CHECK(std::find(qa.begin(), qa.end(), "hello-1:2.12-3.noarch") != qa.end());
    // a url that leads nowhere is an error naming the url repository and where it looked
    ScratchDir bad("url-line-bad");
    auto broken = tree_creator("lang en_US\nurl --url=file://" + (bad / "nothing").string() + "\n%packages --nocore\nhello\n%end\n", bad);
    try {
        broken.create();
        FAIL("a url without a repository was accepted");
    } catch (const std::exception& e) {
        const std::string what = e.what();
        INFO(what);
        CHECK(what.find("'url'") != std::string::npos);
        CHECK(what.find((bad / "nothing").string()) != std::string::npos);
    }
}

// The rpm transaction into an install root, checked the way a user would check a root:
// files, modes, owners, scriptlet side effects, `rpm --root R -qa`.
#include "rpm_fixture.hpp"

#include <imgcreate/install/kernel_versions.hpp>
#include <imgcreate/install/rpmdb.hpp>
#include <imgcreate/install/transaction.hpp>

#include <catch2/catch.hpp>

#include <sys/mount.h>
#include <sys/stat.h>

using namespace imgcreate;
using namespace imgcreate::test;
using install::Package;

namespace {

std::vector<Package> packages(std::initializer_list<const char*> specs) {
    std::vector<Package> out;
    for (const char* s : specs) out.push_back(test_package(s));
    return out;
}

struct stat stat_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st;
}


std::string failure_of(const fs::path& root, const std::vector<Package>& pkgs,
                       const install::TransactionOptions& options = {}) {
    try {
        install::install_packages(root, pkgs, options);
    } catch (const InstallError& e) {
        return e.what();
    }
    FAIL("the transaction was expected to fail");
    return {};
}

}  // namespace

std::string testing_join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

TEST_CASE("hello installs into a fresh root with its modes, owners, symlink, scriptlets and rpmdb") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("fresh");
    auto result = install::install_packages(root.path(), packages({"hello", "test-setup", "busybox-sh"}));

    CHECK(result.installed.size() == 3);
    CHECK(result.already_installed.empty());
    CHECK(rpm_qa(root.path()) == std::vector<std::string>{"busybox-sh-1.35.0-1.x86_64", "hello-1:2.12-3.noarch",
                                                          "test-setup-1.0-1.noarch"});
    // test-setup must come before hello: hello's %pre needs /var/log.
    CHECK(result.installed.back() == "hello-1:2.12-3.noarch");

    auto hello = stat_of(root / "usr/bin/hello");
    CHECK((hello.st_mode & 07777) == 0755);
    auto secret = stat_of(root / "usr/share/hello/secret.txt");
    CHECK((secret.st_mode & 07777) == 0640);
    CHECK(secret.st_uid == 1234);
    CHECK(secret.st_gid == 2345);
    auto state_dir = stat_of(root / "var/lib/hello");
    CHECK(S_ISDIR(state_dir.st_mode));
    CHECK((state_dir.st_mode & 07777) == 0750);
    CHECK(state_dir.st_uid == 1234);
    CHECK(fs::read_symlink(root / "usr/share/hello/hello-link") == "../../bin/hello");
    CHECK(read_text(root / "usr/share/hello/data.txt") == "data\n");
    CHECK(fs::exists(root / "usr/share/doc/hello/README"));
    CHECK(fs::exists(root / "usr/share/locale/fr/LC_MESSAGES/hello.mo"));
    CHECK(fs::exists(root / "usr/share/locale/de/LC_MESSAGES/hello.mo"));

    CHECK(read_text(root / "var/log/hello-scriptlets.log") == "pre 1\npost 1\n");
    CHECK(read_text(root / "var/log/hello-posttrans.log") == "posttrans ran\n");

    CHECK(fs::exists(root / "usr/lib/sysimage/rpm/rpmdb.sqlite"));
    CHECK_FALSE(fs::exists(root / "usr/lib/sysimage/rpm/rpmdb.sqlite-wal"));
    CHECK_FALSE(fs::exists(root / "usr/lib/sysimage/rpm/rpmdb.sqlite-shm"));
    CHECK(install::installed_packages(root.path()).size() == 3);
    CHECK(install::kernel_versions(root.path()).empty());
    // Readers (rpm -qa above, the queries here) leave no write-ahead log behind either.
    CHECK_FALSE(fs::exists(root / "usr/lib/sysimage/rpm/rpmdb.sqlite-wal"));
    CHECK_FALSE(fs::exists(root / "usr/lib/sysimage/rpm/.rpm.lock"));
    CHECK_FALSE(fs::exists(root / "root/.rpmdb"));
    CHECK_FALSE(fs::exists(root / "etc/rpm/macros.imgcreate"));
}

TEST_CASE("progress reports each package with its position and the scriptlets as they run") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("progress");
    std::vector<std::string> events;
    install::install_packages(root.path(), packages({"busybox-sh", "test-setup", "hello"}), {},
                              [&](const install::InstallProgress& p) {
                                  events.push_back(std::to_string(p.index) + "/" + std::to_string(p.total) + " " +
                                                   p.phase + " " + p.package);
                              });
    auto has = [&](const std::string& e) { return std::find(events.begin(), events.end(), e) != events.end(); };
    INFO(::testing_join(events));
    CHECK(has("3/3 installing hello-1:2.12-3.noarch"));
    CHECK(has("3/3 %pre hello-1:2.12-3.noarch"));
    CHECK(has("3/3 %post hello-1:2.12-3.noarch"));
    CHECK(has("3/3 %posttrans hello-1:2.12-3.noarch"));
    CHECK(std::count_if(events.begin(), events.end(),
                        [](const std::string& e) { return e.find(" verifying ") != std::string::npos; }) == 3);
}

TEST_CASE("the rpm database goes where dbpath says, as on EL") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("el-dbpath");
    install::TransactionOptions options;
    options.dbpath = "/var/lib/rpm";
    install::install_packages(root.path(), packages({"test-setup"}), options);
    CHECK(fs::exists(root / "var/lib/rpm/rpmdb.sqlite"));
    CHECK_FALSE(fs::exists(root / "usr/lib/sysimage/rpm"));
    CHECK(rpm_qa(root.path(), "/var/lib/rpm") == std::vector<std::string>{"test-setup-1.0-1.noarch"});
}

TEST_CASE("%packages --excludedocs and --instLangs leave docs and other languages out and are kept in macros.imgcreate") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("nodocs");
    install::TransactionOptions options;
    options.macros.exclude_docs = true;
    options.macros.install_langs = {"fr"};
    options.macros.selinux_disabled = true;
    install::install_packages(root.path(), packages({"busybox-sh", "test-setup", "hello"}), options);

    CHECK(fs::exists(root / "usr/bin/hello"));
    CHECK_FALSE(fs::exists(root / "usr/share/doc/hello/README"));
    CHECK(fs::exists(root / "usr/share/locale/fr/LC_MESSAGES/hello.mo"));
    CHECK_FALSE(fs::exists(root / "usr/share/locale/de/LC_MESSAGES/hello.mo"));
    CHECK(read_text(root / "etc/rpm/macros.imgcreate") ==
          "%_excludedocs 1\n%_install_langs fr\n%__file_context_path %{nil}\n");
    // The file is valid rpm macro syntax: rpm loading it sees the settings.
    auto expanded = run({"rpm", "--load", (root / "etc/rpm/macros.imgcreate").string(), "--eval",
                         "%{_install_langs} %{_excludedocs} [%{__file_context_path}]"}).output;
    CHECK(expanded == "fr 1 []\n");
}

TEST_CASE("triggers and file triggers run when the package they watch is installed") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("triggers");
    install::install_packages(root.path(), packages({"busybox-sh", "test-setup", "hello-watcher", "hello"}));
    auto log = lines_of(read_text(root / "var/log/hello-watcher.log"));
    CHECK(std::count(log.begin(), log.end(), "triggered by hello") == 1);
    CHECK(std::count(log.begin(), log.end(), "plugin /usr/share/hello-plugins/one.conf") == 1);
}

TEST_CASE("a scriptlet finds every package installed before it in the rpm database on disk") {
    // A %post that starts rpm (or reads the database) sees what rpm has committed; the
    // transaction's database writes are batched, so this goes red if a batch is left
    // uncommitted when a scriptlet starts.
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("db-snapshot");
    install::install_packages(root.path(), packages({"busybox-sh", "test-setup", "hello", "db-snapshot"}));
    const auto snapshot = rpm_qa(root / "var/tmp/db-snapshot");
    INFO(testing_join(snapshot));
    for (const char* before : {"busybox-sh-1.35.0-1.x86_64", "test-setup-1.0-1.noarch", "db-snapshot-1.0-1.noarch"})
        CHECK(std::count(snapshot.begin(), snapshot.end(), before) == 1);
    CHECK(rpm_qa(root.path()) == std::vector<std::string>{"busybox-sh-1.35.0-1.x86_64", "db-snapshot-1.0-1.noarch",
                                                          "hello-1:2.12-3.noarch", "test-setup-1.0-1.noarch"});
}

TEST_CASE("a failing %pre stops the build naming the package and showing the scriptlet output") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("pre-fails");
    auto message = failure_of(root.path(), packages({"busybox-sh", "test-setup", "pre-fails"}));
    INFO(message);
    CHECK(message.rfind("the rpm transaction into " + root.path().string() + " failed for 1 package", 0) == 0);
    CHECK(message.find("pre-fails-1.0-1.noarch: its %pre scriptlet failed, so rpm did not install it") !=
          std::string::npos);
    CHECK(message.find("exit status 3") != std::string::npos);
    CHECK(message.find("pre-fails: the disk is not ready") != std::string::npos);
    auto qa = rpm_qa(root.path());
    CHECK(std::find(qa.begin(), qa.end(), "pre-fails-1.0-1.noarch") == qa.end());
    CHECK_FALSE(fs::exists(root / "usr/share/pre-fails/file"));
}

TEST_CASE("a failing %post is a warning with its output and the package stays installed") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("post-fails");
    auto result = install::install_packages(root.path(), packages({"busybox-sh", "test-setup", "post-fails"}));
    REQUIRE(result.warnings.size() == 1);
    CHECK(result.warnings[0].package == "post-fails-1.0-1.noarch");
    CHECK(result.warnings[0].scriptlet == "%post");
    CHECK(result.warnings[0].output == "post-fails: cannot reach the network");
    CHECK(result.warnings[0].message.find("exit status 1") != std::string::npos);
    CHECK(read_text(root / "usr/share/post-fails/file") == "installed\n");
    auto qa = rpm_qa(root.path());
    CHECK(std::find(qa.begin(), qa.end(), "post-fails-1.0-1.noarch") != qa.end());
}

TEST_CASE("two packages shipping the same path with different contents fail as a file conflict") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("conflict");
    auto message = failure_of(root.path(), packages({"conflict-a", "conflict-b"}));
    INFO(message);
    CHECK(message.rfind("rpm refused to install into " + root.path().string() + ": 1 problem\n", 0) == 0);
    CHECK(message.find("file conflict: /usr/share/conflict/same.conf is in both conflict-") != std::string::npos);
    CHECK(message.find("conflict-a-1.0-1.noarch") != std::string::npos);
    CHECK(message.find("conflict-b-1.0-1.noarch") != std::string::npos);
    CHECK(rpm_qa(root.path()).empty());
}

TEST_CASE("a payload larger than the root filesystem fails with the space it needs") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("small");
    REQUIRE(::mount("imgcreate-test", root.path().c_str(), "tmpfs", 0, "size=4m") == 0);
    auto message = failure_of(root.path(), packages({"big-payload"}));
    INFO(message);
    CHECK(message.rfind("rpm refused to install into " + root.path().string() + ": 1 problem\n", 0) == 0);
    CHECK(message.find("not enough disk space: installing big-payload-1.0-1.noarch needs ") != std::string::npos);
    CHECK(message.find(" more on the install root's / filesystem; make it larger (part / --size= in the kickstart)") !=
          std::string::npos);
}

TEST_CASE("installing into a root that already has an rpmdb adds only what is missing") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("incremental");
    install::install_packages(root.path(), packages({"busybox-sh", "test-setup"}));
    // What a killed rpm leaves behind must not block the next transaction.
    write_text(root / "usr/lib/sysimage/rpm/__db.001", "stale");
    write_text(root / "usr/lib/sysimage/rpm/.rpm.lock", "");
    auto second = install::install_packages(root.path(), packages({"busybox-sh", "test-setup", "hello"}));
    CHECK_FALSE(fs::exists(root / "usr/lib/sysimage/rpm/__db.001"));
    CHECK_FALSE(fs::exists(root / "usr/lib/sysimage/rpm/.rpm.lock"));
    CHECK(second.installed == std::vector<std::string>{"hello-1:2.12-3.noarch"});
    CHECK(second.already_installed ==
          std::vector<std::string>{"busybox-sh-1.35.0-1.x86_64", "test-setup-1.0-1.noarch"});
    CHECK(rpm_qa(root.path()).size() == 3);
    auto third = install::install_packages(root.path(), packages({"hello"}));
    CHECK(third.installed.empty());
    CHECK(read_text(root / "var/log/hello-scriptlets.log") == "pre 1\npost 1\n");
}

TEST_CASE("kernel_versions lists each kernel package with the versions of its vmlinuz files") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("kernels");
    CHECK(install::kernel_versions(root.path()).empty());
    install::install_packages(root.path(), {test_package("kernel-core"), test_package("test-setup")});
    install::install_packages(root.path(), {test_package("kernel-core", {{"krel", "301.fc39"}})});
    auto kernels = install::kernel_versions(root.path());
    CHECK(kernels == std::map<std::string, std::vector<std::string>>{
                         {"kernel-core", {"6.5.6-300.fc39.x86_64", "6.5.6-301.fc39.x86_64"}}});
}

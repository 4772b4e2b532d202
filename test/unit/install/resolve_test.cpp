#include "resolve_fixture.hpp"

#include <imgcreate/install/comps.hpp>
#include <imgcreate/install/repo_config.hpp>

#include <catch2/catch.hpp>

#include <optional>

using namespace resolve_test;
using Catch::Matchers::Contains;
using Strings = std::vector<std::string>;

namespace {

bool has(const Strings& list, const std::string& s) { return std::find(list.begin(), list.end(), s) != list.end(); }

Strings resolve_names(const PackageRequest& req, std::vector<RepoConfig> repos = main_and_updates()) {
    return nevras(resolve(repos, req, options()));
}

}  // namespace

// Each row says which dnf it follows. A row is checked against dnf 4.14 (Debian's python3-dnf,
// called as livecd-tools calls it, groups with dnf's group_package_types default), unless it
// carries dnf5's answer: dnf5 is not packaged for Debian 12, so where it and dnf 4.14 part
// the row holds what dnf5 installs, with the dnf5 source that decides it.
TEST_CASE("%packages resolves to the same package set livecd-tools gets from dnf on every test repository") {
    if (!dnf_available()) IMGCREATE_SKIP("needs Debian's dnf (python3-dnf) as the reference");
    auto repos = main_and_updates();
    struct Case {
        const char* what;
        const char* follows;
        PackageRequest req;
        std::vector<RepoConfig> repos;
        std::optional<Strings> dnf5 = {};  // set where dnf5 and dnf 4.14 differ
    };
    const char* dnf4 = "dnf 4.14 as livecd-tools calls it";
    auto cheap_updates = repos;
    cheap_updates[1].cost = 500;
    auto filtered = repos;
    filtered[0].excludepkgs = {"glob-two", "virt-httpd"};
    filtered[1].includepkgs = {"chain-c"};
    auto no_weak = request({"weak-app", "@desktop --nodefaults"});
    no_weak.exclude_weakdeps = true;
    no_weak.nocore = true;
    auto multilib = request({"multi-app", "chain-a", "@multilib-libs", "glob-*"});
    multilib.multilib = true;
    auto multilib_alone = request({"multi-app"});
    multilib_alone.multilib = multilib_alone.nocore = true;
    auto multilib_arch = request({"multi-app.x86_64", "libmulti.i686"});
    multilib_arch.multilib = true;
    auto ignoring = request({"chain-a", "no-such-package", "@no-such-group"});
    ignoring.ignoremissing = true;
    std::vector<Case> cases{
        {"groups, environment, chains, rich, file and virtual deps, obsoletes, globs, versions", dnf4,
         request({"@desktop", "@^workstation-environment", "chain-a", "rich-both", "filedep-data-user", "virt-consumer",
                  "oldpkg", "weak-app", "multi-app", "glob-*", "kernel", "versioned", "samever", "-glob-other"}),
         repos},
        {"group options and excluded groups", dnf4,
         request({"@^workstation-environment", "-@desktop", "@extras --optional", "@development --nodefaults"}), repos},
        {"weak deps off and --nocore", dnf4, no_weak, repos},
        {"multilib by arch", dnf4, request({"libmulti.i686", "multi-app"}), repos},
        {"a group with a two-arch member", dnf4, request({"@multilib-libs"}), repos},
        {"--multilib: every arch of each package and group member", dnf4, multilib, repos},
        {"--multilib with arches asked for", dnf4, multilib_arch, repos},
        {"--multilib, one package whose dependency has two arches", dnf4, multilib_alone, repos},
        {"installonly kernels side by side", dnf4, request({"kernel-5.0", "kernel-6.0"}), repos},
        {"NEVR, NEV, provides, file path outside primary, glob with arch", dnf4,
         request({"versioned-1.0-1", "chain-c-2.0", "webserver", "/usr/share/filedep/data.txt", "glob-*.x86_64",
                  "/usr/bin/filedep-tool"}),
         repos},
        {"repository cost decides between identical packages", dnf4, request({"samever", "versioned"}), cheap_updates},
        {"repository includepkgs and excludepkgs", dnf4, request({"glob-*", "virt-consumer", "chain-a"}), filtered},
        {"an exclude by provide makes its dependent uninstallable", dnf4, request({"virt-consumer", "-webserver"}), repos},
        {"excluded group member", dnf4, request({"@desktop", "-desk-editor"}), repos},
        {"a conflict", dnf4, request({"conflict-a", "conflict-b"}), repos},
        {"a missing dependency", dnf4, request({"missing-dep"}), repos},
        {"--ignoremissing", dnf4, ignoring, repos},
        {"rich dependency with its condition met", dnf4, request({"rich-app", "rich-extra"}), repos},
        {"conditional group members: condition a default member, pulled in by a dependency, never installed",
         "dnf5 5.4 (libdnf5/base/goal.cpp, Goal::Impl::install_group_package: a \"(member if condition)\" job); "
         "dnf 4.14 with its group_package_types default, as anaconda",
         request({"@desktop", "chain-a"}), repos},
        {"conditional group members: condition asked for by name, default member left out", "dnf5 5.4, as above",
         request({"@desktop --nodefaults", "chain-c", "desk-editor"}), repos},
        {"an environment naming a group no repository has",
         "dnf5 5.4 and anaconda skip the group with a warning; dnf 4.14's environment install too",
         request({"@^server-environment"}), repos},
        {"a package by name whose older version another package obsoletes",
         "dnf5 5.4 (libdnf5/base/goal.cpp, add_obsoletes_to_data: only obsoleters of the latest version join; "
         "ci-dnf-stack obsoletes.feature, rhbz#1902279); dnf 4.14 installs the obsoleter merged-tools",
         request({"split-tool"}), repos,
         Strings{"core-base-1.0-1.x86_64 main", "core-cond-1.0-1.x86_64 main", "core-default-1.0-1.x86_64 main",
                 "split-tool-3.0-1.x86_64 updates"}},
        {"a package by name whose every version another package obsoletes",
         "dnf 4.14 and dnf5 5.4 alike: the obsoleter (ci-dnf-stack install-obsoletes.feature)",
         request({"oldpkg"}), repos},
    };
    for (const auto& c : cases) {
        INFO(c.what << " [follows " << c.follows << "]");
        CHECK(ours_or_error(c.repos, c.req) == (c.dnf5 ? *c.dnf5 : livecd_dnf(c.repos, c.req)));
    }
}

TEST_CASE("a group brings its mandatory and default members, with --nodefaults only mandatory, with --optional the optional ones too") {
    auto full = resolve_names(request({"@desktop"}));
    CHECK(has(full, "desk-shell-1.0-1.x86_64"));
    CHECK(has(full, "desk-editor-1.0-1.x86_64"));
    CHECK_FALSE(has(full, "desk-games-1.0-1.x86_64"));
    CHECK(has(full, "desk-langpack-1.0-1.x86_64"));  // conditional on desk-editor, a default member
    CHECK(has(full, "core-base-1.0-1.x86_64"));             // core comes unless --nocore
    CHECK(has(full, "core-default-1.0-1.x86_64"));

    auto bare = resolve_names(request({"@desktop --nodefaults"}));
    CHECK(has(bare, "desk-shell-1.0-1.x86_64"));
    CHECK_FALSE(has(bare, "desk-editor-1.0-1.x86_64"));
    CHECK_FALSE(has(bare, "desk-langpack-1.0-1.x86_64"));

    auto all = resolve_names(request({"@desktop --optional"}));
    CHECK(has(all, "desk-games-1.0-1.x86_64"));

    auto nocore_req = request({"@desktop"});
    nocore_req.nocore = true;
    CHECK_FALSE(has(resolve_names(nocore_req), "core-base-1.0-1.x86_64"));
}

TEST_CASE("an environment brings its mandatory groups, not its optional ones, minus excluded groups") {
    auto env = resolve_names(request({"@^workstation-environment"}));
    CHECK(has(env, "desk-shell-1.0-1.x86_64"));
    CHECK_FALSE(has(env, "devel-tool-1.0-1.x86_64"));
    CHECK_FALSE(has(env, "extras-tool-1.0-1.x86_64"));
    auto minus = resolve_names(request({"@^workstation-environment", "-@desktop"}));
    CHECK_FALSE(has(minus, "desk-shell-1.0-1.x86_64"));
}

TEST_CASE("a group's conditional member comes when its condition is asked for, pulled in by a dependency or already in the root") {
    const std::string addon = "desk-chain-addon-1.0-1.x86_64";  // <packagereq type="conditional" requires="chain-c">
    CHECK_FALSE(has(resolve_names(request({"@desktop"})), addon));
    CHECK(has(resolve_names(request({"@desktop", "chain-c"})), addon));
    CHECK(has(resolve_names(request({"@desktop", "chain-a"})), addon));  // chain-a -> chain-b -> chain-c
    CHECK(has(resolve_names(request({"@desktop --nodefaults", "desk-editor"})), "desk-langpack-1.0-1.x86_64"));
    CHECK_FALSE(has(resolve_names(request({"@desktop"})), "desk-cond-unmet-1.0-1.x86_64"));

    // A --base-on root that already has chain-c: the member comes, and chain-c is not asked for again.
    auto o = options();
    o.installed = {"chain-c"};
    auto on_base = nevras(resolve(main_and_updates(), request({"@desktop"}), o));
    CHECK(has(on_base, addon));
    CHECK_FALSE(has(on_base, "chain-c-3.0-1.x86_64"));

    // Excluded, it is left out like any group member.
    auto excluded = resolve(main_and_updates(), request({"@desktop", "chain-c", "-desk-chain-addon"}), options());
    CHECK_FALSE(has(nevras(excluded), addon));
    CHECK(has(excluded.warnings, "No match for group package \"desk-chain-addon\""));
}

TEST_CASE("an environment naming a group no repository has installs the rest and warns naming both and the line") {
    auto r = resolve(main_and_updates(), request({"chain-a", "@^server-environment"}), options());
    CHECK(has(nevras(r), "extras-tool-1.0-1.x86_64"));
    CHECK(has(nevras(r), "core-base-1.0-1.x86_64"));
    CHECK(r.warnings == Strings{"Skipping group '@no-such-group' of environment '@^server-environment' (ks.cfg:3): "
                                "no enabled repository has it"});
    // Asked for by itself, the same group is still an error.
    CHECK_THROWS_AS(resolve(main_and_updates(), request({"@^server-environment", "@no-such-group"}), options()),
                    InstallError);
}

TEST_CASE("a package asked for by name is installed unless its latest version is obsoleted, and a dependency takes the obsoleter") {
    // split-tool 3.0 (updates) is obsoleted by nothing; merged-tools obsoletes split-tool < 2.0.
    auto split = resolve_names(request({"split-tool"}));
    CHECK(has(split, "split-tool-3.0-1.x86_64"));
    CHECK_FALSE(has(split, "merged-tools-1.0-1.x86_64"));
    // Pinned to the obsoleted version, it is what was asked for.
    CHECK(has(resolve_names(request({"split-tool-1.0"})), "split-tool-1.0-1.x86_64"));
    // Every version obsoleted: the obsoleter, by name and as a dependency.
    CHECK(resolve_names(request({"oldpkg"}), {local_repo("main", repo_path("main"))}) ==
          resolve_names(request({"newpkg"}), {local_repo("main", repo_path("main"))}));
    auto dep = resolve_names(request({"oldpkg-user"}));
    CHECK(has(dep, "newpkg-2.0-1.x86_64"));
    CHECK_FALSE(has(dep, "oldpkg-1.0-1.x86_64"));
}

TEST_CASE("a missing package or group without --ignoremissing is an error naming it and its line") {
    try {
        resolve(main_and_updates(), request({"chain-a", "no-such-package", "@no-such-group"}), options());
        FAIL("no error");
    } catch (const InstallError& e) {
        CHECK(std::string(e.what()) ==
              "2 entries of %packages matched nothing in the enabled repositories:\n"
              "  ks.cfg:4: group '@no-such-group'\n"
              "  ks.cfg:3: package 'no-such-package'\n"
              "Check the names, add the repository that has them, or add --ignoremissing to %packages to skip them");
    }
    auto req = request({"chain-a", "no-such-package", "@no-such-group"});
    req.ignoremissing = true;
    auto r = resolve(main_and_updates(), req, options());
    CHECK(has(nevras(r), "chain-a-1.0-1.x86_64"));
    CHECK(has(r.warnings, "Skipping missing package 'no-such-package' (ks.cfg:3)"));
    CHECK(has(r.warnings, "Skipping missing group '@no-such-group' (ks.cfg:4)"));
}

TEST_CASE("a failed solve lists libsolv's problems, the kickstart lines that asked, and the solutions") {
    try {
        resolve(main_and_updates(), request({"conflict-a", "conflict-b"}), options());
        FAIL("no error");
    } catch (const ResolveError& e) {
        CHECK(std::string(e.what()) ==
              "the packages asked for cannot be installed together (1 problem):\n"
              "  problem 1: package conflict-a-1.0-1.x86_64 conflicts with conflict-b provided by conflict-b-1.0-1.x86_64\n"
              "    asked for by 'conflict-a' (ks.cfg:2)\n"
              "    asked for by 'conflict-b' (ks.cfg:3)\n"
              "    solution 1: leave out 'conflict-b' (ks.cfg:3)\n"
              "    solution 2: leave out 'conflict-a' (ks.cfg:2)");
    }
    try {
        resolve(main_and_updates(), request({"missing-dep"}), options());
        FAIL("no error");
    } catch (const ResolveError& e) {
        CHECK_THAT(e.what(), Contains("nothing provides does-not-exist needed by missing-dep-1.0-1.x86_64"));
        CHECK_THAT(e.what(), Contains("asked for by 'missing-dep' (ks.cfg:2)"));
    }
}

TEST_CASE("best candidate: newest version across repositories, cost only between identical packages") {
    auto r = nevras(resolve(main_and_updates(), request({"versioned", "chain-a", "samever"}), options()), true);
    CHECK(has(r, "versioned-2.0-1.x86_64 updates"));
    CHECK(has(r, "chain-c-3.0-1.x86_64 updates"));
    CHECK(has(r, "samever-3.0-1.x86_64 main"));
    auto repos = main_and_updates();
    repos[1].cost = 500;
    CHECK(has(nevras(resolve(repos, request({"samever"}), options()), true), "samever-3.0-1.x86_64 updates"));
}

TEST_CASE("obsoletes are honoured, installonly kernels coexist, i686 only when asked by arch") {
    auto obs = resolve_names(request({"oldpkg", "oldpkg-user"}));
    CHECK(has(obs, "newpkg-2.0-1.x86_64"));
    CHECK_FALSE(has(obs, "oldpkg-1.0-1.x86_64"));

    auto kernels = resolve_names(request({"kernel-5.0", "kernel-6.0"}));
    CHECK(has(kernels, "kernel-5.0-1.x86_64"));
    CHECK(has(kernels, "kernel-6.0-1.x86_64"));
    CHECK(has(kernels, "kernel-core-5.0-1.x86_64"));
    CHECK(has(kernels, "kernel-core-6.0-1.x86_64"));

    CHECK(resolve_names(request({"multi-app"}), {local_repo("main", repo_path("main"))}) ==
          Strings{"core-base-1.0-1.x86_64", "core-cond-1.0-1.x86_64", "core-default-1.0-1.x86_64",
                  "libmulti-1.0-1.x86_64", "multi-app-1.0-1.x86_64"});
    CHECK(has(resolve_names(request({"libmulti.i686"})), "libmulti-1.0-1.i686"));
}

TEST_CASE("%packages --multilib installs every arch of a package or group member that has several, as multilib_policy all") {
    const auto repos = std::vector<RepoConfig>{local_repo("main", repo_path("main"))};
    auto req = request({"multi-app", "chain-a", "@multilib-libs"});
    req.nocore = true;
    // noarch-tool requires core-base.
    const Strings best{"chain-a-1.0-1.x86_64",   "chain-b-1.0-1.x86_64",  "chain-c-2.0-1.x86_64",
                       "core-base-1.0-1.x86_64", "libmulti-1.0-1.x86_64", "multi-app-1.0-1.x86_64",
                       "noarch-tool-1.0-1.noarch"};
    CHECK(nevras(resolve(repos, req, options())) == best);
    req.multilib = true;
    CHECK(nevras(resolve(repos, req, options())) ==
          Strings{"chain-a-1.0-1.x86_64", "chain-b-1.0-1.x86_64", "chain-c-2.0-1.x86_64", "core-base-1.0-1.x86_64",
                  "libmulti-1.0-1.i686",
                  "libmulti-1.0-1.x86_64", "multi-app-1.0-1.i686", "multi-app-1.0-1.x86_64",
                  "noarch-tool-1.0-1.noarch"});
    // An arch asked for still wins over --multilib.
    auto by_arch = request({"multi-app.x86_64"});
    by_arch.nocore = by_arch.multilib = true;
    CHECK(nevras(resolve(repos, by_arch, options())) == Strings{"libmulti-1.0-1.x86_64", "multi-app-1.0-1.x86_64"});
}

TEST_CASE("a module stream in %packages is an error naming it and its line, a warning with --ignoremissing") {
    const auto req = request({"chain-a", "@nodejs:18/common", "@perl:5.32"});
    try {
        resolve(main_and_updates(), req, options());
        FAIL("no error");
    } catch (const InstallError& e) {
        CHECK(std::string(e.what()) ==
              "%packages asks for 2 module streams, and modules are not supported: list the packages you need from "
              "them in %packages instead, or add --ignoremissing to %packages to skip them\n"
              "  ks.cfg:3: module '@nodejs:18/common'\n"
              "  ks.cfg:4: module '@perl:5.32'");
    }
    try {
        resolve(main_and_updates(), request({"@nodejs:18"}), options());
        FAIL("no error");
    } catch (const InstallError& e) {
        CHECK(std::string(e.what()) ==
              "%packages asks for a module stream, and modules are not supported: list the packages you need from it "
              "in %packages instead, or add --ignoremissing to %packages to skip it\n"
              "  ks.cfg:2: module '@nodejs:18'");
    }
    auto ignoring = req;
    ignoring.ignoremissing = true;
    auto r = resolve(main_and_updates(), ignoring, options());
    CHECK(has(nevras(r), "chain-a-1.0-1.x86_64"));
    CHECK(r.warnings == Strings{"Skipping module '@nodejs:18/common' (ks.cfg:3): modules are not supported; list the "
                                "packages you need from it in %packages instead",
                                "Skipping module '@perl:5.32' (ks.cfg:4): modules are not supported; list the "
                                "packages you need from it in %packages instead"});
}

TEST_CASE("weak dependencies are installed unless --excludeWeakdeps") {
    CHECK(has(resolve_names(request({"weak-app"})), "weak-rec-1.0-1.x86_64"));
    CHECK_FALSE(has(resolve_names(request({"weak-app"})), "weak-sugg-1.0-1.x86_64"));
    auto req = request({"weak-app"});
    req.exclude_weakdeps = true;
    CHECK_FALSE(has(resolve_names(req), "weak-rec-1.0-1.x86_64"));
}

TEST_CASE("filelists are read only when a file dependency outside primary's paths needs them") {
    auto repos = main_and_updates();
    auto only_primary = load_repositories(repos, request({"filedep-user"}), options());
    // main has filedep-data-user, which needs /usr/share/filedep/data.txt: filelists are needed.
    CHECK(only_primary.repos()[0].filelists_loaded);

    auto updates_only = load_repositories({repos[1]}, request({"versioned"}), options());
    CHECK_FALSE(updates_only.repos()[0].filelists_loaded);
    auto asked_path = load_repositories({repos[1]}, request({"/usr/share/doc/x"}), options());
    CHECK(asked_path.repos()[0].filelists_loaded);
}

TEST_CASE(".solv caches are written after the first load and reused while repomd.xml is unchanged") {
    const auto cache = work_dir() / "solv-cache";
    fs::remove_all(cache);
    auto o = options("solv-cache");
    auto repos = main_and_updates();
    auto first = load_repositories(repos, request({"chain-a"}), o);
    CHECK_FALSE(first.repos()[0].from_cache);
    auto second = load_repositories(repos, request({"chain-a"}), o);
    CHECK(second.repos()[0].from_cache);
    CHECK(second.repos()[0].filelists_loaded);
    CHECK(nevras(resolve(second, request({"filedep-data-user", "@desktop"}))) ==
          nevras(resolve(first, request({"filedep-data-user", "@desktop"}))));

    // A changed repository (new repomd.xml) is read from XML again and the old cache dropped.
    const auto copy = work_dir() / "changed-repo";
    fs::remove_all(copy);
    fs::copy(repo_path("updates"), copy, fs::copy_options::recursive);
    auto changed = local_repo("updates", copy);
    auto third = load_repositories({changed}, request({}), o);
    imgcreate::run({"createrepo_c", "--quiet", "--no-database", "--update", "--simple-md-filenames", copy.string()});
    auto fourth = load_repositories({changed}, request({}), o);
    CHECK_FALSE(fourth.repos()[0].from_cache);
    std::size_t solv_files = 0;
    for (const auto& e : fs::directory_iterator(fourth.repos()[0].meta.cache / "solv"))
        solv_files += e.path().extension() == ".solv";
    CHECK(solv_files == 1);
}

TEST_CASE(".repo files give repositories with variables substituted, later ids overriding earlier ones") {
    const auto dir = work_dir() / "repofiles";
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "a.repo") << "[main]\ngpgcheck=1\n\n[fedora]\nname=Fedora $releasever - $basearch\n"
                                     "baseurl=http://example.org/$releasever/$basearch/os/\n"
                                     "        http://mirror.example.org/${releasever}/$arch/\n"
                                     "gpgcheck=1\ngpgkey=keys/RPM-GPG-KEY file:///etc/pki/key2\n"
                                     "cost=500\nexcludepkgs=foo*, bar\nsslverify=0\n\n[off]\nbaseurl=file:///x\nenabled=0\n";
    std::ofstream(dir / "b.repo") << "[fedora]\nmetalink=https://mirrors.example.org/metalink?repo=f$releasever&arch=$basearch\n";
    RepoVariables vars;
    vars.releasever = "39";
    auto one = read_repo_files(dir / "a.repo", vars);
    REQUIRE(one.size() == 1);
    CHECK(one[0].id == "fedora");
    CHECK(one[0].name == "Fedora 39 - x86_64");
    CHECK(one[0].baseurls == Strings{"http://example.org/39/x86_64/os/", "http://mirror.example.org/39/x86_64/"});
    CHECK(one[0].gpgkeys == Strings{"file://" + (dir / "keys/RPM-GPG-KEY").string(), "file:///etc/pki/key2"});
    CHECK(one[0].gpgcheck);
    CHECK(one[0].cost == 500);
    CHECK(one[0].excludepkgs == Strings{"foo*", "bar"});
    CHECK(one[0].noverifyssl);
    CHECK(one[0].where() == (dir / "a.repo").string() + ":4");

    auto both = read_repo_files(dir, vars);
    REQUIRE(both.size() == 1);
    CHECK(both[0].metalink == "https://mirrors.example.org/metalink?repo=f39&arch=x86_64");
    CHECK(both[0].baseurls.empty());

    CHECK_THROWS_WITH(read_repo_files(dir, RepoVariables{}),
                      Contains("a.repo:4: $releasever is used in 'http://example.org/$releasever/$basearch/os/' but has no "
                               "value: pass --releasever"));
    CHECK_THROWS_WITH(read_repo_files(dir / "none", vars),
                      "Unable to read repo configuration: \"" + (dir / "none").string() + "\" does not exist");
}

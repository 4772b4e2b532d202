#include "resolve_fixture.hpp"

#include <imgcreate/install/download.hpp>
#include <imgcreate/install/lockfile.hpp>

#include <catch2/catch.hpp>

#include <regex>

using namespace resolve_test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

RepoConfig http_repo(const std::string& id, const std::string& url) {
    RepoConfig r;
    r.id = r.name = id;
    r.baseurls = {url};
    return r;
}

fs::path fresh_copy(const std::string& name) {
    const auto copy = work_dir() / name;
    fs::remove_all(copy);
    fs::copy(repo_path("main"), copy, fs::copy_options::recursive);
    return copy;
}

std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

fs::path primary_of(const fs::path& repo) {
    for (const auto& e : fs::directory_iterator(repo / "repodata"))
        if (e.path().filename().string().find("-primary.xml") != std::string::npos) return e.path();
    return {};
}

// Nothing but whole cache entries: no temporary folders or half-written files.
std::vector<std::string> leftovers(const fs::path& dir) {
    std::vector<std::string> out;
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        const auto name = e.path().filename().string();
        if (name.find(".tmp") != std::string::npos || name.find(".part") != std::string::npos ||
            name.find(".old") != std::string::npos)
            out.push_back(e.path().string());
    }
    return out;
}

}  // namespace

TEST_CASE("a repository served over HTTP resolves, downloads verified packages, and then works offline from the cache") {
    const auto cache = work_dir() / "http-cache";
    fs::remove_all(cache);
    auto o = options("http-cache");
    DownloadOptions d;
    d.package_dir = cache / "packages";
    std::vector<Package> packages;
    {
        HttpServer server(repo_path("main"));
        auto repos = std::vector<RepoConfig>{http_repo("web", server.url())};
        auto result = resolve(repos, request({"chain-a", "filedep-data-user", "@desktop"}), o);
        CHECK(nevras(result) == std::vector<std::string>{
                                    "chain-a-1.0-1.x86_64", "chain-b-1.0-1.x86_64", "chain-c-2.0-1.x86_64",
                                    "core-base-1.0-1.x86_64", "core-cond-1.0-1.x86_64", "core-default-1.0-1.x86_64",
                                    "desk-chain-addon-1.0-1.x86_64", "desk-editor-1.0-1.x86_64",
                                    "desk-langpack-1.0-1.x86_64", "desk-shell-1.0-1.x86_64",
                                    "filedep-data-1.0-1.x86_64", "filedep-data-user-1.0-1.x86_64"});
        packages = result.packages;
        CHECK(packages.front().base_url == server.url());
        download_packages(packages, repos, d);
        for (const auto& p : packages) {
            CHECK(p.local_path.parent_path().parent_path() == d.package_dir);
            CHECK(fs::file_size(p.local_path) == p.download_size);
        }
        write_lockfile(work_dir() / "http.lock", packages);
        // The filelists a file dependency needed were fetched lazily into the cache too.
        CHECK(leftovers(cache).empty());
    }
    // Server gone: metadata and packages come from the cache.
    o.metadata.cache_only = true;
    d.cache_only = true;
    auto repos = std::vector<RepoConfig>{http_repo("web", "http://127.0.0.1:1")};
    repos[0].baseurls = {packages.front().base_url};
    auto again = resolve(repos, request({"chain-a", "filedep-data-user", "@desktop"}), o);
    CHECK(nevras(again) == nevras(Resolution{packages, {}, {}}));
    auto locked = read_lockfile(work_dir() / "http.lock", repos);
    download_packages(locked, repos, d);
    REQUIRE(locked.size() == packages.size());
    for (std::size_t i = 0; i < locked.size(); ++i) {
        CHECK(locked[i].nevra() == packages[i].nevra());
        CHECK(locked[i].checksum == packages[i].checksum);
        CHECK(locked[i].local_path == packages[i].local_path);
    }
}

TEST_CASE("a corrupt package is fetched again once, then the build stops naming it") {
    const auto served = fresh_copy("corrupt-served");
    const auto cache = work_dir() / "corrupt-cache";
    fs::remove_all(cache);
    HttpServer server(served);
    auto repos = std::vector<RepoConfig>{http_repo("web", server.url())};
    auto result = resolve(repos, request({"chain-c"}), options("corrupt-cache"));
    auto pkgs = result.packages;
    DownloadOptions d;
    d.package_dir = cache / "packages";

    SECTION("a corrupt file in the package cache is replaced") {
        download_packages(pkgs, repos, d);
        std::ofstream(pkgs[0].local_path) << "garbage";
        auto again = result.packages;
        download_packages(again, repos, d);
        CHECK(fs::file_size(again[0].local_path) == again[0].download_size);
    }
    SECTION("a package that stays corrupt on the server is an error") {
        auto chain = std::find_if(pkgs.begin(), pkgs.end(), [](const Package& p) { return p.name == "chain-c"; });
        REQUIRE(chain != pkgs.end());
        const auto size = fs::file_size(served / chain->location);
        std::ofstream(served / chain->location, std::ios::trunc) << std::string(size, 'x');
        try {
            download_packages(pkgs, repos, d);
            FAIL("no error");
        } catch (const InstallError& e) {
            CHECK_THAT(e.what(), StartsWith("1 package could not be downloaded intact (tried twice):\n"
                                            "  chain-c-2.0-1.x86_64 from web (" + chain->location + "): "));
        }
        CHECK_FALSE(fs::exists(cached_package_path(d, repos[0], *chain)));
    }
    CHECK(leftovers(cache).empty());
}

TEST_CASE("a bad repository is a clear error naming it, and leaves nothing half-written in the cache") {
    const auto cache = work_dir() / "bad-cache";
    fs::remove_all(cache);
    auto o = options("bad-cache");

    SECTION("wrong checksum in repomd.xml") {
        const auto copy = fresh_copy("bad-checksum");
        auto repomd = read(copy / "repodata/repomd.xml");
        const auto primary = primary_of(copy).filename().string();
        const auto sum = primary.substr(0, primary.find('-'));
        repomd = std::regex_replace(repomd, std::regex(sum), std::string(sum.size(), '0'), std::regex_constants::format_first_only);
        std::ofstream(copy / "repodata/repomd.xml") << repomd;
        CHECK_THROWS_WITH(resolve({local_repo("broken", copy)}, request({"chain-a"}), o),
                          StartsWith("repository 'broken': repodata/" + primary +
                                     " does not match the checksum in repomd.xml (expected sha256 " +
                                     std::string(sum.size(), '0') + ", found " + sum + ")"));
    }
    SECTION("missing primary") {
        const auto copy = fresh_copy("no-primary");
        fs::remove(primary_of(copy));
        CHECK_THROWS_WITH(resolve({local_repo("broken", copy)}, request({"chain-a"}), o),
                          StartsWith("repository 'broken': cannot read: " + copy.string() + "/repodata/"));
    }
    SECTION("unreachable URL") {
        const int port = imgcreate::test::free_port();
        const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/repo";
        CHECK_THROWS_WITH(resolve({http_repo("far", url)}, request({"chain-a"}), o),
                          StartsWith("repository 'far': cannot download repository metadata: "));
    }
    SECTION("malformed XML") {
        const auto copy = fresh_copy("malformed");
        std::ofstream(copy / "repodata/repomd.xml") << "<repomd><data type=\"primary\"><location href=";
        HttpServer server(copy);
        CHECK_THROWS_WITH(resolve({http_repo("mangled", server.url())}, request({"chain-a"}), o),
                          StartsWith("repository 'mangled': cannot download repository metadata: "));
        CHECK_THROWS_WITH(resolve({local_repo("mangled-local", copy)}, request({"chain-a"}), o),
                          StartsWith("repository 'mangled-local': malformed repository index "));
    }
    SECTION("a repository that is not one") {
        fs::create_directories(work_dir() / "empty-dir");
        CHECK_THROWS_WITH(resolve({local_repo("empty", work_dir() / "empty-dir")}, request({"chain-a"}), o),
                          Contains("is this a repository? createrepo_c makes repodata/repomd.xml"));
    }
    SECTION("cache-only without a cache") {
        o.metadata.cache_only = true;
        CHECK_THROWS_WITH(resolve({http_repo("never", "http://127.0.0.1:1/")}, request({"chain-a"}), o),
                          Contains("cache-only mode forbids downloading it: build once without --cacheonly"));
    }
    CHECK(leftovers(cache).empty());
    if (fs::exists(cache))
        for (const auto& e : fs::recursive_directory_iterator(cache)) CHECK_FALSE(e.path().extension() == ".solv");
}

TEST_CASE("a lockfile records NEVRA, repository, location and checksum, and reads back exactly") {
    auto repos = main_and_updates();
    auto result = resolve(repos, request({"chain-a", "kernel", "@desktop"}), options());
    const auto lock = work_dir() / "resolve.lock";
    write_lockfile(lock, result.packages);
    const auto text = read(lock);
    CHECK_THAT(text, StartsWith("# imgcreate lockfile 1\nchain-a 0 1.0 1 x86_64 main sha256:"));
    auto back = read_lockfile(lock, repos);
    REQUIRE(back.size() == result.packages.size());
    for (std::size_t i = 0; i < back.size(); ++i) {
        auto expected = result.packages[i];
        expected.local_path.clear();
        expected.install_size = 0;
        CHECK(back[i] == expected);
    }
    download_packages(back, repos, DownloadOptions{});
    CHECK(back[0].local_path == repo_path("main") / back[0].location);
    CHECK_THROWS_WITH(read_lockfile(lock, {repos[0]}),
                      Contains("comes from repository 'updates', which this build does not configure"));
}

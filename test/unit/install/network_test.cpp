// Remote repositories reached through a mirrorlist, a metalink, an HTTP proxy and TLS, all
// served from 127.0.0.1 by servers each test starts and stops.
#include "resolve_fixture.hpp"

#include <imgcreate/install/download.hpp>
#include <imgcreate/install/rpm_install.hpp>
#include <imgcreate/kickstart/kickstart.hpp>

#include <catch2/catch.hpp>

using namespace resolve_test;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;
using imgcreate::test::ProxyServer;
using imgcreate::test::TlsServer;
using Strings = std::vector<std::string>;

namespace {

std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A folder served as the web root: `repo` is the main test repository, next to it whatever
// mirrorlists and metalinks a test writes.
fs::path web_root(const std::string& name) {
    const auto dir = work_dir() / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::create_directory_symlink(repo_path("main"), dir / "repo");
    return dir;
}

// A kickstart `repo` line as the build reads it.
RepoConfig kickstart_repo(const std::string& line) {
    auto ks = imgcreate::kickstart::parse_string(line + "\n", "ks.cfg");
    REQUIRE(ks.repos.size() == 1);
    return imgcreate::install::detail::repo_from_kickstart(ks.repos[0]);
}

// A repository with its own fresh metadata and package cache.
struct Fresh {
    ResolveOptions resolve;
    DownloadOptions download;
    explicit Fresh(const std::string& name) : resolve(options(name)) {
        fs::remove_all(work_dir() / name);
        resolve.metadata.network.retries = 1;
        resolve.metadata.network.connect_timeout = 5;
        download.package_dir = work_dir() / name / "packages";
        download.network = resolve.metadata.network;
    }
};

const Strings chain = {"chain-a-1.0-1.x86_64", "chain-b-1.0-1.x86_64", "chain-c-2.0-1.x86_64",
                       "core-base-1.0-1.x86_64", "core-cond-1.0-1.x86_64", "core-default-1.0-1.x86_64"};

// Resolves chain-a (with the core group) from `repo` and downloads the packages; returns the
// NEVRAs after checking every file arrived whole.
Strings resolve_and_download(const RepoConfig& repo, Fresh& f) {
    const std::vector<RepoConfig> repos{repo};
    auto result = resolve(repos, request({"chain-a"}), f.resolve);
    download_packages(result.packages, repos, f.download);
    for (const auto& p : result.packages) {
        INFO(p.nevra());
        CHECK(p.local_path.parent_path().parent_path() == f.download.package_dir);
        CHECK(fs::file_size(p.local_path) == p.download_size);
    }
    return nevras(result);
}

std::string error_of(const RepoConfig& repo, Fresh& f) {
    try {
        resolve_and_download(repo, f);
    } catch (const InstallError& e) {
        return e.what();
    }
    return "no error";
}

std::string dead_url() { return "http://127.0.0.1:" + std::to_string(imgcreate::test::free_port()) + "/repo"; }

std::string sha256_of(const fs::path& p) {
    imgcreate::Command c;
    c.argv = {"sha256sum", p.string()};
    c.log_output = false;
    return imgcreate::run(c).output.substr(0, 64);
}

std::string metalink(const fs::path& repomd, const std::string& sha256, const Strings& urls) {
    std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                      "<metalink version=\"3.0\" xmlns=\"http://www.metalinker.org/\" "
                      "xmlns:mm0=\"http://fedorahosted.org/mirrormanager\" type=\"dynamic\">\n"
                      " <files>\n  <file name=\"repomd.xml\">\n   <mm0:timestamp>1700000000</mm0:timestamp>\n"
                      "   <size>" + std::to_string(fs::file_size(repomd)) + "</size>\n"
                      "   <verification>\n    <hash type=\"sha256\">" + sha256 + "</hash>\n   </verification>\n"
                      "   <resources maxconnections=\"1\">\n";
    int pref = 100;
    for (const auto& u : urls)
        xml += "    <url protocol=\"http\" type=\"http\" location=\"US\" preference=\"" + std::to_string(pref--) + "\">" +
               u + "/repodata/repomd.xml</url>\n";
    return xml + "   </resources>\n  </file>\n </files>\n</metalink>\n";
}

struct Certificate {
    fs::path cert, key;
};

Certificate self_signed(const std::string& name) {
    IMGCREATE_REQUIRE_PROGRAM("openssl");
    const auto dir = work_dir() / name;
    fs::create_directories(dir);
    Certificate c{dir / "cert.pem", dir / "key.pem"};
    imgcreate::Command cmd;
    cmd.argv = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", c.key.string(), "-out", c.cert.string()};
    cmd.log_output = false;
    imgcreate::run(cmd);
    return c;
}

std::string untrusted(const std::string& url, const std::string& where) {
    return "repository 'secure': cannot download repository metadata: the server's TLS certificate is not trusted: "
           "pass --sslcacert=CA-FILE (sslcacert= in a .repo file) naming the certificate that signed it, or "
           "--noverifyssl (sslverify=0) to skip the check\n"
           "  Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried\n"
           "  " + url + "/repo/repodata/repomd.xml: Curl error (60): SSL peer certificate or SSH remote key was not OK "
           "for " + url + "/repo/repodata/repomd.xml [server certificate verification failed. CAfile: none CRLfile: "
           "none]\n"
           "  (repository defined at " + where + ")";
}

}  // namespace

TEST_CASE("a mirrorlist is followed past dead mirrors, and one with only dead mirrors is an error naming the repository") {
    const auto root = web_root("net-mirrorlist");
    HttpServer server(root.string());
    const std::string good = server.url() + "/repo";
    std::ofstream(root / "good") << "# mirrors\n" << good << "\n";
    std::ofstream(root / "dead-first") << dead_url() << "\n" << good << "\n";
    const std::string dead1 = dead_url(), dead2 = dead_url();
    std::ofstream(root / "all-dead") << dead1 << "\n" << dead2 << "\n";

    SECTION("one good mirror, from a kickstart repo line") {
        Fresh f("net-mirrorlist-good");
        auto repo = kickstart_repo("repo --name=mirrored --mirrorlist=" + server.url() + "/good");
        CHECK(repo.mirrorlist == server.url() + "/good");
        CHECK(repo.baseurls.empty());
        CHECK(resolve_and_download(repo, f) == chain);
    }
    SECTION("a dead mirror first, the good one second") {
        Fresh f("net-mirrorlist-dead-first");
        auto repo = kickstart_repo("repo --name=mirrored --mirrorlist=" + server.url() + "/dead-first");
        CHECK(resolve_and_download(repo, f) == chain);
    }
    SECTION("only dead mirrors") {
        Fresh f("net-mirrorlist-all-dead");
        auto repo = kickstart_repo("repo --name=mirrored --mirrorlist=" + server.url() + "/all-dead");
        const auto e = error_of(repo, f);
        CHECK_THAT(e, StartsWith("repository 'mirrored': cannot download repository metadata: no mirror accepted a "
                                 "connection: check the URLs and that the servers are up\n"
                                 "  Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were "
                                 "tried\n"
                                 "  " + dead1 + "/repodata/repomd.xml: Curl error (7): Couldn't connect to server"));
        CHECK_THAT(e, Contains("\n  " + dead2 + "/repodata/repomd.xml: Curl error (7): Couldn't connect to server"));
        CHECK_THAT(e, EndsWith("]\n  (repository defined at ks.cfg:1)"));
    }
    SECTION("a mirrorlist that cannot be fetched") {
        Fresh f("net-mirrorlist-missing");
        auto repo = kickstart_repo("repo --name=mirrored --mirrorlist=" + server.url() + "/no-such-list");
        CHECK(error_of(repo, f) ==
              "repository 'mirrored': cannot download repository metadata: Cannot prepare internal mirrorlist: "
              "Status code: 404 for " + server.url() + "/no-such-list (IP: 127.0.0.1)\n"
              "  " + server.url() + "/no-such-list: Status code: 404 for " + server.url() +
              "/no-such-list (IP: 127.0.0.1)\n"
              "  (repository defined at ks.cfg:1)");
    }
}

namespace {

// While alive, whatever the process writes to stderr (fd 2) goes to `file` instead.
class StderrToFile {
public:
    explicit StderrToFile(const fs::path& file) : saved_(::dup(2)) {
        std::fflush(stderr);
        const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ::dup2(fd, 2);
        ::close(fd);
    }
    ~StderrToFile() {
        std::fflush(stderr);
        ::dup2(saved_, 2);
        ::close(saved_);
    }
    StderrToFile(const StderrToFile&) = delete;
    StderrToFile& operator=(const StderrToFile&) = delete;

private:
    int saved_;
};

}  // namespace

TEST_CASE("librepo's own warnings reach stderr through the log, with its prefix, never raw from GLib") {
    const auto root = web_root("net-glib-log");
    HttpServer server(root.string());
    Fresh f("net-glib-log-missing");
    auto repo = kickstart_repo("repo --name=mirrored --mirrorlist=" + server.url() + "/no-such-list");
    const auto captured = work_dir() / "net-glib-log.stderr";
    {
        StderrToFile to_file(captured);
        CHECK_THAT(error_of(repo, f), StartsWith("repository 'mirrored': cannot download repository metadata"));
    }
    const auto text = read(captured);
    INFO(text);
    CHECK_THAT(text, !Contains("librepo-WARNING") && !Contains("(process:"));
    CHECK_THAT(text, Contains("warning: librepo: LRO_MIRRORLISTURL processing failed: Status code: 404 for " +
                              server.url() + "/no-such-list"));
}

TEST_CASE("a baseurl with a scheme librepo cannot fetch is an error saying which schemes work") {
    Fresh f("net-scheme");
    CHECK(error_of(kickstart_repo("repo --name=odd --baseurl=nosuch://127.0.0.1/repo"), f) ==
          "repository 'odd': cannot download repository metadata: the URL's scheme is not supported: use http://, "
          "https://, ftp:// or file://\n"
          "  Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried\n"
          "  nosuch://127.0.0.1/repo/repodata/repomd.xml: Curl error (1): Unsupported protocol for "
          "nosuch://127.0.0.1/repo/repodata/repomd.xml [Protocol \"nosuch\" not supported or disabled in libcurl]\n"
          "  (repository defined at ks.cfg:1)");
}

TEST_CASE("a metalink whose repomd.xml hash matches is used, one whose hash does not is refused naming the repository") {
    const auto root = web_root("net-metalink");
    HttpServer server(root.string());
    const auto repomd = root / "repo/repodata/repomd.xml";
    std::ofstream(root / "good.xml") << metalink(repomd, sha256_of(repomd), {dead_url(), server.url() + "/repo"});
    std::ofstream(root / "bad.xml") << metalink(repomd, std::string(64, 'a'), {server.url() + "/repo"});

    SECTION("matching hash") {
        Fresh f("net-metalink-good");
        auto repo = kickstart_repo("repo --name=linked --metalink=" + server.url() + "/good.xml");
        CHECK(repo.metalink == server.url() + "/good.xml");
        CHECK(resolve_and_download(repo, f) == chain);
    }
    SECTION("wrong hash") {
        Fresh f("net-metalink-bad");
        auto repo = kickstart_repo("repo --name=linked --metalink=" + server.url() + "/bad.xml");
        CHECK(error_of(repo, f) ==
              "repository 'linked': cannot download repository metadata: repomd.xml does not match the checksum the "
              "metalink gives: the mirrors are out of date or the metalink is wrong; try again later or use a baseurl\n"
              "  Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried\n"
              "  " + server.url() + "/repo/repodata/repomd.xml: Downloading successful, but checksum doesn't match. "
              "Calculated: " + sha256_of(repomd) + "(sha256)  Expected: " + std::string(64, 'a') + "(sha256)\n"
              "  (repository defined at ks.cfg:1)");
        CHECK(fs::is_empty(work_dir() / "net-metalink-bad"));  // no half-downloaded metadata left
    }
}

TEST_CASE("a repository with --proxy is reached through the proxy, and without it its host cannot be reached") {
    const auto root = web_root("net-proxy");
    const auto log = work_dir() / "net-proxy.log";
    fs::remove(log);
    ProxyServer proxy(root.string(), log.string());
    const std::string line = "repo --name=proxied --baseurl=http://imgcreate-test.invalid/repo";

    SECTION("through the proxy") {
        Fresh f("net-proxy-on");
        auto repo = kickstart_repo(line + " --proxy=" + proxy.url());
        CHECK(repo.proxy == proxy.url());
        CHECK(resolve_and_download(repo, f) == chain);
        const auto used = read(log);
        CHECK_THAT(used, Contains("http://imgcreate-test.invalid/repo/repodata/repomd.xml\n"));
        CHECK_THAT(used, Contains("http://imgcreate-test.invalid/repo/packages/x86_64/chain-a-1.0-1.x86_64.rpm\n"));
        // main has a file dependency outside primary.xml: its filelists come through the proxy too.
        CHECK_THAT(read(log), Contains("-filelists.xml"));
    }
    SECTION("a .repo file's proxy=") {
        Fresh f("net-proxy-file");
        const auto file = work_dir() / "net-proxy.repo";
        std::ofstream(file) << "[proxied]\nbaseurl=http://imgcreate-test.invalid/repo\nproxy=" << proxy.url() << "\n";
        auto repos = read_repo_files(file, RepoVariables{});
        REQUIRE(repos.size() == 1);
        CHECK(resolve_and_download(repos[0], f) == chain);
        CHECK_THAT(read(log), Contains("http://imgcreate-test.invalid/repo/repodata/repomd.xml\n"));
    }
    SECTION("without the proxy") {
        Fresh f("net-proxy-off");
        CHECK(error_of(kickstart_repo(line), f) ==
              "repository 'proxied': cannot download repository metadata: a host name cannot be resolved: check the "
              "URL, or set a proxy (--proxy=, proxy= in a .repo file) if this network needs one\n"
              "  Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried\n"
              "  http://imgcreate-test.invalid/repo/repodata/repomd.xml: Curl error (6): Couldn't resolve host name "
              "for http://imgcreate-test.invalid/repo/repodata/repomd.xml [Could not resolve host: "
              "imgcreate-test.invalid]\n"
              "  (repository defined at ks.cfg:1)");
        CHECK_FALSE(fs::exists(log));
    }
}

TEST_CASE("a repository served over TLS with a self-signed certificate needs --sslcacert or --noverifyssl") {
    const auto cert = self_signed("net-tls-cert");
    const auto root = web_root("net-tls");
    TlsServer server(root.string(), cert.cert.string(), cert.key.string());
    const std::string line = "repo --name=secure --baseurl=" + server.url() + "/repo";

    SECTION("no TLS options: a certificate error naming the repository and what to do") {
        Fresh f("net-tls-plain");
        CHECK(error_of(kickstart_repo(line), f) == untrusted(server.url(), "ks.cfg:1"));
    }
    SECTION("--sslcacert") {
        Fresh f("net-tls-cacert");
        auto repo = kickstart_repo(line + " --sslcacert=" + cert.cert.string());
        CHECK(repo.sslcacert == cert.cert.string());
        CHECK(resolve_and_download(repo, f) == chain);
    }
    SECTION("--noverifyssl") {
        Fresh f("net-tls-noverify");
        auto repo = kickstart_repo(line + " --noverifyssl");
        CHECK(repo.noverifyssl);
        CHECK(resolve_and_download(repo, f) == chain);
    }
    SECTION(".repo file: sslcacert= and sslverify=0") {
        const auto file = work_dir() / "net-tls.repo";
        std::ofstream(file) << "[secure]\nbaseurl=" << server.url() << "/repo\nsslcacert=" << cert.cert.string()
                            << "\n\n[insecure]\nbaseurl=" << server.url() << "/repo\nsslverify=0\n";
        auto repos = read_repo_files(file, RepoVariables{});
        REQUIRE(repos.size() == 2);
        Fresh a("net-tls-file-cacert");
        CHECK(resolve_and_download(repos[0], a) == chain);
        Fresh b("net-tls-file-noverify");
        CHECK(resolve_and_download(repos[1], b) == chain);
        std::ofstream(file) << "[secure]\nbaseurl=" << server.url() << "/repo\n";
        Fresh c("net-tls-file-plain");
        CHECK(error_of(read_repo_files(file, RepoVariables{})[0], c) == untrusted(server.url(), file.string() + ":1"));
    }
}

TEST_CASE("a server that asks for a client certificate gets the one --sslclientcert and --sslclientkey name") {
    const auto cert = self_signed("net-tls-client-server");
    const auto client = self_signed("net-tls-client-client");
    const auto root = web_root("net-tls-client");
    TlsServer server(root.string(), cert.cert.string(), cert.key.string(), client.cert.string());
    const std::string line = "repo --name=secure --baseurl=" + server.url() + "/repo --sslcacert=" + cert.cert.string();

    SECTION("kickstart repo line") {
        Fresh f("net-tls-client-ks");
        auto repo = kickstart_repo(line + " --sslclientcert=" + client.cert.string() +
                                   " --sslclientkey=" + client.key.string());
        CHECK(repo.sslclientcert == client.cert.string());
        CHECK(repo.sslclientkey == client.key.string());
        CHECK(resolve_and_download(repo, f) == chain);
    }
    SECTION(".repo file: sslclientcert= and sslclientkey=") {
        const auto file = work_dir() / "net-tls-client.repo";
        std::ofstream(file) << "[secure]\nbaseurl=" << server.url() << "/repo\nsslcacert=" << cert.cert.string()
                            << "\nsslclientcert=" << client.cert.string() << "\nsslclientkey=" << client.key.string()
                            << "\n";
        Fresh f("net-tls-client-file");
        CHECK(resolve_and_download(read_repo_files(file, RepoVariables{})[0], f) == chain);
    }
    SECTION("without a client certificate the server refuses, and the error says so") {
        Fresh f("net-tls-client-none");
        const auto e = error_of(kickstart_repo(line), f);
        CHECK_THAT(e, StartsWith("repository 'secure': cannot download repository metadata: the server ended the TLS "
                                 "handshake: if it asks for a client certificate, pass --sslclientcert=CERT and "
                                 "--sslclientkey=KEY (sslclientcert=, sslclientkey= in a .repo file)\n"));
        CHECK_THAT(e, EndsWith("\n  (repository defined at ks.cfg:1)"));
    }
}

TEST_CASE("downloads show a progress line on a terminal and only log lines otherwise") {
    IMGCREATE_REQUIRE_PROGRAM("script");
    HttpServer server(repo_path("main"));
    auto run_driver = [&](const std::string& cache, bool terminal) {
        fs::remove_all(work_dir() / cache);
        const std::string cmd = std::string(DOWNLOAD_DRIVER) + " " + server.url() + " " + (work_dir() / cache).string() +
                                " chain-a";
        imgcreate::Command c;
        c.argv = terminal ? Strings{"script", "-qec", cmd, "/dev/null"} : Strings{"/bin/sh", "-c", cmd};
        c.log_output = false;
        c.env = std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}, {"TERM", "xterm"}};
        return imgcreate::run(c).output;
    };
    const auto tty = run_driver("net-progress-tty", true);
    const auto piped = run_driver("net-progress-pipe", false);
    INFO("terminal:\n" << tty << "\npiped:\n" << piped);

    // On a terminal: status lines redrawn in place (\r, erase line), no per-package log lines.
    CHECK_THAT(tty, Contains("\r\033[KDownloading metadata for 'web': "));
    CHECK_THAT(tty, Contains("\r\033[KDownloading packages from 'web': 3/3  "));
    CHECK_THAT(tty, Contains("\r\033[Krepository 'web': downloaded 4 metadata files ("));
    CHECK_THAT(tty, Contains("3 packages ready"));
    CHECK_THAT(tty, !Contains("downloaded chain-a-1.0-1.x86_64"));

    // Piped: the same events as log lines, and no terminal control sequences.
    CHECK_THAT(piped, !Contains("Downloading metadata"));
    CHECK_THAT(piped, !Contains("Downloading packages"));
    CHECK_THAT(piped, !Contains("\033"));
    CHECK_THAT(piped, Contains("repository 'web': downloaded 4 metadata files ("));
    CHECK_THAT(piped, Contains("downloading 3 packages\n"));
    CHECK_THAT(piped, Contains("downloaded chain-a-1.0-1.x86_64 (5.5 KiB) ["));
    CHECK_THAT(piped, Contains(") [3/3]\n"));  // one line per package, counted
    CHECK_THAT(piped, Contains("3 packages ready\n"));
}

TEST_CASE("a kickstart's %packages --multilib and @module:stream lines reach the resolver as written") {
    const auto repos = std::vector<RepoConfig>{local_repo("main", repo_path("main"))};
    auto from_kickstart = [](const std::string& text) {
        auto ks = imgcreate::kickstart::parse_string(text, "ks.cfg");
        return imgcreate::install::detail::package_request(ks.packages);
    };
    auto multilib = from_kickstart("%packages --multilib --nocore\nmulti-app\n%end\n");
    CHECK(multilib.multilib);
    // Both arches of what is named; multi-app.i686's plain "Requires: libmulti" is met by the
    // x86_64 build, as dnf does it.
    CHECK(nevras(resolve(repos, multilib, options())) ==
          Strings{"libmulti-1.0-1.x86_64", "multi-app-1.0-1.i686", "multi-app-1.0-1.x86_64"});
    CHECK(nevras(resolve(repos, from_kickstart("%packages --nocore\nmulti-app\n%end\n"), options())) ==
          Strings{"libmulti-1.0-1.x86_64", "multi-app-1.0-1.x86_64"});

    const std::string modules = "%packages --nocore\nchain-a\n@nodejs:18/common\n%end\n";
    CHECK_THROWS_WITH(resolve(repos, from_kickstart(modules), options()),
                      "%packages asks for a module stream, and modules are not supported: list the packages you need "
                      "from it in %packages instead, or add --ignoremissing to %packages to skip it\n"
                      "  ks.cfg:3: module '@nodejs:18/common'");
    auto ignoring = resolve(repos, from_kickstart("%packages --nocore --ignoremissing\nchain-a\n@nodejs:18/common\n%end\n"),
                            options());
    CHECK(ignoring.warnings == Strings{"Skipping module '@nodejs:18/common' (ks.cfg:3): modules are not supported; "
                                       "list the packages you need from it in %packages instead"});
    CHECK(nevras(ignoring) == Strings{"chain-a-1.0-1.x86_64", "chain-b-1.0-1.x86_64", "chain-c-2.0-1.x86_64"});
}

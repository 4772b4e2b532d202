// Kickstart files: %include chains, %ksappend, URLs, the sample kickstarts, and the real Fedora
// kickstarts whose pykickstart ksflatten output is the reference for the writer.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <imgcreate/kickstart/writer.hpp>

namespace fs = std::filesystem;
namespace ks = imgcreate::kickstart;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "imgcreate-ks-test-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string error_of(const std::string& location) {
    try {
        ks::parse_file(location);
    } catch (const imgcreate::KickstartError& e) {
        return e.what();
    }
    return "(no error)";
}

const fs::path samples = fs::path(IMGCREATE_SOURCE_DIR) / "examples" / "kickstarts";
const fs::path expected_dir = fs::path(IMGCREATE_SOURCE_DIR) / "test" / "data" / "kickstart" / "expected";

// python3 -m http.server serving `dir` on a free port of 127.0.0.1, for one test.
struct HttpServer {
    pid_t pid = -1;
    int port = 0;
    explicit HttpServer(const fs::path& dir) {
        int s = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
        port = ntohs(addr.sin_port);
        ::close(s);
        pid = ::fork();
        if (pid == 0) {
            std::string p = std::to_string(port);
            ::freopen("/dev/null", "w", stderr);
            ::freopen("/dev/null", "w", stdout);
            ::execlp("python3", "python3", "-m", "http.server", p.c_str(), "--bind", "127.0.0.1", "--directory",
                     dir.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        // wait until it accepts connections
        for (int i = 0; i < 100; ++i) {
            int c = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            a.sin_port = htons(static_cast<uint16_t>(port));
            bool ok = ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
            ::close(c);
            if (ok) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    ~HttpServer() {
        if (pid > 0) {
            ::kill(pid, SIGTERM);
            ::waitpid(pid, nullptr, 0);
        }
    }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + "/" + path; }
};

}  // namespace

TEST_CASE("Every real Fedora kickstart flattens to exactly what pykickstart's ksflatten prints", "[kickstart][fedora]") {
    const fs::path root = fs::path(IMGCREATE_SHARED_DIR) / "kickstarts" / "fedora";
    if (!fs::is_directory(root / "flattened")) {
        std::cout << "skipped: " << (root / "flattened").string() << " is not there (the real kickstarts are optional)\n";
        std::exit(4);
    }
    std::vector<fs::path> refs;
    for (const auto& e : fs::directory_iterator(root / "flattened"))
        if (e.path().extension() == ".ks") refs.push_back(e.path());
    std::sort(refs.begin(), refs.end());
    REQUIRE(refs.size() >= 68);
    std::size_t same = 0;
    for (const auto& ref : refs) {
        std::string name = ref.filename().string();
        fs::path source = root / name;
        if (!fs::exists(source) && name.rfind("l10n-", 0) == 0) source = root / "l10n" / name.substr(5);
        INFO(source.string());
        REQUIRE(fs::exists(source));
        const ks::Kickstart k = ks::parse_file(source.string());
        const std::string flat = ks::to_string(k);
        CHECK(flat == slurp(ref));
        same += flat == slurp(ref);
        // round trip: the flattened text parses to the same kickstart and writes the same text
        const ks::Kickstart again = ks::parse_string(flat, "flat.ks");
        CHECK(again == k);
        CHECK(ks::to_string(again) == flat);
    }
    std::cout << same << " of " << refs.size() << " flattened references match byte for byte\n";
}

TEST_CASE("Every real Fedora kickstart and its includes parse and validate", "[kickstart][fedora]") {
    const fs::path root = fs::path(IMGCREATE_SHARED_DIR) / "kickstarts" / "fedora";
    if (!fs::is_directory(root)) {
        std::cout << "skipped: " << root.string() << " is not there (the real kickstarts are optional)\n";
        std::exit(4);
    }
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (e.path().extension() != ".ks" || e.path().parent_path().filename() == "flattened") continue;
        INFO(e.path().string());
        ks::ParseOptions o;
        o.keep_going = true;
        const ks::Kickstart k = ks::parse_file(e.path().string(), o);
        CHECK(k.errors.empty());
        for (const auto& w : k.warnings) CHECK(!w.message.empty());
        ++n;
    }
    CHECK(n >= 70);
}

TEST_CASE("The sample kickstarts parse, flatten as pykickstart does and survive a round trip", "[kickstart][samples]") {
    for (const char* name : {"live-base.ks", "live-workstation.ks", "disk-minimal.ks", "cloud-base.ks"}) {
        INFO(name);
        const ks::Kickstart k = ks::parse_file((samples / name).string());
        const std::string flat = ks::to_string(k);
        CHECK(flat == slurp(expected_dir / (std::string(name) + ".flat")));
        const ks::Kickstart again = ks::parse_string(flat, "flat.ks");
        CHECK(again == k);
        CHECK(ks::to_string(again) == flat);
    }
    const ks::Kickstart ws = ks::parse_file((samples / "live-workstation.ks").string());
    REQUIRE(ws.files.size() == 3);
    CHECK(fs::path(ws.files[1]).filename() == "live-base.ks");
    CHECK(fs::path(ws.files[2]).filename() == "live-repos.ks");
    REQUIRE(ws.repos.size() == 2);
    CHECK(ws.repos[0].origin.line == 3);
    CHECK(fs::path(ws.repos[0].origin.file).filename() == "live-repos.ks");
    CHECK(ws.packages.environment == "workstation-product-environment");
    CHECK(ws.packages.packages.count("kernel") == 1);
    // "@libreoffice --optional" then "-@libreoffice": the exclusion wins, as in pykickstart
    CHECK(std::none_of(ws.packages.groups.begin(), ws.packages.groups.end(), [](auto& g) { return g.name == "libreoffice"; }));
    REQUIRE(ws.partitions.size() == 2);  // pykickstart keeps both "/" (with a warning)
    REQUIRE(ws.warnings.size() == 1);
    CHECK(ws.warnings[0].message == "A partition with the mountpoint / has already been defined.");
    CHECK(fs::path(ws.warnings[0].file).filename() == "live-workstation.ks");
    CHECK(ws.warnings[0].line == 5);

    const ks::Kickstart cloud = ks::parse_file((samples / "cloud-base.ks").string());
    REQUIRE(cloud.btrfs.size() == 3);
    CHECK(cloud.btrfs[1].subvol);
    CHECK(cloud.btrfs[1].name == "root");
    CHECK(cloud.btrfs[1].devices == std::vector<std::string>{"fedora"});
}

TEST_CASE("%include is read relative to the including file, nested, and inside sections", "[kickstart][include]") {
    TempDir t;
    write(t.path / "top.ks", "lang en_US\n%include sub/a.ks\n%packages\n%include pkgs.ks\nvim\n%end\n");
    write(t.path / "sub" / "a.ks", "keyboard us\n%include b.ks\n");
    write(t.path / "sub" / "b.ks", "timezone UTC\n");
    write(t.path / "pkgs.ks", "# packages from another file\nkernel\n-nano\n");
    const ks::Kickstart k = ks::parse_file((t.path / "top.ks").string());
    CHECK(k.keyboard->keyboard == "us");
    CHECK(k.timezone->name == "UTC");
    CHECK(k.timezone->origin == ks::Origin{(t.path / "sub" / "b.ks").string(), 1});
    CHECK(k.packages.packages == std::set<std::string>{"kernel", "vim"});
    CHECK(k.packages.excluded == std::set<std::string>{"nano"});
    CHECK(k.packages.entries[0].origin == ks::Origin{(t.path / "pkgs.ks").string(), 2});
    CHECK(k.files.size() == 4);

    // flatten resolves them all into one file
    const std::string flat = ks::flatten((t.path / "top.ks").string());
    CHECK(flat.find("%include") == std::string::npos);
    CHECK(flat.find("timezone UTC\n") != std::string::npos);

    // without following includes (ksvalidator's default), they are skipped
    ks::ParseOptions no;
    no.follow_includes = false;
    CHECK_FALSE(ks::parse_file((t.path / "top.ks").string(), no).keyboard);
}

TEST_CASE("A missing or cyclic %include is an error at the %include line", "[kickstart][include][errors]") {
    TempDir t;
    write(t.path / "missing.ks", "lang en_US\n\n%include nothere.ks\n");
    CHECK(error_of((t.path / "missing.ks").string()).rfind((t.path / "missing.ks").string() + ":3: Unable to open %include file: ", 0) == 0);
    write(t.path / "a.ks", "lang en_US\n%include b.ks\n");
    write(t.path / "b.ks", "keyboard us\n%include a.ks\n");
    const std::string a = (t.path / "a.ks").string(), b = (t.path / "b.ks").string();
    CHECK(error_of(a) == b + ":2: %include cycle: " + a + " -> " + b + " -> " + a);
    write(t.path / "self.ks", "%include self.ks\n");
    CHECK(error_of((t.path / "self.ks").string()).find("%include cycle") != std::string::npos);
    // an unterminated section in an included file is reported where it opened
    write(t.path / "open.ks", "%include post.ks\n");
    write(t.path / "post.ks", "lang en_US\n%post\necho\n");
    CHECK(error_of((t.path / "open.ks").string()) == (t.path / "post.ks").string() + ":2: Section %post does not end with %end.");
    CHECK(error_of((t.path / "none.ks").string()).rfind((t.path / "none.ks").string() + ": Unable to open input kickstart file: ", 0) == 0);
}

TEST_CASE("%ksappend splices another file in where it stands, in the top file only", "[kickstart][include]") {
    TempDir t;
    write(t.path / "extra.ks", "keyboard us\n%ksappend " + (t.path / "more.ks").string() + "\n");
    write(t.path / "more.ks", "timezone UTC\n");
    write(t.path / "main.ks", "lang en_US\n%ksappend " + (t.path / "extra.ks").string() + "\n");
    const ks::Kickstart k = ks::parse_file((t.path / "main.ks").string());
    REQUIRE(k.keyboard);
    CHECK(k.keyboard->origin.file == (t.path / "extra.ks").string());
    // appended text is not searched for %ksappend again (pykickstart preprocesses once)
    CHECK_FALSE(k.timezone);
    // a file appending itself is read once more, not forever
    write(t.path / "self.ks", "lang en_US\n%ksappend " + (t.path / "self.ks").string() + "\n");
    CHECK(ks::parse_file((t.path / "self.ks").string()).files.size() == 2);
    // in an included file the line is skipped, as pykickstart skips it
    write(t.path / "top.ks", "%include inc.ks\n");
    write(t.path / "inc.ks", "lang en_US\n%ksappend " + (t.path / "extra.ks").string() + "\n");
    const ks::Kickstart inc = ks::parse_file((t.path / "top.ks").string());
    CHECK(inc.lang);
    CHECK_FALSE(inc.keyboard);
    // without preprocessing (pykickstart's ksflatten, livecd-tools) it is skipped too
    ks::ParseOptions raw;
    raw.process_ksappend = false;
    CHECK_FALSE(ks::parse_file((t.path / "main.ks").string(), raw).keyboard);
    CHECK(ks::flatten((t.path / "main.ks").string(), raw).find("keyboard") == std::string::npos);
    write(t.path / "bad.ks", "%ksappend\n");
    CHECK(error_of((t.path / "bad.ks").string()) == (t.path / "bad.ks").string() + ":1: Illegal url for %ksappend: %ksappend");
}

TEST_CASE("Lines end where Python's splitlines ends them, and blanks are Python's whitespace", "[kickstart][lines]") {
    // \r\n, \f, \x1c, \x1d, \x1e, U+0085, U+2028, U+2029, \r and \v each end a line; all those lines are blank
    const std::string text = "lang en_US\r\n\f\x1c\x1d\x1e\xc2\x85\xe2\x80\xa8\xe2\x80\xa9\r\x0b\xe3\x80\x80# a comment after U+3000\nfrob\n";
    try {
        ks::parse_string(text, "nl.ks");
        FAIL("frob was accepted");
    } catch (const imgcreate::KickstartError& e) {
        CHECK(std::string(e.what()) == "nl.ks:12: Unknown command: frob");
    }
    // an old Mac file (\r only) is three lines, not one
    const ks::Kickstart mac = ks::parse_string("lang en_US\rkeyboard us\rtimezone UTC\r", "mac.ks");
    CHECK(mac.lang->lang == "en_US");
    CHECK(mac.keyboard->keyboard == "us");
    CHECK(mac.timezone->origin.line == 3);
    // a script keeps its line breaks as they were
    const ks::Kickstart post = ks::parse_string("%post\r\necho a\r\necho b\r\n%end\r\n", "crlf.ks");
    REQUIRE(post.scripts.size() == 1);
    CHECK(post.scripts[0].body == "echo a\r\necho b\r\n");
}

TEST_CASE("A kickstart that is not UTF-8 is refused at the line of the first bad byte", "[kickstart][lines][errors]") {
    try {
        ks::parse_string("lang en_US\n# caf\xe9 in Latin-1\nkeyboard us\n", "latin1.ks");
        FAIL("Latin-1 text was accepted");
    } catch (const imgcreate::KickstartError& e) {
        CHECK(std::string(e.what()) ==
              "latin1.ks:2: The file is not valid UTF-8: byte 0xe9 at offset 16 cannot be decoded. Kickstart files are read "
              "as UTF-8; convert it (iconv -t UTF-8).");
    }
    // well-formed multi-byte text is fine, a truncated sequence at the end is not
    CHECK(ks::parse_string("# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\nlang en_US\n", "ok.ks").lang);
    CHECK_THROWS_AS(ks::parse_string("lang en_US\n\xe2\x82", "cut.ks"), imgcreate::KickstartError);
    CHECK_THROWS_AS(ks::parse_string("lang en_US\n# \xed\xa0\x80 surrogate\n", "sur.ks"), imgcreate::KickstartError);
}

TEST_CASE("Kickstarts are read from file:// and http:// URLs, with relative %include, and a 404 is a clear error",
          "[kickstart][url]") {
    TempDir t;
    write(t.path / "ks" / "top.ks", "lang en_US\n%include parts.ks\n%include /ks/abs.ks\n");
    write(t.path / "ks" / "parts.ks", "part / --size=1024\n");
    write(t.path / "ks" / "abs.ks", "keyboard us\n");
    write(t.path / "ks" / "broken.ks", "lang en_US\n%include nothere.ks\n");

    const ks::Kickstart local = ks::parse_file("file://" + (t.path / "ks" / "parts.ks").string());
    CHECK(local.partitions.size() == 1);

    HttpServer server(t.path);
    const ks::Kickstart k = ks::parse_file(server.url("ks/top.ks"));
    CHECK(k.lang->lang == "en_US");
    REQUIRE(k.partitions.size() == 1);
    CHECK(k.partitions[0].origin.file == server.url("ks/parts.ks"));
    CHECK(k.keyboard->origin.file == server.url("ks/abs.ks"));

    const std::string missing = error_of(server.url("ks/nothere.ks"));
    INFO(missing);
    CHECK(missing.rfind(server.url("ks/nothere.ks") + ": Unable to open input kickstart file: Error accessing URL \"" +
                            server.url("ks/nothere.ks") + "\": ", 0) == 0);
    CHECK(missing.find("404") != std::string::npos);
    const std::string inc = error_of(server.url("ks/broken.ks"));
    INFO(inc);
    CHECK(inc.rfind(server.url("ks/broken.ks") + ":2: Unable to open %include file: ", 0) == 0);
    CHECK(inc.find("404") != std::string::npos);
}

TEST_CASE("Malformed input of every kind ends in a KickstartError, never a crash", "[kickstart][errors]") {
    const std::vector<std::string> bad = {
        "\"",  "'",  "lang \\",  "%post\n",  "%end\n",  "%packages\n-\n%end\n",  "%certificate --filename=x --dir=/d\n%end\n",
        "part\n",  "raid\n",  "btrfs\n",  "volgroup\n",  "logvol\n",  "mount\n",  "sshkey\n",  "%include\n",  "%addon\n",
        "realm join\n",  "realm join --computer-ou\n",  "snapshot a --name=b --when=x\n",  "network --teamslaves=\"'''\"\n",
        std::string("lang \0 x\n", 9),  "\x01\x02\n",  "--\n",  "-\n",  "%\n",  "%packages --timeout=99999999999999999999\n%end\n"};
    for (const auto& text : bad) {
        INFO(text);
        try {
            ks::parse_string(text, "bad.ks");
        } catch (const imgcreate::KickstartError& e) {
            CHECK(e.file() == "bad.ks");
            CHECK(e.line() >= 1);
            CHECK(!e.message().empty());
        }
    }
}

// Shared set-up for the resolver tests: the spec-file repositories, %packages written as
// kickstart lines, a local HTTP server, and livecd-tools' dnf calls as the reference.
#pragma once

#include <imgcreate/install/resolver.hpp>
#include <imgcreate/support/process.hpp>

#include "support/rpmrepo.hpp"
#include "support/skip.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace resolve_test {

namespace fs = std::filesystem;
using namespace imgcreate::install;
using imgcreate::InstallError;

inline fs::path work_dir() { return fs::path(IMGCREATE_BINARY_DIR) / "test-work" / "install-resolve"; }

inline fs::path repo_path(const std::string& name) {
    static std::map<std::string, fs::path> built;
    auto& p = built[name];
    if (p.empty())
        p = imgcreate::test::build_repo(fs::path(IMGCREATE_TEST_SOURCE_DIR) / "data/repos/resolve" / name,
                                        fs::path(IMGCREATE_BINARY_DIR) / "test-repos" / ("resolve-" + name));
    return p;
}

inline RepoConfig local_repo(const std::string& id, const fs::path& path) {
    RepoConfig r;
    r.id = r.name = id;
    r.baseurls = {"file://" + path.string()};
    return r;
}

inline std::vector<RepoConfig> main_and_updates() {
    return {local_repo("main", repo_path("main")), local_repo("updates", repo_path("updates"))};
}

// %packages lines as a user writes them; each entry remembers ks.cfg and its line (from 2).
inline PackageRequest request(const std::vector<std::string>& lines) {
    PackageRequest r;
    r.file = "ks.cfg";
    r.line = 1;
    std::size_t n = 1;
    for (const auto& l : lines) {
        ++n;
        PackageEntry e;
        e.file = "ks.cfg";
        e.line = n;
        std::string s = l;
        if (auto opt = s.find(" --"); opt != std::string::npos) {
            e.nodefaults = s.find("--nodefaults", opt) != std::string::npos;
            e.optional = s.find("--optional", opt) != std::string::npos;
            s = s.substr(0, opt);
        }
        if (s.rfind("-@", 0) == 0) { e.kind = EntryKind::exclude_group; e.name = s.substr(2); }
        else if (s.rfind("@^", 0) == 0) { e.kind = EntryKind::environment; e.name = s.substr(2); }
        else if (s.rfind("@", 0) == 0) { e.kind = EntryKind::group; e.name = s.substr(1); }
        else if (s.rfind("-", 0) == 0) { e.kind = EntryKind::exclude; e.name = s.substr(1); }
        else { e.name = s; }
        r.entries.push_back(e);
    }
    return r;
}

inline ResolveOptions options(const std::string& cache = "cache") {
    ResolveOptions o;
    o.arch = "x86_64";
    o.metadata.cache_dir = work_dir() / cache;
    return o;
}

inline std::vector<std::string> nevras(const Resolution& r, bool with_repo = false) {
    std::vector<std::string> out;
    for (const auto& p : r.packages) out.push_back(p.nevra() + (with_repo ? " " + p.repo : std::string()));
    return out;
}

inline std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    return out + "\"";
}
inline std::string json_list(const std::vector<std::string>& v) {
    std::string out = "[";
    for (const auto& s : v) out += (out.size() > 1 ? "," : "") + json_string(s);
    return out + "]";
}

inline bool dnf_available() {
    static int state = -1;
    if (state < 0) {
        imgcreate::Command c;
        c.argv = {"/usr/bin/python3", "-c", "import dnf"};
        c.check = false;
        try { state = imgcreate::run(c).exit_status == 0; } catch (...) { state = 0; }
    }
    return state == 1;
}

// What livecd-tools gets from dnf for the same repositories and %packages: "NEVRA REPO" lines,
// or one line starting with "ERROR:".
inline std::vector<std::string> livecd_dnf(const std::vector<RepoConfig>& repos, const PackageRequest& req) {
    std::string repos_json = "[";
    for (const auto& r : repos) {
        repos_json += std::string(repos_json.size() > 1 ? "," : "") + "{\"id\":" + json_string(r.id) +
                      ",\"baseurl\":" + json_string(r.baseurls.front()) + ",\"cost\":" + std::to_string(r.cost) +
                      ",\"includepkgs\":" + json_list(r.includepkgs) + ",\"excludepkgs\":" + json_list(r.excludepkgs) + "}";
    }
    repos_json += "]";
    std::vector<std::string> pkgs, excluded, excluded_groups;
    std::string groups = "[", env;
    for (const auto& e : req.entries) {
        switch (e.kind) {
            case EntryKind::package: pkgs.push_back(e.name); break;
            case EntryKind::exclude: excluded.push_back(e.name); break;
            case EntryKind::exclude_group: excluded_groups.push_back(e.name); break;
            case EntryKind::environment: env = e.name; break;
            case EntryKind::group:
                groups += std::string(groups.size() > 1 ? "," : "") + "{\"name\":" + json_string(e.name) +
                          ",\"include\":" + (e.nodefaults ? "1" : e.optional ? "3" : "2") + "}";
                break;
            default: break;
        }
    }
    groups += "]";
    std::ostringstream js;
    js << "{\"repos\":" << repos_json << ",\"packages\":" << json_list(pkgs) << ",\"excluded\":" << json_list(excluded)
       << ",\"excludedGroups\":" << json_list(excluded_groups) << ",\"groups\":" << groups
       << ",\"nocore\":" << (req.nocore ? "true" : "false") << ",\"ignoremissing\":" << (req.ignoremissing ? "true" : "false")
       << ",\"excludeWeakdeps\":" << (req.exclude_weakdeps ? "true" : "false");
    if (!env.empty()) js << ",\"environment\":" << json_string(env);
    js << "}";
    fs::create_directories(work_dir());
    const fs::path input = work_dir() / "oracle.json";
    std::ofstream(input) << js.str();
    imgcreate::Command c;
    c.argv = {"/usr/bin/python3", std::string(IMGCREATE_TEST_SOURCE_DIR) + "/unit/install/livecd_dnf_oracle.py", input.string()};
    c.check = false;
    c.log_output = false;
    std::istringstream out(imgcreate::run(c).output);
    std::vector<std::string> lines;
    for (std::string line; std::getline(out, line);) {
        if (line.rfind("ERROR:", 0) == 0) return {"ERROR"};
        if (line.find(' ') != std::string::npos && line.find("No match") == std::string::npos) lines.push_back(line);
    }
    return lines;
}

inline std::vector<std::string> ours_or_error(const std::vector<RepoConfig>& repos, const PackageRequest& req) {
    try {
        return nevras(resolve(repos, req, options()), true);
    } catch (const imgcreate::InstallError&) {
        return {"ERROR"};
    }
}

// `python3 -m http.server` serving `dir` on 127.0.0.1 at a free port, stopped on destruction.
class HttpServer {
public:
    explicit HttpServer(const fs::path& dir) {
        port_ = free_port();
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            int devnull = ::open("/dev/null", O_RDWR);
            ::dup2(devnull, 1);
            ::dup2(devnull, 2);
            const std::string port = std::to_string(port_);
            ::execl("/usr/bin/python3", "python3", "-m", "http.server", port.c_str(), "--bind", "127.0.0.1",
                    "--directory", dir.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (int i = 0; i < 100 && !accepting(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ~HttpServer() { stop(); }
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    int port() const { return port_; }

    static int free_port() {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        ::close(fd);
        return ntohs(a.sin_port);
    }

private:
    bool accepting() const {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port_));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        return ok;
    }
    int port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace resolve_test

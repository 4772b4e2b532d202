// Shared set-up for the resolver tests: the spec-file repositories, %packages written as
// kickstart lines, a local HTTP server, and livecd-tools' dnf calls as the reference.
#pragma once

#include <imgcreate/install/resolver.hpp>
#include <imgcreate/support/process.hpp>

#include "support/rpmrepo.hpp"
#include "support/local_server.hpp"
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
        else if (s.rfind("@", 0) == 0) {
            e.kind = s.find(':') != std::string::npos ? EntryKind::module : EntryKind::group;  // @module:stream/profile
            e.name = s.substr(1);
        }
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
       << ",\"excludeWeakdeps\":" << (req.exclude_weakdeps ? "true" : "false")
       << ",\"multilib\":" << (req.multilib ? "true" : "false");
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

using imgcreate::test::HttpServer;  // python3 -m http.server on 127.0.0.1, stopped on destruction

}  // namespace resolve_test

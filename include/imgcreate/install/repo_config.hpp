// imgcreate — a package repository as the user configured it: from a kickstart `repo` or
// `url` line, or from a dnf-style .repo file (livecd-creator --repo FILE|DIR).
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace imgcreate::install {

struct RepoConfig {
    std::string id;                      // kickstart --name, or the .repo section
    std::string name;                    // human name; the id when not given
    std::vector<std::string> baseurls;   // file://, plain paths, http://, https://
    std::string mirrorlist;
    std::string metalink;
    int cost = 1000;                     // lower wins between identical packages
    int priority = 99;                   // lower wins outright (dnf's priority=)
    std::vector<std::string> includepkgs;
    std::vector<std::string> excludepkgs;
    std::string proxy;
    bool noverifyssl = false;
    std::string sslcacert;
    std::string sslclientcert;           // a client certificate for servers that ask for one
    std::string sslclientkey;            // its private key
    bool gpgcheck = false;
    std::vector<std::string> gpgkeys;    // URLs (file:// for local keys)
    bool enabled = true;
    std::string source_file;             // where it was defined, for messages
    std::size_t source_line = 0;

    std::string where() const {
        if (source_file.empty()) return {};
        return source_file + (source_line ? ":" + std::to_string(source_line) : std::string());
    }
};

// Values for $releasever, $basearch and $arch (and any other $name) in URLs.
struct RepoVariables {
    std::string releasever;
    std::string arch = "x86_64";
    std::string basearch = "x86_64";
    std::map<std::string, std::string> extra;

    const std::string* find(std::string_view name) const {
        if (name == "releasever") return &releasever;
        if (name == "arch") return &arch;
        if (name == "basearch") return &basearch;
        auto it = extra.find(std::string(name));
        return it == extra.end() ? nullptr : &it->second;
    }
};

// The base architecture dnf uses for $basearch (i686 -> i386, armv7hl -> armhfp, ...).
inline std::string basearch_of(const std::string& arch) {
    if (arch == "i386" || arch == "i486" || arch == "i586" || arch == "i686" || arch == "athlon") return "i386";
    if (arch.rfind("armv7h", 0) == 0) return "armhfp";
    if (arch.rfind("armv", 0) == 0) return "arm";
    if (arch == "ppc64le" || arch == "ppc64" || arch == "s390x" || arch == "aarch64" || arch == "x86_64") return arch;
    return arch;
}

// Replaces $name and ${name}; an unknown variable is left as written, and $releasever with no
// value is an error naming where it was used (dnf would build a URL that cannot work).
inline std::string substitute_variables(std::string_view text, const RepoVariables& vars, const std::string& where = {}) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] != '$') {
            out += text[i++];
            continue;
        }
        const bool braced = i + 1 < text.size() && text[i + 1] == '{';
        std::size_t start = i + (braced ? 2 : 1), end = start;
        while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) ++end;
        std::string name(text.substr(start, end - start));
        if (braced && (end >= text.size() || text[end] != '}')) name.clear();
        const std::string* value = name.empty() ? nullptr : vars.find(name);
        if (!value) {
            out += text[i++];
            continue;
        }
        if (value->empty())
            throw ConfigError((where.empty() ? std::string() : where + ": ") + "$" + name + " is used in '" +
                                  std::string(text) + "' but has no value: pass --releasever (appliance-creator: --version)",
                              where);
        out += *value;
        i = end + (braced ? 1 : 0);
    }
    return out;
}

inline void substitute_variables(RepoConfig& repo, const RepoVariables& vars) {
    const std::string where = repo.where().empty() ? "repository '" + repo.id + "'" : repo.where();
    for (auto& u : repo.baseurls) u = substitute_variables(u, vars, where);
    repo.mirrorlist = substitute_variables(repo.mirrorlist, vars, where);
    repo.metalink = substitute_variables(repo.metalink, vars, where);
    for (auto& k : repo.gpgkeys) k = substitute_variables(k, vars, where);
    repo.name = substitute_variables(repo.name, vars, where);
}

// livecd-tools keeps one repository per name: a later one replaces the earlier one (with a
// warning) and takes its place in the order.
inline std::vector<RepoConfig> merge_same_id(std::vector<RepoConfig> repos) {
    std::vector<RepoConfig> merged;
    for (auto& r : repos) {
        auto it = std::find_if(merged.begin(), merged.end(), [&](const RepoConfig& m) { return m.id == r.id; });
        if (it == merged.end()) {
            merged.push_back(std::move(r));
            continue;
        }
        log::warning("Overriding already specified repo ", r.id, r.where().empty() ? "" : " (" + r.where() + ")");
        *it = std::move(r);
    }
    return merged;
}

namespace detail {

inline std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

// dnf lists: separated by whitespace and/or commas.
inline std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> items;
    std::string cur;
    for (char c : s) {
        if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
            if (!cur.empty()) items.push_back(std::move(cur));
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) items.push_back(std::move(cur));
    return items;
}

inline bool parse_bool(const std::string& value, const std::string& where) {
    std::string v;
    for (char c : value) v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v == "1" || v == "yes" || v == "true" || v == "on") return true;
    if (v == "0" || v == "no" || v == "false" || v == "off") return false;
    throw ConfigError(where + ": '" + value + "' is not a boolean (use 1/0, yes/no, true/false)", where);
}

inline int parse_int(const std::string& value, const std::string& where) {
    try {
        std::size_t used = 0;
        int n = std::stoi(value, &used);
        if (used == value.size()) return n;
    } catch (const std::exception&) {
    }
    throw ConfigError(where + ": '" + value + "' is not a number", where);
}

// Relative key paths in a .repo file are relative to the file's folder (as livecd-tools does).
inline std::string absolute_url(const std::filesystem::path& dir, const std::string& path_or_url) {
    if (path_or_url.find("://") != std::string::npos) return path_or_url;
    std::filesystem::path p(path_or_url);
    if (p.is_relative()) p = std::filesystem::absolute(dir / p);
    return "file://" + p.lexically_normal().string();
}

inline void set_repo_option(RepoConfig& r, const std::string& key, const std::string& value, const std::string& where,
                            const std::filesystem::path& dir) {
    if (key == "name") r.name = value;
    else if (key == "baseurl") for (auto& u : split_list(value)) r.baseurls.push_back(u);
    else if (key == "mirrorlist") r.mirrorlist = value;
    else if (key == "metalink") r.metalink = value;
    else if (key == "enabled") r.enabled = parse_bool(value, where);
    else if (key == "gpgcheck") r.gpgcheck = parse_bool(value, where);
    else if (key == "gpgkey") for (auto& k : split_list(value)) r.gpgkeys.push_back(absolute_url(dir, k));
    else if (key == "cost") r.cost = parse_int(value, where);
    else if (key == "priority") r.priority = parse_int(value, where);
    else if (key == "includepkgs") for (auto& p : split_list(value)) r.includepkgs.push_back(p);
    else if (key == "excludepkgs" || key == "exclude") for (auto& p : split_list(value)) r.excludepkgs.push_back(p);
    else if (key == "proxy") r.proxy = (value == "_none_" ? std::string() : value);
    else if (key == "sslverify") r.noverifyssl = !parse_bool(value, where);
    else if (key == "sslcacert") r.sslcacert = value;
    else if (key == "sslclientcert") r.sslclientcert = value;
    else if (key == "sslclientkey") r.sslclientkey = value;
    else log::debug(where, ": ignoring repository option '", key, "'");
}

}  // namespace detail

// Every repository defined in one .repo file (enabled or not), in file order.
inline std::vector<RepoConfig> parse_repo_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw ConfigError(errno_message("cannot read repository file", file, errno), file.string());
    const auto dir = std::filesystem::absolute(file).parent_path();
    std::vector<RepoConfig> repos;
    std::string line, last_key;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        const std::string where = file.string() + ":" + std::to_string(number);
        const std::string text = detail::trim(line);
        if (text.empty() || text[0] == '#' || text[0] == ';') continue;
        if (text.front() == '[') {
            if (text.back() != ']') throw ConfigError(where + ": section header '" + text + "' has no closing ']'", where);
            RepoConfig r;
            r.id = r.name = detail::trim(std::string_view(text).substr(1, text.size() - 2));
            r.source_file = file.string();
            r.source_line = number;
            repos.push_back(std::move(r));
            last_key.clear();
            continue;
        }
        // An indented line continues the previous value (several baseurls, several keys).
        if (std::isspace(static_cast<unsigned char>(line[0])) && !last_key.empty() && !repos.empty()) {
            detail::set_repo_option(repos.back(), last_key, text, where, dir);
            continue;
        }
        const auto eq = text.find('=');
        if (eq == std::string::npos) throw ConfigError(where + ": expected 'key=value', found '" + text + "'", where);
        if (repos.empty()) throw ConfigError(where + ": option outside of a [repository] section", where);
        last_key = detail::trim(std::string_view(text).substr(0, eq));
        if (repos.back().id == "main") continue;  // dnf's [main] section is not a repository
        detail::set_repo_option(repos.back(), last_key, detail::trim(std::string_view(text).substr(eq + 1)), where, dir);
    }
    std::erase_if(repos, [](const RepoConfig& r) { return r.id == "main"; });
    return repos;
}

// livecd-creator --repo FILE|DIR: the enabled repositories of one file or of every *.repo in
// a folder; it is an error when there is none.
inline std::vector<RepoConfig> read_repo_files(const std::filesystem::path& file_or_dir, const RepoVariables& vars) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    if (fs::is_directory(file_or_dir)) {
        for (const auto& e : fs::directory_iterator(file_or_dir))
            if (e.path().extension() == ".repo") files.push_back(e.path());
        std::sort(files.begin(), files.end());
    } else if (fs::exists(file_or_dir)) {
        files.push_back(file_or_dir);
    } else {
        throw ConfigError("Unable to read repo configuration: \"" + file_or_dir.string() + "\" does not exist",
                          file_or_dir.string());
    }
    std::vector<RepoConfig> repos;
    for (const auto& f : files)
        for (auto& r : parse_repo_file(f))
            if (r.enabled) repos.push_back(std::move(r));
    if (repos.empty())
        throw ConfigError("Unable to read repo configuration: \"" + file_or_dir.string() + "\" does not contain any" +
                              (fs::is_directory(file_or_dir) ? " .repo files with" : "") +
                              " enabled RPM repositories. Check that this path contains dnf INI-style repo "
                              "definitions like /etc/yum.repos.d. See `man 5 dnf.conf`.",
                          file_or_dir.string());
    for (auto& r : repos) substitute_variables(r, vars);
    return merge_same_id(std::move(repos));
}

}  // namespace imgcreate::install

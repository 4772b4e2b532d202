// imgcreate — what the kickstart appliers share: finding a tool inside the install root,
// looking at files there without following symlinks out of it, the skip log line, the
// root's own accounts (never the host's), and editing KEY=value configuration files.
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>
#include <imgcreate/support/root_path.hpp>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

namespace imgcreate::configure {

// The one line an applier logs when it cannot do its work: "firewall: skipped: ...".
inline void skipped(std::string_view command, const std::string& reason) {
    log::info(command, ": skipped: ", reason);
}

// stat() of a path inside the root; symlinks are followed only when `follow` (and then
// within the root). nullopt when it does not exist.
inline std::optional<struct stat> stat_in_root(const RootDir& root, const std::filesystem::path& rel, bool follow = true) {
    int fd = imgcreate::detail::openat2_in_root(root.fd(), imgcreate::detail::relative_in_root(rel),
                                                O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
    if (fd < 0) return std::nullopt;
    UniqueFd owned(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return std::nullopt;
    return st;
}

inline bool is_symlink_in_root(const RootDir& root, const std::filesystem::path& rel) {
    auto st = stat_in_root(root, rel, false);
    return st && S_ISLNK(st->st_mode);
}

// Where `name` is installed inside the root ("/usr/sbin/useradd"), or empty.
inline std::filesystem::path find_in_root(const RootDir& root, const std::string& name) {
    for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
        std::filesystem::path candidate = std::filesystem::path(dir) / name;
        auto st = stat_in_root(root, candidate);
        if (st && S_ISREG(st->st_mode) && (st->st_mode & 0111)) return candidate;
    }
    return {};
}

// Names in a directory inside the root (without . and ..); empty when it does not exist.
inline std::vector<std::string> list_dir(const RootDir& root, const std::filesystem::path& rel) {
    std::vector<std::string> names;
    int fd = imgcreate::detail::openat2_in_root(root.fd(), imgcreate::detail::relative_in_root(rel),
                                                O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) return names;
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
        ::close(fd);
        return names;
    }
    while (auto* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(dir);
    return names;
}

// Runs a tool found inside the root, chrooted there with the clean environment. Failures
// become a ConfigError that names the kickstart command it was applying.
inline CommandResult run_tool_in_root(std::string_view command, const RootDir& root, std::vector<std::string> argv) {
    try {
        return run_in_root(root.path(), std::move(argv));
    } catch (const InterruptedError&) {
        throw;
    } catch (const CommandError& e) {
        throw ConfigError(std::string(command) + ": " + e.what(), std::string(command));
    }
}

inline std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(sep, start);
        if (end == std::string_view::npos) end = text.size();
        parts.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

inline std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
        std::size_t start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n') ++i;
        if (i > start) words.emplace_back(text.substr(start, i - start));
    }
    return words;
}

// A line of the root's /etc/passwd.
struct Account {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string home;
};

inline std::optional<Account> find_account(const RootDir& root, const std::string& name) {
    if (!root.exists("/etc/passwd")) return std::nullopt;
    for (const auto& line : split(root.read_file("/etc/passwd"), '\n')) {
        auto f = split(line, ':');
        if (f.size() < 7 || f[0] != name) continue;
        try {
            return Account{f[0], static_cast<uid_t>(std::stoul(f[2])), static_cast<gid_t>(std::stoul(f[3])), f[5]};
        } catch (const std::exception&) {
            throw ConfigError("the install root's /etc/passwd has a malformed line for " + name + ": " + line);
        }
    }
    return std::nullopt;
}

// A line of the root's /etc/group: name and gid.
struct GroupEntry {
    std::string name;
    gid_t gid = 0;
};

inline std::vector<GroupEntry> read_groups(const RootDir& root) {
    std::vector<GroupEntry> groups;
    if (!root.exists("/etc/group")) return groups;
    for (const auto& line : split(root.read_file("/etc/group"), '\n')) {
        auto f = split(line, ':');
        if (f.size() < 3 || f[2].empty()) continue;
        try {
            groups.push_back({f[0], static_cast<gid_t>(std::stoul(f[2]))});
        } catch (const std::exception&) {
        }
    }
    return groups;
}

// Sets KEY=value lines in a shell-style configuration text: an existing assignment is
// replaced in place, a new one appended; every other line is kept as it was.
inline std::string set_assignments(const std::string& text, const std::vector<std::pair<std::string, std::string>>& values) {
    auto lines = split(text, '\n');
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    std::vector<bool> done(values.size(), false);
    std::string out;
    for (const auto& line : lines) {
        bool keep = true;
        std::string replaced = line;
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (line.rfind(values[i].first + "=", 0) != 0) continue;
            keep = !done[i];  // a second assignment of the same key would override ours
            replaced = values[i].first + "=" + values[i].second;
            done[i] = true;
        }
        if (keep) out += replaced + "\n";
    }
    for (std::size_t i = 0; i < values.size(); ++i)
        if (!done[i]) out += values[i].first + "=" + values[i].second + "\n";
    return out;
}

// Writes a file inside the root, making its directory first.
inline void write_in_root(const RootDir& root, const std::filesystem::path& rel, std::string_view content, mode_t mode = 0644) {
    if (rel.has_parent_path()) root.mkdirs(rel.parent_path());
    root.write_file(rel, content, mode);
}

}  // namespace imgcreate::configure

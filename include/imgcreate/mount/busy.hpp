// imgcreate — who keeps a mount busy. When an unmount fails with EBUSY the user gets the
// processes holding files below the mount point (open files, working directory, root,
// mapped files), as `fuser -m` would list them, instead of a silent lazy unmount that hides
// the problem and leaves the filesystem in use.
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace imgcreate::mount {

struct BusyHolder {
    int pid = 0;
    std::string command;            // from /proc/PID/comm
    std::vector<std::string> uses;  // "cwd", "root", "fd 3: /path", "maps: /path"
};

namespace detail {

inline bool is_below(const std::string& path, const std::string& mount_point) {
    return path == mount_point || path.rfind(mount_point + "/", 0) == 0;
}

inline std::string read_link(const std::filesystem::path& link) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(link, ec);
    return ec ? std::string() : target.string();
}

inline std::string read_comm(const std::filesystem::path& proc) {
    std::ifstream in(proc / "comm");
    std::string comm;
    std::getline(in, comm);
    return comm;
}

inline void scan_process(const std::filesystem::path& proc, const std::string& mount_point, BusyHolder& holder) {
    for (const char* link : {"cwd", "root", "exe"})
        if (is_below(read_link(proc / link), mount_point)) holder.uses.emplace_back(link);
    std::error_code ec;
    for (const auto& fd : std::filesystem::directory_iterator(proc / "fd", ec)) {
        auto target = read_link(fd.path());
        if (is_below(target, mount_point)) holder.uses.push_back("fd " + fd.path().filename().string() + ": " + target);
    }
    std::ifstream maps(proc / "maps");
    std::set<std::string> mapped;
    for (std::string line; std::getline(maps, line);) {
        auto slash = line.find('/');
        if (slash == std::string::npos) continue;
        auto file = line.substr(slash);
        if (is_below(file, mount_point) && mapped.insert(file).second) holder.uses.push_back("maps: " + file);
    }
}

}  // namespace detail

// Every process (other than this one's threads' own transient reads) using files at or
// below `mount_point`.
inline std::vector<BusyHolder> processes_using(const std::filesystem::path& mount_point) {
    const std::string prefix = mount_point.lexically_normal().string();
    std::vector<BusyHolder> holders;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const auto name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); }))
            continue;
        BusyHolder holder;
        holder.pid = std::stoi(name);
        detail::scan_process(entry.path(), prefix, holder);
        if (holder.uses.empty()) continue;
        holder.command = detail::read_comm(entry.path());
        holders.push_back(std::move(holder));
    }
    return holders;
}

// Processes whose root directory is `root` or below it: what the build's scripts and
// scriptlets started chrooted there and left running (daemons started by a %post).
inline std::vector<BusyHolder> processes_rooted_in(const std::filesystem::path& root) {
    const std::string prefix = root.lexically_normal().string();
    std::vector<BusyHolder> found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const auto name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); }))
            continue;
        if (!detail::is_below(detail::read_link(entry.path() / "root"), prefix)) continue;
        found.push_back({std::stoi(name), detail::read_comm(entry.path()), {"root"}});
    }
    return found;
}

// "  pid 1234 (sleep): cwd, fd 3: /x/y" per holder, or a hint when none was found (a mount
// stacked below, or a process in another PID namespace).
inline std::string describe_holders(const std::filesystem::path& mount_point) {
    auto holders = processes_using(mount_point);
    if (holders.empty())
        return "\n  no process has files open there: a mount below it, or a process in another PID namespace, holds it";
    std::ostringstream out;
    for (const auto& h : holders) {
        out << "\n  pid " << h.pid << " (" << h.command << ")" << (h.pid == ::getpid() ? " [this process]" : "") << ": ";
        for (std::size_t i = 0; i < h.uses.size(); ++i) out << (i ? ", " : "") << h.uses[i];
    }
    return out.str();
}

}  // namespace imgcreate::mount

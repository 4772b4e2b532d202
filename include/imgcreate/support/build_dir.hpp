// imgcreate — the build directory: made fresh under the user's tmpdir, and removed only when
// nothing is mounted below it (a recursive delete through a leftover bind mount would eat
// the host's files, so a leftover mount is reported instead).
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace imgcreate {

// Mount points of this process's mount namespace at or below `dir`, deepest first.
inline std::vector<std::filesystem::path> mounts_below(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> found;
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::string line;
    const std::string prefix = dir.lexically_normal().string();
    while (std::getline(mountinfo, line)) {
        std::istringstream fields(line);
        std::string id, parent, devno, root, mount_point;
        fields >> id >> parent >> devno >> root >> mount_point;
        // mountinfo escapes space, tab, newline and backslash as octal.
        std::string decoded;
        for (std::size_t i = 0; i < mount_point.size(); ++i) {
            if (mount_point[i] == '\\' && i + 3 < mount_point.size()) {
                decoded += static_cast<char>(std::stoi(mount_point.substr(i + 1, 3), nullptr, 8));
                i += 3;
            } else {
                decoded += mount_point[i];
            }
        }
        if (decoded == prefix || decoded.rfind(prefix + "/", 0) == 0) found.emplace_back(decoded);
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.string().size() > b.string().size(); });
    return found;
}

inline std::filesystem::path make_build_dir(const std::filesystem::path& tmpdir) {
    std::error_code ec;
    std::filesystem::create_directories(tmpdir, ec);
    if (ec)
        throw Error("cannot create the temporary directory " + tmpdir.string() + ": " + ec.message() +
                        " (choose another with --tmpdir)", "mount", tmpdir.string());
    std::string templ = (tmpdir / "imgcreate-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr)
        throw Error(errno_message("cannot create a build directory in", tmpdir, errno) + " (choose another with --tmpdir)",
                    "mount", tmpdir.string());
    return templ;
}

// Removes the build dir unless something is still mounted below it.
inline void remove_build_dir(const std::filesystem::path& dir) {
    if (dir.empty() || !std::filesystem::exists(dir)) return;
    auto mounted = mounts_below(dir);
    if (!mounted.empty()) {
        std::string list;
        for (const auto& m : mounted) list += "\n  " + m.string();
        throw Error("not removing the build directory " + dir.string() + ": still mounted below it:" + list, "cleanup",
                    dir.string());
    }
    std::filesystem::remove_all(dir);
}

}  // namespace imgcreate

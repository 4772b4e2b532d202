// imgcreate — the bodies of support/build_dir.hpp: inline in it by default, compiled once in
// <imgcreate/impl.hpp> with IMGCREATE_SEPARATE_COMPILATION.
#pragma once

#include <imgcreate/support/build_dir.hpp>

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <sys/statvfs.h>
#include <unistd.h>

namespace imgcreate {

IMGCREATE_DECL std::vector<std::filesystem::path> mounts_below(const std::filesystem::path& dir) {
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

IMGCREATE_DECL std::filesystem::path make_build_dir(const std::filesystem::path& tmpdir) {
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

IMGCREATE_DECL void remove_build_dir(const std::filesystem::path& dir) {
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

IMGCREATE_DECL void check_output_dir(const std::filesystem::path& outdir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto dir = fs::absolute(outdir, ec).lexically_normal();
    const std::string what_to_do = " (choose another with -o/--output)";
    auto existing = dir;
    while (!fs::exists(existing, ec) && existing.has_relative_path()) existing = existing.parent_path();
    if (!fs::is_directory(existing, ec)) {
        if (existing == dir)
            throw Error("the output directory " + dir.string() + " is not a directory" + what_to_do, "options", dir.string());
        throw Error("cannot create the output directory " + dir.string() + ": " + existing.string() +
                        " is not a directory" + what_to_do, "options", dir.string());
    }
    if (::access(existing.c_str(), W_OK | X_OK) == 0) return;
    const int err = errno;
    if (existing == dir)
        throw Error("the output directory " + dir.string() + " is not writable: " +
                        std::error_code(err, std::generic_category()).message() + what_to_do, "options", dir.string());
    throw Error("cannot create the output directory " + dir.string() + ": " +
                    std::error_code(err, std::generic_category()).message() + what_to_do, "options", dir.string());
}

IMGCREATE_DECL std::optional<std::string> tmpdir_full_message(const std::filesystem::path& tmpdir, const std::filesystem::path& dir,
                                                      std::uint64_t may_need_bytes) {
    struct statvfs st {};
    if (dir.empty() || ::statvfs(dir.c_str(), &st) != 0 || st.f_blocks == 0) return std::nullopt;
    const double mib = 1024.0 * 1024.0;
    const double total = static_cast<double>(st.f_blocks) * st.f_frsize;
    const double avail = static_cast<double>(st.f_bavail) * st.f_frsize;
    // What a failed write leaves: next to nothing (a tool may have removed its partial file,
    // so not exactly nothing).
    const bool no_space = avail <= std::max(total / 100, 256 * 1024.0);
    const bool no_inodes = st.f_files > 0 && st.f_favail == 0;
    if (!no_space && !no_inodes) return std::nullopt;
    char numbers[160];
    std::snprintf(numbers, sizeof numbers, "%.1f MiB in all, %.1f MiB free%s", total / mib, avail / mib,
                  no_inodes ? ", no free inodes" : "");
    std::string need;
    if (may_need_bytes > 0)
        need = "; the build's image alone may take up to " + std::to_string((may_need_bytes + (1 << 20) - 1) >> 20) +
               " MiB there";
    return "the temporary directory " + tmpdir.string() + " ran out of " + (no_space ? "space" : "inodes") + " (" +
           numbers + ")" + need + ": choose one with more room with -t/--tmpdir";
}

}  // namespace imgcreate

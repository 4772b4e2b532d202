// What a user compares between two roots: every path with its type and mode, owner and group,
// size (regular files), link target and extended attributes (SELinux labels, capabilities).
#pragma once

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <sys/xattr.h>

namespace imgcreate::test {

inline std::map<std::string, std::string> describe_tree(const std::filesystem::path& root) {
    namespace fs = std::filesystem;
    std::map<std::string, std::string> files;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        struct stat st {};
        ::lstat(it->path().c_str(), &st);
        std::ostringstream d;
        d << std::oct << st.st_mode << std::dec << " " << st.st_uid << ":" << st.st_gid;
        if (S_ISREG(st.st_mode)) d << " " << st.st_size;
        if (S_ISLNK(st.st_mode)) d << " -> " << fs::read_symlink(it->path()).string();
        char names[4096];
        const auto n = ::llistxattr(it->path().c_str(), names, sizeof names);
        std::vector<std::string> attrs;
        for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(std::strlen(names + i)) + 1) {
            char value[1024];
            const auto len = ::lgetxattr(it->path().c_str(), names + i, value, sizeof value);
            attrs.push_back(std::string(names + i) + "=" + std::string(value, len > 0 ? static_cast<size_t>(len) : 0));
        }
        std::sort(attrs.begin(), attrs.end());
        for (const auto& a : attrs) d << " " << a;
        files[it->path().lexically_relative(root).string()] = d.str();
    }
    return files;
}

// The differences a user would care about between two listings, one per line; directory sizes
// are left out (not listed), and so are `ignored` paths.
inline std::string listing_differences(const std::map<std::string, std::string>& expected,
                                       const std::map<std::string, std::string>& actual,
                                       const std::vector<std::string>& ignored = {}) {
    std::string out;
    auto skip = [&](const std::string& p) { return std::find(ignored.begin(), ignored.end(), p) != ignored.end(); };
    for (const auto& [path, what] : expected) {
        if (skip(path)) continue;
        auto it = actual.find(path);
        if (it == actual.end()) out += "only in the first: " + path + "\n";
        else if (it->second != what) out += path + ": " + what + " against " + it->second + "\n";
    }
    for (const auto& [path, what] : actual)
        if (!skip(path) && !expected.count(path)) out += "only in the second: " + path + "\n";
    return out;
}

}  // namespace imgcreate::test

// A tiny root to chroot into, made from the host's own binaries: busybox-static as /bin/sh
// and the usual applets, and shadow's useradd/groupadd with the libraries ldd names. No
// package manager and no bind mount from the host: what runs inside is what was copied in.
#pragma once

#include "../../unit/configure/fake_root.hpp"

#include <imgcreate/context.hpp>
#include <imgcreate/support/process.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace imgcreate::test {

inline const std::vector<std::string> busybox_applets = {"sh", "env", "cat", "echo", "touch", "mkdir", "ls", "sleep",
                                                          "pwd", "id", "chmod", "true", "false", "stat", "grep"};

// Copies `host_file` to the same path inside `root`, following symlinks.
inline void copy_into(const fs::path& root, const fs::path& host_file) {
    auto target = root / host_file.relative_path();
    fs::create_directories(target.parent_path());
    fs::copy_file(fs::canonical(host_file), target, fs::copy_options::overwrite_existing);
    fs::permissions(target, fs::status(fs::canonical(host_file)).permissions());
}

inline std::vector<fs::path> shared_libraries_of(const fs::path& binary) {
    std::vector<fs::path> libs;
    auto out = run({"ldd", binary.string()}).output;
    std::size_t pos = 0;
    while (pos < out.size()) {
        auto end = out.find('\n', pos);
        if (end == std::string::npos) end = out.size();
        std::string line = out.substr(pos, end - pos);
        pos = end + 1;
        auto arrow = line.find("=> ");
        std::string path = arrow != std::string::npos ? line.substr(arrow + 3) : line.substr(line.find_first_not_of(" \t"));
        path = path.substr(0, path.find(' '));
        if (!path.empty() && path.front() == '/') libs.emplace_back(path);
    }
    return libs;
}

inline void copy_program_with_libraries(const fs::path& root, const fs::path& program) {
    copy_into(root, program);
    for (const auto& lib : shared_libraries_of(program)) copy_into(root, lib);
}

// The root: /bin/busybox with its applets, accounts, and with_shadow_tools: useradd/groupadd.
inline void populate_minimal_root(const fs::path& root, bool with_shadow_tools) {
    fs::create_directories(root / "bin");
    copy_into(root, "/bin/busybox");
    for (const auto& applet : busybox_applets) fs::create_symlink("busybox", root / "bin" / applet);
    for (const char* dir : {"etc", "tmp", "root", "home", "usr/sbin"}) fs::create_directories(root / dir);
    fs::permissions(root / "tmp", fs::perms(01777));
    write_host_file(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    write_host_file(root / "etc/shadow", "root:*:19000:0:99999:7:::\n", fs::perms(0640));
    write_host_file(root / "etc/group", "root:x:0:\nwheel:x:10:\n");
    write_host_file(root / "etc/gshadow", "root:*::\nwheel:*::\n", fs::perms(0640));
    write_host_file(root / "marker", "in-the-root\n");
    if (!with_shadow_tools) return;
    write_host_file(root / "etc/login.defs",
                    "UID_MIN 1000\nUID_MAX 60000\nGID_MIN 1000\nGID_MAX 60000\nUSERGROUPS_ENAB yes\n"
                    "CREATE_HOME yes\nENCRYPT_METHOD YESCRYPT\n");
    fs::create_directories(root / "etc/skel");
    for (const char* tool : {"/usr/sbin/useradd", "/usr/sbin/groupadd"}) copy_program_with_libraries(root, tool);
}

// An install policy that "installs" by copying a prepared tree into the root.
struct CopyTreeInstall {
    fs::path tree;
    void install(BuildContext& ctx) { run({"cp", "-a", (tree / ".").string(), ctx.install_root.string()}); }
    KernelVersions kernel_versions(const BuildContext&) const { return {}; }
};

}  // namespace imgcreate::test

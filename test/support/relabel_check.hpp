// What a user runs to see whether an image's files carry the labels its SELinux policy gives them:
// the image's own setfiles in a dry run, chrooted in the mounted image.
#pragma once

#include <imgcreate/support/process.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <sys/mount.h>

namespace imgcreate::test {

// The paths setfiles -n -v would relabel in `root` (an image mounted there, /proc mounted for the
// time of the run), each as "<path> from <label> to <label>"; the API filesystems left out. A
// run that fails, or an image without a policy, is one line saying so.
inline std::vector<std::string> mislabelled_files(const std::filesystem::path& root) {
    namespace fs = std::filesystem;
    std::string policy;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root / "etc/selinux/default/policy", ec))
        policy = "/etc/selinux/default/policy/" + e.path().filename().string();
    if (policy.empty()) return {"no binary policy in " + (root / "etc/selinux/default/policy").string()};
    imgcreate::run({"mount", "-t", "proc", "proc", (root / "proc").string()});
    imgcreate::Command check;
    check.argv = {"chroot", root.string(), "/usr/sbin/setfiles", "-n", "-v", "-F", "-e", "/proc", "-e", "/sys", "-e", "/dev",
                  "-c", policy, "/etc/selinux/default/contexts/files/file_contexts", "/"};
    check.check = false;
    const auto checked = imgcreate::run(check);
    ::umount2((root / "proc").c_str(), 0);
    if (checked.exit_status != 0) return {"setfiles -n failed (" + std::to_string(checked.exit_status) + "): " + checked.output};
    std::vector<std::string> paths;
    std::istringstream lines(checked.output);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind("Would relabel ", 0) == 0) paths.push_back(line.substr(14));
    return paths;
}

}  // namespace imgcreate::test

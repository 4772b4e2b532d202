// Test packages for the transaction tests: built from test/data/repos/install/*.spec with
// rpmbuild, once per spec and set of defines, cached under the build directory.
#pragma once

#include <imgcreate/install/package.hpp>
#include <imgcreate/support/process.hpp>

#include <support/skip.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <sys/mount.h>

namespace imgcreate::test {

namespace fs = std::filesystem;

inline fs::path install_specs_dir() { return fs::path(IMGCREATE_TEST_SOURCE_DIR) / "data/repos/install"; }
inline fs::path install_cache_dir() { return fs::path(IMGCREATE_BINARY_DIR) / "test-data/install"; }

inline std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_text(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

// rpmbuild's answer for `spec` with `defines`: the path of the one binary rpm it made.
inline fs::path build_rpm(const std::string& spec_name, const std::map<std::string, std::string>& defines = {}) {
    IMGCREATE_REQUIRE_PROGRAM("rpmbuild");
    const fs::path spec = install_specs_dir() / (spec_name + ".spec");
    std::string key = read_text(spec);
    std::vector<std::string> argv = {"rpmbuild", "-bb", "--quiet", "--nodeps"};
    std::map<std::string, std::string> all = defines;
    all.emplace("busybox_path", "/bin/busybox");
    all.emplace("debug_package", "%{nil}");
    all.emplace("__os_install_post", "%{nil}");
    all.emplace("_build_id_links", "none");
    all.emplace("source_date_epoch_from_changelog", "0");
    for (const auto& [k, v] : all) {
        argv.insert(argv.end(), {"--define", k + " " + v});
        key += k + "=" + v + ";";
    }
    const fs::path dir = install_cache_dir() / "rpms" / (spec_name + "-" + std::to_string(std::hash<std::string>{}(key)));
    const fs::path done = dir / ".built";
    if (!fs::exists(done)) {
        fs::remove_all(dir);
        fs::create_directories(dir / "top");
        argv.insert(argv.end(), {"--define", "_topdir " + (dir / "top").string(), "--define",
                                 "_rpmdir " + (dir / "out").string(), spec.string()});
        run(argv);
        write_text(done, "");
    }
    for (const auto& entry : fs::recursive_directory_iterator(dir / "out"))
        if (entry.path().extension() == ".rpm") return entry.path();
    throw Error("rpmbuild made no package for " + spec.string());
}

// The hand-off the resolver would make for a local file.
inline install::Package package_from_rpm(const fs::path& rpm, const std::string& repo = "test") {
    auto out = run({"rpm", "-qp", "--nosignature", "--nodigest", "--qf",
                    "%{NAME}\n%{EPOCH}\n%{VERSION}\n%{RELEASE}\n%{ARCH}\n", rpm.string()}).output;
    std::vector<std::string> f;
    std::stringstream s(out);
    for (std::string line; std::getline(s, line);) f.push_back(line);
    install::Package p;
    p.name = f.at(0);
    p.epoch = f.at(1) == "(none)" ? "" : f.at(1);
    p.version = f.at(2);
    p.release = f.at(3);
    p.arch = f.at(4);
    p.repo = repo;
    p.location = rpm.filename().string();
    p.local_path = rpm;
    return p;
}

inline install::Package test_package(const std::string& spec_name, const std::map<std::string, std::string>& defines = {},
                                     const std::string& repo = "test") {
    return package_from_rpm(build_rpm(spec_name, defines), repo);
}

// A fresh empty directory under the build dir, removed (with anything mounted on it
// unmounted) when the test ends.
class ScratchDir {
public:
    explicit ScratchDir(const std::string& name) : path_(install_cache_dir() / "roots" / name) {
        unmount_below();
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~ScratchDir() {
        unmount_below();
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }
    fs::path operator/(const std::string& rel) const { return path_ / rel; }

private:
    void unmount_below() {
        // Deepest first: /proc/self/mountinfo lists parents before children.
        std::vector<std::string> targets;
        std::ifstream in("/proc/self/mountinfo");
        for (std::string line; std::getline(in, line);) {
            std::stringstream s(line);
            std::string id, parent, dev, root, target;
            s >> id >> parent >> dev >> root >> target;
            if (target.rfind(path_.string(), 0) == 0) targets.push_back(target);
        }
        for (auto it = targets.rbegin(); it != targets.rend(); ++it) ::umount2(it->c_str(), 0);
    }
    fs::path path_;
};

inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream s(text);
    for (std::string line; std::getline(s, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

// `rpm --root R --dbpath D -qa`, sorted: what a user would run to see what a root has.
inline std::vector<std::string> rpm_qa(const fs::path& root, const std::string& dbpath = "/usr/lib/sysimage/rpm") {
    auto out = run({"rpm", "--root", root.string(), "--dbpath", dbpath, "-qa", "--qf", "%{NEVRA}\n"}).output;
    auto lines = lines_of(out);
    std::sort(lines.begin(), lines.end());
    return lines;
}

}  // namespace imgcreate::test

// Test fixture: an RPM repository built from a folder of spec files with rpmbuild and
// createrepo_c. The result is cached in the build dir and rebuilt only when a spec, the
// comps file or the options change, so a test run pays for it once.
//
//   auto repo = imgcreate::test::build_repo(IMGCREATE_TEST_SOURCE_DIR "/data/repos/resolve/main",
//                                           IMGCREATE_BINARY_DIR "/test-repos/resolve-main");
//
// Each *.spec is built for every arch in options.targets (default: x86_64) unless it has a
// line `#!targets: x86_64 i686` of its own; a spec with a line `#!srpm` also puts its source
// package in the repository. A `comps.xml` next to the specs becomes the repository's group
// file. Specs are built with --nodeps and without debug packages.
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/process.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace imgcreate::test {

struct RepoBuildOptions {
    std::vector<std::string> targets{"x86_64"};
    std::filesystem::path comps;                 // empty: <spec_dir>/comps.xml if it exists
    std::vector<std::string> createrepo_args;    // extra createrepo_c arguments
};

namespace detail {

inline std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline std::vector<std::filesystem::path> spec_files(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> specs;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().extension() == ".spec") specs.push_back(e.path());
    std::sort(specs.begin(), specs.end());
    return specs;
}

inline std::vector<std::string> targets_of(const std::string& spec_text, const std::vector<std::string>& fallback) {
    std::istringstream in(spec_text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("#!targets:", 0) != 0) continue;
        std::istringstream words(line.substr(10));
        std::vector<std::string> targets;
        for (std::string w; words >> w;) targets.push_back(w);
        return targets;
    }
    return fallback;
}

inline std::string fingerprint(const std::vector<std::filesystem::path>& specs, const std::filesystem::path& comps,
                               const RepoBuildOptions& options) {
    std::string all = "v1";
    for (const auto& s : specs) all += s.filename().string() + '\0' + read_text(s);
    if (!comps.empty()) all += "comps\0" + read_text(comps);
    for (const auto& t : options.targets) all += "target\0" + t;
    for (const auto& a : options.createrepo_args) all += "arg\0" + a;
    return std::to_string(std::hash<std::string>{}(all));
}

// Serialises builds of one repository across test processes run in parallel by CTest.
class DirLock {
public:
    explicit DirLock(const std::filesystem::path& lock_file)
        : fd_(::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
        if (fd_ < 0) throw Error(errno_message("cannot open lock file", lock_file, errno));
        ::flock(fd_, LOCK_EX);
    }
    ~DirLock() { ::close(fd_); }
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;

private:
    int fd_;
};

inline void build_specs(const std::vector<std::filesystem::path>& specs, const RepoBuildOptions& options,
                        const std::filesystem::path& topdir, const std::filesystem::path& rpmdir) {
    for (const auto& spec : specs) {
        const std::string text = read_text(spec);
        bool with_source = text.find("\n#!srpm") != std::string::npos || text.rfind("#!srpm", 0) == 0;
        for (const auto& target : targets_of(text, options.targets)) {
            Command cmd;
            cmd.argv = {"rpmbuild", with_source ? "-ba" : "-bb", "--nodeps", "--target", target,
                        "--define", "_topdir " + topdir.string(),
                        "--define", "_rpmdir " + rpmdir.string(),
                        "--define", "_srcrpmdir " + (rpmdir / "src").string(),
                        "--define", "debug_package %{nil}",
                        "--define", "_build_id_links none",
                        "--define", "__os_install_post %{nil}",
                        spec.string()};
            cmd.log_output = false;
            run(cmd);
            with_source = false;
        }
    }
}

}  // namespace detail

// Builds (or reuses) the repository for `spec_dir` in `out_dir` and returns `out_dir`.
inline std::filesystem::path build_repo(const std::filesystem::path& spec_dir, const std::filesystem::path& out_dir,
                                        const RepoBuildOptions& options = {}) {
    namespace fs = std::filesystem;
    require_program("rpmbuild", "rpm");
    require_program("createrepo_c", "createrepo-c");
    const auto specs = detail::spec_files(spec_dir);
    if (specs.empty()) throw Error("no .spec files in " + spec_dir.string());
    fs::path comps = options.comps;
    if (comps.empty() && fs::exists(spec_dir / "comps.xml")) comps = spec_dir / "comps.xml";

    fs::create_directories(out_dir.parent_path());
    detail::DirLock lock(out_dir.string() + ".lock");
    const std::string stamp = detail::fingerprint(specs, comps, options);
    const fs::path stamp_file = out_dir / ".imgcreate-repo-stamp";
    if (fs::exists(stamp_file) && detail::read_text(stamp_file) == stamp) return out_dir;

    const fs::path work = out_dir.string() + ".building";
    fs::remove_all(work);
    fs::create_directories(work / "packages");
    detail::build_specs(specs, options, work / "rpmbuild", work / "packages");
    fs::remove_all(work / "rpmbuild");

    std::vector<std::string> argv{"createrepo_c", "--no-database", "--quiet"};
    if (!comps.empty()) argv.insert(argv.end(), {"--groupfile", comps.string()});
    argv.insert(argv.end(), options.createrepo_args.begin(), options.createrepo_args.end());
    argv.push_back(work.string());
    run(argv);

    std::ofstream(work / ".imgcreate-repo-stamp") << stamp;
    fs::remove_all(out_dir);
    fs::rename(work, out_dir);
    return out_dir;
}

}  // namespace imgcreate::test

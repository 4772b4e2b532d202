// Installing one selection (300 packages, ~300 MB of payload) from a local repository:
//   ours   resolve (libsolv) + rpm transaction (imgcreate::install)
//   dnf    Debian's `dnf --installroot` on the same repository
//   floor  `rpm -i --root R --nodeps --noscripts` of the same files (no resolution at all)
// Each runs in its own process (this program again, or the tool), timed from fork to exit,
// with its peak resident memory from wait4(), into its own freshly made ext4 filesystem on
// a loop device, as an image build does. Signature checking is off for all three (gpgcheck
// off, rpm's default digest level): every payload digest is still verified.
//
// usage: bench_install [--rounds N] [--packages N] [--mb-per-package X] [--workdir DIR] [--keep]
#include <imgcreate/install/download.hpp>
#include <imgcreate/install/resolver.hpp>
#include <imgcreate/install/rpmdb.hpp>
#include <imgcreate/install/transaction.hpp>
#include <imgcreate/support/process.hpp>

#include "common.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using imgcreate::bench::best;
using imgcreate::bench::Measure;
using namespace imgcreate;

namespace {

struct Settings {
    int rounds = 5;
    int packages = 300;
    double mb_per_package = 1.0;
    fs::path workdir = fs::path(IMGCREATE_BENCH_BINARY_DIR) / "data";
    bool keep = false;
};

std::string spec_text(const Settings& s) {
    std::string spec =
        "Name: bench\nVersion: 1.0\nRelease: 1\nSummary: install benchmark\nLicense: MIT\n"
        "BuildArch: noarch\nAutoReqProv: no\n"
        "%define _binary_payload w3.zstdio\n%define __os_install_post %{nil}\n"
        "%define _build_id_links none\n%define debug_package %{nil}\n\n"
        "%description\nThe benchmark selection.\n\n"
        "%package -n bench-meta\nSummary: pulls in every benchmark package\n";
    for (int i = 0; i < s.packages; ++i) spec += "Requires: bench-pkg" + std::to_string(1000 + i).substr(1) + "\n";
    spec += "%description -n bench-meta\nMeta package.\n%files -n bench-meta\n\n";
    for (int i = 0; i < s.packages; ++i) {
        const std::string n = std::to_string(1000 + i).substr(1);
        spec += "%package -n bench-pkg" + n + "\nSummary: benchmark package " + n + "\n";
        // A dependency tree, so the solver and rpm's ordering have work to do.
        if (i > 0) spec += "Requires: bench-pkg" + std::to_string(1000 + (i - 1) / 2).substr(1) + "\n";
        spec += "%description -n bench-pkg" + n + "\nPayload " + n + ".\n";
        spec += "%files -n bench-pkg" + n + "\n/usr/share/bench/pkg" + n + "\n\n";
    }
    spec += "%install\npython3 " + (fs::path(IMGCREATE_BENCH_SOURCE_DIR) / "generate_payload.py").string() +
            " %{buildroot} " + std::to_string(s.packages) + " " + std::to_string(s.mb_per_package) + "\n";
    return spec;
}

fs::path make_repo(const Settings& s) {
    const fs::path repo = s.workdir / ("repo-" + std::to_string(s.packages) + "-" + std::to_string(s.mb_per_package));
    if (fs::exists(repo / "repodata/repomd.xml")) return repo;
    std::cerr << "generating the benchmark repository in " << repo << " (once)\n";
    fs::remove_all(repo);
    fs::create_directories(repo);
    const fs::path top = s.workdir / "rpmbuild";
    fs::remove_all(top);
    fs::create_directories(top);
    std::ofstream(top / "bench.spec") << spec_text(s);
    Command build;
    build.argv = {"rpmbuild", "-bb", "--quiet", "--nodeps", "--define", "_topdir " + top.string(),
                  "--define", "_rpmdir " + repo.string(), (top / "bench.spec").string()};
    build.timeout = std::chrono::minutes(30);
    run(build);
    run({"createrepo_c", "--quiet", repo.string()});
    fs::remove_all(top);
    return repo;
}

std::vector<fs::path> rpm_files(const fs::path& repo) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(repo))
        if (e.path().extension() == ".rpm") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

// The child process for "ours": resolve bench-meta from the repository, install into root.
int run_ours(const fs::path& repo_dir, const fs::path& root, const fs::path& cache) {
    install::RepoConfig repo;
    repo.id = "bench";
    repo.baseurls = {repo_dir.string()};
    install::PackageRequest request;
    request.nocore = true;
    install::PackageEntry entry;
    entry.name = "bench-meta";
    request.entries.push_back(entry);
    install::ResolveOptions options;
    options.metadata.cache_dir = cache;
    auto resolution = install::resolve({repo}, request, options);
    install::DownloadOptions download;
    download.verify_local = false;  // rpm verifies every payload digest itself, as dnf leaves it to rpm
    install::download_packages(resolution.packages, {repo}, download);
    install::TransactionOptions tx;
    tx.verify = install::VerifyLevel::digest;
    install::install_packages(root, resolution.packages, tx);
    return 0;
}

// A fresh ext4 filesystem on a loop device, as an image build installs into (livecd-creator
// and LoopImage make one per build): every contender starts from the same empty filesystem,
// never from one where the previous round's 42,000 files were just deleted (ext4 then
// searches its inode tables for recently freed inodes on every create, which taxes whoever
// runs next). The image file lives in the work directory; unmounting (not timed) writes the
// data back, the same amount for all three.
class FreshFilesystem {
public:
    FreshFilesystem(const fs::path& image, const fs::path& mountpoint) : image_(image), mountpoint_(mountpoint) {
        release();
        std::ofstream{image_}.close();
        fs::resize_file(image_, 4ull << 30);
        run({"mkfs.ext4", "-q", "-F", image_.string()});
        fs::create_directories(mountpoint_);
        run({"mount", "-o", "loop", image_.string(), mountpoint_.string()});
        mounted_ = true;
    }
    FreshFilesystem(const FreshFilesystem&) = delete;
    FreshFilesystem& operator=(const FreshFilesystem&) = delete;
    ~FreshFilesystem() { release(); }
    const fs::path& root() const { return mountpoint_; }

private:
    void release() noexcept {
        try {
            if (mounted_ || is_mountpoint(mountpoint_)) run({"umount", mountpoint_.string()});
        } catch (const std::exception& e) {
            std::cerr << "bench_install: " << e.what() << "\n";
        }
        mounted_ = false;
        std::error_code ec;
        fs::remove(image_, ec);
    }
    static bool is_mountpoint(const fs::path& dir) {
        std::ifstream in("/proc/self/mountinfo");
        for (std::string line; std::getline(in, line);) {
            std::istringstream fields(line);
            std::string id, parent, dev, root, target;
            fields >> id >> parent >> dev >> root >> target;
            if (target == dir.string()) return true;
        }
        return false;
    }
    fs::path image_, mountpoint_;
    bool mounted_ = false;
};

std::set<std::string> installed_nevras(const fs::path& root, const fs::path& dbpath) {
    std::set<std::string> out;
    for (const auto& p : install::installed_packages(root, dbpath))
        if (p.name != "gpg-pubkey") out.insert(p.nevra());
    return out;
}

// dnf on Debian keeps the database where Debian's rpm macros say; find it in the root.
fs::path find_dbpath(const fs::path& root) {
    for (const auto& e : fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied))
        if (e.path().filename() == "rpmdb.sqlite") return "/" + fs::relative(e.path().parent_path(), root).string();
    return install::fedora_dbpath;
}

std::size_t file_count(const fs::path& root) {
    std::size_t n = 0;
    for (auto it = fs::recursive_directory_iterator(root / "usr/share/bench"); it != fs::recursive_directory_iterator(); ++it)
        ++n;
    return n;
}

}  // namespace

int run(int argc, char** argv) {
    Settings s;
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 4 && args[0] == "--ours") {
        Logger::instance().set_console_level(LogLevel::warning);
        return run_ours(args[1], args[2], args[3]);
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--packages" && i + 1 < args.size()) s.packages = std::stoi(args[++i]);
        else if (args[i] == "--rounds" && i + 1 < args.size()) s.rounds = std::max(1, std::stoi(args[++i]));
        else if (args[i] == "--mb-per-package" && i + 1 < args.size()) s.mb_per_package = std::stod(args[++i]);
        else if (args[i] == "--workdir" && i + 1 < args.size()) s.workdir = fs::absolute(args[++i]);
        else if (args[i] == "--keep") s.keep = true;
        else {
            std::cerr << "usage: bench_install [--rounds N] [--packages N] [--mb-per-package X] [--workdir DIR] [--keep]\n";
            return 2;
        }
    }
    if (::geteuid() != 0) {
        std::cerr << "bench_install needs root (rpm installs into roots)\n";
        return 4;
    }
    require_program("rpmbuild", "rpm");
    require_program("createrepo_c", "createrepo-c");
    require_program("dnf", "dnf");

    const fs::path repo = make_repo(s);
    const auto files = rpm_files(repo);
    std::uintmax_t bytes = 0;
    for (const auto& f : files) bytes += fs::file_size(f);
    // Warm the page cache so no contender pays for the first read of the repository.
    for (const auto& f : files) std::ifstream(f, std::ios::binary).ignore(std::numeric_limits<std::streamsize>::max());

    const fs::path runs = s.workdir / "runs";
    fs::remove_all(runs);
    fs::create_directories(runs);
    const fs::path self = fs::read_symlink("/proc/self/exe");

    std::cerr << "installing " << files.size() << " packages (" << (bytes >> 20) << " MB of rpm files), "
              << s.rounds << " rounds\n";
    const fs::path root_ours = runs / "ours", root_dnf = runs / "dnf", root_rpm = runs / "rpm";
    const std::vector<std::string> ours_argv = {self.string(), "--ours", repo.string(), root_ours.string(),
                                                (runs / "cache-ours").string()};
    const std::vector<std::string> dnf_argv = {
        "dnf", "--installroot=" + root_dnf.string(), "--releasever=39", "--noplugins",
        "--setopt=reposdir=" + (runs / "no-repos").string(), "--disablerepo=*", "--repofrompath=bench," + repo.string(),
        "--enablerepo=bench", "--nogpgcheck", "--setopt=install_weak_deps=False",
        "--setopt=cachedir=" + (runs / "cache-dnf").string(), "-y", "-q", "install", "bench-meta"};
    std::vector<std::string> rpm_argv = {"rpm", "-i", "--root", root_rpm.string(), "--dbpath",
                                         install::fedora_dbpath.string(), "--nodeps", "--noscripts"};
    for (const auto& f : files) rpm_argv.push_back(f.string());

    std::vector<Measure> ours_runs, dnf_runs, rpm_runs;
    std::vector<std::unique_ptr<FreshFilesystem>> filesystems;
    for (int round = 1; round <= s.rounds; ++round) {
        // A fresh filesystem each time; the last round's stay mounted for the comparison below.
        filesystems.clear();
        for (const auto& r : {runs / "cache-ours", runs / "cache-dnf"}) fs::remove_all(r);
        auto contender = [&](const fs::path& root, const std::vector<std::string>& argv, const fs::path& log) {
            fs::path image = root;
            image += ".img";
            filesystems.push_back(std::make_unique<FreshFilesystem>(image, root));
            ::sync();
            return imgcreate::bench::measure_ok(argv, log);
        };
        // Who goes first changes each round, so none always follows the same neighbour.
        for (int turn = 0; turn < 3; ++turn) {
            switch ((round - 1 + turn) % 3) {
                case 0: ours_runs.push_back(contender(root_ours, ours_argv, runs / "ours.log")); break;
                case 1: dnf_runs.push_back(contender(root_dnf, dnf_argv, runs / "dnf.log")); break;
                default: rpm_runs.push_back(contender(root_rpm, rpm_argv, runs / "rpm.log")); break;
            }
        }
        std::cerr << "round " << round << ": ours " << ours_runs.back().seconds << " s, dnf " << dnf_runs.back().seconds
                  << " s, rpm " << rpm_runs.back().seconds << " s\n";
    }
    const Measure ours = best(ours_runs), dnf = best(dnf_runs), floor = best(rpm_runs);

    const auto nevras_ours = installed_nevras(root_ours, install::fedora_dbpath);
    const auto nevras_dnf = installed_nevras(root_dnf, find_dbpath(root_dnf));
    const auto nevras_rpm = installed_nevras(root_rpm, install::fedora_dbpath);

    std::printf("\ninstall benchmark: %zu packages, %ju MB of rpm files, %zu files and dirs per root\n", files.size(),
                static_cast<std::uintmax_t>(bytes >> 20), file_count(root_ours));
    std::printf("  best of %d rounds                  %8s %9s %9s %12s\n", s.rounds, "wall s", "vs floor", "cpu s",
                "peak RSS MB");
    auto row = [&](const char* name, const Measure& m) {
        std::printf("  %-34s %8.2f %8.2fx %9.2f %12.1f\n", name, m.seconds, m.seconds / floor.seconds, m.cpu_seconds,
                    m.peak_kb / 1024.0);
    };
    row("ours (resolve + install)", ours);
    row("dnf --installroot", dnf);
    row("rpm -i --nodeps --noscripts (floor)", floor);
    std::printf("  ours / floor = %.2f (target <= 1.15)   dnf / ours = %.2f (target >= 2)\n", ours.seconds / floor.seconds,
                dnf.seconds / ours.seconds);
    std::vector<double> per_round;
    for (std::size_t i = 0; i < ours_runs.size(); ++i) per_round.push_back(dnf_runs[i].seconds / ours_runs[i].seconds);
    std::printf("  dnf / ours by round:");
    for (double r : per_round) std::printf(" %.2f", r);
    std::sort(per_round.begin(), per_round.end());
    std::printf("   median %.2f\n", per_round[per_round.size() / 2]);
    std::printf("  same NEVRAs: ours vs dnf %s (%zu vs %zu), ours vs rpm %s (%zu vs %zu)\n",
                nevras_ours == nevras_dnf ? "yes" : "NO", nevras_ours.size(), nevras_dnf.size(),
                nevras_ours == nevras_rpm ? "yes" : "NO", nevras_ours.size(), nevras_rpm.size());
    filesystems.clear();
    if (!s.keep) fs::remove_all(runs);
    return 0;
}

int main(int argc, char** argv) {
    // Caught here, not left to std::terminate, so the loop filesystems are unmounted on the way out.
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "bench_install: " << e.what() << "\n";
        return 1;
    }
}

// A LoopImage build of a small kickstart — 16 packages from three repositories, half of them
// through a comps group, as a spin's base would have — timed phase by phase, beside its
// floor measured in the same run:
//   mkfs       mkfs.ext4 of the same sparse file size, alone
//   rpm -i     `rpm -i --root R --nodeps` of the same 16 package files (scriptlets run)
//   minimise   e2fsck -f -y + resize2fs -M of the same unminimised image, alone
// Target: the whole build <= 1.5x the sum of the floors; peak memory <= 25 MB.
// Each contender runs in its own process, timed from fork to exit, its peak RSS from wait4().
//
// usage: bench_loop_image [--rounds N] [--workdir DIR] [--keep]
#include <imgcreate/imgcreate.hpp>
#include <imgcreate/install/rpmdb.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/namespace.hpp>
#include <imgcreate/support/interrupt.hpp>
#include <imgcreate/support/process.hpp>

#include "common.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using imgcreate::bench::best;
using imgcreate::bench::Measure;
using imgcreate::bench::measure_ok;
using namespace imgcreate;

namespace {

constexpr int image_mib = 512;

struct Package {
    std::string name;
    std::string repo;
    int files;      // payload files of 64 KiB
    bool scriptlet;
    bool in_group;
};

// 16 packages: base (8, six of them in the comps group), updates (4), extras (4).
const std::vector<Package> packages = {
    {"bench-filesystem", "base", 4, false, true}, {"bench-sh", "base", 0, false, true},
    {"bench-libc", "base", 160, true, true},      {"bench-coreutils", "base", 120, false, true},
    {"bench-systemd", "base", 200, true, true},   {"bench-kernel-core", "base", 240, false, true},
    {"bench-bash", "base", 40, false, false},     {"bench-setup", "base", 2, true, false},
    {"bench-openssl", "updates", 60, true, false}, {"bench-dnf", "updates", 80, false, false},
    {"bench-python3", "updates", 220, false, false}, {"bench-glib2", "updates", 50, true, false},
    {"bench-firefox", "extras", 300, false, false}, {"bench-fonts", "extras", 90, false, false},
    {"bench-vim", "extras", 30, false, false},     {"bench-htop", "extras", 4, false, false},
};

std::string spec_for(const Package& p) {
    std::string spec = "Name: " + p.name +
                       "\nVersion: 1.0\nRelease: 1\nSummary: loop image benchmark package\nLicense: MIT\n"
                       "AutoReqProv: no\n";
    // bench-sh carries the host's static busybox as /bin/sh: arch-dependent.
    if (p.name == "bench-sh") spec += "Provides: /bin/sh\n";
    else spec += "BuildArch: noarch\nRequires: bench-sh\n";
    spec += "%define _binary_payload w3.zstdio\n%define __os_install_post %{nil}\n%define _build_id_links none\n"
            "%define debug_package %{nil}\n\n%description\nBenchmark payload.\n\n%install\n";
    if (p.name == "bench-sh") {
        spec += "mkdir -p %{buildroot}/usr/bin %{buildroot}/bin\ninstall -m 0755 /bin/busybox %{buildroot}/usr/bin/busybox\n"
                "ln -s ../usr/bin/busybox %{buildroot}/bin/sh\n\n%files\n/usr/bin/busybox\n/bin/sh\n";
        return spec;
    }
    spec += "mkdir -p %{buildroot}/usr/share/" + p.name + "\n";
    if (p.files > 0)
        spec += "for i in $(seq 1 " + std::to_string(p.files) + "); do head -c 65536 /dev/urandom > %{buildroot}/usr/share/" +
                p.name + "/f$i; done\n";
    if (p.scriptlet) spec += "\n%post\necho \"$1\" > /usr/share/" + p.name + "/.post-ran\n";
    spec += "\n%files\n/usr/share/" + p.name + "\n";
    return spec;
}

std::string comps_xml() {
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<comps>\n<group>\n<id>bench-core</id>\n"
                      "<name>Benchmark core</name>\n<default>true</default>\n<uservisible>true</uservisible>\n<packagelist>\n";
    for (const auto& p : packages)
        if (p.in_group) xml += "<packagereq type=\"mandatory\">" + p.name + "</packagereq>\n";
    return xml + "</packagelist>\n</group>\n</comps>\n";
}

// Builds the three repositories once; later runs reuse them.
fs::path make_repos(const fs::path& workdir) {
    const fs::path repos = workdir / "repos-v1";
    if (fs::exists(repos / "extras/repodata/repomd.xml")) return repos;
    std::cerr << "generating the benchmark repositories in " << repos << " (once)\n";
    fs::remove_all(repos);
    const fs::path top = workdir / "rpmbuild";
    for (const auto& p : packages) {
        fs::remove_all(top);
        fs::create_directories(top);
        std::ofstream(top / (p.name + ".spec")) << spec_for(p);
        run({"rpmbuild", "-bb", "--quiet", "--nodeps", "--define", "_topdir " + top.string(), "--define",
             "_rpmdir " + (repos / p.repo).string(), (top / (p.name + ".spec")).string()});
    }
    fs::remove_all(top);
    std::ofstream(workdir / "comps.xml") << comps_xml();
    run({"createrepo_c", "--quiet", "--groupfile", (workdir / "comps.xml").string(), (repos / "base").string()});
    for (const char* r : {"updates", "extras"}) run({"createrepo_c", "--quiet", (repos / r).string()});
    return repos;
}

std::string kickstart_text(const fs::path& repos) {
    std::string ks;
    for (const char* r : {"base", "updates", "extras"}) ks += std::string("repo --name=") + r + " --baseurl=file://" + (repos / r).string() + "\n";
    ks += "part / --size " + std::to_string(image_mib) + " --fstype ext4\nselinux --disabled\ntimezone Etc/UTC\n";
    ks += "%packages --nocore\n@bench-core\n";
    for (const auto& p : packages)
        if (!p.in_group) ks += p.name + "\n";
    return ks + "%end\n";
}

std::vector<fs::path> rpm_files(const fs::path& repos) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(repos))
        if (e.path().extension() == ".rpm") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

// The child for "ours": a LoopImage build; its phase timings go to `phases_file`.
int run_ours(const fs::path& ks_file, const fs::path& dir, bool minimise, const fs::path& phases_file) {
    mount::enter_private_mount_namespace();
    InterruptGuard guard;
    Logger::instance().set_console_level(LogLevel::warning);
    CreatorOptions options;
    options.name = "bench";
    options.tmpdir = dir / "tmp";
    options.outdir = dir / "out";
    options.cache_dir = dir / "cache";
    options.skip_minimize = !minimise;
    LoopImage creator(std::make_shared<kickstart::Kickstart>(kickstart::parse_file(ks_file.string())), options);
    creator.create();
    std::ofstream out(phases_file);
    for (const auto& [phase, seconds] : creator.context().timings.phases) out << phase << " " << seconds << "\n";
    return 0;
}

std::vector<std::pair<std::string, double>> read_phases(const fs::path& file) {
    std::vector<std::pair<std::string, double>> phases;
    std::ifstream in(file);
    std::string name;
    double seconds;
    while (in >> name >> seconds) phases.emplace_back(name, seconds);
    return phases;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 5 && args[0] == "--ours") return run_ours(args[1], args[2], args[3] == "1", args[4]);
    int rounds = 3;
    fs::path workdir = fs::path(IMGCREATE_BENCH_BINARY_DIR) / "data";
    bool keep = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--rounds" && i + 1 < args.size()) rounds = std::max(1, std::stoi(args[++i]));
        else if (args[i] == "--workdir" && i + 1 < args.size()) workdir = args[++i];
        else if (args[i] == "--keep") keep = true;
        else {
            std::cerr << "usage: bench_loop_image [--rounds N] [--workdir DIR] [--keep]\n";
            return 2;
        }
    }
    if (::geteuid() != 0) {
        std::cerr << "bench_loop_image needs root (loop devices, mounts)\n";
        return 4;
    }
    require_program("rpmbuild", "rpm");
    require_program("createrepo_c", "createrepo-c");
    workdir = fs::absolute(workdir);
    fs::create_directories(workdir);
    const fs::path repos = make_repos(workdir);
    const auto files = rpm_files(repos);
    std::uintmax_t bytes = 0;
    for (const auto& f : files) {
        bytes += fs::file_size(f);
        std::ifstream(f, std::ios::binary).ignore(std::numeric_limits<std::streamsize>::max());  // warm the page cache
    }
    const fs::path runs = workdir / "runs";
    fs::remove_all(runs);
    fs::create_directories(runs);
    const fs::path ks = runs / "bench.ks";
    std::ofstream(ks) << kickstart_text(repos);
    const fs::path self = fs::read_symlink("/proc/self/exe");

    mount::FilesystemSpec spec;
    spec.size_mib = image_mib;
    spec.label = "_bench";
    std::vector<std::string> rpm_argv = {"rpm", "-i", "--root", (runs / "rpm-root").string(), "--dbpath",
                                         install::fedora_dbpath.string(), "--nodeps"};
    for (const auto& f : files) rpm_argv.push_back(f.string());

    // The unminimised image for the minimise floor: one untimed build that skips it.
    measure_ok({self.string(), "--ours", ks.string(), (runs / "full").string(), "0", (runs / "full-phases").string()},
            runs / "full.log");
    const fs::path full_image = runs / "full/out/bench.img";

    std::vector<Measure> ours_runs, mkfs_runs, rpm_runs, min_runs;
    std::map<std::string, double> best_phase;
    std::vector<std::string> phase_order;
    for (int round = 1; round <= rounds; ++round) {
        const fs::path dir = runs / "ours";
        fs::remove_all(dir);
        ours_runs.push_back(measure_ok({self.string(), "--ours", ks.string(), dir.string(), "1", (runs / "phases").string()},
                                    runs / "ours.log"));
        for (const auto& [phase, seconds] : read_phases(runs / "phases")) {
            if (!best_phase.count(phase)) {
                phase_order.push_back(phase);
                best_phase[phase] = seconds;
            }
            best_phase[phase] = std::min(best_phase[phase], seconds);
        }

        const fs::path mkfs_image = runs / "mkfs.img";
        fs::remove(mkfs_image);
        std::ofstream(mkfs_image).close();
        fs::resize_file(mkfs_image, std::uintmax_t{image_mib} << 20);
        mkfs_runs.push_back(measure_ok(mount::mkfs_command(spec, mkfs_image), runs / "mkfs.log"));

        fs::remove_all(runs / "rpm-root");
        rpm_runs.push_back(measure_ok(rpm_argv, runs / "rpm.log"));

        const fs::path copy = runs / "minimise.img";
        fs::remove(copy);
        run({"cp", "--sparse=always", full_image.string(), copy.string()});
        min_runs.push_back(measure_ok({"sh", "-c", "e2fsck -f -y \"$1\" && resize2fs -M \"$1\"", "sh", copy.string()},
                                   runs / "minimise.log"));
        std::cerr << "round " << round << ": build " << ours_runs.back().seconds << " s; floors: mkfs "
                  << mkfs_runs.back().seconds << " s, rpm -i " << rpm_runs.back().seconds << " s, minimise "
                  << min_runs.back().seconds << " s\n";
    }
    const Measure ours = best(ours_runs), mkfs = best(mkfs_runs), rpm = best(rpm_runs), minimise = best(min_runs);
    const double floor = mkfs.seconds + rpm.seconds + minimise.seconds;

    std::printf("\nloop image benchmark: %zu packages from 3 repositories (%ju KiB of rpm files), a %d MiB ext4 image, "
                "best of %d rounds\n",
                files.size(), static_cast<std::uintmax_t>(bytes >> 10), image_mib, rounds);
    std::printf("  LoopImage phases:");
    for (const auto& p : phase_order) std::printf(" %s %.3fs", p.c_str(), best_phase[p]);
    std::printf("\n  %-36s %8s %12s\n", "", "wall s", "peak RSS MB");
    auto row = [](const char* name, const Measure& m) {
        std::printf("  %-36s %8.3f %12.1f\n", name, m.seconds, m.peak_kb / 1024.0);
    };
    row("LoopImage build (whole process)", ours);
    row("floor: mkfs.ext4", mkfs);
    row("floor: rpm -i --root --nodeps", rpm);
    row("floor: e2fsck -f + resize2fs -M", minimise);
    std::printf("  sum of floors %.3f s; build / floors = %.2f (target <= 1.5); build peak RSS %.1f MB (target <= 25)\n",
                floor, ours.seconds / floor, ours.peak_kb / 1024.0);
    const auto image = runs / "ours/out/bench.img";
    std::printf("  image: %ju MiB after minimising\n", static_cast<std::uintmax_t>(fs::file_size(image) >> 20));
    if (!keep) fs::remove_all(runs);
    return 0;
}

// bench_end_to_end — a whole LoopImage build from a large local repository, phase by phase:
// every package of REPO (the install benchmark's 300 generated packages, pulled in by
// its bench-meta package) into a minimised ext4 image. Prints one line per phase, the
// total, the image size and the process's peak RSS, in a form benchmarks/run reads:
//   phase <name> <seconds>
//   total <seconds>
//   peak_rss_mb <MiB>
//   packages <n>
//   image_mib <MiB>
//   bench_end_to_end REPO WORKDIR [META_PACKAGE]   (as root)
#include <imgcreate/imgcreate.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/support/interrupt.hpp>

#include "common.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace imgcreate;

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: bench_end_to_end REPO WORKDIR [META_PACKAGE]\n";
        return 2;
    }
    if (::geteuid() != 0) {
        std::cerr << "bench_end_to_end needs root (loop devices, mounts)\n";
        return 4;
    }
    const fs::path repo = fs::absolute(argv[1]), work = fs::absolute(argv[2]);
    const std::string meta = argc > 3 ? argv[3] : "bench-meta";
    std::size_t packages = 0;
    for (const auto& e : fs::recursive_directory_iterator(repo))
        if (e.path().extension() == ".rpm") ++packages;
    try {
        fs::remove_all(work);
        fs::create_directories(work);
        const std::string ks = "repo --name=bench --baseurl=file://" + repo.string() +
                               "\npart / --size 2048 --fstype ext4\nselinux --disabled\ntimezone Etc/UTC\n"
                               "%packages --nocore\n" + meta + "\n%end\n";
        InterruptGuard guard;
        Logger::instance().set_console_level(LogLevel::warning);
        CreatorOptions options;
        options.name = "e2e";
        options.tmpdir = work / "tmp";
        options.outdir = work / "out";
        options.cache_dir = work / "cache";
        LoopImage creator(std::make_shared<kickstart::Kickstart>(kickstart::parse_string(ks)), options);
        fs::path image;
        const double total = bench::seconds([&] { image = creator.create(); });
        for (const auto& [phase, seconds] : creator.context().timings.phases) std::printf("phase %s %.3f\n", phase.c_str(), seconds);
        std::printf("total %.3f\npeak_rss_mb %.1f\npackages %zu\nimage_mib %ju\n", total, bench::self_peak_kb() / 1024.0, packages,
                    static_cast<std::uintmax_t>(fs::file_size(image) >> 20));
        fs::remove_all(work);
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "bench_end_to_end: " << e.what() << "\n";
        return 1;
    }
}

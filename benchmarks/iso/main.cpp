// bench_iso — the ISO stage measured against its floor, in one run. Builds the demo live ISO
// with LiveImage (every phase timed), then times what any ISO build must do at least for the
// same content: mksquashfs of the same root image with the same compressor, plus xorriso
// alone on the same tree. Prints the phases, both totals and the ratio (target <= 1.1).
//   bench_iso [SOURCE_DIR] [WORKDIR] [COMPRESSOR]   (as root)
#include <imgcreate/imgcreate.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/namespace.hpp>

#include "common.hpp"

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using namespace imgcreate;

using imgcreate::bench::seconds;

int main(int argc, char** argv) {
    const fs::path source = argc > 1 ? argv[1] : IMGCREATE_BENCH_SOURCE_DIR;
    const fs::path work = fs::absolute(argc > 2 ? argv[2] : "bench-iso");
    const std::string compressor = argc > 3 ? argv[3] : "xz";
    if (::geteuid() != 0) {
        std::cerr << "bench_iso: run as root (loop mounts)\n";
        return 1;
    }
    try {
        fs::remove_all(work);
        fs::create_directories(work);
        run({(source / "examples/demo/make-repo").string(), (work / "repo").string()});
        std::ifstream in(source / "examples/demo/demo-live.ks");
        std::stringstream text;
        text << in.rdbuf();
        auto ks_text = text.str();
        ks_text.replace(ks_text.find("@DEMO_REPO@"), 11, (work / "repo").string());
        std::ofstream(work / "demo-live.ks") << ks_text;

        mount::enter_private_mount_namespace();
        Logger::instance().set_console_level(LogLevel::warning);
        CreatorOptions options;
        options.name = options.fslabel = "BENCH";
        options.compression = compressor;
        options.tmpdir = work;
        options.outdir = work / "out";
        // A cache of its own (a demo build running at the same time holds the demo cache's
        // lock), seeded with the demo's initramfs when there is one, so dracut need not run.
        options.cache_dir = work / "cache";
        const char* demo_cache_env = std::getenv("IMGCREATE_DEMO_CACHE");
        const fs::path demo_initramfs =
            fs::path(demo_cache_env && *demo_cache_env ? demo_cache_env : "/var/cache/imgcreate-demo") / "cache/initramfs";
        fs::create_directories(options.cache_dir);
        if (fs::is_directory(demo_initramfs))
            fs::copy(demo_initramfs, options.cache_dir / "initramfs", fs::copy_options::recursive);
        auto ks = std::make_shared<kickstart::Kickstart>(kickstart::parse_file((work / "demo-live.ks").string()));
        LiveImage creator(ks, options);
        const auto iso = creator.create();

        double stage = 0;
        std::printf("demo build phases (compressor %s):\n", compressor.c_str());
        for (const auto& [phase, s] : creator.context().timings.phases) {
            std::printf("  %-12s %7.2f s\n", phase.c_str(), s);
            if (phase == "package") stage = s;
        }

        // The floor: the same root image and ISO tree, squashed and laid out by the tools alone.
        const auto tree = work / "floor-tree";
        run({"xorriso", "-osirrox", "on", "-indev", iso.string(), "-extract", "/", tree.string()});
        run({"unsquashfs", "-no-progress", "-d", (work / "floor-squash").string(), (tree / "LiveOS/squashfs.img").string()});
        fs::remove(tree / "LiveOS/squashfs.img");
        stage::SquashfsOptions squash;
        squash.compression = compressor;
        const double t_squash =
            seconds([&] { stage::make_squashfs(work / "floor-squash", tree / "LiveOS/squashfs.img", squash); });
        stage::IsoLayout layout;
        layout.tree = tree;
        layout.volume_id = "BENCH";
        layout.bios = stage::BiosLoader::none;
        const double t_iso = seconds([&] { stage::make_iso(layout, work / "floor.iso"); });
        const double floor = t_squash + t_iso;
        std::printf("ISO stage (imgcreate: minimise + squashfs + xorriso + implantisomd5): %7.2f s\n", stage);
        std::printf("floor (mksquashfs %7.2f s + xorriso %7.2f s):                       %7.2f s\n", t_squash, t_iso, floor);
        std::printf("ratio: %.2fx (target <= 1.1x)\n", stage / floor);
        fs::remove_all(work);
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "bench_iso: " << e.what() << "\n";
        return 1;
    }
}

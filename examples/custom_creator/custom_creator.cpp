// custom_creator — a new image type in a few lines: the stock directory mount, rpm install and
// (no) boot policies, composed with a stage of our own that packs the tree as <name>.tar.zst.
//
//   custom_creator KICKSTART OUTDIR [TMPDIR]      (as root)
//
// Built as the README builds a program: linked to imgcreate::compiled (examples/CMakeLists.txt),
// so RpmInstall, the kickstart parser and the creator's steps are compiled once, not here.
#include <imgcreate/boot/no_boot.hpp>
#include <imgcreate/creator.hpp>
#include <imgcreate/install/rpm_install.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/directory_mount.hpp>
#include <imgcreate/support/process.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

// The StagePolicy: one member, package(), returning the deliverable's path.
struct TarZstStage {
    std::filesystem::path package(imgcreate::BuildContext& ctx) {
        const auto out = ctx.options.outdir / (ctx.options.name + ".tar.zst");
        imgcreate::run({"tar", "--zstd", "--numeric-owner", "--xattrs", "-C", ctx.install_root.string(), "-cf",
                        out.string(), "."});
        return out;
    }
};

using TarImage = imgcreate::Creator<imgcreate::DirectoryMount, imgcreate::RpmInstall, imgcreate::NoBoot, TarZstStage>;

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4) {
        std::cerr << "usage: custom_creator KICKSTART OUTDIR [TMPDIR]\n";
        return 2;
    }
    try {
        imgcreate::CreatorOptions options;
        options.name = "custom";
        options.outdir = std::filesystem::absolute(argv[2]);
        if (argc == 4) options.tmpdir = std::filesystem::absolute(argv[3]);
        TarImage image(std::make_shared<imgcreate::kickstart::Kickstart>(imgcreate::kickstart::parse_file(argv[1])), options);
        std::cout << image.create().string() << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "custom_creator: error: " << e.what() << "\n";
        return 1;
    }
}

// image-creator — builds an ext4 (or xfs, btrfs: `part / --fstype`) filesystem image from a
// kickstart, as livecd-tools' image-creator does: <name>.img in the output directory,
// minimised, sized by `part / --size`.
#include <imgcreate/imgcreate.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/namespace.hpp>
#include <imgcreate/support/interrupt.hpp>

#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <unistd.h>

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

// "fedora-minimal.ks" -> "fedora-minimal"
std::string kickstart_stem(const std::string& path) {
    auto stem = fs::path(path).filename().string();
    if (stem.size() > 3 && stem.substr(stem.size() - 3) == ".ks") stem.resize(stem.size() - 3);
    return stem;
}

}  // namespace

int main(int argc, char** argv) {
    po::options_description desc("image-creator options");
    desc.add_options()
        ("help,h", "show this help and exit")
        ("config,c", po::value<std::string>(), "kickstart file to build from")
        ("name,n", po::value<std::string>(), "image name: the output is <name>.img (default: the kickstart's name)")
        ("fslabel,f", po::value<std::string>(), "filesystem label, stored as _<label> (default: the name)")
        ("releasever", po::value<std::string>(), "value of $releasever in repository URLs")
        ("base-on", po::value<std::string>(), "build on a copy of an existing image")
        ("skip-minimize", "do not shrink the image to its contents")
        ("tmpdir,t", po::value<std::string>()->default_value("/var/tmp"), "where the build directory is made")
        ("output,o", po::value<std::string>()->default_value("."), "where the image is written")
        ("cache", po::value<std::string>(), "package and metadata cache directory")
        ("cacheonly", "use only the cache, never the network")
        ("nocleanup", "keep the build directory (everything is still unmounted)")
        ("debug,d", "print debug messages")
        ("verbose,v", "print more messages")
        ("quiet,q", "print only errors");
    po::variables_map vm;
    const char* usage = "usage: image-creator -c KICKSTART [options]";
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << usage << "\nimage-creator: error: " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << usage << "\n\n" << desc;
        return 0;
    }
    if (!vm.count("config")) {
        std::cerr << usage << "\nimage-creator: error: a kickstart is required: -c/--config FILE\n";
        return 2;
    }

    auto& logger = imgcreate::Logger::instance();
    if (vm.count("debug")) logger.set_console_level(imgcreate::LogLevel::debug);
    else if (vm.count("quiet")) logger.set_console_level(imgcreate::LogLevel::error);

    const std::string config = vm["config"].as<std::string>();
    imgcreate::CreatorOptions options;
    options.name = vm.count("name") ? vm["name"].as<std::string>() : kickstart_stem(config);
    options.fslabel = vm.count("fslabel") ? vm["fslabel"].as<std::string>() : options.name;
    if (vm.count("releasever")) options.releasever = vm["releasever"].as<std::string>();
    if (vm.count("base-on")) options.base_on = fs::absolute(vm["base-on"].as<std::string>());
    options.skip_minimize = vm.count("skip-minimize") > 0;
    options.tmpdir = fs::absolute(vm["tmpdir"].as<std::string>());
    options.outdir = fs::absolute(vm["output"].as<std::string>());
    if (vm.count("cache")) options.cache_dir = fs::absolute(vm["cache"].as<std::string>());
    options.cacheonly = vm.count("cacheonly") > 0;
    options.nocleanup = vm.count("nocleanup") > 0;

    try {
        if (::geteuid() != 0) throw imgcreate::Error("image-creator must run as root (it mounts a loop image)");
        auto ks = std::make_shared<imgcreate::kickstart::Kickstart>(imgcreate::kickstart::parse_file(config));
        for (const auto& w : ks->warnings) imgcreate::log::warning(w.to_string());
        // Before any thread exists (downloads start threads).
        imgcreate::mount::enter_private_mount_namespace();
        imgcreate::InterruptGuard guard;
        imgcreate::LoopImage creator(ks, options);
        auto image = creator.create();
        if (!vm.count("quiet")) std::cout << image.string() << "\n";
        return 0;
    } catch (const imgcreate::InterruptedError& e) {
        std::cerr << "image-creator: " << e.what() << "; everything mounted was released\n";
        return 130;
    } catch (const std::exception& e) {
        std::cerr << "image-creator: error: " << e.what() << "\n";
        return 1;
    }
}

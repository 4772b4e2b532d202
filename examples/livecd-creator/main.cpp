// livecd-creator — builds a live ISO from a kickstart, with livecd-tools' options and
// defaults (name, label, title and product derived from the kickstart's file name).
#include <imgcreate/imgcreate.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/namespace.hpp>
#include <imgcreate/support/interrupt.hpp>

#include <boost/program_options.hpp>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <sys/utsname.h>

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

// "fedora-live-workstation.ks" -> "fedora-live-workstation"
std::string kickstart_stem(const std::string& path) {
    auto stem = fs::path(path).filename().string();
    if (stem.size() > 3 && stem.substr(stem.size() - 3) == ".ks") stem.resize(stem.size() - 3);
    return stem;
}

// livecd-tools' default title and product: the first two dash-separated words of the
// name, capitalised ("fedora-live-xfce" -> "Fedora Live").
std::string title_from(const std::string& name) {
    std::string words, word;
    int count = 0;
    for (std::size_t i = 0; i <= name.size() && count < 2; ++i) {
        if (i == name.size() || name[i] == '-') {
            if (!word.empty()) {
                word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
                for (std::size_t j = 1; j < word.size(); ++j)
                    word[j] = static_cast<char>(std::tolower(static_cast<unsigned char>(word[j])));
                words += (words.empty() ? "" : " ") + word;
                ++count;
            }
            word.clear();
        } else {
            word += name[i];
        }
    }
    return words.empty() ? "Linux" : words;
}

// The default label: <stem>-<arch>-<YYYYMMDDHHMM>, cut to 32 characters keeping the suffix;
// the time is SOURCE_DATE_EPOCH's when it is set, so reproducible builds agree.
std::string default_label(const std::string& stem, std::optional<long long> epoch) {
    struct utsname u {};
    ::uname(&u);
    std::time_t t = epoch ? static_cast<std::time_t>(*epoch) : std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char stamp[16];
    std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M", &tm);
    const std::string suffix = std::string("-") + u.machine + "-" + stamp;
    return stem.substr(0, 32 - std::min<std::size_t>(32, suffix.size())) + suffix;
}

}  // namespace

int main(int argc, char** argv) {
    po::options_description desc("livecd-creator options");
    desc.add_options()
        ("help,h", "show this help and exit")
        ("config,c", po::value<std::string>(), "kickstart file to build from")
        ("fslabel,f", po::value<std::string>(), "ISO volume label and image name (at most 32 characters)")
        ("name,n", po::value<std::string>(), "same as --fslabel")
        ("title", po::value<std::string>(), "boot menu title")
        ("product", po::value<std::string>(), "product name in the boot menu entries")
        ("releasever", po::value<std::string>(), "value of $releasever in repository URLs")
        ("syslinux", "boot BIOS machines with isolinux instead of GRUB2")
        ("flat-squashfs", "squash the root tree itself (the live system runs on overlayfs)")
        ("compression-type", po::value<std::string>()->default_value("xz"), "squashfs compressor: xz, zstd, lz4, gzip")
        ("skip-compression,s", "put LiveOS/rootfs.img on the ISO without squashfs")
        ("skip-minimize", "do not shrink the root image")
        ("dracut-conf-args", po::value<std::string>(), "live dracut config: '+lines' to add, other text to replace")
        ("nomacboot", "accepted for compatibility; no HFS boot image is made")
        ("base-on", po::value<std::string>(), "build on the root of an existing live ISO")
        ("tmpdir,t", po::value<std::string>()->default_value("/var/tmp"), "where the build directory is made")
        ("output,o", po::value<std::string>()->default_value("."), "where the ISO is written")
        ("cache", po::value<std::string>(), "package, metadata and initramfs cache directory")
        ("cacheonly", "use only the cache, never the network")
        ("nocleanup", "keep the build directory")
        ("debug,d", "print debug messages")
        ("verbose,v", "print more messages")
        ("quiet,q", "print only errors")
        ("logfile", po::value<std::string>(), "also write every message to this file");
    po::variables_map vm;
    const char* usage = "usage: livecd-creator -c KICKSTART [options]";
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << usage << "\nlivecd-creator: error: " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << usage << "\n\n" << desc;
        return 0;
    }
    if (!vm.count("config")) {
        std::cerr << usage << "\nlivecd-creator: error: a kickstart is required: -c/--config FILE\n";
        return 2;
    }

    auto& logger = imgcreate::Logger::instance();
    if (vm.count("debug")) logger.set_console_level(imgcreate::LogLevel::debug);
    else if (vm.count("quiet")) logger.set_console_level(imgcreate::LogLevel::error);
    if (vm.count("logfile")) logger.open_file(vm["logfile"].as<std::string>());

    imgcreate::CreatorOptions options;
    if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde && *sde) {
        try {
            options.source_date_epoch = std::stoll(sde);
        } catch (const std::exception&) {
            std::cerr << "livecd-creator: error: SOURCE_DATE_EPOCH='" << sde << "' is not a number of seconds\n";
            return 2;
        }
    }
    const std::string config = vm["config"].as<std::string>();
    std::string label = vm.count("fslabel") ? vm["fslabel"].as<std::string>()
                        : vm.count("name")  ? vm["name"].as<std::string>() : "";
    if (label.size() > 32 || label.find(' ') != std::string::npos) {
        std::cerr << "livecd-creator: error: the label '" << label << "' must be at most 32 characters, without spaces\n";
        return 2;
    }
    options.name = label.empty() ? "livecd-" + kickstart_stem(config) : label;
    options.fslabel = label.empty() ? default_label(kickstart_stem(config), options.source_date_epoch) : label;
    options.title = vm.count("title") ? vm["title"].as<std::string>() : title_from(options.name);
    options.product = vm.count("product") ? vm["product"].as<std::string>() : title_from(options.name);
    if (vm.count("releasever")) options.releasever = vm["releasever"].as<std::string>();
    options.syslinux = vm.count("syslinux") > 0;
    options.flat_squashfs = vm.count("flat-squashfs") > 0;
    options.compression = vm["compression-type"].as<std::string>();
    options.skip_compression = vm.count("skip-compression") > 0 || options.compression == "none";
    options.skip_minimize = vm.count("skip-minimize") > 0;
    options.nomacboot = vm.count("nomacboot") > 0;
    if (vm.count("dracut-conf-args")) options.dracut_conf_args = vm["dracut-conf-args"].as<std::string>();
    if (vm.count("base-on")) options.base_on = fs::absolute(vm["base-on"].as<std::string>());
    options.tmpdir = fs::absolute(vm["tmpdir"].as<std::string>());
    options.outdir = fs::absolute(vm["output"].as<std::string>());
    if (vm.count("cache")) options.cache_dir = fs::absolute(vm["cache"].as<std::string>());
    options.cacheonly = vm.count("cacheonly") > 0;
    options.nocleanup = vm.count("nocleanup") > 0;

    try {
        if (::geteuid() != 0) throw imgcreate::Error("livecd-creator must run as root (it mounts loop images)");
        auto ks = std::make_shared<imgcreate::kickstart::Kickstart>(imgcreate::kickstart::parse_file(config));
        for (const auto& w : ks->warnings) imgcreate::log::warning(w.to_string());
        imgcreate::mount::enter_private_mount_namespace();
        imgcreate::InterruptGuard guard;
        imgcreate::log::info("label '", options.fslabel, "', name '", options.name, "', title '", options.title,
                             "', product '", options.product, "'");
        imgcreate::LiveImage creator(ks, options);
        auto iso = creator.create();
        std::string phases;
        char buf[64];
        for (const auto& [phase, seconds] : creator.context().timings.phases) {
            std::snprintf(buf, sizeof buf, "%s%s %.1fs", phases.empty() ? "" : ", ", phase.c_str(), seconds);
            phases += buf;
        }
        if (!vm.count("quiet")) std::cout << "phases: " << phases << "\n" << iso.string() << "\n";
        return 0;
    } catch (const imgcreate::InterruptedError& e) {
        std::cerr << "livecd-creator: " << e.what() << "; everything mounted was released\n";
        return 130;
    } catch (const std::exception& e) {
        std::cerr << "livecd-creator: error: " << e.what() << "\n";
        return 1;
    }
}

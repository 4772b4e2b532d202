// imgcreate — the livecd-creator / image-creator command line: livecd-tools' options with their
// meaning and defaults, plus imgcreate's own (--image-type fs, --report, --lockfile, ...),
// parsed into one struct. A usage mistake is a UsageError (the program exits 2).
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/frontend/naming.hpp>

#include <imgcreate/stage/squashfs.hpp>

#include <boost/program_options.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace imgcreate::frontend {

enum class ImageType { livecd, image, fs, disk };

inline const char* to_string(ImageType t) {
    switch (t) {
        case ImageType::image: return "image";
        case ImageType::fs: return "fs";
        case ImageType::disk: return "disk";
        default: return "livecd";
    }
}

// A mistake on the command line: printed after the usage line, exit status 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Options {
    std::string program = "livecd-creator";  // as invoked (basename of argv[0])
    ImageType type = ImageType::livecd;
    std::string kickstart;                   // -c or the single positional argument
    CreatorOptions creator;                  // name, label, title, product and the rest resolved
    bool help = false;
    bool print_includes = false;             // list the kickstart and its %include files, exit
    bool shell = false;                      // -l: a shell in the root after configure
    bool plugins = false;                    // -p: accepted; imgcreate has no DNF plugins
    bool debug = false, verbose = false, quiet = false;
    bool repos_from_command_line = false;    // --repo given: the kickstart's repo lines are ignored
    bool pkgverify_given = false;
    bool names_defaulted = false;            // no -f/-n: name and label came from the kickstart's name
    bool no_loop = false;                    // --no-loop: the image is made from a directory
    std::string logfile;
    std::filesystem::path report;
};

// "image-creator" (any path, any prefix) builds loop images, "appliance-creator" disk images with
// appliance-creator's options; every other name live ISOs.
inline ImageType type_from_program(const std::string& argv0) {
    const std::string name = std::filesystem::path(argv0).filename().string();
    auto ends_with = [&](const std::string& tail) {
        return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
    };
    if (ends_with("appliance-creator")) return ImageType::disk;
    if (ends_with("image-creator")) return ImageType::image;
    return ImageType::livecd;
}

inline bool is_appliance_creator(const std::string& program) { return type_from_program(program) == ImageType::disk; }

inline std::string usage_line(const std::string& program) {
    return "usage: " + program + " [options] -c KICKSTART | " + program + " [options] KICKSTART";
}

namespace detail {

namespace po = boost::program_options;

// Disk image options. appliance-creator has -n/--name and -f/--format; livecd-creator's -f is
// --fslabel, so under that name (with --image-type disk) they are long options only.
inline po::options_description disk_options(bool appliance) {
    po::options_description disk(appliance ? "Appliance options" : "Disk image options (--image-type disk)");
    if (appliance)
        disk.add_options()
            ("config,c", po::value<std::string>()->value_name("KICKSTART"), "kickstart file (path or URL) to build from; may also be given as the only argument")
            ("name,n", po::value<std::string>()->value_name("NAME"), "the appliance's name: its disks are NAME-<disk>.<format>, its description NAME.xml (default: <kickstart name>-<time>)")
            ("version", po::value<std::string>()->value_name("VERSION"), "the appliance's version, recorded in NAME.xml; also what $releasever stands for in repository URLs")
            ("release", po::value<std::string>()->value_name("RELEASE"), "the appliance's release, recorded in NAME.xml")
            ("format,f", po::value<std::string>()->value_name("FORMAT"), "disk format: raw (default, sparse), qcow2, vmdk or vdi")
            ("package,p", po::value<std::string>()->value_name("PACKAGE"), "deliver the appliance as one archive, OUTDIR/NAME.zip or NAME.tar[.gz|.bz2], holding NAME/: none (default: the directory OUTDIR/NAME/), zip, zip.64, tar, tar.gz or tar.bz2")
            ("include,i", po::value<std::string>()->value_name("PATH"), "a file to deliver beside the disks (in OUTDIR/NAME/ or the archive), or a directory whose entries to deliver there");
    else
        disk.add_options()
            ("format", po::value<std::string>()->value_name("FORMAT"), "disk format: raw (default, sparse), qcow2, vmdk or vdi");
    disk.add_options()
        ("vmem", po::value<unsigned>()->value_name("MiB"), "the machine's memory in NAME.xml (default 512); also what part swap --recommended sizes swap for")
        ("vcpu", po::value<unsigned>()->value_name("N"), "the machine's processors in NAME.xml (default 1)")
        ("checksum", "record each disk's sha1 and sha256 in NAME.xml, and write its sha256 beside it (<disk image>.sha256)")
        ("no-compress", "a qcow2 disk without compressed clusters")
        ("disk-size", po::value<std::vector<std::string>>()->value_name("[DISK=]MiB"), "a disk's size (sda unless named; G and M suffixes): --grow partitions share what their sizes leave free; default: what the partitions need (repeatable)");
    return disk;
}

inline po::options_description visible_options(bool appliance = false) {
    po::options_description image("Image options");
    image.add_options()
        ("config,c", po::value<std::string>()->value_name("KICKSTART"), "kickstart file (path or URL) to build from; may also be given as the only argument")
        ("base-on,b", po::value<std::string>()->value_name("IMAGE"), "start from the root of an existing live ISO or image instead of an empty one")
        ("fslabel,f", po::value<std::string>()->value_name("LABEL"), "filesystem / volume label, and the output's name (default: <type>-<kickstart name>-<time>, the label cut to 32 characters)")
        ("title", po::value<std::string>(), "boot menu title (default: first two words of the name)")
        ("product", po::value<std::string>(), "product name in the boot menu entries (default: like --title)")
        ("releasever", po::value<std::string>(), "what $releasever stands for in repository URLs")
        ("syslinux", "boot BIOS machines with isolinux instead of GRUB 2")
        ("nomacboot", "accepted for compatibility and changes nothing: imgcreate never makes livecd-tools' HFS+ (Mac) boot image, with or without it")
        ("flat-squashfs", "squash the root tree itself rather than an ext4 image inside it (overlayfs live systems only)")
        ("compression-type", po::value<std::string>()->default_value("xz")->value_name("\"TYPE ARG1 ...\""), "squashfs compressor and its mksquashfs options: xz (default), zstd or lz4 (fast, for development), gzip, lzo, lzma; xz1m means \"xz -b 1M -Xdict-size 1M -no-recovery\"; None takes the compressor of the --base-on ISO (kept uncompressed when the base is)")
        ("dracut-conf-args", po::value<std::string>()->value_name("ARGS"), "live initramfs dracut settings: text starting with '+' is added to the defaults, other text replaces them")
        ("plugins,p", "accepted for compatibility: imgcreate has no DNF plugins, so this only warns")
        ("image-type", po::value<std::string>()->value_name("TYPE"), "livecd (ISO), image (filesystem image) or fs (directory tree); default from the program's name")
        ("repo", po::value<std::vector<std::string>>()->value_name("FILE|DIR"), "take repositories from .repo files instead of the kickstart's repo lines (repeatable)")
        ("pkgverify-level", po::value<std::string>()->value_name("LEVEL"), "package checks: all, signature, digest or none (all and signature need --repo)");
    po::options_description system("System directory options");
    system.add_options()
        ("tmpdir,t", po::value<std::string>()->default_value("/var/tmp")->value_name("DIR"), "where the build directory is made")
        (appliance ? "outdir,o" : "output,o", po::value<std::string>()->default_value(".")->value_name("DIR"),
         appliance ? "the appliance is delivered into DIR/NAME/, made when missing" : "where the result is written")
        ("cache", po::value<std::string>()->value_name("DIR"), "package, metadata and initramfs cache kept between builds (default: a private one)")
        ("cacheonly", "use only what --cache holds, never the network")
        ("shell,l", "open a root shell (bash, else sh) chrooted in the image after it is configured, with the host's /dev, /run and /etc/resolv.conf bound in, the ISO tree at /run/iso (live ISOs) and the host's root at /run/hostroot; the build goes on when it exits. With --base-on, no packages are installed: the shell edits the base")
        ("nocleanup", "keep the build directory (everything is still unmounted)");
    po::options_description extra("imgcreate options");
    extra.add_options()
        ("lockfile-out", po::value<std::string>()->value_name("FILE"), "write the resolved package set to FILE")
        ("lockfile", po::value<std::string>()->value_name("FILE"), "install exactly the package set in FILE (no resolving)")
        ("report", po::value<std::string>()->value_name("FILE"), "write a JSON report: phases with seconds, packages with size, output with sha256")
        ("print-includes", "print the kickstart and every file it %includes, one per line, and exit")
        ("no-loop", "install into a directory and make the image from it with mkfs -d, with no loop device and no mount of the image (what a build by a user always does)")
        ("tree-on-disk", "with --no-loop or as a user: install into the build directory on disk; by default the tree is held in memory when the image is at most half of the available memory");
    po::options_description logging("Debugging options");
    logging.add_options()
        ("debug,d", "print debug messages")
        ("verbose,v", "print progress messages (the default)")
        ("quiet,q", "print only errors and, at the end, the result's path")
        ("logfile", po::value<std::string>()->value_name("FILE"), "also write every message, at every level, to FILE")
        ("help,h", "show this help and exit");
    po::options_description all;
    if (appliance) all.add(disk_options(true));
    else all.add(image).add(disk_options(false));
    all.add(system).add(extra).add(logging);
    return all;
}

inline po::options_description hidden_options(bool appliance = false) {
    po::options_description hidden;
    if (!appliance) hidden.add_options()("name,n", po::value<std::string>(), "");
    hidden.add_options()
        ("skip-compression,s", "")
        ("skip-minimize", "")
        ("positional", po::value<std::vector<std::string>>(), "");
    return hidden;
}

// optparse's rules: an option given twice keeps its last value (only --repo and the
// arguments collect), and -n/--name is another spelling of -f/--fslabel.
inline void keep_last_occurrences(po::parsed_options& parsed, bool appliance = false) {
    auto& opts = parsed.options;
    for (auto& o : opts)
        if (o.string_key == "name" && !appliance) o.string_key = "fslabel";
    std::vector<po::option> kept;
    std::vector<std::string> seen;
    for (auto it = opts.rbegin(); it != opts.rend(); ++it) {
        const auto& key = it->string_key;
        const bool collects = key == "repo" || key == "positional" || key == "disk-size" || key.empty();
        if (!collects) {
            if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
            seen.push_back(key);
        }
        kept.push_back(*it);
    }
    opts.assign(kept.rbegin(), kept.rend());
}

inline std::string text(const po::variables_map& vm, const char* key) {
    return vm.count(key) ? vm[key].as<std::string>() : std::string();
}

// An absolute path without "." or a trailing slash ("." -> "/work", not "/work/.").
inline std::filesystem::path absolute_path(const std::string& path) {
    auto p = std::filesystem::absolute(path).lexically_normal();
    if (p.filename().empty() && p != p.root_path()) p = p.parent_path();
    return p;
}

inline std::optional<long long> source_date_epoch() {
    const char* sde = std::getenv("SOURCE_DATE_EPOCH");
    if (!sde || !*sde) return std::nullopt;
    try {
        std::size_t used = 0;
        long long v = std::stoll(sde, &used);
        if (used == std::string(sde).size()) return v;
    } catch (const std::exception&) {
    }
    throw UsageError(std::string("SOURCE_DATE_EPOCH='") + sde + "' is not a number of seconds");
}

// livecd-tools' rules, for every image type: a given label (-f, or -n, its other spelling) is
// the name too; otherwise the name is <type>-<stem>-<stamp> and the label the same cut to 32
// characters with <arch>-<stamp> as its suffix. A live ISO's given label must fit a CD; an
// image's is cut to 32 characters. Title and product default to the name's first two words.
inline void resolve_names(Options& o, const std::string& fslabel, std::time_t now) {
    auto& c = o.creator;
    if (!fslabel.empty()) {
        if (o.type == ImageType::livecd) {
            if (auto problem = fslabel_problem(fslabel)) throw UsageError(*problem);
        }
        c.name = fslabel;
        c.fslabel = fslabel.substr(0, fslabel_maxlen);
    } else {
        const std::string stamp = timestamp(now, c.source_date_epoch.has_value());
        // appliance-creator's default name has no type in front: <kickstart name>-<time>.
        const std::string prefix = o.type == ImageType::disk ? "" : std::string(to_string(o.type)) + "-";
        c.name = build_name(o.kickstart, prefix, stamp);
        c.fslabel = build_name(o.kickstart, prefix, machine() + "-" + stamp, fslabel_maxlen).substr(0, fslabel_maxlen);
        o.names_defaulted = true;
    }
    if (c.title.empty()) c.title = title_from(c.name);
    if (c.product.empty()) c.product = title_from(c.name);
}

// "4096", "4G", "vdb=512M": a disk and its size in MiB (sda when unnamed).
inline std::pair<std::string, std::uint64_t> disk_size(const std::string& text) {
    const auto eq = text.find('=');
    const std::string disk = eq == std::string::npos ? "sda" : text.substr(0, eq);
    std::string size = eq == std::string::npos ? text : text.substr(eq + 1);
    std::uint64_t factor = 1;
    if (!size.empty() && (size.back() == 'G' || size.back() == 'g')) factor = 1024, size.pop_back();
    else if (!size.empty() && (size.back() == 'M' || size.back() == 'm')) size.pop_back();
    std::size_t used = 0;
    unsigned long long mib = 0;
    try {
        mib = std::stoull(size, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (disk.empty() || used == 0 || used != size.size() || mib == 0)
        throw UsageError("--disk-size '" + text + "' is not [DISK=]SIZE, SIZE in MiB or with a G suffix (4G, vdb=512)");
    return {disk, mib * factor};
}

inline void disk_settings(Options& o, const po::variables_map& vm) {
    auto& c = o.creator;
    if (vm.count("format")) c.disk_format = text(vm, "format");
    if (c.disk_format != "raw" && c.disk_format != "qcow2" && c.disk_format != "vmdk" && c.disk_format != "vdi")
        throw UsageError("'" + c.disk_format + "' is not a disk format: use raw, qcow2, vmdk or vdi");
    if (vm.count("vmem")) c.vmem_mib = vm["vmem"].as<unsigned>();
    if (vm.count("vcpu")) c.vcpu = vm["vcpu"].as<unsigned>();
    if (c.vmem_mib == 0 || c.vcpu == 0) throw UsageError("--vmem and --vcpu must be more than 0");
    c.disk_checksum = vm.count("checksum") > 0;
    c.disk_compress = vm.count("no-compress") == 0;
    // appliance-creator delivers an appliance into OUTDIR/NAME/, as appliance-tools does.
    c.disk_name_directory = is_appliance_creator(o.program);
    if (vm.count("package")) {
        c.disk_package = text(vm, "package");
        const auto& p = c.disk_package;
        if (p != "none" && p != "zip" && p != "zip.64" && p != "tar" && p != "tar.gz" && p != "tar.bz2")
            throw UsageError("'" + c.disk_package + "' is not a package format: use none, zip, zip.64, tar, tar.gz or tar.bz2");
    }
    if (vm.count("include")) {
        c.disk_include = absolute_path(text(vm, "include"));
        if (!std::filesystem::exists(c.disk_include))
            throw UsageError("the file or directory to include, " + c.disk_include.string() + ", does not exist");
    }
    c.appliance_version = text(vm, "version");
    c.appliance_release = text(vm, "release");
    if (vm.count("disk-size"))
        for (const auto& d : vm["disk-size"].as<std::vector<std::string>>()) c.disk_size_mib.insert_or_assign(disk_size(d).first, disk_size(d).second);
}

}  // namespace detail

// The full --help text.
inline std::string help_text(const std::string& program) {
    std::ostringstream out;
    out << usage_line(program) << "\n\n"
        << "Builds a live ISO (livecd-creator), a filesystem image (image-creator), a partitioned disk\n"
        << "image (appliance-creator) or a directory tree from a kickstart file. Without root it builds in\n"
        << "a user namespace of its own.\n"
        << detail::visible_options(is_appliance_creator(program));
    return out.str();
}

// Parses argv; `now` is the time stamp for default names (SOURCE_DATE_EPOCH wins when set).
inline Options parse_options(int argc, const char* const* argv, std::time_t now = std::time(nullptr)) {
    namespace po = boost::program_options;
    Options o;
    o.program = argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "livecd-creator";
    o.type = type_from_program(o.program);
    const bool appliance = is_appliance_creator(o.program);
    po::options_description all;
    all.add(detail::visible_options(appliance)).add(detail::hidden_options(appliance));
    po::positional_options_description positional;
    positional.add("positional", -1);
    po::variables_map vm;
    try {
        auto parsed = po::command_line_parser(argc, argv).options(all).positional(positional).run();
        detail::keep_last_occurrences(parsed, appliance);
        po::store(parsed, vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(e.what());
    }
    if (vm.count("help")) {
        o.help = true;
        return o;
    }
    using detail::text;
    using detail::absolute_path;
    if (vm.count("image-type")) {
        const auto t = text(vm, "image-type");
        if (t == "livecd" || t == "live") o.type = ImageType::livecd;
        else if (t == "image") o.type = ImageType::image;
        else if (t == "fs") o.type = ImageType::fs;
        else if (t == "disk") o.type = ImageType::disk;
        else throw UsageError("'" + t + "' is not an image type: use livecd, image, fs or disk");
    }
    o.kickstart = text(vm, "config");
    if (vm.count("positional")) {
        const auto& args = vm["positional"].as<std::vector<std::string>>();
        if (args.size() > 1 || !o.kickstart.empty())
            throw UsageError("unexpected argument '" + args.back() + "': give one kickstart, with -c or alone");
        o.kickstart = args.front();
    }
    if (o.kickstart.empty()) throw UsageError("a kickstart file is required: -c/--config KICKSTART");

    auto& c = o.creator;
    c.source_date_epoch = detail::source_date_epoch();
    if (c.source_date_epoch) now = static_cast<std::time_t>(*c.source_date_epoch);
    c.title = text(vm, "title");
    c.product = text(vm, "product");
    detail::resolve_names(o, text(vm, appliance ? "name" : "fslabel"), now);
    detail::disk_settings(o, vm);
    c.releasever = text(vm, "releasever");
    // appliance-creator's --version is also the release $releasever stands for, as appliance-tools takes it.
    if (appliance && c.releasever.empty()) c.releasever = c.appliance_version;
    c.syslinux = vm.count("syslinux") > 0;
    c.nomacboot = vm.count("nomacboot") > 0;
    c.flat_squashfs = vm.count("flat-squashfs") > 0;
    c.compression = text(vm, "compression-type");
    // livecd-tools' None: the compressor of the --base-on ISO, read when the build mounts it.
    if (c.compression == "None" || c.compression == "none") c.compression = stage::compression_from_base;
    c.skip_compression = vm.count("skip-compression") > 0;
    c.skip_minimize = vm.count("skip-minimize") > 0;
    c.dracut_conf_args = text(vm, "dracut-conf-args");
    if (vm.count("base-on")) {
        c.base_on = absolute_path(text(vm, "base-on"));
        if (!std::filesystem::is_regular_file(c.base_on))
            throw UsageError("the image to base on, " + c.base_on.string() + ", is not a file");
    }
    if (c.compression == stage::compression_from_base && o.type == ImageType::livecd && c.base_on.empty())
        throw UsageError("--compression-type None takes the compressor of the --base-on ISO, and there is no --base-on: "
                         "give one, or name a compressor (xz, zstd, lz4, gzip, lzo)");
    if (vm.count("repo")) {
        for (const auto& r : vm["repo"].as<std::vector<std::string>>()) c.repo_files.push_back(absolute_path(r));
        o.repos_from_command_line = true;
    }
    if (vm.count("pkgverify-level")) {
        c.pkgverify_level = text(vm, "pkgverify-level");
        if (c.pkgverify_level != "all" && c.pkgverify_level != "signature" && c.pkgverify_level != "digest" &&
            c.pkgverify_level != "none")
            throw UsageError("'" + c.pkgverify_level + "' is not a verification level: use all, signature, digest or none");
        o.pkgverify_given = true;
    }
    c.tmpdir = absolute_path(text(vm, "tmpdir"));
    c.outdir = absolute_path(text(vm, appliance ? "outdir" : "output"));
    if (vm.count("cache")) c.cache_dir = absolute_path(text(vm, "cache"));
    c.cacheonly = vm.count("cacheonly") > 0;
    c.nocleanup = vm.count("nocleanup") > 0;
    c.tree_on_disk = vm.count("tree-on-disk") > 0;
    if (vm.count("lockfile")) c.lockfile = absolute_path(text(vm, "lockfile"));
    if (vm.count("lockfile-out")) c.lockfile_out = absolute_path(text(vm, "lockfile-out"));
    if (!c.lockfile.empty() && !c.lockfile_out.empty())
        throw UsageError("--lockfile and --lockfile-out exclude each other: a locked build does not resolve");
    if (vm.count("report")) o.report = absolute_path(text(vm, "report"));
    o.print_includes = vm.count("print-includes") > 0;
    o.no_loop = vm.count("no-loop") > 0;
    o.shell = vm.count("shell") > 0;
    o.plugins = vm.count("plugins") > 0;
    o.debug = vm.count("debug") > 0;
    o.verbose = vm.count("verbose") > 0;
    o.quiet = vm.count("quiet") > 0;
    o.logfile = text(vm, "logfile");
    return o;
}

}  // namespace imgcreate::frontend

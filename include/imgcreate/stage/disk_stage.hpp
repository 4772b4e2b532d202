// imgcreate — DiskStage: the disks of the kickstart's layout, as appliance-creator delivers them.
//
//   1. every disk assembled from the installed tree, with no loop device (disk/assemble.hpp)
//   2. GRUB's BIOS boot code written into the boot disk, when DiskBoot left it (disk/bios_boot.hpp)
//   3. each disk converted with qemu-img to --format qcow2 (compressed unless --no-compress; in
//      parallel, -W, unless SOURCE_DATE_EPOCH asks for the same bytes every time), vmdk
//      or vdi; raw stays a sparse <name>-<disk>.raw
//   4. a <image>.sha256 beside each with --checksum, and <name>.xml, appliance-creator's
//      virt-image description of the machine (--vmem, --vcpu, the disks)
//   5. what disk_include names copied beside them (appliance-creator -i)
//   6. everything moved into the output directory (into <outdir>/<name>/ with disk_name_directory,
//      appliance-creator's form), each file whole, and all of them or none; or, with disk_package
//      (appliance-creator -p), one archive <outdir>/<name>.zip or .tar[.gz|.bz2] holding them
//      under <name>/
#pragma once

#include <imgcreate/boot/disk_boot.hpp>
#include <imgcreate/concepts.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/disk/assemble.hpp>
#include <imgcreate/disk/bios_boot.hpp>
#include <imgcreate/disk/build_layout.hpp>
#include <imgcreate/stage/publish.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>
#include <imgcreate/support/side_by_side.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace imgcreate {

namespace stage {

inline std::string disk_extension(const std::string& format) { return format; }

// Where the disks and <name>.xml are delivered: the output directory, or with
// disk_name_directory a directory <name> in it, as appliance-creator delivers an appliance.
inline std::filesystem::path disk_delivery_dir(const BuildContext& ctx) {
    return ctx.options.disk_name_directory ? ctx.options.outdir / ctx.options.name : ctx.options.outdir;
}

inline std::string disk_output_name(const BuildContext& ctx, const disk::Disk& d) {
    return ctx.options.name + "-" + d.name + "." + disk_extension(ctx.options.disk_format);
}

// appliance-creator -p: the archive's extension for a package format, "" for none.
inline std::string disk_package_extension(const std::string& package) {
    if (package == "zip" || package == "zip.64") return ".zip";
    if (package == "tar" || package == "tar.gz" || package == "tar.bz2") return "." + package;
    return {};
}

// appliance-creator -i: the file itself, or every entry of the directory, in name order.
inline std::vector<std::filesystem::path> disk_included(const BuildContext& ctx) {
    namespace fs = std::filesystem;
    std::vector<fs::path> out;
    const auto& include = ctx.options.disk_include;
    if (include.empty()) return out;
    if (!fs::is_directory(include)) return {include};
    for (const auto& e : fs::directory_iterator(include)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

// A disk's checksums for <name>.xml, as appliance-creator records them.
struct DiskChecksums {
    std::string sha1, sha256;
};

// appliance-creator's <name>.xml: the machine and its disks in virt-image's format, as
// appliance-tools writes it: the version and release on <name>, one <interface/> per kickstart
// network line, every disk use='system' (the boot disk first), and with --checksum each disk's
// sha1 and sha256.
inline std::string virt_image_xml(const BuildContext& ctx, const disk::Layout& layout,
                                  const std::vector<DiskChecksums>& checksums = {}) {
    const auto& o = ctx.options;
    std::string name_attributes;
    if (!o.appliance_version.empty()) name_attributes += " version='" + o.appliance_version + "'";
    if (!o.appliance_release.empty()) name_attributes += " release='" + o.appliance_release + "'";
    std::string xml = "<image>\n  <name" + name_attributes + ">" + o.name + "</name>\n  <domain>\n    <boot type='hvm'>\n"
                      "      <guest>\n        <arch>x86_64</arch>\n      </guest>\n"
                      "      <os>\n        <loader dev='hd'/>\n      </os>\n";
    char target = 'a';
    for (const auto& d : layout.disks)
        xml += "      <drive disk='" + disk_output_name(ctx, d) + "' target='hd" + std::string(1, target++) + "'/>\n";
    xml += "    </boot>\n    <devices>\n      <vcpu>" + std::to_string(o.vcpu) + "</vcpu>\n      <memory>" +
           std::to_string(static_cast<unsigned long long>(o.vmem_mib) * 1024) + "</memory>\n";
    if (ctx.kickstart)
        for (std::size_t i = 0; i < ctx.kickstart->network.size(); ++i) xml += "      <interface/>\n";
    xml += "      <graphics/>\n    </devices>\n  </domain>\n  <storage>\n";
    for (std::size_t i = 0; i < layout.disks.size(); ++i) {
        xml += "    <disk file='" + disk_output_name(ctx, layout.disks[i]) + "' use='system' format='" + o.disk_format + "'";
        if (i >= checksums.size()) {
            xml += "/>\n";
            continue;
        }
        xml += ">\n      <checksum type='sha1'>" + checksums[i].sha1 + "</checksum>\n"
               "      <checksum type='sha256'>" + checksums[i].sha256 + "</checksum>\n    </disk>\n";
    }
    xml += "  </storage>\n</image>\n";
    return xml;
}

}  // namespace stage

class DiskStage {
public:
    std::filesystem::path package(BuildContext& ctx) {
        namespace fs = std::filesystem;
        const auto layout = disk::build_layout_for_tree(ctx, ctx.install_root);
        const auto work = ctx.build_dir / "disks";
        fs::create_directories(work);
        const auto raws = disk::assemble_disks(layout, ctx.install_root, work, ctx.build_dir / "filesystems",
                                               ctx.options.name, ctx.options.source_date_epoch);
        const auto bios = boot::disk_bios_boot_dir(ctx);
        if (fs::is_regular_file(bios / "core.img"))
            disk::install_bios_boot(raws.front(), layout.disks.front(), bios / "boot.img", bios / "core.img");

        std::vector<fs::path> built;
        std::vector<stage::DiskChecksums> checksums;
        for (std::size_t i = 0; i < raws.size(); ++i) {
            const auto out = work / stage::disk_output_name(ctx, layout.disks[i]);
            if (ctx.options.disk_format != "raw") convert(ctx, raws[i], out);
            built.push_back(out);
            if (ctx.options.disk_checksum) {
                checksums.push_back(write_checksums(out));
                built.push_back(out.string() + ".sha256");
            }
        }
        std::ofstream(work / (ctx.options.name + ".xml")) << stage::virt_image_xml(ctx, layout, checksums);
        built.push_back(work / (ctx.options.name + ".xml"));
        for (const auto& include : stage::disk_included(ctx)) {
            // links followed, as appliance-creator copies what it includes
            const auto to = work / include.filename();
            fs::copy(include, to, fs::copy_options::recursive);
            built.push_back(to);
        }
        if (const auto ext = stage::disk_package_extension(ctx.options.disk_package); !ext.empty())
            return stage::publish(archive(ctx, built, ext), ctx.options.outdir, ctx.options.name + ext);
        return publish_all(built, stage::disk_delivery_dir(ctx));
    }

    // Refused before the build when one already exists.
    std::vector<std::filesystem::path> outputs(const BuildContext& ctx) const {
        std::vector<std::filesystem::path> out;
        if (const auto ext = stage::disk_package_extension(ctx.options.disk_package); !ext.empty())
            return {ctx.options.outdir / (ctx.options.name + ext)};
        const auto dir = stage::disk_delivery_dir(ctx);
        for (const auto& include : stage::disk_included(ctx)) out.push_back(dir / include.filename());
        for (const auto& d : disk::plan_build_layout(ctx).disks) {
            out.push_back(dir / stage::disk_output_name(ctx, d));
            if (ctx.options.disk_checksum) out.push_back(dir / (stage::disk_output_name(ctx, d) + ".sha256"));
        }
        out.push_back(dir / (ctx.options.name + ".xml"));
        return out;
    }

    void check(const BuildContext& ctx) const {
        const auto& f = ctx.options.disk_format;
        if (f != "raw" && f != "qcow2" && f != "vmdk" && f != "vdi")
            throw ConfigError("disk format '" + f + "' is not one appliance-creator makes: use raw, qcow2, vmdk or vdi");
        const auto& package = ctx.options.disk_package;
        if (package != "none" && stage::disk_package_extension(package).empty())
            throw ConfigError("package format '" + package + "' is not one appliance-creator makes: use none, zip, zip.64, "
                              "tar, tar.gz or tar.bz2");
        const auto dir = stage::disk_delivery_dir(ctx);
        std::error_code ec;
        if (ctx.options.disk_name_directory && package == "none" && std::filesystem::exists(dir, ec) &&
            !std::filesystem::is_directory(dir, ec))
            throw OutputExistsError(dir);
        const auto& include = ctx.options.disk_include;
        if (include.empty()) return;
        if (!std::filesystem::exists(include, ec))
            throw ConfigError("the file or directory to include with the disks, " + include.string() + ", does not exist");
        // It is copied with its links followed, after the build: a link to nothing is refused now.
        if (std::filesystem::is_directory(include, ec))
            for (auto it = std::filesystem::recursive_directory_iterator(include, ec);
                 !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
                if (it->is_symlink(ec) && !std::filesystem::exists(it->path(), ec))
                    throw ConfigError("the included " + it->path().string() + " is a link to " +
                                      std::filesystem::read_symlink(it->path(), ec).string() +
                                      ", which does not exist: remove it, or make what it names");
        // What is included goes beside the disks: it may not take the place of one of them.
        std::set<std::string> made;
        for (const auto& d : disk::plan_build_layout(ctx).disks) {
            made.insert(stage::disk_output_name(ctx, d));
            made.insert(stage::disk_output_name(ctx, d) + ".sha256");
        }
        made.insert(ctx.options.name + ".xml");
        for (const auto& i : stage::disk_included(ctx))
            if (made.count(i.filename().string()))
                throw ConfigError("the included " + i.string() + " has the name of a file the build delivers (" +
                                  i.filename().string() + "): rename it, or build under another name");
    }

    RequiredPrograms required_programs(const BuildContext& ctx) const {
        RequiredPrograms programs{{"sfdisk", "fdisk"}};
        if (ctx.options.disk_format != "raw") programs.push_back({"qemu-img", "qemu-utils"});
        if (ctx.options.disk_checksum) {
            programs.push_back({"sha256sum", "coreutils"});
            programs.push_back({"sha1sum", "coreutils"});
        }
        const auto& package = ctx.options.disk_package;
        if (package.starts_with("zip")) programs.push_back({"zip", "zip"});
        if (package.starts_with("tar")) programs.push_back({"tar", "tar"});
        if (package == "tar.gz") programs.push_back({"gzip", "gzip"});
        if (package == "tar.bz2") programs.push_back({"bzip2", "bzip2"});
        return programs;
    }

private:
    // The outputs appear together or not at all: when one cannot be published (it exists, the
    // build is interrupted), those already moved into place are taken back, and the directories
    // made for them removed.
    static std::filesystem::path publish_all(const std::vector<std::filesystem::path>& built,
                                             const std::filesystem::path& outdir) {
        namespace fs = std::filesystem;
        std::error_code ec;
        fs::path made;  // the outermost directory of outdir that did not exist
        for (fs::path p = outdir; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
            made = p;
            if (p == p.parent_path()) break;
        }
        std::vector<fs::path> published;
        try {
            for (const auto& b : built) published.push_back(stage::publish(b, outdir, b.filename().string()));
        } catch (...) {
            std::string taken;
            for (const auto& p : published)
                if (fs::remove(p, ec)) taken += (taken.empty() ? "" : ", ") + p.filename().string();
            // Only the directories this build made, and only when empty: nothing else is in them.
            fs::path removed;
            if (!made.empty())
                for (fs::path p = outdir;; p = p.parent_path()) {
                    if (!fs::remove(p, ec)) break;
                    removed = p;
                    if (p == made) break;
                }
            if (!taken.empty() || !removed.empty())
                log::info("the appliance was not delivered: ", taken.empty() ? "" : "took back " + taken,
                          !taken.empty() && !removed.empty() ? ", " : "",
                          removed.empty() ? "" : "removed " + removed.string() + ", which the build had made");
            throw;
        }
        // The first is the build's output (the creator says it wrote it); the others are said here.
        for (std::size_t i = 1; i < published.size(); ++i) log::info("wrote ", published[i].string());
        return published.front();
    }

    // appliance-creator -p: everything built under <name>/ in one archive, in name order, owned by
    // root; a tar keeps the raw disks sparse. Under SOURCE_DATE_EPOCH every time stamp is the
    // epoch and the archive is the same bytes every time.
    static std::filesystem::path archive(const BuildContext& ctx, const std::vector<std::filesystem::path>& built,
                                         const std::string& ext) {
        namespace fs = std::filesystem;
        const auto& o = ctx.options;
        const auto staging = ctx.build_dir / "package";
        const auto top = staging / o.name;
        fs::create_directories(top);
        for (const auto& b : built) fs::rename(b, top / b.filename());
        const auto out = ctx.build_dir / (o.name + ext);
        Command c;
        c.cwd = staging;
        if (ext == ".zip") {
            std::vector<std::string> files;
            bool big = false;
            for (const auto& e : fs::recursive_directory_iterator(top)) {
                if (o.source_date_epoch)
                    fs::last_write_time(e.path(), fs::file_time_type::clock::from_sys(std::chrono::sys_seconds(
                                                      std::chrono::seconds(*o.source_date_epoch))));
                if (!e.is_regular_file()) continue;
                files.push_back(fs::relative(e.path(), staging).string());
                big = big || e.file_size() >= (std::uint64_t{1} << 32) - 1;
            }
            std::sort(files.begin(), files.end());
            if (big && o.disk_package == "zip")
                log::warning("-p zip: a file is 4 GiB or more, so ", out.filename().string(),
                          " has ZIP64 extensions, as with -p zip.64 (an unzip from before 2008 cannot read it)");
            // files only, named <name>/..., no extra attributes: the same archive from root and a user
            c.argv = {require_program("zip", "zip").string(), "-q", "-X", "-D", out.string(), "-@"};
            std::string list;
            for (const auto& f : files) list += f + "\n";
            c.input = list;
        } else {
            c.argv = {require_program("tar", "tar").string(), "--create", "--file", out.string(), "--format=gnu", "--sparse",
                      "--sort=name", "--owner=0", "--group=0", "--numeric-owner"};
            if (o.source_date_epoch) c.argv.push_back("--mtime=@" + std::to_string(*o.source_date_epoch));
            if (ext == ".tar.gz") c.argv.push_back("--use-compress-program=gzip -n");
            if (ext == ".tar.bz2") c.argv.push_back("--bzip2");
            c.argv.push_back(o.name);
        }
        log::info("packing ", o.name, "/ into ", out.filename().string());
        run(c);
        fs::remove_all(staging);
        return out;
    }

    static void convert(const BuildContext& ctx, const std::filesystem::path& raw, const std::filesystem::path& out) {
        std::vector<std::string> argv = {require_program("qemu-img", "qemu-utils").string(), "convert", "-f", "raw", "-O",
                                         ctx.options.disk_format};
        if (ctx.options.disk_format == "qcow2" && ctx.options.disk_compress) {
            argv.push_back("-c");
            // Clusters compressed on every core and written as they come: about twice as fast on two
            // cores, the same disk, but the file's layout differs run to run, so not for reproducible
            // builds.
            if (!ctx.options.source_date_epoch) argv.push_back("-W");
        }
        argv.insert(argv.end(), {raw.string(), out.string()});
        run(argv);
        std::filesystem::remove(raw);
        log::info("converted ", raw.filename().string(), " to ", out.filename().string());
    }

    // <image>.sha256 beside the image (sha256sum's line), and its sha1 and sha256 for <name>.xml:
    // both read the image at once.
    static stage::DiskChecksums write_checksums(const std::filesystem::path& image) {
        auto sum = [&](const char* program) {
            Command c;
            c.argv = {require_program(program, "coreutils").string(), image.filename().string()};
            c.cwd = image.parent_path();
            c.log_output = false;
            return c;
        };
        std::string sha1, sha256;
        run_side_by_side({[&] { sha1 = run(sum("sha1sum")).output; }, [&] { sha256 = run(sum("sha256sum")).output; }}, 2);
        std::ofstream(image.string() + ".sha256") << sha256;
        return {sha1.substr(0, sha1.find(' ')), sha256.substr(0, sha256.find(' '))};
    }
};

}  // namespace imgcreate

// The frontends' command line, livecd-tools' naming rules and the JSON report, without root.
#include <catch2/catch.hpp>

#include <imgcreate/frontend/options.hpp>
#include <imgcreate/frontend/report.hpp>
#include <imgcreate/stage/squashfs.hpp>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ctime>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

using namespace imgcreate::frontend;

namespace {

// 2026-11-22 01:20 UTC
constexpr std::time_t noon = 1795310400;

Options parse(std::initializer_list<const char*> args) {
    ::unsetenv("SOURCE_DATE_EPOCH");
    std::vector<const char*> argv(args);
    return parse_options(static_cast<int>(argv.size()), argv.data(), noon);
}

std::string usage_error(std::initializer_list<const char*> args) {
    try {
        parse(args);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "no usage error";
}

}  // namespace

TEST_CASE("the image type follows the program's name unless --image-type says otherwise") {
    CHECK(parse({"livecd-creator", "a.ks"}).type == ImageType::livecd);
    CHECK(parse({"/usr/bin/image-creator", "a.ks"}).type == ImageType::image);
    CHECK(parse({"image-creator", "--image-type", "fs", "a.ks"}).type == ImageType::fs);
    CHECK(parse({"image-creator", "--image-type", "livecd", "a.ks"}).type == ImageType::livecd);
    CHECK(usage_error({"livecd-creator", "--image-type", "vhd", "a.ks"}) ==
          "'vhd' is not an image type: use livecd, image, fs or disk");
    CHECK(parse({"livecd-creator", "--image-type", "disk", "a.ks"}).type == ImageType::disk);
    CHECK(parse({"/usr/local/bin/appliance-creator", "a.ks"}).type == ImageType::disk);
}

TEST_CASE("the kickstart comes from -c, --config or the one positional argument") {
    CHECK(parse({"livecd-creator", "-c", "x.ks"}).kickstart == "x.ks");
    CHECK(parse({"livecd-creator", "--config=y.ks"}).kickstart == "y.ks");
    CHECK(parse({"livecd-creator", "z.ks"}).kickstart == "z.ks");
    CHECK(usage_error({"livecd-creator"}) == "a kickstart file is required: -c/--config KICKSTART");
    CHECK(usage_error({"livecd-creator", "a.ks", "b.ks"}) ==
          "unexpected argument 'b.ks': give one kickstart, with -c or alone");
    CHECK(usage_error({"livecd-creator", "-c", "a.ks", "b.ks"}) ==
          "unexpected argument 'b.ks': give one kickstart, with -c or alone");
    CHECK(usage_error({"livecd-creator", "--no-such-option", "a.ks"}) == "unrecognised option '--no-such-option'");
}

TEST_CASE("a live ISO without a label is named livecd-<kickstart>-<time> and labelled within 32 characters") {
    const auto o = parse({"livecd-creator", "/ks/fedora-live-workstation.ks"});
    const std::string stamp = timestamp(noon, false);
    CHECK(o.creator.name == "livecd-fedora-live-workstation-" + stamp);
    const std::string suffix = machine() + "-" + stamp;
    // As upstream: the cut may leave a dash at the end of the kickstart part.
    CHECK(o.creator.fslabel == std::string("fedora-live-workstation").substr(0, 32 - suffix.size() - 1) + "-" + suffix);
    CHECK(o.creator.fslabel.size() <= 32);
    CHECK(o.creator.title == "Livecd Fedora");
    CHECK(o.creator.product == "Livecd Fedora");
}

TEST_CASE("build_name drops the prefix first, then shortens the kickstart part, never the suffix") {
    CHECK(build_name("a/livecd-demo.ks", "livecd-", "202611220120") == "livecd-demo-202611220120");
    CHECK(build_name("demo.ks", "livecd-", "x86_64-202611220120", 32) == "livecd-demo-x86_64-202611220120");
    CHECK(build_name("demo-longer.ks", "livecd-", "x86_64-202611220120", 32) == "demo-longer-x86_64-202611220120");
    CHECK(build_name("fedora-live-kde.ks", "livecd-", "x86_64-202611220120", 32) == "fedora-live--x86_64-202611220120");
    CHECK(build_name("no-extension", "", "1") == "no-extension-1");
}

TEST_CASE("a given label is the live ISO's name too, and must fit a CD") {
    auto o = parse({"livecd-creator", "-f", "Fedora-WS-Live-41", "a.ks"});
    CHECK(o.creator.name == "Fedora-WS-Live-41");
    CHECK(o.creator.fslabel == "Fedora-WS-Live-41");
    CHECK(o.creator.title == "Fedora Ws");
    CHECK(parse({"livecd-creator", "-n", "Other", "a.ks"}).creator.fslabel == "Other");
    CHECK(usage_error({"livecd-creator", "-f", "has space", "a.ks"}) == "the label 'has space' contains a space; CD labels cannot");
    CHECK(usage_error({"livecd-creator", "-f", "123456789012345678901234567890123", "a.ks"}) ==
          "the label '123456789012345678901234567890123' has 33 characters; a CD label has at most 32");
}

TEST_CASE("image-creator names an image image-<kickstart>-<time> and a tree fs-<kickstart>-<time>, as livecd-tools does") {
    const std::string stamp = timestamp(noon, false);
    const std::string suffix = machine() + "-" + stamp;
    auto o = parse({"image-creator", "/ks/small-image.ks"});
    CHECK(o.names_defaulted);
    CHECK(o.creator.name == "image-small-image-" + stamp);
    // image-small-image-<arch>-<stamp> is over 32: the prefix goes, then the kickstart part is cut.
    CHECK(o.creator.fslabel == std::string("small-image").substr(0, 32 - suffix.size() - 1) + "-" + suffix);
    CHECK(o.creator.title == "Image Small");
    o = parse({"image-creator", "image-disk.ks"});
    CHECK(o.creator.name == "image-disk-" + stamp);
    CHECK(o.creator.fslabel == "image-disk-" + suffix);
    o = parse({"image-creator", "--image-type", "fs", "tree.ks"});
    CHECK(o.creator.name == "fs-tree-" + stamp);
    CHECK(o.creator.fslabel == "fs-tree-" + suffix);
}

TEST_CASE("with x86_64 and a fixed time the default names are exactly livecd-tools' names") {
    ::setenv("SOURCE_DATE_EPOCH", "1795310400", 1);  // 2026-11-22 01:20 UTC
    auto names = [](const char* program, const char* ks) {
        std::vector<const char*> argv{program, ks};
        const auto o = parse_options(2, argv.data());
        return o.creator.name + " " + o.creator.fslabel;
    };
    if (machine() == "x86_64") {
        CHECK(names("livecd-creator", "fedora-live-workstation.ks") ==
              "livecd-fedora-live-workstation-202611220120 fedora-live--x86_64-202611220120");
        CHECK(names("livecd-creator", "livecd-demo.ks") == "livecd-demo-202611220120 livecd-demo-x86_64-202611220120");
        CHECK(names("image-creator", "small-image.ks") == "image-small-image-202611220120 small-image-x86_64-202611220120");
        CHECK(names("image-creator", "/a/b.c/disk.ks") == "image-disk-202611220120 image-disk-x86_64-202611220120");
        CHECK(names("image-creator", "no-dot") == "image-no-dot-202611220120 image-no-dot-x86_64-202611220120");
    }
    ::unsetenv("SOURCE_DATE_EPOCH");
}

TEST_CASE("the option -n is another spelling of -f: a given label is the name of every image type, and the last one given wins") {
    auto o = parse({"image-creator", "-f", "Demo-Image-Label", "small-image.ks"});
    CHECK_FALSE(o.names_defaulted);
    CHECK(o.creator.name == "Demo-Image-Label");
    CHECK(o.creator.fslabel == "Demo-Image-Label");
    CHECK(o.creator.title == "Demo Image");
    o = parse({"image-creator", "--name", "disk", "small-image.ks"});
    CHECK(o.creator.name == "disk");
    CHECK(o.creator.fslabel == "disk");
    CHECK(parse({"livecd-creator", "-f", "First", "-n", "Second", "a.ks"}).creator.name == "Second");
    CHECK(parse({"livecd-creator", "-n", "Second", "--fslabel=Third", "a.ks"}).creator.fslabel == "Third");
    CHECK(parse({"image-creator", "--image-type", "fs", "-n", "tree", "a.ks"}).creator.name == "tree");
    // An image's label is cut to 32 characters, silently; its name is not. Spaces are allowed.
    o = parse({"image-creator", "-f", "a label with spaces, longer than 32", "a.ks"});
    CHECK(o.creator.name == "a label with spaces, longer than 32");
    CHECK(o.creator.fslabel == "a label with spaces, longer than");
    // A live ISO's label is checked whichever spelling gave it.
    CHECK(usage_error({"livecd-creator", "-n", "has space", "a.ks"}) == "the label 'has space' contains a space; CD labels cannot");
}

TEST_CASE("an option given twice keeps its last value, as optparse does, while --repo collects") {
    auto o = parse({"livecd-creator", "--title", "One", "--title", "Two", "-t", "/a", "-t", "/b", "-d", "-d", "--repo",
                    "/r/1.repo", "--repo", "/r/2.repo", "a.ks"});
    CHECK(o.creator.title == "Two");
    CHECK(o.creator.tmpdir == "/b");
    CHECK(o.debug);
    CHECK(o.creator.repo_files == std::vector<std::filesystem::path>{"/r/1.repo", "/r/2.repo"});
}

TEST_CASE("build_name cuts the kickstart part with Python's slice, negative counts included") {
    // maxlen 9, suffix 10: name[:9 - 10 - 1] is name[:-2].
    CHECK(build_name("abcdef.ks", "p-", "0123456789", 9) == "abcd-0123456789");
    CHECK(build_name("abcdef.ks", "p-", "0123456789", 5) == "-0123456789");
    CHECK(build_name("abcdef.ks", "p-", "0123456789", 11) == "-0123456789");
    CHECK(build_name("abcdef.ks", "p-", "0123456789", 13) == "ab-0123456789");
    CHECK(build_name("p-abcdef.ks", "p-", "0123456789") == "p-abcdef-0123456789");
}

TEST_CASE("compression type None takes the base's compressor and needs --base-on for a live ISO") {
    CHECK(usage_error({"livecd-creator", "--compression-type", "None", "a.ks"}) ==
          "--compression-type None takes the compressor of the --base-on ISO, and there is no --base-on: give one, or "
          "name a compressor (xz, zstd, lz4, gzip, lzo)");
    const auto base = std::filesystem::temp_directory_path() / ("imgcreate-base-" + std::to_string(::getpid()) + ".iso");
    std::ofstream(base) << "x";
    auto o = parse({"livecd-creator", "-b", base.c_str(), "--compression-type", "None", "a.ks"});
    CHECK(o.creator.compression == "None");
    CHECK_FALSE(o.creator.skip_compression);
    CHECK(parse({"livecd-creator", "-b", base.c_str(), "--compression-type", "none", "a.ks"}).creator.compression == "None");
    std::filesystem::remove(base);
    // Images are not squashed: the setting does not matter there.
    CHECK(parse({"image-creator", "--compression-type", "None", "a.ks"}).creator.compression == "None");
}

TEST_CASE("mksquashfs gets xz1m spelled out, and its progress bar only when asked") {
    imgcreate::stage::SquashfsOptions options;
    options.compression = "xz1m";
    options.processors = 1;
    CHECK(imgcreate::stage::mksquashfs_argv("/t", "/s", options) ==
          std::vector<std::string>{"mksquashfs", "/t", "/s", "-noappend", "-no-progress", "-comp", "xz", "-b", "1M",
                                   "-Xdict-size", "1M", "-no-recovery", "-processors", "1", "-mem", "64M"});
    options.compression = "lz4";
    options.progress = true;
    CHECK(imgcreate::stage::mksquashfs_argv("/t", "/s", options) ==
          std::vector<std::string>{"mksquashfs", "/t", "/s", "-noappend", "-comp", "lz4", "-processors", "1", "-mem", "64M"});
    options.compression = "None";
    CHECK_THROWS_WITH(imgcreate::stage::mksquashfs_argv("/t", "/s", options),
                      "--compression-type None was not resolved: it takes the compressor of a --base-on live ISO, and "
                      "this build has none");
}

TEST_CASE("a redraw of mksquashfs's bar becomes a status line in the rpm progress's look") {
    using imgcreate::stage::parse_mksquashfs_progress;
    const auto p = parse_mksquashfs_progress("[==========\\                                    ] 100/600  16%");
    REQUIRE(p);
    CHECK(p->done == 100);
    CHECK(p->total == 600);
    CHECK(p->percent == 16);
    CHECK(imgcreate::stage::squash_status(*p, "/b/iso/LiveOS/squashfs.img") == "[100/600] squashing squashfs.img 16%");
    CHECK_FALSE(parse_mksquashfs_progress("Creating 4.0 filesystem on a.img, block size 131072."));
    CHECK_FALSE(parse_mksquashfs_progress("[===] 1/2"));
    CHECK_FALSE(parse_mksquashfs_progress(""));
}

TEST_CASE("SOURCE_DATE_EPOCH fixes the default name's time stamp, in UTC") {
    ::setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    std::vector<const char*> argv{"livecd-creator", "demo.ks"};
    auto o = parse_options(2, argv.data(), noon);
    ::unsetenv("SOURCE_DATE_EPOCH");
    CHECK(o.creator.name == "livecd-demo-202311142213");
    CHECK(o.creator.source_date_epoch == 1700000000);
    ::setenv("SOURCE_DATE_EPOCH", "soon", 1);
    CHECK_THROWS_WITH(parse_options(2, argv.data(), noon), "SOURCE_DATE_EPOCH='soon' is not a number of seconds");
    ::unsetenv("SOURCE_DATE_EPOCH");
}

TEST_CASE("every livecd-creator option reaches the creator options with upstream's defaults") {
    auto d = parse({"livecd-creator", "a.ks"});
    CHECK(d.creator.tmpdir == "/var/tmp");
    CHECK(d.creator.outdir == std::filesystem::current_path());
    CHECK(d.creator.compression == "xz");
    CHECK_FALSE(d.creator.skip_compression);
    auto o = parse({"livecd-creator", "--title", "T", "--product", "P", "--releasever", "41", "--syslinux", "--nomacboot",
                    "--flat-squashfs", "--compression-type", "zstd", "--dracut-conf-args", "+hostonly=no", "-p",
                    "--repo", "/r/a.repo", "--repo", "/r/b", "--pkgverify-level", "digest", "-t", "/scratch", "-o",
                    "/out", "--cache", "/c", "--cacheonly", "-l", "--nocleanup", "-s", "--skip-minimize", "-d", "-v",
                    "--logfile", "/l.log", "--lockfile-out", "/lock", "--report", "/r.json", "a.ks"});
    const auto& c = o.creator;
    CHECK(c.title == "T");
    CHECK(c.product == "P");
    CHECK(c.releasever == "41");
    CHECK(c.syslinux);
    CHECK(c.nomacboot);
    CHECK(c.flat_squashfs);
    CHECK(c.compression == "zstd");
    CHECK(c.dracut_conf_args == "+hostonly=no");
    CHECK(o.plugins);
    CHECK(c.repo_files == std::vector<std::filesystem::path>{"/r/a.repo", "/r/b"});
    CHECK(o.repos_from_command_line);
    CHECK(c.pkgverify_level == "digest");
    CHECK(c.tmpdir == "/scratch");
    CHECK(c.outdir == "/out");
    CHECK(c.cache_dir == "/c");
    CHECK(c.cacheonly);
    CHECK(o.shell);
    CHECK(c.nocleanup);
    CHECK(c.skip_compression);
    CHECK(c.skip_minimize);
    CHECK(o.debug);
    CHECK(o.verbose);
    CHECK(o.logfile == "/l.log");
    CHECK(c.lockfile_out == "/lock");
    CHECK(o.report == "/r.json");
    CHECK(usage_error({"livecd-creator", "--pkgverify-level", "some", "a.ks"}) ==
          "'some' is not a verification level: use all, signature, digest or none");
    CHECK(usage_error({"livecd-creator", "--lockfile", "a", "--lockfile-out", "b", "a.ks"}) ==
          "--lockfile and --lockfile-out exclude each other: a locked build does not resolve");
    CHECK(usage_error({"livecd-creator", "-b", "/no/such.iso", "a.ks"}) ==
          "the image to base on, /no/such.iso, is not a file");
}

TEST_CASE("the help lists the upstream options but not the hidden ones") {
    const auto help = help_text("livecd-creator");
    CHECK(help.rfind("usage: livecd-creator [options] -c KICKSTART | livecd-creator [options] KICKSTART\n", 0) == 0);
    for (const char* opt : {"--config", "--base-on", "--fslabel", "--title", "--product", "--releasever", "--syslinux",
                            "--nomacboot", "--flat-squashfs", "--compression-type", "--dracut-conf-args", "--plugins",
                            "--repo", "--pkgverify-level", "--tmpdir", "--output", "--cache", "--cacheonly", "--shell",
                            "--nocleanup", "--debug", "--verbose", "--quiet", "--logfile", "--lockfile", "--report"})
        CHECK(help.find(opt) != std::string::npos);
    CHECK(help.find("--skip-compression") == std::string::npos);
    // What --nomacboot really does here, in the help and the man page.
    std::string flowed;  // the help wraps its descriptions
    for (char c : help)
        if (!std::isspace(static_cast<unsigned char>(c)) || (!flowed.empty() && flowed.back() != ' '))
            flowed += std::isspace(static_cast<unsigned char>(c)) ? ' ' : c;
    CHECK(flowed.find("--nomacboot accepted for compatibility and changes nothing: imgcreate never makes livecd-tools' "
                      "HFS+ (Mac) boot image, with or without it") != std::string::npos);
    std::ifstream man(IMGCREATE_SOURCE_DIR "/man/livecd-creator.1");
    const std::string page((std::istreambuf_iterator<char>(man)), std::istreambuf_iterator<char>());
    CHECK(page.find("\\fB\\-\\-nomacboot\\fR\nAccepted for compatibility and changes nothing.") != std::string::npos);
    CHECK(help.find("--name") == std::string::npos);
}

TEST_CASE("the report is JSON with phases, packages and the output's size and sha256") {
    CHECK(json_string("a\"b\\c\n\x01") == "\"a\\\"b\\\\c\\n\\u0001\"");
    const auto dir = std::filesystem::temp_directory_path() / ("imgcreate-report-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "out.img") << "abc";
    BuildReport r{"image-creator", "image", "a.ks", "a", "A", {{"mount", 0.25}, {"install", 1.5}}, {{"hello-1-1.x86_64", 42}}, dir / "out.img"};
    write_report(dir / "r.json", r);
    std::ifstream in(dir / "r.json");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::filesystem::remove_all(dir);
    CHECK(text ==
          "{\n"
          "  \"program\": \"image-creator\",\n"
          "  \"image_type\": \"image\",\n"
          "  \"kickstart\": \"a.ks\",\n"
          "  \"name\": \"a\",\n"
          "  \"fslabel\": \"A\",\n"
          "  \"phases\": [\n"
          "    {\"name\": \"mount\", \"seconds\": 0.250},\n"
          "    {\"name\": \"install\", \"seconds\": 1.500}\n"
          "  ],\n"
          "  \"total_seconds\": 1.750,\n"
          "  \"packages\": [\n"
          "    {\"nevra\": \"hello-1-1.x86_64\", \"size\": 42}\n"
          "  ],\n"
          "  \"output\": {\"path\": \"" + (dir / "out.img").string() +
          "\", \"size\": 3, \"sha256\": \"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"}\n"
          "}\n");
}

TEST_CASE("appliance-creator takes appliance-creator's options: -n names, -f is the disk format, -o the outdir") {
    auto o = parse({"appliance-creator", "-c", "/ks/web-server.ks", "-n", "web", "--version", "2.1", "--release", "3",
                    "-f", "qcow2", "--vmem", "2048", "--vcpu", "4", "--checksum", "--no-compress", "-o", "/srv/out",
                    "-t", "/var/tmp/x", "--cache", "/var/cache/a", "--cacheonly", "--disk-size", "8G",
                    "--disk-size", "vdb=512"});
    CHECK(o.type == ImageType::disk);
    CHECK(o.kickstart == "/ks/web-server.ks");
    CHECK(o.creator.name == "web");
    CHECK(o.creator.appliance_version == "2.1");
    CHECK(o.creator.appliance_release == "3");
    CHECK(o.creator.releasever == "2.1");  // appliance-tools takes --version for $releasever too
    CHECK(o.creator.disk_format == "qcow2");
    CHECK(o.creator.vmem_mib == 2048);
    CHECK(o.creator.vcpu == 4);
    CHECK(o.creator.disk_checksum);
    CHECK_FALSE(o.creator.disk_compress);
    CHECK(o.creator.outdir == "/srv/out");
    CHECK(o.creator.disk_name_directory);  // delivered into /srv/out/web/, as appliance-tools does
    CHECK(o.creator.tmpdir == "/var/tmp/x");
    CHECK(o.creator.cache_dir == "/var/cache/a");
    CHECK(o.creator.cacheonly);
    CHECK(o.creator.disk_size_mib == std::map<std::string, std::uint64_t>{{"sda", 8192}, {"vdb", 512}});

    SECTION("the defaults are appliance-creator's: raw, 512 MiB, one processor, <kickstart>-<time>") {
        auto d = parse({"appliance-creator", "-c", "web-server.ks"});
        CHECK(d.creator.disk_format == "raw");
        CHECK(d.creator.vmem_mib == 512);
        CHECK(d.creator.vcpu == 1);
        CHECK(d.creator.disk_compress);
        CHECK_FALSE(d.creator.disk_checksum);
        CHECK(d.creator.name == "web-server-202611220120");
    }
    SECTION("a format, a size or a count it cannot use is a usage error") {
        CHECK(usage_error({"appliance-creator", "-f", "vhdx", "a.ks"}) ==
              "'vhdx' is not a disk format: use raw, qcow2, vmdk or vdi");
        CHECK(usage_error({"appliance-creator", "--disk-size", "lots", "a.ks"}) ==
              "--disk-size 'lots' is not [DISK=]SIZE, SIZE in MiB or with a G suffix (4G, vdb=512)");
        CHECK(usage_error({"appliance-creator", "--vcpu", "0", "a.ks"}) == "--vmem and --vcpu must be more than 0");
        CHECK(usage_error({"appliance-creator", "--fslabel", "x", "a.ks"}) == "unrecognised option '--fslabel'");
    }
    SECTION("under livecd-creator's name -f stays --fslabel and the format is --format") {
        auto l = parse({"livecd-creator", "--image-type", "disk", "-f", "appl", "--format", "vmdk", "a.ks"});
        CHECK(l.creator.name == "appl");
        CHECK(l.creator.disk_format == "vmdk");
        CHECK_FALSE(l.creator.disk_name_directory);  // into the output directory itself, as its other images
    }
    SECTION("the help shows appliance-creator's options") {
        const auto help = help_text("appliance-creator");
        CHECK_THAT(help, Catch::Matchers::Contains("-f [ --format ] FORMAT"));
        CHECK_THAT(help, Catch::Matchers::Contains("-o [ --outdir ] DIR"));
        CHECK_THAT(help, Catch::Matchers::Contains("delivered into DIR/NAME/"));
        CHECK_THAT(help, !Catch::Matchers::Contains("--fslabel"));
    }
}

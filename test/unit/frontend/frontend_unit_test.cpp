// The frontends' command line, livecd-tools' naming rules and the JSON report, without root.
#include <catch2/catch.hpp>

#include <imgcreate/frontend/options.hpp>
#include <imgcreate/frontend/report.hpp>

#include <cstdlib>
#include <ctime>
#include <initializer_list>
#include <string>
#include <vector>

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
          "'vhd' is not an image type: use livecd, image or fs");
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

TEST_CASE("images and trees are named after the kickstart unless -n names them, and -f labels them") {
    auto o = parse({"image-creator", "-f", "Demo-Image-Label", "small-image.ks"});
    CHECK(o.creator.name == "small-image");
    CHECK(o.creator.fslabel == "Demo-Image-Label");
    o = parse({"image-creator", "--name", "disk", "small-image.ks"});
    CHECK(o.creator.name == "disk");
    CHECK(o.creator.fslabel == "disk");
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

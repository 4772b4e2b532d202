#include <catch2/catch.hpp>

#include <imgcreate/support/build_dir.hpp>
#include <imgcreate/support/root_path.hpp>
#include <imgcreate/stage/publish.hpp>

#include <fstream>
#include <support/skip.hpp>
#include <sys/stat.h>

using namespace imgcreate;
namespace fs = std::filesystem;

namespace {
struct TempDir {
    fs::path path;
    TempDir() { path = make_build_dir(fs::temp_directory_path()); }
    ~TempDir() { fs::remove_all(path); }
};
std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), {}};
}
}  // namespace

TEST_CASE("writing etc/hostname through an absolute etc symlink stays inside the root") {
    TempDir tmp;
    const fs::path root = tmp.path / "root";
    const fs::path outside = tmp.path / "outside";
    fs::create_directories(root);
    fs::create_directories(outside);
    fs::create_symlink(outside, root / "etc");  // etc -> /tmp/.../outside, an absolute host path
    RootDir dir(root);

    // The symlink resolves to <root><outside>, which does not exist yet: an error, no write.
    CHECK_THROWS_AS(dir.write_file("etc/hostname", "demo\n"), Error);
    CHECK(fs::is_empty(outside));

    dir.mkdirs(outside);  // i.e. <root>/<outside path>
    dir.write_file("/etc/hostname", "demo\n");
    CHECK(fs::is_empty(outside));
    CHECK(slurp(root / outside.relative_path() / "hostname") == "demo\n");
    CHECK(dir.read_file("etc/hostname") == "demo\n");
}

TEST_CASE("relative symlinks that climb above the root are clamped to the root") {
    TempDir tmp;
    const fs::path root = tmp.path / "root";
    fs::create_directories(root / "var");
    RootDir dir(root);
    dir.symlink("var/passwd", "../../../../../../etc/passwd");
    // Resolves to <root>/etc/passwd, which does not exist: the host's /etc/passwd is never read.
    CHECK_THROWS_WITH(dir.read_file("var/passwd"),
                      Catch::StartsWith("cannot open /var/passwd in " + root.string() + ": No such file or directory"));
}

TEST_CASE("files written in the root get their mode and replace the old content atomically") {
    TempDir tmp;
    RootDir dir(tmp.path);
    dir.mkdirs("etc/ssh");
    dir.write_file("etc/ssh/key", "one", 0600);
    dir.write_file("etc/ssh/key", "two", 0600);
    struct stat st {};
    REQUIRE(::stat((tmp.path / "etc/ssh/key").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(slurp(tmp.path / "etc/ssh/key") == "two");
    dir.append_file("etc/ssh/key", "three");
    CHECK(slurp(tmp.path / "etc/ssh/key") == "twothree");
    CHECK(fs::directory_iterator(tmp.path / "etc/ssh") != fs::directory_iterator());
    CHECK(std::distance(fs::directory_iterator(tmp.path / "etc/ssh"), fs::directory_iterator()) == 1);
    // A directory opened with the default mode argument (O_TMPFILE shares O_DIRECTORY's bit).
    CHECK(dir.open("etc/ssh", O_RDONLY | O_DIRECTORY));
    dir.remove("etc/ssh/key");
    dir.remove("etc/ssh/absent");
    CHECK_FALSE(dir.exists("etc/ssh/key"));
    CHECK(dir.is_directory("etc/ssh"));
}

TEST_CASE("publishing refuses to overwrite an existing output and leaves no partial file") {
    TempDir tmp;
    fs::create_directories(tmp.path / "build");
    fs::create_directories(tmp.path / "out");
    std::ofstream(tmp.path / "build/disk.img") << "image";
    std::ofstream(tmp.path / "out/disk.img") << "old";
    CHECK_THROWS_WITH(stage::publish(tmp.path / "build/disk.img", tmp.path / "out", "disk.img"),
                      "the output " + (tmp.path / "out/disk.img").string() +
                          " already exists: remove it, or build under another name (CreatorOptions::name) or into another directory (CreatorOptions::outdir)");
    CHECK(slurp(tmp.path / "out/disk.img") == "old");
    fs::remove(tmp.path / "out/disk.img");
    auto out = stage::publish(tmp.path / "build/disk.img", tmp.path / "out", "disk.img");
    CHECK(out == tmp.path / "out/disk.img");
    CHECK(slurp(out) == "image");
    CHECK_FALSE(fs::exists(tmp.path / "build/disk.img"));
}

TEST_CASE("publishing across filesystems copies through a hidden name and removes the source") {
    TempDir tmp;
    struct stat a {}, b {};
    if (::stat("/dev/shm", &a) != 0 || ::stat(tmp.path.c_str(), &b) != 0 || a.st_dev == b.st_dev)
        IMGCREATE_SKIP("needs /dev/shm on another filesystem than the temp dir");
    fs::path src = make_build_dir("/dev/shm");
    std::ofstream(src / "tree.img") << "payload";
    auto out = stage::publish(src / "tree.img", tmp.path / "out", "tree.img");
    CHECK(slurp(out) == "payload");
    CHECK_FALSE(fs::exists(tmp.path / "out/.tree.img.partial"));
    CHECK_FALSE(fs::exists(src / "tree.img"));
    fs::remove_all(src);
}

TEST_CASE("a build dir that cannot be made names the tmpdir and what to do") {
    CHECK_THROWS_WITH(make_build_dir("/proc/imgcreate-cannot-exist"),
                      Catch::StartsWith("cannot create the temporary directory /proc/imgcreate-cannot-exist:") &&
                          Catch::EndsWith("(choose another with --tmpdir)"));
}

TEST_CASE("kickstart errors read FILE:LINE: message") {
    KickstartError e("spin.ks", 12, "unknown command: 'frobnicate'");
    CHECK(std::string(e.what()) == "spin.ks:12: unknown command: 'frobnicate'");
    CHECK(e.line() == 12);
    CHECK(e.file() == "spin.ks");
    CHECK(std::string(StepOrderError("install", "mount").what()) == "install() called too early: call mount() first");
}

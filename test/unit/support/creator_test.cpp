#include <catch2/catch.hpp>

#include <imgcreate/imgcreate.hpp>
#include <imgcreate/support/root_path.hpp>

#include <csignal>
#include <fstream>
#include <iterator>

using namespace imgcreate;
namespace fs = std::filesystem;

namespace {

// A user-written install policy: "installs" by writing files into the root.
struct WriteFilesInstall {
    std::vector<std::string>* journal = nullptr;
    void install(BuildContext& ctx) {
        RootDir root(ctx.install_root);
        root.mkdirs("etc");
        root.write_file("etc/os-release", "NAME=Demo\n");
        root.mkdirs("boot");
        root.write_file("boot/vmlinuz-6.1.0-demo", "kernel");
        if (journal) journal->push_back("install");
    }
    KernelVersions kernel_versions(const BuildContext& ctx) const {
        KernelVersions out;
        for (const auto& entry : fs::directory_iterator(ctx.install_root / "boot"))
            out["kernel"].push_back(entry.path().filename().string().substr(std::string("vmlinuz-").size()));
        return out;
    }
};

struct FailingInstall {
    void install(BuildContext&) { throw InstallError("no package named 'missing' in any repository"); }
    KernelVersions kernel_versions(const BuildContext&) const { return {}; }
};

struct RecordingBoot {
    std::vector<std::string>* journal = nullptr;
    void before_install(BuildContext&) { journal->push_back("before_install"); }
    void configure_boot(BuildContext&) { journal->push_back("configure_boot"); }
    void before_unmount(BuildContext&) { journal->push_back("before_unmount"); }
};

struct TempDir {
    fs::path path = make_build_dir(fs::temp_directory_path());
    ~TempDir() { fs::remove_all(path); }
};

CreatorOptions options_in(const TempDir& tmp, std::string name = "tree") {
    CreatorOptions o;
    o.name = std::move(name);
    o.tmpdir = tmp.path / "tmp";
    o.outdir = tmp.path / "out";
    return o;
}

using TreeCreator = Creator<DirectoryMount, WriteFilesInstall, NoBoot, TreeStage>;

}  // namespace

TEST_CASE("create() runs every step and moves the tree into the output dir") {
    TempDir tmp;
    TreeCreator creator(nullptr, options_in(tmp));
    auto out = creator.create();
    CHECK(out == tmp.path / "out/tree");
    std::ifstream in(out / "etc/os-release");
    std::string line;
    std::getline(in, line);
    CHECK(line == "NAME=Demo");
    // The build dir is gone once the tree has been published.
    CHECK(fs::is_empty(tmp.path / "tmp"));
    std::vector<std::string> phases;
    for (const auto& [name, seconds] : creator.context().timings.phases) phases.push_back(name);
    CHECK(phases == std::vector<std::string>{"mount", "install", "configure", "unmount", "package"});
}

TEST_CASE("the steps run in order and the boot policy's hooks run where the design puts them") {
    TempDir tmp;
    std::vector<std::string> journal;
    Creator<DirectoryMount, WriteFilesInstall, RecordingBoot, TreeStage> creator(
        nullptr, options_in(tmp), {}, WriteFilesInstall{&journal}, RecordingBoot{&journal});
    creator.create();
    CHECK(journal == std::vector<std::string>{"before_install", "install", "configure_boot", "before_unmount"});
}

TEST_CASE("a step called out of order says which step must come first") {
    TempDir tmp;
    TreeCreator creator(nullptr, options_in(tmp));
    CHECK_THROWS_WITH(creator.install(), "install() called too early: call mount() first");
    CHECK_THROWS_WITH(creator.configure(), "configure() called too early: call install() first");
    CHECK_THROWS_WITH(creator.package(), "package() called too early: call install() first");
    CHECK_THROWS_WITH(creator.unmount(), "unmount() called too early: call mount() first");
    CHECK_THROWS_WITH(creator.kernel_versions(), "kernel_versions() called too early: call install() first");
    creator.mount();
    CHECK_THROWS_WITH(creator.mount(), "mount() called again: it has already run");
    CHECK_THROWS_WITH(creator.configure(), "configure() called too early: call install() first");
    creator.install();
    CHECK_THROWS_WITH(creator.package(), "package() called too early: call unmount() first");
    CHECK(creator.kernel_versions() == KernelVersions{{"kernel", {"6.1.0-demo"}}});
}

TEST_CASE("steps called one by one give the same tree as create()") {
    TempDir tmp;
    TreeCreator creator(nullptr, options_in(tmp));
    creator.mount();
    creator.install();
    creator.configure();
    creator.unmount();
    auto out = creator.package();
    CHECK(fs::exists(out / "boot/vmlinuz-6.1.0-demo"));
}

TEST_CASE("a failing step leaves no build dir and no output behind") {
    TempDir tmp;
    {
        Creator<DirectoryMount, FailingInstall, NoBoot, TreeStage> creator(nullptr, options_in(tmp));
        CHECK_THROWS_WITH(creator.create(), "no package named 'missing' in any repository");
    }
    CHECK(fs::is_empty(tmp.path / "tmp"));
    CHECK_FALSE(fs::exists(tmp.path / "out/tree"));
}

TEST_CASE("cleanup() is idempotent, and a cleaned-up creator refuses to go on") {
    TempDir tmp;
    TreeCreator creator(nullptr, options_in(tmp));
    creator.mount();
    auto build_dir = creator.context().build_dir;
    CHECK(fs::exists(build_dir));
    auto undone = creator.cleanup();
    CHECK(undone == std::vector<std::string>{"remove " + build_dir.string()});
    CHECK_FALSE(fs::exists(build_dir));
    CHECK(creator.cleanup().empty());
    CHECK_THROWS_WITH(creator.install(), "install() called after cleanup(): make a new creator to build again");
}

TEST_CASE("the nocleanup option keeps the build dir for inspection") {
    TempDir tmp;
    auto options = options_in(tmp);
    options.nocleanup = true;
    fs::path build_dir;
    {
        Creator<DirectoryMount, FailingInstall, NoBoot, TreeStage> creator(nullptr, options);
        CHECK_THROWS(creator.create());
        build_dir = creator.context().build_dir;
    }
    CHECK(fs::is_directory(build_dir / "install_root"));
}

TEST_CASE("a second build with the same name does not replace the first output") {
    TempDir tmp;
    TreeCreator(nullptr, options_in(tmp)).create();
    TreeCreator second(nullptr, options_in(tmp));
    CHECK_THROWS_WITH(second.create(), Catch::Contains("already exists: remove it, or build under another name"));
    // The failed build took its build dir with it; the first output is intact.
    CHECK(fs::is_empty(tmp.path / "tmp"));
    CHECK(fs::exists(tmp.path / "out/tree/etc/os-release"));
}

TEST_CASE("a name longer than a CD label still builds: without --fslabel the label is its first 32 characters") {
    const std::string long_name = "Fedora-Workstation-Live-Rawhide-x86_64-20261202";
    TempDir tmp;
    TreeCreator creator(nullptr, options_in(tmp, long_name));
    CHECK(creator.create() == tmp.path / "out" / long_name);
    CHECK(image_label(creator.context().options) == "Fedora-Workstation-Live-Rawhide-");

    // A label given must fit as it is, and a space in the label the name gives is refused.
    CreatorOptions options;
    options.name = long_name;
    CHECK_FALSE(naming_problem(options));
    options.fslabel = long_name;
    CHECK(naming_problem(options) == "the label '" + long_name + "' has " + std::to_string(long_name.size()) +
                                         " characters; a CD label has at most 32: choose another with --fslabel");
    options.fslabel.clear();
    options.name = "my image";
    CHECK(naming_problem(options) == "the label 'my image' contains a space; CD labels cannot (the name is the label "
                                     "without --fslabel): choose another name, or a label with --fslabel");
    options.name.clear();
    CHECK(image_label(options) == "imgcreate");
}

namespace {

// A stage that publishes the tree and is then interrupted, as a user's Ctrl-C landing just
// after the rename into the output dir.
struct PublishThenInterrupt {
    fs::path package(BuildContext& ctx) {
        auto out = TreeStage{}.package(ctx);
        ::raise(SIGINT);
        return out;
    }
};

}  // namespace

TEST_CASE("a SIGINT that lands after the output is published finishes the build and says it came too late") {
    TempDir tmp;
    InterruptGuard guard;
    const auto log_file = tmp.path / "build.log";
    Logger::instance().open_file(log_file.string());
    fs::path out;
    {
        Creator<DirectoryMount, WriteFilesInstall, NoBoot, PublishThenInterrupt> creator(nullptr, options_in(tmp));
        CHECK_NOTHROW(out = creator.create());
    }
    Logger::instance().close_file();
    InterruptGuard::reset();
    CHECK(out == tmp.path / "out/tree");
    CHECK(fs::exists(out / "etc/os-release"));
    CHECK(fs::is_empty(tmp.path / "tmp"));
    std::ifstream in(log_file);
    std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK_THAT(log, Catch::Matchers::Contains("warning: interrupted by SIGINT after " + out.string() +
                                              " was written: too late to stop, the image is complete"));
}

TEST_CASE("a SIGINT that lands before the output is published stops the build and leaves no output") {
    TempDir tmp;
    InterruptGuard guard;
    struct InterruptThenPublish {
        fs::path package(BuildContext& ctx) {
            ::raise(SIGINT);
            check_interrupted();
            return TreeStage{}.package(ctx);
        }
    };
    Creator<DirectoryMount, WriteFilesInstall, NoBoot, InterruptThenPublish> creator(nullptr, options_in(tmp));
    CHECK_THROWS_AS(creator.create(), InterruptedError);
    InterruptGuard::reset();
    CHECK_FALSE(fs::exists(tmp.path / "out/tree"));
    CHECK(fs::is_empty(tmp.path / "tmp"));
}

TEST_CASE("the ready-made policies model their concepts") {
    STATIC_REQUIRE(MountPolicy<DirectoryMount>);
    STATIC_REQUIRE(BootPolicy<NoBoot>);
    STATIC_REQUIRE(StagePolicy<TreeStage>);
    STATIC_REQUIRE(InstallPolicy<WriteFilesInstall>);
    STATIC_REQUIRE_FALSE(MountPolicy<TreeStage>);
    STATIC_REQUIRE_FALSE(InstallPolicy<NoBoot>);
}

namespace {
// A stage whose package() returns a std::string: anything that converts to a path will do.
struct StringStage {
    std::string package(BuildContext& ctx) {
        const auto out = ctx.options.outdir / "listing.txt";
        fs::create_directories(ctx.options.outdir);
        std::ofstream(out) << "etc/os-release\n";
        return out.string();
    }
};
// An install policy that counts how often it ran.
struct CountingInstall : WriteFilesInstall {
    int* runs = nullptr;
    void install(BuildContext& ctx) {
        ++*runs;
        WriteFilesInstall::install(ctx);
    }
};
}  // namespace

TEST_CASE("every stock policy and image type is named in imgcreate itself, and optional hooks are named concepts") {
    STATIC_REQUIRE(InstallPolicy<imgcreate::RpmInstall>);
    STATIC_REQUIRE(std::is_same_v<imgcreate::RpmInstall, imgcreate::install::RpmInstall>);
    STATIC_REQUIRE(std::is_same_v<FsImage, Creator<DirectoryMount, RpmInstall, NoBoot, TreeStage>>);
    STATIC_REQUIRE(std::is_same_v<LoopImage, Creator<LoopMount, RpmInstall, NoBoot, CopyStage>>);
    STATIC_REQUIRE(std::is_same_v<LiveImage, Creator<LiveMount, RpmInstall, LiveBoot, IsoStage>>);
    STATIC_REQUIRE(has_check_hook<RpmInstall>);
    STATIC_REQUIRE(has_required_programs_hook<IsoStage>);
    STATIC_REQUIRE(has_outputs_hook<TreeStage>);
    STATIC_REQUIRE(has_fstab_hook<LoopMount>);
    STATIC_REQUIRE(has_full_root_message_hook<LiveMount>);
    STATIC_REQUIRE(has_filesystem_hook<LoopMount>);
    STATIC_REQUIRE(names_check<LoopMount>);
    STATIC_REQUIRE_FALSE(names_check<TreeStage>);
    STATIC_REQUIRE(valid_composition<DirectoryMount, WriteFilesInstall, NoBoot, StringStage>);
}

TEST_CASE("a stage whose package() returns a string converts it to the output path") {
    TempDir tmp;
    Creator<DirectoryMount, WriteFilesInstall, NoBoot, StringStage> creator(nullptr, options_in(tmp));
    CHECK(creator.create() == tmp.path / "out/listing.txt");
}

TEST_CASE("an output that already exists is refused before any work, with a message for library users") {
    TempDir tmp;
    fs::create_directories(tmp.path / "out/tree");
    int runs = 0;
    CountingInstall install;
    install.runs = &runs;
    Creator<DirectoryMount, CountingInstall, NoBoot, TreeStage> creator(nullptr, options_in(tmp), {}, install);
    try {
        creator.mount();
        FAIL("mount() went ahead although the output exists");
    } catch (const OutputExistsError& e) {
        CHECK(e.path() == tmp.path / "out/tree");
        CHECK(std::string(e.what()) == "the output " + (tmp.path / "out/tree").string() +
                                           " already exists: remove it, or build under another name "
                                           "(CreatorOptions::name) or into another directory (CreatorOptions::outdir)");
    }
    CHECK(runs == 0);
    CHECK_FALSE(fs::exists(tmp.path / "tmp"));  // not even a build dir was made
}

TEST_CASE("a tree keeps no empty directory the build made only to mount on") {
    TempDir tmp;
    TreeCreator creator(nullptr, options_in(tmp));
    creator.mount();
    // What the API filesystems leave when they go up and down (as root): they record the
    // directories they had to make; an install policy drops those a package owns.
    auto& ctx = creator.context();
    for (const char* d : {"proc", "var", "var/cache", "var/cache/dnf"}) {
        fs::create_directories(ctx.install_root / d);
        ctx.scaffolding.push_back(d);
    }
    fs::create_directories(ctx.install_root / "var/cache/dnf");
    creator.install();
    fs::create_directories(ctx.install_root / "var/log");  // something the build put in var: var stays
    creator.configure();
    creator.unmount();
    const auto out = creator.package();
    CHECK_FALSE(fs::exists(out / "proc"));
    CHECK_FALSE(fs::exists(out / "var/cache"));
    CHECK(fs::is_directory(out / "var/log"));
    CHECK(fs::exists(out / "etc/os-release"));
}

TEST_CASE("log lines give durations as people read them") {
    CHECK(log::duration(3.2709e-05) == "33 µs");
    CHECK(log::duration(0.0042) == "4.2 ms");
    CHECK(log::duration(0.25) == "250 ms");
    CHECK(log::duration(3.2709) == "3.27 s");
    CHECK(log::duration(125.0) == "2 min 05 s");
    CHECK(log::duration(std::chrono::milliseconds(1500)) == "1.50 s");
}

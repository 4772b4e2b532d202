// Signatures: packages signed in the test with a throwaway key, verified at each level.
#include "rpm_fixture.hpp"

#include <imgcreate/install/transaction.hpp>

#include <catch2/catch.hpp>

using namespace imgcreate;
using namespace imgcreate::test;
using install::Package;

namespace {

Package signed_package(const SigningKey& key, const std::string& spec, const std::string& repo = "signed") {
    return package_from_rpm(key.sign_copy(build_rpm(spec)), repo);
}

std::vector<Package> signed_hello_set(const SigningKey& key) {
    return {signed_package(key, "busybox-sh"), signed_package(key, "test-setup"), signed_package(key, "hello")};
}

std::string failure_of(const fs::path& root, const std::vector<Package>& pkgs, const install::TransactionOptions& options) {
    try {
        install::install_packages(root, pkgs, options);
    } catch (const InstallError& e) {
        return e.what();
    }
    FAIL("the transaction was expected to fail");
    return {};
}

install::TransactionOptions at_level(install::VerifyLevel level, install::RepoKeyFiles keys = {}) {
    install::TransactionOptions options;
    options.verify = level;
    options.repo_keys = std::move(keys);
    return options;
}

}  // namespace

TEST_CASE("packages signed by their repository's key install at level all and the key joins the root's keyring") {
    IMGCREATE_REQUIRE_ROOT();
    auto key = SigningKey::make("repo");
    ScratchDir root("signed");
    install::install_packages(root.path(), signed_hello_set(key),
                              at_level(install::VerifyLevel::all, {{"signed", {key.public_key}}}));
    auto qa = rpm_qa(root.path());
    CHECK(std::find(qa.begin(), qa.end(), "hello-1:2.12-3.noarch") != qa.end());
    const std::string short_id = key.key_id.substr(8);
    CHECK(std::count_if(qa.begin(), qa.end(), [&](const std::string& n) {
              return n.rfind("gpg-pubkey-" + short_id + "-", 0) == 0;
          }) == 1);
}

TEST_CASE("a package signed with a key its repository does not name stops the build with the key id and repo") {
    IMGCREATE_REQUIRE_ROOT();
    auto key = SigningKey::make("repo");
    auto other = SigningKey::make("other");
    ScratchDir root("unknown-key");
    auto hello = signed_package(key, "hello");

    SECTION("no key at all") {
        auto message = failure_of(root.path(), {hello}, at_level(install::VerifyLevel::signature));
        CHECK(message.rfind("package hello-1:2.12-3.noarch from repository 'signed' is signed with key ID " +
                                key.key_id + ", which is not a key of that repository (it has no gpgkey)\n",
                            0) == 0);
    }
    SECTION("another repository's key") {
        auto message = failure_of(root.path(), {hello},
                                  at_level(install::VerifyLevel::signature,
                                           {{"signed", {other.public_key}}, {"updates", {key.public_key}}}));
        CHECK(message.rfind("package hello-1:2.12-3.noarch from repository 'signed' is signed with key ID " +
                                key.key_id + ", which is not a key of that repository (its gpgkey is " +
                                other.public_key.string() + ")\n",
                            0) == 0);
    }
    auto qa = rpm_qa(root.path());
    CHECK(std::find(qa.begin(), qa.end(), "hello-1:2.12-3.noarch") == qa.end());
}

TEST_CASE("an unsigned package is refused at level signature and accepted at level digest") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("unsigned");
    auto setup = test_package("test-setup", {}, "fedora");
    auto message = failure_of(root.path(), {setup}, at_level(install::VerifyLevel::signature));
    CHECK(message.rfind("package test-setup-1.0-1.noarch from repository 'fedora' is not signed, and verification "
                        "level 'signature' requires a signature\n",
                        0) == 0);
    install::install_packages(root.path(), {setup}, at_level(install::VerifyLevel::digest));
    CHECK(rpm_qa(root.path()) == std::vector<std::string>{"test-setup-1.0-1.noarch"});
}

TEST_CASE("a signed package whose key is unknown installs at level digest, as with gpgcheck off") {
    IMGCREATE_REQUIRE_ROOT();
    auto key = SigningKey::make("repo");
    ScratchDir root("digest-only");
    install::install_packages(root.path(), signed_hello_set(key), at_level(install::VerifyLevel::digest));
    CHECK(rpm_qa(root.path()).size() == 3);
}

TEST_CASE("a signed package altered after signing fails verification naming the package and the repository") {
    IMGCREATE_REQUIRE_ROOT();
    auto key = SigningKey::make("repo");
    ScratchDir root("tampered");
    const fs::path tampered = root / "../tampered-test-setup.rpm";
    fs::copy_file(key.sign_copy(build_rpm("test-setup")), tampered, fs::copy_options::overwrite_existing);
    {
        std::fstream f(tampered, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(-200, std::ios::end);
        char c = 0;
        f.get(c);
        f.seekp(-200, std::ios::end);
        f.put(static_cast<char>(c ^ 0x5a));
    }
    auto message = failure_of(root.path(), {package_from_rpm(tampered, "signed")},
                              at_level(install::VerifyLevel::all, {{"signed", {key.public_key}}}));
    INFO(message);
    CHECK(message.find("package test-setup-1.0-1.noarch (from repository 'signed') does not verify: ") !=
          std::string::npos);
    CHECK(message.find("BAD") != std::string::npos);
    fs::remove(tampered);
}

namespace {

// hello built with an uncompressed payload, then one letter of a file's contents changed
// ("bonjour" -> "bonjouR"): only a digest can tell.
fs::path hello_with_altered_file(const fs::path& where) {
    const fs::path original = build_rpm("hello", {{"_binary_payload", "w.ufdio"}});
    const fs::path altered = where / "altered-hello.rpm";
    std::string bytes = read_text(original);
    const auto at = bytes.find("bonjour\n");
    REQUIRE(at != std::string::npos);
    bytes[at + 6] = 'R';
    write_text(altered, bytes);
    return altered;
}

// What installing busybox-sh, test-setup and the altered hello into `root` at `level` says.
std::string failure_with_altered_hello(const ScratchDir& root, install::VerifyLevel level) {
    ScratchDir scratch(root.path().filename().string() + "-rpm");
    const std::vector<Package> set = {test_package("busybox-sh"), test_package("test-setup"),
                                      package_from_rpm(hello_with_altered_file(scratch.path()))};
    return failure_of(root.path(), set, at_level(level));
}

}  // namespace

TEST_CASE("a package whose payload was altered does not verify at level digest and nothing is installed") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("altered-digest");
    auto message = failure_with_altered_hello(root, install::VerifyLevel::digest);
    INFO(message);
    CHECK(message.find("package hello-1:2.12-3.noarch (from repository 'test') does not verify: ") !=
          std::string::npos);
    CHECK_FALSE(fs::exists(root / "usr/share/locale/fr/LC_MESSAGES/hello.mo"));
    CHECK_FALSE(fs::exists(root / "usr/bin/busybox"));
}

TEST_CASE("with verification off an altered file is still caught by its file digest as rpm unpacks it") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("altered-none");
    auto message = failure_with_altered_hello(root, install::VerifyLevel::none);
    INFO(message);
    CHECK(message.find("hello-1:2.12-3.noarch: its files could not be unpacked") != std::string::npos);
    if (fs::exists(root / "usr/share/locale/fr/LC_MESSAGES/hello.mo"))
        CHECK(read_text(root / "usr/share/locale/fr/LC_MESSAGES/hello.mo") != "bonjouR\n");
}

TEST_CASE("the verification pass on every core finds the one package of a set that does not verify") {
    IMGCREATE_REQUIRE_ROOT();
    ScratchDir root("parallel-verify");
    ScratchDir scratch("parallel-verify-rpm");
    std::vector<fs::path> files = {build_rpm("busybox-sh"), build_rpm("test-setup"), build_rpm("hello"),
                                   hello_with_altered_file(scratch.path())};
    install::rpm::LogCapture log;
    install::rpm::TransactionSet ts(root.path());
    rpmtsSetVfyLevel(ts.get(), install::rpm_verify_level(install::VerifyLevel::digest));
    for (unsigned threads : {1u, 2u, 4u}) {
        std::vector<int> seen(files.size(), 0);
        auto all = install::verify_in_parallel(ts, {files.begin(), files.end() - 1}, [&](std::size_t i) { ++seen[i]; },
                                               threads);
        CHECK(all.all_passed);
        CHECK(std::vector<int>(seen.begin(), seen.end() - 1) == std::vector<int>{1, 1, 1});
        auto with_bad = install::verify_in_parallel(ts, files, [&](std::size_t i) { ++seen[i]; }, threads);
        CHECK_FALSE(with_bad.all_passed);
        CHECK(with_bad.failed == 1);
        CHECK(seen == std::vector<int>{2, 2, 2, 1});
    }
}

// The pure parts of the transaction's set-up: verification levels and the macros file.
#include <imgcreate/install/rpm_macros.hpp>
#include <imgcreate/install/signature.hpp>

#include <catch2/catch.hpp>

using namespace imgcreate;
using namespace imgcreate::install;

TEST_CASE("livecd-creator's --pkgverify-level words map to rpm's verification levels and back") {
    CHECK(parse_verify_level("all") == VerifyLevel::all);
    CHECK(parse_verify_level("signature") == VerifyLevel::signature);
    CHECK(parse_verify_level("digest") == VerifyLevel::digest);
    CHECK(parse_verify_level("none") == VerifyLevel::none);
    CHECK(to_string(VerifyLevel::signature) == "signature");
    CHECK(rpm_verify_level(VerifyLevel::all) == (RPMSIG_DIGEST_TYPE | RPMSIG_SIGNATURE_TYPE));
    CHECK(rpm_verify_level(VerifyLevel::signature) == RPMSIG_SIGNATURE_TYPE);
    CHECK(rpm_verify_level(VerifyLevel::digest) == RPMSIG_DIGEST_TYPE);
    CHECK(rpm_verify_level(VerifyLevel::none) == 0);
    CHECK(requires_signature(VerifyLevel::all));
    CHECK_FALSE(requires_signature(VerifyLevel::digest));
}

TEST_CASE("an unknown verification level is a configuration error listing the valid ones") {
    try {
        parse_verify_level("strict");
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) == "unknown package verification level 'strict': use one of all, signature, digest, none");
    }
}

TEST_CASE("the macros file holds exactly the settings the kickstart changed") {
    CHECK(macros_file_text({}) == "");
    MacroSettings docs;
    docs.exclude_docs = true;
    CHECK(macros_file_text(docs) == "%_excludedocs 1\n");
    MacroSettings langs;
    langs.install_langs = {"en_US", "fr"};
    CHECK(macros_file_text(langs) == "%_install_langs en_US:fr\n");
    MacroSettings selinux;
    selinux.selinux_disabled = true;
    CHECK(macros_file_text(selinux) == "%__file_context_path %{nil}\n");
}

TEST_CASE("a gpgkey file without a public key block is refused with its name") {
    try {
        rpm::PublicKey::parse_armored("not a key\n", "/etc/pki/rpm-gpg/RPM-GPG-KEY-broken");
        FAIL("no error");
    } catch (const InstallError& e) {
        CHECK(std::string(e.what()) == "no '-----BEGIN PGP PUBLIC KEY BLOCK-----' in GPG key file "
                                       "/etc/pki/rpm-gpg/RPM-GPG-KEY-broken: is it an ASCII-armored public key?");
    }
}

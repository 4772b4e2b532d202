// imgcreate — package verification: the levels livecd-creator's --pkgverify-level offers,
// the repositories' gpgkey files imported into the install root's keyring, and the check
// that each package is signed by a key of the repository it came from.
#pragma once

#include <imgcreate/install/package.hpp>
#include <imgcreate/install/rpm/header.hpp>
#include <imgcreate/install/rpm/keyring.hpp>
#include <imgcreate/install/rpm/transaction_set.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <rpm/rpmts.h>

namespace imgcreate::install {

// What must verify before a package is installed (rpm's %_pkgverify_level):
// all = digests and a signature, signature = a signature, digest = digests, none = nothing.
enum class VerifyLevel { all, signature, digest, none };

inline std::string_view to_string(VerifyLevel level) {
    switch (level) {
        case VerifyLevel::all: return "all";
        case VerifyLevel::signature: return "signature";
        case VerifyLevel::digest: return "digest";
        case VerifyLevel::none: return "none";
    }
    return "digest";
}

inline VerifyLevel parse_verify_level(std::string_view text) {
    for (auto level : {VerifyLevel::all, VerifyLevel::signature, VerifyLevel::digest, VerifyLevel::none})
        if (text == to_string(level)) return level;
    throw ConfigError("unknown package verification level '" + std::string(text) +
                      "': use one of all, signature, digest, none");
}

inline bool requires_signature(VerifyLevel level) {
    return level == VerifyLevel::all || level == VerifyLevel::signature;
}

// rpm's RPMSIG_* mask for rpmtsSetVfyLevel.
inline int rpm_verify_level(VerifyLevel level) {
    switch (level) {
        case VerifyLevel::all: return RPMSIG_DIGEST_TYPE | RPMSIG_SIGNATURE_TYPE;
        case VerifyLevel::signature: return RPMSIG_SIGNATURE_TYPE;
        case VerifyLevel::digest: return RPMSIG_DIGEST_TYPE;
        case VerifyLevel::none: return 0;
    }
    return RPMSIG_DIGEST_TYPE;
}

inline VerifyLevel level_from_rpm(int mask) {
    const bool digest = mask & RPMSIG_DIGEST_TYPE, signature = mask & RPMSIG_SIGNATURE_TYPE;
    return digest && signature ? VerifyLevel::all
           : signature         ? VerifyLevel::signature
           : digest            ? VerifyLevel::digest
                               : VerifyLevel::none;
}

// The level for packages of a repository with gpgcheck off: the same without the signature.
inline VerifyLevel without_signature(VerifyLevel level) {
    return level_from_rpm(rpm_verify_level(level) & ~RPMSIG_SIGNATURE_TYPE);
}

// rpm's RPMVSF_* flags for reading headers: skip the (slow) public-key work when no
// signature is required, and every check when nothing is.
inline rpmVSFlags rpm_read_flags(VerifyLevel level) {
    switch (level) {
        case VerifyLevel::all:
        case VerifyLevel::signature: return RPMVSF_DEFAULT;
        case VerifyLevel::digest: return RPMVSF_MASK_NOSIGNATURES;
        case VerifyLevel::none: return RPMVSF_MASK_NOSIGNATURES | RPMVSF_MASK_NODIGESTS;
    }
    return RPMVSF_DEFAULT;
}

// repo id -> its gpgkey files (local paths, already downloaded).
using RepoKeyFiles = std::map<std::string, std::vector<std::filesystem::path>>;

// repo id -> ids of the keys it trusts (primary and subkeys), plus the files they came from.
struct RepoKeys {
    std::map<std::string, std::set<std::string>> ids;
    std::map<std::string, std::vector<std::string>> files;

    bool trusts(const std::string& repo, const std::string& key_id) const {
        auto it = ids.find(repo);
        return it != ids.end() && it->second.count(key_id) > 0;
    }
};

// Imports every repository's keys into the root's rpm keyring (the rpmdb's gpg-pubkey
// entries, as `rpmkeys --root R --import` does). The database must be open read-write.
inline RepoKeys import_repo_keys(rpm::TransactionSet& ts, const RepoKeyFiles& key_files) {
    RepoKeys result;
    for (const auto& [repo, files] : key_files) {
        for (const auto& file : files) {
            for (const auto& key : rpm::PublicKey::read_armored(file)) {
                auto ids = key.key_ids();
                if (rpmtsImportPubkey(ts.get(), key.packets().data(), key.packets().size()) != RPMRC_OK)
                    throw RepoError(repo, "cannot import GPG key " + ids.front() + " from " + file.string() +
                                              " into the install root's rpm keyring");
                log::debug("imported GPG key ", ids.front(), " of repository '", repo, "' from ", file.string());
                result.ids[repo].insert(ids.begin(), ids.end());
            }
            result.files[repo].push_back(file.string());
        }
    }
    return result;
}

namespace detail {
inline std::string key_files_text(const RepoKeys& keys, const std::string& repo) {
    auto it = keys.files.find(repo);
    if (it == keys.files.end() || it->second.empty()) return "it has no gpgkey";
    std::string text = "its gpgkey is";
    for (const auto& f : it->second) text += " " + f;
    return text;
}
}  // namespace detail

// Throws when `level` needs a signature and the package (read with rpmReadPackageFile,
// which returned `read_rc` and logged `rpm_message`) lacks one by a key of its repository.
inline void check_package_signature(const Package& package, const rpm::Header& header, rpmRC read_rc,
                                    const std::string& rpm_message, VerifyLevel level, const RepoKeys& keys) {
    if (!requires_signature(level)) return;
    const std::string what = "package " + package.nevra() + " from repository '" + package.repo + "'";
    const std::string hint = "\n  import the right key (the repo's gpgkey=) or choose --pkgverify-level digest";
    const std::string key = rpm::signer_key_id(header);
    if (key.empty())
        throw InstallError(what + " is not signed, and verification level '" + std::string(to_string(level)) +
                               "' requires a signature" + hint, package.nevra());
    if (read_rc == RPMRC_FAIL)
        throw InstallError(what + " has a BAD signature (key ID " + key + "): the file is damaged or was tampered with" +
                               (rpm_message.empty() ? "" : "\n  rpm: " + rpm_message), package.nevra());
    if (read_rc == RPMRC_NOKEY || read_rc == RPMRC_NOTTRUSTED || !keys.trusts(package.repo, key))
        throw InstallError(what + " is signed with key ID " + key + ", which is not a key of that repository (" +
                               detail::key_files_text(keys, package.repo) + ")" + hint, package.nevra());
}

}  // namespace imgcreate::install

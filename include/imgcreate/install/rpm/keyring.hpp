// imgcreate — OpenPGP public keys as rpm reads them (a repository's gpgkey files), their
// key ids (primary and subkeys), and the signer's key id of a package header.
#pragma once

#include <imgcreate/install/rpm/header.hpp>
#include <imgcreate/support/error.hpp>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <rpm/rpmkeyring.h>
#include <rpm/rpmpgp.h>
#include <rpm/rpmtag.h>

namespace imgcreate::install::rpm {

namespace detail {
inline std::string hex_key_id(const std::uint8_t* id) {
    if (!id) return {};
    char buf[2 * PGP_KEYID_LEN + 1];
    for (int i = 0; i < PGP_KEYID_LEN; ++i) std::snprintf(buf + 2 * i, 3, "%02x", id[i]);
    return buf;
}
}  // namespace detail

// One public key (a binary OpenPGP transferable key) owned as rpm's rpmPubkey.
class PublicKey {
public:
    PublicKey(std::vector<std::uint8_t> packets, std::string origin)
        : packets_(std::move(packets)), origin_(std::move(origin)),
          key_(rpmPubkeyNew(packets_.data(), packets_.size())) {
        if (!key_) throw InstallError("not a usable OpenPGP public key: " + origin_, origin_);
    }
    PublicKey(PublicKey&& other) noexcept
        : packets_(std::move(other.packets_)), origin_(std::move(other.origin_)),
          key_(std::exchange(other.key_, nullptr)) {}
    PublicKey& operator=(PublicKey&&) = delete;
    PublicKey(const PublicKey&) = delete;
    ~PublicKey() {
        if (key_) rpmPubkeyFree(key_);
    }

    // Every key in an ASCII-armored file (a gpgkey file may hold several blocks).
    static std::vector<PublicKey> read_armored(const std::filesystem::path& file) {
        std::ifstream in(file, std::ios::binary);
        if (!in) throw InstallError("cannot read GPG key file " + file.string() + ": " + std::strerror(errno), file.string());
        std::stringstream buffer;
        buffer << in.rdbuf();
        return parse_armored(buffer.str(), file.string());
    }

    static std::vector<PublicKey> parse_armored(const std::string& text, const std::string& origin) {
        static const std::string begin = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
        std::vector<PublicKey> keys;
        for (auto pos = text.find(begin); pos != std::string::npos; pos = text.find(begin, pos + 1)) {
            std::string block = text.substr(pos);
            std::uint8_t* pkt = nullptr;
            std::size_t len = 0;
            pgpArmor armor = pgpParsePkts(block.c_str(), &pkt, &len);
            if (armor != PGPARMOR_PUBKEY || !pkt) {
                free(pkt);
                throw InstallError("the GPG key file " + origin + " holds a damaged public key block (armor error " +
                                   std::to_string(static_cast<int>(armor)) + ")", origin);
            }
            keys.emplace_back(std::vector<std::uint8_t>(pkt, pkt + len), origin);
            free(pkt);
        }
        if (keys.empty())
            throw InstallError("no '" + begin + "' in GPG key file " + origin + ": is it an ASCII-armored public key?",
                               origin);
        return keys;
    }

    // Lower-case 16-hex-digit ids of the primary key and its subkeys.
    std::vector<std::string> key_ids() const {
        std::vector<std::string> ids;
        ids.push_back(detail::hex_key_id(pgpDigParamsSignID(rpmPubkeyPgpDigParams(key_))));
        int count = 0;
        rpmPubkey* subkeys = rpmGetSubkeys(key_, &count);
        for (int i = 0; i < count; ++i) {
            ids.push_back(detail::hex_key_id(pgpDigParamsSignID(rpmPubkeyPgpDigParams(subkeys[i]))));
            rpmPubkeyFree(subkeys[i]);
        }
        free(subkeys);
        return ids;
    }

    const std::vector<std::uint8_t>& packets() const noexcept { return packets_; }
    const std::string& origin() const noexcept { return origin_; }

private:
    std::vector<std::uint8_t> packets_;
    std::string origin_;
    rpmPubkey key_ = nullptr;
};

// The 16-hex-digit id of the key that signed the package's header, or empty when unsigned.
inline std::string signer_key_id(const Header& h) {
    for (rpmTagVal tag : {RPMTAG_RSAHEADER, RPMTAG_DSAHEADER, RPMTAG_SIGPGP, RPMTAG_SIGGPG}) {
        auto packet = h.binary(tag);
        if (packet.empty()) continue;
        pgpDigParams params = nullptr;
        if (pgpPrtParams(packet.data(), packet.size(), PGPTAG_SIGNATURE, &params) != 0 || !params) continue;
        std::string id = detail::hex_key_id(pgpDigParamsSignID(params));
        pgpDigParamsFree(params);
        return id;
    }
    return {};
}

}  // namespace imgcreate::install::rpm

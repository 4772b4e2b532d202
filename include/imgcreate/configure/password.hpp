// imgcreate — password hashes made in process with libcrypt (libxcrypt), so a plaintext
// password never appears in an argv or on a pipe to `passwd --stdin`.
#pragma once

#include <imgcreate/support/error.hpp>

#include <cerrno>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include <crypt.h>

namespace imgcreate::configure {

// yescrypt: what Fedora's shadow-utils and authselect use by default.
inline constexpr const char* default_hash_prefix = "$y$";

inline std::string hash_password(const std::string& plaintext, const char* prefix = default_hash_prefix) {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    // A null random-bytes pointer asks libcrypt for entropy from the kernel.
    if (!::crypt_gensalt_rn(prefix, 0, nullptr, 0, setting, sizeof setting))
        throw ConfigError(errno_message(std::string("cannot make a password salt for hash method ") + prefix, {}, errno));
    auto data = std::make_unique<crypt_data>();
    const char* hashed = ::crypt_rn(plaintext.c_str(), setting, data.get(), sizeof(crypt_data));
    if (!hashed || hashed[0] == '*')
        throw ConfigError(errno_message(std::string("cannot hash a password with method ") + prefix, {}, errno));
    std::string result = hashed;
    // Don't leave the plaintext-derived state in freed memory longer than needed.
    ::explicit_bzero(data.get(), sizeof(crypt_data));
    return result;
}

// True when `plaintext` matches `hash` (for tests and for callers that check a result).
inline bool password_matches(const std::string& plaintext, const std::string& hash) {
    auto data = std::make_unique<crypt_data>();
    const char* out = ::crypt_rn(plaintext.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
    return out && out[0] != '*' && hash == out;
}

// A locked account's hash: "!" in front, as `passwd -l` and `usermod -L` do.
inline std::string locked(const std::string& hash) {
    return hash.rfind('!', 0) == 0 ? hash : "!" + hash;
}

// Days since 1970 for /etc/shadow's "last changed" field; SOURCE_DATE_EPOCH wins so
// reproducible builds stay reproducible.
inline long shadow_today() {
    std::time_t now = std::time(nullptr);
    if (const char* sde = std::getenv("SOURCE_DATE_EPOCH")) {
        char* end = nullptr;
        long long v = std::strtoll(sde, &end, 10);
        if (end && *end == '\0' && v >= 0) now = static_cast<std::time_t>(v);
    }
    return static_cast<long>(now / 86400);
}

}  // namespace imgcreate::configure

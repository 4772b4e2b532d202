// imgcreate — file checksums (repomd.xml's sha256, sha1, sha512, ...) computed with rpm's own
// digest code, which the transaction loads anyway. librepo's checksum functions would start
// OpenSSL for this alone, and its initialisation is a good part of a small build's memory.
#pragma once

#include <imgcreate/support/error.hpp>

#include <rpm/rpmcrypto.h>
#include <rpm/rpmpgp.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace imgcreate::install {

// rpm's hash algorithm for a checksum type as repomd.xml and primary.xml name it.
inline std::optional<int> digest_algorithm(std::string_view type) {
    if (type == "sha256") return PGPHASHALGO_SHA256;
    if (type == "sha" || type == "sha1") return PGPHASHALGO_SHA1;
    if (type == "sha512") return PGPHASHALGO_SHA512;
    if (type == "sha384") return PGPHASHALGO_SHA384;
    if (type == "sha224") return PGPHASHALGO_SHA224;
    if (type == "md5") return PGPHASHALGO_MD5;
    return std::nullopt;
}

// The lower-case hex digest of a file. Throws Error (naming the file) when it cannot be read
// or the type is unknown.
inline std::string file_digest(const std::filesystem::path& path, std::string_view type) {
    const auto algo = digest_algorithm(type);
    if (!algo) throw Error("unknown checksum type '" + std::string(type) + "' for " + path.string());
    static const int crypto_ready = rpmInitCrypto();
    (void)crypto_ready;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(errno_message("cannot read", path, errno));
    DIGEST_CTX ctx = rpmDigestInit(*algo, RPMDIGEST_NONE);
    if (!ctx) {
        ::close(fd);
        throw Error("rpm cannot compute " + std::string(type) + " digests (for " + path.string() + ")");
    }
    static thread_local char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            rpmDigestFinal(ctx, nullptr, nullptr, 0);
            ::close(fd);
            throw Error(errno_message("cannot read", path, err));
        }
        rpmDigestUpdate(ctx, buf, static_cast<size_t>(n));
    }
    ::close(fd);
    void* hex = nullptr;
    size_t len = 0;
    rpmDigestFinal(ctx, &hex, &len, 1);
    std::string out(static_cast<const char*>(hex));
    std::free(hex);
    return out;
}

}  // namespace imgcreate::install

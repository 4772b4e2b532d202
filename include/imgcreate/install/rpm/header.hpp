// imgcreate — a reference to an rpm Header, released when dropped.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <rpm/header.h>
#include <rpm/rpmtag.h>
#include <rpm/rpmtd.h>

namespace imgcreate::install::rpm {

class Header {
public:
    Header() noexcept = default;
    // Takes over a reference the caller owns (e.g. from rpmReadPackageFile).
    explicit Header(::Header h) noexcept : h_(h) {}
    // Adds a reference to a header rpm lends (e.g. from rpmdbNextIterator).
    static Header borrow(::Header h) noexcept { return Header(h ? headerLink(h) : nullptr); }

    Header(Header&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
    Header& operator=(Header&& other) noexcept {
        if (this != &other) {
            reset();
            h_ = std::exchange(other.h_, nullptr);
        }
        return *this;
    }
    Header(const Header& other) noexcept : h_(other.h_ ? headerLink(other.h_) : nullptr) {}
    Header& operator=(const Header& other) noexcept {
        if (this != &other) *this = Header(other);
        return *this;
    }
    ~Header() { reset(); }

    ::Header get() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_ != nullptr; }

    std::string string(rpmTagVal tag) const {
        const char* s = headerGetString(h_, tag);
        return s ? s : "";
    }
    std::uint64_t number(rpmTagVal tag) const { return headerGetNumber(h_, tag); }
    bool has(rpmTagVal tag) const { return headerIsEntry(h_, tag) != 0; }
    // Formats the tag as `rpm -q --qf '%{TAG}'` would (epoch, evr, nevra...).
    std::string text(rpmTagVal tag) const {
        char* s = headerGetAsString(h_, tag);
        std::string out = s ? s : "";
        free(s);
        return out;
    }
    std::vector<std::string> strings(rpmTagVal tag) const {
        std::vector<std::string> out;
        rpmtd td = rpmtdNew();
        if (headerGet(h_, tag, td, HEADERGET_MINMEM | HEADERGET_EXT)) {
            while (const char* s = rpmtdNextString(td)) out.emplace_back(s);
        }
        rpmtdFreeData(td);
        rpmtdFree(td);
        return out;
    }
    // The raw bytes of a binary tag (a signature packet); empty when absent.
    std::vector<std::uint8_t> binary(rpmTagVal tag) const {
        std::vector<std::uint8_t> out;
        rpmtd td = rpmtdNew();
        if (headerGet(h_, tag, td, HEADERGET_MINMEM | HEADERGET_EXT) && rpmtdType(td) == RPM_BIN_TYPE) {
            auto* data = static_cast<const std::uint8_t*>(td->data);
            out.assign(data, data + td->count);
        }
        rpmtdFreeData(td);
        rpmtdFree(td);
        return out;
    }

    std::string name() const { return string(RPMTAG_NAME); }
    std::string arch() const { return string(RPMTAG_ARCH); }
    std::string nevra() const { return text(RPMTAG_NEVRA); }
    // "[epoch:]version-release", as Package::evr() writes it.
    std::string evr() const { return text(RPMTAG_EVR); }

private:
    void reset() noexcept {
        if (h_) headerFree(h_);
        h_ = nullptr;
    }
    ::Header h_ = nullptr;
};

}  // namespace imgcreate::install::rpm

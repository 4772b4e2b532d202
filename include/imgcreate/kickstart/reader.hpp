// imgcreate — reading kickstart text: from a file, a file:// URL or an http(s):// URL, and
// resolving the targets of %include and %ksappend against the file that names them.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <string_view>
#include <unistd.h>

#include <librepo/librepo.h>

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/glib_log.hpp>

namespace imgcreate::kickstart {

// True when `location` names a URL (as pykickstart decides: it contains "://").
inline bool is_url(std::string_view location) { return location.find("://") != std::string_view::npos; }

namespace detail {

inline bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Percent-decoding for file:// URLs.
inline std::string url_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

inline std::string read_whole_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw Error("Error opening file: " + errno_message("cannot open", path, errno), "kickstart", path);
    std::string text;
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    const bool bad = std::ferror(f) != 0;
    const int err = errno;
    std::fclose(f);
    if (bad) throw Error("Error opening file: " + errno_message("cannot read", path, err), "kickstart", path);
    return text;
}

// Downloads an http(s)/ftp URL with librepo (curl underneath).
inline std::string download_url(const std::string& url) {
    char tmpl[] = "/tmp/imgcreate-ks-XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd < 0) throw Error(errno_message("cannot create a temporary file", tmpl, errno), "kickstart", url);
    ::unlink(tmpl);
    route_glib_log("librepo");
    GError* gerr = nullptr;
    gboolean ok = lr_download_url(nullptr, url.c_str(), fd, &gerr);
    if (!ok) {
        std::string why = gerr && gerr->message ? gerr->message : "download failed";
        if (gerr) g_error_free(gerr);
        ::close(fd);
        throw Error("Error accessing URL \"" + url + "\": " + why, "kickstart", url);
    }
    std::string text;
    ::lseek(fd, 0, SEEK_SET);
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return text;
}

}  // namespace detail

// The whole text at `location`: a path, file:///path, http://... or https://...
// Throws imgcreate::Error saying what went wrong.
inline std::string load_location(const std::string& location) {
    if (detail::starts_with(location, "file://")) {
        std::string_view rest = std::string_view(location).substr(7);
        // file://host/path: only the local host is understood
        if (!rest.empty() && rest[0] != '/') {
            auto slash = rest.find('/');
            std::string_view host = rest.substr(0, slash);
            if (host != "localhost")
                throw Error("Error accessing URL \"" + location + "\": only local file:// URLs can be read", "kickstart",
                            location);
            rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
        }
        return detail::read_whole_file(detail::url_decode(rest));
    }
    if (is_url(location)) {
        if (!detail::starts_with(location, "http://") && !detail::starts_with(location, "https://") &&
            !detail::starts_with(location, "ftp://"))
            throw Error("Error accessing URL \"" + location + "\": unsupported URL scheme", "kickstart", location);
        return detail::download_url(location);
    }
    return detail::read_whole_file(location);
}

// Where `target` (named by %include or %ksappend inside `including`) is. Paths are taken
// relative to the including file's folder (or URL) when they are not absolute and the
// including file's folder holds them; otherwise as given (relative to the working folder),
// which is how pykickstart finds them.
inline std::string resolve_location(const std::string& including, const std::string& target) {
    if (is_url(target) || target.empty()) return target;
    if (including.empty()) return target;
    if (is_url(including) && !detail::starts_with(including, "file://")) {
        if (target[0] == '/') {
            // absolute path on the same server
            auto scheme = including.find("://");
            auto path_start = including.find('/', scheme + 3);
            return (path_start == std::string::npos ? including : including.substr(0, path_start)) + target;
        }
        auto cut = including.find_first_of("?#");
        std::string base = including.substr(0, cut);
        auto slash = base.rfind('/');
        return base.substr(0, slash + 1) + target;
    }
    if (target[0] == '/') return target;
    std::string dir;
    if (detail::starts_with(including, "file://")) {
        std::string path = detail::url_decode(std::string_view(including).substr(7));
        dir = std::filesystem::path(path).parent_path().string();
    } else {
        dir = std::filesystem::path(including).parent_path().string();
    }
    std::error_code ec;
    if (dir.empty()) return target;
    std::string joined = (std::filesystem::path(dir) / target).string();
    if (std::filesystem::exists(joined, ec)) return joined;
    if (std::filesystem::exists(target, ec)) return target;
    return joined;
}

}  // namespace imgcreate::kickstart

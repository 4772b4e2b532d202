// imgcreate — livecd-tools' naming rules for the frontends: the default image name and
// label come from the image type, the kickstart's file name and a time stamp; a live ISO's
// label is at most 32 characters without spaces; the default boot title is the name's first
// two words.
#pragma once

#include <imgcreate/label.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>

#include <sys/utsname.h>

namespace imgcreate::frontend {

// The longest ISO 9660 volume label, as livecd-tools enforces it.
inline constexpr std::size_t fslabel_maxlen = max_fslabel_length;

// "path/fedora-live-xfce.ks" -> "fedora-live-xfce" (everything from the last dot goes).
inline std::string kickstart_stem(const std::string& kickstart) {
    std::string name = std::filesystem::path(kickstart).filename().string();
    if (auto dot = name.rfind('.'); dot != std::string::npos) name.resize(dot);
    return name;
}

// YYYYMMDDHHMM of `when`: local time, or UTC when the time came from SOURCE_DATE_EPOCH so that
// reproducible builds agree whatever the builder's time zone.
inline std::string timestamp(std::time_t when, bool utc) {
    std::tm tm{};
    if (utc)
        ::gmtime_r(&when, &tm);
    else
        ::localtime_r(&when, &tm);
    char stamp[16];
    std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M", &tm);
    return stamp;
}

// <prefix><stem>-<suffix>, where a stem already starting with the prefix keeps it once. Over
// `maxlen`, the prefix goes first, then the stem is cut: the suffix always survives whole.
// The cut is livecd-tools' slice name[:maxlen - len(suffix) - 1]: when the suffix alone is
// longer than that allows, the count goes negative and, as in Python, that many characters
// come off the stem's end (so the result may still be over `maxlen`).
inline std::string build_name(const std::string& kickstart, const std::string& prefix, const std::string& suffix,
                              std::optional<std::size_t> maxlen = std::nullopt) {
    std::string stem = kickstart_stem(kickstart);
    if (stem.rfind(prefix, 0) == 0) stem.erase(0, prefix.size());
    std::string name = prefix + stem + "-" + suffix;
    if (maxlen && name.size() > *maxlen) {
        const long long cut = static_cast<long long>(*maxlen) - static_cast<long long>(suffix.size()) - 1;
        const long long size = static_cast<long long>(stem.size());
        const long long keep = cut >= 0 ? std::min(cut, size) : std::max(0LL, size + cut);
        name = stem.substr(0, static_cast<std::size_t>(keep)) + "-" + suffix;
    }
    return name;
}

inline std::string machine() {
    struct utsname u {};
    ::uname(&u);
    return u.machine;
}

// Why `label` cannot be a live ISO's volume label, or nothing when it can (the library's rule).
inline std::optional<std::string> fslabel_problem(const std::string& label) { return label_problem(label); }

// The first two dash-separated words of `name`, title-cased the way Python's str.title() does
// ("fedora-live-xfce" -> "Fedora Live"); "Linux" when there are none.
inline std::string title_from(const std::string& name) {
    std::string words;
    std::size_t start = 0;
    for (int count = 0; count < 2 && start <= name.size(); ++count) {
        auto dash = name.find('-', start);
        std::string word = name.substr(start, dash == std::string::npos ? std::string::npos : dash - start);
        words += (count ? " " : "") + word;
        if (dash == std::string::npos) break;
        start = dash + 1;
    }
    bool after_letter = false;
    for (auto& c : words) {
        const auto u = static_cast<unsigned char>(c);
        c = static_cast<char>(after_letter ? std::tolower(u) : std::toupper(u));
        after_letter = std::isalpha(u) != 0;
    }
    return words.empty() ? "Linux" : words;
}

}  // namespace imgcreate::frontend

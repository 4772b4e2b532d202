// imgcreate — `timezone`: /etc/localtime as the symlink systemd reads the zone name from,
// and with --utc an /etc/adjtime saying the hardware clock keeps UTC (livecd-tools drops
// --utc). Without --utc /etc/adjtime is left alone: systemd then also assumes UTC, and a
// live image should not be told that the clock runs on local time.
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/kickstart/document.hpp>

#include <cctype>
#include <string>

namespace imgcreate::configure {

inline constexpr const char* default_timezone = "America/New_York";  // livecd-tools' default
inline constexpr const char* adjtime_utc = "0.0 0 0.0\n0\nUTC\n";

namespace detail {
inline bool valid_zone_name(const std::string& zone) {
    if (zone.empty() || zone.front() == '/' || zone.find("..") != std::string::npos) return false;
    for (char c : zone)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+')) return false;
    return true;
}
}  // namespace detail

inline void apply_timezone(const kickstart::Kickstart& ks, const RootDir& root) {
    if (!ks.timezone) return;
    const auto& tz = *ks.timezone;
    std::string zone = tz.name.empty() ? default_timezone : tz.name;
    if (!detail::valid_zone_name(zone))
        throw ConfigError("timezone: '" + zone + "' is not a time zone name (like Europe/Berlin or Etc/UTC)", "timezone");
    std::filesystem::path zonefile = "/usr/share/zoneinfo/" + zone;
    if (!root.exists(zonefile))
        log::warning("timezone: ", zonefile.string(), " is not in the image (is tzdata installed?): /etc/localtime points to it anyway");
    root.mkdirs("/etc");
    root.symlink("/etc/localtime", "../usr/share/zoneinfo/" + zone);
    log::info("timezone: /etc/localtime -> ../usr/share/zoneinfo/", zone);
    if (tz.utc) {
        root.write_file("/etc/adjtime", adjtime_utc, 0644);
        log::info("timezone: /etc/adjtime: the hardware clock keeps UTC");
    }
}

}  // namespace imgcreate::configure

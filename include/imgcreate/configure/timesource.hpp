// imgcreate — NTP: `timesource --ntp-server/--ntp-pool [--nts]` and the older
// `timezone --ntpservers`, as server/pool lines in the image's /etc/chrony.conf (the servers
// the distribution put there are replaced, at the place the first of them stood);
// `timezone --nontp` / `timesource --ntp-disable` disables chronyd.service.
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/configure/services.hpp>
#include <imgcreate/kickstart/document.hpp>

#include <string>
#include <vector>

namespace imgcreate::configure {

inline constexpr const char* chrony_conf = "/etc/chrony.conf";

// The chrony lines the kickstart asks for, in its order.
inline std::vector<std::string> chrony_source_lines(const kickstart::Kickstart& ks) {
    std::vector<std::string> lines;
    if (ks.timezone)
        for (const auto& server : ks.timezone->ntpservers) lines.push_back("server " + server + " iburst");
    for (const auto& t : ks.timesources) {
        std::string nts = t.nts ? " nts" : "";
        if (!t.ntp_server.empty()) lines.push_back("server " + t.ntp_server + " iburst" + nts);
        if (!t.ntp_pool.empty()) lines.push_back("pool " + t.ntp_pool + " iburst" + nts);
    }
    return lines;
}

inline std::string with_chrony_sources(const std::string& text, const std::vector<std::string>& sources) {
    auto lines = split(text, '\n');
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    std::string out, block;
    for (const auto& s : sources) block += s + "\n";
    bool placed = false;
    for (const auto& line : lines) {
        if (line.rfind("server ", 0) == 0 || line.rfind("pool ", 0) == 0) {
            if (!placed) out += block;
            placed = true;
            continue;
        }
        out += line + "\n";
    }
    return placed ? out : block + out;
}

inline bool ntp_disabled(const kickstart::Kickstart& ks) {
    if (ks.timezone && ks.timezone->nontp) return true;
    for (const auto& t : ks.timesources)
        if (t.ntp_disable) return true;
    return false;
}

inline void apply_timesource(const kickstart::Kickstart& ks, const RootDir& root) {
    if (ntp_disabled(ks)) {
        disable_service(root, "chronyd.service");
        log::info("timesource: NTP disabled (chronyd.service)");
        return;
    }
    auto sources = chrony_source_lines(ks);
    if (sources.empty()) return;
    if (!root.exists(chrony_conf))
        return skipped("timesource", "chrony is not in the image (no /etc/chrony.conf): NTP servers not set");
    auto st = stat_in_root(root, chrony_conf);
    root.write_file(chrony_conf, with_chrony_sources(root.read_file(chrony_conf), sources), st ? (st->st_mode & 07777) : 0644);
    log::info("timesource: ", chrony_conf, ": ", sources.size(), " time source(s)");
}

}  // namespace imgcreate::configure

// imgcreate — `network`: the host name (/etc/hostname, /etc/hosts) and one connection per
// --device. With NetworkManager in the image (/usr/sbin/NetworkManager) each becomes a
// keyfile under /etc/NetworkManager/system-connections/ (mode 0600), DNS servers included;
// without it, livecd-tools' ifcfg files in /etc/sysconfig/network-scripts/ plus
// /etc/sysconfig/network and /etc/resolv.conf. Never both: NetworkManager with the ifcfg-rh
// plugin would see two profiles for the same device.
//
// --device=link / bootif (or a MAC address) name no interface in an image built elsewhere:
// the keyfile then matches any Ethernet device (or that MAC). Wireless, bond, bridge, team
// and VLAN devices are not configured (logged).
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/kickstart/document.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace imgcreate::configure {

inline constexpr const char* network_manager_binary = "/usr/sbin/NetworkManager";
inline constexpr const char* nm_connections_dir = "/etc/NetworkManager/system-connections";
inline constexpr const char* ifcfg_dir = "/etc/sysconfig/network-scripts";

inline bool has_network_manager(const RootDir& root) {
    auto st = stat_in_root(root, network_manager_binary);
    return st && S_ISREG(st->st_mode);
}

namespace detail {

inline bool is_mac_address(const std::string& s) {
    if (s.size() != 17) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (i % 3 == 2 ? s[i] != ':' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
    return true;
}

// A device name the image cannot know in advance: any Ethernet device.
inline bool names_no_interface(const std::string& device) {
    return device == "link" || device == "bootif" || is_mac_address(device);
}

// "255.255.255.0" or "24" -> 24; -1 when unreadable.
inline int prefix_length(const std::string& netmask) {
    if (netmask.empty()) return -1;
    if (netmask.find('.') == std::string::npos) {
        try {
            int p = std::stoi(netmask);
            return p >= 0 && p <= 32 ? p : -1;
        } catch (const std::exception&) {
            return -1;
        }
    }
    unsigned a, b, c, d;
    if (std::sscanf(netmask.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4) return -1;
    std::uint32_t mask = (a << 24) | (b << 16) | (c << 8) | d;
    int bits = __builtin_popcount(mask);
    return (bits == 0 || (mask << bits) == 0) ? bits : -1;
}

// A UUID derived from the connection's name, so a rebuilt image gets the same one.
inline std::string stable_uuid(const std::string& seed) {
    auto fnv = [&](std::uint64_t h) {
        for (unsigned char c : seed) h = (h ^ c) * 0x100000001b3ULL;
        return h;
    };
    std::uint64_t hi = fnv(0xcbf29ce484222325ULL), lo = fnv(0x84222325cbf29ce4ULL);
    hi = (hi & ~0xf000ULL) | 0x4000ULL;                          // version 4 layout
    lo = (lo & ~(0xc000ULL << 48)) | (0x8000ULL << 48);          // RFC 4122 variant
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(hi >> 32),
                  (unsigned long long)((hi >> 16) & 0xffff), (unsigned long long)(hi & 0xffff),
                  (unsigned long long)(lo >> 48), (unsigned long long)(lo & 0xffffffffffffULL));
    return buf;
}

inline std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

inline bool is_static(const kickstart::NetworkData& n) { return lower(n.bootproto) == "static"; }

inline std::vector<std::string> nameservers(const kickstart::NetworkData& n) {
    std::vector<std::string> out;
    for (const auto& s : split(n.nameserver, ','))
        if (!s.empty()) out.push_back(s);
    return out;
}

// ip may carry its prefix ("192.168.1.5/24"); otherwise it comes from --netmask.
inline std::string address_with_prefix(const kickstart::NetworkData& n) {
    if (n.ip.find('/') != std::string::npos) return n.ip;
    int prefix = prefix_length(n.netmask);
    if (prefix < 0)
        throw KickstartError(n.origin.file, n.origin.line, "network --device=" + n.device + ": --netmask=" + n.netmask +
                                                               " is not a netmask (like 255.255.255.0 or 24)");
    return n.ip + "/" + std::to_string(prefix);
}

inline std::string unsupported_kind(const kickstart::NetworkData& n) {
    if (!n.essid.empty()) return "wireless (--essid)";
    if (!n.bondslaves.empty()) return "bond (--bondslaves)";
    if (!n.bridgeslaves.empty()) return "bridge (--bridgeslaves)";
    if (!n.teamconfig.empty()) return "team (--teamconfig)";
    if (!n.vlanid.empty()) return "VLAN (--vlanid)";
    return {};
}

inline void check_static(const kickstart::NetworkData& n) {
    if (n.onboot && is_static(n) && (n.ip.empty() || (n.netmask.empty() && n.ip.find('/') == std::string::npos)))
        throw KickstartError(n.origin.file, n.origin.line,
                             "network --device=" + n.device + " --bootproto=static needs --ip and --netmask");
}

}  // namespace detail

// The keyfile NetworkManager reads for one kickstart network line.
inline std::string nm_keyfile(const kickstart::NetworkData& n) {
    using namespace detail;
    std::string t = "[connection]\nid=" + n.device + "\nuuid=" + stable_uuid("imgcreate-network:" + n.device) +
                    "\ntype=ethernet\n";
    if (!names_no_interface(n.device)) t += "interface-name=" + n.device + "\n";
    if (!n.onboot) t += "autoconnect=false\n";
    t += "\n[ethernet]\n";
    if (is_mac_address(n.device)) t += "mac-address=" + n.device + "\n";
    if (!n.mtu.empty()) t += "mtu=" + n.mtu + "\n";
    std::vector<std::string> dns4, dns6;
    for (const auto& ns : nameservers(n)) (ns.find(':') == std::string::npos ? dns4 : dns6).push_back(ns);
    auto dns_lines = [&](const std::vector<std::string>& servers) {
        std::string s;
        if (!servers.empty()) {
            s = "dns=";
            for (const auto& d : servers) s += d + ";";
            s += "\n";
        }
        if (n.nodns) s += "ignore-auto-dns=true\n";
        if (n.nodefroute) s += "never-default=true\n";
        return s;
    };
    t += "\n[ipv4]\n";
    if (n.noipv4) {
        t += "method=disabled\n";
    } else if (is_static(n)) {
        t += "address1=" + address_with_prefix(n) + (n.gateway.empty() ? "" : "," + n.gateway) + "\nmethod=manual\n";
        t += dns_lines(dns4);
    } else {
        t += "method=auto\n" + dns_lines(dns4);
        if (!n.dhcpclass.empty()) t += "dhcp-vendor-class-identifier=" + n.dhcpclass + "\n";
    }
    t += "\n[ipv6]\n";
    if (n.noipv6) t += "method=ignore\n";
    else if (n.ipv6.empty() || n.ipv6 == "auto") t += "addr-gen-mode=default\nmethod=auto\n" + dns_lines(dns6);
    else if (n.ipv6 == "dhcp") t += "method=dhcp\n" + dns_lines(dns6);
    else t += "address1=" + n.ipv6 + (n.ipv6gateway.empty() ? "" : "," + n.ipv6gateway) + "\nmethod=manual\n" + dns_lines(dns6);
    return t + "\n[proxy]\n";
}

// livecd-tools' ifcfg file for one network line.
inline std::string ifcfg_file(const kickstart::NetworkData& n) {
    std::string t = "DEVICE=" + n.device + "\nBOOTPROTO=" + n.bootproto + "\n";
    if (detail::is_static(n)) {
        if (!n.ip.empty()) t += "IPADDR=" + n.ip + "\n";
        if (!n.netmask.empty()) t += "NETMASK=" + n.netmask + "\n";
    }
    t += std::string("ONBOOT=") + (n.onboot ? "yes" : "no") + "\n";
    if (!n.ethtool.empty())
        t += "ETHTOOL_OPTS=\"" + (n.ethtool.find("autoneg") == std::string::npos ? "autoneg off " + n.ethtool : n.ethtool) + "\"\n";
    if (detail::lower(n.bootproto) == "dhcp") {
        if (!n.hostname.empty()) t += "DHCP_HOSTNAME=" + n.hostname + "\n";
        if (!n.dhcpclass.empty()) t += "DHCP_CLASSID=" + n.dhcpclass + "\n";
    }
    if (!n.mtu.empty()) t += "MTU=" + n.mtu + "\n";
    return t;
}

inline std::string hosts_file(const std::string& hostname) {
    std::string names = hostname;
    auto dot = hostname.find('.');
    if (dot != std::string::npos) names += " " + hostname.substr(0, dot);
    return "127.0.0.1   " + names + " localhost localhost.localdomain localhost4 localhost4.localdomain4\n"
           "::1         localhost localhost.localdomain localhost6 localhost6.localdomain6\n";
}

namespace detail {

struct NetworkSummary {
    std::string hostname, gateway;
    std::vector<std::string> nameservers;
    bool nodns = false, ipv6 = false;
};

inline void write_nm_connection(const RootDir& root, const kickstart::NetworkData& n) {
    std::filesystem::path file = std::string(nm_connections_dir) + "/" + n.device + ".nmconnection";
    write_in_root(root, file, nm_keyfile(n), 0600);
    log::info("network: ", file.string(), n.onboot ? "" : " (not started at boot)");
}

inline void write_ifcfg(const RootDir& root, const kickstart::NetworkData& n) {
    if (names_no_interface(n.device))
        return skipped("network --device=" + n.device,
                       "names no interface, and without NetworkManager in the image nothing can match one at boot");
    std::filesystem::path file = std::string(ifcfg_dir) + "/ifcfg-" + n.device;
    write_in_root(root, file, ifcfg_file(n), 0644);
    log::info("network: ", file.string());
    if (!n.wepkey.empty()) write_in_root(root, std::string(ifcfg_dir) + "/keys-" + n.device, "KEY=" + n.wepkey + "\n", 0600);
}

inline void write_legacy_files(const RootDir& root, const NetworkSummary& s) {
    std::string text = "NETWORKING=yes\n" + std::string("NETWORKING_IPV6=") + (s.ipv6 ? "yes" : "no") + "\n";
    if (!s.gateway.empty()) text += "GATEWAY=" + s.gateway + "\n";
    write_in_root(root, "/etc/sysconfig/network", text);
    if (s.nodns || s.nameservers.empty()) return;
    std::string resolv;
    for (const auto& ns : s.nameservers) resolv += "nameserver " + ns + "\n";
    root.write_file("/etc/resolv.conf", resolv, 0644);  // replaces a symlink to a resolver stub, too
    log::info("network: /etc/resolv.conf: ", s.nameservers.size(), " name server(s)");
}

}  // namespace detail

inline void apply_network(const kickstart::Kickstart& ks, const RootDir& root) {
    if (ks.network.empty()) return;
    const bool nm = has_network_manager(root);
    detail::NetworkSummary summary;
    for (const auto& n : ks.network) {
        if (!n.hostname.empty()) summary.hostname = n.hostname;
        if (!n.gateway.empty()) summary.gateway = n.gateway;
        if (!n.nameserver.empty()) summary.nameservers = detail::nameservers(n);
        summary.nodns = summary.nodns || n.nodns;
        summary.ipv6 = summary.ipv6 || !n.ipv6.empty();
        if (n.device.empty()) continue;  // a line that only names the host
        auto kind = detail::unsupported_kind(n);
        if (!kind.empty()) {
            skipped("network --device=" + n.device, kind + " devices are not configured by imgcreate");
            continue;
        }
        detail::check_static(n);
        if (nm) detail::write_nm_connection(root, n);
        else detail::write_ifcfg(root, n);
    }
    if (!nm) detail::write_legacy_files(root, summary);
    if (summary.hostname.empty()) return;
    write_in_root(root, "/etc/hostname", summary.hostname + "\n");
    write_in_root(root, "/etc/hosts", hosts_file(summary.hostname));
    log::info("network: host name ", summary.hostname, " (/etc/hostname, /etc/hosts)");
}

}  // namespace imgcreate::configure

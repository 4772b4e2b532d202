// imgcreate — the typed view of the commands creators use: rootpw, timezone, network, part,
// repo, ... Each is filled from the parsed command data when parsing ends (see
// Kickstart::commands for the full record every command leaves).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <imgcreate/kickstart/commands.hpp>
#include <imgcreate/kickstart/diagnostic.hpp>

namespace imgcreate::kickstart {

struct RootPw {
    std::string password;
    bool iscrypted = false;
    bool plaintext = true;
    bool lock = false;
    bool allow_ssh = false;
    Origin origin;
};

struct Timezone {
    std::string name;            // e.g. "America/New_York"; empty when only options were given
    bool utc = false;            // --utc / --isUtc
    bool nontp = false;
    std::vector<std::string> ntpservers;
    Origin origin;
};

struct TimesourceData {
    std::string ntp_server, ntp_pool;
    bool nts = false, ntp_disable = false;
    Origin origin;
};

struct Lang {
    std::string lang;
    std::vector<std::string> addsupport;
    Origin origin;
};

struct Keyboard {
    std::string keyboard;   // the old single-argument form
    std::string vckeymap;
    std::vector<std::string> xlayouts, switch_options;
    Origin origin;
};

struct NetworkData {
    std::string device, bootproto, ip, netmask, gateway, nameserver, hostname, ipv6, ipv6gateway;
    std::string essid, ethtool, mtu, dhcpclass, wepkey, wpakey, bondslaves, bondopts, vlanid, interfacename;
    std::string bridgeslaves, bridgeopts, teamconfig, bindto, ipv4_dns_search, ipv6_dns_search;
    bool onboot = true, nodns = false, noipv4 = false, noipv6 = false, nodefroute = false, notksdevice = false;
    std::optional<bool> activate;  // --activate / --no-activate
    Origin origin;
};

struct Firewall {
    bool enabled = true;
    bool use_system_defaults = false;
    std::vector<std::string> ports, trusts, services, remove_services;
    Origin origin;
};

enum class SELinuxMode { disabled, enforcing, permissive };

struct Services {
    std::vector<std::string> enabled, disabled;
    Origin origin;
};

struct Bootloader {
    std::string append, location, password, default_entry, boot_drive;
    std::optional<long long> timeout;
    std::vector<std::string> driveorder;
    bool iscrypted = false, disabled = false, leavebootorder = false, extlinux = false, nombr = false, sdboot = false;
    Origin origin;
};

struct XConfig {
    std::string defaultdesktop;
    bool startxonboot = false;
    Origin origin;
};

struct RepoData {
    std::string name, baseurl, mirrorlist, metalink, proxy, sslcacert, sslclientcert, sslclientkey;
    std::optional<long long> cost;
    std::vector<std::string> includepkgs, excludepkgs;
    bool noverifyssl = false, install = false;
    Origin origin;
};

struct Url {
    std::string url, mirrorlist, metalink, proxy, sslcacert, sslclientcert, sslclientkey;
    bool noverifyssl = false;
    Origin origin;
};

struct PartitionData {
    std::string mountpoint, fstype, label, ondisk, onpart, onbiosdisk, fsoptions, mkfsoptions, fsprofile;
    std::optional<long long> size;  // MiB
    long long maxsize = 0;          // MiB, 0 = none
    bool grow = false, format = true, recommended = false, asprimary = false, resize = false, hibernation = false;
    bool encrypted = false;
    std::string passphrase, cipher, luks_version;
    Origin origin;
};

// `linux_native`, not `linux`: in GNU mode (g++ -std=gnu++20, CMake's default) `linux` is a macro.
enum class ClearPartType { linux_native, all, none, list };

struct ClearPart {
    std::optional<ClearPartType> type;
    std::vector<std::string> drives, devices;
    bool initlabel = false, cdl = false;
    std::string disklabel;
    Origin origin;
};

struct AutoPart {
    std::string type;  // "lvm", "btrfs", "plain", "thinp" or "" (installer default)
    std::string fstype, passphrase, cipher, luks_version;
    bool encrypted = false, nohome = false, noboot = false, noswap = false, hibernation = false;
    Origin origin;
};

struct ReqPart {
    bool add_boot = false;
    Origin origin;
};

struct LogVolData {
    std::string mountpoint, name, vgname, fstype, label, fsoptions, mkfsoptions, poolname;
    std::optional<long long> size, percent;
    long long maxsize = 0;
    bool grow = false, format = true, useexisting = false, recommended = false, thin = false, thinpool = false;
    bool encrypted = false;
    Origin origin;
};

struct VolGroupData {
    std::string name;
    std::vector<std::string> physvols;
    std::optional<long long> pesize;
    bool format = true, useexisting = false;
    Origin origin;
};

struct RaidData {
    std::string mountpoint, device, level, fstype, label;
    std::vector<std::string> members;
    long long spares = 0;
    bool format = true, useexisting = false, encrypted = false;
    Origin origin;
};

struct BtrfsData {
    std::string mountpoint, name, label, data_level, metadata_level, mkfsoptions;
    std::vector<std::string> devices;
    bool subvol = false, format = true, useexisting = false;
    Origin origin;
};

struct IgnoreDisk {
    std::vector<std::string> drives, only_use;
    Origin origin;
};

struct UserData {
    std::string name, password, homedir, shell, gecos;
    std::vector<std::string> groups;
    std::optional<long long> uid, gid;
    bool iscrypted = false, lock = false;
    Origin origin;
};

struct GroupData {
    std::string name;
    std::optional<long long> gid;
    Origin origin;
};

struct SshKeyData {
    std::string username, key;
    Origin origin;
};

struct SshPwData {
    std::string username, password;
    bool iscrypted = false, lock = false, sshkey = false;
    Origin origin;
};

enum class Firstboot { enable, disable, reconfig };
enum class DisplayMode { cmdline, graphical, text };
enum class FinalAction { halt, reboot, shutdown };  // halt, reboot, poweroff/shutdown

struct Logging {
    std::string host, port, level;
    Origin origin;
};

struct Liveimg {
    std::string url, proxy, checksum;
    bool noverifyssl = false;
    Origin origin;
};

struct OstreeSetup {
    std::string osname, remote, url, ref;
    bool nogpg = false;
    Origin origin;
};

}  // namespace imgcreate::kickstart

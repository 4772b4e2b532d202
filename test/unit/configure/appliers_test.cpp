#include <catch2/catch.hpp>

#include "fake_root.hpp"

#include <imgcreate/configure/appliers.hpp>

#include <algorithm>
#include <map>
#include <set>

#include <unistd.h>

using namespace imgcreate;
using namespace imgcreate::test;
namespace cfg = imgcreate::configure;

namespace {

std::string link_of(const FakeRoot& r, const std::string& rel) { return fs::read_symlink(r.path / rel).string(); }

void add_unit(FakeRoot& r, const std::string& name, const std::string& install) {
    r.file("usr/lib/systemd/system/" + name, "[Unit]\nDescription=" + name + "\n\n[Service]\nExecStart=/bin/true\n\n" + install);
}

std::string shadow_field(const std::string& shadow, const std::string& user, std::size_t field) {
    for (const auto& line : cfg::split(shadow, '\n')) {
        auto f = cfg::split(line, ':');
        if (f.size() > field && f[0] == user) return f[field];
    }
    return "<no line for " + user + ">";
}

}  // namespace

TEST_CASE("lang writes LANG into /etc/locale.conf and keeps the file's other lines") {
    FakeRoot r;
    r.file("etc/locale.conf", "LANG=\"C.UTF-8\"\nLC_TIME=\"en_GB.UTF-8\"\n");
    cfg::apply_lang(ks("lang de_DE.UTF-8 --addsupport=fr_FR\n"), r.dir_handle());
    CHECK(r.read("etc/locale.conf") == "LANG=\"de_DE.UTF-8\"\nLC_TIME=\"en_GB.UTF-8\"\n");
}

TEST_CASE("a kickstart without a lang command leaves /etc/locale.conf alone") {
    FakeRoot r;
    cfg::apply_lang(ks("keyboard us\n"), r.dir_handle());
    CHECK_FALSE(r.exists("etc/locale.conf"));
}

TEST_CASE("keyboard writes the console keymap with Fedora's font and the X11 layouts localed would write") {
    FakeRoot r;
    LogCapture log;
    cfg::apply_keyboard(ks("keyboard --vckeymap=cz-qwerty --xlayouts='cz (qwerty)','us' --switch=grp:alt_shift_toggle\n"),
                        r.dir_handle());
    CHECK(r.read("etc/vconsole.conf") == "KEYMAP=\"cz-qwerty\"\nFONT=\"eurlatgr\"\n");
    CHECK(r.read("etc/X11/xorg.conf.d/00-keyboard.conf") ==
          "# Written by imgcreate from the kickstart's keyboard command, in the format\n"
          "# systemd-localed(8) reads and writes.\n"
          "Section \"InputClass\"\n"
          "        Identifier \"system-keyboard\"\n"
          "        MatchIsKeyboard \"on\"\n"
          "        Option \"XkbLayout\" \"cz,us\"\n"
          "        Option \"XkbVariant\" \"qwerty,\"\n"
          "        Option \"XkbOptions\" \"grp:alt_shift_toggle\"\n"
          "EndSection\n");
    CHECK(log.has("keyboard: /etc/vconsole.conf: KEYMAP=\"cz-qwerty\""));
}

TEST_CASE("the old one-word keyboard form sets only the console keymap and keeps a font already chosen") {
    FakeRoot r;
    r.file("etc/vconsole.conf", "KEYMAP=\"us\"\nFONT=\"latarcyrheb-sun16\"\n");
    cfg::apply_keyboard(ks("keyboard de\n"), r.dir_handle());
    CHECK(r.read("etc/vconsole.conf") == "KEYMAP=\"de\"\nFONT=\"latarcyrheb-sun16\"\n");
    CHECK_FALSE(r.exists("etc/X11/xorg.conf.d/00-keyboard.conf"));
}

TEST_CASE("timezone links /etc/localtime to the zone and --utc writes /etc/adjtime") {
    FakeRoot r;
    r.file("etc/localtime", "old copied zone file");
    cfg::apply_timezone(ks("timezone Europe/Berlin --utc\n"), r.dir_handle());
    CHECK(fs::is_symlink(r.path / "etc/localtime"));
    CHECK(link_of(r, "etc/localtime") == "../usr/share/zoneinfo/Europe/Berlin");
    CHECK(r.read("etc/adjtime") == "0.0 0 0.0\n0\nUTC\n");
    CHECK(r.read("etc/localtime") == "TZif2 fake");  // resolves inside the root
}

TEST_CASE("timezone without --utc leaves /etc/adjtime alone and warns about a zone the image lacks") {
    FakeRoot r;
    LogCapture log;
    cfg::apply_timezone(ks("timezone Asia/Tokyo\n"), r.dir_handle());
    CHECK(link_of(r, "etc/localtime") == "../usr/share/zoneinfo/Asia/Tokyo");
    CHECK_FALSE(r.exists("etc/adjtime"));
    CHECK(log.has("warning: timezone: /usr/share/zoneinfo/Asia/Tokyo is not in the image (is tzdata installed?)"));
}

TEST_CASE("a timezone name that climbs out of zoneinfo is refused") {
    FakeRoot r;
    CHECK_THROWS_WITH(cfg::apply_timezone(ks("timezone ../../../etc/shadow --utc\n"), r.dir_handle()),
                      Catch::Contains("timezone: '../../../etc/shadow' is not a time zone name"));
    CHECK_FALSE(r.exists("etc/localtime"));
}

TEST_CASE("appliers whose tool is not in the image skip with one log line each") {
    FakeRoot r;
    LogCapture log;
    auto k = ks("authselect select minimal --force\n"
                "firewall --enabled --service=mdns\n"
                "group --name=devs --gid=5000\n"
                "user --name=alice --password=secret\n"
                "selinux --enforcing\n");
    r.file("etc/selinux/config", "SELINUX=permissive\nSELINUXTYPE=targeted\n");
    cfg::apply_all(k, r.dir_handle());
    cfg::apply_selinux(k, r.dir_handle());
    CHECK(log.has("authselect: skipped: authselect is not in the image (install the authselect package)"));
    CHECK(log.has("firewall: skipped: firewall-offline-cmd is not in the image (install firewalld)"));
    CHECK(log.has("group: skipped: groupadd is not in the image (install shadow-utils): group devs not created"));
    CHECK(log.has("user: skipped: useradd is not in the image (install shadow-utils): alice not created"));
    CHECK(log.has("selinux relabel: skipped: setfiles is not in the image (install policycoreutils)"));
    CHECK(r.read("etc/group") == "root:x:0:\nwheel:x:10:\n");
    CHECK(r.read("etc/selinux/config") == "SELINUX=enforcing\nSELINUXTYPE=targeted\n");
}

TEST_CASE("firewall passes the kickstart's options to firewall-offline-cmd") {
    auto k = ks("firewall --enabled --service=mdns,ssh --port=22:tcp,5353:udp --trust=eth0 --remove-service=cockpit\n");
    REQUIRE(k.firewall);
    CHECK(cfg::firewall_arguments(*k.firewall) ==
          std::vector<std::string>{"--enabled", "--trust=eth0", "--port=22:tcp", "--port=5353:udp", "--service=mdns",
                                   "--service=ssh", "--remove-service=cockpit"});
    CHECK(cfg::firewall_arguments(*ks("firewall --disabled\n").firewall) == std::vector<std::string>{"--disabled"});
}

TEST_CASE("firewall --use-system-defaults keeps the image's configuration without looking for the tool") {
    FakeRoot r;
    LogCapture log;
    cfg::apply_firewall(ks("firewall --use-system-defaults\n"), r.dir_handle());
    CHECK(log.has("firewall: --use-system-defaults: the image's firewall configuration is kept"));
    CHECK_FALSE(log.has("skipped"));
}

TEST_CASE("rootpw --plaintext is hashed with yescrypt into /etc/shadow, keeping the other lines and the mode") {
    FakeRoot r;
    fs::permissions(r.path / "etc/shadow", fs::perms(0640));
    cfg::apply_rootpw(ks("rootpw --plaintext s3cret\n"), r.dir_handle());
    auto shadow = r.read("etc/shadow");
    auto hash = shadow_field(shadow, "root", 1);
    CHECK(hash.rfind("$y$", 0) == 0);
    CHECK(cfg::password_matches("s3cret", hash));
    CHECK_FALSE(cfg::password_matches("wrong", hash));
    CHECK(shadow_field(shadow, "root", 2) == std::to_string(cfg::shadow_today()));
    CHECK(shadow.find("s3cret") == std::string::npos);
    CHECK(shadow.substr(shadow.find('\n') + 1) == "bin:*:19000:0:99999:7:::\n");
    CHECK(mode_of(r.path / "etc/shadow") == 0640);
}

TEST_CASE("rootpw --iscrypted --lock, as Fedora's live kickstarts use it, writes '!locked' and keeps shadow's mode") {
    FakeRoot r;
    r.file("etc/shadow", "root:*::0:99999:7:::\nbin:*:19000:0:99999:7:::\n", FakeRoot::shadow_mode());
    cfg::apply_rootpw(ks("rootpw --lock --iscrypted locked\n"), r.dir_handle());
    CHECK(r.read("etc/shadow") == "root:!locked::0:99999:7:::\nbin:*:19000:0:99999:7:::\n");
    CHECK(mode_of(r.path / "etc/shadow") == static_cast<mode_t>(FakeRoot::shadow_mode()));
}

TEST_CASE("rootpw --lock alone locks the hash already there, and --allow-ssh adds the sshd drop-in") {
    FakeRoot r;
    r.file("etc/shadow", "root:$6$abc$def:19000:0:99999:7:::\n", FakeRoot::shadow_mode());
    fs::create_directories(r.path / "etc/ssh/sshd_config.d");
    cfg::apply_rootpw(ks("rootpw --lock --allow-ssh\n"), r.dir_handle());
    CHECK(r.read("etc/shadow") == "root:!$6$abc$def:19000:0:99999:7:::\n");
    CHECK(r.read("etc/ssh/sshd_config.d/01-permitrootlogin.conf") == "PermitRootLogin yes\n");
    CHECK(mode_of(r.path / "etc/ssh/sshd_config.d/01-permitrootlogin.conf") == 0600);
}

TEST_CASE("rootpw does not write through a symlinked /etc/shadow that points out of the root") {
    FakeRoot r;
    TempDir outside;
    write_host_file(outside.path / "shadow", "root:host:1:0:99999:7:::\n");
    fs::remove(r.path / "etc/shadow");
    fs::create_symlink(outside.path / "shadow", r.path / "etc/shadow");
    LogCapture log;
    cfg::apply_rootpw(ks("rootpw --plaintext pw\n"), r.dir_handle());
    CHECK(read_host_file(outside.path / "shadow") == "root:host:1:0:99999:7:::\n");
    CHECK(log.has("rootpw: skipped: /etc/shadow is not in the image"));
}

TEST_CASE("services enables units from their [Install] sections and disables by removing their links") {
    FakeRoot r;
    LogCapture log;
    add_unit(r, "sshd.service", "[Install]\nWantedBy=multi-user.target\n");
    add_unit(r, "NetworkManager.service",
             "[Install]\nWantedBy=multi-user.target\nAlias=dbus-org.freedesktop.NetworkManager.service\n"
             "Also=NetworkManager-dispatcher.service\n");
    add_unit(r, "NetworkManager-dispatcher.service", "[Install]\nAlias=dbus-org.freedesktop.nm-dispatcher.service\n");
    add_unit(r, "getty@.service", "[Install]\nWantedBy=getty.target\nDefaultInstance=tty1\n");
    add_unit(r, "cups.service", "[Install]\nWantedBy=multi-user.target printer.target\n");
    add_unit(r, "static.service", "");
    fs::create_directories(r.path / "etc/systemd/system/multi-user.target.wants");
    fs::create_directories(r.path / "etc/systemd/system/printer.target.wants");
    fs::create_symlink("/usr/lib/systemd/system/cups.service", r.path / "etc/systemd/system/multi-user.target.wants/cups.service");
    fs::create_symlink("/usr/lib/systemd/system/cups.service", r.path / "etc/systemd/system/printer.target.wants/cups.service");

    cfg::apply_services(ks("services --disabled=cups --enabled=sshd,NetworkManager,getty@tty2,static,getty@,missing\n"),
                        r.dir_handle());

    const std::string wants = "etc/systemd/system/multi-user.target.wants/";
    CHECK(link_of(r, wants + "sshd.service") == "/usr/lib/systemd/system/sshd.service");
    CHECK(link_of(r, wants + "NetworkManager.service") == "/usr/lib/systemd/system/NetworkManager.service");
    CHECK(link_of(r, "etc/systemd/system/dbus-org.freedesktop.NetworkManager.service") ==
          "/usr/lib/systemd/system/NetworkManager.service");
    CHECK(link_of(r, "etc/systemd/system/dbus-org.freedesktop.nm-dispatcher.service") ==
          "/usr/lib/systemd/system/NetworkManager-dispatcher.service");
    CHECK(link_of(r, "etc/systemd/system/getty.target.wants/getty@tty2.service") == "/usr/lib/systemd/system/getty@.service");
    CHECK(link_of(r, "etc/systemd/system/getty.target.wants/getty@tty1.service") == "/usr/lib/systemd/system/getty@.service");
    CHECK_FALSE(r.exists(wants + "cups.service"));
    CHECK_FALSE(r.exists("etc/systemd/system/printer.target.wants/cups.service"));
    CHECK(log.has("services: static.service has no [Install] section: nothing to enable"));
    CHECK(log.has("warning: services: cannot enable missing.service: no such unit in the image"));
}

TEST_CASE("services refuses to enable a masked unit") {
    FakeRoot r;
    LogCapture log;
    add_unit(r, "sshd.service", "[Install]\nWantedBy=multi-user.target\n");
    fs::create_directories(r.path / "etc/systemd/system");
    fs::create_symlink("/dev/null", r.path / "etc/systemd/system/sshd.service");
    cfg::apply_services(ks("services --enabled=sshd\n"), r.dir_handle());
    CHECK(log.has("warning: services: cannot enable sshd.service: it is masked in the image"));
    CHECK_FALSE(r.exists("etc/systemd/system/multi-user.target.wants/sshd.service"));
}

TEST_CASE("xconfig --startxonboot makes graphical.target the default and --defaultdesktop names the desktop") {
    FakeRoot r;
    add_unit(r, "graphical.target", "");
    cfg::apply_xconfig(ks("xconfig --startxonboot --defaultdesktop=GNOME\n"), r.dir_handle());
    CHECK(link_of(r, "etc/systemd/system/default.target") == "/usr/lib/systemd/system/graphical.target");
    CHECK(r.read("etc/sysconfig/desktop") == "DESKTOP=GNOME\n");
}

TEST_CASE("xconfig --startxonboot without systemd in the image skips with a log line") {
    FakeRoot r;
    LogCapture log;
    cfg::apply_xconfig(ks("xconfig --startxonboot\n"), r.dir_handle());
    CHECK(log.has("xconfig --startxonboot: skipped: graphical.target is not in the image (is systemd installed?)"));
    CHECK_FALSE(r.exists("etc/systemd/system/default.target"));
}

TEST_CASE("network writes NetworkManager keyfiles (mode 0600) when NetworkManager is in the image") {
    FakeRoot r;
    r.tool("usr/sbin/NetworkManager");
    cfg::apply_network(ks("network --bootproto=dhcp --device=link --activate --hostname=live.example.org\n"
                          "network --bootproto=static --device=eth1 --ip=192.168.1.5 --netmask=255.255.255.0 "
                          "--gateway=192.168.1.1 --nameserver=192.168.1.53,2001:db8::53 --onboot=off\n"),
                       r.dir_handle());
    const std::string dir = "etc/NetworkManager/system-connections/";
    CHECK(r.read(dir + "link.nmconnection") ==
          "[connection]\nid=link\nuuid=" + cfg::detail::stable_uuid("imgcreate-network:link") +
              "\ntype=ethernet\n\n[ethernet]\n\n[ipv4]\nmethod=auto\n\n[ipv6]\naddr-gen-mode=default\nmethod=auto\n\n[proxy]\n");
    CHECK(r.read(dir + "eth1.nmconnection") ==
          "[connection]\nid=eth1\nuuid=" + cfg::detail::stable_uuid("imgcreate-network:eth1") +
              "\ntype=ethernet\ninterface-name=eth1\nautoconnect=false\n\n[ethernet]\n\n"
              "[ipv4]\naddress1=192.168.1.5/24,192.168.1.1\nmethod=manual\ndns=192.168.1.53;\n\n"
              "[ipv6]\naddr-gen-mode=default\nmethod=auto\ndns=2001:db8::53;\n\n[proxy]\n");
    CHECK(mode_of(r.path / (dir + "link.nmconnection")) == 0600);
    CHECK(mode_of(r.path / (dir + "eth1.nmconnection")) == 0600);
    CHECK(r.read("etc/hostname") == "live.example.org\n");
    CHECK(r.read("etc/hosts") ==
          "127.0.0.1   live.example.org live localhost localhost.localdomain localhost4 localhost4.localdomain4\n"
          "::1         localhost localhost.localdomain localhost6 localhost6.localdomain6\n");
    CHECK_FALSE(r.exists("etc/sysconfig/network-scripts"));
    CHECK_FALSE(r.exists("etc/resolv.conf"));
    CHECK(cfg::detail::stable_uuid("imgcreate-network:link").size() == 36);
    CHECK(cfg::detail::stable_uuid("imgcreate-network:link")[14] == '4');
}

TEST_CASE("network writes livecd-tools' ifcfg files, /etc/sysconfig/network and resolv.conf without NetworkManager") {
    FakeRoot r;
    fs::create_directories(r.path / "run/systemd/resolve");
    fs::create_symlink("../run/systemd/resolve/stub-resolv.conf", r.path / "etc/resolv.conf");
    cfg::apply_network(ks("network --bootproto=static --device=eth0 --ip=10.0.0.2 --netmask=255.0.0.0 "
                          "--gateway=10.0.0.1 --nameserver=10.0.0.53 --hostname=box --mtu=9000\n"),
                       r.dir_handle());
    CHECK(r.read("etc/sysconfig/network-scripts/ifcfg-eth0") ==
          "DEVICE=eth0\nBOOTPROTO=static\nIPADDR=10.0.0.2\nNETMASK=255.0.0.0\nONBOOT=yes\nMTU=9000\n");
    CHECK(r.read("etc/sysconfig/network") == "NETWORKING=yes\nNETWORKING_IPV6=no\nGATEWAY=10.0.0.1\n");
    CHECK_FALSE(fs::is_symlink(r.path / "etc/resolv.conf"));
    CHECK(r.read("etc/resolv.conf") == "nameserver 10.0.0.53\n");
    CHECK(r.read("etc/hostname") == "box\n");
}

TEST_CASE("a static network line without a netmask is a kickstart error naming its line") {
    FakeRoot r;
    r.tool("usr/sbin/NetworkManager");
    CHECK_THROWS_WITH(cfg::apply_network(ks("lang C\nnetwork --bootproto=static --device=eth0 --ip=10.0.0.2\n"), r.dir_handle()),
                      "test.ks:2: network --device=eth0 --bootproto=static needs --ip and --netmask");
}

TEST_CASE("selinux rewrites only the SELINUX= line of /etc/selinux/config and keeps its mode") {
    FakeRoot r;
    r.file("etc/selinux/config", "# comment\nSELINUX=enforcing\nSELINUXTYPE=mls\n", fs::perms(0600));
    LogCapture log;
    cfg::apply_selinux(ks("selinux --disabled\n"), r.dir_handle());
    CHECK(r.read("etc/selinux/config") == "# comment\nSELINUX=disabled\nSELINUXTYPE=mls\n");
    CHECK(mode_of(r.path / "etc/selinux/config") == 0600);
    CHECK_FALSE(log.has("relabel"));
}

TEST_CASE("selinux finds the newest binary policy and names it to setfiles with the API filesystems excluded") {
    FakeRoot r;
    r.file("etc/selinux/config", "SELINUX=permissive\nSELINUXTYPE=targeted\n");
    r.file("etc/selinux/targeted/policy/policy.31", "");
    r.file("etc/selinux/targeted/policy/policy.33", "");
    auto policy = cfg::detail::binary_policy(r.dir_handle(), "targeted");
    CHECK(policy == "/etc/selinux/targeted/policy/policy.33");
    CHECK(cfg::setfiles_arguments(policy, "targeted", {"/var/cache/dnf", "/proc"}) ==
          std::vector<std::string>{"-F", "-p", "-e", "/proc", "-e", "/sys", "-e", "/dev", "-e", "/var/cache/dnf", "-c",
                                   "/etc/selinux/targeted/policy/policy.33",
                                   "/etc/selinux/targeted/contexts/files/file_contexts", "/"});
    LogCapture log;
    cfg::apply_selinux(ks("selinux --enforcing\n"), r.dir_handle());  // no setfiles in this root
    CHECK(log.has("selinux: /etc/selinux/config: SELINUX=enforcing"));
    CHECK(log.has("selinux relabel: skipped: setfiles is not in the image"));
}

namespace {

// Every entry of the tree below `root`, as setfiles would walk it from `from` (not following
// symbolic links, skipping what `excluded` names and everything below it), added to `seen`.
void walk_as_setfiles(const fs::path& root, const std::string& from, const std::set<std::string>& excluded,
                      std::map<std::string, int>& seen) {
    if (excluded.count(from)) return;
    ++seen[from];
    const auto dir = from == "/" ? root : root / fs::path(from).relative_path();
    if (!fs::is_directory(fs::symlink_status(dir))) return;
    for (const auto& e : fs::directory_iterator(dir))
        walk_as_setfiles(root, (from == "/" ? "/" : from + "/") + e.path().filename().string(), excluded, seen);
}

}  // namespace

TEST_CASE("the relabel is split in setfiles runs of about as many files that together label every file once") {
    FakeRoot r;
    for (int i = 0; i < 300; ++i) r.file("usr/share/doc/pkg" + std::to_string(i) + "/README", "x");
    for (int i = 0; i < 250; ++i) r.file("usr/lib/modules/6.1/kernel/m" + std::to_string(i) + ".ko", "x");
    for (int i = 0; i < 120; ++i) r.file("usr/bin/tool" + std::to_string(i), "x");
    for (int i = 0; i < 90; ++i) r.file("etc/conf" + std::to_string(i), "x");
    for (int i = 0; i < 40; ++i) r.file("proc/" + std::to_string(i), "x");            // API filesystem: never
    for (int i = 0; i < 40; ++i) r.file("var/cache/dnf/p" + std::to_string(i), "x");  // a bound cache: never
    fs::create_directory_symlink("usr/lib", r.path / "lib");
    const std::vector<std::string> mounts{"/proc", "/sys", "/dev", "/var/cache/dnf"};
    const std::set<std::string> never(mounts.begin(), mounts.end());

    std::map<std::string, int> whole;
    walk_as_setfiles(r.path, "/", never, whole);
    REQUIRE(whole.size() > 1000);
    for (unsigned processors : {2u, 3u, 4u}) {
        INFO(processors << " processors");
        const auto parts = cfg::split_relabel(r.path, mounts, processors, 100);
        REQUIRE(parts.size() == processors);
        CHECK(parts[0].paths == std::vector<std::string>{"/"});
        std::map<std::string, int> seen;
        std::vector<std::size_t> sizes;
        for (const auto& part : parts) {
            std::set<std::string> excluded = never;
            excluded.insert(part.excluded.begin(), part.excluded.end());
            std::map<std::string, int> mine;
            for (const auto& path : part.paths) walk_as_setfiles(r.path, path, excluded, mine);
            for (const auto& [path, n] : mine) seen[path] += n;
            sizes.push_back(mine.size());
        }
        CHECK(seen == whole);  // every file, each once: no part walks into another's subtree
        const auto largest = *std::max_element(sizes.begin(), sizes.end());
        CHECK(largest < whole.size() / processors * 3 / 2);
    }
    // Too few files to be worth a second policy load: one run over "/".
    const auto one = cfg::split_relabel(r.path, mounts, 4, 2000);
    REQUIRE(one.size() == 1);
    CHECK(one[0].paths == std::vector<std::string>{"/"});
    CHECK(one[0].excluded.empty());
}

TEST_CASE("selinux without a policy in the image skips with a log line") {
    FakeRoot r;
    LogCapture log;
    cfg::apply_selinux(ks("selinux --enforcing\n"), r.dir_handle());
    CHECK(log.has("selinux: skipped: /etc/selinux/config is not in the image (no SELinux policy installed)"));
}

TEST_CASE("useradd gets the hash, never the plaintext, and --groups with a GID are split into names") {
    auto k = ks("user --name=alice --uid=1500 --groups=wheel,devs(5000) --shell=/bin/zsh --gecos=\"Alice A\" "
                "--password=secret --lock\n");
    REQUIRE(k.users.size() == 1);
    auto args = cfg::useradd_arguments(k.users[0], {"wheel", "devs"}, "");
    REQUIRE(args.size() == 12);
    CHECK(std::vector<std::string>(args.begin(), args.begin() + 9) ==
          std::vector<std::string>{"-m", "-u", "1500", "-G", "wheel,devs", "-s", "/bin/zsh", "-c", "Alice A"});
    CHECK(args[9] == "-p");
    CHECK(args[10].rfind("!$y$", 0) == 0);
    CHECK(cfg::password_matches("secret", args[10].substr(1)));
    CHECK(args[11] == "alice");
    auto request = cfg::detail::parse_group_request("devs(5000)");
    CHECK(request.name == "devs");
    CHECK(request.gid == 5000);
}

TEST_CASE("a group that exists with another GID is an error, one with the same GID is left alone") {
    FakeRoot r;
    LogCapture log;
    CHECK_THROWS_WITH(cfg::apply_groups(ks("group --name=wheel --gid=11\n"), r.dir_handle()),
                      "group: group wheel already exists in the image with GID 10, not 11");
    cfg::apply_groups(ks("group --name=wheel --gid=10\n"), r.dir_handle());
    CHECK(log.has("group: group wheel already exists (GID 10)"));
}

TEST_CASE("sshkey installs the key with the owner from the root's /etc/passwd and sshd's modes") {
    FakeRoot r;
    const auto uid = ::geteuid(), gid = ::getegid();
    // The image's own ids (here the caller's, so the test needs no privilege to chown).
    const auto ids = std::to_string(uid) + ":" + std::to_string(gid);
    r.file("etc/passwd", "root:x:" + ids + ":Super User:/root:/bin/bash\nalice:x:" + ids + "::/home/alice:/bin/bash\n");
    fs::create_directories(r.path / "home/alice");
    r.file("root/.ssh/authorized_keys", "ssh-rsa AAAAold root@old");
    cfg::apply_sshkeys(ks("sshkey --username=alice \"ssh-ed25519 AAAAC3Nza alice@laptop\"\n"
                          "sshkey --username=root \"ssh-ed25519 AAAAroot admin@host\"\n"
                          "sshkey --username=root \"ssh-ed25519 AAAAroot admin@host\"\n"
                          "sshkey --username=nobody \"ssh-ed25519 AAAAx x@y\"\n"),
                       r.dir_handle());
    CHECK(r.read("home/alice/.ssh/authorized_keys") == "ssh-ed25519 AAAAC3Nza alice@laptop\n");
    CHECK(mode_of(r.path / "home/alice/.ssh") == 0700);
    CHECK(mode_of(r.path / "home/alice/.ssh/authorized_keys") == 0600);
    CHECK(stat_of(r.path / "home/alice/.ssh/authorized_keys").st_uid == uid);
    CHECK(stat_of(r.path / "home/alice/.ssh").st_gid == gid);
    CHECK(r.read("root/.ssh/authorized_keys") == "ssh-rsa AAAAold root@old\nssh-ed25519 AAAAroot admin@host\n");
}

TEST_CASE("rpm macros from %packages options and selinux --disabled go to /etc/rpm/macros.imgcreate") {
    FakeRoot r;
    cfg::apply_rpm_macros(ks("selinux --disabled\n%packages --excludedocs --inst-langs=en,de\nbash\n%end\n"), r.dir_handle());
    CHECK(r.read("etc/rpm/macros.imgcreate") == "%_excludedocs 1\n%_install_langs en:de\n%__file_context_path %{nil}\n");
}

TEST_CASE("a build without a kickstart applies nothing") {
    FakeRoot r;
    BuildContext ctx;
    ctx.install_root = r.path;
    std::size_t before = std::distance(fs::recursive_directory_iterator(r.path), fs::recursive_directory_iterator());
    cfg::apply_all(ctx);
    cfg::apply_selinux(ctx);
    std::size_t after = std::distance(fs::recursive_directory_iterator(r.path), fs::recursive_directory_iterator());
    CHECK(before == after);
}

TEST_CASE("Fedora's live base kickstart configures a root with NetworkManager as livecd-tools would, and more") {
    const fs::path file = fs::path(IMGCREATE_SHARED_DIR) / "kickstarts/fedora/fedora-live-base.ks";
    if (!fs::exists(file)) IMGCREATE_SKIP_MISSING(file);
    kickstart::ParseOptions opts;
    opts.follow_includes = false;
    auto k = kickstart::parse_file(file.string(), opts);
    FakeRoot r;
    r.tool("usr/sbin/NetworkManager");
    add_unit(r, "NetworkManager.service", "[Install]\nWantedBy=multi-user.target\n");
    add_unit(r, "ModemManager.service", "[Install]\nWantedBy=multi-user.target\n");
    add_unit(r, "sshd.service", "[Install]\nWantedBy=multi-user.target\n");
    add_unit(r, "graphical.target", "");
    fs::create_directories(r.path / "etc/systemd/system/multi-user.target.wants");
    fs::create_symlink("/usr/lib/systemd/system/sshd.service", r.path / "etc/systemd/system/multi-user.target.wants/sshd.service");
    cfg::apply_all(k, r.dir_handle());
    CHECK(r.read("etc/locale.conf") == "LANG=\"en_US.UTF-8\"\n");
    CHECK(r.read("etc/vconsole.conf") == "KEYMAP=\"us\"\nFONT=\"eurlatgr\"\n");
    CHECK(link_of(r, "etc/localtime") == "../usr/share/zoneinfo/US/Eastern");
    CHECK(shadow_field(r.read("etc/shadow"), "root", 1) == "!locked");
    CHECK(r.exists("etc/systemd/system/multi-user.target.wants/NetworkManager.service"));
    CHECK(r.exists("etc/systemd/system/multi-user.target.wants/ModemManager.service"));
    CHECK_FALSE(r.exists("etc/systemd/system/multi-user.target.wants/sshd.service"));
    CHECK(link_of(r, "etc/systemd/system/default.target") == "/usr/lib/systemd/system/graphical.target");
    CHECK(r.exists("etc/NetworkManager/system-connections/link.nmconnection"));
}

TEST_CASE("timesource and timezone --ntpservers replace chrony's servers where the first one stood") {
    FakeRoot r;
    r.file("etc/chrony.conf", "# Use public servers\npool 2.fedora.pool.ntp.org iburst\nserver old.example iburst\ndriftfile /var/lib/chrony/drift\n");
    cfg::apply_timesource(ks("timezone Europe/Berlin --ntpservers=a.example,b.example\n"
                             "timesource --ntp-server=nts.example --nts\ntimesource --ntp-pool=pool.example\n"),
                          r.dir_handle());
    CHECK(r.read("etc/chrony.conf") ==
          "# Use public servers\nserver a.example iburst\nserver b.example iburst\nserver nts.example iburst nts\n"
          "pool pool.example iburst\ndriftfile /var/lib/chrony/drift\n");
}

TEST_CASE("timezone --nontp disables chronyd, and NTP servers without chrony in the image are skipped") {
    FakeRoot r;
    LogCapture log;
    add_unit(r, "chronyd.service", "[Install]\nWantedBy=multi-user.target\n");
    fs::create_directories(r.path / "etc/systemd/system/multi-user.target.wants");
    fs::create_symlink("/usr/lib/systemd/system/chronyd.service", r.path / "etc/systemd/system/multi-user.target.wants/chronyd.service");
    cfg::apply_timesource(ks("timezone Etc/UTC --nontp\n"), r.dir_handle());
    CHECK_FALSE(r.exists("etc/systemd/system/multi-user.target.wants/chronyd.service"));
    cfg::apply_timesource(ks("timesource --ntp-server=ntp.example\n"), r.dir_handle());
    CHECK(log.has("timesource: skipped: chrony is not in the image (no /etc/chrony.conf): NTP servers not set"));
}

// imgcreate — a kickstart as parsed: its commands, the typed view of them creators read,
// its %packages, scripts and add-ons. What the configure steps and policies need; parsing
// it (kickstart.hpp) reads files and URLs, which they do not.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <imgcreate/kickstart/commands.hpp>
#include <imgcreate/kickstart/diagnostic.hpp>
#include <imgcreate/kickstart/model.hpp>
#include <imgcreate/kickstart/sections.hpp>

namespace imgcreate::kickstart {

// One command as parsed: a single-use command (lang, bootloader, ...) appears once, holding
// the values of all its lines merged; a multi-use one (network, part, ...) once per line.
struct Command {
    std::string name;   // the word used: "part", "partition", "poweroff", ...
    Origin origin;      // the (last) line that set it
    CommandData data;   // its attributes (option values after pykickstart's processing)
    const detail::CommandSpec* spec = nullptr;

    std::string_view command() const { return spec ? spec->primary_name() : std::string_view(name); }
    bool multi() const { return spec && spec->multi; }
    bool operator==(const Command& o) const { return spec == o.spec && data == o.data; }
};

namespace detail {

// The attributes of each record of one command.
inline std::vector<const CommandData*> data_of(const std::vector<Command>& commands, const CommandSpec* spec) {
    std::vector<const CommandData*> out;
    for (const auto& c : commands)
        if (c.spec == spec) out.push_back(&c.data);
    return out;
}

}  // namespace detail

// The typed view of the commands creators use. It is filled from Kickstart::commands when
// parsing ends and after each edit (set_command, remove_command): it says what the commands
// say, and the writer writes the commands. To change a kickstart, change its commands.
struct KickstartModel {
    std::optional<RootPw> rootpw;
    std::optional<Timezone> timezone;
    std::vector<TimesourceData> timesources;
    std::optional<Lang> lang;
    std::optional<Keyboard> keyboard;
    std::vector<NetworkData> network;
    std::optional<Firewall> firewall;
    std::optional<SELinuxMode> selinux;
    std::optional<Services> services;
    std::optional<Bootloader> bootloader;
    std::optional<XConfig> xconfig;
    bool skipx = false;
    std::vector<RepoData> repos;
    std::optional<Url> url;
    std::vector<PartitionData> partitions;
    std::optional<ClearPart> clearpart;
    bool zerombr = false;
    std::optional<AutoPart> autopart;
    std::optional<ReqPart> reqpart;
    std::vector<LogVolData> logvols;
    std::vector<VolGroupData> volgroups;
    std::vector<RaidData> raids;
    std::vector<BtrfsData> btrfs;
    std::optional<IgnoreDisk> ignoredisk;
    std::vector<UserData> users;
    std::vector<GroupData> groups;
    std::vector<SshKeyData> sshkeys;
    std::vector<SshPwData> sshpws;
    std::optional<Firstboot> firstboot;
    bool eula_agreed = false;
    std::optional<DisplayMode> display_mode;
    std::optional<FinalAction> final_action;
    std::string authselect;
    std::optional<Logging> logging;
    std::optional<Liveimg> liveimg;
    std::optional<OstreeSetup> ostreesetup;

};

struct Kickstart : KickstartModel {
    std::string platform;                    // from a "#platform=" comment
    std::vector<Command> commands;           // in order of first appearance
    Packages packages;
    std::vector<Script> scripts;             // all script sections, in order
    std::vector<Addon> addons;               // %addon and %anaconda sections, verbatim
    std::vector<Certificate> certificates;
    std::vector<KickstartWarning> warnings;  // deprecated options, overridden commands, duplicates
    std::vector<KickstartError> errors;      // only filled when ParseOptions::keep_going is set
    std::vector<std::string> files;          // every file read (the top one first)

    // The command record of a single-use command (by any of its names), or null.
    const Command* find(std::string_view name) const {
        const detail::CommandSpec* s = detail::find_command(name);
        for (const auto& c : commands)
            if (c.spec == s) return &c;
        return nullptr;
    }
    // All records of a command (by any of its names).
    std::vector<const Command*> find_all(std::string_view name) const {
        std::vector<const Command*> out;
        const detail::CommandSpec* s = detail::find_command(name);
        for (const auto& c : commands)
            if (c.spec == s) out.push_back(&c);
        return out;
    }

    // Same content (origins, warnings and the files read are not compared).
    bool operator==(const Kickstart& o) const {
        if (platform != o.platform || !(packages == o.packages) || scripts != o.scripts || addons != o.addons ||
            certificates != o.certificates)
            return false;
        // commands: per command class, in order; an absent single-use command counts as its defaults
        for (std::size_t i = 0; i < detail::command_count; ++i) {
            const detail::CommandSpec* s = &detail::command_specs[i];
            if (s->removed) continue;
            std::vector<const CommandData*> a = detail::data_of(commands, s), b = detail::data_of(o.commands, s);
            if (!s->multi) {
                const CommandData defaults(s->attrs);
                const bool present_a = !a.empty(), present_b = !b.empty();
                if (a.empty()) a.push_back(&defaults);
                if (b.empty()) b.push_back(&defaults);
                if (!(*a[0] == *b[0])) return false;
                // some commands are written just because they appear (cdrom, url, ...)
                if (present_a != present_b &&
                    detail::write_single(detail::cmd_of(*s), *a[0], present_a) != detail::write_single(detail::cmd_of(*s), *b[0], present_b))
                    return false;
                continue;
            }
            if (a.size() != b.size()) return false;
            for (std::size_t k = 0; k < a.size(); ++k)
                if (!(*a[k] == *b[k])) return false;
        }
        return true;
    }
};

}  // namespace imgcreate::kickstart

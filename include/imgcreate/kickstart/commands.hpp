// imgcreate — kickstart commands: the command table (detail/command_table.inc), and for each
// command what pykickstart checks after its options are parsed and how it writes the command
// back (the canonical form ksflatten prints).
//
// A command keeps its state as named attributes (CommandData): the names and defaults are
// those of the syntax table, the values what the options set. Single-use commands (lang,
// bootloader, ...) keep one state that a later line updates; multi-use ones (network, part,
// repo, ...) get one item per line.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <imgcreate/kickstart/lexer.hpp>
#include <imgcreate/kickstart/options.hpp>
#include <imgcreate/kickstart/spec.hpp>

namespace imgcreate::kickstart {

namespace detail {
#include <imgcreate/kickstart/detail/command_table.inc>
}  // namespace detail

// The attributes of one command (or one item of a multi-use command).
class CommandData {
public:
    CommandData() = default;
    explicit CommandData(std::span<const detail::AttrSpec> defaults) {
        attrs_.reserve(defaults.size() + 4);
        for (const auto& a : defaults) attrs_.emplace_back(a.name, a.def.value());
    }

    // The attribute's value; an absent attribute reads as None.
    const Value& get(std::string_view name) const {
        for (const auto& [k, v] : attrs_)
            if (k == name) return v;
        static const Value none;
        return none;
    }
    bool has(std::string_view name) const {
        for (const auto& [k, v] : attrs_)
            if (k == name) return true;
        return false;
    }
    void set(std::string_view name, Value v) {
        for (auto& [k, old] : attrs_)
            if (k == name) {
                old = std::move(v);
                return;
            }
        attrs_.emplace_back(name, std::move(v));
    }
    const std::vector<std::pair<std::string_view, Value>>& attributes() const { return attrs_; }

    // Python truth value.
    bool truthy(std::string_view name) const { return truthy_value(get(name)); }
    bool is_none(std::string_view name) const { return std::holds_alternative<std::monostate>(get(name)); }
    // Python str() ("%s").
    std::string str(std::string_view name) const { return str_value(get(name)); }
    long long num(std::string_view name) const {
        const Value& v = get(name);
        if (auto* i = std::get_if<long long>(&v)) return *i;
        if (auto* b = std::get_if<bool>(&v)) return *b ? 1 : 0;
        return 0;
    }
    const std::vector<std::string>& list(std::string_view name) const {
        static const std::vector<std::string> empty;
        if (auto* l = std::get_if<std::vector<std::string>>(&get(name))) return *l;
        return empty;
    }
    // The string value, or "" when it is not a string.
    const std::string& text(std::string_view name) const {
        static const std::string empty;
        if (auto* s = std::get_if<std::string>(&get(name))) return *s;
        return empty;
    }

    static bool truthy_value(const Value& v) {
        switch (v.index()) {
            case 0: return false;
            case 1: return std::get<bool>(v);
            case 2: return std::get<long long>(v) != 0;
            case 3: return !std::get<std::string>(v).empty();
            default: return !std::get<std::vector<std::string>>(v).empty();
        }
    }
    static std::string str_value(const Value& v) {
        switch (v.index()) {
            case 0: return "None";
            case 1: return std::get<bool>(v) ? "True" : "False";
            case 2: return std::to_string(std::get<long long>(v));
            case 3: return std::get<std::string>(v);
            default: return detail::py_list_repr(std::get<std::vector<std::string>>(v));
        }
    }

    bool operator==(const CommandData& o) const {
        // order-insensitive comparison of the attributes
        if (attrs_.size() != o.attrs_.size()) return false;
        for (const auto& [k, v] : attrs_) {
            if (!o.has(k) || !(o.get(k) == v)) return false;
        }
        return true;
    }

private:
    std::vector<std::pair<std::string_view, Value>> attrs_;
};

namespace detail {

inline constexpr std::size_t command_count = sizeof(command_specs) / sizeof(command_specs[0]);

// The spec of the command named `name` (e.g. "part" and "partition" give the same), or null.
inline const CommandSpec* find_command(std::string_view name) {
    for (const auto& c : command_specs)
        if (c.has_name(name)) return &c;
    return nullptr;
}
inline std::size_t spec_index(const CommandSpec* s) { return static_cast<std::size_t>(s - command_specs); }

inline std::string unexpected(std::string_view command, const std::vector<std::string>& extra) {
    return "Unexpected arguments to " + std::string(command) + " command: " + py_list_repr(extra);
}

// Python's shlex.quote.
inline std::string sh_quote(const std::string& s) {
    if (s.empty()) return "''";
    bool safe = true;
    for (unsigned char c : s) {
        if (!(std::isalnum(c) || c == '_' || c == '@' || c == '%' || c == '+' || c == '=' || c == ':' || c == ',' ||
              c == '.' || c == '/' || c == '-' || c >= 0x80)) {
            safe = false;
            break;
        }
    }
    if (safe) return s;
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\"'\"'";
        else out += c;
    }
    return out + "'";
}

inline std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += sep;
        out += items[i];
    }
    return out;
}

inline std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    std::size_t pos = 0;
    while ((pos = s.find(from, pos)) != std::string::npos) {
        s.replace(pos, from.size(), to);
        pos += to.size();
    }
    return s;
}

inline std::string rstrip(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    return s;
}
inline std::string strip(std::string s) {
    s = rstrip(std::move(s));
    std::size_t b = 0;
    while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    return s.substr(b);
}

// set_to_obj: every parsed value that is not None becomes an attribute.
inline void set_to_obj(const Namespace& ns, CommandData& obj) {
    for (const auto& [k, v] : ns.values)
        if (!std::holds_alternative<std::monostate>(v)) obj.set(k, v);
}

inline const std::vector<std::string>& ns_list(const Namespace& ns, std::string_view dest) {
    static const std::vector<std::string> empty;
    if (const Value* v = ns.find(dest))
        if (auto* l = std::get_if<std::vector<std::string>>(v)) return *l;
    return empty;
}
inline bool ns_truthy(const Namespace& ns, std::string_view dest) {
    const Value* v = ns.find(dest);
    return v && CommandData::truthy_value(*v);
}

// "One of -A, B options must be specified" / "Only one of A, B options may be specified" — the
// checks repo, url and timesource make on their exclusive source options.
inline void check_exclusive(const Namespace& ns, std::initializer_list<std::pair<std::string_view, std::string_view>> opts,
                            bool required, std::string_view command, const LineContext& ctx) {
    std::vector<std::string> used;
    std::string all;
    for (const auto& [attr, opt] : opts) {
        if (!all.empty()) all += ", ";
        all += opt;
        if (ns_truthy(ns, attr)) used.emplace_back(opt);
    }
    if (required && used.empty())
        ctx.fail("One of -" + all + " options must be specified for " + std::string(command) + " command.");
    if (used.size() > 1)
        ctx.fail("Only one of " + join(used, ", ") + " options may be specified for " + std::string(command) + " command.");
}

// Python's getopt.getopt(args, "", longopts) as realm join uses it.
inline void realm_getopt(const std::vector<std::string>& args, std::vector<std::pair<std::string, std::string>>& opts,
                         std::vector<std::string>& remaining, const LineContext& ctx) {
    static constexpr std::array<std::string_view, 6> longopts = {"client-software=", "server-software=",
                                                                 "membership-software=", "one-time-password=",
                                                                 "no-password", "computer-ou="};
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a.rfind("--", 0) != 0) break;
        std::string body = a.substr(2);
        std::string value;
        bool has_value = false;
        if (auto eq = body.find('='); eq != std::string::npos) {
            value = body.substr(eq + 1);
            body = body.substr(0, eq);
            has_value = true;
        }
        std::vector<std::string_view> matches;
        for (auto lo : longopts) {
            std::string_view name = lo.back() == '=' ? lo.substr(0, lo.size() - 1) : lo;
            if (name == body) {
                matches = {lo};
                break;
            }
            if (name.substr(0, std::min(name.size(), body.size())) == body && body.size() <= name.size()) matches.push_back(lo);
        }
        if (matches.empty()) ctx.fail("Invalid realm arguments: option --" + body + " not recognized");
        if (matches.size() > 1) ctx.fail("Invalid realm arguments: option --" + body + " not a unique prefix");
        std::string_view lo = matches[0];
        const bool wants_arg = lo.back() == '=';
        std::string name(wants_arg ? lo.substr(0, lo.size() - 1) : lo);
        if (wants_arg) {
            if (!has_value) {
                if (i + 1 >= args.size()) ctx.fail("Invalid realm arguments: option --" + name + " requires argument");
                value = args[++i];
            }
        } else if (has_value) {
            ctx.fail("Invalid realm arguments: option --" + name + " must not have an argument");
        }
        opts.emplace_back("--" + name, value);
    }
    for (; i < args.size(); ++i) remaining.push_back(args[i]);
}

// The commands that need code beyond their option table, by syntax class.
enum class Cmd : std::uint8_t {
    other, authselect, autopart, bootc, bootloader, btrfs, cdrom, clearpart, displaymode, driverdisk, eula, fcoe,
    firewall, firstboot, group, harddrive, hmc, ignoredisk, iscsi, iscsiname, keyboard, lang, liveimg, logging,
    logvol, mediacheck, mount, network, nfs, ostreecontainer, ostreesetup, partition, raid, rdp, realm, reboot,
    repo, reqpart, rescue, rootpw, selinux, services, skipx, snapshot, sshkey, sshpw, timesource, timezone,
    updates, url, user, volgroup, xconfig, zerombr, zfcp, zipl
};

inline Cmd cmd_of(const CommandSpec& spec) {
    static const std::array<Cmd, command_count> table = [] {
        std::array<Cmd, command_count> t{};
        static constexpr std::pair<std::string_view, Cmd> names[] = {
            {"authselect", Cmd::authselect}, {"autopart", Cmd::autopart}, {"bootc", Cmd::bootc},
            {"bootloader", Cmd::bootloader}, {"btrfs", Cmd::btrfs}, {"cdrom", Cmd::cdrom},
            {"clearpart", Cmd::clearpart}, {"text", Cmd::displaymode}, {"driverdisk", Cmd::driverdisk},
            {"eula", Cmd::eula}, {"fcoe", Cmd::fcoe}, {"firewall", Cmd::firewall}, {"firstboot", Cmd::firstboot},
            {"group", Cmd::group}, {"harddrive", Cmd::harddrive}, {"hmc", Cmd::hmc}, {"ignoredisk", Cmd::ignoredisk},
            {"iscsi", Cmd::iscsi}, {"iscsiname", Cmd::iscsiname}, {"keyboard", Cmd::keyboard}, {"lang", Cmd::lang},
            {"liveimg", Cmd::liveimg}, {"logging", Cmd::logging}, {"logvol", Cmd::logvol},
            {"mediacheck", Cmd::mediacheck}, {"mount", Cmd::mount}, {"network", Cmd::network}, {"nfs", Cmd::nfs},
            {"ostreecontainer", Cmd::ostreecontainer}, {"ostreesetup", Cmd::ostreesetup}, {"part", Cmd::partition},
            {"raid", Cmd::raid}, {"rdp", Cmd::rdp}, {"realm", Cmd::realm}, {"reboot", Cmd::reboot}, {"repo", Cmd::repo},
            {"reqpart", Cmd::reqpart}, {"rescue", Cmd::rescue}, {"rootpw", Cmd::rootpw}, {"selinux", Cmd::selinux},
            {"services", Cmd::services}, {"skipx", Cmd::skipx}, {"snapshot", Cmd::snapshot}, {"sshkey", Cmd::sshkey},
            {"sshpw", Cmd::sshpw}, {"timesource", Cmd::timesource}, {"timezone", Cmd::timezone},
            {"updates", Cmd::updates}, {"url", Cmd::url}, {"user", Cmd::user}, {"volgroup", Cmd::volgroup},
            {"xconfig", Cmd::xconfig}, {"zerombr", Cmd::zerombr}, {"zfcp", Cmd::zfcp}, {"zipl", Cmd::zipl}};
        for (std::size_t i = 0; i < command_count; ++i) {
            t[i] = Cmd::other;
            for (const auto& [n, c] : names)
                if (command_specs[i].has_name(n)) t[i] = c;
        }
        return t;
    }();
    return table[spec_index(&spec)];
}

// Parses one use of a command into `obj`: the command's running state (single-use commands) or
// a fresh item (multi-use ones). `args[0]` is the command word; `line` the raw line;
// `previous` the earlier items of a multi-use command (for duplicate checks).
inline void parse_command(const CommandSpec& spec, const std::vector<std::string>& args, std::string_view line,
                          CommandData& obj, const std::vector<const CommandData*>& previous, const LineContext& ctx) {
    const std::string& used = args[0];
    const Cmd id = cmd_of(spec);
    OptionParser op(spec.options, spec.removed_options, spec.primary_name(), ctx);
    auto strict = [&] {
        Namespace ns = op.parse(args, 1);
        set_to_obj(ns, obj);
        return ns;
    };
    std::vector<std::string> extra;
    auto known = [&] { return op.parse_known(args, extra, 1); };
    // for commands whose positional arguments the options already take
    const auto known_only = [&](const char* command) {
        Namespace ns = known();
        if (!extra.empty()) ctx.fail(unexpected(command, extra));
        return ns;
    };
    // for commands that take no options and only record that they were given
    const auto given = [&](std::string_view attr) {
        op.parse(args, 1);
        obj.set(attr, true);
    };
    auto dup_warning = [&](auto&& same, std::string message) {
        for (const CommandData* p : previous)
            if (same(*p)) {
                ctx.warn(std::move(message));
                return;
            }
    };
    // warns when an earlier item has the same `attr`; `what` begins the message
    const auto dup_attr = [&](std::string_view attr, const std::string& what) {
        dup_warning([&](const CommandData& p) { return p.get(attr) == obj.get(attr); },
                    what + obj.str(attr) + " has already been defined.");
    };
    const auto default_from = [&](std::string_view attr, std::string_view from) {
        if (!obj.truthy(attr)) obj.set(attr, obj.get(from));
    };
    // checks shared by the commands that make file systems or encrypt them
    const auto check_mkfs_options = [&] {
        if (!obj.truthy("format") && obj.truthy("mkfsopts")) ctx.fail("--mkfsoptions with --noformat has no effect.");
        if (obj.truthy("fsprofile") && obj.truthy("mkfsopts")) ctx.fail("--mkfsoptions and --fsprofile cannot be used together.");
    };
    const auto check_pbkdf = [&] {
        if (obj.truthy("pbkdf_time") && obj.truthy("pbkdf_iterations"))
            ctx.fail("Only one of --pbkdf-time and --pbkdf-iterations can be specified.");
    };
    const auto check_hw_passphrase = [&] {
        if (obj.truthy("hw_passphrase") && (!obj.truthy("encrypted") || obj.text("luks_version").rfind("luks2-", 0) != 0))
            ctx.fail("hw-passphrase may be specified only with LUKSv2 HW-OPAL encrypted devices");
    };
    const auto rest_of_line = [&] {
        std::string_view r = line.size() >= used.size() ? line.substr(used.size()) : std::string_view{};
        return std::string(trim(r));
    };

    switch (id) {
        case Cmd::authselect: obj.set("authselect", rest_of_line()); return;
        case Cmd::autopart: {
            strict();
            obj.set("autopart", true);
            obj.set("lvm", true);
            if (obj.text("fstype") == "btrfs")
                ctx.fail("autopart --fstype=btrfs is not valid fstype, use --type=btrfs instead");
            if (obj.num("type") == 1 && !obj.is_none("type") && obj.truthy("fstype"))
                ctx.fail("autopart --fstype cannot be used with --type=btrfs");
            check_pbkdf();
            if (obj.truthy("hibernation") && obj.truthy("noswap"))
                ctx.fail("Only one of --noswap and --hibernation can be specified.");
            check_hw_passphrase();
            return;
        }
        case Cmd::bootc:
            strict();
            default_from("targetImgRef", "sourceImgRef");
            return;
        case Cmd::bootloader: {
            Namespace ns = op.parse(args, 1);
            if (ns_truthy(ns, "_md5pass")) {
                ns.set("password", *ns.find("_md5pass"));
                ns.set("isCrypted", true);
                ns.values.erase(std::find_if(ns.values.begin(), ns.values.end(),
                                             [](const auto& kv) { return kv.first == "_md5pass"; }));
            }
            set_to_obj(ns, obj);
            if (obj.str("bootDrive").find(',') != std::string::npos) ctx.fail("--boot-drive accepts only one argument");
            if (obj.truthy("sdboot") && obj.truthy("extlinux"))
                ctx.fail("Only one of --sdboot and --extlinux may be specified for bootloader command.");
            return;
        }
        case Cmd::btrfs: {
            Namespace ns = known();
            set_to_obj(ns, obj);
            if (!obj.truthy("format")) obj.set("preexist", true);
            else if (obj.truthy("preexist")) obj.set("format", false);
            if (extra.empty()) ctx.fail("btrfs must be given a mountpoint");
            for (const auto& e : extra)
                if (!e.empty() && e[0] == '-') ctx.fail(unexpected("btrfs", extra));
            obj.set("mountpoint", normpath(extra[0]));
            obj.set("devices", std::vector<std::string>(extra.begin() + 1, extra.end()));
            if (extra.size() == 1 && !obj.truthy("subvol")) ctx.fail("btrfs must be given a list of partitions");
            if (extra.size() == 1) ctx.fail("btrfs subvol requires specification of parent volume");
            if (obj.truthy("subvol") && !obj.truthy("name")) ctx.fail("btrfs subvolume requires a name");
            dup_attr("mountpoint", "A btrfs volume with the mountpoint ");
            if ((obj.truthy("preexist") || !obj.truthy("format")) && obj.truthy("mkfsopts"))
                ctx.fail("--mkfsoptions with --noformat or --useexisting has no effect.");
            return;
        }
        case Cmd::cdrom:
        case Cmd::hmc:
            if (args.size() > 1) ctx.fail("Kickstart command " + used + " does not take any arguments");
            return;
        case Cmd::clearpart:
            strict();
            if (obj.truthy("devices")) obj.set("type", 3LL);
            return;
        case Cmd::displaymode:
            strict();
            obj.set("displayMode", used == "cmdline" ? 0LL : used == "graphical" ? 1LL : 2LL);
            if (used == "cmdline" && obj.truthy("nonInteractive"))
                ctx.fail("Kickstart command cmdline does not support --non-interactive parameter");
            return;
        case Cmd::driverdisk: {
            Namespace ns = known();
            const auto& part = ns_list(ns, "partition");
            if (part.size() > 1) ctx.fail("Only one partition may be specified for driverdisk command.");
            if (!extra.empty()) ctx.fail(unexpected("driverdisk", extra));
            const bool source = ns_truthy(ns, "source"), bios = ns_truthy(ns, "biospart");
            if (!part.empty() && source)
                ctx.fail("Only one of --source and partition may be specified for driverdisk command.");
            if (!part.empty() && bios)
                ctx.fail("Only one of --biospart and partition may be specified for driverdisk command.");
            if (source && bios) ctx.fail("Only one of --biospart and --source may be specified for driverdisk command.");
            if (part.empty() && !source && !bios)
                ctx.fail("One of --source, --biospart, or partition must be specified for driverdisk command.");
            set_to_obj(ns, obj);
            if (!part.empty()) obj.set("partition", part[0]);
            return;
        }
        case Cmd::eula: {
            Namespace ns = known();
            set_to_obj(ns, obj);
            if (!extra.empty()) ctx.fail("Kickstart command eula does not take any arguments");
            if (!obj.truthy("agreed")) ctx.fail("Kickstart command eula expects the --agreed option");
            return;
        }
        case Cmd::fcoe:
            strict();
            dup_attr("nic", "A FCOE device with the name ");
            return;
        case Cmd::firstboot: {
            Namespace ns = op.parse(args, 1);
            obj.set("firstboot", ns.find("firstboot") ? *ns.find("firstboot") : Value());
            return;
        }
        case Cmd::group:
            strict();
            dup_attr("name", "A group with the name ");
            return;
        case Cmd::ignoredisk:
            strict();
            if ((obj.truthy("ignoredisk") ? 1 : 0) + (obj.truthy("onlyuse") ? 1 : 0) != 1)
                ctx.fail("One of --drives or --only-use must be specified for ignoredisk command.");
            return;
        case Cmd::iscsiname: {
            Namespace ns = known_only("iscsiname");
            obj.set("iscsiname", ns_list(ns, "iqn").at(0));
            return;
        }
        case Cmd::keyboard: {
            Namespace ns = known();
            set_to_obj(ns, obj);
            const auto& kbd = ns_list(ns, "kbd");
            if (kbd.size() > 1) ctx.fail("A single argument is expected for the keyboard command");
            if (!extra.empty()) ctx.fail(unexpected("keyboard", extra));
            if (kbd.empty() && !obj.truthy("vc_keymap") && !obj.truthy("x_layouts"))
                ctx.fail("One of --xlayouts, --vckeymap options with value(s) or argument is expected for the keyboard command");
            if (!kbd.empty()) obj.set("_keyboard", kbd[0]);
            return;
        }
        case Cmd::lang: {
            Namespace ns = known_only("lang");
            set_to_obj(ns, obj);
            obj.set("lang", ns_list(ns, "lang").at(0));
            return;
        }
        case Cmd::logging:
            strict();
            if (obj.truthy("port") && !obj.truthy("host")) ctx.fail("Can't specify --port without --host.");
            obj.set("_level_provided", true);
            return;
        case Cmd::logvol: {
            Namespace ns = known_only("logvol");
            set_to_obj(ns, obj);
            obj.set("mountpoint", ns_list(ns, "mntpoint").at(0));
            if (!obj.truthy("format")) obj.set("preexist", true);
            dup_warning([&](const CommandData& p) { return p.get("vgname") == obj.get("vgname") && p.get("name") == obj.get("name"); },
                        "A logical volume with the name " + obj.str("name") + " has already been defined in volume group " +
                            obj.str("vgname") + ".");
            const bool preexist = obj.truthy("preexist");
            if (obj.truthy("resize") && !preexist) ctx.fail("--resize can only be used in conjunction with --useexisting");
            if (obj.truthy("resize") && !obj.truthy("size")) ctx.fail("--resize requires --size to indicate new size");
            if (obj.truthy("thin_volume") && obj.truthy("thin_pool"))
                ctx.fail("--thin and --thinpool cannot both be specified for the same logvol");
            if (obj.truthy("thin_volume") && !obj.truthy("pool_name"))
                ctx.fail("--thin requires --poolname to specify pool name");
            if ((obj.truthy("chunk_size") || obj.truthy("metadata_size")) && !obj.truthy("thin_pool"))
                ctx.fail("--chunksize and --metadatasize are for thin pools only");
            if (!preexist && !obj.truthy("percent") && !obj.truthy("size") && !obj.truthy("recommended") && !obj.truthy("hibernation"))
                ctx.fail("No size given for logical volume. Use one of --useexisting, --noformat, --size, --percent, or --hibernation.");
            if (!obj.is_none("percent") && (obj.num("percent") < 0 || obj.num("percent") > 100))
                ctx.fail("Percentage must be between 0 and 100.");
            if (obj.truthy("size") && obj.truthy("percent"))
                ctx.fail("--size and --percent cannot both be specified for the same logvol");
            if (obj.truthy("cache_size") || obj.truthy("cache_mode") || obj.truthy("cache_pvs")) {
                if (preexist) ctx.fail("Adding a cache to an existing logical volume is not supported");
                if (obj.truthy("thin_volume")) ctx.fail("Thin volumes cannot be cached");
                if (!obj.truthy("cache_pvs")) ctx.fail("Cache needs to have a list of (fast) PVs specified");
                if (!obj.truthy("cache_size")) ctx.fail("Cache needs to have size specified");
                const std::string& mode = obj.text("cache_mode");
                if (!mode.empty() && mode != "writeback" && mode != "writethrough")
                    ctx.fail("Invalid cache mode given: " + mode);
            }
            check_mkfs_options();
            check_pbkdf();
            return;
        }
        case Cmd::mediacheck: given("mediacheck"); return;
        case Cmd::mount: {
            Namespace ns = known_only("mount");
            set_to_obj(ns, obj);
            obj.set("device", ns_list(ns, "device").at(0));
            const std::string mp = ns_list(ns, "mntpoint").at(0);
            obj.set("mount_point", mp);
            if (ascii_lower(mp) != "none" && mp.rfind('/', 0) != 0) ctx.fail("Invalid mount point '" + mp + "' given");
            const Value& reformat = obj.get("reformat");
            if (reformat == Value(false) && obj.truthy("mkfs_opts")) ctx.fail("'--mkfsoptions' requires --reformat");
            if (CommandData::truthy_value(reformat) && reformat != Value(true)) {
                obj.set("format", reformat);
                obj.set("reformat", true);
            }
            return;
        }
        case Cmd::network: {
            strict();
            dup_attr("device", "A network device with the name ");
            if (obj.truthy("bridgeopts")) {
                if (!obj.truthy("bridgeslaves")) ctx.fail("Option --bridgeopts requires --bridgeslaves to be specified");
                const std::string opts = obj.str("bridgeopts");
                std::size_t start = 0;
                for (;;) {
                    std::size_t end = opts.find(',', start);
                    std::string item = opts.substr(start, end == std::string::npos ? std::string::npos : end - start);
                    std::size_t eq = item.find('=');
                    std::string value = eq == std::string::npos ? std::string() : item.substr(eq + 1);
                    if (value.empty() || value.find('=') != std::string::npos)
                        ctx.fail("Bad format of --bridgeopts, expecting key=value options separated by ','");
                    if (end == std::string::npos) break;
                    start = end + 1;
                }
            }
            if (obj.truthy("noipv4")) obj.set("bootProto", std::string());
            if (obj.text("bindto") == "mac" && obj.truthy("vlanid") && !obj.truthy("bondopts"))
                ctx.fail("--bindto=mac is not supported for this type of device");
            if (!obj.truthy("device")) {
                if (obj.truthy("ipv4_dns_search")) ctx.fail("Option --ipv4-dns-search requires --device to be specified");
                if (obj.truthy("ipv6_dns_search")) ctx.fail("Option --ipv6-dns-search requires --device to be specified");
                if (obj.truthy("ipv4_ignore_auto_dns"))
                    ctx.fail("Option --ipv4-ignore-auto-dns requires --device to be specified");
                if (obj.truthy("ipv6_ignore_auto_dns"))
                    ctx.fail("Option --ipv6-ignore-auto-dns requires --device to be specified");
            }
            return;
        }
        case Cmd::ostreecontainer:
            strict();
            default_from("remote", "stateroot");
            return;
        case Cmd::ostreesetup: {
            strict();
            default_from("remote", "osname");
            const std::string& url = obj.text("url");
            if (url.rfind("file:", 0) != 0 && url.rfind("http:", 0) != 0 && url.rfind("https:", 0) != 0)
                ctx.fail("ostree repos must use file, HTTP or HTTPS protocol.");
            return;
        }
        case Cmd::partition: {
            Namespace ns = known_only("partition");
            set_to_obj(ns, obj);
            obj.set("mountpoint", ns_list(ns, "mntpoint").at(0));
            if (obj.text("mountpoint") != "swap")
                dup_attr("mountpoint", "A partition with the mountpoint ");
            if (obj.truthy("resize") && !obj.truthy("onPart"))
                ctx.fail("--resize can only be used in conjunction with --onpart");
            if (obj.truthy("resize") && !obj.truthy("size")) ctx.fail("--resize requires --size to specify new size");
            if (obj.text("fstype") == "tmpfs" && (obj.truthy("grow") || obj.num("maxSizeMB") != 0))
                ctx.fail("The --fstype=tmpfs option can't be used together with --grow or --maxsize");
            check_mkfs_options();
            check_pbkdf();
            check_hw_passphrase();
            return;
        }
        case Cmd::raid: {
            Namespace ns = known();
            for (const auto& e : extra)
                if (!e.empty() && e[0] == '-') ctx.fail(unexpected("raid", extra));
            if (ns_list(ns, "partitions").empty() && !extra.empty()) {
                ns.set("partitions", extra);
                extra.clear();
            }
            if (!ns_truthy(ns, "format")) ns.set("preexist", true);
            const auto& parts = ns_list(ns, "partitions");
            const bool preexist = ns_truthy(ns, "preexist");
            if (parts.empty() && !preexist) ctx.fail("Partitions required for raid");
            if (!parts.empty() && preexist) ctx.fail("Members may not be specified for preexisting RAID device");
            set_to_obj(ns, obj);
            obj.set("mountpoint", ns_list(ns, "mntpoint").at(0));
            if (!parts.empty()) obj.set("members", parts);
            dup_attr("device", "A RAID device with the name ");
            if (!obj.truthy("preexist") && !obj.truthy("level")) ctx.fail("RAID Partition defined without RAID level");
            if (obj.truthy("preexist") && obj.get("device") == Value(std::string()))
                ctx.fail("Device required for preexisting RAID device");
            check_mkfs_options();
            check_pbkdf();
            return;
        }
        case Cmd::rdp:
            obj.set("enabled", true);
            strict();
            return;
        case Cmd::realm: {
            if (obj.truthy("join_realm")) ctx.fail("The realm command 'join' should only be specified once");
            std::vector<std::string> words;
            SplitError err = split_words(rest_of_line(), words, false);
            if (err != SplitError::none) ctx.fail(to_message(err));
            if (words.empty()) ctx.fail("Missing realm command arguments");
            std::string command = words.front();
            words.erase(words.begin());
            if (command != "join") ctx.fail("Unsupported realm '" + command + "' command");
            std::vector<std::pair<std::string, std::string>> opts;
            std::vector<std::string> remaining;
            realm_getopt(words, opts, remaining, ctx);
            if (remaining.size() != 1) ctx.fail("Specify only one realm to join");
            obj.set("join_realm", remaining[0]);
            obj.set("join_args", words);
            std::vector<std::string> discover;
            for (const auto& [o, a] : opts)
                if (o == "--client-software" || o == "--server-software" || o == "--membership-software")
                    discover.push_back(o + "=" + a);
            obj.set("discover_options", discover);
            return;
        }
        case Cmd::reboot:
            if (used == "reboot") obj.set("action", 1LL);
            else if (used == "shutdown" || used == "poweroff") obj.set("action", 2LL);
            strict();
            if (used == "halt") obj.set("action", 0LL);
            return;
        case Cmd::repo: {
            Namespace ns = op.parse(args, 1);
            check_exclusive(ns, {{"mirrorlist", "--mirrorlist"}, {"baseurl", "--baseurl"}, {"metalink", "--metalink"}},
                            false, "repo", ctx);
            set_to_obj(ns, obj);
            dup_attr("name", "A repo with the name ");
            return;
        }
        case Cmd::reqpart:
            strict();
            obj.set("reqpart", true);
            return;
        case Cmd::rescue: {
            Namespace ns = op.parse(args, 1);
            if (ns_truthy(ns, "nomount") && ns_truthy(ns, "romount"))
                ctx.fail("Only one of --nomount and --romount may be specified for rescue command.");
            set_to_obj(ns, obj);
            obj.set("rescue", true);
            return;
        }
        case Cmd::rootpw: {
            Namespace ns = known();
            if (!ns_truthy(ns, "password") && !ns_truthy(ns, "lock"))
                ctx.fail("A single argument is expected for the rootpw command");
            if (!extra.empty()) ctx.fail(unexpected("rootpw", extra));
            set_to_obj(ns, obj);
            return;
        }
        case Cmd::services:
            strict();
            if (!obj.truthy("disabled") && !obj.truthy("enabled"))
                ctx.fail("One of --disabled or --enabled must be provided.");
            return;
        case Cmd::skipx: given("skipx"); return;
        case Cmd::snapshot: {
            strict();
            for (const CommandData* p : previous)
                if (p->get("name") == obj.get("name"))
                    ctx.fail("Snapshot with the name " + obj.str("name") + " has been already defined!");
            if (obj.is_none("when")) ctx.fail("Snapshot \"when\" parameter must be specified!");
            const std::string origin = obj.str("origin");
            const std::size_t slash = origin.find('/');
            if (slash == std::string::npos || slash == 0 || slash + 1 == origin.size() ||
                origin.find('/', slash + 1) != std::string::npos)
                ctx.fail("Snapshot origin " + origin + " must be specified by VG/LV!");
            return;
        }
        case Cmd::sshkey: {
            Namespace ns = known_only("sshkey");
            set_to_obj(ns, obj);
            obj.set("key", ns_list(ns, "sshkey").at(0));
            dup_attr("username", "An ssh user with the name ");
            return;
        }
        case Cmd::sshpw: {
            Namespace ns = known();
            if (ns_list(ns, "password").empty()) ctx.fail("A single argument is expected for the sshpw command");
            if (!extra.empty()) ctx.fail(unexpected("sshpw", extra));
            set_to_obj(ns, obj);
            obj.set("password", join(ns_list(ns, "password"), " "));
            dup_attr("username", "An ssh user with the name ");
            return;
        }
        case Cmd::timesource: {
            Namespace ns = op.parse(args, 1);
            set_to_obj(ns, obj);
            check_exclusive(ns, {{"ntp_server", "--ntp-server"}, {"ntp_pool", "--ntp-pool"}, {"ntp_disable", "--ntp-disable"}},
                            true, "timesource", ctx);
            return;
        }
        case Cmd::timezone: {
            Namespace ns = strict();
            if (args.size() == 1) ctx.fail("At least one option and/or an argument are expected for the timezone command");
            const auto& tz = ns_list(ns, "timezone");
            if (tz.size() == 1) obj.set("timezone", tz[0]);
            else if (tz.size() > 1) ctx.fail("One or zero arguments are expected for the timezone command");
            if (obj.truthy("ntpservers") && obj.truthy("nontp")) ctx.fail("Options --nontp and --ntpservers are mutually exclusive");
            return;
        }
        case Cmd::url: {
            Namespace ns = strict();
            check_exclusive(ns, {{"mirrorlist", "--mirrorlist"}, {"url", "--url"}, {"metalink", "--metalink"}}, true, "url", ctx);
            return;
        }
        case Cmd::user:
            strict();
            dup_attr("name", "A user with the name ");
            return;
        case Cmd::volgroup: {
            Namespace ns = known();
            if (ns_list(ns, "partitions").empty()) {
                if (!extra.empty()) {
                    ns.set("partitions", extra);
                    extra.clear();
                } else if (!ns_list(ns, "name").empty()) {
                    std::vector<std::string> names = ns_list(ns, "name");
                    ns.set("partitions", std::vector<std::string>(names.begin() + 1, names.end()));
                    ns.set("name", std::vector<std::string>{names[0]});
                }
            }
            if (!ns_truthy(ns, "format")) ns.set("preexist", true);
            set_to_obj(ns, obj);
            if (ns_list(ns, "name").empty()) ctx.fail("volgroup must be given a VG name");
            const bool parts = !ns_list(ns, "partitions").empty(), preexist = ns_truthy(ns, "preexist");
            if (!parts && !preexist) ctx.fail("volgroup must be given a list of partitions");
            if (parts && preexist) ctx.fail("Members may not be specified for preexisting volgroup");
            obj.set("vgname", ns_list(ns, "name")[0]);
            if (parts) obj.set("physvols", ns_list(ns, "partitions"));
            dup_attr("vgname", "A volgroup with the name ");
            if (!obj.is_none("reserved_space") && obj.num("reserved_space") < 0)
                ctx.fail("Volume group reserved space must be a positive integer.");
            if (!obj.is_none("reserved_percent") && !(obj.num("reserved_percent") > 0 && obj.num("reserved_percent") < 100))
                ctx.fail("Volume group reserved space percentage must be between 1 and 99.");
            return;
        }
        case Cmd::zerombr: given("zerombr"); return;
        case Cmd::zfcp: {
            strict();
            dup_warning([&](const CommandData& p) {
                return p.get("devnum") == obj.get("devnum") && p.get("wwpn") == obj.get("wwpn") && p.get("fcplun") == obj.get("fcplun");
            }, "A zfcp with this information has already been defined.");
            const bool dev = obj.truthy("devnum"), wwpn = obj.truthy("wwpn"), lun = obj.truthy("fcplun");
            if (!((dev && !wwpn && !lun) || (dev && wwpn && lun)))
                ctx.fail("Only --devnum or --devnum with --wwpn and --fcplun are allowed.");
            return;
        }
        case Cmd::harddrive:
        case Cmd::firewall:
        case Cmd::iscsi:
        case Cmd::liveimg:
        case Cmd::nfs:
        case Cmd::selinux:
        case Cmd::updates:
        case Cmd::xconfig:
        case Cmd::zipl:
        case Cmd::other:
            strict();
            return;
    }
}

// ---- writing ----

inline std::string write_args_part(const CommandData& o) {
    std::string r;
    if (o.truthy("active")) r += " --active";
    if (o.truthy("primOnly")) r += " --asprimary";
    if (o.has("end") && o.num("end") != 0) r += " --end=" + o.str("end");
    if (o.truthy("fstype")) r += " --fstype=\"" + o.str("fstype") + "\"";
    if (o.truthy("grow")) r += " --grow";
    if (o.num("maxSizeMB") > 0) r += " --maxsize=" + std::to_string(o.num("maxSizeMB"));
    if (!o.truthy("format")) r += " --noformat";
    if (o.truthy("onbiosdisk")) r += " --onbiosdisk=" + o.str("onbiosdisk");
    if (o.truthy("disk")) r += " --ondisk=" + o.str("disk");
    if (o.truthy("onPart")) r += " --onpart=" + o.str("onPart");
    if (o.truthy("recommended")) r += " --recommended";
    if (o.truthy("size")) r += " --size=" + o.str("size");
    if (o.has("start") && o.num("start") != 0) r += " --start=" + o.str("start");
    if (o.has("bytesPerInode") && o.num("bytesPerInode") != 0) r += " --bytes-per-inode=" + std::to_string(o.num("bytesPerInode"));
    if (o.truthy("fsopts")) r += " --fsoptions=\"" + o.str("fsopts") + "\"";
    if (o.truthy("label")) r += " --label=\"" + o.str("label") + "\"";
    return r;
}

// --encrypted/--passphrase, --escrowcert (shared by autopart, part, raid, logvol)
inline std::string write_args_encrypted(const CommandData& o) {
    std::string r;
    if (o.truthy("encrypted")) {
        r += " --encrypted";
        if (o.truthy("passphrase")) r += " --passphrase=\"" + o.str("passphrase") + "\"";
    }
    if (o.truthy("encrypted") && o.truthy("escrowcert")) {
        r += " --escrowcert=\"" + o.str("escrowcert") + "\"";
        if (o.truthy("backuppassphrase")) r += " --backuppassphrase";
    }
    return r;
}

// --fsprofile and the encryption options (the F9/F12 part shared by part, raid, logvol)
inline std::string write_args_crypt(const CommandData& o) {
    std::string r;
    if (o.truthy("fsprofile")) r += " --fsprofile=\"" + o.str("fsprofile") + "\"";
    return r + write_args_encrypted(o);
}

inline std::string write_args_luks(const CommandData& o) {
    std::string r;
    if (!o.truthy("encrypted")) return r;
    if (o.truthy("luks_version")) r += " --luks-version=" + o.str("luks_version");
    if (o.truthy("pbkdf")) r += " --pbkdf=" + o.str("pbkdf");
    if (o.truthy("pbkdf_memory")) r += " --pbkdf-memory=" + o.str("pbkdf_memory");
    if (o.truthy("pbkdf_time")) r += " --pbkdf-time=" + o.str("pbkdf_time");
    if (o.truthy("pbkdf_iterations")) r += " --pbkdf-iterations=" + o.str("pbkdf_iterations");
    return r;
}

// The text for an enumerated value 0, 1, 2, ...; "" for any other value.
inline std::string_view nth_name(long long i, std::initializer_list<std::string_view> names) {
    return i >= 0 && static_cast<std::size_t>(i) < names.size() ? names.begin()[i] : std::string_view();
}

// Adds `--option="value"` when the attribute is set.
inline void add_quoted(std::vector<std::string>& parts, const CommandData& o, std::string_view attr, std::string_view option) {
    if (o.truthy(attr)) parts.push_back(std::string(option) + "=\"" + o.str(attr) + "\"");
}

inline std::string quoted_list(const std::vector<std::string>& items) {
    std::string r;
    for (std::size_t i = 0; i < items.size(); ++i) r += (i ? ",'" : "'") + items[i] + "'";
    return r;
}

// One item of a multi-use command, as its own line.
inline std::string write_item(Cmd id, const CommandData& o) {
    switch (id) {
        case Cmd::btrfs: {
            std::string r = "btrfs " + o.str("mountpoint");
            if (!o.truthy("format")) r += " --noformat";
            if (o.truthy("preexist")) r += " --useexisting";
            if (o.truthy("label")) r += " --label=\"" + o.str("label") + "\"";
            if (o.truthy("dataLevel")) r += " --data=" + ascii_lower(o.str("dataLevel"));
            if (o.truthy("metaDataLevel")) r += " --metadata=" + ascii_lower(o.str("metaDataLevel"));
            if (o.truthy("subvol")) r += " --subvol --name=" + o.str("name");
            if (o.truthy("mkfsopts")) r += " --mkfsoptions=\"" + o.str("mkfsopts") + "\"";
            return r + " " + join(o.list("devices"), " ") + "\n";
        }
        case Cmd::driverdisk: {
            std::string r;
            if (o.truthy("partition")) {
                r += o.str("partition");
                if (o.truthy("type")) r += " --type=" + o.str("type");
            } else if (o.truthy("source")) {
                r += "--source=" + o.str("source");
            } else if (o.truthy("biospart")) {
                r += "--biospart=" + o.str("biospart");
            }
            return "driverdisk " + r + "\n";
        }
        case Cmd::fcoe: {
            std::string r = "fcoe";
            if (o.truthy("nic")) r += " --nic=" + o.str("nic");
            if (o.truthy("dcb")) r += " --dcb";
            if (o.truthy("autovlan")) r += " --autovlan";
            return r + "\n";
        }
        case Cmd::group: {
            std::string r = "group";
            if (o.truthy("name")) r += " --name=" + o.str("name");
            if (o.truthy("gid")) r += " --gid=" + o.str("gid");
            return r + "\n";
        }
        case Cmd::iscsi: {
            std::string r = "iscsi";
            if (o.truthy("target")) r += " --target=" + o.str("target");
            if (o.truthy("ipaddr")) r += " --ipaddr=" + o.str("ipaddr");
            if (o.get("port") != Value(3260LL)) r += " --port=" + o.str("port");
            if (o.truthy("user")) r += " --user=" + o.str("user");
            if (o.truthy("password")) r += " --password=" + o.str("password");
            if (o.truthy("user_in")) r += " --reverse-user=" + o.str("user_in");
            if (o.truthy("password_in")) r += " --reverse-password=" + o.str("password_in");
            if (o.truthy("iface")) r += " --iface=" + o.str("iface");
            return r + "\n";
        }
        case Cmd::logvol: {
            std::string r;
            if (o.truthy("fstype")) r += " --fstype=\"" + o.str("fstype") + "\"";
            if (o.truthy("grow")) r += " --grow";
            if (o.truthy("maxSizeMB")) r += " --maxsize=" + std::to_string(o.num("maxSizeMB"));
            if (!o.truthy("format")) r += " --noformat";
            if (o.truthy("percent")) r += " --percent=" + std::to_string(o.num("percent"));
            if (o.truthy("recommended")) r += " --recommended";
            if (o.truthy("size")) r += " --size=" + std::to_string(o.num("size"));
            if (o.truthy("preexist")) r += " --useexisting";
            if (o.has("bytesPerInode") && o.truthy("bytesPerInode")) r += " --bytes-per-inode=" + std::to_string(o.num("bytesPerInode"));
            if (o.truthy("fsopts")) r += " --fsoptions=\"" + o.str("fsopts") + "\"";
            r += write_args_crypt(o);
            if (o.truthy("label")) r += " --label=\"" + o.str("label") + "\"";
            if (o.truthy("resize")) r += " --resize";
            if (o.truthy("hibernation")) r += " --hibernation";
            if (o.truthy("encrypted") && o.truthy("cipher")) r += " --cipher=\"" + o.str("cipher") + "\"";
            if (o.truthy("thin_pool")) {
                r += " --thinpool";
                if (o.truthy("metadata_size")) r += " --metadatasize=" + std::to_string(o.num("metadata_size"));
                if (o.truthy("chunk_size")) r += " --chunksize=" + std::to_string(o.num("chunk_size"));
            }
            if (o.truthy("thin_volume")) r += " --thin --poolname=" + o.str("pool_name");
            if (o.truthy("profile")) r += " --profile=" + o.str("profile");
            if (o.truthy("cache_size")) r += " --cachesize=" + std::to_string(o.num("cache_size"));
            if (o.truthy("cache_pvs")) r += " --cachepvs=" + join(o.list("cache_pvs"), ",");
            if (o.truthy("cache_mode")) r += " --cachemode=" + o.str("cache_mode");
            if (o.truthy("mkfsopts")) r += " --mkfsoptions=\"" + o.str("mkfsopts") + "\"";
            r += write_args_luks(o);
            r += " --name=" + o.str("name") + " --vgname=" + o.str("vgname");
            return "logvol " + o.str("mountpoint") + r + "\n";
        }
        case Cmd::mount: {
            std::string r = o.str("device") + " " + o.str("mount_point");
            if (o.truthy("reformat")) {
                r += " --reformat";
                if (o.truthy("format")) r += "=" + o.str("format");
            }
            if (o.truthy("mkfs_opts")) r += " --mkfsoptions=\"" + o.str("mkfs_opts") + "\"";
            if (o.truthy("mount_opts")) r += " --mountoptions=\"" + o.str("mount_opts") + "\"";
            return "mount " + r + "\n";
        }
        case Cmd::network: {
            std::string r;
            if (o.truthy("bootProto")) r += " --bootproto=" + o.str("bootProto");
            if (o.truthy("dhcpclass")) r += " --dhcpclass=" + o.str("dhcpclass");
            if (o.truthy("device")) r += " --device=" + o.str("device");
            if (o.truthy("essid")) r += " --essid=\"" + o.str("essid") + "\"";
            if (o.truthy("ethtool")) r += " --ethtool=\"" + o.str("ethtool") + "\"";
            if (o.truthy("gateway")) r += " --gateway=" + o.str("gateway");
            if (o.truthy("hostname")) r += " --hostname=" + o.str("hostname");
            if (o.truthy("ip")) r += " --ip=" + o.str("ip");
            if (o.truthy("mtu")) r += " --mtu=" + o.str("mtu");
            if (o.truthy("nameserver")) r += " --nameserver=" + o.str("nameserver");
            if (o.truthy("netmask")) r += " --netmask=" + o.str("netmask");
            if (o.truthy("nodns")) r += " --nodns";
            if (!o.truthy("onboot")) r += " --onboot=off";
            if (o.truthy("wepkey")) r += " --wepkey=" + o.str("wepkey");
            if (o.truthy("notksdevice")) r += " --notksdevice";
            if (o.truthy("noipv4")) r += " --noipv4";
            if (o.truthy("noipv6")) r += " --noipv6";
            if (o.truthy("ipv6")) r += " --ipv6=" + o.str("ipv6");
            if (o.truthy("activate")) r += " --activate";
            if (o.truthy("nodefroute")) r += " --nodefroute";
            if (o.truthy("wpakey")) r += " --wpakey=" + o.str("wpakey");
            if (o.truthy("bondslaves")) r += " --bondslaves=" + o.str("bondslaves");
            if (o.truthy("bondopts")) r += " --bondopts=" + o.str("bondopts");
            if (o.truthy("vlanid")) r += " --vlanid=" + o.str("vlanid");
            if (o.truthy("ipv6gateway")) r += " --ipv6gateway=" + o.str("ipv6gateway");
            if (o.truthy("teamslaves")) {
                std::vector<std::string> cfgs;
                for (const auto& item : o.list("teamslaves")) {
                    std::size_t sep = item.find('\x1e');
                    std::string dev = item.substr(0, sep);
                    std::string cfg = sep == std::string::npos ? std::string() : item.substr(sep + 1);
                    if (!cfg.empty()) cfg = "'" + cfg + "'";
                    cfgs.push_back(dev + cfg);
                }
                r += " --teamslaves=\"" + replace_all(join(cfgs, ","), "\"", "\\\"") + "\"";
            }
            if (o.truthy("teamconfig")) r += " --teamconfig=\"" + replace_all(o.str("teamconfig"), "\"", "\\\"") + "\"";
            if (o.truthy("interfacename")) r += " --interfacename=" + o.str("interfacename");
            if (o.truthy("bridgeslaves")) r += " --bridgeslaves=" + o.str("bridgeslaves");
            if (o.truthy("bridgeopts")) r += " --bridgeopts=" + o.str("bridgeopts");
            if (o.get("activate") == Value(false)) r += " --no-activate";
            if (o.text("bindto") == "mac") r += " --bindto=mac";
            if (o.truthy("ipv4_dns_search")) r += " --ipv4-dns-search=" + o.str("ipv4_dns_search");
            if (o.truthy("ipv6_dns_search")) r += " --ipv6-dns-search=" + o.str("ipv6_dns_search");
            if (o.truthy("ipv4_ignore_auto_dns")) r += " --ipv4-ignore-auto-dns";
            if (o.truthy("ipv6_ignore_auto_dns")) r += " --ipv6-ignore-auto-dns";
            return "network " + r + "\n";
        }
        case Cmd::partition: {
            std::string r = write_args_part(o) + write_args_crypt(o);
            if (o.truthy("resize")) r += " --resize";
            if (o.truthy("hibernation")) r += " --hibernation";
            if (o.truthy("encrypted") && o.truthy("cipher")) r += " --cipher=\"" + o.str("cipher") + "\"";
            if (o.truthy("mkfsopts")) r += " --mkfsoptions=\"" + o.str("mkfsopts") + "\"";
            r += write_args_luks(o);
            if (o.truthy("encrypted") && o.truthy("hw_passphrase")) r += " --hw-passphrase=\"" + o.str("hw_passphrase") + "\"";
            return "part " + o.str("mountpoint") + r + "\n";
        }
        case Cmd::raid: {
            std::string r;
            r += " --device=" + o.str("device");  // str(None) is "None": pykickstart writes it too
            if (o.truthy("fstype")) r += " --fstype=\"" + o.str("fstype") + "\"";
            if (o.truthy("level")) r += " --level=" + ascii_upper(o.str("level"));
            if (!o.truthy("format")) r += " --noformat";
            if (o.num("spares") != 0) r += " --spares=" + std::to_string(o.num("spares"));
            if (o.truthy("preexist")) r += " --useexisting";
            if (o.truthy("fsopts")) r += " --fsoptions=\"" + o.str("fsopts") + "\"";
            if (o.has("bytesPerInode") && o.num("bytesPerInode") != 0) r += " --bytes-per-inode=" + std::to_string(o.num("bytesPerInode"));
            r += write_args_crypt(o);
            if (o.truthy("label")) r += " --label=\"" + o.str("label") + "\"";
            if (o.truthy("encrypted") && o.truthy("cipher")) r += " --cipher=\"" + o.str("cipher") + "\"";
            if (o.truthy("mkfsopts")) r += " --mkfsoptions=\"" + o.str("mkfsopts") + "\"";
            if (o.truthy("chunk_size")) r += " --chunksize=" + std::to_string(o.num("chunk_size"));
            r += write_args_luks(o);
            std::string line = "raid " + o.str("mountpoint") + r;
            if (!o.truthy("preexist")) line += " " + join(o.list("members"), " ");
            return strip(line) + "\n";
        }
        case Cmd::repo: {
            std::string r;
            if (o.truthy("baseurl")) r += "--baseurl=" + o.str("baseurl");
            else if (o.truthy("mirrorlist")) r += "--mirrorlist=" + o.str("mirrorlist");
            if (o.truthy("cost")) r += " --cost=" + o.str("cost");
            if (o.truthy("includepkgs")) r += " --includepkgs=\"" + join(o.list("includepkgs"), ",") + "\"";
            if (o.truthy("excludepkgs")) r += " --excludepkgs=\"" + join(o.list("excludepkgs"), ",") + "\"";
            if (o.truthy("ignoregroups")) r += " --ignoregroups=true";
            if (o.truthy("proxy")) r += " --proxy=\"" + o.str("proxy") + "\"";
            if (o.truthy("noverifyssl")) r += " --noverifyssl";
            if (o.truthy("install")) r += " --install";
            if (o.truthy("metalink")) r += " --metalink=" + o.str("metalink");
            if (o.truthy("sslcacert")) r += " --sslcacert=\"" + o.str("sslcacert") + "\"";
            if (o.truthy("sslclientcert")) r += " --sslclientcert=\"" + o.str("sslclientcert") + "\"";
            if (o.truthy("sslclientkey")) r += " --sslclientkey=\"" + o.str("sslclientkey") + "\"";
            return "repo --name=\"" + o.str("name") + "\" " + r + "\n";
        }
        case Cmd::snapshot: {
            std::string when;
            if (o.get("when") == Value(0LL)) when = "--when=post-install";
            else if (o.get("when") == Value(1LL)) when = "--when=pre-install";
            return strip("snapshot " + o.str("origin") + " --name=" + o.str("name") + " " + when) + "\n";
        }
        case Cmd::sshkey:
            return "sshkey --username=" + o.str("username") + " \"" + replace_all(o.str("key"), "\"", "\\\"") + "\"\n";
        case Cmd::sshpw: {
            std::string r = "sshpw --username=" + o.str("username");
            if (o.truthy("sshkey")) {
                r += " --sshkey";
            } else {
                if (o.truthy("lock")) r += " --lock";
                r += o.truthy("isCrypted") ? " --iscrypted" : " --plaintext";
            }
            return r + " " + o.str("password") + "\n";
        }
        case Cmd::timesource: {
            std::string r;
            if (o.truthy("ntp_server")) r += " --ntp-server=" + o.str("ntp_server");
            if (o.truthy("ntp_pool")) r += " --ntp-pool=" + o.str("ntp_pool");
            if (o.truthy("nts")) r += " --nts";
            if (o.truthy("ntp_disable")) r += " --ntp-disable";
            return r.empty() ? r : "timesource" + r + "\n";
        }
        case Cmd::user: {
            std::string r;
            if (o.truthy("groups")) r += " --groups=" + join(o.list("groups"), ",");
            if (o.truthy("homedir")) r += " --homedir=" + o.str("homedir");
            if (o.truthy("name")) r += " --name=" + o.str("name");
            if (o.truthy("password")) {
                const std::string pw = o.str("password");
                r += pw.find('#') != std::string::npos ? " --password=\"" + pw + "\"" : " --password=" + pw;
            }
            if (o.truthy("isCrypted")) r += " --iscrypted";
            if (o.truthy("shell")) r += " --shell=" + o.str("shell");
            if (o.truthy("uid")) r += " --uid=" + o.str("uid");
            if (o.truthy("lock")) r += " --lock";
            if (o.truthy("gecos")) r += " --gecos=\"" + o.str("gecos") + "\"";
            if (o.truthy("gid")) r += " --gid=" + std::to_string(o.num("gid"));
            return r.empty() ? r : "user" + r + "\n";
        }
        case Cmd::volgroup: {
            std::string r = "volgroup " + o.str("vgname");
            if (!o.truthy("format")) r += " --noformat";
            if (o.truthy("pesize")) r += " --pesize=" + std::to_string(o.num("pesize"));
            if (o.truthy("preexist")) r += " --useexisting";
            if (o.truthy("reserved_space")) r += " --reserved-space=" + std::to_string(o.num("reserved_space"));
            if (o.truthy("reserved_percent")) r += " --reserved-percent=" + std::to_string(o.num("reserved_percent"));
            if (!o.truthy("preexist")) r += " " + join(o.list("physvols"), " ");
            return strip(r) + "\n";
        }
        case Cmd::zfcp: {
            std::string r = "zfcp";
            if (o.truthy("devnum")) r += " --devnum=" + o.str("devnum");
            if (o.truthy("wwpn")) r += " --wwpn=" + o.str("wwpn");
            if (o.truthy("fcplun")) r += " --fcplun=" + o.str("fcplun");
            if (o.has("scsiid") && o.truthy("scsiid")) r += " --scsiid=" + o.str("scsiid");
            if (o.has("scsilun") && o.truthy("scsilun")) r += " --scsilun=" + o.str("scsilun");
            return r + "\n";
        }
        default: return {};
    }
}

// A multi-use command: all its items, with the comment some commands put before them.
inline std::string write_items(Cmd id, const std::vector<const CommandData*>& items) {
    std::string body;
    for (const CommandData* o : items) body += write_item(id, *o);
    if (body.empty()) return body;
    if (id == Cmd::network) return "# Network information\n" + body;
    if (id == Cmd::partition) return "# Disk partitioning information\n" + body;
    if (id == Cmd::mount) return "# Mount points configuration\n" + body + "\n";
    return body;
}

// A single-use command's state; `seen` tells whether it appeared at all.
inline std::string write_single(Cmd id, const CommandData& o, bool seen) {
    switch (id) {
        case Cmd::authselect:
            return o.truthy("authselect") ? "# System authorization information\nauthselect " + o.str("authselect") + "\n" : "";
        case Cmd::autopart: {
            if (!o.truthy("autopart")) return "";
            std::string r = "autopart" + write_args_encrypted(o);
            if (!o.truthy("lvm")) r += " --nolvm";
            if (!o.is_none("type"))
                r += nth_name(o.num("type"), {" --type=plain", " --type=btrfs", " --type=lvm", " --type=thinp"});
            if (o.truthy("encrypted") && o.truthy("cipher")) r += " --cipher=\"" + o.str("cipher") + "\"";
            if (o.truthy("fstype")) r += " --fstype=" + o.str("fstype");
            if (o.truthy("nohome")) r += " --nohome";
            if (o.truthy("noboot")) r += " --noboot";
            if (o.truthy("noswap")) r += " --noswap";
            r += write_args_luks(o);
            if (o.truthy("hibernation")) r += " --hibernation";
            if (o.truthy("encrypted") && o.truthy("hw_passphrase")) r += " --hw-passphrase=\"" + o.str("hw_passphrase") + "\"";
            return r + "\n";
        }
        case Cmd::bootc: {
            if (!seen) return "";
            std::vector<std::string> parts;
            add_quoted(parts, o, "stateroot", "--stateroot");
            add_quoted(parts, o, "sourceImgRef", "--source-imgref");
            add_quoted(parts, o, "targetImgRef", "--target-imgref");
            std::string r = join(parts, " ");
            if (o.truthy("bootloader")) r += " --bootloader=\"" + o.str("bootloader") + "\"";
            if (o.truthy("composefs")) r += " --composefs";
            return "# Bootc setup\nbootc " + r + "\n";
        }
        case Cmd::bootloader: {
            if (!o.truthy("location")) return "";
            std::string r;
            if (o.truthy("disabled")) {
                r = " --disabled";
            } else {
                if (o.truthy("appendLine")) r += " --append=\"" + o.str("appendLine") + "\"";
                if (o.truthy("location")) r += " --location=" + o.str("location");
                if (o.truthy("password")) r += " --password=\"" + o.str("password") + "\"";
                if (o.truthy("md5pass")) r += " --md5pass=\"" + o.str("md5pass") + "\"";
                if (o.truthy("upgrade")) r += " --upgrade";
                if (!o.list("driveorder").empty()) r += " --driveorder=\"" + join(o.list("driveorder"), ",") + "\"";
                if (!o.is_none("timeout")) r += " --timeout=" + std::to_string(o.num("timeout"));
                if (o.truthy("default")) r += " --default=" + o.str("default");
                if (o.truthy("isCrypted")) r += " --iscrypted";
                if (o.truthy("bootDrive")) r += " --boot-drive=" + o.str("bootDrive");
                if (o.truthy("leavebootorder")) r += " --leavebootorder";
                if (o.truthy("extlinux")) r += " --extlinux";
                if (o.truthy("nombr")) r += " --nombr";
                if (o.truthy("sdboot")) r += " --sdboot";
            }
            return "# System bootloader configuration\nbootloader" + r + "\n";
        }
        case Cmd::cdrom: return seen ? "# Use CDROM installation media\ncdrom\n" : "";
        case Cmd::clearpart: {
            if (o.is_none("type")) return "";
            std::string r = "# Partition clearing information\nclearpart";
            r += nth_name(o.num("type"), {" --linux", " --all", " --none"});
            if (o.truthy("initAll")) r += " --initlabel";
            if (o.truthy("drives")) r += " --drives=" + join(o.list("drives"), ",");
            if (o.truthy("devices")) r += " --list=" + join(o.list("devices"), ",");
            if (o.truthy("disklabel")) r += " --disklabel=" + o.str("disklabel");
            if (o.truthy("cdl")) r += " --cdl";
            return r + "\n";
        }
        case Cmd::displaymode: {
            if (o.is_none("displayMode")) return "";
            std::string r(nth_name(o.num("displayMode"),
                                   {"cmdline\n", "# Use graphical install\ngraphical\n", "# Use text mode install\ntext\n"}));
            if (o.truthy("nonInteractive")) r = rstrip(r) + " --non-interactive\n";
            return r;
        }
        case Cmd::eula: return o.truthy("agreed") ? "# License agreement\neula --agreed\n" : "";
        case Cmd::firewall: {
            if (o.truthy("use_system_defaults")) return "# Firewall configuration\nfirewall --use-system-defaults\n";
            if (o.is_none("enabled")) return "";
            if (!o.truthy("enabled")) return "# Firewall configuration\nfirewall --disabled\n";
            std::string extra;
            std::vector<std::string> ports;
            for (const auto& p : o.list("ports")) {
                if (p == "ssh:tcp") extra += " --ssh";
                else if (p == "telnet:tcp") extra += " --telnet";
                else if (p == "smtp:tcp") extra += " --smtp";
                else if (p == "http:tcp") extra += " --http";
                else if (p == "ftp:tcp") extra += " --ftp";
                else ports.push_back(p);
            }
            std::string r = "# Firewall configuration\nfirewall --enabled" + extra;
            if (!ports.empty()) r += " --port=" + join(ports, ",");
            if (!o.list("trusts").empty()) r += " --trust=" + join(o.list("trusts"), ",");
            if (!o.list("services").empty()) r += " --service=" + join(o.list("services"), ",");
            if (!o.list("remove_services").empty()) r += " --remove-service=" + join(o.list("remove_services"), ",");
            return r + "\n";
        }
        case Cmd::firstboot: {
            if (o.is_none("firstboot")) return "";
            switch (o.num("firstboot")) {
                case 1: return "firstboot --disable\n";
                case 0: return "# Run the Setup Agent on first boot\nfirstboot --enable\n";
                case 2: return "# Run the Setup Agent on first boot\nfirstboot --reconfig\n";
                default: return "";
            }
        }
        case Cmd::harddrive:
            if (!seen) return "";
            return "# Use hard drive installation media\nharddrive --dir=\"" + o.str("dir") + "\" --partition=" + o.str("partition") + "\n";
        case Cmd::hmc: return seen ? "# Use installation media via SE/HMC\nhmc\n" : "";
        case Cmd::ignoredisk:
            if (o.truthy("interactive")) return "ignoredisk --interactive\n";
            if (o.truthy("ignoredisk")) return "ignoredisk --drives=" + join(o.list("ignoredisk"), ",") + "\n";
            if (o.truthy("onlyuse")) return "ignoredisk --only-use=" + join(o.list("onlyuse"), ",") + "\n";
            return "";
        case Cmd::iscsiname: return o.truthy("iscsiname") ? "iscsiname " + o.str("iscsiname") + "\n" : "";
        case Cmd::keyboard: {
            const bool kb = o.truthy("_keyboard"), xl = o.truthy("x_layouts"), vc = o.truthy("vc_keymap");
            if (!kb && !xl && !vc) return "";
            std::string r = "# Keyboard layouts\n";
            if (!vc && !xl) return r + "keyboard '" + o.str("_keyboard") + "'\n";
            if (kb) r += "# old format: keyboard " + o.str("_keyboard") + "\n# new format:\n";
            r += "keyboard";
            if (vc) r += " --vckeymap=" + o.str("vc_keymap");
            if (xl) r += " --xlayouts=" + quoted_list(o.list("x_layouts"));
            if (o.truthy("switch_options")) r += " --switch=" + quoted_list(o.list("switch_options"));
            return r + "\n";
        }
        case Cmd::lang: {
            if (!o.truthy("lang")) return "";
            std::string r = "# System language\nlang " + o.str("lang");
            if (o.truthy("addsupport")) r += " --addsupport=" + join(o.list("addsupport"), ",");
            return r + "\n";
        }
        case Cmd::liveimg: {
            if (!seen) return "";
            std::string r = "# Use live disk image installation\nliveimg --url=\"" + o.str("url") + "\"";
            if (o.truthy("proxy")) r += " --proxy=\"" + o.str("proxy") + "\"";
            if (o.truthy("noverifyssl")) r += " --noverifyssl";
            if (o.truthy("checksum")) r += " --checksum=\"" + o.str("checksum") + "\"";
            return r + "\n";
        }
        case Cmd::logging: {
            if (!o.truthy("host")) return "";
            std::string r = "# Installation logging level\nlogging --host=" + o.str("host");
            if (o.truthy("port")) r += " --port=" + o.str("port");
            return r + "\n";
        }
        case Cmd::mediacheck: return o.truthy("mediacheck") ? "mediacheck\n" : "";
        case Cmd::nfs: {
            if (!seen) return "";
            std::string r = "# Use NFS installation media\nnfs --server=" + o.str("server") + " --dir=\"" + o.str("dir") + "\"";
            if (o.truthy("opts")) r += " --opts=\"" + o.str("opts") + "\"";
            return r + "\n";
        }
        case Cmd::ostreecontainer: {
            if (!seen) return "";
            std::vector<std::string> parts;
            add_quoted(parts, o, "stateroot", "--stateroot");
            add_quoted(parts, o, "remote", "--remote");
            if (o.truthy("noSignatureVerification")) parts.emplace_back("--no-signature-verification");
            add_quoted(parts, o, "transport", "--transport");
            add_quoted(parts, o, "url", "--url");
            return "# OSTree container setup\nostreecontainer " + join(parts, " ") + "\n";
        }
        case Cmd::ostreesetup: {
            if (!seen || !o.truthy("osname")) return "";
            std::vector<std::string> parts;
            parts.push_back("--osname=\"" + o.str("osname") + "\"");
            add_quoted(parts, o, "remote", "--remote");
            add_quoted(parts, o, "url", "--url");
            add_quoted(parts, o, "ref", "--ref");
            if (o.truthy("nogpg")) parts.emplace_back("--nogpg");
            return "# OSTree setup\nostreesetup " + join(parts, " ") + "\n";
        }
        case Cmd::rdp: {
            if (!o.truthy("enabled")) return "";
            std::string r = "rdp";
            if (o.truthy("username")) r += " --username=" + o.str("username");
            if (o.truthy("password")) r += " --password=" + o.str("password");
            return r + "\n";
        }
        case Cmd::realm: {
            if (!o.truthy("join_args")) return "";
            std::string r = "# Realm or domain membership\nrealm join";
            for (const auto& a : o.list("join_args")) r += " " + sh_quote(a);
            return r + "\n";
        }
        case Cmd::reboot: {
            if (o.is_none("action")) return "";
            std::string args;
            if (o.truthy("eject")) args += " --eject";
            if (o.truthy("kexec")) args += " --kexec";
            switch (o.num("action")) {
                case 0: return "# Halt after installation\nhalt" + args + "\n";
                case 1: return "# Reboot after installation\nreboot" + args + "\n";
                case 2: return "# Shutdown after installation\nshutdown" + args + "\n";
                default: return "";
            }
        }
        case Cmd::reqpart:
            return o.truthy("reqpart") ? std::string("reqpart") + (o.truthy("addBoot") ? " --add-boot" : "") + "\n" : "";
        case Cmd::rescue: {
            if (!o.truthy("rescue")) return "";
            std::string r = "rescue";
            if (o.truthy("nomount")) r += " --nomount";
            if (o.truthy("romount")) r += " --romount";
            return "# Start rescue mode\n" + r + "\n";
        }
        case Cmd::rootpw: {
            if (o.truthy("password")) {
                std::string pw = o.str("password");
                if (pw.find('#') != std::string::npos) pw = "\"" + pw + "\"";
                std::string args;
                if (o.truthy("isCrypted")) args += " --iscrypted";
                if (o.truthy("lock")) args += " --lock";
                if (!o.truthy("isCrypted")) args += " --plaintext";
                if (o.truthy("allow_ssh")) args += " --allow-ssh";
                return "# Root password\nrootpw" + args + " " + pw + "\n";
            }
            return o.truthy("lock") ? "#Root password\nrootpw --lock\n" : "";
        }
        case Cmd::selinux: {
            if (o.is_none("selinux")) return "";
            std::string r = "# SELinux configuration\n";
            r += nth_name(o.num("selinux"), {"selinux --disabled\n", "selinux --enforcing\n", "selinux --permissive\n"});
            return r;
        }
        case Cmd::services: {
            std::string args;
            if (o.truthy("disabled")) args += " --disabled=\"" + join(o.list("disabled"), ",") + "\"";
            if (o.truthy("enabled")) args += " --enabled=\"" + join(o.list("enabled"), ",") + "\"";
            return args.empty() ? args : "# System services\nservices" + args + "\n";
        }
        case Cmd::skipx: return o.truthy("skipx") ? "# Do not configure the X Window System\nskipx\n" : "";
        case Cmd::timezone: {
            std::string args;
            if (o.truthy("timezone")) args += " " + o.str("timezone");
            if (o.truthy("isUtc")) args += " --utc";
            if (o.truthy("nontp")) args += " --nontp";
            if (o.truthy("ntpservers")) args += " --ntpservers=" + join(o.list("ntpservers"), ",");
            return args.empty() ? args : "# System timezone\ntimezone" + args + "\n";
        }
        case Cmd::updates: return o.truthy("url") ? "updates " + o.str("url") + "\n" : "";
        case Cmd::url: {
            if (!seen) return "";
            std::string r = "# Use network installation\n";
            if (o.truthy("url")) r += "url --url=\"" + o.str("url") + "\"";
            else if (o.truthy("mirrorlist")) r += "url --mirrorlist=\"" + o.str("mirrorlist") + "\"";
            else if (o.truthy("metalink")) r += "url --metalink=\"" + o.str("metalink") + "\"";
            if (o.truthy("proxy")) r += " --proxy=\"" + o.str("proxy") + "\"";
            if (o.truthy("noverifyssl")) r += " --noverifyssl";
            if (o.truthy("sslcacert")) r += " --sslcacert=\"" + o.str("sslcacert") + "\"";
            if (o.truthy("sslclientcert")) r += " --sslclientcert=\"" + o.str("sslclientcert") + "\"";
            if (o.truthy("sslclientkey")) r += " --sslclientkey=\"" + o.str("sslclientkey") + "\"";
            return r + "\n";
        }
        case Cmd::xconfig: {
            std::string r;
            if (o.has("driver") && o.truthy("driver")) r += " --driver=" + o.str("driver");
            if (o.truthy("defaultdesktop")) r += " --defaultdesktop=" + o.str("defaultdesktop");
            if (o.num("depth") != 0) r += " --depth=" + std::to_string(o.num("depth"));
            if (o.has("resolution") && o.truthy("resolution")) r += " --resolution=" + o.str("resolution");
            if (o.truthy("startX")) r += " --startxonboot";
            if (o.has("videoRam") && o.truthy("videoRam")) r += " --videoram=" + o.str("videoRam");
            return r.empty() ? r : "# X Window System configuration information\nxconfig " + r + "\n";
        }
        case Cmd::zerombr: return o.truthy("zerombr") ? "# Clear the Master Boot Record\nzerombr\n" : "";
        case Cmd::zipl: {
            if (o.is_none("secure_boot") || o.num("secure_boot") == -1) return "";
            std::string r = "# ZIPL configuration\nzipl";
            r += nth_name(o.num("secure_boot"), {" --no-secure-boot", " --force-secure-boot", " --secure-boot"});
            return r + "\n";
        }
        default: return "";
    }
}

}  // namespace detail
}  // namespace imgcreate::kickstart

// imgcreate — kickstart sections: %packages, the scripts (%pre, %pre-install, %post,
// %onerror, %traceback), %certificate, and the sections kept verbatim (%addon, %anaconda).
// Their data types, their header options, and how %packages lines combine.
#pragma once

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <imgcreate/kickstart/diagnostic.hpp>
#include <imgcreate/kickstart/options.hpp>
#include <imgcreate/kickstart/script_type.hpp>

namespace imgcreate::kickstart {

// ---- %packages ----

enum class PackageKind {
    package,            // name, glob or name.arch
    exclude,            // -name
    group,              // @group [--nodefaults|--optional]
    exclude_group,      // -@group
    environment,        // @^environment
    exclude_environment,// -@^environment
    module,             // @module:stream[/profile]
};

struct PackageEntry {
    PackageKind kind = PackageKind::package;
    std::string name;        // without the leading -, @, -@, @^
    bool nodefaults = false; // @group --nodefaults
    bool optional = false;   // @group --optional
    Origin origin;
    bool operator==(const PackageEntry& o) const {
        return kind == o.kind && name == o.name && nodefaults == o.nodefaults && optional == o.optional;
    }
};

// A group as pykickstart keeps it: its name and how much of it to install.
struct PackageGroup {
    enum class Include { default_, required /* --nodefaults */, all /* --optional */ };
    std::string name;
    Include include = Include::default_;
    bool operator==(const PackageGroup&) const = default;
};

struct Packages {
    bool seen = false;               // a %packages section appeared
    // header options (a later %packages header replaces the earlier one's, as in pykickstart)
    bool default_packages = false;   // --default
    bool excludedocs = false;        // --excludedocs
    bool ignoremissing = false;      // --ignoremissing
    bool ignorebroken = false;       // --ignorebroken
    bool nocore = false;             // --nocore
    bool multilib = false;           // --multilib
    bool exclude_weakdeps = false;   // --exclude-weakdeps / --excludeWeakdeps
    std::optional<std::string> inst_langs;  // --inst-langs / --instLangs
    std::optional<long long> timeout;       // --timeout
    std::optional<long long> retries;       // --retries
    Origin origin;                   // the (last) %packages header

    // every line, in order
    std::vector<PackageEntry> entries;

    // the selection the lines add up to (what pykickstart's Packages object holds)
    std::string environment;                  // @^..., unless cancelled
    std::vector<PackageGroup> groups;         // @... (first mention of a name wins)
    std::vector<PackageGroup> excluded_groups;// -@...
    std::set<std::string> packages;           // name / glob / name.arch
    std::set<std::string> excluded;           // -name

    bool operator==(const Packages& o) const {
        auto sorted = [](std::vector<PackageGroup> g) {
            std::stable_sort(g.begin(), g.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
            return g;
        };
        return seen == o.seen && default_packages == o.default_packages && excludedocs == o.excludedocs &&
               ignoremissing == o.ignoremissing && ignorebroken == o.ignorebroken && nocore == o.nocore &&
               multilib == o.multilib && exclude_weakdeps == o.exclude_weakdeps && inst_langs == o.inst_langs &&
               timeout == o.timeout && retries == o.retries && (default_packages || environment == o.environment) &&
               sorted(groups) == sorted(o.groups) && sorted(excluded_groups) == sorted(o.excluded_groups) &&
               packages == o.packages && excluded == o.excluded;
    }
};

// ---- scripts ----

struct Script {
    ScriptType type = ScriptType::post;
    std::string interpreter = "/bin/sh";   // --interpreter
    bool chroot = false;                   // %post without --nochroot
    bool erroronfail = false;              // --erroronfail
    std::optional<std::string> log;        // --log / --logfile
    std::string body;                      // the lines between header and %end, each with its '\n'
    Origin origin;                         // the header line
    bool operator==(const Script& o) const {
        return type == o.type && interpreter == o.interpreter && chroot == o.chroot && erroronfail == o.erroronfail &&
               log == o.log && body == o.body;
    }
};

// ---- %certificate ----

struct Certificate {
    std::string filename;
    std::optional<std::string> dir;
    std::optional<std::string> type;
    std::string cert;  // the body without its final newline
    Origin origin;
    bool operator==(const Certificate& o) const {
        return filename == o.filename && dir == o.dir && type == o.type && cert == o.cert;
    }
};

// ---- sections kept as they are (%addon NAME ..., %anaconda) ----

struct Addon {
    std::string section;              // "%addon" or "%anaconda"
    std::vector<std::string> args;    // the header words, the section name first ("%addon", "com_redhat_kdump", ...)
    std::string name;                 // args[1] for %addon, else ""
    std::string header;               // the header line as written
    std::vector<std::string> lines;   // body lines, each with its '\n'
    Origin origin;
    bool operator==(const Addon& o) const { return args == o.args && lines == o.lines; }
};

namespace detail {

// The header options of the sections (newest syntax).
constexpr OptionSpec flag_option(std::string_view flags, std::string_view dest, bool deprecated = false) {
    return {flags, dest, "", Act::store_true, 0, Lit::b(true), Lit::b(false), Ty::str, "", "", false, deprecated};
}
constexpr OptionSpec value_option(std::string_view flags, std::string_view dest, Ty type = Ty::str, Lit def = Lit::n(),
                                  bool required = false, bool deprecated = false) {
    return {flags, dest, "", Act::store, -1, Lit::n(), def, type, "", "", required, deprecated};
}

inline constexpr OptionSpec packages_options[] = {
    flag_option("--excludedocs", "excludedocs"),
    flag_option("--ignoremissing", "ignoremissing"),
    flag_option("--default", "defaultPackages"),
    flag_option("--multilib", "multiLib"),
    flag_option("--nocore", "nocore"),
    value_option("--timeout", "timeout", Ty::int_),
    value_option("--retries", "retries", Ty::int_),
    value_option("--inst-langs", "instLangs"),
    flag_option("--exclude-weakdeps", "excludeWeakdeps"),
    flag_option("--ignorebroken", "ignorebroken"),
    value_option("--instLangs", "instLangs", Ty::str, Lit::n(), false, true),
    flag_option("--excludeWeakdeps", "excludeWeakdeps", true),
};
inline constexpr RemovedOption packages_removed[] = {
    {"--ignoredeps", "Fedora9"}, {"--resolvedeps", "Fedora9"}, {"--nobase", "Fedora22"}};

inline constexpr OptionSpec script_options[] = {
    flag_option("--erroronfail", "errorOnFail"),
    value_option("--interpreter", "interpreter", Ty::str, Lit::s_("/bin/sh")),
    value_option("--log|--logfile", "log"),
};
inline constexpr OptionSpec post_options[] = {
    flag_option("--erroronfail", "errorOnFail"),
    value_option("--interpreter", "interpreter", Ty::str, Lit::s_("/bin/sh")),
    value_option("--log|--logfile", "log"),
    flag_option("--nochroot", "nochroot"),
};
inline constexpr OptionSpec certificate_options[] = {
    value_option("--filename", "filename", Ty::str, Lit::n(), true),
    value_option("--dir", "dir"),
    value_option("--type", "type"),
};
inline constexpr OptionSpec group_line_options[] = {
    flag_option("--nodefaults", "nodefaults"),
    flag_option("--optional", "optional"),
};

inline std::optional<std::string> ns_opt_string(const Namespace& ns, std::string_view dest) {
    if (const Value* v = ns.find(dest))
        if (auto* s = std::get_if<std::string>(v)) return *s;
    return std::nullopt;
}
inline std::optional<long long> ns_opt_int(const Namespace& ns, std::string_view dest) {
    if (const Value* v = ns.find(dest))
        if (auto* i = std::get_if<long long>(v)) return *i;
    return std::nullopt;
}
inline bool ns_flag(const Namespace& ns, std::string_view dest) {
    if (const Value* v = ns.find(dest))
        if (auto* b = std::get_if<bool>(v)) return *b;
    return false;
}

inline void packages_header(Packages& p, const std::vector<std::string>& args, const LineContext& ctx) {
    OptionParser op(packages_options, packages_removed, "%packages", ctx);
    Namespace ns = op.parse(args, 1);
    p.seen = true;
    p.excludedocs = ns_flag(ns, "excludedocs");
    p.ignoremissing = ns_flag(ns, "ignoremissing");
    if (ns_flag(ns, "defaultPackages")) p.default_packages = true;
    if (auto v = ns_opt_string(ns, "instLangs")) p.inst_langs = *v;
    p.multilib = ns_flag(ns, "multiLib");
    if (ns_flag(ns, "defaultPackages") && ns_flag(ns, "nocore")) ctx.fail("--default and --nocore cannot be used together");
    p.nocore = ns_flag(ns, "nocore");
    p.timeout = ns_opt_int(ns, "timeout");
    p.retries = ns_opt_int(ns, "retries");
    p.exclude_weakdeps = ns_flag(ns, "excludeWeakdeps");
    p.ignorebroken = ns_flag(ns, "ignorebroken");
    p.origin = {ctx.file ? *ctx.file : std::string(), ctx.line};
}

inline bool is_module_spec(std::string_view name) { return name.find(':') != std::string_view::npos; }

inline void exclude_group(Packages& p, const std::string& name) {
    p.groups.erase(std::remove_if(p.groups.begin(), p.groups.end(), [&](const auto& g) { return g.name == name; }),
                   p.groups.end());
    p.excluded_groups.push_back({name, PackageGroup::Include::default_});
}

inline std::string join_words(const std::vector<std::string>& w) {
    std::string out;
    for (std::size_t i = 0; i < w.size(); ++i) {
        if (i) out += ' ';
        out += w[i];
    }
    return out;
}

// One line of %packages (already stripped of its comment and blanks).
inline void packages_line(Packages& p, std::string_view line, const LineContext& ctx) {
    PackageEntry e;
    e.origin = {ctx.file ? *ctx.file : std::string(), ctx.line};
    if (line.substr(0, 2) == "@^") {
        e.kind = PackageKind::environment;
        e.name = std::string(line.substr(2));
        p.environment = e.name;
    } else if (line[0] == '@') {
        // "@name [--nodefaults|--optional]": the options may be anywhere; other words are the name
        std::vector<std::string> words;
        std::string_view rest = line.substr(1);
        std::size_t i = 0;
        while (i < rest.size()) {
            while (i < rest.size() && std::isspace(static_cast<unsigned char>(rest[i]))) ++i;
            std::size_t j = i;
            while (j < rest.size() && !std::isspace(static_cast<unsigned char>(rest[j]))) ++j;
            if (j > i) words.emplace_back(rest.substr(i, j - i));
            i = j;
        }
        OptionParser op(group_line_options, {}, "%packages", ctx);
        std::vector<std::string> extra;
        Namespace ns = op.parse_known(words, extra);
        e.nodefaults = ns_flag(ns, "nodefaults");
        e.optional = ns_flag(ns, "optional");
        if (e.nodefaults && e.optional) ctx.fail("Group cannot specify both --nodefaults and --optional");
        e.name = join_words(extra);
        e.kind = is_module_spec(e.name) ? PackageKind::module : PackageKind::group;
        const bool known = std::any_of(p.groups.begin(), p.groups.end(), [&](const auto& g) { return g.name == e.name; });
        if (!known) {
            PackageGroup g{e.name, e.nodefaults ? PackageGroup::Include::required
                                   : e.optional ? PackageGroup::Include::all
                                                : PackageGroup::Include::default_};
            p.groups.push_back(std::move(g));
        }
    } else if (line[0] == '-') {
        if (line.size() < 2) ctx.fail("a package line of just '-' names nothing to exclude");
        if (line.substr(1, 2) == "@^" ) {
            e.kind = PackageKind::exclude_environment;
            e.name = std::string(line.substr(3));
            if (p.environment == e.name) p.environment.clear();
            else {
                // pykickstart treats "-@^other" as the exclusion of a group named "^other"
                e.kind = PackageKind::exclude_group;
                e.name = std::string(line.substr(2));
                exclude_group(p, e.name);
            }
        } else if (line[1] == '@') {
            e.kind = PackageKind::exclude_group;
            e.name = std::string(line.substr(2));
            exclude_group(p, e.name);
        } else {
            e.kind = PackageKind::exclude;
            e.name = std::string(line.substr(1));
            // packages / excluded are worked out from the entries when the kickstart ends
        }
    } else {
        e.kind = PackageKind::package;
        e.name = std::string(line);
    }
    p.entries.push_back(std::move(e));
}

// Works out Packages::packages and ::excluded from the entries: a name ends up on the side of
// its last mention (what pykickstart's set arithmetic gives).
inline void finish_packages(Packages& p) {
    std::vector<std::pair<std::string_view, bool>> names;  // (name, included) in line order
    names.reserve(p.entries.size());
    for (const auto& e : p.entries) {
        if (e.kind == PackageKind::package) names.emplace_back(e.name, true);
        else if (e.kind == PackageKind::exclude) names.emplace_back(e.name, false);
    }
    std::stable_sort(names.begin(), names.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    p.packages.clear();
    p.excluded.clear();
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i + 1 < names.size() && names[i + 1].first == names[i].first) continue;  // a later mention decides
        auto& side = names[i].second ? p.packages : p.excluded;
        side.emplace_hint(side.end(), names[i].first);
    }
}

}  // namespace detail
}  // namespace imgcreate::kickstart

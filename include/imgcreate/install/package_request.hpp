// imgcreate — what a kickstart's %packages section asks for, as the resolver consumes it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <fnmatch.h>

namespace imgcreate::install {

enum class EntryKind { package, exclude, group, exclude_group, environment, module };

// One line of %packages: "vim-enhanced", "-plymouth", "@core --nodefaults", "@^workstation".
struct PackageEntry {
    EntryKind kind = EntryKind::package;
    std::string name;           // without the leading -, @, -@ or @^
    bool nodefaults = false;    // @group --nodefaults: mandatory members only
    bool optional = false;      // @group --optional: optional members too
    std::string file;           // kickstart file and line, for messages
    std::size_t line = 0;
    bool required = false;      // missing is an error even under --ignoremissing (a package a policy adds)

    std::string where() const {
        if (file.empty() && line == 0) return {};
        return (file.empty() ? std::string("%packages") : file) + (line ? ":" + std::to_string(line) : std::string());
    }
    // The entry as the user wrote it.
    std::string text() const {
        switch (kind) {
            case EntryKind::exclude: return "-" + name;
            case EntryKind::group: return "@" + name + (nodefaults ? " --nodefaults" : optional ? " --optional" : "");
            case EntryKind::exclude_group: return "-@" + name;
            case EntryKind::environment: return "@^" + name;
            case EntryKind::module: return "@" + name;
            default: return name;
        }
    }
};

// Whether a %packages spec may name the package `name`: as a glob of names, or in a name-version
// ("lvm2-2.03.16", "lvm2-0:2.03*") or name.arch ("lvm2.x86_64") form.
inline bool spec_may_name(const std::string& spec, const std::string& name) {
    if (::fnmatch(spec.c_str(), name.c_str(), 0) == 0) return true;
    if (spec.size() <= name.size() + 1 || spec.compare(0, name.size(), name) != 0) return false;
    const char next = spec[name.size()];
    return next == '.' || (next == '-' && spec[name.size() + 1] >= '0' && spec[name.size() + 1] <= '9');
}

struct PackageRequest {
    std::vector<PackageEntry> entries;
    bool nocore = false;            // --nocore
    bool ignoremissing = false;     // --ignoremissing: missing packages and groups are warnings
    bool exclude_weakdeps = false;  // --excludeWeakdeps
    bool multilib = false;          // --multilib: every arch of a named package, as multilib_policy=all
    std::optional<std::string> inst_langs;  // --instLangs (for the rpm transaction)
    bool excludedocs = false;       // --excludedocs (for the rpm transaction)
    std::string file;               // where %packages starts
    std::size_t line = 0;
};

}  // namespace imgcreate::install

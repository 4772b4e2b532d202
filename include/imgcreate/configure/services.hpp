// imgcreate — `services --enabled/--disabled`: done here the way `systemctl enable` works
// offline, from each unit file's [Install] section (WantedBy=, RequiredBy=, UpheldBy=,
// Alias=, Also=, DefaultInstance=): symlinks under /etc/systemd/system pointing at the unit
// file. Doing it in process needs no systemctl in the root, no chroot and no /proc, and
// every link is made through the in-root resolver. A unit the image does not have is a
// warning, as `systemctl enable` failing was in livecd-tools.
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/kickstart/document.hpp>

#include <set>
#include <string>
#include <vector>

namespace imgcreate::configure {

inline constexpr const char* systemd_admin_dir = "/etc/systemd/system";

namespace detail {

inline const std::vector<std::string>& unit_search_dirs() {
    static const std::vector<std::string> dirs{"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"};
    return dirs;
}

// "sshd" means "sshd.service", as for systemctl.
inline std::string unit_name(const std::string& name) {
    static const char* suffixes[] = {".service", ".socket", ".target", ".timer", ".path", ".mount",
                                     ".automount", ".swap", ".slice", ".scope", ".device"};
    for (const char* s : suffixes)
        if (name.size() > std::string(s).size() && name.ends_with(s)) return name;
    return name + ".service";
}

// "getty@tty1.service" -> "getty@.service"; "" for a unit that is no instance.
inline std::string template_of(const std::string& name) {
    auto at = name.find('@');
    auto dot = name.rfind('.');
    if (at == std::string::npos || dot == std::string::npos || dot <= at + 1) return {};
    return name.substr(0, at + 1) + name.substr(dot);
}

inline bool is_template(const std::string& name) {
    auto at = name.find('@');
    return at != std::string::npos && name.size() > at + 1 && name[at + 1] == '.';
}

struct UnitFile {
    std::filesystem::path path;  // inside the root
    bool masked = false;
};

inline std::optional<UnitFile> find_unit(const RootDir& root, const std::string& name) {
    for (const auto& file : {name, template_of(name)}) {
        if (file.empty()) continue;
        for (const auto& dir : unit_search_dirs()) {
            std::filesystem::path candidate = dir + "/" + file;
            auto link = stat_in_root(root, candidate, false);
            if (!link) continue;
            auto st = stat_in_root(root, candidate);
            bool masked = !st || S_ISCHR(st->st_mode) || (S_ISREG(st->st_mode) && st->st_size == 0);
            return UnitFile{candidate, masked};
        }
    }
    return std::nullopt;
}

struct InstallSection {
    std::vector<std::string> wanted_by, required_by, upheld_by, alias, also;
    std::string default_instance;
    bool empty() const {
        return wanted_by.empty() && required_by.empty() && upheld_by.empty() && alias.empty() && also.empty();
    }
};

inline InstallSection parse_install_section(const std::string& text) {
    InstallSection install;
    bool in_install = false;
    std::string pending;
    for (auto line : split(text, '\n')) {
        if (!line.empty() && line.back() == '\\') {  // continued on the next line
            pending += line.substr(0, line.size() - 1) + " ";
            continue;
        }
        line = pending + line;
        pending.clear();
        auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line[start] == '#' || line[start] == ';') continue;
        line = line.substr(start);
        if (line.front() == '[') {
            in_install = line.rfind("[Install]", 0) == 0;
            continue;
        }
        if (!in_install) continue;
        auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        std::string key = line.substr(0, eq);
        while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
        auto words = split_words(line.substr(eq + 1));
        auto add = [&](std::vector<std::string>& list) {
            if (words.empty()) list.clear();  // an empty assignment resets the list
            list.insert(list.end(), words.begin(), words.end());
        };
        if (key == "WantedBy") add(install.wanted_by);
        else if (key == "RequiredBy") add(install.required_by);
        else if (key == "UpheldBy") add(install.upheld_by);
        else if (key == "Alias") add(install.alias);
        else if (key == "Also") add(install.also);
        else if (key == "DefaultInstance") install.default_instance = words.empty() ? std::string() : words.front();
    }
    return install;
}

struct LinkPlan {
    std::vector<std::pair<std::filesystem::path, std::string>> links;  // link inside the root -> target
    std::vector<std::string> also;
};

// The links `systemctl enable <name>` would make.
inline LinkPlan plan_links(const std::string& name, const UnitFile& unit, const InstallSection& install) {
    LinkPlan plan;
    plan.also = install.also;
    std::string instance = name;
    if (is_template(name)) {
        if (install.default_instance.empty()) return plan;
        instance = name.substr(0, name.find('@') + 1) + install.default_instance + name.substr(name.rfind('.'));
    }
    auto add = [&](const std::vector<std::string>& targets, const char* kind) {
        for (const auto& t : targets)
            plan.links.emplace_back(std::filesystem::path(systemd_admin_dir) / (t + kind) / instance, unit.path.string());
    };
    add(install.wanted_by, ".wants");
    add(install.required_by, ".requires");
    add(install.upheld_by, ".upholds");
    for (const auto& alias : install.alias)
        if (alias != instance) plan.links.emplace_back(std::filesystem::path(systemd_admin_dir) / alias, unit.path.string());
    return plan;
}

inline bool enable_unit(const RootDir& root, const std::string& requested, std::set<std::string>& seen) {
    std::string name = unit_name(requested);
    if (!seen.insert(name).second) return true;
    auto unit = find_unit(root, name);
    if (!unit) {
        log::warning("services: cannot enable ", name, ": no such unit in the image");
        return false;
    }
    if (unit->masked) {
        log::warning("services: cannot enable ", name, ": it is masked in the image");
        return false;
    }
    auto install = parse_install_section(root.read_file(unit->path));
    auto plan = plan_links(name, *unit, install);
    for (const auto& [link, target] : plan.links) {
        root.mkdirs(link.parent_path());
        root.symlink(link, target);
        log::info("services: enabled ", name, ": ", link.string(), " -> ", target);
    }
    if (install.empty())
        log::info("services: ", name, " has no [Install] section: nothing to enable (other units start it)");
    else if (plan.links.empty() && plan.also.empty())
        log::info("services: ", name, " is a template without DefaultInstance=: name an instance to enable it");
    for (const auto& other : plan.also) enable_unit(root, other, seen);
    return true;
}

// Removes every link to `name` (and, for a template, to each of its instances) that
// enabling could have made: in the .wants/.requires/.upholds dirs, and its aliases.
inline void disable_unit(const RootDir& root, const std::string& requested, std::set<std::string>& seen) {
    std::string name = unit_name(requested);
    if (!seen.insert(name).second) return;
    auto matches = [&](const std::string& entry) {
        if (entry == name) return true;
        return is_template(name) && template_of(entry) == name;
    };
    auto remove_link = [&](const std::filesystem::path& link) {
        if (!is_symlink_in_root(root, link)) return;
        root.remove(link);
        log::info("services: disabled ", name, ": removed ", link.string());
    };
    for (const auto& dir : list_dir(root, systemd_admin_dir)) {
        if (!(dir.ends_with(".wants") || dir.ends_with(".requires") || dir.ends_with(".upholds"))) continue;
        auto path = std::filesystem::path(systemd_admin_dir) / dir;
        for (const auto& entry : list_dir(root, path))
            if (matches(entry)) remove_link(path / entry);
    }
    auto unit = find_unit(root, name);
    if (!unit || unit->masked) return;
    auto install = parse_install_section(root.read_file(unit->path));
    for (const auto& alias : install.alias) remove_link(std::filesystem::path(systemd_admin_dir) / alias);
    for (const auto& other : install.also) disable_unit(root, other, seen);
}

}  // namespace detail

inline void enable_service(const RootDir& root, const std::string& name) {
    std::set<std::string> seen;
    detail::enable_unit(root, name, seen);
}

inline void disable_service(const RootDir& root, const std::string& name) {
    std::set<std::string> seen;
    detail::disable_unit(root, name, seen);
}

// Disables first, so a unit named in both lists ends up enabled, as with anaconda.
inline void apply_services(const kickstart::Kickstart& ks, const RootDir& root) {
    if (!ks.services) return;
    for (const auto& name : ks.services->disabled) disable_service(root, name);
    for (const auto& name : ks.services->enabled) enable_service(root, name);
}

}  // namespace imgcreate::configure

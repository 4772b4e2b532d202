// imgcreate — `group`: groupadd inside the root (its own /etc/group, its own tools).
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/kickstart/document.hpp>

#include <optional>
#include <string>

namespace imgcreate::configure {

inline std::optional<GroupEntry> find_group(const RootDir& root, const std::string& name) {
    for (auto& g : read_groups(root))
        if (g.name == name) return g;
    return std::nullopt;
}

inline std::optional<GroupEntry> find_group(const RootDir& root, gid_t gid) {
    for (auto& g : read_groups(root))
        if (g.gid == gid) return g;
    return std::nullopt;
}

// Creates the group unless it exists; false when groupadd is not in the image.
inline bool ensure_group(const RootDir& root, const std::string& name, std::optional<long long> gid,
                         std::string_view command = "group") {
    if (auto existing = find_group(root, name)) {
        if (gid && static_cast<long long>(existing->gid) != *gid)
            throw ConfigError(std::string(command) + ": group " + name + " already exists in the image with GID " +
                                  std::to_string(existing->gid) + ", not " + std::to_string(*gid),
                              std::string(command));
        log::info(command, ": group ", name, " already exists (GID ", existing->gid, ")");
        return true;
    }
    auto tool = find_in_root(root, "groupadd");
    if (tool.empty()) {
        skipped(command, "groupadd is not in the image (install shadow-utils): group " + name + " not created");
        return false;
    }
    std::vector<std::string> argv{tool.string()};
    if (gid) argv.insert(argv.end(), {"-g", std::to_string(*gid)});
    argv.push_back(name);
    run_tool_in_root(command, root, argv);
    log::info(command, ": created group ", name, gid ? " (GID " + std::to_string(*gid) + ")" : std::string());
    return true;
}

inline void apply_groups(const kickstart::Kickstart& ks, const RootDir& root) {
    for (const auto& g : ks.groups) ensure_group(root, g.name, g.gid);
}

}  // namespace imgcreate::configure

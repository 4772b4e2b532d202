// imgcreate — `user`: useradd inside the root, so the account lands in the image's
// /etc/passwd, /etc/shadow and /etc/group with the image's defaults (livecd-tools ignores
// the command). A plaintext --password is hashed here, so useradd only ever sees the hash.
// Groups named in --groups that the image lacks are created first ("name" or "name(GID)"),
// as pykickstart documents; --gid names the primary group, created as <user> if missing.
#pragma once

#include <imgcreate/configure/group.hpp>
#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/configure/password.hpp>
#include <imgcreate/configure/rootpw.hpp>
#include <imgcreate/kickstart/document.hpp>

#include <string>
#include <vector>

namespace imgcreate::configure {

namespace detail {

struct GroupRequest {
    std::string name;
    std::optional<long long> gid;
};

// "wheel" or "mygroup(5000)".
inline GroupRequest parse_group_request(const std::string& item) {
    auto open = item.find('(');
    if (open == std::string::npos || item.back() != ')') return {item, std::nullopt};
    try {
        return {item.substr(0, open), std::stoll(item.substr(open + 1, item.size() - open - 2))};
    } catch (const std::exception&) {
        throw ConfigError("user --groups: '" + item + "' is neither a group name nor name(GID)", "user");
    }
}

}  // namespace detail

// The useradd arguments for a kickstart user (after its groups exist).
inline std::vector<std::string> useradd_arguments(const kickstart::UserData& u, const std::vector<std::string>& groups,
                                                  const std::string& primary_group) {
    std::vector<std::string> args{"-m"};
    if (u.uid) args.insert(args.end(), {"-u", std::to_string(*u.uid)});
    if (!primary_group.empty()) args.insert(args.end(), {"-g", primary_group});
    if (!groups.empty()) {
        std::string joined;
        for (const auto& g : groups) joined += (joined.empty() ? "" : ",") + g;
        args.insert(args.end(), {"-G", joined});
    }
    if (!u.homedir.empty()) args.insert(args.end(), {"-d", u.homedir});
    if (!u.shell.empty()) args.insert(args.end(), {"-s", u.shell});
    if (!u.gecos.empty()) args.insert(args.end(), {"-c", u.gecos});
    std::string hash = shadow_hash_for(u.password, u.iscrypted, u.lock, "");
    if (!hash.empty()) args.insert(args.end(), {"-p", hash});
    args.push_back(u.name);
    return args;
}

inline void apply_user(const kickstart::UserData& u, const RootDir& root) {
    if (find_account(root, u.name)) {
        log::info("user: ", u.name, " already exists in the image: left as it is");
        return;
    }
    auto tool = find_in_root(root, "useradd");
    if (tool.empty()) return skipped("user", "useradd is not in the image (install shadow-utils): " + u.name + " not created");
    std::vector<std::string> groups;
    for (const auto& item : u.groups) {
        auto request = detail::parse_group_request(item);
        if (!ensure_group(root, request.name, request.gid, "user")) return;
        groups.push_back(request.name);
    }
    std::string primary;
    if (u.gid) {
        auto existing = find_group(root, static_cast<gid_t>(*u.gid));
        if (!existing && !ensure_group(root, u.name, u.gid, "user")) return;
        primary = std::to_string(*u.gid);
    } else if (find_group(root, u.name)) {
        primary = u.name;  // useradd refuses to make a user group whose name is taken: join it instead
    }
    std::vector<std::string> argv{tool.string()};
    auto args = useradd_arguments(u, groups, primary);
    argv.insert(argv.end(), args.begin(), args.end());
    run_tool_in_root("user", root, argv);
    log::info("user: created ", u.name, u.lock ? " (locked)" : "");
}

inline void apply_users(const kickstart::Kickstart& ks, const RootDir& root) {
    for (const auto& u : ks.users) apply_user(u, root);
}

}  // namespace imgcreate::configure

// imgcreate — `selinux`: the SELINUX= line of the root's /etc/selinux/config, then (unless
// disabled) every file labelled with the root's own setfiles and policy. The relabel runs
// last, after %post, so files the scripts made are labelled too; every mount point below
// the root (API filesystems, a bound package cache) is excluded so no host file is touched.
// A failed relabel stops an enforcing build and is an error line otherwise, as in livecd-tools.
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/kickstart/document.hpp>
#include <imgcreate/support/build_dir.hpp>

#include <string>
#include <vector>

namespace imgcreate::configure {

inline constexpr const char* selinux_config = "/etc/selinux/config";

inline const char* selinux_mode_name(kickstart::SELinuxMode mode) {
    switch (mode) {
        case kickstart::SELinuxMode::enforcing: return "enforcing";
        case kickstart::SELinuxMode::permissive: return "permissive";
        case kickstart::SELinuxMode::disabled: return "disabled";
    }
    return "";
}

// SELINUXTYPE= of the config text, "targeted" when it names none.
inline std::string selinux_policy_type(const std::string& config_text) {
    for (const auto& line : split(config_text, '\n'))
        if (line.rfind("SELINUXTYPE=", 0) == 0 && line.size() > 12) return line.substr(12);
    return "targeted";
}

namespace detail {

// The newest binary policy, /etc/selinux/<type>/policy/policy.<version>.
inline std::filesystem::path binary_policy(const RootDir& root, const std::string& type) {
    std::filesystem::path dir = "/etc/selinux/" + type + "/policy";
    std::string best;
    int best_version = -1;
    for (const auto& name : list_dir(root, dir)) {
        if (name.rfind("policy.", 0) != 0) continue;
        int version = std::atoi(name.c_str() + 7);
        if (version > best_version) best_version = version, best = name;
    }
    return best.empty() ? std::filesystem::path() : dir / best;
}

// Mount points below the root, as paths inside it, for setfiles -e.
inline std::vector<std::string> mounts_inside(const RootDir& root) {
    std::vector<std::string> inside;
    auto base = std::filesystem::weakly_canonical(root.path());
    for (const auto& m : mounts_below(base)) {
        auto rel = m.lexically_relative(base);
        if (!rel.empty() && rel != ".") inside.push_back("/" + rel.string());
    }
    return inside;
}

}  // namespace detail

inline std::vector<std::string> setfiles_arguments(const std::filesystem::path& policy, const std::string& type,
                                                   const std::vector<std::string>& excluded) {
    std::vector<std::string> args{"-F", "-p", "-e", "/proc", "-e", "/sys", "-e", "/dev"};
    for (const auto& e : excluded)
        if (e != "/proc" && e != "/sys" && e != "/dev") args.insert(args.end(), {"-e", e});
    args.insert(args.end(), {"-c", policy.string(), "/etc/selinux/" + type + "/contexts/files/file_contexts", "/"});
    return args;
}

// Writes SELINUX=<mode> into the root's /etc/selinux/config. Returns the policy type when
// the files should be relabelled, empty otherwise.
inline std::string apply_selinux_config(const kickstart::Kickstart& ks, const RootDir& root) {
    if (!ks.selinux) return {};
    if (!root.exists(selinux_config)) {
        skipped("selinux", std::string(selinux_config) + " is not in the image (no SELinux policy installed)");
        return {};
    }
    std::string text = root.read_file(selinux_config);
    auto st = stat_in_root(root, selinux_config);
    root.write_file(selinux_config, set_assignments(text, {{"SELINUX", selinux_mode_name(*ks.selinux)}}),
                    st ? (st->st_mode & 07777) : 0644);
    log::info("selinux: ", selinux_config, ": SELINUX=", selinux_mode_name(*ks.selinux));
    return *ks.selinux == kickstart::SELinuxMode::disabled ? std::string() : selinux_policy_type(text);
}

inline void relabel(const kickstart::Kickstart& ks, const RootDir& root, const std::string& type) {
    auto tool = find_in_root(root, "setfiles");
    if (tool.empty()) return skipped("selinux relabel", "setfiles is not in the image (install policycoreutils)");
    auto policy = detail::binary_policy(root, type);
    if (policy.empty())
        return skipped("selinux relabel", "no binary policy in /etc/selinux/" + type + "/policy in the image");
    auto args = setfiles_arguments(policy, type, detail::mounts_inside(root));
    std::vector<std::string> argv{tool.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    log::info("selinux: labelling the files of the install root with the ", type, " policy");
    try {
        run_in_root(root.path(), argv);
    } catch (const InterruptedError&) {
        throw;
    } catch (const CommandError& e) {
        if (ks.selinux == kickstart::SELinuxMode::enforcing)
            throw ConfigError(std::string("selinux: relabelling the install root failed: the image would not boot enforcing\n") +
                                  e.what(),
                              "selinux");
        log::error("selinux: relabelling the install root failed: ", e.what());
    }
}

// The whole command: config, then the relabel. Run it after %post.
inline void apply_selinux(const kickstart::Kickstart& ks, const RootDir& root) {
    auto type = apply_selinux_config(ks, root);
    if (!type.empty()) relabel(ks, root, type);
}

}  // namespace imgcreate::configure

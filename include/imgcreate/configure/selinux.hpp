// imgcreate — `selinux`: the SELINUX= line of the root's /etc/selinux/config, then (unless
// disabled) every file labelled with the root's own setfiles and policy. The relabel runs
// last, after %post, so files the scripts made are labelled too. No host file is touched: the
// API filesystems are left out, and the other mounts below the root (the bound package cache)
// are detached in setfiles' own mount namespace, so it labels the directory under them that the
// image keeps.
// A failed relabel stops an enforcing build and is an error line otherwise, as in livecd-tools.
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/kickstart/document.hpp>
#include <imgcreate/support/build_dir.hpp>
#include <imgcreate/support/side_by_side.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <thread>
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
                                                   const std::vector<std::string>& excluded,
                                                   const std::vector<std::string>& paths = {"/"}) {
    std::vector<std::string> args{"-F", "-p", "-e", "/proc", "-e", "/sys", "-e", "/dev"};
    for (const auto& e : excluded)
        if (e != "/proc" && e != "/sys" && e != "/dev") args.insert(args.end(), {"-e", e});
    args.insert(args.end(), {"-c", policy.string(), "/etc/selinux/" + type + "/contexts/files/file_contexts"});
    args.insert(args.end(), paths.begin(), paths.end());
    return args;
}

// One setfiles run of a relabel split in parts: it walks `paths` and leaves `excluded` (paths
// inside the root) to the other parts.
struct RelabelPart {
    std::vector<std::string> paths;
    std::vector<std::string> excluded;
};

namespace detail {

// A directory of the tree as far down as a relabel may split it: its entries, itself and all
// below it (`size`), itself and its entries that are not directories (`own`).
struct TreeNode {
    std::string path;  // inside the root: "/", "/usr", "/usr/share"
    std::size_t size = 1;
    std::size_t own = 1;
    std::vector<TreeNode> children;
};

inline TreeNode count_tree(const std::filesystem::path& root, const std::string& path, int depth,
                           const std::set<std::string>& excluded) {
    namespace fs = std::filesystem;
    constexpr int deepest = 8;  // deeper subtrees are not split further
    TreeNode node;
    node.path = path;
    std::error_code ec;
    const auto dir = path == "/" ? root : root / fs::path(path).relative_path();
    for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end;
         it.increment(ec)) {
        const std::string child = (path == "/" ? "/" : path + "/") + it->path().filename().string();
        if (excluded.count(child)) continue;
        std::error_code sec;
        if (!fs::is_directory(it->symlink_status(sec)) || sec) {
            ++node.size, ++node.own;
            continue;
        }
        auto sub = count_tree(root, child, depth + 1, excluded);
        node.size += sub.size;
        if (depth + 1 < deepest) node.children.push_back(std::move(sub));
        else node.own += sub.size;  // counted, not split: it goes with this directory
    }
    return node;
}

}  // namespace detail

// The relabel of `root` split in at most `parts` setfiles runs of about as many files each,
// since setfiles matches every path against the policy's expressions on one processor and that
// is nearly all its time (2 s for 12,000 files, half a minute for a desktop's 150,000). The
// first part walks "/" without the subtrees the others walk; together they label every file
// once. A tree of fewer than `least` files a part stays one run (each run first loads the
// policy, a fifth of a second). `excluded`: mount points, left out of every part.
inline std::vector<RelabelPart> split_relabel(const std::filesystem::path& root, const std::vector<std::string>& excluded,
                                              unsigned parts, std::size_t least = 2000) {
    const std::set<std::string> left_out(excluded.begin(), excluded.end());
    std::vector<RelabelPart> whole{{{"/"}, {}}};
    if (parts <= 1) return whole;
    const auto tree = detail::count_tree(root, "/", 0, left_out);
    parts = static_cast<unsigned>(std::min<std::size_t>(parts, tree.size / std::max<std::size_t>(least, 1)));
    if (parts <= 1) return whole;
    const std::size_t share = tree.size / parts;

    // The subtrees that are parts' pieces: none larger than half a share, unless it cannot be
    // split; the directories split open (and their files) stay with the first part.
    std::vector<const detail::TreeNode*> pieces;
    std::size_t first = 0;
    auto open = [&](auto&& self, const detail::TreeNode& node) -> void {
        first += node.own;
        for (const auto& child : node.children) {
            if (child.size > share / 2 && !child.children.empty()) self(self, child);
            else pieces.push_back(&child);
        }
    };
    open(open, tree);
    std::stable_sort(pieces.begin(), pieces.end(), [](auto* a, auto* b) { return a->size > b->size; });
    std::vector<std::size_t> load(parts, 0);
    load[0] = first;
    std::vector<std::vector<std::string>> taken(parts);
    for (const auto* piece : pieces) {
        const auto least_loaded = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
        load[least_loaded] += piece->size;
        taken[least_loaded].push_back(piece->path);
    }
    std::vector<RelabelPart> out{{{"/"}, {}}};
    for (unsigned p = 1; p < parts; ++p) {
        if (taken[p].empty()) continue;
        std::sort(taken[p].begin(), taken[p].end());
        out[0].excluded.insert(out[0].excluded.end(), taken[p].begin(), taken[p].end());
        out.push_back({taken[p], {}});
    }
    std::sort(out[0].excluded.begin(), out[0].excluded.end());
    return out;
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
    // The API filesystems stay, left out; the other mounts (the package cache) are detached for
    // setfiles, so that the directories they cover, which the image keeps, are labelled too.
    std::vector<std::string> mounts;
    std::vector<std::filesystem::path> detached;
    const auto inside = detail::mounts_inside(root);
    for (const auto& m : inside) {
        bool api = false;
        for (const std::string top : {"/proc", "/sys", "/dev"})
            if (m == top || m.rfind(top + "/", 0) == 0) api = true;
        if (api) mounts.push_back(m);
        else detached.push_back(root.path() / std::filesystem::path(m).relative_path());
    }
    std::sort(detached.begin(), detached.end(), std::greater<>());  // a nested mount before its parent
    std::vector<std::string> left_out{"/proc", "/sys", "/dev"};
    left_out.insert(left_out.end(), inside.begin(), inside.end());
    const auto parts = split_relabel(root.path(), left_out, std::max(1u, std::thread::hardware_concurrency()));
    log::info("selinux: labelling the files of the install root with the ", type, " policy",
              parts.size() > 1 ? " (" + std::to_string(parts.size()) + " setfiles runs at once, one per processor)" : "");
    std::vector<std::function<void()>> runs;
    for (const auto& part : parts)
        runs.push_back([&, part] {
            auto excluded = mounts;
            excluded.insert(excluded.end(), part.excluded.begin(), part.excluded.end());
            Command setfiles;
            setfiles.argv = {tool.string()};
            auto args = setfiles_arguments(policy, type, excluded, part.paths);
            setfiles.argv.insert(setfiles.argv.end(), args.begin(), args.end());
            setfiles.chroot = root.path();
            setfiles.env = clean_environment();
            setfiles.detach_mounts = detached;
            run(setfiles);
        });
    try {
        run_side_by_side(runs);  // an interruption first, then the first part's failure, as one run would say it
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

// imgcreate — TreeStage: the deliverable is the install root itself, a directory tree at
// <outdir>/<name>.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/stage/publish.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace imgcreate {

// The tree keeps nothing the build made for itself: the empty directories it mounted on (the
// package cache's var/cache/dnf; proc, sys and dev when no package owns them; see
// BuildContext::scaffolding) are removed. What stays, as in livecd-tools: /etc/mtab (a link to
// /proc/self/mounts) and the /etc/fstab the mount policy wrote, if it wrote one.
struct TreeStage {
    std::filesystem::path package(BuildContext& ctx) {
        remove_scaffolding(ctx);
        return stage::publish(ctx.install_root, ctx.options.outdir, output_name(ctx));
    }

    // Refused before the build when it already exists.
    std::vector<std::filesystem::path> outputs(const BuildContext& ctx) const { return {ctx.options.outdir / output_name(ctx)}; }

    // Deepest first; a directory something was put in stays.
    static void remove_scaffolding(const BuildContext& ctx) {
        for (auto it = ctx.scaffolding.rbegin(); it != ctx.scaffolding.rend(); ++it) {
            const auto dir = ctx.install_root / it->relative_path();
            std::error_code ec;
            if (std::filesystem::is_directory(std::filesystem::symlink_status(dir, ec)) && std::filesystem::is_empty(dir, ec))
                std::filesystem::remove(dir, ec);
        }
    }

    static std::string output_name(const BuildContext& ctx) {
        return ctx.options.name.empty() ? std::string("imgcreate-tree") : ctx.options.name;
    }
};

}  // namespace imgcreate

// imgcreate — TreeStage: the deliverable is the install root itself, a directory tree at
// <outdir>/<name>.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/stage/publish.hpp>

namespace imgcreate {

struct TreeStage {
    std::filesystem::path package(BuildContext& ctx) {
        const std::string name = ctx.options.name.empty() ? "imgcreate-tree" : ctx.options.name;
        return stage::publish(ctx.install_root, ctx.options.outdir, name);
    }
};

}  // namespace imgcreate

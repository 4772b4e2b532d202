// imgcreate — CopyStage: the deliverable is the loop image itself. Minimised (unless
// --skip-minimize), then moved whole into <outdir>/<name>.img: a reader of the output dir
// never sees a half-written image.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/mount/filesystem.hpp>
#include <imgcreate/mount/loop_mount.hpp>
#include <imgcreate/mount/minimize.hpp>
#include <imgcreate/stage/publish.hpp>
#include <imgcreate/support/error.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace imgcreate {

struct CopyStage {
    std::filesystem::path package(BuildContext& ctx) {
        const auto image = LoopMount::image_path(ctx);
        if (!std::filesystem::is_regular_file(image))
            throw StageError("there is no image to package at " + image.string() + ": CopyStage goes with LoopMount or MkfsMount",
                             image.string());
        if (!ctx.options.skip_minimize) mount::minimize_image(image, mount::root_filesystem(ctx).fstype);
        return stage::publish(image, ctx.options.outdir, output_name(ctx));
    }

    // Refused before the build when it already exists.
    std::vector<std::filesystem::path> outputs(const BuildContext& ctx) const { return {ctx.options.outdir / output_name(ctx)}; }

    static std::string output_name(const BuildContext& ctx) {
        return (ctx.options.name.empty() ? std::string("imgcreate") : ctx.options.name) + ".img";
    }
};

}  // namespace imgcreate

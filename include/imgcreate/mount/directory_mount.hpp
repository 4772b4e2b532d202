// imgcreate — DirectoryMount: the install root is a plain directory in the build dir
// (fs images, trees for containers). Nothing to mount, nothing to unmount.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/support/error.hpp>

#include <filesystem>

namespace imgcreate {

struct DirectoryMount {
    void mount(BuildContext& ctx) {
        ctx.install_root = ctx.build_dir / "install_root";
        std::error_code ec;
        std::filesystem::create_directory(ctx.install_root, ec);
        if (ec) throw MountError("cannot create the install root " + ctx.install_root.string() + ": " + ec.message(),
                                 ctx.install_root.string());
        std::filesystem::permissions(ctx.install_root, std::filesystem::perms(0755), ec);
    }
    void unmount(BuildContext&) {}
};

}  // namespace imgcreate

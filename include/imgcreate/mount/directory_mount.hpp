// imgcreate — DirectoryMount: the install root is a plain directory in the build dir
// (fs images, trees for containers). Nothing to mount, nothing to unmount.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/support/error.hpp>

#include <filesystem>

namespace imgcreate {

namespace mount {
// The install root as a plain directory, <build_dir>/install_root, mode 0755; sets ctx.install_root.
inline void make_install_directory(BuildContext& ctx) {
    ctx.install_root = ctx.build_dir / "install_root";
    std::error_code ec;
    std::filesystem::create_directory(ctx.install_root, ec);
    if (ec) throw MountError("cannot create the install root " + ctx.install_root.string() + ": " + ec.message(),
                             ctx.install_root.string());
    std::filesystem::permissions(ctx.install_root, std::filesystem::perms(0755), ec);
}
}  // namespace mount

struct DirectoryMount {
    void mount(BuildContext& ctx) { mount::make_install_directory(ctx); }
    void unmount(BuildContext&) {}
};

}  // namespace imgcreate

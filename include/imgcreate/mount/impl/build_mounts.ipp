// imgcreate — the bodies of mount/build_mounts.hpp: inline in it by default, compiled once in
// <imgcreate/impl.hpp> with IMGCREATE_SEPARATE_COMPILATION.
#pragma once

#include <imgcreate/mount/build_mounts.hpp>

#include <imgcreate/mount/api_filesystems.hpp>
#include <imgcreate/mount/namespace.hpp>

namespace imgcreate::mount {

IMGCREATE_DECL void enter_private_namespace() { enter_private_mount_namespace(); }

IMGCREATE_DECL void mount_api(ApiFilesystems& api, BuildContext& ctx, const std::string& fstab) { api.mount(ctx, fstab); }

IMGCREATE_DECL void unmount_api(ApiFilesystems& api, BuildContext& ctx) { api.unmount(ctx); }

}  // namespace imgcreate::mount

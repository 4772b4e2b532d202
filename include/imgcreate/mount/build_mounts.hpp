// imgcreate — the mounts Creator makes for every build, as one call each: the build's private
// mount namespace, and the API filesystems up in the install root and down again. Through these
// calls, with IMGCREATE_SEPARATE_COMPILATION, that code is compiled once (<imgcreate/impl.hpp>)
// rather than in every translation unit that instantiates a creator.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/support/separate_compilation.hpp>

#include <string>

namespace imgcreate::mount {

class ApiFilesystems;

// enter_private_mount_namespace() (mount/namespace.hpp).
IMGCREATE_DECL void enter_private_namespace();

// api.mount(ctx, fstab) and api.unmount(ctx) (mount/api_filesystems.hpp).
IMGCREATE_DECL void mount_api(ApiFilesystems& api, BuildContext& ctx, const std::string& fstab);
IMGCREATE_DECL void unmount_api(ApiFilesystems& api, BuildContext& ctx);

}  // namespace imgcreate::mount

#if !defined(IMGCREATE_SEPARATE_COMPILATION)
#include <imgcreate/mount/impl/build_mounts.ipp>
#endif

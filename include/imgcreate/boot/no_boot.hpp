// imgcreate — NoBoot: for images that are booted by something else (a VM's own kernel,
// a container runtime) or not at all. The root is left as the packages made it; a kernel's
// scripts that run the image's dracut get the stand-in every boot policy gives them
// (boot/initramfs_cache.hpp): the host's cores for its gzip, and with --cache its images reused.
#pragma once

#include <imgcreate/boot/initramfs_cache.hpp>
#include <imgcreate/context.hpp>

namespace imgcreate {

struct NoBoot {
    void before_install(BuildContext& ctx) { boot::stand_in_for_dracut(ctx); }
    void configure_boot(BuildContext&) {}
    void before_unmount(BuildContext&) {}
};

}  // namespace imgcreate

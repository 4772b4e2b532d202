// imgcreate — NoBoot: for images that are booted by something else (a VM's own kernel,
// a container runtime) or not at all. The root is left as the packages made it.
#pragma once

#include <imgcreate/context.hpp>

namespace imgcreate {

struct NoBoot {
    void before_install(BuildContext&) {}
    void configure_boot(BuildContext&) {}
    void before_unmount(BuildContext&) {}
};

}  // namespace imgcreate

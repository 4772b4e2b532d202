// Skipping a test case that cannot run here. Catch2 v2 has no SKIP, so the test process
// prints why ("SKIPPED: ...", which CTest's SKIP_REGULAR_EXPRESSION counts as skipped) and
// exits with code 4.
#pragma once

#include <imgcreate/support/process.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#define IMGCREATE_SKIP(reason)                                                   \
    do {                                                                         \
        std::fprintf(stderr, "SKIPPED: %s\n", std::string(reason).c_str());      \
        std::fflush(stderr);                                                     \
        std::_Exit(4);                                                           \
    } while (0)

#define IMGCREATE_REQUIRE_ROOT()                                                         \
    do {                                                                                 \
        if (::geteuid() != 0) IMGCREATE_SKIP("needs root (loop devices, mounts, chroot)"); \
    } while (0)

#define IMGCREATE_REQUIRE_PROGRAM(name)                                                         \
    do {                                                                                        \
        if (imgcreate::find_program(name).empty())                                              \
            IMGCREATE_SKIP(std::string("needs '") + name + "' (scripts/install-deps installs it)"); \
    } while (0)

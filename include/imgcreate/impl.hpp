// imgcreate — the bodies of the functions IMGCREATE_SEPARATE_COMPILATION leaves out of the
// headers (support/separate_compilation.hpp). Include it in exactly one source file of a
// program whose every translation unit defines IMGCREATE_SEPARATE_COMPILATION:
//
//   // imgcreate.cpp
//   #include <imgcreate/impl.hpp>
//
// With CMake, imgcreate::compiled builds that source for you.
#pragma once

#if !defined(IMGCREATE_SEPARATE_COMPILATION)
#error "<imgcreate/impl.hpp> is for IMGCREATE_SEPARATE_COMPILATION: define it for every translation unit of the program (or link imgcreate::compiled), or include nothing but the headers"
#endif

#include <imgcreate/support/impl/build_dir.ipp>
#include <imgcreate/support/impl/process.ipp>

#include <imgcreate/mount/impl/build_mounts.ipp>

#include <imgcreate/configure/impl/appliers.ipp>
#include <imgcreate/configure/impl/script.ipp>

#include <imgcreate/kickstart/impl/kickstart.ipp>

#include <imgcreate/install/impl/kernel_versions.ipp>
#include <imgcreate/install/impl/rpm_install.ipp>

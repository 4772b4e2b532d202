# Finds imgcreate's link dependencies and attaches them to an INTERFACE target.
# Used by the build and, installed beside imgcreateConfig.cmake, by find_package(imgcreate).
include_guard(GLOBAL)
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS filesystem program_options)

# pkg_check_modules with IMPORTED_TARGET gives PkgConfig::<prefix> targets.
pkg_check_modules(IMGCREATE_RPM REQUIRED IMPORTED_TARGET GLOBAL rpm)
pkg_check_modules(IMGCREATE_SOLV REQUIRED IMPORTED_TARGET GLOBAL libsolv libsolvext)
pkg_check_modules(IMGCREATE_REPO REQUIRED IMPORTED_TARGET GLOBAL librepo)
pkg_check_modules(IMGCREATE_MOUNT REQUIRED IMPORTED_TARGET GLOBAL mount)
pkg_check_modules(IMGCREATE_CRYPT REQUIRED IMPORTED_TARGET GLOBAL libcrypt)

function(imgcreate_link_dependencies target)
  target_link_libraries(${target} INTERFACE
    PkgConfig::IMGCREATE_RPM PkgConfig::IMGCREATE_SOLV PkgConfig::IMGCREATE_REPO
    PkgConfig::IMGCREATE_MOUNT PkgConfig::IMGCREATE_CRYPT
    Boost::filesystem Boost::program_options Boost::headers Threads::Threads)
endfunction()

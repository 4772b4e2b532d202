# imgcreate_precompile_headers(<target> [HEADERS <header>...] [REUSE_FROM <other-target>])
#
# Precompiles imgcreate's headers for <target>, so that its sources parse them once rather than
# each: by default imgcreate/imgcreate.hpp (the creator, every ready-made policy, the kickstart
# parser, and with them the librpm, libsolv and librepo headers), or the headers named, as
# include paths (imgcreate/creator.hpp, imgcreate/mount/directory_mount.hpp, ...). A
# precompiled header saves parsing, not code generation: it pays for a target with several
# sources that include the same headers. REUSE_FROM shares another target's precompiled header
# (same compiler flags needed) instead of building one more.
#
# Installed beside imgcreateConfig.cmake; find_package(imgcreate) makes it available.
include_guard(GLOBAL)

function(imgcreate_precompile_headers target)
  cmake_parse_arguments(PCH "" "REUSE_FROM" "HEADERS" ${ARGN})
  if(PCH_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "imgcreate_precompile_headers: unknown arguments ${PCH_UNPARSED_ARGUMENTS}")
  endif()
  if(PCH_REUSE_FROM)
    target_precompile_headers(${target} REUSE_FROM ${PCH_REUSE_FROM})
    return()
  endif()
  if(NOT PCH_HEADERS)
    set(PCH_HEADERS imgcreate/imgcreate.hpp)
  endif()
  set(entries)
  foreach(header IN LISTS PCH_HEADERS)
    list(APPEND entries "<${header}>")
  endforeach()
  target_precompile_headers(${target} PRIVATE ${entries})
endfunction()

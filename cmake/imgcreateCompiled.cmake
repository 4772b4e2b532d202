# imgcreate::compiled — imgcreate with its heavy functions compiled once per project.
#
# Link a target to imgcreate::compiled instead of imgcreate::imgcreate and its sources compile
# in a fraction of the time: the target gets IMGCREATE_SEPARATE_COMPILATION, under which the
# headers declare the kickstart parser, the appliers, the script and process runners, the build's
# mounts and RpmInstall's steps without their bodies, and those bodies are compiled once, into a static
# library built from one source (#include <imgcreate/impl.hpp>) with the project's own compiler
# and flags. The library is built only when a target links it.
#
# Every target of a program must make the same choice: a program that links imgcreate::compiled
# cannot also have sources compiled against imgcreate::imgcreate alone (they would hold inline
# copies of functions the library defines).
#
# Installed beside imgcreateConfig.cmake; find_package(imgcreate) defines the target.
include_guard(GLOBAL)

function(_imgcreate_add_compiled_library)
  if(TARGET imgcreate_compiled)
    return()
  endif()
  set(source ${CMAKE_BINARY_DIR}/imgcreate_compiled/imgcreate_impl.cpp)
  file(CONFIGURE OUTPUT ${source} CONTENT "#include <imgcreate/impl.hpp>\n" @ONLY)
  add_library(imgcreate_compiled STATIC EXCLUDE_FROM_ALL ${source})
  target_link_libraries(imgcreate_compiled PUBLIC imgcreate::imgcreate)
  target_compile_definitions(imgcreate_compiled PUBLIC IMGCREATE_SEPARATE_COMPILATION)
  set_target_properties(imgcreate_compiled PROPERTIES POSITION_INDEPENDENT_CODE ON)
  add_library(imgcreate::compiled ALIAS imgcreate_compiled)
endfunction()

_imgcreate_add_compiled_library()

# imgcreate_add_image: an OS image as a CMake target, built by imgcreate's image-creator or by a
# creator program of your own.
#
#   imgcreate_add_image(NAME <target> KICKSTART <file.ks> TYPE live|image|fs
#                       [OUTPUT_DIR <dir>] [DEPENDS <files or targets>...] [OPTIONS <creator options>...] [ALL])
#
# Builds <OUTPUT_DIR>/<target>.iso (live), <target>.img (image) or the tree <target>/ (fs);
# OUTPUT_DIR defaults to the current binary dir. The build re-runs only when the kickstart, a
# file it %includes (read by `image-creator --print-includes` at each build, through a depfile)
# or something in DEPENDS changes. Building needs root, as the programs do.
#
#   imgcreate_add_image(NAME <target> KICKSTART <file.ks> COMMAND <program or target> [<arg>...]
#                       [OUTPUT <name>] [OUTPUT_DIR <dir>] [DEPENDS ...] [ALL])
#
# Runs a creator program of your own instead (an executable target of the project, or a path),
# with the same dependency tracking; it is rebuilt first when it is a target. In its arguments
# <KICKSTART>, <OUTPUT_DIR> and <NAME> are replaced by the absolute kickstart path, the output
# dir and the target's name; without any arguments it gets `<KICKSTART> <OUTPUT_DIR>`. OUTPUT is
# what it writes in OUTPUT_DIR (a file or a directory), removed before each run, since creators
# refuse to replace an existing output.
#
# The stock program (and, with COMMAND, the one that lists the %include files) is the
# livecd-creator target when the project builds one, else IMGCREATE_CREATOR (a cache variable),
# else image-creator from imgcreate's install prefix or PATH.
#
# This file is also the build step itself: run with cmake -P, it writes the depfile and calls the
# program (so that no shell is needed and a failed build leaves no stamp behind).

if(CMAKE_SCRIPT_MODE_FILE AND DEFINED IMGCREATE_IMAGE_STEP)
  string(REPLACE "|" ";" options "${OPTIONS}")
  execute_process(COMMAND "${CREATOR}" --print-includes "${KICKSTART}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE includes ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "imgcreate: cannot read ${KICKSTART}:\n${err}")
  endif()
  string(STRIP "${includes}" includes)
  string(REPLACE "\n" ";" includes "${includes}")
  set(deps "")
  foreach(file IN LISTS includes)
    string(REPLACE " " "\\ " file "${file}")
    string(APPEND deps " ${file}")
  endforeach()
  string(REPLACE " " "\\ " target "${STAMP}")
  file(WRITE "${DEPFILE}" "${target}:${deps}\n")

  if(DEFINED COMMAND_LINE)
    string(REPLACE "|" ";" command "${COMMAND_LINE}")
    list(TRANSFORM command REPLACE "<KICKSTART>" "${KICKSTART}")
    list(TRANSFORM command REPLACE "<OUTPUT_DIR>" "${OUTPUT_DIR}")
    list(TRANSFORM command REPLACE "<NAME>" "${NAME}")
    set(output "")
    if(NOT OUTPUT STREQUAL "")
      set(output "${OUTPUT_DIR}/${OUTPUT}")
    endif()
  else()
    if(TYPE STREQUAL "livecd")
      set(output "${OUTPUT_DIR}/${NAME}.iso")
      set(naming -f "${NAME}")
    elseif(TYPE STREQUAL "image")
      set(output "${OUTPUT_DIR}/${NAME}.img")
      set(naming --name "${NAME}")
    else()
      set(output "${OUTPUT_DIR}/${NAME}")
      set(naming --name "${NAME}")
    endif()
    set(command "${CREATOR}" --image-type ${TYPE} ${naming} -o "${OUTPUT_DIR}" ${options} -c "${KICKSTART}")
  endif()
  file(REMOVE "${STAMP}")
  if(NOT output STREQUAL "")
    file(REMOVE_RECURSE "${output}")
  endif()
  file(MAKE_DIRECTORY "${OUTPUT_DIR}")
  execute_process(COMMAND ${command} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "imgcreate: building the image ${NAME} failed: ${command} (exit status ${rc})")
  endif()
  file(TOUCH "${STAMP}")
  return()
endif()

set(_IMGCREATE_IMAGE_MODULE "${CMAKE_CURRENT_LIST_FILE}")
get_filename_component(_IMGCREATE_IMAGE_PREFIX "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

function(imgcreate_add_image)
  cmake_parse_arguments(PARSE_ARGV 0 arg "ALL" "NAME;KICKSTART;TYPE;OUTPUT_DIR;OUTPUT" "DEPENDS;OPTIONS;COMMAND")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "imgcreate_add_image: unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  foreach(required NAME KICKSTART)
    if(NOT arg_${required})
      message(FATAL_ERROR "imgcreate_add_image: ${required} is required")
    endif()
  endforeach()
  if(arg_COMMAND AND (arg_TYPE OR arg_OPTIONS))
    message(FATAL_ERROR "imgcreate_add_image(${arg_NAME}): COMMAND runs your own creator: give it its arguments after "
                        "COMMAND, not TYPE or OPTIONS")
  elseif(NOT arg_COMMAND AND arg_OUTPUT)
    message(FATAL_ERROR "imgcreate_add_image(${arg_NAME}): OUTPUT goes with COMMAND; the stock creator's output is named by TYPE")
  elseif(NOT arg_COMMAND AND NOT arg_TYPE)
    message(FATAL_ERROR "imgcreate_add_image(${arg_NAME}): TYPE (live, image or fs) or COMMAND is required")
  endif()
  if(arg_COMMAND)
    set(type command)
    set(what "the image ${arg_NAME} with ${arg_COMMAND}")
  elseif(arg_TYPE STREQUAL "live" OR arg_TYPE STREQUAL "livecd")
    set(type livecd)
  elseif(arg_TYPE STREQUAL "image" OR arg_TYPE STREQUAL "fs")
    set(type ${arg_TYPE})
  else()
    message(FATAL_ERROR "imgcreate_add_image(${arg_NAME}): TYPE must be live, image or fs, not '${arg_TYPE}'")
  endif()
  if(type STREQUAL "livecd")
    set(what "the live ISO ${arg_NAME}")
  elseif(type STREQUAL "image")
    set(what "the loop image ${arg_NAME}")
  elseif(type STREQUAL "fs")
    set(what "the tree ${arg_NAME}")
  endif()
  if(type STREQUAL "livecd" AND (arg_NAME MATCHES " " OR arg_NAME MATCHES "^.................................+$"))
    message(FATAL_ERROR "imgcreate_add_image(${arg_NAME}): a live ISO's name is its label: at most 32 characters, no spaces")
  endif()

  get_filename_component(kickstart "${arg_KICKSTART}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  set(output_dir "${CMAKE_CURRENT_BINARY_DIR}")
  if(arg_OUTPUT_DIR)
    get_filename_component(output_dir "${arg_OUTPUT_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  endif()

  set(creator_deps "")
  if(TARGET livecd-creator)
    # Inside imgcreate's own build: the one program, whatever its name (TYPE is passed explicitly).
    set(creator "$<TARGET_FILE:livecd-creator>")
    set(creator_deps livecd-creator)
  elseif(IMGCREATE_CREATOR)
    set(creator "${IMGCREATE_CREATOR}")
  else()
    find_program(IMGCREATE_CREATOR image-creator HINTS "${_IMGCREATE_IMAGE_PREFIX}/bin"
                 DOC "imgcreate's image-creator, which imgcreate_add_image runs")
    if(NOT IMGCREATE_CREATOR)
      message(FATAL_ERROR "imgcreate_add_image: no image-creator found; install imgcreate's programs or set IMGCREATE_CREATOR")
    endif()
    set(creator "${IMGCREATE_CREATOR}")
  endif()

  set(command_args "")
  if(arg_COMMAND)
    list(POP_FRONT arg_COMMAND program)
    if(TARGET ${program})
      list(APPEND creator_deps ${program})
      set(program "$<TARGET_FILE:${program}>")
    endif()
    if(NOT arg_COMMAND)
      set(arg_COMMAND "<KICKSTART>" "<OUTPUT_DIR>")
    endif()
    list(PREPEND arg_COMMAND "${program}")
    string(REPLACE ";" "|" command_line "${arg_COMMAND}")
    set(command_args "-DCOMMAND_LINE=${command_line}" "-DOUTPUT=${arg_OUTPUT}")
  endif()

  set(work "${CMAKE_CURRENT_BINARY_DIR}/imgcreate-images")
  set(stamp "${work}/${arg_NAME}.stamp")
  set(depfile "${work}/${arg_NAME}.d")
  string(REPLACE ";" "|" options "${arg_OPTIONS}")
  add_custom_command(
    OUTPUT "${stamp}"
    COMMAND "${CMAKE_COMMAND}" -DIMGCREATE_IMAGE_STEP=1 "-DCREATOR=${creator}" "-DKICKSTART=${kickstart}"
            "-DTYPE=${type}" "-DNAME=${arg_NAME}" "-DOUTPUT_DIR=${output_dir}" "-DSTAMP=${stamp}"
            "-DDEPFILE=${depfile}" "-DOPTIONS=${options}" ${command_args} -P "${_IMGCREATE_IMAGE_MODULE}"
    DEPENDS "${kickstart}" ${arg_DEPENDS} ${creator_deps}
    DEPFILE "${depfile}"
    COMMENT "Building ${what} from ${arg_KICKSTART}"
    USES_TERMINAL
    VERBATIM)
  if(arg_ALL)
    add_custom_target(${arg_NAME} ALL DEPENDS "${stamp}")
  else()
    add_custom_target(${arg_NAME} DEPENDS "${stamp}")
  endif()
endfunction()

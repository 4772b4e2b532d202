# Builds one compile_fail target and checks how the compiler refused it:
#   cmake -DBUILD_DIR=... -DTARGET=... -DERRORS=N "-DEXPECT=regex1;regex2;..." -P check_errors.cmake
# Passes only when the build fails, every EXPECT regex matches the compiler's output (in order),
# and the output has exactly ERRORS lines with "error:" — no follow-on errors after the ones the
# static assertions give.
execute_process(COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(APPEND out "${err}")
if(result EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but the composition it makes must be refused")
endif()
string(REGEX MATCHALL "[^\n]*error:[^\n]*" error_lines "${out}")
list(LENGTH error_lines count)
set(rest "${out}")
foreach(re IN LISTS EXPECT)
  string(REGEX MATCH "${re}" found "${rest}")
  if(NOT found)
    message(FATAL_ERROR "the compiler's output lacks /${re}/ (after the earlier matches):\n${out}")
  endif()
  string(FIND "${rest}" "${found}" at)
  string(LENGTH "${found}" len)
  math(EXPR from "${at} + ${len}")
  string(SUBSTRING "${rest}" ${from} -1 rest)
endforeach()
if(NOT count EQUAL ERRORS)
  message(FATAL_ERROR "expected ${ERRORS} error line(s), the compiler gave ${count}:\n${out}")
endif()
message(STATUS "${TARGET}: refused with ${count} error line(s), as expected")

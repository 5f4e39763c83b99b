# Test helpers shared by tests/unit/* and tests/integration.
include(GoogleTest)

# sluice_gtest(<target> LABELS <label>... [SERIAL <regex>...])
#
# Registers a GoogleTest executable with ctest (discovery at test time) and labels every test
# it contains. `gtest_discover_tests(... PROPERTIES LABELS "unit;tsan")` keeps only the first
# label (CMake issue 17812), so `ctest -L tsan` would find nothing; instead a small script,
# included by ctest after the discovery script, labels the discovered tests. Targets labelled
# `tsan` also join the `sluice_tsan_tests` target, so the tsan preset builds only those.
# Tests whose full name ("Suite.Name") matches a SERIAL regex get RUN_SERIAL: the test presets
# run tests in parallel, and these measure time or CPU, so they must have the machine alone.
function(sluice_gtest target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "LABELS;SERIAL")
  if(arg_UNPARSED_ARGUMENTS OR NOT arg_LABELS)
    message(FATAL_ERROR "usage: sluice_gtest(<target> LABELS <label>...)")
  endif()
  # Listing tests of a sanitized binary on a busy machine can take longer than the 5 s default.
  gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       TEST_LIST ${target}_TESTS)
  set(script ${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake)
  file(WRITE ${script}
       "if(${target}_TESTS)\n"
       "  set_tests_properties(\${${target}_TESTS} PROPERTIES LABELS \"${arg_LABELS}\")\n"
       "endif()\n")
  foreach(pattern IN LISTS arg_SERIAL)
    file(APPEND ${script}
         "foreach(t IN LISTS ${target}_TESTS)\n"
         "  if(t MATCHES \"${pattern}\")\n"
         "    set_tests_properties(\${t} PROPERTIES RUN_SERIAL TRUE)\n"
         "  endif()\n"
         "endforeach()\n")
  endforeach()
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${script})
  if("tsan" IN_LIST arg_LABELS)
    if(NOT TARGET sluice_tsan_tests)
      add_custom_target(sluice_tsan_tests)
    endif()
    add_dependencies(sluice_tsan_tests ${target})
  endif()
endfunction()

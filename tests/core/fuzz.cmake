# A short run of every fuzzer (fuzz/run.sh, 20 s each) on its checked-in seed corpus. The
# fuzzers build with clang in a folder of their own; without clang the test is not registered.
find_program(DISTILLERY_CLANGXX NAMES clang++-14 clang++)
if(DISTILLERY_CLANGXX)
  add_test(NAME fuzz_short COMMAND ${PROJECT_SOURCE_DIR}/fuzz/run.sh 20)
  set_tests_properties(fuzz_short PROPERTIES LABELS "fuzz;slow" TIMEOUT 600
    ENVIRONMENT "DISTILLERY_FUZZ_BUILD=${PROJECT_BINARY_DIR}/fuzz")
else()
  message(STATUS "clang++ not found: the fuzzers are not tested (packaging/install-deps.sh installs clang-14)")
endif()

# distillery_add_test(NAME <tst_Name> SOURCES <files...> LABELS <labels...> [TORCH] [GUI] [TIMEOUT s])
# One Qt Test executable per unit, registered with ctest. TORCH: the test may include LibTorch
# (compiled with QT_NO_KEYWORDS, see TOOLCHAIN.md). GUI: runs with QT_QPA_PLATFORM=offscreen.
set(DISTILLERY_TEST_DEFINITIONS
  DISTILLERY_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  DISTILLERY_BINARY_DIR="${PROJECT_BINARY_DIR}"
  DISTILLERY_PYTHON="${DISTILLERY_PYTHON}"
  DISTILLERY_CLI="$<TARGET_FILE:distillery-cli>")

# Shared precompiled header (QtTest + LibTorch) for tests that check tensors. Call it from the
# directory that defines the tests: QtTest's QT_TESTCASE_BUILDDIR must match for GCC to use it.
function(distillery_add_torch_test_pch)
  add_library(distillery_torch_test_pch OBJECT ${PROJECT_SOURCE_DIR}/tests/torch_test_pch.cpp)
  target_link_libraries(distillery_torch_test_pch PRIVATE Qt6::Core Qt6::Test distillery_core_private)
  target_compile_definitions(distillery_torch_test_pch PRIVATE QT_NO_KEYWORDS ${DISTILLERY_TEST_DEFINITIONS})
  target_precompile_headers(distillery_torch_test_pch PRIVATE ${PROJECT_SOURCE_DIR}/tests/torch_test_pch.h)
endfunction()

function(distillery_add_test)
  cmake_parse_arguments(T "TORCH;GUI" "NAME;TIMEOUT" "SOURCES;LABELS;LIBS;MODULES" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  set_target_properties(${T_NAME} PROPERTIES AUTOMOC ON)
  # MODULES restricts linking to those core modules (e.g. models); default: the whole core.
  if(T_MODULES)
    foreach(_m ${T_MODULES})
      target_link_libraries(${T_NAME} PRIVATE distillery_${_m})
    endforeach()
  else()
    target_link_libraries(${T_NAME} PRIVATE distillery_core)
  endif()
  target_link_libraries(${T_NAME} PRIVATE Qt6::Core Qt6::Test ${T_LIBS})
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${T_NAME} PRIVATE ${DISTILLERY_TEST_DEFINITIONS})
  if(T_TORCH)
    target_link_libraries(${T_NAME} PRIVATE distillery_core_private)
    target_compile_definitions(${T_NAME} PRIVATE QT_NO_KEYWORDS)
    target_precompile_headers(${T_NAME} REUSE_FROM distillery_torch_test_pch)
  endif()
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set(_timeout 300)
  if(T_TIMEOUT)
    set(_timeout ${T_TIMEOUT})
  endif()
  set(_env "OMP_NUM_THREADS=1;OPENBLAS_NUM_THREADS=1")
  if(T_GUI)
    list(APPEND _env "QT_QPA_PLATFORM=offscreen")
  endif()
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${_timeout}
    ENVIRONMENT "${_env}")
  if(NOT T_MODULES)
    add_dependencies(${T_NAME} distillery-cli)
  endif()
endfunction()

distillery_add_test(NAME tst_Diagnostics SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_diagnostics.cpp
  LABELS unit TORCH MODULES diagnostics losses)

distillery_add_test(NAME tst_Compare SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_compare.cpp LABELS unit
  MODULES compare)

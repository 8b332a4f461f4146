distillery_add_test(NAME tst_Smoke SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_smoke.cpp LABELS unit TORCH)

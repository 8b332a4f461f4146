distillery_add_test(NAME tst_Data SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_data.cpp LABELS unit TORCH)

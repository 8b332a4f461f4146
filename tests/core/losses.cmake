distillery_add_test(NAME tst_Losses SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_losses.cpp LABELS unit TORCH MODULES losses graph)

distillery_add_test(NAME tst_HfModels SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_hfmodels.cpp LABELS unit TORCH)

distillery_add_test(NAME tst_Models SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_models.cpp LABELS unit TORCH MODULES models)

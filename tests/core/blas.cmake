distillery_add_test(NAME tst_Blas SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_blas.cpp LABELS unit)

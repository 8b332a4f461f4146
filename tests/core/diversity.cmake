distillery_add_test(NAME tst_Diversity SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_diversity.cpp LABELS unit)

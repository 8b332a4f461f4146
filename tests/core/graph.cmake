distillery_add_test(NAME tst_Graph SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_graph.cpp LABELS unit)

distillery_add_test(NAME tst_GraphScene SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_graphscene.cpp LABELS unit gui GUI LIBS distillery_widgets)

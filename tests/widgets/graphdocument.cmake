distillery_add_test(NAME tst_GraphDocument SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_graphdocument.cpp
  LABELS unit gui GUI MODULES graph LIBS distillery_widgets)

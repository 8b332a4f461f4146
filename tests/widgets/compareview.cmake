distillery_add_test(NAME tst_CompareView SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_compareview.cpp LABELS unit gui GUI
  LIBS distillery_widgets)

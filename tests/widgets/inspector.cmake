distillery_add_test(NAME tst_Inspector SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_inspector.cpp
  LABELS unit gui GUI LIBS distillery_widgets)

distillery_add_test(NAME tst_ExportDialog SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_exportdialog.cpp
  LABELS e2e gui GUI LIBS distillery_widgets)

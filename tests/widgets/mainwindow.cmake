distillery_add_test(NAME tst_MainWindow SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_mainwindow.cpp
  LABELS e2e gui GUI LIBS distillery_widgets TIMEOUT 600)

distillery_add_test(NAME tst_DiagnosticsData SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_diagnosticsdata.cpp LABELS unit LIBS distillery_widgets)

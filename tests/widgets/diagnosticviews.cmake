distillery_add_test(NAME tst_DiagnosticViews SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_diagnosticviews.cpp LABELS unit gui GUI LIBS distillery_widgets)

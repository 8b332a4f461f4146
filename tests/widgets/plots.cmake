distillery_add_test(NAME tst_Plots SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_plots.cpp LABELS unit gui GUI LIBS distillery_widgets)

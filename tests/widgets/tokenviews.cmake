distillery_add_test(NAME tst_TokenViews SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_tokenviews.cpp LABELS unit gui GUI LIBS distillery_widgets)

distillery_add_test(NAME tst_Training SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_training.cpp LABELS e2e gui GUI LIBS distillery_widgets TIMEOUT 600)

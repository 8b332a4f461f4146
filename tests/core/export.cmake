distillery_add_test(NAME tst_Export SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_export.cpp LABELS e2e TORCH TIMEOUT 600)

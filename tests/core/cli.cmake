distillery_add_test(NAME tst_Cli SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_cli.cpp LABELS e2e TIMEOUT 600)

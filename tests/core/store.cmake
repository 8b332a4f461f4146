distillery_add_test(NAME tst_Store SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_store.cpp LABELS unit
  LIBS SQLite::SQLite3)

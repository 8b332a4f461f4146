# The preloaded library that makes one folder a full disk, and the fault tests that use it.
add_library(distillery_fullfs SHARED ${PROJECT_SOURCE_DIR}/tests/faults/fullfs.cpp)
target_link_libraries(distillery_fullfs PRIVATE ${CMAKE_DL_LIBS})
distillery_add_test(NAME tst_Faults SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_faults.cpp
  LABELS e2e faults TIMEOUT 600 LIBS SQLite::SQLite3)
target_compile_definitions(tst_Faults PRIVATE
  DISTILLERY_FULLFS_LIBRARY="$<TARGET_FILE:distillery_fullfs>")
add_dependencies(tst_Faults distillery_fullfs)

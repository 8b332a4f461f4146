# tst_Layering: the layering (Qt out of core, LibTorch out of widgets/app), [[nodiscard]]
# Results and the error-code scheme, checked with the compiler the project builds with.
file(GENERATE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/layering_flags.txt
  CONTENT "-I$<JOIN:$<TARGET_PROPERTY:distillery-cli,INCLUDE_DIRECTORIES>, -I>\n")
add_test(NAME tst_Layering COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check_layering.sh
  ${PROJECT_SOURCE_DIR} ${CMAKE_CXX_COMPILER} ${CMAKE_CURRENT_BINARY_DIR}/layering_flags.txt)
set_tests_properties(tst_Layering PROPERTIES LABELS unit TIMEOUT 120)

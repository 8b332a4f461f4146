distillery_add_test(NAME tst_Export SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_export.cpp LABELS e2e TORCH TIMEOUT 600 LIBS Qt6::Gui)
# onnxruntime-node for the ONNX export, installed by packaging/install-deps.sh.
find_program(DISTILLERY_NODE NAMES node nodejs)
if(DEFINED ENV{DISTILLERY_NPM_DIR})
  set(_npm_default "$ENV{DISTILLERY_NPM_DIR}")
else()
  set(_npm_default "$ENV{HOME}/.cache/distillery/npm")
endif()
set(DISTILLERY_NPM_DIR "${_npm_default}" CACHE PATH "npm packages the tests use (onnxruntime-node)")
set_property(TEST tst_Export APPEND PROPERTY ENVIRONMENT
  "DISTILLERY_NODE=${DISTILLERY_NODE}" "DISTILLERY_NODE_MODULES=${DISTILLERY_NPM_DIR}/node_modules")

distillery_add_test(NAME tst_Trainer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_trainer.cpp LABELS e2e TIMEOUT 600)

distillery_add_test(NAME tst_KdBenefit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_kdbenefit.cpp LABELS e2e slow TIMEOUT 900)

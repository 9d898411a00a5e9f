cs_unit_test(test_appraisal SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_appraisal.c LABELS unit)

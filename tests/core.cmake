cs_unit_test(test_core SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_core.c LABELS unit)
cs_unit_test(test_matrix SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_matrix.c LABELS unit)

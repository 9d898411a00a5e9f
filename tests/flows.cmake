cs_unit_test(test_flows SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_flows.c LABELS unit)

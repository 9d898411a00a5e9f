cs_unit_test(test_scenario SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_scenario.c LABELS unit)

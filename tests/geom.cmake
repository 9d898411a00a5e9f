cs_unit_test(test_geom SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_geom.c LABELS unit)

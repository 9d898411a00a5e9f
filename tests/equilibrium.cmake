cs_unit_test(test_equilibrium SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_equilibrium.c LABELS unit)

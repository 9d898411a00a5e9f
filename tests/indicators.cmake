# Indicators: generalised cost, urban hierarchy, agglomeration, market access, gravity/PPML.
cs_unit_test(test_gravity SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_gravity.c LABELS unit)
cs_unit_test(test_hierarchy SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_hierarchy.c LABELS unit)
cs_unit_test(test_access SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_access.c LABELS unit)
cs_unit_test(test_cost SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_cost.c LABELS unit)
cs_script_test(cli_indicators SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/cli_indicators.sh LABELS cli)

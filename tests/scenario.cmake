cs_unit_test(test_scenario SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_scenario.c LABELS unit)
cs_script_test(scenario_cli SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/scenario_cli.sh LABELS cli)

cs_unit_test(test_flows SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_flows.c LABELS unit)
cs_script_test(cli_structure SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/cli_structure.sh LABELS cli)

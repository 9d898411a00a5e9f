cs_unit_test(test_typology SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_typology.c LABELS unit)
cs_unit_test(test_centrality SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_centrality.c LABELS unit)
cs_script_test(cli_typology SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/cli_typology.sh LABELS cli)

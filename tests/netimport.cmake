# Network import tests (netimport): profiles, OSM, tables, GIS lines, compression, snapping.
cs_unit_test(test_net_core SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_net_core.c LABELS unit)
cs_unit_test(test_net_osm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_net_osm.c LABELS unit)
cs_unit_test(test_net_tables SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_net_tables.c LABELS unit)
cs_unit_test(test_net_lines SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_net_lines.c LABELS unit)
cs_script_test(test_net_cli SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_net_cli.sh LABELS cli)

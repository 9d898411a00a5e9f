# Routing (src/graph/{csr,ch,query,graphfile}.c): hand grids, random graphs against brute-force Dijkstra,
# changes, determinism, save/load.
cs_unit_test(test_routing SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_routing.c LABELS unit)
cs_script_test(test_routing_cli SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_routing_cli.sh LABELS cli)

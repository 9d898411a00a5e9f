cs_script_test(cli_run_network SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/cli_run_network.sh LABELS cli)

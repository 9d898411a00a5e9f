cs_unit_test(test_equilibrium SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_equilibrium.c LABELS unit)
cs_script_test(equilibrium_cli SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/equilibrium_cli.sh LABELS cli)

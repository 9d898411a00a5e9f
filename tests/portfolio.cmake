cs_unit_test(test_portfolio SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_portfolio.c LABELS unit)
cs_script_test(cli_plan_portfolio SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/cli_plan_portfolio.sh LABELS cli)

# Inequality, spatial weights, spatial autocorrelation, convergence and Markov chains (issue 4, item 2).
cs_unit_test(test_inequality SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_inequality.c LABELS unit)
cs_unit_test(test_inequality_pysal SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_inequality_pysal.c
  ${CMAKE_CURRENT_SOURCE_DIR}/test_inequality_csv.c LABELS unit)
cs_unit_test(test_inequality_weights SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_inequality_weights.c LABELS unit)
cs_script_test(test_inequality_cli SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_inequality_cli.sh LABELS cli)

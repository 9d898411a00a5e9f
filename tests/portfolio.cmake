cs_unit_test(test_portfolio SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_portfolio.c LABELS unit)

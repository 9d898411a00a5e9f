cs_unit_test(test_chart SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_chart.c LABELS unit)
cs_unit_test(test_map SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_map.c LABELS unit)
cs_unit_test(test_html SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_html.c LABELS unit)
cs_script_test(report_browser SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/report_browser.sh LABELS cli)

# Tests of src/io (CSV tokenizer, city/link readers, joins, writers, cs_table, matrix CSV).
cs_unit_test(test_cityio SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_cityio.c LABELS unit)

# Project file and main job (issue 2): unit tests of the parser, CLI tests of validate/info/export/run.
cs_unit_test(test_project SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_project.c LABELS unit)

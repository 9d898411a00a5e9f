# Project file and main job (issue 2): unit tests of the parser, CLI tests of validate/info/export/run.
cs_unit_test(test_project SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_project.c LABELS unit)
cs_script_test(cli_project SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/cli_project.sh LABELS cli)
cs_script_test(cli_export SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/cli_export.sh LABELS cli)
cs_script_test(cli_badcsv SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/cli_badcsv.sh LABELS cli)
cs_script_test(cli_run SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/cli_run.sh LABELS cli)
# 50 SIGKILLs of `run` and of `export` at random moments (well under 30 s); the long version is `slow`.
cs_script_test(cli_kill SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/cli_kill.sh LABELS cli)
cs_script_test(cli_kill_long SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/cli_kill.sh ARGS 300 andorra LABELS cli slow)
cs_script_test(cli_docs SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/cli_docs.sh LABELS cli)

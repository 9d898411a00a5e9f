# Facility location tests (issue 7). Non-slow total: a few seconds.
set(CS_FAC_ORLIB ${CMAKE_CURRENT_SOURCE_DIR}/test_facility_orlib.c)
# Exact method reaches the published optimum (OR-Library pmed1-pmed10).
cs_unit_test(test_facility_orlib_exact SOURCES ${CS_FAC_ORLIB} LABELS unit ARGS exact 1 2 3 4 5 10)
cs_unit_test(test_facility_orlib_exact_slow SOURCES ${CS_FAC_ORLIB} LABELS slow ARGS exact 6 7 8 9)
# GLPK alone (Lagrangian off) on the radius formulation: pmed1-5 (~10 s), pmed10.
cs_unit_test(test_facility_orlib_glpk_slow SOURCES ${CS_FAC_ORLIB} LABELS slow ARGS exact-glpk 1 2 3 4 5 10)
# Relabelled vertices and costs x 3 give 3 x the optimum.
cs_unit_test(test_facility_orlib_relabel SOURCES ${CS_FAC_ORLIB} LABELS unit ARGS relabel 2 5)
cs_unit_test(test_facility_orlib_relabel_slow SOURCES ${CS_FAC_ORLIB} LABELS slow ARGS relabel 1 3 4 6 7 8 9 10)
# Heuristic on pmed1-10: value >= optimum, Lagrangian bound <= optimum (the 40-instance table: bench/facility).
cs_unit_test(test_facility_orlib_heuristic SOURCES ${CS_FAC_ORLIB} LABELS unit ARGS heuristic 1 2 3 4 5 6 7 8 9 10)
# Every model against exhaustive search on random instances (n <= 30), outputs, GLPK errors.
cs_unit_test(test_facility_brute SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_facility_brute.c LABELS unit)
cs_unit_test(test_facility_mkmatrix SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_facility_mkmatrix.c LABELS unit cli)
set_tests_properties(test_facility_mkmatrix PROPERTIES FIXTURES_SETUP facility_matrix)
cs_script_test(test_facility_cli SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_facility_cli.sh LABELS cli)
set_tests_properties(test_facility_cli PROPERTIES FIXTURES_REQUIRED facility_matrix)
# Benchmarks (bench/README-facility.md): 5,000-city heuristic, exact pmed6.
cs_unit_test(bench_facility SOURCES ${PROJECT_SOURCE_DIR}/bench/facility/bench_facility.c LABELS bench slow ARGS large 5000 50 1)
add_test(NAME bench_facility_exact_pmed6 COMMAND bench_facility exact ${PROJECT_SOURCE_DIR}/tests/data/facility/pmed6.txt 7824)
set_tests_properties(bench_facility_exact_pmed6 PROPERTIES LABELS "bench;slow" TIMEOUT 600)

# Facility location tests (issue 7).
set(CS_FAC_ORLIB ${CMAKE_CURRENT_SOURCE_DIR}/test_facility_orlib.c)
cs_unit_test(test_facility_orlib_fast SOURCES ${CS_FAC_ORLIB} LABELS unit ARGS exact 1 2 3 4 5)

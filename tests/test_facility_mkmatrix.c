/* test_facility_mkmatrix.c: fixture for test_facility_cli — writes OR-Library pmed1 as a binary matrix
 * (facility-pmed1.csmat in the working directory) so the CLI's --matrix path is exercised. */
#include "test.h"
#include "citysys/facility.h"

int main(void)
{
    cs_matrix *M = NULL;
    size_t p = 0;
    CHECK_OK(cs_fac_read_orlib(CS_SRC_DIR "/tests/data/facility/pmed1.txt", &M, &p));
    if (M) {
        CHECK(p == 5 && M->rows == 100);
        CHECK_OK(cs_matrix_write(M, "facility-pmed1.csmat"));
    }
    cs_matrix_free(M);
    TEST_MAIN_END();
}

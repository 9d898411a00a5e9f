/* test_inequality_csv.h: a minimal RFC 4180 CSV reader for the inequality tests (test-only). */
#ifndef TEST_INEQUALITY_CSV_H
#define TEST_INEQUALITY_CSV_H
#include <stddef.h>
typedef struct tcsv {
    size_t nrows, ncols;
    char **hdr;   /* ncols */
    char **cell;  /* nrows*ncols, row-major */
} tcsv;
int tcsv_read(const char *path, tcsv *t);
int tcsv_col(const tcsv *t, const char *name);
/* column as doubles (malloc'ed), NULL if missing */
double *tcsv_doubles(const tcsv *t, const char *name);
const char *tcsv_get(const tcsv *t, size_t row, int col);
void tcsv_free(tcsv *t);
#endif

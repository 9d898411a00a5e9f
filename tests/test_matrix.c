/* Unit tests for the binary matrix file: round trip, infinity, flags, refusal of stale/corrupt files. */
#include <unistd.h>
#include "test.h"

int main(void)
{
    cs_matrix *m;
    CHECK_OK(cs_matrix_new(2, 3, CS_MATRIX_TIME, &m));
    const char *r[] = {"a", "b"}, *c[] = {"x", "y", "z"};
    CHECK_OK(cs_matrix_set_ids(m, r, c));
    for (int i = 0; i < 6; i++) m->v[i] = i * 1.5;
    m->v[4] = INFINITY;
    m->v[5] = NAN;
    CHECK_OK(cs_matrix_ensure_flags(m));
    m->flags[4] = CS_CELL_UNREACHABLE;
    snprintf(m->fingerprint, sizeof m->fingerprint, "%s", "abc123");
    char path[] = "/tmp/cs-mat-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    CHECK_OK(cs_matrix_write(m, path));
    cs_matrix *q;
    CHECK_OK(cs_matrix_read(path, "abc123", &q));
    CHECK(q->rows == 2 && q->cols == 3 && !strcmp(q->col_ids[2], "z") && !strcmp(q->row_ids[1], "b"));
    CHECK(isinf(q->v[4]) && isnan(q->v[5]) && q->v[1] == 1.5 && q->flags[4] == CS_CELL_UNREACHABLE);
    CHECK(!strcmp(q->unit, "s"));
    cs_matrix_free(q);
    CHECK(cs_matrix_read(path, "other", &q) == CS_EFORMAT && q == NULL);
    CHECK(strstr(cs_error_last()->message, "stale") != NULL);
    /* corrupt one byte of the values */
    char *data;
    size_t n;
    CHECK_OK(cs_read_file(path, &data, &n));
    for (size_t k = 0; k < n; k += 7) {
        data[k] ^= 0x40;
        CHECK(cs_matrix_read_mem(data, n, "x", NULL, &q) != CS_OK);
        data[k] ^= 0x40;
    }
    CHECK(cs_matrix_read_mem(data, n - 1, "x", NULL, &q) == CS_EFORMAT);
    CHECK_OK(cs_matrix_read_mem(data, n, "x", NULL, &q));
    cs_matrix_free(q);
    cs_free(data);
    cs_matrix *s;
    const char *sr[] = {"b"}, *sc[] = {"z", "x"};
    CHECK_OK(cs_matrix_select(m, sr, 1, sc, 2, &s));
    CHECK(s->v[1] == 4.5 && isnan(s->v[0]));
    cs_matrix_free(s);
    CHECK(cs_matrix_select(m, sc, 1, sc, 1, &s) == CS_ENOTFOUND);
    unlink(path);
    cs_matrix_free(m);
    TEST_MAIN_END();
}

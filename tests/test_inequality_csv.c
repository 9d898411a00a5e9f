/* test_inequality_csv.c: a minimal RFC 4180 CSV reader for the inequality tests (test-only code). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_inequality_csv.h"

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[sz] = 0;
    *n = (size_t)sz;
    return b;
}

int tcsv_read(const char *path, tcsv *t)
{
    size_t n;
    char *b = slurp(path, &n);
    memset(t, 0, sizeof *t);
    if (!b) return -1;
    size_t cap = 1024, cnt = 0, rowlen = 0, ncols = 0, nrows = 0;
    char **cells = malloc(cap * sizeof *cells);
    size_t i = 0;
    while (i < n) {
        /* one field */
        char *f = malloc(n - i + 1);
        size_t fl = 0;
        if (b[i] == '"') {
            i++;
            while (i < n) {
                if (b[i] == '"' && i + 1 < n && b[i + 1] == '"') {
                    f[fl++] = '"';
                    i += 2;
                } else if (b[i] == '"') {
                    i++;
                    break;
                } else
                    f[fl++] = b[i++];
            }
        }
        while (i < n && b[i] != ',' && b[i] != '\n' && b[i] != '\r') f[fl++] = b[i++];
        f[fl] = 0;
        if (cnt == cap) cells = realloc(cells, (cap *= 2) * sizeof *cells);
        cells[cnt++] = f;
        rowlen++;
        if (i < n && b[i] == ',') {
            i++;
            continue;
        }
        while (i < n && (b[i] == '\r' || b[i] == '\n')) i++;
        if (!ncols) ncols = rowlen;
        else nrows++;
        rowlen = 0;
    }
    free(b);
    t->ncols = ncols;
    t->nrows = nrows;
    t->hdr = cells;
    t->cell = cells + ncols;
    return cnt == ncols * (nrows + 1) ? 0 : -1;
}

int tcsv_col(const tcsv *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (!strcmp(t->hdr[c], name)) return (int)c;
    return -1;
}

const char *tcsv_get(const tcsv *t, size_t row, int col) { return t->cell[row * t->ncols + (size_t)col]; }

double *tcsv_doubles(const tcsv *t, const char *name)
{
    int c = tcsv_col(t, name);
    if (c < 0) return NULL;
    double *v = malloc(t->nrows * sizeof *v + 1);
    for (size_t r = 0; r < t->nrows; r++) v[r] = strtod(tcsv_get(t, r, c), NULL);
    return v;
}

void tcsv_free(tcsv *t)
{
    if (!t->hdr) return;
    for (size_t k = 0; k < t->ncols * (t->nrows + 1); k++) free(t->hdr[k]);
    free(t->hdr);
    memset(t, 0, sizeof *t);
}

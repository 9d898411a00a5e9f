/*
 * matrix_csv.c: city x city matrices as CSV, long (origin_id,destination_id,value,reachable)
 * or wide (id,<col ids...>), through the citysys tokenizer so errors carry file:line:column.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "citysys/fileio.h"
#include "citysys/matrix.h"
#include "io/io_internal.h"

cs_status cs_matrix_write_csv(const cs_matrix *m, const char *path, cs_matrix_csv_layout layout)
{
    if (!m || !path) return cs_error_set(CS_EINVAL, "cs_matrix_write_csv: missing matrix or path");
    io_buf b = {0};
    cs_status st;
    char num[48];
    if (layout == CS_MATRIX_CSV_LONG) {
        st = io_buf_puts(&b, "origin_id,destination_id,value,reachable\n");
        for (size_t i = 0; i < m->rows && !st; i++)
            for (size_t j = 0; j < m->cols && !st; j++) {
                double v = m->v[i * m->cols + j];
                io_fmt_double(v, num, sizeof num);
                if (!(st = io_buf_csv_field(&b, m->row_ids[i], ',')) && !(st = io_buf_put(&b, ",", 1)) &&
                    !(st = io_buf_csv_field(&b, m->col_ids[j], ',')))
                    st = io_buf_printf(&b, ",%s,%d\n", num, (isinf(v) && v > 0) ? 0 : 1);
            }
    } else if (layout == CS_MATRIX_CSV_WIDE) {
        st = io_buf_puts(&b, "id");
        for (size_t j = 0; j < m->cols && !st; j++)
            if (!(st = io_buf_put(&b, ",", 1))) st = io_buf_csv_field(&b, m->col_ids[j], ',');
        if (!st) st = io_buf_put(&b, "\n", 1);
        for (size_t i = 0; i < m->rows && !st; i++) {
            st = io_buf_csv_field(&b, m->row_ids[i], ',');
            for (size_t j = 0; j < m->cols && !st; j++) {
                io_fmt_double(m->v[i * m->cols + j], num, sizeof num);
                st = io_buf_printf(&b, ",%s", num);
            }
            if (!st) st = io_buf_put(&b, "\n", 1);
        }
    } else {
        return cs_error_set(CS_EINVAL, "unknown matrix CSV layout %d", (int)layout);
    }
    if (!st && !b.p) st = io_buf_put(&b, "", 0);
    if (!st) st = cs_write_file_atomic(path, b.p, b.n);
    cs_free(b.p);
    return st;
}

/* Matrix cell value: number, inf/infinity, empty/NA/NaN = missing (NaN). 0 ok, -1 bad. */
static int cell_value(const char *s, double *v)
{
    while (*s == ' ') s++;
    if (!*s || io_strieq(s, "NA") || io_strieq(s, "nan")) {
        *v = NAN;
        return 0;
    }
    int k = io_parse_double(s, v);
    return k == 0 ? 0 : -1;
}

static int is_one_of(const char *s, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        if (io_strieq(s, names[i])) return 1;
    return 0;
}

static const char *const origin_names[] = {"origin_id", "origin", "from", "from_id", "o", "i", "orig", NULL};
static const char *const dest_names[] = {"destination_id", "destination", "to", "to_id", "d", "j", "dest", NULL};

static cs_status read_long(const io_tab *t, io_report *rep, cs_matrix_kind kind, cs_matrix **out)
{
    /* columns: origin, destination, value, optional reachable */
    long creach = t->ncols >= 4 ? io_tab_col(t, "reachable") : -1;
    io_strmap rmap = {0}, cmap = {0};
    const char **rids = NULL, **cids = NULL;
    size_t nr = 0, nc = 0;
    cs_matrix *m = NULL;
    uint32_t *ri = NULL, *cj = NULL;
    cs_status st;
    size_t n = t->nrows;
    if ((st = io_strmap_init(&rmap, n)) || (st = io_strmap_init(&cmap, n))) goto done;
    rids = cs_calloc(n + 1, sizeof *rids);
    cids = cs_calloc(n + 1, sizeof *cids);
    ri = cs_calloc(n + 1, sizeof *ri);
    cj = cs_calloc(n + 1, sizeof *cj);
    if (!rids || !cids || !ri || !cj) goto oom;
    for (size_t r = 0; r < n; r++) {
        const char *a = io_cell(t, r, 0), *b = io_cell(t, r, 1);
        if (!*a && (st = io_tab_report(t, rep, CS_SEV_ERROR, r, 0, "missing origin id"))) goto done;
        if (!*b && (st = io_tab_report(t, rep, CS_SEV_ERROR, r, 1, "missing destination id"))) goto done;
        ri[r] = io_strmap_put(&rmap, a, (uint32_t)nr);
        if (ri[r] == nr) rids[nr++] = a;
        cj[r] = io_strmap_put(&cmap, b, (uint32_t)nc);
        if (cj[r] == nc) cids[nc++] = b;
    }
    if ((st = cs_matrix_new(nr, nc, kind, &m))) goto done;
    if ((st = cs_matrix_set_ids(m, rids, cids))) goto done;
    uint8_t *seen = cs_calloc(nr * nc + 1, 1);
    if (!seen) goto oom;
    for (size_t k = 0; k < nr * nc; k++) m->v[k] = NAN;
    for (size_t r = 0; r < n; r++) {
        size_t at = (size_t)ri[r] * nc + cj[r];
        double v;
        if (cell_value(io_cell(t, r, 2), &v)) {
            if ((st = io_tab_report(t, rep, CS_SEV_ERROR, r, 2, "%s: expected a number or inf, got '%.60s'",
                                    t->names[2], io_cell(t, r, 2))))
                break;
            continue;
        }
        if (creach >= 0) {
            const char *s = io_cell(t, r, (size_t)creach);
            while (*s == ' ') s++;
            if (!strcmp(s, "0")) {
                if (!isnan(v) && !isinf(v) &&
                    (st = io_tab_report(t, rep, CS_SEV_ERROR, r, creach, "reachable is 0 but the value is %.60s",
                                        io_cell(t, r, 2))))
                    break;
                v = INFINITY;
            } else if (strcmp(s, "1") && *s) {
                if ((st = io_tab_report(t, rep, CS_SEV_ERROR, r, creach, "reachable: expected 0 or 1, got '%.20s'", s)))
                    break;
            }
        }
        if (seen[at]) {
            if ((st = io_tab_report(t, rep, CS_SEV_ERROR, r, -1, "duplicate cell (%.80s, %.80s)", io_cell(t, r, 0),
                                    io_cell(t, r, 1))))
                break;
            continue;
        }
        seen[at] = 1;
        m->v[at] = v;
    }
    cs_free(seen);
    if (st) goto done;
    *out = m;
    m = NULL;
    goto done;
oom:
    st = cs_error_set(CS_ENOMEM, "out of memory while reading a matrix");
done:
    cs_matrix_free(m);
    io_strmap_free(&rmap);
    io_strmap_free(&cmap);
    cs_free(rids);
    cs_free(cids);
    cs_free(ri);
    cs_free(cj);
    return st;
}

static cs_status read_wide(const io_tab *t, io_report *rep, cs_matrix_kind kind, cs_matrix **out)
{
    size_t nr = t->nrows, nc = t->ncols ? t->ncols - 1 : 0;
    cs_matrix *m = NULL;
    const char **rids = cs_calloc(nr + 1, sizeof *rids);
    if (!rids) return CS_ENOMEM;
    cs_status st = cs_matrix_new(nr, nc, kind, &m);
    io_strmap seen = {0};
    if (!st) st = io_strmap_init(&seen, nr);
    for (size_t r = 0; r < nr && !st; r++) {
        rids[r] = io_cell(t, r, 0);
        if (!*rids[r]) st = io_tab_report(t, rep, CS_SEV_ERROR, r, 0, "missing row id");
        else if (io_strmap_put(&seen, rids[r], (uint32_t)r) != r)
            st = io_tab_report(t, rep, CS_SEV_ERROR, r, 0, "duplicate row id '%.80s'", rids[r]);
        for (size_t j = 0; j < nc && !st; j++) {
            double v;
            if (cell_value(io_cell(t, r, j + 1), &v))
                st = io_tab_report(t, rep, CS_SEV_ERROR, r, (long)j + 1, "%s: expected a number or inf, got '%.60s'",
                                   t->names[j + 1], io_cell(t, r, j + 1));
            else m->v[r * nc + j] = v;
        }
    }
    if (!st) st = cs_matrix_set_ids(m, rids, (const char *const *)(t->names + 1));
    io_strmap_free(&seen);
    cs_free(rids);
    if (st) {
        cs_matrix_free(m);
        return st;
    }
    *out = m;
    return CS_OK;
}

cs_status cs_matrix_read_csv(const char *path, int layout, cs_matrix_kind kind, cs_matrix **out)
{
    if (!out || !path) return cs_error_set(CS_EINVAL, "cs_matrix_read_csv: missing path or out");
    *out = NULL;
    io_report rep;
    io_report_init(&rep, NULL, 20);
    char *data = NULL;
    size_t size = 0;
    io_tab *t = NULL;
    cs_matrix *m = NULL;
    cs_status st = cs_read_file(path, &data, &size);
    if (!st) st = io_tab_read_csv_mem(data, size, path, NULL, &rep, &t);
    cs_free(data);
    if (!st) {
        if (layout < 0) {
            layout = (t->ncols == 3 || t->ncols == 4) && is_one_of(t->names[0], origin_names) &&
                             is_one_of(t->names[1], dest_names)
                         ? CS_MATRIX_CSV_LONG
                         : CS_MATRIX_CSV_WIDE;
        }
        if (layout == CS_MATRIX_CSV_LONG && t->ncols < 3)
            st = io_report_add(&rep, CS_SEV_ERROR, path, t->header_line, 0, "",
                               "a long matrix needs the columns origin_id,destination_id,value");
        else if (layout == CS_MATRIX_CSV_WIDE && t->ncols < 2)
            st = io_report_add(&rep, CS_SEV_ERROR, path, t->header_line, 0, "",
                               "a wide matrix needs a header id,<column ids...>");
        else if (layout == CS_MATRIX_CSV_LONG) st = read_long(t, &rep, kind, &m);
        else st = read_wide(t, &rep, kind, &m);
    }
    io_tab_free(t);
    if (st == CS_OK || st == CS_EPARSE) {
        cs_status f = io_report_finish(&rep);
        if (f) st = f;
    }
    if (st) {
        cs_matrix_free(m);
        return st;
    }
    *out = m;
    return CS_OK;
}

/* matrix.c: dense matrices and the binary matrix file (format in docs/formats.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/fileio.h"
#include "citysys/matrix.h"

static void free_ids(char **ids, size_t n)
{
    if (!ids) return;
    for (size_t i = 0; i < n; i++) cs_free(ids[i]);
    cs_free(ids);
}

void cs_matrix_free(cs_matrix *m)
{
    if (!m) return;
    cs_free(m->v);
    free_ids(m->row_ids, m->rows);
    free_ids(m->col_ids, m->cols);
    cs_free(m->flags);
    cs_free(m);
}

static char **make_ids(const char *const *src, size_t n)
{
    char **ids = cs_calloc(n ? n : 1, sizeof *ids);
    if (!ids) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (src) ids[i] = cs_strdup(src[i] ? src[i] : "");
        else ids[i] = cs_asprintf("%zu", i);
        if (!ids[i]) {
            free_ids(ids, i);
            return NULL;
        }
    }
    return ids;
}

static const char *unit_of(cs_matrix_kind k)
{
    switch (k) {
    case CS_MATRIX_TIME: return "s";
    case CS_MATRIX_DISTANCE: return "m";
    default: return "";
    }
}

cs_status cs_matrix_new(size_t rows, size_t cols, cs_matrix_kind kind, cs_matrix **out)
{
    *out = NULL;
    if (cols && rows > SIZE_MAX / sizeof(double) / cols)
        return cs_error_set(CS_EINVAL, "matrix %zu x %zu too large", rows, cols);
    cs_matrix *m = cs_calloc(1, sizeof *m);
    if (!m) return CS_ENOMEM;
    m->rows = rows;
    m->cols = cols;
    m->kind = kind;
    snprintf(m->unit, sizeof m->unit, "%s", unit_of(kind));
    m->v = cs_calloc(rows * cols > 0 ? rows * cols : 1, sizeof(double));
    m->row_ids = make_ids(NULL, rows);
    m->col_ids = make_ids(NULL, cols);
    if (!m->v || !m->row_ids || !m->col_ids) {
        cs_matrix_free(m);
        return CS_ENOMEM;
    }
    *out = m;
    return CS_OK;
}

cs_status cs_matrix_set_ids(cs_matrix *m, const char *const *row_ids, const char *const *col_ids)
{
    char **r = make_ids(row_ids, m->rows);
    char **c = r ? make_ids(col_ids, m->cols) : NULL;
    if (!r || !c) {
        free_ids(r, m->rows);
        return CS_ENOMEM;
    }
    free_ids(m->row_ids, m->rows);
    free_ids(m->col_ids, m->cols);
    m->row_ids = r;
    m->col_ids = c;
    return CS_OK;
}

cs_status cs_matrix_ensure_flags(cs_matrix *m)
{
    if (m->flags) return CS_OK;
    size_t nv = m->rows * m->cols;
    m->flags = cs_calloc(nv > 0 ? nv : 1, 1);
    return m->flags ? CS_OK : CS_ENOMEM;
}

cs_status cs_matrix_clone(const cs_matrix *m, cs_matrix **out)
{
    cs_matrix *c;
    cs_status st = cs_matrix_new(m->rows, m->cols, m->kind, &c);
    if (st) return st;
    memcpy(c->v, m->v, m->rows * m->cols * sizeof(double));
    memcpy(c->unit, m->unit, sizeof c->unit);
    memcpy(c->fingerprint, m->fingerprint, sizeof c->fingerprint);
    st = cs_matrix_set_ids(c, (const char *const *)m->row_ids, (const char *const *)m->col_ids);
    if (!st && m->flags) {
        st = cs_matrix_ensure_flags(c);
        if (!st) memcpy(c->flags, m->flags, m->rows * m->cols);
    }
    if (st) {
        cs_matrix_free(c);
        return st;
    }
    *out = c;
    return CS_OK;
}

/*
 * Binary layout (little-endian, all offsets from file start):
 *   0  char[8]  magic "CSMATRIX"
 *   8  u32      format version (1)
 *  12  u32      endianness tag 0x01020304 as written by the host
 *  16  u32      kind
 *  20  u32      has_flags (0/1)
 *  24  u64      rows
 *  32  u64      cols
 *  40  char[16] unit (NUL-padded)
 *  56  char[64] fingerprint (hex, NUL-padded when shorter)
 * 120  u64      ids section size in bytes (row ids then col ids, each NUL-terminated)
 * 128  u64      checksum of ids section
 * 136  u64      checksum of values section
 * 144  u64      checksum of flags section (0 if none)
 * 152  u64      checksum of bytes 0..151 of the header
 * 160  ids section, then zero padding to a multiple of 8,
 *      values (rows*cols f64), then flags (rows*cols u8) if present.
 */
#define HDR_SIZE 160u
#define MAGIC "CSMATRIX"
#define ENDIAN_TAG 0x01020304u

static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

cs_status cs_matrix_write(const cs_matrix *m, const char *path)
{
    size_t idsz = 0;
    for (size_t i = 0; i < m->rows; i++) idsz += strlen(m->row_ids[i]) + 1;
    for (size_t j = 0; j < m->cols; j++) idsz += strlen(m->col_ids[j]) + 1;
    size_t pad = (8 - (HDR_SIZE + idsz) % 8) % 8;
    char *ids = cs_malloc(idsz + pad + 1);
    if (!ids) return CS_ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < m->rows; i++) {
        size_t L = strlen(m->row_ids[i]) + 1;
        memcpy(ids + o, m->row_ids[i], L);
        o += L;
    }
    for (size_t j = 0; j < m->cols; j++) {
        size_t L = strlen(m->col_ids[j]) + 1;
        memcpy(ids + o, m->col_ids[j], L);
        o += L;
    }
    memset(ids + o, 0, pad);
    size_t nv = m->rows * m->cols;
    unsigned char h[HDR_SIZE];
    memset(h, 0, sizeof h);
    memcpy(h, MAGIC, 8);
    put32(h + 8, CS_MATRIX_FORMAT_VERSION);
    put32(h + 12, ENDIAN_TAG);
    put32(h + 16, (uint32_t)m->kind);
    put32(h + 20, m->flags ? 1u : 0u);
    put64(h + 24, m->rows);
    put64(h + 32, m->cols);
    memcpy(h + 40, m->unit, strnlen(m->unit, 15));
    memcpy(h + 56, m->fingerprint, strnlen(m->fingerprint, 64));
    put64(h + 120, idsz);
    put64(h + 128, cs_checksum64(ids, idsz, 0));
    put64(h + 136, cs_checksum64(m->v, nv * sizeof(double), 0));
    put64(h + 144, m->flags ? cs_checksum64(m->flags, nv, 0) : 0);
    put64(h + 152, cs_checksum64(h, 152, 0));
    cs_atomic_file *f;
    cs_status st = cs_atomic_open(path, &f);
    if (!st) st = cs_atomic_write(f, h, sizeof h);
    if (!st) st = cs_atomic_write(f, ids, idsz + pad);
    if (!st) st = cs_atomic_write(f, m->v, nv * sizeof(double));
    if (!st && m->flags) st = cs_atomic_write(f, m->flags, nv);
    cs_free(ids);
    if (st) {
        cs_atomic_abort(f);
        return st;
    }
    return cs_atomic_commit(f);
}

static cs_status bad(const char *name, const char *what)
{
    return cs_error_set_at(CS_EFORMAT, name, 0, 0,
                           "not a usable citysys matrix file (%s); rebuild it with the command that made it "
                           "(e.g. `citysys matrix ...` or `citysys run`)",
                           what);
}

cs_status cs_matrix_read_mem(const void *data, size_t size, const char *name, const char *expect, cs_matrix **out)
{
    *out = NULL;
    const unsigned char *p = data;
    if (!name) name = "<memory>";
    if (size < HDR_SIZE || memcmp(p, MAGIC, 8) != 0) return bad(name, "wrong magic or too short");
    if (get32(p + 12) != ENDIAN_TAG) return bad(name, "written on a machine of other endianness");
    uint32_t ver = get32(p + 8);
    if (ver != CS_MATRIX_FORMAT_VERSION) {
        return cs_error_set_at(CS_EFORMAT, name, 0, 0,
                               "matrix file format version %u, this citysys reads version %u; rebuild it",
                               ver, CS_MATRIX_FORMAT_VERSION);
    }
    if (get64(p + 152) != cs_checksum64(p, 152, 0)) return bad(name, "header checksum mismatch");
    uint32_t kind = get32(p + 16), hasf = get32(p + 20);
    uint64_t rows = get64(p + 24), cols = get64(p + 32), idsz = get64(p + 120);
    if (hasf > 1 || kind > 5) return bad(name, "invalid header fields");
    if (rows > (1u << 30) || cols > (1u << 30) || (cols && rows > (UINT64_MAX / 9) / cols))
        return bad(name, "implausible dimensions");
    uint64_t nv = rows * cols;
    if (idsz > size) return bad(name, "truncated (ids)");
    uint64_t pad = (8 - (HDR_SIZE + idsz) % 8) % 8;
    uint64_t need = HDR_SIZE + idsz + pad + nv * 8 + (hasf ? nv : 0);
    if (need != size) return bad(name, size < need ? "truncated" : "trailing bytes");
    char fp[65];
    memcpy(fp, p + 56, 64);
    fp[64] = 0;
    if (expect && *expect && strcmp(expect, fp) != 0) {
        return cs_error_set_at(CS_EFORMAT, name, 0, 0,
                               "stale matrix: it was computed from other inputs or parameters (fingerprint %.12s, "
                               "expected %.12s); rebuild it with `citysys matrix` or `citysys run`",
                               fp, expect);
    }
    const char *ids = (const char *)p + HDR_SIZE;
    if (cs_checksum64(ids, idsz, 0) != get64(p + 128)) return bad(name, "ids checksum mismatch");
    for (uint64_t k = 0; k < pad; k++)
        if (p[HDR_SIZE + idsz + k]) return bad(name, "non-zero padding");
    const unsigned char *vals = p + HDR_SIZE + idsz + pad;
    if (cs_checksum64(vals, nv * 8, 0) != get64(p + 136)) return bad(name, "values checksum mismatch");
    if (hasf && cs_checksum64(vals + nv * 8, nv, 0) != get64(p + 144)) return bad(name, "flags checksum mismatch");
    /* count ids */
    uint64_t nid = 0;
    for (uint64_t i = 0; i < idsz; i++)
        if (ids[i] == 0) nid++;
    if (nid != rows + cols || (idsz && ids[idsz - 1] != 0)) return bad(name, "ids section inconsistent with dimensions");
    cs_matrix *m = cs_calloc(1, sizeof *m);
    if (!m) return CS_ENOMEM;
    m->rows = rows;
    m->cols = cols;
    m->kind = (cs_matrix_kind)kind;
    memcpy(m->unit, p + 40, 15);
    m->unit[15] = 0;
    memcpy(m->fingerprint, fp, 65);
    m->v = cs_malloc(nv ? nv * 8 : 1);
    m->row_ids = cs_calloc(rows ? rows : 1, sizeof(char *));
    m->col_ids = cs_calloc(cols ? cols : 1, sizeof(char *));
    if (hasf) m->flags = cs_malloc(nv ? nv : 1);
    if (!m->v || !m->row_ids || !m->col_ids || (hasf && !m->flags)) {
        cs_matrix_free(m);
        return CS_ENOMEM;
    }
    memcpy(m->v, vals, nv * 8);
    if (hasf) memcpy(m->flags, vals + nv * 8, nv);
    const char *s = ids;
    for (uint64_t i = 0; i < rows + cols; i++) {
        char *d = cs_strdup(s);
        if (!d) {
            cs_matrix_free(m);
            return CS_ENOMEM;
        }
        if (i < rows) m->row_ids[i] = d;
        else m->col_ids[i - rows] = d;
        s += strlen(s) + 1;
    }
    *out = m;
    return CS_OK;
}

cs_status cs_matrix_read(const char *path, const char *expect, cs_matrix **out)
{
    char *data;
    size_t n;
    *out = NULL;
    cs_status st = cs_read_file(path, &data, &n);
    if (st) return st;
    st = cs_matrix_read_mem(data, n, path, expect, out);
    cs_free(data);
    return st;
}

cs_status cs_matrix_select(const cs_matrix *m, const char *const *rids, size_t nr, const char *const *cids,
                           size_t nc, cs_matrix **out)
{
    *out = NULL;
    size_t *ri = cs_mallocarray(nr ? nr : 1, sizeof *ri), *ci = cs_mallocarray(nc ? nc : 1, sizeof *ci);
    cs_status st = (!ri || !ci) ? CS_ENOMEM : CS_OK;
    /* quadratic lookup is fine for the sizes selected by id; hashed lookups live in the city table */
    for (size_t a = 0; !st && a < nr; a++) {
        size_t i = 0;
        while (i < m->rows && strcmp(m->row_ids[i], rids[a])) i++;
        if (i == m->rows) st = cs_error_set(CS_ENOTFOUND, "row id '%s' not in the matrix", rids[a]);
        else ri[a] = i;
    }
    for (size_t b = 0; !st && b < nc; b++) {
        size_t j = 0;
        while (j < m->cols && strcmp(m->col_ids[j], cids[b])) j++;
        if (j == m->cols) st = cs_error_set(CS_ENOTFOUND, "column id '%s' not in the matrix", cids[b]);
        else ci[b] = j;
    }
    cs_matrix *r = NULL;
    if (!st) st = cs_matrix_new(nr, nc, m->kind, &r);
    if (!st) st = cs_matrix_set_ids(r, rids, cids);
    if (!st && m->flags) st = cs_matrix_ensure_flags(r);
    if (!st) {
        memcpy(r->unit, m->unit, sizeof r->unit);
        memcpy(r->fingerprint, m->fingerprint, sizeof r->fingerprint);
        for (size_t a = 0; a < nr; a++)
            for (size_t b = 0; b < nc; b++) {
                r->v[a * nc + b] = m->v[ri[a] * m->cols + ci[b]];
                if (m->flags) r->flags[a * nc + b] = m->flags[ri[a] * m->cols + ci[b]];
            }
        *out = r;
    } else {
        cs_matrix_free(r);
    }
    cs_free(ri);
    cs_free(ci);
    return st;
}

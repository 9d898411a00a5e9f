/*
 * weights.c: spatial weights in CSR form — GAL files, block weights, k
 * nearest neighbours (great circle), travel-time thresholds and polygon
 * contiguity (queen/rook by vertex hashing over OGR geometries).
 * Rules: docs/methods.md, "Spatial weights, spatial autocorrelation and convergence".
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <cpl_error.h>
#include "citysys/alloc.h"
#include "citysys/fileio.h"
#include "citysys/spatial.h"

/* ---- basic structure ---------------------------------------------------- */

void cs_weights_free(cs_weights *w)
{
    if (!w) return;
    if (w->ids)
        for (size_t i = 0; i < w->n; i++) cs_free(w->ids[i]);
    cs_free(w->ids);
    cs_free(w->offset);
    cs_free(w->nbr);
    cs_free(w->w);
    cs_free(w);
}

static cs_weights *weights_alloc(size_t n, size_t nnz)
{
    cs_weights *w = cs_calloc(1, sizeof *w);
    if (!w) return NULL;
    w->n = n;
    w->ids = cs_calloc(n ? n : 1, sizeof *w->ids);
    w->offset = cs_calloc(n + 1, sizeof *w->offset);
    w->nbr = cs_mallocarray(nnz ? nnz : 1, sizeof *w->nbr);
    w->w = cs_mallocarray(nnz ? nnz : 1, sizeof *w->w);
    if (!w->ids || !w->offset || !w->nbr || !w->w) {
        cs_weights_free(w);
        return NULL;
    }
    return w;
}

static cs_status set_ids(cs_weights *w, const char *const *ids)
{
    for (size_t i = 0; i < w->n; i++) {
        char buf[32];
        const char *s = ids ? ids[i] : NULL;
        if (!s) {
            snprintf(buf, sizeof buf, "%zu", i);
            s = buf;
        }
        if (!(w->ids[i] = cs_strdup(s))) return cs_error_set(CS_ENOMEM, "weights: out of memory");
    }
    return CS_OK;
}

cs_status cs_weights_clone(const cs_weights *w, cs_weights **out)
{
    if (!w || !out) return cs_error_set(CS_EINVAL, "weights: NULL argument");
    *out = NULL;
    size_t nnz = w->offset[w->n];
    cs_weights *c = weights_alloc(w->n, nnz);
    if (!c) return cs_error_set(CS_ENOMEM, "weights: out of memory");
    cs_status s = set_ids(c, (const char *const *)w->ids);
    if (s) {
        cs_weights_free(c);
        return s;
    }
    memcpy(c->offset, w->offset, (w->n + 1) * sizeof *c->offset);
    if (nnz) {
        memcpy(c->nbr, w->nbr, nnz * sizeof *c->nbr);
        memcpy(c->w, w->w, nnz * sizeof *c->w);
    }
    c->transform = w->transform;
    *out = c;
    return CS_OK;
}

typedef struct pair {
    uint32_t i, j;
    double w;
} pair;

static int cmp_pair(const void *a, const void *b)
{
    const pair *p = a, *q = b;
    if (p->i != q->i) return p->i < q->i ? -1 : 1;
    if (p->j != q->j) return p->j < q->j ? -1 : 1;
    return 0;
}

/*
 * CSR from pairs (sorted here). dedup: 1 = keep the first of equal pairs, 0 = refuse duplicates.
 * Takes ownership of nothing; pairs is reordered.
 */
static cs_status build_csr(size_t n, const char *const *ids, pair *p, size_t np, int dedup, cs_weights **out)
{
    qsort(p, np, sizeof *p, cmp_pair);
    size_t m = 0;
    for (size_t k = 0; k < np; k++) {
        if (p[k].i == p[k].j)
            return cs_error_set(CS_EINVAL, "weights: unit %u is its own neighbour", p[k].i);
        if (m > 0 && p[m - 1].i == p[k].i && p[m - 1].j == p[k].j) {
            if (!dedup)
                return cs_error_set(CS_EINVAL, "weights: pair (%u, %u) given twice", p[k].i, p[k].j);
            if (p[m - 1].w != p[k].w)
                return cs_error_set(CS_EINVAL, "weights: pair (%u, %u) given both ways with different weights (%g, %g)",
                                    p[k].i, p[k].j, p[m - 1].w, p[k].w);
            continue;
        }
        p[m++] = p[k];
    }
    cs_weights *w = weights_alloc(n, m);
    if (!w) return cs_error_set(CS_ENOMEM, "weights: out of memory");
    cs_status s = set_ids(w, ids);
    if (s) {
        cs_weights_free(w);
        return s;
    }
    for (size_t k = 0; k < m; k++) {
        w->offset[p[k].i + 1]++;
        w->nbr[k] = p[k].j;
        w->w[k] = p[k].w;
    }
    for (size_t i = 0; i < n; i++) w->offset[i + 1] += w->offset[i];
    w->transform = CS_W_BINARY;
    *out = w;
    return CS_OK;
}

cs_status cs_weights_from_pairs(size_t n, const char *const *ids, const uint32_t *from, const uint32_t *to,
                                const double *weight, size_t npairs, int symmetrise, cs_weights **out)
{
    if (!out || (npairs && (!from || !to))) return cs_error_set(CS_EINVAL, "weights: NULL argument");
    *out = NULL;
    if (n >= CS_INVALID_ID) return cs_error_set(CS_EINVAL, "weights: too many units");
    size_t np = symmetrise ? 2 * npairs : npairs;
    pair *p = cs_mallocarray(np ? np : 1, sizeof *p);
    if (!p) return cs_error_set(CS_ENOMEM, "weights: out of memory");
    for (size_t k = 0; k < npairs; k++) {
        if (from[k] >= n || to[k] >= n) {
            cs_free(p);
            return cs_error_set(CS_EINVAL, "weights: pair %zu (%u, %u) out of range (n = %zu)", k, from[k], to[k], n);
        }
        double wk = weight ? weight[k] : 1.0;
        if (!isfinite(wk)) {
            cs_free(p);
            return cs_error_set(CS_EINVAL, "weights: weight of pair %zu is not finite", k);
        }
        p[k] = (pair){from[k], to[k], wk};
        if (symmetrise) p[npairs + k] = (pair){to[k], from[k], wk};
    }
    cs_status s;
    if (symmetrise) {
        /* a pair given in both directions is kept once; exact duplicates in the input are still refused */
        pair *q = cs_mallocarray(npairs ? npairs : 1, sizeof *q);
        if (!q) {
            cs_free(p);
            return cs_error_set(CS_ENOMEM, "weights: out of memory");
        }
        memcpy(q, p, npairs * sizeof *q);
        qsort(q, npairs, sizeof *q, cmp_pair);
        for (size_t k = 1; k < npairs; k++)
            if (q[k].i == q[k - 1].i && q[k].j == q[k - 1].j) {
                cs_free(q);
                cs_free(p);
                return cs_error_set(CS_EINVAL, "weights: pair (%u, %u) given twice", q[k].i, q[k].j);
            }
        cs_free(q);
    }
    s = build_csr(n, ids, p, np, symmetrise, out);
    cs_free(p);
    return s;
}

void cs_weights_row_standardise(cs_weights *w)
{
    if (!w || w->transform == CS_W_ROW) return;
    for (size_t i = 0; i < w->n; i++) {
        double s = 0;
        for (size_t k = w->offset[i]; k < w->offset[i + 1]; k++) s += w->w[k];
        if (s != 0)
            for (size_t k = w->offset[i]; k < w->offset[i + 1]; k++) w->w[k] /= s;
    }
    w->transform = CS_W_ROW;
}

/* weight of j in row i, or NAN when j is not a neighbour (binary search, rows are sorted) */
static double find_w(const cs_weights *w, size_t i, uint32_t j)
{
    size_t lo = w->offset[i], hi = w->offset[i + 1];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->nbr[mid] == j) return w->w[mid];
        if (w->nbr[mid] < j)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NAN;
}

int cs_weights_is_binary_symmetric(const cs_weights *w)
{
    if (!w) return 0;
    for (size_t i = 0; i < w->n; i++)
        for (size_t k = w->offset[i]; k < w->offset[i + 1]; k++) {
            if (w->w[k] != 1.0) return 0;
            if (find_w(w, w->nbr[k], (uint32_t)i) != 1.0) return 0;
        }
    return 1;
}

size_t cs_weights_islands(const cs_weights *w)
{
    size_t c = 0;
    if (!w) return 0;
    for (size_t i = 0; i < w->n; i++) c += w->offset[i + 1] == w->offset[i];
    return c;
}

/* ---- string → index hash ------------------------------------------------ */

typedef struct strmap {
    size_t cap;
    uint32_t *slot;
    const char *const *keys;
} strmap;

static uint64_t fnv(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static cs_status strmap_init(strmap *m, const char *const *keys, size_t n)
{
    m->cap = 16;
    while (m->cap < 2 * n + 2) m->cap *= 2;
    m->keys = keys;
    m->slot = cs_mallocarray(m->cap, sizeof *m->slot);
    if (!m->slot) return cs_error_set(CS_ENOMEM, "weights: out of memory");
    for (size_t i = 0; i < m->cap; i++) m->slot[i] = CS_INVALID_ID;
    return CS_OK;
}

/* index of key (len bytes) or CS_INVALID_ID; with insert >= 0 inserts that index when absent */
static uint32_t strmap_find(strmap *m, const char *key, size_t len, long insert)
{
    size_t h = fnv(key, len) & (m->cap - 1);
    while (m->slot[h] != CS_INVALID_ID) {
        const char *k = m->keys[m->slot[h]];
        if (strlen(k) == len && !memcmp(k, key, len)) return m->slot[h];
        h = (h + 1) & (m->cap - 1);
    }
    if (insert >= 0) m->slot[h] = (uint32_t)insert;
    return CS_INVALID_ID;
}

cs_status cs_weights_reorder(const cs_weights *w, const char *const *ids, size_t n, cs_weights **out)
{
    if (!w || !ids || !out) return cs_error_set(CS_EINVAL, "weights: NULL argument");
    *out = NULL;
    if (n != w->n)
        return cs_error_set(CS_ENOTFOUND, "weights: %zu units in the weights, %zu in the data", w->n, n);
    strmap m;
    cs_status s = strmap_init(&m, (const char *const *)w->ids, w->n);
    if (s) return s;
    for (size_t i = 0; i < w->n; i++) strmap_find(&m, w->ids[i], strlen(w->ids[i]), (long)i);
    uint32_t *old_of_new = cs_mallocarray(n ? n : 1, sizeof *old_of_new);
    uint32_t *new_of_old = cs_mallocarray(n ? n : 1, sizeof *new_of_old);
    pair *p = cs_mallocarray(w->offset[w->n] ? w->offset[w->n] : 1, sizeof *p);
    if (!old_of_new || !new_of_old || !p) {
        s = cs_error_set(CS_ENOMEM, "weights: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) new_of_old[i] = CS_INVALID_ID;
    for (size_t k = 0; k < n; k++) {
        uint32_t o = strmap_find(&m, ids[k], strlen(ids[k]), -1);
        if (o == CS_INVALID_ID) {
            s = cs_error_set(CS_ENOTFOUND, "weights: id '%s' of the data is not in the weights", ids[k]);
            goto done;
        }
        if (new_of_old[o] != CS_INVALID_ID) {
            s = cs_error_set(CS_EINVAL, "weights: id '%s' appears twice in the data", ids[k]);
            goto done;
        }
        old_of_new[k] = o;
        new_of_old[o] = (uint32_t)k;
    }
    size_t np = 0;
    for (size_t i = 0; i < w->n; i++)
        for (size_t k = w->offset[i]; k < w->offset[i + 1]; k++)
            p[np++] = (pair){new_of_old[i], new_of_old[w->nbr[k]], w->w[k]};
    s = build_csr(n, ids, p, np, 0, out);
    if (!s) (*out)->transform = w->transform;
done:
    cs_free(m.slot);
    cs_free(old_of_new);
    cs_free(new_of_old);
    cs_free(p);
    return s;
}

cs_status cs_weights_subset(const cs_weights *w, const uint8_t *keep, cs_weights **out)
{
    if (!w || !keep || !out) return cs_error_set(CS_EINVAL, "weights subset: NULL argument");
    *out = NULL;
    uint32_t *map = cs_mallocarray(w->n ? w->n : 1, sizeof *map);
    const char **ids = cs_mallocarray(w->n ? w->n : 1, sizeof *ids);
    pair *p = cs_mallocarray(w->offset[w->n] ? w->offset[w->n] : 1, sizeof *p);
    cs_status s = CS_OK;
    if (!map || !ids || !p) {
        s = cs_error_set(CS_ENOMEM, "weights subset: out of memory");
        goto done;
    }
    size_t m = 0, np = 0;
    for (size_t i = 0; i < w->n; i++) {
        map[i] = keep[i] ? (uint32_t)m : CS_INVALID_ID;
        if (keep[i]) ids[m++] = w->ids[i];
    }
    for (size_t i = 0; i < w->n; i++) {
        if (map[i] == CS_INVALID_ID) continue;
        for (size_t k = w->offset[i]; k < w->offset[i + 1]; k++)
            if (map[w->nbr[k]] != CS_INVALID_ID) p[np++] = (pair){map[i], map[w->nbr[k]], w->w[k]};
    }
    s = build_csr(m, ids, p, np, 0, out);
    if (!s) (*out)->transform = w->transform;
done:
    cs_free(map);
    cs_free(ids);
    cs_free(p);
    return s;
}

/* ---- GAL ------------------------------------------------------------------ */

typedef struct lexer {
    const char *p, *end, *name;
    const char *line_start;
    long line;
} lexer;

/* Next line: [*b, *e) without the newline; returns 0 at end of data. */
static int next_line(lexer *L, const char **b, const char **e)
{
    if (L->p >= L->end) return 0;
    const char *s = L->p, *q = memchr(s, '\n', (size_t)(L->end - s));
    const char *le = q ? q : L->end;
    L->p = q ? q + 1 : L->end;
    L->line++;
    L->line_start = s;
    if (le > s && le[-1] == '\r') le--;
    *b = s;
    *e = le;
    return 1;
}

/* Split [b, e) into whitespace-separated tokens (at most max); returns the count (max+1 if more). */
static size_t tokens(const char *b, const char *e, const char **tb, size_t *tl, size_t max)
{
    size_t n = 0;
    while (b < e) {
        while (b < e && isspace((unsigned char)*b)) b++;
        if (b >= e) break;
        const char *s = b;
        while (b < e && !isspace((unsigned char)*b)) b++;
        if (n < max) {
            tb[n] = s;
            tl[n] = (size_t)(b - s);
        }
        n++;
        if (n > max) return n;
    }
    return n;
}

static int parse_size(const char *s, size_t len, size_t *out)
{
    if (len == 0 || len > 18) return 0;
    size_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *out = v;
    return 1;
}

#define COL(L, ptr) ((long)((ptr) - (L)->line_start) + 1)

typedef struct gal_unit {
    size_t count;
    long nline;          /* line of the neighbour list */
    const char *nb, *ne; /* its text */
} gal_unit;

cs_status cs_weights_read_gal_mem(const char *data, size_t size, const char *name, cs_weights **out)
{
    if (!out || (!data && size)) return cs_error_set(CS_EINVAL, "GAL: NULL argument");
    *out = NULL;
    if (!name) name = "<memory>";
    lexer L = {.p = data, .end = data + size, .name = name, .line_start = data, .line = 0};
    const char *b, *e, *tb[5];
    size_t tl[5], nt;
    cs_status s = CS_OK;
    /* header: skip leading blank lines */
    do {
        if (!next_line(&L, &b, &e)) return cs_error_set_at(CS_EPARSE, name, L.line ? L.line : 1, 1, "empty GAL file");
        nt = tokens(b, e, tb, tl, 4);
    } while (nt == 0);
    size_t n;
    const char *ntok;
    size_t nlen;
    if (nt == 1) {
        ntok = tb[0];
        nlen = tl[0];
    } else if (nt == 4) {
        /* GeoDa: "0 n shapefile key" (the first field is a flag, the second the count) */
        ntok = tb[1];
        nlen = tl[1];
    } else {
        return cs_error_set_at(CS_EPARSE, name, L.line, COL(&L, tb[0]),
                               "GAL header: expected 'n' or '0 n shapefile key', got %zu fields", nt);
    }
    if (!parse_size(ntok, nlen, &n))
        return cs_error_set_at(CS_EPARSE, name, L.line, COL(&L, ntok), "GAL header: number of units '%.*s' is not a "
                               "non-negative integer", (int)(nlen > 40 ? 40 : nlen), ntok);
    if (n > size / 4 + 1 || n >= CS_INVALID_ID)
        return cs_error_set_at(CS_EPARSE, name, L.line, COL(&L, ntok),
                               "GAL header: %zu units cannot fit in a file of %zu bytes", n, size);
    char **ids = cs_calloc(n ? n : 1, sizeof *ids);
    gal_unit *u = cs_calloc(n ? n : 1, sizeof *u);
    strmap m = {0, NULL, NULL};
    pair *p = NULL;
    uint32_t *mark = NULL;
    if (!ids || !u) {
        s = cs_error_set(CS_ENOMEM, "GAL: out of memory");
        goto done;
    }
    if ((s = strmap_init(&m, (const char *const *)ids, n))) goto done;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        do {
            if (!next_line(&L, &b, &e)) {
                s = cs_error_set_at(CS_EPARSE, name, L.line + 1, 1,
                                    "GAL: unexpected end of file: %zu units announced, %zu found", n, i);
                goto done;
            }
            nt = tokens(b, e, tb, tl, 2);
        } while (nt == 0);
        if (nt != 2) {
            s = cs_error_set_at(CS_EPARSE, name, L.line, COL(&L, tb[0]),
                                "GAL: expected 'id number_of_neighbours' for unit %zu, got %zu fields", i + 1, nt);
            goto done;
        }
        if (!parse_size(tb[1], tl[1], &u[i].count)) {
            s = cs_error_set_at(CS_EPARSE, name, L.line, COL(&L, tb[1]),
                                "GAL: number of neighbours '%.*s' is not a non-negative integer",
                                (int)(tl[1] > 40 ? 40 : tl[1]), tb[1]);
            goto done;
        }
        if (u[i].count >= n && u[i].count > 0) {
            s = cs_error_set_at(CS_EPARSE, name, L.line, COL(&L, tb[1]),
                                "GAL: unit '%.*s' has %zu neighbours but there are only %zu units",
                                (int)(tl[0] > 40 ? 40 : tl[0]), tb[0], u[i].count, n);
            goto done;
        }
        if (!(ids[i] = cs_strndup(tb[0], tl[0]))) {
            s = cs_error_set(CS_ENOMEM, "GAL: out of memory");
            goto done;
        }
        if (strmap_find(&m, tb[0], tl[0], (long)i) != CS_INVALID_ID) {
            s = cs_error_set_at(CS_EPARSE, name, L.line, COL(&L, tb[0]), "GAL: unit id '%s' appears twice", ids[i]);
            goto done;
        }
        /* neighbour line (may be empty, or absent at the end of the file when count is 0) */
        if (!next_line(&L, &b, &e)) {
            if (u[i].count == 0) {
                u[i].nb = u[i].ne = L.end;
                u[i].nline = L.line + 1;
                continue;
            }
            s = cs_error_set_at(CS_EPARSE, name, L.line + 1, 1,
                                "GAL: unexpected end of file: neighbour list of unit '%s' missing", ids[i]);
            goto done;
        }
        u[i].nb = b;
        u[i].ne = e;
        u[i].nline = L.line;
        total += u[i].count;
    }
    while (next_line(&L, &b, &e))
        if (tokens(b, e, tb, tl, 1)) {
            s = cs_error_set_at(CS_EPARSE, name, L.line, COL(&L, tb[0]),
                                "GAL: extra content after the %zu announced units", n);
            goto done;
        }
    p = cs_mallocarray(total ? total : 1, sizeof *p);
    mark = cs_calloc(n ? n : 1, sizeof *mark); /* mark[j] = i + 1 once j is listed for unit i */
    if (!p || !mark) {
        s = cs_error_set(CS_ENOMEM, "GAL: out of memory");
        goto done;
    }
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        const char *q = u[i].nb;
        size_t c = 0;
        while (q < u[i].ne) {
            while (q < u[i].ne && isspace((unsigned char)*q)) q++;
            if (q >= u[i].ne) break;
            const char *t = q;
            while (q < u[i].ne && !isspace((unsigned char)*q)) q++;
            long col = (long)(t - u[i].nb) + 1;
            if (c >= u[i].count) {
                s = cs_error_set_at(CS_EPARSE, name, u[i].nline, col,
                                    "GAL: unit '%s' announces %zu neighbours but lists more", ids[i], u[i].count);
                goto done;
            }
            uint32_t j = strmap_find(&m, t, (size_t)(q - t), -1);
            if (j == CS_INVALID_ID) {
                s = cs_error_set_at(CS_EPARSE, name, u[i].nline, col, "GAL: neighbour '%.*s' of unit '%s' is not a unit id",
                                    (int)((q - t) > 40 ? 40 : (q - t)), t, ids[i]);
                goto done;
            }
            if (j == i) {
                s = cs_error_set_at(CS_EPARSE, name, u[i].nline, col, "GAL: unit '%s' lists itself as a neighbour", ids[i]);
                goto done;
            }
            if (mark[j] == i + 1) {
                s = cs_error_set_at(CS_EPARSE, name, u[i].nline, col, "GAL: unit '%s' lists neighbour '%s' twice",
                                    ids[i], ids[j]);
                goto done;
            }
            mark[j] = (uint32_t)(i + 1);
            p[np++] = (pair){(uint32_t)i, j, 1.0};
            c++;
        }
        if (c != u[i].count) {
            s = cs_error_set_at(CS_EPARSE, name, u[i].nline, 1, "GAL: unit '%s' announces %zu neighbours but lists %zu",
                                ids[i], u[i].count, c);
            goto done;
        }
    }
    s = build_csr(n, (const char *const *)ids, p, np, 0, out);
done:
    if (ids)
        for (size_t i = 0; i < n; i++) cs_free(ids[i]);
    cs_free(ids);
    cs_free(u);
    cs_free(m.slot);
    cs_free(p);
    cs_free(mark);
    return s;
}

cs_status cs_weights_read_gal(const char *path, cs_weights **out)
{
    if (!path || !out) return cs_error_set(CS_EINVAL, "GAL: NULL argument");
    *out = NULL;
    char *data;
    size_t size;
    cs_status s = cs_read_file(path, &data, &size);
    if (s) return s;
    s = cs_weights_read_gal_mem(data, size, path, out);
    cs_free(data);
    return s;
}

cs_status cs_weights_write_gal(const cs_weights *w, const char *path)
{
    if (!w || !path) return cs_error_set(CS_EINVAL, "GAL: NULL argument");
    for (size_t i = 0; i < w->n; i++)
        if (!w->ids[i][0] || strpbrk(w->ids[i], " \t\r\n"))
            return cs_error_set(CS_EINVAL, "GAL: id '%s' is empty or contains white space", w->ids[i]);
    cs_atomic_file *f;
    cs_status s = cs_atomic_open(path, &f);
    if (s) return s;
    FILE *fp = cs_atomic_stream(f);
    fprintf(fp, "%zu\n", w->n);
    for (size_t i = 0; i < w->n; i++) {
        fprintf(fp, "%s %zu\n", w->ids[i], w->offset[i + 1] - w->offset[i]);
        for (size_t k = w->offset[i]; k < w->offset[i + 1]; k++)
            fprintf(fp, "%s%s", k > w->offset[i] ? " " : "", w->ids[w->nbr[k]]);
        fputc('\n', fp);
    }
    return cs_atomic_commit(f);
}

/* ---- block weights -------------------------------------------------------- */

cs_status cs_weights_blocks(const uint32_t *group, size_t n, const char *const *ids, cs_weights **out)
{
    if (!group || !out) return cs_error_set(CS_EINVAL, "block weights: NULL argument");
    *out = NULL;
    if (n >= CS_INVALID_ID) return cs_error_set(CS_EINVAL, "block weights: too many units");
    /* members of each group in index order: sort (group, index) */
    pair *g = cs_mallocarray(n ? n : 1, sizeof *g);
    if (!g) return cs_error_set(CS_ENOMEM, "block weights: out of memory");
    for (size_t i = 0; i < n; i++) g[i] = (pair){group[i], (uint32_t)i, 0};
    qsort(g, n, sizeof *g, cmp_pair);
    size_t np = 0;
    for (size_t a = 0, b; a < n; a = b) {
        for (b = a; b < n && g[b].i == g[a].i; b++) {}
        size_t c = b - a;
        np += c * (c - 1);
    }
    pair *p = cs_mallocarray(np ? np : 1, sizeof *p);
    if (!p) {
        cs_free(g);
        return cs_error_set(CS_ENOMEM, "block weights: out of memory");
    }
    size_t k = 0;
    for (size_t a = 0, b; a < n; a = b) {
        for (b = a; b < n && g[b].i == g[a].i; b++) {}
        for (size_t x = a; x < b; x++)
            for (size_t y = a; y < b; y++)
                if (x != y) p[k++] = (pair){g[x].j, g[y].j, 1.0};
    }
    cs_free(g);
    cs_status s = build_csr(n, ids, p, k, 0, out);
    cs_free(p);
    return s;
}

/* ---- k nearest neighbours --------------------------------------------------- */

#define EARTH_RADIUS_M 6371008.8

cs_status cs_weights_knn(const double *lon_deg, const double *lat_deg, size_t n, size_t k, const char *const *ids,
                         cs_weights **out)
{
    if (!lon_deg || !lat_deg || !out) return cs_error_set(CS_EINVAL, "knn weights: NULL argument");
    *out = NULL;
    if (k == 0 || k >= n) return cs_error_set(CS_EINVAL, "knn weights: need 1 <= k < n (k = %zu, n = %zu)", k, n);
    if (n >= CS_INVALID_ID) return cs_error_set(CS_EINVAL, "knn weights: too many units");
    for (size_t i = 0; i < n; i++)
        if (!isfinite(lon_deg[i]) || !isfinite(lat_deg[i]) || fabs(lat_deg[i]) > 90)
            return cs_error_set(CS_EINVAL, "knn weights: coordinates of unit %zu (%g, %g) are not valid", i, lon_deg[i],
                                lat_deg[i]);
    /* unit vectors: the squared chord |p_i − p_j|² = 2 − 2 cos θ is monotone in the great-circle angle θ,
       so ranking by it ranks by haversine distance, at 3 multiply-adds per pair */
    double *ux = cs_mallocarray(n, sizeof *ux), *uy = cs_mallocarray(n, sizeof *uy), *uz = cs_mallocarray(n, sizeof *uz);
    pair *p = cs_mallocarray(n * k, sizeof *p);
    double *dist = cs_mallocarray(n * k, sizeof *dist);
    cs_status s = CS_OK;
    if (!ux || !uy || !uz || !p || !dist) {
        s = cs_error_set(CS_ENOMEM, "knn weights: out of memory");
        goto done;
    }
    const double rad = M_PI / 180.0;
    for (size_t i = 0; i < n; i++) {
        double phi = lat_deg[i] * rad, lam = lon_deg[i] * rad;
        ux[i] = cos(phi) * cos(lam);
        uy[i] = cos(phi) * sin(lam);
        uz[i] = sin(phi);
    }
    /* rows are independent: the parallel loop gives the same result as the serial one */
#pragma omp parallel for schedule(dynamic, 64)
    for (size_t i = 0; i < n; i++) {
        double *d = dist + i * k;
        pair *row = p + i * k;
        size_t m = 0;
        for (size_t j = 0; j < n; j++) {
            if (j == i) continue;
            double dx = ux[j] - ux[i], dy = uy[j] - uy[i], dz = uz[j] - uz[i];
            double h = dx * dx + dy * dy + dz * dz;
            if (m == k && !(h < d[k - 1])) continue; /* ties keep the earlier (smaller) index */
            size_t pos = m < k ? m++ : k - 1;
            while (pos > 0 && d[pos - 1] > h) {
                d[pos] = d[pos - 1];
                row[pos] = row[pos - 1];
                pos--;
            }
            d[pos] = h;
            row[pos] = (pair){(uint32_t)i, (uint32_t)j, 1.0};
        }
    }
    s = build_csr(n, ids, p, n * k, 0, out);
done:
    cs_free(ux);
    cs_free(uy);
    cs_free(uz);
    cs_free(p);
    cs_free(dist);
    return s;
}

/* ---- travel-time threshold -------------------------------------------------- */

cs_status cs_weights_threshold(const cs_matrix *m, double threshold, cs_threshold_sym sym, cs_weights **out)
{
    if (!m || !out) return cs_error_set(CS_EINVAL, "threshold weights: NULL argument");
    *out = NULL;
    if (m->rows != m->cols)
        return cs_error_set(CS_EINVAL, "threshold weights: matrix is %zu x %zu, not square", m->rows, m->cols);
    if (isnan(threshold)) return cs_error_set(CS_EINVAL, "threshold weights: threshold is NaN");
    if (sym != CS_THRESH_DIRECTED && sym != CS_THRESH_EITHER && sym != CS_THRESH_BOTH)
        return cs_error_set(CS_EINVAL, "threshold weights: unknown symmetry rule %d", (int)sym);
    size_t n = m->rows;
    if (n >= CS_INVALID_ID) return cs_error_set(CS_EINVAL, "threshold weights: too many units");
    size_t np = 0;
    for (int pass = 0; pass < 2; pass++) {
        pair *p = NULL;
        if (pass == 1 && !(p = cs_mallocarray(np ? np : 1, sizeof *p)))
            return cs_error_set(CS_ENOMEM, "threshold weights: out of memory");
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                if (i == j) continue;
                int a = m->v[i * n + j] <= threshold, b = m->v[j * n + i] <= threshold; /* NaN compares false */
                int e = sym == CS_THRESH_DIRECTED ? a : sym == CS_THRESH_EITHER ? (a || b) : (a && b);
                if (!e) continue;
                if (p) p[k] = (pair){(uint32_t)i, (uint32_t)j, 1.0};
                k++;
            }
        if (pass == 0) {
            np = k;
            continue;
        }
        cs_status s = build_csr(n, (const char *const *)m->row_ids, p, k, 0, out);
        cs_free(p);
        return s;
    }
    return CS_OK;
}

/* ---- contiguity ------------------------------------------------------------- */

typedef struct vkey {
    double x1, y1, x2, y2; /* vertex (x1, y1) or edge (x1,y1)-(x2,y2) with (x1,y1) <= (x2,y2) */
    uint32_t poly;
} vkey;

static int cmp_double_bits(double a, double b)
{
    /* exact coordinates: -0.0 and 0.0 are the same vertex */
    return (a > b) - (a < b);
}

static int cmp_vkey(const void *a, const void *b)
{
    const vkey *p = a, *q = b;
    int c;
    if ((c = cmp_double_bits(p->x1, q->x1))) return c;
    if ((c = cmp_double_bits(p->y1, q->y1))) return c;
    if ((c = cmp_double_bits(p->x2, q->x2))) return c;
    if ((c = cmp_double_bits(p->y2, q->y2))) return c;
    return (p->poly > q->poly) - (p->poly < q->poly);
}

typedef struct vbuf {
    vkey *v;
    size_t n, cap;
} vbuf;

static cs_status vbuf_push(vbuf *b, vkey k)
{
    if (b->n == b->cap) {
        size_t nc = b->cap ? 2 * b->cap : 1024;
        vkey *nv = cs_reallocarray(b->v, nc, sizeof *nv);
        if (!nv) return cs_error_set(CS_ENOMEM, "contiguity: out of memory");
        b->v = nv;
        b->cap = nc;
    }
    b->v[b->n++] = k;
    return CS_OK;
}

/* Add the vertices (queen) or edges (rook) of every ring of a polygon/multipolygon. */
static cs_status add_geometry(OGRGeometryH g, uint32_t poly, cs_contiguity rule, vbuf *b, int depth)
{
    if (depth > 8) return cs_error_set(CS_EPARSE, "contiguity: geometry nested too deeply");
    int nsub = OGR_G_GetGeometryCount(g);
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (depth == 0 && t != wkbPolygon && t != wkbMultiPolygon)
        return cs_error_set(CS_EPARSE, "contiguity: geometry is a %s, not a polygon or multipolygon",
                            OGRGeometryTypeToName(t));
    if (t == wkbPolygon || t == wkbMultiPolygon) {
        for (int k = 0; k < nsub; k++) {
            cs_status s = add_geometry(OGR_G_GetGeometryRef(g, k), poly, rule, b, depth + 1);
            if (s) return s;
        }
        return CS_OK;
    }
    /* a ring */
    int np = OGR_G_GetPointCount(g);
    for (int k = 0; k < np; k++) {
        double x = OGR_G_GetX(g, k), y = OGR_G_GetY(g, k);
        if (!isfinite(x) || !isfinite(y)) return cs_error_set(CS_EPARSE, "contiguity: vertex %d is not finite", k);
        vkey key = {x, y, 0, 0, poly};
        if (rule == CS_CONTIG_ROOK) {
            if (k + 1 >= np) break;
            double x2 = OGR_G_GetX(g, k + 1), y2 = OGR_G_GetY(g, k + 1);
            if (x2 == x && y2 == y) continue; /* repeated vertex, no edge */
            if (x2 < x || (x2 == x && y2 < y))
                key = (vkey){x2, y2, x, y, poly};
            else
                key = (vkey){x, y, x2, y2, poly};
        }
        cs_status s = vbuf_push(b, key);
        if (s) return s;
    }
    return CS_OK;
}

static cs_status contiguity_finish(vbuf *b, size_t n, const char *const *ids, cs_weights **out)
{
    qsort(b->v, b->n, sizeof *b->v, cmp_vkey);
    pair *p = NULL;
    size_t np = 0, cap = 0;
    for (size_t a = 0, e; a < b->n; a = e) {
        for (e = a + 1; e < b->n && !cmp_double_bits(b->v[e].x1, b->v[a].x1) && !cmp_double_bits(b->v[e].y1, b->v[a].y1) &&
                        !cmp_double_bits(b->v[e].x2, b->v[a].x2) && !cmp_double_bits(b->v[e].y2, b->v[a].y2);
             e++) {}
        for (size_t x = a; x < e; x++)
            for (size_t y = a; y < e; y++) {
                if (b->v[x].poly == b->v[y].poly) continue;
                if (np == cap) {
                    size_t nc = cap ? 2 * cap : 1024;
                    pair *q = cs_reallocarray(p, nc, sizeof *q);
                    if (!q) {
                        cs_free(p);
                        return cs_error_set(CS_ENOMEM, "contiguity: out of memory");
                    }
                    p = q;
                    cap = nc;
                }
                p[np++] = (pair){b->v[x].poly, b->v[y].poly, 1.0};
            }
    }
    cs_status s = build_csr(n, ids, p ? p : (pair[1]){{0, 0, 0}}, np, 1, out);
    cs_free(p);
    return s;
}

cs_status cs_weights_contiguity_wkt(const char *const *wkt, size_t n, const char *const *ids, cs_contiguity rule,
                                    cs_weights **out)
{
    if (!wkt || !out) return cs_error_set(CS_EINVAL, "contiguity: NULL argument");
    *out = NULL;
    if (rule != CS_CONTIG_QUEEN && rule != CS_CONTIG_ROOK) return cs_error_set(CS_EINVAL, "contiguity: unknown rule");
    if (n >= CS_INVALID_ID) return cs_error_set(CS_EINVAL, "contiguity: too many units");
    vbuf b = {NULL, 0, 0};
    cs_status s = CS_OK;
    for (size_t i = 0; i < n; i++) {
        OGRGeometryH g = NULL;
        char *txt = (char *)wkt[i];
        if (!txt || OGR_G_CreateFromWkt(&txt, NULL, &g) != OGRERR_NONE || !g) {
            s = cs_error_set(CS_EPARSE, "contiguity: WKT of unit %zu cannot be parsed%s%s", i,
                             CPLGetLastErrorMsg()[0] ? ": " : "", CPLGetLastErrorMsg());
            goto done;
        }
        s = add_geometry(g, (uint32_t)i, rule, &b, 0);
        OGR_G_DestroyGeometry(g);
        if (s) {
            cs_error_prefix("unit %zu: ", i);
            goto done;
        }
    }
    s = contiguity_finish(&b, n, ids, out);
done:
    cs_free(b.v);
    return s;
}

cs_status cs_weights_contiguity_ogr(const char *path, const char *layer, const char *id_field, cs_contiguity rule,
                                    cs_weights **out)
{
    if (!path || !out) return cs_error_set(CS_EINVAL, "contiguity: NULL argument");
    *out = NULL;
    if (rule != CS_CONTIG_QUEEN && rule != CS_CONTIG_ROOK) return cs_error_set(CS_EINVAL, "contiguity: unknown rule");
    GDALAllRegister();
    CPLErrorReset();
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) return cs_error_set_at(CS_EIO, path, 0, 0, "cannot open vector source: %s", CPLGetLastErrorMsg());
    OGRLayerH lyr = layer ? GDALDatasetGetLayerByName(ds, layer) : GDALDatasetGetLayer(ds, 0);
    vbuf b = {NULL, 0, 0};
    char **ids = NULL;
    size_t n = 0, cap = 0;
    cs_status s = CS_OK;
    if (!lyr) {
        s = cs_error_set_at(CS_ENOTFOUND, path, 0, 0, "layer '%s' not found", layer ? layer : "(first)");
        goto done;
    }
    int fidx = -1;
    if (id_field) {
        fidx = OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(lyr), id_field);
        if (fidx < 0) {
            s = cs_error_set_at(CS_ENOTFOUND, path, 0, 0, "id field '%s' not found in layer '%s'", id_field,
                                OGR_L_GetName(lyr));
            goto done;
        }
    }
    OGR_L_ResetReading(lyr);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(lyr))) {
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 256;
            char **q = cs_reallocarray(ids, nc, sizeof *q);
            if (!q) {
                OGR_F_Destroy(f);
                s = cs_error_set(CS_ENOMEM, "contiguity: out of memory");
                goto done;
            }
            ids = q;
            cap = nc;
        }
        ids[n] = fidx >= 0 ? cs_strdup(OGR_F_GetFieldAsString(f, fidx)) : cs_asprintf("%zu", n);
        if (!ids[n]) {
            OGR_F_Destroy(f);
            s = cs_error_set(CS_ENOMEM, "contiguity: out of memory");
            goto done;
        }
        n++;
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        if (!g)
            s = cs_error_set(CS_EPARSE, "contiguity: feature has no geometry");
        else
            s = add_geometry(g, (uint32_t)(n - 1), rule, &b, 0);
        OGR_F_Destroy(f);
        if (s) {
            cs_error_set_object("layer %s, feature %zu", OGR_L_GetName(lyr), n - 1);
            goto done;
        }
    }
    s = contiguity_finish(&b, n, (const char *const *)ids, out);
done:
    if (ids)
        for (size_t i = 0; i < n; i++) cs_free(ids[i]);
    cs_free(ids);
    cs_free(b.v);
    GDALClose(ds);
    return s;
}

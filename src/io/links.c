/* links.c: city-to-city link tables (any mode) from CSV or OGR, ends resolved to city indices. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "io/io_internal.h"

enum { L_ID, L_FROM, L_TO, L_MODE, L_TIME, L_DIST, L_COST, L_CAP, L_FRIC, L_DIR, L_N };
static const char *const lname[L_N] = {"id",       "from",     "to",       "mode",     "time",
                                       "distance", "cost",     "capacity", "friction", "directed"};
static const char *const c_id[] = {"id", "link_id", "edge_id", NULL};
static const char *const c_from[] = {"from", "from_id", "origin", "origin_id", "source", "src", "o", NULL};
static const char *const c_to[] = {"to", "to_id", "destination", "destination_id", "dest", "target", "d", NULL};
static const char *const c_mode[] = {"mode", "link_mode", "type", NULL};
static const char *const c_time[] = {"time", "duration", "travel_time", "time_min", "time_s", "time_h", NULL};
static const char *const c_dist[] = {"distance", "distance_m", "dist", "length", "length_m", NULL};
static const char *const c_cost[] = {"cost", "tariff", "price", NULL};
static const char *const c_cap[] = {"capacity", "cap", NULL};
static const char *const c_fric[] = {"friction", "friction_factor", NULL};
static const char *const c_dir[] = {"directed", "oneway", "one_way", NULL};
static const char *const *const lcand[L_N] = {c_id, c_from, c_to, c_mode, c_time, c_dist, c_cost, c_cap, c_fric, c_dir};

static const char *lgiven(const cs_link_fields *f, int k)
{
    if (!f) return NULL;
    const char *v[L_N] = {f->id,   f->from, f->to,       f->mode,     f->time,
                          f->distance, f->cost, f->capacity, f->friction, f->directed};
    return v[k] && *v[k] ? v[k] : NULL;
}

static cs_status missing(const io_tab *t, io_report *rep, const char *what, const char *given,
                         const char *const *cand)
{
    char *cols = io_tab_columns_list(t);
    if (!cols) return CS_ENOMEM;
    const char *one[2] = {given, NULL};
    long near = io_tab_nearest(t, given ? one : cand);
    char hint[300] = "";
    if (near >= 0) snprintf(hint, sizeof hint, "; did you mean '%s'?", t->names[near]);
    char obj[300] = "";
    if (!t->is_csv) snprintf(obj, sizeof obj, "layer %s", t->layer ? t->layer : "?");
    cs_status st;
    if (given)
        st = io_report_add(rep, CS_SEV_ERROR, t->path, t->is_csv ? t->header_line : 0, 0, obj,
                           "column '%s' (given for %s) not found; columns present: %s%s", given, what, cols, hint);
    else
        st = io_report_add(rep, CS_SEV_ERROR, t->path, t->is_csv ? t->header_line : 0, 0, obj,
                           "no '%s' column (looked for %s, ...); columns present: %s%s", what, cand[0], cols, hint);
    cs_free(cols);
    return st;
}

static int parse_bool(const char *s, uint8_t *out)
{
    static const char *const yes[] = {"1", "true", "t", "yes", "y", NULL}, *const no[] = {"0", "false", "f", "no",
                                                                                          "n", "", NULL};
    while (*s == ' ') s++;
    for (size_t i = 0; yes[i]; i++)
        if (io_strieq(s, yes[i])) return *out = 1, 0;
    for (size_t i = 0; no[i]; i++)
        if (io_strieq(s, no[i])) return *out = 0, 0;
    return -1;
}

static cs_status num(const io_tab *t, io_report *rep, size_t r, long c, double scale, double *out)
{
    *out = NAN;
    if (c < 0) return CS_OK;
    double v;
    int k = io_parse_double(io_cell(t, r, (size_t)c), &v);
    if (k == 1) return CS_OK;
    if (k < 0 || isnan(v))
        return io_tab_report(t, rep, CS_SEV_ERROR, r, c, "%s: expected a number, got '%.60s'", t->names[c],
                             io_cell(t, r, (size_t)c));
    if (v < 0)
        return io_tab_report(t, rep, CS_SEV_ERROR, r, c, "%s: must not be negative, got %.60s", t->names[c],
                             io_cell(t, r, (size_t)c));
    *out = v * scale;
    return CS_OK;
}

static cs_status links_from_tab(const io_tab *t, const cs_cities *cities, const cs_link_fields *f, io_report *rep,
                                cs_links **out)
{
    *out = NULL;
    cs_status st;
    long col[L_N];
    for (int k = 0; k < L_N; k++) {
        col[k] = -1;
        const char *g = lgiven(f, k);
        if (g) {
            if ((col[k] = io_tab_col(t, g)) < 0 && (st = missing(t, rep, lname[k], g, lcand[k]))) return st;
            continue;
        }
        for (size_t j = 0; lcand[k][j] && col[k] < 0; j++) {
            long c = io_tab_col(t, lcand[k][j]);
            int taken = 0;
            for (int q = 0; q < k; q++) taken |= col[q] == c;
            if (c >= 0 && !taken) col[k] = c;
        }
    }
    for (int k = L_FROM; k <= L_TO; k++)
        if (col[k] < 0 && !lgiven(f, k) && (st = missing(t, rep, lname[k], NULL, lcand[k]))) return st;
    if (col[L_FROM] < 0 || col[L_TO] < 0) return CS_EPARSE;
    /* time unit: given, else from the column name's suffix (_s, _min, _h), else minutes */
    double tu = 60.0;
    if (f && f->time_unit_s > 0) tu = f->time_unit_s;
    else if (col[L_TIME] >= 0) {
        const char *nm = t->names[col[L_TIME]];
        size_t L = strlen(nm);
        if (L > 2 && io_strieq(nm + L - 2, "_s")) tu = 1.0;
        else if (L > 2 && io_strieq(nm + L - 2, "_h")) tu = 3600.0;
    }
    if (f && f->time_unit_s < 0) return cs_error_set(CS_EINVAL, "time_unit_s must be positive");
    size_t n = t->nrows;
    cs_links *l;
    if ((st = cs_links_new(n, &l))) return st;
    io_strmap ids = {0};
    if ((st = io_strmap_init(&ids, n))) goto fail;
    for (size_t r = 0; r < n; r++) {
        l->n = r + 1;
        l->id[r] = col[L_ID] >= 0 ? cs_strdup(io_cell(t, r, (size_t)col[L_ID])) : cs_asprintf("%zu", r + 1);
        if (!l->id[r]) goto oom;
        if (col[L_ID] >= 0) {
            if (!l->id[r][0]) {
                if ((st = io_tab_report(t, rep, CS_SEV_ERROR, r, col[L_ID], "%s: missing id", t->names[col[L_ID]])))
                    goto fail;
            } else {
                uint32_t first = io_strmap_put(&ids, l->id[r], (uint32_t)r);
                if (first != r) {
                    char w[64];
                    io_tab_where(t, first, w, sizeof w);
                    if ((st = io_tab_report(t, rep, CS_SEV_ERROR, r, col[L_ID], "%s: duplicate id '%.100s' (first on %s)",
                                            t->names[col[L_ID]], l->id[r], w)))
                        goto fail;
                }
            }
        }
        for (int k = L_FROM; k <= L_TO; k++) {
            const char *s = io_cell(t, r, (size_t)col[k]);
            uint32_t ci = cs_cities_find(cities, s);
            if (ci == CS_INVALID_ID) {
                /* ids are compared as written, but tolerate surrounding blanks */
                char buf[256];
                const char *p = s;
                while (*p == ' ') p++;
                snprintf(buf, sizeof buf, "%s", p);
                size_t L = strlen(buf);
                while (L && buf[L - 1] == ' ') buf[--L] = 0;
                ci = cs_cities_find(cities, buf);
            }
            if (ci == CS_INVALID_ID &&
                (st = io_tab_report(t, rep, CS_SEV_ERROR, r, col[k], "%s: %s city '%.100s'", t->names[col[k]],
                                    *s ? "unknown" : "missing", s)))
                goto fail;
            (k == L_FROM ? l->from : l->to)[r] = ci;
        }
        l->mode[r] = CS_MODE_ROAD;
        if (col[L_MODE] >= 0) {
            const char *s = io_cell(t, r, (size_t)col[L_MODE]);
            if (*s && cs_mode_parse(s, &l->mode[r]) != CS_OK &&
                (st = io_tab_report(t, rep, CS_SEV_ERROR, r, col[L_MODE], "%s: %s", t->names[col[L_MODE]],
                                    cs_error_last()->message)))
                goto fail;
        }
        if ((st = num(t, rep, r, col[L_TIME], tu, &l->time_s[r]))) goto fail;
        if ((st = num(t, rep, r, col[L_DIST], 1.0, &l->distance_m[r]))) goto fail;
        if ((st = num(t, rep, r, col[L_COST], 1.0, &l->cost[r]))) goto fail;
        if ((st = num(t, rep, r, col[L_CAP], 1.0, &l->capacity[r]))) goto fail;
        if ((st = num(t, rep, r, col[L_FRIC], 1.0, &l->friction[r]))) goto fail;
        if (isnan(l->friction[r])) l->friction[r] = 1.0;
        l->directed[r] = 0;
        if (col[L_DIR] >= 0 && parse_bool(io_cell(t, r, (size_t)col[L_DIR]), &l->directed[r]) &&
            (st = io_tab_report(t, rep, CS_SEV_ERROR, r, col[L_DIR], "%s: expected true/false or 1/0, got '%.40s'",
                                t->names[col[L_DIR]], io_cell(t, r, (size_t)col[L_DIR]))))
            goto fail;
    }
    io_strmap_free(&ids);
    /* extras */
    for (size_t k = 0; k < t->ncols; k++) {
        int used = 0;
        for (int q = 0; q < L_N; q++) used |= col[q] == (long)k;
        if (used) continue;
        size_t e = l->extra.ncols;
        char **nn = cs_reallocarray(l->extra.names, e + 1, sizeof *nn);
        if (!nn) goto oom;
        l->extra.names = nn;
        char ***nv = cs_reallocarray(l->extra.values, e + 1, sizeof *nv);
        if (!nv) goto oom;
        l->extra.values = nv;
        char **v = cs_calloc(n ? n : 1, sizeof *v);
        char *name = cs_strdup(t->names[k]);
        int ok = v && name;
        for (size_t r = 0; r < n && ok; r++) ok = (v[r] = cs_strdup(io_cell(t, r, k))) != NULL;
        if (!ok) {
            for (size_t r = 0; v && r < n; r++) cs_free(v[r]);
            cs_free(v);
            cs_free(name);
            goto oom;
        }
        l->extra.names[e] = name;
        l->extra.values[e] = v;
        l->extra.ncols = e + 1;
    }
    *out = l;
    return CS_OK;
oom:
    st = cs_error_set(CS_ENOMEM, "out of memory while reading links");
fail:
    io_strmap_free(&ids);
    cs_links_free(l);
    return st;
}

cs_status cs_links_read(const char *path, const cs_cities *cities, const cs_link_fields *fields, cs_diag *diag,
                        cs_links **out)
{
    if (!out || !cities) return cs_error_set(CS_EINVAL, "cs_links_read: missing cities or out");
    *out = NULL;
    io_report rep;
    io_report_init(&rep, diag, fields && fields->max_errors > 0 ? fields->max_errors : 20);
    io_tab *t = NULL;
    cs_links *l = NULL;
    cs_status st = io_tab_read(path, fields ? fields->layer : NULL, NULL, &rep, &t);
    if (!st) st = links_from_tab(t, cities, fields, &rep, &l);
    io_tab_free(t);
    if (st == CS_OK || st == CS_EPARSE) {
        cs_status f = io_report_finish(&rep);
        if (f) st = f;
    }
    if (st) {
        cs_links_free(l);
        return st;
    }
    *out = l;
    return CS_OK;
}

/* ---- writing ---- */
cs_status cs_links_to_table(const cs_links *l, const cs_cities *cities, cs_table **out)
{
    *out = NULL;
    if (!l || !cities) return cs_error_set(CS_EINVAL, "cs_links_to_table: missing links or cities");
    size_t n = l->n;
    for (size_t i = 0; i < n; i++)
        if (l->from[i] >= cities->n || l->to[i] >= cities->n)
            return cs_error_set(CS_EINVAL, "link %zu refers to city index out of range", i);
    cs_table *t = NULL;
    const char **from = cs_calloc(n + 1, sizeof *from), **to = cs_calloc(n + 1, sizeof *to),
               **mode = cs_calloc(n + 1, sizeof *mode);
    int64_t *dir = cs_calloc(n + 1, sizeof *dir);
    size_t *off = cs_calloc(n + 1, sizeof *off);
    double *x = cs_calloc(2 * n + 1, sizeof *x), *y = cs_calloc(2 * n + 1, sizeof *y);
    cs_status st = (from && to && mode && dir && off && x && y) ? cs_table_new(n, &t) : CS_ENOMEM;
    if (!st) {
        for (size_t i = 0; i < n; i++) {
            from[i] = cities->id[l->from[i]];
            to[i] = cities->id[l->to[i]];
            mode[i] = cs_mode_name(l->mode[i]);
            dir[i] = l->directed[i];
            off[i] = 2 * i;
            x[2 * i] = cities->lon[l->from[i]];
            y[2 * i] = cities->lat[l->from[i]];
            x[2 * i + 1] = cities->lon[l->to[i]];
            y[2 * i + 1] = cities->lat[l->to[i]];
        }
        off[n] = 2 * n;
    }
    if (!st) st = cs_table_add_string(t, "id", (const char *const *)l->id);
    if (!st) st = cs_table_add_string(t, "from", from);
    if (!st) st = cs_table_add_string(t, "to", to);
    if (!st) st = cs_table_add_string(t, "mode", mode);
    if (!st) st = cs_table_add_real(t, "time_s", l->time_s);
    if (!st) st = cs_table_add_real(t, "distance_m", l->distance_m);
    if (!st) st = cs_table_add_real(t, "cost", l->cost);
    if (!st) st = cs_table_add_real(t, "capacity", l->capacity);
    if (!st) st = cs_table_add_real(t, "friction", l->friction);
    if (!st) st = cs_table_add_integer(t, "directed", dir, NULL);
    for (size_t k = 0; k < l->extra.ncols && !st; k++) {
        const char *name = l->extra.names[k];
        char *alt = NULL;
        for (int q = 0; q < L_N && !alt; q++)
            if (io_strieq(name, lname[q]) || io_strieq(name, "time_s") || io_strieq(name, "distance_m"))
                alt = cs_asprintf("%s_2", name);
        st = cs_table_add_text(t, alt ? alt : name, (const char *const *)l->extra.values[k]);
        cs_free(alt);
    }
    if (!st) st = cs_table_set_lines(t, off, x, y);
    cs_free(from);
    cs_free(to);
    cs_free(mode);
    cs_free(dir);
    cs_free(off);
    cs_free(x);
    cs_free(y);
    if (st) {
        cs_table_free(t);
        return st;
    }
    *out = t;
    return CS_OK;
}

cs_status cs_links_write(const cs_links *l, const cs_cities *cities, const char *path, cs_vector_format fmt,
                         const char *layer)
{
    cs_table *t;
    cs_status st = cs_links_to_table(l, cities, &t);
    if (st) return st;
    st = cs_table_write(t, path, fmt, layer && *layer ? layer : "links", 0);
    cs_table_free(t);
    return st;
}

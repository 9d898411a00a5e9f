/*
 * cities_read.c: city tables from CSV or OGR sources — column mapping
 * (auto-detected or named), validation with every problem reported, joins.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "io/io_internal.h"

enum { F_ID, F_NAME, F_LON, F_LAT, F_POP, F_GDP, F_GDPPC, F_EMP, F_REGION, F_COUNTRY, F_N };

static const char *const field_name[F_N] = {"id",  "name",         "lon",        "lat",    "population",
                                            "gdp", "gdp_per_head", "employment", "region", "country"};

/* Candidate column names, in priority order (compared case-insensitively). Documented in docs/formats.md. */
static const char *const cand_id[] = {"id", "city_id", "cityid", "geonameid", "geoname_id", "city_code", "code",
                                      "uid", "key", "city_country", NULL};
static const char *const cand_name[] = {"name", "city", "city_name", "cityname", "town", "place", "place_name",
                                        "asciiname", "name_en", "city_ascii", NULL};
static const char *const cand_lon[] = {"lon", "lng", "long", "longitude", "x", "lon_deg", "longitude_deg", NULL};
static const char *const cand_lat[] = {"lat", "latitude", "y", "lat_deg", "latitude_deg", NULL};
static const char *const cand_pop[] = {"population", "pop", "pop_total", "population_total", "inhabitants",
                                       "pop_max", NULL};
static const char *const cand_gdp[] = {"gdp", "gdp_total", "gdp_usd", NULL};
static const char *const cand_gdppc[] = {"gdp_per_head", "gdp_per_capita", "gdp_cap", "gdppc", "gdp_pc", "gdpcap",
                                         "income_per_head", "income_per_capita", NULL};
static const char *const cand_emp[] = {"employment", "jobs", "employed", "emp", NULL};
static const char *const cand_region[] = {"region", "admin1", "admin_1", "admin_name", "admin1_name", "adm1",
                                          "adm1_name", "state", "province", NULL};
static const char *const cand_country[] = {"iso3", "iso3c", "iso_a3", "adm0_a3", "country_code", "country",
                                           "country_name", "cntry", "iso2", NULL};
static const char *const *const cands[F_N] = {cand_id,  cand_name,  cand_lon, cand_lat,    cand_pop,
                                              cand_gdp, cand_gdppc, cand_emp, cand_region, cand_country};

static const char *given_name(const cs_city_fields *f, int k)
{
    if (!f) return NULL;
    const char *v[F_N] = {f->id, f->name, f->lon, f->lat, f->population, f->gdp, f->gdp_per_head, f->employment,
                          f->region, f->country};
    return v[k] && *v[k] ? v[k] : NULL;
}

static cs_status missing_column(const io_tab *t, io_report *rep, const char *what, const char *given,
                                const char *const *cand, const char *extra_hint)
{
    char *cols = io_tab_columns_list(t);
    if (!cols) return CS_ENOMEM;
    const char *one[2] = {given, NULL};
    long near = io_tab_nearest(t, given ? one : cand);
    char hint[300] = "";
    if (near >= 0) snprintf(hint, sizeof hint, "; did you mean '%s'?", t->names[near]);
    io_buf looked = {0};
    cs_status st = CS_OK;
    if (!given)
        for (size_t k = 0; cand[k] && !st; k++) st = io_buf_printf(&looked, "%s%s", k ? ", " : "", cand[k]);
    if (st) {
        cs_free(cols);
        cs_free(looked.p);
        return st;
    }
    char obj[300] = "";
    if (!t->is_csv) snprintf(obj, sizeof obj, "layer %s", t->layer ? t->layer : "?");
    long line = t->is_csv ? t->header_line : 0;
    if (given)
        st = io_report_add(rep, CS_SEV_ERROR, t->path, line, 0, obj,
                           "column '%s' (given for %s) not found; columns present: %s%s%s", given, what, cols, hint,
                           extra_hint ? extra_hint : "");
    else
        st = io_report_add(rep, CS_SEV_ERROR, t->path, line, 0, obj,
                           "no %s column (looked for %s); columns present: %s%s%s", what, looked.p, cols, hint,
                           extra_hint ? extra_hint : "");
    cs_free(cols);
    cs_free(looked.p);
    return st;
}

/* Map standard fields to column indices (-1 absent). *use_geom = take lon/lat from the point geometry. */
static cs_status map_fields(const io_tab *t, const cs_city_fields *f, io_report *rep, long col[F_N], int *use_geom)
{
    cs_status st;
    for (int k = 0; k < F_N; k++) {
        col[k] = -1;
        const char *g = given_name(f, k);
        if (g) {
            col[k] = io_tab_col(t, g);
            if (col[k] < 0 && (st = missing_column(t, rep, field_name[k], g, cands[k], NULL))) return st;
            continue;
        }
        for (size_t j = 0; cands[k][j] && col[k] < 0; j++) {
            long c = io_tab_col(t, cands[k][j]);
            int taken = 0;
            for (int q = 0; q < k; q++) taken |= col[q] == c;
            if (c >= 0 && !taken) col[k] = c;
        }
    }
    /* geometry for OGR sources unless lon/lat were named explicitly */
    *use_geom = !t->is_csv && t->gx && !(given_name(f, F_LON) && given_name(f, F_LAT));
    if (t->ncols == 0 && t->is_csv) return CS_OK;
    static const int required[] = {F_ID, F_POP, F_LON, F_LAT};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        int k = required[i];
        if (col[k] >= 0 || given_name(f, k)) continue;
        if ((k == F_LON || k == F_LAT) && *use_geom) continue;
        const char *hint = (k == F_LON || k == F_LAT) ? " (name it with the lon/lat field mapping)" : NULL;
        if ((st = missing_column(t, rep, field_name[k], NULL, cands[k], hint))) return st;
    }
    return CS_OK;
}

static int parse_num(const io_tab *t, io_report *rep, size_t r, long c, const char *what, int required,
                     int nonneg, double *out, cs_status *st)
{
    *out = NAN;
    const char *s = io_cell(t, r, (size_t)c);
    double v;
    int k = io_parse_double(s, &v);
    if (k == 1) {
        if (required) *st = io_tab_report(t, rep, CS_SEV_ERROR, r, c, "%s: missing value", what);
        return required ? -1 : 0;
    }
    if (k < 0 || !isfinite(v)) {
        int comma = 0, digits = 0;
        for (const char *q = s; *q; q++) comma += *q == ',', digits += *q >= '0' && *q <= '9';
        *st = io_tab_report(t, rep, CS_SEV_ERROR, r, c, "%s: expected a number, got '%.60s'%s", what, s,
                            comma == 1 && digits ? " (write decimals with '.', without thousands separators)" : "");
        return -1;
    }
    if (nonneg && v < 0) {
        *st = io_tab_report(t, rep, CS_SEV_ERROR, r, c, "%s: must not be negative, got %.60s", what, s);
        return -1;
    }
    *out = v;
    return 0;
}

static char *dup_trim(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t L = strlen(s);
    while (L && (s[L - 1] == ' ' || s[L - 1] == '\t')) L--;
    return cs_strndup(s, L);
}

static double *nan_array(size_t n)
{
    double *a = cs_mallocarray(n ? n : 1, sizeof *a);
    if (a)
        for (size_t i = 0; i < n; i++) a[i] = NAN;
    return a;
}

static char **empty_strings(size_t n)
{
    char **a = cs_calloc(n ? n : 1, sizeof *a);
    if (!a) return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(a[i] = cs_strdup(""))) {
            for (size_t j = 0; j < i; j++) cs_free(a[j]);
            cs_free(a);
            return NULL;
        }
    return a;
}

/* Add an extra column with the given values (strings copied); the name made unique against existing names. */
static cs_status add_extra(cs_cities *c, const char *name, char **vals_owned)
{
    size_t k = c->extra.ncols;
    char **nn = cs_reallocarray(c->extra.names, k + 1, sizeof *nn);
    if (!nn) return CS_ENOMEM;
    c->extra.names = nn;
    char ***nv = cs_reallocarray(c->extra.values, k + 1, sizeof *nv);
    if (!nv) return CS_ENOMEM;
    c->extra.values = nv;
    char *uniq = cs_strdup(name);
    for (int suffix = 2; uniq; suffix++) {
        int clash = 0;
        for (int f = 0; f < F_N && !clash; f++) clash = io_strieq(uniq, field_name[f]);
        for (size_t j = 0; j < k && !clash; j++) clash = io_strieq(uniq, c->extra.names[j]);
        if (!clash) break;
        cs_free(uniq);
        uniq = cs_asprintf("%s_%d", name, suffix);
    }
    if (!uniq) return CS_ENOMEM;
    c->extra.names[k] = uniq;
    c->extra.values[k] = vals_owned;
    c->extra.ncols = k + 1;
    return CS_OK;
}

static char **column_strings(const io_tab *t, long col, size_t n)
{
    char **v = cs_calloc(n ? n : 1, sizeof *v);
    if (!v) return NULL;
    for (size_t r = 0; r < n; r++)
        if (!(v[r] = cs_strdup(io_cell(t, r, (size_t)col)))) {
            for (size_t j = 0; j < r; j++) cs_free(v[j]);
            cs_free(v);
            return NULL;
        }
    return v;
}

static void free_strings(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++) cs_free(v[i]);
    cs_free(v);
}

static int out_of_range(double lon, double lat) { return !(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90); }

static cs_status check_coords(const io_tab *t, io_report *rep, size_t r, long clon, long clat, double lon,
                              double lat)
{
    if (!out_of_range(lon, lat)) return CS_OK;
    int swapped = !out_of_range(lat, lon);
    if (clon < 0) { /* geometry */
        return io_tab_report(t, rep, CS_SEV_ERROR, r, -1, "point (%g, %g) outside WGS84 lon/lat range%s", lon, lat,
                             swapped ? "; x and y look swapped" : "");
    }
    if (lat < -90 || lat > 90)
        return io_tab_report(t, rep, CS_SEV_ERROR, r, clat, "lat: %g outside [-90, 90]%s", lat,
                             swapped ? "; lon and lat look swapped (check the column mapping)" : "");
    return io_tab_report(t, rep, CS_SEV_ERROR, r, clon, "lon: %g outside [-180, 180]%s", lon,
                         swapped ? "; lon and lat look swapped (check the column mapping)" : "");
}

static cs_status apply_join(cs_cities *c, const io_tab *left, const cs_city_join *j, size_t jidx, io_report *rep);

cs_status io_cities_from_tab(io_tab *t, const cs_city_read_opts *opts, io_report *rep, cs_cities **out)
{
    *out = NULL;
    const cs_city_fields *f = opts ? &opts->fields : NULL;
    long col[F_N];
    int use_geom = 0;
    cs_status st = map_fields(t, f, rep, col, &use_geom);
    if (st) return st;
    if (t->nrows == 0) {
        char obj[300] = "";
        if (!t->is_csv) snprintf(obj, sizeof obj, "layer %s", t->layer ? t->layer : "?");
        st = io_report_add(rep, CS_SEV_ERROR, t->path, 0, 0, obj, "no cities: the table has a header but no rows");
        return st ? st : CS_EPARSE;
    }
    int columns_ok = col[F_ID] >= 0 && col[F_POP] >= 0 && (use_geom || (col[F_LON] >= 0 && col[F_LAT] >= 0));
    if (!columns_ok) return CS_EPARSE; /* reported by map_fields */
    size_t n = t->nrows;
    cs_cities *c = NULL;
    io_strmap ids = {0};
    if ((st = cs_cities_new(n, &c))) return st;
    c->source = cs_strdup(t->path);
    if (!c->source) goto oom;
    if (col[F_GDP] >= 0 && !(c->gdp = nan_array(n))) goto oom;
    if (col[F_GDPPC] >= 0 && !(c->gdp_per_head = nan_array(n))) goto oom;
    if (col[F_EMP] >= 0 && !(c->employment = nan_array(n))) goto oom;
    if (col[F_REGION] >= 0 && !(c->region = cs_calloc(n, sizeof(char *)))) goto oom;
    if (col[F_COUNTRY] >= 0 && !(c->country = cs_calloc(n, sizeof(char *)))) goto oom;
    if ((st = io_strmap_init(&ids, n))) goto fail;
    for (size_t r = 0; r < n; r++) {
        c->n = r + 1; /* so that a failure frees what was built */
        c->source_line[r] = t->row_ref[r];
        c->id[r] = dup_trim(io_cell(t, r, (size_t)col[F_ID]));
        c->name[r] = col[F_NAME] >= 0 ? cs_strdup(io_cell(t, r, (size_t)col[F_NAME])) : cs_strdup("");
        if (!c->id[r] || !c->name[r]) goto oom;
        if (!c->id[r][0]) {
            if ((st = io_tab_report(t, rep, CS_SEV_ERROR, r, col[F_ID], "%s: missing id", t->names[col[F_ID]])))
                goto fail;
        } else {
            uint32_t first = io_strmap_put(&ids, c->id[r], (uint32_t)r);
            if (first != r) {
                char where[64];
                io_tab_where(t, first, where, sizeof where);
                if ((st = io_tab_report(t, rep, CS_SEV_ERROR, r, col[F_ID], "%s: duplicate id '%.100s' (first on %s)",
                                        t->names[col[F_ID]], c->id[r], where)))
                    goto fail;
            }
        }
        st = CS_OK;
        parse_num(t, rep, r, col[F_POP], t->names[col[F_POP]], 1, 1, &c->population[r], &st);
        if (st) goto fail;
        if (use_geom) {
            c->lon[r] = t->gx[r];
            c->lat[r] = t->gy[r];
            if (t->geom_problem[r]) {
                if ((st = io_tab_report(t, rep, CS_SEV_ERROR, r, -1, "%s", t->geom_problem[r]))) goto fail;
            } else if ((st = check_coords(t, rep, r, -1, -1, c->lon[r], c->lat[r]))) {
                goto fail;
            }
        } else {
            int a = parse_num(t, rep, r, col[F_LON], t->names[col[F_LON]], 1, 0, &c->lon[r], &st);
            if (st) goto fail;
            int b = parse_num(t, rep, r, col[F_LAT], t->names[col[F_LAT]], 1, 0, &c->lat[r], &st);
            if (st) goto fail;
            if (a == 0 && b == 0 && (st = check_coords(t, rep, r, col[F_LON], col[F_LAT], c->lon[r], c->lat[r])))
                goto fail;
        }
        if (col[F_GDP] >= 0) parse_num(t, rep, r, col[F_GDP], t->names[col[F_GDP]], 0, 1, &c->gdp[r], &st);
        if (!st && col[F_GDPPC] >= 0)
            parse_num(t, rep, r, col[F_GDPPC], t->names[col[F_GDPPC]], 0, 1, &c->gdp_per_head[r], &st);
        if (!st && col[F_EMP] >= 0)
            parse_num(t, rep, r, col[F_EMP], t->names[col[F_EMP]], 0, 1, &c->employment[r], &st);
        if (st) goto fail;
        if (col[F_REGION] >= 0 && !(c->region[r] = dup_trim(io_cell(t, r, (size_t)col[F_REGION])))) goto oom;
        if (col[F_COUNTRY] >= 0 && !(c->country[r] = dup_trim(io_cell(t, r, (size_t)col[F_COUNTRY])))) goto oom;
    }
    io_strmap_free(&ids);
    /* every other column is kept */
    for (size_t k = 0; k < t->ncols; k++) {
        int used = 0;
        for (int q = 0; q < F_N; q++) used |= col[q] == (long)k;
        if (used) continue;
        char **v = column_strings(t, (long)k, n);
        if (!v) goto oom;
        if ((st = add_extra(c, t->names[k], v))) {
            free_strings(v, n);
            goto fail;
        }
    }
    for (size_t j = 0; opts && j < opts->njoins; j++)
        if ((st = apply_join(c, t, &opts->joins[j], j, rep))) goto fail;
    *out = c;
    return CS_OK;
oom:
    st = cs_error_set(CS_ENOMEM, "out of memory while reading cities");
fail:
    io_strmap_free(&ids);
    cs_cities_free(c);
    return st;
}

/* ---- joins ---- */
static cs_status apply_join(cs_cities *c, const io_tab *left, const cs_city_join *j, size_t jidx, io_report *rep)
{
    cs_status st;
    if (!j->path || !j->left_key || !j->right_key)
        return cs_error_set(CS_EINVAL, "join %zu: path, left_key and right_key are required", jidx + 1);
    long lk = io_tab_col(left, j->left_key);
    /* a standard field name ("id", "name", "region", "country") also works when the column is called otherwise */
    char **std_key = NULL;
    if (lk < 0) {
        if (io_strieq(j->left_key, "id")) std_key = c->id;
        else if (io_strieq(j->left_key, "name")) std_key = c->name;
        else if (io_strieq(j->left_key, "region")) std_key = c->region;
        else if (io_strieq(j->left_key, "country")) std_key = c->country;
    }
    if (lk < 0 && !std_key) {
        const char *cand[] = {NULL};
        return missing_column(left, rep, "the join key", j->left_key, cand, NULL);
    }
    io_tab *rt = NULL;
    st = io_tab_read(j->path, j->layer, NULL, rep, &rt);
    if (st == CS_EPARSE) return CS_OK; /* reported; the read as a whole fails */
    if (st == CS_EIO || st == CS_ENOTFOUND || st == CS_EDEPENDENCY) {
        const cs_error *e = cs_error_last();
        return io_report_add(rep, CS_SEV_ERROR, e->file, e->line, e->column, e->object, "join: %s", e->message);
    }
    if (st) return st;
    io_strmap map = {0};
    long *take = NULL;
    size_t ntake = 0;
    char **vals = NULL;
    long rk = io_tab_col(rt, j->right_key);
    if (rk < 0) {
        const char *cand[] = {NULL};
        st = missing_column(rt, rep, "the join key", j->right_key, cand, NULL);
        goto done;
    }
    if ((st = io_strmap_init(&map, rt->nrows))) goto done;
    for (size_t r = 0; r < rt->nrows; r++) {
        uint32_t first = io_strmap_put(&map, io_cell(rt, r, (size_t)rk), (uint32_t)r);
        if (first != r) {
            char where[64];
            io_tab_where(rt, first, where, sizeof where);
            if ((st = io_tab_report(rt, rep, CS_SEV_WARNING, r, rk,
                                    "join: duplicate key '%.100s' (first on %s, which is used)", io_cell(rt, r, (size_t)rk),
                                    where)))
                goto done;
        }
    }
    /* which right columns */
    take = cs_calloc(rt->ncols + 1, sizeof *take);
    if (!take) goto oom;
    if (j->columns) {
        for (size_t k = 0; j->columns[k]; k++) {
            long cc = io_tab_col(rt, j->columns[k]);
            if (cc < 0) {
                const char *cand[] = {NULL};
                if ((st = missing_column(rt, rep, "a joined column", j->columns[k], cand, NULL))) goto done;
                continue;
            }
            if (ntake < rt->ncols) take[ntake++] = cc;
        }
    } else {
        for (size_t k = 0; k < rt->ncols; k++)
            if ((long)k != rk) take[ntake++] = (long)k;
    }
    /* match */
    uint32_t *match = NULL;
    match = cs_mallocarray(c->n ? c->n : 1, sizeof *match);
    if (!match) goto oom;
    for (size_t i = 0; i < c->n; i++) {
        const char *key = std_key ? std_key[i] : io_cell(left, i, (size_t)lk);
        match[i] = io_strmap_get(&map, key);
        if (match[i] == CS_INVALID_ID &&
            (st = io_tab_report(left, rep, CS_SEV_WARNING, i, lk, "join: no row with %s = '%.100s' in %s", j->right_key,
                                key, j->path))) {
            cs_free(match);
            goto done;
        }
    }
    /* standard fields filled by the join */
    int filled[F_N] = {0};
    for (int k = 0; k < F_N; k++) {
        const char *g = given_name(j->fields, k);
        if (!g) continue;
        long cc = io_tab_col(rt, g);
        if (cc < 0) {
            if ((st = missing_column(rt, rep, field_name[k], g, cands[k], NULL))) break;
            continue;
        }
        if (k == F_ID || k == F_LON || k == F_LAT) {
            st = io_report_add(rep, CS_SEV_ERROR, j->path, 0, 0, "", "join: %s cannot be filled by a join", field_name[k]);
            if (st) break;
            continue;
        }
        filled[k] = 1;
        for (size_t q = 0; q < ntake; q++)
            if (take[q] == cc) take[q] = -1; /* not also an extra */
        if (k == F_NAME || k == F_REGION || k == F_COUNTRY) {
            char ***dst = k == F_NAME ? &c->name : k == F_REGION ? &c->region : &c->country;
            if (!*dst && !(*dst = empty_strings(c->n))) {
                st = CS_ENOMEM;
                break;
            }
            for (size_t i = 0; i < c->n && !st; i++) {
                if (match[i] == CS_INVALID_ID) continue;
                char *v = dup_trim(io_cell(rt, match[i], (size_t)cc));
                if (!v) st = CS_ENOMEM;
                else {
                    cs_free((*dst)[i]);
                    (*dst)[i] = v;
                }
            }
        } else {
            double **dst = k == F_POP ? &c->population : k == F_GDP ? &c->gdp : k == F_GDPPC ? &c->gdp_per_head
                                                                                               : &c->employment;
            if (!*dst && !(*dst = nan_array(c->n))) {
                st = CS_ENOMEM;
                break;
            }
            for (size_t i = 0; i < c->n && !st; i++) {
                if (match[i] == CS_INVALID_ID) continue;
                double v;
                parse_num(rt, rep, match[i], cc, g, k == F_POP, 1, &v, &st);
                if (!isnan(v)) (*dst)[i] = v;
            }
        }
        if (st) break;
    }
    (void)filled;
    /* extras */
    for (size_t q = 0; q < ntake && !st; q++) {
        if (take[q] < 0) continue;
        vals = cs_calloc(c->n ? c->n : 1, sizeof *vals);
        if (!vals) {
            st = CS_ENOMEM;
            break;
        }
        for (size_t i = 0; i < c->n && !st; i++)
            if (!(vals[i] = cs_strdup(match[i] == CS_INVALID_ID ? "" : io_cell(rt, match[i], (size_t)take[q]))))
                st = CS_ENOMEM;
        if (!st) st = add_extra(c, rt->names[take[q]], vals);
        if (st) free_strings(vals, c->n);
        vals = NULL;
    }
    cs_free(match);
    if (st == CS_ENOMEM) goto oom;
    goto done;
oom:
    st = cs_error_set(CS_ENOMEM, "out of memory while joining %s", j->path);
done:
    cs_free(take);
    io_strmap_free(&map);
    io_tab_free(rt);
    return st;
}

/* ---- public entry points ---- */
static int max_errors(const cs_city_read_opts *o) { return o && o->max_errors > 0 ? o->max_errors : 20; }

static cs_status finish(io_report *rep, cs_status st, cs_cities **c, cs_cities **out)
{
    if (st == CS_OK || st == CS_EPARSE) {
        cs_status f = io_report_finish(rep);
        if (f == CS_ENOMEM) st = CS_ENOMEM;
        else if (f == CS_EPARSE) st = CS_EPARSE;
    }
    if (st) {
        cs_cities_free(*c);
        *c = NULL;
        return st;
    }
    *out = *c;
    return CS_OK;
}

cs_status cs_cities_read(const char *path, const cs_city_read_opts *opts, cs_diag *diag, cs_cities **out)
{
    if (!out) return cs_error_set(CS_EINVAL, "cs_cities_read: out is NULL");
    *out = NULL;
    io_report rep;
    io_report_init(&rep, diag, max_errors(opts));
    io_tab *t = NULL;
    cs_cities *c = NULL;
    cs_status st = io_tab_read(path, opts ? opts->layer : NULL, opts ? opts->encoding : NULL, &rep, &t);
    if (!st) st = io_cities_from_tab(t, opts, &rep, &c);
    io_tab_free(t);
    return finish(&rep, st, &c, out);
}

cs_status cs_cities_read_csv_mem(const void *data, size_t size, const char *name, const cs_city_read_opts *opts,
                                 cs_diag *diag, cs_cities **out)
{
    if (!out) return cs_error_set(CS_EINVAL, "cs_cities_read_csv_mem: out is NULL");
    *out = NULL;
    io_report rep;
    io_report_init(&rep, diag, max_errors(opts));
    io_tab *t = NULL;
    cs_cities *c = NULL;
    cs_status st = io_tab_read_csv_mem(data, size, name ? name : "(memory)", opts ? opts->encoding : NULL, &rep, &t);
    if (!st) st = io_cities_from_tab(t, opts, &rep, &c);
    io_tab_free(t);
    return finish(&rep, st, &c, out);
}

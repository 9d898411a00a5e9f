/*
 * cmd_inequality.c: `citysys inequality` — inequality indices (overall and per
 * group), their decompositions, Moran's I and the spatial Gini under a chosen
 * weights matrix, and σ/β-convergence and a quantile Markov chain for a panel.
 *
 * Reads a plain CSV with a small private reader (RFC 4180, physical line
 * numbers in messages); the library does every computation. Output: a long
 * CSV (scope,group,weighting,index,value) on stdout or -o, and a JSON summary.
 * Index names are those of docs/methods.md.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"

/* ---- a small CSV reader --------------------------------------------------------- */

typedef struct table {
    const char *path;
    size_t nrows, ncols;
    char **hdr;  /* ncols */
    char **cell; /* nrows*ncols */
    long *line;  /* physical line of each row */
    char *buf;
} table;

static void table_free(table *t)
{
    cs_free(t->hdr); /* cell points into the same array */
    cs_free(t->line);
    cs_free(t->buf);
    memset(t, 0, sizeof *t);
}

/* Parses in place: fields are NUL-terminated slices of buf (quotes removed). */
static cs_status table_read(const char *path, table *t)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    size_t size;
    cs_status s = cs_read_file(path, &t->buf, &size);
    if (s) return s;
    char *b = t->buf, *end = b + size;
    if (size >= 3 && !memcmp(b, "\xEF\xBB\xBF", 3)) b += 3;
    size_t cap = 256, cnt = 0, rows = 0, rcap = 64, ncols = 0, rowlen = 0;
    char **cells = cs_mallocarray(cap, sizeof *cells);
    long *lines = cs_mallocarray(rcap, sizeof *lines);
    long line = 1, rowline = 1;
    if (!cells || !lines) goto oom;
    while (b < end) {
        if (rowlen == 0) {
            rowline = line;
            /* skip blank lines */
            if (*b == '\n' || *b == '\r') {
                if (*b == '\n') line++;
                b++;
                continue;
            }
        }
        char *f = b, *o = b;
        if (*b == '"') {
            b++;
            for (;;) {
                if (b >= end) {
                    cs_free(cells);
                    cs_free(lines);
                    table_free(t);
                    return cs_error_set_at(CS_EPARSE, path, rowline, (long)rowlen + 1, "unterminated quoted field");
                }
                if (*b == '"') {
                    if (b + 1 < end && b[1] == '"') {
                        *o++ = '"';
                        b += 2;
                        continue;
                    }
                    b++;
                    break;
                }
                if (*b == '\n') line++;
                *o++ = *b++;
            }
        }
        while (b < end && *b != ',' && *b != '\n' && *b != '\r') *o++ = *b++;
        char sep = b < end ? *b : '\n';
        if (b < end) b++;
        if (sep == '\r' && b < end && *b == '\n') b++;
        *o = 0;
        if (cnt == cap) {
            char **q = cs_reallocarray(cells, cap *= 2, sizeof *q);
            if (!q) goto oom;
            cells = q;
        }
        cells[cnt++] = f;
        rowlen++;
        if (sep == ',') continue;
        line++;
        if (!ncols) {
            ncols = rowlen;
        } else {
            if (rowlen != ncols) {
                cs_free(cells);
                cs_free(lines);
                table_free(t);
                return cs_error_set_at(CS_EPARSE, path, rowline, 0, "row has %zu fields, the header has %zu", rowlen,
                                       ncols);
            }
            if (rows == rcap) {
                long *q = cs_reallocarray(lines, rcap *= 2, sizeof *q);
                if (!q) goto oom;
                lines = q;
            }
            lines[rows++] = rowline;
        }
        rowlen = 0;
    }
    if (!ncols) {
        cs_free(cells);
        cs_free(lines);
        table_free(t);
        return cs_error_set_at(CS_EPARSE, path, 1, 0, "empty CSV file (no header)");
    }
    t->ncols = ncols;
    t->nrows = rows;
    t->hdr = cells;
    t->cell = cells + ncols;
    t->line = lines;
    return CS_OK;
oom:
    cs_free(cells);
    cs_free(lines);
    table_free(t);
    return cs_error_set(CS_ENOMEM, "reading %s: out of memory", path);
}

static int table_col(const table *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (!strcmp(t->hdr[c], name)) return (int)c;
    return -1;
}

static const char *cell(const table *t, size_t r, int c) { return t->cell[r * t->ncols + (size_t)c]; }

/* Numeric column; errors go to diag (located). */
static cs_status table_numbers(const table *t, int c, double *out, cs_diag *d)
{
    cs_status st = CS_OK;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *s = cell(t, r, c);
        while (*s == ' ') s++;
        char *e;
        errno = 0;
        double v = strtod(s, &e);
        while (*e == ' ') e++;
        if (e == s || *e || errno == ERANGE || !isfinite(v)) {
            cs_diag_add(d, CS_SEV_ERROR, CS_EPARSE, t->path, t->line[r], c + 1, "", "%s: expected a number, got '%s'",
                        t->hdr[c], cell(t, r, c));
            st = CS_EPARSE;
        }
        out[r] = v;
    }
    return st;
}

/* ---- output helpers ------------------------------------------------------------ */

typedef struct out {
    FILE *csv;
    json_t *root;
} out;

static void emit(out *o, const char *scope, const char *group, const char *period, const char *weighting,
                 const char *index, double v)
{
    /* every value in the tables is finite; guard anyway so a NaN never reaches a table */
    if (!isfinite(v)) return;
    if (o->csv) {
        fprintf(o->csv, "%s,", scope);
        if (group && (strchr(group, ',') || strchr(group, '"') || strchr(group, '\n'))) {
            fputc('"', o->csv);
            for (const char *p = group; *p; p++) {
                if (*p == '"') fputc('"', o->csv);
                fputc(*p, o->csv);
            }
            fputc('"', o->csv);
        } else if (group) {
            fputs(group, o->csv);
        }
        fprintf(o->csv, ",%s,%s,%s,%.17g\n", period, weighting, index, v);
    }
}

static void jset(json_t *o, const char *k, double v)
{
    if (isfinite(v)) json_object_set_new(o, k, json_real(v));
    else json_object_set_new(o, k, json_null());
}

static json_t *jobj(json_t *parent, const char *k)
{
    json_t *o = json_object_get(parent, k);
    if (!o) {
        o = json_object();
        json_object_set_new(parent, k, o);
    }
    return o;
}

static void emit_summary(out *o, json_t *jo, const char *scope, const char *group, const char *wname,
                         const cs_ineq_summary *s, int williamson)
{
    struct {
        const char *k;
        double v;
    } f[] = {{"n", (double)s->n},     {"total_weight", s->total_weight}, {"mean", s->mean},
             {"min", s->min},         {"max", s->max},                   {"gini", s->gini},
             {"gini_sample", s->gini_sample}, {"theil_t", s->theil_t},  {"theil_l", s->theil_l},
             {"ge_alpha", s->ge_alpha}, {"atkinson", s->atkinson},       {"cv", s->cv},
             {"cv_sample", s->cv_sample}, {"williamson", s->cv}};
    size_t nf = sizeof f / sizeof *f - (williamson ? 0 : 1);
    for (size_t i = 0; i < nf; i++) {
        emit(o, scope, group, "", wname, f[i].k, f[i].v);
        if (i == 0) json_object_set_new(jo, "n", json_integer((json_int_t)s->n));
        else jset(jo, f[i].k, f[i].v);
    }
}

/* ---- the command ---------------------------------------------------------------- */

static const cli_option opts[] = {
    {"input", 'i', "FILE.csv", "input table (CSV with a header row); required"},
    {"value", 0, "COL", "column of the per-head value (income, GDP per head, access); required"},
    {"population", 0, "COL", "column of populations: adds the population-weighted variant and Williamson"},
    {"group", 0, "COL", "grouping column (e.g. country): per-group indices and decompositions"},
    {"id", 0, "COL", "id column (matches GAL ids, matrix ids); default: row order"},
    {"alpha", 0, "A", "extra generalised-entropy parameter reported as ge_alpha (default 2)"},
    {"epsilon", 0, "E", "Atkinson inequality aversion (default 1)"},
    {"nonpositive", 0, "RULE", "values <= 0: error (default), drop the rows, or omit the indices they break"},
    {"weights", 0, "FILE.gal", "spatial weights from a GAL file"},
    {"knn", 0, "K", "spatial weights: K nearest neighbours by great-circle distance"},
    {"lon", 0, "COL", "longitude column for --knn (default lon)"},
    {"lat", 0, "COL", "latitude column for --knn (default lat)"},
    {"contiguity", 0, "queen|rook", "spatial weights from polygons in --wkt"},
    {"wkt", 0, "COL", "WKT polygon column for --contiguity (default WKT)"},
    {"matrix", 0, "FILE", "travel-time matrix (citysys binary matrix file) for --threshold"},
    {"threshold", 0, "T", "spatial weights: neighbours when matrix value <= T (matrix units)"},
    {"symmetry", 0, "RULE", "threshold rule: directed, either (default), both"},
    {"blocks", 0, NULL, "spatial weights: units of the same --group are neighbours"},
    {"transform", 0, "R|B", "weights for Moran's I: R row-standardised (default), B binary"},
    {"permutations", 0, "N", "permutations for pseudo p-values (default 999; 0 = none)"},
    {"seed", 0, "S", "seed of the permutation generator (default 12345)"},
    {"panel", 0, "COLS", "panel columns, comma list or FIRST:LAST (header order): convergence, Markov"},
    {"years", 0, "LIST", "years of the panel columns (default: the column names as numbers)"},
    {"classes", 0, "K", "quantile classes for the Markov chain (default 5)"},
    {"output", 'o', "OUT.csv", "long CSV (scope,group,period,weighting,index,value); default stdout"},
    {"json", 0, "OUT.json", "JSON summary"},
    {0, 0, 0, 0}};

static int run(int argc, char **argv);

const cli_command cli_cmd_inequality = {
    "inequality",
    "inequality indices, decompositions, Moran's I, spatial Gini, convergence",
    "citysys inequality --input FILE.csv --value COL [OPTIONS]",
    "Gini (gini, gini_sample), Theil T (theil_t = GE(1)), Theil L (theil_l = GE(0), mean log\n"
    "deviation), GE(alpha), Atkinson(epsilon), coefficient of variation (cv, cv_sample) and, with\n"
    "--population, Williamson's index; unweighted (each unit once) and population-weighted (each\n"
    "person once); overall and per --group with the GE (Shorrocks) and Gini (Dagum) decompositions.\n"
    "With weights (--weights, --knn, --contiguity, --threshold, --blocks): Moran's I with analytical\n"
    "and permutation inference, and the spatial Gini (binary symmetric weights only).\n"
    "With --panel: sigma- and beta-convergence and a quantile Markov chain with its steady state.\n"
    "Formulas and sources: docs/methods.md.",
    opts,
    0,
    0,
    run};

static int split_list(char *s, char **items, int max)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ",")) items[n++] = tok;
    return n;
}

static int load_weights(const cli_args *a, const table *t, const int *rowmap, size_t n, const char *const *ids,
                        const uint32_t *grp, cs_weights **w, const char **desc)
{
    int nsrc = cli_has(a, "weights") + cli_has(a, "knn") + cli_has(a, "contiguity") + cli_has(a, "threshold") +
               cli_has(a, "blocks");
    *w = NULL;
    if (nsrc == 0) return 0;
    if (nsrc > 1)
        return cli_usage_error(a->cmd, "give one of --weights, --knn, --contiguity, --threshold, --blocks");
    cs_status s = CS_OK;
    int ok = 1;
    if (cli_has(a, "weights")) {
        cs_weights *g;
        *desc = "gal";
        if ((s = cs_weights_read_gal(cli_get(a, "weights", ""), &g))) return cli_fail(s);
        if (cli_has(a, "id")) {
            s = cs_weights_reorder(g, ids, n, w);
            cs_weights_free(g);
            if (s) return cli_fail(s);
        } else {
            if (g->n != n) {
                cs_error_set(CS_EPARSE, "the GAL file has %zu units, the table %zu (use --id to match ids)", g->n, n);
                cs_weights_free(g);
                return cli_fail(CS_EPARSE);
            }
            *w = g; /* positional: unit k of the file = data row k (PySAL's id_order) */
        }
    } else if (cli_has(a, "knn")) {
        long k = cli_get_long(a, "knn", 4, &ok);
        if (!ok) return CLI_EXIT_USAGE;
        *desc = "knn";
        const char *lonc = cli_get(a, "lon", "lon"), *latc = cli_get(a, "lat", "lat");
        int cl = table_col(t, lonc), ct = table_col(t, latc);
        if (cl < 0 || ct < 0) {
            cs_error_set_at(CS_ENOTFOUND, t->path, 1, 0, "column '%s' not found", cl < 0 ? lonc : latc);
            return cli_fail(CS_ENOTFOUND);
        }
        double *lon = cs_mallocarray(t->nrows, sizeof *lon), *lat = cs_mallocarray(t->nrows, sizeof *lat);
        double *lo2 = cs_mallocarray(n, sizeof *lo2), *la2 = cs_mallocarray(n, sizeof *la2);
        cs_diag *d = cs_diag_new();
        if (!lon || !lat || !lo2 || !la2 || !d) s = CS_ENOMEM;
        if (!s && (table_numbers(t, cl, lon, d) | table_numbers(t, ct, lat, d))) {
            cli_print_diag(d);
            s = CS_EPARSE;
        } else if (!s) {
            for (size_t i = 0; i < n; i++) {
                lo2[i] = lon[rowmap[i]];
                la2[i] = lat[rowmap[i]];
            }
            s = cs_weights_knn(lo2, la2, n, k < 0 ? 0 : (size_t)k, ids, w);
        }
        cs_diag_free(d);
        cs_free(lon);
        cs_free(lat);
        cs_free(lo2);
        cs_free(la2);
        if (s == CS_EPARSE) return CLI_EXIT_INPUT;
        if (s) return cli_fail(s) == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : cli_exit_code(s);
    } else if (cli_has(a, "contiguity")) {
        const char *rule = cli_get(a, "contiguity", "");
        cs_contiguity r;
        if (!strcmp(rule, "queen")) r = CS_CONTIG_QUEEN;
        else if (!strcmp(rule, "rook")) r = CS_CONTIG_ROOK;
        else return cli_usage_error(a->cmd, "--contiguity: expected queen or rook, got '%s'", rule);
        *desc = r == CS_CONTIG_QUEEN ? "queen" : "rook";
        const char *wc = cli_get(a, "wkt", "WKT");
        int c = table_col(t, wc);
        if (c < 0) {
            cs_error_set_at(CS_ENOTFOUND, t->path, 1, 0, "column '%s' not found", wc);
            return cli_fail(CS_ENOTFOUND);
        }
        const char **wkt = cs_mallocarray(n ? n : 1, sizeof *wkt);
        if (!wkt) return cli_fail(CS_ENOMEM);
        for (size_t i = 0; i < n; i++) wkt[i] = cell(t, (size_t)rowmap[i], c);
        s = cs_weights_contiguity_wkt(wkt, n, ids, r, w);
        cs_free(wkt);
        if (s) return cli_exit_code(s) == CLI_EXIT_USAGE ? (cli_fail(s), CLI_EXIT_INPUT) : cli_fail(s);
    } else if (cli_has(a, "threshold")) {
        double thr = cli_get_double(a, "threshold", 0, &ok);
        if (!ok) return CLI_EXIT_USAGE;
        const char *mp = cli_get(a, "matrix", NULL);
        if (!mp) return cli_usage_error(a->cmd, "--threshold needs --matrix FILE");
        const char *sy = cli_get(a, "symmetry", "either");
        cs_threshold_sym sym;
        if (!strcmp(sy, "directed")) sym = CS_THRESH_DIRECTED;
        else if (!strcmp(sy, "either")) sym = CS_THRESH_EITHER;
        else if (!strcmp(sy, "both")) sym = CS_THRESH_BOTH;
        else return cli_usage_error(a->cmd, "--symmetry: expected directed, either or both, got '%s'", sy);
        *desc = "threshold";
        cs_matrix *m = NULL, *sel = NULL;
        /* binary matrix file (matrix.h); convert a CSV matrix first with the matrix tools */
        s = cs_matrix_read(mp, NULL, &m);
        if (s) return cli_fail(s);
        if (cli_has(a, "id")) {
            s = cs_matrix_select(m, ids, n, ids, n, &sel);
            cs_matrix_free(m);
            if (s) return cli_fail(s);
            m = sel;
        } else if (m->rows != n) {
            cs_error_set(CS_EPARSE, "the matrix has %zu rows, the table %zu (use --id to match ids)", m->rows, n);
            cs_matrix_free(m);
            return cli_fail(CS_EPARSE);
        }
        s = cs_weights_threshold(m, thr, sym, w);
        cs_matrix_free(m);
        if (s) return cli_fail(s);
    } else {
        if (!grp) return cli_usage_error(a->cmd, "--blocks needs --group COL");
        *desc = "blocks";
        if ((s = cs_weights_blocks(grp, n, ids, w))) return cli_fail(s);
    }
    return 0;
}

/* Decompositions of one weighting into the CSV and JSON. */
static cs_status decompose(out *o, json_t *jd, const char *wname, const double *y, const double *w, size_t n,
                           const uint32_t *grp, char **gnames, size_t ng, double alpha, unsigned defined)
{
    const double alphas[3] = {1.0, 0.0, alpha};
    const char *names[3] = {"theil_t", "theil_l", "ge_alpha"};
    const unsigned bits[3] = {CS_INEQ_THEIL_T, CS_INEQ_THEIL_L, CS_INEQ_GE_ALPHA};
    for (int k = 0; k < 3; k++) {
        if (!(defined & bits[k])) continue; /* omitted: values <= 0 */
        cs_ge_decomp *d;
        cs_status s = cs_ge_decompose(y, w, n, grp, ng, alphas[k], &d);
        if (s) return s;
        char key[64];
        json_t *j = jobj(jd, names[k]);
        jset(j, "alpha", alphas[k]);
        jset(j, "total", d->total);
        jset(j, "between", d->between);
        jset(j, "within", d->within);
        snprintf(key, sizeof key, "%s_between", names[k]);
        emit(o, "decomposition", "", "", wname, key, d->between);
        snprintf(key, sizeof key, "%s_within", names[k]);
        emit(o, "decomposition", "", "", wname, key, d->within);
        json_t *ga = json_array();
        for (size_t g = 0; g < ng; g++) {
            json_t *e = json_object();
            json_object_set_new(e, "group", json_string(gnames[g]));
            jset(e, "pop_share", d->group_pop_share[g]);
            jset(e, "income_share", d->group_income_share[g]);
            jset(e, "mean", d->group_mean[g]);
            jset(e, "index", d->group_index[g]);
            jset(e, "within_contribution", d->group_within[g]);
            json_array_append_new(ga, e);
            snprintf(key, sizeof key, "%s_within_contribution", names[k]);
            emit(o, "decomposition", gnames[g], "", wname, key, d->group_within[g]);
        }
        json_object_set_new(j, "groups", ga);
        cs_ge_decomp_free(d);
    }
    cs_gini_decomp *gd;
    cs_status s = cs_gini_decompose(y, w, n, grp, ng, &gd);
    if (s) return s;
    json_t *j = jobj(jd, "gini");
    jset(j, "total", gd->total);
    jset(j, "within", gd->within);
    jset(j, "between_net", gd->between_net);
    jset(j, "overlap", gd->overlap);
    jset(j, "between_gross", gd->between_gross);
    emit(o, "decomposition", "", "", wname, "gini_within", gd->within);
    emit(o, "decomposition", "", "", wname, "gini_between_net", gd->between_net);
    emit(o, "decomposition", "", "", wname, "gini_overlap", gd->overlap);
    json_t *ga = json_array();
    for (size_t g = 0; g < ng; g++) {
        json_t *e = json_object();
        json_object_set_new(e, "group", json_string(gnames[g]));
        jset(e, "pop_share", gd->group_pop_share[g]);
        jset(e, "income_share", gd->group_income_share[g]);
        jset(e, "gini", gd->group_gini[g]);
        jset(e, "within_contribution", gd->group_within[g]);
        json_array_append_new(ga, e);
        emit(o, "decomposition", gnames[g], "", wname, "gini_within_contribution", gd->group_within[g]);
    }
    json_object_set_new(j, "groups", ga);
    cs_gini_decomp_free(gd);
    return CS_OK;
}

/*
 * Spatial Gini (binary symmetric weights only) and Moran's I of y under w (binary, as built) into the
 * CSV and the JSON object js. The weights are row-standardised on a copy when tr is "R".
 */
static cs_status spatial_stats(out *o, json_t *js, const char *gname, const double *y, const cs_weights *w,
                               const cs_perm_opts *po, const char *tr)
{
    cs_status s;
    /* compute everything first, so that a failure leaves nothing half-written */
    int bsym = cs_weights_is_binary_symmetric(w);
    cs_spatial_gini_result sg;
    if (bsym && (s = cs_spatial_gini(y, w, po, &sg))) return s;
    cs_weights *wt;
    if ((s = cs_weights_clone(w, &wt))) return s;
    if (!strcmp(tr, "R")) cs_weights_row_standardise(wt);
    cs_moran_result m;
    s = cs_moran(y, wt, po, &m);
    cs_weights_free(wt);
    if (s) return s;
    if (bsym) {
        json_t *j = jobj(js, "spatial_gini");
        struct {
            const char *k;
            double v;
        } f[] = {{"gini", sg.gini}, {"total", sg.total}, {"wg", sg.wg}, {"wcg", sg.wcg}, {"wcg_share", sg.wcg_share},
                 {"e_wcg", sg.e_wcg}, {"s_wcg", sg.s_wcg}, {"z_wcg", sg.z_wcg}, {"p_sim", sg.p_sim},
                 {"p_z_sim", sg.p_z_sim}};
        size_t nf = po->permutations ? 10 : 5;
        for (size_t i = 0; i < nf; i++) {
            char key[64];
            snprintf(key, sizeof key, "spatial_gini_%s", f[i].k);
            emit(o, "spatial", gname, "", "unweighted", key, f[i].v);
            jset(j, f[i].k, f[i].v);
        }
    } else {
        json_object_set_new(jobj(js, "spatial_gini"), "skipped",
                            json_string("needs binary symmetric weights (Rey & Smith 2013)"));
    }
    json_t *j = jobj(js, "moran");
    json_object_set_new(j, "transform", json_string(tr));
    json_object_set_new(j, "permutations", json_integer((json_int_t)m.permutations));
    json_object_set_new(j, "p_sim_rule", json_string("folded: (min(L, P-L) + 1)/(P + 1), L = #{I_sim >= I}"));
    struct {
        const char *k;
        double v;
    } f[] = {{"I", m.I},           {"EI", m.EI},          {"VI_norm", m.VI_norm}, {"seI_norm", m.seI_norm},
             {"z_norm", m.z_norm}, {"p_norm", m.p_norm},  {"VI_rand", m.VI_rand}, {"seI_rand", m.seI_rand},
             {"z_rand", m.z_rand}, {"p_rand", m.p_rand},  {"EI_sim", m.EI_sim},   {"seI_sim", m.seI_sim},
             {"z_sim", m.z_sim},   {"p_sim", m.p_sim},    {"p_z_sim", m.p_z_sim}};
    size_t nf = po->permutations ? 15 : 10;
    for (size_t i = 0; i < nf; i++) {
        char key[64];
        snprintf(key, sizeof key, "moran_%s", f[i].k);
        emit(o, "spatial", gname, "", tr[0] == 'R' ? "row_standardised" : "binary", key, f[i].v);
        jset(j, f[i].k, f[i].v);
    }
    return CS_OK;
}

/* σ, β (and optionally the quantile Markov chain) of a panel into the CSV and JSON object jp. */
static cs_status panel_stats(out *o, json_t *jp, const char *gname, const double *panel, size_t n, size_t npc,
                             const double *years, size_t nclasses, int markov)
{
    json_t *jsig = json_array();
    json_object_set_new(jp, "sigma", jsig);
    double *cv = cs_mallocarray(npc, sizeof *cv), *sdl = cs_mallocarray(npc, sizeof *sdl);
    double *y0 = cs_mallocarray(n, sizeof *y0), *yT = cs_mallocarray(n, sizeof *yT);
    cs_status s = CS_OK;
    if (!cv || !sdl || !y0 || !yT) {
        s = cs_error_set(CS_ENOMEM, "out of memory");
        goto done;
    }
    if ((s = cs_sigma_convergence(panel, NULL, n, npc, cv, sdl))) goto done;
    for (size_t k = 0; k < npc; k++) {
        char yr[64];
        snprintf(yr, sizeof yr, "%.15g", years[k]);
        emit(o, "sigma", gname, yr, "unweighted", "sigma_cv", cv[k]);
        emit(o, "sigma", gname, yr, "unweighted", "sigma_sd_log", sdl[k]);
        json_t *e = json_object();
        jset(e, "year", years[k]);
        jset(e, "sigma_cv", cv[k]);
        jset(e, "sigma_sd_log", sdl[k]);
        json_array_append_new(jsig, e);
    }
    for (size_t i = 0; i < n; i++) {
        y0[i] = panel[i * npc];
        yT[i] = panel[i * npc + npc - 1];
    }
    cs_beta_result b;
    if ((s = cs_beta_convergence(y0, yT, n, years[npc - 1] - years[0], &b))) goto done;
    char per[140];
    snprintf(per, sizeof per, "%.15g-%.15g", years[0], years[npc - 1]);
    json_t *jb = jobj(jp, "beta");
    jset(jb, "years", b.years);
    struct {
        const char *k;
        double v;
    } f[] = {{"beta", b.beta},       {"beta_se", b.se_beta}, {"beta_t", b.t_beta}, {"beta_alpha", b.alpha},
             {"beta_alpha_se", b.se_alpha}, {"beta_r2", b.r2}, {"beta_speed", b.speed},
             {"beta_half_life", b.half_life}};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        if (i >= 6 && !b.speed_defined) continue;
        if (i == 7 && !(b.speed > 0)) continue; /* no half-life without convergence */
        emit(o, "beta", gname, per, "unweighted", f[i].k, f[i].v);
        jset(jb, f[i].k, f[i].v);
    }
    json_object_set_new(jb, "speed_defined", json_boolean(b.speed_defined));
    if (!markov) goto done;
    cs_markov *mk;
    if (cs_markov_quantiles(panel, n, npc, nclasses, &mk)) {
        cli_note("Markov chain skipped: %s", cs_error_last()->message);
        json_object_set_new(jobj(jp, "markov"), "skipped", json_string(cs_error_last()->message));
        goto done;
    }
    json_t *jm = jobj(jp, "markov");
    json_object_set_new(jm, "classes", json_integer((json_int_t)nclasses));
    json_object_set_new(jm, "rule", json_string("quantiles of each period (mapclassify.Quantiles), giddy.markov.Markov"));
    json_t *jc = json_array(), *jpm = json_array(), *jss = json_array();
    for (size_t r = 0; r < mk->k; r++) {
        json_t *rc_ = json_array(), *rp = json_array();
        for (size_t c = 0; c < mk->k; c++) {
            json_array_append_new(rc_, json_real(mk->counts[r * mk->k + c]));
            json_array_append_new(rp, json_real(mk->p[r * mk->k + c]));
            char key[96];
            snprintf(key, sizeof key, "markov_count_%zu_%zu", r + 1, c + 1);
            emit(o, "markov", gname, per, "unweighted", key, mk->counts[r * mk->k + c]);
            snprintf(key, sizeof key, "markov_p_%zu_%zu", r + 1, c + 1);
            emit(o, "markov", gname, per, "unweighted", key, mk->p[r * mk->k + c]);
        }
        json_array_append_new(jc, rc_);
        json_array_append_new(jpm, rp);
        if (mk->steady_state_unique) {
            char key[96];
            snprintf(key, sizeof key, "markov_steady_state_%zu", r + 1);
            emit(o, "markov", gname, per, "unweighted", key, mk->steady_state[r]);
            json_array_append_new(jss, json_real(mk->steady_state[r]));
        }
    }
    json_object_set_new(jm, "counts", jc);
    json_object_set_new(jm, "p", jpm);
    if (mk->steady_state_unique) {
        json_object_set_new(jm, "steady_state", jss);
    } else {
        json_decref(jss);
        json_object_set_new(jm, "steady_state", json_null());
    }
    cs_markov_free(mk);
done:
    cs_free(cv);
    cs_free(sdl);
    cs_free(y0);
    cs_free(yT);
    return s;
}

static int run(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&cli_cmd_inequality, argc, argv, &a);
    if (rc >= 0) return rc;
    const char *in = cli_get(&a, "input", NULL), *vcol = cli_get(&a, "value", NULL);
    if (!in || !vcol) return cli_usage_error(a.cmd, "--input FILE.csv and --value COL are required");
    int ok = 1;
    cs_ineq_opts io = cs_ineq_opts_default();
    io.alpha = cli_get_double(&a, "alpha", 2.0, &ok);
    if (!ok) return CLI_EXIT_USAGE;
    io.epsilon = cli_get_double(&a, "epsilon", 1.0, &ok);
    if (!ok) return CLI_EXIT_USAGE;
    if (!isfinite(io.alpha)) return cli_usage_error(a.cmd, "--alpha must be finite");
    if (!isfinite(io.epsilon) || io.epsilon < 0) return cli_usage_error(a.cmd, "--epsilon must be >= 0");
    cs_perm_opts po = cs_perm_opts_default();
    long perms = cli_get_long(&a, "permutations", 999, &ok);
    if (!ok) return CLI_EXIT_USAGE;
    if (perms < 0 || perms > 1000000) return cli_usage_error(a.cmd, "--permutations must be in 0..1000000");
    po.permutations = (size_t)perms;
    long seed = cli_get_long(&a, "seed", 12345, &ok);
    if (!ok) return CLI_EXIT_USAGE;
    po.seed = (uint64_t)seed;
    const char *tr = cli_get(&a, "transform", "R");
    if (strcmp(tr, "R") && strcmp(tr, "B")) return cli_usage_error(a.cmd, "--transform: expected R or B, got '%s'", tr);
    long nclasses = cli_get_long(&a, "classes", 5, &ok);
    if (!ok) return CLI_EXIT_USAGE;
    if (nclasses < 2 || nclasses > 100) return cli_usage_error(a.cmd, "--classes must be in 2..100");

    table t;
    cs_status s = table_read(in, &t);
    if (s) return cli_fail(s);
    int exitc = CLI_EXIT_OK;
    double *yall = NULL, *pall = NULL, *y = NULL, *p = NULL, *panel = NULL, *years = NULL;
    int *rowmap = NULL, *pcols = NULL;
    const char **labels = NULL, **ids = NULL;
    uint32_t *grp = NULL;
    char **gnames = NULL;
    size_t ng = 0, n = 0, npc = 0;
    cs_diag *diag = cs_diag_new();
    cs_weights *w = NULL;
    json_t *root = json_object();
    out o = {NULL, root};
    cs_atomic_file *af = NULL;
    char *plist = NULL;
    if (!diag || !root) {
        exitc = cli_fail(CS_ENOMEM);
        goto done;
    }
    int vc = table_col(&t, vcol);
    const char *pcol = cli_get(&a, "population", NULL), *gcol = cli_get(&a, "group", NULL), *icol = cli_get(&a, "id", NULL);
    int pc = pcol ? table_col(&t, pcol) : -1, gc = gcol ? table_col(&t, gcol) : -1, ic = icol ? table_col(&t, icol) : -1;
    const char *missing = vc < 0 ? vcol : (pcol && pc < 0) ? pcol : (gcol && gc < 0) ? gcol : (icol && ic < 0) ? icol : NULL;
    if (missing) {
        cs_error_set_at(CS_ENOTFOUND, in, 1, 0, "column '%s' not found in the header", missing);
        exitc = cli_fail(CS_ENOTFOUND);
        goto done;
    }
    if (t.nrows == 0) {
        cs_error_set_at(CS_EPARSE, in, 2, 0, "the table has no rows");
        exitc = cli_fail(CS_EPARSE);
        goto done;
    }
    yall = cs_mallocarray(t.nrows, sizeof *yall);
    pall = pc >= 0 ? cs_mallocarray(t.nrows, sizeof *pall) : NULL;
    rowmap = cs_mallocarray(t.nrows, sizeof *rowmap);
    if (!yall || (pc >= 0 && !pall) || !rowmap) {
        exitc = cli_fail(CS_ENOMEM);
        goto done;
    }
    int bad = table_numbers(&t, vc, yall, diag) != CS_OK;
    if (pc >= 0) bad |= table_numbers(&t, pc, pall, diag) != CS_OK;
    /* rows kept; documented rules for bad values */
    const char *npr = cli_get(&a, "nonpositive", "error");
    if (strcmp(npr, "error") && strcmp(npr, "drop") && strcmp(npr, "omit")) {
        exitc = cli_usage_error(a.cmd, "--nonpositive: expected error, drop or omit, got '%s'", npr);
        goto done;
    }
    int drop = !strcmp(npr, "drop");
    io.omit_undefined = !strcmp(npr, "omit");
    size_t ndropped = 0;
    for (size_t r = 0; r < t.nrows; r++) {
        if (pall && pall[r] < 0) {
            cs_diag_add(diag, CS_SEV_ERROR, CS_EPARSE, in, t.line[r], pc + 1, "", "%s: population is negative (%g)",
                        pcol, pall[r]);
            bad = 1;
        }
        if (yall[r] <= 0 && !(pall && pall[r] == 0) && !io.omit_undefined) {
            if (drop) {
                ndropped++;
                continue;
            }
            cs_diag_add(diag, CS_SEV_ERROR, CS_EPARSE, in, t.line[r], vc + 1, "",
                        "%s: value is %g; theil_l (GE(0)) and atkinson (epsilon >= 1) need values > 0, and "
                        "negative values have no GE/Atkinson index (--nonpositive drop|omit: see --help)",
                        vcol, yall[r]);
            bad = 1;
            continue;
        }
        rowmap[n++] = (int)r;
    }
    if (bad) {
        cli_print_diag(diag);
        exitc = CLI_EXIT_INPUT;
        goto done;
    }
    if (ndropped) cli_note("%zu row%s with %s <= 0 dropped (--nonpositive drop)", ndropped, ndropped == 1 ? "" : "s", vcol);
    if (n < 2) {
        cs_error_set_at(CS_EPARSE, in, 0, 0, "fewer than 2 usable rows");
        exitc = cli_fail(CS_EPARSE);
        goto done;
    }
    y = cs_mallocarray(n, sizeof *y);
    p = pall ? cs_mallocarray(n, sizeof *p) : NULL;
    labels = cs_mallocarray(n, sizeof *labels);
    ids = cs_mallocarray(n, sizeof *ids);
    if (!y || (pall && !p) || !labels || !ids) {
        exitc = cli_fail(CS_ENOMEM);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        y[i] = yall[rowmap[i]];
        if (p) p[i] = pall[rowmap[i]];
        labels[i] = gc >= 0 ? cell(&t, (size_t)rowmap[i], gc) : "";
        ids[i] = ic >= 0 ? cell(&t, (size_t)rowmap[i], ic) : NULL;
    }
    if (ic < 0) {
        /* positional ids "0", "1", ... are made by the weights builders when ids is NULL */
        cs_free(ids);
        ids = NULL;
    }
    if (gc >= 0 && (s = cs_groups_from_labels(labels, n, &grp, &gnames, &ng))) {
        exitc = cli_fail(s);
        goto done;
    }

    /* outputs */
    const char *outp = cli_get(&a, "output", NULL);
    if (outp) {
        if ((s = cs_atomic_open(outp, &af))) {
            exitc = cli_fail(s);
            goto done;
        }
        o.csv = cs_atomic_stream(af);
    } else {
        o.csv = stdout;
    }
    fprintf(o.csv, "scope,group,period,weighting,index,value\n");
    json_object_set_new(root, "input", json_string(in));
    json_object_set_new(root, "value", json_string(vcol));
    json_object_set_new(root, "n", json_integer((json_int_t)n));
    json_object_set_new(root, "dropped_nonpositive", json_integer((json_int_t)ndropped));
    json_t *jopt = jobj(root, "options");
    jset(jopt, "alpha", io.alpha);
    jset(jopt, "epsilon", io.epsilon);
    json_object_set_new(jopt, "gini", json_string("gini: no n/(n-1) correction; gini_sample: W^2/(W^2 - sum w^2)"));

    /* overall and per group, each weighting */
    int nw = p ? 2 : 1;
    const char *wnames[2] = {"unweighted", "population"};
    unsigned defined[2] = {CS_INEQ_ALL, CS_INEQ_ALL};
    for (int k = 0; k < nw; k++) {
        const double *wk = k ? p : NULL;
        cs_ineq_summary sm;
        if ((s = cs_ineq_summarise(y, wk, n, &io, &sm))) {
            exitc = cli_fail(s) == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : cli_exit_code(s);
            goto done;
        }
        emit_summary(&o, jobj(jobj(root, "overall"), wnames[k]), "overall", "", wnames[k], &sm, k == 1 && sm.min >= 0);
        defined[k] = sm.defined;
        if (sm.defined != CS_INEQ_ALL)
            cli_note("%s: values <= 0: omitted %s%s%s%s(--nonpositive omit)", wnames[k],
                     sm.defined & CS_INEQ_THEIL_T ? "" : "theil_t ", sm.defined & CS_INEQ_THEIL_L ? "" : "theil_l ",
                     sm.defined & CS_INEQ_GE_ALPHA ? "" : "ge_alpha ", sm.defined & CS_INEQ_ATKINSON ? "" : "atkinson ");
    }
    if (grp) {
        json_t *ja = json_array();
        json_object_set_new(root, "groups", ja);
        double *yg = cs_mallocarray(n, sizeof *yg), *pg = cs_mallocarray(n, sizeof *pg);
        if (!yg || !pg) {
            cs_free(yg);
            cs_free(pg);
            exitc = cli_fail(CS_ENOMEM);
            goto done;
        }
        for (size_t g = 0; g < ng; g++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if (grp[i] == g) {
                    yg[m] = y[i];
                    if (p) pg[m] = p[i];
                    m++;
                }
            json_t *je = json_object();
            json_object_set_new(je, "group", json_string(gnames[g]));
            json_object_set_new(je, "n", json_integer((json_int_t)m));
            json_array_append_new(ja, je);
            for (int k = 0; k < nw; k++) {
                cs_ineq_summary sm;
                s = cs_ineq_summarise(yg, k ? pg : NULL, m, &io, &sm);
                if (s) {
                    /* a group of one unit (or one person-weighted unit) has no sample variants: reported, not fatal */
                    json_object_set_new(je, "skipped", json_string(cs_error_last()->message));
                    cli_note("group '%s' skipped: %s", gnames[g], cs_error_last()->message);
                    break;
                }
                emit_summary(&o, jobj(je, wnames[k]), "group", gnames[g], wnames[k], &sm, k == 1 && sm.min >= 0);
            }
        }
        cs_free(yg);
        cs_free(pg);
        json_t *jd = jobj(root, "decomposition");
        for (int k = 0; k < nw; k++)
            if ((s = decompose(&o, jobj(jd, wnames[k]), wnames[k], y, k ? p : NULL, n, grp, gnames, ng, io.alpha,
                               defined[k]))) {
                exitc = cli_fail(s) == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : cli_exit_code(s);
                goto done;
            }
    }

    /* spatial statistics */
    const char *wdesc = "";
    if ((rc = load_weights(&a, &t, rowmap, n, ids, grp, &w, &wdesc))) {
        exitc = rc;
        goto done;
    }
    if (w) {
        json_t *js = jobj(root, "spatial");
        json_t *jw = jobj(js, "weights");
        json_object_set_new(jw, "source", json_string(wdesc));
        json_object_set_new(jw, "links", json_integer((json_int_t)w->offset[w->n]));
        json_object_set_new(jw, "islands", json_integer((json_int_t)cs_weights_islands(w)));
        json_object_set_new(jw, "binary_symmetric", json_boolean(cs_weights_is_binary_symmetric(w)));
        if (!cs_weights_is_binary_symmetric(w))
            cli_note("spatial Gini skipped: it needs binary symmetric weights (these are not)");
        if ((s = spatial_stats(&o, js, "", y, w, &po, tr))) {
            exitc = cli_fail(s) == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : cli_exit_code(s);
            goto done;
        }
        if (grp) {
            /* within each group: the weights among its members only */
            uint8_t *keep = cs_mallocarray(n, sizeof *keep);
            double *yg = cs_mallocarray(n, sizeof *yg);
            json_t *jg = json_array();
            json_object_set_new(js, "groups", jg);
            for (size_t g = 0; g < ng && keep && yg; g++) {
                size_t m = 0;
                for (size_t i = 0; i < n; i++) {
                    keep[i] = grp[i] == g;
                    if (keep[i]) yg[m++] = y[i];
                }
                json_t *je = json_object();
                json_object_set_new(je, "group", json_string(gnames[g]));
                json_array_append_new(jg, je);
                cs_weights *wg = NULL;
                if ((s = cs_weights_subset(w, keep, &wg))) break;
                if (spatial_stats(&o, je, gnames[g], yg, wg, &po, tr)) {
                    /* e.g. fewer than 4 units, no links inside the group, a constant value: reported, not fatal */
                    json_object_set_new(je, "skipped", json_string(cs_error_last()->message));
                    cli_note("spatial statistics of group '%s' skipped: %s", gnames[g], cs_error_last()->message);
                }
                cs_weights_free(wg);
            }
            if (!keep || !yg) s = cs_error_set(CS_ENOMEM, "out of memory");
            cs_free(keep);
            cs_free(yg);
            if (s) {
                exitc = cli_fail(s);
                goto done;
            }
        }
    }

    /* panel */
    if (cli_has(&a, "panel")) {
        plist = cs_strdup(cli_get(&a, "panel", ""));
        pcols = cs_mallocarray(t.ncols + 1, sizeof *pcols);
        if (!plist || !pcols) {
            exitc = cli_fail(CS_ENOMEM);
            goto done;
        }
        char *colon = strchr(plist, ':');
        if (colon && !strchr(plist, ',')) {
            *colon = 0;
            int c0 = table_col(&t, plist), c1 = table_col(&t, colon + 1);
            if (c0 < 0 || c1 < 0 || c1 <= c0) {
                cs_error_set_at(CS_ENOTFOUND, in, 1, 0, "--panel %s:%s: columns not found or not in order", plist,
                                colon + 1);
                exitc = cli_fail(CS_ENOTFOUND);
                goto done;
            }
            for (int c = c0; c <= c1; c++) pcols[npc++] = c;
        } else {
            char *items[1024];
            int ni = split_list(plist, items, 1024);
            for (int k = 0; k < ni; k++) {
                int c = table_col(&t, items[k]);
                if (c < 0) {
                    cs_error_set_at(CS_ENOTFOUND, in, 1, 0, "panel column '%s' not found", items[k]);
                    exitc = cli_fail(CS_ENOTFOUND);
                    goto done;
                }
                pcols[npc++] = c;
            }
        }
        if (npc < 2) {
            exitc = cli_usage_error(a.cmd, "--panel needs at least 2 columns");
            goto done;
        }
        years = cs_mallocarray(npc, sizeof *years);
        panel = cs_mallocarray(n * npc, sizeof *panel);
        double *col = cs_mallocarray(t.nrows, sizeof *col);
        if (!years || !panel || !col) {
            cs_free(col);
            exitc = cli_fail(CS_ENOMEM);
            goto done;
        }
        for (size_t k = 0; k < npc && !bad; k++) {
            if (table_numbers(&t, pcols[k], col, diag)) bad = 1;
            for (size_t i = 0; i < n; i++) panel[i * npc + k] = col[rowmap[i]];
        }
        cs_free(col);
        if (bad) {
            cli_print_diag(diag);
            exitc = CLI_EXIT_INPUT;
            goto done;
        }
        if (cli_has(&a, "years")) {
            char *yl = cs_strdup(cli_get(&a, "years", ""));
            char *items[1024];
            int ni = yl ? split_list(yl, items, 1024) : 0;
            int okk = (size_t)ni == npc;
            for (int k = 0; okk && k < ni; k++) {
                char *e;
                years[k] = strtod(items[k], &e);
                okk = *e == 0 && e != items[k];
            }
            cs_free(yl);
            if (!okk) {
                exitc = cli_usage_error(a.cmd, "--years needs %zu numbers, one per panel column", npc);
                goto done;
            }
        } else {
            for (size_t k = 0; k < npc; k++) {
                const char *h = t.hdr[pcols[k]];
                while (*h && (*h < '0' || *h > '9')) h++; /* "pcgdp1940" -> 1940 */
                char *e;
                years[k] = strtod(h, &e);
                if (!*h || *e) {
                    exitc = cli_usage_error(a.cmd, "cannot read a year from column '%s'; give --years", t.hdr[pcols[k]]);
                    goto done;
                }
            }
        }
        json_t *jp = jobj(root, "panel");
        if ((s = panel_stats(&o, jp, "", panel, n, npc, years, (size_t)nclasses, 1))) {
            exitc = cli_fail(s) == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : cli_exit_code(s);
            goto done;
        }
        if (grp) {
            /* σ and β per group (the Markov chain is estimated on the whole panel only) */
            double *sub = cs_mallocarray(n * npc, sizeof *sub);
            if (!sub) {
                exitc = cli_fail(CS_ENOMEM);
                goto done;
            }
            json_t *jg = json_array();
            json_object_set_new(jp, "groups", jg);
            for (size_t g = 0; g < ng && !s; g++) {
                size_t m = 0;
                for (size_t i = 0; i < n; i++)
                    if (grp[i] == g) memcpy(sub + npc * m++, panel + npc * i, npc * sizeof *sub);
                json_t *je = json_object();
                json_object_set_new(je, "group", json_string(gnames[g]));
                json_array_append_new(jg, je);
                if (m < 3) {
                    json_object_set_new(je, "skipped", json_string("fewer than 3 units"));
                    continue;
                }
                s = panel_stats(&o, je, gnames[g], sub, m, npc, years, 0, 0);
                if (s) cs_error_prefix("group '%s': ", gnames[g]);
            }
            cs_free(sub);
            if (s) {
                exitc = cli_fail(s) == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : cli_exit_code(s);
                goto done;
            }
        }
    }

    if (af) {
        if ((s = cs_atomic_commit(af))) {
            af = NULL;
            exitc = cli_fail(s);
            goto done;
        }
        af = NULL;
    } else {
        fflush(stdout);
    }
    const char *jp = cli_get(&a, "json", NULL);
    if (jp) {
        char *txt = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17) | JSON_PRESERVE_ORDER);
        if (!txt) {
            exitc = cli_fail(CS_ENOMEM);
            goto done;
        }
        size_t L = strlen(txt);
        txt[L] = 0;
        s = cs_write_file_atomic(jp, txt, L);
        free(txt);
        if (s) {
            exitc = cli_fail(s);
            goto done;
        }
    }
done:
    if (af) cs_atomic_abort(af);
    cs_weights_free(w);
    json_decref(root);
    cs_diag_free(diag);
    cs_free(yall);
    cs_free(pall);
    cs_free(y);
    cs_free(p);
    cs_free(rowmap);
    cs_free(labels);
    cs_free(ids);
    cs_free(grp);
    cs_groups_names_free(gnames, ng);
    cs_free(panel);
    cs_free(years);
    cs_free(pcols);
    cs_free(plist);
    table_free(&t);
    return exitc;
}

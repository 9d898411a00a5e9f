/* cmd_simulate.c: `citysys simulate` — calibrate the spatial equilibrium model
 * to a city table and a baseline trade-cost matrix, evaluate a changed cost
 * matrix by exact hat algebra, print per-city changes (CSV) and a summary.
 * Minimal by design: scenario files and projects come later (issue 6). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "citysys/equilibrium.h"

static const cli_option simulate_opts[] = {
    {"scenario", 0, "FILE", "project mode: a scenario file (JSON or GeoJSON; repeat for several)"},
    {"cache-dir", 0, "DIR", "project mode: step cache (default: .citysys-cache next to the output folder)"},
    {"no-cache", 0, NULL, "project mode: neither read nor write the step cache"},
    {"cities", 0, "CSV", "expert mode: city table: id, population, income per head, group columns"},
    {"tau-before", 0, "FILE", "expert mode: baseline iceberg trade costs, binary matrix file"},
    {"tau-after", 0, "FILE", "expert mode: scenario iceberg trade costs, binary matrix file"},
    {"short-run", 0, NULL, "nobody moves (population fixed)"},
    {"long-run", 0, NULL, "people move within their mobility group (default)"},
    {"id-column", 0, "NAME", "city id column (default: id, else city_country)"},
    {"population-column", 0, "NAME", "population column (default: population)"},
    {"income-column", 0, "NAME", "income per head column (default: gdp_per_head, else gdp_cap)"},
    {"group-column", 0, "NAME", "mobility group column (default: country, else iso3c; none: one group)"},
    {"theta", 0, "X", "trade elasticity theta = sigma - 1 (default 8)"},
    {"alpha", 0, "X", "productivity spillover (default 0.1)"},
    {"beta", 0, "X", "amenity spillover (default -0.3)"},
    {"kappa", 0, "X", "imperfect mobility: Frechet taste dispersion (default: perfect mobility)"},
    {"tol", 0, "X", "solver tolerance, max |log change| (default 1e-10)"},
    {"output", 'o', "PATH", "project mode: output folder (default: simulate_out); expert mode: per-city CSV (default: stdout)"},
    {"groups-out", 0, "FILE", "also write per-group aggregates (population, income, EV, welfare change) as CSV"},
    {0}};

/* ---- a small CSV reader (RFC 4180 quoting within one line) ---- */
typedef struct csv_table {
    size_t ncols, nrows;
    char **head;   /* ncols */
    char ***cell;  /* nrows x ncols */
    long *line;    /* physical line per row */
} csv_table;

static void csv_free(csv_table *t)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) cs_free(t->cell[r][c]);
        cs_free(t->cell[r]);
    }
    for (size_t c = 0; c < t->ncols; c++) cs_free(t->head[c]);
    cs_free(t->head);
    cs_free(t->cell);
    cs_free(t->line);
}

/* Split one line into fields (owned). Returns count or -1 on a quoting error. */
static long csv_split(const char *s, char ***out)
{
    size_t cap = 8, n = 0;
    char **f = cs_mallocarray(cap, sizeof *f);
    char *buf = cs_malloc(strlen(s) + 1);
    if (!f || !buf) goto fail;
    for (;;) {
        size_t k = 0;
        if (*s == '"') {
            s++;
            for (;;) {
                if (!*s) goto fail;
                if (*s == '"') {
                    if (s[1] == '"') buf[k++] = '"', s += 2;
                    else {
                        s++;
                        break;
                    }
                } else
                    buf[k++] = *s++;
            }
        } else {
            while (*s && *s != ',' && *s != '\r' && *s != '\n') buf[k++] = *s++;
        }
        buf[k] = 0;
        if (n == cap) {
            char **g = cs_reallocarray(f, cap *= 2, sizeof *f);
            if (!g) goto fail;
            f = g;
        }
        if (!(f[n++] = cs_strdup(buf))) goto fail;
        if (*s == ',') {
            s++;
            continue;
        }
        break;
    }
    cs_free(buf);
    *out = f;
    return (long)n;
fail:
    if (f)
        for (size_t i = 0; i < n; i++) cs_free(f[i]);
    cs_free(f);
    cs_free(buf);
    return -1;
}

static cs_status csv_read(const char *path, csv_table *t)
{
    memset(t, 0, sizeof *t);
    char *data;
    size_t size;
    cs_status st = cs_read_file(path, &data, &size);
    if (st) return st;
    size_t cap = 0;
    long lineno = 0;
    char *p = data;
    while (p < data + size) {
        char *e = memchr(p, '\n', (size_t)(data + size - p));
        if (!e) e = data + size;
        *e = 0;
        lineno++;
        char *line = p;
        p = e + 1;
        if (lineno == 1 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB) line += 3; /* BOM */
        if (!*line || *line == '\r') continue;
        char **f;
        long nf = csv_split(line, &f);
        if (nf < 0) {
            st = cs_error_set_at(CS_EPARSE, path, lineno, 0, "unterminated quoted field");
            goto fail;
        }
        if (!t->head) {
            t->head = f;
            t->ncols = (size_t)nf;
            continue;
        }
        if ((size_t)nf != t->ncols) {
            for (long i = 0; i < nf; i++) cs_free(f[i]);
            cs_free(f);
            st = cs_error_set_at(CS_EPARSE, path, lineno, 0, "%ld fields, the header has %zu", nf, t->ncols);
            goto fail;
        }
        if (t->nrows == cap) {
            cap = cap ? 2 * cap : 256;
            char ***c2 = cs_reallocarray(t->cell, cap, sizeof *c2);
            long *l2 = c2 ? cs_reallocarray(t->line, cap, sizeof *l2) : NULL;
            if (c2) t->cell = c2;
            if (!c2 || !l2) {
                for (long i = 0; i < nf; i++) cs_free(f[i]);
                cs_free(f);
                st = CS_ENOMEM;
                goto fail;
            }
            t->line = l2;
        }
        t->cell[t->nrows] = f;
        t->line[t->nrows++] = lineno;
    }
    cs_free(data);
    if (!t->head) return cs_error_set_at(CS_EPARSE, path, 1, 0, "empty file (no header)");
    return CS_OK;
fail:
    cs_free(data);
    csv_free(t);
    return st;
}

static long csv_col(const csv_table *t, const char *name, const char *fallback)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (name && !strcmp(t->head[c], name)) return (long)c;
    for (size_t c = 0; c < t->ncols; c++)
        if (fallback && !strcmp(t->head[c], fallback)) return (long)c;
    return -1;
}

static void print_city(FILE *o, const char *id, const char *grp, const cs_eq_state *s0, const cs_eq_state *s1,
                       const cs_eq_change *c, size_t i)
{
    fprintf(o, "%s,%s,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,"
               "%.10g,%.10g,%.10g,%.10g\n",
            id, grp, s0->L[i], s1->L[i], c->L_hat[i], s0->w[i], s1->w[i], c->w_hat[i], s0->P[i], s1->P[i],
            c->P_hat[i], s0->real_income[i], s1->real_income[i], c->real_income_hat[i], s0->W[i], s1->W[i],
            c->welfare_hat[i], s0->output[i], s1->output[i], c->resident_welfare_hat[i], c->ev[i]);
}

static int run_simulate(int argc, char **argv)
{
    extern const cli_command cli_cmd_simulate;
    cli_args a;
    int rc = cli_parse(&cli_cmd_simulate, argc, argv, &a);
    if (rc >= 0) return rc;
    if (a.npos == 1) {
        /* project mode: the scenario files on the project's baseline */
        extern int cli_scenario_project(const cli_command *cmd, const cli_args *a, const char *project,
                                        const char *const *files, size_t nfiles, const char *def_out);
        const char *files[CLI_MAX_OPTS];
        size_t nf = 0;
        for (int k = 0; k < a.nset; k++)
            if (!strcmp(a.set_name[k], "scenario")) files[nf++] = a.set_value[k];
        if (!nf) return cli_usage_error(&cli_cmd_simulate, "project mode needs --scenario FILE");
        if (cli_has(&a, "cities") || cli_has(&a, "tau-before") || cli_has(&a, "tau-after"))
            return cli_usage_error(&cli_cmd_simulate, "--cities/--tau-before/--tau-after belong to the expert mode (no PROJECT)");
        return cli_scenario_project(&cli_cmd_simulate, &a, a.pos[0], files, nf, "simulate_out");
    }
    if (cli_has(&a, "scenario")) return cli_usage_error(&cli_cmd_simulate, "--scenario needs a PROJECT");
    const char *cities = cli_get(&a, "cities", NULL), *tb = cli_get(&a, "tau-before", NULL),
               *ta = cli_get(&a, "tau-after", NULL);
    if (!cities || !tb || !ta)
        return cli_usage_error(&cli_cmd_simulate, "PROJECT --scenario FILE, or --cities, --tau-before and --tau-after (expert mode), are required");
    if (cli_has(&a, "short-run") && cli_has(&a, "long-run"))
        return cli_usage_error(&cli_cmd_simulate, "--short-run and --long-run exclude each other");
    cs_eq_horizon horizon = cli_has(&a, "short-run") ? CS_EQ_SHORT_RUN : CS_EQ_LONG_RUN;
    cs_eq_params p;
    cs_eq_params_default(&p);
    int ok = 1;
    p.theta = cli_get_double(&a, "theta", p.theta, &ok);
    if (ok) p.alpha = cli_get_double(&a, "alpha", p.alpha, &ok);
    if (ok) p.beta = cli_get_double(&a, "beta", p.beta, &ok);
    if (ok) p.tol = cli_get_double(&a, "tol", p.tol, &ok);
    if (ok && cli_has(&a, "kappa")) {
        p.kappa = cli_get_double(&a, "kappa", p.kappa, &ok);
        p.mobility = CS_EQ_IMPERFECT;
    }
    if (!ok) return CLI_EXIT_USAGE;
    p.progress = cli_progress();
    cs_status st = cs_eq_params_check(&p);
    if (st) return cli_usage_error(&cli_cmd_simulate, "%s", cs_error_last()->message);

    csv_table t;
    if ((st = csv_read(cities, &t))) return cli_fail(st);
    int ret = CLI_EXIT_FAILURE;
    cs_matrix *m0 = NULL, *m1 = NULL, *s0m = NULL, *s1m = NULL;
    cs_eq_model *model = NULL;
    cs_eq_state *base = NULL, *after = NULL;
    cs_eq_change *chg = NULL;
    cs_diag *diag = cs_diag_new();
    double *L = NULL, *w = NULL;
    uint32_t *grp = NULL, *order = NULL;
    const char **gnames = NULL, **labels = NULL, **ids = NULL;
    size_t ng = 0, n = t.nrows;
    FILE *o = stdout;
    cs_atomic_file *af = NULL;
    long cid = csv_col(&t, cli_get(&a, "id-column", "id"), "city_country");
    long cpop = csv_col(&t, cli_get(&a, "population-column", "population"), NULL);
    long cinc = csv_col(&t, cli_get(&a, "income-column", "gdp_per_head"), "gdp_cap");
    long cgrp = csv_col(&t, cli_get(&a, "group-column", "country"), "iso3c");
    if (cid < 0 || cpop < 0 || cinc < 0) {
        st = cs_error_set_at(CS_EPARSE, cities, 1, 0, "missing column: %s",
                             cid < 0 ? "id" : cpop < 0 ? "population" : "income per head");
        goto fail;
    }
    if (cgrp < 0) cli_note("no group column: all cities form one mobility group");
    if (n == 0) {
        st = cs_error_set_at(CS_EPARSE, cities, 1, 0, "no cities");
        goto fail;
    }
    L = cs_mallocarray(2 * n, sizeof *L);
    labels = cs_mallocarray(n, sizeof *labels);
    ids = cs_mallocarray(n, sizeof *ids);
    order = cs_mallocarray(n, sizeof *order);
    if (!L || !labels || !ids || !order) {
        st = CS_ENOMEM;
        goto fail;
    }
    w = L + n;
    for (size_t i = 0; i < n; i++) {
        char *end;
        const long cols[2] = {cpop, cinc};
        double *dst[2] = {&L[i], &w[i]};
        for (int k = 0; k < 2; k++) {
            const char *v = t.cell[i][cols[k]];
            errno = 0;
            *dst[k] = strtod(v, &end);
            if (end == v || *end || errno || !(*dst[k] > 0) || !isfinite(*dst[k])) {
                cs_error_set_at(CS_EPARSE, cities, t.line[i], cols[k] + 1, "%s: expected a positive number, got '%s'",
                                t.head[cols[k]], v);
                cs_diag_add_last(diag, CS_SEV_ERROR);
            }
        }
        ids[i] = t.cell[i][cid];
        labels[i] = cgrp >= 0 ? t.cell[i][cgrp] : "";
    }
    if (cs_diag_errors(diag)) {
        cli_print_diag(diag);
        ret = CLI_EXIT_INPUT;
        goto done;
    }
    if ((st = cs_eq_groups_from_labels(labels, n, &grp, &ng, &gnames))) goto fail;
    if ((st = cs_matrix_read(tb, NULL, &m0)) || (st = cs_matrix_read(ta, NULL, &m1))) goto fail;
    /* align the matrices with the city order */
    if ((st = cs_matrix_select(m0, ids, n, ids, n, &s0m))) {
        cs_error_prefix("%s (city ids of --cities)", tb);
        goto fail;
    }
    cs_matrix_free(m0);
    m0 = NULL;
    if ((st = cs_eq_calibrate(&p, n, grp, L, w, s0m, diag, &model, &base))) goto fail;
    if ((st = cs_matrix_select(m1, ids, n, ids, n, &s1m))) {
        cs_error_prefix("%s (city ids of --cities)", ta);
        goto fail;
    }
    cs_matrix_free(m1);
    m1 = NULL;
    if ((st = cs_eq_counterfactual(model, base, s0m, s1m, horizon, NULL, NULL, CS_EQ_REUSE_TAU_AFTER, diag, &after)))
        goto fail;
    if ((st = cs_eq_compare(model, base, after, &chg))) goto fail;
    cli_progress_done();
    cli_print_diag(diag); /* warnings (uniqueness) */
    const char *outp = cli_get(&a, "output", NULL);
    if (outp) {
        if ((st = cs_atomic_open(outp, &af))) goto fail;
        o = cs_atomic_stream(af);
    }
    fprintf(o, "id,group,L_before,L_after,L_hat,w_before,w_after,w_hat,P_before,P_after,P_hat,real_income_before,"
               "real_income_after,real_income_hat,W_before,W_after,welfare_hat,output_before,output_after,"
               "resident_welfare_hat,ev\n");
    for (size_t i = 0; i < n; i++) print_city(o, ids[i], gnames[grp[i]], base, after, chg, i);
    if (af) {
        if ((st = cs_atomic_commit(af))) {
            af = NULL;
            goto fail;
        }
        af = NULL;
    }
    const char *gout = cli_get(&a, "groups-out", NULL);
    if (gout) {
        cs_eq_aggregate *ag = NULL;
        if ((st = cs_eq_aggregate_by(base, after, chg, grp, ng, &ag))) goto fail;
        if ((st = cs_atomic_open(gout, &af))) {
            cs_eq_aggregate_free(ag);
            goto fail;
        }
        FILE *go = cs_atomic_stream(af);
        fprintf(go, "group,cities,pop_before,pop_after,income_before,income_after,ev,welfare_hat,real_income_hat\n");
        for (size_t k = 0; k < ng; k++) {
            size_t cnt = 0;
            for (size_t i = 0; i < n; i++) cnt += grp[i] == k;
            fprintf(go, "%s,%zu,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g\n", gnames[k], cnt, ag->pop_before[k],
                    ag->pop_after[k], ag->income_before[k], ag->income_after[k], ag->ev[k], ag->welfare_hat[k],
                    ag->real_income_hat[k]);
        }
        cs_eq_aggregate_free(ag);
        st = cs_atomic_commit(af);
        af = NULL;
        if (st) goto fail;
    }
    /* summary */
    FILE *so = outp ? stdout : stderr;
    if (!cli_quiet || outp) {
        fprintf(so, "# %s run, %s mobility, theta %g, alpha %g, beta %g%s; %zu cities, %zu groups\n",
                horizon == CS_EQ_SHORT_RUN ? "short" : "long",
                p.mobility == CS_EQ_IMPERFECT ? "imperfect" : "perfect", p.theta, p.alpha, p.beta,
                p.mobility == CS_EQ_IMPERFECT ? ", kappa set" : "", n, ng);
        fprintf(so, "# iterations: calibration %d, counterfactual %d (residual %.2g)\n", base->iterations,
                after->iterations, after->residual);
        fprintf(so, "# aggregate welfare change: %+.6f%% (income-weighted), %+.6f%% (population-weighted)\n",
                100 * (chg->total_welfare_hat - 1), 100 * (chg->total_welfare_hat_pop - 1));
        fprintf(so, "# equivalent variation: %.6g (income units of the city table, per year if incomes are)\n",
                chg->total_ev);
        /* short run: each city's residents have their own welfare change; long run: equal within a
         * group under perfect mobility, so rank the cities by real income instead */
        const double *rk = horizon == CS_EQ_SHORT_RUN ? chg->resident_welfare_hat : chg->real_income_hat;
        const char *what = horizon == CS_EQ_SHORT_RUN ? "residents' welfare" : "real income w/P";
        cs_eq_rank(rk, n, order);
        size_t k = n < 5 ? n : 5;
        fprintf(so, "# largest gains (%s):", what);
        for (size_t r = 0; r < k; r++) fprintf(so, " %s %+.4f%%", ids[order[r]], 100 * (rk[order[r]] - 1));
        fprintf(so, "\n# smallest gains (%s):", what);
        for (size_t r = n - k; r < n; r++) fprintf(so, " %s %+.4f%%", ids[order[r]], 100 * (rk[order[r]] - 1));
        fprintf(so, "\n");
    }
    ret = CLI_EXIT_OK;
    goto done;
fail:
    if (af) cs_atomic_abort(af);
    ret = cli_fail(st);
    /* options were validated above: an invalid argument here is bad input data (a cost below 1, ...) */
    if (st == CS_EINVAL) ret = CLI_EXIT_INPUT;
done:
    csv_free(&t);
    cs_matrix_free(m0);
    cs_matrix_free(m1);
    cs_matrix_free(s0m);
    cs_matrix_free(s1m);
    cs_eq_model_free(model);
    cs_eq_state_free(base);
    cs_eq_state_free(after);
    cs_eq_change_free(chg);
    cs_diag_free(diag);
    cs_free(L);
    cs_free(grp);
    cs_free(order);
    cs_free(gnames);
    cs_free(labels);
    cs_free(ids);
    return ret;
}

const cli_command cli_cmd_simulate = {
    .name = "simulate",
    .summary = "evaluate a scenario (or a trade-cost change) with the spatial equilibrium model",
    .usage = "citysys simulate PROJECT --scenario FILE [--short-run|--long-run] [-o DIR]\n"
             "       citysys simulate --cities C.csv --tau-before B.csmat --tau-after A.csmat [--short-run|--long-run]",
    .description =
        "Project mode: runs the project's chain up to the scenarios step (network, matrix, indicators, ...; reused\n"
        "from the cache) with the scenario FILE(s) instead of the project's list, and writes DIR atomically with the\n"
        "per-city CSV and GeoPackage, aggregates, inequality, maps and scenarios.json (docs/scenarios.md). Exit 3\n"
        "with FILE:LINE:COLUMN messages when a scenario is invalid (nothing is evaluated).\n"
        "Expert mode (no PROJECT): calibrates productivity and amenity of every city to its population and income per head at the\n"
        "baseline costs (Allen & Arkolakis 2014), then solves the equilibrium after the change by exact hat\n"
        "algebra: short run (nobody moves) or long run (people move within their group, e.g. country).\n"
        "Writes one CSV row per city (hats = after/before; ev = equivalent variation of the city's baseline\n"
        "residents in income units) and a summary. Model and formulas: docs/model-equilibrium.md.",
    .options = simulate_opts,
    .min_pos = 0,
    .max_pos = 1,
    .run = run_simulate,
};

/* cmd_plan.c: `citysys plan SUBCOMMAND ...` — planning tools. Subcommands live in the dispatch table
 * `plan_subcommands` below; add one by writing its run function and a table entry (e.g. `portfolio`). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* cmd_run.c */
int cli_run_loaded(const cli_args *a, cs_project *p, cs_diag *d, cs_status st, const char *out, const char *until);
#include <jansson.h>
#include "citysys/facility.h"
#include "citysys/project.h"
#include "citysys/run.h"
#include "citysys/table.h"


typedef struct plan_subcommand {
    const char *name;
    const char *summary;
    const cli_command *cmd; /* options/help of the subcommand (name "plan NAME") */
} plan_subcommand;

/* ------------------------------------------------------------------ facilities */

static int run_facilities(int argc, char **argv);

static const cli_option facilities_opts[] = {
    {"matrix", 'm', "FILE", "travel-time matrix (binary .csmat): rows = demand cities, columns = candidate sites"},
    {"cities", 'c', "FILE", "city table (CSV/GeoPackage/GeoJSON): population = weight, lon/lat for catchments"},
    {"candidates", 0, "FILE", "table of candidate points that are not cities (id, lon, lat), for their coordinates"},
    {"orlib", 0, "FILE", "read an OR-Library p-median instance instead of --matrix (unit weights)"},
    {"model", 0, "NAME", "pmedian (default), mclp, scp or pcenter"},
    {"p", 'p', "N", "number of new sites (pmedian, mclp, pcenter); default from --orlib, else 1"},
    {"radius", 'r', "S", "coverage time for mclp/scp, in the matrix unit (seconds for a time matrix)"},
    {"capacity", 0, "COL", "city column giving each candidate's capacity (capacitated single-source p-median)"},
    {"existing", 0, "IDS", "comma-separated candidate ids that are existing facilities (kept open)"},
    {"unweighted", 0, NULL, "weight every demand point 1 instead of its population"},
    {"exact", 0, NULL, "exact method (GLPK branch and bound); default: exact up to 90,000 matrix cells"},
    {"heuristic", 0, NULL, "greedy + vertex substitution heuristic with a Lagrangian bound (p-median)"},
    {"time-limit", 't', "SEC", "time limit of the solver in seconds (default: none); the proven gap is reported"},
    {"gap", 0, "REL", "stop the exact method at this relative gap (default 0)"},
    {"seed", 0, "N", "heuristic seed (default 1)"},
    {"starts", 0, "N", "heuristic multi-starts (default 10)"},
    {"lagrangian-iters", 0, "N", "p-median Lagrangian bound iterations (default automatic; 0 = none)"},
    {"curve-radii", 0, "LIST", "coverage curves for these comma-separated radii (population covered vs sites)"},
    {"curve-max-sites", 0, "K", "coverage curves up to K new sites (default: p)"},
    {"national", 0, "Q", "nested level: choose Q national sites among the chosen sites (into OUTDIR/national)"},
    {"output", 'o', "OUTDIR", "output directory (sites.csv, assignment.csv, catchments.geojson, solution.json)"},
    {0},
};

static const cli_command facilities_cmd = {
    "plan facilities",
    "choose sites of shared facilities (p-median, maximal covering, set covering, p-center)",
    "citysys plan facilities --matrix M.csmat [--cities C.csv] --model pmedian|mclp|scp|pcenter -p P [--radius S] -o OUTDIR",
    "Places facilities that several cities share. Demand points are the matrix rows (weighted by the\n"
    "population of the city with the same id when --cities is given), candidate sites the matrix\n"
    "columns (+inf = unreachable). Existing facilities stay open; -p counts new sites. Outputs: sites,\n"
    "each city's facility and time, catchment population and hull polygon, coverage curves, as CSV,\n"
    "GeoJSON and JSON. Exit code 5 when the problem is infeasible (e.g. a city no site covers).\n"
    "Formulations and solvers: docs/facilities.md.",
    facilities_opts,
    0,
    0,
    run_facilities,
};

static int parse_list(const char *s, double *out, int cap)
{
    int k = 0;
    while (s && *s) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || errno || k >= cap) return -1;
        out[k++] = v;
        s = end;
        if (*s == ',') s++;
        else if (*s) return -1;
    }
    return k;
}

static const char *column_value(const cs_cities *c, const char *col, size_t row, double *num)
{
    *num = NAN;
    if (!strcmp(col, "population") && c->population) {
        *num = c->population[row];
        return "";
    }
    if (!strcmp(col, "employment") && c->employment) {
        *num = c->employment[row];
        return "";
    }
    if (!strcmp(col, "gdp") && c->gdp) {
        *num = c->gdp[row];
        return "";
    }
    for (size_t k = 0; k < c->extra.ncols; k++)
        if (!strcmp(c->extra.names[k], col)) {
            const char *v = c->extra.values[k][row];
            char *end;
            double d = strtod(v, &end);
            if (end != v && *end == 0) *num = d;
            return v;
        }
    return NULL;
}

static int run_facilities(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&facilities_cmd, argc, argv, &a);
    if (rc >= 0) return rc;
    const cli_command *cmd = &facilities_cmd;
    const char *mpath = cli_get(&a, "matrix", NULL), *orlib = cli_get(&a, "orlib", NULL);
    const char *cpath = cli_get(&a, "cities", NULL), *outdir = cli_get(&a, "output", NULL);
    if (!!mpath == !!orlib) return cli_usage_error(cmd, "give exactly one of --matrix or --orlib");
    if (!outdir) return cli_usage_error(cmd, "missing --output OUTDIR");
    if (cli_has(&a, "exact") && cli_has(&a, "heuristic"))
        return cli_usage_error(cmd, "--exact and --heuristic exclude each other");
    cs_fac_problem pr = {0};
    if (cs_fac_model_parse(cli_get(&a, "model", "pmedian"), &pr.model))
        return cli_usage_error(cmd, "%s", cs_error_last()->message);
    int ok = 1;
    long p = cli_get_long(&a, "p", -1, &ok);
    double radius = cli_get_double(&a, "radius", NAN, &ok);
    double tlim = cli_get_double(&a, "time-limit", 0, &ok);
    double gap = cli_get_double(&a, "gap", 0, &ok);
    long seed = cli_get_long(&a, "seed", 1, &ok);
    long starts = cli_get_long(&a, "starts", 10, &ok);
    long lagr = cli_get_long(&a, "lagrangian-iters", -1, &ok);
    long national = cli_get_long(&a, "national", 0, &ok);
    long kmax = cli_get_long(&a, "curve-max-sites", -1, &ok);
    if (!ok) return CLI_EXIT_USAGE;
    if (cli_has(&a, "p") && p < 0) return cli_usage_error(cmd, "-p must be >= 0");
    if ((pr.model == CS_FAC_MCLP || pr.model == CS_FAC_SCP) && isnan(radius))
        return cli_usage_error(cmd, "model %s needs --radius", cs_fac_model_name(pr.model));
    if (tlim < 0 || gap < 0 || starts <= 0 || national < 0)
        return cli_usage_error(cmd, "--time-limit, --gap, --starts and --national must be positive");
    double radii[64];
    int nradii = 0;
    if (cli_has(&a, "curve-radii")) {
        nradii = parse_list(cli_get(&a, "curve-radii", ""), radii, 64);
        if (nradii <= 0) return cli_usage_error(cmd, "--curve-radii: expected comma-separated numbers");
    }
    if (cli_has(&a, "capacity") && !cpath) return cli_usage_error(cmd, "--capacity needs --cities");
    if (cli_has(&a, "candidates") && !cpath) return cli_usage_error(cmd, "--candidates needs --cities");

    int exit_code = CLI_EXIT_OK;
    cs_status st = CS_OK;
    cs_matrix *M = NULL;
    cs_cities *cities = NULL;
    double *w = NULL, *dlon = NULL, *dlat = NULL, *clon = NULL, *clat = NULL, *cap = NULL, *curve = NULL;
    const char **dname = NULL;
    uint32_t *existing = NULL;
    size_t nexisting = 0;
    cs_fac_solution *sol = NULL, *nat = NULL;
    cs_diag *diag = NULL;

    if (orlib) {
        size_t op = 0;
        st = cs_fac_read_orlib(orlib, &M, &op);
        if (st) goto fail;
        if (!cli_has(&a, "p")) p = (long)op;
    } else {
        st = cs_matrix_read(mpath, NULL, &M);
        if (st) goto fail;
    }
    if (p < 0) p = 1;
    size_t n = M->rows, m = M->cols;
    if (cpath) {
        diag = cs_diag_new();
        if (!diag) {
            st = CS_ENOMEM;
            goto fail;
        }
        st = cs_cities_read(cpath, NULL, diag, &cities);
        cli_print_diag(diag);
        if (st) {
            exit_code = cli_exit_code(st);
            goto out;
        }
        w = cs_calloc(n, sizeof *w);
        dlon = cs_calloc(n, sizeof *dlon);
        dlat = cs_calloc(n, sizeof *dlat);
        dname = cs_calloc(n, sizeof *dname);
        clon = cs_calloc(m, sizeof *clon);
        clat = cs_calloc(m, sizeof *clat);
        if (!w || !dlon || !dlat || !dname || !clon || !clat) {
            st = cs_error_set(CS_ENOMEM, "out of memory");
            goto fail;
        }
        size_t missing = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t k = cs_cities_find(cities, M->row_ids[i]);
            if (k == CS_INVALID_ID) {
                if (missing++ < 10)
                    fprintf(stderr, "citysys: error: %s: matrix row '%s' is not a city of %s\n", mpath ? mpath : orlib,
                            M->row_ids[i], cpath);
                continue;
            }
            w[i] = cities->population ? cities->population[k] : 1.0;
            if (isnan(w[i])) w[i] = 0;
            dlon[i] = cities->lon[k];
            dlat[i] = cities->lat[k];
            dname[i] = cities->name[k];
        }
        if (missing) {
            fprintf(stderr, "citysys: error: %zu matrix rows have no city (ids must match)\n", missing);
            exit_code = CLI_EXIT_INPUT;
            goto out;
        }
        const char *capcol = cli_get(&a, "capacity", NULL);
        if (capcol) {
            cap = cs_calloc(m, sizeof *cap);
            if (!cap) {
                st = cs_error_set(CS_ENOMEM, "out of memory");
                goto fail;
            }
        }
        for (size_t j = 0; j < m; j++) {
            uint32_t k = cs_cities_find(cities, M->col_ids[j]);
            clon[j] = k == CS_INVALID_ID ? NAN : cities->lon[k];
            clat[j] = k == CS_INVALID_ID ? NAN : cities->lat[k];
            if (cap) {
                double v = NAN;
                if (k == CS_INVALID_ID || !column_value(cities, capcol, k, &v)) {
                    fprintf(stderr, "citysys: error: capacity column '%s' missing for candidate '%s'\n", capcol,
                            M->col_ids[j]);
                    exit_code = CLI_EXIT_INPUT;
                    goto out;
                }
                cap[j] = isnan(v) ? INFINITY : v;
            }
        }
        if (cli_has(&a, "unweighted"))
            for (size_t i = 0; i < n; i++) w[i] = 1;
        const char *candpath = cli_get(&a, "candidates", NULL);
        if (candpath) {
            /* coordinates of candidate points that are not cities, read like a city table */
            cs_cities *cand = NULL;
            cs_diag *d2 = cs_diag_new();
            st = d2 ? cs_cities_read(candpath, NULL, d2, &cand) : CS_ENOMEM;
            if (d2) cli_print_diag(d2);
            cs_diag_free(d2);
            if (st) {
                exit_code = cli_exit_code(st);
                goto out;
            }
            for (size_t j = 0; j < m; j++) {
                uint32_t k = cs_cities_find(cand, M->col_ids[j]);
                if (k != CS_INVALID_ID) {
                    clon[j] = cand->lon[k];
                    clat[j] = cand->lat[k];
                }
            }
            cs_cities_free(cand);
        }
    }
    const char *ex = cli_get(&a, "existing", NULL);
    if (ex && *ex) {
        existing = cs_calloc(m, sizeof *existing);
        char *copy = cs_strdup(ex);
        if (!existing || !copy) {
            cs_free(copy);
            st = cs_error_set(CS_ENOMEM, "out of memory");
            goto fail;
        }
        for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
            size_t j = 0;
            while (j < m && strcmp(M->col_ids[j], tok)) j++;
            if (j == m) {
                fprintf(stderr, "citysys: error: --existing: '%s' is not a candidate site (matrix column)\n", tok);
                cs_free(copy);
                exit_code = CLI_EXIT_INPUT;
                goto out;
            }
            if (nexisting < m) existing[nexisting++] = (uint32_t)j;
        }
        cs_free(copy);
    }
    pr.cost = M;
    pr.weight = w;
    pr.p = (size_t)p;
    pr.radius = radius;
    pr.existing = existing;
    pr.nexisting = nexisting;
    pr.capacity = cap;
    cs_fac_options o;
    cs_fac_options_default(&o);
    o.method = cli_has(&a, "exact") ? CS_FAC_EXACT : cli_has(&a, "heuristic") ? CS_FAC_HEURISTIC : CS_FAC_AUTO;
    o.time_limit_s = tlim;
    o.mip_gap = gap;
    o.seed = (uint64_t)seed;
    o.starts = (int)starts;
    o.lagrangian_iters = lagr < 0 ? -1 : lagr > 1000000 ? 1000000 : (int)lagr;
    o.progress = cli_progress();
    st = cs_fac_solve(&pr, &o, &sol);
    cli_progress_done();
    if (st) goto fail;
    size_t K = kmax >= 0 ? (size_t)kmax : (size_t)p;
    if (nradii) {
        curve = cs_calloc((size_t)nradii * (K + 1), sizeof *curve);
        if (!curve) {
            st = cs_error_set(CS_ENOMEM, "out of memory");
            goto fail;
        }
        cs_fac_options oc = o;
        oc.time_limit_s = tlim;
        st = cs_fac_coverage_curve(&pr, radii, (size_t)nradii, K, &oc, curve);
        cli_progress_done();
        if (st) goto fail;
    }
    cs_fac_geo geo = {dlon, dlat, clon, clat, dname};
    st = cs_fac_write(&pr, sol, cities ? &geo : NULL, radii, (size_t)nradii, K, curve, outdir);
    if (st) goto fail;
    if (cities) {
        /* the same results as GeoPackage layers for QGIS: sites, assignment, catchments */
        char *gp = cs_asprintf("%s/facilities.gpkg", outdir);
        cs_gpkg_writer *gw = NULL;
        st = gp ? cs_gpkg_begin(gp, &gw) : CS_ENOMEM;
        if (!st) st = cs_fac_write_layers(&pr, sol, &geo, "", gw);
        if (gw) {
            if (!st) st = cs_gpkg_commit(gw);
            else cs_gpkg_abort(gw);
        }
        cs_free(gp);
        if (st) goto fail;
    }
    if (national > 0) {
        st = cs_fac_solve_nested(&pr, sol, (size_t)national, NULL, 0, &o, &nat);
        if (st) goto fail;
        char *sub = cs_asprintf("%s/national", outdir);
        if (!sub) {
            st = CS_ENOMEM;
            goto fail;
        }
        cs_fac_problem np = pr;
        np.model = CS_FAC_PMEDIAN;
        np.p = (size_t)national;
        np.existing = NULL;
        np.nexisting = 0;
        np.capacity = NULL;
        st = cs_fac_write(&np, nat, cities ? &geo : NULL, NULL, 0, 0, NULL, sub);
        cs_free(sub);
        if (st) goto fail;
    }
    printf("model %s, method %s: objective %.10g", cs_fac_model_name(sol->model),
           sol->method == CS_FAC_EXACT ? "exact" : "heuristic", sol->objective);
    if (!isnan(sol->bound)) printf(", bound %.10g (%s), gap %.4g%%", sol->bound, sol->bound_kind, 100 * sol->gap);
    printf("%s%s\n", sol->optimal ? ", optimal" : "", sol->time_limited ? ", stopped by the time limit" : "");
    printf("sites (%zu):", sol->nsites);
    for (size_t s = 0; s < sol->nsites; s++) printf(" %s%s", M->col_ids[sol->sites[s]], sol->existing[s] ? "*" : "");
    printf("\n");
    if (nat) {
        printf("national sites (%zu):", nat->nsites);
        for (size_t s = 0; s < nat->nsites; s++) printf(" %s", M->col_ids[nat->sites[s]]);
        printf(" (weighted time %.10g)\n", nat->objective);
    }
    cli_note("%s; outputs in %s", sol->message, outdir);
    goto out;
fail:
    exit_code = cli_fail(st);
out:
    cs_fac_solution_free(sol);
    cs_fac_solution_free(nat);
    cs_matrix_free(M);
    if (cities) cs_cities_free(cities);
    cs_diag_free(diag);
    cs_free(w);
    cs_free(dlon);
    cs_free(dlat);
    cs_free((void *)dname);
    cs_free(clon);
    cs_free(clat);
    cs_free(cap);
    cs_free(curve);
    cs_free(existing);
    return exit_code;
}

/* ------------------------------------------------------------------ portfolio */

static int run_portfolio(int argc, char **argv);

static const cli_option portfolio_opts[] = {
    {"budgets", 'b', "LIST", "comma-separated total capital budgets (money), overriding portfolio.budgets"},
    {"epsilons", 'e', "LIST", "comma-separated Atkinson inequality aversions, overriding portfolio.epsilons"},
    {"method", 0, "NAME", "greedy, exhaustive (up to 20 candidates) or auto (exhaustive up to 12)"},
    {"screen", 0, "N", "greedy: candidates re-evaluated exactly per step, best by first-order estimate (0 = all)"},
    {"outcome", 0, "NAME", "real_income (short run) or welfare (long run, default)"},
    {"draws", 0, "N", "sensitivity draws (0 = no sensitivity analysis)"},
    {"seed", 0, "N", "seed of the sensitivity draws"},
    {"output", 'o', "DIR", "output folder (required); replaced atomically when it is an earlier citysys output"},
    {"cache-dir", 0, "DIR", "step cache (default: .citysys-cache next to the output folder)"},
    {"no-cache", 0, NULL, "neither read nor write the step cache"},
    {0},
};

static const cli_command portfolio_cmd = {
    "plan portfolio",
    "choose a budget-constrained, equity-weighted portfolio of candidate projects, appraise it, test it",
    "citysys plan portfolio PROJECT [--budgets LIST] [--epsilons LIST] [--method M] [--draws N] -o DIR",
    "Runs the project's steps up to `portfolio` (network, matrix, indicators, ..., scenarios) and then\n"
    "chooses, among the candidate projects of portfolio.candidates_path (one candidate = one change of a\n"
    "scenario file: build, link, upgrade, close, border, soft, ict, facility, productivity or amenity),\n"
    "the portfolio that maximises the Atkinson equally-distributed-equivalent gain of the per-person\n"
    "outcome under each budget, every portfolio evaluated with the spatial equilibrium model.\n"
    "Options override the project's portfolio section. Outputs: portfolio_projects.csv (ranked, with NPV,\n"
    "EIRR, BCR, FYRR, switching values), portfolio.gpkg (chosen links), portfolio_frontier.csv,\n"
    "portfolio_sensitivity.csv, portfolio.json, chart_portfolio_frontier.png/svg/pdf, and everything the\n"
    "earlier steps write. Same caching and atomic output folder as `citysys run`. docs/portfolio.md.",
    portfolio_opts,
    1,
    1,
    run_portfolio,
};

static int set_list(json_t *sec, const char *key, const char *val)
{
    json_t *arr = json_array();
    const char *q = val;
    while (q && *q) {
        char *end;
        errno = 0;
        double x = strtod(q, &end);
        if (end == q || errno) {
            json_decref(arr);
            return -1;
        }
        json_array_append_new(arr, json_real(x));
        q = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') {
            json_decref(arr);
            return -1;
        }
    }
    json_object_set_new(sec, key, arr);
    return 0;
}

static int run_portfolio(int argc, char **argv)
{
    const cli_command *cmd = &portfolio_cmd;
    cli_args a;
    int rc = cli_parse(cmd, argc, argv, &a);
    if (rc >= 0) return rc;
    const char *out = cli_get(&a, "output", NULL);
    if (!out || !*out) return cli_usage_error(cmd, "missing -o DIR");
    /* the project with the options written into its portfolio section (paths stay relative to its folder) */
    json_error_t je;
    json_t *doc = json_load_file(a.pos[0], JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        /* the project reader's own diagnostics (located syntax error or unreadable file) */
        cs_diag *d = cs_diag_new();
        cs_project *bad = NULL;
        cs_status st = cs_project_load(a.pos[0], d, &bad);
        cs_project_free(bad);
        cli_print_diag(d);
        cs_diag_free(d);
        return cli_exit_code(st ? st : CS_EPARSE);
    }
    json_t *sec = json_object_get(doc, "portfolio");
    if (!json_is_object(sec)) {
        fprintf(stderr, "citysys plan portfolio: error: %s has no portfolio section (docs/project-file.md)\n", a.pos[0]);
        json_decref(doc);
        return CLI_EXIT_INPUT;
    }
    int bad = 0;
    const char *v;
    if ((v = cli_get(&a, "budgets", NULL)) && set_list(sec, "budgets", v)) bad = 1;
    if ((v = cli_get(&a, "epsilons", NULL)) && set_list(sec, "epsilons", v)) bad = 1;
    if (bad) {
        json_decref(doc);
        return cli_usage_error(cmd, "--budgets/--epsilons: expected comma-separated numbers");
    }
    if ((v = cli_get(&a, "method", NULL))) json_object_set_new(sec, "method", json_string(v));
    if ((v = cli_get(&a, "outcome", NULL))) json_object_set_new(sec, "outcome", json_string(v));
    int ok = 1;
    if (cli_has(&a, "screen")) json_object_set_new(sec, "screen", json_integer(cli_get_long(&a, "screen", 4, &ok)));
    if (!ok) {
        json_decref(doc);
        return CLI_EXIT_USAGE;
    }
    if (cli_has(&a, "draws") || cli_has(&a, "seed")) {
        json_t *se = json_object_get(sec, "sensitivity");
        if (!json_is_object(se)) {
            se = json_object();
            json_object_set_new(sec, "sensitivity", se);
        }
        if (cli_has(&a, "draws")) json_object_set_new(se, "draws", json_integer(cli_get_long(&a, "draws", 0, &ok)));
        if (ok && cli_has(&a, "seed")) json_object_set_new(se, "seed", json_integer(cli_get_long(&a, "seed", 1, &ok)));
        if (!ok) {
            json_decref(doc);
            return CLI_EXIT_USAGE;
        }
    }
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(doc);
    if (!text) return cli_fail(CS_ENOMEM);
    cs_diag *d = cs_diag_new();
    cs_project *p = NULL;
    cs_status st = d ? cs_project_parse(text, strlen(text), a.pos[0], 0, d, &p) : CS_ENOMEM;
    free(text);
    if (!d) return cli_fail(CS_ENOMEM);
    return cli_run_loaded(&a, p, d, st, out, "portfolio");
}

/* ------------------------------------------------------------------ dispatch */

static const plan_subcommand plan_subcommands[] = {
    {"facilities", "choose sites of shared facilities (p-median, covering, p-center)", &facilities_cmd},
    {"portfolio", "choose, appraise and test a portfolio of candidate projects under budgets", &portfolio_cmd},
    {NULL, NULL, NULL},
};

static void plan_help(FILE *out)
{
    fprintf(out, "Usage: citysys plan SUBCOMMAND [OPTIONS]\n\nPlanning tools.\n\nSubcommands:\n");
    for (const plan_subcommand *s = plan_subcommands; s->name; s++) fprintf(out, "  %-14s %s\n", s->name, s->summary);
    fprintf(out, "\nRun 'citysys plan SUBCOMMAND --help' for the options of one subcommand.\n"
                 "Exit codes: 0 ok, 1 failure, 2 usage, 3 bad input, 4 I/O, 5 infeasible.\n");
}

static int run_plan(int argc, char **argv)
{
    if (argc < 2) {
        plan_help(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        plan_help(stdout);
        return CLI_EXIT_OK;
    }
    for (const plan_subcommand *s = plan_subcommands; s->name; s++)
        if (!strcmp(argv[1], s->name)) return s->cmd->run(argc - 1, argv + 1);
    fprintf(stderr, "citysys plan: error: unknown subcommand '%s'\nTry 'citysys plan --help'.\n", argv[1]);
    return CLI_EXIT_USAGE;
}

const cli_command cli_cmd_plan = {
    "plan",
    "planning: shared facilities (plan facilities), investment portfolios (plan portfolio)",
    "citysys plan SUBCOMMAND [OPTIONS]",
    "Subcommands: facilities, portfolio. See 'citysys plan SUBCOMMAND --help'.",
    NULL,
    1,
    -1,
    run_plan,
};

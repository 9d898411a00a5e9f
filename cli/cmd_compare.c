/* cmd_compare.c: `citysys compare PROJECT FILE... [-o DIR]` — scenarios side by side, evaluated on the
 * project's baseline with the main job's machinery and cache (cs_scenario_run_project); also the
 * project mode of `citysys simulate`, which shares cli_scenario_project below. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "citysys/scenario.h"

static const cli_option compare_opts[] = {
    {"output", 'o', "DIR", "output folder (default: compare_out); replaced atomically when it is an earlier citysys output"},
    {"short-run", 0, NULL, "nobody moves (population fixed)"},
    {"long-run", 0, NULL, "people move within their mobility group (default: the project's horizon)"},
    {"cache-dir", 0, "DIR", "step cache (default: .citysys-cache next to the output folder)"},
    {"no-cache", 0, NULL, "neither read nor write the step cache"},
    {0}};

static double jnum(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* print the headline figures of DIR/scenarios.json, one line per scenario */
static void print_headlines(const char *dir)
{
    char *p = cs_asprintf("%s/scenarios.json", dir);
    json_error_t je;
    json_t *doc = p ? json_load_file(p, 0, &je) : NULL;
    cs_free(p);
    const json_t *l = json_object_get(doc, "scenarios");
    printf("%-28s %18s %12s %12s %10s %10s %18s %8s\n", "scenario", "ev_per_year", "welfare_%", "welfare_pop_%",
           "gini_bef", "gini_aft", "npv", "eirr_%");
    for (size_t k = 0; k < json_array_size(l); k++) {
        const json_t *o = json_array_get(l, k), *ap = json_object_get(o, "appraisal");
        printf("%-28s %18.6g %12.5f %12.5f %10.5f %10.5f %18.6g %8.2f\n", json_string_value(json_object_get(o, "name")),
               jnum(o, "total_equivalent_variation"), 100 * jnum(o, "welfare_change_income_weighted"),
               100 * jnum(o, "welfare_change_population_weighted"), jnum(o, "gini_real_income_before"),
               jnum(o, "gini_real_income_after"), ap ? jnum(ap, "npv") : NAN, ap ? 100 * jnum(ap, "eirr") : NAN);
    }
    json_decref(doc);
}

int cli_scenario_project(const cli_command *cmd, const cli_args *a, const char *project, const char *const *files,
                         size_t nfiles, const char *def_out);
int cli_scenario_project(const cli_command *cmd, const cli_args *a, const char *project, const char *const *files,
                         size_t nfiles, const char *def_out)
{
    if (cli_has(a, "short-run") && cli_has(a, "long-run"))
        return cli_usage_error(cmd, "--short-run and --long-run exclude each other");
    int horizon = cli_has(a, "short-run") ? CS_EQ_SHORT_RUN : cli_has(a, "long-run") ? CS_EQ_LONG_RUN : -1;
    const char *out = cli_get(a, "output", def_out);
    cs_diag *d = cs_diag_new();
    if (!d) return cli_fail(CS_ENOMEM);
    cs_project *p = NULL;
    cs_status st = cs_project_load(project, d, &p);
    if (!st) {
        cs_run_opts o;
        cs_run_opts_init(&o);
        o.progress = cli_progress();
        o.cache_dir = cli_get(a, "cache-dir", NULL);
        o.no_cache = cli_has(a, "no-cache");
        cs_run_summary sum;
        st = cs_scenario_run_project(p, files, nfiles, horizon, &o, out, d, &sum);
        cli_progress_done();
    }
    cli_print_diag(d);
    int rc;
    if (st) rc = cs_diag_errors(d) ? cli_exit_code(st) : cli_fail(st);
    else {
        print_headlines(out);
        cli_note("results in %s (scenarios.json, scenarios_compare.csv, scenarios_cities.csv, scenario_NAME.*)", out);
        rc = CLI_EXIT_OK;
    }
    cs_project_free(p);
    cs_diag_free(d);
    return rc;
}

static int run_compare(int argc, char **argv)
{
    extern const cli_command cli_cmd_compare;
    cli_args a;
    int rc = cli_parse(&cli_cmd_compare, argc, argv, &a);
    if (rc >= 0) return rc;
    return cli_scenario_project(&cli_cmd_compare, &a, a.pos[0], a.pos + 1, (size_t)a.npos - 1, "compare_out");
}

const cli_command cli_cmd_compare = {
    .name = "compare",
    .summary = "evaluate several scenarios on a project and put them side by side",
    .usage = "citysys compare PROJECT FILE... [-o DIR] [--short-run|--long-run]",
    .description =
        "Runs the project's chain (network, matrix, indicators, ...; reused from the cache) with its scenario list\n"
        "replaced by the FILEs (JSON or GeoJSON scenario files, docs/scenarios.md), evaluates every scenario with\n"
        "the spatial equilibrium model calibrated once to the baseline, and writes DIR atomically: per scenario\n"
        "scenario_NAME.csv/.gpkg, _groups.csv, _countries.csv, _inequality.csv, a map and a chart; for all of them\n"
        "scenarios_compare.csv (one row per scenario: equivalent variation, welfare change, NPV, EIRR, Gini before\n"
        "and after, ...), scenarios_cities.csv (one column per scenario) and scenarios.json. Prints the headline\n"
        "figures. Exit 3 (with FILE:LINE:COLUMN messages) when a scenario is invalid: nothing is evaluated then.",
    .options = compare_opts,
    .min_pos = 2,
    .max_pos = -1,
    .run = run_compare,
};

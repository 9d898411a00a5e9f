/* cmd_run.c: `citysys run PROJECT -o OUTDIR` — the main job. */
#include <string.h>
#include "cli.h"

static const cli_option opts[] = {
    {"output", 'o', "DIR", "output folder (required); replaced atomically when it is an earlier citysys output"},
    {"cache-dir", 0, "DIR", "step cache (default: .citysys-cache next to the output folder)"},
    {"no-cache", 0, NULL, "neither read nor write the step cache"},
    {"until", 0, "STEP", "stop after this step (validate, network, matrix, indicators, typology, flows, scenarios, portfolio, facilities, export)"},
    {0}};

static int run(int argc, char **argv);

const cli_command cli_cmd_run = {
    "run",
    "run every step the project asks for and write all results into one output folder",
    "citysys run PROJECT -o OUTDIR",
    "Validates the project and its inputs, then runs its steps in order (validate, network, matrix,\n"
    "indicators, typology, flows, scenarios, portfolio, facilities, export, report) into a temporary folder beside OUTDIR, writes manifest.json (inputs, fingerprints,\n"
    "versions, outputs with SHA-256) last and swaps the folder into place. A failed or interrupted\n"
    "run leaves OUTDIR as it was. Unchanged steps are reused from the cache. Prints the path of the\n"
    "output folder on success.",
    opts, 1, 1, run};

/* shared with the commands that run the main job up to one step (cmd_flows.c, cmd_plan.c) */
int cli_run_project(const cli_command *cmd, const cli_args *a, const char *until);
int cli_run_loaded(const cli_args *a, cs_project *p, cs_diag *d, cs_status st, const char *out, const char *until);

static int run(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&cli_cmd_run, argc, argv, &a);
    if (rc >= 0) return rc;
    return cli_run_project(&cli_cmd_run, &a, cli_get(&a, "until", NULL));
}

/* Run the loaded project p (st: the status of loading it) up to `until` into `out` with the options
 * --cache-dir / --no-cache of a, print the diagnostics and the result; frees p and d. */
int cli_run_loaded(const cli_args *a, cs_project *p, cs_diag *d, cs_status st, const char *out, const char *until)
{
    int rc;
    cs_run_summary sum;
    memset(&sum, 0, sizeof sum);
    if (!st) {
        cs_run_opts o;
        cs_run_opts_init(&o);
        o.progress = cli_progress();
        o.cache_dir = cli_get(a, "cache-dir", NULL);
        o.no_cache = cli_has(a, "no-cache");
        o.until = until;
        st = cs_run(p, out, &o, d, &sum);
        cli_progress_done();
    }
    cli_print_diag(d);
    if (st) {
        rc = cs_diag_errors(d) ? cli_exit_code(st) : cli_fail(st);
    } else {
        cli_note("%zu steps (%zu of %zu cached steps reused from the cache), %zu files", sum.nsteps, sum.nreused, sum.ncached, sum.noutputs);
        printf("%s\n", out);
        rc = CLI_EXIT_OK;
    }
    cs_project_free(p);
    cs_diag_free(d);
    return rc;
}

int cli_run_project(const cli_command *cmd, const cli_args *a, const char *until)
{
    const char *out = cli_get(a, "output", NULL);
    if (!out || !*out) return cli_usage_error(cmd, "missing -o OUTDIR");
    cs_diag *d = cs_diag_new();
    if (!d) return cli_fail(CS_ENOMEM);
    cs_project *p = NULL;
    cs_status st = cs_project_load(a->pos[0], d, &p);
    return cli_run_loaded(a, p, d, st, out, until);
}

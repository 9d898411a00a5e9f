/* cmd_scenario.c: `citysys scenario check PROJECT FILE...` — validate scenario files against a project's
 * baseline (cities, network ids, countries, regions, border matrices) without evaluating them. */
#include <string.h>
#include "cli.h"
#include "citysys/scenario.h"

static const cli_option check_opts[] = {
    {"cache-dir", 0, "DIR", "reuse (or fill) the network step of this step cache, e.g. the .citysys-cache of an earlier run (default: none, the network is built in a temporary folder)"},
    {0}};

static int run_check(int argc, char **argv);
static const cli_command sub_check = {
    "scenario check", "validate scenario files against a project's baseline",
    "citysys scenario check PROJECT FILE... [--cache-dir DIR]",
    "Reads every scenario FILE (JSON or GeoJSON, with its includes) and checks it against the project: segment\n"
    "and proposed-link ids of the network, city ids, country and region codes, the border matrices, drawn\n"
    "links joining the network within the tolerance, every value in range. Prints each problem as\n"
    "FILE:LINE:COLUMN: error: JSON.PATH: message. Exit 0 when every file is valid, 3 when one is not, 4 when one\n"
    "cannot be read. The project is validated as `citysys run` does. The network is built in a temporary folder\n"
    "(nothing is written), or taken from the step cache named by --cache-dir (built there when missing, so the\n"
    "next check or run reuses it). Format: docs/scenarios.md.",
    check_opts, 2, -1, run_check};

static int run_check(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&sub_check, argc, argv, &a);
    if (rc >= 0) return rc;
    cs_diag *d = cs_diag_new();
    if (!d) return cli_fail(CS_ENOMEM);
    cs_project *p = NULL;
    cs_status st = cs_project_load(a.pos[0], d, &p);
    cs_run_opts ro;
    cs_run_opts_init(&ro);
    ro.cache_dir = cli_get(&a, "cache-dir", NULL);
    ro.no_cache = ro.cache_dir == NULL;
    ro.progress = cli_progress();
    if (!st) st = cs_scenario_check_project_opts(p, a.pos + 1, (size_t)a.npos - 1, &ro, d);
    cli_progress_done();
    cli_print_diag(d);
    if (st) rc = cs_diag_errors(d) ? cli_exit_code(st) : cli_fail(st);
    else {
        for (int k = 1; k < a.npos; k++) printf("%s: ok\n", a.pos[k]);
        rc = CLI_EXIT_OK;
    }
    cs_project_free(p);
    cs_diag_free(d);
    return rc;
}

static int run(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        FILE *o = argc < 2 ? stderr : stdout;
        fprintf(o, "Usage: citysys scenario check PROJECT FILE...\n\n  %-16s %s\n\nSee `citysys scenario check --help`.\n",
                "check", sub_check.summary);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "check")) return run_check(argc - 1, argv + 1);
    fprintf(stderr, "citysys scenario: error: unknown subcommand '%s' (check)\n", argv[1]);
    return CLI_EXIT_USAGE;
}

const cli_command cli_cmd_scenario = {
    "scenario", "check scenario files against a project", "citysys scenario check PROJECT FILE...",
    "Subcommands: check (validate scenario files against the project's baseline; docs/scenarios.md).", NULL, 0, -1, run};

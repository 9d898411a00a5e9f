/* cmd_flows.c: `citysys flows|criticality|centrality PROJECT -o DIR` — the main job up to the step that
 * computes them (the analyses need the project's network, matrix and indicators). */
#include "cli.h"

int cli_run_project(const cli_command *cmd, const cli_args *a, const char *until);
extern const cli_option cli_run_until_opts[];

const cli_option cli_run_until_opts[] = {
    {"output", 'o', "DIR", "output folder (required); replaced atomically when it is an earlier citysys output"},
    {"cache-dir", 0, "DIR", "step cache (default: .citysys-cache next to the output folder)"},
    {"no-cache", 0, NULL, "neither read nor write the step cache"},
    {0}};

static int run_flows(int argc, char **argv);

const cli_command cli_cmd_flows = {
    "flows", "load of the gravity flows on every road segment (runs the project up to the flows step)",
    "citysys flows PROJECT -o DIR",
    "Runs the project's steps up to `flows`: the load on every road segment (flow and city pairs served,\n"
    "equal split among tied fastest routes) and, unless flows.criticality is false, the criticality of\n"
    "every loaded segment. Outputs roads.csv, flows.json and everything the earlier steps write; see\n"
    "docs/flows.md. Same caching and atomic output folder as `citysys run`.",
    cli_run_until_opts, 1, 1, run_flows};

/* also used by cmd_criticality.c and cmd_centrality.c */
int cli_run_until(const cli_command *cmd, int argc, char **argv, const char *until);
int cli_run_until(const cli_command *cmd, int argc, char **argv, const char *until)
{
    cli_args a;
    int rc = cli_parse(cmd, argc, argv, &a);
    if (rc >= 0) return rc;
    return cli_run_project(cmd, &a, until);
}

static int run_flows(int argc, char **argv) { return cli_run_until(&cli_cmd_flows, argc, argv, "flows"); }

/* cmd_criticality.c: `citysys criticality PROJECT -o DIR` (the main job up to the flows step). */
#include "cli.h"

extern const cli_option cli_run_until_opts[];
int cli_run_until(const cli_command *cmd, int argc, char **argv, const char *until);
static int run_crit(int argc, char **argv);

const cli_command cli_cmd_criticality = {
    "criticality", "criticality of every loaded road segment: cost of closing it, flow and people cut off",
    "citysys criticality PROJECT -o DIR",
    "Runs the project's steps up to `flows` with criticality: roads.csv ranks every loaded segment by\n"
    "the flow cut off, then the rise in flow-weighted travel time when it is closed (docs/flows.md).",
    cli_run_until_opts, 1, 1, run_crit};

static int run_crit(int argc, char **argv) { return cli_run_until(&cli_cmd_criticality, argc, argv, "flows"); }

/* cmd_centrality.c: `citysys centrality PROJECT -o DIR` (the main job up to the typology step). */
#include "cli.h"

extern const cli_option cli_run_until_opts[];
int cli_run_until(const cli_command *cmd, int argc, char **argv, const char *until);
static int run_cent(int argc, char **argv);

const cli_command cli_cmd_centrality = {
    "centrality", "centralities and communities of the city adjacency graph",
    "citysys centrality PROJECT -o DIR",
    "Runs the project's steps up to `typology`: centrality.csv (closeness, harmonic, betweenness,\n"
    "eigenvector, Louvain community per city; docs/centrality.md) with the typology.",
    cli_run_until_opts, 1, 1, run_cent};

static int run_cent(int argc, char **argv) { return cli_run_until(&cli_cmd_centrality, argc, argv, "typology"); }

/* main.c: `citysys COMMAND ...` dispatcher. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"

const cli_command *cli_find_command(const char *name)
{
    for (int i = 0; cli_commands[i]; i++)
        if (!strcmp(cli_commands[i]->name, name)) return cli_commands[i];
    return NULL;
}

static void print_main_help(FILE *out)
{
    fprintf(out,
            "Usage: citysys COMMAND [OPTIONS] [ARGS]\n\n"
            "citysys analyses and plans systems of secondary cities: travel-time matrices over real\n"
            "road networks, typology, market access, inequality, scenarios of hard and soft\n"
            "infrastructure under a spatial equilibrium model, investment portfolios and facilities.\n\n"
            "Commands:\n");
    for (int i = 0; cli_commands[i]; i++) fprintf(out, "  %-14s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
    fprintf(out,
            "\nGlobal options:\n"
            "  -h, --help       show this help (or `citysys COMMAND --help` for one command)\n"
            "  -V, --version    print the version of citysys and of its dependencies\n"
            "  -q, --quiet      (after COMMAND) no progress bar or notes on stderr\n\n"
            "Exit codes: 0 ok, 1 failure, 2 usage, 3 bad input, 4 I/O, 5 infeasible.\n"
            "Documentation: docs/cli.md; errors: docs/errors.md.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_main_help(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *c = argv[1];
    if (!strcmp(c, "-h") || !strcmp(c, "--help") || !strcmp(c, "help")) {
        if (argc > 2 && strcmp(c, "help") == 0) {
            const cli_command *cmd = cli_find_command(argv[2]);
            if (cmd) {
                cli_print_help(cmd, stdout);
                return 0;
            }
        }
        print_main_help(stdout);
        return 0;
    }
    if (!strcmp(c, "-V") || !strcmp(c, "--version") || !strcmp(c, "version")) {
        printf("citysys %s\n%s", cs_version(), cs_dependency_versions());
        return 0;
    }
    const cli_command *cmd = cli_find_command(c);
    if (!cmd) {
        fprintf(stderr, "citysys: error: unknown command '%s'\nTry 'citysys --help'.\n", c);
        return CLI_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}

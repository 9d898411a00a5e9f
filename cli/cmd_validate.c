/* cmd_validate.c: `citysys validate PROJECT` — load the project and every input, print all problems. */
#include <string.h>
#include "cli.h"

static const cli_option opts[] = {{0}};

static int run(int argc, char **argv);

const cli_command cli_cmd_validate = {
    "validate",
    "check a project file and all its inputs, printing every problem",
    "citysys validate PROJECT",
    "Loads the project file (schema, types, unknown keys, missing files) and reads every input it names\n"
    "(the city table with its joins, the link tables). Every problem is printed in the form\n"
    "FILE:LINE:COLUMN: error: MESSAGE (at most 20 errors, then a count). Nothing is written.\n"
    "Exit code 0 when valid, 3 on bad input, 4 when a file cannot be read.",
    opts, 1, 1, run};

static int run(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&cli_cmd_validate, argc, argv, &a);
    if (rc >= 0) return rc;
    const char *path = a.pos[0];
    cs_diag *d = cs_diag_new();
    if (!d) return cli_fail(CS_ENOMEM);
    cs_project *p = NULL;
    cs_cities *c = NULL;
    cs_links **links = NULL;
    size_t nl = 0, nlinks = 0;
    cs_status st = cs_project_load(path, d, &p);
    if (!st) {
        st = cs_project_read_cities(p, d, &c);
        nl = cs_project_nlinks(p);
        links = nl ? cs_calloc(nl, sizeof *links) : NULL;
        if (nl && !links) st = CS_ENOMEM;
        for (size_t i = 0; !st && i < nl; i++) {
            const cs_project_links *pl = cs_project_link(p, i);
            cs_status s2 = cs_links_read(pl->path, c, &pl->fields, d, &links[i]);
            if (s2) st = s2;
            else nlinks += links[i]->n;
        }
    }
    cli_print_diag(d);
    if (st) {
        if (cs_diag_errors(d) == 0) rc = cli_fail(st);
        else rc = cli_exit_code(st);
    } else {
        printf("%s: valid: %zu cities, %zu link table%s (%zu links)\n", path, c->n, nl, nl == 1 ? "" : "s", nlinks);
        rc = CLI_EXIT_OK;
    }
    for (size_t i = 0; links && i < nl; i++) cs_links_free(links[i]);
    cs_free(links);
    cs_cities_free(c);
    cs_project_free(p);
    cs_diag_free(d);
    return rc;
}

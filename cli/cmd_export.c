/* cmd_export.c: `citysys export PROJECT -o FILE` — the city table with every input column. */
#include <string.h>
#include "cli.h"

static const cli_option opts[] = {
    {"output", 'o', "FILE", "output file: .gpkg, .geojson or .csv (required)"},
    {"format", 'f', "FMT", "gpkg, geojson or csv (default: from the extension of FILE)"},
    {"layer", 0, "NAME", "layer name in the output (default: cities)"},
    {0}};

static int run(int argc, char **argv);

const cli_command cli_cmd_export = {
    "export",
    "write the project's cities (with joins and every input column) to GeoPackage, GeoJSON or CSV",
    "citysys export PROJECT -o FILE.gpkg|FILE.geojson|FILE.csv",
    "Reads the city table of the project with its joins and writes it, with every input column, as\n"
    "points (WGS84). The file is written atomically: a failed or interrupted export leaves FILE as it\n"
    "was, and nothing is written when the input is invalid (exit 3).",
    opts, 1, 1, run};

static int parse_format(const char *s, cs_vector_format *f)
{
    if (!strcmp(s, "gpkg") || !strcmp(s, "geopackage")) *f = CS_FORMAT_GPKG;
    else if (!strcmp(s, "geojson") || !strcmp(s, "json")) *f = CS_FORMAT_GEOJSON;
    else if (!strcmp(s, "csv")) *f = CS_FORMAT_CSV;
    else return -1;
    return 0;
}

static int run(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&cli_cmd_export, argc, argv, &a);
    if (rc >= 0) return rc;
    const char *out = cli_get(&a, "output", NULL);
    if (!out || !*out) return cli_usage_error(&cli_cmd_export, "missing -o FILE");
    cs_vector_format fmt = CS_FORMAT_AUTO;
    const char *fs = cli_get(&a, "format", NULL);
    if (fs) {
        if (parse_format(fs, &fmt)) return cli_usage_error(&cli_cmd_export, "unknown format '%s' (gpkg, geojson or csv)", fs);
    } else {
        const char *dot = strrchr(out, '.');
        const char *slash = strrchr(out, '/');
        if (!dot || (slash && dot < slash) || parse_format(dot + 1, &fmt))
            return cli_usage_error(&cli_cmd_export,
                                   "cannot tell the format of '%s': use a .gpkg, .geojson or .csv name, or --format", out);
    }
    cs_diag *d = cs_diag_new();
    if (!d) return cli_fail(CS_ENOMEM);
    cs_project *p = NULL;
    cs_cities *c = NULL;
    cs_status st = cs_project_load(a.pos[0], d, &p);
    if (!st) st = cs_project_read_cities(p, d, &c);
    cli_print_diag(d);
    if (st) {
        rc = cs_diag_errors(d) ? cli_exit_code(st) : cli_fail(st);
    } else {
        st = cs_cities_write(c, out, fmt, cli_get(&a, "layer", "cities"));
        if (st) {
            rc = cli_fail(st);
        } else {
            cli_note("wrote %zu cities to %s", c->n, out);
            rc = CLI_EXIT_OK;
        }
    }
    cs_cities_free(c);
    cs_project_free(p);
    cs_diag_free(d);
    return rc;
}

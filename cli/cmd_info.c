/* cmd_info.c: `citysys info PROJECT` — counts, bounding box, population, largest cities, groups. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const cli_option opts[] = {
    {"json", 0, NULL, "machine-readable output (one JSON object on stdout)"},
    {"top", 'n', "N", "number of largest cities to list (default 10)"},
    {0}};

static int run(int argc, char **argv);

const cli_command cli_cmd_info = {
    "info",
    "summarise a project's city system: counts, extent, population, largest cities, regions, countries",
    "citysys info PROJECT [--json]",
    "Reads the project and its inputs and prints the number of cities and links, the bounding box,\n"
    "the total population, the largest cities and the population by region and by country (when the\n"
    "table has those columns). With --json the same as one JSON object.",
    opts, 1, 1, run};

static const char *fmt_num(char *buf, size_t n, double v)
{
    if (isnan(v)) snprintf(buf, n, "n/a");
    else if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, n, "%.0f", v);
    else snprintf(buf, n, "%.6g", v);
    return buf;
}

static json_t *jnum(double v)
{
    if (isnan(v) || isinf(v)) return json_null();
    if (v == floor(v) && fabs(v) < 9e15) return json_integer((json_int_t)v);
    return json_real(v);
}

static json_t *groups_json(const cs_group_total *g, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(g[i].key));
        json_object_set_new(o, "cities", json_integer((json_int_t)g[i].n));
        json_object_set_new(o, "population", jnum(g[i].population));
        json_array_append_new(a, o);
    }
    return a;
}

static void print_groups(const char *title, const cs_group_total *g, size_t n, double total)
{
    if (!n) return;
    printf("\nPopulation by %s (%zu):\n", title, n);
    for (size_t i = 0; i < n; i++) {
        char b[64];
        printf("  %-40s %5zu  %12s", *g[i].key ? g[i].key : "(none)", g[i].n, fmt_num(b, sizeof b, g[i].population));
        if (total > 0) printf("  %5.1f%%", 100.0 * g[i].population / total);
        printf("\n");
    }
}

static int run(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&cli_cmd_info, argc, argv, &a);
    if (rc >= 0) return rc;
    int ok = 1;
    long top = cli_get_long(&a, "top", 10, &ok);
    if (!ok) return CLI_EXIT_USAGE;
    if (top < 0) return cli_usage_error(&cli_cmd_info, "--top must be >= 0");
    cs_diag *d = cs_diag_new();
    if (!d) return cli_fail(CS_ENOMEM);
    cs_project *p = NULL;
    cs_cities *c = NULL;
    cs_links **links = NULL;
    cs_city_summary *s = NULL;
    size_t nl = 0;
    cs_status st = cs_project_load(a.pos[0], d, &p);
    if (!st) st = cs_project_read_cities(p, d, &c);
    if (!st) {
        nl = cs_project_nlinks(p);
        links = nl ? cs_calloc(nl, sizeof *links) : NULL;
        if (nl && !links) st = CS_ENOMEM;
        for (size_t i = 0; !st && i < nl; i++) {
            const cs_project_links *pl = cs_project_link(p, i);
            st = cs_links_read(pl->path, c, &pl->fields, d, &links[i]);
        }
    }
    if (!st) st = cs_city_summary_build(c, (size_t)top, &s);
    cli_print_diag(d);
    if (st) {
        rc = cs_diag_errors(d) ? cli_exit_code(st) : cli_fail(st);
        goto done;
    }
    if (cli_has(&a, "json")) {
        json_t *o = json_object();
        json_object_set_new(o, "project", json_string(cs_project_path(p)));
        json_object_set_new(o, "name", json_string(cs_project_name(p)));
        json_object_set_new(o, "cities", json_integer((json_int_t)s->ncities));
        json_t *jl = json_array();
        for (size_t i = 0; i < nl; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "path", json_string(cs_project_link(p, i)->path));
            json_object_set_new(e, "links", json_integer((json_int_t)links[i]->n));
            json_array_append_new(jl, e);
        }
        json_object_set_new(o, "links", jl);
        json_t *bb = json_array();
        json_array_append_new(bb, jnum(s->lon_min));
        json_array_append_new(bb, jnum(s->lat_min));
        json_array_append_new(bb, jnum(s->lon_max));
        json_array_append_new(bb, jnum(s->lat_max));
        json_object_set_new(o, "bbox", bb);
        json_object_set_new(o, "total_population", jnum(s->total_population));
        json_t *jt = json_array();
        for (size_t k = 0; k < s->ntop; k++) {
            uint32_t i = s->top[k];
            json_t *e = json_object();
            json_object_set_new(e, "id", json_string(c->id[i]));
            json_object_set_new(e, "name", json_string(c->name[i] ? c->name[i] : ""));
            json_object_set_new(e, "population", jnum(c->population ? c->population[i] : NAN));
            if (c->country) json_object_set_new(e, "country", json_string(c->country[i]));
            json_array_append_new(jt, e);
        }
        json_object_set_new(o, "largest", jt);
        json_t *cols = json_array();
        for (size_t k = 0; k < c->extra.ncols; k++) json_array_append_new(cols, json_string(c->extra.names[k]));
        json_object_set_new(o, "extra_columns", cols);
        json_object_set_new(o, "regions", c->region ? groups_json(s->regions, s->nregions) : json_null());
        json_object_set_new(o, "countries", c->country ? groups_json(s->countries, s->ncountries) : json_null());
        char *txt = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        if (txt) printf("%s\n", txt);
        free(txt);
        json_decref(o);
        rc = txt ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
        goto done;
    }
    printf("Project:          %s (%s)\n", cs_project_name(p), cs_project_path(p));
    if (*cs_project_description(p)) printf("Description:      %s\n", cs_project_description(p));
    printf("Cities:           %zu  (%s)\n", s->ncities, cs_project_cities_path(p));
    for (size_t i = 0; i < nl; i++) printf("Links:            %zu  (%s)\n", links[i]->n, cs_project_link(p, i)->path);
    printf("Bounding box:     lon %.6g .. %.6g, lat %.6g .. %.6g\n", s->lon_min, s->lon_max, s->lat_min, s->lat_max);
    char nb[64];
    printf("Total population: %s\n", fmt_num(nb, sizeof nb, s->total_population));
    printf("Optional fields:  %s%s%s%s%s\n", c->gdp ? "gdp " : "", c->gdp_per_head ? "gdp_per_head " : "",
           c->employment ? "employment " : "", c->region ? "region " : "", c->country ? "country" : "");
    if (c->extra.ncols) {
        printf("Extra columns:    ");
        for (size_t k = 0; k < c->extra.ncols; k++) printf("%s%s", k ? ", " : "", c->extra.names[k]);
        printf("\n");
    }
    if (s->ntop) {
        printf("\nLargest cities:\n");
        for (size_t k = 0; k < s->ntop; k++) {
            uint32_t i = s->top[k];
            printf("  %2zu. %-30s %12s", k + 1, c->name[i] && *c->name[i] ? c->name[i] : c->id[i],
                   fmt_num(nb, sizeof nb, c->population ? c->population[i] : NAN));
            if (c->country) printf("  %s", c->country[i]);
            printf("\n");
        }
    }
    print_groups("region", s->regions, s->nregions, s->total_population);
    print_groups("country", s->countries, s->ncountries, s->total_population);
    rc = CLI_EXIT_OK;
done:
    cs_city_summary_free(s);
    for (size_t i = 0; links && i < nl; i++) cs_links_free(links[i]);
    cs_free(links);
    cs_cities_free(c);
    cs_project_free(p);
    cs_diag_free(d);
    return rc;
}

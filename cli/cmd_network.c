/* cmd_network.c: `citysys network build|info|export` — import a road network (OSM, GIS lines or
 * node/edge tables), print its summary, export nodes and segments. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cli.h"
#include "citysys/routing.h"

#define SOURCE_OPTS                                                                                               \
    {"profile", 'p', "P", "car profile: a name (osrm-car, developing) or a JSON file; default osrm-car"},         \
        {"no-compress", 0, NULL, "keep every OSM way piece (no degree-2 chain merging)"},                         \
        {"readosm", 0, NULL, "read .osm.pbf with readosm instead of the built-in parallel reader"},               \
        {"nodes", 0, "CSV", "node table (with --edges): columns lon,lat; row number = node id"},                  \
        {"edges", 0, "CSV", "edge table: from,to (node rows), duration (min), border_time (min), distance (m), add"}, \
        {"no-border", 0, NULL, "tables: do not add border_time to the segment times"},                            \
        {"layer", 0, "NAME", "lines: layer name (default the first)"},                                            \
        {"snap-tol", 0, "M", "lines: end points closer than M metres share a node (default 1)"},                  \
        {"time-field", 0, "F", "lines: travel time field"},                                                       \
        {"time-unit", 0, "S", "lines: seconds per unit of --time-field and penalties (default 60: minutes)"},    \
        {"speed-field", 0, "F", "lines: speed field in km/h (used when there is no time)"},                       \
        {"class-field", 0, "F", "lines: class field, speed from the profile's highway_speeds_kmh"},                \
        {"default-speed", 0, "KMH", "lines: speed when no time, speed or known class (default: error)"},          \
        {"dir-field", 0, "F", "lines: direction field (both/FT/TF/N, yes/-1, ...; docs/network.md)"},             \
        {"penalty-fields", 0, "F1,F2", "lines: fields added to the time (e.g. border time)"},                     \
        {"id-field", 0, "F", "lines: external id field (default the feature id)"},                                \
        {"where", 0, "SQL", "lines: OGR attribute filter, e.g. \"add = 0\""}

static const cli_option build_opts[] = {SOURCE_OPTS,
                                        {"output", 'o', "FILE", "output: .gpkg or .csv export, or .csgraph (routing graph and hierarchy, for citysys matrix --graph)"},
                                        {0}};
static const cli_option info_opts[] = {SOURCE_OPTS, {0}};

static const cli_command sub_build = {
    "network build", "Import a road network and write it",
    "citysys network build [SOURCE | --nodes N.csv --edges E.csv] [--profile P] -o FILE",
    "SOURCE is an OpenStreetMap file (.osm.pbf, .osm) or a GIS line layer (GeoJSON, GeoPackage, Shapefile).\n"
    "With --nodes/--edges, node and edge tables (CSV, .csv.gz) like the Trans-African network.\n"
    "-o FILE.gpkg writes layers `nodes` and `segments`; -o FILE.csv writes FILE.csv (segments, WKT) and\n"
    "FILE.nodes.csv. Rules and units: docs/network.md.",
    build_opts, 0, 1, NULL};
static const cli_command sub_info = {
    "network info", "Print a summary of a road network",
    "citysys network info [SOURCE | --nodes N.csv --edges E.csv] [--profile P]",
    "Imports the source and prints counts: nodes, segments, one-way segments, and per class the number of\n"
    "segments, their length and (OSM) the number of routable ways.",
    info_opts, 0, 1, NULL};
static const cli_command sub_export = {
    "network export", "Export nodes and segments (time and length of every segment)",
    "citysys network export [SOURCE | --nodes N.csv --edges E.csv] [--profile P] -o FILE.gpkg|FILE.csv",
    "Same as `network build` with a .gpkg or .csv output.", build_opts, 0, 1, NULL};

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

typedef struct {
    cs_network *net;
    cs_osm_stats stats;
    int is_osm;
    const char *source;
} loaded;

static int load(const cli_args *a, loaded *L)
{
    memset(L, 0, sizeof *L);
    const char *nodes = cli_get(a, "nodes", NULL), *edges = cli_get(a, "edges", NULL);
    cs_status st;
    if (nodes || edges) {
        if (!nodes || !edges) return cli_usage_error(a->cmd, "--nodes and --edges go together");
        if (a->npos) return cli_usage_error(a->cmd, "give either SOURCE or --nodes/--edges, not both");
        cs_table_opts o;
        cs_table_opts_default(&o);
        if (cli_has(a, "no-border")) o.include_extra = 0;
        L->source = edges;
        st = cs_network_from_tables(nodes, edges, &o, &L->net);
        return st ? cli_fail(st) : -1;
    }
    if (a->npos != 1) return cli_usage_error(a->cmd, "missing SOURCE (or --nodes/--edges)");
    const char *src = a->pos[0];
    L->source = src;
    char *ppath = NULL;
    cs_profile *prof = NULL;
    const char *pname = cli_get(a, "profile", "osrm-car");
    int is_osm = has_suffix(src, ".pbf") || has_suffix(src, ".osm");
    if (is_osm || cli_has(a, "class-field") || cli_has(a, "profile")) {
        if ((st = cs_profile_find(pname, &ppath)) || (st = cs_profile_load(ppath, &prof))) {
            cs_free(ppath);
            return cli_fail(st);
        }
    }
    cs_free(ppath);
    if (is_osm) {
        cs_osm_opts o;
        cs_osm_opts_default(&o);
        o.compress = !cli_has(a, "no-compress");
        o.reader = cli_has(a, "readosm");
        o.progress = cli_progress();
        st = cs_network_from_osm(src, prof, &o, &L->net, &L->stats);
        cli_progress_done();
        L->is_osm = 1;
    } else {
        int ok = 1;
        cs_lines_opts o;
        cs_lines_opts_default(&o);
        o.layer = cli_get(a, "layer", NULL);
        o.snap_tol_m = cli_get_double(a, "snap-tol", 1.0, &ok);
        o.time_field = cli_get(a, "time-field", NULL);
        o.time_unit_s = cli_get_double(a, "time-unit", 60, &ok);
        o.speed_field = cli_get(a, "speed-field", NULL);
        o.class_field = cli_get(a, "class-field", NULL);
        o.default_kmh = cli_get_double(a, "default-speed", 0, &ok);
        o.dir_field = cli_get(a, "dir-field", NULL);
        o.id_field = cli_get(a, "id-field", NULL);
        o.where = cli_get(a, "where", NULL);
        o.profile = prof;
        o.progress = cli_progress();
        char *pens = NULL;
        const char *pf[17] = {0};
        if (cli_has(a, "penalty-fields")) {
            pens = cs_strdup(cli_get(a, "penalty-fields", ""));
            int k = 0;
            for (char *t = pens ? strtok(pens, ",") : NULL; t && k < 16; t = strtok(NULL, ",")) pf[k++] = t;
            o.penalty_fields = pf;
        }
        if (!ok) {
            cs_free(pens);
            cs_profile_free(prof);
            return CLI_EXIT_USAGE;
        }
        st = cs_network_from_lines(src, &o, &L->net);
        cli_progress_done();
        cs_free(pens);
    }
    cs_profile_free(prof);
    return st ? cli_fail(st) : -1;
}

static void print_info(const loaded *L)
{
    const cs_network *n = L->net;
    uint64_t oneway = 0, closed = 0;
    for (uint32_t s = 0; s < n->n_segs; s++) {
        int f = n->seg_fwd_ms[s] != CS_NO_TIME, b = n->seg_bwd_ms[s] != CS_NO_TIME;
        oneway += f != b;
        closed += !f && !b;
    }
    printf("source\t%s\nfingerprint\t%s\n", L->source, n->fingerprint);
    if (L->is_osm)
        printf("osm_nodes\t%llu\nosm_ways\t%llu\nosm_relations\t%llu\nroutable_ways\t%llu\nmissing_node_refs\t%llu\n"
               "read_s\t%.3f\nbuild_s\t%.3f\n",
               (unsigned long long)L->stats.nodes, (unsigned long long)L->stats.ways,
               (unsigned long long)L->stats.relations, (unsigned long long)L->stats.routable_ways,
               (unsigned long long)L->stats.missing_refs, L->stats.parse_s, L->stats.build_s);
    printf("nodes\t%u\nsegments\t%u\noneway_segments\t%llu\nclosed_segments\t%llu\nproposed_edges\t%u\n", n->n_nodes,
           n->n_segs, (unsigned long long)oneway, (unsigned long long)closed, n->proposed.n);
    double *len = cs_calloc(n->n_classes + 1, sizeof *len);
    uint64_t *cnt = cs_calloc(n->n_classes + 1, sizeof *cnt);
    if (len && cnt) {
        cs_network_class_totals(n, len, cnt);
        printf("\nclass\tsegments\tlength_km%s\n", L->is_osm ? "\tosm_ways" : "");
        for (uint32_t c = 0; c < n->n_classes; c++) {
            if (!cnt[c] && !(L->is_osm && L->stats.ways_per_class && L->stats.ways_per_class[c])) continue;
            printf("%s\t%llu\t%.3f", n->class_names[c], (unsigned long long)cnt[c], len[c] / 1000.0);
            if (L->is_osm) printf("\t%llu", (unsigned long long)L->stats.ways_per_class[c]);
            putchar('\n');
        }
    }
    cs_free(len);
    cs_free(cnt);
}

static int run_sub(const cli_command *cmd, int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(cmd, argc, argv, &a);
    if (rc >= 0) return rc;
    const char *out = cli_get(&a, "output", NULL);
    if (cmd != &sub_info && !out) return cli_usage_error(cmd, "missing -o FILE");
    if (out && !has_suffix(out, ".gpkg") && !has_suffix(out, ".csv") && !has_suffix(out, ".csgraph"))
        return cli_usage_error(cmd, "-o %s: use a .gpkg, .csv or .csgraph file name", out);
    loaded L;
    rc = load(&a, &L);
    if (rc >= 0) return rc;
    if (cmd == &sub_info) {
        print_info(&L);
    } else if (has_suffix(out, ".csgraph")) {
        /* the routing graph with its hierarchy, loaded by mmap by `citysys matrix --graph` */
        cs_router *r = NULL;
        cs_status st = cs_router_build(L.net, NULL, cli_progress(), &r);
        cli_progress_done();
        if (!st) st = cs_router_save(r, out);
        if (st) rc = cli_fail(st);
        else {
            cs_router_info ri;
            cs_router_info_get(r, &ri);
            cli_note("%s: %u nodes, %u segments, %llu hierarchy arcs, %u strongly connected components (largest %u nodes)",
                     out, ri.nodes, ri.segments, (unsigned long long)ri.cch_arcs, ri.n_scc, ri.largest_scc);
            rc = CLI_EXIT_OK;
        }
        cs_router_free(r);
    } else {
        cs_status st = cs_network_export(L.net, out);
        if (st) rc = cli_fail(st);
        else {
            cli_note("%s: %u nodes, %u segments", out, L.net->n_nodes, L.net->n_segs);
            rc = CLI_EXIT_OK;
        }
    }
    if (rc < 0) rc = CLI_EXIT_OK;
    cs_network_free(L.net);
    cs_osm_stats_free(&L.stats);
    return rc;
}

static const cli_command *subs[] = {&sub_build, &sub_info, &sub_export, NULL};

static int run(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        FILE *o = argc < 2 ? stderr : stdout;
        fprintf(o, "Usage: citysys network build|info|export ...\n\n");
        for (int i = 0; subs[i]; i++) fprintf(o, "  %-16s %s\n", subs[i]->name + 8, subs[i]->summary);
        fprintf(o, "\nSee `citysys network SUBCOMMAND --help`.\n");
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    for (int i = 0; subs[i]; i++)
        if (!strcmp(argv[1], subs[i]->name + 8)) return run_sub(subs[i], argc - 1, argv + 1);
    fprintf(stderr, "citysys network: error: unknown subcommand '%s' (build, info, export)\n", argv[1]);
    return CLI_EXIT_USAGE;
}

const cli_command cli_cmd_network = {
    "network", "Import road networks (OSM, GIS lines, tables); info; export",
    "citysys network build|info|export [SOURCE] [OPTIONS]",
    "Subcommands: build (import and write), info (summary), export (nodes and segments to .gpkg/.csv).",
    NULL, 0, -1, run};

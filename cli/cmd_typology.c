/* cmd_typology.c: `citysys typology` — clusters, corridors, hubs, primary/secondary/isolated. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/cityio.h"
#include "citysys/flows.h"
#include "citysys/osm.h"
#include "citysys/table.h"
#include "citysys/typology.h"
#include "common.h"

static const cli_option opts[] = {
    {"matrix", 'm', "FILE", "travel-time matrix (binary .csmat or CSV; seconds, or unit 'min'), rows/columns = city ids"},
    {"time-unit", 0, "U", "unit of the matrix values when the file does not say: s (default), min or h"},
    {"commute", 0, "FILE", "observed commuting flows matrix (row = residence, column = workplace); default: gravity model"},
    {"flows", 0, "FILE", "interaction flows for the hub rule; default: unconstrained gravity"},
    {"output", 'o', "DIR", "output folder (created; files replaced atomically)"},
    {"core-min-pop", 0, "N", "minimum population of a cluster core (default 50000)"},
    {"commute-share", 0, "F", "commuting share to join a core (default 0.15)"},
    {"max-commute", 0, "MIN", "maximum commuting time in minutes (default 90)"},
    {"commute-decay", 0, "RATE", "exponential commuting decay per minute (default 0.1)"},
    {"corridor-min-pop", 0, "N", "minimum population of corridor end cities (default 500000)"},
    {"corridor-detour", 0, "MIN", "maximum detour of a corridor town in minutes (default 30)"},
    {"corridor-detour-frac", 0, "F", "maximum detour as a share of t(A,B) (default 0.10)"},
    {"corridor-min-towns", 0, "N", "minimum towns between the ends (default 3)"},
    {"isolated", 0, "MIN", "no other city within this time makes a town isolated (default 60)"},
    {"secondary-min", 0, "F", "secondary city: minimum share of the country's largest (default 0.10)"},
    {"secondary-max", 0, "F", "secondary city: maximum share of the country's largest (default 0.50)"},
    {"hub-decay", 0, "RATE", "decay per minute of the gravity flows for hubs (default 0.02)"},
    {"nodes", 0, "CSV", "network node table (id/lon/lat as in the project's network section) for corridor routes"},
    {"edges", 0, "CSV", "network edge table (from, to, duration in minutes, distance in m): corridors get their fastest "
                        "route (geometry, length, time) and merge on shared route length"},
    {"time-unit-s", 0, "S", "seconds per unit of the edge table's duration column (default 60)"},
    {"snap-max", 0, "M", "cities farther than this from every road get no route (default 5000 m)"},
    {"id", 0, "COL", "id column of the city table (default: auto-detected)"},
    {"population", 0, "COL", "population column (default: auto-detected)"},
    {"country", 0, "COL", "country column (default: auto-detected)"},
    {0}};

static int run(int argc, char **argv);

const cli_command cli_cmd_typology = {
    "typology",
    "classify cities: metropolitan clusters, corridors, regional hubs, primary/secondary/isolated",
    "citysys typology CITIES --matrix TIME -o DIR [--nodes CSV --edges CSV] [options]",
    "Reads a city table and a travel-time matrix, and writes typology.csv (one row per city with every\n"
    "label), typology.gpkg (layers cities, clusters (hull polygons), corridors (lines through their\n"
    "towns, or their fastest route on the network given by --nodes/--edges)) and typology.json\n"
    "(parameters, clusters, corridors, hubs). Rules and sources: docs/typology.md.",
    opts, 1, 1, run};

static int run(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&cli_cmd_typology, argc, argv, &a);
    if (rc >= 0) return rc;
    const char *mpath = cli_get(&a, "matrix", NULL), *out = cli_get(&a, "output", NULL);
    if (!mpath) return cli_usage_error(a.cmd, "--matrix is required");
    if (!out) return cli_usage_error(a.cmd, "--output is required");
    cs_typology_params p;
    cs_typology_params_default(&p);
    int ok = 1;
    p.core_min_population = cli_get_double(&a, "core-min-pop", p.core_min_population, &ok);
    p.commute_share = cli_get_double(&a, "commute-share", p.commute_share, &ok);
    p.max_commute_s = 60 * cli_get_double(&a, "max-commute", p.max_commute_s / 60, &ok);
    p.commute_decay_param = cli_get_double(&a, "commute-decay", p.commute_decay_param, &ok);
    p.corridor_min_population = cli_get_double(&a, "corridor-min-pop", p.corridor_min_population, &ok);
    p.corridor_max_detour_s = 60 * cli_get_double(&a, "corridor-detour", p.corridor_max_detour_s / 60, &ok);
    p.corridor_max_detour_frac = cli_get_double(&a, "corridor-detour-frac", p.corridor_max_detour_frac, &ok);
    p.corridor_min_towns = (int)cli_get_long(&a, "corridor-min-towns", p.corridor_min_towns, &ok);
    p.isolated_time_s = 60 * cli_get_double(&a, "isolated", p.isolated_time_s / 60, &ok);
    p.secondary_min_share = cli_get_double(&a, "secondary-min", p.secondary_min_share, &ok);
    p.secondary_max_share = cli_get_double(&a, "secondary-max", p.secondary_max_share, &ok);
    p.gravity_decay_param = cli_get_double(&a, "hub-decay", p.gravity_decay_param, &ok);
    double time_unit_s = cli_get_double(&a, "time-unit-s", 60, &ok), snap_max = cli_get_double(&a, "snap-max", 5000, &ok);
    if (!ok) return CLI_EXIT_USAGE;
    if (cli_has(&a, "nodes") != cli_has(&a, "edges")) return cli_usage_error(a.cmd, "--nodes and --edges go together");
    if (!(time_unit_s > 0) || !(snap_max > 0)) return cli_usage_error(a.cmd, "--time-unit-s and --snap-max must be > 0");
    cs_cities *c = NULL;
    cs_matrix *t = NULL, *cm = NULL, *fm = NULL;
    cs_typology *ty = NULL;
    cs_network *net = NULL;
    cs_snap *snaps = NULL;
    cs_location *loc = NULL;
    cs_route_finder *rf = NULL;
    size_t n_routes = 0;
    uint32_t *grp = NULL, ng = 0;
    cs_table *tab = NULL;
    json_t *js = NULL;
    if ((rc = cli_load_cities(&a, a.pos[0], &c))) goto done;
    if ((rc = cli_load_matrix_for(mpath, c, CS_MATRIX_TIME, &t))) goto done;
    if ((rc = cli_time_unit(&a, t))) goto done;
    if (cli_has(&a, "commute") && (rc = cli_load_matrix_for(cli_get(&a, "commute", ""), c, CS_MATRIX_FLOW, &cm))) goto done;
    if (cli_has(&a, "flows") && (rc = cli_load_matrix_for(cli_get(&a, "flows", ""), c, CS_MATRIX_FLOW, &fm))) goto done;
    grp = cli_groups(c->country, c->n, &ng);
    cs_typology_input in = {c->n, c->population, grp, (const char *const *)c->id, t, cm, fm};
    cs_status st = CS_OK;
    if (cli_has(&a, "edges")) { /* the network for corridor routes: cities snapped to the nearest segment */
        cs_table_opts to;
        cs_table_opts_default(&to);
        to.time_unit_s = time_unit_s;
        to.edge_extra = NULL;    /* plain road times: corridors follow the roads */
        to.edge_proposed = NULL;
        st = cs_network_from_tables(cli_get(&a, "nodes", ""), cli_get(&a, "edges", ""), &to, &net);
        snaps = cs_calloc(c->n ? c->n : 1, sizeof *snaps);
        loc = cs_calloc(c->n ? c->n : 1, sizeof *loc);
        if (!st && (!snaps || !loc)) st = CS_ENOMEM;
        cs_snap_opts so;
        cs_snap_opts_default(&so);
        so.max_dist_m = snap_max;
        if (!st) st = cs_snap_points(net, c->lon, c->lat, c->n, &so, snaps);
        for (size_t i = 0; !st && i < c->n; i++) loc[i] = cs_location_from_snap(&snaps[i]);
        if (!st) st = cs_route_finder_new(net, loc, c->n, &rf);
        if (st) {
            rc = cli_fail(st);
            goto done;
        }
    }
    st = cs_typology_compute(&in, &p, rf ? cs_route_finder_fn : NULL, rf, &ty);
    if (st) {
        rc = cli_fail(st);
        goto done;
    }
    if ((st = cs_mkdir_p(out))) {
        rc = cli_fail(st);
        goto done;
    }
    size_t n = c->n;
    cs_table *tcl = NULL, *tco = NULL;
    char *csv = cs_asprintf("%s/typology.csv", out), *gpkg = cs_asprintf("%s/typology.gpkg", out),
         *jpath = cs_asprintf("%s/typology.json", out);
    if (!csv || !gpkg || !jpath) st = CS_ENOMEM;
    if (!st) st = cs_typology_tables(ty, c, &tab, &tcl, &tco);
    if (!st) st = cs_table_write(tab, csv, CS_FORMAT_CSV, "cities", 0);
    cs_gpkg_writer *gw = NULL;
    if (!st) st = cs_gpkg_begin(gpkg, &gw);
    if (!st) st = cs_gpkg_add(gw, tab, "cities");
    if (!st && tcl) st = cs_gpkg_add(gw, tcl, "clusters");
    if (!st && tco) st = cs_gpkg_add(gw, tco, "corridors");
    if (gw) {
        if (!st) st = cs_gpkg_commit(gw);
        else cs_gpkg_abort(gw);
    }
    cs_table_free(tcl);
    cs_table_free(tco);
    size_t nlive = 0;
    for (uint32_t k = 0; k < ty->n_corridors; k++) {
        nlive += ty->corridors[k].merged_into == CS_INVALID_ID;
        n_routes += ty->corridors[k].merged_into == CS_INVALID_ID && ty->corridors[k].route.npts >= 2;
    }
    /* JSON summary */
    if (!st) {
        js = json_pack("{s:i,s:i,s:i,s:i,s:i}", "cities", (json_int_t)n, "clusters", (json_int_t)ty->n_clusters,
                       "corridors", (json_int_t)nlive, "corridors_with_route", (json_int_t)n_routes,
                       "adjacent_pairs", (json_int_t)ty->n_adjacent);
        json_t *par_j = json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:i,s:f,s:f,s:f,s:f}", "core_min_population",
                                  p.core_min_population, "commute_share", p.commute_share, "max_commute_min",
                                  p.max_commute_s / 60, "commute_decay_per_min", p.commute_decay_param,
                                  "corridor_min_population", p.corridor_min_population, "corridor_max_detour_min",
                                  p.corridor_max_detour_s / 60, "corridor_max_detour_frac", p.corridor_max_detour_frac,
                                  "corridor_min_towns", p.corridor_min_towns, "isolated_min", p.isolated_time_s / 60,
                                  "secondary_min_share", p.secondary_min_share, "secondary_max_share",
                                  p.secondary_max_share, "hub_gravity_decay_per_min", p.gravity_decay_param);
        json_object_set_new(js, "parameters", par_j);
        json_object_set_new(js, "commuting_model", json_string(cm ? "observed commuting flows" : "production-constrained gravity, exponential decay"));
        json_object_set_new(js, "hub_flow_model", json_string(fm ? "given flows" : "unconstrained gravity P_i P_j exp(-rate t_ij)"));
        json_t *hubs = json_array();
        for (size_t i = 0; i < n; i++)
            if (ty->is_hub[i] && ty->hinterland_population[i] > c->population[i])
                json_array_append_new(hubs, json_pack("{s:s,s:s,s:f}", "id", c->id[i], "name", c->name[i],
                                                      "hinterland_population", ty->hinterland_population[i]));
        json_object_set_new(js, "hubs_with_hinterland", hubs);
        char *txt = json_dumps(js, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!txt) st = CS_ENOMEM;
        else {
            st = cs_write_file_atomic(jpath, txt, strlen(txt));
            free(txt);
        }
    }
    size_t nhub = 0;
    for (size_t i = 0; i < n; i++) nhub += ty->is_hub[i];
    if (st) rc = cli_fail(st);
    else printf("%zu cities: %u clusters, %zu corridors, %zu terminal hubs; outputs in %s\n", n, ty->n_clusters, nlive,
                nhub, out);
    cs_free(csv); cs_free(gpkg); cs_free(jpath);
done:
    cs_route_finder_free(rf);
    cs_free(loc);
    cs_free(snaps);
    cs_network_free(net);
    json_decref(js);
    cs_table_free(tab);
    cs_typology_free(ty);
    cs_free(grp);
    cs_matrix_free(t);
    cs_matrix_free(cm);
    cs_matrix_free(fm);
    cs_cities_free(c);
    return rc;
}

/* cmd_typology.c: `citysys typology` — clusters, corridors, hubs, primary/secondary/isolated. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/cityio.h"
#include "citysys/geom.h"
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
    {"id", 0, "COL", "id column of the city table (default: auto-detected)"},
    {"population", 0, "COL", "population column (default: auto-detected)"},
    {"country", 0, "COL", "country column (default: auto-detected)"},
    {0}};

static int run(int argc, char **argv);

const cli_command cli_cmd_typology = {
    "typology",
    "classify cities: metropolitan clusters, corridors, regional hubs, primary/secondary/isolated",
    "citysys typology CITIES --matrix TIME -o DIR [options]",
    "Reads a city table and a travel-time matrix, and writes typology.csv (one row per city with every\n"
    "label), typology.gpkg (layers cities, clusters (hull polygons), corridors (lines through their\n"
    "towns)) and typology.json (parameters, clusters, corridors, hubs). Rules and sources: docs/typology.md.",
    opts, 1, 1, run};

static char *idlist(const cs_cities *c, const uint32_t *v, size_t n)
{
    size_t L = 1;
    for (size_t k = 0; k < n; k++) L += strlen(c->id[v[k]]) + 1;
    char *s = cs_malloc(L);
    if (!s) return NULL;
    s[0] = 0;
    for (size_t k = 0; k < n; k++) {
        if (k) strcat(s, ";");
        strcat(s, c->id[v[k]]);
    }
    return s;
}

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
    if (!ok) return CLI_EXIT_USAGE;
    cs_cities *c = NULL;
    cs_matrix *t = NULL, *cm = NULL, *fm = NULL;
    cs_typology *ty = NULL;
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
    cs_status st = cs_typology_compute(&in, &p, NULL, NULL, &ty);
    if (st) {
        rc = cli_fail(st);
        goto done;
    }
    if ((st = cs_mkdir_p(out))) {
        rc = cli_fail(st);
        goto done;
    }
    /* per-city table */
    size_t n = c->n;
    int64_t *cl = cs_mallocarray(n ? n : 1, sizeof *cl), *lvl = cs_mallocarray(n ? n : 1, sizeof *lvl);
    uint8_t *cln = cs_calloc(n ? n : 1, 1);
    const char **hub = cs_calloc(n ? n : 1, sizeof *hub), **par = cs_calloc(n ? n : 1, sizeof *par);
    const char **ncor = cs_calloc(n ? n : 1, sizeof *ncor);
    char **corr = cs_calloc(n ? n : 1, sizeof *corr);
    double *core = cs_mallocarray(n ? n : 1, sizeof *core), *prim = cs_mallocarray(n ? n : 1, sizeof *prim);
    double *sec = cs_mallocarray(n ? n : 1, sizeof *sec), *iso = cs_mallocarray(n ? n : 1, sizeof *iso), *ishub = cs_mallocarray(n ? n : 1, sizeof *ishub);
    if (!cl || !lvl || !cln || !hub || !par || !ncor || !corr || !core || !prim || !sec || !iso || !ishub) st = CS_ENOMEM;
    for (size_t i = 0; !st && i < n; i++) {
        cl[i] = ty->cluster[i] == CS_INVALID_ID ? 0 : (int64_t)ty->cluster[i] + 1;
        cln[i] = ty->cluster[i] == CS_INVALID_ID;
        lvl[i] = ty->hub_level[i];
        hub[i] = c->id[ty->hub[i]];
        par[i] = ty->parent[i] == CS_INVALID_ID ? NULL : c->id[ty->parent[i]];
        core[i] = ty->is_core[i];
        prim[i] = ty->is_primary[i];
        sec[i] = ty->is_secondary[i];
        iso[i] = ty->is_isolated[i];
        ishub[i] = ty->is_hub[i];
        /* corridors of the city (ids of unmerged corridors it belongs to) */
        char buf[512] = "";
        for (uint32_t k = 0; k < ty->n_corridors; k++) {
            cs_corridor *co = &ty->corridors[k];
            if (co->merged_into != CS_INVALID_ID) continue;
            int in_c = co->a == i || co->b == i;
            for (uint32_t q = 0; q < co->n_towns && !in_c; q++) in_c = co->towns[q] == i;
            if (in_c) {
                char one[16];
                snprintf(one, sizeof one, "%s%u", buf[0] ? ";" : "", k + 1);
                if (strlen(buf) + strlen(one) < sizeof buf) strcat(buf, one);
            }
        }
        corr[i] = cs_strdup(buf);
        ncor[i] = corr[i];
        if (!corr[i]) st = CS_ENOMEM;
    }
    if (!st) st = cs_table_new(n, &tab);
    if (!st) st = cs_table_add_string(tab, "id", (const char *const *)c->id);
    if (!st) st = cs_table_add_string(tab, "name", (const char *const *)c->name);
    if (!st) st = cs_table_add_real(tab, "population", c->population);
    if (!st) st = cs_table_add_integer(tab, "cluster", cl, cln);
    if (!st) st = cs_table_add_real(tab, "cluster_core", core);
    if (!st) st = cs_table_add_real(tab, "commute_share", ty->commute_share);
    if (!st) st = cs_table_add_string(tab, "corridors", ncor);
    if (!st) st = cs_table_add_string(tab, "hub", hub);
    if (!st) st = cs_table_add_string(tab, "hub_parent", par);
    if (!st) st = cs_table_add_integer(tab, "hub_level", lvl, NULL);
    if (!st) st = cs_table_add_real(tab, "is_hub", ishub);
    if (!st) st = cs_table_add_real(tab, "hinterland_population", ty->hinterland_population);
    if (!st) st = cs_table_add_real(tab, "is_primary", prim);
    if (!st) st = cs_table_add_real(tab, "is_secondary", sec);
    if (!st) st = cs_table_add_real(tab, "is_isolated", iso);
    if (!st) st = cs_table_set_points(tab, c->lon, c->lat);
    char *csv = cs_asprintf("%s/typology.csv", out), *gpkg = cs_asprintf("%s/typology.gpkg", out),
         *jpath = cs_asprintf("%s/typology.json", out);
    if (!csv || !gpkg || !jpath) st = CS_ENOMEM;
    if (!st) st = cs_table_write(tab, csv, CS_FORMAT_CSV, "cities", 0);
    /* GeoPackage: cities, cluster hulls, corridor lines */
    cs_gpkg_writer *gw = NULL;
    if (!st) st = cs_gpkg_begin(gpkg, &gw);
    if (!st) st = cs_gpkg_add(gw, tab, "cities");
    if (!st && ty->n_clusters) {
        size_t nc = ty->n_clusters, cap = 0;
        for (size_t i = 0; i < n; i++) cap += 12;
        size_t *off = cs_calloc(nc + 1, sizeof *off);
        double *rl = cs_mallocarray(cap + 12 * nc, sizeof *rl), *ra = cs_mallocarray(cap + 12 * nc, sizeof *ra);
        uint32_t *mem = cs_mallocarray(n ? n : 1, sizeof *mem), *hl = cs_mallocarray(n ? n : 1, sizeof *hl);
        int64_t *cid = cs_mallocarray(nc, sizeof *cid), *nmem = cs_mallocarray(nc, sizeof *nmem);
        const char **cores = cs_calloc(nc, sizeof *cores);
        char **coresbuf = cs_calloc(nc, sizeof *coresbuf);
        if (!off || !rl || !ra || !mem || !hl || !cid || !nmem || !cores || !coresbuf) st = CS_ENOMEM;
        size_t used = 0;
        for (size_t k = 0; !st && k < nc; k++) {
            size_t m = 0, ncore = 0;
            for (size_t i = 0; i < n; i++)
                if (ty->cluster[i] == k) mem[m++] = (uint32_t)i;
            uint32_t corel[64];
            for (size_t q = 0; q < m && ncore < 64; q++) if (ty->is_core[mem[q]]) corel[ncore++] = mem[q];
            coresbuf[k] = idlist(c, corel, ncore);
            cores[k] = coresbuf[k];
            size_t hm, nv;
            if (!st) st = cs_convex_hull(c->lon, c->lat, mem, m, hl, &hm);
            if (!st) st = cs_hull_ring(c->lon, c->lat, hl, hm, 2000, rl + used, ra + used, cap + 12 * nc - used, &nv);
            used += nv;
            off[k + 1] = used;
            cid[k] = (int64_t)k + 1;
            nmem[k] = (int64_t)m;
        }
        cs_table *ct = NULL;
        if (!st) st = cs_table_new(nc, &ct);
        if (!st) st = cs_table_add_integer(ct, "cluster", cid, NULL);
        if (!st) st = cs_table_add_string(ct, "cores", cores);
        if (!st) st = cs_table_add_integer(ct, "members", nmem, NULL);
        if (!st) st = cs_table_add_real(ct, "population", ty->cluster_population);
        if (!st) st = cs_table_set_polygons(ct, off, rl, ra);
        if (!st) st = cs_gpkg_add(gw, ct, "clusters");
        cs_table_free(ct);
        for (size_t k = 0; coresbuf && k < nc; k++) cs_free(coresbuf[k]);
        cs_free(coresbuf);
        cs_free(cores);
        cs_free(off);
        cs_free(rl);
        cs_free(ra);
        cs_free(mem);
        cs_free(hl);
        cs_free(cid);
        cs_free(nmem);
    }
    size_t nlive = 0;
    for (uint32_t k = 0; k < ty->n_corridors; k++) nlive += ty->corridors[k].merged_into == CS_INVALID_ID;
    if (!st && nlive) {
        size_t np = 0;
        for (uint32_t k = 0; k < ty->n_corridors; k++)
            if (ty->corridors[k].merged_into == CS_INVALID_ID) np += ty->corridors[k].n_towns + 2;
        size_t *off = cs_calloc(nlive + 1, sizeof *off);
        double *lo = cs_mallocarray(np, sizeof *lo), *la = cs_mallocarray(np, sizeof *la);
        double *tm = cs_mallocarray(nlive, sizeof *tm), *pp = cs_mallocarray(nlive, sizeof *pp), *sp = cs_mallocarray(nlive, sizeof *sp);
        int64_t *cid = cs_mallocarray(nlive, sizeof *cid), *nt = cs_mallocarray(nlive, sizeof *nt);
        char **towns = cs_calloc(nlive, sizeof *towns);
        const char **ea = cs_calloc(nlive, sizeof *ea), **eb = cs_calloc(nlive, sizeof *eb);
        if (!off || !lo || !la || !tm || !pp || !sp || !cid || !nt || !towns || !ea || !eb) st = CS_ENOMEM;
        size_t q = 0, u = 0;
        for (uint32_t k = 0; !st && k < ty->n_corridors; k++) {
            cs_corridor *co = &ty->corridors[k];
            if (co->merged_into != CS_INVALID_ID) continue;
            lo[u] = c->lon[co->a]; la[u++] = c->lat[co->a];
            for (uint32_t z = 0; z < co->n_towns; z++) { lo[u] = c->lon[co->towns[z]]; la[u++] = c->lat[co->towns[z]]; }
            lo[u] = c->lon[co->b]; la[u++] = c->lat[co->b];
            off[q + 1] = u;
            cid[q] = k + 1;
            nt[q] = co->n_towns;
            tm[q] = co->time_s / 60;
            pp[q] = co->population;
            sp[q] = co->mean_spacing_s / 60;
            ea[q] = c->id[co->a];
            eb[q] = c->id[co->b];
            towns[q] = idlist(c, co->towns, co->n_towns);
            if (!towns[q]) st = CS_ENOMEM;
            q++;
        }
        cs_table *ct = NULL;
        if (!st) st = cs_table_new(nlive, &ct);
        if (!st) st = cs_table_add_integer(ct, "corridor", cid, NULL);
        if (!st) st = cs_table_add_string(ct, "end_a", ea);
        if (!st) st = cs_table_add_string(ct, "end_b", eb);
        if (!st) st = cs_table_add_string(ct, "towns", (const char *const *)towns);
        if (!st) st = cs_table_add_integer(ct, "n_towns", nt, NULL);
        if (!st) st = cs_table_add_real(ct, "time_min", tm);
        if (!st) st = cs_table_add_real(ct, "population", pp);
        if (!st) st = cs_table_add_real(ct, "mean_spacing_min", sp);
        if (!st) st = cs_table_set_lines(ct, off, lo, la);
        if (!st) st = cs_gpkg_add(gw, ct, "corridors");
        cs_table_free(ct);
        for (size_t z = 0; towns && z < nlive; z++) cs_free(towns[z]);
        cs_free(towns); cs_free(ea); cs_free(eb); cs_free(off); cs_free(lo); cs_free(la);
        cs_free(tm); cs_free(pp); cs_free(sp); cs_free(cid); cs_free(nt);
    }
    if (gw) {
        if (!st) st = cs_gpkg_commit(gw);
        else cs_gpkg_abort(gw);
    }
    /* JSON summary */
    if (!st) {
        js = json_pack("{s:i,s:i,s:i,s:i}", "cities", (json_int_t)n, "clusters", (json_int_t)ty->n_clusters,
                       "corridors", (json_int_t)nlive, "adjacent_pairs", (json_int_t)ty->n_adjacent);
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
    for (size_t i = 0; corr && i < n; i++) cs_free(corr[i]);
    cs_free(corr); cs_free(ncor); cs_free(cl); cs_free(lvl); cs_free(cln); cs_free(hub); cs_free(par);
    cs_free(core); cs_free(prim); cs_free(sec); cs_free(iso); cs_free(ishub);
    cs_free(csv); cs_free(gpkg); cs_free(jpath);
done:
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

/*
 * steps_report.c: the "report" step of the main job — results.gpkg (every layer), summary.json, maps and
 * charts (PNG, SVG, PDF) and the self-contained report.html, from what the earlier steps left in the
 * context. Always runs (it is cheap and depends on everything before it). Conventions: docs/report.md.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "citysys/alloc.h"
#include "citysys/chart.h"
#include "citysys/cityio.h"
#include "citysys/fileio.h"
#include "citysys/flows.h"
#include "citysys/geom.h"
#include "citysys/map.h"
#include "citysys/network.h"
#include "citysys/report.h"
#include "citysys/table.h"
#include "citysys/typology.h"
#include "report/run_steps.h"

/* one typology label per city for maps and charts, in priority order */
enum { CAT_PRIMARY, CAT_HUB, CAT_CORE, CAT_SECONDARY, CAT_CORRIDOR, CAT_ISOLATED, CAT_OTHER, NCAT };
static const char *const CAT_NAMES[NCAT] = {"primary city", "regional hub", "metropolitan core",
                                            "secondary city", "corridor town", "isolated town", "other town"};

static uint32_t *categories(const cs_run_ctx *ctx)
{
    const cs_typology *t = ctx->typology;
    const cs_cities *c = ctx->cities;
    size_t n = c->n;
    uint32_t *cat = cs_mallocarray(n ? n : 1, sizeof *cat);
    uint8_t *oncor = cs_calloc(n ? n : 1, 1);
    if (!cat || !oncor) {
        cs_free(cat);
        cs_free(oncor);
        return NULL;
    }
    for (uint32_t k = 0; t && k < t->n_corridors; k++) {
        if (t->corridors[k].merged_into != CS_INVALID_ID) continue;
        for (uint32_t q = 0; q < t->corridors[k].n_towns; q++) oncor[t->corridors[k].towns[q]] = 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!t) cat[i] = CAT_OTHER;
        else if (t->is_primary[i]) cat[i] = CAT_PRIMARY;
        else if (t->is_hub[i] && t->hinterland_population[i] > c->population[i]) cat[i] = CAT_HUB;
        else if (t->is_core[i] && t->cluster[i] != CS_INVALID_ID) cat[i] = CAT_CORE;
        else if (t->is_secondary[i]) cat[i] = CAT_SECONDARY;
        else if (oncor[i]) cat[i] = CAT_CORRIDOR;
        else if (t->is_isolated[i]) cat[i] = CAT_ISOLATED;
        else cat[i] = CAT_OTHER;
    }
    cs_free(oncor);
    return cat;
}

static void extent(const cs_cities *c, double *x0, double *y0, double *x1, double *y1)
{
    *x0 = *y0 = INFINITY;
    *x1 = *y1 = -INFINITY;
    for (size_t i = 0; i < c->n; i++) {
        if (!isfinite(c->lon[i]) || !isfinite(c->lat[i])) continue;
        *x0 = fmin(*x0, c->lon[i]);
        *x1 = fmax(*x1, c->lon[i]);
        *y0 = fmin(*y0, c->lat[i]);
        *y1 = fmax(*y1, c->lat[i]);
    }
    double dx = (*x1 - *x0) * 0.04 + 0.01, dy = (*y1 - *y0) * 0.04 + 0.01;
    *x0 = fmax(-180, *x0 - dx);
    *x1 = fmin(180, *x1 + dx);
    *y0 = fmax(-89, *y0 - dy);
    *y1 = fmin(89, *y1 + dy);
}

static const char *attribution(const cs_run_ctx *ctx)
{
    return ctx->net ? "Boundaries: Natural Earth · Roads: © OpenStreetMap contributors" : "Boundaries: Natural Earth";
}

/* render one map in the three formats; the PNG is the one embedded in the report */
static cs_status render3(cs_map *m, const char *dir, const char *base)
{
    static const char *const ext[3] = {"png", "svg", "pdf"};
    cs_status st = CS_OK;
    for (int k = 0; k < 3 && !st; k++) {
        char *p = cs_asprintf("%s/%s.%s", dir, base, ext[k]);
        st = p ? cs_map_render(m, p) : CS_ENOMEM;
        cs_free(p);
    }
    return st;
}

static cs_status add_boundaries(cs_map *m)
{
    char *ne = NULL;
    cs_status st = cs_data_find("boundaries/ne_50m_countries.geojson.gz", &ne);
    if (!st) st = cs_map_add_boundaries(m, ne);
    cs_free(ne);
    return st;
}

/* sidecar with the projection and every city's pixel position and the label boxes (used by the tests) */
static cs_status map_sidecar(const cs_map *m, const cs_cities *c, const char *dir, const char *base)
{
    json_t *j = json_object(), *pts = json_array(), *labs = json_array();
    json_object_set_new(j, "projection", json_string(cs_map_projection(m)));
    for (size_t i = 0; i < c->n; i++) {
        double x, y;
        if (cs_map_project(m, c->lon[i], c->lat[i], &x, &y)) continue;
        json_array_append_new(pts, json_pack("{s:s,s:f,s:f}", "id", c->id[i], "x", x, "y", y));
    }
    for (size_t k = 0; k < cs_map_label_count(m); k++) {
        double b[4];
        size_t city;
        if (cs_map_label_box(m, k, b, &city)) continue;
        json_array_append_new(labs, json_pack("{s:s,s:f,s:f,s:f,s:f}", "id", c->id[city], "x", b[0], "y", b[1], "w",
                                              b[2], "h", b[3]));
    }
    json_object_set_new(j, "cities", pts);
    json_object_set_new(j, "labels", labs);
    char *txt = json_dumps(j, JSON_INDENT(1));
    char *p = cs_asprintf("%s/%s.json", dir, base);
    cs_status st = (!txt || !p) ? CS_ENOMEM : cs_write_file_atomic(p, txt, strlen(txt));
    free(txt);
    cs_free(p);
    json_decref(j);
    return st;
}

static cs_status map_typology(const cs_run_ctx *ctx, const uint32_t *cat, const char *dir)
{
    const cs_cities *c = ctx->cities;
    double x0, y0, x1, y1;
    extent(c, &x0, &y0, &x1, &y1);
    cs_map_opts o;
    cs_map_opts_default(&o);
    o.title = "Cities by size and role in the system";
    o.attribution = attribution(ctx);
    cs_map *m;
    cs_status st = cs_map_new(x0, y0, x1, y1, &o, &m);
    if (st) return st;
    st = add_boundaries(m);
    const cs_typology *t = ctx->typology;
    /* corridors as lines through their towns */
    if (!st && t && t->n_corridors) {
        size_t np = 0, nl = 0;
        for (uint32_t k = 0; k < t->n_corridors; k++)
            if (t->corridors[k].merged_into == CS_INVALID_ID) {
                np += t->corridors[k].n_towns + 2;
                nl++;
            }
        uint64_t *off = cs_calloc(nl + 1, sizeof *off);
        double *lo = cs_mallocarray(np ? np : 1, sizeof *lo), *la = cs_mallocarray(np ? np : 1, sizeof *la);
        if (!off || !lo || !la) st = CS_ENOMEM;
        size_t u = 0, q = 0;
        for (uint32_t k = 0; !st && k < t->n_corridors; k++) {
            const cs_corridor *co = &t->corridors[k];
            if (co->merged_into != CS_INVALID_ID) continue;
            lo[u] = c->lon[co->a];
            la[u++] = c->lat[co->a];
            for (uint32_t z = 0; z < co->n_towns; z++) {
                lo[u] = c->lon[co->towns[z]];
                la[u++] = c->lat[co->towns[z]];
            }
            lo[u] = c->lon[co->b];
            la[u++] = c->lat[co->b];
            off[++q] = u;
        }
        if (!st) st = cs_map_add_lines(m, nl, off, lo, la, NULL, NULL);
        cs_free(off);
        cs_free(lo);
        cs_free(la);
    }
    /* cluster hulls */
    if (!st && t && t->n_clusters) {
        size_t nc = t->n_clusters, cap = 12 * (c->n + nc) + 12, used = 0;
        uint64_t *off = cs_calloc(nc + 1, sizeof *off);
        double *rl = cs_mallocarray(cap, sizeof *rl), *ra = cs_mallocarray(cap, sizeof *ra);
        uint32_t *mem = cs_mallocarray(c->n ? c->n : 1, sizeof *mem), *hl = cs_mallocarray(c->n ? c->n : 1, sizeof *hl);
        uint32_t *cc = cs_calloc(nc, sizeof *cc);
        if (!off || !rl || !ra || !mem || !hl || !cc) st = CS_ENOMEM;
        for (size_t k = 0; !st && k < nc; k++) {
            size_t mm = 0, hm = 0, nv = 0;
            for (size_t i = 0; i < c->n; i++)
                if (t->cluster[i] == k) mem[mm++] = (uint32_t)i;
            st = cs_convex_hull(c->lon, c->lat, mem, mm, hl, &hm);
            if (!st) st = cs_hull_ring(c->lon, c->lat, hl, hm, 3000, rl + used, ra + used, cap - used, &nv);
            used += nv;
            off[k + 1] = used;
            cc[k] = CAT_CORE;
        }
        if (!st) st = cs_map_add_polygons(m, nc, off, rl, ra, cc, "metropolitan cluster");
        cs_free(off);
        cs_free(rl);
        cs_free(ra);
        cs_free(mem);
        cs_free(hl);
        cs_free(cc);
    }
    cs_map_cities mc = {c->n, c->lon, c->lat, c->population, cat, NCAT, CAT_NAMES, NULL, NULL,
                        (const char *const *)c->name, 30};
    if (!st) st = cs_map_add_cities(m, &mc);
    if (!st) st = render3(m, dir, "map_typology");
    if (!st) st = map_sidecar(m, c, dir, "map_typology");
    cs_map_free(m);
    return st;
}

static cs_status map_roads(const cs_run_ctx *ctx, const char *dir)
{
    const cs_cities *c = ctx->cities;
    const cs_network *net = ctx->net;
    double x0, y0, x1, y1;
    extent(c, &x0, &y0, &x1, &y1);
    cs_map_opts o;
    cs_map_opts_default(&o);
    o.title = "Roads by the interaction flows they carry";
    o.attribution = attribution(ctx);
    cs_map *m;
    cs_status st = cs_map_new(x0, y0, x1, y1, &o, &m);
    if (st) return st;
    st = add_boundaries(m);
    double *v = cs_mallocarray(net->n_segs ? net->n_segs : 1, sizeof *v);
    if (!v) st = CS_ENOMEM;
    for (uint32_t s = 0; !st && s < net->n_segs; s++) v[s] = ctx->load->flow_fwd[s] + ctx->load->flow_bwd[s];
    if (!st) st = cs_map_add_lines(m, net->n_segs, net->geom_off, net->geom_lon_deg, net->geom_lat_deg, v, "flow on the road");
    uint32_t *cat = cs_calloc(c->n ? c->n : 1, sizeof *cat);
    static const char *const one[1] = {"city"};
    cs_map_cities mc = {c->n, c->lon, c->lat, c->population, cat, 1, one, NULL, NULL, (const char *const *)c->name, 15};
    if (!cat) st = CS_ENOMEM;
    if (!st) st = cs_map_add_cities(m, &mc);
    if (!st) st = render3(m, dir, "map_roads");
    cs_free(v);
    cs_free(cat);
    cs_map_free(m);
    return st;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static cs_status map_access(const cs_run_ctx *ctx, const char *dir)
{
    const cs_cities *c = ctx->cities;
    size_t n = c->n;
    double *v = cs_mallocarray(n ? n : 1, sizeof *v), *s = cs_mallocarray(n ? n : 1, sizeof *s);
    if (!v || !s) {
        cs_free(v);
        cs_free(s);
        return CS_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (ctx->access[i] > 0) s[k++] = ctx->access[i];
    qsort(s, k, sizeof *s, cmp_dbl);
    double med = k ? s[k / 2] : 1;
    for (size_t i = 0; i < n; i++) v[i] = ctx->access[i] > 0 ? log2(ctx->access[i] / med) : NAN;
    double x0, y0, x1, y1;
    extent(c, &x0, &y0, &x1, &y1);
    cs_map_opts o;
    cs_map_opts_default(&o);
    o.title = "Market access relative to the median city";
    o.attribution = attribution(ctx);
    cs_map *m;
    cs_status st = cs_map_new(x0, y0, x1, y1, &o, &m);
    if (!st) st = add_boundaries(m);
    cs_map_cities mc = {n, c->lon, c->lat, c->population, NULL, 0, NULL, v, "log2 of access / median",
                        (const char *const *)c->name, 20};
    if (!st) st = cs_map_add_cities(m, &mc);
    if (!st) st = render3(m, dir, "map_access");
    if (m) cs_map_free(m);
    cs_free(v);
    cs_free(s);
    return st;
}

static cs_status chart3(const char *dir, const char *base, cs_status (*fn)(void *, const char *), void *u)
{
    static const char *const ext[3] = {"png", "svg", "pdf"};
    cs_status st = CS_OK;
    for (int k = 0; k < 3 && !st; k++) {
        char *p = cs_asprintf("%s/%s.%s", dir, base, ext[k]);
        st = p ? fn(u, p) : CS_ENOMEM;
        cs_free(p);
    }
    return st;
}

typedef struct lorenz_u { const double *v, *w; size_t n; double gini; const char *title; } lorenz_u;
static cs_status do_lorenz(void *u, const char *p)
{
    lorenz_u *l = u;
    cs_chart_opts o;
    cs_chart_opts_default(&o);
    o.title = l->title;
    o.note = "Population-weighted; Gini without small-sample correction (docs/methods.md).";
    return cs_chart_lorenz(l->v, l->w, l->n, l->gini, &o, p);
}

typedef struct rank_u { const double *s; size_t n; double zeta, a; } rank_u;
static cs_status do_rank(void *u, const char *p)
{
    rank_u *r = u;
    cs_chart_opts o;
    cs_chart_opts_default(&o);
    o.title = "Rank and size of cities";
    o.note = "Gabaix–Ibragimov rank − ½ regression (docs/methods.md).";
    return cs_chart_rank_size(r->s, r->n, r->zeta, r->a, &o, p);
}

typedef struct box_u { const double *v; const uint32_t *cat; size_t n; } box_u;
static cs_status do_box(void *u, const char *p)
{
    box_u *b = u;
    cs_chart_opts o;
    cs_chart_opts_default(&o);
    o.width_px = 1000;
    o.title = "Market access by the city's role";
    o.ylabel = "market access (log scale)";
    o.note = "Power decay Σ P_j c_ij^−θ on the generalised cost (docs/methods.md).";
    return cs_chart_box(b->n, b->v, b->cat, NCAT, CAT_NAMES, 1, &o, p);
}

static double jnum(const json_t *o, const char *path)
{
    /* "a.b.c" lookup; NaN when absent */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *cur = o;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, ".")) cur = json_object_get(cur, tok);
    return cur && json_is_number(cur) ? json_number_value(cur) : NAN;
}

static void fmtnum(double v, char *b, size_t n, int dec)
{
    if (!isfinite(v)) snprintf(b, n, "–");
    else if (fabs(v) >= 1e9) snprintf(b, n, "%.*f billion", dec, v / 1e9);
    else if (fabs(v) >= 1e6) snprintf(b, n, "%.*f million", dec, v / 1e6);
    else snprintf(b, n, "%.*f", dec, v);
}

static int gpkg_filter(const struct dirent *e)
{
    size_t k = strlen(e->d_name);
    if (e->d_name[0] == '.' || k < 6 || strcmp(e->d_name + k - 5, ".gpkg")) return 0;
    static const char *const skip[] = {"results.gpkg", "cities.gpkg", "network.gpkg", "structure.gpkg", NULL};
    for (int i = 0; skip[i]; i++)
        if (!strcmp(e->d_name, skip[i])) return 0;
    return 1;
}

/* Copy the layers of every other GeoPackage of dir (sorted by name) into w: facilities.gpkg as they are
   (its layers are already prefixed), the others prefixed with their file stem (scenario_NAME_cities). */
static cs_status copy_step_layers(cs_gpkg_writer *w, const char *dir)
{
    struct dirent **list = NULL;
    int nf = scandir(dir, &list, gpkg_filter, alphasort);
    if (nf < 0) return cs_error_set_at(CS_EIO, dir, 0, 0, "cannot list the output folder");
    cs_status st = CS_OK;
    for (int k = 0; k < nf; k++) {
        const char *f = list[k]->d_name;
        if (!st) {
            char *src = cs_asprintf("%s/%s", dir, f);
            char *prefix = cs_asprintf("%.*s_", (int)(strlen(f) - 5), f);
            if (!src || !prefix) st = CS_ENOMEM;
            else st = cs_gpkg_copy_layers(w, src, strcmp(f, "facilities.gpkg") ? prefix : NULL, NULL);
            cs_free(src);
            cs_free(prefix);
        }
        free(list[k]);
    }
    free(list);
    return st;
}

static cs_status write_results_gpkg(cs_run_ctx *ctx, const uint32_t *cat, const char *dir)
{
    const cs_cities *c = ctx->cities;
    size_t n = c->n;
    cs_table *tc = NULL;
    cs_status st = cs_cities_to_table(c, &tc);
    if (!st && ctx->access) st = cs_table_add_real(tc, "market_access", ctx->access);
    const char **cn = cs_mallocarray(n ? n : 1, sizeof *cn);
    if (!cn) st = st ? st : CS_ENOMEM;
    for (size_t i = 0; !st && i < n; i++) cn[i] = CAT_NAMES[cat[i]];
    if (!st) st = cs_table_add_string(tc, "role", cn);
    cs_free(cn);
    if (!st && ctx->typology) {
        const cs_typology *t = ctx->typology;
        int64_t *cl = cs_mallocarray(n ? n : 1, sizeof *cl), *lv = cs_mallocarray(n ? n : 1, sizeof *lv);
        uint8_t *nul = cs_calloc(n ? n : 1, 1);
        const char **hub = cs_mallocarray(n ? n : 1, sizeof *hub);
        if (!cl || !lv || !nul || !hub) st = CS_ENOMEM;
        for (size_t i = 0; !st && i < n; i++) {
            cl[i] = t->cluster[i] == CS_INVALID_ID ? 0 : (int64_t)t->cluster[i] + 1;
            nul[i] = t->cluster[i] == CS_INVALID_ID;
            lv[i] = t->hub_level[i];
            hub[i] = c->id[t->hub[i]];
        }
        if (!st) st = cs_table_add_integer(tc, "cluster", cl, nul);
        if (!st) st = cs_table_add_string(tc, "hub", hub);
        if (!st) st = cs_table_add_integer(tc, "hub_level", lv, NULL);
        if (!st) st = cs_table_add_real(tc, "hinterland_population", t->hinterland_population);
        cs_free(cl);
        cs_free(lv);
        cs_free(nul);
        cs_free(hub);
    }
    if (!st && ctx->load && ctx->load->through_flow) /* intermediacy (docs/centrality.md) */
        st = cs_table_add_real(tc, "intermediacy_flow", ctx->load->through_flow);
    if (!st && ctx->snaps) {
        double *sd = cs_mallocarray(n ? n : 1, sizeof *sd);
        if (!sd) st = CS_ENOMEM;
        for (size_t i = 0; !st && i < n; i++) sd[i] = ctx->snaps[i].flagged ? NAN : ctx->snaps[i].dist_m;
        if (!st) st = cs_table_add_real(tc, "snap_distance_m", sd);
        cs_free(sd);
    }
    char *p = cs_asprintf("%s/results.gpkg", dir);
    cs_gpkg_writer *w = NULL;
    if (!p) st = st ? st : CS_ENOMEM;
    if (!st) st = cs_gpkg_begin(p, &w);
    if (!st) st = cs_gpkg_add(w, tc, "cities");
    if (!st && ctx->typology) {
        cs_table *a = NULL, *b = NULL, *d = NULL;
        st = cs_typology_tables(ctx->typology, c, &a, &b, &d);
        if (!st && b) st = cs_gpkg_add(w, b, "clusters");
        if (!st && d) st = cs_gpkg_add(w, d, "corridors");
        cs_table_free(a);
        cs_table_free(b);
        cs_table_free(d);
    }
    if (!st && ctx->load && ctx->net) {
        const cs_network *net = ctx->net;
        uint32_t m = net->n_segs;
        cs_table *tr = NULL;
        double *cols = cs_mallocarray((size_t)(m ? m : 1) * 7, sizeof *cols);
        size_t *off = cs_mallocarray((size_t)m + 1, sizeof *off);
        if (!cols || !off) st = CS_ENOMEM;
        for (uint32_t s = 0; !st && s < m; s++) {
            cols[s] = ctx->load->flow_fwd[s] + ctx->load->flow_bwd[s];
            cols[(size_t)m + s] = ctx->load->pairs_fwd[s] + ctx->load->pairs_bwd[s];
            cols[(size_t)2 * m + s] = net->seg_len_cm[s] / 100.0;
            for (int k = 3; k < 7; k++) cols[(size_t)k * m + s] = NAN;
            off[s] = net->geom_off[s];
        }
        if (!st) off[m] = net->geom_off[m];
        for (size_t q = 0; !st && ctx->crit && q < ctx->crit->n; q++) {
            uint32_t s = ctx->crit->seg[q];
            cols[(size_t)3 * m + s] = (double)q + 1;
            cols[(size_t)4 * m + s] = ctx->crit->impact[q].delta_cost_s / 3600.0;
            cols[(size_t)5 * m + s] = ctx->crit->impact[q].cut_flow;
            cols[(size_t)6 * m + s] = ctx->crit->impact[q].cut_population;
        }
        static const char *const names[7] = {"flow", "city_pairs", "length_m", "criticality_rank",
                                             "closure_cost_flow_hours", "closure_cut_flow", "closure_cut_population"};
        if (!st) st = cs_table_new(m, &tr);
        if (!st && net->seg_ext_id) st = cs_table_add_string(tr, "edge_id", (const char *const *)net->seg_ext_id);
        for (int k = 0; !st && k < 7; k++) st = cs_table_add_real(tr, names[k], cols + (size_t)k * m);
        if (!st) st = cs_table_set_lines(tr, off, net->geom_lon_deg, net->geom_lat_deg);
        if (!st) st = cs_gpkg_add(w, tr, "roads");
        cs_table_free(tr);
        cs_free(cols);
        cs_free(off);
    }
    /* the layers of the other steps' GeoPackages (facilities, scenarios, portfolios), so that results.gpkg
       holds every layer; cities/network/structure.gpkg repeat layers already written above */
    if (!st && w) st = copy_step_layers(w, dir);
    if (w) {
        if (!st) st = cs_gpkg_commit(w);
        else cs_gpkg_abort(w);
    }
    cs_free(p);
    cs_table_free(tc);
    return st;
}

static int rep_wanted(const cs_run_ctx *ctx) { return ctx->cities != NULL; }

static cs_status rep_hash(const cs_run_ctx *ctx, cs_sha256 *h) { return cs_project_hash_section(ctx->project, "report", h); }

static cs_status rep_run(cs_run_ctx *ctx, const char *dir)
{
    const cs_cities *c = ctx->cities;
    size_t n = c->n;
    cs_status st = CS_OK;
    uint32_t *cat = categories(ctx);
    if (!cat) return CS_ENOMEM;
    json_t *sum = ctx->summary ? ctx->summary : json_object();
    ctx->summary = sum;
    /* results.gpkg and summary.json */
    st = write_results_gpkg(ctx, cat, dir);
    double pop = cs_cities_total_population(c);
    json_object_set_new(sum, "project", json_string(cs_project_name(ctx->project)));
    json_object_set_new(sum, "cities", json_integer((json_int_t)n));
    json_object_set_new(sum, "population", json_real(pop));
    if (!st) {
        char *txt = json_dumps(sum, JSON_INDENT(2) | JSON_SORT_KEYS);
        char *p = cs_asprintf("%s/summary.json", dir);
        st = (!txt || !p) ? CS_ENOMEM : cs_write_file_atomic(p, txt, strlen(txt));
        free(txt);
        cs_free(p);
    }
    /* maps */
    int have_typ = ctx->typology != NULL, have_roads = ctx->load && ctx->net, have_acc = ctx->access != NULL;
    if (!st) st = map_typology(ctx, cat, dir);
    if (!st && have_roads) st = map_roads(ctx, dir);
    if (!st && have_acc) st = map_access(ctx, dir);
    /* charts */
    double gini = jnum(sum, "indicators.inequality.population_weighted.gini");
    double *y = cs_mallocarray(n ? n : 1, sizeof *y), *w = cs_mallocarray(n ? n : 1, sizeof *w);
    size_t m = 0;
    if (!y || !w) st = st ? st : CS_ENOMEM;
    for (size_t i = 0; !st && c->gdp_per_head && i < n; i++)
        if (c->gdp_per_head[i] > 0 && c->population[i] > 0) {
            y[m] = c->gdp_per_head[i];
            w[m++] = c->population[i];
        }
    int have_lorenz = m >= 2;
    if (!st && have_lorenz) {
        lorenz_u lu = {y, w, m, gini, "How income per head is shared among the people of the cities"};
        st = chart3(dir, "chart_lorenz", do_lorenz, &lu);
    }
    double zeta = jnum(sum, "indicators.hierarchy.zeta_gabaix_ibragimov"), a = jnum(sum, "indicators.hierarchy.intercept_gabaix_ibragimov");
    if (!st) {
        rank_u ru = {c->population, n, zeta, a};
        st = chart3(dir, "chart_rank_size", do_rank, &ru);
    }
    if (!st && have_acc && have_typ) {
        box_u bu = {ctx->access, cat, n};
        st = chart3(dir, "chart_access_by_role", do_box, &bu);
    }
    /* report.html */
    cs_html *h = NULL;
    char title[512];
    snprintf(title, sizeof title, "The system of cities: %s", cs_project_name(ctx->project));
    if (!st) st = cs_html_new(title, &h);
    char path[4096], b1[64], b2[64], b3[64], b4[64], b5[64], b6[64];
    if (!st) {
        cs_html_paragraph(h, cs_project_description(ctx->project));
        cs_html_heading(h, 1, "glance", "At a glance");
        fmtnum((double)n, b1, sizeof b1, 0);
        fmtnum(pop, b2, sizeof b2, 1);
        fmtnum(jnum(sum, "typology.metropolitan_clusters"), b3, sizeof b3, 0);
        fmtnum(jnum(sum, "typology.corridors"), b4, sizeof b4, 0);
        fmtnum(gini, b5, sizeof b5, 2);
        fmtnum(zeta, b6, sizeof b6, 2);
        const char *labels[6] = {"cities", "people", "metropolitan clusters", "corridors",
                                 "Gini of income per head (people)", "Zipf exponent ζ"};
        const char *vals[6] = {b1, b2, b3, b4, b5, b6};
        cs_html_figures(h, 6, labels, vals);
    }
    if (!st) {
        cs_html_heading(h, 1, "structure", "How the cities are organised: clusters, corridors and hubs");
        cs_html_paragraph(h, "Each circle is a city, its area proportional to its population and its colour its main "
                             "role: the primary city of its country, the core of a metropolitan cluster, a regional "
                             "hub with a hinterland, a secondary city, a town on a corridor between major cities, or "
                             "an isolated town. Shaded areas are metropolitan clusters; grey lines join the towns of a corridor.");
        snprintf(path, sizeof path, "%s/map_typology.png", dir);
        st = cs_html_image(h, path, "map-typology", "Map of the cities by size and role", "Figure: cities by size and role.");
        if (!st)
            cs_html_note(h, "Clusters follow the OECD/EC functional-urban-area method with a travel-time commuting "
                            "model; corridors are chains of towns within a small detour of the fastest route between "
                            "neighbouring major cities; hubs are the terminal points of Nystuen–Dacey nodal regions "
                            "on gravity flows. Rules and parameters: docs/typology.md.",
                         "OECD (2012, 2019) Definition of functional urban areas; Nystuen & Dacey (1961).");
    }
    if (!st) {
        cs_html_heading(h, 1, "hierarchy", "Where people live: the urban hierarchy");
        snprintf(path, sizeof path, "%s/chart_rank_size.png", dir);
        st = cs_html_image(h, path, "chart-rank-size", "Rank-size plot", NULL);
        char txt[512];
        snprintf(txt, sizeof txt,
                 "The Zipf exponent ζ = %.3f (standard error %.3f) measures how quickly city size falls with rank; "
                 "ζ = 1 is Zipf's law, a smaller ζ means the largest cities weigh more. The largest city is %.2f "
                 "times the second (two-city primacy).",
                 zeta, jnum(sum, "indicators.hierarchy.zeta_gabaix_ibragimov_se"), jnum(sum, "indicators.hierarchy.primacy_2"));
        if (!st) cs_html_paragraph(h, txt);
        if (!st)
            cs_html_note(h, "ζ from the rank − ½ regression ln(rank − ½) = a − ζ ln(size) with standard error ζ√(2/n).",
                         "Gabaix & Ibragimov (2011), Journal of Business & Economic Statistics 29(1).");
    }
    if (!st && have_acc) {
        cs_html_heading(h, 1, "access", "Who is connected: market access");
        cs_html_paragraph(h, "Market access counts the people a city can reach, discounted by the cost of getting "
                             "there. Blue cities are below the median, red ones above it.");
        snprintf(path, sizeof path, "%s/map_access.png", dir);
        st = cs_html_image(h, path, "map-access", "Map of market access", NULL);
        if (!st && have_typ) {
            snprintf(path, sizeof path, "%s/chart_access_by_role.png", dir);
            st = cs_html_image(h, path, "chart-access", "Market access by role", NULL);
        }
        if (!st)
            cs_html_note(h, "Power decay Σ_j P_j c_ij^−θ with θ = 3.8 on the generalised cost (travel time plus "
                            "border-crossing time), with a 10-minute floor on the cost. docs/methods.md.",
                         "Harris (1954); World Bank market-access studies (e.g. Roberts et al. 2020).");
    }
    if (!st && have_roads) {
        cs_html_heading(h, 1, "roads", "Which roads carry the system, and which it cannot lose");
        snprintf(path, sizeof path, "%s/map_roads.png", dir);
        st = cs_html_image(h, path, "map-roads", "Map of road load", NULL);
        if (!st && ctx->crit && ctx->crit->n) {
            size_t k = ctx->crit->n < 10 ? ctx->crit->n : 10;
            const char *hdr[5] = {"road segment", "flow carried", "cost of closing it (flow-hours)", "flow cut off",
                                  "people cut off"};
            char **cells = cs_calloc(5 * k, sizeof *cells);
            if (!cells) st = CS_ENOMEM;
            for (size_t q = 0; !st && q < k; q++) {
                uint32_t s = ctx->crit->seg[q];
                const cs_closure_impact *im = &ctx->crit->impact[q];
                cells[5 * q] = ctx->net->seg_ext_id && ctx->net->seg_ext_id[s] ? cs_asprintf("%s", ctx->net->seg_ext_id[s])
                                                                              : cs_asprintf("%u", s);
                cells[5 * q + 1] = cs_asprintf("%.4g", ctx->load->flow_fwd[s] + ctx->load->flow_bwd[s]);
                cells[5 * q + 2] = cs_asprintf("%.4g", im->delta_cost_s / 3600);
                cells[5 * q + 3] = cs_asprintf("%.4g", im->cut_flow);
                cells[5 * q + 4] = cs_asprintf("%.0f", im->cut_population);
            }
            uint8_t numeric[5] = {0, 1, 1, 1, 1};
            if (!st) st = cs_html_table(h, "The ten most critical road segments", 5, hdr, k, (const char *const *)cells, numeric);
            for (size_t q = 0; cells && q < 5 * k; q++) cs_free(cells[q]);
            cs_free(cells);
        }
        if (!st)
            cs_html_note(h, "Gravity flows between all city pairs assigned to their fastest routes (equal split among "
                            "tied routes); a segment's criticality is the rise in total flow-weighted travel time when "
                            "it is closed, and the flow and people cut off when no alternative exists. docs/flows.md.",
                         NULL);
    }
    const json_t *jsc = json_object_get(sum, "scenarios");
    if (!st && jsc && json_array_size(jsc)) {
        cs_html_heading(h, 1, "scenarios", "What would an investment change?");
        cs_html_paragraph(h, "Each scenario changes roads, borders or cooperation between cities. The spatial "
                             "equilibrium model, calibrated to today's population and income of every city, says "
                             "how income, population and welfare would change city by city, and whether the gap "
                             "between cities would widen or narrow.");
        size_t ns = json_array_size(jsc);
        const char *hdr[7] = {"scenario", "gain per year (equivalent variation)", "welfare change",
                              "Gini of real income: before", "after", "NPV at 6 %", "EIRR"};
        char **cells = cs_calloc(7 * ns, sizeof *cells);
        if (!cells) st = CS_ENOMEM;
        for (size_t q = 0; !st && q < ns; q++) {
            const json_t *o = json_array_get(jsc, q), *ap = json_object_get(o, "appraisal");
            char b[64];
            cells[7 * q] = cs_strdup(json_string_value(json_object_get(o, "name")));
            fmtnum(jnum(o, "total_equivalent_variation"), b, sizeof b, 2);
            cells[7 * q + 1] = cs_strdup(b);
            cells[7 * q + 2] = cs_asprintf("%+.3f%%", 100 * jnum(o, "welfare_change_income_weighted"));
            cells[7 * q + 3] = cs_asprintf("%.4f", jnum(o, "gini_real_income_before"));
            cells[7 * q + 4] = cs_asprintf("%.4f", jnum(o, "gini_real_income_after"));
            if (ap) {
                fmtnum(jnum(ap, "npv"), b, sizeof b, 2);
                cells[7 * q + 5] = cs_strdup(b);
                double e = jnum(ap, "eirr");
                cells[7 * q + 6] = isfinite(e) ? cs_asprintf("%.1f%%", 100 * e) : cs_strdup("not unique / none");
            } else {
                cells[7 * q + 5] = cs_strdup("no cost given");
                cells[7 * q + 6] = cs_strdup("–");
            }
        }
        uint8_t numeric[7] = {0, 1, 1, 1, 1, 1, 1};
        if (!st) st = cs_html_table(h, "Scenarios", 7, hdr, ns, (const char *const *)cells, numeric);
        for (size_t q = 0; cells && q < 7 * ns; q++) cs_free(cells[q]);
        cs_free(cells);
        for (size_t q = 0; !st && q < ns; q++) {
            const char *nm = json_string_value(json_object_get(json_array_get(jsc, q), "name"));
            char id[96];
            snprintf(path, sizeof path, "%s/map_scenario_%s.png", dir, nm);
            snprintf(id, sizeof id, "map-scenario-%zu", q);
            st = cs_html_image(h, path, id, "Map of the change in real income", NULL);
            snprintf(path, sizeof path, "%s/chart_scenario_%s.png", dir, nm);
            snprintf(id, sizeof id, "chart-scenario-%zu", q);
            if (!st) st = cs_html_image(h, path, id, "Inequality before and after", NULL);
            /* scenario module: typology and road load after the scenario, when asked (before_after) */
            snprintf(path, sizeof path, "%s/map_scenario_%s_typology.png", dir, nm);
            snprintf(id, sizeof id, "map-scenario-typology-%zu", q);
            FILE *fe = fopen(path, "rb");
            int have = fe != NULL;
            if (fe) fclose(fe);
            if (!st && have) st = cs_html_image(h, path, id, "City classes after the scenario (labelled: class changed)", NULL);
            snprintf(path, sizeof path, "%s/map_scenario_%s_load.png", dir, nm);
            snprintf(id, sizeof id, "map-scenario-load-%zu", q);
            fe = fopen(path, "rb");
            have = fe != NULL;
            if (fe) fclose(fe);
            if (!st && have) st = cs_html_image(h, path, id, "Road load after the scenario", NULL);
        }
        if (!st)
            cs_html_note(h, "Allen & Arkolakis (2014) spatial equilibrium with trade elasticity θ = 8, productivity "
                            "spillover α = 0.1, amenity spillover β = −0.3; long run: people move within their "
                            "country. Counterfactuals by exact hat algebra from the calibrated baseline. The gain is "
                            "the equivalent variation at baseline income (PPP dollars per year), used as the annual "
                            "benefit of the appraisal. docs/model-equilibrium.md, docs/scenarios.md, docs/appraisal.md.",
                         "Allen & Arkolakis (2014) QJE 129(3); Redding (2016) JIE 101.");
    }
    extern cs_status cs_report_portfolio_section(cs_html *h, const json_t *sum, const char *dir);
    if (!st) st = cs_report_portfolio_section(h, sum, dir); /* steps_plan_portfolio.c */
    const json_t *jf = json_object_get(sum, "facilities");
    if (!st && jf && json_array_size(jf)) {
        cs_html_heading(h, 1, "facilities", "Where to put what several cities share");
        cs_html_paragraph(h, "Sites for facilities that serve several cities (a regional hospital, a dry port, a "
                             "university), chosen so that they serve the population as well as possible. Every "
                             "site, the city each town is assigned to and the catchment areas are in facilities.gpkg.");
        size_t np = json_array_size(jf);
        const char *hdr[6] = {"plan", "model", "sites", "objective", "proven gap", "bound"};
        char **cells = cs_calloc(6 * np, sizeof *cells);
        if (!cells) st = CS_ENOMEM;
        for (size_t q = 0; !st && q < np; q++) {
            const json_t *o = json_array_get(jf, q);
            const json_t *g = json_object_get(o, "gap");
            cells[6 * q] = cs_strdup(json_string_value(json_object_get(o, "name")));
            cells[6 * q + 1] = cs_strdup(json_string_value(json_object_get(o, "model")));
            cells[6 * q + 2] = cs_asprintf("%lld", (long long)json_integer_value(json_object_get(o, "sites")));
            cells[6 * q + 3] = cs_asprintf("%.6g", json_number_value(json_object_get(o, "objective")));
            cells[6 * q + 4] = json_is_number(g) ? cs_asprintf("%.2f%%", 100 * json_number_value(g)) : cs_strdup("–");
            cells[6 * q + 5] = cs_strdup(json_string_value(json_object_get(o, "bound_kind")));
        }
        uint8_t numeric[6] = {0, 0, 1, 1, 1, 0};
        if (!st) st = cs_html_table(h, "Facility plans", 6, hdr, np, (const char *const *)cells, numeric);
        for (size_t q = 0; cells && q < 6 * np; q++) cs_free(cells[q]);
        cs_free(cells);
        for (size_t q = 0; !st && q < np; q++) {
            snprintf(path, sizeof path, "%s/chart_coverage_%s.png", dir,
                     json_string_value(json_object_get(json_array_get(jf, q), "name")));
            FILE *fp = fopen(path, "rb");
            if (!fp) continue;
            fclose(fp);
            char id[96];
            snprintf(id, sizeof id, "chart-coverage-%zu", q);
            st = cs_html_image(h, path, id, "Coverage curve", NULL);
        }
        if (!st)
            cs_html_note(h, "p-median minimises the population-weighted travel time to the nearest site; maximal "
                            "covering maximises the population within the radius. The gap is proven against the "
                            "stated bound (Lagrangian, LP or branch and bound). docs/facilities.md.",
                         "ReVelle & Swain (1970); Church & ReVelle (1974); Beasley (1993).");
    }
    if (!st && have_lorenz) {
        cs_html_heading(h, 1, "inequality", "How unequal are the cities?");
        snprintf(path, sizeof path, "%s/chart_lorenz.png", dir);
        st = cs_html_image(h, path, "chart-lorenz", "Lorenz curve", NULL);
        const char *hdr[3] = {"index", "each city once", "each person once"};
        static const char *const idx[6][2] = {{"Gini", "gini"}, {"Theil T = GE(1)", "theil_t_ge1"},
                                              {"Theil L = mean log deviation = GE(0)", "theil_l_mld_ge0"},
                                              {"GE(2)", "ge2"}, {"Atkinson (ε = 1)", "atkinson_eps1"},
                                              {"coefficient of variation", "cv"}};
        char *cells[18];
        for (int r = 0; r < 6; r++) {
            char k1[128], k2[128];
            snprintf(k1, sizeof k1, "indicators.inequality.unweighted.%s", idx[r][1]);
            snprintf(k2, sizeof k2, "indicators.inequality.population_weighted.%s", idx[r][1]);
            cells[3 * r] = cs_strdup(idx[r][0]);
            cells[3 * r + 1] = cs_asprintf("%.4f", jnum(sum, k1));
            cells[3 * r + 2] = cs_asprintf("%.4f", jnum(sum, k2));
        }
        uint8_t numeric[3] = {0, 1, 1};
        if (!st) st = cs_html_table(h, "Inequality of income per head", 3, hdr, 6, (const char *const *)cells, numeric);
        for (int r = 0; r < 18; r++) cs_free(cells[r]);
        char txt[600];
        double tb = jnum(sum, "indicators.inequality.theil_l_between_groups"), tw = jnum(sum, "indicators.inequality.theil_l_within_groups");
        if (isfinite(tb) && isfinite(tw) && tb + tw > 0) {
            snprintf(txt, sizeof txt,
                     "%.0f%% of the inequality (Theil L, people) lies between countries and %.0f%% within them.",
                     100 * tb / (tb + tw), 100 * tw / (tb + tw));
            if (!st) cs_html_paragraph(h, txt);
        }
        if (!st)
            cs_html_note(h, "Gini without the n/(n−1) correction; the GE family decomposes exactly into between- "
                            "and within-country parts (Shorrocks 1980). The value is GDP per head at purchasing-power "
                            "parity where the data give it. docs/methods.md.",
                         "Cowell (2011) Measuring Inequality; Shorrocks (1980) Econometrica 48(3).");
    }
    if (!st) {
        cs_html_heading(h, 1, "data", "Data and files");
        cs_html_paragraph(h, "Everything in this report is in the output folder: results.gpkg (layers cities, roads, "
                             "clusters, corridors; opens in QGIS), CSV tables, summary.json, the maps and charts as "
                             "PNG, SVG and PDF, and manifest.json with the fingerprint of every input.");
        cs_html_paragraph(h, attribution(ctx));
        char *p = cs_asprintf("%s/report.html", dir);
        st = p ? cs_html_write(h, p) : CS_ENOMEM;
        cs_free(p);
    }
    cs_html_free(h);
    cs_free(y);
    cs_free(w);
    cs_free(cat);
    return st;
}

const cs_run_step cs_step_report = {"report", 1, 0, rep_wanted, rep_hash, rep_run, NULL};

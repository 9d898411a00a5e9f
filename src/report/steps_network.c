/*
 * steps_network.c: the "network" and "matrix" steps of the main job.
 *   network: build the road network from the project's source (OSM, GIS lines or node/edge tables) and its
 *            routing hierarchy; cached as the router file (network.csgraph) + a segment export.
 *   matrix:  join every city to the network (snapping), then the exact city x city travel-time and distance
 *            matrices; cached as binary matrix files (+ CSV on request) and the snap report.
 * Section schemas: docs/project-file.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "citysys/alloc.h"
#include "citysys/flows.h"
#include "citysys/matrix.h"
#include "citysys/network.h"
#include "citysys/osm.h"
#include "citysys/routing.h"
#include "citysys/table.h"
#include "citysys/typology.h"
#include "report/run_steps.h"
#include "report/section.h"

/* ------------------------------------------------------------ configuration */

typedef struct net_cfg {
    int present;
    const char *osm_path, *profile, *nodes_path, *edges_path, *lines_path;
    int include_border_time;
    const char *edge_time, *edge_length, *time_field, *speed_field, *class_field, *dir_field;
    double time_unit_s, default_kmh;
    int snap_mode; /* 0 segment, 1 node */
    int count_access; /* node mode: count the connector leg (default 1) */
    cs_snap_opts snap;
    int matrix_csv; /* 0 none, 1 long, 2 wide */
} net_cfg;

static const char *const NET_KEYS[] = {"osm_path", "profile", "nodes_path", "edges_path", "lines_path",
                                       "include_border_time", "edge_time", "edge_length", "time_unit_s",
                                       "time_field", "speed_field", "class_field", "dir_field", "default_kmh",
                                       "snap", NULL};
static const char *const SNAP_KEYS[] = {"mode", "max_distance_m", "access_speed_kmh", "prefer_largest", "count_access", NULL};
static const char *const MATRIX_KEYS[] = {"csv", NULL};

static int parse_net(const cs_project *p, cs_diag *diag, net_cfg *c)
{
    int errors = 0;
    memset(c, 0, sizeof *c);
    cs_snap_opts_default(&c->snap);
    c->count_access = 1;
    cs_sec s, sn, m;
    c->present = cs_sec_open(&s, p, diag, "network", &errors);
    if (!c->present) return errors;
    cs_sec_check_keys(&s, NET_KEYS);
    c->osm_path = cs_sec_str(&s, "osm_path", NULL);
    c->profile = cs_sec_str(&s, "profile", "developing");
    c->nodes_path = cs_sec_str(&s, "nodes_path", NULL);
    c->edges_path = cs_sec_str(&s, "edges_path", NULL);
    c->lines_path = cs_sec_str(&s, "lines_path", NULL);
    c->include_border_time = cs_sec_bool(&s, "include_border_time", 1);
    c->edge_time = cs_sec_str(&s, "edge_time", NULL);
    c->edge_length = cs_sec_str(&s, "edge_length", NULL);
    c->time_unit_s = cs_sec_num(&s, "time_unit_s", 60, 1e-6, 1e6);
    c->time_field = cs_sec_str(&s, "time_field", NULL);
    c->speed_field = cs_sec_str(&s, "speed_field", NULL);
    c->class_field = cs_sec_str(&s, "class_field", NULL);
    c->dir_field = cs_sec_str(&s, "dir_field", NULL);
    c->default_kmh = cs_sec_num(&s, "default_kmh", 0, 0, 1000);
    int nsrc = !!c->osm_path + !!c->lines_path + !!(c->nodes_path || c->edges_path);
    if (nsrc != 1)
        cs_sec_error(&s, NULL, "name exactly one network source: osm_path, lines_path, or nodes_path + edges_path");
    if ((c->nodes_path != NULL) != (c->edges_path != NULL))
        cs_sec_error(&s, c->nodes_path ? "nodes_path" : "edges_path", "nodes_path and edges_path go together");
    if (cs_sec_child(&s, "snap", &sn)) {
        cs_sec_check_keys(&sn, SNAP_KEYS);
        static const char *const modes[] = {"segment", "node", NULL};
        c->snap_mode = cs_sec_enum(&sn, "mode", modes, 0);
        c->snap.max_dist_m = cs_sec_num(&sn, "max_distance_m", c->snap.max_dist_m, 0, 2e7);
        c->snap.access_speed_kmh = cs_sec_num(&sn, "access_speed_kmh", c->snap.access_speed_kmh, 0.1, 1000);
        c->snap.prefer_largest = cs_sec_bool(&sn, "prefer_largest", c->snap.prefer_largest);
        c->count_access = cs_sec_bool(&sn, "count_access", 1);
    }
    if (cs_sec_open(&m, p, diag, "matrix", &errors)) {
        cs_sec_check_keys(&m, MATRIX_KEYS);
        static const char *const csvs[] = {"none", "long", "wide", NULL};
        c->matrix_csv = cs_sec_enum(&m, "csv", csvs, 0);
    }
    return errors;
}

cs_status cs_run_check_network_sections(cs_run_ctx *ctx);
cs_status cs_run_check_network_sections(cs_run_ctx *ctx)
{
    net_cfg c;
    return parse_net(ctx->project, ctx->diag, &c) ? CS_EPARSE : CS_OK;
}

/* ------------------------------------------------------------ network */

static int net_wanted(const cs_run_ctx *ctx) { return cs_project_section(ctx->project, "network") != NULL; }

static cs_status net_hash(const cs_run_ctx *ctx, cs_sha256 *h)
{
    return cs_project_hash_section(ctx->project, "network", h);
}

static cs_status build_network(const cs_run_ctx *ctx, const net_cfg *c, cs_network **out)
{
    const cs_project *p = ctx->project;
    cs_status st;
    char *a = NULL, *b = NULL;
    if (c->osm_path) {
        char *ppath = NULL;
        cs_profile *prof = NULL;
        a = cs_project_resolve(p, c->osm_path);
        /* a profile is a bundled name or a file next to the project */
        char *rp = cs_project_resolve(p, c->profile);
        if (!a || !rp) { cs_free(a); cs_free(rp); return CS_ENOMEM; }
        FILE *f = fopen(rp, "rb");
        if (f) fclose(f);
        st = cs_profile_find(f ? rp : c->profile, &ppath);
        cs_free(rp);
        if (!st) st = cs_profile_load(ppath, &prof);
        cs_free(ppath);
        cs_osm_opts oo;
        cs_osm_opts_default(&oo);
        oo.progress = ctx->progress;
        if (!st) st = cs_network_from_osm(a, prof, &oo, out, NULL);
        cs_profile_free(prof);
    } else if (c->lines_path) {
        a = cs_project_resolve(p, c->lines_path);
        if (!a) return CS_ENOMEM;
        cs_lines_opts lo;
        cs_lines_opts_default(&lo);
        lo.time_field = c->time_field;
        lo.time_unit_s = c->time_unit_s;
        lo.speed_field = c->speed_field;
        lo.class_field = c->class_field;
        lo.dir_field = c->dir_field;
        lo.default_kmh = c->default_kmh;
        lo.progress = ctx->progress;
        st = cs_network_from_lines(a, &lo, out);
    } else {
        a = cs_project_resolve(p, c->nodes_path);
        b = cs_project_resolve(p, c->edges_path);
        if (!a || !b) { cs_free(a); cs_free(b); return CS_ENOMEM; }
        cs_table_opts to;
        cs_table_opts_default(&to);
        if (c->edge_time) to.edge_time = c->edge_time;
        if (c->edge_length) to.edge_length = c->edge_length;
        to.time_unit_s = c->time_unit_s;
        to.include_extra = c->include_border_time;
        st = cs_network_from_tables(a, b, &to, out);
    }
    cs_free(a);
    cs_free(b);
    return st;
}

static cs_status net_run(cs_run_ctx *ctx, const char *dir)
{
    net_cfg c;
    if (parse_net(ctx->project, ctx->diag, &c)) return CS_EPARSE;
    cs_status st = build_network(ctx, &c, &ctx->net);
    if (st) return st;
    cs_router_opts ro;
    cs_router_opts_default(&ro);
    st = cs_router_build(ctx->net, &ro, ctx->progress, &ctx->router);
    char *gp = cs_asprintf("%s/network.csgraph", dir), *ep = cs_asprintf("%s/network.gpkg", dir);
    if (!gp || !ep) st = st ? st : CS_ENOMEM;
    if (!st) st = cs_router_save(ctx->router, gp);
    if (!st) st = cs_network_export(ctx->net, ep);
    cs_free(gp);
    cs_free(ep);
    return st;
}

static cs_status net_load(cs_run_ctx *ctx, const char *dir)
{
    /* the network itself (segments and geometry) is re-read from its source: cheap next to the hierarchy,
       which comes from the cache */
    net_cfg c;
    if (parse_net(ctx->project, ctx->diag, &c)) return CS_EPARSE;
    cs_status st = build_network(ctx, &c, &ctx->net);
    char *gp = cs_asprintf("%s/network.csgraph", dir);
    if (!gp) return CS_ENOMEM;
    if (!st) st = cs_router_load(gp, ctx->net->fingerprint, &ctx->router);
    cs_free(gp);
    if (st) {
        /* nothing half-loaded: the run may compute the step again (an entry this build cannot read) */
        cs_router_free(ctx->router);
        cs_network_free(ctx->net);
        ctx->router = NULL;
        ctx->net = NULL;
    }
    return st;
}

const cs_run_step cs_step_network = {"network", 2, 1, net_wanted, net_hash, net_run, net_load};

/* ------------------------------------------------------------ matrix */

static int mat_wanted(const cs_run_ctx *ctx) { return ctx->router != NULL || net_wanted(ctx); }

static cs_status mat_hash(const cs_run_ctx *ctx, cs_sha256 *h)
{
    /* depends on the cities (validate, chained) and on network.snap and matrix */
    cs_status st = cs_project_hash_section(ctx->project, "matrix", h);
    if (!st) st = cs_project_hash_section(ctx->project, "network", h);
    return st;
}

/* snaps stored as a (n x 8) matrix: seg, frac, dist_m, snap_lon, snap_lat, access_ms, component, flagged */
enum { SN_COLS = 8 };

/* nearest network node to each city (node mode): a uniform grid over the nodes, searched ring by ring */
static cs_status nearest_nodes(const cs_network *net, const double *lon, const double *lat, size_t n, uint32_t *out,
                               double *dist)
{
    uint32_t V = net->n_nodes;
    if (V == 0) {
        for (size_t i = 0; i < n; i++) { out[i] = CS_INVALID_ID; dist[i] = NAN; }
        return CS_OK;
    }
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (uint32_t v = 0; v < V; v++) {
        x0 = fmin(x0, net->lon_deg[v]); x1 = fmax(x1, net->lon_deg[v]);
        y0 = fmin(y0, net->lat_deg[v]); y1 = fmax(y1, net->lat_deg[v]);
    }
    uint32_t G = (uint32_t)ceil(sqrt((double)V / 4.0));
    if (G < 1) G = 1;
    if (G > 4096) G = 4096;
    double cw = fmax((x1 - x0) / G, 1e-9), ch = fmax((y1 - y0) / G, 1e-9);
    uint32_t *cnt = cs_calloc((size_t)G * G + 1, sizeof *cnt), *items = cs_mallocarray(V, sizeof *items);
    if (!cnt || !items) { cs_free(cnt); cs_free(items); return CS_ENOMEM; }
#define CELL(x, y) ((uint32_t)fmin(G - 1, fmax(0, floor(((x) - x0) / cw))) + G * (uint32_t)fmin(G - 1, fmax(0, floor(((y) - y0) / ch))))
    for (uint32_t v = 0; v < V; v++) cnt[CELL(net->lon_deg[v], net->lat_deg[v]) + 1]++;
    for (size_t k = 0; k < (size_t)G * G; k++) cnt[k + 1] += cnt[k];
    uint32_t *fill = cs_mallocarray((size_t)G * G + 1, sizeof *fill);
    if (!fill) { cs_free(cnt); cs_free(items); return CS_ENOMEM; }
    memcpy(fill, cnt, ((size_t)G * G + 1) * sizeof *fill);
    for (uint32_t v = 0; v < V; v++) items[fill[CELL(net->lon_deg[v], net->lat_deg[v])]++] = v;
    for (size_t i = 0; i < n; i++) {
        out[i] = CS_INVALID_ID;
        dist[i] = NAN;
        if (!isfinite(lon[i]) || !isfinite(lat[i])) continue;
        uint32_t c = CELL(lon[i], lat[i]), cx = c % G, cy = c / G;
        double best = INFINITY;
        uint32_t bv = CS_INVALID_ID;
        for (uint32_t r = 0; r <= G; r++) {
            for (int64_t yy = (int64_t)cy - r; yy <= (int64_t)cy + r; yy++) {
                if (yy < 0 || yy >= G) continue;
                for (int64_t xx = (int64_t)cx - r; xx <= (int64_t)cx + r; xx++) {
                    if (xx < 0 || xx >= G) continue;
                    if (llabs(yy - (int64_t)cy) != r && llabs(xx - (int64_t)cx) != r) continue; /* ring only */
                    size_t k = (size_t)yy * G + (size_t)xx;
                    for (uint32_t q = cnt[k]; q < cnt[k + 1]; q++) {
                        uint32_t v = items[q];
                        double d = cs_geodesic_m(lon[i], lat[i], net->lon_deg[v], net->lat_deg[v]);
                        if (d < best || (d == best && v < bv)) { best = d; bv = v; }
                    }
                }
            }
            /* stop when the ring's inner boundary is farther than the best (in degrees of latitude, a
               lower bound of distance; longitude cells shrink with cos(lat), so use the smaller size) */
            double ring_m = (double)r * fmin(ch, cw * cos(fmin(89.0, fabs(lat[i]) + (r + 1) * ch) * M_PI / 180)) * 111194.9;
            if (bv != CS_INVALID_ID && ring_m > best) break;
        }
        out[i] = bv;
        dist[i] = best;
    }
#undef CELL
    cs_free(cnt);
    cs_free(items);
    cs_free(fill);
    return CS_OK;
}

static cs_status locations_from_snaps(cs_run_ctx *ctx, const net_cfg *c)
{
    size_t n = ctx->cities->n;
    ctx->loc = cs_mallocarray(n ? n : 1, sizeof *ctx->loc);
    if (!ctx->loc) return CS_ENOMEM;
    if (c->snap_mode != 1) {
        for (size_t i = 0; i < n; i++) ctx->loc[i] = cs_location_from_snap(&ctx->snaps[i]);
        return CS_OK;
    }
    const cs_network *net = ctx->net;
    uint32_t *nn = cs_mallocarray(n ? n : 1, sizeof *nn);
    double *dd = cs_mallocarray(n ? n : 1, sizeof *dd);
    cs_status st = (!nn || !dd) ? CS_ENOMEM : nearest_nodes(net, ctx->cities->lon, ctx->cities->lat, n, nn, dd);
    for (size_t i = 0; !st && i < n; i++) {
        cs_snap *s = &ctx->snaps[i];
        if (nn[i] == CS_INVALID_ID || !(dd[i] <= c->snap.max_dist_m)) {
            s->flagged = 1;
            s->seg = CS_INVALID_ID;
            ctx->loc[i] = cs_location_from_snap(s);
            continue;
        }
        cs_location l = cs_location_node(nn[i]);
        if (c->count_access) {
            l.access_ms = (uint32_t)llround(dd[i] / (c->snap.access_speed_kmh / 3.6) * 1000.0);
            l.access_cm = (uint32_t)llround(dd[i] * 100.0);
        }
        s->flagged = 0;
        s->dist_m = dd[i];
        s->snap_lon = net->lon_deg[nn[i]];
        s->snap_lat = net->lat_deg[nn[i]];
        s->access_ms = l.access_ms;
        ctx->loc[i] = l;
    }
    cs_free(nn);
    cs_free(dd);
    return st;
}

static cs_status mat_run(cs_run_ctx *ctx, const char *dir)
{
    net_cfg c;
    if (parse_net(ctx->project, ctx->diag, &c)) return CS_EPARSE;
    const cs_cities *ci = ctx->cities;
    size_t n = ci->n;
    ctx->snaps = cs_calloc(n ? n : 1, sizeof *ctx->snaps);
    if (!ctx->snaps) return CS_ENOMEM;
    cs_status st = cs_snap_points(ctx->net, ci->lon, ci->lat, n, &c.snap, ctx->snaps);
    if (!st) st = locations_from_snaps(ctx, &c);
    size_t flagged = 0;
    for (size_t i = 0; !st && i < n; i++)
        if (ctx->snaps[i].flagged) {
            flagged++;
            if (ctx->diag)
                cs_diag_add(ctx->diag, CS_SEV_WARNING, CS_OK, "", 0, 0, ci->id[i],
                            "not joined to the network (farther than %g m from any road): kept, with no route",
                            c.snap.max_dist_m);
        }
    cs_matrix_opts mo;
    cs_matrix_opts_default(&mo);
    mo.src_ids = (const char *const *)ci->id;
    mo.dst_ids = (const char *const *)ci->id;
    if (!st) st = cs_router_matrix(ctx->router, ctx->loc, n, ctx->loc, n, &mo, ctx->progress, &ctx->time, &ctx->dist);
    /* files */
    char *tp = cs_asprintf("%s/matrix_time.csmat", dir), *dp = cs_asprintf("%s/matrix_distance.csmat", dir),
         *sp = cs_asprintf("%s/snaps.csmat", dir), *sc = cs_asprintf("%s/snaps.csv", dir);
    if (!tp || !dp || !sp || !sc) st = st ? st : CS_ENOMEM;
    if (!st) st = cs_matrix_write(ctx->time, tp);
    if (!st) st = cs_matrix_write(ctx->dist, dp);
    cs_matrix *sm = NULL;
    if (!st) st = cs_matrix_new(n, SN_COLS, CS_MATRIX_OTHER, &sm);
    if (!st) {
        for (size_t i = 0; i < n; i++) {
            const cs_snap *s = &ctx->snaps[i];
            double *r = sm->v + i * SN_COLS;
            r[0] = s->seg == CS_INVALID_ID ? -1.0 : (double)s->seg;
            r[1] = s->frac;
            r[2] = s->dist_m;
            r[3] = s->snap_lon;
            r[4] = s->snap_lat;
            r[5] = s->access_ms;
            r[6] = s->component == CS_INVALID_ID ? -1.0 : (double)s->component;
            r[7] = s->flagged;
        }
        st = cs_matrix_write(sm, sp);
    }
    cs_matrix_free(sm);
    /* snap report (CSV and a GeoPackage layer of snapped points) */
    cs_table *t = NULL;
    double *col[4] = {0};
    for (int k = 0; k < 4; k++) col[k] = cs_mallocarray(n ? n : 1, sizeof(double));
    if (!col[0] || !col[1] || !col[2] || !col[3]) st = st ? st : CS_ENOMEM;
    if (!st) {
        for (size_t i = 0; i < n; i++) {
            col[0][i] = ctx->snaps[i].seg == CS_INVALID_ID ? NAN : ctx->snaps[i].seg;
            col[1][i] = ctx->snaps[i].dist_m;
            col[2][i] = ctx->snaps[i].component == CS_INVALID_ID ? NAN : ctx->snaps[i].component;
            col[3][i] = ctx->snaps[i].flagged;
        }
        st = cs_table_new(n, &t);
    }
    if (!st) st = cs_table_add_string(t, "id", (const char *const *)ci->id);
    if (!st) st = cs_table_add_string(t, "name", (const char *const *)ci->name);
    if (!st) st = cs_table_add_real(t, "segment", col[0]);
    if (!st) st = cs_table_add_real(t, "snap_distance_m", col[1]);
    if (!st) st = cs_table_add_real(t, "component", col[2]);
    if (!st) st = cs_table_add_real(t, "not_joined", col[3]);
    if (!st) st = cs_table_write(t, sc, CS_FORMAT_CSV, "snaps", 0);
    cs_table_free(t);
    for (int k = 0; k < 4; k++) cs_free(col[k]);
    if (!st && c.matrix_csv) {
        char *lp = cs_asprintf("%s/matrix_time.csv", dir), *lq = cs_asprintf("%s/matrix_distance.csv", dir);
        if (!lp || !lq) st = CS_ENOMEM;
        cs_matrix_csv_layout lay = c.matrix_csv == 1 ? CS_MATRIX_CSV_LONG : CS_MATRIX_CSV_WIDE;
        if (!st) st = cs_matrix_write_csv(ctx->time, lp, lay);
        if (!st) st = cs_matrix_write_csv(ctx->dist, lq, lay);
        cs_free(lp);
        cs_free(lq);
    }
    cs_free(tp);
    cs_free(dp);
    cs_free(sp);
    cs_free(sc);
    return st;
}

static cs_status mat_load(cs_run_ctx *ctx, const char *dir)
{
    char *tp = cs_asprintf("%s/matrix_time.csmat", dir), *dp = cs_asprintf("%s/matrix_distance.csmat", dir),
         *sp = cs_asprintf("%s/snaps.csmat", dir);
    cs_status st = (!tp || !dp || !sp) ? CS_ENOMEM : CS_OK;
    cs_matrix *sm = NULL;
    if (!st) st = cs_matrix_read(tp, NULL, &ctx->time);
    if (!st) st = cs_matrix_read(dp, NULL, &ctx->dist);
    if (!st) st = cs_matrix_read(sp, NULL, &sm);
    size_t n = ctx->cities->n;
    if (!st && (sm->rows != n || sm->cols != SN_COLS || ctx->time->rows != n))
        st = cs_error_set_at(CS_EFORMAT, sp, 0, 0, "cached snaps do not match the city table");
    if (!st) {
        ctx->snaps = cs_calloc(n ? n : 1, sizeof *ctx->snaps);
        ctx->loc = cs_mallocarray(n ? n : 1, sizeof *ctx->loc);
        if (!ctx->snaps || !ctx->loc) st = CS_ENOMEM;
    }
    for (size_t i = 0; !st && i < n; i++) {
        const double *r = sm->v + i * SN_COLS;
        cs_snap *s = &ctx->snaps[i];
        s->seg = r[0] < 0 ? CS_INVALID_ID : (uint32_t)r[0];
        s->frac = r[1];
        s->dist_m = r[2];
        s->snap_lon = r[3];
        s->snap_lat = r[4];
        s->access_ms = (uint32_t)r[5];
        s->component = r[6] < 0 ? CS_INVALID_ID : (uint32_t)r[6];
        s->flagged = (int)r[7];
    }
    if (!st) {
        net_cfg c;
        parse_net(ctx->project, NULL, &c);
        cs_free(ctx->loc);
        ctx->loc = NULL;
        /* node mode: the nearest end of the snapped segment, recomputed from the city's position */
        st = locations_from_snaps(ctx, &c);
    }
    cs_matrix_free(sm);
    cs_free(tp);
    cs_free(dp);
    cs_free(sp);
    if (st) {
        /* nothing half-loaded: the run may compute the step again (an entry this build cannot read) */
        cs_matrix_free(ctx->time);
        cs_matrix_free(ctx->dist);
        cs_free(ctx->snaps);
        cs_free(ctx->loc);
        ctx->time = ctx->dist = NULL;
        ctx->snaps = NULL;
        ctx->loc = NULL;
    }
    return st;
}

const cs_run_step cs_step_matrix = {"matrix", 1, 1, mat_wanted, mat_hash, mat_run, mat_load};

/* ------------------------------------------------------------ context cleanup */

void cs_run_ctx_free_analysis(cs_run_ctx *ctx)
{
    cs_router_free(ctx->router);
    cs_network_free(ctx->net);
    cs_free(ctx->snaps);
    cs_free(ctx->loc);
    cs_matrix_free(ctx->time);
    cs_matrix_free(ctx->dist);
    cs_matrix_free(ctx->cost);
    cs_matrix_free(ctx->flows);
    cs_free(ctx->access);
    cs_typology_free(ctx->typology);
    cs_load_free(ctx->load);
    cs_criticality_free(ctx->crit);
    json_decref(ctx->summary);
    ctx->router = NULL;
    ctx->net = NULL;
}

/* ------------------------------------------------------------ section checks (validate step) */

cs_status cs_run_check_analysis_sections(cs_run_ctx *ctx);
cs_status cs_run_check_typology_section(cs_run_ctx *ctx);
cs_status cs_run_check_facilities_section(cs_run_ctx *ctx);
cs_status cs_run_check_scenarios_section(cs_run_ctx *ctx);
cs_status cs_run_check_portfolio_section(cs_run_ctx *ctx);

cs_status cs_run_check_sections(cs_run_ctx *ctx)
{
    /* every section is checked, so that all problems are reported in one run */
    cs_status a = cs_run_check_network_sections(ctx), b = cs_run_check_analysis_sections(ctx),
              c = cs_run_check_typology_section(ctx), d = cs_run_check_facilities_section(ctx),
              e = cs_run_check_scenarios_section(ctx), f = cs_run_check_portfolio_section(ctx);
    return a ? a : b ? b : c ? c : d ? d : e ? e : f;
}

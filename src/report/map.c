/* map.c: thematic maps in a Lambert azimuthal equal-area projection (docs/report.md). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <proj.h>
#include "citysys/alloc.h"
#include "citysys/map.h"
#include "draw.h"

typedef struct poly_layer {
    size_t n;          /* rings/lines */
    uint64_t *off;     /* n+1 */
    double *x, *y;     /* pixels */
    uint32_t *cat;     /* per ring, may be NULL */
    double *value;     /* per line, may be NULL */
    char *legend;
} poly_layer;

typedef struct label {
    double x, y, w, h;
    size_t city;
} label;

struct cs_map {
    cs_map_opts o;
    char *title, *attrib;
    PJ_CONTEXT *ctx;
    PJ *pj;
    char projdef[160];
    double cx, cy, scale; /* projected centre (m) and pixels per metre */
    poly_layer bounds, lines, polys;
    int has_bounds, has_lines, has_polys;
    /* cities */
    size_t nc;
    double *px, *py, *pop, *val, *r;
    uint32_t *cat;
    char **labels;
    char **cat_names;
    size_t ncat, max_labels;
    char *value_legend;
    label *placed;
    size_t nplaced;
};

void cs_map_opts_default(cs_map_opts *o)
{
    memset(o, 0, sizeof *o);
    o->width_px = 1000;
    o->height_px = 800;
    o->margin_frac = 0.06;
}

static void free_layer(poly_layer *l)
{
    cs_free(l->off);
    cs_free(l->x);
    cs_free(l->y);
    cs_free(l->cat);
    cs_free(l->value);
    cs_free(l->legend);
    memset(l, 0, sizeof *l);
}

void cs_map_free(cs_map *m)
{
    if (!m) return;
    if (m->pj) proj_destroy(m->pj);
    if (m->ctx) proj_context_destroy(m->ctx);
    free_layer(&m->bounds);
    free_layer(&m->lines);
    free_layer(&m->polys);
    cs_free(m->px);
    cs_free(m->py);
    cs_free(m->pop);
    cs_free(m->val);
    cs_free(m->r);
    cs_free(m->cat);
    if (m->labels)
        for (size_t i = 0; i < m->nc; i++) cs_free(m->labels[i]);
    cs_free(m->labels);
    if (m->cat_names)
        for (size_t i = 0; i < m->ncat; i++) cs_free(m->cat_names[i]);
    cs_free(m->cat_names);
    cs_free(m->value_legend);
    cs_free(m->placed);
    cs_free(m->title);
    cs_free(m->attrib);
    cs_free(m);
}

static int fwd(const cs_map *m, double lon, double lat, double *x, double *y)
{
    PJ_COORD c = proj_coord(proj_torad(lon), proj_torad(lat), 0, 0);
    PJ_COORD r = proj_trans(m->pj, PJ_FWD, c);
    if (!isfinite(r.xy.x) || !isfinite(r.xy.y) || r.xy.x == HUGE_VAL) return -1;
    *x = r.xy.x;
    *y = r.xy.y;
    return 0;
}

static void to_px(const cs_map *m, double X, double Y, double *px, double *py)
{
    *px = m->o.width_px / 2.0 + (X - m->cx) * m->scale;
    *py = m->o.height_px / 2.0 - (Y - m->cy) * m->scale;
}

cs_status cs_map_project(const cs_map *m, double lon, double lat, double *x, double *y)
{
    double X, Y;
    if (fwd(m, lon, lat, &X, &Y)) return cs_error_set(CS_EINVAL, "point (%g, %g) cannot be projected on this map", lon, lat);
    to_px(m, X, Y, x, y);
    return CS_OK;
}

const char *cs_map_projection(const cs_map *m) { return m->projdef; }

cs_status cs_map_new(double lon0, double lat0, double lon1, double lat1, const cs_map_opts *o_in, cs_map **out)
{
    *out = NULL;
    if (!(lon0 <= lon1 && lat0 <= lat1) || lon0 < -180 || lon1 > 180 || lat0 < -90 || lat1 > 90)
        return cs_error_set(CS_EINVAL, "map extent (%g, %g, %g, %g) is not a valid lon/lat box", lon0, lat0, lon1, lat1);
    cs_map *m = cs_calloc(1, sizeof *m);
    if (!m) return CS_ENOMEM;
    if (o_in) m->o = *o_in;
    else cs_map_opts_default(&m->o);
    if (m->o.width_px <= 0) m->o.width_px = 1000;
    if (m->o.height_px <= 0) m->o.height_px = 800;
    if (!(m->o.margin_frac >= 0)) m->o.margin_frac = 0.06;
    m->title = m->o.title ? cs_strdup(m->o.title) : NULL;
    m->attrib = m->o.attribution ? cs_strdup(m->o.attribution) : NULL;
    m->o.title = m->title;
    m->o.attribution = m->attrib;
    /* a tiny extent (one city) still gets a readable map */
    if (lon1 - lon0 < 0.05) { lon0 -= 0.025; lon1 += 0.025; }
    if (lat1 - lat0 < 0.05) { lat0 -= 0.025; lat1 += 0.025; }
    double lonc = 0.5 * (lon0 + lon1), latc = 0.5 * (lat0 + lat1);
    snprintf(m->projdef, sizeof m->projdef, "+proj=laea +lat_0=%.6f +lon_0=%.6f +ellps=WGS84 +units=m", latc, lonc);
    m->ctx = proj_context_create();
    if (m->ctx) proj_log_level(m->ctx, PJ_LOG_NONE);
    m->pj = m->ctx ? proj_create(m->ctx, m->projdef) : NULL;
    if (!m->pj) {
        cs_map_free(m);
        return cs_error_set(CS_EDEPENDENCY, "PROJ cannot create the map projection");
    }
    /* projected extent of the box (sampled along its edges) */
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int k = 0; k <= 20; k++) {
        double f = k / 20.0, pts[4][2] = {{lon0 + f * (lon1 - lon0), lat0}, {lon0 + f * (lon1 - lon0), lat1},
                                          {lon0, lat0 + f * (lat1 - lat0)}, {lon1, lat0 + f * (lat1 - lat0)}};
        for (int q = 0; q < 4; q++) {
            double X, Y;
            if (fwd(m, pts[q][0], pts[q][1], &X, &Y)) continue;
            xmin = fmin(xmin, X); xmax = fmax(xmax, X);
            ymin = fmin(ymin, Y); ymax = fmax(ymax, Y);
        }
    }
    double dx = xmax - xmin, dy = ymax - ymin;
    double top = m->title ? 50 : 10, bottom = 30;
    double aw = m->o.width_px * (1 - 2 * m->o.margin_frac), ah = (m->o.height_px - top - bottom) * (1 - 2 * m->o.margin_frac);
    m->scale = fmin(aw / dx, ah / dy);
    m->cx = 0.5 * (xmin + xmax);
    /* shift down a little so the title band stays free */
    m->cy = 0.5 * (ymin + ymax) + (top - bottom) / 2.0 / m->scale;
    *out = m;
    return CS_OK;
}

/* ---- layers ---- */
typedef struct grow {
    size_t n, cap, npts, pcap;
    uint64_t *off;
    double *x, *y;
} grow;

static int grow_pt(grow *g, double x, double y)
{
    if (g->npts == g->pcap) {
        size_t nc = g->pcap ? g->pcap * 2 : 1024;
        double *nx = cs_reallocarray(g->x, nc, sizeof *nx);
        if (!nx) return -1;
        g->x = nx;
        double *ny = cs_reallocarray(g->y, nc, sizeof *ny);
        if (!ny) return -1;
        g->y = ny;
        g->pcap = nc;
    }
    g->x[g->npts] = x;
    g->y[g->npts] = y;
    g->npts++;
    return 0;
}

static int grow_ring_end(grow *g)
{
    if (g->n + 2 > g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 256;
        uint64_t *no = cs_reallocarray(g->off, nc, sizeof *no);
        if (!no) return -1;
        g->off = no;
        g->cap = nc;
    }
    if (g->n == 0) g->off[0] = 0;
    g->off[++g->n] = g->npts;
    return 0;
}

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;
static void gdal_init(void) { GDALAllRegister(); }

static int add_ring(cs_map *m, grow *g, OGRGeometryH ring)
{
    int np = OGR_G_GetPointCount(ring);
    for (int k = 0; k < np; k++) {
        double X, Y, px, py;
        if (fwd(m, OGR_G_GetX(ring, k), OGR_G_GetY(ring, k), &X, &Y)) continue;
        to_px(m, X, Y, &px, &py);
        if (grow_pt(g, px, py)) return -1;
    }
    return grow_ring_end(g);
}

cs_status cs_map_add_boundaries(cs_map *m, const char *path)
{
    pthread_once(&gdal_once, gdal_init);
    char *p = NULL;
    size_t L = strlen(path);
    p = (L > 3 && !strcmp(path + L - 3, ".gz") && strncmp(path, "/vsi", 4)) ? cs_asprintf("/vsigzip/%s", path) : cs_strdup(path);
    if (!p) return CS_ENOMEM;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH ds = GDALOpenEx(p, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    cs_free(p);
    if (!ds) {
        cs_status st = cs_error_set_at(CS_EIO, path, 0, 0, "cannot open boundaries: %s", CPLGetLastErrorMsg());
        CPLPopErrorHandler();
        return st;
    }
    OGRLayerH lay = GDALDatasetGetLayer(ds, 0);
    grow g = {0};
    cs_status st = CS_OK;
    /* the lon/lat window of the map, widened; features outside are skipped (LAEA far from its centre folds) */
    double x0, y0, x1, y1, lon0 = 180, lon1 = -180, lat0 = 90, lat1 = -90;
    double corners[4][2] = {{0, 0}, {m->o.width_px, 0}, {0, m->o.height_px}, {m->o.width_px, m->o.height_px}};
    for (int k = 0; k < 4; k++) {
        PJ_COORD c = proj_coord((corners[k][0] - m->o.width_px / 2.0) / m->scale + m->cx,
                                (m->o.height_px / 2.0 - corners[k][1]) / m->scale + m->cy, 0, 0);
        PJ_COORD r = proj_trans(m->pj, PJ_INV, c);
        if (!isfinite(r.lp.lam) || !isfinite(r.lp.phi)) continue;
        double lo = proj_todeg(r.lp.lam), la = proj_todeg(r.lp.phi);
        lon0 = fmin(lon0, lo); lon1 = fmax(lon1, lo); lat0 = fmin(lat0, la); lat1 = fmax(lat1, la);
    }
    double wl = fmax(10, lon1 - lon0) * 0.5, wa = fmax(10, lat1 - lat0) * 0.5;
    x0 = lon0 - wl; x1 = lon1 + wl; y0 = lat0 - wa; y1 = lat1 + wa;
    OGRFeatureH f;
    OGR_L_ResetReading(lay);
    while (!st && lay && (f = OGR_L_GetNextFeature(lay))) {
        OGRGeometryH geom = OGR_F_GetGeometryRef(f);
        if (geom) {
            OGREnvelope e;
            OGR_G_GetEnvelope(geom, &e);
            if (!(e.MaxX < x0 || e.MinX > x1 || e.MaxY < y0 || e.MinY > y1)) {
                OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(geom));
                int np = t == wkbMultiPolygon ? OGR_G_GetGeometryCount(geom) : 1;
                for (int q = 0; q < np && !st; q++) {
                    OGRGeometryH poly = t == wkbMultiPolygon ? OGR_G_GetGeometryRef(geom, q) : geom;
                    if (wkbFlatten(OGR_G_GetGeometryType(poly)) != wkbPolygon) continue;
                    for (int r = 0; r < OGR_G_GetGeometryCount(poly) && !st; r++)
                        if (add_ring(m, &g, OGR_G_GetGeometryRef(poly, r))) st = CS_ENOMEM;
                }
            }
        }
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    CPLPopErrorHandler();
    if (st) {
        cs_free(g.off); cs_free(g.x); cs_free(g.y);
        return cs_error_set(CS_ENOMEM, "out of memory reading boundaries");
    }
    free_layer(&m->bounds);
    m->bounds.n = g.n;
    m->bounds.off = g.off;
    m->bounds.x = g.x;
    m->bounds.y = g.y;
    m->has_bounds = 1;
    return CS_OK;
}

static cs_status copy_lines(cs_map *m, poly_layer *l, size_t n, const uint64_t *off, const double *lon,
                            const double *lat)
{
    uint64_t np = n ? off[n] : 0;
    l->n = n;
    l->off = cs_mallocarray(n + 1, sizeof *l->off);
    l->x = cs_mallocarray(np ? np : 1, sizeof *l->x);
    l->y = cs_mallocarray(np ? np : 1, sizeof *l->y);
    if (!l->off || !l->x || !l->y) return CS_ENOMEM;
    memcpy(l->off, off, (n + 1) * sizeof *off);
    for (size_t k = 0; k < n; k++)
        if (off[k + 1] < off[k]) return cs_error_set(CS_EINVAL, "map: line offsets must not decrease (line %zu)", k);
    for (uint64_t k = 0; k < np; k++) {
        double X, Y;
        if (fwd(m, lon[k], lat[k], &X, &Y)) return cs_error_set(CS_EINVAL, "map: point %llu cannot be projected", (unsigned long long)k);
        to_px(m, X, Y, &l->x[k], &l->y[k]);
    }
    return CS_OK;
}

cs_status cs_map_add_lines(cs_map *m, size_t n, const uint64_t *off, const double *lon, const double *lat,
                           const double *value, const char *legend)
{
    free_layer(&m->lines);
    cs_status st = copy_lines(m, &m->lines, n, off, lon, lat);
    if (!st && value) {
        m->lines.value = cs_mallocarray(n ? n : 1, sizeof(double));
        if (!m->lines.value) st = CS_ENOMEM;
        else memcpy(m->lines.value, value, n * sizeof(double));
    }
    if (!st && legend && !(m->lines.legend = cs_strdup(legend))) st = CS_ENOMEM;
    if (st) {
        free_layer(&m->lines);
        return st;
    }
    m->has_lines = 1;
    return CS_OK;
}

cs_status cs_map_add_polygons(cs_map *m, size_t n, const uint64_t *off, const double *lon, const double *lat,
                              const uint32_t *category, const char *legend)
{
    free_layer(&m->polys);
    cs_status st = copy_lines(m, &m->polys, n, off, lon, lat);
    if (!st && category) {
        m->polys.cat = cs_mallocarray(n ? n : 1, sizeof(uint32_t));
        if (!m->polys.cat) st = CS_ENOMEM;
        else memcpy(m->polys.cat, category, n * sizeof(uint32_t));
    }
    if (!st && legend && !(m->polys.legend = cs_strdup(legend))) st = CS_ENOMEM;
    if (st) {
        free_layer(&m->polys);
        return st;
    }
    m->has_polys = 1;
    return CS_OK;
}

cs_status cs_map_add_cities(cs_map *m, const cs_map_cities *c)
{
    if (!c || !c->lon || !c->lat || !c->population) return cs_error_set(CS_EINVAL, "map: cities need lon, lat and population");
    size_t n = c->n, nn = n ? n : 1;
    if (c->category)
        for (size_t i = 0; i < n; i++)
            if (c->category[i] >= c->ncat && c->category[i] != UINT32_MAX)
                return cs_error_set(CS_EINVAL, "map: category %u of city %zu has no name", c->category[i], i);
    m->nc = n;
    m->px = cs_mallocarray(nn, sizeof(double));
    m->py = cs_mallocarray(nn, sizeof(double));
    m->pop = cs_mallocarray(nn, sizeof(double));
    m->r = cs_mallocarray(nn, sizeof(double));
    if (!m->px || !m->py || !m->pop || !m->r) return CS_ENOMEM;
    double pmax = 0;
    for (size_t i = 0; i < n; i++) {
        double X, Y;
        if (fwd(m, c->lon[i], c->lat[i], &X, &Y))
            return cs_error_set(CS_EINVAL, "map: city %zu (%g, %g) cannot be projected", i, c->lon[i], c->lat[i]);
        to_px(m, X, Y, &m->px[i], &m->py[i]);
        m->pop[i] = c->population[i] > 0 ? c->population[i] : 0;
        pmax = fmax(pmax, m->pop[i]);
    }
    /* symbol area proportional to population (Flannery-free, pure area scaling) */
    double rmax = fmin(m->o.width_px, m->o.height_px) / 40.0;
    for (size_t i = 0; i < n; i++) m->r[i] = pmax > 0 ? fmax(1.5, rmax * sqrt(m->pop[i] / pmax)) : 2;
    if (c->category) {
        m->cat = cs_mallocarray(nn, sizeof(uint32_t));
        m->cat_names = cs_calloc(c->ncat ? c->ncat : 1, sizeof(char *));
        if (!m->cat || !m->cat_names) return CS_ENOMEM;
        memcpy(m->cat, c->category, n * sizeof(uint32_t));
        m->ncat = c->ncat;
        for (size_t k = 0; k < c->ncat; k++)
            if (!(m->cat_names[k] = cs_strdup(c->cat_names && c->cat_names[k] ? c->cat_names[k] : ""))) return CS_ENOMEM;
    }
    if (c->value) {
        m->val = cs_mallocarray(nn, sizeof(double));
        if (!m->val) return CS_ENOMEM;
        memcpy(m->val, c->value, n * sizeof(double));
        if (c->value_legend && !(m->value_legend = cs_strdup(c->value_legend))) return CS_ENOMEM;
    }
    if (c->labels) {
        m->labels = cs_calloc(nn, sizeof(char *));
        if (!m->labels) return CS_ENOMEM;
        for (size_t i = 0; i < n; i++)
            if (c->labels[i] && !(m->labels[i] = cs_strdup(c->labels[i]))) return CS_ENOMEM;
    }
    m->max_labels = c->max_labels;
    return CS_OK;
}

/* ---- rendering ---- */
static void diverging(double t, double *r, double *g, double *b)
{
    /* blue (-1) - light grey (0) - red (+1) */
    if (!(t == t)) t = 0;
    if (t > 1) t = 1;
    if (t < -1) t = -1;
    if (t < 0) { *r = 0.9 + 0.9 * t * 0.85; *g = 0.9 + 0.5 * t; *b = 0.9 + 0.05 * t; }
    else { *r = 0.9 + 0.05 * t; *g = 0.9 - 0.75 * t; *b = 0.9 - 0.75 * t; }
    if (*r < 0) *r = 0;
}

static void path_rings(cairo_t *cr, const poly_layer *l, size_t k)
{
    for (uint64_t q = l->off[k]; q < l->off[k + 1]; q++) {
        if (q == l->off[k]) cairo_move_to(cr, l->x[q], l->y[q]);
        else cairo_line_to(cr, l->x[q], l->y[q]);
    }
}

static int overlaps(double ax, double ay, double aw, double ah, double bx, double by, double bw, double bh)
{
    return ax < bx + bw && bx < ax + aw && ay < by + bh && by < ay + ah;
}

typedef struct { double pop; size_t i; } popidx;
static int cmp_pop_desc(const void *a, const void *b)
{
    const popidx *x = a, *y = b;
    if (x->pop != y->pop) return x->pop > y->pop ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static cs_status place_labels(cs_map *m, cairo_t *cr, const popidx *order)
{
    cs_free(m->placed);
    m->placed = NULL;
    m->nplaced = 0;
    if (!m->labels || !m->max_labels) return CS_OK;
    m->placed = cs_mallocarray(m->max_labels, sizeof *m->placed);
    if (!m->placed) return CS_ENOMEM;
    const double fs = 11;
    for (size_t q = 0; q < m->nc && m->nplaced < m->max_labels; q++) {
        size_t i = order[q].i;
        if (!m->labels[i] || !m->labels[i][0]) continue;
        double w, h;
        cs_text_extent(cr, m->labels[i], fs, 0, &w, &h);
        h = fs * 1.25;
        double r = m->r[i] + 2;
        double cand[8][2] = {{r, -h / 2}, {-r - w, -h / 2}, {r * 0.7, -r * 0.7 - h}, {r * 0.7, r * 0.7},
                             {-r * 0.7 - w, -r * 0.7 - h}, {-r * 0.7 - w, r * 0.7}, {-w / 2, -r - h}, {-w / 2, r}};
        for (int k = 0; k < 8; k++) {
            double x = m->px[i] + cand[k][0], y = m->py[i] + cand[k][1];
            if (x < 2 || y < (m->title ? 44 : 2) || x + w > m->o.width_px - 2 || y + h > m->o.height_px - 24) continue;
            int bad = 0;
            for (size_t z = 0; z < m->nplaced && !bad; z++)
                bad = overlaps(x, y, w, h, m->placed[z].x, m->placed[z].y, m->placed[z].w, m->placed[z].h);
            for (size_t j = 0; j < m->nc && !bad; j++) {
                if (j == i) continue;
                double rj = m->r[j];
                bad = overlaps(x, y, w, h, m->px[j] - rj, m->py[j] - rj, 2 * rj, 2 * rj);
            }
            if (bad) continue;
            label L = {x, y, w, h, i};
            m->placed[m->nplaced++] = L;
            break;
        }
    }
    return CS_OK;
}

static void draw_legend(cs_map *m, cairo_t *cr)
{
    /* bottom-left box with categories, sizes, value ramps and the scale bar */
    double x = 12, lh = 17, rows = 0;
    size_t nsz = m->nc ? 3 : 0;
    rows += m->cat ? (double)m->ncat : 0;
    rows += m->val ? 1.6 : 0;
    rows += m->has_lines && m->lines.value ? 1.6 : 0;
    rows += m->has_polys && m->polys.legend ? 1 : 0;
    rows += nsz ? 2.2 : 0;
    rows += 1.8; /* scale bar */
    double hgt = rows * lh + 12, y = m->o.height_px - 26 - hgt;
    /* the corner where the legend hides the fewest city symbols (bottom-left first on ties) */
    {
        double W = m->o.width_px, top = m->title ? 46 : 8;
        double cx[4] = {12, W - 250, 12, W - 250}, cy[4] = {y, y, top + 4, top + 4};
        size_t best = SIZE_MAX;
        for (int k = 0; k < 4; k++) {
            size_t hidden = 0;
            for (size_t i = 0; i < m->nc; i++)
                if (m->px[i] + m->r[i] >= cx[k] - 6 && m->px[i] - m->r[i] <= cx[k] - 6 + 250 &&
                    m->py[i] + m->r[i] >= cy[k] - 4 && m->py[i] - m->r[i] <= cy[k] - 4 + hgt)
                    hidden++;
            if (hidden < best) {
                best = hidden;
                x = cx[k];
                y = cy[k];
            }
        }
    }
    cairo_set_source_rgba(cr, 1, 1, 1, 0.88);
    cairo_rectangle(cr, x - 6, y - 4, 250, hgt);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    double cy = y + 8;
    if (m->cat) {
        for (size_t k = 0; k < m->ncat; k++) {
            cs_set_color(cr, (int)k, 0.9);
            cairo_new_sub_path(cr);
            cairo_arc(cr, x + 6, cy, 5, 0, 2 * M_PI);
            cairo_fill(cr);
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            cs_text(cr, x + 18, cy, m->cat_names[k], 11, 0, 0, 0.5);
            cy += lh;
        }
    }
    if (m->val) {
        double vmax = 0;
        for (size_t i = 0; i < m->nc; i++) if (isfinite(m->val[i])) vmax = fmax(vmax, fabs(m->val[i]));
        for (int k = 0; k <= 40; k++) {
            double r, g, b;
            diverging(k / 20.0 - 1, &r, &g, &b);
            cairo_set_source_rgb(cr, r, g, b);
            cairo_rectangle(cr, x + k * 2.5, cy - 5, 2.6, 10);
            cairo_fill(cr);
        }
        char buf[96], a[32];
        cs_format_number(vmax, a, sizeof a);
        snprintf(buf, sizeof buf, "%s (±%s)", m->value_legend ? m->value_legend : "change", a);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cs_text(cr, x + 108, cy, buf, 11, 0, 0, 0.5);
        cy += lh * 1.6;
    }
    if (m->has_lines && m->lines.value) {
        for (int k = 0; k <= 40; k++) {
            double r, g, b;
            cs_ramp(k / 40.0, &r, &g, &b);
            cairo_set_source_rgb(cr, r, g, b);
            cairo_rectangle(cr, x + k * 2.5, cy - 2 - k * 0.1, 2.6, 4 + k * 0.2);
            cairo_fill(cr);
        }
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cs_text(cr, x + 108, cy, m->lines.legend ? m->lines.legend : "load", 11, 0, 0, 0.5);
        cy += lh * 1.6;
    }
    if (m->has_polys && m->polys.legend) {
        cs_set_color(cr, 0, 1);
        cairo_set_line_width(cr, 1.5);
        cairo_rectangle(cr, x, cy - 5, 12, 10);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cs_text(cr, x + 18, cy, m->polys.legend, 11, 0, 0, 0.5);
        cy += lh;
    }
    if (nsz) {
        double pmax = 0;
        for (size_t i = 0; i < m->nc; i++) pmax = fmax(pmax, m->pop[i]);
        double rmax = fmin(m->o.width_px, m->o.height_px) / 40.0, xx = x;
        double fr[3] = {1, 0.25, 0.04};
        for (int k = 0; k < 3 && pmax > 0; k++) {
            double rr = fmax(1.5, rmax * sqrt(fr[k]));
            cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
            cairo_set_line_width(cr, 1);
            cairo_new_sub_path(cr);
            cairo_arc(cr, xx + rr, cy + rmax * 0.6, rr, 0, 2 * M_PI);
            cairo_stroke(cr);
            char a[32];
            cs_format_number(pmax * fr[k], a, sizeof a);
            cs_text(cr, xx + 2 * rr + 3, cy + rmax * 0.6, a, 10, 0, 0, 0.5);
            double tw, th;
            cs_text_extent(cr, a, 10, 0, &tw, &th);
            xx += 2 * rr + tw + 12;
        }
        cy += lh * 2.2;
    }
    /* scale bar: a round length near 1/5 of the width; LAEA is true to scale at its centre */
    double target_m = m->o.width_px / 5.0 / m->scale, mag = pow(10, floor(log10(target_m)));
    double f = target_m / mag, step = (f < 2 ? 1 : f < 5 ? 2 : 5) * mag;
    double len = step * m->scale;
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_set_line_width(cr, 2);
    cairo_move_to(cr, x, cy + 4);
    cairo_line_to(cr, x + len, cy + 4);
    cairo_move_to(cr, x, cy);
    cairo_line_to(cr, x, cy + 8);
    cairo_move_to(cr, x + len, cy);
    cairo_line_to(cr, x + len, cy + 8);
    cairo_stroke(cr);
    char sb[48];
    if (step >= 1000) snprintf(sb, sizeof sb, "%g km", step / 1000);
    else snprintf(sb, sizeof sb, "%g m", step);
    cs_text(cr, x + len + 6, cy + 4, sb, 11, 0, 0, 0.5);
}

cs_status cs_map_render(cs_map *m, const char *path)
{
    cs_canvas cv;
    cs_status st = cs_canvas_open(&cv, path, m->o.width_px, m->o.height_px);
    if (st) return st;
    cairo_t *cr = cv.cr;
    cairo_set_source_rgb(cr, 0.93, 0.96, 0.98); /* water */
    cairo_paint(cr);
    if (m->has_bounds) {
        cairo_set_line_width(cr, 0.7);
        for (size_t k = 0; k < m->bounds.n; k++) {
            path_rings(cr, &m->bounds, k);
            cairo_close_path(cr);
        }
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
        cairo_set_source_rgb(cr, 0.985, 0.98, 0.965);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
        cairo_stroke(cr);
    } else {
        cairo_set_source_rgb(cr, 0.985, 0.98, 0.965);
        cairo_paint(cr);
    }
    if (m->has_polys) {
        for (size_t k = 0; k < m->polys.n; k++) {
            int c = m->polys.cat ? (int)m->polys.cat[k] : 0;
            path_rings(cr, &m->polys, k);
            cairo_close_path(cr);
            cs_set_color(cr, c, 0.12);
            cairo_fill_preserve(cr);
            cs_set_color(cr, c, 0.9);
            cairo_set_line_width(cr, 1.6);
            cairo_stroke(cr);
        }
    }
    if (m->has_lines) {
        double vmax = 0;
        if (m->lines.value)
            for (size_t k = 0; k < m->lines.n; k++) if (isfinite(m->lines.value[k])) vmax = fmax(vmax, m->lines.value[k]);
        /* lightest first so heavy lines lie on top */
        popidx *ord = cs_mallocarray(m->lines.n ? m->lines.n : 1, sizeof *ord);
        if (!ord) {
            cs_canvas_abort(&cv);
            return CS_ENOMEM;
        }
        for (size_t k = 0; k < m->lines.n; k++) {
            ord[k].i = k;
            ord[k].pop = m->lines.value && isfinite(m->lines.value[k]) ? -m->lines.value[k] : 0;
        }
        qsort(ord, m->lines.n, sizeof *ord, cmp_pop_desc);
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        for (size_t q = 0; q < m->lines.n; q++) {
            size_t k = ord[q].i;
            double t = vmax > 0 && m->lines.value ? fmax(0, m->lines.value[k]) / vmax : 0;
            double r = 0.45, g = 0.45, b = 0.45;
            if (m->lines.value) cs_ramp(t, &r, &g, &b);
            cairo_set_source_rgb(cr, r, g, b);
            cairo_set_line_width(cr, m->lines.value ? 0.6 + 5.0 * sqrt(t) : 0.9);
            path_rings(cr, &m->lines, k);
            cairo_stroke(cr);
        }
        cs_free(ord);
    }
    popidx *order = cs_mallocarray(m->nc ? m->nc : 1, sizeof *order);
    if (!order) {
        cs_canvas_abort(&cv);
        return CS_ENOMEM;
    }
    for (size_t i = 0; i < m->nc; i++) {
        order[i].pop = m->pop[i];
        order[i].i = i;
    }
    qsort(order, m->nc, sizeof *order, cmp_pop_desc);
    double vmax = 0;
    if (m->val)
        for (size_t i = 0; i < m->nc; i++) if (isfinite(m->val[i])) vmax = fmax(vmax, fabs(m->val[i]));
    for (size_t q = 0; q < m->nc; q++) { /* largest first, small ones on top */
        size_t i = order[q].i;
        cairo_new_sub_path(cr);
        cairo_arc(cr, m->px[i], m->py[i], m->r[i], 0, 2 * M_PI);
        if (m->val) {
            double r, g, b;
            diverging(vmax > 0 && isfinite(m->val[i]) ? m->val[i] / vmax : 0, &r, &g, &b);
            cairo_set_source_rgba(cr, r, g, b, 0.92);
        } else if (m->cat && m->cat[i] != UINT32_MAX) {
            cs_set_color(cr, (int)m->cat[i], 0.8);
        } else {
            cairo_set_source_rgba(cr, 0.3, 0.3, 0.3, 0.7);
        }
        cairo_fill_preserve(cr);
        cairo_set_source_rgba(cr, 0.15, 0.15, 0.15, 0.9);
        cairo_set_line_width(cr, 0.6);
        cairo_stroke(cr);
    }
    st = place_labels(m, cr, order);
    cs_free(order);
    if (st) {
        cs_canvas_abort(&cv);
        return st;
    }
    for (size_t z = 0; z < m->nplaced; z++) {
        label *L = &m->placed[z];
        /* halo for legibility */
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(cr, 11);
        cairo_move_to(cr, L->x, L->y + 11 * 0.95);
        cairo_text_path(cr, m->labels[L->city]);
        cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
        cairo_set_line_width(cr, 3);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
        cairo_move_to(cr, L->x, L->y + 11 * 0.95);
        cairo_show_text(cr, m->labels[L->city]);
    }
    draw_legend(m, cr);
    if (m->title) {
        cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
        cairo_rectangle(cr, 0, 0, m->o.width_px, 40);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cs_text(cr, m->o.width_px / 2.0, 10, m->title, 17, 1, 0.5, 0);
    }
    {
        char buf[300];
        snprintf(buf, sizeof buf, "%s%sProjection: Lambert azimuthal equal-area", m->attrib ? m->attrib : "", m->attrib ? " · " : "");
        double w, h;
        cs_text_extent(cr, buf, 10, 0, &w, &h);
        cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
        cairo_rectangle(cr, m->o.width_px - w - 12, m->o.height_px - 20, w + 12, 20);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
        cs_text(cr, m->o.width_px - 6, m->o.height_px - 16, buf, 10, 0, 1, 0);
    }
    return cs_canvas_close(&cv);
}

size_t cs_map_label_count(const cs_map *m) { return m->nplaced; }

cs_status cs_map_label_box(const cs_map *m, size_t i, double box[4], size_t *city)
{
    if (i >= m->nplaced) return cs_error_set(CS_EINVAL, "label %zu of %zu", i, m->nplaced);
    box[0] = m->placed[i].x;
    box[1] = m->placed[i].y;
    box[2] = m->placed[i].w;
    box[3] = m->placed[i].h;
    if (city) *city = m->placed[i].city;
    return CS_OK;
}

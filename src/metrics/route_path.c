/*
 * route_path.c: the fastest route between two cities as segments and a polyline (corridor geometry).
 * Dijkstra with parents on the augmented graph of the load (flows_internal.h), lexicographic
 * (time, length) keys, the arc with the smallest segment id kept among tied arcs into a node.
 */
#include <math.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/flows.h"
#include "flows_internal.h"

struct cs_route_finder {
    const cs_network *net;
    size_t n;
    aug g;
    uint64_t *key;
    uint64_t *pred; /* arc index into the node, UINT64_MAX = none */
    uint32_t *heap, *hpos, *touched;
    uint32_t ntouched;
    uint32_t origin; /* city whose tree is cached, CS_INVALID_ID = none */
};

#define INF_KEY UINT64_MAX
#define NO_ARC UINT64_MAX

void cs_route_finder_free(cs_route_finder *f)
{
    if (!f) return;
    cs__aug_free(&f->g);
    cs_free(f->key);
    cs_free(f->pred);
    cs_free(f->heap);
    cs_free(f->hpos);
    cs_free(f->touched);
    cs_free(f);
}

cs_status cs_route_finder_new(const cs_network *net, const cs_location *loc, size_t n, cs_route_finder **out)
{
    *out = NULL;
    if (!net || (!loc && n)) return cs_error_set(CS_EINVAL, "route finder: network and locations are required");
    cs_route_finder *f = cs_calloc(1, sizeof *f);
    if (!f) return CS_ENOMEM;
    f->net = net;
    f->n = n;
    f->origin = CS_INVALID_ID;
    cs_status st = cs__aug_build(net, loc, n, 1, &f->g);
    if (st) {
        cs_free(f);
        return st;
    }
    uint32_t N = f->g.n ? f->g.n : 1;
    f->key = cs_mallocarray(N, sizeof *f->key);
    f->pred = cs_mallocarray(N, sizeof *f->pred);
    f->heap = cs_mallocarray(N, sizeof *f->heap);
    f->hpos = cs_mallocarray(N, sizeof *f->hpos);
    f->touched = cs_mallocarray(N, sizeof *f->touched);
    if (!f->key || !f->pred || !f->heap || !f->hpos || !f->touched) {
        cs_route_finder_free(f);
        return CS_ENOMEM;
    }
    for (uint32_t x = 0; x < f->g.n; x++) {
        f->key[x] = INF_KEY;
        f->pred[x] = NO_ARC;
        f->hpos[x] = UINT32_MAX;
    }
    *out = f;
    return CS_OK;
}

static int less(const cs_route_finder *f, uint32_t x, uint32_t y)
{
    return f->key[x] < f->key[y] || (f->key[x] == f->key[y] && x < y);
}

static void up(cs_route_finder *f, uint32_t i)
{
    uint32_t x = f->heap[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2, y = f->heap[p];
        if (less(f, y, x)) break;
        f->heap[i] = y;
        f->hpos[y] = i;
        i = p;
    }
    f->heap[i] = x;
    f->hpos[x] = i;
}

static void down(cs_route_finder *f, uint32_t i, uint32_t hn)
{
    uint32_t x = f->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= hn) break;
        if (c + 1 < hn && less(f, f->heap[c + 1], f->heap[c])) c++;
        uint32_t y = f->heap[c];
        if (less(f, x, y)) break;
        f->heap[i] = y;
        f->hpos[y] = i;
        i = c;
    }
    f->heap[i] = x;
    f->hpos[x] = i;
}

/* the tree of city a (settles everything reachable) */
static cs_status tree(cs_route_finder *f, uint32_t a)
{
    if (f->origin == a) return CS_OK;
    const aug *g = &f->g;
    for (uint32_t q = 0; q < f->ntouched; q++) {
        uint32_t x = f->touched[q];
        f->key[x] = INF_KEY;
        f->pred[x] = NO_ARC;
        f->hpos[x] = UINT32_MAX;
    }
    f->ntouched = 0;
    f->origin = CS_INVALID_ID;
    const uint32_t SETTLED = UINT32_MAX - 1;
    uint32_t src = g->city_node[a], hn = 0;
    f->key[src] = 0;
    f->touched[f->ntouched++] = src;
    f->heap[hn] = src;
    f->hpos[src] = hn++;
    while (hn) {
        uint32_t x = f->heap[0];
        f->heap[0] = f->heap[--hn];
        if (hn) {
            f->hpos[f->heap[0]] = 0;
            down(f, 0, hn);
        }
        f->hpos[x] = SETTLED;
        uint64_t kx = f->key[x];
        for (uint64_t e = g->off[x]; e < g->off[x + 1]; e++) {
            uint32_t y = g->head[e];
            if (f->hpos[y] == SETTLED) continue;
            uint64_t t = (kx >> 32) + g->t_ms[e], l = (kx & 0xffffffffu) + g->l_cm[e];
            if (t >= (1ull << 32) || l >= (1ull << 32))
                return cs_error_set(CS_EUNSUPPORTED, "route: a route exceeds 2^32 ms or 2^32 cm");
            uint64_t k = (t << 32) | l;
            if (k < f->key[y]) {
                int fresh = f->key[y] == INF_KEY;
                f->key[y] = k;
                f->pred[y] = e;
                if (fresh) {
                    f->touched[f->ntouched++] = y;
                    f->heap[hn] = y;
                    f->hpos[y] = hn++;
                }
                up(f, f->hpos[y]);
            } else if (k == f->key[y] && g->seg[e] < g->seg[f->pred[y]]) {
                f->pred[y] = e; /* tie: the smallest segment id (connectors, CS_INVALID_ID, last) */
            }
        }
    }
    f->origin = a;
    return CS_OK;
}

void cs_route_clear(cs_route *r)
{
    if (!r) return;
    cs_free(r->seg);
    cs_free(r->dir);
    cs_free(r->from_frac);
    cs_free(r->to_frac);
    cs_free(r->len_m);
    cs_free(r->lon);
    cs_free(r->lat);
    memset(r, 0, sizeof *r);
}

/* point at fraction fr of the geodesic length of segment s's polyline; the vertices strictly between
   fractions lo and hi (lo < hi) are appended by the caller through this helper's index range */
static void seg_point(const cs_network *net, uint32_t s, const double *cum, double fr, double *lon, double *lat)
{
    uint64_t o = net->geom_off[s], e = net->geom_off[s + 1];
    size_t np = (size_t)(e - o);
    double total = cum[np - 1], d = fr * total;
    if (!(total > 0) || fr <= 0) {
        *lon = net->geom_lon_deg[o];
        *lat = net->geom_lat_deg[o];
        return;
    }
    if (fr >= 1) {
        *lon = net->geom_lon_deg[e - 1];
        *lat = net->geom_lat_deg[e - 1];
        return;
    }
    size_t k = 1;
    while (k < np - 1 && cum[k] < d) k++;
    double a = cum[k - 1], b = cum[k], t = b > a ? (d - a) / (b - a) : 0;
    *lon = net->geom_lon_deg[o + k - 1] + t * (net->geom_lon_deg[o + k] - net->geom_lon_deg[o + k - 1]);
    *lat = net->geom_lat_deg[o + k - 1] + t * (net->geom_lat_deg[o + k] - net->geom_lat_deg[o + k - 1]);
}

typedef struct ptvec {
    double *lon, *lat;
    size_t n, cap;
} ptvec;

static int pv_push(ptvec *v, double lon, double lat)
{
    if (v->n && v->lon[v->n - 1] == lon && v->lat[v->n - 1] == lat) return 0; /* no repeated vertices */
    if (v->n == v->cap) {
        size_t nc = v->cap ? 2 * v->cap : 64;
        double *a = cs_reallocarray(v->lon, nc, sizeof *a);
        if (!a) return -1;
        v->lon = a;
        double *b = cs_reallocarray(v->lat, nc, sizeof *b);
        if (!b) return -1;
        v->lat = b;
        v->cap = nc;
    }
    v->lon[v->n] = lon;
    v->lat[v->n++] = lat;
    return 0;
}

/* append the part of segment s between fractions f0 and f1 (in travel order) */
static int piece_geometry(const cs_network *net, uint32_t s, double f0, double f1, ptvec *pv, double **cum, size_t *ccap)
{
    if (!net->geom_off || !net->geom_lon_deg) return 0;
    uint64_t o = net->geom_off[s], e = net->geom_off[s + 1];
    size_t np = (size_t)(e - o);
    if (np < 2) return 0;
    if (np > *ccap) {
        double *c = cs_reallocarray(*cum, np, sizeof *c);
        if (!c) return -1;
        *cum = c;
        *ccap = np;
    }
    double *cu = *cum;
    cu[0] = 0;
    for (size_t k = 1; k < np; k++)
        cu[k] = cu[k - 1] + cs_geodesic_m(net->geom_lon_deg[o + k - 1], net->geom_lat_deg[o + k - 1],
                                          net->geom_lon_deg[o + k], net->geom_lat_deg[o + k]);
    double total = cu[np - 1], lo, la;
    seg_point(net, s, cu, f0, &lo, &la);
    if (pv_push(pv, lo, la)) return -1;
    if (f0 <= f1) {
        for (size_t k = 1; k + 1 < np; k++) {
            double fk = total > 0 ? cu[k] / total : 0;
            if (fk > f0 && fk < f1 && pv_push(pv, net->geom_lon_deg[o + k], net->geom_lat_deg[o + k])) return -1;
        }
    } else {
        for (size_t k = np - 1; k-- > 1;) {
            double fk = total > 0 ? cu[k] / total : 0;
            if (fk < f0 && fk > f1 && pv_push(pv, net->geom_lon_deg[o + k], net->geom_lat_deg[o + k])) return -1;
        }
    }
    seg_point(net, s, cu, f1, &lo, &la);
    return pv_push(pv, lo, la);
}

/* tail of arc e: the last node whose out-range starts at or before e (binary search on the offsets) */
static uint32_t arc_tail(const aug *g, uint64_t e)
{
    uint32_t lo = 0, hi = g->n;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g->off[mid] <= e) lo = mid;
        else hi = mid;
    }
    return lo;
}

cs_status cs_route_find(cs_route_finder *f, uint32_t a, uint32_t b, cs_route *out)
{
    memset(out, 0, sizeof *out);
    if (!f || a >= f->n || b >= f->n) return cs_error_set(CS_EINVAL, "route: city index out of range");
    const aug *g = &f->g;
    if (g->city_att[a] == CS_INVALID_ID || g->city_att[b] == CS_INVALID_ID)
        return cs_error_set(CS_EINFEASIBLE, "route: city %u or %u is not joined to the network", a, b);
    cs_status st = tree(f, a);
    if (st) return st;
    uint32_t tb = g->city_node[b];
    if (f->key[tb] == INF_KEY) return cs_error_set(CS_EINFEASIBLE, "route: no route from city %u to city %u", a, b);
    out->time_s = (double)(f->key[tb] >> 32) / 1000.0;
    out->length_m = (double)(f->key[tb] & 0xffffffffu) / 100.0;
    /* pieces, backwards from b; consecutive arcs of one segment (split at city points) are joined */
    size_t np = 0;
    for (uint32_t x = tb; f->pred[x] != NO_ARC;) {
        uint64_t e = f->pred[x];
        np += g->seg[e] != CS_INVALID_ID;
        x = arc_tail(g, e);
    }
    uint64_t *arcs = cs_mallocarray(np ? np : 1, sizeof *arcs);
    if (!arcs) return CS_ENOMEM;
    size_t k = np;
    for (uint32_t x = tb; f->pred[x] != NO_ARC;) {
        uint64_t e = f->pred[x];
        if (g->seg[e] != CS_INVALID_ID) arcs[--k] = e;
        x = arc_tail(g, e);
    }
    out->seg = cs_mallocarray(np ? np : 1, sizeof *out->seg);
    out->dir = cs_mallocarray(np ? np : 1, 1);
    out->from_frac = cs_mallocarray(np ? np : 1, sizeof(double));
    out->to_frac = cs_mallocarray(np ? np : 1, sizeof(double));
    out->len_m = cs_mallocarray(np ? np : 1, sizeof(double));
    if (!out->seg || !out->dir || !out->from_frac || !out->to_frac || !out->len_m) {
        cs_free(arcs);
        cs_route_clear(out);
        return CS_ENOMEM;
    }
    size_t m = 0;
    for (size_t q = 0; q < np; q++) {
        uint64_t e = arcs[q];
        if (m > 0 && out->seg[m - 1] == g->seg[e] && out->dir[m - 1] == g->dir[e] && out->to_frac[m - 1] == g->f0[e]) {
            out->to_frac[m - 1] = g->f1[e];
            out->len_m[m - 1] += g->l_cm[e] / 100.0;
            continue;
        }
        out->seg[m] = g->seg[e];
        out->dir[m] = g->dir[e];
        out->from_frac[m] = g->f0[e];
        out->to_frac[m] = g->f1[e];
        out->len_m[m] = g->l_cm[e] / 100.0;
        m++;
    }
    out->n = m;
    cs_free(arcs);
    /* polyline */
    ptvec pv = {0};
    double *cum = NULL;
    size_t ccap = 0;
    for (size_t q = 0; q < m && !st; q++)
        if (piece_geometry(f->net, out->seg[q], out->from_frac[q], out->to_frac[q], &pv, &cum, &ccap)) st = CS_ENOMEM;
    cs_free(cum);
    if (st) {
        cs_free(pv.lon);
        cs_free(pv.lat);
        cs_route_clear(out);
        return st;
    }
    out->npts = pv.n;
    out->lon = pv.lon;
    out->lat = pv.lat;
    if (out->npts < 2) { /* a route of zero length: no line */
        cs_free(out->lon);
        cs_free(out->lat);
        out->lon = out->lat = NULL;
        out->npts = 0;
    }
    return CS_OK;
}

cs_status cs_route_finder_fn(void *user, uint32_t a, uint32_t b, cs_route *out)
{
    return cs_route_find((cs_route_finder *)user, a, b, out);
}

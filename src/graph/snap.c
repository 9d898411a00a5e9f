/*
 * snap.c: joining points to the nearest position on segment geometry.
 *
 * Geometry pieces (consecutive vertex pairs of every segment) are taken as
 * great-circle arcs on the sphere of cs_geodesic_m, stored as unit vectors,
 * and indexed by a packed R-tree of 3-D boxes (pieces sorted along a Morton
 * curve of their midpoints, 16 per node). The nearest arc to a point is found
 * by best-first search on the chord-distance lower bound of each box (exact
 * bound: chord length is monotone in great-circle distance). Strongly
 * connected components come from an iterative Tarjan over the directed
 * segment graph.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/network.h"

#define FAN 16

void cs_snap_opts_default(cs_snap_opts *o)
{
    if (!o) return;
    o->max_dist_m = 5000;
    o->access_speed_kmh = 5;
    o->prefer_largest = 1;
    o->prefer_largest_slack_m = 1000;
}

/* ----------------------------------------------------------------- SCC */

/* comp[x] for every node, 0 = largest component; returns number of components or -1 on OOM. */
static long scc(const cs_network *n, uint32_t *comp)
{
    uint32_t N = n->n_nodes, S = n->n_segs;
    uint32_t *off = cs_calloc((size_t)N + 2, sizeof *off);
    uint32_t *adj = cs_mallocarray((size_t)S * 2 + 1, sizeof *adj);
    uint32_t *idx = cs_mallocarray((size_t)N + 1, sizeof *idx);
    uint32_t *low = cs_mallocarray((size_t)N + 1, sizeof *low);
    uint32_t *stk = cs_mallocarray((size_t)N + 1, sizeof *stk);
    uint32_t *cs_ = cs_mallocarray((size_t)N + 1, sizeof *cs_); /* call stack: node */
    uint32_t *it = cs_mallocarray((size_t)N + 1, sizeof *it);   /* next arc position */
    uint8_t *on = cs_calloc((size_t)N + 1, 1);
    uint32_t *size = NULL, *order = NULL;
    long nc = -1;
    if (!off || !adj || !idx || !low || !stk || !cs_ || !it || !on) goto done;
    for (uint32_t s = 0; s < S; s++) {
        if (n->seg_fwd_ms[s] != CS_NO_TIME) off[n->seg_u[s] + 2]++;
        if (n->seg_bwd_ms[s] != CS_NO_TIME) off[n->seg_v[s] + 2]++;
    }
    for (uint32_t x = 0; x < N; x++) off[x + 2] += off[x + 1];
    for (uint32_t s = 0; s < S; s++) {
        if (n->seg_fwd_ms[s] != CS_NO_TIME) adj[off[n->seg_u[s] + 1]++] = n->seg_v[s];
        if (n->seg_bwd_ms[s] != CS_NO_TIME) adj[off[n->seg_v[s] + 1]++] = n->seg_u[s];
    }
    for (uint32_t x = 0; x < N; x++) idx[x] = CS_INVALID_ID;
    uint32_t counter = 0, sp = 0, ncomp = 0;
    for (uint32_t root = 0; root < N; root++) {
        if (idx[root] != CS_INVALID_ID) continue;
        uint32_t depth = 0;
        cs_[depth] = root;
        it[root] = off[root];
        idx[root] = low[root] = counter++;
        stk[sp++] = root;
        on[root] = 1;
        for (;;) {
            uint32_t x = cs_[depth];
            if (it[x] < off[x + 1]) {
                uint32_t y = adj[it[x]++];
                if (idx[y] == CS_INVALID_ID) {
                    idx[y] = low[y] = counter++;
                    stk[sp++] = y;
                    on[y] = 1;
                    it[y] = off[y];
                    cs_[++depth] = y;
                } else if (on[y] && idx[y] < low[x]) {
                    low[x] = idx[y];
                }
                continue;
            }
            if (low[x] == idx[x]) {
                uint32_t y;
                do {
                    y = stk[--sp];
                    on[y] = 0;
                    comp[y] = ncomp;
                } while (y != x);
                ncomp++;
            }
            if (depth == 0) break;
            uint32_t parent = cs_[--depth];
            if (low[x] < low[parent]) low[parent] = low[x];
        }
    }
    /* renumber: size descending, then smallest node */
    size = cs_calloc((size_t)ncomp + 1, sizeof *size);
    order = cs_mallocarray((size_t)ncomp + 1, sizeof *order);
    uint32_t *first = low; /* reuse: smallest node of each component */
    if (!size || !order) goto done;
    for (uint32_t c = 0; c < ncomp; c++) first[c] = CS_INVALID_ID;
    for (uint32_t x = 0; x < N; x++) {
        size[comp[x]]++;
        if (first[comp[x]] == CS_INVALID_ID) first[comp[x]] = x;
    }
    for (uint32_t c = 0; c < ncomp; c++) order[c] = c;
    /* shell sort on (size desc, first node asc): a total order, so deterministic */
    {
        uint32_t gap = ncomp / 2;
        while (gap > 0) {
            for (uint32_t i = gap; i < ncomp; i++) {
                uint32_t t = order[i], j = i;
                while (j >= gap && (size[order[j - gap]] < size[t] ||
                                    (size[order[j - gap]] == size[t] && first[order[j - gap]] > first[t]))) {
                    order[j] = order[j - gap];
                    j -= gap;
                }
                order[j] = t;
            }
            gap /= 2;
        }
    }
    for (uint32_t r = 0; r < ncomp; r++) idx[order[r]] = r; /* reuse idx as rank */
    for (uint32_t x = 0; x < N; x++) comp[x] = idx[comp[x]];
    nc = ncomp;
done:
    if (nc < 0) cs_error_set(CS_ENOMEM, "out of memory (components)");
    cs_free(off);
    cs_free(adj);
    cs_free(idx);
    cs_free(low);
    cs_free(stk);
    cs_free(cs_);
    cs_free(it);
    cs_free(on);
    cs_free(size);
    cs_free(order);
    return nc;
}

/* --------------------------------------------------------------- geometry */

typedef struct {
    double x, y, z;
} v3;

static v3 to_v3(double lon, double lat)
{
    const double d2r = M_PI / 180.0;
    double cl = cos(lat * d2r);
    v3 r = {cl * cos(lon * d2r), cl * sin(lon * d2r), sin(lat * d2r)};
    return r;
}
static double dot(v3 a, v3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
static v3 cross(v3 a, v3 b)
{
    v3 r = {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
    return r;
}
static double norm(v3 a) { return sqrt(dot(a, a)); }

static void to_lonlat(v3 p, double *lon, double *lat)
{
    *lat = atan2(p.z, hypot(p.x, p.y)) * 180.0 / M_PI;
    *lon = atan2(p.y, p.x) * 180.0 / M_PI;
}

/* Nearest point Q of arc AB to P (all unit vectors); returns Q and t = angle(A,Q)/angle(A,B) in [0,1]. */
static v3 arc_nearest(v3 a, v3 b, v3 p, double *t)
{
    v3 nrm = cross(a, b);
    double nn = norm(nrm);
    if (nn < 1e-15) { /* degenerate piece */
        *t = 0;
        return a;
    }
    nrm.x /= nn, nrm.y /= nn, nrm.z /= nn;
    double d = dot(p, nrm);
    v3 q = {p.x - d * nrm.x, p.y - d * nrm.y, p.z - d * nrm.z};
    double qn = norm(q);
    if (qn > 1e-15) {
        q.x /= qn, q.y /= qn, q.z /= qn;
        /* q between a and b iff (a x q).n >= 0 and (q x b).n >= 0 */
        if (dot(cross(a, q), nrm) >= 0 && dot(cross(q, b), nrm) >= 0) {
            double ab = atan2(nn, dot(a, b));
            double aq = atan2(norm(cross(a, q)), dot(a, q));
            *t = ab > 0 ? aq / ab : 0;
            if (*t > 1) *t = 1;
            return q;
        }
    }
    v3 da = {p.x - a.x, p.y - a.y, p.z - a.z}, db = {p.x - b.x, p.y - b.y, p.z - b.z};
    if (dot(da, da) <= dot(db, db)) {
        *t = 0;
        return a;
    }
    *t = 1;
    return b;
}

typedef struct {
    float lo[3], hi[3];
} box;

typedef struct {
    uint32_t n_pieces;
    uint32_t *piece_seg;  /* segment of each piece (in tree order) */
    uint64_t *piece_pt;   /* index of its first vertex in geom arrays */
    uint32_t n_levels;
    uint32_t level_n[40]; /* number of boxes per level (0 = leaves over pieces) */
    box *boxes[40];
} rtree;

static void rtree_free(rtree *t)
{
    cs_free(t->piece_seg);
    cs_free(t->piece_pt);
    for (uint32_t l = 0; l < t->n_levels; l++) cs_free(t->boxes[l]);
}

static uint32_t morton16(uint32_t x, uint32_t y)
{
    uint64_t r = 0;
    for (int i = 0; i < 16; i++) r |= (uint64_t)((x >> i) & 1) << (2 * i) | (uint64_t)((y >> i) & 1) << (2 * i + 1);
    return (uint32_t)r;
}

typedef struct {
    uint32_t key, seg;
    uint64_t pt;
} pkey;

static int cmp_pkey(const void *a, const void *b)
{
    const pkey *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->pt > y->pt) - (x->pt < y->pt);
}

static void box_piece(const cs_network *n, uint64_t k, box *b)
{
    v3 a = to_v3(n->geom_lon_deg[k], n->geom_lat_deg[k]), c = to_v3(n->geom_lon_deg[k + 1], n->geom_lat_deg[k + 1]);
    v3 d = {a.x - c.x, a.y - c.y, a.z - c.z};
    double ch2 = dot(d, d);
    double pad = ch2 / 4.0 + 1e-7; /* arc bulge (sagitta <= chord^2/8 on the unit sphere, doubled) + float rounding */
    double av[3] = {a.x, a.y, a.z}, cv[3] = {c.x, c.y, c.z};
    for (int i = 0; i < 3; i++) {
        b->lo[i] = (float)(fmin(av[i], cv[i]) - pad);
        b->hi[i] = (float)(fmax(av[i], cv[i]) + pad);
    }
}

static cs_status rtree_build(const cs_network *n, rtree *t)
{
    memset(t, 0, sizeof *t);
    uint64_t np = 0;
    for (uint32_t s = 0; s < n->n_segs; s++) np += n->geom_off[s + 1] - n->geom_off[s] - 1;
    if (np >= UINT32_MAX) return cs_error_set(CS_EINVAL, "too many geometry pieces to index");
    t->n_pieces = (uint32_t)np;
    pkey *keys = cs_mallocarray(np + 1, sizeof *keys);
    t->piece_seg = cs_mallocarray(np + 1, sizeof *t->piece_seg);
    t->piece_pt = cs_mallocarray(np + 1, sizeof *t->piece_pt);
    if (!keys || !t->piece_seg || !t->piece_pt) {
        cs_free(keys);
        return CS_ENOMEM;
    }
    uint64_t i = 0;
    for (uint32_t s = 0; s < n->n_segs; s++)
        for (uint64_t k = n->geom_off[s]; k + 1 < n->geom_off[s + 1]; k++) {
            double lon = 0.5 * (n->geom_lon_deg[k] + n->geom_lon_deg[k + 1]);
            double lat = 0.5 * (n->geom_lat_deg[k] + n->geom_lat_deg[k + 1]);
            uint32_t qx = (uint32_t)fmin(65535.0, fmax(0.0, (lon + 180.0) / 360.0 * 65535.0));
            uint32_t qy = (uint32_t)fmin(65535.0, fmax(0.0, (lat + 90.0) / 180.0 * 65535.0));
            keys[i].key = morton16(qx, qy);
            keys[i].seg = s;
            keys[i].pt = k;
            i++;
        }
    qsort(keys, np, sizeof *keys, cmp_pkey);
    for (i = 0; i < np; i++) {
        t->piece_seg[i] = keys[i].seg;
        t->piece_pt[i] = keys[i].pt;
    }
    cs_free(keys);
    /* level 0: boxes over groups of FAN pieces */
    uint32_t cnt = (uint32_t)((np + FAN - 1) / FAN);
    uint32_t l = 0;
    while (1) {
        t->boxes[l] = cs_mallocarray((size_t)cnt + 1, sizeof(box));
        if (!t->boxes[l]) return CS_ENOMEM;
        t->level_n[l] = cnt;
        t->n_levels = l + 1;
        for (uint32_t b = 0; b < cnt; b++) {
            box bb = {{1e30f, 1e30f, 1e30f}, {-1e30f, -1e30f, -1e30f}};
            uint32_t lo = b * FAN, hi = lo + FAN;
            uint32_t lim = l == 0 ? (uint32_t)np : t->level_n[l - 1];
            if (hi > lim) hi = lim;
            for (uint32_t c = lo; c < hi; c++) {
                box cb;
                if (l == 0) box_piece(n, t->piece_pt[c], &cb);
                else cb = t->boxes[l - 1][c];
                for (int d = 0; d < 3; d++) {
                    if (cb.lo[d] < bb.lo[d]) bb.lo[d] = cb.lo[d];
                    if (cb.hi[d] > bb.hi[d]) bb.hi[d] = cb.hi[d];
                }
            }
            t->boxes[l][b] = bb;
        }
        if (cnt <= 1 || l + 1 >= 40) break;
        cnt = (cnt + FAN - 1) / FAN;
        l++;
    }
    return CS_OK;
}

static double box_d2(const box *b, v3 p)
{
    double pv[3] = {p.x, p.y, p.z}, s = 0;
    for (int d = 0; d < 3; d++) {
        double e = 0;
        if (pv[d] < b->lo[d]) e = b->lo[d] - pv[d];
        else if (pv[d] > b->hi[d]) e = pv[d] - b->hi[d];
        s += e * e;
    }
    return s;
}

typedef struct {
    double key;
    uint32_t level, idx;
} hitem;

typedef struct {
    hitem *a;
    size_t n, cap;
} heap;

static int heap_push(heap *h, hitem it)
{
    if (h->n == h->cap) {
        size_t c = h->cap ? h->cap * 2 : 256;
        hitem *q = cs_reallocarray(h->a, c, sizeof *q);
        if (!q) return -1;
        h->a = q;
        h->cap = c;
    }
    size_t i = h->n++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (h->a[p].key < it.key || (h->a[p].key == it.key && h->a[p].idx <= it.idx)) break;
        h->a[i] = h->a[p];
        i = p;
    }
    h->a[i] = it;
    return 0;
}

static hitem heap_pop(heap *h)
{
    hitem top = h->a[0], last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        hitem *mm = &last;
        if (l < h->n && (h->a[l].key < mm->key || (h->a[l].key == mm->key && h->a[l].idx < mm->idx))) m = l, mm = &h->a[l];
        if (r < h->n && (h->a[r].key < mm->key || (h->a[r].key == mm->key && h->a[r].idx < mm->idx))) m = r;
        if (m == i) break;
        h->a[i] = h->a[m];
        i = m;
    }
    h->a[i] = last;
    return top;
}

/* chord^2 of a great-circle distance */
static double chord2_of(double dist_m)
{
    double a = dist_m / CS_EARTH_RADIUS_M;
    if (a > M_PI) a = M_PI;
    double c = 2.0 * sin(a / 2.0);
    return c * c;
}

typedef struct {
    uint32_t piece; /* tree order index, CS_INVALID_ID none */
    double d_m;
    v3 q;
    double t;
} hit;

/* Nearest piece to p within max chord^2, restricted to segments with comp == want (or any when want == CS_INVALID_ID - 1). */
static int nearest(const cs_network *n, const rtree *t, const uint32_t *seg_comp, uint32_t want, v3 p, double lon,
                   double lat, double max_c2, heap *h, hit *out)
{
    out->piece = CS_INVALID_ID;
    out->d_m = INFINITY;
    if (!t->n_levels || !t->n_pieces) return 0;
    double best_c2 = max_c2;
    h->n = 0;
    uint32_t top = t->n_levels - 1;
    for (uint32_t b = 0; b < t->level_n[top]; b++) {
        hitem it = {box_d2(&t->boxes[top][b], p), top + 1, b};
        if (it.key <= best_c2 && heap_push(h, it)) return -1;
    }
    while (h->n) {
        hitem it = heap_pop(h);
        if (it.key > best_c2) break;
        if (it.level == 0) { /* a piece */
            uint32_t s = t->piece_seg[it.idx];
            if (want != CS_INVALID_ID - 1 && seg_comp[s] != want) continue;
            uint64_t k = t->piece_pt[it.idx];
            v3 a = to_v3(n->geom_lon_deg[k], n->geom_lat_deg[k]);
            v3 c = to_v3(n->geom_lon_deg[k + 1], n->geom_lat_deg[k + 1]);
            double tt;
            v3 q = arc_nearest(a, c, p, &tt);
            double qlon, qlat;
            to_lonlat(q, &qlon, &qlat);
            double d = cs_geodesic_m(lon, lat, qlon, qlat);
            double c2 = chord2_of(d);
            if (c2 < best_c2 || (c2 == best_c2 && (out->piece == CS_INVALID_ID || it.idx < out->piece))) {
                best_c2 = c2;
                out->piece = it.idx;
                out->d_m = d;
                out->q = q;
                out->t = tt;
            }
            continue;
        }
        uint32_t l = it.level - 1; /* boxes at level l; children are level l-1 boxes or pieces */
        uint32_t lo = it.idx * FAN, hi = lo + FAN;
        uint32_t lim = l == 0 ? t->n_pieces : t->level_n[l - 1];
        if (hi > lim) hi = lim;
        for (uint32_t c = lo; c < hi; c++) {
            hitem ch;
            if (l == 0) {
                box pb;
                box_piece(n, t->piece_pt[c], &pb);
                ch.key = box_d2(&pb, p);
            } else {
                ch.key = box_d2(&t->boxes[l - 1][c], p);
            }
            ch.level = l;
            ch.idx = c;
            if (ch.key <= best_c2 && heap_push(h, ch)) return -1;
        }
    }
    return 0;
}

cs_status cs_snap_points(const cs_network *net, const double *lon, const double *lat, size_t n, const cs_snap_opts *opts,
                         cs_snap *out)
{
    if (!net || (n && (!lon || !lat || !out))) return cs_error_set(CS_EINVAL, "cs_snap_points: NULL argument");
    cs_snap_opts def;
    if (!opts) {
        cs_snap_opts_default(&def);
        opts = &def;
    }
    if (!(opts->max_dist_m >= 0) || !(opts->access_speed_kmh > 0) || !(opts->prefer_largest_slack_m >= 0))
        return cs_error_set(CS_EINVAL, "snap options: max_dist_m and slack must be >= 0, access speed > 0");
    cs_status st = CS_ENOMEM;
    uint32_t *comp = cs_mallocarray((size_t)net->n_nodes + 1, sizeof *comp);
    uint32_t *seg_comp = cs_mallocarray((size_t)net->n_segs + 1, sizeof *seg_comp);
    rtree t;
    memset(&t, 0, sizeof t);
    heap h = {0};
    if (!comp || !seg_comp) goto done;
    if (scc(net, comp) < 0) goto done;
    for (uint32_t s = 0; s < net->n_segs; s++)
        seg_comp[s] = comp[net->seg_u[s]] == comp[net->seg_v[s]] ? comp[net->seg_u[s]] : CS_INVALID_ID;
    if ((st = rtree_build(net, &t))) goto done;
    double max_c2 = chord2_of(opts->max_dist_m);
    for (size_t i = 0; i < n; i++) {
        cs_snap *o = &out[i];
        o->seg = CS_INVALID_ID;
        o->frac = NAN;
        o->dist_m = NAN;
        o->snap_lon = lon[i];
        o->snap_lat = lat[i];
        o->access_ms = CS_NO_TIME;
        o->component = CS_INVALID_ID;
        o->flagged = 1;
        if (!isfinite(lon[i]) || !isfinite(lat[i]) || fabs(lat[i]) > 90) continue;
        v3 p = to_v3(lon[i], lat[i]);
        hit best;
        if (nearest(net, &t, seg_comp, CS_INVALID_ID - 1, p, lon[i], lat[i], max_c2, &h, &best)) {
            st = CS_ENOMEM;
            goto done;
        }
        if (best.piece == CS_INVALID_ID || !(best.d_m <= opts->max_dist_m)) continue;
        if (opts->prefer_largest && seg_comp[t.piece_seg[best.piece]] != 0) {
            double lim = fmin(best.d_m + opts->prefer_largest_slack_m, opts->max_dist_m);
            hit alt;
            if (nearest(net, &t, seg_comp, 0, p, lon[i], lat[i], chord2_of(lim), &h, &alt)) {
                st = CS_ENOMEM;
                goto done;
            }
            if (alt.piece != CS_INVALID_ID && alt.d_m <= lim) best = alt;
        }
        uint32_t s = t.piece_seg[best.piece];
        uint64_t k = t.piece_pt[best.piece];
        /* position along the geometry by (haversine) length */
        double before = 0, total = 0, piece_len = 0;
        for (uint64_t j = net->geom_off[s]; j + 1 < net->geom_off[s + 1]; j++) {
            double d = cs_geodesic_m(net->geom_lon_deg[j], net->geom_lat_deg[j], net->geom_lon_deg[j + 1],
                                     net->geom_lat_deg[j + 1]);
            if (j < k) before += d;
            if (j == k) piece_len = d;
            total += d;
        }
        o->seg = s;
        o->frac = total > 0 ? (before + best.t * piece_len) / total : 0;
        if (o->frac > 1) o->frac = 1;
        o->dist_m = best.d_m;
        to_lonlat(best.q, &o->snap_lon, &o->snap_lat);
        double ms = llround(best.d_m * 3600.0 / opts->access_speed_kmh);
        o->access_ms = ms >= (double)CS_NO_TIME ? CS_NO_TIME - 1 : (uint32_t)ms;
        o->component = seg_comp[s];
        o->flagged = 0;
    }
    st = CS_OK;
done:
    if (st == CS_ENOMEM && cs_error_last()->status != CS_ENOMEM) cs_error_set(CS_ENOMEM, "out of memory (snapping)");
    cs_free(comp);
    cs_free(seg_comp);
    rtree_free(&t);
    cs_free(h.a);
    return st;
}

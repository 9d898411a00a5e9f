/*
 * query.c: many-to-many matrices on the customized hierarchy. Each target
 * runs an elimination-tree search (its ancestors in the elimination tree,
 * relaxed bottom-up with downward weights) and leaves (target, distance)
 * entries in per-node buckets; each source runs the same search with upward
 * weights and scans the buckets of the nodes it reaches (Knopp, Sanders,
 * Schultes, Schulz & Wagner, "Computing many-to-many shortest paths using
 * highway hierarchies", ALENEX 2007; elimination-tree search: Dibbelt et al.
 * 2016). Rows are computed independently (OpenMP over sources) and written
 * to fixed cells, so results do not depend on the thread count.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "routing_internal.h"

void cs_matrix_opts_default(cs_matrix_opts *o)
{
    memset(o, 0, sizeof *o);
    o->nonroad_flags = 1;
    o->prune = -1;
}

cs_location cs_location_node(uint32_t node)
{
    cs_location l = {node, CS_INVALID_ID, 0.0, 0, 0};
    return l;
}

cs_location cs_location_from_snap(const cs_snap *s)
{
    cs_location l = {CS_INVALID_ID, CS_INVALID_ID, 0.0, 0, 0};
    if (s && !s->flagged && s->seg != CS_INVALID_ID) {
        l.seg = s->seg;
        l.frac = s->frac;
        l.access_ms = s->access_ms;
        l.access_cm = s->dist_m > 0 && s->dist_m < 4.0e7 ? (uint32_t)llround(s->dist_m * 100.0) : 0;
    }
    return l;
}

/* round(f * t) with f clamped to [0,1], half away from zero */
static uint64_t part(uint32_t t, double f)
{
    if (!(f > 0)) return 0;
    if (f >= 1) return t;
    uint64_t x = (uint64_t)llround(f * (double)t);
    return x > t ? t : x;
}

typedef struct { uint32_t node[2]; uint64_t key[2]; int k; } seeds;

static void add_seed(seeds *s, uint32_t node, uint64_t key)
{
    if (key == RT_INF) return;
    for (int i = 0; i < s->k; i++)
        if (s->node[i] == node) { if (key < s->key[i]) s->key[i] = key; return; }
    s->node[s->k] = node;
    s->key[s->k++] = key;
}

/* Seeds of a location: as a source (dir 0: distances from the point to nodes) or a target
   (dir 1: distances from nodes to the point). */
static void loc_seeds(const cs_router *r, const cs_location *l, int dir, int road_only, seeds *sd)
{
    sd->k = 0;
    uint64_t acc = rt_key(l->access_ms, l->access_cm);
    if (l->node != CS_INVALID_ID) { add_seed(sd, l->node, acc); return; }
    uint32_t s = l->seg;
    if (s == CS_INVALID_ID || (road_only && rt_nonroad_mode(r->seg_mode[s]))) return;
    uint32_t f = r->seg_fwd[s], b = r->seg_bwd[s], len = r->seg_len[s];
    double fr = l->frac;
    if (dir == 0) {
        if (f != CS_NO_TIME) add_seed(sd, r->seg_v[s], rt_add(acc, rt_key(f - part(f, fr), len - part(len, fr))));
        if (b != CS_NO_TIME)
            add_seed(sd, r->seg_u[s], rt_add(acc, rt_key(b - part(b, 1 - fr), len - part(len, 1 - fr))));
    } else {
        if (f != CS_NO_TIME) add_seed(sd, r->seg_u[s], rt_add(acc, rt_key(part(f, fr), part(len, fr))));
        if (b != CS_NO_TIME) add_seed(sd, r->seg_v[s], rt_add(acc, rt_key(part(b, 1 - fr), part(len, 1 - fr))));
    }
}

/* Direct route along one segment between two points on it (RT_INF if none). */
static uint64_t same_seg(const cs_router *r, const cs_location *a, const cs_location *b, int road_only)
{
    uint32_t s = a->seg;
    if (road_only && rt_nonroad_mode(r->seg_mode[s])) return RT_INF;
    uint32_t f = r->seg_fwd[s], bw = r->seg_bwd[s], len = r->seg_len[s];
    uint64_t best = RT_INF;
    if (f != CS_NO_TIME && b->frac >= a->frac) {
        uint64_t k = rt_key(part(f, b->frac) - part(f, a->frac), part(len, b->frac) - part(len, a->frac));
        if (k < best) best = k;
    }
    if (bw != CS_NO_TIME && b->frac <= a->frac) {
        uint64_t k = rt_key(part(bw, 1 - b->frac) - part(bw, 1 - a->frac),
                            part(len, 1 - b->frac) - part(len, 1 - a->frac));
        if (k < best) best = k;
    }
    if (best == RT_INF) return best;
    return rt_add(rt_add(best, rt_key(a->access_ms, a->access_cm)), rt_key(b->access_ms, b->access_cm));
}

/*
 * The arcs a search relaxes: a CSR by rank (fu, hd) with keys W; an arc is used only when its head has
 * every bit of `need` (the direction flags of the query hierarchy; 0 for the full CCH), and hm masks the
 * head to a rank.
 */
typedef struct {
    const uint32_t *fu, *hd;
    const uint64_t *W;
    uint32_t need, hm;
} rt_arcs;

/* Full CCH, metric k (0 all modes, 1 road only), direction dir (0 lower->upper, 1 upper->lower). */
static rt_arcs arcs_full(const cs_router *r, int k, int dir)
{
    rt_arcs a = {r->first_up, r->up_head, dir == 0 ? (k ? r->r_up : r->w_up) : (k ? r->r_dn : r->w_dn), 0, ~0u};
    return a;
}

/* Query hierarchy (all-modes metric), direction dir. */
static rt_arcs arcs_query(const cs_router *r, int dir)
{
    rt_arcs a = {r->q_first, r->q_head, r->q_key, dir == 0 ? RT_QUP : RT_QDN, RT_QMASK};
    return a;
}

/*
 * Elimination-tree search from the seeds, then pruning. dist and ex (n
 * entries each, all RT_INF) are restored to RT_INF. `w` are the weights of
 * the search direction on upward arcs (source: lower->upper; target:
 * upper->lower), `sw` the opposite direction.
 *
 * Bottom-up, the walk relaxes every upward arc of every ancestor it reaches.
 * Top-down, it computes the exact distance D(v) between the seed and each
 * reached ancestor (D(v) = min(walk(v), D(w) + sw(w,v)) over upper
 * neighbours w) and keeps v only when walk(v) is strictly smaller than every
 * route through a higher neighbour. Exactness: the peak of an optimal
 * up-down route whose entry is dropped can be moved to that higher
 * neighbour without changing the route's weight; the peak rank only grows,
 * so some optimal route has a peak kept on both sides (docs/routing.md).
 * Writes the kept (rank, key) pairs to on/ok (capacity 2 * et_height + 2:
 * two seeds have two ancestor chains) and returns their count.
 */
static uint32_t walk(const cs_router *r, const rt_arcs *A, const rt_arcs *S, const seeds *sd, uint64_t *dist,
                     uint64_t *ex, uint32_t *on, uint64_t *ok, int prune)
{
    uint32_t x = CS_INVALID_ID, y = CS_INVALID_ID;
    for (int i = 0; i < sd->k; i++) {
        uint32_t v = r->rank[sd->node[i]];
        if (sd->key[i] < dist[v]) dist[v] = sd->key[i];
        if (i == 0) x = v;
        else y = v;
    }
    if (x == y) y = CS_INVALID_ID;
    const uint32_t *par = r->parent, *fu = A->fu, *hd = A->hd;
    const uint64_t *w = A->W, *sw = S->W;
    uint32_t need = A->need, sneed = S->need, hm = A->hm;
    uint32_t cnt = 0;
    while (x != CS_INVALID_ID || y != CS_INVALID_ID) {
        uint32_t v = x < y ? x : y;
        if (x == v) x = par[x];
        if (y == v) y = par[y];
        uint64_t d = dist[v];
        if (d == RT_INF) continue;
        dist[v] = RT_INF;
        on[cnt] = v;
        ok[cnt++] = d;
        for (uint32_t e = fu[v]; e < fu[v + 1]; e++) {
            uint32_t h = hd[e];
            if ((h & need) != need) continue;
            uint64_t nk = rt_add(d, w[e]);
            if (nk < dist[h & hm]) dist[h & hm] = nk;
        }
    }
    if (!prune) return cnt;
    /* top-down: exact distances and pruning */
    for (uint32_t q = cnt; q-- > 0;) {
        uint32_t v = on[q];
        uint64_t best = RT_INF;
        for (uint32_t e = fu[v]; e < fu[v + 1]; e++) {
            uint32_t h = hd[e];
            if ((h & sneed) != sneed) continue;
            uint64_t dw = ex[h & hm];
            if (dw == RT_INF) continue;
            uint64_t via = rt_add(dw, sw[e]);
            if (via < best) best = via;
        }
        uint64_t own = ok[q];
        ex[v] = own < best ? own : best;
        if (own >= best) ok[q] = RT_INF; /* pruned */
    }
    uint32_t k = 0;
    for (uint32_t q = 0; q < cnt; q++) {
        ex[on[q]] = RT_INF;
        if (ok[q] != RT_INF) { on[k] = on[q]; ok[k++] = ok[q]; }
    }
    return k;
}

/* ---- multi-source elimination-tree searches (one pass over the shared ancestors for a block) ---- */

/* Sources per block of the lane kernel, and the key bounds that keep its signed sums exact. */
#define BS_MAX 128
#define LANE_LIMIT (UINT64_C(1) << 61)
#define LANE_INF ((int64_t)1 << 62)
#ifndef LW_BUDGET
#define LW_BUDGET (UINT64_C(128) << 20) /* bytes of lane table per thread */
#endif

/*
 * Per-thread workspace of lane searches: L searches run together over the
 * union of their ancestor chains, in increasing rank; each union node holds
 * L signed distances (LANE_INF = not reached) and the mask of lanes that
 * reach it. A hash table (open addressing, linear probing, load <= 1/2) maps a rank to its union
 * index: entry = rank << 32 | index, HT_EMPTY = free. Its size follows the union (a few hundred kB),
 * where a dense rank -> index array would cost 4 bytes per graph node and thread.
 */
#define HT_EMPTY UINT64_MAX
static inline uint32_t ht_pos(uint32_t x, uint32_t sh) { return (uint32_t)(((uint64_t)x * UINT64_C(0x9E3779B97F4A7C15)) >> sh); }
/* index of rank x (CS_INVALID_ID if absent) */
static inline uint32_t ht_get(const uint64_t *ht, uint32_t sh, uint32_t x)
{
    uint32_t mask = (uint32_t)((UINT64_C(1) << (64 - sh)) - 1);
    for (uint32_t p = ht_pos(x, sh);; p = (p + 1) & mask) {
        uint64_t e = ht[p];
        if ((uint32_t)(e >> 32) == x) return (uint32_t)e;
        if (e == HT_EMPTY) return CS_INVALID_ID;
    }
}
/* set the index of rank x (inserted if absent) */
static inline void ht_put(uint64_t *ht, uint32_t sh, uint32_t x, uint32_t i)
{
    uint32_t mask = (uint32_t)((UINT64_C(1) << (64 - sh)) - 1);
    for (uint32_t p = ht_pos(x, sh);; p = (p + 1) & mask) {
        uint64_t e = ht[p];
        if (e == HT_EMPTY || (uint32_t)(e >> 32) == x) { ht[p] = (uint64_t)x << 32 | i; return; }
    }
}

typedef struct {
    uint32_t *slot; /* dense form (full CCH: sessions, non-road queries): n entries, ~index (0 = outside),
                       zero pages from calloc; NULL in the hash form (query hierarchy) */
    uint64_t *ht;   /* hash form: 2^(64-sh) entries */
    uint32_t sh;
    uint32_t *un;   /* union ranks, increasing after lw_run */
    uint64_t *mk;   /* 2 words (128 lanes) per union node */
    int64_t *D;     /* U x L */
    size_t cap_u, cap_d;
    uint32_t U, L;
} lanews;

static int lw_init(lanews *w, uint32_t n, int dense)
{
    memset(w, 0, sizeof *w);
    if (dense) {
        w->slot = cs_calloc(n ? n : 1, 4);
        return w->slot ? 0 : -1;
    }
    w->sh = 64 - 12;
    w->ht = cs_mallocarray((size_t)1 << 12, 8);
    if (!w->ht) return -1;
    memset(w->ht, 0xff, ((size_t)1 << 12) * 8);
    return 0;
}

static void lw_free(lanews *w)
{
    cs_free(w->slot); cs_free(w->ht); cs_free(w->un); cs_free(w->mk); cs_free(w->D);
    memset(w, 0, sizeof *w);
}

static void lw_reset(lanews *w)
{
    if (w->slot)
        for (uint32_t i = 0; i < w->U; i++) w->slot[w->un[i]] = 0;
    else
        memset(w->ht, 0xff, ((size_t)1 << (64 - w->sh)) * 8);
    w->U = 0;
}

static inline uint32_t lw_get(const lanews *w, uint32_t x) { return w->slot ? ~w->slot[x] : ht_get(w->ht, w->sh, x); }
static inline void lw_put(lanews *w, uint32_t x, uint32_t i)
{
    if (w->slot) w->slot[x] = ~i;
    else ht_put(w->ht, w->sh, x, i);
}

/* Double the table (rehash the union so far). 0 or -1. */
static int lw_grow(lanews *w)
{
    uint32_t sh = w->sh - 1;
    uint64_t *t = cs_mallocarray((size_t)1 << (64 - sh), 8);
    if (!t) return -1;
    memset(t, 0xff, ((size_t)1 << (64 - sh)) * 8);
    for (uint32_t i = 0; i < w->U; i++) ht_put(t, sh, w->un[i], i);
    cs_free(w->ht);
    w->ht = t;
    w->sh = sh;
    return 0;
}

/* Relax every upward arc of union node i (mask m0|m1) into its ancestors: D[j] = min(D[j], D[i] + W[e]).
   Returns 1 when a finite arc weight is at or above LANE_LIMIT (the caller falls back to scalar searches). */
#define LW_NODE(N)                                                                                            \
    __attribute__((target_clones("avx512f", "avx2", "default"))) static int lw_node_##N(                               \
        int64_t *restrict D, uint64_t *restrict mk, const uint32_t *restrict slot, const uint64_t *restrict ht, \
        const uint32_t *restrict hd,                                                                         \
        const uint64_t *restrict W, uint32_t b, uint32_t e, uint32_t i, uint32_t need, uint32_t hm, uint32_t sh) \
    {                                                                                                        \
        const int64_t *restrict dv = D + (size_t)i * N;                                                      \
        uint64_t m0 = mk[2 * (size_t)i], m1 = mk[2 * (size_t)i + 1];                                         \
        int bad = 0;                                                                                         \
        for (uint32_t a = b; a < e; a++) {                                                                   \
            uint32_t h = hd[a];                                                                              \
            if ((h & need) != need) continue;                                                                \
            uint64_t w = W[a];                                                                               \
            if (w >= LANE_LIMIT) { bad |= w != RT_INF; continue; }                                           \
            uint32_t j = slot ? ~slot[h & hm] : ht_get(ht, sh, h & hm);                                      \
            mk[2 * (size_t)j] |= m0;                                                                         \
            mk[2 * (size_t)j + 1] |= m1;                                                                     \
            int64_t *restrict dh = D + (size_t)j * N;                                                        \
            int64_t ww = (int64_t)w;                                                                         \
            for (int l = 0; l < N; l++) {                                                                    \
                int64_t x = dv[l] + ww;                                                                      \
                dh[l] = x < dh[l] ? x : dh[l];                                                               \
            }                                                                                                \
        }                                                                                                    \
        return bad;                                                                                          \
    }
LW_NODE(8)
LW_NODE(16)
LW_NODE(32)
LW_NODE(64)
LW_NODE(128)

/* Same for a node reached by few lanes: only those lanes. */
static int lw_node_sparse(int64_t *D, uint64_t *mk, const uint32_t *slot, const uint64_t *ht, const uint32_t *hd,
                          const uint64_t *W,
                          uint32_t b, uint32_t e, uint32_t i, uint32_t L, uint32_t need, uint32_t hm, uint32_t sh)
{
    const int64_t *dv = D + (size_t)i * L;
    uint64_t m0 = mk[2 * (size_t)i], m1 = mk[2 * (size_t)i + 1];
    int bad = 0;
    for (uint32_t a = b; a < e; a++) {
        uint32_t h = hd[a];
        if ((h & need) != need) continue;
        uint64_t w = W[a];
        if (w >= LANE_LIMIT) { bad |= w != RT_INF; continue; }
        uint32_t j = slot ? ~slot[h & hm] : ht_get(ht, sh, h & hm);
        mk[2 * (size_t)j] |= m0;
        mk[2 * (size_t)j + 1] |= m1;
        int64_t *dh = D + (size_t)j * L;
        for (int q = 0; q < 2; q++)
            for (uint64_t m = q ? m1 : m0; m; m &= m - 1) {
                int l = __builtin_ctzll(m) + 64 * q;
                int64_t x = dv[l] + (int64_t)w;
                if (x < dh[l]) dh[l] = x;
            }
    }
    return bad;
}

static int cmp_u32q(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Restart of lane searches from stored ones (session updates): lane l keeps its stored (node, key) pairs
   below t0[l], the first node of its search with a changed upward arc; everything above is recomputed. */
typedef struct {
    const uint32_t *t0, *cnt;
    const uint32_t *const *node;
    const uint64_t *const *key;
} lw_restart;

/*
 * L searches at once (L = 8, 16, 32, 64 or 128; lane l from sd[l], lanes >= nl empty) with weights W.
 * Afterwards union node i (rank w->un[i], increasing) holds the distances D[i*L + l], exactly those
 * of walk() without pruning, for every lane in its mask. Returns 0, 1 if some key or distance is at or
 * above LANE_LIMIT (use the scalar walk), or -1 when out of memory. Call lw_reset afterwards.
 */
/* The union of the ancestor chains of the seeds of nl lanes into w->un (unsorted; w->U nodes). 0 or -1. */
static int lw_union(const cs_router *r, const seeds *sd, uint32_t nl, lanews *w)
{
    const uint32_t *par = r->parent;
    w->U = 0;
    for (uint32_t l = 0; l < nl; l++)
        for (int s = 0; s < sd[l].k; s++)
            for (uint32_t x = r->rank[sd[l].node[s]]; x != CS_INVALID_ID && lw_get(w, x) == CS_INVALID_ID;
                 x = par[x]) {
                if (w->U == w->cap_u) {
                    size_t nc = w->cap_u ? 2 * w->cap_u : 4096;
                    uint32_t *u2 = cs_reallocarray(w->un, nc, 4);
                    if (!u2) return -1;
                    w->un = u2;
                    uint64_t *m2 = cs_reallocarray(w->mk, nc, 16);
                    if (!m2) return -1;
                    w->mk = m2;
                    w->cap_u = nc;
                }
                if (!w->slot && ((size_t)w->U + 1) * 2 > ((size_t)1 << (64 - w->sh)) && lw_grow(w)) return -1;
                lw_put(w, x, w->U);
                w->un[w->U++] = x;
            }
    return 0;
}

static int lw_run(const cs_router *r, const rt_arcs *A, const seeds *sd, uint32_t nl, uint32_t L, lanews *w,
                  const lw_restart *rs)
{
    const uint64_t *W = A->W;
    uint32_t need = A->need, hm = A->hm;
    w->L = L;
    if (lw_union(r, sd, nl, w)) return -1;
    uint32_t U = w->U;
    /* lane table budget per thread: blocks whose chains barely overlap (tall trees, scattered locations)
       run as single searches instead */
    if ((uint64_t)U * L * 8 > LW_BUDGET) return 1;
    if (U == 0) return 0; /* no lane has a seed (unjoined locations): nothing to relax */
    qsort(w->un, U, 4, cmp_u32q);
    for (uint32_t i = 0; i < U; i++) lw_put(w, w->un[i], i);
    if ((size_t)U * L > w->cap_d) {
        size_t nc = (size_t)U * L + ((size_t)U * L >> 2);
        cs_free(w->D);
        w->D = cs_mallocarray(nc, 8);
        if (!w->D) { w->cap_d = 0; return -1; }
        w->cap_d = nc;
    }
    int64_t *D = w->D;
    for (size_t q = 0; q < (size_t)U * L; q++) D[q] = LANE_INF;
    memset(w->mk, 0, (size_t)U * 16);
    for (uint32_t l = 0; l < nl; l++)
        for (int s = 0; s < sd[l].k; s++) {
            if (sd[l].key[s] >= LANE_LIMIT) return 1;
            uint32_t i = lw_get(w, r->rank[sd[l].node[s]]);
            int64_t k = (int64_t)sd[l].key[s];
            if (k < D[(size_t)i * L + l]) D[(size_t)i * L + l] = k;
            w->mk[2 * (size_t)i + l / 64] |= UINT64_C(1) << (l % 64);
        }
    if (rs) /* restart: the stored values below each lane's first changed node are final */
        for (uint32_t l = 0; l < nl; l++)
            for (uint32_t q = 0; q < rs->cnt[l] && rs->node[l][q] < rs->t0[l]; q++) {
                if (rs->key[l][q] >= LANE_LIMIT) return 1;
                uint32_t i = lw_get(w, rs->node[l][q]);
                D[(size_t)i * L + l] = (int64_t)rs->key[l][q];
                w->mk[2 * (size_t)i + l / 64] |= UINT64_C(1) << (l % 64);
            }
    const uint32_t *fu = A->fu, *hd = A->hd;
    int bad = 0;
    for (uint32_t i = 0; i < U && !bad; i++) {
        uint64_t m0 = w->mk[2 * (size_t)i], m1 = w->mk[2 * (size_t)i + 1];
        if (!(m0 | m1)) continue;
        const int64_t *dv = D + (size_t)i * L;
        for (uint32_t l = 0; l < L; l++) bad |= dv[l] >= (int64_t)LANE_LIMIT && dv[l] < LANE_INF;
        uint32_t v = w->un[i], b = fu[v], e = fu[v + 1];
        if (rs) {
            /* heads below every reaching lane's first changed node already hold final values: relax only
               the arcs (sorted by head) from the smallest such node up */
            uint32_t tmin = UINT32_MAX;
            for (int q = 0; q < 2; q++)
                for (uint64_t mm = q ? m1 : m0; mm; mm &= mm - 1) {
                    uint32_t t = rs->t0[__builtin_ctzll(mm) + 64 * q];
                    if (t < tmin) tmin = t;
                }
            if (tmin > v) {
                uint32_t lo = b, hi = e;
                while (lo < hi) {
                    uint32_t mid = lo + (hi - lo) / 2;
                    if ((hd[mid] & hm) < tmin) lo = mid + 1;
                    else hi = mid;
                }
                b = lo;
            }
        }
        if (b == e) continue;
        int pc = __builtin_popcountll(m0) + __builtin_popcountll(m1);
        if ((uint32_t)pc * 4 < L) bad |= lw_node_sparse(D, w->mk, w->slot, w->ht, hd, W, b, e, i, L, need, hm, w->sh);
        else switch (L) {
            case 8: bad |= lw_node_8(D, w->mk, w->slot, w->ht, hd, W, b, e, i, need, hm, w->sh); break;
            case 16: bad |= lw_node_16(D, w->mk, w->slot, w->ht, hd, W, b, e, i, need, hm, w->sh); break;
            case 32: bad |= lw_node_32(D, w->mk, w->slot, w->ht, hd, W, b, e, i, need, hm, w->sh); break;
            case 64: bad |= lw_node_64(D, w->mk, w->slot, w->ht, hd, W, b, e, i, need, hm, w->sh); break;
            default: bad |= lw_node_128(D, w->mk, w->slot, w->ht, hd, W, b, e, i, need, hm, w->sh); break;
            }
    }
    return bad ? 1 : 0;
}

/*
 * Exact pruning of lane searches (the top-down pass of walk(), for all lanes at once): for union node i
 * in decreasing rank, via[l] = min over upper neighbours j of E[j][l] + SW(j -> i); E[i][l] = the exact
 * distance min(D, via) for reached lanes (LANE_INF otherwise); lane l is dropped at i unless D < via.
 */
#define LW_DOWN(N)                                                                                            \
    __attribute__((target_clones("avx512f", "avx2", "default"))) static int lw_down_##N(                               \
        int64_t *restrict E, int64_t *restrict D, const uint32_t *restrict slot, const uint64_t *restrict ht, \
        const uint32_t *restrict hd,                                                                         \
        const uint64_t *restrict SW, uint32_t b, uint32_t e, uint32_t i, uint32_t need, uint32_t hm,          \
        uint32_t sh)                                                                                         \
    {                                                                                                        \
        int64_t via[N];                                                                                      \
        int bad = 0;                                                                                         \
        for (int l = 0; l < N; l++) via[l] = LANE_INF;                                                       \
        for (uint32_t a = b; a < e; a++) {                                                                   \
            uint32_t h = hd[a];                                                                              \
            if ((h & need) != need) continue;                                                                \
            uint64_t w = SW[a];                                                                              \
            if (w >= LANE_LIMIT) { bad |= w != RT_INF; continue; }                                           \
            const int64_t *restrict ej = E + (size_t)(slot ? ~slot[h & hm] : ht_get(ht, sh, h & hm)) * N;    \
            int64_t ww = (int64_t)w;                                                                         \
            for (int l = 0; l < N; l++) {                                                                    \
                int64_t x = ej[l] + ww;                                                                      \
                via[l] = x < via[l] ? x : via[l];                                                            \
            }                                                                                                \
        }                                                                                                    \
        int64_t *restrict di = D + (size_t)i * N, *restrict ei = E + (size_t)i * N;                          \
        for (int l = 0; l < N; l++) {                                                                        \
            int64_t d = di[l], v = via[l];                                                                   \
            ei[l] = d == LANE_INF ? LANE_INF : (d < v ? d : v);                                              \
            di[l] = d < v ? d : LANE_INF;                                                                    \
        }                                                                                                    \
        return bad;                                                                                          \
    }
LW_DOWN(8)
LW_DOWN(16)
LW_DOWN(32)
LW_DOWN(64)
LW_DOWN(128)

/* Apply the pruning to the lane searches of lw_run (SW: the opposite direction's weights). 0, 1 or -1. */
static int lw_prune(const cs_router *r, const rt_arcs *S, lanews *w, int64_t **Ebuf, size_t *Ecap)
{
    (void)r;
    const uint64_t *SW = S->W;
    uint32_t need = S->need, hm = S->hm;
    uint32_t U = w->U, L = w->L;
    if ((size_t)U * L > *Ecap) {
        size_t nc = (size_t)U * L + ((size_t)U * L >> 2);
        cs_free(*Ebuf);
        *Ebuf = cs_mallocarray(nc, 8);
        if (!*Ebuf) { *Ecap = 0; return -1; }
        *Ecap = nc;
    }
    int64_t *E = *Ebuf, *D = w->D;
    const uint32_t *fu = S->fu, *hd = S->hd;
    int bad = 0;
    for (uint32_t i = U; i-- > 0;) {
        uint64_t *mk = w->mk + 2 * (size_t)i;
        if (!(mk[0] | mk[1])) {
            for (uint32_t l = 0; l < L; l++) E[(size_t)i * L + l] = LANE_INF;
            continue;
        }
        uint32_t v = w->un[i], b = fu[v], e = fu[v + 1];
        switch (L) {
        case 8: bad |= lw_down_8(E, D, w->slot, w->ht, hd, SW, b, e, i, need, hm, w->sh); break;
        case 16: bad |= lw_down_16(E, D, w->slot, w->ht, hd, SW, b, e, i, need, hm, w->sh); break;
        case 32: bad |= lw_down_32(E, D, w->slot, w->ht, hd, SW, b, e, i, need, hm, w->sh); break;
        case 64: bad |= lw_down_64(E, D, w->slot, w->ht, hd, SW, b, e, i, need, hm, w->sh); break;
        default: bad |= lw_down_128(E, D, w->slot, w->ht, hd, SW, b, e, i, need, hm, w->sh); break;
        }
        mk[0] = mk[1] = 0;
        const int64_t *di = D + (size_t)i * L;
        for (uint32_t l = 0; l < L; l++)
            if (di[l] < LANE_INF) mk[l / 64] |= UINT64_C(1) << (l % 64);
    }
    return bad ? 1 : 0;
}

/* Position of each rank in a postorder of the elimination tree (children before parents, subtrees
   contiguous): locations sorted by it share most of their ancestors within a block. */
static cs_status et_postorder(const cs_router *r, uint32_t *post)
{
    uint32_t n = r->n;
    uint32_t *size = post, *next = cs_mallocarray(n ? n : 1, 4); /* post holds the subtree sizes first */
    if (!next) return CS_ENOMEM;
    for (uint32_t v = 0; v < n; v++) size[v] = 1;
    for (uint32_t v = 0; v < n; v++)
        if (r->parent[v] != CS_INVALID_ID) size[r->parent[v]] += size[v];
    uint32_t rootnext = 0;
    for (uint32_t v = n; v-- > 0;) { /* parents (higher ranks) first */
        uint32_t p = r->parent[v], start;
        if (p == CS_INVALID_ID) { start = rootnext; rootnext += size[v]; }
        else { start = next[p]; next[p] += size[v]; }
        next[v] = start;
        post[v] = start + size[v] - 1; /* size[v] is read for the last time here */
    }
    cs_free(next);
    return CS_OK;
}

typedef struct { uint32_t key, i; } ord_item;

static int cmp_ord(const void *a, const void *b)
{
    const ord_item *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* perm[0..k) = the locations (indices sel[0..k), or 0..k-1 when sel is NULL) sorted by the postorder
   position of their first seed node (unjoined ones last); ties by index. */
static cs_status loc_order(const cs_router *r, const uint32_t *post, const cs_location *l, const uint32_t *sel,
                           size_t k, uint32_t *perm)
{
    ord_item *it = cs_mallocarray(k ? k : 1, sizeof *it);
    if (!it) return CS_ENOMEM;
    for (size_t q = 0; q < k; q++) {
        uint32_t i = sel ? sel[q] : (uint32_t)q, node = l[i].node;
        if (node == CS_INVALID_ID && l[i].seg != CS_INVALID_ID) node = r->seg_u[l[i].seg];
        it[q] = (ord_item){node == CS_INVALID_ID ? UINT32_MAX : post[r->rank[node]], i};
    }
    qsort(it, k, sizeof *it, cmp_ord);
    for (size_t q = 0; q < k; q++) perm[q] = it[q].i;
    cs_free(it);
    return CS_OK;
}

typedef struct {
    uint32_t *first; /* n+1 bucket offsets by rank (fewer than 2^32 entries); NULL in the compact form */
    uint32_t *bnode, *boff, nb; /* compact form (matrix queries): the nb ranks with a bucket, increasing,
                                   and their offsets (nb+1) */
    uint32_t *tgt;   /* target index */
    uint64_t *key;
} buckets;

/* Bucket of rank v in the compact form: entries [*b, *e) (empty when v has none). */
static inline void bk_range(const buckets *B, uint32_t v, size_t *b, size_t *e)
{
    uint32_t lo = 0, hi = B->nb;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (B->bnode[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    if (lo < B->nb && B->bnode[lo] == v) { *b = B->boff[lo]; *e = B->boff[lo + 1]; }
    else *b = *e = 0;
}

static void buckets_free(buckets *b)
{
    cs_free(b->first); cs_free(b->tgt); cs_free(b->key); cs_free(b->bnode); cs_free(b->boff);
    memset(b, 0, sizeof *b);
}

static int nthreads(int t) { return t > 0 ? t : omp_get_max_threads(); }

/* perm: the targets in elimination-tree postorder of their first seed (loc_order) */
static cs_status build_buckets(const cs_router *r, const cs_location *dst, size_t m, const uint32_t *perm,
                               int road_only, int useq, int threads, int prune, buckets *B)
{
    uint32_t n = r->n, H = 2 * r->et_height + 2; /* two seeds: two ancestor chains */
    rt_arcs A = useq ? arcs_query(r, 1) : arcs_full(r, road_only, 1);
    rt_arcs S = useq ? arcs_query(r, 0) : arcs_full(r, road_only, 0);
    size_t *cnt = cs_calloc(m + 1, sizeof *cnt);
    B->first = cs_calloc((size_t)n + 2, sizeof *B->first);
    if (!cnt || !B->first) { cs_free(cnt); return CS_ENOMEM; }
    int nt = nthreads(threads);
    cs_status st = CS_OK;
    /* each target's entries (tn[j], tk[j]) point into one buffer per block (bbuf; freed block by block
       while the buckets are filled, so the entries are not held twice) */
    uint32_t **tn = cs_calloc(m, sizeof *tn);
    uint64_t **tk = cs_calloc(m, sizeof *tk);
    void **bbuf = cs_calloc(m / 32 + 1, sizeof *bbuf);
    if (!tn || !tk || !bbuf) { st = CS_ENOMEM; goto done; }
    /* targets in postorder, searched in lane blocks of LT (shared ancestors once per block) */
    const uint32_t LT = 32;
    size_t nblk = (m + LT - 1) / LT;
#pragma omp parallel num_threads(nt)
    {
        uint64_t *dist = cs_mallocarray(n ? n : 1, 8), *ex = cs_mallocarray(n ? n : 1, 8);
        uint32_t *on = cs_mallocarray((size_t)H * LT, 4);
        uint64_t *ok = cs_mallocarray((size_t)H * LT, 8);
        lanews lw;
        int64_t *Eb = NULL;
        size_t Ecap = 0;
        int lwok = !lw_init(&lw, n, !useq);
        if (!dist || !ex || !on || !ok || !lwok) {
#pragma omp atomic write
            st = CS_ENOMEM;
        }
        int dinit = 0; /* dist/ex are only touched by the scalar fallback (their pages stay unmapped otherwise) */
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < nblk; b++) {
            if (!dist || !ex || !on || !ok || !lwok) continue;
            size_t j0 = b * LT, bn = m - j0 < LT ? m - j0 : LT;
            seeds sd[32];
            for (size_t l = 0; l < bn; l++) loc_seeds(r, &dst[perm[j0 + l]], 1, road_only, &sd[l]);
            int rc = lw_run(r, &A, sd, (uint32_t)bn, LT, &lw, NULL);
            if (rc == 0 && prune) rc = lw_prune(r, &S, &lw, &Eb, &Ecap);
            if (rc < 0) {
#pragma omp atomic write
                st = CS_ENOMEM;
                lw_reset(&lw);
                continue;
            }
            size_t tot = 0;
            uint32_t c[32];
            for (size_t l = 0; l < bn; l++) {
                uint32_t *onl = on + l * H;
                uint64_t *okl = ok + l * H;
                c[l] = 0;
                if (rc == 0) {
                    uint64_t bit = UINT64_C(1) << (l % 64);
                    for (uint32_t i = 0; i < lw.U; i++)
                        if (lw.mk[2 * (size_t)i + l / 64] & bit) {
                            onl[c[l]] = lw.un[i];
                            okl[c[l]++] = (uint64_t)lw.D[(size_t)i * LT + l];
                        }
                } else {
                    if (!dinit) { for (uint32_t i = 0; i < n; i++) dist[i] = ex[i] = RT_INF; dinit = 1; }
                    c[l] = walk(r, &A, &S, &sd[l], dist, ex, onl, okl, prune);
                }
                tot += c[l];
            }
            lw_reset(&lw);
            uint64_t *kb = cs_mallocarray(tot ? tot : 1, 12); /* keys, then nodes */
            if (!kb) {
#pragma omp atomic write
                st = CS_ENOMEM;
                continue;
            }
            bbuf[b] = kb;
            uint32_t *nb = (uint32_t *)(kb + tot);
            for (size_t l = 0, off = 0; l < bn; l++) {
                size_t j = perm[j0 + l];
                tn[j] = nb + off;
                tk[j] = kb + off;
                memcpy(tn[j], on + l * H, (size_t)c[l] * 4);
                memcpy(tk[j], ok + l * H, (size_t)c[l] * 8);
                cnt[j + 1] = c[l];
                off += c[l];
            }
        }
        cs_free(dist); cs_free(ex); cs_free(on); cs_free(ok); cs_free(Eb);
        lw_free(&lw);
    }
    if (st) goto done;
    for (size_t j = 0; j < m; j++) cnt[j + 1] += cnt[j];
    size_t tot = cnt[m];
    if (tot >= UINT32_MAX) { st = cs_error_set(CS_EUNSUPPORTED, "more than 2^32 bucket entries: query fewer targets at a time"); goto done; }
    B->tgt = cs_mallocarray(tot ? tot : 1, 4);
    B->key = cs_mallocarray(tot ? tot : 1, 8);
    if (!B->tgt || !B->key) { st = CS_ENOMEM; goto done; }
    /* buckets by node; within a bucket, targets in block order (postorder of the targets; the scans take
       minima, so the order does not change any value) */
    for (size_t j = 0; j < m; j++)
        for (size_t e = 0; e < cnt[j + 1] - cnt[j]; e++) B->first[tn[j][e] + 2]++;
    for (uint32_t v = 0; v < n; v++) B->first[v + 2] += B->first[v + 1];
    for (size_t b = 0; b < nblk; b++) {
        for (size_t q = b * LT; q < m && q < (b + 1) * LT; q++) {
            size_t j = perm[q];
            for (size_t e = 0; e < cnt[j + 1] - cnt[j]; e++) {
                uint32_t p = B->first[tn[j][e] + 1]++;
                B->tgt[p] = (uint32_t)j;
                B->key[p] = tk[j][e];
            }
        }
        cs_free(bbuf[b]);
        bbuf[b] = NULL;
    }
    /* compact offsets: only the nodes with a bucket (the dense array costs 4 bytes per graph node) */
    for (uint32_t v = 0; v < n; v++) B->nb += B->first[v + 1] != B->first[v];
    B->bnode = cs_mallocarray((size_t)B->nb + 1, 4);
    B->boff = cs_mallocarray((size_t)B->nb + 1, 4);
    if (!B->bnode || !B->boff) { st = CS_ENOMEM; goto done; }
    for (uint32_t v = 0, q = 0; v < n; v++)
        if (B->first[v + 1] != B->first[v]) { B->bnode[q] = v; B->boff[q++] = B->first[v]; }
    B->boff[B->nb] = B->first[n];
    cs_free(B->first);
    B->first = NULL;
done:
    if (bbuf) for (size_t b = 0; b <= m / 32; b++) cs_free(bbuf[b]);
    cs_free(bbuf);
    cs_free(cnt); cs_free(tn); cs_free(tk);
    if (st) buckets_free(B);
    return st;
}

/* Output sinks of one matrix computation (any may be NULL). */
typedef struct {
    uint64_t *time_ms, *len_cm;
    uint8_t *nonroad;
    double *time_s, *dist_m;
    uint8_t *tflags, *dflags;
    size_t stride, col0; /* cell (i, j) of this computation is element i * stride + col0 + j */
    size_t done0, total; /* progress: rows done before this slice, rows of all slices */
} sinks;

typedef struct { uint32_t seg, j; } segtgt;

static int cmp_segtgt(const void *a, const void *b)
{
    const segtgt *x = a, *y = b;
    if (x->seg != y->seg) return x->seg < y->seg ? -1 : 1;
    return x->j < y->j ? -1 : x->j > y->j;
}

static cs_status validate(const cs_router *r, const cs_location *l, size_t k, const char *what)
{
    for (size_t i = 0; i < k; i++) {
        if (l[i].node != CS_INVALID_ID) {
            if (l[i].node >= r->n)
                return cs_error_set(CS_EINVAL, "%s %zu: node %u out of range (%u nodes)", what, i, l[i].node, r->n);
        } else if (l[i].seg != CS_INVALID_ID) {
            if (l[i].seg >= r->nseg)
                return cs_error_set(CS_EINVAL, "%s %zu: segment %u out of range (%u segments)", what, i, l[i].seg,
                                    r->nseg);
            if (!(l[i].frac >= 0 && l[i].frac <= 1))
                return cs_error_set(CS_EINVAL, "%s %zu: fraction %g outside [0,1]", what, i, l[i].frac);
        }
    }
    return CS_OK;
}

#ifndef CS_RT_BLK_MB
#define CS_RT_BLK_MB 8 /* row-block budget per thread: larger blocks measured slower at 10,000 targets */
#endif
typedef struct { uint32_t v, lane; uint64_t f; } lane_item;

static int cmp_lane_item(const void *a, const void *b)
{
    const lane_item *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    return x->lane < y->lane ? -1 : x->lane > y->lane;
}

/* blk[t*BS + l] = min(blk[t*BS + l], F[l] + key) over the bucket entries [b, e). Keys and F are below
   2^62, so the sums stay below 2^63 and the signed minimum is exact; unused lanes hold LANE_INF. */
#define LANES_KERNEL(N)                                                                                      \
    __attribute__((target_clones("avx512f", "avx2", "default"))) static void lanes_min_##N(                            \
        int64_t *restrict blk, const uint32_t *restrict bt, const uint64_t *restrict bk, size_t b, size_t e,   \
        const int64_t *restrict F)                                                                           \
    {                                                                                                        \
        for (size_t q = b; q < e; q++) {                                                                     \
            int64_t k = (int64_t)bk[q];                                                                      \
            int64_t *restrict row = blk + (size_t)bt[q] * N;                                                 \
            for (int l = 0; l < N; l++) {                                                                    \
                int64_t x = F[l] + k;                                                                        \
                row[l] = x < row[l] ? x : row[l];                                                            \
            }                                                                                                \
        }                                                                                                    \
    }
LANES_KERNEL(8)
LANES_KERNEL(16)
LANES_KERNEL(32)
LANES_KERNEL(64)
LANES_KERNEL(128)

/* The block width is one of 8, 16, 32, 64, 128: a fixed trip count vectorizes well. */
static void lanes_min(int64_t *blk, const uint32_t *bt, const uint64_t *bk, size_t b, size_t e, const int64_t *F,
                      size_t BS)
{
    switch (BS) {
    case 8: lanes_min_8(blk, bt, bk, b, e, F); break;
    case 16: lanes_min_16(blk, bt, bk, b, e, F); break;
    case 32: lanes_min_32(blk, bt, bk, b, e, F); break;
    case 64: lanes_min_64(blk, bt, bk, b, e, F); break;
    default: lanes_min_128(blk, bt, bk, b, e, F); break;
    }
}

static cs_status m2m(const cs_router *r, const cs_location *src, size_t n, const cs_location *dst, size_t m,
                     const cs_matrix_opts *o, cs_progress progress, const sinks *out)
{
    cs_status st;
    if ((st = validate(r, src, n, "source")) || (st = validate(r, dst, m, "target"))) return st;
    if (!n || !m) return CS_OK;
    int two = r->has_nonroad && o->nonroad_flags && (out->nonroad || out->tflags || out->dflags);
    /* the query hierarchy holds the all-modes metric only: with non-road flags the full CCH answers */
    int useq = r->q_first != NULL && !two;
    /* pruning, auto (< 0): on the query hierarchy for at least 10^7 cells, where the smaller buckets save more
       than the extra pass costs (K = 1000: 10,000 x 10,000 -17 % CPU, 1,000 x 1,000 +20 %); off on the full
       CCH, whose extra pass cost more than it saved (docs/routing.md) */
    int prune = o->prune > 0 || (o->prune < 0 && useq && (double)n * (double)m >= 1e7);
    buckets B[2];
    memset(B, 0, sizeof B);
    segtgt *st_list = NULL;
    size_t nst = 0;
    /* sources and targets in elimination-tree postorder (a block's searches share more ancestors); computed
       before the buckets exist, so that its n-sized temporaries do not add to their peak */
    uint32_t nn = r->n, H = 2 * r->et_height + 2;
    uint32_t *sperm = cs_mallocarray(n, 4), *tperm = cs_mallocarray(m, 4), *post = cs_mallocarray(nn ? nn : 1, 4);
    if (!sperm || !tperm || !post || (st = et_postorder(r, post)) || (st = loc_order(r, post, src, NULL, n, sperm)) ||
        (st = loc_order(r, post, dst, NULL, m, tperm))) {
        cs_free(sperm); cs_free(tperm); cs_free(post);
        if (!st) st = CS_ENOMEM;
        return st;
    }
    cs_free(post);
    for (int k = 0; k < 1 + two; k++)
        if ((st = build_buckets(r, dst, m, tperm, k, useq, o->threads, prune, &B[k]))) goto done;
    cs_free(tperm);
    tperm = NULL;
    st_list = cs_mallocarray(m, sizeof *st_list);
    if (!st_list) { st = CS_ENOMEM; goto done; }
    for (size_t j = 0; j < m; j++)
        if (dst[j].node == CS_INVALID_ID && dst[j].seg != CS_INVALID_ID) st_list[nst++] = (segtgt){dst[j].seg, (uint32_t)j};
    qsort(st_list, nst, sizeof *st_list, cmp_segtgt);
    int nt = nthreads(o->threads);
    volatile int cancel = 0;
    size_t done_rows = 0;
    /* the lane kernel needs every key below 2^61 (route times below 6.2 days); else the scalar path */
    int fast[2] = {1, 1};
    for (int k = 0; k < 1 + two; k++) {
        size_t tot = B[k].boff[B[k].nb];
        for (size_t e = 0; e < tot && fast[k]; e++) fast[k] = B[k].key[e] < LANE_LIMIT;
    }
    /* sources per block: up to 128 (each bucket is read once per block), at most ~CS_RT_BLK_MB MB of row blocks
       per thread, and at least two blocks per thread; a multiple of 8 */
    size_t BS = (size_t)(CS_RT_BLK_MB << 20) / (m * 8 * (size_t)(2 + two));
    if (BS > BS_MAX) BS = BS_MAX;
    size_t per = (n + 2 * (size_t)nt - 1) / (2 * (size_t)nt);
    if (BS > per) BS = per;
    size_t w = 8;
    while (w * 2 <= BS_MAX && w * 2 <= BS) w *= 2; /* a power of two for the fixed-width kernels */
    BS = w;
    {
        /* lane tables (union of a block's chains x BS x 8 bytes per thread) at most max(1 byte per graph
           node, 1/16 of the buckets): the width is halved while the union of a sample block (the middle one
           in postorder) exceeds that; more blocks cost more bucket scans, wider tables more memory */
        size_t bbytes = 0;
        for (int k = 0; k < 1 + two; k++) bbytes += (size_t)B[k].boff[B[k].nb] * 12;
        size_t budget = (size_t)nn > bbytes / 16 ? (size_t)nn : bbytes / 16;
        lanews tw;
        if (lw_init(&tw, nn, 0)) { st = CS_ENOMEM; goto done; }
        while (BS > 8) {
            size_t s0 = n > BS ? (n - BS) / 2 : 0, bn = n - s0 < BS ? n - s0 : BS;
            seeds sdl[BS_MAX];
            for (size_t l = 0; l < bn; l++) loc_seeds(r, &src[sperm[s0 + l]], 0, 0, &sdl[l]);
            int rc = lw_union(r, sdl, (uint32_t)bn, &tw);
            size_t U = tw.U;
            lw_reset(&tw);
            if (rc < 0) { lw_free(&tw); st = CS_ENOMEM; goto done; }
            if (U * BS * 8 <= budget) break;
            BS /= 2;
        }
        lw_free(&tw);
    }
    size_t nblocks = (n + BS - 1) / BS;
#pragma omp parallel num_threads(nt)
    {
        uint64_t *dist = cs_mallocarray(nn ? nn : 1, 8), *ex = cs_mallocarray(nn ? nn : 1, 8);
        uint32_t *on = cs_mallocarray((size_t)H * BS, 4);
        uint64_t *ok = cs_mallocarray((size_t)H * BS, 8);
        uint32_t cnt[BS_MAX];
        uint64_t *row = cs_mallocarray(m * (size_t)(1 + two) * BS, 8);
        int64_t *blk = cs_mallocarray(m * (size_t)BS, 8);
        lane_item *items = cs_mallocarray((size_t)H * BS, sizeof *items);
        lanews lw;
        int64_t *Eb = NULL;
        size_t Ecap = 0;
        int lwok = !lw_init(&lw, nn, !useq);
        int okmem = dist && ex && on && ok && row && blk && items && lwok;
        if (!okmem) {
#pragma omp atomic write
            st = CS_ENOMEM;
        }
        int dinit = 0; /* dist/ex are only touched by the scalar fallback */
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < nblocks; b++) {
            if (!okmem || cancel) continue;
            size_t i0 = b * BS, bn = n - i0 < BS ? n - i0 : BS;
            for (int k = 0; k < 1 + two; k++) {
                const buckets *BK = &B[k];
                const uint32_t *bt = B[k].tgt;
                const uint64_t *bk = B[k].key;
                int lanes = fast[k], done_lanes = 0;
                if (lanes) {
                    /* the block's searches at once over their shared ancestors, then each bucket once */
                    seeds sdl[BS_MAX];
                    for (size_t l = 0; l < bn; l++) loc_seeds(r, &src[sperm[i0 + l]], 0, k, &sdl[l]);
                    rt_arcs A = useq ? arcs_query(r, 0) : arcs_full(r, k, 0);
                    rt_arcs S = useq ? arcs_query(r, 1) : arcs_full(r, k, 1);
                    int rc = lw_run(r, &A, sdl, (uint32_t)bn, (uint32_t)BS, &lw, NULL);
                    if (rc == 0 && prune) rc = lw_prune(r, &S, &lw, &Eb, &Ecap);
                    if (rc < 0) {
#pragma omp atomic write
                        st = CS_ENOMEM;
                        cancel = 1;
                    } else if (rc == 0) {
                        for (size_t j = 0; j < m * BS; j++) blk[j] = LANE_INF;
                        uint32_t bpos = 0; /* union ranks increase: merge with the sorted bucket ranks */
                        for (uint32_t i = 0; i < lw.U; i++) {
                            uint32_t v = lw.un[i];
                            while (bpos < BK->nb && BK->bnode[bpos] < v) bpos++;
                            if (bpos == BK->nb || BK->bnode[bpos] != v) continue;
                            size_t eb = BK->boff[bpos], ee = BK->boff[bpos + 1];
                            uint64_t m0 = lw.mk[2 * (size_t)i], m1 = lw.mk[2 * (size_t)i + 1];
                            int pc = __builtin_popcountll(m0) + __builtin_popcountll(m1);
                            const int64_t *F = lw.D + (size_t)i * BS;
                            if (pc >= 6) lanes_min(blk, bt, bk, eb, ee, F, BS);
                            else
                                for (int q = 0; q < 2; q++)
                                    for (uint64_t mm = q ? m1 : m0; mm; mm &= mm - 1) {
                                        size_t l = (size_t)__builtin_ctzll(mm) + 64 * (size_t)q;
                                        int64_t f = F[l];
                                        for (size_t e = eb; e < ee; e++) {
                                            int64_t x = f + (int64_t)bk[e];
                                            int64_t *c = &blk[(size_t)bt[e] * BS + l];
                                            if (x < *c) *c = x;
                                        }
                                    }
                        }
                        for (size_t l = 0; l < bn; l++) {
                            uint64_t *rw = row + (l * (size_t)(1 + two) + (size_t)k) * m;
                            for (size_t j = 0; j < m; j++) {
                                int64_t x = blk[j * BS + l];
                                rw[j] = x >= LANE_INF ? RT_INF : (uint64_t)x;
                            }
                        }
                        done_lanes = 1;
                    }
                    lw_reset(&lw);
                }
                if (!done_lanes && !dinit) { for (uint32_t i = 0; i < nn; i++) dist[i] = ex[i] = RT_INF; dinit = 1; }
                for (size_t l = 0; l < bn && !done_lanes; l++) {
                    seeds sd;
                    loc_seeds(r, &src[sperm[i0 + l]], 0, k, &sd);
                    rt_arcs A = useq ? arcs_query(r, 0) : arcs_full(r, k, 0);
                    rt_arcs S = useq ? arcs_query(r, 1) : arcs_full(r, k, 1);
                    cnt[l] = walk(r, &A, &S, &sd, dist, ex, on + l * H, ok + l * H, prune);
                    for (uint32_t q = 0; q < cnt[l] && lanes; q++) lanes = ok[l * H + q] < LANE_LIMIT;
                }
                if (done_lanes) {
                } else if (lanes) {
                    /* all sources of the block at once: each bucket is read once, BS rows updated per entry */
                    for (size_t j = 0; j < m * BS; j++) blk[j] = LANE_INF;
                    size_t ni = 0;
                    for (size_t l = 0; l < bn; l++)
                        for (uint32_t q = 0; q < cnt[l]; q++)
                            items[ni++] = (lane_item){on[l * H + q], (uint32_t)l, ok[l * H + q]};
                    qsort(items, ni, sizeof *items, cmp_lane_item);
                    int64_t F[BS_MAX];
                    for (size_t g = 0; g < ni;) {
                        size_t h = g;
                        while (h < ni && items[h].v == items[g].v) h++;
                        size_t eb, ee;
                        bk_range(BK, items[g].v, &eb, &ee);
                        if (h - g >= 6) {
                            for (size_t l = 0; l < BS; l++) F[l] = LANE_INF;
                            for (size_t q = g; q < h; q++) F[items[q].lane] = (int64_t)items[q].f;
                            lanes_min(blk, bt, bk, eb, ee, F, BS);
                        } else {
                            for (size_t q = g; q < h; q++) {
                                int64_t f = (int64_t)items[q].f;
                                uint32_t l = items[q].lane;
                                for (size_t e = eb; e < ee; e++) {
                                    int64_t x = f + (int64_t)bk[e];
                                    int64_t *c = &blk[(size_t)bt[e] * BS + l];
                                    if (x < *c) *c = x;
                                }
                            }
                        }
                        g = h;
                    }
                    for (size_t l = 0; l < bn; l++) {
                        uint64_t *rw = row + (l * (size_t)(1 + two) + (size_t)k) * m;
                        for (size_t j = 0; j < m; j++) {
                            int64_t x = blk[j * BS + l];
                            rw[j] = x >= LANE_INF ? RT_INF : (uint64_t)x;
                        }
                    }
                } else {
                    for (size_t l = 0; l < bn; l++) {
                        uint64_t *rw = row + (l * (size_t)(1 + two) + (size_t)k) * m;
                        for (size_t j = 0; j < m; j++) rw[j] = RT_INF;
                        for (uint32_t q = 0; q < cnt[l]; q++) {
                            uint64_t f = ok[l * H + q];
                            size_t eb, ee;
                            bk_range(BK, on[l * H + q], &eb, &ee);
                            for (size_t e = eb; e < ee; e++) {
                                uint64_t x = f + bk[e];
                                if (x < f) x = RT_INF;
                                if (x < rw[bt[e]]) rw[bt[e]] = x;
                            }
                        }
                    }
                }
                for (size_t l = 0; l < bn; l++) {
                    size_t i = sperm[i0 + l];
                    uint64_t *rw = row + (l * (size_t)(1 + two) + (size_t)k) * m;
                    if (src[i].node == CS_INVALID_ID && src[i].seg != CS_INVALID_ID && nst) {
                        /* targets on the same segment */
                        size_t lo = 0, hi = nst;
                        while (lo < hi) {
                            size_t mid = (lo + hi) / 2;
                            if (st_list[mid].seg < src[i].seg) lo = mid + 1;
                            else hi = mid;
                        }
                        for (size_t t = lo; t < nst && st_list[t].seg == src[i].seg; t++) {
                            uint64_t d = same_seg(r, &src[i], &dst[st_list[t].j], k);
                            if (d < rw[st_list[t].j]) rw[st_list[t].j] = d;
                        }
                    }
                }
            }
            for (size_t l = 0; l < bn; l++) {
                const uint64_t *r0 = row + l * (size_t)(1 + two) * m, *r1 = r0 + m;
                size_t base = (size_t)sperm[i0 + l] * out->stride + out->col0;
                for (size_t j = 0; j < m; j++) {
                    uint64_t kk = r0[j];
                    int unr = kk == RT_INF;
                    int nr = two && !unr && kk < r1[j];
                    uint64_t t = unr ? RT_INF : kk >> 32, len = unr ? RT_INF : kk & 0xffffffffu;
                    if (out->time_ms) out->time_ms[base + j] = t;
                    if (out->len_cm) out->len_cm[base + j] = len;
                    if (out->nonroad) out->nonroad[base + j] = (uint8_t)nr;
                    uint8_t fl = (uint8_t)((unr ? CS_CELL_UNREACHABLE : 0) | (nr ? CS_CELL_NONROAD : 0));
                    if (out->time_s) out->time_s[base + j] = unr ? INFINITY : (double)t / 1000.0;
                    if (out->dist_m) out->dist_m[base + j] = unr ? INFINITY : (double)len / 100.0;
                    if (out->tflags) out->tflags[base + j] = fl;
                    if (out->dflags) out->dflags[base + j] = fl;
                }
            }
            if (progress.fn && omp_get_thread_num() == 0) {
                size_t dr;
#pragma omp atomic read
                dr = done_rows;
                if (progress.fn(progress.user, "matrix", (double)(out->done0 + dr), (double)out->total)) cancel = 1;
            }
#pragma omp atomic update
            done_rows += bn;
        }
        cs_free(dist); cs_free(ex); cs_free(on); cs_free(ok); cs_free(row); cs_free(blk); cs_free(items);
        lw_free(&lw);
        cs_free(Eb);
    }
    if (!st && cancel) st = cs_error_set(CS_ECANCELED, "matrix cancelled");
done:
    cs_free(sperm);
    cs_free(tperm);
    buckets_free(&B[0]);
    buckets_free(&B[1]);
    cs_free(st_list);
    return st;
}

/*
 * Targets in column slices whose buckets stay under o->bucket_bytes_max (0 = one slice): the bucket
 * entries of a target are at most its ancestors (one or two chains), so the width of a slice is the budget
 * over 12 bytes x the mean chain length of a sample of targets (an upper bound of its entries). Every
 * slice repeats the source searches; the cells do not depend on the slicing.
 */
static cs_status m2m_sliced(const cs_router *r, const cs_location *src, size_t n, const cs_location *dst, size_t m,
                            const cs_matrix_opts *o, cs_progress progress, sinks *out)
{
    cs_status st;
    if ((st = validate(r, src, n, "source")) || (st = validate(r, dst, m, "target"))) return st;
    size_t w = m;
    if (o->bucket_bytes_max && m > 1) {
        size_t step = m / 64 ? m / 64 : 1, cnt = 0;
        uint64_t len = 0;
        for (size_t j = 0; j < m; j += step, cnt++) {
            seeds sd;
            loc_seeds(r, &dst[j], 1, 0, &sd);
            for (int q = 0; q < sd.k; q++)
                for (uint32_t x = r->rank[sd.node[q]]; x != CS_INVALID_ID; x = r->parent[x]) len++;
        }
        double per = (double)len / (double)cnt * 12.0 * (r->has_nonroad && o->nonroad_flags ? 2 : 1);
        double ww = per > 0 ? (double)o->bucket_bytes_max / per : (double)m;
        w = ww >= (double)m ? m : ww < 1 ? 1 : (size_t)ww;
    }
    out->total = n * ((m + w - 1) / w);
    for (size_t j0 = 0; j0 < m || j0 == 0; j0 += w) {
        size_t k = m - j0 < w ? m - j0 : w;
        out->col0 = j0;
        out->stride = m;
        out->done0 = n * (j0 / w);
        if ((st = m2m(r, src, n, dst + j0, k, o, progress, out))) return st;
        if (!m) break;
    }
    return CS_OK;
}

cs_status cs_router_matrix_raw(const cs_router *r, const cs_location *src, size_t n, const cs_location *dst,
                               size_t m, const cs_matrix_opts *opts, uint64_t *time_ms, uint64_t *len_cm,
                               uint8_t *nonroad)
{
    cs_matrix_opts def;
    if (!opts) { cs_matrix_opts_default(&def); opts = &def; }
    sinks s = {time_ms, len_cm, nonroad, NULL, NULL, NULL, NULL, m, 0, 0, n};
    if (nonroad && !(r->has_nonroad && opts->nonroad_flags)) memset(nonroad, 0, n * m);
    cs_progress none = {0};
    return m2m_sliced(r, src, n, dst, m, opts, none, &s);
}

cs_status cs_router_matrix(const cs_router *r, const cs_location *src, size_t n, const cs_location *dst, size_t m,
                           const cs_matrix_opts *opts, cs_progress progress, cs_matrix **time, cs_matrix **dist)
{
    cs_matrix_opts def;
    if (!opts) { cs_matrix_opts_default(&def); opts = &def; }
    cs_matrix *T = NULL, *D = NULL;
    cs_status st = CS_OK;
    if (time) *time = NULL;
    if (dist) *dist = NULL;
    if (time && ((st = cs_matrix_new(n, m, CS_MATRIX_TIME, &T)) || (st = cs_matrix_ensure_flags(T)) ||
                 (st = cs_matrix_set_ids(T, opts->src_ids, opts->dst_ids))))
        goto fail;
    if (dist && ((st = cs_matrix_new(n, m, CS_MATRIX_DISTANCE, &D)) || (st = cs_matrix_ensure_flags(D)) ||
                 (st = cs_matrix_set_ids(D, opts->src_ids, opts->dst_ids))))
        goto fail;
    sinks s = {NULL, NULL, NULL, T ? T->v : NULL, D ? D->v : NULL, T ? T->flags : NULL, D ? D->flags : NULL,
               m, 0, 0, n};
    if ((st = m2m_sliced(r, src, n, dst, m, opts, progress, &s))) goto fail;
    if (T) memcpy(T->fingerprint, r->fingerprint, 65);
    if (D) memcpy(D->fingerprint, r->fingerprint, 65);
    if (time) *time = T;
    if (dist) *dist = D;
    return CS_OK;
fail:
    cs_matrix_free(T);
    cs_matrix_free(D);
    return st;
}

/* ---- matrix sessions: re-answer after cs_router_apply ---- */

typedef struct {
    uint32_t *node; /* reached ranks, increasing */
    uint64_t *key;
    uint32_t n;
} sspace;

struct cs_matrix_session {
    const cs_router *r;
    uint64_t gen;
    size_t n, m;
    cs_location *src, *dst;
    cs_matrix_opts opts;
    char **src_ids, **dst_ids;
    int two;              /* second (road-only) metric */
    sspace *ss[2], *ts[2]; /* per metric: source and target search spaces (unpruned) */
    uint64_t *cell[2];    /* per metric: n*m keys */
    size_t rows_done, cols_done;
};

static void ss_free(sspace *s) { cs_free(s->node); cs_free(s->key); s->node = NULL; s->key = NULL; s->n = 0; }

/* Search from location l (dir 0 source, 1 target) on metric k into s (replacing it). */
static cs_status ss_compute(const cs_router *r, const cs_location *l, int dir, int k, uint64_t *dist, uint64_t *ex,
                            uint32_t *on, uint64_t *ok, sspace *s)
{
    seeds sd;
    loc_seeds(r, l, dir, k, &sd);
    rt_arcs A = arcs_full(r, k, dir), S = arcs_full(r, k, 1 - dir);
    uint32_t c = walk(r, &A, &S, &sd, dist, ex, on, ok, 0);
    ss_free(s);
    s->node = cs_mallocarray(c ? c : 1, 4);
    s->key = cs_mallocarray(c ? c : 1, 8);
    if (!s->node || !s->key) { ss_free(s); return CS_ENOMEM; }
    memcpy(s->node, on, (size_t)c * 4);
    memcpy(s->key, ok, (size_t)c * 8);
    s->n = c;
    return CS_OK;
}

/* Buckets from stored target search spaces; only targets with sel[j] (NULL = all). */
static cs_status ss_buckets(const cs_router *r, const sspace *ts, size_t m, const uint8_t *sel, buckets *B)
{
    memset(B, 0, sizeof *B);
    B->first = cs_calloc((size_t)r->n + 2, sizeof *B->first);
    if (!B->first) return CS_ENOMEM;
    size_t tot = 0;
    for (size_t j = 0; j < m; j++)
        if (!sel || sel[j]) {
            tot += ts[j].n;
            for (uint32_t e = 0; e < ts[j].n; e++) B->first[ts[j].node[e] + 2]++;
        }
    if (tot >= UINT32_MAX) { buckets_free(B); return cs_error_set(CS_EUNSUPPORTED, "more than 2^32 bucket entries"); }
    for (uint32_t v = 0; v < r->n; v++) B->first[v + 2] += B->first[v + 1];
    B->tgt = cs_mallocarray(tot ? tot : 1, 4);
    B->key = cs_mallocarray(tot ? tot : 1, 8);
    if (!B->tgt || !B->key) { buckets_free(B); return CS_ENOMEM; }
    for (size_t j = 0; j < m; j++)
        if (!sel || sel[j])
            for (uint32_t e = 0; e < ts[j].n; e++) {
                uint32_t p = B->first[ts[j].node[e] + 1]++;
                B->tgt[p] = (uint32_t)j;
                B->key[p] = ts[j].key[e];
            }
    return CS_OK;
}

/* Row i of metric k: cells of the targets in B (all, or the selected ones) from the stored source space. */
static void ss_row(const cs_matrix_session *S, int k, size_t i, const buckets *B, const uint8_t *sel)
{
    const cs_router *r = S->r;
    uint64_t *row = S->cell[k] + i * S->m;
    for (size_t j = 0; j < S->m; j++)
        if (!sel || sel[j]) row[j] = RT_INF;
    const sspace *s = &S->ss[k][i];
    for (uint32_t q = 0; q < s->n; q++) {
        uint64_t f = s->key[q];
        for (size_t e = B->first[s->node[q]]; e < B->first[s->node[q] + 1]; e++) {
            uint64_t x = f + B->key[e];
            if (x < f) x = RT_INF;
            if (x < row[B->tgt[e]]) row[B->tgt[e]] = x;
        }
    }
    const cs_location *a = &S->src[i];
    if (a->node == CS_INVALID_ID && a->seg != CS_INVALID_ID)
        for (size_t j = 0; j < S->m; j++) {
            const cs_location *b = &S->dst[j];
            if ((sel && !sel[j]) || b->node != CS_INVALID_ID || b->seg != a->seg) continue;
            uint64_t d = same_seg(r, a, b, k);
            if (d < row[j]) row[j] = d;
        }
}

/* Is the stored search space affected by the logged arc changes of metric k? dir 0: up weights. */
static int ss_affected(const cs_router *r, const sspace *s, int dir, int k, const size_t *lfirst, const uint32_t *lidx,
                       uint64_t *dense)
{
    for (uint32_t q = 0; q < s->n; q++) dense[s->node[q]] = s->key[q];
    const uint64_t *cur = dir == 0 ? (k ? r->r_up : r->w_up) : (k ? r->r_dn : r->w_dn);
    const uint64_t *old = dir == 0 ? r->log_up[k] : r->log_dn[k];
    int hit = 0;
    for (uint32_t q = 0; q < s->n && !hit; q++) {
        uint32_t x = s->node[q];
        for (size_t t = lfirst[x]; t < lfirst[x + 1]; t++) {
            uint32_t li = lidx[t], e = r->log_arc[k][li], y = r->up_head[e];
            uint64_t fx = dense[x], fy = dense[y];
            uint64_t nw = rt_add(fx, cur[e]), ow = rt_add(fx, old[li]);
            if (nw < fy || (ow == fy && nw != ow)) { hit = 1; break; }
        }
    }
    for (uint32_t q = 0; q < s->n; q++) dense[s->node[q]] = RT_INF;
    return hit;
}

static cs_status session_full(cs_matrix_session *S);

void cs_matrix_session_free(cs_matrix_session *S)
{
    if (!S) return;
    for (int k = 0; k < 2; k++) {
        if (S->ss[k]) for (size_t i = 0; i < S->n; i++) ss_free(&S->ss[k][i]);
        if (S->ts[k]) for (size_t j = 0; j < S->m; j++) ss_free(&S->ts[k][j]);
        cs_free(S->ss[k]); cs_free(S->ts[k]); cs_free(S->cell[k]);
    }
    if (S->src_ids) for (size_t i = 0; i < S->n; i++) cs_free(S->src_ids[i]);
    if (S->dst_ids) for (size_t j = 0; j < S->m; j++) cs_free(S->dst_ids[j]);
    cs_free(S->src_ids); cs_free(S->dst_ids);
    cs_free(S->src); cs_free(S->dst);
    cs_free(S);
}

/* Recompute rows (selrow) fully and, for the other rows, the selected columns (selcol). */
static cs_status session_rows(cs_matrix_session *S, int k, const uint8_t *selrow, const uint8_t *selcol)
{
    buckets all, part;
    memset(&part, 0, sizeof part);
    cs_status st = ss_buckets(S->r, S->ts[k], S->m, NULL, &all);
    if (st) return st;
    int anycol = 0;
    if (selcol)
        for (size_t j = 0; j < S->m && !anycol; j++) anycol = selcol[j];
    if (anycol && (st = ss_buckets(S->r, S->ts[k], S->m, selcol, &part))) { buckets_free(&all); return st; }
    int nt = nthreads(S->opts.threads);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 8)
    for (size_t i = 0; i < S->n; i++) {
        if (!selrow || selrow[i]) ss_row(S, k, i, &all, NULL);
        else if (anycol) ss_row(S, k, i, &part, selcol);
    }
    buckets_free(&all);
    buckets_free(&part);
    return CS_OK;
}

/* (Re)compute the search spaces selected (NULL = all) for metric k. */
static int on_changed_seg(const cs_router *r, const cs_location *l, const uint8_t *segmark);

/* (Re)compute the search spaces selected (NULL = all) for metric k. With lfirst (the changed arcs of the
   last apply grouped by lower node) and segmark, the selected searches restart from their stored values
   below their first node with a changed arc (values there depend only on unchanged arcs). */
static cs_status session_spaces(cs_matrix_session *S, int k, const uint8_t *selrow, const uint8_t *selcol,
                                const size_t *lfirst, const uint8_t *segmark)
{
    const cs_router *r = S->r;
    uint32_t nn = r->n, H = 2 * r->et_height + 2;
    int nt = nthreads(S->opts.threads);
    cs_status st = CS_OK;
    enum { LB = 32 };
    /* the selected sources and targets, each in elimination-tree postorder, searched in lane blocks */
    uint32_t *idx[2] = {cs_mallocarray(S->n ? S->n : 1, 4), cs_mallocarray(S->m ? S->m : 1, 4)};
    uint32_t *perm[2] = {cs_mallocarray(S->n ? S->n : 1, 4), cs_mallocarray(S->m ? S->m : 1, 4)};
    uint32_t *post = cs_mallocarray(nn ? nn : 1, 4);
    size_t cnt[2] = {0, 0};
    if (!idx[0] || !idx[1] || !perm[0] || !perm[1] || !post) { st = CS_ENOMEM; goto out; }
    for (size_t i = 0; i < S->n; i++)
        if (!selrow || selrow[i]) idx[0][cnt[0]++] = (uint32_t)i;
    for (size_t j = 0; j < S->m; j++)
        if (!selcol || selcol[j]) idx[1][cnt[1]++] = (uint32_t)j;
    if ((st = et_postorder(r, post)) || (st = loc_order(r, post, S->src, idx[0], cnt[0], perm[0])) ||
        (st = loc_order(r, post, S->dst, idx[1], cnt[1], perm[1])))
        goto out;
    size_t nb0 = (cnt[0] + LB - 1) / LB, nb = nb0 + (cnt[1] + LB - 1) / LB;
#pragma omp parallel num_threads(nt)
    {
        uint64_t *dist = cs_mallocarray(nn ? nn : 1, 8), *ex = cs_mallocarray(nn ? nn : 1, 8);
        uint32_t *on = cs_mallocarray(H, 4);
        uint64_t *ok = cs_mallocarray(H, 8);
        lanews lw;
        int lwok = !lw_init(&lw, nn, 1);
        int okm = dist && ex && on && ok && lwok;
        if (!okm) {
#pragma omp atomic write
            st = CS_ENOMEM;
        }
        int dinit = 0; /* dist/ex are only touched by the scalar fallback */
#pragma omp for schedule(dynamic, 1)
        for (size_t q = 0; q < nb; q++) {
            if (!okm) continue;
            int dir = q >= nb0;
            size_t q0 = (dir ? q - nb0 : q) * LB, bn = cnt[dir] - q0 < LB ? cnt[dir] - q0 : LB;
            const cs_location *locs = dir ? S->dst : S->src;
            sspace *sp = dir ? S->ts[k] : S->ss[k];
            seeds sd[LB];
            for (size_t l = 0; l < bn; l++) loc_seeds(r, &locs[perm[dir][q0 + l]], dir, k, &sd[l]);
            rt_arcs W = arcs_full(r, k, dir);
            uint32_t t0[LB], ocnt[LB];
            const uint32_t *onode[LB];
            const uint64_t *okey[LB];
            lw_restart rs = {t0, ocnt, onode, okey};
            for (size_t l = 0; l < bn && lfirst; l++) {
                const sspace *o = &sp[perm[dir][q0 + l]];
                onode[l] = o->node;
                okey[l] = o->key;
                ocnt[l] = o->n;
                t0[l] = r->n;
                if (on_changed_seg(r, &locs[perm[dir][q0 + l]], segmark)) t0[l] = 0;
                else
                    for (uint32_t e = 0; e < o->n; e++)
                        if (lfirst[o->node[e]] != lfirst[o->node[e] + 1]) { t0[l] = o->node[e]; break; }
            }
            int rc = lw_run(r, &W, sd, (uint32_t)bn, LB, &lw, lfirst ? &rs : NULL);
            for (size_t l = 0; l < bn && rc >= 0; l++) {
                uint32_t i = perm[dir][q0 + l];
                cs_status s2 = CS_OK;
                if (rc == 0) {
                    uint32_t c = 0;
                    uint64_t bit = UINT64_C(1) << (l % 64);
                    for (uint32_t u = 0; u < lw.U; u++)
                        if (lw.mk[2 * (size_t)u + l / 64] & bit) {
                            on[c] = lw.un[u];
                            ok[c++] = (uint64_t)lw.D[(size_t)u * LB + l];
                        }
                    ss_free(&sp[i]);
                    sp[i].node = cs_mallocarray(c ? c : 1, 4);
                    sp[i].key = cs_mallocarray(c ? c : 1, 8);
                    if (!sp[i].node || !sp[i].key) { ss_free(&sp[i]); s2 = CS_ENOMEM; }
                    else {
                        memcpy(sp[i].node, on, (size_t)c * 4);
                        memcpy(sp[i].key, ok, (size_t)c * 8);
                        sp[i].n = c;
                    }
                } else {
                    if (!dinit) { for (uint32_t v = 0; v < nn; v++) dist[v] = ex[v] = RT_INF; dinit = 1; }
                    s2 = ss_compute(r, &locs[i], dir, k, dist, ex, on, ok, &sp[i]);
                }
                if (s2) {
#pragma omp atomic write
                    st = s2;
                }
            }
            if (rc < 0) {
#pragma omp atomic write
                st = CS_ENOMEM;
            }
            lw_reset(&lw);
        }
        cs_free(dist); cs_free(ex); cs_free(on); cs_free(ok);
        lw_free(&lw);
    }
out:
    cs_free(idx[0]); cs_free(idx[1]); cs_free(perm[0]); cs_free(perm[1]); cs_free(post);
    return st;
}

static cs_status session_full(cs_matrix_session *S)
{
    S->two = S->r->has_nonroad && S->opts.nonroad_flags;
    for (int k = 0; k < 1 + S->two; k++) {
        if (!S->ss[k]) {
            S->ss[k] = cs_calloc(S->n ? S->n : 1, sizeof(sspace));
            S->ts[k] = cs_calloc(S->m ? S->m : 1, sizeof(sspace));
            S->cell[k] = cs_mallocarray(S->n && S->m ? S->n * S->m : 1, 8);
            if (!S->ss[k] || !S->ts[k] || !S->cell[k]) return CS_ENOMEM;
        }
        cs_status st;
        if ((st = session_spaces(S, k, NULL, NULL, NULL, NULL)) || (st = session_rows(S, k, NULL, NULL))) return st;
    }
    S->rows_done = S->n;
    S->cols_done = S->m;
    S->gen = S->r->gen;
    return CS_OK;
}

cs_status cs_matrix_session_new(const cs_router *r, const cs_location *src, size_t n, const cs_location *dst,
                                size_t m, const cs_matrix_opts *opts, cs_matrix_session **out)
{
    *out = NULL;
    cs_status st;
    if ((st = validate(r, src, n, "source")) || (st = validate(r, dst, m, "target"))) return st;
    cs_matrix_session *S = cs_calloc(1, sizeof *S);
    if (!S) return CS_ENOMEM;
    S->r = r;
    S->n = n;
    S->m = m;
    if (opts) S->opts = *opts;
    else cs_matrix_opts_default(&S->opts);
    S->src = cs_mallocarray(n ? n : 1, sizeof *src);
    S->dst = cs_mallocarray(m ? m : 1, sizeof *dst);
    if (!S->src || !S->dst) { cs_matrix_session_free(S); return CS_ENOMEM; }
    if (n) memcpy(S->src, src, n * sizeof *src);
    if (m) memcpy(S->dst, dst, m * sizeof *dst);
    if (S->opts.src_ids || S->opts.dst_ids) {
        S->src_ids = cs_calloc(n ? n : 1, sizeof(char *));
        S->dst_ids = cs_calloc(m ? m : 1, sizeof(char *));
        if (!S->src_ids || !S->dst_ids) { cs_matrix_session_free(S); return CS_ENOMEM; }
        for (size_t i = 0; i < n; i++)
            if (!(S->src_ids[i] = S->opts.src_ids ? cs_strdup(S->opts.src_ids[i]) : cs_asprintf("%zu", i))) {
                cs_matrix_session_free(S);
                return CS_ENOMEM;
            }
        for (size_t j = 0; j < m; j++)
            if (!(S->dst_ids[j] = S->opts.dst_ids ? cs_strdup(S->opts.dst_ids[j]) : cs_asprintf("%zu", j))) {
                cs_matrix_session_free(S);
                return CS_ENOMEM;
            }
    }
    S->opts.src_ids = S->opts.dst_ids = NULL;
    if ((st = session_full(S))) { cs_matrix_session_free(S); return st; }
    *out = S;
    return CS_OK;
}

static int on_changed_seg(const cs_router *r, const cs_location *l, const uint8_t *segmark)
{
    return l->node == CS_INVALID_ID && l->seg != CS_INVALID_ID && l->seg < r->nseg && segmark[l->seg];
}

/*
 * Search from rank x0 on the metric before the last apply (dir 0 forward with upward weights, 1 backward
 * with downward weights), valid when that apply only raised weights: the current weights plus each
 * logged arc at its old weight (min(new, old) = old). dense (n entries, RT_INF) receives the distances;
 * the visited ranks are written to vis (et_height entries) and their count returned.
 */
static uint32_t walk_old(const cs_router *r, int k, int dir, uint32_t x0, const size_t *lfirst, const uint32_t *lidx,
                         uint64_t *dense, uint32_t *vis)
{
    const uint64_t *W = dir == 0 ? (k ? r->r_up : r->w_up) : (k ? r->r_dn : r->w_dn);
    const uint64_t *O = dir == 0 ? r->log_up[k] : r->log_dn[k];
    const uint32_t *fu = r->first_up, *hd = r->up_head;
    uint32_t c = 0;
    dense[x0] = 0;
    for (uint32_t x = x0; x != CS_INVALID_ID; x = r->parent[x]) {
        vis[c++] = x;
        uint64_t d = dense[x];
        if (d == RT_INF) continue;
        for (uint32_t e = fu[x]; e < fu[x + 1]; e++) {
            uint64_t nk = rt_add(d, W[e]);
            if (nk < dense[hd[e]]) dense[hd[e]] = nk;
        }
        for (size_t t = lfirst[x]; t < lfirst[x + 1]; t++) {
            uint32_t li = lidx[t], e = r->log_arc[k][li];
            uint64_t nk = rt_add(d, O[li]);
            if (nk < dense[hd[e]]) dense[hd[e]] = nk;
        }
    }
    return c;
}

/* Distance through the meeting nodes of a stored search space and a dense opposite search. */
static uint64_t ss_meet(const sspace *s, const uint64_t *dense)
{
    uint64_t best = RT_INF;
    for (uint32_t q = 0; q < s->n; q++) {
        uint64_t d = dense[s->node[q]];
        if (d == RT_INF) continue;
        uint64_t x = rt_add(s->key[q], d);
        if (x < best) best = x;
    }
    return best;
}

/*
 * Cell-level change test of metric k after an apply that only raised weights (closures, slower times):
 * a cell can change only if one of its optimal routes used a changed segment u-v, i.e. its old value
 * equals d(s,u) + old(u->v) + d(v,t) or d(s,v) + old(v->u) + d(u,t) with the old distances (found by
 * meeting the stored, still old, search spaces with old-metric searches from u and v). Any other cell
 * keeps an optimal route whose weight did not change, and no route got shorter. Marks the cells to
 * recompute in bits (row-major); rows and columns of points on a changed segment are marked whole.
 */
static cs_status cell_marks(cs_matrix_session *S, int k, const size_t *lfirst, const uint32_t *lidx,
                            const uint8_t *segmark, uint64_t *bits)
{
    const cs_router *r = S->r;
    size_t n = S->n, m = S->m;
    uint64_t *A[2] = {cs_mallocarray(n ? n : 1, 8), cs_mallocarray(n ? n : 1, 8)}; /* d(s_i, u), d(s_i, v) */
    uint64_t *Z[2] = {cs_mallocarray(m ? m : 1, 8), cs_mallocarray(m ? m : 1, 8)}; /* d(u, t_j), d(v, t_j) */
    uint64_t *dense = cs_mallocarray(r->n ? r->n : 1, 8);
    uint32_t *vis = cs_mallocarray(r->et_height + 1, 4);
    cs_status st = CS_OK;
    if (!A[0] || !A[1] || !Z[0] || !Z[1] || !dense || !vis) { st = CS_ENOMEM; goto out; }
    for (uint32_t v = 0; v < r->n; v++) dense[v] = RT_INF;
    int nt = nthreads(S->opts.threads);
    int big = (uint64_t)n * m >= (UINT64_C(1) << 19); /* small matrices: a parallel region costs more */
    for (size_t q = 0; q < r->log_nseg; q++) {
        uint32_t sg = r->log_seg[q];
        if (sg >= r->nseg || r->seg_u[sg] == r->seg_v[sg] || (k && rt_nonroad_mode(r->seg_mode[sg]))) continue;
        uint64_t kf = r->log_old_fwd[q] == CS_NO_TIME ? RT_INF : rt_key(r->log_old_fwd[q], r->seg_len[sg]);
        uint64_t kb = r->log_old_bwd[q] == CS_NO_TIME ? RT_INF : rt_key(r->log_old_bwd[q], r->seg_len[sg]);
        if (kf == RT_INF && kb == RT_INF) continue;
        uint32_t end[2] = {r->rank[r->seg_u[sg]], r->rank[r->seg_v[sg]]};
        for (int x = 0; x < 2; x++) {
            uint32_t c = walk_old(r, k, 1, end[x], lfirst, lidx, dense, vis);
#pragma omp parallel for num_threads(nt) schedule(static) if (big)
            for (size_t i = 0; i < n; i++) A[x][i] = ss_meet(&S->ss[k][i], dense);
            for (uint32_t t = 0; t < c; t++) dense[vis[t]] = RT_INF;
            c = walk_old(r, k, 0, end[x], lfirst, lidx, dense, vis);
#pragma omp parallel for num_threads(nt) schedule(static) if (big)
            for (size_t j = 0; j < m; j++) Z[x][j] = ss_meet(&S->ts[k][j], dense);
            for (uint32_t t = 0; t < c; t++) dense[vis[t]] = RT_INF;
        }
        /* rows in 64-cell words so that no two threads write the same word */
#pragma omp parallel for num_threads(nt) schedule(dynamic, 16) if (big)
        for (size_t i = 0; i < n; i++) {
            const uint64_t *row = S->cell[k] + i * m;
            uint64_t f = rt_add(A[0][i], kf), b = rt_add(A[1][i], kb);
            if (f == RT_INF && b == RT_INF) continue;
            for (size_t j = 0; j < m; j++) {
                uint64_t c = row[j];
                if (c == RT_INF) continue;
                if ((f != RT_INF && rt_add(f, Z[1][j]) == c) || (b != RT_INF && rt_add(b, Z[0][j]) == c)) {
                    size_t bit = i * m + j;
#pragma omp atomic update
                    bits[bit / 64] |= UINT64_C(1) << (bit % 64);
                }
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (on_changed_seg(r, &S->src[i], segmark))
            for (size_t j = 0; j < m; j++) bits[(i * m + j) / 64] |= UINT64_C(1) << ((i * m + j) % 64);
    for (size_t j = 0; j < m; j++)
        if (on_changed_seg(r, &S->dst[j], segmark))
            for (size_t i = 0; i < n; i++) bits[(i * m + j) / 64] |= UINT64_C(1) << ((i * m + j) % 64);
out:
    cs_free(A[0]); cs_free(A[1]); cs_free(Z[0]); cs_free(Z[1]); cs_free(dense); cs_free(vis);
    return st;
}

/* Recompute the marked cells of metric k from the (updated) stored search spaces. */
static cs_status cells_recompute(cs_matrix_session *S, int k, const uint64_t *bits, size_t *rows, size_t *cols)
{
    const cs_router *r = S->r;
    size_t n = S->n, m = S->m;
    int nt = nthreads(S->opts.threads);
    cs_status st = CS_OK;
    uint8_t *colhit = cs_calloc(m ? m : 1, 1);
    if (!colhit) return CS_ENOMEM;
    size_t nrows = 0;
    int big = (uint64_t)n * m >= (UINT64_C(1) << 19);
#pragma omp parallel num_threads(nt) reduction(+ : nrows) if (big)
    {
        uint64_t *dense = cs_mallocarray(r->n ? r->n : 1, 8);
        if (!dense) {
#pragma omp atomic write
            st = CS_ENOMEM;
        } else
            for (uint32_t v = 0; v < r->n; v++) dense[v] = RT_INF;
#pragma omp for schedule(dynamic, 4)
        for (size_t i = 0; i < n; i++) {
            if (!dense) continue;
            int any = 0;
            for (size_t j = 0; j < m && !any; j++) any = (bits[(i * m + j) / 64] >> ((i * m + j) % 64)) & 1;
            if (!any) continue;
            nrows++;
            const sspace *si = &S->ss[k][i];
            for (uint32_t q = 0; q < si->n; q++) dense[si->node[q]] = si->key[q];
            const cs_location *a = &S->src[i];
            for (size_t j = 0; j < m; j++) {
                if (!((bits[(i * m + j) / 64] >> ((i * m + j) % 64)) & 1)) continue;
#pragma omp atomic write
                colhit[j] = 1;
                uint64_t v = ss_meet(&S->ts[k][j], dense);
                const cs_location *b = &S->dst[j];
                if (a->node == CS_INVALID_ID && a->seg != CS_INVALID_ID && b->node == CS_INVALID_ID && b->seg == a->seg) {
                    uint64_t d = same_seg(r, a, b, k);
                    if (d < v) v = d;
                }
                S->cell[k][i * m + j] = v;
            }
            for (uint32_t q = 0; q < si->n; q++) dense[si->node[q]] = RT_INF;
        }
        cs_free(dense);
    }
    size_t nc = 0;
    for (size_t j = 0; j < m; j++) nc += colhit[j];
    cs_free(colhit);
    if (*rows < nrows) *rows = nrows;
    if (*cols < nc) *cols = nc;
    return st;
}

cs_status cs_matrix_session_update(cs_matrix_session *S)
{
    const cs_router *r = S->r;
    if (S->gen == r->gen) { S->rows_done = S->cols_done = 0; return CS_OK; }
    int two = r->has_nonroad && S->opts.nonroad_flags;
    if (S->gen + 1 != r->gen || r->log_full || two != S->two) return session_full(S);
    cs_status st = CS_OK;
    uint8_t *segmark = cs_calloc(r->nseg ? r->nseg : 1, 1);
    uint8_t *selrow = cs_calloc(S->n ? S->n : 1, 1), *selcol = cs_calloc(S->m ? S->m : 1, 1);
    /* per metric: the changed arcs grouped by lower node (lfk[k][x] .. lfk[k][x + 1] in lidx) */
    size_t *lfk[2] = {cs_calloc((size_t)r->n + 2, sizeof(size_t)), cs_calloc((size_t)r->n + 2, sizeof(size_t))};
    size_t *lfirst = NULL;
    uint32_t *lidx = NULL;
    /* cell-level test when the apply only raised weights of a few segments (one bit per cell and metric) */
    int cellmode = r->log_increase && r->log_nseg <= 16;
    uint64_t *bits[2] = {NULL, NULL};
    size_t nbits = (S->n * S->m + 63) / 64;
    if (!segmark || !selrow || !selcol || !lfk[0] || !lfk[1]) { st = CS_ENOMEM; goto out; }
    for (int k = 0; k < 1 + S->two && cellmode; k++)
        if (!(bits[k] = cs_calloc(nbits ? nbits : 1, 8))) { st = CS_ENOMEM; goto out; }
    for (size_t q = 0; q < r->log_nseg; q++)
        if (r->log_seg[q] < r->nseg) segmark[r->log_seg[q]] = 1;
    /* rows/columns whose searches see a changed arc, or whose point lies on a changed segment */
    for (int k = 0; k < 1 + S->two; k++) {
        size_t nl = r->log_n[k];
        cs_free(lidx);
        lidx = cs_mallocarray(nl ? nl : 1, 4);
        if (!lidx) { st = CS_ENOMEM; goto out; }
        lfirst = lfk[k];
        /* changed arcs grouped by their lower node */
        uint32_t *tails = cs_mallocarray(nl ? nl : 1, 4);
        if (!tails) { st = CS_ENOMEM; goto out; }
        for (size_t q = 0; q < nl; q++) {
            uint32_t e = r->log_arc[k][q], lo = 0, hi = r->n;
            while (hi - lo > 1) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (r->first_up[mid] <= e) lo = mid;
                else hi = mid;
            }
            tails[q] = lo;
            lfirst[lo + 2]++;
        }
        for (uint32_t v = 0; v < r->n; v++) lfirst[v + 2] += lfirst[v + 1];
        for (size_t q = 0; q < nl; q++) lidx[lfirst[tails[q] + 1]++] = (uint32_t)q;
        cs_free(tails);
        int nt = nthreads(S->opts.threads);
        size_t tot = S->n + S->m;
        uint32_t nn = r->n;
#pragma omp parallel num_threads(nt)
        {
            uint64_t *dense = cs_mallocarray(nn ? nn : 1, 8);
            if (!dense) {
#pragma omp atomic write
                st = CS_ENOMEM;
            } else
                for (uint32_t v = 0; v < nn; v++) dense[v] = RT_INF;
#pragma omp for schedule(dynamic, 16)
            for (size_t q = 0; q < tot; q++) {
                if (!dense) continue;
                if (q < S->n) {
                    if (on_changed_seg(r, &S->src[q], segmark) ||
                        ss_affected(r, &S->ss[k][q], 0, k, lfirst, lidx, dense))
                        selrow[q] = 1;
                } else {
                    size_t j = q - S->n;
                    if (on_changed_seg(r, &S->dst[j], segmark) ||
                        ss_affected(r, &S->ts[k][j], 1, k, lfirst, lidx, dense))
                        selcol[j] = 1;
                }
            }
            cs_free(dense);
        }
        if (st) goto out;
        /* the stored spaces are still those of the old metric here */
        if (cellmode && (st = cell_marks(S, k, lfirst, lidx, segmark, bits[k]))) goto out;
    }
    size_t rows = 0, cols = 0;
    for (int k = 0; k < 1 + S->two && !st; k++) {
        if ((st = session_spaces(S, k, selrow, selcol, lfk[k], segmark))) break;
        if (cellmode) st = cells_recompute(S, k, bits[k], &rows, &cols);
        else st = session_rows(S, k, selrow, selcol);
    }
    if (!st) {
        S->rows_done = S->cols_done = 0;
        if (cellmode) {
            S->rows_done = rows;
            S->cols_done = cols;
        } else {
            for (size_t i = 0; i < S->n; i++) S->rows_done += selrow[i];
            for (size_t j = 0; j < S->m; j++) S->cols_done += selcol[j];
        }
        S->gen = r->gen;
    }
out:
    cs_free(segmark); cs_free(selrow); cs_free(selcol); cs_free(lfk[0]); cs_free(lfk[1]); cs_free(lidx);
    cs_free(bits[0]); cs_free(bits[1]);
    return st;
}

void cs_matrix_session_stats(const cs_matrix_session *S, size_t *rows, size_t *cols)
{
    if (rows) *rows = S->rows_done;
    if (cols) *cols = S->cols_done;
}

cs_status cs_matrix_session_get(const cs_matrix_session *S, cs_matrix **time, cs_matrix **dist)
{
    cs_matrix *T = NULL, *D = NULL;
    cs_status st = CS_OK;
    if (time) *time = NULL;
    if (dist) *dist = NULL;
    size_t n = S->n, m = S->m;
    if (time && ((st = cs_matrix_new(n, m, CS_MATRIX_TIME, &T)) || (st = cs_matrix_ensure_flags(T)) ||
                 (S->src_ids && (st = cs_matrix_set_ids(T, (const char *const *)S->src_ids,
                                                        (const char *const *)S->dst_ids)))))
        goto fail;
    if (dist && ((st = cs_matrix_new(n, m, CS_MATRIX_DISTANCE, &D)) || (st = cs_matrix_ensure_flags(D)) ||
                 (S->src_ids && (st = cs_matrix_set_ids(D, (const char *const *)S->src_ids,
                                                        (const char *const *)S->dst_ids)))))
        goto fail;
    for (size_t c = 0; c < n * m; c++) {
        uint64_t kk = S->cell[0][c];
        int unr = kk == RT_INF, nr = S->two && !unr && kk < S->cell[1][c];
        uint8_t fl = (uint8_t)((unr ? CS_CELL_UNREACHABLE : 0) | (nr ? CS_CELL_NONROAD : 0));
        if (T) { T->v[c] = unr ? INFINITY : (double)(kk >> 32) / 1000.0; T->flags[c] = fl; }
        if (D) { D->v[c] = unr ? INFINITY : (double)(kk & 0xffffffffu) / 100.0; D->flags[c] = fl; }
    }
    if (T) memcpy(T->fingerprint, S->r->fingerprint, 65);
    if (D) memcpy(D->fingerprint, S->r->fingerprint, 65);
    if (time) *time = T;
    if (dist) *dist = D;
    return CS_OK;
fail:
    cs_matrix_free(T);
    cs_matrix_free(D);
    return st;
}

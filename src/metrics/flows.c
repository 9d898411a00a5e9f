/* flows.c: load of interaction flows on road segments (equal split among tied fastest routes). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/flows.h"
#include "flows_internal.h"

void cs_load_opts_default(cs_load_opts *o)
{
    memset(o, 0, sizeof *o);
}

void cs_load_free(cs_load *l)
{
    if (!l) return;
    cs_free(l->flow_fwd);
    cs_free(l->flow_bwd);
    cs_free(l->pairs_fwd);
    cs_free(l->pairs_bwd);
    cs_free(l->use_off);
    cs_free(l->use_origin);
    cs_free(l->through_flow);
    cs_free(l->through_pairs);
    cs_free(l);
}

void cs__aug_free(aug *g)
{
    cs_free(g->off);
    cs_free(g->head);
    cs_free(g->t_ms);
    cs_free(g->l_cm);
    cs_free(g->seg);
    cs_free(g->dir);
    cs_free(g->f0);
    cs_free(g->f1);
    cs_free(g->city_node);
    cs_free(g->city_att);
    memset(g, 0, sizeof *g);
}

/* round(f * t), f clamped to [0,1], half away from zero: the router's rule for partial segments */
static uint64_t part(uint32_t t, double f)
{
    if (!(f > 0)) return 0;
    if (f >= 1) return t;
    uint64_t x = (uint64_t)llround(f * (double)t);
    return x > t ? t : x;
}

typedef struct { uint32_t tail, head, t, l, seg; uint8_t dir; double f0, f1; } arc;
typedef struct { uint32_t seg; double frac; uint32_t city; } pt;
static int cmp_pt(const void *a, const void *b)
{
    const pt *x = a, *y = b;
    if (x->seg != y->seg) return x->seg < y->seg ? -1 : 1;
    if (x->frac != y->frac) return x->frac < y->frac ? -1 : 1;
    return x->city < y->city ? -1 : x->city > y->city;
}
static int cmp_arc(const void *a, const void *b)
{
    const arc *x = a, *y = b;
    if (x->tail != y->tail) return x->tail < y->tail ? -1 : 1;
    if (x->head != y->head) return x->head < y->head ? -1 : 1;
    if (x->seg != y->seg) return x->seg < y->seg ? -1 : 1;
    return x->dir - y->dir;
}

typedef struct arcvec { arc *a; size_t n, cap; } arcvec;
static int push(arcvec *v, uint32_t tail, uint32_t head, uint64_t t, uint64_t l, uint32_t seg, uint8_t dir, double f0,
                double f1)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 1024;
        arc *na = cs_reallocarray(v->a, nc, sizeof *na);
        if (!na) return -1;
        v->a = na;
        v->cap = nc;
    }
    arc x = {tail, head, (uint32_t)t, (uint32_t)l, seg, dir, f0, f1};
    v->a[v->n++] = x;
    return 0;
}

/* a point at fraction 0 (1) of a two-way segment is its node u (v): the router's legs to and from it are
   0 ms / 0 cm on that side and the whole segment on the other, exactly the node's own connections */
static uint32_t at_end_node(const cs_network *net, const cs_location *l)
{
    if (l->node != CS_INVALID_ID || l->seg == CS_INVALID_ID || l->seg >= net->n_segs) return CS_INVALID_ID;
    if (net->seg_fwd_ms[l->seg] == CS_NO_TIME || net->seg_bwd_ms[l->seg] == CS_NO_TIME) return CS_INVALID_ID;
    if (l->frac <= 0) return net->seg_u[l->seg];
    if (l->frac >= 1) return net->seg_v[l->seg];
    return CS_INVALID_ID;
}

cs_status cs__aug_build(const cs_network *net, const cs_location *loc, size_t n, int with_frac, aug *g)
{
    memset(g, 0, sizeof *g);
    cs_status st = CS_OK;
    pt *pts = cs_mallocarray(n ? n : 1, sizeof *pts);
    uint32_t *pnode = cs_mallocarray(n ? n : 1, sizeof *pnode); /* point node per sorted point */
    uint8_t *split = cs_calloc(net->n_segs ? net->n_segs : 1, 1);
    g->city_node = cs_mallocarray(n ? n : 1, sizeof *g->city_node);
    g->city_att = cs_mallocarray(n ? n : 1, sizeof *g->city_att);
    arcvec av = {0};
    if (!pts || !pnode || !split || !g->city_node || !g->city_att) {
        st = CS_ENOMEM;
        goto done;
    }
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        if (loc[i].node != CS_INVALID_ID) {
            if (loc[i].node >= net->n_nodes) {
                st = cs_error_set(CS_EINVAL, "load: city %zu is at node %u of %u", i, loc[i].node, net->n_nodes);
                goto done;
            }
        } else if (loc[i].seg != CS_INVALID_ID) {
            if (loc[i].seg >= net->n_segs || !(loc[i].frac >= 0 && loc[i].frac <= 1)) {
                st = cs_error_set(CS_EINVAL, "load: city %zu has an invalid segment location", i);
                goto done;
            }
            if (at_end_node(net, &loc[i]) != CS_INVALID_ID) continue; /* joins at a segment end: that node */
            pts[np].seg = loc[i].seg;
            pts[np].frac = loc[i].frac;
            pts[np].city = (uint32_t)i;
            np++;
        }
    }
    qsort(pts, np, sizeof *pts, cmp_pt);
    uint32_t next = net->n_nodes;
    for (size_t k = 0; k < np; k++) {
        /* one node per distinct (segment, fraction): equal points share it (no zero-weight cycles) */
        if (k > 0 && pts[k].seg == pts[k - 1].seg && pts[k].frac == pts[k - 1].frac) pnode[k] = pnode[k - 1];
        else pnode[k] = next++;
        split[pts[k].seg] = 1;
    }
    uint32_t first_city = next;
    g->n = next + (uint32_t)n;
    /* segment arcs, split at the points */
    size_t k = 0;
    for (uint32_t s = 0; s < net->n_segs; s++) {
        uint32_t f = net->seg_fwd_ms[s], b = net->seg_bwd_ms[s], L = net->seg_len_cm[s];
        uint32_t u = net->seg_u[s], v = net->seg_v[s];
        if (!split[s]) {
            if (u == v) continue;
            if (f != CS_NO_TIME && push(&av, u, v, f, L, s, 0, 0, 1)) goto oom;
            if (b != CS_NO_TIME && push(&av, v, u, b, L, s, 1, 1, 0)) goto oom;
            continue;
        }
        /* chain u, p1..pk, v */
        while (k < np && pts[k].seg < s) k++;
        uint32_t prev = u;
        double pf = 0;
        size_t k0 = k;
        for (; k <= np; k++) {
            int last = (k == np || pts[k].seg != s);
            uint32_t cur = last ? v : pnode[k];
            double cf = last ? 1.0 : pts[k].frac;
            if (!(k > k0 && !last && pnode[k] == pnode[k - 1])) {
                if (f != CS_NO_TIME &&
                    push(&av, prev, cur, part(f, cf) - part(f, pf), part(L, cf) - part(L, pf), s, 0, pf, cf))
                    goto oom;
                if (b != CS_NO_TIME && push(&av, cur, prev, part(b, 1 - pf) - part(b, 1 - cf),
                                            part(L, 1 - pf) - part(L, 1 - cf), s, 1, cf, pf))
                    goto oom;
                prev = cur;
                pf = cf;
            }
            if (last) break;
        }
    }
    /* city connectors */
    {
        size_t q = 0;
        uint32_t *pn_of_city = cs_mallocarray(n ? n : 1, sizeof *pn_of_city);
        if (!pn_of_city) goto oom;
        for (size_t i = 0; i < n; i++) pn_of_city[i] = CS_INVALID_ID;
        for (q = 0; q < np; q++) pn_of_city[pts[q].city] = pnode[q];
        for (size_t i = 0; i < n; i++) {
            uint32_t c = first_city + (uint32_t)i, at = loc[i].node != CS_INVALID_ID ? loc[i].node : pn_of_city[i];
            if (loc[i].node == CS_INVALID_ID && at_end_node(net, &loc[i]) != CS_INVALID_ID) at = at_end_node(net, &loc[i]);
            g->city_node[i] = c;
            g->city_att[i] = at;
            if (at == CS_INVALID_ID) continue; /* not joined: isolated, every pair unreachable */
            if (push(&av, c, at, loc[i].access_ms, loc[i].access_cm, CS_INVALID_ID, 0, NAN, NAN) ||
                push(&av, at, c, loc[i].access_ms, loc[i].access_cm, CS_INVALID_ID, 1, NAN, NAN)) {
                cs_free(pn_of_city);
                goto oom;
            }
        }
        cs_free(pn_of_city);
    }
    if (av.n > 1) qsort(av.a, av.n, sizeof *av.a, cmp_arc);
    g->off = cs_calloc((size_t)g->n + 1, sizeof *g->off);
    g->head = cs_mallocarray(av.n ? av.n : 1, sizeof *g->head);
    g->t_ms = cs_mallocarray(av.n ? av.n : 1, sizeof *g->t_ms);
    g->l_cm = cs_mallocarray(av.n ? av.n : 1, sizeof *g->l_cm);
    g->seg = cs_mallocarray(av.n ? av.n : 1, sizeof *g->seg);
    g->dir = cs_mallocarray(av.n ? av.n : 1, 1);
    if (!g->off || !g->head || !g->t_ms || !g->l_cm || !g->seg || !g->dir) goto oom;
    if (with_frac) {
        g->f0 = cs_mallocarray(av.n ? av.n : 1, sizeof *g->f0);
        g->f1 = cs_mallocarray(av.n ? av.n : 1, sizeof *g->f1);
        if (!g->f0 || !g->f1) goto oom;
    }
    for (size_t e = 0; e < av.n; e++) {
        g->off[av.a[e].tail + 1]++;
        g->head[e] = av.a[e].head;
        g->t_ms[e] = av.a[e].t;
        g->l_cm[e] = av.a[e].l;
        g->seg[e] = av.a[e].seg;
        g->dir[e] = av.a[e].dir;
        if (with_frac) {
            g->f0[e] = av.a[e].f0;
            g->f1[e] = av.a[e].f1;
        }
    }
    for (uint32_t x = 0; x < g->n; x++) g->off[x + 1] += g->off[x];
    goto done;
oom:
    st = CS_ENOMEM;
done:
    cs_free(av.a);
    cs_free(pts);
    cs_free(pnode);
    cs_free(split);
    if (st) cs__aug_free(g);
    return st;
}

/* ---- per-thread workspace: Dijkstra with lexicographic (time, length) keys ---- */
#define INF_KEY UINT64_MAX
static inline uint64_t key_of(uint64_t t, uint64_t l) { return (t << 32) | l; }

typedef struct work {
    uint64_t *key;
    uint32_t *heap, *hpos, *order, nset;
    double *sigma, *delta, *pdelta;
    double *thr, *thrp; /* flow and pairs leaving a node along network arcs (intermediacy) */
} work;

static void heap_up(work *w, uint32_t i)
{
    uint32_t x = w->heap[i];
    uint64_t kx = w->key[x];
    while (i > 0) {
        uint32_t p = (i - 1) / 2, y = w->heap[p];
        if (w->key[y] < kx || (w->key[y] == kx && y < x)) break;
        w->heap[i] = y;
        w->hpos[y] = i;
        i = p;
    }
    w->heap[i] = x;
    w->hpos[x] = i;
}

static void heap_down(work *w, uint32_t i, uint32_t hn)
{
    uint32_t x = w->heap[i];
    uint64_t kx = w->key[x];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= hn) break;
        uint32_t y = w->heap[c];
        if (c + 1 < hn) {
            uint32_t z = w->heap[c + 1];
            if (w->key[z] < w->key[y] || (w->key[z] == w->key[y] && z < y)) {
                c++;
                y = z;
            }
        }
        if (kx < w->key[y] || (kx == w->key[y] && x < y)) break;
        w->heap[i] = y;
        w->hpos[y] = i;
        i = c;
    }
    w->heap[i] = x;
    w->hpos[x] = i;
}

/* settle everything reachable from src; order[] receives the settle order (a topological order of the DAG) */
static int dijkstra(const aug *g, uint32_t src, work *w, const uint8_t *want, uint32_t nwant)
{
    uint32_t hn = 0;
    w->nset = 0;
    w->key[src] = 0;
    w->heap[hn] = src;
    w->hpos[src] = hn++;
    while (hn) {
        uint32_t x = w->heap[0];
        w->heap[0] = w->heap[--hn];
        if (hn) {
            w->hpos[w->heap[0]] = 0;
            heap_down(w, 0, hn);
        }
        w->hpos[x] = UINT32_MAX - 1; /* settled */
        w->order[w->nset++] = x;
        if (want[x] && --nwant == 0) {
            /* every destination is settled: nodes still queued are farther than all of them and lie on no
               route to them; forget them (their keys would otherwise look reachable to the DAG passes) */
            for (uint32_t h = 0; h < hn; h++) {
                w->key[w->heap[h]] = INF_KEY;
                w->hpos[w->heap[h]] = UINT32_MAX;
            }
            return 0;
        }
        uint64_t kx = w->key[x];
        for (uint64_t e = g->off[x]; e < g->off[x + 1]; e++) {
            uint32_t y = g->head[e];
            uint64_t t = (kx >> 32) + g->t_ms[e], l = (kx & 0xffffffffu) + g->l_cm[e];
            if (t >= (1ull << 32) || l >= (1ull << 32)) return -1;
            uint64_t k = key_of(t, l);
            if (w->hpos[y] == UINT32_MAX - 1) continue;
            if (k < w->key[y]) {
                int fresh = w->key[y] == INF_KEY;
                w->key[y] = k;
                if (fresh) {
                    w->heap[hn] = y;
                    w->hpos[y] = hn++;
                }
                heap_up(w, w->hpos[y]);
            }
        }
    }
    return 0;
}

static void reset(const aug *g, work *w)
{
    for (uint32_t q = 0; q < w->nset; q++) {
        uint32_t x = w->order[q];
        w->key[x] = INF_KEY;
        w->hpos[x] = UINT32_MAX;
        w->sigma[x] = 0;
        w->delta[x] = 0;
        w->pdelta[x] = 0;
        w->thr[x] = 0;
        w->thrp[x] = 0;
    }
    (void)g;
}

cs_status cs_load_compute(const cs_network *net, const cs_location *loc, size_t n, const cs_matrix *F,
                          const cs_load_opts *opts_in, cs_load **out)
{
    *out = NULL;
    cs_load_opts o;
    if (opts_in) o = *opts_in;
    else cs_load_opts_default(&o);
    if (!net || !loc || !F) return cs_error_set(CS_EINVAL, "load: network, locations and flows are required");
    if (F->rows != n || F->cols != n) return cs_error_set(CS_EINVAL, "load: flow matrix is %zu x %zu, expected %zu x %zu", F->rows, F->cols, n, n);
    aug g;
    cs_status st = cs__aug_build(net, loc, n, 0, &g);
    if (st) return st;
    cs_load *L = cs_calloc(1, sizeof *L);
    uint32_t ns = net->n_segs;
    size_t nsa = ns ? ns : 1;
    int64_t *acc = cs_calloc(4 * nsa, sizeof *acc); /* fixed-point: flow fwd, flow bwd, pairs fwd, pairs bwd */
    int64_t *cacc = cs_calloc(2 * (n ? n : 1), sizeof *cacc); /* fixed-point: through flow, through pairs per city */
    uint32_t **used = cs_calloc(n ? n : 1, sizeof *used);
    uint32_t *nused = cs_calloc(n ? n : 1, sizeof *nused);
    if (!L || !acc || !cacc || !used || !nused) {
        st = CS_ENOMEM;
        goto done;
    }
    L->n_segs = ns;
    L->n_cities = n;
    /* fixed-point units: exact, associative integer sums make the result independent of the thread count */
    double total = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double f = F->v[i * n + j];
            if (i != j && f > 0) {
                if (!isfinite(f)) {
                    st = cs_error_set(CS_EINVAL, "load: flow %zu->%zu is not finite", i, j);
                    goto done;
                }
                total += f;
            }
        }
    /* units: powers of two just above total / 2^52 and n^2 / 2^52, so that whole numbers (pair counts, integer
       flows) stay exact and no sum can overflow 2^63 */
    const double uflow = total > 0 ? ldexp(1.0, ilogb(total) + 1 - 52) : 1;
    const double upair = ldexp(1.0, ilogb((double)n * (double)n + 1) + 1 - 52);
    int nthreads = o.threads > 0 ? o.threads : omp_get_max_threads();
    cs_core_stats cst = {0, 0, 0, 0};
    int use_core = o.method == CS_LOAD_CORE || (o.method == CS_LOAD_AUTO && g.n >= 100000);
    if (use_core) {
        L->flow_fwd = cs_mallocarray(nsa, sizeof(double));
        L->flow_bwd = cs_mallocarray(nsa, sizeof(double));
        L->pairs_fwd = cs_mallocarray(nsa, sizeof(double));
        L->pairs_bwd = cs_mallocarray(nsa, sizeof(double));
        L->through_flow = cs_mallocarray(n ? n : 1, sizeof(double));
        L->through_pairs = cs_mallocarray(n ? n : 1, sizeof(double));
        if (!L->flow_fwd || !L->flow_bwd || !L->pairs_fwd || !L->pairs_bwd || !L->through_flow || !L->through_pairs) {
            st = CS_ENOMEM;
            goto done;
        }
        st = cs__load_core(&g, n, F, nthreads, o.progress, uflow, upair, L, ns, &L->total_flow, &L->total_flow_time_s,
                           &L->unreachable_flow, &L->unreachable_pairs, &cst);
        L->core_nodes = cst.core_nodes;
        L->core_arcs = cst.core_arcs;
        goto done;
    }
    double tot_ft = 0, tot_f = 0, unr_f = 0;
    size_t unr_p = 0, done_o = 0;
    int failed = 0, overflow = 0, cancelled = 0;
#pragma omp parallel num_threads(nthreads) reduction(+ : tot_ft, tot_f, unr_f, unr_p)
    {
        work w = {0};
        uint32_t N = g.n;
        w.key = cs_mallocarray(N, sizeof *w.key);
        w.heap = cs_mallocarray(N, sizeof *w.heap);
        w.hpos = cs_mallocarray(N, sizeof *w.hpos);
        w.order = cs_mallocarray(N, sizeof *w.order);
        w.sigma = cs_calloc(N, sizeof *w.sigma);
        w.delta = cs_calloc(N, sizeof *w.delta);
        w.pdelta = cs_calloc(N, sizeof *w.pdelta);
        w.thr = cs_calloc(N, sizeof *w.thr);
        w.thrp = cs_calloc(N, sizeof *w.thrp);
        uint8_t *segmark = cs_calloc(nsa, 1), *want = cs_calloc(N, 1);
        uint32_t *seglist = cs_mallocarray(nsa, sizeof *seglist);
        int ok = w.key && w.heap && w.hpos && w.order && w.sigma && w.delta && w.pdelta && w.thr && w.thrp && segmark &&
                 seglist && want;
        if (!ok) {
#pragma omp atomic write
            failed = 1;
        } else {
            for (uint32_t x = 0; x < N; x++) {
                w.key[x] = INF_KEY;
                w.hpos[x] = UINT32_MAX;
            }
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t oi = 0; oi < n; oi++) {
            int skip;
#pragma omp atomic read
            skip = failed;
            if (skip || !ok) continue;
            uint32_t src = g.city_node[oi];
            uint32_t nwant = 0;
            for (size_t j = 0; j < n; j++) {
                double f = F->v[oi * n + j];
                if (j != oi && f > 0 && !want[g.city_node[j]]) {
                    want[g.city_node[j]] = 1;
                    nwant++;
                }
            }
            if (nwant == 0) continue; /* no flow from this origin */
            int dj = dijkstra(&g, src, &w, want, nwant);
            for (size_t j = 0; j < n; j++) want[g.city_node[j]] = 0;
            if (dj) {
#pragma omp atomic write
                overflow = 1;
                reset(&g, &w);
                continue;
            }
            /* destinations: flows and the pair indicator */
            for (size_t j = 0; j < n; j++) {
                double f = F->v[oi * n + j];
                if (j == oi || !(f > 0)) continue;
                uint32_t c = g.city_node[j];
                if (w.key[c] == INF_KEY) {
                    unr_f += f;
                    unr_p++;
                    continue;
                }
                tot_f += f;
                tot_ft += f * (double)(w.key[c] >> 32) / 1000.0;
                w.delta[c] += f;
                w.pdelta[c] += 1;
            }
            /* path counts in settle order (a topological order of the tied-route DAG) */
            w.sigma[src] = 1;
            for (uint32_t q = 0; q < w.nset; q++) w.hpos[w.order[q]] = q; /* settle rank */
            for (uint32_t q = 0; q < w.nset; q++) {
                uint32_t x = w.order[q];
                uint64_t kx = w.key[x];
                for (uint64_t e = g.off[x]; e < g.off[x + 1]; e++) {
                    uint32_t y = g.head[e];
                    if (w.key[y] == INF_KEY || w.hpos[y] <= q) continue;
                    if (key_of((kx >> 32) + g.t_ms[e], (kx & 0xffffffffu) + g.l_cm[e]) == w.key[y]) w.sigma[y] += w.sigma[x];
                }
            }
            /* dependencies in reverse order: each arc carries sigma(x)/sigma(y) of what reaches y */
            uint32_t nseg_used = 0;
            for (uint32_t q = w.nset; q-- > 0;) {
                uint32_t x = w.order[q];
                uint64_t kx = w.key[x];
                for (uint64_t e = g.off[x]; e < g.off[x + 1]; e++) {
                    uint32_t y = g.head[e];
                    if (w.key[y] == INF_KEY || w.hpos[y] <= q) continue;
                    if (key_of((kx >> 32) + g.t_ms[e], (kx & 0xffffffffu) + g.l_cm[e]) != w.key[y]) continue;
                    if (!(w.delta[y] > 0) && !(w.pdelta[y] > 0)) continue;
                    double share = w.sigma[x] / w.sigma[y];
                    double fl = share * w.delta[y], pr = share * w.pdelta[y];
                    w.delta[x] += fl;
                    w.pdelta[x] += pr;
                    uint32_t s = g.seg[e];
                    if (s == CS_INVALID_ID) continue;
                    w.thr[x] += fl;
                    w.thrp[x] += pr;
                    int64_t qf = llround(fl / uflow), qp = llround(pr / upair);
#pragma omp atomic
                    acc[4 * (size_t)s + g.dir[e]] += qf;
#pragma omp atomic
                    acc[4 * (size_t)s + 2 + g.dir[e]] += qp;
                    if (fl > 0 && !segmark[s]) {
                        segmark[s] = 1;
                        seglist[nseg_used++] = s;
                    }
                }
            }
            /* intermediacy: what leaves each other city's junction point along the network is this origin's
               flow to destinations beyond it (destinations at that point end there, the origin's point is skipped) */
            uint32_t oatt = g.city_att[oi];
            for (size_t b = 0; b < n; b++) {
                uint32_t at = g.city_att[b];
                if (b == oi || at == CS_INVALID_ID || at == oatt || !(w.thr[at] > 0 || w.thrp[at] > 0)) continue;
                int64_t qf = llround(w.thr[at] / uflow), qp = llround(w.thrp[at] / upair);
#pragma omp atomic
                cacc[2 * b] += qf;
#pragma omp atomic
                cacc[2 * b + 1] += qp;
            }
            /* the segments this origin's flows use */
            uint32_t *lst = cs_mallocarray(nseg_used ? nseg_used : 1, sizeof *lst);
            if (!lst) {
#pragma omp atomic write
                failed = 1;
            } else {
                for (uint32_t q = 0; q < nseg_used; q++) {
                    lst[q] = seglist[q];
                    segmark[seglist[q]] = 0;
                }
                used[oi] = lst;
                nused[oi] = nseg_used;
            }
            reset(&g, &w);
            size_t d;
#pragma omp atomic capture
            d = ++done_o;
            if (o.progress.fn && omp_get_thread_num() == 0 && o.progress.fn(o.progress.user, "load on roads", (double)d, (double)n)) {
#pragma omp atomic write
                cancelled = 1;
#pragma omp atomic write
                failed = 1;
            }
        }
        cs_free(w.key);
        cs_free(w.heap);
        cs_free(w.hpos);
        cs_free(w.order);
        cs_free(w.sigma);
        cs_free(w.delta);
        cs_free(w.pdelta);
        cs_free(w.thr);
        cs_free(w.thrp);
        cs_free(segmark);
        cs_free(want);
        cs_free(seglist);
    }
    if (cancelled) {
        st = cs_error_set(CS_ECANCELED, "load computation cancelled");
        goto done;
    }
    if (failed) {
        st = cs_error_set(CS_ENOMEM, "out of memory computing the load");
        goto done;
    }
    if (overflow) {
        st = cs_error_set(CS_EUNSUPPORTED, "load: a route exceeds 2^32 ms or 2^32 cm");
        goto done;
    }
    L->total_flow = tot_f;
    L->total_flow_time_s = tot_ft;
    L->unreachable_flow = unr_f;
    L->unreachable_pairs = unr_p;
    L->flow_fwd = cs_mallocarray(nsa, sizeof(double));
    L->flow_bwd = cs_mallocarray(nsa, sizeof(double));
    L->pairs_fwd = cs_mallocarray(nsa, sizeof(double));
    L->pairs_bwd = cs_mallocarray(nsa, sizeof(double));
    L->use_off = cs_calloc((size_t)ns + 1, sizeof *L->use_off);
    L->through_flow = cs_mallocarray(n ? n : 1, sizeof(double));
    L->through_pairs = cs_mallocarray(n ? n : 1, sizeof(double));
    if (!L->flow_fwd || !L->flow_bwd || !L->pairs_fwd || !L->pairs_bwd || !L->use_off || !L->through_flow ||
        !L->through_pairs) {
        st = CS_ENOMEM;
        goto done;
    }
    for (uint32_t s = 0; s < ns; s++) {
        L->flow_fwd[s] = (double)acc[4 * (size_t)s] * uflow;
        L->flow_bwd[s] = (double)acc[4 * (size_t)s + 1] * uflow;
        L->pairs_fwd[s] = (double)acc[4 * (size_t)s + 2] * upair;
        L->pairs_bwd[s] = (double)acc[4 * (size_t)s + 3] * upair;
    }
    for (size_t i = 0; i < n; i++) {
        int joined = g.city_att[i] != CS_INVALID_ID;
        L->through_flow[i] = joined ? (double)cacc[2 * i] * uflow : NAN;
        L->through_pairs[i] = joined ? (double)cacc[2 * i + 1] * upair : NAN;
    }
    uint64_t nu = 0;
    for (size_t i = 0; i < n; i++) {
        nu += nused[i];
        for (uint32_t q = 0; q < nused[i]; q++) L->use_off[used[i][q] + 1]++;
    }
    for (uint32_t s = 0; s < ns; s++) L->use_off[s + 1] += L->use_off[s];
    L->use_origin = cs_mallocarray(nu ? nu : 1, sizeof *L->use_origin);
    uint64_t *fill = cs_mallocarray(nsa, sizeof *fill);
    if (!L->use_origin || !fill) {
        cs_free(fill);
        st = CS_ENOMEM;
        goto done;
    }
    memcpy(fill, L->use_off, ns * sizeof *fill);
    for (size_t i = 0; i < n; i++) /* origins in increasing order per segment */
        for (uint32_t q = 0; q < nused[i]; q++) L->use_origin[fill[used[i][q]]++] = (uint32_t)i;
    cs_free(fill);
done:
    for (size_t i = 0; used && i < n; i++) cs_free(used[i]);
    cs_free(used);
    cs_free(nused);
    cs_free(acc);
    cs_free(cacc);
    cs__aug_free(&g);
    if (st) {
        cs_load_free(L);
        return st;
    }
    *out = L;
    return CS_OK;
}

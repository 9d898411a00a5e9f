/*
 * reduce.c: the query hierarchy, a metric-dependent reduction of the
 * customized CCH for fresh matrix queries (docs/routing.md, "Query
 * hierarchy").
 *
 * Perfect customization (Dibbelt, Strasser & Wagner, "Customizable
 * Contraction Hierarchies", ACM JEA 21, 2016, Sect. "perfect customization"):
 * nodes are processed top-down (ancestors first); for node x with upper
 * neighbours y, z (arcs {y,z} already exact), the key of x->y becomes
 *   min(basic(x->y), min_z basic(x->z) + exact(z->y))
 * (upper triangles z > y and intermediate triangles z < y), likewise y->x,
 * which is the exact lexicographic (time, length) distance between x and y.
 * An arc direction whose basic key is infinite or strictly above its exact
 * key is removed: some other up-down route is strictly shorter, so the
 * up-down shortest routes of every pair survive (Dibbelt et al. 2016).
 * The kept arcs are stored in one CSR by rank: one entry (8-byte key) for an
 * arc kept in both directions with equal keys, else one entry per kept
 * direction, the direction in the two top bits of the head.
 */
#include <omp.h>
#include <string.h>
#include "routing_internal.h"

void rt_reduced_free(cs_router *r)
{
    int heap = !r->map || !((const char *)r->q_first >= (const char *)r->map &&
                            (const char *)r->q_first < (const char *)r->map + r->map_size);
    if (heap) { cs_free(r->q_first); cs_free(r->q_head); cs_free(r->q_key); }
    r->q_first = r->q_head = NULL;
    r->q_key = NULL;
    r->nq = 0;
}

/* Triangles of node x (arcs [b,e)), pairs with first index in [i0,i1): new keys min-merged into nu/nd
   (indexed from b), reading only basic keys bu/bd of x's arcs and the exact keys pu/pd of higher arcs. */
static void node_pairs(const uint32_t *fu, const uint32_t *hd, const uint64_t *bu, const uint64_t *bd,
                       const uint64_t *pu, const uint64_t *pd, uint32_t b, uint32_t e, uint32_t i0, uint32_t i1,
                       uint64_t *nu, uint64_t *nd)
{
    for (uint32_t i = i0; i < i1; i++) {
        uint32_t y = hd[i], p = fu[y];
        uint64_t ui = bu[i], di = bd[i];
        for (uint32_t j = i + 1; j < e; j++) {
            uint32_t z = hd[j];
            while (hd[p] < z) p++; /* arc p = {y, z}: up y->z, dn z->y */
            uint64_t a;
            a = rt_add(bu[j], pd[p]); if (a < nu[i - b]) nu[i - b] = a;   /* x->z->y */
            a = rt_add(pu[p], bd[j]); if (a < nd[i - b]) nd[i - b] = a;   /* y->z->x */
            a = rt_add(ui, pu[p]); if (a < nu[j - b]) nu[j - b] = a;      /* x->y->z */
            a = rt_add(pd[p], di); if (a < nd[j - b]) nd[j - b] = a;      /* z->y->x */
        }
    }
}

/* Perfect keys of node x's arcs into pu/pd (which hold the basic keys on entry). Large nodes split their
   pairs between threads, each into its own buffer, merged by minimum (order-independent). */
static cs_status perfect_node(const cs_router *r, uint32_t x, const uint64_t *wu, const uint64_t *wd, uint64_t *pu,
                              uint64_t *pd, int nt, uint64_t *tmp, int par)
{
    const uint32_t *fu = r->first_up, *hd = r->up_head;
    uint32_t b = fu[x], e = fu[x + 1], d = e - b;
    if (d < 2) return CS_OK;
    if (!par || d < 512 || nt < 2) {
        node_pairs(fu, hd, wu, wd, pu, pd, b, e, b, e, pu + b, pd + b);
        return CS_OK;
    }
    /* tmp: nt x 2d keys */
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num();
        uint64_t *nu = tmp + (size_t)t * 2 * d, *nd = nu + d;
        memcpy(nu, wu + b, (size_t)d * 8);
        memcpy(nd, wd + b, (size_t)d * 8);
#pragma omp for schedule(dynamic, 8)
        for (uint32_t i = b; i < e; i++) node_pairs(fu, hd, wu, wd, pu, pd, b, e, i, i + 1, nu, nd);
    }
    for (int t = 0; t < nt; t++) {
        const uint64_t *nu = tmp + (size_t)t * 2 * d, *nd = nu + d;
        for (uint32_t k = 0; k < d; k++) {
            if (nu[k] < pu[b + k]) pu[b + k] = nu[k];
            if (nd[k] < pd[b + k]) pd[b + k] = nd[k];
        }
    }
    return CS_OK;
}

cs_status rt_reduce(cs_router *r, int threads)
{
    rt_reduced_free(r);
    uint32_t n = r->n, m = r->ncch;
    if (n > RT_QMASK || !r->w_up) return CS_OK; /* heads need the two top bits: no query hierarchy */
    int nt = threads > 0 ? threads : omp_get_max_threads();
    const uint32_t *fu = r->first_up, *hd = r->up_head;
    const uint64_t *wu = r->w_up, *wd = r->w_dn;
    size_t mm = m ? m : 1;
    uint64_t *pu = cs_mallocarray(mm, 8), *pd = cs_mallocarray(mm, 8);
    uint32_t *dep = cs_mallocarray(n ? n : 1, 4), *dfirst = NULL, *byd = cs_mallocarray(n ? n : 1, 4);
    uint64_t *tmp = NULL;
    cs_status st = CS_OK;
    if (!pu || !pd || !dep || !byd) { st = CS_ENOMEM; goto done; }
    if (m) { memcpy(pu, wu, (size_t)m * 8); memcpy(pd, wd, (size_t)m * 8); }
    /* top-down by elimination-tree depth: node x writes only its own arcs and reads arcs {y,z} of its
       ancestors (smaller depth, final), so the nodes of one depth are independent */
    uint32_t maxd = 0, maxdeg = 0;
    for (uint32_t v = n; v-- > 0;) {
        dep[v] = r->parent[v] == CS_INVALID_ID ? 0 : dep[r->parent[v]] + 1;
        if (dep[v] > maxd) maxd = dep[v];
        if (fu[v + 1] - fu[v] > maxdeg) maxdeg = fu[v + 1] - fu[v];
    }
    dfirst = cs_calloc((size_t)maxd + 2, 4);
    tmp = cs_mallocarray((size_t)nt * 2 * (maxdeg ? maxdeg : 1), 8);
    if (!dfirst || !tmp) { st = CS_ENOMEM; goto done; }
    for (uint32_t v = 0; v < n; v++) dfirst[dep[v] + 1]++;
    for (uint32_t d = 0; d <= maxd && n; d++) dfirst[d + 1] += dfirst[d];
    for (uint32_t v = 0; v < n; v++) byd[dfirst[dep[v]]++] = v;
    for (uint32_t d = maxd + 1; d > 0; d--) dfirst[d] = dfirst[d - 1];
    dfirst[0] = 0;
    for (uint32_t d = 0; d <= maxd && n; d++) {
        uint32_t b = dfirst[d], e = dfirst[d + 1];
        if (e - b < 256 || nt < 2) {
            for (uint32_t k = b; k < e; k++) perfect_node(r, byd[k], wu, wd, pu, pd, nt, tmp, 1);
            continue;
        }
#pragma omp parallel for num_threads(nt) schedule(dynamic, 64)
        for (uint32_t k = b; k < e; k++) perfect_node(r, byd[k], wu, wd, pu, pd, nt, tmp, 0);
    }
    /* kept directions: finite basic key equal to the exact one */
    uint64_t nq = 0;
    for (uint32_t a = 0; a < m; a++) {
        int ku = wu[a] != RT_INF && pu[a] == wu[a], kd = wd[a] != RT_INF && pd[a] == wd[a];
        nq += (ku && kd && wu[a] == wd[a]) ? 1 : (uint64_t)(ku + kd);
    }
    if (nq >= UINT32_MAX) goto done; /* offsets are 32-bit: no query hierarchy */
    r->q_first = cs_mallocarray((size_t)n + 1, 4);
    r->q_head = cs_mallocarray(nq ? nq : 1, 4);
    r->q_key = cs_mallocarray(nq ? nq : 1, 8);
    if (!r->q_first || !r->q_head || !r->q_key) { rt_reduced_free(r); st = CS_ENOMEM; goto done; }
    uint32_t q = 0;
    for (uint32_t x = 0; x < n; x++) {
        r->q_first[x] = q;
        for (uint32_t a = fu[x]; a < fu[x + 1]; a++) {
            int ku = wu[a] != RT_INF && pu[a] == wu[a], kd = wd[a] != RT_INF && pd[a] == wd[a];
            if (ku && kd && wu[a] == wd[a]) { r->q_head[q] = hd[a] | RT_QUP | RT_QDN; r->q_key[q++] = wu[a]; continue; }
            if (ku) { r->q_head[q] = hd[a] | RT_QUP; r->q_key[q++] = wu[a]; }
            if (kd) { r->q_head[q] = hd[a] | RT_QDN; r->q_key[q++] = wd[a]; }
        }
    }
    r->q_first[n] = q;
    r->nq = q;
done:
    cs_free(pu); cs_free(pd); cs_free(dep); cs_free(dfirst); cs_free(byd); cs_free(tmp);
    return st;
}

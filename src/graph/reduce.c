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
   (indexed from b), reading only basic keys bu/bd of x's arcs and the exact keys pu/pd of higher arcs
   (min over z of basic(x->z) + exact(z->y) is the exact x->y distance: the basic key of x->z is the
   shortest route through nodes below x, and any route leaves x through some upper neighbour). */
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

/* Perfect keys of node x's arcs into pu/pd (which hold the basic keys on entry). */
static void perfect_node(const cs_router *r, uint32_t x, const uint64_t *wu, const uint64_t *wd, uint64_t *pu,
                         uint64_t *pd)
{
    const uint32_t *fu = r->first_up, *hd = r->up_head;
    uint32_t b = fu[x], e = fu[x + 1];
    if (e - b < 2) return;
    node_pairs(fu, hd, wu, wd, pu, pd, b, e, b, e, pu + b, pd + b);
}

/* Subtree task: nodes of the elimination subtree of `root` in preorder (a node after its ancestors);
   a child subtree of at least RT_TASK_MIN nodes becomes a task of its own. */
#define RT_TASK_MIN 16384
typedef struct {
    const cs_router *r;
    const uint32_t *cfirst, *child, *size;
    uint64_t *pu, *pd;
    int fail;
} red_ctx;

static void subtree(red_ctx *c, uint32_t root)
{
    uint32_t *stack = cs_mallocarray(c->size[root], 4);
    if (!stack) {
#pragma omp atomic write
        c->fail = 1;
        return;
    }
    uint32_t sp = 0;
    stack[sp++] = root;
    while (sp) {
        uint32_t v = stack[--sp];
        perfect_node(c->r, v, c->r->w_up, c->r->w_dn, c->pu, c->pd);
        for (uint32_t k = c->cfirst[v]; k < c->cfirst[v + 1]; k++) {
            uint32_t ch = c->child[k];
            if (c->size[ch] >= RT_TASK_MIN) {
#pragma omp task firstprivate(ch, c)
                subtree(c, ch);
            } else {
                stack[sp++] = ch;
            }
        }
    }
    cs_free(stack);
}

cs_status rt_reduce(cs_router *r, int threads)
{
    rt_reduced_free(r);
    uint32_t n = r->n, m = r->ncch;
    if (n > RT_QMASK || !r->w_up) return CS_OK; /* heads need the two top bits: no query hierarchy */
    int nt = threads > 0 ? threads : omp_get_max_threads();
    const uint32_t *fu = r->first_up, *hd = r->up_head;
    const uint64_t *wu = r->w_up, *wd = r->w_dn;
    size_t mm = m ? m : 1, nn = n ? n : 1;
    uint64_t *pu = cs_mallocarray(mm, 8), *pd = cs_mallocarray(mm, 8);
    uint32_t *cfirst = cs_calloc(nn + 1, 4), *child = cs_mallocarray(nn, 4), *size = cs_mallocarray(nn, 4);
    cs_status st = CS_OK;
    if (!pu || !pd || !cfirst || !child || !size) { st = CS_ENOMEM; goto done; }
    if (m) { memcpy(pu, wu, (size_t)m * 8); memcpy(pd, wd, (size_t)m * 8); }
    /* children lists and subtree sizes of the elimination tree (parents have higher ranks) */
    for (uint32_t v = 0; v < n; v++) {
        size[v] = 1;
        if (r->parent[v] != CS_INVALID_ID) cfirst[r->parent[v] + 1]++;
    }
    for (uint32_t v = 0; v < n; v++) cfirst[v + 1] += cfirst[v];
    for (uint32_t v = 0; v < n; v++)
        if (r->parent[v] != CS_INVALID_ID) child[cfirst[r->parent[v]]++] = v;
    for (uint32_t v = n; v > 0; v--) cfirst[v] = cfirst[v - 1];
    cfirst[0] = 0;
    for (uint32_t v = 0; v < n; v++)
        if (r->parent[v] != CS_INVALID_ID) size[r->parent[v]] += size[v];
    /* top-down: a node is processed after its ancestors (it writes only its own arcs and reads arcs
       between its upper neighbours, i.e. between ancestors); disjoint subtrees are independent and run
       as tasks, so the result does not depend on the thread count */
    red_ctx c = {r, cfirst, child, size, pu, pd, 0};
#pragma omp parallel num_threads(nt)
#pragma omp single
    for (uint32_t v = n; v-- > 0;)
        if (r->parent[v] == CS_INVALID_ID) {
            uint32_t root = v;
#pragma omp task firstprivate(root) shared(c)
            subtree(&c, root);
        }
    if (c.fail) { st = CS_ENOMEM; goto done; }
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
    cs_free(pu); cs_free(pd); cs_free(cfirst); cs_free(child); cs_free(size);
    return st;
}

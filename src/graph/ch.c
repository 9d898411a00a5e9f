/*
 * ch.c: customizable contraction hierarchy (Dibbelt, Strasser & Wagner 2016):
 * nested-dissection order by recursive coordinate bisection with vertex
 * separators, symbolic contraction (chordal completion along the
 * elimination tree), customization by lower triangles, and partial
 * re-customization after changes (cs_router_apply).
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "routing_internal.h"

/* ---- undirected simple adjacency (node ids), self-loops dropped ---- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static cs_status undirected(const cs_router *r, uint32_t **first_out, uint32_t **adj_out)
{
    uint32_t n = r->n;
    uint32_t *first = cs_calloc((size_t)n + 2, sizeof *first);
    if (!first) return CS_ENOMEM;
    uint64_t m = 0;
    for (uint32_t s = 0; s < r->nseg; s++)
        if (r->seg_u[s] != r->seg_v[s]) { first[r->seg_u[s] + 2]++; first[r->seg_v[s] + 2]++; m += 2; }
    if (m >= UINT32_MAX) { cs_free(first); return cs_error_set(CS_EUNSUPPORTED, "too many segments"); }
    for (uint32_t i = 0; i < n; i++) first[i + 2] += first[i + 1];
    uint32_t *adj = cs_mallocarray(m ? m : 1, sizeof *adj);
    if (!adj) { cs_free(first); return CS_ENOMEM; }
    for (uint32_t s = 0; s < r->nseg; s++) {
        uint32_t a = r->seg_u[s], b = r->seg_v[s];
        if (a == b) continue;
        adj[first[a + 1]++] = b;
        adj[first[b + 1]++] = a;
    }
    /* sort + dedupe in place, compacting */
    uint32_t w = 0;
    for (uint32_t v = 0; v < n; v++) {
        uint32_t b = first[v], e = first[v + 1];
        qsort(adj + b, e - b, sizeof *adj, cmp_u32);
        first[v] = w;
        for (uint32_t i = b; i < e; i++)
            if (i == b || adj[i] != adj[i - 1]) adj[w++] = adj[i];
    }
    first[n] = w;
    *first_out = first;
    *adj_out = adj;
    return CS_OK;
}

/* ---- nested dissection order ---- */

typedef struct { double k; uint32_t id; } keyed;

static inline int kless(const keyed *a, const keyed *b)
{
    return a->k < b->k || (a->k == b->k && a->id < b->id);
}

/* Quickselect: afterwards a[0..k) are the k smallest by (key, id) (a total order, so deterministic). */
static void select_nth(keyed *a, size_t n, size_t k)
{
    if (n < 2) return;
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        keyed x = a[lo], y = a[mid], z = a[hi], p;
        if (kless(&x, &y)) p = kless(&y, &z) ? y : (kless(&x, &z) ? z : x);
        else p = kless(&x, &z) ? x : (kless(&y, &z) ? z : y);
        size_t i = lo, j = hi;
        for (;;) {
            while (kless(&a[i], &p)) i++;
            while (kless(&p, &a[j])) j--;
            if (i >= j) break;
            keyed t = a[i]; a[i] = a[j]; a[j] = t;
            i++;
            j--;
        }
        /* a[lo..j] <= p <= a[j+1..hi] (Hoare partition) */
        if (k <= j) hi = j;
        else lo = j + 1;
    }
}

typedef struct { uint32_t lo, hi, stamp; } nd_task;

/*
 * Vertex separator of the cut between A (kb[0..half), stamp sa) and B (stamp
 * sb): a minimum vertex cover of the bipartite graph of cut edges (Koenig's
 * theorem from a maximum matching found by augmenting paths), so the
 * separator is never larger than either boundary. Marks insep[].
 */
static cs_status min_cover(const uint32_t *first, const uint32_t *adj, const uint32_t *stamp, const keyed *kb,
                           uint32_t size, uint32_t half, uint32_t sa, uint32_t sb, uint32_t *loc, uint8_t *insep)
{
    uint32_t nl = 0, nr = 0, ne = 0;
    for (uint32_t i = 0; i < size; i++) {
        uint32_t v = kb[i].id, other = i < half ? sb : sa, deg = 0;
        for (uint32_t a = first[v]; a < first[v + 1]; a++)
            if (stamp[adj[a]] == other) deg++;
        if (!deg) continue;
        if (i < half) { loc[v] = nl++; ne += deg; }
        else loc[v] = nr++;
    }
    if (!ne) return CS_OK;
    uint32_t *lnode = cs_mallocarray(nl, 4), *rnode = cs_mallocarray(nr, 4), *lf = cs_calloc((size_t)nl + 1, 4);
    uint32_t *le = cs_mallocarray(ne, 4), *ml = cs_mallocarray(nl, 4), *mr = cs_mallocarray(nr, 4);
    uint32_t *seen = cs_calloc(nr, 4), *stk = cs_mallocarray(nl + 1, 4), *pos = cs_mallocarray(nl + 1, 4);
    uint8_t *vl = cs_calloc(nl, 1), *vr = cs_calloc(nr, 1);
    uint32_t *queue = cs_mallocarray(nl, 4);
    cs_status st = CS_OK;
    if (!lnode || !rnode || !lf || !le || !ml || !mr || !seen || !stk || !pos || !vl || !vr || !queue) {
        st = CS_ENOMEM;
        goto out;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < size; i++) {
        uint32_t v = kb[i].id, other = i < half ? sb : sa;
        int bnd = 0;
        for (uint32_t a = first[v]; a < first[v + 1]; a++)
            if (stamp[adj[a]] == other) { bnd = 1; if (i < half) le[k++] = loc[adj[a]]; }
        if (!bnd) continue;
        if (i < half) { lnode[loc[v]] = v; lf[loc[v] + 1] = k; }
        else rnode[loc[v]] = v;
    }
    for (uint32_t l = 0; l < nl; l++) ml[l] = CS_INVALID_ID;
    for (uint32_t r = 0; r < nr; r++) mr[r] = CS_INVALID_ID;
    /* Kuhn's augmenting paths, iterative DFS; seen[r] == phase marks visited */
    for (uint32_t l0 = 0; l0 < nl; l0++) {
        uint32_t phase = l0 + 1, sp = 0;
        stk[sp] = l0; pos[sp] = lf[l0]; sp++;
        int found = 0;
        while (sp && !found) {
            uint32_t l = stk[sp - 1];
            if (pos[sp - 1] == lf[l + 1]) { sp--; continue; }
            uint32_t r = le[pos[sp - 1]++];
            if (seen[r] == phase) continue;
            seen[r] = phase;
            if (mr[r] == CS_INVALID_ID) {
                /* augment: each l on the stack takes the r it last tried */
                found = 1;
                for (uint32_t q = 0; q < sp; q++) {
                    uint32_t ll = stk[q], rr = le[pos[q] - 1];
                    ml[ll] = rr;
                    mr[rr] = ll;
                }
            } else {
                stk[sp] = mr[r]; pos[sp] = lf[mr[r]]; sp++;
            }
        }
    }
    /* Koenig: alternating BFS from unmatched left vertices */
    uint32_t qh = 0, qt = 0;
    for (uint32_t l = 0; l < nl; l++)
        if (ml[l] == CS_INVALID_ID) { vl[l] = 1; queue[qt++] = l; }
    while (qh < qt) {
        uint32_t l = queue[qh++];
        for (uint32_t a = lf[l]; a < lf[l + 1]; a++) {
            uint32_t r = le[a];
            if (vr[r] || ml[l] == r) continue;
            vr[r] = 1;
            uint32_t l2 = mr[r];
            if (l2 != CS_INVALID_ID && !vl[l2]) { vl[l2] = 1; queue[qt++] = l2; }
        }
    }
    for (uint32_t l = 0; l < nl; l++)
        if (!vl[l]) insep[lnode[l]] = 1;
    for (uint32_t r = 0; r < nr; r++)
        if (vr[r]) insep[rnode[r]] = 1;
out:
    cs_free(lnode); cs_free(rnode); cs_free(lf); cs_free(le); cs_free(ml); cs_free(mr); cs_free(seen);
    cs_free(stk); cs_free(pos); cs_free(vl); cs_free(vr); cs_free(queue);
    return st;
}

typedef struct { uint32_t *a; uint32_t n, cap; } u32vec;

static int vec_push(u32vec *v, uint32_t x)
{
    if (v->n == v->cap) {
        uint32_t nc = v->cap ? v->cap * 2 : 4;
        uint32_t *p = cs_reallocarray(v->a, nc, sizeof *p);
        if (!p) return -1;
        v->a = p;
        v->cap = nc;
    }
    v->a[v->n++] = x;
    return 0;
}

/*
 * Peel nodes of degree <= 2 (dead ends and chain nodes) before the
 * dissection: they get the lowest ranks in removal order, a chain node's two
 * neighbours become adjacent (the fill its contraction creates), and the
 * dissection runs on the remaining core. Rebuilds first/adj as the core
 * graph (node ids unchanged, peeled nodes without neighbours) and returns the
 * number of peeled nodes; their ranks are written to rank[].
 */
static cs_status peel(uint32_t n, uint32_t **first_io, uint32_t **adj_io, uint32_t *rank, uint8_t *peeled,
                      uint32_t *npeeled)
{
    uint32_t *first = *first_io, *adj = *adj_io;
    u32vec *nb = cs_calloc(n, sizeof *nb);
    uint32_t *queue = cs_mallocarray(3 * (size_t)n + 1, 4);
    cs_status st = CS_OK;
    uint32_t low = 0;
    if (!nb || !queue) { st = CS_ENOMEM; goto out; }
    for (uint32_t v = 0; v < n; v++)
        for (uint32_t a = first[v]; a < first[v + 1]; a++)
            if (vec_push(&nb[v], adj[a])) { st = CS_ENOMEM; goto out; }
    size_t qh = 0, qt = 0;
    for (uint32_t v = 0; v < n; v++)
        if (nb[v].n <= 2) queue[qt++] = v;
    while (qh < qt) {
        uint32_t v = queue[qh++];
        if (peeled[v] || nb[v].n > 2) continue;
        peeled[v] = 1;
        rank[v] = low++;
        for (uint32_t i = 0; i < nb[v].n; i++) {
            u32vec *w = &nb[nb[v].a[i]];
            for (uint32_t k = 0; k < w->n; k++)
                if (w->a[k] == v) { w->a[k] = w->a[--w->n]; break; }
        }
        if (nb[v].n == 2) {
            uint32_t a = nb[v].a[0], b = nb[v].a[1], have = 0;
            for (uint32_t k = 0; k < nb[a].n; k++) have |= nb[a].a[k] == b;
            if (!have && (vec_push(&nb[a], b) || vec_push(&nb[b], a))) { st = CS_ENOMEM; goto out; }
        }
        for (uint32_t i = 0; i < nb[v].n; i++) {
            uint32_t w = nb[v].a[i];
            if (!peeled[w] && nb[w].n <= 2) queue[qt++] = w; /* <= n initial + 2 per removal: fits 3n */
        }
        nb[v].n = 0;
    }
    /* core CSR */
    {
        uint64_t tot = 0;
        for (uint32_t v = 0; v < n; v++) tot += nb[v].n;
        uint32_t *f2 = cs_calloc((size_t)n + 1, 4), *a2 = cs_mallocarray(tot ? tot : 1, 4);
        if (!f2 || !a2) { cs_free(f2); cs_free(a2); st = CS_ENOMEM; goto out; }
        uint32_t p = 0;
        for (uint32_t v = 0; v < n; v++) {
            f2[v] = p;
            if (nb[v].n > 1) qsort(nb[v].a, nb[v].n, 4, cmp_u32);
            for (uint32_t k = 0; k < nb[v].n; k++) a2[p++] = nb[v].a[k];
        }
        f2[n] = p;
        cs_free(first); cs_free(adj);
        *first_io = f2;
        *adj_io = a2;
    }
    *npeeled = low;
out:
    if (nb) for (uint32_t v = 0; v < n; v++) cs_free(nb[v].a);
    cs_free(nb); cs_free(queue);
    return st;
}

cs_status rt_order(const cs_router *r, const double *lon, const double *lat, uint32_t leaf, uint32_t *rank)
{
    uint32_t n = r->n;
    if (!n) return CS_OK;
    uint32_t *first = NULL, *adj = NULL;
    cs_status st = undirected(r, &first, &adj);
    if (st) return st;
    double *x = cs_mallocarray(n, sizeof *x), *y = cs_mallocarray(n, sizeof *y);
    uint32_t *perm = cs_mallocarray(n, sizeof *perm), *stamp = cs_mallocarray(n, sizeof *stamp);
    keyed *kb = cs_mallocarray(n, sizeof *kb);
    uint8_t *insep = cs_calloc(n, 1);
    uint32_t *loc = cs_mallocarray(n, sizeof *loc);
    nd_task *stack = cs_mallocarray(2 * 64 + (size_t)n / leaf + 64, sizeof *stack);
    uint32_t low = 0;
    if (!x || !y || !perm || !stamp || !kb || !insep || !loc || !stack) { st = CS_ENOMEM; goto done; }
    if ((st = peel(n, &first, &adj, rank, insep, &low))) goto done;
    double mlat = 0;
    if (lat) {
        for (uint32_t i = 0; i < n; i++) mlat += isfinite(lat[i]) ? lat[i] : 0;
        mlat /= n;
    }
    double c = cos(mlat * M_PI / 180.0);
    uint32_t p0 = low;
    for (uint32_t i = 0; i < n; i++) {
        x[i] = lon && isfinite(lon[i]) ? lon[i] * c : 0;
        y[i] = lat && isfinite(lat[i]) ? lat[i] : 0;
        stamp[i] = insep[i] ? 0 : 1; /* peeled nodes are outside every part */
        if (!insep[i]) perm[p0++] = i;
        insep[i] = 0;
    }
    uint32_t nstamp = 1;
    size_t sp = 0;
    stack[sp++] = (nd_task){low, n, 1};
    while (sp) {
        nd_task t = stack[--sp];
        uint32_t size = t.hi - t.lo;
        /* ranks [t.lo, t.hi) belong to this part: perm[t.lo..t.hi) holds its nodes */
        if (size <= leaf) {
            for (uint32_t i = t.lo; i < t.hi; i++) { rank[perm[i]] = i; stamp[perm[i]] = 0; }
            continue;
        }
        /* try the two axes and the two diagonals; keep the smallest separator */
        uint32_t best_sep = UINT32_MAX;
        int best_dir = 0, best_side = 0;
        uint32_t half = size / 2;
        for (int dir = 0; dir < 4; dir++) {
            for (uint32_t i = 0; i < size; i++) {
                uint32_t v = perm[t.lo + i];
                double k = dir == 0 ? x[v] : dir == 1 ? y[v] : dir == 2 ? x[v] + y[v] : x[v] - y[v];
                kb[i] = (keyed){k, v};
            }
            select_nth(kb, size, half);
            uint32_t sa = ++nstamp, sb = ++nstamp;
            for (uint32_t i = 0; i < size; i++) stamp[kb[i].id] = i < half ? sa : sb;
            uint32_t ca = 0, cb = 0;
            for (uint32_t i = 0; i < size; i++) {
                uint32_t v = kb[i].id, other = i < half ? sb : sa;
                for (uint32_t a = first[v]; a < first[v + 1]; a++)
                    if (stamp[adj[a]] == other) { if (i < half) ca++; else cb++; break; }
            }
            uint32_t s = ca < cb ? ca : cb;
            if (s < best_sep) { best_sep = s; best_dir = dir; best_side = ca <= cb ? 0 : 1; }
            /* restore the part's stamp */
            for (uint32_t i = 0; i < size; i++) stamp[kb[i].id] = t.stamp;
        }
        for (uint32_t i = 0; i < size; i++) {
            uint32_t v = perm[t.lo + i];
            double k = best_dir == 0 ? x[v] : best_dir == 1 ? y[v] : best_dir == 2 ? x[v] + y[v] : x[v] - y[v];
            kb[i] = (keyed){k, v};
        }
        select_nth(kb, size, half);
        uint32_t sa = ++nstamp, sb = ++nstamp;
        for (uint32_t i = 0; i < size; i++) stamp[kb[i].id] = i < half ? sa : sb;
        if ((st = min_cover(first, adj, stamp, kb, size, half, sa, sb, loc, insep))) goto done;
        (void)best_side;
        /* layout: [A' | B' | separator] */
        uint32_t p = t.lo, na = 0, nb = 0;
        for (uint32_t i = 0; i < half; i++)
            if (!insep[kb[i].id]) { perm[p++] = kb[i].id; na++; }
        for (uint32_t i = half; i < size; i++)
            if (!insep[kb[i].id]) { perm[p++] = kb[i].id; nb++; }
        for (uint32_t i = 0; i < size; i++)
            if (insep[kb[i].id]) {
                uint32_t v = kb[i].id;
                perm[p] = v; rank[v] = p; p++;
                stamp[v] = 0; insep[v] = 0;
            }
        if (na) stack[sp++] = (nd_task){t.lo, t.lo + na, sa};
        if (nb) stack[sp++] = (nd_task){t.lo + na, t.lo + na + nb, sb};
    }
done:
    cs_free(first); cs_free(adj); cs_free(x); cs_free(y); cs_free(perm); cs_free(stamp); cs_free(kb);
    cs_free(insep); cs_free(loc); cs_free(stack);
    return st;
}

/* ---- symbolic contraction: chordal completion in rank order ---- */

cs_status rt_contract(cs_router *r)
{
    uint32_t n = r->n;
    uint32_t *first = NULL, *adj = NULL;
    cs_status st = undirected(r, &first, &adj);
    if (st) return st;
    u32vec *up = cs_calloc(n ? n : 1, sizeof *up);
    uint32_t *parent = cs_mallocarray(n ? n : 1, sizeof *parent);
    uint32_t *fup = cs_calloc((size_t)n + 1, sizeof *fup);
    uint32_t *depth = cs_calloc(n ? n : 1, sizeof *depth);
    uint32_t *head = NULL;
    if (!up || !parent || !fup || !depth) { st = CS_ENOMEM; goto done; }
    for (uint32_t v = 0; v < n; v++) {
        uint32_t rv = r->rank[v];
        for (uint32_t a = first[v]; a < first[v + 1]; a++) {
            uint32_t rw = r->rank[adj[a]];
            if (rw > rv && vec_push(&up[rv], rw)) { st = CS_ENOMEM; goto done; }
        }
    }
    cs_free(first); cs_free(adj); first = adj = NULL;
    uint64_t total = 0;
    for (uint32_t v = 0; v < n; v++) {
        u32vec *u = &up[v];
        if (u->n > 1) qsort(u->a, u->n, sizeof *u->a, cmp_u32);
        uint32_t w = 0;
        for (uint32_t i = 0; i < u->n; i++)
            if (i == 0 || u->a[i] != u->a[i - 1]) u->a[w++] = u->a[i];
        u->n = w;
        total += w;
        if (total >= UINT32_MAX) { st = cs_error_set(CS_EUNSUPPORTED, "hierarchy exceeds 2^32 arcs"); goto done; }
        fup[v + 1] = (uint32_t)total;
        if (w) {
            uint32_t p = u->a[0];
            parent[v] = p;
            for (uint32_t i = 1; i < w; i++)
                if (vec_push(&up[p], u->a[i])) { st = CS_ENOMEM; goto done; }
        } else parent[v] = CS_INVALID_ID;
    }
    head = cs_mallocarray(total ? total : 1, sizeof *head);
    if (!head) { st = CS_ENOMEM; goto done; }
    for (uint32_t v = 0; v < n; v++) {
        if (up[v].n) memcpy(head + fup[v], up[v].a, (size_t)up[v].n * 4);
        cs_free(up[v].a); up[v].a = NULL;
    }
    uint32_t height = 0;
    for (uint32_t v = n; v-- > 0;) {
        depth[v] = parent[v] == CS_INVALID_ID ? 1 : depth[parent[v]] + 1;
        if (depth[v] > height) height = depth[v];
    }
    cs_free(r->parent); cs_free(r->first_up); cs_free(r->up_head);
    cs_free(r->w_up); cs_free(r->w_dn); cs_free(r->r_up); cs_free(r->r_dn);
    r->w_up = r->w_dn = r->r_up = r->r_dn = NULL;
    cs_free(r->first_dn); cs_free(r->dn_tail); cs_free(r->dn_arc);
    cs_free(r->arc_first_seg); cs_free(r->arc_segs);
    r->first_dn = r->dn_tail = r->dn_arc = r->arc_first_seg = r->arc_segs = NULL;
    r->parent = parent; parent = NULL;
    r->first_up = fup; fup = NULL;
    r->up_head = head; head = NULL;
    r->ncch = (uint32_t)total;
    r->et_height = height;
done:
    if (up) for (uint32_t v = 0; v < n; v++) cs_free(up[v].a);
    cs_free(up); cs_free(parent); cs_free(fup); cs_free(depth); cs_free(head); cs_free(first); cs_free(adj);
    return st;
}

uint32_t rt_find_arc(const cs_router *r, uint32_t a, uint32_t b)
{
    uint32_t lo = r->first_up[a], hi = r->first_up[a + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r->up_head[mid] < b) lo = mid + 1;
        else hi = mid;
    }
    return lo < r->first_up[a + 1] && r->up_head[lo] == b ? lo : CS_INVALID_ID;
}

cs_status rt_map_segments(cs_router *r)
{
    uint32_t *sc = cs_mallocarray(r->nseg ? r->nseg : 1, sizeof *sc);
    if (!sc) return CS_ENOMEM;
    for (uint32_t s = 0; s < r->nseg; s++) {
        uint32_t a = r->rank[r->seg_u[s]], b = r->rank[r->seg_v[s]];
        if (a == b) { sc[s] = CS_INVALID_ID; continue; }
        if (a > b) { uint32_t t = a; a = b; b = t; }
        sc[s] = rt_find_arc(r, a, b);
        if (sc[s] == CS_INVALID_ID) {
            cs_free(sc);
            return cs_error_set(CS_EINVAL, "internal: segment %u missing from the hierarchy", s);
        }
    }
    cs_free(r->seg_cch);
    r->seg_cch = sc;
    return CS_OK;
}

/* Base weights of hierarchy arcs from the segments (min over parallel segments). */
static void base_metric(const cs_router *r, uint64_t *up, uint64_t *dn, int road_only)
{
    for (uint32_t e = 0; e < r->ncch; e++) up[e] = dn[e] = RT_INF;
    for (uint32_t s = 0; s < r->nseg; s++) {
        uint32_t e = r->seg_cch[s];
        if (e == CS_INVALID_ID || (road_only && rt_nonroad_mode(r->seg_mode[s]))) continue;
        uint64_t kf, kb;
        rt_seg_keys(r, s, &kf, &kb);
        if (r->rank[r->seg_u[s]] > r->rank[r->seg_v[s]]) { uint64_t t = kf; kf = kb; kb = t; }
        if (kf < up[e]) up[e] = kf;
        if (kb < dn[e]) dn[e] = kb;
    }
}

static inline void atomic_min64(uint64_t *p, uint64_t v)
{
    uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (v < cur && !__atomic_compare_exchange_n(p, &cur, v, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

/* Push the lower triangles of node w: arcs {u,v} with u,v upper neighbours of w. */
static inline void push_node(const cs_router *r, uint32_t w, uint64_t *up, uint64_t *dn, int atomic)
{
    const uint32_t *fu = r->first_up, *hd = r->up_head;
    uint32_t b = fu[w], e = fu[w + 1];
    for (uint32_t i = b; i < e; i++) {
        uint32_t u = hd[i];
        uint64_t dwu = dn[i], uwu = up[i];
        if (dwu == RT_INF && uwu == RT_INF) continue;
        uint32_t p = fu[u];
        for (uint32_t j = i + 1; j < e; j++) {
            uint32_t v = hd[j];
            while (hd[p] < v) p++;
            /* arc p = {u, v}, u < v: u->w->v and v->w->u */
            uint64_t a = rt_add(dwu, up[j]);
            uint64_t c = rt_add(dn[j], uwu);
            if (atomic) {
                if (a < up[p]) atomic_min64(&up[p], a);
                if (c < dn[p]) atomic_min64(&dn[p], c);
            } else {
                if (a < up[p]) up[p] = a;
                if (c < dn[p]) dn[p] = c;
            }
        }
    }
}

/*
 * Lower-triangle customization. A node's arcs are final once all its
 * descendants in the elimination tree have pushed, so nodes are processed
 * by height above the leaves; nodes of equal height are never ancestors of
 * one another and run in parallel, their pushes into shared ancestor arcs
 * merged with an atomic minimum (order-independent, hence deterministic).
 */
static cs_status triangles(const cs_router *r, uint64_t *up, uint64_t *dn, int threads)
{
    uint32_t n = r->n;
    int nt = threads > 0 ? threads : omp_get_max_threads();
    if (nt <= 1 || n < 4096) {
        for (uint32_t w = 0; w < n; w++) push_node(r, w, up, dn, 0);
        return CS_OK;
    }
    uint32_t *lev = cs_calloc(n, 4), *first = NULL, *byl = cs_mallocarray(n, 4);
    if (!lev || !byl) { cs_free(lev); cs_free(byl); return CS_ENOMEM; }
    uint32_t maxl = 0;
    for (uint32_t v = 0; v < n; v++) {
        if (lev[v] > maxl) maxl = lev[v];
        uint32_t p = r->parent[v];
        if (p != CS_INVALID_ID && lev[p] < lev[v] + 1) lev[p] = lev[v] + 1;
    }
    first = cs_calloc((size_t)maxl + 2, 4);
    if (!first) { cs_free(lev); cs_free(byl); return CS_ENOMEM; }
    for (uint32_t v = 0; v < n; v++) first[lev[v] + 1]++;
    for (uint32_t l = 0; l <= maxl; l++) first[l + 1] += first[l];
    for (uint32_t v = 0; v < n; v++) byl[first[lev[v]]++] = v;
    for (uint32_t l = maxl + 1; l > 0; l--) first[l] = first[l - 1];
    first[0] = 0;
    for (uint32_t l = 0; l <= maxl; l++) {
        uint32_t b = first[l], e = first[l + 1];
        if (e - b < 2048) { /* few nodes: a fork/join would cost more than it saves */
            for (uint32_t k = b; k < e; k++) push_node(r, byl[k], up, dn, 0);
            continue;
        }
#pragma omp parallel for num_threads(nt) schedule(dynamic, 64)
        for (uint32_t k = b; k < e; k++) push_node(r, byl[k], up, dn, 1);
    }
    cs_free(lev); cs_free(first); cs_free(byl);
    return CS_OK;
}

cs_status rt_customize(cs_router *r, int threads)
{
    size_t m = r->ncch ? r->ncch : 1;
    if (!r->w_up) {
        r->w_up = cs_mallocarray(m, 8);
        r->w_dn = cs_mallocarray(m, 8);
        if (!r->w_up || !r->w_dn) return CS_ENOMEM;
    }
    if (r->has_nonroad && !r->r_up) {
        r->r_up = cs_mallocarray(m, 8);
        r->r_dn = cs_mallocarray(m, 8);
        if (!r->r_up || !r->r_dn) return CS_ENOMEM;
    }
    cs_status st;
    base_metric(r, r->w_up, r->w_dn, 0);
    if ((st = triangles(r, r->w_up, r->w_dn, threads))) return st;
    if (r->has_nonroad) {
        base_metric(r, r->r_up, r->r_dn, 1);
        if ((st = triangles(r, r->r_up, r->r_dn, threads))) return st;
    }
    return CS_OK;
}

/* ---- changes ---- */

typedef struct { uint32_t seg; int kind; uint32_t fwd, bwd; double factor; } rt_op; /* kind 0 set, 1 scale */
typedef struct { uint32_t u, v, fwd, bwd, len; uint8_t mode; } rt_add_seg;

struct cs_route_changes {
    rt_op *ops;
    size_t nops, capops;
    rt_add_seg *adds;
    size_t nadds, capadds;
};

cs_status cs_route_changes_new(cs_route_changes **out)
{
    *out = cs_calloc(1, sizeof **out);
    return *out ? CS_OK : CS_ENOMEM;
}

void cs_route_changes_free(cs_route_changes *c)
{
    if (!c) return;
    cs_free(c->ops);
    cs_free(c->adds);
    cs_free(c);
}

static cs_status push_op(cs_route_changes *c, rt_op op)
{
    if (c->nops == c->capops) {
        size_t nc = c->capops ? 2 * c->capops : 16;
        rt_op *p = cs_reallocarray(c->ops, nc, sizeof *p);
        if (!p) return CS_ENOMEM;
        c->ops = p;
        c->capops = nc;
    }
    c->ops[c->nops++] = op;
    return CS_OK;
}

cs_status cs_route_changes_close(cs_route_changes *c, uint32_t seg)
{
    return push_op(c, (rt_op){seg, 0, CS_NO_TIME, CS_NO_TIME, 1.0});
}

cs_status cs_route_changes_set_time(cs_route_changes *c, uint32_t seg, uint32_t fwd_ms, uint32_t bwd_ms)
{
    return push_op(c, (rt_op){seg, 0, fwd_ms, bwd_ms, 1.0});
}

cs_status cs_route_changes_scale(cs_route_changes *c, uint32_t seg, double factor)
{
    if (!(factor > 0) || !isfinite(factor)) return cs_error_set(CS_EINVAL, "scale factor must be > 0, got %g", factor);
    return push_op(c, (rt_op){seg, 1, 0, 0, factor});
}

cs_status cs_route_changes_add(cs_route_changes *c, uint32_t u, uint32_t v, uint32_t fwd_ms, uint32_t bwd_ms,
                               uint32_t len_cm, cs_seg_mode mode)
{
    if (c->nadds == c->capadds) {
        size_t nc = c->capadds ? 2 * c->capadds : 16;
        rt_add_seg *p = cs_reallocarray(c->adds, nc, sizeof *p);
        if (!p) return CS_ENOMEM;
        c->adds = p;
        c->capadds = nc;
    }
    c->adds[c->nadds++] = (rt_add_seg){u, v, fwd_ms, bwd_ms, len_cm, (uint8_t)mode};
    return CS_OK;
}

static uint32_t scale_ms(uint32_t t, double f)
{
    if (t == CS_NO_TIME) return t;
    double x = nearbyint((double)t * f);
    if (x >= (double)CS_NO_TIME) return CS_NO_TIME - 1;
    return (uint32_t)x;
}

/* Lazily built down adjacency and arc -> segments map (for partial re-customization). */
static cs_status ensure_lazy(cs_router *r)
{
    if (r->first_dn && r->arc_first_seg) return CS_OK;
    uint32_t n = r->n, m = r->ncch;
    uint32_t *fd = cs_calloc((size_t)n + 2, 4), *dt = cs_mallocarray(m ? m : 1, 4), *da = cs_mallocarray(m ? m : 1, 4);
    uint32_t *af = cs_calloc((size_t)m + 2, 4), *as = cs_mallocarray(r->nseg ? r->nseg : 1, 4);
    if (!fd || !dt || !da || !af || !as) {
        cs_free(fd); cs_free(dt); cs_free(da); cs_free(af); cs_free(as);
        return CS_ENOMEM;
    }
    /* the two structures are independent: built side by side (one parallel region) */
#pragma omp parallel sections num_threads(2) if (m >= (1u << 20))
    {
#pragma omp section
        {
            for (uint32_t e = 0; e < m; e++) fd[r->up_head[e] + 2]++;
            for (uint32_t v = 0; v < n; v++) fd[v + 2] += fd[v + 1];
            for (uint32_t w = 0; w < n; w++) /* w increasing: lists sorted by tail */
                for (uint32_t e = r->first_up[w]; e < r->first_up[w + 1]; e++) {
                    uint32_t p = fd[r->up_head[e] + 1]++;
                    dt[p] = w;
                    da[p] = e;
                }
        }
#pragma omp section
        {
            for (uint32_t s = 0; s < r->nseg; s++)
                if (r->seg_cch[s] != CS_INVALID_ID) af[r->seg_cch[s] + 2]++;
            for (uint32_t e = 0; e < m; e++) af[e + 2] += af[e + 1];
            for (uint32_t s = 0; s < r->nseg; s++)
                if (r->seg_cch[s] != CS_INVALID_ID) as[af[r->seg_cch[s] + 1]++] = s;
        }
    }
    cs_free(r->first_dn); cs_free(r->dn_tail); cs_free(r->dn_arc); cs_free(r->arc_first_seg); cs_free(r->arc_segs);
    r->first_dn = fd; r->dn_tail = dt; r->dn_arc = da; r->arc_first_seg = af; r->arc_segs = as;
    return CS_OK;
}

static uint32_t arc_tail(const cs_router *r, uint32_t e)
{
    /* largest v with first_up[v] <= e */
    uint32_t lo = 0, hi = r->n;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r->first_up[mid] <= e) lo = mid;
        else hi = mid;
    }
    return lo;
}

typedef struct { uint32_t tail, e; } qitem;

static void heap_push(qitem *h, size_t *n, qitem x)
{
    size_t i = (*n)++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (h[p].tail < x.tail || (h[p].tail == x.tail && h[p].e <= x.e)) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static qitem heap_pop(qitem *h, size_t *n)
{
    qitem top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && (h[c + 1].tail < h[c].tail || (h[c + 1].tail == h[c].tail && h[c + 1].e < h[c].e))) c++;
        if (h[c].tail < last.tail || (h[c].tail == last.tail && h[c].e < last.e)) { h[i] = h[c]; i = c; }
        else break;
    }
    if (*n) h[i] = last;
    return top;
}

/* First position p in [lo, hi) with a[p] >= key (a increasing), searching forward from lo. */
static inline uint32_t gallop(const uint32_t *a, uint32_t lo, uint32_t hi, uint32_t key)
{
    uint32_t step = 1, p = lo;
    while (p < hi && a[p] < key) {
        lo = p + 1;
        p = lo + step - 1 < hi ? lo + step - 1 : hi;
        step *= 2;
    }
    /* a[lo-1] < key, and a[p] >= key or p == hi: binary search in [lo, p] */
    uint32_t h = p < hi ? p + 1 : hi;
    while (lo < h) {
        uint32_t mid = lo + (h - lo) / 2;
        if (a[mid] < key) lo = mid + 1;
        else h = mid;
    }
    return lo;
}

/* Exact weight of hierarchy arc e = {x,y} (x < y) from its segments and lower triangles. */
static void pull(const cs_router *r, const uint64_t *up, const uint64_t *dn, uint32_t e, uint32_t x, int road_only,
                 uint64_t *nu_out, uint64_t *nd_out, uint32_t *pairs, const uint32_t *mark)
{
    uint32_t y = r->up_head[e];
    uint64_t nu = RT_INF, nd = RT_INF;
    for (uint32_t k = r->arc_first_seg[e]; k < r->arc_first_seg[e + 1]; k++) {
        uint32_t s = r->arc_segs[k];
        if (road_only && rt_nonroad_mode(r->seg_mode[s])) continue;
        uint64_t kf, kb;
        rt_seg_keys(r, s, &kf, &kb);
        if (r->rank[r->seg_u[s]] > r->rank[r->seg_v[s]]) { uint64_t t = kf; kf = kb; kb = t; }
        if (kf < nu) nu = kf;
        if (kb < nd) nd = kb;
    }
    /* lower triangles: w in down(x) and down(y); walk the shorter list, gallop in the longer; the arc
       pairs are collected first and their weights read with prefetching (random accesses) */
    uint32_t i = r->first_dn[x], ie = r->first_dn[x + 1], j = r->first_dn[y], je = r->first_dn[y + 1], np = 0;
    /* only w < x can be in both lists */
    je = gallop(r->dn_tail, j, je, x);
    if (mark && (je - j) <= 8 * (ie - i)) {
        /* x's lower neighbours are marked (mark[w] = their position in x's list): one linear pass over y's */
        for (uint32_t q = j; q < je; q++) {
            uint32_t pw = mark[r->dn_tail[q]];
            if (pw == CS_INVALID_ID) continue;
            pairs[2 * np] = r->dn_arc[pw];
            pairs[2 * np + 1] = r->dn_arc[q];
            np++;
        }
        ie = i; /* skip the merge below */
    }
    int swap = ie - i > je - j;
    uint32_t si = swap ? j : i, se = swap ? je : ie, li = swap ? i : j, le = swap ? ie : je;
    for (; si < se && li < le; si++) {
        uint32_t w = r->dn_tail[si];
        li = gallop(r->dn_tail, li, le, w);
        if (li == le) break;
        if (r->dn_tail[li] != w) continue;
        pairs[2 * np] = swap ? r->dn_arc[li] : r->dn_arc[si];
        pairs[2 * np + 1] = swap ? r->dn_arc[si] : r->dn_arc[li];
        np++;
        li++;
    }
    for (uint32_t q = 0; q < np; q++) {
        if (q + 8 < np) {
            __builtin_prefetch(&dn[pairs[2 * q + 16]]);
            __builtin_prefetch(&up[pairs[2 * q + 16]]);
            __builtin_prefetch(&dn[pairs[2 * q + 17]]);
            __builtin_prefetch(&up[pairs[2 * q + 17]]);
        }
        uint32_t ewx = pairs[2 * q], ewy = pairs[2 * q + 1];
        uint64_t t1 = rt_add(dn[ewx], up[ewy]);
        if (t1 < nu) nu = t1;
        uint64_t t2 = rt_add(dn[ewy], up[ewx]);
        if (t2 < nd) nd = t2;
    }
    *nu_out = nu;
    *nd_out = nd;
}

/*
 * Partial re-customization. Seeded arcs are recomputed exactly (pull over
 * their segments and lower triangles), in increasing order of their lower
 * node, so the arcs a triangle reads are final. When arcs {x,y} of node x
 * change, every arc {y,z} (z another upper neighbour of x) whose triangle
 * through x either improves or was tight (its old value equalled the arc's
 * weight, so an increase may raise it) is queued; other arcs cannot change.
 */
#ifndef CS_RT_APPLY_THREADS
#define CS_RT_APPLY_THREADS 1
#endif

/* Candidate arcs {y,z} of node x whose triangle y-x-z changed with arc e = {x,y} (see partial()). */
static size_t queue_cands(const cs_router *r, const uint64_t *up, const uint64_t *dn, const uint64_t *oup,
                          const uint64_t *odn, const uint8_t *queued, const uint8_t *chgflag, uint32_t x, uint32_t e,
                          uint32_t *fz, uint32_t *out)
{
    uint32_t b = r->first_up[x], e_end = r->first_up[x + 1], y = r->up_head[e];
    /* the upper neighbours of x form a clique: arc {y,z} is found among y's lower neighbours
       (z < y) or upper neighbours (z > y); z increases, so both lists are searched forward */
    uint32_t pd = r->first_dn[y], pde = r->first_dn[y + 1], pu = r->first_up[y], pue = r->first_up[y + 1];
    /* two passes: find the arcs {y,z} first (sequential in y's lists), then test them with their
       weights prefetched (random accesses over the whole hierarchy: the cost of this loop) */
    for (uint32_t k = b; k < e_end; k++) {
        uint32_t z = r->up_head[k], f = CS_INVALID_ID;
        /* a pair of changed arcs gives the same candidate and test from both sides: examined from the lower */
        if (k == e || (chgflag[k - b] && k < e)) { fz[k - b] = f; continue; }
        if (z < y) {
            pd = gallop(r->dn_tail, pd, pde, z);
            f = pd < pde && r->dn_tail[pd] == z ? r->dn_arc[pd] : CS_INVALID_ID;
        } else {
            pu = gallop(r->up_head, pu, pue, z);
            f = pu < pue && r->up_head[pu] == z ? pu : CS_INVALID_ID;
        }
        fz[k - b] = f;
    }
    size_t nc = 0;
    for (uint32_t k = b; k < e_end; k++) {
        if (k + 12 < e_end && fz[k + 12 - b] != CS_INVALID_ID) {
            uint32_t fp = fz[k + 12 - b];
            __builtin_prefetch(&up[fp]);
            __builtin_prefetch(&dn[fp]);
            __builtin_prefetch(&queued[fp]);
        }
        uint32_t f = fz[k - b];
        if (f == CS_INVALID_ID || queued[f]) continue;
        uint32_t z = r->up_head[k];
        /* lo->x->hi uses dn(x,lo) + up(x,hi); hi->x->lo uses dn(x,hi) + up(x,lo) */
        uint32_t el = y < z ? e : k, eh = y < z ? k : e;
        uint64_t nu = rt_add(dn[el], up[eh]), nd = rt_add(dn[eh], up[el]);
        uint64_t ou = rt_add(odn[el - b], oup[eh - b]), od = rt_add(odn[eh - b], oup[el - b]);
        int need = nu < up[f] || nd < dn[f] || (ou == up[f] && nu != ou) || (od == dn[f] && nd != od);
        if (need) out[nc++] = f;
    }
    return nc;
}

/*
 * Partial re-customization. Seeded arcs are recomputed exactly (pull over
 * their segments and lower triangles), in increasing order of their lower
 * node, so the arcs a triangle reads are final. When arcs {x,y} of node x
 * change, every arc {y,z} (z another upper neighbour of x) whose triangle
 * through x either improves or was tight (its old value equalled the arc's
 * weight, so an increase may raise it) is queued; other arcs cannot change.
 * The pulls of one node and the candidate tests run in parallel when they
 * are many; the queue is a set ordered by (lower node, arc), so the result
 * does not depend on the thread count.
 */
static cs_status partial(cs_router *r, const uint32_t *seed, size_t nseed, int road_only)
{
    uint64_t *up = road_only ? r->r_up : r->w_up, *dn = road_only ? r->r_dn : r->w_dn;
    size_t cap = nseed + 64, hn = 0;
    qitem *h = cs_mallocarray(cap, sizeof *h);
    uint8_t *queued = cs_calloc(r->ncch ? r->ncch : 1, 1);
    uint32_t maxdeg = 0, maxdn = 0;
    for (uint32_t v = 0; v < r->n; v++) {
        if (r->first_up[v + 1] - r->first_up[v] > maxdeg) maxdeg = r->first_up[v + 1] - r->first_up[v];
        if (r->first_dn[v + 1] - r->first_dn[v] > maxdn) maxdn = r->first_dn[v + 1] - r->first_dn[v];
    }
    /* CS_RT_APPLY_THREADS > 1 (compile time) runs big pull groups and candidate tests in parallel; 1 by
       default: the many short parallel regions cost more than they save when the 2 cores are shared
       (measured 8x slower at load 6) */
    int nt = CS_RT_APPLY_THREADS;
    uint64_t *oup = cs_mallocarray(maxdeg + 1, 8), *odn = cs_mallocarray(maxdeg + 1, 8);
    uint32_t *chg = cs_mallocarray(maxdeg + 1, 4), *grp = cs_mallocarray(maxdeg + 1, 4);
    uint32_t *fz = cs_mallocarray((size_t)nt * (maxdeg + 1), 4);
    uint32_t *pairs = cs_mallocarray((size_t)nt * (2 * (size_t)maxdn + 2), 4);
    /* candidates: one list of deg + 1 (sequential), or one per changed arc of a node (parallel, bounded) */
    size_t candcap = (size_t)(maxdeg + 1) * (maxdeg + 1);
    if (nt == 1 || candcap > ((size_t)1 << 24)) candcap = nt == 1 ? (size_t)maxdeg + 1 : (size_t)1 << 24;
    uint32_t *cand = cs_mallocarray(candcap, 4);
    size_t *ccnt = cs_mallocarray(maxdeg + 2, sizeof *ccnt);
    uint32_t *markbuf = cs_mallocarray(r->n ? r->n : 1, 4);
    if (markbuf) memset(markbuf, 0xff, (size_t)(r->n ? r->n : 1) * 4);
    uint8_t *chgflag = cs_calloc(maxdeg + 1, 1);
    uint64_t *gnu = cs_mallocarray(maxdeg + 1, 8), *gnd = cs_mallocarray(maxdeg + 1, 8);
    cs_status st = CS_OK;
    if (!h || !queued || !oup || !odn || !chg || !grp || !gnu || !gnd || !fz || !pairs || !cand || !ccnt || !chgflag || !markbuf) {
        st = CS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nseed; i++)
        if (!queued[seed[i]]) { queued[seed[i]] = 1; heap_push(h, &hn, (qitem){arc_tail(r, seed[i]), seed[i]}); }
    while (hn) {
        uint32_t x = h[0].tail, b = r->first_up[x], e_end = r->first_up[x + 1], nchg = 0, deg = e_end - b;
        for (uint32_t k = b; k < e_end; k++) { oup[k - b] = up[k]; odn[k - b] = dn[k]; }
        /* recompute every queued arc of x; the pulls only read final arcs (lower tails) */
        uint32_t ng = 0;
        while (hn && h[0].tail == x) {
            qitem it = heap_pop(h, &hn);
            queued[it.e] = 0;
            grp[ng++] = it.e;
        }
        r->last.arcs_recomputed += ng;
        /* several pulls at x: mark x's lower neighbours once (mark = NULL below: merge lists instead) */
        uint32_t *mark = ng >= 4 ? markbuf : NULL;
        if (mark)
            for (uint32_t q = r->first_dn[x]; q < r->first_dn[x + 1]; q++) mark[r->dn_tail[q]] = q;
        if (ng >= 32 && nt > 1) {
#pragma omp parallel for num_threads(nt) schedule(dynamic, 4)
            for (uint32_t g = 0; g < ng; g++)
                pull(r, up, dn, grp[g], x, road_only, &gnu[g], &gnd[g],
                     pairs + (size_t)omp_get_thread_num() * (2 * (size_t)maxdn + 2), mark);
        } else
            for (uint32_t g = 0; g < ng; g++) pull(r, up, dn, grp[g], x, road_only, &gnu[g], &gnd[g], pairs, mark);
        if (ng >= 4)
            for (uint32_t q = r->first_dn[x]; q < r->first_dn[x + 1]; q++) mark[r->dn_tail[q]] = CS_INVALID_ID;
        for (uint32_t g = 0; g < ng; g++) {
            uint32_t e = grp[g];
            uint64_t nu = gnu[g], nd = gnd[g];
            if (nu == up[e] && nd == dn[e]) continue;
            int k = road_only;
            if (r->log_n[k] == r->log_cap[k]) {
                size_t nc = r->log_cap[k] ? 2 * r->log_cap[k] : 256;
                uint32_t *a2 = cs_reallocarray(r->log_arc[k], nc, 4);
                if (a2) r->log_arc[k] = a2;
                uint64_t *u2 = cs_reallocarray(r->log_up[k], nc, 8);
                if (u2) r->log_up[k] = u2;
                uint64_t *d2 = cs_reallocarray(r->log_dn[k], nc, 8);
                if (d2) r->log_dn[k] = d2;
                if (!a2 || !u2 || !d2) { st = CS_ENOMEM; goto out; }
                r->log_cap[k] = nc;
            }
            r->log_arc[k][r->log_n[k]] = e;
            r->log_up[k][r->log_n[k]] = up[e];
            r->log_dn[k][r->log_n[k]++] = dn[e];
            up[e] = nu;
            dn[e] = nd;
            chg[nchg++] = e;
            r->last.arcs_changed++;
        }
        /* queue the arcs whose triangle through x changed: candidates of changed arc c in
           cand[c*deg ..] (parallel when the candidate tests are many), then queued in order */
        uint32_t per = deg + 1;
        for (uint32_t c = 0; c < nchg; c++) chgflag[chg[c] - b] = 1;
        int par = nt > 1 && (size_t)nchg * deg >= 20000 && (size_t)nchg * per <= candcap;
        if (par) {
#pragma omp parallel for num_threads(nt) schedule(dynamic, 2)
            for (uint32_t c = 0; c < nchg; c++)
                ccnt[c] = queue_cands(r, up, dn, oup, odn, queued, chgflag, x, chg[c],
                                      fz + (size_t)omp_get_thread_num() * (maxdeg + 1), cand + (size_t)c * per);
        }
        for (uint32_t c = 0; c < nchg; c++) {
            size_t nc = par ? ccnt[c] : queue_cands(r, up, dn, oup, odn, queued, chgflag, x, chg[c], fz, cand);
            const uint32_t *cl = par ? cand + (size_t)c * per : cand;
            for (size_t q = 0; q < nc; q++) {
                uint32_t f = cl[q];
                if (queued[f]) continue;
                if (hn == cap) {
                    size_t ncap = cap * 2;
                    qitem *h2 = cs_reallocarray(h, ncap, sizeof *h2);
                    if (!h2) { st = CS_ENOMEM; goto out; }
                    h = h2;
                    cap = ncap;
                }
                queued[f] = 1;
                heap_push(h, &hn, (qitem){arc_tail(r, f), f});
            }
        }
        for (uint32_t c = 0; c < nchg; c++) chgflag[chg[c] - b] = 0;
    }
out:
    cs_free(h); cs_free(queued); cs_free(oup); cs_free(odn); cs_free(chg);
    cs_free(grp); cs_free(gnu); cs_free(gnd); cs_free(fz); cs_free(pairs); cs_free(cand); cs_free(ccnt); cs_free(chgflag); cs_free(markbuf);
    return st;
}

/* Copy every array living in the file mapping to the heap. */
cs_status rt_detach(cs_router *r)
{
    if (!r->map) return CS_OK;
    struct { void **p; size_t bytes; } a[] = {
        {(void **)&r->seg_u, (size_t)r->nseg * 4}, {(void **)&r->seg_v, (size_t)r->nseg * 4},
        {(void **)&r->seg_fwd, (size_t)r->nseg * 4}, {(void **)&r->seg_bwd, (size_t)r->nseg * 4},
        {(void **)&r->seg_len, (size_t)r->nseg * 4}, {(void **)&r->seg_mode, (size_t)r->nseg},
        {(void **)&r->seg_cch, (size_t)r->nseg * 4}, {(void **)&r->rank, (size_t)r->n * 4},
        {(void **)&r->order, (size_t)r->n * 4}, {(void **)&r->parent, (size_t)r->n * 4},
        {(void **)&r->first_up, ((size_t)r->n + 1) * 4}, {(void **)&r->up_head, (size_t)r->ncch * 4},
        {(void **)&r->w_up, (size_t)r->ncch * 8}, {(void **)&r->w_dn, (size_t)r->ncch * 8},
        {(void **)&r->r_up, r->r_up ? (size_t)r->ncch * 8 : 0}, {(void **)&r->r_dn, r->r_dn ? (size_t)r->ncch * 8 : 0},
        {(void **)&r->scc, (size_t)r->n * 4}, {(void **)&r->scc_sizes, (size_t)r->nscc * 4},
    };
    size_t k = sizeof a / sizeof a[0];
    void *copies[sizeof a / sizeof a[0]] = {0};
    for (size_t i = 0; i < k; i++) {
        if (!*a[i].p) continue;
        copies[i] = cs_malloc(a[i].bytes ? a[i].bytes : 1);
        if (!copies[i]) {
            for (size_t j = 0; j < i; j++) cs_free(copies[j]);
            return CS_ENOMEM;
        }
        if (a[i].bytes) memcpy(copies[i], *a[i].p, a[i].bytes);
    }
    for (size_t i = 0; i < k; i++)
        if (*a[i].p) *a[i].p = copies[i];
    void *map = r->map;
    size_t sz = r->map_size;
    r->map = NULL;
    munmap(map, sz);
    return CS_OK;
}

static cs_status grow(void **p, size_t n, size_t elem)
{
    void *q = cs_reallocarray(*p, n ? n : 1, elem);
    if (!q) return CS_ENOMEM;
    *p = q;
    return CS_OK;
}

/* Is node b reachable from node a on the current metric? Exact elimination-tree query (up from a, down
   to b, meeting on their common ancestors); da/db are n-entry scratch arrays (only the chains are used).
   A route whose packed weight saturates counts as unreachable (callers then recompute, the safe side). */
static int cch_reach(const cs_router *r, uint32_t a, uint32_t b, uint64_t *da, uint64_t *db)
{
    uint32_t x = r->rank[a], y = r->rank[b];
    const uint32_t *fu = r->first_up, *hd = r->up_head;
    for (int side = 0; side < 2; side++) {
        uint64_t *d = side ? db : da;
        const uint64_t *w = side ? r->w_dn : r->w_up;
        uint32_t s0 = side ? y : x;
        for (uint32_t v = s0; v != CS_INVALID_ID; v = r->parent[v]) d[v] = RT_INF;
        d[s0] = 0;
        for (uint32_t v = s0; v != CS_INVALID_ID; v = r->parent[v]) {
            if (d[v] == RT_INF) continue;
            for (uint32_t e = fu[v]; e < fu[v + 1]; e++) {
                uint64_t k = rt_add(d[v], w[e]);
                if (k < d[hd[e]]) d[hd[e]] = k;
            }
        }
    }
    for (uint32_t v1 = x, v2 = y; v1 != CS_INVALID_ID && v2 != CS_INVALID_ID;) {
        if (v1 == v2) {
            if (rt_add(da[v1], db[v1]) != RT_INF) return 1;
            v1 = r->parent[v1];
            v2 = r->parent[v2];
        } else if (v1 < v2) v1 = r->parent[v1];
        else v2 = r->parent[v2];
    }
    return 0;
}

/*
 * Components after a partial apply: unchanged when no direction opened and every closed direction a->b
 * still has a route a ~> b (then every old route can be rerouted, so reachability is the same);
 * otherwise recomputed.
 */
static cs_status scc_after(cs_router *r, const cs_route_changes *c)
{
    int opened = c->nadds > 0, closed = 0;
    for (size_t q = 0; q < r->log_nseg; q++) {
        uint32_t sg = r->log_seg[q];
        if (sg >= r->nseg) continue;
        int of = r->log_old_fwd[q] != CS_NO_TIME, ob = r->log_old_bwd[q] != CS_NO_TIME;
        int nf = r->seg_fwd[sg] != CS_NO_TIME, nb = r->seg_bwd[sg] != CS_NO_TIME;
        opened |= (!of && nf) || (!ob && nb);
        closed |= (of && !nf) || (ob && !nb);
    }
    if (opened) return rt_compute_scc(r);
    if (!closed) return CS_OK;
    uint64_t *da = cs_mallocarray(r->n ? r->n : 1, 8), *db = cs_mallocarray(r->n ? r->n : 1, 8);
    if (!da || !db) { cs_free(da); cs_free(db); return rt_compute_scc(r); }
    int same = 1;
    for (size_t q = 0; q < r->log_nseg && same; q++) {
        uint32_t sg = r->log_seg[q];
        if (sg >= r->nseg || r->seg_u[sg] == r->seg_v[sg]) continue;
        uint32_t u = r->seg_u[sg], v = r->seg_v[sg];
        if (r->log_old_fwd[q] != CS_NO_TIME && r->seg_fwd[sg] == CS_NO_TIME && !cch_reach(r, u, v, da, db)) same = 0;
        if (same && r->log_old_bwd[q] != CS_NO_TIME && r->seg_bwd[sg] == CS_NO_TIME && !cch_reach(r, v, u, da, db))
            same = 0;
    }
    cs_free(da);
    cs_free(db);
    return same ? CS_OK : rt_compute_scc(r);
}

cs_status cs_router_apply(cs_router *r, const cs_route_changes *c)
{
    memset(&r->last, 0, sizeof r->last);
    rt_log_clear(r);
    r->log_old_fwd = r->log_old_bwd = NULL;
    r->log_increase = 0;
    r->gen++;
    r->log_full = 1; /* until the partial path completes */
    /* validate everything first: on failure nothing changes */
    for (size_t i = 0; i < c->nops; i++)
        if (c->ops[i].seg >= r->nseg)
            return cs_error_set(CS_EINVAL, "change %zu: segment %u out of range (%u segments)", i, c->ops[i].seg,
                                r->nseg);
    for (size_t i = 0; i < c->nadds; i++)
        if (c->adds[i].u >= r->n || c->adds[i].v >= r->n)
            return cs_error_set(CS_EINVAL, "added segment %zu: node out of range (%u nodes)", i, r->n);
    if ((uint64_t)r->nseg + c->nadds >= UINT32_MAX) return cs_error_set(CS_EUNSUPPORTED, "too many segments");
    cs_status st;
    int need_topology = 0;
    for (size_t i = 0; i < c->nadds; i++) {
        uint32_t a = r->rank[c->adds[i].u], b = r->rank[c->adds[i].v];
        if (a == b) continue;
        if (a > b) { uint32_t t = a; a = b; b = t; }
        if (rt_find_arc(r, a, b) == CS_INVALID_ID) need_topology = 1;
    }
    int new_nonroad = 0;
    for (size_t i = 0; i < c->nadds; i++)
        if (rt_nonroad_mode(c->adds[i].mode) && !r->has_nonroad) new_nonroad = 1;
    /* the query hierarchy belongs to the old metric: dropped (queries use the full CCH from now on) */
    rt_reduced_free(r);
    /* a loaded router is copied to the heap first (its arrays change size or content) */
    if ((st = rt_detach(r))) return st;
    if (c->nadds || new_nonroad) {
        size_t nn = (size_t)r->nseg + c->nadds;
        if ((st = grow((void **)&r->seg_u, nn, 4)) || (st = grow((void **)&r->seg_v, nn, 4)) ||
            (st = grow((void **)&r->seg_fwd, nn, 4)) || (st = grow((void **)&r->seg_bwd, nn, 4)) ||
            (st = grow((void **)&r->seg_len, nn, 4)) || (st = grow((void **)&r->seg_mode, nn, 1)) ||
            (st = grow((void **)&r->seg_cch, nn, 4)))
            return st; /* arrays only grew: the router is unchanged */
    }
    /* from here on only memory failures can occur; they leave a consistent but partial metric
       only in the topology path, which then rebuilds from the segments. */
    uint32_t *seeds = cs_mallocarray(c->nops + c->nadds + 1, sizeof *seeds);
    size_t lcap = c->nops + c->nadds + 1;
    /* one block: changed segments, then their times before the apply (forward, backward) */
    r->log_seg = cs_mallocarray(3 * lcap, sizeof *r->log_seg);
    if (!seeds || !r->log_seg) { cs_free(seeds); return CS_ENOMEM; }
    r->log_old_fwd = r->log_seg + lcap;
    r->log_old_bwd = r->log_seg + 2 * lcap;
    for (size_t i = 0; i < c->nops; i++) {
        r->log_old_fwd[r->log_nseg] = r->seg_fwd[c->ops[i].seg];
        r->log_old_bwd[r->log_nseg] = r->seg_bwd[c->ops[i].seg];
        r->log_seg[r->log_nseg++] = c->ops[i].seg;
    }
    for (size_t i = 0; i < c->nadds; i++) {
        r->log_old_fwd[r->log_nseg] = r->log_old_bwd[r->log_nseg] = CS_NO_TIME;
        r->log_seg[r->log_nseg++] = r->nseg + (uint32_t)i;
    }
    size_t ns = 0;
    for (size_t i = 0; i < c->nops; i++) {
        const rt_op *o = &c->ops[i];
        if (o->kind == 0) { r->seg_fwd[o->seg] = o->fwd; r->seg_bwd[o->seg] = o->bwd; }
        else { r->seg_fwd[o->seg] = scale_ms(r->seg_fwd[o->seg], o->factor); r->seg_bwd[o->seg] = scale_ms(r->seg_bwd[o->seg], o->factor); }
        if (r->seg_cch[o->seg] != CS_INVALID_ID) seeds[ns++] = r->seg_cch[o->seg];
    }
    /* no time decreased and nothing added: every route only got longer (the session's cell-level test) */
    r->log_increase = c->nadds == 0;
    for (size_t q = 0; q < c->nops; q++) {
        uint32_t sg = r->log_seg[q];
        if (r->seg_fwd[sg] < r->log_old_fwd[q] || r->seg_bwd[sg] < r->log_old_bwd[q]) r->log_increase = 0;
    }
    for (size_t i = 0; i < c->nadds; i++) {
        uint32_t s = r->nseg++;
        const rt_add_seg *a = &c->adds[i];
        r->seg_u[s] = a->u; r->seg_v[s] = a->v; r->seg_fwd[s] = a->fwd; r->seg_bwd[s] = a->bwd;
        r->seg_len[s] = a->len; r->seg_mode[s] = a->mode;
        if (rt_nonroad_mode(a->mode)) r->has_nonroad = 1;
        uint32_t x = r->rank[a->u], y = r->rank[a->v];
        if (x > y) { uint32_t t = x; x = y; y = t; }
        r->seg_cch[s] = x == y ? CS_INVALID_ID : rt_find_arc(r, x, y);
        if (r->seg_cch[s] != CS_INVALID_ID) seeds[ns++] = r->seg_cch[s];
    }
    if (need_topology || new_nonroad) {
        r->last.rebuilt_topology = need_topology;
        cs_free(seeds);
        if (need_topology) {
            if ((st = rt_contract(r)) || (st = rt_map_segments(r))) return st;
        } else {
            cs_free(r->first_dn); cs_free(r->dn_tail); cs_free(r->dn_arc);
            cs_free(r->arc_first_seg); cs_free(r->arc_segs);
            r->first_dn = r->dn_tail = r->dn_arc = r->arc_first_seg = r->arc_segs = NULL;
        }
        if ((st = rt_customize(r, 0))) return st;
        r->last.arcs_recomputed = r->ncch;
        return rt_compute_scc(r);
    }
    /* partial re-customization; an added segment on an existing arc changes the arc -> segment map */
    if (c->nadds) {
        cs_free(r->arc_first_seg); cs_free(r->arc_segs);
        r->arc_first_seg = r->arc_segs = NULL;
    }
    if ((st = ensure_lazy(r))) { cs_free(seeds); return st; }
    st = partial(r, seeds, ns, 0);
    if (!st && r->r_up) st = partial(r, seeds, ns, 1);
    cs_free(seeds);
    if (st) return st;
    r->log_full = 0;
    return scc_after(r, c);
}

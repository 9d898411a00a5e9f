/*
 * csr.c: the routing graph — segment arrays copied from a cs_network,
 * strongly connected components (iterative Tarjan), plain Dijkstra trees,
 * router build/free/info, and cs_network_from_arcs for callers without an
 * importer. Algorithms and units: docs/routing.md.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "citysys/fileio.h"
#include "routing_internal.h"

void cs_router_opts_default(cs_router_opts *o)
{
    memset(o, 0, sizeof *o);
    o->threads = 0;
    o->leaf_size = 16;
    o->query_hierarchy = 0; /* cs_router_save derives it: a one-shot build + query is faster without */
}

void rt_free_arrays(cs_router *r)
{
    rt_reduced_free(r);
    if (!r->map) {
        cs_free(r->seg_u); cs_free(r->seg_v); cs_free(r->seg_fwd); cs_free(r->seg_bwd); cs_free(r->seg_len);
        cs_free(r->seg_mode); cs_free(r->seg_cch); cs_free(r->rank); cs_free(r->order); cs_free(r->parent);
        cs_free(r->first_up); cs_free(r->up_head); cs_free(r->w_up); cs_free(r->w_dn); cs_free(r->r_up);
        cs_free(r->r_dn); cs_free(r->scc); cs_free(r->scc_sizes);
    } else {
        munmap(r->map, r->map_size);
        r->map = NULL;
    }
    cs_free(r->first_dn); cs_free(r->dn_tail); cs_free(r->dn_arc);
    cs_free(r->arc_first_seg); cs_free(r->arc_segs);
    r->first_dn = r->dn_tail = r->dn_arc = r->arc_first_seg = r->arc_segs = NULL;
    rt_log_clear(r);
}

void rt_log_clear(cs_router *r)
{
    for (int k = 0; k < 2; k++) {
        cs_free(r->log_arc[k]); cs_free(r->log_up[k]); cs_free(r->log_dn[k]);
        r->log_arc[k] = NULL; r->log_up[k] = r->log_dn[k] = NULL;
        r->log_n[k] = r->log_cap[k] = 0;
    }
    cs_free(r->log_seg);
    r->log_seg = NULL;
    r->log_nseg = 0;
}

void cs_router_free(cs_router *r)
{
    if (!r) return;
    rt_free_arrays(r);
    cs_free(r);
}

/* ---- strongly connected components: iterative Tarjan (no recursion) ---- */

/* Forward CSR of open arcs (node ids). Caller frees first/head/seg. */
static cs_status build_csr(const cs_router *r, int reverse, uint32_t **first_out, uint32_t **head_out,
                           uint32_t **seg_out, uint64_t **key_out)
{
    uint32_t n = r->n;
    uint32_t *first = cs_calloc((size_t)n + 2, sizeof *first);
    size_t m = 0;
    if (!first) return CS_ENOMEM;
    for (uint32_t s = 0; s < r->nseg; s++) {
        uint32_t a = r->seg_u[s], b = r->seg_v[s];
        if (reverse) { uint32_t t = a; a = b; b = t; }
        if (r->seg_fwd[s] != CS_NO_TIME) { first[a + 2]++; m++; }
        if (r->seg_bwd[s] != CS_NO_TIME) { first[b + 2]++; m++; }
    }
    if (m >= UINT32_MAX) { cs_free(first); return cs_error_set(CS_EUNSUPPORTED, "more than 2^32-1 arcs"); }
    for (uint32_t i = 0; i < n; i++) first[i + 2] += first[i + 1];
    uint32_t *head = cs_mallocarray(m ? m : 1, sizeof *head);
    uint32_t *seg = seg_out ? cs_mallocarray(m ? m : 1, sizeof *seg) : NULL;
    uint64_t *key = key_out ? cs_mallocarray(m ? m : 1, sizeof *key) : NULL;
    if (!head || (seg_out && !seg) || (key_out && !key)) {
        cs_free(first); cs_free(head); cs_free(seg); cs_free(key);
        return CS_ENOMEM;
    }
    for (uint32_t s = 0; s < r->nseg; s++) {
        uint32_t a = r->seg_u[s], b = r->seg_v[s];
        uint64_t kf, kb;
        rt_seg_keys(r, s, &kf, &kb);
        if (reverse) { uint32_t t = a; a = b; b = t; }
        if (r->seg_fwd[s] != CS_NO_TIME) {
            uint32_t p = first[a + 1]++;
            head[p] = b;
            if (seg) seg[p] = s;
            if (key) key[p] = kf;
        }
        if (r->seg_bwd[s] != CS_NO_TIME) {
            uint32_t p = first[b + 1]++;
            head[p] = a;
            if (seg) seg[p] = s;
            if (key) key[p] = kb;
        }
    }
    *first_out = first;
    *head_out = head;
    if (seg_out) *seg_out = seg;
    if (key_out) *key_out = key;
    return CS_OK;
}

static int cmp_size_desc(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b; /* (size << 32 | ~first node) packed; larger first */
    return *x < *y ? 1 : *x > *y ? -1 : 0;
}

cs_status rt_compute_scc(cs_router *r)
{
    uint32_t n = r->n, *first = NULL, *head = NULL;
    cs_status st = build_csr(r, 0, &first, &head, NULL, NULL);
    if (st) return st;
    uint32_t *index = cs_mallocarray(n ? n : 1, sizeof *index);
    uint32_t *low = cs_mallocarray(n ? n : 1, sizeof *low);
    uint32_t *stack = cs_mallocarray(n ? n : 1, sizeof *stack);
    uint32_t *cstack = cs_mallocarray(n ? n : 1, sizeof *cstack); /* call stack: node */
    uint32_t *cpos = cs_mallocarray(n ? n : 1, sizeof *cpos);     /* next arc to scan */
    uint32_t *comp = cs_mallocarray(n ? n : 1, sizeof *comp);
    uint8_t *onstack = cs_calloc(n ? n : 1, 1);
    uint64_t *sz = NULL;
    uint32_t *sizes = NULL, *remap = NULL;
    if (!index || !low || !stack || !cstack || !cpos || !comp || !onstack) { st = CS_ENOMEM; goto done; }
    for (uint32_t i = 0; i < n; i++) index[i] = CS_INVALID_ID;
    uint32_t next = 0, sp = 0, ncomp = 0;
    for (uint32_t root = 0; root < n; root++) {
        if (index[root] != CS_INVALID_ID) continue;
        uint32_t csp = 0;
        cstack[csp] = root; cpos[csp] = first[root]; csp++;
        index[root] = low[root] = next++;
        stack[sp++] = root; onstack[root] = 1;
        while (csp) {
            uint32_t v = cstack[csp - 1];
            if (cpos[csp - 1] < first[v + 1]) {
                uint32_t w = head[cpos[csp - 1]++];
                if (index[w] == CS_INVALID_ID) {
                    index[w] = low[w] = next++;
                    stack[sp++] = w; onstack[w] = 1;
                    cstack[csp] = w; cpos[csp] = first[w]; csp++;
                } else if (onstack[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
            } else {
                csp--;
                if (low[v] == index[v]) {
                    uint32_t w;
                    do {
                        w = stack[--sp];
                        onstack[w] = 0;
                        comp[w] = ncomp;
                    } while (w != v);
                    ncomp++;
                }
                if (csp) {
                    uint32_t p = cstack[csp - 1];
                    if (low[v] < low[p]) low[p] = low[v];
                }
            }
        }
    }
    /* renumber: by decreasing size, ties by smallest node id */
    sz = cs_calloc(ncomp ? ncomp : 1, sizeof *sz);
    uint32_t *minnode = index; /* reuse */
    for (uint32_t c = 0; c < ncomp; c++) minnode[c] = CS_INVALID_ID;
    if (!sz) { st = CS_ENOMEM; goto done; }
    for (uint32_t v = 0; v < n; v++) {
        sz[comp[v]] += 1ull << 32;
        if (minnode[comp[v]] == CS_INVALID_ID) minnode[comp[v]] = v;
    }
    for (uint32_t c = 0; c < ncomp; c++) sz[c] |= (uint64_t)(CS_INVALID_ID - minnode[c]);
    /* sort (size, -minnode) descending, keep the old component id via minnode -> comp */
    qsort(sz, ncomp, sizeof *sz, cmp_size_desc);
    sizes = cs_mallocarray(ncomp ? ncomp : 1, sizeof *sizes);
    remap = cs_mallocarray(ncomp ? ncomp : 1, sizeof *remap);
    if (!sizes || !remap) { st = CS_ENOMEM; goto done; }
    for (uint32_t c = 0; c < ncomp; c++) {
        uint32_t mn = CS_INVALID_ID - (uint32_t)(sz[c] & 0xffffffffu);
        sizes[c] = (uint32_t)(sz[c] >> 32);
        remap[comp[mn]] = c;
    }
    for (uint32_t v = 0; v < n; v++) comp[v] = remap[comp[v]];
    if (!r->map) { cs_free(r->scc); cs_free(r->scc_sizes); }
    r->scc = comp; comp = NULL;
    r->scc_sizes = sizes; sizes = NULL;
    r->nscc = ncomp;
done:
    cs_free(first); cs_free(head); cs_free(index); cs_free(low); cs_free(stack); cs_free(cstack);
    cs_free(cpos); cs_free(comp); cs_free(onstack); cs_free(sz); cs_free(sizes); cs_free(remap);
    return st;
}

const uint32_t *cs_router_scc(const cs_router *r) { return r->scc; }

/* ---- build ---- */

static int report(cs_progress p, const char *stage, double done, double total)
{
    return p.fn ? p.fn(p.user, stage, done, total) : 0;
}

cs_status cs_router_build(const cs_network *net, const cs_router_opts *opts, cs_progress progress,
                          cs_router **out)
{
    *out = NULL;
    cs_router_opts def;
    if (!opts) { cs_router_opts_default(&def); opts = &def; }
    if (!net) return cs_error_set(CS_EINVAL, "cs_router_build: no network");
    for (uint32_t s = 0; s < net->n_segs; s++) {
        if (net->seg_u[s] >= net->n_nodes || net->seg_v[s] >= net->n_nodes)
            return cs_error_set(CS_EINVAL, "segment %u: end node out of range (%u nodes)", s, net->n_nodes);
    }
    cs_router *r = cs_calloc(1, sizeof *r);
    if (!r) return CS_ENOMEM;
    cs_status st = CS_OK;
    uint32_t n = net->n_nodes, m = net->n_segs;
    r->n = n;
    r->nseg = m;
    size_t mm = m ? m : 1, nn = n ? n : 1;
    r->seg_u = cs_mallocarray(mm, 4); r->seg_v = cs_mallocarray(mm, 4);
    r->seg_fwd = cs_mallocarray(mm, 4); r->seg_bwd = cs_mallocarray(mm, 4);
    r->seg_len = cs_mallocarray(mm, 4); r->seg_mode = cs_calloc(mm, 1);
    r->rank = cs_mallocarray(nn, 4); r->order = cs_mallocarray(nn, 4);
    if (!r->seg_u || !r->seg_v || !r->seg_fwd || !r->seg_bwd || !r->seg_len || !r->seg_mode || !r->rank ||
        !r->order) { st = CS_ENOMEM; goto fail; }
    if (m) {
        memcpy(r->seg_u, net->seg_u, (size_t)m * 4);
        memcpy(r->seg_v, net->seg_v, (size_t)m * 4);
        memcpy(r->seg_fwd, net->seg_fwd_ms, (size_t)m * 4);
        memcpy(r->seg_bwd, net->seg_bwd_ms, (size_t)m * 4);
        if (net->seg_len_cm) memcpy(r->seg_len, net->seg_len_cm, (size_t)m * 4);
        else memset(r->seg_len, 0, (size_t)m * 4);
        if (net->seg_mode) memcpy(r->seg_mode, net->seg_mode, m);
    }
    for (uint32_t s = 0; s < m; s++)
        if (rt_nonroad_mode(r->seg_mode[s])) r->has_nonroad = 1;
    memcpy(r->fingerprint, net->fingerprint, sizeof r->fingerprint);
    r->fingerprint[64] = 0;
    if (report(progress, "routing: components", 0, 4)) { st = cs_error_set(CS_ECANCELED, "cancelled"); goto fail; }
    if ((st = rt_compute_scc(r))) goto fail;
    if (report(progress, "routing: order", 1, 4)) { st = cs_error_set(CS_ECANCELED, "cancelled"); goto fail; }
    if ((st = rt_order(r, net->lon_deg, net->lat_deg, opts->leaf_size ? opts->leaf_size : 16, r->rank))) goto fail;
    for (uint32_t v = 0; v < n; v++) r->order[r->rank[v]] = v;
    if (report(progress, "routing: contraction", 2, 4)) { st = cs_error_set(CS_ECANCELED, "cancelled"); goto fail; }
    if ((st = rt_contract(r))) goto fail;
    if ((st = rt_map_segments(r))) goto fail;
    if (report(progress, "routing: customization", 3, 4)) { st = cs_error_set(CS_ECANCELED, "cancelled"); goto fail; }
    if ((st = rt_customize(r, opts->threads))) goto fail;
    if (opts->query_hierarchy > 0) {
        if (report(progress, "routing: query hierarchy", 4, 5)) { st = cs_error_set(CS_ECANCELED, "cancelled"); goto fail; }
        if ((st = rt_reduce(r, opts->threads))) goto fail;
    }
    report(progress, "routing: done", 5, 5);
    *out = r;
    return CS_OK;
fail:
    cs_router_free(r);
    return st;
}

void cs_router_info_get(const cs_router *r, cs_router_info *o)
{
    memset(o, 0, sizeof *o);
    o->nodes = r->n;
    o->segments = r->nseg;
    for (uint32_t s = 0; s < r->nseg; s++)
        o->arcs += (r->seg_fwd[s] != CS_NO_TIME) + (r->seg_bwd[s] != CS_NO_TIME);
    o->cch_arcs = r->ncch;
    /* shortcuts: hierarchy arcs no segment maps to */
    uint8_t *used = cs_calloc(r->ncch ? r->ncch : 1, 1);
    if (used) {
        uint64_t orig = 0;
        for (uint32_t s = 0; s < r->nseg; s++)
            if (r->seg_cch[s] != CS_INVALID_ID && !used[r->seg_cch[s]]) { used[r->seg_cch[s]] = 1; orig++; }
        o->shortcuts = r->ncch - orig;
        cs_free(used);
    }
    o->elimination_tree_height = r->et_height;
    uint64_t b = (uint64_t)r->nseg * (5 * 4 + 1 + 4) + (uint64_t)r->n * (4 * 4 + 4 + 4) + 4 +
                 (uint64_t)r->ncch * (4 + 16) + (uint64_t)r->nscc * 4;
    if (r->r_up) b += (uint64_t)r->ncch * 16;
    if (r->first_dn) b += (uint64_t)(r->n + 1) * 4 + (uint64_t)r->ncch * 8;
    if (r->arc_first_seg) b += (uint64_t)(r->ncch + 1) * 4 + (uint64_t)r->nseg * 4;
    if (r->q_first) b += (uint64_t)(r->n + 1) * 4 + (uint64_t)r->nq * 12;
    o->memory_bytes = b;
    o->query_arcs = r->q_first ? r->nq : 0;
    o->n_scc = r->nscc;
    o->largest_scc = r->nscc ? r->scc_sizes[0] : 0;
    o->scc_sizes = r->scc_sizes;
    o->has_nonroad = r->has_nonroad;
    memcpy(o->fingerprint, r->fingerprint, 65);
}

void cs_router_last_apply(const cs_router *r, cs_apply_stats *out) { *out = r->last; }

void rt_seg_keys(const cs_router *r, uint32_t s, uint64_t *kf, uint64_t *kb)
{
    *kf = r->seg_fwd[s] == CS_NO_TIME ? RT_INF : rt_key(r->seg_fwd[s], r->seg_len[s]);
    *kb = r->seg_bwd[s] == CS_NO_TIME ? RT_INF : rt_key(r->seg_bwd[s], r->seg_len[s]);
}

/* ---- Dijkstra ---- */

struct cs_dijkstra {
    const cs_router *r;
    uint32_t *first[2], *head[2], *seg[2];
    uint64_t *key[2];
    uint64_t *heap; /* (key, node) pairs as two arrays */
    uint32_t *hnode;
    size_t hcap;
    uint8_t *done;
};

cs_status cs_dijkstra_new(const cs_router *r, cs_dijkstra **out)
{
    *out = NULL;
    cs_dijkstra *d = cs_calloc(1, sizeof *d);
    if (!d) return CS_ENOMEM;
    d->r = r;
    cs_status st;
    for (int k = 0; k < 2; k++)
        if ((st = build_csr(r, k, &d->first[k], &d->head[k], &d->seg[k], &d->key[k]))) {
            cs_dijkstra_free(d);
            return st;
        }
    d->done = cs_calloc(r->n ? r->n : 1, 1);
    d->hcap = 1024;
    d->heap = cs_mallocarray(d->hcap, sizeof *d->heap);
    d->hnode = cs_mallocarray(d->hcap, sizeof *d->hnode);
    if (!d->done || !d->heap || !d->hnode) { cs_dijkstra_free(d); return CS_ENOMEM; }
    *out = d;
    return CS_OK;
}

void cs_dijkstra_free(cs_dijkstra *d)
{
    if (!d) return;
    for (int k = 0; k < 2; k++) { cs_free(d->first[k]); cs_free(d->head[k]); cs_free(d->seg[k]); cs_free(d->key[k]); }
    cs_free(d->heap); cs_free(d->hnode); cs_free(d->done);
    cs_free(d);
}

cs_status cs_dijkstra_run(cs_dijkstra *d, uint32_t source, int reverse, uint64_t *time_ms, uint64_t *len_cm,
                          uint32_t *pred_seg, uint32_t *pred_node)
{
    const cs_router *r = d->r;
    uint32_t n = r->n;
    if (source >= n) return cs_error_set(CS_EINVAL, "dijkstra: source %u out of range (%u nodes)", source, n);
    uint64_t *dist = cs_mallocarray(n, sizeof *dist);
    uint32_t *ps = cs_mallocarray(n, sizeof *ps), *pn = cs_mallocarray(n, sizeof *pn);
    if (!dist || !ps || !pn) { cs_free(dist); cs_free(ps); cs_free(pn); return CS_ENOMEM; }
    for (uint32_t i = 0; i < n; i++) { dist[i] = RT_INF; ps[i] = pn[i] = CS_INVALID_ID; }
    memset(d->done, 0, n);
    int k = reverse ? 1 : 0;
    const uint32_t *first = d->first[k], *head = d->head[k], *seg = d->seg[k];
    const uint64_t *key = d->key[k];
    size_t hn = 0;
    dist[source] = 0;
    d->heap[0] = 0; d->hnode[0] = source; hn = 1;
    cs_status st = CS_OK;
    while (hn) {
        uint64_t kk = d->heap[0];
        uint32_t v = d->hnode[0];
        /* pop */
        hn--;
        if (hn) {
            uint64_t lk = d->heap[hn];
            uint32_t lv = d->hnode[hn];
            size_t i = 0;
            for (;;) {
                size_t c = 2 * i + 1;
                if (c >= hn) break;
                if (c + 1 < hn && (d->heap[c + 1] < d->heap[c] ||
                                   (d->heap[c + 1] == d->heap[c] && d->hnode[c + 1] < d->hnode[c]))) c++;
                if (d->heap[c] < lk || (d->heap[c] == lk && d->hnode[c] < lv)) {
                    d->heap[i] = d->heap[c]; d->hnode[i] = d->hnode[c]; i = c;
                } else break;
            }
            d->heap[i] = lk; d->hnode[i] = lv;
        }
        if (d->done[v] || kk != dist[v]) continue;
        d->done[v] = 1;
        for (uint32_t a = first[v]; a < first[v + 1]; a++) {
            uint32_t w = head[a];
            if (d->done[w]) continue;
            uint64_t nk = rt_add(kk, key[a]);
            if (nk == RT_INF) continue;
            if (nk < dist[w] || (nk == dist[w] && seg[a] < ps[w])) {
                int improved = nk < dist[w];
                dist[w] = nk; ps[w] = seg[a]; pn[w] = v;
                if (!improved) continue;
                if (hn == d->hcap) {
                    size_t nc = d->hcap * 2;
                    uint64_t *h2 = cs_reallocarray(d->heap, nc, sizeof *h2);
                    if (!h2) { st = CS_ENOMEM; goto out; }
                    d->heap = h2;
                    uint32_t *n2 = cs_reallocarray(d->hnode, nc, sizeof *n2);
                    if (!n2) { st = CS_ENOMEM; goto out; }
                    d->hnode = n2;
                    d->hcap = nc;
                }
                size_t i = hn++;
                while (i) {
                    size_t p = (i - 1) / 2;
                    if (d->heap[p] > nk || (d->heap[p] == nk && d->hnode[p] > w)) {
                        d->heap[i] = d->heap[p]; d->hnode[i] = d->hnode[p]; i = p;
                    } else break;
                }
                d->heap[i] = nk; d->hnode[i] = w;
            }
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        if (time_ms) time_ms[i] = dist[i] == RT_INF ? RT_INF : dist[i] >> 32;
        if (len_cm) len_cm[i] = dist[i] == RT_INF ? RT_INF : dist[i] & 0xffffffffu;
        if (pred_seg) pred_seg[i] = ps[i];
        if (pred_node) pred_node[i] = pn[i];
    }
out:
    cs_free(dist); cs_free(ps); cs_free(pn);
    return st;
}

/* ---- cs_network from plain arrays ---- */

cs_status cs_network_from_arcs(uint32_t n, const double *lon, const double *lat, uint32_t m, const uint32_t *u,
                               const uint32_t *v, const uint32_t *fwd_ms, const uint32_t *bwd_ms,
                               const uint32_t *len_cm, const uint8_t *mode, cs_network **out)
{
    *out = NULL;
    for (uint32_t i = 0; i < m; i++)
        if (u[i] >= n || v[i] >= n) return cs_error_set(CS_EINVAL, "segment %u: node out of range", i);
    cs_network *g = cs_calloc(1, sizeof *g);
    if (!g) return CS_ENOMEM;
    size_t nn = n ? n : 1, mm = m ? m : 1;
    g->n_nodes = n;
    g->n_segs = m;
    g->lon_deg = cs_calloc(nn, sizeof(double)); g->lat_deg = cs_calloc(nn, sizeof(double));
    g->seg_u = cs_mallocarray(mm, 4); g->seg_v = cs_mallocarray(mm, 4);
    g->seg_fwd_ms = cs_mallocarray(mm, 4); g->seg_bwd_ms = cs_mallocarray(mm, 4);
    g->seg_len_cm = cs_calloc(mm, 4); g->seg_mode = cs_calloc(mm, 1); g->seg_class = cs_calloc(mm, 1);
    g->seg_way_id = cs_mallocarray(mm, sizeof(int64_t));
    g->geom_off = cs_mallocarray(mm + 1, sizeof(uint64_t));
    g->geom_lon_deg = cs_mallocarray(2 * mm, sizeof(double));
    g->geom_lat_deg = cs_mallocarray(2 * mm, sizeof(double));
    if (!g->lon_deg || !g->lat_deg || !g->seg_u || !g->seg_v || !g->seg_fwd_ms || !g->seg_bwd_ms ||
        !g->seg_len_cm || !g->seg_mode || !g->seg_class || !g->seg_way_id || !g->geom_off || !g->geom_lon_deg ||
        !g->geom_lat_deg) {
        cs_network_from_arcs_free(g);
        return CS_ENOMEM;
    }
    if (lon) memcpy(g->lon_deg, lon, n * sizeof(double));
    if (lat) memcpy(g->lat_deg, lat, n * sizeof(double));
    if (m) {
        memcpy(g->seg_u, u, m * 4); memcpy(g->seg_v, v, m * 4);
        memcpy(g->seg_fwd_ms, fwd_ms, m * 4); memcpy(g->seg_bwd_ms, bwd_ms, m * 4);
        if (len_cm) memcpy(g->seg_len_cm, len_cm, m * 4);
        if (mode) memcpy(g->seg_mode, mode, m);
    }
    cs_sha256 h;
    cs_sha256_init(&h);
    cs_sha256_str(&h, "cs_network_from_arcs v1");
    cs_sha256_update(&h, &n, sizeof n);
    cs_sha256_update(&h, &m, sizeof m);
    cs_sha256_update(&h, g->seg_u, m * 4); cs_sha256_update(&h, g->seg_v, m * 4);
    cs_sha256_update(&h, g->seg_fwd_ms, m * 4); cs_sha256_update(&h, g->seg_bwd_ms, m * 4);
    cs_sha256_update(&h, g->seg_len_cm, m * 4); cs_sha256_update(&h, g->seg_mode, m);
    cs_sha256_update(&h, g->lon_deg, n * sizeof(double)); cs_sha256_update(&h, g->lat_deg, n * sizeof(double));
    cs_sha256_hex(&h, g->fingerprint);
    g->geom_off[0] = 0;
    for (uint32_t i = 0; i < m; i++) {
        g->seg_way_id[i] = i;
        g->geom_off[i + 1] = 2 * (uint64_t)(i + 1);
        g->geom_lon_deg[2 * i] = g->lon_deg[u[i]]; g->geom_lat_deg[2 * i] = g->lat_deg[u[i]];
        g->geom_lon_deg[2 * i + 1] = g->lon_deg[v[i]]; g->geom_lat_deg[2 * i + 1] = g->lat_deg[v[i]];
    }
    *out = g;
    return CS_OK;
}

void cs_network_from_arcs_free(cs_network *g)
{
    if (!g) return;
    cs_free(g->lon_deg); cs_free(g->lat_deg); cs_free(g->seg_u); cs_free(g->seg_v); cs_free(g->seg_fwd_ms);
    cs_free(g->seg_bwd_ms); cs_free(g->seg_len_cm); cs_free(g->seg_mode); cs_free(g->seg_class);
    cs_free(g->seg_way_id); cs_free(g->geom_off); cs_free(g->geom_lon_deg); cs_free(g->geom_lat_deg);
    cs_free(g);
}

/* criticality.c: exact impact of closing road segments, re-querying only the affected origins. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/flows.h"

void cs_criticality_opts_default(cs_criticality_opts *o)
{
    memset(o, 0, sizeof *o);
    o->reference_city = CS_INVALID_ID;
}

void cs_criticality_free(cs_criticality *c)
{
    if (!c) return;
    cs_free(c->seg);
    cs_free(c->impact);
    cs_free(c);
}

static uint32_t reference(const double *pop, size_t n, const cs_criticality_opts *o)
{
    if (o->reference_city != CS_INVALID_ID && o->reference_city < n) return o->reference_city;
    uint32_t r = 0;
    for (size_t i = 1; i < n; i++)
        if (pop[i] > pop[r]) r = (uint32_t)i;
    return r;
}

/* set every listed segment to its network times (restore) or closed */
static cs_status set_segments(cs_router *r, const cs_network *net, const uint32_t *segs, size_t ns, int close)
{
    cs_route_changes *c;
    cs_status st = cs_route_changes_new(&c);
    if (st) return st;
    for (size_t k = 0; k < ns && !st; k++) {
        uint32_t s = segs[k];
        st = close ? cs_route_changes_close(c, s) : cs_route_changes_set_time(c, s, net->seg_fwd_ms[s], net->seg_bwd_ms[s]);
    }
    if (!st) st = cs_router_apply(r, c);
    cs_route_changes_free(c);
    return st;
}

cs_status cs_closure_evaluate(cs_router *r, const cs_network *net, const cs_load *load, const cs_location *loc,
                              size_t n, const cs_matrix *F, const cs_matrix *T0, const double *pop,
                              const uint32_t *segs, size_t nsegs, const cs_criticality_opts *opts_in,
                              cs_closure_impact *out)
{
    cs_criticality_opts o;
    if (opts_in) o = *opts_in;
    else cs_criticality_opts_default(&o);
    memset(out, 0, sizeof *out);
    out->worst_o = out->worst_d = CS_INVALID_ID;
    if (!r || !net || !load || !loc || !F || !T0 || !pop) return cs_error_set(CS_EINVAL, "criticality: missing input");
    if (F->rows != n || F->cols != n || T0->rows != n || T0->cols != n)
        return cs_error_set(CS_EINVAL, "criticality: flow and time matrices must be %zu x %zu", n, n);
    for (size_t k = 0; k < nsegs; k++)
        if (segs[k] >= load->n_segs) return cs_error_set(CS_EINVAL, "criticality: segment %u does not exist", segs[k]);
    uint32_t R = reference(pop, n, &o);
    /* affected origins: those whose flows use a closed segment, plus the reference city */
    uint8_t *mark = cs_calloc(n ? n : 1, 1);
    uint32_t *src = cs_mallocarray(n ? n : 1, sizeof *src);
    cs_location *sl = cs_mallocarray(n ? n : 1, sizeof *sl);
    if (!mark || !src || !sl) {
        cs_free(mark);
        cs_free(src);
        cs_free(sl);
        return CS_ENOMEM;
    }
    if (!load->use_off) memset(mark, 1, n); /* origins using the segments unknown: every origin */
    for (size_t k = 0; load->use_off && k < nsegs; k++)
        for (uint64_t q = load->use_off[segs[k]]; q < load->use_off[segs[k] + 1]; q++) mark[load->use_origin[q]] = 1;
    mark[R] = 1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (mark[i]) {
            src[m] = (uint32_t)i;
            sl[m++] = loc[i];
        }
    cs_matrix *rows = NULL, *col = NULL;
    cs_matrix_opts mo;
    cs_matrix_opts_default(&mo);
    mo.nonroad_flags = 0;
    mo.threads = 1; /* a closure re-queries few rows: thread start-up and barriers would dominate */
    cs_status st = set_segments(r, net, segs, nsegs, 1);
    if (!st) st = cs_router_matrix(r, sl, m, loc, n, &mo, (cs_progress){0}, &rows, NULL);
    if (!st) st = cs_router_matrix(r, loc, n, &loc[R], 1, &mo, (cs_progress){0}, &col, NULL);
    cs_status st2 = set_segments(r, net, segs, nsegs, 0); /* always restore */
    if (!st) st = st2;
    if (!st) {
        size_t rrow = SIZE_MAX;
        for (size_t a = 0; a < m; a++) {
            size_t i = src[a];
            if (i == R) rrow = a;
            for (size_t j = 0; j < n; j++) {
                double f = F->v[i * n + j];
                if (j == i || !(f > 0)) continue;
                double t0 = T0->v[i * n + j], t1 = rows->v[a * n + j];
                if (!(t0 < INFINITY)) continue;
                if (!(t1 < INFINITY)) {
                    out->cut_flow += f;
                    out->cut_pairs++;
                    continue;
                }
                double d = t1 - t0;
                out->delta_cost_s += f * d;
                if (d > 0 && (out->worst_o == CS_INVALID_ID || d > out->worst_detour_s)) {
                    out->worst_detour_s = d;
                    out->worst_o = (uint32_t)i;
                    out->worst_d = (uint32_t)j;
                }
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (i == R) continue;
            int before = T0->v[i * n + R] < INFINITY && T0->v[R * n + i] < INFINITY;
            int after = col->v[i] < INFINITY && rows->v[rrow * n + i] < INFINITY;
            if (before && !after) {
                out->cut_population += pop[i];
                out->cut_cities++;
            }
        }
    }
    cs_matrix_free(rows);
    cs_matrix_free(col);
    cs_free(mark);
    cs_free(src);
    cs_free(sl);
    return st;
}

typedef struct { uint32_t seg; cs_closure_impact im; } ranked;
static int cmp_rank(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->im.cut_flow != y->im.cut_flow) return x->im.cut_flow > y->im.cut_flow ? -1 : 1;
    if (x->im.delta_cost_s != y->im.delta_cost_s) return x->im.delta_cost_s > y->im.delta_cost_s ? -1 : 1;
    return x->seg < y->seg ? -1 : x->seg > y->seg;
}

/* Sort the evaluated segments into the ranked list (cut flow, then added cost, then segment id) and pack
   them into a result; takes ownership of rk. */
static cs_status ranked_result(ranked *rk, size_t cnt, cs_criticality **out)
{
    qsort(rk, cnt, sizeof *rk, cmp_rank);
    cs_criticality *c = cs_calloc(1, sizeof *c);
    if (c) {
        c->seg = cs_mallocarray(cnt ? cnt : 1, sizeof *c->seg);
        c->impact = cs_mallocarray(cnt ? cnt : 1, sizeof *c->impact);
    }
    if (!c || !c->seg || !c->impact) {
        cs_criticality_free(c);
        cs_free(rk);
        return CS_ENOMEM;
    }
    c->n = cnt;
    for (size_t q = 0; q < cnt; q++) {
        c->seg[q] = rk[q].seg;
        c->impact[q] = rk[q].im;
    }
    cs_free(rk);
    *out = c;
    return CS_OK;
}

cs_status cs_criticality_compute(cs_router *r, const cs_network *net, const cs_load *load, const cs_location *loc,
                                 size_t n, const cs_matrix *F, const cs_matrix *T0, const double *pop,
                                 const cs_criticality_opts *opts_in, cs_criticality **out)
{
    *out = NULL;
    cs_criticality_opts o;
    if (opts_in) o = *opts_in;
    else cs_criticality_opts_default(&o);
    if (!load) return cs_error_set(CS_EINVAL, "criticality: the load is required");
    size_t cnt = 0;
#define LOADED(s) (load->flow_fwd[s] + load->flow_bwd[s] > o.min_flow && \
                   (!load->use_off || load->use_off[(s) + 1] > load->use_off[s]))
    for (uint32_t s = 0; s < load->n_segs; s++)
        if (LOADED(s)) cnt++;
    ranked *rk = cs_mallocarray(cnt ? cnt : 1, sizeof *rk);
    if (!rk) return CS_ENOMEM;
    size_t k = 0;
    for (uint32_t s = 0; s < load->n_segs; s++)
        if (LOADED(s)) rk[k++].seg = s;
#undef LOADED
    /* private router copies for the extra threads: saved once, loaded by mmap (copy-on-write) */
    int nt = o.threads > 0 ? o.threads : omp_get_max_threads();
    if (nt < 1) nt = 1;
    if ((size_t)nt > cnt) nt = cnt ? (int)cnt : 1;
    cs_router **rs = cs_calloc((size_t)nt, sizeof *rs);
    if (!rs) {
        cs_free(rk);
        return CS_ENOMEM;
    }
    rs[0] = r;
    cs_status st = CS_OK;
    if (nt > 1) {
        char tmp[] = "/tmp/citysys-router-XXXXXX";
        int fd = mkstemp(tmp);
        if (fd < 0) nt = 1; /* no temporary file: evaluate on one thread */
        else {
            close(fd);
            st = cs_router_save_flags(r, tmp, CS_ROUTER_SAVE_NO_QUERY_HIERARCHY); /* a temporary copy: no query hierarchy */
            for (int t = 1; !st && t < nt; t++) st = cs_router_load(tmp, NULL, &rs[t]);
            unlink(tmp);
        }
    }
    cs_status *tst = cs_calloc((size_t)nt, sizeof *tst);
    cs_error *terr = cs_calloc((size_t)nt, sizeof *terr);
    if (!st && (!tst || !terr)) st = CS_ENOMEM;
    size_t done = 0;
    int stop = st != CS_OK;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int t = omp_get_thread_num();
#pragma omp for schedule(dynamic, 4)
        for (size_t q = 0; q < cnt; q++) {
            int halt;
#pragma omp atomic read
            halt = stop;
            if (halt || tst[t]) continue;
            tst[t] = cs_closure_evaluate(rs[t], net, load, loc, n, F, T0, pop, &rk[q].seg, 1, &o, &rk[q].im);
            if (tst[t]) {
                terr[t] = *cs_error_last();
#pragma omp atomic write
                stop = 1;
            }
            size_t d;
#pragma omp atomic capture
            d = ++done;
            if (t == 0 && o.progress.fn && o.progress.fn(o.progress.user, "criticality", (double)d, (double)cnt)) {
                tst[t] = cs_error_set(CS_ECANCELED, "criticality cancelled");
                terr[t] = *cs_error_last();
#pragma omp atomic write
                stop = 1;
            }
        }
    }
    for (int t = 0; !st && tst && t < nt; t++)
        if (tst[t]) {
            st = tst[t];
            cs_error_set_at(st, terr[t].file, terr[t].line, terr[t].column, "%s", terr[t].message);
        }
    for (int t = 1; t < nt; t++) cs_router_free(rs[t]);
    cs_free(rs);
    cs_free(tst);
    cs_free(terr);
    if (st) {
        cs_free(rk);
        return st;
    }
    return ranked_result(rk, cnt, out);
}

/* ---- criticality of listed segments through an overlay graph of terminals ----
 *
 * For a batch S of segments, the terminals are the cities and the end nodes of S. D = the exact
 * terminal x terminal times on the network with every segment of S closed (one change, one matrix,
 * one restore). For a closure of s in S, the time between two cities on the network without s is the
 * shortest path in the overlay H_s whose arcs are D (complete) and the open directions of S \ {s}: a
 * route either avoids S (one D arc) or splits at the end nodes of the S segments it uses into parts
 * that avoid S (D arcs) and the S segments themselves. Cities are only the ends of overlay paths (a
 * route never passes through a city's connector). Exact in integer milliseconds. */

typedef struct ov_arc { uint32_t head; uint32_t ms; uint32_t seg; } ov_arc;

typedef struct overlay {
    size_t n, nt;        /* cities, terminals (cities first, then end nodes) */
    uint64_t *D;         /* nt x nt times (ms), UINT64_MAX = unreachable */
    uint64_t *out_off, *in_off;
    ov_arc *out, *in;    /* explicit arcs of the batch segments between end-node terminals */
} overlay;

/* one-to-all (reverse = 0) or all-to-one (reverse = 1) times from/to city c on H without segment s */
static void ov_search(const overlay *h, uint32_t c, int reverse, uint32_t s, uint64_t *dist, uint8_t *done)
{
    size_t nt = h->nt, n = h->n;
    for (size_t x = 0; x < nt; x++) {
        dist[x] = reverse ? h->D[x * nt + c] : h->D[(size_t)c * nt + x];
        done[x] = 0;
    }
    dist[c] = 0;
    for (;;) {
        size_t best = SIZE_MAX;
        for (size_t x = n; x < nt; x++)
            if (!done[x] && dist[x] != UINT64_MAX && (best == SIZE_MAX || dist[x] < dist[best])) best = x;
        if (best == SIZE_MAX) break;
        done[best] = 1;
        uint64_t d = dist[best];
        for (size_t y = 0; y < nt; y++) {
            uint64_t w = reverse ? h->D[y * nt + best] : h->D[best * nt + y];
            if (w != UINT64_MAX && d + w < dist[y]) dist[y] = d + w;
        }
        const uint64_t *off = reverse ? h->in_off : h->out_off;
        const ov_arc *a = reverse ? h->in : h->out;
        for (uint64_t e = off[best - n]; e < off[best - n + 1]; e++)
            if (a[e].seg != s && d + a[e].ms < dist[a[e].head]) dist[a[e].head] = d + a[e].ms;
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static cs_status overlay_batch(cs_router *r, const cs_network *net, const cs_location *loc, size_t n,
                               const uint32_t *segs, size_t nb, overlay *h)
{
    memset(h, 0, sizeof *h);
    h->n = n;
    uint32_t *ends = cs_mallocarray(2 * nb + 1, sizeof *ends);
    if (!ends) return CS_ENOMEM;
    size_t ne = 0;
    for (size_t k = 0; k < nb; k++) {
        ends[ne++] = net->seg_u[segs[k]];
        ends[ne++] = net->seg_v[segs[k]];
    }
    qsort(ends, ne, sizeof *ends, cmp_u32);
    size_t u = 0;
    for (size_t k = 0; k < ne; k++)
        if (k == 0 || ends[k] != ends[k - 1]) ends[u++] = ends[k];
    ne = u;
    size_t nt = n + ne;
    h->nt = nt;
    cs_location *tl = cs_mallocarray(nt ? nt : 1, sizeof *tl);
    h->D = cs_mallocarray(nt > 0 ? nt * nt : 1, sizeof *h->D);
    h->out_off = cs_calloc(ne + 1, sizeof *h->out_off);
    h->in_off = cs_calloc(ne + 1, sizeof *h->in_off);
    h->out = cs_mallocarray(2 * nb + 1, sizeof *h->out);
    h->in = cs_mallocarray(2 * nb + 1, sizeof *h->in);
    cs_status st = (!tl || !h->D || !h->out_off || !h->in_off || !h->out || !h->in) ? CS_ENOMEM : CS_OK;
    if (!st) {
        memcpy(tl, loc, n * sizeof *tl);
        for (size_t k = 0; k < ne; k++) tl[n + k] = cs_location_node(ends[k]);
        /* explicit arcs: counting pass, then fill (end index = position in ends[]) */
        for (int pass = 0; pass < 2; pass++) {
            for (size_t k = 0; k < nb; k++) {
                uint32_t s = segs[k];
                uint32_t a = (uint32_t)((uint32_t *)bsearch(&net->seg_u[s], ends, ne, sizeof *ends, cmp_u32) - ends);
                uint32_t b = (uint32_t)((uint32_t *)bsearch(&net->seg_v[s], ends, ne, sizeof *ends, cmp_u32) - ends);
                for (int d = 0; d < 2; d++) {
                    uint32_t ms = d ? net->seg_bwd_ms[s] : net->seg_fwd_ms[s];
                    uint32_t from = d ? b : a, to = d ? a : b;
                    if (ms == CS_NO_TIME) continue;
                    if (pass == 0) {
                        h->out_off[from + 1]++;
                        h->in_off[to + 1]++;
                    } else {
                        h->out[h->out_off[from]++] = (ov_arc){(uint32_t)(n + to), ms, s};
                        h->in[h->in_off[to]++] = (ov_arc){(uint32_t)(n + from), ms, s};
                    }
                }
            }
            if (pass == 0)
                for (size_t k = 0; k < ne; k++) {
                    h->out_off[k + 1] += h->out_off[k];
                    h->in_off[k + 1] += h->in_off[k];
                }
            else
                for (size_t k = ne; k-- > 0;) { /* shift the fill positions back to starts */
                    h->out_off[k + 1] = h->out_off[k];
                    h->in_off[k + 1] = h->in_off[k];
                }
        }
        h->out_off[0] = h->in_off[0] = 0;
    }
    /* D: every batch segment closed, terminal x terminal, then restore */
    if (!st) st = set_segments(r, net, segs, nb, 1);
    if (!st) {
        cs_matrix_opts mo;
        cs_matrix_opts_default(&mo);
        mo.nonroad_flags = 0;
        st = cs_router_matrix_raw(r, tl, nt, tl, nt, &mo, h->D, NULL, NULL);
        cs_status st2 = set_segments(r, net, segs, nb, 0);
        if (!st) st = st2;
    }
    cs_free(tl);
    cs_free(ends);
    return st;
}

static void overlay_free(overlay *h)
{
    cs_free(h->D);
    cs_free(h->out_off);
    cs_free(h->in_off);
    cs_free(h->out);
    cs_free(h->in);
}

/* impact of closing s alone, from the overlay: the figures of cs_closure_evaluate, same order */
static cs_status overlay_impact(const overlay *h, const cs_load *load, size_t n, const cs_matrix *F,
                                const cs_matrix *T0, const double *pop, uint32_t R, uint32_t s, cs_closure_impact *out)
{
    memset(out, 0, sizeof *out);
    out->worst_o = out->worst_d = CS_INVALID_ID;
    size_t nt = h->nt;
    uint64_t *dist = cs_mallocarray(nt, sizeof *dist), *col = cs_mallocarray(nt, sizeof *col),
             *rrow = cs_mallocarray(nt, sizeof *rrow);
    uint8_t *done = cs_mallocarray(nt, 1), *mark = cs_calloc(n ? n : 1, 1);
    if (!dist || !col || !rrow || !done || !mark) {
        cs_free(dist); cs_free(col); cs_free(rrow); cs_free(done); cs_free(mark);
        return CS_ENOMEM;
    }
    if (!load->use_off) memset(mark, 1, n);
    for (uint64_t q = load->use_off ? load->use_off[s] : 0; load->use_off && q < load->use_off[s + 1]; q++)
        mark[load->use_origin[q]] = 1;
    mark[R] = 1;
    for (size_t i = 0; i < n; i++) {
        if (!mark[i]) continue;
        ov_search(h, (uint32_t)i, 0, s, dist, done);
        if (i == R) memcpy(rrow, dist, nt * sizeof *dist);
        for (size_t j = 0; j < n; j++) {
            double f = F->v[i * n + j];
            if (j == i || !(f > 0)) continue;
            double t0 = T0->v[i * n + j], t1 = dist[j] == UINT64_MAX ? INFINITY : (double)dist[j] / 1000.0;
            if (!(t0 < INFINITY)) continue;
            if (!(t1 < INFINITY)) {
                out->cut_flow += f;
                out->cut_pairs++;
                continue;
            }
            double d = t1 - t0;
            out->delta_cost_s += f * d;
            if (d > 0 && (out->worst_o == CS_INVALID_ID || d > out->worst_detour_s)) {
                out->worst_detour_s = d;
                out->worst_o = (uint32_t)i;
                out->worst_d = (uint32_t)j;
            }
        }
    }
    ov_search(h, R, 1, s, col, done);
    for (size_t i = 0; i < n; i++) {
        if (i == R) continue;
        int before = T0->v[i * n + R] < INFINITY && T0->v[R * n + i] < INFINITY;
        int after = col[i] != UINT64_MAX && rrow[i] != UINT64_MAX;
        if (before && !after) {
            out->cut_population += pop[i];
            out->cut_cities++;
        }
    }
    cs_free(dist); cs_free(col); cs_free(rrow); cs_free(done); cs_free(mark);
    return CS_OK;
}

cs_status cs_criticality_segments(cs_router *r, const cs_network *net, const cs_load *load, const cs_location *loc,
                                  size_t n, const cs_matrix *F, const cs_matrix *T0, const double *pop,
                                  const uint32_t *segs, size_t nsegs, const cs_criticality_opts *opts_in,
                                  cs_criticality **out)
{
    *out = NULL;
    cs_criticality_opts o;
    if (opts_in) o = *opts_in;
    else cs_criticality_opts_default(&o);
    if (!r || !net || !load || !loc || !F || !T0 || !pop || (!segs && nsegs))
        return cs_error_set(CS_EINVAL, "criticality: missing input");
    if (F->rows != n || F->cols != n || T0->rows != n || T0->cols != n)
        return cs_error_set(CS_EINVAL, "criticality: flow and time matrices must be %zu x %zu", n, n);
    /* distinct segments, in the given order */
    uint8_t *seen = cs_calloc(load->n_segs ? load->n_segs : 1, 1), *oncity = cs_calloc(load->n_segs ? load->n_segs : 1, 1);
    ranked *rk = cs_mallocarray(nsegs ? nsegs : 1, sizeof *rk);
    uint32_t *bs = cs_mallocarray(nsegs ? nsegs : 1, sizeof *bs);
    if (!seen || !oncity || !rk || !bs) {
        cs_free(seen); cs_free(oncity); cs_free(rk); cs_free(bs);
        return CS_ENOMEM;
    }
    cs_status st = CS_OK;
    size_t cnt = 0;
    for (size_t k = 0; k < nsegs && !st; k++) {
        if (segs[k] >= load->n_segs || segs[k] >= net->n_segs) st = cs_error_set(CS_EINVAL, "criticality: segment %u does not exist", segs[k]);
        else if (!seen[segs[k]]) {
            seen[segs[k]] = 1;
            rk[cnt++].seg = segs[k];
        }
    }
    for (size_t i = 0; i < n; i++)
        if (loc[i].node == CS_INVALID_ID && loc[i].seg != CS_INVALID_ID && loc[i].seg < load->n_segs) oncity[loc[i].seg] = 1;
    uint32_t R = reference(pop, n, &o);
    /* segments with a city on them are evaluated by re-query (their closure also closes the city's legs) */
    const size_t B = 128;
    size_t k = 0;
    while (!st && k < cnt) {
        size_t nb = 0, k0 = k;
        for (; k < cnt && nb < B; k++)
            if (!oncity[rk[k].seg]) bs[nb++] = rk[k].seg;
        overlay h;
        if (nb) st = overlay_batch(r, net, loc, n, bs, nb, &h);
        if (st) break;
        int nt = o.threads > 0 ? o.threads : omp_get_max_threads();
        int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (size_t q = k0; q < k; q++) {
            if (oncity[rk[q].seg]) continue;
            if (overlay_impact(&h, load, n, F, T0, pop, R, rk[q].seg, &rk[q].im)) {
#pragma omp atomic write
                failed = 1;
            }
        }
        if (nb) overlay_free(&h);
        if (failed) st = CS_ENOMEM;
        for (size_t q = k0; !st && q < k; q++)
            if (oncity[rk[q].seg])
                st = cs_closure_evaluate(r, net, load, loc, n, F, T0, pop, &rk[q].seg, 1, &o, &rk[q].im);
        if (!st && o.progress.fn && o.progress.fn(o.progress.user, "criticality", (double)k, (double)cnt))
            st = cs_error_set(CS_ECANCELED, "criticality cancelled");
    }
    cs_free(seen);
    cs_free(oncity);
    cs_free(bs);
    if (st) {
        cs_free(rk);
        return st;
    }
    return ranked_result(rk, cnt, out);
}

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
    for (size_t k = 0; k < nsegs; k++)
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
    for (uint32_t s = 0; s < load->n_segs; s++)
        if (load->flow_fwd[s] + load->flow_bwd[s] > o.min_flow && load->use_off[s + 1] > load->use_off[s]) cnt++;
    ranked *rk = cs_mallocarray(cnt ? cnt : 1, sizeof *rk);
    if (!rk) return CS_ENOMEM;
    size_t k = 0;
    for (uint32_t s = 0; s < load->n_segs; s++)
        if (load->flow_fwd[s] + load->flow_bwd[s] > o.min_flow && load->use_off[s + 1] > load->use_off[s]) rk[k++].seg = s;
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
            st = cs_router_save(r, tmp);
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

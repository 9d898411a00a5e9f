/* facility.c: facility-location problems — validation, evaluation, dispatch, nested levels, coverage
 * curves, catchment hulls, outputs, OR-Library reader. Formulations in docs/facilities.md. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <jansson.h>
#include "citysys/alloc.h"
#include "citysys/fileio.h"
#include "plan/facility_internal.h"

/* ---------------------------------------------------------------- basics */

const char *cs_fac_model_name(cs_fac_model m)
{
    switch (m) {
    case CS_FAC_PMEDIAN: return "pmedian";
    case CS_FAC_MCLP: return "mclp";
    case CS_FAC_SCP: return "scp";
    case CS_FAC_PCENTER: return "pcenter";
    }
    return "?";
}

cs_status cs_fac_model_parse(const char *s, cs_fac_model *out)
{
    static const struct { const char *name; cs_fac_model m; } t[] = {
        {"pmedian", CS_FAC_PMEDIAN}, {"p-median", CS_FAC_PMEDIAN}, {"mclp", CS_FAC_MCLP},
        {"maxcover", CS_FAC_MCLP},   {"scp", CS_FAC_SCP},           {"setcover", CS_FAC_SCP},
        {"pcenter", CS_FAC_PCENTER}, {"p-center", CS_FAC_PCENTER},
    };
    for (size_t i = 0; s && i < sizeof t / sizeof t[0]; i++)
        if (!strcasecmp(s, t[i].name)) {
            *out = t[i].m;
            return CS_OK;
        }
    return cs_error_set(CS_EINVAL, "unknown facility model '%s' (expected pmedian, mclp, scp or pcenter)",
                        s ? s : "(null)");
}

void cs_fac_options_default(cs_fac_options *o)
{
    memset(o, 0, sizeof *o);
    o->method = CS_FAC_AUTO;
    o->seed = 1;
    o->starts = 10;
    o->lagrangian_iters = -1;
    o->heuristic_bounds = 1;
}

double fac_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

cs_status fac_progress(const fac_ctx *c, const char *stage, double done, double total)
{
    if (c->opts && c->opts->progress.fn && c->opts->progress.fn(c->opts->progress.user, stage, done, total))
        return cs_error_set(CS_ECANCELED, "facility location cancelled during %s", stage);
    return CS_OK;
}

void fac_result_clear(fac_result *r)
{
    cs_free(r->sites);
    cs_free(r->assign);
    memset(r, 0, sizeof *r);
    r->bound = NAN;
}

void cs_fac_solution_free(cs_fac_solution *s)
{
    if (!s) return;
    cs_free(s->sites);
    cs_free(s->existing);
    cs_free(s->catchment_weight);
    cs_free(s->catchment_count);
    cs_free(s->assign);
    cs_free(s->time);
    cs_free(s->covered);
    cs_free(s);
}

static void ctx_free(fac_ctx *c)
{
    cs_free(c->w);
    cs_free(c->fixed);
    cs_free(c->fixed_list);
    memset(c, 0, sizeof *c);
}

static cs_status ctx_init(fac_ctx *c, const cs_fac_problem *p, const cs_fac_options *opts)
{
    memset(c, 0, sizeof *c);
    if (!p || !p->cost || !p->cost->v) return cs_error_set(CS_EINVAL, "facility problem: no cost matrix");
    const cs_matrix *M = p->cost;
    if (M->rows == 0 || M->cols == 0)
        return cs_error_set(CS_EINVAL, "facility problem: empty cost matrix (%zu x %zu)", M->rows, M->cols);
    if ((unsigned)p->model > CS_FAC_PCENTER) return cs_error_set(CS_EINVAL, "facility problem: unknown model");
    if (M->rows >= CS_INVALID_ID || M->cols >= CS_INVALID_ID)
        return cs_error_set(CS_EINVAL, "facility problem: matrix too large");
    c->prob = p;
    c->opts = opts;
    c->t0 = fac_now();
    c->heur_frac = 1;
    c->lagr_frac = 1;
    c->n = M->rows;
    c->m = M->cols;
    c->d = M->v;
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = 0; j < c->m; j++) {
            double v = c->d[i * c->m + j];
            if (isnan(v) || v < 0 || v == -INFINITY) {
                cs_error_set(CS_EINVAL, "cost matrix: value %g from '%s' to '%s' is not a time >= 0 (use +inf for unreachable)",
                             v, M->row_ids ? M->row_ids[i] : "?", M->col_ids ? M->col_ids[j] : "?");
                return CS_EINVAL;
            }
        }
    c->w = cs_mallocarray(c->n, sizeof *c->w);
    c->fixed = cs_calloc(c->m, 1);
    c->fixed_list = cs_mallocarray(p->nexisting ? p->nexisting : 1, sizeof *c->fixed_list);
    if (!c->w || !c->fixed || !c->fixed_list) {
        ctx_free(c);
        return CS_ENOMEM;
    }
    for (size_t i = 0; i < c->n; i++) {
        double w = p->weight ? p->weight[i] : 1.0;
        if (!isfinite(w) || w < 0) {
            ctx_free(c);
            return cs_error_set(CS_EINVAL, "weight of demand point '%s' is %g (expected a finite number >= 0)",
                                M->row_ids ? M->row_ids[i] : "?", w);
        }
        c->w[i] = w;
    }
    for (size_t k = 0; k < p->nexisting; k++) {
        uint32_t j = p->existing[k];
        if (j >= c->m) {
            ctx_free(c);
            return cs_error_set(CS_EINVAL, "existing facility index %u out of range (%zu candidates)", j, c->m);
        }
        if (c->fixed[j]) {
            ctx_free(c);
            return cs_error_set(CS_EINVAL, "existing facility '%s' given twice", M->col_ids ? M->col_ids[j] : "?");
        }
        c->fixed[j] = 1;
    }
    for (size_t j = 0; j < c->m; j++)
        if (c->fixed[j]) c->fixed_list[c->nfixed++] = (uint32_t)j;
    c->P = p->p + c->nfixed;
    if (p->model != CS_FAC_SCP) {
        if (c->P > c->m) {
            ctx_free(c);
            return cs_error_set(CS_EINVAL, "p = %zu new sites + %zu existing exceeds the %zu candidates", p->p,
                                c->nfixed, c->m);
        }
        if (c->P == 0) {
            ctx_free(c);
            return cs_error_set(CS_EINVAL, "no site to place: p = 0 and no existing facility");
        }
    }
    if ((p->model == CS_FAC_MCLP || p->model == CS_FAC_SCP) && (!isfinite(p->radius) || p->radius < 0)) {
        ctx_free(c);
        return cs_error_set(CS_EINVAL, "%s needs a coverage radius >= 0 (got %g)", cs_fac_model_name(p->model),
                            p->radius);
    }
    if (p->capacity) {
        if (p->model != CS_FAC_PMEDIAN) {
            ctx_free(c);
            return cs_error_set(CS_EINVAL, "capacities are supported for the p-median only");
        }
        for (size_t j = 0; j < c->m; j++)
            if (isnan(p->capacity[j]) || p->capacity[j] < 0) {
                ctx_free(c);
                return cs_error_set(CS_EINVAL, "capacity of candidate '%s' is %g (expected >= 0)",
                                    M->col_ids ? M->col_ids[j] : "?", p->capacity[j]);
            }
    }
    return CS_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Build a solution from open sites; assign_cand (per demand candidate index) forces the assignment
 * (capacitated), else nearest open site, ties to the lowest candidate index. */
static cs_status build_solution(const fac_ctx *c, const uint32_t *sites_in, size_t ns_in, const uint32_t *assign_cand,
                                cs_fac_solution **out)
{
    *out = NULL;
    const cs_fac_problem *p = c->prob;
    cs_fac_solution *s = cs_calloc(1, sizeof *s);
    if (!s) return CS_ENOMEM;
    size_t cap = ns_in + c->nfixed;
    s->sites = cs_mallocarray(cap ? cap : 1, sizeof *s->sites);
    s->assign = cs_mallocarray(c->n, sizeof *s->assign);
    s->time = cs_mallocarray(c->n, sizeof *s->time);
    s->covered = cs_calloc(c->n, 1);
    if (!s->sites || !s->assign || !s->time || !s->covered) goto nomem;
    size_t ns = 0;
    for (size_t k = 0; k < ns_in; k++) {
        if (sites_in[k] >= c->m) {
            cs_fac_solution_free(s);
            return cs_error_set(CS_EINVAL, "site index %u out of range (%zu candidates)", sites_in[k], c->m);
        }
        s->sites[ns++] = sites_in[k];
    }
    for (size_t k = 0; k < c->nfixed; k++) s->sites[ns++] = c->fixed_list[k];
    qsort(s->sites, ns, sizeof *s->sites, cmp_u32);
    size_t u = 0;
    for (size_t k = 0; k < ns; k++)
        if (u == 0 || s->sites[u - 1] != s->sites[k]) s->sites[u++] = s->sites[k];
    ns = u;
    s->nsites = ns;
    s->existing = cs_calloc(ns ? ns : 1, 1);
    s->catchment_weight = cs_calloc(ns ? ns : 1, sizeof *s->catchment_weight);
    s->catchment_count = cs_calloc(ns ? ns : 1, sizeof *s->catchment_count);
    if (!s->existing || !s->catchment_weight || !s->catchment_count) goto nomem;
    for (size_t k = 0; k < ns; k++) s->existing[k] = c->fixed[s->sites[k]];
    s->model = p->model;
    s->ndemand = c->n;
    s->bound = NAN;
    s->gap = NAN;
    snprintf(s->bound_kind, sizeof s->bound_kind, "none");
    double wt = 0, tw = 0, cw = 0, mx = 0;
    int unreach = 0;
    for (size_t i = 0; i < c->n; i++) {
        const double *row = c->d + i * c->m;
        uint32_t best = CS_INVALID_ID;
        double bt = INFINITY;
        if (assign_cand) {
            for (size_t k = 0; k < ns; k++)
                if (s->sites[k] == assign_cand[i]) {
                    best = (uint32_t)k;
                    bt = row[assign_cand[i]];
                }
        } else {
            for (size_t k = 0; k < ns; k++)
                if (row[s->sites[k]] < bt) {
                    bt = row[s->sites[k]];
                    best = (uint32_t)k;
                }
        }
        s->assign[i] = best;
        s->time[i] = bt;
        tw += c->w[i];
        if (best != CS_INVALID_ID) {
            s->catchment_weight[best] += c->w[i];
            s->catchment_count[best]++;
            wt += c->w[i] * bt;
            if (c->w[i] > 0 && bt > mx) mx = bt;
        } else if (c->w[i] > 0) {
            unreach = 1;
        }
        int cov = (p->model == CS_FAC_MCLP || p->model == CS_FAC_SCP) ? bt <= p->radius : isfinite(bt);
        s->covered[i] = (uint8_t)cov;
        if (cov) cw += c->w[i];
    }
    s->weighted_time = unreach ? INFINITY : wt;
    s->total_weight = tw;
    s->covered_weight = cw;
    s->max_time = unreach ? INFINITY : mx;
    switch (p->model) {
    case CS_FAC_PMEDIAN: s->objective = s->weighted_time; break;
    case CS_FAC_MCLP: s->objective = cw; break;
    case CS_FAC_SCP: s->objective = (double)(ns - c->nfixed); break;
    case CS_FAC_PCENTER: s->objective = s->max_time; break;
    }
    *out = s;
    return CS_OK;
nomem:
    cs_fac_solution_free(s);
    return CS_ENOMEM;
}

cs_status cs_fac_evaluate(const cs_fac_problem *prob, const uint32_t *sites, size_t nsites, cs_fac_solution **out)
{
    if (!out) return cs_error_set(CS_EINVAL, "cs_fac_evaluate: out is NULL");
    *out = NULL;
    fac_ctx c;
    cs_status st = ctx_init(&c, prob, NULL);
    if (st) return st;
    st = build_solution(&c, sites, nsites, NULL, out);
    ctx_free(&c);
    return st;
}

/* Demand points (w > 0) with no candidate within `limit`; EINFEASIBLE naming them. */
static cs_status check_coverable(const fac_ctx *c, double limit, const char *what)
{
    size_t bad = 0;
    char names[700] = "";
    size_t len = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->w[i] <= 0) continue;
        const double *row = c->d + i * c->m;
        int ok = 0;
        for (size_t j = 0; j < c->m && !ok; j++) ok = row[j] <= limit;
        if (!ok) {
            if (bad < 20 && len < sizeof names - 80) {
                const char *id = c->prob->cost->row_ids ? c->prob->cost->row_ids[i] : "?";
                int k = snprintf(names + len, sizeof names - len, "%s'%s'", bad ? ", " : "", id);
                if (k > 0) len += (size_t)k;
            }
            bad++;
        }
    }
    if (!bad) return CS_OK;
    if (bad > 20) snprintf(names + len, sizeof names - len, " and %zu more", bad - 20);
    return cs_error_set(CS_EINFEASIBLE, "%zu demand point%s %s: %s", bad, bad == 1 ? "" : "s", what, names);
}

static void finish_gap(cs_fac_solution *s)
{
    if (isnan(s->bound) || !isfinite(s->objective)) {
        s->gap = NAN;
        return;
    }
    double den = fabs(s->objective) > 1e-12 ? fabs(s->objective) : 1e-12;
    double g = fabs(s->objective - s->bound) / den;
    if (fabs(s->objective - s->bound) <= 1e-9 * fmax(1.0, fabs(s->objective))) g = 0;
    s->gap = g;
}

/* Heuristic MCLP/SCP: LP-relaxation bound by GLPK up to this many matrix cells. */
#define LP_BOUND_CELLS 1e6

/* 1 when every finite w_i * d_ij is an integer: objective values are then integers and a bound L
 * proves that no solution is below ceil(L). */
static int integral_costs(const fac_ctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->w[i] != floor(c->w[i])) return 0;
        for (size_t j = 0; j < c->m; j++) {
            double v = c->d[i * c->m + j];
            if (isfinite(v) && v != floor(v)) return 0;
        }
    }
    return 1;
}

/* Exact uncapacitated p-median: Lagrangian bound first (Beasley 1993); when it meets the incumbent the
 * incumbent is proven optimal; otherwise candidates whose forced opening (closing) has a Lagrangian
 * bound no better than the incumbent are fixed closed (open) and the reduced radius formulation goes
 * to GLPK. */
static cs_status exact_pmedian(const fac_ctx *c, const uint32_t *hs, double hobj, fac_result *r)
{
    size_t m = c->m;
    double *lbo = cs_mallocarray(m, sizeof *lbo), *lbc = cs_mallocarray(m, sizeof *lbc);
    uint8_t *closed = cs_calloc(m, 1), *opened = cs_calloc(m, 1);
    cs_status st = CS_OK;
    if (!lbo || !lbc || !closed || !opened) {
        st = CS_ENOMEM;
        goto out;
    }
    /* automatic (< 0): 2,000 iterations; 0 turns the bound and the reduction off (pure GLPK, used by the
     * tests); > 0: as given */
    int iters = c->opts->lagrangian_iters < 0 ? 2000 : c->opts->lagrangian_iters;
    double lb = NAN;
    if (iters > 0 && (st = fac_lagrangian_pmedian_ex(c, hobj, iters, &lb, lbo, lbc))) goto out;
    int integ = integral_costs(c);
    /* "a bound v shows that no solution is better than the incumbent" */
#define NO_BETTER(v) (integ ? (v) > hobj - 1 + 1e-6 * fmax(1.0, fabs(hobj)) : (v) >= hobj - 1e-12 * fabs(hobj))
    if (isfinite(hobj) && NO_BETTER(lb)) {
        r->sites = cs_mallocarray(c->P, sizeof *r->sites);
        if (!r->sites) {
            st = CS_ENOMEM;
            goto out;
        }
        memcpy(r->sites, hs, c->P * sizeof *hs);
        r->nsites = c->P;
        r->objective = hobj;
        r->bound = hobj;
        r->optimal = 1;
        snprintf(r->bound_kind, sizeof r->bound_kind, "lagrangian");
        snprintf(r->message, sizeof r->message, "heuristic solution proven optimal by the Lagrangian bound %.10g%s", lb,
                 integ ? " (integer costs)" : "");
        goto out;
    }
    size_t nclosed = 0, nopened = 0;
    if (isfinite(hobj) && iters > 0)
        for (size_t j = 0; j < m; j++) {
            if (c->fixed[j]) continue;
            if (NO_BETTER(lbo[j])) closed[j] = 1, nclosed++;
            else if (NO_BETTER(lbc[j])) opened[j] = 1, nopened++;
        }
#undef NO_BETTER
    st = fac_glpk_pmedian(c, isfinite(hobj) ? hs : NULL, hobj, closed, opened, r);
    if (!st && iters > 0) {
        size_t len = strlen(r->message);
        if (len < sizeof r->message)
            snprintf(r->message + len, sizeof r->message - len, "; Lagrangian bound %.10g fixed %zu closed, %zu open", lb,
                     nclosed, nopened);
        if (!isnan(lb) && !r->optimal && (isnan(r->bound) || lb > r->bound)) {
            /* the Lagrangian bound is better than what GLPK proved before it stopped */
            r->bound = lb;
            snprintf(r->bound_kind, sizeof r->bound_kind, "lagrangian");
        }
    }
out:
    cs_free(lbo);
    cs_free(lbc);
    cs_free(closed);
    cs_free(opened);
    return st;
}

cs_status cs_fac_solve(const cs_fac_problem *prob, const cs_fac_options *opts_in, cs_fac_solution **out)
{
    if (!out) return cs_error_set(CS_EINVAL, "cs_fac_solve: out is NULL");
    *out = NULL;
    cs_fac_options opts;
    if (opts_in) opts = *opts_in;
    else cs_fac_options_default(&opts);
    if (opts.starts <= 0) opts.starts = 10;
    if (opts.time_limit_s < 0 || isnan(opts.time_limit_s))
        return cs_error_set(CS_EINVAL, "time limit must be >= 0 seconds");
    if (opts.mip_gap < 0 || isnan(opts.mip_gap)) return cs_error_set(CS_EINVAL, "MIP gap must be >= 0");
    double t0 = fac_now();
    fac_ctx c;
    cs_status st = ctx_init(&c, prob, &opts);
    if (st) return st;
    cs_fac_method method = opts.method;
    if (method == CS_FAC_AUTO)
        method = (double)c.n * (double)c.m <= 90000.0 ? CS_FAC_EXACT : CS_FAC_HEURISTIC;
    c.t0 = t0;
    if (method == CS_FAC_EXACT) {
        c.heur_frac = 0.3;
        c.lagr_frac = 0.6;
    }
    fac_result r;
    memset(&r, 0, sizeof r);
    r.bound = NAN;
    uint32_t *hs = NULL;
    double hobj = NAN;
    cs_fac_solution *s = NULL;

    /* Reachability: every weighted demand point must reach some candidate (MCLP tolerates it). */
    if (prob->model == CS_FAC_PMEDIAN || prob->model == CS_FAC_PCENTER) {
        st = check_coverable(&c, INFINITY, "reach no candidate site");
        if (st) goto done;
    } else if (prob->model == CS_FAC_SCP) {
        st = check_coverable(&c, prob->radius, "cannot be covered within the radius by any candidate site");
        if (st) goto done;
    }

    switch (prob->model) {
    case CS_FAC_PMEDIAN:
        if (prob->capacity) {
            if (method == CS_FAC_HEURISTIC) {
                r.sites = cs_mallocarray(c.P, sizeof *r.sites);
                r.assign = cs_mallocarray(c.n, sizeof *r.assign);
                if (!r.sites || !r.assign) {
                    st = CS_ENOMEM;
                    goto done;
                }
                r.nsites = c.P;
                st = fac_heur_cpmedian(&c, r.sites, r.assign, &r.objective);
                if (st) goto done;
                if (!isfinite(r.objective)) {
                    st = cs_error_set(CS_EINFEASIBLE, "capacitated p-median: the heuristic found no assignment "
                                                      "within the capacities (try the exact method)");
                    goto done;
                }
                snprintf(r.message, sizeof r.message,
                         "capacitated: p-median heuristic sites, then alternate location-allocation");
                break;
            }
            st = fac_glpk_cpmedian(&c, &r);
            if (st) goto done;
            break;
        }
        hs = cs_mallocarray(c.P, sizeof *hs);
        if (!hs) {
            st = CS_ENOMEM;
            goto done;
        }
        st = fac_heur_pmedian(&c, hs, &hobj, r.message, sizeof r.message);
        if (st) goto done;
        if (method == CS_FAC_EXACT) {
            st = exact_pmedian(&c, hs, hobj, &r);
            if (st) goto done;
        } else {
            r.sites = hs;
            hs = NULL;
            r.nsites = c.P;
            r.objective = hobj;
            if (opts.lagrangian_iters != 0 && opts.heuristic_bounds) {
                /* automatic: 300 iterations, capped so the bound costs about as much as the heuristic
                 * (~2e9 cost-matrix visits, at least 30); a positive value is used as given */
                double cap = 2e9 / ((double)c.n * (double)c.m);
                int it = opts.lagrangian_iters;
                if (it < 0) it = 300 > cap ? (cap < 30 ? 30 : (int)cap) : 300;
                st = fac_lagrangian_pmedian(&c, hobj, it, &r.bound);
                if (st) goto done;
                snprintf(r.bound_kind, sizeof r.bound_kind, "lagrangian");
            }
        }
        break;
    case CS_FAC_MCLP:
        hs = cs_mallocarray(c.P, sizeof *hs);
        if (!hs) {
            st = CS_ENOMEM;
            goto done;
        }
        st = fac_heur_mclp(&c, prob->radius, c.P, hs, &hobj);
        if (st) goto done;
        if (method == CS_FAC_EXACT) {
            st = fac_glpk_mclp(&c, prob->radius, c.P, hs, &r);
            if (st) goto done;
        } else {
            r.sites = hs;
            hs = NULL;
            r.nsites = c.P;
            r.objective = hobj;
            if (opts.heuristic_bounds && (double)c.n * (double)c.m <= LP_BOUND_CELLS) {
                st = fac_glpk_mclp_lp(&c, prob->radius, c.P, &r.bound);
                if (st) goto done;
                if (!isnan(r.bound)) snprintf(r.bound_kind, sizeof r.bound_kind, "lp");
            }
        }
        break;
    case CS_FAC_SCP: {
        size_t nh = 0;
        st = fac_heur_scp(&c, prob->radius, &hs, &nh);
        if (st) goto done;
        if (method == CS_FAC_EXACT) {
            st = fac_glpk_scp(&c, prob->radius, hs, nh, &r);
            if (st) goto done;
        } else {
            r.sites = hs;
            hs = NULL;
            r.nsites = nh;
            r.objective = (double)(nh - c.nfixed);
            if (opts.heuristic_bounds && (double)c.n * (double)c.m <= LP_BOUND_CELLS) {
                st = fac_glpk_scp_lp(&c, prob->radius, &r.bound);
                if (st) goto done;
                /* the count of sites is an integer: round the LP bound up (with a tolerance) */
                if (!isnan(r.bound)) {
                    r.bound = ceil(r.bound - 1e-6);
                    snprintf(r.bound_kind, sizeof r.bound_kind, "lp");
                }
            }
        }
        break;
    }
    case CS_FAC_PCENTER:
        hs = cs_mallocarray(c.P, sizeof *hs);
        if (!hs) {
            st = CS_ENOMEM;
            goto done;
        }
        st = fac_heur_pcenter(&c, hs, &hobj);
        if (st) goto done;
        if (method == CS_FAC_EXACT) {
            st = fac_glpk_pcenter(&c, hs, hobj, &r);
            if (st) goto done;
        } else {
            r.sites = hs;
            hs = NULL;
            r.nsites = c.P;
            r.objective = hobj;
            /* trivial bound: no radius below every demand point's nearest candidate */
            if (!opts.heuristic_bounds) break;
            double lb = 0;
            for (size_t i = 0; i < c.n; i++) {
                if (c.w[i] <= 0) continue;
                double b = INFINITY;
                for (size_t j = 0; j < c.m; j++) b = fmin(b, c.d[i * c.m + j]);
                lb = fmax(lb, b);
            }
            r.bound = lb;
            snprintf(r.bound_kind, sizeof r.bound_kind, "nearest");
        }
        break;
    }
    st = build_solution(&c, r.sites, r.nsites, r.assign, &s);
    if (st) goto done;
    if ((prob->model == CS_FAC_PMEDIAN || prob->model == CS_FAC_PCENTER) && !isfinite(s->objective)) {
        /* every demand point reaches some candidate, but no set of P sites reaches them all */
        size_t bad = 0;
        const char *first = "?";
        for (size_t i = 0; i < c.n; i++)
            if (c.w[i] > 0 && s->assign[i] == CS_INVALID_ID) {
                if (!bad++) first = prob->cost->row_ids ? prob->cost->row_ids[i] : "?";
            }
        st = cs_error_set(CS_EINFEASIBLE,
                          "%s: %s no set of %zu sites reaching every demand point (e.g. '%s' and %zu more unreached)",
                          cs_fac_model_name(prob->model),
                          method == CS_FAC_EXACT ? "there is" : "the heuristic found", c.P, first, bad - 1);
        cs_fac_solution_free(s);
        s = NULL;
        goto done;
    }
    s->method = method;
    s->bound = r.bound;
    s->optimal = r.optimal;
    s->time_limited = r.time_limited;
    if (r.bound_kind[0]) snprintf(s->bound_kind, sizeof s->bound_kind, "%s", r.bound_kind);
    snprintf(s->message, sizeof s->message, "%s", r.message);
    finish_gap(s);
    if (s->optimal) s->gap = 0;
    else if (s->gap == 0 && !isnan(s->bound)) s->optimal = 1;
    s->seconds = fac_now() - t0;
    *out = s;
done:
    cs_free(hs);
    fac_result_clear(&r);
    ctx_free(&c);
    return st;
}

/* ------------------------------------------------------------ nested levels */

cs_status cs_fac_solve_nested(const cs_fac_problem *regional, const cs_fac_solution *reg, size_t q,
                              const uint32_t *national_existing, size_t nne, const cs_fac_options *opts,
                              cs_fac_solution **out)
{
    if (!out) return cs_error_set(CS_EINVAL, "cs_fac_solve_nested: out is NULL");
    *out = NULL;
    if (!regional || !regional->cost || !reg || reg->nsites == 0)
        return cs_error_set(CS_EINVAL, "nested levels need a regional problem and a regional solution with sites");
    const cs_matrix *M = regional->cost;
    size_t n = M->rows, k = reg->nsites;
    for (size_t a = 0; a < k; a++)
        if (reg->sites[a] >= M->cols) return cs_error_set(CS_EINVAL, "regional site out of range");
    cs_matrix *sub = NULL;
    cs_status st = cs_matrix_new(n, k, M->kind, &sub);
    if (st) return st;
    uint32_t *ne = cs_mallocarray(nne ? nne : 1, sizeof *ne);
    const char **cids = cs_mallocarray(k, sizeof *cids);
    if (!ne || !cids) {
        st = CS_ENOMEM;
        goto out;
    }
    for (size_t a = 0; a < k; a++) cids[a] = M->col_ids[reg->sites[a]];
    st = cs_matrix_set_ids(sub, (const char *const *)M->row_ids, cids);
    if (st) goto out;
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < k; a++) sub->v[i * k + a] = M->v[i * M->cols + reg->sites[a]];
    for (size_t e = 0; e < nne; e++) {
        size_t a = 0;
        while (a < k && reg->sites[a] != national_existing[e]) a++;
        if (a == k) {
            st = cs_error_set(CS_EINVAL, "existing national facility %u is not a regional site", national_existing[e]);
            goto out;
        }
        ne[e] = (uint32_t)a;
    }
    cs_fac_problem np = {0};
    np.model = CS_FAC_PMEDIAN;
    np.cost = sub;
    np.weight = regional->weight;
    np.p = q;
    np.existing = ne;
    np.nexisting = nne;
    cs_fac_solution *s = NULL;
    st = cs_fac_solve(&np, opts, &s);
    if (st) goto out;
    for (size_t a = 0; a < s->nsites; a++) s->sites[a] = reg->sites[s->sites[a]];
    /* reg->sites is ascending, so the mapped sites stay ascending. */
    *out = s;
out:
    cs_free(ne);
    cs_free(cids);
    cs_matrix_free(sub);
    return st;
}

/* ---------------------------------------------------------- coverage curve */

cs_status cs_fac_coverage_curve(const cs_fac_problem *prob, const double *radii, size_t nradii, size_t kmax,
                                const cs_fac_options *opts, double *covered)
{
    if (!prob || !prob->cost || (nradii && (!radii || !covered)))
        return cs_error_set(CS_EINVAL, "cs_fac_coverage_curve: missing argument");
    size_t free_cands = prob->cost->cols - prob->nexisting;
    /* the curve needs values only: no heuristic bounds */
    cs_fac_options o2;
    if (opts) o2 = *opts;
    else cs_fac_options_default(&o2);
    o2.heuristic_bounds = 0;
    const cs_fac_options *po = &o2;
    for (size_t r = 0; r < nradii; r++) {
        for (size_t k = 0; k <= kmax; k++) {
            cs_fac_problem q = *prob;
            q.model = CS_FAC_MCLP;
            q.radius = radii[r];
            q.capacity = NULL;
            q.p = k < free_cands ? k : free_cands;
            double v = 0;
            if (q.p + q.nexisting == 0) {
                v = 0;
            } else {
                cs_fac_solution *s = NULL;
                cs_status st = cs_fac_solve(&q, po, &s);
                if (st) return st;
                v = s->objective;
                cs_fac_solution_free(s);
            }
            covered[r * (kmax + 1) + k] = v;
            if (opts && opts->progress.fn &&
                opts->progress.fn(opts->progress.user, "coverage curve", (double)(r * (kmax + 1) + k + 1),
                                  (double)(nradii * (kmax + 1))))
                return cs_error_set(CS_ECANCELED, "coverage curve cancelled");
        }
    }
    return CS_OK;
}

cs_status cs_fac_pmedian_lagrangian(const cs_fac_problem *prob, double upper, int iters, double *bound)
{
    if (!bound) return cs_error_set(CS_EINVAL, "bound is NULL");
    if (prob && prob->model != CS_FAC_PMEDIAN) return cs_error_set(CS_EINVAL, "Lagrangian bound: p-median only");
    fac_ctx c;
    cs_status st = ctx_init(&c, prob, NULL);
    if (st) return st;
    st = fac_lagrangian_pmedian(&c, upper, iters, bound);
    ctx_free(&c);
    return st;
}

/* -------------------------------------------------------------- catchments */

static double cross(const double *o, const double *a, const double *b)
{
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

static int cmp_pt(const void *a, const void *b)
{
    const double *p = a, *q = b;
    if (p[0] != q[0]) return p[0] < q[0] ? -1 : 1;
    if (p[1] != q[1]) return p[1] < q[1] ? -1 : 1;
    return 0;
}

cs_status cs_fac_catchment_hull(const cs_fac_solution *sol, const cs_fac_geo *geo, size_t s, double *xy, size_t cap,
                                size_t *nvert)
{
    if (!sol || !geo || !nvert || s >= sol->nsites) return cs_error_set(CS_EINVAL, "catchment hull: bad argument");
    *nvert = 0;
    size_t np = 0, maxp = sol->catchment_count[s] + 1;
    double *pts = cs_mallocarray(maxp, 2 * sizeof(double));
    double *h = cs_mallocarray(2 * maxp + 1, 2 * sizeof(double));
    if (!pts || !h) {
        cs_free(pts);
        cs_free(h);
        return CS_ENOMEM;
    }
    if (geo->cand_lon && geo->cand_lat) {
        double x = geo->cand_lon[sol->sites[s]], y = geo->cand_lat[sol->sites[s]];
        if (isfinite(x) && isfinite(y)) {
            pts[2 * np] = x;
            pts[2 * np + 1] = y;
            np++;
        }
    }
    if (geo->demand_lon && geo->demand_lat)
        for (size_t i = 0; i < sol->ndemand && np < maxp; i++) {
            if (sol->assign[i] != s) continue;
            double x = geo->demand_lon[i], y = geo->demand_lat[i];
            if (!isfinite(x) || !isfinite(y)) continue;
            pts[2 * np] = x;
            pts[2 * np + 1] = y;
            np++;
        }
    qsort(pts, np, 2 * sizeof(double), cmp_pt);
    size_t u = 0;
    for (size_t i = 0; i < np; i++)
        if (u == 0 || cmp_pt(pts + 2 * (u - 1), pts + 2 * i)) {
            pts[2 * u] = pts[2 * i];
            pts[2 * u + 1] = pts[2 * i + 1];
            u++;
        }
    np = u;
    size_t k = 0;
    if (np <= 2) {
        memcpy(h, pts, np * 2 * sizeof(double));
        k = np;
    } else {
        /* Andrew's monotone chain: lower then upper hull, collinear points dropped. */
        for (size_t i = 0; i < np; i++) {
            while (k >= 2 && cross(h + 2 * (k - 2), h + 2 * (k - 1), pts + 2 * i) <= 0) k--;
            h[2 * k] = pts[2 * i];
            h[2 * k + 1] = pts[2 * i + 1];
            k++;
        }
        size_t lo = k + 1;
        for (size_t i = np - 1; i-- > 0;) {
            while (k >= lo && cross(h + 2 * (k - 2), h + 2 * (k - 1), pts + 2 * i) <= 0) k--;
            h[2 * k] = pts[2 * i];
            h[2 * k + 1] = pts[2 * i + 1];
            k++;
        }
        k--; /* last point equals the first */
        if (k < 3) {
            /* all collinear: the extreme points as a segment */
            h[0] = pts[0];
            h[1] = pts[1];
            h[2] = pts[2 * (np - 1)];
            h[3] = pts[2 * (np - 1) + 1];
            k = 2;
        }
    }
    cs_status st = CS_OK;
    if (k > cap) st = cs_error_set(CS_EINVAL, "catchment hull: %zu vertices exceed the buffer of %zu", k, cap);
    else {
        memcpy(xy, h, k * 2 * sizeof(double));
        *nvert = k;
    }
    cs_free(pts);
    cs_free(h);
    return st;
}

/* ----------------------------------------------------------------- outputs */

static void csv_field(FILE *f, const char *s)
{
    if (!s) s = "";
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
}

static void csv_num(FILE *f, double v)
{
    if (isnan(v)) return;
    if (isinf(v)) fputs(v > 0 ? "inf" : "-inf", f);
    else {
        /* shortest of %.15g / %.17g that reads back exactly */
        char b[40];
        snprintf(b, sizeof b, "%.15g", v);
        if (strtod(b, NULL) != v) snprintf(b, sizeof b, "%.17g", v);
        fputs(b, f);
    }
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static cs_status write_json_file(const char *path, json_t *root)
{
    if (!root) return cs_error_set(CS_ENOMEM, "out of memory building %s", path);
    char *txt = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!txt) return cs_error_set(CS_ENOMEM, "out of memory serialising %s", path);
    size_t len = strlen(txt);
    cs_status st = cs_write_file_atomic(path, txt, len);
    free(txt);
    return st;
}

static json_t *hull_geometry(const cs_fac_solution *sol, const cs_fac_geo *geo, size_t s, cs_status *st)
{
    size_t cap = sol->catchment_count[s] + 2, nv = 0;
    double *xy = cs_mallocarray(cap, 2 * sizeof(double));
    if (!xy) {
        *st = CS_ENOMEM;
        return NULL;
    }
    *st = cs_fac_catchment_hull(sol, geo, s, xy, cap, &nv);
    if (*st) {
        cs_free(xy);
        return NULL;
    }
    json_t *g = json_object();
    if (nv == 0) {
        json_decref(g);
        cs_free(xy);
        return json_null();
    }
    if (nv == 1) {
        json_object_set_new(g, "type", json_string("Point"));
        json_object_set_new(g, "coordinates", json_pack("[f,f]", xy[0], xy[1]));
    } else if (nv == 2) {
        json_object_set_new(g, "type", json_string("LineString"));
        json_object_set_new(g, "coordinates", json_pack("[[f,f],[f,f]]", xy[0], xy[1], xy[2], xy[3]));
    } else {
        json_t *ring = json_array();
        for (size_t v = 0; v <= nv; v++) {
            size_t q = v % nv;
            json_array_append_new(ring, json_pack("[f,f]", xy[2 * q], xy[2 * q + 1]));
        }
        json_object_set_new(g, "type", json_string("Polygon"));
        json_object_set_new(g, "coordinates", json_pack("[o]", ring));
    }
    cs_free(xy);
    return g;
}

static const char *col_id(const cs_fac_problem *p, uint32_t j) { return p->cost->col_ids ? p->cost->col_ids[j] : ""; }
static const char *row_id(const cs_fac_problem *p, size_t i) { return p->cost->row_ids ? p->cost->row_ids[i] : ""; }

cs_status cs_fac_write(const cs_fac_problem *prob, const cs_fac_solution *sol, const cs_fac_geo *geo_in,
                       const double *radii, size_t nradii, size_t kmax, const double *curve, const char *dir)
{
    if (!prob || !prob->cost || !sol || !dir) return cs_error_set(CS_EINVAL, "cs_fac_write: missing argument");
    if (sol->ndemand != prob->cost->rows) return cs_error_set(CS_EINVAL, "cs_fac_write: solution does not match the problem");
    cs_fac_geo nogeo = {0};
    const cs_fac_geo *geo = geo_in ? geo_in : &nogeo;
    cs_status st = cs_mkdir_p(dir);
    if (st) return st;
    char *path = NULL;
    cs_atomic_file *af = NULL;
    FILE *f;

    /* sites.csv */
    path = cs_asprintf("%s/sites.csv", dir);
    if (!path) return CS_ENOMEM;
    if ((st = cs_atomic_open(path, &af))) goto out;
    f = cs_atomic_stream(af);
    fputs("site_id,candidate_index,lon,lat,existing,catchment_weight,catchment_count\n", f);
    for (size_t s = 0; s < sol->nsites; s++) {
        uint32_t j = sol->sites[s];
        csv_field(f, col_id(prob, j));
        fprintf(f, ",%u,", j);
        if (geo->cand_lon) csv_num(f, geo->cand_lon[j]);
        fputc(',', f);
        if (geo->cand_lat) csv_num(f, geo->cand_lat[j]);
        fprintf(f, ",%d,", sol->existing[s]);
        csv_num(f, sol->catchment_weight[s]);
        fprintf(f, ",%zu\n", sol->catchment_count[s]);
    }
    st = cs_atomic_commit(af);
    af = NULL;
    if (st) goto out;
    cs_free(path);

    /* assignment.csv */
    path = cs_asprintf("%s/assignment.csv", dir);
    if (!path) return CS_ENOMEM;
    if ((st = cs_atomic_open(path, &af))) goto out;
    f = cs_atomic_stream(af);
    fputs("demand_id,name,weight,facility_id,time,covered\n", f);
    for (size_t i = 0; i < sol->ndemand; i++) {
        csv_field(f, row_id(prob, i));
        fputc(',', f);
        csv_field(f, geo->demand_name ? geo->demand_name[i] : "");
        fputc(',', f);
        csv_num(f, prob->weight ? prob->weight[i] : 1.0);
        fputc(',', f);
        if (sol->assign[i] != CS_INVALID_ID) csv_field(f, col_id(prob, sol->sites[sol->assign[i]]));
        fputc(',', f);
        csv_num(f, sol->time[i]);
        fprintf(f, ",%d\n", sol->covered[i]);
    }
    st = cs_atomic_commit(af);
    af = NULL;
    if (st) goto out;
    cs_free(path);

    /* coverage.csv */
    if (curve && nradii) {
        path = cs_asprintf("%s/coverage.csv", dir);
        if (!path) return CS_ENOMEM;
        if ((st = cs_atomic_open(path, &af))) goto out;
        f = cs_atomic_stream(af);
        fputs("radius,new_sites,covered_weight,covered_share\n", f);
        for (size_t r = 0; r < nradii; r++)
            for (size_t k = 0; k <= kmax; k++) {
                double v = curve[r * (kmax + 1) + k];
                csv_num(f, radii[r]);
                fprintf(f, ",%zu,", k);
                csv_num(f, v);
                fputc(',', f);
                csv_num(f, sol->total_weight > 0 ? v / sol->total_weight : NAN);
                fputc('\n', f);
            }
        st = cs_atomic_commit(af);
        af = NULL;
        if (st) goto out;
        cs_free(path);
    }

    /* catchments.geojson */
    {
        json_t *fc = json_object(), *feats = json_array();
        json_object_set_new(fc, "type", json_string("FeatureCollection"));
        for (size_t s = 0; s < sol->nsites; s++) {
            json_t *g = hull_geometry(sol, geo, s, &st);
            if (st) {
                json_decref(fc);
                json_decref(feats);
                goto out_nopath;
            }
            json_t *props = json_pack("{s:s,s:i,s:b,s:o,s:I}", "site_id", col_id(prob, sol->sites[s]),
                                      "candidate_index", (json_int_t)sol->sites[s], "existing", sol->existing[s],
                                      "catchment_weight", jnum(sol->catchment_weight[s]), "catchment_count",
                                      (json_int_t)sol->catchment_count[s]);
            json_array_append_new(feats, json_pack("{s:s,s:o,s:o}", "type", "Feature", "geometry", g, "properties", props));
        }
        json_object_set_new(fc, "features", feats);
        path = cs_asprintf("%s/catchments.geojson", dir);
        if (!path) {
            json_decref(fc);
            return CS_ENOMEM;
        }
        if ((st = write_json_file(path, fc))) goto out;
        cs_free(path);
    }

    /* solution.json last: it is the manifest of the run */
    {
        json_t *root = json_object(), *sites = json_array();
        json_object_set_new(root, "model", json_string(cs_fac_model_name(sol->model)));
        json_object_set_new(root, "method", json_string(sol->method == CS_FAC_EXACT ? "exact" : "heuristic"));
        json_object_set_new(root, "p_new", json_integer((json_int_t)prob->p));
        json_object_set_new(root, "radius", (sol->model == CS_FAC_MCLP || sol->model == CS_FAC_SCP) ? jnum(prob->radius) : json_null());
        json_object_set_new(root, "capacitated", json_boolean(prob->capacity != NULL));
        json_object_set_new(root, "objective", jnum(sol->objective));
        json_object_set_new(root, "bound", jnum(sol->bound));
        json_object_set_new(root, "bound_kind", json_string(sol->bound_kind));
        json_object_set_new(root, "gap", jnum(sol->gap));
        json_object_set_new(root, "optimal", json_boolean(sol->optimal));
        json_object_set_new(root, "time_limited", json_boolean(sol->time_limited));
        json_object_set_new(root, "weighted_time", jnum(sol->weighted_time));
        json_object_set_new(root, "total_weight", jnum(sol->total_weight));
        json_object_set_new(root, "covered_weight", jnum(sol->covered_weight));
        json_object_set_new(root, "max_time", jnum(sol->max_time));
        json_object_set_new(root, "seconds", jnum(sol->seconds));
        json_object_set_new(root, "message", json_string(sol->message));
        json_object_set_new(root, "time_unit", json_string(prob->cost->unit));
        for (size_t s = 0; s < sol->nsites; s++) {
            uint32_t j = sol->sites[s];
            json_t *o = json_pack("{s:s,s:I,s:b,s:o,s:I}", "site_id", col_id(prob, j), "candidate_index",
                                  (json_int_t)j, "existing", sol->existing[s], "catchment_weight",
                                  jnum(sol->catchment_weight[s]), "catchment_count", (json_int_t)sol->catchment_count[s]);
            if (o && geo->cand_lon && geo->cand_lat) {
                json_object_set_new(o, "lon", jnum(geo->cand_lon[j]));
                json_object_set_new(o, "lat", jnum(geo->cand_lat[j]));
            }
            json_array_append_new(sites, o);
        }
        json_object_set_new(root, "sites", sites);
        json_t *asg = json_array();
        for (size_t i = 0; i < sol->ndemand; i++) {
            json_t *o = json_pack("{s:s,s:o,s:o,s:b}", "demand_id", row_id(prob, i), "facility_id",
                                  sol->assign[i] != CS_INVALID_ID ? json_string(col_id(prob, sol->sites[sol->assign[i]]))
                                                                  : json_null(),
                                  "time", jnum(sol->time[i]), "covered", sol->covered[i]);
            json_array_append_new(asg, o);
        }
        json_object_set_new(root, "assignment", asg);
        if (curve && nradii) {
            json_t *cv = json_array();
            for (size_t r = 0; r < nradii; r++) {
                json_t *vals = json_array();
                for (size_t k = 0; k <= kmax; k++) json_array_append_new(vals, jnum(curve[r * (kmax + 1) + k]));
                json_array_append_new(cv, json_pack("{s:o,s:o}", "radius", jnum(radii[r]), "covered_weight", vals));
            }
            json_object_set_new(root, "coverage_curves", cv);
        }
        path = cs_asprintf("%s/solution.json", dir);
        if (!path) {
            json_decref(root);
            return CS_ENOMEM;
        }
        st = write_json_file(path, root);
    }
out:
    if (af) cs_atomic_abort(af);
    if (st && path && cs_error_last()->status == st && !strstr(cs_error_last()->message, path))
        cs_error_prefix("writing %s: ", path);
out_nopath:
    cs_free(path);
    return st;
}

/* ------------------------------------------------------------ OR-Library */

cs_status cs_fac_read_orlib(const char *path, cs_matrix **out, size_t *p_out)
{
    *out = NULL;
    char *buf = NULL;
    size_t size = 0;
    cs_status st = cs_read_file(path, &buf, &size);
    if (st) return st;
    const char *s = buf;
    char *end;
    long hdr[3];
    for (int k = 0; k < 3; k++) {
        hdr[k] = strtol(s, &end, 10);
        if (end == s) {
            cs_free(buf);
            return cs_error_set_at(CS_EPARSE, path, 1, 0, "expected the header 'n m p'");
        }
        s = end;
    }
    long n = hdr[0], ne = hdr[1], p = hdr[2];
    if (n <= 0 || n > 100000 || ne < 0 || p <= 0 || p > n) {
        cs_free(buf);
        return cs_error_set_at(CS_EPARSE, path, 1, 0, "bad header n=%ld m=%ld p=%ld", n, ne, p);
    }
    cs_matrix *M = NULL;
    st = cs_matrix_new((size_t)n, (size_t)n, CS_MATRIX_COST, &M);
    if (st) {
        cs_free(buf);
        return st;
    }
    size_t N = (size_t)n;
    for (size_t i = 0; i < N * N; i++) M->v[i] = INFINITY;
    for (size_t i = 0; i < N; i++) M->v[i * N + i] = 0;
    for (long e = 0; e < ne; e++) {
        long v[3];
        for (int k = 0; k < 3; k++) {
            v[k] = strtol(s, &end, 10);
            if (end == s) {
                cs_matrix_free(M);
                cs_free(buf);
                return cs_error_set_at(CS_EPARSE, path, e + 2, k + 1, "edge %ld of %ld: expected 'i j cost'", e + 1, ne);
            }
            s = end;
        }
        if (v[0] < 1 || v[0] > n || v[1] < 1 || v[1] > n || v[2] < 0) {
            cs_matrix_free(M);
            cs_free(buf);
            return cs_error_set_at(CS_EPARSE, path, e + 2, 0, "edge %ld: vertex out of 1..%ld or negative cost", e + 1, n);
        }
        size_t a = (size_t)v[0] - 1, b = (size_t)v[1] - 1;
        if (a == b) continue;
        /* OR-Library convention: a repeated edge overrides the earlier one. */
        M->v[a * N + b] = M->v[b * N + a] = (double)v[2];
    }
    cs_free(buf);
    /* Floyd-Warshall */
    for (size_t k = 0; k < N; k++) {
        const double *rk = M->v + k * N;
        for (size_t i = 0; i < N; i++) {
            double dik = M->v[i * N + k];
            if (!isfinite(dik)) continue;
            double *ri = M->v + i * N;
            for (size_t j = 0; j < N; j++)
                if (dik + rk[j] < ri[j]) ri[j] = dik + rk[j];
        }
    }
    char **ids = cs_mallocarray(N, sizeof *ids);
    if (!ids) {
        cs_matrix_free(M);
        return CS_ENOMEM;
    }
    size_t made = 0;
    for (; made < N; made++)
        if (!(ids[made] = cs_asprintf("%zu", made + 1))) break;
    if (made == N) st = cs_matrix_set_ids(M, (const char *const *)ids, (const char *const *)ids);
    else st = CS_ENOMEM;
    for (size_t i = 0; i < made; i++) cs_free(ids[i]);
    cs_free(ids);
    if (st) {
        cs_matrix_free(M);
        return st;
    }
    *out = M;
    if (p_out) *p_out = (size_t)p;
    return CS_OK;
}

/* portfolio.c: greedy and exhaustive portfolio selection, frontier, sensitivity (docs/portfolio.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/portfolio.h"
#ifdef _OPENMP
#include <omp.h>
#endif

void cs_portfolio_opts_default(cs_portfolio_opts *o)
{
    memset(o, 0, sizeof *o);
    o->budget = INFINITY;
    o->epsilon = 0;
    o->method = CS_PORTFOLIO_GREEDY;
    cs_appraisal_opts_default(&o->appraisal);
}

void cs_portfolio_result_free(cs_portfolio_result *r)
{
    if (!r) return;
    cs_free(r->selected);
    cs_free(r->order);
    cs_free(r->marginal);
    cs_free(r->marginal_efficiency);
    cs_free(r);
}

double cs_atkinson_ede(const double *y, const double *w, size_t n, double eps)
{
    double sw = 0, s = 0;
    if (eps == 1) {
        for (size_t i = 0; i < n; i++) {
            double wi = w ? w[i] : 1;
            sw += wi;
            s += wi * log(y[i]);
        }
        return exp(s / sw);
    }
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1;
        sw += wi;
        s += wi * (eps == 0 ? y[i] : pow(y[i], 1 - eps));
    }
    return eps == 0 ? s / sw : pow(s / sw, 1 / (1 - eps));
}

static double theil_l(const double *y, const double *pop, size_t n)
{
    double L = 0, S = 0;
    for (size_t i = 0; i < n; i++) {
        L += pop[i];
        S += pop[i] * y[i];
    }
    double mu = S / L, t = 0;
    for (size_t i = 0; i < n; i++) t += pop[i] * log(mu / y[i]);
    return t / L;
}

typedef struct ctx {
    const cs_portfolio_problem *p;
    const cs_portfolio_opts *o;
    double *w;        /* social weights: pop × region weight */
    double Ltot, wtot, ede0, theil0;
    double *y;        /* scratch: outcome after */
    double *cost_mult; /* per project multiplier (sensitivity), NULL = 1 */
    int draw;
    size_t evals;
    void *user;       /* the model callback's user pointer (p->user, or a thread's own model) */
} ctx;

static double capital_of(const ctx *c, size_t j)
{
    double K = 0;
    for (size_t t = 0; t < c->p->costs[j].n_capital; t++) K += c->p->costs[j].capital[t];
    return K * (c->cost_mult ? c->cost_mult[j] : 1);
}

static int affordable(const ctx *c, const uint8_t *sel)
{
    double K = 0;
    for (size_t j = 0; j < c->p->k; j++)
        if (sel[j]) K += capital_of(c, j);
    if (K > c->o->budget * (1 + 1e-12)) return 0;
    for (size_t t = 0; t < c->o->n_budget_years; t++) {
        double s = 0;
        for (size_t j = 0; j < c->p->k; j++)
            if (sel[j] && t < c->p->costs[j].n_capital) s += c->p->costs[j].capital[t] * (c->cost_mult ? c->cost_mult[j] : 1);
        if (s > c->o->budget_by_year[t] * (1 + 1e-12)) return 0;
    }
    /* capital in years beyond the per-year budgets is not allowed when per-year budgets are given */
    if (c->o->n_budget_years)
        for (size_t j = 0; j < c->p->k; j++)
            if (sel[j])
                for (size_t t = c->o->n_budget_years; t < c->p->costs[j].n_capital; t++)
                    if (c->p->costs[j].capital[t] > 0) return 0;
    return 1;
}

/* evaluate: objective and feasibility of the constraints */
static cs_status eval_sel(ctx *c, const uint8_t *sel, double *obj, double *eff, int *feasible)
{
    const cs_portfolio_problem *p = c->p;
    cs_status st = p->eval(c->user, sel, p->k, c->draw, c->y);
    c->evals++;
    if (st) return st;
    for (size_t i = 0; i < p->n; i++)
        if (!(c->y[i] > 0) || !isfinite(c->y[i]))
            return cs_error_set(CS_EINVAL, "portfolio: the model returned a non-positive or non-finite outcome for city %zu", i);
    double e = 0, ow = 0;
    for (size_t i = 0; i < p->n; i++) {
        double d = c->y[i] - p->y_base[i];
        e += p->pop[i] * d;
        ow += c->w[i] * d;
    }
    *eff = e;
    /* ε = 0: the EDE is the weighted mean, so the objective is exactly the (weighted) sum of gains */
    if (c->o->epsilon == 0) *obj = ow * c->Ltot / c->wtot;
    else *obj = c->Ltot * (cs_atkinson_ede(c->y, c->w, p->n, c->o->epsilon) - c->ede0);
    *feasible = 1;
    if (c->o->theil_must_not_rise && theil_l(c->y, p->pop, p->n) > c->theil0 + 1e-14) *feasible = 0;
    if (c->o->min_region_share > 0 && p->region && e > 0) {
        uint32_t nr = 0;
        for (size_t i = 0; i < p->n; i++) if (p->region[i] + 1 > nr) nr = p->region[i] + 1;
        for (uint32_t r = 0; r < nr && *feasible; r++) {
            double g = 0;
            int present = 0;
            for (size_t i = 0; i < p->n; i++)
                if (p->region[i] == r) {
                    present = 1;
                    g += p->pop[i] * (c->y[i] - p->y_base[i]);
                }
            if (present && g < c->o->min_region_share * e) *feasible = 0;
        }
    }
    return CS_OK;
}

static cs_status ctx_init(ctx *c, const cs_portfolio_problem *p, const cs_portfolio_opts *o)
{
    memset(c, 0, sizeof *c);
    c->p = p;
    c->o = o;
    c->user = p ? p->user : NULL;
    if (!p || !p->pop || !p->y_base || !p->eval || (p->k && (!p->costs || !p->names)))
        return cs_error_set(CS_EINVAL, "portfolio: population, baseline outcome, costs, names and a model are required");
    if (!(o->epsilon >= 0)) return cs_error_set(CS_EINVAL, "portfolio: inequality aversion must be >= 0");
    if (!(o->budget >= 0)) return cs_error_set(CS_EINVAL, "portfolio: budget must be >= 0");
    for (size_t i = 0; i < p->n; i++)
        if (!(p->pop[i] > 0) || !(p->y_base[i] > 0) || !isfinite(p->y_base[i]))
            return cs_error_set(CS_EINVAL, "portfolio: city %zu needs population > 0 and a baseline outcome > 0", i);
    c->w = cs_mallocarray(p->n ? p->n : 1, sizeof *c->w);
    c->y = cs_mallocarray(p->n ? p->n : 1, sizeof *c->y);
    if (!c->w || !c->y) return CS_ENOMEM;
    for (size_t i = 0; i < p->n; i++) {
        double rw = (p->region && p->region_weight) ? p->region_weight[p->region[i]] : 1;
        if (!(rw > 0)) return cs_error_set(CS_EINVAL, "portfolio: region weights must be > 0");
        c->w[i] = p->pop[i] * rw;
        c->Ltot += p->pop[i];
        c->wtot += c->w[i];
    }
    c->ede0 = cs_atkinson_ede(p->y_base, c->w, p->n, o->epsilon);
    c->theil0 = theil_l(p->y_base, p->pop, p->n);
    return CS_OK;
}

static void ctx_free(ctx *c)
{
    cs_free(c->w);
    cs_free(c->y);
}

/* name order for tie-breaking: relabelling projects changes nothing */
static int name_less(const cs_portfolio_problem *p, size_t a, size_t b)
{
    int r = strcmp(p->names[a], p->names[b]);
    return r ? r < 0 : a < b;
}

static cs_status fill_result(ctx *c, const uint8_t *sel, cs_portfolio_result *r)
{
    const cs_portfolio_problem *p = c->p;
    double obj, eff;
    int feas;
    cs_status st = eval_sel(c, sel, &obj, &eff, &feas);
    if (st) return st;
    r->k = p->k;
    memcpy(r->selected, sel, p->k);
    r->n_selected = 0;
    r->capital = 0;
    for (size_t j = 0; j < p->k; j++)
        if (sel[j]) {
            r->n_selected++;
            r->capital += capital_of(c, j);
        }
    r->objective = obj;
    r->efficiency_gain = eff;
    r->ede_before = c->ede0;
    r->ede_after = cs_atkinson_ede(c->y, c->w, p->n, c->o->epsilon);
    r->theil_before = c->theil0;
    r->theil_after = theil_l(c->y, p->pop, p->n);
    /* combined cash flow: capital by year summed, annual costs summed, capital-weighted lifetime */
    size_t ny = 1;
    for (size_t j = 0; j < p->k; j++)
        if (sel[j] && p->costs[j].n_capital > ny) ny = p->costs[j].n_capital;
    double *cap = cs_calloc(ny, sizeof *cap);
    if (!cap) return CS_ENOMEM;
    double ann = 0, life_w = 0, Ksum = 0;
    for (size_t j = 0; j < p->k; j++) {
        if (!sel[j]) continue;
        double m = c->cost_mult ? c->cost_mult[j] : 1, Kj = capital_of(c, j);
        for (size_t t = 0; t < p->costs[j].n_capital; t++) cap[t] += p->costs[j].capital[t] * m;
        ann += p->costs[j].annual_cost * m;
        life_w += Kj * p->costs[j].lifetime_years;
        Ksum += Kj;
    }
    memset(&r->appraisal, 0, sizeof r->appraisal);
    if (r->n_selected) {
        cs_project_costs pc = {cap, ny, ann, Ksum > 0 ? life_w / Ksum : 20};
        st = cs_appraise(&pc, eff, &c->o->appraisal, &r->appraisal, NULL, 0);
    }
    cs_free(cap);
    return st;
}

static cs_status alloc_result(size_t k, cs_portfolio_result **out)
{
    cs_portfolio_result *r = cs_calloc(1, sizeof *r);
    if (!r) return CS_ENOMEM;
    r->selected = cs_calloc(k ? k : 1, 1);
    r->order = cs_calloc(k ? k : 1, sizeof *r->order);
    r->marginal = cs_mallocarray(k ? k : 1, sizeof *r->marginal);
    r->marginal_efficiency = cs_mallocarray(k ? k : 1, sizeof *r->marginal_efficiency);
    if (!r->selected || !r->order || !r->marginal || !r->marginal_efficiency) {
        cs_portfolio_result_free(r);
        return CS_ENOMEM;
    }
    for (size_t j = 0; j < k; j++) r->marginal[j] = r->marginal_efficiency[j] = NAN;
    *out = r;
    return CS_OK;
}

/* sort candidates by estimate per cost, descending; ties by name (insertion sort, stable) */
static void sort_by_ratio(const ctx *c, size_t *order, size_t m, const double *est)
{
    for (size_t a = 1; a < m; a++) {
        size_t x = order[a], b = a;
        double rx = est[x] / fmax(capital_of(c, x), 1e-300);
        while (b > 0) {
            size_t y = order[b - 1];
            double ry = est[y] / fmax(capital_of(c, y), 1e-300);
            if (ry > rx || (ry == rx && name_less(c->p, y, x))) break;
            order[b] = y;
            b--;
        }
        order[b] = x;
    }
}

/* The guard covers every affordable single project, evaluated exactly (not only those the first step's screen
 * evaluated alone); eff1[j] NaN = not evaluated yet. sel is all zeros on entry and on return. */
static cs_status guard_singles(ctx *c, uint8_t *sel, double *g1, double *eff1, size_t *single_io)
{
    const cs_portfolio_problem *p = c->p;
    size_t k = p->k, single = *single_io;
    cs_status st = CS_OK;
    for (size_t j = 0; j < k && !st; j++) {
        if (!isnan(eff1[j])) continue;
        sel[j] = 1;
        int afford = affordable(c, sel);
        double obj = 0, eff = 0;
        int feas = 0;
        if (afford) st = eval_sel(c, sel, &obj, &eff, &feas);
        sel[j] = 0;
        if (st || !afford) continue;
        g1[j] = feas ? obj : -INFINITY;
        eff1[j] = eff;
        if (feas && obj > 0 && (single == SIZE_MAX || obj > g1[single] || (obj == g1[single] && name_less(p, j, single))))
            single = j;
        if (c->o->progress.fn && c->o->progress.fn(c->o->progress.user, "portfolio: single projects (guard)", (double)j + 1, (double)k))
            st = cs_error_set(CS_ECANCELED, "cancelled");
    }
    *single_io = single;
    return st;
}

/*
 * Plain greedy with exact re-evaluation (docs/portfolio.md, "Methods"): at each step the affordable
 * candidates are ranked by estimated gain per cost — the first-order estimate of the callback at the
 * current portfolio, or without one each project alone evaluated exactly once — and the best `screen` are
 * evaluated exactly with the model; the one with the largest exact gain per cost is added.
 */
static cs_status select_greedy(ctx *c, uint8_t *best_sel, double *best_obj, double *single_obj, int *guard,
                               size_t *pick_order, double *marginal, double *marg_eff)
{
    const cs_portfolio_problem *p = c->p;
    size_t k = p->k, n = p->n;
    cs_status st = CS_OK;
    int use_est = p->estimate != NULL;
    double *eff1 = cs_mallocarray(k ? k : 1, sizeof *eff1);
    uint8_t *sel = cs_calloc(k ? k : 1, 1), *want = cs_calloc(k ? k : 1, 1);
    double *g1 = cs_mallocarray(k ? k : 1, sizeof *g1), *est = cs_mallocarray(k ? k : 1, sizeof *est);
    size_t *order = cs_mallocarray(k ? k : 1, sizeof *order);
    double *dy = use_est ? cs_mallocarray((k ? k : 1) * (n ? n : 1), sizeof *dy) : NULL;
    double *ycur = cs_mallocarray(n ? n : 1, sizeof *ycur), *ypick = cs_mallocarray(n ? n : 1, sizeof *ypick);
    double *grad = cs_mallocarray(n ? n : 1, sizeof *grad);
    if (!sel || !want || !g1 || !est || !order || (use_est && !dy) || !ycur || !ypick || !grad || !eff1) {
        st = CS_ENOMEM;
        goto done;
    }
    for (size_t j = 0; j < k; j++) {
        g1[j] = -INFINITY;
        eff1[j] = NAN; /* NaN: not evaluated alone yet */
        marginal[j] = marg_eff[j] = NAN;
    }
    memcpy(ycur, p->y_base, n * sizeof *ycur);
    size_t single = SIZE_MAX, npick = 0;
    if (!use_est) {
        /* each project alone, exactly: the estimate and the guard */
        for (size_t j = 0; j < k; j++) {
            memset(sel, 0, k);
            sel[j] = 1;
            if (!affordable(c, sel)) continue;
            double eff;
            int feas;
            if ((st = eval_sel(c, sel, &g1[j], &eff, &feas))) goto done;
            eff1[j] = eff;
            if (!feas) g1[j] = -INFINITY;
            if (feas && g1[j] > 0 && (single == SIZE_MAX || g1[j] > g1[single] || (g1[j] == g1[single] && name_less(p, j, single))))
                single = j;
            if (c->o->progress.fn && c->o->progress.fn(c->o->progress.user, "portfolio: single projects", (double)j + 1, (double)k)) {
                st = cs_error_set(CS_ECANCELED, "cancelled");
                goto done;
            }
        }
        memset(sel, 0, k);
    }
    double cur = 0, cur_eff = 0, pick_eff = 0;
    for (;;) {
        size_t m = 0;
        for (size_t j = 0; j < k; j++) {
            want[j] = 0;
            if (sel[j]) continue;
            sel[j] = 1;
            int a = affordable(c, sel);
            sel[j] = 0;
            if (a) {
                order[m++] = j;
                want[j] = 1;
            }
        }
        if (!m) break;
        if (use_est) {
            /* first-order objective gain: Σ_i ∂O/∂y_i · dy_ji with ∂O/∂y_i = L (w_i / W) (y_i / EDE)^−ε */
            if ((st = p->estimate(p->user, sel, k, c->draw, want, dy))) goto done;
            double ede = c->o->epsilon == 0 ? 1 : cs_atkinson_ede(ycur, c->w, n, c->o->epsilon);
            for (size_t i = 0; i < n; i++)
                grad[i] = c->Ltot * c->w[i] / c->wtot * (c->o->epsilon == 0 ? 1 : pow(ycur[i] / ede, -c->o->epsilon));
            for (size_t q = 0; q < m; q++) {
                size_t j = order[q];
                double g = 0;
                for (size_t i = 0; i < n; i++) g += grad[i] * dy[j * n + i];
                est[j] = isfinite(g) ? g : -INFINITY;
            }
        } else {
            for (size_t q = 0; q < m; q++) est[order[q]] = g1[order[q]];
        }
        sort_by_ratio(c, order, m, est);
        size_t batch = c->o->screen ? c->o->screen : m;
        size_t pick = SIZE_MAX;
        double pick_ratio = 0, pick_obj = 0;
        for (size_t q0 = 0; q0 < m && pick == SIZE_MAX; q0 += batch) {
            size_t q1 = q0 + batch < m ? q0 + batch : m;
            int tried = 0;
            for (size_t q = q0; q < q1; q++) {
                size_t j = order[q];
                if (use_est && q > 0 && !(est[j] > 0)) break; /* the first is always tried */
                tried = 1;
                sel[j] = 1;
                double obj, eff;
                int feas;
                st = eval_sel(c, sel, &obj, &eff, &feas);
                sel[j] = 0;
                if (st) goto done;
                if (npick == 0) { /* alone: the guard */
                    g1[j] = feas ? obj : -INFINITY;
                    eff1[j] = eff;
                    if (feas && obj > 0 && (single == SIZE_MAX || obj > g1[single] || (obj == g1[single] && name_less(p, j, single))))
                        single = j;
                }
                double gain = obj - cur;
                if (!feas || !(gain > 0)) continue;
                double ratio = gain / fmax(capital_of(c, j), 1e-300);
                if (pick == SIZE_MAX || ratio > pick_ratio || (ratio == pick_ratio && name_less(p, j, pick))) {
                    pick = j;
                    pick_ratio = ratio;
                    pick_obj = obj;
                    pick_eff = eff;
                    memcpy(ypick, c->y, n * sizeof *ypick);
                }
            }
            /* without an estimate callback only the first batch is tried (the classic screen) */
            if (!use_est || !tried) break;
            if (q1 < m && !(est[order[q1]] > 0)) break;
        }
        /* the first step (empty portfolio): every other affordable single project alone, for the guard — here, where
           the model's state is that of the empty portfolio (a model may evaluate single projects faster there) */
        if (npick == 0 && (st = guard_singles(c, sel, g1, eff1, &single))) goto done;
        if (pick == SIZE_MAX) break;
        sel[pick] = 1;
        marginal[pick] = pick_obj - cur;
        marg_eff[pick] = pick_eff - cur_eff;
        pick_order[npick++] = pick;
        cur = pick_obj;
        cur_eff = pick_eff;
        memcpy(ycur, ypick, n * sizeof *ycur);
        if (c->o->progress.fn &&
            c->o->progress.fn(c->o->progress.user, "portfolio: greedy", (double)npick, (double)(npick + m - 1))) {
            st = cs_error_set(CS_ECANCELED, "cancelled");
            goto done;
        }
    }
    /* whatever the first step left: every affordable single project, evaluated exactly, for the guard */
    if ((st = guard_singles(c, sel, g1, eff1, &single))) goto done;
    /* restore the greedy's selection (sel is only cleared below if the guard wins) */
    memset(sel, 0, k);
    for (size_t q = 0; q < npick; q++) sel[pick_order[q]] = 1;
    *single_obj = single == SIZE_MAX ? 0 : g1[single];
    *guard = 0;
    if (single != SIZE_MAX && g1[single] > cur) {
        memset(sel, 0, k);
        sel[single] = 1;
        for (size_t j = 0; j < k; j++) marginal[j] = marg_eff[j] = NAN;
        marginal[single] = g1[single];
        marg_eff[single] = eff1[single];
        pick_order[0] = single;
        npick = 1;
        cur = g1[single];
        *guard = 1;
    }
    memcpy(best_sel, sel, k);
    *best_obj = cur;
done:
    cs_free(eff1);
    cs_free(sel);
    cs_free(want);
    cs_free(g1);
    cs_free(est);
    cs_free(order);
    cs_free(dy);
    cs_free(ycur);
    cs_free(ypick);
    cs_free(grad);
    return st;
}

static cs_status select_exhaustive(ctx *c, uint8_t *best_sel, double *best_obj)
{
    const cs_portfolio_problem *p = c->p;
    size_t k = p->k;
    if (k > 20) return cs_error_set(CS_EINVAL, "portfolio: exhaustive search is limited to 20 candidates (got %zu)", k);
    uint8_t *sel = cs_calloc(k ? k : 1, 1);
    if (!sel) return CS_ENOMEM;
    memset(best_sel, 0, k);
    double best = 0, bestK = 0;
    cs_status st = CS_OK;
    uint64_t N = (uint64_t)1 << k;
    for (uint64_t mask = 1; mask < N; mask++) {
        for (size_t j = 0; j < k; j++) sel[j] = (mask >> j) & 1;
        if (!affordable(c, sel)) continue;
        double obj, eff;
        int feas;
        if ((st = eval_sel(c, sel, &obj, &eff, &feas))) break;
        if (!feas) continue;
        double K = 0;
        for (size_t j = 0; j < k; j++) if (sel[j]) K += capital_of(c, j);
        int better = obj > best * (1 + 1e-12) + 1e-300;
        if (!better && fabs(obj - best) <= 1e-12 * fabs(best) && obj > 0) {
            /* tie: cheaper, then the set whose smallest differing project name comes first */
            if (K < bestK) better = 1;
            else if (K == bestK) {
                size_t a = SIZE_MAX;
                for (size_t j = 0; j < k; j++)
                    if (sel[j] != best_sel[j] && (a == SIZE_MAX || name_less(p, j, a))) a = j;
                better = a != SIZE_MAX && sel[a];
            }
        }
        if (better) {
            best = obj;
            bestK = K;
            memcpy(best_sel, sel, k);
        }
        if (c->o->progress.fn && (mask & 1023) == 0 &&
            c->o->progress.fn(c->o->progress.user, "portfolio: exhaustive", (double)mask, (double)N)) {
            st = cs_error_set(CS_ECANCELED, "cancelled");
            break;
        }
    }
    cs_free(sel);
    *best_obj = best;
    return st;
}

static cs_status select_with(ctx *c, cs_portfolio_result **out)
{
    cs_portfolio_result *r;
    cs_status st = alloc_result(c->p->k, &r);
    if (st) return st;
    uint8_t *sel = cs_calloc(c->p->k ? c->p->k : 1, 1);
    if (!sel) {
        cs_portfolio_result_free(r);
        return CS_ENOMEM;
    }
    double obj = 0, single = 0;
    int guard = 0;
    int exh = c->o->method == CS_PORTFOLIO_EXHAUSTIVE || (c->o->method == CS_PORTFOLIO_AUTO && c->p->k <= 12);
    if (exh) st = select_exhaustive(c, sel, &obj);
    else st = select_greedy(c, sel, &obj, &single, &guard, r->order, r->marginal, r->marginal_efficiency);
    if (!st) st = fill_result(c, sel, r);
    if (!st && exh) {
        size_t q = 0;
        for (size_t j = 0; j < c->p->k; j++)
            if (sel[j]) r->order[q++] = j;
    }
    r->greedy_objective = r->greedy_gap = NAN;
    if (!st && exh) {
        /* where both run: the greedy on the same problem and its gap to the optimum */
        size_t k1 = c->p->k ? c->p->k : 1;
        uint8_t *gsel = cs_calloc(k1, 1);
        size_t *gord = cs_calloc(k1, sizeof *gord);
        double *gm = cs_mallocarray(k1, sizeof *gm), *ge = cs_mallocarray(k1, sizeof *ge);
        double gobj = 0, gsingle = 0;
        int gguard = 0;
        if (!gsel || !gord || !gm || !ge) st = CS_ENOMEM;
        if (!st) st = select_greedy(c, gsel, &gobj, &gsingle, &gguard, gord, gm, ge);
        if (!st) {
            r->greedy_objective = gobj;
            r->greedy_gap = r->objective != 0 ? (r->objective - gobj) / fabs(r->objective) : NAN;
        }
        cs_free(gsel);
        cs_free(gord);
        cs_free(gm);
        cs_free(ge);
    }
    cs_free(sel);
    if (st) {
        cs_portfolio_result_free(r);
        return st;
    }
    r->single_best_objective = single;
    r->guard_used = guard;
    r->evaluations = c->evals;
    *out = r;
    return CS_OK;
}

cs_status cs_portfolio_select(const cs_portfolio_problem *p, const cs_portfolio_opts *o_in, cs_portfolio_result **out)
{
    *out = NULL;
    cs_portfolio_opts o;
    if (o_in) o = *o_in;
    else cs_portfolio_opts_default(&o);
    ctx c;
    cs_status st = ctx_init(&c, p, &o);
    if (!st) st = select_with(&c, out);
    ctx_free(&c);
    return st;
}

cs_status cs_portfolio_evaluate(const cs_portfolio_problem *p, const cs_portfolio_opts *o_in, const uint8_t *selected,
                                cs_portfolio_result **out)
{
    *out = NULL;
    cs_portfolio_opts o;
    if (o_in) o = *o_in;
    else cs_portfolio_opts_default(&o);
    ctx c;
    cs_portfolio_result *r = NULL;
    cs_status st = ctx_init(&c, p, &o);
    if (!st) st = alloc_result(p->k, &r);
    if (!st) st = fill_result(&c, selected, r);
    if (!st) {
        size_t q = 0;
        for (size_t j = 0; j < p->k; j++)
            if (selected[j]) r->order[q++] = j;
        r->evaluations = c.evals;
        *out = r;
    } else {
        cs_portfolio_result_free(r);
    }
    ctx_free(&c);
    return st;
}

void cs_frontier_free(cs_frontier_point *f, size_t n)
{
    if (!f) return;
    for (size_t i = 0; i < n; i++) cs_free(f[i].selected);
    cs_free(f);
}

cs_status cs_portfolio_frontier(const cs_portfolio_problem *p, const cs_portfolio_opts *o_in, const double *budgets,
                                size_t nb, const double *eps, size_t ne, cs_frontier_point **out)
{
    *out = NULL;
    cs_portfolio_opts o;
    if (o_in) o = *o_in;
    else cs_portfolio_opts_default(&o);
    cs_frontier_point *f = cs_calloc(nb * ne > 0 ? nb * ne : 1, sizeof *f);
    if (!f) return CS_ENOMEM;
    cs_status st = CS_OK;
    for (size_t b = 0; b < nb && !st; b++)
        for (size_t e = 0; e < ne && !st; e++) {
            o.budget = budgets[b];
            o.epsilon = eps[e];
            cs_portfolio_result *r;
            st = cs_portfolio_select(p, &o, &r);
            if (st) break;
            cs_frontier_point *q = &f[b * ne + e];
            q->budget = budgets[b];
            q->epsilon = eps[e];
            q->efficiency_gain = r->efficiency_gain;
            q->objective = r->objective;
            q->theil_after = r->theil_after;
            q->capital = r->capital;
            q->npv = r->n_selected ? r->appraisal.npv : 0;
            q->selected = r->selected;
            r->selected = NULL;
            cs_portfolio_result_free(r);
        }
    if (st) {
        cs_frontier_free(f, nb * ne);
        return st;
    }
    *out = f;
    return CS_OK;
}

void cs_sensitivity_free(cs_sensitivity_result *r)
{
    if (!r) return;
    cs_free(r->select_freq);
    cs_free(r->npv_mean);
    cs_free(r->npv_p05);
    cs_free(r->npv_p95);
    cs_free(r);
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double q7(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_dbl);
    double h = (double)(n - 1) * q;
    size_t i = (size_t)h;
    return i + 1 < n ? v[i] + (h - (double)i) * (v[i + 1] - v[i]) : v[n - 1];
}

cs_status cs_portfolio_sensitivity(const cs_portfolio_problem *p, const cs_portfolio_opts *o_in,
                                   const cs_sensitivity_opts *so, cs_sensitivity_result **out)
{
    *out = NULL;
    cs_portfolio_opts o;
    if (o_in) o = *o_in;
    else cs_portfolio_opts_default(&o);
    size_t D = so && so->ndraws ? so->ndraws : 200, k = p->k;
    double lo = so && so->cost_high > 0 ? so->cost_low : 0.8, hi = so && so->cost_high > 0 ? so->cost_high : 1.5;
    if (!(lo > 0 && hi >= lo)) return cs_error_set(CS_EINVAL, "sensitivity: cost multiplier range must satisfy 0 < low <= high");
    uint64_t rng = so ? so->seed : 1;
    ctx c;
    cs_status st = ctx_init(&c, p, &o);
    cs_sensitivity_result *r = cs_calloc(1, sizeof *r);
    double *npv = cs_mallocarray((k ? k : 1) * D, sizeof *npv), *pnpv = cs_mallocarray(D, sizeof *pnpv);
    uint8_t *central = cs_calloc(k ? k : 1, 1);
    if (!st && (!r || !npv || !pnpv || !central)) st = CS_ENOMEM;
    if (!st) {
        r->k = k;
        r->ndraws = D;
        r->select_freq = cs_calloc(k ? k : 1, sizeof(double));
        r->npv_mean = cs_calloc(k ? k : 1, sizeof(double));
        r->npv_p05 = cs_calloc(k ? k : 1, sizeof(double));
        r->npv_p95 = cs_calloc(k ? k : 1, sizeof(double));
        if (!r->select_freq || !r->npv_mean || !r->npv_p05 || !r->npv_p95) st = CS_ENOMEM;
    }
    /* the central portfolio (draw 0, unit costs as given) */
    if (!st) {
        cs_portfolio_result *cr;
        st = select_with(&c, &cr);
        if (!st) {
            memcpy(central, cr->selected, k);
            cs_portfolio_result_free(cr);
        }
    }
    /* cost multipliers of every draw, drawn in draw order before any work: the same whatever the threads */
    double *mults = st ? NULL : cs_mallocarray((k ? k : 1) * D, sizeof *mults);
    uint8_t *dsel = st ? NULL : cs_calloc((k ? k : 1) * D, 1);
    if (!st && (!mults || !dsel)) st = CS_ENOMEM;
    for (size_t d = 0; !st && d < D; d++)
        for (size_t j = 0; j < k; j++) mults[d * k + j] = lo + (hi - lo) * ((double)(splitmix(&rng) >> 11) / 9007199254740992.0);
    int T = so && so->users && so->threads > 1 ? (int)so->threads : 1;
    if ((size_t)T > D) T = (int)D;
    cs_status fst = CS_OK;          /* first failure, by draw number */
    size_t fdraw = SIZE_MAX, done = 0;
    char fmsg[1024] = "";
    int stop = st != CS_OK;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        ctx ct = c;
        ct.y = cs_mallocarray(p->n ? p->n : 1, sizeof *ct.y);
        uint8_t *one_t = cs_calloc(k ? k : 1, 1);
        if (T > 1) ct.user = so->users[t];
        cs_status tst = ct.y && one_t ? CS_OK : CS_ENOMEM;
#pragma omp for schedule(dynamic, 1)
        for (size_t d = 1; d <= D; d++) {
            int halt;
#pragma omp atomic read
            halt = stop;
            if (halt) continue;
            cs_status ds = tst;
            ct.cost_mult = mults + (d - 1) * k;
            ct.draw = (int)d;
            cs_portfolio_result *rr = NULL;
            if (!ds) ds = select_with(&ct, &rr);
            if (!ds) memcpy(dsel + (d - 1) * k, rr->selected, k);
            cs_portfolio_result_free(rr);
            for (size_t j = 0; j < k && !ds; j++) {
                memset(one_t, 0, k);
                one_t[j] = 1;
                cs_portfolio_result *sr;
                if (alloc_result(k, &sr)) ds = CS_ENOMEM;
                else {
                    ds = fill_result(&ct, one_t, sr);
                    npv[j * D + d - 1] = sr->appraisal.npv;
                    cs_portfolio_result_free(sr);
                }
            }
            if (!ds) {
                cs_portfolio_result *pr;
                if (alloc_result(k, &pr)) ds = CS_ENOMEM;
                else {
                    ds = fill_result(&ct, central, pr);
                    pnpv[d - 1] = pr->n_selected ? pr->appraisal.npv : 0;
                    cs_portfolio_result_free(pr);
                }
            }
            size_t ndone;
#pragma omp critical(cs_pf_sens)
            {
                if (ds && d < fdraw) {
                    fdraw = d;
                    fst = ds;
                    snprintf(fmsg, sizeof fmsg, "%s", cs_error_last()->message);
                }
                ndone = ++done;
            }
            if (ds) {
#pragma omp atomic write
                stop = 1;
            }
            /* progress from the first thread only (the callback need not be thread-safe) */
            if (!ds && t == 0 && o.progress.fn && o.progress.fn(o.progress.user, "sensitivity draws", (double)ndone, (double)D)) {
#pragma omp critical(cs_pf_sens)
                if (fdraw == SIZE_MAX) {
                    fdraw = 0;
                    fst = CS_ECANCELED;
                    snprintf(fmsg, sizeof fmsg, "cancelled");
                }
#pragma omp atomic write
                stop = 1;
            }
        }
        cs_free(ct.y);
        cs_free(one_t);
    }
    if (!st && fst) st = fst == CS_ENOMEM && !*fmsg ? CS_ENOMEM : cs_error_set(fst, "%s", fmsg);
    size_t npos = 0;
    for (size_t d = 0; !st && d < D; d++) {
        for (size_t j = 0; j < k; j++) r->select_freq[j] += dsel[d * k + j];
        if (pnpv[d] > 0) npos++;
    }
    cs_free(mults);
    cs_free(dsel);
    if (!st) {
        for (size_t j = 0; j < k; j++) {
            r->select_freq[j] /= (double)D;
            double s = 0;
            for (size_t d = 0; d < D; d++) s += npv[j * D + d];
            r->npv_mean[j] = s / (double)D;
            r->npv_p05[j] = q7(npv + j * D, D, 0.05);
            r->npv_p95[j] = q7(npv + j * D, D, 0.95);
        }
        double s = 0;
        for (size_t d = 0; d < D; d++) s += pnpv[d];
        r->portfolio_npv_mean = s / (double)D;
        r->portfolio_p_npv_positive = (double)npos / (double)D;
        r->portfolio_npv_p05 = q7(pnpv, D, 0.05);
        r->portfolio_npv_p95 = q7(pnpv, D, 0.95);
        *out = r;
    } else {
        cs_sensitivity_free(r);
    }
    cs_free(npv);
    cs_free(pnpv);
    cs_free(central);
    ctx_free(&c);
    return st;
}

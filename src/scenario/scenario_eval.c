/*
 * scenario_eval.c: evaluating a scenario against a calibrated baseline —
 * channels -> cost after -> tau after -> counterfactual by exact hat algebra
 * (cs_eq_counterfactual) -> comparison, aggregates, inequality before/after,
 * appraisal; the fast mode for repeated evaluations and the first-order
 * estimate. Definitions: docs/scenarios.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/flows.h"
#include "citysys/gravity.h"
#include "citysys/inequality.h"
#include "citysys/typology.h"
#include "scenario/scenario_base.h"

void cs_scenario_opts_default(cs_scenario_opts *o)
{
    memset(o, 0, sizeof *o);
    o->horizon = CS_EQ_LONG_RUN;
    cs_appraisal_opts_default(&o->appraisal);
    o->access_theta = 1;
}

void cs_scenario_result_free(cs_scenario_result *r)
{
    if (!r) return;
    cs_free(r->access_before);
    cs_free(r->access_after);
    cs_free(r->mean_time_before);
    cs_free(r->mean_time_after);
    cs_eq_state_free(r->after);
    cs_eq_change_free(r->change);
    cs_free(r->a_shift);
    cs_free(r->b_shift);
    cs_free(r->rank);
    cs_eq_aggregate_free(r->by_group);
    cs_eq_aggregate_free(r->by_country);
    cs_free(r->ineq);
    cs_matrix_free(r->time_after);
    cs_matrix_free(r->cost_after);
    cs_matrix_free(r->tau_after);
    cs_typology_free(r->typology_before);
    cs_typology_free(r->typology_after);
    cs_load_free(r->load_before);
    cs_load_free(r->load_after);
    cs_free(r);
}

/* ------------------------------------------------------------ channels */

typedef struct sc_run {
    cs_matrix *time1, *dist1, *cost1, *tau1;
    double *ash, *bsh;
    size_t faster, slower, nonroad;
    int cost_changed;
} sc_run;

static void run_free(sc_run *R)
{
    cs_matrix_free(R->time1);
    cs_matrix_free(R->dist1);
    cs_matrix_free(R->cost1);
    cs_matrix_free(R->tau1);
    cs_free(R->ash);
    cs_free(R->bsh);
    memset(R, 0, sizeof *R);
}

static cs_status channels(cs_scenario_base *b, const cs_scenario *s, int want_nonroad, sc_run *R)
{
    memset(R, 0, sizeof *R);
    size_t n = b->n;
    R->ash = cs_mallocarray(n, sizeof *R->ash);
    R->bsh = cs_mallocarray(n, sizeof *R->bsh);
    if (!R->ash || !R->bsh) return CS_ENOMEM;
    cs_status st = sc_travel_after(b, s, want_nonroad, &R->time1, &R->dist1, &R->faster, &R->slower, &R->nonroad);
    if (!st) st = sc_shifts(b, s, R->time1 ? R->time1 : b->in.time, R->ash, R->bsh);
    if (!st) st = sc_cost_after(b, s, R->time1, R->dist1, &R->cost1, &R->cost_changed);
    if (!st && R->cost1) st = cs_cost_iceberg(R->cost1, &b->in.cost, &R->tau1);
    return st;
}

/* counterfactual from the channels; keep: tau1 kept intact */
static cs_status solve(cs_scenario_base *b, sc_run *R, cs_eq_horizon horizon, int keep, cs_diag *diag, cs_eq_state **after)
{
    cs_matrix *tau = R->tau1;
    cs_matrix *tmp = NULL;
    cs_status st = CS_OK;
    if (!tau) {
        st = cs_matrix_clone(b->tau0, &tmp);
        if (st) return st;
        tau = tmp;
    }
    st = cs_eq_counterfactual(b->model, b->state, b->tau0, tau, horizon, R->ash, R->bsh,
                              (keep && !tmp) ? 0 : CS_EQ_REUSE_TAU_AFTER, diag, after);
    cs_matrix_free(tmp);
    return st;
}

/* ------------------------------------------------------------ pieces of the result */

/* MA_i = sum_{j != i, reachable} mass_j * max(t_ij / 60, 1)^-theta (t in s -> minutes, floored at 1 minute) */
static void market_access(const cs_matrix *t, const double *mass, size_t n, double theta, double *ma, double *mt)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0, tw = 0, w = 0;
        for (size_t j = 0; j < n; j++) {
            if (j == i) continue;
            double x = t->v[i * n + j];
            if (!isfinite(x)) continue;
            s += mass[j] * pow(fmax(x / 60.0, 1.0), -theta);
            tw += mass[j] * x;
            w += mass[j];
        }
        ma[i] = s;
        mt[i] = w > 0 ? tw / w : NAN;
    }
}

typedef struct ineq_list {
    cs_scenario_ineq *v;
    size_t n, cap;
} ineq_list;

static cs_status ineq_push(ineq_list *L, cs_scenario_ineq e)
{
    if (L->n == L->cap) {
        size_t nc = L->cap ? 2 * L->cap : 32;
        cs_scenario_ineq *a = cs_reallocarray(L->v, nc, sizeof *a);
        if (!a) return CS_ENOMEM;
        L->v = a;
        L->cap = nc;
    }
    L->v[L->n++] = e;
    return CS_OK;
}

/* one variable, one partition: Gini (Dagum), Theil T and Theil L (GE decompositions), CV (total only) */
static cs_status ineq_partition(ineq_list *L, const char *var, const char *part, const double *y0, const double *w0,
                                const double *y1, const double *w1, size_t n, const uint32_t *grp, size_t ng)
{
    cs_status st = CS_OK;
    double tot[2][4], bet[2][3], wit[2][3];
    for (int k = 0; k < 2; k++) {
        const double *y = k ? y1 : y0, *w = k ? w1 : w0;
        if (!grp) {
            cs_ineq_opts io = cs_ineq_opts_default();
            io.omit_undefined = 1;
            cs_ineq_summary s;
            st = cs_ineq_summarise(y, w, n, &io, &s);
            if (st) return st;
            tot[k][0] = s.gini;
            tot[k][1] = (s.defined & CS_INEQ_THEIL_T) ? s.theil_t : NAN;
            tot[k][2] = (s.defined & CS_INEQ_THEIL_L) ? s.theil_l : NAN;
            tot[k][3] = s.cv;
            for (int m = 0; m < 3; m++) bet[k][m] = wit[k][m] = NAN;
            continue;
        }
        cs_gini_decomp *gd = NULL;
        st = cs_gini_decompose(y, w, n, grp, ng, &gd);
        if (st) return st;
        tot[k][0] = gd->total;
        bet[k][0] = gd->between_gross;
        wit[k][0] = gd->within;
        cs_gini_decomp_free(gd);
        for (int m = 1; m <= 2; m++) {
            cs_ge_decomp *ge = NULL;
            if (cs_ge_decompose(y, w, n, grp, ng, m == 1 ? 1.0 : 0.0, &ge)) {
                cs_error_clear();
                tot[k][m] = bet[k][m] = wit[k][m] = NAN; /* values an index refuses (<= 0) */
                continue;
            }
            tot[k][m] = ge->total;
            bet[k][m] = ge->between;
            wit[k][m] = ge->within;
            cs_ge_decomp_free(ge);
        }
        tot[k][3] = NAN;
    }
    static const char *const MEAS[4] = {"gini", "theil_t", "theil_l", "cv"};
    for (int m = 0; m < (grp ? 3 : 4) && !st; m++)
        st = ineq_push(L, (cs_scenario_ineq){var, MEAS[m], part, tot[0][m], tot[1][m], m < 3 ? bet[0][m] : NAN,
                                             m < 3 ? bet[1][m] : NAN, m < 3 ? wit[0][m] : NAN, m < 3 ? wit[1][m] : NAN});
    return st;
}

static cs_status inequality(const cs_scenario_base *b, const cs_eq_state *after, const double *ma0, const double *ma1,
                            cs_scenario_result *r)
{
    size_t n = b->n;
    const cs_eq_state *s0 = b->state;
    ineq_list L = {0};
    cs_status st = CS_OK;
    uint32_t *reg = NULL, *typ = NULL;
    size_t nreg = 0, ntyp = 0;
    if (b->idx.rcode) st = cs_eq_groups_from_labels(b->idx.rcode, n, &reg, &nreg, NULL);
    if (!st && b->in.typology) st = cs_eq_groups_from_labels(b->in.typology, n, &typ, &ntyp, NULL);
    const char *parts[4] = {"none", "region", "country", "typology"};
    const uint32_t *pg[4] = {NULL, reg, b->country, typ};
    size_t png[4] = {0, nreg, b->ncountries, ntyp};
    for (int v = 0; v < 2 && !st; v++) {
        const char *var = v == 0 ? "real_income" : "market_access";
        const double *y0 = v == 0 ? s0->real_income : ma0, *y1 = v == 0 ? after->real_income : ma1;
        /* market access: each person once at the baseline population (the network effect alone) */
        const double *w0 = s0->L, *w1 = v == 0 ? after->L : s0->L;
        for (int p = 0; p < 4 && !st; p++) {
            if (p > 0 && !pg[p]) continue;
            st = ineq_partition(&L, var, parts[p], y0, w0, y1, w1, n, pg[p], png[p]);
            if (st == CS_EINVAL && v == 1) {
                /* market access can be zero everywhere in a tiny or disconnected system: skip it */
                cs_error_clear();
                st = CS_OK;
            }
        }
    }
    cs_free(reg);
    cs_free(typ);
    if (st) {
        cs_free(L.v);
        return st;
    }
    r->ineq = L.v;
    r->nineq = L.n;
    return CS_OK;
}

/* ------------------------------------------------------------ evaluate */

cs_status cs_scenario_evaluate(cs_scenario_base *b, const cs_scenario *s, const cs_scenario_opts *opts, cs_diag *diag,
                               cs_scenario_result **out)
{
    *out = NULL;
    if (!b || !s) return cs_error_set(CS_EINVAL, "cs_scenario_evaluate: NULL argument");
    cs_scenario_opts o;
    if (opts) o = *opts;
    else cs_scenario_opts_default(&o);
    int e = sc_validate_with(s, &b->in, &b->idx, diag, 0);
    if (e) return cs_error_set(CS_EPARSE, "scenario '%s': %d error%s against the baseline; nothing was evaluated",
                               cs_scenario_name(s), e, e == 1 ? "" : "s");
    size_t n = b->n;
    cs_scenario_result *r = cs_calloc(1, sizeof *r);
    if (!r) return CS_ENOMEM;
    r->n = n;
    r->horizon = o.horizon;
    sc_run R;
    int keep = (o.flags & CS_SCENARIO_KEEP_MATRICES) != 0;
    cs_status st = channels(b, s, 1, &R);
    if (!st) st = solve(b, &R, o.horizon, keep, diag, &r->after);
    if (!st) st = cs_eq_compare(b->model, b->state, r->after, &r->change);
    if (!st) {
        r->pairs_faster = R.faster;
        r->pairs_slower = R.slower;
        r->pairs_nonroad_after = R.nonroad;
        r->a_shift = R.ash;
        r->b_shift = R.bsh;
        R.ash = R.bsh = NULL;
        r->access_before = cs_mallocarray(n, sizeof(double));
        r->access_after = cs_mallocarray(n, sizeof(double));
        r->mean_time_before = cs_mallocarray(n, sizeof(double));
        r->mean_time_after = cs_mallocarray(n, sizeof(double));
        r->rank = cs_mallocarray(n, sizeof(uint32_t));
        if (!r->access_before || !r->access_after || !r->mean_time_before || !r->mean_time_after || !r->rank) st = CS_ENOMEM;
    }
    if (!st) {
        market_access(b->in.time, b->L, n, o.access_theta, r->access_before, r->mean_time_before);
        market_access(R.time1 ? R.time1 : b->in.time, b->L, n, o.access_theta, r->access_after, r->mean_time_after);
        st = cs_eq_rank(r->change->real_income_hat, n, r->rank);
    }
    if (!st) st = cs_eq_aggregate_by(b->state, r->after, r->change, b->group, b->ngroups, &r->by_group);
    if (!st) st = cs_eq_aggregate_by(b->state, r->after, r->change, b->country, b->ncountries, &r->by_country);
    if (!st) {
        r->ngroups = b->ngroups;
        r->ncountries = b->ncountries;
        r->group_names = b->group_names;
        r->country_names = b->country_names;
        st = inequality(b, r->after, r->access_before, r->access_after, r);
    }
    if (!st) {
        r->total_ev = r->change->total_ev;
        r->welfare_change = r->change->total_welfare_hat - 1;
        r->welfare_change_pop = r->change->total_welfare_hat_pop - 1;
        for (size_t i = 0; i < n; i++) {
            double h = r->change->resident_welfare_hat[i];
            if (h > 1 + 1e-12) r->n_gainers++;
            else if (h < 1 - 1e-12) r->n_losers++;
        }
        int years = 1;
        for (size_t q = 0; q < s->n; q++) {
            r->capital_cost += s->ch[q].capital;
            r->annual_cost += s->ch[q].annual;
            if (s->ch[q].cons_years > years) years = s->ch[q].cons_years;
        }
        if (r->capital_cost > 0) {
            double cap[64];
            cs_project_costs pc;
            st = cs_scenario_costs(s, SIZE_MAX, cap, 64, &pc);
            if (!st) st = cs_appraise(&pc, r->total_ev, &o.appraisal, &r->appraisal, NULL, 0);
            r->appraised = !st;
        }
    }
    /* gravity flows after the scenario (same model as the baseline flows, on the cost and populations
       after); without a gravity model the baseline flows are held fixed */
    cs_matrix *flows1 = NULL;
    const cs_matrix *flows_after = b->in.flows;
    if (!st && (o.flags & CS_SCENARIO_STRUCTURE) && b->in.flows && b->in.gravity && r->after) {
        const cs_matrix *c1 = R.cost1 ? R.cost1 : b->cost0;
        st = cs_gravity_predict(c1, r->after->L, r->after->L, b->in.gravity, &flows1, NULL, NULL, NULL);
        if (!st) flows_after = flows1;
    }
    if (!st && (o.flags & CS_SCENARIO_STRUCTURE)) {
        /* typology before/after on the travel times, with the project's rules when given */
        cs_typology_params tp;
        if (b->in.typology_params) tp = *b->in.typology_params;
        else cs_typology_params_default(&tp);
        cs_typology_input ti;
        memset(&ti, 0, sizeof ti);
        ti.n = n;
        ti.pop = b->L;
        ti.group = b->country;
        ti.ids = (const char *const *)b->in.cities->id;
        ti.time = b->in.time;
        ti.flows = b->in.typology_own_hub_flows ? NULL : b->in.flows;
        st = cs_typology_compute(&ti, &tp, NULL, NULL, &r->typology_before);
        if (!st) {
            ti.time = R.time1 ? R.time1 : b->in.time;
            ti.pop = r->after->L;
            ti.flows = b->in.typology_own_hub_flows ? NULL : flows_after;
            st = cs_typology_compute(&ti, &tp, NULL, NULL, &r->typology_after);
        }
    }
    if (!st && (o.flags & CS_SCENARIO_STRUCTURE) && b->in.flows && b->in.net && b->in.loc) {
        /* road load before (the network, baseline flows) and after (the network with the scenario's
           changes; flows after the scenario when a gravity model is given) */
        cs_load_opts lo;
        cs_load_opts_default(&lo);
        st = cs_load_compute(b->in.net, b->in.loc, n, b->in.flows, &lo, &r->load_before);
        cs_network *na = NULL;
        if (!st && sc_has_hard(s)) st = sc_network_after(b, s, &na);
        if (!st) st = cs_load_compute(na ? na : b->in.net, b->in.loc, n, flows_after, &lo, &r->load_after);
        r->load_nsegs_before = b->in.net->n_segs;
        r->load_flows_recomputed = flows1 != NULL;
        cs_network_from_arcs_free(na);
    }
    cs_matrix_free(flows1);
    if (!st && keep) {
        if (!R.time1) st = cs_matrix_clone(b->in.time, &R.time1);
        if (!st && !R.cost1) st = cs_matrix_clone(b->cost0, &R.cost1);
        if (!st && !R.tau1) st = cs_matrix_clone(b->tau0, &R.tau1);
        r->time_after = R.time1;
        r->cost_after = R.cost1;
        r->tau_after = R.tau1;
        R.time1 = R.cost1 = R.tau1 = NULL;
    }
    run_free(&R);
    if (st) {
        cs_error_prefix("scenario '%s'", cs_scenario_name(s));
        cs_scenario_result_free(r);
        return st;
    }
    *out = r;
    return CS_OK;
}

cs_status cs_scenario_evaluate_fast(cs_scenario_base *b, const cs_scenario *s, cs_eq_horizon horizon,
                                    cs_scenario_outcome kind, double *y_after, double *total_ev)
{
    if (!b || !s || !y_after) return cs_error_set(CS_EINVAL, "cs_scenario_evaluate_fast: NULL argument");
    sc_run R;
    cs_eq_state *after = NULL;
    cs_eq_change *chg = NULL;
    cs_status st = channels(b, s, 0, &R);
    if (!st) st = solve(b, &R, horizon, 0, NULL, &after);
    if (!st) st = cs_eq_compare(b->model, b->state, after, &chg);
    if (!st) {
        const double *h = kind == CS_OUTCOME_WELFARE ? chg->resident_welfare_hat : chg->real_income_hat;
        for (size_t i = 0; i < b->n; i++) y_after[i] = b->w[i] * h[i];
        if (total_ev) *total_ev = chg->total_ev;
    }
    cs_eq_state_free(after);
    cs_eq_change_free(chg);
    run_free(&R);
    if (st) cs_error_prefix("scenario '%s'", cs_scenario_name(s));
    return st;
}

/* ------------------------------------------------------------ first-order estimate */

static cs_status estimate_prepare(cs_scenario_base *b)
{
    if (b->cexp) return CS_OK;
    size_t n = b->n;
    double th = b->model->params.theta;
    const cs_eq_state *s0 = b->state;
    double *c = cs_mallocarray(n, sizeof *c), *d = cs_calloc(n, sizeof *d);
    if (!c || !d) {
        cs_free(c);
        cs_free(d);
        return CS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) c[i] = pow(s0->w[i] / s0->A[i], -th);
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < n; j++) {
            double t = b->tau0->v[k * n + j];
            if (isfinite(t)) d[j] += c[k] * pow(t, -th);
        }
    b->cexp = c;
    b->denom = d;
    return CS_OK;
}

cs_status cs_scenario_estimate(cs_scenario_base *b, const cs_scenario *s, double *ev1)
{
    if (!b || !s || !ev1) return cs_error_set(CS_EINVAL, "cs_scenario_estimate: NULL argument");
    cs_status st = estimate_prepare(b);
    if (st) return st;
    sc_run R;
    st = channels(b, s, 0, &R);
    if (!st) {
        size_t n = b->n;
        double th = b->model->params.theta, sum = 0;
        const cs_eq_state *s0 = b->state;
        if (R.tau1) {
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                    if (i == j) continue;
                    double t0 = b->tau0->v[i * n + j], t1 = R.tau1->v[i * n + j];
                    if (t0 == t1 || !isfinite(t0) || !(b->denom[j] > 0)) continue;
                    double x = b->cexp[i] * pow(t0, -th) / b->denom[j] * s0->w[j] * s0->L[j];
                    if (x == 0) continue;
                    sum -= x * log(t1 / t0);
                }
        }
        for (size_t i = 0; i < n; i++) sum += s0->w[i] * s0->L[i] * (log(R.ash[i]) + log(R.bsh[i]));
        *ev1 = sum;
    }
    run_free(&R);
    return st;
}

/* appraisal.c: NPV, EIRR, BCR, FYRR, switching values (docs/appraisal.md). */
#include <math.h>
#include "citysys/alloc.h"
#include "citysys/appraisal.h"

void cs_appraisal_opts_default(cs_appraisal_opts *o)
{
    o->discount_rate = CS_DEFAULT_DISCOUNT_RATE;
    o->horizon_years = 0;
    o->benefit_growth = 0.0;
    o->residual_value = 1;
}

double cs_npv(const double *flow, size_t n, double r)
{
    double v = 0, d = 1;
    for (size_t t = 0; t < n; t++) {
        v += flow[t] / d;
        d *= 1 + r;
    }
    return v;
}

cs_status cs_irr(const double *flow, size_t n, double *irr, int *status, int *nroots)
{
    *irr = NAN;
    *status = 1;
    if (nroots) *nroots = 0;
    if (!flow || n < 2) return cs_error_set(CS_EINVAL, "IRR needs a cash flow of at least two years");
    /* grid on log(1+r) so low rates are sampled finely */
    const int G = 4000;
    const double lo = log(0.01), hi = log(11.0);
    double prev_r = exp(lo) - 1, prev_v = cs_npv(flow, n, prev_r);
    int roots = 0;
    double root = NAN;
    if (prev_v == 0) {
        roots++;
        root = prev_r;
    }
    for (int k = 1; k <= G; k++) {
        double r = exp(lo + (hi - lo) * k / G) - 1;
        double v = cs_npv(flow, n, r);
        if (v == 0) {
            roots++;
            root = r;
        } else if (prev_v != 0 && (v > 0) != (prev_v > 0)) {
            double a = prev_r, b = r, fa = prev_v;
            for (int it = 0; it < 200 && b - a > 1e-14; it++) {
                double m = 0.5 * (a + b), fm = cs_npv(flow, n, m);
                if ((fm > 0) == (fa > 0)) {
                    a = m;
                    fa = fm;
                } else {
                    b = m;
                }
            }
            roots++;
            root = 0.5 * (a + b);
        }
        prev_r = r;
        prev_v = v;
    }
    if (nroots) *nroots = roots;
    if (roots == 1) {
        *irr = root;
        *status = 0;
    } else if (roots > 1) {
        *status = 2;
    }
    return CS_OK;
}

cs_status cs_appraise(const cs_project_costs *c, double B, const cs_appraisal_opts *opts_in, cs_appraisal *out,
                      double *flow_out, size_t flow_cap)
{
    cs_appraisal_opts o;
    if (opts_in) o = *opts_in;
    else cs_appraisal_opts_default(&o);
    if (!c || !c->capital || c->n_capital < 1) return cs_error_set(CS_EINVAL, "appraisal: at least one construction year is needed");
    if (!(c->lifetime_years > 0)) return cs_error_set(CS_EINVAL, "appraisal: lifetime must be positive");
    if (!(o.discount_rate > -1)) return cs_error_set(CS_EINVAL, "appraisal: discount rate must exceed -100%%");
    if (!isfinite(B) || !isfinite(c->annual_cost)) return cs_error_set(CS_EINVAL, "appraisal: benefit and annual cost must be finite");
    size_t T = o.horizon_years > 0 ? (size_t)o.horizon_years : c->n_capital + 20;
    if (T <= c->n_capital) return cs_error_set(CS_EINVAL, "appraisal: the horizon (%zu years) ends before operation starts (year %zu)", T, c->n_capital);
    double *ben = cs_calloc(T, sizeof *ben), *cost = cs_calloc(T, sizeof *cost), *net = cs_calloc(T, sizeof *net);
    if (!ben || !cost || !net) {
        cs_free(ben);
        cs_free(cost);
        cs_free(net);
        return CS_ENOMEM;
    }
    double K = 0;
    for (size_t t = 0; t < c->n_capital; t++) {
        if (!isfinite(c->capital[t]) || c->capital[t] < 0) {
            cs_free(ben); cs_free(cost); cs_free(net);
            return cs_error_set(CS_EINVAL, "appraisal: capital cost of year %zu must be finite and >= 0", t);
        }
        cost[t] += c->capital[t];
        K += c->capital[t];
    }
    for (size_t t = c->n_capital; t < T; t++) {
        double op = (double)(t - c->n_capital); /* years since opening */
        if (op >= c->lifetime_years) break;    /* asset worn out: no more benefits or maintenance */
        ben[t] = B * pow(1 + o.benefit_growth, op);
        cost[t] += c->annual_cost;
    }
    /* straight-line residual value: share of life not used by the end of the horizon */
    double used = (double)(T - c->n_capital);
    double resid = 0;
    if (o.residual_value && used < c->lifetime_years) resid = K * (1 - used / c->lifetime_years);
    cost[T - 1] -= resid;
    double pvb = 0, pvc = 0, pvk = 0, d = 1;
    for (size_t t = 0; t < T; t++) {
        pvb += ben[t] / d;
        pvc += cost[t] / d;
        if (t < c->n_capital) pvk += c->capital[t] / d;
        net[t] = ben[t] - cost[t];
        d *= 1 + o.discount_rate;
    }
    cs_appraisal a = {0};
    a.years = (int)T;
    a.pv_benefits = pvb;
    a.pv_costs = pvc;
    a.pv_capital = pvk;
    a.residual = resid;
    a.npv = pvb - pvc;
    a.bcr = pvc > 0 ? pvb / pvc : (pvb > 0 ? INFINITY : NAN);
    a.fyrr = K > 0 ? (ben[c->n_capital] - (c->annual_cost)) / K : NAN;
    a.switch_cost = pvc > 0 ? a.npv / pvc : NAN;
    a.switch_benefit = pvb > 0 ? a.npv / pvb : NAN;
    cs_status st = cs_irr(net, T, &a.eirr, &a.eirr_status, &a.eirr_roots);
    if (!st && flow_out) {
        for (size_t t = 0; t < T && t < flow_cap; t++) flow_out[t] = net[t];
    }
    cs_free(ben);
    cs_free(cost);
    cs_free(net);
    if (st) return st;
    *out = a;
    return CS_OK;
}

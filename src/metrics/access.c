/* access.c: market access (power, exponential, cumulative, Harris). See include/citysys/access.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "citysys/access.h"
#include "citysys/alloc.h"

const double cs_access_default_theta[CS_ACCESS_DEFAULT_NTHETA] = {1.0, 2.0, 3.8, 5.0, 8.0};
const double cs_access_default_thresholds[CS_ACCESS_DEFAULT_NTHRESH] = {30.0, 60.0, 120.0, 240.0};

void cs_access_opts_default(cs_access_opts *o)
{
    memset(o, 0, sizeof *o);
    o->theta = cs_access_default_theta;
    o->ntheta = CS_ACCESS_DEFAULT_NTHETA;
    o->thresholds = cs_access_default_thresholds;
    o->nthresh = CS_ACCESS_DEFAULT_NTHRESH;
    o->harris = 1;
    o->c_min = 10.0;
    o->scale = 1.0;
    o->own_cost = 0.0;
}

void cs_access_result_free(cs_access_result *r)
{
    if (!r) return;
    if (r->names)
        for (size_t k = 0; k < r->ncols; k++) cs_free(r->names[k]);
    cs_free(r->names);
    cs_free(r->v);
    cs_free(r->unreachable);
    cs_free(r);
}

/* c^(-theta) for c > 0; exact products for small integer exponents (faster than pow, same value class). */
static inline double inv_pow(double c, double theta, int itheta)
{
    switch (itheta) {
    case 0: return 1.0;
    case 1: return 1.0 / c;
    case 2: return 1.0 / (c * c);
    case 3: return 1.0 / (c * c * c);
    case 4: { double c2 = c * c; return 1.0 / (c2 * c2); }
    case 5: { double c2 = c * c; return 1.0 / (c2 * c2 * c); }
    case 6: { double c2 = c * c; return 1.0 / (c2 * c2 * c2); }
    case 8: { double c2 = c * c, c4 = c2 * c2; return 1.0 / (c4 * c4); }
    default: return exp2(-theta * log2(c)); /* ~30 % faster than pow() in glibc; relative error ~1e-15·θ·|log2 c| */
    }
}

static int int_exponent(double theta)
{
    if (theta >= 0 && theta <= 8 && theta == floor(theta) && theta != 7) return (int)theta;
    return -1;
}

cs_status cs_access_compute(const cs_matrix *cost, const double *mass, const cs_access_opts *opts,
                            cs_access_result **out)
{
    cs_access_opts def;
    if (!opts) {
        cs_access_opts_default(&def);
        opts = &def;
    }
    if (!cost || !mass || !out) return cs_error_set(CS_EINVAL, "access: NULL argument");
    *out = NULL;
    if (cost->rows != cost->cols)
        return cs_error_set(CS_EINVAL, "access: cost matrix must be square (got %zu x %zu)", cost->rows, cost->cols);
    const size_t n = cost->rows;
    if (!(opts->c_min >= 0) || !(opts->scale > 0) || !isfinite(opts->scale))
        return cs_error_set(CS_EINVAL, "access: c_min must be >= 0 and scale > 0");
    for (size_t k = 0; k < opts->ntheta; k++)
        if (!(opts->theta[k] >= 0) || !isfinite(opts->theta[k]))
            return cs_error_set(CS_EINVAL, "access: theta[%zu] = %g must be a finite number >= 0", k, opts->theta[k]);
    for (size_t k = 0; k < opts->nhalf; k++)
        if (!(opts->half_life[k] > 0) || !isfinite(opts->half_life[k]))
            return cs_error_set(CS_EINVAL, "access: half-life %g must be finite and > 0", opts->half_life[k]);
    for (size_t k = 0; k < opts->nthresh; k++)
        if (isnan(opts->thresholds[k]))
            return cs_error_set(CS_EINVAL, "access: threshold %zu is NaN", k);
    for (size_t i = 0; i < n; i++)
        if (!(mass[i] >= 0) || !isfinite(mass[i]))
            return cs_error_set(CS_EINVAL, "access: mass of city %zu (%s) is %g; masses must be finite and >= 0", i,
                                cost->row_ids ? cost->row_ids[i] : "?", mass[i]);
    if (opts->own_mass) {
        if (opts->own_cost_each) {
            for (size_t i = 0; i < n; i++)
                if (!(opts->own_cost_each[i] >= 0))
                    return cs_error_set(CS_EINVAL, "access: own cost of city %zu is %g (must be >= 0)", i,
                                        opts->own_cost_each[i]);
        } else if (!(opts->own_cost >= 0)) {
            return cs_error_set(CS_EINVAL, "access: own cost %g must be >= 0", opts->own_cost);
        }
    }
    /* negative costs are an input error (checked in the row loop; recorded once after). */

    size_t ncols = opts->ntheta + opts->nhalf + opts->nthresh + (opts->harris ? 1 : 0);
    cs_access_result *r = cs_calloc(1, sizeof *r);
    if (!r) return CS_ENOMEM;
    r->n = n;
    r->ncols = ncols;
    r->names = cs_calloc(ncols ? ncols : 1, sizeof *r->names);
    r->v = cs_mallocarray((ncols * n) > 0 ? ncols * n : 1, sizeof *r->v);
    r->unreachable = cs_calloc(n ? n : 1, sizeof *r->unreachable);
    if (!r->names || !r->v || !r->unreachable) goto nomem;
    {
        size_t c = 0;
        for (size_t k = 0; k < opts->ntheta; k++)
            if (!(r->names[c++] = cs_asprintf("ma_power_theta_%g", opts->theta[k]))) goto nomem;
        for (size_t k = 0; k < opts->nhalf; k++)
            if (!(r->names[c++] = cs_asprintf("ma_exp_halflife_%g", opts->half_life[k]))) goto nomem;
        for (size_t k = 0; k < opts->nthresh; k++)
            if (!(r->names[c++] = cs_asprintf("cum_within_%g", opts->thresholds[k]))) goto nomem;
        if (opts->harris && !(r->names[c++] = cs_strdup("harris_mp"))) goto nomem;
    }

    const double scale = opts->scale, cmin = opts->c_min;
    long bad_row = -1;
    long bad_col = -1;
    volatile int cancelled = 0;
    const cs_progress prog = opts->progress;
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t i = 0; i < n; i++) {
        if (cancelled) continue;
        const double *row = cost->v + i * n;
        uint32_t unreach = 0;
        int neg = 0;
        for (size_t j = 0; j < n; j++) {
            double c = row[j];
            if (j == i) continue;
            if (!(c <= INFINITY) || c == INFINITY) unreach++; /* NaN or +inf */
            else if (c < 0) neg = 1;
        }
        if (neg) {
#pragma omp critical(cs_access_bad)
            {
                if (bad_row < 0 || (long)i < bad_row) {
                    bad_row = (long)i;
                    for (size_t j = 0; j < n; j++)
                        if (j != i && row[j] < 0) { bad_col = (long)j; break; }
                }
            }
            continue;
        }
        r->unreachable[i] = unreach;
        double own_c = 0;
        if (opts->own_mass) own_c = (opts->own_cost_each ? opts->own_cost_each[i] : opts->own_cost);
        size_t col = 0;
        for (size_t k = 0; k < opts->ntheta; k++, col++) {
            const double th = opts->theta[k];
            const int it = int_exponent(th);
            double s = 0;
            for (size_t j = 0; j < n; j++) {
                double c = row[j] * scale;
                if (j == i || !(c < INFINITY)) continue;
                if (c < cmin) c = cmin;
                s += mass[j] * inv_pow(c, th, it);
            }
            if (opts->own_mass) {
                double c = own_c < cmin ? cmin : own_c;
                s += mass[i] * inv_pow(c, th, it);
            }
            r->v[col * n + i] = s;
        }
        for (size_t k = 0; k < opts->nhalf; k++, col++) {
            const double lam = -M_LN2 / opts->half_life[k];
            double s = 0;
            for (size_t j = 0; j < n; j++) {
                double c = row[j] * scale;
                if (j == i || !(c < INFINITY)) continue;
                s += mass[j] * exp(lam * c);
            }
            if (opts->own_mass) s += mass[i] * exp(lam * own_c);
            r->v[col * n + i] = s;
        }
        for (size_t k = 0; k < opts->nthresh; k++, col++) {
            const double T = opts->thresholds[k];
            double s = 0;
            for (size_t j = 0; j < n; j++) {
                double c = row[j] * scale;
                if (j == i || !(c <= T)) continue;
                s += mass[j];
            }
            if (opts->own_mass && own_c <= T) s += mass[i];
            r->v[col * n + i] = s;
        }
        if (opts->harris) {
            double s = 0;
            for (size_t j = 0; j < n; j++) {
                double c = row[j] * scale;
                if (j == i || !(c < INFINITY)) continue;
                if (c < cmin) c = cmin;
                s += mass[j] / c;
            }
            if (opts->own_mass) s += mass[i] / (own_c < cmin ? cmin : own_c);
            r->v[col * n + i] = s;
        }
        if (prog.fn && (i % 256) == 0) {
#pragma omp critical(cs_access_prog)
            {
                if (prog.fn(prog.user, "market access", (double)i, (double)n)) cancelled = 1;
            }
        }
    }
    if (bad_row >= 0) {
        cs_access_result_free(r);
        return cs_error_set(CS_EINVAL, "access: negative cost %g from %s to %s",
                            cost->v[(size_t)bad_row * n + (size_t)bad_col], cost->row_ids[bad_row],
                            cost->col_ids[bad_col]);
    }
    if (cancelled) {
        cs_access_result_free(r);
        return cs_error_set(CS_ECANCELED, "access: cancelled");
    }
    *out = r;
    return CS_OK;
nomem:
    cs_access_result_free(r);
    return cs_error_set(CS_ENOMEM, "access: out of memory");
}

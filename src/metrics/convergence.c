/*
 * convergence.c: σ-convergence (CV and SD of logs per period) and
 * β-convergence (OLS of average annual log growth on the log initial level,
 * Barro & Sala-i-Martin 1992). Formulas: docs/methods.md, "Spatial weights,
 * spatial autocorrelation and convergence".
 */
#include <math.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/inequality.h"

cs_status cs_sigma_convergence(const double *y, const double *w, size_t n, size_t nper, double *cv, double *sd_log)
{
    if (!y || !cv || !sd_log || n == 0 || nper == 0)
        return cs_error_set(CS_EINVAL, "sigma convergence: empty panel or NULL argument");
    double *col = cs_mallocarray(n, sizeof *col), *wc = w ? cs_mallocarray(n, sizeof *wc) : NULL;
    if (!col || (w && !wc)) {
        cs_free(col);
        cs_free(wc);
        return cs_error_set(CS_ENOMEM, "sigma convergence: out of memory");
    }
    cs_status s = CS_OK;
    double *cvt = cs_mallocarray(nper, sizeof *cvt), *sdt = cs_mallocarray(nper, sizeof *sdt);
    if (!cvt || !sdt) {
        s = cs_error_set(CS_ENOMEM, "sigma convergence: out of memory");
        goto done;
    }
    for (size_t t = 0; t < nper; t++) {
        for (size_t i = 0; i < n; i++) {
            col[i] = y[i * nper + t];
            if (wc) wc[i] = w[i * nper + t];
        }
        if ((s = cs_cv(col, wc, n, CS_SD_POPULATION, &cvt[t]))) {
            cs_error_prefix("period %zu: ", t);
            goto done;
        }
        long double W = 0, m = 0, v = 0;
        for (size_t i = 0; i < n; i++) {
            double wi = wc ? wc[i] : 1.0;
            if (wi == 0) continue;
            if (!(col[i] > 0)) {
                s = cs_error_set(CS_EINVAL, "period %zu: sd_log: value at row %zu is %g; logs need values > 0", t, i,
                                 col[i]);
                goto done;
            }
            W += wi;
            m += wi * logl(col[i]);
        }
        m /= W;
        for (size_t i = 0; i < n; i++) {
            double wi = wc ? wc[i] : 1.0;
            if (wi == 0) continue;
            long double d = logl(col[i]) - m;
            v += wi * d * d;
        }
        sdt[t] = (double)sqrtl(v / W);
    }
    memcpy(cv, cvt, nper * sizeof *cv);
    memcpy(sd_log, sdt, nper * sizeof *sd_log);
done:
    cs_free(col);
    cs_free(wc);
    cs_free(cvt);
    cs_free(sdt);
    return s;
}

cs_status cs_beta_convergence(const double *y0, const double *yT, size_t n, double years, cs_beta_result *out)
{
    if (!y0 || !yT || !out) return cs_error_set(CS_EINVAL, "beta convergence: NULL argument");
    if (n < 3) return cs_error_set(CS_EINVAL, "beta convergence: needs at least 3 units (got %zu)", n);
    if (!(years > 0) || !isfinite(years))
        return cs_error_set(CS_EINVAL, "beta convergence: the time span must be > 0 years (got %g)", years);
    long double sx = 0, sg = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(y0[i] > 0) || !(yT[i] > 0) || !isfinite(y0[i]) || !isfinite(yT[i]))
            return cs_error_set(CS_EINVAL, "beta convergence: values at row %zu (%g, %g) must be finite and > 0", i,
                                y0[i], yT[i]);
        sx += logl(y0[i]);
        sg += (logl(yT[i]) - logl(y0[i])) / years;
    }
    long double mx = sx / n, mg = sg / n, sxx = 0, sxg = 0, sgg = 0;
    for (size_t i = 0; i < n; i++) {
        long double x = logl(y0[i]) - mx, g = (logl(yT[i]) - logl(y0[i])) / years - mg;
        sxx += x * x;
        sxg += x * g;
        sgg += g * g;
    }
    if (!(sxx > 0)) return cs_error_set(CS_EINVAL, "beta convergence: all initial levels are equal");
    cs_beta_result r;
    memset(&r, 0, sizeof r);
    r.n = n;
    r.years = years;
    long double b = sxg / sxx, a = mg - b * mx;
    long double ssr = sgg - b * sxg;
    if (ssr < 0) ssr = 0;
    long double s2 = ssr / (n - 2);
    r.alpha = (double)a;
    r.beta = (double)b;
    r.se_beta = (double)sqrtl(s2 / sxx);
    r.se_alpha = (double)sqrtl(s2 * (1.0L / n + mx * mx / sxx));
    r.t_beta = r.se_beta > 0 ? (double)(b / r.se_beta) : (b > 0 ? INFINITY : b < 0 ? -INFINITY : 0);
    r.r2 = sgg > 0 ? (double)(1 - ssr / sgg) : 1.0;
    long double q = 1 + b * years;
    if (q > 0) {
        r.speed_defined = 1;
        r.speed = (double)(-logl(q) / years);
        r.half_life = r.speed > 0 ? log(2.0) / r.speed : INFINITY;
    } else {
        r.speed_defined = 0;
        r.speed = INFINITY;
        r.half_life = INFINITY;
    }
    *out = r;
    return CS_OK;
}

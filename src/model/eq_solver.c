/* eq_solver.c: the damped fixed-point engine of the spatial equilibrium model
 * (docs/model-equilibrium.md, "Solver") and the calibration iteration. */
#include <math.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include "citysys/alloc.h"
#include "citysys/error.h"
#include "model/eq_internal.h"

/* Row blocks of the fused pass: fixed (independent of the thread count) so
 * that the column sums are added in the same order on any machine. */
#define EQ_BLOCKS 16
/* Below this size the OpenMP fork costs more than the pass. */
#define EQ_PAR_MIN 192

size_t eq_acc_size(size_t n) { return (n < EQ_BLOCKS ? n : EQ_BLOCKS) * n; }

void eq_pass(const double *K, size_t n, const double *x, const double *y, double *row, double *col, double *acc)
{
    const size_t nb = n < EQ_BLOCKS ? n : EQ_BLOCKS;
    /* One read of K serves both sums: row sums against y, column sums
     * against x accumulated per block (acc stays in cache: n doubles). */
#pragma omp parallel for schedule(static) if (n >= EQ_PAR_MIN)
    for (size_t b = 0; b < nb; b++) {
        const size_t i0 = n * b / nb, i1 = n * (b + 1) / nb;
        double *a = acc + b * n;
        memset(a, 0, n * sizeof *a);
        for (size_t i = i0; i < i1; i++) {
            const double *Ki = K + i * n;
            const double xi = x[i];
            double s = 0.0;
#pragma omp simd reduction(+ : s)
            for (size_t j = 0; j < n; j++) {
                const double k = Ki[j];
                s += k * y[j];
                a[j] += k * xi;
            }
            row[i] = s;
        }
    }
#pragma omp parallel for schedule(static) if (n >= EQ_PAR_MIN)
    for (size_t j = 0; j < n; j++) {
        double t = 0.0;
        for (size_t b = 0; b < nb; b++) t += acc[b * n + j];
        col[j] = t;
    }
}

static inline size_t grp(const eq_sys *S, size_t i) { return S->group ? S->group[i] : 0; }

/* Shift log L within each group so that sum_{i in g} L_i = Lbar_g. */
static void normalise_L(const eq_sys *S, double *logL, double *gsum)
{
    for (size_t g = 0; g < S->ng; g++) gsum[g] = 0.0;
    for (size_t i = 0; i < S->n; i++) gsum[grp(S, i)] += exp(logL[i]);
    for (size_t g = 0; g < S->ng; g++) gsum[g] = log(S->gpop[g]) - log(gsum[g]);
    for (size_t i = 0; i < S->n; i++) logL[i] += gsum[grp(S, i)];
}

/* Shift log w so that sum_i w_i L_i = Y. */
static void normalise_w(const eq_sys *S, double *logw, const double *logL)
{
    double t = 0.0;
    for (size_t i = 0; i < S->n; i++) t += exp(logw[i] + logL[i]);
    const double sh = log(S->Y) - log(t);
    for (size_t i = 0; i < S->n; i++) logw[i] += sh;
}

cs_status eq_run(const eq_sys *S, double *w, double *L, double *Phi, int *iters, double *resid)
{
    const size_t n = S->n;
    const double th = S->theta, al = S->alpha;
    cs_status st = CS_OK;
    double *buf = cs_mallocarray(8 * n + S->ng + eq_acc_size(n), sizeof *buf);
    if (!buf) return CS_ENOMEM;
    double *logw = buf, *logL = buf + n, *c = buf + 2 * n, *y = buf + 3 * n, *row = buf + 4 * n;
    double *lw = buf + 5 * n, *lL = buf + 6 * n, *Phin = buf + 7 * n, *gs = buf + 8 * n;
    double *acc = gs + S->ng;
    for (size_t i = 0; i < n; i++) {
        logw[i] = log(w[i]);
        logL[i] = log(L[i]);
    }
    if (S->mobile) normalise_L(S, logL, gs);
    normalise_w(S, logw, logL);
    /* Own elasticity of welfare to population, holding the rest of the system
     * fixed: beta + (alpha theta - 1)/(1 + theta). The population step is the
     * Newton step of the mobility condition on this diagonal (docs). */
    const double e = S->beta + (al * th - 1.0) / (1.0 + th);
    const double denom = S->inv_kappa - e;
    if (S->mobile && !(denom > 0.0)) {
        cs_free(buf);
        return cs_error_set(CS_EINVAL,
                            "equilibrium: beta + (alpha*theta - 1)/(1 + theta) - 1/kappa = %g must be < 0 "
                            "for the long run to be stable (congestion must outweigh agglomeration)",
                            -denom);
    }
    for (size_t i = 0; i < n; i++) {
        c[i] = exp(-th * (logw[i] - S->logp[i] - al * logL[i]));
        y[i] = 0.0;
    }
    eq_pass(S->K, n, c, y, row, Phi, acc);
    double lam = S->step, prev = INFINITY, res = INFINITY;
    size_t worst = 0;
    int it;
    for (it = 1; it <= S->max_iter; it++) {
        for (size_t i = 0; i < n; i++) {
            c[i] = exp(-th * (logw[i] - S->logp[i] - al * logL[i]));
            y[i] = exp(logw[i] + logL[i]) / Phi[i];
        }
        eq_pass(S->K, n, c, y, row, Phin, acc);
        /* wage target from market clearing: w^(1+theta) = (p L^alpha)^theta row / L */
        for (size_t i = 0; i < n; i++)
            lw[i] = (th * (S->logp[i] + al * logL[i]) - logL[i] + log(row[i])) / (1.0 + th);
        normalise_w(S, lw, logL);
        res = 0.0;
        worst = 0;
        for (size_t i = 0; i < n; i++) {
            const double d = fabs(lw[i] - logw[i]);
            if (d > res || isnan(d)) {
                res = d;
                worst = i;
            }
        }
        if (S->mobile) {
            for (size_t i = 0; i < n; i++) {
                const double logW = logw[i] + S->logq[i] + S->beta * logL[i] + log(Phin[i]) / th;
                lL[i] = logL[i] + (logW - S->inv_kappa * logL[i]) / denom;
            }
            normalise_L(S, lL, gs);
            for (size_t i = 0; i < n; i++) {
                const double d = fabs(lL[i] - logL[i]);
                if (d > res || isnan(d)) {
                    res = d;
                    worst = i;
                }
            }
        }
        memcpy(Phi, Phin, n * sizeof *Phi);
        if (!isfinite(res)) {
            st = cs_error_set(CS_ECONVERGE,
                              "equilibrium solver diverged at iteration %d (residual %g at city %zu); "
                              "check the cost matrix and parameters",
                              it, res, worst);
            break;
        }
        if (getenv("CS_EQ_TRACE") && (it < 50 || it % 1000 == 0)) fprintf(stderr, "it %d res %g lam %g worst %zu\n", it, res, lam, worst);
        if (res < S->tol) break;
        (void)prev;
        for (size_t i = 0; i < n; i++) logw[i] += lam * (lw[i] - logw[i]);
        if (S->mobile) {
            /* Move people, and move the wage with them by its own partial
             * elasticity (alpha theta - 1)/(1 + theta): the population step
             * assumed it, and leaving it to the next market-clearing update
             * makes the iteration overshoot when congestion is weak. */
            const double ew = (al * th - 1.0) / (1.0 + th);
            for (size_t i = 0; i < n; i++) lL[i] = logL[i] + lam * (lL[i] - logL[i]);
            normalise_L(S, lL, gs);
            for (size_t i = 0; i < n; i++) {
                logw[i] += ew * (lL[i] - logL[i]);
                logL[i] = lL[i];
            }
        }
        normalise_w(S, logw, logL);
    }
    if (st == CS_OK && it > S->max_iter)
        st = cs_error_set(CS_ECONVERGE,
                          "equilibrium solver did not converge in %d iterations: last residual %.3g "
                          "(tolerance %.3g), worst city index %zu",
                          S->max_iter, res, S->tol, worst);
    if (st == CS_OK) {
        /* Phi consistent with the final iterate (one more column pass). */
        for (size_t i = 0; i < n; i++) {
            c[i] = exp(-th * (logw[i] - S->logp[i] - al * logL[i]));
            y[i] = 0.0;
        }
        eq_pass(S->K, n, c, y, row, Phi, acc);
    }
    for (size_t i = 0; i < n; i++) {
        w[i] = exp(logw[i]);
        L[i] = exp(logL[i]);
    }
    *iters = it > S->max_iter ? S->max_iter : it;
    *resid = res;
    cs_free(buf);
    return st;
}

cs_status eq_calibrate_c(const double *K, size_t n, const double *Y, double tol, int max_iter, double *c,
                         double *Phi, int *iters, double *resid)
{
    double *buf = cs_mallocarray(4 * n + eq_acc_size(n), sizeof *buf);
    if (!buf) return CS_ENOMEM;
    double *lc = buf, *y = buf + n, *row = buf + 2 * n, *Phin = buf + 3 * n, *acc = buf + 4 * n;
    cs_status st = CS_OK;
    for (size_t i = 0; i < n; i++) {
        lc[i] = 0.0;
        c[i] = 1.0;
        y[i] = 0.0;
    }
    eq_pass(K, n, c, y, row, Phi, acc);
    double res = INFINITY;
    size_t worst = 0;
    int it;
    for (it = 1; it <= max_iter; it++) {
        for (size_t i = 0; i < n; i++) {
            c[i] = exp(lc[i]);
            y[i] = Y[i] / Phi[i];
        }
        eq_pass(K, n, c, y, row, Phin, acc);
        /* target log c* = log Y - log row; c is defined up to scale, so the
         * residual is the spread of the log change. */
        double dmax = -INFINITY, dmin = INFINITY, mean = 0.0;
        for (size_t i = 0; i < n; i++) {
            const double t = log(Y[i]) - log(row[i]);
            const double d = t - lc[i];
            if (d > dmax) {
                dmax = d;
                worst = i;
            }
            if (d < dmin) dmin = d;
            /* Half step: averages the two interleaved Sinkhorn chains that
             * the lagged (one-pass) iteration would otherwise run. */
            lc[i] += 0.5 * d;
            mean += lc[i];
        }
        mean /= (double)n;
        for (size_t i = 0; i < n; i++) lc[i] -= mean;
        memcpy(Phi, Phin, n * sizeof *Phi);
        res = dmax - dmin;
        if (!isfinite(res)) {
            st = cs_error_set(CS_ECONVERGE, "calibration diverged at iteration %d (city index %zu)", it, worst);
            break;
        }
        if (res < tol) break;
    }
    if (st == CS_OK && it > max_iter)
        st = cs_error_set(CS_ECONVERGE,
                          "calibration of productivities did not converge in %d iterations: last residual "
                          "%.3g (tolerance %.3g), worst city index %zu",
                          max_iter, res, tol, worst);
    for (size_t i = 0; i < n; i++) {
        c[i] = exp(lc[i]);
        y[i] = 0.0;
    }
    if (st == CS_OK) eq_pass(K, n, c, y, row, Phi, acc);
    *iters = it > max_iter ? max_iter : it;
    *resid = res;
    cs_free(buf);
    return st;
}

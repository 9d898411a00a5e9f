/* ppml.c: Poisson pseudo-maximum likelihood gravity estimation (Santos Silva & Tenreyro 2006) by
 * iteratively reweighted least squares (Newton steps on the Poisson score), HC0 sandwich covariance. */
#include <math.h>
#include <string.h>
#include "citysys/gravity.h"
#include "citysys/alloc.h"

void cs_ppml_opts_default(cs_ppml_opts *o)
{
    memset(o, 0, sizeof *o);
    o->decay = CS_DECAY_POWER;
    o->masses = CS_PPML_FIXED_EFFECTS;
    o->tol = 1e-10;
    o->max_iter = 100;
    o->max_params = 2000;
}

void cs_ppml_result_free(cs_ppml_result *r)
{
    if (!r) return;
    if (r->names)
        for (size_t k = 0; k < r->nparams; k++) cs_free(r->names[k]);
    cs_free(r->names);
    cs_free(r->coef);
    cs_free(r->se_hc0);
    cs_matrix_free(r->fitted);
    cs_free(r);
}

/* One observation: up to 4 non-zero design entries. */
#define PPML_NNZ 4
typedef struct obs {
    uint32_t i, j;
    int nnz;
    uint32_t col[PPML_NNZ];
    double x[PPML_NNZ];
    double y;
} obs;

/* Cholesky of the Jacobi-scaled matrix: H = S^{1/2} (L L') S^{1/2}. Works in place on a (p×p, lower). */
static int chol_scaled(double *a, size_t p, double *s)
{
    for (size_t k = 0; k < p; k++) {
        if (!(a[k * p + k] > 0)) return -1;
        s[k] = 1.0 / sqrt(a[k * p + k]);
    }
    for (size_t i = 0; i < p; i++)
        for (size_t j = 0; j <= i; j++) a[i * p + j] *= s[i] * s[j];
    for (size_t j = 0; j < p; j++) {
        double d = a[j * p + j];
        for (size_t k = 0; k < j; k++) d -= a[j * p + k] * a[j * p + k];
        if (!(d > 1e-14)) return -1;
        d = sqrt(d);
        a[j * p + j] = d;
        for (size_t i = j + 1; i < p; i++) {
            double v = a[i * p + j];
            const double *ai = a + i * p, *aj = a + j * p;
            for (size_t k = 0; k < j; k++) v -= ai[k] * aj[k];
            a[i * p + j] = v / d;
        }
    }
    return 0;
}

/* Solve H x = b with the scaled factor (b overwritten by x). */
static void chol_solve(const double *L, size_t p, const double *s, double *b)
{
    for (size_t i = 0; i < p; i++) b[i] *= s[i];
    for (size_t i = 0; i < p; i++) {
        double v = b[i];
        for (size_t k = 0; k < i; k++) v -= L[i * p + k] * b[k];
        b[i] = v / L[i * p + i];
    }
    for (size_t i = p; i-- > 0;) {
        double v = b[i];
        for (size_t k = i + 1; k < p; k++) v -= L[k * p + i] * b[k];
        b[i] = v / L[i * p + i];
    }
    for (size_t i = 0; i < p; i++) b[i] *= s[i];
}

static void accumulate(const obs *ob, size_t nobs, const double *wt, const double *rhs_w, double *H, double *g,
                       size_t p)
{
    memset(H, 0, p * p * sizeof *H);
    memset(g, 0, p * sizeof *g);
    for (size_t t = 0; t < nobs; t++) {
        const obs *o = ob + t;
        for (int a = 0; a < o->nnz; a++) {
            g[o->col[a]] += o->x[a] * rhs_w[t];
            for (int b = 0; b < o->nnz; b++) {
                uint32_t r = o->col[a], c = o->col[b];
                if (c <= r) H[r * p + c] += o->x[a] * o->x[b] * wt[t];
            }
        }
    }
}

static double deviance_of(const obs *ob, size_t nobs, const double *mu)
{
    double d = 0;
    for (size_t t = 0; t < nobs; t++) {
        double y = ob[t].y;
        d += (y > 0 ? y * log(y / mu[t]) : 0.0) - (y - mu[t]);
    }
    return 2 * d;
}

cs_status cs_ppml_fit(const cs_matrix *flows, const cs_matrix *cost, const cs_ppml_opts *opts, cs_ppml_result **out)
{
    cs_ppml_opts def;
    if (!opts) {
        cs_ppml_opts_default(&def);
        opts = &def;
    }
    if (!flows || !cost || !out) return cs_error_set(CS_EINVAL, "ppml: NULL argument");
    *out = NULL;
    const size_t n = flows->rows, m = flows->cols;
    if (cost->rows != n || cost->cols != m)
        return cs_error_set(CS_EINVAL, "ppml: flow matrix %zu x %zu and cost matrix %zu x %zu differ", n, m, cost->rows,
                            cost->cols);
    const int fe = opts->masses == CS_PPML_FIXED_EFFECTS;
    if (!fe && (!opts->O || !opts->D)) return cs_error_set(CS_EINVAL, "ppml: log-mass model needs O and D");
    if (n == 0 || m == 0) return cs_error_set(CS_EINVAL, "ppml: empty flow matrix");
    size_t p = fe ? 1 + (n - 1) + (m - 1) + 1 : 4;
    if (p > opts->max_params)
        return cs_error_set(CS_EUNSUPPORTED,
                            "ppml: %zu parameters exceed the dense-solve limit %zu (fixed effects for %zu origins and "
                            "%zu destinations)",
                            p, opts->max_params, n, m);
    const size_t kc = p - 1; /* index of the cost coefficient */

    cs_status st = CS_OK;
    cs_ppml_result *r = NULL;
    obs *ob = cs_mallocarray(n * m, sizeof *ob);
    double *rowpos = cs_calloc(n, sizeof *rowpos), *colpos = cs_calloc(m, sizeof *colpos);
    double *mu = NULL, *eta = NULL, *wt = NULL, *rw = NULL, *H = NULL, *g = NULL, *sc = NULL, *beta = NULL,
           *step = NULL, *Hinv = NULL, *M = NULL, *tmp = NULL;
    if (!ob || !rowpos || !colpos) goto nomem;
    r = cs_calloc(1, sizeof *r);
    if (!r) goto nomem;

    size_t nobs = 0, nzero = 0, nexcl = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) {
            double y = flows->v[i * m + j], c = cost->v[i * m + j];
            /* the diagonal is "same id" (rows and columns may be ordered differently), else same index */
            int diag = (flows->row_ids && flows->col_ids) ? !strcmp(flows->row_ids[i], flows->col_ids[j]) : i == j;
            if ((!opts->include_diagonal && diag) || isnan(y) || !(c < INFINITY)) {
                nexcl++;
                continue;
            }
            if (y < 0 || !isfinite(y)) {
                st = cs_error_set(CS_EINVAL, "ppml: flow from %s to %s is %g (must be finite and >= 0)",
                                  flows->row_ids[i], flows->col_ids[j], y);
                goto done;
            }
            double xc;
            if (opts->decay == CS_DECAY_POWER) {
                if (!(c > 0)) {
                    st = cs_error_set(CS_EINVAL, "ppml: cost from %s to %s is %g; power decay needs ln c (c > 0)",
                                      flows->row_ids[i], flows->col_ids[j], c);
                    goto done;
                }
                xc = log(c);
            } else {
                xc = c;
            }
            obs *o = ob + nobs;
            o->i = (uint32_t)i;
            o->j = (uint32_t)j;
            o->y = y;
            o->nnz = 0;
            o->col[o->nnz] = 0, o->x[o->nnz++] = 1.0;
            if (fe) {
                if (i > 0) o->col[o->nnz] = (uint32_t)i, o->x[o->nnz++] = 1.0;
                if (j > 0) o->col[o->nnz] = (uint32_t)(n - 1 + j), o->x[o->nnz++] = 1.0;
            } else {
                double Oi = opts->O[i], Dj = opts->D[j];
                if (!(Oi > 0) || !(Dj > 0) || !isfinite(Oi) || !isfinite(Dj)) {
                    st = cs_error_set(CS_EINVAL, "ppml: masses must be finite and > 0 (O[%s] = %g, D[%s] = %g)",
                                      flows->row_ids[i], Oi, flows->col_ids[j], Dj);
                    goto done;
                }
                o->col[o->nnz] = 1, o->x[o->nnz++] = log(Oi);
                o->col[o->nnz] = 2, o->x[o->nnz++] = log(Dj);
            }
            o->col[o->nnz] = (uint32_t)kc, o->x[o->nnz++] = xc;
            if (y > 0) rowpos[i] += y, colpos[j] += y;
            else nzero++;
            nobs++;
        }
    if (nobs <= p) {
        st = cs_error_set(CS_EINVAL, "ppml: %zu usable observations for %zu parameters", nobs, p);
        goto done;
    }
    if (fe) {
        for (size_t i = 0; i < n; i++)
            if (!(rowpos[i] > 0)) {
                st = cs_error_set(CS_EINFEASIBLE,
                                  "ppml: origin %s has no positive observed flow; its fixed effect is not finite "
                                  "(drop it from the input)",
                                  flows->row_ids[i]);
                goto done;
            }
        for (size_t j = 0; j < m; j++)
            if (!(colpos[j] > 0)) {
                st = cs_error_set(CS_EINFEASIBLE,
                                  "ppml: destination %s has no positive observed flow; its fixed effect is not "
                                  "finite (drop it from the input)",
                                  flows->col_ids[j]);
                goto done;
            }
    }

    mu = cs_mallocarray(nobs, sizeof *mu);
    eta = cs_mallocarray(nobs, sizeof *eta);
    wt = cs_mallocarray(nobs, sizeof *wt);
    rw = cs_mallocarray(nobs, sizeof *rw);
    H = cs_mallocarray(p * p, sizeof *H);
    g = cs_mallocarray(p, sizeof *g);
    sc = cs_mallocarray(p, sizeof *sc);
    beta = cs_calloc(p, sizeof *beta);
    step = cs_mallocarray(p, sizeof *step);
    if (!mu || !eta || !wt || !rw || !H || !g || !sc || !beta || !step) goto nomem;

    double ybar = 0;
    for (size_t t = 0; t < nobs; t++) ybar += ob[t].y;
    ybar /= (double)nobs;
    if (!(ybar > 0)) {
        st = cs_error_set(CS_EINVAL, "ppml: all observed flows are zero");
        goto done;
    }
    /* start as a GLM does: mu = (y + mean y) / 2, first step in working-response form */
    for (size_t t = 0; t < nobs; t++) {
        mu[t] = (ob[t].y + ybar) / 2;
        eta[t] = log(mu[t]);
        wt[t] = mu[t];
        rw[t] = mu[t] * (eta[t] + (ob[t].y - mu[t]) / mu[t]);
    }
    accumulate(ob, nobs, wt, rw, H, g, p);
    if (chol_scaled(H, p, sc)) {
        st = cs_error_set(CS_EINFEASIBLE, "ppml: design matrix is singular (collinear regressors or cost constant)");
        goto done;
    }
    memcpy(beta, g, p * sizeof *g);
    chol_solve(H, p, sc, beta);

    int it, converged = 0;
    double dev = INFINITY;
    for (it = 1; it <= opts->max_iter; it++) {
        for (size_t t = 0; t < nobs; t++) {
            double e = 0;
            for (int a = 0; a < ob[t].nnz; a++) e += ob[t].x[a] * beta[ob[t].col[a]];
            eta[t] = e;
            mu[t] = exp(e);
        }
        double dnew = deviance_of(ob, nobs, mu);
        if (!isfinite(dnew)) {
            st = cs_error_set(CS_ECONVERGE, "ppml: the fit diverged (overflow) at iteration %d", it);
            goto done;
        }
        dev = dnew;
        /* Newton step: (X'WX) Δ = X'(y − μ) */
        for (size_t t = 0; t < nobs; t++) {
            wt[t] = mu[t];
            rw[t] = ob[t].y - mu[t];
        }
        accumulate(ob, nobs, wt, rw, H, g, p);
        if (chol_scaled(H, p, sc)) {
            st = cs_error_set(CS_EINFEASIBLE, "ppml: weighted design matrix became singular at iteration %d", it);
            goto done;
        }
        memcpy(step, g, p * sizeof *g);
        chol_solve(H, p, sc, step);
        double dmax = 0;
        for (size_t k = 0; k < p; k++) {
            double d = fabs(step[k]) / (1.0 + fabs(beta[k]));
            if (!(d <= dmax)) dmax = d;
        }
        /* step halving when a full step would increase the deviance (rare; guards against overshoot) */
        double lam = 1.0;
        for (int h = 0; h < 30; h++) {
            double dtry = 0;
            int ok = 1;
            for (size_t t = 0; t < nobs && ok; t++) {
                double e = eta[t];
                for (int a = 0; a < ob[t].nnz; a++) e += lam * ob[t].x[a] * step[ob[t].col[a]];
                double mt = exp(e);
                if (!isfinite(mt)) ok = 0;
                double y = ob[t].y;
                dtry += (y > 0 ? y * log(y / mt) : 0.0) - (y - mt);
            }
            if (ok && 2 * dtry <= dev * (1 + 1e-12) + 1e-300) break;
            lam *= 0.5;
        }
        for (size_t k = 0; k < p; k++) beta[k] += lam * step[k];
        if (dmax <= opts->tol) {
            converged = 1;
            break;
        }
    }
    if (it > opts->max_iter) it = opts->max_iter;
    /* final μ at the final β */
    for (size_t t = 0; t < nobs; t++) {
        double e = 0;
        for (int a = 0; a < ob[t].nnz; a++) e += ob[t].x[a] * beta[ob[t].col[a]];
        eta[t] = e;
        mu[t] = exp(e);
    }
    dev = deviance_of(ob, nobs, mu);

    /* HC0 sandwich: V = H^-1 (Σ u_t² x_t x_t') H^-1 with H = X' diag(μ) X, u = y − μ */
    Hinv = cs_mallocarray(p * p, sizeof *Hinv);
    M = cs_mallocarray(p * p, sizeof *M);
    tmp = cs_mallocarray(p * p, sizeof *tmp);
    if (!Hinv || !M || !tmp) goto nomem;
    for (size_t t = 0; t < nobs; t++) {
        wt[t] = mu[t];
        rw[t] = 0;
    }
    accumulate(ob, nobs, wt, rw, H, g, p);
    if (chol_scaled(H, p, sc)) {
        st = cs_error_set(CS_EINFEASIBLE, "ppml: information matrix singular at the solution");
        goto done;
    }
    for (size_t c = 0; c < p; c++) {
        memset(g, 0, p * sizeof *g);
        g[c] = 1;
        chol_solve(H, p, sc, g);
        for (size_t k = 0; k < p; k++) Hinv[k * p + c] = g[k];
    }
    for (size_t t = 0; t < nobs; t++) {
        double u = ob[t].y - mu[t];
        wt[t] = u * u;
    }
    accumulate(ob, nobs, wt, rw, M, g, p);
    for (size_t a = 0; a < p; a++) /* symmetrise the lower triangle */
        for (size_t b = a + 1; b < p; b++) M[a * p + b] = M[b * p + a];
    /* tmp = Hinv * M ; V_kk = Σ_l tmp_kl Hinv_lk */
    for (size_t a = 0; a < p; a++)
        for (size_t b = 0; b < p; b++) {
            double s = 0;
            for (size_t l = 0; l < p; l++) s += Hinv[a * p + l] * M[l * p + b];
            tmp[a * p + b] = s;
        }

    r->nobs = nobs;
    r->nzero = nzero;
    r->nexcluded = nexcl;
    r->nparams = p;
    r->names = cs_calloc(p, sizeof *r->names);
    r->coef = cs_mallocarray(p, sizeof *r->coef);
    r->se_hc0 = cs_mallocarray(p, sizeof *r->se_hc0);
    if (!r->names || !r->coef || !r->se_hc0) goto nomem;
    for (size_t k = 0; k < p; k++) {
        double v = 0;
        for (size_t l = 0; l < p; l++) v += tmp[k * p + l] * Hinv[l * p + k];
        r->coef[k] = beta[k];
        r->se_hc0[k] = sqrt(v);
    }
    if (!(r->names[0] = cs_strdup("const"))) goto nomem;
    if (fe) {
        for (size_t i = 1; i < n; i++)
            if (!(r->names[i] = cs_asprintf("fe_o_%s", flows->row_ids[i]))) goto nomem;
        for (size_t j = 1; j < m; j++)
            if (!(r->names[n - 1 + j] = cs_asprintf("fe_d_%s", flows->col_ids[j]))) goto nomem;
    } else {
        if (!(r->names[1] = cs_strdup("ln_O")) || !(r->names[2] = cs_strdup("ln_D"))) goto nomem;
    }
    if (!(r->names[kc] = cs_strdup(opts->decay == CS_DECAY_POWER ? "ln_cost" : "cost"))) goto nomem;
    r->cost_coef = beta[kc];
    r->cost_se_hc0 = r->se_hc0[kc];
    r->deviance = dev;
    {
        double nd = 0, ll = 0, my = 0, mm = 0;
        for (size_t t = 0; t < nobs; t++) {
            double y = ob[t].y;
            nd += y > 0 ? y * log(y / ybar) : 0.0;
            ll += y * log(mu[t]) - mu[t] - lgamma(y + 1);
            my += y;
            mm += mu[t];
        }
        my /= (double)nobs;
        mm /= (double)nobs;
        double sxy = 0, sxx = 0, syy = 0;
        for (size_t t = 0; t < nobs; t++) {
            double a = ob[t].y - my, b = mu[t] - mm;
            sxy += a * b, sxx += a * a, syy += b * b;
        }
        r->null_deviance = 2 * nd;
        r->pseudo_r2_deviance = 1 - dev / r->null_deviance;
        r->r2_corr = (sxx > 0 && syy > 0) ? sxy * sxy / (sxx * syy) : NAN;
        r->loglik = ll;
    }
    r->iterations = it;
    r->converged = converged;
    if ((st = cs_matrix_new(n, m, CS_MATRIX_FLOW, &r->fitted))) goto done;
    if ((st = cs_matrix_set_ids(r->fitted, (const char *const *)flows->row_ids, (const char *const *)flows->col_ids)))
        goto done;
    for (size_t k = 0; k < n * m; k++) r->fitted->v[k] = NAN;
    for (size_t t = 0; t < nobs; t++) r->fitted->v[(size_t)ob[t].i * m + ob[t].j] = mu[t];
    if (!converged)
        st = cs_error_set(CS_ECONVERGE, "ppml: not converged in %d iterations (tolerance %g)", opts->max_iter,
                          opts->tol);
    *out = r;
    r = NULL;
    goto done;
nomem:
    st = cs_error_set(CS_ENOMEM, "ppml: out of memory");
done:
    cs_ppml_result_free(r);
    cs_free(ob);
    cs_free(rowpos);
    cs_free(colpos);
    cs_free(mu);
    cs_free(eta);
    cs_free(wt);
    cs_free(rw);
    cs_free(H);
    cs_free(g);
    cs_free(sc);
    cs_free(beta);
    cs_free(step);
    cs_free(Hinv);
    cs_free(M);
    cs_free(tmp);
    return st;
}

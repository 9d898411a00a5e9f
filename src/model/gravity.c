/* gravity.c: gravity-model prediction (Wilson 1971 family, Furness balancing) and Huff probabilities. */
#include <math.h>
#include <string.h>
#include "citysys/gravity.h"
#include "citysys/alloc.h"

#ifdef _OPENMP
#include <omp.h>
#endif

double cs_decay_eval(cs_decay decay, double beta, double c_min, double c)
{
    if (!(c < INFINITY)) return 0.0; /* +inf or NaN: unreachable */
    if (decay == CS_DECAY_EXPONENTIAL) return exp(-beta * c);
    if (c < c_min) c = c_min;
    if (beta == 1.0) return 1.0 / c;
    if (beta == 2.0) return 1.0 / (c * c);
    return pow(c, -beta);
}

void cs_gravity_opts_default(cs_gravity_opts *o)
{
    memset(o, 0, sizeof *o);
    o->kind = CS_GRAVITY_DOUBLY;
    o->decay = CS_DECAY_POWER;
    o->beta = 1.0;
    o->c_min = 1.0;
    o->k = 1.0;
    o->tol = 1e-6;
    o->max_iter = 1000;
}

/* Fill F (n×m) with f(c_ij), 0 on the diagonal unless allowed. Returns -1 if a negative cost is found. */
static long fill_deterrence(const cs_matrix *cost, const cs_gravity_opts *o, double *F)
{
    const size_t n = cost->rows, m = cost->cols;
    long bad = -1;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const double *c = cost->v + i * m;
        double *f = F + i * m;
        for (size_t j = 0; j < m; j++) {
            if (c[j] < 0) {
#pragma omp critical(cs_grav_bad)
                if (bad < 0 || (long)(i * m + j) < bad) bad = (long)(i * m + j);
                f[j] = 0;
                continue;
            }
            f[j] = cs_decay_eval(o->decay, o->beta, o->c_min, c[j]);
            if (f[j] == INFINITY && (o->include_diagonal || !(i == j))) {
                /* zero cost with power decay and c_min = 0 */
#pragma omp critical(cs_grav_bad)
                if (bad < 0 || (long)(i * m + j) < bad) bad = (long)(i * m + j);
                f[j] = 0;
            }
        }
        if (!o->include_diagonal) {
            /* the diagonal is the column with the same id (usually column i) */
            long dj = -1;
            if (!cost->row_ids || !cost->col_ids) dj = i < m ? (long)i : -1;
            else if (i < m && !strcmp(cost->row_ids[i], cost->col_ids[i])) dj = (long)i;
            else
                for (size_t j = 0; j < m; j++)
                    if (!strcmp(cost->row_ids[i], cost->col_ids[j])) {
                        dj = (long)j;
                        break;
                    }
            if (dj >= 0) f[dj] = 0;
        }
    }
    return bad;
}

/* r_i = Σ_j F_ij w_j (row pass; each row by one thread in order j = 0..m-1). */
static void row_pass(const double *F, size_t n, size_t m, const double *w, double *r)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const double *f = F + i * m;
        double s = 0;
        for (size_t j = 0; j < m; j++) s += f[j] * w[j];
        r[i] = s;
    }
}

/* s_j = Σ_i F_ij a_i (column pass; columns split in blocks, each column summed in order i = 0..n-1
 * by exactly one thread, so the result does not depend on the thread count). */
static void col_pass(const double *F, size_t n, size_t m, const double *a, double *s)
{
#pragma omp parallel
    {
        size_t tid = 0, nth = 1;
#ifdef _OPENMP
        tid = (size_t)omp_get_thread_num();
        nth = (size_t)omp_get_num_threads();
#endif
        size_t j0 = m * tid / nth, j1 = m * (tid + 1) / nth;
        for (size_t j = j0; j < j1; j++) s[j] = 0;
        for (size_t i = 0; i < n; i++) {
            const double ai = a[i];
            if (ai == 0) continue;
            const double *f = F + i * m;
            for (size_t j = j0; j < j1; j++) s[j] += f[j] * ai;
        }
    }
}

cs_status cs_gravity_predict(const cs_matrix *cost, const double *O, const double *D, const cs_gravity_opts *opts,
                             cs_matrix **flows, double *A_out, double *B_out, cs_gravity_info *info)
{
    cs_gravity_opts def;
    if (!opts) {
        cs_gravity_opts_default(&def);
        opts = &def;
    }
    if (info) {
        info->iterations = 0;
        info->max_rel_err_o = info->max_rel_err_d = NAN;
        info->converged = 0;
    }
    if (!cost || !O || !D || !flows) return cs_error_set(CS_EINVAL, "gravity: NULL argument");
    *flows = NULL;
    const size_t n = cost->rows, m = cost->cols;
    if (!(opts->beta >= 0) || !isfinite(opts->beta) || !(opts->c_min >= 0) || !(opts->k >= 0))
        return cs_error_set(CS_EINVAL, "gravity: beta, c_min and k must be finite and >= 0");
    if (opts->kind == CS_GRAVITY_DOUBLY && (!(opts->tol > 0) || opts->max_iter < 1))
        return cs_error_set(CS_EINVAL, "gravity: tol must be > 0 and max_iter >= 1");
    if (opts->decay == CS_DECAY_POWER && opts->c_min == 0 && opts->include_diagonal)
        return cs_error_set(CS_EINVAL, "gravity: power decay with diagonal flows needs c_min > 0");
    double sumO = 0, sumD = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(O[i] >= 0) || !isfinite(O[i]))
            return cs_error_set(CS_EINVAL, "gravity: origin mass %zu (%s) is %g; must be finite and >= 0", i,
                                cost->row_ids[i], O[i]);
        sumO += O[i];
    }
    for (size_t j = 0; j < m; j++) {
        if (!(D[j] >= 0) || !isfinite(D[j]))
            return cs_error_set(CS_EINVAL, "gravity: destination mass %zu (%s) is %g; must be finite and >= 0", j,
                                cost->col_ids[j], D[j]);
        sumD += D[j];
    }
    if (opts->kind == CS_GRAVITY_DOUBLY && fabs(sumO - sumD) > 1e-9 * fmax(sumO, sumD))
        return cs_error_set(CS_EINVAL,
                            "gravity: doubly constrained model needs equal totals, got sum O = %.17g, sum D = %.17g",
                            sumO, sumD);

    cs_status st = CS_OK;
    cs_matrix *T = NULL;
    double *A = NULL, *B = NULL, *w = NULL, *r = NULL;
    if ((st = cs_matrix_new(n, m, CS_MATRIX_FLOW, &T))) return st;
    if ((st = cs_matrix_set_ids(T, (const char *const *)cost->row_ids, (const char *const *)cost->col_ids))) goto done;
    A = cs_mallocarray(n ? n : 1, sizeof *A);
    B = cs_mallocarray(m ? m : 1, sizeof *B);
    w = cs_mallocarray(m ? m : 1, sizeof *w);
    r = cs_mallocarray(n ? n : 1, sizeof *r);
    if (!A || !B || !w || !r) {
        st = CS_ENOMEM;
        goto done;
    }
    double *F = T->v;
    long bad = fill_deterrence(cost, opts, F);
    if (bad >= 0) {
        st = cs_error_set(CS_EINVAL, "gravity: cost %g from %s to %s is negative, or zero with power decay and "
                                     "c_min = 0", cost->v[bad],
                          cost->row_ids[(size_t)bad / m], cost->col_ids[(size_t)bad % m]);
        goto done;
    }
    for (size_t i = 0; i < n; i++) A[i] = 1.0;
    for (size_t j = 0; j < m; j++) B[j] = 1.0;

    if (opts->kind == CS_GRAVITY_PRODUCTION || opts->kind == CS_GRAVITY_DOUBLY) {
        /* feasibility: every origin with O_i > 0 reaches some destination with D_j > 0 */
        row_pass(F, n, m, D, r);
        for (size_t i = 0; i < n; i++)
            if (O[i] > 0 && !(r[i] > 0)) {
                st = cs_error_set(CS_EINFEASIBLE,
                                  "gravity: origin %s has mass %g but no reachable destination with positive mass",
                                  cost->row_ids[i], O[i]);
                goto done;
            }
    }
    if (opts->kind == CS_GRAVITY_ATTRACTION || opts->kind == CS_GRAVITY_DOUBLY) {
        col_pass(F, n, m, O, w);
        for (size_t j = 0; j < m; j++)
            if (D[j] > 0 && !(w[j] > 0)) {
                st = cs_error_set(CS_EINFEASIBLE,
                                  "gravity: destination %s has mass %g but no origin with positive mass reaches it",
                                  cost->col_ids[j], D[j]);
                goto done;
            }
    }

    int iters = 0, converged = 1;
    switch (opts->kind) {
    case CS_GRAVITY_UNCONSTRAINED:
        for (size_t i = 0; i < n; i++) A[i] = opts->k;
        break;
    case CS_GRAVITY_PRODUCTION:
        for (size_t i = 0; i < n; i++) A[i] = r[i] > 0 ? 1.0 / r[i] : 0.0;
        break;
    case CS_GRAVITY_ATTRACTION:
        for (size_t j = 0; j < m; j++) B[j] = w[j] > 0 ? 1.0 / w[j] : 0.0;
        break;
    case CS_GRAVITY_DOUBLY: {
        /* Furness: A_i = 1 / Σ_j B_j D_j f_ij ; B_j = 1 / Σ_i A_i O_i f_ij. After each B update the
         * destination margins hold exactly; the origin error is measured at the next row pass. */
        converged = 0;
        /* Fused pass: row i is read once per iteration — r_i = Σ_j f_ij B_j D_j, then A_i = 1/r_i, then
         * (row still in cache) its contribution A_i O_i f_ij to the column sums. Rows are split in a fixed
         * number of blocks whatever the thread count; block partial column sums are added in block order,
         * so results are bitwise identical for any number of threads. */
        enum { NBLK = 32 };
        double *part = cs_mallocarray((size_t)NBLK * (m ? m : 1), sizeof *part);
        double *errb = cs_mallocarray(NBLK, sizeof *errb);
        if (!part || !errb) {
            cs_free(part);
            cs_free(errb);
            st = CS_ENOMEM;
            goto done;
        }
        double err = INFINITY;
        for (iters = 1; iters <= opts->max_iter; iters++) {
            for (size_t j = 0; j < m; j++) w[j] = B[j] * D[j];
#pragma omp parallel for schedule(dynamic, 1)
            for (int b = 0; b < NBLK; b++) {
                size_t i0 = n * (size_t)b / NBLK, i1 = n * (size_t)(b + 1) / NBLK;
                double *ps = part + (size_t)b * m, e = 0;
                for (size_t j = 0; j < m; j++) ps[j] = 0;
                for (size_t i = i0; i < i1; i++) {
                    const double *f = F + i * m;
                    double ri = 0;
                    for (size_t j = 0; j < m; j++) ri += f[j] * w[j];
                    if (O[i] > 0) {
                        double ei = fabs(A[i] * ri - 1.0);
                        if (!(ei <= e)) e = ei;
                    }
                    A[i] = (O[i] > 0 && ri > 0) ? 1.0 / ri : 0.0;
                    const double ai = A[i] * O[i];
                    if (ai != 0)
                        for (size_t j = 0; j < m; j++) ps[j] += f[j] * ai;
                }
                errb[b] = e;
            }
            err = 0;
            for (int b = 0; b < NBLK; b++)
                if (!(errb[b] <= err)) err = errb[b];
            if (iters > 1 && err <= opts->tol) {
                /* the origin margins held before this pass's A update: the previous A and B are the answer,
                 * but A was just refreshed; the refreshed A is at least as good, so recompute B from it. */
                converged = 1;
            }
            for (size_t j = 0; j < m; j++) {
                double sj = 0;
                for (int b = 0; b < NBLK; b++) sj += part[(size_t)b * m + j];
                B[j] = (D[j] > 0 && sj > 0) ? 1.0 / sj : 0.0;
            }
            if (converged) break;
            if (opts->progress.fn &&
                opts->progress.fn(opts->progress.user, "balancing", (double)iters, (double)opts->max_iter)) {
                cs_free(part);
                cs_free(errb);
                st = cs_error_set(CS_ECANCELED, "gravity: cancelled");
                goto done;
            }
        }
        cs_free(part);
        cs_free(errb);
        if (!converged) {
            if (iters > opts->max_iter) iters = opts->max_iter;
            if (info) {
                info->iterations = iters;
                info->max_rel_err_o = err;
                info->max_rel_err_d = 0;
            }
            st = cs_error_set(CS_ECONVERGE,
                              "gravity: doubly constrained balancing did not reach relative tolerance %g in %d "
                              "iterations (max origin margin error %g); check for structural zeros or raise "
                              "max_iter",
                              opts->tol, opts->max_iter, err);
            goto done;
        }
        break;
    }
    }

    /* T_ij = A_i O_i B_j D_j f_ij, in place */
    for (size_t j = 0; j < m; j++) w[j] = B[j] * D[j];
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const double ai = A[i] * O[i];
        double *t = F + i * m;
        for (size_t j = 0; j < m; j++) t[j] = t[j] * ai * w[j];
    }
    if (info) {
        info->iterations = iters;
        info->converged = converged;
        if (opts->kind != CS_GRAVITY_UNCONSTRAINED) {
            double eo = 0, ed = 0;
            for (size_t j = 0; j < m; j++) w[j] = 1.0;
            row_pass(F, n, m, w, r);
            for (size_t i = 0; i < n; i++)
                if (O[i] > 0) eo = fmax(eo, fabs(r[i] - O[i]) / O[i]);
            double *ones = cs_mallocarray(n ? n : 1, sizeof *ones);
            if (ones) {
                for (size_t i = 0; i < n; i++) ones[i] = 1.0;
                col_pass(F, n, m, ones, w);
                for (size_t j = 0; j < m; j++)
                    if (D[j] > 0) ed = fmax(ed, fabs(w[j] - D[j]) / D[j]);
                cs_free(ones);
            } else {
                ed = NAN;
            }
            info->max_rel_err_o = (opts->kind == CS_GRAVITY_ATTRACTION) ? NAN : eo;
            info->max_rel_err_d = (opts->kind == CS_GRAVITY_PRODUCTION) ? NAN : ed;
        }
    }
    if (A_out) memcpy(A_out, A, n * sizeof *A);
    if (B_out) memcpy(B_out, B, m * sizeof *B);
    *flows = T;
    T = NULL;
done:
    cs_matrix_free(T);
    cs_free(A);
    cs_free(B);
    cs_free(w);
    cs_free(r);
    return st;
}

cs_status cs_huff(const cs_matrix *cost, const double *W, double alpha, cs_decay decay, double beta, double c_min,
                  cs_matrix **prob, size_t *n_unserved)
{
    if (!cost || !W || !prob) return cs_error_set(CS_EINVAL, "huff: NULL argument");
    *prob = NULL;
    if (!(beta >= 0) || !isfinite(beta) || !(alpha >= 0) || !isfinite(alpha) || !(c_min >= 0))
        return cs_error_set(CS_EINVAL, "huff: alpha, beta and c_min must be finite and >= 0");
    const size_t n = cost->rows, m = cost->cols;
    for (size_t j = 0; j < m; j++)
        if (!(W[j] >= 0) || !isfinite(W[j]))
            return cs_error_set(CS_EINVAL, "huff: attractiveness of %s is %g (must be finite, >= 0)", cost->col_ids[j],
                                W[j]);
    if (decay == CS_DECAY_POWER && c_min == 0)
        for (size_t k = 0; k < n * m; k++)
            if (cost->v[k] == 0) return cs_error_set(CS_EINVAL, "huff: zero cost with power decay needs c_min > 0");
    cs_matrix *P = NULL;
    cs_status st = cs_matrix_new(n, m, CS_MATRIX_OTHER, &P);
    if (st) return st;
    if ((st = cs_matrix_set_ids(P, (const char *const *)cost->row_ids, (const char *const *)cost->col_ids))) {
        cs_matrix_free(P);
        return st;
    }
    size_t unserved = 0;
    long bad = -1;
#pragma omp parallel for schedule(static) reduction(+ : unserved)
    for (size_t i = 0; i < n; i++) {
        const double *c = cost->v + i * m;
        double *p = P->v + i * m;
        double s = 0;
        for (size_t j = 0; j < m; j++) {
            if (c[j] < 0) {
#pragma omp critical(cs_huff_bad)
                bad = (long)(i * m + j);
            }
            double wa = (alpha == 1.0) ? W[j] : (W[j] == 0 ? 0.0 : pow(W[j], alpha));
            p[j] = wa * cs_decay_eval(decay, beta, c_min, c[j]);
            s += p[j];
        }
        if (s > 0) {
            for (size_t j = 0; j < m; j++) p[j] /= s;
        } else {
            for (size_t j = 0; j < m; j++) p[j] = NAN;
            unserved++;
        }
    }
    if (bad >= 0) {
        cs_matrix_free(P);
        return cs_error_set(CS_EINVAL, "huff: negative cost from %s to %s", cost->row_ids[(size_t)bad / m],
                            cost->col_ids[(size_t)bad % m]);
    }
    if (n_unserved) *n_unserved = unserved;
    *prob = P;
    return CS_OK;
}

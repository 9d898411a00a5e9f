/* eq_solver.c: the damped fixed-point engine of the spatial equilibrium model
 * (docs/model-equilibrium.md, "Solver") and the calibration iteration. */
#include <math.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/error.h"
#include "model/eq_internal.h"

/* Row blocks of the fused pass: fixed (independent of the thread count) so
 * that the column sums are added in the same order on any machine. */
#define EQ_BLOCKS 16
/* Below this size the OpenMP fork costs more than the pass. */
#define EQ_PAR_MIN 192
/* Two-level correction when the rows form between 2 and this many clusters. */
#define EQ_COARSE_MAX 64
#ifndef EQ_COARSE_EVERY
#define EQ_COARSE_EVERY 1
#endif

/* One row of the fused pass. Compiled twice (AVX2 and baseline x86-64,
 * chosen at load time) because the library is built without -march; no FMA
 * contraction under -std=c17, and the simd reduction order is fixed per
 * build, so results do not depend on the thread count. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
static double row_kernel(const double *restrict Ki, const double *restrict y, double *restrict a, double xi, size_t n)
{
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (size_t j = 0; j < n; j++) {
        const double k = Ki[j];
        s += k * y[j];
        a[j] += k * xi;
    }
    return s;
}

size_t eq_acc_size(size_t n) { return (n < EQ_BLOCKS ? n : EQ_BLOCKS) * n; }

/* The pass over row parts: part p = rows order[start[p] .. start[p+1]) (or
 * fixed blocks when order is NULL); acc + p*n receives the part's column sums. */
static void eq_pass_part(const double *K, size_t n, const double *x, const double *y, double *row, double *col,
                         double *acc, const uint32_t *order, const size_t *start, size_t nparts)
{
    const size_t nb = order ? nparts : (n < EQ_BLOCKS ? n : EQ_BLOCKS);
#pragma omp parallel for schedule(dynamic) if (n >= EQ_PAR_MIN)
    for (size_t b = 0; b < nb; b++) {
        double *a = acc + b * n;
        memset(a, 0, n * sizeof *a);
        if (order) {
            for (size_t k = start[b]; k < start[b + 1]; k++) {
                const size_t i = order[k];
                row[i] = row_kernel(K + i * n, y, a, x[i], n);
            }
        } else {
            const size_t i0 = n * b / nb, i1 = n * (b + 1) / nb;
            for (size_t i = i0; i < i1; i++) row[i] = row_kernel(K + i * n, y, a, x[i], n);
        }
    }
#pragma omp parallel for schedule(static) if (n >= EQ_PAR_MIN)
    for (size_t j = 0; j < n; j++) {
        double t = 0.0;
        for (size_t b = 0; b < nb; b++) t += acc[b * n + j];
        col[j] = t;
    }
}

void eq_pass(const double *K, size_t n, const double *x, const double *y, double *row, double *col, double *acc)
{
    /* One read of K serves both sums: row sums against y, column sums
     * against x accumulated per block (acc stays in cache: n doubles). Each
     * block is summed by one thread in a fixed order, so the result does not
     * depend on the number of threads or on the schedule. */
    eq_pass_part(K, n, x, y, row, col, acc, NULL, NULL, 0);
}

/* Dense solve A x = b (m x m, partial pivoting), A and b overwritten; 0 if singular. */
static int small_solve(double *A, double *b, size_t m)
{
    for (size_t k = 0; k < m; k++) {
        size_t p = k;
        for (size_t i = k + 1; i < m; i++)
            if (fabs(A[i * m + k]) > fabs(A[p * m + k])) p = i;
        if (!(fabs(A[p * m + k]) > 1e-300)) return 0;
        if (p != k) {
            for (size_t j = 0; j < m; j++) {
                const double t = A[k * m + j];
                A[k * m + j] = A[p * m + j];
                A[p * m + j] = t;
            }
            const double t = b[k];
            b[k] = b[p];
            b[p] = t;
        }
        for (size_t i = k + 1; i < m; i++) {
            const double f = A[i * m + k] / A[k * m + k];
            for (size_t j = k; j < m; j++) A[i * m + j] -= f * A[k * m + j];
            b[i] -= f * b[k];
        }
    }
    for (size_t i = m; i-- > 0;) {
        double t = b[i];
        for (size_t j = i + 1; j < m; j++) t -= A[i * m + j] * b[j];
        b[i] = t / A[i * m + i];
    }
    return 1;
}

/* Sum over j of x_j * y_j in four interleaved lanes (j mod 4), lanes added as (0+1)+(2+3), then the tail:
 * the order is written out, so the bits do not depend on the instruction set or the compiler's
 * vectorisation (no contraction under -std=c17). Compiled twice as row_kernel. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
static void dot4_lanes(const double *restrict x, const double *restrict y0, const double *restrict y1,
                       const double *restrict y2, const double *restrict y3, size_t n, double *out)
{
    double s0[4] = {0, 0, 0, 0}, s1[4] = {0, 0, 0, 0}, s2[4] = {0, 0, 0, 0}, s3[4] = {0, 0, 0, 0};
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
        for (size_t k = 0; k < 4; k++) {
            const double v = x[j + k];
            s0[k] += v * y0[j + k];
            s1[k] += v * y1[j + k];
            s2[k] += v * y2[j + k];
            s3[k] += v * y3[j + k];
        }
    double t0 = (s0[0] + s0[1]) + (s0[2] + s0[3]), t1 = (s1[0] + s1[1]) + (s1[2] + s1[3]);
    double t2 = (s2[0] + s2[1]) + (s2[2] + s2[3]), t3 = (s3[0] + s3[1]) + (s3[2] + s3[3]);
    for (; j < n; j++) {
        t0 += x[j] * y0[j];
        t1 += x[j] * y1[j];
        t2 += x[j] * y2[j];
        t3 += x[j] * y3[j];
    }
    out[0] = t0;
    out[1] = t1;
    out[2] = t2;
    out[3] = t3;
}

/* r_j = Y_j / Phi_j and Q_Hj = phi_Hj (r_j / Phi_j), in buf ((G + 2) n doubles: r, r/Phi, Q). */
static void coarse_prep(const double *phi, size_t G, size_t n, const double *Y, const double *Phi, double *buf)
{
    double *r = buf, *r2 = buf + n, *Q = buf + 2 * n;
    for (size_t j = 0; j < n; j++) {
        r[j] = Y[j] / Phi[j];
        r2[j] = r[j] / Phi[j];
    }
    for (size_t a = 0; a < G; a++)
        for (size_t j = 0; j < n; j++) Q[a * n + j] = phi[a * n + j] * r2[j];
}

/* M_GH = sum_j phi_Gj phi_Hj Y_j / Phi_j^2 (symmetric, G x G into M): dot products of phi_G with Q_H, four H at
 * a time (H <= G; the padding columns of the last block repeat Q_0 and are not used). */
static void coarse_m(const double *phi, const double *Q, size_t G, size_t n, double *M)
{
    for (size_t a = 0; a < G; a++) {
        const double *pa = phi + a * n;
        for (size_t b = 0; b <= a; b += 4) {
            double t4[4];
            const double *y0 = Q + b * n, *y1 = b + 1 <= a ? y0 + n : Q, *y2 = b + 2 <= a ? y0 + 2 * n : Q,
                         *y3 = b + 3 <= a ? y0 + 3 * n : Q;
            dot4_lanes(pa, y0, y1, y2, y3, n, t4);
            for (size_t q = 0; q < 4 && b + q <= a; q++) M[a * G + b + q] = M[(b + q) * G + a] = t4[q];
        }
    }
}

/*
 * Coarse (two-level) correction of calibration: one Newton step for one
 * factor s_G per cluster G on the cluster-aggregated market clearing
 * S_G(s) = s_G sum_j phi_Gj Y_j / Phi_j(s) = Y_G, Phi_j(s) = sum_H s_H phi_Hj,
 * where phi_Gj = sum_{i in G} K_ij c_i are the pass's per-part column sums.
 * These are the slow modes of the plain iteration (clusters of cities that
 * trade little with each other). Out: delta = log s (sum 0). work: G*G + 2G.
 */
static int coarse_calib(const double *phi, size_t G, size_t n, const double *Y, const double *YG, const double *Phi,
                        double *delta, double *work)
{
    double *J = work, *SG = work + G * G;
    /* (without the scratch the coarse step is skipped, which only slows convergence) */
    double *buf = cs_mallocarray((G + 2) * n + 1, sizeof *buf);
    if (!buf) return 0;
    coarse_prep(phi, G, n, Y, Phi, buf);
    for (size_t a = 0; a < G; a++) {
        double t = 0.0;
        const double *pa = phi + a * n, *r = buf;
        for (size_t j = 0; j < n; j++) t += pa[j] * r[j];
        SG[a] = t;
        delta[a] = -(log(t) - log(YG[a]));
    }
    coarse_m(phi, buf + 2 * n, G, n, J);
    cs_free(buf);
    for (size_t a = 0; a < G; a++)
        for (size_t b = 0; b < G; b++)
            J[a * G + b] = (a == b) - J[a * G + b] / SG[a] + 1.0 / (double)G; /* + 11'/G fixes the free scale */
    if (!small_solve(J, delta, G)) return 0;
    for (size_t a = 0; a < G; a++) delta[a] = fmax(-2.0, fmin(2.0, delta[a]));
    return 1;
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

/* Shift log w so that sum_i w_i L_i = Y; returns the shift. */
static double normalise_w(const eq_sys *S, double *logw, const double *logL)
{
    double t = 0.0;
    for (size_t i = 0; i < S->n; i++) t += exp(logw[i] + logL[i]);
    const double sh = log(S->Y) - log(t);
    for (size_t i = 0; i < S->n; i++) logw[i] += sh;
    return sh;
}

/*
 * Anderson acceleration (type II, Walker & Ni 2011, SIAM J. Numer. Anal.
 * 49(4)) of a fixed-point iteration z <- g(z) on a d-vector, memory m. The
 * least-squares problem is solved by normal equations with a small ridge
 * (m <= 8 columns); history is dropped when the system is singular or the
 * residual grows. All sums are sequential, so results do not depend on the
 * number of threads.
 */
#ifndef AA_RIDGE
#define AA_RIDGE 1e-12
#endif
#ifndef AA_RESTART
#define AA_RESTART 1e3
#endif
#ifndef AA_M
#define AA_M 80
#endif
typedef struct aa_state {
    size_t d;
    int cnt, head, have_prev;
    double best;
    double *dF, *dG, *fprev, *gprev, *f; /* dF, dG: AA_M*d ring */
    double gram[AA_M][AA_M];             /* dF_a . dF_b, updated one column at a time */
} aa_state;

static cs_status aa_init(aa_state *A, size_t d)
{
    memset(A, 0, sizeof *A);
    A->d = d;
    A->best = INFINITY;
    A->dF = cs_mallocarray((2 * AA_M + 3) * d, sizeof(double));
    if (!A->dF) return CS_ENOMEM;
    A->dG = A->dF + AA_M * d;
    A->fprev = A->dG + AA_M * d;
    A->gprev = A->fprev + d;
    A->f = A->gprev + d;
    return CS_OK;
}

static void aa_free(aa_state *A) { cs_free(A->dF); }

/* z: current iterate (overwritten with the next one); g = g(z); res = residual size used for restarts. */
static void aa_step(aa_state *A, double *z, const double *g, double res)
{
    const size_t d = A->d;
    double *f = A->f;
    for (size_t k = 0; k < d; k++) f[k] = g[k] - z[k];
    if (res > AA_RESTART * A->best || !isfinite(res)) {
        A->cnt = 0; /* restart: the extrapolation went astray */
        A->head = 0;
        A->have_prev = 0;
    }
    if (res < A->best) A->best = res;
    if (A->have_prev) {
        const int h = A->head;
        double *cf = A->dF + (size_t)h * d, *cg = A->dG + (size_t)h * d;
        for (size_t k = 0; k < d; k++) {
            cf[k] = f[k] - A->fprev[k];
            cg[k] = g[k] - A->gprev[k];
        }
        A->head = (h + 1) % AA_M;
        if (A->cnt < AA_M) A->cnt++;
        for (int b = 0; b < A->cnt; b++) {
            const double *fb = A->dF + (size_t)b * d;
            double t = 0.0;
            for (size_t k = 0; k < d; k++) t += cf[k] * fb[k];
            A->gram[h][b] = A->gram[b][h] = t;
        }
    }
    memcpy(A->fprev, f, d * sizeof *f);
    memcpy(A->gprev, g, d * sizeof *g);
    A->have_prev = 1;
    const int m = A->cnt;
    memcpy(z, g, d * sizeof *z);
    if (m == 0) return;
    double M[AA_M][AA_M], r[AA_M], gam[AA_M];
    for (int a = 0; a < m; a++) {
        const double *fa = A->dF + (size_t)a * d;
        for (int b = 0; b < m; b++) M[a][b] = A->gram[a][b];
        double t = 0.0;
        for (size_t k = 0; k < d; k++) t += fa[k] * f[k];
        r[a] = t;
    }
    double tr = 0.0;
    for (int a = 0; a < m; a++) tr += M[a][a];
    if (!(tr > 0.0)) return;
    for (int a = 0; a < m; a++) M[a][a] += AA_RIDGE * tr;
    /* Cholesky */
    for (int a = 0; a < m; a++) {
        for (int b = 0; b <= a; b++) {
            double t = M[a][b];
            for (int k = 0; k < b; k++) t -= M[a][k] * M[b][k];
            if (a == b) {
                if (!(t > 0.0)) {
                    A->cnt = 0;
                    A->head = 0;
                    return;
                }
                M[a][a] = sqrt(t);
            } else {
                M[a][b] = t / M[b][b];
            }
        }
    }
    for (int a = 0; a < m; a++) {
        double t = r[a];
        for (int k = 0; k < a; k++) t -= M[a][k] * gam[k];
        gam[a] = t / M[a][a];
    }
    for (int a = m - 1; a >= 0; a--) {
        double t = gam[a];
        for (int k = a + 1; k < m; k++) t -= M[k][a] * gam[k];
        gam[a] = t / M[a][a];
    }
    for (int a = 0; a < m; a++) {
        const double *ga = A->dG + (size_t)a * d;
        for (size_t k = 0; k < d; k++) z[k] -= gam[a] * ga[k];
    }
}

/*
 * Coarse correction of the wage level of each cluster G (s_G multiplies w in
 * G; L fixed): one Newton step on F_G = log S_G(s) - log(s_G Y_G) with
 * S_G(s) = sum_j s_G^-theta phi_Gj s_H(j) Y_j / Phi_j(s), Phi_j(s) = sum_H s_H^-theta phi_Hj.
 * At s = 1: dF_G/dlog s_H = -(1+theta) d_GH + X_GH/S_G + theta M_GH/S_G with
 * X_GH = sum_{j in H} phi_Gj Y_j/Phi_j and M_GH = sum_j phi_Gj phi_Hj Y_j/Phi_j^2.
 */
static int coarse_wage(const double *phi, size_t G, size_t n, const uint32_t *group, const double *Yc,
                       const double *YG, const double *Phi, double theta, double *delta, double *work)
{
    double *J = work, *SG = work + G * G;
    /* (without the scratch the coarse step is skipped, which only slows convergence) */
    double *buf = cs_mallocarray((G + 2) * n + G * G + 1, sizeof *buf), *M = buf ? buf + (G + 2) * n : NULL;
    if (!buf) return 0;
    coarse_prep(phi, G, n, Yc, Phi, buf);
    for (size_t a = 0; a < G * G; a++) J[a] = 0.0;
    for (size_t a = 0; a < G; a++) {
        const double *pa = phi + a * n, *r = buf;
        double t = 0.0;
        for (size_t j = 0; j < n; j++) {
            const double x = pa[j] * r[j];
            t += x;
            J[a * G + group[j]] += x; /* X_GH */
        }
        SG[a] = t;
        delta[a] = -(log(t) - log(YG[a]));
    }
    coarse_m(phi, buf + 2 * n, G, n, M);
    for (size_t q = 0; q < G * G; q++) J[q] += theta * M[q];
    cs_free(buf);
    for (size_t a = 0; a < G; a++)
        for (size_t b = 0; b < G; b++)
            J[a * G + b] = J[a * G + b] / SG[a] - (a == b) * (1.0 + theta) + 1.0 / (double)G;
    if (!small_solve(J, delta, G)) return 0;
    for (size_t a = 0; a < G; a++) delta[a] = fmax(-1.0, fmin(1.0, delta[a]));
    return 1;
}

cs_status eq_run(const eq_sys *S, double *w, double *L, double *Phi, int *iters, double *resid)
{
    const size_t n = S->n;
    const double th = S->theta, al = S->alpha;
    cs_status st = CS_OK;
    /* Own elasticity of welfare to population, holding the rest of the system
     * fixed: beta + (alpha theta - 1)/(1 + theta). The population step is the
     * Newton step of the mobility condition on this diagonal (docs). */
    const double ew = (al * th - 1.0) / (1.0 + th);
    const double e = S->beta + ew;
    const double denom = S->inv_kappa - e;
    if (S->mobile && !(denom > 0.0))
        return cs_error_set(CS_EINVAL,
                            "equilibrium: beta + (alpha*theta - 1)/(1 + theta) - 1/kappa = %g must be < 0 "
                            "for the long run to be stable (congestion must outweigh agglomeration)",
                            -denom);
    const size_t ng = S->ng;
    const int coarse = S->group && ng >= 2 && ng <= EQ_COARSE_MAX;
    const size_t nacc = coarse && ng * n > eq_acc_size(n) ? ng * n : eq_acc_size(n);
    double *buf = cs_mallocarray(11 * n + ng + nacc + (coarse ? ng * ng + 3 * ng : 0), sizeof *buf);
    uint32_t *order = coarse ? cs_mallocarray(n, sizeof *order) : NULL;
    size_t *start = coarse ? cs_calloc(ng + 1, sizeof *start) : NULL;
    size_t *fill = coarse ? cs_mallocarray(ng, sizeof *fill) : NULL;
    aa_state A;
    /* Anderson acts on (log w, log Phi) and, in the long run, log L (state laid out in that order) */
    if (!buf || (coarse && (!order || !start || !fill)) || aa_init(&A, (S->mobile ? 3 : 2) * n)) {
        cs_free(buf), cs_free(order), cs_free(start), cs_free(fill);
        return CS_ENOMEM;
    }
    /* state z = (log w, log Phi, log L); g = one damped iteration from z */
    double *z = buf, *g = buf + 3 * n, *c = buf + 6 * n, *y = buf + 7 * n, *row = buf + 8 * n;
    double *lw = buf + 9 * n, *Yc = buf + 10 * n, *gs = buf + 11 * n, *acc = gs + ng;
    double *cw = acc + nacc, *YG = cw + ng * ng + ng, *delta = YG + ng;
    if (coarse) {
        /* rows grouped by cluster (the mobility groups), stable order */
        for (size_t i = 0; i < n; i++) start[S->group[i] + 1]++;
        for (size_t k = 0; k < ng; k++) start[k + 1] += start[k];
        memcpy(fill, start, ng * sizeof *fill);
        for (size_t i = 0; i < n; i++) order[fill[S->group[i]]++] = (uint32_t)i;
    }
    double *logw = z, *logP = z + n, *logL = z + 2 * n;
    double *gw = g, *gP = g + n, *gL = g + 2 * n;
    for (size_t i = 0; i < n; i++) {
        logw[i] = log(w[i]);
        logL[i] = log(L[i]);
    }
    if (S->mobile) normalise_L(S, logL, gs);
    normalise_w(S, logw, logL);
    for (size_t i = 0; i < n; i++) {
        c[i] = exp(-th * (logw[i] - S->logp[i] - al * logL[i]));
        y[i] = 0.0;
    }
    eq_pass(S->K, n, c, y, row, Phi, acc);
    for (size_t i = 0; i < n; i++) logP[i] = log(Phi[i]);
    const double lam = S->step;
    double res = INFINITY;
    size_t worst = 0;
    int it;
    for (it = 1; it <= S->max_iter; it++) {
        for (size_t i = 0; i < n; i++) {
            c[i] = exp(-th * (logw[i] - S->logp[i] - al * logL[i]));
            y[i] = exp(logw[i] + logL[i] - logP[i]);
        }
        if (coarse)
            eq_pass_part(S->K, n, c, y, row, Phi, acc, order, start, ng);
        else
            eq_pass(S->K, n, c, y, row, Phi, acc);
        /* wage target from market clearing: w^(1+theta) = (p L^alpha)^theta row / L */
        for (size_t i = 0; i < n; i++) {
            lw[i] = (th * (S->logp[i] + al * logL[i]) - logL[i] + log(row[i])) / (1.0 + th);
            gP[i] = log(Phi[i]);
        }
        normalise_w(S, lw, logL);
        res = 0.0;
        worst = 0;
        for (size_t i = 0; i < n; i++) {
            double d = fabs(lw[i] - logw[i]);
            const double dp = fabs(gP[i] - logP[i]) / th; /* change of log P */
            if (dp > d) d = dp;
            if (d > res || isnan(d)) {
                res = d;
                worst = i;
            }
        }
        if (S->mobile) {
            for (size_t i = 0; i < n; i++) {
                const double logW = logw[i] + S->logq[i] + S->beta * logL[i] + gP[i] / th;
                gL[i] = logL[i] + (logW - S->inv_kappa * logL[i]) / denom;
            }
            normalise_L(S, gL, gs);
            for (size_t i = 0; i < n; i++) {
                const double d = fabs(gL[i] - logL[i]);
                if (d > res || isnan(d)) {
                    res = d;
                    worst = i;
                }
            }
        }
        if (!isfinite(res)) {
            st = cs_error_set(CS_ECONVERGE,
                              "equilibrium solver diverged at iteration %d (residual %g at city %zu); "
                              "check the cost matrix and parameters",
                              it, res, worst);
            break;
        }
        if (res < S->tol) break;
        if (S->progress.fn && S->progress.fn(S->progress.user, "equilibrium", it, S->max_iter)) {
            st = cs_error_set(CS_ECANCELED, "equilibrium solver cancelled at iteration %d", it);
            break;
        }
        /* damped step, then Anderson extrapolation */
        if (S->mobile) {
            /* Move people, and move the wage with them by its own partial
             * elasticity (alpha theta - 1)/(1 + theta): the population step
             * assumed it. */
            for (size_t i = 0; i < n; i++) gL[i] = logL[i] + lam * (gL[i] - logL[i]);
            normalise_L(S, gL, gs);
            for (size_t i = 0; i < n; i++) gw[i] = lw[i] + ew * (gL[i] - logL[i]);
        } else {
            for (size_t i = 0; i < n; i++) {
                gL[i] = logL[i];
                gw[i] = lw[i];
            }
        }
        if (coarse) {
            /* two-level: the wage level of each cluster (mobility group), one Newton step */
            for (size_t k = 0; k < ng; k++) YG[k] = 0.0;
            for (size_t i = 0; i < n; i++) {
                Yc[i] = exp(logw[i] + logL[i]);
                YG[S->group[i]] += Yc[i];
            }
            if ((it % EQ_COARSE_EVERY) == 0 && coarse_wage(acc, ng, n, S->group, Yc, YG, Phi, th, delta, cw)) {
                for (size_t i = 0; i < n; i++) gw[i] += delta[S->group[i]];
                const double sh = normalise_w(S, gw, gL);
                /* Phi of the rescaled wages, exactly: sum_k s_k^-theta phi_kj (then the numeraire shift) */
                for (size_t j = 0; j < n; j++) gP[j] = 0.0;
                for (size_t k = 0; k < ng; k++) {
                    const double f = exp(-th * delta[k]);
                    const double *pk = acc + k * n;
                    for (size_t j = 0; j < n; j++) gP[j] += f * pk[j];
                }
                for (size_t j = 0; j < n; j++) gP[j] = log(gP[j]) - th * sh;
            } else {
                normalise_w(S, gw, gL);
            }
        } else {
            normalise_w(S, gw, gL);
        }
        aa_step(&A, z, g, res);
        if (S->mobile) normalise_L(S, logL, gs);
        else
            for (size_t i = 0; i < n; i++) logL[i] = gL[i];
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
    aa_free(&A);
    cs_free(buf);
    cs_free(order);
    cs_free(start);
    cs_free(fill);
    return st;
}

cs_status eq_calibrate_c(const double *K, size_t n, const double *Y, const uint32_t *group, size_t ng, double tol,
                         int max_iter, cs_progress progress, double *c, double *Phi, int *iters, double *resid)
{
    const int coarse = group && ng >= 2 && ng <= EQ_COARSE_MAX;
    const size_t nacc = coarse && ng * n > eq_acc_size(n) ? ng * n : eq_acc_size(n);
    double *buf = cs_mallocarray(7 * n + nacc + (coarse ? ng * ng + 4 * ng : 0), sizeof *buf);
    uint32_t *order = coarse ? cs_mallocarray(n, sizeof *order) : NULL;
    size_t *start = coarse ? cs_calloc(ng + 1, sizeof *start) : NULL;
    aa_state A;
    if (!buf || (coarse && (!order || !start)) || aa_init(&A, 2 * n)) {
        cs_free(buf);
        cs_free(order);
        cs_free(start);
        return CS_ENOMEM;
    }
    /* state z = (log c, log Phi) */
    double *z = buf, *g = buf + 2 * n, *y = buf + 4 * n, *row = buf + 5 * n, *acc = buf + 7 * n;
    double *lc = z, *lP = z + n, *gc = g, *gP = g + n;
    double *cw = acc + nacc, *YG = cw + ng * ng + 2 * ng, *delta = YG + ng;
    if (coarse) {
        /* rows grouped by cluster (stable order) */
        for (size_t i = 0; i < n; i++) start[group[i] + 1]++;
        for (size_t k = 0; k < ng; k++) start[k + 1] += start[k];
        size_t *fill = cs_mallocarray(ng, sizeof *fill);
        if (!fill) {
            cs_free(buf), cs_free(order), cs_free(start), aa_free(&A);
            return CS_ENOMEM;
        }
        memcpy(fill, start, ng * sizeof *fill);
        for (size_t k = 0; k < ng; k++) YG[k] = 0.0;
        for (size_t i = 0; i < n; i++) {
            order[fill[group[i]]++] = (uint32_t)i;
            YG[group[i]] += Y[i];
        }
        cs_free(fill);
    }
    cs_status st = CS_OK;
    for (size_t i = 0; i < n; i++) {
        lc[i] = 0.0;
        c[i] = 1.0;
        y[i] = 0.0;
    }
    eq_pass(K, n, c, y, row, Phi, acc);
    for (size_t i = 0; i < n; i++) lP[i] = log(Phi[i]);
    double res = INFINITY;
    size_t worst = 0;
    int it;
    for (it = 1; it <= max_iter; it++) {
        for (size_t i = 0; i < n; i++) {
            c[i] = exp(lc[i]);
            y[i] = Y[i] * exp(-lP[i]);
        }
        if (coarse)
            eq_pass_part(K, n, c, y, row, Phi, acc, order, start, ng);
        else
            eq_pass(K, n, c, y, row, Phi, acc);
        /* target log c* = log Y - log row (c is defined up to scale: mean log c = 0) */
        double mean = 0.0;
        for (size_t i = 0; i < n; i++) {
            gc[i] = log(Y[i]) - log(row[i]);
            mean += gc[i];
            gP[i] = log(Phi[i]);
        }
        mean /= (double)n;
        res = 0.0;
        for (size_t i = 0; i < n; i++) {
            gc[i] -= mean;
            double d = fabs(gc[i] - lc[i]);
            const double dp = fabs(gP[i] - lP[i]);
            if (dp > d) d = dp;
            if (d > res || isnan(d)) {
                res = d;
                worst = i;
            }
        }
        if (!isfinite(res)) {
            st = cs_error_set(CS_ECONVERGE, "calibration diverged at iteration %d (city index %zu)", it, worst);
            break;
        }
        if (res < tol) break;
        if (progress.fn && progress.fn(progress.user, "calibration", it, max_iter)) {
            st = cs_error_set(CS_ECANCELED, "calibration cancelled at iteration %d", it);
            break;
        }
        if (coarse && (it % EQ_COARSE_EVERY) == 0 && coarse_calib(acc, ng, n, Y, YG, Phi, delta, cw)) {
            /* add the cluster factors to the fine step; Phi of the rescaled c exactly */
            for (size_t i = 0; i < n; i++) gc[i] += delta[group[i]];
            for (size_t j = 0; j < n; j++) gP[j] = 0.0;
            for (size_t k = 0; k < ng; k++) {
                const double f = exp(delta[k]);
                const double *pk = acc + k * n;
                for (size_t j = 0; j < n; j++) gP[j] += f * pk[j];
            }
            for (size_t j = 0; j < n; j++) gP[j] = log(gP[j]);
        }
        aa_step(&A, z, g, res);
        mean = 0.0;
        for (size_t i = 0; i < n; i++) mean += lc[i];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++) lc[i] -= mean;
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
    aa_free(&A);
    cs_free(buf);
    cs_free(order);
    cs_free(start);
    return st;
}

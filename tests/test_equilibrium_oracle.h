/*
 * test_equilibrium_oracle.h: a second, independent solver for the spatial
 * equilibrium levels system, used only by the tests. It writes the
 * equilibrium conditions as a residual vector F(x) = 0 in x = (log w, log L)
 * and solves them with a plain damped Newton method with a numerical
 * (central-difference) Jacobian and Gaussian elimination with partial
 * pivoting. Slow (O(n^4) per Newton step) and shares no code with the
 * library's fixed-point engine.
 */
#ifndef TEST_EQUILIBRIUM_ORACLE_H
#define TEST_EQUILIBRIUM_ORACLE_H
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct oracle_sys {
    int n, ng;
    const int *group;      /* n */
    const double *gpop;    /* ng */
    const double *tau;     /* n*n, tau[i*n+j] origin i -> destination j */
    const double *Abar, *ubar; /* n, already multiplied by any shifter */
    double theta, alpha, beta, kappa; /* kappa <= 0: perfect mobility */
    int long_run;
    const double *Lfix;    /* short run */
    double Y;              /* numeraire: sum w L */
} oracle_sys;

/* Price indices from w, L: P_j = (sum_k (tau_kj w_k / A_k)^-theta)^(-1/theta). */
static void oracle_prices(const oracle_sys *S, const double *w, const double *L, double *P)
{
    int n = S->n;
    for (int j = 0; j < n; j++) {
        double s = 0;
        for (int k = 0; k < n; k++) {
            double A = S->Abar[k] * pow(L[k], S->alpha);
            double t = S->tau[k * n + j];
            if (isinf(t)) continue;
            s += pow(t * w[k] / A, -S->theta);
        }
        P[j] = pow(s, -1.0 / S->theta);
    }
}

static void oracle_unpack(const oracle_sys *S, const double *x, double *w, double *L)
{
    for (int i = 0; i < S->n; i++) {
        w[i] = exp(x[i]);
        L[i] = S->long_run ? exp(x[S->n + i]) : S->Lfix[i];
    }
}

/* Residuals; m = n (short run) or 2n (long run) equations. */
static void oracle_F(const oracle_sys *S, const double *x, double *F)
{
    int n = S->n;
    double *w = malloc(sizeof(double) * 3 * n), *L = w + n, *P = w + 2 * n;
    oracle_unpack(S, x, w, L);
    oracle_prices(S, w, L, P);
    double Ysum = 0;
    /* market clearing for cities 1..n-1 (one equation is redundant: Walras), numeraire instead of city 0 */
    for (int i = 0; i < n; i++) {
        double Ai = S->Abar[i] * pow(L[i], S->alpha), sales = 0;
        for (int j = 0; j < n; j++) {
            double t = S->tau[i * n + j];
            if (isinf(t)) continue;
            sales += pow(t * w[i] / Ai, -S->theta) * pow(P[j], S->theta) * w[j] * L[j];
        }
        F[i] = log(sales) - log(w[i] * L[i]);
        Ysum += w[i] * L[i];
    }
    F[0] = log(Ysum) - log(S->Y);
    if (S->long_run) {
        double *Wv = malloc(sizeof(double) * n);
        for (int i = 0; i < n; i++) Wv[i] = w[i] * S->ubar[i] * pow(L[i], S->beta) / P[i];
        for (int g = 0; g < S->ng; g++) {
            int first = -1;
            double popsum = 0, wk = 0;
            for (int i = 0; i < n; i++)
                if (S->group[i] == g) {
                    popsum += L[i];
                    if (S->kappa > 0) wk += pow(Wv[i], S->kappa);
                    if (first < 0) first = i;
                }
            for (int i = 0; i < n; i++) {
                if (S->group[i] != g) continue;
                if (S->kappa > 0) /* L_i = Lbar W_i^kappa / sum W^kappa */
                    F[n + i] = log(L[i]) - (log(S->gpop[g]) + S->kappa * log(Wv[i]) - log(wk));
                else if (i == first) /* group population */
                    F[n + i] = log(popsum) - log(S->gpop[g]);
                else /* equal welfare */
                    F[n + i] = log(Wv[i]) - log(Wv[first]);
            }
        }
        free(Wv);
    }
    free(w);
}

static double oracle_norm(const double *F, int m)
{
    double s = 0;
    for (int i = 0; i < m; i++) s += F[i] * F[i];
    return sqrt(s);
}

/* Solve J d = -F by Gaussian elimination with partial pivoting; returns 0 if singular. */
static int oracle_linsolve(double *J, double *b, int m)
{
    for (int k = 0; k < m; k++) {
        int p = k;
        for (int i = k + 1; i < m; i++)
            if (fabs(J[i * m + k]) > fabs(J[p * m + k])) p = i;
        if (fabs(J[p * m + k]) < 1e-300) return 0;
        if (p != k) {
            for (int j = 0; j < m; j++) {
                double t = J[k * m + j];
                J[k * m + j] = J[p * m + j];
                J[p * m + j] = t;
            }
            double t = b[k];
            b[k] = b[p];
            b[p] = t;
        }
        for (int i = k + 1; i < m; i++) {
            double f = J[i * m + k] / J[k * m + k];
            if (f == 0) continue;
            for (int j = k; j < m; j++) J[i * m + j] -= f * J[k * m + j];
            b[i] -= f * b[k];
        }
    }
    for (int i = m - 1; i >= 0; i--) {
        double s = b[i];
        for (int j = i + 1; j < m; j++) s -= J[i * m + j] * b[j];
        b[i] = s / J[i * m + i];
    }
    return 1;
}

/* Damped Newton from x (in/out). Returns the final residual norm. */
static double oracle_solve(const oracle_sys *S, double *x, int max_steps)
{
    int m = S->long_run ? 2 * S->n : S->n;
    double *F = malloc(sizeof(double) * m), *Fp = malloc(sizeof(double) * m), *Fm = malloc(sizeof(double) * m);
    double *J = malloc(sizeof(double) * m * m), *d = malloc(sizeof(double) * m), *xt = malloc(sizeof(double) * m);
    oracle_F(S, x, F);
    double nf = oracle_norm(F, m);
    for (int step = 0; step < max_steps && nf > 1e-14; step++) {
        const double h = 1e-6;
        for (int k = 0; k < m; k++) {
            memcpy(xt, x, sizeof(double) * m);
            xt[k] = x[k] + h;
            oracle_F(S, xt, Fp);
            xt[k] = x[k] - h;
            oracle_F(S, xt, Fm);
            for (int i = 0; i < m; i++) J[i * m + k] = (Fp[i] - Fm[i]) / (2 * h);
        }
        for (int i = 0; i < m; i++) d[i] = -F[i];
        if (!oracle_linsolve(J, d, m)) break;
        double t = 1.0, nt = INFINITY;
        for (int ls = 0; ls < 40; ls++, t *= 0.5) {
            for (int i = 0; i < m; i++) xt[i] = x[i] + t * d[i];
            oracle_F(S, xt, Fp);
            nt = oracle_norm(Fp, m);
            if (nt < (1 - 1e-4 * t) * nf) break;
        }
        if (!(nt < nf)) break;
        memcpy(x, xt, sizeof(double) * m);
        memcpy(F, Fp, sizeof(double) * m);
        nf = nt;
    }
    free(F), free(Fp), free(Fm), free(J), free(d), free(xt);
    return nf;
}
#endif

/*
 * bench_eq.c: timing and memory of calibration + one counterfactual of the
 * spatial equilibrium model on a synthetic system of N cities, and the
 * memory-bandwidth floor of one pass over an N x N double matrix measured in
 * the same run. See bench/README.md (spatial equilibrium model) for the command and results.
 *
 *   bench_eq N [threads]
 *
 * Cities: uniform in a 4000 x 4000 km square (about Africa's extent), 48
 * "countries" = mobility groups (nearest of 48 random seeds), Zipf
 * populations, log-normal incomes; tau_ij = 1 + 0.5 * distance / 1000 km.
 * Scenario: 10% of city pairs get 30% lower (tau - 1), symmetric.
 * Peak memory is kept to two N x N matrices: tau_after is generated only after
 * calibration and reused as the work matrix (CS_EQ_REUSE_TAU_AFTER).
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "citysys/citysys.h"
#include "citysys/equilibrium.h"

/* internal engine (not public API), linked from the static library */
#include "model/eq_internal.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}
static uint64_t st = 12345;
static double urand(void)
{
    uint64_t z = (st += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 453;
    if (argc > 2) omp_set_num_threads(atoi(argv[2]));
    char loadavg[128] = "?\n";
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (!fgets(loadavg, sizeof loadavg, lf)) strcpy(loadavg, "?\n");
        fclose(lf);
    }
    double *x = malloc(sizeof(double) * n * 4), *y = x + n, *L = x + 2 * n, *w = x + 3 * n;
    uint32_t *g = malloc(sizeof(uint32_t) * n);
    double sx[48], sy[48];
    for (int k = 0; k < 48; k++) sx[k] = 4000 * urand(), sy[k] = 4000 * urand();
    for (size_t i = 0; i < n; i++) {
        x[i] = 4000 * urand(), y[i] = 4000 * urand();
        L[i] = 1e5 * pow(urand() + 1e-9, -1.0); /* Zipf tail */
        w[i] = exp(7.5 + 0.6 * (urand() + urand() + urand() - 1.5));
        double best = INFINITY;
        for (int k = 0; k < 48; k++) {
            double d = hypot(x[i] - sx[k], y[i] - sy[k]);
            if (d < best) best = d, g[i] = (uint32_t)k;
        }
    }
    int map[48], ng = 0;
    for (int k = 0; k < 48; k++) map[k] = -1;
    for (size_t i = 0; i < n; i++) {
        if (map[g[i]] < 0) map[g[i]] = ng++;
        g[i] = (uint32_t)map[g[i]];
    }
    cs_matrix *tau, *tau1;
    if (cs_matrix_new(n, n, CS_MATRIX_TRADECOST, &tau)) return 1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            tau->v[i * n + j] = i == j ? 1.0 : 1.0 + 0.5 * hypot(x[i] - x[j], y[i] - y[j]) / 1000;

    /* ---- the product path: calibration + one long-run counterfactual ---- */
    cs_eq_params p;
    cs_eq_params_default(&p);
    cs_eq_model *m;
    cs_eq_state *s0, *s1;
    double t0 = now();
    if (cs_eq_calibrate(&p, n, g, L, w, tau, NULL, &m, &s0)) {
        fprintf(stderr, "calibrate: %s\n", cs_error_last()->message);
        return 1;
    }
    double t_cal = now() - t0;
    if (cs_matrix_clone(tau, &tau1)) return 1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (urand() < 0.1) {
                double v = 1.0 + 0.7 * (tau->v[i * n + j] - 1.0);
                tau1->v[i * n + j] = tau1->v[j * n + i] = v;
            }
    t0 = now();
    if (cs_eq_counterfactual(m, s0, tau, tau1, CS_EQ_LONG_RUN, NULL, NULL, CS_EQ_REUSE_TAU_AFTER, NULL, &s1)) {
        fprintf(stderr, "counterfactual: %s\n", cs_error_last()->message);
        return 1;
    }
    double t_cf = now() - t0;
    cs_matrix_free(tau1);
    cs_eq_change *c;
    if (cs_eq_compare(m, s0, s1, &c)) return 1;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss_product = ru.ru_maxrss / 1024.0;

    /* ---- per-iteration cost against the memory-bandwidth floor ----
     * Interleaved, best of 3 (the machine is shared): (a) the floor, a plain
     * streaming read of the N x N matrix with all threads; (b) one fused pass;
     * (c) the long-run engine on K = tau^-theta run for exactly 20 iterations
     * (tolerance 0: it then reports no convergence), time per iteration. */
    double floor_s = INFINITY, pass_s = INFINITY, iter_s = INFINITY, sink = 0;
    {
        double *v = malloc(sizeof(double) * (10 * n + eq_acc_size(n)));
        double *logp = v + 4 * n, *logq = v + 5 * n, *ww = v + 6 * n, *LL = v + 7 * n, *Phi = v + 8 * n;
        double *gp = v + 9 * n, *acc = v + 10 * n;
        for (size_t i = 0; i < 2 * n; i++) v[i] = urand();
        for (size_t i = 0; i < n; i++) logp[i] = log(m->Abar[i]), logq[i] = log(m->ubar[i]);
        for (size_t k = 0; k < n * n; k++) tau->v[k] = pow(tau->v[k], -p.theta);
        for (int k = 0; k < ng; k++) gp[k] = m->group_pop[k];
        eq_sys S = {.n = n, .ng = (size_t)ng, .group = g, .gpop = gp, .K = tau->v, .theta = p.theta,
                    .alpha = p.alpha, .beta = p.beta, .inv_kappa = 0, .mobile = 1, .logp = logp, .logq = logq,
                    .Y = s0->world_income, .tol = 0, .step = p.step, .max_iter = 60};
        for (int r = 0; r < 3; r++) {
            double a0 = now(), sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(static)
            for (size_t k = 0; k < n * n; k++) sum += tau->v[k];
            double t = now() - a0;
            sink += sum;
            if (t < floor_s) floor_s = t;
            a0 = now();
            eq_pass(tau->v, n, v, v + n, v + 2 * n, v + 3 * n, acc);
            t = now() - a0;
            if (t < pass_s) pass_s = t;
            /* iterations 61..180 (difference of a 180- and a 60-iteration run), so that the Anderson
             * history is (nearly) full, as in a long solve */
            double tt[2];
            for (int q = 0; q < 2; q++) {
                memcpy(ww, s0->w, n * sizeof *ww);
                memcpy(LL, s0->L, n * sizeof *LL);
                int its;
                double res;
                S.max_iter = q ? 180 : 60;
                a0 = now();
                eq_run(&S, ww, LL, Phi, &its, &res);
                tt[q] = now() - a0;
            }
            t = (tt[1] - tt[0]) / 120.0;
            if (t < iter_s) iter_s = t;
        }
        free(v);
    }
    double mat_mb = (double)n * n * 8 / 1048576.0;
    printf("N=%zu threads=%d groups=%d; load average at start: %s", n, omp_get_max_threads(), ng, loadavg);
    printf("calibration: %.3f s, %d iterations\n", t_cal, s0->iterations);
    printf("counterfactual (long run, hat algebra): %.3f s, %d iterations, residual %.2g\n", t_cf, s1->iterations,
           s1->residual);
    printf("  aggregate welfare change %.6f (pop-weighted %.6f)\n", c->total_welfare_hat, c->total_welfare_hat_pop);
    printf("calibration + counterfactual: %.3f s\n", t_cal + t_cf);
    printf("peak RSS after calibration + counterfactual %.1f MB; one N x N double matrix = %.1f MB; "
           "2 matrices = %.1f MB\n", rss_product, mat_mb, 2 * mat_mb);
    printf("streaming-read floor of one N x N pass: %.5f s (%.2f GB/s)\n", floor_s, (double)n * n * 8 / floor_s / 1e9);
    printf("one fused pass (row + column sums): %.5f s = %.2f x floor\n", pass_s, pass_s / floor_s);
    printf("one solver iteration (long run, incl. O(N) work and Anderson step): %.5f s = %.2f x floor\n", iter_s,
           iter_s / floor_s);
    (void)sink;
    cs_eq_change_free(c);
    cs_eq_state_free(s0), cs_eq_state_free(s1);
    cs_eq_model_free(m);
    cs_matrix_free(tau);
    free(x), free(g);
    return 0;
}

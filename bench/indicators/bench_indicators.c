/* bench_indicators.c: market access and doubly-constrained balancing on a synthetic 10,000-city system.
 * Build and run: see bench/README.md (indicator benchmarks). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "citysys/citysys.h"
#include "citysys/access.h"
#include "citysys/gravity.h"
#include "citysys/agglomerate.h"
#include <omp.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static uint64_t rs = 1;
static double urand(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 10000;
    const char *what = argc > 2 ? argv[2] : "all"; /* all, access or gravity */
    double *lon = malloc(n * sizeof *lon), *lat = malloc(n * sizeof *lat), *pop = malloc(n * sizeof *pop);
    for (size_t i = 0; i < n; i++) {
        lon[i] = -17 + 68 * urand(), lat[i] = -34 + 70 * urand();
        pop[i] = 1e4 * pow(1 - urand(), -1 / 1.1); /* Pareto sizes */
    }
    cs_matrix *c;
    if (cs_matrix_new(n, n, CS_MATRIX_TIME, &c)) return 1;
    snprintf(c->unit, sizeof c->unit, "s");
    /* travel time: great-circle km at 60 km/h * detour 1.3, in seconds; 1 % of pairs unreachable */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            c->v[i * n + j] = (i != j && urand() < 0.01) ? INFINITY
                                                         : cs_haversine_km(lon[i], lat[i], lon[j], lat[j]) * 1.3 * 60;
    printf("n = %zu cities, %d OpenMP threads max\n", n, omp_get_max_threads());
    double thetas[2] = {3.8, 1.0};
    for (int k = 0; k < 2 && strcmp(what, "gravity"); k++) {
        cs_access_opts o;
        cs_access_opts_default(&o);
        o.theta = &thetas[k], o.ntheta = 1, o.nthresh = 0, o.harris = 0, o.scale = 1.0 / 60;
        cs_access_result *r;
        double t0 = now();
        if (cs_access_compute(c, pop, &o, &r)) return 1;
        printf("market access, one theta = %g: %.3f s (MA[0] = %.6g)\n", thetas[k], now() - t0, r->v[0]);
        cs_access_result_free(r);
    }
    if (strcmp(what, "gravity")) {
        cs_access_opts o;
        cs_access_opts_default(&o);
        o.scale = 1.0 / 60;
        cs_access_result *r;
        double t0 = now();
        if (cs_access_compute(c, pop, &o, &r)) return 1;
        printf("market access, defaults (5 theta, 4 thresholds, Harris): %.3f s\n", now() - t0);
        cs_access_result_free(r);
    }
    if (!strcmp(what, "access")) return 0;
    double *D = malloc(n * sizeof *D);
    double so = 0, sd = 0;
    for (size_t i = 0; i < n; i++) so += pop[i];
    for (size_t i = 0; i < n; i++) D[i] = pop[(i * 7919) % n], sd += D[i];
    for (size_t i = 0; i < n; i++) D[i] *= so / sd;
    cs_gravity_opts g;
    cs_gravity_opts_default(&g);
    g.kind = CS_GRAVITY_DOUBLY;
    g.decay = CS_DECAY_POWER;
    g.beta = 1.0;
    g.c_min = 600;
    g.tol = 1e-6;
    cs_matrix *T;
    cs_gravity_info info;
    double t0 = now();
    cs_status st = cs_gravity_predict(c, pop, D, &g, &T, NULL, NULL, &info);
    printf("doubly constrained (power beta 1, tol 1e-6): %.3f s, status %d, %d iterations, max rel err O %.3g D %.3g\n",
           now() - t0, st, info.iterations, info.max_rel_err_o, info.max_rel_err_d);
    cs_matrix_free(T);
    double hrs[2] = {8, 2};
    for (int k = 0; k < 2; k++) {
        g.decay = CS_DECAY_EXPONENTIAL;
        g.beta = 1.0 / (hrs[k] * 3600);
        g.max_iter = 300;
        t0 = now();
        st = cs_gravity_predict(c, pop, D, &g, &T, NULL, NULL, &info);
        printf("doubly constrained (exp, 1/beta = %g h, tol 1e-6, max 300 it): %.3f s, status %d, %d iterations, "
               "max rel err O %.3g D %.3g\n",
               hrs[k], now() - t0, st, info.iterations, info.max_rel_err_o, info.max_rel_err_d);
        cs_matrix_free(T);
    }
    cs_matrix_free(c);
    free(lon), free(lat), free(pop), free(D);
    return 0;
}

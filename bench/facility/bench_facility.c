/* bench_facility.c: facility-location benchmarks (built as a ctest with labels bench;slow).
 *   bench_facility large N P [SEED [LAGR_ITERS]]   heuristic p-median on N random cities (great-circle time proxy):
 *                                     1 start vs best of 10 starts, Lagrangian bound
 *   bench_facility orlib FILE OPT     heuristic (10 starts) and Lagrangian bound on one OR-Library file;
 *                                     prints one markdown table row
 *   bench_facility exact FILE OPT     exact method on one OR-Library file, timed */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "citysys/citysys.h"
#include "citysys/facility.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rs;
static double urand(void)
{
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rs >> 11) / 9007199254740992.0;
}

static int large(size_t n, size_t p, uint64_t seed, int lag_iters)
{
    rs = seed;
    cs_matrix *M = NULL;
    if (cs_matrix_new(n, n, CS_MATRIX_TIME, &M)) return 1;
    double *lon = malloc(n * sizeof *lon), *lat = malloc(n * sizeof *lat), *w = malloc(n * sizeof *w);
    /* cities in a 10 x 10 degree box around (30E, 0N); population log-uniform 20k..2M */
    for (size_t i = 0; i < n; i++) {
        lon[i] = 25 + 10 * urand();
        lat[i] = -5 + 10 * urand();
        w[i] = round(20000 * exp(urand() * log(100.0)));
    }
    /* time proxy: great-circle distance x 1.3 detour at 60 km/h, seconds */
    const double R = 6371008.8, deg = M_PI / 180;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double dl = (lat[j] - lat[i]) * deg, dn = (lon[j] - lon[i]) * deg;
            double a = sin(dl / 2) * sin(dl / 2) + cos(lat[i] * deg) * cos(lat[j] * deg) * sin(dn / 2) * sin(dn / 2);
            double d = 2 * R * asin(fmin(1.0, sqrt(a)));
            M->v[i * n + j] = d * 1.3 / (60000.0 / 3600.0);
        }
    cs_fac_problem pr = {0};
    pr.model = CS_FAC_PMEDIAN;
    pr.cost = M;
    pr.weight = w;
    pr.p = p;
    cs_fac_options o;
    cs_fac_options_default(&o);
    o.method = CS_FAC_HEURISTIC;
    o.lagrangian_iters = 0;
    o.seed = seed;
    cs_fac_solution *one = NULL, *ten = NULL;
    o.starts = 1;
    double t0 = now();
    if (cs_fac_solve(&pr, &o, &one)) return fprintf(stderr, "%s\n", cs_error_last()->message), 1;
    double t1 = now() - t0;
    o.starts = 10;
    t0 = now();
    if (cs_fac_solve(&pr, &o, &ten)) return fprintf(stderr, "%s\n", cs_error_last()->message), 1;
    double t10 = now() - t0;
    double lb = NAN;
    t0 = now();
    cs_fac_pmedian_lagrangian(&pr, ten->objective, lag_iters, &lb);
    double tl = now() - t0;
    double rel = (one->objective - ten->objective) / ten->objective;
    printf("p-median heuristic, N=%zu cities, p=%zu, seed %llu (great-circle x1.3 at 60 km/h, weights = population)\n",
           n, p, (unsigned long long)seed);
    printf("  1 start  : %.6e person-s  %.2f s  (%.4f%% above best of 10)\n", one->objective, t1, 100 * rel);
    printf("  10 starts: %.6e person-s  %.2f s  [%s]\n", ten->objective, t10, ten->message);
    printf("  Lagrangian bound (%d subgradient iterations): %.6e, gap of the 10-start value %.3f%%, %.2f s\n", lag_iters, lb,
           100 * (ten->objective - lb) / ten->objective, tl);
    int ok = rel <= 0.01 && t1 < 30;
    printf("  requirement (1 start within 1%% of best-of-10, < 30 s): %s\n", ok ? "met" : "NOT met");
    cs_fac_solution_free(one);
    cs_fac_solution_free(ten);
    cs_matrix_free(M);
    free(lon);
    free(lat);
    free(w);
    return ok ? 0 : 1;
}

static int orlib(const char *path, double opt, int exact)
{
    cs_matrix *M = NULL;
    size_t p = 0;
    if (cs_fac_read_orlib(path, &M, &p)) return fprintf(stderr, "%s\n", cs_error_last()->message), 1;
    cs_fac_problem pr = {0};
    pr.model = CS_FAC_PMEDIAN;
    pr.cost = M;
    pr.p = p;
    cs_fac_options o;
    cs_fac_options_default(&o);
    o.method = exact ? CS_FAC_EXACT : CS_FAC_HEURISTIC;
    cs_fac_solution *s = NULL;
    double t0 = now();
    if (cs_fac_solve(&pr, &o, &s)) return fprintf(stderr, "%s\n", cs_error_last()->message), 1;
    double t = now() - t0;
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int len = (int)strcspn(name, ".");
    if (exact)
        printf("%.*s n=%zu p=%zu exact: %.0f (published %.0f) %s, %.2f s [%s]\n", len, name, M->rows, p, s->objective,
               opt, s->optimal ? "proven optimal" : "not proven", t, s->message);
    else
        printf("| %.*s | %zu | %zu | %.0f | %.0f | %.3f | %.1f | %.3f | %.2f |\n", len, name, M->rows, p, opt, s->objective,
               100 * (s->objective - opt) / opt, s->bound, 100 * s->gap, t);
    int ok = s->objective >= opt - 1e-9 && (!exact || fabs(s->objective - opt) < 1e-9);
    cs_fac_solution_free(s);
    cs_matrix_free(M);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "large"))
        return large((size_t)atol(argv[2]), (size_t)atol(argv[3]), argc > 4 ? (uint64_t)atoll(argv[4]) : 1,
                     argc > 5 ? atoi(argv[5]) : 100);
    if (argc >= 4 && !strcmp(argv[1], "orlib")) return orlib(argv[2], atof(argv[3]), 0);
    if (argc >= 4 && !strcmp(argv[1], "exact")) return orlib(argv[2], atof(argv[3]), 1);
    fprintf(stderr, "usage: bench_facility large N P [SEED] | orlib FILE OPT | exact FILE OPT\n");
    return 2;
}

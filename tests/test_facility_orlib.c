/* test_facility_orlib.c: OR-Library p-median instances against their published optima.
 * Usage: test_facility_orlib exact|exact-glpk|heuristic|relabel N [N ...]
 *   exact      the exact method must reach the published optimum (and prove it);
 *   exact-glpk same without the Lagrangian bound/reduction (GLPK alone on the radius formulation);
 *   heuristic  reports the heuristic value, its gap to the optimum and to its Lagrangian bound;
 *              checks only that the value is >= the optimum and the bound <= the optimum;
 *   relabel    vertices permuted and costs scaled by 3: the exact optimum is 3 x the published one. */
#include "test.h"
#include "citysys/facility.h"
#include <time.h>

static double published(int k)
{
    FILE *f = fopen(CS_SRC_DIR "/tests/data/facility/pmedopt.txt", "r");
    if (!f) return NAN;
    char line[256];
    double v = NAN;
    while (fgets(line, sizeof line, f)) {
        int a;
        double b;
        if (sscanf(line, "pmed%d %lf", &a, &b) == 2 && a == k) v = b;
    }
    fclose(f);
    return v;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s exact|heuristic|relabel N...\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    for (int a = 2; a < argc; a++) {
        int k = atoi(argv[a]);
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/data/facility/pmed%d.txt", CS_SRC_DIR, k);
        cs_matrix *M = NULL;
        size_t p = 0;
        CHECK_OK(cs_fac_read_orlib(path, &M, &p));
        if (!M) continue;
        double opt = published(k);
        CHECK(!isnan(opt));
        cs_fac_problem pr = {0};
        pr.model = CS_FAC_PMEDIAN;
        pr.cost = M;
        pr.p = p;
        cs_fac_options o;
        cs_fac_options_default(&o);
        double scale = 1;
        cs_matrix *R = NULL;
        if (!strcmp(mode, "relabel")) {
            /* permutation i -> (7 i + 3) mod n (7 is coprime with every n here), costs x 3 */
            size_t n = M->rows;
            CHECK_OK(cs_matrix_new(n, n, CS_MATRIX_COST, &R));
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) R->v[((7 * i + 3) % n) * n + (7 * j + 3) % n] = 3 * M->v[i * n + j];
            pr.cost = R;
            scale = 3;
            o.method = CS_FAC_EXACT;
        } else if (!strcmp(mode, "exact-glpk")) {
            o.method = CS_FAC_EXACT;
            o.lagrangian_iters = 0; /* no Lagrangian proof or reduction: GLPK on the full radius formulation */
        } else {
            o.method = !strcmp(mode, "exact") ? CS_FAC_EXACT : CS_FAC_HEURISTIC;
        }
        cs_fac_solution *s = NULL;
        double t0 = now();
        CHECK_OK(cs_fac_solve(&pr, &o, &s));
        double t = now() - t0;
        if (s) {
            if (o.method == CS_FAC_EXACT) {
                CHECK_NEAR(s->objective, scale * opt, 1e-9);
                CHECK(s->optimal);
                CHECK_NEAR(s->bound, scale * opt, 1e-6);
            } else {
                CHECK(s->objective >= opt - 1e-9);
                CHECK(isnan(s->bound) || s->bound <= opt + 1e-6);
            }
            CHECK(s->nsites == p);
            printf("pmed%d n=%zu p=%zu %s: value %.0f optimum %.0f gap-to-opt %.3f%% bound %.1f (%s) gap-to-bound %.3f%% %.2fs [%s]\n",
                   k, M->rows, p, mode, s->objective / scale, opt, 100 * (s->objective / scale - opt) / opt,
                   s->bound / scale, s->bound_kind, 100 * s->gap, t, s->message);
        }
        cs_fac_solution_free(s);
        cs_matrix_free(R);
        cs_matrix_free(M);
    }
    TEST_MAIN_END();
}

/* Unit tests for market access: a hand-worked 3-city case, brute force on a random matrix, unreachable pairs,
 * own mass, scaling, thread-count determinism. */
#include <omp.h>
#include "test.h"
#include "citysys/access.h"
#include "citysys/gravity.h"
#include "citysys/hierarchy.h"
#include "citysys/agglomerate.h"
#include "citysys/cost.h"

/* Allocation-failure loop: fail the k-th allocation (and all after it) for k = 1, 2, ... until the call
 * succeeds; every failing call must return CS_ENOMEM and leak nothing (checked under ASan). */
#define OOM_LOOP(call, on_ok)                                                                      \
    do {                                                                                           \
        for (long k_ = 1; k_ < 10000; k_++) {                                                      \
            cs_alloc_fail_after(k_, 1);                                                            \
            cs_status st_ = (call);                                                                \
            cs_alloc_fail_after(0, 0);                                                             \
            if (st_ == CS_OK) {                                                                    \
                on_ok;                                                                             \
                break;                                                                             \
            }                                                                                      \
            CHECK(st_ == CS_ENOMEM);                                                               \
            if (st_ != CS_ENOMEM) break;                                                           \
        }                                                                                          \
    } while (0)

static void test_oom(void)
{
    const size_t n = 12;
    cs_matrix *c;
    CHECK_OK(cs_matrix_new(n, n, CS_MATRIX_COST, &c));
    double P[12], lon[12], lat[12];
    for (size_t i = 0; i < n; i++) {
        P[i] = 100 + 50 * i, lon[i] = 0.01 * i, lat[i] = 0.02 * (i % 3);
        for (size_t j = 0; j < n; j++) c->v[i * n + j] = i == j ? 0 : 10 + (double)((i * 7 + j * 3) % 11) * 5;
    }
    cs_access_result *ar;
    OOM_LOOP(cs_access_compute(c, P, NULL, &ar), cs_access_result_free(ar));
    cs_matrix *T;
    OOM_LOOP(cs_gravity_predict(c, P, P, NULL, &T, NULL, NULL, NULL), cs_matrix_free(T));
    OOM_LOOP(cs_huff(c, P, 1, CS_DECAY_POWER, 2, 1, &T, NULL), cs_matrix_free(T));
    cs_matrix *y;
    CHECK_OK(cs_matrix_new(n, n, CS_MATRIX_FLOW, &y));
    for (size_t k = 0; k < n * n; k++) y->v[k] = 1 + (double)(k % 5);
    cs_ppml_result *pr;
    OOM_LOOP(cs_ppml_fit(y, c, NULL, &pr), cs_ppml_result_free(pr));
    cs_hierarchy_opts ho;
    cs_hierarchy_opts_default(&ho);
    ho.powerlaw.nboot = 3;
    ho.powerlaw.min_tail = 3;
    const char *ctry[12] = {"A", "A", "B", "B", "A", "C", "C", "A", "B", "A", "A", "C"};
    cs_hierarchy *h;
    OOM_LOOP(cs_hierarchy_compute(P, ctry, n, &ho, &h), cs_hierarchy_free(h));
    cs_agglomerates *ag;
    OOM_LOOP(cs_agglomerate(lon, lat, P, n, NULL, &ag), cs_agglomerates_free(ag));
    cs_cost_inputs in = {0};
    in.distance = c;
    in.country = ctry;
    cs_soft_link sl[1] = {{CS_SOFT_COUNTRY, "A", "B", 0.5}};
    in.soft = sl, in.nsoft = 1;
    cs_cost_params p;
    cs_cost_params_default(&p);
    p.time_weight = 0, p.dist_weight_per_km = 1;
    cs_matrix *cc;
    OOM_LOOP(cs_cost_build(&in, &p, &cc), cs_matrix_free(cc));
    OOM_LOOP(cs_cost_iceberg(c, &p, &cc), cs_matrix_free(cc));
    cs_matrix_free(y);
    cs_matrix_free(c);
}

static uint64_t rs = 3;
static double urand(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

static double col(const cs_access_result *r, const char *name, size_t i)
{
    for (size_t c = 0; c < r->ncols; c++)
        if (!strcmp(r->names[c], name)) return r->v[c * r->n + i];
    fprintf(stderr, "no column %s\n", name);
    return NAN;
}

int main(void)
{
    test_oom();
    /* hand case: 3 cities, P = (100, 200, 400), costs in minutes; c_02 = inf */
    cs_matrix *c;
    CHECK_OK(cs_matrix_new(3, 3, CS_MATRIX_COST, &c));
    double v[9] = {0, 20, INFINITY, 20, 0, 5, 40, 5, 0};
    memcpy(c->v, v, sizeof v);
    double P[3] = {100, 200, 400};
    cs_access_opts o;
    cs_access_opts_default(&o);
    double hl[1] = {20};
    o.half_life = hl, o.nhalf = 1;
    cs_access_result *r;
    CHECK_OK(cs_access_compute(c, P, &o, &r));
    CHECK(r->ncols == 5 + 1 + 4 + 1);
    CHECK(!strcmp(r->names[2], "ma_power_theta_3.8") && !strcmp(r->names[5], "ma_exp_halflife_20") &&
          !strcmp(r->names[6], "cum_within_30") && !strcmp(r->names[10], "harris_mp"));
    CHECK_NEAR(col(r, "ma_power_theta_1", 0), 200.0 / 20, 1e-15);          /* j=2 unreachable */
    CHECK_NEAR(col(r, "ma_power_theta_2", 1), 100.0 / 400 + 400.0 / 100, 1e-15); /* 5 min floored to 10 */
    CHECK_NEAR(col(r, "ma_power_theta_3.8", 2), 100 * pow(40, -3.8) + 200 * pow(10, -3.8), 1e-14);
    CHECK_NEAR(col(r, "ma_exp_halflife_20", 0), 200 * 0.5, 1e-15);
    CHECK_NEAR(col(r, "ma_exp_halflife_20", 2), 100 * 0.25 + 200 * pow(0.5, 0.25), 1e-14);
    CHECK(col(r, "cum_within_30", 2) == 200 && col(r, "cum_within_60", 2) == 300 && col(r, "cum_within_30", 0) == 200);
    CHECK_NEAR(col(r, "harris_mp", 1), 100.0 / 20 + 400.0 / 10, 1e-15);
    CHECK(r->unreachable[0] == 1 && r->unreachable[1] == 0 && r->unreachable[2] == 0);
    cs_access_result_free(r);
    /* own mass with internal cost 12 (minutes), only theta = 2 and the 30-minute threshold */
    double th[1] = {2}, T[1] = {30};
    o.theta = th, o.ntheta = 1, o.thresholds = T, o.nthresh = 1, o.nhalf = 0, o.harris = 0;
    o.own_mass = 1, o.own_cost = 12;
    CHECK_OK(cs_access_compute(c, P, &o, &r));
    CHECK_NEAR(col(r, "ma_power_theta_2", 0), 200.0 / 400 + 100.0 / 144, 1e-15);
    CHECK(col(r, "cum_within_30", 0) == 300);
    cs_access_result_free(r);
    /* scale: a seconds matrix with scale 1/60 equals the minutes matrix */
    o.own_mass = 0;
    cs_matrix *cs;
    CHECK_OK(cs_matrix_clone(c, &cs));
    for (int k = 0; k < 9; k++) cs->v[k] *= 60;
    o.scale = 1.0 / 60;
    cs_access_result *r2;
    CHECK_OK(cs_access_compute(cs, P, &o, &r2));
    o.scale = 1;
    CHECK_OK(cs_access_compute(c, P, &o, &r));
    CHECK_NEAR(r2->v[1], r->v[1], 1e-14);
    CHECK_NEAR(r2->v[3 + 2], r->v[3 + 2], 1e-14);
    cs_access_result_free(r);
    cs_access_result_free(r2);
    cs_matrix_free(cs);
    /* errors */
    P[1] = -1;
    CHECK(cs_access_compute(c, P, &o, &r) == CS_EINVAL && r == NULL);
    P[1] = 200;
    c->v[1] = -3;
    CHECK(cs_access_compute(c, P, &o, &r) == CS_EINVAL);
    cs_matrix_free(c);

    /* brute force on a random 300 x 300 matrix with 5 % unreachable cells, defaults */
    const size_t n = 300;
    CHECK_OK(cs_matrix_new(n, n, CS_MATRIX_COST, &c));
    double *m = malloc(n * sizeof *m);
    for (size_t i = 0; i < n; i++) m[i] = 1000 * urand();
    for (size_t k = 0; k < n * n; k++) c->v[k] = urand() < 0.05 ? INFINITY : 300 * urand();
    cs_access_opts_default(&o);
    omp_set_num_threads(1);
    CHECK_OK(cs_access_compute(c, m, &o, &r));
    omp_set_num_threads(2);
    CHECK_OK(cs_access_compute(c, m, &o, &r2));
    CHECK(memcmp(r->v, r2->v, r->ncols * n * sizeof(double)) == 0);
    for (size_t i = 0; i < n; i += 17) {
        double s38 = 0, s8 = 0, cum = 0, har = 0;
        uint32_t un = 0;
        for (size_t j = 0; j < n; j++) {
            if (j == i) continue;
            double x = c->v[i * n + j];
            if (isinf(x)) {
                un++;
                continue;
            }
            double xf = x < 10 ? 10 : x;
            s38 += m[j] / pow(xf, 3.8);
            s8 += m[j] / pow(xf, 8);
            har += m[j] / xf;
            if (x <= 120) cum += m[j];
        }
        CHECK_NEAR(col(r, "ma_power_theta_3.8", i), s38, 1e-12);
        CHECK_NEAR(col(r, "ma_power_theta_8", i), s8, 1e-12);
        CHECK_NEAR(col(r, "cum_within_120", i), cum, 1e-12);
        CHECK_NEAR(col(r, "harris_mp", i), har, 1e-12);
        CHECK(r->unreachable[i] == un);
    }
    cs_access_result_free(r);
    cs_access_result_free(r2);
    free(m);
    cs_matrix_free(c);
    TEST_MAIN_END();
}

/* Unit tests for the urban hierarchy: Zipf primacy identities, GI regression against statsmodels OLS,
 * CSN power-law MLE (closed form, seeded Pareto recovery, bootstrap determinism), secondary cities. */
#include <omp.h>
#include "test.h"
#include "citysys/hierarchy.h"
#include "citysys/agglomerate.h"

static uint64_t rs = 7;
static double urand(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

/* GeoNames points of Andorra (tests/data/indicators/geonames_andorra.csv); pairwise distances checked by hand with
 * an independent haversine (python): les Escaldes - Andorra la Vella 1.0712 km, Ordino - la Massana 1.9555 km,
 * la Massana - Arinsal 3.9003 km, Encamp - Canillo 3.9226 km, every other pair > 4.3 km. */
static void test_agglomerate(void)
{
    FILE *f = fopen(CS_SRC_DIR "/tests/data/indicators/geonames_andorra.csv", "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[512], names[16][64];
    double lat[16], lon[16], pop[16];
    size_t n = 0;
    CHECK(fgets(line, sizeof line, f) != NULL);
    while (n < 16 && fgets(line, sizeof line, f)) {
        long id;
        char cc[8], a1[8], fc[16];
        if (sscanf(line, "%ld,%63[^,],%7[^,],%7[^,],%lf,%lf,%lf,%15s", &id, names[n], cc, a1, &lat[n], &lon[n], &pop[n],
                   fc) == 8)
            n++;
    }
    fclose(f);
    CHECK(n == 10);
    size_t alv = 9, esc = 4;
    CHECK(!strcmp(names[alv], "Andorra la Vella") && !strcmp(names[esc], "les Escaldes"));
    CHECK_NEAR(cs_haversine_km(lon[alv], lat[alv], lon[esc], lat[esc]), 1.0712, 1e-4);
    cs_agglo_opts o;
    cs_agglo_opts_default(&o);
    cs_agglomerates *a;
    o.max_km = 1.5;
    CHECK_OK(cs_agglomerate(lon, lat, pop, n, &o, &a));
    CHECK(a->n == 9);
    uint32_t k = a->of_point[alv];
    CHECK(a->of_point[esc] == k && a->largest[k] == alv);
    CHECK(a->population[k] == 20430 + 15853);
    CHECK(a->first[k + 1] - a->first[k] == 2 && a->members[a->first[k]] == esc && a->members[a->first[k] + 1] == alv);
    CHECK(a->lon[k] == lon[alv] && a->lat[k] == lat[alv]);
    cs_agglomerates_free(a);
    o.position = CS_AGGLO_POS_CENTROID;
    CHECK_OK(cs_agglomerate(lon, lat, pop, n, &o, &a));
    k = a->of_point[alv];
    CHECK_NEAR(a->lat[k], (20430 * lat[alv] + 15853 * lat[esc]) / 36283, 1e-7);
    CHECK_NEAR(a->lon[k], (20430 * lon[alv] + 15853 * lon[esc]) / 36283, 1e-7);
    cs_agglomerates_free(a);
    o.max_km = 1.0; /* below 1.0712 km: nothing merges */
    CHECK_OK(cs_agglomerate(lon, lat, pop, n, &o, &a));
    CHECK(a->n == 10);
    cs_agglomerates_free(a);
    o.max_km = 4.0; /* chains: {AlV, Esc}, {Ordino, la Massana, Arinsal}, {Encamp, Canillo} + 3 singletons */
    o.position = CS_AGGLO_POS_LARGEST;
    CHECK_OK(cs_agglomerate(lon, lat, pop, n, &o, &a));
    CHECK(a->n == 6);
    k = a->of_point[3]; /* Ordino */
    CHECK(a->of_point[5] == k && a->of_point[8] == k && !strcmp(names[a->largest[k]], "la Massana"));
    CHECK(a->population[k] == 3066 + 7211 + 1419);
    cs_agglomerates_free(a);
    /* time rule on a 4-point matrix: min(t_ij, t_ji) <= 600 links 0-1 (one direction fast), 2-3 unreachable */
    cs_matrix *t;
    CHECK_OK(cs_matrix_new(4, 4, CS_MATRIX_TIME, &t));
    for (size_t q = 0; q < 16; q++) t->v[q] = 5000;
    for (size_t q = 0; q < 4; q++) t->v[q * 5] = 0;
    t->v[0 * 4 + 1] = 900, t->v[1 * 4 + 0] = 500;
    t->v[2 * 4 + 3] = INFINITY, t->v[3 * 4 + 2] = NAN;
    double p4[4] = {1, 2, 3, 4};
    o.rule = CS_AGGLO_TIME;
    o.time = t;
    o.max_time = 600;
    CHECK_OK(cs_agglomerate(NULL, NULL, p4, 4, &o, &a));
    CHECK(a->n == 3 && a->of_point[0] == 0 && a->of_point[1] == 0 && a->of_point[2] == 1 && a->of_point[3] == 2);
    CHECK(a->largest[0] == 1 && a->population[0] == 3 && isnan(a->lon[0]));
    cs_agglomerates_free(a);
    cs_matrix_free(t);
}

int main(void)
{
    test_agglomerate();
    /* exact Zipf sizes P_k = P_1/k: primacy 2, 1/(1/2+1/3+1/4) = 12/13, 2/(1/2+...+1/11) */
    double z[30];
    for (int k = 0; k < 30; k++) z[29 - k] = 1e6 / (k + 1); /* any order */
    cs_primacy p;
    CHECK_OK(cs_primacy_compute(z, 30, &p));
    CHECK_NEAR(p.primacy_2, 2.0, 1e-14);
    CHECK_NEAR(p.primacy_4, 12.0 / 13.0, 1e-14);
    CHECK_NEAR(p.primacy_4, 0.923, 1e-3);
    double h = 0;
    for (int k = 2; k <= 11; k++) h += 1.0 / k;
    CHECK_NEAR(p.primacy_11, 2.0 / h, 1e-14);
    CHECK(fabs(p.primacy_11 - 1) < 0.011);
    double tot = 0, hh = 0;
    for (int k = 1; k <= 30; k++) tot += 1.0 / k;
    for (int k = 1; k <= 30; k++) hh += (1.0 / k / tot) * (1.0 / k / tot);
    CHECK_NEAR(p.primate_share, 1.0 / tot, 1e-14);
    CHECK_NEAR(p.herfindahl, hh, 1e-14);
    /* fewer cities: undefined indices are NaN */
    CHECK_OK(cs_primacy_compute(z + 27, 3, &p));
    CHECK(!isnan(p.primacy_2) && isnan(p.primacy_4) && isnan(p.primacy_11));

    /* Gabaix–Ibragimov against statsmodels OLS of ln(rank-1/2) on ln(size) (values from python3-statsmodels 0.13.5) */
    double s[10] = {118, 900, 20, 310, 500, 200, 120, 60, 33, 7.5};
    cs_rank_size r;
    CHECK_OK(cs_rank_size_gi(s, 10, &r));
    CHECK_NEAR(r.zeta_gi, 0.5536882914133993, 1e-12);
    CHECK_NEAR(r.intercept_gi, 3.895505793376347, 1e-12);
    CHECK_NEAR(r.zeta_ols_se, 0.09425607931645816, 1e-12);
    CHECK_NEAR(r.r2_ols, 0.811797369643724, 1e-12);
    CHECK_NEAR(r.zeta_gi_se, 0.24761693158921477, 1e-12);
    s[3] = -1;
    CHECK(cs_rank_size_gi(s, 10, &r) == CS_EINVAL);

    /* CSN closed form: x = {1, e, e^2}, x_min = 1 -> alpha = 1 + 3/(0+1+2) = 2 */
    double x3[3] = {exp(2.0), 1.0, exp(1.0)};
    cs_powerlaw pl;
    CHECK_OK(cs_powerlaw_fit_xmin(x3, 3, 1.0, &pl));
    CHECK_NEAR(pl.alpha, 2.0, 1e-14);
    CHECK_NEAR(pl.zeta, 1.0, 1e-14);
    CHECK(pl.ntail == 3);
    /* KS by brute force: F(x) = 1 - x^-1 at 1, e, e^2 vs steps 1/3, 2/3, 1 */
    double F1 = 0, F2 = 1 - exp(-1.0), F3 = 1 - exp(-2.0);
    double d = fmax(fmax(fabs(1.0 / 3 - F1), fabs(F2 - 1.0 / 3)), fmax(fabs(2.0 / 3 - F2), fmax(fabs(F3 - 2.0 / 3), fabs(1 - F3))));
    CHECK_NEAR(pl.ks_d, d, 1e-14);

    /* seeded Pareto sample, alpha = 2.5, x_min = 1000, below it lognormal-ish body */
    enum { NP = 2000 };
    static double xs[NP];
    for (int k = 0; k < NP; k++) {
        if (k < 1500) xs[k] = 1000 * pow(1 - urand(), -1 / 1.5);
        else xs[k] = 100 + 900 * urand();
    }
    cs_powerlaw_opts o;
    cs_powerlaw_opts_default(&o);
    o.nboot = 0;
    CHECK_OK(cs_powerlaw_fit(xs, NP, &o, &pl));
    printf("CSN on Pareto(2.5): alpha %.4f se %.4f xmin %.1f ntail %zu D %.4f\n", pl.alpha, pl.alpha_se, pl.xmin,
           pl.ntail, pl.ks_d);
    CHECK(fabs(pl.alpha - 2.5) < 3 * pl.alpha_se);
    CHECK(pl.xmin >= 800 && pl.xmin <= 2000);
    CHECK(isnan(pl.p_value));
    /* bootstrap p-value, deterministic for any thread count */
    o.nboot = 40;
    o.seed = 11;
    omp_set_num_threads(1);
    CHECK_OK(cs_powerlaw_fit(xs, 400, &o, &pl));
    double p1 = pl.p_value;
    omp_set_num_threads(2);
    CHECK_OK(cs_powerlaw_fit(xs, 400, &o, &pl));
    CHECK(pl.p_value == p1 && p1 >= 0 && p1 <= 1);
    printf("bootstrap p (400 Pareto points, 40 replicates) = %.3f\n", p1);
    /* hierarchy per country + secondary cities (10-50 % of the largest city of the same country) */
    double pop[7] = {1000, 400, 100, 50, 600, 300, 0};
    const char *ctry[7] = {"BB", "BB", "BB", "BB", "AA", "AA", "AA"};
    cs_hierarchy_opts ho;
    cs_hierarchy_opts_default(&ho);
    ho.fit_powerlaw = 0;
    cs_hierarchy *hi;
    CHECK_OK(cs_hierarchy_compute(pop, ctry, 7, &ho, &hi));
    CHECK(hi->ngroups == 3 && !strcmp(hi->groups[0].name, "ALL") && !strcmp(hi->groups[1].name, "AA"));
    CHECK(hi->is_secondary[1] && hi->is_secondary[2] && !hi->is_secondary[3] && !hi->is_secondary[0]);
    CHECK(hi->is_secondary[5] && !hi->is_secondary[6]);
    CHECK_NEAR(hi->rel_size[3], 0.05, 1e-15);
    CHECK(hi->groups[2].n_secondary == 2 && hi->groups[1].n_secondary == 1 && hi->groups[0].n_secondary == 3);
    CHECK_NEAR(hi->groups[2].primacy.primacy_2, 2.5, 1e-15);
    CHECK_NEAR(hi->groups[2].primacy.primacy_4, 1000.0 / 550, 1e-15);
    CHECK(hi->groups[1].n_positive == 2 && isnan(hi->groups[1].rank_size.zeta_gi));
    CHECK(!isnan(hi->groups[0].rank_size.zeta_gi) && hi->groups[0].n_positive == 6);
    cs_hierarchy_free(hi);
    pop[2] = NAN;
    CHECK(cs_hierarchy_compute(pop, ctry, 7, &ho, &hi) == CS_EINVAL);
    TEST_MAIN_END();
}

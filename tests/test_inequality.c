/*
 * test_inequality.c: hand-worked cases for every index, the identities
 * (decompositions add up, equal values give 0, two-point closed forms,
 * weighted = replicated units), random cases against brute force O(n²)
 * formulas, bad values, and failure injection (no leak, clean error).
 */
#include "test.h"

static double brute_gini(const double *y, const double *w, size_t n)
{
    double W = 0, S = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1;
        W += wi;
        S += wi * y[i];
        for (size_t j = 0; j < n; j++) d += wi * (w ? w[j] : 1) * fabs(y[i] - y[j]);
    }
    return d / (2 * W * W * (S / W));
}

static double brute_ge(const double *y, const double *w, size_t n, double a)
{
    double W = 0, S = 0, acc = 0;
    for (size_t i = 0; i < n; i++) {
        W += w ? w[i] : 1;
        S += (w ? w[i] : 1) * y[i];
    }
    double mu = S / W;
    for (size_t i = 0; i < n; i++) {
        double s = (w ? w[i] : 1) / W, r = y[i] / mu;
        if (a == 1) acc += s * r * log(r);
        else if (a == 0) acc -= s * log(r);
        else acc += s * (pow(r, a) - 1) / (a * (a - 1));
    }
    return acc;
}

static uint64_t lcg = 88172645463325252ull;
static double urand(void)
{
    lcg ^= lcg << 13;
    lcg ^= lcg >> 7;
    lcg ^= lcg << 17;
    return (double)(lcg >> 11) / 9007199254740992.0;
}

static void hand_cases(void)
{
    double v;
    const double y4[] = {1, 2, 3, 4};
    CHECK_OK(cs_gini(y4, NULL, 4, CS_GINI_POPULATION, &v));
    CHECK_NEAR(v, 0.25, 1e-15); /* Σ|y_i − y_j| = 20, 2 n² μ = 80 */
    CHECK_OK(cs_gini(y4, NULL, 4, CS_GINI_SAMPLE, &v));
    CHECK_NEAR(v, 1.0 / 3, 1e-15);
    CHECK_OK(cs_ge(y4, NULL, 4, 2, &v));
    CHECK_NEAR(v, 0.1, 1e-15); /* GE(2) = CV²/2, CV² = 1.25 / 6.25 */
    CHECK_OK(cs_cv(y4, NULL, 4, CS_SD_POPULATION, &v));
    CHECK_NEAR(v, sqrt(1.25) / 2.5, 1e-15);
    CHECK_OK(cs_cv(y4, NULL, 4, CS_SD_SAMPLE, &v));
    CHECK_NEAR(v, sqrt(5.0 / 3) / 2.5, 1e-15);

    /* two-point distribution {1, 3}: closed forms */
    const double y2[] = {1, 3};
    CHECK_OK(cs_theil_t(y2, NULL, 2, &v));
    CHECK_NEAR(v, 0.5 * (0.5 * log(0.5) + 1.5 * log(1.5)), 1e-15);
    CHECK_OK(cs_theil_l(y2, NULL, 2, &v));
    CHECK_NEAR(v, 0.5 * log(4.0 / 3), 1e-15);
    CHECK_OK(cs_gini(y2, NULL, 2, CS_GINI_POPULATION, &v));
    CHECK_NEAR(v, 0.25, 1e-15); /* 2·2 / (2·4·2) */
    /* two-point with population shares: p = {3, 1}, y = {1, 5}: μ = 2, T = ¾·½ ln ½ + ¼·(5/2) ln(5/2) */
    const double ya[] = {1, 5}, pa[] = {3, 1};
    CHECK_OK(cs_theil_t(ya, pa, 2, &v));
    CHECK_NEAR(v, 0.75 * 0.5 * log(0.5) + 0.25 * 2.5 * log(2.5), 1e-15);
    CHECK_OK(cs_theil_l(ya, pa, 2, &v));
    CHECK_NEAR(v, -(0.75 * log(0.5) + 0.25 * log(2.5)), 1e-15);

    /* Atkinson on {1, 4}: ε = 1 geometric 2 / 2.5; ε = 2 harmonic 1.6 / 2.5; ε = 0 zero; ε → 0 → 0 */
    const double y14[] = {1, 4};
    CHECK_OK(cs_atkinson(y14, NULL, 2, 1, &v));
    CHECK_NEAR(v, 0.2, 1e-15);
    CHECK_OK(cs_atkinson(y14, NULL, 2, 2, &v));
    CHECK_NEAR(v, 0.36, 1e-15);
    CHECK_OK(cs_atkinson(y14, NULL, 2, 0, &v));
    CHECK(v == 0);
    CHECK_OK(cs_atkinson(y14, NULL, 2, 1e-9, &v));
    CHECK(v >= 0 && v < 1e-9);
    CHECK_OK(cs_atkinson(y14, NULL, 2, 0.5, &v));
    CHECK_NEAR(v, 1 - pow((1 + 2) / 2.0, 2) / 2.5, 1e-15);

    /* Williamson: y = {1, 3}, p = {1, 3}: ȳ = 2.5, variance = (2.25 + 3·0.25)/4 */
    const double pw[] = {1, 3};
    CHECK_OK(cs_williamson(y2, pw, 2, &v));
    CHECK_NEAR(v, sqrt(0.75) / 2.5, 1e-15);
    CHECK(cs_williamson(y2, NULL, 2, &v) == CS_EINVAL);

    /* equal values: every index is 0 */
    const double eq[] = {7, 7, 7, 7, 7};
    cs_ineq_summary s;
    cs_ineq_opts o = cs_ineq_opts_default();
    CHECK_OK(cs_ineq_summarise(eq, NULL, 5, &o, &s));
    CHECK(s.gini == 0 && s.gini_sample == 0 && s.cv == 0 && s.cv_sample == 0);
    CHECK(fabs(s.theil_t) < 1e-15 && fabs(s.theil_l) < 1e-15 && fabs(s.ge_alpha) < 1e-15 && fabs(s.atkinson) < 1e-15);
    CHECK(s.theil_t >= 0 && s.theil_l >= 0 && s.atkinson >= 0);

    /* maximal inequality: one unit has everything: Gini = (n−1)/n, sample variant = 1 */
    const double one[] = {0, 0, 0, 10};
    CHECK_OK(cs_gini(one, NULL, 4, CS_GINI_POPULATION, &v));
    CHECK_NEAR(v, 0.75, 1e-15);
    CHECK_OK(cs_gini(one, NULL, 4, CS_GINI_SAMPLE, &v));
    CHECK_NEAR(v, 1.0, 1e-15);
    /* Theil T accepts zeros (0 ln 0 = 0): T = ln n */
    CHECK_OK(cs_theil_t(one, NULL, 4, &v));
    CHECK_NEAR(v, log(4.0), 1e-15);
}

static void bad_values(void)
{
    double v;
    const double neg[] = {-1, 1, 3};
    /* Gini of values with negatives is computed with the same formula (documented: may exceed 1) */
    CHECK_OK(cs_gini(neg, NULL, 3, CS_GINI_POPULATION, &v));
    CHECK_NEAR(v, 16.0 / 18, 1e-15);
    CHECK(cs_theil_t(neg, NULL, 3, &v) == CS_EINVAL);
    CHECK(strstr(cs_error_last()->message, "row 0") && strstr(cs_error_last()->message, "negative"));
    CHECK(cs_theil_l(neg, NULL, 3, &v) == CS_EINVAL);
    CHECK(cs_atkinson(neg, NULL, 3, 0.5, &v) == CS_EINVAL);
    const double zero[] = {0, 1, 3};
    CHECK(cs_theil_l(zero, NULL, 3, &v) == CS_EINVAL);
    CHECK(strstr(cs_error_last()->message, "strictly positive") != NULL);
    CHECK(cs_ge(zero, NULL, 3, -1, &v) == CS_EINVAL);
    CHECK(cs_atkinson(zero, NULL, 3, 1, &v) == CS_EINVAL);
    CHECK_OK(cs_atkinson(zero, NULL, 3, 0.5, &v));
    CHECK_OK(cs_ge(zero, NULL, 3, 2, &v));
    /* a zero with zero population does not count */
    const double wz[] = {0, 1, 1};
    CHECK_OK(cs_theil_l(zero, wz, 3, &v));
    CHECK_NEAR(v, brute_ge(zero + 1, NULL, 2, 0), 1e-15);
    const double nanv[] = {1, NAN, 2};
    CHECK(cs_gini(nanv, NULL, 3, CS_GINI_POPULATION, &v) == CS_EINVAL);
    const double negmean[] = {-3, 1};
    CHECK(cs_gini(negmean, NULL, 2, CS_GINI_POPULATION, &v) == CS_EINVAL);
    const double y[] = {1, 2}, badw[] = {1, -1};
    CHECK(cs_gini(y, badw, 2, CS_GINI_POPULATION, &v) == CS_EINVAL);
    CHECK(cs_gini(y, NULL, 0, CS_GINI_POPULATION, &v) == CS_EINVAL);
    CHECK(cs_atkinson(y, NULL, 2, -1, &v) == CS_EINVAL);
    /* a single unit has no sample variant */
    CHECK(cs_gini(y, NULL, 1, CS_GINI_SAMPLE, &v) == CS_EINVAL);
    cs_ineq_summary s;
    CHECK(cs_ineq_summarise(y, NULL, 1, NULL, &s) == CS_EINVAL);
    /* empty group */
    const uint32_t g[] = {0, 2};
    cs_ge_decomp *d = (cs_ge_decomp *)1;
    CHECK(cs_ge_decompose(y, NULL, 2, g, 3, 1.0, &d) == CS_EINVAL && d == NULL);
    CHECK(strstr(cs_error_last()->message, "group 1 has no members") != NULL);
    cs_gini_decomp *gd = (cs_gini_decomp *)1;
    CHECK(cs_gini_decompose(y, NULL, 2, g, 3, &gd) == CS_EINVAL && gd == NULL);
    CHECK(cs_gini_decompose(y, NULL, 2, g, 2, &gd) == CS_EINVAL); /* id 2 out of range */
}

static void weighted_equals_replicated(void)
{
    /* unit i with population w_i (integer) = w_i persons with value y_i */
    const double y[] = {3, 1, 5, 2, 8}, w[] = {2, 1, 3, 4, 1};
    double rep[11];
    size_t m = 0;
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < (int)w[i]; k++) rep[m++] = y[i];
    cs_ineq_summary a, b;
    cs_ineq_opts o = {.alpha = 3, .epsilon = 1.5};
    CHECK_OK(cs_ineq_summarise(y, w, 5, &o, &a));
    CHECK_OK(cs_ineq_summarise(rep, NULL, m, &o, &b));
    CHECK_NEAR(a.gini, b.gini, 1e-14);
    CHECK_NEAR(a.theil_t, b.theil_t, 1e-14);
    CHECK_NEAR(a.theil_l, b.theil_l, 1e-14);
    CHECK_NEAR(a.ge_alpha, b.ge_alpha, 1e-14);
    CHECK_NEAR(a.atkinson, b.atkinson, 1e-14);
    CHECK_NEAR(a.cv, b.cv, 1e-14);
    CHECK_NEAR(a.mean, b.mean, 1e-14);
    double wil;
    CHECK_OK(cs_williamson(y, w, 5, &wil));
    CHECK_NEAR(wil, a.cv, 1e-14);
    /* scale invariance */
    double y10[5];
    for (int i = 0; i < 5; i++) y10[i] = 10 * y[i];
    CHECK_OK(cs_ineq_summarise(y10, w, 5, &o, &b));
    CHECK_NEAR(a.gini, b.gini, 1e-14);
    CHECK_NEAR(a.theil_t, b.theil_t, 1e-14);
    CHECK_NEAR(a.atkinson, b.atkinson, 1e-14);
}

static void random_cases(void)
{
    const double alphas[] = {-1, 0, 0.5, 1, 2, 3};
    for (int rep = 0; rep < 60; rep++) {
        size_t n = 2 + (size_t)(urand() * 60);
        size_t ng = 1 + (size_t)(urand() * 5);
        if (ng > n) ng = n;
        double *y = malloc(n * sizeof *y), *w = malloc(n * sizeof *w);
        uint32_t *g = malloc(n * sizeof *g);
        for (size_t i = 0; i < n; i++) {
            y[i] = urand() < 0.2 ? floor(urand() * 4) + 1 : exp(3 * urand()); /* ties */
            w[i] = rep % 2 ? 0.5 + 10 * urand() : 1.0;
            g[i] = (uint32_t)(i < ng ? i : (size_t)(urand() * ng));
        }
        const double *wp = rep % 2 ? w : NULL;
        double v;
        CHECK_OK(cs_gini(y, wp, n, CS_GINI_POPULATION, &v));
        CHECK_NEAR(v, brute_gini(y, wp, n), 1e-12);
        for (int a = 0; a < 6; a++) {
            CHECK_OK(cs_ge(y, wp, n, alphas[a], &v));
            CHECK_NEAR(v, brute_ge(y, wp, n, alphas[a]), 1e-11);
            cs_ge_decomp *d;
            CHECK_OK(cs_ge_decompose(y, wp, n, g, ng, alphas[a], &d));
            if (!d) continue;
            CHECK_NEAR(d->between + d->within, d->total, 1e-12);
            CHECK_NEAR(d->total, v, 1e-12);
            /* between = GE of the distribution with every person at their group mean */
            double *ym = malloc(n * sizeof *ym);
            for (size_t i = 0; i < n; i++) ym[i] = d->group_mean[g[i]];
            double b;
            CHECK_OK(cs_ge(ym, wp, n, alphas[a], &b));
            CHECK_NEAR(d->between, b, 1e-12);
            /* group indices = GE inside the group */
            for (size_t k = 0; k < ng; k++) {
                size_t m = 0;
                for (size_t i = 0; i < n; i++)
                    if (g[i] == k) {
                        ym[m] = y[i];
                        m++;
                    }
                double *wm = malloc(m * sizeof *wm);
                m = 0;
                for (size_t i = 0; i < n; i++)
                    if (g[i] == k) wm[m++] = wp ? wp[i] : 1.0;
                CHECK_NEAR(d->group_index[k], brute_ge(ym, wm, m, alphas[a]), 1e-11);
                free(wm);
            }
            free(ym);
            cs_ge_decomp_free(d);
        }
        cs_gini_decomp *gd;
        CHECK_OK(cs_gini_decompose(y, wp, n, g, ng, &gd));
        if (gd) {
            CHECK_NEAR(gd->within + gd->between_net + gd->overlap, gd->total, 1e-12);
            CHECK_NEAR(gd->total, brute_gini(y, wp, n), 1e-12);
            /* brute force: within = Σ_g Σ_{i,r∈g} w w |Δ| / (2W²μ); net = Σ_{j<h} 2 W_j W_h |μ_j − μ_h| / (2W²μ) */
            double W = 0, S = 0, within = 0, net = 0;
            for (size_t i = 0; i < n; i++) {
                W += wp ? wp[i] : 1;
                S += (wp ? wp[i] : 1) * y[i];
            }
            for (size_t i = 0; i < n; i++)
                for (size_t r = 0; r < n; r++)
                    if (g[i] == g[r]) within += (wp ? wp[i] * wp[r] : 1) * fabs(y[i] - y[r]);
            for (size_t j = 0; j < ng; j++)
                for (size_t h = j + 1; h < ng; h++)
                    net += 2 * gd->group_weight[j] * gd->group_weight[h] * fabs(gd->group_mean[j] - gd->group_mean[h]);
            CHECK_NEAR(gd->within, within / (2 * W * S), 1e-12);
            CHECK_NEAR(gd->between_net, net / (2 * W * S), 1e-12);
            CHECK(gd->overlap >= -1e-15);
            double sw = 0;
            for (size_t k = 0; k < ng; k++) sw += gd->group_within[k];
            CHECK_NEAR(sw, gd->within, 1e-12);
            cs_gini_decomp_free(gd);
        }
        free(y);
        free(w);
        free(g);
    }
}

static void groups_labels(void)
{
    {
        const double y[] = {1, 2, 3, 10, 4, 0}, w[] = {1, 2, 1, 1, 1, 1};
        const uint32_t g[] = {0, 0, 0, 1, 2, 2};
        cs_ineq_summary s[4], d;
        cs_status st[4];
        CHECK_OK(cs_ineq_summarise_groups(y, w, 6, g, 4, NULL, s, st));
        CHECK(st[0] == CS_OK && st[1] == CS_EINVAL && st[2] == CS_EINVAL && st[3] == CS_EINVAL);
        CHECK_OK(cs_ineq_summarise(y, w, 3, NULL, &d));
        CHECK(s[0].gini == d.gini && s[0].theil_l == d.theil_l && s[0].n == 3);
        cs_ineq_opts o = cs_ineq_opts_default();
        o.omit_undefined = 1;
        CHECK_OK(cs_ineq_summarise_groups(y, w, 6, g, 3, &o, s, st));
        CHECK(st[2] == CS_OK && s[2].defined == (CS_INEQ_THEIL_T | CS_INEQ_GE_ALPHA) && isnan(s[2].theil_l));
        CHECK_NEAR(s[2].gini, 0.5, 1e-15); /* {4, 0}: 2·4 / (2·4·2) */
    }
    const char *lab[] = {"MEX", "USA", "MEX", "", "USA"};
    uint32_t *g;
    char **names;
    size_t ng;
    CHECK_OK(cs_groups_from_labels(lab, 5, &g, &names, &ng));
    CHECK(ng == 3 && g[0] == 0 && g[1] == 1 && g[2] == 0 && g[3] == 2 && g[4] == 1);
    CHECK(!strcmp(names[0], "MEX") && !strcmp(names[2], ""));
    cs_free(g);
    cs_groups_names_free(names, ng);
}

static void panels(void)
{
    /* quantile classes of 1..10 into 5: bounds 2.8, 4.6, 6.4, 8.2, 10 (linear interpolation) */
    double y[10];
    for (int i = 0; i < 10; i++) y[i] = i + 1;
    uint32_t c[10];
    size_t nc;
    CHECK_OK(cs_quantile_classes(y, 10, 5, c, &nc));
    CHECK(nc == 5);
    const uint32_t want[] = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4};
    CHECK(!memcmp(c, want, sizeof want));
    /* ties collapse bounds (mapclassify drops duplicates) */
    const double t[] = {1, 1, 1, 1, 1, 1, 1, 1, 2, 3};
    CHECK_OK(cs_quantile_classes(t, 10, 5, c, &nc));
    CHECK(nc < 5 && c[0] == 0);
    /* two-state chain: steady state (b/(a+b), a/(a+b)) */
    const double p[] = {0.9, 0.1, 0.3, 0.7};
    double pi[2];
    int u;
    CHECK_OK(cs_markov_steady_state(p, 2, pi, &u));
    CHECK(u);
    CHECK_NEAR(pi[0], 0.75, 1e-14);
    CHECK_NEAR(pi[1], 0.25, 1e-14);
    /* reducible chain (two absorbing states): not unique */
    const double pr[] = {1, 0, 0, 0, 1, 0, 0.5, 0.5, 0};
    double pi3[3];
    CHECK_OK(cs_markov_steady_state(pr, 3, pi3, &u));
    CHECK(!u && pi3[0] == 0);
    /* counts from class sequences: unit 0: 0→1→1, unit 1: 1→0→0 */
    const uint32_t cls[] = {0, 1, 1, 1, 0, 0};
    cs_markov *m;
    CHECK_OK(cs_markov_from_classes(cls, 2, 3, 2, &m));
    CHECK(m->counts[0] == 1 && m->counts[1] == 1 && m->counts[2] == 1 && m->counts[3] == 1);
    CHECK(m->p[0] == 0.5 && m->steady_state_unique && fabs(m->steady_state[0] - 0.5) < 1e-14);
    cs_markov_free(m);
    const uint32_t bad[] = {0, 5};
    CHECK(cs_markov_from_classes(bad, 1, 2, 2, &m) == CS_EINVAL && m == NULL);

    /* β-convergence on exact data: g = 0.05 − 0.01 ln y0 */
    double y0[6], yT[6];
    for (int i = 0; i < 6; i++) {
        y0[i] = 100 * (i + 1);
        double gr = 0.05 - 0.01 * log(y0[i]);
        yT[i] = y0[i] * exp(gr * 20);
    }
    cs_beta_result b;
    CHECK_OK(cs_beta_convergence(y0, yT, 6, 20, &b));
    CHECK_NEAR(b.beta, -0.01, 1e-12);
    CHECK_NEAR(b.alpha, 0.05, 1e-11);
    CHECK(b.se_beta < 1e-12 && fabs(b.r2 - 1) < 1e-12);
    CHECK_NEAR(b.speed, -log(1 - 0.2) / 20, 1e-12);
    CHECK_NEAR(b.half_life, log(2) / (-log(0.8) / 20), 1e-9);
    /* overshooting: β = −0.1 over 20 years gives 1 + βT = −1 <= 0, the implied speed is undefined */
    for (int i = 0; i < 6; i++) yT[i] = y0[i] * exp((0.5 - 0.1 * log(y0[i])) * 20);
    CHECK_OK(cs_beta_convergence(y0, yT, 6, 20, &b));
    CHECK(!b.speed_defined && isinf(b.speed));
    y0[2] = 0;
    CHECK(cs_beta_convergence(y0, yT, 6, 20, &b) == CS_EINVAL);

    /* σ-convergence: two periods, hand values */
    const double pan[] = {1, 2, 3, 2}; /* unit 0: 1 → 2, unit 1: 3 → 2 */
    double cv[2], sdl[2];
    CHECK_OK(cs_sigma_convergence(pan, NULL, 2, 2, cv, sdl));
    CHECK_NEAR(cv[0], 0.5, 1e-15);
    CHECK_NEAR(cv[1], 0, 1e-15);
    CHECK_NEAR(sdl[0], log(3) / 2, 1e-15);
}

static void failure_injection(void)
{
    const double y[] = {1, 2, 3, 4, 5, 6}, w[] = {1, 2, 1, 2, 1, 2};
    const uint32_t g[] = {0, 1, 0, 1, 2, 2};
    int fails = 0;
    for (long k = 1; k < 40; k++) {
        cs_alloc_fail_after(k, 0);
        cs_ge_decomp *d = NULL;
        cs_gini_decomp *gd = NULL;
        cs_status s1 = cs_ge_decompose(y, w, 6, g, 3, 0.5, &d);
        cs_alloc_fail_after(k, 0);
        cs_status s2 = cs_gini_decompose(y, w, 6, g, 3, &gd);
        cs_alloc_fail_after(0, 0);
        if (s1) {
            CHECK(s1 == CS_ENOMEM && d == NULL);
            fails++;
        }
        if (s2) CHECK(s2 == CS_ENOMEM && gd == NULL);
        cs_ge_decomp_free(d);
        cs_gini_decomp_free(gd);
    }
    CHECK(fails > 0);
}

int main(void)
{
    hand_cases();
    bad_values();
    weighted_equals_replicated();
    random_cases();
    groups_labels();
    panels();
    failure_injection();
    TEST_MAIN_END();
}

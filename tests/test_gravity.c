/* Unit tests for gravity prediction (margins, closed forms), Huff probabilities and PPML estimation
 * (exact recovery, seeded noisy recovery, statsmodels oracle on the African trade table). */
#include <omp.h>
#include "test.h"
#include "citysys/gravity.h"

static uint64_t rng_state = 42;
static double urand(void) /* splitmix64 -> [0,1) */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}
static double nrand(void)
{
    double u = urand(), v = urand();
    return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

static cs_matrix *random_cost(size_t n, double lo, double hi)
{
    cs_matrix *c = NULL;
    CHECK_OK(cs_matrix_new(n, n, CS_MATRIX_COST, &c));
    for (size_t i = 0; i < n * n; i++) c->v[i] = lo + (hi - lo) * urand();
    for (size_t i = 0; i < n; i++) c->v[i * n + i] = 0;
    return c;
}

#define N 40
static void test_predict(void)
{
    cs_matrix *c = random_cost(N, 5, 500);
    c->v[3 * N + 7] = INFINITY; /* one unreachable pair */
    double O[N], D[N], so = 0, sd = 0;
    for (size_t i = 0; i < N; i++) O[i] = 1 + 1000 * urand(), so += O[i];
    for (size_t i = 0; i < N; i++) D[i] = 1 + 1000 * urand(), sd += D[i];
    for (size_t i = 0; i < N; i++) D[i] *= so / sd;
    cs_gravity_opts o;
    cs_gravity_opts_default(&o);
    o.beta = 1.7;
    cs_matrix *T;
    cs_gravity_info info;

    /* unconstrained: brute force k O_i D_j c^-beta */
    o.kind = CS_GRAVITY_UNCONSTRAINED;
    o.k = 0.5;
    CHECK_OK(cs_gravity_predict(c, O, D, &o, &T, NULL, NULL, &info));
    CHECK_NEAR(T->v[1 * N + 2], 0.5 * O[1] * D[2] * pow(c->v[1 * N + 2], -1.7), 1e-14);
    CHECK(T->v[5 * N + 5] == 0 && T->v[3 * N + 7] == 0);
    cs_matrix_free(T);

    /* production constrained: rows sum to O, within a row T ∝ D_j f_ij */
    o.kind = CS_GRAVITY_PRODUCTION;
    o.decay = CS_DECAY_EXPONENTIAL;
    o.beta = 0.01;
    CHECK_OK(cs_gravity_predict(c, O, D, &o, &T, NULL, NULL, &info));
    for (size_t i = 0; i < N; i += 7) {
        double s = 0;
        for (size_t j = 0; j < N; j++) s += T->v[i * N + j];
        CHECK_NEAR(s, O[i], 1e-12);
    }
    CHECK_NEAR(T->v[2 * N + 4] / T->v[2 * N + 9], D[4] * exp(-0.01 * c->v[2 * N + 4]) / (D[9] * exp(-0.01 * c->v[2 * N + 9])),
               1e-12);
    CHECK(info.max_rel_err_o < 1e-12 && isnan(info.max_rel_err_d));
    cs_matrix_free(T);

    /* attraction constrained: columns sum to D */
    o.kind = CS_GRAVITY_ATTRACTION;
    CHECK_OK(cs_gravity_predict(c, O, D, &o, &T, NULL, NULL, &info));
    for (size_t j = 0; j < N; j += 5) {
        double s = 0;
        for (size_t i = 0; i < N; i++) s += T->v[i * N + j];
        CHECK_NEAR(s, D[j], 1e-12);
    }
    cs_matrix_free(T);

    /* doubly constrained: both margins to the tolerance, and T_ij = a_i b_j f_ij (cross-ratio identity) */
    o.kind = CS_GRAVITY_DOUBLY;
    o.decay = CS_DECAY_POWER;
    o.beta = 2.0;
    o.tol = 1e-9;
    double A[N], B[N];
    omp_set_num_threads(1);
    CHECK_OK(cs_gravity_predict(c, O, D, &o, &T, A, B, &info));
    CHECK(info.converged && info.iterations > 1);
    CHECK(info.max_rel_err_o <= 1e-9 && info.max_rel_err_d <= 1e-9);
    for (size_t i = 0; i < N; i++) {
        double s = 0, t = 0;
        for (size_t j = 0; j < N; j++) s += T->v[i * N + j], t += T->v[j * N + i];
        CHECK_NEAR(s, O[i], 2e-9);
        CHECK_NEAR(t, D[i], 2e-9);
    }
    {
        size_t i = 1, k = 6, j = 2, l = 11;
        double f_ij = pow(c->v[i * N + j], -2), f_kl = pow(c->v[k * N + l], -2), f_il = pow(c->v[i * N + l], -2),
               f_kj = pow(c->v[k * N + j], -2);
        CHECK_NEAR(T->v[i * N + j] * T->v[k * N + l] / (T->v[i * N + l] * T->v[k * N + j]),
                   f_ij * f_kl / (f_il * f_kj), 1e-12);
    }
    /* bitwise identical with 2 threads */
    omp_set_num_threads(2);
    cs_matrix *T2;
    CHECK_OK(cs_gravity_predict(c, O, D, &o, &T2, NULL, NULL, NULL));
    CHECK(memcmp(T->v, T2->v, N * N * sizeof(double)) == 0);
    cs_matrix_free(T2);
    cs_matrix_free(T);

    /* unequal totals refused */
    double D2[N];
    memcpy(D2, D, sizeof D2);
    D2[0] *= 2;
    CHECK(cs_gravity_predict(c, O, D2, &o, &T, NULL, NULL, NULL) == CS_EINVAL && T == NULL);
    cs_matrix_free(c);

    /* infeasible margins (structural zero): origin 0 reaches only destination 0, whose total is smaller */
    cs_matrix *c2;
    CHECK_OK(cs_matrix_new(2, 2, CS_MATRIX_COST, &c2));
    c2->v[0] = 1, c2->v[1] = INFINITY, c2->v[2] = 1, c2->v[3] = 1;
    double O2[2] = {1, 1}, D3[2] = {0.5, 1.5};
    o.include_diagonal = 1;
    o.max_iter = 50;
    o.tol = 1e-6;
    CHECK(cs_gravity_predict(c2, O2, D3, &o, &T, NULL, NULL, &info) == CS_ECONVERGE && T == NULL);
    CHECK(info.iterations == 50 && info.max_rel_err_o > 1e-6 && !info.converged);
    CHECK(strstr(cs_error_last()->message, "did not reach") != NULL);
    /* no reachable destination at all */
    c2->v[0] = INFINITY;
    CHECK(cs_gravity_predict(c2, O2, D3, &o, &T, NULL, NULL, &info) == CS_EINFEASIBLE);

    /* Huff: hand case, two centres W = (1, 4), alpha 1, power beta 2, costs 1 and 2 -> 1/(1+1) each */
    cs_matrix *P;
    size_t uns;
    c2->v[0] = 1, c2->v[1] = 2, c2->v[2] = INFINITY, c2->v[3] = INFINITY;
    double W[2] = {1, 4};
    CHECK_OK(cs_huff(c2, W, 1.0, CS_DECAY_POWER, 2.0, 0.0, &P, &uns));
    CHECK_NEAR(P->v[0], 0.5, 1e-15);
    CHECK_NEAR(P->v[1], 0.5, 1e-15);
    CHECK(isnan(P->v[2]) && uns == 1);
    cs_matrix_free(P);
    cs_matrix_free(c2);
}

/* Flows from a known FE model: exact (y = μ) and noisy (multiplicative lognormal noise, 10 % zeros; E y = μ). */
static void test_ppml_recovery(void)
{
    const size_t n = 30;
    cs_matrix *c = random_cost(n, 10, 1000), *y;
    CHECK_OK(cs_matrix_new(n, n, CS_MATRIX_FLOW, &y));
    double a[30], b[30];
    for (size_t i = 0; i < n; i++) a[i] = 3 * urand(), b[i] = 3 * urand();
    const double beta = -1.2, k0 = 8.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            y->v[i * n + j] = i == j ? NAN : exp(k0 + a[i] - a[0] + b[j] - b[0] + beta * log(c->v[i * n + j]));
    cs_ppml_opts o;
    cs_ppml_opts_default(&o);
    cs_ppml_result *r;
    CHECK_OK(cs_ppml_fit(y, c, &o, &r));
    CHECK_NEAR(r->cost_coef, beta, 1e-9);
    CHECK_NEAR(r->coef[0], k0, 1e-9);
    CHECK_NEAR(r->coef[5], a[5] - a[0], 1e-9);
    CHECK_NEAR(r->coef[n - 1 + 3], b[3] - b[0], 1e-9);
    CHECK(r->deviance < 1e-12 && r->converged && !strcmp(r->names[r->nparams - 1], "ln_cost"));
    cs_ppml_result_free(r);

    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            if (i == j) continue;
            double mu = exp(k0 + a[i] - a[0] + b[j] - b[0] + beta * log(c->v[i * n + j]));
            y->v[i * n + j] = urand() < 0.1 ? 0.0 : mu / 0.9 * exp(0.5 * nrand() - 0.125);
        }
    CHECK_OK(cs_ppml_fit(y, c, &o, &r));
    CHECK(fabs(r->cost_coef - beta) < 4 * r->cost_se_hc0);
    CHECK(r->cost_se_hc0 > 0 && r->cost_se_hc0 < 0.1);
    CHECK(r->nzero > 0);
    /* PPML with FE: fitted margins equal observed margins */
    for (size_t i = 0; i < n; i += 3) {
        double so = 0, sf = 0, to = 0, tf = 0;
        for (size_t j = 0; j < n; j++) {
            if (i == j) continue;
            so += y->v[i * n + j], sf += r->fitted->v[i * n + j];
            to += y->v[j * n + i], tf += r->fitted->v[j * n + i];
        }
        CHECK_NEAR(sf, so, 1e-8);
        CHECK_NEAR(tf, to, 1e-8);
    }
    cs_ppml_result_free(r);

    /* log-mass model with exponential cost, exact data */
    double O[30], D[30];
    for (size_t i = 0; i < n; i++) O[i] = 100 + 1e4 * urand(), D[i] = 100 + 1e4 * urand();
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            y->v[i * n + j] = i == j ? NAN : exp(-2 + 0.9 * log(O[i]) + 1.1 * log(D[j]) - 0.004 * c->v[i * n + j]);
    o.masses = CS_PPML_LOG_MASSES;
    o.decay = CS_DECAY_EXPONENTIAL;
    o.O = O, o.D = D;
    CHECK_OK(cs_ppml_fit(y, c, &o, &r));
    CHECK_NEAR(r->coef[1], 0.9, 1e-9);
    CHECK_NEAR(r->coef[2], 1.1, 1e-9);
    CHECK_NEAR(r->cost_coef, -0.004, 1e-9);
    cs_ppml_result_free(r);
    /* an origin with only zero flows has no finite fixed effect */
    o.masses = CS_PPML_FIXED_EFFECTS;
    for (size_t j = 0; j < n; j++)
        if (j != 4) y->v[4 * n + j] = 0;
    CHECK(cs_ppml_fit(y, c, &o, &r) == CS_EINFEASIBLE && r == NULL);
    cs_matrix_free(y);
    cs_matrix_free(c);
}

/* The African trade table against statsmodels (tests/data/indicators/ppml_oracle.py). */
static void test_ppml_statsmodels(void)
{
    FILE *f = fopen(CS_SRC_DIR "/tests/data/indicators/africa_trade_pairs.csv", "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[256], ids[64][8];
    size_t nid = 0;
    double val[4096], dist[4096];
    size_t oi[4096], dj[4096], np = 0;
    CHECK(fgets(line, sizeof line, f) != NULL);
    while (fgets(line, sizeof line, f) && np < 4096) {
        char o[8], d[8];
        if (sscanf(line, "%7[^,],%7[^,],%lf,%lf", o, d, &val[np], &dist[np]) != 4) continue;
        size_t k;
        for (k = 0; k < nid && strcmp(ids[k], o); k++) {}
        if (k == nid) strcpy(ids[nid++], o);
        oi[np] = k;
        for (k = 0; k < nid && strcmp(ids[k], d); k++) {}
        if (k == nid) strcpy(ids[nid++], d);
        dj[np] = k;
        np++;
    }
    fclose(f);
    CHECK(nid == 47 && np == 47 * 46);
    cs_matrix *y, *c;
    CHECK_OK(cs_matrix_new(nid, nid, CS_MATRIX_FLOW, &y));
    CHECK_OK(cs_matrix_new(nid, nid, CS_MATRIX_DISTANCE, &c));
    const char *idp[64];
    for (size_t k = 0; k < nid; k++) idp[k] = ids[k];
    CHECK_OK(cs_matrix_set_ids(y, idp, idp));
    CHECK_OK(cs_matrix_set_ids(c, idp, idp));
    for (size_t k = 0; k < nid * nid; k++) y->v[k] = NAN, c->v[k] = 0;
    for (size_t t = 0; t < np; t++) y->v[oi[t] * nid + dj[t]] = val[t], c->v[oi[t] * nid + dj[t]] = dist[t];
    cs_ppml_opts o;
    cs_ppml_opts_default(&o);
    cs_ppml_result *r;
    CHECK_OK(cs_ppml_fit(y, c, &o, &r));
    if (!r) return;
    f = fopen(CS_SRC_DIR "/tests/data/indicators/ppml_expected.csv", "r");
    CHECK(f != NULL);
    size_t matched = 0;
    double maxd = 0;
    while (f && fgets(line, sizeof line, f)) {
        char name[64];
        double cf, se;
        int k = sscanf(line, "%63[^,],%lf,%lf", name, &cf, &se);
        if (k < 2) continue;
        if (!strcmp(name, "deviance")) CHECK_NEAR(r->deviance, cf, 1e-9);
        else if (!strcmp(name, "null_deviance")) CHECK_NEAR(r->null_deviance, cf, 1e-9);
        else if (!strcmp(name, "loglik")) CHECK_NEAR(r->loglik, cf, 1e-9);
        else if (!strcmp(name, "nobs")) CHECK(r->nobs == (size_t)cf);
        else if (!strcmp(name, "nzero")) CHECK(r->nzero == (size_t)cf);
        else
            for (size_t p = 0; p < r->nparams; p++)
                if (!strcmp(r->names[p], name)) {
                    maxd = fmax(maxd, fabs(r->coef[p] - cf) / fmax(1, fabs(cf)));
                    maxd = fmax(maxd, fabs(r->se_hc0[p] - se) / fmax(1, fabs(se)));
                    CHECK_NEAR(r->coef[p], cf, 1e-6);
                    CHECK_NEAR(r->se_hc0[p], se, 1e-6);
                    matched++;
                }
    }
    if (f) fclose(f);
    CHECK(matched == r->nparams && r->nparams == 94);
    printf("ppml africa: ln_cost %.10f (HC0 se %.10f), %d iterations; max difference to statsmodels %.3g\n",
           r->cost_coef, r->cost_se_hc0, r->iterations, maxd);
    for (size_t i = 0; i < nid; i++) {
        double so = 0, sf = 0, to = 0, tf = 0;
        for (size_t j = 0; j < nid; j++) {
            if (i == j) continue;
            so += y->v[i * nid + j], sf += r->fitted->v[i * nid + j];
            to += y->v[j * nid + i], tf += r->fitted->v[j * nid + i];
        }
        CHECK_NEAR(sf, so, 1e-8);
        CHECK_NEAR(tf, to, 1e-8);
    }
    cs_ppml_result_free(r);
    cs_matrix_free(y);
    cs_matrix_free(c);
}

int main(void)
{
    test_predict();
    test_ppml_recovery();
    test_ppml_statsmodels();
    TEST_MAIN_END();
}

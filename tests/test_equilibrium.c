/*
 * Unit tests of the spatial equilibrium model (src/model/equilibrium.c):
 * closed forms, an independent Newton solver (test_equilibrium_oracle.h),
 * calibration round trip, hat algebra vs levels, invariances, uniqueness
 * checks, non-convergence diagnostics, determinism across thread counts.
 */
#include <omp.h>
#include "test.h"
#include "citysys/equilibrium.h"
#include "test_equilibrium_oracle.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double urand(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* Cities at random points of the unit square; tau = 1 + scale * distance,
 * optionally times an asymmetric factor in [1, 1.3), a few pairs unreachable. */
static cs_matrix *make_tau(int n, int asym, double scale, int holes)
{
    cs_matrix *m;
    if (cs_matrix_new((size_t)n, (size_t)n, CS_MATRIX_TRADECOST, &m)) return NULL;
    double *x = malloc(sizeof(double) * 2 * n), *y = x + n;
    for (int i = 0; i < n; i++) x[i] = urand(), y[i] = urand();
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double d = hypot(x[i] - x[j], y[i] - y[j]);
            double t = i == j ? 1.0 : 1.0 + scale * d;
            if (asym && i != j) t *= 1.0 + 0.3 * urand();
            m->v[i * n + j] = t;
        }
    if (asym) /* make the matrix clearly asymmetric: one-way extra cost */
        for (int i = 0; i + 1 < n; i++) m->v[i * n + i + 1] *= 1.2;
    for (int h = 0; h < holes; h++) {
        int i = (int)(urand() * n), j = (int)(urand() * n);
        if (i != j && abs(i - j) > 1) m->v[i * n + j] = m->v[j * n + i] = INFINITY;
    }
    free(x);
    return m;
}

static cs_matrix *tau_lowered(const cs_matrix *t, double frac)
{
    cs_matrix *m;
    if (cs_matrix_clone(t, &m)) return NULL;
    size_t n = t->rows;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (i != j && urand() < frac && isfinite(m->v[i * n + j])) {
                double f = 0.5 + 0.5 * urand();
                m->v[i * n + j] = 1.0 + (m->v[i * n + j] - 1.0) * f; /* lower, stay >= 1 */
            }
    return m;
}

static double max_rel(const double *a, const double *b, size_t n)
{
    double r = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]) / fmax(fabs(b[i]), 1e-300);
        if (!(d <= r)) r = d;
    }
    return r;
}

/* ---- two symmetric cities: closed form ---- */
static void test_two_cities(void)
{
    cs_eq_params p;
    cs_eq_params_default(&p);
    p.tol = 1e-12;
    for (int groups = 1; groups <= 2; groups++) {
        uint32_t g[2] = {0, (uint32_t)(groups - 1)};
        double L[2] = {500, 500}, w[2] = {3, 3};
        double t0 = 1.6, t1 = 1.3;
        cs_matrix *a, *b;
        CHECK_OK(cs_matrix_new(2, 2, CS_MATRIX_TRADECOST, &a));
        CHECK_OK(cs_matrix_new(2, 2, CS_MATRIX_TRADECOST, &b));
        a->v[0] = a->v[3] = b->v[0] = b->v[3] = 1;
        a->v[1] = a->v[2] = t0;
        b->v[1] = b->v[2] = t1;
        cs_eq_model *m;
        cs_eq_state *s0, *s1, *s2;
        CHECK_OK(cs_eq_calibrate(&p, 2, g, L, w, a, NULL, &m, &s0));
        CHECK_NEAR(m->Abar[0], m->Abar[1], 1e-13);
        CHECK_NEAR(m->ubar[0], m->ubar[1], 1e-13);
        /* P = (w/A) (1 + t^-theta)^(-1/theta) */
        CHECK_NEAR(s0->P[0], w[0] / s0->A[0] * pow(1 + pow(t0, -p.theta), -1 / p.theta), 1e-12);
        double expect = pow((1 + pow(t1, -p.theta)) / (1 + pow(t0, -p.theta)), 1 / p.theta);
        for (int h = 0; h < 2; h++) {
            CHECK_OK(cs_eq_counterfactual(m, s0, a, b, (cs_eq_horizon)h, NULL, NULL, 0, NULL, &s1));
            CHECK_OK(cs_eq_solve(m, b, (cs_eq_horizon)h, L, NULL, NULL, s0->world_income, NULL, &s2));
            CHECK_NEAR(s1->w[0], s1->w[1], 1e-12);
            CHECK_NEAR(s1->L[0], 500, 1e-12);
            CHECK_NEAR(s1->w[0], 3, 1e-12);
            CHECK_NEAR(s1->W[0] / s0->W[0], expect, 1e-12);
            CHECK_NEAR(s2->W[1] / s0->W[1], expect, 1e-12);
            cs_eq_change *c;
            CHECK_OK(cs_eq_compare(m, s0, s1, &c));
            CHECK_NEAR(c->total_welfare_hat, expect, 1e-12);
            CHECK_NEAR(c->total_welfare_hat_pop, expect, 1e-12);
            CHECK_NEAR(c->total_ev, (expect - 1) * 3000, 1e-9);
            CHECK_NEAR(c->group_welfare_hat[groups - 1], expect, 1e-12);
            cs_eq_aggregate *ag;
            CHECK_OK(cs_eq_aggregate_by(s0, s1, c, g, (size_t)groups, &ag));
            CHECK_NEAR(ag->ev[groups - 1], c->group_ev[groups - 1], 1e-12);
            CHECK_NEAR(ag->welfare_hat[0], expect, 1e-12);
            CHECK_NEAR(ag->pop_after[0], groups == 1 ? 1000 : 500, 1e-12);
            cs_eq_aggregate_free(ag);
            cs_eq_change_free(c);
            cs_eq_state_free(s1);
            cs_eq_state_free(s2);
        }
        cs_eq_model_free(m);
        cs_eq_state_free(s0);
        cs_matrix_free(a);
        cs_matrix_free(b);
    }
}

/* ---- the fast solver against the Newton oracle ---- */
static void random_model(int n, int ng, const cs_eq_params *p, cs_eq_model **m, int **gi)
{
    uint32_t *g = malloc(sizeof(uint32_t) * n);
    double *gp = malloc(sizeof(double) * ng), *A = malloc(sizeof(double) * n), *u = malloc(sizeof(double) * n);
    *gi = malloc(sizeof(int) * n);
    for (int i = 0; i < n; i++) {
        g[i] = (uint32_t)(i % ng);
        (*gi)[i] = (int)g[i];
        A[i] = 0.5 + 1.5 * urand();
        u[i] = 0.5 + 1.5 * urand();
    }
    for (int k = 0; k < ng; k++) gp[k] = 1000.0 * (1 + k);
    CHECK_OK(cs_eq_model_new((size_t)n, (size_t)ng, g, gp, A, u, p, m));
    free(g), free(gp), free(A), free(u);
}

static void test_oracle(void)
{
    const int sizes[] = {20, 35, 50};
    int cases = 0;
    for (int si = 0; si < 3; si++)
        for (int variant = 0; variant < 5; variant++) {
            int n = sizes[si];
            /* 0 short run; 1 long perfect 1 group; 2 long perfect 3 groups; 3 long imperfect 3 groups;
             * 4 long imperfect 1 group, asymmetric costs, shifters */
            cs_eq_params p;
            cs_eq_params_default(&p);
            p.tol = 1e-12;
            int ng = (variant == 2 || variant == 3) ? 3 : 1;
            if (variant >= 3) p.mobility = CS_EQ_IMPERFECT, p.kappa = 2.5;
            cs_eq_model *m;
            int *gi;
            random_model(n, ng, &p, &m, &gi);
            cs_matrix *t = make_tau(n, variant == 4 || si == 1, 2.0, variant == 2 ? 5 : 0);
            double *Lf = malloc(sizeof(double) * n), *as = NULL, *bs = NULL;
            for (int i = 0; i < n; i++) Lf[i] = 10 + 90 * urand();
            if (variant == 4) {
                as = malloc(sizeof(double) * 2 * n), bs = as + n;
                for (int i = 0; i < n; i++) as[i] = 0.8 + 0.4 * urand(), bs[i] = 0.8 + 0.4 * urand();
            }
            cs_eq_horizon h = variant == 0 ? CS_EQ_SHORT_RUN : CS_EQ_LONG_RUN;
            cs_eq_state *s;
            CHECK_OK(cs_eq_solve(m, t, h, variant == 0 ? Lf : NULL, as, bs, 1e4, NULL, &s));
            if (!s) continue;
            double *Ab = malloc(sizeof(double) * 2 * n), *ub = Ab + n;
            for (int i = 0; i < n; i++) Ab[i] = m->Abar[i] * (as ? as[i] : 1), ub[i] = m->ubar[i] * (bs ? bs[i] : 1);
            oracle_sys S = {.n = n, .ng = ng, .group = gi, .gpop = m->group_pop, .tau = t->v, .Abar = Ab,
                            .ubar = ub, .theta = p.theta, .alpha = p.alpha, .beta = p.beta,
                            .kappa = p.mobility == CS_EQ_IMPERFECT ? p.kappa : 0, .long_run = h == CS_EQ_LONG_RUN,
                            .Lfix = Lf, .Y = 1e4};
            /* neutral start: equal wages, equal split of each group */
            double *x = malloc(sizeof(double) * 2 * n);
            for (int i = 0; i < n; i++) {
                x[i] = log(1e4 / (h == CS_EQ_LONG_RUN ? 1000.0 * ng * (ng + 1) / 2 : 1000.0));
                x[n + i] = log(m->group_pop[gi[i]] / (n / ng + (gi[i] < n % ng)));
            }
            double nf = oracle_solve(&S, x, 100);
            CHECK(nf < 1e-11);
            double *w = malloc(sizeof(double) * 3 * n), *L = w + n, *P = w + 2 * n;
            oracle_unpack(&S, x, w, L);
            oracle_prices(&S, w, L, P);
            double ew = max_rel(s->w, w, n), eL = max_rel(s->L, L, n), eP = max_rel(s->P, P, n);
            if (!(ew < 1e-9 && eL < 1e-9 && eP < 1e-9))
                fprintf(stderr, "oracle n=%d variant=%d: |dw|=%g |dL|=%g |dP|=%g (newton %g, iters %d)\n", n,
                        variant, ew, eL, eP, nf, s->iterations);
            CHECK(ew < 1e-9);
            CHECK(eL < 1e-9);
            CHECK(eP < 1e-9);
            cases++;
            free(w), free(x), free(Ab), free(Lf), free(as), free(gi);
            cs_eq_state_free(s);
            cs_eq_model_free(m);
            cs_matrix_free(t);
        }
    CHECK(cases == 15);
}

/* ---- calibration round trip ---- */
static void test_roundtrip(void)
{
    for (int mob = 0; mob < 2; mob++) {
        int n = 40, ng = 2;
        cs_eq_params p;
        cs_eq_params_default(&p);
        p.tol = 1e-12;
        p.mobility = (cs_eq_mobility)mob;
        cs_eq_model *m, *mc;
        int *gi;
        random_model(n, ng, &p, &m, &gi);
        cs_matrix *t = make_tau(n, mob, 1.5, 3);
        cs_eq_state *s, *sc;
        CHECK_OK(cs_eq_solve(m, t, CS_EQ_LONG_RUN, NULL, NULL, NULL, 7.0, NULL, &s));
        CHECK_OK(cs_eq_calibrate(&p, (size_t)n, m->group, s->L, s->w, t, NULL, &mc, &sc));
        /* Abar up to one scale; ubar up to one scale per group */
        double r0 = mc->Abar[0] / m->Abar[0], err = 0;
        for (int i = 0; i < n; i++) err = fmax(err, fabs(mc->Abar[i] / m->Abar[i] / r0 - 1));
        CHECK(err < 1e-9);
        double gr[2] = {mc->ubar[0] / m->ubar[0], mc->ubar[1] / m->ubar[1]};
        err = 0;
        for (int i = 0; i < n; i++) err = fmax(err, fabs(mc->ubar[i] / m->ubar[i] / gr[gi[i]] - 1));
        CHECK(err < 1e-9);
        /* and the calibrated model reproduces the observed w, L exactly */
        CHECK(max_rel(sc->w, s->w, n) == 0 && max_rel(sc->L, s->L, n) == 0);
        cs_eq_state *s2;
        CHECK_OK(cs_eq_solve(mc, t, CS_EQ_LONG_RUN, NULL, NULL, NULL, sc->world_income, NULL, &s2));
        CHECK(max_rel(s2->w, s->w, n) < 1e-9 && max_rel(s2->L, s->L, n) < 1e-9);
        cs_eq_state_free(s2);
        free(gi);
        cs_eq_model_free(m);
        cs_eq_model_free(mc);
        cs_eq_state_free(s);
        cs_eq_state_free(sc);
        cs_matrix_free(t);
    }
}

/* Observed data that is not an equilibrium of anything: calibration must fit it anyway. */
static void observed(int n, double *L, double *w)
{
    for (int i = 0; i < n; i++) {
        L[i] = 1e5 * exp(3 * urand());
        w[i] = 500 + 5000 * urand();
    }
}

/* ---- exact hat algebra agrees with the levels solver ---- */
static void test_hat_vs_levels(void)
{
    for (int variant = 0; variant < 4; variant++) {
        int n = 30;
        cs_eq_params p;
        cs_eq_params_default(&p);
        p.tol = 1e-12;
        if (variant == 3) p.mobility = CS_EQ_IMPERFECT;
        uint32_t g[30];
        double L[30], w[30], as[30], bs[30];
        observed(n, L, w);
        for (int i = 0; i < n; i++) g[i] = (uint32_t)(i % (variant == 2 ? 4 : 1)), as[i] = 0.9 + 0.2 * urand(),
                                  bs[i] = 0.9 + 0.2 * urand();
        cs_matrix *t = make_tau(n, variant >= 2, 2.0, 4), *t1 = tau_lowered(t, 0.3);
        t1->v[0 * n + 5] = t1->v[5 * n + 0] = 1.01; /* also a link that may be new */
        cs_eq_model *m;
        cs_eq_state *s0;
        CHECK_OK(cs_eq_calibrate(&p, (size_t)n, g, L, w, t, NULL, &m, &s0));
        for (int h = 0; h < 2; h++) {
            cs_eq_state *sh, *sl;
            const double *a = variant ? as : NULL, *b = variant ? bs : NULL;
            CHECK_OK(cs_eq_counterfactual(m, s0, t, t1, (cs_eq_horizon)h, a, b, 0, NULL, &sh));
            CHECK_OK(cs_eq_solve(m, t1, (cs_eq_horizon)h, L, a, b, s0->world_income, NULL, &sl));
            if (!sh || !sl) continue;
            double e1 = max_rel(sh->w, sl->w, n), e2 = max_rel(sh->L, sl->L, n), e3 = max_rel(sh->P, sl->P, n),
                   e4 = max_rel(sh->W, sl->W, n);
            if (!(e1 < 1e-9 && e2 < 1e-9 && e3 < 1e-9 && e4 < 1e-9))
                fprintf(stderr, "hat vs levels variant %d h %d: %g %g %g %g\n", variant, h, e1, e2, e3, e4);
            CHECK(e1 < 1e-9 && e2 < 1e-9 && e3 < 1e-9 && e4 < 1e-9);
            /* the in-place variant gives the same bits */
            cs_matrix *t2;
            CHECK_OK(cs_matrix_clone(t1, &t2));
            cs_eq_state *si;
            CHECK_OK(cs_eq_counterfactual(m, s0, t, t2, (cs_eq_horizon)h, a, b, CS_EQ_REUSE_TAU_AFTER, NULL, &si));
            CHECK(si && !memcmp(si->w, sh->w, sizeof(double) * n) && !memcmp(si->L, sh->L, sizeof(double) * n));
            CHECK(si && si->flags == sh->flags && si->spectral_radius == sh->spectral_radius);
            cs_eq_state_free(si);
            cs_matrix_free(t2);
            cs_eq_state_free(sh);
            cs_eq_state_free(sl);
        }
        cs_eq_model_free(m);
        cs_eq_state_free(s0);
        cs_matrix_free(t);
        cs_matrix_free(t1);
    }
}

/* ---- nothing changes: everything unchanged ---- */
static void test_no_change(void)
{
    int n = 45;
    for (int mob = 0; mob < 2; mob++) {
        cs_eq_params p;
        cs_eq_params_default(&p);
        p.tol = 1e-12;
        p.mobility = (cs_eq_mobility)mob;
        uint32_t g[45];
        double L[45], w[45];
        observed(n, L, w);
        for (int i = 0; i < n; i++) g[i] = (uint32_t)(i % 3);
        cs_matrix *t = make_tau(n, mob, 3.0, 6);
        cs_eq_model *m;
        cs_eq_state *s0;
        CHECK_OK(cs_eq_calibrate(&p, (size_t)n, g, L, w, t, NULL, &m, &s0));
        for (int h = 0; h < 2; h++) {
            cs_eq_state *s1;
            CHECK_OK(cs_eq_counterfactual(m, s0, t, t, (cs_eq_horizon)h, NULL, NULL, 0, NULL, &s1));
            CHECK(max_rel(s1->w, s0->w, n) < 1e-12);
            CHECK(max_rel(s1->L, s0->L, n) < 1e-12);
            CHECK(max_rel(s1->P, s0->P, n) < 1e-12);
            CHECK(max_rel(s1->W, s0->W, n) < 1e-12);
            cs_eq_change *c;
            CHECK_OK(cs_eq_compare(m, s0, s1, &c));
            CHECK(fabs(c->total_welfare_hat - 1) < 1e-12 && fabs(c->total_ev) < 1e-12 * s0->world_income);
            cs_eq_change_free(c);
            cs_eq_state_free(s1);
        }
        cs_eq_model_free(m);
        cs_eq_state_free(s0);
        cs_matrix_free(t);
    }
}

/* ---- invariance to scaling all populations or all incomes ---- */
static void test_scaling(void)
{
    int n = 25;
    cs_eq_params p;
    cs_eq_params_default(&p);
    p.tol = 1e-12;
    double L[25], w[25], L2[25], w2[25];
    uint32_t g[25];
    observed(n, L, w);
    for (int i = 0; i < n; i++) L2[i] = 7.5 * L[i], w2[i] = 0.01 * w[i], g[i] = (uint32_t)(i % 2);
    cs_matrix *t = make_tau(n, 0, 2.0, 0), *t1 = tau_lowered(t, 0.5);
    for (int h = 0; h < 2; h++) {
        cs_eq_model *m[3];
        cs_eq_state *s0[3], *s1[3];
        cs_eq_change *c[3];
        CHECK_OK(cs_eq_calibrate(&p, (size_t)n, g, L, w, t, NULL, &m[0], &s0[0]));
        CHECK_OK(cs_eq_calibrate(&p, (size_t)n, g, L2, w, t, NULL, &m[1], &s0[1]));
        CHECK_OK(cs_eq_calibrate(&p, (size_t)n, g, L, w2, t, NULL, &m[2], &s0[2]));
        for (int k = 0; k < 3; k++) {
            CHECK_OK(cs_eq_counterfactual(m[k], s0[k], t, t1, (cs_eq_horizon)h, NULL, NULL, 0, NULL, &s1[k]));
            CHECK_OK(cs_eq_compare(m[k], s0[k], s1[k], &c[k]));
        }
        for (int k = 1; k < 3; k++) {
            CHECK(max_rel(c[k]->w_hat, c[0]->w_hat, n) < 1e-10);
            CHECK(max_rel(c[k]->L_hat, c[0]->L_hat, n) < 1e-10);
            CHECK(max_rel(c[k]->welfare_hat, c[0]->welfare_hat, n) < 1e-10);
            CHECK_NEAR(c[k]->total_welfare_hat, c[0]->total_welfare_hat, 1e-10);
            CHECK(max_rel(m[k]->Abar, m[0]->Abar, n) < 1e-10); /* normalised fundamentals identical */
        }
        CHECK_NEAR(c[1]->total_ev, 7.5 * c[0]->total_ev, 1e-9);
        CHECK_NEAR(c[2]->total_ev, 0.01 * c[0]->total_ev, 1e-9);
        for (int k = 0; k < 3; k++) {
            cs_eq_change_free(c[k]);
            cs_eq_state_free(s0[k]);
            cs_eq_state_free(s1[k]);
            cs_eq_model_free(m[k]);
        }
    }
    cs_matrix_free(t);
    cs_matrix_free(t1);
}

/* ---- alpha = beta = 0: lowering costs never lowers aggregate welfare ---- */
static void test_lower_costs(void)
{
    int worse = 0, cases = 0;
    for (int r = 0; r < 12; r++) {
        int n = 10 + (int)(urand() * 30);
        cs_eq_params p;
        cs_eq_params_default(&p);
        p.alpha = p.beta = 0;
        p.tol = 1e-12;
        p.mobility = r % 3 == 2 ? CS_EQ_IMPERFECT : CS_EQ_PERFECT;
        uint32_t *g = malloc(sizeof(uint32_t) * n);
        double *L = malloc(sizeof(double) * 2 * n), *w = L + n;
        observed(n, L, w);
        for (int i = 0; i < n; i++) g[i] = r % 2 ? (uint32_t)(i % 3) : 0;
        cs_matrix *t = make_tau(n, r % 4 == 1, 2.5, 2), *t1 = tau_lowered(t, 0.4);
        cs_eq_model *m;
        cs_eq_state *s0;
        CHECK_OK(cs_eq_calibrate(&p, (size_t)n, g, L, w, t, NULL, &m, &s0));
        for (int h = 0; h < 2; h++) {
            cs_eq_state *s1;
            cs_eq_change *c;
            CHECK_OK(cs_eq_counterfactual(m, s0, t, t1, (cs_eq_horizon)h, NULL, NULL, 0, NULL, &s1));
            CHECK_OK(cs_eq_compare(m, s0, s1, &c));
            if (c->total_welfare_hat < 1 - 1e-12 || c->total_welfare_hat_pop < 1 - 1e-12) {
                worse++;
                fprintf(stderr, "lower costs case %d h %d: welfare %.15g pop %.15g\n", r, h, c->total_welfare_hat,
                        c->total_welfare_hat_pop);
            }
            cases++;
            cs_eq_change_free(c);
            cs_eq_state_free(s1);
        }
        free(g), free(L);
        cs_eq_model_free(m);
        cs_eq_state_free(s0);
        cs_matrix_free(t);
        cs_matrix_free(t1);
    }
    CHECK(worse == 0 && cases == 24);
}

/* ---- uniqueness conditions ---- */
static void test_uniqueness(void)
{
    cs_eq_params p;
    cs_eq_params_default(&p);
    cs_eq_uniqueness u;
    cs_matrix *ts = make_tau(6, 0, 1, 0), *ta = make_tau(6, 1, 1, 0);
    CHECK_OK(cs_eq_check_uniqueness(&p, ts, CS_EQ_LONG_RUN, &u));
    CHECK(u.symmetric && u.holds);
    CHECK_NEAR(u.alpha_plus_beta, -0.2, 1e-15);
    /* hand-worked: theta 8, alpha .1, beta -.3 gives |B Gamma^-1| = [[10.4,14.4],[12.8,8.8]]/23.2, rho = 1 */
    CHECK_NEAR(u.spectral_radius, 1.0, 1e-12);
    CHECK_OK(cs_eq_check_uniqueness(&p, ta, CS_EQ_LONG_RUN, &u));
    CHECK(!u.symmetric && u.holds);
    p.alpha = 0.3, p.beta = -0.1; /* hand-worked: rho = 5.8 */
    CHECK_OK(cs_eq_check_uniqueness(&p, ta, CS_EQ_LONG_RUN, &u));
    CHECK(!u.holds);
    CHECK_NEAR(u.spectral_radius, 5.8, 1e-12);
    CHECK_OK(cs_eq_check_uniqueness(&p, ts, CS_EQ_LONG_RUN, &u));
    CHECK(!u.holds && u.symmetric);
    /* boundary alpha + beta = 0: B = Gamma, |B Gamma^-1| = I, rho = 1 exactly, condition holds */
    p.alpha = 0.2, p.beta = -0.2;
    CHECK_OK(cs_eq_check_uniqueness(&p, ta, CS_EQ_LONG_RUN, &u));
    CHECK(u.holds);
    CHECK_NEAR(u.spectral_radius, 1.0, 1e-14);
    p.alpha = 0.3, p.beta = -0.1;
    CHECK_OK(cs_eq_check_uniqueness(&p, ts, CS_EQ_SHORT_RUN, &u));
    CHECK(u.holds);
    CHECK_NEAR(u.spectral_radius, 1.0, 1e-12);
    /* imperfect mobility: dispersion acts as congestion, beta_eff = beta - 1/kappa */
    p.mobility = CS_EQ_IMPERFECT, p.kappa = 4;
    CHECK_OK(cs_eq_check_uniqueness(&p, ts, CS_EQ_LONG_RUN, &u));
    CHECK(u.holds);
    CHECK_NEAR(u.alpha_plus_beta, -0.05, 1e-15);
    /* calibration outside the condition warns in diag and flags the state */
    p.kappa = 2;
    p.alpha = 0.3, p.beta = 0.3;
    double L[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, 1, 2, 2, 3, 3};
    cs_diag *d = cs_diag_new();
    cs_eq_model *m;
    cs_eq_state *s;
    CHECK_OK(cs_eq_calibrate(&p, 6, NULL, L, w, ts, d, &m, &s));
    CHECK(s && (s->flags & CS_EQ_FLAG_NOT_UNIQUE) && cs_diag_count(d) == 1);
    CHECK(cs_diag_count(d) == 1 && strstr(cs_diag_get(d, 0)->message, "not be unique"));
    cs_diag_free(d);
    cs_eq_state_free(s);
    cs_eq_model_free(m);
    cs_matrix_free(ts);
    cs_matrix_free(ta);
}

static int cancel_at_3(void *user, const char *stage, double done, double total)
{
    (void)total;
    int *calls = user;
    ++*calls;
    return !strcmp(stage, "calibration") && done >= 3;
}

/* ---- non-convergence is an error with diagnostics; bad input refused ---- */
static void test_errors(void)
{
    cs_eq_params p;
    cs_eq_params_default(&p);
    int n = 20;
    double L[20], w[20];
    observed(n, L, w);
    cs_matrix *t = make_tau(n, 0, 2, 0);
    cs_eq_model *m;
    cs_eq_state *s0, *s1;
    CHECK_OK(cs_eq_calibrate(&p, (size_t)n, NULL, L, w, t, NULL, &m, &s0));
    m->params.max_iter = 3;
    cs_matrix *t1 = tau_lowered(t, 0.5);
    CHECK(cs_eq_counterfactual(m, s0, t, t1, CS_EQ_LONG_RUN, NULL, NULL, 0, NULL, &s1) == CS_ECONVERGE);
    CHECK(s1 == NULL);
    const char *msg = cs_error_last()->message;
    CHECK(strstr(msg, "3 iterations") && strstr(msg, "residual") && strstr(msg, "worst city"));
    p.max_iter = 2;
    cs_eq_model *m2;
    cs_eq_state *s2;
    CHECK(cs_eq_calibrate(&p, (size_t)n, NULL, L, w, t, NULL, &m2, &s2) == CS_ECONVERGE && !m2 && !s2);
    cs_eq_params_default(&p);
    t->v[3 * n + 3] = 1.5;
    CHECK(cs_eq_calibrate(&p, (size_t)n, NULL, L, w, t, NULL, &m2, &s2) == CS_EINVAL);
    CHECK(strstr(cs_error_last()->message, "diagonal") != NULL);
    t->v[3 * n + 3] = 1;
    t->v[3 * n + 4] = NAN;
    CHECK(cs_eq_calibrate(&p, (size_t)n, NULL, L, w, t, NULL, &m2, &s2) == CS_EINVAL);
    t->v[3 * n + 4] = 0.5;
    CHECK(cs_eq_calibrate(&p, (size_t)n, NULL, L, w, t, NULL, &m2, &s2) == CS_EINVAL);
    t->v[3 * n + 4] = 2;
    L[2] = 0;
    CHECK(cs_eq_calibrate(&p, (size_t)n, NULL, L, w, t, NULL, &m2, &s2) == CS_EINVAL);
    L[2] = 5;
    p.theta = -1;
    CHECK(cs_eq_calibrate(&p, (size_t)n, NULL, L, w, t, NULL, &m2, &s2) == CS_EINVAL);
    cs_eq_params_default(&p);
    p.beta = 0.5; /* long run unstable: the solver refuses */
    m->params = p;
    CHECK(cs_eq_counterfactual(m, s0, t, t1, CS_EQ_LONG_RUN, NULL, NULL, 0, NULL, &s1) == CS_EINVAL);
    /* out of memory at every allocation: clean failure (ASan checks the leaks) */
    cs_eq_params_default(&p);
    for (long k = 1; k < 40; k++) {
        cs_alloc_fail_after(k, 1);
        cs_status st = cs_eq_calibrate(&p, (size_t)n, NULL, L, w, t, NULL, &m2, &s2);
        cs_alloc_fail_after(0, 0);
        if (st == CS_OK) {
            cs_eq_model_free(m2);
            cs_eq_state_free(s2);
            break;
        }
        CHECK(st == CS_ENOMEM && !m2 && !s2);
    }
    /* cancellation through the progress callback */
    cs_eq_params_default(&p);
    p.progress.fn = cancel_at_3;
    int calls = 0;
    p.progress.user = &calls;
    CHECK(cs_eq_calibrate(&p, (size_t)n, NULL, L, w, t, NULL, &m2, &s2) == CS_ECANCELED && !m2 && calls == 3);
    cs_eq_model_free(m);
    cs_eq_state_free(s0);
    cs_matrix_free(t);
    cs_matrix_free(t1);
}

/* ---- same bits whatever the thread count ---- */
static void test_threads(void)
{
    int n = 400;
    cs_eq_params p;
    cs_eq_params_default(&p);
    double *L = malloc(sizeof(double) * 2 * n), *w = L + n;
    uint32_t *g = malloc(sizeof(uint32_t) * n);
    observed(n, L, w);
    for (int i = 0; i < n; i++) g[i] = (uint32_t)(i % 5);
    cs_matrix *t = make_tau(n, 1, 2, 10), *t1 = tau_lowered(t, 0.2);
    cs_eq_state *r[2];
    for (int k = 0; k < 2; k++) {
        omp_set_num_threads(k ? 2 : 1);
        cs_eq_model *m;
        cs_eq_state *s0;
        CHECK_OK(cs_eq_calibrate(&p, (size_t)n, g, L, w, t, NULL, &m, &s0));
        CHECK_OK(cs_eq_counterfactual(m, s0, t, t1, CS_EQ_LONG_RUN, NULL, NULL, 0, NULL, &r[k]));
        cs_eq_model_free(m);
        cs_eq_state_free(s0);
    }
    CHECK(r[0] && r[1] && !memcmp(r[0]->w, r[1]->w, sizeof(double) * n) &&
          !memcmp(r[0]->L, r[1]->L, sizeof(double) * n) && !memcmp(r[0]->P, r[1]->P, sizeof(double) * n));
    cs_eq_state_free(r[0]);
    cs_eq_state_free(r[1]);
    free(L), free(g);
    cs_matrix_free(t);
    cs_matrix_free(t1);
}

/* ---- a disconnected cost matrix: real outcomes determined, nominal levels across components not ---- */
static void test_disconnected(void)
{
    int n = 5;
    cs_matrix *t, *t1;
    CHECK_OK(cs_matrix_new(5, 5, CS_MATRIX_TRADECOST, &t));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) t->v[i * n + j] = i == j ? 1 : (i == 4 || j == 4) ? INFINITY : 1.5 + 0.1 * (i + j);
    CHECK_OK(cs_matrix_clone(t, &t1));
    t1->v[0 * n + 1] = t1->v[1 * n + 0] = 1.2;
    double L[5] = {1, 2, 3, 4, 5}, w[5] = {2, 2, 1, 1, 3};
    uint32_t g[5] = {0, 0, 1, 1, 1};
    cs_eq_params p;
    cs_eq_params_default(&p);
    p.tol = 1e-12;
    for (int h = 0; h < 2; h++) {
        cs_eq_model *m;
        cs_eq_state *s0, *s1, *s2;
        CHECK_OK(cs_eq_calibrate(&p, 5, g, L, w, t, NULL, &m, &s0));
        CHECK_OK(cs_eq_counterfactual(m, s0, t, t1, (cs_eq_horizon)h, NULL, NULL, 0, NULL, &s1));
        CHECK_OK(cs_eq_solve(m, t1, (cs_eq_horizon)h, L, NULL, NULL, s0->world_income, NULL, &s2));
        CHECK(max_rel(s1->W, s2->W, 5) < 1e-9 && max_rel(s1->L, s2->L, 5) < 1e-9);
        /* the isolated city lives in autarky: W = A u */
        CHECK_NEAR(s1->W[4], s1->A[4] * s1->u[4], 1e-12);
        /* precomputed shares with unreachable pairs (share 0): bitwise the same counterfactual */
        cs_matrix *pi = NULL;
        cs_eq_state *s3 = NULL;
        CHECK_OK(cs_eq_trade_shares(m, s0, t, &pi));
        CHECK(pi && pi->v[0 * n + 4] == 0);
        if (pi) CHECK_NEAR(pi->v[4 * n + 4], 1.0, 1e-12);
        CHECK_OK(cs_eq_counterfactual_shares(m, s0, t, pi, t1, (cs_eq_horizon)h, NULL, NULL, 0, NULL, NULL, &s3));
        CHECK(s3 && !memcmp(s3->w, s1->w, sizeof(double) * 5) && !memcmp(s3->W, s1->W, sizeof(double) * 5));
        cs_matrix_free(pi);
        cs_eq_state_free(s3);
        cs_eq_state_free(s0), cs_eq_state_free(s1), cs_eq_state_free(s2);
        cs_eq_model_free(m);
    }
    cs_matrix_free(t);
    cs_matrix_free(t1);
}

/* ---- aggregation, ranking, groups (hand-worked) ---- */
static void test_helpers(void)
{
    const char *lab[] = {"KEN", "UGA", "KEN", NULL, "TZA", ""};
    uint32_t *g;
    size_t ng;
    const char **names;
    CHECK_OK(cs_eq_groups_from_labels(lab, 6, &g, &ng, &names));
    CHECK(ng == 4 && g[0] == 0 && g[1] == 1 && g[2] == 0 && g[3] == 2 && g[4] == 3 && g[5] == 2);
    CHECK(!strcmp(names[3], "TZA") && !strcmp(names[2], ""));
    cs_free(g);
    cs_free(names);
    double v[] = {0.5, NAN, 2.0, 0.5, -1};
    uint32_t o[5];
    CHECK_OK(cs_eq_rank(v, 5, o));
    CHECK(o[0] == 2 && o[1] == 0 && o[2] == 3 && o[3] == 4 && o[4] == 1);
    /* aggregate: two cities, before/after states by hand */
    cs_eq_state b = {0}, a = {0};
    double bw[2] = {2, 4}, bL[2] = {10, 30}, bri[2] = {1, 2}, bo[2] = {20, 120};
    double aw[2] = {2, 4}, aL[2] = {20, 20}, ari[2] = {1.5, 2}, ao[2] = {40, 80};
    b.n = a.n = 2, b.w = bw, b.L = bL, b.real_income = bri, b.output = bo;
    a.w = aw, a.L = aL, a.real_income = ari, a.output = ao;
    double ev[2] = {2, 12};
    cs_eq_change c = {0};
    c.n = 2, c.ev = ev;
    uint32_t lab2[2] = {0, 0};
    cs_eq_aggregate *ag;
    CHECK_OK(cs_eq_aggregate_by(&b, &a, &c, lab2, 1, &ag));
    CHECK_NEAR(ag->welfare_hat[0], 1 + 14.0 / 140, 1e-15);
    CHECK_NEAR(ag->pop_after[0], 40, 0);
    /* real income per head: before (10*1+30*2)/40 = 1.75, after (20*1.5+20*2)/40 = 1.75 */
    CHECK_NEAR(ag->real_income_hat[0], 1.0, 1e-15);
    cs_eq_aggregate_free(ag);
}

/* warm start (cs_eq_counterfactual_from): the same equilibrium to the tolerance as a cold solve, in fewer
 * iterations from a nearby solution; init = NULL is bitwise the cold solve */
static void test_warm_start(void)
{
    for (int variant = 0; variant < 3; variant++) {
        int n = 40;
        cs_eq_params p;
        cs_eq_params_default(&p);
        p.tol = 1e-10;
        if (variant == 2) p.mobility = CS_EQ_IMPERFECT;
        uint32_t g[40];
        double L[40], w[40];
        observed(n, L, w);
        for (int i = 0; i < n; i++) g[i] = (uint32_t)(i % (variant == 1 ? 3 : 1));
        cs_matrix *t = make_tau(n, 1, 2.0, 4), *t1 = tau_lowered(t, 0.3), *t2 = tau_lowered(t1, 0.01);
        cs_eq_model *m;
        cs_eq_state *s0;
        CHECK_OK(cs_eq_calibrate(&p, (size_t)n, g, L, w, t, NULL, &m, &s0));
        for (int h = 0; h < 2; h++) {
            cs_eq_state *near = NULL, *cold = NULL, *warm = NULL, *same = NULL;
            CHECK_OK(cs_eq_counterfactual(m, s0, t, t1, (cs_eq_horizon)h, NULL, NULL, 0, NULL, &near));
            CHECK_OK(cs_eq_counterfactual(m, s0, t, t2, (cs_eq_horizon)h, NULL, NULL, 0, NULL, &cold));
            CHECK_OK(cs_eq_counterfactual_from(m, s0, t, t2, (cs_eq_horizon)h, NULL, NULL, 0, near, NULL, &warm));
            CHECK_OK(cs_eq_counterfactual_from(m, s0, t, t2, (cs_eq_horizon)h, NULL, NULL, 0, NULL, NULL, &same));
            if (!near || !cold || !warm || !same) continue;
            double e1 = max_rel(cold->w, warm->w, n), e2 = max_rel(cold->L, warm->L, n), e3 = max_rel(cold->P, warm->P, n),
                   e4 = max_rel(cold->W, warm->W, n);
            if (!(e1 < 1e-8 && e2 < 1e-8 && e3 < 1e-8 && e4 < 1e-8))
                fprintf(stderr, "warm vs cold variant %d h %d: %g %g %g %g\n", variant, h, e1, e2, e3, e4);
            CHECK(e1 < 1e-8 && e2 < 1e-8 && e3 < 1e-8 && e4 < 1e-8);
            if (warm->iterations > cold->iterations) fprintf(stderr, "warm %d cold %d iterations (variant %d h %d)\n", warm->iterations, cold->iterations, variant, h);
            CHECK(warm->iterations <= cold->iterations);
            CHECK(!memcmp(same->w, cold->w, sizeof(double) * n) && !memcmp(same->L, cold->L, sizeof(double) * n));
            /* precomputed baseline trade shares: columns sum to 1 (Phi_j = sum_i tau_ij^-theta c_i), and the
               counterfactual from them is bitwise the one that computes them itself, cold and warm */
            cs_matrix *pi = NULL;
            cs_eq_state *sh = NULL, *shw = NULL;
            CHECK_OK(cs_eq_trade_shares(m, s0, t, &pi));
            if (pi) {
                for (int j = 0; j < n; j++) {
                    double cs = 0;
                    for (int i = 0; i < n; i++) cs += pi->v[i * n + j];
                    CHECK_NEAR(cs, 1.0, 1e-12);
                }
                CHECK_OK(cs_eq_counterfactual_shares(m, s0, t, pi, t2, (cs_eq_horizon)h, NULL, NULL, 0, NULL, NULL, &sh));
                CHECK_OK(cs_eq_counterfactual_shares(m, s0, t, pi, t2, (cs_eq_horizon)h, NULL, NULL, 0, near, NULL, &shw));
                CHECK(sh && !memcmp(sh->w, cold->w, sizeof(double) * n) && !memcmp(sh->L, cold->L, sizeof(double) * n) &&
                      !memcmp(sh->P, cold->P, sizeof(double) * n));
                CHECK(shw && !memcmp(shw->w, warm->w, sizeof(double) * n) && !memcmp(shw->P, warm->P, sizeof(double) * n));
                cs_matrix *bad = NULL;
                CHECK_OK(cs_matrix_new(3, 3, CS_MATRIX_OTHER, &bad));
                cs_eq_state *x = NULL;
                CHECK(cs_eq_counterfactual_shares(m, s0, t, bad, t2, (cs_eq_horizon)h, NULL, NULL, 0, NULL, NULL, &x) == CS_EINVAL && !x);
                cs_matrix_free(bad);
            }
            cs_matrix_free(pi);
            cs_eq_state_free(sh);
            cs_eq_state_free(shw);
            cs_eq_state_free(near);
            cs_eq_state_free(cold);
            cs_eq_state_free(warm);
            cs_eq_state_free(same);
        }
        cs_eq_model_free(m);
        cs_eq_state_free(s0);
        cs_matrix_free(t);
        cs_matrix_free(t1);
        cs_matrix_free(t2);
    }
}

int main(void)
{
    test_helpers();
    test_two_cities();
    test_uniqueness();
    test_errors();
    test_no_change();
    test_scaling();
    test_roundtrip();
    test_hat_vs_levels();
    test_warm_start();
    test_oracle();
    test_lower_costs();
    test_threads();
    test_disconnected();
    TEST_MAIN_END();
}

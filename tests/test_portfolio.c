/* Portfolio selection on synthetic interacting projects, against independent brute force. */
#include "test.h"
#include "citysys/portfolio.h"

enum { NC = 6, KMAX = 10 };
typedef struct model {
    size_t n, k;
    double y0[NC];
    double a[KMAX][NC];          /* stand-alone gain per person */
    double b[KMAX][KMAX][NC];    /* pairwise interaction (complement > 0, substitute < 0) */
    int calls;
} model;

static cs_status eval(void *user, const uint8_t *sel, size_t k, int draw, double *y)
{
    model *m = user;
    m->calls++;
    for (size_t i = 0; i < m->n; i++) {
        y[i] = m->y0[i];
        for (size_t p = 0; p < k; p++) {
            if (!sel[p]) continue;
            y[i] += m->a[p][i] * (draw ? 0.9 : 1.0);
            for (size_t q = p + 1; q < k; q++)
                if (sel[q]) y[i] += m->b[p][q][i];
        }
    }
    return CS_OK;
}

/* a rough first-order estimate: each candidate's stand-alone effect (ignores interactions), times 0.7 */
static cs_status estimate(void *user, const uint8_t *sel, size_t k, int draw, const uint8_t *want, double *dy)
{
    model *m = user;
    (void)sel;
    for (size_t p = 0; p < k; p++)
        for (size_t i = 0; i < m->n; i++) dy[p * m->n + i] = want[p] ? 0.7 * m->a[p][i] * (draw ? 0.9 : 1.0) : 0;
    return CS_OK;
}

typedef struct lin_model {
    const double *a;
    size_t k;
} lin_model;

/* one city; each project adds a[p] to its outcome */
static cs_status lin_eval(void *user, const uint8_t *sel, size_t k, int draw, double *y)
{
    const lin_model *m = user;
    (void)draw;
    y[0] = 1000;
    for (size_t p = 0; p < k; p++)
        if (sel[p]) y[0] += m->a[p];
    return CS_OK;
}

static unsigned rs = 12345;
static double urand(void)
{
    rs = rs * 1103515245u + 12345u;
    return ((rs >> 8) & 0xFFFF) / 65536.0;
}

static void make_model(model *m, size_t k)
{
    m->n = NC;
    m->k = k;
    m->calls = 0;
    for (size_t i = 0; i < NC; i++) m->y0[i] = 500 + 3000 * urand();
    for (size_t p = 0; p < k; p++)
        for (size_t i = 0; i < NC; i++) {
            m->a[p][i] = 40 * urand() * (urand() < 0.5 ? 1 : 0.1);
            for (size_t q = 0; q < k; q++) m->b[p][q][i] = (urand() - 0.5) * 20;
        }
}

/* independent objective: L (EDE_eps(y') - EDE_eps(y0)) with population weights */
static double objective(const model *m, const double *pop, const uint8_t *sel, double eps)
{
    double y[NC];
    eval((void *)m, sel, m->k, 0, y);
    ((model *)m)->calls--;
    double L = 0, s0 = 0, s1 = 0;
    for (size_t i = 0; i < NC; i++) L += pop[i];
    for (size_t i = 0; i < NC; i++) {
        if (eps == 1) {
            s0 += pop[i] / L * log(m->y0[i]);
            s1 += pop[i] / L * log(y[i]);
        } else {
            s0 += pop[i] / L * pow(m->y0[i], 1 - eps);
            s1 += pop[i] / L * pow(y[i], 1 - eps);
        }
    }
    if (eps == 1) return L * (exp(s1) - exp(s0));
    return L * (pow(s1, 1 / (1 - eps)) - pow(s0, 1 / (1 - eps)));
}

static void more_tests(const double *pop)
{
    /* per-year budgets, the estimate callback, relabelling with it, many candidates, auto, region shares */
    for (int rep = 0; rep < 12; rep++) {
        size_t k = 6 + rep % 4;
        model m;
        make_model(&m, k);
        char nb[KMAX][24];
        const char *names[KMAX];
        double capv[KMAX][2];
        cs_project_costs costs[KMAX];
        for (size_t p = 0; p < k; p++) {
            snprintf(nb[p], sizeof nb[p], "Q%02zu", (p * 7) % k);
            names[p] = nb[p];
            capv[p][0] = 1e6 * (1 + 9 * urand());
            capv[p][1] = 1e6 * (1 + 4 * urand());
            costs[p] = (cs_project_costs){capv[p], 2, 1e4, 25};
        }
        uint32_t region[NC] = {0, 0, 1, 1, 2, 2};
        cs_portfolio_problem pb = {NC, pop, m.y0, region, NULL, k, names, costs, eval, &m, estimate};
        cs_portfolio_opts o;
        cs_portfolio_opts_default(&o);
        o.epsilon = rep % 2 ? 1.5 : 0;
        double by[2] = {0, 0};
        for (size_t p = 0; p < k; p++) {
            by[0] += capv[p][0] * 0.35;
            by[1] += capv[p][1] * 0.5;
        }
        o.budget_by_year = by;
        o.n_budget_years = 2;
        o.screen = 2;
        if (rep % 3 == 2) o.min_region_share = 0.1;
        /* brute force with the year budgets and the region constraint */
        double best = 0;
        uint8_t sel[KMAX];
        for (unsigned mask = 1; mask < (1u << k); mask++) {
            double y0 = 0, y1 = 0;
            for (size_t p = 0; p < k; p++) {
                sel[p] = (mask >> p) & 1;
                if (sel[p]) y0 += capv[p][0], y1 += capv[p][1];
            }
            if (y0 > by[0] || y1 > by[1]) continue;
            if (o.min_region_share > 0) {
                double y[NC], g[3] = {0, 0, 0}, tot = 0;
                eval(&m, sel, k, 0, y);
                m.calls--;
                for (size_t i = 0; i < NC; i++) {
                    g[region[i]] += pop[i] * (y[i] - m.y0[i]);
                    tot += pop[i] * (y[i] - m.y0[i]);
                }
                if (tot > 0 && (g[0] < 0.1 * tot || g[1] < 0.1 * tot || g[2] < 0.1 * tot)) continue;
            }
            double v = objective(&m, pop, sel, o.epsilon);
            if (v > best) best = v;
        }
        cs_portfolio_result *ex, *gr, *gr2, *au;
        o.method = CS_PORTFOLIO_EXHAUSTIVE;
        CHECK_OK(cs_portfolio_select(&pb, &o, &ex));
        CHECK_NEAR(ex->objective, best, 1e-9 * fmax(1, fabs(best)));
        o.method = CS_PORTFOLIO_AUTO; /* k <= 12: exhaustive */
        CHECK_OK(cs_portfolio_select(&pb, &o, &au));
        CHECK(!memcmp(au->selected, ex->selected, k));
        o.method = CS_PORTFOLIO_GREEDY;
        CHECK_OK(cs_portfolio_select(&pb, &o, &gr));
        double y0 = 0, y1 = 0;
        for (size_t p = 0; p < k; p++)
            if (gr->selected[p]) y0 += capv[p][0], y1 += capv[p][1];
        CHECK(y0 <= by[0] * (1 + 1e-12) && y1 <= by[1] * (1 + 1e-12)); /* greedy never exceeds a budget */
        CHECK(gr->objective <= ex->objective + 1e-9 * fmax(1, fabs(ex->objective)));
        /* where both run, the exact result carries the greedy's objective and its gap (>= 0) */
        CHECK(isnan(gr->greedy_objective) && isnan(gr->greedy_gap));
        CHECK_NEAR(ex->greedy_objective, gr->objective, 1e-9 * fmax(1, fabs(gr->objective)));
        if (ex->objective != 0) {
            CHECK_NEAR(ex->greedy_gap, (ex->objective - gr->objective) / fabs(ex->objective), 1e-9);
            CHECK(ex->greedy_gap >= -1e-9);
        }
        /* pick order and marginal gains add up to the objective */
        double sum = 0;
        for (size_t q = 0; q < gr->n_selected; q++) sum += gr->marginal[gr->order[q]];
        CHECK_NEAR(sum, gr->objective, 1e-9 * fmax(1, fabs(gr->objective)));
        /* relabelling (reversing the order, same names) changes nothing, with the estimate too */
        const char *names2[KMAX];
        cs_project_costs costs2[KMAX];
        model m2 = m;
        for (size_t p = 0; p < k; p++) {
            names2[p] = names[k - 1 - p];
            costs2[p] = costs[k - 1 - p];
            for (size_t i = 0; i < NC; i++) m2.a[p][i] = m.a[k - 1 - p][i];
            for (size_t q = 0; q < k; q++)
                for (size_t i = 0; i < NC; i++) m2.b[p][q][i] = 0;
        }
        for (size_t p = 0; p < k; p++)
            for (size_t q = p + 1; q < k; q++)
                for (size_t i = 0; i < NC; i++) m2.b[k - 1 - q][k - 1 - p][i] = m.b[p][q][i];
        double by2[2] = {by[0], by[1]};
        o.budget_by_year = by2;
        cs_portfolio_problem pb2 = {NC, pop, m.y0, region, NULL, k, names2, costs2, eval, &m2, estimate};
        CHECK_OK(cs_portfolio_select(&pb2, &o, &gr2));
        CHECK_NEAR(gr2->objective, gr->objective, 1e-9 * fmax(1, fabs(gr->objective)));
        for (size_t p = 0; p < k; p++) CHECK(gr2->selected[p] == gr->selected[k - 1 - p]);
        cs_portfolio_result_free(ex);
        cs_portfolio_result_free(au);
        cs_portfolio_result_free(gr);
        cs_portfolio_result_free(gr2);
    }
    /* many candidates (no 63-candidate limit): 100 independent projects with one city each; with ε = 0
       and a linear model the greedy by gain per cost is easy to check against a sort */
    {
        enum { K = 100 };
        static double a1[K], capk[K];
        static char nm[K][16];
        static const char *nms[K];
        static cs_project_costs ck[K];
        lin_model lm = {a1, K};
        for (size_t p = 0; p < K; p++) {
            a1[p] = 1 + 99 * urand();
            capk[p] = 10 + 90 * urand();
            snprintf(nm[p], sizeof nm[p], "L%03zu", p);
            nms[p] = nm[p];
            ck[p] = (cs_project_costs){&capk[p], 1, 0, 20};
        }
        double popl[1] = {1}, yb[1] = {1000};
        cs_portfolio_problem pl = {1, popl, yb, NULL, NULL, K, nms, ck, lin_eval, &lm, NULL};
        cs_portfolio_opts o;
        cs_portfolio_opts_default(&o);
        o.budget = 1000;
        cs_portfolio_result *r;
        CHECK_OK(cs_portfolio_select(&pl, &o, &r));
        CHECK(r->capital <= 1000);
        /* independent greedy by ratio: walk the sorted list, skip what does not fit */
        size_t idx[K];
        for (size_t p = 0; p < K; p++) idx[p] = p;
        for (size_t x = 1; x < K; x++)
            for (size_t y = x; y > 0 && a1[idx[y]] / capk[idx[y]] > a1[idx[y - 1]] / capk[idx[y - 1]]; y--) {
                size_t t = idx[y];
                idx[y] = idx[y - 1];
                idx[y - 1] = t;
            }
        double left = 1000, gain = 0;
        for (size_t q = 0; q < K; q++)
            if (capk[idx[q]] <= left) {
                left -= capk[idx[q]];
                gain += a1[idx[q]];
            }
        if (r->guard_used == 0) CHECK_NEAR(r->efficiency_gain, gain, 1e-9);
        cs_portfolio_result_free(r);
    }
}

/* a misleading estimate for the linear model: est[p] per project */
typedef struct lin_est_model {
    lin_model lm; /* first: lin_eval reads it */
    const double *est;
} lin_est_model;

static cs_status lin_estimate(void *user, const uint8_t *sel, size_t k, int draw, const uint8_t *want, double *dy)
{
    const lin_est_model *m = user;
    (void)sel, (void)draw;
    for (size_t p = 0; p < k; p++) dy[p] = want[p] ? m->est[p] : 0;
    return CS_OK;
}

/* The guard covers every affordable single project: D (cost 10, gain 100) is ranked last by the estimate, so
 * the screen (1) never evaluates it alone; the greedy buys B then C (gain 5 each, cost 1) and D no longer fits.
 * Hand-worked: greedy sequence 10, D alone 100 > 10, so the result is {D} with guard_used. */
static void test_guard_all_singles(void)
{
    const double a[3] = {5, 5, 100}, est[3] = {50, 40, 1};
    double cap[3] = {1, 1, 10}, popl[1] = {1}, yb[1] = {1000};
    cs_project_costs ck[3];
    for (int p = 0; p < 3; p++) ck[p] = (cs_project_costs){&cap[p], 1, 0, 30};
    const char *nms[3] = {"B", "C", "D"};
    lin_est_model lm = {{a, 3}, est};
    cs_portfolio_problem pl = {1, popl, yb, NULL, NULL, 3, nms, ck, lin_eval, &lm, lin_estimate};
    cs_portfolio_opts o;
    cs_portfolio_opts_default(&o);
    o.budget = 10;
    o.screen = 1;
    cs_portfolio_result *r = NULL;
    CHECK_OK(cs_portfolio_select(&pl, &o, &r));
    if (!r) return;
    CHECK(r->guard_used == 1);
    CHECK(r->n_selected == 1 && r->selected[2] == 1 && !r->selected[0] && !r->selected[1]);
    CHECK_NEAR(r->objective, 100, 1e-9);
    CHECK_NEAR(r->single_best_objective, 100, 1e-9);
    CHECK(r->order[0] == 2);
    CHECK_NEAR(r->marginal[2], 100, 1e-9);
    CHECK(r->capital <= o.budget);
    cs_portfolio_result_free(r);
    /* with a budget of 12 the greedy sequence B, C, then D fits (gain 110): no guard */
    o.budget = 12;
    CHECK_OK(cs_portfolio_select(&pl, &o, &r));
    if (!r) return;
    CHECK(r->guard_used == 0 && r->n_selected == 3);
    CHECK_NEAR(r->objective, 110, 1e-9);
    cs_portfolio_result_free(r);
}

int main(void)
{
    test_guard_all_singles();
    /* Atkinson EDE by hand */
    double yy[2] = {1, 4};
    CHECK_NEAR(cs_atkinson_ede(yy, NULL, 2, 0), 2.5, 1e-15);
    CHECK_NEAR(cs_atkinson_ede(yy, NULL, 2, 1), 2.0, 1e-15);
    CHECK_NEAR(cs_atkinson_ede(yy, NULL, 2, 2), 1.6, 1e-15);
    CHECK_NEAR(cs_atkinson_ede(yy, NULL, 2, 0.5), 2.25, 1e-15);

    double pop[NC] = {1e5, 2e5, 5e4, 3e5, 8e4, 1.2e5};
    for (int rep = 0; rep < 25; rep++) {
        size_t k = 5 + rep % 5;
        model m;
        make_model(&m, k);
        char nb[KMAX][24];
        const char *names[KMAX];
        double capv[KMAX][2];
        cs_project_costs costs[KMAX];
        for (size_t p = 0; p < k; p++) {
            snprintf(nb[p], sizeof nb[p], "P%02zu", p);
            names[p] = nb[p];
            capv[p][0] = 1e6 * (1 + 9 * urand());
            capv[p][1] = 1e6 * urand();
            costs[p] = (cs_project_costs){capv[p], 2, 1e4, 25};
        }
        cs_portfolio_problem pb = {NC, pop, m.y0, NULL, NULL, k, names, costs, eval, &m, NULL};
        double eps = (rep % 3 == 0) ? 0 : (rep % 3 == 1 ? 1 : 2);
        cs_portfolio_opts o;
        cs_portfolio_opts_default(&o);
        o.epsilon = eps;
        double totK = 0;
        for (size_t p = 0; p < k; p++) totK += capv[p][0] + capv[p][1];
        o.budget = totK * 0.4;
        /* brute force */
        double best = 0;
        uint8_t bsel[KMAX] = {0}, sel[KMAX];
        for (unsigned mask = 1; mask < (1u << k); mask++) {
            double K = 0;
            for (size_t p = 0; p < k; p++) {
                sel[p] = (mask >> p) & 1;
                if (sel[p]) K += capv[p][0] + capv[p][1];
            }
            if (K > o.budget) continue;
            double v = objective(&m, pop, sel, eps);
            if (v > best) {
                best = v;
                memcpy(bsel, sel, k);
            }
        }
        o.method = CS_PORTFOLIO_EXHAUSTIVE;
        cs_portfolio_result *ex, *gr;
        CHECK_OK(cs_portfolio_select(&pb, &o, &ex));
        CHECK_NEAR(ex->objective, best, 1e-9);
        for (size_t p = 0; p < k; p++) CHECK(ex->selected[p] == bsel[p] || best == 0);
        CHECK(ex->capital <= o.budget);
        o.method = CS_PORTFOLIO_GREEDY;
        CHECK_OK(cs_portfolio_select(&pb, &o, &gr));
        CHECK(gr->capital <= o.budget * (1 + 1e-12));
        CHECK(gr->objective <= ex->objective * (1 + 1e-12) + 1e-9);
        CHECK(gr->objective >= gr->single_best_objective - 1e-9); /* guarded by the best single project */
        if (eps == 0) CHECK_NEAR(gr->objective, gr->efficiency_gain, 1e-9);
        /* relabelling: reverse the order of the projects, same names */
        const char *names2[KMAX];
        cs_project_costs costs2[KMAX];
        model m2 = m;
        for (size_t p = 0; p < k; p++) {
            names2[p] = names[k - 1 - p];
            costs2[p] = costs[k - 1 - p];
            for (size_t i = 0; i < NC; i++) m2.a[p][i] = m.a[k - 1 - p][i];
            for (size_t q = 0; q < k; q++)
                for (size_t i = 0; i < NC; i++) m2.b[p][q][i] = 0;
        }
        for (size_t p = 0; p < k; p++)
            for (size_t q = p + 1; q < k; q++)
                for (size_t i = 0; i < NC; i++) m2.b[k - 1 - q][k - 1 - p][i] = m.b[p][q][i];
        cs_portfolio_problem pb2 = {NC, pop, m.y0, NULL, NULL, k, names2, costs2, eval, &m2, NULL};
        cs_portfolio_result *gr2;
        CHECK_OK(cs_portfolio_select(&pb2, &o, &gr2));
        CHECK_NEAR(gr2->objective, gr->objective, 1e-9);
        for (size_t p = 0; p < k; p++) CHECK(gr2->selected[p] == gr->selected[k - 1 - p]);
        cs_portfolio_result_free(gr2);
        cs_portfolio_result_free(ex);
        cs_portfolio_result_free(gr);
    }

    /* complements: useless alone, valuable together — plain greedy stops, the exact method finds the pair */
    model m;
    make_model(&m, 3);
    memset(m.a, 0, sizeof m.a);
    memset(m.b, 0, sizeof m.b);
    for (size_t i = 0; i < NC; i++) {
        m.b[0][1][i] = 50;
        m.a[2][i] = 5;
    }
    double c3[3] = {1, 1, 1};
    cs_project_costs costs[3] = {{&c3[0], 1, 0, 20}, {&c3[1], 1, 0, 20}, {&c3[2], 1, 0, 20}};
    const char *names[3] = {"road A", "road B", "clinic"};
    cs_portfolio_problem pb = {NC, pop, m.y0, NULL, NULL, 3, names, costs, eval, &m, NULL};
    cs_portfolio_opts o;
    cs_portfolio_opts_default(&o);
    o.budget = 2;
    cs_portfolio_result *g, *e;
    CHECK_OK(cs_portfolio_select(&pb, &o, &g));
    o.method = CS_PORTFOLIO_EXHAUSTIVE;
    CHECK_OK(cs_portfolio_select(&pb, &o, &e));
    CHECK(e->selected[0] && e->selected[1] && !e->selected[2]);
    CHECK(g->selected[2]);
    CHECK(g->objective < e->objective);
    /* appraisal of the portfolio uses the efficiency gain as annual benefit */
    CHECK(e->appraisal.years == 21 && e->appraisal.npv > 0);
    cs_portfolio_result_free(g);
    cs_portfolio_result_free(e);
    /* Theil constraint: a project that only helps the richest city is refused */
    memset(m.b, 0, sizeof m.b);
    memset(m.a, 0, sizeof m.a);
    size_t rich = 0;
    for (size_t i = 1; i < NC; i++) if (m.y0[i] > m.y0[rich]) rich = i;
    m.a[0][rich] = 100;
    o.method = CS_PORTFOLIO_GREEDY;
    o.theil_must_not_rise = 1;
    CHECK_OK(cs_portfolio_select(&pb, &o, &g));
    CHECK(!g->selected[0]);
    cs_portfolio_result_free(g);
    /* sensitivity: deterministic with a seed */
    cs_sensitivity_opts so = {20, 7, 0.8, 1.5, 0, NULL};
    o.theil_must_not_rise = 0;
    m.a[1][0] = 10;
    cs_sensitivity_result *s1, *s2;
    CHECK_OK(cs_portfolio_sensitivity(&pb, &o, &so, &s1));
    CHECK_OK(cs_portfolio_sensitivity(&pb, &o, &so, &s2));
    for (size_t p = 0; p < 3; p++) {
        CHECK(s1->select_freq[p] >= 0 && s1->select_freq[p] <= 1);
        CHECK(s1->select_freq[p] == s2->select_freq[p] && s1->npv_mean[p] == s2->npv_mean[p]);
        CHECK(s1->npv_p05[p] <= s1->npv_mean[p] + 1e-9 && s1->npv_mean[p] <= s1->npv_p95[p] + 1e-9);
    }
    CHECK(s1->portfolio_p_npv_positive >= 0 && s1->portfolio_p_npv_positive <= 1);
    cs_sensitivity_free(s1);
    cs_sensitivity_free(s2);
    /* frontier */
    double budgets[2] = {1, 2}, epss[2] = {0, 2};
    cs_frontier_point *f;
    CHECK_OK(cs_portfolio_frontier(&pb, &o, budgets, 2, epss, 2, &f));
    CHECK(f[0].capital <= 1 && f[3].capital <= 2);
    cs_frontier_free(f, 4);

    more_tests(pop);
    TEST_MAIN_END();
}

/* test_facility_brute.c: every model against exhaustive search on random instances (n <= 30),
 * plus GLPK error translation, infeasibility messages, catchment hulls, outputs, nested levels,
 * coverage curves, determinism and the time limit. */
#include "test.h"
#include "citysys/facility.h"
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

cs_status fac_glpk_provoke_error(void); /* internal (src/plan/facility_glpk.c) */

static uint64_t rng_state = 12345;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

typedef struct inst {
    cs_matrix *M;
    double *w;
    double *xy_d, *xy_c;
    size_t n, m;
} inst;

/* n demand points, m candidates in the unit square (scaled 0..100), Euclidean times; integer costs
 * when `integer`; a fraction `unreach` of pairs unreachable. */
static inst make_inst(size_t n, size_t m, int integer, double unreach)
{
    inst I = {0};
    I.n = n;
    I.m = m;
    cs_matrix_new(n, m, CS_MATRIX_TIME, &I.M);
    I.w = calloc(n, sizeof *I.w);
    I.xy_d = calloc(2 * n, sizeof(double));
    I.xy_c = calloc(2 * m, sizeof(double));
    for (size_t i = 0; i < 2 * n; i++) I.xy_d[i] = 100 * urand();
    for (size_t j = 0; j < 2 * m; j++) I.xy_c[j] = 100 * urand();
    for (size_t i = 0; i < n; i++) {
        I.w[i] = integer ? (double)(1 + (int)(urand() * 50)) : 0.5 + 10 * urand();
        if (urand() < 0.1) I.w[i] = 0;
        for (size_t j = 0; j < m; j++) {
            double d = hypot(I.xy_d[2 * i] - I.xy_c[2 * j], I.xy_d[2 * i + 1] - I.xy_c[2 * j + 1]);
            if (integer) d = round(d);
            if (urand() < unreach) d = INFINITY;
            I.M->v[i * m + j] = d;
        }
    }
    return I;
}

static void free_inst(inst *I)
{
    cs_matrix_free(I->M);
    free(I->w);
    free(I->xy_d);
    free(I->xy_c);
}

/* value of an open set (bitmask over candidates) */
static double eval_set(const inst *I, cs_fac_model model, unsigned mask, double radius)
{
    double s = 0, mx = 0;
    for (size_t i = 0; i < I->n; i++) {
        double b = INFINITY;
        for (size_t j = 0; j < I->m; j++)
            if (mask >> j & 1) b = fmin(b, I->M->v[i * I->m + j]);
        switch (model) {
        case CS_FAC_PMEDIAN:
            if (I->w[i] > 0) s += I->w[i] * b;
            break;
        case CS_FAC_MCLP:
            if (b <= radius) s += I->w[i];
            break;
        case CS_FAC_SCP:
            if (I->w[i] > 0 && !(b <= radius)) return INFINITY;
            break;
        case CS_FAC_PCENTER:
            if (I->w[i] > 0) mx = fmax(mx, b);
            break;
        }
    }
    if (model == CS_FAC_SCP) return (double)__builtin_popcount(mask);
    return model == CS_FAC_PCENTER ? mx : s;
}

/* Best over all sets containing `fixed` with `k` more sites (k < 0: any size, SCP counts new sites). */
static double brute(const inst *I, cs_fac_model model, unsigned fixed, int k, double radius)
{
    int maximise = model == CS_FAC_MCLP;
    double best = maximise ? -INFINITY : INFINITY;
    for (unsigned mask = 0; mask < (1u << I->m); mask++) {
        if ((mask & fixed) != fixed) continue;
        int extra = __builtin_popcount(mask & ~fixed);
        if (k >= 0 && extra != k) continue;
        double v = eval_set(I, model, mask, radius);
        if (model == CS_FAC_SCP && isfinite(v)) v = extra;
        if (maximise ? v > best : v < best) best = v;
    }
    return best;
}

/* capacitated single-source: enumerate sets, then assignments by depth-first search */
static double cap_best;
static void cap_dfs(const inst *I, const double *Q, const int *open, int nopen, size_t i, double *load, double cost)
{
    if (cost >= cap_best) return;
    if (i == I->n) {
        cap_best = cost;
        return;
    }
    if (I->w[i] <= 0) {
        cap_dfs(I, Q, open, nopen, i + 1, load, cost);
        return;
    }
    for (int a = 0; a < nopen; a++) {
        int j = open[a];
        double d = I->M->v[i * I->m + (size_t)j];
        if (!isfinite(d) || load[j] + I->w[i] > Q[j] + 1e-9) continue;
        load[j] += I->w[i];
        cap_dfs(I, Q, open, nopen, i + 1, load, cost + I->w[i] * d);
        load[j] -= I->w[i];
    }
}

static double brute_cap(const inst *I, const double *Q, int P)
{
    cap_best = INFINITY;
    for (unsigned mask = 0; mask < (1u << I->m); mask++) {
        if (__builtin_popcount(mask) != P) continue;
        int open[32], k = 0;
        for (size_t j = 0; j < I->m; j++)
            if (mask >> j & 1) open[k++] = (int)j;
        double load[32] = {0};
        cap_dfs(I, Q, open, k, 0, load, 0);
    }
    return cap_best;
}

static void test_models(void)
{
    const cs_fac_model models[] = {CS_FAC_PMEDIAN, CS_FAC_MCLP, CS_FAC_SCP, CS_FAC_PCENTER};
    int ncases = 0;
    for (int rep = 0; rep < 24; rep++) {
        size_t n = 8 + (size_t)(urand() * 22); /* 8..29 */
        size_t m = 5 + (size_t)(urand() * 8);  /* 5..12 */
        int integer = rep % 2;
        double unreach = rep % 3 == 2 ? 0.25 : 0;
        inst I = make_inst(n, m, integer, unreach);
        uint32_t ex[1] = {(uint32_t)(urand() * (double)m)};
        int use_ex = rep % 4 == 1;
        unsigned fixed = use_ex ? 1u << ex[0] : 0;
        for (int mi = 0; mi < 4; mi++) {
            cs_fac_problem pr = {0};
            pr.model = models[mi];
            pr.cost = I.M;
            pr.weight = I.w;
            pr.p = 1 + (size_t)(urand() * 3.0);
            pr.radius = 20 + 30 * urand();
            pr.existing = use_ex ? ex : NULL;
            pr.nexisting = use_ex ? 1 : 0;
            double want = brute(&I, pr.model, fixed, pr.model == CS_FAC_SCP ? -1 : (int)pr.p, pr.radius);
            for (int variant = 0; variant < 3; variant++) {
                cs_fac_options o;
                cs_fac_options_default(&o);
                o.method = variant == 2 ? CS_FAC_HEURISTIC : CS_FAC_EXACT;
                if (variant == 1) o.lagrangian_iters = 0; /* pure GLPK */
                cs_fac_solution *s = NULL;
                cs_status st = cs_fac_solve(&pr, &o, &s);
                ncases++;
                if (!isfinite(want) && pr.model != CS_FAC_MCLP) {
                    /* brute force finds no feasible set: must be reported infeasible */
                    CHECK(st == CS_EINFEASIBLE);
                    if (st != CS_EINFEASIBLE)
                        fprintf(stderr, "rep %d model %s: expected infeasible, got %d\n", rep,
                                cs_fac_model_name(pr.model), st);
                    cs_fac_solution_free(s);
                    continue;
                }
                CHECK_OK(st);
                if (!s) continue;
                if (variant < 2) {
                    CHECK_NEAR(s->objective, want, 1e-9);
                    CHECK(s->optimal);
                    if (fabs(s->objective - want) > 1e-9 * fmax(1, fabs(want)))
                        fprintf(stderr, "rep %d model %s variant %d n=%zu m=%zu p=%zu: got %.10g want %.10g [%s]\n", rep,
                                cs_fac_model_name(pr.model), variant, n, m, pr.p, s->objective, want, s->message);
                } else {
                    /* heuristic: feasible and no better than the optimum; its bound is valid */
                    if (pr.model == CS_FAC_MCLP) CHECK(s->objective <= want + 1e-9 * fmax(1, want));
                    else CHECK(s->objective >= want - 1e-9 * fmax(1, want));
                    if (!isnan(s->bound)) {
                        if (pr.model == CS_FAC_MCLP) CHECK(s->bound >= want - 1e-6 * fmax(1, want));
                        else CHECK(s->bound <= want + 1e-6 * fmax(1, want));
                    }
                }
                /* the reported objective is the evaluation of the reported sites */
                cs_fac_solution *e = NULL;
                CHECK_OK(cs_fac_evaluate(&pr, s->sites, s->nsites, &e));
                if (e) CHECK_NEAR(e->objective, s->objective, 1e-12);
                cs_fac_solution_free(e);
                if (pr.model != CS_FAC_SCP) CHECK(s->nsites == pr.p + pr.nexisting);
                if (use_ex) {
                    int found = 0;
                    for (size_t a = 0; a < s->nsites; a++) found |= s->sites[a] == ex[0] && s->existing[a];
                    CHECK(found);
                }
                cs_fac_solution_free(s);
            }
        }
        /* capacitated single-source p-median on the first 8 demand points */
        if (n >= 8) {
            inst J = I;
            J.n = 8;
            cs_matrix *sub = NULL;
            cs_matrix_new(8, m, CS_MATRIX_TIME, &sub);
            memcpy(sub->v, I.M->v, 8 * m * sizeof(double));
            J.M = sub;
            double tot = 0;
            for (size_t i = 0; i < 8; i++) tot += J.w[i];
            double *Q = calloc(m, sizeof *Q);
            for (size_t j = 0; j < m; j++) Q[j] = tot * (0.3 + 0.5 * urand());
            int P = 2 + rep % 2;
            double want = brute_cap(&J, Q, P);
            cs_fac_problem pr = {0};
            pr.model = CS_FAC_PMEDIAN;
            pr.cost = sub;
            pr.weight = J.w;
            pr.p = (size_t)P;
            pr.capacity = Q;
            for (int heur = 0; heur < 2; heur++) {
                cs_fac_options o;
                cs_fac_options_default(&o);
                o.method = heur ? CS_FAC_HEURISTIC : CS_FAC_EXACT;
                cs_fac_solution *s = NULL;
                cs_status st = cs_fac_solve(&pr, &o, &s);
                ncases++;
                if (!isfinite(want)) CHECK(st == CS_EINFEASIBLE);
                else if (heur && st == CS_EINFEASIBLE) {
                    /* the heuristic may miss a feasible assignment; it must say so, not return one */
                    CHECK(s == NULL);
                } else {
                    CHECK_OK(st);
                    if (s) {
                        if (heur) CHECK(s->objective >= want - 1e-9 * fmax(1, want));
                        else CHECK_NEAR(s->objective, want, 1e-9);
                        /* loads within capacity */
                        double load[32] = {0};
                        for (size_t i = 0; i < 8; i++)
                            if (s->assign[i] != CS_INVALID_ID && J.w[i] > 0) load[s->sites[s->assign[i]]] += J.w[i];
                        for (size_t j = 0; j < m; j++) CHECK(load[j] <= Q[j] + 1e-9);
                    }
                }
                cs_fac_solution_free(s);
            }
            free(Q);
            cs_matrix_free(sub);
        }
        free_inst(&I);
    }
    printf("%d solver runs compared with exhaustive search\n", ncases);
}

static void test_glpk_error(void)
{
    cs_status st = fac_glpk_provoke_error();
    CHECK(st == CS_EDEPENDENCY);
    CHECK(strstr(cs_error_last()->message, "GLPK") != NULL);
    printf("translated GLPK error: %s\n", cs_error_last()->message);
    /* GLPK still usable afterwards */
    inst I = make_inst(10, 5, 1, 0);
    cs_fac_problem pr = {0};
    pr.model = CS_FAC_PMEDIAN;
    pr.cost = I.M;
    pr.weight = I.w;
    pr.p = 2;
    cs_fac_options o;
    cs_fac_options_default(&o);
    o.method = CS_FAC_EXACT;
    o.lagrangian_iters = 0;
    cs_fac_solution *s = NULL;
    CHECK_OK(cs_fac_solve(&pr, &o, &s));
    if (s) CHECK_NEAR(s->objective, brute(&I, CS_FAC_PMEDIAN, 0, 2, 0), 1e-12);
    cs_fac_solution_free(s);
    free_inst(&I);
}

static void test_scp_infeasible(void)
{
    cs_matrix *M = NULL;
    CHECK_OK(cs_matrix_new(3, 2, CS_MATRIX_TIME, &M));
    const char *rows[] = {"Aville", "Bton", "Cburg"}, *cols[] = {"s1", "s2"};
    CHECK_OK(cs_matrix_set_ids(M, rows, cols));
    double v[] = {10, 50, 60, 70, 5, INFINITY};
    memcpy(M->v, v, sizeof v);
    cs_fac_problem pr = {0};
    pr.model = CS_FAC_SCP;
    pr.cost = M;
    pr.radius = 20;
    cs_fac_solution *s = NULL;
    cs_status st = cs_fac_solve(&pr, NULL, &s);
    CHECK(st == CS_EINFEASIBLE);
    CHECK(strstr(cs_error_last()->message, "Bton") != NULL);
    CHECK(strstr(cs_error_last()->message, "Aville") == NULL);
    printf("SCP infeasible: %s\n", cs_error_last()->message);
    /* bad inputs */
    pr.model = CS_FAC_PMEDIAN;
    pr.p = 3;
    CHECK(cs_fac_solve(&pr, NULL, &s) == CS_EINVAL);
    M->v[0] = NAN;
    pr.p = 1;
    CHECK(cs_fac_solve(&pr, NULL, &s) == CS_EINVAL);
    M->v[0] = 10;
    double cap[2] = {1, 1};
    pr.model = CS_FAC_MCLP;
    pr.capacity = cap;
    CHECK(cs_fac_solve(&pr, NULL, &s) == CS_EINVAL);
    CHECK(s == NULL);
    cs_matrix_free(M);
}

static void test_hull_outputs_nested(void)
{
    /* 6 demand points, 2 candidates at demand 0 and 5. Times: |x difference|. */
    double xs[] = {0, 1, 1, 0, 0.5, 10}, ys[] = {0, 0, 1, 1, 0.5, 0};
    cs_matrix *M = NULL;
    CHECK_OK(cs_matrix_new(6, 2, CS_MATRIX_TIME, &M));
    for (size_t i = 0; i < 6; i++) {
        M->v[i * 2 + 0] = hypot(xs[i] - 0, ys[i] - 0);
        M->v[i * 2 + 1] = hypot(xs[i] - 10, ys[i] - 0);
    }
    double cl[2] = {0, 10}, ct[2] = {0, 0};
    cs_fac_problem pr = {0};
    pr.model = CS_FAC_PMEDIAN;
    pr.cost = M;
    pr.p = 2;
    cs_fac_solution *s = NULL;
    CHECK_OK(cs_fac_solve(&pr, NULL, &s));
    if (!s) return;
    CHECK(s->nsites == 2);
    cs_fac_geo g = {xs, ys, cl, ct, NULL};
    double xy[32];
    size_t nv = 0;
    CHECK_OK(cs_fac_catchment_hull(s, &g, 0, xy, 16, &nv));
    CHECK(nv == 4); /* the unit square; (0.5,0.5) inside, site at (0,0) a corner */
    CHECK_OK(cs_fac_catchment_hull(s, &g, 1, xy, 16, &nv));
    CHECK(nv == 1); /* only itself */
    CHECK_NEAR(s->catchment_weight[0], 5, 0);
    CHECK_NEAR(s->catchment_weight[1], 1, 0);
    /* collinear members -> a segment */
    double ys2[] = {0, 0, 0, 0, 0, 0};
    cs_fac_geo g2 = {xs, ys2, cl, ct, NULL};
    CHECK_OK(cs_fac_catchment_hull(s, &g2, 0, xy, 16, &nv));
    CHECK(nv == 2);
    double radii[1] = {1.0};
    double curve[3];
    CHECK_OK(cs_fac_coverage_curve(&pr, radii, 1, 2, NULL, curve));
    CHECK_NEAR(curve[0], 0, 0);
    CHECK_NEAR(curve[1], 4, 0); /* site 0 covers (0,0),(1,0),(0,1),(0.5,0.5) within 1 */
    CHECK_NEAR(curve[2], 5, 0);
    char dir[512];
    snprintf(dir, sizeof dir, "facility-out-%d", (int)getpid());
    CHECK_OK(cs_fac_write(&pr, s, &g, radii, 1, 2, curve, dir));
    char path[700];
    snprintf(path, sizeof path, "%s/solution.json", dir);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    CHECK(root != NULL);
    if (root) {
        CHECK(json_is_true(json_object_get(root, "optimal")));
        CHECK(json_array_size(json_object_get(root, "sites")) == 2);
        CHECK(json_array_size(json_object_get(root, "assignment")) == 6);
        json_decref(root);
    }
    snprintf(path, sizeof path, "%s/catchments.geojson", dir);
    root = json_load_file(path, 0, &je);
    CHECK(root != NULL);
    if (root) {
        json_t *f0 = json_array_get(json_object_get(root, "features"), 0);
        CHECK(!strcmp(json_string_value(json_object_get(json_object_get(f0, "geometry"), "type")), "Polygon"));
        json_decref(root);
    }
    const char *files[] = {"sites.csv", "assignment.csv", "coverage.csv"};
    for (int k = 0; k < 3; k++) {
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        CHECK(stat(path, &sb) == 0 && sb.st_size > 0);
    }
    cs_remove_tree(dir);
    cs_fac_solution_free(s);
    cs_matrix_free(M);

    /* nested: national site among regional sites = brute force over the regional sites */
    inst I = make_inst(25, 10, 1, 0);
    pr.cost = I.M;
    pr.weight = I.w;
    pr.p = 4;
    CHECK_OK(cs_fac_solve(&pr, NULL, &s));
    cs_fac_solution *nat = NULL;
    CHECK_OK(cs_fac_solve_nested(&pr, s, 1, NULL, 0, NULL, &nat));
    if (s && nat) {
        unsigned mask = 0;
        for (size_t a = 0; a < s->nsites; a++) mask |= 1u << s->sites[a];
        double best = INFINITY;
        uint32_t bj = 0;
        for (size_t a = 0; a < s->nsites; a++) {
            double v = eval_set(&I, CS_FAC_PMEDIAN, 1u << s->sites[a], 0);
            if (v < best) best = v, bj = s->sites[a];
        }
        CHECK(nat->nsites == 1);
        CHECK(nat->sites[0] == bj);
        CHECK_NEAR(nat->objective, best, 1e-12);
        (void)mask;
    }
    cs_fac_solution_free(nat);
    cs_fac_solution_free(s);
    free_inst(&I);
}

static int cancel_cb(void *user, const char *stage, double done, double total)
{
    (void)done;
    (void)total;
    const char *want = user;
    return want == NULL || strcmp(stage, want) == 0;
}

static void test_cancel(void)
{
    inst I = make_inst(40, 30, 1, 0);
    for (int model = 0; model < 4; model++) {
        cs_fac_problem pr = {0};
        pr.model = (cs_fac_model)model;
        pr.cost = I.M;
        pr.weight = I.w;
        pr.p = 3;
        pr.radius = 30;
        cs_fac_options o;
        cs_fac_options_default(&o);
        o.method = CS_FAC_EXACT;
        o.lagrangian_iters = 0;
        o.progress.fn = cancel_cb;
        o.progress.user = NULL; /* cancel at the first report */
        cs_fac_solution *s = NULL;
        cs_status st = cs_fac_solve(&pr, &o, &s);
        /* SCP reports no progress before GLPK; it may finish at the root without a node selection */
        if (model != CS_FAC_SCP) CHECK(st == CS_ECANCELED);
        else CHECK(st == CS_ECANCELED || st == CS_OK);
        CHECK(st != CS_OK || s != NULL);
        cs_fac_solution_free(s);
    }
    free_inst(&I);
}

static void test_determinism_timelimit(void)
{
    inst I = make_inst(150, 150, 0, 0);
    cs_fac_problem pr = {0};
    pr.model = CS_FAC_PMEDIAN;
    pr.cost = I.M;
    pr.weight = I.w;
    pr.p = 7;
    cs_fac_options o;
    cs_fac_options_default(&o);
    o.method = CS_FAC_HEURISTIC;
    o.seed = 42;
    cs_fac_solution *a = NULL, *b = NULL;
    CHECK_OK(cs_fac_solve(&pr, &o, &a));
    CHECK_OK(cs_fac_solve(&pr, &o, &b));
    if (a && b) {
        CHECK(a->nsites == b->nsites && !memcmp(a->sites, b->sites, a->nsites * sizeof *a->sites));
        CHECK(a->objective == b->objective);
        CHECK(!isnan(a->bound) && a->bound <= a->objective);
        printf("heuristic n=150 p=7: %.6g, Lagrangian bound %.6g, gap %.4f%%\n", a->objective, a->bound, 100 * a->gap);
    }
    cs_fac_solution_free(a);
    cs_fac_solution_free(b);
#ifdef _OPENMP
    /* same result with 1 and 3 threads (starts run in parallel) */
    omp_set_num_threads(1);
    CHECK_OK(cs_fac_solve(&pr, &o, &a));
    omp_set_num_threads(3);
    CHECK_OK(cs_fac_solve(&pr, &o, &b));
    if (a && b) {
        CHECK(a->nsites == b->nsites && !memcmp(a->sites, b->sites, a->nsites * sizeof *a->sites));
        CHECK(a->objective == b->objective && a->bound == b->bound);
    }
    cs_fac_solution_free(a);
    cs_fac_solution_free(b);
    omp_set_num_threads(2);
#endif
    /* pure GLPK with a short time limit: either optimal or stopped with a valid proven gap */
    o.method = CS_FAC_EXACT;
    o.lagrangian_iters = 0;
    o.time_limit_s = 0.3;
    CHECK_OK(cs_fac_solve(&pr, &o, &a));
    if (a) {
        CHECK(a->optimal || a->time_limited);
        CHECK(isnan(a->bound) || a->bound <= a->objective * (1 + 1e-9));
        printf("exact with 0.3 s limit: %.6g bound %.6g gap %.4f%% optimal %d time_limited %d [%s]\n", a->objective,
               a->bound, 100 * a->gap, a->optimal, a->time_limited, a->message);
    }
    cs_fac_solution_free(a);
    free_inst(&I);
}

/* Fail the k-th allocation for k = 1, 2, ... until the call succeeds: every failure must be a clean
 * CS_ENOMEM with no output (leaks are caught by the sanitizer build). */
static void test_oom(void)
{
    inst I = make_inst(12, 6, 1, 0);
    double cap[6];
    for (int k = 0; k < 6; k++) cap[k] = 200;
    for (int model = 0; model < 5; model++) {
        cs_fac_problem pr = {0};
        pr.model = model == 4 ? CS_FAC_PMEDIAN : (cs_fac_model)model;
        pr.cost = I.M;
        pr.weight = I.w;
        pr.p = 2;
        pr.radius = 40;
        pr.capacity = model == 4 ? cap : NULL;
        for (int method = 1; method <= 2; method++) {
            cs_fac_options o;
            cs_fac_options_default(&o);
            o.method = (cs_fac_method)method;
            cs_fac_solution *s0 = NULL;
            cs_status st0 = cs_fac_solve(&pr, &o, &s0);
            cs_fac_solution_free(s0);
            int okrun = 0;
            for (long k = 1; k < 5000 && !okrun; k++) {
                cs_fac_solution *s = NULL;
                cs_alloc_fail_after(k, 0);
                cs_status st = cs_fac_solve(&pr, &o, &s);
                cs_alloc_fail_after(0, 0);
                if (st != CS_ENOMEM) {
                    CHECK(st == st0);
                    okrun = 1;
                } else {
                    CHECK(s == NULL);
                }
                cs_fac_solution_free(s);
            }
            CHECK(okrun);
        }
    }
    free_inst(&I);
}

int main(void)
{
    test_oom();
    test_models();
    test_glpk_error();
    test_scp_infeasible();
    test_hull_outputs_nested();
    test_determinism_timelimit();
    test_cancel();
    TEST_MAIN_END();
}

/* Typology on hand-made systems with known answers, plus invariants (docs/typology.md). */
#include <string.h>
#include "test.h"
#include "citysys/alloc.h"
#include "citysys/typology.h"

/* cities on a line: t_ij = |x_i - x_j| minutes */
static cs_matrix *line_matrix(size_t n, const double *x_min)
{
    cs_matrix *m;
    cs_matrix_new(n, n, CS_MATRIX_TIME, &m);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) m->v[i * n + j] = fabs(x_min[i] - x_min[j]) * 60.0;
    return m;
}

static void test_core_satellites(void)
{
    /* core C (200k) at 0; satellites at 20, 70 and 200 minutes; a second small town near the far one */
    double x[5] = {0, 20, 70, 200, 205};
    double pop[5] = {200000, 10000, 8000, 6000, 3000};
    cs_matrix *t = line_matrix(5, x);
    cs_typology_input in = {5, pop, NULL, NULL, t, NULL, NULL};
    cs_typology_params p;
    cs_typology_params_default(&p);
    /* brute-force oracle of the production-constrained shares for town 1 -> core 0 */
    double den = 0;
    for (int k = 0; k < 5; k++) {
        double tm = k == 1 ? 10.0 : fabs(x[1] - x[k]);
        den += pop[k] * exp(-0.1 * tm);
    }
    double s10 = pop[0] * exp(-0.1 * 20) / den;
    double s[25];
    CHECK_OK(cs_commute_shares(&in, &p, s));
    CHECK_NEAR(s[1 * 5 + 0], s10, 1e-12);
    double rs = 0;
    for (int k = 0; k < 5; k++) rs += s[2 * 5 + k];
    CHECK_NEAR(rs, 1.0, 1e-12);
    cs_typology *ty;
    CHECK_OK(cs_typology_compute(&in, &p, NULL, NULL, &ty));
    CHECK(ty->n_clusters == 1);
    CHECK(ty->is_core[0] && !ty->is_core[1]);
    CHECK(ty->cluster[0] == 0 && ty->cluster[1] == 0);
    CHECK_NEAR(ty->commute_share[1], s10, 1e-12);
    CHECK(s10 >= 0.15);
    /* town 2 at 70 min: share below 15 % -> outside */
    CHECK(s[2 * 5 + 0] < 0.15 && ty->cluster[2] == CS_INVALID_ID);
    CHECK(ty->cluster[3] == CS_INVALID_ID && ty->cluster[4] == CS_INVALID_ID);
    CHECK_NEAR(ty->cluster_population[0], 210000, 1e-12);
    /* primary / secondary / isolated */
    CHECK(ty->is_primary[0] && !ty->is_primary[1]);
    CHECK(!ty->is_secondary[1]); /* 5 % of the largest */
    CHECK(ty->is_isolated[2] == 0 && ty->is_isolated[3] == 0);
    cs_typology_free(ty);
    /* a maximum commuting time below 20 minutes excludes town 1; a longer one never splits the cluster */
    p.max_commute_s = 15 * 60;
    CHECK_OK(cs_typology_compute(&in, &p, NULL, NULL, &ty));
    CHECK(ty->cluster[1] == CS_INVALID_ID);
    cs_typology_free(ty);
    uint32_t prev[5];
    for (int i = 0; i < 5; i++) prev[i] = CS_INVALID_ID;
    for (double mt = 10; mt <= 300; mt += 10) {
        p.max_commute_s = mt * 60;
        CHECK_OK(cs_typology_compute(&in, &p, NULL, NULL, &ty));
        for (int i = 0; i < 5; i++) {
            if (prev[i] != CS_INVALID_ID) CHECK(ty->cluster[i] == prev[i]);
            prev[i] = ty->cluster[i];
        }
        cs_typology_free(ty);
    }
    cs_matrix_free(t);
}

static void test_core_merge(void)
{
    /* two cores 15 minutes apart: merged only when the commuting share passes 15 % (observed flows) */
    double x[2] = {0, 15};
    double pop[2] = {100000, 80000};
    cs_matrix *t = line_matrix(2, x), *c;
    cs_matrix_new(2, 2, CS_MATRIX_FLOW, &c);
    c->v[0] = 900; c->v[1] = 100; c->v[2] = 100; c->v[3] = 900; /* 10 % each way */
    cs_typology_input in = {2, pop, NULL, NULL, t, c, NULL};
    cs_typology *ty;
    CHECK_OK(cs_typology_compute(&in, NULL, NULL, NULL, &ty));
    CHECK(ty->n_clusters == 2 && ty->cluster[0] != ty->cluster[1]);
    CHECK(ty->cluster[0] == 0); /* larger cluster first */
    cs_typology_free(ty);
    c->v[2] = 200; c->v[3] = 800; /* 20 % from the second to the first */
    CHECK_OK(cs_typology_compute(&in, NULL, NULL, NULL, &ty));
    CHECK(ty->n_clusters == 1 && ty->cluster[0] == 0 && ty->cluster[1] == 0 && ty->cluster_n_cores[0] == 2);
    cs_typology_free(ty);
    cs_matrix_free(c);
    cs_matrix_free(t);
}

static void test_corridor(void)
{
    /* A (1M) at 0, towns at 60, 120, 180, B (2M) at 240 on a highway; an off-road town 100 min off the route */
    size_t n = 6;
    double pop[6] = {1000000, 20000, 30000, 25000, 2000000, 40000};
    cs_matrix *t;
    cs_matrix_new(n, n, CS_MATRIX_TIME, &t);
    double x[6] = {0, 60, 120, 180, 240, 120};
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double d = fabs(x[i] - x[j]);
            if ((i == 5) != (j == 5)) d += 100; /* town 5 hangs 100 min off the highway */
            t->v[i * n + j] = i == j ? 0 : d * 60;
        }
    const char *ids[6] = {"A", "t1", "t2", "t3", "B", "off"};
    cs_typology_input in = {n, pop, NULL, ids, t, NULL, NULL};
    cs_typology_params p;
    cs_typology_params_default(&p);
    p.corridor_min_population = 500000;
    cs_typology *ty;
    CHECK_OK(cs_typology_compute(&in, &p, NULL, NULL, &ty));
    CHECK(ty->n_corridors == 1);
    if (ty->n_corridors == 1) {
        cs_corridor *c = &ty->corridors[0];
        CHECK(c->a == 0 && c->b == 4 && c->n_towns == 3);
        CHECK(c->towns[0] == 1 && c->towns[1] == 2 && c->towns[2] == 3);
        CHECK_NEAR(c->population, 3075000, 1e-12);
        CHECK_NEAR(c->time_s, 240 * 60, 1e-12);
        CHECK_NEAR(c->mean_spacing_s, 60 * 60, 1e-12);
        for (uint32_t k = 0; k < c->n_towns; k++) {
            uint32_t tw = c->towns[k];
            double d = t->v[0 * n + tw] + t->v[tw * n + 4] - t->v[0 * n + 4];
            CHECK(d <= fmin(p.corridor_max_detour_s, p.corridor_max_detour_frac * c->time_s));
        }
    }
    cs_typology_free(ty);
    /* needs at least three towns */
    p.corridor_min_towns = 4;
    CHECK_OK(cs_typology_compute(&in, &p, NULL, NULL, &ty));
    CHECK(ty->n_corridors == 0);
    cs_typology_free(ty);
    cs_matrix_free(t);
}

/* a route callback with made-up routes: A–B uses segments 10,11,12, B–C uses 11,12,13 (unit lengths) or,
   with g_apart, 20,21,22 */
static int g_apart;
static cs_status fake_routes(void *user, uint32_t a, uint32_t b, cs_route *out)
{
    int *calls = user;
    (*calls)++;
    memset(out, 0, sizeof *out);
    uint32_t base = (a == 0 && b == 4) ? 10 : (a == 4 && b == 8) ? (g_apart ? 20 : 11) : 100;
    out->n = 3;
    out->seg = cs_mallocarray(3, sizeof *out->seg);
    out->len_m = cs_mallocarray(3, sizeof *out->len_m);
    out->lon = cs_mallocarray(2, sizeof(double));
    out->lat = cs_mallocarray(2, sizeof(double));
    for (int k = 0; k < 3; k++) {
        out->seg[k] = base + (uint32_t)k;
        out->len_m[k] = 1000;
    }
    out->npts = 2;
    out->lon[0] = a;
    out->lon[1] = b;
    out->lat[0] = out->lat[1] = 0;
    out->length_m = 3000;
    out->time_s = 100.0 * (a + b);
    return CS_OK;
}

static void test_corridor_routes(void)
{
    /* A - t1 t2 t3 - B - t4 t5 t6 - C on a line, 60 min apart: corridors A–B and B–C share only B (set overlap
       1/5: kept apart without routes); with routes sharing 2 of 3 segments they merge */
    size_t n = 9;
    double pop[9] = {1000000, 20000, 30000, 25000, 2000000, 20000, 30000, 25000, 1500000};
    cs_matrix *t;
    cs_matrix_new(n, n, CS_MATRIX_TIME, &t);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) t->v[i * n + j] = fabs((double)i - (double)j) * 3600;
    const char *ids[9] = {"A", "t1", "t2", "t3", "B", "t4", "t5", "t6", "C"};
    cs_typology_input in = {n, pop, NULL, ids, t, NULL, NULL};
    cs_typology_params p;
    cs_typology_params_default(&p);
    p.corridor_min_population = 500000;
    cs_typology *ty;
    CHECK_OK(cs_typology_compute(&in, &p, NULL, NULL, &ty));
    CHECK(ty->n_corridors == 2);
    for (uint32_t k = 0; k < ty->n_corridors; k++) {
        CHECK(ty->corridors[k].merged_into == CS_INVALID_ID);
        CHECK(isnan(ty->corridors[k].route_length_m) && ty->corridors[k].route.n == 0);
    }
    cs_typology_free(ty);
    int calls = 0;
    g_apart = 0;
    CHECK_OK(cs_typology_compute(&in, &p, fake_routes, &calls, &ty));
    CHECK(calls == 2); /* one route per corridor */
    CHECK(ty->n_corridors == 2);
    if (ty->n_corridors == 2) {
        uint32_t live = ty->corridors[0].merged_into == CS_INVALID_ID ? 0 : 1;
        CHECK(ty->corridors[1 - live].merged_into == live);
        CHECK(ty->corridors[live].n_towns == 7); /* union of the towns and the other's ends */
        CHECK_NEAR(ty->corridors[live].route_length_m, 3000, 1e-12);
        CHECK(ty->corridors[live].route.npts == 2);
    }
    cs_typology_free(ty);
    g_apart = 1;
    CHECK_OK(cs_typology_compute(&in, &p, fake_routes, &calls, &ty));
    CHECK(ty->n_corridors == 2 && ty->corridors[0].merged_into == CS_INVALID_ID &&
          ty->corridors[1].merged_into == CS_INVALID_ID);
    if (ty->n_corridors == 2) CHECK_NEAR(ty->corridors[1].route_time_s, 1200, 1e-12);
    cs_typology_free(ty);
    cs_matrix_free(t);
}

static void test_hubs(void)
{
    /* two-level hierarchy: H (big) <- M (mid) <- s1, s2 (near M); H <- h1 near H */
    size_t n = 5;
    double pop[5] = {1000000, 200000, 10000, 12000, 15000};
    double x[5] = {0, 100, 120, 130, 20};
    cs_matrix *t = line_matrix(n, x);
    cs_typology_input in = {n, pop, NULL, NULL, t, NULL, NULL};
    cs_typology *ty;
    CHECK_OK(cs_typology_compute(&in, NULL, NULL, NULL, &ty));
    CHECK(ty->is_hub[0] && !ty->is_hub[1] && !ty->is_hub[2]);
    CHECK(ty->parent[2] == 1 && ty->parent[3] == 1 && ty->parent[1] == 0 && ty->parent[4] == 0);
    CHECK(ty->hub_level[0] == 1 && ty->hub_level[1] == 2 && ty->hub_level[2] == 3);
    CHECK(ty->hub[2] == 0 && ty->hub[1] == 0);
    CHECK_NEAR(ty->hinterland_population[1], 222000, 1e-12);
    CHECK_NEAR(ty->hinterland_population[0], 1237000, 1e-12);
    /* inflows equal an independent sum */
    double in0 = 0;
    for (size_t i = 1; i < n; i++) in0 += pop[i] * pop[0] * exp(-0.02 * fabs(x[i] - x[0]));
    CHECK_NEAR(ty->inflow[0], in0, 1e-12);
    cs_typology_free(ty);
    /* a town whose every flow is zero (unreachable) is its own hub and isolated */
    t->v[0 * n + 4] = t->v[4 * n + 0] = INFINITY;
    for (size_t i = 1; i < 4; i++) t->v[i * n + 4] = t->v[4 * n + i] = INFINITY;
    CHECK_OK(cs_typology_compute(&in, NULL, NULL, NULL, &ty));
    CHECK(ty->dominant[4] == CS_INVALID_ID && ty->is_hub[4] && ty->is_isolated[4]);
    cs_typology_free(ty);
    cs_matrix_free(t);
}

static void test_shuffle_invariance(void)
{
    /* random systems: permuting the rows changes no label (ids given) */
    unsigned seed = 7;
    for (int rep = 0; rep < 5; rep++) {
        size_t n = 25;
        double pop[25], X[25], Y[25];
        char idbuf[25][8];
        const char *ids[25];
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            pop[i] = 1000 + (seed >> 8) % 900000;
            seed = seed * 1103515245u + 12345u;
            X[i] = (seed >> 8) % 400;
            seed = seed * 1103515245u + 12345u;
            Y[i] = (seed >> 8) % 400;
            snprintf(idbuf[i], 8, "c%02zu", i);
            ids[i] = idbuf[i];
        }
        cs_matrix *t;
        cs_matrix_new(n, n, CS_MATRIX_TIME, &t);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) t->v[i * n + j] = hypot(X[i] - X[j], Y[i] - Y[j]) * 60;
        size_t perm[25];
        for (size_t i = 0; i < n; i++) perm[i] = n - 1 - i;
        double pop2[25];
        const char *ids2[25];
        cs_matrix *t2;
        cs_matrix_new(n, n, CS_MATRIX_TIME, &t2);
        for (size_t i = 0; i < n; i++) {
            pop2[i] = pop[perm[i]];
            ids2[i] = ids[perm[i]];
            for (size_t j = 0; j < n; j++) t2->v[i * n + j] = t->v[perm[i] * n + perm[j]];
        }
        cs_typology_params p;
        cs_typology_params_default(&p);
        p.corridor_min_population = 300000;
        p.corridor_min_towns = 1;
        cs_typology_input a = {n, pop, NULL, ids, t, NULL, NULL}, b = {n, pop2, NULL, ids2, t2, NULL, NULL};
        cs_typology *ta, *tb;
        CHECK_OK(cs_typology_compute(&a, &p, NULL, NULL, &ta));
        CHECK_OK(cs_typology_compute(&b, &p, NULL, NULL, &tb));
        CHECK(ta->n_clusters == tb->n_clusters && ta->n_corridors == tb->n_corridors && ta->n_adjacent == tb->n_adjacent);
        for (size_t i = 0; i < n; i++) {
            size_t k = perm[i]; /* row i of b is city k of a */
            CHECK(ta->cluster[k] == tb->cluster[i]);
            CHECK(ta->is_hub[k] == tb->is_hub[i] && ta->hub_level[k] == tb->hub_level[i]);
            CHECK(ta->hub[k] == perm[tb->hub[i]]);
            CHECK(ta->is_primary[k] == tb->is_primary[i] && ta->is_isolated[k] == tb->is_isolated[i]);
            CHECK_NEAR(ta->hinterland_population[k], tb->hinterland_population[i], 1e-12);
        }
        cs_typology_free(ta);
        cs_typology_free(tb);
        cs_matrix_free(t);
        cs_matrix_free(t2);
    }
}

int main(void)
{
    test_core_satellites();
    test_core_merge();
    test_corridor();
    test_corridor_routes();
    test_hubs();
    test_shuffle_invariance();
    cs_matrix *t;
    cs_matrix_new(2, 3, CS_MATRIX_TIME, &t);
    double pop[2] = {1, 2};
    cs_typology_input in = {2, pop, NULL, NULL, t, NULL, NULL};
    cs_typology *ty;
    CHECK(cs_typology_compute(&in, NULL, NULL, NULL, &ty) == CS_EINVAL);
    cs_matrix_free(t);
    TEST_MAIN_END();
}

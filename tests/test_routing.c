/* test_routing.c: routing matrices against hand-worked cases and a brute-force Dijkstra oracle. */
#include <stdint.h>
#include <unistd.h>
#include "test.h"
#include "citysys/routing.h"

#define NOT CS_NO_TIME
#define INF64 UINT64_MAX

/* ---- small deterministic RNG (splitmix64) ---- */
static uint64_t rng_state = 12345;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rnd01(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

/* ---- a growable edge list that becomes a cs_network ---- */
typedef struct {
    uint32_t n, m, cap;
    double *lon, *lat;
    uint32_t *u, *v, *f, *b, *len;
    uint8_t *mode;
} elist;

static void el_init(elist *e, uint32_t n)
{
    memset(e, 0, sizeof *e);
    e->n = n;
    e->lon = calloc(n, sizeof(double));
    e->lat = calloc(n, sizeof(double));
}
static void el_add(elist *e, uint32_t u, uint32_t v, uint32_t f, uint32_t b, uint32_t len, uint8_t mode)
{
    if (e->m == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 64;
        e->u = realloc(e->u, e->cap * 4); e->v = realloc(e->v, e->cap * 4); e->f = realloc(e->f, e->cap * 4);
        e->b = realloc(e->b, e->cap * 4); e->len = realloc(e->len, e->cap * 4); e->mode = realloc(e->mode, e->cap);
    }
    e->u[e->m] = u; e->v[e->m] = v; e->f[e->m] = f; e->b[e->m] = b; e->len[e->m] = len; e->mode[e->m] = mode;
    e->m++;
}
static void el_free(elist *e)
{
    free(e->lon); free(e->lat); free(e->u); free(e->v); free(e->f); free(e->b); free(e->len); free(e->mode);
}
static cs_router *el_router(const elist *e)
{
    cs_network *net = NULL;
    cs_router *r = NULL;
    CHECK_OK(cs_network_from_arcs(e->n, e->lon, e->lat, e->m, e->u, e->v, e->f, e->b, e->len, e->mode, &net));
    if (net) CHECK_OK(cs_router_build(net, NULL, (cs_progress){0}, &r));
    cs_network_from_arcs_free(net);
    return r;
}

/* ---- oracle: Dijkstra node distances combined with location legs (re-derived here) ---- */
static uint64_t key(uint64_t t, uint64_t l) { return (t << 32) | l; }
static uint64_t part(uint32_t t, double f)
{
    if (!(f > 0)) return 0;
    if (f >= 1) return t;
    uint64_t x = (uint64_t)llround(f * (double)t);
    return x > t ? t : x;
}

typedef struct { uint32_t node; uint64_t k; } leg;

/* legs from a location to nodes (dir 0) or from nodes to it (dir 1); road_only drops non-road segments */
static int legs(const elist *e, const cs_location *l, int dir, int road_only, leg out[2])
{
    uint64_t acc = key(l->access_ms, l->access_cm);
    if (l->node != CS_INVALID_ID) { out[0] = (leg){l->node, acc}; return 1; }
    uint32_t s = l->seg, k = 0;
    if (road_only && e->mode[s] != 0) return 0;
    uint32_t f = e->f[s], b = e->b[s], len = e->len[s];
    double fr = l->frac;
    if (dir == 0) {
        if (f != NOT) out[k++] = (leg){e->v[s], acc + key(f - part(f, fr), len - part(len, fr))};
        if (b != NOT) out[k++] = (leg){e->u[s], acc + key(b - part(b, 1 - fr), len - part(len, 1 - fr))};
    } else {
        if (f != NOT) out[k++] = (leg){e->u[s], acc + key(part(f, fr), part(len, fr))};
        if (b != NOT) out[k++] = (leg){e->v[s], acc + key(part(b, 1 - fr), part(len, 1 - fr))};
    }
    return (int)k;
}

/* Full oracle matrix (keys) by Dijkstra from every source node leg. */
static void oracle(const elist *e, const cs_location *src, size_t n, const cs_location *dst, size_t m, int road_only,
                   uint64_t *out)
{
    elist g = *e;
    elist h;
    el_init(&h, e->n);
    for (uint32_t s = 0; s < e->m; s++)
        if (!road_only || e->mode[s] == 0) el_add(&h, e->u[s], e->v[s], e->f[s], e->b[s], e->len[s], 0);
        else el_add(&h, e->u[s], e->v[s], NOT, NOT, e->len[s], 0); /* keep ids aligned */
    cs_router *r = el_router(&h);
    cs_dijkstra *d = NULL;
    CHECK_OK(cs_dijkstra_new(r, &d));
    uint64_t *t = malloc(e->n * 8), *l = malloc(e->n * 8);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < m; j++) out[i * m + j] = INF64;
        leg ls[2];
        int k = legs(&g, &src[i], 0, road_only, ls);
        for (int a = 0; a < k; a++) {
            CHECK_OK(cs_dijkstra_run(d, ls[a].node, 0, t, l, NULL, NULL));
            for (size_t j = 0; j < m; j++) {
                leg lt[2];
                int kt = legs(&g, &dst[j], 1, road_only, lt);
                for (int c = 0; c < kt; c++) {
                    if (t[lt[c].node] == INF64) continue;
                    uint64_t x = ls[a].k + key(t[lt[c].node], l[lt[c].node]) + lt[c].k;
                    if (x < out[i * m + j]) out[i * m + j] = x;
                }
            }
        }
        /* same segment, directly along it */
        for (size_t j = 0; j < m; j++) {
            const cs_location *a = &src[i], *b = &dst[j];
            if (a->node != CS_INVALID_ID || b->node != CS_INVALID_ID || a->seg != b->seg) continue;
            uint32_t s = a->seg;
            if (road_only && e->mode[s] != 0) continue;
            uint64_t acc = key(a->access_ms, a->access_cm) + key(b->access_ms, b->access_cm);
            if (e->f[s] != NOT && b->frac >= a->frac) {
                uint64_t x = acc + key(part(e->f[s], b->frac) - part(e->f[s], a->frac),
                                       part(e->len[s], b->frac) - part(e->len[s], a->frac));
                if (x < out[i * m + j]) out[i * m + j] = x;
            }
            if (e->b[s] != NOT && b->frac <= a->frac) {
                uint64_t x = acc + key(part(e->b[s], 1 - b->frac) - part(e->b[s], 1 - a->frac),
                                       part(e->len[s], 1 - b->frac) - part(e->len[s], 1 - a->frac));
                if (x < out[i * m + j]) out[i * m + j] = x;
            }
        }
    }
    free(t); free(l);
    cs_dijkstra_free(d);
    cs_router_free(r);
    el_free(&h);
}

/* Compare the router's matrix with the oracle; returns number of mismatching cells. */
static int compare_prune = -1;
static int compare_nonroad_flags = 1;
static size_t compare_bucket_max = 0;
static size_t compare(const cs_router *r, const elist *e, const cs_location *src, size_t n, const cs_location *dst,
                      size_t m, int threads)
{
    uint64_t *T = malloc(n * m * 8), *L = malloc(n * m * 8), *O = malloc(n * m * 8), *R = malloc(n * m * 8);
    uint8_t *NR = malloc(n * m);
    cs_matrix_opts o;
    cs_matrix_opts_default(&o);
    o.threads = threads;
    o.prune = compare_prune;
    o.nonroad_flags = compare_nonroad_flags;
    o.bucket_bytes_max = compare_bucket_max;
    CHECK_OK(cs_router_matrix_raw(r, src, n, dst, m, &o, T, L, NR));
    oracle(e, src, n, dst, m, 0, O);
    int any_nonroad = 0;
    for (uint32_t s = 0; s < e->m; s++) any_nonroad |= e->mode[s] != 0;
    if (any_nonroad) oracle(e, src, n, dst, m, 1, R);
    size_t bad = 0;
    for (size_t c = 0; c < n * m; c++) {
        uint64_t got = T[c] == INF64 ? INF64 : key(T[c], L[c]);
        int nr = compare_nonroad_flags && any_nonroad && O[c] != INF64 && O[c] < R[c];
        if (got != O[c] || (T[c] == INF64) != (L[c] == INF64) || NR[c] != nr) {
            if (bad < 5)
                fprintf(stderr, "cell %zu,%zu: got %llu ms %llu cm nonroad %d, oracle %llu ms %llu cm nonroad %d\n",
                        c / m, c % m, (unsigned long long)T[c], (unsigned long long)L[c], NR[c],
                        (unsigned long long)(O[c] == INF64 ? INF64 : O[c] >> 32),
                        (unsigned long long)(O[c] == INF64 ? INF64 : O[c] & 0xffffffffu), nr);
            bad++;
        }
    }
    free(T); free(L); free(O); free(R); free(NR);
    return bad;
}

/* ---- hand-made cases ---- */

/* K x K grid, 100 m edges at 36 km/h = 10 s, both ways. Node id = row*K + col. */
static void grid(elist *e, uint32_t K)
{
    el_init(e, K * K);
    for (uint32_t i = 0; i < K; i++)
        for (uint32_t j = 0; j < K; j++) {
            e->lon[i * K + j] = j * 0.001;
            e->lat[i * K + j] = i * 0.001;
            if (j + 1 < K) el_add(e, i * K + j, i * K + j + 1, 10000, 10000, 10000, 0);
            if (i + 1 < K) el_add(e, i * K + j, (i + 1) * K + j, 10000, 10000, 10000, 0);
        }
}

static void test_grid(void)
{
    elist e;
    grid(&e, 5);
    cs_router *r = el_router(&e);
    cs_location s[2] = {cs_location_node(0), cs_location_node(12)};
    cs_location t[3] = {cs_location_node(24), cs_location_node(4), cs_location_node(0)};
    cs_matrix *T = NULL, *D = NULL;
    CHECK_OK(cs_router_matrix(r, s, 2, t, 3, NULL, (cs_progress){0}, &T, &D));
    CHECK_NEAR(cs_matrix_at(T, 0, 0), 80.0, 0);  /* 8 edges corner to corner */
    CHECK_NEAR(cs_matrix_at(D, 0, 0), 800.0, 0);
    CHECK_NEAR(cs_matrix_at(T, 0, 1), 40.0, 0);
    CHECK_NEAR(cs_matrix_at(T, 0, 2), 0.0, 0);
    CHECK_NEAR(cs_matrix_at(T, 1, 0), 40.0, 0);  /* centre to corner */
    CHECK(T->flags[0] == 0);
    /* a point 25 % along segment 0 (node 0 -> node 1): to node 4 (same row) 10 s * 0.75 + 30 s */
    cs_location p = {CS_INVALID_ID, 0, 0.25, 500, 0};
    cs_matrix *T2 = NULL;
    CHECK_OK(cs_router_matrix(r, &p, 1, &t[1], 1, NULL, (cs_progress){0}, &T2, NULL));
    CHECK_NEAR(cs_matrix_at(T2, 0, 0), 0.5 + 7.5 + 30.0, 0);
    cs_router_info info;
    cs_router_info_get(r, &info);
    CHECK(info.nodes == 25 && info.n_scc == 1 && info.largest_scc == 25);
    cs_matrix_free(T); cs_matrix_free(D); cs_matrix_free(T2);
    cs_router_free(r);
    el_free(&e);
}

static void test_oneway_disconnected(void)
{
    /* 0 -> 1 oneway (10 s); back 1 -> 2 -> 0 (20 s + 20 s); 3-4 an island */
    elist e;
    el_init(&e, 5);
    for (int i = 0; i < 5; i++) { e.lon[i] = i; e.lat[i] = i % 2; }
    el_add(&e, 0, 1, 10000, NOT, 10000, 0);
    el_add(&e, 1, 2, 20000, 20000, 20000, 0);
    el_add(&e, 2, 0, 20000, 20000, 20000, 0);
    el_add(&e, 3, 4, 5000, 5000, 5000, 0);
    cs_router *r = el_router(&e);
    cs_location L[5];
    for (int i = 0; i < 5; i++) L[i] = cs_location_node((uint32_t)i);
    cs_matrix *T = NULL;
    CHECK_OK(cs_router_matrix(r, L, 5, L, 5, NULL, (cs_progress){0}, &T, NULL));
    CHECK_NEAR(cs_matrix_at(T, 0, 1), 10.0, 0);
    CHECK_NEAR(cs_matrix_at(T, 1, 0), 40.0, 0); /* turn-around via 2 */
    CHECK(isinf(cs_matrix_at(T, 0, 3)) && T->flags[0 * 5 + 3] == CS_CELL_UNREACHABLE);
    CHECK(isinf(cs_matrix_at(T, 4, 2)) && (T->flags[4 * 5 + 2] & CS_CELL_UNREACHABLE));
    CHECK_NEAR(cs_matrix_at(T, 3, 4), 5.0, 0);
    /* a point on the oneway segment can only leave forward: to node 0 goes via 1 and 2 */
    cs_location p = {CS_INVALID_ID, 0, 0.5, 0, 0};
    cs_matrix *T2 = NULL;
    CHECK_OK(cs_router_matrix(r, &p, 1, L, 1, NULL, (cs_progress){0}, &T2, NULL));
    CHECK_NEAR(cs_matrix_at(T2, 0, 0), 5.0 + 40.0, 0);
    cs_router_info info;
    cs_router_info_get(r, &info);
    CHECK(info.n_scc == 2 && info.largest_scc == 3);
    const uint32_t *scc = cs_router_scc(r);
    CHECK(scc[0] == 0 && scc[1] == 0 && scc[2] == 0 && scc[3] == 1 && scc[4] == 1);
    cs_matrix_free(T); cs_matrix_free(T2);
    cs_router_free(r);
    el_free(&e);
}

/* routes longer than 6.2 days take the scalar path of the many-to-many kernel */
static void test_long_times(void)
{
    elist e;
    el_init(&e, 40);
    for (uint32_t i = 0; i < 40; i++) { e.lon[i] = i; e.lat[i] = (i * 7) % 5; }
    for (uint32_t i = 0; i + 1 < 40; i++) el_add(&e, i, i + 1, i == 20 ? 600000000u : 1000 + i, 2000, 1000, 0);
    el_add(&e, 0, 39, 900000000u, NOT, 5000, CS_SEG_FERRY);
    cs_router *r = el_router(&e);
    cs_location L[40];
    for (uint32_t i = 0; i < 40; i++) L[i] = cs_location_node(i);
    CHECK(compare(r, &e, L, 40, L, 40, 2) == 0);
    cs_router_free(r);
    el_free(&e);
}

static void test_tie_rule(void)
{
    /* 0 -> 5 over four parallel two-edge routes of 20 s, lengths 400, 300, 500, 350 m -> 300 m */
    elist e;
    el_init(&e, 6);
    uint32_t lens[4] = {40000, 30000, 50000, 35000};
    for (uint32_t k = 0; k < 4; k++) {
        e.lon[k + 1] = k; e.lat[k + 1] = 1;
        el_add(&e, 0, k + 1, 10000, 10000, lens[k] / 2, 0);
        el_add(&e, k + 1, 5, 10000, 10000, lens[k] / 2, 0);
    }
    /* and a faster but longer route must win on time */
    cs_router *r = el_router(&e);
    cs_location s = cs_location_node(0), t = cs_location_node(5);
    cs_matrix *T = NULL, *D = NULL;
    CHECK_OK(cs_router_matrix(r, &s, 1, &t, 1, NULL, (cs_progress){0}, &T, &D));
    CHECK_NEAR(cs_matrix_at(T, 0, 0), 20.0, 0);
    CHECK_NEAR(cs_matrix_at(D, 0, 0), 300.0, 0);
    cs_matrix_free(T); cs_matrix_free(D);
    cs_router_free(r);
    el_free(&e);
    /* grid: all monotone routes have equal time; one detour row is shorter in metres */
    grid(&e, 4);
    for (uint32_t s2 = 0; s2 < e.m; s2++)
        if (e.u[s2] / 4 == 3 && e.v[s2] / 4 == 3) e.len[s2] = 9000; /* top row slightly shorter */
    r = el_router(&e);
    s = cs_location_node(0); t = cs_location_node(15);
    CHECK_OK(cs_router_matrix(r, &s, 1, &t, 1, NULL, (cs_progress){0}, &T, &D));
    CHECK_NEAR(cs_matrix_at(T, 0, 0), 60.0, 0);
    CHECK_NEAR(cs_matrix_at(D, 0, 0), 570.0, 0); /* 3 vertical 100 m + 3 top-row 90 m */
    cs_matrix_free(T); cs_matrix_free(D);
    cs_router_free(r);
    el_free(&e);
}

static void test_multimodal(void)
{
    /* road 0-1-2-3 slow (1 h each); air 1-2 in 10 min + connectors; road+air+road beats road */
    elist e;
    el_init(&e, 4);
    for (int i = 0; i < 4; i++) e.lon[i] = i;
    el_add(&e, 0, 1, 600000, 600000, 1000000, 0);
    el_add(&e, 1, 2, 3600000, 3600000, 10000000, 0);
    el_add(&e, 2, 3, 600000, 600000, 1000000, 0);
    el_add(&e, 1, 2, 600000, 600000, 9000000, CS_SEG_AIR);
    cs_router *r = el_router(&e);
    cs_location L[4];
    for (int i = 0; i < 4; i++) L[i] = cs_location_node((uint32_t)i);
    cs_matrix *T = NULL;
    CHECK_OK(cs_router_matrix(r, L, 4, L, 4, NULL, (cs_progress){0}, &T, NULL));
    CHECK_NEAR(cs_matrix_at(T, 0, 3), 1800.0, 0);
    CHECK(T->flags[0 * 4 + 3] == CS_CELL_NONROAD);
    CHECK(T->flags[0 * 4 + 1] == 0);
    CHECK(compare(r, &e, L, 4, L, 4, 1) == 0);
    cs_matrix_free(T);
    cs_router_free(r);
    el_free(&e);
}

/* Random road-like graph: jittered grid, random removals, random oneways, a few long links,
   times from a small set (many ties), some non-road segments. */
static void random_graph(elist *e, uint32_t K, int nonroad)
{
    el_init(e, K * K);
    for (uint32_t i = 0; i < K * K; i++) {
        e->lon[i] = (i % K) + 0.6 * (rnd01() - 0.5);
        e->lat[i] = (i / K) + 0.6 * (rnd01() - 0.5);
    }
    for (uint32_t i = 0; i < K; i++)
        for (uint32_t j = 0; j < K; j++) {
            for (int d = 0; d < 2; d++) {
                uint32_t a = i * K + j, b = d ? a + 1 : a + K;
                if ((d && j + 1 >= K) || (!d && i + 1 >= K)) continue;
                if (rnd01() < 0.15) continue;
                uint32_t t = 1000 * (1 + (uint32_t)(rnd() % 3)), len = 5000 + (uint32_t)(rnd() % 4) * 1000;
                uint32_t f = t, bw = t;
                double x = rnd01();
                if (x < 0.12) bw = NOT;
                else if (x < 0.24) f = NOT;
                else if (x < 0.3) bw = t + 1000;
                el_add(e, a, b, f, bw, len, 0);
            }
        }
    for (uint32_t k = 0; k < K / 2; k++) {
        uint32_t a = (uint32_t)(rnd() % (K * K)), b = (uint32_t)(rnd() % (K * K));
        uint32_t t = 1000 * (2 + (uint32_t)(rnd() % 6));
        el_add(e, a, b, t, rnd01() < 0.3 ? NOT : t, 20000, nonroad && k % 2 ? CS_SEG_FERRY : 0);
    }
    /* a duplicate (parallel) segment and a self-loop */
    if (e->m) el_add(e, e->u[0], e->v[0], 500, 500, 100, 0);
    el_add(e, 3, 3, 100, 100, 100, 0);
}

static void random_locations(const elist *e, cs_location *L, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i % 3 == 0) {
            L[i] = cs_location_node((uint32_t)(rnd() % e->n));
        } else {
            L[i].node = CS_INVALID_ID;
            L[i].seg = (uint32_t)(rnd() % e->m);
            L[i].frac = i % 7 == 0 ? 0.0 : i % 11 == 0 ? 1.0 : rnd01();
            L[i].access_ms = (uint32_t)(rnd() % 5000);
            L[i].access_cm = (uint32_t)(rnd() % 3000);
        }
    }
    /* two points on the same segment */
    if (n > 4 && L[1].node == CS_INVALID_ID) { L[4] = L[1]; L[4].frac = 1.0 - L[1].frac; L[4].node = CS_INVALID_ID; }
}

static int session_partial_seen = 0;
static int session_cell_seen = 0;

static void test_random(uint32_t K, int nonroad)
{
    elist e;
    random_graph(&e, K, nonroad);
    cs_router *r = el_router(&e);
    size_t n = K * K < 400 ? K * K : 400;
    cs_location *L = malloc(n * sizeof *L);
    random_locations(&e, L, n);
    /* every node as a source against sampled targets, and located points both ways */
    cs_location *N = malloc((size_t)e.n * sizeof *N);
    for (uint32_t i = 0; i < e.n; i++) N[i] = cs_location_node(i);
    size_t bad = compare(r, &e, N, e.n, L, n, 2);
    CHECK(bad == 0);
    for (int pr = 0; pr < 2; pr++) {
        compare_prune = pr; /* both search variants: plain and pruned */
        bad = compare(r, &e, L, n, L, n, 2);
        CHECK(bad == 0);
    }
    compare_prune = 1;
    cs_matrix_session *sess = NULL;
    CHECK_OK(cs_matrix_session_new(r, L, n, L, n, NULL, &sess));
    /* random closures, speed changes and added segments, applied without a rebuild */
    for (int round = 0; round < 3; round++) {
        cs_route_changes *c = NULL;
        CHECK_OK(cs_route_changes_new(&c));
        for (int k = 0; k < 6; k++) {
            uint32_t s = (uint32_t)(rnd() % e.m);
            int kind = (int)(rnd() % 3);
            if (kind == 0) { CHECK_OK(cs_route_changes_close(c, s)); e.f[s] = e.b[s] = NOT; }
            else if (kind == 1) {
                double fct = k % 2 ? 0.5 : 2.5;
                CHECK_OK(cs_route_changes_scale(c, s, fct));
                if (e.f[s] != NOT) e.f[s] = (uint32_t)nearbyint(e.f[s] * fct);
                if (e.b[s] != NOT) e.b[s] = (uint32_t)nearbyint(e.b[s] * fct);
            } else {
                uint32_t t = 1000 * (uint32_t)(rnd() % 4);
                CHECK_OK(cs_route_changes_set_time(c, s, t, k % 2 ? NOT : t + 500));
                e.f[s] = t; e.b[s] = k % 2 ? NOT : t + 500;
            }
        }
        /* one new link on an existing hierarchy pair (parallel to a segment), one between far nodes */
        uint32_t s0 = (uint32_t)(rnd() % e.m);
        CHECK_OK(cs_route_changes_add(c, e.u[s0], e.v[s0], 700, 700, 1000, CS_SEG_ROAD));
        el_add(&e, e.u[s0], e.v[s0], 700, 700, 1000, 0);
        if (round == 2) {
            uint32_t a = (uint32_t)(rnd() % e.n), b = (uint32_t)(rnd() % e.n);
            CHECK_OK(cs_route_changes_add(c, a, b, 1500, 1500, 90000, nonroad ? CS_SEG_RAIL : CS_SEG_ROAD));
            el_add(&e, a, b, 1500, 1500, 90000, nonroad ? CS_SEG_RAIL : 0);
        }
        CHECK_OK(cs_router_apply(r, c));
        cs_route_changes_free(c);
        bad = compare(r, &e, L, n, L, n, 2);
        CHECK(bad == 0);
        if (bad) fprintf(stderr, "random K=%u round %d: %zu cells differ\n", K, round, bad);
        /* the session re-answers only what changed and must equal a fresh matrix bit for bit */
        if (sess) {
            CHECK_OK(cs_matrix_session_update(sess));
            cs_matrix *A = NULL, *Ad = NULL, *F = NULL, *Fd = NULL;
            CHECK_OK(cs_matrix_session_get(sess, &A, &Ad));
            CHECK_OK(cs_router_matrix(r, L, n, L, n, NULL, (cs_progress){0}, &F, &Fd));
            CHECK(A && F && memcmp(A->v, F->v, n * n * 8) == 0 && memcmp(Ad->v, Fd->v, n * n * 8) == 0 &&
                  memcmp(A->flags, F->flags, n * n) == 0);
            size_t rows = 0, cols = 0;
            cs_matrix_session_stats(sess, &rows, &cols);
            if (round < 2) session_partial_seen += rows < n || cols < n;
            cs_matrix_free(A); cs_matrix_free(Ad); cs_matrix_free(F); cs_matrix_free(Fd);
        }
    }
    /* applies that only raise times or close directions: the session's cell-level test recomputes only
       cells whose old optimal route could use a changed segment; again equal to a fresh matrix and to the
       brute-force oracle. Segments on the current route between two points are picked (loaded ones). */
    for (int round = 0; round < 6 && sess; round++) {
        cs_route_changes *c = NULL;
        CHECK_OK(cs_route_changes_new(&c));
        int nch = 1 + round % 3;
        for (int k = 0; k < nch; k++) {
            uint32_t s = (uint32_t)(rnd() % e.m);
            if (k == 0) {
                /* a loaded segment: on the shortest path between two random nodes */
                cs_dijkstra *d = NULL;
                uint32_t *ps = malloc((size_t)e.n * 4), *pn = malloc((size_t)e.n * 4);
                CHECK_OK(cs_dijkstra_new(r, &d));
                uint32_t a = (uint32_t)(rnd() % e.n), b = (uint32_t)(rnd() % e.n), len = 0;
                CHECK_OK(cs_dijkstra_run(d, a, 0, NULL, NULL, ps, pn));
                for (uint32_t x = b; pn[x] != CS_INVALID_ID; x = pn[x]) len++;
                uint32_t q = 0;
                for (uint32_t x = b; pn[x] != CS_INVALID_ID; x = pn[x], q++)
                    if (q == len / 2) s = ps[x];
                cs_dijkstra_free(d);
                free(ps); free(pn);
            }
            if (round % 3 == 0) { CHECK_OK(cs_route_changes_close(c, s)); e.f[s] = e.b[s] = NOT; }
            else if (round % 3 == 1) {
                CHECK_OK(cs_route_changes_scale(c, s, 3.0));
                if (e.f[s] != NOT) e.f[s] = (uint32_t)nearbyint(e.f[s] * 3.0);
                if (e.b[s] != NOT) e.b[s] = (uint32_t)nearbyint(e.b[s] * 3.0);
            } else {
                uint32_t f = e.f[s] == NOT ? NOT : e.f[s] + 2000, b = e.b[s] == NOT ? NOT : e.b[s];
                CHECK_OK(cs_route_changes_set_time(c, s, f, b));
                e.f[s] = f; e.b[s] = b;
            }
        }
        CHECK_OK(cs_router_apply(r, c));
        cs_route_changes_free(c);
        if (round == 5) { /* the oracle once; every round against a fresh matrix below */
            bad = compare(r, &e, L, n, L, n, 2);
            CHECK(bad == 0);
        }
        CHECK_OK(cs_matrix_session_update(sess));
        cs_matrix *A = NULL, *Ad = NULL, *F = NULL, *Fd = NULL;
        CHECK_OK(cs_matrix_session_get(sess, &A, &Ad));
        CHECK_OK(cs_router_matrix(r, L, n, L, n, NULL, (cs_progress){0}, &F, &Fd));
        int same = A && F && memcmp(A->v, F->v, n * n * 8) == 0 && memcmp(Ad->v, Fd->v, n * n * 8) == 0 &&
                   memcmp(A->flags, F->flags, n * n) == 0;
        CHECK(same);
        if (!same) fprintf(stderr, "random K=%u increase round %d: session differs from a fresh matrix\n", K, round);
        size_t rows = 0, cols = 0;
        cs_matrix_session_stats(sess, &rows, &cols);
        session_cell_seen += rows < n && cols < n;
        cs_matrix_free(A); cs_matrix_free(Ad); cs_matrix_free(F); cs_matrix_free(Fd);
    }
    /* SCC sizes against a fresh build of the changed network */
    cs_router *fresh = el_router(&e);
    cs_router_info a, b;
    cs_router_info_get(r, &a);
    cs_router_info_get(fresh, &b);
    CHECK(a.n_scc == b.n_scc && a.largest_scc == b.largest_scc);
    CHECK(memcmp(cs_router_scc(r), cs_router_scc(fresh), e.n * 4) == 0);
    cs_router_free(fresh);
    cs_matrix_session_free(sess);
    compare_prune = -1;
    free(L); free(N);
    cs_router_free(r);
    el_free(&e);
}

static void test_threads_and_file(void)
{
    elist e;
    random_graph(&e, 30, 1);
    cs_router *r = el_router(&e);
    size_t n = 300;
    cs_location *L = malloc(n * sizeof *L);
    random_locations(&e, L, n);
    cs_matrix_opts o1, o2;
    cs_matrix_opts_default(&o1);
    cs_matrix_opts_default(&o2);
    o1.threads = 1;
    o2.threads = 2;
    cs_matrix *T1 = NULL, *D1 = NULL, *T2 = NULL, *D2 = NULL;
    CHECK_OK(cs_router_matrix(r, L, n, L, n, &o1, (cs_progress){0}, &T1, &D1));
    CHECK_OK(cs_router_matrix(r, L, n, L, n, &o2, (cs_progress){0}, &T2, &D2));
    CHECK(memcmp(T1->v, T2->v, n * n * 8) == 0 && memcmp(D1->v, D2->v, n * n * 8) == 0);
    CHECK(memcmp(T1->flags, T2->flags, n * n) == 0);
    /* save / load round trip */
    char path[256];
    snprintf(path, sizeof path, "test_routing_%d.csr", (int)getpid());
    CHECK_OK(cs_router_save(r, path));
    cs_router_info info;
    cs_router_info_get(r, &info);
    cs_router *r2 = NULL;
    CHECK_OK(cs_router_load(path, info.fingerprint, &r2));
    if (r2) {
        cs_matrix *T3 = NULL;
        CHECK_OK(cs_router_matrix(r2, L, n, L, n, &o2, (cs_progress){0}, &T3, NULL));
        CHECK(T3 && memcmp(T1->v, T3->v, n * n * 8) == 0 && memcmp(T1->flags, T3->flags, n * n) == 0);
        cs_matrix_free(T3);
        /* a loaded router accepts changes */
        cs_route_changes *c = NULL;
        CHECK_OK(cs_route_changes_new(&c));
        CHECK_OK(cs_route_changes_close(c, 5));
        CHECK_OK(cs_router_apply(r2, c));
        e.f[5] = e.b[5] = NOT;
        CHECK(compare(r2, &e, L, 60, L, 60, 2) == 0);
        cs_route_changes_free(c);
        cs_router_free(r2);
    }
    /* stale: another fingerprint */
    r2 = NULL;
    CHECK(cs_router_load(path, "0000000000000000000000000000000000000000000000000000000000000000", &r2) == CS_EFORMAT);
    CHECK(strstr(cs_error_last()->message, "stale") && strstr(cs_error_last()->message, "rebuild"));
    /* corrupt one byte in the middle, truncate, foreign */
    char *data = NULL;
    size_t size = 0;
    CHECK_OK(cs_read_file(path, &data, &size));
    if (data) {
        data[size / 2] ^= 0x5a;
        CHECK_OK(cs_write_file_atomic(path, data, size));
        CHECK(cs_router_load(path, NULL, &r2) == CS_EFORMAT);
        CHECK(strstr(cs_error_last()->message, "rebuild") != NULL);
        data[size / 2] ^= 0x5a;
        CHECK_OK(cs_write_file_atomic(path, data, size - 100));
        CHECK(cs_router_load(path, NULL, &r2) == CS_EFORMAT);
        data[0] = 'X';
        CHECK_OK(cs_write_file_atomic(path, data, size));
        CHECK(cs_router_load(path, NULL, &r2) == CS_EFORMAT);
        cs_free(data);
    }
    CHECK(cs_router_load("/nonexistent/x.csr", NULL, &r2) == CS_EIO);
    unlink(path);
    /* invalid input */
    cs_location bad = cs_location_node(e.n + 5);
    cs_matrix *Tbad = NULL;
    CHECK(cs_router_matrix(r, &bad, 1, L, 1, NULL, (cs_progress){0}, &Tbad, NULL) == CS_EINVAL && Tbad == NULL);
    cs_matrix_free(T1); cs_matrix_free(D1); cs_matrix_free(T2); cs_matrix_free(D2);
    free(L);
    cs_router_free(r);
    el_free(&e);
}

/* ---- the query hierarchy (perfect customization with arc removal) ---- */

static cs_router *el_router_q(const elist *e, int query_hierarchy)
{
    cs_network *net = NULL;
    cs_router *r = NULL;
    cs_router_opts o;
    cs_router_opts_default(&o);
    o.query_hierarchy = query_hierarchy;
    CHECK_OK(cs_network_from_arcs(e->n, e->lon, e->lat, e->m, e->u, e->v, e->f, e->b, e->len, e->mode, &net));
    if (net) CHECK_OK(cs_router_build(net, &o, (cs_progress){0}, &r));
    cs_network_from_arcs_free(net);
    return r;
}

/* Random asymmetric graphs (oneways, slower directions, times from {1,2,3} s and lengths from 50-80 m: many
   equal-time routes of different lengths), locations on segments: the matrices answered on the query
   hierarchy equal brute-force Dijkstra; also with non-road segments (all-modes metric on the query
   hierarchy when flags are off, full CCH when on), after save + load, and after cs_router_apply (which
   drops it: the full CCH answers). */
static void test_query_hierarchy(uint32_t K, int nonroad)
{
    elist e;
    random_graph(&e, K, nonroad);
    cs_router *r = el_router_q(&e, 1), *r0 = el_router_q(&e, 0);
    if (!r || !r0) { cs_router_free(r); cs_router_free(r0); el_free(&e); return; }
    cs_router_info info, info0;
    cs_router_info_get(r, &info);
    cs_router_info_get(r0, &info0);
    CHECK(info.query_arcs > 0 && info.query_arcs < 2 * info.cch_arcs);
    CHECK(info0.query_arcs == 0);
    size_t n = 150;
    cs_location *L = malloc(n * sizeof *L);
    random_locations(&e, L, n);
    for (int pr = 0; pr < 2; pr++) {
        compare_prune = pr;
        for (int fl = 0; fl < 1 + nonroad; fl++) {
            compare_nonroad_flags = fl;
            CHECK(compare(r, &e, L, n, L, n, 2) == 0);
            CHECK(compare(r, &e, L, n, L, n, 1) == 0);
        }
    }
    compare_nonroad_flags = 1;
    compare_prune = -1;
    /* targets in column slices (a small bucket budget: slices of a few targets), also on the full CCH */
    compare_bucket_max = 3000;
    CHECK(compare(r, &e, L, n, L, n, 2) == 0);
    CHECK(compare(r0, &e, L, 37, L, n, 1) == 0);
    compare_bucket_max = 0;
    /* the same matrices with and without the query hierarchy, bitwise */
    cs_matrix_opts mo;
    cs_matrix_opts_default(&mo);
    mo.nonroad_flags = 0;
    uint64_t *T1 = malloc(n * n * 8), *L1 = malloc(n * n * 8), *T0 = malloc(n * n * 8), *L0 = malloc(n * n * 8);
    CHECK_OK(cs_router_matrix_raw(r, L, n, L, n, &mo, T1, L1, NULL));
    CHECK_OK(cs_router_matrix_raw(r0, L, n, L, n, &mo, T0, L0, NULL));
    CHECK(memcmp(T1, T0, n * n * 8) == 0 && memcmp(L1, L0, n * n * 8) == 0);
    /* save + load: the file carries the query hierarchy (a router built without one gets it on save) */
    char path[256];
    snprintf(path, sizeof path, "test_routing_q_%d.csr", (int)getpid());
    /* a copy saved without the query hierarchy (temporary copies): none in the file, still exact */
    CHECK_OK(cs_router_save_flags(r, path, CS_ROUTER_SAVE_NO_QUERY_HIERARCHY));
    {
        cs_router *r5 = NULL;
        CHECK_OK(cs_router_load(path, NULL, &r5));
        if (r5) {
            cs_router_info i5;
            cs_router_info_get(r5, &i5);
            CHECK(i5.query_arcs == 0);
            CHECK(compare(r5, &e, L, 40, L, n, 2) == 0);
            cs_router_free(r5);
        }
    }

    for (int which = 0; which < 2; which++) {
        CHECK_OK(cs_router_save(which ? r : r0, path)); /* r last: the change below edits e */
        cs_router *r2 = NULL;
        CHECK_OK(cs_router_load(path, info.fingerprint, &r2));
        if (!r2) continue;
        cs_router_info i2;
        cs_router_info_get(r2, &i2);
        CHECK(i2.query_arcs == info.query_arcs);
        CHECK(compare(r2, &e, L, n, L, n, 2) == 0);
        if (which == 1) {
            /* changes drop the query hierarchy; the full CCH answers, still exactly */
            cs_route_changes *c = NULL;
            CHECK_OK(cs_route_changes_new(&c));
            for (int k = 0; k < 4; k++) {
                uint32_t sg = (uint32_t)(rnd() % e.m);
                CHECK_OK(cs_route_changes_close(c, sg));
                e.f[sg] = e.b[sg] = NOT;
            }
            uint32_t sg = (uint32_t)(rnd() % e.m);
            CHECK_OK(cs_route_changes_scale(c, sg, 0.5));
            if (e.f[sg] != NOT) e.f[sg] = (uint32_t)nearbyint(e.f[sg] * 0.5);
            if (e.b[sg] != NOT) e.b[sg] = (uint32_t)nearbyint(e.b[sg] * 0.5);
            CHECK_OK(cs_router_apply(r2, c));
            cs_route_changes_free(c);
            cs_router_info_get(r2, &i2);
            CHECK(i2.query_arcs == 0);
            CHECK(compare(r2, &e, L, n, L, n, 2) == 0);
            /* saved after the change: the file gets the query hierarchy of the new metric */
            CHECK_OK(cs_router_save(r2, path));
            cs_router *r3 = NULL;
            CHECK_OK(cs_router_load(path, NULL, &r3));
            if (r3) {
                cs_router_info i3;
                cs_router_info_get(r3, &i3);
                CHECK(i3.query_arcs > 0);
                CHECK(compare(r3, &e, L, n, L, n, 2) == 0);
                cs_router_free(r3);
            }
        }
        cs_router_free(r2);
    }
    /* a file of the previous format version is refused as stale, with the way to rebuild */
    char *data = NULL;
    size_t size = 0;
    CHECK_OK(cs_read_file(path, &data, &size));
    if (data && size > 16) {
        uint32_t v1 = 1;
        memcpy(data + 8, &v1, 4);
        CHECK_OK(cs_write_file_atomic(path, data, size));
        cs_router *r4 = NULL;
        CHECK(cs_router_load(path, NULL, &r4) == CS_EFORMAT && r4 == NULL);
        CHECK(strstr(cs_error_last()->message, "version 1") && strstr(cs_error_last()->message, "rebuild"));
        /* a corrupt query hierarchy section (the last bytes of the file) */
        CHECK_OK(cs_router_save(r, path));
        cs_free(data);
        data = NULL;
        CHECK_OK(cs_read_file(path, &data, &size));
        if (data) {
            size_t at = size - 64 - 1;
            while (at > 0 && data[at] == 0) at--; /* skip the zero padding */
            data[at] ^= 0x21;
            CHECK_OK(cs_write_file_atomic(path, data, size));
            CHECK(cs_router_load(path, NULL, &r4) == CS_EFORMAT);
            CHECK(strstr(cs_error_last()->message, "checksum") != NULL);
        }
    }
    cs_free(data);
    unlink(path);
    free(T1); free(L1); free(T0); free(L0);
    free(L);
    cs_router_free(r);
    cs_router_free(r0);
    el_free(&e);
}

static void test_dijkstra_tree(void)
{
    elist e;
    grid(&e, 3);
    cs_router *r = el_router(&e);
    cs_dijkstra *d = NULL;
    CHECK_OK(cs_dijkstra_new(r, &d));
    uint64_t t[9], l[9];
    uint32_t ps[9], pn[9];
    CHECK_OK(cs_dijkstra_run(d, 4, 0, t, l, ps, pn));
    CHECK(t[4] == 0 && t[0] == 20000 && l[8] == 20000 && ps[4] == CS_INVALID_ID);
    /* predecessor chains lead back to the source with consistent times */
    for (int v = 0; v < 9; v++) {
        if (v == 4) continue;
        uint32_t p = pn[v], s = ps[v];
        CHECK(p < 9 && s < e.m);
        CHECK(t[v] == t[p] + 10000);
    }
    cs_dijkstra_free(d);
    cs_router_free(r);
    el_free(&e);
}

/* Components after closures: a two-way ring stays one component (the closed direction has another
   route), a one-way ring falls apart into single nodes. */
static void test_scc_closures(void)
{
    for (int oneway = 0; oneway < 2; oneway++) {
        elist e;
        el_init(&e, 12);
        for (uint32_t i = 0; i < 12; i++) { e.lon[i] = cos(i * 0.5236); e.lat[i] = sin(i * 0.5236); }
        for (uint32_t i = 0; i < 12; i++) el_add(&e, i, (i + 1) % 12, 1000, oneway ? NOT : 1000, 100, 0);
        cs_router *r = el_router(&e);
        cs_router_info a;
        cs_router_info_get(r, &a);
        CHECK(a.n_scc == 1 && a.largest_scc == 12);
        cs_route_changes *c = NULL;
        CHECK_OK(cs_route_changes_new(&c));
        CHECK_OK(cs_route_changes_close(c, 5));
        CHECK_OK(cs_router_apply(r, c));
        cs_route_changes_free(c);
        cs_router_info_get(r, &a);
        CHECK(oneway ? a.n_scc == 12 && a.largest_scc == 1 : a.n_scc == 1 && a.largest_scc == 12);
        cs_router_free(r);
        el_free(&e);
    }
}

int main(void)
{
    test_grid();
    test_oneway_disconnected();
    test_tie_rule();
    test_long_times();
    test_multimodal();
    test_dijkstra_tree();
    test_scc_closures();
    test_random(15, 0);
    test_random(24, 1);
    test_random(45, 1);
    test_random(45, 0);
    CHECK(session_partial_seen > 0); /* some update recomputed less than everything */
    CHECK(session_cell_seen > 0);    /* some increase-only update recomputed only some cells */
    test_threads_and_file();
    test_query_hierarchy(12, 0);
    test_query_hierarchy(20, 1);
    test_query_hierarchy(33, 0);
    TEST_MAIN_END();
}

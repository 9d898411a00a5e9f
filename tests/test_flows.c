/* Load and criticality against brute-force oracles: explicit per-pair routes, and full recomputation per closure. */
#include <math.h>
#include <string.h>
#include "test.h"
#include "citysys/flows.h"
#include "citysys/routing.h"

#define MAXN 40
typedef struct { uint64_t t, l; } kk;
static int lt(kk a, kk b) { return a.t < b.t || (a.t == b.t && a.l < b.l); }
static int eq(kk a, kk b) { return a.t == b.t && a.l == b.l; }
static kk add(kk a, uint64_t t, uint64_t l) { kk r = {a.t + t, a.l + l}; return r; }
static const kk INF = {UINT64_MAX / 4, 0};

typedef struct { uint32_t u, v, t, l, seg, dir; } oarc;

/* oracle: load per (segment, direction) by explicit tied-route counting per pair */
static kk D[MAXN][MAXN];
static void oracle(uint32_t N, const oarc *A, size_t na, const uint32_t *city, size_t nc, const double *F,
                   double *lf, double *lb, double *tot_ft, double *thr, double *thrp)
{
    static double S[MAXN][MAXN]; /* number of tied routes a->b */
    for (uint32_t a = 0; a < N; a++)
        for (uint32_t b = 0; b < N; b++) D[a][b] = a == b ? (kk){0, 0} : INF;
    for (size_t e = 0; e < na; e++) {
        kk w = {A[e].t, A[e].l};
        if (lt(w, D[A[e].u][A[e].v])) D[A[e].u][A[e].v] = w;
    }
    for (uint32_t k = 0; k < N; k++)
        for (uint32_t a = 0; a < N; a++)
            for (uint32_t b = 0; b < N; b++)
                if (D[a][k].t < INF.t && D[k][b].t < INF.t) {
                    kk c = {D[a][k].t + D[k][b].t, D[a][k].l + D[k][b].l};
                    if (lt(c, D[a][b])) D[a][b] = c;
                }
    /* route counts by increasing distance from a */
    for (uint32_t a = 0; a < N; a++) {
        uint32_t ord[MAXN];
        for (uint32_t v = 0; v < N; v++) ord[v] = v;
        for (uint32_t x = 1; x < N; x++)
            for (uint32_t y = x; y > 0 && lt(D[a][ord[y]], D[a][ord[y - 1]]); y--) {
                uint32_t z = ord[y]; ord[y] = ord[y - 1]; ord[y - 1] = z;
            }
        for (uint32_t v = 0; v < N; v++) S[a][v] = 0;
        S[a][a] = 1;
        for (uint32_t q = 0; q < N; q++) {
            uint32_t v = ord[q];
            if (v == a || D[a][v].t >= INF.t) continue;
            for (size_t e = 0; e < na; e++)
                if (A[e].v == v && D[a][A[e].u].t < INF.t && eq(add(D[a][A[e].u], A[e].t, A[e].l), D[a][v])) S[a][v] += S[a][A[e].u];
        }
    }
    *tot_ft = 0;
    for (size_t i = 0; i < nc; i++)
        for (size_t j = 0; j < nc; j++) {
            double f = F[i * nc + j];
            uint32_t o = city[i], d = city[j];
            if (i == j || !(f > 0) || D[o][d].t >= INF.t) continue;
            *tot_ft += f * (double)D[o][d].t / 1000.0;
            /* intermediacy: share of the tied routes o->d through each other city's node */
            for (size_t b = 0; b < nc; b++) {
                uint32_t x = city[b];
                if (x == o || x == d || D[o][x].t >= INF.t || D[x][d].t >= INF.t) continue;
                kk via = {D[o][x].t + D[x][d].t, D[o][x].l + D[x][d].l};
                if (!eq(via, D[o][d])) continue;
                thr[b] += f * S[o][x] * S[x][d] / S[o][d];
                thrp[b] += S[o][x] * S[x][d] / S[o][d];
            }
            for (size_t e = 0; e < na; e++) {
                if (D[o][A[e].u].t >= INF.t || D[A[e].v][d].t >= INF.t) continue;
                kk via = add(D[o][A[e].u], A[e].t, A[e].l);
                via.t += D[A[e].v][d].t;
                via.l += D[A[e].v][d].l;
                if (!eq(via, D[o][d])) continue;
                double share = S[o][A[e].u] * S[A[e].v][d] / S[o][d];
                if (A[e].dir == 0) lf[A[e].seg] += f * share;
                else lb[A[e].seg] += f * share;
            }
        }
}

/* routes: a connected chain of pieces whose time is the matrix time and whose (time, length) is the
   oracle's; the same route as the router's Dijkstra tree (smallest segment id among tied arcs) */
static void check_routes(const cs_router *r, const cs_network *net, const cs_location *loc, const uint32_t *city,
                         size_t nc, const cs_matrix *T0, const uint32_t *fw, const uint32_t *bw, const uint32_t *ln)
{
    cs_route_finder *f;
    CHECK_OK(cs_route_finder_new(net, loc, nc, &f));
    cs_dijkstra *dj;
    CHECK_OK(cs_dijkstra_new(r, &dj));
    uint32_t pred[MAXN], predn[MAXN];
    for (size_t i = 0; i < nc; i++) {
        CHECK_OK(cs_dijkstra_run(dj, city[i], 0, NULL, NULL, pred, predn));
        for (size_t j = 0; j < nc; j++) {
            cs_route rt;
            cs_status st = cs_route_find(f, (uint32_t)i, (uint32_t)j, &rt);
            double t = T0->v[i * nc + j];
            if (!(t < INFINITY)) {
                CHECK(st == CS_EINFEASIBLE);
                cs_error_clear();
                continue;
            }
            CHECK_OK(st);
            CHECK_NEAR(rt.time_s, t, 1e-9);
            CHECK(D[city[i]][city[j]].t == (uint64_t)llround(rt.time_s * 1000));
            CHECK(D[city[i]][city[j]].l == (uint64_t)llround(rt.length_m * 100));
            uint64_t ts = 0, ls = 0;
            uint32_t at = city[i];
            for (size_t q = 0; q < rt.n; q++) {
                uint32_t s = rt.seg[q];
                CHECK((rt.dir[q] ? net->seg_v[s] : net->seg_u[s]) == at);
                at = rt.dir[q] ? net->seg_u[s] : net->seg_v[s];
                ts += rt.dir[q] ? bw[s] : fw[s];
                ls += ln[s];
                CHECK_NEAR(rt.len_m[q], ln[s] / 100.0, 1e-9);
            }
            CHECK(at == city[j]);
            CHECK(ts == D[city[i]][city[j]].t && ls == D[city[i]][city[j]].l);
            /* same as following the Dijkstra tree back from city j */
            size_t q = rt.n;
            for (uint32_t x = city[j]; x != city[i] && q > 0; x = predn[x]) CHECK(pred[x] == rt.seg[--q]);
            CHECK(q == 0);
            cs_route_clear(&rt);
        }
    }
    cs_dijkstra_free(dj);
    cs_route_finder_free(f);
}

static unsigned rs = 99;
static uint32_t rnd(uint32_t m) { rs = rs * 1103515245u + 12345u; return (rs >> 8) % m; }

static void random_cases(void)
{
    for (int rep = 0; rep < 30; rep++) {
        uint32_t N = 8 + rnd(25), M = N + rnd(3 * N);
        uint32_t u[200], v[200], fw[200], bw[200], ln[200];
        oarc A[400];
        size_t na = 0;
        for (uint32_t s = 0; s < M; s++) {
            u[s] = s < N - 1 ? s : rnd(N);
            v[s] = s < N - 1 ? s + 1 : rnd(N);
            if (u[s] == v[s]) v[s] = (u[s] + 1) % N;
            fw[s] = 1 + rnd(4) * 1000;
            bw[s] = rnd(5) == 0 ? CS_NO_TIME : fw[s] + (rnd(3) == 0 ? 1000 : 0);
            ln[s] = 100 * (1 + rnd(3));
            A[na++] = (oarc){u[s], v[s], fw[s], ln[s], s, 0};
            if (bw[s] != CS_NO_TIME) A[na++] = (oarc){v[s], u[s], bw[s], ln[s], s, 1};
        }
        cs_network *net;
        CHECK_OK(cs_network_from_arcs(N, NULL, NULL, M, u, v, fw, bw, ln, NULL, &net));
        size_t nc = 4 + rnd(6);
        uint32_t city[16];
        cs_location loc[16];
        for (size_t i = 0; i < nc; i++) {
            city[i] = rnd(N);
            loc[i] = cs_location_node(city[i]);
        }
        cs_matrix *F;
        cs_matrix_new(nc, nc, CS_MATRIX_FLOW, &F);
        for (size_t k = 0; k < nc * nc; k++) F->v[k] = rnd(4) == 0 ? 0 : 1 + rnd(100);
        double lf[200] = {0}, lb[200] = {0}, tft, thr[16] = {0}, thrp[16] = {0};
        oracle(N, A, na, city, nc, F->v, lf, lb, &tft, thr, thrp);
        cs_load_opts lo;
        cs_load_opts_default(&lo);
        lo.threads = 1;
        cs_load *L, *L2;
        CHECK_OK(cs_load_compute(net, loc, nc, F, &lo, &L));
        lo.threads = 2;
        CHECK_OK(cs_load_compute(net, loc, nc, F, &lo, &L2));
        double tot = L->total_flow + 1;
        for (uint32_t s = 0; s < M; s++) {
            CHECK_NEAR(L->flow_fwd[s], lf[s], 1e-9 * tot);
            CHECK_NEAR(L->flow_bwd[s], lb[s], 1e-9 * tot);
            CHECK(L->flow_fwd[s] == L2->flow_fwd[s] && L->flow_bwd[s] == L2->flow_bwd[s]); /* bitwise */
            CHECK(L->pairs_fwd[s] == L2->pairs_fwd[s]);
        }
        CHECK_NEAR(L->total_flow_time_s, tft, 1e-9);
        /* the contracted core: same loads, intermediacy and totals (every tied route kept with its multiplicity) */
        cs_load *L3;
        lo.method = CS_LOAD_CORE;
        CHECK_OK(cs_load_compute(net, loc, nc, F, &lo, &L3));
        cs_load *L4;
        lo.threads = 1;
        CHECK_OK(cs_load_compute(net, loc, nc, F, &lo, &L4)); /* one thread: bitwise the same */
        for (uint32_t s = 0; s < M; s++)
            CHECK(L4->flow_fwd[s] == L3->flow_fwd[s] && L4->flow_bwd[s] == L3->flow_bwd[s] &&
                  L4->pairs_fwd[s] == L3->pairs_fwd[s]);
        for (size_t b = 0; b < nc; b++)
            CHECK(L4->through_flow[b] == L3->through_flow[b] || (isnan(L4->through_flow[b]) && isnan(L3->through_flow[b])));
        cs_load_free(L4);
        lo.threads = 2;
        lo.method = CS_LOAD_AUTO;
        CHECK(L3->use_off == NULL && L3->core_nodes > 0);
        for (uint32_t s = 0; s < M; s++) {
            CHECK_NEAR(L3->flow_fwd[s], lf[s], 1e-9 * tot);
            CHECK_NEAR(L3->flow_bwd[s], lb[s], 1e-9 * tot);
            CHECK_NEAR(L3->pairs_fwd[s] + L3->pairs_bwd[s], L->pairs_fwd[s] + L->pairs_bwd[s], 1e-9 * (double)(nc * nc));
        }
        for (size_t b = 0; b < nc; b++) {
            CHECK_NEAR(L3->through_flow[b], thr[b], 1e-9 * tot);
            CHECK_NEAR(L3->through_pairs[b], thrp[b], 1e-9 * (double)(nc * nc));
        }
        CHECK_NEAR(L3->total_flow_time_s, tft, 1e-9);
        CHECK_NEAR(L3->total_flow, L->total_flow, 1e-9 * tot);
        for (size_t b = 0; b < nc; b++) { /* intermediacy against explicit per-pair routes */
            CHECK_NEAR(L->through_flow[b], thr[b], 1e-9 * tot);
            CHECK_NEAR(L->through_pairs[b], thrp[b], 1e-9 * (double)(nc * nc));
            CHECK(L->through_flow[b] == L2->through_flow[b] && L->through_pairs[b] == L2->through_pairs[b]);
        }
        /* criticality against closing each loaded segment and recomputing the whole matrix */
        cs_router *r;
        CHECK_OK(cs_router_build(net, NULL, (cs_progress){0}, &r));
        cs_matrix *T0;
        CHECK_OK(cs_router_matrix(r, loc, nc, loc, nc, NULL, (cs_progress){0}, &T0, NULL));
        check_routes(r, net, loc, city, nc, T0, fw, bw, ln);
        double pop[16];
        for (size_t i = 0; i < nc; i++) pop[i] = 1000 + 10 * i;
        cs_criticality *cr, *cr1;
        CHECK_OK(cs_criticality_compute(r, net, L, loc, nc, F, T0, pop, NULL, &cr));
        /* one thread and several threads (router copies) give the same ranking and figures */
        cs_criticality_opts co1;
        cs_criticality_opts_default(&co1);
        co1.threads = 1;
        CHECK_OK(cs_criticality_compute(r, net, L, loc, nc, F, T0, pop, &co1, &cr1));
        CHECK(cr1->n == cr->n);
        for (size_t q = 0; q < cr->n && q < cr1->n; q++) {
            CHECK(cr1->seg[q] == cr->seg[q]);
            CHECK(cr1->impact[q].delta_cost_s == cr->impact[q].delta_cost_s && cr1->impact[q].cut_flow == cr->impact[q].cut_flow);
        }
        cs_criticality_free(cr1);
        size_t ref = nc - 1;
        for (size_t q = 0; q < cr->n; q++) {
            uint32_t s = cr->seg[q];
            cs_route_changes *c;
            cs_route_changes_new(&c);
            cs_route_changes_close(c, s);
            CHECK_OK(cs_router_apply(r, c));
            cs_route_changes_free(c);
            cs_matrix *T1;
            CHECK_OK(cs_router_matrix(r, loc, nc, loc, nc, NULL, (cs_progress){0}, &T1, NULL));
            double dc = 0, cut = 0, cutpop = 0;
            for (size_t i = 0; i < nc; i++)
                for (size_t j = 0; j < nc; j++) {
                    double f = F->v[i * nc + j];
                    if (i == j || !(f > 0) || !(T0->v[i * nc + j] < INFINITY)) continue;
                    if (!(T1->v[i * nc + j] < INFINITY)) cut += f;
                    else dc += f * (T1->v[i * nc + j] - T0->v[i * nc + j]);
                }
            for (size_t i = 0; i < nc; i++) {
                if (i == ref) continue;
                int b = T0->v[i * nc + ref] < INFINITY && T0->v[ref * nc + i] < INFINITY;
                int a = T1->v[i * nc + ref] < INFINITY && T1->v[ref * nc + i] < INFINITY;
                if (b && !a) cutpop += pop[i];
            }
            CHECK_NEAR(cr->impact[q].delta_cost_s, dc, 1e-9);
            CHECK_NEAR(cr->impact[q].cut_flow, cut, 1e-12);
            CHECK_NEAR(cr->impact[q].cut_population, cutpop, 1e-12);
            cs_matrix_free(T1);
            cs_route_changes_new(&c);
            cs_route_changes_set_time(c, s, fw[s], bw[s]);
            CHECK_OK(cs_router_apply(r, c));
            cs_route_changes_free(c);
        }
        /* every loaded segment was evaluated; the router is back to the base times */
        size_t loaded = 0;
        for (uint32_t s = 0; s < M; s++) loaded += L->flow_fwd[s] + L->flow_bwd[s] > 0;
        CHECK(cr->n == loaded);
        cs_matrix *T2;
        CHECK_OK(cs_router_matrix(r, loc, nc, loc, nc, NULL, (cs_progress){0}, &T2, NULL));
        for (size_t k = 0; k < nc * nc; k++) CHECK(T2->v[k] == T0->v[k] || (isinf(T2->v[k]) && isinf(T0->v[k])));
        cs_matrix_free(T2);
        /* without use lists (contracted core) every origin is re-evaluated: the same criticality */
        cs_criticality *cr3;
        CHECK_OK(cs_criticality_compute(r, net, L3, loc, nc, F, T0, pop, &co1, &cr3));
        CHECK(cr3->n == cr->n);
        for (size_t q = 0; q < cr->n && q < cr3->n; q++) {
            CHECK(cr3->seg[q] == cr->seg[q]);
            CHECK_NEAR(cr3->impact[q].delta_cost_s, cr->impact[q].delta_cost_s, 1e-9);
            CHECK(cr3->impact[q].cut_flow == cr->impact[q].cut_flow);
        }
        cs_criticality_free(cr3);
        /* cities on segments (split points, connectors, ends of two-way segments): both methods agree */
        {
            cs_location sl[16];
            for (size_t i = 0; i < nc; i++) {
                uint32_t k = rnd(4);
                if (k == 0) sl[i] = cs_location_node(city[i]);
                else {
                    sl[i].node = CS_INVALID_ID;
                    sl[i].seg = rnd(M);
                    sl[i].frac = k == 1 ? (double)rnd(2) : (1 + rnd(9)) / 10.0; /* some at the ends */
                    sl[i].access_ms = rnd(3) * 500;
                    sl[i].access_cm = rnd(3) * 50;
                }
            }
            cs_load *Lt, *Lc;
            lo.method = CS_LOAD_TREES;
            CHECK_OK(cs_load_compute(net, sl, nc, F, &lo, &Lt));
            lo.method = CS_LOAD_CORE;
            CHECK_OK(cs_load_compute(net, sl, nc, F, &lo, &Lc));
            lo.method = CS_LOAD_AUTO;
            double tt = Lt->total_flow + 1;
            for (uint32_t s = 0; s < M; s++) {
                CHECK_NEAR(Lc->flow_fwd[s], Lt->flow_fwd[s], 1e-9 * tt);
                CHECK_NEAR(Lc->flow_bwd[s], Lt->flow_bwd[s], 1e-9 * tt);
                CHECK_NEAR(Lc->pairs_fwd[s] + Lc->pairs_bwd[s], Lt->pairs_fwd[s] + Lt->pairs_bwd[s], 1e-9 * (double)(nc * nc));
            }
            for (size_t b = 0; b < nc; b++) {
                CHECK_NEAR(Lc->through_flow[b], Lt->through_flow[b], 1e-9 * tt);
                CHECK_NEAR(Lc->through_pairs[b], Lt->through_pairs[b], 1e-9 * (double)(nc * nc));
            }
            CHECK_NEAR(Lc->total_flow_time_s, Lt->total_flow_time_s, 1e-9 * Lt->total_flow_time_s + 1e-9);
            CHECK(Lc->unreachable_pairs == Lt->unreachable_pairs);
            /* the load's times are the router's: Σ F t equals the matrix-weighted sum */
            cs_matrix *Ts;
            CHECK_OK(cs_router_matrix(r, sl, nc, sl, nc, NULL, (cs_progress){0}, &Ts, NULL));
            double ft = 0;
            for (size_t i = 0; i < nc; i++)
                for (size_t j = 0; j < nc; j++)
                    if (i != j && F->v[i * nc + j] > 0 && Ts->v[i * nc + j] < INFINITY) ft += F->v[i * nc + j] * Ts->v[i * nc + j];
            CHECK_NEAR(Lt->total_flow_time_s, ft, 1e-9 * ft + 1e-9);
            cs_matrix_free(Ts);
            cs_load_free(Lt);
            cs_load_free(Lc);
        }
        cs_criticality_free(cr);
        cs_matrix_free(T0);
        cs_router_free(r);
        cs_load_free(L3);
        cs_load_free(L);
        cs_load_free(L2);
        cs_matrix_free(F);
        cs_network_from_arcs_free(net);
    }
}

static void bridge_and_split(void)
{
    /* square 0-1-3, 0-2-3 with equal routes (split in half), and a bridge 3-4 to an island town */
    uint32_t u[5] = {0, 1, 0, 2, 3}, v[5] = {1, 3, 2, 3, 4};
    uint32_t t[5] = {1000, 1000, 1000, 1000, 5000}, l[5] = {100, 100, 100, 100, 500};
    cs_network *net;
    CHECK_OK(cs_network_from_arcs(5, NULL, NULL, 5, u, v, t, t, l, NULL, &net));
    cs_location loc[3] = {cs_location_node(0), cs_location_node(3), cs_location_node(4)};
    cs_matrix *F;
    cs_matrix_new(3, 3, CS_MATRIX_FLOW, &F);
    F->v[0 * 3 + 1] = 10; /* 0 -> 3 */
    F->v[0 * 3 + 2] = 4;  /* 0 -> 4 */
    cs_load *L;
    CHECK_OK(cs_load_compute(net, loc, 3, F, NULL, &L));
    CHECK_NEAR(L->flow_fwd[0], 7, 1e-12); /* half of 14 */
    CHECK_NEAR(L->flow_fwd[2], 7, 1e-12);
    CHECK_NEAR(L->flow_fwd[4], 4, 1e-12);
    CHECK_NEAR(L->pairs_fwd[0], 1, 1e-12); /* two pairs, each half */
    CHECK_NEAR(L->total_flow_time_s, 10 * 2 + 4 * 7, 1e-12);
    /* a city in the middle of segment 4 (the bridge): its flows use part of the bridge */
    cs_location loc2[3] = {cs_location_node(0), cs_location_node(3), {CS_INVALID_ID, 4, 0.5, 60000, 5000}};
    cs_load *L2;
    CHECK_OK(cs_load_compute(net, loc2, 3, F, NULL, &L2));
    CHECK_NEAR(L2->flow_fwd[4], 4, 1e-12);
    CHECK_NEAR(L2->total_flow_time_s, 10 * 2 + 4 * (2 + 2.5 + 60), 1e-12);
    cs_router *r;
    CHECK_OK(cs_router_build(net, NULL, (cs_progress){0}, &r));
    cs_matrix *T0;
    CHECK_OK(cs_router_matrix(r, loc2, 3, loc2, 3, NULL, (cs_progress){0}, &T0, NULL));
    CHECK_NEAR(T0->v[0 * 3 + 2], 2 + 2.5 + 60, 1e-12); /* same rounding as the router */
    double pop[3] = {100, 50, 7};
    uint32_t bridge = 4;
    cs_closure_impact im;
    CHECK_OK(cs_closure_evaluate(r, net, L2, loc2, 3, F, T0, pop, &bridge, 1, NULL, &im));
    CHECK_NEAR(im.cut_flow, 4, 1e-12);
    CHECK(im.cut_pairs == 1);
    /* the island town lies on the bridge itself: closing the bridge cuts it off from the reference city */
    CHECK_NEAR(im.cut_population, 7, 1e-12);
    /* closing one branch of the square costs nothing (the other route has the same time) */
    uint32_t branch = 0;
    CHECK_OK(cs_closure_evaluate(r, net, L2, loc2, 3, F, T0, pop, &branch, 1, NULL, &im));
    CHECK_NEAR(im.delta_cost_s, 0, 1e-12);
    CHECK(im.worst_o == CS_INVALID_ID);
    /* closing both branches together cuts everything off */
    uint32_t both[2] = {0, 2};
    CHECK_OK(cs_closure_evaluate(r, net, L2, loc2, 3, F, T0, pop, both, 2, NULL, &im));
    CHECK_NEAR(im.cut_flow, 14, 1e-12);
    CHECK_NEAR(im.cut_population, 57, 1e-12);
    cs_matrix_free(T0);
    cs_router_free(r);
    cs_load_free(L);
    cs_load_free(L2);
    cs_matrix_free(F);
    cs_network_from_arcs_free(net);
}

/* the chain A–B–C: B (in the middle of the A–C road) carries every A<->C flow; a route to a point on a
   segment ends at that point */
static void chain_abc(void)
{
    uint32_t u[2] = {0, 1}, v[2] = {1, 2}, t[2] = {60000, 60000}, l[2] = {100000, 100000};
    double lon[3] = {0, 1, 2}, lat[3] = {0, 0, 0};
    cs_network *net;
    CHECK_OK(cs_network_from_arcs(3, lon, lat, 2, u, v, t, t, l, NULL, &net));
    cs_location loc[4] = {cs_location_node(0), {CS_INVALID_ID, 1, 0.5, 0, 0}, cs_location_node(2),
                          {CS_INVALID_ID, CS_INVALID_ID, 0, 0, 0}};
    cs_matrix *F;
    cs_matrix_new(4, 4, CS_MATRIX_FLOW, &F);
    double fv[16] = {0, 5, 7, 1, 2, 0, 3, 1, 11, 13, 0, 1, 1, 1, 1, 0};
    memcpy(F->v, fv, sizeof fv);
    cs_load *L;
    CHECK_OK(cs_load_compute(net, loc, 4, F, NULL, &L));
    CHECK_NEAR(L->through_flow[1], 7 + 11, 1e-12); /* A->C and C->A pass B */
    CHECK_NEAR(L->through_pairs[1], 2, 1e-12);
    CHECK_NEAR(L->through_flow[0], 0, 1e-12);
    CHECK_NEAR(L->through_flow[2], 0, 1e-12);
    CHECK(isnan(L->through_flow[3])); /* not joined */
    CHECK_NEAR(L->unreachable_flow, 6, 1e-12);
    cs_route_finder *f;
    CHECK_OK(cs_route_finder_new(net, loc, 4, &f));
    cs_route rt;
    CHECK_OK(cs_route_find(f, 0, 1, &rt));
    CHECK(rt.n == 2 && rt.seg[0] == 0 && rt.seg[1] == 1);
    CHECK_NEAR(rt.to_frac[1], 0.5, 1e-12);
    CHECK_NEAR(rt.len_m[1], 500, 1e-9);
    CHECK_NEAR(rt.time_s, 90, 1e-9);
    CHECK(rt.npts == 3);
    if (rt.npts == 3) CHECK_NEAR(rt.lon[2], 1.5, 1e-9);
    cs_route_clear(&rt);
    CHECK_OK(cs_route_find(f, 2, 0, &rt)); /* backwards, through B's point: one piece per segment */
    CHECK(rt.n == 2 && rt.seg[0] == 1 && rt.dir[0] == 1 && rt.from_frac[0] == 1 && rt.to_frac[0] == 0);
    CHECK_NEAR(rt.length_m, 2000, 1e-9);
    cs_route_clear(&rt);
    CHECK(cs_route_find(f, 0, 3, &rt) == CS_EINFEASIBLE);
    cs_error_clear();
    cs_route_finder_free(f);
    cs_load_free(L);
    cs_matrix_free(F);
    cs_network_from_arcs_free(net);
}

int main(void)
{
    chain_abc();
    bridge_and_split();
    random_cases();
    TEST_MAIN_END();
}

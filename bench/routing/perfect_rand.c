/*
 * perfect_rand.c: exactness check of the arc reduction evaluated in perfect_exp.c on random
 * asymmetric graphs with many ties (companion experiment, private router layout, not a test).
 * Jittered K x K grids, 15 % of segments removed, 24 % oneway, 6 % slower one way, times from
 * {1, 2, 3} s and lengths from {50, 60, 70, 80} m (many equal (time, length) routes), K/2 long
 * links. For every graph: perfect customization (sequential, top-down), arcs removed by the
 * strict rule (basic key > perfect key, or infinite) and, separately, also by the tie rule
 * (perfect key equal to an upper / intermediate triangle whose part above x is positive);
 * then all node pairs: elimination-tree up/down searches on the reduced arrays vs Dijkstra on
 * the segments with the same keys (time << 32 | length).
 *
 * usage: perfect_rand GRAPHS K
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/citysys.h"
#include "citysys/routing.h"
#include "routing_internal.h"

static uint64_t st = 88172645463325252ull;
static uint64_t rnd(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return st; }
static double rnd01(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

/* Dijkstra (O(n^2), small n) over segment keys from source node s */
static void dijkstra(const cs_router *r, uint32_t s, uint64_t *d, uint8_t *done)
{
    uint32_t n = r->n;
    for (uint32_t v = 0; v < n; v++) { d[v] = RT_INF; done[v] = 0; }
    d[s] = 0;
    for (;;) {
        uint32_t u = CS_INVALID_ID;
        for (uint32_t v = 0; v < n; v++)
            if (!done[v] && d[v] != RT_INF && (u == CS_INVALID_ID || d[v] < d[u])) u = v;
        if (u == CS_INVALID_ID) break;
        done[u] = 1;
        for (uint32_t q = 0; q < r->nseg; q++) {
            uint64_t kf, kb;
            rt_seg_keys(r, q, &kf, &kb);
            if (r->seg_u[q] == u && kf != RT_INF) { uint64_t a = rt_add(d[u], kf); if (a < d[r->seg_v[q]]) d[r->seg_v[q]] = a; }
            if (r->seg_v[q] == u && kb != RT_INF) { uint64_t a = rt_add(d[u], kb); if (a < d[r->seg_u[q]]) d[r->seg_u[q]] = a; }
        }
    }
}

static void walk(const cs_router *r, const uint32_t *first, const uint32_t *head, const uint64_t *w,
                 const uint8_t *keep, uint32_t x, uint64_t *dist)
{
    for (uint32_t v = x; v != CS_INVALID_ID; v = r->parent[v]) {
        uint64_t d = dist[v];
        if (d == RT_INF) continue;
        for (uint32_t e = first[v]; e < first[v + 1]; e++)
            if (keep[e]) {
                uint64_t a = rt_add(d, w[e]);
                if (a < dist[head[e]]) dist[head[e]] = a;
            }
    }
}

int main(int argc, char **argv)
{
    int G = argc > 1 ? atoi(argv[1]) : 20;
    uint32_t K = argc > 2 ? (uint32_t)atoi(argv[2]) : 12;
    size_t bad[2] = {0, 0}, cells = 0, kept[2] = {0, 0}, arcs = 0;
    for (int g = 0; g < G; g++) {
        uint32_t n = K * K, m = 0, cap = 4 * n + K + 4;
        double *lon = malloc(n * 8), *lat = malloc(n * 8);
        uint32_t *U = malloc(cap * 4), *V = malloc(cap * 4), *F = malloc(cap * 4), *B = malloc(cap * 4), *L = malloc(cap * 4);
        uint8_t *M = calloc(cap, 1);
        for (uint32_t i = 0; i < n; i++) { lon[i] = (i % K) + 0.6 * (rnd01() - 0.5); lat[i] = (i / K) + 0.6 * (rnd01() - 0.5); }
        for (uint32_t i = 0; i < K; i++)
            for (uint32_t j = 0; j < K; j++)
                for (int d = 0; d < 2; d++) {
                    uint32_t a = i * K + j, b = d ? a + 1 : a + K;
                    if ((d && j + 1 >= K) || (!d && i + 1 >= K) || rnd01() < 0.15) continue;
                    uint32_t t = 1000 * (1 + (uint32_t)(rnd() % 3)), f = t, bw = t;
                    double x = rnd01();
                    if (x < 0.12) bw = CS_NO_TIME;
                    else if (x < 0.24) f = CS_NO_TIME;
                    else if (x < 0.3) bw = t + 1000;
                    U[m] = a; V[m] = b; F[m] = f; B[m] = bw; L[m++] = 5000 + (uint32_t)(rnd() % 4) * 1000;
                }
        for (uint32_t k = 0; k < K / 2; k++) {
            uint32_t t = 1000 * (2 + (uint32_t)(rnd() % 6));
            U[m] = (uint32_t)(rnd() % n); V[m] = (uint32_t)(rnd() % n); F[m] = t; B[m] = rnd01() < 0.3 ? CS_NO_TIME : t;
            L[m++] = 20000;
        }
        cs_network *net = NULL;
        cs_router *r = NULL;
        if (cs_network_from_arcs(n, lon, lat, m, U, V, F, B, L, M, &net) ||
            cs_router_build(net, NULL, (cs_progress){0}, &r)) {
            fprintf(stderr, "build: %s\n", cs_error_last()->message);
            return 1;
        }
        cs_network_from_arcs_free(net);
        uint32_t nc = r->ncch;
        const uint32_t *fu = r->first_up, *hd = r->up_head;
        uint64_t *pu = malloc(nc * 8 + 8), *pd = malloc(nc * 8 + 8);
        memcpy(pu, r->w_up, nc * 8);
        memcpy(pd, r->w_dn, nc * 8);
        for (uint32_t x = n; x-- > 0;)
            for (uint32_t i = fu[x]; i < fu[x + 1]; i++) {
                uint32_t p = fu[hd[i]];
                for (uint32_t j = i + 1; j < fu[x + 1]; j++) {
                    while (hd[p] < hd[j]) p++;
                    uint64_t a;
                    a = rt_add(pu[j], pd[p]); if (a < pu[i]) pu[i] = a;
                    a = rt_add(pu[p], pd[j]); if (a < pd[i]) pd[i] = a;
                    a = rt_add(pu[i], pu[p]); if (a < pu[j]) pu[j] = a;
                    a = rt_add(pd[p], pd[i]); if (a < pd[j]) pd[j] = a;
                }
            }
        uint8_t *ku[2], *kd[2];
        for (int v = 0; v < 2; v++) {
            ku[v] = malloc(nc + 1); kd[v] = malloc(nc + 1);
            for (uint32_t e = 0; e < nc; e++) {
                ku[v][e] = r->w_up[e] != RT_INF && r->w_up[e] == pu[e];
                kd[v][e] = r->w_dn[e] != RT_INF && r->w_dn[e] == pd[e];
            }
        }
        for (uint32_t x = 0; x < n; x++) /* variant 1: tie rule */
            for (uint32_t i = fu[x]; i < fu[x + 1]; i++) {
                uint32_t p = fu[hd[i]];
                for (uint32_t j = i + 1; j < fu[x + 1]; j++) {
                    while (hd[p] < hd[j]) p++;
                    if (pd[p] && pu[j] != RT_INF && rt_add(pu[j], pd[p]) == pu[i]) ku[1][i] = 0;
                    if (pu[p] && pd[j] != RT_INF && rt_add(pu[p], pd[j]) == pd[i]) kd[1][i] = 0;
                    if (pu[p] && pu[i] != RT_INF && rt_add(pu[i], pu[p]) == pu[j]) ku[1][j] = 0;
                    if (pd[p] && pd[i] != RT_INF && rt_add(pd[p], pd[i]) == pd[j]) kd[1][j] = 0;
                }
            }
        arcs += nc;
        for (uint32_t e = 0; e < nc; e++) { kept[0] += ku[0][e] + kd[0][e]; kept[1] += ku[1][e] + kd[1][e]; }
        uint64_t *od = malloc(n * 8), *fw = malloc(n * 8), *bw = malloc(n * 8);
        uint8_t *done = malloc(n);
        for (uint32_t s = 0; s < n; s++) {
            dijkstra(r, s, od, done);
            for (int v = 0; v < 2; v++) {
                for (uint32_t q = 0; q < n; q++) fw[q] = RT_INF;
                fw[r->rank[s]] = 0;
                walk(r, fu, hd, pu, ku[v], r->rank[s], fw);
                for (uint32_t t = 0; t < n; t++) {
                    for (uint32_t q = 0; q < n; q++) bw[q] = RT_INF;
                    bw[r->rank[t]] = 0;
                    walk(r, fu, hd, pd, kd[v], r->rank[t], bw);
                    uint64_t best = RT_INF;
                    for (uint32_t q = 0; q < n; q++) { uint64_t a = rt_add(fw[q], bw[q]); if (a < best) best = a; }
                    bad[v] += best != od[t];
                    cells += v == 0;
                }
            }
        }
        for (int v = 0; v < 2; v++) { free(ku[v]); free(kd[v]); }
        free(od); free(fw); free(bw); free(done); free(pu); free(pd);
        free(lon); free(lat); free(U); free(V); free(F); free(B); free(L); free(M);
        cs_router_free(r);
    }
    printf("%d graphs K=%u: %zu cells; hierarchy arcs %zu (x2 directions); kept strict %zu, differ %zu; "
           "kept with ties %zu, differ %zu\n", G, K, cells, arcs, kept[0], bad[0], kept[1], bad[1]);
    return bad[0] || bad[1];
}

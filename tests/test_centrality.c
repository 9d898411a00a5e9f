/* Centralities: hand-worked chain and star, brute-force betweenness on random graphs, seeded Louvain. */
#include "test.h"
#include "citysys/centrality.h"

static void chain(void)
{
    uint32_t I[2] = {0, 1}, J[2] = {1, 2};
    double L[2] = {10, 20};
    cs_edge_list h = {2, I, J, L, NULL};
    cs_centrality *c;
    CHECK_OK(cs_centrality_compute(3, &h, NULL, 1, &c));
    CHECK_NEAR(c->betweenness[1], 1.0, 1e-12);
    CHECK_NEAR(c->betweenness[0], 0.0, 1e-12);
    CHECK_NEAR(c->closeness[0], 2.0 / 40.0, 1e-12);
    CHECK_NEAR(c->closeness[1], 2.0 / 30.0, 1e-12);
    CHECK_NEAR(c->harmonic[0], (1.0 / 10 + 1.0 / 30) / 2, 1e-12);
    CHECK(c->soft_strength == NULL);
    cs_centrality_free(c);
}

static void star(void)
{
    uint32_t I[3] = {0, 0, 0}, J[3] = {1, 2, 3};
    cs_edge_list h = {3, I, J, NULL, NULL};
    uint32_t SI[1] = {1}, SJ[1] = {2};
    double SW[1] = {2.5};
    cs_edge_list s = {1, SI, SJ, NULL, SW};
    cs_centrality *c;
    CHECK_OK(cs_centrality_compute(4, &h, &s, 1, &c));
    CHECK_NEAR(c->eigenvector[0], 1.0, 1e-9);
    CHECK_NEAR(c->eigenvector[1], 1 / sqrt(3.0), 1e-9);
    CHECK_NEAR(c->betweenness[0], 3.0, 1e-12);
    CHECK_NEAR(c->soft_strength[1], 2.5, 1e-12);
    CHECK_NEAR(c->soft_strength[0], 0.0, 1e-12);
    CHECK_NEAR(c->soft_eigenvector[1], 1.0, 1e-9);
    CHECK(c->combined_eigenvector[1] > c->eigenvector[1]);
    cs_centrality_free(c);
}

static void random_betweenness(void)
{
    unsigned seed = 11;
    for (int rep = 0; rep < 10; rep++) {
        enum { N = 14 };
        uint32_t I[N * N], J[N * N];
        double L[N * N], D[N][N];
        size_t m = 0;
        for (int a = 0; a < N; a++)
            for (int b = 0; b < N; b++) D[a][b] = a == b ? 0 : INFINITY;
        for (int a = 0; a < N; a++)
            for (int b = a + 1; b < N; b++) {
                seed = seed * 1103515245u + 12345u;
                if ((seed >> 16) % 100 < 30) {
                    seed = seed * 1103515245u + 12345u;
                    I[m] = (uint32_t)a;
                    J[m] = (uint32_t)b;
                    L[m] = 1.0 + (double)((seed >> 8) % 100000) / 997.0; /* generic lengths: unique shortest paths */
                    D[a][b] = D[b][a] = fmin(D[a][b], L[m]);
                    m++;
                }
            }
        for (int k = 0; k < N; k++)
            for (int a = 0; a < N; a++)
                for (int b = 0; b < N; b++)
                    if (D[a][k] + D[k][b] < D[a][b]) D[a][b] = D[a][k] + D[k][b];
        cs_edge_list h = {m, I, J, L, NULL};
        cs_centrality *c;
        CHECK_OK(cs_centrality_compute(N, &h, NULL, 3, &c));
        for (int v = 0; v < N; v++) {
            double bc = 0;
            for (int s = 0; s < N; s++)
                for (int t = s + 1; t < N; t++)
                    if (s != v && t != v && D[s][t] < INFINITY && fabs(D[s][v] + D[v][t] - D[s][t]) < 1e-9) bc += 1;
            CHECK_NEAR(c->betweenness[v], bc, 1e-9);
        }
        cs_centrality_free(c);
    }
}

static void louvain(void)
{
    /* two 5-cliques joined by one bridge */
    uint32_t I[21], J[21];
    size_t m = 0;
    for (int s = 0; s < 2; s++)
        for (int a = 0; a < 5; a++)
            for (int b = a + 1; b < 5; b++) {
                I[m] = (uint32_t)(5 * s + a);
                J[m] = (uint32_t)(5 * s + b);
                m++;
            }
    I[m] = 4;
    J[m] = 5;
    m++;
    cs_edge_list h = {m, I, J, NULL, NULL};
    cs_centrality *c, *d;
    CHECK_OK(cs_centrality_compute(10, &h, NULL, 42, &c));
    CHECK_OK(cs_centrality_compute(10, &h, NULL, 42, &d));
    CHECK(c->n_communities == 2);
    for (int i = 0; i < 10; i++) {
        CHECK(c->community[i] == (i < 5 ? 0u : 1u));
        CHECK(c->community[i] == d->community[i]);
    }
    /* modularity of that split: by hand, m = 21; each side has 10 internal edges + half the bridge degree */
    double q = 0;
    for (int s = 0; s < 2; s++) q += 10.0 / 21 - pow(21.0 / 42, 2);
    CHECK_NEAR(c->modularity, q, 1e-12);
    cs_centrality_free(c);
    cs_centrality_free(d);
    uint32_t badI[1] = {0}, badJ[1] = {12};
    cs_edge_list bad = {1, badI, badJ, NULL, NULL};
    CHECK(cs_centrality_compute(10, &bad, NULL, 1, &c) == CS_EINVAL);
}

/* hard and soft layers: layer-normalised aggregate graph, its strength by hand and its eigenvector by power
   iteration on the same matrix; soft harmonic by hand on a soft chain */
static void hard_soft(void)
{
    uint32_t hi[3] = {0, 1, 2}, hj[3] = {1, 2, 3};
    double hl[3] = {10, 20, 30}, hw[3] = {4, 2, 2}; /* Σ 8 */
    uint32_t si[2] = {0, 1}, sj[2] = {3, 3};
    double sw[2] = {3, 1}; /* Σ 4 */
    cs_edge_list hard = {3, hi, hj, hl, hw}, soft = {2, si, sj, NULL, sw};
    for (int rep = 0; rep < 3; rep++) {
        double a = rep == 0 ? 0.5 : rep == 1 ? 0.2 : 1.0;
        cs_centrality_opts o;
        cs_centrality_opts_default(&o);
        o.soft_share = a;
        cs_centrality *c;
        CHECK_OK(cs_centrality_compute_opts(4, &hard, &soft, &o, &c));
        double W[4][4] = {{0}};
        for (int k = 0; k < 3; k++) {
            double w = (1 - a) * hw[k] / 8;
            W[hi[k]][hj[k]] += w;
            W[hj[k]][hi[k]] += w;
        }
        for (int k = 0; k < 2; k++) {
            double w = a * sw[k] / 4;
            W[si[k]][sj[k]] += w;
            W[sj[k]][si[k]] += w;
        }
        double x[4] = {1, 1, 1, 1};
        for (int it = 0; it < 5000; it++) { /* power iteration on W + I (same eigenvector, no oscillation) */
            double y[4] = {0}, mx = 0;
            for (int i = 0; i < 4; i++) {
                y[i] = x[i];
                for (int j = 0; j < 4; j++) y[i] += W[i][j] * x[j];
            }
            for (int i = 0; i < 4; i++) mx = fmax(mx, y[i]);
            for (int i = 0; i < 4; i++) x[i] = y[i] / mx;
        }
        for (int i = 0; i < 4; i++) {
            double st = 0;
            for (int j = 0; j < 4; j++) st += W[i][j];
            CHECK_NEAR(c->combined_strength[i], st, 1e-12);
            CHECK_NEAR(c->combined_eigenvector[i], x[i], 1e-6);
        }
        /* soft harmonic, hops: city 3 reaches 0 and 1 in one hop, 2 never: (1 + 1) / 3 */
        CHECK_NEAR(c->soft_harmonic[3], 2.0 / 3, 1e-12);
        CHECK_NEAR(c->soft_harmonic[0], (1 + 0.5) / 3, 1e-12);
        CHECK_NEAR(c->soft_harmonic[2], 0, 1e-12);
        CHECK_NEAR(c->soft_strength[3], 4, 1e-12);
        cs_centrality_free(c);
    }
    cs_centrality_opts o;
    cs_centrality_opts_default(&o);
    o.soft_share = 1.5;
    cs_centrality *c = NULL;
    CHECK(cs_centrality_compute_opts(4, &hard, &soft, &o, &c) == CS_EINVAL);
    cs_error_clear();
}

int main(void)
{
    hard_soft();
    chain();
    star();
    random_betweenness();
    louvain();
    TEST_MAIN_END();
}

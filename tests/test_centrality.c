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

int main(void)
{
    chain();
    star();
    random_betweenness();
    louvain();
    TEST_MAIN_END();
}

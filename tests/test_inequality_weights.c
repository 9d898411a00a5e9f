/*
 * test_inequality_weights.c: spatial weights (GAL parser and its located
 * errors, writer round trip, reorder, blocks, kNN with ties, threshold, pairs)
 * and Moran's I against dense brute-force formulas on random asymmetric weights.
 */
#include <omp.h>
#include <unistd.h>
#include "test.h"

static uint64_t st = 0x9E3779B97F4A7C15ull;
static double urand(void)
{
    st ^= st << 13;
    st ^= st >> 7;
    st ^= st << 17;
    return (double)(st >> 11) / 9007199254740992.0;
}

static cs_status gal(const char *txt, cs_weights **w) { return cs_weights_read_gal_mem(txt, strlen(txt), "t.gal", w); }

static void expect_gal_error(const char *txt, long line, long col, const char *what)
{
    cs_weights *w = (cs_weights *)1;
    cs_status s = gal(txt, &w);
    CHECK(s == CS_EPARSE && w == NULL);
    const cs_error *e = cs_error_last();
    CHECK(e->line == line && e->column == col && strstr(e->message, what) != NULL);
    if (e->line != line || e->column != col || !strstr(e->message, what))
        fprintf(stderr, "  GAL error for %s: %ld:%ld %s\n", what, e->line, e->column, e->message);
    CHECK(!strcmp(e->file, "t.gal"));
}

static void test_gal(void)
{
    cs_weights *w;
    CHECK_OK(gal("3\nA 2\nB C\nB 1\nA\nC 1\nA\n", &w));
    CHECK(w->n == 3 && w->offset[3] == 4 && !strcmp(w->ids[2], "C"));
    CHECK(w->nbr[0] == 1 && w->nbr[1] == 2 && w->nbr[2] == 0);
    CHECK(cs_weights_is_binary_symmetric(w));
    /* write and read back */
    char path[] = "/tmp/cs-gal-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    CHECK_OK(cs_weights_write_gal(w, path));
    cs_weights *r;
    CHECK_OK(cs_weights_read_gal(path, &r));
    CHECK(r && r->n == 3 && r->offset[3] == 4 && !memcmp(r->nbr, w->nbr, 4 * sizeof *r->nbr));
    unlink(path);
    cs_weights_free(r);
    /* reorder to the data's order */
    const char *ids[] = {"C", "A", "B"};
    CHECK_OK(cs_weights_reorder(w, ids, 3, &r));
    CHECK(r && !strcmp(r->ids[0], "C") && r->offset[1] == 1 && r->nbr[0] == 1); /* C's neighbour A is now 1 */
    cs_weights_free(r);
    const char *bad[] = {"C", "A", "X"};
    CHECK(cs_weights_reorder(w, bad, 3, &r) == CS_ENOTFOUND);
    cs_weights_free(w);
    /* GeoDa 4-field header, CRLF, trailing spaces, island with an empty line, island at EOF */
    CHECK_OK(gal("0 4 shp POLY_ID\r\n1 1 \r\n2\r\n2 1\r\n1\r\n3 0\r\n\r\n4 0", &w));
    CHECK(w && w->n == 4 && cs_weights_islands(w) == 2);
    cs_weights_free(w);
    /* located errors */
    expect_gal_error("", 1, 1, "empty");
    expect_gal_error("x\n", 1, 1, "not a non-negative integer");
    expect_gal_error("2\nA 1\nB\nB 1\nC\n", 5, 1, "'C' of unit 'B' is not a unit id");
    expect_gal_error("2\nA 1\nB A\nB 1\nA\n", 3, 3, "lists more");
    expect_gal_error("2\nA 1\nB\nA 1\nA\n", 4, 1, "appears twice");
    expect_gal_error("2\nA 1\nA\nB 1\nA\n", 3, 1, "itself");
    expect_gal_error("3\nA 2\nB B\nB 1\nA\nC 0\n\n", 3, 3, "twice");
    expect_gal_error("2\nA 1\nB\n", 4, 1, "end of file");
    expect_gal_error("2\nA 1\nB\nB 1\nA\nextra\n", 6, 1, "extra content");
    expect_gal_error("2\nA x\n", 2, 3, "not a non-negative integer");
    expect_gal_error("2\nA 1 2\n", 2, 1, "fields");
    expect_gal_error("3\nA 2\nB\nB 1\nA\nC 0\n\n", 3, 1, "lists 1");
    expect_gal_error("99999999\n1 0\n", 1, 1, "cannot fit");
}

static void test_builders(void)
{
    /* blocks */
    const uint32_t g[] = {1, 0, 1, 1, 2};
    cs_weights *w;
    CHECK_OK(cs_weights_blocks(g, 5, NULL, &w));
    CHECK(w->offset[5] == 6 && cs_weights_islands(w) == 2 && cs_weights_is_binary_symmetric(w));
    CHECK(w->offset[1] - w->offset[0] == 2 && w->nbr[0] == 2 && w->nbr[1] == 3);
    cs_weights_free(w);
    /* subset: group 1 = units 0, 2, 3 */
    {
        cs_weights *all, *sub;
        CHECK_OK(cs_weights_blocks(g, 5, NULL, &all));
        const uint8_t keep[] = {1, 1, 0, 1, 0};
        CHECK_OK(cs_weights_subset(all, keep, &sub));
        CHECK(sub && sub->n == 3 && sub->offset[3] == 2 && !strcmp(sub->ids[2], "3")); /* 0-3 both ways */
        CHECK(sub && sub->nbr[0] == 2 && sub->nbr[1] == 0 && cs_weights_is_binary_symmetric(sub));
        cs_weights_free(sub);
        cs_weights_free(all);
    }
    /* pairs */
    const uint32_t f[] = {0, 1, 2}, t[] = {1, 0, 0};
    CHECK_OK(cs_weights_from_pairs(3, NULL, f, t, NULL, 3, 1, &w));
    CHECK(w->offset[3] == 4 && cs_weights_is_binary_symmetric(w)); /* 0-1 given both ways kept once */
    cs_weights_free(w);
    const double wdiff[] = {1, 2, 1};
    CHECK(cs_weights_from_pairs(3, NULL, f, t, wdiff, 3, 1, &w) == CS_EINVAL); /* 0-1 both ways, 1 vs 2 */
    const uint32_t f2[] = {0, 0}, t2[] = {1, 1};
    CHECK(cs_weights_from_pairs(3, NULL, f2, t2, NULL, 2, 0, &w) == CS_EINVAL);
    const uint32_t f3[] = {1}, t3[] = {1};
    CHECK(cs_weights_from_pairs(3, NULL, f3, t3, NULL, 1, 0, &w) == CS_EINVAL);

    /* kNN on the equator: points at lon 0, 1, 2, 4 (degrees); k = 1: 0→1, 1→0 (tie with 2: smaller index),
       2→1, 3→2 */
    const double lon[] = {0, 1, 2, 4}, lat[] = {0, 0, 0, 0};
    CHECK_OK(cs_weights_knn(lon, lat, 4, 1, NULL, &w));
    CHECK(w->nbr[0] == 1 && w->nbr[1] == 0 && w->nbr[2] == 1 && w->nbr[3] == 2);
    cs_weights_free(w);
    CHECK_OK(cs_weights_knn(lon, lat, 4, 2, NULL, &w));
    CHECK(w->offset[4] == 8 && w->nbr[0] == 1 && w->nbr[1] == 2 && w->nbr[6] == 1 && w->nbr[7] == 2);
    cs_weights_free(w);
    /* across the antimeridian: 179.5 and -179.5 are 1 degree apart */
    const double lon2[] = {179.5, -179.5, 170}, lat2[] = {10, 10, 10};
    CHECK_OK(cs_weights_knn(lon2, lat2, 3, 1, NULL, &w));
    CHECK(w->nbr[0] == 1 && w->nbr[1] == 0 && w->nbr[2] == 0);
    cs_weights_free(w);
    CHECK(cs_weights_knn(lon, lat, 4, 4, NULL, &w) == CS_EINVAL);

    /* random kNN vs brute force (haversine distances, ties by index) */
    enum { N = 60, K = 4 };
    double lo[N], la[N];
    for (int i = 0; i < N; i++) {
        lo[i] = -20 + 40 * urand();
        la[i] = -30 + 60 * urand();
    }
    CHECK_OK(cs_weights_knn(lo, la, N, K, NULL, &w));
    int ok = 1;
    for (int i = 0; i < N; i++) {
        double d[N];
        for (int j = 0; j < N; j++) {
            double p1 = la[i] * M_PI / 180, p2 = la[j] * M_PI / 180, dl = (lo[j] - lo[i]) * M_PI / 180;
            double h = pow(sin((p2 - p1) / 2), 2) + cos(p1) * cos(p2) * pow(sin(dl / 2), 2);
            d[j] = 2 * 6371008.8 * asin(sqrt(h));
        }
        /* every chosen neighbour is no farther than every non-chosen one */
        for (size_t k = w->offset[i]; k < w->offset[i + 1]; k++)
            for (int j = 0; j < N; j++) {
                if (j == i) continue;
                int chosen = 0;
                for (size_t l = w->offset[i]; l < w->offset[i + 1]; l++) chosen |= (int)w->nbr[l] == j;
                if (!chosen && d[j] < d[w->nbr[k]]) ok = 0;
            }
    }
    CHECK(ok);
    /* same result with 1 and 2 threads */
    {
        cs_weights *w1;
        int nt = omp_get_max_threads();
        omp_set_num_threads(1);
        CHECK_OK(cs_weights_knn(lo, la, N, K, NULL, &w1));
        omp_set_num_threads(nt > 1 ? nt : 2);
        CHECK(w1 && !memcmp(w1->nbr, w->nbr, N * K * sizeof *w->nbr) && !memcmp(w1->offset, w->offset, (N + 1) * sizeof *w->offset));
        cs_weights_free(w1);
        omp_set_num_threads(nt);
    }
    cs_weights_free(w);

    /* threshold on a 3x3 time matrix */
    cs_matrix *m;
    CHECK_OK(cs_matrix_new(3, 3, CS_MATRIX_TIME, &m));
    const double v[] = {0, 100, INFINITY, 300, 0, 50, 100, NAN, 0};
    memcpy(m->v, v, sizeof v);
    CHECK_OK(cs_weights_threshold(m, 100, CS_THRESH_DIRECTED, &w));
    CHECK(w->offset[3] == 3); /* 0→1, 1→2, 2→0 */
    cs_weights_free(w);
    CHECK_OK(cs_weights_threshold(m, 100, CS_THRESH_EITHER, &w));
    CHECK(w->offset[3] == 6 && cs_weights_is_binary_symmetric(w));
    cs_weights_free(w);
    CHECK_OK(cs_weights_threshold(m, 100, CS_THRESH_BOTH, &w));
    CHECK(w->offset[3] == 0);
    cs_weights_free(w);
    CHECK_OK(cs_weights_threshold(m, 300, CS_THRESH_BOTH, &w));
    CHECK(w->offset[3] == 2 && !strcmp(w->ids[1], "1")); /* 0-1 only: 1-2 and 0-2 have NaN/inf one way */
    cs_weights_free(w);
    cs_matrix_free(m);

    /* contiguity: 2x2 grid of unit squares + a diagonal-only square */
    const char *wkt[] = {"POLYGON((0 0,1 0,1 1,0 1,0 0))", "POLYGON((1 0,2 0,2 1,1 1,1 0))",
                         "POLYGON((0 1,1 1,1 2,0 2,0 1))", "MULTIPOLYGON(((2 1,3 1,3 2,2 2,2 1)))"};
    CHECK_OK(cs_weights_contiguity_wkt(wkt, 4, NULL, CS_CONTIG_QUEEN, &w));
    /* queen: 0-1, 0-2, 1-2 (corner (1,1)), 1-3 (corner (2,1)) */
    CHECK(w && w->offset[4] == 8);
    cs_weights_free(w);
    CHECK_OK(cs_weights_contiguity_wkt(wkt, 4, NULL, CS_CONTIG_ROOK, &w));
    CHECK(w && w->offset[4] == 4);
    cs_weights_free(w);
    const char *badwkt[] = {"POLYGON((0 0,1 0", "POINT(1 2)"};
    CHECK(cs_weights_contiguity_wkt(badwkt, 1, NULL, CS_CONTIG_QUEEN, &w) == CS_EPARSE);
    CHECK(cs_weights_contiguity_wkt(badwkt + 1, 1, NULL, CS_CONTIG_QUEEN, &w) == CS_EPARSE);
}

static void test_moran_brute(void)
{
    enum { N = 25 };
    for (int rep = 0; rep < 10; rep++) {
        uint32_t f[N * N], t[N * N];
        double wt[N * N], W[N][N], y[N];
        size_t np = 0;
        memset(W, 0, sizeof W);
        for (int i = 0; i < N; i++) {
            y[i] = urand() * 10 + (i % 5);
            for (int j = 0; j < N; j++)
                if (i != j && urand() < 0.15) {
                    f[np] = (uint32_t)i;
                    t[np] = (uint32_t)j;
                    wt[np] = rep % 2 ? 0.5 + urand() : 1.0;
                    W[i][j] = wt[np];
                    np++;
                }
        }
        cs_weights *w;
        CHECK_OK(cs_weights_from_pairs(N, NULL, f, t, wt, np, 0, &w));
        cs_moran_result m;
        cs_perm_opts po = cs_perm_opts_default();
        po.permutations = 99;
        CHECK_OK(cs_moran(y, w, &po, &m));
        double mean = 0, z[N], zz = 0, num = 0, s0 = 0, s1 = 0, s2 = 0;
        for (int i = 0; i < N; i++) mean += y[i] / N;
        for (int i = 0; i < N; i++) {
            z[i] = y[i] - mean;
            zz += z[i] * z[i];
        }
        for (int i = 0; i < N; i++) {
            double ri = 0, ci = 0;
            for (int j = 0; j < N; j++) {
                num += W[i][j] * z[i] * z[j];
                s0 += W[i][j];
                s1 += 0.5 * (W[i][j] + W[j][i]) * (W[i][j] + W[j][i]);
                ri += W[i][j];
                ci += W[j][i];
            }
            s2 += (ri + ci) * (ri + ci);
        }
        CHECK_NEAR(m.s0, s0, 1e-12);
        CHECK_NEAR(m.s1, s1, 1e-12);
        CHECK_NEAR(m.s2, s2, 1e-12);
        CHECK_NEAR(m.I, N / s0 * num / zz, 1e-12);
        CHECK(m.p_sim > 0 && m.p_sim <= 0.5 + 1e-12);
        CHECK_NEAR(m.p_norm_two, 2 * m.p_norm, 1e-15);
        /* alternatives are consistent: greater + less = 1 + (ties + 1)/(P+1) >= 1 */
        cs_moran_result a, b;
        po.alternative = CS_PERM_GREATER;
        CHECK_OK(cs_moran(y, w, &po, &a));
        po.alternative = CS_PERM_LESS;
        CHECK_OK(cs_moran(y, w, &po, &b));
        CHECK(a.p_sim + b.p_sim >= 1.0 && fabs(fmin(a.p_sim, b.p_sim) - m.p_sim) < 1e-15);
        cs_weights_free(w);
    }
}


static void test_ogr_and_oom(void)
{
    /* the same four squares as a GeoJSON layer, ids from a property */
    char path[] = "/tmp/cs-contig-XXXXXX.geojson";
    int fd = mkstemps(path, 8);
    const char *gj =
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"code\":\"s0\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},"
        "{\"type\":\"Feature\",\"properties\":{\"code\":\"s1\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[1,0],[2,0],[2,1],[1,1],[1,0]]]}},"
        "{\"type\":\"Feature\",\"properties\":{\"code\":\"s2\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,1],[1,1],[1,2],[0,2],[0,1]]]}},"
        "{\"type\":\"Feature\",\"properties\":{\"code\":\"s3\"},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[[[2,1],[3,1],[3,2],[2,2],[2,1]]]]}}]}";
    CHECK(write(fd, gj, strlen(gj)) == (ssize_t)strlen(gj));
    close(fd);
    cs_weights *w = NULL;
    CHECK_OK(cs_weights_contiguity_ogr(path, NULL, "code", CS_CONTIG_QUEEN, &w));
    CHECK(w && w->n == 4 && w->offset[4] == 8 && !strcmp(w->ids[3], "s3"));
    cs_weights_free(w);
    CHECK_OK(cs_weights_contiguity_ogr(path, NULL, NULL, CS_CONTIG_ROOK, &w));
    CHECK(w && w->offset[4] == 4 && !strcmp(w->ids[3], "3"));
    cs_weights_free(w);
    CHECK(cs_weights_contiguity_ogr(path, NULL, "nope", CS_CONTIG_ROOK, &w) == CS_ENOTFOUND && w == NULL);
    CHECK(cs_weights_contiguity_ogr(path, "nolayer", NULL, CS_CONTIG_ROOK, &w) == CS_ENOTFOUND);
    CHECK(cs_weights_contiguity_ogr("/nonexistent/x.gpkg", NULL, NULL, CS_CONTIG_ROOK, &w) == CS_EIO);
    unlink(path);

    /* failure injection: every allocation failing in turn gives CS_ENOMEM, no output, no leak (ASan) */
    const char *txt = "3\nA 2\nB C\nB 1\nA\nC 1\nA\n";
    const double lon[] = {0, 1, 2, 4}, lat[] = {0, 0, 0, 0}, y[] = {1, 5, 2, 3};
    const char *wkt[] = {"POLYGON((0 0,1 0,1 1,0 1,0 0))", "POLYGON((1 0,2 0,2 1,1 1,1 0))"};
    int nfail = 0;
    for (long k = 1; k < 40; k++) {
        cs_status s[5];
        cs_weights *r[4] = {NULL, NULL, NULL, NULL};
        cs_alloc_fail_after(k, 0);
        s[0] = cs_weights_read_gal_mem(txt, strlen(txt), "x", &r[0]);
        cs_alloc_fail_after(k, 0);
        s[1] = cs_weights_knn(lon, lat, 4, 2, NULL, &r[1]);
        cs_alloc_fail_after(k, 0);
        s[2] = cs_weights_contiguity_wkt(wkt, 2, NULL, CS_CONTIG_QUEEN, &r[2]);
        cs_alloc_fail_after(0, 0);
        CHECK_OK(cs_weights_knn(lon, lat, 4, 1, NULL, &r[3]));
        cs_moran_result m;
        cs_spatial_gini_result g;
        cs_perm_opts po = cs_perm_opts_default();
        po.permutations = 9;
        cs_alloc_fail_after(k, 0);
        s[3] = cs_moran(y, r[3], &po, &m);
        cs_alloc_fail_after(0, 0);
        cs_weights_free(r[3]);
        r[3] = NULL;
        CHECK_OK(cs_weights_read_gal_mem(txt, strlen(txt), "x", &r[3]));
        cs_alloc_fail_after(k, 0);
        s[4] = cs_spatial_gini(y, r[3], &po, &g);
        cs_alloc_fail_after(0, 0);
        for (int i = 0; i < 5; i++) {
            if (s[i]) nfail++;
            CHECK(s[i] == CS_OK || s[i] == CS_ENOMEM);
            if (i < 3) CHECK((s[i] == CS_OK) == (r[i] != NULL));
        }
        for (int i = 0; i < 4; i++) cs_weights_free(r[i]);
    }
    CHECK(nfail > 10);
}

int main(void)
{
    test_ogr_and_oom();
    test_gal();
    test_builders();
    test_moran_brute();
    TEST_MAIN_END();
}

/*
 * test_inequality_pysal.c: the published PySAL results listed in
 * tests/data/inequality/PROVENANCE.md reproduced to 1e-7, plus values from the
 * independent oracle script tests/data/inequality/oracle.py (numpy/statsmodels,
 * brute force) on the same data.
 *
 * PySAL's permutation p-values come from numpy's generator; citysys uses its own
 * (seeded) generator, so only the statistics are matched exactly; the pseudo
 * p-values are checked for range and consistency with the analytical inference.
 */
#include "test.h"
#include "test_inequality_csv.h"

#define DATA CS_SRC_DIR "/tests/data/inequality/"
#define TOL 1e-7

static const char *years[] = {"pcgdp1940", "pcgdp1950", "pcgdp1960", "pcgdp1970",
                              "pcgdp1980", "pcgdp1990", "pcgdp2000"};

static void test_mexico(void)
{
    tcsv t;
    CHECK(tcsv_read(DATA "mexico.csv", &t) == 0);
    CHECK(t.nrows == 32);
    const double theil[] = {0.20894344, 0.15222451, 0.10472941, 0.10194725, 0.09560113, 0.10511256, 0.10660832};
    const double bg[] = {0.0345889, 0.02816853, 0.05260921, 0.05931219, 0.03205257, 0.02963731, 0.03635872};
    const double wg[] = {0.17435454, 0.12405598, 0.0521202, 0.04263506, 0.06354856, 0.07547525, 0.0702496};
    double *h98 = tcsv_doubles(&t, "hanson98");
    char **lab = malloc(t.nrows * sizeof *lab);
    for (size_t i = 0; i < t.nrows; i++) lab[i] = (char *)tcsv_get(&t, i, tcsv_col(&t, "hanson98"));
    uint32_t *grp;
    char **names;
    size_t ng;
    CHECK_OK(cs_groups_from_labels((const char *const *)lab, t.nrows, &grp, &names, &ng));
    CHECK(ng == 5);
    for (int k = 0; k < 7; k++) {
        double *y = tcsv_doubles(&t, years[k]);
        double T;
        CHECK_OK(cs_theil_t(y, NULL, t.nrows, &T));
        /* published to 8 decimals: compare to 1e-7 absolute (round-off of the published figure: 5e-9) */
        CHECK(fabs(T - theil[k]) < TOL);
        cs_ge_decomp *d;
        CHECK_OK(cs_ge_decompose(y, NULL, t.nrows, grp, ng, 1.0, &d));
        CHECK(fabs(d->total - theil[k]) < TOL);
        CHECK(fabs(d->between - bg[k]) < TOL);
        CHECK(fabs(d->within - wg[k]) < TOL);
        CHECK_NEAR(d->between + d->within, d->total, 1e-13);
        double sumw = 0;
        for (size_t g = 0; g < ng; g++) sumw += d->group_within[g];
        CHECK_NEAR(sumw, d->within, 1e-13);
        cs_ge_decomp_free(d);
        free(y);
    }
    double *y = tcsv_doubles(&t, "pcgdp1940");
    double g;
    CHECK_OK(cs_gini(y, NULL, t.nrows, CS_GINI_POPULATION, &g));
    CHECK_NEAR(g, 0.35372371173452849, 1e-12);
    CHECK_OK(cs_gini(y, NULL, t.nrows, CS_GINI_SAMPLE, &g));
    CHECK_NEAR(g, 0.36513415404854555, 1e-12);

    /* oracle.py values (textbook formulas with numpy) */
    cs_ineq_summary s;
    cs_ineq_opts o = cs_ineq_opts_default();
    CHECK_OK(cs_ineq_summarise(y, NULL, t.nrows, &o, &s));
    CHECK_NEAR(s.theil_l, 0.20294891379900745, 1e-12);
    CHECK_NEAR(s.ge_alpha, 0.25100068685726834, 1e-12);
    CHECK_NEAR(s.atkinson, 0.18368005695490219, 1e-12);
    CHECK_NEAR(s.cv, 0.70852055278201831, 1e-12);
    CHECK_NEAR(s.cv_sample, 0.71985760148449207, 1e-12);
    CHECK_NEAR(s.gini, 0.35372371173452849, 1e-12);
    double v;
    CHECK_OK(cs_ge(y, NULL, t.nrows, 0.5, &v));
    CHECK_NEAR(v, 0.20196308388243059, 1e-12);
    CHECK_OK(cs_ge(y, NULL, t.nrows, -1, &v));
    CHECK_NEAR(v, 0.23056484695794249, 1e-12);
    CHECK_OK(cs_atkinson(y, NULL, t.nrows, 0.5, &v));
    CHECK_NEAR(v, 0.09843222398800866, 1e-12);
    CHECK_OK(cs_atkinson(y, NULL, t.nrows, 2, &v));
    CHECK_NEAR(v, 0.3155980580204617, 1e-12);

    /* population-weighted (weights = pcgdp1950/1000, any positive numbers serve) */
    double *p = tcsv_doubles(&t, "pcgdp1950");
    for (size_t i = 0; i < t.nrows; i++) p[i] /= 1000.0;
    CHECK_OK(cs_gini(y, p, t.nrows, CS_GINI_POPULATION, &v));
    CHECK_NEAR(v, 0.35804729458035167, 1e-12);
    CHECK_OK(cs_theil_t(y, p, t.nrows, &v));
    CHECK_NEAR(v, 0.20800441446468471, 1e-12);
    CHECK_OK(cs_theil_l(y, p, t.nrows, &v));
    CHECK_NEAR(v, 0.22053742462349263, 1e-12);
    CHECK_OK(cs_williamson(y, p, t.nrows, &v));
    CHECK_NEAR(v, 0.66837400892034282, 1e-12);

    /* Dagum decomposition by hanson98 vs brute force */
    cs_gini_decomp *gd;
    CHECK_OK(cs_gini_decompose(y, NULL, t.nrows, grp, ng, &gd));
    CHECK_NEAR(gd->total, 0.35372371173452849, 1e-12);
    CHECK_NEAR(gd->within, 0.059705723775483305, 1e-12);
    CHECK_NEAR(gd->between_net, 0.14066085868517614, 1e-12);
    CHECK_NEAR(gd->overlap, 0.15335712927386908, 1e-12);
    cs_gini_decomp_free(gd);

    /* spatial Gini with hanson98 block weights */
    cs_weights *w;
    CHECK_OK(cs_weights_blocks(grp, t.nrows, NULL, &w));
    CHECK(cs_weights_is_binary_symmetric(w));
    cs_spatial_gini_result sg;
    cs_perm_opts po = cs_perm_opts_default();
    po.permutations = 99;
    CHECK_OK(cs_spatial_gini(y, w, &po, &sg));
    CHECK_NEAR(sg.wg, 884130.0, TOL);
    CHECK_NEAR(sg.wcg, 4353856.0, TOL);
    CHECK_NEAR(sg.gini, 0.35372371173452849, 1e-12);
    CHECK_NEAR(sg.wg + sg.wcg, sg.total, 1e-12);
    /* Permutation inference. PySAL's test (numpy seed 12345, 99 permutations) gives E[wcg] = 4170356.747;
       our generator draws other permutations. Check against the exact permutation mean instead:
       E[wg] = S0 · d / (n (n − 1)) (every ordered pair is equally likely to be a neighbour pair), and
       against the exact tail probability estimated with numpy (20000 permutations: P(wcg_sim >= wcg) = 0.0245). */
    {
        double S0 = (double)w->offset[w->n], nn = (double)t.nrows;
        double e_exact = sg.total - S0 * sg.total / (nn * (nn - 1));
        cs_spatial_gini_result big;
        cs_perm_opts p9 = po;
        p9.permutations = 9999;
        CHECK_OK(cs_spatial_gini(y, w, &p9, &big));
        CHECK(fabs(big.e_wcg - e_exact) < 4 * big.s_wcg / sqrt(9999.0));
        CHECK(big.p_sim > 0.015 && big.p_sim < 0.035);
        CHECK(big.z_wcg > 1.5 && big.z_wcg < 2.5);
        CHECK(sg.p_sim >= 0.01 && sg.p_sim <= 0.08);
        CHECK_NEAR(big.p_z_sim, cs_normal_sf(big.z_wcg), 1e-15);
    }
    /* same seed, same result */
    cs_spatial_gini_result sg2;
    CHECK_OK(cs_spatial_gini(y, w, &po, &sg2));
    CHECK(sg2.p_sim == sg.p_sim && sg2.e_wcg == sg.e_wcg);
    /* row-standardised weights are refused */
    cs_weights_row_standardise(w);
    CHECK(cs_spatial_gini(y, w, &po, &sg2) == CS_EINVAL);
    cs_weights_free(w);

    free(p);
    free(y);
    free(h98);
    free(lab);
    cs_free(grp);
    cs_groups_names_free(names, ng);
    tcsv_free(&t);
}

static void test_stl(void)
{
    tcsv t;
    CHECK(tcsv_read(DATA "stl_hom.csv", &t) == 0);
    CHECK(t.nrows == 78);
    double *y = tcsv_doubles(&t, "HR8893");
    cs_weights *w;
    CHECK_OK(cs_weights_read_gal(DATA "stl.gal", &w));
    CHECK(w->n == 78);
    cs_weights *wb;
    CHECK_OK(cs_weights_clone(w, &wb));
    cs_weights_row_standardise(w);
    cs_moran_result m;
    cs_perm_opts po = cs_perm_opts_default();
    CHECK_OK(cs_moran(y, w, &po, &m));
    CHECK_NEAR(m.I, 0.24365582621771659, TOL);
    CHECK_NEAR(m.EI, -0.012987012987012988, 1e-15);
    CHECK_NEAR(m.p_norm, 0.00013573931385468807, TOL);
    CHECK(fabs(m.p_norm - 0.00013573931385468807) < 1e-9);
    CHECK_NEAR(m.VI_norm, 0.0049681392601161186, 1e-10);
    CHECK_NEAR(m.VI_rand, 0.0029761028286109312, 1e-10);
    CHECK_NEAR(m.z_rand, 4.704410220874629, 1e-9);
    CHECK_NEAR(m.p_rand, 1.2730043558415848e-06, 1e-9);
    /* 999 permutations: I is far above every simulated value in practice */
    CHECK(m.permutations == 999 && m.p_sim >= 0.001 && m.p_sim < 0.01);
    CHECK(fabs(m.EI_sim - m.EI) < 0.01);
    CHECK(m.z_sim > 3);
    /* binary weights (transformation "B") */
    CHECK_OK(cs_moran(y, wb, NULL, &m));
    CHECK_NEAR(m.I, 0.2034411928793651, 1e-10);
    CHECK_NEAR(m.VI_norm, 0.0046329363852455644, 1e-10);

    /* rook contiguity from the WKT polygons reproduces stl.gal exactly (the file is labelled "queen" in
       libpysal's README, but its 398 links are the shared-edge ones; queen adds 4 corner-touching pairs) */
    int wc = tcsv_col(&t, "WKT");
    const char **wkt = malloc(t.nrows * sizeof *wkt);
    char **ids = malloc(t.nrows * sizeof *ids);
    for (size_t i = 0; i < t.nrows; i++) {
        wkt[i] = tcsv_get(&t, i, wc);
        ids[i] = malloc(24);
        snprintf(ids[i], 24, "%zu", i + 1);
    }
    cs_weights *q;
    CHECK_OK(cs_weights_contiguity_wkt(wkt, t.nrows, (const char *const *)ids, CS_CONTIG_ROOK, &q));
    if (q) {
        int same = q->n == wb->n && q->offset[q->n] == wb->offset[wb->n];
        for (size_t i = 0; same && i < q->n; i++) {
            same &= q->offset[i] == wb->offset[i] && !strcmp(q->ids[i], wb->ids[i]);
            for (size_t k = q->offset[i]; same && k < q->offset[i + 1]; k++) same &= q->nbr[k] == wb->nbr[k];
        }
        CHECK(same);
        if (!same) fprintf(stderr, "rook: %zu links, stl.gal: %zu\n", q->offset[q->n], wb->offset[wb->n]);
    }
    cs_weights *r = q;
    CHECK_OK(cs_weights_contiguity_wkt(wkt, t.nrows, (const char *const *)ids, CS_CONTIG_QUEEN, &q));
    CHECK(q && q->offset[q->n] == 406);
    if (r && q) {
        /* rook is a subset of queen */
        CHECK(r->offset[r->n] <= q->offset[q->n]);
        int sub = 1;
        for (size_t i = 0; i < r->n; i++)
            for (size_t k = r->offset[i]; k < r->offset[i + 1]; k++) {
                int f = 0;
                for (size_t l = q->offset[i]; l < q->offset[i + 1]; l++) f |= q->nbr[l] == r->nbr[k];
                sub &= f;
            }
        CHECK(sub);
        CHECK(cs_weights_is_binary_symmetric(r));
    }
    cs_weights_free(q);
    cs_weights_free(r);
    for (size_t i = 0; i < t.nrows; i++) free(ids[i]);
    free(ids);
    free(wkt);
    cs_weights_free(w);
    cs_weights_free(wb);
    free(y);
    tcsv_free(&t);
}

static void test_usjoin(void)
{
    tcsv t;
    CHECK(tcsv_read(DATA "usjoin.csv", &t) == 0);
    CHECK(t.nrows == 48);
    size_t nper = 81, n = t.nrows;
    double *y = malloc(n * nper * sizeof *y);
    for (size_t k = 0; k < nper; k++) {
        char yr[8];
        snprintf(yr, sizeof yr, "%zu", 1929 + k);
        double *c = tcsv_doubles(&t, yr);
        CHECK(c != NULL);
        if (!c) return;
        double mean = 0;
        for (size_t i = 0; i < n; i++) mean += c[i] / n;
        for (size_t i = 0; i < n; i++) y[i * nper + k] = c[i] / mean; /* relative income, as PROVENANCE says */
        free(c);
    }
    cs_markov *m;
    CHECK_OK(cs_markov_quantiles(y, n, nper, 5, &m));
    const double want[25] = {729, 71, 1, 0, 0, 72, 567, 80, 3, 0, 0, 81, 631, 86, 2, 0, 3, 86, 573, 56, 0, 0, 1, 57, 741};
    int same = 1;
    for (int k = 0; k < 25; k++) same &= m->counts[k] == want[k];
    CHECK(same);
    if (!same)
        for (int k = 0; k < 25; k++) fprintf(stderr, "%g%c", m->counts[k], k % 5 == 4 ? '\n' : ' ');
    const double pi[5] = {0.20774715891655093, 0.18725773874875118, 0.20740536573229812, 0.18821786797367943,
                          0.2093718686287204};
    CHECK(m->steady_state_unique);
    for (int k = 0; k < 5; k++) CHECK_NEAR(m->steady_state[k], pi[k], 1e-10);
    cs_markov_free(m);

    /* beta convergence 1929 -> 2009 on absolute incomes: statsmodels OLS (oracle.py) */
    double *y29 = tcsv_doubles(&t, "1929"), *y09 = tcsv_doubles(&t, "2009");
    cs_beta_result b;
    CHECK_OK(cs_beta_convergence(y29, y09, n, 80, &b));
    CHECK_NEAR(b.alpha, 0.11015496712850202, 1e-10);
    CHECK_NEAR(b.beta, -0.0091532169839369307, 1e-10);
    CHECK_NEAR(b.se_alpha, 0.0031070339375925326, 1e-10);
    CHECK_NEAR(b.se_beta, 0.00048794652434727015, 1e-10);
    CHECK_NEAR(b.t_beta, -18.758647776375209, 1e-9);
    CHECK_NEAR(b.r2, 0.88438924758583359, 1e-10);
    CHECK(b.speed_defined);
    CHECK_NEAR(b.speed, 0.016471613169514995, 1e-10);
    CHECK_NEAR(b.half_life, log(2) / 0.016471613169514995, 1e-9);
    /* sigma convergence on 1929 and 2009 */
    double panel[48 * 2], cv[2], sdl[2];
    for (size_t i = 0; i < n; i++) {
        panel[2 * i] = y29[i];
        panel[2 * i + 1] = y09[i];
    }
    CHECK_OK(cs_sigma_convergence(panel, NULL, n, 2, cv, sdl));
    CHECK_NEAR(cv[0], 0.35536689373553915, 1e-12);
    CHECK_NEAR(sdl[0], 0.36550800364441016, 1e-12);
    CHECK_NEAR(cv[1], 0.14400613153052458, 1e-12);
    CHECK_NEAR(sdl[1], 0.13762740299353338, 1e-12);

    /* states48.gal parses and is symmetric */
    cs_weights *w;
    CHECK_OK(cs_weights_read_gal(DATA "states48.gal", &w));
    CHECK(w && w->n == 48 && cs_weights_is_binary_symmetric(w));
    cs_weights_free(w);
    free(y29);
    free(y09);
    free(y);
    tcsv_free(&t);
}

int main(void)
{
    test_mexico();
    test_stl();
    test_usjoin();
    TEST_MAIN_END();
}

/* centrality.c: city-graph centralities and communities through igraph (docs/centrality.md). */
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <igraph/igraph.h>
#include "citysys/alloc.h"
#include "citysys/centrality.h"

static pthread_once_t ig_once = PTHREAD_ONCE_INIT;
static void ig_init(void)
{
    igraph_set_error_handler(igraph_error_handler_ignore);
    igraph_set_warning_handler(igraph_warning_handler_ignore);
}

static cs_status ig_fail(igraph_error_t e, const char *what)
{
    return cs_error_set(e == IGRAPH_ENOMEM ? CS_ENOMEM : CS_EDEPENDENCY, "igraph failed in %s: %s", what,
                        igraph_strerror(e));
}

void cs_centrality_free(cs_centrality *c)
{
    if (!c) return;
    cs_free(c->closeness);
    cs_free(c->harmonic);
    cs_free(c->betweenness);
    cs_free(c->eigenvector);
    cs_free(c->community);
    cs_free(c->soft_strength);
    cs_free(c->soft_eigenvector);
    cs_free(c->combined_eigenvector);
    cs_free(c->soft_harmonic);
    cs_free(c->combined_strength);
    cs_free(c);
}

static cs_status check_edges(size_t n, const cs_edge_list *e, const char *what)
{
    for (size_t k = 0; k < e->m; k++) {
        if (e->i[k] >= n || e->j[k] >= n)
            return cs_error_set(CS_EINVAL, "%s link %zu refers to city %u of %zu", what, k,
                                e->i[k] >= n ? e->i[k] : e->j[k], n);
        if (e->length && !(e->length[k] > 0 && isfinite(e->length[k])))
            return cs_error_set(CS_EINVAL, "%s link %zu: length must be finite and > 0", what, k);
        if (e->weight && !(e->weight[k] >= 0 && isfinite(e->weight[k])))
            return cs_error_set(CS_EINVAL, "%s link %zu: weight must be finite and >= 0", what, k);
    }
    return CS_OK;
}

/* graph from one or two edge lists; lengths/weights vectors (weights summed on duplicates is not needed:
   igraph handles multi-edges in eigenvector centrality as summed adjacency) */
static igraph_error_t build(size_t n, const cs_edge_list *a, const cs_edge_list *b, igraph_t *g, igraph_vector_t *len,
                            igraph_vector_t *w, double sa, double sb)
{
    size_t m = (a ? a->m : 0) + (b ? b->m : 0);
    igraph_vector_int_t ev;
    IGRAPH_CHECK(igraph_vector_int_init(&ev, (igraph_integer_t)(2 * m)));
    igraph_error_t e = igraph_vector_init(len, (igraph_integer_t)m);
    if (e) {
        igraph_vector_int_destroy(&ev);
        return e;
    }
    e = igraph_vector_init(w, (igraph_integer_t)m);
    if (e) {
        igraph_vector_int_destroy(&ev);
        igraph_vector_destroy(len);
        return e;
    }
    size_t k = 0;
    for (int s = 0; s < 2; s++) {
        const cs_edge_list *L = s ? b : a;
        if (!L) continue;
        for (size_t q = 0; q < L->m; q++, k++) {
            VECTOR(ev)[2 * k] = L->i[q];
            VECTOR(ev)[2 * k + 1] = L->j[q];
            VECTOR(*len)[k] = L->length ? L->length[q] : 1.0;
            VECTOR(*w)[k] = (L->weight ? L->weight[q] : 1.0) * (s ? sb : sa);
        }
    }
    e = igraph_create(g, &ev, (igraph_integer_t)n, IGRAPH_UNDIRECTED);
    igraph_vector_int_destroy(&ev);
    if (e) {
        igraph_vector_destroy(len);
        igraph_vector_destroy(w);
    }
    return e;
}

static cs_status eigen(const igraph_t *g, const igraph_vector_t *w, double *out, size_t n)
{
    igraph_vector_t v;
    igraph_real_t val;
    igraph_error_t e = igraph_vector_init(&v, 0);
    if (e) return ig_fail(e, "eigenvector centrality");
    if (igraph_ecount(g) == 0) {
        for (size_t i = 0; i < n; i++) out[i] = 1.0; /* igraph convention: all 1 for an edgeless graph */
        igraph_vector_destroy(&v);
        return CS_OK;
    }
    e = igraph_eigenvector_centrality(g, &v, &val, IGRAPH_UNDIRECTED, 1, w, NULL);
    if (e) {
        igraph_vector_destroy(&v);
        return ig_fail(e, "eigenvector centrality");
    }
    for (size_t i = 0; i < n; i++) out[i] = VECTOR(v)[i] + 0.0; /* no negative zeros */
    igraph_vector_destroy(&v);
    return CS_OK;
}

void cs_centrality_opts_default(cs_centrality_opts *o)
{
    o->seed = 1;
    o->soft_share = 0.5;
}

cs_status cs_centrality_compute(size_t n, const cs_edge_list *hard, const cs_edge_list *soft, uint64_t seed,
                                cs_centrality **out)
{
    cs_centrality_opts o;
    cs_centrality_opts_default(&o);
    o.seed = seed;
    return cs_centrality_compute_opts(n, hard, soft, &o, out);
}

static double total_weight(const cs_edge_list *e)
{
    double s = 0;
    for (size_t k = 0; k < e->m; k++) s += e->weight ? e->weight[k] : 1.0;
    return s;
}

cs_status cs_centrality_compute_opts(size_t n, const cs_edge_list *hard, const cs_edge_list *soft,
                                     const cs_centrality_opts *opts, cs_centrality **out)
{
    *out = NULL;
    cs_centrality_opts o;
    if (opts) o = *opts;
    else cs_centrality_opts_default(&o);
    if (!(o.soft_share >= 0 && o.soft_share <= 1)) return cs_error_set(CS_EINVAL, "centrality: soft_share must be in [0, 1]");
    uint64_t seed = o.seed;
    pthread_once(&ig_once, ig_init);
    if (!hard) return cs_error_set(CS_EINVAL, "centrality: no hard links");
    cs_status st = check_edges(n, hard, "hard");
    if (!st && soft) st = check_edges(n, soft, "soft");
    if (st) return st;
    int has_soft = soft && soft->m > 0;
    size_t nn = n ? n : 1;
    cs_centrality *c = cs_calloc(1, sizeof *c);
    if (!c) return CS_ENOMEM;
    c->n = n;
    c->closeness = cs_mallocarray(nn, sizeof(double));
    c->harmonic = cs_mallocarray(nn, sizeof(double));
    c->betweenness = cs_mallocarray(nn, sizeof(double));
    c->eigenvector = cs_mallocarray(nn, sizeof(double));
    c->community = cs_mallocarray(nn, sizeof(uint32_t));
    if (has_soft) {
        c->soft_strength = cs_calloc(nn, sizeof(double));
        c->soft_eigenvector = cs_mallocarray(nn, sizeof(double));
        c->combined_eigenvector = cs_mallocarray(nn, sizeof(double));
        c->soft_harmonic = cs_mallocarray(nn, sizeof(double));
        c->combined_strength = cs_calloc(nn, sizeof(double));
    }
    if (!c->closeness || !c->harmonic || !c->betweenness || !c->eigenvector || !c->community ||
        (has_soft && (!c->soft_strength || !c->soft_eigenvector || !c->combined_eigenvector || !c->soft_harmonic ||
                      !c->combined_strength))) {
        cs_centrality_free(c);
        return CS_ENOMEM;
    }
    igraph_t g;
    igraph_vector_t len, w, res;
    igraph_vector_int_t memb;
    igraph_vector_t modv;
    igraph_error_t e = build(n, hard, NULL, &g, &len, &w, 1, 1);
    if (e) {
        cs_centrality_free(c);
        return ig_fail(e, "graph construction");
    }
    int have_res = 0, have_memb = 0, have_mod = 0;
    if ((e = igraph_vector_init(&res, 0))) goto igfail;
    have_res = 1;
    if ((e = igraph_closeness(&g, &res, NULL, NULL, igraph_vss_all(), IGRAPH_ALL, &len, 1))) goto igfail;
    for (size_t i = 0; i < n; i++) c->closeness[i] = VECTOR(res)[i];
    if ((e = igraph_harmonic_centrality(&g, &res, igraph_vss_all(), IGRAPH_ALL, &len, 1))) goto igfail;
    for (size_t i = 0; i < n; i++) c->harmonic[i] = VECTOR(res)[i];
    if ((e = igraph_betweenness(&g, &res, igraph_vss_all(), IGRAPH_UNDIRECTED, &len))) goto igfail;
    for (size_t i = 0; i < n; i++) c->betweenness[i] = VECTOR(res)[i];
    if ((st = eigen(&g, &w, c->eigenvector, n))) goto fail;
    /* Louvain: seeded RNG, then community ids renumbered by first appearance (deterministic labels) */
    if ((e = igraph_vector_int_init(&memb, 0))) goto igfail;
    have_memb = 1;
    if ((e = igraph_vector_init(&modv, 0))) goto igfail;
    have_mod = 1;
    igraph_rng_seed(igraph_rng_default(), (igraph_uint_t)seed);
    if (igraph_ecount(&g) > 0) {
        if ((e = igraph_community_multilevel(&g, &w, 1.0, &memb, NULL, &modv))) goto igfail;
        c->modularity = igraph_vector_size(&modv) ? VECTOR(modv)[igraph_vector_size(&modv) - 1] : NAN;
    } else {
        if ((e = igraph_vector_int_resize(&memb, (igraph_integer_t)n))) goto igfail;
        for (size_t i = 0; i < n; i++) VECTOR(memb)[i] = (igraph_integer_t)i;
        c->modularity = NAN;
    }
    {
        uint32_t *map = cs_mallocarray(nn, sizeof *map);
        if (!map) {
            st = CS_ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < n; i++) map[i] = CS_INVALID_ID;
        uint32_t nc = 0;
        for (size_t i = 0; i < n; i++) {
            igraph_integer_t m = VECTOR(memb)[i];
            if (map[m] == CS_INVALID_ID) map[m] = nc++;
            c->community[i] = map[m];
        }
        c->n_communities = nc;
        cs_free(map);
    }
    if (has_soft) {
        for (size_t k = 0; k < soft->m; k++) {
            double wk = soft->weight ? soft->weight[k] : 1.0;
            c->soft_strength[soft->i[k]] += wk;
            if (soft->j[k] != soft->i[k]) c->soft_strength[soft->j[k]] += wk;
        }
        igraph_t gs, gc;
        igraph_vector_t ls, ws, lc, wc;
        if ((e = build(n, soft, NULL, &gs, &ls, &ws, 1, 1))) goto igfail;
        st = eigen(&gs, &ws, c->soft_eigenvector, n);
        if (!st) {
            e = igraph_harmonic_centrality(&gs, &res, igraph_vss_all(), IGRAPH_ALL, &ls, 1);
            if (e) st = ig_fail(e, "soft harmonic centrality");
            for (size_t i = 0; !st && i < n; i++) c->soft_harmonic[i] = VECTOR(res)[i];
        }
        igraph_destroy(&gs);
        igraph_vector_destroy(&ls);
        igraph_vector_destroy(&ws);
        if (st) goto fail;
        /* aggregate graph: each layer scaled to total weight 1, then (1 − α) hard + α soft */
        double th = total_weight(hard), ts = total_weight(soft);
        double sh = th > 0 ? (1 - o.soft_share) / th : 0, ss = ts > 0 ? o.soft_share / ts : 0;
        if ((e = build(n, hard, soft, &gc, &lc, &wc, sh, ss))) goto igfail;
        for (size_t k = 0; k < hard->m + soft->m; k++) {
            const cs_edge_list *L = k < hard->m ? hard : soft;
            size_t q = k < hard->m ? k : k - hard->m;
            double wk = VECTOR(wc)[k];
            c->combined_strength[L->i[q]] += wk;
            if (L->j[q] != L->i[q]) c->combined_strength[L->j[q]] += wk;
        }
        st = eigen(&gc, &wc, c->combined_eigenvector, n);
        igraph_destroy(&gc);
        igraph_vector_destroy(&lc);
        igraph_vector_destroy(&wc);
        if (st) goto fail;
    }
    goto done;
igfail:
    st = ig_fail(e, "centrality");
fail:
    if (!st) st = CS_EDEPENDENCY;
done:
    if (have_res) igraph_vector_destroy(&res);
    if (have_memb) igraph_vector_int_destroy(&memb);
    if (have_mod) igraph_vector_destroy(&modv);
    igraph_destroy(&g);
    igraph_vector_destroy(&len);
    igraph_vector_destroy(&w);
    if (st) {
        cs_centrality_free(c);
        return st;
    }
    *out = c;
    return CS_OK;
}

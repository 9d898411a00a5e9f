/* typology.c: metropolitan clusters, corridors, regional hubs, primary/secondary/isolated (docs/typology.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/typology.h"

void cs_typology_params_default(cs_typology_params *p)
{
    memset(p, 0, sizeof *p);
    p->core_min_population = 50000;
    p->commute_share = 0.15;
    p->max_commute_s = 90 * 60;
    p->commute_decay = CS_DECAY_EXPONENTIAL;
    p->commute_decay_param = 0.1;
    p->internal_time_s = 10 * 60;
    p->corridor_min_population = 500000;
    p->corridor_max_detour_s = 30 * 60;
    p->corridor_max_detour_frac = 0.10;
    p->corridor_min_towns = 3;
    p->corridor_merge_overlap = 0.5;
    p->adjacency_tolerance = 0.02;
    p->secondary_min_share = 0.10;
    p->secondary_max_share = 0.50;
    p->isolated_time_s = 60 * 60;
    p->gravity_decay_param = 0.02;
}

void cs_typology_free(cs_typology *t)
{
    if (!t) return;
    cs_free(t->cluster);
    cs_free(t->is_core);
    cs_free(t->commute_share);
    cs_free(t->hub);
    cs_free(t->dominant);
    cs_free(t->parent);
    cs_free(t->hub_level);
    cs_free(t->hinterland_population);
    cs_free(t->inflow);
    cs_free(t->is_primary);
    cs_free(t->is_secondary);
    cs_free(t->is_isolated);
    cs_free(t->is_hub);
    cs_free(t->cluster_population);
    cs_free(t->cluster_n_cores);
    for (uint32_t c = 0; c < t->n_corridors; c++) {
        cs_free(t->corridors[c].towns);
        cs_route_clear(&t->corridors[c].route);
    }
    cs_free(t->corridors);
    cs_free(t->adj_i);
    cs_free(t->adj_j);
    cs_free(t);
}

/* ---- tie-breaking rank from ids ---- */
/* qsort has no user pointer in C17: comparators read thread-local context set just before the call */
static _Thread_local const char *const *g_ids;
static int cmp_rank(const void *a, const void *b)
{
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    int c = strcmp(g_ids[i], g_ids[j]);
    return c ? c : (i < j ? -1 : i > j);
}

static cs_status make_rank(const cs_typology_input *in, uint32_t *rank)
{
    size_t n = in->n;
    if (!in->ids) {
        for (size_t i = 0; i < n; i++) rank[i] = (uint32_t)i;
        return CS_OK;
    }
    uint32_t *ord = cs_mallocarray(n ? n : 1, sizeof *ord);
    if (!ord) return CS_ENOMEM;
    for (size_t i = 0; i < n; i++) ord[i] = (uint32_t)i;
    g_ids = in->ids;
    qsort(ord, n, sizeof *ord, cmp_rank);
    for (size_t r = 0; r < n; r++) rank[ord[r]] = (uint32_t)r;
    cs_free(ord);
    return CS_OK;
}

static double tt(const cs_typology_input *in, size_t i, size_t j) { return in->time->v[i * in->n + j]; }

static double decay(const cs_typology_params *p, double t_s)
{
    if (!(t_s < INFINITY)) return 0;
    double m = t_s / 60.0;
    if (p->commute_decay == CS_DECAY_POWER) return pow(m > 1e-9 ? m : 1e-9, -p->commute_decay_param);
    return exp(-p->commute_decay_param * m);
}

static cs_status check_input(const cs_typology_input *in, const cs_typology_params *p)
{
    if (!in || !in->pop || !in->time) return cs_error_set(CS_EINVAL, "typology: population and travel times are required");
    size_t n = in->n;
    if (in->time->rows != n || in->time->cols != n)
        return cs_error_set(CS_EINVAL, "typology: travel-time matrix is %zu x %zu, expected %zu x %zu", in->time->rows,
                            in->time->cols, n, n);
    if (in->commute && (in->commute->rows != n || in->commute->cols != n))
        return cs_error_set(CS_EINVAL, "typology: commuting matrix must be %zu x %zu", n, n);
    if (in->flows && (in->flows->rows != n || in->flows->cols != n))
        return cs_error_set(CS_EINVAL, "typology: flow matrix must be %zu x %zu", n, n);
    for (size_t i = 0; i < n; i++) {
        if (!(in->pop[i] >= 0) || !isfinite(in->pop[i]))
            return cs_error_set(CS_EINVAL, "typology: population of city %zu must be a finite number >= 0", i);
        for (size_t j = 0; j < n; j++) {
            double t = tt(in, i, j);
            if (isnan(t) || t < 0) return cs_error_set(CS_EINVAL, "typology: travel time %zu->%zu is negative or NaN", i, j);
        }
    }
    if (!(p->commute_share > 0 && p->commute_share <= 1)) return cs_error_set(CS_EINVAL, "typology: commute_share must be in (0,1]");
    if (!(p->commute_decay_param > 0)) return cs_error_set(CS_EINVAL, "typology: commute_decay_param must be > 0");
    if (!(p->corridor_max_detour_frac >= 0) || !(p->corridor_max_detour_s >= 0))
        return cs_error_set(CS_EINVAL, "typology: corridor detour limits must be >= 0");
    if (!(p->secondary_min_share <= p->secondary_max_share))
        return cs_error_set(CS_EINVAL, "typology: secondary_min_share must not exceed secondary_max_share");
    return CS_OK;
}

cs_status cs_commute_shares(const cs_typology_input *in, const cs_typology_params *p_in, double *s)
{
    cs_typology_params p;
    if (p_in) p = *p_in;
    else cs_typology_params_default(&p);
    cs_status st = check_input(in, &p);
    if (st) return st;
    size_t n = in->n;
    for (size_t i = 0; i < n; i++) {
        double tot = 0;
        for (size_t k = 0; k < n; k++) {
            double v;
            if (in->commute) {
                v = in->commute->v[i * n + k];
                if (!(v >= 0)) v = 0;
            } else {
                double t = (k == i) ? p.internal_time_s : tt(in, i, k);
                v = in->pop[k] * decay(&p, t);
            }
            s[i * n + k] = v;
            tot += v;
        }
        for (size_t k = 0; k < n; k++) s[i * n + k] = tot > 0 ? s[i * n + k] / tot : NAN;
    }
    return CS_OK;
}

/* union-find */
static uint32_t uf_find(uint32_t *par, uint32_t x)
{
    while (par[x] != x) {
        par[x] = par[par[x]];
        x = par[x];
    }
    return x;
}
static void uf_union(uint32_t *par, const uint32_t *rank, uint32_t a, uint32_t b)
{
    a = uf_find(par, a);
    b = uf_find(par, b);
    if (a == b) return;
    if (rank[a] < rank[b]) par[b] = a; /* the root is the member with the smallest rank: deterministic */
    else par[a] = b;
}

typedef struct {
    double pop;
    uint32_t rank;
    uint32_t root;
} clu_key;
static int cmp_clu(const void *a, const void *b)
{
    const clu_key *x = a, *y = b;
    if (x->pop != y->pop) return x->pop > y->pop ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static cs_status clusters(const cs_typology_input *in, const cs_typology_params *p, const uint32_t *rank, cs_typology *t)
{
    size_t n = in->n;
    cs_status st = CS_OK;
    double *s = cs_mallocarray(n > 0 ? n * n : 1, sizeof *s);
    uint32_t *par = cs_mallocarray(n ? n : 1, sizeof *par);
    uint32_t *root_cluster = cs_mallocarray(n ? n : 1, sizeof *root_cluster);
    double *share = cs_mallocarray(n ? n : 1, sizeof *share); /* per root: share of the current town */
    clu_key *keys = cs_mallocarray(n ? n : 1, sizeof *keys);
    if (!s || !par || !root_cluster || !share || !keys) {
        st = CS_ENOMEM;
        goto done;
    }
    if ((st = cs_commute_shares(in, p, s))) goto done;
    for (size_t i = 0; i < n; i++) {
        par[i] = (uint32_t)i;
        t->cluster[i] = CS_INVALID_ID;
        t->commute_share[i] = NAN;
        t->is_core[i] = in->pop[i] >= p->core_min_population && in->pop[i] > 0;
    }
    /* cores merge when the commuting share between them passes the threshold (never by proximity alone) */
    for (size_t k = 0; k < n; k++) {
        if (!t->is_core[k]) continue;
        for (size_t l = k + 1; l < n; l++) {
            if (!t->is_core[l]) continue;
            int kl = tt(in, k, l) <= p->max_commute_s && s[k * n + l] >= p->commute_share;
            int lk = tt(in, l, k) <= p->max_commute_s && s[l * n + k] >= p->commute_share;
            if (kl || lk) uf_union(par, rank, (uint32_t)k, (uint32_t)l);
        }
    }
    /* number the clusters: by population of their cores (desc), then rank of the root */
    size_t nc = 0;
    for (size_t k = 0; k < n; k++) root_cluster[k] = CS_INVALID_ID;
    for (size_t k = 0; k < n; k++)
        if (t->is_core[k] && uf_find(par, (uint32_t)k) == k) {
            keys[nc].root = (uint32_t)k;
            keys[nc].rank = rank[k];
            keys[nc].pop = 0;
            nc++;
        }
    for (size_t k = 0; k < n; k++)
        if (t->is_core[k]) {
            uint32_t r = uf_find(par, (uint32_t)k);
            for (size_t c = 0; c < nc; c++)
                if (keys[c].root == r) keys[c].pop += in->pop[k];
        }
    qsort(keys, nc, sizeof *keys, cmp_clu);
    for (size_t c = 0; c < nc; c++) root_cluster[keys[c].root] = (uint32_t)c;
    t->n_clusters = (uint32_t)nc;
    t->cluster_population = cs_calloc(nc ? nc : 1, sizeof(double));
    t->cluster_n_cores = cs_calloc(nc ? nc : 1, sizeof(uint32_t));
    if (!t->cluster_population || !t->cluster_n_cores) {
        st = CS_ENOMEM;
        goto done;
    }
    for (size_t k = 0; k < n; k++)
        if (t->is_core[k]) {
            uint32_t c = root_cluster[uf_find(par, (uint32_t)k)];
            t->cluster[k] = c;
            t->cluster_n_cores[c]++;
        }
    /* cores: their own share to their cluster's cores */
    /* members: share of commuters going to the cores of a cluster reachable within the maximum time */
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < nc; c++) share[c] = 0;
        for (size_t k = 0; k < n; k++) {
            if (!t->is_core[k] || k == i) continue;
            if (!(tt(in, i, k) <= p->max_commute_s)) continue;
            double v = s[i * n + k];
            if (v > 0) share[t->cluster[k]] += v;
        }
        if (t->is_core[i]) {
            t->commute_share[i] = share[t->cluster[i]];
            continue;
        }
        uint32_t best = CS_INVALID_ID;
        for (size_t c = 0; c < nc; c++) {
            if (!(share[c] >= p->commute_share)) continue;
            if (best == CS_INVALID_ID || share[c] > share[best]) best = (uint32_t)c; /* equal share: lower cluster id */
        }
        if (best != CS_INVALID_ID) {
            t->cluster[i] = best;
            t->commute_share[i] = share[best];
        }
    }
    for (size_t i = 0; i < n; i++)
        if (t->cluster[i] != CS_INVALID_ID) t->cluster_population[t->cluster[i]] += in->pop[i];
done:
    cs_free(s);
    cs_free(par);
    cs_free(root_cluster);
    cs_free(share);
    cs_free(keys);
    return st;
}

/* key for the nodal-region rule: (inflow, -rank) */
static int key_greater(const double *inflow, const uint32_t *rank, uint32_t a, uint32_t b)
{
    if (inflow[a] != inflow[b]) return inflow[a] > inflow[b];
    return rank[a] < rank[b];
}

static cs_status hubs(const cs_typology_input *in, const cs_typology_params *p, const uint32_t *rank, cs_typology *t)
{
    size_t n = in->n;
    double *F = NULL;
    const double *flow;
    if (in->flows) {
        flow = in->flows->v;
    } else {
        F = cs_mallocarray(n > 0 ? n * n : 1, sizeof *F);
        if (!F) return CS_ENOMEM;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                double tij = tt(in, i, j);
                F[i * n + j] = (i == j || !(tij < INFINITY)) ? 0 : in->pop[i] * in->pop[j] * exp(-p->gravity_decay_param * tij / 60.0);
            }
        flow = F;
    }
    for (size_t j = 0; j < n; j++) t->inflow[j] = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (i != j && flow[i * n + j] > 0) t->inflow[j] += flow[i * n + j];
    for (size_t i = 0; i < n; i++) {
        uint32_t d = CS_INVALID_ID;
        double best = 0;
        for (size_t j = 0; j < n; j++) {
            if (j == i) continue;
            double f = flow[i * n + j];
            if (!(f > 0)) continue;
            if (d == CS_INVALID_ID || f > best || (f == best && rank[j] < rank[d])) {
                d = (uint32_t)j;
                best = f;
            }
        }
        t->dominant[i] = d;
        /* subordinate when the dominant flow goes to a town with a larger inflow; else a terminal hub */
        if (d != CS_INVALID_ID && key_greater(t->inflow, rank, d, (uint32_t)i)) t->parent[i] = d;
        else t->parent[i] = CS_INVALID_ID;
        t->is_hub[i] = t->parent[i] == CS_INVALID_ID;
    }
    /* levels and terminal hubs: parents have strictly greater keys, so the relation is acyclic */
    for (size_t i = 0; i < n; i++) {
        uint32_t x = (uint32_t)i, depth = 1;
        while (t->parent[x] != CS_INVALID_ID) {
            x = t->parent[x];
            depth++;
        }
        t->hub[i] = x;
        t->hub_level[i] = depth;
        t->hinterland_population[i] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t x = (uint32_t)i;
        for (;;) {
            t->hinterland_population[x] += in->pop[i];
            if (t->parent[x] == CS_INVALID_ID) break;
            x = t->parent[x];
        }
    }
    cs_free(F);
    return CS_OK;
}

static double tsym(const cs_typology_input *in, size_t i, size_t j)
{
    double a = tt(in, i, j), b = tt(in, j, i);
    if (!(a < INFINITY) || !(b < INFINITY)) return INFINITY;
    return 0.5 * (a + b);
}

static cs_status adjacency(const cs_typology_input *in, const cs_typology_params *p, cs_typology *t)
{
    size_t n = in->n, cap = 64, m = 0;
    uint32_t *ai = cs_mallocarray(cap, sizeof *ai), *aj = cs_mallocarray(cap, sizeof *aj);
    if (!ai || !aj) {
        cs_free(ai);
        cs_free(aj);
        return CS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double tij = tsym(in, i, j);
            if (!(tij < INFINITY)) continue;
            int adj = 1;
            for (size_t k = 0; k < n && adj; k++) {
                if (k == i || k == j) continue;
                if (tsym(in, i, k) + tsym(in, k, j) <= (1 + p->adjacency_tolerance) * tij) adj = 0;
            }
            if (!adj) continue;
            if (m == cap) {
                cap *= 2;
                uint32_t *ni = cs_reallocarray(ai, cap, sizeof *ai);
                if (ni) ai = ni;
                uint32_t *nj = ni ? cs_reallocarray(aj, cap, sizeof *aj) : NULL;
                if (nj) aj = nj;
                if (!ni || !nj) {
                    cs_free(ai);
                    cs_free(aj);
                    return CS_ENOMEM;
                }
            }
            ai[m] = (uint32_t)i;
            aj[m] = (uint32_t)j;
            m++;
        }
    t->n_adjacent = m;
    t->adj_i = ai;
    t->adj_j = aj;
    return CS_OK;
}

static _Thread_local const cs_typology_input *g_cin;
static _Thread_local uint32_t g_ca;
static int cmp_along(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    double tx = tt(g_cin, g_ca, x), ty = tt(g_cin, g_ca, y);
    if (tx != ty) return tx < ty ? -1 : 1;
    return x < y ? -1 : x > y;
}

static void corridor_stats(const cs_typology_input *in, cs_corridor *c)
{
    c->time_s = tt(in, c->a, c->b);
    c->population = in->pop[c->a] + in->pop[c->b];
    for (uint32_t k = 0; k < c->n_towns; k++) c->population += in->pop[c->towns[k]];
    c->mean_spacing_s = c->time_s / (double)(c->n_towns + 1);
}

/* share of the shorter route's length on segments the other route also uses */
static double route_overlap(const cs_route *ra, const cs_route *rb)
{
    double ov = 0, lena = 0, lenb = 0;
    for (size_t i = 0; i < ra->n; i++) lena += ra->len_m[i];
    for (size_t j = 0; j < rb->n; j++) lenb += rb->len_m[j];
    const cs_route *x = lena <= lenb ? ra : rb, *y = x == ra ? rb : ra;
    for (size_t i = 0; i < x->n; i++)
        for (size_t j = 0; j < y->n; j++)
            if (x->seg[i] == y->seg[j]) {
                ov += x->len_m[i];
                break;
            }
    double shorter = lena < lenb ? lena : lenb;
    return shorter > 0 ? ov / shorter : 0;
}

static double set_overlap(const cs_corridor *x, const cs_corridor *y)
{
    size_t shared = 0, nx = x->n_towns + 2, ny = y->n_towns + 2;
    for (size_t i = 0; i < nx; i++) {
        uint32_t u = i == 0 ? x->a : i == 1 ? x->b : x->towns[i - 2];
        for (size_t j = 0; j < ny; j++) {
            uint32_t v = j == 0 ? y->a : j == 1 ? y->b : y->towns[j - 2];
            if (u == v) {
                shared++;
                break;
            }
        }
    }
    return (double)shared / (double)(nx < ny ? nx : ny);
}

static cs_status corridors(const cs_typology_input *in, const cs_typology_params *p, const uint32_t *rank,
                           cs_route_fn routes, void *ruser, cs_typology *t)
{
    size_t n = in->n;
    cs_status st = CS_OK;
    size_t cap = 16, m = 0;
    cs_corridor *cs = cs_calloc(cap, sizeof *cs);
    uint32_t *tmp = cs_mallocarray(n ? n : 1, sizeof *tmp);
    if (!cs || !tmp) {
        cs_free(cs);
        cs_free(tmp);
        return CS_ENOMEM;
    }
    /* neighbouring major cities: adjacent in the adjacency graph *of the major cities* (no third major
       city lies on or near the fastest route between them); towns in between are what makes a corridor */
    for (size_t e = 0; e < n * n; e++) {
        uint32_t a = (uint32_t)(e / n), b = (uint32_t)(e % n);
        if (a >= b) continue;
        if (in->pop[a] < p->corridor_min_population || in->pop[b] < p->corridor_min_population) continue;
        double tab_s = tsym(in, a, b);
        if (!(tab_s < INFINITY)) continue;
        int adj = 1;
        for (size_t k = 0; k < n && adj; k++) {
            if (k == a || k == b || in->pop[k] < p->corridor_min_population) continue;
            if (tsym(in, a, k) + tsym(in, k, b) <= (1 + p->adjacency_tolerance) * tab_s) adj = 0;
        }
        if (!adj) continue;
        if (rank[b] < rank[a]) { uint32_t x = a; a = b; b = x; } /* direction a->b by id order */
        double tab = tt(in, a, b);
        if (!(tab < INFINITY)) continue;
        double lim = fmin(p->corridor_max_detour_s, p->corridor_max_detour_frac * tab);
        size_t k = 0;
        for (size_t x = 0; x < n; x++) {
            if (x == a || x == b) continue;
            double d = tt(in, a, x) + tt(in, x, b) - tab;
            if (d <= lim) tmp[k++] = (uint32_t)x;
        }
        if ((int)k < p->corridor_min_towns) continue;
        g_cin = in;
        g_ca = a;
        qsort(tmp, k, sizeof *tmp, cmp_along);
        if (m == cap) {
            cs_corridor *nc = cs_reallocarray(cs, cap * 2, sizeof *cs);
            if (!nc) { st = CS_ENOMEM; break; }
            cs = nc;
            memset(cs + cap, 0, cap * sizeof *cs);
            cap *= 2;
        }
        cs_corridor *c = &cs[m];
        c->a = a;
        c->b = b;
        c->n_towns = (uint32_t)k;
        c->towns = cs_mallocarray(k, sizeof *c->towns);
        if (!c->towns) { st = CS_ENOMEM; break; }
        memcpy(c->towns, tmp, k * sizeof *tmp);
        c->merged_into = CS_INVALID_ID;
        corridor_stats(in, c);
        m++;
    }
    /* routes: one query per corridor */
    for (size_t i = 0; !st && i < m; i++) {
        cs[i].route_length_m = cs[i].route_time_s = NAN;
        if (!routes) continue;
        cs_status rs = routes(ruser, cs[i].a, cs[i].b, &cs[i].route);
        if (rs == CS_EINFEASIBLE) {
            cs_route_clear(&cs[i].route); /* no route on the network (the matrix came from elsewhere) */
            cs_error_clear();
            continue;
        }
        if (rs) {
            st = rs;
            break;
        }
        cs[i].route_length_m = cs[i].route.length_m;
        cs[i].route_time_s = cs[i].route.time_s;
    }
    /* merge corridors sharing at least the overlap share of the shorter route */
    if (!st && m > 1) {
        uint32_t *par = cs_mallocarray(m, sizeof *par), *crank = cs_mallocarray(m, sizeof *crank);
        if (!par || !crank) st = CS_ENOMEM;
        for (size_t i = 0; !st && i < m; i++) {
            par[i] = (uint32_t)i;
            crank[i] = (uint32_t)i;
        }
        for (size_t i = 0; !st && i < m; i++)
            for (size_t j = i + 1; !st && j < m; j++) {
                double ov = routes && cs[i].route.n && cs[j].route.n ? route_overlap(&cs[i].route, &cs[j].route)
                                                                     : set_overlap(&cs[i], &cs[j]);
                if (!st && ov >= p->corridor_merge_overlap) uf_union(par, crank, (uint32_t)i, (uint32_t)j);
            }
        /* representative: the longest corridor of each group; it takes the union of the towns */
        for (size_t i = 0; !st && i < m; i++) {
            uint32_t r = uf_find(par, (uint32_t)i);
            if (r != i) continue;
            size_t rep = i;
            for (size_t j = 0; j < m; j++)
                if (uf_find(par, (uint32_t)j) == r && cs[j].time_s > cs[rep].time_s) rep = j;
            /* collect union of towns and ends, minus the representative's ends */
            size_t k = 0;
            for (size_t j = 0; j < m; j++) {
                if (uf_find(par, (uint32_t)j) != r) continue;
                for (uint32_t q = 0; q < cs[j].n_towns + 2; q++) {
                    uint32_t x = q == 0 ? cs[j].a : q == 1 ? cs[j].b : cs[j].towns[q - 2];
                    if (x == cs[rep].a || x == cs[rep].b) continue;
                    int seen = 0;
                    for (size_t z = 0; z < k && !seen; z++) seen = tmp[z] == x;
                    if (!seen) tmp[k++] = x;
                }
            }
            g_cin = in;
            g_ca = cs[rep].a;
            qsort(tmp, k, sizeof *tmp, cmp_along);
            uint32_t *nt = cs_reallocarray(cs[rep].towns, k ? k : 1, sizeof *nt);
            if (!nt) { st = CS_ENOMEM; break; }
            memcpy(nt, tmp, k * sizeof *tmp);
            cs[rep].towns = nt;
            cs[rep].n_towns = (uint32_t)k;
            corridor_stats(in, &cs[rep]);
            for (size_t j = 0; j < m; j++)
                if (j != rep && uf_find(par, (uint32_t)j) == r) cs[j].merged_into = (uint32_t)rep;
        }
        cs_free(par);
        cs_free(crank);
    }
    cs_free(tmp);
    t->corridors = cs;
    t->n_corridors = (uint32_t)m;
    return st;
}

cs_status cs_typology_compute(const cs_typology_input *in, const cs_typology_params *p_in, cs_route_fn routes,
                              void *route_user, cs_typology **out)
{
    *out = NULL;
    cs_typology_params p;
    if (p_in) p = *p_in;
    else cs_typology_params_default(&p);
    cs_status st = check_input(in, &p);
    if (st) return st;
    size_t n = in->n, nn = n ? n : 1;
    cs_typology *t = cs_calloc(1, sizeof *t);
    uint32_t *rank = cs_mallocarray(nn, sizeof *rank);
    if (!t || !rank) {
        cs_free(t);
        cs_free(rank);
        return CS_ENOMEM;
    }
    t->n = n;
    t->cluster = cs_mallocarray(nn, sizeof(uint32_t));
    t->is_core = cs_calloc(nn, 1);
    t->commute_share = cs_mallocarray(nn, sizeof(double));
    t->hub = cs_mallocarray(nn, sizeof(uint32_t));
    t->dominant = cs_mallocarray(nn, sizeof(uint32_t));
    t->parent = cs_mallocarray(nn, sizeof(uint32_t));
    t->hub_level = cs_mallocarray(nn, sizeof(uint32_t));
    t->hinterland_population = cs_mallocarray(nn, sizeof(double));
    t->inflow = cs_mallocarray(nn, sizeof(double));
    t->is_primary = cs_calloc(nn, 1);
    t->is_secondary = cs_calloc(nn, 1);
    t->is_isolated = cs_calloc(nn, 1);
    t->is_hub = cs_calloc(nn, 1);
    if (!t->cluster || !t->is_core || !t->commute_share || !t->hub || !t->dominant || !t->parent || !t->hub_level ||
        !t->hinterland_population || !t->inflow || !t->is_primary || !t->is_secondary || !t->is_isolated || !t->is_hub)
        st = CS_ENOMEM;
    if (!st) st = make_rank(in, rank);
    if (!st) st = clusters(in, &p, rank, t);
    if (!st) st = hubs(in, &p, rank, t);
    if (!st) st = adjacency(in, &p, t);
    if (!st) st = corridors(in, &p, rank, routes, route_user, t);
    if (!st) {
        /* primary and secondary cities per group */
        uint32_t ng = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t g = in->group ? in->group[i] : 0;
            if (g + 1 > ng) ng = g + 1;
        }
        uint32_t *big = cs_mallocarray(ng ? ng : 1, sizeof *big);
        if (!big) st = CS_ENOMEM;
        for (uint32_t g = 0; !st && g < ng; g++) big[g] = CS_INVALID_ID;
        for (size_t i = 0; !st && i < n; i++) {
            uint32_t g = in->group ? in->group[i] : 0, b = big[g];
            if (b == CS_INVALID_ID || in->pop[i] > in->pop[b] || (in->pop[i] == in->pop[b] && rank[i] < rank[b]))
                big[g] = (uint32_t)i;
        }
        for (size_t i = 0; !st && i < n; i++) {
            uint32_t g = in->group ? in->group[i] : 0, b = big[g];
            t->is_primary[i] = b == i;
            double share = in->pop[b] > 0 ? in->pop[i] / in->pop[b] : 0;
            t->is_secondary[i] = b != i && share >= p.secondary_min_share && share <= p.secondary_max_share;
            int iso = 1;
            for (size_t j = 0; j < n && iso; j++)
                if (j != i && (tt(in, i, j) <= p.isolated_time_s || tt(in, j, i) <= p.isolated_time_s)) iso = 0;
            t->is_isolated[i] = (uint8_t)iso;
        }
        cs_free(big);
    }
    cs_free(rank);
    if (st) {
        cs_typology_free(t);
        return st;
    }
    *out = t;
    return CS_OK;
}

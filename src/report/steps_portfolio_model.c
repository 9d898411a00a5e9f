/*
 * steps_portfolio_model.c: the spatial equilibrium model applied to a union of candidate changes, for the
 * portfolio step and `citysys plan portfolio` (docs/portfolio.md, "The model behind a portfolio").
 *
 * Road changes are applied to the router without a rebuild: every proposed link used by a candidate is
 * added once (closed) when the model is built, so that choosing or dropping a candidate only changes
 * segment times (re-customisation, no new contraction). Per evaluation: travel-time and length matrices
 * between the cities, the generalised cost and the iceberg costs, the counterfactual by exact hat algebra
 * from the baseline calibrated under the draw's parameters (cached per draw), and the per-person outcome.
 */
#include "report/steps_portfolio_model.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "citysys/alloc.h"
#include "citysys/network.h"
#include "scenario/scenario_internal.h"
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct pf_op {
    uint32_t mseg;     /* index into the managed segments */
    uint32_t fwd, bwd; /* times when the candidate is selected (CS_NO_TIME = closed) */
} pf_op;

#define PF_RING 64
#define PF_CCACHE 1024                  /* cached portfolio costs (as differences from the baseline cost) */
#define PF_CCACHE_ENTRIES (16u << 20)  /* at most this many stored differences in all (≈ 200 MB) */
typedef struct pf_cc {
    uint8_t *sel;
    uint32_t *idx;  /* pairs whose cost differs from the baseline's (bitwise) */
    double *val;
    size_t nnz;
    int used;
} pf_cc;
#define PF_NMAX_STACK 1024
typedef struct pf_ring {
    uint8_t *sel;
    int draw;
    uint64_t seq;      /* push number: the most recent of equally near states is the warm start */
    cs_eq_state *eq;
    double *y;
} pf_ring;

/*
 * A worker: the per-draw part of the model (calibrated baseline under the draw's parameters, recent
 * equilibria for memoisation and warm starts, scratch). Worker 0 serves the serial path (selection,
 * frontier, estimate); the sensitivity draws run on one worker per thread. The shared part (router,
 * one-to-all times, cost cache) is touched only inside `omp critical(pf_shared)`.
 */
struct pf_worker {
    pf_model *m;
    int cdraw;
    cs_eq_model *model;
    cs_eq_state *base;
    cs_cost_params cpd;
    cs_eq_params epd;
    cs_matrix *tau0;
    cs_matrix *pi0; /* baseline trade shares of the draw (cs_eq_trade_shares), shared by its counterfactuals */
    pf_ring ring[PF_RING];
    size_t ring_next;
    uint64_t seq;
    double *ash, *bsh, *fac;
    size_t evals, memo, calibrations, warm, iters, warm_iters;
    double t_eq;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct pf_shift {
    uint32_t city;
    double factor;
    int amenity;
} pf_shift;

struct pf_model {
    pf_setup s;
    size_t n, k;
    char **names;
    cs_project_costs *costs;
    double *capv;            /* capital per year, all candidates */
    size_t *op_off, *sh_off; /* k+1 offsets */
    pf_op *ops;
    pf_shift *sh;
    /* trade-cost frictions (border and soft candidates): kind 0 none, 1 border, 2 soft; members owned */
    uint8_t *fr_kind;
    cs_soft_level *fr_level;
    double *fr_factor;
    char ***fr_items;
    size_t *fr_nitems;
    size_t nfric;            /* candidates with a friction change */
    /* link and drawn-build candidates: their added segment (managed slot) and time when chosen */
    uint32_t *lk_slot, *lk_t;
    /* facility candidates: host city (CS_INVALID_ID: not a facility), radius (s), amenity factor */
    uint32_t *fac_host;
    double *fac_radius_s, *fac_factor;
    size_t nfac;
    /* managed segments */
    size_t nm;
    uint32_t *mseg, *mu, *mv, *base_fwd, *base_bwd, *cur_fwd, *cur_bwd, *want_fwd, *want_bwd;
    /* groups */
    uint32_t *grp;
    size_t ng;
    double *y_base;
    /* per-draw baseline */
    int cdraw;
    cs_eq_model *model;
    cs_eq_state *base;
    cs_cost_params cpd;
    cs_eq_params epd;
    cs_matrix *tau0;
    cs_matrix *cost0;        /* baseline generalised cost (draw-independent) */
    int need_dist;           /* the cost uses distance: no fast path */
    /* anchor: the portfolio of the last estimate, with one-to-all times (s) from/to every city */
    size_t N;                /* router nodes */
    int anchor_ok, fast_ok, fast_checked;
    uint8_t *anchor_sel;
    double *D, *R, *T, *acc;
    cs_matrix *costA;        /* generalised cost at the anchor */
    /* generalised cost per portfolio (draw-independent), round robin: the sensitivity draws revisit the same
       portfolios under other parameters */
    pf_cc cc[PF_CCACHE];
    size_t cc_next, cc_hits, cc_total;
    pf_worker *w;            /* nw workers */
    size_t nw;
    size_t fast, routings;
    double t_route, t_dijkstra, t_cost, t_estimate;
    size_t estimates;
};

static cs_status parse_friction(pf_model *m, size_t j, const json_t *ch, const char *type);
static cs_status set_state(pf_model *m, const uint8_t *sel);
static uint32_t city_of(const pf_model *m, const char *id);
static cs_status add_shifts(pf_model *m, size_t j, const json_t *cs, double factor, int amenity, size_t *ns);

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void pf_model_draw_params(const pf_model *m, int draw, double *theta, double *alpha, double *beta, double *delta)
{
    *theta = m->s.eq.theta;
    *alpha = m->s.eq.alpha;
    *beta = m->s.eq.beta;
    *delta = m->s.cost.tau_delta;
    if (draw <= 0) return;
    /* one stream per draw: the parameters of draw d do not depend on which draws ran before */
    uint64_t x = m->s.ranges.seed ^ (0xA0761D6478BD642FULL * (uint64_t)draw);
    const pf_ranges *r = &m->s.ranges;
#define U(lohi) ((lohi)[0] + ((lohi)[1] - (lohi)[0]) * ((double)(splitmix(&x) >> 11) / 9007199254740992.0))
    *theta = U(r->theta);
    *alpha = U(r->alpha);
    *beta = U(r->beta);
    *delta *= U(r->delta_mult);
#undef U
}

static double num_or(const json_t *o, const char *k, double d)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : d;
}

static uint32_t seg_by_ext(const cs_network *net, const char *id)
{
    if (!net || !net->seg_ext_id) return CS_INVALID_ID;
    for (uint32_t s = 0; s < net->n_segs; s++)
        if (net->seg_ext_id[s] && !strcmp(net->seg_ext_id[s], id)) return s;
    return CS_INVALID_ID;
}

static size_t manage(pf_model *m, uint32_t seg, uint32_t u, uint32_t v, uint32_t fwd, uint32_t bwd)
{
    for (size_t i = 0; i < m->nm; i++)
        if (m->mseg[i] == seg) return i;
    m->mseg[m->nm] = seg;
    m->mu[m->nm] = u;
    m->mv[m->nm] = v;
    m->base_fwd[m->nm] = m->cur_fwd[m->nm] = fwd;
    m->base_bwd[m->nm] = m->cur_bwd[m->nm] = bwd;
    return m->nm++;
}

size_t pf_model_k(const pf_model *m) { return m->k; }
const char *pf_model_name(const pf_model *m, size_t j) { return m->names[j]; }
const cs_project_costs *pf_model_costs(const pf_model *m) { return m->costs; }
const double *pf_model_y_base(const pf_model *m) { return m->y_base; }

void pf_model_counts(const pf_model *m, size_t *evals, size_t *estimates, size_t *calibrations)
{
    *evals = *calibrations = 0;
    for (size_t t = 0; t < m->nw; t++) {
        *evals += m->w[t].evals;
        *calibrations += m->w[t].calibrations;
    }
    *estimates = m->estimates;
}

size_t pf_model_segments(const pf_model *m, size_t j, uint32_t *u, uint32_t *v, size_t cap)
{
    size_t c = 0;
    if (!u || !v) return m->op_off[j + 1] - m->op_off[j];
    for (size_t q = m->op_off[j]; q < m->op_off[j + 1] && c < cap; q++) {
        u[c] = m->mu[m->ops[q].mseg];
        v[c] = m->mv[m->ops[q].mseg];
        c++;
    }
    return c;
}

void pf_model_free(pf_model *m)
{
    if (!m) return;
    /* restore: every managed segment to its baseline state (added links closed), i.e. the empty portfolio */
    if (m->s.router && m->nm && m->cur_fwd && m->want_fwd) {
        uint8_t *none = cs_calloc(m->k + 1, 1);
        if (none) (void)set_state(m, none);
        cs_free(none);
    }
    for (size_t j = 0; m->names && j < m->k; j++) cs_free(m->names[j]);
    cs_free(m->names);
    cs_free(m->costs);
    cs_free(m->capv);
    cs_free(m->op_off);
    cs_free(m->sh_off);
    cs_free(m->ops);
    cs_free(m->sh);
    for (size_t j = 0; m->fr_items && j < m->k; j++) {
        for (size_t z = 0; m->fr_items[j] && z < m->fr_nitems[j]; z++) cs_free(m->fr_items[j][z]);
        cs_free(m->fr_items[j]);
    }
    cs_free(m->fr_items);
    cs_free(m->fr_nitems);
    cs_free(m->fr_kind);
    cs_free(m->fr_level);
    cs_free(m->fr_factor);
    cs_free(m->lk_slot);
    cs_free(m->lk_t);
    cs_free(m->fac_host);
    cs_free(m->fac_radius_s);
    cs_free(m->fac_factor);
    cs_free(m->mseg);
    cs_free(m->mu);
    cs_free(m->mv);
    cs_free(m->base_fwd);
    cs_free(m->base_bwd);
    cs_free(m->cur_fwd);
    cs_free(m->cur_bwd);
    cs_free(m->want_fwd);
    cs_free(m->want_bwd);
    cs_free(m->grp);
    cs_free(m->y_base);
    cs_matrix_free(m->cost0);
    cs_matrix_free(m->costA);
    for (size_t q = 0; q < PF_CCACHE; q++) {
        cs_free(m->cc[q].sel);
        cs_free(m->cc[q].idx);
        cs_free(m->cc[q].val);
    }
    cs_free(m->anchor_sel);
    cs_free(m->D);
    cs_free(m->R);
    cs_free(m->T);
    cs_free(m->acc);
    for (size_t t = 0; m->w && t < m->nw; t++) {
        pf_worker *w = &m->w[t];
        cs_eq_model_free(w->model);
        cs_eq_state_free(w->base);
        cs_matrix_free(w->tau0);
        cs_matrix_free(w->pi0);
        for (size_t q = 0; q < PF_RING; q++) {
            cs_free(w->ring[q].sel);
            cs_free(w->ring[q].y);
            cs_eq_state_free(w->ring[q].eq);
        }
        cs_free(w->ash);
        cs_free(w->bsh);
        cs_free(w->fac);
    }
    cs_free(m->w);
    cs_matrix_free(m->s.border_time);
    cs_matrix_free(m->s.border_dist);
    cs_free(m);
}

cs_status pf_model_new(const pf_setup *s, pf_model **out)
{
    *out = NULL;
    pf_model *m = cs_calloc(1, sizeof *m);
    if (!m) {
        cs_matrix_free(s->border_time);
        cs_matrix_free(s->border_dist);
        return CS_ENOMEM;
    }
    m->s = *s;
    m->n = s->n;
    m->k = json_array_size(s->changes);
    const cs_network *net = s->net;
    size_t k = m->k, n = m->n;
    /* upper bounds of ops and shifts */
    size_t nops = 0, nsh = 0;
    for (size_t j = 0; j < k; j++) {
        const json_t *ch = json_array_get(s->changes, j);
        const json_t *pr = json_object_get(ch, "proposed");
        nops += json_array_size(json_object_get(ch, "edges")) + json_array_size(pr) + (json_is_string(pr) ? net->proposed.n : 0);
        nsh += json_array_size(json_object_get(ch, "cities"));
        nops++; /* a link or drawn build: one added segment */
    }
    size_t cap_m = nops + 1;
    m->names = cs_calloc(k + 1, sizeof *m->names);
    m->costs = cs_calloc(k + 1, sizeof *m->costs);
    m->op_off = cs_calloc(k + 1, sizeof *m->op_off);
    m->sh_off = cs_calloc(k + 1, sizeof *m->sh_off);
    m->ops = cs_mallocarray(nops + 1, sizeof *m->ops);
    m->sh = cs_mallocarray(nsh + 1, sizeof *m->sh);
    m->fr_kind = cs_calloc(k + 1, 1);
    m->lk_slot = cs_calloc(k + 1, sizeof *m->lk_slot);
    m->lk_t = cs_calloc(k + 1, sizeof *m->lk_t);
    m->fac_host = cs_mallocarray(k + 1, sizeof *m->fac_host);
    m->fac_radius_s = cs_calloc(k + 1, sizeof *m->fac_radius_s);
    m->fac_factor = cs_calloc(k + 1, sizeof *m->fac_factor);
    for (size_t j = 0; m->fac_host && j <= k; j++) m->fac_host[j] = CS_INVALID_ID;
    m->fr_level = cs_calloc(k + 1, sizeof *m->fr_level);
    m->fr_factor = cs_calloc(k + 1, sizeof *m->fr_factor);
    m->fr_items = cs_calloc(k + 1, sizeof *m->fr_items);
    m->fr_nitems = cs_calloc(k + 1, sizeof *m->fr_nitems);
    m->mseg = cs_mallocarray(cap_m, sizeof *m->mseg);
    m->mu = cs_mallocarray(cap_m, sizeof *m->mu);
    m->mv = cs_mallocarray(cap_m, sizeof *m->mv);
    m->base_fwd = cs_mallocarray(cap_m, sizeof(uint32_t));
    m->base_bwd = cs_mallocarray(cap_m, sizeof(uint32_t));
    m->cur_fwd = cs_mallocarray(cap_m, sizeof(uint32_t));
    m->cur_bwd = cs_mallocarray(cap_m, sizeof(uint32_t));
    m->want_fwd = cs_mallocarray(cap_m, sizeof(uint32_t));
    m->want_bwd = cs_mallocarray(cap_m, sizeof(uint32_t));
    m->y_base = cs_mallocarray(n + 1, sizeof *m->y_base);
    m->anchor_sel = cs_calloc(k + 1, 1);
    m->acc = cs_calloc(n + 1, sizeof *m->acc);
    int ring_ok = 1;
#ifdef _OPENMP
    m->nw = s->threads > 0 ? (size_t)s->threads : (size_t)omp_get_max_threads();
#else
    m->nw = 1;
#endif
    if (m->nw < 1) m->nw = 1;
    m->w = cs_calloc(m->nw, sizeof *m->w);
    if (!m->w) ring_ok = 0, m->nw = 0;
    for (size_t t = 0; t < m->nw; t++) {
        pf_worker *w = &m->w[t];
        w->m = m;
        w->cdraw = -1;
        w->ash = cs_mallocarray(n + 1, sizeof *w->ash);
        w->bsh = cs_mallocarray(n + 1, sizeof *w->bsh);
        w->fac = cs_mallocarray(n + 1, sizeof *w->fac);
        if (!w->ash || !w->bsh || !w->fac) ring_ok = 0;
        for (size_t q = 0; q < PF_RING; q++) {
            w->ring[q].sel = cs_calloc(k + 1, 1);
            w->ring[q].y = cs_mallocarray(n + 1, sizeof(double));
            w->ring[q].draw = -1;
            if (!w->ring[q].sel || !w->ring[q].y) ring_ok = 0;
        }
    }
    size_t ncap = 0;
    for (size_t j = 0; j < k; j++) ncap += (size_t)num_or(json_array_get(s->changes, j), "construction_years", 1);
    m->capv = cs_calloc(ncap + 1, sizeof *m->capv);
    cs_status st = CS_OK;
    if (!m->fr_kind || !m->fr_level || !m->fr_factor || !m->fr_items || !m->fr_nitems || !m->lk_slot || !m->lk_t || !m->fac_host ||
        !m->fac_radius_s || !m->fac_factor)
        st = CS_ENOMEM;
    if (!m->names || !m->costs || !m->op_off || !m->sh_off || !m->ops || !m->sh || !m->mseg || !m->mu || !m->mv || !m->base_fwd ||
        !m->base_bwd || !m->cur_fwd || !m->cur_bwd || !m->want_fwd || !m->want_bwd || !m->y_base || !m->anchor_sel || !m->acc || !ring_ok || !m->capv)
        st = CS_ENOMEM;
    /* first pass: the proposed links used by any candidate, added in one apply (open), then closed */
    uint32_t *prop_slot = st ? NULL : cs_mallocarray(net->proposed.n + 1, sizeof *prop_slot);
    if (!st && !prop_slot) st = CS_ENOMEM;
    for (uint32_t p = 0; !st && p < net->proposed.n; p++) prop_slot[p] = CS_INVALID_ID;
    cs_router_info ri;
    cs_router_info_get(s->router, &ri);
    uint32_t next_seg = ri.segments;
    cs_route_changes *add = NULL, *close = NULL;
    if (!st) st = cs_route_changes_new(&add);
    if (!st) st = cs_route_changes_new(&close);
    size_t nadd = 0;
    for (size_t j = 0; !st && j < k; j++) {
        const json_t *ch = json_array_get(s->changes, j);
        const char *type = json_string_value(json_object_get(ch, "type"));
        if (!type || strcmp(type, "build")) continue;
        const json_t *pr = json_object_get(ch, "proposed");
        double kmh = num_or(ch, "speed_kmh", 80);
        for (uint32_t p = 0; !st && p < net->proposed.n; p++) {
            int take = json_is_string(pr);
            for (size_t z = 0; !take && z < json_array_size(pr); z++)
                take = net->proposed.ext_id[p] && !strcmp(net->proposed.ext_id[p], json_string_value(json_array_get(pr, z)));
            if (!take || prop_slot[p] != CS_INVALID_ID) continue;
            uint32_t len = net->proposed.len_cm[p];
            if (len == UINT32_MAX)
                len = (uint32_t)llround(100.0 * cs_geodesic_m(net->lon_deg[net->proposed.u[p]], net->lat_deg[net->proposed.u[p]],
                                                              net->lon_deg[net->proposed.v[p]], net->lat_deg[net->proposed.v[p]]));
            uint32_t t = net->proposed.fwd_ms[p] != CS_NO_TIME ? net->proposed.fwd_ms[p]
                                                               : (uint32_t)llround(len / 100.0 / (kmh / 3.6) * 1000.0);
            st = cs_route_changes_add(add, net->proposed.u[p], net->proposed.v[p], t, t, len, CS_SEG_ROAD);
            uint32_t sid = next_seg + (uint32_t)nadd++;
            if (!st) st = cs_route_changes_close(close, sid);
            prop_slot[p] = (uint32_t)manage(m, sid, net->proposed.u[p], net->proposed.v[p], CS_NO_TIME, CS_NO_TIME);
        }
    }
    /* links (rail, air, ferry) and builds between two end points: one segment each, added closed, as a
       scenario's change (docs/scenarios.md: ends, length, time = transfers + in-vehicle time) */
    for (size_t j = 0; !st && j < k; j++) {
        const json_t *ch = json_array_get(s->changes, j);
        const char *type = json_string_value(json_object_get(ch, "type"));
        int link = type && !strcmp(type, "link"), drawn = type && !strcmp(type, "build") && !json_object_get(ch, "proposed");
        if (!link && !drawn) continue;
        const char *nm = json_string_value(json_object_get(ch, "name"));
        uint32_t e[2];
        for (int z = 0; z < 2; z++) {
            const json_t *nd = json_object_get(ch, z ? "to_node" : "from_node");
            const char *cid = json_string_value(json_object_get(ch, z ? "to" : "from"));
            e[z] = CS_INVALID_ID;
            if (json_is_integer(nd) && json_integer_value(nd) >= 0 && (uint64_t)json_integer_value(nd) < net->n_nodes)
                e[z] = (uint32_t)json_integer_value(nd);
            uint32_t q = e[z] == CS_INVALID_ID && cid ? city_of(m, cid) : CS_INVALID_ID;
            if (q != CS_INVALID_ID)
                e[z] = s->loc[q].node != CS_INVALID_ID && s->loc[q].node < net->n_nodes
                           ? s->loc[q].node
                           : (s->lon && s->lat ? sc_nearest_node(net, s->lon[q], s->lat[q], NULL) : CS_INVALID_ID);
        }
        if (e[0] == CS_INVALID_ID || e[1] == CS_INVALID_ID) {
            st = cs_error_set(CS_EPARSE, "portfolio: candidate '%s': an end of the link is not on the network", nm ? nm : "?");
            break;
        }
        double lkm = num_or(ch, "length_km", NAN), tmin = num_or(ch, "time_min", NAN), kmh = num_or(ch, "speed_kmh", drawn ? 80 : NAN);
        double len_m = !isnan(lkm) ? lkm * 1000
                                   : cs_geodesic_m(net->lon_deg[e[0]], net->lat_deg[e[0]], net->lon_deg[e[1]], net->lat_deg[e[1]]);
        double tr[2] = {0, 0};
        const json_t *trj = json_object_get(ch, "transfer_min");
        if (link && json_is_number(trj)) tr[0] = tr[1] = json_number_value(trj);
        else if (link && json_is_array(trj))
            for (int z = 0; z < 2; z++) tr[z] = json_number_value(json_array_get(trj, (size_t)z));
        double run_s = !isnan(tmin) ? tmin * 60 : len_m / (kmh / 3.6);
        double xs = nearbyint((run_s + 60.0 * (tr[0] + tr[1])) * 1000.0); /* milliseconds, as the scenario module */
        uint32_t t = !(xs >= 0) ? 0 : xs >= (double)CS_NO_TIME ? CS_NO_TIME - 1 : (uint32_t)xs;
        uint32_t lc = (uint32_t)fmin(4e9, (double)llround(len_m * 100));
        const char *mo = json_string_value(json_object_get(ch, "mode"));
        uint8_t mode = !link ? CS_SEG_ROAD : mo && !strcmp(mo, "air") ? CS_SEG_AIR : mo && !strcmp(mo, "ferry") ? CS_SEG_FERRY : CS_SEG_RAIL;
        st = cs_route_changes_add(add, e[0], e[1], t, t, lc, mode);
        uint32_t sid = next_seg + (uint32_t)nadd++;
        if (!st) st = cs_route_changes_close(close, sid);
        m->lk_slot[j] = (uint32_t)manage(m, sid, e[0], e[1], CS_NO_TIME, CS_NO_TIME);
        m->lk_t[j] = t;
    }
    if (!st && nadd) st = cs_router_apply(s->router, add);
    if (!st && nadd) st = cs_router_apply(s->router, close);
    cs_route_changes_free(add);
    cs_route_changes_free(close);
    /* second pass: candidates' ops, shifts and costs */
    size_t no = 0, ns = 0, nc = 0;
    for (size_t j = 0; !st && j < k; j++) {
        const json_t *ch = json_array_get(s->changes, j);
        const char *type = json_string_value(json_object_get(ch, "type"));
        const char *name = json_string_value(json_object_get(ch, "name"));
        char buf[32];
        snprintf(buf, sizeof buf, "candidate_%zu", j + 1);
        m->names[j] = cs_strdup(name && *name ? name : buf);
        if (!m->names[j]) {
            st = CS_ENOMEM;
            break;
        }
        m->op_off[j] = no;
        m->sh_off[j] = ns;
        if (!type) type = "";
        if (!strcmp(type, "link") || (!strcmp(type, "build") && !json_object_get(ch, "proposed"))) {
            m->ops[no++] = (pf_op){m->lk_slot[j], m->lk_t[j], m->lk_t[j]};
        } else if (!strcmp(type, "build")) {
            const json_t *pr = json_object_get(ch, "proposed");
            double kmh = num_or(ch, "speed_kmh", 80);
            for (uint32_t p = 0; p < net->proposed.n; p++) {
                int take = json_is_string(pr);
                for (size_t z = 0; !take && z < json_array_size(pr); z++)
                    take = net->proposed.ext_id[p] && !strcmp(net->proposed.ext_id[p], json_string_value(json_array_get(pr, z)));
                if (!take) continue;
                uint32_t len = net->proposed.len_cm[p];
                if (len == UINT32_MAX)
                    len = (uint32_t)llround(100.0 * cs_geodesic_m(net->lon_deg[net->proposed.u[p]], net->lat_deg[net->proposed.u[p]],
                                                                  net->lon_deg[net->proposed.v[p]], net->lat_deg[net->proposed.v[p]]));
                uint32_t t = net->proposed.fwd_ms[p] != CS_NO_TIME ? net->proposed.fwd_ms[p]
                                                                   : (uint32_t)llround(len / 100.0 / (kmh / 3.6) * 1000.0);
                m->ops[no++] = (pf_op){prop_slot[p], t, t};
            }
        } else if (!strcmp(type, "upgrade") || !strcmp(type, "close")) {
            const json_t *ids = json_object_get(ch, "edges");
            double f = num_or(ch, "time_factor", 1), kmh = num_or(ch, "speed_kmh", 0);
            for (size_t z = 0; z < json_array_size(ids); z++) {
                uint32_t sg = seg_by_ext(net, json_string_value(json_array_get(ids, z)));
                if (sg == CS_INVALID_ID) {
                    st = cs_error_set(CS_EPARSE, "portfolio: candidate '%s': no road segment with edge id '%s'", m->names[j],
                                      json_string_value(json_array_get(ids, z)));
                    break;
                }
                uint32_t fw = net->seg_fwd_ms[sg], bw = net->seg_bwd_ms[sg], nf, nb;
                if (!strcmp(type, "close")) nf = nb = CS_NO_TIME;
                else if (kmh > 0) {
                    uint32_t t = (uint32_t)llround(net->seg_len_cm[sg] / 100.0 / (kmh / 3.6) * 1000.0);
                    uint32_t extra = net->seg_extra_ms ? net->seg_extra_ms[sg] : 0;
                    nf = fw == CS_NO_TIME ? fw : (t + extra < fw ? t + extra : fw);
                    nb = bw == CS_NO_TIME ? bw : (t + extra < bw ? t + extra : bw);
                } else {
                    nf = fw == CS_NO_TIME ? fw : (uint32_t)llround(fw * f);
                    nb = bw == CS_NO_TIME ? bw : (uint32_t)llround(bw * f);
                }
                m->ops[no++] = (pf_op){(uint32_t)manage(m, sg, net->seg_u[sg], net->seg_v[sg], fw, bw), nf, nb};
            }
        } else if (!strcmp(type, "productivity") || !strcmp(type, "amenity")) {
            /* city ids are matched to the city order by the caller through s->ids */
            st = add_shifts(m, j, json_object_get(ch, "cities"), num_or(ch, "factor", 1), !strcmp(type, "amenity"), &ns);
        } else if (!strcmp(type, "border") || !strcmp(type, "soft")) {
            st = parse_friction(m, j, ch, type);
        } else if (!strcmp(type, "facility")) {
            /* as a scenario's facility change: amenity x factor for every city within radius_min of the host
               (travel time from the city to the host after the portfolio's hard changes; the host included) */
            const char *id = json_string_value(json_object_get(ch, "city"));
            m->fac_host[j] = city_of(m, id);
            double rad = num_or(ch, "radius_min", NAN), f = num_or(ch, "factor", NAN);
            if (m->fac_host[j] == CS_INVALID_ID)
                st = cs_error_set(CS_EPARSE, "portfolio: candidate '%s': no city with id '%s'", m->names[j], id ? id : "?");
            else if (!(rad > 0) || !(f >= 0.1 && f <= 10))
                st = cs_error_set(CS_EPARSE, "portfolio: candidate '%s': a facility needs radius_min > 0 and factor in [0.1, 10]",
                                  m->names[j]);
            m->fac_radius_s[j] = rad * 60;
            m->fac_factor[j] = f;
            m->nfac++;
        } else if (!strcmp(type, "ict")) {
            /* as a scenario's ict change: city-level soft links among the connected cities (friction_factor)
               and their productivity x productivity_factor (docs/scenarios.md) */
            double a = num_or(ch, "productivity_factor", 1), fr = num_or(ch, "friction_factor", 1);
            const json_t *cs = json_object_get(ch, "cities");
            if (a != 1) st = add_shifts(m, j, cs, a, 0, &ns);
            if (!st && fr != 1 && json_array_size(cs) >= 2) st = parse_friction(m, j, ch, "ict");
        } else {
            st = cs_error_set(CS_EINVAL,
                              "portfolio: candidate '%s' has a change of type '%s'; candidates may be build, upgrade, close, "
                              "link, border, soft, ict, facility, productivity or amenity changes", m->names[j], type);
        }
        int cy = (int)num_or(ch, "construction_years", 1);
        if (cy < 1) cy = 1;
        double K = num_or(ch, "capital_cost", 0);
        for (int y = 0; y < cy; y++) m->capv[nc + (size_t)y] = K / cy;
        m->costs[j] = (cs_project_costs){m->capv + nc, (size_t)cy, num_or(ch, "annual_cost", 0), num_or(ch, "lifetime_years", 30)};
        nc += (size_t)cy;
    }
    m->op_off[k] = no;
    m->sh_off[k] = ns;
    cs_free(prop_slot);
    for (size_t i = 0; !st && i < n; i++) {
        m->y_base[i] = s->gdp_per_head[i];
        if (!(s->pop[i] > 0) || !(m->y_base[i] > 0))
            st = cs_error_set(CS_EPARSE, "portfolio: city '%s' needs a population and an income per head > 0 for the model", s->ids[i]);
    }
    if (!st) st = cs_eq_groups_from_labels(s->mobility, n, &m->grp, &m->ng, NULL);
    if (!st) {
        cs_router_info ri2;
        cs_router_info_get(s->router, &ri2);
        m->N = ri2.nodes;
        m->need_dist = s->cost.dist_weight_per_km != 0;
        m->D = cs_mallocarray(n * m->N + 1, sizeof *m->D);
        m->R = cs_mallocarray(n * m->N + 1, sizeof *m->R);
        m->T = cs_mallocarray(n * n + 1, sizeof *m->T);
        if (!m->D || !m->R || !m->T) st = CS_ENOMEM;
        for (size_t i = 0; !st && i < n; i++) {
            m->acc[i] = s->loc[i].access_ms / 1000.0;
            if (s->loc[i].node == CS_INVALID_ID) m->need_dist = 1; /* cities on segments: no fast path */
        }
    }
    if (st) {
        pf_model_free(m);
        return st;
    }
    *out = m;
    return CS_OK;
}

/* The city with this id (index in the model's city order), or CS_INVALID_ID. */
static uint32_t city_of(const pf_model *m, const char *id)
{
    for (size_t q = 0; id && q < m->n; q++)
        if (!strcmp(m->s.ids[q], id)) return (uint32_t)q;
    return CS_INVALID_ID;
}

/* A productivity or amenity shift of candidate j (whose shifts start at m->sh_off[j]) for the cities of `cs`;
 * a city listed twice is shifted once, as in a scenario. */
static cs_status add_shifts(pf_model *m, size_t j, const json_t *cs, double factor, int amenity, size_t *ns)
{
    for (size_t z = 0; z < json_array_size(cs); z++) {
        const char *id = json_string_value(json_array_get(cs, z));
        uint32_t i = city_of(m, id);
        if (i == CS_INVALID_ID)
            return cs_error_set(CS_EPARSE, "portfolio: candidate '%s': no city with id '%s'", m->names[j], id ? id : "?");
        int dup = 0;
        for (size_t q = m->sh_off[j]; q < *ns && !dup; q++) dup = m->sh[q].city == i;
        if (!dup) m->sh[(*ns)++] = (pf_shift){i, factor, amenity};
    }
    return CS_OK;
}

static int in_list(char *const *list, size_t n, const char *x)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], x)) return 1;
    return 0;
}

/* A border or soft candidate (docs/scenarios.md, "Change types"): its members (distinct, in file order) and
 * factor. Border members must be countries of the border matrices. */
static cs_status parse_friction(pf_model *m, size_t j, const json_t *ch, const char *type)
{
    int border = !strcmp(type, "border"), ict = !strcmp(type, "ict");
    const char *field = "countries";
    cs_soft_level lv = CS_SOFT_COUNTRY;
    if (ict) {
        field = "cities";
        lv = CS_SOFT_CITY;
    } else if (!border) {
        int nf = 0;
        if (json_object_get(ch, "cities")) field = "cities", lv = CS_SOFT_CITY, nf++;
        if (json_object_get(ch, "regions")) field = "regions", lv = CS_SOFT_REGION, nf++;
        if (json_object_get(ch, "countries")) field = "countries", lv = CS_SOFT_COUNTRY, nf++;
        if (nf != 1)
            return cs_error_set(CS_EPARSE, "portfolio: candidate '%s': a soft change needs exactly one of cities, regions, countries",
                                m->names[j]);
    }
    const json_t *mem = json_object_get(ch, field);
    double f = num_or(ch, ict ? "friction_factor" : "factor", NAN);
    if (!(f > 0 && f <= 10))
        return cs_error_set(CS_EPARSE, "portfolio: candidate '%s': factor must be in (0, 10]", m->names[j]);
    size_t nm = json_array_size(mem);
    m->fr_items[j] = cs_calloc(nm + 1, sizeof *m->fr_items[j]);
    if (!m->fr_items[j]) return CS_ENOMEM;
    for (size_t z = 0; z < nm; z++) {
        const char *id = json_string_value(json_array_get(mem, z));
        if (!id) return cs_error_set(CS_EPARSE, "portfolio: candidate '%s': %s[%zu] must be a string", m->names[j], field, z);
        if (in_list(m->fr_items[j], m->fr_nitems[j], id)) continue; /* listed twice: once */
        if (border) {
            const cs_matrix *M = m->s.border_time ? m->s.border_time : m->s.border_dist;
            if (!M)
                return cs_error_set(CS_EPARSE, "portfolio: candidate '%s': a border change needs the border matrices "
                                               "(indicators.cost.border_time_path / border_distance_path)", m->names[j]);
            int found = 0;
            for (size_t r = 0; r < M->rows && !found; r++) found = M->row_ids && !strcmp(M->row_ids[r], id);
            if (!found) return cs_error_set(CS_EPARSE, "portfolio: candidate '%s': country '%s' is not in the border matrices", m->names[j], id);
        }
        if (!(m->fr_items[j][m->fr_nitems[j]] = cs_strdup(id))) return CS_ENOMEM;
        m->fr_nitems[j]++;
    }
    if (m->fr_nitems[j] < 2)
        return cs_error_set(CS_EPARSE, "portfolio: candidate '%s': a %s change needs at least two distinct %s", m->names[j], type, field);
    m->fr_kind[j] = border ? 1 : 2;
    m->fr_level[j] = lv;
    m->fr_factor[j] = f;
    m->nfric++;
    return CS_OK;
}

/* Selected candidates with a friction change of this kind (0 any), up to and including candidate `upto`. */
static int has_fric(const pf_model *m, const uint8_t *sel, int kind)
{
    if (!m->nfric || !sel) return 0;
    for (size_t j = 0; j < m->k; j++)
        if (sel[j] && m->fr_kind[j] && (!kind || m->fr_kind[j] == kind)) return 1;
    return 0;
}

/* Bring the router to the state of `sel`. */
static cs_status set_state(pf_model *m, const uint8_t *sel)
{
    for (size_t i = 0; i < m->nm; i++) {
        m->want_fwd[i] = m->base_fwd[i];
        m->want_bwd[i] = m->base_bwd[i];
    }
    for (size_t j = 0; j < m->k; j++) {
        if (!sel[j]) continue;
        for (size_t q = m->op_off[j]; q < m->op_off[j + 1]; q++) {
            const pf_op *o = &m->ops[q];
            uint32_t b = o->mseg;
            /* several selected candidates on one segment: a closure wins, otherwise the fastest time */
            if (o->fwd == CS_NO_TIME && o->bwd == CS_NO_TIME && m->base_fwd[b] != CS_NO_TIME) {
                m->want_fwd[b] = m->want_bwd[b] = CS_NO_TIME;
                continue;
            }
            if (m->want_fwd[b] == CS_NO_TIME && m->base_fwd[b] != CS_NO_TIME) continue; /* closed by another */
            if (m->want_fwd[b] == CS_NO_TIME || o->fwd < m->want_fwd[b]) m->want_fwd[b] = o->fwd;
            if (m->want_bwd[b] == CS_NO_TIME || o->bwd < m->want_bwd[b]) m->want_bwd[b] = o->bwd;
        }
    }
    cs_route_changes *rc = NULL;
    cs_status st = cs_route_changes_new(&rc);
    int any = 0;
    for (size_t i = 0; !st && i < m->nm; i++)
        if (m->want_fwd[i] != m->cur_fwd[i] || m->want_bwd[i] != m->cur_bwd[i]) {
            st = (m->want_fwd[i] == CS_NO_TIME && m->want_bwd[i] == CS_NO_TIME)
                     ? cs_route_changes_close(rc, m->mseg[i])
                     : cs_route_changes_set_time(rc, m->mseg[i], m->want_fwd[i], m->want_bwd[i]);
            any = 1;
        }
    if (!st && any) st = cs_router_apply(m->s.router, rc);
    cs_route_changes_free(rc);
    if (!st)
        for (size_t i = 0; i < m->nm; i++) {
            m->cur_fwd[i] = m->want_fwd[i];
            m->cur_bwd[i] = m->want_bwd[i];
        }
    return st;
}

/* Travel time (s) and, when the cost needs it, length (m) matrices from the router in its current state. */
static cs_status router_times(pf_model *m, cs_matrix **t, cs_matrix **d)
{
    cs_matrix_opts mo;
    cs_matrix_opts_default(&mo);
    mo.nonroad_flags = 0;
    mo.threads = m->s.threads;
    mo.src_ids = mo.dst_ids = m->s.ids;
    double t0 = now_s();
    cs_status st = cs_router_matrix(m->s.router, m->s.loc, m->n, m->s.loc, m->n, &mo, (cs_progress){NULL, NULL}, t, d);
    m->t_route += now_s() - t0;
    m->routings++;
    return st;
}

/* The generalised cost of portfolio `sel` (NULL = the baseline) for travel times t and lengths d: the border
 * matrices with the penalties between distinct members of each selected border candidate multiplied by its
 * factor, and one soft link per pair of distinct members of each selected soft candidate (factors of several
 * candidates on one pair multiply), as a scenario with these changes does (docs/scenarios.md). */
static cs_status build_cost(pf_model *m, const uint8_t *sel, const cs_matrix *t, const cs_matrix *d, cs_matrix **cost)
{
    cs_cost_inputs in;
    memset(&in, 0, sizeof in);
    in.time = t;
    in.distance = d;
    in.country = m->s.country;
    in.region = m->s.region;
    in.border_time_min = m->s.border_time;
    in.border_dist_m = m->s.border_dist;
    /* the generalised cost does not depend on the draw (only the iceberg mapping does) */
    if (!has_fric(m, sel, 0)) return cs_cost_build(&in, &m->s.cost, cost);
    cs_matrix *bt = NULL, *bd = NULL;
    cs_soft_link *soft = NULL;
    size_t nsoft = 0, cap = 0;
    cs_status st = CS_OK;
    if (has_fric(m, sel, 1)) {
        if (m->s.border_time) st = cs_matrix_clone(m->s.border_time, &bt);
        if (!st && m->s.border_dist) st = cs_matrix_clone(m->s.border_dist, &bd);
    }
    for (size_t j = 0; j < m->k; j++)
        if (sel[j] && m->fr_kind[j] == 2) cap += m->fr_nitems[j] * (m->fr_nitems[j] - 1) / 2;
    if (!st && cap && !(soft = cs_mallocarray(cap, sizeof *soft))) st = CS_ENOMEM;
    for (size_t j = 0; !st && j < m->k; j++) {
        if (!sel[j] || !m->fr_kind[j]) continue;
        char **it = m->fr_items[j];
        size_t ni = m->fr_nitems[j];
        if (m->fr_kind[j] == 2) {
            for (size_t a = 0; a < ni; a++)
                for (size_t z = a + 1; z < ni; z++) soft[nsoft++] = (cs_soft_link){m->fr_level[j], it[a], it[z], m->fr_factor[j]};
            continue;
        }
        cs_border_scale(bt, (const char *const *)it, ni, m->fr_factor[j]);
        cs_border_scale(bd, (const char *const *)it, ni, m->fr_factor[j]);
    }
    if (!st) {
        if (bt) in.border_time_min = bt;
        if (bd) in.border_dist_m = bd;
        in.soft = soft;
        in.nsoft = nsoft;
        st = cs_cost_build(&in, &m->s.cost, cost);
    }
    cs_matrix_free(bt);
    cs_matrix_free(bd);
    cs_free(soft);
    return st;
}

static cs_status cost_now(pf_model *m, const uint8_t *sel, cs_matrix **cost)
{
    cs_matrix *t = NULL, *d = NULL;
    cs_status st = router_times(m, &t, m->need_dist ? &d : NULL);
    if (!st) st = build_cost(m, sel, t, d, cost);
    cs_matrix_free(t);
    cs_matrix_free(d);
    return st;
}

/* Calibrated baseline under the parameters of draw d (cached: one draw at a time per worker). When the
 * worker changes draw its recent equilibria are dropped, so that what a draw computes (memoised results,
 * warm starts) depends only on the draw, not on which draws the worker ran before. */
static cs_status ensure_draw(pf_worker *w, int draw)
{
    pf_model *m = w->m;
    if (w->cdraw == draw) return CS_OK;
    cs_eq_model_free(w->model);
    cs_eq_state_free(w->base);
    cs_matrix_free(w->tau0);
    cs_matrix_free(w->pi0);
    w->model = NULL;
    w->base = NULL;
    w->tau0 = NULL;
    w->pi0 = NULL;
    w->cdraw = -1;
    for (size_t q = 0; q < PF_RING; q++) {
        cs_eq_state_free(w->ring[q].eq);
        w->ring[q].eq = NULL;
        w->ring[q].draw = -1;
    }
    double th, al, be, de;
    pf_model_draw_params(m, draw, &th, &al, &be, &de);
    w->cpd = m->s.cost;
    w->cpd.tau_delta = de;
    /* as the scenario module (docs/scenarios.md): the iceberg mapping uses the model's θ, so that trade falls
       with generalised cost at elasticity δ whatever θ is */
    w->cpd.tau_theta = th;
    w->epd = m->s.eq;
    w->epd.theta = th;
    w->epd.alpha = al;
    w->epd.beta = be;
    cs_status st = CS_OK;
#pragma omp critical(pf_shared)
    if (!m->cost0) {
        /* the baseline generalised cost does not depend on the draw */
        uint8_t *none = cs_calloc(m->k + 1, 1);
        if (!none) st = CS_ENOMEM;
        if (!st) st = set_state(m, none);
        cs_free(none);
        if (!st) st = cost_now(m, NULL, &m->cost0);
    }
    double t0 = now_s();
    if (!st) st = cs_cost_iceberg(m->cost0, &w->cpd, &w->tau0);
    if (!st) st = cs_eq_calibrate(&w->epd, m->n, m->grp, m->s.pop, m->s.gdp_per_head, w->tau0, NULL, &w->model, &w->base);
    if (!st) st = cs_eq_trade_shares(w->model, w->base, w->tau0, &w->pi0);
    w->t_eq += now_s() - t0;
    if (st) {
        cs_error_prefix("portfolio: calibration of draw %d (theta %.3g, alpha %.3g, beta %.3g, delta %.3g)", draw, th, al, be, de);
        return st;
    }
    w->calibrations++;
    w->cdraw = draw;
    return CS_OK;
}

/* ring of recent equilibria (for the estimate's trade shares at the current portfolio) */
static const pf_ring *ring_find(const pf_worker *w, const uint8_t *sel, int draw)
{
    for (size_t q = 0; q < PF_RING; q++)
        if (w->ring[q].eq && w->ring[q].draw == draw && !memcmp(w->ring[q].sel, sel, w->m->k)) return &w->ring[q];
    return NULL;
}

/* Warm start for `sel` under `draw`: the recent equilibrium of the same draw whose portfolio differs from sel
 * in the fewest candidates (ties: the most recent), or NULL (start from the baseline). The ring holds the
 * worker's last PF_RING evaluations of the current draw only, in push order, so the choice depends only on
 * the sequence of evaluations of this draw, never on threads or scheduling. */
static const cs_eq_state *warm_start(const pf_worker *w, const uint8_t *sel, int draw)
{
    const pf_ring *best = NULL;
    size_t bd = SIZE_MAX;
    for (size_t q = 0; q < PF_RING; q++) {
        const pf_ring *r = &w->ring[q];
        if (!r->eq || r->draw != draw) continue;
        size_t d = 0;
        for (size_t j = 0; j < w->m->k && d <= bd; j++) d += r->sel[j] != sel[j];
        if (d < bd || (d == bd && r->seq > best->seq)) {
            best = r;
            bd = d;
        }
    }
    return best ? best->eq : NULL;
}

static void ring_push(pf_worker *w, const uint8_t *sel, int draw, cs_eq_state *eq, const double *y)
{
    pf_ring *r = &w->ring[w->ring_next];
    w->ring_next = (w->ring_next + 1) % PF_RING;
    cs_eq_state_free(r->eq);
    r->eq = eq;
    r->draw = draw;
    r->seq = ++w->seq;
    memcpy(r->sel, sel, w->m->k);
    memcpy(r->y, y, w->m->n * sizeof *y);
}

/* The one candidate sel adds to the anchor (SIZE_MAX if sel is not the anchor plus exactly one candidate). */
static size_t one_more(const pf_model *m, const uint8_t *sel)
{
    size_t add = SIZE_MAX;
    for (size_t j = 0; j < m->k; j++) {
        if (sel[j] == m->anchor_sel[j]) continue;
        if (!sel[j] || add != SIZE_MAX) return SIZE_MAX;
        add = j;
    }
    return add;
}

/*
 * Travel times after adding one candidate to the anchor portfolio, exactly, without routing: a shortest
 * path of the new network uses the candidate's link (or upgraded segment, faster than before) at most once,
 * so t'_ab = min(t_ab, D_a(u) + t_uv + R_b(v), D_a(v) + t_vu + R_b(u)) with the anchor's one-to-all times
 * D (from a) and R (to b). Valid for a candidate with at most one road op that does not slow or close.
 */
static int fast_ok_for(const pf_model *m, size_t j)
{
    if (!m->fast_ok || m->need_dist) return 0;
    /* a friction changes the cost, not the times; a soft link at the anchor scales its pairs' time cost */
    if (m->fr_kind[j] || has_fric(m, m->anchor_sel, 2)) return 0;
    size_t nops = m->op_off[j + 1] - m->op_off[j];
    if (nops > 1) return 0;
    if (nops == 1) {
        const pf_op *o = &m->ops[m->op_off[j]];
        uint32_t b = o->mseg;
        if (o->fwd == CS_NO_TIME && o->bwd == CS_NO_TIME) return 0;
        if (m->base_fwd[b] != CS_NO_TIME && (o->fwd == CS_NO_TIME || o->fwd > m->base_fwd[b])) return 0;
        if (m->base_bwd[b] != CS_NO_TIME && (o->bwd == CS_NO_TIME || o->bwd > m->base_bwd[b])) return 0;
    }
    return 1;
}

static cs_status fast_times(pf_model *m, size_t j, cs_matrix **out)
{
    size_t n = m->n, N = m->N;
    cs_matrix *t = NULL;
    cs_status st = cs_matrix_new(n, n, CS_MATRIX_TIME, &t);
    if (!st) st = cs_matrix_set_ids(t, m->s.ids, m->s.ids);
    if (st) {
        cs_matrix_free(t);
        return st;
    }
    strcpy(t->unit, "s");
    memcpy(t->v, m->T, n * n * sizeof *t->v);
    size_t nops = j == SIZE_MAX ? 0 : m->op_off[j + 1] - m->op_off[j];
    if (nops == 1) {
        const pf_op *o = &m->ops[m->op_off[j]];
        uint32_t u = m->mu[o->mseg], v = m->mv[o->mseg];
        double f = o->fwd == CS_NO_TIME ? INFINITY : o->fwd / 1000.0, b = o->bwd == CS_NO_TIME ? INFINITY : o->bwd / 1000.0;
        double *Rv = cs_mallocarray(2 * n, sizeof *Rv), *Ru = Rv + n;
        if (!Rv) {
            cs_matrix_free(t);
            return CS_ENOMEM;
        }
        for (size_t c = 0; c < n; c++) {
            Rv[c] = m->R[c * N + v] + m->acc[c];
            Ru[c] = m->R[c * N + u] + m->acc[c];
        }
        for (size_t a = 0; a < n; a++) {
            double du = m->D[a * N + u] + m->acc[a] + f, dv = m->D[a * N + v] + m->acc[a] + b;
            double *row = t->v + a * n, rowa = row[a];
            for (size_t c = 0; c < n; c++) {
                double x = du + Rv[c], y = dv + Ru[c];
                double best = x < y ? x : y;
                row[c] = best < row[c] ? best : row[c];
            }
            row[a] = rowa;
        }
        cs_free(Rv);
    }
    *out = t;
    return CS_OK;
}

/* Set the anchor to `sel`: router state, one-to-all times from and to every city, the time matrix. */
static cs_status set_anchor(pf_model *m, const uint8_t *sel)
{
    if (m->anchor_ok && !memcmp(m->anchor_sel, sel, m->k)) return CS_OK;
    m->anchor_ok = 0;
    cs_status st = set_state(m, sel);
    if (st) return st;
    size_t n = m->n, N = m->N;
    double t0 = now_s();
    uint64_t *buf = cs_mallocarray(N, sizeof *buf);
    cs_dijkstra *dj = NULL;
    if (!buf) return CS_ENOMEM;
    st = cs_dijkstra_new(m->s.router, &dj);
    for (int rev = 0; !st && rev < 2; rev++)
        for (size_t a = 0; !st && a < n; a++) {
            st = cs_dijkstra_run(dj, m->s.loc[a].node, rev, buf, NULL, NULL, NULL);
            double *dst = (rev ? m->R : m->D) + a * N;
            for (size_t x = 0; x < N; x++) dst[x] = buf[x] == UINT64_MAX ? INFINITY : buf[x] / 1000.0;
        }
    cs_dijkstra_free(dj);
    cs_free(buf);
    for (size_t a = 0; !st && a < n; a++)
        for (size_t b = 0; b < n; b++)
            m->T[a * n + b] = a == b ? 0 : m->acc[a] + m->D[a * N + m->s.loc[b].node] + m->acc[b];
    m->t_dijkstra += now_s() - t0;
    if (st) return st;
    if (!m->fast_checked) {
        /* self-check once: the one-to-all times reproduce the router's matrix, or the fast path stays off */
        cs_matrix *t = NULL;
        st = router_times(m, &t, NULL);
        if (st) return st;
        int same = 1;
        for (size_t q = 0; q < n * n && same; q++)
            same = (isinf(t->v[q]) && isinf(m->T[q])) || fabs(t->v[q] - m->T[q]) <= 1e-9 * fmax(1, fabs(t->v[q]));
        cs_matrix_free(t);
        m->fast_ok = same;
        m->fast_checked = 1;
    }
    /* the anchor's generalised cost: later fast evaluations change it only where travel times change */
    cs_matrix *tm = NULL;
    cs_matrix_free(m->costA);
    m->costA = NULL;
    st = fast_times(m, SIZE_MAX, &tm);
    if (!st) st = build_cost(m, sel, tm, NULL, &m->costA);
    cs_matrix_free(tm);
    if (st) return st;
    memcpy(m->anchor_sel, sel, m->k);
    m->anchor_ok = 1;
    return CS_OK;
}

/* Cost after the fast travel times t: the anchor's cost plus w_t Δt (time in s, cost in minutes); the cost
 * of cs_cost_build is linear in time with slope w_t here (no baseline soft links are passed, border penalties
 * are additive, and fast_ok_for refuses an anchor with a soft candidate), so this is the same cost. */
static cs_status fast_cost(pf_model *m, const uint8_t *sel, const cs_matrix *t, cs_matrix **out)
{
    size_t nn = m->n * m->n;
    for (size_t q = 0; q < nn; q++)
        if (t->v[q] != m->T[q] && !isfinite(m->costA->v[q])) return build_cost(m, sel, t, NULL, out);
    cs_status st = cs_matrix_clone(m->costA, out);
    if (st) return st;
    const double wt = m->s.cost.time_weight / 60.0;
    double *c = (*out)->v;
    for (size_t q = 0; q < nn; q++)
        if (t->v[q] != m->T[q]) c[q] += wt * (t->v[q] - m->T[q]);
    return CS_OK;
}

/* The generalised cost after `sel` (shared state: called inside omp critical(pf_shared)). The path is
 * fixed per portfolio while the anchor stays put (the anchor, one more candidate on the fast path, or the
 * router), so the same portfolio always gets the same bits whether or not it came from the cache. */
static cs_status cost_of(pf_model *m, const uint8_t *sel, cs_matrix **cost)
{
    cs_status st = CS_OK;
    size_t j1 = m->anchor_ok ? one_more(m, sel) : SIZE_MAX;
    int same = m->anchor_ok && !memcmp(sel, m->anchor_sel, m->k);
    double t0 = now_s();
    size_t chit = SIZE_MAX;
    for (size_t q = 0; m->cost0 && q < PF_CCACHE && chit == SIZE_MAX; q++)
        if (m->cc[q].used && !memcmp(m->cc[q].sel, sel, m->k)) chit = q;
    if (chit != SIZE_MAX) {
        /* the baseline cost with the stored differences: the same bits as when it was computed */
        st = cs_matrix_clone(m->cost0, cost);
        for (size_t e = 0; !st && e < m->cc[chit].nnz; e++) (*cost)->v[m->cc[chit].idx[e]] = m->cc[chit].val[e];
        m->cc_hits++;
    } else if ((same || (j1 != SIZE_MAX && fast_ok_for(m, j1))) && m->fast_ok) {
        cs_matrix *t = NULL;
        st = fast_times(m, same ? SIZE_MAX : j1, &t);
        if (!st) st = fast_cost(m, sel, t, cost);
        cs_matrix_free(t);
        m->fast++;
    } else {
        st = set_state(m, sel);
        if (!st) st = cost_now(m, sel, cost);
    }
    if (!st && chit == SIZE_MAX && m->cost0 && (*cost)->rows * (*cost)->cols == m->cost0->rows * m->cost0->cols) {
        const double *c = (*cost)->v, *c0 = m->cost0->v;
        size_t nn = m->n * m->n, nnz = 0;
        for (size_t q = 0; q < nn; q++) nnz += memcmp(&c[q], &c0[q], sizeof *c) != 0;
        /* room: drop entries round robin until the new one fits the budget of stored differences */
        size_t q = m->cc_next;
        for (size_t tries = 0; tries < PF_CCACHE && m->cc[q].used && m->cc_total + nnz > PF_CCACHE_ENTRIES; tries++) {
            m->cc_total -= m->cc[q].nnz;
            m->cc[q].used = 0;
            q = (q + 1) % PF_CCACHE;
        }
        q = m->cc_next;
        m->cc_next = (m->cc_next + 1) % PF_CCACHE;
        pf_cc *e = &m->cc[q];
        if (e->used) m->cc_total -= e->nnz;
        e->used = 0;
        cs_free(e->idx);
        cs_free(e->val);
        e->idx = NULL;
        e->val = NULL;
        if (!e->sel) e->sel = cs_malloc(m->k + 1);
        if (m->cc_total + nnz <= PF_CCACHE_ENTRIES && e->sel) {
            e->idx = cs_mallocarray(nnz + 1, sizeof *e->idx);
            e->val = cs_mallocarray(nnz + 1, sizeof *e->val);
            if (e->idx && e->val) {
                size_t z = 0;
                for (size_t r = 0; r < nn; r++)
                    if (memcmp(&c[r], &c0[r], sizeof *c)) {
                        e->idx[z] = (uint32_t)r;
                        e->val[z++] = c[r];
                    }
                e->nnz = nnz;
                memcpy(e->sel, sel, m->k);
                e->used = 1;
                m->cc_total += nnz;
            }
        }
    }
    m->t_cost += now_s() - t0;
    return st;
}

/* Amenity factor of every city from the selected facility candidates (fac: n, 1 where none): the travel time
 * from the city to each selected host after sel's hard changes, from the router put in sel's state (the
 * same numbers whatever path gave the cost). Shared state: called inside omp critical(pf_shared). */
static cs_status facility_factors(pf_model *m, const uint8_t *sel, double *fac)
{
    size_t n = m->n, nh = 0;
    for (size_t i = 0; i < n; i++) fac[i] = 1;
    for (size_t j = 0; m->nfac && j < m->k; j++) nh += sel[j] && m->fac_host[j] != CS_INVALID_ID;
    if (!nh) return CS_OK;
    cs_status st = set_state(m, sel);
    cs_location *hl = st ? NULL : cs_mallocarray(nh, sizeof *hl);
    size_t *hj = st ? NULL : cs_mallocarray(nh, sizeof *hj);
    uint64_t *tms = st ? NULL : cs_mallocarray(n * nh, sizeof *tms);
    if (!st && (!hl || !hj || !tms)) st = CS_ENOMEM;
    size_t q = 0;
    for (size_t j = 0; !st && j < m->k; j++)
        if (sel[j] && m->fac_host[j] != CS_INVALID_ID) {
            hl[q] = m->s.loc[m->fac_host[j]];
            hj[q++] = j;
        }
    if (!st) {
        cs_matrix_opts mo;
        cs_matrix_opts_default(&mo);
        mo.nonroad_flags = 0;
        mo.threads = m->s.threads;
        double t0 = now_s();
        st = cs_router_matrix_raw(m->s.router, m->s.loc, n, hl, nh, &mo, tms, NULL, NULL);
        m->t_route += now_s() - t0;
    }
    for (size_t h = 0; !st && h < nh; h++) {
        size_t j = hj[h];
        for (size_t i = 0; i < n; i++) {
            double t = i == m->fac_host[j] ? 0 : tms[i * nh + h] == UINT64_MAX ? INFINITY : (double)tms[i * nh + h] / 1000.0;
            if (t <= m->fac_radius_s[j]) fac[i] *= m->fac_factor[j];
        }
    }
    cs_free(hl);
    cs_free(hj);
    cs_free(tms);
    return st;
}

/* Drop the cached costs (they may have been computed on another path than the current anchor gives). */
static void cost_cache_clear(pf_model *m)
{
    for (size_t q = 0; q < PF_CCACHE; q++) {
        if (m->cc[q].used) m->cc_total -= m->cc[q].nnz;
        m->cc[q].used = 0;
    }
}

/* cs_cost_iceberg(cost) computed from the draw's baseline iceberg matrix: entries whose cost equals the
 * baseline's keep the baseline's τ (the same function of the same number: the same bits), the others are
 * mapped with cs_cost_tau as cs_cost_iceberg does. A portfolio changes few pairs, so most pow calls go. */
static cs_status iceberg_from_base(const pf_worker *w, const cs_matrix *cost, cs_matrix **out)
{
    const pf_model *m = w->m;
    size_t n = m->n;
    if (!m->cost0 || cost->rows != n || cost->cols != n) return cs_cost_iceberg(cost, &w->cpd, out);
    cs_matrix *t = NULL;
    cs_status st = cs_matrix_clone(w->tau0, &t);
    if (st) return st;
    const double *c = cost->v, *c0 = m->cost0->v;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            size_t q = i * n + j;
            if (c[q] == c0[q]) continue;
            if (c[q] < 0) {
                cs_matrix_free(t);
                return cs_error_set(CS_EINVAL, "iceberg: negative cost %g from %s to %s", c[q], m->s.ids[i], m->s.ids[j]);
            }
            t->v[q] = i == j ? 1.0 : cs_cost_tau(c[q], &w->cpd);
        }
    *out = t;
    return CS_OK;
}

/* Exact evaluation of `sel` under draw `draw`, on worker w. */
static cs_status eval_sel(pf_worker *w, const uint8_t *sel, int draw, double *y)
{
    pf_model *m = w->m;
    cs_status st = ensure_draw(w, draw);
    if (st) return st;
    /* the same portfolio under the same draw was evaluated recently: the same numbers */
    const pf_ring *hit = ring_find(w, sel, draw);
    if (hit) {
        memcpy(y, hit->y, m->n * sizeof *y);
        w->memo++;
        return CS_OK;
    }
    for (size_t i = 0; i < m->n; i++) w->ash[i] = w->bsh[i] = 1;
    for (size_t j = 0; j < m->k; j++)
        if (sel[j])
            for (size_t q = m->sh_off[j]; q < m->sh_off[j + 1]; q++)
                (m->sh[q].amenity ? w->bsh : w->ash)[m->sh[q].city] *= m->sh[q].factor;
    cs_matrix *cost = NULL, *tau = NULL;
#pragma omp critical(pf_shared)
    {
        st = cost_of(m, sel, &cost);
        if (!st && m->nfac) st = facility_factors(m, sel, w->fac);
    }
    for (size_t i = 0; !st && m->nfac && i < m->n; i++) w->bsh[i] *= w->fac[i];
    double t0 = now_s();
    if (!st) st = iceberg_from_base(w, cost, &tau);
    cs_matrix_free(cost);
    cs_eq_state *after = NULL;
    const cs_eq_state *init = st ? NULL : warm_start(w, sel, draw);
    if (init) w->warm++;
    if (!st)
        st = cs_eq_counterfactual_shares(w->model, w->base, w->tau0, w->pi0, tau, m->s.long_run ? CS_EQ_LONG_RUN : CS_EQ_SHORT_RUN,
                                       w->ash, w->bsh, CS_EQ_REUSE_TAU_AFTER, init, NULL, &after);
    cs_matrix_free(tau);
    cs_eq_change *chg = NULL;
    if (!st && m->s.long_run) st = cs_eq_compare(w->model, w->base, after, &chg);
    if (!st)
        for (size_t i = 0; i < m->n; i++)
            y[i] = m->y_base[i] * (m->s.long_run ? chg->resident_welfare_hat[i] : after->real_income[i] / w->base->real_income[i]);
    cs_eq_change_free(chg);
    w->t_eq += now_s() - t0;
    w->evals++;
    if (!st) {
        w->iters += (size_t)after->iterations;
        if (init) w->warm_iters += (size_t)after->iterations;
        ring_push(w, sel, draw, after, y);
    }
    else cs_eq_state_free(after);
    return st;
}

cs_status pf_model_eval(void *user, const uint8_t *selected, size_t k, int draw, double *y_after)
{
    pf_model *m = user;
    if (k != m->k) return cs_error_set(CS_EINVAL, "portfolio model: %zu candidates expected, got %zu", m->k, k);
    return eval_sel(&m->w[0], selected, draw, y_after);
}

size_t pf_model_workers(const pf_model *m) { return m->nw; }
pf_worker *pf_model_worker(pf_model *m, size_t t) { return t < m->nw ? &m->w[t] : NULL; }

cs_status pf_worker_eval(void *user, const uint8_t *selected, size_t k, int draw, double *y_after)
{
    pf_worker *w = user;
    if (k != w->m->k) return cs_error_set(CS_EINVAL, "portfolio model: %zu candidates expected, got %zu", w->m->k, k);
    return eval_sel(w, selected, draw, y_after);
}

/*
 * First-order estimate (docs/portfolio.md, "Screening"): at the portfolio S, adding candidate j changes
 * the travel time of pair (a,b) to t'_ab (the exact formula of fast_times), the cost by w_t (t' − t), the
 * iceberg cost by the mapping, the price index of each city by d ln P_b = Σ_a π_ab d ln τ_ab (trade shares
 * π of the equilibrium at S) and so the per-person outcome by dy_b = −y_b d ln P_b (wages and populations
 * held fixed). Productivity/amenity shifts add y_b (f − 1) for each shifted city.
 */
cs_status pf_model_estimate(void *user, const uint8_t *selected, size_t k, int draw, const uint8_t *want, double *dy)
{
    pf_model *m = user;
    size_t n = m->n, N = m->N;
    if (k != m->k) return cs_error_set(CS_EINVAL, "portfolio model: %zu candidates expected, got %zu", m->k, k);
    for (size_t i = 0; i < n; i++)
        if (m->s.loc[i].node == CS_INVALID_ID)
            return cs_error_set(CS_EUNSUPPORTED, "portfolio: the first-order estimate needs cities snapped to nodes");
    pf_worker *w = &m->w[0];
    cs_status st = ensure_draw(w, draw);
    if (!st) st = set_anchor(m, selected);
    if (st) return st;
    const pf_ring *r = ring_find(w, selected, draw);
    if (!r) {
        double *y = cs_mallocarray(n, sizeof *y);
        if (!y) return CS_ENOMEM;
        st = eval_sel(w, selected, draw, y);
        cs_free(y);
        if (st) return st;
        r = ring_find(w, selected, draw);
    }
    m->estimates++;
    double t0 = now_s();
    double *pi = cs_mallocarray(n * n, sizeof *pi), *lt = cs_mallocarray(n * n, sizeof *lt), *cs0 = NULL;
    cs_matrix *tm = NULL, *cost = NULL, *tau = NULL;
    if (!pi || !lt) st = CS_ENOMEM;
    if (!st) st = cs_matrix_clone(m->costA, &cost);
    if (!st) st = cs_cost_iceberg(cost, &w->cpd, &tau);
    if (!st) {
        /* trade shares at S: x_ab = (τ_ab w_a / A_a)^−θ, π_ab = x_ab / Σ_a x_ab (b buys) */
        const cs_eq_state *e = r->eq;
        double th = w->epd.theta;
        for (size_t a = 0; a < n; a++)
            for (size_t b = 0; b < n; b++) {
                double t = tau->v[a * n + b];
                pi[a * n + b] = isfinite(t) ? exp(-th * (log(t) + log(e->w[a]) - log(e->A[a]))) : 0;
                lt[a * n + b] = isfinite(t) ? log(t) : INFINITY;
            }
        for (size_t b = 0; b < n; b++) {
            double s = 0;
            for (size_t a = 0; a < n; a++) s += pi[a * n + b];
            for (size_t a = 0; a < n; a++) pi[a * n + b] = s > 0 ? pi[a * n + b] / s : 0;
        }
        cs0 = cost->v;
    }
    if (!st) {
        const double wt = m->s.cost.time_weight / 60.0; /* cost-minutes per second */
        const cs_cost_params *cp = &w->cpd;
        const double *T = m->T, *yS = r->y;
#pragma omp parallel for schedule(dynamic, 8) num_threads(m->s.threads > 0 ? m->s.threads : 2)
        for (size_t j = 0; j < k; j++) {
            double *d = dy + j * n;
            for (size_t b = 0; b < n; b++) d[b] = 0;
            if (!want[j]) continue;
            double Rv[PF_NMAX_STACK], Ru[PF_NMAX_STACK];
            double *rv = n <= PF_NMAX_STACK ? Rv : cs_mallocarray(2 * n, sizeof *rv), *ru = n <= PF_NMAX_STACK ? Ru : rv + n;
            for (size_t q = m->op_off[j]; rv && q < m->op_off[j + 1]; q++) {
                const pf_op *o = &m->ops[q];
                if (o->fwd == CS_NO_TIME && o->bwd == CS_NO_TIME) continue; /* a closure: no first-order gain */
                uint32_t u = m->mu[o->mseg], v = m->mv[o->mseg];
                double f = o->fwd == CS_NO_TIME ? INFINITY : o->fwd / 1000.0, bw = o->bwd == CS_NO_TIME ? INFINITY : o->bwd / 1000.0;
                for (size_t b = 0; b < n; b++) {
                    rv[b] = m->R[b * N + v] + m->acc[b];
                    ru[b] = m->R[b * N + u] + m->acc[b];
                }
                for (size_t a = 0; a < n; a++) {
                    double du = m->D[a * N + u] + m->acc[a] + f, dv = m->D[a * N + v] + m->acc[a] + bw;
                    if (!isfinite(du) && !isfinite(dv)) continue;
                    const double *Ta = T + a * n;
                    for (size_t b = 0; b < n; b++) {
                        double x = du + rv[b], y = dv + ru[b];
                        double best = x < y ? x : y;
                        if (!(best < Ta[b])) continue;
                        if (b == a || !isfinite(Ta[b]) || pi[a * n + b] == 0) continue;
                        double c1 = cs0[a * n + b] - wt * (Ta[b] - best);
                        d[b] += pi[a * n + b] * (log(cs_cost_tau(c1, cp)) - lt[a * n + b]); /* accumulates d ln P_b */
                    }
                }
            }
            if (n > PF_NMAX_STACK) cs_free(rv);
            for (size_t b = 0; b < n; b++) d[b] = -yS[b] * d[b];
            for (size_t q = m->sh_off[j]; q < m->sh_off[j + 1]; q++) d[m->sh[q].city] += yS[m->sh[q].city] * (m->sh[q].factor - 1);
        }
    }
    /* border and soft candidates: the cost at the anchor's times with the candidate's friction added, then
       d ln P_b = Σ_a π_ab (ln τ(c1_ab) − ln τ_ab) as above */
    uint8_t *sel1 = st || !m->nfric ? NULL : cs_malloc(k + 1);
    if (!st && m->nfric && !sel1) st = CS_ENOMEM;
    if (!st && m->nfric) st = fast_times(m, SIZE_MAX, &tm);
    for (size_t j = 0; !st && m->nfric && j < k; j++) {
        if (!want[j] || !m->fr_kind[j]) continue;
        memcpy(sel1, selected, k);
        sel1[j] = 1;
        cs_matrix *c1 = NULL;
        st = build_cost(m, sel1, tm, NULL, &c1);
        for (size_t b = 0; !st && b < n; b++) {
            double dl = 0;
            for (size_t a = 0; a < n; a++) {
                size_t q = a * n + b;
                if (a == b || c1->v[q] == cs0[q] || pi[q] == 0 || !isfinite(c1->v[q])) continue;
                dl += pi[q] * (log(cs_cost_tau(c1->v[q], &w->cpd)) - lt[q]);
            }
            dy[j * n + b] += -r->y[b] * dl;
        }
        cs_matrix_free(c1);
    }
    cs_free(sel1);
    /* facility candidates: the amenity shift of every city within the radius at S's travel times */
    for (size_t j = 0; !st && m->nfac && j < k; j++) {
        if (!want[j] || m->fac_host[j] == CS_INVALID_ID) continue;
        uint32_t h = m->fac_host[j];
        for (size_t b = 0; b < n; b++) {
            double t = b == h ? 0 : m->T[b * n + h];
            if (t <= m->fac_radius_s[j]) dy[j * n + b] += r->y[b] * (m->fac_factor[j] - 1);
        }
    }
    m->t_estimate += now_s() - t0;
    cs_matrix_free(tm);
    cs_matrix_free(cost);
    cs_matrix_free(tau);
    cs_free(pi);
    cs_free(lt);
    return st;
}

void pf_model_timing(const pf_model *m, double *route_s, double *dijkstra_s, double *cost_s, double *eq_s, double *estimate_s,
                     size_t *fast, size_t *routings)
{
    *route_s = m->t_route;
    *dijkstra_s = m->t_dijkstra;
    *cost_s = m->t_cost;
    *eq_s = 0;
    for (size_t t = 0; t < m->nw; t++) *eq_s += m->w[t].t_eq;
    *estimate_s = m->t_estimate;
    *fast = m->fast;
    *routings = m->routings;
}


cs_status pf_model_anchor(pf_model *m, const uint8_t *selected, int draw)
{
    cs_status st = ensure_draw(&m->w[0], draw);
    if (!st) st = set_anchor(m, selected);
    /* from here on every portfolio's cost takes the path this anchor gives (cost_of) */
    if (!st) cost_cache_clear(m);
    return st;
}

void pf_model_solver_counts(const pf_model *m, size_t *warm, size_t *iterations, size_t *warm_iterations)
{
    *warm = *iterations = *warm_iterations = 0;
    for (size_t t = 0; t < m->nw; t++) {
        *warm += m->w[t].warm;
        *iterations += m->w[t].iters;
        *warm_iterations += m->w[t].warm_iters;
    }
}

/*
 * scenario_base.c: the baseline a scenario is evaluated against (cost, tau,
 * calibrated model, router preparation), validation of a scenario's ids
 * against it, and the translation of changes into their channels: router
 * changes (applied, matrices re-answered, restored), border matrices, soft
 * links, productivity and amenity shifters. Channels: docs/scenarios.md.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/table.h"
#include "scenario/scenario_base.h"

/* ------------------------------------------------------------ small helpers */

char **sc_city_col(const cs_cities *c, const char *name)
{
    if (!c || !name) return NULL;
    if (!strcmp(name, "country")) return c->country;
    if (!strcmp(name, "region")) return c->region;
    if (!strcmp(name, "id")) return c->id;
    for (size_t k = 0; k < c->extra.ncols; k++)
        if (!strcmp(c->extra.names[k], name)) return c->extra.values[k];
    return NULL;
}

uint32_t sc_nearest_node(const cs_network *net, double lon, double lat, double *dist_m)
{
    uint32_t best = CS_INVALID_ID;
    double bd = INFINITY;
    for (uint32_t v = 0; net && v < net->n_nodes; v++) {
        /* cheap planar prefilter, exact haversine for candidates */
        double dx = (net->lon_deg[v] - lon) * cos(lat * M_PI / 180), dy = net->lat_deg[v] - lat;
        double approx = sqrt(dx * dx + dy * dy) * 111195.0;
        if (approx > bd * 1.01 + 1000) continue;
        double d = cs_geodesic_m(lon, lat, net->lon_deg[v], net->lat_deg[v]);
        if (d < bd) {
            bd = d;
            best = v;
        }
    }
    if (dist_m) *dist_m = best == CS_INVALID_ID ? NAN : bd;
    return best;
}

void cs_scenario_inputs_default(cs_scenario_inputs *in)
{
    memset(in, 0, sizeof *in);
    cs_cost_params_default(&in->cost);
    cs_eq_params_default(&in->eq);
    in->snap_tolerance_m = 5000;
    in->use_session = 1;
}

/* ------------------------------------------------------------ indexes */

void sc_index_free(sc_index *x)
{
    json_decref(x->seg);
    json_decref(x->prop);
    json_decref(x->country);
    json_decref(x->region);
    memset(x, 0, sizeof *x);
}

cs_status sc_index_build(const cs_scenario_inputs *in, sc_index *x)
{
    memset(x, 0, sizeof *x);
    x->seg = json_object();
    x->prop = json_object();
    x->country = json_object();
    x->region = json_object();
    if (!x->seg || !x->prop || !x->country || !x->region) goto oom;
    const cs_network *net = in->net;
    for (uint32_t s = 0; net && net->seg_ext_id && s < net->n_segs; s++) {
        const char *e = net->seg_ext_id[s];
        if (!e || !*e) continue;
        json_t *a = json_object_get(x->seg, e);
        if (!a) {
            a = json_array();
            if (!a || json_object_set_new(x->seg, e, a)) goto oom;
        }
        if (json_array_append_new(a, json_integer(s))) goto oom;
    }
    for (uint32_t k = 0; net && net->proposed.ext_id && k < net->proposed.n; k++) {
        const char *e = net->proposed.ext_id[k];
        if (e && *e && !json_object_get(x->prop, e) && json_object_set_new(x->prop, e, json_integer(k))) goto oom;
    }
    const cs_cities *c = in->cities;
    const char *const *cc = in->country ? in->country : c ? (const char *const *)c->country : NULL;
    const char *const *rr = in->region ? in->region : c ? (const char *const *)c->region : NULL;
    for (size_t i = 0; c && i < c->n; i++) {
        if (cc && cc[i] && *cc[i] && json_object_set_new(x->country, cc[i], json_true())) goto oom;
        if (rr && rr[i] && *rr[i] && json_object_set_new(x->region, rr[i], json_true())) goto oom;
    }
    x->ccode = cc;
    x->rcode = rr;
    return CS_OK;
oom:
    sc_index_free(x);
    return cs_error_set(CS_ENOMEM, "out of memory indexing the baseline");
}

/* ------------------------------------------------------------ validation */

static void v_err(cs_diag *diag, int *errors, const sc_change *c, const char *sub, long line, long col, const char *fmt,
                  ...) __attribute__((format(printf, 7, 8)));
static void v_err(cs_diag *diag, int *errors, const sc_change *c, const char *sub, long line, long col, const char *fmt, ...)
{
    (*errors)++;
    if (!diag) return;
    char msg[768], obj[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sub && *sub) snprintf(obj, sizeof obj, "%s.%s", c->path ? c->path : "", sub);
    else snprintf(obj, sizeof obj, "%s", c->path ? c->path : "");
    cs_diag_add(diag, CS_SEV_ERROR, CS_EPARSE, c->file ? c->file : "", line ? line : c->line, line ? col : c->col, obj,
                "%s", msg);
}

/* end node of a build/link change: city, node id or geometry end. CS_INVALID_ID when not resolvable. */
uint32_t sc_end_node(const cs_scenario_inputs *in, const sc_change *c, int end, double *dist_m)
{
    const cs_network *net = in->net;
    *dist_m = 0;
    if (!net) return CS_INVALID_ID;
    const char *city = end ? c->to : c->from;
    long node = end ? c->to_node : c->from_node;
    if (node >= 0) return (uint64_t)node < net->n_nodes ? (uint32_t)node : CS_INVALID_ID;
    if (city) {
        uint32_t i = in->cities ? cs_cities_find(in->cities, city) : CS_INVALID_ID;
        if (i == CS_INVALID_ID) return CS_INVALID_ID;
        if (in->loc && in->loc[i].node != CS_INVALID_ID && in->loc[i].node < net->n_nodes) return in->loc[i].node;
        return sc_nearest_node(net, in->cities->lon[i], in->cities->lat[i], dist_m);
    }
    if (c->npts >= 2) {
        size_t k = end ? c->npts - 1 : 0;
        return sc_nearest_node(net, c->glon[k], c->glat[k], dist_m);
    }
    return CS_INVALID_ID;
}

static int is_hard(cs_change_type t)
{
    return t == CS_CHANGE_UPGRADE || t == CS_CHANGE_CLOSE || t == CS_CHANGE_BUILD || t == CS_CHANGE_LINK;
}

int sc_validate_with(const cs_scenario *s, const cs_scenario_inputs *in, const sc_index *x, cs_diag *diag, unsigned flags)
{
    int errors = 0;
    const cs_cities *cities = in->cities;
    const cs_network *net = in->net;
    for (size_t q = 0; q < s->n; q++) {
        const sc_change *c = &s->ch[q];
        if (is_hard(c->type) && !net) {
            if (flags & SC_V_NET_OPTIONAL) continue;
            v_err(diag, &errors, c, NULL, 0, 0, "a %s change needs a road network (the project's 'network' section)",
                  cs_change_type_name(c->type));
            continue;
        }
        char sub[96];
        for (size_t z = 0; z < c->nitems; z++) {
            const char *id = c->items[z];
            snprintf(sub, sizeof sub, "%s[%zu]", c->items_key ? c->items_key : "items", z);
            long l = c->item_line ? c->item_line[z] : 0, col = c->item_col ? c->item_col[z] : 0;
            switch (c->type) {
            case CS_CHANGE_UPGRADE:
            case CS_CHANGE_CLOSE:
                if (!json_object_get(x->seg, id))
                    v_err(diag, &errors, c, sub, l, col, "no road segment with edge id '%s' (unknown segment id)", id);
                break;
            case CS_CHANGE_BUILD:
                if (c->all) {
                    if (!net->proposed.n) v_err(diag, &errors, c, "proposed", l, col, "the network has no proposed links");
                } else if (!json_object_get(x->prop, id))
                    v_err(diag, &errors, c, sub, l, col, "no proposed link with edge id '%s' (unknown proposed link id)", id);
                break;
            case CS_CHANGE_BORDER:
                if (!json_object_get(x->country, id))
                    v_err(diag, &errors, c, sub, l, col, "unknown country '%s' (no city has this country code)", id);
                else {
                    int inb = 0;
                    const cs_matrix *M = in->border_time_min ? in->border_time_min : in->border_dist_m;
                    for (size_t a = 0; M && M->row_ids && a < M->rows && !inb; a++) inb = !strcmp(M->row_ids[a], id);
                    if (M && !inb) v_err(diag, &errors, c, sub, l, col, "country '%s' is not in the border matrices", id);
                }
                break;
            case CS_CHANGE_SOFT:
                if (c->level == SC_LEVEL_CITY && (!cities || cs_cities_find(cities, id) == CS_INVALID_ID))
                    v_err(diag, &errors, c, sub, l, col, "unknown city '%s'", id);
                if (c->level == SC_LEVEL_REGION && !json_object_get(x->region, id))
                    v_err(diag, &errors, c, sub, l, col, "unknown region '%s' (no city has this region code)", id);
                if (c->level == SC_LEVEL_COUNTRY && !json_object_get(x->country, id))
                    v_err(diag, &errors, c, sub, l, col, "unknown country '%s' (no city has this country code)", id);
                break;
            case CS_CHANGE_ICT:
            case CS_CHANGE_PRODUCTIVITY:
            case CS_CHANGE_AMENITY:
                if (!cities || cs_cities_find(cities, id) == CS_INVALID_ID)
                    v_err(diag, &errors, c, sub, l, col, "unknown city '%s'", id);
                break;
            default: break;
            }
        }
        if (c->type == CS_CHANGE_BORDER && !in->border_time_min && !in->border_dist_m && !(flags & SC_V_BORDER_OPTIONAL))
            v_err(diag, &errors, c, NULL, 0, 0,
                  "a border change needs the border matrices (indicators.cost.border_time_path / border_distance_path)");
        if (c->type == CS_CHANGE_FACILITY && (!cities || cs_cities_find(cities, c->city) == CS_INVALID_ID))
            v_err(diag, &errors, c, "city", 0, 0, "unknown city '%s'", c->city);
        if ((c->type == CS_CHANGE_BUILD && !c->nitems) || c->type == CS_CHANGE_LINK) {
            for (int e = 0; e < 2; e++) {
                const char *city = e ? c->to : c->from;
                long node = e ? c->to_node : c->from_node;
                const char *key = city ? (e ? "to" : "from") : node >= 0 ? (e ? "to_node" : "from_node") : "geometry";
                if (city && (!cities || cs_cities_find(cities, city) == CS_INVALID_ID)) {
                    v_err(diag, &errors, c, key, 0, 0, "unknown city '%s'", city);
                    continue;
                }
                if (node >= 0 && (uint64_t)node >= net->n_nodes) {
                    v_err(diag, &errors, c, key, 0, 0, "node %ld does not exist (the network has %u nodes)", node,
                          net->n_nodes);
                    continue;
                }
                double d;
                uint32_t v = sc_end_node(in, c, e, &d);
                if (v == CS_INVALID_ID || !(d <= in->snap_tolerance_m))
                    v_err(diag, &errors, c, key, 0, 0,
                          "the %s end is %.0f m from the nearest network node, beyond the tolerance of %.0f m",
                          e ? "'to'" : "'from'", d, in->snap_tolerance_m);
            }
        }
    }
    return errors;
}

cs_status cs_scenario_validate(const cs_scenario *s, const cs_scenario_inputs *in, cs_diag *diag)
{
    if (!s || !in) return cs_error_set(CS_EINVAL, "cs_scenario_validate: NULL argument");
    sc_index x;
    cs_status st = sc_index_build(in, &x);
    if (st) return st;
    int e = sc_validate_with(s, in, &x, diag, 0);
    sc_index_free(&x);
    if (e) return cs_error_set(CS_EPARSE, "scenario '%s': %d error%s against the baseline", cs_scenario_name(s), e,
                               e == 1 ? "" : "s");
    return CS_OK;
}

/* ------------------------------------------------------------ baseline */

void cs_scenario_base_free(cs_scenario_base *b)
{
    if (!b) return;
    cs_matrix_free(b->cost0);
    cs_matrix_free(b->tau0);
    cs_eq_model_free(b->model);
    cs_eq_state_free(b->state);
    cs_free(b->group);
    cs_free(b->group_names);
    cs_free(b->country);
    cs_free(b->country_names);
    cs_free(b->w);
    cs_free(b->L);
    cs_matrix_session_free(b->sess);
    cs_matrix_free(b->sess_time0);
    cs_matrix_free(b->sess_dist0);
    cs_free(b->cur_fwd);
    cs_free(b->cur_bwd);
    cs_free(b->seg_len);
    cs_free(b->slot);
    cs_free(b->cexp);
    cs_free(b->denom);
    cs_free(b->dr_u);
    cs_free(b->dr_v);
    cs_free(b->dr_len);
    cs_free(b->dr_seg);
    cs_free(b->dr_mode);
    cs_free(b->dr_used);
    sc_index_free(&b->idx);
    cs_free(b);
}

size_t cs_scenario_base_n(const cs_scenario_base *b) { return b ? b->n : 0; }
const cs_eq_model *cs_scenario_base_model(const cs_scenario_base *b) { return b ? b->model : NULL; }
const cs_eq_state *cs_scenario_base_state(const cs_scenario_base *b) { return b ? b->state : NULL; }
const cs_matrix *cs_scenario_base_cost(const cs_scenario_base *b) { return b ? b->cost0 : NULL; }
const cs_matrix *cs_scenario_base_tau(const cs_scenario_base *b) { return b ? b->tau0 : NULL; }

const uint32_t *cs_scenario_base_groups(const cs_scenario_base *b, size_t *ngroups, const char *const **names)
{
    if (ngroups) *ngroups = b->ngroups;
    if (names) *names = b->group_names;
    return b->group;
}

const uint32_t *cs_scenario_base_countries(const cs_scenario_base *b, size_t *ncountries, const char *const **names)
{
    if (ncountries) *ncountries = b->ncountries;
    if (names) *names = b->country_names;
    return b->country;
}

cs_status cs_scenario_base_outcome(const cs_scenario_base *b, cs_scenario_outcome kind, double *y)
{
    (void)kind;
    if (!b || !y) return cs_error_set(CS_EINVAL, "cs_scenario_base_outcome: NULL argument");
    memcpy(y, b->w, b->n * sizeof *y);
    return CS_OK;
}

cs_status sc_cost_inputs(const cs_scenario_base *b, cs_cost_inputs *ci)
{
    memset(ci, 0, sizeof *ci);
    ci->time = b->in.time;
    ci->distance = b->in.dist;
    ci->country = b->idx.ccode;
    ci->region = b->idx.rcode;
    ci->border_time_min = b->in.border_time_min;
    ci->border_dist_m = b->in.border_dist_m;
    ci->soft = b->in.soft;
    ci->nsoft = b->in.nsoft;
    ci->links = b->in.links;
    return CS_OK;
}

cs_status cs_scenario_base_new(const cs_scenario_inputs *in, cs_progress progress, cs_diag *diag,
                               cs_scenario_base **out)
{
    *out = NULL;
    if (!in || !in->cities || !in->time) return cs_error_set(CS_EINVAL, "scenario baseline: cities and a time matrix are required");
    const cs_cities *c = in->cities;
    size_t n = c->n;
    if (n < 2) return cs_error_set(CS_EINVAL, "scenario baseline: at least 2 cities are needed");
    if (in->time->rows != n || in->time->cols != n)
        return cs_error_set(CS_EINVAL, "scenario baseline: the time matrix is %zu x %zu for %zu cities", in->time->rows,
                            in->time->cols, n);
    if (in->dist && (in->dist->rows != n || in->dist->cols != n))
        return cs_error_set(CS_EINVAL, "scenario baseline: the distance matrix is %zu x %zu for %zu cities",
                            in->dist->rows, in->dist->cols, n);
    const double *inc = in->income_per_head ? in->income_per_head : c->gdp_per_head;
    if (!inc)
        return cs_error_set(CS_EINVAL, "scenario baseline: the model needs the income per head of every city "
                                       "(cities.fields.gdp_per_head)");
    cs_status st = cs_eq_params_check(&in->eq);
    if (st) return st;
    cs_scenario_base *b = cs_calloc(1, sizeof *b);
    if (!b) return CS_ENOMEM;
    b->in = *in;
    b->n = n;
    /* the iceberg mapping uses the model's theta, so that trade falls with cost at elasticity delta */
    b->in.cost.tau_theta = in->eq.theta;
    b->progress = progress;
    st = sc_index_build(in, &b->idx);
    b->w = cs_mallocarray(n, sizeof *b->w);
    b->L = cs_mallocarray(n, sizeof *b->L);
    if (!st && (!b->w || !b->L)) st = CS_ENOMEM;
    for (size_t i = 0; !st && i < n; i++) {
        b->w[i] = inc[i];
        b->L[i] = c->population[i];
        if (!(b->w[i] > 0) || !(b->L[i] > 0) || !isfinite(b->w[i]) || !isfinite(b->L[i]))
            st = cs_error_set(CS_EPARSE, "scenario baseline: city '%s' needs a population and an income per head > 0 "
                                         "(has %g and %g)", c->id[i], b->L[i], b->w[i]);
    }
    const char *const *mob = in->mobility ? in->mobility : b->idx.ccode;
    const char **gn = NULL, **cn = NULL;
    if (!st) st = cs_eq_groups_from_labels(mob, n, &b->group, &b->ngroups, &gn);
    if (!st) st = cs_eq_groups_from_labels(b->idx.ccode, n, &b->country, &b->ncountries, &cn);
    b->group_names = gn;
    b->country_names = cn;
    cs_cost_inputs ci;
    if (!st) st = sc_cost_inputs(b, &ci);
    if (!st) st = cs_cost_build(&ci, &b->in.cost, &b->cost0);
    if (!st) st = cs_cost_iceberg(b->cost0, &b->in.cost, &b->tau0);
    cs_eq_params ep = in->eq;
    ep.progress = progress;
    if (!st) st = cs_eq_calibrate(&ep, n, b->group, b->L, b->w, b->tau0, diag, &b->model, &b->state);
    if (!st) b->model->params.progress = (cs_progress){NULL, NULL};
    if (st) {
        cs_error_prefix("scenario baseline");
        cs_scenario_base_free(b);
        return st;
    }
    *out = b;
    return CS_OK;
}

/* Prepare the router once (lazily, at the first hard change): current times of every segment, the
   proposed links added closed, the matrix session. */
cs_status sc_router_prepare(cs_scenario_base *b)
{
    if (b->router_ready) return CS_OK;
    const cs_scenario_inputs *in = &b->in;
    if (!in->router || !in->net || !in->loc)
        return cs_error_set(CS_EINVAL, "hard changes need the router, the network and the city locations");
    const cs_network *net = in->net;
    cs_router_info ri;
    cs_router_info_get(in->router, &ri);
    if (ri.segments < net->n_segs)
        return cs_error_set(CS_EINVAL, "the router has %u segments, fewer than the network's %u", ri.segments, net->n_segs);
    cs_status st = CS_OK;
    b->prop0 = ri.segments;
    if (net->proposed.n) {
        cs_route_changes *rc = NULL;
        st = cs_route_changes_new(&rc);
        for (uint32_t k = 0; !st && k < net->proposed.n; k++)
            st = cs_route_changes_add(rc, net->proposed.u[k], net->proposed.v[k], CS_NO_TIME, CS_NO_TIME,
                                      sc_proposed_len_cm(net, k), CS_SEG_ROAD);
        if (!st) st = cs_router_apply(in->router, rc);
        cs_route_changes_free(rc);
        if (st) return st;
    }
    b->nseg = b->prop0 + net->proposed.n;
    b->cur_fwd = cs_mallocarray(b->nseg, sizeof *b->cur_fwd);
    b->cur_bwd = cs_mallocarray(b->nseg, sizeof *b->cur_bwd);
    b->seg_len = cs_mallocarray(b->nseg, sizeof *b->seg_len);
    b->slot = cs_mallocarray(b->nseg, sizeof *b->slot);
    if (!b->cur_fwd || !b->cur_bwd || !b->seg_len || !b->slot) return CS_ENOMEM;
    for (uint32_t s = 0; s < b->nseg; s++) {
        b->slot[s] = CS_INVALID_ID;
        if (s < net->n_segs) {
            b->cur_fwd[s] = net->seg_fwd_ms[s];
            b->cur_bwd[s] = net->seg_bwd_ms[s];
            b->seg_len[s] = net->seg_len_cm[s];
        } else {
            /* segments the router had beyond the network (earlier bases) and the proposed links: closed */
            b->cur_fwd[s] = b->cur_bwd[s] = CS_NO_TIME;
            b->seg_len[s] = s >= b->prop0 ? sc_proposed_len_cm(net, s - b->prop0) : 0;
        }
    }
    if (in->use_session) {
        cs_matrix_opts mo;
        cs_matrix_opts_default(&mo);
        mo.nonroad_flags = 0;
        mo.src_ids = mo.dst_ids = (const char *const *)b->in.cities->id;
        st = cs_matrix_session_new(in->router, in->loc, b->n, in->loc, b->n, &mo, &b->sess);
        if (!st) st = cs_matrix_session_get(b->sess, &b->sess_time0, &b->sess_dist0);
        if (st) return st;
    }
    b->router_ready = 1;
    return CS_OK;
}

uint32_t sc_proposed_len_cm(const cs_network *net, uint32_t k)
{
    uint32_t len = net->proposed.len_cm ? net->proposed.len_cm[k] : UINT32_MAX;
    if (len == UINT32_MAX) {
        uint32_t u = net->proposed.u[k], v = net->proposed.v[k];
        double m = cs_geodesic_m(net->lon_deg[u], net->lat_deg[u], net->lon_deg[v], net->lat_deg[v]);
        len = (uint32_t)fmin(4e9, llround(100.0 * m));
    }
    return len;
}

static uint32_t ms_of(double seconds)
{
    double x = nearbyint(seconds * 1000.0);
    if (!(x >= 0)) return 0;
    if (x >= (double)CS_NO_TIME) return CS_NO_TIME - 1;
    return (uint32_t)x;
}

double sc_line_length_m(const double *lon, const double *lat, size_t n)
{
    double s = 0;
    for (size_t k = 1; k < n; k++) s += cs_geodesic_m(lon[k - 1], lat[k - 1], lon[k], lat[k]);
    return s;
}

/* edit list: segment -> new times */
typedef struct edits {
    uint32_t *seg, *fwd, *bwd;
    size_t n, cap;
} edits;

static cs_status ed_set(cs_scenario_base *b, edits *e, uint32_t s, uint32_t f, uint32_t w)
{
    if (b->slot[s] != CS_INVALID_ID) {
        e->fwd[b->slot[s]] = f;
        e->bwd[b->slot[s]] = w;
        return CS_OK;
    }
    if (e->n == e->cap) {
        size_t nc = e->cap ? 2 * e->cap : 64;
        uint32_t *a = cs_reallocarray(e->seg, nc, sizeof *a);
        if (!a) return CS_ENOMEM;
        e->seg = a;
        a = cs_reallocarray(e->fwd, nc, sizeof *a);
        if (!a) return CS_ENOMEM;
        e->fwd = a;
        a = cs_reallocarray(e->bwd, nc, sizeof *a);
        if (!a) return CS_ENOMEM;
        e->bwd = a;
        e->cap = nc;
    }
    b->slot[s] = (uint32_t)e->n;
    e->seg[e->n] = s;
    e->fwd[e->n] = f;
    e->bwd[e->n] = w;
    e->n++;
    return CS_OK;
}

static void ed_get(const cs_scenario_base *b, const edits *e, uint32_t s, uint32_t *f, uint32_t *w)
{
    if (b->slot[s] != CS_INVALID_ID) {
        *f = e->fwd[b->slot[s]];
        *w = e->bwd[b->slot[s]];
    } else {
        *f = b->cur_fwd[s];
        *w = b->cur_bwd[s];
    }
}

static void ed_free(cs_scenario_base *b, edits *e)
{
    for (size_t k = 0; k < e->n; k++) b->slot[e->seg[k]] = CS_INVALID_ID;
    cs_free(e->seg);
    cs_free(e->fwd);
    cs_free(e->bwd);
    memset(e, 0, sizeof *e);
}

int sc_has_hard(const cs_scenario *s)
{
    for (size_t q = 0; q < s->n; q++)
        if (is_hard(s->ch[q].type)) return 1;
    return 0;
}

/* Build the router changes of the hard changes (in order; a later change of a segment sees the earlier one). */
/* segments added by a scenario (besides the proposed links), for the network after */
typedef struct adds {
    uint32_t *u, *v, *t, *len;
    uint8_t *mode;
    size_t n, cap;
} adds;

static void adds_free(adds *a)
{
    cs_free(a->u);
    cs_free(a->v);
    cs_free(a->t);
    cs_free(a->len);
    cs_free(a->mode);
    memset(a, 0, sizeof *a);
}

static cs_status adds_push(adds *a, uint32_t u, uint32_t v, uint32_t t, uint32_t len, uint8_t mode)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? 2 * a->cap : 8;
        uint32_t *p;
        if (!(p = cs_reallocarray(a->u, nc, 4))) return CS_ENOMEM;
        a->u = p;
        if (!(p = cs_reallocarray(a->v, nc, 4))) return CS_ENOMEM;
        a->v = p;
        if (!(p = cs_reallocarray(a->t, nc, 4))) return CS_ENOMEM;
        a->t = p;
        if (!(p = cs_reallocarray(a->len, nc, 4))) return CS_ENOMEM;
        a->len = p;
        uint8_t *m = cs_reallocarray(a->mode, nc, 1);
        if (!m) return CS_ENOMEM;
        a->mode = m;
        a->cap = nc;
    }
    a->u[a->n] = u;
    a->v[a->n] = v;
    a->t[a->n] = t;
    a->len[a->n] = len;
    a->mode[a->n] = mode;
    a->n++;
    return CS_OK;
}

/* An earlier drawn link with these ends, length and mode, closed and not yet re-opened by this evaluation. */
static size_t drawn_find(const cs_scenario_base *b, uint32_t u, uint32_t v, uint32_t len, uint8_t mode)
{
    for (size_t k = 0; k < b->ndr; k++)
        if (!b->dr_used[k] && b->dr_u[k] == u && b->dr_v[k] == v && b->dr_len[k] == len && b->dr_mode[k] == mode) return k;
    return SIZE_MAX;
}

static cs_status drawn_push(cs_scenario_base *b, uint32_t u, uint32_t v, uint32_t len, uint8_t mode, uint32_t seg)
{
    if (b->ndr == b->dr_cap) {
        size_t nc = b->dr_cap ? 2 * b->dr_cap : 16;
        uint32_t *a[4] = {b->dr_u, b->dr_v, b->dr_len, b->dr_seg};
        for (int i = 0; i < 4; i++) {
            uint32_t *x = cs_reallocarray(a[i], nc, sizeof *x);
            if (!x) return CS_ENOMEM;
            a[i] = x;
        }
        b->dr_u = a[0], b->dr_v = a[1], b->dr_len = a[2], b->dr_seg = a[3];
        uint8_t *m = cs_reallocarray(b->dr_mode, nc, 1), *us = m ? cs_reallocarray(b->dr_used, nc, 1) : NULL;
        if (m) b->dr_mode = m;
        if (!us) return CS_ENOMEM;
        b->dr_used = us;
        b->dr_cap = nc;
    }
    b->dr_u[b->ndr] = u, b->dr_v[b->ndr] = v, b->dr_len[b->ndr] = len, b->dr_seg[b->ndr] = seg;
    b->dr_mode[b->ndr] = mode, b->dr_used[b->ndr] = 0;
    b->ndr++;
    return CS_OK;
}

static cs_status hard_changes(cs_scenario_base *b, const cs_scenario *s, cs_route_changes *rc, edits *e, size_t *nadded,
                              adds *ad)
{
    const cs_network *net = b->in.net;
    cs_status st = CS_OK;
    *nadded = 0;
    for (size_t q = 0; !st && q < s->n; q++) {
        const sc_change *c = &s->ch[q];
        if (c->type == CS_CHANGE_UPGRADE || c->type == CS_CHANGE_CLOSE) {
            for (size_t z = 0; !st && z < c->nitems; z++) {
                const json_t *a = json_object_get(b->idx.seg, c->items[z]);
                if (!a) return cs_error_set_at(CS_ENOTFOUND, c->file, c->line, c->col, "%s: unknown segment id '%s'", c->path,
                                               c->items[z]);
                for (size_t h = 0; !st && h < json_array_size(a); h++) {
                    uint32_t sg = (uint32_t)json_integer_value(json_array_get(a, h));
                    uint32_t f, w;
                    ed_get(b, e, sg, &f, &w);
                    if (c->type == CS_CHANGE_CLOSE) {
                        f = w = CS_NO_TIME;
                    } else if (!isnan(c->speed_kmh)) {
                        /* design speed: never slower than today */
                        uint32_t extra = net->seg_extra_ms ? net->seg_extra_ms[sg] : 0;
                        uint32_t t = ms_of(net->seg_len_cm[sg] / 100.0 / (c->speed_kmh / 3.6));
                        t = t > CS_NO_TIME - 1 - extra ? CS_NO_TIME - 1 : t + extra;
                        if (f != CS_NO_TIME && t < f) f = t;
                        if (w != CS_NO_TIME && t < w) w = t;
                    } else {
                        if (f != CS_NO_TIME) f = ms_of(f / 1000.0 * c->time_factor);
                        if (w != CS_NO_TIME) w = ms_of(w / 1000.0 * c->time_factor);
                    }
                    st = ed_set(b, e, sg, f, w);
                }
            }
        } else if (c->type == CS_CHANGE_BUILD && c->nitems) {
            for (uint32_t k = 0; !st && k < net->proposed.n; k++) {
                int take = c->all;
                for (size_t z = 0; !take && z < c->nitems; z++)
                    take = net->proposed.ext_id && net->proposed.ext_id[k] && !strcmp(net->proposed.ext_id[k], c->items[z]);
                if (!take) continue;
                uint32_t len = sc_proposed_len_cm(net, k);
                uint32_t tf, tb;
                if (!isnan(c->time_min)) tf = tb = ms_of(c->time_min * 60);
                else if (net->proposed.fwd_ms && net->proposed.fwd_ms[k] != CS_NO_TIME) {
                    tf = net->proposed.fwd_ms[k];
                    tb = net->proposed.bwd_ms && net->proposed.bwd_ms[k] != CS_NO_TIME ? net->proposed.bwd_ms[k] : tf;
                } else {
                    double len_m = !isnan(c->length_km) ? c->length_km * 1000 : len / 100.0;
                    tf = tb = ms_of(len_m / (c->speed_kmh / 3.6));
                }
                uint32_t sg = b->prop0 + k, f, w;
                ed_get(b, e, sg, &f, &w);
                /* building a link that is already open keeps the faster time */
                if (f != CS_NO_TIME && f < tf) tf = f;
                if (w != CS_NO_TIME && w < tb) tb = w;
                st = ed_set(b, e, sg, tf, tb);
            }
            if (!st && !c->all)
                for (size_t z = 0; z < c->nitems; z++)
                    if (!json_object_get(b->idx.prop, c->items[z]))
                        return cs_error_set_at(CS_ENOTFOUND, c->file, c->line, c->col, "%s: unknown proposed link id '%s'",
                                               c->path, c->items[z]);
        } else if (c->type == CS_CHANGE_BUILD || c->type == CS_CHANGE_LINK) {
            double d0, d1;
            uint32_t u = sc_end_node(&b->in, c, 0, &d0), v = sc_end_node(&b->in, c, 1, &d1);
            if (u == CS_INVALID_ID || v == CS_INVALID_ID)
                return cs_error_set_at(CS_ENOTFOUND, c->file, c->line, c->col, "%s: an end of the link is not on the network",
                                       c->path);
            double len_m = !isnan(c->length_km) ? c->length_km * 1000
                           : c->npts >= 2       ? sc_line_length_m(c->glon, c->glat, c->npts)
                                                : cs_geodesic_m(net->lon_deg[u], net->lat_deg[u], net->lon_deg[v], net->lat_deg[v]);
            double run_s = !isnan(c->time_min) ? c->time_min * 60 : len_m / (c->speed_kmh / 3.6);
            double t_s = run_s + 60.0 * (c->transfer_min[0] + c->transfer_min[1]);
            uint32_t t = ms_of(t_s);
            uint32_t lc = (uint32_t)fmin(4e9, llround(len_m * 100));
            size_t old = rc ? drawn_find(b, u, v, lc, (uint8_t)c->mode) : SIZE_MAX;
            if (old != SIZE_MAX) {
                /* drawn by an earlier evaluation: re-open its closed segment (closed again by the restore) */
                b->dr_used[old] = 1;
                st = cs_route_changes_set_time(rc, b->dr_seg[old], t, t);
                continue;
            }
            st = rc ? cs_route_changes_add(rc, u, v, t, t, lc, c->mode) : CS_OK;
            if (!st && rc) st = drawn_push(b, u, v, lc, (uint8_t)c->mode, CS_INVALID_ID); /* segment id set after the apply */
            if (!st && rc) b->dr_used[b->ndr - 1] = 1;
            if (!st && ad) st = adds_push(ad, u, v, t, lc, (uint8_t)c->mode);
            if (!st) (*nadded)++;
        }
    }
    for (size_t k = 0; !st && rc && k < e->n; k++) {
        uint32_t sg = e->seg[k];
        if (e->fwd[k] == b->cur_fwd[sg] && e->bwd[k] == b->cur_bwd[sg]) continue;
        st = cs_route_changes_set_time(rc, sg, e->fwd[k], e->bwd[k]);
    }
    return st;
}

/* Merge: where the session's after differs from its before, take the after; else the caller's baseline. */
static cs_status merge_after(const cs_matrix *base, const cs_matrix *s0, const cs_matrix *s1, cs_matrix **out,
                             size_t *faster, size_t *slower)
{
    cs_status st = cs_matrix_clone(base, out);
    if (st) return st;
    size_t n = base->rows, m = base->cols;
    if (s1->flags && !(*out)->flags && (st = cs_matrix_ensure_flags(*out))) {
        cs_matrix_free(*out);
        *out = NULL;
        return st;
    }
    for (size_t k = 0; k < n * m; k++) {
        double a = s0->v[k], c = s1->v[k];
        if (a == c || (isnan(a) && isnan(c))) continue;
        (*out)->v[k] = c;
        if ((*out)->flags) (*out)->flags[k] = s1->flags ? s1->flags[k] : 0;
        if (k / m != k % m) {
            if (c < a) (*faster)++;
            else if (c > a) (*slower)++;
        }
    }
    return CS_OK;
}

cs_status sc_travel_after(cs_scenario_base *b, const cs_scenario *s, int want_nonroad, cs_matrix **time1,
                          cs_matrix **dist1, size_t *faster, size_t *slower, size_t *nonroad)
{
    *time1 = *dist1 = NULL;
    *faster = *slower = *nonroad = 0;
    if (!sc_has_hard(s)) return CS_OK;
    cs_status st = sc_router_prepare(b);
    if (st) return st;
    cs_route_changes *rc = NULL;
    edits e;
    memset(&e, 0, sizeof e);
    size_t nadded = 0;
    cs_router_info ri;
    cs_router_info_get(b->in.router, &ri);
    uint32_t first_added = ri.segments;
    size_t ndr0 = b->ndr;
    st = cs_route_changes_new(&rc);
    if (!st) st = hard_changes(b, s, rc, &e, &nadded, NULL);
    if (!st) st = cs_router_apply(b->in.router, rc);
    cs_route_changes_free(rc);
    rc = NULL;
    int applied = !st;
    if (st) {
        /* nothing added: forget this evaluation's new drawn links, release the re-opened ones */
        b->ndr = ndr0;
        for (size_t k = 0; k < b->ndr; k++) b->dr_used[k] = 0;
        ed_free(b, &e);
        return st;
    }
    /* the new drawn links got the next segment ids, in order */
    for (size_t k = ndr0; k < b->ndr; k++) b->dr_seg[k] = first_added + (uint32_t)(k - ndr0);
    size_t nreopened = 0;
    for (size_t k = 0; k < ndr0; k++) nreopened += b->dr_used[k];
    cs_matrix *t1 = NULL, *d1 = NULL;
    if (!st) {
        if (b->sess) {
            st = cs_matrix_session_update(b->sess);
            if (!st) st = cs_matrix_session_get(b->sess, &t1, &d1);
        } else {
            cs_matrix_opts mo;
            cs_matrix_opts_default(&mo);
            mo.nonroad_flags = 0;
            mo.src_ids = mo.dst_ids = (const char *const *)b->in.cities->id;
            st = cs_router_matrix(b->in.router, b->in.loc, b->n, b->in.loc, b->n, &mo, (cs_progress){NULL, NULL}, &t1, &d1);
        }
    }
    if (!st && want_nonroad && (nadded || nreopened)) {
        /* which pairs use a non-road link now: one matrix with the non-road flags */
        cs_matrix_opts mo;
        cs_matrix_opts_default(&mo);
        mo.nonroad_flags = 1;
        cs_matrix *tn = NULL;
        st = cs_router_matrix(b->in.router, b->in.loc, b->n, b->in.loc, b->n, &mo, (cs_progress){NULL, NULL}, &tn, NULL);
        for (size_t k = 0; !st && k < b->n * b->n; k++)
            if (k / b->n != k % b->n && tn->flags && (tn->flags[k] & CS_CELL_NONROAD)) (*nonroad)++;
        cs_matrix_free(tn);
    }
    /* restore: the edited segments to their baseline times, the added ones closed */
    if (applied) {
        cs_route_changes *back = NULL;
        cs_status s2 = cs_route_changes_new(&back);
        for (size_t k = 0; !s2 && k < e.n; k++) {
            uint32_t sg = e.seg[k];
            if (e.fwd[k] != b->cur_fwd[sg] || e.bwd[k] != b->cur_bwd[sg])
                s2 = cs_route_changes_set_time(back, sg, b->cur_fwd[sg], b->cur_bwd[sg]);
        }
        for (size_t k = 0; !s2 && k < nadded; k++) s2 = cs_route_changes_close(back, first_added + (uint32_t)k);
        for (size_t k = 0; !s2 && k < ndr0; k++)
            if (b->dr_used[k]) s2 = cs_route_changes_close(back, b->dr_seg[k]);
        for (size_t k = 0; k < b->ndr; k++) b->dr_used[k] = 0;
        if (!s2) s2 = cs_router_apply(b->in.router, back);
        cs_route_changes_free(back);
        if (!s2 && b->sess) s2 = cs_matrix_session_update(b->sess);
        if (!st) st = s2;
    }
    ed_free(b, &e);
    if (!st) {
        if (b->sess) {
            st = merge_after(b->in.time, b->sess_time0, t1, time1, faster, slower);
            if (!st && b->in.dist) {
                size_t f2 = 0, s2 = 0;
                st = merge_after(b->in.dist, b->sess_dist0, d1, dist1, &f2, &s2);
            }
        } else {
            for (size_t k = 0; k < b->n * b->n; k++) {
                if (k / b->n == k % b->n) continue;
                if (t1->v[k] < b->in.time->v[k]) (*faster)++;
                else if (t1->v[k] > b->in.time->v[k]) (*slower)++;
            }
            *time1 = t1;
            *dist1 = d1;
            t1 = d1 = NULL;
        }
    }
    cs_matrix_free(t1);
    cs_matrix_free(d1);
    if (st) {
        cs_matrix_free(*time1);
        cs_matrix_free(*dist1);
        *time1 = *dist1 = NULL;
    }
    return st;
}

/* ------------------------------------------------------------ cost after */

static int member(const char *const *list, size_t n, const char *x)
{
    for (size_t k = 0; x && k < n; k++)
        if (!strcmp(list[k], x)) return 1;
    return 0;
}

cs_status sc_cost_after(cs_scenario_base *b, const cs_scenario *s, const cs_matrix *time1, const cs_matrix *dist1,
                        cs_matrix **cost1, int *changed)
{
    *cost1 = NULL;
    *changed = time1 != NULL || dist1 != NULL;
    size_t nsoft = b->in.nsoft, cap = b->in.nsoft;
    for (size_t q = 0; q < s->n; q++) {
        const sc_change *c = &s->ch[q];
        if (c->type == CS_CHANGE_SOFT || (c->type == CS_CHANGE_ICT && c->factor != 1)) cap += c->nitems * (c->nitems - 1) / 2;
        if (c->type == CS_CHANGE_BORDER || c->type == CS_CHANGE_SOFT || (c->type == CS_CHANGE_ICT && c->factor != 1))
            *changed = 1;
    }
    if (!*changed) return CS_OK;
    cs_soft_link *soft = cs_mallocarray(cap ? cap : 1, sizeof *soft);
    if (!soft) return CS_ENOMEM;
    if (b->in.nsoft) memcpy(soft, b->in.soft, b->in.nsoft * sizeof *soft);
    for (size_t q = 0; q < s->n; q++) {
        const sc_change *c = &s->ch[q];
        if (!(c->type == CS_CHANGE_SOFT || (c->type == CS_CHANGE_ICT && c->factor != 1))) continue;
        cs_soft_level lv = c->type == CS_CHANGE_ICT || c->level == SC_LEVEL_CITY ? CS_SOFT_CITY
                           : c->level == SC_LEVEL_REGION                        ? CS_SOFT_REGION
                                                                                : CS_SOFT_COUNTRY;
        /* distinct pairs of distinct members (a member listed twice counts once) */
        for (size_t a = 0; a < c->nitems; a++) {
            if (member((const char *const *)c->items, a, c->items[a])) continue;
            for (size_t z = a + 1; z < c->nitems; z++) {
                /* z's member listed earlier (before a, as a, or between): that pair is already in */
                if (member((const char *const *)c->items, z, c->items[z])) continue;
                soft[nsoft++] = (cs_soft_link){lv, c->items[a], c->items[z], c->factor};
            }
        }
    }
    /* border matrices: penalties between every pair of distinct member countries multiplied by the factor */
    cs_matrix *bt = NULL, *bd = NULL;
    cs_status st = CS_OK;
    if (b->in.border_time_min) st = cs_matrix_clone(b->in.border_time_min, &bt);
    if (!st && b->in.border_dist_m) st = cs_matrix_clone(b->in.border_dist_m, &bd);
    for (size_t q = 0; !st && q < s->n; q++) {
        const sc_change *c = &s->ch[q];
        if (c->type != CS_CHANGE_BORDER) continue;
        cs_border_scale(bt, (const char *const *)c->items, c->nitems, c->factor);
        cs_border_scale(bd, (const char *const *)c->items, c->nitems, c->factor);
    }
    cs_cost_inputs ci;
    if (!st) st = sc_cost_inputs(b, &ci);
    if (!st) {
        if (time1) ci.time = time1;
        if (dist1) ci.distance = dist1;
        ci.border_time_min = bt;
        ci.border_dist_m = bd;
        ci.soft = soft;
        ci.nsoft = nsoft;
        st = cs_cost_build(&ci, &b->in.cost, cost1);
    }
    cs_matrix_free(bt);
    cs_matrix_free(bd);
    cs_free(soft);
    return st;
}

/* productivity (a) and amenity (b) shifters; time = travel times after (facility radius) */
cs_status sc_shifts(const cs_scenario_base *b, const cs_scenario *s, const cs_matrix *time, double *ash, double *bsh)
{
    size_t n = b->n;
    for (size_t i = 0; i < n; i++) ash[i] = bsh[i] = 1;
    for (size_t q = 0; q < s->n; q++) {
        const sc_change *c = &s->ch[q];
        if (c->type == CS_CHANGE_PRODUCTIVITY || c->type == CS_CHANGE_AMENITY || (c->type == CS_CHANGE_ICT && c->productivity != 1)) {
            for (size_t z = 0; z < c->nitems; z++) {
                if (member((const char *const *)c->items, z, c->items[z])) continue; /* listed twice: once */
                uint32_t i = cs_cities_find(b->in.cities, c->items[z]);
                if (i == CS_INVALID_ID)
                    return cs_error_set_at(CS_ENOTFOUND, c->file, c->line, c->col, "%s: unknown city '%s'", c->path, c->items[z]);
                if (c->type == CS_CHANGE_AMENITY) bsh[i] *= c->factor;
                else if (c->type == CS_CHANGE_PRODUCTIVITY) ash[i] *= c->factor;
                else ash[i] *= c->productivity;
            }
        } else if (c->type == CS_CHANGE_FACILITY) {
            uint32_t h = cs_cities_find(b->in.cities, c->city);
            if (h == CS_INVALID_ID)
                return cs_error_set_at(CS_ENOTFOUND, c->file, c->line, c->col, "%s: unknown city '%s'", c->path, c->city);
            for (size_t i = 0; i < n; i++) {
                double t = i == h ? 0 : time->v[i * n + h]; /* from the city to the facility, seconds */
                if (t <= c->radius_min * 60) bsh[i] *= c->factor;
            }
        }
    }
    return CS_OK;
}

/* ------------------------------------------------------------ lines layer */

void sc_lines_free(sc_lines *L)
{
    cs_free(L->chg);
    cs_free(L->typ);
    cs_free(L->item);
    cs_free(L->capc);
    cs_free(L->off);
    cs_free(L->lon);
    cs_free(L->lat);
    memset(L, 0, sizeof *L);
}

cs_status sc_lines_build(const cs_scenario *s, const cs_scenario_inputs *in, sc_lines *L)
{
    memset(L, 0, sizeof *L);
    if (!s || !in) return cs_error_set(CS_EINVAL, "cs_scenario_lines: NULL argument");
    const cs_network *net = in->net;
    sc_index x;
    cs_status st = sc_index_build(in, &x);
    if (st) return st;
    size_t rows = 0, cap = 64, pts = 0, pcap = 256;
    const char **chg = cs_mallocarray(cap, sizeof *chg), **typ = cs_mallocarray(cap, sizeof *typ),
               **item = cs_mallocarray(cap, sizeof *item);
    double *capc = cs_mallocarray(cap, sizeof *capc);
    size_t *off = cs_mallocarray(cap + 1, sizeof *off);
    double *lon = cs_mallocarray(pcap, sizeof *lon), *lat = cs_mallocarray(pcap, sizeof *lat);
    if (!chg || !typ || !item || !capc || !off || !lon || !lat) st = CS_ENOMEM;
    if (!st) off[0] = 0;
#define GROW_ROWS()                                                                                                    \
    do {                                                                                                               \
        if (rows + 1 >= cap) {                                                                                         \
            cap *= 2;                                                                                                  \
            void *p1 = cs_reallocarray(chg, cap, sizeof *chg), *p2 = p1 ? (chg = p1, cs_reallocarray(typ, cap, sizeof *typ)) : NULL; \
            void *p3 = p2 ? (typ = p2, cs_reallocarray(item, cap, sizeof *item)) : NULL;                              \
            void *p4 = p3 ? (item = p3, cs_reallocarray(capc, cap, sizeof *capc)) : NULL;                             \
            void *p5 = p4 ? (capc = p4, cs_reallocarray(off, cap + 1, sizeof *off)) : NULL;                           \
            if (!p5) st = CS_ENOMEM;                                                                                   \
            else off = p5;                                                                                             \
        }                                                                                                              \
    } while (0)
#define ADD_PT(X, Y)                                                                                                   \
    do {                                                                                                               \
        if (pts == pcap) {                                                                                             \
            pcap *= 2;                                                                                                 \
            void *q1 = cs_reallocarray(lon, pcap, sizeof *lon), *q2 = q1 ? (lon = q1, cs_reallocarray(lat, pcap, sizeof *lat)) : NULL; \
            if (!q2) { st = CS_ENOMEM; break; }                                                                        \
            lat = q2;                                                                                                  \
        }                                                                                                              \
        lon[pts] = (X);                                                                                                \
        lat[pts] = (Y);                                                                                                \
        pts++;                                                                                                         \
    } while (0)
    for (size_t q = 0; !st && q < s->n; q++) {
        const sc_change *c = &s->ch[q];
        double share = 1;
        if (c->type == CS_CHANGE_UPGRADE || c->type == CS_CHANGE_CLOSE) {
            if (!net) continue;
            for (size_t z = 0; !st && z < c->nitems; z++) {
                const json_t *a = json_object_get(x.seg, c->items[z]);
                for (size_t h = 0; !st && h < json_array_size(a); h++) {
                    uint32_t sg = (uint32_t)json_integer_value(json_array_get(a, h));
                    GROW_ROWS();
                    if (st) break;
                    for (uint64_t g = net->geom_off[sg]; !st && g < net->geom_off[sg + 1]; g++)
                        ADD_PT(net->geom_lon_deg[g], net->geom_lat_deg[g]);
                    chg[rows] = c->name;
                    typ[rows] = cs_change_type_name(c->type);
                    item[rows] = c->items[z];
                    capc[rows] = c->capital / (double)c->nitems;
                    off[++rows] = pts;
                }
            }
        } else if (c->type == CS_CHANGE_BUILD && c->nitems) {
            if (!net) continue;
            size_t cnt = 0;
            for (uint32_t k = 0; k < net->proposed.n; k++) {
                int take = c->all;
                for (size_t z = 0; !take && z < c->nitems; z++)
                    take = net->proposed.ext_id && net->proposed.ext_id[k] && !strcmp(net->proposed.ext_id[k], c->items[z]);
                cnt += take;
            }
            share = cnt ? 1.0 / (double)cnt : 1;
            for (uint32_t k = 0; !st && k < net->proposed.n; k++) {
                int take = c->all;
                for (size_t z = 0; !take && z < c->nitems; z++)
                    take = net->proposed.ext_id && net->proposed.ext_id[k] && !strcmp(net->proposed.ext_id[k], c->items[z]);
                if (!take) continue;
                GROW_ROWS();
                if (st) break;
                ADD_PT(net->lon_deg[net->proposed.u[k]], net->lat_deg[net->proposed.u[k]]);
                ADD_PT(net->lon_deg[net->proposed.v[k]], net->lat_deg[net->proposed.v[k]]);
                chg[rows] = c->name;
                typ[rows] = cs_change_type_name(c->type);
                item[rows] = net->proposed.ext_id && net->proposed.ext_id[k] ? net->proposed.ext_id[k] : "";
                capc[rows] = c->capital * share;
                off[++rows] = pts;
            }
        } else if (c->type == CS_CHANGE_BUILD || c->type == CS_CHANGE_LINK) {
            GROW_ROWS();
            if (st) break;
            if (c->npts >= 2) {
                for (size_t k = 0; !st && k < c->npts; k++) ADD_PT(c->glon[k], c->glat[k]);
            } else {
                for (int e = 0; !st && e < 2; e++) {
                    double d;
                    uint32_t v = sc_end_node(in, c, e, &d);
                    const char *city = e ? c->to : c->from;
                    uint32_t ci = city && in->cities ? cs_cities_find(in->cities, city) : CS_INVALID_ID;
                    if (ci != CS_INVALID_ID) ADD_PT(in->cities->lon[ci], in->cities->lat[ci]);
                    else if (v != CS_INVALID_ID) ADD_PT(net->lon_deg[v], net->lat_deg[v]);
                    else ADD_PT(NAN, NAN);
                }
            }
            chg[rows] = c->name;
            typ[rows] = cs_change_type_name(c->type);
            item[rows] = c->type == CS_CHANGE_LINK ? (c->mode == CS_SEG_RAIL ? "rail" : c->mode == CS_SEG_AIR ? "air" : "ferry") : "road";
            capc[rows] = c->capital;
            off[++rows] = pts;
        }
    }
#undef GROW_ROWS
#undef ADD_PT
    L->chg = chg;
    L->typ = typ;
    L->item = item;
    L->capc = capc;
    L->off = off;
    L->lon = lon;
    L->lat = lat;
    L->rows = rows;
    if (st) sc_lines_free(L);
    sc_index_free(&x);
    return st;
}

cs_status cs_scenario_lines(const cs_scenario *s, const cs_scenario_inputs *in, cs_table **out)
{
    *out = NULL;
    sc_lines L;
    cs_status st = sc_lines_build(s, in, &L);
    if (st) return st;
    cs_table *t = NULL;
    st = cs_table_new(L.rows, &t);
    if (!st) st = cs_table_add_string(t, "change", L.chg);
    if (!st) st = cs_table_add_string(t, "type", L.typ);
    if (!st) st = cs_table_add_string(t, "item", L.item);
    if (!st) st = cs_table_add_real(t, "capital_cost", L.capc);
    if (!st) st = cs_table_set_lines(t, L.off, L.lon, L.lat);
    if (st) cs_table_free(t);
    else *out = t;
    sc_lines_free(&L);
    return st;
}

/* ------------------------------------------------------------ split */

cs_status cs_scenario_split(const cs_scenario *s, const cs_scenario_inputs *in, cs_scenario **out)
{
    *out = NULL;
    if (!s) return cs_error_set(CS_EINVAL, "cs_scenario_split: NULL scenario");
    const cs_network *net = in ? in->net : NULL;
    sc_index x;
    memset(&x, 0, sizeof x);
    cs_status st = CS_OK;
    if (in) st = sc_index_build(in, &x);
    if (st) return st;
    cs_scenario *d = cs_calloc(1, sizeof *d);
    if (!d) {
        sc_index_free(&x);
        return CS_ENOMEM;
    }
    d->name = cs_strdup(cs_scenario_name(s));
    d->description = cs_strdup(cs_scenario_description(s));
    d->file = cs_strdup(s->file ? s->file : "");
    if (!d->name || !d->description || !d->file) st = CS_ENOMEM;
    for (size_t q = 0; !st && q < s->n; q++) {
        const sc_change *c = &s->ch[q];
        int splittable = (c->type == CS_CHANGE_UPGRADE || c->type == CS_CHANGE_CLOSE || c->type == CS_CHANGE_BUILD) &&
                         (c->nitems > 1 || c->all);
        if (!splittable) {
            sc_change cc;
            st = sc_change_copy(c, &cc);
            if (!st) st = sc_push(d, &cc);
            continue;
        }
        /* the items and their lengths (cm; 0 = unknown) */
        size_t ni = 0;
        char **ids = NULL;
        double *len = NULL;
        if (c->all) {
            if (!net || !net->proposed.n) {
                st = cs_error_set_at(CS_EINVAL, c->file, c->line, c->col, "%s: \"all\" needs a network with proposed links", c->path);
                break;
            }
            ni = net->proposed.n;
        } else ni = c->nitems;
        ids = cs_calloc(ni, sizeof *ids);
        len = cs_calloc(ni, sizeof *len);
        if (!ids || !len) st = CS_ENOMEM;
        double total = 0;
        int known = 1;
        for (size_t z = 0; !st && z < ni; z++) {
            if (c->all) {
                ids[z] = net->proposed.ext_id && net->proposed.ext_id[z] ? net->proposed.ext_id[z] : NULL;
                len[z] = sc_proposed_len_cm(net, (uint32_t)z);
                if (!ids[z]) st = cs_error_set(CS_EINVAL, "proposed link %zu has no id", z);
            } else {
                ids[z] = c->items[z];
                if (c->type == CS_CHANGE_BUILD && net && json_object_get(x.prop, ids[z]))
                    len[z] = sc_proposed_len_cm(net, (uint32_t)json_integer_value(json_object_get(x.prop, ids[z])));
                else if (net && json_object_get(x.seg, ids[z])) {
                    const json_t *a = json_object_get(x.seg, ids[z]);
                    for (size_t h = 0; h < json_array_size(a); h++)
                        len[z] += net->seg_len_cm[json_integer_value(json_array_get(a, h))];
                }
            }
            if (!(len[z] > 0)) known = 0;
            total += len[z];
        }
        for (size_t z = 0; !st && z < ni; z++) {
            double share = known && total > 0 ? len[z] / total : 1.0 / (double)ni;
            sc_change cc;
            st = sc_change_copy(c, &cc);
            if (st) break;
            for (size_t k = 0; k < cc.nitems; k++) cs_free(cc.items[k]);
            cs_free(cc.items);
            cs_free(cc.item_line);
            cs_free(cc.item_col);
            cc.items = cs_calloc(1, sizeof *cc.items);
            cc.item_line = cs_calloc(1, sizeof *cc.item_line);
            cc.item_col = cs_calloc(1, sizeof *cc.item_col);
            cs_free(cc.name);
            cc.name = cs_asprintf("%s/%s", c->name, ids[z]);
            if (!cc.items || !cc.item_line || !cc.item_col || !cc.name || !(cc.items[0] = cs_strdup(ids[z]))) {
                cc.nitems = 0;
                sc_change_clear(&cc);
                st = CS_ENOMEM;
                break;
            }
            cc.nitems = 1;
            if (!c->all && c->item_line) {
                cc.item_line[0] = c->item_line[z];
                cc.item_col[0] = c->item_col[z];
            }
            cc.all = 0;
            cc.items_key = c->type == CS_CHANGE_BUILD ? "proposed" : "edges";
            cc.capital = c->capital * share;
            cc.annual = c->annual * share;
            st = sc_push(d, &cc);
        }
        cs_free(ids);
        cs_free(len);
    }
    sc_index_free(&x);
    if (st) {
        cs_scenario_free(d);
        return st;
    }
    *out = d;
    return CS_OK;
}

/* ------------------------------------------------------------ network after (road load) */

cs_status sc_network_after(cs_scenario_base *b, const cs_scenario *s, cs_network **out)
{
    *out = NULL;
    cs_status st = sc_router_prepare(b);
    if (st) return st;
    const cs_network *net = b->in.net;
    edits e;
    memset(&e, 0, sizeof e);
    adds ad;
    memset(&ad, 0, sizeof ad);
    size_t nadded = 0;
    st = hard_changes(b, s, NULL, &e, &nadded, &ad);
    /* layout: the network's segments, then its proposed links (closed unless built), then added links */
    uint32_t np = net->proposed.n, m = net->n_segs + np + (uint32_t)ad.n;
    uint32_t *u = cs_mallocarray(m, 4), *v = cs_mallocarray(m, 4), *f = cs_mallocarray(m, 4), *w = cs_mallocarray(m, 4),
             *len = cs_mallocarray(m, 4);
    uint8_t *mode = cs_mallocarray(m, 1);
    if (!st && (!u || !v || !f || !w || !len || !mode)) st = CS_ENOMEM;
    for (uint32_t k = 0; !st && k < m; k++) {
        if (k < net->n_segs) {
            u[k] = net->seg_u[k];
            v[k] = net->seg_v[k];
            len[k] = net->seg_len_cm[k];
            mode[k] = net->seg_mode[k];
            ed_get(b, &e, k, &f[k], &w[k]);
        } else if (k < net->n_segs + np) {
            uint32_t q = k - net->n_segs;
            u[k] = net->proposed.u[q];
            v[k] = net->proposed.v[q];
            len[k] = sc_proposed_len_cm(net, q);
            mode[k] = CS_SEG_ROAD;
            ed_get(b, &e, b->prop0 + q, &f[k], &w[k]);
        } else {
            size_t q = k - net->n_segs - np;
            u[k] = ad.u[q];
            v[k] = ad.v[q];
            f[k] = w[k] = ad.t[q];
            len[k] = ad.len[q];
            mode[k] = ad.mode[q];
        }
    }
    if (!st) st = cs_network_from_arcs(net->n_nodes, net->lon_deg, net->lat_deg, m, u, v, f, w, len, mode, out);
    cs_free(u);
    cs_free(v);
    cs_free(f);
    cs_free(w);
    cs_free(len);
    cs_free(mode);
    adds_free(&ad);
    ed_free(b, &e);
    return st;
}

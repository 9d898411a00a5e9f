/*
 * steps_analysis.c: the "indicators", "typology" and "flows" steps of the main job.
 *   indicators: generalised cost (with border matrices and soft frictions), market access, gravity
 *               flows, urban hierarchy and inequality of the income per head (overall and by country).
 *   typology:   clusters, corridors, hubs, primary/secondary/isolated on the travel-time matrix and the
 *               gravity flows (recomputed every run: cheap next to the matrix).
 *   flows:      the load of the gravity flows on every road segment and the criticality of loaded
 *               segments (closures through the router, without a rebuild).
 * Section schemas: docs/project-file.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "citysys/access.h"
#include "citysys/alloc.h"
#include "citysys/centrality.h"
#include "citysys/cost.h"
#include "citysys/flows.h"
#include "citysys/gravity.h"
#include "citysys/hierarchy.h"
#include "citysys/inequality.h"
#include "citysys/routing.h"
#include "citysys/table.h"
#include "citysys/typology.h"
#include "report/run_steps.h"
#include "report/section.h"

/* ------------------------------------------------------------ city columns by name */

/* string column: standard field or extra column; NULL when absent */
static char **city_strings(const cs_cities *c, const char *name)
{
    if (!name) return NULL;
    if (!strcmp(name, "id")) return c->id;
    if (!strcmp(name, "name")) return c->name;
    if (!strcmp(name, "country")) return c->country;
    if (!strcmp(name, "region")) return c->region;
    for (size_t k = 0; k < c->extra.ncols; k++)
        if (!strcmp(c->extra.names[k], name)) return c->extra.values[k];
    return NULL;
}

/* numeric column into out (NaN where not a number); 0 when absent */
static int city_numbers(const cs_cities *c, const char *name, double *out)
{
    const double *src = NULL;
    if (!strcmp(name, "population")) src = c->population;
    else if (!strcmp(name, "gdp")) src = c->gdp;
    else if (!strcmp(name, "gdp_per_head")) src = c->gdp_per_head;
    else if (!strcmp(name, "employment")) src = c->employment;
    if (src) {
        memcpy(out, src, c->n * sizeof *out);
        return 1;
    }
    char **s = city_strings(c, name);
    if (!s) return 0;
    for (size_t i = 0; i < c->n; i++) {
        char *e;
        double v = strtod(s[i], &e);
        out[i] = (e != s[i] && *e == 0) ? v : NAN;
    }
    return 1;
}

/* ------------------------------------------------------------ configuration */

typedef struct ind_cfg {
    const char *code_field;
    const char *border_time_path, *border_dist_path;
    cs_cost_params cost;
    double theta[16];
    size_t ntheta;
    double thresholds[16];
    size_t nthresh;
    double c_min, headline_theta;
    int gravity_kind, gravity_decay;
    double gravity_beta;
    const char *ineq_value, *ineq_group;
    /* flows */
    int crit_enabled;
    double crit_min_share;
    double crit_max_segments;
} ind_cfg;

static const char *const IND_KEYS[] = {"country_code_field", "cost", "access", "gravity", "inequality", NULL};
static const char *const COST_KEYS[] = {"border_time_path", "border_distance_path", "time_weight", "dist_weight_per_km",
                                        "border_weight", "tau_c0", "tau_delta", "tau_theta", NULL};
static const char *const ACC_KEYS[] = {"theta", "thresholds_min", "c_min_min", "headline_theta", NULL};
static const char *const GRAV_KEYS[] = {"model", "decay", "beta", NULL};
static const char *const INEQ_KEYS[] = {"value", "group", NULL};
static const char *const FLOW_KEYS[] = {"criticality", "criticality_min_share", "criticality_max_segments", NULL};

static int parse_ind(const cs_project *p, cs_diag *diag, const cs_cities *c, ind_cfg *g)
{
    int errors = 0;
    memset(g, 0, sizeof *g);
    cs_cost_params_default(&g->cost);
    memcpy(g->theta, cs_access_default_theta, sizeof(double) * CS_ACCESS_DEFAULT_NTHETA);
    g->ntheta = CS_ACCESS_DEFAULT_NTHETA;
    memcpy(g->thresholds, cs_access_default_thresholds, sizeof(double) * CS_ACCESS_DEFAULT_NTHRESH);
    g->nthresh = CS_ACCESS_DEFAULT_NTHRESH;
    g->c_min = 10;
    g->headline_theta = 3.8;
    g->gravity_kind = CS_GRAVITY_DOUBLY;
    g->gravity_decay = CS_DECAY_POWER;
    g->gravity_beta = 1.0;
    g->ineq_value = "gdp_per_head";
    g->ineq_group = "country";
    g->code_field = "country";
    g->crit_enabled = 1;
    g->crit_min_share = 0;
    cs_sec s, sc, sa, sg, si, sf;
    if (cs_sec_open(&s, p, diag, "indicators", &errors)) {
        cs_sec_check_keys(&s, IND_KEYS);
        g->code_field = cs_sec_str(&s, "country_code_field", g->code_field);
        if (cs_sec_child(&s, "cost", &sc)) {
            cs_sec_check_keys(&sc, COST_KEYS);
            g->border_time_path = cs_sec_str(&sc, "border_time_path", NULL);
            g->border_dist_path = cs_sec_str(&sc, "border_distance_path", NULL);
            g->cost.time_weight = cs_sec_num(&sc, "time_weight", g->cost.time_weight, 0, 1e6);
            g->cost.dist_weight_per_km = cs_sec_num(&sc, "dist_weight_per_km", g->cost.dist_weight_per_km, 0, 1e6);
            g->cost.border_weight = cs_sec_num(&sc, "border_weight", g->cost.border_weight, 0, 1e6);
            g->cost.tau_c0 = cs_sec_num(&sc, "tau_c0", g->cost.tau_c0, 1e-9, 1e9);
            g->cost.tau_delta = cs_sec_num(&sc, "tau_delta", g->cost.tau_delta, 1e-9, 100);
            g->cost.tau_theta = cs_sec_num(&sc, "tau_theta", g->cost.tau_theta, 1e-9, 100);
        }
        if (cs_sec_child(&s, "access", &sa)) {
            cs_sec_check_keys(&sa, ACC_KEYS);
            int pr;
            size_t k = cs_sec_nums(&sa, "theta", g->theta, 16, 0, 50, &pr);
            if (pr) g->ntheta = k;
            k = cs_sec_nums(&sa, "thresholds_min", g->thresholds, 16, 0, 1e6, &pr);
            if (pr) g->nthresh = k;
            g->c_min = cs_sec_num(&sa, "c_min_min", g->c_min, 0, 1e6);
            g->headline_theta = cs_sec_num(&sa, "headline_theta", g->headline_theta, 0, 50);
        }
        if (cs_sec_child(&s, "gravity", &sg)) {
            cs_sec_check_keys(&sg, GRAV_KEYS);
            static const char *const models[] = {"unconstrained", "production", "attraction", "doubly", NULL};
            static const char *const decays[] = {"power", "exponential", NULL};
            g->gravity_kind = cs_sec_enum(&sg, "model", models, CS_GRAVITY_DOUBLY);
            g->gravity_decay = cs_sec_enum(&sg, "decay", decays, 0) == 0 ? CS_DECAY_POWER : CS_DECAY_EXPONENTIAL;
            g->gravity_beta = cs_sec_num(&sg, "beta", g->gravity_beta, 0, 100);
        }
        if (cs_sec_child(&s, "inequality", &si)) {
            cs_sec_check_keys(&si, INEQ_KEYS);
            g->ineq_value = cs_sec_str(&si, "value", g->ineq_value);
            g->ineq_group = cs_sec_str(&si, "group", g->ineq_group);
        }
        if (c) {
            if (!city_strings(c, g->code_field)) cs_sec_error(&s, "country_code_field", "the city table has no column '%s'", g->code_field);
            double *tmp = cs_mallocarray(c->n ? c->n : 1, sizeof *tmp);
            if (tmp && !city_numbers(c, g->ineq_value, tmp)) cs_sec_error(&s, "inequality", "the city table has no column '%s'", g->ineq_value);
            cs_free(tmp);
        }
    }
    if (cs_sec_open(&sf, p, diag, "flows", &errors)) {
        cs_sec_check_keys(&sf, FLOW_KEYS);
        g->crit_enabled = cs_sec_bool(&sf, "criticality", 1);
        g->crit_min_share = cs_sec_num(&sf, "criticality_min_share", 0, 0, 1);
        g->crit_max_segments = floor(cs_sec_num(&sf, "criticality_max_segments", 0, 0, 1e9));
    }
    (void)sa;
    return errors;
}

cs_status cs_run_check_analysis_sections(cs_run_ctx *ctx);
cs_status cs_run_check_analysis_sections(cs_run_ctx *ctx)
{
    ind_cfg g;
    return parse_ind(ctx->project, ctx->diag, ctx->cities, &g) ? CS_EPARSE : CS_OK;
}

static void ind_gravity_opts(const ind_cfg *g, cs_gravity_opts *go)
{
    cs_gravity_opts_default(go);
    go->kind = (cs_gravity_kind)g->gravity_kind;
    go->decay = (cs_decay)g->gravity_decay;
    go->beta = g->gravity_beta;
    go->c_min = g->c_min;
}

/* for the scenarios step: the indicators' cost parameters and border matrices */
cs_status cs_run_cost_params(const cs_run_ctx *ctx, cs_cost_params *cp);
cs_status cs_run_cost_params(const cs_run_ctx *ctx, cs_cost_params *cp)
{
    ind_cfg g;
    if (parse_ind(ctx->project, NULL, ctx->cities, &g)) return cs_error_set(CS_EPARSE, "invalid indicators section");
    *cp = g.cost;
    return CS_OK;
}

static cs_status read_border(const cs_project *p, const char *rel, cs_matrix_kind kind, cs_matrix **out);
cs_status cs_run_border_matrices(const cs_run_ctx *ctx, cs_matrix **bt, cs_matrix **bd);
cs_status cs_run_border_matrices(const cs_run_ctx *ctx, cs_matrix **bt, cs_matrix **bd)
{
    ind_cfg g;
    *bt = *bd = NULL;
    if (parse_ind(ctx->project, NULL, ctx->cities, &g)) return cs_error_set(CS_EPARSE, "invalid indicators section");
    cs_status st = read_border(ctx->project, g.border_time_path, CS_MATRIX_TIME, bt);
    if (!st) st = read_border(ctx->project, g.border_dist_path, CS_MATRIX_DISTANCE, bd);
    return st;
}

/* for the scenarios step: the indicators' gravity model (the flows' recipe) and the typology rules, so
   that the typology and road load after a scenario follow the same definitions as the baseline steps */
static int parse_typ(const cs_project *p, cs_diag *diag, cs_typology_params *tp, int *hub_gravity);
static void ind_gravity_opts(const ind_cfg *g, cs_gravity_opts *go);
cs_status cs_run_gravity_opts(const cs_run_ctx *ctx, cs_gravity_opts *go);
cs_status cs_run_gravity_opts(const cs_run_ctx *ctx, cs_gravity_opts *go)
{
    ind_cfg g;
    if (parse_ind(ctx->project, NULL, ctx->cities, &g)) return cs_error_set(CS_EPARSE, "invalid indicators section");
    ind_gravity_opts(&g, go);
    return CS_OK;
}
cs_status cs_run_typology_params(const cs_run_ctx *ctx, cs_typology_params *tp, int *hub_gravity);
cs_status cs_run_typology_params(const cs_run_ctx *ctx, cs_typology_params *tp, int *hub_gravity)
{
    return parse_typ(ctx->project, NULL, tp, hub_gravity) ? cs_error_set(CS_EPARSE, "invalid typology section") : CS_OK;
}

/* summary helper */
static json_t *summary(cs_run_ctx *ctx)
{
    if (!ctx->summary) ctx->summary = json_object();
    return ctx->summary;
}

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* ------------------------------------------------------------ indicators */

static int ind_wanted(const cs_run_ctx *ctx) { return ctx->time != NULL; }

static cs_status ind_hash(const cs_run_ctx *ctx, cs_sha256 *h)
{
    return cs_project_hash_section(ctx->project, "indicators", h);
}

static cs_status read_border(const cs_project *p, const char *rel, cs_matrix_kind kind, cs_matrix **out)
{
    *out = NULL;
    if (!rel) return CS_OK;
    char *path = cs_project_resolve(p, rel);
    if (!path) return CS_ENOMEM;
    cs_status st = cs_matrix_read_csv(path, CS_MATRIX_CSV_WIDE, kind, out);
    cs_free(path);
    return st;
}

static cs_status write_indicators(cs_run_ctx *ctx, const char *dir, const ind_cfg *g, const cs_access_result *ar,
                                  const cs_hierarchy *hi, const double *value)
{
    const cs_cities *c = ctx->cities;
    size_t n = c->n;
    cs_table *t = NULL;
    cs_status st = cs_table_new(n, &t);
    if (!st) st = cs_table_add_string(t, "id", (const char *const *)c->id);
    if (!st) st = cs_table_add_string(t, "name", (const char *const *)c->name);
    char **code = city_strings(c, g->code_field);
    if (!st && code) st = cs_table_add_string(t, "country_code", (const char *const *)code);
    if (!st) st = cs_table_add_real(t, "population", c->population);
    if (!st) st = cs_table_add_real(t, g->ineq_value, value);
    for (size_t k = 0; !st && k < ar->ncols; k++) st = cs_table_add_real(t, ar->names[k], ar->v + k * n);
    int64_t *unr = cs_mallocarray(n ? n : 1, sizeof *unr);
    if (!unr) st = CS_ENOMEM;
    for (size_t i = 0; !st && i < n; i++) unr[i] = ar->unreachable[i];
    if (!st) st = cs_table_add_integer(t, "unreachable_cities", unr, NULL);
    cs_free(unr);
    if (!st) st = cs_table_add_real(t, "size_relative_to_country_largest", hi->rel_size);
    double *sec = cs_mallocarray(n ? n : 1, sizeof *sec);
    if (!sec) st = CS_ENOMEM;
    for (size_t i = 0; !st && i < n; i++) sec[i] = hi->is_secondary[i];
    if (!st) st = cs_table_add_real(t, "is_secondary_city", sec);
    cs_free(sec);
    if (!st) st = cs_table_set_points(t, c->lon, c->lat);
    char *p = cs_asprintf("%s/indicators.csv", dir);
    if (!p) st = CS_ENOMEM;
    if (!st) st = cs_table_write(t, p, CS_FORMAT_CSV, "indicators", 0);
    cs_free(p);
    cs_table_free(t);
    return st;
}

static json_t *ineq_json(const cs_ineq_summary *s)
{
    return json_pack("{s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "units", (json_int_t)s->n, "mean", num(s->mean),
                     "gini", num(s->gini), "gini_sample", num(s->gini_sample), "theil_t_ge1", num(s->theil_t),
                     "theil_l_mld_ge0", num(s->theil_l), "ge2", num(s->ge_alpha), "atkinson_eps1", num(s->atkinson),
                     "cv", num(s->cv), "min_max_ratio", num(s->min > 0 ? s->max / s->min : NAN));
}

static cs_status ind_run(cs_run_ctx *ctx, const char *dir)
{
    ind_cfg g;
    if (parse_ind(ctx->project, ctx->diag, ctx->cities, &g)) return CS_EPARSE;
    const cs_cities *c = ctx->cities;
    size_t n = c->n;
    cs_status st = CS_OK;
    cs_matrix *bt = NULL, *bd = NULL;
    cs_access_result *ar = NULL;
    cs_hierarchy *hi = NULL;
    double *value = cs_mallocarray(n ? n : 1, sizeof *value);
    if (!value) return CS_ENOMEM;
    int have_value = city_numbers(c, g.ineq_value, value);
    if (!have_value)
        for (size_t i = 0; i < n; i++) value[i] = NAN; /* no income column: inequality is not computed */
    st = read_border(ctx->project, g.border_time_path, CS_MATRIX_TIME, &bt);
    if (!st) st = read_border(ctx->project, g.border_dist_path, CS_MATRIX_DISTANCE, &bd);
    /* generalised cost in time-equivalent minutes */
    if (!st) {
        cs_cost_inputs in;
        memset(&in, 0, sizeof in);
        in.time = ctx->time;
        in.distance = ctx->dist;
        in.country = (const char *const *)city_strings(c, g.code_field);
        in.region = (const char *const *)c->region;
        in.border_time_min = bt;
        in.border_dist_m = bd;
        st = cs_cost_build(&in, &g.cost, &ctx->cost);
    }
    /* market access on the generalised cost, population as mass */
    cs_access_opts ao;
    cs_access_opts_default(&ao);
    ao.theta = g.theta;
    ao.ntheta = g.ntheta;
    ao.thresholds = g.thresholds;
    ao.nthresh = g.nthresh;
    ao.c_min = g.c_min;
    if (!st) st = cs_access_compute(ctx->cost, c->population, &ao, &ar);
    if (!st) {
        ctx->access = cs_mallocarray(n ? n : 1, sizeof(double));
        if (!ctx->access) st = CS_ENOMEM;
        size_t hk = 0;
        double best = INFINITY;
        for (size_t k = 0; k < g.ntheta; k++)
            if (fabs(g.theta[k] - g.headline_theta) < best) {
                best = fabs(g.theta[k] - g.headline_theta);
                hk = k;
            }
        if (!st) memcpy(ctx->access, ar->v + hk * n, n * sizeof(double));
    }
    /* gravity flows: population at both ends */
    cs_gravity_opts go;
    ind_gravity_opts(&g, &go);
    cs_gravity_info gi;
    if (!st) st = cs_gravity_predict(ctx->cost, c->population, c->population, &go, &ctx->flows, NULL, NULL, &gi);
    /* hierarchy */
    cs_hierarchy_opts ho;
    cs_hierarchy_opts_default(&ho);
    if (!st) st = cs_hierarchy_compute(c->population, (const char *const *)c->country, n, &ho, &hi);
    /* files */
    char *cp = cs_asprintf("%s/cost.csmat", dir), *fp = cs_asprintf("%s/flows.csmat", dir);
    if (!cp || !fp) st = st ? st : CS_ENOMEM;
    if (!st) st = cs_matrix_write(ctx->cost, cp);
    if (!st) st = cs_matrix_write(ctx->flows, fp);
    if (!st) st = write_indicators(ctx, dir, &g, ar, hi, value);
    /* inequality overall and by group, unweighted and population-weighted */
    json_t *ji = json_object(), *jh = json_object();
    if (!st) {
        cs_ineq_opts io = cs_ineq_opts_default();
        io.omit_undefined = 1;
        double *y = cs_mallocarray(n ? n : 1, sizeof *y), *w = cs_mallocarray(n ? n : 1, sizeof *w);
        const char **lab = cs_mallocarray(n ? n : 1, sizeof *lab);
        size_t m = 0, dropped = 0;
        char **grp = city_strings(c, g.ineq_group);
        for (size_t i = 0; y && w && lab && i < n; i++) {
            if (!(value[i] > 0) || !(c->population[i] > 0)) {
                dropped++;
                continue;
            }
            y[m] = value[i];
            w[m] = c->population[i];
            lab[m] = grp ? grp[i] : "";
            m++;
        }
        if (!y || !w || !lab) st = CS_ENOMEM;
        json_object_set_new(ji, "value", json_string(g.ineq_value));
        if (!have_value) json_object_set_new(ji, "note", json_string("the city table has no such column"));
        json_object_set_new(ji, "cities_used", json_integer((json_int_t)m));
        json_object_set_new(ji, "cities_without_positive_value", json_integer((json_int_t)dropped));
        cs_ineq_summary su, sw;
        if (!st && m >= 2) {
            st = cs_ineq_summarise(y, NULL, m, &io, &su);
            if (!st) st = cs_ineq_summarise(y, w, m, &io, &sw);
            if (!st) {
                json_object_set_new(ji, "unweighted", ineq_json(&su));
                json_object_set_new(ji, "population_weighted", ineq_json(&sw));
                double wil;
                if (!cs_williamson(y, w, m, &wil)) json_object_set_new(ji, "williamson", num(wil));
            }
            uint32_t *gid = NULL;
            char **gnames = NULL;
            size_t ng = 0;
            if (!st && grp) st = cs_groups_from_labels(lab, m, &gid, &gnames, &ng);
            /* inequality.csv: overall and per group, each city once and each person once */
            if (!st) {
                size_t rows = 2 * (1 + ng);
                cs_ineq_summary *gs = cs_calloc(rows, sizeof *gs);
                cs_status *gst = cs_calloc(rows, sizeof *gst);
                if (!gs || !gst) st = CS_ENOMEM;
                if (!st) {
                    gs[0] = su;
                    gs[1] = sw;
                    if (ng) {
                        st = cs_ineq_summarise_groups(y, NULL, m, gid, ng, &io, gs + 2, gst + 2);
                        if (!st) st = cs_ineq_summarise_groups(y, w, m, gid, ng, &io, gs + 2 + ng, gst + 2 + ng);
                    }
                }
                static const char *const inames[9] = {"gini", "gini_sample", "theil_t_ge1", "theil_l_mld_ge0", "ge2",
                                                      "atkinson_eps1", "cv", "cv_sample", "mean"};
                size_t nr = rows * 9;
                const char **cs_scope = cs_calloc(nr, sizeof(char *)), **cs_w = cs_calloc(nr, sizeof(char *)),
                           **cs_idx = cs_calloc(nr, sizeof(char *));
                double *val = cs_mallocarray(nr, sizeof(double)), *units = cs_mallocarray(nr, sizeof(double));
                if (!cs_scope || !cs_w || !cs_idx || !val || !units) st = st ? st : CS_ENOMEM;
                size_t r = 0;
                for (size_t q = 0; !st && q < rows; q++) {
                    int weighted = q == 1 || q >= 2 + ng;
                    const char *scope = q < 2 ? "all" : gnames[(q - 2) % ng];
                    if (q >= 2 && gst[q]) continue; /* a group whose indices cannot be computed (one city) */
                    const cs_ineq_summary *z = &gs[q];
                    double v9[9] = {z->gini, z->gini_sample, z->theil_t, z->theil_l, z->ge_alpha, z->atkinson, z->cv,
                                    z->cv_sample, z->mean};
                    for (int k = 0; k < 9; k++) {
                        cs_scope[r] = scope;
                        cs_w[r] = weighted ? "population" : "unweighted";
                        cs_idx[r] = inames[k];
                        val[r] = v9[k];
                        units[r] = (double)z->n;
                        r++;
                    }
                }
                cs_table *it = NULL;
                if (!st) st = cs_table_new(r, &it);
                if (!st) st = cs_table_add_string(it, "group", cs_scope);
                if (!st) st = cs_table_add_string(it, "weighting", cs_w);
                if (!st) st = cs_table_add_string(it, "index", cs_idx);
                if (!st) st = cs_table_add_real(it, "value", val);
                if (!st) st = cs_table_add_real(it, "cities", units);
                char *ip = cs_asprintf("%s/inequality.csv", dir);
                if (!ip) st = st ? st : CS_ENOMEM;
                if (!st) st = cs_table_write(it, ip, CS_FORMAT_CSV, "inequality", 0);
                cs_free(ip);
                cs_table_free(it);
                cs_free(cs_scope);
                cs_free(cs_w);
                cs_free(cs_idx);
                cs_free(val);
                cs_free(units);
                cs_free(gs);
                cs_free(gst);
            }
            if (!st && grp && ng > 1) {
                cs_ge_decomp *d0 = NULL, *d1 = NULL;
                st = cs_ge_decompose(y, w, m, gid, ng, 0, &d0);
                if (!st) st = cs_ge_decompose(y, w, m, gid, ng, 1, &d1);
                if (!st) {
                    json_object_set_new(ji, "theil_l_between_groups", num(d0->between));
                    json_object_set_new(ji, "theil_l_within_groups", num(d0->within));
                    json_object_set_new(ji, "theil_t_between_groups", num(d1->between));
                    json_object_set_new(ji, "theil_t_within_groups", num(d1->within));
                    json_object_set_new(ji, "group_field", json_string(g.ineq_group));
                }
                cs_ge_decomp_free(d0);
                cs_ge_decomp_free(d1);
            }
            cs_free(gid);
            cs_groups_names_free(gnames, ng);
        }
        cs_free(y);
        cs_free(w);
        cs_free(lab);
    }
    if (!st) {
        const cs_hierarchy_group *a = &hi->groups[0];
        json_object_set_new(jh, "zeta_gabaix_ibragimov", num(a->rank_size.zeta_gi));
        json_object_set_new(jh, "zeta_gabaix_ibragimov_se", num(a->rank_size.zeta_gi_se));
        json_object_set_new(jh, "intercept_gabaix_ibragimov", num(a->rank_size.intercept_gi));
        json_object_set_new(jh, "csn_alpha_density", num(a->powerlaw.alpha));
        json_object_set_new(jh, "csn_zeta", num(a->powerlaw.zeta));
        json_object_set_new(jh, "csn_xmin", num(a->powerlaw.xmin));
        json_object_set_new(jh, "csn_p_value", num(a->powerlaw.p_value));
        json_object_set_new(jh, "primacy_2", num(a->primacy.primacy_2));
        json_object_set_new(jh, "primacy_4", num(a->primacy.primacy_4));
        json_object_set_new(jh, "primacy_11", num(a->primacy.primacy_11));
        json_object_set_new(jh, "herfindahl", num(a->primacy.herfindahl));
        size_t nsec = 0;
        for (size_t i = 0; i < n; i++) nsec += hi->is_secondary[i];
        json_object_set_new(jh, "secondary_cities", json_integer((json_int_t)nsec));
        json_object_set_new(jh, "countries", json_integer((json_int_t)(hi->ngroups - 1)));
    }
    if (!st) {
        size_t G = hi->ngroups;
        const char **gn = cs_mallocarray(G, sizeof *gn);
        double *cols = cs_mallocarray(G * 10, sizeof *cols);
        if (!gn || !cols) st = CS_ENOMEM;
        for (size_t q = 0; !st && q < G; q++) {
            const cs_hierarchy_group *hg = &hi->groups[q];
            gn[q] = hg->name;
            double v[10] = {(double)hg->n, hg->rank_size.zeta_gi, hg->rank_size.zeta_gi_se, hg->powerlaw.alpha,
                            hg->powerlaw.zeta, hg->primacy.primacy_2, hg->primacy.primacy_4, hg->primacy.primacy_11,
                            hg->primacy.primate_share, hg->primacy.herfindahl};
            for (int k = 0; k < 10; k++) cols[(size_t)k * G + q] = v[k];
        }
        static const char *const hn[10] = {"cities", "zeta_gabaix_ibragimov", "zeta_gabaix_ibragimov_se",
                                           "csn_alpha_density", "csn_zeta", "primacy_2", "primacy_4", "primacy_11",
                                           "primate_share", "herfindahl"};
        cs_table *ht = NULL;
        if (!st) st = cs_table_new(G, &ht);
        if (!st) st = cs_table_add_string(ht, "group", gn);
        for (int k = 0; !st && k < 10; k++) st = cs_table_add_real(ht, hn[k], cols + (size_t)k * G);
        char *hp = cs_asprintf("%s/hierarchy.csv", dir);
        if (!hp) st = st ? st : CS_ENOMEM;
        if (!st) st = cs_table_write(ht, hp, CS_FORMAT_CSV, "hierarchy", 0);
        cs_free(hp);
        cs_table_free(ht);
        cs_free(gn);
        cs_free(cols);
    }
    json_t *jind = json_object();
    json_object_set_new(jind, "inequality", ji);
    json_object_set_new(jind, "hierarchy", jh);
    json_object_set_new(jind, "gravity", json_pack("{s:s,s:s,s:f,s:i,s:b}", "model",
                        (const char *[]){"unconstrained", "production-constrained", "attraction-constrained",
                                         "doubly constrained"}[g.gravity_kind],
                        "decay", g.gravity_decay == CS_DECAY_POWER ? "power" : "exponential", "beta", g.gravity_beta,
                        "iterations", gi.iterations, "converged", gi.converged));
    if (!st) {
        char *txt = json_dumps(jind, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        char *jp = cs_asprintf("%s/indicators.json", dir);
        if (!txt || !jp) st = CS_ENOMEM;
        else st = cs_write_file_atomic(jp, txt, strlen(txt));
        free(txt);
        cs_free(jp);
    }
    /* the headline access per city, to reload */
    if (!st) {
        cs_matrix *am;
        st = cs_matrix_new(n, 1, CS_MATRIX_OTHER, &am);
        if (!st) {
            memcpy(am->v, ctx->access, n * sizeof(double));
            char *ap = cs_asprintf("%s/access_headline.csmat", dir);
            st = ap ? cs_matrix_write(am, ap) : CS_ENOMEM;
            cs_free(ap);
            cs_matrix_free(am);
        }
    }
    if (!st) json_object_set(summary(ctx), "indicators", jind);
    json_decref(jind);
    cs_free(cp);
    cs_free(fp);
    cs_free(value);
    cs_matrix_free(bt);
    cs_matrix_free(bd);
    cs_access_result_free(ar);
    cs_hierarchy_free(hi);
    return st;
}

static cs_status ind_load(cs_run_ctx *ctx, const char *dir)
{
    char *cp = cs_asprintf("%s/cost.csmat", dir), *fp = cs_asprintf("%s/flows.csmat", dir),
         *ap = cs_asprintf("%s/access_headline.csmat", dir), *jp = cs_asprintf("%s/indicators.json", dir);
    cs_status st = (!cp || !fp || !ap || !jp) ? CS_ENOMEM : CS_OK;
    cs_matrix *am = NULL;
    if (!st) st = cs_matrix_read(cp, NULL, &ctx->cost);
    if (!st) st = cs_matrix_read(fp, NULL, &ctx->flows);
    if (!st) st = cs_matrix_read(ap, NULL, &am);
    if (!st && am->rows != ctx->cities->n) st = cs_error_set_at(CS_EFORMAT, ap, 0, 0, "stale cache entry");
    if (!st) {
        ctx->access = cs_mallocarray(am->rows ? am->rows : 1, sizeof(double));
        if (!ctx->access) st = CS_ENOMEM;
        else memcpy(ctx->access, am->v, am->rows * sizeof(double));
    }
    if (!st) {
        json_error_t je;
        json_t *j = json_load_file(jp, 0, &je);
        if (!j) st = cs_error_set_at(CS_EFORMAT, jp, je.line, je.column, "%s", je.text);
        else json_object_set_new(summary(ctx), "indicators", j);
    }
    cs_matrix_free(am);
    cs_free(cp);
    cs_free(fp);
    cs_free(ap);
    cs_free(jp);
    if (st) {
        /* nothing half-loaded: the run may compute the step again (an entry this build cannot read) */
        cs_matrix_free(ctx->cost);
        cs_matrix_free(ctx->flows);
        cs_free(ctx->access);
        ctx->cost = ctx->flows = NULL;
        ctx->access = NULL;
    }
    return st;
}

const cs_run_step cs_step_indicators = {"indicators", 2, 1, ind_wanted, ind_hash, ind_run, ind_load};

/* ------------------------------------------------------------ typology */

static const char *const TYP_KEYS[] = {"core_min_population", "commute_share", "max_commute_min", "commute_decay_per_min",
                                       "corridor_min_population", "corridor_max_detour_min", "corridor_max_detour_frac",
                                       "corridor_min_towns", "isolated_min", "secondary_min_share",
                                       "secondary_max_share", "hub_flows", "soft_share", NULL};

static int parse_typ_ss(const cs_project *p, cs_diag *diag, cs_typology_params *tp, int *hub_gravity, double *soft_share)
{
    int errors = 0;
    cs_typology_params_default(tp);
    *hub_gravity = 1;
    *soft_share = 0.5;
    cs_sec s;
    if (cs_sec_open(&s, p, diag, "typology", &errors)) {
        cs_sec_check_keys(&s, TYP_KEYS);
        tp->core_min_population = cs_sec_num(&s, "core_min_population", tp->core_min_population, 0, 1e12);
        tp->commute_share = cs_sec_num(&s, "commute_share", tp->commute_share, 1e-9, 1);
        tp->max_commute_s = 60 * cs_sec_num(&s, "max_commute_min", tp->max_commute_s / 60, 0, 1e6);
        tp->commute_decay_param = cs_sec_num(&s, "commute_decay_per_min", tp->commute_decay_param, 1e-9, 100);
        tp->corridor_min_population = cs_sec_num(&s, "corridor_min_population", tp->corridor_min_population, 0, 1e12);
        tp->corridor_max_detour_s = 60 * cs_sec_num(&s, "corridor_max_detour_min", tp->corridor_max_detour_s / 60, 0, 1e6);
        tp->corridor_max_detour_frac = cs_sec_num(&s, "corridor_max_detour_frac", tp->corridor_max_detour_frac, 0, 10);
        tp->corridor_min_towns = (int)cs_sec_num(&s, "corridor_min_towns", tp->corridor_min_towns, 1, 1e6);
        tp->isolated_time_s = 60 * cs_sec_num(&s, "isolated_min", tp->isolated_time_s / 60, 0, 1e6);
        tp->secondary_min_share = cs_sec_num(&s, "secondary_min_share", tp->secondary_min_share, 0, 1);
        tp->secondary_max_share = cs_sec_num(&s, "secondary_max_share", tp->secondary_max_share, 0, 1);
        static const char *const hf[] = {"simple_gravity", "indicators_gravity", NULL};
        *hub_gravity = cs_sec_enum(&s, "hub_flows", hf, 1);
        *soft_share = cs_sec_num(&s, "soft_share", *soft_share, 0, 1);
    }
    return errors;
}

/* the typology rules alone (soft_share checked, not returned) */
static int parse_typ(const cs_project *p, cs_diag *diag, cs_typology_params *tp, int *hub_gravity)
{
    double ss;
    return parse_typ_ss(p, diag, tp, hub_gravity, &ss);
}

cs_status cs_run_check_typology_section(cs_run_ctx *ctx);
cs_status cs_run_check_typology_section(cs_run_ctx *ctx)
{
    cs_typology_params tp;
    int hg;
    return parse_typ(ctx->project, ctx->diag, &tp, &hg) ? CS_EPARSE : CS_OK;
}

static int typ_wanted(const cs_run_ctx *ctx) { return ctx->time != NULL; }

static cs_status typ_hash(const cs_run_ctx *ctx, cs_sha256 *h) { return cs_project_hash_section(ctx->project, "typology", h); }

static cs_status typ_run(cs_run_ctx *ctx, const char *dir)
{
    cs_typology_params tp;
    int hub_gravity;
    double soft_share;
    if (parse_typ_ss(ctx->project, ctx->diag, &tp, &hub_gravity, &soft_share)) return CS_EPARSE;
    const cs_cities *c = ctx->cities;
    uint32_t *grp = NULL;
    char **gn = NULL;
    size_t ng = 0;
    cs_status st = CS_OK;
    if (c->country) st = cs_groups_from_labels((const char *const *)c->country, c->n, &grp, &gn, &ng);
    cs_typology_input in = {c->n, c->population, grp, (const char *const *)c->id, ctx->time, NULL,
                            hub_gravity ? ctx->flows : NULL};
    /* corridor routes on the network when the matrix came from it */
    cs_route_finder *rf = NULL;
    if (!st && ctx->net && ctx->loc) st = cs_route_finder_new(ctx->net, ctx->loc, c->n, &rf);
    if (!st) st = cs_typology_compute(&in, &tp, rf ? cs_route_finder_fn : NULL, rf, &ctx->typology);
    cs_route_finder_free(rf);
    cs_table *tc = NULL, *tl = NULL, *to = NULL;
    if (!st) st = cs_typology_tables(ctx->typology, c, &tc, &tl, &to);
    char *p = cs_asprintf("%s/typology.csv", dir);
    if (!p) st = st ? st : CS_ENOMEM;
    if (!st) st = cs_table_write(tc, p, CS_FORMAT_CSV, "typology", 0);
    if (!st) {
        const cs_typology *t = ctx->typology;
        size_t nh = 0, ns = 0, ni = 0, nl = 0;
        for (size_t i = 0; i < c->n; i++) {
            nh += t->is_hub[i] && t->hinterland_population[i] > c->population[i];
            ns += t->is_secondary[i];
            ni += t->is_isolated[i];
        }
        for (uint32_t k = 0; k < t->n_corridors; k++) nl += t->corridors[k].merged_into == CS_INVALID_ID;
        json_object_set_new(summary(ctx), "typology",
                            json_pack("{s:i,s:i,s:i,s:i,s:i,s:s}", "metropolitan_clusters", (json_int_t)t->n_clusters,
                                      "corridors", (json_int_t)nl, "regional_hubs_with_hinterland", (json_int_t)nh,
                                      "secondary_cities", (json_int_t)ns, "isolated_towns", (json_int_t)ni,
                                      "hub_flow_model", hub_gravity ? "indicators gravity flows" : "unconstrained gravity"));
    }
    /* centralities on the adjacency graph of cities: travel time as length, gravity flow as strength */
    if (!st) {
        const cs_typology *t = ctx->typology;
        size_t m = t->n_adjacent, n = c->n;
        double *len = cs_mallocarray(m ? m : 1, sizeof *len), *wt = cs_mallocarray(m ? m : 1, sizeof *wt);
        if (!len || !wt) st = CS_ENOMEM;
        for (size_t e = 0; !st && e < m; e++) {
            uint32_t i = t->adj_i[e], j = t->adj_j[e];
            double tij = ctx->time->v[i * n + j], tji = ctx->time->v[j * n + i];
            len[e] = fmax(1.0, 0.5 * (tij + tji));
            wt[e] = ctx->flows ? ctx->flows->v[i * n + j] + ctx->flows->v[j * n + i] : 1.0;
            if (!(wt[e] >= 0) || !isfinite(wt[e])) wt[e] = 0;
        }
        /* hard links: the adjacency graph plus the project's rail, air and water links (their time as
           length, the gravity flow between their cities as strength); soft links: mode "soft" (one hop as
           length, a `weight` column as strength when present, else 1) */
        size_t mh = m, ms = 0, cap = m;
        for (size_t k = 0; k < ctx->nlinks; k++) cap += ctx->links[k]->n;
        uint32_t *hi = cs_mallocarray(cap ? cap : 1, sizeof *hi), *hj = cs_mallocarray(cap ? cap : 1, sizeof *hj);
        uint32_t *si = cs_mallocarray(cap ? cap : 1, sizeof *si), *sj = cs_mallocarray(cap ? cap : 1, sizeof *sj);
        double *hl = cs_mallocarray(cap ? cap : 1, sizeof *hl), *hw = cs_mallocarray(cap ? cap : 1, sizeof *hw);
        double *sw = cs_mallocarray(cap ? cap : 1, sizeof *sw);
        if (!hi || !hj || !si || !sj || !hl || !hw || !sw) st = st ? st : CS_ENOMEM;
        size_t n_hard_links = 0;
        if (!st) {
            memcpy(hi, t->adj_i, m * sizeof *hi);
            memcpy(hj, t->adj_j, m * sizeof *hj);
            memcpy(hl, len, m * sizeof *hl);
            memcpy(hw, wt, m * sizeof *hw);
            for (size_t k = 0; k < ctx->nlinks; k++) {
                const cs_links *L = ctx->links[k];
                char **wcol = NULL;
                for (size_t x = 0; x < L->extra.ncols; x++)
                    if (!strcmp(L->extra.names[x], "weight")) wcol = L->extra.values[x];
                for (size_t q = 0; q < L->n; q++) {
                    uint32_t a = L->from[q], b = L->to[q];
                    if (a >= n || b >= n || a == b) continue;
                    if (L->mode[q] == CS_MODE_SOFT) {
                        double wv = 1;
                        if (wcol) {
                            char *e;
                            wv = strtod(wcol[q], &e);
                            if (e == wcol[q] || *e || !(wv >= 0) || !isfinite(wv)) wv = 1;
                        }
                        si[ms] = a;
                        sj[ms] = b;
                        sw[ms++] = wv;
                    } else if (L->mode[q] == CS_MODE_RAIL || L->mode[q] == CS_MODE_AIR || L->mode[q] == CS_MODE_WATER ||
                               L->mode[q] == CS_MODE_ROAD) {
                        double lt = L->time_s ? L->time_s[q] : NAN;
                        if (!(lt > 0) || !isfinite(lt)) continue; /* no usable time: not a path length */
                        double fw = ctx->flows ? ctx->flows->v[(size_t)a * n + b] + ctx->flows->v[(size_t)b * n + a] : 1.0;
                        hi[mh] = a;
                        hj[mh] = b;
                        hl[mh] = lt;
                        hw[mh++] = (fw >= 0 && isfinite(fw)) ? fw : 0;
                        n_hard_links++;
                    }
                }
            }
        }
        cs_edge_list hard = {mh, hi, hj, hl, hw};
        cs_edge_list soft = {ms, si, sj, NULL, sw};
        cs_centrality_opts copt;
        cs_centrality_opts_default(&copt);
        copt.soft_share = soft_share;
        cs_centrality *ce = NULL;
        if (!st) st = cs_centrality_compute_opts(n, &hard, ms ? &soft : NULL, &copt, &ce);
        cs_table *ct = NULL;
        int64_t *com = cs_mallocarray(n ? n : 1, sizeof *com);
        if (!st && !com) st = CS_ENOMEM;
        for (size_t i = 0; !st && i < n; i++) com[i] = ce->community[i] + 1;
        if (!st) st = cs_table_new(n, &ct);
        if (!st) st = cs_table_add_string(ct, "id", (const char *const *)c->id);
        if (!st) st = cs_table_add_string(ct, "name", (const char *const *)c->name);
        if (!st) st = cs_table_add_real(ct, "closeness", ce->closeness);
        if (!st) st = cs_table_add_real(ct, "harmonic", ce->harmonic);
        if (!st) st = cs_table_add_real(ct, "betweenness", ce->betweenness);
        if (!st) st = cs_table_add_real(ct, "eigenvector", ce->eigenvector);
        if (!st) st = cs_table_add_integer(ct, "community", com, NULL);
        if (!st && ce->soft_strength) st = cs_table_add_real(ct, "soft_strength", ce->soft_strength);
        if (!st && ce->soft_harmonic) st = cs_table_add_real(ct, "soft_harmonic", ce->soft_harmonic);
        if (!st && ce->soft_eigenvector) st = cs_table_add_real(ct, "soft_eigenvector", ce->soft_eigenvector);
        if (!st && ce->combined_strength) st = cs_table_add_real(ct, "combined_strength", ce->combined_strength);
        if (!st && ce->combined_eigenvector) st = cs_table_add_real(ct, "combined_eigenvector", ce->combined_eigenvector);
        if (!st) st = cs_table_set_points(ct, c->lon, c->lat);
        char *cp = cs_asprintf("%s/centrality.csv", dir);
        if (!cp) st = st ? st : CS_ENOMEM;
        if (!st) st = cs_table_write(ct, cp, CS_FORMAT_CSV, "centrality", 0);
        if (!st)
            json_object_set_new(summary(ctx), "centrality",
                                json_pack("{s:i,s:i,s:i,s:i,s:o,s:f}", "adjacent_pairs", (json_int_t)m,
                                          "hard_links_from_tables", (json_int_t)n_hard_links, "soft_links",
                                          (json_int_t)ms, "communities", (json_int_t)ce->n_communities,
                                          "modularity", num(ce->modularity), "soft_share", soft_share));
        cs_free(cp);
        cs_free(com);
        cs_table_free(ct);
        cs_centrality_free(ce);
        cs_free(len);
        cs_free(wt);
        cs_free(hi); cs_free(hj); cs_free(si); cs_free(sj); cs_free(hl); cs_free(hw); cs_free(sw);
    }
    cs_free(p);
    cs_table_free(tc);
    cs_table_free(tl);
    cs_table_free(to);
    cs_free(grp);
    cs_groups_names_free(gn, ng);
    return st;
}

const cs_run_step cs_step_typology = {"typology", 2, 0, typ_wanted, typ_hash, typ_run, NULL};

/* ------------------------------------------------------------ flows: load and criticality */

enum { RD_COLS = 9 }; /* flow_fwd, flow_bwd, pairs_fwd, pairs_bwd, crit_rank, delta_cost_s, cut_flow, cut_population, worst_detour_s */

static int flows_wanted(const cs_run_ctx *ctx) { return ctx->router != NULL && ctx->flows != NULL; }

static cs_status flows_hash(const cs_run_ctx *ctx, cs_sha256 *h) { return cs_project_hash_section(ctx->project, "flows", h); }

static cs_status roads_table(cs_run_ctx *ctx, const double *rd, const char *dir, cs_table **keep)
{
    const cs_network *net = ctx->net;
    uint32_t m = net->n_segs;
    cs_table *t = NULL;
    cs_status st = cs_table_new(m, &t);
    int64_t *sid = cs_mallocarray(m ? m : 1, sizeof *sid);
    double *col = cs_mallocarray((size_t)(m ? m : 1) * (RD_COLS + 3), sizeof *col);
    size_t *off = cs_mallocarray((size_t)m + 1, sizeof *off);
    if (!sid || !col || !off) st = CS_ENOMEM;
    for (uint32_t s = 0; !st && s < m; s++) {
        sid[s] = s;
        col[(size_t)RD_COLS * m + s] = net->seg_len_cm[s] / 100.0;
        col[(size_t)(RD_COLS + 1) * m + s] = net->seg_fwd_ms[s] == CS_NO_TIME ? NAN : net->seg_fwd_ms[s] / 1000.0;
        col[(size_t)(RD_COLS + 2) * m + s] = net->seg_bwd_ms[s] == CS_NO_TIME ? NAN : net->seg_bwd_ms[s] / 1000.0;
        for (int k = 0; k < RD_COLS; k++) col[(size_t)k * m + s] = rd[(size_t)s * RD_COLS + k];
    }
    static const char *const names[RD_COLS] = {"flow_forward", "flow_backward", "pairs_forward", "pairs_backward",
                                               "criticality_rank", "closure_cost_flow_s", "closure_cut_flow",
                                               "closure_cut_population", "closure_worst_detour_s"};
    if (!st) st = cs_table_add_integer(t, "segment", sid, NULL);
    if (!st && net->seg_ext_id) st = cs_table_add_string(t, "edge_id", (const char *const *)net->seg_ext_id);
    if (!st) st = cs_table_add_real(t, "length_m", col + (size_t)RD_COLS * m);
    if (!st) st = cs_table_add_real(t, "time_forward_s", col + (size_t)(RD_COLS + 1) * m);
    if (!st) st = cs_table_add_real(t, "time_backward_s", col + (size_t)(RD_COLS + 2) * m);
    for (int k = 0; !st && k < RD_COLS; k++) st = cs_table_add_real(t, names[k], col + (size_t)k * m);
    for (uint32_t s = 0; !st && s <= m; s++) off[s] = net->geom_off[s];
    if (!st) st = cs_table_set_lines(t, off, net->geom_lon_deg, net->geom_lat_deg);
    char *p = cs_asprintf("%s/roads.csv", dir);
    if (!p) st = st ? st : CS_ENOMEM;
    if (!st) st = cs_table_write(t, p, CS_FORMAT_CSV, "roads", 0);
    cs_free(p);
    cs_free(sid);
    cs_free(col);
    cs_free(off);
    if (!st && keep) *keep = t;
    else cs_table_free(t);
    return st;
}

/* intermediacy per city: intermediacy.csv, and the cache matrix (n x 2: through flow, through pairs) */
static cs_status intermediacy_outputs(cs_run_ctx *ctx, const char *dir)
{
    const cs_cities *c = ctx->cities;
    size_t n = c->n;
    const cs_load *L = ctx->load;
    double *share = cs_mallocarray(n ? n : 1, sizeof *share);
    if (!share) return CS_ENOMEM;
    for (size_t i = 0; i < n; i++) share[i] = L->total_flow > 0 ? L->through_flow[i] / L->total_flow : NAN;
    cs_table *t = NULL;
    cs_status st = cs_table_new(n, &t);
    if (!st) st = cs_table_add_string(t, "id", (const char *const *)c->id);
    if (!st) st = cs_table_add_string(t, "name", (const char *const *)c->name);
    if (!st) st = cs_table_add_real(t, "intermediacy_flow", L->through_flow);
    if (!st) st = cs_table_add_real(t, "intermediacy_pairs", L->through_pairs);
    if (!st) st = cs_table_add_real(t, "intermediacy_share", share);
    if (!st) st = cs_table_set_points(t, c->lon, c->lat);
    char *p = cs_asprintf("%s/intermediacy.csv", dir), *mp = cs_asprintf("%s/intermediacy.csmat", dir);
    if (!p || !mp) st = st ? st : CS_ENOMEM;
    if (!st) st = cs_table_write(t, p, CS_FORMAT_CSV, "intermediacy", 0);
    cs_matrix *m = NULL;
    if (!st) st = cs_matrix_new(n, 2, CS_MATRIX_OTHER, &m);
    if (!st) {
        for (size_t i = 0; i < n; i++) {
            m->v[2 * i] = L->through_flow[i];
            m->v[2 * i + 1] = L->through_pairs[i];
        }
        st = cs_matrix_write(m, mp);
    }
    cs_matrix_free(m);
    cs_table_free(t);
    cs_free(p);
    cs_free(mp);
    cs_free(share);
    return st;
}

/* structure.gpkg: every structure layer for QGIS — cities (typology labels + intermediacy), clusters (hulls),
   corridors (route lines), roads (load and criticality) */
static cs_status structure_gpkg(cs_run_ctx *ctx, cs_table *roads, const char *dir)
{
    const cs_cities *c = ctx->cities;
    cs_table *tc = NULL, *tl = NULL, *to = NULL;
    cs_status st = CS_OK;
    if (ctx->typology) st = cs_typology_tables(ctx->typology, c, &tc, &tl, &to);
    else {
        st = cs_table_new(c->n, &tc);
        if (!st) st = cs_table_add_string(tc, "id", (const char *const *)c->id);
        if (!st) st = cs_table_add_string(tc, "name", (const char *const *)c->name);
        if (!st) st = cs_table_set_points(tc, c->lon, c->lat);
    }
    if (!st) st = cs_table_add_real(tc, "intermediacy_flow", ctx->load->through_flow);
    if (!st) st = cs_table_add_real(tc, "intermediacy_pairs", ctx->load->through_pairs);
    char *p = cs_asprintf("%s/structure.gpkg", dir);
    cs_gpkg_writer *w = NULL;
    if (!p) st = st ? st : CS_ENOMEM;
    if (!st) st = cs_gpkg_begin(p, &w);
    if (!st) st = cs_gpkg_add(w, tc, "cities");
    if (!st && tl) st = cs_gpkg_add(w, tl, "clusters");
    if (!st && to) st = cs_gpkg_add(w, to, "corridors");
    if (!st && roads) st = cs_gpkg_add(w, roads, "roads");
    if (w) {
        if (!st) st = cs_gpkg_commit(w);
        else cs_gpkg_abort(w);
    }
    cs_free(p);
    cs_table_free(tc);
    cs_table_free(tl);
    cs_table_free(to);
    return st;
}

/* segments by decreasing load (both directions), then id */
static _Thread_local const cs_load *g_rank_load;
static int cmp_by_load(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    double fx = g_rank_load->flow_fwd[x] + g_rank_load->flow_bwd[x], fy = g_rank_load->flow_fwd[y] + g_rank_load->flow_bwd[y];
    if (fx != fy) return fx > fy ? -1 : 1;
    return x < y ? -1 : x > y;
}

static cs_status flows_run(cs_run_ctx *ctx, const char *dir)
{
    ind_cfg g;
    if (parse_ind(ctx->project, ctx->diag, ctx->cities, &g)) return CS_EPARSE;
    const cs_cities *c = ctx->cities;
    size_t n = c->n;
    cs_load_opts lo;
    cs_load_opts_default(&lo);
    lo.progress = ctx->progress;
    cs_status st = cs_load_compute(ctx->net, ctx->loc, n, ctx->flows, &lo, &ctx->load);
    if (!st && g.crit_enabled) {
        cs_criticality_opts co;
        cs_criticality_opts_default(&co);
        co.min_flow = g.crit_min_share * ctx->load->total_flow;
        co.progress = ctx->progress;
        if (g.crit_max_segments > 0) {
            /* the M most loaded segments above the threshold (ties by segment id), on the overlay of terminals */
            uint32_t ns = ctx->net->n_segs;
            uint32_t *ids = cs_mallocarray(ns ? ns : 1, sizeof *ids);
            if (!ids) st = CS_ENOMEM;
            size_t k = 0;
            for (uint32_t s = 0; ids && s < ns; s++)
                if (ctx->load->flow_fwd[s] + ctx->load->flow_bwd[s] > co.min_flow) ids[k++] = s;
            g_rank_load = ctx->load;
            if (ids) qsort(ids, k, sizeof *ids, cmp_by_load);
            if (k > (size_t)g.crit_max_segments) k = (size_t)g.crit_max_segments;
            if (!st)
                st = cs_criticality_segments(ctx->router, ctx->net, ctx->load, ctx->loc, n, ctx->flows, ctx->time,
                                             c->population, ids, k, &co, &ctx->crit);
            cs_free(ids);
        } else
            st = cs_criticality_compute(ctx->router, ctx->net, ctx->load, ctx->loc, n, ctx->flows, ctx->time,
                                        c->population, &co, &ctx->crit);
    }
    uint32_t m = ctx->net->n_segs;
    cs_matrix *rm = NULL;
    if (!st) st = cs_matrix_new(m, RD_COLS, CS_MATRIX_OTHER, &rm);
    if (!st) {
        for (uint32_t s = 0; s < m; s++) {
            double *r = rm->v + (size_t)s * RD_COLS;
            r[0] = ctx->load->flow_fwd[s];
            r[1] = ctx->load->flow_bwd[s];
            r[2] = ctx->load->pairs_fwd[s];
            r[3] = ctx->load->pairs_bwd[s];
            for (int k = 4; k < RD_COLS; k++) r[k] = NAN;
        }
        for (size_t q = 0; ctx->crit && q < ctx->crit->n; q++) {
            double *r = rm->v + (size_t)ctx->crit->seg[q] * RD_COLS;
            const cs_closure_impact *im = &ctx->crit->impact[q];
            r[4] = (double)q + 1;
            r[5] = im->delta_cost_s;
            r[6] = im->cut_flow;
            r[7] = im->cut_population;
            r[8] = im->worst_o == CS_INVALID_ID ? 0 : im->worst_detour_s;
        }
        char *p = cs_asprintf("%s/roads.csmat", dir);
        st = p ? cs_matrix_write(rm, p) : CS_ENOMEM;
        cs_free(p);
    }
    cs_table *rt = NULL;
    if (!st) st = roads_table(ctx, rm->v, dir, &rt);
    if (!st) st = intermediacy_outputs(ctx, dir);
    if (!st) st = structure_gpkg(ctx, rt, dir);
    cs_table_free(rt);
    if (!st) {
        json_t *jf = json_pack("{s:o,s:o,s:o,s:i,s:i}", "total_flow", num(ctx->load->total_flow),
                               "flow_weighted_hours", num(ctx->load->total_flow_time_s / 3600),
                               "unreachable_flow", num(ctx->load->unreachable_flow), "unreachable_pairs",
                               (json_int_t)ctx->load->unreachable_pairs, "segments_evaluated_for_criticality",
                               (json_int_t)(ctx->crit ? ctx->crit->n : 0));
        /* the five cities with the largest intermediacy */
        json_t *top = json_array();
        uint8_t *taken = cs_calloc(n ? n : 1, 1);
        for (int k = 0; taken && k < 5; k++) {
            size_t best = SIZE_MAX;
            for (size_t i = 0; i < n; i++)
                if (!taken[i] && ctx->load->through_flow[i] > 0 &&
                    (best == SIZE_MAX || ctx->load->through_flow[i] > ctx->load->through_flow[best]))
                    best = i;
            if (best == SIZE_MAX) break;
            taken[best] = 1;
            json_array_append_new(top, json_pack("{s:s,s:s,s:o,s:o}", "id", c->id[best], "name", c->name[best],
                                                 "intermediacy_flow", num(ctx->load->through_flow[best]),
                                                 "intermediacy_share",
                                                 num(ctx->load->total_flow > 0 ? ctx->load->through_flow[best] /
                                                                                    ctx->load->total_flow
                                                                              : NAN)));
        }
        cs_free(taken);
        json_object_set_new(jf, "top_intermediacy", top);
        char *txt = json_dumps(jf, JSON_INDENT(2) | JSON_SORT_KEYS);
        char *jp = cs_asprintf("%s/flows.json", dir);
        st = (!txt || !jp) ? CS_ENOMEM : cs_write_file_atomic(jp, txt, strlen(txt));
        free(txt);
        cs_free(jp);
        json_object_set_new(summary(ctx), "flows", jf);
    }
    cs_matrix_free(rm);
    return st;
}

static cs_status flows_load(cs_run_ctx *ctx, const char *dir)
{
    char *p = cs_asprintf("%s/roads.csmat", dir);
    if (!p) return CS_ENOMEM;
    cs_matrix *rm = NULL;
    cs_status st = cs_matrix_read(p, NULL, &rm);
    cs_free(p);
    uint32_t m = ctx->net->n_segs;
    if (!st && (rm->rows != m || rm->cols != RD_COLS)) st = cs_error_set(CS_EFORMAT, "stale roads cache entry");
    cs_load *L = NULL;
    if (!st) {
        L = cs_calloc(1, sizeof *L);
        if (L) {
            L->n_segs = m;
            L->flow_fwd = cs_mallocarray(m ? m : 1, sizeof(double));
            L->flow_bwd = cs_mallocarray(m ? m : 1, sizeof(double));
            L->pairs_fwd = cs_mallocarray(m ? m : 1, sizeof(double));
            L->pairs_bwd = cs_mallocarray(m ? m : 1, sizeof(double));
            L->use_off = cs_calloc((size_t)m + 1, sizeof *L->use_off);
            L->use_origin = cs_malloc(sizeof(uint32_t));
        }
        if (!L || !L->flow_fwd || !L->flow_bwd || !L->pairs_fwd || !L->pairs_bwd || !L->use_off || !L->use_origin) {
            cs_load_free(L);
            L = NULL;
            st = CS_ENOMEM;
        }
    }
    if (!st) {
        for (uint32_t s = 0; s < m; s++) {
            const double *r = rm->v + (size_t)s * RD_COLS;
            L->flow_fwd[s] = r[0];
            L->flow_bwd[s] = r[1];
            L->pairs_fwd[s] = r[2];
            L->pairs_bwd[s] = r[3];
            L->total_flow += 0;
        }
        ctx->load = L;
        /* intermediacy */
        char *ip = cs_asprintf("%s/intermediacy.csmat", dir);
        cs_matrix *im = NULL;
        st = ip ? cs_matrix_read(ip, NULL, &im) : CS_ENOMEM;
        size_t nc0 = ctx->cities->n;
        if (!st && (im->rows != nc0 || im->cols != 2)) st = cs_error_set(CS_EFORMAT, "stale intermediacy cache entry");
        if (!st) {
            L->n_cities = nc0;
            L->through_flow = cs_mallocarray(nc0 ? nc0 : 1, sizeof(double));
            L->through_pairs = cs_mallocarray(nc0 ? nc0 : 1, sizeof(double));
            if (!L->through_flow || !L->through_pairs) st = CS_ENOMEM;
            for (size_t i = 0; !st && i < nc0; i++) {
                L->through_flow[i] = im->v[2 * i];
                L->through_pairs[i] = im->v[2 * i + 1];
            }
        }
        cs_matrix_free(im);
        cs_free(ip);
    }
    if (!st) {
        /* criticality, ranked as stored */
        size_t nc = 0;
        for (uint32_t s = 0; s < m; s++) nc += isfinite(rm->v[(size_t)s * RD_COLS + 4]);
        cs_criticality *cr = cs_calloc(1, sizeof *cr);
        if (cr) {
            cr->seg = cs_mallocarray(nc ? nc : 1, sizeof *cr->seg);
            cr->impact = cs_calloc(nc ? nc : 1, sizeof *cr->impact);
        }
        if (!cr || !cr->seg || !cr->impact) {
            cs_criticality_free(cr);
            st = CS_ENOMEM;
        } else {
            cr->n = nc;
            for (uint32_t s = 0; s < m; s++) {
                const double *r = rm->v + (size_t)s * RD_COLS;
                if (!isfinite(r[4])) continue;
                size_t q = (size_t)r[4] - 1;
                if (q >= nc) continue;
                cr->seg[q] = s;
                cr->impact[q].delta_cost_s = r[5];
                cr->impact[q].cut_flow = r[6];
                cr->impact[q].cut_population = r[7];
                cr->impact[q].worst_detour_s = r[8];
                cr->impact[q].worst_o = cr->impact[q].worst_d = CS_INVALID_ID;
            }
            ctx->crit = cr;
        }
    }
    if (!st) {
        char *jp = cs_asprintf("%s/flows.json", dir);
        json_error_t je;
        json_t *j = jp ? json_load_file(jp, 0, &je) : NULL;
        if (!j) st = jp ? cs_error_set_at(CS_EFORMAT, jp, je.line, je.column, "%s", je.text) : CS_ENOMEM;
        else json_object_set_new(summary(ctx), "flows", j);
        cs_free(jp);
    }
    cs_matrix_free(rm);
    if (st) {
        /* nothing half-loaded: the run may compute the step again (an entry this build cannot read) */
        cs_load_free(ctx->load);
        cs_criticality_free(ctx->crit);
        ctx->load = NULL;
        ctx->crit = NULL;
    }
    return st;
}

const cs_run_step cs_step_flows = {"flows", 2, 1, flows_wanted, flows_hash, flows_run, flows_load};

/*
 * steps_plan_portfolio.c: the "portfolio" step of the main job and of `citysys plan portfolio` — choose
 * the candidate projects of the project's `portfolio` section (one candidate = one change of a scenario
 * file) under budgets and inequality aversions with the spatial equilibrium model, appraise them, trace
 * the efficiency–equity frontier and test the choice by seeded draws of the parameters and unit costs.
 * Schema: docs/project-file.md ("portfolio"); method and formulas: docs/portfolio.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "citysys/alloc.h"
#include "citysys/appraisal.h"
#include "citysys/chart.h"
#include "citysys/network.h"
#include "citysys/portfolio.h"
#include "citysys/report.h"
#include "citysys/routing.h"
#include "citysys/table.h"
#include "report/run_steps.h"
#include "report/section.h"
#include "report/steps_portfolio_model.h"

#define PF_MAX_LIST 16

static const char *const PF_KEYS[] = {"candidates_path", "budgets", "budget_by_year", "epsilons", "outcome",
                                      "region_field", "region_weights", "min_region_share", "theil_must_not_rise",
                                      "method", "screen", "discount_rate", "horizon_years", "mobility_field",
                                      "country_code_field", "theta", "alpha", "beta", "model_tolerance", "sensitivity", NULL};
static const char *const SENS_KEYS[] = {"draws", "seed", "pool", "screen", "theta", "alpha", "beta", "cost_elasticity",
                                        "unit_cost", NULL};
static const char *const CAND_KEYS[] = {"type", "name", "edges", "time_factor", "proposed", "speed_kmh", "cities",
                                        "factor", "capital_cost", "annual_cost", "lifetime_years",
                                        "construction_years", "countries", "regions", "friction_factor",
                                        "productivity_factor", "mode", "from", "to", "from_node", "to_node",
                                        "time_min", "length_km", "transfer_min", "city", "radius_min", NULL};

typedef struct pf_cfg {
    const char *cand_path;
    json_t *cand;          /* owned: the candidates file */
    const json_t *changes; /* borrowed from cand */
    double budgets[PF_MAX_LIST], eps[PF_MAX_LIST], by_year[64];
    size_t nb, ne, nby;
    int long_run;
    const char *region_field, *mobility_field, *code_field;
    const json_t *region_weights;
    double min_share;
    int theil;
    int method;
    size_t screen, sens_screen;
    double rate, tol;
    int horizon;
    double theta, alpha, beta;
    size_t draws, pool;
    uint64_t seed;
    double r_theta[2], r_alpha[2], r_beta[2], r_delta[2], r_cost[2];
} pf_cfg;

static char **city_col(const cs_cities *c, const char *name)
{
    if (!c || !name) return NULL;
    if (!strcmp(name, "country")) return c->country;
    if (!strcmp(name, "region")) return c->region;
    if (!strcmp(name, "id")) return c->id;
    for (size_t k = 0; k < c->extra.ncols; k++)
        if (!strcmp(c->extra.names[k], name)) return c->extra.values[k];
    return NULL;
}

static uint32_t seg_by_ext(const cs_network *net, const char *id)
{
    if (!net || !net->seg_ext_id) return CS_INVALID_ID;
    for (uint32_t s = 0; s < net->n_segs; s++)
        if (net->seg_ext_id[s] && !strcmp(net->seg_ext_id[s], id)) return s;
    return CS_INVALID_ID;
}

static uint32_t proposed_by_ext(const cs_network *net, const char *id)
{
    for (uint32_t k = 0; net && k < net->proposed.n; k++)
        if (net->proposed.ext_id && net->proposed.ext_id[k] && !strcmp(net->proposed.ext_id[k], id)) return k;
    return CS_INVALID_ID;
}

static void range2(const cs_sec *s, const char *key, double *r, double lo, double hi)
{
    int present = 0;
    double v[2] = {r[0], r[1]};
    size_t n = cs_sec_nums(s, key, v, 2, lo, hi, &present);
    if (!present) return;
    if (n != 2 || !(v[0] <= v[1])) {
        cs_sec_error(s, key, "expected [low, high] with low <= high");
        return;
    }
    r[0] = v[0];
    r[1] = v[1];
}

static void pf_free(pf_cfg *g)
{
    json_decref(g->cand);
    g->cand = NULL;
}

/* Parse and validate (ids against ctx->net / cities when known). Returns the number of errors. */
static int parse_pf(const cs_run_ctx *ctx, cs_diag *diag, pf_cfg *g)
{
    int errors = 0;
    memset(g, 0, sizeof *g);
    cs_sec s;
    if (!cs_sec_open(&s, ctx->project, diag, "portfolio", &errors)) return errors;
    cs_sec_check_keys(&s, PF_KEYS);
    /* model parameters default to the scenarios section's, so that both steps use one model */
    const json_t *sc = cs_project_section(ctx->project, "scenarios");
    const json_t *v;
    g->theta = json_is_number(v = json_object_get(sc, "theta")) ? json_number_value(v) : 8;
    g->alpha = json_is_number(v = json_object_get(sc, "alpha")) ? json_number_value(v) : 0.1;
    g->beta = json_is_number(v = json_object_get(sc, "beta")) ? json_number_value(v) : -0.3;
    g->mobility_field = json_is_string(v = json_object_get(sc, "mobility_field")) ? json_string_value(v) : "country";
    g->code_field = json_is_string(v = json_object_get(sc, "country_code_field")) ? json_string_value(v) : "country";
    g->theta = cs_sec_num(&s, "theta", g->theta, 0.1, 50);
    g->alpha = cs_sec_num(&s, "alpha", g->alpha, -1, 1);
    g->beta = cs_sec_num(&s, "beta", g->beta, -5, 1);
    g->mobility_field = cs_sec_str(&s, "mobility_field", g->mobility_field);
    g->code_field = cs_sec_str(&s, "country_code_field", g->code_field);
    g->region_field = cs_sec_str(&s, "region_field", "country");
    static const char *const oc[] = {"real_income", "welfare", NULL};
    g->long_run = cs_sec_enum(&s, "outcome", oc, 1);
    static const char *const me[] = {"greedy", "exhaustive", "auto", NULL};
    g->method = cs_sec_enum(&s, "method", me, 2);
    g->screen = (size_t)cs_sec_num(&s, "screen", 4, 0, 1e6);
    g->tol = cs_sec_num(&s, "model_tolerance", 1e-8, 1e-14, 1e-4);
    g->rate = cs_sec_num(&s, "discount_rate", CS_DEFAULT_DISCOUNT_RATE, 0, 1);
    g->horizon = (int)cs_sec_num(&s, "horizon_years", 0, 0, 200);
    g->min_share = cs_sec_num(&s, "min_region_share", 0, 0, 1);
    g->theil = cs_sec_bool(&s, "theil_must_not_rise", 0);
    int present = 0;
    g->nb = cs_sec_nums(&s, "budgets", g->budgets, PF_MAX_LIST, 0, 1e18, &present);
    if (!present || !g->nb) cs_sec_error(&s, "budgets", "expected a list of 1 to %d total capital budgets (money)", PF_MAX_LIST);
    g->ne = cs_sec_nums(&s, "epsilons", g->eps, PF_MAX_LIST, 0, 50, &present);
    if (!present) {
        g->eps[0] = 0;
        g->ne = 1;
    } else if (!g->ne) {
        cs_sec_error(&s, "epsilons", "expected a list of 1 to %d inequality aversions >= 0", PF_MAX_LIST);
    }
    g->nby = cs_sec_nums(&s, "budget_by_year", g->by_year, 64, 0, 1e18, &present);
    g->region_weights = json_object_get(s.obj, "region_weights");
    if (g->region_weights && !json_is_object(g->region_weights)) {
        cs_sec_error(&s, "region_weights", "expected an object {region: weight > 0}");
        g->region_weights = NULL;
    }
    const char *kw;
    const json_t *wv;
    json_object_foreach((json_t *)g->region_weights, kw, wv)
    {
        char kp[160];
        snprintf(kp, sizeof kp, "region_weights.%s", kw);
        if (!json_is_number(wv) || !(json_number_value(wv) > 0)) cs_sec_error(&s, kp, "expected a weight > 0");
    }
    /* sensitivity: defaults and their sources in docs/portfolio.md */
    g->draws = 200;
    g->pool = 20;
    g->sens_screen = 2;
    g->seed = 1;
    g->r_theta[0] = 4;
    g->r_theta[1] = 12;
    g->r_alpha[0] = 0.03;
    g->r_alpha[1] = 0.10;
    g->r_beta[0] = -0.4;
    g->r_beta[1] = -0.2;
    g->r_delta[0] = 0.7;
    g->r_delta[1] = 1.3;
    g->r_cost[0] = 0.8;
    g->r_cost[1] = 1.5;
    cs_sec ss;
    if (cs_sec_child(&s, "sensitivity", &ss)) {
        cs_sec_check_keys(&ss, SENS_KEYS);
        g->draws = (size_t)cs_sec_num(&ss, "draws", 200, 0, 100000);
        g->pool = (size_t)cs_sec_num(&ss, "pool", 20, 1, 60);
        g->sens_screen = (size_t)cs_sec_num(&ss, "screen", 2, 0, 1e6);
        g->seed = (uint64_t)cs_sec_num(&ss, "seed", 1, 0, 9007199254740992.0);
        range2(&ss, "theta", g->r_theta, 0.1, 50);
        range2(&ss, "alpha", g->r_alpha, -1, 1);
        range2(&ss, "beta", g->r_beta, -5, 1);
        range2(&ss, "cost_elasticity", g->r_delta, 0.01, 100);
        range2(&ss, "unit_cost", g->r_cost, 0.01, 100);
    }
    const cs_cities *c = ctx->cities;
    if (c && !city_col(c, g->region_field)) cs_sec_error(&s, "region_field", "the city table has no column '%s'", g->region_field);
    if (c && !city_col(c, g->mobility_field)) cs_sec_error(&s, "mobility_field", "the city table has no column '%s'", g->mobility_field);
    if (c && !city_col(c, g->code_field)) cs_sec_error(&s, "country_code_field", "the city table has no column '%s'", g->code_field);
    if (c && !c->gdp_per_head) cs_sec_error(&s, NULL, "a portfolio needs the income per head of every city (cities.fields.gdp_per_head)");
    /* candidates: a scenario file whose changes are the candidate projects */
    g->cand_path = cs_sec_str(&s, "candidates_path", NULL);
    if (!g->cand_path) {
        cs_sec_error(&s, "candidates_path", "missing: a scenario file whose changes are the candidate projects");
        return errors;
    }
    char *file = cs_project_resolve(ctx->project, g->cand_path);
    json_error_t je;
    g->cand = file ? json_load_file(file, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!g->cand) {
        if (diag && file) cs_diag_add(diag, CS_SEV_ERROR, CS_EPARSE, file, je.line, je.column, "", "%s", je.text);
        errors++;
        cs_free(file);
        return errors;
    }
    g->changes = json_object_get(g->cand, "changes");
    if (!json_is_array(g->changes) || !json_array_size(g->changes)) {
        if (diag) cs_diag_add(diag, CS_SEV_ERROR, CS_EPARSE, file, 1, 1, "changes", "expected a non-empty array of changes (the candidates)");
        errors++;
        cs_free(file);
        return errors;
    }
    static const char *const types[] = {"upgrade", "close", "build", "productivity", "amenity", "border", "soft", "ict", "link", "facility", NULL};
    size_t nc = json_array_size(g->changes);
    for (size_t q = 0; q < nc; q++) {
        const json_t *ch = json_array_get(g->changes, q);
        char where[64];
        snprintf(where, sizeof where, "changes[%zu]", q);
#define CERR(...)                                                                            \
    do {                                                                                     \
        if (diag) cs_diag_add(diag, CS_SEV_ERROR, CS_EPARSE, file, 0, 0, where, __VA_ARGS__); \
        errors++;                                                                            \
    } while (0)
        if (!json_is_object(ch)) {
            CERR("expected an object");
            continue;
        }
        const char *k2;
        const json_t *v2;
        json_object_foreach((json_t *)ch, k2, v2)
        {
            int ok = 0;
            for (size_t a = 0; CAND_KEYS[a] && !ok; a++) ok = !strcmp(CAND_KEYS[a], k2);
            if (!ok) CERR("unknown key '%s'", k2);
        }
        const char *type = json_string_value(json_object_get(ch, "type"));
        int t = -1;
        for (int a = 0; type && types[a]; a++)
            if (!strcmp(types[a], type)) t = a;
        if (t < 0) {
            CERR("type: expected one of upgrade, close, build, link, border, soft, ict, facility, productivity, amenity (a candidate project)");
            continue;
        }
        const char *nm = json_string_value(json_object_get(ch, "name"));
        if (!nm || !*nm) CERR("name: every candidate needs a name");
        for (size_t p2 = 0; nm && p2 < q; p2++) {
            const char *o = json_string_value(json_object_get(json_array_get(g->changes, p2), "name"));
            if (o && !strcmp(o, nm)) {
                CERR("name: '%s' is also the name of changes[%zu]; candidate names must be unique", nm, p2);
                break;
            }
        }
        static const char *const money[] = {"capital_cost", "annual_cost", NULL};
        for (int a = 0; money[a]; a++) {
            const json_t *x = json_object_get(ch, money[a]);
            if (x && (!json_is_number(x) || json_number_value(x) < 0)) CERR("%s: expected a number >= 0", money[a]);
        }
        const json_t *x = json_object_get(ch, "capital_cost");
        if (!x || !(json_number_value(x) > 0)) CERR("capital_cost: a candidate needs a capital cost > 0");
        x = json_object_get(ch, "lifetime_years");
        if (x && (!json_is_number(x) || !(json_number_value(x) >= 1))) CERR("lifetime_years: expected a number >= 1");
        x = json_object_get(ch, "construction_years");
        if (x && (!json_is_number(x) || json_number_value(x) < 1 || json_number_value(x) > 50)) CERR("construction_years: expected 1 to 50");
        if (t == 9) {
            /* facility: host city, radius (minutes of travel time to it), amenity factor */
            const char *hc = json_string_value(json_object_get(ch, "city"));
            if (!hc) CERR("city: expected the host city id");
            else if (c && cs_cities_find(c, hc) == CS_INVALID_ID) CERR("city: no city with id '%s'", hc);
            const json_t *rm = json_object_get(ch, "radius_min"), *fx = json_object_get(ch, "factor");
            if (!json_is_number(rm) || !(json_number_value(rm) > 0)) CERR("radius_min: expected minutes > 0");
            if (!json_is_number(fx) || !(json_number_value(fx) >= 0.1 && json_number_value(fx) <= 10))
                CERR("factor: expected a number in [0.1, 10]");
            continue;
        }
        if (t == 8 || (t == 2 && !json_object_get(ch, "proposed"))) {
            /* a link (rail, air, ferry) or a road built between two end points: city ids or network node ids */
            for (int z = 0; z < 2; z++) {
                const char *ck = z ? "to" : "from", *nk = z ? "to_node" : "from_node";
                const json_t *cv = json_object_get(ch, ck), *nv = json_object_get(ch, nk);
                if (!!cv == !!nv) CERR("give exactly one of '%s' (a city id) and '%s' (a network node id)", ck, nk);
                else if (cv && (!json_is_string(cv) || (c && cs_cities_find(c, json_string_value(cv)) == CS_INVALID_ID)))
                    CERR("%s: no city with id '%s'", ck, json_is_string(cv) ? json_string_value(cv) : "?");
                else if (nv && (!json_is_integer(nv) || json_integer_value(nv) < 0 ||
                                (ctx->net && (uint64_t)json_integer_value(nv) >= ctx->net->n_nodes)))
                    CERR("%s: expected a node id of the network", nk);
            }
            if (t == 8) {
                const char *mo = json_string_value(json_object_get(ch, "mode"));
                if (!mo || (strcmp(mo, "rail") && strcmp(mo, "air") && strcmp(mo, "ferry"))) CERR("mode: expected rail, air or ferry");
                if (!json_object_get(ch, "time_min") && !json_object_get(ch, "speed_kmh"))
                    CERR("a link needs 'time_min' (in-vehicle time) or 'speed_kmh'");
                const json_t *tr = json_object_get(ch, "transfer_min");
                int trok = !tr || (json_is_number(tr) && json_number_value(tr) >= 0 && json_number_value(tr) <= 10000);
                if (json_is_array(tr) && json_array_size(tr) == 2) {
                    trok = 1;
                    for (size_t z = 0; z < 2; z++) {
                        const json_t *x2 = json_array_get(tr, z);
                        trok = trok && json_is_number(x2) && json_number_value(x2) >= 0 && json_number_value(x2) <= 10000;
                    }
                }
                if (!trok) CERR("transfer_min: expected minutes in [0, 10000], or [at from, at to]");
            } else if (json_object_get(ch, "mode") || json_object_get(ch, "transfer_min")) {
                CERR("'mode' and 'transfer_min' belong to a link, not a build");
            }
            static const char *const pos[] = {"time_min", "speed_kmh", "length_km", NULL};
            for (int a = 0; pos[a]; a++) {
                const json_t *x2 = json_object_get(ch, pos[a]);
                if (x2 && (!json_is_number(x2) || !(json_number_value(x2) > 0))) CERR("%s: expected a number > 0", pos[a]);
            }
            continue;
        }
        if (t == 7) {
            /* ict: connected cities, friction_factor in (0, 1] and/or productivity_factor in [1, 2] */
            const json_t *ff = json_object_get(ch, "friction_factor"), *pf = json_object_get(ch, "productivity_factor");
            if (!ff && !pf) CERR("an ict change needs 'friction_factor' (0 < f <= 1) and/or 'productivity_factor' (1 <= f <= 2)");
            if (ff && (!json_is_number(ff) || !(json_number_value(ff) > 0 && json_number_value(ff) <= 1)))
                CERR("friction_factor: expected a number in (0, 1]");
            if (pf && (!json_is_number(pf) || !(json_number_value(pf) >= 1 && json_number_value(pf) <= 2)))
                CERR("productivity_factor: expected a number in [1, 2]");
            const json_t *cs2 = json_object_get(ch, "cities");
            if (!json_is_array(cs2) || !json_array_size(cs2)) CERR("cities: expected an array of city ids (the connected cities)");
            for (size_t z = 0; json_is_array(cs2) && z < json_array_size(cs2); z++) {
                const char *id = json_string_value(json_array_get(cs2, z));
                if (!id) CERR("cities[%zu]: expected a string id", z);
                else if (c && cs_cities_find(c, id) == CS_INVALID_ID) CERR("cities[%zu]: no city with id '%s'", z, id);
            }
            continue;
        }
        if (t >= 5) {
            /* border (countries) and soft (exactly one of cities, regions, countries) frictions */
            const char *fl[3] = {"countries", "regions", "cities"}, *what = NULL;
            int nf = 0;
            for (int a = 0; a < 3; a++)
                if (json_object_get(ch, fl[a]) && (t == 6 || a == 0)) what = fl[a], nf++;
            if (t == 5 && (json_object_get(ch, "regions") || json_object_get(ch, "cities")))
                CERR("a border change takes 'countries' only");
            if (nf != 1) {
                CERR(t == 5 ? "countries: a border change needs an array of at least two country codes"
                            : "a soft change needs exactly one of cities, regions, countries");
                continue;
            }
            const json_t *fx = json_object_get(ch, "factor");
            if (!json_is_number(fx) || !(json_number_value(fx) > 0 && json_number_value(fx) <= 10))
                CERR("factor: expected a number in (0, 10] (below 1 eases interaction)");
            const json_t *mem = json_object_get(ch, what);
            size_t distinct = 0;
            for (size_t z = 0; json_is_array(mem) && z < json_array_size(mem); z++) {
                const char *id = json_string_value(json_array_get(mem, z));
                if (!id) {
                    CERR("%s[%zu]: expected a string", what, z);
                    continue;
                }
                int dup = 0;
                for (size_t z2 = 0; z2 < z && !dup; z2++) {
                    const char *o = json_string_value(json_array_get(mem, z2));
                    dup = o && !strcmp(o, id);
                }
                distinct += !dup;
                char **col = !c ? NULL : what[1] == 'o' ? city_col(c, g->code_field) : what[0] == 'r' ? c->region : c->id;
                int found = !c || !col;
                for (size_t i = 0; c && col && i < c->n && !found; i++) found = col[i] && !strcmp(col[i], id);
                if (!found) CERR("%s[%zu]: no city has %s '%s'", what, z, what[0] == 'c' && what[1] == 'i' ? "id" : what[0] == 'r' ? "region" : "country", id);
            }
            if (!json_is_array(mem) || distinct < 2) CERR("%s: expected an array of at least two distinct codes", what);
            continue;
        }
        const char *what = t <= 1 ? "edges" : t == 2 ? "proposed" : "cities";
        const json_t *ids = json_object_get(ch, what);
        if (!json_is_array(ids) && !(t == 2 && json_is_string(ids) && !strcmp(json_string_value(ids), "all"))) {
            CERR("%s: expected an array of ids", what);
            continue;
        }
        for (size_t z = 0; json_is_array(ids) && z < json_array_size(ids); z++) {
            const char *id = json_string_value(json_array_get(ids, z));
            if (!id) CERR("%s[%zu]: expected a string id", what, z);
            else if (t <= 1 && ctx->net && seg_by_ext(ctx->net, id) == CS_INVALID_ID) CERR("%s[%zu]: no road segment with edge id '%s'", what, z, id);
            else if (t == 2 && ctx->net && proposed_by_ext(ctx->net, id) == CS_INVALID_ID) CERR("%s[%zu]: no proposed link with edge id '%s'", what, z, id);
            else if (t >= 3 && c && cs_cities_find(c, id) == CS_INVALID_ID) CERR("%s[%zu]: no city with id '%s'", what, z, id);
        }
#undef CERR
    }
    if (g->method == 1 && nc > 20) cs_sec_error(&s, "method", "exhaustive search is limited to 20 candidates (the file has %zu)", nc);
    cs_free(file);
    return errors;
}

cs_status cs_run_check_portfolio_section(cs_run_ctx *ctx);
cs_status cs_run_check_portfolio_section(cs_run_ctx *ctx)
{
    pf_cfg g;
    int e = parse_pf(ctx, ctx->diag, &g);
    pf_free(&g);
    return e ? CS_EPARSE : CS_OK;
}

static int pf_wanted(const cs_run_ctx *ctx) { return ctx->cost && cs_project_section(ctx->project, "portfolio"); }
static cs_status pf_hash(const cs_run_ctx *ctx, cs_sha256 *h)
{
    /* the model parameters may come from the scenarios section */
    cs_status st = cs_project_hash_section(ctx->project, "portfolio", h);
    if (!st && cs_project_section(ctx->project, "scenarios")) st = cs_project_hash_section(ctx->project, "scenarios", h);
    return st;
}

/* ------------------------------------------------------------ sensitivity pool: a sub-problem */

typedef struct pool_user {
    pf_worker *w;
    size_t k, kp;
    const size_t *idx; /* pool -> candidate */
    uint8_t *full;
} pool_user;

static cs_status pool_eval(void *user, const uint8_t *sel, size_t kp, int draw, double *y)
{
    pool_user *u = user;
    memset(u->full, 0, u->k);
    for (size_t q = 0; q < kp; q++) u->full[u->idx[q]] = sel[q];
    return pf_worker_eval(u->w, u->full, u->k, draw, y);
}

/* ------------------------------------------------------------ outputs */

static json_t *jnum(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static cs_status write_charts(const char *dir, const pf_cfg *g, const cs_frontier_point *f, double theil_before)
{
    /* efficiency–equity frontier: one line per ε over the budgets, x = efficiency gain, y = Theil L after */
    cs_xy_series ser[PF_MAX_LIST];
    double xs[PF_MAX_LIST][PF_MAX_LIST], ys[PF_MAX_LIST][PF_MAX_LIST];
    char names[PF_MAX_LIST][32];
    for (size_t e = 0; e < g->ne; e++) {
        for (size_t b = 0; b < g->nb; b++) {
            const cs_frontier_point *q = &f[b * g->ne + e];
            xs[e][b] = q->efficiency_gain / 1e9;
            ys[e][b] = 1e4 * (q->theil_after - theil_before); /* small changes: in units of 1e-4 */
        }
        snprintf(names[e], sizeof names[e], "epsilon = %g", g->eps[e]);
        ser[e] = (cs_xy_series){names[e], g->nb, xs[e], ys[e], 1, 1, NULL};
    }
    cs_chart_opts co;
    cs_chart_opts_default(&co);
    co.title = "Efficiency-equity frontier of the chosen portfolios";
    co.xlabel = "efficiency gain (billion per year)";
    co.ylabel = "change in Theil L of the outcome (x 1e-4)";
    co.note = "One point per budget; Atkinson inequality aversion epsilon per line. docs/portfolio.md.";
    static const char *const ext[3] = {"png", "svg", "pdf"};
    cs_status st = CS_OK;
    for (int e = 0; !st && e < 3; e++) {
        char *p = cs_asprintf("%s/chart_portfolio_frontier.%s", dir, ext[e]);
        st = p ? cs_chart_xy(g->ne, ser, &co, p) : CS_ENOMEM;
        cs_free(p);
    }
    return st;
}

static cs_status pf_run(cs_run_ctx *ctx, const char *dir)
{
    pf_cfg g;
    if (parse_pf(ctx, ctx->diag, &g)) {
        pf_free(&g);
        return CS_EPARSE;
    }
    const cs_cities *c = ctx->cities;
    size_t n = c->n;
    cs_status st = CS_OK;
    pf_setup su;
    memset(&su, 0, sizeof su);
    extern cs_status cs_run_cost_params(const cs_run_ctx *ctx, cs_cost_params *cp);
    extern cs_status cs_run_border_matrices(const cs_run_ctx *ctx, cs_matrix **bt, cs_matrix **bd);
    st = cs_run_cost_params(ctx, &su.cost);
    if (!st) st = cs_run_border_matrices(ctx, &su.border_time, &su.border_dist);
    su.net = ctx->net;
    su.router = ctx->router;
    su.loc = ctx->loc;
    su.n = n;
    su.ids = (const char *const *)c->id;
    su.pop = c->population;
    su.gdp_per_head = c->gdp_per_head;
    su.lon = c->lon;
    su.lat = c->lat;
    su.country = (const char *const *)city_col(c, g.code_field);
    su.region = (const char *const *)c->region;
    su.mobility = (const char *const *)city_col(c, g.mobility_field);
    cs_eq_params_default(&su.eq);
    su.eq.theta = g.theta;
    su.eq.alpha = g.alpha;
    su.eq.beta = g.beta;
    su.eq.tol = g.tol;
    su.long_run = g.long_run;
    su.changes = g.changes;
    su.ranges = (pf_ranges){{g.r_theta[0], g.r_theta[1]}, {g.r_alpha[0], g.r_alpha[1]}, {g.r_beta[0], g.r_beta[1]},
                            {g.r_delta[0], g.r_delta[1]}, g.seed};
    pf_model *m = NULL;
    if (!st) st = pf_model_new(&su, &m);
    else {
        cs_matrix_free(su.border_time);
        cs_matrix_free(su.border_dist);
    }
    size_t k = m ? pf_model_k(m) : 0;
    /* regions and their weights */
    uint32_t *reg = NULL;
    size_t nreg = 0;
    const char **rnames = NULL;
    double *rw = NULL;
    if (!st) st = cs_eq_groups_from_labels((const char *const *)city_col(c, g.region_field), n, &reg, &nreg, &rnames);
    if (!st && g.region_weights) {
        rw = cs_mallocarray(nreg ? nreg : 1, sizeof *rw);
        if (!rw) st = CS_ENOMEM;
        for (size_t r = 0; !st && r < nreg; r++) {
            const json_t *x = json_object_get(g.region_weights, rnames[r]);
            rw[r] = json_is_number(x) ? json_number_value(x) : 1;
        }
    }
    const char **names = cs_calloc(k ? k : 1, sizeof *names);
    if (!names) st = st ? st : CS_ENOMEM;
    for (size_t j = 0; !st && j < k; j++) names[j] = pf_model_name(m, j);
    cs_portfolio_problem pb = {n, c->population, m ? pf_model_y_base(m) : NULL, reg, rw, k, names,
                               m ? pf_model_costs(m) : NULL, pf_model_eval, m, pf_model_estimate};
    cs_portfolio_opts o;
    cs_portfolio_opts_default(&o);
    o.method = g.method == 0 ? CS_PORTFOLIO_GREEDY : g.method == 1 ? CS_PORTFOLIO_EXHAUSTIVE : CS_PORTFOLIO_AUTO;
    o.screen = g.screen;
    o.budget_by_year = g.nby ? g.by_year : NULL;
    o.n_budget_years = g.nby;
    o.min_region_share = g.min_share;
    o.theil_must_not_rise = g.theil;
    o.appraisal.discount_rate = g.rate;
    o.appraisal.horizon_years = g.horizon;
    o.progress = ctx->progress;
    /* the main portfolio (first budget, first ε), then the frontier over every budget x ε (the main one reused) */
    cs_portfolio_result *main = NULL;
    o.budget = g.budgets[0];
    o.epsilon = g.eps[0];
    if (!st) st = cs_portfolio_select(&pb, &o, &main);
    cs_frontier_point *fr = cs_calloc(g.nb * g.ne + 1, sizeof *fr);
    if (!fr) st = st ? st : CS_ENOMEM;
    for (size_t b = 0; !st && b < g.nb; b++)
        for (size_t e = 0; !st && e < g.ne; e++) {
            cs_portfolio_result *r = main;
            o.budget = g.budgets[b];
            o.epsilon = g.eps[e];
            if (b || e) st = cs_portfolio_select(&pb, &o, &r);
            if (st) break;
            cs_frontier_point *q = &fr[b * g.ne + e];
            *q = (cs_frontier_point){g.budgets[b], g.eps[e], r->efficiency_gain, r->objective, r->theil_after, r->capital,
                                     r->n_selected ? r->appraisal.npv : 0, cs_malloc(k ? k : 1)};
            if (!q->selected) st = CS_ENOMEM;
            else memcpy(q->selected, r->selected, k);
            if (r != main) cs_portfolio_result_free(r);
        }
    o.budget = g.budgets[0];
    o.epsilon = g.eps[0];
    /* exhaustive (or the single-project guard): no pick order; a project's benefit is what the portfolio
       loses without it (leave-one-out, one model evaluation each) */
    uint8_t *loo = !st ? cs_malloc(k ? k : 1) : NULL;
    for (size_t j = 0; !st && j < k; j++) {
        if (!main->selected[j] || isfinite(main->marginal_efficiency[j])) continue;
        if (!loo) {
            st = CS_ENOMEM;
            break;
        }
        memcpy(loo, main->selected, k);
        loo[j] = 0;
        cs_portfolio_result *r = NULL;
        st = cs_portfolio_evaluate(&pb, &o, loo, &r);
        if (!st) {
            main->marginal_efficiency[j] = main->efficiency_gain - r->efficiency_gain;
            main->marginal[j] = main->objective - r->objective;
        }
        cs_portfolio_result_free(r);
    }
    cs_free(loo);
    json_t *js = json_object();
    /* ranked projects: pick order, marginal gains at the pick, stand-alone style appraisal of the marginal benefit */
    if (!st) {
        size_t ns = main->n_selected;
        cs_table *t = NULL;
        const char **pn = cs_calloc(ns + 1, sizeof *pn);
        double *col[12];
        for (int a = 0; a < 12; a++) col[a] = cs_calloc(ns + 1, sizeof(double));
        int64_t *rank = cs_calloc(ns + 1, sizeof *rank);
        if (!pn || !rank) st = CS_ENOMEM;
        for (int a = 0; a < 12; a++)
            if (!col[a]) st = CS_ENOMEM;
        json_t *jp = json_array();
        for (size_t q = 0; !st && q < ns; q++) {
            size_t j = main->order[q];
            const cs_project_costs *pc = &pf_model_costs(m)[j];
            double K = 0;
            for (size_t y = 0; y < pc->n_capital; y++) K += pc->capital[y];
            cs_appraisal ap;
            st = cs_appraise(pc, main->marginal_efficiency[j], &o.appraisal, &ap, NULL, 0);
            pn[q] = names[j];
            rank[q] = (int64_t)q + 1;
            double vals[12] = {K, pc->annual_cost, main->marginal_efficiency[j], main->marginal[j], ap.npv, ap.bcr, ap.eirr,
                               ap.fyrr, ap.switch_cost, ap.switch_benefit, ap.pv_benefits, ap.pv_costs};
            for (int a = 0; a < 12; a++) col[a][q] = vals[a];
            json_array_append_new(jp, json_pack("{s:I,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s}", "rank", (json_int_t)q + 1, "name",
                                                names[j], "capital_cost", jnum(K), "annual_benefit", jnum(main->marginal_efficiency[j]),
                                                "objective_gain", jnum(main->marginal[j]), "npv", jnum(ap.npv), "bcr", jnum(ap.bcr),
                                                "eirr", jnum(ap.eirr), "switching_value_cost", jnum(ap.switch_cost), "eirr_status",
                                                ap.eirr_status == 0 ? "unique" : ap.eirr_status == 1 ? "none" : "not unique"));
        }
        static const char *const cn[12] = {"capital_cost", "annual_cost", "annual_benefit", "objective_gain", "npv", "bcr", "eirr",
                                           "fyrr", "switching_value_cost", "switching_value_benefit", "pv_benefits", "pv_costs"};
        if (!st) st = cs_table_new(ns, &t);
        if (!st) st = cs_table_add_integer(t, "rank", rank, NULL);
        if (!st) st = cs_table_add_string(t, "name", pn);
        for (int a = 0; !st && a < 12; a++) st = cs_table_add_real(t, cn[a], col[a]);
        char *p = cs_asprintf("%s/portfolio_projects.csv", dir);
        if (!st) st = p ? cs_table_write(t, p, CS_FORMAT_CSV, "portfolio_projects", 0) : CS_ENOMEM;
        cs_free(p);
        /* the chosen links as lines (GeoPackage), one row per segment of a selected candidate */
        if (!st) {
            const cs_network *net = ctx->net;
            size_t cap = 0;
            for (size_t q = 0; q < ns; q++) cap += pf_model_segments(m, main->order[q], NULL, NULL, 0);
            uint32_t *u = cs_mallocarray(cap + 1, sizeof *u), *v = cs_mallocarray(cap + 1, sizeof *v);
            size_t *off = cs_mallocarray(cap + 2, sizeof *off);
            double *lon = cs_mallocarray(2 * cap + 1, sizeof *lon), *lat = cs_mallocarray(2 * cap + 1, sizeof *lat);
            const char **ln = cs_mallocarray(cap + 1, sizeof *ln);
            int64_t *lr = cs_mallocarray(cap + 1, sizeof *lr);
            double *lk = cs_mallocarray(cap + 1, sizeof *lk);
            if (!u || !v || !off || !lon || !lat || !ln || !lr || !lk) st = CS_ENOMEM;
            size_t nl = 0;
            off[0] = 0;
            for (size_t q = 0; !st && q < ns; q++) {
                size_t j = main->order[q];
                size_t c2 = pf_model_segments(m, j, u + nl, v + nl, cap - nl);
                for (size_t z = 0; z < c2; z++) {
                    lon[2 * (nl + z)] = net->lon_deg[u[nl + z]];
                    lat[2 * (nl + z)] = net->lat_deg[u[nl + z]];
                    lon[2 * (nl + z) + 1] = net->lon_deg[v[nl + z]];
                    lat[2 * (nl + z) + 1] = net->lat_deg[v[nl + z]];
                    off[nl + z + 1] = 2 * (nl + z + 1);
                    ln[nl + z] = names[j];
                    lr[nl + z] = (int64_t)q + 1;
                    lk[nl + z] = col[0][q];
                }
                nl += c2;
            }
            cs_table *lt = NULL;
            if (!st) st = cs_table_new(nl, &lt);
            if (!st) st = cs_table_add_integer(lt, "rank", lr, NULL);
            if (!st) st = cs_table_add_string(lt, "name", ln);
            if (!st) st = cs_table_add_real(lt, "capital_cost", lk);
            if (!st) st = cs_table_set_lines(lt, off, lon, lat);
            char *gp = cs_asprintf("%s/portfolio.gpkg", dir);
            if (!st) st = gp ? cs_table_write(lt, gp, CS_FORMAT_GPKG, "portfolio_links", 0) : CS_ENOMEM;
            cs_free(gp);
            cs_table_free(lt);
            cs_free(u);
            cs_free(v);
            cs_free(off);
            cs_free(lon);
            cs_free(lat);
            cs_free(ln);
            cs_free(lr);
            cs_free(lk);
        }
        cs_table_free(t);
        cs_free(pn);
        cs_free(rank);
        for (int a = 0; a < 12; a++) cs_free(col[a]);
        const cs_appraisal *pa = &main->appraisal;
        json_object_set_new(js, "projects", jp);
        json_object_set_new(js, "budget", jnum(g.budgets[0]));
        json_object_set_new(js, "epsilon", jnum(g.eps[0]));
        json_object_set_new(js, "outcome", json_string(g.long_run ? "long-run welfare of residents" : "short-run real income"));
        json_object_set_new(js, "candidates", json_integer((json_int_t)k));
        json_object_set_new(js, "n_selected", json_integer((json_int_t)main->n_selected));
        json_object_set_new(js, "capital_cost", jnum(main->capital));
        json_object_set_new(js, "efficiency_gain", jnum(main->efficiency_gain));
        json_object_set_new(js, "objective", jnum(main->objective));
        json_object_set_new(js, "theil_l_before", jnum(main->theil_before));
        json_object_set_new(js, "theil_l_after", jnum(main->theil_after));
        json_object_set_new(js, "guard_used", json_boolean(main->guard_used));
        if (isfinite(main->greedy_objective)) { /* an exact method ran: the greedy's gap to the optimum */
            json_object_set_new(js, "greedy_objective", jnum(main->greedy_objective));
            json_object_set_new(js, "greedy_gap", jnum(main->greedy_gap));
        }
        json_object_set_new(js, "model_evaluations", json_integer((json_int_t)main->evaluations));
        json_object_set_new(js, "appraisal", json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:f}", "npv", jnum(pa->npv), "bcr", jnum(pa->bcr),
                                                       "eirr", jnum(pa->eirr), "fyrr", jnum(pa->fyrr), "switching_value_cost",
                                                       jnum(pa->switch_cost), "switching_value_benefit", jnum(pa->switch_benefit),
                                                       "pv_costs", jnum(pa->pv_costs), "discount_rate", g.rate));
    }
    /* frontier table */
    if (!st) {
        size_t np = g.nb * g.ne;
        cs_table *t = NULL;
        double *col[7];
        for (int a = 0; a < 7; a++) col[a] = cs_calloc(np + 1, sizeof(double));
        char **chosen = cs_calloc(np + 1, sizeof *chosen);
        int64_t *cnt = cs_calloc(np + 1, sizeof *cnt);
        json_t *jf = json_array();
        for (int a = 0; a < 7; a++)
            if (!col[a]) st = CS_ENOMEM;
        if (!chosen || !cnt) st = CS_ENOMEM;
        for (size_t q = 0; !st && q < np; q++) {
            const cs_frontier_point *f = &fr[q];
            double vals[7] = {f->budget, f->epsilon, f->capital, f->efficiency_gain, f->objective, f->theil_after, f->npv};
            for (int a = 0; a < 7; a++) col[a][q] = vals[a];
            size_t len = 1;
            for (size_t j = 0; j < k; j++)
                if (f->selected[j]) len += strlen(names[j]) + 1, cnt[q]++;
            chosen[q] = cs_calloc(len, 1);
            if (!chosen[q]) {
                st = CS_ENOMEM;
                break;
            }
            json_t *jn = json_array();
            for (size_t j = 0; j < k; j++)
                if (f->selected[j]) {
                    if (*chosen[q]) strcat(chosen[q], ";");
                    strcat(chosen[q], names[j]);
                    json_array_append_new(jn, json_string(names[j]));
                }
            json_array_append_new(jf, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "budget", jnum(f->budget), "epsilon",
                                                jnum(f->epsilon), "capital_cost", jnum(f->capital), "efficiency_gain",
                                                jnum(f->efficiency_gain), "objective", jnum(f->objective), "theil_l_after",
                                                jnum(f->theil_after), "npv", jnum(f->npv), "projects", jn));
        }
        static const char *const cn[7] = {"budget", "epsilon", "capital_cost", "efficiency_gain", "objective", "theil_l_after", "npv"};
        if (!st) st = cs_table_new(np, &t);
        for (int a = 0; !st && a < 7; a++) st = cs_table_add_real(t, cn[a], col[a]);
        if (!st) st = cs_table_add_integer(t, "n_projects", cnt, NULL);
        if (!st) st = cs_table_add_string(t, "projects", (const char *const *)chosen);
        char *p = cs_asprintf("%s/portfolio_frontier.csv", dir);
        if (!st) st = p ? cs_table_write(t, p, CS_FORMAT_CSV, "portfolio_frontier", 0) : CS_ENOMEM;
        cs_free(p);
        cs_table_free(t);
        for (int a = 0; a < 7; a++) cs_free(col[a]);
        for (size_t q = 0; chosen && q < np; q++) cs_free(chosen[q]);
        cs_free(chosen);
        cs_free(cnt);
        json_object_set_new(js, "frontier", jf);
        if (!st) st = write_charts(dir, &g, fr, main->theil_before);
    }
    /* sensitivity over the main portfolio's projects (the pool), budget = their capital at central unit costs */
    if (!st && g.draws && main->n_selected) {
        size_t kp = main->n_selected < g.pool ? main->n_selected : g.pool;
        size_t *idx = cs_mallocarray(kp, sizeof *idx);
        const char **pnm = cs_mallocarray(kp, sizeof *pnm);
        cs_project_costs *pcs = cs_mallocarray(kp, sizeof *pcs);
        uint8_t *full = cs_calloc(k, 1);
        /* one model worker per thread for the draws (docs/portfolio.md, "Performance") */
        size_t nw = pf_model_workers(m);
        pool_user *pus = cs_calloc(nw, sizeof *pus);
        void **users = cs_calloc(nw, sizeof *users);
        uint8_t *fulls = cs_calloc(nw * k + 1, 1);
        if (!idx || !pnm || !pcs || !full || !pus || !users || !fulls) st = CS_ENOMEM;
        double Kp = 0;
        for (size_t q = 0; !st && q < kp; q++) {
            idx[q] = main->order[q];
            pnm[q] = names[idx[q]];
            pcs[q] = pf_model_costs(m)[idx[q]];
            for (size_t y = 0; y < pcs[q].n_capital; y++) Kp += pcs[q].capital[y];
        }
        pool_user pu = {pf_model_worker(m, 0), k, kp, idx, full};
        for (size_t t = 0; !st && t < nw; t++) {
            pus[t] = (pool_user){pf_model_worker(m, t), k, kp, idx, fulls + t * k};
            users[t] = &pus[t];
        }
        cs_portfolio_problem pp = {n, c->population, pf_model_y_base(m), reg, rw, kp, pnm, pcs, pool_eval, &pu, NULL};
        cs_portfolio_opts po = o;
        po.budget = Kp;
        po.method = CS_PORTFOLIO_GREEDY;
        po.screen = g.sens_screen;
        po.n_budget_years = 0;
        po.budget_by_year = NULL;
        cs_sensitivity_opts so = {g.draws, g.seed, g.r_cost[0], g.r_cost[1], nw, (void *const *)users};
        cs_sensitivity_result *sr = NULL;
        /* the pool's projects alone (every draw evaluates them) on the fast path: anchor at no project */
        if (!st) {
            memset(full, 0, k);
            st = pf_model_anchor(m, full, 0);
        }
        if (!st) st = cs_portfolio_sensitivity(&pp, &po, &so, &sr);
        if (!st) {
            cs_table *t = NULL;
            st = cs_table_new(kp, &t);
            if (!st) st = cs_table_add_string(t, "name", pnm);
            if (!st) st = cs_table_add_real(t, "selection_frequency", sr->select_freq);
            if (!st) st = cs_table_add_real(t, "npv_mean", sr->npv_mean);
            if (!st) st = cs_table_add_real(t, "npv_p05", sr->npv_p05);
            if (!st) st = cs_table_add_real(t, "npv_p95", sr->npv_p95);
            char *p = cs_asprintf("%s/portfolio_sensitivity.csv", dir);
            if (!st) st = p ? cs_table_write(t, p, CS_FORMAT_CSV, "portfolio_sensitivity", 0) : CS_ENOMEM;
            cs_free(p);
            cs_table_free(t);
            json_t *jp = json_array();
            for (size_t q = 0; q < kp; q++)
                json_array_append_new(jp, json_pack("{s:s,s:o,s:o,s:o,s:o}", "name", pnm[q], "selection_frequency",
                                                    jnum(sr->select_freq[q]), "npv_mean", jnum(sr->npv_mean[q]), "npv_p05",
                                                    jnum(sr->npv_p05[q]), "npv_p95", jnum(sr->npv_p95[q])));
            json_object_set_new(js, "sensitivity",
                                json_pack("{s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:[f,f],s:[f,f],s:[f,f],s:[f,f],s:[f,f]}", "draws",
                                          (json_int_t)g.draws, "seed", (json_int_t)g.seed, "portfolio_p_npv_positive",
                                          jnum(sr->portfolio_p_npv_positive), "portfolio_npv_mean", jnum(sr->portfolio_npv_mean),
                                          "portfolio_npv_p05", jnum(sr->portfolio_npv_p05), "portfolio_npv_p95",
                                          jnum(sr->portfolio_npv_p95), "projects", jp, "theta", g.r_theta[0], g.r_theta[1],
                                          "alpha", g.r_alpha[0], g.r_alpha[1], "beta", g.r_beta[0], g.r_beta[1],
                                          "cost_elasticity", g.r_delta[0], g.r_delta[1], "unit_cost", g.r_cost[0], g.r_cost[1]));
        }
        cs_sensitivity_free(sr);
        cs_free(idx);
        cs_free(pnm);
        cs_free(pcs);
        cs_free(full);
        cs_free(pus);
        cs_free(users);
        cs_free(fulls);
    }
    if (!st && m) {
        size_t ev, es, ca;
        pf_model_counts(m, &ev, &es, &ca);
        double tr, td, tc, te, tx;
        size_t nf, nr;
        pf_model_timing(m, &tr, &td, &tc, &te, &tx, &nf, &nr);
        size_t nwarm, nit, nwit;
        pf_model_solver_counts(m, &nwarm, &nit, &nwit);
        json_object_set_new(js, "model_runs", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:f}", "evaluations", (json_int_t)ev,
                                                        "warm_starts", (json_int_t)nwarm, "solver_iterations", (json_int_t)nit,
                                                        "warm_solver_iterations", (json_int_t)nwit, "workers", (json_int_t)pf_model_workers(m),
                                                        "estimates", (json_int_t)es, "calibrations", (json_int_t)ca,
                                                        "fast_path_evaluations", (json_int_t)nf, "router_matrices", (json_int_t)nr,
                                                        "seconds_routing", tr, "seconds_one_to_all", td, "seconds_cost",
                                                        tc, "seconds_model", te, "seconds_estimate", tx));
    }
    if (!st) {
        char *p = cs_asprintf("%s/portfolio.json", dir);
        st = p ? (json_dump_file(js, p, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) ? cs_error_set(CS_EIO, "cannot write %s", p) : CS_OK)
               : CS_ENOMEM;
        cs_free(p);
    }
    if (!st) {
        if (!ctx->summary) ctx->summary = json_object();
        json_object_set_new(ctx->summary, "portfolio", json_deep_copy(js));
    }
    json_decref(js);
    cs_portfolio_result_free(main);
    cs_frontier_free(fr, g.nb * g.ne);
    cs_free(names);
    cs_free(reg);
    cs_free(rnames);
    cs_free(rw);
    pf_model_free(m);
    pf_free(&g);
    return st;
}

/* reused from the cache: the summary for the report comes back from portfolio.json */
static cs_status pf_load(cs_run_ctx *ctx, const char *dir)
{
    char *p = cs_asprintf("%s/portfolio.json", dir);
    if (!p) return CS_ENOMEM;
    json_error_t je;
    json_t *js = json_load_file(p, 0, &je);
    cs_free(p);
    if (!js) return cs_error_set(CS_EIO, "portfolio: cached portfolio.json unreadable: %s", je.text);
    if (!ctx->summary) ctx->summary = json_object();
    json_object_set_new(ctx->summary, "portfolio", js);
    return CS_OK;
}

const cs_run_step cs_step_portfolio = {"portfolio", 1, 1, pf_wanted, pf_hash, pf_run, pf_load};

/* ------------------------------------------------------------ report.html (called by the report step) */

static void money(double v, char *b, size_t n)
{
    if (!isfinite(v)) snprintf(b, n, "–");
    else if (fabs(v) >= 1e9) snprintf(b, n, "%.2f billion", v / 1e9);
    else if (fabs(v) >= 1e6) snprintf(b, n, "%.1f million", v / 1e6);
    else snprintf(b, n, "%.0f", v);
}

static double jd(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

cs_status cs_report_portfolio_section(cs_html *h, const json_t *sum, const char *dir);
cs_status cs_report_portfolio_section(cs_html *h, const json_t *sum, const char *dir)
{
    const json_t *pf = json_object_get(sum, "portfolio");
    if (!pf) return CS_OK;
    cs_status st = cs_html_heading(h, 1, "portfolio", "Which projects, for which budget?");
    char b1[64], b2[64], b3[64], txt[512];
    money(jd(pf, "budget"), b1, sizeof b1);
    money(jd(pf, "capital_cost"), b2, sizeof b2);
    money(jd(pf, "efficiency_gain"), b3, sizeof b3);
    snprintf(txt, sizeof txt,
             "Among %lld candidate projects, %lld fit a budget of %s (they cost %s) and together raise the "
             "outcome of the cities' residents by %s a year, every portfolio evaluated with the spatial "
             "equilibrium model rather than by adding up single projects.",
             (long long)json_integer_value(json_object_get(pf, "candidates")),
             (long long)json_integer_value(json_object_get(pf, "n_selected")), b1, b2, b3);
    if (!st) st = cs_html_paragraph(h, txt);
    const json_t *jp = json_object_get(pf, "projects");
    size_t np = json_array_size(jp) < 15 ? json_array_size(jp) : 15;
    const char *hdr[6] = {"rank", "project", "capital cost", "benefit per year", "NPV", "EIRR"};
    char **cells = cs_calloc(6 * np + 1, sizeof *cells);
    if (!cells) st = st ? st : CS_ENOMEM;
    for (size_t q = 0; !st && q < np; q++) {
        const json_t *o = json_array_get(jp, q);
        char b[64];
        cells[6 * q] = cs_asprintf("%zu", q + 1);
        cells[6 * q + 1] = cs_strdup(json_string_value(json_object_get(o, "name")));
        money(jd(o, "capital_cost"), b, sizeof b);
        cells[6 * q + 2] = cs_strdup(b);
        money(jd(o, "annual_benefit"), b, sizeof b);
        cells[6 * q + 3] = cs_strdup(b);
        money(jd(o, "npv"), b, sizeof b);
        cells[6 * q + 4] = cs_strdup(b);
        double e = jd(o, "eirr");
        cells[6 * q + 5] = isfinite(e) ? cs_asprintf("%.1f%%", 100 * e) : cs_strdup("none / not unique");
    }
    uint8_t numeric[6] = {1, 0, 1, 1, 1, 1};
    if (!st) st = cs_html_table(h, "The chosen projects in the order picked (first 15; all in portfolio_projects.csv)", 6, hdr, np,
                                (const char *const *)cells, numeric);
    for (size_t q = 0; cells && q < 6 * np; q++) cs_free(cells[q]);
    cs_free(cells);
    char path[4096];
    snprintf(path, sizeof path, "%s/chart_portfolio_frontier.png", dir);
    if (!st) st = cs_html_image(h, path, "chart-portfolio-frontier", "Efficiency-equity frontier", NULL);
    const json_t *se = json_object_get(pf, "sensitivity");
    if (!st && se) {
        snprintf(txt, sizeof txt,
                 "In %lld seeded draws of the model's parameters and of unit costs, the portfolio's net present value "
                 "is positive with probability %.0f%% (portfolio_sensitivity.csv gives each project's selection "
                 "frequency and NPV spread).",
                 (long long)json_integer_value(json_object_get(se, "draws")), 100 * jd(se, "portfolio_p_npv_positive"));
        st = cs_html_paragraph(h, txt);
    }
    if (!st)
        st = cs_html_note(h, "Greedy selection by exact marginal gain per cost, screened by a first-order estimate and guarded by "
                             "the best single project; Atkinson equally-distributed-equivalent objective; appraisal at the "
                             "discount rate of the portfolio section. docs/portfolio.md, docs/appraisal.md.",
                          "Atkinson (1970) JET 2(3); World Bank (2016) discounting guidance note.");
    return st;
}

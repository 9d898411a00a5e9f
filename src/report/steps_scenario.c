/*
 * steps_scenario.c: the "scenarios" step of the main job — each scenario of the project's `scenarios`
 * section (hard changes to the road network applied to the router without a rebuild, border-friction and
 * soft-link changes to the generalised cost, productivity and amenity shifts) is evaluated with the spatial
 * equilibrium model calibrated to the baseline (exact hat algebra): per-city changes of income, population,
 * real income and welfare, the equivalent variation in money, inequality before and after, and the
 * appraisal of its costs. Schema: docs/project-file.md; channels: docs/scenarios.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "citysys/alloc.h"
#include "citysys/appraisal.h"
#include "citysys/chart.h"
#include "citysys/cost.h"
#include "citysys/equilibrium.h"
#include "citysys/inequality.h"
#include "citysys/map.h"
#include "citysys/network.h"
#include "citysys/routing.h"
#include "citysys/table.h"
#include "report/run_steps.h"
#include "report/section.h"

static const char *const SC_KEYS[] = {"horizon", "mobility_field", "theta", "alpha", "beta", "country_code_field",
                                      "list", NULL};
static const char *const ONE_KEYS[] = {"name", "description", "changes", "path", NULL};
static const char *const CH_KEYS[] = {"type", "name", "edges", "time_factor", "proposed", "speed_kmh", "countries",
                                      "cities", "factor", "capital_cost", "annual_cost", "lifetime_years",
                                      "construction_years", NULL};

typedef struct sc_cfg {
    int long_run;
    const char *mobility_field, *code_field;
    double theta, alpha, beta;
    const json_t *list;
    json_t *items; /* owned array: each scenario object (inline, or loaded from its file) */
} sc_cfg;

static void sc_free(sc_cfg *g)
{
    json_decref(g->items);
    g->items = NULL;
}

static char **city_col(const cs_cities *c, const char *name)
{
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

/* Parse and validate; with ctx->net/cities known every id is checked. Returns the number of errors. */
static int parse_sc(const cs_run_ctx *ctx, cs_diag *diag, sc_cfg *g)
{
    int errors = 0;
    memset(g, 0, sizeof *g);
    g->long_run = 1;
    g->mobility_field = "country";
    g->code_field = "country";
    g->theta = 8;
    g->alpha = 0.1;
    g->beta = -0.3;
    cs_sec s;
    if (!cs_sec_open(&s, ctx->project, diag, "scenarios", &errors)) return errors;
    cs_sec_check_keys(&s, SC_KEYS);
    static const char *const hz[] = {"short", "long", NULL};
    g->long_run = cs_sec_enum(&s, "horizon", hz, 1);
    g->mobility_field = cs_sec_str(&s, "mobility_field", g->mobility_field);
    g->code_field = cs_sec_str(&s, "country_code_field", g->code_field);
    g->theta = cs_sec_num(&s, "theta", g->theta, 0.1, 50);
    g->alpha = cs_sec_num(&s, "alpha", g->alpha, -1, 1);
    g->beta = cs_sec_num(&s, "beta", g->beta, -5, 1);
    const cs_cities *c = ctx->cities;
    if (c && !city_col(c, g->mobility_field)) cs_sec_error(&s, "mobility_field", "the city table has no column '%s'", g->mobility_field);
    if (c && !city_col(c, g->code_field)) cs_sec_error(&s, "country_code_field", "the city table has no column '%s'", g->code_field);
    if (c && !c->gdp_per_head) cs_sec_error(&s, NULL, "scenarios need the income per head of every city (cities.fields.gdp_per_head)");
    g->list = json_object_get(s.obj, "list");
    if (!json_is_array(g->list)) {
        cs_sec_error(&s, "list", "expected an array of scenarios");
        g->list = NULL;
        return errors;
    }
    g->items = json_array();
    for (size_t k = 0; k < json_array_size(g->list); k++) {
        cs_sec one = s;
        snprintf(one.path, sizeof one.path, "scenarios.list[%zu]", k);
        one.obj = json_array_get(g->list, k);
        /* a scenario may live in its own file: {"path": "scenario.json"} */
        const json_t *pth = json_is_object(one.obj) ? json_object_get(one.obj, "path") : NULL;
        if (json_is_string(pth)) {
            char *file = cs_project_resolve(ctx->project, json_string_value(pth));
            json_error_t je;
            json_t *loaded = file ? json_load_file(file, JSON_REJECT_DUPLICATES, &je) : NULL;
            if (!loaded) {
                if (diag && file) cs_diag_add(diag, CS_SEV_ERROR, CS_EPARSE, file, je.line, je.column, "", "%s", je.text);
                errors++;
                cs_free(file);
                continue;
            }
            cs_free(file);
            json_array_append_new(g->items, loaded);
            one.obj = loaded;
        } else if (json_is_object(one.obj)) {
            json_array_append(g->items, (json_t *)one.obj);
        }
        if (!json_is_object(one.obj)) {
            cs_sec_error(&one, NULL, "expected an object");
            continue;
        }
        cs_sec_check_keys(&one, ONE_KEYS);
        const char *name = cs_sec_str(&one, "name", NULL);
        int okname = name && *name && strlen(name) <= 40;
        for (const char *q = name; okname && *q; q++)
            okname = (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_';
        if (!okname) cs_sec_error(&one, "name", "expected a short name of a-z, 0-9 and _");
        const json_t *chs = json_object_get(one.obj, "changes");
        if (!json_is_array(chs)) {
            cs_sec_error(&one, "changes", "expected an array of changes");
            continue;
        }
        for (size_t q = 0; q < json_array_size(chs); q++) {
            cs_sec ch = one;
            snprintf(ch.path, sizeof ch.path, "scenarios.list[%zu].changes[%zu]", k, q);
            ch.obj = json_array_get(chs, q);
            if (!json_is_object(ch.obj)) {
                cs_sec_error(&ch, NULL, "expected an object");
                continue;
            }
            cs_sec_check_keys(&ch, CH_KEYS);
            static const char *const types[] = {"upgrade", "close", "build", "border", "soft", "productivity", "amenity", NULL};
            int t = cs_sec_enum(&ch, "type", types, -1);
            if (t < 0 && !json_object_get(ch.obj, "type")) cs_sec_error(&ch, "type", "missing (upgrade, close, build, border, soft, productivity, amenity)");
            cs_sec_num(&ch, "capital_cost", 0, 0, 1e15);
            cs_sec_num(&ch, "annual_cost", 0, 0, 1e15);
            cs_sec_num(&ch, "lifetime_years", 30, 1, 200);
            cs_sec_num(&ch, "construction_years", 1, 1, 50);
            if (t == 0) {
                cs_sec_num(&ch, "time_factor", 1, 0.01, 100);
                cs_sec_num(&ch, "speed_kmh", 0, 0, 1000);
            }
            if (t == 2) cs_sec_num(&ch, "speed_kmh", 80, 1, 1000);
            if (t >= 3) cs_sec_num(&ch, "factor", 1, 1e-6, 1e6);
            const json_t *ids = json_object_get(ch.obj, t <= 1 ? "edges" : t == 2 ? "proposed" : t == 3 ? "countries" : "cities");
            const char *what = t <= 1 ? "edges" : t == 2 ? "proposed" : t == 3 ? "countries" : "cities";
            if (t >= 0 && !(json_is_array(ids) || (t == 2 && json_is_string(ids) && !strcmp(json_string_value(ids), "all")))) {
                cs_sec_error(&ch, what, t == 2 ? "expected \"all\" or an array of proposed edge ids" : "expected an array of ids");
                continue;
            }
            for (size_t z = 0; json_is_array(ids) && z < json_array_size(ids); z++) {
                const json_t *e = json_array_get(ids, z);
                char kp[64];
                snprintf(kp, sizeof kp, "%s[%zu]", what, z);
                if (!json_is_string(e)) {
                    cs_sec_error(&ch, kp, "expected a string id");
                    continue;
                }
                const char *id = json_string_value(e);
                if (t <= 1 && ctx->net && seg_by_ext(ctx->net, id) == CS_INVALID_ID)
                    cs_sec_error(&ch, kp, "no road segment with edge id '%s'", id);
                if (t == 2 && ctx->net && proposed_by_ext(ctx->net, id) == CS_INVALID_ID)
                    cs_sec_error(&ch, kp, "no proposed link with edge id '%s'", id);
                if (t == 3 && c) {
                    char **codes = city_col(c, g->code_field);
                    int found = 0;
                    for (size_t i = 0; codes && i < c->n && !found; i++) found = !strcmp(codes[i], id);
                    if (!found) cs_sec_error(&ch, kp, "no city has the country code '%s'", id);
                }
                if (t >= 4 && c && cs_cities_find(c, id) == CS_INVALID_ID) cs_sec_error(&ch, kp, "no city with id '%s'", id);
            }
        }
    }
    return errors;
}

cs_status cs_run_check_scenarios_section(cs_run_ctx *ctx);
cs_status cs_run_check_scenarios_section(cs_run_ctx *ctx)
{
    sc_cfg g;
    int e = parse_sc(ctx, ctx->diag, &g);
    sc_free(&g);
    return e ? CS_EPARSE : CS_OK;
}

static int sc_wanted(const cs_run_ctx *ctx) { return ctx->cost && cs_project_section(ctx->project, "scenarios"); }
static cs_status sc_hash(const cs_run_ctx *ctx, cs_sha256 *h) { return cs_project_hash_section(ctx->project, "scenarios", h); }

static double num_or(const json_t *o, const char *k, double d)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : d;
}

/* Evaluate one scenario. */
static cs_status one(cs_run_ctx *ctx, const sc_cfg *g, const json_t *sc, const char *dir, const cs_eq_model *model,
                     const cs_eq_state *base, const cs_matrix *tau0, const cs_cost_params *cp, json_t *jout)
{
    const cs_cities *c = ctx->cities;
    const cs_network *net = ctx->net;
    size_t n = c->n;
    const char *name = json_string_value(json_object_get(sc, "name"));
    const json_t *chs = json_object_get(sc, "changes");
    cs_status st = CS_OK;
    cs_route_changes *rc = NULL;
    double *ashift = cs_mallocarray(n, sizeof *ashift), *bshift = cs_mallocarray(n, sizeof *bshift);
    uint8_t *member = cs_calloc(n, 1);
    double capital = 0, annual = 0, life_w = 0;
    int ncons = 1, hard = 0;
    cs_soft_link *soft = cs_calloc(json_array_size(chs) * 64 + 1, sizeof *soft);
    size_t nsoft = 0;
    uint32_t *restore = NULL;
    size_t nrestore = 0;
    if (!ashift || !bshift || !member || !soft) st = CS_ENOMEM;
    for (size_t i = 0; !st && i < n; i++) ashift[i] = bshift[i] = 1;
    if (!st) st = cs_route_changes_new(&rc);
    restore = cs_mallocarray((size_t)net->n_segs + net->proposed.n + 1, sizeof *restore);
    if (!restore) st = st ? st : CS_ENOMEM;
    cs_router_info ri;
    cs_router_info_get(ctx->router, &ri);
    uint32_t next_seg = ri.segments;
    for (size_t q = 0; !st && q < json_array_size(chs); q++) {
        const json_t *ch = json_array_get(chs, q);
        const char *type = json_string_value(json_object_get(ch, "type"));
        double k = num_or(ch, "capital_cost", 0);
        capital += k;
        annual += num_or(ch, "annual_cost", 0);
        life_w += k * num_or(ch, "lifetime_years", 30);
        int cy = (int)num_or(ch, "construction_years", 1);
        if (cy > ncons) ncons = cy;
        const json_t *ids = json_object_get(ch, "edges");
        if (!strcmp(type, "upgrade") || !strcmp(type, "close")) {
            hard = 1;
            double f = num_or(ch, "time_factor", 1), kmh = num_or(ch, "speed_kmh", 0);
            for (size_t z = 0; !st && z < json_array_size(ids); z++) {
                uint32_t s = seg_by_ext(net, json_string_value(json_array_get(ids, z)));
                if (!strcmp(type, "close")) st = cs_route_changes_close(rc, s);
                else if (kmh > 0) {
                    /* upgraded to a design speed: never slower than today */
                    uint32_t t = (uint32_t)llround(net->seg_len_cm[s] / 100.0 / (kmh / 3.6) * 1000.0);
                    uint32_t extra = net->seg_extra_ms ? net->seg_extra_ms[s] : 0;
                    uint32_t fw = net->seg_fwd_ms[s], bw = net->seg_bwd_ms[s];
                    uint32_t nf = fw == CS_NO_TIME ? fw : (t + extra < fw ? t + extra : fw);
                    uint32_t nb = bw == CS_NO_TIME ? bw : (t + extra < bw ? t + extra : bw);
                    st = cs_route_changes_set_time(rc, s, nf, nb);
                } else st = cs_route_changes_scale(rc, s, f);
                restore[nrestore++] = s;
            }
        } else if (!strcmp(type, "build")) {
            hard = 1;
            const json_t *pr = json_object_get(ch, "proposed");
            double kmh = num_or(ch, "speed_kmh", 80);
            for (uint32_t p = 0; !st && p < net->proposed.n; p++) {
                int take = json_is_string(pr);
                for (size_t z = 0; !take && z < json_array_size(pr); z++)
                    take = net->proposed.ext_id[p] && !strcmp(net->proposed.ext_id[p], json_string_value(json_array_get(pr, z)));
                if (!take) continue;
                uint32_t len = net->proposed.len_cm[p];
                if (len == UINT32_MAX) len = (uint32_t)llround(100.0 * cs_geodesic_m(net->lon_deg[net->proposed.u[p]], net->lat_deg[net->proposed.u[p]],
                                                                                  net->lon_deg[net->proposed.v[p]], net->lat_deg[net->proposed.v[p]]));
                uint32_t t = net->proposed.fwd_ms[p] != CS_NO_TIME ? net->proposed.fwd_ms[p]
                                                                   : (uint32_t)llround(len / 100.0 / (kmh / 3.6) * 1000.0);
                st = cs_route_changes_add(rc, net->proposed.u[p], net->proposed.v[p], t, t, len, CS_SEG_ROAD);
                restore[nrestore++] = next_seg++;
            }
        } else if (!strcmp(type, "border")) {
            /* applied below to the border matrices themselves: time and distance penalties between every
               pair of member countries multiplied by the factor */
        } else if (!strcmp(type, "soft")) {
            const json_t *cs = json_object_get(ch, "cities");
            double f = num_or(ch, "factor", 1);
            for (size_t a = 0; a < json_array_size(cs); a++)
                for (size_t b = a + 1; b < json_array_size(cs) && nsoft < json_array_size(chs) * 64; b++) {
                    soft[nsoft].level = CS_SOFT_CITY;
                    soft[nsoft].a = json_string_value(json_array_get(cs, a));
                    soft[nsoft].b = json_string_value(json_array_get(cs, b));
                    soft[nsoft].factor = f;
                    nsoft++;
                }
        } else {
            const json_t *cs = json_object_get(ch, "cities");
            double f = num_or(ch, "factor", 1);
            for (size_t a = 0; a < json_array_size(cs); a++) {
                uint32_t i = cs_cities_find(c, json_string_value(json_array_get(cs, a)));
                if (!strcmp(type, "productivity")) ashift[i] *= f;
                else bshift[i] *= f;
            }
        }
    }
    /* travel times after the hard changes: the router is changed without a rebuild, then restored */
    cs_matrix *time1 = NULL, *cost1 = NULL, *tau1 = NULL;
    if (!st && hard) {
        st = cs_router_apply(ctx->router, rc);
        if (!st) {
            cs_matrix_opts mo;
            cs_matrix_opts_default(&mo);
            mo.nonroad_flags = 0;
            mo.src_ids = mo.dst_ids = (const char *const *)c->id;
            st = cs_router_matrix(ctx->router, ctx->loc, n, ctx->loc, n, &mo, ctx->progress, &time1, NULL);
            cs_route_changes *back = NULL;
            cs_status s2 = cs_route_changes_new(&back);
            for (size_t z = 0; !s2 && z < nrestore; z++) {
                uint32_t s = restore[z];
                s2 = s < net->n_segs ? cs_route_changes_set_time(back, s, net->seg_fwd_ms[s], net->seg_bwd_ms[s])
                                     : cs_route_changes_close(back, s);
            }
            if (!s2) s2 = cs_router_apply(ctx->router, back);
            cs_route_changes_free(back);
            if (!st) st = s2;
        }
    }
    if (!st) {
        cs_cost_inputs in;
        memset(&in, 0, sizeof in);
        in.time = time1 ? time1 : ctx->time;
        in.distance = ctx->dist;
        in.country = (const char *const *)city_col(c, g->code_field);
        in.region = (const char *const *)c->region;
        /* the border matrices of the indicators step are applied again inside the cost: re-read them there */
        extern cs_status cs_run_border_matrices(const cs_run_ctx *ctx, cs_matrix **bt, cs_matrix **bd);
        cs_matrix *bt = NULL, *bd = NULL;
        st = cs_run_border_matrices(ctx, &bt, &bd);
        for (size_t q = 0; !st && q < json_array_size(chs); q++) {
            const json_t *ch = json_array_get(chs, q);
            if (strcmp(json_string_value(json_object_get(ch, "type")), "border")) continue;
            const json_t *cc = json_object_get(ch, "countries");
            double f = num_or(ch, "factor", 1);
            cs_matrix *mats[2] = {bt, bd};
            for (int mi = 0; mi < 2; mi++) {
                cs_matrix *M = mats[mi];
                if (!M) continue;
                for (size_t a = 0; a < M->rows; a++)
                    for (size_t b = 0; b < M->cols; b++) {
                        if (a == b) continue;
                        int ina = 0, inb = 0;
                        for (size_t z = 0; z < json_array_size(cc); z++) {
                            const char *code = json_string_value(json_array_get(cc, z));
                            ina |= !strcmp(M->row_ids[a], code);
                            inb |= !strcmp(M->col_ids[b], code);
                        }
                        if (ina && inb) M->v[a * M->cols + b] *= f;
                    }
            }
        }
        in.border_time_min = bt;
        in.border_dist_m = bd;
        in.soft = soft;
        in.nsoft = nsoft;
        if (!st) st = cs_cost_build(&in, cp, &cost1);
        if (!st) st = cs_cost_iceberg(cost1, cp, &tau1);
        cs_matrix_free(bt);
        cs_matrix_free(bd);
    }
    cs_eq_state *after = NULL;
    cs_eq_change *chg = NULL;
    if (!st) st = cs_eq_counterfactual(model, base, tau0, tau1, g->long_run ? CS_EQ_LONG_RUN : CS_EQ_SHORT_RUN, ashift,
                                       bshift, 0, ctx->diag, &after);
    if (!st) st = cs_eq_compare(model, base, after, &chg);
    /* outputs */
    if (!st) {
        cs_table *t = NULL;
        double *pct = cs_mallocarray(n, sizeof *pct), *dacc = cs_mallocarray(n, sizeof *dacc);
        if (!pct || !dacc) st = CS_ENOMEM;
        for (size_t i = 0; !st && i < n; i++) pct[i] = 100 * (chg->real_income_hat[i] - 1);
        if (!st) st = cs_table_new(n, &t);
        if (!st) st = cs_table_add_string(t, "id", (const char *const *)c->id);
        if (!st) st = cs_table_add_string(t, "name", (const char *const *)c->name);
        if (!st) st = cs_table_add_real(t, "income_change", chg->w_hat);
        if (!st) st = cs_table_add_real(t, "population_change", chg->L_hat);
        if (!st) st = cs_table_add_real(t, "price_index_change", chg->P_hat);
        if (!st) st = cs_table_add_real(t, "real_income_change", chg->real_income_hat);
        if (!st) st = cs_table_add_real(t, "real_income_change_pct", pct);
        if (!st) st = cs_table_add_real(t, "welfare_change_residents", chg->resident_welfare_hat);
        if (!st) st = cs_table_add_real(t, "equivalent_variation", chg->ev);
        if (!st) st = cs_table_add_real(t, "population_after", after->L);
        if (!st) st = cs_table_set_points(t, c->lon, c->lat);
        char *p = cs_asprintf("%s/scenario_%s.csv", dir, name);
        if (!p) st = st ? st : CS_ENOMEM;
        if (!st) st = cs_table_write(t, p, CS_FORMAT_CSV, "scenario", 0);
        cs_free(p);
        cs_table_free(t);
        /* map of the change in real income */
        if (!st) {
            double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
            for (size_t i = 0; i < n; i++) {
                x0 = fmin(x0, c->lon[i]); x1 = fmax(x1, c->lon[i]);
                y0 = fmin(y0, c->lat[i]); y1 = fmax(y1, c->lat[i]);
            }
            cs_map_opts mo;
            cs_map_opts_default(&mo);
            char title[128];
            snprintf(title, sizeof title, "Change in real income per head: %s", name);
            mo.title = title;
            mo.attribution = "Boundaries: Natural Earth · Roads: © OpenStreetMap contributors";
            cs_map *m = NULL;
            double dx = (x1 - x0) * 0.04 + 0.01, dy = (y1 - y0) * 0.04 + 0.01;
            st = cs_map_new(fmax(-180, x0 - dx), fmax(-89, y0 - dy), fmin(180, x1 + dx), fmin(89, y1 + dy), &mo, &m);
            char *ne = NULL;
            if (!st && !cs_data_find("boundaries/ne_50m_countries.geojson.gz", &ne)) st = cs_map_add_boundaries(m, ne);
            cs_free(ne);
            cs_map_cities mc = {n, c->lon, c->lat, c->population, NULL, 0, NULL, pct, "real income change, %",
                                (const char *const *)c->name, 20};
            if (!st) st = cs_map_add_cities(m, &mc);
            static const char *const ext[3] = {"png", "svg", "pdf"};
            for (int e = 0; !st && e < 3; e++) {
                char *mp = cs_asprintf("%s/map_scenario_%s.%s", dir, name, ext[e]);
                st = mp ? cs_map_render(m, mp) : CS_ENOMEM;
                cs_free(mp);
            }
            cs_map_free(m);
        }
        /* inequality of real income per head before and after (each person once) */
        cs_ineq_opts io = cs_ineq_opts_default();
        io.omit_undefined = 1;
        cs_ineq_summary b0, b1;
        double *r0 = cs_mallocarray(n, sizeof *r0), *r1 = cs_mallocarray(n, sizeof *r1);
        if (!r0 || !r1) st = st ? st : CS_ENOMEM;
        for (size_t i = 0; !st && i < n; i++) {
            r0[i] = base->real_income[i];
            r1[i] = after->real_income[i];
        }
        if (!st) st = cs_ineq_summarise(r0, base->L, n, &io, &b0);
        if (!st) st = cs_ineq_summarise(r1, after->L, n, &io, &b1);
        /* appraisal: the equivalent variation (money per year at the baseline prices) as the annual benefit */
        cs_appraisal ap;
        memset(&ap, 0, sizeof ap);
        int appraised = 0;
        if (!st && capital > 0) {
            double *capv = cs_calloc((size_t)ncons, sizeof *capv);
            if (!capv) st = CS_ENOMEM;
            for (int y = 0; !st && y < ncons; y++) capv[y] = capital / ncons;
            cs_project_costs pc = {capv, (size_t)ncons, annual, life_w / capital};
            if (!st) st = cs_appraise(&pc, chg->total_ev, NULL, &ap, NULL, 0);
            appraised = !st;
            cs_free(capv);
        }
        if (!st) {
            const char *labs[3] = {"before", "after", NULL};
            (void)labs;
            const char *cats[4] = {"Gini", "Theil T", "Theil L", "CV"};
            const char *ser[2] = {"before", "after"};
            double bv[8] = {b0.gini, b0.theil_t, b0.theil_l, b0.cv, b1.gini, b1.theil_t, b1.theil_l, b1.cv};
            cs_chart_opts co;
            cs_chart_opts_default(&co);
            char title[128];
            snprintf(title, sizeof title, "Inequality of real income per head: %s", name);
            co.title = title;
            co.note = "Each person once (population-weighted); docs/methods.md.";
            static const char *const ext[3] = {"png", "svg", "pdf"};
            for (int e = 0; !st && e < 3; e++) {
                char *bp = cs_asprintf("%s/chart_scenario_%s.%s", dir, name, ext[e]);
                st = bp ? cs_chart_bars(4, cats, 2, ser, bv, &co, bp) : CS_ENOMEM;
                cs_free(bp);
            }
        }
        if (!st) {
            uint32_t *ord = cs_mallocarray(n, sizeof *ord);
            if (!ord) st = CS_ENOMEM;
            else cs_eq_rank(chg->real_income_hat, n, ord);
            json_t *j = json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "name", name,
                                  "total_equivalent_variation", json_real(chg->total_ev),
                                  "welfare_change_income_weighted", json_real(chg->total_welfare_hat - 1),
                                  "welfare_change_population_weighted", json_real(chg->total_welfare_hat_pop - 1),
                                  "gini_real_income_before", json_real(b0.gini), "gini_real_income_after", json_real(b1.gini),
                                  "theil_l_real_income_before", json_real(b0.theil_l),
                                  "theil_l_real_income_after", json_real(b1.theil_l),
                                  "horizon", json_string(g->long_run ? "long run (mobility within groups)" : "short run"));
            if (ord && n) {
                json_object_set_new(j, "largest_gain", json_pack("{s:s,s:f}", "city", c->name[ord[0]], "real_income_change_pct",
                                                                 100 * (chg->real_income_hat[ord[0]] - 1)));
                json_object_set_new(j, "smallest_gain", json_pack("{s:s,s:f}", "city", c->name[ord[n - 1]], "real_income_change_pct",
                                                                  100 * (chg->real_income_hat[ord[n - 1]] - 1)));
            }
            if (appraised)
                json_object_set_new(j, "appraisal", json_pack("{s:f,s:o,s:o,s:o,s:f}", "capital_cost", capital, "npv",
                                                              json_real(ap.npv), "bcr", isfinite(ap.bcr) ? json_real(ap.bcr) : json_null(),
                                                              "eirr", isfinite(ap.eirr) ? json_real(ap.eirr) : json_null(),
                                                              "discount_rate", CS_DEFAULT_DISCOUNT_RATE));
            json_array_append_new(jout, j);
            cs_free(ord);
        }
        cs_free(r0);
        cs_free(r1);
        cs_free(pct);
        cs_free(dacc);
    }
    cs_eq_state_free(after);
    cs_eq_change_free(chg);
    cs_matrix_free(time1);
    cs_matrix_free(cost1);
    cs_matrix_free(tau1);
    cs_route_changes_free(rc);
    cs_free(ashift);
    cs_free(bshift);
    cs_free(member);
    cs_free(soft);
    cs_free(restore);
    if (st) cs_error_prefix("scenario '%s'", name ? name : "?");
    return st;
}

static cs_status sc_run(cs_run_ctx *ctx, const char *dir)
{
    sc_cfg g;
    if (parse_sc(ctx, ctx->diag, &g)) {
        sc_free(&g);
        return CS_EPARSE;
    }
    const cs_cities *c = ctx->cities;
    size_t n = c->n;
    cs_status st = CS_OK;
    /* baseline: iceberg costs from the generalised cost; calibrate to observed population and income */
    extern cs_status cs_run_cost_params(const cs_run_ctx *ctx, cs_cost_params *cp);
    cs_cost_params cp;
    st = cs_run_cost_params(ctx, &cp);
    cs_matrix *tau0 = NULL;
    if (!st) st = cs_cost_iceberg(ctx->cost, &cp, &tau0);
    uint32_t *grp = NULL;
    size_t ng = 0;
    if (!st) st = cs_eq_groups_from_labels((const char *const *)city_col(c, g.mobility_field), n, &grp, &ng, NULL);
    cs_eq_params ep;
    cs_eq_params_default(&ep);
    ep.theta = g.theta;
    ep.alpha = g.alpha;
    ep.beta = g.beta;
    cs_eq_model *model = NULL;
    cs_eq_state *base = NULL;
    double *w = cs_mallocarray(n ? n : 1, sizeof *w), *L = cs_mallocarray(n ? n : 1, sizeof *L);
    if (!w || !L) st = st ? st : CS_ENOMEM;
    for (size_t i = 0; !st && i < n; i++) {
        w[i] = c->gdp_per_head[i];
        L[i] = c->population[i];
        if (!(w[i] > 0) || !(L[i] > 0))
            st = cs_error_set(CS_EPARSE, "scenarios: city '%s' needs a population and an income per head > 0 for the model",
                              c->id[i]);
    }
    if (!st) st = cs_eq_calibrate(&ep, n, grp, L, w, tau0, ctx->diag, &model, &base);
    json_t *jl = json_array();
    for (size_t k = 0; !st && k < json_array_size(g.items); k++)
        st = one(ctx, &g, json_array_get(g.items, k), dir, model, base, tau0, &cp, jl);
    if (!st) {
        if (!ctx->summary) ctx->summary = json_object();
        json_object_set_new(ctx->summary, "scenarios", jl);
        jl = NULL;
    }
    json_decref(jl);
    sc_free(&g);
    cs_eq_model_free(model);
    cs_eq_state_free(base);
    cs_matrix_free(tau0);
    cs_free(grp);
    cs_free(w);
    cs_free(L);
    return st;
}

const cs_run_step cs_step_scenarios = {"scenarios", 1, 0, sc_wanted, sc_hash, sc_run, NULL};

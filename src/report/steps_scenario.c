/*
 * steps_scenario.c: the "scenarios" step of the main job, on the scenario
 * library (scenario.h): each scenario of the project's `scenarios` section
 * (inline, or {"path": FILE} — JSON or GeoJSON, with includes) is validated
 * against the baseline, then evaluated with the spatial equilibrium model
 * calibrated once to the baseline. Outputs per scenario: per-city CSV (and
 * GeoPackage layers of the cities and of the changes drawn as lines),
 * per-group and per-country aggregates, inequality before/after with its
 * decompositions, a map and a chart; optional typology before/after
 * (`before_after: true`); for all scenarios: scenarios.json, a comparison
 * table (row per scenario) and a per-city table (column per scenario).
 * Also the project-level entry points of the CLI (scenario check, simulate,
 * compare). Schema: docs/project-file.md; channels: docs/scenarios.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "citysys/alloc.h"
#include "citysys/appraisal.h"
#include "citysys/chart.h"
#include "citysys/cost.h"
#include "citysys/equilibrium.h"
#include "citysys/fileio.h"
#include "citysys/flows.h"
#include "citysys/gravity.h"
#include "citysys/map.h"
#include "citysys/network.h"
#include "citysys/routing.h"
#include "citysys/run.h"
#include "citysys/scenario.h"
#include "citysys/table.h"
#include "citysys/typology.h"
#include "report/run_steps.h"
#include "report/section.h"
#include "scenario/scenario_base.h"

static const char *const SC_KEYS[] = {"horizon", "mobility_field", "theta", "alpha", "beta", "country_code_field",
                                      "mobility", "kappa", "before_after", "access_theta", "list", NULL};

typedef struct sc_cfg {
    int long_run, imperfect, before_after;
    const char *mobility_field, *code_field;
    double theta, alpha, beta, kappa, access_theta;
    cs_scenario **items; /* owned, nitems */
    size_t nitems;
} sc_cfg;

static void sc_free(sc_cfg *g)
{
    for (size_t k = 0; k < g->nitems; k++) cs_scenario_free(g->items[k]);
    cs_free(g->items);
    g->items = NULL;
    g->nitems = 0;
}

/* locate a key path of the project file (inline scenarios) */
static cs_status proj_locate(void *user, const char *path, long *line, long *col)
{
    return cs_project_locate((const cs_project *)user, path, 0, line, col);
}

/* Parse the section and read every scenario (structure only). Returns the number of errors. */
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
    g->kappa = 3;
    g->access_theta = 1;
    cs_sec s;
    if (!cs_sec_open(&s, ctx->project, diag, "scenarios", &errors)) return errors;
    cs_sec_check_keys(&s, SC_KEYS);
    static const char *const hz[] = {"short", "long", NULL};
    static const char *const mob[] = {"perfect", "imperfect", NULL};
    g->long_run = cs_sec_enum(&s, "horizon", hz, 1);
    g->imperfect = cs_sec_enum(&s, "mobility", mob, 0);
    g->mobility_field = cs_sec_str(&s, "mobility_field", g->mobility_field);
    g->code_field = cs_sec_str(&s, "country_code_field", g->code_field);
    g->theta = cs_sec_num(&s, "theta", g->theta, 0.1, 50);
    g->alpha = cs_sec_num(&s, "alpha", g->alpha, -1, 1);
    g->beta = cs_sec_num(&s, "beta", g->beta, -5, 1);
    g->kappa = cs_sec_num(&s, "kappa", g->kappa, 0.01, 100);
    g->access_theta = cs_sec_num(&s, "access_theta", g->access_theta, 0, 20);
    g->before_after = cs_sec_bool(&s, "before_after", 0);
    const cs_cities *c = ctx->cities;
    if (c && !sc_city_col(c, g->mobility_field))
        cs_sec_error(&s, "mobility_field", "the city table has no column '%s'", g->mobility_field);
    if (c && !sc_city_col(c, g->code_field))
        cs_sec_error(&s, "country_code_field", "the city table has no column '%s'", g->code_field);
    if (c && !c->gdp_per_head) cs_sec_error(&s, NULL, "scenarios need the income per head of every city (cities.fields.gdp_per_head)");
    const json_t *list = json_object_get(s.obj, "list");
    if (!json_is_array(list)) {
        cs_sec_error(&s, "list", "expected an array of scenarios");
        return errors;
    }
    size_t n = json_array_size(list);
    g->items = cs_calloc(n ? n : 1, sizeof *g->items);
    if (!g->items) return ++errors;
    char *dir = cs_project_resolve(ctx->project, ".");
    for (size_t k = 0; k < n; k++) {
        cs_sec one = s;
        snprintf(one.path, sizeof one.path, "scenarios.list[%zu]", k);
        one.obj = json_array_get(list, k);
        if (!json_is_object(one.obj)) {
            cs_sec_error(&one, NULL, "expected a scenario object or {\"path\": FILE}");
            continue;
        }
        const json_t *pth = json_object_get(one.obj, "path");
        cs_scenario *sc = NULL;
        if (pth) {
            static const char *const PK[] = {"path", NULL};
            cs_sec_check_keys(&one, PK);
            if (!json_is_string(pth)) {
                cs_sec_error(&one, "path", "expected a file path");
                continue;
            }
            char *file = cs_project_resolve(ctx->project, json_string_value(pth));
            if (!file) {
                errors++;
                continue;
            }
            cs_status st = cs_scenario_read(file, NULL, diag, &sc);
            if (st == CS_EIO) cs_sec_error(&one, "path", "cannot read the scenario file '%s'", file);
            else if (st) errors++;
            cs_free(file);
        } else {
            sc_locator loc = {proj_locate, (void *)ctx->project};
            int e = cs_scenario_from_json_(one.obj, cs_project_path(ctx->project), one.path, &loc, dir, NULL, diag, &sc);
            errors += e;
            if (!e && !json_object_get(one.obj, "name")) {
                cs_sec_error(&one, "name", "an inline scenario needs a name (a-z, 0-9, _)");
                cs_scenario_free(sc);
                sc = NULL;
            }
        }
        if (!sc) continue;
        for (size_t q = 0; q < g->nitems; q++)
            if (!strcmp(cs_scenario_name(g->items[q]), cs_scenario_name(sc)))
                cs_sec_error(&one, NULL, "two scenarios are named '%s'", cs_scenario_name(sc));
        g->items[g->nitems++] = sc;
    }
    cs_free(dir);
    return errors;
}

/* baseline inputs from the context (the network parts may be NULL in the validate step) */
static void inputs_from_ctx(const cs_run_ctx *ctx, const sc_cfg *g, const cs_matrix *bt, const cs_matrix *bd,
                            cs_scenario_inputs *in)
{
    cs_scenario_inputs_default(in);
    const cs_cities *c = ctx->cities;
    in->cities = c;
    in->net = ctx->net;
    in->router = ctx->router;
    in->loc = ctx->loc;
    in->time = ctx->time;
    in->dist = ctx->dist;
    in->country = (const char *const *)sc_city_col(c, g->code_field);
    in->region = (const char *const *)c->region;
    in->mobility = (const char *const *)sc_city_col(c, g->mobility_field);
    in->border_time_min = bt;
    in->border_dist_m = bd;
    in->flows = ctx->flows;
    in->eq.theta = g->theta;
    in->eq.alpha = g->alpha;
    in->eq.beta = g->beta;
    in->eq.mobility = g->imperfect ? CS_EQ_IMPERFECT : CS_EQ_PERFECT;
    in->eq.kappa = g->kappa;
}

extern cs_status cs_run_border_matrices(const cs_run_ctx *ctx, cs_matrix **bt, cs_matrix **bd);
extern cs_status cs_run_cost_params(const cs_run_ctx *ctx, cs_cost_params *cp);
extern cs_status cs_run_gravity_opts(const cs_run_ctx *ctx, cs_gravity_opts *go);
extern cs_status cs_run_typology_params(const cs_run_ctx *ctx, cs_typology_params *tp, int *hub_gravity);

cs_status cs_run_check_scenarios_section(cs_run_ctx *ctx);
cs_status cs_run_check_scenarios_section(cs_run_ctx *ctx)
{
    sc_cfg g;
    int e = parse_sc(ctx, ctx->diag, &g);
    if (!e && ctx->cities && g.nitems) {
        /* ids that the validate step can check already (cities, countries, regions; the network ids are
           checked when the scenarios step runs, before anything is evaluated) */
        cs_matrix *bt = NULL, *bd = NULL;
        if (cs_run_border_matrices(ctx, &bt, &bd)) {
            cs_error_clear();
            bt = bd = NULL;
        }
        cs_scenario_inputs in;
        inputs_from_ctx(ctx, &g, bt, bd, &in);
        sc_index x;
        if (!sc_index_build(&in, &x)) {
            for (size_t k = 0; k < g.nitems; k++)
                e += sc_validate_with(g.items[k], &in, &x, ctx->diag, SC_V_NET_OPTIONAL | (bt || bd ? 0 : SC_V_BORDER_OPTIONAL));
            sc_index_free(&x);
        }
        cs_matrix_free(bt);
        cs_matrix_free(bd);
    }
    sc_free(&g);
    return e ? CS_EPARSE : CS_OK;
}

static int sc_wanted(const cs_run_ctx *ctx) { return ctx->cost && cs_project_section(ctx->project, "scenarios"); }

static cs_status sc_hash(const cs_run_ctx *ctx, cs_sha256 *h)
{
    /* the section, and the content of every scenario file it names (and their includes) */
    cs_status st = cs_project_hash_section(ctx->project, "scenarios", h);
    sc_cfg g;
    memset(&g, 0, sizeof g);
    if (!st && !parse_sc(ctx, NULL, &g)) {
        for (size_t k = 0; k < g.nitems; k++) {
            char *txt = cs_scenario_to_json(g.items[k]);
            if (txt) cs_sha256_str(h, txt);
            cs_free(txt);
        }
    }
    sc_free(&g);
    return st;
}

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* typology class of a city for decompositions (docs/scenarios.md) */
static const char *typ_class(const cs_typology *t, size_t i)
{
    if (t->is_primary && t->is_primary[i]) return "primary";
    if (t->is_secondary && t->is_secondary[i]) return "secondary";
    if (t->cluster && t->cluster[i] != CS_INVALID_ID) return "metropolitan";
    if (t->is_isolated && t->is_isolated[i]) return "isolated";
    return "other";
}

static int want_gpkg(const cs_project *p)
{
    size_t n = 0;
    const cs_vector_format *f = cs_project_output_formats(p, &n);
    for (size_t k = 0; f && k < n; k++)
        if (f[k] == CS_FORMAT_GPKG) return 1;
    return 0;
}

static cs_status write_aggregate(const char *path, const cs_eq_aggregate *a, const char *const *names, const char *col)
{
    cs_table *t = NULL;
    double *wc = cs_mallocarray(a->nlabels ? a->nlabels : 1, sizeof *wc), *rc = cs_mallocarray(a->nlabels ? a->nlabels : 1, sizeof *rc);
    cs_status st = (!wc || !rc) ? CS_ENOMEM : cs_table_new(a->nlabels, &t);
    for (size_t k = 0; !st && k < a->nlabels; k++) {
        wc[k] = 100 * (a->welfare_hat[k] - 1);
        rc[k] = 100 * (a->real_income_hat[k] - 1);
    }
    if (!st) st = cs_table_add_string(t, col, names);
    if (!st) st = cs_table_add_real(t, "population_before", a->pop_before);
    if (!st) st = cs_table_add_real(t, "population_after", a->pop_after);
    if (!st) st = cs_table_add_real(t, "income_before", a->income_before);
    if (!st) st = cs_table_add_real(t, "income_after", a->income_after);
    if (!st) st = cs_table_add_real(t, "equivalent_variation", a->ev);
    if (!st) st = cs_table_add_real(t, "welfare_change_pct", wc);
    if (!st) st = cs_table_add_real(t, "real_income_change_pct", rc);
    if (!st) st = cs_table_write(t, path, CS_FORMAT_CSV, NULL, 0);
    cs_table_free(t);
    cs_free(wc);
    cs_free(rc);
    return st;
}

static cs_status write_ineq(const char *path, const cs_scenario_result *r)
{
    size_t n = r->nineq;
    cs_table *t = NULL;
    const char **var = cs_calloc(n + 1, sizeof *var), **mea = cs_calloc(n + 1, sizeof *mea), **par = cs_calloc(n + 1, sizeof *par);
    double *v = cs_calloc(7 * (n + 1), sizeof *v);
    cs_status st = (!var || !mea || !par || !v) ? CS_ENOMEM : cs_table_new(n, &t);
    for (size_t k = 0; !st && k < n; k++) {
        const cs_scenario_ineq *q = &r->ineq[k];
        var[k] = q->variable;
        mea[k] = q->measure;
        par[k] = q->partition;
        double row[7] = {q->before, q->after, q->after - q->before, q->between_before, q->between_after, q->within_before,
                         q->within_after};
        for (int c = 0; c < 7; c++) v[(size_t)c * n + k] = row[c];
    }
    static const char *const cols[7] = {"before", "after", "change", "between_before", "between_after", "within_before",
                                        "within_after"};
    if (!st) st = cs_table_add_string(t, "variable", var);
    if (!st) st = cs_table_add_string(t, "measure", mea);
    if (!st) st = cs_table_add_string(t, "partition", par);
    for (int c = 0; !st && c < 7; c++) st = cs_table_add_real(t, cols[c], v + (size_t)c * n);
    if (!st) st = cs_table_write(t, path, CS_FORMAT_CSV, NULL, 0);
    cs_table_free(t);
    cs_free(var);
    cs_free(mea);
    cs_free(par);
    cs_free(v);
    return st;
}

static const cs_scenario_ineq *find_ineq(const cs_scenario_result *r, const char *var, const char *meas, const char *part)
{
    for (size_t k = 0; k < r->nineq; k++)
        if (!strcmp(r->ineq[k].variable, var) && !strcmp(r->ineq[k].measure, meas) && !strcmp(r->ineq[k].partition, part))
            return &r->ineq[k];
    return NULL;
}

static cs_status render3(cs_map *m, const char *dir, const char *stem)
{
    static const char *const ext[3] = {"png", "svg", "pdf"};
    cs_status st = CS_OK;
    for (int e = 0; !st && e < 3; e++) {
        char *mp = cs_asprintf("%s/%s.%s", dir, stem, ext[e]);
        st = mp ? cs_map_render(m, mp) : CS_ENOMEM;
        cs_free(mp);
    }
    return st;
}

static cs_status new_map(const cs_cities *c, const char *title, cs_map **out)
{
    size_t n = c->n;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        x0 = fmin(x0, c->lon[i]);
        x1 = fmax(x1, c->lon[i]);
        y0 = fmin(y0, c->lat[i]);
        y1 = fmax(y1, c->lat[i]);
    }
    cs_map_opts mo;
    cs_map_opts_default(&mo);
    mo.title = title;
    mo.attribution = "Boundaries: Natural Earth · Roads: © OpenStreetMap contributors";
    double dx = (x1 - x0) * 0.04 + 0.01, dy = (y1 - y0) * 0.04 + 0.01;
    cs_status st = cs_map_new(fmax(-180, x0 - dx), fmax(-89, y0 - dy), fmin(180, x1 + dx), fmin(89, y1 + dy), &mo, out);
    char *ne = NULL;
    if (!st && !cs_data_find("boundaries/ne_50m_countries.geojson.gz", &ne)) st = cs_map_add_boundaries(*out, ne);
    cs_free(ne);
    return st;
}

/* Outputs of one evaluated scenario. */
static cs_status write_one(cs_run_ctx *ctx, const sc_cfg *g, const cs_scenario *sc, const cs_scenario_inputs *in,
                           const cs_scenario_base *b, const cs_scenario_result *r, const char *dir, json_t *jout)
{
    const cs_cities *c = ctx->cities;
    size_t n = c->n;
    const char *name = cs_scenario_name(sc);
    const cs_eq_state *base = cs_scenario_base_state(b);
    const cs_eq_change *chg = r->change;
    cs_status st = CS_OK;
    double *col = cs_mallocarray(8 * n, sizeof *col);
    if (!col) return CS_ENOMEM;
    double *pct = col, *ri0 = col + n, *ri1 = col + 2 * n, *acc = col + 3 * n, *evp = col + 4 * n;
    double y0[1];
    (void)y0;
    for (size_t i = 0; i < n; i++) {
        pct[i] = 100 * (chg->real_income_hat[i] - 1);
        ri0[i] = c->gdp_per_head[i];
        ri1[i] = c->gdp_per_head[i] * chg->real_income_hat[i];
        acc[i] = r->access_before[i] > 0 ? 100 * (r->access_after[i] / r->access_before[i] - 1) : NAN;
        evp[i] = chg->ev[i] / base->L[i];
    }
    /* per city */
    cs_table *t = NULL;
    st = cs_table_new(n, &t);
    if (!st) st = cs_table_add_string(t, "id", (const char *const *)c->id);
    if (!st) st = cs_table_add_string(t, "name", (const char *const *)c->name);
    if (!st && in->country) st = cs_table_add_string(t, "country_code", in->country);
    if (!st) st = cs_table_add_real(t, "income_change", chg->w_hat);
    if (!st) st = cs_table_add_real(t, "population_change", chg->L_hat);
    if (!st) st = cs_table_add_real(t, "price_index_change", chg->P_hat);
    if (!st) st = cs_table_add_real(t, "real_income_change", chg->real_income_hat);
    if (!st) st = cs_table_add_real(t, "real_income_change_pct", pct);
    if (!st) st = cs_table_add_real(t, "welfare_change_residents", chg->resident_welfare_hat);
    if (!st) st = cs_table_add_real(t, "equivalent_variation", chg->ev);
    if (!st) st = cs_table_add_real(t, "equivalent_variation_per_head", evp);
    if (!st) st = cs_table_add_real(t, "population_before", base->L);
    if (!st) st = cs_table_add_real(t, "population_after", r->after->L);
    if (!st) st = cs_table_add_real(t, "real_income_per_head_before", ri0);
    if (!st) st = cs_table_add_real(t, "real_income_per_head_after", ri1);
    if (!st) st = cs_table_add_real(t, "market_access_before", r->access_before);
    if (!st) st = cs_table_add_real(t, "market_access_after", r->access_after);
    if (!st) st = cs_table_add_real(t, "market_access_change_pct", acc);
    if (!st) st = cs_table_add_real(t, "mean_time_before_s", r->mean_time_before);
    if (!st) st = cs_table_add_real(t, "mean_time_after_s", r->mean_time_after);
    if (!st) st = cs_table_add_real(t, "productivity_shift", r->a_shift);
    if (!st) st = cs_table_add_real(t, "amenity_shift", r->b_shift);
    if (!st) st = cs_table_set_points(t, c->lon, c->lat);
    char *p = cs_asprintf("%s/scenario_%s.csv", dir, name);
    if (!p) st = st ? st : CS_ENOMEM;
    if (!st) st = cs_table_write(t, p, CS_FORMAT_CSV, "scenario", 0);
    cs_free(p);
    /* GeoPackage: cities with their changes, and the changes drawn as lines */
    sc_lines L;
    memset(&L, 0, sizeof L);
    if (!st) st = sc_lines_build(sc, in, &L);
    if (!st && want_gpkg(ctx->project)) {
        cs_table *lt = NULL;
        st = cs_scenario_lines(sc, in, &lt);
        char *gp = cs_asprintf("%s/scenario_%s.gpkg", dir, name);
        cs_gpkg_writer *w = NULL;
        if (!st) st = gp ? cs_gpkg_begin(gp, &w) : CS_ENOMEM;
        if (!st) st = cs_gpkg_add(w, t, "cities");
        if (!st && cs_table_rows(lt)) st = cs_gpkg_add(w, lt, "changes");
        if (!st) st = cs_gpkg_commit(w);
        else if (w) cs_gpkg_abort(w);
        cs_free(gp);
        cs_table_free(lt);
    }
    cs_table_free(t);
    /* aggregates and inequality */
    if (!st) {
        p = cs_asprintf("%s/scenario_%s_groups.csv", dir, name);
        st = p ? write_aggregate(p, r->by_group, r->group_names, "group") : CS_ENOMEM;
        cs_free(p);
    }
    if (!st) {
        p = cs_asprintf("%s/scenario_%s_countries.csv", dir, name);
        st = p ? write_aggregate(p, r->by_country, r->country_names, "country") : CS_ENOMEM;
        cs_free(p);
    }
    if (!st) {
        p = cs_asprintf("%s/scenario_%s_inequality.csv", dir, name);
        st = p ? write_ineq(p, r) : CS_ENOMEM;
        cs_free(p);
    }
    /* map: change in real income, with the changes drawn */
    if (!st) {
        char title[160];
        snprintf(title, sizeof title, "Change in real income per head: %s", name);
        cs_map *m = NULL;
        st = new_map(c, title, &m);
        if (!st && L.rows) {
            uint64_t *off = cs_mallocarray(L.rows + 1, sizeof *off);
            if (!off) st = CS_ENOMEM;
            for (size_t k = 0; !st && k <= L.rows; k++) off[k] = L.off[k];
            if (!st) st = cs_map_add_lines(m, L.rows, off, L.lon, L.lat, NULL, "changes");
            cs_free(off);
        }
        cs_map_cities mc = {n, c->lon, c->lat, c->population, NULL, 0, NULL, pct, "real income change, %",
                            (const char *const *)c->name, 20};
        if (!st) st = cs_map_add_cities(m, &mc);
        char stem[128];
        snprintf(stem, sizeof stem, "map_scenario_%s", name);
        if (!st) st = render3(m, dir, stem);
        cs_map_free(m);
    }
    sc_lines_free(&L);
    /* chart: inequality of real income before and after */
    const cs_scenario_ineq *gi = find_ineq(r, "real_income", "gini", "none"), *tt = find_ineq(r, "real_income", "theil_t", "none"),
                           *tl = find_ineq(r, "real_income", "theil_l", "none"), *cv = find_ineq(r, "real_income", "cv", "none");
    if (!st && gi && tt && tl && cv) {
        const char *cats[4] = {"Gini", "Theil T", "Theil L", "CV"};
        const char *ser[2] = {"before", "after"};
        double bv[8] = {gi->before, tt->before, tl->before, cv->before, gi->after, tt->after, tl->after, cv->after};
        cs_chart_opts co;
        cs_chart_opts_default(&co);
        char title[160];
        snprintf(title, sizeof title, "Inequality of real income per head: %s", name);
        co.title = title;
        co.note = "Each person once (population-weighted); docs/scenarios.md.";
        static const char *const ext[3] = {"png", "svg", "pdf"};
        for (int e = 0; !st && e < 3; e++) {
            char *bp = cs_asprintf("%s/chart_scenario_%s.%s", dir, name, ext[e]);
            st = bp ? cs_chart_bars(4, cats, 2, ser, bv, &co, bp) : CS_ENOMEM;
            cs_free(bp);
        }
    }
    /* typology before/after */
    if (!st && r->typology_before && r->typology_after) {
        const cs_typology *t0 = r->typology_before, *t1 = r->typology_after;
        const char **k0 = cs_mallocarray(n, sizeof *k0), **k1 = cs_mallocarray(n, sizeof *k1);
        int64_t *iv = cs_mallocarray(4 * n, sizeof *iv);
        uint8_t *nul = cs_calloc(4 * n, 1);
        cs_table *tt2 = NULL;
        st = (!k0 || !k1 || !iv || !nul) ? CS_ENOMEM : cs_table_new(n, &tt2);
        for (size_t i = 0; !st && i < n; i++) {
            k0[i] = typ_class(t0, i);
            k1[i] = typ_class(t1, i);
            iv[i] = t0->cluster[i] == CS_INVALID_ID ? (nul[i] = 1, 0) : (int64_t)t0->cluster[i];
            iv[n + i] = t1->cluster[i] == CS_INVALID_ID ? (nul[n + i] = 1, 0) : (int64_t)t1->cluster[i];
            iv[2 * n + i] = t0->hub[i] == CS_INVALID_ID ? (nul[2 * n + i] = 1, 0) : (int64_t)t0->hub[i];
            iv[3 * n + i] = t1->hub[i] == CS_INVALID_ID ? (nul[3 * n + i] = 1, 0) : (int64_t)t1->hub[i];
        }
        if (!st) st = cs_table_add_string(tt2, "id", (const char *const *)c->id);
        if (!st) st = cs_table_add_string(tt2, "name", (const char *const *)c->name);
        if (!st) st = cs_table_add_string(tt2, "class_before", k0);
        if (!st) st = cs_table_add_string(tt2, "class_after", k1);
        if (!st) st = cs_table_add_integer(tt2, "cluster_before", iv, nul);
        if (!st) st = cs_table_add_integer(tt2, "cluster_after", iv + n, nul + n);
        if (!st) st = cs_table_add_integer(tt2, "hub_before", iv + 2 * n, nul + 2 * n);
        if (!st) st = cs_table_add_integer(tt2, "hub_after", iv + 3 * n, nul + 3 * n);
        if (!st) st = cs_table_set_points(tt2, c->lon, c->lat);
        p = cs_asprintf("%s/scenario_%s_typology.csv", dir, name);
        if (!st) st = p ? cs_table_write(tt2, p, CS_FORMAT_CSV, NULL, 0) : CS_ENOMEM;
        cs_free(p);
        cs_table_free(tt2);
        /* map: class after, cities whose class changed labelled */
        if (!st) {
            static const char *const CLS[5] = {"primary", "secondary", "metropolitan", "isolated", "other"};
            uint32_t *cat = cs_mallocarray(n, sizeof *cat);
            const char **lab = cs_calloc(n, sizeof *lab);
            if (!cat || !lab) st = CS_ENOMEM;
            for (size_t i = 0; !st && i < n; i++) {
                cat[i] = 4;
                for (uint32_t q = 0; q < 5; q++)
                    if (!strcmp(k1[i], CLS[q])) cat[i] = q;
                lab[i] = strcmp(k0[i], k1[i]) ? c->name[i] : NULL;
            }
            char title[160];
            snprintf(title, sizeof title, "City classes after %s (labelled: class changed)", name);
            cs_map *m = NULL;
            if (!st) st = new_map(c, title, &m);
            cs_map_cities mc = {n, c->lon, c->lat, c->population, cat, 5, CLS, NULL, NULL, lab, 40};
            if (!st) st = cs_map_add_cities(m, &mc);
            char stem[128];
            snprintf(stem, sizeof stem, "map_scenario_%s_typology", name);
            if (!st) st = render3(m, dir, stem);
            cs_map_free(m);
            cs_free(cat);
            cs_free(lab);
        }
        cs_free(k0);
        cs_free(k1);
        cs_free(iv);
        cs_free(nul);
    }
    /* road load before/after: per segment of the network after (base segments, proposed links, added links) */
    if (!st && r->load_before && r->load_after) {
        const cs_load *l0 = r->load_before, *l1 = r->load_after;
        const cs_network *net = in->net;
        size_t m = l1->n_segs, pts = 0;
        cs_table *rt = NULL;
        double *v = cs_mallocarray(4 * (m ? m : 1), sizeof *v);
        const char **ids = cs_calloc(m ? m : 1, sizeof *ids), **kind = cs_calloc(m ? m : 1, sizeof *kind);
        uint64_t *off = cs_mallocarray(m + 1, sizeof *off);
        size_t *offz = cs_mallocarray(m + 1, sizeof *offz);
        size_t cap = 0;
        for (size_t k = 0; k < m; k++) cap += k < net->n_segs ? net->geom_off[k + 1] - net->geom_off[k] : 2;
        double *lon = cs_mallocarray(cap ? cap : 1, sizeof *lon), *lat = cs_mallocarray(cap ? cap : 1, sizeof *lat);
        st = (!v || !ids || !kind || !off || !offz || !lon || !lat) ? CS_ENOMEM : cs_table_new(m, &rt);
        for (size_t k = 0; !st && k < m; k++) {
            double b0 = k < l0->n_segs ? l0->flow_fwd[k] + l0->flow_bwd[k] : 0, b1 = l1->flow_fwd[k] + l1->flow_bwd[k];
            v[k] = b0;
            v[m + k] = b1;
            v[2 * m + k] = b1 - b0;
            v[3 * m + k] = b0 > 0 ? 100 * (b1 / b0 - 1) : NAN;
            off[k] = offz[k] = pts;
            if (k < net->n_segs) {
                ids[k] = net->seg_ext_id && net->seg_ext_id[k] ? net->seg_ext_id[k] : "";
                kind[k] = "network";
                for (uint64_t gq = net->geom_off[k]; gq < net->geom_off[k + 1]; gq++) {
                    lon[pts] = net->geom_lon_deg[gq];
                    lat[pts++] = net->geom_lat_deg[gq];
                }
            } else {
                size_t q = k - net->n_segs;
                int prop = q < net->proposed.n;
                ids[k] = prop && net->proposed.ext_id && net->proposed.ext_id[q] ? net->proposed.ext_id[q] : "";
                kind[k] = prop ? "proposed" : "added";
                /* the network after is built from arcs: proposed links, then the added links in change order */
                uint32_t a = prop ? net->proposed.u[q] : CS_INVALID_ID, z = prop ? net->proposed.v[q] : CS_INVALID_ID;
                if (!prop) {
                    size_t want = q - net->proposed.n, seen = 0;
                    for (size_t h = 0; h < sc->n && a == CS_INVALID_ID; h++) {
                        const sc_change *ch = &sc->ch[h];
                        if (!(ch->type == CS_CHANGE_LINK || (ch->type == CS_CHANGE_BUILD && !ch->nitems))) continue;
                        if (seen++ != want) continue;
                        double dd;
                        a = sc_end_node(in, ch, 0, &dd);
                        z = sc_end_node(in, ch, 1, &dd);
                    }
                }
                lon[pts] = a != CS_INVALID_ID ? net->lon_deg[a] : NAN;
                lat[pts++] = a != CS_INVALID_ID ? net->lat_deg[a] : NAN;
                lon[pts] = z != CS_INVALID_ID ? net->lon_deg[z] : NAN;
                lat[pts++] = z != CS_INVALID_ID ? net->lat_deg[z] : NAN;
            }
        }
        if (!st) {
            off[m] = offz[m] = pts;
            st = cs_table_add_string(rt, "edge_id", ids);
        }
        if (!st) st = cs_table_add_string(rt, "kind", kind);
        if (!st) st = cs_table_add_real(rt, "flow_before", v);
        if (!st) st = cs_table_add_real(rt, "flow_after", v + m);
        if (!st) st = cs_table_add_real(rt, "flow_change", v + 2 * m);
        if (!st) st = cs_table_add_real(rt, "flow_change_pct", v + 3 * m);
        if (!st) st = cs_table_set_lines(rt, offz, lon, lat);
        p = cs_asprintf("%s/scenario_%s_roads.csv", dir, name);
        if (!st) st = p ? cs_table_write(rt, p, CS_FORMAT_CSV, NULL, 0) : CS_ENOMEM;
        cs_free(p);
        cs_table_free(rt);
        if (!st) {
            char title[160];
            snprintf(title, sizeof title, "Road load after %s (%s)", name,
                     r->load_flows_recomputed ? "gravity flows after the scenario" : "gravity flows held at the baseline");
            cs_map *mp = NULL;
            st = new_map(c, title, &mp);
            /* segments without flow after are left out of the value scale but drawn */
            if (!st) st = cs_map_add_lines(mp, m, off, lon, lat, v + m, "flow after");
            char stem[128];
            snprintf(stem, sizeof stem, "map_scenario_%s_load", name);
            if (!st) st = render3(mp, dir, stem);
            cs_map_free(mp);
        }
        cs_free(v);
        cs_free(ids);
        cs_free(kind);
        cs_free(off);
        cs_free(offz);
        cs_free(lon);
        cs_free(lat);
    }
    /* summary */
    if (!st) {
        const cs_scenario_ineq *tlc = find_ineq(r, "real_income", "theil_l", "country");
        json_t *j = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:I,s:I,s:I,s:I,s:I}", "name", name, "description",
                              cs_scenario_description(sc), "total_equivalent_variation", num(r->total_ev),
                              "welfare_change_income_weighted", num(r->welfare_change), "welfare_change_population_weighted",
                              num(r->welfare_change_pop), "gini_real_income_before", num(gi ? gi->before : NAN),
                              "gini_real_income_after", num(gi ? gi->after : NAN), "theil_l_real_income_before",
                              num(tl ? tl->before : NAN), "theil_l_real_income_after", num(tl ? tl->after : NAN), "horizon",
                              g->long_run ? "long run (mobility within groups)" : "short run", "changes",
                              (json_int_t)cs_scenario_nchanges(sc), "cities_gaining", (json_int_t)r->n_gainers,
                              "cities_losing", (json_int_t)r->n_losers, "pairs_faster", (json_int_t)r->pairs_faster,
                              "pairs_using_nonroad_links", (json_int_t)r->pairs_nonroad_after);
        if (j && tlc) {
            json_object_set_new(j, "theil_l_between_countries_before", num(tlc->between_before));
            json_object_set_new(j, "theil_l_between_countries_after", num(tlc->between_after));
        }
        if (j && n) {
            uint32_t hi = r->rank[0], lo = r->rank[n - 1];
            json_object_set_new(j, "largest_gain", json_pack("{s:s,s:s,s:o}", "city", c->name[hi], "id", c->id[hi],
                                                             "real_income_change_pct", num(100 * (chg->real_income_hat[hi] - 1))));
            json_object_set_new(j, "smallest_gain", json_pack("{s:s,s:s,s:o}", "city", c->name[lo], "id", c->id[lo],
                                                              "real_income_change_pct", num(100 * (chg->real_income_hat[lo] - 1))));
        }
        if (j && r->appraised)
            json_object_set_new(j, "appraisal", json_pack("{s:f,s:f,s:o,s:o,s:o,s:f}", "capital_cost", r->capital_cost,
                                                          "annual_cost", r->annual_cost, "npv", num(r->appraisal.npv), "bcr",
                                                          num(r->appraisal.bcr), "eirr", num(r->appraisal.eirr),
                                                          "discount_rate", CS_DEFAULT_DISCOUNT_RATE));
        if (!j) st = CS_ENOMEM;
        else json_array_append_new(jout, j);
    }
    cs_free(col);
    return st;
}

/* scenarios side by side: a row per scenario; a column per scenario and city */
static cs_status write_compare(const cs_run_ctx *ctx, const sc_cfg *g, cs_scenario_result *const *res, const json_t *jl,
                               const char *dir)
{
    size_t ns = g->nitems, n = ctx->cities->n;
    cs_table *t = NULL;
    const char **names = cs_calloc(ns + 1, sizeof *names);
    double *v = cs_calloc(12 * (ns + 1), sizeof *v);
    cs_status st = (!names || !v) ? CS_ENOMEM : cs_table_new(ns, &t);
    static const char *const cols[12] = {"total_equivalent_variation", "welfare_change_pct", "welfare_change_pop_pct",
                                         "capital_cost", "npv", "bcr", "eirr", "gini_before", "gini_after",
                                         "theil_l_between_countries_after", "cities_gaining", "cities_losing"};
    for (size_t k = 0; !st && k < ns; k++) {
        const cs_scenario_result *r = res[k];
        names[k] = cs_scenario_name(g->items[k]);
        const cs_scenario_ineq *gi = find_ineq(r, "real_income", "gini", "none"), *tc = find_ineq(r, "real_income", "theil_l", "country");
        double row[12] = {r->total_ev, 100 * r->welfare_change, 100 * r->welfare_change_pop, r->capital_cost,
                          r->appraised ? r->appraisal.npv : NAN, r->appraised ? r->appraisal.bcr : NAN,
                          r->appraised ? r->appraisal.eirr : NAN, gi ? gi->before : NAN, gi ? gi->after : NAN,
                          tc ? tc->between_after : NAN, (double)r->n_gainers, (double)r->n_losers};
        for (int c = 0; c < 12; c++) v[(size_t)c * ns + k] = row[c];
    }
    (void)jl;
    if (!st) st = cs_table_add_string(t, "scenario", names);
    for (int c = 0; !st && c < 12; c++) st = cs_table_add_real(t, cols[c], v + (size_t)c * ns);
    char *p = cs_asprintf("%s/scenarios_compare.csv", dir);
    if (!st) st = p ? cs_table_write(t, p, CS_FORMAT_CSV, NULL, 0) : CS_ENOMEM;
    cs_free(p);
    cs_table_free(t);
    cs_free(v);
    /* per city: real income change and EV per head, one column each per scenario */
    t = NULL;
    double *col = cs_mallocarray(n ? n : 1, sizeof *col);
    if (!st) st = col ? cs_table_new(n, &t) : CS_ENOMEM;
    if (!st) st = cs_table_add_string(t, "id", (const char *const *)ctx->cities->id);
    if (!st) st = cs_table_add_string(t, "name", (const char *const *)ctx->cities->name);
    for (size_t k = 0; !st && k < ns; k++) {
        for (size_t i = 0; i < n; i++) col[i] = 100 * (res[k]->change->real_income_hat[i] - 1);
        char cn[96];
        snprintf(cn, sizeof cn, "%s_real_income_change_pct", names[k]);
        st = cs_table_add_real(t, cn, col);
        for (size_t i = 0; !st && i < n; i++) col[i] = 100 * (res[k]->change->resident_welfare_hat[i] - 1);
        snprintf(cn, sizeof cn, "%s_welfare_change_pct", names[k]);
        if (!st) st = cs_table_add_real(t, cn, col);
    }
    if (!st) st = cs_table_set_points(t, ctx->cities->lon, ctx->cities->lat);
    p = cs_asprintf("%s/scenarios_cities.csv", dir);
    if (!st) st = p ? cs_table_write(t, p, CS_FORMAT_CSV, NULL, 0) : CS_ENOMEM;
    cs_free(p);
    cs_table_free(t);
    cs_free(col);
    cs_free(names);
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
    cs_matrix *bt = NULL, *bd = NULL;
    cs_status st = cs_run_border_matrices(ctx, &bt, &bd);
    cs_scenario_inputs in;
    inputs_from_ctx(ctx, &g, bt, bd, &in);
    const char **typ = NULL;
    if (!st && ctx->typology) {
        typ = cs_mallocarray(n ? n : 1, sizeof *typ);
        if (!typ) st = CS_ENOMEM;
        for (size_t i = 0; !st && i < n; i++) typ[i] = typ_class(ctx->typology, i);
        in.typology = typ;
    }
    if (!st) st = cs_run_cost_params(ctx, &in.cost);
    /* the typology and road load before/after follow the project's typology rules and gravity model */
    cs_gravity_opts gopt;
    cs_typology_params tparams;
    int hub_gravity = 1;
    if (!st) st = cs_run_gravity_opts(ctx, &gopt);
    if (!st) st = cs_run_typology_params(ctx, &tparams, &hub_gravity);
    if (!st) {
        in.gravity = &gopt;
        in.typology_params = &tparams;
        in.typology_own_hub_flows = !hub_gravity;
    }
    /* validate every scenario against the baseline first: nothing runs when one is invalid */
    int errors = 0;
    for (size_t k = 0; !st && k < g.nitems; k++)
        if (cs_scenario_validate(g.items[k], &in, ctx->diag)) errors++;
    if (!st && errors) st = cs_error_set(CS_EPARSE, "%d scenario%s invalid against the baseline", errors, errors == 1 ? " is" : "s are");
    cs_scenario_base *b = NULL;
    if (!st) st = cs_scenario_base_new(&in, ctx->progress, ctx->diag, &b);
    cs_scenario_result **res = cs_calloc(g.nitems + 1, sizeof *res);
    if (!res) st = st ? st : CS_ENOMEM;
    json_t *jl = json_array();
    cs_scenario_opts o;
    cs_scenario_opts_default(&o);
    o.horizon = g.long_run ? CS_EQ_LONG_RUN : CS_EQ_SHORT_RUN;
    o.access_theta = g.access_theta;
    if (g.before_after) o.flags |= CS_SCENARIO_STRUCTURE;
    for (size_t k = 0; !st && k < g.nitems; k++) {
        st = cs_scenario_evaluate(b, g.items[k], &o, ctx->diag, &res[k]);
        if (!st) st = write_one(ctx, &g, g.items[k], &in, b, res[k], dir, jl);
        if (st) cs_error_prefix("scenario '%s'", cs_scenario_name(g.items[k]));
    }
    if (!st && g.nitems) st = write_compare(ctx, &g, res, jl, dir);
    if (!st) {
        json_t *doc = json_pack("{s:O,s:{s:f,s:f,s:f,s:s,s:f,s:f,s:f,s:f,s:f}}", "scenarios", jl, "parameters", "theta", g.theta,
                                "alpha", g.alpha, "beta", g.beta, "mobility", g.imperfect ? "imperfect" : "perfect", "kappa", g.kappa,
                                "tau_c0_min", in.cost.tau_c0, "tau_delta", in.cost.tau_delta, "time_weight", in.cost.time_weight,
                                "access_theta", g.access_theta);
        char *txt = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) : NULL;
        char *p = cs_asprintf("%s/scenarios.json", dir);
        st = txt && p ? cs_write_file_atomic(p, txt, strlen(txt)) : CS_ENOMEM;
        free(txt);
        cs_free(p);
        json_decref(doc);
    }
    if (!st) {
        if (!ctx->summary) ctx->summary = json_object();
        json_object_set_new(ctx->summary, "scenarios", jl);
        jl = NULL;
    }
    json_decref(jl);
    for (size_t k = 0; res && k < g.nitems; k++) cs_scenario_result_free(res[k]);
    cs_free(res);
    cs_scenario_base_free(b);
    cs_free(typ);
    cs_matrix_free(bt);
    cs_matrix_free(bd);
    sc_free(&g);
    return st;
}

const cs_run_step cs_step_scenarios = {"scenarios", 2, 0, sc_wanted, sc_hash, sc_run, NULL};

/* ------------------------------------------------------------ project-level entry points (CLI) */

cs_status cs_scenario_check_project(const cs_project *p, const char *const *files, size_t nfiles, cs_diag *diag)
{
    return cs_scenario_check_project_opts(p, files, nfiles, NULL, diag);
}

cs_status cs_scenario_check_project_opts(const cs_project *p, const char *const *files, size_t nfiles,
                                         const cs_run_opts *ropts, cs_diag *diag)
{
    if (!p || (!files && nfiles)) return cs_error_set(CS_EINVAL, "cs_scenario_check_project: bad arguments");
    cs_run_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    cs_status st = CS_OK;
    int errors = 0;
    cs_scenario **sc = cs_calloc(nfiles + 1, sizeof *sc);
    if (!sc) return CS_ENOMEM;
    for (size_t k = 0; k < nfiles; k++) {
        cs_status s2 = cs_scenario_read(files[k], NULL, diag, &sc[k]);
        if (s2 == CS_EIO) {
            cs_scenario_free(sc[k]);
            sc[k] = NULL;
            st = st ? st : s2;
        } else if (s2) errors++;
    }
    /* the baseline: cities, and the network (ids of segments and proposed links) through the project's step
       cache when ropts names one (otherwise built in a temporary folder); no output is kept */
    if (!st && cs_project_section(p, "network")) {
        cs_run_opts o;
        if (ropts) o = *ropts;
        else {
            cs_run_opts_init(&o);
            o.no_cache = 1;
        }
        o.until = "network";
        st = cs_run_context(p, &o, diag, &ctx);
    } else if (!st) {
        st = cs_project_read_cities(p, diag, &ctx.cities);
    }
    ctx.project = p;
    ctx.diag = diag;
    cs_matrix *bt = NULL, *bd = NULL;
    if (!st && cs_run_border_matrices(&ctx, &bt, &bd)) {
        cs_error_clear();
        bt = bd = NULL;
    }
    sc_cfg g;
    memset(&g, 0, sizeof g);
    g.mobility_field = g.code_field = "country";
    /* the project's country code field, when it has a scenarios section */
    const json_t *sec = cs_project_section(p, "scenarios");
    const json_t *cf = sec ? json_object_get(sec, "country_code_field") : NULL;
    if (json_is_string(cf)) g.code_field = json_string_value(cf);
    if (!st) {
        cs_scenario_inputs in;
        inputs_from_ctx(&ctx, &g, bt, bd, &in);
        for (size_t k = 0; k < nfiles; k++)
            if (sc[k] && cs_scenario_validate(sc[k], &in, diag)) errors++;
    }
    cs_matrix_free(bt);
    cs_matrix_free(bd);
    for (size_t k = 0; k < nfiles; k++) cs_scenario_free(sc[k]);
    cs_free(sc);
    cs_run_ctx_free(&ctx);
    if (!st && errors) st = cs_error_set(CS_EPARSE, "%d of %zu scenario file%s invalid", errors, nfiles, nfiles == 1 ? " is" : "s are");
    return st;
}

cs_status cs_scenario_run_project(const cs_project *p, const char *const *files, size_t nfiles, int horizon,
                                  const cs_run_opts *ropts, const char *outdir, cs_diag *diag, cs_run_summary *summary)
{
    if (!p || !outdir || (!files && nfiles)) return cs_error_set(CS_EINVAL, "cs_scenario_run_project: bad arguments");
    if (!cs_project_section(p, "network"))
        return cs_error_set(CS_EINVAL, "the project has no 'network' section: scenarios need travel times");
    char *canon = cs_project_canonical(p);
    if (!canon) return CS_ENOMEM;
    json_error_t je;
    json_t *root = json_loads(canon, 0, &je);
    cs_free(canon);
    if (!root) return cs_error_set(CS_EINVAL, "internal: canonical project does not parse: %s", je.text);
    json_t *sec = json_object_get(root, "scenarios");
    if (!json_is_object(sec)) {
        sec = json_object();
        json_object_set_new(root, "scenarios", sec);
    }
    cs_status st = CS_OK;
    if (nfiles) {
        json_t *list = json_array();
        for (size_t k = 0; list && !st && k < nfiles; k++) {
            char *abs = realpath(files[k], NULL);
            if (!abs) {
                if (diag) cs_diag_add(diag, CS_SEV_ERROR, CS_EIO, files[k], 0, 0, "", "cannot read the scenario file");
                st = cs_error_set_at(CS_EIO, files[k], 0, 0, "cannot read the scenario file");
                break;
            }
            json_array_append_new(list, json_pack("{s:s}", "path", abs));
            free(abs);
        }
        json_object_set_new(sec, "list", list);
    } else if (!json_object_get(sec, "list")) {
        st = cs_error_set(CS_EINVAL, "no scenario files given and the project lists none");
    }
    if (horizon >= 0) json_object_set_new(sec, "horizon", json_string(horizon == CS_EQ_SHORT_RUN ? "short" : "long"));
    char *txt = st ? NULL : json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(root);
    cs_project *p2 = NULL;
    if (!st) st = txt ? cs_project_parse(txt, strlen(txt), cs_project_path(p), 0, diag, &p2) : CS_ENOMEM;
    free(txt);
    cs_run_opts o;
    if (ropts) o = *ropts;
    else cs_run_opts_init(&o);
    o.until = "scenarios";
    if (!st) st = cs_run(p2, outdir, &o, diag, summary);
    cs_project_free(p2);
    return st;
}

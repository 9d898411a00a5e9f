/*
 * steps_plan.c: the "facilities" step of the main job — each plan of the project's `facilities` section
 * (p-median, maximal covering, set covering or p-center on the city x city travel time in minutes, cities
 * as demand and as candidate sites) is solved and written as CSV/GeoJSON/JSON files prefixed with the
 * plan's name, and as GeoPackage layers in facilities.gpkg (sites, assignment, catchments).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "citysys/alloc.h"
#include "citysys/chart.h"
#include "citysys/facility.h"
#include "citysys/geom.h"
#include "citysys/fileio.h"
#include "citysys/table.h"
#include "report/run_steps.h"
#include "report/section.h"

static const char *const FAC_KEYS[] = {"plans", NULL};
static const char *const PLAN_KEYS[] = {"name", "model", "p", "radius_min", "method", "existing", "time_limit_s",
                                        "coverage_radii_min", "max_sites_curve", "seed", NULL};

typedef struct fac_plan {
    char name[64];
    cs_fac_model model;
    size_t p;
    double radius_min;
    int method;
    const json_t *existing;
    double time_limit_s;
    double radii[16];
    size_t nradii;
    size_t kmax;
    uint64_t seed;
} fac_plan;

static int valid_name(const char *s)
{
    if (!s || !*s || strlen(s) > 40) return 0;
    for (const char *q = s; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_')) return 0;
    return 1;
}

/* parse; plans may be NULL (check only). Returns the number of errors. */
static int parse_fac(const cs_project *p, cs_diag *diag, const cs_cities *c, fac_plan *plans, size_t cap, size_t *np)
{
    int errors = 0;
    *np = 0;
    cs_sec s;
    if (!cs_sec_open(&s, p, diag, "facilities", &errors)) return errors;
    cs_sec_check_keys(&s, FAC_KEYS);
    const json_t *arr = json_object_get(s.obj, "plans");
    if (!arr || !json_is_array(arr)) {
        cs_sec_error(&s, "plans", "expected an array of facility plans");
        return errors;
    }
    for (size_t k = 0; k < json_array_size(arr); k++) {
        cs_sec ps = s;
        snprintf(ps.path, sizeof ps.path, "facilities.plans[%zu]", k);
        ps.obj = json_array_get(arr, k);
        if (!json_is_object(ps.obj)) {
            cs_sec_error(&ps, NULL, "expected an object");
            continue;
        }
        cs_sec_check_keys(&ps, PLAN_KEYS);
        fac_plan f;
        memset(&f, 0, sizeof f);
        const char *name = cs_sec_str(&ps, "name", NULL);
        if (!valid_name(name)) cs_sec_error(&ps, "name", "expected a short name of a-z, 0-9 and _ (it prefixes the output files)");
        else snprintf(f.name, sizeof f.name, "%s", name);
        for (size_t q = 0; q < *np && plans; q++)
            if (name && !strcmp(plans[q].name, name)) cs_sec_error(&ps, "name", "two plans named '%s'", name);
        const char *model = cs_sec_str(&ps, "model", "pmedian");
        if (cs_fac_model_parse(model, &f.model)) cs_sec_error(&ps, "model", "'%s' is not pmedian, mclp, scp or pcenter", model);
        f.p = (size_t)cs_sec_num(&ps, "p", 1, 0, 1e6);
        f.radius_min = cs_sec_num(&ps, "radius_min", 60, 0, 1e7);
        static const char *const methods[] = {"auto", "exact", "heuristic", NULL};
        f.method = cs_sec_enum(&ps, "method", methods, 0);
        f.time_limit_s = cs_sec_num(&ps, "time_limit_s", 60, 0, 1e6);
        f.seed = (uint64_t)cs_sec_num(&ps, "seed", 1, 0, 1e15);
        int pr;
        f.nradii = cs_sec_nums(&ps, "coverage_radii_min", f.radii, 16, 0, 1e7, &pr);
        f.kmax = (size_t)cs_sec_num(&ps, "max_sites_curve", 0, 0, 1e5);
        f.existing = json_object_get(ps.obj, "existing");
        if (f.existing && !json_is_array(f.existing)) cs_sec_error(&ps, "existing", "expected an array of city ids");
        else if (f.existing && c)
            for (size_t q = 0; q < json_array_size(f.existing); q++) {
                const json_t *e = json_array_get(f.existing, q);
                if (!json_is_string(e) || cs_cities_find(c, json_string_value(e)) == CS_INVALID_ID) {
                    char kp[64];
                    snprintf(kp, sizeof kp, "existing[%zu]", q);
                    cs_sec_error(&ps, kp, "not the id of a city of the project");
                }
            }
        if (plans && *np < cap) plans[(*np)++] = f;
        else if (!plans) (*np)++;
    }
    return errors;
}

cs_status cs_run_check_facilities_section(cs_run_ctx *ctx);
cs_status cs_run_check_facilities_section(cs_run_ctx *ctx)
{
    fac_plan pl[32];
    size_t np;
    return parse_fac(ctx->project, ctx->diag, ctx->cities, pl, 32, &np) ? CS_EPARSE : CS_OK;
}

static int fac_wanted(const cs_run_ctx *ctx) { return ctx->time && cs_project_section(ctx->project, "facilities"); }

static cs_status fac_hash(const cs_run_ctx *ctx, cs_sha256 *h) { return cs_project_hash_section(ctx->project, "facilities", h); }

/* move every file of tmp into dir as PREFIX_file */
static cs_status move_prefixed(const char *tmp, const char *dir, const char *prefix)
{
    DIR *d = opendir(tmp);
    if (!d) return cs_error_set_at(CS_EIO, tmp, 0, 0, "cannot read temporary folder");
    struct dirent *e;
    cs_status st = CS_OK;
    while (!st && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *a = cs_asprintf("%s/%s", tmp, e->d_name), *b = cs_asprintf("%s/facilities_%s_%s", dir, prefix, e->d_name);
        if (!a || !b) st = CS_ENOMEM;
        else if (rename(a, b) != 0) st = cs_error_set_at(CS_EIO, b, 0, 0, "cannot move facility output");
        cs_free(a);
        cs_free(b);
    }
    closedir(d);
    return st;
}

static cs_status fac_run(cs_run_ctx *ctx, const char *dir)
{
    fac_plan plans[32];
    size_t np;
    const cs_cities *c = ctx->cities;
    if (parse_fac(ctx->project, ctx->diag, c, plans, 32, &np)) return CS_EPARSE;
    size_t n = c->n;
    cs_matrix *tm = NULL;
    cs_status st = cs_matrix_clone(ctx->time, &tm);
    if (st) return st;
    for (size_t k = 0; k < n * n; k++) tm->v[k] /= 60.0; /* minutes */
    snprintf(tm->unit, sizeof tm->unit, "min");
    char *gp = cs_asprintf("%s/facilities.gpkg", dir);
    cs_gpkg_writer *w = NULL;
    if (!gp) st = CS_ENOMEM;
    if (!st) st = cs_gpkg_begin(gp, &w);
    json_t *jf = json_array();
    for (size_t q = 0; !st && q < np; q++) {
        const fac_plan *f = &plans[q];
        uint32_t ex[256];
        size_t nex = 0;
        for (size_t e = 0; f->existing && e < json_array_size(f->existing) && nex < 256; e++)
            ex[nex++] = cs_cities_find(c, json_string_value(json_array_get(f->existing, e)));
        cs_fac_problem pb = {f->model, tm, c->population, f->p, f->radius_min, nex ? ex : NULL, nex, NULL};
        cs_fac_options fo;
        cs_fac_options_default(&fo);
        fo.method = (cs_fac_method)f->method;
        fo.time_limit_s = f->time_limit_s;
        fo.seed = f->seed;
        fo.progress = ctx->progress;
        cs_fac_solution *sol = NULL;
        st = cs_fac_solve(&pb, &fo, &sol);
        if (st) {
            cs_error_prefix("facility plan '%s'", f->name);
            break;
        }
        /* coverage curve: covered population against the number of sites for each radius */
        size_t kmax = f->kmax ? f->kmax : (f->p > 0 ? 2 * f->p : 10);
        if (kmax > n) kmax = n;
        double *curve = NULL;
        if (f->nradii) {
            curve = cs_mallocarray(f->nradii * (kmax + 1), sizeof *curve);
            if (!curve) st = CS_ENOMEM;
            if (!st) st = cs_fac_coverage_curve(&pb, f->radii, f->nradii, kmax, &fo, curve);
        }
        /* coverage chart: share of the population covered against the number of new sites */
        if (!st && curve) {
            double *xs = cs_mallocarray(kmax + 1, sizeof *xs), *ys = cs_mallocarray(f->nradii * (kmax + 1), sizeof *ys);
            cs_xy_series ser[16];
            char names[16][48];
            double tot = cs_cities_total_population(c);
            if (!xs || !ys) st = CS_ENOMEM;
            for (size_t r = 0; !st && r < f->nradii; r++) {
                for (size_t k = 0; k <= kmax; k++) {
                    xs[k] = (double)k;
                    ys[r * (kmax + 1) + k] = tot > 0 ? 100.0 * curve[r * (kmax + 1) + k] / tot : NAN;
                }
                snprintf(names[r], sizeof names[r], "within %g min", f->radii[r]);
                ser[r] = (cs_xy_series){names[r], kmax + 1, xs, ys + r * (kmax + 1), 1, 1, NULL};
            }
            static const char *const ext[3] = {"png", "svg", "pdf"};
            cs_chart_opts co;
            cs_chart_opts_default(&co);
            char title[160];
            snprintf(title, sizeof title, "Coverage of the population: %.40s", f->name);
            co.title = title;
            co.xlabel = "number of new sites";
            co.ylabel = "population covered (%)";
            co.note = "Maximal covering location problem solved for each number of sites (docs/facilities.md).";
            for (int e = 0; !st && e < 3; e++) {
                char *cp = cs_asprintf("%s/chart_coverage_%s.%s", dir, f->name, ext[e]);
                st = cp ? cs_chart_xy(f->nradii, ser, &co, cp) : CS_ENOMEM;
                cs_free(cp);
            }
            cs_free(xs);
            cs_free(ys);
        }
        char tmpl[4096];
        snprintf(tmpl, sizeof tmpl, "%s/.fac-XXXXXX", dir);
        if (!st && !mkdtemp(tmpl)) st = cs_error_set_at(CS_EIO, dir, 0, 0, "cannot create a temporary folder");
        cs_fac_geo geo = {c->lon, c->lat, c->lon, c->lat, (const char *const *)c->name};
        if (!st) st = cs_fac_write(&pb, sol, &geo, f->radii, f->nradii, kmax, curve, tmpl);
        if (!st) st = move_prefixed(tmpl, dir, f->name);
        cs_remove_tree(tmpl);
        if (!st) {
            char prefix[64];
            snprintf(prefix, sizeof prefix, "facilities_%.40s_", f->name);
            st = cs_fac_write_layers(&pb, sol, &geo, prefix, w);
        }
        if (!st)
            json_array_append_new(jf, json_pack("{s:s,s:s,s:i,s:o,s:o,s:b,s:s}", "name", f->name, "model",
                                                cs_fac_model_name(f->model), "sites", (json_int_t)sol->nsites,
                                                "objective", json_real(sol->objective), "gap",
                                                isfinite(sol->gap) ? json_real(sol->gap) : json_null(), "optimal",
                                                sol->optimal, "bound_kind", sol->bound_kind));
        cs_free(curve);
        cs_fac_solution_free(sol);
    }
    if (w) {
        if (!st) st = cs_gpkg_commit(w);
        else cs_gpkg_abort(w);
    }
    if (!st) {
        if (!ctx->summary) ctx->summary = json_object();
        json_object_set(ctx->summary, "facilities", jf);
    }
    json_decref(jf);
    cs_free(gp);
    cs_matrix_free(tm);
    return st;
}

const cs_run_step cs_step_facilities = {"facilities", 1, 0, fac_wanted, fac_hash, fac_run, NULL};

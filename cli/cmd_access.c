/* cmd_access.c: `citysys access` — market access of every city (docs/methods.md, "Market access"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "citysys/access.h"

#include "indicators.h"

static const cli_option access_opts[] = {
    {"mass-field", 0, "WHAT", "mass of the destinations: population (default), gdp or employment"},
    {"theta", 0, "LIST", "power-decay exponents (default 1,2,3.8,5,8; empty: none)"},
    {"half-life", 0, "LIST", "exponential half-lives in minutes (default none)"},
    {"thresholds", 0, "LIST", "cumulative-opportunity thresholds in minutes (default 30,60,120,240)"},
    {"no-harris", 0, NULL, "do not compute the Harris market potential"},
    {"c-min", 0, "X", "minimum cost (floor) for power decay and Harris, minutes (default 10)"},
    {"own-mass", 0, NULL, "include the city's own mass (j = i) at the internal cost"},
    {"own-cost", 0, "X", "internal cost c_ii in minutes for --own-mass (default 0, then floored to c-min)"},
    {"unit", 0, "U", "unit of the matrix values: s, min or h (default: the matrix's unit, else s)"},
    {"id-field", 0, "NAME", "id column of the city table (default: auto)"},
    {"pop-field", 0, "NAME", "population column (default: auto)"},
    {"output", 'o', "FILE", "per-city CSV output (required)"},
    {"json", 'j', "FILE", "JSON summary (default: stdout)"},
    {0}};

static int run_access(int argc, char **argv);
const cli_command cli_cmd_access = {
    "access", "market access of each city (power, exponential, cumulative, Harris)",
    "citysys access CITIES MATRIX -o ACCESS.csv",
    "MATRIX is a time or generalised-cost matrix (binary or CSV) whose ids are the city ids.\n"
    "Costs are converted to minutes; unreachable pairs contribute nothing and are counted.",
    access_opts, 2, 2, run_access};

static int run_access(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&cli_cmd_access, argc, argv, &a);
    if (rc >= 0) return rc;
    const char *outp = cli_get(&a, "output", NULL);
    if (!outp) return cli_usage_error(a.cmd, "--output is required");
    cs_access_opts o;
    cs_access_opts_default(&o);
    double th[32], hl[32], thr[32];
    size_t nth, nhl, nthr;
    if ((rc = ind_parse_list(&a, "theta", "1,2,3.8,5,8", th, 32, &nth))) return rc;
    if ((rc = ind_parse_list(&a, "half-life", "", hl, 32, &nhl))) return rc;
    if ((rc = ind_parse_list(&a, "thresholds", "30,60,120,240", thr, 32, &nthr))) return rc;
    o.theta = th, o.ntheta = nth, o.half_life = hl, o.nhalf = nhl, o.thresholds = thr, o.nthresh = nthr;
    o.harris = !cli_has(&a, "no-harris");
    int ok = 1;
    o.c_min = cli_get_double(&a, "c-min", 10.0, &ok);
    o.own_mass = cli_has(&a, "own-mass");
    o.own_cost = cli_get_double(&a, "own-cost", 0.0, &ok);
    if (!ok) return CLI_EXIT_USAGE;
    o.progress = cli_progress();
    const char *mf = cli_get(&a, "mass-field", "population");

    cs_cities *c = NULL;
    cs_matrix *m = NULL;
    cs_access_result *r = NULL;
    json_t *j = NULL;
    cs_atomic_file *af = NULL;
    if ((rc = ind_read_cities(&a, a.pos[0], &c))) goto out;
    const double *mass = !strcmp(mf, "population") ? c->population
                         : !strcmp(mf, "gdp")      ? c->gdp
                         : !strcmp(mf, "employment") ? c->employment
                                                    : NULL;
    if (!mass) {
        rc = cli_usage_error(a.cmd, "--mass-field '%s': unknown or absent from the city table", mf);
        goto out;
    }
    if ((rc = ind_read_matrix(a.pos[1], CS_MATRIX_COST, &m))) goto out;
    if ((rc = ind_align_matrix(&m, c))) goto out;
    const char *unit = cli_get(&a, "unit", m->unit[0] ? m->unit : "s");
    if (!strcmp(unit, "s")) o.scale = 1.0 / 60;
    else if (!strcmp(unit, "min")) o.scale = 1.0;
    else if (!strcmp(unit, "h")) o.scale = 60.0;
    else {
        rc = cli_usage_error(a.cmd, "matrix unit '%s' is not s, min or h; give --unit", unit);
        goto out;
    }
    cs_status st = cs_access_compute(m, mass, &o, &r);
    cli_progress_done();
    if (st) {
        rc = cli_fail(st);
        goto out;
    }
    FILE *f;
    if ((rc = ind_open_csv(outp, &af, &f))) goto out;
    fputs("id,name", f);
    for (size_t k = 0; k < r->ncols; k++) fprintf(f, ",%s", r->names[k]);
    fputs(",unreachable\n", f);
    for (size_t i = 0; i < r->n; i++) {
        ind_csv_str(f, c->id[i]);
        fputc(',', f);
        ind_csv_str(f, c->name ? c->name[i] : "");
        for (size_t k = 0; k < r->ncols; k++) {
            fputc(',', f);
            ind_csv_num(f, r->v[k * r->n + i]);
        }
        fprintf(f, ",%u\n", r->unreachable[i]);
    }
    rc = ind_commit_csv(af);
    af = NULL;
    if (rc) goto out;
    j = json_object();
    json_t *ind = json_array();
    size_t unr = 0;
    for (size_t i = 0; i < r->n; i++) unr += r->unreachable[i];
    for (size_t k = 0; k < r->ncols; k++) {
        double mn = INFINITY, mx = -INFINITY, s = 0;
        for (size_t i = 0; i < r->n; i++) {
            double v = r->v[k * r->n + i];
            mn = fmin(mn, v), mx = fmax(mx, v), s += v;
        }
        json_array_append_new(ind, json_pack("{s:s, s:o, s:o, s:o}", "name", r->names[k], "min",
                                             ind_json_num(r->n ? mn : NAN), "max", ind_json_num(r->n ? mx : NAN),
                                             "mean", ind_json_num(r->n ? s / (double)r->n : NAN)));
    }
    json_object_set_new(j, "command", json_string("access"));
    json_object_set_new(j, "n", json_integer((json_int_t)r->n));
    json_object_set_new(j, "mass", json_string(mf));
    json_object_set_new(j, "cost_unit", json_string("min"));
    json_object_set_new(j, "c_min", json_real(o.c_min));
    json_object_set_new(j, "own_mass", json_boolean(o.own_mass));
    json_object_set_new(j, "own_cost", json_real(o.own_cost));
    json_object_set_new(j, "unreachable_pairs", json_integer((json_int_t)unr));
    json_object_set_new(j, "indicators", ind);
    rc = ind_write_json(j, cli_get(&a, "json", "-"));
out:
    cs_atomic_abort(af);
    json_decref(j);
    cs_access_result_free(r);
    cs_matrix_free(m);
    ind_cities_free(c);
    return rc;
}

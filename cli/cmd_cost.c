/* cmd_cost.c: `citysys cost` — generalised cost matrix and iceberg trade costs (docs/model.md).
 * Also hosts the small helpers shared by the indicator commands (cost, hierarchy, agglomerate, access,
 * gravity): reading cities and matrices, aligning a matrix to the city order, number lists, CSV/JSON output. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "citysys/cost.h"

#include "indicators.h"

/* soft links file: level,a,b,factor (level city|region|country; header line optional) */
static int read_soft(const char *path, cs_soft_link **out, size_t *nout, char **buf_out)
{
    char *data;
    size_t size;
    cs_status st = cs_read_file(path, &data, &size);
    if (st) return cli_fail(st);
    size_t cap = 1;
    for (size_t k = 0; k < size; k++) cap += data[k] == '\n';
    cs_soft_link *s = cs_calloc(cap, sizeof *s);
    if (!s) {
        cs_free(data);
        return cli_fail(CS_ENOMEM);
    }
    size_t n = 0;
    long line = 0;
    char *save = NULL;
    for (char *ln = strtok_r(data, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        line++;
        size_t L = strlen(ln);
        if (L && ln[L - 1] == '\r') ln[--L] = 0;
        if (!L) continue;
        char *f[4];
        int nf = 0;
        char *p = ln;
        while (nf < 4) {
            f[nf++] = p;
            char *c = strchr(p, ',');
            if (!c) break;
            *c = 0;
            p = c + 1;
        }
        if (line == 1 && !strcasecmp(f[0], "level")) continue;
        char *end;
        double v = nf == 4 ? strtod(f[3], &end) : NAN;
        cs_soft_level lev;
        if (nf == 4 && !strcasecmp(f[0], "city")) lev = CS_SOFT_CITY;
        else if (nf == 4 && !strcasecmp(f[0], "region")) lev = CS_SOFT_REGION;
        else if (nf == 4 && !strcasecmp(f[0], "country")) lev = CS_SOFT_COUNTRY;
        else lev = (cs_soft_level)-1;
        if (nf != 4 || (int)lev < 0 || end == f[3] || *end || !(v > 0)) {
            cs_free(s);
            cs_free(data);
            return cli_fail(cs_error_set_at(CS_EPARSE, path, line, 0,
                                            "expected level,a,b,factor with level city|region|country and factor > 0"));
        }
        s[n++] = (cs_soft_link){lev, f[1], f[2], v};
    }
    *out = s;
    *nout = n;
    *buf_out = data;
    return 0;
}

static const cli_option cost_opts[] = {
    {"time", 't', "FILE", "travel-time matrix (binary .cmx or CSV; seconds unless its unit says min/h)"},
    {"distance", 'd', "FILE", "distance matrix (metres unless its unit says km)"},
    {"cities", 'c', "FILE", "city table (gives the order and the country/region codes)"},
    {"country-field", 0, "NAME", "country column of the city table (default: auto)"},
    {"region-field", 0, "NAME", "region column of the city table (default: auto)"},
    {"id-field", 0, "NAME", "id column of the city table (default: auto)"},
    {"border-time", 0, "FILE", "country x country border time matrix, minutes (wide CSV or binary)"},
    {"border-dist", 0, "FILE", "country x country border distance-equivalent matrix, metres"},
    {"soft", 0, "FILE", "soft links CSV: level,a,b,factor (level city|region|country)"},
    {"soft-on", 0, "WHAT", "soft factors multiply the 'total' cost (default) or the 'border' part"},
    {"time-weight", 0, "X", "cost-minutes per minute of travel (default 1)"},
    {"dist-weight", 0, "X", "cost-minutes per km (default 0)"},
    {"border-weight", 0, "X", "multiplier of the border penalties (default 1)"},
    {"internal-cost", 0, "X", "c_ii in cost-minutes (default 0)"},
    {"c0", 0, "X", "iceberg mapping: c_0 in cost-minutes (default 30)"},
    {"delta", 0, "X", "iceberg mapping: cost elasticity of trade delta (default 1)"},
    {"theta", 0, "X", "iceberg mapping: trade elasticity theta (default 5)"},
    {"elasticity", 0, "BETA", "set delta = -BETA from an estimated ln-cost coefficient (citysys gravity fit)"},
    {"output", 'o', "FILE", "cost matrix output (binary; required)"},
    {"tau", 0, "FILE", "also write the iceberg trade-cost matrix (binary)"},
    {"csv", 0, "FILE", "also write the cost matrix as long CSV"},
    {"json", 'j', "FILE", "JSON summary (default: stdout)"},
    {0}};

static int run_cost(int argc, char **argv);
const cli_command cli_cmd_cost = {
    "cost", "generalised cost matrix (time, distance, borders, soft frictions) and iceberg trade costs",
    "citysys cost -t TIME.cmx [-c CITIES] [--border-time F] [--soft F] -o COST.cmx",
    "Builds c_ij = phi_ij * (w_t t_ij + w_d d_ij + border_ij) in cost-minutes and, with --tau,\n"
    "tau_ij = max(1, c_ij/c_0)^(delta/theta). Formulas and defaults: docs/model.md.",
    cost_opts, 0, 0, run_cost};

static int run_cost(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&cli_cmd_cost, argc, argv, &a);
    if (rc >= 0) return rc;
    const char *outp = cli_get(&a, "output", NULL);
    if (!outp) return cli_usage_error(a.cmd, "--output is required");
    if (!cli_has(&a, "time") && !cli_has(&a, "distance"))
        return cli_usage_error(a.cmd, "give --time and/or --distance");
    cs_cost_params p;
    cs_cost_params_default(&p);
    int ok = 1;
    p.time_weight = cli_get_double(&a, "time-weight", cli_has(&a, "time") ? 1.0 : 0.0, &ok);
    p.dist_weight_per_km = cli_get_double(&a, "dist-weight", cli_has(&a, "time") ? 0.0 : 1.0, &ok);
    p.border_weight = cli_get_double(&a, "border-weight", 1.0, &ok);
    p.internal_cost = cli_get_double(&a, "internal-cost", 0.0, &ok);
    p.tau_c0 = cli_get_double(&a, "c0", p.tau_c0, &ok);
    p.tau_delta = cli_get_double(&a, "delta", p.tau_delta, &ok);
    p.tau_theta = cli_get_double(&a, "theta", p.tau_theta, &ok);
    if (!ok) return CLI_EXIT_USAGE;
    if (cli_has(&a, "elasticity")) {
        double b = cli_get_double(&a, "elasticity", 0, &ok);
        if (!ok) return CLI_EXIT_USAGE;
        cs_status st = cs_cost_params_set_elasticity(&p, b);
        if (st) return cli_fail(st);
    }
    const char *son = cli_get(&a, "soft-on", "total");
    if (!strcmp(son, "total")) p.soft_apply = CS_SOFT_ON_TOTAL;
    else if (!strcmp(son, "border")) p.soft_apply = CS_SOFT_ON_BORDER;
    else return cli_usage_error(a.cmd, "--soft-on must be 'total' or 'border'");

    cs_cities *cities = NULL;
    cs_matrix *t = NULL, *d = NULL, *bt = NULL, *bd = NULL, *c = NULL, *tau = NULL;
    cs_soft_link *soft = NULL;
    size_t nsoft = 0;
    char *softbuf = NULL;
    json_t *j = NULL;
    if (cli_has(&a, "cities") && (rc = ind_read_cities(&a, cli_get(&a, "cities", NULL), &cities))) goto out;
    if (cli_has(&a, "time")) {
        if ((rc = ind_read_matrix(cli_get(&a, "time", NULL), CS_MATRIX_TIME, &t))) goto out;
        if ((rc = ind_align_matrix(&t, cities))) goto out;
    }
    if (cli_has(&a, "distance")) {
        if ((rc = ind_read_matrix(cli_get(&a, "distance", NULL), CS_MATRIX_DISTANCE, &d))) goto out;
        if ((rc = ind_align_matrix(&d, cities))) goto out;
    }
    if (cli_has(&a, "border-time") && (rc = ind_read_matrix(cli_get(&a, "border-time", NULL), CS_MATRIX_OTHER, &bt)))
        goto out;
    if (cli_has(&a, "border-dist") && (rc = ind_read_matrix(cli_get(&a, "border-dist", NULL), CS_MATRIX_OTHER, &bd)))
        goto out;
    if (cli_has(&a, "soft") && (rc = read_soft(cli_get(&a, "soft", NULL), &soft, &nsoft, &softbuf))) goto out;
    cs_cost_inputs in;
    memset(&in, 0, sizeof in);
    in.time = t;
    in.distance = d;
    in.country = cities ? (const char *const *)cities->country : NULL;
    in.region = cities ? (const char *const *)cities->region : NULL;
    in.border_time_min = bt;
    in.border_dist_m = bd;
    in.soft = soft;
    in.nsoft = nsoft;
    cs_status st = cs_cost_build(&in, &p, &c);
    if (st) {
        rc = cli_fail(st);
        goto out;
    }
    if ((st = cs_matrix_write(c, outp))) {
        rc = cli_fail(st);
        goto out;
    }
    if (cli_has(&a, "csv") && (rc = ind_write_matrix_csv(c, cli_get(&a, "csv", NULL)))) goto out;
    if (cli_has(&a, "tau")) {
        if ((st = cs_cost_iceberg(c, &p, &tau)) || (st = cs_matrix_write(tau, cli_get(&a, "tau", NULL)))) {
            rc = cli_fail(st);
            goto out;
        }
    }
    size_t n = c->rows, unreach = 0, finite = 0;
    double mn = INFINITY, mx = 0, sum = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n; k++) {
            if (i == k) continue;
            double v = c->v[i * n + k];
            if (!(v < INFINITY)) {
                unreach++;
                continue;
            }
            finite++, sum += v, mn = fmin(mn, v), mx = fmax(mx, v);
        }
    j = json_pack("{s:s, s:s, s:i, s:i, s:o, s:o, s:o, s:{s:f, s:f, s:f, s:s, s:f, s:f, s:f, s:f}, s:s}", "command",
                  "cost", "unit", "min", "n", (json_int_t)n, "unreachable_pairs", (json_int_t)unreach, "cost_min",
                  ind_json_num(finite ? mn : NAN), "cost_max", ind_json_num(finite ? mx : NAN), "cost_mean",
                  ind_json_num(finite ? sum / (double)finite : NAN), "params", "time_weight", p.time_weight,
                  "dist_weight_per_km", p.dist_weight_per_km, "border_weight", p.border_weight, "soft_apply",
                  p.soft_apply == CS_SOFT_ON_TOTAL ? "total" : "border", "internal_cost", p.internal_cost, "tau_c0",
                  p.tau_c0, "tau_delta", p.tau_delta, "tau_theta", p.tau_theta, "fingerprint", c->fingerprint);
    if (!j) {
        rc = cli_fail(cs_error_set(CS_ENOMEM, "JSON: out of memory"));
        goto out;
    }
    rc = ind_write_json(j, cli_get(&a, "json", "-"));
out:
    json_decref(j);
    ind_cities_free(cities);
    cs_matrix_free(t);
    cs_matrix_free(d);
    cs_matrix_free(bt);
    cs_matrix_free(bd);
    cs_matrix_free(c);
    cs_matrix_free(tau);
    cs_free(soft);
    cs_free(softbuf);
    return rc;
}

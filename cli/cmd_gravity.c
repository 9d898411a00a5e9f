/* cmd_gravity.c: `citysys gravity predict|huff|fit` — gravity interaction, Huff market areas and PPML
 * estimation (docs/methods.md, "Gravity interaction and PPML estimation"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "citysys/gravity.h"
#include "indicators.h"

static const cli_option grav_opts[] = {
    {"model", 0, "M", "predict: unconstrained, production, attraction or doubly (default doubly)"},
    {"decay", 0, "F", "deterrence: power (default) or exp"},
    {"beta", 0, "X", "decay parameter (default 1; exp: per minute)"},
    {"c-min", 0, "X", "cost floor of the power decay, minutes (default 1)"},
    {"k", 0, "X", "scale constant of the unconstrained model (default 1)"},
    {"tol", 0, "X", "doubly constrained: relative margin tolerance (default 1e-6)"},
    {"max-iter", 0, "N", "doubly constrained: iteration limit (default 1000)"},
    {"normalise", 0, NULL, "doubly constrained: rescale destination masses to the origin total"},
    {"diagonal", 0, NULL, "include i -> i flows / observations"},
    {"origin-mass", 0, "WHAT", "population (default), gdp or employment"},
    {"dest-mass", 0, "WHAT", "population (default), gdp or employment"},
    {"alpha", 0, "X", "huff: exponent of the attractiveness (default 1)"},
    {"unit", 0, "U", "unit of the matrix values: s, min, h, m or km (default: the matrix's unit); time -> minutes"},
    {"cities", 'c', "FILE", "fit: city table for the log-mass model (default: fixed effects)"},
    {"id-field", 0, "NAME", "id column (default: auto)"},
    {"pop-field", 0, "NAME", "population column (default: auto)"},
    {"output", 'o', "FILE", "predict/huff: matrix (binary); fit: coefficient CSV"},
    {"csv", 0, "FILE", "predict/huff: also write the matrix as long CSV"},
    {"fitted", 0, "FILE", "fit: fitted flows matrix (binary)"},
    {"json", 'j', "FILE", "JSON summary (default: stdout)"},
    {0}};

static int run_grav(int argc, char **argv);
const cli_command cli_cmd_gravity = {
    "gravity", "gravity interaction: predict flows, Huff probabilities, PPML estimation",
    "citysys gravity predict|huff CITIES COST -o OUT.cmx | citysys gravity fit FLOWS COST -o COEF.csv",
    "predict: T_ij = A_i O_i B_j D_j f(c_ij) (Wilson 1971 family); huff: P_ij = W_j^alpha f(c_ij) / sum_k ...;\n"
    "fit: Poisson pseudo-maximum likelihood (Santos Silva & Tenreyro 2006), zeros kept, HC0 standard errors;\n"
    "its ln_cost coefficient can be passed to `citysys cost --elasticity`.",
    grav_opts, 3, 3, run_grav};

static const double *mass_of(const cs_cities *c, const char *w)
{
    return !strcmp(w, "population") ? c->population : !strcmp(w, "gdp") ? c->gdp
                                                  : !strcmp(w, "employment") ? c->employment
                                                                              : NULL;
}

/* scale a time matrix to minutes, leave distances/costs in their units */
static int to_minutes(const cli_args *a, cs_matrix *m)
{
    const char *u = cli_get(a, "unit", m->unit[0] ? m->unit : (m->kind == CS_MATRIX_TIME ? "s" : "min"));
    double s = !strcmp(u, "s") ? 1.0 / 60 : !strcmp(u, "h") ? 60.0 : 1.0;
    if (strcmp(u, "s") && strcmp(u, "h") && strcmp(u, "min") && strcmp(u, "m") && strcmp(u, "km") && strcmp(u, ""))
        return cli_usage_error(a->cmd, "unknown matrix unit '%s'; give --unit", u);
    if (s != 1.0) {
        for (size_t k = 0; k < m->rows * m->cols; k++) m->v[k] *= s;
        snprintf(m->unit, sizeof m->unit, "min");
    }
    return 0;
}

static int parse_decay(const cli_args *a, cs_decay *d)
{
    const char *s = cli_get(a, "decay", "power");
    if (!strcmp(s, "power")) *d = CS_DECAY_POWER;
    else if (!strcmp(s, "exp") || !strcmp(s, "exponential")) *d = CS_DECAY_EXPONENTIAL;
    else return cli_usage_error(a->cmd, "--decay must be power or exp");
    return 0;
}

static int run_fit(const cli_args *a)
{
    int rc;
    cs_ppml_opts o;
    cs_ppml_opts_default(&o);
    if ((rc = parse_decay(a, &o.decay))) return rc;
    o.include_diagonal = cli_has(a, "diagonal");
    cs_matrix *y = NULL, *c = NULL;
    cs_cities *ci = NULL;
    cs_ppml_result *r = NULL;
    json_t *j = NULL;
    cs_atomic_file *af = NULL;
    if ((rc = ind_read_matrix(a->pos[1], CS_MATRIX_FLOW, &y))) goto out;
    if ((rc = ind_read_matrix(a->pos[2], CS_MATRIX_COST, &c))) goto out;
    if ((rc = to_minutes(a, c))) goto out;
    {
        cs_matrix *s = NULL;
        cs_status st = cs_matrix_select(c, (const char *const *)y->row_ids, y->rows, (const char *const *)y->col_ids,
                                        y->cols, &s);
        if (st) {
            cs_error_prefix("matching cost ids to flow ids: ");
            rc = cli_fail(st);
            goto out;
        }
        cs_matrix_free(c);
        c = s;
    }
    double *O = NULL, *D = NULL;
    if (cli_has(a, "cities")) {
        if ((rc = ind_read_cities(a, cli_get(a, "cities", NULL), &ci))) goto out;
        const double *mo = mass_of(ci, cli_get(a, "origin-mass", "population")),
                     *md = mass_of(ci, cli_get(a, "dest-mass", "population"));
        if (!mo || !md) {
            rc = cli_usage_error(a->cmd, "mass field unknown or absent from the city table");
            goto out;
        }
        O = cs_mallocarray(y->rows, sizeof *O);
        D = cs_mallocarray(y->cols, sizeof *D);
        if (!O || !D) {
            cs_free(O), cs_free(D);
            rc = cli_fail(CS_ENOMEM);
            goto out;
        }
        for (size_t i = 0; i < y->rows; i++) {
            uint32_t k = cs_cities_find(ci, y->row_ids[i]);
            O[i] = k == CS_INVALID_ID ? NAN : mo[k];
        }
        for (size_t i = 0; i < y->cols; i++) {
            uint32_t k = cs_cities_find(ci, y->col_ids[i]);
            D[i] = k == CS_INVALID_ID ? NAN : md[k];
        }
        o.masses = CS_PPML_LOG_MASSES;
        o.O = O, o.D = D;
    }
    cs_status st = cs_ppml_fit(y, c, &o, &r);
    cs_free(O);
    cs_free(D);
    if (st && !(st == CS_ECONVERGE && r)) {
        rc = cli_fail(st);
        goto out;
    }
    if (st == CS_ECONVERGE) cli_note("PPML did not converge; results written for inspection");
    FILE *f;
    if (cli_has(a, "output")) {
        if ((rc = ind_open_csv(cli_get(a, "output", NULL), &af, &f))) goto out;
        fputs("name,coef,se_hc0\n", f);
        for (size_t k = 0; k < r->nparams; k++) {
            ind_csv_str(f, r->names[k]);
            fputc(',', f);
            ind_csv_num(f, r->coef[k]);
            fputc(',', f);
            ind_csv_num(f, r->se_hc0[k]);
            fputc('\n', f);
        }
        if ((rc = ind_commit_csv(af))) {
            af = NULL;
            goto out;
        }
        af = NULL;
    }
    if (cli_has(a, "fitted") && (st = cs_matrix_write(r->fitted, cli_get(a, "fitted", NULL)))) {
        rc = cli_fail(st);
        goto out;
    }
    j = json_object();
    json_object_set_new(j, "command", json_string("gravity fit"));
    json_object_set_new(j, "estimator", json_string("PPML (Poisson GLM, log link, IRLS), HC0 robust SE"));
    json_object_set_new(j, "masses", json_string(o.masses == CS_PPML_FIXED_EFFECTS ? "fixed_effects" : "log_masses"));
    json_object_set_new(j, "cost_regressor", json_string(o.decay == CS_DECAY_POWER ? "ln_cost" : "cost"));
    json_object_set_new(j, "cost_coef", ind_json_num(r->cost_coef));
    json_object_set_new(j, "cost_se_hc0", ind_json_num(r->cost_se_hc0));
    json_object_set_new(j, "nobs", json_integer((json_int_t)r->nobs));
    json_object_set_new(j, "nzero", json_integer((json_int_t)r->nzero));
    json_object_set_new(j, "nexcluded", json_integer((json_int_t)r->nexcluded));
    json_object_set_new(j, "nparams", json_integer((json_int_t)r->nparams));
    json_object_set_new(j, "deviance", ind_json_num(r->deviance));
    json_object_set_new(j, "null_deviance", ind_json_num(r->null_deviance));
    json_object_set_new(j, "pseudo_r2_deviance", ind_json_num(r->pseudo_r2_deviance));
    json_object_set_new(j, "r2_corr", ind_json_num(r->r2_corr));
    json_object_set_new(j, "loglik", ind_json_num(r->loglik));
    json_object_set_new(j, "iterations", json_integer(r->iterations));
    json_object_set_new(j, "converged", json_boolean(r->converged));
    rc = ind_write_json(j, cli_get(a, "json", "-"));
    if (!rc && !r->converged) rc = CLI_EXIT_FAILURE;
out:
    cs_atomic_abort(af);
    json_decref(j);
    cs_ppml_result_free(r);
    cs_matrix_free(y);
    cs_matrix_free(c);
    ind_cities_free(ci);
    return rc;
}

static int run_predict(const cli_args *a, int huff)
{
    int rc, ok = 1;
    cs_gravity_opts o;
    cs_gravity_opts_default(&o);
    if ((rc = parse_decay(a, &o.decay))) return rc;
    o.beta = cli_get_double(a, "beta", 1.0, &ok);
    o.c_min = cli_get_double(a, "c-min", 1.0, &ok);
    o.k = cli_get_double(a, "k", 1.0, &ok);
    o.tol = cli_get_double(a, "tol", 1e-6, &ok);
    o.max_iter = (int)cli_get_long(a, "max-iter", 1000, &ok);
    double alpha = cli_get_double(a, "alpha", 1.0, &ok);
    if (!ok) return CLI_EXIT_USAGE;
    o.include_diagonal = cli_has(a, "diagonal");
    o.progress = cli_progress();
    const char *model = cli_get(a, "model", "doubly");
    if (!strcmp(model, "unconstrained")) o.kind = CS_GRAVITY_UNCONSTRAINED;
    else if (!strcmp(model, "production")) o.kind = CS_GRAVITY_PRODUCTION;
    else if (!strcmp(model, "attraction")) o.kind = CS_GRAVITY_ATTRACTION;
    else if (!strcmp(model, "doubly")) o.kind = CS_GRAVITY_DOUBLY;
    else return cli_usage_error(a->cmd, "--model must be unconstrained, production, attraction or doubly");
    const char *outp = cli_get(a, "output", NULL);
    if (!outp) return cli_usage_error(a->cmd, "--output is required");
    cs_cities *ci = NULL;
    cs_matrix *c = NULL, *T = NULL;
    double *D = NULL;
    json_t *j = NULL;
    if ((rc = ind_read_cities(a, a->pos[1], &ci))) goto out;
    if ((rc = ind_read_matrix(a->pos[2], CS_MATRIX_COST, &c))) goto out;
    if ((rc = ind_align_matrix(&c, ci))) goto out;
    if ((rc = to_minutes(a, c))) goto out;
    const double *O = mass_of(ci, cli_get(a, "origin-mass", "population")),
                 *Dm = mass_of(ci, cli_get(a, "dest-mass", "population"));
    if (!O || !Dm) {
        rc = cli_usage_error(a->cmd, "mass field unknown or absent from the city table");
        goto out;
    }
    D = cs_mallocarray(ci->n ? ci->n : 1, sizeof *D);
    if (!D) {
        rc = cli_fail(CS_ENOMEM);
        goto out;
    }
    memcpy(D, Dm, ci->n * sizeof *D);
    if (cli_has(a, "normalise")) {
        double so = 0, sd = 0;
        for (size_t i = 0; i < ci->n; i++) so += O[i], sd += D[i];
        if (sd > 0)
            for (size_t i = 0; i < ci->n; i++) D[i] *= so / sd;
    }
    cs_status st;
    cs_gravity_info info = {0, NAN, NAN, 0};
    size_t unserved = 0;
    if (huff) st = cs_huff(c, D, alpha, o.decay, o.beta, o.c_min, &T, &unserved);
    else st = cs_gravity_predict(c, O, D, &o, &T, NULL, NULL, &info);
    cli_progress_done();
    if (st) {
        rc = cli_fail(st);
        if (st == CS_ECONVERGE)
            fprintf(stderr, "citysys: note: %d iterations, max origin margin error %g\n", info.iterations,
                    info.max_rel_err_o);
        goto out;
    }
    if ((st = cs_matrix_write(T, outp))) {
        rc = cli_fail(st);
        goto out;
    }
    if (cli_has(a, "csv") && (rc = ind_write_matrix_csv(T, cli_get(a, "csv", NULL)))) goto out;
    double tot = 0;
    for (size_t k = 0; k < T->rows * T->cols; k++)
        if (!isnan(T->v[k])) tot += T->v[k];
    j = json_object();
    json_object_set_new(j, "command", json_string(huff ? "gravity huff" : "gravity predict"));
    if (!huff) json_object_set_new(j, "model", json_string(model));
    json_object_set_new(j, "decay", json_string(o.decay == CS_DECAY_POWER ? "power" : "exp"));
    json_object_set_new(j, "beta", json_real(o.beta));
    json_object_set_new(j, "c_min", json_real(o.c_min));
    json_object_set_new(j, "n", json_integer((json_int_t)T->rows));
    if (huff) {
        json_object_set_new(j, "alpha", json_real(alpha));
        json_object_set_new(j, "unserved_origins", json_integer((json_int_t)unserved));
    } else {
        json_object_set_new(j, "total_flow", ind_json_num(tot));
        json_object_set_new(j, "iterations", json_integer(info.iterations));
        json_object_set_new(j, "tol", json_real(o.tol));
        json_object_set_new(j, "max_rel_err_origin", ind_json_num(info.max_rel_err_o));
        json_object_set_new(j, "max_rel_err_destination", ind_json_num(info.max_rel_err_d));
    }
    rc = ind_write_json(j, cli_get(a, "json", "-"));
out:
    json_decref(j);
    cs_free(D);
    cs_matrix_free(T);
    cs_matrix_free(c);
    ind_cities_free(ci);
    return rc;
}

static int run_grav(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&cli_cmd_gravity, argc, argv, &a);
    if (rc >= 0) return rc;
    if (!strcmp(a.pos[0], "fit")) return run_fit(&a);
    if (!strcmp(a.pos[0], "predict")) return run_predict(&a, 0);
    if (!strcmp(a.pos[0], "huff")) return run_predict(&a, 1);
    return cli_usage_error(a.cmd, "unknown subcommand '%s' (fit, predict or huff)", a.pos[0]);
}

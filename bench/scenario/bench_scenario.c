/* bench_scenario.c: time of the scenario module on a project (examples/africa): calibration of the
 * baseline, one fast evaluation (cs_scenario_evaluate_fast) of a single proposed link, the first-order
 * estimate (cs_scenario_estimate), and a full evaluation. The baseline is built with the main job's
 * network and matrix steps (private headers), as `citysys run` does.
 *   bench_scenario PROJECT SCENARIO_ALL_PROPOSED.json [K [E]]  (K single-link candidates evaluated, default 20;
 *   E estimated, default all) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>
#include "citysys/citysys.h"
#include "report/run_steps.h"

extern cs_status cs_run_cost_params(const cs_run_ctx *ctx, cs_cost_params *cp);
extern cs_status cs_run_border_matrices(const cs_run_ctx *ctx, cs_matrix **bt, cs_matrix **bd);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define DIE(st)                                                                                                        \
    do {                                                                                                               \
        if (st) {                                                                                                      \
            fprintf(stderr, "line %d: %s: %s\n", __LINE__, cs_strerror(st), cs_error_last()->message);               \
            return 1;                                                                                                  \
        }                                                                                                              \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_scenario PROJECT SCENARIO.json [K]\n");
        return 2;
    }
    size_t K = argc > 3 ? (size_t)atol(argv[3]) : 20, E = argc > 4 ? (size_t)atol(argv[4]) : SIZE_MAX;
    cs_diag *d = cs_diag_new();
    cs_project *p = NULL;
    DIE(cs_project_load(argv[1], d, &p));
    cs_run_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.project = p;
    ctx.diag = d;
    DIE(cs_project_read_cities(p, d, &ctx.cities));
    cs_atomic_dir *tmp = NULL;
    DIE(cs_atomic_dir_begin("/tmp/bench_scenario_steps", &tmp));
    double t0 = now();
    DIE(cs_step_network.run(&ctx, cs_atomic_dir_path(tmp)));
    DIE(cs_step_matrix.run(&ctx, cs_atomic_dir_path(tmp)));
    double t_chain = now() - t0;
    cs_matrix *bt = NULL, *bd = NULL;
    DIE(cs_run_border_matrices(&ctx, &bt, &bd));
    cs_scenario_inputs in;
    cs_scenario_inputs_default(&in);
    DIE(cs_run_cost_params(&ctx, &in.cost));
    const cs_cities *c = ctx.cities;
    const char *const *iso = NULL;
    for (size_t k = 0; k < c->extra.ncols; k++)
        if (!strcmp(c->extra.names[k], "iso3c")) iso = (const char *const *)c->extra.values[k];
    in.cities = c;
    in.net = ctx.net;
    in.router = ctx.router;
    in.loc = ctx.loc;
    in.time = ctx.time;
    in.dist = ctx.dist;
    in.country = iso;
    in.mobility = (const char *const *)c->country;
    in.border_time_min = bt;
    in.border_dist_m = bd;
    cs_scenario_base *b = NULL;
    t0 = now();
    DIE(cs_scenario_base_new(&in, (cs_progress){0}, NULL, &b));
    double t_base = now() - t0;
    cs_scenario *all = NULL, *cand = NULL;
    DIE(cs_scenario_read(argv[2], NULL, d, &all));
    DIE(cs_scenario_split(all, &in, &cand));
    size_t nc = cs_scenario_nchanges(cand), n = c->n;
    if (K > nc) K = nc;
    if (E > nc) E = nc;
    if (E < K) E = K;
    uint8_t *keep = calloc(nc, 1);
    double *y = malloc(n * sizeof *y), *tf = malloc(K * sizeof *tf), *te = malloc(nc * sizeof *te);
    double *ev = malloc(K * sizeof *ev), *ev1 = malloc(nc * sizeof *ev1);
    /* the first fast evaluation prepares the router (proposed links added closed, matrix session) */
    t0 = now();
    keep[0] = 1;
    cs_scenario *one = NULL;
    DIE(cs_scenario_select(cand, keep, "one", &one));
    DIE(cs_scenario_evaluate_fast(b, one, CS_EQ_LONG_RUN, CS_OUTCOME_WELFARE, y, NULL));
    double t_prep = now() - t0;
    cs_scenario_free(one);
    keep[0] = 0;
    for (size_t k = 0; k < K; k++) {
        keep[k] = 1;
        DIE(cs_scenario_select(cand, keep, "one", &one));
        keep[k] = 0;
        t0 = now();
        DIE(cs_scenario_evaluate_fast(b, one, CS_EQ_LONG_RUN, CS_OUTCOME_WELFARE, y, &ev[k]));
        tf[k] = now() - t0;
        cs_scenario_free(one);
    }
    double t_est_all = now();
    for (size_t k = 0; k < E; k++) {
        keep[k] = 1;
        DIE(cs_scenario_select(cand, keep, "one", &one));
        keep[k] = 0;
        t0 = now();
        DIE(cs_scenario_estimate(b, one, &ev1[k]));
        te[k] = now() - t0;
        cs_scenario_free(one);
    }
    t_est_all = now() - t_est_all;
    cs_scenario_result *r = NULL;
    cs_scenario_opts o;
    cs_scenario_opts_default(&o);
    t0 = now();
    DIE(cs_scenario_evaluate(b, all, &o, d, &r));
    double t_full = now() - t0;
    /* agreement of the estimate with the exact long-run EV on the K candidates */
    double num = 0, den = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (size_t k = 0; k < K; k++) {
        num += fabs(ev1[k] - ev[k]);
        den += fabs(ev[k]);
        sa += ev[k];
        sb += ev1[k];
        saa += ev[k] * ev[k];
        sbb += ev1[k] * ev1[k];
        sab += ev[k] * ev1[k];
    }
    double kk = (double)K, corr = (sab - sa * sb / kk) / sqrt((saa - sa * sa / kk) * (sbb - sb * sb / kk));
    qsort(tf, K, sizeof *tf, cmpd);
    qsort(te, E, sizeof *te, cmpd);
    printf("cities %zu, candidates %zu (split of %s)\n", n, nc, argv[2]);
    printf("network + matrix steps        %8.3f s\n", t_chain);
    printf("baseline (cost, tau, calibrate) %6.3f s\n", t_base);
    printf("router preparation + 1st eval %8.3f s\n", t_prep);
    printf("fast evaluation, one link     median %.1f ms, min %.1f ms, max %.1f ms (K = %zu)\n", 1e3 * tf[K / 2],
           1e3 * tf[0], 1e3 * tf[K - 1], K);
    printf("first-order estimate          median %.1f ms; %zu candidates %.2f s\n", 1e3 * te[E / 2], E, t_est_all);
    printf("estimate vs exact long-run EV (K candidates): mean abs rel error %.3f, correlation %.4f\n", num / den, corr);
    printf("full evaluation, all links    %8.3f s (EV %.6g)\n", t_full, r->total_ev);
    cs_scenario_result_free(r);
    cs_scenario_free(all);
    cs_scenario_free(cand);
    cs_scenario_base_free(b);
    cs_atomic_dir_abort(tmp);
    cs_matrix_free(bt);
    cs_matrix_free(bd);
    cs_run_ctx_free_analysis(&ctx);
    cs_cities_free(ctx.cities);
    cs_project_free(p);
    cs_diag_free(d);
    free(keep);
    free(y);
    free(tf);
    free(te);
    free(ev);
    free(ev1);
    return 0;
}

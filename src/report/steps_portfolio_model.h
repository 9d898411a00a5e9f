/*
 * steps_portfolio_model.h (private): the model behind `citysys plan portfolio` and the run step
 * `portfolio` — the spatial equilibrium model (calibrated to the baseline, exact hat algebra) applied
 * to the union of the selected candidates' changes, returning the per-person outcome of every city
 * (cs_portfolio_eval_fn), a first-order estimate of each candidate's effect for screening
 * (cs_portfolio_estimate_fn) and per-draw parameters for the sensitivity analysis.
 * Formulas: docs/portfolio.md ("The model behind a portfolio", "First-order estimate").
 */
#ifndef CITYSYS_STEPS_PORTFOLIO_MODEL_H
#define CITYSYS_STEPS_PORTFOLIO_MODEL_H

#include <jansson.h>
#include "citysys/cost.h"
#include "citysys/equilibrium.h"
#include "citysys/portfolio.h"
#include "citysys/routing.h"

typedef struct pf_model pf_model;
/** One worker of the model (its own calibrated baseline per draw, recent equilibria, scratch). */
typedef struct pf_worker pf_worker;

/** Uniform ranges of the sensitivity draws (docs/portfolio.md, "Sensitivity"). */
typedef struct pf_ranges {
    double theta[2], alpha[2], beta[2], delta_mult[2];
    uint64_t seed;
} pf_ranges;

typedef struct pf_setup {
    const cs_network *net;
    cs_router *router;            /**< borrowed; changed during evaluations and restored by pf_model_free */
    const cs_location *loc;       /**< n city locations (borrowed) */
    size_t n;
    const char *const *ids;       /**< city ids (borrowed) */
    const double *pop, *gdp_per_head; /**< borrowed */
    const double *lon, *lat;      /**< city coordinates (borrowed; a link's end at a city not on a node joins the nearest node) */
    const char *const *country;   /**< codes matching the border matrices (borrowed, may be NULL) */
    const char *const *region;    /**< region codes for soft links (borrowed, may be NULL) */
    const char *const *mobility;  /**< mobility group labels (borrowed) */
    cs_matrix *border_time, *border_dist; /**< owned by the model after pf_model_new (may be NULL) */
    cs_cost_params cost;          /**< central cost parameters */
    cs_eq_params eq;              /**< central model parameters */
    int long_run;                 /**< outcome: 1 long-run welfare of residents, 0 short-run real income */
    const json_t *changes;        /**< the candidates: array of change objects (borrowed) */
    pf_ranges ranges;
    int threads;                  /**< 0 = OpenMP default */
} pf_setup;

/** Build (validates the changes: every change type but drawn geometries). */
cs_status pf_model_new(const pf_setup *s, pf_model **out);
/** Restore the router (added links closed, times as before) and free. */
void pf_model_free(pf_model *m);

size_t pf_model_k(const pf_model *m);
const char *pf_model_name(const pf_model *m, size_t j);
/** Costs of candidate j (capital spread evenly over its construction years; owned by the model). */
const cs_project_costs *pf_model_costs(const pf_model *m);
/** Baseline per-person outcome (money per person per year) under the central parameters. */
const double *pf_model_y_base(const pf_model *m);
/** Proposed-link geometry of candidate j: its added/changed segments' end nodes (for the lines layer). */
size_t pf_model_segments(const pf_model *m, size_t j, uint32_t *u, uint32_t *v, size_t cap);
/** Parameters of draw d (0 = central). */
void pf_model_draw_params(const pf_model *m, int draw, double *theta, double *alpha, double *beta, double *delta);

/** cs_portfolio_eval_fn / cs_portfolio_estimate_fn with user = pf_model. */
cs_status pf_model_eval(void *user, const uint8_t *selected, size_t k, int draw, double *y_after);
cs_status pf_model_estimate(void *user, const uint8_t *selected, size_t k, int draw, const uint8_t *want, double *dy);
/** Workers (pf_setup.threads, or the OpenMP default; worker 0 is the one pf_model_eval and the estimate use). Each
 *  worker may evaluate on its own thread at the same time as the others (shared router and cost cache are
 *  guarded); a worker's results depend only on the portfolio, the draw and its own sequence of evaluations
 *  within the draw (docs/portfolio.md, "Performance"). */
size_t pf_model_workers(const pf_model *m);
pf_worker *pf_model_worker(pf_model *m, size_t t);
/** cs_portfolio_eval_fn with user = pf_worker. */
cs_status pf_worker_eval(void *user, const uint8_t *selected, size_t k, int draw, double *y_after);
/** Counterfactuals started from a nearby equilibrium (warm starts), solver iterations in all and in the warm starts. */
void pf_model_solver_counts(const pf_model *m, size_t *warm, size_t *iterations, size_t *warm_iterations);

/** Seconds spent routing (router matrices), in one-to-all searches, building costs, in the model, in estimates;
 *  evaluations on the fast path (no routing) and router matrices computed. */
void pf_model_timing(const pf_model *m, double *route_s, double *dijkstra_s, double *cost_s, double *eq_s, double *estimate_s,
                     size_t *fast, size_t *routings);
/** Put the router in the state of `selected` and keep its one-to-all times, so that evaluations of
 *  `selected` plus one one-link candidate take the exact fast path (no routing). */
cs_status pf_model_anchor(pf_model *m, const uint8_t *selected, int draw);
/** Model evaluations and estimate rounds so far. */
void pf_model_counts(const pf_model *m, size_t *evals, size_t *estimates, size_t *calibrations);

#endif

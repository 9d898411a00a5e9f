/*
 * portfolio.h: budget-constrained, equity-weighted investment portfolios.
 *
 * Projects interact (roads in series are complements, parallel roads
 * substitutes), so a portfolio is always evaluated as a whole by a model
 * callback — in citysys the spatial equilibrium model applied to the union
 * of the selected projects' scenario changes — never by adding single-project
 * benefits. The callback returns, for every city, the per-person outcome
 * after the portfolio (real income or welfare, in money per person per
 * year); the module turns it into the efficiency gain, the Atkinson
 * equally-distributed-equivalent (EDE) social welfare, the inequality after,
 * and the appraisal of the portfolio. Definitions in docs/portfolio.md.
 */
#ifndef CITYSYS_PORTFOLIO_H
#define CITYSYS_PORTFOLIO_H

#include "citysys/appraisal.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Model callback: evaluate the portfolio `selected` (k flags) under parameter
 * draw `draw` (0 = central parameters; >= 1 = sensitivity draws, the caller
 * decides what they vary) and write the per-person outcome of each of the n
 * cities into y_after. Return CS_OK or an error (propagated).
 */
typedef cs_status (*cs_portfolio_eval_fn)(void *user, const uint8_t *selected, size_t k, int draw, double *y_after);

/**
 * Optional cheap first-order estimate for screening (docs/portfolio.md, "Screening"): at the portfolio
 * `selected`, for every candidate j with want[j] = 1, write into dy[j*n .. j*n+n-1] the estimated change of
 * each city's per-person outcome if j were added (rows of unwanted candidates: anything). The greedy then
 * re-evaluates exactly only the candidates with the best estimated gain per cost.
 */
typedef cs_status (*cs_portfolio_estimate_fn)(void *user, const uint8_t *selected, size_t k, int draw,
                                              const uint8_t *want, double *dy);

typedef struct cs_portfolio_problem {
    size_t n;                 /**< cities */
    const double *pop;        /**< population per city (weights of persons), > 0 */
    const double *y_base;     /**< baseline per-person outcome per city, > 0 (money per person per year) */
    const uint32_t *region;   /**< region (or country) index per city, or NULL */
    const double *region_weight; /**< optional extra social weight per region (lagging regions > 1), NULL = 1 */
    size_t k;                 /**< candidate projects */
    const char *const *names; /**< k names (borrowed) */
    const cs_project_costs *costs; /**< k cost structures (capital by construction year, annual cost, lifetime) */
    cs_portfolio_eval_fn eval;
    void *user;
    cs_portfolio_estimate_fn estimate; /**< optional (NULL: each project alone, evaluated exactly, is the estimate) */
} cs_portfolio_problem;

typedef enum cs_portfolio_method {
    CS_PORTFOLIO_GREEDY = 0,     /**< plain greedy on exact marginal gain per cost, guarded by the best single project
                                      (every affordable candidate is evaluated alone: k extra evaluations at most) */
    CS_PORTFOLIO_EXHAUSTIVE = 1, /**< every subset within the budget (k <= 20) */
    CS_PORTFOLIO_AUTO = 2        /**< exhaustive when k <= 12, greedy otherwise */
} cs_portfolio_method;

typedef struct cs_portfolio_opts {
    double budget;             /**< total capital budget (sum of capital over construction years) */
    const double *budget_by_year; /**< optional per construction-year budgets (n_budget_years entries) */
    size_t n_budget_years;
    double epsilon;            /**< Atkinson inequality aversion ε >= 0 (0 = efficiency) */
    cs_portfolio_method method;
    size_t screen;             /**< greedy: exact re-evaluation of the best `screen` candidates by estimate per cost per step
                                    (0 = all); with an estimate callback, further batches of `screen` are evaluated while
                                    none with a positive estimate has given a positive exact gain */
    double min_region_share;   /**< constraint: every region gets at least this share of the total gain (0 = off) */
    int theil_must_not_rise;   /**< constraint: population-weighted Theil L (MLD) after <= before */
    cs_appraisal_opts appraisal; /**< discount rate etc. for the portfolio appraisal */
    cs_progress progress;
} cs_portfolio_opts;

CS_API void cs_portfolio_opts_default(cs_portfolio_opts *o);

typedef struct cs_portfolio_result {
    size_t k;
    uint8_t *selected;        /**< k flags (owned) */
    size_t n_selected;
    double capital;           /**< total capital of the selection */
    double objective;         /**< the maximised value: gain in EDE welfare × total population (money/yr) */
    double efficiency_gain;   /**< Σ L_i (y'_i − y_i), money per year */
    double ede_before, ede_after; /**< Atkinson EDE (population- and region-weighted) */
    double theil_before, theil_after; /**< population-weighted Theil L (MLD) of the per-person outcome */
    cs_appraisal appraisal;   /**< of the portfolio, with annual benefit = efficiency_gain */
    size_t evaluations;       /**< model evaluations used */
    double single_best_objective; /**< objective of the best affordable single project (the greedy guard: every
                                       affordable candidate evaluated alone, exactly) */
    int guard_used;           /**< 1 if the best single project beat the greedy sequence */
    double greedy_objective;  /**< with an exact method (exhaustive, or auto on a small set): the objective the
                                   greedy reaches on the same problem, so the greedy's gap can be reported; NaN
                                   when only the greedy ran */
    double greedy_gap;        /**< (objective − greedy_objective) / |objective| (>= 0; 0 when the greedy finds the
                                   optimum; NaN when only the greedy ran or the optimum is 0) */
    size_t *order;            /**< greedy: the selected projects in the order picked (n_selected entries, owned);
                                   exhaustive: by index */
    double *marginal;         /**< k: objective gain when the project was picked (greedy), NaN if not selected (owned) */
    double *marginal_efficiency; /**< k: efficiency gain (money/yr) when the project was picked, NaN if not selected (owned) */
} cs_portfolio_result;

CS_API void cs_portfolio_result_free(cs_portfolio_result *r);

/** Atkinson equally-distributed-equivalent of y with weights w (ε >= 0; ε = 1 geometric mean). */
CS_API double cs_atkinson_ede(const double *y, const double *w, size_t n, double epsilon);

/** Choose a portfolio. */
CS_API cs_status cs_portfolio_select(const cs_portfolio_problem *p, const cs_portfolio_opts *o, cs_portfolio_result **out);

/** Objective and statistics of a given selection (one model evaluation). */
CS_API cs_status cs_portfolio_evaluate(const cs_portfolio_problem *p, const cs_portfolio_opts *o, const uint8_t *selected,
                                       cs_portfolio_result **out);

/** One point of the efficiency–equity frontier. */
typedef struct cs_frontier_point {
    double budget, epsilon;
    double efficiency_gain, objective, theil_after, capital, npv;
    uint8_t *selected; /**< k flags (owned by the frontier) */
} cs_frontier_point;

/** Frontier over budgets × epsilons (nb*ne points, budget-major). Free with cs_frontier_free. */
CS_API cs_status cs_portfolio_frontier(const cs_portfolio_problem *p, const cs_portfolio_opts *o, const double *budgets,
                                       size_t nb, const double *epsilons, size_t ne, cs_frontier_point **out);
CS_API void cs_frontier_free(cs_frontier_point *f, size_t n);

/** Sensitivity: seeded draws of unit-cost multipliers and model draws (callback draw = 1..ndraws). The central
 *  portfolio (draw 0) is selected with p->user; the draws, in parallel when so->users is given. The progress
 *  callback of o is called from one thread only. */
typedef struct cs_sensitivity_opts {
    size_t ndraws;            /**< e.g. 200 */
    uint64_t seed;
    double cost_low, cost_high; /**< uniform multiplier range on capital and annual costs (default 0.8–1.5) */
    size_t threads;           /**< with `users`: draws run in parallel on this many threads (<= 1: serial) */
    void *const *users;       /**< optional, `threads` entries: users[t] replaces p->user for the draws run by thread t —
                                   independent model instances (borrowed). Each draw runs whole on one thread and the
                                   results are gathered in draw order, so they are the same whatever the thread count
                                   provided the model's result depends only on (selected, draw) and the sequence of
                                   evaluations of that draw. NULL = serial with p->user. */
} cs_sensitivity_opts;

typedef struct cs_sensitivity_result {
    size_t k, ndraws;
    double *select_freq;      /**< per project: share of draws in which it is selected */
    double *npv_mean, *npv_p05, *npv_p95; /**< per project stand-alone NPV across draws */
    double portfolio_p_npv_positive; /**< share of draws where the central portfolio has NPV > 0 */
    double portfolio_npv_mean, portfolio_npv_p05, portfolio_npv_p95;
} cs_sensitivity_result;

CS_API cs_status cs_portfolio_sensitivity(const cs_portfolio_problem *p, const cs_portfolio_opts *o,
                                          const cs_sensitivity_opts *so, cs_sensitivity_result **out);
CS_API void cs_sensitivity_free(cs_sensitivity_result *r);

#ifdef __cplusplus
}
#endif
#endif

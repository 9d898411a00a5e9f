/*
 * access.h: market access of each city from a cost matrix (docs/methods.md,
 * "Market access").
 *
 * For origin i and destination masses P_j (population, GDP, ...):
 *   power decay       MA_i(θ)   = Σ_j P_j · max(c_ij, c_min)^(−θ)
 *   exponential decay MA_i(h)   = Σ_j P_j · exp(−ln 2 · c_ij / h)      (h = half-life)
 *   cumulative        CUM_i(T)  = Σ_j P_j · [c_ij ≤ T]
 *   Harris (1954)     HMP_i     = Σ_j P_j / max(c_ij, c_min)
 * The sum runs over j ≠ i unless own mass is requested (then j = i is added
 * with c_ii = own_cost). Costs are multiplied by `scale` first (e.g. 1/60 to
 * turn a seconds matrix into minutes). A pair whose cost is +inf or NaN is
 * unreachable: it contributes nothing and is counted in `unreachable[i]`.
 *
 * Rows are computed independently (OpenMP over rows, each sum in the
 * order j = 0..n−1), so results are bitwise identical for any thread count.
 */
#ifndef CITYSYS_ACCESS_H
#define CITYSYS_ACCESS_H

#include "citysys/matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default power-decay exponents (World Bank market-access studies): 1, 2, 3.8, 5, 8. */
#define CS_ACCESS_DEFAULT_NTHETA 5
CS_API extern const double cs_access_default_theta[CS_ACCESS_DEFAULT_NTHETA];
/** Default cumulative-opportunity thresholds in minutes: 30, 60, 120, 240. */
#define CS_ACCESS_DEFAULT_NTHRESH 4
CS_API extern const double cs_access_default_thresholds[CS_ACCESS_DEFAULT_NTHRESH];

typedef struct cs_access_opts {
    const double *theta;      /**< power-decay exponents (borrowed); NULL with ntheta 0 = none */
    size_t ntheta;
    const double *half_life;  /**< exponential half-lives, cost units after scaling (borrowed) */
    size_t nhalf;
    const double *thresholds; /**< cumulative-opportunity thresholds, cost units after scaling */
    size_t nthresh;
    int harris;               /**< compute Harris market potential (1) or not (0) */
    double c_min;             /**< minimum cost (floor) for power decay and Harris; default 10 (minutes) */
    double scale;             /**< multiply every cost by this first (default 1) */
    int own_mass;             /**< include j = i (default 0: exclude) */
    double own_cost;          /**< c_ii when own_mass (cost units after scaling; default 0, floored to c_min) */
    const double *own_cost_each; /**< optional per-city own cost (n values, borrowed); overrides own_cost */
    cs_progress progress;
} cs_access_opts;

/** Defaults: θ = {1,2,3.8,5,8}, thresholds {30,60,120,240}, half-life none, Harris on, c_min 10, scale 1, own mass off. */
CS_API void cs_access_opts_default(cs_access_opts *o);

/** Result table: ncols named indicators for n cities, column-major (v[col*n + i]). */
typedef struct cs_access_result {
    size_t n, ncols;
    char **names;          /**< ncols names, e.g. "ma_power_theta_3.8", "ma_exp_halflife_60", "cum_within_30", "harris_mp" (owned) */
    double *v;             /**< ncols*n values (owned) */
    uint32_t *unreachable; /**< n counts of unreachable destinations j ≠ i (owned) */
} cs_access_result;

CS_API void cs_access_result_free(cs_access_result *r);

/**
 * Market access of every row city towards every column city. cost must be
 * square (n×n, same order as mass). mass: n values ≥ 0 (borrowed).
 * Returns CS_EINVAL for a non-square matrix, a negative or NaN mass, θ < 0,
 * half-life ≤ 0, c_min < 0 or a negative cost.
 */
CS_API cs_status cs_access_compute(const cs_matrix *cost, const double *mass, const cs_access_opts *opts,
                                   cs_access_result **out);

#ifdef __cplusplus
}
#endif
#endif

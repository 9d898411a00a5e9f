/*
 * cost.h: the generalised cost between cities, defined once and used by
 * every later step (market access, gravity, the economic model), and its
 * mapping to an iceberg trade cost. Formulas, parameters and defaults with
 * their sources: docs/model.md ("Generalised cost"), docs/methods.md.
 *
 *   base_ij   = w_t · t_ij[min] + w_d · d_ij[km]
 *   border_ij = w_b · ( w_t · BT[k_i,k_j][min] + w_d · BD[k_i,k_j][km] )   when country k_i ≠ k_j, else 0
 *   φ_ij      = Π of the factors of every soft link matching (i,j): city pair, region pair, country pair
 *   c_ij      = φ_ij · (base_ij + border_ij)          (CS_SOFT_ON_TOTAL, default)
 *             = base_ij + φ_ij · border_ij            (CS_SOFT_ON_BORDER)
 *   c_ii      = internal_cost
 * Units: the result is in minutes-equivalent ("min"): w_t = cost-minutes per
 * minute of travel (default 1), w_d = cost-minutes per km (default 0).
 * Unreachable (t or d = +inf) stays +inf; a missing value (NaN) stays NaN.
 *
 * Iceberg trade cost (the economic model), power mapping:
 *   τ_ij = max(1, c_ij / c_0)^(δ/θ),  τ_ii = 1,
 * so that trade X_ij ∝ τ_ij^(−θ) ∝ c_ij^(−δ): δ is the cost (distance)
 * elasticity of trade (≈ 1, Disdier & Head 2008; Head & Mayer 2014) and θ the
 * trade elasticity (default 5, Head & Mayer 2014). A PPML estimate β of the
 * ln-cost coefficient gives δ = −β (cs_cost_params_set_elasticity).
 */
#ifndef CITYSYS_COST_H
#define CITYSYS_COST_H

#include "citysys/matrix.h"
#include "citysys/city.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_soft_level {
    CS_SOFT_CITY = 0,    /**< a and b are city ids (matrix ids) */
    CS_SOFT_REGION = 1,  /**< a and b are region codes */
    CS_SOFT_COUNTRY = 2  /**< a and b are country codes (e.g. two members of a customs union) */
} cs_soft_level;

/** A soft link: a multiplicative friction factor between two cities, regions or countries (both directions). */
typedef struct cs_soft_link {
    cs_soft_level level;
    const char *a, *b; /**< borrowed; a == b at region/country level applies within that unit */
    double factor;     /**< > 0; < 1 eases interaction (agreement), > 1 hinders it */
} cs_soft_link;

typedef enum cs_soft_apply {
    CS_SOFT_ON_TOTAL = 0,  /**< φ multiplies the whole cost (default) */
    CS_SOFT_ON_BORDER = 1  /**< φ multiplies the border part only (customs/trade agreements) */
} cs_soft_apply;

typedef struct cs_cost_params {
    double time_weight;        /**< w_t: cost-minutes per minute of travel time (default 1) */
    double dist_weight_per_km; /**< w_d: cost-minutes per km (default 0: time-based cost) */
    double border_weight;      /**< w_b: multiplier of the border penalties (default 1; 0 = no borders) */
    cs_soft_apply soft_apply;
    double internal_cost;      /**< c_ii, cost-minutes (default 0) */
    double tau_c0;             /**< c_0 of the iceberg mapping, cost-minutes (default 30) */
    double tau_delta;          /**< δ > 0, cost elasticity of trade (default 1.0) */
    double tau_theta;          /**< θ > 0, trade elasticity (default 5.0) */
} cs_cost_params;

CS_API void cs_cost_params_default(cs_cost_params *p);
/** Feed an estimated ln-cost coefficient β (< 0, e.g. from cs_ppml_fit) into the mapping: δ = −β. */
CS_API cs_status cs_cost_params_set_elasticity(cs_cost_params *p, double beta_ln_cost);

typedef struct cs_cost_inputs {
    const cs_matrix *time;      /**< n×n travel time ("s" default, or unit "min"/"h"); may be NULL if w_t = 0 */
    const cs_matrix *distance;  /**< n×n distance ("m" default, or unit "km"); may be NULL if w_d = 0 */
    const char *const *country; /**< n country codes (borrowed; NULL: no borders, no country links) */
    const char *const *region;  /**< n region codes (borrowed; NULL: no region links) */
    const cs_matrix *border_time_min; /**< K×K minutes, row/col ids = country codes (NULL: none) */
    const cs_matrix *border_dist_m;   /**< K×K metres (NULL: none) */
    const cs_soft_link *soft;   /**< nsoft soft links (borrowed) */
    size_t nsoft;
    const cs_links *links;      /**< optional link table: its CS_MODE_SOFT links with a finite friction are city-level soft links */
} cs_cost_inputs;

/**
 * Build the generalised cost matrix (n×n, kind CS_MATRIX_COST, unit "min",
 * ids from the time or distance matrix, fingerprint = SHA-256 of the inputs'
 * fingerprints and the parameters). Errors: CS_EINVAL (shapes, negative
 * values, bad factors), CS_ENOTFOUND (a country code missing from a border
 * matrix, a soft-link city id not in the matrix).
 */
CS_API cs_status cs_cost_build(const cs_cost_inputs *in, const cs_cost_params *p, cs_matrix **out);

/**
 * A border facilitation (or hardening) change on a border matrix: the penalty between every pair of
 * distinct members (row and column ids of M, country codes) is multiplied by factor; pairs with a
 * non-member and the diagonal are unchanged (docs/scenarios.md, "Border friction"). M without ids: no-op.
 */
CS_API void cs_border_scale(cs_matrix *M, const char *const *members, size_t nmembers, double factor);

/** τ for one cost value (+inf → +inf, NaN → NaN). */
CS_API double cs_cost_tau(double c, const cs_cost_params *p);
/** Iceberg trade-cost matrix (kind CS_MATRIX_TRADECOST, τ_ii = 1). */
CS_API cs_status cs_cost_iceberg(const cs_matrix *cost, const cs_cost_params *p, cs_matrix **out);

#ifdef __cplusplus
}
#endif
#endif

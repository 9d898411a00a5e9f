/*
 * hierarchy.h: the urban hierarchy — rank-size (Zipf) exponent, power-law
 * fit, primacy, concentration and secondary cities, overall and per country
 * (docs/methods.md, "Urban hierarchy").
 *
 * Names used in outputs (exactly as here and in the docs):
 *   zeta_gi, zeta_gi_se       Gabaix & Ibragimov (2011) rank−½ regression ln(rank − ½) = a − ζ ln(size),
 *                             standard error ζ·√(2/n)
 *   zeta_ols_se, r2_ols        the OLS standard error and R² of the same regression (reported, not recommended)
 *   alpha_csn, alpha_csn_se, zeta_csn, xmin_csn, ks_d_csn, p_csn, ntail_csn
 *                             Clauset, Shalizi & Newman (2009) *continuous* power-law MLE of the density
 *                             exponent α (p(x) ∝ x^−α for x ≥ x_min), ζ = α − 1, x_min by minimum
 *                             Kolmogorov–Smirnov distance, semi-parametric bootstrap p-value
 *   primacy_2 = P1/P2, primacy_4 = P1/(P2+P3+P4), primacy_11 = 2·P1/(P2+…+P11),
 *   primate_share = P1/ΣP, herfindahl = Σ s_i², s_i = P_i/ΣP
 *   rel_size = P_i / max P of the same country; secondary = lo ≤ rel_size ≤ hi (default 0.10–0.50)
 * Undefined values (too few cities) are NaN, never a number.
 */
#ifndef CITYSYS_HIERARCHY_H
#define CITYSYS_HIERARCHY_H

#include "citysys/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_rank_size {
    size_t n;            /**< sizes used (all > 0) */
    double zeta_gi;      /**< ζ = −slope of ln(rank − ½) on ln(size) */
    double zeta_gi_se;   /**< ζ·√(2/n) (Gabaix & Ibragimov 2011) */
    double intercept_gi; /**< a */
    double zeta_ols_se;  /**< OLS standard error of the slope (biased downwards in this regression) */
    double r2_ols;       /**< R² of the regression */
} cs_rank_size;

/** Rank−½ regression on n sizes (> 0, any order; borrowed). n < 3 → CS_EINVAL. */
CS_API cs_status cs_rank_size_gi(const double *sizes, size_t n, cs_rank_size *out);

typedef struct cs_powerlaw_opts {
    size_t min_tail; /**< smallest tail size considered when scanning x_min (default 10) */
    int nboot;       /**< bootstrap replicates for the p-value (default 1000; 0 = no p-value) */
    uint64_t seed;   /**< RNG seed (default 1) */
} cs_powerlaw_opts;

CS_API void cs_powerlaw_opts_default(cs_powerlaw_opts *o);

typedef struct cs_powerlaw {
    size_t n;        /**< sample size */
    size_t ntail;    /**< observations ≥ x_min */
    double xmin;
    double alpha;    /**< density exponent α̂ = 1 + n_tail / Σ ln(x_i / x_min) */
    double alpha_se; /**< (α̂ − 1)/√n_tail */
    double zeta;     /**< α̂ − 1 (the rank-size/Zipf exponent) */
    double ks_d;     /**< Kolmogorov–Smirnov distance of the tail fit */
    double p_value;  /**< share of bootstrap replicates with D ≥ ks_d (NaN when nboot = 0) */
    int nboot;
} cs_powerlaw;

/** Continuous power-law MLE with x_min fixed (n_tail ≥ 2). Fills alpha, alpha_se, zeta, ks_d, ntail. */
CS_API cs_status cs_powerlaw_fit_xmin(const double *x, size_t n, double xmin, cs_powerlaw *out);
/** Full CSN fit: x_min scan (unique values with tail ≥ min_tail), bootstrap p-value. Values must be > 0. */
CS_API cs_status cs_powerlaw_fit(const double *x, size_t n, const cs_powerlaw_opts *o, cs_powerlaw *out);

typedef struct cs_primacy {
    size_t n;
    double total, largest;
    double primacy_2, primacy_4, primacy_11; /**< NaN with fewer than 2, 4, 11 cities */
    double primate_share;
    double herfindahl;
} cs_primacy;

/** Primacy and concentration of n sizes (≥ 0; total must be > 0). */
CS_API cs_status cs_primacy_compute(const double *sizes, size_t n, cs_primacy *out);

typedef struct cs_hierarchy_opts {
    cs_powerlaw_opts powerlaw;
    int fit_powerlaw;     /**< run the CSN fit (default 1) */
    double secondary_lo;  /**< default 0.10 */
    double secondary_hi;  /**< default 0.50 */
} cs_hierarchy_opts;

CS_API void cs_hierarchy_opts_default(cs_hierarchy_opts *o);

typedef struct cs_hierarchy_group {
    char *name;         /**< country code, or "ALL" (owned) */
    size_t n;           /**< cities in the group */
    size_t n_positive;  /**< cities with population > 0 (used by the log-based fits) */
    cs_rank_size rank_size; /**< NaN fields when n_positive < 3 */
    cs_powerlaw powerlaw;   /**< NaN fields when not fitted or n_positive ≤ min_tail */
    cs_primacy primacy;
    size_t n_secondary;
} cs_hierarchy_group;

typedef struct cs_hierarchy {
    size_t n;                  /**< cities */
    double *rel_size;          /**< n values: P_i / largest P of the same country (owned) */
    uint8_t *is_secondary;     /**< n flags (owned) */
    size_t ngroups;
    cs_hierarchy_group *groups; /**< groups[0] = "ALL", then countries in byte order of their codes (owned) */
} cs_hierarchy;

CS_API void cs_hierarchy_free(cs_hierarchy *h);

/**
 * Everything above, overall and per country. pop: n values ≥ 0 (NaN or
 * negative → CS_EINVAL naming the index). country: n strings or NULL (one
 * group). Zero populations are kept for counts and primacy and excluded from
 * the log-based fits.
 */
CS_API cs_status cs_hierarchy_compute(const double *pop, const char *const *country, size_t n,
                                      const cs_hierarchy_opts *opts, cs_hierarchy **out);

#ifdef __cplusplus
}
#endif
#endif

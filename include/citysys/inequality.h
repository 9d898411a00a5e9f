/*
 * inequality.h: inequality of a per-head value (GDP per head, income, market
 * access ...) across units — Gini, the generalised-entropy family GE(α)
 * (Theil T = GE(1), Theil L = mean log deviation = GE(0)), Atkinson(ε),
 * coefficient of variation, Williamson's index — and their decompositions by
 * group (GE family: Shorrocks 1980; Gini: Dagum 1997 between/within/overlap).
 * Panels: σ- and β-convergence and quantile Markov chains.
 *
 * Every formula, with its source and the exact variant, is in docs/methods.md
 * section "Inequality". Names used here are the names used in outputs.
 *
 * Weights: every function takes `w` (the population of each unit, or NULL).
 * w == NULL is the "unweighted" variant (each unit counted once); w given is
 * the "population-weighted" variant (each person counted once: unit i stands
 * for w_i persons with value y_i). Weights must be finite and >= 0 with a
 * positive total.
 *
 * Bad values (documented rules, never a NaN in a result):
 *   - non-finite y or w: CS_EINVAL;
 *   - mean <= 0: CS_EINVAL for every index (they are relative to the mean);
 *   - negative y: accepted by Gini and CV (documented: Gini may exceed 1),
 *     refused (CS_EINVAL) by GE(α), Theil, Atkinson and Williamson;
 *   - zero y: refused where a log or a negative power of 0 is needed
 *     (GE(α) for α <= 0, i.e. Theil L; Atkinson for ε >= 1); accepted with the
 *     limit 0·ln 0 = 0 by Theil T and 0^a = 0 (a > 0) elsewhere;
 *   - a group with no members (or zero total weight): CS_EINVAL.
 * The message names the offending row (0-based index) and the index refused.
 */
#ifndef CITYSYS_INEQUALITY_H
#define CITYSYS_INEQUALITY_H

#include "citysys/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Gini variants. */
typedef enum cs_gini_variant {
    /** "gini": G = Σ_i Σ_j w_i w_j |y_i − y_j| / (2 W² μ), no n/(n−1) correction (PySAL `inequality.gini`). */
    CS_GINI_POPULATION = 0,
    /** "gini_sample": G · W² / (W² − Σ w_i²) = G · n/(n−1) when unweighted. */
    CS_GINI_SAMPLE = 1
} cs_gini_variant;

/** Standard-deviation variants for the coefficient of variation. */
typedef enum cs_sd_variant {
    CS_SD_POPULATION = 0, /**< "cv": divisor W (n when unweighted) */
    CS_SD_SAMPLE = 1      /**< "cv_sample": divisor W − Σw²/W (n − 1 when unweighted) */
} cs_sd_variant;

/** Weighted mean Σ w_i y_i / Σ w_i (w NULL: plain mean). CS_EINVAL on empty input or bad values. */
CS_API cs_status cs_ineq_mean(const double *y, const double *w, size_t n, double *out);

/** Gini coefficient (O(n log n), sorted cumulative sums). */
CS_API cs_status cs_gini(const double *y, const double *w, size_t n, cs_gini_variant variant, double *out);

/**
 * Generalised entropy GE(α) = 1/(α(α−1)) Σ_i s_i [(y_i/μ)^α − 1], s_i = w_i/W;
 * GE(1) = Σ s_i (y_i/μ) ln(y_i/μ) (Theil T), GE(0) = −Σ s_i ln(y_i/μ) (Theil L, MLD).
 */
CS_API cs_status cs_ge(const double *y, const double *w, size_t n, double alpha, double *out);
/** Theil T = GE(1). */
CS_API cs_status cs_theil_t(const double *y, const double *w, size_t n, double *out);
/** Theil L = mean log deviation = GE(0). */
CS_API cs_status cs_theil_l(const double *y, const double *w, size_t n, double *out);

/**
 * Atkinson(ε), ε >= 0: A = 1 − [Σ s_i (y_i/μ)^(1−ε)]^(1/(1−ε)); ε = 1: A = 1 − exp(Σ s_i ln y_i)/μ
 * (1 − geometric mean / arithmetic mean). A(0) = 0.
 */
CS_API cs_status cs_atkinson(const double *y, const double *w, size_t n, double epsilon, double *out);

/** Coefficient of variation SD/μ, population or sample SD (see cs_sd_variant). */
CS_API cs_status cs_cv(const double *y, const double *w, size_t n, cs_sd_variant variant, double *out);

/**
 * Williamson's index (Williamson 1965): Vw = sqrt(Σ_i (y_i − ȳ)² p_i/P) / ȳ with y_i the value per
 * head of region i, p_i its population, P = Σ p_i and ȳ = Σ p_i y_i / P the national mean per head.
 * `pop` is required (CS_EINVAL when NULL).
 */
CS_API cs_status cs_williamson(const double *y, const double *pop, size_t n, double *out);

/** Options of cs_ineq_summary. Initialise with cs_ineq_opts_default(). */
typedef struct cs_ineq_opts {
    double alpha;   /**< extra GE(α) reported as "ge_alpha" (default 2) */
    double epsilon; /**< Atkinson ε reported as "atkinson" (default 1) */
    /**
     * 0 (default): fail on the first value an index cannot take (zero or negative for the
     * log/power indices). 1: compute the indices the values allow, set the others to NaN and
     * leave their bit clear in cs_ineq_summary.defined (rule "omit").
     */
    int omit_undefined;
} cs_ineq_opts;

/* Bits of cs_ineq_summary.defined for the indices that values <= 0 can make undefined. */
#define CS_INEQ_THEIL_T 0x1u  /**< needs values >= 0 */
#define CS_INEQ_THEIL_L 0x2u  /**< needs values > 0 */
#define CS_INEQ_GE_ALPHA 0x4u /**< values >= 0 when α > 0, > 0 when α <= 0 */
#define CS_INEQ_ATKINSON 0x8u /**< values >= 0 when ε < 1, > 0 when ε >= 1 */
#define CS_INEQ_ALL 0xFu
CS_API cs_ineq_opts cs_ineq_opts_default(void);

/** Every index of one distribution. All fields finite on success, except those omitted (see `defined`). */
typedef struct cs_ineq_summary {
    size_t n;            /**< number of units */
    double total_weight; /**< W (n when unweighted) */
    double mean;         /**< μ (weighted when weights are given) */
    double min, max;     /**< smallest and largest value */
    double gini;         /**< CS_GINI_POPULATION */
    double gini_sample;  /**< CS_GINI_SAMPLE */
    double theil_t;      /**< GE(1) */
    double theil_l;      /**< GE(0), mean log deviation */
    double ge_alpha;     /**< GE(opts.alpha) */
    double atkinson;     /**< Atkinson(opts.epsilon) */
    double cv;           /**< population SD / mean */
    double cv_sample;    /**< sample SD / mean */
    double alpha, epsilon; /**< the parameters used */
    unsigned defined;    /**< CS_INEQ_* bits of the indices computed (CS_INEQ_ALL unless omit_undefined) */
} cs_ineq_summary;

/**
 * All indices at once. The weighted summary (w given) equals Williamson's
 * index in its `cv` field. Fails (nothing written) on the first value an
 * index cannot accept, with the rule in the message.
 */
CS_API cs_status cs_ineq_summarise(const double *y, const double *w, size_t n, const cs_ineq_opts *opts,
                                   cs_ineq_summary *out);

/* ------------------------------------------------------------------ */
/* Groups and decompositions                                          */
/* ------------------------------------------------------------------ */

/**
 * Factorise labels into dense group ids 0..ngroups−1 in order of first appearance.
 * *group (n ids) and *names (ngroups owned strings) are owned by the caller:
 * free with cs_free(*group) and cs_groups_names_free(*names, ngroups).
 * Empty labels are groups like any other ("").
 */
CS_API cs_status cs_groups_from_labels(const char *const *labels, size_t n, uint32_t **group, char ***names,
                                       size_t *ngroups);
CS_API void cs_groups_names_free(char **names, size_t ngroups);

/**
 * cs_ineq_summarise for every group g (units with group[i] == g): out[g] and status[g]
 * (ngroups entries each, caller-owned). A group whose indices cannot be computed (fewer than two
 * units with positive weight, a value an index refuses) gets its status and an all-zero summary;
 * the call itself fails only on bad arguments or out of memory. Returns CS_OK otherwise.
 */
CS_API cs_status cs_ineq_summarise_groups(const double *y, const double *w, size_t n, const uint32_t *group,
                                          size_t ngroups, const cs_ineq_opts *opts, cs_ineq_summary *out,
                                          cs_status *status);

/**
 * Additive decomposition of GE(α) (Shorrocks 1980; Cowell 2011 ch. 7):
 *   GE = between + within,
 *   between = GE(α) of the distribution where each person has the mean of their group,
 *   within  = Σ_g v_g^(1−α) s_g^α GE_g   (v_g = W_g/W population share, s_g = W_g μ_g/(W μ) income share).
 * For α = 1 the weight is s_g, for α = 0 it is v_g.
 */
typedef struct cs_ge_decomp {
    double alpha;
    double total, between, within;
    size_t ngroups;
    size_t *group_n;          /**< members per group (owned) */
    double *group_weight;     /**< W_g (n_g when unweighted) (owned) */
    double *group_mean;       /**< μ_g (owned) */
    double *group_pop_share;  /**< v_g (owned) */
    double *group_income_share; /**< s_g (owned) */
    double *group_index;      /**< GE_g, the index inside group g (owned) */
    double *group_within;     /**< v_g^(1−α) s_g^α GE_g: group g's contribution to `within` (owned) */
} cs_ge_decomp;

/** group[i] in 0..ngroups−1; every group must have members with positive weight. */
CS_API cs_status cs_ge_decompose(const double *y, const double *w, size_t n, const uint32_t *group,
                                 size_t ngroups, double alpha, cs_ge_decomp **out);
CS_API void cs_ge_decomp_free(cs_ge_decomp *d);

/**
 * Gini decomposition of Dagum (1997), population-weighted when w is given:
 *   G = within + between_net + overlap (transvariation), exactly, where with
 *   Δ_jh = Σ_{i∈j} Σ_{r∈h} w_i w_r |y_i − y_r| / (W_j W_h),
 *   G_jj = Δ_jj / (2 μ_j),  G_jh = Δ_jh / (μ_j + μ_h),  p_j = W_j/W,  s_j = W_j μ_j/(W μ),
 *   D_jh = (μ_j − μ_h)/Δ_jh for μ_j >= μ_h (relative economic affluence; 0 when Δ_jh = 0),
 *   within      = Σ_j G_jj p_j s_j,
 *   between_net = Σ_{j<h} G_jh (p_j s_h + p_h s_j) |D_jh|,
 *   overlap     = Σ_{j<h} G_jh (p_j s_h + p_h s_j) (1 − |D_jh|).
 * between_gross = between_net + overlap. Uses the CS_GINI_POPULATION variant.
 */
typedef struct cs_gini_decomp {
    double total, within, between_net, overlap, between_gross;
    size_t ngroups;
    size_t *group_n;         /**< (owned) */
    double *group_weight;    /**< W_g (owned) */
    double *group_mean;      /**< μ_g (owned) */
    double *group_pop_share; /**< p_g (owned) */
    double *group_income_share; /**< s_g (owned) */
    double *group_gini;      /**< G_gg, Gini inside group g (owned) */
    double *group_within;    /**< G_gg p_g s_g, group g's contribution to `within` (owned) */
    double *pair_gini;       /**< ngroups² matrix G_jh (diagonal = G_jj), row-major (owned) */
    double *pair_d;          /**< ngroups² matrix D_jh (antisymmetric sign: D_hj = −D_jh), (owned) */
} cs_gini_decomp;

CS_API cs_status cs_gini_decompose(const double *y, const double *w, size_t n, const uint32_t *group,
                                   size_t ngroups, cs_gini_decomp **out);
CS_API void cs_gini_decomp_free(cs_gini_decomp *d);

/* ------------------------------------------------------------------ */
/* Panels: convergence and Markov chains (src/metrics/convergence.c,   */
/* src/metrics/markov.c)                                               */
/* ------------------------------------------------------------------ */

/**
 * σ-convergence of a panel y[i*nper + t] (n units, nper periods), weights w
 * (same layout, or NULL = unweighted). For each period t:
 *   cv[t]     = population CV (cs_cv, CS_SD_POPULATION),
 *   sd_log[t] = sqrt(Σ s_i (ln y_i − m)²), m = Σ s_i ln y_i (population SD of logs; y > 0 required).
 * Arrays cv and sd_log have nper entries (caller-owned).
 */
CS_API cs_status cs_sigma_convergence(const double *y, const double *w, size_t n, size_t nper, double *cv,
                                      double *sd_log);

/** β-convergence result (unweighted OLS; names as in outputs). */
typedef struct cs_beta_result {
    size_t n;
    double years;        /**< T, time between the two periods */
    double alpha, beta;  /**< g_i = alpha + beta ln y_i0 + e_i, g_i = ln(y_iT / y_i0) / T */
    double se_alpha, se_beta; /**< classical OLS standard errors, s² = SSR/(n−2) */
    double t_beta;       /**< beta / se_beta, n−2 degrees of freedom */
    double r2;           /**< coefficient of determination */
    double speed;        /**< implied speed of convergence λ = −ln(1 + βT)/T (per year); see speed_defined */
    double half_life;    /**< ln 2 / λ (years); meaningful when speed_defined and λ > 0 */
    int speed_defined;   /**< 0 when 1 + βT <= 0 (then speed and half_life are INFINITY) */
} cs_beta_result;

/** β-convergence between y0 and yT (n units, all > 0, n >= 3, years > 0). */
CS_API cs_status cs_beta_convergence(const double *y0, const double *yT, size_t n, double years,
                                     cs_beta_result *out);

/**
 * Quantile classes of one cross-section, the rule of PySAL mapclassify.Quantiles(y, k):
 * upper bounds b_c = the (100·(c+1)/k)-th percentile of y with linear interpolation
 * (position p/100·(n−1) in the sorted values), duplicates removed (so fewer than k classes
 * may result); class of y_i = the smallest c with y_i <= b_c. cls has n entries (0-based);
 * *nclasses receives the number of distinct bounds (<= k).
 */
CS_API cs_status cs_quantile_classes(const double *y, size_t n, size_t k, uint32_t *cls, size_t *nclasses);

/** A Markov chain estimated from class sequences. */
typedef struct cs_markov {
    size_t k;              /**< number of classes */
    double *counts;        /**< k×k transition counts (row = class at t, col = class at t+1), owned */
    double *p;             /**< k×k row-normalised transition probabilities; a row never observed is all 0 (as giddy) */
    double *steady_state;  /**< k ergodic probabilities π (π P = π, Σπ = 1); owned */
    int steady_state_unique; /**< 0 when the chain is not irreducible (π not unique; then steady_state is all 0) */
} cs_markov;

/**
 * Markov chain from classes cls[i*nper + t] in 0..k−1 (n units, nper periods):
 * counts of transitions t → t+1 for every unit and consecutive periods (giddy.markov.Markov).
 */
CS_API cs_status cs_markov_from_classes(const uint32_t *cls, size_t n, size_t nper, size_t k, cs_markov **out);

/**
 * Quantile Markov chain of a panel y[i*nper + t]: each period's cross-section is
 * classed by cs_quantile_classes with k classes (PySAL: mapclassify.Quantiles per
 * period, then giddy.markov.Markov). Refuses a period with fewer than k distinct bounds.
 */
CS_API cs_status cs_markov_quantiles(const double *y, size_t n, size_t nper, size_t k, cs_markov **out);
CS_API void cs_markov_free(cs_markov *m);

/** Steady state of a row-stochastic k×k matrix p; *unique = 0 if not unique. */
CS_API cs_status cs_markov_steady_state(const double *p, size_t k, double *pi, int *unique);

#ifdef __cplusplus
}
#endif
#endif

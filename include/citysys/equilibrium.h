/*
 * equilibrium.h: a quantitative spatial equilibrium model of a system of
 * cities (Allen & Arkolakis 2014, QJE 129(3); imperfect mobility after
 * Redding 2016, JIE 101), its calibration to observed population and income,
 * counterfactuals by exact hat algebra (Dekle, Eaton & Kortum 2008) and by a
 * levels solver, uniqueness checks, and welfare comparisons (equivalent
 * variation, winners and losers).
 *
 * Every equation, the numeraire and the welfare measure are written in
 * docs/model-equilibrium.md. Symbols used below:
 *   theta  trade elasticity (= sigma - 1, CES elasticity of substitution sigma)
 *   alpha  productivity spillover: A_i = Abar_i * L_i^alpha
 *   beta   amenity spillover (congestion when < 0): u_i = ubar_i * L_i^beta
 *   kappa  Frechet dispersion of idiosyncratic location tastes (imperfect mobility)
 *   tau    iceberg trade cost matrix, tau_ij >= 1 (+inf = no trade), tau_ii = 1;
 *          row i = origin (seller), column j = destination (buyer)
 *   w_i    income per head (nominal, numeraire: world income sum_i w_i L_i fixed)
 *   L_i    population; P_i CES price index; W_i = w_i u_i / P_i welfare
 *
 * Memory: a solve holds one dense N x N work matrix besides the caller's
 * cost matrices (see CS_EQ_REUSE_TAU_AFTER to stay within two N x N matrices
 * for calibration + counterfactual). Time per iteration: one pass over that
 * matrix (row and column sums fused), OpenMP over fixed row blocks, so results
 * are bitwise identical whatever the thread count.
 */
#ifndef CITYSYS_EQUILIBRIUM_H
#define CITYSYS_EQUILIBRIUM_H

#include "citysys/matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How labour moves in the long run (within mobility groups; never across groups). */
typedef enum cs_eq_mobility {
    CS_EQ_PERFECT = 0,  /**< welfare equalised within each group (Allen & Arkolakis 2014) */
    CS_EQ_IMPERFECT = 1 /**< Frechet tastes with dispersion kappa (Redding 2016): L_i/Lbar_g = W_i^kappa / sum_g W^kappa */
} cs_eq_mobility;

/** Time horizon of a counterfactual. */
typedef enum cs_eq_horizon {
    CS_EQ_LONG_RUN = 0, /**< people move within groups (per the model's mobility) */
    CS_EQ_SHORT_RUN = 1 /**< nobody moves: L fixed at the baseline */
} cs_eq_horizon;

/** Parameters. Fill with cs_eq_params_default() and change what you need. */
typedef struct cs_eq_params {
    double theta;  /**< trade elasticity, > 0; default 8 (Eaton & Kortum 2002; used by Allen & Arkolakis 2014) */
    double alpha;  /**< productivity spillover; default 0.1 (Allen & Arkolakis 2014) */
    double beta;   /**< amenity spillover; default -0.3 (Allen & Arkolakis 2014) */
    cs_eq_mobility mobility; /**< default CS_EQ_PERFECT */
    double kappa;  /**< Frechet shape for CS_EQ_IMPERFECT, > 0; default 3 (see docs) */
    double tol;    /**< convergence: max |log change| of w and L proposed by one iteration; default 1e-10 */
    int max_iter;  /**< iteration cap; default 100000 */
    double step;   /**< damping of the population step in (0,1]; default 0.5 */
    cs_progress progress; /**< optional; called once per iteration with stage "calibration" or
                               "equilibrium", done = iteration, total = max_iter; non-zero return
                               cancels with CS_ECANCELED. Default {NULL, NULL} */
} cs_eq_params;

/** Defaults as documented above. */
CS_API void cs_eq_params_default(cs_eq_params *p);
/** CS_EINVAL with a message naming the bad parameter. */
CS_API cs_status cs_eq_params_check(const cs_eq_params *p);

/**
 * Fundamentals of a calibrated (or user-built) model. Public SoA; all arrays
 * owned, allocated by cs_eq_model_new, freed by cs_eq_model_free.
 */
typedef struct cs_eq_model {
    size_t n;           /**< cities */
    size_t ngroups;     /**< mobility groups */
    uint32_t *group;    /**< n: group index of each city, < ngroups */
    double *group_pop;  /**< ngroups: fixed group population Lbar_g (persons) */
    double *Abar;       /**< n: productivity fundamental */
    double *ubar;       /**< n: amenity fundamental */
    cs_eq_params params;
} cs_eq_model;

/**
 * New model. Abar/ubar may be NULL (then 1). group_pop may be NULL: then it
 * must be set by the caller before use. Copies every array.
 */
CS_API cs_status cs_eq_model_new(size_t n, size_t ngroups, const uint32_t *group, const double *group_pop,
                                 const double *Abar, const double *ubar, const cs_eq_params *params,
                                 cs_eq_model **out);
CS_API void cs_eq_model_free(cs_eq_model *m);

/**
 * Dense group ids from labels (e.g. country codes): ids in order of first
 * appearance; NULL or "" labels form one group "". *group (n) owned by the
 * caller (cs_free); *names (ngroups borrowed pointers into labels, "" for
 * NULL) owned array, may be NULL if not wanted.
 */
CS_API cs_status cs_eq_groups_from_labels(const char *const *labels, size_t n, uint32_t **group,
                                          size_t *ngroups, const char ***names);

/** Result flags. */
#define CS_EQ_FLAG_ASYMMETRIC 0x01u        /**< tau is not symmetric (within 1e-12 relative) */
#define CS_EQ_FLAG_NOT_UNIQUE 0x02u        /**< the sufficient uniqueness condition does not hold */

/** An equilibrium (baseline or counterfactual). Public SoA, owned arrays. */
typedef struct cs_eq_state {
    size_t n, ngroups;
    double *w;           /**< income per head (numeraire units) */
    double *L;           /**< population */
    double *P;           /**< CES price index */
    double *A;           /**< productivity Abar * a * L^alpha */
    double *u;           /**< amenity ubar * b * L^beta */
    double *W;           /**< welfare of living in the city: w u / P */
    double *real_income; /**< w / P */
    double *output;      /**< w L (income = value of output) */
    double *group_welfare; /**< ngroups: perfect: sum L W / Lbar; imperfect: (sum W^kappa)^(1/kappa) */
    double world_income; /**< sum w L (the numeraire) */
    cs_eq_horizon horizon;
    int iterations;      /**< iterations used (0 for a calibration's baseline) */
    double residual;     /**< last residual (max |log change|) */
    unsigned flags;      /**< CS_EQ_FLAG_* */
    double spectral_radius; /**< rho(|B Gamma^-1|), see cs_eq_uniqueness */
} cs_eq_state;

CS_API void cs_eq_state_free(cs_eq_state *s);

/** The uniqueness conditions checked (docs/model-equilibrium.md, "Uniqueness"). */
typedef struct cs_eq_uniqueness {
    int symmetric;      /**< tau symmetric within 1e-12 relative */
    double alpha_plus_beta; /**< alpha + beta_eff, beta_eff = beta - 1/kappa for imperfect mobility */
    double spectral_radius; /**< rho(|B Gamma^-1|) of Allen, Arkolakis & Li (2020), Theorem 1 */
    int holds;          /**< symmetric: alpha+beta_eff <= 0; otherwise rho <= 1 (+1e-12); short run: always */
} cs_eq_uniqueness;

/** Check the uniqueness conditions for tau (may be NULL: symmetry not checked, treated as asymmetric). */
CS_API cs_status cs_eq_check_uniqueness(const cs_eq_params *p, const cs_matrix *tau, cs_eq_horizon horizon,
                                        cs_eq_uniqueness *out);

/**
 * Solve the equilibrium in levels at cost matrix tau from fundamentals.
 *   horizon   CS_EQ_SHORT_RUN: L = L_init (required); CS_EQ_LONG_RUN: L solved
 *             within groups (L_init = starting guess, or NULL: group
 *             population split equally)
 *   a_shift, b_shift  optional per-city multipliers of Abar and ubar (NULL = 1):
 *             the channel for soft infrastructure and facilities
 *   world_income  the numeraire sum_i w_i L_i (> 0)
 * Non-convergence is CS_ECONVERGE with iterations, last residual and worst
 * city in the message. Outside the uniqueness conditions a warning goes to
 * diag (may be NULL) and CS_EQ_FLAG_NOT_UNIQUE is set. Work memory: one N x N.
 */
CS_API cs_status cs_eq_solve(const cs_eq_model *m, const cs_matrix *tau, cs_eq_horizon horizon,
                             const double *L_init, const double *a_shift, const double *b_shift,
                             double world_income, cs_diag *diag, cs_eq_state **out);

/**
 * Calibrate Abar and ubar so that the model reproduces observed population L
 * (> 0) and income per head w (> 0) at costs tau (docs: "Calibration").
 * Abar: goods market clearing solved for productivities, normalised so that
 * the population-weighted mean of Abar is 1. ubar: perfect mobility, W_i = 1
 * in every group; imperfect, W_i = (L_i / Lbar_g)^(1/kappa). group may be
 * NULL (one group). Returns the model (*model) and the baseline equilibrium
 * (*baseline, w and L exactly as given). Work memory: one N x N.
 */
CS_API cs_status cs_eq_calibrate(const cs_eq_params *p, size_t n, const uint32_t *group, const double *L,
                                 const double *w, const cs_matrix *tau, cs_diag *diag, cs_eq_model **model,
                                 cs_eq_state **baseline);

/** Flags for cs_eq_counterfactual. */
#define CS_EQ_REUSE_TAU_AFTER 0x01u /**< overwrite tau_after's values with the work matrix (saves one N x N;
                                          tau_after's values are unspecified afterwards, even on error) */

/**
 * Counterfactual by exact hat algebra from a calibrated baseline: baseline
 * trade shares pi_ij from the calibrated levels, cost change
 * tau_hat = tau_after / tau, optional shifters a_shift (Abar multiplier) and
 * b_shift (ubar multiplier). World income stays at the baseline's. The
 * result is in levels (baseline times changes). A pair unreachable at the
 * baseline but reachable after (pi_ij = 0) enters with its level cost.
 */
CS_API cs_status cs_eq_counterfactual(const cs_eq_model *m, const cs_eq_state *baseline, const cs_matrix *tau,
                                      cs_matrix *tau_after, cs_eq_horizon horizon, const double *a_shift,
                                      const double *b_shift, unsigned flags, cs_diag *diag, cs_eq_state **out);

/**
 * cs_eq_counterfactual with a starting guess (warm start): the fixed-point
 * iteration starts from init's income per head w and population L (init a
 * state of the same model and size, e.g. the counterfactual of a nearby
 * scenario; borrowed, may be NULL = start from the baseline, exactly
 * cs_eq_counterfactual). The solution is the same equilibrium to the solver
 * tolerance (params.tol on the max |log change| of w, P and L): only the
 * number of iterations changes. Under uniqueness conditions the fixed point is
 * unique, so any positive start converges to it.
 */
CS_API cs_status cs_eq_counterfactual_from(const cs_eq_model *m, const cs_eq_state *baseline, const cs_matrix *tau,
                                           cs_matrix *tau_after, cs_eq_horizon horizon, const double *a_shift,
                                           const double *b_shift, unsigned flags, const cs_eq_state *init,
                                           cs_diag *diag, cs_eq_state **out);

/**
 * Baseline trade shares pi_ij = tau_ij^-theta c_i / Phi_j (c_i = (w_i/A_i)^-theta,
 * Phi_j = P_j^-theta; 0 where tau_ij is infinite) of `baseline` under `tau`:
 * the kernel every counterfactual from this baseline starts from. *out is an
 * owned n x n matrix (cs_matrix_free). Compute it once when many scenarios are
 * evaluated against one baseline and pass it to cs_eq_counterfactual_shares.
 */
CS_API cs_status cs_eq_trade_shares(const cs_eq_model *m, const cs_eq_state *baseline, const cs_matrix *tau,
                                    cs_matrix **out);

/**
 * cs_eq_counterfactual_from with the baseline trade shares precomputed by
 * cs_eq_trade_shares from the same model, baseline and tau (borrowed; NULL =
 * computed here). The result is bitwise the same; only the n^2 powers of the
 * unchanged pairs are not recomputed.
 */
CS_API cs_status cs_eq_counterfactual_shares(const cs_eq_model *m, const cs_eq_state *baseline, const cs_matrix *tau,
                                             const cs_matrix *shares, cs_matrix *tau_after, cs_eq_horizon horizon,
                                             const double *a_shift, const double *b_shift, unsigned flags,
                                             const cs_eq_state *init, cs_diag *diag, cs_eq_state **out);

/**
 * Welfare comparison of two equilibria of the same model (docs: "Welfare").
 * Per city: hats (after/before) of w, L, P, real income, welfare W; the
 * welfare change of the baseline residents (short run: W_hat of their city;
 * long run: the change of their group's welfare) and its equivalent variation
 * in money, ev = (resident_welfare_hat - 1) * w * L (baseline income).
 * Per group: ev summed, income-weighted welfare change 1 + ev/Y and the
 * population-weighted one. Totals likewise.
 */
typedef struct cs_eq_change {
    size_t n, ngroups;
    double *w_hat, *L_hat, *P_hat, *real_income_hat, *welfare_hat; /**< n each */
    double *resident_welfare_hat; /**< n: welfare change of the city's baseline residents */
    double *ev;          /**< n: equivalent variation of the city's baseline residents (money, numeraire units) */
    double *group_ev;    /**< ngroups */
    double *group_welfare_hat;     /**< ngroups: 1 + group_ev / baseline group income */
    double *group_welfare_hat_pop; /**< ngroups: population-weighted mean of resident_welfare_hat */
    double total_ev;               /**< sum of ev */
    double total_welfare_hat;      /**< 1 + total_ev / baseline world income */
    double total_welfare_hat_pop;  /**< population-weighted mean of resident_welfare_hat */
} cs_eq_change;

CS_API cs_status cs_eq_compare(const cs_eq_model *m, const cs_eq_state *before, const cs_eq_state *after,
                               cs_eq_change **out);
CS_API void cs_eq_change_free(cs_eq_change *c);

/** Aggregates of a change by any partition of the cities (country, region, typology). */
typedef struct cs_eq_aggregate {
    size_t nlabels;
    double *pop_before, *pop_after;       /**< persons */
    double *income_before, *income_after; /**< sum w L */
    double *ev;                           /**< sum of the cities' ev */
    double *welfare_hat;                  /**< 1 + ev / income_before */
    double *real_income_hat;              /**< real income per head (population-weighted mean of w/P), after / before */
} cs_eq_aggregate;

/** label[i] < nlabels for each city. */
CS_API cs_status cs_eq_aggregate_by(const cs_eq_state *before, const cs_eq_state *after, const cs_eq_change *c,
                                    const uint32_t *label, size_t nlabels, cs_eq_aggregate **out);
CS_API void cs_eq_aggregate_free(cs_eq_aggregate *a);

/**
 * Rank: order[0..n-1] = indices sorted by value descending (winners first),
 * ties by index; NaN last. order is caller-allocated (n entries).
 */
CS_API cs_status cs_eq_rank(const double *value, size_t n, uint32_t *order);

#ifdef __cplusplus
}
#endif
#endif

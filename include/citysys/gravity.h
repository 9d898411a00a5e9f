/*
 * gravity.h: spatial interaction (gravity) models and their estimation
 * (docs/methods.md, "Gravity interaction and PPML estimation").
 *
 * Prediction (Wilson 1971 family), with f the deterrence function:
 *   unconstrained          T_ij = k · O_i · D_j · f(c_ij)
 *   production-constrained T_ij = A_i · O_i · D_j · f(c_ij),  A_i = 1 / Σ_j D_j f(c_ij)   (Σ_j T_ij = O_i)
 *   attraction-constrained T_ij = O_i · B_j · D_j · f(c_ij),  B_j = 1 / Σ_i O_i f(c_ij)   (Σ_i T_ij = D_j)
 *   doubly-constrained     T_ij = A_i O_i B_j D_j f(c_ij), A and B balanced by Furness iteration
 *                          (iterative proportional fitting) until both margins hold to a relative tolerance.
 * Deterrence: power f(c) = max(c, c_min)^(−β); exponential f(c) = exp(−β c).
 * Unreachable pairs (c = +inf or NaN) have f = 0.
 *
 * Estimation: Poisson pseudo-maximum likelihood (Santos Silva & Tenreyro
 * 2006) by iteratively reweighted least squares of a Poisson GLM with log
 * link, zeros kept, HC0 sandwich standard errors.
 */
#ifndef CITYSYS_GRAVITY_H
#define CITYSYS_GRAVITY_H

#include "citysys/matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_decay {
    CS_DECAY_POWER = 0,      /**< f(c) = max(c, c_min)^(−β) */
    CS_DECAY_EXPONENTIAL = 1 /**< f(c) = exp(−β c) */
} cs_decay;

/** Deterrence value f(c) (0 for c = +inf or NaN). */
CS_API double cs_decay_eval(cs_decay decay, double beta, double c_min, double c);

typedef enum cs_gravity_kind {
    CS_GRAVITY_UNCONSTRAINED = 0,
    CS_GRAVITY_PRODUCTION = 1, /**< origin (production) constrained */
    CS_GRAVITY_ATTRACTION = 2, /**< destination (attraction) constrained */
    CS_GRAVITY_DOUBLY = 3      /**< production-attraction (doubly) constrained */
} cs_gravity_kind;

typedef struct cs_gravity_opts {
    cs_gravity_kind kind;
    cs_decay decay;
    double beta;          /**< decay parameter (≥ 0); default 1 */
    double c_min;         /**< cost floor for power decay (default 1, cost units) */
    double k;             /**< scale constant of the unconstrained model (default 1) */
    int include_diagonal; /**< allow flows i→i (default 0: T_ij = 0 where row i and column j have the same id) */
    double tol;           /**< doubly constrained: max relative margin error (default 1e-6) */
    int max_iter;         /**< doubly constrained: iteration limit (default 1000) */
    cs_progress progress;
} cs_gravity_opts;

CS_API void cs_gravity_opts_default(cs_gravity_opts *o);

/** Diagnostics of a prediction. */
typedef struct cs_gravity_info {
    int iterations;        /**< Furness iterations (0 for the other models) */
    double max_rel_err_o;  /**< max_i |Σ_j T_ij − O_i| / O_i over origins with O_i > 0 (NaN if not constrained) */
    double max_rel_err_d;  /**< max_j |Σ_i T_ij − D_j| / D_j */
    int converged;         /**< 1 when margins hold to tol */
} cs_gravity_info;

/**
 * Predict flows. cost: n×m (rows = origins, cols = destinations; n = m when
 * include_diagonal is 0 or the matrix is square); O: n origin masses ≥ 0,
 * D: m destination masses ≥ 0 (borrowed). *flows: new n×m CS_MATRIX_FLOW
 * matrix (owned; ids copied from cost). A_out (n) and B_out (m) receive the
 * balancing factors when non-NULL (1 where unused).
 * Errors: CS_EINVAL (bad sizes/values; doubly constrained with Σ O ≠ Σ D to
 * 1e-9 relative), CS_EINFEASIBLE (an origin with O_i > 0 and no reachable
 * destination of positive mass, or the reverse), CS_ECONVERGE (doubly
 * constrained not balanced within max_iter; *flows still NULL, info filled).
 */
CS_API cs_status cs_gravity_predict(const cs_matrix *cost, const double *O, const double *D,
                                    const cs_gravity_opts *opts, cs_matrix **flows, double *A_out, double *B_out,
                                    cs_gravity_info *info);

/**
 * Huff (1963) market-area probabilities: P_ij = W_j^α f(c_ij) / Σ_k W_k^α f(c_ik),
 * for every origin row i and centre column j. W: m attractiveness values ≥ 0.
 * A row with no reachable centre of positive attractiveness gets NaN and is
 * counted in *n_unserved (may be NULL). *prob: new n×m matrix (owned).
 */
CS_API cs_status cs_huff(const cs_matrix *cost, const double *W, double alpha, cs_decay decay, double beta,
                         double c_min, cs_matrix **prob, size_t *n_unserved);

/* ---------------------------------------------------------------------- */
/* PPML estimation                                                          */

typedef enum cs_ppml_masses {
    CS_PPML_FIXED_EFFECTS = 0, /**< origin and destination fixed effects (intercept + dummies; the first row and the first column are the reference levels) */
    CS_PPML_LOG_MASSES = 1     /**< regressors ln O_i and ln D_j (masses given, > 0) */
} cs_ppml_masses;

typedef struct cs_ppml_opts {
    cs_decay decay;         /**< power: regressor ln c_ij; exponential: regressor c_ij */
    cs_ppml_masses masses;
    const double *O, *D;    /**< masses for CS_PPML_LOG_MASSES (borrowed) */
    int include_diagonal;   /**< use same-id (i→i) observations (default 0) */
    double tol;             /**< convergence: max_k |Δb_k| / (1 + |b_k|) of the last Newton step (default 1e-10) */
    int max_iter;           /**< default 100 */
    size_t max_params;      /**< refuse dense solves with more parameters (default 2000) */
} cs_ppml_opts;

CS_API void cs_ppml_opts_default(cs_ppml_opts *o);

typedef struct cs_ppml_result {
    size_t nobs;        /**< observations used (finite flow ≥ 0 and finite cost) */
    size_t nzero;       /**< of which zero flows */
    size_t nexcluded;   /**< cells excluded (NaN flow, unreachable cost, diagonal) */
    size_t nparams;
    char **names;       /**< nparams names: "const", "fe_o_<id>", "fe_d_<id>", "ln_O", "ln_D", "ln_cost" or "cost" (owned) */
    double *coef;       /**< owned */
    double *se_hc0;     /**< HC0 robust standard errors (owned) */
    double cost_coef;   /**< coefficient of ln c (power: the cost elasticity) or of c (exponential) */
    double cost_se_hc0;
    double deviance;       /**< Poisson deviance 2 Σ [y ln(y/μ) − (y − μ)] */
    double null_deviance;  /**< deviance of the intercept-only model (μ = mean y) */
    double pseudo_r2_deviance; /**< 1 − deviance / null_deviance */
    double r2_corr;        /**< squared correlation of y and μ (Santos Silva & Tenreyro's R²) */
    double loglik;         /**< Poisson log-likelihood Σ [y ln μ − μ − ln Γ(y+1)] */
    int iterations;
    int converged;
    cs_matrix *fitted;     /**< fitted μ_ij, NaN where excluded (owned) */
} cs_ppml_result;

CS_API void cs_ppml_result_free(cs_ppml_result *r);

/**
 * Fit flows (n×m, NaN = missing; zeros kept) on cost (same shape).
 * Fixed effects: parameters 1 + (n−1) + (m−1) + 1 solved densely (refused
 * above max_params with CS_EUNSUPPORTED). An origin or destination whose
 * observed flows are all zero has no finite fixed effect: CS_EINFEASIBLE
 * naming it. Non-convergence: CS_ECONVERGE (result still returned in *out
 * with converged = 0 so callers can inspect it).
 */
CS_API cs_status cs_ppml_fit(const cs_matrix *flows, const cs_matrix *cost, const cs_ppml_opts *opts,
                             cs_ppml_result **out);

#ifdef __cplusplus
}
#endif
#endif

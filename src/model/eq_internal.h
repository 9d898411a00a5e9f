/* eq_internal.h: the equilibrium fixed-point engine shared by the levels
 * solver, the hat-algebra solver and calibration (src/model/). Not public. */
#ifndef CS_EQ_INTERNAL_H
#define CS_EQ_INTERNAL_H
#include "citysys/equilibrium.h"

/*
 * The system solved by eq_run, written so that the levels and the hat systems
 * are the same code (docs/model-equilibrium.md, "Solver"):
 *   c_i   = (w_i / (p_i L_i^alpha))^-theta
 *   Phi_j = sum_i K_ij c_i                      (= P_j^-theta up to s_j)
 *   w_i L_i = c_i sum_j K_ij w_j L_j / Phi_j    (goods market clearing)
 *   W_i   = w_i q_i L_i^beta Phi_i^(1/theta)    (welfare)
 *   mobility within groups on W, sum_i w_i L_i = Y.
 * Levels: K = tau^-theta, p = Abar a, q = ubar b. Hat: K = pi o tau_hat^-theta,
 * p = a w0 L0^-alpha, q = W0 b / (w0 L0^beta).
 */
typedef struct eq_sys {
    size_t n, ng;
    const uint32_t *group; /* n, may be NULL when ng == 1 */
    const double *gpop;    /* ng */
    const double *K;       /* n*n row-major */
    double theta, alpha, beta, inv_kappa; /* inv_kappa = 0: perfect mobility */
    int mobile;            /* 0: L fixed */
    const double *logp, *logq; /* n */
    double Y;
    double tol, step;
    int max_iter;
    cs_progress progress;
} eq_sys;

/* Fused pass: row_i = sum_j K_ij y_j and col_j = sum_i K_ij x_i, one sweep over K,
 * OpenMP over a fixed number of row blocks (deterministic). acc: eq_acc_size(n) doubles. */
size_t eq_acc_size(size_t n);
void eq_pass(const double *K, size_t n, const double *x, const double *y, double *row, double *col, double *acc);

/* Solve. In: w, L (start). Out: w, L, Phi (consistent with the returned w, L),
 * *iters, *resid. CS_ECONVERGE with diagnostics on failure (w, L then hold the last iterate). */
cs_status eq_run(const eq_sys *S, double *w, double *L, double *Phi, int *iters, double *resid);

/* Sinkhorn-type calibration of c_i = (w_i/A_i)^-theta: market clearing Y_i = c_i sum_j K_ij Y_j/Phi_j.
 * Out: c (mean log c = 0) and Phi = K^T c. */
cs_status eq_calibrate_c(const double *K, size_t n, const double *Y, const uint32_t *group, size_t ng, double tol,
                         int max_iter, cs_progress progress, double *c, double *Phi, int *iters, double *resid);
#endif

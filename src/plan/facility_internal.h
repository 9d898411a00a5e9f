/* facility_internal.h: shared state of the facility-location solvers (not public). */
#ifndef CS_FACILITY_INTERNAL_H
#define CS_FACILITY_INTERNAL_H

#include "citysys/facility.h"

/* A validated problem in solver form. */
typedef struct fac_ctx {
    const cs_fac_problem *prob;
    size_t n, m;        /* demand points, candidates */
    const double *d;    /* n*m row-major (borrowed from prob->cost) */
    double *w;          /* n weights (owned; 1 when prob->weight is NULL) */
    uint8_t *fixed;     /* m flags: existing facility (owned) */
    uint32_t *fixed_list; /* nfixed candidate indices, ascending (owned) */
    size_t nfixed;
    size_t P;           /* total open sites = p + nfixed (p-median, MCLP, p-center) */
    const cs_fac_options *opts;
    double t0;          /* start of the solve (fac_now); the time limit counts from here */
    double heur_frac;   /* share of the time limit the heuristic may use (1 alone, 0.3 before GLPK) */
    double lagr_frac;   /* share the Lagrangian bound may have used by its end (1 alone, 0.6 before GLPK) */
} fac_ctx;

/* Result of a solver: P sites and, for capacitated problems, the assignment. */
typedef struct fac_result {
    uint32_t *sites;   /* owned, candidate indices */
    size_t nsites;
    uint32_t *assign;  /* owned per demand candidate index (capacitated only), else NULL */
    double objective;
    double bound;      /* NaN if none */
    char bound_kind[24];
    int optimal, time_limited;
    char message[256];
} fac_result;

void fac_result_clear(fac_result *r);

/* Progress/cancel: returns CS_ECANCELED (recorded) when the callback asks to stop. */
cs_status fac_progress(const fac_ctx *c, const char *stage, double done, double total);
double fac_now(void);

/* Heuristics (facility_heur.c). sites receives ctx->P candidate indices. */
cs_status fac_heur_pmedian(const fac_ctx *c, uint32_t *sites, double *obj, char *msg, size_t msgsz);
cs_status fac_heur_mclp(const fac_ctx *c, double radius, size_t P, uint32_t *sites, double *obj);
/* Greedy set cover (Chvatal) + redundancy removal; *sites owned; only demand with w > 0 must be covered. */
cs_status fac_heur_scp(const fac_ctx *c, double radius, uint32_t **sites, size_t *nsites);
cs_status fac_heur_pcenter(const fac_ctx *c, uint32_t *sites, double *obj);
/* Capacitated single-source p-median; assign: per demand candidate index; *obj = +inf if none found. */
cs_status fac_heur_cpmedian(const fac_ctx *c, uint32_t *sites, uint32_t *assign, double *obj);
cs_status fac_lagrangian_pmedian(const fac_ctx *c, double upper, int iters, double *bound);
cs_status fac_lagrangian_pmedian_ex(const fac_ctx *c, double upper, int iters, double *bound, double *lb_open,
                                    double *lb_close);

/* Exact solvers (facility_glpk.c). init: incumbent of ctx->P sites or NULL. */
/* closed[j] = 1: candidate fixed closed, opened[j] = 1: fixed open (Lagrangian reduction; may be NULL). */
cs_status fac_glpk_pmedian(const fac_ctx *c, const uint32_t *init, double init_obj, const uint8_t *closed,
                           const uint8_t *opened, fac_result *r);
cs_status fac_glpk_cpmedian(const fac_ctx *c, fac_result *r);
cs_status fac_glpk_mclp(const fac_ctx *c, double radius, size_t P, const uint32_t *init, fac_result *r);
/* LP-relaxation bounds for the heuristics (upper for MCLP, lower for SCP). */
cs_status fac_glpk_mclp_lp(const fac_ctx *c, double radius, size_t P, double *bound);
cs_status fac_glpk_scp_lp(const fac_ctx *c, double radius, double *bound);
cs_status fac_glpk_scp(const fac_ctx *c, double radius, const uint32_t *init, size_t ninit, fac_result *r);
cs_status fac_glpk_pcenter(const fac_ctx *c, const uint32_t *init, double init_obj, fac_result *r);

#endif

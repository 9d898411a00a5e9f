/*
 * facility.h: where to put facilities that several cities share (hubs, dry
 * ports, universities, regional hospitals, wholesale markets).
 *
 * Models (docs/facilities.md gives the formulations and their sources):
 *   - p-median       minimise the demand-weighted travel time to the facility
 *                    serving each demand point (ReVelle & Swain 1970);
 *   - MCLP           maximal covering: most demand within time S of an open
 *                    facility with p new sites (Church & ReVelle 1974);
 *   - SCP            set covering: fewest new facilities so that every demand
 *                    point with weight > 0 is within S (Toregas et al. 1971);
 *   - p-center       minimise the worst time over demand points with weight > 0.
 * Existing facilities are fixed open; `p` counts NEW sites only. Optional
 * capacities turn the p-median into the single-source capacitated p-median
 * (each demand point served entirely by one facility).
 *
 * Input is a cost matrix demand x candidates (cs_matrix, rows = demand points,
 * columns = candidate sites, values >= 0, +INFINITY = unreachable), so
 * candidates can be cities or any other points. Weights (population) per row.
 *
 * Solvers: exact with GLPK (strong formulations, time limit, proven gap) and a
 * seeded multi-start heuristic (greedy + fast vertex substitution) with a
 * Lagrangian lower bound for the p-median. GLPK never prints and never aborts
 * the process: its terminal output is captured and its fatal errors are
 * translated to CS_EDEPENDENCY.
 *
 * Thread safety: functions are re-entrant; GLPK runs use GLPK's thread-local
 * environment, so concurrent exact solves from several threads are allowed.
 */
#ifndef CITYSYS_FACILITY_H
#define CITYSYS_FACILITY_H

#include "citysys/matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_fac_model {
    CS_FAC_PMEDIAN = 0, /**< min sum_i w_i * t(i, facility of i) */
    CS_FAC_MCLP = 1,    /**< max sum of w_i over i within `radius` of an open facility */
    CS_FAC_SCP = 2,     /**< min number of new sites covering every i (w_i > 0) within `radius` */
    CS_FAC_PCENTER = 3  /**< min max_i t(i, nearest open facility) over i with w_i > 0 */
} cs_fac_model;

/** "pmedian", "mclp", "scp", "pcenter". */
CS_API const char *cs_fac_model_name(cs_fac_model m);
/** Parse a model name (also "p-median", "maxcover", "setcover", "p-center"; case-insensitive). */
CS_API cs_status cs_fac_model_parse(const char *s, cs_fac_model *out);

typedef enum cs_fac_method {
    CS_FAC_AUTO = 0,      /**< exact when rows*cols <= 90,000, else heuristic */
    CS_FAC_EXACT = 1,     /**< GLPK branch-and-bound (glp_intopt) */
    CS_FAC_HEURISTIC = 2  /**< greedy + vertex substitution, seeded multi-start */
} cs_fac_method;

/** A facility location problem. All pointers borrowed; the struct is not modified by the solvers. */
typedef struct cs_fac_problem {
    cs_fac_model model;
    const cs_matrix *cost;    /**< rows = demand points, cols = candidates; >= 0 or +INFINITY (unreachable); NaN refused */
    const double *weight;     /**< rows weights (population), >= 0 and finite; NULL = all 1 */
    size_t p;                 /**< number of NEW sites (p-median, MCLP, p-center); ignored for SCP */
    double radius;            /**< coverage time S in the matrix unit (MCLP, SCP): covered when t <= S */
    const uint32_t *existing; /**< candidate indices fixed open (may be NULL) */
    size_t nexisting;
    const double *capacity;   /**< per candidate capacity in weight units, NULL = uncapacitated (p-median only) */
} cs_fac_problem;

typedef struct cs_fac_options {
    cs_fac_method method;
    double time_limit_s;   /**< whole-solve limit in seconds (0 = none): the heuristic stops starting new starts
                                (exact mode: after 30 %), the Lagrangian bound stops (exact: after 60 %), GLPK
                                gets the rest (tm_lim); the first heuristic start always completes */
    double mip_gap;        /**< exact: relative gap at which to stop (0 = prove optimality) */
    uint64_t seed;         /**< heuristic seed (start 0 is the deterministic greedy, starts >= 1 randomised) */
    int starts;            /**< heuristic multi-starts (default 10) */
    int lagrangian_iters;  /**< p-median Lagrangian bound, subgradient iterations: < 0 automatic (default;
                                heuristic 300 capped at ~2e9/(rows*cols), exact 2,000), 0 none (exact: GLPK
                                alone, no reduction), > 0 as given */
    int heuristic_bounds;  /**< heuristic mode: compute the bound (Lagrangian / LP / trivial); default 1 */
    cs_progress progress;  /**< may be {NULL, NULL} */
} cs_fac_options;

/** Fill defaults: AUTO, no time limit, gap 0, seed 1, 10 starts, automatic Lagrangian iterations. */
CS_API void cs_fac_options_default(cs_fac_options *o);

/** A solution. Built by cs_fac_solve; free with cs_fac_solution_free. */
typedef struct cs_fac_solution {
    cs_fac_model model;
    cs_fac_method method;   /**< the method actually used (EXACT or HEURISTIC) */
    size_t nsites;
    uint32_t *sites;        /**< owned, nsites candidate indices (ascending), existing ones included */
    uint8_t *existing;      /**< owned, per site: 1 if it was an existing facility */
    double *catchment_weight; /**< owned, per site: total weight of the demand points it serves */
    size_t *catchment_count;  /**< owned, per site: number of demand points it serves */
    size_t ndemand;
    uint32_t *assign;       /**< owned, per demand: index into sites[] of its facility, CS_INVALID_ID if none reachable */
    double *time;           /**< owned, per demand: time to its facility (+INFINITY if none) */
    uint8_t *covered;       /**< owned, per demand: 1 if time <= radius (MCLP/SCP; for others: 1 if reachable) */
    double objective;       /**< model objective: p-median weighted time, MCLP covered weight, SCP new sites, p-center max time */
    double bound;           /**< best proven bound on the optimum (lower for min, upper for MCLP), NaN if none */
    double gap;             /**< |objective - bound| / max(|objective|, tiny), NaN if no bound */
    char bound_kind[24];    /**< "mip" (GLPK branch and bound), "lagrangian", "lp" (LP relaxation), "nearest" (p-center trivial), "none" */
    int optimal;            /**< 1 when proven optimal (gap closed) */
    int time_limited;       /**< 1 when the time limit stopped the solver */
    double weighted_time;   /**< sum_i w_i * time_i over reachable i */
    double total_weight;    /**< sum_i w_i */
    double covered_weight;  /**< sum of w_i with covered_i */
    double max_time;        /**< max time over assigned i with w_i > 0 */
    double seconds;         /**< wall time of the solve */
    char message[256];      /**< solver detail (GLPK status, starts, ...) */
} cs_fac_solution;

CS_API void cs_fac_solution_free(cs_fac_solution *s);

/**
 * Solve a problem. *out receives an owned solution. Errors: CS_EINVAL (bad
 * arguments, p larger than the free candidates, NaN/negative costs,
 * capacities with another model), CS_EINFEASIBLE (SCP: a demand point no
 * candidate covers — the message names them; p-median/p-center: a demand
 * point reaches no candidate; capacitated: no assignment fits),
 * CS_EDEPENDENCY (GLPK failure, translated), CS_ECANCELED, CS_ENOMEM.
 * When the time limit stops the exact solver with an incumbent, the call
 * succeeds with time_limited = 1, optimal = 0 and the proven gap.
 */
CS_API cs_status cs_fac_solve(const cs_fac_problem *prob, const cs_fac_options *opts, cs_fac_solution **out);

/**
 * Evaluate a given set of open sites (candidate indices, existing ones are
 * added): each demand point goes to its nearest open site (ties: lowest
 * candidate index). Objective of prob->model. Used by the solvers and tests.
 */
CS_API cs_status cs_fac_evaluate(const cs_fac_problem *prob, const uint32_t *sites, size_t nsites,
                                 cs_fac_solution **out);

/**
 * Nested levels: choose `q` national sites among the sites of a regional
 * solution, minimising the weighted time of ALL demand to its nearest national
 * site (a p-median on the columns reg->sites; existing national sites can be
 * given as candidate indices in national_existing, which must be regional
 * sites). The result is a solution of a p-median over the same matrix with
 * sites restricted to reg->sites (indices are candidate indices).
 */
CS_API cs_status cs_fac_solve_nested(const cs_fac_problem *regional, const cs_fac_solution *reg, size_t q,
                                     const uint32_t *national_existing, size_t nnational_existing,
                                     const cs_fac_options *opts, cs_fac_solution **out);

/**
 * Coverage curves: for each radius r in radii[0..nradii) and k = 0..kmax new
 * sites, the weight covered within r by the best k new sites (MCLP, plus the
 * existing facilities of prob), solved with opts (heuristic: greedy +
 * substitution; exact: one GLPK MIP per point). covered receives
 * nradii*(kmax+1) values, row-major (radius, k); caller-allocated.
 */
CS_API cs_status cs_fac_coverage_curve(const cs_fac_problem *prob, const double *radii, size_t nradii,
                                       size_t kmax, const cs_fac_options *opts, double *covered);

/**
 * Lagrangian lower bound for the uncapacitated p-median (relaxing the
 * assignment constraints, subgradient optimisation; Beasley 1993). `upper`
 * is a known objective value used in the step size (+INFINITY if none).
 */
CS_API cs_status cs_fac_pmedian_lagrangian(const cs_fac_problem *prob, double upper, int iters, double *bound);

/** Coordinates and ids for the outputs. Any pointer may be NULL (ids then from the matrix, no geometry). */
typedef struct cs_fac_geo {
    const double *demand_lon, *demand_lat; /**< rows, WGS84 degrees */
    const double *cand_lon, *cand_lat;     /**< cols, WGS84 degrees */
    const char *const *demand_name;        /**< rows display names */
} cs_fac_geo;

/**
 * Catchment polygon of site s: convex hull (Andrew's monotone chain) of the
 * lon/lat of the demand points it serves plus the site itself. Writes up to
 * cap vertices (counter-clockwise, first vertex not repeated) into xy
 * (x0,y0,x1,y1,...) and their number to *nvert: 1 = a point, 2 = a segment
 * (all collinear), >= 3 = a polygon. Points with NaN coordinates are skipped.
 */
CS_API cs_status cs_fac_catchment_hull(const cs_fac_solution *sol, const cs_fac_geo *geo, size_t s, double *xy,
                                       size_t cap, size_t *nvert);

/**
 * Write the outputs into directory `dir` (created if missing; each file atomic):
 *   sites.csv        site_id, candidate index, lon, lat, existing, catchment weight/count
 *   assignment.csv   demand_id, name, facility_id, time, covered, weight
 *   catchments.geojson  one feature per site: hull polygon (Point/LineString for 1/2 points)
 *   solution.json    model, method, objective, bound, gap, optimal, sites, assignment, summary
 * and, when curve != NULL, coverage.csv (radius, sites, covered_weight, share).
 */
CS_API cs_status cs_fac_write(const cs_fac_problem *prob, const cs_fac_solution *sol, const cs_fac_geo *geo,
                              const double *radii, size_t nradii, size_t kmax, const double *curve,
                              const char *dir);

/**
 * Read an OR-Library p-median instance (Beasley 1990 format: "n m p" then m
 * lines "i j cost", undirected, 1-based; a repeated edge: the last occurrence
 * wins) and build the n x n all-pairs shortest-path matrix (Floyd-Warshall).
 * *p_out receives p.
 */
CS_API cs_status cs_fac_read_orlib(const char *path, cs_matrix **out, size_t *p_out);

struct cs_gpkg_writer;
/**
 * Add three layers to a GeoPackage being written (table.h's cs_gpkg_writer): PREFIXsites (points: id,
 * existing, catchment_population, catchment_points), PREFIXassignment (demand points: id, facility,
 * time, covered, weight) and PREFIXcatchments (polygons: the convex hull of each catchment; one- and
 * two-point hulls buffered by 2 km). Ids are the matrix row/column ids; geo gives the coordinates
 * (required: demand and candidate lon/lat).
 */
CS_API cs_status cs_fac_write_layers(const cs_fac_problem *prob, const cs_fac_solution *sol, const cs_fac_geo *geo,
                                     const char *prefix, struct cs_gpkg_writer *w);

#ifdef __cplusplus
}
#endif
#endif

/*
 * flows.h: the load of city-to-city interaction flows on every road
 * segment, and the criticality of segments (what the system loses when one
 * segment, or a set of them, is closed). Definitions in docs/flows.md.
 *
 * Load: every origin city's flows to all destinations are assigned to the
 * fastest routes with one shortest-path tree (DAG) per origin, never one
 * route per pair. Routes are compared by (time, length) exactly as the
 * routing layer does (integer ms and cm); when several routes tie in both,
 * the flow is split equally among them (each route carries F/σ, σ the
 * number of tied routes). Cities join the network where they were snapped
 * (cs_location), with the same rounding of partial segments as the router.
 */
#ifndef CITYSYS_FLOWS_H
#define CITYSYS_FLOWS_H

#include "citysys/matrix.h"
#include "citysys/network.h"
#include "citysys/routing.h"
#include "citysys/typology.h" /* cs_route */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_load_opts {
    int threads;          /**< OpenMP threads (0 = default); results are identical for any count */
    cs_progress progress;
    int method;           /**< CS_LOAD_AUTO (default), CS_LOAD_TREES or CS_LOAD_CORE (docs/flows.md) */
} cs_load_opts;

enum {
    CS_LOAD_AUTO = 0,  /**< CS_LOAD_CORE from 100,000 graph nodes on, else CS_LOAD_TREES */
    CS_LOAD_TREES = 1, /**< one tree per origin on the whole network; fills use_off/use_origin */
    CS_LOAD_CORE = 2   /**< one tree per origin on a contracted core keeping every tied fastest route, core arc
                            flows split back onto segments once; use_off/use_origin are NULL (unknown) */
};

CS_API void cs_load_opts_default(cs_load_opts *o);

typedef struct cs_load {
    uint32_t n_segs;
    double *flow_fwd, *flow_bwd;   /**< flow carried u->v and v->u per segment */
    double *pairs_fwd, *pairs_bwd; /**< city pairs served (pairs with a positive flow; a pair split over
                                        σ tied routes counts 1/σ on each) */
    size_t n_cities;
    double total_flow;             /**< Σ_{i≠j} F_ij over reachable pairs */
    double total_flow_time_s;      /**< Σ_{i≠j} F_ij t_ij over reachable pairs (flow × seconds) */
    double unreachable_flow;       /**< Σ F_ij over pairs with no route (i≠j) */
    size_t unreachable_pairs;      /**< pairs with F_ij > 0 and no route */
    /* origins whose routes (with positive flow) use each segment: CSR over segments; NULL when not computed
       (CS_LOAD_CORE): the criticality then re-evaluates every origin */
    uint64_t *use_off;             /**< n_segs + 1 offsets */
    uint32_t *use_origin;          /**< origin city indices, increasing per segment */
    /* intermediacy (flow-weighted betweenness of cities on the road network), n_cities entries each:
       through_flow[b] = Σ_{i,j} F_ij σ_ij(b)/σ_ij over ordered pairs (i≠j) of cities whose points differ from
       b's point, where σ_ij is the number of tied fastest routes i->j and σ_ij(b) those that pass through
       the network point where b joins the network (the node of a node location, the snapped point on a
       segment). through_pairs[b] counts the pairs with F_ij > 0 the same way (a pair counts σ_ij(b)/σ_ij).
       NaN for cities not joined to the network. docs/centrality.md. */
    double *through_flow;
    double *through_pairs;
    uint64_t core_nodes, core_arcs; /**< CS_LOAD_CORE: size of the contracted core (0 with CS_LOAD_TREES) */
} cs_load;

/**
 * Compute the load of flows (n x n, city order; diagonal ignored; NaN or <= 0
 * = no flow) between n cities located at loc[] on the network.
 */
CS_API cs_status cs_load_compute(const cs_network *net, const cs_location *loc, size_t n, const cs_matrix *flows,
                                 const cs_load_opts *opts, cs_load **out);
CS_API void cs_load_free(cs_load *l);

typedef struct cs_closure_impact {
    double delta_cost_s;      /**< rise of Σ F_ij t_ij over pairs still connected (flow × seconds) */
    double cut_flow;          /**< Σ F_ij over pairs connected before and not after */
    size_t cut_pairs;         /**< number of such pairs with F_ij > 0 */
    double cut_population;    /**< population of cities that lose their route to or from the reference city */
    size_t cut_cities;
    uint32_t worst_o, worst_d;/**< pair with the largest detour t'_od - t_od among still-connected pairs with
                                   F > 0 (CS_INVALID_ID if no pair is slowed) */
    double worst_detour_s;
} cs_closure_impact;

typedef struct cs_criticality_opts {
    double min_flow;          /**< evaluate segments whose load (both directions) exceeds this (default 0) */
    uint32_t reference_city;  /**< city that "cut off" is measured against (default CS_INVALID_ID = the most populous) */
    int threads;              /**< cs_criticality_compute: closures evaluated in parallel on private copies of the
                                   router (0 = OpenMP default); results are identical for any count */
    cs_progress progress;
} cs_criticality_opts;

CS_API void cs_criticality_opts_default(cs_criticality_opts *o);

/**
 * Impact of closing a set of segments together (a flood, a border), exactly:
 * the router is changed without a rebuild, only the origins whose routes use
 * a closed segment (from `load`) and the reference city are re-queried, and
 * the router is restored to the network's times before returning (also on
 * failure). base_time is the n x n matrix before (seconds) for the same
 * locations; pop the city populations.
 */
CS_API cs_status cs_closure_evaluate(cs_router *r, const cs_network *net, const cs_load *load, const cs_location *loc,
                                     size_t n, const cs_matrix *flows, const cs_matrix *base_time, const double *pop,
                                     const uint32_t *segs, size_t nsegs, const cs_criticality_opts *opts,
                                     cs_closure_impact *out);

typedef struct cs_criticality {
    size_t n;                 /**< evaluated segments, ranked by delta_cost_s + cut flow (see docs) */
    uint32_t *seg;
    cs_closure_impact *impact;
} cs_criticality;

/** Criticality of every loaded segment, ranked (cut flow first, then cost rise, then segment id). */
CS_API cs_status cs_criticality_compute(cs_router *r, const cs_network *net, const cs_load *load,
                                        const cs_location *loc, size_t n, const cs_matrix *flows,
                                        const cs_matrix *base_time, const double *pop,
                                        const cs_criticality_opts *opts, cs_criticality **out);
CS_API void cs_criticality_free(cs_criticality *c);

/**
 * Criticality of the listed segments (each closed alone; duplicates ignored), ranked as
 * cs_criticality_compute, with the same figures. Method (docs/flows.md): segments are taken in batches
 * of up to 128; per batch one change closes them all, one terminal x terminal matrix (cities + the batch's
 * end nodes) is computed and the router is restored; each closure is then answered exactly on the
 * overlay of those terminals (integer ms). Segments that carry a city location are evaluated by
 * re-query (cs_closure_evaluate). Use it for "the M most loaded segments" of large networks.
 */
CS_API cs_status cs_criticality_segments(cs_router *r, const cs_network *net, const cs_load *load,
                                         const cs_location *loc, size_t n, const cs_matrix *flows,
                                         const cs_matrix *base_time, const double *pop, const uint32_t *segs,
                                         size_t nsegs, const cs_criticality_opts *opts, cs_criticality **out);

/* ---- fastest route between two cities, as segments and geometry ---- */

/**
 * A route finder over n city locations on a network (both borrowed; they must outlive it). Routes are
 * fastest by (time, length) as in the router and the load; among tied routes the one kept enters every
 * node by the arc with the smallest segment id (the rule of cs_dijkstra_run), so the answer is
 * deterministic. Not thread-safe (one finder per thread); the last origin's tree is cached.
 */
typedef struct cs_route_finder cs_route_finder;

CS_API cs_status cs_route_finder_new(const cs_network *net, const cs_location *loc, size_t n, cs_route_finder **out);
CS_API void cs_route_finder_free(cs_route_finder *f);

/**
 * The fastest route from city a to city b: its pieces (segment, direction, fractions along the segment at
 * both ends, piece length), total time and length (connector legs included, as in the matrix) and its
 * polyline (the segments' geometry, partial segments cut at their fraction of the geodesic length).
 * CS_EINFEASIBLE when b cannot be reached from a (out is then empty). out is cleared first; free with
 * cs_route_clear (typology.h).
 */
CS_API cs_status cs_route_find(cs_route_finder *f, uint32_t a, uint32_t b, cs_route *out);

/** A cs_route_fn (typology.h) answering from a cs_route_finder passed as `user`. */
CS_API cs_status cs_route_finder_fn(void *user, uint32_t a, uint32_t b, cs_route *out);

#ifdef __cplusplus
}
#endif
#endif

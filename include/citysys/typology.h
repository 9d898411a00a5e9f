/*
 * typology.h: spatial typology of a city system from a travel-time matrix
 * and gravity flows — metropolitan clusters (after the OECD/EC
 * functional-urban-area method), corridors, regional hubs (Nystuen & Dacey
 * 1961 nodal regions), the primary city, secondary cities and isolated
 * towns. Every rule, parameter and default in docs/typology.md.
 *
 * Inputs are plain arrays (population, lon/lat, group/country index) and
 * cs_matrix travel times in seconds (+inf = unreachable). Results are owned
 * by the caller and freed with cs_typology_free.
 */
#ifndef CITYSYS_TYPOLOGY_H
#define CITYSYS_TYPOLOGY_H

#include "citysys/gravity.h" /* cs_decay */
#include "citysys/matrix.h"

#ifdef __cplusplus
extern "C" {
#endif


typedef struct cs_typology_params {
    /* metropolitan clusters */
    double core_min_population;   /**< 50,000 (OECD/EC: urban centres of >= 50,000 inhabitants) */
    double commute_share;         /**< 0.15 (OECD/EC: 15 % of employed residents commute to the core) */
    double max_commute_s;         /**< 90 minutes = 5400 s */
    cs_decay commute_decay;       /**< exponential by default */
    double commute_decay_param;   /**< exponential: rate per minute (default 0.1/min); power: exponent (default 2) */
    double internal_time_s;       /**< time of a trip inside a town (default 10 min = 600 s) */
    /* corridors */
    double corridor_min_population; /**< end cities of corridors: default 500,000 */
    double corridor_max_detour_s;   /**< 30 minutes = 1800 s */
    double corridor_max_detour_frac;/**< 0.10 of t(A,B) */
    int corridor_min_towns;         /**< 3 (towns strictly between A and B) */
    double corridor_merge_overlap;  /**< 0.5 of the shorter route's length shared -> merge */
    /* adjacency graph of cities */
    double adjacency_tolerance;     /**< i,j adjacent unless some k has t_ik + t_kj <= (1+tol) t_ij; default 0.02 */
    /* secondary cities and isolated towns */
    double secondary_min_share;     /**< 0.10 of the largest city of the same country */
    double secondary_max_share;     /**< 0.50 */
    double isolated_time_s;         /**< no other town within this time: 60 minutes = 3600 s */
    /* regional hubs */
    double gravity_decay_param;     /**< flows for hubs: F_ij = P_i P_j exp(-rate * t_ij[min]), rate default 0.02/min */
} cs_typology_params;

CS_API void cs_typology_params_default(cs_typology_params *p);

/**
 * A route between two cities on the road network (all arrays owned; cs_route_clear frees them).
 * Pieces are whole or partial segments in travel order.
 */
typedef struct cs_route {
    size_t n;            /**< pieces */
    uint32_t *seg;       /**< segment id of each piece */
    uint8_t *dir;        /**< 0 = travelled u->v, 1 = v->u */
    double *from_frac, *to_frac; /**< fraction along the segment (0 = u, 1 = v) where the piece starts and ends */
    double *len_m;       /**< length of each piece, metres */
    double time_s;       /**< total time, connector legs included (seconds) */
    double length_m;     /**< total length, connector legs included (metres) */
    size_t npts;         /**< polyline points (0 when the route has no geometry) */
    double *lon, *lat;   /**< polyline, degrees */
} cs_route;

CS_API void cs_route_clear(cs_route *r);

/** One corridor. */
typedef struct cs_corridor {
    uint32_t a, b;            /**< end cities */
    uint32_t n_towns;         /**< towns strictly between a and b, ordered by time from a */
    uint32_t *towns;          /**< owned */
    double time_s;            /**< t(a,b) */
    double population;        /**< population of a, b and the towns */
    double mean_spacing_s;    /**< mean time between consecutive towns along the corridor (a..towns..b) */
    uint32_t merged_into;     /**< CS_INVALID_ID, or the index of the corridor this one was merged into */
    cs_route route;           /**< owned: fastest route a->b when routes were given (route.n == 0 otherwise);
                                   a merged group keeps its representative's (longest) route */
    double route_length_m;    /**< route.length_m, NaN without routes */
    double route_time_s;      /**< route.time_s, NaN without routes */
} cs_corridor;

typedef struct cs_typology {
    size_t n;
    /* per city */
    uint32_t *cluster;        /**< cluster id, CS_INVALID_ID = none */
    uint8_t *is_core;         /**< 1 if a core of its cluster */
    double *commute_share;    /**< share of the city's commuters going to its cluster's cores (NaN if none) */
    uint32_t *hub;            /**< the terminal hub whose nodal region contains the city (itself for a hub) */
    uint32_t *dominant;       /**< target of the dominant flow, CS_INVALID_ID if none (isolated) */
    uint32_t *parent;         /**< nodal-region parent (CS_INVALID_ID for hubs) */
    uint32_t *hub_level;      /**< 1 for terminal hubs, 2 for their direct subordinates, ... */
    double *hinterland_population; /**< population of the city's subtree (itself included) */
    double *inflow;           /**< total gravity inflow used for the hub rule */
    uint8_t *is_primary;      /**< largest city of its country (group) */
    uint8_t *is_secondary;    /**< population in [min_share, max_share] of its country's largest */
    uint8_t *is_isolated;     /**< no other city within isolated_time_s (either direction) */
    uint8_t *is_hub;          /**< terminal point of a nodal region */
    /* clusters */
    uint32_t n_clusters;
    double *cluster_population;   /**< per cluster */
    uint32_t *cluster_n_cores;    /**< per cluster */
    /* corridors */
    uint32_t n_corridors;
    cs_corridor *corridors;       /**< owned; merged ones keep merged_into != CS_INVALID_ID */
    /* adjacency graph (undirected, i<j pairs) */
    size_t n_adjacent;
    uint32_t *adj_i, *adj_j;
} cs_typology;


/**
 * Optional routes for corridors (e.g. cs_route_finder_fn of flows.h): the fastest route from city a to
 * city b into *out (cleared by the caller; the typology frees it with cs_route_clear). CS_EINFEASIBLE when
 * there is none. With routes, corridors merge when they share at least corridor_merge_overlap of the
 * shorter route's length (shared segments, piece lengths), and each corridor keeps its route's geometry,
 * length and time. May be NULL: then corridors are merged when one's ordered town set (with ends)
 * contains at least that share of the other's (documented fallback), and have no route.
 */
typedef cs_status (*cs_route_fn)(void *user, uint32_t a, uint32_t b, cs_route *out);

/** Inputs of the typology: per-city arrays (borrowed). */
typedef struct cs_typology_input {
    size_t n;
    const double *pop;          /**< population (>= 0) */
    const uint32_t *group;      /**< country (or other group) index per city, or NULL (one group) */
    const char *const *ids;     /**< city ids for deterministic tie-breaking (NULL: input order) */
    const cs_matrix *time;      /**< n x n travel times, seconds, +inf unreachable, city order */
    const cs_matrix *commute;   /**< optional observed commuting flows (row = residence, column = workplace) */
    const cs_matrix *flows;     /**< optional interaction flows for the hub rule (default: unconstrained gravity) */
} cs_typology_input;

/**
 * Classify a city system. Ties everywhere are broken by city id (or input
 * order when ids is NULL), so relabelling-invariant results need ids.
 */
CS_API cs_status cs_typology_compute(const cs_typology_input *in, const cs_typology_params *params,
                                     cs_route_fn routes, void *route_user, cs_typology **out);
CS_API void cs_typology_free(cs_typology *t);

/**
 * Commuting shares: s[i*n+k] = share of town i's commuters going to k, from
 * observed flows or from the production-constrained gravity model (docs/typology.md).
 * `s` is a caller array of n*n doubles.
 */
CS_API cs_status cs_commute_shares(const cs_typology_input *in, const cs_typology_params *p, double *s);

#ifdef __cplusplus
}
#endif
#endif

#include "citysys/city.h"
#include "citysys/table.h"

#ifdef __cplusplus
extern "C" {
#endif
/**
 * Result layers of a typology for output (owned tables; free with cs_table_free):
 * cities (points: id, name, population, cluster, cluster_core, commute_share, corridors, hub,
 * hub_parent, hub_level, is_hub, hinterland_population, is_primary, is_secondary, is_isolated),
 * clusters (hull polygons buffered by 2 km for one- and two-member clusters: cluster, cores,
 * members, population) and corridors (the route's polyline when the corridor has a route, otherwise
 * a line through the ends and towns in order: corridor, end_a, end_b, towns, n_towns, time_min,
 * route_length_km, route_time_min (NaN without a route), geometry ("route" or "towns"), population,
 * mean_spacing_min; merged corridors omitted).
 * clusters/corridors are set to NULL when there are none.
 */
CS_API cs_status cs_typology_tables(const cs_typology *t, const cs_cities *c, cs_table **cities, cs_table **clusters,
                                    cs_table **corridors);
#ifdef __cplusplus
}
#endif

/*
 * agglomerate.h: merge raw place points (e.g. GeoNames populated places)
 * into agglomerations (docs/methods.md, "Agglomeration of raw place points").
 *
 * Rule: single linkage — two points belong to the same agglomeration when a
 * chain of points connects them in which every consecutive pair is within
 *   CS_AGGLO_DISTANCE: max_km great-circle kilometres (haversine, sphere of
 *                      radius 6371.0088 km), or
 *   CS_AGGLO_TIME:     max_time in the units of the given matrix, using the
 *                      faster direction min(t_ij, t_ji).
 * An agglomeration sums the population of its members, keeps the member list
 * and is named after its largest member (ties: the earlier input row). Its
 * position is the largest member's point (default) or the population-weighted
 * centroid of the members' unit vectors (3-D mean, projected back to the
 * sphere; unweighted when the members' total population is 0).
 * Output order: agglomerations by their first member in input order, members
 * in input order — deterministic.
 */
#ifndef CITYSYS_AGGLOMERATE_H
#define CITYSYS_AGGLOMERATE_H

#include "citysys/matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_agglo_rule { CS_AGGLO_DISTANCE = 0, CS_AGGLO_TIME = 1 } cs_agglo_rule;
typedef enum cs_agglo_position { CS_AGGLO_POS_LARGEST = 0, CS_AGGLO_POS_CENTROID = 1 } cs_agglo_position;

typedef struct cs_agglo_opts {
    cs_agglo_rule rule;
    double max_km;        /**< distance rule: link threshold in km (default 3) */
    double max_time;      /**< time rule: threshold in matrix units (default 600, i.e. 10 min for a seconds matrix) */
    const cs_matrix *time;/**< time rule: n×n matrix in point order (borrowed) */
    cs_agglo_position position;
} cs_agglo_opts;

CS_API void cs_agglo_opts_default(cs_agglo_opts *o);

typedef struct cs_agglomerates {
    size_t npoints;
    size_t n;                /**< agglomerations */
    uint32_t *of_point;      /**< npoints: agglomeration of each point (owned) */
    uint32_t *first;         /**< n+1 offsets into members (owned) */
    uint32_t *members;       /**< npoints point indices grouped by agglomeration (owned) */
    uint32_t *largest;       /**< n: index of the largest member (owned) */
    double *population;      /**< n: summed population (owned) */
    double *lon, *lat;       /**< n: position in degrees (owned) */
} cs_agglomerates;

CS_API void cs_agglomerates_free(cs_agglomerates *a);

/** Great-circle distance in km between two WGS84 points (haversine, R = 6371.0088 km). */
CS_API double cs_haversine_km(double lon1, double lat1, double lon2, double lat2);

/**
 * Agglomerate n points. lon/lat in degrees (needed for the distance rule and
 * the position; may be NULL for the time rule, then lon/lat are NaN),
 * pop: n populations ≥ 0 (NaN → CS_EINVAL). Returns a new result (owned).
 */
CS_API cs_status cs_agglomerate(const double *lon, const double *lat, const double *pop, size_t n,
                                const cs_agglo_opts *opts, cs_agglomerates **out);

#ifdef __cplusplus
}
#endif
#endif

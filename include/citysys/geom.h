/*
 * geom.h: small geometric helpers on WGS84 lon/lat points — great-circle
 * distance and convex hulls (cluster hulls, catchment polygons).
 */
#ifndef CITYSYS_GEOM_H
#define CITYSYS_GEOM_H

#include "citysys/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Mean Earth radius (IUGG R1), metres. */
#define CS_EARTH_RADIUS_M 6371008.8

/** Great-circle (haversine) distance in metres on a sphere of radius CS_EARTH_RADIUS_M. */
CS_API double cs_haversine_m(double lon1, double lat1, double lon2, double lat2);

/**
 * Convex hull of the points idx[0..n-1] (indices into lon/lat; NULL idx =
 * 0..n-1), by Andrew's monotone chain in lon/lat (valid for extents that do
 * not cross the antimeridian). hull receives the indices of the hull
 * vertices counter-clockwise, without repeating the first (caller array of
 * at least n entries); *m their number (1 or 2 for degenerate inputs:
 * one point, or collinear points give the two extremes).
 */
CS_API cs_status cs_convex_hull(const double *lon, const double *lat, const uint32_t *idx, size_t n, uint32_t *hull,
                                size_t *m);

/**
 * A polygon ring for a hull, buffered so that 1- and 2-point hulls still
 * give an area: points further than `buffer_m` are kept; a single point
 * becomes a 12-gon of radius buffer_m, a segment a thin rectangle of half
 * width buffer_m. Writes at most cap vertices into ring_lon/ring_lat (open
 * ring) and their number into *nv.
 */
CS_API cs_status cs_hull_ring(const double *lon, const double *lat, const uint32_t *hull, size_t m, double buffer_m,
                              double *ring_lon, double *ring_lat, size_t cap, size_t *nv);

#ifdef __cplusplus
}
#endif
#endif

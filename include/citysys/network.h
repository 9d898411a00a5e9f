/*
 * network.h: the road (and multimodal) network as imported from a source —
 * nodes, *segments* (a compressed chain of OSM ways or one GIS line/table
 * edge, with its geometry) and their travel attributes — plus snapping of
 * points (cities, stations, ports) onto segment geometry.
 *
 * Ownership: src/graph/network.c (builder, degree-2 compression, geometry),
 * src/graph/osm.c, lines.c, tables.c (importers), src/graph/snap.c (spatial
 * index and snapping). The routing layer (routing.h) builds its CSR graph and
 * hierarchy from a cs_network.
 *
 * Units are in the names: _ms milliseconds (uint32, exact sums), _cm
 * centimetres (uint32), _deg WGS84 degrees. A direction that cannot be
 * travelled has time CS_NO_TIME.
 */
#ifndef CITYSYS_NETWORK_H
#define CITYSYS_NETWORK_H

#include "citysys/city.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CS_NO_TIME UINT32_MAX
/** osm_node_id of a node that has no OSM id (added by a non-OSM source). */
#define CS_NO_OSM_ID INT64_MIN
/** Mean Earth radius (IUGG R1 = (2a+b)/3 of WGS84), metres: the sphere of cs_geodesic_m. */
#define CS_EARTH_RADIUS_M 6371008.8

/** Segment kinds. */
typedef enum cs_seg_mode {
    CS_SEG_ROAD = 0, CS_SEG_FERRY = 1, CS_SEG_RAIL = 2, CS_SEG_AIR = 3, CS_SEG_CONNECTOR = 4, CS_SEG_OTHER = 5
} cs_seg_mode;

typedef struct cs_network {
    /* nodes (routing junctions after compression) */
    uint32_t n_nodes;
    double *lon_deg, *lat_deg;
    int64_t *osm_node_id;        /**< NULL when the source has no OSM ids */
    /* segments */
    uint32_t n_segs;
    uint32_t *seg_u, *seg_v;     /**< end nodes; geometry runs from u to v */
    uint32_t *seg_fwd_ms;        /**< time u->v, CS_NO_TIME if not allowed */
    uint32_t *seg_bwd_ms;        /**< time v->u, CS_NO_TIME if not allowed */
    uint32_t *seg_len_cm;        /**< length along the geometry */
    uint8_t *seg_mode;           /**< cs_seg_mode */
    uint8_t *seg_class;          /**< profile class index (see class_names) */
    int64_t *seg_way_id;         /**< OSM way id of the first way in the chain, or source feature id / edge id */
    char **seg_ext_id;           /**< optional external id (edge table id), NULL array if none */
    uint32_t *seg_extra_ms;      /**< extra penalty included in fwd/bwd (e.g. border time), NULL if none */
    uint64_t *geom_off;          /**< n_segs+1 offsets into geom arrays (points incl. both ends) */
    double *geom_lon_deg, *geom_lat_deg;
    /* class names of the profile ("motorway", ...) */
    uint32_t n_classes;
    char **class_names;
    char fingerprint[65];        /**< SHA-256 of source + profile + options */
    /* --- additions (netimport) --- */
    /**
     * Edges known to the source but not part of the base network (the
     * Trans-African table's proposed links, `add` = TRUE). Same units as the
     * segments; times CS_NO_TIME and length UINT32_MAX where the source has
     * none. Geometry is the straight line between the end nodes. The scenario
     * module adds them; routing ignores them.
     */
    struct {
        uint32_t n;
        uint32_t *u, *v;
        uint32_t *fwd_ms, *bwd_ms, *len_cm, *extra_ms;
        char **ext_id;       /**< owned strings */
    } proposed;
    /* builder internals (capacities of the arrays above); do not touch */
    uint32_t cap_nodes, cap_segs;
    uint64_t cap_geom;
    uint32_t cap_proposed;
} cs_network;

/**
 * Great-circle distance in metres between two WGS84 points, haversine
 * formula on the sphere of radius CS_EARTH_RADIUS_M (docs/network.md). Every
 * length in the network module uses it.
 */
CS_API double cs_geodesic_m(double lon1, double lat1, double lon2, double lat2);

/** Empty network (builder). */
CS_API cs_status cs_network_new(cs_network **out);
CS_API void cs_network_free(cs_network *n);
/** Append a node; returns its id in *id. */
CS_API cs_status cs_network_add_node(cs_network *n, double lon, double lat, int64_t osm_id, uint32_t *id);
/** Append a segment with its geometry (npts >= 2 points, first = node u, last = node v). */
CS_API cs_status cs_network_add_segment(cs_network *n, uint32_t u, uint32_t v, uint32_t fwd_ms, uint32_t bwd_ms,
                                        uint32_t len_cm, cs_seg_mode mode, uint8_t cls, int64_t way_id,
                                        const double *lon, const double *lat, size_t npts);
/** Set the class names (copied); segment classes index into them. Replaces any previous names. */
CS_API cs_status cs_network_set_classes(cs_network *n, const char *const *names, uint32_t n_classes);
/** Set the external id of segment `seg` (copied; allocates seg_ext_id on first use). */
CS_API cs_status cs_network_set_ext_id(cs_network *n, uint32_t seg, const char *ext_id);
/**
 * Record that `extra_ms` of segment `seg`'s times is a penalty (e.g. border
 * time; already included in fwd/bwd). Allocates seg_extra_ms on first use.
 */
CS_API cs_status cs_network_set_extra(cs_network *n, uint32_t seg, uint32_t extra_ms);
/** Append a proposed (non-base) edge; ext_id copied, may be NULL. */
CS_API cs_status cs_network_add_proposed(cs_network *n, uint32_t u, uint32_t v, uint32_t fwd_ms, uint32_t bwd_ms,
                                         uint32_t len_cm, uint32_t extra_ms, const char *ext_id);
/** Sum of segment lengths (metres) and segment counts per class (arrays of n->n_classes, caller-allocated). */
CS_API void cs_network_class_totals(const cs_network *n, double *len_m, uint64_t *count);

/**
 * Merge chains of degree-2 nodes (same mode/class/direction pattern) into single
 * segments, keeping the full geometry and summing time and length exactly.
 *
 * A node is merged away when exactly two segment ends meet there, from two
 * different non-loop segments with the same mode, class and direction pattern
 * (both open both ways, or both one-way in the same running direction) and
 * no external id (table edges keep their ids). Node ids are renumbered
 * (junctions keep their order and OSM ids); a chain that is a closed loop of
 * mergeable nodes keeps its first node. Times, lengths and extra penalties
 * are summed as integers (exact). On failure n is unchanged.
 */
CS_API cs_status cs_network_compress(cs_network *n);

/** A point joined to the network. */
typedef struct cs_snap {
    uint32_t seg;        /**< segment, CS_INVALID_ID if not joined */
    double frac;         /**< position along the segment's geometry by length, 0..1 */
    double dist_m;       /**< distance from the point to the snapped position (geodesic) */
    double snap_lon, snap_lat;
    uint32_t access_ms;  /**< connector time at the access speed */
    uint32_t component;  /**< strongly connected component id of the segment (0 = largest) */
    int flagged;         /**< 1 if not joined (too far / no component) — the city is kept, flagged */
} cs_snap;

typedef struct cs_snap_opts {
    double max_dist_m;        /**< default 5000 */
    double access_speed_kmh;  /**< default 5 (walking) */
    int prefer_largest;       /**< default 1: prefer the largest strongly connected component */
    double prefer_largest_slack_m; /**< accept a segment of the largest component up to this far beyond the nearest (default 1000) */
} cs_snap_opts;

/** Defaults for cs_snap_opts. */
CS_API void cs_snap_opts_default(cs_snap_opts *o);

/**
 * Join n points (lon/lat degrees, borrowed) to the network: each point goes to
 * the nearest position on any segment's geometry (haversine distance to the
 * nearest point of each geometry piece, found through a uniform grid index
 * over the pieces). With prefer_largest, a segment of the largest strongly
 * connected component (component 0) is taken instead when it lies within
 * prefer_largest_slack_m of the nearest one. Components are the SCCs of the
 * directed segment graph; a segment gets the component of its end nodes when
 * both ends share one, else CS_INVALID_ID (a one-way link between components).
 * A point farther than max_dist_m from every segment, or with a non-finite
 * coordinate, is flagged (flagged = 1, seg = CS_INVALID_ID, dist_m = NaN)
 * and kept in place. access_ms = dist_m at access_speed_kmh, rounded to ms.
 * out: caller-allocated array of n.
 */
CS_API cs_status cs_snap_points(const cs_network *net, const double *lon, const double *lat, size_t n,
                                const cs_snap_opts *opts, cs_snap *out);

/**
 * Join snapped points to the network as nodes (cities, stations, airports,
 * ports): every non-flagged snap splits its segment at the snapped position
 * (a new node there, or the end node when frac is 0 or 1; several points on
 * one segment are cut in order of frac, positions within 1 mm share the node), and
 * a connector segment (mode CS_SEG_CONNECTOR, class "connector", appended to
 * class_names if absent) of snap->access_ms both ways and the snap distance
 * links a new node at the point's own position to it. Split pieces keep
 * mode, class, way id, ext id; times, lengths and extra penalties are split
 * by frac with exact integer sums (piece k gets round(T*f_k) - round(T*f_{k-1})).
 * Geometry is cut at the snapped position. Segment i keeps index i for its
 * first piece; other pieces and connectors are appended.
 * node_out[i] = the point's node, CS_INVALID_ID for flagged points (kept by
 * the caller, not joined). Snaps must come from cs_snap_points on this same
 * network. On failure n is unchanged.
 */
CS_API cs_status cs_network_attach(cs_network *n, const double *lon, const double *lat, size_t npts,
                                   const cs_snap *snaps, uint32_t *node_out);

#ifdef __cplusplus
}
#endif
#endif

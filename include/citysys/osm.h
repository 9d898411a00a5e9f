/*
 * osm.h: network importers — OpenStreetMap (.osm.pbf / .osm through
 * readosm) with a car profile written as data (JSON), GIS line layers
 * (GDAL) and node/edge tables (CSV) — and the network exporter.
 *
 * Every rule of the profiles, with its source, is in docs/network.md.
 * Ownership: src/graph/profile.c, osm.c, lines.c, tables.c.
 */
#ifndef CITYSYS_OSM_H
#define CITYSYS_OSM_H

#include <math.h>
#include "citysys/network.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ profile */

/** A car profile (opaque, immutable once loaded; share it between threads). */
typedef struct cs_profile cs_profile;

/**
 * Parse a profile from JSON text (`name` labels errors: "name:LINE:COL").
 * Unknown keys and wrong types are errors (CS_EPARSE with line/column for
 * syntax errors, the key path for semantic ones). *out owned by the caller.
 */
CS_API cs_status cs_profile_parse(const char *json, size_t len, const char *name, cs_profile **out);
/** Read and parse a profile file. */
CS_API cs_status cs_profile_load(const char *path, cs_profile **out);
/**
 * Resolve a profile argument: an existing file path is returned as is;
 * otherwise NAME is looked up as NAME.json in, in order, $CITYSYS_PROFILES,
 * <dir of the running executable>/../share/citysys/profiles (installed) and
 * the source tree's share/profiles (CS_SRC_DIR env, then <exe dir>/../share/profiles).
 * *path owned by the caller. CS_ENOTFOUND lists the places tried.
 */
CS_API cs_status cs_profile_find(const char *name_or_path, char **path);
CS_API void cs_profile_free(cs_profile *p);
/** Profile name (borrowed). */
CS_API const char *cs_profile_name(const cs_profile *p);
/** Number of classes (highway classes in file order, then "ferry"). */
CS_API uint32_t cs_profile_n_classes(const cs_profile *p);
/** Class name (borrowed), NULL if out of range. */
CS_API const char *cs_profile_class_name(const cs_profile *p, uint32_t i);
/** Canonical JSON text of the profile (sorted keys) for fingerprints (borrowed). */
CS_API const char *cs_profile_canonical(const cs_profile *p);

/** What the profile makes of one OSM way. */
typedef struct cs_way_attr {
    int routable;        /**< 1 if cars may use it in at least one direction */
    uint8_t cls;         /**< class index (valid when routable) */
    cs_seg_mode mode;    /**< CS_SEG_ROAD or CS_SEG_FERRY */
    double fwd_kmh;      /**< speed along the way's node order, 0 if not allowed */
    double bwd_kmh;      /**< speed against it, 0 if not allowed */
    double duration_s;   /**< ferry `duration` (whole way), NaN if none: overrides speed */
} cs_way_attr;

/** Apply the profile to a way's tags (borrowed arrays of ntags keys and values). */
CS_API cs_status cs_profile_way(const cs_profile *p, const char *const *keys, const char *const *vals, size_t ntags,
                                cs_way_attr *out);
/**
 * Parse an OSM `maxspeed` value to km/h: numbers with optional unit (km/h,
 * kmh, kph default; mph ×1.609344; knots ×1.852), implicit values through
 * the profile's table (exact, e.g. "de:urban", then the part after ':'),
 * "|"-separated lane values and ";"-separated values → the maximum.
 * Returns 0 when not understood (then the highway speed applies).
 * p may be NULL (no implicit table).
 */
CS_API double cs_profile_maxspeed(const cs_profile *p, const char *value);
/** Parse an OSM `duration` (hh:mm, hh:mm:ss, plain minutes, ISO 8601 PnDTnHnMnS) to seconds; NaN if invalid. */
CS_API double cs_parse_duration_s(const char *value);

/* ---------------------------------------------------------------------- OSM */

typedef struct cs_osm_opts {
    int compress;          /**< merge degree-2 chains (default 1) */
    cs_progress progress;  /**< may be {0} */
    int reader;            /**< 0 (default): own parallel PBF reader for .pbf, readosm for .osm; 1: readosm always */
} cs_osm_opts;
CS_API void cs_osm_opts_default(cs_osm_opts *o);

/** Counts of one import. Arrays owned by the struct: free with cs_osm_stats_free. */
typedef struct cs_osm_stats {
    uint64_t nodes, ways, relations; /**< OSM objects read */
    uint64_t routable_ways;          /**< ways the profile routes */
    uint64_t missing_refs;           /**< node references of routable ways absent from the file (ways split there) */
    uint32_t n_classes;
    uint64_t *ways_per_class;        /**< routable ways per class */
    double parse_s, build_s;         /**< wall time of the read and of the graph build + compression */
} cs_osm_stats;
CS_API void cs_osm_stats_free(cs_osm_stats *s);

/**
 * Import an .osm.pbf or .osm file (by suffix) with a profile. One pass over
 * the file: every node's coordinates are kept, routable ways are stored, then
 * ways are cut at nodes shared with another way (or repeated) and at their
 * ends into segments, one per piece, times computed per OSM edge in ms and
 * summed; then optionally compressed. Network nodes keep OSM ids. stats may be NULL.
 */
CS_API cs_status cs_network_from_osm(const char *path, const cs_profile *p, const cs_osm_opts *opts,
                                     cs_network **out, cs_osm_stats *stats);

/* ------------------------------------------------------------ edge tables */

/** Column names of node/edge tables (defaults match the Trans-African network). */
typedef struct cs_table_opts {
    const char *node_id;     /**< node id column; NULL (default) = 1-based row number */
    const char *node_lon;    /**< default "lon" */
    const char *node_lat;    /**< default "lat" */
    const char *edge_id;     /**< edge id column; NULL (default) = 1-based row number as text */
    const char *edge_from;   /**< default "from" */
    const char *edge_to;     /**< default "to" */
    const char *edge_time;   /**< road time column, default "duration" */
    double time_unit_s;      /**< seconds per unit of edge_time, default 60 (minutes) */
    const char *edge_extra;  /**< penalty column added to the time (border time), default "border_time"; NULL none */
    const char *edge_length; /**< metres, default "distance"; NULL: great-circle between the nodes */
    const char *edge_proposed; /**< TRUE marks a proposed (non-base) edge, default "add"; NULL none */
    const char *edge_oneway;   /**< direction column (see lines), NULL (default): undirected */
    int include_extra;       /**< add the extra column's time into the segment times (default 1) */
} cs_table_opts;
CS_API void cs_table_opts_default(cs_table_opts *o);

/**
 * Read node and edge tables (CSV, optionally .gz; anything GDAL's CSV driver
 * reads). Base edges become one segment each with a straight geometry
 * between the end nodes, ext id = edge id, extra = penalty; proposed edges go
 * to net->proposed. No compression (ids kept).
 */
CS_API cs_status cs_network_from_tables(const char *nodes_path, const char *edges_path, const cs_table_opts *opts,
                                        cs_network **out);

/* -------------------------------------------------------------- GIS lines */

typedef struct cs_lines_opts {
    const char *layer;         /**< layer name, NULL = first */
    double snap_tol_m;         /**< end points closer than this share a node (default 1 m) */
    const char *time_field;    /**< time per feature, NULL none */
    double time_unit_s;        /**< seconds per unit of time_field (default 60) */
    const char *speed_field;   /**< km/h, used when no time */
    const char *class_field;   /**< class name, speed from the profile's highway speeds */
    const cs_profile *profile; /**< for class_field; may be NULL */
    double default_kmh;        /**< used when nothing else gives a speed (default 0: feature is an error) */
    const char *dir_field;     /**< direction: see docs/network.md; NULL both ways */
    const char *const *penalty_fields; /**< NULL-terminated list of fields added to the time (units time_unit_s) */
    const char *id_field;      /**< external id, NULL = feature id */
    const char *where;         /**< OGR SQL attribute filter (e.g. "add = 0"), NULL = all features */
    cs_progress progress;
} cs_lines_opts;
CS_API void cs_lines_opts_default(cs_lines_opts *o);

/** Read a line layer (GeoJSON, GeoPackage, Shapefile; GDAL) into a network (uncompressed; ext ids kept). */
CS_API cs_status cs_network_from_lines(const char *path, const cs_lines_opts *opts, cs_network **out);

/* ----------------------------------------------------------------- export */

/**
 * Export nodes and segments. ".gpkg": layers "nodes" (points) and "segments"
 * (lines) through GDAL; ".csv": path gets the segments (WKT geometry column)
 * and path with ".csv" replaced by ".nodes.csv" the nodes. Written atomically.
 */
CS_API cs_status cs_network_export(const cs_network *n, const char *path);

#ifdef __cplusplus
}
#endif
#endif

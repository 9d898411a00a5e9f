/*
 * table.h: generic attribute tables (typed columns + optional geometry) and
 * their writers — GeoPackage layers, GeoJSON, CSV. Every module that writes
 * a result layer (accessibility per city, flows per link, plans...) builds a
 * cs_table and writes it with cs_table_write or, for several layers in one
 * GeoPackage, with a cs_gpkg_writer.
 *
 *   cs_table *t;
 *   cs_table_new(n, &t);
 *   cs_table_add_string(t, "id", ids);
 *   cs_table_add_real(t, "access", values);      // NaN -> NULL
 *   cs_table_set_points(t, lon, lat);            // WGS84 degrees
 *   cs_table_write(t, "out.gpkg", CS_FORMAT_AUTO, "access", 0);
 *   cs_table_free(t);
 *
 * Geometry is always WGS84 lon/lat (EPSG:4326, x = lon, y = lat). All
 * writers are atomic (temporary file in the same directory, renamed into
 * place; the target is untouched on failure) except CS_TABLE_APPEND, which
 * updates an existing GeoPackage in place and is meant for files inside a
 * directory being built atomically (cs_atomic_dir) — or use cs_gpkg_writer.
 */
#ifndef CITYSYS_TABLE_H
#define CITYSYS_TABLE_H

#include "citysys/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Output vector formats. */
typedef enum cs_vector_format {
    CS_FORMAT_AUTO = 0, /**< from the file extension (.gpkg, .geojson/.json, .csv) */
    CS_FORMAT_GPKG,
    CS_FORMAT_GEOJSON,
    CS_FORMAT_CSV
} cs_vector_format;

/** Format from a path's extension (CS_FORMAT_AUTO when unknown). */
CS_API cs_vector_format cs_vector_format_from_path(const char *path);

typedef enum cs_column_type {
    CS_COLUMN_REAL = 0,    /**< float64; NaN written as NULL (CSV: empty); +-inf as NULL in GPKG/GeoJSON, "inf" in CSV */
    CS_COLUMN_INTEGER = 1, /**< int64 */
    CS_COLUMN_STRING = 2   /**< UTF-8 text; NULL pointer written as NULL */
} cs_column_type;

typedef enum cs_geometry_type {
    CS_GEOM_NONE = 0,
    CS_GEOM_POINT,      /**< one lon/lat per row */
    CS_GEOM_LINESTRING, /**< a vertex list per row */
    CS_GEOM_POLYGON,    /**< one outer ring per row (closed automatically) */
    CS_GEOM_WKT         /**< any geometry per row as WKT text (type of the layer: "Unknown") */
} cs_geometry_type;

typedef struct cs_table cs_table;

/** New table with nrows rows, no columns, no geometry. *out owned; free with cs_table_free. */
CS_API cs_status cs_table_new(size_t nrows, cs_table **out);
CS_API void cs_table_free(cs_table *t);
CS_API size_t cs_table_rows(const cs_table *t);
CS_API size_t cs_table_cols(const cs_table *t);
/** Borrowed name and the type of column i. */
CS_API const char *cs_table_col_name(const cs_table *t, size_t i);
CS_API cs_column_type cs_table_col_type(const cs_table *t, size_t i);

/* Add a column (values copied, nrows of them). Names must be unique (case-insensitive): CS_EINVAL otherwise. */
/** Real column; NaN values are NULL. */
CS_API cs_status cs_table_add_real(cs_table *t, const char *name, const double *values);
/** Integer column; is_null may be NULL (no NULLs) or give 1 for NULL rows. */
CS_API cs_status cs_table_add_integer(cs_table *t, const char *name, const int64_t *values, const uint8_t *is_null);
/** String column; NULL entries are NULL. */
CS_API cs_status cs_table_add_string(cs_table *t, const char *name, const char *const *values);
/**
 * Text column typed from its content: INTEGER when every non-empty value is
 * an integer (no leading zeros, fits int64), else REAL when every non-empty
 * value is a finite number (no leading zeros), else STRING. Empty -> NULL.
 * Leading zeros keep codes such as "007" as text.
 */
CS_API cs_status cs_table_add_text(cs_table *t, const char *name, const char *const *values);

/** Point geometry: lon/lat per row (copied); a row with NaN has no geometry. */
CS_API cs_status cs_table_set_points(cs_table *t, const double *lon, const double *lat);
/**
 * Line strings or polygons: row i has the vertices offsets[i] .. offsets[i+1]-1
 * of lon/lat (offsets has nrows+1 entries; copied). Rows with fewer than 2
 * (lines) or 3 (polygons) vertices have no geometry.
 */
CS_API cs_status cs_table_set_lines(cs_table *t, const size_t *offsets, const double *lon, const double *lat);
CS_API cs_status cs_table_set_polygons(cs_table *t, const size_t *offsets, const double *lon, const double *lat);
/** Geometry as WKT per row (copied; NULL or "" = none). */
CS_API cs_status cs_table_set_wkt(cs_table *t, const char *const *wkt);

/** Flags of cs_table_write. */
#define CS_TABLE_APPEND 1u /**< GPKG only: add the layer to an existing file (created if absent), in place */

/**
 * Write the table as one layer (name `layer`; NULL = file base name) in
 * `fmt` (CS_FORMAT_AUTO: from the extension). GPKG: layer with EPSG:4326,
 * column types as declared. GeoJSON: one FeatureCollection. CSV: a header,
 * numbers in shortest round-trip form; point geometry as `lon`,`lat` columns
 * (unless the table has columns of those names), other geometry as a `wkt`
 * column. Atomic unless CS_TABLE_APPEND. An existing layer of that name in an
 * appended GeoPackage is an error (CS_EINVAL).
 */
CS_API cs_status cs_table_write(const cs_table *t, const char *path, cs_vector_format fmt, const char *layer,
                                unsigned flags);

/**
 * A GeoPackage with several layers written atomically: begin creates a
 * temporary GeoPackage beside `path`; each add writes one layer; commit
 * renames it into place (and frees w); abort removes it (and frees w).
 */
typedef struct cs_gpkg_writer cs_gpkg_writer;
CS_API cs_status cs_gpkg_begin(const char *path, cs_gpkg_writer **out);
CS_API cs_status cs_gpkg_add(cs_gpkg_writer *w, const cs_table *t, const char *layer);
/**
 * Copy every layer of the GeoPackage (or other OGR vector source) `src` into
 * the writer, features, fields and geometry as they are; each layer is named
 * prefix + its name unless the name already starts with prefix (prefix may be
 * NULL). An existing layer of the same name is an error (CS_EINVAL). The
 * number of layers copied goes to *ncopied (may be NULL).
 */
CS_API cs_status cs_gpkg_copy_layers(cs_gpkg_writer *w, const char *src, const char *prefix, size_t *ncopied);
CS_API cs_status cs_gpkg_commit(cs_gpkg_writer *w);
CS_API void cs_gpkg_abort(cs_gpkg_writer *w);

#ifdef __cplusplus
}
#endif
#endif

/*
 * cityio.h: reading and writing city tables and link tables in real formats.
 *
 * Readers: CSV (own tokenizer: errors carry the *physical* line, correct even
 * after quoted multi-line fields; lon/lat columns auto-detected or named),
 * and GeoJSON, GeoPackage, Shapefile (any OGR vector source, through GDAL;
 * errors carry layer/feature). Joins of a second table by a named key.
 * Writers: GeoPackage (one layer per table), GeoJSON, CSV — atomic.
 * Invalid input never produces output; all problems go to a cs_diag.
 */
#ifndef CITYSYS_CITYIO_H
#define CITYSYS_CITYIO_H

#include "citysys/city.h"
#include "citysys/matrix.h"
#include "citysys/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Field mapping for a city table: the column (case-insensitive) of each
 * standard field. NULL or "" entries are auto-detected from common names
 * (lists in docs/formats.md: lon/lng/long/longitude/x, lat/latitude/y,
 * gdp_cap/gdppc/..., admin1/admin_name/..., iso3/country/...). Required:
 * id, population, and lon/lat unless the source has point geometry.
 * All strings borrowed.
 */
typedef struct cs_city_fields {
    const char *id;           /**< e.g. "id", "geonameid", "city_country" */
    const char *name;
    const char *lon, *lat;    /**< for OGR sources the point geometry is used unless both are given */
    const char *population;
    const char *gdp, *gdp_per_head, *employment;
    const char *region, *country;
} cs_city_fields;

/**
 * A second table joined onto the cities by key (left join, exact text match).
 * Duplicate right keys (the first row is used) and cities without a match are
 * reported as warnings. Columns named in `fields` fill those standard fields
 * (name, population, gdp, gdp_per_head, employment, region, country; not
 * id/lon/lat); the other taken columns become extras (a name clash gets a
 * suffix "_2"). All pointers borrowed.
 */
typedef struct cs_city_join {
    const char *path;      /**< file to join (CSV or any OGR source) */
    const char *layer;     /**< layer name (NULL: first layer) */
    const char *left_key;  /**< column of the city table (or "id"/"name"/"region"/"country": the mapped field) */
    const char *right_key; /**< column of the joined table */
    const char *const *columns; /**< columns to take (NULL-terminated; NULL = all) */
    const cs_city_fields *fields; /**< standard fields the joined columns fill (e.g. gdp_per_head = "gdp_cap") */
} cs_city_join;

typedef struct cs_city_read_opts {
    const char *layer;          /**< OGR layer (NULL: first) */
    cs_city_fields fields;
    const char *encoding;       /**< CSV encoding: NULL/"UTF-8" (invalid UTF-8 is an error) or an iconv name */
    const cs_city_join *joins;  /**< array of njoins joins (borrowed) */
    size_t njoins;
    int max_errors;             /**< list at most this many errors (and warnings) (0 = 20); the rest are counted */
} cs_city_read_opts;

/**
 * Read a city table (CSV/TSV, optionally .gz, through the citysys tokenizer;
 * anything else through OGR). opts may be NULL (auto-detect everything).
 *
 * Every problem is collected into diag (may be NULL): located at
 * file:physical line:column for CSV, or with the object "layer L, feature
 * FID[, field F]" for OGR sources; beyond max_errors they are counted and a
 * note "... and N more errors not listed" is added. On any error: CS_EPARSE
 * and *out = NULL, and the thread's last error is the first problem. Other
 * failures (in the last error only, not in diag): CS_EIO (unreadable),
 * CS_ENOTFOUND (no such layer), CS_ENOMEM, CS_EDEPENDENCY (GDAL/PROJ). Warnings (join duplicates/unmatched keys)
 * are added to diag on success too. *out is owned by the caller
 * (cs_cities_free). The input files are never modified.
 */
CS_API cs_status cs_cities_read(const char *path, const cs_city_read_opts *opts, cs_diag *diag, cs_cities **out);

/**
 * Same as cs_cities_read for CSV bytes in memory (`name` is used in
 * messages; joins read their files from disk). Used by the fuzzer.
 */
CS_API cs_status cs_cities_read_csv_mem(const void *data, size_t size, const char *name,
                                        const cs_city_read_opts *opts, cs_diag *diag, cs_cities **out);

/* cs_vector_format (CS_FORMAT_AUTO/GPKG/GEOJSON/CSV) is defined in table.h. */

/**
 * The cities as a table (owned): columns id, name, lon, lat, population,
 * then gdp, gdp_per_head, employment, region, country when present, then
 * every extra column (typed from its content, see cs_table_add_text), with
 * point geometry. Lets callers add result columns before writing.
 */
CS_API cs_status cs_cities_to_table(const cs_cities *c, cs_table **out);

/** Write cities (points, every column incl. extras) atomically. layer NULL = "cities". */
CS_API cs_status cs_cities_write(const cs_cities *c, const char *path, cs_vector_format fmt, const char *layer);

/**
 * Column mapping of a link table (NULL/"" = auto-detected, see
 * docs/formats.md). Required: from, to (city ids). Defaults when a column is
 * absent: id = row number, mode = road, friction = 1, directed = 0, other
 * numbers NaN. Distances in metres; time in units of time_unit_s.
 */
typedef struct cs_link_fields {
    const char *id, *from, *to, *mode, *time, *distance, *cost, *capacity, *friction, *directed;
    double time_unit_s; /**< seconds per unit of the time column; 0 = from the column name (…_s: 1, …_h: 3600), else 60 (minutes) */
    const char *layer;  /**< OGR layer (NULL: first) */
    int max_errors;     /**< list at most this many errors (0 = 20); the rest are counted */
} cs_link_fields;
/**
 * Read a link table (CSV or OGR): from/to city ids resolved
 * against `cities` (borrowed). Unknown cities, unknown modes, non-numeric or
 * negative numbers, duplicate ids are errors located like cs_cities_read's
 * (at most 20 listed). CS_EPARSE and *out = NULL on any error; *out owned
 * (cs_links_free). fields may be NULL.
 */
CS_API cs_status cs_links_read(const char *path, const cs_cities *cities, const cs_link_fields *fields,
                               cs_diag *diag, cs_links **out);

/**
 * The links as a table (owned): id, from, to (city ids), mode (name), time_s,
 * distance_m, cost, capacity, friction, directed, then the extras (typed from
 * content; a clash with a standard name gets "_2"), with a straight line
 * from the origin city to the destination city as geometry.
 */
CS_API cs_status cs_links_to_table(const cs_links *l, const cs_cities *cities, cs_table **out);
/** Write links atomically (GPKG/GeoJSON/CSV like cs_cities_write). layer NULL = "links". */
CS_API cs_status cs_links_write(const cs_links *l, const cs_cities *cities, const char *path, cs_vector_format fmt,
                                const char *layer);

#ifdef __cplusplus
}
#endif
#endif

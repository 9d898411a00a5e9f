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

/** Field mapping for a city table: NULL entries are auto-detected from common names. */
typedef struct cs_city_fields {
    const char *id;           /**< e.g. "id", "geonameid", "city_country" */
    const char *name;
    const char *lon, *lat;    /**< for CSV; point geometry is used for other formats when absent */
    const char *population;
    const char *gdp, *gdp_per_head, *employment;
    const char *region, *country;
} cs_city_fields;

/** A second table joined onto the cities by key (left join; unmatched keys reported as warnings). */
typedef struct cs_city_join {
    const char *path;      /**< file to join (CSV or any OGR source) */
    const char *layer;     /**< layer name (NULL: first layer) */
    const char *left_key;  /**< column of the city table */
    const char *right_key; /**< column of the joined table */
    const char *const *columns; /**< columns to take (NULL-terminated; NULL = all) */
    const cs_city_fields *fields; /**< standard fields the joined columns fill (e.g. gdp_per_head = "gdp_cap") */
} cs_city_join;

typedef struct cs_city_read_opts {
    const char *layer;          /**< OGR layer (NULL: first) */
    cs_city_fields fields;
    const char *encoding;       /**< input encoding, NULL/"UTF-8" (invalid UTF-8 is an error) */
    const cs_city_join *joins;  /**< array of njoins joins */
    size_t njoins;
    int max_errors;             /**< stop collecting after this many errors (0 = 20) */
} cs_city_read_opts;

/**
 * Read a city table. On any error returns CS_EPARSE (or CS_EIO) with every
 * problem found (up to max_errors) in diag, and *out = NULL.
 * Warnings (e.g. a join key without match) are added to diag on success too.
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

/** Read a link table (CSV or OGR): from/to city ids resolved against cities. */
typedef struct cs_link_fields {
    const char *id, *from, *to, *mode, *time, *distance, *cost, *capacity, *friction, *directed;
    double time_unit_s; /**< seconds per unit of the time column (default 60: minutes) */
} cs_link_fields;
CS_API cs_status cs_links_read(const char *path, const cs_cities *cities, const cs_link_fields *fields,
                               cs_diag *diag, cs_links **out);

#ifdef __cplusplus
}
#endif
#endif

/*
 * city.h: the city-system data model — cities, links of any mode, regions.
 *
 * Tables are structure-of-arrays with public, documented fields (read them
 * freely; build and free them with the functions). Optional numeric columns
 * are NULL when absent from the input and NaN where one value is missing.
 * Every input column that is not mapped to a standard field is kept in
 * `extra` and carried to outputs.
 */
#ifndef CITYSYS_CITY_H
#define CITYSYS_CITY_H

#include "citysys/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Extra (unmapped) columns kept as text. */
typedef struct cs_columns {
    size_t ncols;
    char **names;    /**< ncols names (owned) */
    char ***values;  /**< values[c][row] (owned strings, "" when empty) */
} cs_columns;

typedef struct cs_cities {
    size_t n;
    char **id;          /**< unique id (owned strings) */
    char **name;        /**< display name (owned; "" if none) */
    double *lon, *lat;  /**< WGS84 degrees */
    double *population; /**< persons, >= 0 */
    double *gdp;          /**< optional total GDP (NULL if absent) */
    double *gdp_per_head; /**< optional GDP or income per head (NULL if absent) */
    double *employment;   /**< optional employment (NULL if absent) */
    char **region;      /**< optional admin-1 region (NULL if absent) */
    char **country;     /**< optional country code or name (NULL if absent) */
    cs_columns extra;   /**< every other input column */
    char *source;       /**< input file path (owned, may be NULL) */
    long *source_line;  /**< physical line (CSV) or feature number, per city (may be NULL) */
} cs_cities;

/** Empty table with capacity for n cities (all arrays allocated, n set to 0). */
CS_API cs_status cs_cities_new(size_t capacity, cs_cities **out);
CS_API void cs_cities_free(cs_cities *c);
/** Index of a city by id, or CS_INVALID_ID: hashed for tables from cs_cities_new (index rebuilt when n or
 * the id array changes), linear for hand-built tables. */
CS_API uint32_t cs_cities_find(const cs_cities *c, const char *id);
/** Total population. */
CS_API double cs_cities_total_population(const cs_cities *c);

/** Modes of city-to-city links. */
typedef enum cs_mode {
    CS_MODE_ROAD = 0, CS_MODE_RAIL, CS_MODE_AIR, CS_MODE_WATER, CS_MODE_ICT, CS_MODE_ENERGY, CS_MODE_SOFT,
    CS_MODE_COUNT
} cs_mode;
/** "road", "rail", ... */
CS_API const char *cs_mode_name(cs_mode m);
/** Parse a mode name (case-insensitive; also "ferry"/"sea"->water, "broadband"->ict). */
CS_API cs_status cs_mode_parse(const char *s, cs_mode *out);

/** City-to-city links (hard or soft). NaN where a value is not given. */
typedef struct cs_links {
    size_t n;
    char **id;          /**< link id (owned) */
    uint32_t *from, *to;/**< city indices */
    cs_mode *mode;
    double *time_s;     /**< travel time, seconds */
    double *distance_m; /**< metres */
    double *cost;       /**< monetary cost (tariff) */
    double *capacity;   /**< capacity (units per year) */
    double *friction;   /**< multiplicative friction factor on generalised cost (soft links), 1 = none */
    uint8_t *directed;  /**< 1 if one-way, 0 if both ways */
    cs_columns extra;
} cs_links;

CS_API cs_status cs_links_new(size_t capacity, cs_links **out);
CS_API void cs_links_free(cs_links *l);

#ifdef __cplusplus
}
#endif
#endif

/*
 * project.h: the project file — one JSON document that describes a city
 * system (inputs, field mappings, joins, link tables, outputs) and the
 * parameters of every analysis step. The schema is documented in
 * docs/project-file.md, the one schema document every module extends.
 *
 * Loading checks the whole file at once and reports every problem in a
 * cs_diag, each located at FILE:LINE:COLUMN of the project file: JSON syntax
 * errors and duplicate keys (from jansson), unknown keys, wrong types,
 * missing required keys, unsupported schema versions and input files that do
 * not exist. Relative paths are resolved against the project file's folder.
 *
 * Reserved sections (network, matrix, indicators, typology, flows, scenarios,
 * simulate, facilities, portfolio, report) are accepted as JSON objects and
 * kept verbatim for the module that owns them (cs_project_section). Inside a
 * section, every string value whose key is "path" or ends in "_path" names an
 * input file: it must exist, it is listed by cs_project_inputs and its content
 * enters the fingerprints. Modules report problems in their section with
 * cs_project_diag_at, which locates a key path in the project file.
 */
#ifndef CITYSYS_PROJECT_H
#define CITYSYS_PROJECT_H

#include "citysys/cityio.h"
#include "citysys/error.h"
#include "citysys/fileio.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The schema version this build reads (key `schema_version`). */
#define CS_PROJECT_SCHEMA_VERSION 1

typedef struct cs_project cs_project;
struct json_t; /* jansson's value type; include <jansson.h> to use section values */

/** Flags for cs_project_parse. */
enum {
    CS_PROJECT_NO_FILE_CHECK = 1 /**< do not check that input files exist (fuzzing, editors) */
};

/**
 * Load and check a project file. On success *out is the project (owned; free
 * with cs_project_free). On failure *out = NULL, every problem found is in
 * diag (may be NULL) and the status is CS_EPARSE for a bad project (syntax,
 * schema, missing input file: exit code 3) or CS_EIO when the project file
 * itself cannot be read. The last error holds the first problem.
 */
CS_API cs_status cs_project_load(const char *path, cs_diag *diag, cs_project **out);

/**
 * Same as cs_project_load from a buffer of len bytes. `path` names the file
 * in messages and relative paths are resolved against its folder.
 */
CS_API cs_status cs_project_parse(const char *text, size_t len, const char *path, unsigned flags,
                                  cs_diag *diag, cs_project **out);

/** Free a project (NULL is a no-op). */
CS_API void cs_project_free(cs_project *p);

/** Path of the project file as given (borrowed). */
CS_API const char *cs_project_path(const cs_project *p);
/** Folder of the project file, against which relative paths are resolved (borrowed, "." if none). */
CS_API const char *cs_project_dir(const cs_project *p);
/** `name` (borrowed; defaults to the project file name without ".json"). */
CS_API const char *cs_project_name(const cs_project *p);
/** `description` (borrowed; "" if absent). */
CS_API const char *cs_project_description(const cs_project *p);

/** Resolved path of the city table (`cities.path`, borrowed). */
CS_API const char *cs_project_cities_path(const cs_project *p);
/**
 * Reader options for the city table built from `cities` (layer, field
 * mapping, joins with resolved paths). Borrowed; valid while p lives.
 * Pass it to cs_cities_read(cs_project_cities_path(p), ..., diag, &cities).
 */
CS_API const cs_city_read_opts *cs_project_city_read_opts(const cs_project *p);
/** Read the project's city table with its joins (convenience; see cs_cities_read). */
CS_API cs_status cs_project_read_cities(const cs_project *p, cs_diag *diag, cs_cities **out);

/** One entry of `links`: a link table and its field mapping. */
typedef struct cs_project_links {
    const char *path;       /**< resolved path (borrowed); CSV or the first layer of an OGR source */
    cs_link_fields fields;  /**< field mapping (NULL entries auto-detected; time_unit_s 0 = from the column name) */
} cs_project_links;
/** Number of link tables in `links` (0 when absent). */
CS_API size_t cs_project_nlinks(const cs_project *p);
/** Link table i (borrowed). */
CS_API const cs_project_links *cs_project_link(const cs_project *p, size_t i);

/**
 * Vector formats listed in `outputs.formats`, in file order without
 * duplicates (default: GeoPackage then CSV). Borrowed array of *n entries.
 */
CS_API const cs_vector_format *cs_project_output_formats(const cs_project *p, size_t *n);
/** File extension of a vector format ("gpkg", "geojson", "csv"; "" for AUTO). */
CS_API const char *cs_project_format_ext(cs_vector_format f);

/**
 * A top-level section as parsed JSON (borrowed json_t*, NULL if absent):
 * the reserved sections are kept verbatim for the modules that own them.
 * Any top-level key of the schema may be asked for ("cities", "network", ...).
 */
CS_API const struct json_t *cs_project_section(const cs_project *p, const char *name);

/**
 * Locate a key path in the project file: "cities.fields.id",
 * "cities.joins[0].path", "network" ("" = the document). Sets the 1-based
 * line and column of the value (or of the key when `of_key` is non-zero).
 * Returns CS_ENOTFOUND (line = column = 0) when the path does not occur.
 */
CS_API cs_status cs_project_locate(const cs_project *p, const char *keypath, int of_key, long *line,
                                   long *column);
/**
 * Add an error (or warning) located at a key path of the project file to diag
 * and record it as the last error (errors only). Returns `status`.
 * For modules that parse their own section.
 */
CS_API cs_status cs_project_diag_at(const cs_project *p, cs_diag *diag, cs_severity sev, cs_status status,
                                    const char *keypath, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/** Resolve a path relative to the project folder (owned; absolute paths are returned unchanged). */
CS_API char *cs_project_resolve(const cs_project *p, const char *relpath);

/** One input file named by the project. */
typedef struct cs_project_input {
    const char *keypath;  /**< where it is named ("cities.path", "network.path") */
    const char *section;  /**< top-level section ("cities", "links", "network", ...) */
    const char *given;    /**< the path as written in the project file */
    const char *path;     /**< resolved path */
} cs_project_input;
/** Number of input files (each distinct key path once). */
CS_API size_t cs_project_ninputs(const cs_project *p);
/** Input file i (borrowed), in document order. */
CS_API const cs_project_input *cs_project_input_at(const cs_project *p, size_t i);

/**
 * Canonical text of the project (owned; free with cs_free): the parsed
 * document with sorted keys, compact, so that formatting and key order do
 * not change fingerprints.
 */
CS_API char *cs_project_canonical(const cs_project *p);

/**
 * Feed a section into a SHA-256 context: the section name, its canonical JSON
 * ("null" when absent) and the content of every input file it names. Used
 * for per-step cache fingerprints (a step depends only on its sections).
 */
CS_API cs_status cs_project_hash_section(const cs_project *p, const char *section, cs_sha256 *h);

/**
 * Project fingerprint: SHA-256 over the canonical JSON and the content of
 * every input file (in key-path order, so key order and layout do not matter), as 64 hex
 * characters + NUL.
 * CS_EIO when an input file cannot be read.
 */
CS_API cs_status cs_project_fingerprint(const cs_project *p, char out[65]);

/** Population total of one group of cities (a region or a country). */
typedef struct cs_group_total {
    char *key;         /**< country, or "region, country" when the table has countries (admin-1 names
                            repeat across countries); "" when empty. Owned by the summary. */
    size_t n;          /**< cities in the group */
    double population; /**< their total population (NaN populations skipped) */
} cs_group_total;

/** Summary of a city table, as `citysys info` prints it. */
typedef struct cs_city_summary {
    size_t ncities;
    double total_population;          /**< sum over cities (NaN skipped) */
    double lon_min, lat_min, lon_max, lat_max; /**< bounding box, degrees (NaN when empty) */
    size_t ntop;
    uint32_t *top;                    /**< indices of the ntop most populous cities, largest first (ties: id) */
    size_t nregions, ncountries;      /**< 0 when the column is absent */
    cs_group_total *regions;          /**< by population, largest first (ties: key) */
    cs_group_total *countries;
} cs_city_summary;

/**
 * Summarise a city table: counts, bounding box, total population, the top_k
 * largest cities, population by region and by country. *out owned (free with
 * cs_city_summary_free); it holds indices into c, not pointers.
 */
CS_API cs_status cs_city_summary_build(const cs_cities *c, size_t top_k, cs_city_summary **out);
CS_API void cs_city_summary_free(cs_city_summary *s);

#ifdef __cplusplus
}
#endif
#endif

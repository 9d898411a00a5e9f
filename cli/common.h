/* common.h: loading helpers shared by CLI commands (cities, matrices aligned to cities, JSON output). */
#ifndef CITYSYS_CLI_COMMON_H
#define CITYSYS_CLI_COMMON_H
#include "cli.h"

/**
 * Read a city table with default field detection (options --id, --name, --lon, --lat, --population,
 * --country, --region of the command override the detection when present in `a`). Prints diagnostics;
 * returns an exit code (0 on success).
 */
int cli_load_cities(const cli_args *a, const char *path, cs_cities **out);
/**
 * Read a matrix (.csv long/wide, anything else binary) and align its rows and columns to the cities' ids.
 * Time matrices in minutes ("min") are converted to seconds. Returns an exit code.
 */
int cli_load_matrix_for(const char *path, const cs_cities *c, cs_matrix_kind kind, cs_matrix **out);
/** Multiply a time matrix to seconds from the unit name given (s, min, h); returns an exit code. */
int cli_time_unit(const cli_args *a, cs_matrix *m);
/** Group index per city from its country (or region) strings; *ngroups set; NULL when the field is absent. */
uint32_t *cli_groups(char **values, size_t n, uint32_t *ngroups);
#endif

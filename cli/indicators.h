/* indicators.h: helpers shared by the indicator commands (cost, access, gravity, hierarchy, agglomerate):
 * reading city tables and matrices with the commands' options, CSV and JSON output. */
#ifndef CITYSYS_CLI_INDICATORS_H
#define CITYSYS_CLI_INDICATORS_H
#include <stdio.h>
#include <jansson.h>
#include "cli.h"

int ind_read_cities(const cli_args *a, const char *path, cs_cities **out);
void ind_cities_free(cs_cities *c);
int ind_read_matrix(const char *path, cs_matrix_kind kind, cs_matrix **out);
int ind_write_matrix_csv(const cs_matrix *m, const char *path);
int ind_align_matrix(cs_matrix **m, const cs_cities *c);
int ind_parse_list(const cli_args *a, const char *opt, const char *def, double *out, size_t max, size_t *n);
void ind_csv_num(FILE *f, double v);
void ind_csv_str(FILE *f, const char *s);
json_t *ind_json_num(double v);
int ind_write_json(json_t *j, const char *path);
int ind_open_csv(const char *path, cs_atomic_file **af, FILE **f);
int ind_commit_csv(cs_atomic_file *af);

#endif

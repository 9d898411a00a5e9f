/*
 * section.h (private): typed reading of a project-file section with every
 * problem located at FILE:LINE:COLUMN (through cs_project_diag_at).
 */
#ifndef CITYSYS_SECTION_H
#define CITYSYS_SECTION_H

#include <jansson.h>
#include "citysys/project.h"

typedef struct cs_sec {
    const cs_project *p;
    cs_diag *diag;
    char path[256];     /* key path of this object ("network.snap") */
    const json_t *obj;  /* NULL when absent */
    int *errors;        /* shared error counter */
} cs_sec;

/* Open a top-level section; returns 1 when present. */
int cs_sec_open(cs_sec *s, const cs_project *p, cs_diag *diag, const char *name, int *errors);
/* Open a sub-object of s (absent: obj NULL, returns 0; not an object: error). */
int cs_sec_child(const cs_sec *s, const char *key, cs_sec *child);
/* Report every key of s not in allowed (NULL-terminated), suggesting the nearest allowed one. */
void cs_sec_check_keys(const cs_sec *s, const char *const *allowed);
/* Typed getters: absent -> def; wrong type or out of [lo, hi] -> error and def. */
const char *cs_sec_str(const cs_sec *s, const char *key, const char *def);
double cs_sec_num(const cs_sec *s, const char *key, double def, double lo, double hi);
int cs_sec_bool(const cs_sec *s, const char *key, int def);
/* Array of numbers (each in [lo, hi]); returns count (<= cap), or 0 with *present = 0 when absent. */
size_t cs_sec_nums(const cs_sec *s, const char *key, double *out, size_t cap, double lo, double hi, int *present);
/* One of the listed strings; returns its index or def_index. */
int cs_sec_enum(const cs_sec *s, const char *key, const char *const *values, int def_index);
/* Record an error at key (or at the section when key is NULL). */
void cs_sec_error(const cs_sec *s, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

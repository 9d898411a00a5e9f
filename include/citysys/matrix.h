/*
 * matrix.h: dense city x city matrices (time, distance, cost, flows) and
 * their one binary file format, plus CSV import/export (long and wide).
 *
 * Values are float64, row-major. Unreachable = +INFINITY (never a magic
 * number); a missing value = NaN. The binary file carries a versioned header,
 * the ids of rows and columns, an optional per-cell flag byte (e.g. "a
 * non-road mode was used"), and a fingerprint (SHA-256 hex) of everything
 * that produced it, with section checksums. Format in docs/formats.md.
 */
#ifndef CITYSYS_MATRIX_H
#define CITYSYS_MATRIX_H

#include "citysys/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_matrix_kind {
    CS_MATRIX_OTHER = 0,
    CS_MATRIX_TIME = 1,     /**< travel time, seconds */
    CS_MATRIX_DISTANCE = 2, /**< distance, metres */
    CS_MATRIX_COST = 3,     /**< generalised cost (unit in `unit`) */
    CS_MATRIX_FLOW = 4,     /**< interaction flows */
    CS_MATRIX_TRADECOST = 5 /**< iceberg trade cost (>= 1, dimensionless) */
} cs_matrix_kind;

/** Per-cell flag bits. */
#define CS_CELL_UNREACHABLE 0x01u /**< no path (value is +inf) */
#define CS_CELL_NONROAD 0x02u     /**< the route uses a non-road mode (rail, air, ferry) */

/** A dense matrix. Fields are public and documented; use the functions to create/free. */
typedef struct cs_matrix {
    size_t rows, cols;
    double *v;        /**< rows*cols values, row-major: v[i*cols + j]; owned */
    char **row_ids;   /**< rows ids (owned strings), never NULL after cs_matrix_new */
    char **col_ids;   /**< cols ids (owned strings) */
    uint8_t *flags;   /**< optional rows*cols flag bytes, NULL when absent; owned */
    cs_matrix_kind kind;
    char unit[16];    /**< "s", "m", "min", "", ... */
    char fingerprint[65]; /**< SHA-256 hex of what produced it, "" if none */
} cs_matrix;

/** New matrix with all values 0 and ids "0","1",... (rows/cols may be 0). */
CS_API cs_status cs_matrix_new(size_t rows, size_t cols, cs_matrix_kind kind, cs_matrix **out);
CS_API void cs_matrix_free(cs_matrix *m);
/** Deep copy. */
CS_API cs_status cs_matrix_clone(const cs_matrix *m, cs_matrix **out);
/** Replace the ids (copies strings). ids may be NULL for "0","1",... */
CS_API cs_status cs_matrix_set_ids(cs_matrix *m, const char *const *row_ids, const char *const *col_ids);
/** Allocate the flag array (zeroed) if absent. */
CS_API cs_status cs_matrix_ensure_flags(cs_matrix *m);
static inline double cs_matrix_at(const cs_matrix *m, size_t i, size_t j) { return m->v[i * m->cols + j]; }

/** Binary file format version written by this library. */
#define CS_MATRIX_FORMAT_VERSION 1u

/** Write the binary file atomically. */
CS_API cs_status cs_matrix_write(const cs_matrix *m, const char *path);
/**
 * Read a binary matrix file. When expected_fingerprint is non-NULL and
 * non-empty, a file with another fingerprint is refused with CS_EFORMAT and a
 * message saying it is stale and how to rebuild. Foreign, truncated, corrupt
 * (checksum) or other-version files are refused with CS_EFORMAT.
 */
CS_API cs_status cs_matrix_read(const char *path, const char *expected_fingerprint, cs_matrix **out);
/** Read from memory (used by the fuzzer). `name` is used in messages. */
CS_API cs_status cs_matrix_read_mem(const void *data, size_t size, const char *name,
                                    const char *expected_fingerprint, cs_matrix **out);

typedef enum cs_matrix_csv_layout {
    CS_MATRIX_CSV_LONG = 0, /**< origin_id,destination_id,value (one row per cell) */
    CS_MATRIX_CSV_WIDE = 1  /**< header: id,<col ids...>; one row per origin */
} cs_matrix_csv_layout;

/**
 * Export as CSV, atomically. Unreachable cells are written as "inf" (and in
 * the long layout an extra column `reachable` 0/1 is added); NaN as empty.
 */
CS_API cs_status cs_matrix_write_csv(const cs_matrix *m, const char *path, cs_matrix_csv_layout layout);
/**
 * Import CSV (layout auto-detected from the header when `layout` < 0).
 * Accepts "inf"/"Inf"/"infinity" and empty (NaN). Errors carry file:line:column.
 */
CS_API cs_status cs_matrix_read_csv(const char *path, int layout, cs_matrix_kind kind, cs_matrix **out);

/** Reorder/select rows and columns to the given ids; missing ids -> CS_ENOTFOUND. */
CS_API cs_status cs_matrix_select(const cs_matrix *m, const char *const *row_ids, size_t nrows,
                                  const char *const *col_ids, size_t ncols, cs_matrix **out);

#ifdef __cplusplus
}
#endif
#endif

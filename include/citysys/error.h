/*
 * error.h: status codes, the thread-local last-error record and diagnostic
 * lists (several input errors collected in one run).
 *
 * Every fallible function returns a cs_status; CS_OK (0) is success. Detail
 * lives in a thread-local record read with cs_error_last(). The library
 * records; only the CLI prints. A function that fails leaves its arguments
 * semantically unchanged and leaks nothing.
 */
#ifndef CITYSYS_ERROR_H
#define CITYSYS_ERROR_H

#include <stdarg.h>
#include "citysys/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_status {
    CS_OK = 0,
    CS_EINVAL = 1,      /**< invalid argument (programming error or bad option) */
    CS_ENOMEM = 2,      /**< out of memory */
    CS_EIO = 3,         /**< file could not be read or written */
    CS_EPARSE = 4,      /**< input data malformed or invalid (bad input) */
    CS_EFORMAT = 5,     /**< binary/cache file foreign, stale, corrupt or of another version */
    CS_EINFEASIBLE = 6, /**< problem has no solution (optimisation, unreachable) */
    CS_EDEPENDENCY = 7, /**< a dependency (GDAL, GLPK, igraph, ...) failed */
    CS_ENOTFOUND = 8,   /**< named object (city, edge, layer, field) does not exist */
    CS_ECONVERGE = 9,   /**< iterative solver did not converge */
    CS_ECANCELED = 10,  /**< cancelled by the progress callback */
    CS_EUNSUPPORTED = 11 /**< valid request this build/version does not support */
} cs_status;

/** Static text for a status ("invalid argument", ...). Never NULL. */
CS_API const char *cs_strerror(cs_status status);

/** The thread-local last-error record. */
typedef struct cs_error {
    cs_status status;   /**< CS_OK when no error has been recorded */
    char message[1024]; /**< human-readable message, no trailing newline */
    char file[512];     /**< source file of the problem ("" if none) */
    long line;          /**< 1-based physical line, 0 if unknown */
    long column;        /**< 1-based column (field index for CSV), 0 if unknown */
    char object[256];   /**< object id (layer/feature, OSM id, city id), "" if none */
} cs_error;

/** Borrowed pointer to this thread's last error (never NULL). */
CS_API const cs_error *cs_error_last(void);
/** Reset this thread's last error to CS_OK. */
CS_API void cs_error_clear(void);
/** Record an error with a printf-style message; returns status. */
CS_API cs_status cs_error_set(cs_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Record an error located in a file (line/column 0 when unknown). */
CS_API cs_status cs_error_set_at(cs_status status, const char *file, long line, long column,
                                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/** Add/replace the object id of the current last error (e.g. "layer roads, feature 17"). */
CS_API void cs_error_set_object(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Prefix the current message with context ("reading cities: ..."). */
CS_API void cs_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * Diagnostics: a list of located errors and warnings collected during one
 * operation (input validation reports many problems at once). Owned by the
 * caller; cs_diag_free(NULL) is a no-op.
 */
typedef enum cs_severity { CS_SEV_ERROR = 0, CS_SEV_WARNING = 1, CS_SEV_NOTE = 2 } cs_severity;

typedef struct cs_diag_item {
    cs_severity severity;
    cs_status status;
    char *file;    /**< owned, may be "" */
    long line;     /**< physical line, 0 if unknown */
    long column;   /**< column (1-based), 0 if unknown */
    char *object;  /**< owned, may be "" */
    char *message; /**< owned */
} cs_diag_item;

typedef struct cs_diag cs_diag;

CS_API cs_diag *cs_diag_new(void);
CS_API void cs_diag_free(cs_diag *d);
/** Add an item (copies strings). Returns CS_ENOMEM on allocation failure. */
CS_API cs_status cs_diag_add(cs_diag *d, cs_severity sev, cs_status status, const char *file,
                             long line, long column, const char *object, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
/** Add the current thread's last error as an item. */
CS_API cs_status cs_diag_add_last(cs_diag *d, cs_severity sev);
/** Record n errors that were found but not listed (beyond a reader's max_errors). */
CS_API void cs_diag_add_hidden(cs_diag *d, size_t n_errors);
/** Errors found but not listed. */
CS_API size_t cs_diag_hidden(const cs_diag *d);
CS_API size_t cs_diag_count(const cs_diag *d);
CS_API size_t cs_diag_errors(const cs_diag *d);
/** Borrowed; valid until the next add or free. */
CS_API const cs_diag_item *cs_diag_get(const cs_diag *d, size_t i);
/**
 * Format item i in compiler form: "FILE:LINE:COL: error: [OBJECT: ]MESSAGE".
 * Writes at most size bytes (NUL-terminated); returns needed length.
 */
CS_API size_t cs_diag_format(const cs_diag *d, size_t i, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif

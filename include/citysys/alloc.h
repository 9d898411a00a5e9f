/*
 * alloc.h: the one set of allocation wrappers every module uses, with a
 * failure-injection hook so tests can fail the Nth allocation and check that
 * each call fails cleanly (returns CS_ENOMEM, leaks nothing).
 */
#ifndef CITYSYS_ALLOC_H
#define CITYSYS_ALLOC_H

#include "citysys/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** malloc/calloc/realloc/free equivalents. They record CS_ENOMEM in the last error on failure. */
CS_API void *cs_malloc(size_t size);
CS_API void *cs_calloc(size_t n, size_t size);
/** Overflow-checked n*size allocation (uninitialised). */
CS_API void *cs_mallocarray(size_t n, size_t size);
CS_API void *cs_realloc(void *p, size_t size);
/** Overflow-checked realloc of n*size bytes. */
CS_API void *cs_reallocarray(void *p, size_t n, size_t size);
CS_API void cs_free(void *p);
CS_API char *cs_strdup(const char *s);
CS_API char *cs_strndup(const char *s, size_t n);
/** printf into a new string (owned). NULL on failure. */
CS_API char *cs_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * Testing hook: make the n-th allocation from now fail (1 = the next one),
 * and every one after it when `sticky` is non-zero. n = 0 disables injection.
 * Process-wide (atomic counter).
 */
CS_API void cs_alloc_fail_after(long n, int sticky);
/** Number of allocations made through the wrappers since start (testing). */
CS_API long cs_alloc_count(void);

#ifdef __cplusplus
}
#endif
#endif

/* alloc.c: allocation wrappers with failure injection for tests. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/error.h"

static atomic_long g_count;
static atomic_long g_fail_at; /* absolute count at which to fail; 0 = off */
static atomic_int g_sticky;

void cs_alloc_fail_after(long n, int sticky)
{
    atomic_store(&g_sticky, sticky);
    atomic_store(&g_fail_at, n > 0 ? atomic_load(&g_count) + n : 0);
}

long cs_alloc_count(void) { return atomic_load(&g_count); }

static int should_fail(void)
{
    long c = atomic_fetch_add(&g_count, 1) + 1;
    long f = atomic_load(&g_fail_at);
    if (f == 0) return 0;
    if (c == f) return 1;
    return c > f && atomic_load(&g_sticky);
}

static void *oom(size_t size)
{
    cs_error_set(CS_ENOMEM, "out of memory (allocating %zu bytes)", size);
    return NULL;
}

void *cs_malloc(size_t size)
{
    if (should_fail()) return oom(size);
    void *p = malloc(size ? size : 1);
    return p ? p : oom(size);
}

void *cs_calloc(size_t n, size_t size)
{
    if (should_fail()) return oom(n * size);
    void *p = calloc(n ? n : 1, size ? size : 1);
    return p ? p : oom(n * size);
}

void *cs_mallocarray(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return oom(SIZE_MAX);
    return cs_malloc(n * size);
}

void *cs_realloc(void *p, size_t size)
{
    if (should_fail()) return oom(size);
    void *q = realloc(p, size ? size : 1);
    return q ? q : oom(size);
}

void *cs_reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return oom(SIZE_MAX);
    return cs_realloc(p, n * size);
}

void cs_free(void *p) { free(p); }

char *cs_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s);
    char *d = cs_malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

char *cs_strndup(const char *s, size_t n)
{
    if (!s) return NULL;
    size_t m = strnlen(s, n);
    char *d = cs_malloc(m + 1);
    if (d) {
        memcpy(d, s, m);
        d[m] = 0;
    }
    return d;
}

char *cs_asprintf(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        cs_error_set(CS_EINVAL, "bad format");
        return NULL;
    }
    char *s = cs_malloc((size_t)n + 1);
    if (s) vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

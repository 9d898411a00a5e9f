/* io_util.c: capped diagnostics, GDAL session helpers, number parsing/formatting, small string tools. */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include "io/io_internal.h"

/* ---- capped report ---- */
void io_report_init(io_report *r, cs_diag *diag, int max_errors)
{
    memset(r, 0, sizeof *r);
    r->diag = diag;
    r->max = max_errors > 0 ? max_errors : 20;
}

cs_status io_report_vadd(io_report *r, cs_severity sev, const char *file, long line, long col, const char *object,
                         const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (sev == CS_SEV_ERROR) {
        if (!r->have_first) {
            cs_error *e = &r->first;
            memset(e, 0, sizeof *e);
            e->status = CS_EPARSE;
            snprintf(e->message, sizeof e->message, "%.1000s", msg);
            snprintf(e->file, sizeof e->file, "%.500s", file ? file : "");
            snprintf(e->object, sizeof e->object, "%.250s", object ? object : "");
            e->line = line;
            e->column = col;
            r->have_first = 1;
        }
        if (r->nerr >= r->max) {
            r->hidden_err++;
            return CS_OK;
        }
        r->nerr++;
    } else {
        if (r->nwarn >= r->max) {
            r->hidden_warn++;
            return CS_OK;
        }
        r->nwarn++;
    }
    if (!r->diag) return CS_OK;
    if (cs_diag_add(r->diag, sev, CS_EPARSE, file, line, col, object, "%s", msg) != CS_OK)
        return cs_error_set(CS_ENOMEM, "out of memory recording a diagnostic");
    return CS_OK;
}

cs_status io_report_add(io_report *r, cs_severity sev, const char *file, long line, long col, const char *object,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cs_status st = io_report_vadd(r, sev, file, line, col, object, fmt, ap);
    va_end(ap);
    return st;
}

cs_status io_report_finish(io_report *r)
{
    /* the CLI prints "... and N more errors" from this count, also under --quiet */
    if (r->diag && r->hidden_err) cs_diag_add_hidden(r->diag, (size_t)r->hidden_err);
    if (r->diag && r->hidden_warn &&
        cs_diag_add(r->diag, CS_SEV_NOTE, CS_OK, "", 0, 0, "", "... and %ld more warning%s not listed",
                    r->hidden_warn, r->hidden_warn == 1 ? "" : "s"))
        return cs_error_set(CS_ENOMEM, "out of memory recording a diagnostic");
    if (!r->have_first) return CS_OK;
    long total = r->nerr + r->hidden_err;
    cs_error_set_at(CS_EPARSE, r->first.file, r->first.line, r->first.column, "%s%s", r->first.message,
                    total > 1 ? " (and more errors)" : "");
    if (r->first.object[0]) cs_error_set_object("%s", r->first.object);
    return CS_EPARSE;
}

/* ---- GDAL ---- */
static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;
static void gdal_register(void)
{
    GDALAllRegister();
    /* reproducible GeoPackages: the GPKG driver stamps gpkg_contents.last_change with the current time
       unless OGR_CURRENT_DATE is set; a user's own setting is kept */
    if (!CPLGetConfigOption("OGR_CURRENT_DATE", NULL)) CPLSetConfigOption("OGR_CURRENT_DATE", "2000-01-01T00:00:00.000Z");
}

void io_gdal_begin(void)
{
    pthread_once(&gdal_once, gdal_register);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
}

void io_gdal_end(void) { CPLPopErrorHandler(); }

cs_status io_gdal_fail(cs_status st, const char *path, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *g = CPLGetLastErrorMsg();
    if (g && *g) return cs_error_set_at(st, path, 0, 0, "%s (GDAL: %s)", msg, g);
    return cs_error_set_at(st, path, 0, 0, "%s", msg);
}

/* ---- numbers ---- */
int io_parse_double(const char *s, double *out)
{
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return 1;
    /* plain decimal notation only (strtod would also take hex floats); inf/nan words allowed for callers
     * that accept them (matrices) */
    int plain = 1;
    for (const char *q = s; *q && *q != ' ' && *q != '\t'; q++)
        if (!((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' || *q == '+' || *q == '-')) plain = 0;
    if (!plain) {
        const char *w = (*s == '+' || *s == '-') ? s + 1 : s;
        char word[16];
        size_t L = 0;
        while (w[L] && w[L] != ' ' && w[L] != '\t' && L < sizeof word - 1) {
            word[L] = w[L];
            L++;
        }
        word[L] = 0;
        if (!io_strieq(word, "inf") && !io_strieq(word, "infinity") && !io_strieq(word, "nan")) return -1;
    }
    char *e;
    double v = strtod(s, &e);
    if (e == s) return -1;
    while (*e == ' ' || *e == '\t') e++;
    if (*e) return -1;
    *out = v;
    return 0;
}

void io_fmt_double(double v, char *buf, size_t n)
{
    if (isnan(v)) {
        snprintf(buf, n, "%s", "");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, n, "%s", v > 0 ? "inf" : "-inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

int io_strieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

size_t io_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return (size_t)-1;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            size_t m = prev + cost;
            if (row[j] + 1 < m) m = row[j] + 1;
            if (row[j - 1] + 1 < m) m = row[j - 1] + 1;
            row[j] = m;
            prev = cur;
        }
    }
    return row[lb];
}

/* ---- buffer ---- */
cs_status io_buf_put(io_buf *b, const void *data, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->n + n + 1) nc *= 2;
        char *p = cs_realloc(b->p, nc);
        if (!p) return CS_ENOMEM;
        b->p = p;
        b->cap = nc;
    }
    if (n) memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = 0;
    return CS_OK;
}

cs_status io_buf_puts(io_buf *b, const char *s) { return io_buf_put(b, s, strlen(s)); }

cs_status io_buf_printf(io_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return cs_error_set(CS_EINVAL, "format error");
    if ((size_t)n < sizeof tmp) return io_buf_put(b, tmp, (size_t)n);
    char *big = cs_malloc((size_t)n + 1);
    if (!big) return CS_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cs_status st = io_buf_put(b, big, (size_t)n);
    cs_free(big);
    return st;
}

cs_status io_buf_csv_field(io_buf *b, const char *s, char delim)
{
    size_t L = strlen(s);
    int q = L > 0 && (s[0] == ' ' || s[0] == '\t' || s[L - 1] == ' ' || s[L - 1] == '\t');
    for (size_t i = 0; i < L && !q; i++)
        if (s[i] == delim || s[i] == '"' || s[i] == '\n' || s[i] == '\r') q = 1;
    if (!q) return io_buf_put(b, s, L);
    cs_status st = io_buf_put(b, "\"", 1);
    for (size_t i = 0; i < L && !st; i++) st = s[i] == '"' ? io_buf_put(b, "\"\"", 2) : io_buf_put(b, s + i, 1);
    return st ? st : io_buf_put(b, "\"", 1);
}

/* ---- string map (open addressing, FNV-1a) ---- */
static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

cs_status io_strmap_init(io_strmap *m, size_t expected)
{
    memset(m, 0, sizeof *m);
    size_t ns = 16;
    while (ns < expected * 2 + 2) ns *= 2;
    m->slots = cs_calloc(ns, sizeof *m->slots);
    m->keys = cs_calloc(ns, sizeof *m->keys);
    if (!m->slots || !m->keys) {
        io_strmap_free(m);
        return CS_ENOMEM;
    }
    m->nslots = ns;
    return CS_OK;
}

void io_strmap_free(io_strmap *m)
{
    cs_free(m->slots);
    cs_free(m->keys);
    memset(m, 0, sizeof *m);
}

uint32_t io_strmap_put(io_strmap *m, const char *key, uint32_t val)
{
    size_t h = (size_t)fnv(key) & (m->nslots - 1);
    while (m->slots[h]) {
        if (!strcmp(m->keys[h], key)) return m->slots[h] - 1;
        h = (h + 1) & (m->nslots - 1);
    }
    m->slots[h] = val + 1;
    m->keys[h] = key;
    return val;
}

uint32_t io_strmap_get(const io_strmap *m, const char *key)
{
    size_t h = (size_t)fnv(key) & (m->nslots - 1);
    while (m->slots[h]) {
        if (!strcmp(m->keys[h], key)) return m->slots[h] - 1;
        h = (h + 1) & (m->nslots - 1);
    }
    return CS_INVALID_ID;
}

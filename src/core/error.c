/* error.c: status texts, thread-local last error, diagnostic lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/error.h"
#include "citysys/alloc.h"

static _Thread_local cs_error tl_err;

const char *cs_strerror(cs_status s)
{
    switch (s) {
    case CS_OK: return "success";
    case CS_EINVAL: return "invalid argument";
    case CS_ENOMEM: return "out of memory";
    case CS_EIO: return "input/output error";
    case CS_EPARSE: return "invalid input data";
    case CS_EFORMAT: return "unusable binary file (foreign, stale, corrupt or other version)";
    case CS_EINFEASIBLE: return "infeasible problem";
    case CS_EDEPENDENCY: return "failure in a dependency";
    case CS_ENOTFOUND: return "not found";
    case CS_ECONVERGE: return "no convergence";
    case CS_ECANCELED: return "cancelled";
    case CS_EUNSUPPORTED: return "not supported";
    }
    return "unknown status";
}

const cs_error *cs_error_last(void) { return &tl_err; }

void cs_error_clear(void) { memset(&tl_err, 0, sizeof tl_err); }

static void set_common(cs_status st, const char *file, long line, long col, const char *fmt, va_list ap)
{
    cs_error e;
    memset(&e, 0, sizeof e);
    e.status = st;
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    if (file) snprintf(e.file, sizeof e.file, "%s", file);
    e.line = line;
    e.column = col;
    tl_err = e;
}

cs_status cs_error_set(cs_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_common(st, NULL, 0, 0, fmt, ap);
    va_end(ap);
    return st;
}

cs_status cs_error_set_at(cs_status st, const char *file, long line, long col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_common(st, file, line, col, fmt, ap);
    va_end(ap);
    return st;
}

void cs_error_set_object(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_err.object, sizeof tl_err.object, fmt, ap);
    va_end(ap);
}

void cs_error_prefix(const char *fmt, ...)
{
    char pre[512], old[sizeof tl_err.message], buf[sizeof pre + sizeof old + 4];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, tl_err.message, sizeof old);
    snprintf(buf, sizeof buf, "%s: %s", pre, old);
    memcpy(tl_err.message, buf, sizeof tl_err.message - 1);
    tl_err.message[sizeof tl_err.message - 1] = 0;
}

/* ---- diagnostics ---- */
struct cs_diag {
    cs_diag_item *items;
    size_t n, cap, nerr, hidden;
};

cs_diag *cs_diag_new(void) { return cs_calloc(1, sizeof(cs_diag)); }

void cs_diag_free(cs_diag *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) {
        cs_free(d->items[i].file);
        cs_free(d->items[i].object);
        cs_free(d->items[i].message);
    }
    cs_free(d->items);
    cs_free(d);
}

static cs_status diag_push(cs_diag *d, cs_severity sev, cs_status st, const char *file, long line,
                           long col, const char *obj, const char *msg)
{
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 16;
        cs_diag_item *ni = cs_reallocarray(d->items, nc, sizeof *ni);
        if (!ni) return CS_ENOMEM;
        d->items = ni;
        d->cap = nc;
    }
    cs_diag_item it = {sev, st, cs_strdup(file ? file : ""), line, col, cs_strdup(obj ? obj : ""),
                       cs_strdup(msg ? msg : "")};
    if (!it.file || !it.object || !it.message) {
        cs_free(it.file);
        cs_free(it.object);
        cs_free(it.message);
        return CS_ENOMEM;
    }
    d->items[d->n++] = it;
    if (sev == CS_SEV_ERROR) d->nerr++;
    return CS_OK;
}

cs_status cs_diag_add(cs_diag *d, cs_severity sev, cs_status st, const char *file, long line, long col,
                      const char *obj, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return diag_push(d, sev, st, file, line, col, obj, msg);
}

cs_status cs_diag_add_last(cs_diag *d, cs_severity sev)
{
    const cs_error *e = cs_error_last();
    return diag_push(d, sev, e->status, e->file, e->line, e->column, e->object, e->message);
}

void cs_diag_add_hidden(cs_diag *d, size_t n)
{
    if (d) d->hidden += n;
}
size_t cs_diag_hidden(const cs_diag *d) { return d ? d->hidden : 0; }
size_t cs_diag_count(const cs_diag *d) { return d ? d->n : 0; }
size_t cs_diag_errors(const cs_diag *d) { return d ? d->nerr : 0; }
const cs_diag_item *cs_diag_get(const cs_diag *d, size_t i) { return (d && i < d->n) ? &d->items[i] : NULL; }

size_t cs_diag_format(const cs_diag *d, size_t i, char *buf, size_t size)
{
    const cs_diag_item *it = cs_diag_get(d, i);
    if (!it) {
        if (size) buf[0] = 0;
        return 0;
    }
    const char *sev = it->severity == CS_SEV_ERROR ? "error" : it->severity == CS_SEV_WARNING ? "warning" : "note";
    char loc[700] = "";
    if (it->file[0]) {
        if (it->line > 0 && it->column > 0)
            snprintf(loc, sizeof loc, "%s:%ld:%ld: ", it->file, it->line, it->column);
        else if (it->line > 0)
            snprintf(loc, sizeof loc, "%s:%ld: ", it->file, it->line);
        else
            snprintf(loc, sizeof loc, "%s: ", it->file);
    }
    int n = snprintf(buf, size, "%s%s: %s%s%s", loc, sev, it->object, it->object[0] ? ": " : "", it->message);
    return n < 0 ? 0 : (size_t)n;
}

/* section.c: typed reading of project-file sections with located errors. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "report/section.h"

static void keypath(const cs_sec *s, const char *key, char *buf, size_t n)
{
    if (key) snprintf(buf, n, "%s.%s", s->path, key);
    else snprintf(buf, n, "%s", s->path);
}

void cs_sec_error(const cs_sec *s, const char *key, const char *fmt, ...)
{
    char kp[300], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    keypath(s, key, kp, sizeof kp);
    cs_project_diag_at(s->p, s->diag, CS_SEV_ERROR, CS_EPARSE, kp, "%s", msg);
    if (s->errors) (*s->errors)++;
}

int cs_sec_open(cs_sec *s, const cs_project *p, cs_diag *diag, const char *name, int *errors)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    s->diag = diag;
    s->errors = errors;
    snprintf(s->path, sizeof s->path, "%s", name);
    const json_t *o = cs_project_section(p, name);
    if (!o || json_is_null(o)) return 0;
    if (!json_is_object(o)) {
        cs_sec_error(s, NULL, "expected an object");
        return 0;
    }
    s->obj = o;
    return 1;
}

int cs_sec_child(const cs_sec *s, const char *key, cs_sec *c)
{
    *c = *s;
    char tmp[sizeof c->path + 300];
    snprintf(tmp, sizeof tmp, "%s.%s", s->path, key);
    memcpy(c->path, tmp, sizeof c->path - 1); /* key paths longer than 255 characters are truncated */
    c->path[sizeof c->path - 1] = 0;
    c->obj = NULL;
    const json_t *o = s->obj ? json_object_get(s->obj, key) : NULL;
    if (!o || json_is_null(o)) return 0;
    if (!json_is_object(o)) {
        cs_sec_error(s, key, "expected an object");
        return 0;
    }
    c->obj = o;
    return 1;
}

static size_t lev(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), d[64];
    if (lb >= 63) return 99;
    for (size_t j = 0; j <= lb; j++) d[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = d[0];
        d[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t t = d[j];
            size_t c = prev + (a[i - 1] != b[j - 1]);
            if (d[j] + 1 < c) c = d[j] + 1;
            if (d[j - 1] + 1 < c) c = d[j - 1] + 1;
            d[j] = c;
            prev = t;
        }
    }
    return d[lb];
}

void cs_sec_check_keys(const cs_sec *s, const char *const *allowed)
{
    if (!s->obj) return;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)s->obj, k, v)
    {
        (void)v;
        int ok = 0;
        const char *best = NULL;
        size_t bd = 99;
        for (const char *const *a = allowed; *a; a++) {
            if (!strcmp(*a, k)) ok = 1;
            size_t d = lev(k, *a);
            if (d < bd) {
                bd = d;
                best = *a;
            }
        }
        if (ok) continue;
        if (best && bd <= 3) cs_sec_error(s, k, "unknown key (did you mean '%s'?)", best);
        else cs_sec_error(s, k, "unknown key");
    }
}

const char *cs_sec_str(const cs_sec *s, const char *key, const char *def)
{
    const json_t *v = s->obj ? json_object_get(s->obj, key) : NULL;
    if (!v || json_is_null(v)) return def;
    if (!json_is_string(v)) {
        cs_sec_error(s, key, "expected a string");
        return def;
    }
    return json_string_value(v);
}

double cs_sec_num(const cs_sec *s, const char *key, double def, double lo, double hi)
{
    const json_t *v = s->obj ? json_object_get(s->obj, key) : NULL;
    if (!v || json_is_null(v)) return def;
    if (!json_is_number(v)) {
        cs_sec_error(s, key, "expected a number");
        return def;
    }
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi)) {
        cs_sec_error(s, key, "%g is out of range [%g, %g]", d, lo, hi);
        return def;
    }
    return d;
}

int cs_sec_bool(const cs_sec *s, const char *key, int def)
{
    const json_t *v = s->obj ? json_object_get(s->obj, key) : NULL;
    if (!v || json_is_null(v)) return def;
    if (!json_is_boolean(v)) {
        cs_sec_error(s, key, "expected true or false");
        return def;
    }
    return json_is_true(v);
}

size_t cs_sec_nums(const cs_sec *s, const char *key, double *out, size_t cap, double lo, double hi, int *present)
{
    *present = 0;
    const json_t *v = s->obj ? json_object_get(s->obj, key) : NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_array(v)) {
        cs_sec_error(s, key, "expected an array of numbers");
        return 0;
    }
    *present = 1;
    size_t n = json_array_size(v);
    if (n > cap) {
        cs_sec_error(s, key, "at most %zu values", cap);
        n = cap;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(v, i);
        if (!json_is_number(e) || !(json_number_value(e) >= lo && json_number_value(e) <= hi)) {
            char k[300];
            snprintf(k, sizeof k, "%s[%zu]", key, i);
            cs_sec_error(s, k, "expected a number in [%g, %g]", lo, hi);
            return 0;
        }
        out[i] = json_number_value(e);
    }
    return n;
}

int cs_sec_enum(const cs_sec *s, const char *key, const char *const *values, int def_index)
{
    const char *v = cs_sec_str(s, key, NULL);
    if (!v) return def_index;
    for (int i = 0; values[i]; i++)
        if (!strcmp(values[i], v)) return i;
    char list[512] = "";
    for (int i = 0; values[i]; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, values[i], sizeof list - strlen(list) - 1);
    }
    cs_sec_error(s, key, "'%s' is not one of: %s", v, list);
    return def_index;
}

/*
 * scenario_read.c: reading scenario files (JSON object or GeoJSON
 * FeatureCollection), includes with cycle detection, structural checks with
 * located errors, and the scenario object's accessors, select/merge/split.
 * Format: docs/scenarios.md.
 *
 * jansson keeps no position per value, so the raw text is scanned a second
 * time by a small tokenizer that records the line and column of every value
 * under its JSON path ("changes[3].edges[12]"); errors are located through
 * that table (same idea as the project reader, own code).
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/fileio.h"
#include "scenario/scenario_internal.h"

/* ------------------------------------------------------------ type names */

static const char *const TYPE_NAMES[CS_CHANGE_NTYPES] = {"upgrade", "close", "build", "link", "border",
                                                         "soft", "ict", "facility", "productivity", "amenity"};

const char *cs_change_type_name(cs_change_type t)
{
    return (unsigned)t < CS_CHANGE_NTYPES ? TYPE_NAMES[t] : "?";
}

cs_status cs_change_type_parse(const char *s, cs_change_type *out)
{
    for (int k = 0; s && k < CS_CHANGE_NTYPES; k++)
        if (!strcmp(s, TYPE_NAMES[k])) {
            *out = (cs_change_type)k;
            return CS_OK;
        }
    return cs_error_set(CS_ENOTFOUND, "unknown change type '%s'", s ? s : "");
}

void cs_scenario_read_opts_default(cs_scenario_read_opts *o)
{
    o->allow_include = 1;
    o->max_include_depth = 16;
}

/* ------------------------------------------------------------ positions */

typedef struct pscan {
    const unsigned char *s;
    size_t n, i;
    long line, col;
    json_t *map; /* path -> [line, col] */
    int depth, fail;
} pscan;

static void ps_adv(pscan *p)
{
    if (p->i >= p->n) return;
    unsigned char c = p->s[p->i++];
    if (c == '\n') {
        p->line++;
        p->col = 0;
    } else if ((c & 0xC0) != 0x80) {
        p->col++;
    }
}

static void ps_ws(pscan *p)
{
    while (p->i < p->n && strchr(" \t\r\n", p->s[p->i]) && p->s[p->i]) ps_adv(p);
}

/* Decode a JSON string at the opening quote; owned result (escapes other than \uXXXX kept simple). */
static char *ps_string(pscan *p)
{
    if (p->i >= p->n || p->s[p->i] != '"') return NULL;
    ps_adv(p);
    size_t cap = 16, k = 0;
    char *out = cs_malloc(cap);
    if (!out) return NULL;
    while (p->i < p->n && p->s[p->i] != '"') {
        unsigned char c = p->s[p->i];
        char add[8];
        size_t na = 0;
        if (c == '\\' && p->i + 1 < p->n) {
            ps_adv(p);
            unsigned char e = p->s[p->i];
            if (e == 'u' && p->i + 4 < p->n) {
                unsigned long cp = 0;
                int ok = 1;
                for (int j = 1; j <= 4; j++) {
                    int d = p->s[p->i + (size_t)j];
                    cp <<= 4;
                    if (d >= '0' && d <= '9') cp |= (unsigned long)(d - '0');
                    else if (d >= 'a' && d <= 'f') cp |= (unsigned long)(d - 'a' + 10);
                    else if (d >= 'A' && d <= 'F') cp |= (unsigned long)(d - 'A' + 10);
                    else ok = 0;
                }
                for (int j = 0; j < 4; j++) ps_adv(p);
                if (!ok) cp = '?';
                /* surrogate pairs are rare in ids; encode each half as given (only used as a map key) */
                if (cp < 0x80) add[na++] = (char)cp;
                else if (cp < 0x800) {
                    add[na++] = (char)(0xC0 | (cp >> 6));
                    add[na++] = (char)(0x80 | (cp & 0x3F));
                } else {
                    add[na++] = (char)(0xE0 | (cp >> 12));
                    add[na++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    add[na++] = (char)(0x80 | (cp & 0x3F));
                }
            } else {
                add[na++] = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b' : e == 'f' ? '\f' : (char)e;
            }
        } else {
            add[na++] = (char)c;
        }
        ps_adv(p);
        if (k + na + 1 > cap) {
            cap = 2 * cap + na;
            char *o2 = cs_realloc(out, cap);
            if (!o2) {
                cs_free(out);
                return NULL;
            }
            out = o2;
        }
        memcpy(out + k, add, na);
        k += na;
    }
    if (p->i >= p->n) {
        cs_free(out);
        return NULL;
    }
    ps_adv(p);
    out[k] = 0;
    return out;
}

static void ps_value(pscan *p, const char *path)
{
    if (p->fail) return;
    ps_ws(p);
    json_object_set_new(p->map, path, json_pack("[I,I]", (json_int_t)p->line, (json_int_t)p->col + 1));
    int c = p->i < p->n ? p->s[p->i] : -1;
    if (c == '{' || c == '[') {
        if (++p->depth > 2100) {
            p->fail = 1;
            return;
        }
        ps_adv(p);
        size_t idx = 0;
        for (;;) {
            ps_ws(p);
            int d = p->i < p->n ? p->s[p->i] : -1;
            if (d < 0) {
                p->fail = 1;
                return;
            }
            if (d == (c == '{' ? '}' : ']')) {
                ps_adv(p);
                break;
            }
            if (d == ',') {
                ps_adv(p);
                continue;
            }
            char *child;
            if (c == '{') {
                char *key = ps_string(p);
                if (!key) {
                    p->fail = 1;
                    return;
                }
                child = *path ? cs_asprintf("%s.%s", path, key) : cs_strdup(key);
                cs_free(key);
                ps_ws(p);
                if (p->i >= p->n || p->s[p->i] != ':') {
                    cs_free(child);
                    p->fail = 1;
                    return;
                }
                ps_adv(p);
            } else {
                child = cs_asprintf("%s[%zu]", path, idx++);
            }
            if (!child) {
                p->fail = 1;
                return;
            }
            ps_value(p, child);
            cs_free(child);
            if (p->fail) return;
        }
        p->depth--;
    } else if (c == '"') {
        char *s = ps_string(p);
        if (!s) p->fail = 1;
        cs_free(s);
    } else {
        while (p->i < p->n && !strchr(",}] \t\r\n", p->s[p->i])) ps_adv(p);
    }
}

static cs_status text_locate(void *user, const char *path, long *line, long *col)
{
    const json_t *v = json_object_get((const json_t *)user, path);
    if (!json_is_array(v)) return CS_ENOTFOUND;
    *line = (long)json_integer_value(json_array_get(v, 0));
    *col = (long)json_integer_value(json_array_get(v, 1));
    return CS_OK;
}

/* ------------------------------------------------------------ reader context */

typedef struct rd {
    const char *file;   /* for messages */
    const char *prefix; /* JSON path prefix */
    const sc_locator *loc;
    cs_diag *diag;
    int errors;
    const char *base_dir;
    const cs_scenario_read_opts *opts;
    int depth;
    char **stack; /* canonical paths of the files being read (cycle detection) */
    size_t nstack;
} rd;

static void full_path(const rd *r, const char *path, char *buf, size_t size)
{
    if (*r->prefix && *path) snprintf(buf, size, "%s.%s", r->prefix, path);
    else snprintf(buf, size, "%s", *r->prefix ? r->prefix : path);
}

static void locate(const rd *r, const char *path, long *line, long *col)
{
    *line = *col = 0;
    if (!r->loc) return;
    char full[512];
    full_path(r, path, full, sizeof full);
    /* the value itself, else the nearest enclosing one */
    while (r->loc->locate(r->loc->user, full, line, col) != CS_OK) {
        char *dot = strrchr(full, '.'), *br = strrchr(full, '[');
        char *cut = dot > br ? dot : br;
        if (!cut) {
            *line = *col = 0;
            if (full[0]) r->loc->locate(r->loc->user, "", line, col);
            return;
        }
        *cut = 0;
    }
}

static void rd_error(rd *r, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void rd_error(rd *r, const char *path, const char *fmt, ...)
{
    r->errors++;
    if (!r->diag) return;
    char msg[768], full[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    long line, col;
    locate(r, path, &line, &col);
    full_path(r, path, full, sizeof full);
    cs_diag_add(r->diag, CS_SEV_ERROR, CS_EPARSE, r->file, line, col, full, "%s", msg);
}

/* ------------------------------------------------------------ scenario object */

void sc_change_clear(sc_change *c)
{
    if (!c) return;
    cs_free(c->name);
    cs_free(c->file);
    cs_free(c->path);
    for (size_t k = 0; k < c->nitems; k++) cs_free(c->items[k]);
    cs_free(c->items);
    cs_free(c->item_line);
    cs_free(c->item_col);
    cs_free(c->from);
    cs_free(c->to);
    cs_free(c->glon);
    cs_free(c->glat);
    cs_free(c->city);
    json_decref(c->obj);
    memset(c, 0, sizeof *c);
}

static char *dup_or_null(const char *s, int *fail)
{
    if (!s) return NULL;
    char *d = cs_strdup(s);
    if (!d) *fail = 1;
    return d;
}

cs_status sc_change_copy(const sc_change *src, sc_change *dst)
{
    int fail = 0;
    *dst = *src;
    dst->name = dup_or_null(src->name, &fail);
    dst->file = dup_or_null(src->file, &fail);
    dst->path = dup_or_null(src->path, &fail);
    dst->from = dup_or_null(src->from, &fail);
    dst->to = dup_or_null(src->to, &fail);
    dst->city = dup_or_null(src->city, &fail);
    dst->items = NULL;
    dst->item_line = dst->item_col = NULL;
    dst->glon = dst->glat = NULL;
    dst->nitems = 0;
    dst->npts = 0;
    dst->obj = src->obj ? json_deep_copy(src->obj) : NULL;
    if (src->nitems) {
        dst->items = cs_calloc(src->nitems, sizeof *dst->items);
        dst->item_line = cs_calloc(src->nitems, sizeof *dst->item_line);
        dst->item_col = cs_calloc(src->nitems, sizeof *dst->item_col);
        if (!dst->items || !dst->item_line || !dst->item_col) fail = 1;
        for (size_t k = 0; !fail && k < src->nitems; k++) {
            dst->items[k] = dup_or_null(src->items[k], &fail);
            dst->item_line[k] = src->item_line[k];
            dst->item_col[k] = src->item_col[k];
            dst->nitems = k + 1;
        }
    }
    if (src->npts) {
        dst->glon = cs_mallocarray(src->npts, sizeof *dst->glon);
        dst->glat = cs_mallocarray(src->npts, sizeof *dst->glat);
        if (!dst->glon || !dst->glat) fail = 1;
        else {
            memcpy(dst->glon, src->glon, src->npts * sizeof *dst->glon);
            memcpy(dst->glat, src->glat, src->npts * sizeof *dst->glat);
            dst->npts = src->npts;
        }
    }
    if ((src->obj && !dst->obj)) fail = 1;
    if (fail) {
        sc_change_clear(dst);
        return cs_error_set(CS_ENOMEM, "out of memory copying a scenario change");
    }
    return CS_OK;
}

cs_status sc_push(cs_scenario *s, sc_change *c)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 8;
        sc_change *a = cs_reallocarray(s->ch, nc, sizeof *a);
        if (!a) {
            sc_change_clear(c);
            return cs_error_set(CS_ENOMEM, "out of memory");
        }
        s->ch = a;
        s->cap = nc;
    }
    s->ch[s->n++] = *c;
    memset(c, 0, sizeof *c);
    return CS_OK;
}

static cs_scenario *sc_new(void) { return cs_calloc(1, sizeof(cs_scenario)); }

void cs_scenario_free(cs_scenario *s)
{
    if (!s) return;
    for (size_t k = 0; k < s->n; k++) sc_change_clear(&s->ch[k]);
    cs_free(s->ch);
    cs_free(s->name);
    cs_free(s->description);
    cs_free(s->file);
    cs_free(s);
}

const char *cs_scenario_name(const cs_scenario *s) { return s && s->name ? s->name : ""; }
const char *cs_scenario_description(const cs_scenario *s) { return s && s->description ? s->description : ""; }
size_t cs_scenario_nchanges(const cs_scenario *s) { return s ? s->n : 0; }

cs_status cs_scenario_change(const cs_scenario *s, size_t k, cs_change_info *out)
{
    if (!s || !out || k >= s->n) return cs_error_set(CS_EINVAL, "change index %zu out of range", k);
    const sc_change *c = &s->ch[k];
    out->type = c->type;
    out->name = c->name ? c->name : "";
    out->file = c->file ? c->file : "";
    out->line = c->line;
    out->column = c->col;
    out->capital_cost = c->capital;
    out->annual_cost = c->annual;
    out->lifetime_years = c->lifetime;
    out->construction_years = c->cons_years;
    out->nitems = c->nitems ? c->nitems : (c->npts || c->from || c->from_node >= 0 || c->city ? 1 : 0);
    return CS_OK;
}

const char *cs_scenario_change_item(const cs_scenario *s, size_t k, size_t i)
{
    if (!s || k >= s->n || i >= s->ch[k].nitems) return NULL;
    return s->ch[k].items[i];
}

cs_status cs_scenario_costs(const cs_scenario *s, size_t k, double *capital, size_t cap, cs_project_costs *costs)
{
    if (!s || !costs || (k != SIZE_MAX && k >= s->n)) return cs_error_set(CS_EINVAL, "cs_scenario_costs: bad arguments");
    size_t k0 = k == SIZE_MAX ? 0 : k, k1 = k == SIZE_MAX ? s->n : k + 1;
    double total = 0, annual = 0, lw = 0, lsum = 0;
    int years = 1;
    for (size_t q = k0; q < k1; q++) {
        const sc_change *c = &s->ch[q];
        total += c->capital;
        annual += c->annual;
        lw += c->capital * c->lifetime;
        lsum += c->lifetime;
        if (c->cons_years > years) years = c->cons_years;
    }
    costs->n_capital = (size_t)years;
    costs->annual_cost = annual;
    costs->lifetime_years = total > 0 ? lw / total : (k1 > k0 ? lsum / (double)(k1 - k0) : 30);
    costs->capital = capital;
    if (!capital || cap < (size_t)years)
        return cs_error_set(CS_EINVAL, "cs_scenario_costs: %d construction years need a capital array of %d", years, years);
    for (int y = 0; y < years; y++) capital[y] = total / years;
    return CS_OK;
}

static cs_status copy_header(const cs_scenario *s, const char *name, cs_scenario *d)
{
    d->name = cs_strdup(name ? name : cs_scenario_name(s));
    d->description = cs_strdup(s ? cs_scenario_description(s) : "");
    d->file = cs_strdup(s && s->file ? s->file : "");
    return d->name && d->description && d->file ? CS_OK : cs_error_set(CS_ENOMEM, "out of memory");
}

cs_status cs_scenario_select(const cs_scenario *s, const uint8_t *keep, const char *name, cs_scenario **out)
{
    *out = NULL;
    if (!s || (!keep && s->n)) return cs_error_set(CS_EINVAL, "cs_scenario_select: bad arguments");
    cs_scenario *d = sc_new();
    if (!d) return CS_ENOMEM;
    cs_status st = copy_header(s, name, d);
    for (size_t k = 0; !st && k < s->n; k++) {
        if (!keep[k]) continue;
        sc_change c;
        st = sc_change_copy(&s->ch[k], &c);
        if (!st) st = sc_push(d, &c);
    }
    if (st) cs_scenario_free(d);
    else *out = d;
    return st;
}

cs_status cs_scenario_merge(const cs_scenario *const *list, size_t n, const char *name, cs_scenario **out)
{
    *out = NULL;
    if (!list && n) return cs_error_set(CS_EINVAL, "cs_scenario_merge: bad arguments");
    cs_scenario *d = sc_new();
    if (!d) return CS_ENOMEM;
    cs_status st = copy_header(n ? list[0] : NULL, name ? name : "merged", d);
    for (size_t q = 0; !st && q < n; q++)
        for (size_t k = 0; !st && list[q] && k < list[q]->n; k++) {
            sc_change c;
            st = sc_change_copy(&list[q]->ch[k], &c);
            if (!st) st = sc_push(d, &c);
        }
    if (st) cs_scenario_free(d);
    else *out = d;
    return st;
}

/* ------------------------------------------------------------ parsing helpers */

static const char *const COMMON_KEYS[] = {"type", "name", "description", "capital_cost", "annual_cost",
                                          "lifetime_years", "construction_years", "note", NULL};
static const char *const *TYPE_KEYS[CS_CHANGE_NTYPES] = {
    (const char *const[]){"edges", "time_factor", "speed_kmh", "surface", NULL},
    (const char *const[]){"edges", NULL},
    (const char *const[]){"proposed", "from", "to", "from_node", "to_node", "geometry", "speed_kmh", "time_min",
                          "length_km", NULL},
    (const char *const[]){"mode", "from", "to", "from_node", "to_node", "geometry", "speed_kmh", "time_min",
                          "length_km", "transfer_min", NULL},
    (const char *const[]){"countries", "factor", NULL},
    (const char *const[]){"cities", "regions", "countries", "factor", NULL},
    (const char *const[]){"cities", "friction_factor", "productivity_factor", NULL},
    (const char *const[]){"city", "radius_min", "factor", NULL},
    (const char *const[]){"cities", "factor", NULL},
    (const char *const[]){"cities", "factor", NULL},
};

static int in_list(const char *k, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(k, *list)) return 1;
    return 0;
}

static void cpath(char *buf, size_t size, const char *base, const char *key)
{
    if (*base) snprintf(buf, size, "%s.%s", base, key);
    else snprintf(buf, size, "%s", key);
}

/* number: absent -> def (NaN def + required -> "missing"); wrong type / out of [lo, hi] -> error */
static double get_num(rd *r, const json_t *o, const char *base, const char *key, double def, double lo, double hi,
                      int required, int lo_open)
{
    char p[512];
    cpath(p, sizeof p, base, key);
    const json_t *v = json_object_get(o, key);
    if (!v) {
        if (required) rd_error(r, base, "missing field '%s'", key);
        return def;
    }
    if (!json_is_number(v)) {
        rd_error(r, p, "'%s' must be a number", key);
        return def;
    }
    double x = json_number_value(v);
    if (!isfinite(x) || x > hi || (lo_open ? x <= lo : x < lo)) {
        rd_error(r, p, "'%s' = %g is out of range (%s%g, %g]", key, x, lo_open ? "(" : "[", lo, hi);
        return def;
    }
    return x;
}

static char *get_str(rd *r, const json_t *o, const char *base, const char *key, int required, int *oom)
{
    char p[512];
    cpath(p, sizeof p, base, key);
    const json_t *v = json_object_get(o, key);
    if (!v) {
        if (required) rd_error(r, base, "missing field '%s'", key);
        return NULL;
    }
    if (!json_is_string(v) || !*json_string_value(v)) {
        rd_error(r, p, "'%s' must be a non-empty string", key);
        return NULL;
    }
    char *s = cs_strdup(json_string_value(v));
    if (!s) *oom = 1;
    return s;
}

static long get_node(rd *r, const json_t *o, const char *base, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!v) return -1;
    char p[512];
    cpath(p, sizeof p, base, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= (json_int_t)UINT32_MAX) {
        rd_error(r, p, "'%s' must be a network node id (integer >= 0)", key);
        return -1;
    }
    return (long)json_integer_value(v);
}

/* array of string ids; returns 0 when absent */
static int get_ids(rd *r, const json_t *o, const char *base, const char *key, sc_change *c, int *oom)
{
    const json_t *a = json_object_get(o, key);
    if (!a) return 0;
    char p[512];
    cpath(p, sizeof p, base, key);
    if (!json_is_array(a) || json_array_size(a) == 0) {
        rd_error(r, p, "'%s' must be a non-empty array of ids", key);
        return 1;
    }
    size_t n = json_array_size(a);
    c->items = cs_calloc(n, sizeof *c->items);
    c->item_line = cs_calloc(n, sizeof *c->item_line);
    c->item_col = cs_calloc(n, sizeof *c->item_col);
    if (!c->items || !c->item_line || !c->item_col) {
        *oom = 1;
        return 1;
    }
    c->items_key = key;
    for (size_t z = 0; z < n; z++) {
        const json_t *e = json_array_get(a, z);
        char ip[600];
        snprintf(ip, sizeof ip, "%s[%zu]", p, z);
        char *id = NULL;
        if (json_is_string(e) && *json_string_value(e)) id = cs_strdup(json_string_value(e));
        else if (json_is_integer(e)) id = cs_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(e));
        else {
            rd_error(r, ip, "expected a string id");
            continue;
        }
        if (!id) {
            *oom = 1;
            return 1;
        }
        locate(r, ip, &c->item_line[c->nitems], &c->item_col[c->nitems]);
        c->items[c->nitems++] = id;
    }
    return 1;
}

/* LineString geometry: {"type":"LineString","coordinates":[[lon,lat],...]} */
static void get_geometry(rd *r, const json_t *g, const char *gpath, sc_change *c, int *oom)
{
    if (!g || json_is_null(g)) return;
    const json_t *t = json_object_get(g, "type"), *co = json_object_get(g, "coordinates");
    if (!json_is_object(g) || !json_is_string(t)) {
        rd_error(r, gpath, "geometry must be a GeoJSON object with a type");
        return;
    }
    if (c->type != CS_CHANGE_BUILD && c->type != CS_CHANGE_LINK) return; /* only drawn, not used */
    if (strcmp(json_string_value(t), "LineString")) {
        rd_error(r, gpath, "a %s change needs a LineString geometry, not %s", cs_change_type_name(c->type),
                 json_string_value(t));
        return;
    }
    size_t n = json_array_size(co);
    if (!json_is_array(co) || n < 2) {
        rd_error(r, gpath, "a LineString needs at least 2 positions");
        return;
    }
    c->glon = cs_mallocarray(n, sizeof *c->glon);
    c->glat = cs_mallocarray(n, sizeof *c->glat);
    if (!c->glon || !c->glat) {
        *oom = 1;
        return;
    }
    for (size_t k = 0; k < n; k++) {
        const json_t *pt = json_array_get(co, k);
        double lon = json_number_value(json_array_get(pt, 0)), lat = json_number_value(json_array_get(pt, 1));
        if (!json_is_array(pt) || json_array_size(pt) < 2 || !json_is_number(json_array_get(pt, 0)) ||
            !json_is_number(json_array_get(pt, 1)) || !(lon >= -180 && lon <= 180) || !(lat >= -90 && lat <= 90)) {
            char pp[600];
            snprintf(pp, sizeof pp, "%s.coordinates[%zu]", gpath, k);
            rd_error(r, pp, "expected a [longitude, latitude] position in degrees");
            cs_free(c->glon);
            cs_free(c->glat);
            c->glon = c->glat = NULL;
            return;
        }
        c->glon[k] = lon;
        c->glat[k] = lat;
    }
    c->npts = n;
}

/* Parse one change object `o` at JSON path `base`; geometry (may be NULL) from a GeoJSON feature. */
static void parse_change(rd *r, const json_t *o, const char *base, const json_t *feature_geom, const char *gpath,
                         cs_scenario *s, int *oom)
{
    if (!json_is_object(o)) {
        rd_error(r, base, "a change must be an object");
        return;
    }
    sc_change c;
    memset(&c, 0, sizeof c);
    c.from_node = c.to_node = -1;
    c.factor = c.time_factor = c.speed_kmh = c.time_min = c.length_km = NAN;
    c.transfer_min[0] = c.transfer_min[1] = 0;
    c.productivity = 1;
    c.radius_min = NAN;
    int e0 = r->errors;
    const json_t *tv = json_object_get(o, "type");
    char tp[512];
    cpath(tp, sizeof tp, base, "type");
    if (!tv) {
        rd_error(r, base, "missing field 'type' (upgrade, close, build, link, border, soft, ict, facility, productivity, amenity)");
        return;
    }
    if (!json_is_string(tv) || cs_change_type_parse(json_string_value(tv), &c.type)) {
        rd_error(r, tp, "unknown change type '%s' (upgrade, close, build, link, border, soft, ict, facility, productivity, amenity)",
                 json_is_string(tv) ? json_string_value(tv) : "?");
        return;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        (void)v;
        if (!in_list(k, COMMON_KEYS) && !in_list(k, TYPE_KEYS[c.type])) {
            char kp[512];
            cpath(kp, sizeof kp, base, k);
            rd_error(r, kp, "unknown key '%s' for a %s change", k, cs_change_type_name(c.type));
        }
    }
    c.name = get_str(r, o, base, "name", 0, oom);
    if (!c.name) c.name = cs_asprintf("%s", cs_change_type_name(c.type));
    c.capital = get_num(r, o, base, "capital_cost", 0, 0, 1e15, 0, 0);
    c.annual = get_num(r, o, base, "annual_cost", 0, 0, 1e15, 0, 0);
    c.lifetime = get_num(r, o, base, "lifetime_years", 30, 1, 200, 0, 0);
    double cy = get_num(r, o, base, "construction_years", 1, 1, 50, 0, 0);
    if (cy != floor(cy)) {
        char kp[512];
        cpath(kp, sizeof kp, base, "construction_years");
        rd_error(r, kp, "'construction_years' must be a whole number");
    }
    c.cons_years = (int)cy;
    c.file = cs_strdup(r->file ? r->file : "");
    char fullp[512];
    full_path(r, base, fullp, sizeof fullp);
    c.path = cs_strdup(fullp);
    locate(r, base, &c.line, &c.col);
    c.obj = json_deep_copy(o);
    if (!c.name || !c.file || !c.path || !c.obj) *oom = 1;
    char gp[512];
    cpath(gp, sizeof gp, base, "geometry");
    const json_t *geom = json_object_get(o, "geometry");
    const char *geom_path = gp;
    if (!geom && feature_geom) {
        geom = feature_geom;
        geom_path = gpath;
    }
    switch (c.type) {
    case CS_CHANGE_UPGRADE:
    case CS_CHANGE_CLOSE:
        if (!get_ids(r, o, base, "edges", &c, oom)) rd_error(r, base, "missing field 'edges' (segment ids of the edge table)");
        if (c.type == CS_CHANGE_UPGRADE) {
            c.time_factor = get_num(r, o, base, "time_factor", NAN, 0, 1, 0, 1);
            c.speed_kmh = get_num(r, o, base, "speed_kmh", NAN, 0, 1000, 0, 1);
            if (isnan(c.time_factor) && isnan(c.speed_kmh) && !json_object_get(o, "time_factor") && !json_object_get(o, "speed_kmh"))
                rd_error(r, base, "an upgrade needs 'time_factor' (0 < f <= 1) or 'speed_kmh' (design speed)");
            const json_t *sf = json_object_get(o, "surface");
            if (sf && !json_is_string(sf)) {
                char kp[512];
                cpath(kp, sizeof kp, base, "surface");
                rd_error(r, kp, "'surface' must be a string");
            }
        }
        break;
    case CS_CHANGE_BUILD:
    case CS_CHANGE_LINK: {
        c.mode = CS_SEG_ROAD;
        if (c.type == CS_CHANGE_LINK) {
            char *m = get_str(r, o, base, "mode", 1, oom);
            if (m) {
                if (!strcmp(m, "rail")) c.mode = CS_SEG_RAIL;
                else if (!strcmp(m, "air")) c.mode = CS_SEG_AIR;
                else if (!strcmp(m, "ferry")) c.mode = CS_SEG_FERRY;
                else {
                    char kp[512];
                    cpath(kp, sizeof kp, base, "mode");
                    rd_error(r, kp, "unknown link mode '%s' (rail, air, ferry)", m);
                }
            }
            cs_free(m);
            const json_t *tr = json_object_get(o, "transfer_min");
            char kp[512];
            cpath(kp, sizeof kp, base, "transfer_min");
            if (json_is_number(tr)) c.transfer_min[0] = c.transfer_min[1] = json_number_value(tr);
            else if (json_is_array(tr) && json_array_size(tr) == 2 && json_is_number(json_array_get(tr, 0)) &&
                     json_is_number(json_array_get(tr, 1))) {
                c.transfer_min[0] = json_number_value(json_array_get(tr, 0));
                c.transfer_min[1] = json_number_value(json_array_get(tr, 1));
            } else if (tr) rd_error(r, kp, "'transfer_min' must be a number or [from, to] minutes");
            for (int e = 0; e < 2; e++)
                if (!(c.transfer_min[e] >= 0 && c.transfer_min[e] <= 10000)) {
                    rd_error(r, kp, "'transfer_min' = %g is out of range [0, 10000]", c.transfer_min[e]);
                    c.transfer_min[e] = 0;
                }
        }
        int has_prop = 0;
        if (c.type == CS_CHANGE_BUILD) {
            const json_t *pr = json_object_get(o, "proposed");
            if (json_is_string(pr) && !strcmp(json_string_value(pr), "all")) {
                c.all = 1;
                has_prop = 1;
                c.items = cs_calloc(1, sizeof *c.items);
                c.item_line = cs_calloc(1, sizeof *c.item_line);
                c.item_col = cs_calloc(1, sizeof *c.item_col);
                if (!c.items || !c.item_line || !c.item_col || !(c.items[0] = cs_strdup("all"))) *oom = 1;
                else c.nitems = 1;
                c.items_key = "proposed";
            } else if (json_is_string(pr)) {
                char kp[512];
                cpath(kp, sizeof kp, base, "proposed");
                rd_error(r, kp, "expected \"all\" or an array of proposed edge ids");
                has_prop = 1;
            } else {
                has_prop = get_ids(r, o, base, "proposed", &c, oom);
            }
        }
        c.from = get_str(r, o, base, "from", 0, oom);
        c.to = get_str(r, o, base, "to", 0, oom);
        c.from_node = get_node(r, o, base, "from_node");
        c.to_node = get_node(r, o, base, "to_node");
        get_geometry(r, geom, geom_path, &c, oom);
        int has_ends = (c.from || c.from_node >= 0) && (c.to || c.to_node >= 0);
        int any_end = c.from || c.to || c.from_node >= 0 || c.to_node >= 0;
        if (c.from && c.from_node >= 0) rd_error(r, base, "give either 'from' (a city id) or 'from_node', not both");
        if (c.to && c.to_node >= 0) rd_error(r, base, "give either 'to' (a city id) or 'to_node', not both");
        int ways = has_prop + (any_end ? 1 : 0) + (c.npts ? 1 : 0);
        if (any_end && !has_ends) rd_error(r, base, "both ends are needed ('from'/'from_node' and 'to'/'to_node')");
        if (ways == 0)
            rd_error(r, base, c.type == CS_CHANGE_BUILD
                                  ? "a build change needs 'proposed' (ids or \"all\"), end points ('from'/'to' or 'from_node'/'to_node') or a LineString geometry"
                                  : "a link needs end points ('from'/'to' city ids or 'from_node'/'to_node') or a LineString geometry");
        if (ways > 1 && !(c.npts && any_end && !has_prop))
            rd_error(r, base, "give only one of 'proposed', end points or a geometry");
        c.speed_kmh = get_num(r, o, base, "speed_kmh", c.type == CS_CHANGE_BUILD ? 80 : NAN, 0, 1200, 0, 1);
        c.time_min = get_num(r, o, base, "time_min", NAN, 0, 1e5, 0, 1);
        c.length_km = get_num(r, o, base, "length_km", NAN, 0, 2e4, 0, 1);
        if (c.type == CS_CHANGE_LINK && isnan(c.time_min) && isnan(c.speed_kmh) && !json_object_get(o, "time_min") &&
            !json_object_get(o, "speed_kmh"))
            rd_error(r, base, "a link needs 'time_min' (in-vehicle time) or 'speed_kmh'");
        break;
    }
    case CS_CHANGE_BORDER:
        if (!get_ids(r, o, base, "countries", &c, oom)) rd_error(r, base, "missing field 'countries' (country codes)");
        else if (c.nitems == 1) rd_error(r, base, "a border change needs at least two countries");
        c.factor = get_num(r, o, base, "factor", NAN, 0, 10, 1, 1);
        break;
    case CS_CHANGE_SOFT: {
        int nk = 0;
        if (json_object_get(o, "cities")) { c.level = SC_LEVEL_CITY; nk++; }
        if (json_object_get(o, "regions")) { c.level = SC_LEVEL_REGION; nk++; }
        if (json_object_get(o, "countries")) { c.level = SC_LEVEL_COUNTRY; nk++; }
        if (nk != 1) rd_error(r, base, "a soft change needs exactly one of 'cities', 'regions' or 'countries'");
        else {
            get_ids(r, o, base, c.level == SC_LEVEL_CITY ? "cities" : c.level == SC_LEVEL_REGION ? "regions" : "countries", &c, oom);
            if (c.nitems == 1) rd_error(r, base, "an agreement needs at least two members");
        }
        c.factor = get_num(r, o, base, "factor", NAN, 0, 10, 1, 1);
        break;
    }
    case CS_CHANGE_ICT:
        if (!get_ids(r, o, base, "cities", &c, oom)) rd_error(r, base, "missing field 'cities' (the connected cities)");
        c.factor = get_num(r, o, base, "friction_factor", 1, 0, 1, 0, 1);
        c.productivity = get_num(r, o, base, "productivity_factor", 1, 1, 2, 0, 0);
        if (!json_object_get(o, "friction_factor") && !json_object_get(o, "productivity_factor"))
            rd_error(r, base, "an ict change needs 'friction_factor' (0 < f <= 1) and/or 'productivity_factor' (1 <= f <= 2)");
        break;
    case CS_CHANGE_FACILITY:
        c.city = get_str(r, o, base, "city", 1, oom);
        c.radius_min = get_num(r, o, base, "radius_min", NAN, 0, 1e5, 1, 1);
        c.factor = get_num(r, o, base, "factor", NAN, 0.1, 10, 1, 0);
        break;
    case CS_CHANGE_PRODUCTIVITY:
    case CS_CHANGE_AMENITY:
        if (!get_ids(r, o, base, "cities", &c, oom)) rd_error(r, base, "missing field 'cities' (city ids)");
        c.factor = get_num(r, o, base, "factor", NAN, 0.1, 10, 1, 0);
        break;
    default: break;
    }
    if (r->errors > e0 || *oom) {
        sc_change_clear(&c);
        return;
    }
    if (sc_push(s, &c)) *oom = 1;
}

static int name_ok(const char *n)
{
    if (!n || !*n || strlen(n) > 40) return 0;
    for (; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '_')) return 0;
    return 1;
}

static char *stem_name(const char *file)
{
    const char *b = file ? strrchr(file, '/') : NULL;
    b = b ? b + 1 : (file ? file : "scenario");
    char *s = cs_strdup(*b ? b : "scenario");
    if (!s) return NULL;
    char *dot = strrchr(s, '.');
    if (dot && dot != s) *dot = 0;
    if (strlen(s) > 40) s[40] = 0;
    for (char *q = s; *q; q++) {
        *q = (char)tolower((unsigned char)*q);
        if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9'))) *q = '_';
    }
    return s;
}

static int read_file_into(rd *r, const char *path, const char *inc_path, cs_scenario *s, int *oom);

static char *dir_of(const char *path)
{
    const char *sl = strrchr(path, '/');
    if (!sl) return cs_strdup(".");
    if (sl == path) return cs_strdup("/");
    return cs_asprintf("%.*s", (int)(sl - path), path);
}

static void parse_root(rd *r, const json_t *root, cs_scenario *s, int top, int *oom)
{
    if (!json_is_object(root)) {
        rd_error(r, "", "a scenario must be a JSON object or a GeoJSON FeatureCollection");
        return;
    }
    const json_t *tv = json_object_get(root, "type");
    int geo = json_is_string(tv) && !strcmp(json_string_value(tv), "FeatureCollection");
    if (tv && !geo) rd_error(r, "type", "a scenario file's top-level 'type' can only be \"FeatureCollection\" (GeoJSON)");
    static const char *const ROOT[] = {"name", "description", "include", "changes", NULL};
    static const char *const GROOT[] = {"type", "name", "description", "include", "features", "crs", "bbox", NULL};
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)root, k, v) {
        (void)v;
        if (!in_list(k, geo ? GROOT : ROOT)) rd_error(r, k, "unknown key '%s' in a scenario%s", k, geo ? " FeatureCollection" : "");
    }
    if (top) {
        const json_t *nm = json_object_get(root, "name");
        if (nm && !(json_is_string(nm) && name_ok(json_string_value(nm))))
            rd_error(r, "name", "a scenario name must be 1-40 characters of a-z, 0-9 and _");
        else if (nm) {
            cs_free(s->name);
            s->name = cs_strdup(json_string_value(nm));
        }
        const json_t *ds = json_object_get(root, "description");
        if (ds && !json_is_string(ds)) rd_error(r, "description", "'description' must be a string");
        else if (ds) {
            cs_free(s->description);
            s->description = cs_strdup(json_string_value(ds));
        }
    }
    /* includes first */
    const json_t *inc = json_object_get(root, "include");
    if (inc && !json_is_array(inc)) rd_error(r, "include", "'include' must be an array of file paths");
    for (size_t q = 0; json_is_array(inc) && q < json_array_size(inc) && !*oom; q++) {
        char ip[64];
        snprintf(ip, sizeof ip, "include[%zu]", q);
        const json_t *e = json_array_get(inc, q);
        if (!json_is_string(e) || !*json_string_value(e)) {
            rd_error(r, ip, "expected a file path");
            continue;
        }
        if (!r->opts->allow_include) {
            rd_error(r, ip, "includes are not allowed here");
            continue;
        }
        if (r->depth + 1 > r->opts->max_include_depth) {
            rd_error(r, ip, "includes nested deeper than %d levels", r->opts->max_include_depth);
            continue;
        }
        const char *rel = json_string_value(e);
        char *p = rel[0] == '/' ? cs_strdup(rel) : cs_asprintf("%s/%s", r->base_dir ? r->base_dir : ".", rel);
        if (!p) {
            *oom = 1;
            break;
        }
        read_file_into(r, p, ip, s, oom);
        cs_free(p);
    }
    if (geo) {
        const json_t *fs = json_object_get(root, "features");
        if (!json_is_array(fs)) {
            rd_error(r, "features", "a FeatureCollection needs a 'features' array");
            return;
        }
        for (size_t q = 0; q < json_array_size(fs) && !*oom; q++) {
            char fp[64], pp[96], gp[96];
            snprintf(fp, sizeof fp, "features[%zu]", q);
            snprintf(pp, sizeof pp, "features[%zu].properties", q);
            snprintf(gp, sizeof gp, "features[%zu].geometry", q);
            const json_t *f = json_array_get(fs, q);
            if (!json_is_object(f) || !json_is_object(json_object_get(f, "properties"))) {
                rd_error(r, fp, "a feature needs a 'properties' object (the change)");
                continue;
            }
            parse_change(r, json_object_get(f, "properties"), pp, json_object_get(f, "geometry"), gp, s, oom);
        }
    } else {
        const json_t *chs = json_object_get(root, "changes");
        if (!chs && !inc) rd_error(r, "", "missing field 'changes' (an array of changes)");
        else if (chs && !json_is_array(chs)) rd_error(r, "changes", "'changes' must be an array of changes");
        for (size_t q = 0; json_is_array(chs) && q < json_array_size(chs) && !*oom; q++) {
            char cp[64];
            snprintf(cp, sizeof cp, "changes[%zu]", q);
            parse_change(r, json_array_get(chs, q), cp, NULL, NULL, s, oom);
        }
    }
}

/* parse text as a scenario (file = its name), adding into s */
static int parse_text_into(rd *r, const char *text, size_t len, const char *file, const char *base_dir, int top,
                           cs_scenario *s, int *oom)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root) {
        r->errors++;
        if (r->diag) cs_diag_add(r->diag, CS_SEV_ERROR, CS_EPARSE, file, je.line, je.column, "", "%s", je.text);
        return 1;
    }
    json_t *map = json_object();
    pscan ps = {(const unsigned char *)text, len, 0, 1, 0, map, 0, 0};
    if (map) ps_value(&ps, "");
    sc_locator loc = {text_locate, map};
    rd sub = *r;
    sub.file = file;
    sub.prefix = "";
    sub.loc = map ? &loc : NULL;
    sub.base_dir = base_dir;
    sub.errors = 0;
    parse_root(&sub, root, s, top, oom);
    r->errors += sub.errors;
    r->stack = sub.stack; /* nested includes may have grown the stack */
    r->nstack = sub.nstack;
    json_decref(map);
    json_decref(root);
    return sub.errors;
}

static int read_file_into(rd *r, const char *path, const char *inc_path, cs_scenario *s, int *oom)
{
    char *canon = realpath(path, NULL);
    if (!canon) {
        if (inc_path) rd_error(r, inc_path, "cannot read included scenario '%s'", path);
        else {
            r->errors++;
            if (r->diag) cs_diag_add(r->diag, CS_SEV_ERROR, CS_EIO, path, 0, 0, "", "cannot read the scenario file");
        }
        return 1;
    }
    for (size_t k = 0; k < r->nstack; k++)
        if (!strcmp(r->stack[k], canon)) {
            char chain[1024] = "";
            size_t used = 0;
            for (size_t q = k; q < r->nstack && used < sizeof chain; q++)
                used += (size_t)snprintf(chain + used, sizeof chain - used, "%s -> ", r->stack[q]);
            rd_error(r, inc_path ? inc_path : "", "include cycle: %s%s", chain, canon);
            free(canon);
            return 1;
        }
    char *text = NULL;
    size_t len = 0;
    if (cs_read_file(path, &text, &len)) {
        if (inc_path) rd_error(r, inc_path, "cannot read included scenario '%s'", path);
        else {
            r->errors++;
            if (r->diag) cs_diag_add(r->diag, CS_SEV_ERROR, CS_EIO, path, 0, 0, "", "cannot read the scenario file");
        }
        free(canon);
        return 1;
    }
    char **ns = cs_reallocarray(r->stack, r->nstack + 1, sizeof *ns);
    char *dir = dir_of(path);
    if (!ns || !dir) {
        *oom = 1;
        if (ns) r->stack = ns;
        cs_free(dir);
        cs_free(text);
        free(canon);
        return 1;
    }
    r->stack = ns;
    r->stack[r->nstack++] = canon;
    r->depth++;
    int e = parse_text_into(r, text, len, path, dir, inc_path == NULL, s, oom);
    r->depth--;
    r->nstack--;
    free(canon);
    cs_free(dir);
    cs_free(text);
    return e;
}

static cs_status finish(rd *r, cs_scenario *s, int oom, cs_scenario **out)
{
    for (size_t k = 0; k < r->nstack; k++) free(r->stack[k]);
    free(r->stack);
    if (!s->name || !*s->name) {
        cs_free(s->name);
        s->name = stem_name(s->file && *s->file ? s->file : "scenario");
    }
    if (!s->description) s->description = cs_strdup("");
    if (oom || !s->name || !s->description) {
        cs_scenario_free(s);
        return cs_error_set(CS_ENOMEM, "out of memory reading a scenario");
    }
    if (r->errors) {
        cs_scenario_free(s);
        return cs_error_set(CS_EPARSE, "the scenario has %d error%s", r->errors, r->errors == 1 ? "" : "s");
    }
    *out = s;
    return CS_OK;
}

cs_status cs_scenario_read(const char *path, const cs_scenario_read_opts *opts, cs_diag *diag, cs_scenario **out)
{
    *out = NULL;
    cs_scenario_read_opts def;
    cs_scenario_read_opts_default(&def);
    rd r = {path, "", NULL, diag, 0, NULL, opts ? opts : &def, 0, NULL, 0};
    cs_scenario *s = sc_new();
    if (!s) return CS_ENOMEM;
    s->file = cs_strdup(path);
    int oom = !s->file;
    if (!oom) read_file_into(&r, path, NULL, s, &oom);
    const cs_diag_item *last = diag && cs_diag_count(diag) ? cs_diag_get(diag, cs_diag_count(diag) - 1) : NULL;
    int io = r.errors == 1 && s->n == 0 && last && last->status == CS_EIO;
    cs_status st = finish(&r, s, oom, out);
    if (st == CS_EPARSE && io) return cs_error_set_at(CS_EIO, path, 0, 0, "cannot read the scenario file");
    return st;
}

cs_status cs_scenario_parse(const char *text, size_t len, const char *file, const char *base_dir,
                            const cs_scenario_read_opts *opts, cs_diag *diag, cs_scenario **out)
{
    *out = NULL;
    cs_scenario_read_opts def;
    cs_scenario_read_opts_default(&def);
    const char *fname = file ? file : "<text>";
    rd r = {fname, "", NULL, diag, 0, base_dir, opts ? opts : &def, 0, NULL, 0};
    cs_scenario *s = sc_new();
    if (!s) return CS_ENOMEM;
    s->file = cs_strdup(file ? file : "");
    int oom = !s->file;
    if (!oom && text) parse_text_into(&r, text, len, fname, base_dir ? base_dir : ".", 1, s, &oom);
    else if (!text) rd_error(&r, "", "no text");
    return finish(&r, s, oom, out);
}

int cs_scenario_from_json_(const json_t *root, const char *file, const char *prefix, const sc_locator *loc,
                           const char *base_dir, const cs_scenario_read_opts *opts, cs_diag *diag, cs_scenario **out)
{
    *out = NULL;
    cs_scenario_read_opts def;
    cs_scenario_read_opts_default(&def);
    rd r = {file ? file : "", prefix ? prefix : "", loc, diag, 0, base_dir, opts ? opts : &def, 0, NULL, 0};
    cs_scenario *s = sc_new();
    if (!s) return 1;
    s->file = cs_strdup(file ? file : "");
    int oom = !s->file;
    if (!oom) parse_root(&r, root, s, 1, &oom);
    int errors = r.errors;
    if (finish(&r, s, oom, out)) return errors ? errors : 1;
    return 0;
}

/* ------------------------------------------------------------ JSON out */

char *cs_scenario_to_json(const cs_scenario *s)
{
    if (!s) return NULL;
    json_t *root = json_pack("{s:s,s:s}", "name", cs_scenario_name(s), "description", cs_scenario_description(s));
    json_t *arr = json_array();
    if (!root || !arr) {
        json_decref(root);
        json_decref(arr);
        return NULL;
    }
    for (size_t k = 0; k < s->n; k++) {
        const sc_change *c = &s->ch[k];
        json_t *o = c->obj ? json_deep_copy(c->obj) : json_object();
        if (!o) continue;
        json_object_set_new(o, "type", json_string(cs_change_type_name(c->type)));
        json_object_set_new(o, "name", json_string(c->name ? c->name : ""));
        json_object_set_new(o, "capital_cost", json_real(c->capital));
        json_object_set_new(o, "annual_cost", json_real(c->annual));
        if (c->nitems && c->items_key && !c->all) {
            json_t *ids = json_array();
            for (size_t z = 0; ids && z < c->nitems; z++) json_array_append_new(ids, json_string(c->items[z]));
            json_object_set_new(o, c->items_key, ids);
        }
        if (c->npts && !json_object_get(o, "geometry")) {
            json_t *co = json_array();
            for (size_t z = 0; co && z < c->npts; z++) json_array_append_new(co, json_pack("[f,f]", c->glon[z], c->glat[z]));
            json_object_set_new(o, "geometry", json_pack("{s:s,s:o}", "type", "LineString", "coordinates", co));
        }
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "changes", arr);
    char *txt = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!txt) return NULL;
    char *out = cs_strdup(txt);
    free(txt);
    return out;
}

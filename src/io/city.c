/*
 * city.c: the city and link tables (construction, lookup, totals) and mode names.
 *
 * cs_cities_find keeps a hash index in a private block allocated together with
 * the public struct by cs_cities_new. Tables built by hand (e.g. on the stack
 * in tests) have no such block, so the private part is used only for tables
 * found in a registry of live cs_cities_new objects (a fixed array: no
 * allocation); others, and tables beyond the registry's size, are searched
 * linearly. The index is built on the first lookup and rebuilt when n or the
 * id array changed (ids edited in place are not detected).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/city.h"
#include "io/io_internal.h"

typedef struct cities_impl {
    cs_cities pub; /* must be first */
    uint32_t *slots; /* open addressing: city index + 1, 0 = empty */
    size_t nslots;
    size_t indexed_n;
    char **indexed_ids;
    int indexed;
} cities_impl;

#define REG_MAX 1024
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static cities_impl *reg[REG_MAX];
static size_t nreg;

static void reg_add(cities_impl *ci)
{
    pthread_mutex_lock(&reg_mu);
    if (nreg < REG_MAX) reg[nreg++] = ci;
    pthread_mutex_unlock(&reg_mu);
}

static void reg_remove(cities_impl *ci)
{
    pthread_mutex_lock(&reg_mu);
    for (size_t i = 0; i < nreg; i++)
        if (reg[i] == ci) {
            reg[i] = reg[--nreg];
            break;
        }
    pthread_mutex_unlock(&reg_mu);
}

/* Caller holds reg_mu. */
static int reg_has(const cs_cities *c)
{
    for (size_t i = 0; i < nreg; i++)
        if (&reg[i]->pub == c) return 1;
    return 0;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

cs_status cs_cities_new(size_t cap, cs_cities **out)
{
    *out = NULL;
    cities_impl *ci = cs_calloc(1, sizeof *ci);
    if (!ci) return CS_ENOMEM;
    cs_cities *c = &ci->pub;
    size_t k = cap ? cap : 1;
    c->id = cs_calloc(k, sizeof *c->id);
    c->name = cs_calloc(k, sizeof *c->name);
    c->lon = cs_calloc(k, sizeof *c->lon);
    c->lat = cs_calloc(k, sizeof *c->lat);
    c->population = cs_calloc(k, sizeof *c->population);
    c->source_line = cs_calloc(k, sizeof *c->source_line);
    if (!c->id || !c->name || !c->lon || !c->lat || !c->population || !c->source_line) {
        cs_cities_free(c);
        return CS_ENOMEM;
    }
    reg_add(ci);
    *out = c;
    return CS_OK;
}

static void free_strs(char **s, size_t n)
{
    if (!s) return;
    for (size_t i = 0; i < n; i++) cs_free(s[i]);
    cs_free(s);
}

void cs_cities_free(cs_cities *c)
{
    if (!c) return;
    cities_impl *ci = (cities_impl *)c;
    size_t n = c->n;
    free_strs(c->id, n);
    free_strs(c->name, n);
    cs_free(c->lon);
    cs_free(c->lat);
    cs_free(c->population);
    cs_free(c->gdp);
    cs_free(c->gdp_per_head);
    cs_free(c->employment);
    free_strs(c->region, n);
    free_strs(c->country, n);
    for (size_t k = 0; k < c->extra.ncols; k++) {
        if (c->extra.names) cs_free(c->extra.names[k]);
        if (c->extra.values) free_strs(c->extra.values[k], n);
    }
    cs_free(c->extra.names);
    cs_free(c->extra.values);
    cs_free(c->source);
    cs_free(c->source_line);
    reg_remove(ci);
    cs_free(ci->slots);
    cs_free(ci);
}

static int build_index(cities_impl *ci)
{
    const cs_cities *c = &ci->pub;
    size_t ns = 16;
    while (ns < c->n * 2 + 2) ns *= 2;
    uint32_t *sl = cs_calloc(ns, sizeof *sl);
    if (!sl) return -1;
    for (size_t i = 0; i < c->n; i++) {
        if (!c->id[i]) continue;
        size_t h = (size_t)hash_str(c->id[i]) & (ns - 1);
        for (;;) {
            if (!sl[h]) {
                sl[h] = (uint32_t)i + 1;
                break;
            }
            if (!strcmp(c->id[sl[h] - 1], c->id[i])) break; /* keep the first of duplicates */
            h = (h + 1) & (ns - 1);
        }
    }
    cs_free(ci->slots);
    ci->slots = sl;
    ci->nslots = ns;
    ci->indexed_n = c->n;
    ci->indexed_ids = c->id;
    ci->indexed = 1;
    return 0;
}

static uint32_t find_linear(const cs_cities *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->id[i] && !strcmp(c->id[i], id)) return (uint32_t)i;
    return CS_INVALID_ID;
}

uint32_t cs_cities_find(const cs_cities *c, const char *id)
{
    if (!c || !id) return CS_INVALID_ID;
    pthread_mutex_lock(&reg_mu);
    if (!reg_has(c)) {
        pthread_mutex_unlock(&reg_mu);
        return find_linear(c, id);
    }
    cities_impl *ci = (cities_impl *)(uintptr_t)c;
    if (!ci->indexed || ci->indexed_n != c->n || ci->indexed_ids != c->id) {
        cs_error saved = *cs_error_last();
        if (build_index(ci)) { /* no memory: linear scan, and the caller's last error kept */
            pthread_mutex_unlock(&reg_mu);
            if (saved.status == CS_OK) cs_error_clear();
            else {
                cs_error_set_at(saved.status, saved.file, saved.line, saved.column, "%s", saved.message);
                cs_error_set_object("%s", saved.object);
            }
            return find_linear(c, id);
        }
    }
    uint32_t found = CS_INVALID_ID;
    size_t h = (size_t)hash_str(id) & (ci->nslots - 1);
    while (ci->slots[h]) {
        uint32_t i = ci->slots[h] - 1;
        if (!strcmp(c->id[i], id)) {
            found = i;
            break;
        }
        h = (h + 1) & (ci->nslots - 1);
    }
    pthread_mutex_unlock(&reg_mu);
    return found;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y)) return isnan(x) - isnan(y); /* NaN last (they are skipped) */
    return (x > y) - (x < y);
}

static double neumaier(const double *v, size_t n)
{
    double s = 0, comp = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i])) continue;
        double t = s + v[i];
        if (fabs(s) >= fabs(v[i])) comp += (s - t) + v[i];
        else comp += (v[i] - t) + s;
        s = t;
    }
    return s + comp;
}

double cs_cities_total_population(const cs_cities *c)
{
    if (!c || !c->n) return 0;
    /* Compensated (Neumaier) sum over the values in sorted order: the total is bitwise the same whatever the
     * row order (shuffled inputs give identical totals), and accurate to the last bit in practice. */
    cs_error saved = *cs_error_last();
    double *v = cs_mallocarray(c->n, sizeof *v);
    if (!v) { /* leave the caller's last error as it was; the unsorted sum is still accurate */
        if (saved.status == CS_OK) cs_error_clear();
        else {
            cs_error_set_at(saved.status, saved.file, saved.line, saved.column, "%s", saved.message);
            cs_error_set_object("%s", saved.object);
        }
        return neumaier(c->population, c->n);
    }
    memcpy(v, c->population, c->n * sizeof *v);
    qsort(v, c->n, sizeof *v, cmp_double);
    double s = neumaier(v, c->n);
    cs_free(v);
    return s;
}

/* ---- links ---- */
cs_status cs_links_new(size_t cap, cs_links **out)
{
    *out = NULL;
    cs_links *l = cs_calloc(1, sizeof *l);
    if (!l) return CS_ENOMEM;
    size_t k = cap ? cap : 1;
    l->id = cs_calloc(k, sizeof *l->id);
    l->from = cs_calloc(k, sizeof *l->from);
    l->to = cs_calloc(k, sizeof *l->to);
    l->mode = cs_calloc(k, sizeof *l->mode);
    l->time_s = cs_calloc(k, sizeof *l->time_s);
    l->distance_m = cs_calloc(k, sizeof *l->distance_m);
    l->cost = cs_calloc(k, sizeof *l->cost);
    l->capacity = cs_calloc(k, sizeof *l->capacity);
    l->friction = cs_calloc(k, sizeof *l->friction);
    l->directed = cs_calloc(k, sizeof *l->directed);
    if (!l->id || !l->from || !l->to || !l->mode || !l->time_s || !l->distance_m || !l->cost || !l->capacity ||
        !l->friction || !l->directed) {
        cs_links_free(l);
        return CS_ENOMEM;
    }
    *out = l;
    return CS_OK;
}

void cs_links_free(cs_links *l)
{
    if (!l) return;
    free_strs(l->id, l->n);
    cs_free(l->from);
    cs_free(l->to);
    cs_free(l->mode);
    cs_free(l->time_s);
    cs_free(l->distance_m);
    cs_free(l->cost);
    cs_free(l->capacity);
    cs_free(l->friction);
    cs_free(l->directed);
    for (size_t k = 0; k < l->extra.ncols; k++) {
        if (l->extra.names) cs_free(l->extra.names[k]);
        if (l->extra.values) free_strs(l->extra.values[k], l->n);
    }
    cs_free(l->extra.names);
    cs_free(l->extra.values);
    cs_free(l);
}

static const char *const mode_names[CS_MODE_COUNT] = {"road", "rail", "air", "water", "ict", "energy", "soft"};

const char *cs_mode_name(cs_mode m) { return (unsigned)m < CS_MODE_COUNT ? mode_names[m] : "unknown"; }

cs_status cs_mode_parse(const char *s, cs_mode *out)
{
    static const struct {
        const char *name;
        cs_mode m;
    } alias[] = {{"road", CS_MODE_ROAD},   {"highway", CS_MODE_ROAD},  {"car", CS_MODE_ROAD},
                 {"truck", CS_MODE_ROAD},  {"rail", CS_MODE_RAIL},     {"railway", CS_MODE_RAIL},
                 {"train", CS_MODE_RAIL},  {"air", CS_MODE_AIR},       {"flight", CS_MODE_AIR},
                 {"water", CS_MODE_WATER}, {"ferry", CS_MODE_WATER},   {"sea", CS_MODE_WATER},
                 {"river", CS_MODE_WATER}, {"inland_water", CS_MODE_WATER}, {"ict", CS_MODE_ICT},
                 {"broadband", CS_MODE_ICT}, {"telecom", CS_MODE_ICT}, {"energy", CS_MODE_ENERGY},
                 {"power", CS_MODE_ENERGY}, {"electricity", CS_MODE_ENERGY}, {"soft", CS_MODE_SOFT}};
    if (!s) return cs_error_set(CS_EINVAL, "no mode given");
    while (*s == ' ') s++;
    char buf[32];
    size_t L = strlen(s);
    while (L && s[L - 1] == ' ') L--;
    if (L >= sizeof buf) L = sizeof buf - 1;
    memcpy(buf, s, L);
    buf[L] = 0;
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (io_strieq(buf, alias[i].name)) {
            *out = alias[i].m;
            return CS_OK;
        }
    return cs_error_set(CS_EINVAL, "unknown mode '%s' (expected road, rail, air, water, ict, energy or soft)", buf);
}

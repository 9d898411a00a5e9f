/*
 * profile.c: car profiles as data (JSON through jansson) and the tag rules
 * that turn an OSM way into speeds per direction. Rules and sources:
 * docs/network.md.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "citysys/alloc.h"
#include "citysys/fileio.h"
#include "citysys/osm.h"

/* A string -> number table. */
typedef struct {
    size_t n;
    char **key;
    double *val;
} numtab;

/* A per-tag-key table of value -> number (caps, factors). */
typedef struct {
    size_t n;
    char **tag;
    numtab *tab;
} tagtab;

typedef struct {
    size_t n;
    char **s;
} strlist;

struct cs_profile {
    char *name;
    char *canonical;
    uint32_t n_classes; /* highway classes + ferry */
    char **class_names;
    double *class_kmh;  /* highway classes only (n_classes - 1) */
    double ferry_kmh;
    double maxspeed_factor;
    numtab maxspeed_implicit;
    tagtab caps, factors;
    strlist access_tags, access_deny;
    strlist oneway_hw, oneway_junction;
    tagtab exclude; /* tag -> values (numbers ignored) */
    int reversible_exclude;
};

static void numtab_free(numtab *t)
{
    for (size_t i = 0; i < t->n; i++) cs_free(t->key[i]);
    cs_free(t->key);
    cs_free(t->val);
}
static void tagtab_free(tagtab *t)
{
    for (size_t i = 0; i < t->n; i++) {
        cs_free(t->tag[i]);
        numtab_free(&t->tab[i]);
    }
    cs_free(t->tag);
    cs_free(t->tab);
}
static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++) cs_free(l->s[i]);
    cs_free(l->s);
}

void cs_profile_free(cs_profile *p)
{
    if (!p) return;
    cs_free(p->name);
    free(p->canonical); /* from jansson's allocator */
    for (uint32_t i = 0; i < p->n_classes; i++) cs_free(p->class_names[i]);
    cs_free(p->class_names);
    cs_free(p->class_kmh);
    numtab_free(&p->maxspeed_implicit);
    tagtab_free(&p->caps);
    tagtab_free(&p->factors);
    strlist_free(&p->access_tags);
    strlist_free(&p->access_deny);
    strlist_free(&p->oneway_hw);
    strlist_free(&p->oneway_junction);
    tagtab_free(&p->exclude);
    cs_free(p);
}

const char *cs_profile_name(const cs_profile *p) { return p ? p->name : NULL; }
uint32_t cs_profile_n_classes(const cs_profile *p) { return p ? p->n_classes : 0; }
const char *cs_profile_class_name(const cs_profile *p, uint32_t i)
{
    return p && i < p->n_classes ? p->class_names[i] : NULL;
}
const char *cs_profile_canonical(const cs_profile *p) { return p ? p->canonical : NULL; }

/* ------------------------------------------------------------ JSON reading */

static cs_status perr(const char *name, const char *path, const char *what)
{
    return cs_error_set_at(CS_EPARSE, name, 0, 0, "profile key '%s': %s", path, what);
}

static cs_status read_numtab(const char *name, const char *path, json_t *o, double lo, double hi, numtab *t,
                             int lower)
{
    if (!json_is_object(o)) return perr(name, path, "expected an object of numbers");
    size_t n = json_object_size(o);
    t->key = cs_calloc(n + 1, sizeof *t->key);
    t->val = cs_calloc(n + 1, sizeof *t->val);
    if (!t->key || !t->val) return CS_ENOMEM;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (!json_is_number(v)) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s.%s", path, k);
            return perr(name, buf, "expected a number");
        }
        double d = json_number_value(v);
        if (!(d >= lo && d <= hi)) {
            char buf[512], msg[128];
            snprintf(buf, sizeof buf, "%s.%s", path, k);
            snprintf(msg, sizeof msg, "value %g out of range [%g, %g]", d, lo, hi);
            return perr(name, buf, msg);
        }
        char *kk = cs_strdup(k);
        if (!kk) return CS_ENOMEM;
        if (lower)
            for (char *c = kk; *c; c++) *c = (char)tolower((unsigned char)*c);
        t->key[t->n] = kk;
        t->val[t->n] = d;
        t->n++;
    }
    return CS_OK;
}

static cs_status read_tagtab(const char *name, const char *path, json_t *o, double lo, double hi, tagtab *t)
{
    if (!json_is_object(o)) return perr(name, path, "expected an object {tag: {value: number}}");
    size_t n = json_object_size(o);
    t->tag = cs_calloc(n + 1, sizeof *t->tag);
    t->tab = cs_calloc(n + 1, sizeof *t->tab);
    if (!t->tag || !t->tab) return CS_ENOMEM;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        char buf[512];
        snprintf(buf, sizeof buf, "%s.%s", path, k);
        if (!(t->tag[t->n] = cs_strdup(k))) return CS_ENOMEM;
        t->n++;
        cs_status st = read_numtab(name, buf, v, lo, hi, &t->tab[t->n - 1], 0);
        if (st) return st;
    }
    return CS_OK;
}

static cs_status read_strlist(const char *name, const char *path, json_t *a, strlist *l)
{
    if (!json_is_array(a)) return perr(name, path, "expected an array of strings");
    size_t n = json_array_size(a);
    l->s = cs_calloc(n + 1, sizeof *l->s);
    if (!l->s) return CS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_string(v)) return perr(name, path, "expected an array of strings");
        if (!(l->s[l->n] = cs_strdup(json_string_value(v)))) return CS_ENOMEM;
        l->n++;
    }
    return CS_OK;
}

/* exclude: {"area": ["yes"], ...} stored as tagtab with dummy values */
static cs_status read_exclude(const char *name, json_t *o, tagtab *t)
{
    if (!json_is_object(o)) return perr(name, "exclude", "expected an object {tag: [values]}");
    size_t n = json_object_size(o);
    t->tag = cs_calloc(n + 1, sizeof *t->tag);
    t->tab = cs_calloc(n + 1, sizeof *t->tab);
    if (!t->tag || !t->tab) return CS_ENOMEM;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        char buf[512];
        snprintf(buf, sizeof buf, "exclude.%s", k);
        if (!(t->tag[t->n] = cs_strdup(k))) return CS_ENOMEM;
        t->n++;
        strlist l = {0};
        cs_status st = read_strlist(name, buf, v, &l);
        numtab *nt = &t->tab[t->n - 1];
        nt->key = l.s;
        nt->n = l.n;
        nt->val = cs_calloc(l.n + 1, sizeof(double));
        if (!st && !nt->val) st = CS_ENOMEM;
        if (st) return st;
    }
    return CS_OK;
}

cs_status cs_profile_parse(const char *json, size_t len, const char *name, cs_profile **out)
{
    if (!json || !out) return cs_error_set(CS_EINVAL, "cs_profile_parse: NULL argument");
    if (!name) name = "profile";
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) return cs_error_set_at(CS_EPARSE, name, je.line, je.column, "invalid JSON: %s", je.text);
    cs_status st = CS_ENOMEM;
    cs_profile *p = cs_calloc(1, sizeof *p);
    if (!p) goto fail;
    p->maxspeed_factor = 1.0;
    p->reversible_exclude = 1;
    if (!json_is_object(root)) {
        st = perr(name, "(root)", "expected an object");
        goto fail;
    }
    static const char *known[] = {"name", "description", "source", "highway_speeds_kmh", "ferry_speed_kmh",
                                  "maxspeed_factor", "maxspeed_implicit_kmh", "caps_kmh", "factors",
                                  "access_tags", "access_deny", "oneway_implied_highway",
                                  "oneway_implied_junction", "reversible", "exclude", NULL};
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        int ok = 0;
        for (int i = 0; known[i]; i++) ok |= !strcmp(k, known[i]);
        if (!ok) {
            st = perr(name, k, "unknown key (see docs/network.md)");
            goto fail;
        }
    }
    json_t *jn = json_object_get(root, "name");
    if (!json_is_string(jn)) {
        st = perr(name, "name", "required string");
        goto fail;
    }
    if (!(p->name = cs_strdup(json_string_value(jn)))) goto fail;
    json_t *hs = json_object_get(root, "highway_speeds_kmh");
    numtab hw = {0};
    if (!hs) {
        st = perr(name, "highway_speeds_kmh", "required object");
        goto fail;
    }
    st = read_numtab(name, "highway_speeds_kmh", hs, 0.1, 400, &hw, 0);
    if (!st && hw.n > 255) st = perr(name, "highway_speeds_kmh", "at most 255 classes");
    if (!st && hw.n == 0) st = perr(name, "highway_speeds_kmh", "needs at least one class");
    if (st) {
        numtab_free(&hw);
        goto fail;
    }
    p->n_classes = (uint32_t)hw.n + 1;
    p->class_names = cs_calloc(p->n_classes, sizeof *p->class_names);
    p->class_kmh = hw.val;
    if (!p->class_names) {
        for (size_t i = 0; i < hw.n; i++) cs_free(hw.key[i]);
        cs_free(hw.key);
        p->n_classes = 0;
        st = CS_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < hw.n; i++) p->class_names[i] = hw.key[i];
    cs_free(hw.key);
    for (size_t i = 0; i < hw.n; i++)
        if (!strcmp(p->class_names[i], "ferry")) {
            st = perr(name, "highway_speeds_kmh.ferry", "'ferry' is reserved for route=ferry (ferry_speed_kmh)");
            goto fail;
        }
    if (!(p->class_names[hw.n] = cs_strdup("ferry"))) {
        st = CS_ENOMEM;
        goto fail;
    }
    st = CS_OK;
    json_t *x;
    p->ferry_kmh = 5;
    if ((x = json_object_get(root, "ferry_speed_kmh"))) {
        if (!json_is_number(x) || !(json_number_value(x) > 0)) {
            st = perr(name, "ferry_speed_kmh", "expected a positive number");
            goto fail;
        }
        p->ferry_kmh = json_number_value(x);
    }
    if ((x = json_object_get(root, "maxspeed_factor"))) {
        if (!json_is_number(x) || !(json_number_value(x) > 0 && json_number_value(x) <= 2)) {
            st = perr(name, "maxspeed_factor", "expected a number in (0, 2]");
            goto fail;
        }
        p->maxspeed_factor = json_number_value(x);
    }
    if ((x = json_object_get(root, "maxspeed_implicit_kmh")) &&
        (st = read_numtab(name, "maxspeed_implicit_kmh", x, 0, 400, &p->maxspeed_implicit, 1)))
        goto fail;
    if ((x = json_object_get(root, "caps_kmh")) && (st = read_tagtab(name, "caps_kmh", x, 0, 400, &p->caps)))
        goto fail;
    if ((x = json_object_get(root, "factors")) && (st = read_tagtab(name, "factors", x, 0, 2, &p->factors)))
        goto fail;
    if ((x = json_object_get(root, "access_tags")) && (st = read_strlist(name, "access_tags", x, &p->access_tags)))
        goto fail;
    if ((x = json_object_get(root, "access_deny")) && (st = read_strlist(name, "access_deny", x, &p->access_deny)))
        goto fail;
    if ((x = json_object_get(root, "oneway_implied_highway")) &&
        (st = read_strlist(name, "oneway_implied_highway", x, &p->oneway_hw)))
        goto fail;
    if ((x = json_object_get(root, "oneway_implied_junction")) &&
        (st = read_strlist(name, "oneway_implied_junction", x, &p->oneway_junction)))
        goto fail;
    if ((x = json_object_get(root, "exclude")) && (st = read_exclude(name, x, &p->exclude))) goto fail;
    if ((x = json_object_get(root, "reversible"))) {
        const char *s = json_is_string(x) ? json_string_value(x) : "";
        if (!strcmp(s, "exclude")) p->reversible_exclude = 1;
        else if (!strcmp(s, "both")) p->reversible_exclude = 0;
        else {
            st = perr(name, "reversible", "expected \"exclude\" or \"both\"");
            goto fail;
        }
    }
    p->canonical = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
    if (!p->canonical) {
        st = cs_error_set(CS_ENOMEM, "out of memory (profile canonical form)");
        goto fail;
    }
    json_decref(root);
    *out = p;
    return CS_OK;
fail:
    if (st == CS_ENOMEM && cs_error_last()->status != CS_ENOMEM) cs_error_set(CS_ENOMEM, "out of memory");
    json_decref(root);
    cs_profile_free(p);
    return st;
}

cs_status cs_profile_load(const char *path, cs_profile **out)
{
    if (!path || !out) return cs_error_set(CS_EINVAL, "cs_profile_load: NULL argument");
    char *data = NULL;
    size_t n = 0;
    cs_status st = cs_read_file(path, &data, &n);
    if (st) return st;
    st = cs_profile_parse(data, n, path, out);
    cs_free(data);
    return st;
}

static int file_exists(const char *p) { return access(p, R_OK) == 0; }

cs_status cs_profile_find(const char *arg, char **path)
{
    if (!arg || !path || !*arg) return cs_error_set(CS_EINVAL, "cs_profile_find: empty profile name");
    if (file_exists(arg)) {
        *path = cs_strdup(arg);
        return *path ? CS_OK : CS_ENOMEM;
    }
    if (strchr(arg, '/')) return cs_error_set(CS_ENOTFOUND, "profile file '%s' not found", arg);
    char exe[4096] = "";
    ssize_t r = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (r > 0) {
        exe[r] = 0;
        char *sl = strrchr(exe, '/');
        if (sl) *sl = 0;
    }
    const char *env = getenv("CITYSYS_PROFILES");
    const char *src = getenv("CS_SRC_DIR");
    char *cand[6] = {0};
    int nc = 0;
    if (env) cand[nc++] = cs_asprintf("%s/%s.json", env, arg);
    if (*exe) cand[nc++] = cs_asprintf("%s/../share/citysys/profiles/%s.json", exe, arg);
    if (src) cand[nc++] = cs_asprintf("%s/share/profiles/%s.json", src, arg);
    if (*exe) cand[nc++] = cs_asprintf("%s/../share/profiles/%s.json", exe, arg);
    cs_status st = CS_ENOTFOUND;
    for (int i = 0; i < nc; i++) {
        if (!cand[i]) {
            st = CS_ENOMEM;
            break;
        }
        if (file_exists(cand[i])) {
            *path = cand[i];
            cand[i] = NULL;
            st = CS_OK;
            break;
        }
    }
    if (st == CS_ENOTFOUND)
        cs_error_set(CS_ENOTFOUND,
                     "profile '%s' not found (not a file; looked for %s.json in $CITYSYS_PROFILES, "
                     "<bin>/../share/citysys/profiles, $CS_SRC_DIR/share/profiles, <bin>/../share/profiles)",
                     arg, arg);
    for (int i = 0; i < nc; i++) cs_free(cand[i]);
    return st;
}

/* ------------------------------------------------------------- tag rules */

static const char *tag(const char *const *k, const char *const *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(k[i], key)) return v[i];
    return NULL;
}

static int in_list(const strlist *l, const char *s)
{
    if (!s) return 0;
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->s[i], s)) return 1;
    return 0;
}

static const double *numtab_get(const numtab *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->key[i], key)) return &t->val[i];
    return NULL;
}

double cs_parse_duration_s(const char *s)
{
    if (!s) return NAN;
    while (isspace((unsigned char)*s)) s++;
    if (!*s) return NAN;
    if (s[0] == 'P' || s[0] == 'p') {
        /* ISO 8601 duration PnDTnHnMnS (no years/months: ambiguous lengths) */
        const char *c = s + 1;
        int in_time = 0, any = 0;
        double total = 0;
        while (*c) {
            if (*c == 'T' || *c == 't') {
                in_time = 1;
                c++;
                continue;
            }
            char *end;
            errno = 0;
            double v = strtod(c, &end);
            if (end == c || errno || v < 0) return NAN;
            char u = (char)toupper((unsigned char)*end);
            if (u == 'D' && !in_time) total += v * 86400;
            else if (u == 'W' && !in_time) total += v * 604800;
            else if (u == 'H' && in_time) total += v * 3600;
            else if (u == 'M' && in_time) total += v * 60;
            else if (u == 'S' && in_time) total += v;
            else return NAN;
            any = 1;
            c = end + 1;
        }
        return any ? total : NAN;
    }
    /* hh:mm[:ss] or plain minutes */
    double part[3];
    int np = 0;
    const char *c = s;
    for (;;) {
        char *end;
        errno = 0;
        if (!isdigit((unsigned char)*c) && *c != '.') return NAN;
        double v = strtod(c, &end);
        if (end == c || errno || v < 0) return NAN;
        part[np++] = v;
        c = end;
        while (isspace((unsigned char)*c)) c++;
        if (*c == ':' && np < 3) {
            c++;
            continue;
        }
        break;
    }
    if (*c) return NAN;
    if (np == 1) return part[0] * 60;
    if (np == 2) return part[0] * 3600 + part[1] * 60;
    return part[0] * 3600 + part[1] * 60 + part[2];
}

/* one maxspeed token (no '|' or ';'); 0 when not understood */
static double maxspeed_token(const cs_profile *p, const char *s, size_t len)
{
    char buf[64];
    while (len && isspace((unsigned char)*s)) s++, len--;
    while (len && isspace((unsigned char)s[len - 1])) len--;
    if (!len || len >= sizeof buf) return 0;
    for (size_t i = 0; i < len; i++) buf[i] = (char)tolower((unsigned char)s[i]);
    buf[len] = 0;
    if (isdigit((unsigned char)buf[0])) {
        char *end;
        double v = strtod(buf, &end);
        while (*end == ' ') end++;
        if (!*end || !strcmp(end, "km/h") || !strcmp(end, "kmh") || !strcmp(end, "kph")) return v;
        if (!strcmp(end, "mph")) return v * 1.609344;
        if (!strcmp(end, "knots") || !strcmp(end, "knot") || !strcmp(end, "kn")) return v * 1.852;
        return 0;
    }
    if (!p) return 0;
    const double *d = numtab_get(&p->maxspeed_implicit, buf);
    if (d) return *d;
    const char *colon = strchr(buf, ':');
    if (colon && (d = numtab_get(&p->maxspeed_implicit, colon + 1))) return *d;
    return 0;
}

double cs_profile_maxspeed(const cs_profile *p, const char *value)
{
    if (!value) return 0;
    double best = 0;
    const char *s = value;
    for (;;) {
        size_t n = strcspn(s, "|;");
        double v = maxspeed_token(p, s, n);
        if (v > best) best = v;
        if (!s[n]) break;
        s += n + 1;
    }
    return best;
}

cs_status cs_profile_way(const cs_profile *p, const char *const *k, const char *const *v, size_t n, cs_way_attr *out)
{
    if (!p || !out || (n && (!k || !v))) return cs_error_set(CS_EINVAL, "cs_profile_way: NULL argument");
    memset(out, 0, sizeof *out);
    out->duration_s = NAN;
    const char *route = tag(k, v, n, "route");
    const char *hw = tag(k, v, n, "highway");
    int ferry = route && !strcmp(route, "ferry");
    int cls = -1;
    if (ferry) cls = (int)p->n_classes - 1;
    else if (hw)
        for (uint32_t i = 0; i + 1 < p->n_classes; i++)
            if (!strcmp(hw, p->class_names[i])) {
                cls = (int)i;
                break;
            }
    if (cls < 0) return CS_OK;
    /* exclusions */
    for (size_t i = 0; i < p->exclude.n; i++) {
        const char *val = tag(k, v, n, p->exclude.tag[i]);
        if (val && numtab_get(&p->exclude.tab[i], val)) return CS_OK;
    }
    /* access: the first tag of the hierarchy present decides */
    for (size_t i = 0; i < p->access_tags.n; i++) {
        const char *val = tag(k, v, n, p->access_tags.s[i]);
        if (val) {
            if (in_list(&p->access_deny, val)) return CS_OK;
            break;
        }
    }
    /* direction */
    int fwd = 1, bwd = 1;
    const char *ow = tag(k, v, n, "oneway");
    if (ow && (!strcmp(ow, "yes") || !strcmp(ow, "true") || !strcmp(ow, "1"))) bwd = 0;
    else if (ow && (!strcmp(ow, "-1") || !strcmp(ow, "reverse"))) fwd = 0;
    else if (ow && (!strcmp(ow, "reversible") || !strcmp(ow, "alternating"))) {
        if (p->reversible_exclude) return CS_OK;
    } else if (ow && (!strcmp(ow, "no") || !strcmp(ow, "false") || !strcmp(ow, "0"))) {
        /* explicitly both ways: no implied oneway */
    } else if (!ferry && (in_list(&p->oneway_hw, hw) || in_list(&p->oneway_junction, tag(k, v, n, "junction")))) {
        bwd = 0;
    }
    double sp_f, sp_b;
    if (ferry) {
        sp_f = sp_b = p->ferry_kmh;
        out->duration_s = cs_parse_duration_s(tag(k, v, n, "duration"));
        if (!(out->duration_s > 0)) out->duration_s = NAN;
        out->mode = CS_SEG_FERRY;
    } else {
        sp_f = sp_b = p->class_kmh[cls];
        /* as OSRM (WayHandlers.maxspeed): an advisory speed, when tagged, comes before the legal limit */
        double ms = cs_profile_maxspeed(p, tag(k, v, n, "maxspeed:advisory"));
        if (!(ms > 0)) ms = cs_profile_maxspeed(p, tag(k, v, n, "maxspeed"));
        if (!(ms > 0)) ms = cs_profile_maxspeed(p, tag(k, v, n, "maxspeed:lanes"));
        double mf = cs_profile_maxspeed(p, tag(k, v, n, "maxspeed:forward"));
        double mb = cs_profile_maxspeed(p, tag(k, v, n, "maxspeed:backward"));
        if (!(mf > 0)) mf = cs_profile_maxspeed(p, tag(k, v, n, "maxspeed:lanes:forward"));
        if (!(mb > 0)) mb = cs_profile_maxspeed(p, tag(k, v, n, "maxspeed:lanes:backward"));
        if (!(mf > 0)) mf = ms;
        if (!(mb > 0)) mb = ms;
        if (mf > 0) sp_f = mf * p->maxspeed_factor;
        if (mb > 0) sp_b = mb * p->maxspeed_factor;
        for (size_t i = 0; i < p->caps.n; i++) {
            const char *val = tag(k, v, n, p->caps.tag[i]);
            const double *c = val ? numtab_get(&p->caps.tab[i], val) : NULL;
            if (c) {
                if (*c < sp_f) sp_f = *c;
                if (*c < sp_b) sp_b = *c;
            }
        }
        for (size_t i = 0; i < p->factors.n; i++) {
            const char *val = tag(k, v, n, p->factors.tag[i]);
            const double *c = val ? numtab_get(&p->factors.tab[i], val) : NULL;
            if (c) {
                sp_f *= *c;
                sp_b *= *c;
            }
        }
        out->mode = CS_SEG_ROAD;
    }
    out->fwd_kmh = fwd && sp_f > 0 ? sp_f : 0;
    out->bwd_kmh = bwd && sp_b > 0 ? sp_b : 0;
    out->cls = (uint8_t)cls;
    out->routable = out->fwd_kmh > 0 || out->bwd_kmh > 0;
    return CS_OK;
}

/*
 * project.c: the project file (docs/project-file.md).
 *
 * jansson parses the document (with JSON_REJECT_DUPLICATES) but keeps no
 * position per value, so a second pass re-scans the raw text with a small
 * tokenizer of our own that records the line and column of every key and
 * value under its key path ("cities.joins[0].path"). Schema errors are then
 * located through that table. Columns count characters, as jansson does.
 */
#include <ctype.h>
#include <math.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "citysys/alloc.h"
#include "citysys/project.h"

/* ---------------------------------------------------------------- positions */

typedef struct pos_ent {
    char *path;
    long kline, kcol; /* key (0 for array elements and the root) */
    long vline, vcol; /* value */
} pos_ent;

typedef struct scanner {
    const unsigned char *s;
    size_t n, i;
    long line, col; /* col = characters consumed on this line */
    pos_ent *ents;
    size_t nents, cap;
    int depth;
    int fail;
} scanner;

static void sc_adv(scanner *sc)
{
    if (sc->i >= sc->n) return;
    unsigned char c = sc->s[sc->i++];
    if (c == '\n') {
        sc->line++;
        sc->col = 0;
    } else if ((c & 0xC0) != 0x80) {
        sc->col++;
    }
}
static int sc_peek(const scanner *sc) { return sc->i < sc->n ? sc->s[sc->i] : -1; }
static void sc_ws(scanner *sc)
{
    while (sc->i < sc->n && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t' || sc->s[sc->i] == '\n' || sc->s[sc->i] == '\r'))
        sc_adv(sc);
}

static int sc_record(scanner *sc, char *path, long kl, long kc, long vl, long vc)
{
    if (sc->nents == sc->cap) {
        size_t nc = sc->cap ? 2 * sc->cap : 64;
        pos_ent *e = cs_reallocarray(sc->ents, nc, sizeof *e);
        if (!e) {
            cs_free(path);
            return -1;
        }
        sc->ents = e;
        sc->cap = nc;
    }
    sc->ents[sc->nents++] = (pos_ent){path, kl, kc, vl, vc};
    return 0;
}

static void put_utf8(char *out, size_t *k, unsigned long cp)
{
    if (cp < 0x80) {
        out[(*k)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*k)++] = (char)(0xC0 | (cp >> 6));
        out[(*k)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*k)++] = (char)(0xE0 | (cp >> 12));
        out[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*k)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*k)++] = (char)(0xF0 | (cp >> 18));
        out[(*k)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*k)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static long hex4(const unsigned char *p, size_t avail)
{
    if (avail < 4) return -1;
    long v = 0;
    for (int j = 0; j < 4; j++) {
        int c = p[j], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Scan a string at sc->i (on the opening quote); returns the decoded text (owned) or NULL. */
static char *sc_string(scanner *sc)
{
    if (sc_peek(sc) != '"') return NULL;
    sc_adv(sc);
    size_t start = sc->i;
    while (sc->i < sc->n && sc->s[sc->i] != '"') {
        if (sc->s[sc->i] == '\\') sc_adv(sc);
        sc_adv(sc);
    }
    if (sc->i >= sc->n) return NULL;
    size_t end = sc->i;
    sc_adv(sc); /* closing quote */
    char *out = cs_malloc(end - start + 1);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t j = start; j < end; j++) {
        unsigned char c = sc->s[j];
        if (c != '\\' || j + 1 >= end) {
            out[k++] = (char)c;
            continue;
        }
        c = sc->s[++j];
        switch (c) {
        case 'b': out[k++] = '\b'; break;
        case 'f': out[k++] = '\f'; break;
        case 'n': out[k++] = '\n'; break;
        case 'r': out[k++] = '\r'; break;
        case 't': out[k++] = '\t'; break;
        case 'u': {
            long cp = hex4(sc->s + j + 1, end - j - 1);
            if (cp < 0) {
                out[k++] = 'u';
                break;
            }
            j += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && j + 6 < end && sc->s[j + 1] == '\\' && sc->s[j + 2] == 'u') {
                long lo = hex4(sc->s + j + 3, end - j - 3);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    j += 6;
                }
            }
            /* \uXXXX never takes more bytes than its 6 source characters */
            put_utf8(out, &k, (unsigned long)cp);
            break;
        }
        default: out[k++] = (char)c; break;
        }
    }
    out[k] = 0;
    return out;
}

static void sc_value(scanner *sc, const char *path, long kl, long kc);

static char *join_path(const char *prefix, const char *key)
{
    return *prefix ? cs_asprintf("%s.%s", prefix, key) : cs_strdup(key);
}

static void sc_value(scanner *sc, const char *path, long kl, long kc)
{
    if (sc->fail) return;
    sc_ws(sc);
    long vl = sc->line, vc = sc->col + 1;
    char *p = cs_strdup(path);
    if (!p || sc_record(sc, p, kl, kc, vl, vc)) {
        sc->fail = 1;
        return;
    }
    int c = sc_peek(sc);
    if (c == '{' || c == '[') {
        if (++sc->depth > 4096) {
            sc->fail = 1;
            return;
        }
        sc_adv(sc);
        size_t idx = 0;
        for (;;) {
            sc_ws(sc);
            int d = sc_peek(sc);
            if (d < 0) {
                sc->fail = 1;
                return;
            }
            if (d == (c == '{' ? '}' : ']')) {
                sc_adv(sc);
                break;
            }
            if (d == ',') {
                sc_adv(sc);
                continue;
            }
            char *child;
            long ckl = 0, ckc = 0;
            if (c == '{') {
                ckl = sc->line;
                ckc = sc->col + 1;
                char *key = sc_string(sc);
                if (!key) {
                    sc->fail = 1;
                    return;
                }
                child = join_path(path, key);
                cs_free(key);
                sc_ws(sc);
                if (sc_peek(sc) != ':') {
                    cs_free(child);
                    sc->fail = 1;
                    return;
                }
                sc_adv(sc);
            } else {
                child = cs_asprintf("%s[%zu]", path, idx++);
            }
            if (!child) {
                sc->fail = 1;
                return;
            }
            sc_value(sc, child, ckl, ckc);
            cs_free(child);
            if (sc->fail) return;
        }
        sc->depth--;
    } else if (c == '"') {
        char *s = sc_string(sc);
        if (!s) sc->fail = 1;
        cs_free(s);
    } else {
        /* number, true, false, null */
        while (sc->i < sc->n) {
            int d = sc->s[sc->i];
            if (d == ',' || d == '}' || d == ']' || d == ' ' || d == '\t' || d == '\n' || d == '\r') break;
            sc_adv(sc);
        }
    }
}

/* ------------------------------------------------------------------ project */

#define MAX_FORMATS 3

struct cs_project {
    char *path, *dir, *name;
    json_t *root;
    pos_ent *pos;
    size_t npos;
    /* owned strings and arrays freed with the project */
    void **owned;
    size_t nowned, capowned;
    char *cities_path;
    cs_city_read_opts ropts;
    cs_city_join *joins;
    cs_city_fields *join_fields;
    cs_project_links *links;
    size_t nlinks;
    cs_vector_format formats[MAX_FORMATS];
    size_t nformats;
    cs_project_input *inputs;
    size_t ninputs, capinputs;
};

static int own(cs_project *p, void *ptr)
{
    if (!ptr) return -1;
    if (p->nowned == p->capowned) {
        size_t nc = p->capowned ? 2 * p->capowned : 32;
        void **o = cs_reallocarray(p->owned, nc, sizeof *o);
        if (!o) {
            cs_free(ptr);
            return -1;
        }
        p->owned = o;
        p->capowned = nc;
    }
    p->owned[p->nowned++] = ptr;
    return 0;
}

void cs_project_free(cs_project *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->nowned; i++) cs_free(p->owned[i]);
    cs_free(p->owned);
    for (size_t i = 0; i < p->npos; i++) cs_free(p->pos[i].path);
    cs_free(p->pos);
    if (p->root) json_decref(p->root);
    cs_free(p->path);
    cs_free(p->dir);
    cs_free(p->name);
    cs_free(p->cities_path);
    cs_free(p->joins);
    cs_free(p->join_fields);
    cs_free(p->links);
    cs_free(p->inputs);
    cs_free(p);
}

const char *cs_project_path(const cs_project *p) { return p->path; }
const char *cs_project_dir(const cs_project *p) { return p->dir; }
const char *cs_project_name(const cs_project *p) { return p->name; }
const char *cs_project_description(const cs_project *p)
{
    const char *s = json_string_value(json_object_get(p->root, "description"));
    return s ? s : "";
}
const char *cs_project_cities_path(const cs_project *p) { return p->cities_path; }
const cs_city_read_opts *cs_project_city_read_opts(const cs_project *p) { return &p->ropts; }
size_t cs_project_nlinks(const cs_project *p) { return p->nlinks; }
const cs_project_links *cs_project_link(const cs_project *p, size_t i) { return i < p->nlinks ? &p->links[i] : NULL; }
const cs_vector_format *cs_project_output_formats(const cs_project *p, size_t *n)
{
    *n = p->nformats;
    return p->formats;
}
const struct json_t *cs_project_section(const cs_project *p, const char *name)
{
    return json_object_get(p->root, name);
}
size_t cs_project_ninputs(const cs_project *p) { return p->ninputs; }
const cs_project_input *cs_project_input_at(const cs_project *p, size_t i)
{
    return i < p->ninputs ? &p->inputs[i] : NULL;
}

const char *cs_project_format_ext(cs_vector_format f)
{
    switch (f) {
    case CS_FORMAT_GPKG: return "gpkg";
    case CS_FORMAT_GEOJSON: return "geojson";
    case CS_FORMAT_CSV: return "csv";
    default: return "";
    }
}

cs_status cs_project_locate(const cs_project *p, const char *keypath, int of_key, long *line, long *column)
{
    *line = *column = 0;
    if (!keypath) keypath = "";
    for (size_t i = 0; i < p->npos; i++) {
        if (strcmp(p->pos[i].path, keypath)) continue;
        if (of_key && p->pos[i].kline) {
            *line = p->pos[i].kline;
            *column = p->pos[i].kcol;
        } else {
            *line = p->pos[i].vline;
            *column = p->pos[i].vcol;
        }
        return CS_OK;
    }
    return CS_ENOTFOUND;
}

static cs_status vdiag_at(const cs_project *p, cs_diag *diag, cs_severity sev, cs_status status,
                          const char *keypath, int of_key, const char *fmt, va_list ap)
{
    long line = 0, col = 0;
    /* fall back to the nearest enclosing path that exists */
    char buf[512];
    snprintf(buf, sizeof buf, "%s", keypath ? keypath : "");
    while (cs_project_locate(p, buf, of_key, &line, &col) != CS_OK && buf[0]) {
        char *dot = strrchr(buf, '.'), *br = strrchr(buf, '[');
        char *cut = dot > br ? dot : br;
        if (cut) *cut = 0;
        else buf[0] = 0;
        of_key = 0;
    }
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (sev == CS_SEV_ERROR) {
        cs_error_set_at(status, p->path, line, col, "%s", msg);
        if (keypath && *keypath) cs_error_set_object("%s", keypath);
    }
    if (diag) cs_diag_add(diag, sev, status, p->path, line, col, keypath ? keypath : "", "%s", msg);
    return status;
}

cs_status cs_project_diag_at(const cs_project *p, cs_diag *diag, cs_severity sev, cs_status status,
                             const char *keypath, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag_at(p, diag, sev, status, keypath, 0, fmt, ap);
    va_end(ap);
    return status;
}

/* ------------------------------------------------------------ validation */

typedef enum kkind { K_STR, K_INT, K_NUM, K_BOOL, K_FILE, K_OBJ, K_ARR_STR, K_ARR_OBJ, K_SECTION } kkind;
typedef struct keydef {
    const char *name;
    kkind kind;
    int required;
    const struct keydef *sub;
} keydef;

static const keydef city_field_keys[] = {
    {"id", K_STR, 0, NULL},         {"name", K_STR, 0, NULL},       {"lon", K_STR, 0, NULL},
    {"lat", K_STR, 0, NULL},        {"population", K_STR, 0, NULL}, {"gdp", K_STR, 0, NULL},
    {"gdp_per_head", K_STR, 0, NULL}, {"employment", K_STR, 0, NULL}, {"region", K_STR, 0, NULL},
    {"country", K_STR, 0, NULL},    {NULL, 0, 0, NULL}};
static const keydef join_keys[] = {
    {"path", K_FILE, 1, NULL},       {"layer", K_STR, 0, NULL},    {"left_key", K_STR, 1, NULL},
    {"right_key", K_STR, 1, NULL},   {"columns", K_ARR_STR, 0, NULL}, {"fields", K_OBJ, 0, city_field_keys},
    {NULL, 0, 0, NULL}};
static const keydef cities_keys[] = {
    {"path", K_FILE, 1, NULL},     {"layer", K_STR, 0, NULL},  {"encoding", K_STR, 0, NULL},
    {"max_errors", K_INT, 0, NULL}, {"fields", K_OBJ, 0, city_field_keys}, {"joins", K_ARR_OBJ, 0, join_keys},
    {NULL, 0, 0, NULL}};
static const keydef link_field_keys[] = {
    {"id", K_STR, 0, NULL},       {"from", K_STR, 0, NULL},     {"to", K_STR, 0, NULL},
    {"mode", K_STR, 0, NULL},     {"time", K_STR, 0, NULL},     {"distance", K_STR, 0, NULL},
    {"cost", K_STR, 0, NULL},     {"capacity", K_STR, 0, NULL}, {"friction", K_STR, 0, NULL},
    {"directed", K_STR, 0, NULL}, {"time_unit_s", K_NUM, 0, NULL}, {NULL, 0, 0, NULL}};
static const keydef links_keys[] = {
    {"path", K_FILE, 1, NULL}, {"fields", K_OBJ, 0, link_field_keys}, {NULL, 0, 0, NULL}};
static const keydef outputs_keys[] = {{"formats", K_ARR_STR, 0, NULL}, {NULL, 0, 0, NULL}};
static const keydef top_keys[] = {
    {"$schema", K_STR, 0, NULL},          {"schema_version", K_INT, 1, NULL}, {"name", K_STR, 0, NULL},
    {"description", K_STR, 0, NULL},      {"cities", K_OBJ, 1, cities_keys},  {"links", K_ARR_OBJ, 0, links_keys},
    {"outputs", K_OBJ, 0, outputs_keys},  {"network", K_SECTION, 0, NULL},    {"matrix", K_SECTION, 0, NULL},
    {"indicators", K_SECTION, 0, NULL},   {"typology", K_SECTION, 0, NULL},   {"scenarios", K_SECTION, 0, NULL},
    {"simulate", K_SECTION, 0, NULL},     {"facilities", K_SECTION, 0, NULL}, {"portfolio", K_SECTION, 0, NULL},
    {"report", K_SECTION, 0, NULL},       {"flows", K_SECTION, 0, NULL},        {NULL, 0, 0, NULL}};

typedef struct vctx {
    cs_project *p;
    cs_diag *diag;
    unsigned flags;
    size_t nerr;
    int oom;
} vctx;

static void verr(vctx *v, const char *keypath, int of_key, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void verr(vctx *v, const char *keypath, int of_key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag_at(v->p, v->diag, CS_SEV_ERROR, CS_EPARSE, keypath, of_key, fmt, ap);
    va_end(ap);
    v->nerr++;
}

static const char *type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return 99;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            prev = cur;
        }
    }
    return row[lb];
}

static void add_input(vctx *v, const char *keypath, const char *given)
{
    cs_project *p = v->p;
    if (p->ninputs == p->capinputs) {
        size_t nc = p->capinputs ? 2 * p->capinputs : 8;
        cs_project_input *n = cs_reallocarray(p->inputs, nc, sizeof *n);
        if (!n) {
            v->oom = 1;
            return;
        }
        p->inputs = n;
        p->capinputs = nc;
    }
    char *kp = cs_strdup(keypath);
    if (own(p, kp)) {
        v->oom = 1;
        return;
    }
    size_t L = strcspn(kp, ".[");
    char *sec = cs_strndup(kp, L);
    if (own(p, sec)) {
        v->oom = 1;
        return;
    }
    char *res = cs_project_resolve(p, given);
    if (own(p, res)) {
        v->oom = 1;
        return;
    }
    p->inputs[p->ninputs++] = (cs_project_input){kp, sec, given, res};
    if (v->flags & CS_PROJECT_NO_FILE_CHECK) return;
    struct stat sb;
    if (!*given) {
        verr(v, keypath, 0, "empty file name");
    } else if (stat(res, &sb) != 0) {
        verr(v, keypath, 0, "input file '%s' not found%s%s%s (%s)", given, strcmp(res, given) ? " (looked for '" : "",
             strcmp(res, given) ? res : "", strcmp(res, given) ? "')" : "", strerror(errno));
    } else if (access(res, R_OK) != 0) {
        verr(v, keypath, 0, "input file '%s' is not readable (%s)", given, strerror(errno));
    }
}

static int is_path_key(const char *k)
{
    size_t L = strlen(k);
    return !strcmp(k, "path") || (L > 5 && !strcmp(k + L - 5, "_path"));
}

/* Reserved sections: free content, but every "path"/"*_path" string is an input file. */
static void scan_section(vctx *v, json_t *j, const char *path)
{
    if (json_is_object(j)) {
        const char *k;
        json_t *c;
        json_object_foreach(j, k, c) {
            char *cp = join_path(path, k);
            if (!cp) {
                v->oom = 1;
                return;
            }
            if (is_path_key(k)) {
                if (json_is_string(c)) add_input(v, cp, json_string_value(c));
                else verr(v, cp, 0, "expected a file name (string), got %s", type_name(c));
            } else {
                scan_section(v, c, cp);
            }
            cs_free(cp);
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *c;
        json_array_foreach(j, i, c) {
            char *cp = cs_asprintf("%s[%zu]", path, i);
            if (!cp) {
                v->oom = 1;
                return;
            }
            scan_section(v, c, cp);
            cs_free(cp);
        }
    }
}

static void check_obj(vctx *v, json_t *obj, const keydef *defs, const char *path);

static void check_value(vctx *v, json_t *c, const keydef *d, const char *cp)
{
    switch (d->kind) {
    case K_STR:
        if (!json_is_string(c)) verr(v, cp, 0, "expected a string, got %s", type_name(c));
        break;
    case K_FILE:
        if (!json_is_string(c)) verr(v, cp, 0, "expected a file name (string), got %s", type_name(c));
        else add_input(v, cp, json_string_value(c));
        break;
    case K_INT:
        if (!json_is_integer(c)) verr(v, cp, 0, "expected an integer, got %s", type_name(c));
        break;
    case K_NUM:
        if (!json_is_number(c)) verr(v, cp, 0, "expected a number, got %s", type_name(c));
        break;
    case K_BOOL:
        if (!json_is_boolean(c)) verr(v, cp, 0, "expected true or false, got %s", type_name(c));
        break;
    case K_OBJ:
        if (!json_is_object(c)) verr(v, cp, 0, "expected an object, got %s", type_name(c));
        else check_obj(v, c, d->sub, cp);
        break;
    case K_SECTION:
        if (!json_is_object(c)) verr(v, cp, 0, "expected an object, got %s", type_name(c));
        else scan_section(v, c, cp);
        break;
    case K_ARR_STR:
    case K_ARR_OBJ:
        if (!json_is_array(c)) {
            verr(v, cp, 0, "expected an array, got %s", type_name(c));
            break;
        }
        size_t i;
        json_t *e;
        json_array_foreach(c, i, e) {
            char *ep = cs_asprintf("%s[%zu]", cp, i);
            if (!ep) {
                v->oom = 1;
                return;
            }
            if (d->kind == K_ARR_STR) {
                if (!json_is_string(e)) verr(v, ep, 0, "expected a string, got %s", type_name(e));
            } else if (!json_is_object(e)) {
                verr(v, ep, 0, "expected an object, got %s", type_name(e));
            } else {
                check_obj(v, e, d->sub, ep);
            }
            cs_free(ep);
        }
        break;
    }
}

static void check_obj(vctx *v, json_t *obj, const keydef *defs, const char *path)
{
    const char *k;
    json_t *c;
    json_object_foreach(obj, k, c) {
        if (v->oom) return;
        char *cp = join_path(path, k);
        if (!cp) {
            v->oom = 1;
            return;
        }
        const keydef *d = NULL;
        for (const keydef *q = defs; q->name; q++)
            if (!strcmp(q->name, k)) d = q;
        if (!d) {
            const keydef *best = NULL;
            size_t bd = 99;
            for (const keydef *q = defs; q->name; q++) {
                size_t e = edit_distance(k, q->name);
                if (e < bd) {
                    bd = e;
                    best = q;
                }
            }
            if (best && bd <= 2 && bd < strlen(k))
                verr(v, cp, 1, "unknown key '%s'; did you mean '%s'?", k, best->name);
            else
                verr(v, cp, 1, "unknown key '%s' (see docs/project-file.md)", k);
        } else {
            check_value(v, c, d, cp);
        }
        cs_free(cp);
    }
    for (const keydef *q = defs; q->name; q++) {
        if (q->required && !json_object_get(obj, q->name)) {
            char *cp = join_path(path, q->name);
            if (!cp) {
                v->oom = 1;
                return;
            }
            if (*path) verr(v, path, 0, "missing required key '%s'", q->name);
            else verr(v, "", 0, "missing required key '%s'", q->name);
            cs_free(cp);
        }
    }
}

/* ------------------------------------------------------------ build */

char *cs_project_resolve(const cs_project *p, const char *rel)
{
    if (!rel) return NULL;
    if (rel[0] == '/' || !strcmp(p->dir, ".") || !*p->dir) return cs_strdup(rel);
    /* keep GDAL virtual paths (/vsizip/...) unchanged: they start with '/' anyway */
    return cs_asprintf("%s/%s", p->dir, rel);
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void fill_city_fields(json_t *f, cs_city_fields *cf)
{
    memset(cf, 0, sizeof *cf);
    if (!f) return;
    cf->id = jstr(f, "id");
    cf->name = jstr(f, "name");
    cf->lon = jstr(f, "lon");
    cf->lat = jstr(f, "lat");
    cf->population = jstr(f, "population");
    cf->gdp = jstr(f, "gdp");
    cf->gdp_per_head = jstr(f, "gdp_per_head");
    cf->employment = jstr(f, "employment");
    cf->region = jstr(f, "region");
    cf->country = jstr(f, "country");
}

static const char *input_path(const cs_project *p, const char *keypath)
{
    for (size_t i = 0; i < p->ninputs; i++)
        if (!strcmp(p->inputs[i].keypath, keypath)) return p->inputs[i].path;
    return NULL;
}

static cs_status build(vctx *v)
{
    cs_project *p = v->p;
    json_t *root = p->root;
    /* name */
    const char *nm = jstr(root, "name");
    if (nm) {
        p->name = cs_strdup(nm);
    } else {
        const char *b = strrchr(p->path, '/');
        b = b ? b + 1 : p->path;
        if (!strcmp(b, "project.json") && strcmp(p->dir, ".")) {
            const char *db = strrchr(p->dir, '/');
            p->name = cs_strdup(db ? db + 1 : p->dir);
        } else {
            size_t L = strlen(b);
            if (L > 5 && !strcmp(b + L - 5, ".json")) L -= 5;
            p->name = cs_strndup(b, L);
        }
    }
    if (!p->name) return CS_ENOMEM;
    /* cities */
    json_t *cities = json_object_get(root, "cities");
    p->cities_path = cs_strdup(input_path(p, "cities.path"));
    if (!p->cities_path) return CS_ENOMEM;
    cs_city_read_opts *o = &p->ropts;
    memset(o, 0, sizeof *o);
    o->layer = jstr(cities, "layer");
    o->encoding = jstr(cities, "encoding");
    json_t *me = json_object_get(cities, "max_errors");
    if (me) o->max_errors = (int)json_integer_value(me);
    fill_city_fields(json_object_get(cities, "fields"), &o->fields);
    json_t *joins = json_object_get(cities, "joins");
    size_t nj = json_array_size(joins);
    if (nj) {
        p->joins = cs_calloc(nj, sizeof *p->joins);
        p->join_fields = cs_calloc(nj, sizeof *p->join_fields);
        if (!p->joins || !p->join_fields) return CS_ENOMEM;
        for (size_t i = 0; i < nj; i++) {
            json_t *j = json_array_get(joins, i);
            char kp[64];
            snprintf(kp, sizeof kp, "cities.joins[%zu].path", i);
            cs_city_join *cj = &p->joins[i];
            cj->path = input_path(p, kp);
            cj->layer = jstr(j, "layer");
            cj->left_key = jstr(j, "left_key");
            cj->right_key = jstr(j, "right_key");
            json_t *cols = json_object_get(j, "columns");
            if (cols) {
                size_t nc = json_array_size(cols);
                const char **arr = cs_calloc(nc + 1, sizeof *arr);
                if (own(p, (void *)arr)) return CS_ENOMEM;
                for (size_t c = 0; c < nc; c++) arr[c] = json_string_value(json_array_get(cols, c));
                cj->columns = arr;
            }
            json_t *f = json_object_get(j, "fields");
            if (f) {
                fill_city_fields(f, &p->join_fields[i]);
                cj->fields = &p->join_fields[i];
            }
        }
        o->joins = p->joins;
        o->njoins = nj;
    }
    /* links */
    json_t *links = json_object_get(root, "links");
    p->nlinks = json_array_size(links);
    if (p->nlinks) {
        p->links = cs_calloc(p->nlinks, sizeof *p->links);
        if (!p->links) return CS_ENOMEM;
        for (size_t i = 0; i < p->nlinks; i++) {
            json_t *l = json_array_get(links, i);
            char kp[64];
            snprintf(kp, sizeof kp, "links[%zu].path", i);
            cs_project_links *pl = &p->links[i];
            pl->path = input_path(p, kp);
            json_t *f = json_object_get(l, "fields");
            cs_link_fields *lf = &pl->fields;
            lf->id = jstr(f, "id");
            lf->from = jstr(f, "from");
            lf->to = jstr(f, "to");
            lf->mode = jstr(f, "mode");
            lf->time = jstr(f, "time");
            lf->distance = jstr(f, "distance");
            lf->cost = jstr(f, "cost");
            lf->capacity = jstr(f, "capacity");
            lf->friction = jstr(f, "friction");
            lf->directed = jstr(f, "directed");
            json_t *tu = json_object_get(f, "time_unit_s");
            lf->time_unit_s = tu ? json_number_value(tu) : 0.0; /* 0: the reader infers it from the column name */
        }
    }
    return CS_OK;
}

/* checks that need more than types: schema version, formats, value ranges */
static void check_values(vctx *v)
{
    json_t *root = v->p->root;
    json_t *sv = json_object_get(root, "schema_version");
    if (json_is_integer(sv)) {
        json_int_t n = json_integer_value(sv);
        if (n > CS_PROJECT_SCHEMA_VERSION)
            verr(v, "schema_version", 0,
                 "schema_version %lld is newer than this citysys reads (%d); upgrade citysys",
                 (long long)n, CS_PROJECT_SCHEMA_VERSION);
        else if (n < 1)
            verr(v, "schema_version", 0, "schema_version must be %d, got %lld", CS_PROJECT_SCHEMA_VERSION,
                 (long long)n);
    }
    json_t *me = json_object_get(json_object_get(root, "cities"), "max_errors");
    if (json_is_integer(me) && (json_integer_value(me) < 0 || json_integer_value(me) > 1000000))
        verr(v, "cities.max_errors", 0, "max_errors must be between 0 and 1000000");
    json_t *links = json_object_get(root, "links");
    for (size_t i = 0; i < json_array_size(links); i++) {
        json_t *tu = json_object_get(json_object_get(json_array_get(links, i), "fields"), "time_unit_s");
        if (json_is_number(tu) && !(json_number_value(tu) > 0)) {
            char kp[80];
            snprintf(kp, sizeof kp, "links[%zu].fields.time_unit_s", i);
            verr(v, kp, 0, "time_unit_s must be positive (seconds per unit of the time column)");
        }
    }
    cs_project *p = v->p;
    json_t *fm = json_object_get(json_object_get(root, "outputs"), "formats");
    if (!json_is_array(fm)) {
        p->formats[0] = CS_FORMAT_GPKG;
        p->formats[1] = CS_FORMAT_CSV;
        p->nformats = 2;
        return;
    }
    p->nformats = 0;
    for (size_t i = 0; i < json_array_size(fm); i++) {
        const char *s = json_string_value(json_array_get(fm, i));
        if (!s) continue;
        cs_vector_format f = CS_FORMAT_AUTO;
        if (!strcmp(s, "gpkg")) f = CS_FORMAT_GPKG;
        else if (!strcmp(s, "csv")) f = CS_FORMAT_CSV;
        else if (!strcmp(s, "geojson")) f = CS_FORMAT_GEOJSON;
        char kp[64];
        snprintf(kp, sizeof kp, "outputs.formats[%zu]", i);
        if (f == CS_FORMAT_AUTO) {
            verr(v, kp, 0, "unknown output format '%s' (expected \"gpkg\", \"csv\" or \"geojson\")", s);
            continue;
        }
        int dup = 0;
        for (size_t k = 0; k < p->nformats; k++) dup |= p->formats[k] == f;
        if (!dup && p->nformats < MAX_FORMATS) p->formats[p->nformats++] = f;
    }
}

static char *dir_of(const char *path)
{
    const char *s = strrchr(path, '/');
    if (!s) return cs_strdup(".");
    if (s == path) return cs_strdup("/");
    return cs_strndup(path, (size_t)(s - path));
}

cs_status cs_project_parse(const char *text, size_t len, const char *path, unsigned flags, cs_diag *diag,
                           cs_project **out)
{
    *out = NULL;
    if (!path) path = "project.json";
    cs_project *p = cs_calloc(1, sizeof *p);
    if (!p) return CS_ENOMEM;
    p->path = cs_strdup(path);
    p->dir = dir_of(path);
    if (!p->path || !p->dir) {
        cs_project_free(p);
        return CS_ENOMEM;
    }
    json_error_t je;
    p->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!p->root) {
        /* jansson counts lines from 1 and columns in characters; column 0 means "start of the line" */
        long line = je.line > 0 ? je.line : 1, col = je.column > 0 ? je.column : 1;
        cs_status st = cs_error_set_at(CS_EPARSE, path, line, col, "invalid JSON: %s", je.text);
        if (diag) cs_diag_add(diag, CS_SEV_ERROR, CS_EPARSE, path, line, col, "", "invalid JSON: %s", je.text);
        cs_project_free(p);
        return st;
    }
    scanner sc = {(const unsigned char *)text, len, 0, 1, 0, NULL, 0, 0, 0, 0};
    sc_value(&sc, "", 0, 0);
    p->pos = sc.ents;
    p->npos = sc.nents;
    if (sc.fail && sc.nents == 0) {
        cs_project_free(p);
        return CS_ENOMEM;
    }
    vctx v = {p, diag, flags, 0, 0};
    if (!json_is_object(p->root)) {
        verr(&v, "", 0, "a project file is a JSON object ({...}), got %s", type_name(p->root));
    } else {
        check_obj(&v, p->root, top_keys, "");
        check_values(&v);
    }
    if (v.oom) {
        cs_project_free(p);
        return cs_error_set(CS_ENOMEM, "out of memory reading the project file");
    }
    if (v.nerr) {
        /* the last error should name the first problem */
        if (diag) {
            for (size_t i = 0; i < cs_diag_count(diag); i++) {
                const cs_diag_item *it = cs_diag_get(diag, i);
                if (it->severity != CS_SEV_ERROR || strcmp(it->file, path)) continue;
                cs_error_set_at(CS_EPARSE, it->file, it->line, it->column, "%s", it->message);
                if (it->object && *it->object) cs_error_set_object("%s", it->object);
                break;
            }
        }
        cs_project_free(p);
        return CS_EPARSE;
    }
    cs_status st = build(&v);
    if (st) {
        cs_project_free(p);
        return st == CS_ENOMEM ? cs_error_set(CS_ENOMEM, "out of memory reading the project file") : st;
    }
    *out = p;
    return CS_OK;
}

cs_status cs_project_load(const char *path, cs_diag *diag, cs_project **out)
{
    *out = NULL;
    if (!path || !*path) return cs_error_set(CS_EINVAL, "no project file given");
    char *text = NULL;
    size_t n = 0;
    cs_status st = cs_read_file(path, &text, &n);
    if (st) {
        if (diag) cs_diag_add_last(diag, CS_SEV_ERROR);
        return st;
    }
    st = cs_project_parse(text, n, path, 0, diag, out);
    cs_free(text);
    return st;
}


/* ------------------------------------------------------------ fingerprints */

static char *dump_canonical(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    if (!s) {
        cs_error_set(CS_ENOMEM, "out of memory");
        return NULL;
    }
    char *r = cs_strdup(s);
    free(s);
    return r;
}

char *cs_project_canonical(const cs_project *p) { return dump_canonical(p->root); }

/* Feed the inputs (of one section, or all) sorted by key path, so that key order does not matter. */
static cs_status hash_inputs(const cs_project *p, const char *section, cs_sha256 *h)
{
    if (!p->ninputs) return CS_OK;
    size_t *ord = cs_mallocarray(p->ninputs, sizeof *ord);
    if (!ord) return CS_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < p->ninputs; i++) {
        if (section && strcmp(p->inputs[i].section, section)) continue;
        size_t j = n++;
        while (j > 0 && strcmp(p->inputs[ord[j - 1]].keypath, p->inputs[i].keypath) > 0) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = i;
    }
    cs_status st = CS_OK;
    for (size_t k = 0; !st && k < n; k++) {
        cs_sha256_str(h, p->inputs[ord[k]].keypath);
        st = cs_sha256_file(h, p->inputs[ord[k]].path);
    }
    cs_free(ord);
    return st;
}

cs_status cs_project_hash_section(const cs_project *p, const char *section, cs_sha256 *h)
{
    cs_sha256_str(h, "citysys-project-section-v1");
    cs_sha256_str(h, section);
    json_t *j = json_object_get(p->root, section);
    if (!j) {
        cs_sha256_str(h, "null");
        return CS_OK;
    }
    char *s = dump_canonical(j);
    if (!s) return CS_ENOMEM;
    cs_sha256_str(h, s);
    cs_free(s);
    return hash_inputs(p, section, h);
}

cs_status cs_project_fingerprint(const cs_project *p, char out[65])
{
    cs_sha256 h;
    cs_sha256_init(&h);
    cs_sha256_str(&h, "citysys-project-v1");
    char *s = cs_project_canonical(p);
    if (!s) return CS_ENOMEM;
    cs_sha256_str(&h, s);
    cs_free(s);
    cs_status st = hash_inputs(p, NULL, &h);
    if (st) return st;
    cs_sha256_hex(&h, out);
    return CS_OK;
}

/* ------------------------------------------------------------ summary */



typedef struct idx_key {
    uint32_t i;
    double pop;
    const char *id;
} idx_key;

static int cmp_pop(const void *a, const void *b)
{
    const idx_key *x = a, *y = b;
    double px = isnan(x->pop) ? -1 : x->pop, py = isnan(y->pop) ? -1 : y->pop;
    if (px != py) return px > py ? -1 : 1;
    return strcmp(x->id, y->id);
}

static int cmp_group(const void *a, const void *b)
{
    const cs_group_total *x = a, *y = b;
    if (x->population != y->population) return x->population > y->population ? -1 : 1;
    return strcmp(x->key, y->key);
}

typedef struct key_idx {
    char *key; /* owned until moved into a group */
    double pop;
} key_idx;

static int cmp_key(const void *a, const void *b) { return strcmp(((const key_idx *)a)->key, ((const key_idx *)b)->key); }

/* Group cities by col (qualified by qual, e.g. region by country: "Centre, Cameroon"). */
static cs_status group_by(char **col, char **qual, const double *pop, size_t n, cs_group_total **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (!col || !n) return CS_OK;
    key_idx *k = cs_calloc(n, sizeof *k);
    cs_group_total *g = cs_calloc(n, sizeof *g);
    cs_status st = (k && g) ? CS_OK : CS_ENOMEM;
    for (size_t i = 0; !st && i < n; i++) {
        const char *a = col[i] ? col[i] : "";
        k[i].key = (qual && *a) ? cs_asprintf("%s, %s", a, qual[i] ? qual[i] : "") : cs_strdup(a);
        k[i].pop = pop ? pop[i] : NAN;
        if (!k[i].key) st = CS_ENOMEM;
    }
    size_t ng = 0;
    if (!st) {
        qsort(k, n, sizeof *k, cmp_key);
        for (size_t i = 0; i < n; i++) {
            if (i == 0 || strcmp(k[i].key, g[ng - 1].key)) {
                g[ng++] = (cs_group_total){k[i].key, 0, 0.0};
                k[i].key = NULL;
            }
            g[ng - 1].n++;
            if (!isnan(k[i].pop)) g[ng - 1].population += k[i].pop;
        }
    }
    for (size_t i = 0; k && i < n; i++) cs_free(k[i].key);
    cs_free(k);
    if (st) {
        cs_free(g);
        return st;
    }
    qsort(g, ng, sizeof *g, cmp_group);
    *out = g;
    *nout = ng;
    return CS_OK;
}

void cs_city_summary_free(cs_city_summary *s)
{
    if (!s) return;
    cs_free(s->top);
    for (size_t i = 0; i < s->nregions; i++) cs_free(s->regions[i].key);
    for (size_t i = 0; i < s->ncountries; i++) cs_free(s->countries[i].key);
    cs_free(s->regions);
    cs_free(s->countries);
    cs_free(s);
}

cs_status cs_city_summary_build(const cs_cities *c, size_t top_k, cs_city_summary **out)
{
    *out = NULL;
    cs_city_summary *s = cs_calloc(1, sizeof *s);
    if (!s) return CS_ENOMEM;
    size_t n = c->n;
    s->ncities = n;
    s->lon_min = s->lat_min = s->lon_max = s->lat_max = NAN;
    for (size_t i = 0; i < n; i++) {
        if (c->population && !isnan(c->population[i])) s->total_population += c->population[i];
        double lo = c->lon[i], la = c->lat[i];
        if (isnan(lo) || isnan(la)) continue;
        if (isnan(s->lon_min) || lo < s->lon_min) s->lon_min = lo;
        if (isnan(s->lon_max) || lo > s->lon_max) s->lon_max = lo;
        if (isnan(s->lat_min) || la < s->lat_min) s->lat_min = la;
        if (isnan(s->lat_max) || la > s->lat_max) s->lat_max = la;
    }
    cs_status st = CS_OK;
    if (n) {
        idx_key *k = cs_mallocarray(n, sizeof *k);
        if (!k) st = CS_ENOMEM;
        for (size_t i = 0; !st && i < n; i++) k[i] = (idx_key){(uint32_t)i, c->population ? c->population[i] : NAN, c->id[i] ? c->id[i] : ""};
        if (!st) {
            qsort(k, n, sizeof *k, cmp_pop);
            s->ntop = top_k < n ? top_k : n;
            s->top = cs_mallocarray(s->ntop ? s->ntop : 1, sizeof *s->top);
            if (!s->top) st = CS_ENOMEM;
            for (size_t i = 0; !st && i < s->ntop; i++) s->top[i] = k[i].i;
        }
        cs_free(k);
    }
    if (!st) st = group_by(c->region, c->country, c->population, n, &s->regions, &s->nregions);
    if (!st) st = group_by(c->country, NULL, c->population, n, &s->countries, &s->ncountries);
    if (st) {
        cs_city_summary_free(s);
        return cs_error_set(st, "out of memory summarising cities");
    }
    *out = s;
    return CS_OK;
}

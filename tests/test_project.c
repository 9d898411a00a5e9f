/* test_project.c: the project-file parser — good files, every kind of error with its line:column,
 * key-path location, fingerprints, allocation failures, and the city summary. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test.h"
#include "citysys/project.h"
#include "citysys/run.h"

static char tmpdir[256];

static void write_text(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    char *slash = strrchr(p, '/');
    *slash = 0;
    cs_mkdir_p(p);
    *slash = '/';
    FILE *f = fopen(p, "w");
    if (!f) {
        perror(p);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static char *proj_path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

/* Load text as tmpdir/name; returns status; *d receives the diagnostics. */
static cs_status load(const char *name, const char *text, cs_diag **d, cs_project **p)
{
    write_text(name, text);
    *d = cs_diag_new();
    return cs_project_load(proj_path(name), *d, p);
}

/* Is there an error item at line:col whose message contains needle? */
static int has_error(const cs_diag *d, long line, long col, const char *needle)
{
    for (size_t i = 0; i < cs_diag_count(d); i++) {
        const cs_diag_item *it = cs_diag_get(d, i);
        if (it->severity == CS_SEV_ERROR && it->line == line && it->column == col && strstr(it->message, needle))
            return 1;
    }
    fprintf(stderr, "  no error at %ld:%ld containing '%s'; have:\n", line, col, needle);
    char buf[1024];
    for (size_t i = 0; i < cs_diag_count(d); i++) {
        cs_diag_format(d, i, buf, sizeof buf);
        fprintf(stderr, "    %s\n", buf);
    }
    return 0;
}

static const char *GOOD =
    "{\n"
    "  \"schema_version\": 1,\n"
    "  \"name\": \"test system\",\n"
    "  \"cities\": {\n"
    "    \"path\": \"cities.csv\",\n"
    "    \"layer\": \"towns\",\n"
    "    \"fields\": {\"id\": \"code\", \"population\": \"pop\", \"gdp_per_head\": \"income\"},\n"
    "    \"joins\": [{\"path\": \"extra.csv\", \"left_key\": \"code\", \"right_key\": \"key\",\n"
    "                \"columns\": [\"a\", \"b\"], \"fields\": {\"gdp\": \"a\"}}]\n"
    "  },\n"
    "  \"links\": [{\"path\": \"links.csv\", \"fields\": {\"from\": \"o\", \"to\": \"d\", \"time_unit_s\": 3600}}],\n"
    "  \"outputs\": {\"formats\": [\"geojson\", \"csv\", \"geojson\"]},\n"
    "  \"network\": {\"path\": \"roads.osm.pbf\", \"speeds\": {\"motorway\": 100}, \"extra_path\": \"x.txt\"},\n"
    "  \"report\": {}\n"
    "}\n";

static void test_good(void)
{
    cs_diag *d;
    cs_project *p = NULL;
    CHECK_OK(load("good.json", GOOD, &d, &p));
    CHECK(p != NULL);
    CHECK(cs_diag_count(d) == 0);
    if (!p) {
        cs_diag_free(d);
        return;
    }
    CHECK(!strcmp(cs_project_name(p), "test system"));
    CHECK(!strcmp(cs_project_dir(p), tmpdir));
    char want[512];
    snprintf(want, sizeof want, "%s/cities.csv", tmpdir);
    CHECK(!strcmp(cs_project_cities_path(p), want));
    const cs_city_read_opts *o = cs_project_city_read_opts(p);
    CHECK(o->layer && !strcmp(o->layer, "towns"));
    CHECK(o->fields.id && !strcmp(o->fields.id, "code"));
    CHECK(o->fields.population && !strcmp(o->fields.population, "pop"));
    CHECK(o->fields.gdp_per_head && !strcmp(o->fields.gdp_per_head, "income"));
    CHECK(o->fields.name == NULL && o->fields.lon == NULL);
    CHECK(o->njoins == 1);
    if (o->njoins == 1) {
        snprintf(want, sizeof want, "%s/extra.csv", tmpdir);
        CHECK(!strcmp(o->joins[0].path, want));
        CHECK(!strcmp(o->joins[0].left_key, "code") && !strcmp(o->joins[0].right_key, "key"));
        CHECK(o->joins[0].columns && !strcmp(o->joins[0].columns[1], "b") && o->joins[0].columns[2] == NULL);
        CHECK(o->joins[0].fields && !strcmp(o->joins[0].fields->gdp, "a"));
    }
    CHECK(cs_project_nlinks(p) == 1);
    const cs_project_links *l = cs_project_link(p, 0);
    CHECK(l && !strcmp(l->fields.from, "o") && !strcmp(l->fields.to, "d"));
    CHECK(l && l->fields.time_unit_s == 3600.0);
    size_t nf;
    const cs_vector_format *f = cs_project_output_formats(p, &nf);
    CHECK(nf == 2 && f[0] == CS_FORMAT_GEOJSON && f[1] == CS_FORMAT_CSV);
    /* inputs: cities, join, links, and the two *path keys of the reserved network section */
    CHECK(cs_project_ninputs(p) == 5);
    const cs_project_input *in = cs_project_input_at(p, 3);
    CHECK(in && !strcmp(in->keypath, "network.path") && !strcmp(in->section, "network") &&
          !strcmp(in->given, "roads.osm.pbf"));
    in = cs_project_input_at(p, 4);
    CHECK(in && !strcmp(in->keypath, "network.extra_path"));
    /* reserved sections kept verbatim */
    const json_t *net = cs_project_section(p, "network");
    CHECK(json_is_object(net));
    CHECK(json_integer_value(json_object_get(json_object_get(net, "speeds"), "motorway")) == 100);
    CHECK(cs_project_section(p, "typology") == NULL);
    /* positions (expected values computed independently with Python str.index on the text) */
    long line, col;
    CHECK_OK(cs_project_locate(p, "network.speeds.motorway", 0, &line, &col));
    CHECK(line == 13 && col == 63);
    CHECK_OK(cs_project_locate(p, "network.speeds", 1, &line, &col));
    CHECK(line == 13 && col == 40);
    CHECK_OK(cs_project_locate(p, "cities.joins[0].columns[1]", 0, &line, &col));
    CHECK(line == 9 && col == 34);
    CHECK(cs_project_locate(p, "nothing.here", 0, &line, &col) == CS_ENOTFOUND && line == 0);
    /* a module reporting a problem in its own section */
    cs_diag *d2 = cs_diag_new();
    CHECK(cs_project_diag_at(p, d2, CS_SEV_ERROR, CS_EPARSE, "network.speeds.motorway", "too fast") == CS_EPARSE);
    CHECK(has_error(d2, 13, 63, "too fast"));
    CHECK(cs_error_last()->line == 13 && cs_error_last()->column == 63);
    /* unknown path: falls back to the nearest enclosing key that exists */
    CHECK(cs_project_diag_at(p, d2, CS_SEV_ERROR, CS_EPARSE, "network.speeds.trunk", "missing") == CS_EPARSE);
    CHECK(has_error(d2, 13, 50, "missing"));
    cs_diag_free(d2);
    cs_project_free(p);
    cs_diag_free(d);
}

static void test_fingerprint(void)
{
    cs_diag *d;
    cs_project *a = NULL, *b = NULL;
    char fa[65], fb[65], fc[65];
    CHECK_OK(load("fp1.json", GOOD, &d, &a));
    cs_diag_free(d);
    /* same document, different order and layout */
    const char *reordered =
        "{\"report\":{},\"network\":{\"extra_path\":\"x.txt\",\"speeds\":{\"motorway\":100},\"path\":\"roads.osm.pbf\"},"
        "\"outputs\":{\"formats\":[\"geojson\",\"csv\",\"geojson\"]},"
        "\"links\":[{\"fields\":{\"time_unit_s\":3600,\"to\":\"d\",\"from\":\"o\"},\"path\":\"links.csv\"}],"
        "\"cities\":{\"joins\":[{\"fields\":{\"gdp\":\"a\"},\"columns\":[\"a\",\"b\"],\"right_key\":\"key\","
        "\"left_key\":\"code\",\"path\":\"extra.csv\"}],\"fields\":{\"gdp_per_head\":\"income\",\"population\":\"pop\","
        "\"id\":\"code\"},\"layer\":\"towns\",\"path\":\"cities.csv\"},\"name\":\"test system\",\"schema_version\":1}";
    CHECK_OK(load("fp2.json", reordered, &d, &b));
    cs_diag_free(d);
    if (!a || !b) {
        cs_project_free(a);
        cs_project_free(b);
        return;
    }
    CHECK_OK(cs_project_fingerprint(a, fa));
    CHECK_OK(cs_project_fingerprint(b, fb));
    CHECK(!strcmp(fa, fb));
    if (strcmp(fa, fb)) {
        char *ca = cs_project_canonical(a), *cb = cs_project_canonical(b);
        fprintf(stderr, "%s\n%s\n", ca, cb);
        cs_free(ca);
        cs_free(cb);
    }
    CHECK(strlen(fa) == 64);
    /* section hash of "outputs" does not depend on the city file */
    cs_sha256 h1, h2;
    char s1[65], s2[65];
    cs_sha256_init(&h1);
    CHECK_OK(cs_project_hash_section(a, "outputs", &h1));
    cs_sha256_hex(&h1, s1);
    /* change an input file's content: the fingerprint changes, the outputs section hash does not */
    write_text("cities.csv", "code,pop,lon,lat\nB,2,0,0\n");
    CHECK_OK(cs_project_fingerprint(a, fc));
    CHECK(strcmp(fa, fc) != 0);
    cs_sha256_init(&h2);
    CHECK_OK(cs_project_hash_section(a, "outputs", &h2));
    cs_sha256_hex(&h2, s2);
    CHECK(!strcmp(s1, s2));
    /* canonical text is sorted and compact */
    char *can = cs_project_canonical(a);
    CHECK(can && !strncmp(can, "{\"cities\":", 10));
    cs_free(can);
    write_text("cities.csv", "code,pop,lon,lat\nA,1,0,0\n");
    cs_project_free(a);
    cs_project_free(b);
}

static void test_errors(void)
{
    cs_diag *d;
    cs_project *p = (cs_project *)1;
    /* unknown key: located at the key, with a suggestion */
    const char *t1 =
        "{\n"
        "  \"schema_version\": 1,\n"
        "  \"cities\": {\"path\": \"cities.csv\",\n"
        "     \"fields\": {\"populaton\": \"pop\"}},\n"
        "  \"colour\": \"red\"\n"
        "}\n";
    CHECK(load("unknown.json", t1, &d, &p) == CS_EPARSE);
    CHECK(p == NULL);
    CHECK(has_error(d, 4, 17, "unknown key 'populaton'; did you mean 'population'?"));
    CHECK(has_error(d, 5, 3, "unknown key 'colour'"));
    CHECK(cs_diag_errors(d) == 2);
    /* the last error is the first problem, with its location */
    CHECK(cs_error_last()->status == CS_EPARSE && cs_error_last()->line == 4 && cs_error_last()->column == 17);
    CHECK(strstr(cs_error_last()->file, "unknown.json") != NULL);
    cs_diag_free(d);

    /* wrong types: located at the value */
    const char *t2 =
        "{\"schema_version\": \"1\",\n"
        " \"cities\": {\"path\": 42, \"joins\": {}},\n"
        " \"links\": [{\"path\": \"links.csv\", \"fields\": {\"time_unit_s\": \"60\"}}],\n"
        " \"network\": [1]}\n";
    CHECK(load("types.json", t2, &d, &p) == CS_EPARSE);
    CHECK(has_error(d, 1, 20, "expected an integer, got a string"));
    CHECK(has_error(d, 2, 21, "expected a file name (string), got an integer"));
    CHECK(has_error(d, 2, 34, "expected an array, got an object"));
    CHECK(has_error(d, 3, 60, "expected a number, got a string"));
    CHECK(has_error(d, 4, 13, "expected an object, got an array"));
    cs_diag_free(d);

    /* missing input files, in the table and in a reserved section; the join file exists */
    const char *t3 =
        "{\"schema_version\": 1,\n"
        " \"cities\": {\"path\": \"nope.csv\", \"joins\": [{\"path\": \"extra.csv\", \"left_key\": \"a\", \"right_key\": \"b\"}]},\n"
        " \"network\": {\"path\": \"none.osm.pbf\"}}\n";
    CHECK(load("missing.json", t3, &d, &p) == CS_EPARSE);
    CHECK(has_error(d, 2, 21, "input file 'nope.csv' not found"));
    CHECK(has_error(d, 3, 22, "input file 'none.osm.pbf' not found"));
    CHECK(cs_diag_errors(d) == 2);
    cs_diag_free(d);

    /* missing required keys: at the enclosing object */
    const char *t4 = "{\"cities\": {\"joins\": [{\"path\": \"extra.csv\"}]}}";
    CHECK(load("required.json", t4, &d, &p) == CS_EPARSE);
    CHECK(has_error(d, 1, 1, "missing required key 'schema_version'"));
    CHECK(has_error(d, 1, 12, "missing required key 'path'"));
    CHECK(has_error(d, 1, 23, "missing required key 'left_key'"));
    CHECK(has_error(d, 1, 23, "missing required key 'right_key'"));
    cs_diag_free(d);

    /* duplicate key: jansson reports it with its position */
    const char *t5 = "{\"schema_version\": 1,\n \"cities\": {\"path\": \"cities.csv\"},\n \"name\": \"a\", \"name\": \"b\"}\n";
    CHECK(load("dup.json", t5, &d, &p) == CS_EPARSE);
    CHECK(cs_diag_errors(d) == 1);
    if (cs_diag_count(d)) {
        const cs_diag_item *it = cs_diag_get(d, 0);
        CHECK(it->line == 3 && it->column > 0 && strstr(it->message, "duplicate"));
    }
    cs_diag_free(d);

    /* syntax error */
    const char *t6 = "{\"schema_version\": 1,\n  \"cities\": {\"path\": \"cities.csv\",}\n}\n";
    CHECK(load("syntax.json", t6, &d, &p) == CS_EPARSE);
    CHECK(cs_diag_errors(d) == 1 && cs_diag_get(d, 0)->line == 2);
    cs_diag_free(d);

    /* schema version from the future, bad output format, not an object */
    const char *t7 = "{\"schema_version\": 2, \"cities\": {\"path\": \"cities.csv\"}, \"outputs\": {\"formats\": [\"shp\"]}}";
    CHECK(load("future.json", t7, &d, &p) == CS_EPARSE);
    CHECK(has_error(d, 1, 20, "newer than this citysys reads"));
    CHECK(has_error(d, 1, 81, "unknown output format 'shp'"));
    cs_diag_free(d);
    CHECK(load("array.json", "[1, 2]", &d, &p) == CS_EPARSE);
    CHECK(has_error(d, 1, 1, "a project file is a JSON object"));
    cs_diag_free(d);
    CHECK(load("empty.json", "", &d, &p) == CS_EPARSE);
    CHECK(cs_diag_errors(d) == 1);
    cs_diag_free(d);

    /* columns count characters, not bytes (as jansson does) */
    const char *t8 = "{\"schema_version\": 1, \"name\": \"Sant Julià\", \"cities\": {\"path\": \"cities.csv\"}, \"bad\": 1}";
    CHECK(load("utf8.json", t8, &d, &p) == CS_EPARSE);
    CHECK(has_error(d, 1, 79, "unknown key 'bad'"));
    cs_diag_free(d);
    /* escaped keys are decoded before lookup */
    const char *t9 = "{\"schema_version\": 1, \"cities\": {\"path\": \"cities.csv\"}, \"n\\u00e4me\": 1}";
    CHECK(load("esc.json", t9, &d, &p) == CS_EPARSE);
    CHECK(has_error(d, 1, 57, "unknown key"));
    cs_diag_free(d);

    /* the project file itself missing: I/O error */
    d = cs_diag_new();
    CHECK(cs_project_load(proj_path("does-not-exist.json"), d, &p) == CS_EIO);
    CHECK(p == NULL && cs_diag_errors(d) == 1);
    cs_diag_free(d);
}

static void test_parse_nocheck(void)
{
    cs_project *p = NULL;
    const char *t = "{\"schema_version\": 1, \"cities\": {\"path\": \"/nonexistent/cities.csv\"}}";
    CHECK_OK(cs_project_parse(t, strlen(t), "/some/where/p.json", CS_PROJECT_NO_FILE_CHECK, NULL, &p));
    if (p) {
        CHECK(!strcmp(cs_project_cities_path(p), "/nonexistent/cities.csv"));
        CHECK(!strcmp(cs_project_name(p), "p"));
        char *r = cs_project_resolve(p, "a/b.csv");
        CHECK(r && !strcmp(r, "/some/where/a/b.csv"));
        cs_free(r);
        size_t nf;
        const cs_vector_format *f = cs_project_output_formats(p, &nf);
        CHECK(nf == 2 && f[0] == CS_FORMAT_GPKG && f[1] == CS_FORMAT_CSV);
    }
    cs_project_free(p);
    /* name from the folder for project.json */
    t = "{\"schema_version\": 1, \"cities\": {\"path\": \"c.csv\"}}";
    CHECK_OK(cs_project_parse(t, strlen(t), "examples/kenya/project.json", CS_PROJECT_NO_FILE_CHECK, NULL, &p));
    if (p) CHECK(!strcmp(cs_project_name(p), "kenya"));
    cs_project_free(p);
}

static void test_alloc_failures(void)
{
    /* every allocation failure makes the load fail cleanly (ASan checks for leaks) */
    write_text("oom.json", GOOD);
    int completed = 0;
    for (long n = 1; n < 2000 && !completed; n++) {
        cs_project *p = NULL;
        cs_alloc_fail_after(n, 0);
        cs_status st = cs_project_load(proj_path("oom.json"), NULL, &p);
        cs_alloc_fail_after(0, 0);
        if (st == CS_OK) {
            completed = 1;
            CHECK(p != NULL);
        } else {
            CHECK(p == NULL);
        }
        cs_project_free(p);
    }
    CHECK(completed);
}

static void test_summary(void)
{
    char *id[] = {"a", "b", "c", "d", "e"};
    char *name[] = {"A", "B", "C", "D", "E"};
    double lon[] = {1, -2, 3, 4, 5}, lat[] = {10, 20, -30, 40, 50};
    double pop[] = {100, 300, 300, NAN, 50};
    char *region[] = {"r1", "r2", "r1", "r1", ""};
    cs_cities c;
    memset(&c, 0, sizeof c);
    c.n = 5;
    c.id = id;
    c.name = name;
    c.lon = lon;
    c.lat = lat;
    c.population = pop;
    c.region = region;
    cs_city_summary *s = NULL;
    CHECK_OK(cs_city_summary_build(&c, 3, &s));
    if (!s) return;
    CHECK(s->ncities == 5);
    CHECK_NEAR(s->total_population, 750, 0);
    CHECK(s->lon_min == -2 && s->lon_max == 5 && s->lat_min == -30 && s->lat_max == 50);
    CHECK(s->ntop == 3 && s->top[0] == 1 && s->top[1] == 2 && s->top[2] == 0); /* tie 300/300 broken by id */
    CHECK(s->nregions == 3 && s->ncountries == 0);
    CHECK(!strcmp(s->regions[0].key, "r1") && s->regions[0].n == 3 && s->regions[0].population == 400);
    CHECK(!strcmp(s->regions[1].key, "r2") && s->regions[1].population == 300);
    CHECK(!strcmp(s->regions[2].key, "") && s->regions[2].population == 50);
    cs_city_summary_free(s);
    /* with countries, regions are qualified by country (admin-1 names repeat across countries) */
    char *country[] = {"X", "X", "Y", "X", "Y"};
    c.country = country;
    s = NULL;
    CHECK_OK(cs_city_summary_build(&c, 10, &s));
    if (!s) return;
    CHECK(s->ntop == 5 && s->top[4] == 3); /* NaN population last */
    CHECK(s->nregions == 4);
    CHECK(!strcmp(s->regions[0].key, "r1, Y") && s->regions[0].population == 300);
    CHECK(!strcmp(s->regions[1].key, "r2, X") && s->regions[1].population == 300);
    CHECK(!strcmp(s->regions[2].key, "r1, X") && s->regions[2].population == 100 && s->regions[2].n == 2);
    CHECK(!strcmp(s->regions[3].key, "") && s->regions[3].n == 1);
    CHECK(s->ncountries == 2 && !strcmp(s->countries[0].key, "X") && s->countries[0].population == 400);
    CHECK(!strcmp(s->countries[1].key, "Y") && s->countries[1].population == 350 && s->countries[1].n == 2);
    cs_city_summary_free(s);
}

/* ---- positions on random documents: the emitter records where it writes each key and value (oracle),
 * the scanner must find the same positions ---- */

typedef struct emit {
    char *buf;
    size_t n, cap;
    long line, col; /* position of the next character */
    struct rec {
        char path[256];
        long kl, kc, vl, vc;
    } *recs;
    size_t nrecs;
    unsigned rng;
} emit;

static unsigned rnd(emit *e, unsigned n)
{
    e->rng = e->rng * 1103515245u + 12345u;
    return (e->rng >> 16) % n;
}

static void put(emit *e, const char *s)
{
    for (; *s; s++) {
        if (e->n + 2 > e->cap) {
            e->cap = e->cap ? 2 * e->cap : 4096;
            e->buf = realloc(e->buf, e->cap);
        }
        e->buf[e->n++] = *s;
        unsigned char c = (unsigned char)*s;
        if (c == '\n') {
            e->line++;
            e->col = 1;
        } else if ((c & 0xC0) != 0x80) {
            e->col++;
        }
    }
    e->buf[e->n] = 0;
}

static void ws(emit *e)
{
    static const char *w[] = {"", " ", "  ", "\n", "\n    ", "\t", " \n  \n "};
    put(e, w[rnd(e, 7)]);
}

static const char *rkey(emit *e, int i, char *raw, size_t rn, char *dec, size_t dn)
{
    /* raw = as written (maybe with escapes), dec = decoded; unique per object through the index i */
    switch (rnd(e, 4)) {
    case 0: snprintf(raw, rn, "k%d", i); snprintf(dec, dn, "k%d", i); break;
    case 1: snprintf(raw, rn, "caf\xc3\xa9%d", i); snprintf(dec, dn, "caf\xc3\xa9%d", i); break;
    case 2: snprintf(raw, rn, "caf\\u00e9_%d", i); snprintf(dec, dn, "caf\xc3\xa9_%d", i); break;
    default: snprintf(raw, rn, "q\\\"t\\\\%d", i); snprintf(dec, dn, "q\"t\\%d", i); break;
    }
    return dec;
}

static void value(emit *e, const char *path, long kl, long kc, int depth)
{
    struct rec *r = &e->recs[e->nrecs++];
    snprintf(r->path, sizeof r->path, "%s", path);
    r->kl = kl;
    r->kc = kc;
    r->vl = e->line;
    r->vc = e->col;
    unsigned t = depth >= 4 ? rnd(e, 4) : rnd(e, 6);
    static const char *scal[] = {"12", "-3.5e2", "true", "null", "\"x\\u00e9\xc3\xa9\\n\"", "\"\xe2\x82\xac \xf0\x9f\x98\x80\""};
    if (t < 4) {
        put(e, scal[rnd(e, 6)]);
    } else if (t == 4) {
        put(e, "[");
        int n = (int)rnd(e, 4);
        for (int i = 0; i < n; i++) {
            if (i) put(e, ",");
            ws(e);
            char cp[256];
            snprintf(cp, sizeof cp, "%s[%d]", path, i);
            value(e, cp, 0, 0, depth + 1);
            ws(e);
        }
        put(e, "]");
    } else {
        put(e, "{");
        int n = (int)rnd(e, 4);
        for (int i = 0; i < n; i++) {
            if (i) put(e, ",");
            ws(e);
            char raw[64], dec[64];
            rkey(e, i, raw, sizeof raw, dec, sizeof dec);
            long l = e->line, c = e->col;
            put(e, "\"");
            put(e, raw);
            put(e, "\"");
            ws(e);
            put(e, ":");
            ws(e);
            char cp[256];
            snprintf(cp, sizeof cp, "%s.%s", path, dec);
            value(e, cp, l, c, depth + 1);
            ws(e);
        }
        put(e, "}");
    }
}

static void test_random_positions(void)
{
    int bad = 0, total = 0;
    for (unsigned seed = 1; seed <= 400; seed++) {
        emit e;
        memset(&e, 0, sizeof e);
        e.line = e.col = 1;
        e.rng = seed;
        e.recs = calloc(4096, sizeof *e.recs);
        put(&e, "{\"schema_version\": 1, \"cities\": {\"path\": \"c.csv\"},");
        ws(&e);
        long l = e.line, c = e.col;
        put(&e, "\"network\":");
        ws(&e);
        /* the reserved section must be an object */
        struct rec *r = &e.recs[e.nrecs++];
        snprintf(r->path, sizeof r->path, "network");
        r->kl = l;
        r->kc = c;
        r->vl = e.line;
        r->vc = e.col;
        put(&e, "{");
        int n = 1 + (int)rnd(&e, 4);
        for (int i = 0; i < n; i++) {
            if (i) put(&e, ",");
            ws(&e);
            char raw[64], dec[64];
            rkey(&e, i, raw, sizeof raw, dec, sizeof dec);
            long kl = e.line, kc = e.col;
            put(&e, "\"");
            put(&e, raw);
            put(&e, "\":");
            ws(&e);
            char cp[256];
            snprintf(cp, sizeof cp, "network.%s", dec);
            value(&e, cp, kl, kc, 1);
        }
        ws(&e);
        put(&e, "}}\n");
        cs_project *p = NULL;
        cs_diag *d = cs_diag_new();
        cs_status st = cs_project_parse(e.buf, e.n, "rand.json", CS_PROJECT_NO_FILE_CHECK, d, &p);
        CHECK(st == CS_OK);
        if (st != CS_OK) {
            char b[1024];
            for (size_t i = 0; i < cs_diag_count(d); i++) {
                cs_diag_format(d, i, b, sizeof b);
                fprintf(stderr, "seed %u: %s\n%s\n", seed, b, e.buf);
            }
        }
        for (size_t i = 0; p && i < e.nrecs; i++) {
            long vl, vc, kl, kc;
            total++;
            if (cs_project_locate(p, e.recs[i].path, 0, &vl, &vc) || vl != e.recs[i].vl || vc != e.recs[i].vc ||
                cs_project_locate(p, e.recs[i].path, 1, &kl, &kc) ||
                (e.recs[i].kl ? (kl != e.recs[i].kl || kc != e.recs[i].kc) : (kl != vl || kc != vc))) {
                if (bad++ < 5)
                    fprintf(stderr, "seed %u: %s: scanner %ld:%ld key %ld:%ld, emitter %ld:%ld key %ld:%ld\n", seed,
                            e.recs[i].path, vl, vc, kl, kc, e.recs[i].vl, e.recs[i].vc, e.recs[i].kl, e.recs[i].kc);
            }
        }
        cs_project_free(p);
        cs_diag_free(d);
        free(e.buf);
        free(e.recs);
    }
    CHECK(bad == 0);
    CHECK(total > 2000);
    printf("random documents: %d positions checked\n", total);
}

/* ---- the main job (run.h) ---- */

static int cancel_at_export(void *user, const char *stage, double done, double total)
{
    (void)done;
    (void)total;
    (*(int *)user)++;
    return strcmp(stage, "export") == 0;
}

static char *slurp(const char *path)
{
    char *d = NULL;
    size_t n;
    if (cs_read_file(path, &d, &n)) return NULL;
    return d;
}

static void test_run(void)
{
    CHECK(cs_run_nsteps() >= 2);
    CHECK(!strcmp(cs_run_step_name(0), "validate"));
    int has_export = 0;
    for (size_t i = 0; i < cs_run_nsteps(); i++) has_export |= !strcmp(cs_run_step_name(i), "export");
    CHECK(has_export);
    CHECK(cs_run_step_name(cs_run_nsteps()) == NULL);
    write_text("run/cities.csv", "id,name,lon,lat,population\nA,Alpha,1.5,42.5,100\nB,Beta,1.6,42.6,250\nC,Gamma,1.7,42.4,50\n");
    write_text("run/project.json", "{\"schema_version\": 1, \"cities\": {\"path\": \"cities.csv\"}}\n");
    cs_diag *d = cs_diag_new();
    cs_project *p = NULL;
    CHECK_OK(cs_project_load(proj_path("run/project.json"), d, &p));
    if (!p) {
        cs_diag_free(d);
        return;
    }
    char out[512], cache[512], manifest[600];
    snprintf(out, sizeof out, "%s/run/out", tmpdir);
    snprintf(cache, sizeof cache, "%s/run/cache", tmpdir);
    snprintf(manifest, sizeof manifest, "%s/manifest.json", out);
    cs_run_opts o;
    cs_run_opts_init(&o);
    o.cache_dir = cache;
    cs_run_summary sum;
    CHECK_OK(cs_run(p, out, &o, d, &sum));
    /* a cities-only project runs validate, export and the report (the analyses need a network) */
    CHECK(sum.nsteps == 3 && sum.nreused == 0 && sum.ncached == 1 && sum.noutputs >= 4);
    char fp[65];
    CHECK_OK(cs_project_fingerprint(p, fp));
    CHECK(!strcmp(sum.fingerprint, fp));
    char *m1 = slurp(manifest);
    CHECK(m1 != NULL);
    json_error_t je;
    json_t *mj = json_load_file(manifest, 0, &je);
    CHECK(mj != NULL);
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(mj, "project"), "fingerprint")), fp));
    CHECK(json_array_size(json_object_get(mj, "outputs")) == sum.noutputs - 1);
    json_decref(mj);
    /* second run: export reused, same manifest */
    CHECK_OK(cs_run(p, out, &o, d, &sum));
    CHECK(sum.nsteps == 3 && sum.nreused == 1);
    char *m2 = slurp(manifest);
    CHECK(m1 && m2 && !strcmp(m1, m2));
    cs_free(m2);
    /* cancelled from the progress callback: CS_ECANCELED, the folder as it was */
    int calls = 0;
    o.progress.fn = cancel_at_export;
    o.progress.user = &calls;
    CHECK(cs_run(p, out, &o, d, NULL) == CS_ECANCELED);
    CHECK(calls == 2);
    m2 = slurp(manifest);
    CHECK(m1 && m2 && !strcmp(m1, m2));
    cs_free(m2);
    o.progress.fn = NULL;
    /* a non-empty folder that is not a citysys output is refused */
    write_text("run/user/keep.txt", "keep");
    char user[512];
    snprintf(user, sizeof user, "%s/run/user", tmpdir);
    CHECK(cs_run(p, user, &o, d, NULL) == CS_EINVAL);
    char *k = slurp(proj_path("run/user/keep.txt"));
    CHECK(k && !strcmp(k, "keep"));
    cs_free(k);
    /* allocation failures anywhere in a run fail cleanly and leave the folder as it was or complete */
    o.no_cache = 1;
    long before = cs_alloc_count();
    CHECK_OK(cs_run(p, out, &o, NULL, NULL));
    long total = cs_alloc_count() - before;
    CHECK(total > 10);
    int failed = 0;
    for (long i = 1; i <= 60; i++) {
        long n = 1 + (total - 1) * (i - 1) / 59;
        cs_alloc_fail_after(n, 0);
        cs_status st = cs_run(p, out, &o, NULL, NULL);
        cs_alloc_fail_after(0, 0);
        failed += st != CS_OK;
        CHECK(st == CS_OK || st == CS_ENOMEM || cs_error_last()->status == st);
        char *m = slurp(manifest);
        CHECK(m != NULL); /* the previous complete output is always there */
        cs_free(m);
    }
    CHECK(failed > 0);
    cs_free(m1);
    cs_project_free(p);
    cs_diag_free(d);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s", "tmp-test_project-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    write_text("cities.csv", "code,pop,lon,lat\nA,1,0,0\n");
    write_text("extra.csv", "key,a,b\nA,1,2\n");
    write_text("links.csv", "o,d\nA,A\n");
    write_text("roads.osm.pbf", "x");
    write_text("x.txt", "x");
    test_good();
    test_fingerprint();
    test_errors();
    test_parse_nocheck();
    test_alloc_failures();
    test_summary();
    test_random_positions();
    test_run();
    cs_remove_tree(tmpdir);
    TEST_MAIN_END();
}

/*
 * Unit tests for src/io: the CSV tokenizer's physical lines, city tables (auto-detected columns, validation
 * with every problem reported), joins, writers (GPKG/GeoJSON/CSV round trips), cs_table layers, link tables,
 * matrix CSV, allocation failures.
 *
 * Oracle values for the bundled Africa table (tests/data/io/africa_cities_ports.csv, 453 rows) were computed
 * independently with Python's csv module and math.fsum:
 *   rows = list(csv.DictReader(open('africa_cities_ports.csv')))
 *   len(rows) -> 453 ; math.fsum(float(r['population']) for r in rows) -> 387167351.0
 *   math.fsum(float(r['lon']) for r in rows) -> 7829.582
 *   gdp_cap of the first node row per city_country in africa_nodes_gdp.csv, summed over the 453 cities
 *     -> 2239916.084482952 (all 453 matched; 3 keys are duplicated in the node table)
 */
#include <unistd.h>
#include <gdal.h>
#include <ogr_api.h>
#include "test.h"

#define DATA CS_SRC_DIR "/tests/data/io/"
#define SAMEF(a, b) ((isnan(a) && isnan(b)) || (a) == (b))

static char tmpdir[] = "/tmp/cs-io-XXXXXX";

static char *tmp(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

/* Does the diag hold an error at (line, col) whose message contains `frag`? */
static int has_diag(const cs_diag *d, cs_severity sev, long line, long col, const char *frag)
{
    for (size_t i = 0; i < cs_diag_count(d); i++) {
        const cs_diag_item *it = cs_diag_get(d, i);
        if (it->severity == sev && (line < 0 || it->line == line) && (col < 0 || it->column == col) &&
            strstr(it->message, frag))
            return 1;
    }
    return 0;
}

static void dump(const cs_diag *d)
{
    char buf[2048];
    for (size_t i = 0; i < cs_diag_count(d); i++) {
        cs_diag_format(d, i, buf, sizeof buf);
        fprintf(stderr, "  diag: %s\n", buf);
    }
}

static long extra_col(const cs_cities *c, const char *name)
{
    for (size_t k = 0; k < c->extra.ncols; k++)
        if (!strcmp(c->extra.names[k], name)) return (long)k;
    return -1;
}

static void file_hash(const char *path, char out[65])
{
    cs_sha256 h;
    cs_sha256_init(&h);
    if (cs_sha256_file(&h, path) != CS_OK) out[0] = 0;
    else cs_sha256_hex(&h, out);
}

static void test_bad_issue(void)
{
    char h0[65], h1[65];
    file_hash(DATA "bad_issue.csv", h0);
    /* multi-line quoted name on line 3-5, text population on line 7, duplicate id on line 8 */
    cs_diag *d = cs_diag_new();
    cs_cities *c = (cs_cities *)1;
    CHECK(cs_cities_read(DATA "bad_issue.csv", NULL, d, &c) == CS_EPARSE);
    CHECK(c == NULL);
    CHECK(cs_diag_errors(d) == 2);
    CHECK(has_diag(d, CS_SEV_ERROR, 7, 5, "expected a number, got 'many'"));
    CHECK(has_diag(d, CS_SEV_ERROR, 8, 1, "duplicate id '2' (first on line 3)"));
    const cs_diag_item *it = cs_diag_get(d, 0);
    CHECK(it && strstr(it->file, "bad_issue.csv"));
    CHECK(cs_error_last()->status == CS_EPARSE && cs_error_last()->line == 7);
    if (cs_diag_errors(d) != 2) dump(d);
    cs_diag_free(d);
    file_hash(DATA "bad_issue.csv", h1);
    CHECK(h0[0] && !strcmp(h0, h1)); /* input untouched */
}

static void test_good(void)
{
    cs_diag *d = cs_diag_new();
    cs_cities *c = NULL;
    CHECK_OK(cs_cities_read(DATA "good.csv", NULL, d, &c));
    if (!c) {
        dump(d);
        cs_diag_free(d);
        return;
    }
    CHECK(c->n == 3);
    CHECK(!strcmp(c->id[0], "a1") && !strcmp(c->name[0], "Town, North"));
    CHECK(c->lon[0] == 1.5 && c->lat[0] == 2.25 && c->population[2] == 55000.5);
    CHECK(c->gdp_per_head && c->gdp_per_head[0] == 3000.5 && isnan(c->gdp_per_head[1]));
    CHECK(c->gdp == NULL && c->employment == NULL);
    CHECK(c->region && !strcmp(c->region[2], "East"));
    CHECK(c->country && !strcmp(c->country[1], "AAA"));
    CHECK(c->extra.ncols == 3);
    long kc = extra_col(c, "code"), kn = extra_col(c, "note");
    CHECK(kc >= 0 && !strcmp(c->extra.values[kc][0], "007"));
    CHECK(kn >= 0 && !strcmp(c->extra.values[kn][0], "said \"hi\""));
    CHECK(c->source_line[2] == 4);
    CHECK(cs_cities_find(c, "b1") == 2 && cs_cities_find(c, "zz") == CS_INVALID_ID);
    CHECK(cs_cities_total_population(c) == 1200 + 800 + 55000.5);
    /* the index follows a change of n */
    c->n = 2;
    CHECK(cs_cities_find(c, "b1") == CS_INVALID_ID && cs_cities_find(c, "a2") == 1);
    c->n = 3;
    CHECK(cs_cities_find(c, "b1") == 2);
    cs_cities_free(c);
    /* a table built by hand (not by cs_cities_new) can be searched too */
    char *ids[] = {"p", "q", "r"};
    double pop[] = {1, 2, NAN};
    cs_cities h;
    memset(&h, 0, sizeof h);
    h.n = 3;
    h.id = ids;
    h.population = pop;
    CHECK(cs_cities_find(&h, "r") == 2 && cs_cities_find(&h, "s") == CS_INVALID_ID);
    CHECK(cs_cities_total_population(&h) == 3);
    cs_diag_free(d);
}

static void test_bom_delims(void)
{
    cs_cities *c = NULL;
    CHECK_OK(cs_cities_read(DATA "bom_semicolon.csv", NULL, NULL, &c));
    CHECK(c && c->n == 2 && !strcmp(c->id[0], "x1") && !strcmp(c->name[0], "Uno; primo") && c->lon[0] == 8.5 &&
          c->population[1] == 20);
    cs_cities_free(c);
    c = NULL;
    CHECK_OK(cs_cities_read(DATA "tabs.tsv", NULL, NULL, &c));
    CHECK(c && c->n == 2 && c->lon[1] == 4 && c->lat[1] == 5 && c->population[1] == 6);
    cs_cities_free(c);
}

static void test_swapped(void)
{
    cs_diag *d = cs_diag_new();
    cs_cities *c = NULL;
    CHECK(cs_cities_read(DATA "swapped.csv", NULL, d, &c) == CS_EPARSE && !c);
    CHECK(has_diag(d, CS_SEV_ERROR, 2, 3, "look swapped"));
    CHECK(has_diag(d, CS_SEV_ERROR, 4, 2, "outside [-180, 180]"));
    CHECK(!has_diag(d, CS_SEV_ERROR, 4, 2, "swapped"));
    CHECK(has_diag(d, CS_SEV_ERROR, 5, 3, "outside [-90, 90]"));
    CHECK(has_diag(d, CS_SEV_ERROR, 5, 4, "must not be negative"));
    CHECK(cs_diag_errors(d) == 4);
    cs_diag_free(d);
}

static void test_other_errors(void)
{
    cs_diag *d = cs_diag_new();
    cs_cities *c = NULL;
    CHECK(cs_cities_read(DATA "missing_col.csv", NULL, d, &c) == CS_EPARSE && !c);
    CHECK(has_diag(d, CS_SEV_ERROR, 1, -1, "no population column"));
    CHECK(has_diag(d, CS_SEV_ERROR, 1, -1, "columns present: id, name, lon, lat, popul"));
    CHECK(has_diag(d, CS_SEV_ERROR, 1, -1, "did you mean 'popul'"));
    cs_diag_free(d);

    /* explicitly named column that does not exist */
    d = cs_diag_new();
    cs_city_read_opts o = {0};
    o.fields.population = "inhabitans";
    CHECK(cs_cities_read(DATA "good.csv", &o, d, &c) == CS_EPARSE && !c);
    CHECK(has_diag(d, CS_SEV_ERROR, 1, -1, "column 'inhabitans' (given for population) not found"));
    cs_diag_free(d);

    d = cs_diag_new();
    CHECK(cs_cities_read(DATA "latin1.csv", NULL, d, &c) == CS_EPARSE && !c);
    CHECK(has_diag(d, CS_SEV_ERROR, 2, 2, "invalid UTF-8"));
    cs_diag_free(d);
    o = (cs_city_read_opts){0};
    o.encoding = "ISO-8859-1";
    CHECK_OK(cs_cities_read(DATA "latin1.csv", &o, NULL, &c));
    CHECK(c && !strcmp(c->name[0], "Caf\xc3\xa9"));
    cs_cities_free(c);
    c = NULL;

    d = cs_diag_new();
    CHECK(cs_cities_read(DATA "empty.csv", NULL, d, &c) == CS_EPARSE && !c);
    CHECK(has_diag(d, CS_SEV_ERROR, -1, -1, "empty"));
    cs_diag_free(d);
    d = cs_diag_new();
    CHECK(cs_cities_read(DATA "header_only.csv", NULL, d, &c) == CS_EPARSE && !c);
    CHECK(has_diag(d, CS_SEV_ERROR, -1, -1, "no rows"));
    cs_diag_free(d);

    d = cs_diag_new();
    CHECK(cs_cities_read(DATA "does-not-exist.csv", NULL, d, &c) == CS_EIO && !c);
    cs_diag_free(d);

    /* tokenizer: unterminated quote names the line where it opened; wrong field counts; cap of 3 errors */
    const char *s1 = "id,lon,lat,population\n1,2,3,4\n2,\"unterminated,3,4\n3,1,1,1\n";
    d = cs_diag_new();
    CHECK(cs_cities_read_csv_mem(s1, strlen(s1), "mem.csv", NULL, d, &c) == CS_EPARSE && !c);
    CHECK(has_diag(d, CS_SEV_ERROR, 3, 2, "unterminated quoted field"));
    CHECK(cs_diag_errors(d) == 1);
    cs_diag_free(d);
    const char *s2 = "id,lon,lat,population\n1,2,3\n2,1,1,x\n3,1,1,y\n4,1,1,z\n5,1,1,w\n6,1,1,1,1\n";
    d = cs_diag_new();
    o = (cs_city_read_opts){0};
    o.max_errors = 3;
    CHECK(cs_cities_read_csv_mem(s2, strlen(s2), "mem.csv", &o, d, &c) == CS_EPARSE && !c);
    CHECK(cs_diag_errors(d) == 3);
    CHECK(has_diag(d, CS_SEV_ERROR, 2, 3, "expected 4 fields"));
    CHECK(cs_diag_hidden(d) == 4);
    cs_diag_free(d);
    /* hex and decimal commas are not numbers */
    const char *s5 = "id,lon,lat,population\n1,1,1,0x10\n2,1,1,\"1,5\"\n3,1e1,-2.5E-1, 7 \n";
    d = cs_diag_new();
    CHECK(cs_cities_read_csv_mem(s5, strlen(s5), "num.csv", NULL, d, &c) == CS_EPARSE && !c);
    CHECK(has_diag(d, CS_SEV_ERROR, 2, 4, "got '0x10'"));
    CHECK(has_diag(d, CS_SEV_ERROR, 3, 4, "write decimals with '.'"));
    CHECK(cs_diag_errors(d) == 2);
    cs_diag_free(d);
    /* UTF-16 */
    const char s3[] = "\xff\xfei\0d\0";
    d = cs_diag_new();
    CHECK(cs_cities_read_csv_mem(s3, sizeof s3 - 1, "u16.csv", NULL, d, &c) == CS_EPARSE && !c);
    CHECK(has_diag(d, CS_SEV_ERROR, 1, 1, "UTF-16"));
    cs_diag_free(d);
    /* quoted multi-line fields with CRLF, text after a closing quote */
    const char *s4 = "id,name,lon,lat,population\r\n1,\"a\r\nb\r\nc\",1,1,1\r\n2,\"x\"y,1,1,2\r\n3,z,1,1,-3\r\n";
    d = cs_diag_new();
    CHECK(cs_cities_read_csv_mem(s4, strlen(s4), "crlf.csv", NULL, d, &c) == CS_EPARSE && !c);
    CHECK(has_diag(d, CS_SEV_ERROR, 5, 2, "after the closing quote"));
    CHECK(has_diag(d, CS_SEV_ERROR, 6, 5, "negative"));
    cs_diag_free(d);
}

/* Property check of physical line numbers: random tables whose names contain quoted line breaks (LF or CRLF),
 * doubled quotes and delimiters, with one bad population and one duplicate id at random rows. The expected
 * lines are counted while generating (every '\n' written starts a new line), independently of the tokenizer. */
static void put(char *buf, size_t *o, long *line, const char *str)
{
    for (; *str; str++) {
        buf[(*o)++] = *str;
        if (*str == '\n') (*line)++;
    }
    buf[*o] = 0;
}

static void test_random_lines(void)
{
    unsigned long long s = 987654321;
#define RND(n) ((s = s * 6364136223846793005ull + 1442695040888963407ull), (size_t)((s >> 33) % (n)))
    char *buf = malloc(1 << 16);
    for (int iter = 0; iter < 300; iter++) {
        size_t o = 0;
        long line = 1;
        const char *nl = RND(2) ? "\r\n" : "\n";
        char tmpb[64];
        put(buf, &o, &line, "id,name,lon,lat,population");
        put(buf, &o, &line, nl);
        size_t nrows = 2 + RND(30), badrow = RND(nrows), duprow = 1 + RND(nrows - 1);
        long badline = 0, dupline = 0, firstline = 0;
        for (size_t r = 0; r < nrows; r++) {
            if (r == 0) firstline = line;
            if (r == duprow) dupline = line;
            snprintf(tmpb, sizeof tmpb, "c%zu,", r == duprow ? (size_t)0 : r);
            put(buf, &o, &line, tmpb);
            if (RND(3) == 0) {
                put(buf, &o, &line, "\"N");
                for (size_t k = RND(4); k > 0; k--) put(buf, &o, &line, RND(2) ? nl : (RND(2) ? "\"\"," : ", x"));
                put(buf, &o, &line, "\",");
            } else {
                put(buf, &o, &line, "Plain,");
            }
            put(buf, &o, &line, "1.5,2.5,");
            if (r == badrow) badline = line;
            put(buf, &o, &line, r == badrow ? "n/a" : "100");
            put(buf, &o, &line, nl);
        }
        cs_diag *d = cs_diag_new();
        cs_cities *c = NULL;
        CHECK(cs_cities_read_csv_mem(buf, o, "rand.csv", NULL, d, &c) == CS_EPARSE && !c);
        char frag[80];
        snprintf(frag, sizeof frag, "duplicate id 'c0' (first on line %ld)", firstline);
        int ok = has_diag(d, CS_SEV_ERROR, badline, 5, "got 'n/a'") && has_diag(d, CS_SEV_ERROR, dupline, 1, frag) &&
                 cs_diag_errors(d) == 2;
        CHECK(ok);
        if (!ok) {
            fprintf(stderr, "iteration %d: expected bad population on line %ld, duplicate on line %ld\n%s\n", iter,
                    badline, dupline, buf);
            dump(d);
            cs_diag_free(d);
            break;
        }
        cs_diag_free(d);
    }
    free(buf);
#undef RND
}

static void test_join(void)
{
    cs_diag *d = cs_diag_new();
    cs_city_fields jf = {0};
    jf.gdp_per_head = "gdp_cap";
    cs_city_join j = {DATA "join_right.csv", NULL, "city_country", "key", NULL, &jf};
    cs_city_read_opts o = {0};
    o.joins = &j;
    o.njoins = 1;
    cs_cities *c = NULL;
    CHECK_OK(cs_cities_read(DATA "join_left.csv", &o, d, &c));
    if (c) {
        CHECK(c->gdp_per_head && c->gdp_per_head[0] == 1500 && c->gdp_per_head[1] == 2500 &&
              isnan(c->gdp_per_head[2]));
        long ki = extra_col(c, "IWI"), kp = extra_col(c, "population_2"), kc = extra_col(c, "city_country");
        CHECK(ki >= 0 && !strcmp(c->extra.values[ki][0], "40.5") && !strcmp(c->extra.values[ki][2], ""));
        CHECK(kp >= 0 && !strcmp(c->extra.values[kp][1], "111"));
        CHECK(kc >= 0);
        CHECK(extra_col(c, "gdp_cap") < 0);
        CHECK(c->population[0] == 100); /* not overwritten: population was not mapped by the join */
    }
    CHECK(has_diag(d, CS_SEV_WARNING, 4, 1, "duplicate key 'Eastport' (first on line 3"));
    CHECK(has_diag(d, CS_SEV_WARNING, 4, 6, "no row with key = 'Lost City'"));
    CHECK(cs_diag_errors(d) == 0);
    cs_cities_free(c);
    cs_diag_free(d);
    /* the left key may be given as a standard field name: "name" (column "name" here) and "id" */
    d = cs_diag_new();
    j.left_key = "name";
    c = NULL;
    CHECK_OK(cs_cities_read(DATA "join_left.csv", &o, d, &c));
    CHECK(c && c->gdp_per_head && c->gdp_per_head[0] == 1500 && isnan(c->gdp_per_head[2]));
    CHECK(has_diag(d, CS_SEV_WARNING, 4, 2, "no row with key = 'Lost'"));
    cs_cities_free(c);
    cs_diag_free(d);
    /* "id" when the id column is called "code" */
    const char *lm = "code,lon,lat,population\nEastport,1,1,1\nElsewhere,2,2,2\n";
    d = cs_diag_new();
    j.left_key = "id";
    c = NULL;
    CHECK_OK(cs_cities_read_csv_mem(lm, strlen(lm), "left.csv", &o, d, &c));
    CHECK(c && c->gdp_per_head && c->gdp_per_head[0] == 2500 && isnan(c->gdp_per_head[1]));
    CHECK(has_diag(d, CS_SEV_WARNING, 3, 0, "no row with key = 'Elsewhere'"));
    cs_cities_free(c);
    cs_diag_free(d);
    j.left_key = "city_country";
    /* missing key column in the joined table is an error */
    d = cs_diag_new();
    j.right_key = "kee";
    c = NULL;
    CHECK(cs_cities_read(DATA "join_left.csv", &o, d, &c) == CS_EPARSE && !c);
    CHECK(has_diag(d, CS_SEV_ERROR, 1, -1, "did you mean 'key'"));
    cs_diag_free(d);
}

static void read_lines(const char *path, char ***lines, size_t *n)
{
    char *data;
    size_t sz;
    *lines = NULL;
    *n = 0;
    if (cs_read_file(path, &data, &sz)) return;
    size_t cap = 1024;
    *lines = malloc(cap * sizeof **lines);
    for (char *p = data; *p;) {
        char *e = strchr(p, '\n');
        size_t L = e ? (size_t)(e - p) : strlen(p);
        if (*n == cap) *lines = realloc(*lines, (cap *= 2) * sizeof **lines);
        (*lines)[*n] = strndup(p, L);
        (*n)++;
        p += L + (e ? 1 : 0);
    }
    cs_free(data);
}

static void test_africa(void)
{
    cs_cities *c = NULL;
    cs_diag *d = cs_diag_new();
    CHECK_OK(cs_cities_read(DATA "africa_cities_ports.csv", NULL, d, &c));
    if (!c) {
        dump(d);
        cs_diag_free(d);
        return;
    }
    CHECK(c->n == 453);
    CHECK(cs_cities_total_population(c) == 387167351.0);
    double lon = 0;
    for (size_t i = 0; i < c->n; i++) lon += c->lon[i];
    CHECK_NEAR(lon, 7829.582, 1e-12);
    CHECK(!strcmp(c->id[0], "Cairo - Egypt") && !strcmp(c->name[0], "Cairo"));
    CHECK(c->country && !strcmp(c->country[0], "EGY") && c->region && !strcmp(c->region[0], "Al Qahirah"));
    CHECK(extra_col(c, "port_locode") >= 0 && extra_col(c, "capital") >= 0 &&
          extra_col(c, "country_2") >= 0); /* "country" is taken by the standard field (from iso3) */
    cs_cities_free(c);
    cs_diag_free(d);

    /* shuffle invariance: same count and total after the rows are permuted */
    char **lines;
    size_t n;
    read_lines(DATA "africa_cities_ports.csv", &lines, &n);
    CHECK(n == 454);
    unsigned long long s = 12345;
    for (size_t i = n - 1; i > 1; i--) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        size_t k = 1 + (size_t)((s >> 33) % i);
        char *t = lines[i];
        lines[i] = lines[k];
        lines[k] = t;
    }
    FILE *f = fopen(tmp("shuffled.csv"), "w");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    fclose(f);
    CHECK_OK(cs_cities_read(tmp("shuffled.csv"), NULL, NULL, &c));
    CHECK(c && c->n == 453 && cs_cities_total_population(c) == 387167351.0);
    cs_cities_free(c);

    /* the node table's GDP per head joined on city_country */
    d = cs_diag_new();
    cs_city_fields jf = {0};
    jf.gdp_per_head = "gdp_cap";
    cs_city_join j = {DATA "africa_nodes_gdp.csv", NULL, "city_country", "city_country", NULL, &jf};
    cs_city_read_opts o = {0};
    o.joins = &j;
    o.njoins = 1;
    o.max_errors = 100;
    c = NULL;
    CHECK_OK(cs_cities_read(DATA "africa_cities_ports.csv", &o, d, &c));
    if (c) {
        double g = 0;
        size_t nn = 0;
        for (size_t i = 0; i < c->n; i++)
            if (!isnan(c->gdp_per_head[i])) g += c->gdp_per_head[i], nn++;
        CHECK(nn == 453);
        CHECK_NEAR(g, 2239916.084482952, 1e-12);
        CHECK(extra_col(c, "IWI") >= 0 && extra_col(c, "city_port") >= 0);
    }
    CHECK(cs_diag_count(d) == 3); /* the 3 duplicated keys of the node table, as warnings */
    CHECK(cs_diag_errors(d) == 0);
    cs_cities_free(c);
    cs_diag_free(d);
}

static void compare_cities(const cs_cities *a, const cs_cities *b)
{
    CHECK(a->n == b->n);
    if (a->n != b->n) return;
    for (size_t i = 0; i < a->n; i++) {
        CHECK(!strcmp(a->id[i], b->id[i]));
        CHECK(!strcmp(a->name[i], b->name[i]));
        CHECK(a->lon[i] == b->lon[i] && a->lat[i] == b->lat[i]);
        CHECK(a->population[i] == b->population[i]);
        if (a->gdp_per_head) CHECK(b->gdp_per_head && SAMEF(a->gdp_per_head[i], b->gdp_per_head[i]));
        if (a->region) CHECK(b->region && !strcmp(a->region[i], b->region[i]));
        if (a->country) CHECK(b->country && !strcmp(a->country[i], b->country[i]));
    }
    CHECK(a->extra.ncols == b->extra.ncols);
    for (size_t k = 0; k < a->extra.ncols; k++) {
        long kb = extra_col(b, a->extra.names[k]);
        CHECK(kb >= 0);
        if (kb < 0) continue;
        for (size_t i = 0; i < a->n; i++) {
            int same = !strcmp(a->extra.values[k][i], b->extra.values[kb][i]);
            if (!same) fprintf(stderr, "extra %s row %zu: '%s' vs '%s'\n", a->extra.names[k], i, a->extra.values[k][i],
                               b->extra.values[kb][i]);
            CHECK(same);
        }
    }
}

static void test_round_trips(void)
{
    cs_cities *c = NULL, *b = NULL;
    CHECK_OK(cs_cities_read(DATA "good.csv", NULL, NULL, &c));
    if (!c) return;
    const char *outs[] = {"c.gpkg", "c.geojson", "c.csv"};
    for (int k = 0; k < 3; k++) {
        const char *p = tmp(outs[k]);
        CHECK_OK(cs_cities_write(c, p, CS_FORMAT_AUTO, NULL));
        b = NULL;
        CHECK_OK(cs_cities_read(p, NULL, NULL, &b));
        if (b) compare_cities(c, b);
        cs_cities_free(b);
    }
    /* the GeoPackage has a layer "cities" with typed columns: code "007" stays text, population is Real */
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(tmp("c.gpkg"), GDAL_OF_VECTOR, NULL, NULL, NULL);
    CHECK(ds != NULL);
    if (ds) {
        OGRLayerH L = GDALDatasetGetLayerByName(ds, "cities");
        CHECK(L && OGR_L_GetFeatureCount(L, 1) == 3);
        OGRFeatureDefnH fd = L ? OGR_L_GetLayerDefn(L) : NULL;
        if (fd) {
            int ic = OGR_FD_GetFieldIndex(fd, "code"), ip = OGR_FD_GetFieldIndex(fd, "population");
            CHECK(ic >= 0 && OGR_Fld_GetType(OGR_FD_GetFieldDefn(fd, ic)) == OFTString);
            CHECK(ip >= 0 && OGR_Fld_GetType(OGR_FD_GetFieldDefn(fd, ip)) == OFTReal);
            CHECK(wkbFlatten(OGR_FD_GetGeomType(fd)) == wkbPoint);
        }
        GDALClose(ds);
    }
    /* ogrinfo (gdal-bin) opens it */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ogrinfo -ro -so -q %s cities >/dev/null 2>&1", tmp("c.gpkg"));
    if (system("command -v ogrinfo >/dev/null 2>&1") == 0) CHECK(system(cmd) == 0);
    /* a failing write leaves the previous file untouched (bad layer type for CSV append) */
    CHECK(cs_table_write(NULL, tmp("c.gpkg"), CS_FORMAT_AUTO, NULL, 0) == CS_EINVAL);
    CHECK(cs_cities_write(c, tmp("c.unknown"), CS_FORMAT_AUTO, NULL) == CS_EINVAL);
    cs_cities_free(c);

    /* Africa: GPKG, GeoJSON and CSV round trips with all 14 input columns, values bit for bit */
    CHECK_OK(cs_cities_read(DATA "africa_cities_ports.csv", NULL, NULL, &c));
    const char *af[] = {"africa.gpkg", "africa.geojson", "africa.csv"};
    for (int k = 0; k < 3 && c; k++) {
        CHECK_OK(cs_cities_write(c, tmp(af[k]), CS_FORMAT_AUTO, "cities"));
        b = NULL;
        CHECK_OK(cs_cities_read(tmp(af[k]), NULL, NULL, &b));
        if (b) {
            compare_cities(c, b);
            CHECK(cs_cities_total_population(b) == 387167351.0);
        }
        cs_cities_free(b);
    }
    cs_cities_free(c);
}

static void test_table_layers(void)
{
    /* two layers appended into one GeoPackage, then a multi-layer atomic writer */
    cs_table *t;
    CHECK_OK(cs_table_new(2, &t));
    const char *ids[] = {"e1", NULL};
    double v[] = {1.5, NAN};
    int64_t iv[] = {7, 8};
    uint8_t nul[] = {0, 1};
    CHECK_OK(cs_table_add_string(t, "id", ids));
    CHECK_OK(cs_table_add_real(t, "value", v));
    CHECK_OK(cs_table_add_integer(t, "count", iv, nul));
    CHECK(cs_table_add_real(t, "VALUE", v) == CS_EINVAL);
    size_t off[] = {0, 2, 5};
    double lon[] = {0, 1, 0, 1, 1}, lat[] = {0, 1, 0, 0, 1};
    CHECK_OK(cs_table_set_lines(t, off, lon, lat));
    const char *p = tmp("layers.gpkg");
    unlink(p);
    CHECK_OK(cs_table_write(t, p, CS_FORMAT_GPKG, "edges", CS_TABLE_APPEND));
    CHECK_OK(cs_table_set_polygons(t, off, lon, lat));
    CHECK_OK(cs_table_write(t, p, CS_FORMAT_GPKG, "areas", CS_TABLE_APPEND));
    CHECK(cs_table_write(t, p, CS_FORMAT_GPKG, "areas", CS_TABLE_APPEND) == CS_EINVAL);
    const char *wkt[] = {"POINT (1 2)", "LINESTRING (0 0, 3 4)"};
    CHECK_OK(cs_table_set_wkt(t, wkt));
    CHECK_OK(cs_table_write(t, p, CS_FORMAT_GPKG, "mixed", CS_TABLE_APPEND));
    CHECK_OK(cs_table_write(t, tmp("mixed.csv"), CS_FORMAT_AUTO, NULL, 0));
    char *csv;
    size_t n;
    CHECK_OK(cs_read_file(tmp("mixed.csv"), &csv, &n));
    CHECK(csv && !strcmp(csv, "id,value,count,wkt\ne1,1.5,7,POINT (1 2)\n,,,\"LINESTRING (0 0, 3 4)\"\n"));
    cs_free(csv);
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(p, GDAL_OF_VECTOR, NULL, NULL, NULL);
    CHECK(ds && GDALDatasetGetLayerCount(ds) == 3);
    if (ds) {
        OGRLayerH L = GDALDatasetGetLayerByName(ds, "areas");
        CHECK(L && wkbFlatten(OGR_L_GetGeomType(L)) == wkbPolygon && OGR_L_GetFeatureCount(L, 1) == 2);
        OGRFeatureH f = L ? OGR_L_GetNextFeature(L) : NULL;
        CHECK(f && OGR_F_GetGeometryRef(f) == NULL); /* 2 vertices: no polygon */
        if (f) OGR_F_Destroy(f);
        f = L ? OGR_L_GetNextFeature(L) : NULL;
        CHECK(f && OGR_F_GetGeometryRef(f) && !OGR_F_IsFieldSetAndNotNull(f, 1) &&
              !OGR_F_IsFieldSetAndNotNull(f, 2));
        if (f) OGR_F_Destroy(f);
        GDALClose(ds);
    }
    /* invalid WKT: the write fails and leaves the existing target as it was */
    const char *badwkt[] = {"POINT (1 2)", "NOT WKT"};
    CHECK_OK(cs_table_set_wkt(t, badwkt));
    CHECK_OK(cs_write_file_atomic(tmp("keep.geojson"), "old", 3));
    CHECK(cs_table_write(t, tmp("keep.geojson"), CS_FORMAT_AUTO, "x", 0) == CS_EINVAL);
    CHECK_OK(cs_read_file(tmp("keep.geojson"), &csv, &n));
    CHECK(csv && !strcmp(csv, "old"));
    cs_free(csv);
    /* multi-layer atomic writer */
    cs_gpkg_writer *w;
    CHECK_OK(cs_gpkg_begin(tmp("multi.gpkg"), &w));
    CHECK_OK(cs_table_set_points(t, lon, lat));
    CHECK_OK(cs_gpkg_add(w, t, "a"));
    CHECK_OK(cs_gpkg_add(w, t, "b"));
    CHECK(access(tmp("multi.gpkg"), F_OK) != 0); /* not there before commit */
    CHECK_OK(cs_gpkg_commit(w));
    ds = GDALOpenEx(tmp("multi.gpkg"), GDAL_OF_VECTOR, NULL, NULL, NULL);
    CHECK(ds && GDALDatasetGetLayerCount(ds) == 2);
    if (ds) GDALClose(ds);
    cs_table_free(t);
}

static int has_obj(const cs_diag *d, const char *obj, const char *frag)
{
    for (size_t i = 0; i < cs_diag_count(d); i++) {
        const cs_diag_item *it = cs_diag_get(d, i);
        if (!strcmp(it->object, obj) && strstr(it->message, frag)) return 1;
    }
    return 0;
}

static void test_ogr(void)
{
    /* GeoJSON in EPSG:3857: points reprojected to WGS84 (forward-projected with the spherical Mercator formulas
     * x = R*lon, y = R*ln(tan(pi/4 + lat/2)), R = 6378137, from lon/lat (10, 0) and (-20.5, 45)) */
    cs_cities *c = NULL;
    CHECK_OK(cs_cities_read(DATA "towns_3857.geojson", NULL, NULL, &c));
    if (c) {
        CHECK(c->n == 2 && !strcmp(c->id[1], "g2") && c->population[1] == 250);
        CHECK_NEAR(c->lon[0], 10.0, 1e-9);
        CHECK_NEAR(c->lat[0], 0.0, 1e-9);
        CHECK_NEAR(c->lon[1], -20.5, 1e-9);
        CHECK_NEAR(c->lat[1], 45.0, 1e-9);
        CHECK(c->extra.ncols == 1 && !strcmp(c->extra.names[0], "kind"));
    }
    cs_cities_free(c);
    /* Shapefile (made with ogr2ogr when gdal-bin is installed): same cities, read through OGR */
    if (system("command -v ogr2ogr >/dev/null 2>&1") == 0) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "ogr2ogr -q -f 'ESRI Shapefile' %s %s >/dev/null 2>&1", tmp("towns.shp"),
                 DATA "towns_3857.geojson");
        CHECK(system(cmd) == 0);
        c = NULL;
        CHECK_OK(cs_cities_read(tmp("towns.shp"), NULL, NULL, &c));
        if (c) {
            CHECK(c->n == 2 && !strcmp(c->name[1], "Mid North") && c->population[0] == 100);
            CHECK_NEAR(c->lon[1], -20.5, 1e-9);
            CHECK_NEAR(c->lat[1], 45.0, 1e-9);
        }
        cs_cities_free(c);
    } else {
        printf("ogr2ogr not found: Shapefile check skipped\n");
    }
    /* errors name layer, feature (FID) and field */
    cs_diag *d = cs_diag_new();
    c = NULL;
    CHECK(cs_cities_read(DATA "towns_bad.geojson", NULL, d, &c) == CS_EPARSE && !c);
    CHECK(has_obj(d, "layer towns, feature 2, field population", "expected a number, got 'lots'"));
    CHECK(has_obj(d, "layer towns, feature 2", "not a point"));
    CHECK(has_obj(d, "layer towns, feature 3, field id", "duplicate id 'g1' (first on feature 1)"));
    CHECK(has_obj(d, "layer towns, feature 4", "no geometry"));
    CHECK(cs_diag_errors(d) == 4);
    cs_diag_free(d);
    /* a layer that does not exist; a file that is not vector data: no GDAL output on stderr, clear errors */
    cs_city_read_opts o = {0};
    o.layer = "nope";
    CHECK(cs_cities_read(DATA "towns_3857.geojson", &o, NULL, &c) == CS_ENOTFOUND && !c);
    CHECK(strstr(cs_error_last()->message, "layers: towns") != NULL);
    CHECK(cs_cities_read(DATA "links.csv.notvector", NULL, NULL, &c) == CS_EIO && !c);
}

static void test_links(void)
{
    cs_cities *c = NULL;
    CHECK_OK(cs_cities_read(DATA "join_left.csv", NULL, NULL, &c));
    if (!c) return;
    cs_diag *d = cs_diag_new();
    cs_links *l = NULL;
    CHECK(cs_links_read(DATA "links.csv", c, NULL, d, &l) == CS_EPARSE && !l);
    CHECK(has_diag(d, CS_SEV_ERROR, 4, 3, "unknown city 'c9'"));
    CHECK(has_diag(d, CS_SEV_ERROR, 5, 4, "unknown mode 'spaceship'"));
    CHECK(has_diag(d, CS_SEV_ERROR, 5, 5, "expected a number"));
    CHECK(has_diag(d, CS_SEV_ERROR, 5, 6, "negative"));
    CHECK(cs_diag_errors(d) == 4);
    cs_diag_free(d);
    const char *good = "link_id,from,to,mode,time,distance,toll,oneway\n"
                       "l1,c1,c2,road,90,120000,2.5,no\nl2,c2,c3,ferry,30,,0,1\n";
    FILE *f = fopen(tmp("links_ok.csv"), "w");
    fputs(good, f);
    fclose(f);
    CHECK_OK(cs_links_read(tmp("links_ok.csv"), c, NULL, NULL, &l));
    if (l) {
        CHECK(l->n == 2 && l->from[0] == 0 && l->to[0] == 1 && l->from[1] == 1 && l->to[1] == 2);
        CHECK(l->time_s[0] == 90 * 60.0 && l->distance_m[0] == 120000 && isnan(l->distance_m[1]));
        CHECK(l->mode[1] == CS_MODE_WATER && l->friction[0] == 1.0 && l->directed[0] == 0 && l->directed[1] == 1);
        CHECK(l->extra.ncols == 1 && !strcmp(l->extra.names[0], "toll") && !strcmp(l->extra.values[0][0], "2.5"));
    }
    /* written as a GeoPackage layer of lines and read back as a link table */
    if (l) {
        CHECK_OK(cs_links_write(l, c, tmp("links.gpkg"), CS_FORMAT_AUTO, NULL));
        cs_links *l2 = NULL;
        CHECK_OK(cs_links_read(tmp("links.gpkg"), c, NULL, NULL, &l2));
        CHECK(l2 && l2->n == 2 && l2->to[1] == 2 && l2->mode[1] == CS_MODE_WATER && l2->directed[1] == 1);
        if (l2) {
            CHECK(l2->time_s[0] == 90 * 60.0); /* the column time_s is recognised as seconds by its suffix */
            CHECK(isnan(l2->distance_m[1]) && l2->extra.ncols == 1 && !strcmp(l2->extra.values[0][0], "2.5"));
        }
        cs_links_free(l2);
        cs_link_fields sf = {0};
        sf.time = "time_s";
        sf.time_unit_s = 1;
        sf.layer = "links";
        CHECK_OK(cs_links_read(tmp("links.gpkg"), c, &sf, NULL, &l2));
        CHECK(l2 && l2->time_s[0] == 90 * 60.0);
        cs_links_free(l2);
    }
    cs_links_free(l);
    cs_link_fields lf = {0};
    lf.time_unit_s = 1;
    lf.from = "from";
    lf.to = "to";
    CHECK_OK(cs_links_read(tmp("links_ok.csv"), c, &lf, NULL, &l));
    CHECK(l && l->time_s[0] == 90);
    cs_links_free(l);
    cs_cities_free(c);
    cs_mode m;
    CHECK(cs_mode_parse("Ferry", &m) == CS_OK && m == CS_MODE_WATER);
    CHECK(cs_mode_parse("broadband", &m) == CS_OK && m == CS_MODE_ICT);
    CHECK(cs_mode_parse("teleport", &m) == CS_EINVAL);
    CHECK(!strcmp(cs_mode_name(CS_MODE_ENERGY), "energy"));
}

static void test_matrix_csv(void)
{
    cs_matrix *m;
    CHECK_OK(cs_matrix_new(2, 3, CS_MATRIX_TIME, &m));
    const char *r[] = {"a", "b,c"}, *cc[] = {"x", "y \"q\"", "z"};
    CHECK_OK(cs_matrix_set_ids(m, r, cc));
    double vals[] = {0, 0.1, 1e300, INFINITY, NAN, 123456789.125};
    memcpy(m->v, vals, sizeof vals);
    for (int layout = 0; layout < 2; layout++) {
        const char *p = tmp(layout ? "wide.csv" : "long.csv");
        CHECK_OK(cs_matrix_write_csv(m, p, (cs_matrix_csv_layout)layout));
        for (int given = -1; given <= layout; given += 1 + layout) {
            cs_matrix *q = NULL;
            CHECK_OK(cs_matrix_read_csv(p, given, CS_MATRIX_TIME, &q));
            if (!q) continue;
            CHECK(q->rows == 2 && q->cols == 3);
            CHECK(!strcmp(q->row_ids[1], "b,c") && !strcmp(q->col_ids[1], "y \"q\""));
            for (int k = 0; k < 6; k++) CHECK_NEAR(q->v[k], vals[k], 0);
            cs_matrix_free(q);
        }
    }
    char *s;
    size_t n;
    CHECK_OK(cs_read_file(tmp("long.csv"), &s, &n));
    CHECK(s && strstr(s, "origin_id,destination_id,value,reachable\n") == s && strstr(s, "\"b,c\",x,inf,0\n") &&
          strstr(s, "\"b,c\",\"y \"\"q\"\"\",,1\n"));
    cs_free(s);
    cs_matrix_free(m);
    /* errors carry file:line:column */
    const char *bad = "origin_id,destination_id,value\na,b,1\n\"c\nd\",b,oops\n";
    FILE *f = fopen(tmp("badm.csv"), "w");
    fputs(bad, f);
    fclose(f);
    m = NULL;
    CHECK(cs_matrix_read_csv(tmp("badm.csv"), -1, CS_MATRIX_TIME, &m) == CS_EPARSE && !m);
    CHECK(cs_error_last()->line == 4 && cs_error_last()->column == 3);
    /* the Africa border-time matrix layout (wide, first header cell iso3c) */
    const char *wide = "iso3c,MAR,ESH\nMAR,0,1254.69228\nESH,1254.69228,0\n";
    f = fopen(tmp("border.csv"), "w");
    fputs(wide, f);
    fclose(f);
    CHECK_OK(cs_matrix_read_csv(tmp("border.csv"), -1, CS_MATRIX_OTHER, &m));
    CHECK(m && m->rows == 2 && m->cols == 2 && m->v[1] == 1254.69228 && !strcmp(m->col_ids[1], "ESH"));
    cs_matrix_free(m);
}

/* Scenarios for the allocation-failure loop: each returns the status of one library call and frees its result. */
static cs_status sc_good(void *d) { cs_cities *c = NULL; cs_status st = cs_cities_read(DATA "good.csv", NULL, d, &c); cs_cities_free(c); return st; }
static cs_status sc_bad(void *d) { cs_cities *c = NULL; cs_status st = cs_cities_read(DATA "bad_issue.csv", NULL, d, &c); cs_cities_free(c); return st; }
static cs_status sc_ogr(void *d) { cs_cities *c = NULL; cs_status st = cs_cities_read(DATA "towns_bad.geojson", NULL, d, &c); cs_cities_free(c); return st; }
static cs_status sc_join(void *d)
{
    cs_city_fields jf = {0};
    jf.gdp_per_head = "gdp_cap";
    cs_city_join j = {DATA "join_right.csv", NULL, "city_country", "key", NULL, &jf};
    cs_city_read_opts o = {0};
    o.joins = &j;
    o.njoins = 1;
    cs_cities *c = NULL;
    cs_status st = cs_cities_read(DATA "join_left.csv", &o, d, &c);
    cs_cities_free(c);
    return st;
}
static cs_cities *g_cities;
static cs_status sc_links(void *d) { cs_links *l = NULL; cs_status st = cs_links_read(DATA "links.csv", g_cities, NULL, d, &l); cs_links_free(l); return st; }
static cs_status sc_write_csv(void *d) { (void)d; return cs_cities_write(g_cities, tmp("oom.csv"), CS_FORMAT_CSV, NULL); }
static cs_status sc_write_gpkg(void *d) { (void)d; return cs_cities_write(g_cities, tmp("oom.gpkg"), CS_FORMAT_GPKG, NULL); }
static cs_status sc_matrix(void *d)
{
    (void)d;
    cs_matrix *m = NULL;
    cs_status st = cs_matrix_read_csv(tmp("long.csv"), -1, CS_MATRIX_TIME, &m);
    cs_matrix_free(m);
    return st;
}

static void test_alloc_failures(void)
{
    /* Every allocation of each call is made to fail in turn: the call must fail with CS_ENOMEM, return no
     * object and (under ASan) leak nothing. */
    CHECK_OK(cs_cities_read(DATA "join_left.csv", NULL, NULL, &g_cities));
    struct {
        const char *name;
        cs_status (*fn)(void *);
        cs_status expect;
        int tail; /* trailing allocations that may fail silently: cs_atomic_commit's best-effort directory fsync */
    } sc[] = {{"good", sc_good, CS_OK, 0},      {"bad", sc_bad, CS_EPARSE, 0},       {"ogr", sc_ogr, CS_EPARSE, 0},
              {"join", sc_join, CS_OK, 0},      {"links", sc_links, CS_EPARSE, 0},   {"write_csv", sc_write_csv, CS_OK, 1},
              {"write_gpkg", sc_write_gpkg, CS_OK, 1}, {"matrix", sc_matrix, CS_OK, 0}};
    for (size_t k = 0; k < sizeof sc / sizeof sc[0]; k++) {
        CHECK(sc[k].fn(NULL) == sc[k].expect); /* warm-up: builds lazy indexes (cs_cities_find) */
        cs_diag *d = cs_diag_new();
        long before = cs_alloc_count();
        CHECK(sc[k].fn(d) == sc[k].expect);
        long total = cs_alloc_count() - before - sc[k].tail;
        cs_diag_free(d);
        CHECK(total > 3);
        int bad = 0;
        for (long i = 1; i <= total; i++) {
            d = cs_diag_new();
            if (!d) continue;
            cs_alloc_fail_after(i, 0);
            cs_status st = sc[k].fn(d);
            cs_alloc_fail_after(0, 0);
            if (st != CS_ENOMEM && bad++ < 5)
                fprintf(stderr, "alloc failure %ld/%ld in %s: status %d\n", i, total, sc[k].name, st);
            cs_diag_free(d);
        }
        CHECK(bad == 0);
    }
    cs_cities_free(g_cities);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) return 1;
    test_bad_issue();
    test_good();
    test_bom_delims();
    test_swapped();
    test_random_lines();
    test_other_errors();
    test_join();
    test_africa();
    test_ogr();
    test_round_trips();
    test_table_layers();
    test_links();
    test_matrix_csv();
    test_alloc_failures();
    cs_remove_tree(tmpdir);
    TEST_MAIN_END();
}

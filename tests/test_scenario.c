/* test_scenario.c: the scenario module — reader (JSON, GeoJSON, includes, cycles, located errors),
 * validation against a baseline, every change type's channel checked against a hand-worked value, and
 * the model properties of the issue: a scenario that changes nothing leaves everything unchanged to
 * 1e-12; with alpha = beta = 0 no cost-lowering scenario reduces aggregate welfare; no travel time rises
 * when links are only added or upgraded; road + air + road beats road; fast mode = full evaluation; the
 * first-order estimate agrees with the exact change for small changes; the router is restored. */
#include <stdint.h>
#include <unistd.h>
#include "test.h"

#define NC 6

/* ---------------------------------------------------------------- fixture */

typedef struct fixture {
    cs_network *net;
    cs_router *router;
    cs_cities *cities;
    cs_location loc[NC];
    cs_matrix *time, *dist, *bt, *bd;
    cs_scenario_inputs in;
} fixture;

static const double LON[NC] = {0, 1, 2, 2, 1, 0}, LAT[NC] = {0, 0, 0, 1, 1, 1};
static const double POP[NC] = {1e6, 3e5, 5e5, 2e5, 8e5, 4e5}, INC[NC] = {2000, 1500, 3000, 1000, 2500, 1200};
static const char *const CTRY[NC] = {"AAA", "AAA", "AAA", "BBB", "BBB", "BBB"};
static const char *const REG[NC] = {"r1", "r1", "r2", "r2", "r3", "r3"};

static uint32_t road_ms(double m, double kmh) { return (uint32_t)llround(m / (kmh / 3.6) * 1000); }

static void matrices(fixture *f, cs_matrix **t, cs_matrix **d)
{
    cs_matrix_opts mo;
    cs_matrix_opts_default(&mo);
    mo.nonroad_flags = 0;
    mo.src_ids = mo.dst_ids = (const char *const *)f->cities->id;
    CHECK_OK(cs_router_matrix(f->router, f->loc, NC, f->loc, NC, &mo, (cs_progress){0}, t, d));
}

static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    CHECK_OK(cs_network_new(&f->net));
    const char *cls[1] = {"road"};
    cs_network_set_classes(f->net, cls, 1);
    for (int i = 0; i < NC; i++) {
        uint32_t id;
        CHECK_OK(cs_network_add_node(f->net, LON[i], LAT[i], CS_NO_OSM_ID, &id));
    }
    for (uint32_t s = 0; s < 5; s++) {
        double m = cs_geodesic_m(LON[s], LAT[s], LON[s + 1], LAT[s + 1]);
        double glon[2] = {LON[s], LON[s + 1]}, glat[2] = {LAT[s], LAT[s + 1]};
        uint32_t t = road_ms(m, 60);
        CHECK_OK(cs_network_add_segment(f->net, s, s + 1, t, t, (uint32_t)llround(m * 100), CS_SEG_ROAD, 0, s + 1, glon, glat, 2));
        char id[8];
        snprintf(id, sizeof id, "e%u", s + 1);
        CHECK_OK(cs_network_set_ext_id(f->net, s, id));
    }
    CHECK_OK(cs_network_add_proposed(f->net, 0, 5, CS_NO_TIME, CS_NO_TIME, UINT32_MAX, 0, "p1"));
    CHECK_OK(cs_network_add_proposed(f->net, 1, 4, CS_NO_TIME, CS_NO_TIME, UINT32_MAX, 0, "p2"));
    CHECK_OK(cs_router_build(f->net, NULL, (cs_progress){0}, &f->router));
    CHECK_OK(cs_cities_new(NC, &f->cities));
    cs_cities *c = f->cities;
    c->gdp_per_head = cs_calloc(NC, sizeof(double));
    c->country = cs_calloc(NC, sizeof(char *));
    c->region = cs_calloc(NC, sizeof(char *));
    for (int i = 0; i < NC; i++) {
        c->id[i] = cs_asprintf("c%d", i);
        c->name[i] = cs_asprintf("City %d", i);
        c->lon[i] = LON[i];
        c->lat[i] = LAT[i];
        c->population[i] = POP[i];
        c->gdp_per_head[i] = INC[i];
        c->country[i] = cs_strdup(CTRY[i]);
        c->region[i] = cs_strdup(REG[i]);
        f->loc[i] = cs_location_node((uint32_t)i);
    }
    c->n = NC;
    matrices(f, &f->time, &f->dist);
    const char *cc[2] = {"AAA", "BBB"};
    CHECK_OK(cs_matrix_new(2, 2, CS_MATRIX_TIME, &f->bt));
    CHECK_OK(cs_matrix_set_ids(f->bt, cc, cc));
    f->bt->v[1] = f->bt->v[2] = 60; /* minutes */
    CHECK_OK(cs_matrix_new(2, 2, CS_MATRIX_DISTANCE, &f->bd));
    CHECK_OK(cs_matrix_set_ids(f->bd, cc, cc));
    cs_scenario_inputs_default(&f->in);
    f->in.cities = c;
    f->in.net = f->net;
    f->in.router = f->router;
    f->in.loc = f->loc;
    f->in.time = f->time;
    f->in.dist = f->dist;
    f->in.border_time_min = f->bt;
    f->in.border_dist_m = f->bd;
}

static void fixture_free(fixture *f)
{
    cs_matrix_free(f->time);
    cs_matrix_free(f->dist);
    cs_matrix_free(f->bt);
    cs_matrix_free(f->bd);
    cs_router_free(f->router);
    cs_network_free(f->net);
    cs_cities_free(f->cities);
}

static cs_scenario *parse(const char *text, cs_diag *d)
{
    cs_scenario *s = NULL;
    cs_status st = cs_scenario_parse(text, strlen(text), "t.json", ".", NULL, d, &s);
    if (st && !d) fprintf(stderr, "parse failed: %s\n", cs_error_last()->message);
    return s;
}

static cs_scenario_result *eval(cs_scenario_base *b, const char *text, cs_eq_horizon hz, unsigned flags)
{
    cs_diag *d = cs_diag_new();
    cs_scenario *s = parse(text, d);
    CHECK(s != NULL);
    cs_scenario_result *r = NULL;
    cs_scenario_opts o;
    cs_scenario_opts_default(&o);
    o.horizon = hz;
    o.flags = flags;
    if (s) CHECK_OK(cs_scenario_evaluate(b, s, &o, d, &r));
    for (size_t k = 0; k < cs_diag_count(d); k++) {
        char buf[1024];
        cs_diag_format(d, k, buf, sizeof buf);
        fprintf(stderr, "  %s\n", buf);
    }
    cs_diag_free(d);
    cs_scenario_free(s);
    return r;
}

static int find_diag(const cs_diag *d, const char *needle, long line, long col)
{
    for (size_t k = 0; k < cs_diag_count(d); k++) {
        const cs_diag_item *it = cs_diag_get(d, k);
        if (strstr(it->message, needle) && (line < 0 || it->line == line) && (col < 0 || it->column == col)) return 1;
    }
    for (size_t k = 0; k < cs_diag_count(d); k++) {
        char buf[1024];
        cs_diag_format(d, k, buf, sizeof buf);
        fprintf(stderr, "  (have) %s\n", buf);
    }
    return 0;
}

/* ---------------------------------------------------------------- reader */

static void test_reader(void)
{
    /* every change type parses; accessors */
    const char *all =
        "{\"name\": \"every_type\", \"description\": \"d\", \"changes\": [\n"
        " {\"type\": \"upgrade\", \"name\": \"u\", \"edges\": [\"e1\", \"e2\"], \"time_factor\": 0.5, \"capital_cost\": 10},\n"
        " {\"type\": \"close\", \"edges\": [\"e4\"]},\n"
        " {\"type\": \"build\", \"proposed\": \"all\", \"construction_years\": 3, \"capital_cost\": 30},\n"
        " {\"type\": \"link\", \"mode\": \"air\", \"from\": \"c1\", \"to\": \"c4\", \"time_min\": 50, \"transfer_min\": [60, 45]},\n"
        " {\"type\": \"border\", \"countries\": [\"AAA\", \"BBB\"], \"factor\": 0.5},\n"
        " {\"type\": \"soft\", \"regions\": [\"r1\", \"r3\"], \"factor\": 0.9},\n"
        " {\"type\": \"ict\", \"cities\": [\"c0\", \"c1\"], \"friction_factor\": 0.9, \"productivity_factor\": 1.02},\n"
        " {\"type\": \"facility\", \"city\": \"c2\", \"radius_min\": 200, \"factor\": 1.05},\n"
        " {\"type\": \"productivity\", \"cities\": [\"c3\"], \"factor\": 1.1},\n"
        " {\"type\": \"amenity\", \"cities\": [\"c4\"], \"factor\": 1.1}]}\n";
    cs_scenario *s = parse(all, NULL);
    CHECK(s && cs_scenario_nchanges(s) == 10);
    if (s) {
        CHECK(!strcmp(cs_scenario_name(s), "every_type"));
        for (size_t k = 0; k < 10; k++) {
            cs_change_info ci;
            CHECK_OK(cs_scenario_change(s, k, &ci));
            CHECK(ci.type == (cs_change_type)(k == 0 ? 0 : k == 1 ? 1 : k == 2 ? 2 : k + 0));
            CHECK(ci.line == (long)k + 2);
        }
        cs_change_info ci;
        cs_scenario_change(s, 0, &ci);
        CHECK(ci.capital_cost == 10 && ci.lifetime_years == 30 && ci.construction_years == 1 && ci.nitems == 2);
        CHECK(!strcmp(cs_scenario_change_item(s, 0, 1), "e2"));
        double cap[8];
        cs_project_costs pc;
        CHECK_OK(cs_scenario_costs(s, SIZE_MAX, cap, 8, &pc));
        CHECK(pc.n_capital == 3 && fabs(cap[0] - 40.0 / 3) < 1e-12);
        /* select / merge / to_json round trip */
        uint8_t keep[10] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        cs_scenario *a = NULL, *m = NULL, *back = NULL;
        CHECK_OK(cs_scenario_select(s, keep, "two", &a));
        CHECK(a && cs_scenario_nchanges(a) == 2 && !strcmp(cs_scenario_name(a), "two"));
        const cs_scenario *both[2] = {a, s};
        CHECK_OK(cs_scenario_merge(both, 2, "m", &m));
        CHECK(m && cs_scenario_nchanges(m) == 12);
        char *txt = cs_scenario_to_json(s);
        CHECK(txt != NULL);
        if (txt) back = parse(txt, NULL);
        CHECK(back && cs_scenario_nchanges(back) == 10);
        cs_free(txt);
        cs_scenario_free(back);
        cs_scenario_free(a);
        cs_scenario_free(m);
    }
    cs_scenario_free(s);

    /* located errors: line:column of the offending value, and the JSON path */
    const char *bad = "{\"name\": \"bad\", \"changes\": [\n"
                      "  {\"type\": \"upgrade\", \"edges\": [\"e1\", {}], \"time_factor\": 7},\n"
                      "  {\"type\": \"warp\"},\n"
                      "  {\"type\": \"soft\", \"cities\": [\"c1\", \"c2\"]},\n"
                      "  {\"type\": \"close\", \"edges\": [\"e1\"], \"colour\": 1}\n"
                      "]}\n";
    cs_diag *d = cs_diag_new();
    s = parse(bad, d);
    CHECK(s == NULL);
    CHECK(find_diag(d, "expected a string id", 2, 39));
    CHECK(find_diag(d, "'time_factor' = 7 is out of range", 2, 59));
    CHECK(find_diag(d, "unknown change type 'warp'", 3, 12));
    CHECK(find_diag(d, "missing field 'factor'", 4, 3));
    CHECK(find_diag(d, "unknown key 'colour'", 5, 48));
    const cs_diag_item *it = cs_diag_count(d) ? cs_diag_get(d, 0) : NULL;
    CHECK(it && !strcmp(it->file, "t.json") && !strcmp(it->object, "changes[0].edges[1]"));
    cs_diag_free(d);

    /* syntax error: jansson's position */
    d = cs_diag_new();
    s = parse("{\"changes\": [\n  {\"type\": }\n]}", d);
    CHECK(s == NULL && cs_diag_count(d) == 1 && cs_diag_get(d, 0)->line == 2);
    cs_diag_free(d);

    /* GeoJSON: properties are changes, the LineString is the geometry */
    const char *geo = "{\"type\": \"FeatureCollection\", \"name\": \"drawn\", \"features\": [\n"
                      " {\"type\": \"Feature\", \"properties\": {\"type\": \"build\", \"speed_kmh\": 80},\n"
                      "  \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[0, 0], [0.2, 0.5], [0, 1]]}},\n"
                      " {\"type\": \"Feature\", \"properties\": {\"type\": \"link\", \"mode\": \"ferry\", \"time_min\": 90},\n"
                      "  \"geometry\": {\"type\": \"Point\", \"coordinates\": [1, 0]}}]}\n";
    d = cs_diag_new();
    s = parse(geo, d);
    CHECK(s == NULL);
    CHECK(find_diag(d, "needs a LineString geometry, not Point", 5, 15));
    cs_diag_free(d);

    /* includes (relative to the including file), recursion, and a cycle */
    char dir[] = "/tmp/cs_scenario_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char p1[256], p2[256], p3[256], p4[256];
    snprintf(p1, sizeof p1, "%s/a.json", dir);
    snprintf(p2, sizeof p2, "%s/b.json", dir);
    snprintf(p3, sizeof p3, "%s/c.json", dir);
    snprintf(p4, sizeof p4, "%s/d.json", dir);
    FILE *fp = fopen(p1, "w");
    fprintf(fp, "{\"name\": \"a\", \"include\": [\"b.json\"], \"changes\": [{\"type\": \"amenity\", \"cities\": [\"c0\"], \"factor\": 1.1}]}");
    fclose(fp);
    fp = fopen(p2, "w");
    fprintf(fp, "{\"name\": \"b\", \"include\": [\"d.json\"], \"changes\": [{\"type\": \"amenity\", \"cities\": [\"c1\"], \"factor\": 1.2}]}");
    fclose(fp);
    fp = fopen(p4, "w");
    fprintf(fp, "{\"changes\": [{\"type\": \"productivity\", \"cities\": [\"c2\"], \"factor\": 1.3}]}");
    fclose(fp);
    fp = fopen(p3, "w");
    fprintf(fp, "{\"name\": \"c\",\n \"include\": [\"c.json\"], \"changes\": []}");
    fclose(fp);
    s = NULL;
    CHECK_OK(cs_scenario_read(p1, NULL, NULL, &s));
    CHECK(s && cs_scenario_nchanges(s) == 3 && !strcmp(cs_scenario_name(s), "a"));
    if (s && cs_scenario_nchanges(s) == 3) {
        cs_change_info ci;
        cs_scenario_change(s, 0, &ci);
        CHECK(ci.type == CS_CHANGE_PRODUCTIVITY && strstr(ci.file, "d.json"));
        cs_scenario_change(s, 2, &ci);
        CHECK(ci.type == CS_CHANGE_AMENITY && strstr(ci.file, "a.json"));
    }
    cs_scenario_free(s);
    d = cs_diag_new();
    s = NULL;
    CHECK(cs_scenario_read(p3, NULL, d, &s) == CS_EPARSE && s == NULL);
    CHECK(find_diag(d, "include cycle", 2, 14));
    cs_diag_free(d);
    d = cs_diag_new();
    char p5[256];
    snprintf(p5, sizeof p5, "%s/missing.json", dir);
    CHECK(cs_scenario_read(p5, NULL, d, &s) == CS_EIO);
    cs_diag_free(d);
    unlink(p1);
    unlink(p2);
    unlink(p3);
    unlink(p4);
    rmdir(dir);
}

/* ---------------------------------------------------------------- validation */

static void test_validation(fixture *f)
{
    const char *txt = "{\"changes\": [\n"
                      "  {\"type\": \"upgrade\", \"edges\": [\"e1\", \"zz\"], \"time_factor\": 0.5},\n"
                      "  {\"type\": \"build\", \"proposed\": [\"p9\"]},\n"
                      "  {\"type\": \"amenity\", \"cities\": [\"nowhere\"], \"factor\": 1.1},\n"
                      "  {\"type\": \"border\", \"countries\": [\"AAA\", \"XXX\"], \"factor\": 0.5},\n"
                      "  {\"type\": \"soft\", \"regions\": [\"r1\", \"r9\"], \"factor\": 0.5},\n"
                      "  {\"type\": \"build\", \"from_node\": 0, \"to_node\": 99}\n"
                      "]}";
    cs_scenario *s = parse(txt, NULL);
    CHECK(s != NULL);
    if (!s) return;
    cs_diag *d = cs_diag_new();
    CHECK(cs_scenario_validate(s, &f->in, d) == CS_EPARSE);
    CHECK(find_diag(d, "no road segment with edge id 'zz'", 2, 39));
    CHECK(find_diag(d, "no proposed link with edge id 'p9'", 3, 34));
    CHECK(find_diag(d, "unknown city 'nowhere'", 4, 34));
    CHECK(find_diag(d, "unknown country 'XXX'", 5, 43));
    CHECK(find_diag(d, "unknown region 'r9'", 6, 38));
    CHECK(find_diag(d, "node 99 does not exist", -1, -1));
    CHECK(cs_diag_errors(d) == 6);
    cs_diag_free(d);
    /* nothing runs on an invalid scenario */
    cs_scenario_base *b = NULL;
    CHECK_OK(cs_scenario_base_new(&f->in, (cs_progress){0}, NULL, &b));
    cs_scenario_result *r = NULL;
    d = cs_diag_new();
    CHECK(cs_scenario_evaluate(b, s, NULL, d, &r) == CS_EPARSE && r == NULL && cs_diag_errors(d) == 6);
    cs_diag_free(d);
    cs_scenario_base_free(b);
    cs_scenario_free(s);
}

/* ---------------------------------------------------------------- channels */

static double cell(const cs_matrix *m, int i, int j) { return m->v[(size_t)i * m->cols + (size_t)j]; }

static void test_channels(fixture *f)
{
    cs_scenario_base *b = NULL;
    CHECK_OK(cs_scenario_base_new(&f->in, (cs_progress){0}, NULL, &b));
    if (!b) return;
    const cs_matrix *c0 = cs_scenario_base_cost(b);
    unsigned K = CS_SCENARIO_KEEP_MATRICES;
    double t01 = cell(f->time, 0, 1), t05 = cell(f->time, 0, 5);

    /* upgrade: segment e1 twice as fast -> t(c0,c1) halves (ms rounding) */
    cs_scenario_result *r = eval(b, "{\"changes\": [{\"type\": \"upgrade\", \"edges\": [\"e1\"], \"time_factor\": 0.5}]}", CS_EQ_SHORT_RUN, K);
    if (r) {
        CHECK_NEAR(cell(r->time_after, 0, 1), t01 / 2, 1e-6);
        CHECK(r->pairs_slower == 0 && r->pairs_faster > 0);
        CHECK(r->change->real_income_hat[0] > 1);
    }
    cs_scenario_result_free(r);
    /* upgrade to a design speed of 120 km/h: t = length / speed */
    r = eval(b, "{\"changes\": [{\"type\": \"upgrade\", \"edges\": [\"e1\"], \"speed_kmh\": 120}]}", CS_EQ_SHORT_RUN, K);
    if (r) CHECK_NEAR(cell(r->time_after, 0, 1), cs_geodesic_m(0, 0, 1, 0) / (120 / 3.6), 1e-6);
    cs_scenario_result_free(r);
    /* close e1: c0 cut off */
    r = eval(b, "{\"changes\": [{\"type\": \"close\", \"edges\": [\"e1\"]}]}", CS_EQ_SHORT_RUN, K);
    if (r) {
        CHECK(isinf(cell(r->time_after, 0, 1)) && isinf(cell(r->time_after, 5, 0)));
        CHECK(r->pairs_slower == 10 && r->pairs_faster == 0);
        CHECK(r->change->real_income_hat[0] < 1);
    }
    cs_scenario_result_free(r);
    /* build p1 (0-5) at 80 km/h: t(c0,c5) = geodesic length / 80 km/h */
    r = eval(b, "{\"changes\": [{\"type\": \"build\", \"proposed\": [\"p1\"], \"speed_kmh\": 80}]}", CS_EQ_LONG_RUN, K);
    double l05 = cs_geodesic_m(0, 0, 0, 1);
    if (r) {
        CHECK_NEAR(cell(r->time_after, 0, 5), l05 / (80 / 3.6), 1e-6);
        CHECK(r->pairs_slower == 0);
    }
    cs_scenario_result_free(r);
    /* build between two cities with its own time */
    r = eval(b, "{\"changes\": [{\"type\": \"build\", \"from\": \"c0\", \"to\": \"c5\", \"time_min\": 30}]}", CS_EQ_SHORT_RUN, K);
    if (r) CHECK_NEAR(cell(r->time_after, 5, 0), 1800, 1e-9);
    cs_scenario_result_free(r);
    /* build drawn as a LineString: its ends join the nearest nodes; length along the line */
    const char *geo = "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"properties\": "
                      "{\"type\": \"build\", \"speed_kmh\": 100}, \"geometry\": {\"type\": \"LineString\", "
                      "\"coordinates\": [[0.001, 0.001], [0.3, 0.5], [0.0, 0.999]]}}]}";
    r = eval(b, geo, CS_EQ_SHORT_RUN, K);
    if (r) {
        double len = cs_geodesic_m(0.001, 0.001, 0.3, 0.5) + cs_geodesic_m(0.3, 0.5, 0.0, 0.999);
        CHECK_NEAR(cell(r->time_after, 0, 5), len / (100 / 3.6), 1e-6);
    }
    cs_scenario_result_free(r);
    /* link: rail c0-c5, 10 min in the train + 5 min transfer at each end; flagged as non-road */
    r = eval(b, "{\"changes\": [{\"type\": \"link\", \"mode\": \"rail\", \"from\": \"c0\", \"to\": \"c5\", \"time_min\": 10, \"transfer_min\": 5}]}",
             CS_EQ_SHORT_RUN, K);
    if (r) {
        CHECK_NEAR(cell(r->time_after, 0, 5), 1200, 1e-9);
        CHECK(r->pairs_nonroad_after >= 2);
    }
    cs_scenario_result_free(r);
    /* the same drawn link again: its closed segment is re-opened (the router does not grow) and the
       answer is the same; then with another time (same ends and length): the new time */
    {
        cs_router_info i0, i1;
        cs_router_info_get(f->router, &i0);
        r = eval(b, "{\"changes\": [{\"type\": \"link\", \"mode\": \"rail\", \"from\": \"c0\", \"to\": \"c5\", \"time_min\": 10, \"transfer_min\": 5}]}",
                 CS_EQ_SHORT_RUN, K);
        cs_router_info_get(f->router, &i1);
        CHECK(i1.segments == i0.segments);
        if (r) {
            CHECK_NEAR(cell(r->time_after, 0, 5), 1200, 1e-9);
            CHECK(r->pairs_nonroad_after >= 2);
        }
        cs_scenario_result_free(r);
        r = eval(b, "{\"changes\": [{\"type\": \"link\", \"mode\": \"rail\", \"from\": \"c0\", \"to\": \"c5\", \"time_min\": 4, \"transfer_min\": 1}]}",
                 CS_EQ_SHORT_RUN, K);
        cs_router_info_get(f->router, &i1);
        CHECK(i1.segments == i0.segments);
        if (r) CHECK_NEAR(cell(r->time_after, 0, 5), 360, 1e-9);
        cs_scenario_result_free(r);
        /* two copies of it in one scenario: one re-opened, one added */
        r = eval(b, "{\"changes\": [{\"type\": \"link\", \"mode\": \"rail\", \"from\": \"c0\", \"to\": \"c5\", \"time_min\": 10, \"transfer_min\": 5},"
                    " {\"type\": \"link\", \"mode\": \"rail\", \"from\": \"c0\", \"to\": \"c5\", \"time_min\": 20}]}",
                 CS_EQ_SHORT_RUN, K);
        cs_router_info_get(f->router, &i1);
        CHECK(i1.segments == i0.segments + 1);
        if (r) CHECK_NEAR(cell(r->time_after, 0, 5), 1200, 1e-9);
        cs_scenario_result_free(r);
        /* and the baseline is back: a scenario with nothing hard sees the baseline times */
        r = eval(b, "{\"changes\": [{\"type\": \"link\", \"mode\": \"rail\", \"from\": \"c1\", \"to\": \"c2\", \"time_min\": 600}]}",
                 CS_EQ_SHORT_RUN, K);
        if (r) CHECK_NEAR(cell(r->time_after, 0, 5), t05, 1e-9);
        cs_scenario_result_free(r);
    }
    /* road + air + road beats road: air c1-c4 of 20 min incl. transfers; t(c0,c5) = t01 + 1200 + t45 */
    r = eval(b, "{\"changes\": [{\"type\": \"link\", \"mode\": \"air\", \"from\": \"c1\", \"to\": \"c4\", \"time_min\": 10, \"transfer_min\": [6, 4]}]}",
             CS_EQ_SHORT_RUN, K);
    if (r) {
        double t45 = cell(f->time, 4, 5);
        CHECK_NEAR(cell(r->time_after, 0, 5), t01 + 1200 + t45, 1e-9);
        CHECK(cell(r->time_after, 0, 5) < t05);
        CHECK(r->pairs_nonroad_after > 0 && r->pairs_slower == 0);
    }
    cs_scenario_result_free(r);
    /* border: penalties between AAA and BBB halved -> cost(c0,c5) = time/60 + 30 (was + 60) */
    r = eval(b, "{\"changes\": [{\"type\": \"border\", \"countries\": [\"AAA\", \"BBB\"], \"factor\": 0.5}]}", CS_EQ_LONG_RUN, K);
    if (r) {
        CHECK_NEAR(cell(c0, 0, 5), t05 / 60 + 60, 1e-12);
        CHECK_NEAR(cell(r->cost_after, 0, 5), t05 / 60 + 30, 1e-12);
        CHECK_NEAR(cell(r->cost_after, 0, 1), cell(c0, 0, 1), 1e-15);
        CHECK(r->welfare_change > 0);
    }
    cs_scenario_result_free(r);
    /* soft agreement between two cities: their cost x 0.5, nothing else */
    r = eval(b, "{\"changes\": [{\"type\": \"soft\", \"cities\": [\"c0\", \"c5\"], \"factor\": 0.5}]}", CS_EQ_LONG_RUN, K);
    if (r) {
        CHECK_NEAR(cell(r->cost_after, 0, 5), 0.5 * cell(c0, 0, 5), 1e-12);
        CHECK_NEAR(cell(r->cost_after, 5, 0), 0.5 * cell(c0, 5, 0), 1e-12);
        CHECK_NEAR(cell(r->cost_after, 0, 4), cell(c0, 0, 4), 1e-15);
    }
    cs_scenario_result_free(r);
    /* a member listed twice counts once: every pair among {c0, c5, c1} exactly x 0.5 (not 0.25 for a pair met twice) */
    r = eval(b, "{\"changes\": [{\"type\": \"soft\", \"cities\": [\"c0\", \"c5\", \"c1\", \"c0\"], \"factor\": 0.5}]}", CS_EQ_LONG_RUN, K);
    if (r) {
        int mem[3] = {0, 5, 1};
        for (int x = 0; x < 3; x++)
            for (int y = 0; y < 3; y++)
                if (x != y) CHECK_NEAR(cell(r->cost_after, mem[x], mem[y]), 0.5 * cell(c0, mem[x], mem[y]), 1e-12);
        CHECK_NEAR(cell(r->cost_after, 0, 4), cell(c0, 0, 4), 1e-15);
    }
    cs_scenario_result_free(r);
    /* soft agreement among regions r1 and r3: pairs across the two, not within */
    r = eval(b, "{\"changes\": [{\"type\": \"soft\", \"regions\": [\"r1\", \"r3\"], \"factor\": 0.8}]}", CS_EQ_LONG_RUN, K);
    if (r) {
        CHECK_NEAR(cell(r->cost_after, 1, 4), 0.8 * cell(c0, 1, 4), 1e-12);
        CHECK_NEAR(cell(r->cost_after, 0, 1), cell(c0, 0, 1), 1e-15);
        CHECK_NEAR(cell(r->cost_after, 0, 2), cell(c0, 0, 2), 1e-15);
    }
    cs_scenario_result_free(r);
    /* ict: friction among members and a productivity shift of members */
    r = eval(b, "{\"changes\": [{\"type\": \"ict\", \"cities\": [\"c0\", \"c3\"], \"friction_factor\": 0.9, \"productivity_factor\": 1.02}]}",
             CS_EQ_SHORT_RUN, K);
    if (r) {
        CHECK_NEAR(cell(r->cost_after, 0, 3), 0.9 * cell(c0, 0, 3), 1e-12);
        CHECK(r->a_shift[0] == 1.02 && r->a_shift[3] == 1.02 && r->a_shift[1] == 1 && r->b_shift[0] == 1);
    }
    cs_scenario_result_free(r);
    /* facility at c2: amenity x 1.05 for cities within 150 min of it (c1, c2, c3 at ~111 min) */
    r = eval(b, "{\"changes\": [{\"type\": \"facility\", \"city\": \"c2\", \"radius_min\": 150, \"factor\": 1.05}]}", CS_EQ_SHORT_RUN, 0);
    if (r) {
        for (int i = 0; i < NC; i++) CHECK(r->b_shift[i] == ((i >= 1 && i <= 3) ? 1.05 : 1));
        /* short run, amenity only: welfare of c2's residents rises by exactly the factor, prices unchanged */
        CHECK_NEAR(r->change->welfare_hat[2], 1.05, 1e-10);
        CHECK_NEAR(r->change->real_income_hat[2], 1, 1e-10);
    }
    cs_scenario_result_free(r);
    /* productivity and amenity shifters */
    r = eval(b, "{\"changes\": [{\"type\": \"productivity\", \"cities\": [\"c3\"], \"factor\": 1.1}, {\"type\": \"amenity\", \"cities\": [\"c4\"], \"factor\": 1.2}]}",
             CS_EQ_SHORT_RUN, 0);
    if (r) {
        CHECK(r->a_shift[3] == 1.1 && r->b_shift[4] == 1.2 && r->a_shift[4] == 1 && r->b_shift[3] == 1);
        CHECK(r->change->w_hat[3] > 1);
        CHECK_NEAR(r->change->welfare_hat[4] / r->change->real_income_hat[4], 1.2, 1e-10);
    }
    cs_scenario_result_free(r);

    /* the router is restored after every evaluation */
    cs_matrix *t2 = NULL, *d2 = NULL;
    matrices(f, &t2, &d2);
    int same = t2 != NULL;
    for (size_t k = 0; same && k < NC * NC; k++) same = t2->v[k] == f->time->v[k] && d2->v[k] == f->dist->v[k];
    CHECK(same);
    cs_matrix_free(t2);
    cs_matrix_free(d2);
    cs_scenario_base_free(b);
}

/* ---------------------------------------------------------------- model properties */

static void check_unchanged(const cs_scenario_result *r, const cs_scenario_base *b)
{
    const cs_eq_state *s0 = cs_scenario_base_state(b);
    double worst = 0;
    for (int i = 0; i < NC; i++) {
        worst = fmax(worst, fabs(r->change->w_hat[i] - 1));
        worst = fmax(worst, fabs(r->change->L_hat[i] - 1));
        worst = fmax(worst, fabs(r->change->P_hat[i] - 1));
        worst = fmax(worst, fabs(r->change->welfare_hat[i] - 1));
        worst = fmax(worst, fabs(r->after->real_income[i] / s0->real_income[i] - 1));
        worst = fmax(worst, fabs(r->access_after[i] / r->access_before[i] - 1));
    }
    worst = fmax(worst, fabs(r->total_ev) / s0->world_income);
    CHECK(worst <= 1e-12);
    for (size_t k = 0; k < r->nineq; k++)
        CHECK(fabs(r->ineq[k].after - r->ineq[k].before) <= 1e-12 || (isnan(r->ineq[k].after) && isnan(r->ineq[k].before)));
    CHECK(r->pairs_faster == 0 && r->pairs_slower == 0 && r->n_gainers == 0 && r->n_losers == 0);
}

static void test_nothing(fixture *f)
{
    cs_scenario_base *b = NULL;
    CHECK_OK(cs_scenario_base_new(&f->in, (cs_progress){0}, NULL, &b));
    if (!b) return;
    const char *none[] = {
        "{\"changes\": [{\"type\": \"amenity\", \"cities\": [\"c0\"], \"factor\": 1}]}",
        "{\"changes\": [{\"type\": \"upgrade\", \"edges\": [\"e1\", \"e3\"], \"time_factor\": 1}]}",
        "{\"changes\": [{\"type\": \"soft\", \"countries\": [\"AAA\", \"BBB\"], \"factor\": 1}, {\"type\": \"border\", \"countries\": [\"AAA\", \"BBB\"], \"factor\": 1}]}",
        "{\"changes\": [{\"type\": \"upgrade\", \"edges\": [\"e2\"], \"speed_kmh\": 10}]}", /* slower design speed: kept */
    };
    for (int k = 0; k < 4; k++)
        for (int hz = 0; hz < 2; hz++) {
            cs_scenario_result *r = eval(b, none[k], hz ? CS_EQ_SHORT_RUN : CS_EQ_LONG_RUN, 0);
            if (r) check_unchanged(r, b);
            cs_scenario_result_free(r);
        }
    cs_scenario_base_free(b);
    /* imperfect mobility (Frechet tastes): nothing changes either; a real change moves fewer people than
       with perfect mobility */
    cs_scenario_inputs in = f->in;
    in.eq.mobility = CS_EQ_IMPERFECT;
    in.eq.kappa = 2;
    b = NULL;
    CHECK_OK(cs_scenario_base_new(&in, (cs_progress){0}, NULL, &b));
    if (!b) return;
    cs_scenario_result *r = eval(b, none[0], CS_EQ_LONG_RUN, 0);
    if (r) check_unchanged(r, b);
    cs_scenario_result_free(r);
    const char *amen = "{\"changes\": [{\"type\": \"amenity\", \"cities\": [\"c0\"], \"factor\": 1.2}]}";
    r = eval(b, amen, CS_EQ_LONG_RUN, 0);
    cs_scenario_base *bp = NULL;
    CHECK_OK(cs_scenario_base_new(&f->in, (cs_progress){0}, NULL, &bp));
    cs_scenario_result *rp = bp ? eval(bp, amen, CS_EQ_LONG_RUN, 0) : NULL;
    if (r && rp) {
        CHECK(r->change->L_hat[0] > 1 && rp->change->L_hat[0] > r->change->L_hat[0]);
        /* imperfect mobility: the welfare of living in a city is not equalised: c0's rises more than c1's */
        CHECK(r->change->welfare_hat[0] > r->change->welfare_hat[1]);
        /* perfect mobility: equalised within the group */
        CHECK_NEAR(rp->change->welfare_hat[0], rp->change->welfare_hat[1], 1e-9);
    }
    cs_scenario_result_free(r);
    cs_scenario_result_free(rp);
    cs_scenario_base_free(bp);
    cs_scenario_base_free(b);
}

static uint64_t rng = 99;
static double rnd01(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

/* alpha = beta = 0: random cost-lowering scenarios never reduce aggregate welfare; no travel time rises */
static void test_lowering(fixture *f)
{
    cs_scenario_inputs in = f->in;
    in.eq.alpha = 0;
    in.eq.beta = 0;
    cs_scenario_base *b = NULL;
    CHECK_OK(cs_scenario_base_new(&in, (cs_progress){0}, NULL, &b));
    if (!b) return;
    for (int trial = 0; trial < 12; trial++) {
        char buf[2048];
        size_t u = 0;
        u += (size_t)snprintf(buf + u, sizeof buf - u, "{\"changes\": [");
        u += (size_t)snprintf(buf + u, sizeof buf - u, "{\"type\": \"upgrade\", \"edges\": [\"e%d\"], \"time_factor\": %.3f}",
                              1 + (int)(rnd01() * 5), 0.3 + 0.7 * rnd01());
        if (rnd01() < 0.5) u += (size_t)snprintf(buf + u, sizeof buf - u, ", {\"type\": \"build\", \"proposed\": [\"p%d\"], \"speed_kmh\": %.0f}",
                                                 1 + (int)(rnd01() * 2), 30 + 90 * rnd01());
        if (rnd01() < 0.5) u += (size_t)snprintf(buf + u, sizeof buf - u, ", {\"type\": \"soft\", \"cities\": [\"c%d\", \"c%d\"], \"factor\": %.3f}",
                                                 (int)(rnd01() * 3), 3 + (int)(rnd01() * 3), 0.5 + 0.5 * rnd01());
        if (rnd01() < 0.5) u += (size_t)snprintf(buf + u, sizeof buf - u, ", {\"type\": \"border\", \"countries\": [\"AAA\", \"BBB\"], \"factor\": %.3f}",
                                                 0.2 + 0.8 * rnd01());
        if (rnd01() < 0.3) u += (size_t)snprintf(buf + u, sizeof buf - u, ", {\"type\": \"link\", \"mode\": \"air\", \"from\": \"c%d\", \"to\": \"c%d\", \"time_min\": %.0f}",
                                                 (int)(rnd01() * 3), 3 + (int)(rnd01() * 3), 20 + 200 * rnd01());
        snprintf(buf + u, sizeof buf - u, "]}");
        for (int hz = 0; hz < 2; hz++) {
            cs_scenario_result *r = eval(b, buf, hz ? CS_EQ_SHORT_RUN : CS_EQ_LONG_RUN, CS_SCENARIO_KEEP_MATRICES);
            if (!r) continue;
            CHECK(r->total_ev >= -1e-9 * cs_scenario_base_state(b)->world_income);
            CHECK(r->welfare_change >= -1e-12);
            CHECK(r->pairs_slower == 0);
            int rises = 0;
            for (size_t k = 0; k < NC * NC; k++) rises |= r->time_after->v[k] > f->time->v[k];
            CHECK(!rises);
            cs_scenario_result_free(r);
        }
    }
    cs_scenario_base_free(b);
}

/* fast mode = full evaluation; first-order estimate ~ exact for a small change (short run, alpha = beta = 0) */
static void test_fast_and_estimate(fixture *f)
{
    cs_scenario_inputs in = f->in;
    in.eq.alpha = 0;
    in.eq.beta = 0;
    cs_scenario_base *b = NULL;
    CHECK_OK(cs_scenario_base_new(&in, (cs_progress){0}, NULL, &b));
    if (!b) return;
    const char *txt = "{\"changes\": [{\"type\": \"build\", \"proposed\": [\"p2\"]}, {\"type\": \"amenity\", \"cities\": [\"c1\"], \"factor\": 1.05}]}";
    cs_scenario *s = parse(txt, NULL);
    cs_scenario_result *r = NULL;
    double y[NC], y0[NC], ev = 0;
    if (s) {
        cs_scenario_opts o;
        cs_scenario_opts_default(&o);
        CHECK_OK(cs_scenario_evaluate(b, s, &o, NULL, &r));
        CHECK_OK(cs_scenario_evaluate_fast(b, s, CS_EQ_LONG_RUN, CS_OUTCOME_REAL_INCOME, y, &ev));
        CHECK_OK(cs_scenario_base_outcome(b, CS_OUTCOME_REAL_INCOME, y0));
        for (int i = 0; r && i < NC; i++) CHECK_NEAR(y[i], y0[i] * r->change->real_income_hat[i], 1e-12);
        if (r) CHECK_NEAR(ev, r->total_ev, 1e-12);
        CHECK_OK(cs_scenario_evaluate_fast(b, s, CS_EQ_LONG_RUN, CS_OUTCOME_WELFARE, y, NULL));
        for (int i = 0; r && i < NC; i++) CHECK_NEAR(y[i], y0[i] * r->change->resident_welfare_hat[i], 1e-12);
    }
    cs_scenario_result_free(r);
    cs_scenario_free(s);
    /* small changes: exact EV vs first-order estimate */
    const char *small[] = {
        "{\"changes\": [{\"type\": \"soft\", \"cities\": [\"c0\", \"c5\"], \"factor\": 0.99}]}",
        "{\"changes\": [{\"type\": \"upgrade\", \"edges\": [\"e3\"], \"time_factor\": 0.98}]}",
        "{\"changes\": [{\"type\": \"productivity\", \"cities\": [\"c2\"], \"factor\": 1.01}]}",
        "{\"changes\": [{\"type\": \"border\", \"countries\": [\"AAA\", \"BBB\"], \"factor\": 0.98}]}",
    };
    for (int k = 0; k < 4; k++) {
        s = parse(small[k], NULL);
        if (!s) continue;
        double ev1 = NAN, exact = NAN;
        CHECK_OK(cs_scenario_estimate(b, s, &ev1));
        CHECK_OK(cs_scenario_evaluate_fast(b, s, CS_EQ_SHORT_RUN, CS_OUTCOME_REAL_INCOME, y, &exact));
        CHECK(exact > 0);
        CHECK(fabs(ev1 - exact) <= 0.03 * fabs(exact));
        cs_scenario_free(s);
    }
    /* split: one candidate per proposed link, costs shared by length */
    s = parse("{\"changes\": [{\"type\": \"build\", \"name\": \"tah\", \"proposed\": \"all\", \"capital_cost\": 100}]}", NULL);
    cs_scenario *sp = NULL;
    if (s) CHECK_OK(cs_scenario_split(s, &f->in, &sp));
    CHECK(sp && cs_scenario_nchanges(sp) == 2);
    if (sp && cs_scenario_nchanges(sp) == 2) {
        cs_change_info a, c;
        cs_scenario_change(sp, 0, &a);
        cs_scenario_change(sp, 1, &c);
        double l1 = cs_geodesic_m(0, 0, 0, 1), l2 = cs_geodesic_m(1, 0, 1, 1);
        CHECK_NEAR(a.capital_cost, 100 * l1 / (l1 + l2), 1e-6);
        CHECK(!strcmp(a.name, "tah/p1") && !strcmp(cs_scenario_change_item(sp, 1, 0), "p2"));
        CHECK_NEAR(a.capital_cost + c.capital_cost, 100, 1e-9);
        /* the union of the split equals the whole */
        uint8_t keep[2] = {1, 1};
        cs_scenario *u = NULL;
        CHECK_OK(cs_scenario_select(sp, keep, "u", &u));
        double e1 = 0, e2 = 0;
        CHECK_OK(cs_scenario_evaluate_fast(b, u, CS_EQ_LONG_RUN, CS_OUTCOME_WELFARE, y, &e1));
        CHECK_OK(cs_scenario_evaluate_fast(b, s, CS_EQ_LONG_RUN, CS_OUTCOME_WELFARE, y, &e2));
        CHECK_NEAR(e1, e2, 1e-12);
        cs_scenario_free(u);
    }
    cs_scenario_free(sp);
    cs_scenario_free(s);
    cs_scenario_base_free(b);
}

/* outputs of a full evaluation: aggregates, inequality partitions, appraisal, ranking */
static void test_result(fixture *f)
{
    cs_scenario_inputs in = f->in;
    const char *typ[NC] = {"metro", "town", "metro", "town", "metro", "town"};
    in.typology = typ;
    cs_scenario_base *b = NULL;
    CHECK_OK(cs_scenario_base_new(&in, (cs_progress){0}, NULL, &b));
    if (!b) return;
    cs_scenario_result *r = eval(b, "{\"changes\": [{\"type\": \"build\", \"proposed\": [\"p1\"], \"capital_cost\": 1e9, \"annual_cost\": 1e7, \"construction_years\": 2}]}",
                                 CS_EQ_LONG_RUN, 0);
    if (r) {
        CHECK(r->ngroups == 2 && r->ncountries == 2 && !strcmp(r->country_names[1], "BBB"));
        double ev = 0;
        for (size_t g = 0; g < r->ngroups; g++) ev += r->by_group->ev[g];
        CHECK_NEAR(ev, r->total_ev, 1e-9);
        CHECK(r->appraised && r->capital_cost == 1e9);
        CHECK_NEAR(r->appraisal.npv, r->appraisal.pv_benefits - r->appraisal.pv_costs, 1e-9);
        int parts = 0;
        for (size_t k = 0; k < r->nineq; k++) {
            const cs_scenario_ineq *q = &r->ineq[k];
            if (!strcmp(q->partition, "none")) continue;
            parts |= !strcmp(q->partition, "region") ? 1 : !strcmp(q->partition, "country") ? 2 : !strcmp(q->partition, "typology") ? 4 : 0;
            if (strcmp(q->measure, "gini") && isfinite(q->before)) CHECK_NEAR(q->between_before + q->within_before, q->before, 1e-12);
        }
        CHECK(parts == 7);
        CHECK(r->change->real_income_hat[r->rank[0]] >= r->change->real_income_hat[r->rank[NC - 1]]);
        CHECK(r->access_after[0] > r->access_before[0] && r->access_after[5] > r->access_before[5]);
    }
    cs_scenario_result_free(r);
    cs_scenario_base_free(b);
}

/* without a matrix session (full matrices after each change): the same travel times and outcomes */
static void test_no_session(fixture *f)
{
    cs_scenario_inputs in = f->in;
    in.use_session = 0;
    cs_scenario_base *b0 = NULL, *b1 = NULL;
    CHECK_OK(cs_scenario_base_new(&in, (cs_progress){0}, NULL, &b0));
    CHECK_OK(cs_scenario_base_new(&f->in, (cs_progress){0}, NULL, &b1));
    const char *txt = "{\"changes\": [{\"type\": \"build\", \"proposed\": [\"p2\"]}, {\"type\": \"close\", \"edges\": [\"e5\"]}]}";
    cs_scenario_result *r0 = b0 ? eval(b0, txt, CS_EQ_LONG_RUN, CS_SCENARIO_KEEP_MATRICES) : NULL;
    cs_scenario_result *r1 = b1 ? eval(b1, txt, CS_EQ_LONG_RUN, CS_SCENARIO_KEEP_MATRICES) : NULL;
    if (r0 && r1) {
        for (size_t k = 0; k < NC * NC; k++) CHECK(r0->time_after->v[k] == r1->time_after->v[k]);
        CHECK(r0->pairs_faster == r1->pairs_faster && r0->pairs_slower == r1->pairs_slower && r0->pairs_slower > 0);
        CHECK_NEAR(r0->total_ev, r1->total_ev, 1e-12);
    }
    cs_scenario_result_free(r0);
    cs_scenario_result_free(r1);
    cs_scenario_base_free(b0);
    cs_scenario_base_free(b1);
}

/* typology and road load before/after (CS_SCENARIO_STRUCTURE) */
static void test_structure(fixture *f)
{
    cs_matrix *flows = NULL;
    CHECK_OK(cs_matrix_new(NC, NC, CS_MATRIX_FLOW, &flows));
    if (!flows) return;
    for (int i = 0; i < NC; i++)
        for (int j = 0; j < NC; j++) flows->v[i * NC + j] = i == j ? 0 : 1;
    cs_scenario_inputs in = f->in;
    in.flows = flows;
    cs_scenario_base *b = NULL;
    CHECK_OK(cs_scenario_base_new(&in, (cs_progress){0}, NULL, &b));
    cs_scenario_result *r = b ? eval(b, "{\"changes\": [{\"type\": \"build\", \"proposed\": [\"p1\"], \"speed_kmh\": 200}]}",
                                     CS_EQ_LONG_RUN, CS_SCENARIO_STRUCTURE) : NULL;
    if (r) {
        CHECK(r->typology_before && r->typology_after);
        CHECK(r->load_before && r->load_after && r->load_nsegs_before == 5);
        if (r->load_before && r->load_after) {
            CHECK(r->load_before->n_segs == 5 && r->load_after->n_segs == 7);
            /* the new link (segment 5 = first proposed) carries the c0-c5 pair and more; e5 loses traffic */
            CHECK(r->load_after->flow_fwd[5] + r->load_after->flow_bwd[5] >= 2);
            CHECK(r->load_after->flow_fwd[4] + r->load_after->flow_bwd[4] <= r->load_before->flow_fwd[4] + r->load_before->flow_bwd[4]);
            CHECK(r->load_after->total_flow_time_s < r->load_before->total_flow_time_s);
            CHECK_NEAR(r->load_after->total_flow, r->load_before->total_flow, 1e-12);
        }
    }
    cs_scenario_result_free(r);
    /* no hard change: the load is the same */
    r = b ? eval(b, "{\"changes\": [{\"type\": \"amenity\", \"cities\": [\"c1\"], \"factor\": 1.1}]}", CS_EQ_LONG_RUN, CS_SCENARIO_STRUCTURE) : NULL;
    if (r && r->load_before && r->load_after)
        for (int k = 0; k < 5; k++) CHECK(r->load_after->flow_fwd[k] == r->load_before->flow_fwd[k]);
    cs_scenario_result_free(r);
    cs_scenario_base_free(b);
    cs_matrix_free(flows);
}

/* with the gravity model given, the load after carries the flows recomputed on the cost and populations
   after the scenario: oracle = cs_gravity_predict on the kept cost matrix, loaded on the unchanged network */
static void test_structure_gravity(fixture *f)
{
    cs_scenario_inputs in = f->in;
    cs_scenario_base *b = NULL;
    CHECK_OK(cs_scenario_base_new(&in, (cs_progress){0}, NULL, &b));
    if (!b) return;
    cs_gravity_opts go;
    cs_gravity_opts_default(&go);
    go.kind = CS_GRAVITY_UNCONSTRAINED;
    cs_matrix *flows0 = NULL;
    CHECK_OK(cs_gravity_predict(cs_scenario_base_cost(b), POP, POP, &go, &flows0, NULL, NULL, NULL));
    cs_scenario_base_free(b);
    b = NULL;
    in.flows = flows0;
    in.gravity = &go;
    CHECK_OK(cs_scenario_base_new(&in, (cs_progress){0}, NULL, &b));
    cs_scenario_result *r = b ? eval(b, "{\"changes\": [{\"type\": \"soft\", \"cities\": [\"c0\", \"c5\"], \"factor\": 0.5}]}",
                                     CS_EQ_LONG_RUN, CS_SCENARIO_STRUCTURE | CS_SCENARIO_KEEP_MATRICES) : NULL;
    if (r && r->load_after && r->cost_after) {
        CHECK(r->load_flows_recomputed == 1);
        cs_matrix *flows1 = NULL;
        cs_load *oracle = NULL;
        cs_load_opts lo;
        cs_load_opts_default(&lo);
        CHECK_OK(cs_gravity_predict(r->cost_after, r->after->L, r->after->L, &go, &flows1, NULL, NULL, NULL));
        if (flows1) CHECK_OK(cs_load_compute(f->net, f->loc, NC, flows1, &lo, &oracle));
        if (oracle) {
            CHECK(oracle->n_segs == r->load_after->n_segs);
            for (uint32_t k = 0; k < oracle->n_segs && k < r->load_after->n_segs; k++) {
                CHECK(oracle->flow_fwd[k] == r->load_after->flow_fwd[k]);
                CHECK(oracle->flow_bwd[k] == r->load_after->flow_bwd[k]);
            }
            /* the cheaper c0-c5 interaction raises the unconstrained total */
            CHECK(r->load_after->total_flow > r->load_before->total_flow);
        }
        cs_load_free(oracle);
        cs_matrix_free(flows1);
    } else CHECK(r && r->load_after && r->cost_after);
    cs_scenario_result_free(r);
    cs_scenario_base_free(b);
    cs_matrix_free(flows0);
}

int main(void)
{
    fixture f;
    fixture_init(&f);
    test_reader();
    test_validation(&f);
    test_channels(&f);
    test_nothing(&f);
    test_lowering(&f);
    test_fast_and_estimate(&f);
    test_result(&f);
    test_structure(&f);
    test_structure_gravity(&f);
    test_no_session(&f);
    fixture_free(&f);
    TEST_MAIN_END();
}

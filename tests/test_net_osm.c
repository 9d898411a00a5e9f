/* test_net_osm.c: car profile rules (hand-written rules.osm, every rule) and the OSM import
 * of two real extracts against the osmium-based oracle (tests/data/net/oracle_osm.py). */
#include <unistd.h>
#include "test.h"

#define DATA CS_SRC_DIR "/tests/data/net/"
#define PROF CS_SRC_DIR "/share/profiles/"

/* independent haversine (sphere R = 6371008.8 m) */
static double hav(double lon1, double lat1, double lon2, double lat2)
{
    double d = M_PI / 180, a = sin((lat2 - lat1) * d / 2), b = sin((lon2 - lon1) * d / 2);
    double h = a * a + cos(lat1 * d) * cos(lat2 * d) * b * b;
    return 2 * 6371008.8 * asin(sqrt(h));
}

static uint32_t seg_of_way(const cs_network *n, int64_t way)
{
    for (uint32_t s = 0; s < n->n_segs; s++)
        if (n->seg_way_id[s] == way) return s;
    return CS_INVALID_ID;
}

/* expected ms for the 0.01-degree way of rules.osm at v km/h (0: closed) */
static uint32_t exp_ms(double kmh)
{
    if (kmh <= 0) return CS_NO_TIME;
    double L = hav(0, 0, 0, 0.01);
    return (uint32_t)llround(L * 3600.0 / kmh);
}

static void check_way(const cs_network *n, int64_t way, double fwd_kmh, double bwd_kmh)
{
    uint32_t s = seg_of_way(n, way);
    if (fwd_kmh <= 0 && bwd_kmh <= 0) {
        if (s != CS_INVALID_ID) fprintf(stderr, "way %lld should be excluded\n", (long long)way);
        CHECK(s == CS_INVALID_ID);
        return;
    }
    CHECK(s != CS_INVALID_ID);
    if (s == CS_INVALID_ID) {
        fprintf(stderr, "way %lld missing\n", (long long)way);
        return;
    }
    /* nodes run south to north in the file, so the segment does too */
    CHECK(n->lat_deg[n->seg_u[s]] < n->lat_deg[n->seg_v[s]]);
    if (n->seg_fwd_ms[s] != exp_ms(fwd_kmh) || n->seg_bwd_ms[s] != exp_ms(bwd_kmh))
        fprintf(stderr, "way %lld: fwd %u bwd %u, expected %u %u\n", (long long)way, n->seg_fwd_ms[s],
                n->seg_bwd_ms[s], exp_ms(fwd_kmh), exp_ms(bwd_kmh));
    CHECK(n->seg_fwd_ms[s] == exp_ms(fwd_kmh));
    CHECK(n->seg_bwd_ms[s] == exp_ms(bwd_kmh));
    CHECK(n->seg_len_cm[s] == (uint32_t)llround(hav(0, 0, 0, 0.01) * 100));
}

static void test_rules(void)
{
    cs_profile *p = NULL;
    CHECK_OK(cs_profile_load(PROF "osrm-car.json", &p));
    if (!p) return;
    cs_network *n = NULL;
    cs_osm_stats st;
    cs_osm_opts o;
    cs_osm_opts_default(&o);
    CHECK_OK(cs_network_from_osm(DATA "rules.osm", p, &o, &n, &st));
    if (!n) return;
    const double f = 0.8; /* osrm-car maxspeed_factor */
    check_way(n, 1, 65, 65);
    check_way(n, 2, 65, 0);          /* oneway=yes */
    check_way(n, 3, 0, 65);          /* oneway=-1 */
    check_way(n, 4, 0, 0);           /* reversible excluded */
    check_way(n, 5, 65, 0);          /* roundabout implies oneway */
    check_way(n, 6, 90, 0);          /* motorway implies oneway */
    check_way(n, 7, 90, 90);         /* explicit oneway=no wins */
    check_way(n, 8, 30 * 1.609344 * f, 30 * 1.609344 * f); /* mph */
    check_way(n, 9, 20 * 1.852 * f, 20 * 1.852 * f);       /* knots */
    check_way(n, 10, 100 * f, 100 * f);                     /* DE:rural from the table */
    check_way(n, 11, 7 * f, 7 * f);                         /* walk */
    check_way(n, 12, 90 * f, 90 * f);                       /* lanes: max */
    check_way(n, 13, 50 * f, 50 * f);                       /* XX:urban -> urban */
    check_way(n, 14, 40, 40);                               /* surface=gravel cap */
    check_way(n, 15, 0, 0);                                 /* access=no */
    check_way(n, 16, 65, 65);                               /* motorcar=yes overrides access=no */
    check_way(n, 17, 0, 0);                                 /* motor_vehicle=private */
    check_way(n, 19, 5, 5);                                 /* ferry without duration: 5 km/h */
    check_way(n, 20, 30, 30);                               /* tracktype=grade3 cap */
    check_way(n, 21, 0, 0);                                 /* smoothness=impassable */
    check_way(n, 22, 0, 0);                                 /* footway not a car class */
    check_way(n, 23, 140 * f, 0);                           /* maxspeed=none, motorway oneway */
    check_way(n, 25, 0, 0);                                 /* area=yes */
    check_way(n, 26, 80 * f, 40 * f);                       /* maxspeed:forward/backward */
    check_way(n, 27, 65, 0);                                /* oneway=true */
    check_way(n, 28, 65, 65);                               /* maxspeed=0 ignored */
    check_way(n, 29, 40, 40);                               /* 100 km/h * 0.8 = 80, unpaved cap 40 */
    check_way(n, 30, 25, 25);                               /* circular + oneway=no */
    check_way(n, 31, 30 * f, 30 * f);                       /* maxspeed:advisory before maxspeed */
    /* ferries with a duration: the whole way takes exactly that long */
    uint32_t s18 = seg_of_way(n, 18), s24 = seg_of_way(n, 24);
    CHECK(s18 != CS_INVALID_ID && s24 != CS_INVALID_ID);
    if (s18 != CS_INVALID_ID) {
        CHECK(n->seg_fwd_ms[s18] == 5400000 && n->seg_bwd_ms[s18] == 5400000);
        CHECK(n->seg_mode[s18] == CS_SEG_FERRY);
        CHECK(!strcmp(n->class_names[n->seg_class[s18]], "ferry"));
    }
    if (s24 != CS_INVALID_ID) CHECK(n->seg_fwd_ms[s24] == 2700000);
    CHECK(st.routable_ways == 25); /* 31 ways minus 4, 15, 17, 21, 22, 25 */
    CHECK(n->osm_node_id && n->osm_node_id[n->seg_u[seg_of_way(n, 1)]] == 101);
    cs_osm_stats_free(&st);
    cs_network_free(n);

    /* developing profile: multiplicative surface penalty, tracks routable */
    cs_profile *d = NULL;
    CHECK_OK(cs_profile_load(PROF "developing.json", &d));
    if (d) {
        const char *k1[] = {"highway", "surface"}, *v1[] = {"primary", "unpaved"};
        const char *v2[] = {"primary", "asphalt"};
        cs_way_attr a, b;
        CHECK_OK(cs_profile_way(d, k1, v1, 2, &a));
        CHECK_OK(cs_profile_way(d, k1, v2, 2, &b));
        CHECK(a.routable && b.routable);
        CHECK_NEAR(a.fwd_kmh, 60 * 0.55, 1e-12);
        CHECK_NEAR(b.fwd_kmh, 60, 1e-12);
        CHECK(a.fwd_kmh < b.fwd_kmh); /* an unpaved primary is slower than a paved one */
        const char *k3[] = {"highway", "tracktype", "smoothness"}, *v3[] = {"track", "grade4", "bad"};
        CHECK_OK(cs_profile_way(d, k3, v3, 3, &a));
        CHECK_NEAR(a.fwd_kmh, 15 * 0.6 * 0.5, 1e-12);
        cs_profile_free(d);
    }
    /* parsers */
    CHECK_NEAR(cs_profile_maxspeed(p, "50"), 50, 0);
    CHECK_NEAR(cs_profile_maxspeed(p, "50 km/h"), 50, 0);
    CHECK_NEAR(cs_profile_maxspeed(p, "60mph"), 60 * 1.609344, 1e-12);
    CHECK_NEAR(cs_profile_maxspeed(p, "RU:urban"), 60, 0);
    CHECK_NEAR(cs_profile_maxspeed(p, "30;50"), 50, 0);
    CHECK_NEAR(cs_profile_maxspeed(p, "signals"), 0, 0);
    CHECK_NEAR(cs_profile_maxspeed(p, "fast"), 0, 0);
    CHECK_NEAR(cs_parse_duration_s("01:30"), 5400, 0);
    CHECK_NEAR(cs_parse_duration_s("1:02:03"), 3723, 0);
    CHECK_NEAR(cs_parse_duration_s("45"), 2700, 0);
    CHECK_NEAR(cs_parse_duration_s("PT1H30M"), 5400, 0);
    CHECK_NEAR(cs_parse_duration_s("P1DT1S"), 86401, 0);
    CHECK(isnan(cs_parse_duration_s("abc")));
    CHECK(isnan(cs_parse_duration_s("PT")));
    CHECK(isnan(cs_parse_duration_s("")));
    cs_profile_free(p);

    /* profile errors carry line/column or key */
    cs_profile *bad = NULL;
    const char *j1 = "{\n  \"name\": \"x\",\n  \"highway_speeds_kmh\": {\"primary\": 50,}\n}";
    CHECK(cs_profile_parse(j1, strlen(j1), "bad.json", &bad) == CS_EPARSE);
    CHECK(cs_error_last()->line == 3);
    const char *j2 = "{\"name\": \"x\", \"highway_speeds_kmh\": {\"primary\": -5}}";
    CHECK(cs_profile_parse(j2, strlen(j2), "bad.json", &bad) == CS_EPARSE);
    CHECK(strstr(cs_error_last()->message, "highway_speeds_kmh.primary") != NULL);
    const char *j3 = "{\"name\": \"x\", \"highway_speed_kmh\": {}}";
    CHECK(cs_profile_parse(j3, strlen(j3), "bad.json", &bad) == CS_EPARSE);
    CHECK(bad == NULL);
}

/* real extracts vs the osmium oracle */
static void test_real(void)
{
    FILE *f = fopen(DATA "expected_osm.txt", "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[512];
    char cur_prof[64] = "", cur_file[128] = "";
    cs_profile *p = NULL;
    cs_network *n = NULL, *raw = NULL;
    cs_osm_stats st = {0};
    double len[256];
    int nclass = 0, none = 0;
    while (fgets(line, sizeof line, f)) {
        char kind[16], prof[64], file[128], a[64];
        if (line[0] == '#') continue;
        if (sscanf(line, "%15s %63s %127s %63s", kind, prof, file, a) != 4) continue;
        if (strcmp(prof, cur_prof) || strcmp(file, cur_file)) {
            cs_network_free(n);
            cs_network_free(raw);
            cs_osm_stats_free(&st);
            cs_profile_free(p);
            n = raw = NULL;
            p = NULL;
            char path[512];
            snprintf(path, sizeof path, PROF "%s.json", prof);
            CHECK_OK(cs_profile_load(path, &p));
            snprintf(path, sizeof path, DATA "%s", file);
            cs_osm_opts o;
            cs_osm_opts_default(&o);
            CHECK_OK(cs_network_from_osm(path, p, &o, &n, &st));
            o.compress = 0;
            CHECK_OK(cs_network_from_osm(path, p, &o, &raw, NULL));
            if (!n || !raw) break;
            cs_network_class_totals(n, len, NULL);
            /* compression keeps total length and time exactly */
            uint64_t a1 = 0, a2 = 0, t1 = 0, t2 = 0;
            for (uint32_t s = 0; s < n->n_segs; s++) {
                a1 += n->seg_len_cm[s];
                t1 += n->seg_fwd_ms[s] != CS_NO_TIME ? n->seg_fwd_ms[s] : 0;
                t1 += n->seg_bwd_ms[s] != CS_NO_TIME ? n->seg_bwd_ms[s] : 0; /* chains may be re-oriented */
            }
            for (uint32_t s = 0; s < raw->n_segs; s++) {
                a2 += raw->seg_len_cm[s];
                t2 += raw->seg_fwd_ms[s] != CS_NO_TIME ? raw->seg_fwd_ms[s] : 0;
                t2 += raw->seg_bwd_ms[s] != CS_NO_TIME ? raw->seg_bwd_ms[s] : 0;
            }
            CHECK(a1 == a2 && t1 == t2);
            CHECK(n->n_segs < raw->n_segs);
            CHECK(n->geom_off[n->n_segs] < raw->geom_off[raw->n_segs]); /* shared vertices dropped only */
            snprintf(cur_prof, sizeof cur_prof, "%s", prof);
            snprintf(cur_file, sizeof cur_file, "%s", file);
        }
        if (!strcmp(kind, "class")) {
            unsigned long ways;
            double L;
            if (sscanf(line, "%*s %*s %*s %*s %lu %lf", &ways, &L) != 2) continue;
            uint32_t c = 0;
            while (c < n->n_classes && strcmp(n->class_names[c], a)) c++;
            CHECK(c < n->n_classes);
            if (c >= n->n_classes) continue;
            if (st.ways_per_class[c] != ways)
                fprintf(stderr, "%s %s %s: %lu ways, oracle %lu\n", prof, file, a,
                        (unsigned long)st.ways_per_class[c], ways);
            CHECK(st.ways_per_class[c] == ways);
            CHECK(fabs(len[c] - L) <= 1e-3 * L); /* required: 0.1 % */
            /* in fact only the rounding of each OSM edge to whole cm separates them */
            uint64_t edges = 0;
            for (uint32_t s = 0; s < raw->n_segs; s++)
                if (raw->seg_class[s] == c) edges += raw->geom_off[s + 1] - raw->geom_off[s] - 1;
            if (fabs(len[c] - L) > 0.005 * (double)edges + 1e-6 * L)
                fprintf(stderr, "%s %s %s: %.3f vs %.3f\n", prof, file, a, len[c], L);
            CHECK(fabs(len[c] - L) <= 0.005 * (double)edges + 1e-6 * L);
            nclass++;
        } else if (!strcmp(kind, "oneway")) {
            long long way = atoll(a);
            double lon, lat;
            int dir;
            if (sscanf(line, "%*s %*s %*s %*s %lf %lf %d", &lon, &lat, &dir) != 3) continue;
            /* uncompressed: every piece of the way is one-way in the way's direction */
            int found = 0;
            for (uint32_t s = 0; s < raw->n_segs; s++) {
                if (raw->seg_way_id[s] != way) continue;
                found = 1;
                CHECK((dir > 0) == (raw->seg_fwd_ms[s] != CS_NO_TIME));
                CHECK((dir < 0) == (raw->seg_bwd_ms[s] != CS_NO_TIME));
            }
            CHECK(found);
            /* compressed: the segment through the way's first edge is one-way */
            cs_snap sn;
            cs_snap_opts so;
            cs_snap_opts_default(&so);
            so.prefer_largest = 0;
            CHECK_OK(cs_snap_points(n, &lon, &lat, 1, &so, &sn));
            CHECK(!sn.flagged && sn.dist_m < 0.05);
            if (!sn.flagged)
                CHECK((n->seg_fwd_ms[sn.seg] == CS_NO_TIME) != (n->seg_bwd_ms[sn.seg] == CS_NO_TIME));
            none++;
        }
    }
    fclose(f);
    CHECK(nclass >= 30);
    CHECK(none >= 100);
    cs_network_free(n);
    cs_network_free(raw);
    cs_osm_stats_free(&st);
    cs_profile_free(p);
}

/* own PBF reader (parallel) and readosm give the same network */
static void test_readers(void)
{
    const char *files[] = {DATA "andorra-2013-05-28.osm.pbf", DATA "liechtenstein-2013-08-03.osm.pbf"};
    cs_profile *p = NULL;
    CHECK_OK(cs_profile_load(PROF "developing.json", &p));
    for (int i = 0; i < 2 && p; i++) {
        cs_network *a = NULL, *b = NULL;
        cs_osm_stats sa, sb;
        cs_osm_opts o;
        cs_osm_opts_default(&o);
        CHECK_OK(cs_network_from_osm(files[i], p, &o, &a, &sa));
        o.reader = 1;
        CHECK_OK(cs_network_from_osm(files[i], p, &o, &b, &sb));
        if (!a || !b) break;
        CHECK(sa.nodes == sb.nodes && sa.ways == sb.ways && sa.relations == sb.relations);
        CHECK(sa.routable_ways == sb.routable_ways);
        CHECK(a->n_nodes == b->n_nodes && a->n_segs == b->n_segs);
        CHECK(!strcmp(a->fingerprint, b->fingerprint));
        if (a->n_nodes == b->n_nodes && a->n_segs == b->n_segs) {
            double md = 0;
            int same = 1;
            for (uint32_t x = 0; x < a->n_nodes; x++) {
                md = fmax(md, fabs(a->lon_deg[x] - b->lon_deg[x]) + fabs(a->lat_deg[x] - b->lat_deg[x]));
                same &= a->osm_node_id[x] == b->osm_node_id[x];
            }
            for (uint32_t s = 0; s < a->n_segs; s++)
                same &= a->seg_u[s] == b->seg_u[s] && a->seg_v[s] == b->seg_v[s] && a->seg_fwd_ms[s] == b->seg_fwd_ms[s] &&
                        a->seg_bwd_ms[s] == b->seg_bwd_ms[s] && a->seg_len_cm[s] == b->seg_len_cm[s] &&
                        a->seg_way_id[s] == b->seg_way_id[s] && a->geom_off[s + 1] == b->geom_off[s + 1];
            CHECK(same);
            CHECK(md < 1e-12);
        }
        cs_osm_stats_free(&sa);
        cs_osm_stats_free(&sb);
        cs_network_free(a);
        cs_network_free(b);
    }
    /* corrupt PBF bytes are refused, not crashed on */
    char *data = NULL;
    size_t n = 0;
    CHECK_OK(cs_read_file(files[0], &data, &n));
    if (data && n > 5000) {
        char tmpl[] = "/tmp/cs_pbfXXXXXX";
        int fd = mkstemp(tmpl);
        if (fd >= 0) {
            close(fd);
            char path[64];
            snprintf(path, sizeof path, "%s.pbf", tmpl);
            for (int k = 0; k < 3; k++) {
                size_t cut = k == 0 ? n / 2 : n;
                if (k == 2) data[n / 3] ^= 0x5a;
                CHECK_OK(cs_write_file_atomic(path, data, cut));
                cs_network *x = NULL;
                cs_osm_opts o;
                cs_osm_opts_default(&o);
                cs_status st = p ? cs_network_from_osm(path, p, &o, &x, NULL) : CS_EINVAL;
                if (k == 0) CHECK(st == CS_EPARSE);
                cs_network_free(x);
            }
            unlink(path);
            unlink(tmpl);
        }
    }
    cs_free(data);
    /* the hand-written XML and its PBF encodings (dense nodes, plain nodes, uncompressed blobs; made with
       `osmium cat rules.osm -o X.osm.pbf [-f pbf,pbf_dense_nodes=false | pbf,pbf_compression=none]`) agree */
    const char *enc[] = {DATA "rules.osm.pbf", CS_SRC_DIR "/fuzz/corpus/osmpbf/rules-nodense.osm.pbf",
                         CS_SRC_DIR "/fuzz/corpus/osmpbf/rules-raw.osm.pbf"};
    cs_network *x = NULL;
    cs_osm_opts o;
    cs_osm_opts_default(&o);
    CHECK_OK(cs_network_from_osm(DATA "rules.osm", p, &o, &x, NULL));
    for (int e = 0; e < 3 && x; e++) {
        cs_network *y = NULL;
        CHECK_OK(cs_network_from_osm(enc[e], p, &o, &y, NULL));
        if (!y) continue;
        int same = x->n_nodes == y->n_nodes && x->n_segs == y->n_segs;
        for (uint32_t k = 0; same && k < x->n_segs; k++)
            same = x->seg_fwd_ms[k] == y->seg_fwd_ms[k] && x->seg_bwd_ms[k] == y->seg_bwd_ms[k] &&
                   x->seg_len_cm[k] == y->seg_len_cm[k] && x->seg_way_id[k] == y->seg_way_id[k] &&
                   x->seg_class[k] == y->seg_class[k];
        for (uint32_t k = 0; same && k < x->n_nodes; k++) same = x->osm_node_id[k] == y->osm_node_id[k];
        CHECK(same);
        cs_network_free(y);
    }
    cs_network_free(x);
    cs_profile_free(p);
}

/* real data: a point 50 m off the middle of the longest compressed segment of Andorra */
static void test_snap_real(void)
{
    cs_profile *p = NULL;
    CHECK_OK(cs_profile_load(PROF "osrm-car.json", &p));
    cs_network *n = NULL;
    CHECK_OK(cs_network_from_osm(DATA "andorra-2013-05-28.osm.pbf", p, NULL, &n, NULL));
    if (!n) {
        cs_profile_free(p);
        return;
    }
    uint32_t best = 0;
    for (uint32_t s = 1; s < n->n_segs; s++)
        if (n->seg_len_cm[s] > n->seg_len_cm[best]) best = s;
    CHECK(n->seg_len_cm[best] > 500000); /* > 5 km in one compressed segment */
    /* walk to half the length along the geometry */
    uint64_t g0 = n->geom_off[best], g1 = n->geom_off[best + 1];
    double total = 0, half, acc = 0, mlon = 0, mlat = 0, nx = 0, ny = 1;
    for (uint64_t k = g0; k + 1 < g1; k++)
        total += hav(n->geom_lon_deg[k], n->geom_lat_deg[k], n->geom_lon_deg[k + 1], n->geom_lat_deg[k + 1]);
    half = total / 2;
    for (uint64_t k = g0; k + 1 < g1; k++) {
        double d = hav(n->geom_lon_deg[k], n->geom_lat_deg[k], n->geom_lon_deg[k + 1], n->geom_lat_deg[k + 1]);
        if (acc + d >= half) {
            double t = (half - acc) / d;
            mlon = n->geom_lon_deg[k] + t * (n->geom_lon_deg[k + 1] - n->geom_lon_deg[k]);
            mlat = n->geom_lat_deg[k] + t * (n->geom_lat_deg[k + 1] - n->geom_lat_deg[k]);
            /* unit normal of the piece in local east/north metres */
            double ex = (n->geom_lon_deg[k + 1] - n->geom_lon_deg[k]) * cos(mlat * M_PI / 180);
            double ey = n->geom_lat_deg[k + 1] - n->geom_lat_deg[k], en = hypot(ex, ey);
            nx = -ey / en;
            ny = ex / en;
            break;
        }
        acc += d;
    }
    const double kdeg = 6371008.8 * M_PI / 180; /* metres per degree of latitude */
    double plat = mlat + ny * 50.0 / kdeg, plon = mlon + nx * 50.0 / (kdeg * cos(mlat * M_PI / 180)); /* 50 m across */
    double near_node = INFINITY;
    for (uint32_t x = 0; x < n->n_nodes; x++) near_node = fmin(near_node, hav(plon, plat, n->lon_deg[x], n->lat_deg[x]));
    cs_snap sn;
    CHECK_OK(cs_snap_points(n, &plon, &plat, 1, NULL, &sn));
    CHECK(!sn.flagged);
    /* about 50 m (the road bends, so slightly less is possible); the nearest junction is far away */
    CHECK(sn.dist_m <= 50.0 + 0.01);
    CHECK(sn.dist_m > 45.0);
    CHECK(near_node > 10 * sn.dist_m);
    if (sn.seg == best) CHECK_NEAR(sn.frac, 0.5, 0.01);
    printf("andorra: longest segment %.0f m, point 50 m across its middle snaps at %.2f m (seg %s), nearest node %.0f m\n",
           total, sn.dist_m, sn.seg == best ? "same" : "other", near_node);
    cs_network_free(n);
    cs_profile_free(p);
}

int main(void)
{
    test_snap_real();
    test_readers();
    test_rules();
    test_real();
    TEST_MAIN_END();
}

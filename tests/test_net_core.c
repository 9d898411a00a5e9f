/* test_net_core.c: geodesic length, network builder, degree-2 compression, snapping and components. */
#include "test.h"

static void test_geodesic(void)
{
    /* one degree of a meridian on the sphere R = 6371008.8 m: R*pi/180 */
    CHECK_NEAR(cs_geodesic_m(0, 0, 0, 1), 6371008.8 * M_PI / 180, 1e-12);
    /* a quarter of the equator */
    CHECK_NEAR(cs_geodesic_m(0, 0, 90, 0), 6371008.8 * M_PI / 2, 1e-12);
    /* antipodes */
    CHECK_NEAR(cs_geodesic_m(0, 0, 180, 0), 6371008.8 * M_PI, 1e-12);
    /* spherical law of cosines as an independent formula (well conditioned at this distance) */
    double la1 = 48.85 * M_PI / 180, la2 = 51.5 * M_PI / 180, dl = (-0.12 - 2.35) * M_PI / 180;
    double slc = 6371008.8 * acos(sin(la1) * sin(la2) + cos(la1) * cos(la2) * cos(dl));
    CHECK_NEAR(cs_geodesic_m(2.35, 48.85, -0.12, 51.5), slc, 1e-9);
}

/* a chain of k pieces along the parallel lat0 from lon a to b, as separate segments through nodes */
static cs_network *chain(int k, double lat0, double a, double b, int oneway)
{
    cs_network *n = NULL;
    if (cs_network_new(&n)) return NULL;
    const char *cls[] = {"primary", "secondary"};
    cs_network_set_classes(n, cls, 2);
    for (int i = 0; i <= k; i++) cs_network_add_node(n, a + (b - a) * i / k, lat0, 1000 + i, NULL);
    for (int i = 0; i < k; i++) {
        double lon[3] = {n->lon_deg[i], 0.5 * (n->lon_deg[i] + n->lon_deg[i + 1]), n->lon_deg[i + 1]};
        double lat[3] = {lat0, lat0, lat0};
        uint32_t len = (uint32_t)llround(cs_geodesic_m(lon[0], lat0, lon[2], lat0) * 100);
        cs_network_add_segment(n, (uint32_t)i, (uint32_t)i + 1, 1000 + (uint32_t)i, oneway ? CS_NO_TIME : 2000 + (uint32_t)i,
                               len, CS_SEG_ROAD, 0, 500 + i, lon, lat, 3);
    }
    return n;
}

static void test_compress(void)
{
    /* 10 segments in a row -> one segment, 21 geometry points, exact sums */
    cs_network *n = chain(10, 10, 0, 0.1, 0);
    CHECK(n && n->n_segs == 10);
    uint64_t sl = 0;
    for (uint32_t s = 0; s < n->n_segs; s++) sl += n->seg_len_cm[s];
    CHECK_OK(cs_network_compress(n));
    CHECK(n->n_segs == 1 && n->n_nodes == 2);
    CHECK(n->seg_fwd_ms[0] == 10 * 1000 + 45 && n->seg_bwd_ms[0] == 10 * 2000 + 45);
    CHECK(n->seg_len_cm[0] == sl);
    CHECK(n->geom_off[1] == 21);
    CHECK(n->osm_node_id[n->seg_u[0]] == 1000 && n->osm_node_id[n->seg_v[0]] == 1010);
    CHECK(n->seg_way_id[0] == 500);
    for (int i = 0; i < 21; i++) CHECK_NEAR(n->geom_lon_deg[i], 0.1 * i / 20, 1e-12);
    cs_network_free(n);

    /* a junction in the middle (a third segment) stops the merge; a class change too */
    n = chain(4, 0, 0, 0.04, 0);
    uint32_t x;
    cs_network_add_node(n, 0.02, 0.01, 77, &x);
    double lo[2] = {0.02, 0.02}, la[2] = {0, 0.01};
    cs_network_add_segment(n, 2, x, 5, 5, 100, CS_SEG_ROAD, 0, 900, lo, la, 2);
    n->seg_class[3] = 1;
    CHECK_OK(cs_network_compress(n));
    /* pieces: [0-1-2] merged, [2-3] alone, [3-4] other class alone, spur */
    CHECK(n->n_segs == 4);
    CHECK(n->n_nodes == 5);
    cs_network_free(n);

    /* one-way chain reversed halfway cannot merge; same direction merges */
    n = chain(2, 0, 0, 0.02, 1);
    CHECK_OK(cs_network_compress(n));
    CHECK(n->n_segs == 1 && n->seg_bwd_ms[0] == CS_NO_TIME && n->seg_fwd_ms[0] == 2001);
    cs_network_free(n);
    n = chain(2, 0, 0, 0.02, 1);
    /* flip segment 1: v->u with the same travel direction expressed backwards */
    {
        uint32_t t = n->seg_u[1];
        n->seg_u[1] = n->seg_v[1];
        n->seg_v[1] = t;
        n->seg_bwd_ms[1] = n->seg_fwd_ms[1];
        n->seg_fwd_ms[1] = CS_NO_TIME;
        uint64_t g0 = n->geom_off[1], g1 = n->geom_off[2];
        for (uint64_t i = 0; i < (g1 - g0) / 2; i++) {
            double tl = n->geom_lon_deg[g0 + i];
            n->geom_lon_deg[g0 + i] = n->geom_lon_deg[g1 - 1 - i];
            n->geom_lon_deg[g1 - 1 - i] = tl;
        }
    }
    CHECK_OK(cs_network_compress(n));
    CHECK(n->n_segs == 1 && n->seg_fwd_ms[0] == 2001 && n->seg_bwd_ms[0] == CS_NO_TIME);
    cs_network_free(n);
    /* opposite one-ways meeting head to head: no merge */
    n = chain(2, 0, 0, 0.02, 1);
    n->seg_bwd_ms[1] = n->seg_fwd_ms[1];
    n->seg_fwd_ms[1] = CS_NO_TIME;
    CHECK_OK(cs_network_compress(n));
    CHECK(n->n_segs == 2);
    cs_network_free(n);
    /* a closed ring of degree-2 nodes keeps one node */
    n = chain(3, 0, 0, 0.03, 0);
    double rl[2] = {0.03, 0}, ra[2] = {0, 0};
    cs_network_add_segment(n, 3, 0, 7, 7, 333, CS_SEG_ROAD, 0, 600, rl, ra, 2);
    CHECK_OK(cs_network_compress(n));
    CHECK(n->n_segs == 1 && n->n_nodes == 1 && n->seg_u[0] == 0 && n->seg_v[0] == 0);
    CHECK(n->seg_fwd_ms[0] == 1000 + 1001 + 1002 + 7);
    cs_network_free(n);
    /* the end of a proposed edge stays a node (the scenario module attaches there) */
    n = chain(4, 0, 0, 0.04, 0);
    CHECK_OK(cs_network_add_proposed(n, 2, 0, CS_NO_TIME, CS_NO_TIME, 100, 0, "p"));
    CHECK_OK(cs_network_compress(n));
    CHECK(n->n_segs == 2 && n->n_nodes == 3 && n->proposed.n == 1);
    CHECK(n->proposed.u[0] == 1 && n->proposed.v[0] == 0 && !strcmp(n->proposed.ext_id[0], "p"));
    CHECK_NEAR(n->lon_deg[n->proposed.u[0]], 0.02, 1e-12);
    cs_network_free(n);
    /* failure injection: compress leaves the network unchanged */
    n = chain(5, 0, 0, 0.05, 0);
    for (long k = 1; k < 40; k++) {
        cs_alloc_fail_after(k, 0);
        cs_status st = cs_network_compress(n);
        cs_alloc_fail_after(0, 0);
        if (st == CS_OK) break;
        CHECK(st == CS_ENOMEM);
        CHECK(n->n_segs == 5);
    }
    CHECK(n->n_segs == 1);
    cs_network_free(n);
}

static void test_snap(void)
{
    /* a long compressed edge: 0.1 deg (about 11 km) at lat 10; a city 50 m north of its middle */
    cs_network *n = chain(100, 10, 0, 0.1, 0);
    CHECK_OK(cs_network_compress(n));
    CHECK(n->n_segs == 1);
    double dlat = 50.0 / (6371008.8 * M_PI / 180);
    double lon[3] = {0.05, 0.05, 0.0}, lat[3] = {10 + dlat, 10.5, NAN};
    cs_snap s[3];
    cs_snap_opts o;
    cs_snap_opts_default(&o);
    CHECK_OK(cs_snap_points(n, lon, lat, 3, &o, s));
    CHECK(!s[0].flagged && s[0].seg == 0);
    CHECK_NEAR(s[0].dist_m, 50.0, 1e-3);
    CHECK_NEAR(s[0].frac, 0.5, 1e-6);
    CHECK_NEAR(s[0].snap_lon, 0.05, 1e-9);
    CHECK_NEAR(s[0].snap_lat, 10, 1e-5);
    CHECK(s[0].access_ms == (uint32_t)llround(s[0].dist_m * 3600 / 5.0));
    CHECK(s[0].component == 0);
    /* 55 km away: flagged, kept */
    CHECK(s[1].flagged && s[1].seg == CS_INVALID_ID && isnan(s[1].dist_m));
    CHECK(s[1].snap_lon == 0.05 && s[1].snap_lat == 10.5);
    CHECK(s[2].flagged);
    o.max_dist_m = 100000;
    CHECK_OK(cs_snap_points(n, lon + 1, lat + 1, 1, &o, s));
    CHECK(!s[0].flagged);
    CHECK_NEAR(s[0].dist_m, cs_geodesic_m(0.05, 10.5, 0.05, 10), 1e-3);
    cs_network_free(n);

    /* components: a big 2-way ring (largest SCC) and a small 2-node piece closer to the point */
    cs_network_new(&n);
    const char *c1[] = {"road"};
    cs_network_set_classes(n, c1, 1);
    for (int i = 0; i < 4; i++) cs_network_add_node(n, 0.01 * (i % 2), 0.01 * (i / 2), CS_NO_OSM_ID, NULL);
    int ring[4][2] = {{0, 1}, {1, 3}, {3, 2}, {2, 0}};
    for (int i = 0; i < 4; i++) {
        double lo[2] = {n->lon_deg[ring[i][0]], n->lon_deg[ring[i][1]]}, la[2] = {n->lat_deg[ring[i][0]], n->lat_deg[ring[i][1]]};
        cs_network_add_segment(n, (uint32_t)ring[i][0], (uint32_t)ring[i][1], 10, 10, 100, CS_SEG_ROAD, 0, i, lo, la, 2);
    }
    cs_network_add_node(n, 0.02, 0.005, CS_NO_OSM_ID, NULL);
    cs_network_add_node(n, 0.02, 0.006, CS_NO_OSM_ID, NULL);
    {
        double lo[2] = {0.02, 0.02}, la[2] = {0.005, 0.006};
        cs_network_add_segment(n, 4, 5, 10, 10, 100, CS_SEG_ROAD, 0, 9, lo, la, 2);
    }
    /* one-way spur from the ring to node 6: its own SCC; the segment belongs to none */
    cs_network_add_node(n, -0.01, 0, CS_NO_OSM_ID, NULL);
    {
        double lo[2] = {0, -0.01}, la[2] = {0, 0};
        cs_network_add_segment(n, 0, 6, 10, CS_NO_TIME, 100, CS_SEG_ROAD, 0, 10, lo, la, 2);
    }
    double px = 0.018, py = 0.0055;
    cs_snap_opts_default(&o);
    CHECK_OK(cs_snap_points(n, &px, &py, 1, &o, s));
    CHECK(s[0].seg == 1 && s[0].component == 0); /* ring edge 1 (lon 0.01) within the 1 km slack */
    o.prefer_largest = 0;
    CHECK_OK(cs_snap_points(n, &px, &py, 1, &o, s));
    CHECK(s[0].seg == 4 && s[0].component == 1);
    CHECK_NEAR(s[0].dist_m, cs_geodesic_m(0.018, 0.0055, 0.02, 0.0055), 1e-6);
    double qx = -0.005, qy = 0.0001;
    CHECK_OK(cs_snap_points(n, &qx, &qy, 1, &o, s));
    CHECK(s[0].seg == 5 && s[0].component == CS_INVALID_ID);
    cs_network_free(n);
}

static void test_attach(void)
{
    cs_network *n = chain(100, 10, 0, 0.1, 0);
    CHECK_OK(cs_network_compress(n));
    uint32_t T = n->seg_fwd_ms[0], B = n->seg_bwd_ms[0], L = n->seg_len_cm[0];
    uint64_t G = n->geom_off[1];
    double dlat = 30.0 / (6371008.8 * M_PI / 180);
    double lon[4] = {0.025, 0.075, 0.075, 0.5}, lat[4] = {10 - dlat, 10 + dlat, 10 + 2 * dlat, 10};
    cs_snap s[4];
    cs_snap_opts o;
    cs_snap_opts_default(&o);
    CHECK_OK(cs_snap_points(n, lon, lat, 4, &o, s));
    CHECK(!s[0].flagged && !s[1].flagged && !s[2].flagged && s[3].flagged);
    uint32_t node[4];
    CHECK_OK(cs_network_attach(n, lon, lat, 4, s, node));
    CHECK(node[3] == CS_INVALID_ID);
    CHECK(node[0] != CS_INVALID_ID && node[1] != CS_INVALID_ID && node[2] != CS_INVALID_ID);
    /* 3 road pieces (points 1 and 2 share the cut) + 3 connectors */
    CHECK(n->n_segs == 6);
    CHECK(n->n_nodes == 2 + 2 + 3);
    uint64_t t = 0, b = 0, l = 0, g = 0;
    int roads = 0;
    for (uint32_t k = 0; k < n->n_segs; k++) {
        if (n->seg_mode[k] == CS_SEG_CONNECTOR) continue;
        roads++;
        t += n->seg_fwd_ms[k];
        b += n->seg_bwd_ms[k];
        l += n->seg_len_cm[k];
        g += n->geom_off[k + 1] - n->geom_off[k];
    }
    CHECK(roads == 3 && t == T && b == B && l == L);
    CHECK(g == G + 2 * 2); /* each interior cut point appears in two pieces */
    CHECK(n->seg_u[0] == 0);                        /* the first piece keeps index 0 and its start node */
    CHECK_NEAR(n->seg_fwd_ms[0], T * 0.25, 1e-3); /* a quarter of the way */
    for (int i = 0; i < 3; i++) {
        uint32_t c = CS_INVALID_ID;
        for (uint32_t k = 0; k < n->n_segs; k++)
            if (n->seg_mode[k] == CS_SEG_CONNECTOR && n->seg_u[k] == node[i]) c = k;
        CHECK(c != CS_INVALID_ID);
        if (c == CS_INVALID_ID) continue;
        CHECK(n->seg_fwd_ms[c] == s[i].access_ms && n->seg_bwd_ms[c] == s[i].access_ms);
        CHECK(!strcmp(n->class_names[n->seg_class[c]], "connector"));
        CHECK_NEAR(n->lat_deg[n->seg_v[c]], 10, 1e-6);
    }
    /* points 1 and 2 join the same cut node */
    uint32_t v1 = CS_INVALID_ID, v2 = CS_INVALID_ID;
    for (uint32_t k = 0; k < n->n_segs; k++) {
        if (n->seg_mode[k] != CS_SEG_CONNECTOR) continue;
        if (n->seg_u[k] == node[1]) v1 = n->seg_v[k];
        if (n->seg_u[k] == node[2]) v2 = n->seg_v[k];
    }
    CHECK(v1 == v2 && v1 != CS_INVALID_ID);
    cs_network_free(n);

    /* failure injection: attach leaves the network unchanged */
    n = chain(10, 0, 0, 0.01, 0);
    double px = 0.0055, py = 0.0001;
    CHECK_OK(cs_snap_points(n, &px, &py, 1, &o, s));
    for (long k = 1; k < 400; k++) {
        cs_alloc_fail_after(k, 0);
        cs_status st = cs_network_attach(n, &px, &py, 1, s, node);
        cs_alloc_fail_after(0, 0);
        if (st == CS_OK) break;
        CHECK(st == CS_ENOMEM);
        CHECK(n->n_segs == 10 && n->n_nodes == 11);
    }
    CHECK(n->n_segs == 12 && n->n_nodes == 13);
    cs_network_free(n);
}

static void test_builder_errors(void)
{
    cs_network *n = NULL;
    CHECK_OK(cs_network_new(&n));
    double lo[2] = {0, 1}, la[2] = {0, 1};
    CHECK(cs_network_add_segment(n, 0, 1, 1, 1, 1, CS_SEG_ROAD, 0, 0, lo, la, 2) == CS_EINVAL);
    CHECK(cs_network_add_node(n, NAN, 0, 1, NULL) == CS_EPARSE);
    uint32_t a, b;
    CHECK_OK(cs_network_add_node(n, 0, 0, CS_NO_OSM_ID, &a));
    CHECK(n->osm_node_id == NULL);
    CHECK_OK(cs_network_add_node(n, 1, 1, 42, &b));
    CHECK(n->osm_node_id && n->osm_node_id[0] == CS_NO_OSM_ID && n->osm_node_id[1] == 42);
    CHECK(cs_network_add_segment(n, a, b, 1, 1, 1, CS_SEG_ROAD, 0, 0, lo, la, 1) == CS_EINVAL);
    CHECK_OK(cs_network_add_segment(n, a, b, 1, 1, 1, CS_SEG_ROAD, 0, 0, lo, la, 2));
    CHECK_OK(cs_network_set_ext_id(n, 0, "e1"));
    CHECK_OK(cs_network_set_extra(n, 0, 5));
    CHECK_OK(cs_network_add_proposed(n, a, b, CS_NO_TIME, CS_NO_TIME, 100, 0, "p1"));
    CHECK(n->proposed.n == 1 && !strcmp(n->proposed.ext_id[0], "p1"));
    for (int i = 0; i < 200; i++) CHECK_OK(cs_network_add_segment(n, a, b, 1, 1, 1, CS_SEG_ROAD, 0, i, lo, la, 2));
    CHECK(!strcmp(n->seg_ext_id[0], "e1") && n->seg_ext_id[150] == NULL && n->seg_extra_ms[150] == 0);
    cs_network_free(n);
    cs_network_free(NULL);
}

int main(void)
{
    test_geodesic();
    test_compress();
    test_snap();
    test_attach();
    test_builder_errors();
    TEST_MAIN_END();
}

/* test_net_lines.c: GIS line layers (topology from end points within a tolerance, time/speed/class fields,
 * direction, penalties) and the GeoPackage/CSV export round trip. Hand-worked expected values. */
#include <unistd.h>
#include "test.h"

#define DATA CS_SRC_DIR "/tests/data/net/"

static double hav(double lon1, double lat1, double lon2, double lat2)
{
    double d = M_PI / 180, a = sin((lat2 - lat1) * d / 2), b = sin((lon2 - lon1) * d / 2);
    return 2 * 6371008.8 * asin(sqrt(a * a + cos(lat1 * d) * cos(lat2 * d) * b * b));
}

static uint32_t seg_by_id(const cs_network *n, const char *id, int k)
{
    for (uint32_t s = 0; s < n->n_segs; s++)
        if (!strcmp(n->seg_ext_id[s], id) && k-- == 0) return s;
    return CS_INVALID_ID;
}

int main(void)
{
    cs_profile *p = NULL;
    CHECK_OK(cs_profile_load(CS_SRC_DIR "/share/profiles/osrm-car.json", &p));
    cs_lines_opts o;
    cs_lines_opts_default(&o);
    o.time_field = "time_min";
    o.speed_field = "speed";
    o.class_field = "cls";
    o.profile = p;
    o.dir_field = "dir";
    o.id_field = "eid";
    const char *pen[] = {"border", NULL};
    o.penalty_fields = pen;
    cs_network *n = NULL;
    CHECK_OK(cs_network_from_lines(DATA "lines.geojson", &o, &n));
    if (!n) TEST_MAIN_END();
    CHECK(n->n_nodes == 9);
    CHECK(n->n_segs == 6);
    double L1 = hav(0, 0, 0.01, 0);
    uint32_t a = seg_by_id(n, "a", 0), b = seg_by_id(n, "b", 0), c = seg_by_id(n, "c", 0), d = seg_by_id(n, "d", 0);
    uint32_t e0 = seg_by_id(n, "e", 0), e1 = seg_by_id(n, "e", 1);
    CHECK(a != CS_INVALID_ID && b != CS_INVALID_ID && c != CS_INVALID_ID && d != CS_INVALID_ID);
    CHECK(e0 != CS_INVALID_ID && e1 != CS_INVALID_ID && seg_by_id(n, "f", 0) == CS_INVALID_ID);
    if (a == CS_INVALID_ID || b == CS_INVALID_ID || c == CS_INVALID_ID || d == CS_INVALID_ID) TEST_MAIN_END();
    /* a: 36 km/h = 10 m/s, two edges, ms per edge */
    CHECK(n->seg_fwd_ms[a] == 2 * (uint32_t)llround(L1 * 100) && n->seg_bwd_ms[a] == n->seg_fwd_ms[a]);
    CHECK(n->seg_len_cm[a] == 2 * (uint32_t)llround(L1 * 100));
    CHECK(n->geom_off[a + 1] - n->geom_off[a] == 3);
    /* b: starts 0.3 m from a's end -> same node; 2 min + 5 min border, forward only */
    CHECK(n->seg_u[b] == n->seg_v[a]);
    CHECK(n->seg_fwd_ms[b] == 420000 && n->seg_bwd_ms[b] == CS_NO_TIME);
    CHECK(n->seg_extra_ms && n->seg_extra_ms[b] == 300000);
    /* c: primary at 65 km/h from the profile, backward only (TF) */
    CHECK(n->seg_fwd_ms[c] == CS_NO_TIME && n->seg_bwd_ms[c] == (uint32_t)llround(hav(0.03, 0, 0.03, 0.01) * 3600 / 65));
    CHECK(!strcmp(n->class_names[n->seg_class[c]], "primary"));
    CHECK(n->seg_u[c] == n->seg_v[b]);
    /* d: 2.2 m from a's end: beyond the 1 m tolerance -> own node */
    CHECK(n->seg_u[d] != n->seg_v[a]);
    /* multi-line parts share their middle node */
    CHECK(n->seg_v[e0] == n->seg_u[e1]);
    cs_network_free(n);
    n = NULL;

    /* a 3 m tolerance joins d to a */
    o.snap_tol_m = 3;
    CHECK_OK(cs_network_from_lines(DATA "lines.geojson", &o, &n));
    if (n) {
        CHECK(n->n_nodes == 8);
        cs_network_free(n);
        n = NULL;
    }
    /* no tolerance: only identical end points are shared (b's start is 0.3 m off) */
    o.snap_tol_m = 0;
    CHECK_OK(cs_network_from_lines(DATA "lines.geojson", &o, &n));
    if (n) {
        CHECK(n->n_nodes == 10);
        cs_network_free(n);
        n = NULL;
    }
    /* errors: bad field name, direction value */
    o.snap_tol_m = 1;
    o.speed_field = "nope";
    CHECK(cs_network_from_lines(DATA "lines.geojson", &o, &n) == CS_ENOTFOUND);
    o.speed_field = "speed";
    o.dir_field = "eid";
    CHECK(cs_network_from_lines(DATA "lines.geojson", &o, &n) == CS_EPARSE);
    CHECK(cs_error_last()->line == 1);
    o.dir_field = "dir";

    /* export round trip: GeoPackage segments read back as lines with fwd_s as the time */
    CHECK_OK(cs_network_from_lines(DATA "lines.geojson", &o, &n));
    char tmpl[] = "/tmp/cs_netlinesXXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    if (n && dir) {
        char gp[512], csv[512], ncsv[512];
        snprintf(gp, sizeof gp, "%s/net.gpkg", dir);
        snprintf(csv, sizeof csv, "%s/net.csv", dir);
        snprintf(ncsv, sizeof ncsv, "%s/net.nodes.csv", dir);
        CHECK_OK(cs_network_export(n, gp));
        CHECK_OK(cs_network_export(n, csv));
        CHECK(access(ncsv, R_OK) == 0);
        cs_lines_opts r;
        cs_lines_opts_default(&r);
        r.layer = "segments";
        r.time_field = "fwd_s";
        r.time_unit_s = 1;
        r.default_kmh = 1; /* the backward-only segment has no fwd_s */
        r.id_field = "ext_id";
        cs_network *m = NULL;
        CHECK_OK(cs_network_from_lines(gp, &r, &m));
        if (m) {
            CHECK(m->n_segs == n->n_segs && m->n_nodes == n->n_nodes);
            for (uint32_t s = 0; s < n->n_segs && s < m->n_segs; s++) {
                CHECK(!strcmp(m->seg_ext_id[s], n->seg_ext_id[s]));
                CHECK(m->seg_len_cm[s] == n->seg_len_cm[s]);
                if (n->seg_fwd_ms[s] != CS_NO_TIME) CHECK(m->seg_fwd_ms[s] == n->seg_fwd_ms[s]);
            }
            cs_network_free(m);
        }
        char *txt = NULL;
        size_t len = 0;
        CHECK_OK(cs_read_file(csv, &txt, &len));
        CHECK(txt && strstr(txt, "segment,u,v,fwd_s,bwd_s,length_m") == txt);
        CHECK(txt && strstr(txt, ",420.000,,") != NULL);
        cs_free(txt);
        unlink(gp);
        unlink(csv);
        unlink(ncsv);
        rmdir(dir);
    }
    CHECK(cs_network_export(n, "/tmp/x.shp") == CS_EINVAL);
    cs_network_free(n);
    cs_profile_free(p);
    TEST_MAIN_END();
}

/* test_net_tables.c: the Trans-African node/edge tables against the oracle sums (tests/data/net/oracle_tables.py). */
#include "test.h"

#define DATA CS_SRC_DIR "/tests/data/net/"

static unsigned long long expect(const char *key)
{
    FILE *f = fopen(DATA "expected_tables.txt", "r");
    char k[128], v[64];
    unsigned long long r = 0;
    int found = 0;
    while (f && fscanf(f, "%127s %63s", k, v) == 2)
        if (!strcmp(k, key)) {
            r = strtoull(v, NULL, 10);
            found = 1;
        }
    if (f) fclose(f);
    CHECK(found);
    return r;
}

int main(void)
{
    cs_network *n = NULL;
    CHECK_OK(cs_network_from_tables(DATA "transafrican_nodes.csv.gz", DATA "transafrican_edges.csv.gz", NULL, &n));
    if (!n) TEST_MAIN_END();
    CHECK(n->n_nodes == expect("nodes"));
    CHECK(n->n_segs == expect("base_edges"));
    CHECK(n->n_segs == 2344);
    CHECK(n->proposed.n == expect("proposed_edges"));
    CHECK(n->proposed.n == 481);
    unsigned long long road = 0, border = 0, tot = 0, len = 0, plen = 0, cross = 0;
    int sym = 1, ids = 1;
    for (uint32_t s = 0; s < n->n_segs; s++) {
        tot += n->seg_fwd_ms[s];
        border += n->seg_extra_ms[s];
        road += n->seg_fwd_ms[s] - n->seg_extra_ms[s];
        len += n->seg_len_cm[s];
        cross += n->seg_extra_ms[s] > 0;
        sym &= n->seg_fwd_ms[s] == n->seg_bwd_ms[s];
        ids &= n->seg_ext_id && n->seg_ext_id[s] != NULL;
    }
    for (uint32_t i = 0; i < n->proposed.n; i++) {
        plen += n->proposed.len_cm[i];
        CHECK(n->proposed.fwd_ms[i] == CS_NO_TIME); /* no duration for proposed links */
    }
    CHECK(sym && ids);
    CHECK(road == expect("road_ms"));
    CHECK(border == expect("border_ms"));
    CHECK(tot == expect("total_time_ms_from_column"));
    CHECK(len == expect("length_cm"));
    CHECK(plen == expect("proposed_length_cm"));
    CHECK(cross == expect("cross_border_edges"));
    /* edge ids are the 1-based rows of the edge table; first row is Dakar (node 1) - node 2 */
    CHECK(!strcmp(n->seg_ext_id[0], "1") && n->seg_u[0] == 0 && n->seg_v[0] == 1);
    CHECK(n->seg_fwd_ms[0] == 2769000); /* 46.15 min */
    cs_network_free(n);

    /* without the border column: times are road times only */
    cs_table_opts o;
    cs_table_opts_default(&o);
    o.include_extra = 0;
    CHECK_OK(cs_network_from_tables(DATA "transafrican_nodes.csv.gz", DATA "transafrican_edges.csv.gz", &o, &n));
    if (n) {
        unsigned long long r2 = 0;
        for (uint32_t s = 0; s < n->n_segs; s++) r2 += n->seg_fwd_ms[s];
        CHECK(r2 == expect("road_ms"));
        cs_network_free(n);
        n = NULL;
    }
    /* errors: a missing column names the file */
    o.edge_time = "no_such_column";
    CHECK(cs_network_from_tables(DATA "transafrican_nodes.csv.gz", DATA "transafrican_edges.csv.gz", &o, &n) ==
          CS_ENOTFOUND);
    CHECK(strstr(cs_error_last()->message, "no_such_column") != NULL);
    CHECK(cs_network_from_tables(DATA "nope.csv", DATA "transafrican_edges.csv.gz", NULL, &n) == CS_EIO);

    /* the same network as GIS lines (shared data, skipped when absent): topology from end points, time from
       `duration`, border time as penalty, proposed links filtered out -> the same sums as the tables */
    const char *gj = CS_SHARED_DIR "/data/africa-transafrican-network/africa_network.geojson.gz";
    FILE *probe = fopen(gj, "rb");
    if (!probe) {
        printf("skipped: %s not found\n", gj);
    } else {
        fclose(probe);
        cs_lines_opts lo;
        cs_lines_opts_default(&lo);
        lo.time_field = "duration";
        const char *pen[] = {"border_time", NULL};
        lo.penalty_fields = pen;
        lo.where = "add = 0";
        cs_network *g = NULL;
        CHECK_OK(cs_network_from_lines(gj, &lo, &g));
        if (g) {
            unsigned long long t = 0, x = 0;
            for (uint32_t s = 0; s < g->n_segs; s++) {
                t += g->seg_fwd_ms[s];
                x += g->seg_extra_ms ? g->seg_extra_ms[s] : 0;
            }
            CHECK(g->n_segs == expect("base_edges"));
            CHECK(t == expect("total_time_ms_from_column"));
            CHECK(x == expect("border_ms"));
            /* 1,379 table nodes; one line end of the GeoJSON lies 27 km from its node (data artefact) */
            CHECK(g->n_nodes == expect("nodes") + 1);
            cs_network_free(g);
        }
    }
    TEST_MAIN_END();
}

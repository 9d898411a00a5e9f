/*
 * osm.c: OpenStreetMap import through readosm (.osm.pbf, .osm) in one pass:
 * every node's position is kept (24 bytes per node), routable ways and their
 * node references are stored, then the ways are cut into segments at shared
 * nodes and compressed (network.c).
 */
#include <math.h>
#include <readosm.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "citysys/alloc.h"
#include "citysys/fileio.h"
#include "citysys/osm.h"

typedef struct {
    int64_t id;
    double lon, lat;
} onode;

typedef struct {
    const cs_profile *prof;
    cs_progress progress;
    cs_status st;
    /* nodes */
    onode *nodes;
    size_t n_nodes, cap_nodes;
    int sorted;
    /* routable ways */
    size_t n_ways, cap_ways;
    int64_t *way_id;
    uint8_t *cls, *mode;
    double *fwd_kmh, *bwd_kmh, *dur_s;
    uint64_t *ref_off; /* n_ways + 1 */
    int64_t *refs;
    size_t n_refs, cap_refs;
    /* tag scratch */
    const char **tk, **tv;
    size_t cap_tags;
    cs_osm_stats *stats;
} osm_ctx;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    void *q = cs_reallocarray(*p, c, sz);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int node_cb(const void *user, const readosm_node *nd)
{
    osm_ctx *c = (osm_ctx *)user;
    if (grow((void **)&c->nodes, &c->cap_nodes, c->n_nodes + 1, sizeof(onode))) {
        c->st = CS_ENOMEM;
        return READOSM_ABORT;
    }
    onode *o = &c->nodes[c->n_nodes];
    o->id = nd->id;
    o->lon = nd->longitude;
    o->lat = nd->latitude;
    if (c->n_nodes && c->nodes[c->n_nodes - 1].id >= nd->id) c->sorted = 0;
    c->n_nodes++;
    if ((c->n_nodes & 0x3ffff) == 0 && c->progress.fn &&
        c->progress.fn(c->progress.user, "reading OSM nodes", (double)c->n_nodes, 0)) {
        c->st = cs_error_set(CS_ECANCELED, "OSM import cancelled");
        return READOSM_ABORT;
    }
    return READOSM_OK;
}

static int way_cb(const void *user, const readosm_way *w)
{
    osm_ctx *c = (osm_ctx *)user;
    c->stats->ways++;
    if (w->tag_count <= 0 || w->node_ref_count < 2) return READOSM_OK;
    size_t nt = (size_t)w->tag_count;
    if (nt > c->cap_tags) {
        size_t cap = c->cap_tags;
        size_t cap2 = cap;
        if (grow((void **)&c->tk, &cap, nt, sizeof(char *)) || grow((void **)&c->tv, &cap2, nt, sizeof(char *))) {
            c->st = CS_ENOMEM;
            return READOSM_ABORT;
        }
        c->cap_tags = cap < cap2 ? cap : cap2;
    }
    for (size_t i = 0; i < nt; i++) {
        c->tk[i] = w->tags[i].key;
        c->tv[i] = w->tags[i].value;
    }
    cs_way_attr a;
    cs_status st = cs_profile_way(c->prof, c->tk, c->tv, nt, &a);
    if (st) {
        c->st = st;
        return READOSM_ABORT;
    }
    if (!a.routable) return READOSM_OK;
    size_t i = c->n_ways;
    if (i + 1 > c->cap_ways) {
        size_t nc = c->cap_ways ? c->cap_ways * 2 : 1024;
        void *q;
#define G(arr, sz)                                          \
    if (!(q = cs_reallocarray(c->arr, nc, sz))) goto oom; \
    c->arr = q;
        G(way_id, 8) G(cls, 1) G(mode, 1) G(fwd_kmh, 8) G(bwd_kmh, 8) G(dur_s, 8)
#undef G
        if (!(q = cs_reallocarray(c->ref_off, nc + 1, 8))) goto oom;
        c->ref_off = q;
        c->cap_ways = nc;
    }
    if (grow((void **)&c->refs, &c->cap_refs, c->n_refs + (size_t)w->node_ref_count, 8)) goto oom;
    if (i == 0) c->ref_off[0] = 0;
    c->way_id[i] = w->id;
    c->cls[i] = a.cls;
    c->mode[i] = (uint8_t)a.mode;
    c->fwd_kmh[i] = a.fwd_kmh;
    c->bwd_kmh[i] = a.bwd_kmh;
    c->dur_s[i] = a.duration_s;
    memcpy(c->refs + c->n_refs, w->node_refs, (size_t)w->node_ref_count * sizeof(int64_t));
    c->n_refs += (size_t)w->node_ref_count;
    c->ref_off[i + 1] = c->n_refs;
    c->n_ways++;
    c->stats->routable_ways++;
    c->stats->ways_per_class[a.cls]++;
    return READOSM_OK;
oom:
    c->st = CS_ENOMEM;
    return READOSM_ABORT;
}

static int rel_cb(const void *user, const readosm_relation *r)
{
    (void)r;
    ((osm_ctx *)user)->stats->relations++;
    return READOSM_OK;
}

static int cmp_onode(const void *a, const void *b)
{
    int64_t x = ((const onode *)a)->id, y = ((const onode *)b)->id;
    return (x > y) - (x < y);
}

static uint32_t find_node(const osm_ctx *c, int64_t id)
{
    size_t lo = 0, hi = c->n_nodes;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (c->nodes[m].id < id) lo = m + 1;
        else hi = m;
    }
    return lo < c->n_nodes && c->nodes[lo].id == id ? (uint32_t)lo : CS_INVALID_ID;
}

static const char *readosm_msg(int r)
{
    switch (r) {
    case READOSM_INVALID_SUFFIX: return "not a .osm or .pbf file (suffix)";
    case READOSM_FILE_NOT_FOUND: return "file not found or unreadable";
    case READOSM_INSUFFICIENT_MEMORY: return "out of memory in readosm";
    case READOSM_CREATE_XML_PARSER_ERROR: return "cannot create the XML parser";
    case READOSM_READ_ERROR: return "read error";
    case READOSM_XML_ERROR: return "XML parse error";
    case READOSM_INVALID_PBF_HEADER: return "invalid PBF header";
    case READOSM_UNZIP_ERROR: return "zlib error in a PBF block";
    case READOSM_ABORT: return "aborted";
    default: return "readosm error";
    }
}

void cs_osm_opts_default(cs_osm_opts *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->compress = 1;
}

void cs_osm_stats_free(cs_osm_stats *s)
{
    if (!s) return;
    cs_free(s->ways_per_class);
    s->ways_per_class = NULL;
}

static void ctx_free(osm_ctx *c)
{
    cs_free(c->nodes);
    cs_free(c->way_id);
    cs_free(c->cls);
    cs_free(c->mode);
    cs_free(c->fwd_kmh);
    cs_free(c->bwd_kmh);
    cs_free(c->dur_s);
    cs_free(c->ref_off);
    cs_free(c->refs);
    cs_free(c->tk);
    cs_free(c->tv);
}

static uint32_t kmh_ms(double len_m, double kmh)
{
    if (!(kmh > 0)) return CS_NO_TIME;
    double t = llround(len_m * 3600.0 / kmh);
    return t >= (double)CS_NO_TIME ? CS_NO_TIME - 1 : (uint32_t)t;
}

/* Cut the stored ways into segments. */
static cs_status build(osm_ctx *c, cs_network *net, cs_osm_stats *stats)
{
    cs_status st = CS_ENOMEM;
    uint32_t *idx = NULL, *netid = NULL;
    uint8_t *cnt = NULL;
    double *glon = NULL, *glat = NULL, *cum = NULL;
    size_t cap_g = 0;
    if (c->n_nodes >= CS_INVALID_ID) return cs_error_set(CS_EINVAL, "too many OSM nodes for 32-bit ids");
    idx = cs_mallocarray(c->n_refs + 1, sizeof *idx);
    cnt = cs_calloc(c->n_nodes + 1, 1);
    netid = cs_mallocarray(c->n_nodes + 1, sizeof *netid);
    if (!idx || !cnt || !netid) goto done;
    for (size_t i = 0; i < c->n_nodes; i++) netid[i] = CS_INVALID_ID;
    /* resolve references; drop repeats of the same node; count uses; force ends and gap sides */
    for (size_t w = 0; w < c->n_ways; w++) {
        uint64_t a = c->ref_off[w], b = c->ref_off[w + 1];
        uint32_t prev = CS_INVALID_ID;
        int gap = 1;
        for (uint64_t r = a; r < b; r++) {
            uint32_t x = find_node(c, c->refs[r]);
            idx[r] = x;
            if (x == CS_INVALID_ID) {
                stats->missing_refs++;
                if (prev != CS_INVALID_ID) cnt[prev] = 3;
                gap = 1;
                continue;
            }
            if (x == prev && !gap) {
                idx[r] = CS_INVALID_ID - 1; /* repeated node: skip without splitting */
                continue;
            }
            if (gap) cnt[x] = 3;
            else if (cnt[x] < 3) cnt[x]++;
            prev = x;
            gap = 0;
        }
        if (prev != CS_INVALID_ID) cnt[prev] = 3;
    }
    for (size_t w = 0; w < c->n_ways; w++) {
        uint64_t a = c->ref_off[w], b = c->ref_off[w + 1];
        size_t m = (size_t)(b - a);
        size_t cg = cap_g, cg2 = cap_g, cg3 = cap_g;
        if (grow((void **)&glon, &cg, m, 8) || grow((void **)&glat, &cg2, m, 8) || grow((void **)&cum, &cg3, m + 1, 8))
            goto done;
        cap_g = cg;
        if (cg2 < cap_g) cap_g = cg2;
        if (cg3 < cap_g) cap_g = cg3;
        /* ferry with a duration: distribute the way's time by cumulative length */
        double total_len = 0;
        int ferry_dur = !isnan(c->dur_s[w]);
        if (ferry_dur) {
            uint32_t p = CS_INVALID_ID;
            for (uint64_t r = a; r < b; r++) {
                uint32_t x = idx[r];
                if (x >= CS_INVALID_ID - 1) {
                    if (x == CS_INVALID_ID) p = CS_INVALID_ID;
                    continue;
                }
                if (p != CS_INVALID_ID)
                    total_len += cs_geodesic_m(c->nodes[p].lon, c->nodes[p].lat, c->nodes[x].lon, c->nodes[x].lat);
                p = x;
            }
        }
        double T_ms = ferry_dur ? llround(c->dur_s[w] * 1000.0) : 0;
        double run_len = 0;
        size_t np = 0;
        uint32_t start = CS_INVALID_ID, prev = CS_INVALID_ID;
        uint64_t lcm = 0, tf = 0, tb = 0;
        for (uint64_t r = a; r <= b; r++) {
            uint32_t x = r < b ? idx[r] : CS_INVALID_ID;
            if (x == CS_INVALID_ID - 1) continue;
            if (x == CS_INVALID_ID) { /* gap or end */
                prev = CS_INVALID_ID;
                np = 0;
                continue;
            }
            if (prev != CS_INVALID_ID) {
                double d = cs_geodesic_m(c->nodes[prev].lon, c->nodes[prev].lat, c->nodes[x].lon, c->nodes[x].lat);
                lcm += (uint64_t)llround(d * 100.0);
                if (ferry_dur) {
                    double t0 = total_len > 0 ? llround(T_ms * run_len / total_len) : 0;
                    run_len += d;
                    double t1 = total_len > 0 ? llround(T_ms * run_len / total_len) : 0;
                    tf += (uint64_t)(t1 - t0);
                    tb += (uint64_t)(t1 - t0);
                } else {
                    uint32_t f = kmh_ms(d, c->fwd_kmh[w]), g = kmh_ms(d, c->bwd_kmh[w]);
                    tf += f == CS_NO_TIME ? 0 : f;
                    tb += g == CS_NO_TIME ? 0 : g;
                }
            } else {
                start = x;
                np = 0;
                lcm = tf = tb = 0;
            }
            glon[np] = c->nodes[x].lon;
            glat[np] = c->nodes[x].lat;
            np++;
            prev = x;
            if (np >= 2 && cnt[x] >= 2) {
                uint32_t ends[2] = {start, x};
                for (int e = 0; e < 2; e++)
                    if (netid[ends[e]] == CS_INVALID_ID &&
                        (st = cs_network_add_node(net, c->nodes[ends[e]].lon, c->nodes[ends[e]].lat,
                                                  c->nodes[ends[e]].id, &netid[ends[e]])))
                        goto done;
                if (tf >= CS_NO_TIME || tb >= CS_NO_TIME || lcm > UINT32_MAX) {
                    st = cs_error_set(CS_EPARSE, "way %lld: piece too long for 32-bit ms/cm", (long long)c->way_id[w]);
                    goto done;
                }
                uint32_t fms = c->fwd_kmh[w] > 0 ? (uint32_t)tf : CS_NO_TIME;
                uint32_t bms = c->bwd_kmh[w] > 0 ? (uint32_t)tb : CS_NO_TIME;
                if ((st = cs_network_add_segment(net, netid[start], netid[x], fms, bms, (uint32_t)lcm,
                                                 (cs_seg_mode)c->mode[w], c->cls[w], c->way_id[w], glon, glat, np)))
                    goto done;
                start = x;
                glon[0] = glon[np - 1];
                glat[0] = glat[np - 1];
                np = 1;
                lcm = tf = tb = 0;
            }
        }
    }
    st = CS_OK;
done:
    cs_free(idx);
    cs_free(cnt);
    cs_free(netid);
    cs_free(glon);
    cs_free(glat);
    cs_free(cum);
    return st;
}

cs_status cs_network_from_osm(const char *path, const cs_profile *p, const cs_osm_opts *opts, cs_network **out,
                              cs_osm_stats *stats_out)
{
    if (!path || !p || !out) return cs_error_set(CS_EINVAL, "cs_network_from_osm: NULL argument");
    cs_osm_opts def;
    if (!opts) {
        cs_osm_opts_default(&def);
        opts = &def;
    }
    cs_osm_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.n_classes = cs_profile_n_classes(p);
    stats.ways_per_class = cs_calloc(stats.n_classes + 1, sizeof(uint64_t));
    if (!stats.ways_per_class) return CS_ENOMEM;
    osm_ctx c;
    memset(&c, 0, sizeof c);
    c.prof = p;
    c.progress = opts->progress;
    c.sorted = 1;
    c.stats = &stats;
    cs_network *net = NULL;
    cs_status st;
    double t0 = now_s();
    const void *h = NULL;
    int r = readosm_open(path, &h);
    if (r != READOSM_OK) {
        readosm_close(h);
        st = cs_error_set_at(r == READOSM_INVALID_SUFFIX ? CS_EINVAL : CS_EIO, path, 0, 0, "cannot open OSM file: %s",
                             readosm_msg(r));
        goto fail;
    }
    r = readosm_parse(h, &c, node_cb, way_cb, rel_cb);
    readosm_close(h);
    if (r != READOSM_OK) {
        if (c.st) st = c.st;
        else st = cs_error_set_at(r == READOSM_READ_ERROR ? CS_EIO : CS_EPARSE, path, 0, 0, "cannot read OSM file: %s",
                                  readosm_msg(r));
        if (st == CS_ENOMEM && cs_error_last()->status != CS_ENOMEM) cs_error_set(CS_ENOMEM, "out of memory");
        goto fail;
    }
    stats.nodes = c.n_nodes;
    if (!c.sorted) qsort(c.nodes, c.n_nodes, sizeof(onode), cmp_onode);
    double t1 = now_s();
    stats.parse_s = t1 - t0;
    if ((st = cs_network_new(&net))) goto fail;
    {
        const char *names[256];
        for (uint32_t i = 0; i < stats.n_classes; i++) names[i] = cs_profile_class_name(p, i);
        if ((st = cs_network_set_classes(net, names, stats.n_classes))) goto fail;
    }
    if ((st = build(&c, net, &stats))) goto fail;
    ctx_free(&c);
    memset(&c, 0, sizeof c);
    if (opts->compress && (st = cs_network_compress(net))) goto fail;
    stats.build_s = now_s() - t1;
    {
        cs_sha256 s;
        cs_sha256_init(&s);
        cs_sha256_str(&s, "citysys-network-osm-v1");
        if ((st = cs_sha256_file(&s, path))) goto fail;
        cs_sha256_str(&s, cs_profile_canonical(p));
        cs_sha256_str(&s, opts->compress ? "compress=1" : "compress=0");
        cs_sha256_hex(&s, net->fingerprint);
    }
    *out = net;
    if (stats_out) *stats_out = stats;
    else cs_osm_stats_free(&stats);
    return CS_OK;
fail:
    ctx_free(&c);
    cs_network_free(net);
    cs_osm_stats_free(&stats);
    return st;
}

/*
 * osm.c: OpenStreetMap import through readosm (.osm.pbf, .osm) in one pass:
 * every node's position is kept (24 bytes per node), routable ways and their
 * node references are stored, then the ways are cut into segments at shared
 * nodes and compressed (network.c).
 */
#include <math.h>
#include <cpl_conv.h>
#include <readosm.h>
#include <stdio.h>
#include <sys/stat.h>
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

/* ------------------------------------------------------------------------
 * Own .osm.pbf reader (measured faster than readosm, bench/README.md (OSM import rate)).
 * Format: https://wiki.openstreetmap.org/wiki/PBF_Format — a sequence of
 * (4-byte big-endian BlobHeader length, BlobHeader, Blob); OSMData blobs hold
 * zlib-compressed PrimitiveBlocks. Blobs are located sequentially, then
 * decoded in parallel (OpenMP) into per-blob results merged in file order,
 * so the result does not depend on the thread count.
 */

typedef struct {
    const uint8_t *p, *end;
} pbuf;

static int pb_varint(pbuf *b, uint64_t *v)
{
    uint64_t r = 0;
    for (int s = 0; s < 64; s += 7) {
        if (b->p >= b->end) return -1;
        uint8_t c = *b->p++;
        r |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}
static inline int64_t zz(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* next field: number, wire type; for wire type 2 sets *sub; for 0 sets *v; skips 1 and 5 */
static int pb_field(pbuf *b, uint32_t *fn, int *wt, uint64_t *v, pbuf *sub)
{
    uint64_t key;
    if (pb_varint(b, &key)) return -1;
    *fn = (uint32_t)(key >> 3);
    *wt = (int)(key & 7);
    switch (*wt) {
    case 0: return pb_varint(b, v);
    case 1:
        if (b->end - b->p < 8) return -1;
        b->p += 8;
        return 0;
    case 5:
        if (b->end - b->p < 4) return -1;
        b->p += 4;
        return 0;
    case 2: {
        uint64_t len;
        if (pb_varint(b, &len) || len > (uint64_t)(b->end - b->p)) return -1;
        sub->p = b->p;
        sub->end = b->p + len;
        b->p += len;
        return 0;
    }
    default: return -1;
    }
}

typedef struct {
    cs_status st;
    char msg[256];
    /* nodes */
    onode *nodes;
    size_t n_nodes, cap_nodes;
    /* routable ways */
    size_t n_ways, cap_ways;
    int64_t *way_id;
    uint8_t *cls, *mode;
    double *fwd_kmh, *bwd_kmh, *dur_s;
    uint64_t *ref_len; /* refs per way */
    int64_t *refs;
    size_t n_refs, cap_refs;
    uint64_t ways_read, relations;
    uint64_t *per_class;
} blobres;

static void blobres_free(blobres *r)
{
    cs_free(r->nodes);
    cs_free(r->way_id);
    cs_free(r->cls);
    cs_free(r->mode);
    cs_free(r->fwd_kmh);
    cs_free(r->bwd_kmh);
    cs_free(r->dur_s);
    cs_free(r->ref_len);
    cs_free(r->refs);
    cs_free(r->per_class);
}

#define PBF_BAD(r, ...)                                                     \
    do {                                                                    \
        (r)->st = CS_EPARSE;                                                \
        snprintf((r)->msg, sizeof (r)->msg, __VA_ARGS__);                   \
        return -1;                                                          \
    } while (0)
#define PBF_OOM(r)                                                          \
    do {                                                                    \
        (r)->st = CS_ENOMEM;                                                \
        snprintf((r)->msg, sizeof (r)->msg, "out of memory");               \
        return -1;                                                          \
    } while (0)

static int res_add_node(blobres *r, int64_t id, double lon, double lat)
{
    if (grow((void **)&r->nodes, &r->cap_nodes, r->n_nodes + 1, sizeof(onode))) PBF_OOM(r);
    onode *o = &r->nodes[r->n_nodes++];
    o->id = id;
    o->lon = lon;
    o->lat = lat;
    return 0;
}

typedef struct {
    const char **s; /* NUL-terminated copies */
    size_t n;
    char *buf;
} strtab;

static int pbf_way(blobres *r, pbuf w, const strtab *S, const cs_profile *prof, const char **tk, const char **tv,
                   size_t cap_tags)
{
    r->ways_read++;
    int64_t id = 0;
    pbuf keys = {0}, vals = {0}, refs = {0};
    uint32_t fn;
    int wt;
    uint64_t v;
    pbuf sub;
    while (w.p < w.end) {
        if (pb_field(&w, &fn, &wt, &v, &sub)) PBF_BAD(r, "corrupt Way");
        if (fn == 1 && wt == 0) id = (int64_t)v;
        else if (fn == 2 && wt == 2) keys = sub;
        else if (fn == 3 && wt == 2) vals = sub;
        else if (fn == 8 && wt == 2) refs = sub;
        else if ((fn == 2 || fn == 3 || fn == 8) && wt == 0) PBF_BAD(r, "way %lld: unpacked repeated field", (long long)id);
    }
    size_t nt = 0;
    while (keys.p < keys.end && vals.p < vals.end) {
        uint64_t k, x;
        if (pb_varint(&keys, &k) || pb_varint(&vals, &x) || k >= S->n || x >= S->n)
            PBF_BAD(r, "way %lld: bad string index", (long long)id);
        if (nt < cap_tags) {
            tk[nt] = S->s[k];
            tv[nt] = S->s[x];
            nt++;
        }
    }
    if (!nt) return 0;
    cs_way_attr a;
    if (cs_profile_way(prof, tk, tv, nt, &a)) PBF_BAD(r, "profile evaluation failed");
    if (!a.routable) return 0;
    size_t nref = 0;
    size_t start = r->n_refs;
    int64_t acc = 0;
    while (refs.p < refs.end) {
        uint64_t d;
        if (pb_varint(&refs, &d)) PBF_BAD(r, "way %lld: corrupt refs", (long long)id);
        acc += zz(d);
        if (grow((void **)&r->refs, &r->cap_refs, r->n_refs + 1, 8)) PBF_OOM(r);
        r->refs[r->n_refs++] = acc;
        nref++;
    }
    if (nref < 2) {
        r->n_refs = start;
        return 0;
    }
    size_t i = r->n_ways;
    if (i + 1 > r->cap_ways) {
        size_t nc = r->cap_ways ? r->cap_ways * 2 : 256;
        void *q;
#define G(arr, sz)                                                \
    if (!(q = cs_reallocarray(r->arr, nc, sz))) PBF_OOM(r);       \
    r->arr = q;
        G(way_id, 8) G(cls, 1) G(mode, 1) G(fwd_kmh, 8) G(bwd_kmh, 8) G(dur_s, 8) G(ref_len, 8)
#undef G
        r->cap_ways = nc;
    }
    r->way_id[i] = id;
    r->cls[i] = a.cls;
    r->mode[i] = (uint8_t)a.mode;
    r->fwd_kmh[i] = a.fwd_kmh;
    r->bwd_kmh[i] = a.bwd_kmh;
    r->dur_s[i] = a.duration_s;
    r->ref_len[i] = nref;
    r->n_ways++;
    r->per_class[a.cls]++;
    return 0;
}

/* decode one PrimitiveBlock */
static int pbf_block(blobres *r, const uint8_t *data, size_t len, const cs_profile *prof)
{
    pbuf b = {data, data + len}, sub, st = {0};
    uint32_t fn;
    int wt;
    uint64_t v;
    int64_t gran = 100, lat_off = 0, lon_off = 0;
    pbuf groups[1024];
    size_t ng = 0;
    while (b.p < b.end) {
        if (pb_field(&b, &fn, &wt, &v, &sub)) PBF_BAD(r, "corrupt PrimitiveBlock");
        if (fn == 1 && wt == 2) st = sub;
        else if (fn == 2 && wt == 2) {
            if (ng >= 1024) PBF_BAD(r, "too many primitive groups in a block");
            groups[ng++] = sub;
        } else if (fn == 17 && wt == 0) gran = (int64_t)v;
        else if (fn == 19 && wt == 0) lat_off = (int64_t)v;
        else if (fn == 20 && wt == 0) lon_off = (int64_t)v;
    }
    /* string table: copy with NUL terminators */
    strtab S = {0};
    size_t total = 0;
    for (pbuf t = st; t.p < t.end;) {
        if (pb_field(&t, &fn, &wt, &v, &sub)) PBF_BAD(r, "corrupt StringTable");
        if (fn == 1 && wt == 2) {
            S.n++;
            total += (size_t)(sub.end - sub.p) + 1;
        }
    }
    S.s = cs_mallocarray(S.n + 1, sizeof *S.s);
    S.buf = cs_malloc(total + 1);
    const char *tk[256], *tv[256];
    int rc = 0;
    if (!S.s || !S.buf) {
        r->st = CS_ENOMEM;
        snprintf(r->msg, sizeof r->msg, "out of memory");
        rc = -1;
        goto out;
    }
    {
        size_t k = 0, off = 0;
        for (pbuf t = st; t.p < t.end;) {
            pb_field(&t, &fn, &wt, &v, &sub);
            if (fn == 1 && wt == 2) {
                size_t l = (size_t)(sub.end - sub.p);
                memcpy(S.buf + off, sub.p, l);
                S.buf[off + l] = 0;
                S.s[k++] = S.buf + off;
                off += l + 1;
            }
        }
    }
    const double scale = 1e9;
    for (size_t g = 0; g < ng && !rc; g++) {
        pbuf G = groups[g];
        while (G.p < G.end && !rc) {
            if (pb_field(&G, &fn, &wt, &v, &sub)) {
                r->st = CS_EPARSE;
                snprintf(r->msg, sizeof r->msg, "corrupt PrimitiveGroup");
                rc = -1;
                break;
            }
            if (wt != 2) continue;
            if (fn == 1) { /* Node */
                int64_t id = 0, la = 0, lo = 0;
                pbuf n = sub, s2;
                uint32_t f2;
                int w2;
                uint64_t v2;
                while (n.p < n.end) {
                    if (pb_field(&n, &f2, &w2, &v2, &s2)) {
                        r->st = CS_EPARSE;
                        snprintf(r->msg, sizeof r->msg, "corrupt Node");
                        rc = -1;
                        break;
                    }
                    if (f2 == 1 && w2 == 0) id = zz(v2);
                    else if (f2 == 8 && w2 == 0) la = zz(v2);
                    else if (f2 == 9 && w2 == 0) lo = zz(v2);
                }
                if (!rc) rc = res_add_node(r, id, (double)(lon_off + gran * lo) / scale, (double)(lat_off + gran * la) / scale);
            } else if (fn == 2) { /* DenseNodes */
                pbuf n = sub, s2, ids = {0}, lats = {0}, lons = {0};
                uint32_t f2;
                int w2;
                uint64_t v2;
                while (n.p < n.end) {
                    if (pb_field(&n, &f2, &w2, &v2, &s2)) {
                        rc = -1;
                        break;
                    }
                    if (w2 != 2) continue;
                    if (f2 == 1) ids = s2;
                    else if (f2 == 8) lats = s2;
                    else if (f2 == 9) lons = s2;
                }
                int64_t id = 0, la = 0, lo = 0;
                size_t cnt = 0;
                for (const uint8_t *q = ids.p; q < ids.end; q++) cnt += !(*q & 0x80);
                if (grow((void **)&r->nodes, &r->cap_nodes, r->n_nodes + cnt, sizeof(onode))) {
                    r->st = CS_ENOMEM;
                    snprintf(r->msg, sizeof r->msg, "out of memory");
                    rc = -1;
                }
                while (!rc && ids.p < ids.end) {
                    uint64_t a, b2, c;
                    if (pb_varint(&ids, &a) || pb_varint(&lats, &b2) || pb_varint(&lons, &c)) {
                        rc = -1;
                        break;
                    }
                    id += zz(a);
                    la += zz(b2);
                    lo += zz(c);
                    if (r->n_nodes >= r->cap_nodes) {
                        rc = -1;
                        break;
                    }
                    onode *o = &r->nodes[r->n_nodes++];
                    o->id = id;
                    o->lon = (double)(lon_off + gran * lo) / scale;
                    o->lat = (double)(lat_off + gran * la) / scale;
                }
                if (rc && !r->st) {
                    r->st = CS_EPARSE;
                    snprintf(r->msg, sizeof r->msg, "corrupt DenseNodes");
                }
            } else if (fn == 3) {
                rc = pbf_way(r, sub, &S, prof, tk, tv, 256);
            } else if (fn == 4) {
                r->relations++;
            }
        }
    }
out:
    cs_free(S.s);
    cs_free(S.buf);
    return rc;
}

typedef struct {
    uint64_t off;   /* of the Blob */
    uint32_t size;  /* Blob size */
    int is_data;    /* OSMData (1) or OSMHeader (0) */
} blobpos;

static int decode_blob(FILE *f, const blobpos *bp, blobres *r, const cs_profile *prof, uint8_t **raw, size_t *cap_raw,
                       uint8_t **dec, size_t *cap_dec)
{
    if (bp->size > *cap_raw) {
        uint8_t *q = cs_realloc(*raw, bp->size);
        if (!q) PBF_OOM(r);
        *raw = q;
        *cap_raw = bp->size;
    }
    size_t got = 0;
#pragma omp critical(cs_pbf_read)
    {
        if (fseeko(f, (off_t)bp->off, SEEK_SET) == 0) got = fread(*raw, 1, bp->size, f);
    }
    if (got != bp->size) {
        r->st = CS_EIO;
        snprintf(r->msg, sizeof r->msg, "read error at offset %llu", (unsigned long long)bp->off);
        return -1;
    }
    pbuf b = {*raw, *raw + bp->size}, sub, data = {0};
    uint32_t fn;
    int wt;
    uint64_t v, raw_size = 0;
    int kind = -1; /* 0 raw, 1 zlib */
    while (b.p < b.end) {
        if (pb_field(&b, &fn, &wt, &v, &sub)) PBF_BAD(r, "corrupt Blob at offset %llu", (unsigned long long)bp->off);
        if (fn == 1 && wt == 2) data = sub, kind = 0;
        else if (fn == 2 && wt == 0) raw_size = v;
        else if (fn == 3 && wt == 2) data = sub, kind = 1;
        else if (fn >= 4 && fn <= 7 && wt == 2)
            PBF_BAD(r, "blob compression (field %u: lzma/bzip2/lz4/zstd) not supported; recompress with osmium cat", fn);
    }
    if (kind < 0) PBF_BAD(r, "Blob without data at offset %llu", (unsigned long long)bp->off);
    const uint8_t *blk = data.p;
    size_t blen = (size_t)(data.end - data.p);
    if (kind == 1) {
        if (raw_size == 0 || raw_size > (64u << 20)) PBF_BAD(r, "bad raw_size %llu", (unsigned long long)raw_size);
        if (raw_size > *cap_dec) {
            uint8_t *q = cs_realloc(*dec, (size_t)raw_size);
            if (!q) PBF_OOM(r);
            *dec = q;
            *cap_dec = (size_t)raw_size;
        }
        size_t out = 0;
        if (!CPLZLibInflate(data.p, blen, *dec, (size_t)raw_size, &out) || out != raw_size)
            PBF_BAD(r, "zlib error in blob at offset %llu", (unsigned long long)bp->off);
        blk = *dec;
        blen = out;
    }
    if (!bp->is_data) { /* HeaderBlock: refuse unknown required features */
        pbuf h = {blk, blk + blen};
        while (h.p < h.end) {
            if (pb_field(&h, &fn, &wt, &v, &sub)) PBF_BAD(r, "corrupt HeaderBlock");
            if (fn == 4 && wt == 2) {
                size_t l = (size_t)(sub.end - sub.p);
                if (!((l == 14 && !memcmp(sub.p, "OsmSchema-V0.6", 14)) || (l == 10 && !memcmp(sub.p, "DenseNodes", 10))))
                    PBF_BAD(r, "required feature '%.*s' not supported", (int)(l > 60 ? 60 : l), (const char *)sub.p);
            }
        }
        return 0;
    }
    return pbf_block(r, blk, blen, prof);
}

static cs_status read_pbf(const char *path, osm_ctx *c)
{
    FILE *f = fopen(path, "rb");
    if (!f) return cs_error_set_at(CS_EIO, path, 0, 0, "cannot open OSM file");
    cs_status st = CS_OK;
    struct stat sb;
    uint64_t fsize = fstat(fileno(f), &sb) == 0 ? (uint64_t)sb.st_size : UINT64_MAX;
    blobpos *bl = NULL;
    size_t nb = 0, capb = 0;
    blobres *res = NULL;
    uint64_t off = 0;
    for (;;) {
        uint8_t lenb[4], hdr[65536];
        size_t g = fread(lenb, 1, 4, f);
        if (g == 0 && feof(f)) break;
        if (g != 4) {
            st = cs_error_set_at(CS_EPARSE, path, 0, 0, "truncated PBF (blob header length at %llu)", (unsigned long long)off);
            goto done;
        }
        uint32_t hl = (uint32_t)lenb[0] << 24 | (uint32_t)lenb[1] << 16 | (uint32_t)lenb[2] << 8 | lenb[3];
        if (hl == 0 || hl > sizeof hdr || fread(hdr, 1, hl, f) != hl) {
            st = cs_error_set_at(CS_EPARSE, path, 0, 0, "bad or truncated BlobHeader at offset %llu", (unsigned long long)off);
            goto done;
        }
        pbuf b = {hdr, hdr + hl}, sub, type = {0};
        uint32_t fn;
        int wt;
        uint64_t v, ds = UINT64_MAX;
        while (b.p < b.end) {
            if (pb_field(&b, &fn, &wt, &v, &sub)) {
                ds = UINT64_MAX;
                break;
            }
            if (fn == 1 && wt == 2) type = sub;
            else if (fn == 3 && wt == 0) ds = v;
        }
        if (ds == UINT64_MAX || ds > (64u << 20) || !type.p) {
            st = cs_error_set_at(CS_EPARSE, path, 0, 0, "corrupt BlobHeader at offset %llu", (unsigned long long)off);
            goto done;
        }
        off += 4 + hl;
        if (off + ds > fsize) {
            st = cs_error_set_at(CS_EPARSE, path, 0, 0, "truncated PBF (blob at offset %llu ends past the end of the file)",
                                 (unsigned long long)off);
            goto done;
        }
        size_t tl = (size_t)(type.end - type.p);
        int is_data = tl == 7 && !memcmp(type.p, "OSMData", 7);
        int is_hdr = tl == 9 && !memcmp(type.p, "OSMHeader", 9);
        if (is_data || is_hdr) {
            if (grow((void **)&bl, &capb, nb + 1, sizeof *bl)) {
                st = CS_ENOMEM;
                goto done;
            }
            bl[nb].off = off;
            bl[nb].size = (uint32_t)ds;
            bl[nb].is_data = is_data;
            nb++;
        }
        off += ds;
        if (fseeko(f, (off_t)off, SEEK_SET)) {
            st = cs_error_set_at(CS_EIO, path, 0, 0, "seek error");
            goto done;
        }
    }
    if (!nb || bl[0].is_data) {
        st = cs_error_set_at(CS_EPARSE, path, 0, 0, "not an OSM PBF file (no OSMHeader blob first)");
        goto done;
    }
    res = cs_calloc(nb, sizeof *res);
    if (!res) {
        st = CS_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < nb; i++) {
        res[i].per_class = cs_calloc(c->stats->n_classes + 1, sizeof(uint64_t));
        if (!res[i].per_class) {
            st = CS_ENOMEM;
            goto done;
        }
    }
    /* batches of blobs bound the memory held by decoded, not yet merged blobs */
    for (size_t b0 = 0; b0 < nb; b0 += 64) {
        size_t b1 = nb - b0 < 64 ? nb : b0 + 64;
        int cancel = 0;
#pragma omp parallel if (b1 - b0 >= 16)
        {
            uint8_t *raw = NULL, *dec = NULL;
            size_t cr = 0, cd = 0;
#pragma omp for schedule(dynamic, 1)
            for (size_t i = b0; i < b1; i++) {
                int stop;
#pragma omp atomic read
                stop = cancel;
                if (stop) continue;
                if (decode_blob(f, &bl[i], &res[i], c->prof, &raw, &cr, &dec, &cd)) {
#pragma omp atomic write
                    cancel = 1;
                }
            }
            cs_free(raw);
            cs_free(dec);
        }
        /* merge in file order */
        for (size_t i = b0; i < b1; i++) {
            blobres *r = &res[i];
            if (r->st) {
                st = r->st == CS_ENOMEM ? cs_error_set(CS_ENOMEM, "out of memory (PBF)")
                                        : cs_error_set_at(r->st, path, 0, 0, "%s (blob %zu)", r->msg, i);
                goto done;
            }
            if (grow((void **)&c->nodes, &c->cap_nodes, c->n_nodes + r->n_nodes, sizeof(onode))) {
                st = CS_ENOMEM;
                goto done;
            }
            if (r->n_nodes) {
                if (c->n_nodes && c->nodes[c->n_nodes - 1].id >= r->nodes[0].id) c->sorted = 0;
                for (size_t k = 1; k < r->n_nodes && c->sorted; k++)
                    if (r->nodes[k - 1].id >= r->nodes[k].id) c->sorted = 0;
                memcpy(c->nodes + c->n_nodes, r->nodes, r->n_nodes * sizeof(onode));
                c->n_nodes += r->n_nodes;
            }
            cs_free(r->nodes);
            r->nodes = NULL;
            c->stats->ways += r->ways_read;
            c->stats->relations += r->relations;
            size_t ro = 0;
            for (size_t w = 0; w < r->n_ways; w++) {
                size_t j = c->n_ways;
                if (j + 1 > c->cap_ways) {
                    size_t nc = c->cap_ways ? c->cap_ways * 2 : 1024;
                    void *q;
    #define G(arr, sz)                                                        \
        if (!(q = cs_reallocarray(c->arr, nc, sz))) { st = CS_ENOMEM; goto done; } \
        c->arr = q;
                    G(way_id, 8) G(cls, 1) G(mode, 1) G(fwd_kmh, 8) G(bwd_kmh, 8) G(dur_s, 8)
    #undef G
                    if (!(q = cs_reallocarray(c->ref_off, nc + 1, 8))) {
                        st = CS_ENOMEM;
                        goto done;
                    }
                    c->ref_off = q;
                    c->cap_ways = nc;
                }
                if (grow((void **)&c->refs, &c->cap_refs, c->n_refs + r->ref_len[w], 8)) {
                    st = CS_ENOMEM;
                    goto done;
                }
                if (j == 0) c->ref_off[0] = 0;
                c->way_id[j] = r->way_id[w];
                c->cls[j] = r->cls[w];
                c->mode[j] = r->mode[w];
                c->fwd_kmh[j] = r->fwd_kmh[w];
                c->bwd_kmh[j] = r->bwd_kmh[w];
                c->dur_s[j] = r->dur_s[w];
                memcpy(c->refs + c->n_refs, r->refs + ro, r->ref_len[w] * 8);
                ro += r->ref_len[w];
                c->n_refs += r->ref_len[w];
                c->ref_off[j + 1] = c->n_refs;
                c->n_ways++;
            }
            c->stats->routable_ways += r->n_ways;
            for (uint32_t k = 0; k < c->stats->n_classes; k++) c->stats->ways_per_class[k] += r->per_class[k];
            blobres_free(r);
            memset(r, 0, sizeof *r);
            if (c->progress.fn && c->progress.fn(c->progress.user, "reading OSM", (double)(i + 1), (double)nb)) {
                st = cs_error_set(CS_ECANCELED, "OSM import cancelled");
                goto done;
            }
        }
    }
done:
    if (res)
        for (size_t i = 0; i < nb; i++) blobres_free(&res[i]);
    cs_free(res);
    cs_free(bl);
    fclose(f);
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
    size_t plen = strlen(path);
    int own = opts->reader != 1 && plen > 4 && !strcmp(path + plen - 4, ".pbf");
    if (own) {
        if ((st = read_pbf(path, &c))) goto fail;
        goto parsed;
    }
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
parsed:
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

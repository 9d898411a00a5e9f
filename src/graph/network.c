/*
 * network.c: the cs_network builder (nodes, segments with geometry, proposed
 * edges), the haversine length used everywhere, and degree-2 compression.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/network.h"

double cs_geodesic_m(double lon1, double lat1, double lon2, double lat2)
{
    /* Haversine on a sphere of radius R (Sinnott 1984, "Virtues of the haversine"). */
    const double d2r = M_PI / 180.0;
    double p1 = lat1 * d2r, p2 = lat2 * d2r;
    double dp = p2 - p1, dl = (lon2 - lon1) * d2r;
    double sp = sin(dp * 0.5), sl = sin(dl * 0.5);
    double h = sp * sp + cos(p1) * cos(p2) * sl * sl;
    if (h > 1.0) h = 1.0;
    return 2.0 * CS_EARTH_RADIUS_M * asin(sqrt(h));
}

cs_status cs_network_new(cs_network **out)
{
    if (!out) return cs_error_set(CS_EINVAL, "cs_network_new: out is NULL");
    cs_network *n = cs_calloc(1, sizeof *n);
    if (!n) return CS_ENOMEM;
    n->geom_off = cs_calloc(1, sizeof *n->geom_off);
    if (!n->geom_off) {
        cs_free(n);
        return CS_ENOMEM;
    }
    *out = n;
    return CS_OK;
}

void cs_network_free(cs_network *n)
{
    if (!n) return;
    cs_free(n->lon_deg);
    cs_free(n->lat_deg);
    cs_free(n->osm_node_id);
    cs_free(n->seg_u);
    cs_free(n->seg_v);
    cs_free(n->seg_fwd_ms);
    cs_free(n->seg_bwd_ms);
    cs_free(n->seg_len_cm);
    cs_free(n->seg_mode);
    cs_free(n->seg_class);
    cs_free(n->seg_way_id);
    if (n->seg_ext_id)
        for (uint32_t i = 0; i < n->n_segs; i++) cs_free(n->seg_ext_id[i]);
    cs_free(n->seg_ext_id);
    cs_free(n->seg_extra_ms);
    cs_free(n->geom_off);
    cs_free(n->geom_lon_deg);
    cs_free(n->geom_lat_deg);
    for (uint32_t i = 0; i < n->n_classes; i++) cs_free(n->class_names[i]);
    cs_free(n->class_names);
    cs_free(n->proposed.u);
    cs_free(n->proposed.v);
    cs_free(n->proposed.fwd_ms);
    cs_free(n->proposed.bwd_ms);
    cs_free(n->proposed.len_cm);
    cs_free(n->proposed.extra_ms);
    if (n->proposed.ext_id)
        for (uint32_t i = 0; i < n->proposed.n; i++) cs_free(n->proposed.ext_id[i]);
    cs_free(n->proposed.ext_id);
    cs_free(n);
}

/* Grow *p (elements of size sz, count `have`) to `cap` elements; keeps contents. */
static int grow(void **p, size_t cap, size_t sz)
{
    void *q = cs_reallocarray(*p, cap, sz);
    if (!q) return -1;
    *p = q;
    return 0;
}

static size_t next_cap(size_t cur, size_t need)
{
    size_t c = cur ? cur : 64;
    while (c < need) c *= 2;
    return c;
}

static cs_status ensure_nodes(cs_network *n, uint32_t need)
{
    if (need <= n->cap_nodes) return CS_OK;
    size_t c = next_cap(n->cap_nodes, need);
    if (c > UINT32_MAX - 1) c = UINT32_MAX - 1;
    if (grow((void **)&n->lon_deg, c, sizeof(double)) || grow((void **)&n->lat_deg, c, sizeof(double)) ||
        (n->osm_node_id && grow((void **)&n->osm_node_id, c, sizeof(int64_t))))
        return CS_ENOMEM;
    n->cap_nodes = (uint32_t)c;
    return CS_OK;
}

cs_status cs_network_add_node(cs_network *n, double lon, double lat, int64_t osm_id, uint32_t *id)
{
    if (!n) return cs_error_set(CS_EINVAL, "cs_network_add_node: network is NULL");
    if (!isfinite(lon) || !isfinite(lat) || fabs(lat) > 90.0 || fabs(lon) > 360.0)
        return cs_error_set(CS_EPARSE, "node coordinate out of range (lon %g, lat %g)", lon, lat);
    if (n->n_nodes >= UINT32_MAX - 1) return cs_error_set(CS_EINVAL, "too many nodes (32-bit ids)");
    cs_status st = ensure_nodes(n, n->n_nodes + 1);
    if (st) return st;
    if (osm_id != CS_NO_OSM_ID && !n->osm_node_id) {
        n->osm_node_id = cs_mallocarray(n->cap_nodes, sizeof(int64_t));
        if (!n->osm_node_id) return CS_ENOMEM;
        for (uint32_t i = 0; i < n->n_nodes; i++) n->osm_node_id[i] = CS_NO_OSM_ID;
    }
    uint32_t i = n->n_nodes;
    n->lon_deg[i] = lon;
    n->lat_deg[i] = lat;
    if (n->osm_node_id) n->osm_node_id[i] = osm_id;
    n->n_nodes++;
    if (id) *id = i;
    return CS_OK;
}

static cs_status ensure_segs(cs_network *n, uint32_t need)
{
    if (need <= n->cap_segs) return CS_OK;
    size_t c = next_cap(n->cap_segs, need);
    if (c > UINT32_MAX - 1) c = UINT32_MAX - 1;
    if (grow((void **)&n->seg_u, c, 4) || grow((void **)&n->seg_v, c, 4) || grow((void **)&n->seg_fwd_ms, c, 4) ||
        grow((void **)&n->seg_bwd_ms, c, 4) || grow((void **)&n->seg_len_cm, c, 4) ||
        grow((void **)&n->seg_mode, c, 1) || grow((void **)&n->seg_class, c, 1) ||
        grow((void **)&n->seg_way_id, c, 8) || grow((void **)&n->geom_off, c + 1, 8))
        return CS_ENOMEM;
    if (n->seg_ext_id) {
        if (grow((void **)&n->seg_ext_id, c, sizeof(char *))) return CS_ENOMEM;
        for (size_t i = n->cap_segs; i < c; i++) n->seg_ext_id[i] = NULL;
    }
    if (n->seg_extra_ms) {
        if (grow((void **)&n->seg_extra_ms, c, 4)) return CS_ENOMEM;
        for (size_t i = n->cap_segs; i < c; i++) n->seg_extra_ms[i] = 0;
    }
    n->cap_segs = (uint32_t)c;
    return CS_OK;
}

static cs_status ensure_geom(cs_network *n, uint64_t need)
{
    if (need <= n->cap_geom) return CS_OK;
    size_t c = next_cap((size_t)n->cap_geom, (size_t)need);
    if (grow((void **)&n->geom_lon_deg, c, 8) || grow((void **)&n->geom_lat_deg, c, 8)) return CS_ENOMEM;
    n->cap_geom = c;
    return CS_OK;
}

cs_status cs_network_add_segment(cs_network *n, uint32_t u, uint32_t v, uint32_t fwd_ms, uint32_t bwd_ms,
                                 uint32_t len_cm, cs_seg_mode mode, uint8_t cls, int64_t way_id,
                                 const double *lon, const double *lat, size_t npts)
{
    if (!n) return cs_error_set(CS_EINVAL, "cs_network_add_segment: network is NULL");
    if (u >= n->n_nodes || v >= n->n_nodes)
        return cs_error_set(CS_EINVAL, "segment end node out of range (%u, %u; %u nodes)", u, v, n->n_nodes);
    if (!lon || !lat || npts < 2) return cs_error_set(CS_EINVAL, "segment geometry needs at least 2 points");
    if (n->n_segs >= UINT32_MAX - 1) return cs_error_set(CS_EINVAL, "too many segments (32-bit ids)");
    if ((unsigned)mode > CS_SEG_OTHER) return cs_error_set(CS_EINVAL, "bad segment mode %d", (int)mode);
    cs_status st = ensure_segs(n, n->n_segs + 1);
    if (!st) st = ensure_geom(n, n->geom_off[n->n_segs] + npts);
    if (st) return st;
    uint32_t s = n->n_segs;
    n->seg_u[s] = u;
    n->seg_v[s] = v;
    n->seg_fwd_ms[s] = fwd_ms;
    n->seg_bwd_ms[s] = bwd_ms;
    n->seg_len_cm[s] = len_cm;
    n->seg_mode[s] = (uint8_t)mode;
    n->seg_class[s] = cls;
    n->seg_way_id[s] = way_id;
    if (n->seg_ext_id) n->seg_ext_id[s] = NULL;
    if (n->seg_extra_ms) n->seg_extra_ms[s] = 0;
    uint64_t g = n->geom_off[s];
    memcpy(n->geom_lon_deg + g, lon, npts * sizeof(double));
    memcpy(n->geom_lat_deg + g, lat, npts * sizeof(double));
    n->geom_off[s + 1] = g + npts;
    n->n_segs++;
    return CS_OK;
}

cs_status cs_network_set_classes(cs_network *n, const char *const *names, uint32_t n_classes)
{
    if (!n || (n_classes && !names)) return cs_error_set(CS_EINVAL, "cs_network_set_classes: bad arguments");
    if (n_classes > 256) return cs_error_set(CS_EINVAL, "at most 256 classes (8-bit class index)");
    char **c = n_classes ? cs_calloc(n_classes, sizeof *c) : NULL;
    if (n_classes && !c) return CS_ENOMEM;
    for (uint32_t i = 0; i < n_classes; i++) {
        c[i] = cs_strdup(names[i] ? names[i] : "");
        if (!c[i]) {
            for (uint32_t j = 0; j < i; j++) cs_free(c[j]);
            cs_free(c);
            return CS_ENOMEM;
        }
    }
    for (uint32_t i = 0; i < n->n_classes; i++) cs_free(n->class_names[i]);
    cs_free(n->class_names);
    n->class_names = c;
    n->n_classes = n_classes;
    return CS_OK;
}

cs_status cs_network_set_ext_id(cs_network *n, uint32_t seg, const char *ext_id)
{
    if (!n || seg >= n->n_segs) return cs_error_set(CS_EINVAL, "cs_network_set_ext_id: bad segment");
    if (!n->seg_ext_id) {
        n->seg_ext_id = cs_calloc(n->cap_segs, sizeof(char *));
        if (!n->seg_ext_id) return CS_ENOMEM;
    }
    char *d = NULL;
    if (ext_id && !(d = cs_strdup(ext_id))) return CS_ENOMEM;
    cs_free(n->seg_ext_id[seg]);
    n->seg_ext_id[seg] = d;
    return CS_OK;
}

cs_status cs_network_set_extra(cs_network *n, uint32_t seg, uint32_t extra_ms)
{
    if (!n || seg >= n->n_segs) return cs_error_set(CS_EINVAL, "cs_network_set_extra: bad segment");
    if (!n->seg_extra_ms) {
        n->seg_extra_ms = cs_calloc(n->cap_segs, sizeof(uint32_t));
        if (!n->seg_extra_ms) return CS_ENOMEM;
    }
    n->seg_extra_ms[seg] = extra_ms;
    return CS_OK;
}

cs_status cs_network_add_proposed(cs_network *n, uint32_t u, uint32_t v, uint32_t fwd_ms, uint32_t bwd_ms,
                                  uint32_t len_cm, uint32_t extra_ms, const char *ext_id)
{
    if (!n || u >= n->n_nodes || v >= n->n_nodes)
        return cs_error_set(CS_EINVAL, "cs_network_add_proposed: end node out of range");
    if (n->proposed.n >= n->cap_proposed) {
        size_t c = next_cap(n->cap_proposed, (size_t)n->proposed.n + 1);
        if (grow((void **)&n->proposed.u, c, 4) || grow((void **)&n->proposed.v, c, 4) ||
            grow((void **)&n->proposed.fwd_ms, c, 4) || grow((void **)&n->proposed.bwd_ms, c, 4) ||
            grow((void **)&n->proposed.len_cm, c, 4) || grow((void **)&n->proposed.extra_ms, c, 4) ||
            grow((void **)&n->proposed.ext_id, c, sizeof(char *)))
            return CS_ENOMEM;
        n->cap_proposed = (uint32_t)c;
    }
    char *d = NULL;
    if (ext_id && !(d = cs_strdup(ext_id))) return CS_ENOMEM;
    uint32_t i = n->proposed.n++;
    n->proposed.u[i] = u;
    n->proposed.v[i] = v;
    n->proposed.fwd_ms[i] = fwd_ms;
    n->proposed.bwd_ms[i] = bwd_ms;
    n->proposed.len_cm[i] = len_cm;
    n->proposed.extra_ms[i] = extra_ms;
    n->proposed.ext_id[i] = d;
    return CS_OK;
}

void cs_network_class_totals(const cs_network *n, double *len_m, uint64_t *count)
{
    if (!n) return;
    for (uint32_t c = 0; c < n->n_classes; c++) {
        if (len_m) len_m[c] = 0;
        if (count) count[c] = 0;
    }
    for (uint32_t s = 0; s < n->n_segs; s++) {
        uint8_t c = n->seg_class[s];
        if (c >= n->n_classes) continue;
        if (len_m) len_m[c] += n->seg_len_cm[s] / 100.0;
        if (count) count[c]++;
    }
}

/* ---------------------------------------------------------------- compression */

/* Direction pattern of segment s traversed forward (rev = 0) or backward. */
static inline uint32_t t_along(const cs_network *n, uint32_t s, int rev)
{
    return rev ? n->seg_bwd_ms[s] : n->seg_fwd_ms[s];
}
static inline uint32_t t_against(const cs_network *n, uint32_t s, int rev)
{
    return rev ? n->seg_fwd_ms[s] : n->seg_bwd_ms[s];
}

typedef struct {
    uint32_t *off;  /* n_nodes+1 */
    uint32_t *inc;  /* 2*n_segs entries: seg*2 + end (0 = u, 1 = v) */
} incidence;

/*
 * Can the chain pass through node x, coming in on segment a (entering x at
 * its end ea) and leaving on b (leaving x from its end eb)?
 */
static int compatible(const cs_network *n, uint32_t a, int ea, uint32_t b, int eb)
{
    if (a == b) return 0;
    if (n->seg_u[a] == n->seg_v[a] || n->seg_u[b] == n->seg_v[b]) return 0;
    if (n->seg_mode[a] != n->seg_mode[b] || n->seg_class[a] != n->seg_class[b]) return 0;
    if (n->seg_ext_id && (n->seg_ext_id[a] || n->seg_ext_id[b])) return 0;
    /* a traversed towards x: rev_a = (ea == 0); b traversed away from x: rev_b = (eb == 1) */
    int ra = ea == 0, rb = eb == 1;
    int fa = t_along(n, a, ra) != CS_NO_TIME, ba = t_against(n, a, ra) != CS_NO_TIME;
    int fb = t_along(n, b, rb) != CS_NO_TIME, bb = t_against(n, b, rb) != CS_NO_TIME;
    return fa == fb && ba == bb;
}

cs_status cs_network_compress(cs_network *n)
{
    if (!n) return cs_error_set(CS_EINVAL, "cs_network_compress: network is NULL");
    cs_status st = CS_ENOMEM;
    uint32_t N = n->n_nodes, S = n->n_segs;
    incidence I = {0};
    uint8_t *merge = NULL, *seen = NULL;
    uint32_t *newid = NULL, *chain = NULL;
    cs_network *o = NULL;
    I.off = cs_calloc((size_t)N + 1, sizeof *I.off);
    I.inc = cs_mallocarray((size_t)S * 2 + 1, sizeof *I.inc);
    merge = cs_calloc((size_t)N + 1, 1);
    seen = cs_calloc((size_t)S + 1, 1);
    newid = cs_mallocarray((size_t)N + 1, sizeof *newid);
    chain = cs_mallocarray((size_t)S * 1 + 1, sizeof *chain);
    if (!I.off || !I.inc || !merge || !seen || !newid || !chain) goto done;
    for (uint32_t s = 0; s < S; s++) {
        I.off[n->seg_u[s] + 1]++;
        I.off[n->seg_v[s] + 1]++;
    }
    for (uint32_t x = 0; x < N; x++) I.off[x + 1] += I.off[x];
    {
        uint32_t *fill = newid; /* reuse as cursor */
        for (uint32_t x = 0; x < N; x++) fill[x] = I.off[x];
        for (uint32_t s = 0; s < S; s++) {
            I.inc[fill[n->seg_u[s]]++] = s * 2;
            I.inc[fill[n->seg_v[s]]++] = s * 2 + 1;
        }
    }
    for (uint32_t x = 0; x < N; x++) {
        if (I.off[x + 1] - I.off[x] != 2) continue;
        uint32_t e0 = I.inc[I.off[x]], e1 = I.inc[I.off[x] + 1];
        if (compatible(n, e0 >> 1, (int)(e0 & 1), e1 >> 1, (int)(e1 & 1))) merge[x] = 1;
    }
    /* ends of proposed edges stay junctions (the scenario module attaches there) */
    for (uint32_t i = 0; i < n->proposed.n; i++) merge[n->proposed.u[i]] = merge[n->proposed.v[i]] = 0;
    /* walk: from (s, rev) the node at the far end */
#define FAR(s, rev) ((rev) ? n->seg_u[s] : n->seg_v[s])
#define NEAR(s, rev) ((rev) ? n->seg_v[s] : n->seg_u[s])
    /* other segment-end at a mergeable node x than segment s */
#define OTHER(x, s) (I.inc[I.off[x]] >> 1 == (s) ? I.inc[I.off[x] + 1] : I.inc[I.off[x]])

    /* closed loops made only of mergeable nodes: keep the first node of the lowest segment */
    for (uint32_t s = 0; s < S; s++) {
        if (seen[s]) continue;
        uint32_t x = n->seg_u[s];
        if (!merge[x]) continue;
        /* walk forward from s until a non-mergeable node or back at s */
        uint32_t cur = s;
        int rev = 0;
        int loop = 0;
        for (;;) {
            seen[cur] = 1;
            uint32_t y = FAR(cur, rev);
            if (!merge[y]) break;
            uint32_t e = OTHER(y, cur);
            uint32_t nx = e >> 1;
            if (nx == s) {
                loop = 1;
                break;
            }
            if (seen[nx]) break; /* walked before from another start: not a closed loop */
            rev = (int)(e & 1);
            cur = nx;
        }
        if (loop) merge[x] = 0;
    }
    memset(seen, 0, S);

    uint32_t nn = 0;
    for (uint32_t x = 0; x < N; x++) newid[x] = merge[x] ? CS_INVALID_ID : nn++;
    if ((st = cs_network_new(&o))) goto done;
    st = CS_ENOMEM;
    for (uint32_t x = 0; x < N; x++) {
        if (merge[x]) continue;
        if ((st = cs_network_add_node(o, n->lon_deg[x], n->lat_deg[x],
                                      n->osm_node_id ? n->osm_node_id[x] : CS_NO_OSM_ID, NULL)))
            goto done;
    }
    if ((st = cs_network_set_classes(o, (const char *const *)n->class_names, n->n_classes))) goto done;
    for (uint32_t s = 0; s < S; s++) {
        if (seen[s]) continue;
        /* only start chains at a segment whose u or v is a junction; orient away from the junction */
        int rev;
        if (!merge[n->seg_u[s]]) rev = 0;
        else if (!merge[n->seg_v[s]]) rev = 1;
        else continue; /* interior of a chain: reached from its start */
        /* collect chain */
        uint32_t len = 0;
        uint32_t cur = s;
        int r = rev;
        uint64_t tf = 0, tb = 0, lc = 0, ex = 0, npts = 0;
        int f_ok = 1, b_ok = 1;
        for (;;) {
            seen[cur] = 1;
            chain[len++] = cur * 2 + (uint32_t)r;
            uint32_t a = t_along(n, cur, r), b = t_against(n, cur, r);
            if (a == CS_NO_TIME) f_ok = 0;
            else tf += a;
            if (b == CS_NO_TIME) b_ok = 0;
            else tb += b;
            lc += n->seg_len_cm[cur];
            if (n->seg_extra_ms) ex += n->seg_extra_ms[cur];
            npts += n->geom_off[cur + 1] - n->geom_off[cur] - (len > 1);
            uint32_t y = FAR(cur, r);
            if (!merge[y]) break;
            uint32_t e = OTHER(y, cur);
            cur = e >> 1;
            r = (int)(e & 1);
        }
        if ((f_ok && tf >= CS_NO_TIME) || (b_ok && tb >= CS_NO_TIME) || lc > UINT32_MAX || ex > UINT32_MAX) {
            st = cs_error_set(CS_EINVAL, "compressed chain from way %lld overflows 32-bit time or length",
                              (long long)n->seg_way_id[s]);
            goto done;
        }
        /* geometry */
        if ((st = ensure_geom(o, o->geom_off[o->n_segs] + npts))) goto done;
        double *glon = o->geom_lon_deg + o->geom_off[o->n_segs], *glat = o->geom_lat_deg + o->geom_off[o->n_segs];
        uint64_t k = 0;
        for (uint32_t c = 0; c < len; c++) {
            uint32_t sg = chain[c] >> 1;
            int rr = (int)(chain[c] & 1);
            uint64_t g0 = n->geom_off[sg], g1 = n->geom_off[sg + 1], m = g1 - g0;
            for (uint64_t j = (c > 0); j < m; j++) {
                uint64_t src = rr ? g1 - 1 - j : g0 + j;
                glon[k] = n->geom_lon_deg[src];
                glat[k] = n->geom_lat_deg[src];
                k++;
            }
        }
        uint32_t u0 = NEAR(s, rev), v0 = FAR(chain[len - 1] >> 1, (int)(chain[len - 1] & 1));
        /* copy out of o's buffer is safe: add_segment memcpy's into the same place (src == dst) */
        if ((st = ensure_segs(o, o->n_segs + 1))) goto done;
        uint32_t ns = o->n_segs;
        o->seg_u[ns] = newid[u0];
        o->seg_v[ns] = newid[v0];
        o->seg_fwd_ms[ns] = f_ok ? (uint32_t)tf : CS_NO_TIME;
        o->seg_bwd_ms[ns] = b_ok ? (uint32_t)tb : CS_NO_TIME;
        o->seg_len_cm[ns] = (uint32_t)lc;
        o->seg_mode[ns] = n->seg_mode[s];
        o->seg_class[ns] = n->seg_class[s];
        o->seg_way_id[ns] = n->seg_way_id[s];
        if (o->seg_ext_id) o->seg_ext_id[ns] = NULL;
        if (o->seg_extra_ms) o->seg_extra_ms[ns] = 0;
        o->geom_off[ns + 1] = o->geom_off[ns] + k;
        o->n_segs++;
        if (n->seg_ext_id && n->seg_ext_id[s] && (st = cs_network_set_ext_id(o, ns, n->seg_ext_id[s]))) goto done;
        if (n->seg_extra_ms && ex && (st = cs_network_set_extra(o, ns, (uint32_t)ex))) goto done;
    }
#undef FAR
#undef NEAR
#undef OTHER
    for (uint32_t i = 0; i < n->proposed.n; i++)
        if ((st = cs_network_add_proposed(o, newid[n->proposed.u[i]], newid[n->proposed.v[i]], n->proposed.fwd_ms[i],
                                          n->proposed.bwd_ms[i], n->proposed.len_cm[i], n->proposed.extra_ms[i],
                                          n->proposed.ext_id[i])))
            goto done;
    memcpy(o->fingerprint, n->fingerprint, sizeof o->fingerprint);
    /* swap contents */
    {
        cs_network tmp = *n;
        *n = *o;
        *o = tmp;
    }
    st = CS_OK;
done:
    cs_network_free(o);
    cs_free(I.off);
    cs_free(I.inc);
    cs_free(merge);
    cs_free(seen);
    cs_free(newid);
    cs_free(chain);
    return st;
}

/* ------------------------------------------------------------------ attach */

typedef struct {
    uint32_t seg;
    double frac;
    size_t pt;
} cut;

static int cmp_cut(const void *a, const void *b)
{
    const cut *x = a, *y = b;
    if (x->seg != y->seg) return x->seg < y->seg ? -1 : 1;
    if (x->frac != y->frac) return x->frac < y->frac ? -1 : 1;
    return (x->pt > y->pt) - (x->pt < y->pt);
}

/* copy of a network (deep) so attach can fail without changing n */
static cs_status net_clone(const cs_network *n, cs_network **out)
{
    cs_network *o = NULL;
    cs_status st = cs_network_new(&o);
    if (st) return st;
    for (uint32_t i = 0; i < n->n_nodes && !st; i++)
        st = cs_network_add_node(o, n->lon_deg[i], n->lat_deg[i], n->osm_node_id ? n->osm_node_id[i] : CS_NO_OSM_ID, NULL);
    if (!st) st = cs_network_set_classes(o, (const char *const *)n->class_names, n->n_classes);
    for (uint32_t s = 0; s < n->n_segs && !st; s++) {
        uint64_t g = n->geom_off[s];
        st = cs_network_add_segment(o, n->seg_u[s], n->seg_v[s], n->seg_fwd_ms[s], n->seg_bwd_ms[s], n->seg_len_cm[s],
                                    (cs_seg_mode)n->seg_mode[s], n->seg_class[s], n->seg_way_id[s], n->geom_lon_deg + g,
                                    n->geom_lat_deg + g, (size_t)(n->geom_off[s + 1] - g));
        if (!st && n->seg_ext_id && n->seg_ext_id[s]) st = cs_network_set_ext_id(o, s, n->seg_ext_id[s]);
        if (!st && n->seg_extra_ms && n->seg_extra_ms[s]) st = cs_network_set_extra(o, s, n->seg_extra_ms[s]);
    }
    for (uint32_t i = 0; i < n->proposed.n && !st; i++)
        st = cs_network_add_proposed(o, n->proposed.u[i], n->proposed.v[i], n->proposed.fwd_ms[i], n->proposed.bwd_ms[i],
                                     n->proposed.len_cm[i], n->proposed.extra_ms[i], n->proposed.ext_id[i]);
    if (st) {
        cs_network_free(o);
        return st;
    }
    memcpy(o->fingerprint, n->fingerprint, sizeof o->fingerprint);
    *out = o;
    return CS_OK;
}

static uint32_t part(uint32_t total, double f0, double f1)
{
    if (total == CS_NO_TIME) return CS_NO_TIME;
    double a = llround((double)total * f0), b = llround((double)total * f1);
    return (uint32_t)(b - a);
}

cs_status cs_network_attach(cs_network *n, const double *lon, const double *lat, size_t npts, const cs_snap *snaps,
                            uint32_t *node_out)
{
    if (!n || (npts && (!lon || !lat || !snaps || !node_out))) return cs_error_set(CS_EINVAL, "cs_network_attach: NULL argument");
    cs_status st;
    cs_network *o = NULL;
    cut *cuts = cs_mallocarray(npts + 1, sizeof *cuts);
    uint32_t *at = cs_mallocarray(npts + 1, sizeof *at); /* network node at the snapped position */
    uint32_t *fp = cs_mallocarray((size_t)n->n_segs + 1, sizeof *fp); /* first piece of a split segment */
    double *glon = NULL, *glat = NULL, *cum = NULL;
    if (!cuts || !at || !fp) {
        st = CS_ENOMEM;
        goto done;
    }
    for (uint32_t s2 = 0; s2 < n->n_segs; s2++) fp[s2] = CS_INVALID_ID;
    size_t nc = 0;
    for (size_t i = 0; i < npts; i++) {
        node_out[i] = CS_INVALID_ID;
        at[i] = CS_INVALID_ID;
        if (snaps[i].flagged || snaps[i].seg == CS_INVALID_ID) continue;
        if (snaps[i].seg >= n->n_segs || !(snaps[i].frac >= 0 && snaps[i].frac <= 1)) {
            st = cs_error_set(CS_EINVAL, "attach: snap %zu does not belong to this network", i);
            goto done;
        }
        cuts[nc].seg = snaps[i].seg;
        cuts[nc].frac = snaps[i].frac;
        cuts[nc].pt = i;
        nc++;
    }
    qsort(cuts, nc, sizeof *cuts, cmp_cut);
    if ((st = net_clone(n, &o))) goto done;
    uint32_t conn = CS_INVALID_ID;
    for (uint32_t c = 0; c < o->n_classes; c++)
        if (!strcmp(o->class_names[c], "connector")) conn = c;
    if (conn == CS_INVALID_ID) {
        if (o->n_classes >= 256) {
            st = cs_error_set(CS_EINVAL, "attach: no room for a 'connector' class (256 classes)");
            goto done;
        }
        const char *names[256];
        for (uint32_t c = 0; c < o->n_classes; c++) names[c] = o->class_names[c];
        names[o->n_classes] = "connector";
        if ((st = cs_network_set_classes(o, names, o->n_classes + 1))) goto done;
        conn = o->n_classes - 1;
    }
    for (size_t a = 0; a < nc;) {
        size_t b = a;
        uint32_t s = cuts[a].seg;
        while (b < nc && cuts[b].seg == s) b++;
        /* geometry of the original segment with cumulative lengths */
        uint64_t g0 = n->geom_off[s], g1 = n->geom_off[s + 1];
        size_t m = (size_t)(g1 - g0);
        double *q1 = cs_reallocarray(glon, m + 2, sizeof *glon);
        if (q1) glon = q1;
        double *q2 = q1 ? cs_reallocarray(glat, m + 2, sizeof *glat) : NULL;
        if (q2) glat = q2;
        double *q3 = q2 ? cs_reallocarray(cum, m + 1, sizeof *cum) : NULL;
        if (q3) cum = q3;
        if (!q1 || !q2 || !q3) {
            st = CS_ENOMEM;
            goto done;
        }
        cum[0] = 0;
        for (size_t k = 1; k < m; k++)
            cum[k] = cum[k - 1] + cs_geodesic_m(n->geom_lon_deg[g0 + k - 1], n->geom_lat_deg[g0 + k - 1],
                                                n->geom_lon_deg[g0 + k], n->geom_lat_deg[g0 + k]);
        double total = cum[m - 1];
        /* distinct cut positions strictly inside (0,1); ends use the end nodes */
        double prev_f = 0;
        uint32_t prev_node = n->seg_u[s];
        size_t prev_k = 0;          /* geometry index at/after prev cut */
        double prev_lon = n->geom_lon_deg[g0], prev_lat = n->geom_lat_deg[g0];
        int first_piece = 1;
        for (size_t k = a; k <= b; k++) {
            int last = k == b;
            double f = last ? 1.0 : cuts[k].frac;
            if (!last && f <= 0) {
                at[cuts[k].pt] = n->seg_u[s];
                continue;
            }
            if (!last && f >= 1) {
                at[cuts[k].pt] = n->seg_v[s];
                continue;
            }
            if (!last && prev_f > 0 && (f - prev_f) * total < 1e-3) { /* within 1 mm of the previous cut */
                at[cuts[k].pt] = prev_node;
                continue;
            }
            /* position of the cut on the geometry */
            double dist = f * total, clon, clat;
            size_t j = prev_k;
            while (j + 1 < m && cum[j + 1] < dist) j++;
            if (last) {
                clon = n->geom_lon_deg[g1 - 1];
                clat = n->geom_lat_deg[g1 - 1];
                j = m - 1;
            } else {
                double pl = j + 1 < m ? cum[j + 1] - cum[j] : 0, t = pl > 0 ? (dist - cum[j]) / pl : 0;
                if (t < 0) t = 0;
                if (t > 1) t = 1;
                (void)t;
                clon = snaps[cuts[k].pt].snap_lon; /* exact great-circle position of the snap */
                clat = snaps[cuts[k].pt].snap_lat;
            }
            uint32_t node;
            if (last) node = n->seg_v[s];
            else if ((st = cs_network_add_node(o, clon, clat, CS_NO_OSM_ID, &node))) goto done;
            /* piece geometry: prev cut point, interior vertices (prev_k+1 .. j), this cut point */
            size_t np = 0;
            glon[np] = prev_lon;
            glat[np++] = prev_lat;
            for (size_t v = prev_k + 1; v <= j && v < m - (last ? 1 : 0); v++) {
                glon[np] = n->geom_lon_deg[g0 + v];
                glat[np++] = n->geom_lat_deg[g0 + v];
            }
            glon[np] = clon;
            glat[np++] = clat;
            uint32_t fw = part(n->seg_fwd_ms[s], prev_f, f), bw = part(n->seg_bwd_ms[s], prev_f, f);
            uint32_t ln = part(n->seg_len_cm[s], prev_f, f);
            uint32_t ex = n->seg_extra_ms ? part(n->seg_extra_ms[s], prev_f, f) : 0;
            if ((st = cs_network_add_segment(o, prev_node, node, fw, bw, ln, (cs_seg_mode)n->seg_mode[s], n->seg_class[s],
                                             n->seg_way_id[s], glon, glat, np)))
                goto done;
            uint32_t ps = o->n_segs - 1;
            if (first_piece) {
                fp[s] = ps; /* this piece takes index s (resolved below) */
                first_piece = 0;
            }
            if (n->seg_ext_id && n->seg_ext_id[s] && (st = cs_network_set_ext_id(o, ps, n->seg_ext_id[s]))) goto done;
            if (ex && (st = cs_network_set_extra(o, ps, ex))) goto done;
            if (!last) at[cuts[k].pt] = node;
            prev_f = f;
            prev_node = node;
            prev_k = j;
            prev_lon = clon;
            prev_lat = clat;
        }
        a = b;
    }
    /* connectors */
    for (size_t i = 0; i < npts; i++) {
        if (at[i] == CS_INVALID_ID) continue;
        uint32_t pn;
        if ((st = cs_network_add_node(o, lon[i], lat[i], CS_NO_OSM_ID, &pn))) goto done;
        double cl[2] = {lon[i], o->lon_deg[at[i]]}, ca[2] = {lat[i], o->lat_deg[at[i]]};
        double d = snaps[i].dist_m;
        uint32_t len = isfinite(d) && d * 100 < (double)UINT32_MAX ? (uint32_t)llround(d * 100) : 0;
        if ((st = cs_network_add_segment(o, pn, at[i], snaps[i].access_ms, snaps[i].access_ms, len, CS_SEG_CONNECTOR,
                                         (uint8_t)conn, -1, cl, ca, 2)))
            goto done;
        node_out[i] = pn;
    }
    /* move the first piece of each split segment into its original index (rebuild the segment arrays) */
    {
        cs_network *r = NULL;
        uint32_t S = o->n_segs;
        uint32_t *order = cs_mallocarray((size_t)S + 1, sizeof *order);
        uint8_t *moved = cs_calloc((size_t)S + 1, 1);
        if (!order || !moved) {
            cs_free(order);
            cs_free(moved);
            st = CS_ENOMEM;
            goto done;
        }
        for (uint32_t s2 = 0; s2 < S; s2++) order[s2] = s2;
        for (uint32_t s2 = 0; s2 < n->n_segs; s2++)
            if (fp[s2] != CS_INVALID_ID) {
                order[s2] = fp[s2];
                moved[fp[s2]] = 1;
            }
        st = cs_network_new(&r);
        for (uint32_t x = 0; x < o->n_nodes && !st; x++)
            st = cs_network_add_node(r, o->lon_deg[x], o->lat_deg[x], o->osm_node_id ? o->osm_node_id[x] : CS_NO_OSM_ID, NULL);
        if (!st) st = cs_network_set_classes(r, (const char *const *)o->class_names, o->n_classes);
        for (uint32_t k = 0; k < S && !st; k++) {
            uint32_t s2 = order[k];
            if (k >= n->n_segs && moved[k]) continue; /* already placed at its original index */
            uint64_t g = o->geom_off[s2];
            st = cs_network_add_segment(r, o->seg_u[s2], o->seg_v[s2], o->seg_fwd_ms[s2], o->seg_bwd_ms[s2],
                                        o->seg_len_cm[s2], (cs_seg_mode)o->seg_mode[s2], o->seg_class[s2],
                                        o->seg_way_id[s2], o->geom_lon_deg + g, o->geom_lat_deg + g,
                                        (size_t)(o->geom_off[s2 + 1] - g));
            uint32_t ns = r->n_segs - 1;
            if (!st && o->seg_ext_id && o->seg_ext_id[s2]) st = cs_network_set_ext_id(r, ns, o->seg_ext_id[s2]);
            if (!st && o->seg_extra_ms && o->seg_extra_ms[s2]) st = cs_network_set_extra(r, ns, o->seg_extra_ms[s2]);
        }
        for (uint32_t i = 0; i < o->proposed.n && !st; i++)
            st = cs_network_add_proposed(r, o->proposed.u[i], o->proposed.v[i], o->proposed.fwd_ms[i],
                                         o->proposed.bwd_ms[i], o->proposed.len_cm[i], o->proposed.extra_ms[i],
                                         o->proposed.ext_id[i]);
        cs_free(order);
        cs_free(moved);
        if (st) {
            cs_network_free(r);
            goto done;
        }
        memcpy(r->fingerprint, n->fingerprint, sizeof r->fingerprint);
        cs_network tmp = *n;
        *n = *r;
        *r = tmp;
        cs_network_free(r);
    }
    st = CS_OK;
done:
    cs_network_free(o);
    cs_free(cuts);
    cs_free(at);
    cs_free(fp);
    cs_free(glon);
    cs_free(glat);
    cs_free(cum);
    return st;
}

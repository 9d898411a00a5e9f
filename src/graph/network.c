/*
 * network.c: the cs_network builder (nodes, segments with geometry, proposed
 * edges), the haversine length used everywhere, and degree-2 compression.
 */
#include <math.h>
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

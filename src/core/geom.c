/* geom.c: great-circle distance, convex hulls. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/geom.h"

double cs_haversine_m(double lon1, double lat1, double lon2, double lat2)
{
    const double d2r = M_PI / 180.0;
    double p1 = lat1 * d2r, p2 = lat2 * d2r, dp = p2 - p1, dl = (lon2 - lon1) * d2r;
    double a = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    return 2 * CS_EARTH_RADIUS_M * asin(fmin(1.0, sqrt(a)));
}

typedef struct { double x, y; uint32_t i; } hp;
static int cmp_hp(const void *a, const void *b)
{
    const hp *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    if (p->y != q->y) return p->y < q->y ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i;
}
static double cross(const hp *o, const hp *a, const hp *b) { return (a->x - o->x) * (b->y - o->y) - (a->y - o->y) * (b->x - o->x); }

cs_status cs_convex_hull(const double *lon, const double *lat, const uint32_t *idx, size_t n, uint32_t *hull, size_t *m)
{
    *m = 0;
    if (n == 0) return CS_OK;
    hp *p = cs_mallocarray(n, sizeof *p), *h = cs_mallocarray(2 * n + 1, sizeof *h);
    if (!p || !h) {
        cs_free(p);
        cs_free(h);
        return CS_ENOMEM;
    }
    for (size_t k = 0; k < n; k++) {
        uint32_t i = idx ? idx[k] : (uint32_t)k;
        p[k].x = lon[i];
        p[k].y = lat[i];
        p[k].i = i;
    }
    qsort(p, n, sizeof *p, cmp_hp);
    /* drop duplicates */
    size_t u = 0;
    for (size_t k = 0; k < n; k++)
        if (u == 0 || p[k].x != p[u - 1].x || p[k].y != p[u - 1].y) p[u++] = p[k];
    if (u <= 2) {
        for (size_t k = 0; k < u; k++) hull[k] = p[k].i;
        *m = u;
        cs_free(p);
        cs_free(h);
        return CS_OK;
    }
    size_t k = 0;
    for (size_t q = 0; q < u; q++) {
        while (k >= 2 && cross(&h[k - 2], &h[k - 1], &p[q]) <= 0) k--;
        h[k++] = p[q];
    }
    for (size_t q = u - 1, t = k + 1; q-- > 0;) {
        while (k >= t && cross(&h[k - 2], &h[k - 1], &p[q]) <= 0) k--;
        h[k++] = p[q];
    }
    k--; /* last equals first */
    if (k < 2) k = 2; /* all collinear: the two extremes */
    for (size_t q = 0; q < k; q++) hull[q] = h[q].i;
    *m = k;
    cs_free(p);
    cs_free(h);
    return CS_OK;
}

cs_status cs_hull_ring(const double *lon, const double *lat, const uint32_t *hull, size_t m, double buffer_m,
                       double *rl, double *ra, size_t cap, size_t *nv)
{
    *nv = 0;
    if (m == 0) return cs_error_set(CS_EINVAL, "empty hull");
    const double d2r = M_PI / 180.0, mdeg = CS_EARTH_RADIUS_M * d2r; /* metres per degree of latitude */
    if (m >= 3) {
        if (cap < m) return cs_error_set(CS_EINVAL, "ring buffer too small");
        for (size_t k = 0; k < m; k++) {
            rl[k] = lon[hull[k]];
            ra[k] = lat[hull[k]];
        }
        *nv = m;
        return CS_OK;
    }
    double lat0 = lat[hull[0]], cl = cos(lat0 * d2r);
    double dlat = buffer_m / mdeg, dlon = buffer_m / (mdeg * (cl > 1e-6 ? cl : 1e-6));
    if (m == 1) {
        if (cap < 12) return cs_error_set(CS_EINVAL, "ring buffer too small");
        for (int k = 0; k < 12; k++) {
            rl[k] = lon[hull[0]] + dlon * cos(2 * M_PI * k / 12);
            ra[k] = lat0 + dlat * sin(2 * M_PI * k / 12);
        }
        *nv = 12;
        return CS_OK;
    }
    if (cap < 4) return cs_error_set(CS_EINVAL, "ring buffer too small");
    double x0 = lon[hull[0]], y0 = lat[hull[0]], x1 = lon[hull[1]], y1 = lat[hull[1]];
    /* unit normal in a locally isotropic frame (x scaled by cos(lat)) */
    double dx = (x1 - x0) * cl, dy = y1 - y0, L = hypot(dx, dy);
    double nx = L > 0 ? -dy / L : 0, ny = L > 0 ? dx / L : 1;
    double ox = nx * dlat / (cl > 1e-6 ? cl : 1e-6), oy = ny * dlat;
    rl[0] = x0 + ox; ra[0] = y0 + oy;
    rl[1] = x1 + ox; ra[1] = y1 + oy;
    rl[2] = x1 - ox; ra[2] = y1 - oy;
    rl[3] = x0 - ox; ra[3] = y0 - oy;
    *nv = 4;
    return CS_OK;
}

/* agglomerate.c: single-linkage merging of place points by great-circle distance or travel time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/agglomerate.h"
#include "citysys/alloc.h"

#define EARTH_R_KM 6371.0088
#define DEG2RAD (M_PI / 180.0)

void cs_agglo_opts_default(cs_agglo_opts *o)
{
    memset(o, 0, sizeof *o);
    o->rule = CS_AGGLO_DISTANCE;
    o->max_km = 3.0;
    o->max_time = 600.0;
    o->position = CS_AGGLO_POS_LARGEST;
}

void cs_agglomerates_free(cs_agglomerates *a)
{
    if (!a) return;
    cs_free(a->of_point);
    cs_free(a->first);
    cs_free(a->members);
    cs_free(a->largest);
    cs_free(a->population);
    cs_free(a->lon);
    cs_free(a->lat);
    cs_free(a);
}

double cs_haversine_km(double lon1, double lat1, double lon2, double lat2)
{
    double p1 = lat1 * DEG2RAD, p2 = lat2 * DEG2RAD;
    double dp = p2 - p1, dl = (lon2 - lon1) * DEG2RAD;
    double a = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    if (a > 1) a = 1;
    return 2 * EARTH_R_KM * asin(sqrt(a));
}

static uint32_t uf_find(uint32_t *par, uint32_t x)
{
    while (par[x] != x) {
        par[x] = par[par[x]];
        x = par[x];
    }
    return x;
}
static void uf_union(uint32_t *par, uint32_t a, uint32_t b)
{
    a = uf_find(par, a), b = uf_find(par, b);
    if (a == b) return;
    if (a < b) par[b] = a; /* the smaller index is the root: deterministic */
    else par[a] = b;
}

typedef struct lat_idx {
    double lat;
    uint32_t i;
} lat_idx;
static int cmp_lat(const void *a, const void *b)
{
    const lat_idx *x = a, *y = b;
    if (x->lat != y->lat) return x->lat < y->lat ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

cs_status cs_agglomerate(const double *lon, const double *lat, const double *pop, size_t n, const cs_agglo_opts *opts,
                         cs_agglomerates **out)
{
    cs_agglo_opts def;
    if (!opts) {
        cs_agglo_opts_default(&def);
        opts = &def;
    }
    if (!pop || !out) return cs_error_set(CS_EINVAL, "agglomerate: NULL argument");
    *out = NULL;
    if (n >= UINT32_MAX) return cs_error_set(CS_EINVAL, "agglomerate: too many points");
    if (opts->rule == CS_AGGLO_DISTANCE) {
        if (!lon || !lat) return cs_error_set(CS_EINVAL, "agglomerate: the distance rule needs lon/lat");
        if (!(opts->max_km >= 0) || !isfinite(opts->max_km))
            return cs_error_set(CS_EINVAL, "agglomerate: max_km must be finite and >= 0");
    } else {
        if (!opts->time || opts->time->rows != n || opts->time->cols != n)
            return cs_error_set(CS_EINVAL, "agglomerate: the time rule needs an n x n time matrix (n = %zu)", n);
        if (!(opts->max_time >= 0)) return cs_error_set(CS_EINVAL, "agglomerate: max_time must be >= 0");
    }
    for (size_t i = 0; i < n; i++) {
        if (!(pop[i] >= 0) || !isfinite(pop[i]))
            return cs_error_set(CS_EINVAL, "agglomerate: population of point %zu is %g; must be finite and >= 0", i,
                                pop[i]);
        if (lon && lat && (!(fabs(lat[i]) <= 90) || !(fabs(lon[i]) <= 360)))
            return cs_error_set(CS_EINVAL, "agglomerate: point %zu has invalid coordinates (%g, %g)", i, lon[i], lat[i]);
    }
    cs_status st = CS_OK;
    cs_agglomerates *a = cs_calloc(1, sizeof *a);
    uint32_t *par = cs_mallocarray(n ? n : 1, sizeof *par), *ord = cs_mallocarray(n ? n : 1, sizeof *ord);
    uint32_t *root_id = cs_mallocarray(n ? n : 1, sizeof *root_id);
    if (!a || !par || !ord || !root_id) goto nomem;
    for (size_t i = 0; i < n; i++) par[i] = (uint32_t)i;

    if (opts->rule == CS_AGGLO_DISTANCE) {
        /* latitude sweep: points farther apart in latitude than max_km cannot be within max_km */
        const double dlat = opts->max_km / (EARTH_R_KM * DEG2RAD);
        lat_idx *li = cs_mallocarray(n ? n : 1, sizeof *li);
        if (!li) goto nomem;
        for (size_t i = 0; i < n; i++) li[i] = (lat_idx){lat[i], (uint32_t)i};
        qsort(li, n, sizeof *li, cmp_lat);
        for (size_t i = 0; i < n; i++) ord[i] = li[i].i;
        cs_free(li);
        for (size_t p = 0; p < n; p++) {
            uint32_t i = ord[p];
            for (size_t q = p + 1; q < n; q++) {
                uint32_t j = ord[q];
                if (lat[j] - lat[i] > dlat) break;
                if (cs_haversine_km(lon[i], lat[i], lon[j], lat[j]) <= opts->max_km) uf_union(par, i, j);
            }
        }
    } else {
        const cs_matrix *t = opts->time;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++) {
                double tij = t->v[i * n + j], tji = t->v[j * n + i];
                double tm = tij < tji ? tij : tji; /* NaN/inf never link */
                if (tm <= opts->max_time) uf_union(par, (uint32_t)i, (uint32_t)j);
            }
    }
    /* number agglomerations by first member in input order */
    size_t na = 0;
    for (size_t i = 0; i < n; i++) root_id[i] = UINT32_MAX;
    a->npoints = n;
    a->of_point = cs_mallocarray(n ? n : 1, sizeof *a->of_point);
    if (!a->of_point) goto nomem;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = uf_find(par, (uint32_t)i);
        if (root_id[r] == UINT32_MAX) root_id[r] = (uint32_t)na++;
        a->of_point[i] = root_id[r];
    }
    a->n = na;
    a->first = cs_calloc(na + 1, sizeof *a->first);
    a->members = cs_mallocarray(n ? n : 1, sizeof *a->members);
    a->largest = cs_mallocarray(na ? na : 1, sizeof *a->largest);
    a->population = cs_calloc(na ? na : 1, sizeof *a->population);
    a->lon = cs_mallocarray(na ? na : 1, sizeof *a->lon);
    a->lat = cs_mallocarray(na ? na : 1, sizeof *a->lat);
    if (!a->first || !a->members || !a->largest || !a->population || !a->lon || !a->lat) goto nomem;
    for (size_t i = 0; i < n; i++) a->first[a->of_point[i] + 1]++;
    for (size_t k = 0; k < na; k++) a->first[k + 1] += a->first[k];
    for (size_t k = 0; k < na; k++) ord[k] = a->first[k]; /* fill cursors */
    for (size_t i = 0; i < n; i++) a->members[ord[a->of_point[i]]++] = (uint32_t)i;
    for (size_t k = 0; k < na; k++) {
        uint32_t best = a->members[a->first[k]];
        double sum = 0, x = 0, y = 0, z = 0, w = 0;
        for (uint32_t q = a->first[k]; q < a->first[k + 1]; q++) {
            uint32_t i = a->members[q];
            sum += pop[i];
            if (pop[i] > pop[best]) best = i;
        }
        a->population[k] = sum;
        a->largest[k] = best;
        if (!lon || !lat) {
            a->lon[k] = a->lat[k] = NAN;
        } else if (opts->position == CS_AGGLO_POS_LARGEST || a->first[k + 1] - a->first[k] == 1) {
            a->lon[k] = lon[best], a->lat[k] = lat[best];
        } else {
            for (uint32_t q = a->first[k]; q < a->first[k + 1]; q++) {
                uint32_t i = a->members[q];
                double wi = sum > 0 ? pop[i] : 1.0;
                double ph = lat[i] * DEG2RAD, la = lon[i] * DEG2RAD;
                x += wi * cos(ph) * cos(la), y += wi * cos(ph) * sin(la), z += wi * sin(ph), w += wi;
            }
            a->lon[k] = atan2(y, x) / DEG2RAD;
            a->lat[k] = atan2(z, sqrt(x * x + y * y)) / DEG2RAD;
        }
    }
    *out = a;
    a = NULL;
    goto done;
nomem:
    st = cs_error_set(CS_ENOMEM, "agglomerate: out of memory");
done:
    cs_agglomerates_free(a);
    cs_free(par);
    cs_free(ord);
    cs_free(root_id);
    return st;
}

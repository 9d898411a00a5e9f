/* facility_layers.c: facility solutions as GeoPackage layers (sites, assignment, catchment polygons). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/facility.h"
#include "citysys/geom.h"
#include "citysys/table.h"

cs_status cs_fac_write_layers(const cs_fac_problem *prob, const cs_fac_solution *sol, const cs_fac_geo *geo,
                              const char *prefix, cs_gpkg_writer *w)
{
    if (!prob || !sol || !geo || !w || !geo->demand_lon || !geo->demand_lat || !geo->cand_lon || !geo->cand_lat)
        return cs_error_set(CS_EINVAL, "facility layers need the demand and candidate coordinates");
    const cs_matrix *M = prob->cost;
    size_t ns = sol->nsites, n = sol->ndemand;
    cs_status st = CS_OK;
    cs_table *ts = NULL, *ta = NULL, *tc = NULL;
    const char **sid = cs_mallocarray(ns ? ns : 1, sizeof *sid);
    double *slon = cs_mallocarray(ns ? ns : 1, sizeof *slon), *slat = cs_mallocarray(ns ? ns : 1, sizeof *slat);
    double *ex = cs_mallocarray(ns ? ns : 1, sizeof *ex), *cnt = cs_mallocarray(ns ? ns : 1, sizeof *cnt);
    const char **fac = cs_mallocarray(n ? n : 1, sizeof *fac);
    double *tm = cs_mallocarray(n ? n : 1, sizeof *tm), *cov = cs_mallocarray(n ? n : 1, sizeof *cov);
    double *wt = cs_mallocarray(n ? n : 1, sizeof *wt);
    size_t cap = 2 * (n + 12 * ns) + 16, used = 0;
    double *xy = cs_mallocarray(2 * (n + 2), sizeof *xy), *rl = cs_mallocarray(cap, sizeof *rl), *ra = cs_mallocarray(cap, sizeof *ra);
    size_t *off = cs_calloc(ns + 1, sizeof *off);
    if (!sid || !slon || !slat || !ex || !cnt || !fac || !tm || !cov || !wt || !xy || !rl || !ra || !off) st = CS_ENOMEM;
    for (size_t k = 0; !st && k < ns; k++) {
        uint32_t j = sol->sites[k];
        sid[k] = M->col_ids[j];
        slon[k] = geo->cand_lon[j];
        slat[k] = geo->cand_lat[j];
        ex[k] = sol->existing[k];
        cnt[k] = (double)sol->catchment_count[k];
        size_t nv = 0;
        st = cs_fac_catchment_hull(sol, geo, k, xy, n + 2, &nv);
        if (!st && nv < 3) {
            double hl[2] = {slon[k], slon[k]}, ha[2] = {slat[k], slat[k]};
            uint32_t hidx[2] = {0, 1};
            for (size_t q = 0; q < nv; q++) {
                hl[q] = xy[2 * q];
                ha[q] = xy[2 * q + 1];
            }
            size_t got = 0;
            st = cs_hull_ring(hl, ha, hidx, nv == 2 ? 2 : 1, 2000, rl + used, ra + used, cap - used, &got);
            used += got;
        } else if (!st) {
            for (size_t q = 0; q < nv && used < cap; q++) {
                rl[used] = xy[2 * q];
                ra[used++] = xy[2 * q + 1];
            }
        }
        off[k + 1] = used;
    }
    for (size_t i = 0; !st && i < n; i++) {
        fac[i] = sol->assign[i] == CS_INVALID_ID ? NULL : M->col_ids[sol->sites[sol->assign[i]]];
        tm[i] = sol->time[i];
        cov[i] = sol->covered[i];
        wt[i] = prob->weight ? prob->weight[i] : 1.0;
    }
    char ln[160];
    const char *pf = prefix ? prefix : "";
    if (!st) st = cs_table_new(ns, &ts);
    if (!st) st = cs_table_add_string(ts, "id", sid);
    if (!st) st = cs_table_add_real(ts, "existing", ex);
    if (!st) st = cs_table_add_real(ts, "catchment_population", sol->catchment_weight);
    if (!st) st = cs_table_add_real(ts, "catchment_points", cnt);
    if (!st) st = cs_table_set_points(ts, slon, slat);
    snprintf(ln, sizeof ln, "%.100ssites", pf);
    if (!st) st = cs_gpkg_add(w, ts, ln);
    if (!st) st = cs_table_new(n, &ta);
    if (!st) st = cs_table_add_string(ta, "id", (const char *const *)M->row_ids);
    if (!st) st = cs_table_add_string(ta, "facility", fac);
    if (!st) st = cs_table_add_real(ta, "time", tm);
    if (!st) st = cs_table_add_real(ta, "covered", cov);
    if (!st) st = cs_table_add_real(ta, "weight", wt);
    if (!st) st = cs_table_set_points(ta, geo->demand_lon, geo->demand_lat);
    snprintf(ln, sizeof ln, "%.100sassignment", pf);
    if (!st) st = cs_gpkg_add(w, ta, ln);
    if (!st) st = cs_table_new(ns, &tc);
    if (!st) st = cs_table_add_string(tc, "facility", sid);
    if (!st) st = cs_table_add_real(tc, "catchment_population", sol->catchment_weight);
    if (!st) st = cs_table_set_polygons(tc, off, rl, ra);
    snprintf(ln, sizeof ln, "%.100scatchments", pf);
    if (!st) st = cs_gpkg_add(w, tc, ln);
    cs_table_free(ts);
    cs_table_free(ta);
    cs_table_free(tc);
    cs_free(sid); cs_free(slon); cs_free(slat); cs_free(ex); cs_free(cnt); cs_free(fac); cs_free(tm); cs_free(cov);
    cs_free(wt); cs_free(xy); cs_free(rl); cs_free(ra); cs_free(off);
    return st;
}

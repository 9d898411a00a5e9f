/* typology_tables.c: output layers of a typology (cities, cluster hulls, corridor lines). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/geom.h"
#include "citysys/typology.h"

static char *idlist(const cs_cities *c, const uint32_t *v, size_t n)
{
    size_t L = 1;
    for (size_t k = 0; k < n; k++) L += strlen(c->id[v[k]]) + 1;
    char *s = cs_malloc(L);
    if (!s) return NULL;
    s[0] = 0;
    for (size_t k = 0; k < n; k++) {
        if (k) strcat(s, ";");
        strcat(s, c->id[v[k]]);
    }
    return s;
}

static cs_status city_table(const cs_typology *ty, const cs_cities *c, cs_table **out)
{
    size_t n = c->n, nn = n ? n : 1;
    cs_status st = CS_OK;
    cs_table *tab = NULL;
    int64_t *cl = cs_mallocarray(nn, sizeof *cl), *lvl = cs_mallocarray(nn, sizeof *lvl);
    uint8_t *cln = cs_calloc(nn, 1);
    const char **hub = cs_calloc(nn, sizeof *hub), **par = cs_calloc(nn, sizeof *par);
    char **corr = cs_calloc(nn, sizeof *corr);
    double *core = cs_mallocarray(nn, sizeof *core), *prim = cs_mallocarray(nn, sizeof *prim);
    double *sec = cs_mallocarray(nn, sizeof *sec), *iso = cs_mallocarray(nn, sizeof *iso), *ishub = cs_mallocarray(nn, sizeof *ishub);
    if (!cl || !lvl || !cln || !hub || !par || !corr || !core || !prim || !sec || !iso || !ishub) st = CS_ENOMEM;
    for (size_t i = 0; !st && i < n; i++) {
        cl[i] = ty->cluster[i] == CS_INVALID_ID ? 0 : (int64_t)ty->cluster[i] + 1;
        cln[i] = ty->cluster[i] == CS_INVALID_ID;
        lvl[i] = ty->hub_level[i];
        hub[i] = c->id[ty->hub[i]];
        par[i] = ty->parent[i] == CS_INVALID_ID ? NULL : c->id[ty->parent[i]];
        core[i] = ty->is_core[i];
        prim[i] = ty->is_primary[i];
        sec[i] = ty->is_secondary[i];
        iso[i] = ty->is_isolated[i];
        ishub[i] = ty->is_hub[i];
        char buf[512] = "";
        for (uint32_t k = 0; k < ty->n_corridors; k++) {
            const cs_corridor *co = &ty->corridors[k];
            if (co->merged_into != CS_INVALID_ID) continue;
            int in_c = co->a == i || co->b == i;
            for (uint32_t q = 0; q < co->n_towns && !in_c; q++) in_c = co->towns[q] == i;
            if (in_c) {
                char one[16];
                snprintf(one, sizeof one, "%s%u", buf[0] ? ";" : "", k + 1);
                if (strlen(buf) + strlen(one) < sizeof buf) strcat(buf, one);
            }
        }
        corr[i] = cs_strdup(buf);
        if (!corr[i]) st = CS_ENOMEM;
    }
    if (!st) st = cs_table_new(n, &tab);
    if (!st) st = cs_table_add_string(tab, "id", (const char *const *)c->id);
    if (!st) st = cs_table_add_string(tab, "name", (const char *const *)c->name);
    if (!st) st = cs_table_add_real(tab, "population", c->population);
    if (!st) st = cs_table_add_integer(tab, "cluster", cl, cln);
    if (!st) st = cs_table_add_real(tab, "cluster_core", core);
    if (!st) st = cs_table_add_real(tab, "commute_share", ty->commute_share);
    if (!st) st = cs_table_add_string(tab, "corridors", (const char *const *)corr);
    if (!st) st = cs_table_add_string(tab, "hub", hub);
    if (!st) st = cs_table_add_string(tab, "hub_parent", par);
    if (!st) st = cs_table_add_integer(tab, "hub_level", lvl, NULL);
    if (!st) st = cs_table_add_real(tab, "is_hub", ishub);
    if (!st) st = cs_table_add_real(tab, "hinterland_population", ty->hinterland_population);
    if (!st) st = cs_table_add_real(tab, "is_primary", prim);
    if (!st) st = cs_table_add_real(tab, "is_secondary", sec);
    if (!st) st = cs_table_add_real(tab, "is_isolated", iso);
    if (!st) st = cs_table_set_points(tab, c->lon, c->lat);
    for (size_t i = 0; corr && i < n; i++) cs_free(corr[i]);
    cs_free(corr); cs_free(cl); cs_free(lvl); cs_free(cln); cs_free(hub); cs_free(par);
    cs_free(core); cs_free(prim); cs_free(sec); cs_free(iso); cs_free(ishub);
    if (st) {
        cs_table_free(tab);
        return st;
    }
    *out = tab;
    return CS_OK;
}

static cs_status cluster_table(const cs_typology *ty, const cs_cities *c, cs_table **out)
{
    size_t n = c->n, nc = ty->n_clusters, cap = 12 * (n + nc) + 12;
    cs_status st = CS_OK;
    size_t *off = cs_calloc(nc + 1, sizeof *off);
    double *rl = cs_mallocarray(cap, sizeof *rl), *ra = cs_mallocarray(cap, sizeof *ra);
    uint32_t *mem = cs_mallocarray(n ? n : 1, sizeof *mem), *hl = cs_mallocarray(n ? n : 1, sizeof *hl);
    int64_t *cid = cs_mallocarray(nc ? nc : 1, sizeof *cid), *nmem = cs_mallocarray(nc ? nc : 1, sizeof *nmem);
    char **cores = cs_calloc(nc ? nc : 1, sizeof *cores);
    uint32_t *corel = cs_mallocarray(n ? n : 1, sizeof *corel);
    if (!off || !rl || !ra || !mem || !hl || !cid || !nmem || !cores || !corel) st = CS_ENOMEM;
    size_t used = 0;
    for (size_t k = 0; !st && k < nc; k++) {
        size_t m = 0, ncore = 0;
        for (size_t i = 0; i < n; i++)
            if (ty->cluster[i] == k) mem[m++] = (uint32_t)i;
        for (size_t q = 0; q < m; q++)
            if (ty->is_core[mem[q]]) corel[ncore++] = mem[q];
        cores[k] = idlist(c, corel, ncore);
        if (!cores[k]) st = CS_ENOMEM;
        size_t hm = 0, nv = 0;
        if (!st) st = cs_convex_hull(c->lon, c->lat, mem, m, hl, &hm);
        if (!st) st = cs_hull_ring(c->lon, c->lat, hl, hm, 2000, rl + used, ra + used, cap - used, &nv);
        used += nv;
        off[k + 1] = used;
        cid[k] = (int64_t)k + 1;
        nmem[k] = (int64_t)m;
    }
    cs_table *ct = NULL;
    if (!st) st = cs_table_new(nc, &ct);
    if (!st) st = cs_table_add_integer(ct, "cluster", cid, NULL);
    if (!st) st = cs_table_add_string(ct, "cores", (const char *const *)cores);
    if (!st) st = cs_table_add_integer(ct, "members", nmem, NULL);
    if (!st) st = cs_table_add_real(ct, "population", ty->cluster_population);
    if (!st) st = cs_table_set_polygons(ct, off, rl, ra);
    for (size_t k = 0; cores && k < nc; k++) cs_free(cores[k]);
    cs_free(cores); cs_free(off); cs_free(rl); cs_free(ra); cs_free(mem); cs_free(hl);
    cs_free(cid); cs_free(nmem); cs_free(corel);
    if (st) {
        cs_table_free(ct);
        return st;
    }
    *out = ct;
    return CS_OK;
}

static cs_status corridor_table(const cs_typology *ty, const cs_cities *c, size_t nlive, cs_table **out)
{
    cs_status st = CS_OK;
    size_t np = 0;
    for (uint32_t k = 0; k < ty->n_corridors; k++) {
        const cs_corridor *co = &ty->corridors[k];
        if (co->merged_into == CS_INVALID_ID) np += co->route.npts >= 2 ? co->route.npts : co->n_towns + 2;
    }
    size_t *off = cs_calloc(nlive + 1, sizeof *off);
    double *lo = cs_mallocarray(np, sizeof *lo), *la = cs_mallocarray(np, sizeof *la);
    double *tm = cs_mallocarray(nlive, sizeof *tm), *pp = cs_mallocarray(nlive, sizeof *pp), *sp = cs_mallocarray(nlive, sizeof *sp);
    double *rl = cs_mallocarray(nlive, sizeof *rl), *rt = cs_mallocarray(nlive, sizeof *rt);
    const char **gk = cs_calloc(nlive, sizeof *gk);
    int64_t *cid = cs_mallocarray(nlive, sizeof *cid), *nt = cs_mallocarray(nlive, sizeof *nt);
    char **towns = cs_calloc(nlive, sizeof *towns);
    const char **ea = cs_calloc(nlive, sizeof *ea), **eb = cs_calloc(nlive, sizeof *eb);
    if (!off || !lo || !la || !tm || !pp || !sp || !cid || !nt || !towns || !ea || !eb || !rl || !rt || !gk)
        st = CS_ENOMEM;
    size_t q = 0, u = 0;
    for (uint32_t k = 0; !st && k < ty->n_corridors; k++) {
        const cs_corridor *co = &ty->corridors[k];
        if (co->merged_into != CS_INVALID_ID) continue;
        if (co->route.npts >= 2) { /* the route's own geometry */
            memcpy(lo + u, co->route.lon, co->route.npts * sizeof *lo);
            memcpy(la + u, co->route.lat, co->route.npts * sizeof *la);
            u += co->route.npts;
            gk[q] = "route";
        } else {
            lo[u] = c->lon[co->a];
            la[u++] = c->lat[co->a];
            for (uint32_t z = 0; z < co->n_towns; z++) {
                lo[u] = c->lon[co->towns[z]];
                la[u++] = c->lat[co->towns[z]];
            }
            lo[u] = c->lon[co->b];
            la[u++] = c->lat[co->b];
            gk[q] = "towns";
        }
        off[q + 1] = u;
        rl[q] = co->route_length_m / 1000;
        rt[q] = co->route_time_s / 60;
        cid[q] = k + 1;
        nt[q] = co->n_towns;
        tm[q] = co->time_s / 60;
        pp[q] = co->population;
        sp[q] = co->mean_spacing_s / 60;
        ea[q] = c->id[co->a];
        eb[q] = c->id[co->b];
        towns[q] = idlist(c, co->towns, co->n_towns);
        if (!towns[q]) st = CS_ENOMEM;
        q++;
    }
    cs_table *ct = NULL;
    if (!st) st = cs_table_new(nlive, &ct);
    if (!st) st = cs_table_add_integer(ct, "corridor", cid, NULL);
    if (!st) st = cs_table_add_string(ct, "end_a", ea);
    if (!st) st = cs_table_add_string(ct, "end_b", eb);
    if (!st) st = cs_table_add_string(ct, "towns", (const char *const *)towns);
    if (!st) st = cs_table_add_integer(ct, "n_towns", nt, NULL);
    if (!st) st = cs_table_add_real(ct, "time_min", tm);
    if (!st) st = cs_table_add_real(ct, "route_length_km", rl);
    if (!st) st = cs_table_add_real(ct, "route_time_min", rt);
    if (!st) st = cs_table_add_string(ct, "geometry", gk);
    if (!st) st = cs_table_add_real(ct, "population", pp);
    if (!st) st = cs_table_add_real(ct, "mean_spacing_min", sp);
    if (!st) st = cs_table_set_lines(ct, off, lo, la);
    for (size_t z = 0; towns && z < nlive; z++) cs_free(towns[z]);
    cs_free(towns); cs_free(ea); cs_free(eb); cs_free(off); cs_free(lo); cs_free(la);
    cs_free(tm); cs_free(pp); cs_free(sp); cs_free(cid); cs_free(nt); cs_free(rl); cs_free(rt); cs_free(gk);
    if (st) {
        cs_table_free(ct);
        return st;
    }
    *out = ct;
    return CS_OK;
}

cs_status cs_typology_tables(const cs_typology *t, const cs_cities *c, cs_table **cities, cs_table **clusters,
                             cs_table **corridors)
{
    *cities = NULL;
    *clusters = NULL;
    *corridors = NULL;
    if (t->n != c->n) return cs_error_set(CS_EINVAL, "typology of %zu cities, table of %zu", t->n, c->n);
    cs_status st = city_table(t, c, cities);
    if (!st && t->n_clusters) st = cluster_table(t, c, clusters);
    size_t nlive = 0;
    for (uint32_t k = 0; k < t->n_corridors; k++) nlive += t->corridors[k].merged_into == CS_INVALID_ID;
    if (!st && nlive) st = corridor_table(t, c, nlive, corridors);
    if (st) {
        cs_table_free(*cities);
        cs_table_free(*clusters);
        cs_table_free(*corridors);
        *cities = *clusters = *corridors = NULL;
    }
    return st;
}

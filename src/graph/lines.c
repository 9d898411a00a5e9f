/*
 * lines.c: networks from GIS line layers (GeoJSON, GeoPackage, Shapefile,
 * anything OGR reads) and the network exporter (GeoPackage through GDAL,
 * CSV written directly).
 *
 * Topology comes from line end points only: two ends closer than the snapping
 * tolerance (haversine) share a node; ends are matched through a hash of grid
 * cells whose side is the tolerance in degrees of latitude (cells widened in
 * longitude by 1/cos(latitude)), first node found in feature order wins.
 */
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "citysys/alloc.h"
#include "citysys/fileio.h"
#include "netimport_internal.h"

void cs_lines_opts_default(cs_lines_opts *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->snap_tol_m = 1.0;
    o->time_unit_s = 60;
}

/* ------------------------------------------------------------ end-point hash */

typedef struct {
    uint64_t *key;   /* cell key, 0 = empty slot (keys are offset so never 0) */
    uint32_t *head;  /* first node in the cell's list */
    size_t cap, n;
    uint32_t *next;  /* per node: next node in the same cell */
    size_t cap_next;
} cellhash;

static uint64_t cell_key(int64_t ix, int64_t iy)
{
    return ((uint64_t)(ix + (1LL << 31)) << 32 | (uint64_t)(iy + (1LL << 31))) + 1;
}

static size_t hslot(const cellhash *h, uint64_t k)
{
    uint64_t x = k * 0x9E3779B97F4A7C15ULL;
    return (size_t)(x >> 17) & (h->cap - 1);
}

static int hash_grow(cellhash *h)
{
    size_t nc = h->cap ? h->cap * 2 : 1024;
    uint64_t *k = cs_calloc(nc, sizeof *k);
    uint32_t *hd = cs_mallocarray(nc, sizeof *hd);
    if (!k || !hd) {
        cs_free(k);
        cs_free(hd);
        return -1;
    }
    cellhash nh = {k, hd, nc, 0, h->next, h->cap_next};
    for (size_t i = 0; i < h->cap; i++)
        if (h->key[i]) {
            size_t s = hslot(&nh, h->key[i]);
            while (nh.key[s]) s = (s + 1) & (nc - 1);
            nh.key[s] = h->key[i];
            nh.head[s] = h->head[i];
            nh.n++;
        }
    cs_free(h->key);
    cs_free(h->head);
    *h = nh;
    return 0;
}

static uint32_t *hash_find(cellhash *h, uint64_t k, int insert)
{
    if (insert && (h->n + 1) * 2 > h->cap && hash_grow(h)) return NULL;
    if (!h->cap) return NULL;
    size_t s = hslot(h, k);
    while (h->key[s]) {
        if (h->key[s] == k) return &h->head[s];
        s = (s + 1) & (h->cap - 1);
    }
    if (!insert) return NULL;
    h->key[s] = k;
    h->head[s] = CS_INVALID_ID;
    h->n++;
    return &h->head[s];
}

/* node for an end point: an existing node within tol, else a new one */
static cs_status end_node(cs_network *net, cellhash *h, double lon, double lat, double tol_m, uint32_t *id)
{
    double cell = tol_m > 0 ? tol_m / 111195.0 : 1e-9;
    int64_t ix = (int64_t)floor(lon / cell), iy = (int64_t)floor(lat / cell);
    double c = cos(lat * M_PI / 180.0);
    int64_t rx = c > 1e-6 ? (int64_t)ceil(1.0 / c) : 1000;
    if (!(tol_m > 0)) { /* no tolerance: only identical coordinates share a node */
        uint32_t *hd = hash_find(h, cell_key(ix, iy), 0);
        for (uint32_t x = hd ? *hd : CS_INVALID_ID; x != CS_INVALID_ID; x = h->next[x])
            if (net->lon_deg[x] == lon && net->lat_deg[x] == lat) {
                *id = x;
                return CS_OK;
            }
    } else {
        uint32_t best = CS_INVALID_ID;
        double bd = INFINITY;
        for (int64_t dy = -1; dy <= 1; dy++)
            for (int64_t dx = -rx; dx <= rx; dx++) {
                uint32_t *hd = hash_find(h, cell_key(ix + dx, iy + dy), 0);
                for (uint32_t x = hd ? *hd : CS_INVALID_ID; x != CS_INVALID_ID; x = h->next[x]) {
                    double d = cs_geodesic_m(lon, lat, net->lon_deg[x], net->lat_deg[x]);
                    if (d <= tol_m && (d < bd || (d == bd && x < best))) {
                        bd = d;
                        best = x;
                    }
                }
            }
        if (best != CS_INVALID_ID) {
            *id = best;
            return CS_OK;
        }
    }
    cs_status st = cs_network_add_node(net, lon, lat, CS_NO_OSM_ID, id);
    if (st) return st;
    if (*id >= h->cap_next) {
        size_t nc = h->cap_next ? h->cap_next * 2 : 1024;
        uint32_t *q = cs_reallocarray(h->next, nc, sizeof *q);
        if (!q) return CS_ENOMEM;
        h->next = q;
        h->cap_next = nc;
    }
    uint32_t *hd = hash_find(h, cell_key(ix, iy), 1);
    if (!hd) return CS_ENOMEM;
    h->next[*id] = *hd;
    *hd = *id;
    return CS_OK;
}

/* -------------------------------------------------------------------- read */

static int fld(OGRFeatureDefnH fd, const char *name, const char *path, cs_status *st)
{
    if (!name) return -1;
    int i = OGR_FD_GetFieldIndex(fd, name);
    if (i < 0 && !*st) *st = cs_error_set_at(CS_ENOTFOUND, path, 0, 0, "field '%s' not found in the layer", name);
    return i;
}

static double fnum(OGRFeatureH f, int i, int *bad)
{
    if (i < 0 || !OGR_F_IsFieldSetAndNotNull(f, i)) return NAN;
    OGRFieldType t = OGR_Fld_GetType(OGR_F_GetFieldDefnRef(f, i));
    if (t == OFTReal || t == OFTInteger || t == OFTInteger64) return OGR_F_GetFieldAsDouble(f, i);
    double v;
    if (cs__parse_num(OGR_F_GetFieldAsString(f, i), &v)) *bad = 1;
    return v;
}

cs_status cs_network_from_lines(const char *path, const cs_lines_opts *opts, cs_network **out)
{
    if (!path || !out) return cs_error_set(CS_EINVAL, "cs_network_from_lines: NULL argument");
    cs_lines_opts def;
    if (!opts) {
        cs_lines_opts_default(&def);
        opts = &def;
    }
    if (!(opts->snap_tol_m >= 0) || !(opts->time_unit_s > 0))
        return cs_error_set(CS_EINVAL, "lines options: snap tolerance >= 0 and time unit > 0 needed");
    GDALDatasetH ds = NULL;
    OGRCoordinateTransformationH ct = NULL;
    OGRSpatialReferenceH wgs = NULL;
    cs_network *net = NULL;
    cellhash h = {0};
    double *glon = NULL, *glat = NULL;
    size_t cap_g = 0;
    cs_status st;
    if ((st = cs__ogr_open(path, NULL, (void **)&ds))) return st;
    OGRLayerH L = opts->layer ? GDALDatasetGetLayerByName(ds, opts->layer) : GDALDatasetGetLayer(ds, 0);
    if (!L) {
        st = cs_error_set_at(CS_ENOTFOUND, path, 0, 0, "layer '%s' not found", opts->layer ? opts->layer : "(first)");
        goto done;
    }
    OGRFeatureDefnH fd = OGR_L_GetLayerDefn(L);
    st = CS_OK;
    if (opts->where && OGR_L_SetAttributeFilter(L, opts->where) != OGRERR_NONE) {
        st = cs_error_set_at(CS_EINVAL, path, 0, 0, "bad attribute filter '%s': %s", opts->where, CPLGetLastErrorMsg());
        goto done;
    }
    int itime = fld(fd, opts->time_field, path, &st), ispeed = fld(fd, opts->speed_field, path, &st);
    int iclass = fld(fd, opts->class_field, path, &st), idir = fld(fd, opts->dir_field, path, &st);
    int iid = fld(fd, opts->id_field, path, &st);
    int ipen[16], npen = 0;
    if (opts->penalty_fields)
        for (; opts->penalty_fields[npen] && npen < 16; npen++) ipen[npen] = fld(fd, opts->penalty_fields[npen], path, &st);
    if (st) goto done;
    if (iclass >= 0 && !opts->profile) {
        st = cs_error_set(CS_EINVAL, "class field given without a profile (speeds come from its highway_speeds_kmh)");
        goto done;
    }
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(L);
    if (srs) {
        wgs = OSRNewSpatialReference(NULL);
        OSRSetWellKnownGeogCS(wgs, "WGS84");
        OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
        if (!OSRIsSame(srs, wgs)) {
            OGRSpatialReferenceH s2 = OSRClone(srs);
            OSRSetAxisMappingStrategy(s2, OAMS_TRADITIONAL_GIS_ORDER);
            ct = OCTNewCoordinateTransformation(s2, wgs);
            OSRDestroySpatialReference(s2);
            if (!ct) {
                st = cs_error_set_at(CS_EDEPENDENCY, path, 0, 0, "cannot transform the layer's CRS to WGS84: %s",
                                     CPLGetLastErrorMsg());
                goto done;
            }
        }
    }
    if ((st = cs_network_new(&net))) goto done;
    {
        uint32_t nc = opts->profile ? cs_profile_n_classes(opts->profile) : 0;
        const char *names[256];
        names[0] = "line";
        for (uint32_t i = 0; i < nc && i < 255; i++) names[i + 1] = cs_profile_class_name(opts->profile, i);
        if ((st = cs_network_set_classes(net, names, nc ? (nc < 255 ? nc + 1 : 256) : 1))) goto done;
    }
    OGR_L_ResetReading(L);
    OGRFeatureH f;
    long fno = 0;
    while ((f = OGR_L_GetNextFeature(L))) {
        fno++;
        GIntBig fid = OGR_F_GetFID(f);
        int bad = 0;
        double t = fnum(f, itime, &bad), sp = fnum(f, ispeed, &bad), pen = 0;
        for (int k = 0; k < npen; k++) {
            double v = fnum(f, ipen[k], &bad);
            if (!isnan(v)) pen += v;
        }
        int cls = 0;
        double cls_kmh = NAN;
        if (iclass >= 0 && OGR_F_IsFieldSetAndNotNull(f, iclass)) {
            const char *cv = OGR_F_GetFieldAsString(f, iclass);
            for (uint32_t i = 0; i + 1 < cs_profile_n_classes(opts->profile) && i < 254; i++)
                if (!strcmp(cv, cs_profile_class_name(opts->profile, i))) {
                    const char *k[] = {"highway"}, *v[] = {cv};
                    cs_way_attr a;
                    if (!cs_profile_way(opts->profile, k, v, 1, &a) && a.routable) cls_kmh = fmax(a.fwd_kmh, a.bwd_kmh);
                    cls = (int)i + 1;
                    break;
                }
        }
        int dir = idir >= 0 && OGR_F_IsFieldSetAndNotNull(f, idir) ? cs__parse_direction(OGR_F_GetFieldAsString(f, idir)) : 0;
        char idbuf[32];
        snprintf(idbuf, sizeof idbuf, "%lld", (long long)fid);
        char *eid = cs_strdup(iid >= 0 ? OGR_F_GetFieldAsString(f, iid) : idbuf);
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        if (!eid) {
            OGR_F_Destroy(f);
            st = CS_ENOMEM;
            goto done;
        }
        if (bad || dir < 0) {
            st = cs_error_set_at(CS_EPARSE, path, fno, 0, "feature %s: %s", eid,
                                 dir < 0 ? "direction value not understood (docs/network.md)" : "a numeric field is not a number");
            cs_free(eid);
            OGR_F_Destroy(f);
            goto done;
        }
        if (g && ct && OGR_G_Transform(g, ct) != OGRERR_NONE) {
            st = cs_error_set_at(CS_EDEPENDENCY, path, fno, 0, "feature %s: coordinate transformation failed", eid);
            cs_free(eid);
            OGR_F_Destroy(f);
            goto done;
        }
        int nparts = 0;
        OGRwkbGeometryType gt = g ? wkbFlatten(OGR_G_GetGeometryType(g)) : wkbUnknown;
        if (gt == wkbLineString) nparts = 1;
        else if (gt == wkbMultiLineString) nparts = OGR_G_GetGeometryCount(g);
        for (int part = 0; part < nparts && dir != 3; part++) {
            OGRGeometryH lg = gt == wkbLineString ? g : OGR_G_GetGeometryRef(g, part);
            int np = OGR_G_GetPointCount(lg);
            if (np < 2) continue;
            if ((size_t)np > cap_g) {
                size_t c = (size_t)np * 2;
                double *a = cs_reallocarray(glon, c, sizeof *a);
                if (a) glon = a;
                double *b = a ? cs_reallocarray(glat, c, sizeof *b) : NULL;
                if (b) glat = b;
                if (!a || !b) {
                    st = CS_ENOMEM;
                    break;
                }
                cap_g = c;
            }
            for (int i = 0; i < np; i++) {
                glon[i] = OGR_G_GetX(lg, i);
                glat[i] = OGR_G_GetY(lg, i);
            }
            /* end points join (or become) nodes; the geometry then starts and ends exactly there */
            uint32_t u, v;
            if ((st = end_node(net, &h, glon[0], glat[0], opts->snap_tol_m, &u)) ||
                (st = end_node(net, &h, glon[np - 1], glat[np - 1], opts->snap_tol_m, &v)))
                break;
            glon[0] = net->lon_deg[u];
            glat[0] = net->lat_deg[u];
            glon[np - 1] = net->lon_deg[v];
            glat[np - 1] = net->lat_deg[v];
            uint64_t lcm = 0;
            for (int i = 1; i < np; i++) lcm += (uint64_t)llround(cs_geodesic_m(glon[i - 1], glat[i - 1], glon[i], glat[i]) * 100);
            /* time: field, else speed field, else class speed, else default speed; per edge in ms */
            uint64_t ms = 0;
            double kmh = !isnan(sp) && sp > 0 ? sp : !isnan(cls_kmh) ? cls_kmh : opts->default_kmh;
            if (!isnan(t)) {
                double part_share = nparts > 1 ? 0 : 1;
                if (nparts > 1) { /* split a multi-line's time by length share */
                    double tot = 0;
                    for (int q = 0; q < nparts; q++) tot += OGR_G_Length(OGR_G_GetGeometryRef(g, q));
                    part_share = tot > 0 ? OGR_G_Length(lg) / tot : 1.0 / nparts;
                }
                ms = (uint64_t)llround(t * part_share * opts->time_unit_s * 1000.0);
            } else if (kmh > 0) {
                for (int i = 1; i < np; i++)
                    ms += (uint64_t)llround(cs_geodesic_m(glon[i - 1], glat[i - 1], glon[i], glat[i]) * 3600.0 / kmh);
            } else {
                st = cs_error_set_at(CS_EPARSE, path, fno, 0,
                                     "feature %s: no time, speed, known class or default speed", eid);
                break;
            }
            uint64_t pms = (uint64_t)llround(pen * opts->time_unit_s * 1000.0);
            if (!(t >= 0 || isnan(t)) || !(pen >= 0) || ms + pms >= CS_NO_TIME || lcm > UINT32_MAX) {
                st = cs_error_set_at(CS_EPARSE, path, fno, 0, "feature %s: time or length out of range", eid);
                break;
            }
            uint32_t tt = (uint32_t)(ms + pms);
            uint32_t fw = (dir == 0 || dir == 1) ? tt : CS_NO_TIME, bw = (dir == 0 || dir == 2) ? tt : CS_NO_TIME;
            if ((st = cs_network_add_segment(net, u, v, fw, bw, (uint32_t)lcm, CS_SEG_ROAD, (uint8_t)cls, (int64_t)fid,
                                             glon, glat, (size_t)np)))
                break;
            if ((st = cs_network_set_ext_id(net, net->n_segs - 1, eid))) break;
            if (pms && (st = cs_network_set_extra(net, net->n_segs - 1, (uint32_t)pms))) break;
        }
        cs_free(eid);
        OGR_F_Destroy(f);
        if (st) goto done;
        if (opts->progress.fn && (fno & 0xfff) == 0 &&
            opts->progress.fn(opts->progress.user, "reading lines", (double)fno, (double)OGR_L_GetFeatureCount(L, 0))) {
            st = cs_error_set(CS_ECANCELED, "line import cancelled");
            goto done;
        }
    }
    {
        cs_sha256 s;
        cs_sha256_init(&s);
        cs_sha256_str(&s, "citysys-network-lines-v1");
        if ((st = cs_sha256_file(&s, path))) goto done;
        const char *o[] = {opts->layer, opts->time_field, opts->speed_field, opts->class_field, opts->dir_field,
                           opts->id_field, opts->where};
        for (size_t i = 0; i < sizeof o / sizeof *o; i++) cs_sha256_str(&s, o[i] ? o[i] : "(null)");
        for (int k = 0; k < npen; k++) cs_sha256_str(&s, opts->penalty_fields[k]);
        char buf[128];
        snprintf(buf, sizeof buf, "%.17g/%.17g/%.17g", opts->snap_tol_m, opts->time_unit_s, opts->default_kmh);
        cs_sha256_str(&s, buf);
        cs_sha256_str(&s, opts->profile ? cs_profile_canonical(opts->profile) : "(no profile)");
        cs_sha256_hex(&s, net->fingerprint);
    }
    st = CS_OK;
done:
    if (ct) OCTDestroyCoordinateTransformation(ct);
    if (wgs) OSRDestroySpatialReference(wgs);
    if (ds) GDALClose(ds);
    cs_free(h.key);
    cs_free(h.head);
    cs_free(h.next);
    cs_free(glon);
    cs_free(glat);
    if (st) cs_network_free(net);
    else *out = net;
    return st;
}

/* ------------------------------------------------------------------ export */

static const char *mode_name(uint8_t m)
{
    static const char *n[] = {"road", "ferry", "rail", "air", "connector", "other"};
    return m <= CS_SEG_OTHER ? n[m] : "other";
}

static cs_status export_csv(const cs_network *n, const char *path)
{
    size_t len = strlen(path);
    char *npath = (len > 4 && !strcasecmp(path + len - 4, ".csv")) ? cs_asprintf("%.*s.nodes.csv", (int)(len - 4), path)
                                                                   : cs_asprintf("%s.nodes.csv", path);
    if (!npath) return CS_ENOMEM;
    cs_atomic_file *fs = NULL, *fn = NULL;
    cs_status st;
    if ((st = cs_atomic_open(path, &fs)) || (st = cs_atomic_open(npath, &fn))) goto fail;
    FILE *o = cs_atomic_stream(fn);
    fprintf(o, "node,lon,lat,osm_id\n");
    for (uint32_t i = 0; i < n->n_nodes; i++) {
        fprintf(o, "%u,%.7f,%.7f,", i, n->lon_deg[i], n->lat_deg[i]);
        if (n->osm_node_id && n->osm_node_id[i] != CS_NO_OSM_ID) fprintf(o, "%lld", (long long)n->osm_node_id[i]);
        fputc('\n', o);
    }
    o = cs_atomic_stream(fs);
    fprintf(o, "segment,u,v,fwd_s,bwd_s,length_m,extra_s,mode,class,way_id,ext_id,wkt\n");
    for (uint32_t s = 0; s < n->n_segs; s++) {
        fprintf(o, "%u,%u,%u,", s, n->seg_u[s], n->seg_v[s]);
        if (n->seg_fwd_ms[s] != CS_NO_TIME) fprintf(o, "%.3f", n->seg_fwd_ms[s] / 1000.0);
        fputc(',', o);
        if (n->seg_bwd_ms[s] != CS_NO_TIME) fprintf(o, "%.3f", n->seg_bwd_ms[s] / 1000.0);
        fprintf(o, ",%.2f,%.3f,%s,%s,%lld,", n->seg_len_cm[s] / 100.0,
                n->seg_extra_ms ? n->seg_extra_ms[s] / 1000.0 : 0.0, mode_name(n->seg_mode[s]),
                n->seg_class[s] < n->n_classes ? n->class_names[n->seg_class[s]] : "", (long long)n->seg_way_id[s]);
        if (n->seg_ext_id && n->seg_ext_id[s]) {
            fputc('"', o);
            for (const char *c = n->seg_ext_id[s]; *c; c++) {
                if (*c == '"') fputc('"', o);
                fputc(*c, o);
            }
            fputc('"', o);
        }
        fprintf(o, ",\"LINESTRING (");
        for (uint64_t k = n->geom_off[s]; k < n->geom_off[s + 1]; k++)
            fprintf(o, "%s%.7f %.7f", k > n->geom_off[s] ? "," : "", n->geom_lon_deg[k], n->geom_lat_deg[k]);
        fprintf(o, ")\"\n");
    }
    if ((st = cs_atomic_commit(fn))) {
        fn = NULL;
        goto fail;
    }
    fn = NULL;
    st = cs_atomic_commit(fs);
    fs = NULL;
fail:
    cs_atomic_abort(fs);
    cs_atomic_abort(fn);
    cs_free(npath);
    return st;
}

static cs_status export_gpkg(const cs_network *n, const char *path)
{
    GDALAllRegister();
    GDALDriverH drv = GDALGetDriverByName("GPKG");
    if (!drv) return cs_error_set(CS_EDEPENDENCY, "GDAL has no GPKG driver");
    char *tmp = cs_asprintf("%s.tmp%ld.gpkg", path, (long)getpid());
    if (!tmp) return CS_ENOMEM;
    unlink(tmp);
    cs_status st = CS_OK;
    OGRSpatialReferenceH wgs = OSRNewSpatialReference(NULL);
    OSRSetWellKnownGeogCS(wgs, "WGS84");
    OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
    CPLErrorReset();
    GDALDatasetH ds = GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, NULL);
    OGRLayerH ln = ds ? GDALDatasetCreateLayer(ds, "nodes", wgs, wkbPoint, NULL) : NULL;
    OGRLayerH ls = ds ? GDALDatasetCreateLayer(ds, "segments", wgs, wkbLineString, NULL) : NULL;
    if (!ln || !ls) {
        st = cs_error_set_at(CS_EIO, path, 0, 0, "cannot create GeoPackage: %s", CPLGetLastErrorMsg());
        goto done;
    }
    {
        struct {
            OGRLayerH l;
            const char *name;
            OGRFieldType t;
        } F[] = {{ln, "node", OFTInteger64}, {ln, "osm_id", OFTInteger64}, {ls, "segment", OFTInteger64},
                 {ls, "u", OFTInteger64},     {ls, "v", OFTInteger64},      {ls, "fwd_s", OFTReal},
                 {ls, "bwd_s", OFTReal},      {ls, "length_m", OFTReal},    {ls, "extra_s", OFTReal},
                 {ls, "mode", OFTString},     {ls, "class", OFTString},     {ls, "way_id", OFTInteger64},
                 {ls, "ext_id", OFTString}};
        for (size_t i = 0; i < sizeof F / sizeof *F; i++) {
            OGRFieldDefnH d = OGR_Fld_Create(F[i].name, F[i].t);
            OGRErr e = OGR_L_CreateField(F[i].l, d, 1);
            OGR_Fld_Destroy(d);
            if (e != OGRERR_NONE) {
                st = cs_error_set_at(CS_EIO, path, 0, 0, "cannot create field %s: %s", F[i].name, CPLGetLastErrorMsg());
                goto done;
            }
        }
    }
    GDALDatasetStartTransaction(ds, 0);
    for (uint32_t i = 0; i < n->n_nodes && !st; i++) {
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(ln));
        OGR_F_SetFieldInteger64(f, 0, i);
        if (n->osm_node_id && n->osm_node_id[i] != CS_NO_OSM_ID) OGR_F_SetFieldInteger64(f, 1, n->osm_node_id[i]);
        OGRGeometryH g = OGR_G_CreateGeometry(wkbPoint);
        OGR_G_SetPoint_2D(g, 0, n->lon_deg[i], n->lat_deg[i]);
        OGR_F_SetGeometryDirectly(f, g);
        if (OGR_L_CreateFeature(ln, f) != OGRERR_NONE)
            st = cs_error_set_at(CS_EIO, path, 0, 0, "writing node %u: %s", i, CPLGetLastErrorMsg());
        OGR_F_Destroy(f);
    }
    for (uint32_t s = 0; s < n->n_segs && !st; s++) {
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(ls));
        OGR_F_SetFieldInteger64(f, 0, s);
        OGR_F_SetFieldInteger64(f, 1, n->seg_u[s]);
        OGR_F_SetFieldInteger64(f, 2, n->seg_v[s]);
        if (n->seg_fwd_ms[s] != CS_NO_TIME) OGR_F_SetFieldDouble(f, 3, n->seg_fwd_ms[s] / 1000.0);
        if (n->seg_bwd_ms[s] != CS_NO_TIME) OGR_F_SetFieldDouble(f, 4, n->seg_bwd_ms[s] / 1000.0);
        OGR_F_SetFieldDouble(f, 5, n->seg_len_cm[s] / 100.0);
        OGR_F_SetFieldDouble(f, 6, n->seg_extra_ms ? n->seg_extra_ms[s] / 1000.0 : 0.0);
        OGR_F_SetFieldString(f, 7, mode_name(n->seg_mode[s]));
        OGR_F_SetFieldString(f, 8, n->seg_class[s] < n->n_classes ? n->class_names[n->seg_class[s]] : "");
        OGR_F_SetFieldInteger64(f, 9, n->seg_way_id[s]);
        if (n->seg_ext_id && n->seg_ext_id[s]) OGR_F_SetFieldString(f, 10, n->seg_ext_id[s]);
        OGRGeometryH g = OGR_G_CreateGeometry(wkbLineString);
        for (uint64_t k = n->geom_off[s]; k < n->geom_off[s + 1]; k++)
            OGR_G_AddPoint_2D(g, n->geom_lon_deg[k], n->geom_lat_deg[k]);
        OGR_F_SetGeometryDirectly(f, g);
        if (OGR_L_CreateFeature(ls, f) != OGRERR_NONE)
            st = cs_error_set_at(CS_EIO, path, 0, 0, "writing segment %u: %s", s, CPLGetLastErrorMsg());
        OGR_F_Destroy(f);
    }
    if (!st && GDALDatasetCommitTransaction(ds) != OGRERR_NONE)
        st = cs_error_set_at(CS_EIO, path, 0, 0, "GeoPackage commit failed: %s", CPLGetLastErrorMsg());
done:
    if (ds) GDALClose(ds);
    OSRDestroySpatialReference(wgs);
    if (!st && rename(tmp, path) != 0) st = cs_error_set_at(CS_EIO, path, 0, 0, "cannot rename the GeoPackage into place");
    if (st) unlink(tmp);
    cs_free(tmp);
    return st;
}

cs_status cs_network_export(const cs_network *n, const char *path)
{
    if (!n || !path) return cs_error_set(CS_EINVAL, "cs_network_export: NULL argument");
    size_t len = strlen(path);
    if (len > 5 && !strcasecmp(path + len - 5, ".gpkg")) return export_gpkg(n, path);
    if (len > 4 && !strcasecmp(path + len - 4, ".csv")) return export_csv(n, path);
    return cs_error_set(CS_EINVAL, "export: '%s': use a .gpkg or .csv file name", path);
}

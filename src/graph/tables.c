/*
 * tables.c: networks from node and edge tables (CSV, optionally gzipped,
 * read through GDAL's CSV driver with every field as text), e.g. the
 * Trans-African network of Krantz (2024).
 */
#include <ctype.h>
#include <errno.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <cpl_error.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "citysys/alloc.h"
#include "citysys/fileio.h"
#include "netimport_internal.h"

int cs__parse_direction(const char *s)
{
    if (!s) return 0;
    while (isspace((unsigned char)*s)) s++;
    char b[32];
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n >= sizeof b) return -1;
    for (size_t i = 0; i < n; i++) b[i] = (char)tolower((unsigned char)s[i]);
    b[n] = 0;
    static const char *both[] = {"", "0", "no", "false", "both", "b", "2way", NULL};
    static const char *fwd[] = {"1", "yes", "true", "f", "ft", "forward", "oneway", NULL};
    static const char *bwd[] = {"-1", "t", "tf", "backward", "reverse", NULL};
    static const char *none[] = {"n", "none", "closed", NULL};
    for (int i = 0; both[i]; i++)
        if (!strcmp(b, both[i])) return 0;
    for (int i = 0; fwd[i]; i++)
        if (!strcmp(b, fwd[i])) return 1;
    for (int i = 0; bwd[i]; i++)
        if (!strcmp(b, bwd[i])) return 2;
    for (int i = 0; none[i]; i++)
        if (!strcmp(b, none[i])) return 3;
    return -1;
}

int cs__parse_num(const char *s, double *v)
{
    if (!s) {
        *v = NAN;
        return 0;
    }
    while (isspace((unsigned char)*s)) s++;
    if (!*s || !strcasecmp(s, "NA") || !strcasecmp(s, "nan") || !strcasecmp(s, "null")) {
        *v = NAN;
        return 0;
    }
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    while (isspace((unsigned char)*end)) end++;
    if (end == s || *end || errno == ERANGE) return -1;
    *v = d;
    return 0;
}

cs_status cs__ogr_open(const char *path, const char *const *drivers, void **ds)
{
    GDALAllRegister();
    size_t n = strlen(path);
    char *p = (n > 3 && !strcasecmp(path + n - 3, ".gz") && strncmp(path, "/vsi", 4)) ? cs_asprintf("/vsigzip/%s", path)
                                                                                       : cs_strdup(path);
    if (!p) return CS_ENOMEM;
    CPLErrorReset();
    GDALDatasetH h = GDALOpenEx(p, GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, NULL, NULL);
    cs_free(p);
    if (!h) {
        const char *m = CPLGetLastErrorMsg();
        return cs_error_set_at(CS_EIO, path, 0, 0, "cannot open as a vector dataset%s%s", m && *m ? ": " : "",
                               m ? m : "");
    }
    *ds = h;
    return CS_OK;
}

void cs_table_opts_default(cs_table_opts *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->node_lon = "lon";
    o->node_lat = "lat";
    o->edge_from = "from";
    o->edge_to = "to";
    o->edge_time = "duration";
    o->time_unit_s = 60;
    o->edge_extra = "border_time";
    o->edge_length = "distance";
    o->edge_proposed = "add";
    o->include_extra = 1;
}

static int field(OGRFeatureDefnH fd, const char *name, const char *file, cs_status *st)
{
    if (!name) return -1;
    int i = OGR_FD_GetFieldIndex(fd, name);
    if (i < 0) *st = cs_error_set_at(CS_ENOTFOUND, file, 1, 0, "column '%s' not found", name);
    return i;
}

typedef struct {
    const char *id;
    uint32_t row;
} idrow;

static int cmp_idrow(const void *a, const void *b) { return strcmp(((const idrow *)a)->id, ((const idrow *)b)->id); }

static int parse_bool(const char *s)
{
    if (!s) return 0;
    return !strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes") || !strcasecmp(s, "t");
}

static cs_status ms_of(double v, double unit_s, uint32_t *ms, const char *file, long line, const char *col)
{
    double x = llround(v * unit_s * 1000.0);
    if (!(v >= 0) || x >= (double)CS_NO_TIME)
        return cs_error_set_at(CS_EPARSE, file, line, 0, "%s: time %g out of range", col, v);
    *ms = (uint32_t)x;
    return CS_OK;
}

cs_status cs_network_from_tables(const char *nodes_path, const char *edges_path, const cs_table_opts *opts,
                                 cs_network **out)
{
    if (!nodes_path || !edges_path || !out) return cs_error_set(CS_EINVAL, "cs_network_from_tables: NULL argument");
    cs_table_opts def;
    if (!opts) {
        cs_table_opts_default(&def);
        opts = &def;
    }
    if (!opts->edge_from || !opts->edge_to || !opts->edge_time || !opts->node_lon || !opts->node_lat ||
        !(opts->time_unit_s > 0))
        return cs_error_set(CS_EINVAL, "table options: from, to, time, lon, lat columns and a time unit are needed");
    const char *drv[] = {"CSV", NULL};
    GDALDatasetH dn = NULL, de = NULL;
    cs_network *net = NULL;
    char **ids = NULL;
    idrow *map = NULL;
    size_t nmap = 0, cap_ids = 0;
    cs_status st;
    if ((st = cs__ogr_open(nodes_path, drv, (void **)&dn))) goto done;
    if ((st = cs__ogr_open(edges_path, drv, (void **)&de))) goto done;
    if ((st = cs_network_new(&net))) goto done;
    {
        const char *road = "road";
        if ((st = cs_network_set_classes(net, &road, 1))) goto done;
    }
    /* nodes */
    {
        OGRLayerH L = GDALDatasetGetLayer(dn, 0);
        OGRFeatureDefnH fd = OGR_L_GetLayerDefn(L);
        int ilon = field(fd, opts->node_lon, nodes_path, &st), ilat = field(fd, opts->node_lat, nodes_path, &st);
        int iid = opts->node_id ? field(fd, opts->node_id, nodes_path, &st) : -1;
        if (st) goto done;
        OGR_L_ResetReading(L);
        OGRFeatureH f;
        long line = 1;
        while ((f = OGR_L_GetNextFeature(L))) {
            line++;
            double lon, lat;
            if (cs__parse_num(OGR_F_GetFieldAsString(f, ilon), &lon) ||
                cs__parse_num(OGR_F_GetFieldAsString(f, ilat), &lat) || !isfinite(lon) || !isfinite(lat)) {
                OGR_F_Destroy(f);
                st = cs_error_set_at(CS_EPARSE, nodes_path, line, 0, "node coordinates: expected numbers");
                goto done;
            }
            if (iid >= 0) {
                if (nmap == cap_ids) {
                    size_t c = cap_ids ? cap_ids * 2 : 1024;
                    idrow *q = cs_reallocarray(map, c, sizeof *q);
                    char **q2 = q ? cs_reallocarray(ids, c, sizeof *q2) : NULL;
                    if (q) map = q;
                    if (q2) ids = q2;
                    if (!q || !q2) {
                        OGR_F_Destroy(f);
                        st = CS_ENOMEM;
                        goto done;
                    }
                    cap_ids = c;
                }
                ids[nmap] = cs_strdup(OGR_F_GetFieldAsString(f, iid));
                if (!ids[nmap]) {
                    OGR_F_Destroy(f);
                    st = CS_ENOMEM;
                    goto done;
                }
                map[nmap].id = ids[nmap];
                map[nmap].row = (uint32_t)nmap;
                nmap++;
            }
            OGR_F_Destroy(f);
            if ((st = cs_network_add_node(net, lon, lat, CS_NO_OSM_ID, NULL))) {
                cs_error_set_at(st, nodes_path, line, 0, "%s", cs_error_last()->message);
                goto done;
            }
        }
        if (iid >= 0) {
            qsort(map, nmap, sizeof *map, cmp_idrow);
            for (size_t i = 1; i < nmap; i++)
                if (!strcmp(map[i].id, map[i - 1].id)) {
                    st = cs_error_set_at(CS_EPARSE, nodes_path, 0, 0, "duplicate node id '%s'", map[i].id);
                    goto done;
                }
        }
    }
    /* edges */
    {
        OGRLayerH L = GDALDatasetGetLayer(de, 0);
        OGRFeatureDefnH fd = OGR_L_GetLayerDefn(L);
        int ifrom = field(fd, opts->edge_from, edges_path, &st), ito = field(fd, opts->edge_to, edges_path, &st);
        int itime = field(fd, opts->edge_time, edges_path, &st);
        int iextra = opts->edge_extra ? field(fd, opts->edge_extra, edges_path, &st) : -1;
        int ilen = opts->edge_length ? field(fd, opts->edge_length, edges_path, &st) : -1;
        int iadd = opts->edge_proposed ? field(fd, opts->edge_proposed, edges_path, &st) : -1;
        int iid = opts->edge_id ? field(fd, opts->edge_id, edges_path, &st) : -1;
        int idir = opts->edge_oneway ? field(fd, opts->edge_oneway, edges_path, &st) : -1;
        if (st) goto done;
        OGR_L_ResetReading(L);
        OGRFeatureH f;
        long line = 1, row = 0;
        while ((f = OGR_L_GetNextFeature(L))) {
            line++;
            row++;
            uint32_t uv[2];
            int ends[2] = {ifrom, ito};
            for (int e = 0; e < 2; e++) {
                const char *s = OGR_F_GetFieldAsString(f, ends[e]);
                if (opts->node_id) {
                    idrow key = {s, 0};
                    idrow *hit = bsearch(&key, map, nmap, sizeof *map, cmp_idrow);
                    uv[e] = hit ? hit->row : CS_INVALID_ID;
                } else {
                    double v;
                    uv[e] = (!cs__parse_num(s, &v) && v >= 1 && v <= net->n_nodes && v == floor(v)) ? (uint32_t)v - 1
                                                                                                  : CS_INVALID_ID;
                }
                if (uv[e] == CS_INVALID_ID) {
                    st = cs_error_set_at(CS_EPARSE, edges_path, line, ends[e] + 1, "%s: unknown node '%s'",
                                         e ? opts->edge_to : opts->edge_from, s);
                    OGR_F_Destroy(f);
                    goto done;
                }
            }
            double t = NAN, x = 0, len = NAN;
            int bad = cs__parse_num(OGR_F_GetFieldAsString(f, itime), &t);
            if (iextra >= 0) bad |= cs__parse_num(OGR_F_GetFieldAsString(f, iextra), &x);
            if (ilen >= 0) bad |= cs__parse_num(OGR_F_GetFieldAsString(f, ilen), &len);
            int proposed = iadd >= 0 && parse_bool(OGR_F_GetFieldAsString(f, iadd));
            int dir = idir >= 0 ? cs__parse_direction(OGR_F_GetFieldAsString(f, idir)) : 0;
            char rowbuf[32];
            snprintf(rowbuf, sizeof rowbuf, "%ld", row);
            char *eid = cs_strdup(iid >= 0 ? OGR_F_GetFieldAsString(f, iid) : rowbuf);
            OGR_F_Destroy(f);
            if (!eid) {
                st = CS_ENOMEM;
                goto done;
            }
            if (bad || dir < 0) {
                cs_free(eid);
                st = cs_error_set_at(CS_EPARSE, edges_path, line, 0, "edge %s: %s", rowbuf,
                                     dir < 0 ? "direction value not understood" : "expected numbers (time, extra, length)");
                goto done;
            }
            if (isnan(x)) x = 0;
            uint32_t a = uv[0], b = uv[1];
            double lenm = isnan(len) ? cs_geodesic_m(net->lon_deg[a], net->lat_deg[a], net->lon_deg[b], net->lat_deg[b])
                                     : len;
            uint32_t len_cm = lenm >= 0 && lenm * 100 < (double)UINT32_MAX ? (uint32_t)llround(lenm * 100) : UINT32_MAX;
            uint32_t t_ms = CS_NO_TIME, x_ms = 0;
            if (!isnan(t) && (st = ms_of(t, opts->time_unit_s, &t_ms, edges_path, line, opts->edge_time))) {
                cs_free(eid);
                goto done;
            }
            if ((st = ms_of(x, opts->time_unit_s, &x_ms, edges_path, line, opts->edge_extra ? opts->edge_extra : "extra"))) {
                cs_free(eid);
                goto done;
            }
            uint32_t tot = CS_NO_TIME;
            if (t_ms != CS_NO_TIME) {
                uint64_t s64 = (uint64_t)t_ms + (opts->include_extra ? x_ms : 0);
                if (s64 >= CS_NO_TIME) {
                    cs_free(eid);
                    st = cs_error_set_at(CS_EPARSE, edges_path, line, 0, "time overflows 32-bit ms");
                    goto done;
                }
                tot = (uint32_t)s64;
            }
            uint32_t fw = (dir == 0 || dir == 1) ? tot : CS_NO_TIME, bw = (dir == 0 || dir == 2) ? tot : CS_NO_TIME;
            if (proposed) {
                st = cs_network_add_proposed(net, a, b, fw, bw, len_cm, x_ms, eid);
            } else if (dir == 3) {
                st = CS_OK; /* closed edge: not part of the network */
            } else if (t_ms == CS_NO_TIME) {
                st = cs_error_set_at(CS_EPARSE, edges_path, line, itime + 1, "%s: base edge %s has no time",
                                     opts->edge_time, eid);
            } else {
                double glon[2] = {net->lon_deg[a], net->lon_deg[b]}, glat[2] = {net->lat_deg[a], net->lat_deg[b]};
                st = cs_network_add_segment(net, a, b, fw, bw, len_cm, CS_SEG_ROAD, 0, row, glon, glat, 2);
                if (!st) st = cs_network_set_ext_id(net, net->n_segs - 1, eid);
                if (!st && iextra >= 0 && opts->include_extra) st = cs_network_set_extra(net, net->n_segs - 1, x_ms);
            }
            cs_free(eid);
            if (st) goto done;
        }
    }
    {
        cs_sha256 s;
        cs_sha256_init(&s);
        cs_sha256_str(&s, "citysys-network-tables-v1");
        if ((st = cs_sha256_file(&s, nodes_path)) || (st = cs_sha256_file(&s, edges_path))) goto done;
        const char *o[] = {opts->node_id, opts->node_lon, opts->node_lat, opts->edge_id, opts->edge_from, opts->edge_to,
                           opts->edge_time, opts->edge_extra, opts->edge_length, opts->edge_proposed, opts->edge_oneway};
        for (size_t i = 0; i < sizeof o / sizeof *o; i++) cs_sha256_str(&s, o[i] ? o[i] : "(null)");
        char buf[64];
        snprintf(buf, sizeof buf, "%.17g/%d", opts->time_unit_s, opts->include_extra);
        cs_sha256_str(&s, buf);
        cs_sha256_hex(&s, net->fingerprint);
    }
    st = CS_OK;
done:
    if (dn) GDALClose(dn);
    if (de) GDALClose(de);
    for (size_t i = 0; i < nmap; i++) cs_free(ids[i]);
    cs_free(ids);
    cs_free(map);
    if (st) cs_network_free(net);
    else *out = net;
    return st;
}

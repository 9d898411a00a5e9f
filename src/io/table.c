/* table.c: generic typed attribute tables and their writers (GeoPackage / GeoJSON through OGR, CSV own). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include "citysys/fileio.h"
#include "citysys/table.h"
#include "io/io_internal.h"

typedef struct tcol {
    char *name;
    cs_column_type type;
    double *d;
    int64_t *i;
    uint8_t *null;
    char **s;
} tcol;

struct cs_table {
    size_t n, ncols;
    tcol *cols;
    cs_geometry_type gt;
    double *x, *y; /* points: n each; lines/polygons: off[n] vertices */
    size_t *off;   /* n+1 */
    char **wkt;
};

cs_status cs_table_new(size_t nrows, cs_table **out)
{
    *out = NULL;
    cs_table *t = cs_calloc(1, sizeof *t);
    if (!t) return CS_ENOMEM;
    t->n = nrows;
    *out = t;
    return CS_OK;
}

static void free_strv(char **s, size_t n)
{
    if (!s) return;
    for (size_t i = 0; i < n; i++) cs_free(s[i]);
    cs_free(s);
}

static void col_free(tcol *c, size_t n)
{
    cs_free(c->name);
    cs_free(c->d);
    cs_free(c->i);
    cs_free(c->null);
    free_strv(c->s, n);
}

static void geom_clear(cs_table *t)
{
    cs_free(t->x);
    cs_free(t->y);
    cs_free(t->off);
    free_strv(t->wkt, t->n);
    t->x = t->y = NULL;
    t->off = NULL;
    t->wkt = NULL;
    t->gt = CS_GEOM_NONE;
}

void cs_table_free(cs_table *t)
{
    if (!t) return;
    for (size_t k = 0; k < t->ncols; k++) col_free(&t->cols[k], t->n);
    cs_free(t->cols);
    geom_clear(t);
    cs_free(t);
}

size_t cs_table_rows(const cs_table *t) { return t ? t->n : 0; }
size_t cs_table_cols(const cs_table *t) { return t ? t->ncols : 0; }
const char *cs_table_col_name(const cs_table *t, size_t i) { return t && i < t->ncols ? t->cols[i].name : NULL; }
cs_column_type cs_table_col_type(const cs_table *t, size_t i)
{
    return t && i < t->ncols ? t->cols[i].type : CS_COLUMN_STRING;
}

static cs_status push_col(cs_table *t, const char *name, tcol *c)
{
    if (!name || !*name) return cs_error_set(CS_EINVAL, "table column without a name");
    for (size_t k = 0; k < t->ncols; k++)
        if (io_strieq(t->cols[k].name, name)) return cs_error_set(CS_EINVAL, "duplicate table column '%s'", name);
    tcol *nc = cs_reallocarray(t->cols, t->ncols + 1, sizeof *nc);
    if (!nc) return CS_ENOMEM;
    t->cols = nc;
    c->name = cs_strdup(name);
    if (!c->name) return CS_ENOMEM;
    t->cols[t->ncols++] = *c;
    return CS_OK;
}

cs_status cs_table_add_real(cs_table *t, const char *name, const double *v)
{
    tcol c = {0};
    c.type = CS_COLUMN_REAL;
    c.d = cs_mallocarray(t->n ? t->n : 1, sizeof *c.d);
    if (!c.d) return CS_ENOMEM;
    if (t->n) memcpy(c.d, v, t->n * sizeof *c.d);
    cs_status st = push_col(t, name, &c);
    if (st) col_free(&c, t->n);
    return st;
}

cs_status cs_table_add_integer(cs_table *t, const char *name, const int64_t *v, const uint8_t *is_null)
{
    tcol c = {0};
    c.type = CS_COLUMN_INTEGER;
    c.i = cs_mallocarray(t->n ? t->n : 1, sizeof *c.i);
    c.null = cs_calloc(t->n ? t->n : 1, 1);
    if (!c.i || !c.null) {
        col_free(&c, t->n);
        return CS_ENOMEM;
    }
    if (t->n) memcpy(c.i, v, t->n * sizeof *c.i);
    if (is_null && t->n) memcpy(c.null, is_null, t->n);
    cs_status st = push_col(t, name, &c);
    if (st) col_free(&c, t->n);
    return st;
}

cs_status cs_table_add_string(cs_table *t, const char *name, const char *const *v)
{
    tcol c = {0};
    c.type = CS_COLUMN_STRING;
    c.s = cs_calloc(t->n ? t->n : 1, sizeof *c.s);
    if (!c.s) return CS_ENOMEM;
    for (size_t r = 0; r < t->n; r++)
        if (v[r] && !(c.s[r] = cs_strdup(v[r]))) {
            col_free(&c, t->n);
            return CS_ENOMEM;
        }
    cs_status st = push_col(t, name, &c);
    if (st) col_free(&c, t->n);
    return st;
}

/* 0 = not a number, 1 = integer, 2 = real. Leading zeros ("007", "00.5") keep it text. */
static int classify(const char *s, int64_t *iv, double *dv)
{
    const char *p = s;
    if (*p == '-' || *p == '+') p++;
    if (p[0] == '0' && p[1] >= '0' && p[1] <= '9') return 0;
    if (!*p) return 0;
    int digits_only = 1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9') digits_only = 0;
    char *e;
    if (digits_only && strlen(p) <= 18) {
        errno = 0;
        long long v = strtoll(s, &e, 10);
        if (!*e && !errno) {
            *iv = v;
            *dv = (double)v;
            return 1;
        }
    }
    /* plain decimal/exponent notation only (no "inf", "nan", hex) */
    for (const char *q = p; *q; q++)
        if (!((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' || *q == '-' || *q == '+')) return 0;
    double d = strtod(s, &e);
    if (*e || !isfinite(d)) return 0;
    *dv = d;
    return 2;
}

cs_status cs_table_add_text(cs_table *t, const char *name, const char *const *v)
{
    int kind = 1, any = 0; /* 1 integer, 2 real, 0 text */
    for (size_t r = 0; r < t->n && kind; r++) {
        if (!v[r] || !*v[r]) continue;
        any = 1;
        int64_t iv;
        double dv;
        int k = classify(v[r], &iv, &dv);
        if (k == 0) kind = 0;
        else if (k == 2) kind = 2;
    }
    if (!any || kind == 0) return cs_table_add_string(t, name, v);
    tcol c = {0};
    c.type = kind == 1 ? CS_COLUMN_INTEGER : CS_COLUMN_REAL;
    if (kind == 1) {
        c.i = cs_mallocarray(t->n ? t->n : 1, sizeof *c.i);
        c.null = cs_calloc(t->n ? t->n : 1, 1);
        if (!c.i || !c.null) {
            col_free(&c, t->n);
            return CS_ENOMEM;
        }
    } else if (!(c.d = cs_mallocarray(t->n ? t->n : 1, sizeof *c.d))) {
        return CS_ENOMEM;
    }
    for (size_t r = 0; r < t->n; r++) {
        int64_t iv = 0;
        double dv = NAN;
        int k = (v[r] && *v[r]) ? classify(v[r], &iv, &dv) : 0;
        if (kind == 1) {
            c.i[r] = iv;
            c.null[r] = k == 0;
        } else {
            c.d[r] = k ? dv : NAN;
        }
    }
    cs_status st = push_col(t, name, &c);
    if (st) col_free(&c, t->n);
    return st;
}

cs_status cs_table_set_points(cs_table *t, const double *lon, const double *lat)
{
    double *x = cs_mallocarray(t->n ? t->n : 1, sizeof *x), *y = cs_mallocarray(t->n ? t->n : 1, sizeof *y);
    if (!x || !y) {
        cs_free(x);
        cs_free(y);
        return CS_ENOMEM;
    }
    if (t->n) {
        memcpy(x, lon, t->n * sizeof *x);
        memcpy(y, lat, t->n * sizeof *y);
    }
    geom_clear(t);
    t->gt = CS_GEOM_POINT;
    t->x = x;
    t->y = y;
    return CS_OK;
}

static cs_status set_vertices(cs_table *t, cs_geometry_type gt, const size_t *off, const double *lon, const double *lat)
{
    for (size_t r = 0; r < t->n; r++)
        if (off[r + 1] < off[r]) return cs_error_set(CS_EINVAL, "geometry offsets decrease at row %zu", r);
    size_t nv = off[t->n] - off[0];
    size_t *o = cs_mallocarray(t->n + 1, sizeof *o);
    double *x = cs_mallocarray(nv ? nv : 1, sizeof *x), *y = cs_mallocarray(nv ? nv : 1, sizeof *y);
    if (!o || !x || !y) {
        cs_free(o);
        cs_free(x);
        cs_free(y);
        return CS_ENOMEM;
    }
    for (size_t r = 0; r <= t->n; r++) o[r] = off[r] - off[0];
    if (nv) {
        memcpy(x, lon + off[0], nv * sizeof *x);
        memcpy(y, lat + off[0], nv * sizeof *y);
    }
    geom_clear(t);
    t->gt = gt;
    t->off = o;
    t->x = x;
    t->y = y;
    return CS_OK;
}

cs_status cs_table_set_lines(cs_table *t, const size_t *off, const double *lon, const double *lat)
{
    return set_vertices(t, CS_GEOM_LINESTRING, off, lon, lat);
}

cs_status cs_table_set_polygons(cs_table *t, const size_t *off, const double *lon, const double *lat)
{
    return set_vertices(t, CS_GEOM_POLYGON, off, lon, lat);
}

cs_status cs_table_set_wkt(cs_table *t, const char *const *wkt)
{
    char **w = cs_calloc(t->n ? t->n : 1, sizeof *w);
    if (!w) return CS_ENOMEM;
    for (size_t r = 0; r < t->n; r++)
        if (wkt[r] && *wkt[r] && !(w[r] = cs_strdup(wkt[r]))) {
            free_strv(w, t->n);
            return CS_ENOMEM;
        }
    geom_clear(t);
    t->gt = CS_GEOM_WKT;
    t->wkt = w;
    return CS_OK;
}

cs_vector_format cs_vector_format_from_path(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot) return CS_FORMAT_AUTO;
    if (io_strieq(dot, ".gpkg")) return CS_FORMAT_GPKG;
    if (io_strieq(dot, ".geojson") || io_strieq(dot, ".json")) return CS_FORMAT_GEOJSON;
    if (io_strieq(dot, ".csv")) return CS_FORMAT_CSV;
    return CS_FORMAT_AUTO;
}

/* ---- WKT text for CSV ---- */
static cs_status put_coord(io_buf *b, double x, double y)
{
    char a[40], c[40];
    io_fmt_double(x, a, sizeof a);
    io_fmt_double(y, c, sizeof c);
    return io_buf_printf(b, "%s %s", a, c);
}

static cs_status row_wkt(const cs_table *t, size_t r, io_buf *b)
{
    cs_status st = CS_OK;
    switch (t->gt) {
    case CS_GEOM_POINT:
        if (isnan(t->x[r]) || isnan(t->y[r])) return CS_OK;
        if ((st = io_buf_puts(b, "POINT ("))) return st;
        if ((st = put_coord(b, t->x[r], t->y[r]))) return st;
        return io_buf_puts(b, ")");
    case CS_GEOM_LINESTRING:
    case CS_GEOM_POLYGON: {
        size_t a = t->off[r], e = t->off[r + 1];
        int poly = t->gt == CS_GEOM_POLYGON;
        if (e - a < (poly ? 3u : 2u)) return CS_OK;
        if ((st = io_buf_puts(b, poly ? "POLYGON ((" : "LINESTRING ("))) return st;
        for (size_t k = a; k < e && !st; k++) {
            if (k > a) st = io_buf_puts(b, ", ");
            if (!st) st = put_coord(b, t->x[k], t->y[k]);
        }
        if (!st && poly && (t->x[a] != t->x[e - 1] || t->y[a] != t->y[e - 1])) {
            st = io_buf_puts(b, ", ");
            if (!st) st = put_coord(b, t->x[a], t->y[a]);
        }
        if (!st) st = io_buf_puts(b, poly ? "))" : ")");
        return st;
    }
    case CS_GEOM_WKT: return t->wkt[r] ? io_buf_puts(b, t->wkt[r]) : CS_OK;
    default: return CS_OK;
    }
}

static cs_status cell_text(const cs_table *t, size_t k, size_t r, io_buf *b, char delim)
{
    const tcol *c = &t->cols[k];
    char num[48];
    switch (c->type) {
    case CS_COLUMN_REAL: io_fmt_double(c->d[r], num, sizeof num); return io_buf_puts(b, num);
    case CS_COLUMN_INTEGER:
        if (c->null[r]) return CS_OK;
        snprintf(num, sizeof num, "%lld", (long long)c->i[r]);
        return io_buf_puts(b, num);
    default: return c->s[r] ? io_buf_csv_field(b, c->s[r], delim) : CS_OK;
    }
}

static cs_status write_csv(const cs_table *t, const char *path)
{
    io_buf b = {0}, g = {0};
    cs_status st = CS_OK;
    int has_lonlat = 0;
    for (size_t k = 0; k < t->ncols; k++)
        if (io_strieq(t->cols[k].name, "lon") || io_strieq(t->cols[k].name, "lat")) has_lonlat = 1;
    int pts = t->gt == CS_GEOM_POINT && !has_lonlat;
    int wkt = t->gt != CS_GEOM_NONE && t->gt != CS_GEOM_POINT;
    for (size_t k = 0; k < t->ncols && !st; k++) {
        if (k) st = io_buf_put(&b, ",", 1);
        if (!st) st = io_buf_csv_field(&b, t->cols[k].name, ',');
    }
    const char *sep = t->ncols ? "," : "";
    if (!st && pts) st = io_buf_printf(&b, "%slon,lat", sep);
    if (!st && wkt) st = io_buf_printf(&b, "%swkt", sep);
    if (!st) st = io_buf_put(&b, "\n", 1);
    for (size_t r = 0; r < t->n && !st; r++) {
        for (size_t k = 0; k < t->ncols && !st; k++) {
            if (k) st = io_buf_put(&b, ",", 1);
            if (!st) st = cell_text(t, k, r, &b, ',');
        }
        if (!st && pts) {
            char a[40], c[40];
            io_fmt_double(t->x[r], a, sizeof a);
            io_fmt_double(t->y[r], c, sizeof c);
            st = io_buf_printf(&b, "%s%s,%s", sep, a, c);
        }
        if (!st && wkt) {
            g.n = 0;
            if (!(st = io_buf_puts(&b, sep)) && !(st = io_buf_put(&g, "", 0)) && !(st = row_wkt(t, r, &g)))
                st = io_buf_csv_field(&b, g.p, ',');
        }
        if (!st) st = io_buf_put(&b, "\n", 1);
    }
    if (!st) st = cs_write_file_atomic(path, b.p, b.n);
    cs_free(b.p);
    cs_free(g.p);
    return st;
}

/* ---- OGR ---- */
static OGRGeometryH row_geometry(const cs_table *t, size_t r, int *bad)
{
    *bad = 0;
    switch (t->gt) {
    case CS_GEOM_POINT: {
        if (isnan(t->x[r]) || isnan(t->y[r])) return NULL;
        OGRGeometryH g = OGR_G_CreateGeometry(wkbPoint);
        if (g) OGR_G_SetPoint_2D(g, 0, t->x[r], t->y[r]);
        else *bad = 1;
        return g;
    }
    case CS_GEOM_LINESTRING: {
        size_t a = t->off[r], e = t->off[r + 1];
        if (e - a < 2) return NULL;
        OGRGeometryH g = OGR_G_CreateGeometry(wkbLineString);
        if (!g) {
            *bad = 1;
            return NULL;
        }
        for (size_t k = a; k < e; k++) OGR_G_AddPoint_2D(g, t->x[k], t->y[k]);
        return g;
    }
    case CS_GEOM_POLYGON: {
        size_t a = t->off[r], e = t->off[r + 1];
        if (e - a < 3) return NULL;
        OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing), g = OGR_G_CreateGeometry(wkbPolygon);
        if (!ring || !g) {
            if (ring) OGR_G_DestroyGeometry(ring);
            if (g) OGR_G_DestroyGeometry(g);
            *bad = 1;
            return NULL;
        }
        for (size_t k = a; k < e; k++) OGR_G_AddPoint_2D(ring, t->x[k], t->y[k]);
        OGR_G_AddGeometryDirectly(g, ring);
        OGR_G_CloseRings(g);
        return g;
    }
    case CS_GEOM_WKT: {
        if (!t->wkt[r]) return NULL;
        char *p = t->wkt[r];
        OGRGeometryH g = NULL;
        if (OGR_G_CreateFromWkt(&p, NULL, &g) != OGRERR_NONE) {
            *bad = 2;
            return NULL;
        }
        return g;
    }
    default: return NULL;
    }
}

static cs_status write_layer(GDALDatasetH ds, const cs_table *t, const char *layer, const char *path, int gpkg)
{
    cs_status st = CS_OK;
    OGRSpatialReferenceH srs = NULL;
    OGRwkbGeometryType gtype = wkbNone;
    switch (t->gt) {
    case CS_GEOM_POINT: gtype = wkbPoint; break;
    case CS_GEOM_LINESTRING: gtype = wkbLineString; break;
    case CS_GEOM_POLYGON: gtype = wkbPolygon; break;
    case CS_GEOM_WKT: gtype = wkbUnknown; break;
    default: gtype = wkbNone;
    }
    if (gtype != wkbNone) {
        srs = OSRNewSpatialReference(NULL);
        if (!srs || OSRImportFromEPSG(srs, 4326) != OGRERR_NONE) {
            if (srs) OSRDestroySpatialReference(srs);
            return io_gdal_fail(CS_EDEPENDENCY, path, "cannot set up EPSG:4326 (PROJ database missing?)");
        }
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    }
    if (GDALDatasetGetLayerByName(ds, layer)) {
        if (srs) OSRDestroySpatialReference(srs);
        return cs_error_set_at(CS_EINVAL, path, 0, 0, "layer '%s' already exists", layer);
    }
    OGRLayerH L = GDALDatasetCreateLayer(ds, layer, srs, gtype, NULL);
    if (srs) OSRDestroySpatialReference(srs);
    if (!L) return io_gdal_fail(CS_EIO, path, "cannot create layer '%s'", layer);
    for (size_t k = 0; k < t->ncols; k++) {
        OGRFieldType ft = t->cols[k].type == CS_COLUMN_REAL ? OFTReal : t->cols[k].type == CS_COLUMN_INTEGER
                                                                           ? OFTInteger64
                                                                           : OFTString;
        OGRFieldDefnH fd = OGR_Fld_Create(t->cols[k].name, ft);
        OGRErr e = OGR_L_CreateField(L, fd, FALSE);
        OGR_Fld_Destroy(fd);
        if (e != OGRERR_NONE) return io_gdal_fail(CS_EIO, path, "layer %s: cannot create field '%s'", layer, t->cols[k].name);
    }
    int tx = gpkg && GDALDatasetStartTransaction(ds, FALSE) == OGRERR_NONE;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(L);
    for (size_t r = 0; r < t->n && !st; r++) {
        OGRFeatureH f = OGR_F_Create(defn);
        if (!f) {
            st = cs_error_set(CS_ENOMEM, "out of memory (GDAL feature)");
            break;
        }
        for (size_t k = 0; k < t->ncols; k++) {
            const tcol *c = &t->cols[k];
            int fi = (int)k;
            switch (c->type) {
            case CS_COLUMN_REAL:
                if (isfinite(c->d[r])) OGR_F_SetFieldDouble(f, fi, c->d[r]);
                else OGR_F_SetFieldNull(f, fi);
                break;
            case CS_COLUMN_INTEGER:
                if (c->null[r]) OGR_F_SetFieldNull(f, fi);
                else OGR_F_SetFieldInteger64(f, fi, (GIntBig)c->i[r]);
                break;
            default:
                if (c->s[r]) OGR_F_SetFieldString(f, fi, c->s[r]);
                else OGR_F_SetFieldNull(f, fi);
            }
        }
        int bad;
        OGRGeometryH g = row_geometry(t, r, &bad);
        if (bad == 2) st = cs_error_set_at(CS_EINVAL, path, 0, 0, "layer %s, row %zu: invalid WKT", layer, r + 1);
        else if (bad) st = cs_error_set(CS_ENOMEM, "out of memory (GDAL geometry)");
        if (g) OGR_F_SetGeometryDirectly(f, g);
        if (!st && OGR_L_CreateFeature(L, f) != OGRERR_NONE)
            st = io_gdal_fail(CS_EIO, path, "layer %s: cannot write row %zu", layer, r + 1);
        OGR_F_Destroy(f);
    }
    if (tx) {
        if (st) GDALDatasetRollbackTransaction(ds);
        else if (GDALDatasetCommitTransaction(ds) != OGRERR_NONE)
            st = io_gdal_fail(CS_EIO, path, "layer %s: cannot commit", layer);
    }
    return st;
}

static char *default_layer(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    return cs_strndup(b, dot && dot > b ? (size_t)(dot - b) : strlen(b));
}

static void fsync_path(const char *p)
{
    int fd = open(p, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Close a dataset and report whether GDAL signalled a failure while flushing it. */
static cs_status close_ds(GDALDatasetH ds, const char *path)
{
    CPLErrorReset();
    GDALClose(ds);
    if (CPLGetLastErrorType() >= CE_Failure) return io_gdal_fail(CS_EIO, path, "error while closing");
    return CS_OK;
}

struct cs_gpkg_writer {
    cs_atomic_file *af;
    GDALDatasetH ds;
    char *path;
};

static cs_status create_tmp(const char *path, const char *driver, cs_atomic_file **af, GDALDatasetH *ds)
{
    *ds = NULL;
    cs_status st = cs_atomic_open(path, af);
    if (st) return st;
    const char *tmp = cs_atomic_temp_path(*af);
    unlink(tmp); /* GDAL creates the file itself; the name stays reserved for us */
    GDALDriverH drv = GDALGetDriverByName(driver);
    if (!drv) {
        cs_atomic_abort(*af);
        *af = NULL;
        return cs_error_set(CS_EDEPENDENCY, "GDAL has no %s driver", driver);
    }
    *ds = GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, NULL);
    if (!*ds) {
        st = io_gdal_fail(CS_EIO, path, "cannot create %s file", driver);
        cs_atomic_abort(*af);
        *af = NULL;
    }
    return st;
}

cs_status cs_gpkg_begin(const char *path, cs_gpkg_writer **out)
{
    *out = NULL;
    cs_gpkg_writer *w = cs_calloc(1, sizeof *w);
    if (!w) return CS_ENOMEM;
    if (!(w->path = cs_strdup(path))) {
        cs_free(w);
        return CS_ENOMEM;
    }
    io_gdal_begin();
    cs_status st = create_tmp(path, "GPKG", &w->af, &w->ds);
    io_gdal_end();
    if (st) {
        cs_free(w->path);
        cs_free(w);
        return st;
    }
    *out = w;
    return CS_OK;
}

cs_status cs_gpkg_add(cs_gpkg_writer *w, const cs_table *t, const char *layer)
{
    if (!w || !t || !layer || !*layer) return cs_error_set(CS_EINVAL, "cs_gpkg_add: missing writer, table or layer");
    io_gdal_begin();
    cs_status st = write_layer(w->ds, t, layer, w->path, 1);
    io_gdal_end();
    return st;
}

cs_status cs_gpkg_copy_layers(cs_gpkg_writer *w, const char *src, const char *prefix, size_t *ncopied)
{
    if (ncopied) *ncopied = 0;
    if (!w || !src || !*src) return cs_error_set(CS_EINVAL, "cs_gpkg_copy_layers: missing writer or source");
    cs_status st = CS_OK;
    io_gdal_begin();
    GDALDatasetH in = GDALOpenEx(src, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!in) st = io_gdal_fail(CS_EIO, src, "cannot open the GeoPackage to copy its layers");
    int nl = in ? GDALDatasetGetLayerCount(in) : 0;
    for (int k = 0; !st && k < nl; k++) {
        OGRLayerH L = GDALDatasetGetLayer(in, k);
        const char *name = L ? OGR_L_GetName(L) : NULL;
        if (!name) continue;
        size_t pl = prefix ? strlen(prefix) : 0;
        char *out = pl && strncmp(name, prefix, pl) ? cs_asprintf("%s%s", prefix, name) : cs_strdup(name);
        if (!out) {
            st = CS_ENOMEM;
            break;
        }
        if (GDALDatasetGetLayerByName(w->ds, out))
            st = cs_error_set_at(CS_EINVAL, w->path, 0, 0, "layer '%s' (from %s) already exists", out, src);
        else if (!GDALDatasetCopyLayer(w->ds, L, out, NULL))
            st = io_gdal_fail(CS_EIO, w->path, "cannot copy layer '%s' of %s", name, src);
        else if (ncopied)
            (*ncopied)++;
        cs_free(out);
    }
    if (in) GDALClose(in);
    io_gdal_end();
    return st;
}

void cs_gpkg_abort(cs_gpkg_writer *w)
{
    if (!w) return;
    io_gdal_begin();
    if (w->ds) GDALClose(w->ds);
    io_gdal_end();
    cs_atomic_abort(w->af);
    cs_free(w->path);
    cs_free(w);
}

cs_status cs_gpkg_commit(cs_gpkg_writer *w)
{
    if (!w) return cs_error_set(CS_EINVAL, "cs_gpkg_commit: no writer");
    io_gdal_begin();
    cs_status st = close_ds(w->ds, w->path);
    io_gdal_end();
    w->ds = NULL;
    if (st) {
        cs_gpkg_abort(w);
        return st;
    }
    fsync_path(cs_atomic_temp_path(w->af));
    st = cs_atomic_commit(w->af);
    cs_free(w->path);
    cs_free(w);
    return st;
}

cs_status cs_table_write(const cs_table *t, const char *path, cs_vector_format fmt, const char *layer, unsigned flags)
{
    if (!t || !path || !*path) return cs_error_set(CS_EINVAL, "cs_table_write: missing table or path");
    if (fmt == CS_FORMAT_AUTO) fmt = cs_vector_format_from_path(path);
    if (fmt == CS_FORMAT_AUTO)
        return cs_error_set_at(CS_EINVAL, path, 0, 0, "unknown output format (use .gpkg, .geojson or .csv)");
    if ((flags & CS_TABLE_APPEND) && fmt != CS_FORMAT_GPKG)
        return cs_error_set_at(CS_EINVAL, path, 0, 0, "appending a layer is only possible to a GeoPackage");
    if (fmt == CS_FORMAT_CSV) return write_csv(t, path);
    char *lname = layer && *layer ? cs_strdup(layer) : default_layer(path);
    if (!lname) return CS_ENOMEM;
    cs_status st = CS_OK;
    io_gdal_begin();
    if (flags & CS_TABLE_APPEND) {
        struct stat sb;
        GDALDatasetH ds = NULL;
        if (stat(path, &sb) == 0) {
            ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_UPDATE, NULL, NULL, NULL);
            if (!ds) st = io_gdal_fail(CS_EIO, path, "cannot open the GeoPackage for update");
        } else {
            GDALDriverH drv = GDALGetDriverByName("GPKG");
            ds = drv ? GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL) : NULL;
            if (!ds) st = io_gdal_fail(CS_EIO, path, "cannot create GeoPackage");
        }
        if (ds) {
            st = write_layer(ds, t, lname, path, 1);
            cs_status c = close_ds(ds, path);
            if (!st) st = c;
        }
    } else {
        cs_atomic_file *af;
        GDALDatasetH ds;
        st = create_tmp(path, fmt == CS_FORMAT_GPKG ? "GPKG" : "GeoJSON", &af, &ds);
        if (!st) {
            st = write_layer(ds, t, lname, path, fmt == CS_FORMAT_GPKG);
            cs_status c = close_ds(ds, path);
            if (!st) st = c;
            if (st) cs_atomic_abort(af);
            else {
                fsync_path(cs_atomic_temp_path(af));
                st = cs_atomic_commit(af);
            }
        }
    }
    io_gdal_end();
    cs_free(lname);
    return st;
}

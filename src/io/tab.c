/* tab.c: raw attribute tables from CSV (own tokenizer) or any OGR layer. */
#include <errno.h>
#include <iconv.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include "citysys/fileio.h"
#include "io/csv.h"
#include "io/io_internal.h"

void io_tab_free(io_tab *t)
{
    if (!t) return;
    cs_free(t->path);
    cs_free(t->layer);
    for (size_t c = 0; c < t->ncols && t->names; c++) cs_free(t->names[c]);
    cs_free(t->names);
    cs_free(t->cell);
    cs_free(t->cell_line);
    cs_free(t->row_ref);
    cs_free(t->col_ogr_type);
    cs_free(t->gx);
    cs_free(t->gy);
    if (t->geom_problem)
        for (size_t r = 0; r < t->nrows; r++) cs_free(t->geom_problem[r]);
    cs_free(t->geom_problem);
    cs_free(t->arena);
    cs_free(t);
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && io_strieq(s + a - b, suf);
}

int io_is_csv_path(const char *path)
{
    return ends_with(path, ".csv") || ends_with(path, ".tsv") || ends_with(path, ".txt") ||
           ends_with(path, ".csv.gz") || ends_with(path, ".tsv.gz") || ends_with(path, ".txt.gz");
}

long io_tab_col(const io_tab *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (io_strieq(t->names[c], name)) return (long)c;
    return -1;
}

void io_tab_where(const io_tab *t, size_t r, char *buf, size_t n)
{
    if (t->is_csv) snprintf(buf, n, "line %ld", t->row_ref[r]);
    else snprintf(buf, n, "feature %ld", t->row_ref[r]);
}

cs_status io_tab_report(const io_tab *t, io_report *rep, cs_severity sev, size_t r, long c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cs_status st;
    if (t->is_csv) {
        long line = c >= 0 ? t->cell_line[r * t->ncols + (size_t)c] : t->row_ref[r];
        st = io_report_vadd(rep, sev, t->path, line, c >= 0 ? c + 1 : 0, "", fmt, ap);
    } else {
        char obj[256];
        if (c >= 0)
            snprintf(obj, sizeof obj, "layer %s, feature %ld, field %s", t->layer ? t->layer : "?", t->row_ref[r],
                     t->names[c]);
        else
            snprintf(obj, sizeof obj, "layer %s, feature %ld", t->layer ? t->layer : "?", t->row_ref[r]);
        st = io_report_vadd(rep, sev, t->path, 0, 0, obj, fmt, ap);
    }
    va_end(ap);
    return st;
}

char *io_tab_columns_list(const io_tab *t)
{
    io_buf b = {0};
    for (size_t c = 0; c < t->ncols; c++) {
        if ((c && io_buf_puts(&b, ", ")) || io_buf_puts(&b, t->names[c])) {
            cs_free(b.p);
            return NULL;
        }
    }
    if (!b.p) return cs_strdup("(none)");
    return b.p;
}

long io_tab_nearest(const io_tab *t, const char *const *cand)
{
    long best = -1;
    size_t bd = (size_t)-1;
    for (size_t c = 0; c < t->ncols; c++) {
        for (size_t k = 0; cand[k]; k++) {
            size_t d = io_edit_distance(t->names[c], cand[k]);
            size_t L = strlen(cand[k]), Lc = strlen(t->names[c]), m = L < Lc ? L : Lc;
            /* a truncated or extended name ("popul", "population_2020") counts as close */
            if (m >= 3 && !strncasecmp(t->names[c], cand[k], m) && d > 1) d = 1;
            size_t lim = L <= 3 ? 1 : L <= 6 ? 2 : 3;
            if (d <= lim && d < bd) {
                bd = d;
                best = (long)c;
            }
        }
    }
    return best;
}

/* ---- CSV ---- */
typedef struct csv_ctx {
    io_report *rep;
    const char *name;
} csv_ctx;

static int csv_problem(void *user, long line, long col, const char *msg)
{
    csv_ctx *x = user;
    return io_report_add(x->rep, CS_SEV_ERROR, x->name, line, col, "", "%s", msg) != CS_OK;
}

static char *trim_dup(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t L = strlen(s);
    while (L && (s[L - 1] == ' ' || s[L - 1] == '\t')) L--;
    return cs_strndup(s, L);
}

static int is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t') return 0;
    return 1;
}

/* Convert from another encoding to UTF-8 with iconv; positions of newlines are kept. */
static cs_status convert_encoding(const char *data, size_t size, const char *enc, const char *name, char **out,
                                  size_t *outn)
{
    iconv_t cd = iconv_open("UTF-8", enc);
    if (cd == (iconv_t)-1) return cs_error_set_at(CS_EINVAL, name, 0, 0, "unknown input encoding '%s'", enc);
    size_t cap = size * 4 + 4;
    char *buf = cs_malloc(cap);
    if (!buf) {
        iconv_close(cd);
        return CS_ENOMEM;
    }
    char *in = (char *)data, *o = buf;
    size_t inleft = size, oleft = cap - 1;
    size_t r = iconv(cd, &in, &inleft, &o, &oleft);
    iconv_close(cd);
    if (r == (size_t)-1) {
        size_t off = (size_t)(in - data);
        long line = 1;
        for (size_t i = 0; i < off; i++) line += data[i] == '\n';
        cs_free(buf);
        return cs_error_set_at(CS_EPARSE, name, line, 0, "byte 0x%02x is not valid %s",
                               off < size ? (unsigned)(unsigned char)data[off] : 0u, enc);
    }
    *o = 0;
    *out = buf;
    *outn = (size_t)(o - buf);
    return CS_OK;
}

cs_status io_tab_read_csv_mem(const char *data, size_t size, const char *name, const char *encoding, io_report *rep,
                              io_tab **out)
{
    *out = NULL;
    char *conv = NULL;
    size_t convn = 0;
    cs_status st;
    if (encoding && *encoding && !io_strieq(encoding, "UTF-8") && !io_strieq(encoding, "UTF8")) {
        st = convert_encoding(data, size, encoding, name, &conv, &convn);
        if (st == CS_EPARSE) {
            const cs_error *e = cs_error_last();
            st = io_report_add(rep, CS_SEV_ERROR, name, e->line, 0, "", "%s", e->message);
            return st ? st : CS_EPARSE;
        }
        if (st) return st;
        data = conv;
        size = convn;
    }
    /* empty file (only blanks / BOM) */
    size_t k = 0;
    if (size >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB &&
        (unsigned char)data[2] == 0xBF)
        k = 3;
    while (k < size && (data[k] == ' ' || data[k] == '\t' || data[k] == '\n' || data[k] == '\r')) k++;
    if (k == size) {
        cs_free(conv);
        st = io_report_add(rep, CS_SEV_ERROR, name, 0, 0, "", "the file is empty (no header, no rows)");
        return st ? st : CS_EPARSE;
    }
    csv_doc doc;
    csv_ctx x = {rep, name};
    const char *ext = strrchr(name, '.');
    char delim = (ext && io_strieq(ext, ".tsv")) ? '\t' : 0;
    st = csv_parse(data, size, delim, csv_problem, &x, &doc);
    cs_free(conv);
    if (st == CS_ENOMEM) return st;
    if (st == CS_EPARSE && (doc.nrec == 0 || (doc.truncated && doc.nrec <= 1))) {
        csv_doc_free(&doc);
        return CS_EPARSE;
    }
    /* Non-fatal problems (bad UTF-8, wrong field counts, ...) are already reported; the table is still built so
     * that validation can report every other problem in the same run. The caller fails at the end. */
    io_tab *t = cs_calloc(1, sizeof *t);
    if (!t) goto oom;
    t->is_csv = 1;
    t->delim = doc.delim;
    t->path = cs_strdup(name);
    if (!t->path) goto oom;
    /* header (the incomplete last record after an unterminated quote is dropped: already reported) */
    size_t nrec = doc.nrec;
    if (doc.truncated && nrec > 1) nrec--;
    if (nrec == 0) { /* cannot happen after the empty check, but be safe */
        csv_doc_free(&doc);
        io_tab_free(t);
        st = io_report_add(rep, CS_SEV_ERROR, name, 0, 0, "", "the file is empty (no header, no rows)");
        return st ? st : CS_EPARSE;
    }
    t->ncols = csv_nfields(&doc, 0);
    t->header_line = csv_line(&doc, 0, 0);
    t->names = cs_calloc(t->ncols, sizeof *t->names);
    if (!t->names) goto oom;
    for (size_t c = 0; c < t->ncols; c++) {
        t->names[c] = trim_dup(csv_field(&doc, 0, c));
        if (!t->names[c]) goto oom;
    }
    for (size_t c = 0; c < t->ncols; c++) {
        if (!t->names[c][0]) {
            char *nn = cs_asprintf("column%zu", c + 1);
            if (!nn) goto oom;
            cs_free(t->names[c]);
            t->names[c] = nn;
            if (t->ncols > 1 &&
                (st = io_report_add(rep, CS_SEV_WARNING, name, t->header_line, (long)c + 1, "",
                                    "empty column name; called it '%s'", nn)))
                goto fail;
        }
        for (size_t d = 0; d < c; d++)
            if (io_strieq(t->names[c], t->names[d])) {
                if ((st = io_report_add(rep, CS_SEV_ERROR, name, t->header_line, (long)c + 1, "",
                                        "duplicate column name '%s' (also column %zu)", t->names[c], d + 1)))
                    goto fail;
                break;
            }
    }
    /* rows: count non-blank records */
    size_t nrows = 0;
    for (size_t r = 1; r < nrec; r++)
        if (!(csv_nfields(&doc, r) == 1 && t->ncols > 1 && is_blank(csv_field(&doc, r, 0)))) nrows++;
    t->cell = cs_calloc(nrows * t->ncols + 1, sizeof *t->cell);
    t->cell_line = cs_calloc(nrows * t->ncols + 1, sizeof *t->cell_line);
    t->row_ref = cs_calloc(nrows + 1, sizeof *t->row_ref);
    if (!t->cell || !t->cell_line || !t->row_ref) goto oom;
    /* cells point into the doc buffer, which the table takes over */
    t->arena = doc.buf;
    doc.buf = NULL;
    static const char empty[1] = "";
    size_t row = 0;
    for (size_t r = 1; r < nrec; r++) {
        size_t nf = csv_nfields(&doc, r);
        if (nf == 1 && t->ncols > 1 && is_blank(t->arena + doc.fstart[doc.rec_first[r]])) continue;
        t->row_ref[row] = doc.fline[doc.rec_first[r]];
        if (nf != t->ncols) {
            long col = nf > t->ncols ? (long)t->ncols + 1 : (long)nf;
            long line = nf > t->ncols ? doc.fline[doc.rec_first[r] + t->ncols] : doc.fline[doc.rec_first[r + 1] - 1];
            if ((st = io_report_add(rep, CS_SEV_ERROR, name, line, col, "",
                                    "expected %zu fields (as in the header), found %zu", t->ncols, nf)))
                goto fail;
        }
        for (size_t c = 0; c < t->ncols; c++) {
            size_t i = row * t->ncols + c;
            if (c < nf) {
                t->cell[i] = t->arena + doc.fstart[doc.rec_first[r] + c];
                t->cell_line[i] = doc.fline[doc.rec_first[r] + c];
            } else {
                t->cell[i] = (char *)empty;
                t->cell_line[i] = doc.fline[doc.rec_first[r + 1] - 1];
            }
        }
        row++;
    }
    t->nrows = nrows;
    t->col_ogr_type = NULL;
    csv_doc_free(&doc);
    *out = t;
    return CS_OK;
oom:
    st = cs_error_set(CS_ENOMEM, "out of memory while reading %s", name);
fail:
    csv_doc_free(&doc);
    io_tab_free(t);
    return st;
}

/* Whole file through VSI (so .gz works via /vsigzip/). */
static cs_status read_all_vsi(const char *path, char **data, size_t *size)
{
    int gz = ends_with(path, ".gz");
    if (!gz) return cs_read_file(path, data, size);
    char *vpath = cs_asprintf("/vsigzip/%s", path);
    if (!vpath) return CS_ENOMEM;
    io_gdal_begin();
    VSILFILE *f = VSIFOpenL(vpath, "rb");
    cs_free(vpath);
    if (!f) {
        io_gdal_end();
        return cs_error_set_at(CS_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    }
    io_buf b = {0};
    char chunk[65536];
    cs_status st = CS_OK;
    for (;;) {
        size_t r = VSIFReadL(chunk, 1, sizeof chunk, f);
        if (r && (st = io_buf_put(&b, chunk, r))) break;
        if (r < sizeof chunk) break;
    }
    VSIFCloseL(f);
    io_gdal_end();
    if (st) {
        cs_free(b.p);
        return st;
    }
    if (!b.p && (st = io_buf_put(&b, "", 0))) return st;
    *data = b.p;
    *size = b.n;
    return CS_OK;
}

/* ---- OGR ---- */
static cs_status arena_add(io_buf *a, const char *s, size_t *off)
{
    *off = a->n;
    return io_buf_put(a, s, strlen(s) + 1);
}

static cs_status tab_read_ogr(const char *path, const char *layer_name, io_report *rep, io_tab **out)
{
    *out = NULL;
    io_gdal_begin();
    cs_status st = CS_OK;
    io_tab *t = NULL;
    size_t *offs = NULL;
    io_buf arena = {0};
    OGRCoordinateTransformationH ct = NULL;
    OGRSpatialReferenceH wgs = NULL;
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) {
        st = io_gdal_fail(CS_EIO, path, "cannot open as a vector data source");
        goto done;
    }
    OGRLayerH L = NULL;
    if (layer_name && *layer_name) {
        L = GDALDatasetGetLayerByName(ds, layer_name);
        if (!L) {
            io_buf names = {0};
            for (int i = 0; i < GDALDatasetGetLayerCount(ds); i++) {
                OGRLayerH li = GDALDatasetGetLayer(ds, i);
                if ((i && io_buf_puts(&names, ", ")) || io_buf_puts(&names, OGR_L_GetName(li))) {
                    cs_free(names.p);
                    st = CS_ENOMEM;
                    goto done;
                }
            }
            st = cs_error_set_at(CS_ENOTFOUND, path, 0, 0, "no layer '%s' (layers: %s)", layer_name,
                                 names.p ? names.p : "none");
            cs_free(names.p);
            goto done;
        }
    } else {
        if (GDALDatasetGetLayerCount(ds) < 1) {
            st = cs_error_set_at(CS_EPARSE, path, 0, 0, "no vector layer in this file");
            goto done;
        }
        L = GDALDatasetGetLayer(ds, 0);
    }
    t = cs_calloc(1, sizeof *t);
    if (!t) goto oom;
    t->path = cs_strdup(path);
    t->layer = cs_strdup(OGR_L_GetName(L));
    if (!t->path || !t->layer) goto oom;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(L);
    t->ncols = (size_t)OGR_FD_GetFieldCount(defn);
    t->names = cs_calloc(t->ncols + 1, sizeof *t->names);
    t->col_ogr_type = cs_calloc(t->ncols + 1, sizeof *t->col_ogr_type);
    if (!t->names || !t->col_ogr_type) goto oom;
    for (size_t c = 0; c < t->ncols; c++) {
        OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, (int)c);
        t->names[c] = trim_dup(OGR_Fld_GetNameRef(fd));
        if (!t->names[c]) goto oom;
        t->col_ogr_type[c] = (int)OGR_Fld_GetType(fd);
    }
    int has_geom = OGR_FD_GetGeomFieldCount(defn) > 0;
    OGRSpatialReferenceH srs = has_geom ? OGR_L_GetSpatialRef(L) : NULL;
    if (srs) {
        wgs = OSRNewSpatialReference(NULL);
        if (!wgs || OSRImportFromEPSG(wgs, 4326) != OGRERR_NONE) {
            st = io_gdal_fail(CS_EDEPENDENCY, path, "cannot set up WGS84 (PROJ database missing?)");
            goto done;
        }
        OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
        OGRSpatialReferenceH s2 = OSRClone(srs);
        if (s2) {
            OSRSetAxisMappingStrategy(s2, OAMS_TRADITIONAL_GIS_ORDER);
            if (!OSRIsSame(s2, wgs)) ct = OCTNewCoordinateTransformation(s2, wgs);
            OSRDestroySpatialReference(s2);
            if (!OSRIsSame(srs, wgs) && !ct && !OSRIsGeographic(srs)) {
                st = io_gdal_fail(CS_EDEPENDENCY, path, "layer %s: cannot reproject its CRS to WGS84", t->layer);
                goto done;
            }
        }
    }
    size_t cap = 256, n = 0;
    offs = cs_mallocarray(cap * (t->ncols + 1), sizeof *offs);
    t->row_ref = cs_mallocarray(cap, sizeof *t->row_ref);
    if (has_geom) {
        t->gx = cs_mallocarray(cap, sizeof(double));
        t->gy = cs_mallocarray(cap, sizeof(double));
        t->geom_problem = cs_calloc(cap, sizeof(char *));
    }
    if (!offs || !t->row_ref || (has_geom && (!t->gx || !t->gy || !t->geom_problem))) goto oom;
    CPLErrorReset();
    OGR_L_ResetReading(L);
    OGRFeatureH f;
    char num[64];
    while ((f = OGR_L_GetNextFeature(L)) != NULL) {
        if (n == cap) {
            size_t nc = cap * 2;
            size_t *no = cs_reallocarray(offs, nc * (t->ncols + 1), sizeof *offs);
            if (!no) goto oom_f;
            offs = no;
            long *nr = cs_reallocarray(t->row_ref, nc, sizeof *nr);
            if (!nr) goto oom_f;
            t->row_ref = nr;
            if (has_geom) {
                double *a = cs_reallocarray(t->gx, nc, sizeof *a);
                if (!a) goto oom_f;
                t->gx = a;
                a = cs_reallocarray(t->gy, nc, sizeof *a);
                if (!a) goto oom_f;
                t->gy = a;
                char **g = cs_reallocarray(t->geom_problem, nc, sizeof *g);
                if (!g) goto oom_f;
                memset(g + cap, 0, (nc - cap) * sizeof *g);
                t->geom_problem = g;
            }
            cap = nc;
        }
        t->row_ref[n] = (long)OGR_F_GetFID(f);
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = "";
            if (OGR_F_IsFieldSetAndNotNull(f, (int)c)) {
                if (t->col_ogr_type[c] == OFTReal) {
                    io_fmt_double(OGR_F_GetFieldAsDouble(f, (int)c), num, sizeof num);
                    s = num;
                } else {
                    s = OGR_F_GetFieldAsString(f, (int)c);
                }
            }
            if (arena_add(&arena, s, &offs[n * t->ncols + c])) goto oom_f;
        }
        if (has_geom) {
            t->gx[n] = t->gy[n] = NAN;
            OGRGeometryH g = OGR_F_GetGeometryRef(f);
            const char *problem = NULL;
            char pbuf[200];
            if (!g || OGR_G_IsEmpty(g)) {
                problem = "the feature has no geometry";
            } else {
                OGRwkbGeometryType gt = wkbFlatten(OGR_G_GetGeometryType(g));
                if (gt == wkbMultiPoint && OGR_G_GetGeometryCount(g) == 1) {
                    g = OGR_G_GetGeometryRef(g, 0);
                    gt = wkbPoint;
                }
                if (gt != wkbPoint) {
                    snprintf(pbuf, sizeof pbuf, "the geometry is a %s, not a point (give lon/lat columns instead)",
                             OGRGeometryTypeToName(gt));
                    problem = pbuf;
                } else {
                    double x = OGR_G_GetX(g, 0), y = OGR_G_GetY(g, 0);
                    if (ct && !OCTTransform(ct, 1, &x, &y, NULL)) {
                        problem = "the point could not be reprojected to WGS84";
                    } else {
                        t->gx[n] = x;
                        t->gy[n] = y;
                    }
                }
            }
            if (problem && !(t->geom_problem[n] = cs_strdup(problem))) goto oom_f;
        }
        OGR_F_Destroy(f);
        n++;
        continue;
    oom_f:
        OGR_F_Destroy(f);
        t->nrows = n; /* so io_tab_free frees geometry problems of complete rows */
        goto oom;
    }
    if (CPLGetLastErrorType() >= CE_Failure) {
        t->nrows = n;
        st = io_gdal_fail(CS_EIO, path, "error while reading layer %s", t->layer);
        goto done;
    }
    t->nrows = n;
    if (!arena.p && io_buf_put(&arena, "", 0)) goto oom;
    t->arena = arena.p;
    arena.p = NULL;
    t->cell = cs_calloc(n * t->ncols + 1, sizeof *t->cell);
    if (!t->cell) goto oom;
    for (size_t i = 0; i < n * t->ncols; i++) t->cell[i] = t->arena + offs[i];
    *out = t;
    t = NULL;
    goto done;
oom:
    st = cs_error_set(CS_ENOMEM, "out of memory while reading %s", path);
done:
    (void)rep;
    cs_free(offs);
    cs_free(arena.p);
    io_tab_free(t);
    if (ct) OCTDestroyCoordinateTransformation(ct);
    if (wgs) OSRDestroySpatialReference(wgs);
    if (ds) GDALClose(ds);
    io_gdal_end();
    return st;
}

cs_status io_tab_read(const char *path, const char *layer, const char *encoding, io_report *rep, io_tab **out)
{
    *out = NULL;
    if (!path || !*path) return cs_error_set(CS_EINVAL, "no input file given");
    if (io_is_csv_path(path)) {
        char *data;
        size_t n;
        cs_status st = read_all_vsi(path, &data, &n);
        if (st) return st;
        st = io_tab_read_csv_mem(data, n, path, encoding, rep, out);
        cs_free(data);
        return st;
    }
    return tab_read_ogr(path, layer, rep, out);
}

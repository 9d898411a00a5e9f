/* draw.c: Cairo canvases written atomically, palette, text and ticks. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <unistd.h>
#include "citysys/alloc.h"
#include "citysys/chart.h"
#include "citysys/fileio.h"
#include "draw.h"

cs_status cs_image_format_from_path(const char *path, int *format)
{
    const char *e = path ? strrchr(path, '.') : NULL;
    if (e && !strcasecmp(e, ".png")) *format = CS_IMG_PNG;
    else if (e && !strcasecmp(e, ".svg")) *format = CS_IMG_SVG;
    else if (e && !strcasecmp(e, ".pdf")) *format = CS_IMG_PDF;
    else return cs_error_set(CS_EINVAL, "%s: image file name must end in .png, .svg or .pdf", path ? path : "(null)");
    return CS_OK;
}

static cs_status cairo_fail(cairo_status_t s, const char *what)
{
    return cs_error_set(s == CAIRO_STATUS_NO_MEMORY ? CS_ENOMEM : CS_EDEPENDENCY, "cairo: %s: %s", what,
                        cairo_status_to_string(s));
}

cs_status cs_canvas_open(cs_canvas *c, const char *path, int width, int height)
{
    memset(c, 0, sizeof *c);
    cs_status st = cs_image_format_from_path(path, &c->format);
    if (st) return st;
    if (width < 16 || height < 16 || width > 20000 || height > 20000)
        return cs_error_set(CS_EINVAL, "image size %d x %d out of range", width, height);
    c->width = width;
    c->height = height;
    c->path = cs_strdup(path);
    if (!c->path) return CS_ENOMEM;
    if (c->format == CS_IMG_PNG) {
        c->surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
    } else {
        /* a temporary file name beside the target; the surface writes it on finish */
        cs_atomic_file *f;
        st = cs_atomic_open(path, &f);
        if (st) {
            cs_free(c->path);
            return st;
        }
        c->tmp_path = cs_strdup(cs_atomic_temp_path(f));
        /* keep the name, drop the stream: cairo writes the file by name */
        cs_atomic_abort(f);
        if (!c->tmp_path) {
            cs_free(c->path);
            return CS_ENOMEM;
        }
        if (c->format == CS_IMG_SVG) c->surface = cairo_svg_surface_create(c->tmp_path, width, height);
        else {
            c->surface = cairo_pdf_surface_create(c->tmp_path, width, height);
            /* reproducible PDFs: no creation date (same input, same bytes) */
            if (cairo_surface_status(c->surface) == CAIRO_STATUS_SUCCESS)
                cairo_pdf_surface_set_metadata(c->surface, CAIRO_PDF_METADATA_CREATE_DATE, "");
        }
    }
    cairo_status_t cs = cairo_surface_status(c->surface);
    if (cs != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(c->surface);
        if (c->tmp_path) unlink(c->tmp_path);
        cs_free(c->tmp_path);
        cs_free(c->path);
        return cairo_fail(cs, "creating surface");
    }
    c->cr = cairo_create(c->surface);
    cairo_set_source_rgb(c->cr, 1, 1, 1);
    cairo_paint(c->cr);
    return CS_OK;
}

static cairo_status_t png_write(void *closure, const unsigned char *data, unsigned int len)
{
    return cs_atomic_write(closure, data, len) == CS_OK ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/*
 * Cairo numbers SVG surfaces ("surface123") with a process-wide counter, so the same drawing made twice
 * in one process differs; renumber them by order of appearance to make SVG output reproducible.
 */
static cs_status svg_renumber(const char *path)
{
    char *d;
    size_t n;
    cs_status st = cs_read_file(path, &d, &n);
    if (st) return st;
    char *out = cs_malloc(n + n / 4 + 64);
    unsigned long map_from[256], map_to[256];
    size_t nmap = 0, o = 0;
    if (!out) {
        cs_free(d);
        return CS_ENOMEM;
    }
    for (size_t i = 0; i < n;) {
        if (i + 7 <= n && !memcmp(d + i, "surface", 7) && i + 7 < n && d[i + 7] >= '0' && d[i + 7] <= '9') {
            size_t j = i + 7;
            unsigned long v = 0;
            while (j < n && d[j] >= '0' && d[j] <= '9') v = v * 10 + (unsigned long)(d[j++] - '0');
            size_t k = 0;
            while (k < nmap && map_from[k] != v) k++;
            if (k == nmap && nmap < 256) {
                map_from[nmap] = v;
                map_to[nmap] = nmap + 1;
                nmap++;
            }
            o += (size_t)sprintf(out + o, "surface%lu", k < nmap ? map_to[k] : v);
            i = j;
        } else {
            out[o++] = d[i++];
        }
    }
    cs_free(d);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(out, 1, o, fp) != o) st = cs_error_set_at(CS_EIO, path, 0, 0, "cannot rewrite SVG");
    if (fp && fclose(fp) != 0 && !st) st = cs_error_set_at(CS_EIO, path, 0, 0, "cannot rewrite SVG");
    cs_free(out);
    return st;
}

cs_status cs_canvas_close(cs_canvas *c)
{
    cs_status st = CS_OK;
    cairo_status_t s = cairo_status(c->cr);
    cairo_destroy(c->cr);
    if (s != CAIRO_STATUS_SUCCESS) st = cairo_fail(s, "drawing");
    if (!st && c->format == CS_IMG_PNG) {
        cs_atomic_file *f;
        st = cs_atomic_open(c->path, &f);
        if (!st) {
            s = cairo_surface_write_to_png_stream(c->surface, png_write, f);
            if (s != CAIRO_STATUS_SUCCESS) {
                cs_atomic_abort(f);
                st = cairo_fail(s, "writing PNG");
            } else {
                st = cs_atomic_commit(f);
            }
        }
        cairo_surface_destroy(c->surface);
    } else {
        cairo_surface_finish(c->surface);
        s = cairo_surface_status(c->surface);
        cairo_surface_destroy(c->surface);
        if (!st && s != CAIRO_STATUS_SUCCESS) st = cairo_fail(s, "writing file");
        if (c->tmp_path && !st && c->format == CS_IMG_SVG) st = svg_renumber(c->tmp_path);
        if (c->tmp_path) {
            if (!st) {
                /* make the finished file durable, then move it into place */
                FILE *fp = fopen(c->tmp_path, "rb+");
                if (fp) {
                    fflush(fp);
                    fsync(fileno(fp));
                    fclose(fp);
                }
                if (rename(c->tmp_path, c->path) != 0)
                    st = cs_error_set_at(CS_EIO, c->path, 0, 0, "cannot move the image into place");
            }
            if (st) unlink(c->tmp_path);
        }
    }
    cs_free(c->tmp_path);
    cs_free(c->path);
    memset(c, 0, sizeof *c);
    return st;
}

void cs_canvas_abort(cs_canvas *c)
{
    if (!c->cr) return;
    cairo_destroy(c->cr);
    cairo_surface_finish(c->surface);
    cairo_surface_destroy(c->surface);
    if (c->tmp_path) unlink(c->tmp_path);
    cs_free(c->tmp_path);
    cs_free(c->path);
    memset(c, 0, sizeof *c);
}

/* Okabe & Ito (2008) colour-blind-safe palette, then greys */
static const double PAL[8][3] = {{0.000, 0.447, 0.698}, {0.902, 0.624, 0.000}, {0.000, 0.620, 0.451},
                                 {0.835, 0.369, 0.000}, {0.800, 0.475, 0.655}, {0.337, 0.706, 0.914},
                                 {0.941, 0.894, 0.259}, {0.400, 0.400, 0.400}};

void cs_palette(int k, double *r, double *g, double *b)
{
    if (k < 0) k = 7;
    const double *p = PAL[k % 8];
    *r = p[0];
    *g = p[1];
    *b = p[2];
}

void cs_set_color(cairo_t *cr, int k, double alpha)
{
    double r, g, b;
    cs_palette(k, &r, &g, &b);
    cairo_set_source_rgba(cr, r, g, b, alpha);
}

void cs_ramp(double t, double *r, double *g, double *b)
{
    /* piecewise-linear approximation of viridis through 5 anchors */
    static const double A[5][3] = {{0.267, 0.005, 0.329}, {0.230, 0.322, 0.546}, {0.128, 0.567, 0.551},
                                   {0.369, 0.789, 0.383}, {0.993, 0.906, 0.144}};
    if (!(t >= 0)) t = 0;
    if (t > 1) t = 1;
    double x = t * 4;
    int i = (int)x;
    if (i >= 4) i = 3;
    double f = x - i;
    *r = A[i][0] + f * (A[i + 1][0] - A[i][0]);
    *g = A[i][1] + f * (A[i + 1][1] - A[i][1]);
    *b = A[i][2] + f * (A[i + 1][2] - A[i][2]);
}

void cs_text_extent(cairo_t *cr, const char *s, double size, int bold, double *w, double *h)
{
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    *w = te.x_advance;
    *h = size;
}

void cs_text(cairo_t *cr, double x, double y, const char *s, double size, int bold, double halign, double valign)
{
    double w, h;
    cs_text_extent(cr, s, size, bold, &w, &h);
    /* valign: 0 top, 0.5 middle, 1 baseline-ish bottom */
    cairo_move_to(cr, x - halign * w, y + (1 - valign) * h * 0.8 - valign * 0.0);
    cairo_show_text(cr, s);
}

int cs_nice_ticks(double lo, double hi, int target, double *ticks, int max)
{
    if (!(hi > lo)) {
        if (max > 0) ticks[0] = lo;
        return max > 0;
    }
    double raw = (hi - lo) / (target > 1 ? target : 2);
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag, step = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    step *= mag;
    int n = 0;
    for (double t = ceil(lo / step) * step; t <= hi + step * 1e-9 && n < max; t += step) ticks[n++] = fabs(t) < step * 1e-9 ? 0 : t;
    return n;
}

void cs_format_number(double v, char *buf, size_t n)
{
    double a = fabs(v);
    if (a >= 1e9) snprintf(buf, n, "%.3gB", v / 1e9);
    else if (a >= 1e6) snprintf(buf, n, "%.3gM", v / 1e6);
    else if (a >= 1e4) snprintf(buf, n, "%.3gk", v / 1e3);
    else if (a >= 100 || a == 0) snprintf(buf, n, "%.0f", v);
    else snprintf(buf, n, "%.3g", v);
}

/* chart.c: Lorenz, rank-size, bars, x-y and box charts (docs/report.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/chart.h"
#include "draw.h"

void cs_chart_opts_default(cs_chart_opts *o)
{
    memset(o, 0, sizeof *o);
    o->width_px = 800;
    o->height_px = 500;
}

typedef struct plot {
    cs_canvas cv;
    double x0, y0, x1, y1;        /* plot area in pixels (x0,y1 bottom-left) */
    double xmin, xmax, ymin, ymax;
    int xlog, ylog;
    int nleg;
} plot;

static double tx(const plot *p, double x)
{
    double a = p->xlog ? log10(x) : x, lo = p->xlog ? log10(p->xmin) : p->xmin, hi = p->xlog ? log10(p->xmax) : p->xmax;
    return p->x0 + (a - lo) / (hi - lo) * (p->x1 - p->x0);
}
static double ty(const plot *p, double y)
{
    double a = p->ylog ? log10(y) : y, lo = p->ylog ? log10(p->ymin) : p->ymin, hi = p->ylog ? log10(p->ymax) : p->ymax;
    return p->y1 - (a - lo) / (hi - lo) * (p->y1 - p->y0);
}

static cs_status plot_open(plot *p, const cs_chart_opts *o_in, const char *path)
{
    cs_chart_opts o;
    if (o_in) o = *o_in;
    else cs_chart_opts_default(&o);
    if (!o.width_px) o.width_px = 800;
    if (!o.height_px) o.height_px = 500;
    memset(p, 0, sizeof *p);
    cs_status st = cs_canvas_open(&p->cv, path, o.width_px, o.height_px);
    if (st) return st;
    cairo_t *cr = p->cv.cr;
    p->x0 = 78;
    p->x1 = o.width_px - 24;
    p->y0 = o.title ? 46 : 20;
    p->y1 = o.height_px - (o.note ? 70 : 52);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    if (o.title) cs_text(cr, o.width_px / 2.0, 12, o.title, 16, 1, 0.5, 0);
    if (o.xlabel) cs_text(cr, (p->x0 + p->x1) / 2, p->y1 + 28, o.xlabel, 12, 0, 0.5, 0);
    if (o.ylabel) {
        cairo_save(cr);
        cairo_translate(cr, 16, (p->y0 + p->y1) / 2);
        cairo_rotate(cr, -M_PI / 2);
        cs_text(cr, 0, -8, o.ylabel, 12, 0, 0.5, 0);
        cairo_restore(cr);
    }
    if (o.note) {
        cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
        cs_text(cr, 10, o.height_px - 18, o.note, 10, 0, 0, 0);
    }
    return CS_OK;
}

/* ticks at 1·10^k, and at 2 and 5 ·10^k too when the range spans fewer than three decades */
static int log_ticks(double lo, double hi, double *t, int max)
{
    int n = 0, fine = log10(hi / lo) < 3;
    static const double m[3] = {1, 2, 5};
    for (double d = pow(10, floor(log10(lo))); d <= hi * 1.0001 && n < max; d *= 10)
        for (int k = 0; k < (fine ? 3 : 1) && n < max; k++)
            if (d * m[k] >= lo * 0.9999 && d * m[k] <= hi * 1.0001) t[n++] = d * m[k];
    return n;
}

static void axes(plot *p, int xticks_on)
{
    cairo_t *cr = p->cv.cr;
    double t[64];
    char buf[32];
    cairo_set_line_width(cr, 1);
    /* y grid and labels */
    int n;
    if (p->ylog) {
        n = log_ticks(p->ymin, p->ymax, t, 64);
    } else {
        n = cs_nice_ticks(p->ymin, p->ymax, 6, t, 64);
    }
    for (int i = 0; i < n; i++) {
        double y = ty(p, t[i]);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, p->x0, y);
        cairo_line_to(cr, p->x1, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cs_format_number(t[i], buf, sizeof buf);
        cs_text(cr, p->x0 - 6, y, buf, 11, 0, 1, 0.5);
    }
    if (xticks_on) {
        if (p->xlog) {
            n = log_ticks(p->xmin, p->xmax, t, 64);
        } else {
            n = cs_nice_ticks(p->xmin, p->xmax, 8, t, 64);
        }
        for (int i = 0; i < n; i++) {
            double x = tx(p, t[i]);
            cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
            cairo_move_to(cr, x, p->y0);
            cairo_line_to(cr, x, p->y1);
            cairo_stroke(cr);
            cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
            cs_format_number(t[i], buf, sizeof buf);
            cs_text(cr, x, p->y1 + 6, buf, 11, 0, 0.5, 0);
        }
    }
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_rectangle(cr, p->x0, p->y0, p->x1 - p->x0, p->y1 - p->y0);
    cairo_stroke(cr);
}

static void legend(plot *p, int color, int line, const char *text)
{
    cairo_t *cr = p->cv.cr;
    double x = p->x0 + 12, y = p->y0 + 12 + 18 * p->nleg;
    double w, h;
    cs_text_extent(cr, text, 11, 0, &w, &h);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, x - 4, y - 7, w + 34, 16);
    cairo_fill(cr);
    cs_set_color(cr, color, 1);
    if (line) {
        cairo_set_line_width(cr, 2.5);
        cairo_move_to(cr, x, y + 1);
        cairo_line_to(cr, x + 20, y + 1);
        cairo_stroke(cr);
    } else {
        cairo_rectangle(cr, x + 4, y - 5, 12, 12);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cs_text(cr, x + 26, y + 1, text, 11, 0, 0, 0.5);
    p->nleg++;
}

static cs_status finish(plot *p) { return cs_canvas_close(&p->cv); }

/* ---- Lorenz ---- */
typedef struct { double v, w; } vw;
static int cmp_vw(const void *a, const void *b)
{
    double x = ((const vw *)a)->v, y = ((const vw *)b)->v;
    return x < y ? -1 : x > y;
}

cs_status cs_chart_lorenz(const double *v, const double *w, size_t n, double gini, const cs_chart_opts *o,
                          const char *path)
{
    if (n < 1) return cs_error_set(CS_EINVAL, "Lorenz curve: no values");
    vw *a = cs_mallocarray(n, sizeof *a);
    if (!a) return CS_ENOMEM;
    double tv = 0, tw = 0;
    for (size_t i = 0; i < n; i++) {
        a[i].v = v[i];
        a[i].w = w ? w[i] : 1.0;
        if (!(a[i].v >= 0) || !(a[i].w >= 0) || !isfinite(a[i].v) || !isfinite(a[i].w)) {
            cs_free(a);
            return cs_error_set(CS_EINVAL, "Lorenz curve: value %zu is negative or not finite", i);
        }
        tv += a[i].v * a[i].w;
        tw += a[i].w;
    }
    if (!(tv > 0 && tw > 0)) {
        cs_free(a);
        return cs_error_set(CS_EINVAL, "Lorenz curve: total is zero");
    }
    qsort(a, n, sizeof *a, cmp_vw);
    plot p;
    cs_chart_opts oo;
    if (o) oo = *o;
    else cs_chart_opts_default(&oo);
    if (!oo.xlabel) oo.xlabel = w ? "cumulative share of population" : "cumulative share of units";
    if (!oo.ylabel) oo.ylabel = "cumulative share of the total";
    cs_status st = plot_open(&p, &oo, path);
    if (st) {
        cs_free(a);
        return st;
    }
    p.xmin = p.ymin = 0;
    p.xmax = p.ymax = 1;
    /* square plot area */
    double side = fmin(p.x1 - p.x0, p.y1 - p.y0);
    p.x1 = p.x0 + side;
    axes(&p, 1);
    cairo_t *cr = p.cv.cr;
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    cairo_set_line_width(cr, 1.2);
    cairo_move_to(cr, tx(&p, 0), ty(&p, 0));
    cairo_line_to(cr, tx(&p, 1), ty(&p, 1));
    cairo_stroke(cr);
    cs_set_color(cr, 0, 0.18);
    double cx = 0, cy = 0;
    cairo_move_to(cr, tx(&p, 0), ty(&p, 0));
    for (size_t i = 0; i < n; i++) {
        cx += a[i].w / tw;
        cy += a[i].v * a[i].w / tv;
        cairo_line_to(cr, tx(&p, cx), ty(&p, cy));
    }
    cairo_line_to(cr, tx(&p, 1), ty(&p, 0));
    cairo_close_path(cr);
    cairo_fill(cr);
    cs_set_color(cr, 0, 1);
    cairo_set_line_width(cr, 2.5);
    cx = cy = 0;
    cairo_move_to(cr, tx(&p, 0), ty(&p, 0));
    for (size_t i = 0; i < n; i++) {
        cx += a[i].w / tw;
        cy += a[i].v * a[i].w / tv;
        cairo_line_to(cr, tx(&p, cx), ty(&p, cy));
    }
    cairo_stroke(cr);
    char lab[64];
    snprintf(lab, sizeof lab, "Lorenz curve (Gini = %.3f)", gini);
    legend(&p, 0, 1, lab);
    cs_free(a);
    return finish(&p);
}

/* ---- rank-size ---- */
static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x > y ? -1 : x < y;
}

cs_status cs_chart_rank_size(const double *sizes, size_t n, double zeta, double intercept, const cs_chart_opts *o,
                             const char *path)
{
    double *s = cs_mallocarray(n ? n : 1, sizeof *s);
    if (!s) return CS_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (sizes[i] > 0 && isfinite(sizes[i])) s[m++] = sizes[i];
    if (m < 2) {
        cs_free(s);
        return cs_error_set(CS_EINVAL, "rank-size plot: fewer than two positive sizes");
    }
    qsort(s, m, sizeof *s, cmp_desc);
    cs_chart_opts oo;
    if (o) oo = *o;
    else cs_chart_opts_default(&oo);
    if (!oo.xlabel) oo.xlabel = "population (log scale)";
    if (!oo.ylabel) oo.ylabel = "rank − 1/2 (log scale)";
    plot p;
    cs_status st = plot_open(&p, &oo, path);
    if (st) {
        cs_free(s);
        return st;
    }
    p.xlog = p.ylog = 1;
    p.xmin = s[m - 1] / 1.3;
    p.xmax = s[0] * 1.3;
    p.ymin = 0.4;
    p.ymax = (double)m * 1.3;
    axes(&p, 1);
    cairo_t *cr = p.cv.cr;
    cs_set_color(cr, 0, 0.8);
    for (size_t r = 0; r < m; r++) {
        cairo_new_sub_path(cr);
        cairo_arc(cr, tx(&p, s[r]), ty(&p, (double)r + 0.5), 3, 0, 2 * M_PI);
        cairo_fill(cr);
    }
    legend(&p, 0, 0, "cities");
    if (isfinite(zeta) && isfinite(intercept)) {
        /* ln(rank - 1/2) = a - zeta ln(size) */
        cairo_save(cr);
        cairo_rectangle(cr, p.x0, p.y0, p.x1 - p.x0, p.y1 - p.y0);
        cairo_clip(cr);
        cs_set_color(cr, 3, 1);
        cairo_set_line_width(cr, 2);
        double xa = p.xmin, xb = p.xmax;
        cairo_move_to(cr, tx(&p, xa), ty(&p, exp(intercept - zeta * log(xa))));
        cairo_line_to(cr, tx(&p, xb), ty(&p, exp(intercept - zeta * log(xb))));
        cairo_stroke(cr);
        cairo_restore(cr);
        char lab[96];
        snprintf(lab, sizeof lab, "fit: ln(rank − ½) = %.2f − %.3f ln(size)", intercept, zeta);
        legend(&p, 3, 1, lab);
    }
    cs_free(s);
    return finish(&p);
}

/* ---- grouped bars ---- */
cs_status cs_chart_bars(size_t ncat, const char *const *cats, size_t nser, const char *const *names,
                        const double *val, const cs_chart_opts *o, const char *path)
{
    if (ncat < 1 || nser < 1) return cs_error_set(CS_EINVAL, "bar chart: no data");
    double lo = 0, hi = 0;
    for (size_t k = 0; k < ncat * nser; k++)
        if (isfinite(val[k])) {
            lo = fmin(lo, val[k]);
            hi = fmax(hi, val[k]);
        }
    if (hi == lo) hi = lo + 1;
    plot p;
    cs_status st = plot_open(&p, o, path);
    if (st) return st;
    p.xmin = 0;
    p.xmax = (double)ncat;
    p.ymin = lo - 0.05 * (hi - lo) * (lo < 0);
    p.ymax = hi + 0.12 * (hi - lo);
    p.y1 -= 14; /* room for category labels */
    axes(&p, 0);
    cairo_t *cr = p.cv.cr;
    double cw = (p.x1 - p.x0) / (double)ncat, bw = cw * 0.8 / (double)nser;
    for (size_t c = 0; c < ncat; c++) {
        for (size_t s = 0; s < nser; s++) {
            double v = val[s * ncat + c];
            if (!isfinite(v)) continue;
            double x = p.x0 + cw * (double)c + cw * 0.1 + bw * (double)s;
            double ya = ty(&p, 0), yb = ty(&p, v);
            cs_set_color(cr, (int)s, 1);
            cairo_rectangle(cr, x, fmin(ya, yb), bw * 0.92, fabs(ya - yb));
            cairo_fill(cr);
        }
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cs_text(cr, p.x0 + cw * ((double)c + 0.5), p.y1 + 6, cats[c], 11, 0, 0.5, 0);
    }
    for (size_t s = 0; s < nser; s++) legend(&p, (int)s, 0, names ? names[s] : "");
    return finish(&p);
}

/* ---- x-y ---- */
cs_status cs_chart_xy(size_t nser, const cs_xy_series *ser, const cs_chart_opts *o, const char *path)
{
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t s = 0; s < nser; s++)
        for (size_t i = 0; i < ser[s].n; i++) {
            if (!isfinite(ser[s].x[i]) || !isfinite(ser[s].y[i])) continue;
            xlo = fmin(xlo, ser[s].x[i]);
            xhi = fmax(xhi, ser[s].x[i]);
            ylo = fmin(ylo, ser[s].y[i]);
            yhi = fmax(yhi, ser[s].y[i]);
        }
    if (!(xlo <= xhi)) return cs_error_set(CS_EINVAL, "x-y chart: no finite points");
    if (xhi == xlo) { xlo -= 1; xhi += 1; }
    if (yhi == ylo) { ylo -= 1; yhi += 1; }
    plot p;
    cs_status st = plot_open(&p, o, path);
    if (st) return st;
    double dx = xhi - xlo, dy = yhi - ylo;
    p.xmin = xlo - 0.04 * dx;
    p.xmax = xhi + 0.04 * dx;
    p.ymin = ylo - 0.06 * dy;
    p.ymax = yhi + 0.12 * dy;
    axes(&p, 1);
    cairo_t *cr = p.cv.cr;
    for (size_t s = 0; s < nser; s++) {
        cs_set_color(cr, (int)s, 1);
        if (ser[s].lines) {
            cairo_set_line_width(cr, 2);
            int started = 0;
            for (size_t i = 0; i < ser[s].n; i++) {
                if (!isfinite(ser[s].x[i]) || !isfinite(ser[s].y[i])) { started = 0; continue; }
                if (started) cairo_line_to(cr, tx(&p, ser[s].x[i]), ty(&p, ser[s].y[i]));
                else cairo_move_to(cr, tx(&p, ser[s].x[i]), ty(&p, ser[s].y[i]));
                started = 1;
            }
            cairo_stroke(cr);
        }
        if (ser[s].points || !ser[s].lines) {
            for (size_t i = 0; i < ser[s].n; i++) {
                if (!isfinite(ser[s].x[i]) || !isfinite(ser[s].y[i])) continue;
                cairo_new_sub_path(cr);
                cairo_arc(cr, tx(&p, ser[s].x[i]), ty(&p, ser[s].y[i]), 3.5, 0, 2 * M_PI);
                cairo_fill(cr);
                if (ser[s].point_labels && ser[s].point_labels[i]) {
                    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
                    cs_text(cr, tx(&p, ser[s].x[i]) + 5, ty(&p, ser[s].y[i]) - 5, ser[s].point_labels[i], 9, 0, 0, 1);
                    cs_set_color(cr, (int)s, 1);
                }
            }
        }
        legend(&p, (int)s, ser[s].lines, ser[s].name ? ser[s].name : "");
    }
    return finish(&p);
}

/* ---- box / strip ---- */
static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(const double *s, size_t n, double q)
{
    /* linear interpolation between order statistics (Hyndman & Fan type 7) */
    double h = (double)(n - 1) * q;
    size_t i = (size_t)floor(h);
    if (i + 1 >= n) return s[n - 1];
    return s[i] + (h - (double)i) * (s[i + 1] - s[i]);
}

cs_status cs_chart_box(size_t n, const double *v, const uint32_t *cat, size_t ncat, const char *const *cats,
                       int log_scale, const cs_chart_opts *o, const char *path)
{
    if (ncat < 1) return cs_error_set(CS_EINVAL, "box chart: no categories");
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (cat[i] >= ncat) return cs_error_set(CS_EINVAL, "box chart: category %u of value %zu out of range", cat[i], i);
        if (!isfinite(v[i]) || (log_scale && !(v[i] > 0))) continue;
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
    }
    if (!(lo <= hi)) return cs_error_set(CS_EINVAL, "box chart: no finite values");
    if (hi == lo) { hi = lo * 1.1 + 1; }
    double *tmp = cs_mallocarray(n ? n : 1, sizeof *tmp);
    if (!tmp) return CS_ENOMEM;
    plot p;
    cs_status st = plot_open(&p, o, path);
    if (st) {
        cs_free(tmp);
        return st;
    }
    p.ylog = log_scale;
    p.xmin = 0;
    p.xmax = (double)ncat;
    p.ymin = log_scale ? lo / 1.5 : lo - 0.05 * (hi - lo);
    p.ymax = log_scale ? hi * 1.5 : hi + 0.08 * (hi - lo);
    p.y1 -= 14;
    axes(&p, 0);
    cairo_t *cr = p.cv.cr;
    double cw = (p.x1 - p.x0) / (double)ncat;
    for (size_t c = 0; c < ncat; c++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (cat[i] == c && isfinite(v[i]) && (!log_scale || v[i] > 0)) tmp[m++] = v[i];
        double xc = p.x0 + cw * ((double)c + 0.5);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        char lab[96];
        snprintf(lab, sizeof lab, "%s (n=%zu)", cats ? cats[c] : "", m);
        cs_text(cr, xc, p.y1 + 6, lab, 11, 0, 0.5, 0);
        if (!m) continue;
        qsort(tmp, m, sizeof *tmp, cmp_d);
        double q1 = quantile(tmp, m, 0.25), q2 = quantile(tmp, m, 0.5), q3 = quantile(tmp, m, 0.75);
        cs_set_color(cr, (int)c, 0.25);
        cairo_rectangle(cr, xc - cw * 0.3, ty(&p, q3), cw * 0.6, ty(&p, q1) - ty(&p, q3));
        cairo_fill(cr);
        cs_set_color(cr, (int)c, 1);
        cairo_set_line_width(cr, 2);
        cairo_move_to(cr, xc - cw * 0.3, ty(&p, q2));
        cairo_line_to(cr, xc + cw * 0.3, ty(&p, q2));
        cairo_stroke(cr);
        /* deterministic jitter: golden-ratio sequence */
        for (size_t i = 0; i < m; i++) {
            double j = fmod((double)i * 0.6180339887, 1.0) - 0.5;
            cairo_new_sub_path(cr);
            cairo_arc(cr, xc + j * cw * 0.5, ty(&p, tmp[i]), 2.2, 0, 2 * M_PI);
            cairo_fill(cr);
        }
    }
    cs_free(tmp);
    return finish(&p);
}

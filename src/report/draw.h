/* draw.h: internal Cairo helpers shared by charts and maps. */
#ifndef CS_REPORT_DRAW_H
#define CS_REPORT_DRAW_H
#include <cairo.h>
#include "citysys/error.h"

enum { CS_IMG_PNG = 0, CS_IMG_SVG = 1, CS_IMG_PDF = 2 };

typedef struct cs_canvas {
    cairo_surface_t *surface;
    cairo_t *cr;
    int format;
    int width, height;
    char *tmp_path; /* SVG/PDF write to a temporary file beside the target */
    char *path;
} cs_canvas;

cs_status cs_canvas_open(cs_canvas *c, const char *path, int width, int height);
/* finish, write atomically; frees everything in all cases */
cs_status cs_canvas_close(cs_canvas *c);
void cs_canvas_abort(cs_canvas *c);

/* palette: colour-blind-safe qualitative (Okabe & Ito 2008) */
void cs_palette(int k, double *r, double *g, double *b);
void cs_set_color(cairo_t *cr, int k, double alpha);
/* sequential ramp (viridis-like) for t in [0,1] */
void cs_ramp(double t, double *r, double *g, double *b);

void cs_text(cairo_t *cr, double x, double y, const char *s, double size, int bold, double halign, double valign);
void cs_text_extent(cairo_t *cr, const char *s, double size, int bold, double *w, double *h);

/* nice tick steps for an axis range */
int cs_nice_ticks(double lo, double hi, int target, double *ticks, int max);
void cs_format_number(double v, char *buf, size_t n);

#endif

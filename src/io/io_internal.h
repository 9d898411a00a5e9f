/*
 * io_internal.h: helpers shared by the readers and writers of src/io (not public).
 *
 *  - io_report: a cs_diag wrapper that keeps at most max_errors errors (and as
 *    many warnings), counts the rest, and remembers the first error so the
 *    thread's last error can be set to it.
 *  - io_tab: a raw attribute table read from CSV (own tokenizer, physical
 *    line of every cell) or from any OGR layer (feature ids, point geometry
 *    reprojected to WGS84). Every cell is text; readers type it.
 *  - GDAL session helpers (quiet error handler, error translation).
 *  - small string utilities (number parsing, shortest round-trip formatting,
 *    case-insensitive compare, edit distance).
 */
#ifndef CS_IO_INTERNAL_H
#define CS_IO_INTERNAL_H

#include <stdarg.h>
#include "citysys/alloc.h"
#include "citysys/cityio.h"
#include "citysys/error.h"

/* ---- diagnostics with a cap ---- */
typedef struct io_report {
    cs_diag *diag;   /* borrowed, may be NULL */
    int max;         /* max errors (and max warnings) listed */
    long nerr, nwarn;
    long hidden_err, hidden_warn;
    int have_first;
    cs_error first;  /* first error, to become the thread's last error */
} io_report;

void io_report_init(io_report *r, cs_diag *diag, int max_errors);
/* Record a problem. Returns CS_ENOMEM if the diag could not grow, else CS_OK. */
cs_status io_report_add(io_report *r, cs_severity sev, const char *file, long line, long col, const char *object,
                        const char *fmt, ...) __attribute__((format(printf, 7, 8)));
cs_status io_report_vadd(io_report *r, cs_severity sev, const char *file, long line, long col, const char *object,
                         const char *fmt, va_list ap);
/* Adds the "... and N more" notes; sets the last error to the first error (when any) and returns CS_EPARSE
 * if there were errors, else CS_OK (CS_ENOMEM if a note could not be added). */
cs_status io_report_finish(io_report *r);

/* ---- raw table ---- */
typedef struct io_tab {
    char *path;       /* owned; used in messages */
    char *layer;      /* owned OGR layer name, NULL for CSV */
    int is_csv;
    size_t ncols, nrows;
    char **names;     /* ncols column names (owned, trimmed) */
    char **cell;      /* nrows*ncols pointers into `arena` (row-major), never NULL */
    long *cell_line;  /* CSV: physical line of each cell; NULL for OGR */
    long *row_ref;    /* CSV: physical line where the record starts; OGR: feature id (FID) */
    int *col_ogr_type;/* OGR field type per column (OFTInteger...), -1 for CSV */
    double *gx, *gy;  /* point geometry per row in WGS84 lon/lat (NaN when missing); NULL if no geometry */
    char **geom_problem; /* per row message when the geometry could not be used (owned), NULL when none */
    long header_line; /* CSV: line of the header */
    char delim;       /* CSV delimiter */
    char *arena;      /* owned storage of cell text */
} io_tab;

void io_tab_free(io_tab *t);
/* 1 if the path names a CSV-like file (.csv .tsv .txt, optionally .gz). */
int io_is_csv_path(const char *path);
/* Read CSV bytes (already in memory). Tokenizer problems go to rep. encoding NULL/"UTF-8" or another iconv name.
 * Returns CS_OK (table), CS_EPARSE (problems reported; *out NULL), CS_ENOMEM. */
cs_status io_tab_read_csv_mem(const char *data, size_t size, const char *name, const char *encoding,
                              io_report *rep, io_tab **out);
/* Read a file: CSV through the tokenizer (gzip through GDAL's /vsigzip/), anything else through OGR. */
cs_status io_tab_read(const char *path, const char *layer, const char *encoding, io_report *rep, io_tab **out);
static inline const char *io_cell(const io_tab *t, size_t r, size_t c) { return t->cell[r * t->ncols + c]; }
/* Column index by exact (case-insensitive, trimmed) name, or -1. */
long io_tab_col(const io_tab *t, const char *name);
/* Report a problem about cell (r, c) (c < 0: the whole row). */
cs_status io_tab_report(const io_tab *t, io_report *rep, cs_severity sev, size_t r, long c, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* "line 12" (CSV) or "feature 12" (OGR) for messages. */
void io_tab_where(const io_tab *t, size_t r, char *buf, size_t n);
/* Comma-separated list of the column names (owned), for "columns present: ..." messages. */
char *io_tab_columns_list(const io_tab *t);
/* Index of the present column nearest (edit distance) to any of the candidates, or -1 when nothing is close. */
long io_tab_nearest(const io_tab *t, const char *const *candidates);

/* ---- GDAL ---- */
void io_gdal_begin(void); /* register drivers once, push a quiet error handler, reset the error */
void io_gdal_end(void);   /* pop the handler */
/* Record an error with GDAL's last message appended. */
cs_status io_gdal_fail(cs_status st, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- strings and numbers ---- */
/* Parse a number; surrounding ASCII blanks ignored. Returns 0 ok, 1 empty, -1 not a number. */
int io_parse_double(const char *s, double *out);
/* Shortest "%.{15,16,17}g" form that reads back to the same double. NaN -> "", +inf -> "inf". */
void io_fmt_double(double v, char *buf, size_t n);
int io_strieq(const char *a, const char *b);
size_t io_edit_distance(const char *a, const char *b);
/* Growable byte buffer. */
typedef struct io_buf {
    char *p;
    size_t n, cap;
} io_buf;
cs_status io_buf_put(io_buf *b, const void *data, size_t n);
cs_status io_buf_puts(io_buf *b, const char *s);
cs_status io_buf_printf(io_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a CSV field, quoted when needed (delimiter, quote, CR/LF, leading/trailing blank). */
cs_status io_buf_csv_field(io_buf *b, const char *s, char delim);

/* String -> index hash map (keys borrowed; they must outlive the map). */
typedef struct io_strmap {
    uint32_t *slots; /* value + 1, 0 = empty */
    const char **keys;
    size_t nslots;
} io_strmap;
cs_status io_strmap_init(io_strmap *m, size_t expected);
void io_strmap_free(io_strmap *m);
/* Insert key -> val unless present; returns the index already stored, or val when inserted. */
uint32_t io_strmap_put(io_strmap *m, const char *key, uint32_t val);
/* Index stored for key, or CS_INVALID_ID. */
uint32_t io_strmap_get(const io_strmap *m, const char *key);

/* Memory-level CSV city reader used by cs_cities_read and cs_cities_read_csv_mem. */
cs_status io_cities_from_tab(io_tab *t, const cs_city_read_opts *opts, io_report *rep, cs_cities **out);

#endif

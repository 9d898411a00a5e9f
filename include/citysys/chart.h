/*
 * chart.h: charts drawn with Cairo as PNG, SVG or PDF (format from the file
 * extension): Lorenz curve with its Gini, rank-size plot with the fitted
 * exponent, grouped bars (before/after of indices), x–y lines and points
 * (efficiency–equity frontier, coverage curves), and strip/box plots of a
 * value by category (market access by typology). Files are written
 * atomically. Conventions in docs/report.md.
 */
#ifndef CITYSYS_CHART_H
#define CITYSYS_CHART_H

#include "citysys/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_chart_opts {
    int width_px, height_px;   /**< default 800 x 500 (PNG pixels; SVG/PDF points) */
    const char *title;         /**< may be NULL */
    const char *xlabel, *ylabel;
    const char *note;          /**< small text under the plot (source, method), may be NULL */
} cs_chart_opts;

CS_API void cs_chart_opts_default(cs_chart_opts *o);

/** Image format from a path's extension (.png, .svg, .pdf); CS_EINVAL otherwise. */
CS_API cs_status cs_image_format_from_path(const char *path, int *format);

/**
 * Lorenz curve of values v (optionally weighted by w, e.g. population),
 * with the equality line and the Gini coefficient given (printed in the legend).
 */
CS_API cs_status cs_chart_lorenz(const double *v, const double *w, size_t n, double gini, const cs_chart_opts *o,
                                 const char *path);

/** Rank-size plot (log–log) of sizes with the fitted line ln(rank − 1/2) = a − ζ ln(size). */
CS_API cs_status cs_chart_rank_size(const double *sizes, size_t n, double zeta, double intercept,
                                    const cs_chart_opts *o, const char *path);

/** Grouped bars: values[s*ncat + c] for series s and category c. */
CS_API cs_status cs_chart_bars(size_t ncat, const char *const *categories, size_t nser,
                               const char *const *series_names, const double *values, const cs_chart_opts *o,
                               const char *path);

/** One x–y series. */
typedef struct cs_xy_series {
    const char *name;
    size_t n;
    const double *x, *y;
    int lines;   /**< 1 draw a line through the points */
    int points;  /**< 1 draw point markers */
    const char *const *point_labels; /**< optional label per point (may be NULL) */
} cs_xy_series;

CS_API cs_status cs_chart_xy(size_t nser, const cs_xy_series *series, const cs_chart_opts *o, const char *path);

/** Strip plot with box (quartiles, median) per category: value v[i] in category cat[i] < ncat. */
CS_API cs_status cs_chart_box(size_t n, const double *v, const uint32_t *cat, size_t ncat,
                              const char *const *categories, int log_scale, const cs_chart_opts *o, const char *path);

#ifdef __cplusplus
}
#endif
#endif

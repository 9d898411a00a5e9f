/*
 * map.h: thematic maps drawn with Cairo (PNG, SVG, PDF) in an equal-area
 * projection chosen for the data (Lambert azimuthal equal-area centred on
 * the map extent, through PROJ): country outlines, lines coloured and sized
 * by a value (road load), polygons (cluster hulls, catchments), cities sized
 * by population (area proportional) and coloured by category or by a
 * diverging value (change in real income or market access), labels for the
 * main cities without overlaps, legend, scale bar, title and attribution.
 * Conventions in docs/report.md.
 */
#ifndef CITYSYS_MAP_H
#define CITYSYS_MAP_H

#include "citysys/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_map cs_map;

typedef struct cs_map_opts {
    int width_px, height_px;   /**< default 1000 x 800 */
    const char *title;         /**< may be NULL */
    const char *attribution;   /**< data credits drawn bottom-right, e.g. "© OpenStreetMap contributors" */
    double margin_frac;        /**< extra margin around the extent (default 0.06) */
} cs_map_opts;

CS_API void cs_map_opts_default(cs_map_opts *o);

/** A map covering the lon/lat extent (degrees, WGS84). */
CS_API cs_status cs_map_new(double lon_min, double lat_min, double lon_max, double lat_max, const cs_map_opts *o,
                            cs_map **out);
CS_API void cs_map_free(cs_map *m);

/** Project lon/lat to the map's pixel coordinates (origin top-left). */
CS_API cs_status cs_map_project(const cs_map *m, double lon, double lat, double *x_px, double *y_px);
/** The PROJ definition of the map projection (borrowed string). */
CS_API const char *cs_map_projection(const cs_map *m);

/** Background polygons (country outlines) from any OGR source (e.g. a Natural Earth GeoJSON, .gz allowed). */
CS_API cs_status cs_map_add_boundaries(cs_map *m, const char *path);

/**
 * Lines (polylines given by offsets into lon/lat: line k has points
 * off[k]..off[k+1]-1). With `value` (may be NULL) width and colour grow with
 * it; `legend` names the value.
 */
CS_API cs_status cs_map_add_lines(cs_map *m, size_t n, const uint64_t *off, const double *lon, const double *lat,
                                  const double *value, const char *legend);

/** Polygons outlined (and lightly filled) in a category colour (category < 8 palette, else grey). */
CS_API cs_status cs_map_add_polygons(cs_map *m, size_t n, const uint64_t *off, const double *lon, const double *lat,
                                     const uint32_t *category, const char *legend);

/**
 * Cities: circles with area proportional to population; colour by category
 * (cat_names[category]) or, when `value` is given, by a diverging ramp
 * centred on zero (value_legend names it). Labels (may be NULL) are placed
 * for up to max_labels cities in decreasing population, without overlapping
 * each other or other symbols; a label that cannot be placed is skipped.
 */
typedef struct cs_map_cities {
    size_t n;
    const double *lon, *lat, *population;
    const uint32_t *category;      /**< may be NULL */
    size_t ncat;
    const char *const *cat_names;
    const double *value;           /**< may be NULL */
    const char *value_legend;
    const char *const *labels;     /**< may be NULL */
    size_t max_labels;
} cs_map_cities;
CS_API cs_status cs_map_add_cities(cs_map *m, const cs_map_cities *c);

/** Render to path (.png, .svg or .pdf), atomically. Can be called several times. */
CS_API cs_status cs_map_render(cs_map *m, const char *path);

/** After a render: number of placed labels and each one's box (x, y, w, h in pixels) and city index. */
CS_API size_t cs_map_label_count(const cs_map *m);
CS_API cs_status cs_map_label_box(const cs_map *m, size_t i, double box[4], size_t *city);

#ifdef __cplusplus
}
#endif
#endif

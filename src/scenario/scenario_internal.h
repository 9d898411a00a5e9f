/*
 * scenario_internal.h (private): the in-memory form of a scenario, shared by
 * the reader (scenario_read.c), the baseline/evaluation (scenario_base.c,
 * scenario_eval.c) and the main job's step (src/report/steps_scenario.c).
 */
#ifndef CITYSYS_SCENARIO_INTERNAL_H
#define CITYSYS_SCENARIO_INTERNAL_H

#include <jansson.h>
#include "citysys/scenario.h"

/* Soft-agreement levels of a "soft" change. */
typedef enum sc_level { SC_LEVEL_CITY = 0, SC_LEVEL_REGION = 1, SC_LEVEL_COUNTRY = 2 } sc_level;

/* One change, fully parsed. Strings owned. NaN = not given. */
typedef struct sc_change {
    cs_change_type type;
    char *name;
    char *file;       /* file it came from ("" for text) */
    char *path;       /* JSON path of the change object in that file ("changes[3]", "features[2].properties") */
    long line, col;   /* position of the change object */
    double capital, annual, lifetime;
    int cons_years;
    /* ids: edges (upgrade/close), proposed (build), cities / regions / countries */
    char **items;
    long *item_line, *item_col; /* positions of each id (0 unknown) */
    size_t nitems;
    const char *items_key; /* "edges", "proposed", "cities", "regions", "countries" (static or NULL) */
    int all;          /* build: "proposed": "all" */
    sc_level level;   /* soft */
    double factor;        /* border, soft, productivity, amenity, facility (amenity factor) */
    double time_factor;   /* upgrade */
    double speed_kmh;     /* upgrade (design speed), build, link */
    double time_min;      /* build/link travel time (NaN = from speed and length) */
    double length_km;     /* build/link length (NaN = geodesic) */
    double transfer_min[2]; /* link: at the from and to end */
    double productivity;  /* ict productivity multiplier */
    double radius_min;    /* facility */
    cs_seg_mode mode;     /* build: road; link: rail/air/ferry */
    char *from, *to;      /* city ids of the end points (build/link), NULL if not given */
    long from_node, to_node; /* network node ids, -1 if not given */
    double *glon, *glat;  /* geometry (LineString), npts points */
    size_t npts;
    char *city;           /* facility host city */
    json_t *obj;          /* the change object as written (properties for GeoJSON), for to_json */
} sc_change;

struct cs_scenario {
    char *name, *description, *file;
    sc_change *ch;
    size_t n, cap;
};

/* Locator of JSON paths inside a text (positions of values). */
typedef struct sc_locator {
    cs_status (*locate)(void *user, const char *path, long *line, long *col);
    void *user;
} sc_locator;

/*
 * Parse a scenario from an already-parsed JSON object. file names the text in
 * messages; prefix is prepended to every JSON path ("scenarios.list[0]" for a
 * project's inline scenario, "" for a file); loc locates paths (may be NULL).
 * Includes resolve against base_dir. Returns the number of errors added to diag.
 */
int cs_scenario_from_json_(const json_t *root, const char *file, const char *prefix, const sc_locator *loc,
                           const char *base_dir, const cs_scenario_read_opts *opts, cs_diag *diag,
                           cs_scenario **out);

void sc_change_clear(sc_change *c);
cs_status sc_change_copy(const sc_change *src, sc_change *dst);
cs_status sc_push(cs_scenario *s, sc_change *c); /* takes ownership of *c's contents */

/* Nearest network node to a point (geodesic), CS_INVALID_ID if none; *dist_m receives the distance. */
uint32_t sc_nearest_node(const cs_network *net, double lon, double lat, double *dist_m);
/* Column of city strings by name ("country", "region", "id" or an extra column), NULL if none. */
char **sc_city_col(const cs_cities *c, const char *name);

#endif

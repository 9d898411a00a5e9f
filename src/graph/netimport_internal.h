/* netimport_internal.h: helpers shared by the network importers (not public). */
#ifndef CS_NETIMPORT_INTERNAL_H
#define CS_NETIMPORT_INTERNAL_H
#include "citysys/osm.h"

/*
 * Direction value of a GIS/table field: 0 both, 1 forward only (digitised
 * direction), 2 backward only, 3 closed, -1 not understood. Values
 * (case-insensitive): both: "", "0", "no", "false", "both", "b", "2way";
 * forward: "1", "yes", "true", "f", "ft", "forward", "oneway";
 * backward: "-1", "t", "tf", "backward", "reverse"; closed: "n", "none", "closed".
 */
int cs__parse_direction(const char *s);
/* Open a vector dataset read-only through GDAL (adds /vsigzip/ for .gz); records errors. */
cs_status cs__ogr_open(const char *path, const char *const *drivers, void **ds);
/* Parse a number: NaN for "", "NA", "NaN", "null"; returns -1 if malformed, 0 ok. */
int cs__parse_num(const char *s, double *v);
#endif

/* cities_write.c: city tables to GeoPackage / GeoJSON / CSV through cs_table (atomic). */
#include <math.h>
#include "citysys/table.h"
#include "io/io_internal.h"

/* The column order of written city tables (docs/formats.md): standard fields, then the extras. */
cs_status cs_cities_to_table(const cs_cities *c, cs_table **out)
{
    *out = NULL;
    if (!c) return cs_error_set(CS_EINVAL, "no cities");
    cs_table *t;
    cs_status st = cs_table_new(c->n, &t);
    if (st) return st;
    if (!st) st = cs_table_add_string(t, "id", (const char *const *)c->id);
    if (!st) st = cs_table_add_string(t, "name", (const char *const *)c->name);
    if (!st) st = cs_table_add_real(t, "lon", c->lon);
    if (!st) st = cs_table_add_real(t, "lat", c->lat);
    if (!st) st = cs_table_add_real(t, "population", c->population);
    if (!st && c->gdp) st = cs_table_add_real(t, "gdp", c->gdp);
    if (!st && c->gdp_per_head) st = cs_table_add_real(t, "gdp_per_head", c->gdp_per_head);
    if (!st && c->employment) st = cs_table_add_real(t, "employment", c->employment);
    if (!st && c->region) st = cs_table_add_string(t, "region", (const char *const *)c->region);
    if (!st && c->country) st = cs_table_add_string(t, "country", (const char *const *)c->country);
    for (size_t k = 0; k < c->extra.ncols && !st; k++)
        st = cs_table_add_text(t, c->extra.names[k], (const char *const *)c->extra.values[k]);
    if (!st) st = cs_table_set_points(t, c->lon, c->lat);
    if (st) {
        cs_table_free(t);
        return st;
    }
    *out = t;
    return CS_OK;
}

cs_status cs_cities_write(const cs_cities *c, const char *path, cs_vector_format fmt, const char *layer)
{
    cs_table *t;
    cs_status st = cs_cities_to_table(c, &t);
    if (st) return st;
    st = cs_table_write(t, path, fmt, layer && *layer ? layer : "cities", 0);
    cs_table_free(t);
    return st;
}

/* common.c: loading helpers shared by CLI commands. */
#include <stdlib.h>
#include <string.h>
#include "citysys/cityio.h"
#include "common.h"

int cli_load_cities(const cli_args *a, const char *path, cs_cities **out)
{
    cs_city_read_opts o;
    memset(&o, 0, sizeof o);
    if (a) {
        o.fields.id = cli_get(a, "id", NULL);
        o.fields.name = cli_get(a, "name", NULL);
        o.fields.lon = cli_get(a, "lon", NULL);
        o.fields.lat = cli_get(a, "lat", NULL);
        o.fields.population = cli_get(a, "population", NULL);
        o.fields.country = cli_get(a, "country", NULL);
        o.fields.region = cli_get(a, "region", NULL);
    }
    cs_diag *d = cs_diag_new();
    if (!d) return cli_fail(CS_ENOMEM);
    cs_status st = cs_cities_read(path, &o, d, out);
    cli_print_diag(d);
    size_t nd = cs_diag_count(d);
    cs_diag_free(d);
    if (st) return nd == 0 ? cli_fail(st) : cli_exit_code(st);
    return 0;
}

int cli_load_matrix_for(const char *path, const cs_cities *c, cs_matrix_kind kind, cs_matrix **out)
{
    *out = NULL;
    cs_matrix *m = NULL;
    const char *e = strrchr(path, '.');
    cs_status st = (e && !strcmp(e, ".csv")) ? cs_matrix_read_csv(path, -1, kind, &m) : cs_matrix_read(path, NULL, &m);
    if (st) return cli_fail(st);
    cs_matrix *s = NULL;
    st = cs_matrix_select(m, (const char *const *)c->id, c->n, (const char *const *)c->id, c->n, &s);
    if (st) {
        cs_error_prefix("%s: the matrix must have a row and a column for every city", path);
        cs_matrix_free(m);
        return cli_fail(st);
    }
    cs_matrix_free(m);
    if (kind == CS_MATRIX_TIME && !strcmp(s->unit, "min")) {
        for (size_t k = 0; k < s->rows * s->cols; k++) s->v[k] *= 60.0;
        snprintf(s->unit, sizeof s->unit, "s");
    }
    *out = s;
    return 0;
}

uint32_t *cli_groups(char **values, size_t n, uint32_t *ngroups)
{
    *ngroups = 0;
    if (!values) return NULL;
    uint32_t *g = cs_mallocarray(n ? n : 1, sizeof *g);
    if (!g) return NULL;
    for (size_t i = 0; i < n; i++) {
        g[i] = UINT32_MAX;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(values[i], values[j])) {
                g[i] = g[j];
                break;
            }
        if (g[i] == UINT32_MAX) g[i] = (*ngroups)++;
    }
    return g;
}

int cli_time_unit(const cli_args *a, cs_matrix *m)
{
    const char *u = cli_get(a, "time-unit", NULL);
    if (!u) return 0;
    double f = !strcmp(u, "s") ? 1 : !strcmp(u, "min") ? 60 : !strcmp(u, "h") ? 3600 : 0;
    if (f == 0) return cli_usage_error(a->cmd, "--time-unit must be s, min or h (got '%s')", u);
    for (size_t k = 0; k < m->rows * m->cols; k++) m->v[k] *= f;
    snprintf(m->unit, sizeof m->unit, "s");
    return 0;
}

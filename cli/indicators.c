/* indicators.c: helpers shared by the indicator commands (see indicators.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "indicators.h"

int ind_read_cities(const cli_args *a, const char *path, cs_cities **out)
{
    *out = NULL;
    cs_city_read_opts o;
    memset(&o, 0, sizeof o);
    o.fields.id = cli_get(a, "id-field", NULL);
    o.fields.name = cli_get(a, "name-field", NULL);
    o.fields.population = cli_get(a, "pop-field", NULL);
    o.fields.country = cli_get(a, "country-field", NULL);
    o.fields.region = cli_get(a, "region-field", NULL);
    o.fields.lon = cli_get(a, "lon-field", NULL);
    o.fields.lat = cli_get(a, "lat-field", NULL);
    cs_diag *d = cs_diag_new();
    if (!d) return cli_fail(CS_ENOMEM);
    cs_status st = cs_cities_read(path, &o, d, out);
    cli_print_diag(d);
    cs_diag_free(d);
    if (st) {
        if (cs_error_last()->status == st) cli_fail(st);
        return cli_exit_code(st);
    }
    return 0;
}

void ind_cities_free(cs_cities *c)
{
    cs_cities_free(c);
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

int ind_read_matrix(const char *path, cs_matrix_kind kind, cs_matrix **out)
{
    cs_status st;
    *out = NULL;
    if (ends_with(path, ".csv")) {
        st = cs_matrix_read_csv(path, -1, kind, out);
    } else {
        st = cs_matrix_read(path, NULL, out);
    }
    if (st) return cli_fail(st);
    return 0;
}

int ind_write_matrix_csv(const cs_matrix *m, const char *path)
{
    cs_status st = cs_matrix_write_csv(m, path, CS_MATRIX_CSV_LONG);
    return st ? cli_fail(st) : 0;
}

int ind_align_matrix(cs_matrix **m, const cs_cities *c)
{
    if (!c) return 0;
    cs_matrix *s = NULL;
    cs_status st = cs_matrix_select(*m, (const char *const *)c->id, c->n, (const char *const *)c->id, c->n, &s);
    if (st) {
        cs_error_prefix("matching the matrix ids to the city ids: ");
        return cli_fail(st);
    }
    cs_matrix_free(*m);
    *m = s;
    return 0;
}

int ind_parse_list(const cli_args *a, const char *opt, const char *def, double *out, size_t max, size_t *n)
{
    const char *s = cli_get(a, opt, def);
    *n = 0;
    if (!s || !*s) return 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || (*end && *end != ',') || *n >= max)
            return cli_usage_error(a->cmd, "option --%s: expected a comma-separated list of at most %zu numbers, got '%s'",
                                   opt, max, s);
        out[(*n)++] = v;
        p = *end ? end + 1 : end;
    }
    return 0;
}

void ind_csv_num(FILE *f, double v)
{
    if (isnan(v)) return;
    if (isinf(v)) fputs(v > 0 ? "inf" : "-inf", f);
    else fprintf(f, "%.17g", v);
}

void ind_csv_str(FILE *f, const char *s)
{
    if (!s) return;
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

json_t *ind_json_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

int ind_write_json(json_t *j, const char *path)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    if (!s) return cli_fail(cs_error_set(CS_ENOMEM, "JSON: out of memory"));
    int rc = 0;
    if (!path || !strcmp(path, "-")) {
        printf("%s\n", s);
    } else {
        size_t n = strlen(s);
        s[n] = '\n'; /* replace the NUL by a newline for the file */
        cs_status st = cs_write_file_atomic(path, s, n + 1);
        s[n] = 0;
        if (st) rc = cli_fail(st);
    }
    free(s);
    return rc;
}

int ind_open_csv(const char *path, cs_atomic_file **af, FILE **f)
{
    cs_status st = cs_atomic_open(path, af);
    if (st) return cli_fail(st);
    *f = cs_atomic_stream(*af);
    return 0;
}

int ind_commit_csv(cs_atomic_file *af)
{
    cs_status st = cs_atomic_commit(af);
    return st ? cli_fail(st) : 0;
}


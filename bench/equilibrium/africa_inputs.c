/*
 * africa_inputs.c: timing inputs for `citysys simulate` on the 453 real
 * African cities (population and GDP per head at PPP from Krantz 2024, see
 * /work/shared/data/africa-transafrican-network/PROVENANCE.md). The costs are
 * a SYNTHETIC stand-in until the network modules provide generalised costs:
 * tau_ij = 1 + 0.5 * (great-circle km * 1.3 detour) / 1000, times 1.2 across
 * a border. "After": the border factor removed among the East African
 * Community (BDI, KEN, RWA, TZA, UGA, SSD, COD). Used only for timing.
 *
 *   africa_inputs CITIES.csv OUTDIR [strong]   (CITIES.csv: id,lon,lat,population,gdp_cap,iso3c; id may be quoted)
 *
 * "strong": asymmetric border factor 2.0 from a lower to a higher city index, 1.5 the other way.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/citysys.h"

static int eac(const char *c)
{
    static const char *m[] = {"BDI", "KEN", "RWA", "TZA", "UGA", "SSD", "COD"};
    for (int k = 0; k < 7; k++)
        if (!strcmp(c, m[k])) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    const int strong = argc > 3 && !strcmp(argv[3], "strong");
    FILE *f = fopen(argv[1], "r");
    if (!f) return 1;
    char line[1024], ids[1000][128], ctry[1000][8];
    double lon[1000], lat[1000];
    size_t n = 0;
    if (!fgets(line, sizeof line, f)) return 1;
    while (n < 1000 && fgets(line, sizeof line, f)) {
        char *s = line;
        if (*s == '"') { /* quoted id (may contain a comma; no doubled quotes in this data) */
            char *e = strchr(s + 1, '"');
            if (!e) return 1;
            *e = 0;
            snprintf(ids[n], sizeof ids[n], "%s", s + 1);
            s = e + 2;
        } else {
            char *e = strchr(s, ',');
            if (!e) return 1;
            *e = 0;
            snprintf(ids[n], sizeof ids[n], "%s", s);
            s = e + 1;
        }
        lon[n] = atof(strtok(s, ","));
        lat[n] = atof(strtok(NULL, ","));
        strtok(NULL, ",");
        strtok(NULL, ",");
        s = strtok(NULL, ",\r\n");
        snprintf(ctry[n], sizeof ctry[n], "%s", s);
        n++;
    }
    fclose(f);
    const char *idp[1000];
    for (size_t i = 0; i < n; i++) idp[i] = ids[i];
    cs_matrix *a, *b;
    if (cs_matrix_new(n, n, CS_MATRIX_TRADECOST, &a) || cs_matrix_set_ids(a, idp, idp)) return 1;
    if (cs_matrix_new(n, n, CS_MATRIX_TRADECOST, &b) || cs_matrix_set_ids(b, idp, idp)) return 1;
    const double r = M_PI / 180;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double dl = (lat[j] - lat[i]) * r, dn = (lon[j] - lon[i]) * r;
            double h = sin(dl / 2) * sin(dl / 2) + cos(lat[i] * r) * cos(lat[j] * r) * sin(dn / 2) * sin(dn / 2);
            double km = 2 * 6371.0 * asin(fmin(1, sqrt(h)));
            double t = i == j ? 1.0 : 1.0 + 0.5 * km * 1.3 / 1000;
            int border = strcmp(ctry[i], ctry[j]) != 0;
            double bf = strong ? 1.5 + 0.5 * (i < j) : 1.2;
            a->v[i * n + j] = border ? t * bf : t;
            b->v[i * n + j] = border && !(eac(ctry[i]) && eac(ctry[j])) ? t * bf : t;
        }
    char p[4096];
    snprintf(p, sizeof p, "%s/tau_before.csmat", argv[2]);
    if (cs_matrix_write(a, p)) return 1;
    snprintf(p, sizeof p, "%s/tau_after.csmat", argv[2]);
    if (cs_matrix_write(b, p)) return 1;
    cs_matrix_free(a);
    cs_matrix_free(b);
    return 0;
}

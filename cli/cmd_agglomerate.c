/* cmd_agglomerate.c: `citysys agglomerate` — merge place points into agglomerations
 * (docs/methods.md, "Agglomeration of raw place points"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "citysys/agglomerate.h"

#include "indicators.h"

static const cli_option agg_opts[] = {
    {"max-km", 0, "KM", "distance rule: link points within KM great-circle km (default 3)"},
    {"time", 't', "FILE", "time rule: travel-time matrix between the points (ids = point ids)"},
    {"max-min", 0, "MIN", "time rule: link points within MIN minutes, faster direction (default 10)"},
    {"position", 0, "P", "agglomeration position: 'largest' member (default) or population-weighted 'centroid'"},
    {"id-field", 0, "NAME", "id column (default: auto)"},
    {"pop-field", 0, "NAME", "population column (default: auto)"},
    {"country-field", 0, "NAME", "country column (default: auto)"},
    {"output", 'o', "FILE", "agglomerations CSV (required)"},
    {"members", 'm', "FILE", "point -> agglomeration CSV"},
    {"json", 'j', "FILE", "JSON summary (default: stdout)"},
    {0}};

static int run_agg(int argc, char **argv);
const cli_command cli_cmd_agglomerate = {
    "agglomerate", "merge neighbouring place points into agglomerations (distance or travel-time rule)",
    "citysys agglomerate POINTS [--max-km 3 | -t TIME.cmx --max-min 10] -o AGGLOS.csv",
    "Single linkage: points joined by a chain of links within the threshold form one agglomeration;\n"
    "population is summed, the name, id and country are the largest member's.",
    agg_opts, 1, 1, run_agg};

static int run_agg(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&cli_cmd_agglomerate, argc, argv, &a);
    if (rc >= 0) return rc;
    const char *outp = cli_get(&a, "output", NULL);
    if (!outp) return cli_usage_error(a.cmd, "--output is required");
    cs_agglo_opts o;
    cs_agglo_opts_default(&o);
    int ok = 1;
    o.max_km = cli_get_double(&a, "max-km", 3.0, &ok);
    double max_min = cli_get_double(&a, "max-min", 10.0, &ok);
    if (!ok) return CLI_EXIT_USAGE;
    const char *pos = cli_get(&a, "position", "largest");
    if (!strcmp(pos, "largest")) o.position = CS_AGGLO_POS_LARGEST;
    else if (!strcmp(pos, "centroid")) o.position = CS_AGGLO_POS_CENTROID;
    else return cli_usage_error(a.cmd, "--position must be 'largest' or 'centroid'");
    if (cli_has(&a, "time") && cli_has(&a, "max-km"))
        return cli_usage_error(a.cmd, "give either --max-km (distance rule) or --time (time rule), not both");

    cs_cities *c = NULL;
    cs_matrix *t = NULL;
    cs_agglomerates *g = NULL;
    json_t *j = NULL;
    cs_atomic_file *af = NULL;
    if ((rc = ind_read_cities(&a, a.pos[0], &c))) goto out;
    if (cli_has(&a, "time")) {
        if ((rc = ind_read_matrix(cli_get(&a, "time", NULL), CS_MATRIX_TIME, &t))) goto out;
        if ((rc = ind_align_matrix(&t, c))) goto out;
        double scale = !strcmp(t->unit, "min") ? 1.0 : !strcmp(t->unit, "h") ? 1.0 / 60 : 60.0; /* units per min */
        o.rule = CS_AGGLO_TIME;
        o.time = t;
        o.max_time = max_min * scale;
    }
    cs_status st = cs_agglomerate(c->lon, c->lat, c->population, c->n, &o, &g);
    if (st) {
        rc = cli_fail(st);
        goto out;
    }
    FILE *f;
    if ((rc = ind_open_csv(outp, &af, &f))) goto out;
    fputs("id,name,country,lon,lat,population,n_members,members\n", f);
    size_t multi = 0, maxm = 0;
    for (size_t k = 0; k < g->n; k++) {
        uint32_t L = g->largest[k];
        size_t nm = g->first[k + 1] - g->first[k];
        if (nm > 1) multi++;
        if (nm > maxm) maxm = nm;
        ind_csv_str(f, c->id[L]);
        fputc(',', f);
        ind_csv_str(f, c->name ? c->name[L] : "");
        fputc(',', f);
        ind_csv_str(f, c->country ? c->country[L] : "");
        fputc(',', f);
        ind_csv_num(f, g->lon[k]);
        fputc(',', f);
        ind_csv_num(f, g->lat[k]);
        fputc(',', f);
        ind_csv_num(f, g->population[k]);
        fprintf(f, ",%zu,", nm);
        /* member ids joined by ';' (quoted as a whole when needed) */
        size_t len = 1;
        for (uint32_t q = g->first[k]; q < g->first[k + 1]; q++) len += strlen(c->id[g->members[q]]) + 1;
        char *buf = cs_malloc(len);
        if (!buf) {
            rc = cli_fail(CS_ENOMEM);
            goto out;
        }
        buf[0] = 0;
        char *p = buf;
        for (uint32_t q = g->first[k]; q < g->first[k + 1]; q++) {
            if (q > g->first[k]) *p++ = ';';
            size_t l = strlen(c->id[g->members[q]]);
            memcpy(p, c->id[g->members[q]], l + 1);
            p += l;
        }
        ind_csv_str(f, buf);
        cs_free(buf);
        fputc('\n', f);
    }
    rc = ind_commit_csv(af);
    af = NULL;
    if (rc) goto out;
    if (cli_has(&a, "members")) {
        if ((rc = ind_open_csv(cli_get(&a, "members", NULL), &af, &f))) goto out;
        fputs("point_id,point_name,agglomeration_id\n", f);
        for (size_t i = 0; i < c->n; i++) {
            ind_csv_str(f, c->id[i]);
            fputc(',', f);
            ind_csv_str(f, c->name ? c->name[i] : "");
            fputc(',', f);
            ind_csv_str(f, c->id[g->largest[g->of_point[i]]]);
            fputc('\n', f);
        }
        rc = ind_commit_csv(af);
        af = NULL;
        if (rc) goto out;
    }
    j = json_pack("{s:s, s:s, s:o, s:s, s:I, s:I, s:I, s:I}", "command", "agglomerate", "rule",
                  o.rule == CS_AGGLO_DISTANCE ? "distance" : "time", "threshold",
                  json_real(o.rule == CS_AGGLO_DISTANCE ? o.max_km : max_min), "position", pos, "points",
                  (json_int_t)c->n, "agglomerations", (json_int_t)g->n, "merged_agglomerations", (json_int_t)multi,
                  "largest_member_count", (json_int_t)maxm);
    rc = ind_write_json(j, cli_get(&a, "json", "-"));
out:
    cs_atomic_abort(af);
    json_decref(j);
    cs_agglomerates_free(g);
    cs_matrix_free(t);
    ind_cities_free(c);
    return rc;
}

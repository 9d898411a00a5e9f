/* cmd_hierarchy.c: `citysys hierarchy` — rank-size, power law, primacy, concentration, secondary cities
 * (docs/methods.md, "Urban hierarchy"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "citysys/hierarchy.h"

#include "indicators.h"

static const cli_option hier_opts[] = {
    {"secondary", 0, "LO,HI", "secondary-city band of size relative to the country's largest city (default 0.10,0.50)"},
    {"nboot", 0, "N", "bootstrap replicates of the power-law p-value (default 1000; 0: none)"},
    {"seed", 0, "N", "bootstrap seed (default 1)"},
    {"min-tail", 0, "N", "smallest power-law tail considered in the x_min scan (default 10)"},
    {"no-powerlaw", 0, NULL, "skip the Clauset-Shalizi-Newman fit"},
    {"id-field", 0, "NAME", "id column (default: auto)"},
    {"pop-field", 0, "NAME", "population column (default: auto)"},
    {"country-field", 0, "NAME", "country column (default: auto; absent: one group)"},
    {"output", 'o', "FILE", "per-city CSV (rel_size, secondary)"},
    {"groups", 'g', "FILE", "per-group CSV (ALL and each country) with every index"},
    {"json", 'j', "FILE", "JSON summary (default: stdout)"},
    {0}};

static int run_hier(int argc, char **argv);
const cli_command cli_cmd_hierarchy = {
    "hierarchy", "urban hierarchy: Zipf exponent, power law, primacy, Herfindahl, secondary cities",
    "citysys hierarchy CITIES [-o CITIES_OUT.csv] [-g GROUPS.csv] [-j SUMMARY.json]",
    "Overall and per country. Index names as in docs/methods.md: zeta_gi, zeta_gi_se, zeta_ols_se,\n"
    "alpha_csn, zeta_csn, xmin_csn, p_csn, primacy_2, primacy_4, primacy_11, primate_share, herfindahl.",
    hier_opts, 1, 1, run_hier};

static const char *group_cols =
    "group,n,n_positive,zeta_gi,zeta_gi_se,intercept_gi,zeta_ols_se,r2_ols,alpha_csn,alpha_csn_se,zeta_csn,xmin_csn,"
    "ntail_csn,ks_d_csn,p_csn,nboot_csn,primacy_2,primacy_4,primacy_11,primate_share,herfindahl,largest,total,"
    "n_secondary\n";

static json_t *group_json(const cs_hierarchy_group *g)
{
    return json_pack(
        "{s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:o, "
        "s:o, s:o, s:I}",
        "group", g->name, "n", (json_int_t)g->n, "n_positive", (json_int_t)g->n_positive, "zeta_gi",
        ind_json_num(g->rank_size.zeta_gi), "zeta_gi_se", ind_json_num(g->rank_size.zeta_gi_se), "intercept_gi",
        ind_json_num(g->rank_size.intercept_gi), "zeta_ols_se", ind_json_num(g->rank_size.zeta_ols_se), "r2_ols",
        ind_json_num(g->rank_size.r2_ols), "alpha_csn", ind_json_num(g->powerlaw.alpha), "alpha_csn_se",
        ind_json_num(g->powerlaw.alpha_se), "zeta_csn", ind_json_num(g->powerlaw.zeta), "xmin_csn",
        ind_json_num(g->powerlaw.xmin), "ntail_csn", (json_int_t)g->powerlaw.ntail, "ks_d_csn",
        ind_json_num(g->powerlaw.ks_d), "p_csn", ind_json_num(g->powerlaw.p_value), "nboot_csn", g->powerlaw.nboot,
        "primacy_2", ind_json_num(g->primacy.primacy_2), "primacy_4", ind_json_num(g->primacy.primacy_4),
        "primacy_11", ind_json_num(g->primacy.primacy_11), "primate_share", ind_json_num(g->primacy.primate_share),
        "herfindahl", ind_json_num(g->primacy.herfindahl), "largest", ind_json_num(g->primacy.largest), "total",
        ind_json_num(g->primacy.total), "n_secondary", (json_int_t)g->n_secondary);
}

static int run_hier(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&cli_cmd_hierarchy, argc, argv, &a);
    if (rc >= 0) return rc;
    cs_hierarchy_opts o;
    cs_hierarchy_opts_default(&o);
    double band[2] = {0.10, 0.50};
    size_t nb = 0;
    if ((rc = ind_parse_list(&a, "secondary", "0.10,0.50", band, 2, &nb))) return rc;
    if (nb != 2) return cli_usage_error(a.cmd, "--secondary needs LO,HI");
    o.secondary_lo = band[0], o.secondary_hi = band[1];
    int ok = 1;
    o.powerlaw.nboot = (int)cli_get_long(&a, "nboot", 1000, &ok);
    o.powerlaw.seed = (uint64_t)cli_get_long(&a, "seed", 1, &ok);
    o.powerlaw.min_tail = (size_t)cli_get_long(&a, "min-tail", 10, &ok);
    if (!ok) return CLI_EXIT_USAGE;
    o.fit_powerlaw = !cli_has(&a, "no-powerlaw");

    cs_cities *c = NULL;
    cs_hierarchy *h = NULL;
    json_t *j = NULL;
    cs_atomic_file *af = NULL;
    if ((rc = ind_read_cities(&a, a.pos[0], &c))) goto out;
    cs_status st = cs_hierarchy_compute(c->population, (const char *const *)c->country, c->n, &o, &h);
    if (st) {
        rc = cli_fail(st);
        goto out;
    }
    FILE *f;
    if (cli_has(&a, "output")) {
        if ((rc = ind_open_csv(cli_get(&a, "output", NULL), &af, &f))) goto out;
        fputs("id,name,country,population,rel_size,secondary\n", f);
        for (size_t i = 0; i < c->n; i++) {
            ind_csv_str(f, c->id[i]);
            fputc(',', f);
            ind_csv_str(f, c->name ? c->name[i] : "");
            fputc(',', f);
            ind_csv_str(f, c->country ? c->country[i] : "");
            fputc(',', f);
            ind_csv_num(f, c->population[i]);
            fputc(',', f);
            ind_csv_num(f, h->rel_size[i]);
            fprintf(f, ",%d\n", h->is_secondary[i]);
        }
        rc = ind_commit_csv(af);
        af = NULL;
        if (rc) goto out;
    }
    if (cli_has(&a, "groups")) {
        if ((rc = ind_open_csv(cli_get(&a, "groups", NULL), &af, &f))) goto out;
        fputs(group_cols, f);
        for (size_t g = 0; g < h->ngroups; g++) {
            const cs_hierarchy_group *G = &h->groups[g];
            ind_csv_str(f, G->name);
            fprintf(f, ",%zu,%zu", G->n, G->n_positive);
            const double v[] = {G->rank_size.zeta_gi, G->rank_size.zeta_gi_se, G->rank_size.intercept_gi,
                                G->rank_size.zeta_ols_se, G->rank_size.r2_ols, G->powerlaw.alpha,
                                G->powerlaw.alpha_se, G->powerlaw.zeta, G->powerlaw.xmin};
            for (size_t k = 0; k < sizeof v / sizeof *v; k++) fputc(',', f), ind_csv_num(f, v[k]);
            fprintf(f, ",%zu", G->powerlaw.ntail);
            fputc(',', f), ind_csv_num(f, G->powerlaw.ks_d);
            fputc(',', f), ind_csv_num(f, G->powerlaw.p_value);
            fprintf(f, ",%d", G->powerlaw.nboot);
            const double w[] = {G->primacy.primacy_2, G->primacy.primacy_4, G->primacy.primacy_11,
                                G->primacy.primate_share, G->primacy.herfindahl, G->primacy.largest,
                                G->primacy.total};
            for (size_t k = 0; k < sizeof w / sizeof *w; k++) fputc(',', f), ind_csv_num(f, w[k]);
            fprintf(f, ",%zu\n", G->n_secondary);
        }
        rc = ind_commit_csv(af);
        af = NULL;
        if (rc) goto out;
    }
    j = json_object();
    json_object_set_new(j, "command", json_string("hierarchy"));
    json_object_set_new(j, "n", json_integer((json_int_t)c->n));
    json_object_set_new(j, "secondary_lo", json_real(o.secondary_lo));
    json_object_set_new(j, "secondary_hi", json_real(o.secondary_hi));
    json_object_set_new(j, "powerlaw", json_string("continuous MLE (Clauset, Shalizi & Newman 2009)"));
    json_t *gs = json_array();
    for (size_t g = 0; g < h->ngroups; g++) json_array_append_new(gs, group_json(&h->groups[g]));
    json_object_set_new(j, "groups", gs);
    rc = ind_write_json(j, cli_get(&a, "json", "-"));
out:
    cs_atomic_abort(af);
    json_decref(j);
    cs_hierarchy_free(h);
    ind_cities_free(c);
    return rc;
}

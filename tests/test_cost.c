/* Unit tests for the generalised cost and the iceberg mapping: hand-worked 4-city East African case with the real
 * border matrices (tests/data/indicators/border_*_eac4.csv), soft frictions at city/region/country level. */
#include "test.h"
#include "citysys/cost.h"

static cs_matrix *read_border(const char *path)
{
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f) return NULL;
    char line[512];
    cs_matrix *m = NULL;
    CHECK_OK(cs_matrix_new(4, 4, CS_MATRIX_OTHER, &m));
    const char *ids[4];
    char idbuf[4][8];
    CHECK(fgets(line, sizeof line, f) != NULL);
    for (int i = 0; i < 4 && fgets(line, sizeof line, f); i++) {
        CHECK(sscanf(line, "%7[^,],%lf,%lf,%lf,%lf", idbuf[i], &m->v[i * 4], &m->v[i * 4 + 1], &m->v[i * 4 + 2],
                     &m->v[i * 4 + 3]) == 5);
        ids[i] = idbuf[i];
    }
    fclose(f);
    CHECK_OK(cs_matrix_set_ids(m, ids, ids));
    return m;
}

int main(void)
{
    cs_matrix *bt = read_border(CS_SRC_DIR "/tests/data/indicators/border_time_eac4.csv");
    cs_matrix *bd = read_border(CS_SRC_DIR "/tests/data/indicators/border_dist_eac4.csv");
    if (!bt || !bd) TEST_MAIN_END();
    CHECK(bt->v[0 * 4 + 1] == 3097.5 && bt->v[1 * 4 + 0] == 4299); /* KEN->UGA, UGA->KEN minutes */
    /* border facilitation between KEN and UGA (a member listed twice, one not in the matrix): only those two
       off-diagonal cells are halved */
    {
        cs_matrix *b2 = NULL;
        CHECK_OK(cs_matrix_clone(bt, &b2));
        const char *mem[4] = {"UGA", "KEN", "UGA", "ZZZ"};
        cs_border_scale(b2, mem, 4, 0.5);
        for (size_t q = 0; b2 && q < 16; q++) {
            int ku = (bt->row_ids[q / 4][0] == 'K' || bt->row_ids[q / 4][0] == 'U') &&
                     (bt->col_ids[q % 4][0] == 'K' || bt->col_ids[q % 4][0] == 'U') && q / 4 != q % 4;
            CHECK(b2->v[q] == (ku ? 0.5 * bt->v[q] : bt->v[q]));
        }
        CHECK(b2 && b2->v[0 * 4 + 1] == 3097.5 / 2);
        cs_border_scale(NULL, mem, 4, 0.5); /* no-op */
        cs_matrix_free(b2);
    }

    /* Nairobi, Mombasa (KEN), Kampala (UGA), Kigali (RWA); hours, symmetric, Kigali->Mombasa unreachable */
    const char *ids[4] = {"NBO", "MBA", "KLA", "KGL"};
    const char *ctry[4] = {"KEN", "KEN", "UGA", "RWA"};
    const char *reg[4] = {"Nairobi", "Coast", "Central", "Kigali"};
    double hours[16] = {0, 8, 12, 20, 8, 0, 20, 28, 12, 20, 0, 8, 20, INFINITY, 8, 0};
    double km[16] = {0, 480, 660, 1150, 480, 0, 1140, 1630, 660, 1140, 0, 500, 1150, 1630, 500, 0};
    cs_matrix *t, *d;
    CHECK_OK(cs_matrix_new(4, 4, CS_MATRIX_TIME, &t));
    CHECK_OK(cs_matrix_new(4, 4, CS_MATRIX_DISTANCE, &d));
    CHECK_OK(cs_matrix_set_ids(t, ids, ids));
    CHECK_OK(cs_matrix_set_ids(d, ids, ids));
    for (int k = 0; k < 16; k++) t->v[k] = hours[k] * 3600, d->v[k] = km[k] * 1000;
    snprintf(t->unit, sizeof t->unit, "s");
    snprintf(d->unit, sizeof d->unit, "m");

    cs_cost_inputs in = {0};
    in.time = t;
    in.country = ctry;
    in.border_time_min = bt;
    cs_cost_params p;
    cs_cost_params_default(&p);
    cs_matrix *c;
    CHECK_OK(cs_cost_build(&in, &p, &c));
    CHECK(!strcmp(c->unit, "min") && c->kind == CS_MATRIX_COST && strlen(c->fingerprint) == 64);
    CHECK_NEAR(c->v[0 * 4 + 1], 480, 1e-12);           /* domestic: no border */
    CHECK_NEAR(c->v[0 * 4 + 2], 720 + 3097.5, 1e-12);  /* NBO->KLA: export KEN + import UGA */
    CHECK_NEAR(c->v[2 * 4 + 0], 720 + 4299, 1e-12);    /* KLA->NBO */
    CHECK_NEAR(c->v[2 * 4 + 3], 480 + 2419.5, 1e-12);  /* KLA->KGL */
    CHECK(c->v[3 * 4 + 1] == INFINITY && c->v[5] == 0);
    char fp[65];
    memcpy(fp, c->fingerprint, 65);
    cs_matrix_free(c);

    /* distance term and the border distance-equivalent: w_d = 0.5 cost-min per km */
    in.distance = d;
    in.border_dist_m = bd;
    p.dist_weight_per_km = 0.5;
    CHECK_OK(cs_cost_build(&in, &p, &c));
    CHECK_NEAR(c->v[0 * 4 + 2], 720 + 0.5 * 660 + 3097.5 + 0.5 * 672.0703125, 1e-12);
    CHECK(strcmp(c->fingerprint, fp) != 0);
    cs_matrix_free(c);
    p.dist_weight_per_km = 0;

    /* soft frictions: KEN-UGA customs union 0.5 on the border part; city pair NBO-MBA 0.8; region Central-Kigali 2 */
    cs_soft_link soft[3] = {{CS_SOFT_COUNTRY, "UGA", "KEN", 0.5},
                            {CS_SOFT_CITY, "NBO", "MBA", 0.8},
                            {CS_SOFT_REGION, "Central", "Kigali", 2.0}};
    in.soft = soft;
    in.nsoft = 3;
    in.region = reg;
    p.soft_apply = CS_SOFT_ON_BORDER;
    CHECK_OK(cs_cost_build(&in, &p, &c));
    CHECK_NEAR(c->v[0 * 4 + 2], 720 + 0.5 * 3097.5, 1e-12);
    CHECK_NEAR(c->v[2 * 4 + 0], 720 + 0.5 * 4299, 1e-12);
    CHECK_NEAR(c->v[0 * 4 + 1], 480, 1e-12); /* no border part to scale */
    CHECK_NEAR(c->v[2 * 4 + 3], 480 + 2 * 2419.5, 1e-12);
    cs_matrix_free(c);
    p.soft_apply = CS_SOFT_ON_TOTAL;
    CHECK_OK(cs_cost_build(&in, &p, &c));
    CHECK_NEAR(c->v[0 * 4 + 2], 0.5 * (720 + 3097.5), 1e-12);
    CHECK_NEAR(c->v[1 * 4 + 0], 0.8 * 480, 1e-12);
    CHECK_NEAR(c->v[3 * 4 + 2], 2 * (480 + 4180.99995), 1e-12);
    CHECK_NEAR(c->v[0 * 4 + 3], 1200 + 1737, 1e-12);

    /* iceberg: tau = max(1, c/30)^(delta/theta), tau_ii = 1, inf stays inf */
    cs_matrix *tau;
    CHECK_OK(cs_cost_iceberg(c, &p, &tau));
    CHECK(tau->kind == CS_MATRIX_TRADECOST && tau->v[0] == 1 && tau->v[3 * 4 + 1] == INFINITY);
    CHECK_NEAR(tau->v[0 * 4 + 2], pow(0.5 * (720 + 3097.5) / 30, 1.0 / 5), 1e-14);
    for (int k = 0; k < 16; k++) CHECK(!(tau->v[k] < 1));
    cs_matrix_free(tau);
    CHECK(cs_cost_tau(12, &p) == 1.0 && isnan(cs_cost_tau(NAN, &p)));
    CHECK_OK(cs_cost_params_set_elasticity(&p, -1.4046227819));
    CHECK_NEAR(cs_cost_tau(300, &p), pow(10, 1.4046227819 / 5), 1e-14);
    CHECK(cs_cost_params_set_elasticity(&p, 0.3) == CS_EINVAL);
    cs_matrix_free(c);

    /* soft links from a link table: a CS_MODE_SOFT link KLA-KGL with friction 0.25 */
    cs_links L = {0};
    uint32_t from[1] = {2}, to[1] = {3};
    cs_mode mode[1] = {CS_MODE_SOFT};
    double fr[1] = {0.25};
    char *lid[1] = {"eac-1"};
    L.n = 1, L.from = from, L.to = to, L.mode = mode, L.friction = fr, L.id = lid;
    in.nsoft = 0;
    in.links = &L;
    CHECK_OK(cs_cost_build(&in, &p, &c));
    CHECK_NEAR(c->v[3 * 4 + 2], 0.25 * (480 + 4180.99995), 1e-12);
    CHECK_NEAR(c->v[2 * 4 + 3], 0.25 * (480 + 2419.5), 1e-12);
    cs_matrix_free(c);
    in.links = NULL;

    /* a country missing from the border matrix */
    const char *ctry2[4] = {"KEN", "KEN", "UGA", "ETH"};
    in.country = ctry2;
    CHECK(cs_cost_build(&in, &p, &c) == CS_ENOTFOUND && c == NULL);
    CHECK(strstr(cs_error_last()->message, "ETH") != NULL);
    /* no time matrix with a time weight */
    in.country = ctry;
    in.time = NULL;
    CHECK(cs_cost_build(&in, &p, &c) == CS_EINVAL);
    cs_matrix_free(t);
    cs_matrix_free(d);
    cs_matrix_free(bt);
    cs_matrix_free(bd);
    TEST_MAIN_END();
}

/* Appraisal against hand-worked cash flows (docs/appraisal.md). */
#include "test.h"
#include "citysys/appraisal.h"

int main(void)
{
    /* 100 in year 0, benefits 30/yr for 5 years, r = 10 %, no residual (life fully used) */
    double cap[1] = {100};
    cs_project_costs c = {cap, 1, 0.0, 5.0};
    cs_appraisal_opts o;
    cs_appraisal_opts_default(&o);
    CHECK(o.discount_rate == 0.06);
    o.discount_rate = 0.10;
    o.horizon_years = 6;
    cs_appraisal a;
    double flow[6];
    CHECK_OK(cs_appraise(&c, 30.0, &o, &a, flow, 6));
    double ann = (1 - pow(1.1, -5)) / 0.1; /* 3.790786769 */
    CHECK_NEAR(a.npv, -100 + 30 * ann, 1e-12);
    CHECK_NEAR(a.npv, 13.723603, 1e-6);
    CHECK_NEAR(a.bcr, 30 * ann / 100, 1e-12);
    CHECK(a.eirr_status == 0 && a.eirr_roots == 1);
    /* IRR: 30 * annuity(r, 5) = 100 -> r = 15.2382 % (checked by substitution) */
    CHECK_NEAR(30 * (1 - pow(1 + a.eirr, -5)) / a.eirr, 100.0, 1e-9);
    CHECK_NEAR(a.eirr, 0.152382, 1e-5);
    CHECK_NEAR(a.fyrr, 0.30, 1e-12);
    CHECK_NEAR(a.switch_cost, a.npv / 100, 1e-12);
    CHECK_NEAR(a.switch_benefit, a.npv / (30 * ann), 1e-12);
    /* switching values do make NPV zero */
    CHECK_NEAR(30 * ann - 100 * (1 + a.switch_cost), 0.0, 1e-9);
    CHECK_NEAR(30 * ann * (1 - a.switch_benefit) - 100, 0.0, 1e-9);
    CHECK(flow[0] == -100 && flow[5] == 30);

    /* residual value: life 10, horizon ends after 5 operating years -> half the capital back in the last year */
    cs_project_costs c2 = {cap, 1, 2.0, 10.0};
    CHECK_OK(cs_appraise(&c2, 30.0, &o, &a, flow, 6));
    CHECK_NEAR(a.residual, 50.0, 1e-12);
    CHECK_NEAR(flow[5], 30 - 2 + 50, 1e-12);
    CHECK_NEAR(a.npv, -100 + 28 * ann + 50 / pow(1.1, 5), 1e-10);
    CHECK_NEAR(a.pv_costs, 100 + 2 * ann - 50 / pow(1.1, 5), 1e-10);

    /* two construction years, growth of benefits */
    double cap2[2] = {60, 40};
    cs_project_costs c3 = {cap2, 2, 0.0, 30.0};
    o.horizon_years = 4;
    o.benefit_growth = 0.05;
    o.residual_value = 0;
    CHECK_OK(cs_appraise(&c3, 50.0, &o, &a, flow, 4));
    CHECK_NEAR(a.npv, -60 - 40 / 1.1 + 50 / 1.21 + 52.5 / 1.331, 1e-12);
    CHECK_NEAR(a.pv_capital, 60 + 40 / 1.1, 1e-12);

    /* multiple IRRs: -100, 230, -132 has roots 10 % and 20 % */
    double f[3] = {-100, 230, -132};
    double irr;
    int st, nr;
    CHECK_OK(cs_irr(f, 3, &irr, &st, &nr));
    CHECK(st == 2 && nr == 2 && isnan(irr));
    /* no IRR: all positive */
    double g[3] = {1, 2, 3};
    CHECK_OK(cs_irr(g, 3, &irr, &st, &nr));
    CHECK(st == 1 && nr == 0 && isnan(irr));
    /* simple: -100, 110 -> 10 % */
    double h[2] = {-100, 110};
    CHECK_OK(cs_irr(h, 2, &irr, &st, &nr));
    CHECK(st == 0);
    CHECK_NEAR(irr, 0.10, 1e-12);
    CHECK_NEAR(cs_npv(h, 2, 0.10), 0.0, 1e-12);
    /* bad input */
    cs_project_costs bad = {cap, 1, 0.0, 0.0};
    CHECK(cs_appraise(&bad, 1.0, NULL, &a, NULL, 0) == CS_EINVAL);
    TEST_MAIN_END();
}

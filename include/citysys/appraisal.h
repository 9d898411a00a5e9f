/*
 * appraisal.h: economic appraisal of projects as development banks do it —
 * cash flows from capital costs by year of construction, maintenance,
 * residual value and annual benefits; NPV, economic internal rate of return
 * (with a uniqueness check), benefit–cost ratio, first-year return and
 * switching values. Formulas and conventions in docs/appraisal.md.
 */
#ifndef CITYSYS_APPRAISAL_H
#define CITYSYS_APPRAISAL_H

#include "citysys/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default real discount rate (6 %: World Bank 2016 guidance note on discounting; ADB uses 9 %). */
#define CS_DEFAULT_DISCOUNT_RATE 0.06

/** A project's economic parameters. All money in constant prices of year 0. */
typedef struct cs_project_costs {
    const double *capital;   /**< capital cost per construction year, years 0..n_capital-1 (borrowed) */
    size_t n_capital;        /**< construction years (>= 1); operation starts in year n_capital */
    double annual_cost;      /**< maintenance/operating cost per year of operation */
    double lifetime_years;   /**< economic life of the asset from opening (> 0) */
} cs_project_costs;

typedef struct cs_appraisal_opts {
    double discount_rate;    /**< real rate r (default CS_DEFAULT_DISCOUNT_RATE) */
    int horizon_years;       /**< appraisal period counted from year 0 (default: construction + 20 years of operation) */
    double benefit_growth;   /**< annual growth of benefits after opening (default 0) */
    int residual_value;      /**< 1 (default): straight-line residual value of capital at the horizon, as a negative cost in the last year */
} cs_appraisal_opts;

CS_API void cs_appraisal_opts_default(cs_appraisal_opts *o);

/** Appraisal results. */
typedef struct cs_appraisal {
    int years;               /**< number of years in the cash flow (horizon) */
    double pv_benefits;      /**< present value of benefits */
    double pv_costs;         /**< present value of capital + annual costs − residual value */
    double pv_capital;       /**< present value of capital costs alone */
    double residual;         /**< undiscounted residual value at the horizon */
    double npv;              /**< pv_benefits − pv_costs */
    double bcr;              /**< pv_benefits / pv_costs (INFINITY if pv_costs == 0 and benefits > 0) */
    double eirr;             /**< economic internal rate of return; NaN when none or not unique */
    int eirr_status;         /**< 0 unique, 1 no root (NPV never zero), 2 not unique (several roots) */
    int eirr_roots;          /**< number of roots found in (-0.99, 10] */
    double fyrr;             /**< first-year rate of return: first operating year's net benefit / total capital */
    double switch_cost;      /**< cost overrun (fraction of pv_costs) making NPV zero: npv / pv_costs */
    double switch_benefit;   /**< benefit shortfall (fraction of pv_benefits) making NPV zero: npv / pv_benefits */
} cs_appraisal;

/**
 * Build the yearly net cash flow (benefits − costs) of a project with a
 * constant annual benefit (growing at opts->benefit_growth) and appraise it.
 * flow (optional, may be NULL) receives `years` net values (caller array of
 * at least opts->horizon_years, or construction + 20 when 0).
 */
CS_API cs_status cs_appraise(const cs_project_costs *costs, double annual_benefit, const cs_appraisal_opts *opts,
                             cs_appraisal *out, double *flow, size_t flow_cap);

/** NPV of an arbitrary cash flow at rate r (flow[t] at end of year t, t = 0 undiscounted). */
CS_API double cs_npv(const double *flow, size_t n, double r);

/**
 * Internal rate of return of an arbitrary cash flow: every sign change of the
 * NPV on a fine grid of rates in (-0.99, 10] is bracketed and refined by
 * bisection to 1e-12. status: 0 unique root (in *irr), 1 none, 2 several
 * (then *irr = NaN and *nroots > 1).
 */
CS_API cs_status cs_irr(const double *flow, size_t n, double *irr, int *status, int *nroots);

#ifdef __cplusplus
}
#endif
#endif

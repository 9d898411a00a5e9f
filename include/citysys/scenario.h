/*
 * scenario.h: scenarios of hard and soft infrastructure — reading and
 * validating scenario files, combining them, and evaluating them against a
 * calibrated baseline with the spatial equilibrium model (equilibrium.h).
 *
 * A scenario is a named list of *changes*. Each change has a type, a name
 * and its costs (capital_cost, annual_cost, lifetime_years,
 * construction_years) and enters the model through one documented channel
 * (docs/scenarios.md, "Change types and their channels"):
 *
 *   type          what it describes                         channel
 *   upgrade       road segments upgraded (time factor or     travel time (router, without a rebuild)
 *                 design speed)
 *   close         road segments closed                       travel time
 *   build         new road links: proposed edge ids ("all"), travel time (segments added to the router)
 *                 two end nodes/cities, or a LineString
 *   link          a rail / air / ferry service between two    travel time (a non-road segment with its own
 *                 cities or terminals, with transfer times    time + transfer times; CS_CELL_NONROAD marks its use)
 *   border        border friction between member countries   trade-cost friction (border matrices scaled)
 *   soft          agreement among cities / regions /         trade-cost friction (generalised cost of member
 *                 countries                                   pairs multiplied by a factor)
 *   ict           broadband among cities                     trade-cost friction among connected cities and a
 *                                                             productivity shift (docs give the source)
 *   facility      a common facility (hospital, university,   amenity shift of cities within a travel-time radius
 *                 market) at a city
 *   productivity  productivity shifter of cities              Abar_i multiplied
 *   amenity       amenity shifter of cities                  ubar_i multiplied
 *
 * File formats (docs/scenarios.md): a JSON object
 *   {"name", "description", "include": [paths relative to the file], "changes": [ ... ]}
 * or a GeoJSON FeatureCollection whose features' properties are changes and
 * whose geometry is used where a change needs one (a drawn LineString for a
 * new link: its end points join the network at the nearest node within a
 * tolerance). Includes are expanded recursively (cycles are errors).
 *
 * Errors: reading and validation collect every problem into a cs_diag,
 * located by file:line:column of the offending value where the JSON parser
 * gives it, and always by the JSON path (object "changes[3].edges[12]").
 * Nothing is evaluated on an invalid scenario.
 *
 * Threads: a cs_scenario is immutable after reading and may be shared. A
 * cs_scenario_base holds a borrowed router that cs_scenario_evaluate*
 * mutates (changes applied, then restored before returning, also on error):
 * evaluations on one base must not run concurrently, and nothing else may
 * query that router during an evaluation. Use one base (with its own router,
 * e.g. loaded twice with cs_router_load) per thread.
 */
#ifndef CITYSYS_SCENARIO_H
#define CITYSYS_SCENARIO_H

#include "citysys/appraisal.h"
#include "citysys/city.h"
#include "citysys/cost.h"
#include "citysys/equilibrium.h"
#include "citysys/matrix.h"
#include "citysys/network.h"
#include "citysys/project.h"
#include "citysys/routing.h"
#include "citysys/run.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- scenarios */

/** Opaque scenario: name, description, flat list of changes (includes expanded). */
typedef struct cs_scenario cs_scenario;

/** Kinds of change (names in files: the lower-case words after CS_CHANGE_). */
typedef enum cs_change_type {
    CS_CHANGE_UPGRADE = 0,
    CS_CHANGE_CLOSE = 1,
    CS_CHANGE_BUILD = 2,
    CS_CHANGE_LINK = 3,
    CS_CHANGE_BORDER = 4,
    CS_CHANGE_SOFT = 5,
    CS_CHANGE_ICT = 6,
    CS_CHANGE_FACILITY = 7,
    CS_CHANGE_PRODUCTIVITY = 8,
    CS_CHANGE_AMENITY = 9,
    CS_CHANGE_NTYPES = 10
} cs_change_type;

/** "upgrade", "close", ... (static; "?" for an invalid value). */
CS_API const char *cs_change_type_name(cs_change_type t);
/** Parse a type name (exact, lower case); CS_ENOTFOUND if unknown. */
CS_API cs_status cs_change_type_parse(const char *s, cs_change_type *out);

/** Reading options (cs_scenario_read_opts_default fills them). */
typedef struct cs_scenario_read_opts {
    int allow_include;     /**< 1 (default): follow "include"; 0: an include is an error (fuzzing, untrusted text) */
    int max_include_depth; /**< default 16 */
} cs_scenario_read_opts;

CS_API void cs_scenario_read_opts_default(cs_scenario_read_opts *o);

/**
 * Read a scenario file (JSON object or GeoJSON FeatureCollection, detected
 * from the content). Structural checks only (types, required fields, value
 * ranges, ids being strings); ids are checked against a baseline by
 * cs_scenario_validate. Every problem goes to diag (may be NULL) located in
 * its file; returns CS_EPARSE if there was any, CS_EIO if the file (or an
 * included one) cannot be read. opts may be NULL (defaults). *out owned.
 */
CS_API cs_status cs_scenario_read(const char *path, const cs_scenario_read_opts *opts, cs_diag *diag,
                                  cs_scenario **out);

/**
 * The same from text (len bytes, need not be NUL-terminated). `file` names
 * the text in messages (may be NULL: "<text>"); includes are resolved
 * relative to base_dir (NULL: the current directory), and only when
 * opts->allow_include.
 */
CS_API cs_status cs_scenario_parse(const char *text, size_t len, const char *file, const char *base_dir,
                                   const cs_scenario_read_opts *opts, cs_diag *diag, cs_scenario **out);

CS_API void cs_scenario_free(cs_scenario *s);

/** Name (never NULL; "" if none) and description (never NULL). Borrowed. */
CS_API const char *cs_scenario_name(const cs_scenario *s);
CS_API const char *cs_scenario_description(const cs_scenario *s);
/** Number of changes (includes expanded, in file order: includes first, then own changes). */
CS_API size_t cs_scenario_nchanges(const cs_scenario *s);

/** Summary of one change (all strings borrowed from the scenario). */
typedef struct cs_change_info {
    cs_change_type type;
    const char *name;          /**< change name ("" if none) */
    const char *file;          /**< file it was read from ("" for text) */
    long line, column;         /**< position of the change object (0 when unknown) */
    double capital_cost;       /**< total capital cost (money, constant prices), >= 0; default 0 */
    double annual_cost;        /**< maintenance/operating cost per year, >= 0; default 0 */
    double lifetime_years;     /**< economic life from opening, default 30 */
    int construction_years;    /**< default 1; capital is spread evenly over these years */
    size_t nitems;             /**< number of ids (segments, proposed links, cities, countries) or 1 for geometry */
} cs_change_info;

/** Information on change k (< cs_scenario_nchanges). CS_EINVAL when out of range. */
CS_API cs_status cs_scenario_change(const cs_scenario *s, size_t k, cs_change_info *out);

/**
 * Cost structure of the whole scenario (or of change k when k < nchanges;
 * pass SIZE_MAX for the whole): capital summed and spread evenly over the
 * longest construction period, annual costs summed, lifetime =
 * capital-weighted mean (or the plain mean when there is no capital).
 * capital (caller array of at least cap entries) receives the per-year
 * capital; costs->capital points into it. CS_EINVAL if cap is too small
 * (the years needed are in costs->n_capital).
 */
CS_API cs_status cs_scenario_costs(const cs_scenario *s, size_t k, double *capital, size_t cap,
                                   cs_project_costs *costs);

/**
 * New scenario with the changes of s whose flag keep[k] is non-zero (keep:
 * cs_scenario_nchanges(s) flags), in order, named `name` (NULL: s's name).
 * The result owns copies; s may be freed afterwards.
 */
CS_API cs_status cs_scenario_select(const cs_scenario *s, const uint8_t *keep, const char *name, cs_scenario **out);

/** New scenario with the changes of list[0..n-1], in order (a union; duplicates are kept as given). */
CS_API cs_status cs_scenario_merge(const cs_scenario *const *list, size_t n, const char *name, cs_scenario **out);

/**
 * Item i (< info.nitems) of change k: the segment, proposed-link, city,
 * country or region id as written (borrowed), or NULL when the change has
 * no ids (geometry, end points) or when out of range. For build "all" the
 * single item is "all".
 */
CS_API const char *cs_scenario_change_item(const cs_scenario *s, size_t k, size_t i);

/** Canonical JSON text of the scenario (includes expanded; owned string, cs_free). */
CS_API char *cs_scenario_to_json(const cs_scenario *s);

/* ----------------------------------------------------------------- baseline */

/**
 * Everything a scenario is evaluated against. All pointers borrowed; they
 * must outlive the base made from them (the base keeps pointers, except
 * where noted). Only `cities`, `time`, `cost` and `eq` are required for
 * soft, productivity and amenity scenarios; hard changes (upgrade, close,
 * build, link) need net, router and loc as well.
 */
typedef struct cs_scenario_inputs {
    const cs_cities *cities;   /**< n cities; population > 0 and an income per head > 0 each */
    const double *income_per_head; /**< n, NULL: cities->gdp_per_head (GDP per head at PPP in examples/africa) */
    const cs_network *net;     /**< road network (segment ids, proposed links, node coordinates), may be NULL */
    cs_router *router;         /**< router built from net; MUTATED during evaluation, restored afterwards */
    const cs_location *loc;    /**< n city locations on the router (as the matrix step uses) */
    const cs_matrix *time;     /**< n x n baseline travel time (s), city order */
    const cs_matrix *dist;     /**< n x n baseline distance (m), may be NULL when cost.dist_weight_per_km == 0 */
    const char *const *country; /**< n country codes (border matrices, border/soft changes); NULL: cities->country */
    const char *const *region;  /**< n region codes; NULL: cities->region (may itself be NULL) */
    const char *const *mobility; /**< n mobility-group labels; NULL: the country (nobody moves across borders) */
    const char *const *typology; /**< n typology class labels for the inequality decompositions (e.g. primary,
                                      secondary, metropolitan, isolated, other); NULL: no typology partition */
    const cs_matrix *border_time_min; /**< K x K border time penalties (min), ids = country codes, may be NULL */
    const cs_matrix *border_dist_m;   /**< K x K border distance penalties (m), may be NULL */
    const cs_soft_link *soft;  /**< baseline soft links (e.g. from the project), nsoft entries */
    size_t nsoft;
    const cs_links *links;     /**< optional link table (its soft links enter the cost as in cost.h) */
    const cs_matrix *flows;    /**< optional n x n interaction flows for road load (CS_SCENARIO_STRUCTURE) */
    cs_cost_params cost;       /**< generalised cost and iceberg mapping (cost.h) */
    cs_eq_params eq;           /**< model parameters (theta, alpha, beta, mobility, kappa, tolerance) */
    double snap_tolerance_m;   /**< drawn link end points join the nearest network node within this (default 5000) */
    int use_session;           /**< 1 (default): keep a cs_matrix_session so that hard changes recompute only
                                    affected rows/columns; 0: full matrix per evaluation (less memory) */
    const struct cs_typology_params *typology_params; /**< typology rules for the before/after typology
                                    (CS_SCENARIO_STRUCTURE); NULL: cs_typology_params_default */
    int typology_own_hub_flows; /**< 1: the typology's hub rule uses its own unconstrained gravity (project
                                    typology.hub_flows = simple_gravity); 0: `flows` (before) and the flows after */
    const struct cs_gravity_opts *gravity; /**< the gravity model that produced `flows`: when set, the road load
                                    after a scenario carries flows recomputed with it on the generalised cost and
                                    populations after the scenario (and the typology's hub flows likewise); NULL:
                                    the baseline flows are held fixed (re-routing of the same traffic only) */
} cs_scenario_inputs;

/** Zeroes *in and sets the defaults: cost and eq defaults, snap_tolerance_m 5000, use_session 1. */
CS_API void cs_scenario_inputs_default(cs_scenario_inputs *in);

/**
 * Split into one change per item (the portfolio module's candidates: one
 * candidate = one change): every upgrade/close/build change with several
 * items (build "all" expanded to every proposed link of in->net) becomes one
 * change per segment or link, named "<change name>/<id>", with capital and
 * annual costs shared in proportion to the item's length (evenly when a
 * length is unknown); other changes are copied unchanged. in may be NULL
 * when no change is "all" (then lengths are unknown: even shares).
 */
CS_API cs_status cs_scenario_split(const cs_scenario *s, const cs_scenario_inputs *in, cs_scenario **out);

/**
 * Opaque baseline: the inputs, the baseline cost and tau, the calibrated
 * model and equilibrium. When the network has proposed links, the base adds
 * them once to the router as CLOSED segments (ids cs_router_info.segments
 * before the base + k), so that building any of them later is a time change,
 * not a new hierarchy; they stay (closed, harmless) after the base is freed.
 */
typedef struct cs_scenario_base cs_scenario_base;

/**
 * Check the inputs, build the baseline generalised cost and tau (cs_cost_build,
 * cs_cost_iceberg), mobility groups, and calibrate the model once
 * (cs_eq_calibrate). Problems go to diag; warnings of the model too.
 * progress may be {NULL, NULL}. *out owned (cs_scenario_base_free); the
 * inputs struct itself is copied, the arrays it points to are borrowed.
 */
CS_API cs_status cs_scenario_base_new(const cs_scenario_inputs *in, cs_progress progress, cs_diag *diag,
                                      cs_scenario_base **out);
CS_API void cs_scenario_base_free(cs_scenario_base *b);

/** Cities (n). */
CS_API size_t cs_scenario_base_n(const cs_scenario_base *b);
/** Calibrated model and baseline equilibrium (borrowed). */
CS_API const cs_eq_model *cs_scenario_base_model(const cs_scenario_base *b);
CS_API const cs_eq_state *cs_scenario_base_state(const cs_scenario_base *b);
/** Baseline generalised cost (min) and iceberg tau (borrowed). */
CS_API const cs_matrix *cs_scenario_base_cost(const cs_scenario_base *b);
CS_API const cs_matrix *cs_scenario_base_tau(const cs_scenario_base *b);
/** Mobility groups: index per city (n, borrowed), count and names (borrowed). */
CS_API const uint32_t *cs_scenario_base_groups(const cs_scenario_base *b, size_t *ngroups,
                                               const char *const **names);
/** Countries likewise (from the country codes; one "" country when none). */
CS_API const uint32_t *cs_scenario_base_countries(const cs_scenario_base *b, size_t *ncountries,
                                                  const char *const **names);

/**
 * Validate a scenario against baseline inputs without calibrating (ids of
 * segments, proposed links, nodes, cities, countries and regions exist;
 * geometry joins the network within the tolerance; factors in range; a hard
 * change has a network). Every problem goes to diag, located as for
 * reading. Returns CS_EPARSE if any error. Only cities, net, country,
 * region, border matrices and snap_tolerance_m of `in` are used.
 */
CS_API cs_status cs_scenario_validate(const cs_scenario *s, const cs_scenario_inputs *in, cs_diag *diag);

/* --------------------------------------------------------------- evaluation */

/** Flags of cs_scenario_opts. */
#define CS_SCENARIO_STRUCTURE 0x01u /**< also the typology before/after and, when inputs.flows is given, the road
                                         load before/after (cs_load_compute on the network and on the network
                                         after the hard changes, flows held at the baseline); costs routing time */
#define CS_SCENARIO_KEEP_MATRICES 0x02u /**< keep time/cost/tau after in the result */

typedef struct cs_scenario_opts {
    cs_eq_horizon horizon;     /**< default CS_EQ_LONG_RUN */
    unsigned flags;            /**< CS_SCENARIO_* (default 0) */
    cs_appraisal_opts appraisal; /**< default cs_appraisal_opts_default */
    double access_theta;       /**< market access MA_i = sum_j L_j t_ij^-theta (t in min, j != i); default 1 */
    cs_progress progress;
} cs_scenario_opts;

CS_API void cs_scenario_opts_default(cs_scenario_opts *o);

/** One inequality figure before and after (population-weighted: each person once). */
typedef struct cs_scenario_ineq {
    const char *variable;  /**< "real_income" (w/P per head), "welfare" (W), "market_access" (static) */
    const char *measure;   /**< "gini", "theil_t", "theil_l", "cv", "atkinson_0.5", ... (static) */
    const char *partition; /**< "none", "region", "country", "typology" (static) */
    double before, after;  /**< total index */
    double between_before, between_after; /**< between-group part (GE measures; Gini: Dagum between), NaN for "none" */
    double within_before, within_after;   /**< within-group part, NaN for "none" */
} cs_scenario_ineq;

/** Result of one evaluation. Public SoA; every array owned by the result. */
typedef struct cs_scenario_result {
    size_t n;
    cs_eq_horizon horizon;
    /* per city (n each) */
    double *access_before, *access_after;  /**< market access (opts.access_theta), people-weighted time decay */
    double *mean_time_before, *mean_time_after; /**< population-weighted mean travel time to the other cities, s */
    cs_eq_state *after;        /**< counterfactual equilibrium (levels); the baseline is cs_scenario_base_state */
    cs_eq_change *change;      /**< hats, resident welfare change, equivalent variation (money) */
    double *a_shift, *b_shift; /**< productivity and amenity multipliers the scenario applied (1 = none) */
    uint32_t *rank;            /**< cities by real_income_hat descending (winners first; cs_eq_rank) */
    /* aggregates */
    cs_eq_aggregate *by_group;   /**< per mobility group */
    cs_eq_aggregate *by_country; /**< per country */
    size_t ngroups, ncountries;
    const char *const *group_names, *const *country_names; /**< borrowed from the base */
    /* inequality before/after */
    size_t nineq;
    cs_scenario_ineq *ineq;
    size_t n_gainers, n_losers; /**< cities whose resident welfare rose / fell (beyond 1e-12 relative) */
    /* money */
    double total_ev;           /**< sum of the equivalent variations (money per year, baseline prices) */
    double welfare_change;     /**< income-weighted: total_ev / baseline world income */
    double welfare_change_pop; /**< population-weighted mean of resident welfare change - 1 */
    double capital_cost, annual_cost;
    int appraised;             /**< 1 when capital_cost > 0 and appraisal holds values */
    cs_appraisal appraisal;    /**< with annual benefit = total_ev */
    /* travel time checks */
    size_t pairs_faster, pairs_slower; /**< city pairs (i != j) whose travel time fell / rose */
    size_t pairs_nonroad_after;        /**< pairs whose best route after uses a non-road segment */
    /* optional (CS_SCENARIO_KEEP_MATRICES) */
    cs_matrix *time_after, *cost_after, *tau_after;
    /* optional (CS_SCENARIO_STRUCTURE): typology classes and road load before/after */
    struct cs_typology *typology_before, *typology_after;
    struct cs_load *load_before, *load_after;
    uint32_t load_nsegs_before; /**< segments of the base network (load_after has the added ones after these) */
    int load_flows_recomputed;  /**< 1: load_after carries gravity flows recomputed after the scenario
                                     (inputs.gravity); 0: the baseline flows re-routed */
} cs_scenario_result;

CS_API void cs_scenario_result_free(cs_scenario_result *r);

/**
 * Evaluate a (valid) scenario: validates it first (CS_EPARSE with located
 * diag entries, nothing run, when invalid); applies its hard changes to the
 * router, recomputes travel times (the session or a full matrix) and
 * restores the router; rebuilds the generalised cost with the changed
 * border matrices and soft links; tau after; counterfactual by exact hat
 * algebra (cs_eq_counterfactual) with the productivity/amenity shifts;
 * comparison, aggregates, inequality, appraisal. opts may be NULL.
 */
CS_API cs_status cs_scenario_evaluate(cs_scenario_base *b, const cs_scenario *s, const cs_scenario_opts *opts,
                                      cs_diag *diag, cs_scenario_result **out);

/** Per-person outcome used by the fast mode and the portfolio module (money per person per year). */
typedef enum cs_scenario_outcome {
    CS_OUTCOME_REAL_INCOME = 0, /**< baseline income per head x real income change (w/P hat) */
    CS_OUTCOME_WELFARE = 1      /**< baseline income per head x resident welfare change (EV per person + income) */
} cs_scenario_outcome;

/** Baseline per-person outcome (n, caller array): the baseline income per head for both kinds. */
CS_API cs_status cs_scenario_base_outcome(const cs_scenario_base *b, cs_scenario_outcome kind, double *y);

/**
 * Fast evaluation for repeated use (the portfolio greedy): the scenario is
 * assumed valid (validate it once beforehand; an unknown id is still an
 * error, not a crash); no inequality, aggregates, appraisal or structure.
 * y_after (n, caller array) receives the per-person outcome after; total_ev
 * (may be NULL) the summed equivalent variation. Same numbers as
 * cs_scenario_evaluate.
 */
CS_API cs_status cs_scenario_evaluate_fast(cs_scenario_base *b, const cs_scenario *s, cs_eq_horizon horizon,
                                           cs_scenario_outcome kind, double *y_after, double *total_ev);

/**
 * Cheap first-order estimate of the aggregate welfare gain of a scenario in
 * money per year (docs/scenarios.md, "First-order estimate"):
 *   EV1 = - sum_{i != j} X_ij ln tau_hat_ij + sum_i Y_i ln a_hat_i + sum_i Y_i ln b_hat_i
 * with X_ij the baseline trade flows and Y_i = w_i L_i (envelope result,
 * exact to first order in the short run with alpha = beta = 0). Still
 * needs the travel-time change of hard changes (router applied and
 * restored), but no equilibrium solve.
 */
CS_API cs_status cs_scenario_estimate(cs_scenario_base *b, const cs_scenario *s, double *ev1);

/**
 * Layers for maps and GeoPackages: one row per change element drawn as a
 * line (upgraded/closed segments with their geometry, built links and
 * non-road links as straight lines or drawn geometry), with columns change,
 * type, item, capital_cost. *out owned (cs_table_free). Changes without a
 * line geometry (soft, border, productivity, ...) are not in it.
 */
struct cs_table;
CS_API cs_status cs_scenario_lines(const cs_scenario *s, const cs_scenario_inputs *in, struct cs_table **out);

/* ---------------------------------------------------------- project level */

/**
 * Validate scenario files against a project's baseline without evaluating:
 * reads the cities, builds the network when the project has one (in a
 * temporary folder, nothing kept), reads the border matrices of the
 * indicators section, then reads and validates every file. Every problem
 * goes to diag located in its file. CS_EPARSE if any file is invalid, CS_EIO
 * if one cannot be read.
 */
CS_API cs_status cs_scenario_check_project(const cs_project *p, const char *const *files, size_t nfiles,
                                           cs_diag *diag);
/**
 * cs_scenario_check_project with run options: the network is built or reused through the step cache of
 * ropts (cache_dir / no_cache, as cs_run; NULL = no cache, built in a temporary folder) after the project is
 * validated as the main job's "validate" step does. Nothing but the cache entry is written.
 */
CS_API cs_status cs_scenario_check_project_opts(const cs_project *p, const char *const *files, size_t nfiles,
                                                const cs_run_opts *ropts, cs_diag *diag);

/**
 * Evaluate scenario files on a project: runs the project's chain with the
 * run machinery and its cache (cs_run with until = "scenarios") after
 * replacing the project's scenario list by `files` (nfiles = 0: the
 * project's own list), horizon = CS_EQ_SHORT_RUN / CS_EQ_LONG_RUN or -1 for
 * the project's. outdir is written atomically (cs_run's rules) with the
 * outputs of the earlier steps and of the scenarios step (docs/scenarios.md,
 * "Outputs"). ropts may be NULL; its `until` is ignored.
 */
CS_API cs_status cs_scenario_run_project(const cs_project *p, const char *const *files, size_t nfiles, int horizon,
                                         const cs_run_opts *ropts, const char *outdir, cs_diag *diag,
                                         cs_run_summary *summary);

#ifdef __cplusplus
}
#endif
#endif

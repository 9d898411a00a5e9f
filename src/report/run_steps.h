/*
 * run_steps.h (private): the step interface of the main job (cs_run).
 *
 * A later module adds a step by defining one `const cs_run_step` (in its own
 * source file) and adding one entry to the table in src/report/run.c. The
 * design (fingerprints, cache entries, what a step may touch) is described in
 * docs/architecture.md.
 */
#ifndef CITYSYS_RUN_STEPS_H
#define CITYSYS_RUN_STEPS_H

#include "citysys/city.h"
#include "citysys/fileio.h"
#include "citysys/project.h"
#include "citysys/run.h"

/** State shared by the steps of one run. Each step documents what it sets. */
typedef struct cs_run_ctx {
    const cs_project *project; /**< borrowed */
    cs_diag *diag;             /**< input problems go here (may be NULL) */
    cs_progress progress;      /**< for long steps */
    /* set by "validate" (owned by the context, freed at the end of the run) */
    cs_cities *cities;
    cs_links **links; /**< nlinks tables, one per project `links` entry */
    size_t nlinks;
    /* set by "network" (owned; freed by cs_run_ctx_free_analysis) */
    struct cs_network *net;
    struct cs_router *router;
    /* set by "matrix": one location per city, travel time (s) and distance (m), city order */
    struct cs_snap *snaps;
    struct cs_location *loc;
    struct cs_matrix *time, *dist;
    /* set by "indicators" */
    struct cs_matrix *cost;      /**< generalised cost (time-equivalent minutes) */
    struct cs_matrix *flows;     /**< gravity interaction flows used for typology hubs and road load */
    double *access;              /**< market access per city (power decay, the headline theta) */
    /* set by "typology" */
    struct cs_typology *typology;
    /* set by "flows" */
    struct cs_load *load;
    struct cs_criticality *crit;
    /* results summarised for summary.json and the report (owned JSON object, may be NULL) */
    struct json_t *summary;
} cs_run_ctx;

/** Free everything the analysis steps put in the context (run.c calls it at the end of a run). */
void cs_run_ctx_free_analysis(cs_run_ctx *ctx);
/**
 * Run the steps up to and including opts->until (required) exactly as cs_run does — validation, the step
 * cache of opts (cache_dir / no_cache), progress — but keep no outputs (they go to a temporary folder that is
 * dropped) and hand the context to *out (free with cs_run_ctx_free). For commands that need the baseline
 * (cities, network, router, matrices) without writing results, e.g. `scenario check`.
 */
cs_status cs_run_context(const cs_project *p, const cs_run_opts *opts, cs_diag *diag, cs_run_ctx *out);
/** Free a context from cs_run_context (everything it owns). */
void cs_run_ctx_free(cs_run_ctx *ctx);
/** Check the analysis sections of the project (network, matrix, indicators, typology, flows, report);
 *  every problem goes to ctx->diag located in the project file. Called by the validate step. */
cs_status cs_run_check_sections(cs_run_ctx *ctx);

typedef struct cs_run_step {
    const char *name;  /**< short, [a-z0-9_]; also the cache entry prefix */
    unsigned version;  /**< bump whenever the step's outputs change for the same inputs */
    int cached;        /**< 1: outputs kept in the cache by fingerprint; 0: always run (in-memory steps) */
    /** Does the project ask for this step? NULL = always. */
    int (*wanted)(const cs_run_ctx *ctx);
    /**
     * Feed everything the step's output depends on besides earlier steps
     * (its project sections with cs_project_hash_section, its parameters).
     * NULL = nothing beyond the chain.
     */
    cs_status (*hash)(const cs_run_ctx *ctx, cs_sha256 *h);
    /** Compute; write output files (flat, unique names) into dir. May set context fields. */
    cs_status (*run)(cs_run_ctx *ctx, const char *dir);
    /** Reused from the cache: load what later steps need from dir into ctx (NULL = nothing). */
    cs_status (*load)(cs_run_ctx *ctx, const char *dir);
} cs_run_step;


/* Steps defined by the analysis modules (src/report/steps_*.c). */
extern const cs_run_step cs_step_network;
extern const cs_run_step cs_step_matrix;
extern const cs_run_step cs_step_indicators;
extern const cs_run_step cs_step_typology;
extern const cs_run_step cs_step_flows;
extern const cs_run_step cs_step_report;
extern const cs_run_step cs_step_facilities;
extern const cs_run_step cs_step_scenarios;
extern const cs_run_step cs_step_portfolio;

#endif

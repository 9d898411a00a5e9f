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

/** State shared by the steps of one run. Each step documents what it sets. */
typedef struct cs_run_ctx {
    const cs_project *project; /**< borrowed */
    cs_diag *diag;             /**< input problems go here (may be NULL) */
    cs_progress progress;      /**< for long steps */
    /* set by "validate" (owned by the context, freed at the end of the run) */
    cs_cities *cities;
    cs_links **links; /**< nlinks tables, one per project `links` entry */
    size_t nlinks;
} cs_run_ctx;

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

#endif

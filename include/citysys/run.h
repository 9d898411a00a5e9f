/*
 * run.h: the main job — run every step a project asks for and leave the
 * results in one output folder.
 *
 * cs_run validates the project's inputs, then runs its steps in order
 * (at present: validate, export; later modules add network, matrix,
 * indicators, ...), writing into a temporary sibling of the output folder.
 * `manifest.json` (inputs with SHA-256, project fingerprint, citysys and
 * dependency versions, steps with their fingerprints, outputs with sizes and
 * SHA-256) is written last, then the folder is swapped into place atomically:
 * a run that fails or is killed at any moment leaves the previous output
 * folder exactly as it was. Nothing is written when the input is invalid.
 *
 * Steps are cached by fingerprint (docs/architecture.md): each step's
 * fingerprint chains the previous step's fingerprint with the step's own
 * inputs and parameters, and its outputs are kept in
 * `<cache>/<step>-<fingerprint>/`, so re-running an unchanged project reuses
 * every step, and changing a parameter of a later step redoes only that step
 * and those after it. A changed input file changes every fingerprint that
 * depends on it, so a stale entry is never served.
 */
#ifndef CITYSYS_RUN_H
#define CITYSYS_RUN_H

#include "citysys/error.h"
#include "citysys/project.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_run_opts {
    cs_progress progress;  /**< progress callback (may be {NULL, NULL}); non-zero return cancels */
    const char *cache_dir; /**< step cache; NULL = "<parent of outdir>/.citysys-cache" */
    int no_cache;          /**< non-zero: neither read nor write the cache */
    const char *until;     /**< run the steps up to and including this one (e.g. "flows"), then finish the
                                folder with its manifest; NULL = every step. An unknown name is CS_EINVAL. */
} cs_run_opts;

/** Defaults: no progress, cache next to the output folder. */
CS_API void cs_run_opts_init(cs_run_opts *o);

/** What a run did (filled on success). */
typedef struct cs_run_summary {
    size_t nsteps;          /**< steps run or reused */
    size_t nreused;         /**< steps whose outputs came from the cache */
    size_t ncached;         /**< steps that keep their outputs in the cache (the others always run) */
    size_t noutputs;        /**< files in the output folder, manifest.json included */
    char fingerprint[65];   /**< project fingerprint (hex SHA-256) */
} cs_run_summary;

/**
 * Run the project into `outdir` (created, or replaced atomically when it is
 * an earlier citysys output folder — one whose manifest.json has
 * "format": "citysys-manifest" — or empty; any other existing non-empty
 * folder is refused with CS_EINVAL so that no user folder is ever replaced). Input problems go to diag (CS_EPARSE; nothing written).
 * summary may be NULL.
 */
CS_API cs_status cs_run(const cs_project *p, const char *outdir, const cs_run_opts *opts, cs_diag *diag,
                        cs_run_summary *summary);

/** Number of steps this build knows, and their names in run order ("validate", "export", ...). */
CS_API size_t cs_run_nsteps(void);
CS_API const char *cs_run_step_name(size_t i);

#ifdef __cplusplus
}
#endif
#endif

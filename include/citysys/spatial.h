/*
 * spatial.h: spatial weights (GAL files, polygon contiguity, k nearest
 * neighbours, travel-time threshold, block weights from groups), Moran's I
 * with analytical and permutation inference, and the spatial Gini of Rey &
 * Smith (2013). Formulas and sources: docs/methods.md, section "Spatial
 * weights, spatial autocorrelation and convergence".
 *
 * Permutation inference uses citysys's own generator (xoshiro256**, seeded
 * through splitmix64) with Fisher–Yates shuffles: the same seed gives the
 * same result on every platform and thread count. It cannot reproduce
 * PySAL's numpy draws; statistics match PySAL exactly, p-values in law.
 */
#ifndef CITYSYS_SPATIAL_H
#define CITYSYS_SPATIAL_H

#include "citysys/error.h"
#include "citysys/matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_weights_transform {
    CS_W_BINARY = 0, /**< "B": w_ij = 1 for neighbours (or the value read / given) */
    CS_W_ROW = 1     /**< "R": row-standardised, w_ij / Σ_j w_ij (islands keep an empty row) */
} cs_weights_transform;

/**
 * Spatial weights in compressed sparse rows. Unit i's neighbours are
 * nbr[offset[i] .. offset[i+1]), sorted by index, with weights w[...] (same
 * positions). No self-neighbours. Read freely; build and free with the functions.
 */
typedef struct cs_weights {
    size_t n;          /**< number of units */
    char **ids;        /**< n unit ids (owned strings) */
    size_t *offset;    /**< n+1 offsets (owned) */
    uint32_t *nbr;     /**< offset[n] neighbour indices (owned) */
    double *w;         /**< offset[n] weights (owned) */
    cs_weights_transform transform;
} cs_weights;

CS_API void cs_weights_free(cs_weights *w);
CS_API cs_status cs_weights_clone(const cs_weights *w, cs_weights **out);

/**
 * Build from a list of directed pairs (i, j, weight) (weight NULL: 1). Duplicates are refused,
 * self pairs are refused. ids may be NULL ("0", "1", ...). When `symmetrise` is non-zero,
 * every pair is also added in the other direction (a pair given both ways is kept once).
 */
CS_API cs_status cs_weights_from_pairs(size_t n, const char *const *ids, const uint32_t *from, const uint32_t *to,
                                       const double *weight, size_t npairs, int symmetrise, cs_weights **out);

/**
 * Read a GAL file (GeoDa/PySAL): first line "n" (or "0 n shapefile key", the
 * GeoDa 4-field header), then for each unit a line "id count" and a line with
 * `count` neighbour ids. Ids are strings; units are numbered in order of
 * appearance of their "id count" line (PySAL's id_order). Errors carry
 * file:line:column (CS_EPARSE): unknown neighbour ids, a count that does not
 * match, duplicates, self-neighbours, missing or extra lines.
 */
CS_API cs_status cs_weights_read_gal(const char *path, cs_weights **out);
/** Same from memory; `name` is used as the file name in messages (fuzzed). */
CS_API cs_status cs_weights_read_gal_mem(const char *data, size_t size, const char *name, cs_weights **out);
/** Write a GAL file atomically (the weights are not written; binary structure only). */
CS_API cs_status cs_weights_write_gal(const cs_weights *w, const char *path);

/**
 * Reorder weights to the given ids (e.g. the rows of a data table): unit k of the
 * result is the unit of w with id ids[k]. The id sets must be equal (CS_ENOTFOUND naming the
 * first id missing on either side).
 */
CS_API cs_status cs_weights_reorder(const cs_weights *w, const char *const *ids, size_t n, cs_weights **out);

/** Block weights: i and j (i != j) are neighbours with weight 1 iff group[i] == group[j] (PySAL block_weights). */
CS_API cs_status cs_weights_blocks(const uint32_t *group, size_t n, const char *const *ids, cs_weights **out);

/**
 * k nearest neighbours by great-circle (haversine, sphere radius 6371008.8 m) distance
 * between (lon, lat) in degrees. Ties at equal distance are broken by the smaller index,
 * so the result is deterministic. Binary weights; not symmetric in general.
 * Needs 1 <= k < n and finite coordinates.
 */
CS_API cs_status cs_weights_knn(const double *lon_deg, const double *lat_deg, size_t n, size_t k,
                                const char *const *ids, cs_weights **out);

/** Symmetry rule of the threshold weights. */
typedef enum cs_threshold_sym {
    CS_THRESH_DIRECTED = 0, /**< i → j when t_ij <= threshold */
    CS_THRESH_EITHER = 1,   /**< i ~ j when t_ij <= threshold or t_ji <= threshold */
    CS_THRESH_BOTH = 2      /**< i ~ j when t_ij <= threshold and t_ji <= threshold */
} cs_threshold_sym;

/**
 * Threshold weights from a square cost matrix (e.g. travel time in seconds): binary, the
 * diagonal ignored, unreachable (+inf) and NaN cells never neighbours. Ids = the row ids.
 */
CS_API cs_status cs_weights_threshold(const cs_matrix *m, double threshold, cs_threshold_sym sym, cs_weights **out);

/** Contiguity rule for polygons. */
typedef enum cs_contiguity {
    CS_CONTIG_QUEEN = 0, /**< share at least one vertex (exact coordinates) */
    CS_CONTIG_ROOK = 1   /**< share at least one edge: two consecutive vertices (either order) */
} cs_contiguity;

/**
 * Contiguity weights from polygons given as WKT (POLYGON or MULTIPOLYGON), parsed by
 * GDAL/OGR, by vertex hashing as PySAL does (shared coordinates must be bit-identical).
 * ids may be NULL. Binary, symmetric.
 */
CS_API cs_status cs_weights_contiguity_wkt(const char *const *wkt, size_t n, const char *const *ids,
                                           cs_contiguity rule, cs_weights **out);
/**
 * Same from any OGR vector source (layer NULL: first layer). `id_field` names the id
 * column (NULL: the feature number from 0). Errors carry layer/feature.
 */
CS_API cs_status cs_weights_contiguity_ogr(const char *path, const char *layer, const char *id_field,
                                           cs_contiguity rule, cs_weights **out);

/**
 * The weights among the units with keep[i] != 0 (e.g. one country): units renumbered in their
 * original order, links to dropped units removed, weights copied as they are (re-standardise
 * afterwards if needed: the transform of the result is that of w).
 */
CS_API cs_status cs_weights_subset(const cs_weights *w, const uint8_t *keep, cs_weights **out);

/** Row-standardise in place (no-op when already row-standardised). */
CS_API void cs_weights_row_standardise(cs_weights *w);
/** 1 if every weight is 1 and j ∈ N(i) ⇔ i ∈ N(j). */
CS_API int cs_weights_is_binary_symmetric(const cs_weights *w);
/** Number of units with no neighbour. */
CS_API size_t cs_weights_islands(const cs_weights *w);

/* ------------------------------------------------------------------ */
/* Permutation inference                                               */
/* ------------------------------------------------------------------ */

/**
 * Pseudo p-value of a permutation test with P permutations, L = #{sim >= observed},
 * S = #{sim <= observed}:
 *   CS_PERM_FOLDED  (PySAL esda/inequality default): (min(L, P − L) + 1) / (P + 1), one-sided in the
 *                   direction of the observed statistic;
 *   CS_PERM_GREATER: (L + 1) / (P + 1);
 *   CS_PERM_LESS:    (S + 1) / (P + 1);
 *   CS_PERM_TWO_SIDED: min(1, 2 · folded).
 */
typedef enum cs_perm_alternative {
    CS_PERM_FOLDED = 0,
    CS_PERM_GREATER = 1,
    CS_PERM_LESS = 2,
    CS_PERM_TWO_SIDED = 3
} cs_perm_alternative;

/** Options of the permutation tests. */
typedef struct cs_perm_opts {
    size_t permutations;        /**< 0: no permutation inference (default 999) */
    uint64_t seed;              /**< generator seed (default 12345) */
    cs_perm_alternative alternative;
} cs_perm_opts;
CS_API cs_perm_opts cs_perm_opts_default(void);

/** Moran's I (Moran 1950; Cliff & Ord 1981), names as in outputs and in PySAL esda.Moran. */
typedef struct cs_moran_result {
    size_t n;
    double s0, s1, s2;      /**< Σw_ij, ½ΣΣ(w_ij + w_ji)², Σ_i(w_i. + w_.i)² */
    double I;               /**< (n / S0) Σ_ij w_ij z_i z_j / Σ z_i² */
    double EI;              /**< −1/(n−1) */
    double VI_norm, seI_norm, z_norm; /**< normality assumption */
    double p_norm;          /**< one-tailed 1 − Φ(|z_norm|) */
    double p_norm_two;      /**< two-tailed 2 (1 − Φ(|z_norm|)) */
    double VI_rand, seI_rand, z_rand; /**< randomisation assumption (needs n >= 4) */
    double p_rand;          /**< one-tailed 1 − Φ(|z_rand|) */
    double p_rand_two;
    size_t permutations;    /**< 0 when not run: the *_sim fields are then 0 */
    double EI_sim, seI_sim, z_sim; /**< mean and SD (ddof 0) of the simulated I */
    double p_sim;           /**< pseudo p-value by opts.alternative */
    double p_z_sim;         /**< 1 − Φ(|z_sim|) */
} cs_moran_result;

/**
 * Moran's I of y (w->n values, in the order of the weights' units) under weights w as given (transform them first with
 * cs_weights_row_standardise for "R"). Needs n >= 4 (randomisation variance), y not constant.
 */
CS_API cs_status cs_moran(const double *y, const cs_weights *w, const cs_perm_opts *opts, cs_moran_result *out);

/** Spatial Gini (Rey & Smith 2013), names as in PySAL inequality.gini.Gini_Spatial. */
typedef struct cs_spatial_gini_result {
    double gini;       /**< CS_GINI_POPULATION Gini */
    double total;      /**< Σ_i Σ_j |y_i − y_j| (all ordered pairs) */
    double wg;         /**< Σ over ordered neighbour pairs of |y_i − y_j| */
    double wcg;        /**< total − wg: non-neighbour pairs */
    double wcg_share;  /**< wcg / (2 n² μ): the non-neighbour part of G (G = wg/(2n²μ) + wcg_share) */
    size_t permutations;
    double e_wcg, s_wcg, z_wcg; /**< mean, SD (ddof 0) of simulated wcg; z */
    double p_sim;      /**< pseudo p-value by opts.alternative (PySAL: folded) */
    double p_z_sim;    /**< 1 − Φ(z_wcg) */
} cs_spatial_gini_result;

/** y has w->n values. Refuses weights that are not binary symmetric (CS_EINVAL). Unweighted (each unit once). */
CS_API cs_status cs_spatial_gini(const double *y, const cs_weights *w, const cs_perm_opts *opts,
                                 cs_spatial_gini_result *out);

/** Standard normal upper tail 1 − Φ(x), accurate in the tail. */
CS_API double cs_normal_sf(double x);

#ifdef __cplusplus
}
#endif
#endif

/*
 * centrality.h: centralities of the city graph (closeness, harmonic,
 * betweenness, eigenvector), community detection (Louvain, seeded) as a
 * second view of clusters, and separate and combined indices for hard links
 * (road adjacency, rail, air) and soft links (collaboration). Uses igraph;
 * its errors are translated, never printed. Definitions in docs/centrality.md.
 */
#ifndef CITYSYS_CENTRALITY_H
#define CITYSYS_CENTRALITY_H

#include "citysys/matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An undirected weighted edge list over n cities (borrowed arrays). */
typedef struct cs_edge_list {
    size_t m;
    const uint32_t *i, *j;
    const double *length; /**< edge length for path-based measures (e.g. travel time, s); NULL = 1 */
    const double *weight; /**< edge strength for eigenvector/community (e.g. gravity flow); NULL = 1 */
} cs_edge_list;

typedef struct cs_centrality {
    size_t n;
    double *closeness;    /**< igraph closeness: (reachable − 1) / Σ d over reachable cities (normalised), NaN if isolated */
    double *harmonic;     /**< harmonic centrality: Σ_{j≠i} 1/d_ij / (n − 1) */
    double *betweenness;  /**< shortest-path betweenness (undirected, pairs counted once), lengths as distances */
    double *eigenvector;  /**< eigenvector centrality on weights, scaled to max 1 */
    uint32_t *community;  /**< Louvain community per city (ids by first appearance in city order) */
    uint32_t n_communities;
    double modularity;
    double *soft_strength;    /**< sum of soft-link weights per city (NULL when no soft links given) */
    double *soft_eigenvector; /**< eigenvector centrality on the soft-link graph (NULL when none) */
    double *soft_harmonic;    /**< harmonic centrality on the soft graph, soft lengths (hops by default) (NULL when none) */
    double *combined_eigenvector; /**< eigenvector centrality of the aggregate graph (1 − α) W_hard / ΣW_hard +
                                       α W_soft / ΣW_soft, α = soft_share (NULL when no soft links) */
    double *combined_strength;    /**< strength of the city in that aggregate graph (NULL when no soft links) */
} cs_centrality;

typedef struct cs_centrality_opts {
    uint64_t seed;        /**< Louvain seed (default 1) */
    double soft_share;    /**< α, weight of the soft layer in the aggregate graph, in [0, 1] (default 0.5) */
} cs_centrality_opts;

CS_API void cs_centrality_opts_default(cs_centrality_opts *o);

/**
 * Compute the centralities of n cities over hard links (`hard`), optionally
 * with soft links (`soft`, may be NULL or empty). Louvain is seeded by
 * `seed` and runs on the hard graph with `weight` strengths.
 */
CS_API cs_status cs_centrality_compute(size_t n, const cs_edge_list *hard, const cs_edge_list *soft,
                                       uint64_t seed, cs_centrality **out);
/** The same with options (soft_share; seed). */
CS_API cs_status cs_centrality_compute_opts(size_t n, const cs_edge_list *hard, const cs_edge_list *soft,
                                            const cs_centrality_opts *opts, cs_centrality **out);
CS_API void cs_centrality_free(cs_centrality *c);

#ifdef __cplusplus
}
#endif
#endif

/*
 * routing.h: exact shortest travel-time matrices on a road (and multimodal)
 * network, changes without a rebuild, and plain Dijkstra trees.
 *
 * Method: customizable contraction hierarchies (CCH; Dibbelt, Strasser &
 * Wagner, "Customizable Contraction Hierarchies", ACM JEA 21, 2016). A
 * metric-independent nested-dissection order and its chordal completion are
 * built once (cs_router_build); the travel times are then "customized" onto
 * the hierarchy. Changes (closures, new times, new links) re-customize only
 * the affected part (cs_router_apply). Fresh matrix queries run on a
 * metric-dependent "query hierarchy" derived by perfect customization with
 * arc removal (same paper), which keeps only arcs that are shortest routes.
 * Many-to-many queries use
 * elimination-tree searches with buckets (Knopp et al., ALENEX 2007). See
 * docs/routing.md for the algorithms, the tie rule and measured figures.
 *
 * Weights are exact integers: time in milliseconds, length in centimetres.
 * Routes are compared lexicographically by (time, length): among routes of
 * equal time the shortest length wins (the tie rule). Path sums are exact up
 * to 2^32-1 ms (49.7 days) and 2^32-1 cm (42,949 km) per route (the pair
 * is packed as time << 32 | length in one 64-bit integer; see
 * docs/routing.md for what happens beyond).
 *
 * Threads: a cs_router is immutable during queries and can be shared by any
 * number of threads; cs_router_apply must not run concurrently with queries.
 * Matrices are bitwise identical whatever the thread count.
 */
#ifndef CITYSYS_ROUTING_H
#define CITYSYS_ROUTING_H

#include "citysys/matrix.h"
#include "citysys/network.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque routing graph + hierarchy + current metric. */
typedef struct cs_router cs_router;

/** Build options (cs_router_opts_default fills them). */
typedef struct cs_router_opts {
    int threads;      /**< OpenMP threads, 0 = OpenMP default */
    uint32_t leaf_size; /**< nested dissection stops at parts this small (default 16) */
    int query_hierarchy; /**< 1: also derive the query hierarchy (perfect customization with arc removal,
                              docs/routing.md) used by fresh cs_router_matrix queries of this router;
                              0 (default): not — cs_router_save computes and writes it, so a cached
                              router loaded with cs_router_load has it (a one-shot build + 1,000 x 1,000
                              query is faster without it; large queries of a fresh build gain) */
} cs_router_opts;

CS_API void cs_router_opts_default(cs_router_opts *o);

/**
 * Build the routing graph (CSR, strongly connected components), the
 * nested-dissection order, the hierarchy and its customization from a
 * network (borrowed; the router copies what it needs). Segments with a
 * direction time of CS_NO_TIME are not traversable in that direction.
 * Node coordinates are used for the dissection order only (any finite values
 * work; quality, not correctness, depends on them).
 * *out receives an owned router (cs_router_free).
 */
CS_API cs_status cs_router_build(const cs_network *net, const cs_router_opts *opts, cs_progress progress,
                                 cs_router **out);
CS_API void cs_router_free(cs_router *r);

/** Sizes and components (cs_router_info). */
typedef struct cs_router_info {
    uint32_t nodes;        /**< graph nodes */
    uint32_t segments;     /**< segments, including added ones */
    uint32_t arcs;         /**< directed traversable arcs (open segment directions) */
    uint64_t cch_arcs;     /**< undirected arcs of the chordal hierarchy (original + shortcuts) */
    uint64_t shortcuts;    /**< cch_arcs that are not an original node pair */
    uint32_t elimination_tree_height; /**< longest root path (upper bound on a search space) */
    uint64_t memory_bytes; /**< bytes held by graph + hierarchy + metrics (excl. query scratch) */
    uint64_t query_arcs;   /**< entries of the query hierarchy (0 = none: built without it, or
                                invalidated by cs_router_apply) */
    uint32_t n_scc;        /**< strongly connected components (of the open directed graph) */
    uint32_t largest_scc;  /**< size of the largest */
    const uint32_t *scc_sizes; /**< n_scc sizes, decreasing (borrowed, valid until the next apply/free) */
    int has_nonroad;       /**< 1 if some segment has mode other than road/connector */
    char fingerprint[65];  /**< fingerprint of the network the router was built from */
} cs_router_info;

CS_API void cs_router_info_get(const cs_router *r, cs_router_info *out);

/**
 * Strongly connected component of each node (borrowed array of `nodes`
 * entries; component 0 is the largest, then by decreasing size, ties by the
 * smallest node id). Valid until the next cs_router_apply or free.
 */
CS_API const uint32_t *cs_router_scc(const cs_router *r);

/**
 * A source or target: either a node (node != CS_INVALID_ID) or a point on
 * segment `seg` at fraction `frac` of its length (0 = node u, 1 = node v),
 * plus a connector leg (access_ms, access_cm) added once at that end.
 * Partial segment legs, with round() = nearest integer, halves away from 0:
 *   forward time u->p = round(frac*fwd), p->v = fwd - round(frac*fwd);
 *   backward time v->p = round((1-frac)*bwd), p->u = bwd - round((1-frac)*bwd);
 * lengths the same way with len_cm. The parts add up exactly to the whole
 * segment. Two points on the same segment are also joined directly along it.
 * A location with seg == CS_INVALID_ID (not joined) gives an unreachable
 * row/column.
 */
typedef struct cs_location {
    uint32_t node;      /**< node id, or CS_INVALID_ID to use seg/frac */
    uint32_t seg;       /**< segment id (when node == CS_INVALID_ID); CS_INVALID_ID = not joined */
    double frac;        /**< 0..1 along the segment from u to v */
    uint32_t access_ms; /**< connector time added at this end */
    uint32_t access_cm; /**< connector length added at this end */
} cs_location;

/** Location at a node. */
CS_API cs_location cs_location_node(uint32_t node);
/** Location from a snap (seg CS_INVALID_ID / flagged -> unreachable row/column). */
CS_API cs_location cs_location_from_snap(const cs_snap *s);

typedef struct cs_matrix_opts {
    int threads;        /**< OpenMP threads, 0 = OpenMP default */
    int nonroad_flags;  /**< 1 (default): set CS_CELL_NONROAD when every optimal route uses a
                             non-road segment (ferry, rail, air, other); costs a second metric */
    int prune;          /**< exact pruning of search entries (a second pass per search, fewer bucket
                             entries): 1 on; 0 off; -1 (default) auto: on for queries on the query
                             hierarchy with at least 10^7 cells, off otherwise (measured on
                             synth-grid-v1, docs/routing.md) */
    size_t bucket_bytes_max; /**< 0 (default): all targets at once. Otherwise the targets are processed
                                  in column slices whose buckets (12 bytes per target and reached
                                  ancestor, estimated from a sample) stay under this many bytes:
                                  less memory for large target sets, at the cost of repeating the
                                  source searches once per slice. Same cells either way. */
    const char *const *src_ids; /**< optional row ids (copied), NULL = "0","1",... */
    const char *const *dst_ids; /**< optional column ids */
} cs_matrix_opts;

CS_API void cs_matrix_opts_default(cs_matrix_opts *o);

/**
 * Exact travel-time (seconds) and length (metres) matrices, sources x
 * targets. *time and *dist (either may be NULL to skip) receive owned
 * matrices with flags: CS_CELL_UNREACHABLE (value +INFINITY) and
 * CS_CELL_NONROAD. Tie rule: lexicographic (time, length); the NONROAD flag
 * is set only when no optimal (time, length) route is road-only. The matrix
 * fingerprint is the router's network fingerprint.
 * Runs on the query hierarchy when the router has one (built, or loaded from
 * a file), except when non-road flags are requested on a network with
 * non-road segments (full CCH); the values are the same either way.
 */
CS_API cs_status cs_router_matrix(const cs_router *r, const cs_location *src, size_t n, const cs_location *dst,
                                  size_t m, const cs_matrix_opts *opts, cs_progress progress, cs_matrix **time,
                                  cs_matrix **dist);

/**
 * The same as integers: time_ms[i*m+j] and len_cm[i*m+j] (caller-allocated,
 * either may be NULL); unreachable = UINT64_MAX in both. nonroad (may be
 * NULL) receives 1 where CS_CELL_NONROAD would be set.
 */
CS_API cs_status cs_router_matrix_raw(const cs_router *r, const cs_location *src, size_t n, const cs_location *dst,
                                      size_t m, const cs_matrix_opts *opts, uint64_t *time_ms, uint64_t *len_cm,
                                      uint8_t *nonroad);

/* ---- changes without a rebuild ---- */

/** What to change; build with the cs_route_changes_* functions. */
typedef struct cs_route_changes cs_route_changes;

CS_API cs_status cs_route_changes_new(cs_route_changes **out);
CS_API void cs_route_changes_free(cs_route_changes *c);
/** Close a segment in both directions. */
CS_API cs_status cs_route_changes_close(cs_route_changes *c, uint32_t seg);
/** Set new times (CS_NO_TIME closes that direction). */
CS_API cs_status cs_route_changes_set_time(cs_route_changes *c, uint32_t seg, uint32_t fwd_ms, uint32_t bwd_ms);
/** Multiply both times by factor (> 0; e.g. 0.5 = twice as fast); rounded to the nearest ms. */
CS_API cs_status cs_route_changes_scale(cs_route_changes *c, uint32_t seg, double factor);
/**
 * Add a segment between existing nodes (a proposed link); it receives the
 * next segment id (cs_router_info.segments before the apply + its index
 * among the added ones).
 */
CS_API cs_status cs_route_changes_add(cs_route_changes *c, uint32_t u, uint32_t v, uint32_t fwd_ms,
                                      uint32_t bwd_ms, uint32_t len_cm, cs_seg_mode mode);

/**
 * Apply changes to a built (or loaded) router. Time changes and closures
 * re-customize only the hierarchy arcs whose weight depends on the changed
 * segments; added segments whose node pair is not yet in the hierarchy
 * re-run the symbolic contraction with the same order (no new ordering).
 * The query hierarchy (metric-dependent) is dropped: later queries use the
 * full CCH, exact; cs_router_save derives a new one for the file.
 * On failure the router is left unchanged (apart from that drop). Not
 * thread-safe with queries.
 */
CS_API cs_status cs_router_apply(cs_router *r, const cs_route_changes *c);

/** Statistics of the last cs_router_apply. */
typedef struct cs_apply_stats {
    uint64_t arcs_recomputed;  /**< hierarchy arcs whose weights were recomputed */
    uint64_t arcs_changed;     /**< ... of which changed */
    int rebuilt_topology;      /**< 1 if added segments forced a new symbolic contraction */
} cs_apply_stats;
CS_API void cs_router_last_apply(const cs_router *r, cs_apply_stats *out);

/**
 * A matrix kept up to date across changes: it stores every source's and
 * target's search space (unpruned) and the cells, so that after
 * cs_router_apply only the rows and columns whose searches can change are
 * recomputed. A search is affected when one of the hierarchy arcs changed by
 * the apply leaves a node it reached and either improves the arc's head or
 * was tight there before (or when its point lies on a changed segment); an
 * unaffected search is provably identical. When the apply only raised times
 * or closed directions (on at most 16 segments), only the cells whose old
 * optimal route could use a changed segment are recomputed (cell-level test,
 * docs/routing.md). Memory: (n + m) x search space x
 * 12 bytes + n x m x 8 bytes per metric. The router is borrowed and must
 * outlive the session.
 */
typedef struct cs_matrix_session cs_matrix_session;

/** Compute the matrix (as cs_router_matrix; `prune` is ignored) and keep what an update needs. */
CS_API cs_status cs_matrix_session_new(const cs_router *r, const cs_location *src, size_t n, const cs_location *dst,
                                       size_t m, const cs_matrix_opts *opts, cs_matrix_session **out);
/**
 * Bring the matrix up to date after cs_router_apply. Exactly one apply since
 * the last compute is handled incrementally; more, or an apply that rebuilt
 * the hierarchy, recompute everything.
 */
CS_API cs_status cs_matrix_session_update(cs_matrix_session *s);
/** Rows and columns recomputed by the last update, whole or in some cells (n and m after a full compute). */
CS_API void cs_matrix_session_stats(const cs_matrix_session *s, size_t *rows, size_t *cols);
/** Current matrices (owned by the caller), with the flags of cs_router_matrix. */
CS_API cs_status cs_matrix_session_get(const cs_matrix_session *s, cs_matrix **time, cs_matrix **dist);
CS_API void cs_matrix_session_free(cs_matrix_session *s);

/* ---- save / load ---- */

/** Binary file format version written by this library. */
#define CS_ROUTER_FORMAT_VERSION 2u

/** Write the router (graph, hierarchy, current metric and its query hierarchy, derived here when the
    router has none: a second customization pass, ≈ 4–8 s on a 1-million-node grid) atomically. */
CS_API cs_status cs_router_save(const cs_router *r, const char *path);

/** cs_router_save flags: write no query hierarchy (and do not derive one), e.g. for temporary copies that
    are changed right after loading (cs_router_apply drops it anyway). */
#define CS_ROUTER_SAVE_NO_QUERY_HIERARCHY 1u
/** cs_router_save with flags (0 = cs_router_save). */
CS_API cs_status cs_router_save_flags(const cs_router *r, const char *path, unsigned flags);
/**
 * Load by mmap (private copy-on-write mapping, so cs_router_apply works on a
 * loaded router). Checks magic, version, endianness, the size implied by the
 * header, every section checksum and the CSR/hierarchy structure, reading
 * the file with bounded pread calls before mapping it, so that afterwards
 * only the pages a query reads become resident. When
 * expected_fingerprint is non-NULL and non-empty, a file built from another
 * network is refused as stale. Refusals are CS_EFORMAT with a message saying
 * how to rebuild.
 */
CS_API cs_status cs_router_load(const char *path, const char *expected_fingerprint, cs_router **out);

/* ---- plain Dijkstra (tests, load and criticality modules) ---- */

/** Reusable Dijkstra workspace (owns a CSR copy of the current open graph + heap). */
typedef struct cs_dijkstra cs_dijkstra;

/** Workspace for router r (borrowed; must outlive it; rebuild after cs_router_apply). */
CS_API cs_status cs_dijkstra_new(const cs_router *r, cs_dijkstra **out);
CS_API void cs_dijkstra_free(cs_dijkstra *d);

/**
 * One-to-all shortest path tree from `source` (forward, or on reversed arcs
 * when reverse = 1: distances *to* source), lexicographic (time, length).
 * Outputs (caller arrays of `nodes` entries, any may be NULL): time_ms and
 * len_cm (UINT64_MAX = unreachable), pred_seg (segment of the tree arc into
 * the node, CS_INVALID_ID for the source/unreachable) and pred_node.
 * Among tree arcs of equal (time, length), the one with the smallest segment
 * id is kept (deterministic).
 */
CS_API cs_status cs_dijkstra_run(cs_dijkstra *d, uint32_t source, int reverse, uint64_t *time_ms,
                                 uint64_t *len_cm, uint32_t *pred_seg, uint32_t *pred_node);

/* ---- building a network from plain arc lists ---- */

/**
 * Build a cs_network from plain arrays without geometry beyond straight
 * lines (tests, benchmarks, edge tables already in memory). n nodes with
 * coordinates lon/lat (NULL = all 0); m segments u[i]-v[i] with times fwd/bwd
 * (CS_NO_TIME = closed direction), lengths len_cm, modes (NULL = all road).
 * The network is owned by the caller and freed with cs_network_from_arcs_free
 * (not cs_network_free: that one belongs to the network builder).
 */
CS_API cs_status cs_network_from_arcs(uint32_t n, const double *lon, const double *lat, uint32_t m,
                                      const uint32_t *u, const uint32_t *v, const uint32_t *fwd_ms,
                                      const uint32_t *bwd_ms, const uint32_t *len_cm, const uint8_t *mode,
                                      cs_network **out);
CS_API void cs_network_from_arcs_free(cs_network *n);

#ifdef __cplusplus
}
#endif
#endif

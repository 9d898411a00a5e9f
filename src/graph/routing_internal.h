/* routing_internal.h: the cs_router layout shared by src/graph/{csr,ch,query,graphfile}.c (private). */
#ifndef CS_ROUTING_INTERNAL_H
#define CS_ROUTING_INTERNAL_H
#include <stdint.h>
#include "citysys/alloc.h"
#include "citysys/error.h"
#include "citysys/routing.h"

/* A route weight: (time_ms << 32) | len_cm, compared as one integer = lexicographic (time, length). */
#define RT_INF UINT64_MAX
static inline uint64_t rt_key(uint64_t ms, uint64_t cm) { return (ms << 32) | cm; }
static inline uint64_t rt_add(uint64_t a, uint64_t b)
{
    uint64_t s;
    if (__builtin_add_overflow(a, b, &s)) return RT_INF;
    return s;
}
static inline int rt_nonroad_mode(uint8_t mode)
{
    return mode != CS_SEG_ROAD && mode != CS_SEG_CONNECTOR;
}

struct cs_router {
    uint32_t n;    /* nodes */
    uint32_t nseg; /* segments */
    /* segments (SoA), ids as in the network, added ones appended */
    uint32_t *seg_u, *seg_v, *seg_fwd, *seg_bwd, *seg_len;
    uint8_t *seg_mode;
    uint32_t *seg_cch; /* hierarchy arc of {u,v}; CS_INVALID_ID for self-loops */
    /* order: node -> rank and rank -> node; everything below is indexed by rank */
    uint32_t *rank, *order;
    uint32_t *parent;   /* elimination tree parent (rank), CS_INVALID_ID at roots */
    uint32_t *first_up; /* n+1 */
    uint32_t *up_head;  /* ncch: upward neighbour, increasing within a node */
    uint32_t ncch;
    uint64_t *w_up, *w_dn; /* metric, all modes: lower->upper, upper->lower */
    uint64_t *r_up, *r_dn; /* road-only metric (NULL when no non-road segment) */
    int has_nonroad;
    /* components (node ids) */
    uint32_t *scc, *scc_sizes, nscc;
    uint32_t et_height;
    char fingerprint[65];
    /* query hierarchy (metric-dependent, derived from the customized CCH by perfect customization with
       arc removal; NULL when absent or invalidated by cs_router_apply): a CSR by rank of the arcs whose
       all-modes key is the exact distance between their ends. q_head = upper end | RT_QUP (the arc is
       kept lower->upper) | RT_QDN (kept upper->lower); an arc kept in both directions with equal keys is
       one entry, otherwise one entry per kept direction; heads non-decreasing within a node. */
    uint32_t *q_first; /* n+1 */
    uint32_t *q_head;  /* nq */
    uint64_t *q_key;   /* nq */
    uint32_t nq;
    /* lazily built for partial re-customization (never saved, always heap) */
    uint32_t *first_dn, *dn_tail, *dn_arc; /* down adjacency by rank: lower neighbours, sorted */
    uint32_t *arc_first_seg, *arc_segs;    /* hierarchy arc -> segments mapping to it */
    /* mmap state: when map != NULL, the arrays above except the lazy ones point into it */
    void *map;
    size_t map_size;
    cs_apply_stats last;
    /* change log of the last cs_router_apply (for cs_matrix_session_update) */
    uint64_t gen;          /* number of applies so far */
    int log_full;          /* the last apply re-customized everything (new topology / new metric) */
    size_t log_n[2], log_cap[2];
    uint32_t *log_arc[2];  /* per metric (0 all modes, 1 road only): changed arcs ... */
    uint64_t *log_up[2], *log_dn[2]; /* ... with their weights before the change */
    uint32_t *log_seg;     /* changed or added segments (log_nseg; one allocation with the next two) */
    uint32_t *log_old_fwd, *log_old_bwd; /* their times before the apply (CS_NO_TIME for added ones) */
    size_t log_nseg;
    int log_increase;      /* the last apply only raised times or closed directions (no additions) */
};

#define RT_QUP 0x80000000u
#define RT_QDN 0x40000000u
#define RT_QMASK 0x3fffffffu

/* csr.c */
cs_status rt_compute_scc(cs_router *r);
void rt_free_arrays(cs_router *r);
/* ch.c */
cs_status rt_order(const cs_router *r, const double *lon, const double *lat, uint32_t leaf, uint32_t *rank);
cs_status rt_contract(cs_router *r);          /* symbolic contraction with r->rank; sets parent, first_up, ... */
cs_status rt_map_segments(cs_router *r);      /* seg_cch */
cs_status rt_customize(cs_router *r, int threads); /* full customization of both metrics */
uint32_t rt_find_arc(const cs_router *r, uint32_t a, uint32_t b); /* ranks, a<b, or CS_INVALID_ID */
void rt_seg_keys(const cs_router *r, uint32_t s, uint64_t *kf, uint64_t *kb);
cs_status rt_detach(cs_router *r); /* copy mmap'ed arrays to the heap */
void rt_log_clear(cs_router *r);
cs_status rt_reduce(cs_router *r, int threads); /* query hierarchy from the current metric (q_*) */
void rt_reduced_free(cs_router *r);             /* drop it (frees when on the heap) */
#endif

/*
 * flows_internal.h (private): the augmented graph shared by the load (flows.c) and the route finder
 * (route_path.c): the network's open arcs, split at the points where cities join a segment (one node per
 * distinct (segment, fraction)), plus one node per city joined by two connector arcs. Partial segment
 * legs are rounded exactly as the router does (routing.h, cs_location).
 */
#ifndef CITYSYS_FLOWS_INTERNAL_H
#define CITYSYS_FLOWS_INTERNAL_H

#include "citysys/flows.h"

typedef struct aug {
    uint32_t n;           /* nodes */
    uint64_t *off;        /* n+1 out-arc offsets */
    uint32_t *head;
    uint32_t *t_ms, *l_cm;
    uint32_t *seg;        /* segment of the arc, CS_INVALID_ID for connectors */
    uint8_t *dir;         /* 0 forward (u->v), 1 backward */
    double *f0, *f1;      /* with_frac: fractions along the segment (from u) at the arc's tail and head */
    uint32_t *city_node;  /* per city: its own node */
    uint32_t *city_att;   /* per city: the node where its connector joins the network (CS_INVALID_ID: not joined) */
} aug;

cs_status cs__aug_build(const cs_network *net, const cs_location *loc, size_t n, int with_frac, aug *g);
void cs__aug_free(aug *g);

/* what the contracted core looked like (benchmarks, docs) */
typedef struct cs_core_stats {
    uint32_t core_nodes;
    uint64_t core_arcs, contracted, arcs_total;
} cs_core_stats;

/* the load on the contracted core (flows_core.c): fills L's segment and city arrays (allocated by the caller)
   and the totals; uflow/upair are the fixed-point units */
cs_status cs__load_core(const aug *g, size_t n, const cs_matrix *F, int nthreads, cs_progress progress, double uflow,
                        double upair, cs_load *L, uint32_t nsegs, double *tot_f, double *tot_ft, double *unr_f,
                        size_t *unr_p, cs_core_stats *stats);

#endif

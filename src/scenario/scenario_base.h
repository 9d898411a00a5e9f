/*
 * scenario_base.h (private): the baseline object and the channel helpers
 * shared by scenario_base.c and scenario_eval.c.
 */
#ifndef CITYSYS_SCENARIO_BASE_H
#define CITYSYS_SCENARIO_BASE_H

#include "scenario/scenario_internal.h"

/* Lookups of ids against the baseline (jansson objects used as hash maps). */
typedef struct sc_index {
    json_t *seg;     /* segment external id -> [segment indices] (split pieces share an id) */
    json_t *prop;    /* proposed link external id -> index */
    json_t *country; /* country codes present among the cities */
    json_t *region;  /* region codes present among the cities */
    const char *const *ccode, *const *rcode; /* per-city country / region codes (borrowed, may be NULL) */
} sc_index;

cs_status sc_index_build(const cs_scenario_inputs *in, sc_index *x);
void sc_index_free(sc_index *x);
/* flags: the network (hard changes) / the border matrices may be absent (checked later) */
#define SC_V_NET_OPTIONAL 0x1u
#define SC_V_BORDER_OPTIONAL 0x2u
int sc_validate_with(const cs_scenario *s, const cs_scenario_inputs *in, const sc_index *x, cs_diag *diag, unsigned flags);

struct cs_scenario_base {
    cs_scenario_inputs in; /* copy; cost.tau_theta set to eq.theta */
    size_t n;
    cs_progress progress;
    sc_index idx;
    double *w, *L;         /* observed income per head and population */
    cs_matrix *cost0, *tau0;
    cs_eq_model *model;
    cs_eq_state *state;
    uint32_t *group, *country;
    size_t ngroups, ncountries;
    const char **group_names, **country_names;
    /* router (prepared at the first hard change) */
    int router_ready;
    uint32_t prop0, nseg;  /* first pre-added proposed segment; segments known with baseline times */
    uint32_t *cur_fwd, *cur_bwd, *seg_len, *slot;
    cs_matrix_session *sess;
    cs_matrix *sess_time0, *sess_dist0;
    /* drawn links (build/link with end points or geometry) added to the router by earlier evaluations, closed
       since: an evaluation that draws the same link again (same ends, length and mode) re-opens that segment
       instead of adding another one (no new hierarchy arcs, no growth across many scenarios) */
    uint32_t *dr_u, *dr_v, *dr_len, *dr_seg;
    uint8_t *dr_mode, *dr_used;
    size_t ndr, dr_cap;
    /* first-order estimate (lazily): c_i = (w_i / A_i)^-theta, denom_j = sum_k c_k tau_kj^-theta */
    double *cexp, *denom;
};

uint32_t sc_end_node(const cs_scenario_inputs *in, const sc_change *c, int end, double *dist_m);
uint32_t sc_proposed_len_cm(const cs_network *net, uint32_t k);
double sc_line_length_m(const double *lon, const double *lat, size_t n);
int sc_has_hard(const cs_scenario *s);
cs_status sc_router_prepare(cs_scenario_base *b);
cs_status sc_cost_inputs(const cs_scenario_base *b, cs_cost_inputs *ci);
/* travel times after the hard changes (NULL when none); counts of pairs faster/slower/using non-road */
cs_status sc_travel_after(cs_scenario_base *b, const cs_scenario *s, int want_nonroad, cs_matrix **time1,
                          cs_matrix **dist1, size_t *faster, size_t *slower, size_t *nonroad);
/* generalised cost after (NULL and *changed = 0 when nothing that enters the cost changed) */
cs_status sc_cost_after(cs_scenario_base *b, const cs_scenario *s, const cs_matrix *time1, const cs_matrix *dist1,
                        cs_matrix **cost1, int *changed);
cs_status sc_shifts(const cs_scenario_base *b, const cs_scenario *s, const cs_matrix *time, double *ash, double *bsh);

/* change lines (upgraded/closed segments, built and non-road links): rows, offsets into lon/lat */
typedef struct sc_lines {
    size_t rows;
    const char **chg, **typ, **item; /* borrowed strings */
    double *capc;
    size_t *off; /* rows + 1 */
    double *lon, *lat;
} sc_lines;
/* the network after the hard changes (cs_network_from_arcs; free with cs_network_from_arcs_free): the
   network's segments with their times after, then its proposed links (closed unless built), then added links */
cs_status sc_network_after(cs_scenario_base *b, const cs_scenario *s, cs_network **out);
cs_status sc_lines_build(const cs_scenario *s, const cs_scenario_inputs *in, sc_lines *L);
void sc_lines_free(sc_lines *L);

#endif

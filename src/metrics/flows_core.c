/*
 * flows_core.c: the load on a contracted core (docs/flows.md, "contracted core").
 *
 * Every node of the augmented graph except the cities and their junction points is contracted in turn
 * (contraction-hierarchy style, Geisberger et al. 2008): for each pair of arcs u->v->w through the
 * contracted node v, a shortcut u->w is added unless a path u->w avoiding v is strictly shorter
 * (lexicographic (time, length) keys, exact integers). A shortcut keeps, with its key, the number σ of
 * tied shortest paths it stands for and its parts (original arcs, or the two arcs through a contracted
 * node, each with its σ); arcs of equal key between the same nodes are merged (σ added), a shorter one
 * replaces a longer one. Tied paths are never dropped, so the core keeps every fastest route between
 * kept nodes with its multiplicity. The load is then Brandes' accumulation (one tree per origin) on the
 * small core; the flow on each core arc is summed over all origins and split once, top down, among its
 * parts in proportion to their σ — the same equal split among tied routes as on the full graph.
 * Contraction stops when the cheapest remaining node would add too many arcs (the rest is the core).
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "flows_internal.h"

#define NONE UINT32_MAX
#define KINF UINT64_MAX

typedef struct carc {
    uint32_t tail, head;
    uint64_t key;     /* time << 32 | length */
    double sigma;     /* tied paths represented */
    uint32_t part;    /* first part, NONE */
    uint32_t freeze;  /* contraction step at which an end was contracted (NONE: core arc) */
} carc;

typedef struct cpart {
    uint32_t next;
    uint32_t a1, a2;  /* a1 == NONE: original augmented arc a2 */
    double sigma;
} cpart;

typedef struct ivec {
    uint32_t *v;
    uint32_t n, cap;
} ivec;

typedef struct core {
    const aug *g;
    carc *arcs;
    size_t na, acap;
    cpart *parts;
    size_t np, pcap;
    ivec *out, *in;
    uint32_t *ctime;  /* contraction step, NONE = not contracted */
    uint8_t *keep;    /* never contracted (cities, junctions) */
    uint32_t *cnbr;   /* contracted neighbours (spreads the order) */
    int overflow;
    /* witness search scratch */
    uint64_t *dist;
    uint32_t *touched, ntouched;
    uint32_t *heap, *hpos;
} core;

static int iv_push(ivec *a, uint32_t x)
{
    if (a->n == a->cap) {
        uint32_t nc = a->cap ? 2 * a->cap : 4;
        uint32_t *p = cs_reallocarray(a->v, nc, sizeof *p);
        if (!p) return -1;
        a->v = p;
        a->cap = nc;
    }
    a->v[a->n++] = x;
    return 0;
}

static uint64_t kadd(core *c, uint64_t a, uint64_t b)
{
    if (a == KINF || b == KINF) return KINF;
    uint64_t t = (a >> 32) + (b >> 32), l = (a & 0xffffffffu) + (b & 0xffffffffu);
    if (t >= (1ull << 32) || l >= (1ull << 32)) {
        c->overflow = 1;
        return KINF;
    }
    return (t << 32) | l;
}

static int new_part(core *c, uint32_t a1, uint32_t a2, double sigma, uint32_t next, uint32_t *out)
{
    if (c->np == c->pcap) {
        size_t nc = c->pcap ? 2 * c->pcap : 1024;
        cpart *p = cs_reallocarray(c->parts, nc, sizeof *p);
        if (!p) return -1;
        c->parts = p;
        c->pcap = nc;
    }
    c->parts[c->np] = (cpart){next, a1, a2, sigma};
    *out = (uint32_t)c->np++;
    return 0;
}

static int new_arc(core *c, uint32_t u, uint32_t w, uint64_t k, double sigma, uint32_t part, uint32_t *out)
{
    if (c->na == c->acap) {
        size_t nc = c->acap ? 2 * c->acap : 1024;
        carc *p = cs_reallocarray(c->arcs, nc, sizeof *p);
        if (!p) return -1;
        c->arcs = p;
        c->acap = nc;
    }
    if (c->na >= NONE - 1) return -1;
    uint32_t id = (uint32_t)c->na++;
    c->arcs[id] = (carc){u, w, k, sigma, part, NONE};
    if (iv_push(&c->out[u], id) || iv_push(&c->in[w], id)) return -1;
    *out = id;
    return 0;
}

/* add the path through v (arcs a1, a2) as an arc u->w, or merge it into an existing one */
static int add_or_merge(core *c, uint32_t u, uint32_t w, uint64_t k, uint32_t a1, uint32_t a2)
{
    double s = c->arcs[a1].sigma * c->arcs[a2].sigma;
    ivec *o = &c->out[u];
    for (uint32_t q = 0; q < o->n; q++) {
        carc *a = &c->arcs[o->v[q]];
        if (a->head != w || a->freeze != NONE) continue;
        if (k < a->key) {
            uint32_t p;
            if (new_part(c, a1, a2, s, NONE, &p)) return -1;
            a = &c->arcs[o->v[q]];
            a->key = k;
            a->sigma = s;
            a->part = p;
        } else if (k == a->key) {
            uint32_t p;
            if (new_part(c, a1, a2, s, a->part, &p)) return -1;
            a = &c->arcs[o->v[q]];
            a->part = p;
            a->sigma += s;
        }
        return 0;
    }
    uint32_t p, id;
    if (new_part(c, a1, a2, s, NONE, &p)) return -1;
    return new_arc(c, u, w, k, s, p, &id);
}

/* live in/out degree (arcs to nodes not contracted) */
static void degrees(const core *c, uint32_t v, uint32_t *din, uint32_t *dout)
{
    uint32_t a = 0, b = 0;
    for (uint32_t q = 0; q < c->in[v].n; q++) a += c->arcs[c->in[v].v[q]].freeze == NONE;
    for (uint32_t q = 0; q < c->out[v].n; q++) b += c->arcs[c->out[v].v[q]].freeze == NONE;
    *din = a;
    *dout = b;
}

static int64_t priority(const core *c, uint32_t v)
{
    uint32_t di, dout;
    degrees(c, v, &di, &dout);
    return (int64_t)di * dout - di - dout + (int64_t)c->cnbr[v];
}

/* ---- witness search: Dijkstra from u avoiding v, at most `limit` settled nodes, keys <= kmax ---- */
static void hswap(core *c, uint32_t i, uint32_t j)
{
    uint32_t x = c->heap[i], y = c->heap[j];
    c->heap[i] = y;
    c->heap[j] = x;
    c->hpos[y] = i;
    c->hpos[x] = j;
}
static int hless(const core *c, uint32_t i, uint32_t j)
{
    uint32_t x = c->heap[i], y = c->heap[j];
    return c->dist[x] < c->dist[y] || (c->dist[x] == c->dist[y] && x < y);
}
static void hup(core *c, uint32_t i)
{
    while (i > 0 && hless(c, i, (i - 1) / 2)) {
        hswap(c, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}
static void hdown(core *c, uint32_t i, uint32_t hn)
{
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        if (l < hn && hless(c, l, m)) m = l;
        if (l + 1 < hn && hless(c, l + 1, m)) m = l + 1;
        if (m == i) return;
        hswap(c, i, m);
        i = m;
    }
}

static void witness(core *c, uint32_t u, uint32_t v, uint64_t kmax, uint32_t limit)
{
    for (uint32_t q = 0; q < c->ntouched; q++) {
        c->dist[c->touched[q]] = KINF;
        c->hpos[c->touched[q]] = NONE;
    }
    c->ntouched = 0;
    uint32_t hn = 0, settled = 0;
    c->dist[u] = 0;
    c->touched[c->ntouched++] = u;
    c->heap[hn] = u;
    c->hpos[u] = hn++;
    while (hn && settled < limit) {
        uint32_t x = c->heap[0];
        if (c->dist[x] > kmax) break;
        hswap(c, 0, --hn);
        hdown(c, 0, hn);
        c->hpos[x] = NONE - 1;
        settled++;
        const ivec *o = &c->out[x];
        for (uint32_t q = 0; q < o->n; q++) {
            const carc *a = &c->arcs[o->v[q]];
            if (a->freeze != NONE || a->head == v) continue;
            uint64_t k = kadd(c, c->dist[x], a->key);
            uint32_t y = a->head;
            if (c->hpos[y] == NONE - 1 || k >= c->dist[y]) continue;
            if (c->dist[y] == KINF) {
                c->touched[c->ntouched++] = y;
                c->dist[y] = k;
                c->heap[hn] = y;
                c->hpos[y] = hn++;
            } else c->dist[y] = k;
            hup(c, c->hpos[y]);
        }
    }
}

static uint32_t WITNESS_LIMIT = 60;

static int contract(core *c, uint32_t v, uint32_t step)
{
    const ivec *in = &c->in[v], *out = &c->out[v];
    uint64_t kmax = 0;
    for (uint32_t p = 0; p < in->n; p++) {
        const carc *a1 = &c->arcs[in->v[p]];
        if (a1->freeze != NONE || a1->tail == v) continue;
        uint32_t u = a1->tail;
        kmax = 0;
        for (uint32_t q = 0; q < out->n; q++) {
            const carc *a2 = &c->arcs[out->v[q]];
            if (a2->freeze != NONE || a2->head == u || a2->head == v) continue;
            uint64_t k = kadd(c, a1->key, a2->key);
            if (k != KINF && k > kmax) kmax = k;
        }
        witness(c, u, v, kmax, WITNESS_LIMIT);
        uint32_t nout = out->n;
        for (uint32_t q = 0; q < nout; q++) {
            uint32_t i1 = c->in[v].v[p], i2 = c->out[v].v[q];
            const carc *b1 = &c->arcs[i1], *b2 = &c->arcs[i2];
            if (b2->freeze != NONE || b2->head == u || b2->head == v) continue;
            uint64_t k = kadd(c, b1->key, b2->key);
            if (k == KINF) continue;
            uint32_t w = b2->head;
            if (c->dist[w] < k) continue; /* a strictly shorter path avoids v */
            if (add_or_merge(c, u, w, k, i1, i2)) return -1;
        }
    }
    c->ctime[v] = step;
    for (uint32_t p = 0; p < c->in[v].n; p++) {
        carc *a = &c->arcs[c->in[v].v[p]];
        if (a->freeze == NONE) {
            a->freeze = step;
            c->cnbr[a->tail]++;
        }
    }
    for (uint32_t q = 0; q < c->out[v].n; q++) {
        carc *a = &c->arcs[c->out[v].v[q]];
        if (a->freeze == NONE) {
            a->freeze = step;
            c->cnbr[a->head]++;
        }
    }
    /* the neighbours' lists keep only live arcs (frozen ones stay reachable through their parts) */
    for (int side = 0; side < 2; side++) {
        const ivec *lst = side ? &c->out[v] : &c->in[v];
        for (uint32_t p = 0; p < lst->n; p++) {
            const carc *a = &c->arcs[lst->v[p]];
            uint32_t x = side ? a->head : a->tail;
            if (x == v) continue;
            ivec *nb = side ? &c->in[x] : &c->out[x];
            uint32_t k = 0;
            for (uint32_t r = 0; r < nb->n; r++)
                if (c->arcs[nb->v[r]].freeze == NONE) nb->v[k++] = nb->v[r];
            nb->n = k;
        }
    }
    return 0;
}

/* ---- node order: lazy binary heap on (priority, node) ---- */
typedef struct pq {
    int64_t *pr;
    uint32_t *nd;
    size_t n;
} pq;
static int pq_less(const pq *q, size_t i, size_t j)
{
    return q->pr[i] < q->pr[j] || (q->pr[i] == q->pr[j] && q->nd[i] < q->nd[j]);
}
static void pq_swap(pq *q, size_t i, size_t j)
{
    int64_t p = q->pr[i];
    q->pr[i] = q->pr[j];
    q->pr[j] = p;
    uint32_t x = q->nd[i];
    q->nd[i] = q->nd[j];
    q->nd[j] = x;
}
static void pq_push(pq *q, int64_t p, uint32_t x)
{
    size_t i = q->n++;
    q->pr[i] = p;
    q->nd[i] = x;
    while (i > 0 && pq_less(q, i, (i - 1) / 2)) {
        pq_swap(q, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}
static void pq_pop(pq *q)
{
    pq_swap(q, 0, --q->n);
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < q->n && pq_less(q, l, m)) m = l;
        if (l + 1 < q->n && pq_less(q, l + 1, m)) m = l + 1;
        if (m == i) return;
        pq_swap(q, i, m);
        i = m;
    }
}

static void core_free(core *c)
{
    uint32_t N = c->g ? c->g->n : 0;
    for (uint32_t x = 0; c->out && x < N; x++) cs_free(c->out[x].v);
    for (uint32_t x = 0; c->in && x < N; x++) cs_free(c->in[x].v);
    cs_free(c->out);
    cs_free(c->in);
    cs_free(c->arcs);
    cs_free(c->parts);
    cs_free(c->ctime);
    cs_free(c->keep);
    cs_free(c->cnbr);
    cs_free(c->dist);
    cs_free(c->touched);
    cs_free(c->heap);
    cs_free(c->hpos);
}

/* ---- per-origin accumulation on the core CSR ---- */
typedef struct ccsr {
    uint32_t n;          /* core nodes */
    uint64_t *off;
    uint32_t *head, *arc;/* head (core index), carc id */
    uint64_t *key;
    double *sigma;
    uint8_t *net;        /* 1 unless the arc is a city connector */
} ccsr;

cs_status cs__load_core(const aug *g, size_t n, const cs_matrix *F, int nthreads, cs_progress progress,
                        double uflow, double upair, cs_load *L, uint32_t nsegs, double *tot_f, double *tot_ft,
                        double *unr_f, size_t *unr_p, cs_core_stats *stats)
{
    core c;
    memset(&c, 0, sizeof c);
    c.g = g;
    uint32_t N = g->n;
    cs_status st = CS_OK;
    c.out = cs_calloc(N ? N : 1, sizeof *c.out);
    c.in = cs_calloc(N ? N : 1, sizeof *c.in);
    c.ctime = cs_mallocarray(N ? N : 1, sizeof *c.ctime);
    c.keep = cs_calloc(N ? N : 1, 1);
    c.cnbr = cs_calloc(N ? N : 1, sizeof *c.cnbr);
    c.dist = cs_mallocarray(N ? N : 1, sizeof *c.dist);
    c.touched = cs_mallocarray(N ? N : 1, sizeof *c.touched);
    c.heap = cs_mallocarray(N ? N : 1, sizeof *c.heap);
    c.hpos = cs_mallocarray(N ? N : 1, sizeof *c.hpos);
    pq q = {cs_mallocarray(N ? N : 1, sizeof(int64_t)), cs_mallocarray(N ? N : 1, sizeof(uint32_t)), 0};
    if (!c.out || !c.in || !c.ctime || !c.keep || !c.cnbr || !c.dist || !c.touched || !c.heap || !c.hpos || !q.pr ||
        !q.nd) {
        st = CS_ENOMEM;
        goto done;
    }
    for (uint32_t x = 0; x < N; x++) {
        c.ctime[x] = NONE;
        c.dist[x] = KINF;
        c.hpos[x] = NONE;
    }
    for (size_t i = 0; i < n; i++) {
        c.keep[g->city_node[i]] = 1;
        if (g->city_att[i] != CS_INVALID_ID) c.keep[g->city_att[i]] = 1;
    }
    /* original arcs; parallel arcs (same tail and head, adjacent after the sort) merged, the best key kept */
    for (uint32_t x = 0; x < N; x++) {
        for (uint64_t e = g->off[x]; e < g->off[x + 1]; e++) {
            if (g->head[e] == x) continue;
            uint64_t k = ((uint64_t)g->t_ms[e] << 32) | g->l_cm[e];
            uint32_t last = c.out[x].n ? c.out[x].v[c.out[x].n - 1] : NONE;
            uint32_t p;
            if (last != NONE && c.arcs[last].head == g->head[e]) {
                carc *a = &c.arcs[last];
                if (k < a->key) {
                    if (new_part(&c, NONE, (uint32_t)e, 1, NONE, &p)) goto oom;
                    a = &c.arcs[last];
                    a->key = k;
                    a->sigma = 1;
                    a->part = p;
                } else if (k == a->key) {
                    if (new_part(&c, NONE, (uint32_t)e, 1, a->part, &p)) goto oom;
                    a = &c.arcs[last];
                    a->part = p;
                    a->sigma += 1;
                }
                continue;
            }
            uint32_t id;
            if (new_part(&c, NONE, (uint32_t)e, 1, NONE, &p) || new_arc(&c, x, g->head[e], k, 1, p, &id)) goto oom;
        }
    }
    /* contraction */
    int64_t PMAX = 60;
    {
        const char *e = getenv("CITYSYS_CORE_PMAX"); /* tuning only (undocumented) */
        if (e && atoi(e) > 0) PMAX = atoi(e);
        e = getenv("CITYSYS_CORE_WITNESS");
        if (e && atoi(e) > 0) WITNESS_LIMIT = (uint32_t)atoi(e);
    }
    for (uint32_t x = 0; x < N; x++)
        if (!c.keep[x]) pq_push(&q, priority(&c, x), x);
    uint32_t step = 0;
    while (q.n) {
        uint32_t v = q.nd[0];
        int64_t p0 = q.pr[0];
        int64_t p = priority(&c, v);
        if (p > p0) { /* stale: re-insert with the current priority */
            pq_pop(&q);
            pq_push(&q, p, v);
            continue;
        }
        if (p > PMAX) break;
        pq_pop(&q);
        if (contract(&c, v, step++)) goto oom;
        if (c.overflow) break;
    }
    if (c.overflow) {
        st = cs_error_set(CS_EUNSUPPORTED, "load: a route exceeds 2^32 ms or 2^32 cm");
        goto done;
    }
    /* core CSR */
    {
        uint32_t *cid = c.dist ? (uint32_t *)c.touched : NULL; /* reuse: core index per node */
        uint32_t nc = 0;
        for (uint32_t x = 0; x < N; x++) cid[x] = c.ctime[x] == NONE ? nc++ : NONE;
        ccsr h = {nc, cs_calloc((size_t)nc + 1, sizeof(uint64_t)), NULL, NULL, NULL, NULL, NULL};
        if (!h.off) goto oom;
        size_t m = 0;
        for (uint32_t x = 0; x < N; x++) {
            if (c.ctime[x] != NONE) continue;
            for (uint32_t k = 0; k < c.out[x].n; k++)
                if (c.arcs[c.out[x].v[k]].freeze == NONE) m++;
        }
        h.head = cs_mallocarray(m ? m : 1, sizeof *h.head);
        h.arc = cs_mallocarray(m ? m : 1, sizeof *h.arc);
        h.key = cs_mallocarray(m ? m : 1, sizeof *h.key);
        h.sigma = cs_mallocarray(m ? m : 1, sizeof *h.sigma);
        h.net = cs_mallocarray(m ? m : 1, 1);
        int64_t *aacc = cs_calloc(2 * (m ? m : 1), sizeof *aacc);
        int64_t *cacc = cs_calloc(2 * (n ? n : 1), sizeof *cacc);
        double *af = cs_calloc(2 * (c.na ? c.na : 1), sizeof *af);
        uint32_t *order = cs_mallocarray(c.na ? c.na : 1, sizeof *order);
        if (!h.head || !h.arc || !h.key || !h.sigma || !h.net || !aacc || !cacc || !af || !order) {
            cs_free(h.off); cs_free(h.head); cs_free(h.arc); cs_free(h.key); cs_free(h.sigma); cs_free(h.net);
            cs_free(aacc); cs_free(cacc); cs_free(af); cs_free(order);
            goto oom;
        }
        size_t e = 0;
        for (uint32_t x = 0; x < N; x++) {
            if (c.ctime[x] != NONE) continue;
            for (uint32_t k = 0; k < c.out[x].n; k++) {
                uint32_t a = c.out[x].v[k];
                if (c.arcs[a].freeze != NONE) continue;
                h.head[e] = cid[c.arcs[a].head];
                h.arc[e] = a;
                h.key[e] = c.arcs[a].key;
                h.sigma[e] = c.arcs[a].sigma;
                const cpart *pp = &c.parts[c.arcs[a].part];
                h.net[e] = !(pp->a1 == NONE && g->seg[pp->a2] == CS_INVALID_ID);
                e++;
            }
            h.off[cid[x] + 1] = e;
        }
        if (stats) {
            stats->core_nodes = nc;
            stats->core_arcs = m;
            stats->contracted = step;
            stats->arcs_total = c.na;
        }
        /* Brandes per origin on the core */
        double sf = 0, sft = 0, suf = 0;
        size_t sup = 0, done_o = 0;
        int failed = 0, cancelled = 0;
#pragma omp parallel num_threads(nthreads) reduction(+ : sf, sft, suf, sup)
        {
            uint64_t *key = cs_mallocarray(nc ? nc : 1, sizeof *key);
            uint32_t *heap = cs_mallocarray(nc ? nc : 1, sizeof *heap), *hpos = cs_mallocarray(nc ? nc : 1, sizeof *hpos),
                     *ord = cs_mallocarray(nc ? nc : 1, sizeof *ord);
            double *sig = cs_calloc(nc ? nc : 1, sizeof *sig), *del = cs_calloc(nc ? nc : 1, sizeof *del),
                   *pdel = cs_calloc(nc ? nc : 1, sizeof *pdel), *thr = cs_calloc(nc ? nc : 1, sizeof *thr),
                   *thrp = cs_calloc(nc ? nc : 1, sizeof *thrp);
            uint8_t *want = cs_calloc(nc ? nc : 1, 1);
            int ok = key && heap && hpos && ord && sig && del && pdel && thr && thrp && want;
            if (!ok) {
#pragma omp atomic write
                failed = 1;
            } else
                for (uint32_t x = 0; x < nc; x++) {
                    key[x] = KINF;
                    hpos[x] = NONE;
                }
#pragma omp for schedule(dynamic, 1)
            for (size_t oi = 0; oi < n; oi++) {
                int skip;
#pragma omp atomic read
                skip = failed;
                if (skip || !ok) continue;
                uint32_t src = cid[g->city_node[oi]], nwant = 0;
                for (size_t j = 0; j < n; j++) {
                    double f = F->v[oi * n + j];
                    uint32_t cj = cid[g->city_node[j]];
                    if (j != oi && f > 0 && !want[cj]) {
                        want[cj] = 1;
                        nwant++;
                    }
                }
                if (nwant == 0) continue;
                /* Dijkstra, σ on the fly (arcs carry their own σ) */
                uint32_t hn = 0, nset = 0;
                key[src] = 0;
                sig[src] = 1;
                heap[hn] = src;
                hpos[src] = hn++;
                while (hn) {
                    uint32_t x = heap[0];
                    /* pop */
                    uint32_t last = heap[--hn];
                    if (hn) {
                        uint32_t i = 0;
                        for (;;) {
                            uint32_t l = 2 * i + 1, mm = NONE;
                            if (l >= hn) break;
                            mm = l;
                            if (l + 1 < hn && (key[heap[l + 1]] < key[heap[l]] ||
                                               (key[heap[l + 1]] == key[heap[l]] && heap[l + 1] < heap[l])))
                                mm = l + 1;
                            if (key[last] < key[heap[mm]] || (key[last] == key[heap[mm]] && last < heap[mm])) break;
                            heap[i] = heap[mm];
                            hpos[heap[i]] = i;
                            i = mm;
                        }
                        heap[i] = last;
                        hpos[last] = i;
                    }
                    hpos[x] = NONE - 1;
                    ord[nset++] = x;
                    if (want[x] && --nwant == 0) break;
                    uint64_t kx = key[x];
                    for (uint64_t a = h.off[x]; a < h.off[x + 1]; a++) {
                        uint32_t y = h.head[a];
                        if (hpos[y] == NONE - 1) continue;
                        uint64_t t = (kx >> 32) + (h.key[a] >> 32), l = (kx & 0xffffffffu) + (h.key[a] & 0xffffffffu);
                        if (t >= (1ull << 32) || l >= (1ull << 32)) continue; /* cannot be a route (checked above) */
                        uint64_t k = (t << 32) | l;
                        if (k < key[y]) {
                            int fresh = key[y] == KINF;
                            key[y] = k;
                            sig[y] = sig[x] * h.sigma[a];
                            if (fresh) {
                                heap[hn] = y;
                                hpos[y] = hn++;
                            }
                            uint32_t i = hpos[y];
                            while (i > 0) {
                                uint32_t pp = (i - 1) / 2, z = heap[pp];
                                if (key[z] < k || (key[z] == k && z < y)) break;
                                heap[i] = z;
                                hpos[z] = i;
                                i = pp;
                            }
                            heap[i] = y;
                            hpos[y] = i;
                        } else if (k == key[y])
                            sig[y] += sig[x] * h.sigma[a];
                    }
                }
                /* forget what is still queued: farther than every destination */
                for (uint32_t i = 0; i < hn; i++) {
                    key[heap[i]] = KINF;
                    hpos[heap[i]] = NONE;
                    sig[heap[i]] = 0;
                }
                for (size_t j = 0; j < n; j++) want[cid[g->city_node[j]]] = 0;
                for (size_t j = 0; j < n; j++) {
                    double f = F->v[oi * n + j];
                    if (j == oi || !(f > 0)) continue;
                    uint32_t cj = cid[g->city_node[j]];
                    if (key[cj] == KINF) {
                        suf += f;
                        sup++;
                        continue;
                    }
                    sf += f;
                    sft += f * (double)(key[cj] >> 32) / 1000.0;
                    del[cj] += f;
                    pdel[cj] += 1;
                }
                for (uint32_t qq = 0; qq < nset; qq++) hpos[ord[qq]] = qq;
                for (uint32_t qq = nset; qq-- > 0;) {
                    uint32_t x = ord[qq];
                    uint64_t kx = key[x];
                    for (uint64_t a = h.off[x]; a < h.off[x + 1]; a++) {
                        uint32_t y = h.head[a];
                        if (key[y] == KINF || hpos[y] <= qq) continue;
                        if (!(del[y] > 0) && !(pdel[y] > 0)) continue;
                        uint64_t t = (kx >> 32) + (h.key[a] >> 32), l = (kx & 0xffffffffu) + (h.key[a] & 0xffffffffu);
                        if (t >= (1ull << 32) || l >= (1ull << 32) || ((t << 32) | l) != key[y]) continue;
                        double share = sig[x] * h.sigma[a] / sig[y];
                        double fl = share * del[y], pr = share * pdel[y];
                        del[x] += fl;
                        pdel[x] += pr;
                        if (h.net[a]) {
                            thr[x] += fl;
                            thrp[x] += pr;
                        }
                        int64_t qf = llround(fl / uflow), qp = llround(pr / upair);
#pragma omp atomic
                        aacc[2 * a] += qf;
#pragma omp atomic
                        aacc[2 * a + 1] += qp;
                    }
                }
                uint32_t oatt = g->city_att[oi];
                for (size_t b = 0; b < n; b++) {
                    uint32_t at = g->city_att[b];
                    if (b == oi || at == CS_INVALID_ID || at == oatt) continue;
                    uint32_t ca = cid[at];
                    if (!(thr[ca] > 0 || thrp[ca] > 0)) continue;
                    int64_t qf = llround(thr[ca] / uflow), qp = llround(thrp[ca] / upair);
#pragma omp atomic
                    cacc[2 * b] += qf;
#pragma omp atomic
                    cacc[2 * b + 1] += qp;
                }
                for (uint32_t qq = 0; qq < nset; qq++) {
                    uint32_t x = ord[qq];
                    key[x] = KINF;
                    hpos[x] = NONE;
                    sig[x] = del[x] = pdel[x] = thr[x] = thrp[x] = 0;
                }
                size_t d;
#pragma omp atomic capture
                d = ++done_o;
                if (progress.fn && omp_get_thread_num() == 0 && progress.fn(progress.user, "load on roads", (double)d, (double)n)) {
#pragma omp atomic write
                    cancelled = 1;
#pragma omp atomic write
                    failed = 1;
                }
            }
            cs_free(key); cs_free(heap); cs_free(hpos); cs_free(ord);
            cs_free(sig); cs_free(del); cs_free(pdel); cs_free(thr); cs_free(thrp); cs_free(want);
        }
        *tot_f = sf;
        *tot_ft = sft;
        *unr_f = suf;
        *unr_p = sup;
        if (cancelled) st = cs_error_set(CS_ECANCELED, "load computation cancelled");
        else if (failed) st = CS_ENOMEM;
        if (!st) {
            /* unpack: arcs by decreasing freeze step (core arcs first); each splits among its parts by σ */
            size_t nca = c.na;
            uint32_t *cnt = cs_calloc((size_t)step + 2, sizeof *cnt);
            if (!cnt) st = CS_ENOMEM;
            else {
                for (size_t a = 0; a < nca; a++) cnt[c.arcs[a].freeze == NONE ? step + 1 : c.arcs[a].freeze]++;
                /* positions, descending freeze */
                uint32_t pos = 0;
                for (size_t f = (size_t)step + 2; f-- > 0;) {
                    uint32_t k = cnt[f];
                    cnt[f] = pos;
                    pos += k;
                }
                for (size_t a = 0; a < nca; a++) order[cnt[c.arcs[a].freeze == NONE ? step + 1 : c.arcs[a].freeze]++] = (uint32_t)a;
                cs_free(cnt);
                for (size_t a = 0; a < m; a++) {
                    af[2 * (size_t)h.arc[a]] = (double)aacc[2 * a] * uflow;
                    af[2 * (size_t)h.arc[a] + 1] = (double)aacc[2 * a + 1] * upair;
                }
                for (uint32_t s = 0; s < nsegs; s++) L->flow_fwd[s] = L->flow_bwd[s] = L->pairs_fwd[s] = L->pairs_bwd[s] = 0;
                for (size_t r = 0; r < nca; r++) {
                    uint32_t a = order[r];
                    double fa = af[2 * (size_t)a], pa = af[2 * (size_t)a + 1];
                    if (!(fa > 0) && !(pa > 0)) continue;
                    for (uint32_t p = c.arcs[a].part; p != NONE; p = c.parts[p].next) {
                        const cpart *pp = &c.parts[p];
                        double sh = pp->sigma / c.arcs[a].sigma;
                        if (pp->a1 == NONE) {
                            uint32_t s = g->seg[pp->a2];
                            if (s == CS_INVALID_ID) continue;
                            if (g->dir[pp->a2]) {
                                L->flow_bwd[s] += fa * sh;
                                L->pairs_bwd[s] += pa * sh;
                            } else {
                                L->flow_fwd[s] += fa * sh;
                                L->pairs_fwd[s] += pa * sh;
                            }
                        } else {
                            af[2 * (size_t)pp->a1] += fa * sh;
                            af[2 * (size_t)pp->a1 + 1] += pa * sh;
                            af[2 * (size_t)pp->a2] += fa * sh;
                            af[2 * (size_t)pp->a2 + 1] += pa * sh;
                        }
                    }
                }
                for (size_t i = 0; i < n; i++) {
                    int joined = g->city_att[i] != CS_INVALID_ID;
                    L->through_flow[i] = joined ? (double)cacc[2 * i] * uflow : NAN;
                    L->through_pairs[i] = joined ? (double)cacc[2 * i + 1] * upair : NAN;
                }
            }
        }
        cs_free(h.off); cs_free(h.head); cs_free(h.arc); cs_free(h.key); cs_free(h.sigma); cs_free(h.net);
        cs_free(aacc); cs_free(cacc); cs_free(af); cs_free(order);
    }
    goto done;
oom:
    st = CS_ENOMEM;
done:
    cs_free(q.pr);
    cs_free(q.nd);
    core_free(&c);
    return st;
}

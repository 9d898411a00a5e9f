/*
 * perfect_exp.c: experiment for issue 3's memory target. Loads a saved router,
 * runs perfect customization (Dibbelt, Strasser, Wagner 2016, "Customizable
 * Contraction Hierarchies", ACM JEA 21 (2016), "perfect customization")
 * on the all-modes metric, marks every upward / downward arc whose
 * basic-customized key (time << 32 | length) is strictly above the perfect
 * key (an upper or intermediate triangle is lexicographically shorter, so the
 * arc is not a shortest path between its ends) or infinite, and reports
 *   - the kept arcs per direction and the bytes/node of the reduced
 *     query arrays (first 4 B/node + head 4 B + key 8 B per kept arc, per direction),
 *   - the pages of the arc arrays touched by the ancestor chains of the N points,
 *   - exactness: the first S points x all N points, elimination-tree searches on
 *     the full hierarchy vs on the reduced arrays (every cell equal?).
 * "ties" also drops arcs whose perfect key equals a triangle sum; "drop" instead measures
 * the resident pages of the library's own N x N query (see drop_mode).
 *
 * Uses the private router layout (src/graph/routing_internal.h): experiment only.
 * build: cc -O2 -fopenmp -Iinclude -Isrc/graph bench/routing/perfect_exp.c build/libcitysys.a ... (see build.sh)
 * usage: perfect_exp ROUTER_FILE GRAPHDIR N S [ties|drop]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include "citysys/citysys.h"
#include "citysys/routing.h"
#include "routing_internal.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct { uint32_t *first, *head; uint64_t *w; } csr;

/* elimination-tree search from rank x over arcs (fu, hd, W); dist must be all RT_INF; returns visited list */
static uint32_t etwalk(const cs_router *r, const uint32_t *fu, const uint32_t *hd, const uint64_t *W, uint32_t x,
                       uint64_t *dist, uint32_t *vis)
{
    uint32_t c = 0;
    dist[x] = 0;
    for (uint32_t v = x; v != CS_INVALID_ID; v = r->parent[v]) {
        vis[c++] = v;
        uint64_t d = dist[v];
        if (d == RT_INF) continue;
        for (uint32_t e = fu[v]; e < fu[v + 1]; e++) {
            uint64_t nk = rt_add(d, W[e]);
            if (nk < dist[hd[e]]) dist[hd[e]] = nk;
        }
    }
    return c;
}

static long vm_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl)) v = atol(line + kl);
    if (f) fclose(f);
    return v;
}

/* "drop" mode: drop the mapping's resident pages after load (the load's checksum pass reads the whole
   file), reset the peak (clear_refs 5), run the library's N x N matrix and report the peak RSS it needed:
   what a load that does not read every page would cost with the full hierarchy */
static int drop_mode(const char *file, const char *dir, size_t N)
{
    cs_router *r;
    if (cs_router_load(file, NULL, &r)) return 1;
    long before = vm_kb("VmRSS:");
    madvise(r->map, r->map_size, MADV_DONTNEED);
    FILE *c = fopen("/proc/self/clear_refs", "w");
    if (c) { fputs("5", c); fclose(c); }
    long after = vm_kb("VmRSS:");
    char path[4096];
    snprintf(path, sizeof path, "%s/points_%zu.csv", dir, N);
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    cs_location *P = calloc(N, sizeof *P);
    char line[256];
    size_t np = 0;
    if (!fgets(line, sizeof line, f)) return 1;
    while (np < N && fgets(line, sizeof line, f)) {
        unsigned i, v;
        if (sscanf(line, "%u,%u", &i, &v) == 2) P[np++] = cs_location_node(v);
    }
    fclose(f);
    cs_matrix_opts mo;
    cs_matrix_opts_default(&mo);
    cs_matrix *T = NULL;
    double t0 = now();
    if (cs_router_matrix(r, P, np, P, np, &mo, (cs_progress){0}, &T, NULL)) return 1;
    double tq = now() - t0;
    long hwm = vm_kb("VmHWM:"), rfile = vm_kb("RssFile:");
    double sum = 0;
    for (size_t i = 0; i < np * np; i++) if (isfinite(T->v[i])) sum += T->v[i];
    printf("drop: RSS after load %ld kB, after dropping the map %ld kB; %zux%zu query %.2f s, peak RSS since %ld kB "
           "(%.1f bytes/node incl. the %zu-cell output), of which file-backed (hierarchy pages touched) %ld kB = %.1f bytes/node, sum %.3f\n",
           before, after, np, np, tq, hwm, hwm * 1024.0 / r->n, np * np, rfile, rfile * 1024.0 / r->n, sum);
    cs_matrix_free(T);
    cs_router_free(r);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 5 && !strcmp(argv[5], "drop")) return drop_mode(argv[1], argv[2], (size_t)atol(argv[3]));
    if (argc < 5) { fprintf(stderr, "usage: %s ROUTER_FILE GRAPHDIR N S [ties]\n", argv[0]); return 2; }
    cs_router *r;
    if (cs_router_load(argv[1], NULL, &r)) { fprintf(stderr, "load: %s\n", cs_error_last()->message); return 1; }
    uint32_t n = r->n, m = r->ncch;
    const uint32_t *fu = r->first_up, *hd = r->up_head;
    const uint64_t *wu = r->w_up, *wd = r->w_dn;
    uint64_t *pu = malloc((size_t)m * 8), *pd = malloc((size_t)m * 8);
    memcpy(pu, wu, (size_t)m * 8);
    memcpy(pd, wd, (size_t)m * 8);
    double t0 = now();
    /* top-down by elimination-tree depth: node x writes only its own arcs and reads arcs {y,z} of its
       ancestors (smaller depth, already final), so the nodes of one depth run in parallel, deterministically */
    uint32_t *dep = malloc((size_t)n * 4), maxd = 0;
    for (uint32_t v = n; v-- > 0;) {
        dep[v] = r->parent[v] == CS_INVALID_ID ? 0 : dep[r->parent[v]] + 1;
        if (dep[v] > maxd) maxd = dep[v];
    }
    uint32_t *dfirst = calloc((size_t)maxd + 2, 4), *byd = malloc((size_t)n * 4);
    for (uint32_t v = 0; v < n; v++) dfirst[dep[v] + 1]++;
    for (uint32_t d = 0; d <= maxd; d++) dfirst[d + 1] += dfirst[d];
    for (uint32_t v = 0; v < n; v++) byd[dfirst[dep[v]]++] = v;
    for (uint32_t d = maxd + 1; d > 0; d--) dfirst[d] = dfirst[d - 1];
    dfirst[0] = 0;
    for (uint32_t d = 0; d <= maxd; d++) {
#pragma omp parallel for schedule(dynamic, 64) if (dfirst[d + 1] - dfirst[d] > 2048)
        for (uint32_t k = dfirst[d]; k < dfirst[d + 1]; k++) {
            uint32_t x = byd[k];
            uint32_t b = fu[x], e = fu[x + 1];
            for (uint32_t i = b; i < e; i++) {
                uint32_t y = hd[i];
                uint32_t p = fu[y];
                for (uint32_t j = i + 1; j < e; j++) {
                    uint32_t z = hd[j];
                    while (hd[p] < z) p++; /* arc p = {y, z}: up y->z, dn z->y */
                    uint64_t a;
                    a = rt_add(pu[j], pd[p]); if (a < pu[i]) pu[i] = a; /* x->z->y (upper triangle of {x,y}) */
                    a = rt_add(pu[p], pd[j]); if (a < pd[i]) pd[i] = a; /* y->z->x */
                    a = rt_add(pu[i], pu[p]); if (a < pu[j]) pu[j] = a; /* x->y->z (intermediate of {x,z}) */
                    a = rt_add(pd[p], pd[i]); if (a < pd[j]) pd[j] = a; /* z->y->x */
                }
            }
        }
    }
    double t_perf = now() - t0;
    /* tie variant (argv[5] = "ties"): also drop an arc whose perfect key equals an upper / intermediate
       triangle sum whose part at the higher pair {y,z} is positive (the part at x is then strictly
       lighter, so no two arcs of x can justify each other's removal) */
    uint8_t *rmu = calloc(m, 1), *rmd = calloc(m, 1);
    int ties = argc > 5 && !strcmp(argv[5], "ties");
    for (uint32_t x = 0; x < n; x++) {
        uint32_t b = fu[x], e = fu[x + 1];
        for (uint32_t i = b; i < e; i++) {
            rmu[i] = wu[i] == RT_INF || pu[i] < wu[i];
            rmd[i] = wd[i] == RT_INF || pd[i] < wd[i];
        }
        if (!ties) continue;
        for (uint32_t i = b; i < e; i++) {
            uint32_t y = hd[i], p = fu[y];
            for (uint32_t j = i + 1; j < e; j++) {
                uint32_t z = hd[j];
                while (hd[p] < z) p++;
                if (pd[p] && pu[j] != RT_INF && rt_add(pu[j], pd[p]) == pu[i]) rmu[i] = 1;
                if (pu[p] && pd[j] != RT_INF && rt_add(pu[p], pd[j]) == pd[i]) rmd[i] = 1;
                if (pu[p] && pu[i] != RT_INF && rt_add(pu[i], pu[p]) == pu[j]) rmu[j] = 1;
                if (pd[p] && pd[i] != RT_INF && rt_add(pd[p], pd[i]) == pd[j]) rmd[j] = 1;
            }
        }
    }
    /* reduced arrays: kept = finite and basic == perfect */
    csr U = {malloc((size_t)(n + 1) * 4), NULL, NULL}, D = {malloc((size_t)(n + 1) * 4), NULL, NULL};
    size_t ku = 0, kd = 0;
    for (uint32_t e = 0; e < m; e++) {
        ku += !rmu[e];
        kd += !rmd[e];
    }
    U.head = malloc(ku * 4 + 4); U.w = malloc(ku * 8 + 8);
    D.head = malloc(kd * 4 + 4); D.w = malloc(kd * 8 + 8);
    size_t qu = 0, qd = 0;
    for (uint32_t x = 0; x < n; x++) {
        U.first[x] = (uint32_t)qu; D.first[x] = (uint32_t)qd;
        for (uint32_t e = fu[x]; e < fu[x + 1]; e++) {
            if (!rmu[e]) { U.head[qu] = hd[e]; U.w[qu++] = pu[e]; }
            if (!rmd[e]) { D.head[qd] = hd[e]; D.w[qd++] = pd[e]; }
        }
    }
    U.first[n] = (uint32_t)qu; D.first[n] = (uint32_t)qd;
    double t_red = now() - t0;
    printf("n %u arcs %u (%.2f/node): kept up %zu (%.2f/node), kept down %zu (%.2f/node); perfect %.2f s, +reduce %.2f s\n",
           n, m, (double)m / n, ku, (double)ku / n, kd, (double)kd / n, t_perf, t_red - t_perf);
    {
        size_t sym = 0, both = 0;
        for (uint32_t e = 0; e < m; e++) {
            both += !rmu[e] && !rmd[e];
            sym += !rmu[e] && !rmd[e] && pu[e] == pd[e];
        }
        printf("kept both ways %zu, of which equal keys both ways %zu (%.1f%% of kept up arcs)\n", both, sym,
               ku ? 100.0 * sym / ku : 0.0);
    }
    printf("reduced query arrays: %.1f bytes/node (first 2x4 B/node + 12 B per kept arc); full arcs %.1f bytes/node\n",
           (8.0 * (n + 1) + 12.0 * (ku + kd)) / n, (4.0 * (n + 1) + 20.0 * m) / n);
    /* exactness: full vs reduced, S sources x N points */
    size_t N = (size_t)atol(argv[3]), S = (size_t)atol(argv[4]);
    char path[4096];
    snprintf(path, sizeof path, "%s/points_%zu.csv", argv[2], N);
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); return 1; }
    uint32_t *pt = malloc(N * 4);
    char line[256];
    size_t np = 0;
    if (!fgets(line, sizeof line, f)) return 1;
    while (np < N && fgets(line, sizeof line, f)) {
        unsigned i, v;
        if (sscanf(line, "%u,%u", &i, &v) == 2) pt[np++] = r->rank[v];
    }
    fclose(f);
    /* pages of each query array touched by the elimination-tree searches of the np points (the union
       of their ancestor chains): the resident footprint of an mmap'ed hierarchy that is not read whole */
    {
        uint8_t *on = calloc(n, 1);
        size_t un = 0;
        for (size_t q = 0; q < np; q++)
            for (uint32_t v = pt[q]; v != CS_INVALID_ID && !on[v]; v = r->parent[v]) { on[v] = 1; un++; }
        size_t pg_full = 0, pg_red = 0, arcs_full = 0, arcs_red = 0;
        /* per array: element size, offsets */
        const uint32_t *firsts[3] = {fu, U.first, D.first};
        const int es[3][2] = {{4, 16}, {4, 12}, {4, 12}}; /* head bytes, weight bytes (full: w_up + w_dn) */
        for (int a = 0; a < 3; a++) {
            size_t lastf = SIZE_MAX, lasth = SIZE_MAX, lastw = SIZE_MAX, pf = 0, ph = 0, pw = 0, ac = 0;
            for (uint32_t v = 0; v < n; v++) {
                if (!on[v]) continue;
                size_t f0 = (size_t)v * 4 / 4096, f1 = ((size_t)v * 4 + 7) / 4096;
                for (size_t g = f0; g <= f1; g++) if (g != lastf) { pf++; lastf = g; }
                uint32_t b = firsts[a][v], e = firsts[a][v + 1];
                if (b == e) continue;
                ac += e - b;
                for (size_t g = (size_t)b * es[a][0] / 4096; g <= ((size_t)e * es[a][0] - 1) / 4096; g++)
                    if (g != lasth || lasth == SIZE_MAX) { if (g != lasth) ph++; lasth = g; }
                int wb = a == 0 ? 8 : es[a][1] - 4; /* full: two 8-byte arrays, counted twice below */
                for (size_t g = (size_t)b * wb / 4096; g <= ((size_t)e * wb - 1) / 4096; g++)
                    if (g != lastw) { pw++; lastw = g; }
            }
            size_t pages = pf + ph + (a == 0 ? 2 * pw : pw);
            if (a == 0) { pg_full = pages; arcs_full = ac; } else { pg_red += pages; arcs_red += ac; }
        }
        printf("union of the %zu points' ancestor chains: %zu nodes (%.1f%%); arcs on it: full %zu, reduced up+down %zu; "
               "pages touched: full hierarchy %.1f bytes/node, reduced %.1f bytes/node (+ parent/rank pages)\n",
               np, un, 100.0 * un / n, arcs_full, arcs_red, pg_full * 4096.0 / n, pg_red * 4096.0 / n);
        free(on);
    }
    uint64_t *d1 = malloc((size_t)n * 8), *d2 = malloc((size_t)n * 8), *b1 = malloc((size_t)n * 8), *b2 = malloc((size_t)n * 8);
    for (uint32_t v = 0; v < n; v++) d1[v] = d2[v] = b1[v] = b2[v] = RT_INF;
    uint32_t *v1 = malloc((size_t)(r->et_height + 2) * 4), *v2 = malloc((size_t)(r->et_height + 2) * 4);
    size_t bad = 0, cells = 0, unreach = 0;
    double tf = 0, tr = 0;
    for (size_t s = 0; s < S && s < np; s++) {
        uint32_t c1 = etwalk(r, fu, hd, wu, pt[s], d1, v1);
        uint32_t c2 = etwalk(r, U.first, U.head, U.w, pt[s], d2, v2);
        for (size_t t = 0; t < np; t++) {
            double q0 = now();
            uint32_t k1 = etwalk(r, fu, hd, wd, pt[t], b1, v1 + 0 * c1); /* reuse: v1 list consumed below */
            uint64_t best1 = RT_INF;
            for (uint32_t q = 0; q < k1; q++) {
                uint32_t v = v1[q];
                uint64_t a = rt_add(d1[v], b1[v]);
                if (a < best1) best1 = a;
            }
            double q1 = now();
            uint32_t k2 = etwalk(r, D.first, D.head, D.w, pt[t], b2, v2);
            uint64_t best2 = RT_INF;
            for (uint32_t q = 0; q < k2; q++) {
                uint32_t v = v2[q];
                uint64_t a = rt_add(d2[v], b2[v]);
                if (a < best2) best2 = a;
            }
            double q2 = now();
            tf += q1 - q0; tr += q2 - q1;
            for (uint32_t q = 0; q < k1; q++) b1[v1[q]] = RT_INF;
            for (uint32_t q = 0; q < k2; q++) b2[v2[q]] = RT_INF;
            cells++;
            bad += best1 != best2;
            unreach += best1 == RT_INF;
        }
        /* d1/d2: reset the whole chain of the source (v1/v2 were overwritten by the target walks) */
        for (uint32_t v = pt[s]; v != CS_INVALID_ID; v = r->parent[v]) d1[v] = d2[v] = RT_INF;
        (void)c1; (void)c2;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("exactness: %zu cells, %zu differ, %zu unreachable; target searches full %.3f s, reduced %.3f s; peak RSS %ld kB\n",
           cells, bad, unreach, tf, tr, ru.ru_maxrss);
    cs_router_free(r);
    return bad ? 1 : 0;
}

/*
 * bench_structure.c: benchmark driver for the load on roads and the criticality of segments on the
 * synthetic graphs of ../shared/bench (nodes.csv id,lat,lon; edges.csv u,v,seconds,meters with both
 * directions listed; points_N.csv i,node).
 *
 *   bench_structure load GRAPHDIR N [--unit] [--sources S] [--zero-length] [--threads T] [--out FILE]
 *       load of N cities: --unit = every ordered pair weight 1 (the igraph comparison), otherwise gravity
 *       flows P_i P_j exp(-t_ij / 1 h) on the exact matrix (matrix timed separately). Every directed row of
 *       edges.csv is its own one-way segment (so segment = igraph edge index). --zero-length sets every
 *       length to 0 so that ties are by time only, as in igraph. --out writes "edge,flow" for loaded edges.
 *   bench_structure crit GRAPHDIR N M S [--threads T]
 *       criticality of the M most loaded segments (gravity flows of N cities), then the baseline on the
 *       first S of them: close the segment, cs_router_matrix N x N, restore; equal results checked.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "citysys/citysys.h"
#include "citysys/flows.h"
#include "citysys/routing.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_structure: %s: %s\n", what, cs_error_last()->message);
    exit(1);
}

static cs_network *load_graph(const char *dir, int zero_len)
{
    char path[4096], line[256];
    snprintf(path, sizeof path, "%s/nodes.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    size_t cap = 1 << 20, n = 0;
    double *lat = malloc(cap * 8), *lon = malloc(cap * 8);
    if (!fgets(line, sizeof line, f)) exit(1);
    while (fgets(line, sizeof line, f)) {
        unsigned id;
        double a, b;
        if (sscanf(line, "%u,%lf,%lf", &id, &a, &b) != 3) continue;
        while (id >= cap) { cap *= 2; lat = realloc(lat, cap * 8); lon = realloc(lon, cap * 8); }
        lat[id] = a; lon[id] = b;
        if (id + 1 > n) n = id + 1;
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/edges.csv", dir);
    f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    size_t rcap = 1 << 22, m = 0;
    uint32_t *su = malloc(rcap * 4), *sv = malloc(rcap * 4), *sf = malloc(rcap * 4), *sb = malloc(rcap * 4),
             *sl = malloc(rcap * 4);
    if (!fgets(line, sizeof line, f)) exit(1);
    while (fgets(line, sizeof line, f)) {
        unsigned u, v;
        double s, l;
        if (sscanf(line, "%u,%u,%lf,%lf", &u, &v, &s, &l) != 4) continue;
        if (m == rcap) {
            rcap *= 2;
            su = realloc(su, rcap * 4); sv = realloc(sv, rcap * 4); sf = realloc(sf, rcap * 4);
            sb = realloc(sb, rcap * 4); sl = realloc(sl, rcap * 4);
        }
        su[m] = u; sv[m] = v; sf[m] = (uint32_t)llround(s * 1000); sb[m] = CS_NO_TIME;
        sl[m] = zero_len ? 0 : (uint32_t)llround(l * 100);
        m++;
    }
    fclose(f);
    cs_network *net = NULL;
    if (cs_network_from_arcs((uint32_t)n, lon, lat, (uint32_t)m, su, sv, sf, sb, sl, NULL, &net)) die("network");
    free(lat); free(lon); free(su); free(sv); free(sf); free(sb); free(sl);
    return net;
}

static cs_location *load_points(const char *dir, size_t N)
{
    char path[4096], line[128];
    snprintf(path, sizeof path, "%s/points_%zu.csv", dir, N);
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    cs_location *L = malloc(N * sizeof *L);
    size_t k = 0;
    if (!fgets(line, sizeof line, f)) exit(1);
    while (k < N && fgets(line, sizeof line, f)) {
        unsigned i, node;
        if (sscanf(line, "%u,%u", &i, &node) == 2) L[k++] = cs_location_node(node);
    }
    fclose(f);
    if (k != N) { fprintf(stderr, "%s: %zu points\n", path, k); exit(1); }
    return L;
}

/* deterministic populations 10^4 .. 10^6 (log-uniform from the point index) */
static void populations(size_t N, double *pop)
{
    uint64_t x = 42;
    for (size_t i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        pop[i] = pow(10, 4 + 2 * (double)(x >> 11) / 9007199254740992.0);
    }
}

static cs_matrix *gravity(const cs_matrix *T, const double *pop)
{
    size_t N = T->rows;
    cs_matrix *F;
    if (cs_matrix_new(N, N, CS_MATRIX_FLOW, &F)) die("matrix");
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) {
            double t = T->v[i * N + j];
            F->v[i * N + j] = (i != j && t < INFINITY) ? pop[i] * pop[j] * exp(-t / 3600.0) / 1e6 : 0;
        }
    return F;
}

static int cmd_load(int argc, char **argv)
{
    const char *dir = argv[2], *out = NULL;
    size_t N = strtoul(argv[3], NULL, 10);
    int unit = 0, zero = 0, threads = 0;
    size_t S = 0; /* --sources S: only the first S cities send flows (unit case) */
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--unit")) unit = 1;
        else if (!strcmp(argv[i], "--zero-length")) zero = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--sources") && i + 1 < argc) S = strtoul(argv[++i], NULL, 10);
    }
    if (S == 0 || S > N) S = N;
    double t0 = now();
    cs_network *net = load_graph(dir, zero);
    cs_location *P = load_points(dir, N);
    printf("graph %s: %u nodes, %u one-way segments; %zu cities; read %.2f s\n", dir, net->n_nodes, net->n_segs, N,
           now() - t0);
    cs_matrix *F = NULL;
    if (unit) {
        if (cs_matrix_new(N, N, CS_MATRIX_FLOW, &F)) die("matrix");
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < N; j++) F->v[i * N + j] = i != j && i < S;
    } else {
        double t1 = now();
        cs_router *r = NULL;
        if (cs_router_build(net, NULL, (cs_progress){0}, &r)) die("router");
        double t2 = now();
        cs_matrix *T = NULL;
        if (cs_router_matrix(r, P, N, P, N, NULL, (cs_progress){0}, &T, NULL)) die("matrix");
        printf("gravity flows: router build %.2f s, %zux%zu matrix %.2f s (not part of the load time)\n", t2 - t1,
               N, N, now() - t2);
        double *pop = malloc(N * sizeof *pop);
        populations(N, pop);
        F = gravity(T, pop);
        free(pop);
        cs_matrix_free(T);
        cs_router_free(r);
    }
    cs_load_opts lo;
    cs_load_opts_default(&lo);
    lo.threads = threads;
    double t3 = now();
    cs_load *L = NULL;
    if (cs_load_compute(net, P, N, F, &lo, &L)) die("load");
    double tl = now() - t3;
    double sf = 0, sp = 0, mx = 0;
    size_t loaded = 0;
    for (uint32_t s = 0; s < net->n_segs; s++) {
        sf += L->flow_fwd[s];
        sp += L->pairs_fwd[s];
        if (L->flow_fwd[s] > mx) mx = L->flow_fwd[s];
        loaded += L->flow_fwd[s] > 0;
    }
    double ti = 0;
    for (size_t i = 0; i < N; i++) ti += L->through_flow[i];
    printf("contracted core: %llu nodes, %llu arcs (0 = trees on the full graph)\n", (unsigned long long)L->core_nodes,
           (unsigned long long)L->core_arcs);
    printf("load (%s, %zu sources x %zu targets, %s): %.2f s, threads %d | loaded segments %zu, sum flow x segments %.6g, max %.6g, "
           "sum pairs %.6g, total flow %.6g, flow-hours %.6g, sum intermediacy %.6g\n",
           unit ? "unit pair weights" : "gravity flows", S, N, zero ? "ties by time only" : "ties by (time, length)", tl,
           threads, loaded, sf, mx, sp, L->total_flow, L->total_flow_time_s / 3600, ti);
    if (out) {
        FILE *o = fopen(out, "w");
        if (!o) { perror(out); return 1; }
        fprintf(o, "edge,flow\n");
        for (uint32_t s = 0; s < net->n_segs; s++)
            if (L->flow_fwd[s] > 0) fprintf(o, "%u,%.17g\n", s, L->flow_fwd[s]);
        fclose(o);
    }
    cs_load_free(L);
    cs_matrix_free(F);
    free(P);
    cs_network_from_arcs_free(net);
    return 0;
}

static int cmp_desc(const void *a, const void *b)
{
    const double *x = a, *y = b;
    if (x[0] != y[0]) return x[0] > y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

static int cmd_crit(int argc, char **argv)
{
    if (argc < 6) return 2;
    const char *dir = argv[2];
    size_t N = strtoul(argv[3], NULL, 10), M = strtoul(argv[4], NULL, 10), S = strtoul(argv[5], NULL, 10);
    int threads = 0;
    for (int i = 6; i < argc; i++)
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    double t0 = now();
    cs_network *net = load_graph(dir, 0);
    cs_location *P = load_points(dir, N);
    cs_router *r = NULL;
    if (cs_router_build(net, NULL, (cs_progress){0}, &r)) die("router");
    double tb = now() - t0;
    double t1 = now();
    cs_matrix *T0 = NULL;
    if (cs_router_matrix(r, P, N, P, N, NULL, (cs_progress){0}, &T0, NULL)) die("matrix");
    double tm = now() - t1;
    double *pop = malloc(N * sizeof *pop);
    populations(N, pop);
    cs_matrix *F = gravity(T0, pop);
    double t2 = now();
    cs_load *L = NULL;
    if (cs_load_compute(net, P, N, F, NULL, &L)) die("load");
    double tl = now() - t2;
    /* the M most loaded segments */
    double *rk = malloc(2 * sizeof(double) * net->n_segs);
    for (uint32_t s = 0; s < net->n_segs; s++) {
        rk[2 * s] = L->flow_fwd[s] + L->flow_bwd[s];
        rk[2 * s + 1] = s;
    }
    qsort(rk, net->n_segs, 2 * sizeof(double), cmp_desc);
    uint32_t *segs = malloc(M * sizeof *segs);
    for (size_t k = 0; k < M; k++) segs[k] = (uint32_t)rk[2 * k + 1];
    printf("graph %s: %u nodes, %u segments; %zu cities; read + router build %.2f s, matrix %.3f s, load %.2f s\n",
           dir, net->n_nodes, net->n_segs, N, tb, tm, tl);
    cs_criticality_opts co;
    cs_criticality_opts_default(&co);
    co.threads = threads;
    double t3 = now();
    cs_criticality *C = NULL;
    if (cs_criticality_segments(r, net, L, P, N, F, T0, pop, segs, M, &co, &C)) die("criticality");
    double tc = now() - t3;
    printf("criticality of the %zu most loaded segments: %.2f s (%.3f s per segment), threads %d\n", M, tc,
           tc / (double)M, threads);
    /* baseline: close, full N x N matrix, restore; on the first S segments */
    cs_matrix_opts mo;
    cs_matrix_opts_default(&mo);
    mo.nonroad_flags = 0;
    mo.threads = threads;
    size_t R = 0;
    for (size_t i = 1; i < N; i++)
        if (pop[i] > pop[R]) R = i;
    double tbase = 0;
    size_t bad = 0;
    for (size_t k = 0; k < S && k < M; k++) {
        uint32_t s = segs[k];
        double t4 = now();
        cs_route_changes *c;
        cs_route_changes_new(&c);
        cs_route_changes_close(c, s);
        if (cs_router_apply(r, c)) die("apply");
        cs_route_changes_free(c);
        cs_matrix *T1 = NULL;
        if (cs_router_matrix(r, P, N, P, N, &mo, (cs_progress){0}, &T1, NULL)) die("matrix");
        cs_route_changes_new(&c);
        cs_route_changes_set_time(c, s, net->seg_fwd_ms[s], net->seg_bwd_ms[s]);
        if (cs_router_apply(r, c)) die("apply");
        cs_route_changes_free(c);
        double dc = 0, cut = 0, cutpop = 0, worst = 0;
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < N; j++) {
                double f = F->v[i * N + j], a = T0->v[i * N + j], b = T1->v[i * N + j];
                if (i == j || !(f > 0) || !(a < INFINITY)) continue;
                if (!(b < INFINITY)) cut += f;
                else {
                    dc += f * (b - a);
                    if (b - a > worst) worst = b - a;
                }
            }
        for (size_t i = 0; i < N; i++) {
            if (i == R) continue;
            int bef = T0->v[i * N + R] < INFINITY && T0->v[R * N + i] < INFINITY;
            int aft = T1->v[i * N + R] < INFINITY && T1->v[R * N + i] < INFINITY;
            if (bef && !aft) cutpop += pop[i];
        }
        tbase += now() - t4;
        cs_matrix_free(T1);
        /* the criticality result for this segment */
        size_t q = 0;
        while (q < C->n && C->seg[q] != s) q++;
        const cs_closure_impact *im = &C->impact[q];
        double wd = im->worst_o == CS_INVALID_ID ? 0 : im->worst_detour_s;
        if (q == C->n || fabs(im->delta_cost_s - dc) > 1e-9 * fmax(1, fabs(dc)) || im->cut_flow != cut ||
            im->cut_population != cutpop || wd != worst) {
            bad++;
            printf("  segment %u differs: cost %.17g vs %.17g, cut %g vs %g, cutpop %g vs %g, worst %g vs %g\n", s,
                   q < C->n ? im->delta_cost_s : NAN, dc, q < C->n ? im->cut_flow : NAN, cut,
                   q < C->n ? im->cut_population : NAN, cutpop, wd, worst);
        }
    }
    size_t Sx = S < M ? S : M;
    printf("baseline (close, %zux%zu cs_router_matrix, restore) on %zu segments: %.2f s (%.3f s per segment) -> "
           "%.2f s for %zu; criticality %.1fx faster per segment; %zu of %zu differ\n",
           N, N, Sx, tbase, tbase / (double)Sx, tbase / (double)Sx * (double)M, M,
           (tbase / (double)Sx) / (tc / (double)M), bad, Sx);
    cs_criticality_free(C);
    cs_load_free(L);
    cs_matrix_free(F);
    cs_matrix_free(T0);
    free(pop); free(rk); free(segs); free(P);
    cs_router_free(r);
    cs_network_from_arcs_free(net);
    return bad != 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "load")) return cmd_load(argc, argv);
    if (argc >= 6 && !strcmp(argv[1], "crit")) return cmd_crit(argc, argv);
    fprintf(stderr, "usage: %s load GRAPHDIR N [--unit] [--zero-length] [--threads T] [--out FILE]\n"
                    "       %s crit GRAPHDIR N M S [--threads T]\n", argv[0], argv[0]);
    return 2;
}

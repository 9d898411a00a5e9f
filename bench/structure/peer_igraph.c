/*
 * peer_igraph.c: igraph's subset edge betweenness (igraph_edge_betweenness_subset, igraph C 0.10) on the
 * directed synth graph of ../shared/bench with integer-millisecond weights, sources = the first S points of
 * points_N.csv, targets = all N: the peer of `bench_structure load --unit --zero-length` (ties by time only,
 * equal split). Every directed row of edges.csv is one igraph edge in file order, i.e. the segment ids of
 * bench_structure. With --check FILE (bench_structure --out), compares edge by edge.
 * (python3-igraph 0.10.2 has no sources/targets for edge_betweenness, hence C.)
 *
 * usage: peer_igraph GRAPHDIR N S [--check FILE]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <igraph/igraph.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s GRAPHDIR N S [--check FILE]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1], *check = argc > 5 && !strcmp(argv[4], "--check") ? argv[5] : NULL;
    long N = atol(argv[2]), S = atol(argv[3]);
    char path[4096], line[256];
    double t0 = now();
    snprintf(path, sizeof path, "%s/nodes.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); return 1; }
    long V = 0;
    while (fgets(line, sizeof line, f)) V++;
    V--;
    fclose(f);
    snprintf(path, sizeof path, "%s/edges.csv", dir);
    f = fopen(path, "r");
    if (!f) { perror(path); return 1; }
    igraph_vector_int_t ev;
    igraph_vector_t w;
    igraph_vector_int_init(&ev, 0);
    igraph_vector_init(&w, 0);
    if (!fgets(line, sizeof line, f)) return 1;
    while (fgets(line, sizeof line, f)) {
        unsigned u, v;
        double s, m;
        if (sscanf(line, "%u,%u,%lf,%lf", &u, &v, &s, &m) != 4) continue;
        igraph_vector_int_push_back(&ev, u);
        igraph_vector_int_push_back(&ev, v);
        igraph_vector_push_back(&w, (double)llround(s * 1000));
    }
    fclose(f);
    long E = igraph_vector_size(&w);
    snprintf(path, sizeof path, "%s/points_%ld.csv", dir, N);
    f = fopen(path, "r");
    if (!f) { perror(path); return 1; }
    igraph_vector_int_t src, dst;
    igraph_vector_int_init(&src, 0);
    igraph_vector_int_init(&dst, 0);
    if (!fgets(line, sizeof line, f)) return 1;
    while (fgets(line, sizeof line, f)) {
        unsigned i, node;
        if (sscanf(line, "%u,%u", &i, &node) != 2) continue;
        if ((long)igraph_vector_int_size(&src) < S) igraph_vector_int_push_back(&src, node);
        igraph_vector_int_push_back(&dst, node);
    }
    fclose(f);
    igraph_t g;
    igraph_create(&g, &ev, (igraph_integer_t)V, IGRAPH_DIRECTED);
    double t_load = now() - t0;
    igraph_vector_t res;
    igraph_vector_init(&res, 0);
    double t1 = now();
    igraph_error_t e = igraph_edge_betweenness_subset(&g, &res, igraph_ess_all(IGRAPH_EDGEORDER_ID), 1,
                                                      igraph_vss_vector(&src), igraph_vss_vector(&dst), &w);
    double tq = now() - t1;
    if (e) {
        fprintf(stderr, "igraph: %s\n", igraph_strerror(e));
        return 1;
    }
    double sum = 0, mx = 0;
    long loaded = 0;
    for (long k = 0; k < E; k++) {
        double b = VECTOR(res)[k];
        sum += b;
        if (b > mx) mx = b;
        loaded += b > 0;
    }
    printf("igraph %s edge_betweenness_subset: %s V=%ld E=%ld, read %.1f s, %ld sources x %ld targets in %.2f s "
           "(%.3f s/source; %.1f s scaled to %ld sources), loaded edges %ld, sum %.6g, max %.6g\n",
           IGRAPH_VERSION, dir, V, E, t_load, S, N, tq, tq / S, tq / S * N, N, loaded, sum, mx);
    if (check) {
        double *ours = calloc((size_t)E, sizeof *ours);
        f = fopen(check, "r");
        if (!f) { perror(check); return 1; }
        if (!fgets(line, sizeof line, f)) return 1;
        while (fgets(line, sizeof line, f)) {
            long k;
            double x;
            if (sscanf(line, "%ld,%lf", &k, &x) == 2 && k >= 0 && k < E) ours[k] = x;
        }
        fclose(f);
        double md = 0, mr = 0;
        long only = 0;
        for (long k = 0; k < E; k++) {
            double b = VECTOR(res)[k], d = fabs(ours[k] - b);
            if (d > md) md = d;
            if (d / fmax(1, b) > mr) mr = d / fmax(1, b);
            only += (ours[k] > 1e-9) != (b > 1e-9);
        }
        printf("check against %s: max |difference| %.3g (max relative %.3g) over %ld edges; loaded in one only: %ld\n",
               check, md, mr, E, only);
        free(ours);
    }
    igraph_vector_destroy(&res);
    igraph_destroy(&g);
    return 0;
}

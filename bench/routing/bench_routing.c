/*
 * bench_routing.c: benchmark driver for the routing module on the synthetic
 * graphs of ../shared/bench (nodes.csv id,lat,lon; edges.csv u,v,seconds,
 * meters; points_N.csv i,node). Times preprocessing, N x N queries, the
 * re-answer after closing one loaded segment, and reports memory.
 *
 * usage: bench_routing GRAPHDIR N [--threads T] [--save FILE] [--load FILE] [--out MATRIX] [--change]
 *                      [--qh] [--prune | --noprune] [--bucket-mb MB]
 * --qh builds the query hierarchy too (default: not; --save writes it anyway); with --load, the memory line
 * reports the peak RSS of the query alone (reset after the load), resident file pages and anonymous
 * memory, in bytes per graph node, with the N x N output matrix counted separately.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <sys/resource.h>
#include "citysys/citysys.h"
#include "citysys/routing.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* process CPU time (all threads): steadier than wall time when other jobs share the cores */
static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* a field of /proc/self/status in kB (-1 if absent) */
static long status_kb(const char *key)
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

/* reset the peak RSS (VmHWM) to the current RSS (Linux clear_refs 5) */
static void reset_peak(void)
{
    FILE *c = fopen("/proc/self/clear_refs", "w");
    if (c) { fputs("5", c); fclose(c); }
}

static long peak_kb(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

typedef struct { uint32_t u, v, ms, cm; } row;

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    if (x->u != y->u) return x->u < y->u ? -1 : 1;
    return x->v < y->v ? -1 : x->v > y->v;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_routing: %s: %s\n", what, cs_error_last()->message);
    exit(1);
}

/* Edge rows -> segments: a pair listed both ways with equal length becomes one two-way segment. */
static cs_network *load_graph(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/nodes.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    char line[256];
    size_t cap = 1 << 20, n = 0;
    double *lat = malloc(cap * 8), *lon = malloc(cap * 8);
    if (!fgets(line, sizeof line, f)) exit(1);
    while (fgets(line, sizeof line, f)) {
        unsigned id;
        double a, b;
        if (sscanf(line, "%u,%lf,%lf", &id, &a, &b) != 3) continue;
        if (id >= cap) { cap *= 2; lat = realloc(lat, cap * 8); lon = realloc(lon, cap * 8); }
        lat[id] = a; lon[id] = b;
        if (id + 1 > n) n = id + 1;
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/edges.csv", dir);
    f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    size_t rcap = 1 << 20, nr = 0;
    row *R = malloc(rcap * sizeof *R);
    if (!fgets(line, sizeof line, f)) exit(1);
    while (fgets(line, sizeof line, f)) {
        unsigned u, v;
        double s, m;
        if (sscanf(line, "%u,%u,%lf,%lf", &u, &v, &s, &m) != 4) continue;
        if (nr == rcap) { rcap *= 2; R = realloc(R, rcap * sizeof *R); }
        R[nr++] = (row){u, v, (uint32_t)llround(s * 1000), (uint32_t)llround(m * 100)};
    }
    fclose(f);
    qsort(R, nr, sizeof *R, cmp_row);
    uint32_t *su = malloc(nr * 4), *sv = malloc(nr * 4), *sf = malloc(nr * 4), *sb = malloc(nr * 4), *sl = malloc(nr * 4);
    uint32_t m = 0;
    for (size_t i = 0; i < nr; i++) {
        row key = {R[i].v, R[i].u, 0, 0};
        row *rev = bsearch(&key, R, nr, sizeof *R, cmp_row);
        if (R[i].u > R[i].v && rev && rev->cm == R[i].cm) continue; /* merged into the reverse row */
        su[m] = R[i].u; sv[m] = R[i].v; sf[m] = R[i].ms; sl[m] = R[i].cm;
        sb[m] = (R[i].u < R[i].v && rev && rev->cm == R[i].cm) ? rev->ms : CS_NO_TIME;
        m++;
    }
    cs_network *net = NULL;
    if (cs_network_from_arcs((uint32_t)n, lon, lat, m, su, sv, sf, sb, sl, NULL, &net)) die("network");
    free(lat); free(lon); free(R); free(su); free(sv); free(sf); free(sb); free(sl);
    return net;
}

static cs_location *load_points(const char *dir, size_t N)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/points_%zu.csv", dir, N);
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    char line[128];
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

static double phase_t0;
static int phase_cb(void *user, const char *stage, double done, double total)
{
    (void)user; (void)done; (void)total;
    double t = now();
    fprintf(stderr, "  [%.3f s] %s\n", t - phase_t0, stage);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s GRAPHDIR N [--threads T] [--save FILE] [--load FILE] [--out MATRIX] [--change]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1], *save = NULL, *load = NULL, *out = NULL;
    size_t N = strtoul(argv[2], NULL, 10);
    int threads = 0, change = 0, leaf = 16, prune = -1, qh = 0;
    double bucket_mb = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--save") && i + 1 < argc) save = argv[++i];
        else if (!strcmp(argv[i], "--load") && i + 1 < argc) load = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--change")) change = 1;
        else if (!strcmp(argv[i], "--leaf") && i + 1 < argc) leaf = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--prune")) prune = 1;
        else if (!strcmp(argv[i], "--noprune")) prune = 0;
        else if (!strcmp(argv[i], "--qh")) qh = 1;
        else if (!strcmp(argv[i], "--bucket-mb") && i + 1 < argc) bucket_mb = atof(argv[++i]);
    }
    long file_base = status_kb("RssFile:"); /* the program and its shared libraries */
    double t0 = now();
    cs_router *r = NULL;
    double t_read = 0, t_build = 0, t_load = 0, c_build = 0;
    cs_network *net = NULL;
    if (load) {
        if (cs_router_load(load, NULL, &r)) die("load");
        t_load = now() - t0;
    } else {
        net = load_graph(dir);
        t_read = now() - t0;
        cs_router_opts o;
        cs_router_opts_default(&o);
        o.threads = threads;
        o.leaf_size = (uint32_t)leaf;
        o.query_hierarchy = qh;
        double t1 = now();
        c_build = cpu();
        phase_t0 = t1;
        if (cs_router_build(net, &o, (cs_progress){phase_cb, NULL}, &r)) die("build");
        t_build = now() - t1;
        c_build = cpu() - c_build;
        if (save && cs_router_save(r, save)) die("save");
    }
    cs_location *P = load_points(dir, N);
    long rss_load = status_kb("VmRSS:"), file_load = status_kb("RssFile:"), hwm_load = status_kb("VmHWM:");
    reset_peak();
    cs_matrix_opts mo;
    cs_matrix_opts_default(&mo);
    mo.threads = threads;
    mo.prune = prune;
    mo.bucket_bytes_max = (size_t)(bucket_mb * 1048576.0);
    double t2 = now(), c_query = cpu();
    cs_matrix *T = NULL;
    if (cs_router_matrix(r, P, N, P, N, &mo, (cs_progress){0}, &T, NULL)) die("matrix");
    double t_query = now() - t2;
    c_query = cpu() - c_query;
    long hwm_q = status_kb("VmHWM:"), file_q = status_kb("RssFile:"), anon_q = status_kb("RssAnon:");
    cs_router_info info; /* after the memory figures: it reads every segment */
    cs_router_info_get(r, &info);
    double t_write = 0;
    if (out) {
        double t3 = now();
        if (cs_matrix_write(T, out)) die("write");
        t_write = now() - t3;
    }
    size_t unr = 0;
    double sum = 0;
    for (size_t c = 0; c < N * N; c++) {
        if (isinf(T->v[c])) unr++;
        else sum += T->v[c];
    }
    printf("graph %s: nodes %u segments %u arcs %u | hierarchy arcs %llu (shortcuts %llu) tree height %u | "
           "scc %u largest %u\n",
           dir, info.nodes, info.segments, info.arcs, (unsigned long long)info.cch_arcs,
           (unsigned long long)info.shortcuts, info.elimination_tree_height, info.n_scc, info.largest_scc);
    printf("read %.3f s  build %.3f s  load %.3f s  query %zux%zu %.3f s  write %.3f s  threads %d\n", t_read,
           t_build, t_load, N, N, t_query, t_write, threads);
    printf("cpu: build %.3f s  query %.3f s (all threads)\n", c_build, c_query);
    printf("memory: router %.1f bytes/node, peak RSS %.1f MB (%.1f bytes/node)\n",
           (double)info.memory_bytes / info.nodes, peak_kb() / 1024.0, peak_kb() * 1024.0 / info.nodes);
    {
        double nn = info.nodes, outb = (double)N * N * 9; /* the time matrix: 8-byte values + 1-byte flags */
        printf("memory: resident file pages of the program and its libraries before the load %.1f bytes/node "
               "(included below)\n", file_base * 1024.0 / nn);
        printf("memory after %s: RSS %.1f bytes/node (file pages %.1f), peak during it %.1f bytes/node\n",
               load ? "load" : "build", rss_load * 1024.0 / nn, file_load * 1024.0 / nn, hwm_load * 1024.0 / nn);
        printf("memory of the query (peak reset after the %s): peak RSS %.1f bytes/node incl. the N x N output "
               "(%.1f bytes/node); without it %.1f bytes/node; at the end resident file pages %.1f bytes/node, "
               "anonymous %.1f bytes/node (incl. output); query hierarchy entries %llu (%.2f per node)\n",
               load ? "load" : "build", hwm_q * 1024.0 / nn, outb / nn, (hwm_q * 1024.0 - outb) / nn,
               file_q * 1024.0 / nn, anon_q * 1024.0 / nn, (unsigned long long)info.query_arcs,
               info.query_arcs / nn);
    }
    printf("checksum: sum of finite times %.3f s, unreachable %zu; rowsums", sum, unr);
    for (size_t i = 0; i < 3 && i < N; i++) {
        double rs = 0;
        for (size_t j = 0; j < N; j++)
            if (!isinf(T->v[i * N + j])) rs += T->v[i * N + j];
        printf(" %.1f", rs);
    }
    printf("\n");
    if (change) {
        /* a loaded segment: the middle of the route between the first two points */
        cs_dijkstra *d = NULL;
        if (cs_dijkstra_new(r, &d)) die("dijkstra");
        uint32_t *ps = malloc((size_t)info.nodes * 4), *pn = malloc((size_t)info.nodes * 4);
        if (cs_dijkstra_run(d, P[0].node, 0, NULL, NULL, ps, pn)) die("dijkstra");
        uint32_t v = P[1].node, len = 0, seg = CS_INVALID_ID, seg2 = CS_INVALID_ID;
        for (uint32_t x = v; pn[x] != CS_INVALID_ID; x = pn[x]) len++;
        uint32_t k = 0;
        for (uint32_t x = v; pn[x] != CS_INVALID_ID; x = pn[x], k++) {
            if (k == len / 2) seg = ps[x];
            if (k == len / 4) seg2 = ps[x];
        }
        cs_dijkstra_free(d);
        free(ps); free(pn);
        /* a session keeps the searches so that the change is re-answered incrementally */
        cs_matrix_session *sess = NULL;
        double t6 = now();
        if (cs_matrix_session_new(r, P, N, P, N, &mo, &sess)) die("session");
        double t_sess = now() - t6;
        cs_route_changes *c = NULL;
        cs_route_changes_new(&c);
        cs_route_changes_close(c, seg);
        double t4 = now(), c4 = cpu();
        if (cs_router_apply(r, c)) die("apply");
        double t_apply = now() - t4;
        c4 = cpu() - c4;
        cs_apply_stats as;
        cs_router_last_apply(r, &as);
        double t5 = now(), c5 = cpu();
        if (cs_matrix_session_update(sess)) die("update");
        double t_q2 = now() - t5;
        c5 = cpu() - c5;
        size_t rows = 0, cols = 0;
        cs_matrix_session_stats(sess, &rows, &cols);
        cs_matrix *T2 = NULL;
        if (cs_matrix_session_get(sess, &T2, NULL)) die("get");
        /* check against a fresh query on the changed router */
        cs_matrix *T3 = NULL;
        double t7 = now();
        if (cs_router_matrix(r, P, N, P, N, &mo, (cs_progress){0}, &T3, NULL)) die("matrix");
        double t_fresh = now() - t7;
        size_t changed = 0, differ = 0;
        for (size_t q = 0; q < N * N; q++) {
            changed += T2->v[q] != T->v[q];
            differ += T2->v[q] != T3->v[q];
        }
        double scratch = t_build + t_query;
        printf("change: closed segment %u; session setup %.3f s; apply %.3f s (%llu arcs recomputed, %llu changed); "
               "update %.3f s (%zu rows, %zu columns recomputed); re-answer %.3f s vs from scratch (build + query) "
               "%.3f s = %.1fx; full re-query would be %.3f s; %zu cells changed; %zu cells differ from a fresh query\n",
               seg, t_sess, t_apply, (unsigned long long)as.arcs_recomputed, (unsigned long long)as.arcs_changed, t_q2,
               rows, cols, t_apply + t_q2, scratch, scratch / (t_apply + t_q2), t_fresh, changed, differ);
        printf("change cpu: apply %.3f s + update %.3f s vs build %.3f s + query %.3f s = %.1fx (all threads)\n", c4, c5,
               c_build, c_query, (c_build + c_query) / (c4 + c5));
        cs_matrix_free(T3);
        /* a second closure: the one-time structures of the first apply (lower-neighbour lists) now exist */
        cs_route_changes *c2 = NULL;
        cs_route_changes_new(&c2);
        cs_route_changes_close(c2, seg2);
        double t8 = now(), c8 = cpu();
        if (cs_router_apply(r, c2)) die("apply");
        double t_apply2 = now() - t8;
        double t9 = now();
        if (cs_matrix_session_update(sess)) die("update");
        double t_up2 = now() - t9;
        c8 = cpu() - c8;
        cs_matrix_session_stats(sess, &rows, &cols);
        cs_matrix *T4 = NULL, *T5 = NULL;
        if (cs_matrix_session_get(sess, &T4, NULL)) die("get");
        if (cs_router_matrix(r, P, N, P, N, &mo, (cs_progress){0}, &T5, NULL)) die("matrix");
        size_t differ2 = 0;
        for (size_t q = 0; q < N * N; q++) differ2 += T4->v[q] != T5->v[q];
        printf("change 2: closed segment %u; apply %.3f s; update %.3f s (%zu rows, %zu columns); re-answer %.3f s "
               "= %.1fx faster than from scratch; %zu cells differ from a fresh query\n",
               seg2, t_apply2, t_up2, rows, cols, t_apply2 + t_up2, scratch / (t_apply2 + t_up2), differ2);
        printf("change 2 cpu: apply + update %.3f s = %.1fx (all threads)\n", c8, (c_build + c_query) / c8);
        cs_matrix_free(T4);
        cs_matrix_free(T5);
        cs_route_changes_free(c2);
        cs_matrix_session_free(sess);
        cs_route_changes_free(c);
        cs_matrix_free(T2);
    }
    cs_matrix_free(T);
    free(P);
    cs_router_free(r);
    cs_network_from_arcs_free(net);
    return 0;
}

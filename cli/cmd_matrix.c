/*
 * cmd_matrix.c: `citysys matrix` — exact travel-time (and distance) matrix
 * between points given as graph node ids, from a routing-graph file (built
 * and cached from an edge table when needed). The library does the work
 * (routing.h); this file parses, calls and prints.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "citysys/routing.h"


extern const cli_command cli_cmd_matrix;

static const cli_option opts[] = {
    {"graph", 'g', "FILE", "routing graph file (read; written after a build from --edges)"},
    {"edges", 'e', "CSV", "edge table u,v,seconds,meters (one row per direction) to build the graph from"},
    {"nodes", 'n', "CSV", "node table id,lat,lon for --edges (coordinates guide the hierarchy order)"},
    {"rebuild", 0, NULL, "rebuild the graph from --edges even if --graph exists"},
    {"points", 'p', "CSV", "points: a column `node` (graph node id) and optionally `id`"},
    {"targets", 't', "CSV", "target points (default: the same as --points)"},
    {"out", 'o', "FILE", "binary time matrix (seconds) to write"},
    {"dist-out", 0, "FILE", "binary distance matrix (metres) to write"},
    {"csv", 0, "FILE", "also write the time matrix as CSV"},
    {"csv-layout", 0, "long|wide", "CSV layout (default long)"},
    {"threads", 'j', "N", "threads (default: all)"},
    {0},
};

typedef struct { uint32_t u, v, ms, cm; } erow;

static int cmp_erow(const void *a, const void *b)
{
    const erow *x = a, *y = b;
    if (x->u != y->u) return x->u < y->u ? -1 : 1;
    return x->v < y->v ? -1 : x->v > y->v;
}

/* Find a header column (case-sensitive) in a comma-separated header line; -1 if absent. */
static int column(const char *header, const char *name)
{
    int col = 0;
    const char *p = header;
    size_t n = strlen(name);
    for (;;) {
        const char *e = p + strcspn(p, ",\r\n");
        if ((size_t)(e - p) == n && !strncmp(p, name, n)) return col;
        if (*e != ',') return -1;
        p = e + 1;
        col++;
    }
}

static const char *field(char *line, int col)
{
    char *p = line;
    for (int c = 0; c < col; c++) {
        p = strchr(p, ',');
        if (!p) return NULL;
        p++;
    }
    size_t k = strcspn(p, ",\r\n");
    p[k] = 0;
    return p;
}

/* Tiny edge-table reader (a two-way pair with equal length becomes one segment). */
static cs_status read_edges(const char *edges, const char *nodes, cs_network **out)
{
    FILE *f = fopen(edges, "r");
    if (!f) return cs_error_set_at(CS_EIO, edges, 0, 0, "cannot open: %s", strerror(errno));
    char line[1024];
    size_t cap = 1024, nr = 0;
    uint32_t nmax = 0;
    erow *R = malloc(cap * sizeof *R);
    long ln = 1;
    if (!R || !fgets(line, sizeof line, f)) { fclose(f); free(R); return cs_error_set_at(CS_EPARSE, edges, 1, 0, "empty file"); }
    while (fgets(line, sizeof line, f)) {
        ln++;
        unsigned u, v;
        double s, m;
        if (sscanf(line, "%u,%u,%lf,%lf", &u, &v, &s, &m) != 4 || !(s >= 0) || !(m >= 0) || s > 4e6 || m > 4e7) {
            fclose(f); free(R);
            return cs_error_set_at(CS_EPARSE, edges, ln, 0, "expected u,v,seconds,meters");
        }
        if (nr == cap) {
            erow *R2 = realloc(R, 2 * cap * sizeof *R);
            if (!R2) { fclose(f); free(R); return CS_ENOMEM; }
            R = R2; cap *= 2;
        }
        R[nr++] = (erow){u, v, (uint32_t)llround(s * 1000), (uint32_t)llround(m * 100)};
        if (u + 1 > nmax) nmax = u + 1;
        if (v + 1 > nmax) nmax = v + 1;
    }
    fclose(f);
    double *lat = calloc(nmax ? nmax : 1, 8), *lon = calloc(nmax ? nmax : 1, 8);
    if (nodes && lat && lon) {
        FILE *g = fopen(nodes, "r");
        if (!g) { free(R); free(lat); free(lon); return cs_error_set_at(CS_EIO, nodes, 0, 0, "cannot open: %s", strerror(errno)); }
        if (fgets(line, sizeof line, g)) {
            unsigned id;
            double a, b;
            while (fgets(line, sizeof line, g))
                if (sscanf(line, "%u,%lf,%lf", &id, &a, &b) == 3 && id < nmax) { lat[id] = a; lon[id] = b; }
        }
        fclose(g);
    }
    qsort(R, nr, sizeof *R, cmp_erow);
    uint32_t *su = malloc((nr + 1) * 4), *sv = malloc((nr + 1) * 4), *sf = malloc((nr + 1) * 4);
    uint32_t *sb = malloc((nr + 1) * 4), *sl = malloc((nr + 1) * 4);
    cs_status st = CS_ENOMEM;
    if (su && sv && sf && sb && sl && lat && lon) {
        uint32_t m = 0;
        for (size_t i = 0; i < nr; i++) {
            erow key = {R[i].v, R[i].u, 0, 0};
            erow *rev = bsearch(&key, R, nr, sizeof *R, cmp_erow);
            if (R[i].u > R[i].v && rev && rev->cm == R[i].cm) continue;
            su[m] = R[i].u; sv[m] = R[i].v; sf[m] = R[i].ms; sl[m] = R[i].cm;
            sb[m] = (R[i].u < R[i].v && rev && rev->cm == R[i].cm) ? rev->ms : CS_NO_TIME;
            m++;
        }
        st = cs_network_from_arcs(nmax, lon, lat, m, su, sv, sf, sb, sl, NULL, out);
    }
    free(R); free(lat); free(lon); free(su); free(sv); free(sf); free(sb); free(sl);
    return st;
}

/* Points CSV: column `node` required, `id` optional. */
static cs_status read_points(const char *path, uint32_t nnodes, cs_location **loc, char ***ids, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) return cs_error_set_at(CS_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    char line[1024];
    if (!fgets(line, sizeof line, f)) { fclose(f); return cs_error_set_at(CS_EPARSE, path, 1, 0, "empty file"); }
    int cn = column(line, "node"), ci = column(line, "id");
    if (cn < 0) { fclose(f); return cs_error_set_at(CS_EPARSE, path, 1, 0, "no column `node`"); }
    size_t cap = 64, k = 0;
    cs_location *L = malloc(cap * sizeof *L);
    char **I = malloc(cap * sizeof *I);
    long ln = 1;
    cs_status st = CS_OK;
    while (L && I && fgets(line, sizeof line, f)) {
        ln++;
        if (line[0] == '\n' || line[0] == '\r') continue;
        char copy[1024];
        memcpy(copy, line, sizeof copy);
        const char *nv = field(line, cn);
        char *end;
        unsigned long node = nv ? strtoul(nv, &end, 10) : 0;
        if (!nv || !*nv || *end || node >= nnodes) {
            st = cs_error_set_at(CS_EPARSE, path, ln, cn + 1, "node: expected a node id below %u, got '%s'", nnodes,
                                 nv ? nv : "");
            break;
        }
        if (k == cap) {
            cap *= 2;
            cs_location *L2 = realloc(L, cap * sizeof *L);
            char **I2 = realloc(I, cap * sizeof *I);
            if (L2) L = L2;
            if (I2) I = I2;
            if (!L2 || !I2) { st = CS_ENOMEM; break; }
        }
        L[k] = cs_location_node((uint32_t)node);
        const char *iv = ci >= 0 ? field(copy, ci) : NULL;
        I[k] = cs_strdup(iv ? iv : nv);
        k++;
    }
    fclose(f);
    if (!L || !I) st = CS_ENOMEM;
    if (st) {
        for (size_t i = 0; i < k; i++) cs_free(I[i]);
        free(L); free(I);
        return st;
    }
    *loc = L; *ids = I; *n = k;
    return CS_OK;
}

static int run(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&cli_cmd_matrix, argc, argv, &a);
    if (rc >= 0) return rc;
    const char *graph = cli_get(&a, "graph", NULL), *edges = cli_get(&a, "edges", NULL);
    const char *points = cli_get(&a, "points", NULL), *targets = cli_get(&a, "targets", NULL);
    const char *out = cli_get(&a, "out", NULL), *dout = cli_get(&a, "dist-out", NULL), *csv = cli_get(&a, "csv", NULL);
    const char *layout = cli_get(&a, "csv-layout", "long");
    int ok = 1;
    long threads = cli_get_long(&a, "threads", 0, &ok);
    if (!ok) return CLI_EXIT_USAGE;
    if (!graph && !edges) return cli_usage_error(&cli_cmd_matrix, "give --graph FILE and/or --edges CSV");
    if (!points) return cli_usage_error(&cli_cmd_matrix, "--points CSV is required");
    if (!out && !dout && !csv) return cli_usage_error(&cli_cmd_matrix, "nothing to write: give --out, --dist-out or --csv");
    if (strcmp(layout, "long") && strcmp(layout, "wide")) return cli_usage_error(&cli_cmd_matrix, "--csv-layout: long or wide");
    cs_router *r = NULL;
    cs_status st = CS_OK;
    if (graph && !cli_has(&a, "rebuild") && access(graph, F_OK) == 0) {
        if ((st = cs_router_load(graph, NULL, &r))) return cli_fail(st);
    } else {
        if (!edges) return cli_usage_error(&cli_cmd_matrix, "%s does not exist: give --edges to build it", graph);
        cs_network *net = NULL;
        if ((st = read_edges(edges, cli_get(&a, "nodes", NULL), &net))) return cli_fail(st);
        cs_router_opts ro;
        cs_router_opts_default(&ro);
        ro.threads = (int)threads;
        st = cs_router_build(net, &ro, cli_progress(), &r);
        cli_progress_done();
        cs_network_from_arcs_free(net);
        if (st) return cli_fail(st);
        if (graph && (st = cs_router_save(r, graph))) { cs_router_free(r); return cli_fail(st); }
    }
    cs_router_info info;
    cs_router_info_get(r, &info);
    cli_note("graph: %u nodes, %u segments, %u components (largest %u), %llu hierarchy arcs", info.nodes,
             info.segments, info.n_scc, info.largest_scc, (unsigned long long)info.cch_arcs);
    cs_location *S = NULL, *T = NULL;
    char **sid = NULL, **tid = NULL;
    size_t ns = 0, nt = 0;
    if ((st = read_points(points, info.nodes, &S, &sid, &ns))) { cs_router_free(r); return cli_fail(st); }
    if (targets && (st = read_points(targets, info.nodes, &T, &tid, &nt))) {
        cs_router_free(r);
        return cli_fail(st);
    }
    cs_matrix_opts mo;
    cs_matrix_opts_default(&mo);
    mo.threads = (int)threads;
    mo.src_ids = (const char *const *)sid;
    mo.dst_ids = (const char *const *)(T ? tid : sid);
    cs_matrix *Tm = NULL, *Dm = NULL;
    st = cs_router_matrix(r, S, ns, T ? T : S, T ? nt : ns, &mo, cli_progress(), &Tm, dout ? &Dm : NULL);
    cli_progress_done();
    if (!st && out) st = cs_matrix_write(Tm, out);
    if (!st && dout) st = cs_matrix_write(Dm, dout);
    if (!st && csv) {
        st = cs_matrix_write_csv(Tm, csv, strcmp(layout, "wide") ? CS_MATRIX_CSV_LONG : CS_MATRIX_CSV_WIDE);
    }
    if (!st) {
        size_t unr = 0;
        for (size_t c = 0; c < Tm->rows * Tm->cols; c++) unr += isinf(Tm->v[c]) != 0;
        cli_note("matrix %zu x %zu, %zu unreachable cells", Tm->rows, Tm->cols, unr);
    }
    for (size_t i = 0; i < ns; i++) cs_free(sid[i]);
    for (size_t i = 0; i < nt; i++) cs_free(tid[i]);
    free(S); free(T); free(sid); free(tid);
    cs_matrix_free(Tm);
    cs_matrix_free(Dm);
    cs_router_free(r);
    return st ? cli_fail(st) : CLI_EXIT_OK;
}

const cli_command cli_cmd_matrix = {
    "matrix",
    "exact travel-time / distance matrix between graph nodes",
    "citysys matrix (--graph FILE | --edges CSV [--nodes CSV]) --points CSV [--targets CSV] --out FILE",
    "Computes the exact shortest travel time (and, with --dist-out, the length of that route; among\n"
    "equal-time routes the shortest) between every source and target point, with a customizable\n"
    "contraction hierarchy. Unreachable pairs are +inf with the unreachable flag. The routing graph is\n"
    "cached in --graph (refused with a message when stale or corrupt; --rebuild rebuilds it).",
    opts,
    0,
    0,
    run,
};

/* facility_heur.c: heuristics for the facility models and the Lagrangian p-median bound.
 *
 * p-median: greedy addition (Kuehn & Hamburger 1963) then vertex substitution in the fast-interchange
 * form of Whitaker (1983), as described by Hansen & Mladenovic (1997): for each closed candidate j the
 * best facility to drop is found in O(n + P) from the nearest/second-nearest open facility of every
 * demand point; the first improving swap is applied (first improvement), passes repeat until none
 * improves. Multi-start: start 0 is the deterministic greedy, start s >= 1 a randomised greedy choosing
 * uniformly among the 5 best additions (GRASP, Feo & Resende 1995) with a SplitMix64 stream per start.
 * Lagrangian bound: relaxation of the assignment constraints with subgradient optimisation (Beasley 1993).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "citysys/alloc.h"
#include "plan/facility_internal.h"

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static size_t rnd_below(uint64_t *s, size_t k) { return (size_t)(splitmix(s) % (uint64_t)k); }

/* Candidate-major copy with +inf replaced by a large finite penalty so that gains stay finite; the
 * reported objective is always recomputed from the original matrix. */
static double *transpose_penalised(const fac_ctx *c, double *big_out)
{
    size_t n = c->n, m = c->m;
    double mx = 0;
    for (size_t k = 0; k < n * m; k++)
        if (isfinite(c->d[k]) && c->d[k] > mx) mx = c->d[k];
    double big = (mx + 1.0) * 1e9;
    double *dt = cs_mallocarray(n * m, sizeof *dt);
    if (!dt) return NULL;
    const size_t B = 64;
    for (size_t i0 = 0; i0 < n; i0 += B)
        for (size_t j0 = 0; j0 < m; j0 += B)
            for (size_t i = i0; i < i0 + B && i < n; i++)
                for (size_t j = j0; j < j0 + B && j < m; j++) {
                    double v = c->d[i * m + j];
                    dt[j * n + i] = isfinite(v) ? v : big;
                }
    *big_out = big;
    return dt;
}

typedef struct pm_state {
    size_t n, m, P;
    const double *dt, *w;
    const uint8_t *fixed;
    uint32_t *open; /* nopen */
    size_t nopen;
    uint8_t *isopen;
    uint32_t *c1, *c2;
    double *d1, *d2;
    double *loss, *gain;
    uint32_t *order;
} pm_state;

static void pm_nearest2(pm_state *S, size_t i)
{
    double b1 = INFINITY, b2 = INFINITY;
    uint32_t k1 = CS_INVALID_ID, k2 = CS_INVALID_ID;
    for (size_t a = 0; a < S->nopen; a++) {
        uint32_t j = S->open[a];
        double v = S->dt[(size_t)j * S->n + i];
        if (v < b1) {
            b2 = b1;
            k2 = k1;
            b1 = v;
            k1 = j;
        } else if (v < b2) {
            b2 = v;
            k2 = j;
        }
    }
    S->d1[i] = b1;
    S->c1[i] = k1;
    S->d2[i] = b2;
    S->c2[i] = k2;
}

static double pm_objective(const pm_state *S)
{
    double o = 0;
    for (size_t i = 0; i < S->n; i++) o += S->w[i] * S->d1[i];
    return o;
}

static void pm_add(pm_state *S, uint32_t j)
{
    S->open[S->nopen++] = j;
    S->isopen[j] = 1;
    const double *col = S->dt + (size_t)j * S->n;
    for (size_t i = 0; i < S->n; i++) {
        double v = col[i];
        if (v < S->d1[i]) {
            S->d2[i] = S->d1[i];
            S->c2[i] = S->c1[i];
            S->d1[i] = v;
            S->c1[i] = j;
        } else if (v < S->d2[i]) {
            S->d2[i] = v;
            S->c2[i] = j;
        }
    }
}

/* Greedy (rcl = 1) or randomised greedy (rcl > 1) up to P open sites. */
static void pm_greedy(pm_state *S, size_t rcl, uint64_t *rng)
{
    size_t n = S->n, m = S->m;
    uint32_t top[8];
    double topg[8];
    if (rcl > 8) rcl = 8;
    while (S->nopen < S->P) {
        size_t nt = 0;
        for (size_t j = 0; j < m; j++) {
            if (S->isopen[j]) continue;
            const double *col = S->dt + j * n;
            double g = 0;
            if (S->nopen == 0) {
                /* first site: the 1-median (gain measured against an arbitrary constant) */
                for (size_t i = 0; i < n; i++) g -= S->w[i] * col[i];
            } else {
                for (size_t i = 0; i < n; i++)
                    if (col[i] < S->d1[i]) g += S->w[i] * (S->d1[i] - col[i]);
            }
            /* insert into the top-rcl list (stable: earlier index wins ties) */
            size_t pos = nt;
            while (pos > 0 && g > topg[pos - 1]) pos--;
            if (pos < rcl) {
                size_t last = nt < rcl ? nt : rcl - 1;
                for (size_t q = last; q > pos; q--) {
                    top[q] = top[q - 1];
                    topg[q] = topg[q - 1];
                }
                top[pos] = (uint32_t)j;
                topg[pos] = g;
                if (nt < rcl) nt++;
            }
        }
        if (nt == 0) break;
        size_t pick = (rcl > 1 && nt > 1) ? rnd_below(rng, nt) : 0;
        pm_add(S, top[pick]);
    }
}

/* Fast interchange (Whitaker 1983), first improvement. Returns the final objective. */
static double pm_interchange(pm_state *S, uint64_t *rng, int randomise)
{
    size_t n = S->n, m = S->m;
    double obj = pm_objective(S);
    for (size_t j = 0; j < m; j++) S->order[j] = (uint32_t)j;
    if (randomise)
        for (size_t j = m; j > 1; j--) {
            size_t k = rnd_below(rng, j);
            uint32_t t = S->order[j - 1];
            S->order[j - 1] = S->order[k];
            S->order[k] = t;
        }
    size_t since = 0, t = 0;
    int any_free = 0;
    for (size_t a = 0; a < S->nopen; a++) any_free |= !S->fixed[S->open[a]];
    if (!any_free) return obj;
    while (since < m) {
        uint32_t j = S->order[t];
        t = (t + 1) % m;
        since++;
        if (S->isopen[j]) continue;
        const double *col = S->dt + (size_t)j * n;
        double gain = 0;
        for (size_t a = 0; a < S->nopen; a++) S->loss[S->open[a]] = 0;
        for (size_t i = 0; i < n; i++) {
            double v = col[i];
            if (v < S->d1[i]) gain += S->w[i] * (S->d1[i] - v);
            else S->loss[S->c1[i]] += S->w[i] * ((v < S->d2[i] ? v : S->d2[i]) - S->d1[i]);
        }
        uint32_t best = CS_INVALID_ID;
        double bl = INFINITY;
        for (size_t a = 0; a < S->nopen; a++) {
            uint32_t r = S->open[a];
            if (S->fixed[r]) continue;
            if (S->loss[r] < bl || (S->loss[r] == bl && r < best)) {
                bl = S->loss[r];
                best = r;
            }
        }
        double delta = gain - bl;
        if (best == CS_INVALID_ID || !(delta > 1e-10 * fmax(1.0, fabs(obj)))) continue;
        /* apply swap best -> j */
        for (size_t a = 0; a < S->nopen; a++)
            if (S->open[a] == best) S->open[a] = j;
        S->isopen[best] = 0;
        S->isopen[j] = 1;
        for (size_t i = 0; i < n; i++) {
            double v = col[i];
            if (S->c1[i] == best || S->c2[i] == best) pm_nearest2(S, i);
            else if (v < S->d1[i]) {
                S->d2[i] = S->d1[i];
                S->c2[i] = S->c1[i];
                S->d1[i] = v;
                S->c1[i] = j;
            } else if (v < S->d2[i]) {
                S->d2[i] = v;
                S->c2[i] = j;
            }
        }
        obj = pm_objective(S);
        since = 0;
    }
    return obj;
}

static void pm_state_free(pm_state *S)
{
    cs_free(S->open);
    cs_free(S->isopen);
    cs_free(S->c1);
    cs_free(S->c2);
    cs_free(S->d1);
    cs_free(S->d2);
    cs_free(S->loss);
    cs_free(S->order);
}

static int pm_state_alloc(pm_state *S, const fac_ctx *c, const double *dt)
{
    size_t n = c->n, m = c->m;
    memset(S, 0, sizeof *S);
    S->n = n;
    S->m = m;
    S->P = c->P;
    S->dt = dt;
    S->w = c->w;
    S->fixed = c->fixed;
    S->open = cs_mallocarray(c->P, sizeof *S->open);
    S->isopen = cs_calloc(m, 1);
    S->c1 = cs_mallocarray(n, sizeof *S->c1);
    S->c2 = cs_mallocarray(n, sizeof *S->c2);
    S->d1 = cs_mallocarray(n, sizeof *S->d1);
    S->d2 = cs_mallocarray(n, sizeof *S->d2);
    S->loss = cs_calloc(m, sizeof *S->loss);
    S->order = cs_mallocarray(m, sizeof *S->order);
    if (!S->open || !S->isopen || !S->c1 || !S->c2 || !S->d1 || !S->d2 || !S->loss || !S->order) {
        pm_state_free(S);
        return -1;
    }
    return 0;
}

/* One start: existing sites, (randomised) greedy, fast interchange. */
static double pm_run_start(pm_state *S, const fac_ctx *c, uint64_t seed, int s)
{
    uint64_t rng = seed * 0x100000001B3ull + (uint64_t)s;
    splitmix(&rng);
    memset(S->isopen, 0, S->m);
    S->nopen = 0;
    for (size_t i = 0; i < S->n; i++) {
        S->d1[i] = S->d2[i] = INFINITY;
        S->c1[i] = S->c2[i] = CS_INVALID_ID;
    }
    for (size_t k = 0; k < c->nfixed; k++) pm_add(S, c->fixed_list[k]);
    pm_greedy(S, s == 0 ? 1 : 5, &rng);
    return pm_interchange(S, &rng, s != 0);
}

/* Variable neighbourhood search (Hansen & Mladenovic 1997) from the best start: shake by k random swaps
 * (k = 1..kmax, back to 1 after an improvement), fast interchange, keep if better. Sequential and seeded.
 * Skipped when n*m > 1e7 (each iteration costs a few passes over the matrix). Returns the number of
 * improvements, -1 on allocation failure. */
static int pm_vns(const fac_ctx *c, const double *dt, uint32_t *sites, double *val, uint64_t seed, int iters)
{
    size_t n = c->n, m = c->m, P = c->P, nfree = P - c->nfixed;
    if (iters <= 0 || nfree == 0 || m <= P || (double)n * (double)m > 1e7) return 0;
    double tlim = c->opts ? c->opts->time_limit_s : 0;
    pm_state S;
    if (pm_state_alloc(&S, c, dt)) return -1;
    uint64_t rng = seed ^ 0xA5A5A5A5DEADBEEFull;
    splitmix(&rng);
    size_t kmax = nfree < 10 ? nfree : 10;
    if (m - P < kmax) kmax = m - P;
    size_t k = 1;
    int improvements = 0;
    for (int it = 0; it < iters; it++) {
        if (tlim > 0 && fac_now() - c->t0 > c->heur_frac * tlim) break;
        memset(S.isopen, 0, m);
        memcpy(S.open, sites, P * sizeof *sites);
        S.nopen = P;
        for (size_t a = 0; a < P; a++) S.isopen[sites[a]] = 1;
        for (size_t t = 0; t < k; t++) {
            size_t a;
            do a = rnd_below(&rng, P);
            while (c->fixed[S.open[a]]);
            uint32_t j;
            do j = (uint32_t)rnd_below(&rng, m);
            while (S.isopen[j]);
            S.isopen[S.open[a]] = 0;
            S.isopen[j] = 1;
            S.open[a] = j;
        }
        for (size_t i = 0; i < n; i++) pm_nearest2(&S, i);
        double v = pm_interchange(&S, &rng, 1);
        if (v < *val - 1e-10 * fmax(1.0, fabs(*val))) {
            *val = v;
            memcpy(sites, S.open, P * sizeof *sites);
            improvements++;
            k = 1;
        } else {
            k = k % kmax + 1;
        }
    }
    pm_state_free(&S);
    return improvements;
}

/* Multi-start, the starts run in parallel (OpenMP) on one shared candidate-major matrix; each start's
 * result depends only on (seed, s) and the best is chosen by (value, start index), so the outcome does not
 * depend on the thread count (unless the time limit cuts starts). */
cs_status fac_heur_pmedian(const fac_ctx *c, uint32_t *sites, double *obj_out, char *msg, size_t msgsz)
{
    size_t P = c->P;
    double big;
    int starts = c->opts && c->opts->starts > 0 ? c->opts->starts : 10;
    uint64_t seed = c->opts ? c->opts->seed : 1;
    double tlim = c->opts ? c->opts->time_limit_s : 0;
    double *dt = transpose_penalised(c, &big);
    double *val = cs_mallocarray((size_t)starts, sizeof *val);
    uint32_t *all = cs_mallocarray((size_t)starts * (P ? P : 1), sizeof *all);
    cs_status st = CS_OK;
    if (!dt || !val || !all) {
        st = CS_ENOMEM;
        goto out;
    }
    (void)big;
    int failed = 0, cancelled = 0, done = 0;
#pragma omp parallel reduction(+ : done)
    {
        pm_state S;
        int ok = pm_state_alloc(&S, c, dt) == 0;
        if (!ok) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int s = 0; s < starts; s++) {
            int stop;
#pragma omp atomic read
            stop = cancelled;
            val[s] = INFINITY;
            if (!ok || stop) continue;
            if (s > 0 && tlim > 0 && fac_now() - c->t0 > c->heur_frac * tlim) continue;
            val[s] = pm_run_start(&S, c, seed, s);
            memcpy(all + (size_t)s * P, S.open, P * sizeof *all);
            done++;
            if (c->opts && c->opts->progress.fn) {
#ifdef _OPENMP
                int master = omp_get_thread_num() == 0;
#else
                int master = 1;
#endif
                if (master && c->opts->progress.fn(c->opts->progress.user, "p-median heuristic", s + 1, starts)) {
#pragma omp atomic write
                    cancelled = 1;
                }
            }
        }
        if (ok) pm_state_free(&S);
    }
    if (failed) {
        st = cs_error_set(CS_ENOMEM, "out of memory in the p-median heuristic");
        goto out;
    }
    if (cancelled) {
        st = cs_error_set(CS_ECANCELED, "facility location cancelled during the p-median heuristic");
        goto out;
    }
    int best_start = -1;
    for (int s = 0; s < starts; s++)
        if (best_start < 0 || val[s] < val[best_start]) best_start = s;
    *obj_out = val[best_start];
    memcpy(sites, all + (size_t)best_start * P, P * sizeof *sites);
    int vns = pm_vns(c, dt, sites, obj_out, seed, 10 * starts);
    if (vns < 0) {
        st = CS_ENOMEM;
        goto out;
    }
    if (msg)
        snprintf(msg, msgsz, "greedy + fast interchange, %d start%s (best: start %d), %d VNS improvement%s", done,
                 done == 1 ? "" : "s", best_start, vns, vns == 1 ? "" : "s");
out:
    cs_free(dt);
    cs_free(val);
    cs_free(all);
    return st;
}

/* ------------------------------------------------------------ Lagrangian */

static int cmp_rho(const void *a, const void *b)
{
    const double *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

cs_status fac_lagrangian_pmedian(const fac_ctx *c, double upper, int iters, double *bound)
{
    return fac_lagrangian_pmedian_ex(c, upper, iters, bound, NULL, NULL);
}

/* lb_open[j] / lb_close[j] (optional, m entries): best Lagrangian bound found for the problem with
 * candidate j forced open / closed (Beasley 1993's reduction tests: replace the worst chosen facility
 * by j, or j by the best unchosen one). */
cs_status fac_lagrangian_pmedian_ex(const fac_ctx *c, double upper, int iters, double *bound, double *lb_open,
                                    double *lb_close)
{
    size_t n = c->n, m = c->m, P = c->P;
    *bound = NAN;
    if (iters <= 0) return CS_OK;
    double big;
    double *dt = transpose_penalised(c, &big);
    double *lam = cs_mallocarray(n, sizeof *lam);
    double *g = cs_mallocarray(n, sizeof *g);
    double *rho = cs_mallocarray(m, 2 * sizeof *rho);
    uint8_t *chosen = cs_calloc(m, 1);
    cs_status st = CS_OK;
    if (!dt || !lam || !g || !rho || !chosen) {
        st = CS_ENOMEM;
        goto out;
    }
    /* lambda_i: the second smallest weighted cost of i (the smallest is often 0: i itself). */
    for (size_t i = 0; i < n; i++) {
        double a = INFINITY, b = INFINITY;
        for (size_t j = 0; j < m; j++) {
            double v = c->w[i] * dt[j * n + i];
            if (v < a) {
                b = a;
                a = v;
            } else if (v < b) b = v;
        }
        lam[i] = isfinite(b) ? b : a;
    }
    double best = -INFINITY, f = 2.0;
    int stall = 0;
    size_t Pn = P - c->nfixed;
    for (size_t j = 0; lb_open && j < m; j++) lb_open[j] = lb_close[j] = -INFINITY;
    double ub = isfinite(upper) ? upper : INFINITY;
    double tlim = c->opts ? c->opts->time_limit_s : 0;
    for (int it = 0; it < iters; it++) {
        if (tlim > 0 && it > 0 && fac_now() - c->t0 > c->lagr_frac * tlim) break;
        double L = 0;
        for (size_t i = 0; i < n; i++) L += lam[i];
        size_t nr = 0;
        memset(chosen, 0, m);
        for (size_t j = 0; j < m; j++) {
            const double *col = dt + j * n;
            double r = 0;
            for (size_t i = 0; i < n; i++) {
                double v = c->w[i] * col[i] - lam[i];
                if (v < 0) r += v;
            }
            if (c->fixed[j]) {
                L += r;
                chosen[j] = 1;
            } else {
                rho[2 * nr] = r;
                rho[2 * nr + 1] = (double)j;
                nr++;
            }
        }
        qsort(rho, nr, 2 * sizeof *rho, cmp_rho);
        for (size_t k = 0; k < Pn && k < nr; k++) {
            L += rho[2 * k];
            chosen[(size_t)rho[2 * k + 1]] = 1;
        }
        if (lb_open && Pn > 0) {
            for (size_t k = 0; k < nr; k++) {
                size_t j = (size_t)rho[2 * k + 1];
                double v;
                if (k < Pn) {
                    v = Pn < nr ? L - rho[2 * k] + rho[2 * Pn] : INFINITY;
                    if (v > lb_close[j]) lb_close[j] = v;
                } else {
                    v = L - rho[2 * (Pn - 1)] + rho[2 * k];
                    if (v > lb_open[j]) lb_open[j] = v;
                }
            }
        }
        if (best == -INFINITY || L > best + 1e-12 * fmax(1.0, fabs(best))) {
            best = L;
            stall = 0;
        } else if (++stall >= 30) {
            f /= 2;
            stall = 0;
            if (f < 1e-4) break;
        }
        double norm = 0;
        for (size_t i = 0; i < n; i++) g[i] = 1;
        for (size_t j = 0; j < m; j++) {
            if (!chosen[j]) continue;
            const double *col = dt + j * n;
            for (size_t i = 0; i < n; i++)
                if (c->w[i] * col[i] - lam[i] < 0) g[i] -= 1;
        }
        for (size_t i = 0; i < n; i++) norm += g[i] * g[i];
        if (norm == 0) break; /* the relaxed solution is feasible: L is optimal */
        double gapv = (isfinite(ub) ? ub : 1.05 * fabs(L) + 1) - L;
        if (gapv <= 0) break;
        double step = f * gapv / norm;
        for (size_t i = 0; i < n; i++) lam[i] += step * g[i];
        if ((st = fac_progress(c, "Lagrangian bound", it, iters))) goto out;
    }
    *bound = best;
out:
    cs_free(dt);
    cs_free(lam);
    cs_free(g);
    cs_free(rho);
    cs_free(chosen);
    return st;
}

/* ------------------------------------------------------------------ MCLP */

/* Coverage lists in CSR form: cov[start[j]..start[j+1]) = demand points within radius of j. */
typedef struct cover {
    size_t *start;
    uint32_t *idx;
} cover;

static void cover_free(cover *cv)
{
    cs_free(cv->start);
    cs_free(cv->idx);
}

static cs_status cover_build(const fac_ctx *c, double radius, int positive_only, cover *cv)
{
    size_t n = c->n, m = c->m, nnz = 0;
    cv->start = cs_calloc(m + 1, sizeof *cv->start);
    if (!cv->start) return CS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (positive_only && c->w[i] <= 0) continue;
        for (size_t j = 0; j < m; j++)
            if (c->d[i * m + j] <= radius) cv->start[j + 1]++;
    }
    for (size_t j = 0; j < m; j++) cv->start[j + 1] += cv->start[j];
    nnz = cv->start[m];
    cv->idx = cs_mallocarray(nnz ? nnz : 1, sizeof *cv->idx);
    size_t *fill = cs_mallocarray(m, sizeof *fill);
    if (!cv->idx || !fill) {
        cs_free(fill);
        cover_free(cv);
        return CS_ENOMEM;
    }
    memcpy(fill, cv->start, m * sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        if (positive_only && c->w[i] <= 0) continue;
        for (size_t j = 0; j < m; j++)
            if (c->d[i * m + j] <= radius) cv->idx[fill[j]++] = (uint32_t)i;
    }
    cs_free(fill);
    return CS_OK;
}

cs_status fac_heur_mclp(const fac_ctx *c, double radius, size_t P, uint32_t *sites, double *obj)
{
    size_t n = c->n, m = c->m;
    cover cv = {0};
    cs_status st = cover_build(c, radius, 0, &cv);
    if (st) return st;
    uint32_t *cnt = cs_calloc(n, sizeof *cnt), *xr = cs_calloc(n, sizeof *xr);
    uint8_t *isopen = cs_calloc(m, 1);
    double *loss = cs_calloc(m, sizeof *loss), *credit = cs_calloc(m, sizeof *credit);
    size_t nopen = 0;
    if (!cnt || !xr || !isopen || !loss || !credit) {
        st = CS_ENOMEM;
        goto out;
    }
#define OPEN_SITE(j)                                                                                                   \
    do {                                                                                                               \
        uint32_t j_ = (j);                                                                                             \
        sites[nopen++] = j_;                                                                                           \
        isopen[j_] = 1;                                                                                                \
        for (size_t q_ = cv.start[j_]; q_ < cv.start[j_ + 1]; q_++) {                                                  \
            cnt[cv.idx[q_]]++;                                                                                         \
            xr[cv.idx[q_]] ^= j_;                                                                                      \
        }                                                                                                              \
    } while (0)
    for (size_t k = 0; k < c->nfixed; k++) OPEN_SITE(c->fixed_list[k]);
    while (nopen < P) {
        double bg = -1;
        uint32_t bj = CS_INVALID_ID;
        for (size_t j = 0; j < m; j++) {
            if (isopen[j]) continue;
            double g = 0;
            for (size_t q = cv.start[j]; q < cv.start[j + 1]; q++)
                if (!cnt[cv.idx[q]]) g += c->w[cv.idx[q]];
            if (g > bg) {
                bg = g;
                bj = (uint32_t)j;
            }
        }
        OPEN_SITE(bj);
    }
    /* swap local search, first improvement */
    size_t since = 0, t = 0;
    while (since < m && P > c->nfixed) {
        uint32_t j = (uint32_t)t;
        t = (t + 1) % m;
        since++;
        if (isopen[j]) continue;
        for (size_t a = 0; a < nopen; a++) loss[sites[a]] = credit[sites[a]] = 0;
        for (size_t a = 0; a < nopen; a++) {
            uint32_t r = sites[a];
            for (size_t q = cv.start[r]; q < cv.start[r + 1]; q++)
                if (cnt[cv.idx[q]] == 1) loss[r] += c->w[cv.idx[q]];
        }
        double gain = 0;
        for (size_t q = cv.start[j]; q < cv.start[j + 1]; q++) {
            uint32_t i = cv.idx[q];
            if (cnt[i] == 0) gain += c->w[i];
            else if (cnt[i] == 1) credit[xr[i]] += c->w[i];
        }
        double bd = 0;
        size_t ba = SIZE_MAX;
        for (size_t a = 0; a < nopen; a++) {
            uint32_t r = sites[a];
            if (c->fixed[r]) continue;
            double dlt = gain - (loss[r] - credit[r]);
            if (dlt > bd + 1e-12 * fmax(1.0, gain)) {
                bd = dlt;
                ba = a;
            }
        }
        if (ba == SIZE_MAX) continue;
        uint32_t r = sites[ba];
        isopen[r] = 0;
        for (size_t q = cv.start[r]; q < cv.start[r + 1]; q++) {
            cnt[cv.idx[q]]--;
            xr[cv.idx[q]] ^= r;
        }
        sites[ba] = sites[--nopen];
        OPEN_SITE(j);
        since = 0;
    }
#undef OPEN_SITE
    double o = 0;
    for (size_t i = 0; i < n; i++)
        if (cnt[i]) o += c->w[i];
    *obj = o;
out:
    cover_free(&cv);
    cs_free(cnt);
    cs_free(xr);
    cs_free(isopen);
    cs_free(loss);
    cs_free(credit);
    return st;
}

/* ------------------------------------------------------------------- SCP */

/* Greedy cover of the demand with w > 0 (Chvatal 1979: most newly covered points), then removal of
 * redundant sites in reverse order of addition. Returns all open sites (existing included). If some
 * point cannot be covered, returns the sites covering what can be covered and *complete = 0. */
static cs_status scp_greedy(const fac_ctx *c, const cover *cv, size_t limit, uint32_t *sites, size_t *nsites,
                            int *complete)
{
    size_t n = c->n, m = c->m, ns = 0;
    uint32_t *cnt = cs_calloc(n, sizeof *cnt);
    uint8_t *isopen = cs_calloc(m, 1);
    if (!cnt || !isopen) {
        cs_free(cnt);
        cs_free(isopen);
        return CS_ENOMEM;
    }
    size_t uncovered = 0;
    for (size_t k = 0; k < c->nfixed; k++) {
        uint32_t j = c->fixed_list[k];
        sites[ns++] = j;
        isopen[j] = 1;
        for (size_t q = cv->start[j]; q < cv->start[j + 1]; q++) cnt[cv->idx[q]]++;
    }
    for (size_t i = 0; i < n; i++)
        if (c->w[i] > 0 && !cnt[i]) uncovered++;
    *complete = 1;
    while (uncovered > 0) {
        if (ns >= limit) {
            *complete = 0;
            break;
        }
        size_t bg = 0;
        uint32_t bj = CS_INVALID_ID;
        for (size_t j = 0; j < m; j++) {
            if (isopen[j]) continue;
            size_t g = 0;
            for (size_t q = cv->start[j]; q < cv->start[j + 1]; q++) g += !cnt[cv->idx[q]];
            if (g > bg) {
                bg = g;
                bj = (uint32_t)j;
            }
        }
        if (bj == CS_INVALID_ID) {
            *complete = 0;
            break;
        }
        sites[ns++] = bj;
        isopen[bj] = 1;
        for (size_t q = cv->start[bj]; q < cv->start[bj + 1]; q++)
            if (!cnt[cv->idx[q]]++) uncovered--;
    }
    if (*complete) {
        for (size_t a = ns; a-- > c->nfixed;) {
            uint32_t j = sites[a];
            int redundant = 1;
            for (size_t q = cv->start[j]; q < cv->start[j + 1] && redundant; q++) redundant = cnt[cv->idx[q]] >= 2;
            if (!redundant) continue;
            for (size_t q = cv->start[j]; q < cv->start[j + 1]; q++) cnt[cv->idx[q]]--;
            memmove(sites + a, sites + a + 1, (ns - a - 1) * sizeof *sites);
            ns--;
        }
    }
    *nsites = ns;
    cs_free(cnt);
    cs_free(isopen);
    return CS_OK;
}

cs_status fac_heur_scp(const fac_ctx *c, double radius, uint32_t **sites_out, size_t *nsites)
{
    *sites_out = NULL;
    cover cv = {0};
    cs_status st = cover_build(c, radius, 1, &cv);
    if (st) return st;
    uint32_t *sites = cs_mallocarray(c->m, sizeof *sites);
    if (!sites) {
        cover_free(&cv);
        return CS_ENOMEM;
    }
    int complete = 0;
    st = scp_greedy(c, &cv, c->m, sites, nsites, &complete);
    cover_free(&cv);
    if (!st && !complete) st = cs_error_set(CS_EINFEASIBLE, "set covering: some demand points cannot be covered");
    if (st) {
        cs_free(sites);
        return st;
    }
    *sites_out = sites;
    return CS_OK;
}

/* --------------------------------------------------------------- p-center */

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pc_eval(const fac_ctx *c, const uint32_t *sites, size_t ns)
{
    double mx = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->w[i] <= 0) continue;
        double b = INFINITY;
        for (size_t a = 0; a < ns; a++) {
            double v = c->d[i * c->m + sites[a]];
            if (v < b) b = v;
        }
        if (b > mx) mx = b;
    }
    return mx;
}

/* Sorted distinct finite values of the matrix (owned). */
static cs_status distinct_values(const fac_ctx *c, double **vals, size_t *nv)
{
    size_t N = c->n * c->m, k = 0;
    double *v = cs_mallocarray(N ? N : 1, sizeof *v);
    if (!v) return CS_ENOMEM;
    for (size_t q = 0; q < N; q++)
        if (isfinite(c->d[q]) && c->w[q / c->m] > 0) v[k++] = c->d[q];
    qsort(v, k, sizeof *v, cmp_dbl);
    size_t u = 0;
    for (size_t q = 0; q < k; q++)
        if (u == 0 || v[u - 1] != v[q]) v[u++] = v[q];
    *vals = v;
    *nv = u;
    return CS_OK;
}

/* Fill an incomplete site list up to P with the candidates that most reduce the worst time. */
static void pc_fill(const fac_ctx *c, uint32_t *sites, size_t *ns)
{
    uint8_t *isopen = cs_calloc(c->m, 1);
    if (!isopen) return;
    for (size_t a = 0; a < *ns; a++) isopen[sites[a]] = 1;
    while (*ns < c->P) {
        /* farthest demand point from the current sites, then its nearest closed candidate */
        size_t far = SIZE_MAX;
        double fd = -1;
        for (size_t i = 0; i < c->n; i++) {
            if (c->w[i] <= 0) continue;
            double b = INFINITY;
            for (size_t a = 0; a < *ns; a++) b = fmin(b, c->d[i * c->m + sites[a]]);
            if (b > fd) {
                fd = b;
                far = i;
            }
        }
        uint32_t bj = CS_INVALID_ID;
        double bd = INFINITY;
        for (size_t j = 0; j < c->m; j++) {
            if (isopen[j]) continue;
            double v = far != SIZE_MAX ? c->d[far * c->m + j] : 0;
            if (bj == CS_INVALID_ID || v < bd) {
                bd = v;
                bj = (uint32_t)j;
            }
        }
        if (bj == CS_INVALID_ID) break;
        isopen[bj] = 1;
        sites[(*ns)++] = bj;
    }
    cs_free(isopen);
}

/* Binary search over the sorted distinct times for the smallest radius whose greedy cover uses at
 * most P sites (Minieka 1970's reduction of the p-center to set covering, with a greedy cover). */
cs_status fac_heur_pcenter(const fac_ctx *c, uint32_t *sites, double *obj)
{
    double *vals = NULL;
    size_t nv = 0;
    cs_status st = distinct_values(c, &vals, &nv);
    if (st) return st;
    uint32_t *tmp = cs_mallocarray(c->m, sizeof *tmp);
    if (!tmp) {
        cs_free(vals);
        return CS_ENOMEM;
    }
    size_t ns = 0;
    /* fallback: farthest-first from the existing sites (Gonzalez 1985) */
    for (size_t k = 0; k < c->nfixed; k++) sites[ns++] = c->fixed_list[k];
    pc_fill(c, sites, &ns);
    double best = pc_eval(c, sites, ns);
    size_t lo = 0, hi = nv;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        cover cv = {0};
        if ((st = cover_build(c, vals[mid], 1, &cv))) goto out;
        size_t k = 0;
        int complete = 0;
        st = scp_greedy(c, &cv, c->P, tmp, &k, &complete);
        cover_free(&cv);
        if (st) goto out;
        if (complete) {
            pc_fill(c, tmp, &k);
            double v = pc_eval(c, tmp, k);
            if (v < best) {
                best = v;
                memcpy(sites, tmp, k * sizeof *tmp);
            }
            hi = mid;
        } else {
            lo = mid + 1;
        }
        if ((st = fac_progress(c, "p-center heuristic", (double)(nv - (hi - lo)), (double)nv))) goto out;
    }
    *obj = best;
out:
    cs_free(vals);
    cs_free(tmp);
    return st;
}

/* ------------------------------------------------- capacitated p-median */

/* Single-source assignment to the open sites: demand in decreasing weight order to its nearest site with
 * room (first-fit decreasing), then shift and pairwise-swap moves while they lower the cost. Returns the
 * cost, +INFINITY when some demand could not be placed. asg[i] = candidate index (CS_INVALID_ID if none). */
static double cp_assign(const fac_ctx *c, const uint32_t *open, size_t P, const size_t *order, double *rem,
                        uint32_t *asg)
{
    size_t n = c->n, m = c->m;
    const double *Q = c->prob->capacity;
    for (size_t a = 0; a < P; a++) rem[open[a]] = isfinite(Q[open[a]]) ? Q[open[a]] : INFINITY;
    int feasible = 1;
    for (size_t q = 0; q < n; q++) {
        size_t i = order[q];
        asg[i] = CS_INVALID_ID;
        double bd = INFINITY;
        uint32_t bj = CS_INVALID_ID;
        for (size_t a = 0; a < P; a++) {
            uint32_t j = open[a];
            double d = c->d[i * m + j];
            if (isfinite(d) && (c->w[i] <= 0 || rem[j] >= c->w[i]) && d < bd) {
                bd = d;
                bj = j;
            }
        }
        if (bj == CS_INVALID_ID) {
            if (c->w[i] > 0) feasible = 0;
            continue;
        }
        asg[i] = bj;
        rem[bj] -= c->w[i];
    }
    if (!feasible) return INFINITY;
    for (int pass = 0; pass < 20; pass++) {
        int improved = 0;
        for (size_t i = 0; i < n; i++) {
            if (c->w[i] <= 0) continue;
            uint32_t a0 = asg[i];
            double da = c->d[i * m + a0];
            for (size_t b = 0; b < P; b++) {
                uint32_t j = open[b];
                if (j == a0) continue;
                double db = c->d[i * m + j];
                if (db < da && rem[j] >= c->w[i]) { /* shift */
                    rem[j] -= c->w[i];
                    rem[a0] += c->w[i];
                    asg[i] = j;
                    a0 = j;
                    da = db;
                    improved = 1;
                }
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (c->w[i] <= 0) continue;
            for (size_t k = i + 1; k < n; k++) {
                if (c->w[k] <= 0) continue;
                uint32_t a0 = asg[i], b0 = asg[k];
                if (a0 == b0) continue;
                double dib = c->d[i * m + b0], dka = c->d[k * m + a0];
                if (!isfinite(dib) || !isfinite(dka)) continue;
                double delta = c->w[i] * (dib - c->d[i * m + a0]) + c->w[k] * (dka - c->d[k * m + b0]);
                if (delta < -1e-12 && rem[a0] + c->w[i] - c->w[k] >= 0 && rem[b0] + c->w[k] - c->w[i] >= 0) {
                    rem[a0] += c->w[i] - c->w[k];
                    rem[b0] += c->w[k] - c->w[i];
                    asg[i] = b0;
                    asg[k] = a0;
                    improved = 1;
                }
            }
        }
        if (!improved) break;
    }
    double cost = 0;
    for (size_t i = 0; i < n; i++)
        if (c->w[i] > 0) cost += c->w[i] * c->d[i * m + asg[i]];
    return cost;
}

static const double *g_sort_w;
static int cmp_w_desc(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (g_sort_w[x] != g_sort_w[y]) return g_sort_w[x] > g_sort_w[y] ? -1 : 1;
    return (x > y) - (x < y);
}

/* Capacitated single-source p-median heuristic: sites of the uncapacitated heuristic, then alternate
 * location-allocation (Cooper 1964; Maranzana 1964): assign with capacities (cp_assign), move every
 * non-existing site to the candidate that minimises the weighted time of its members among those whose
 * capacity holds their load, repeat while the cost falls (at most 30 rounds). */
cs_status fac_heur_cpmedian(const fac_ctx *c, uint32_t *sites, uint32_t *assign, double *obj)
{
    size_t n = c->n, m = c->m, P = c->P;
    const double *Q = c->prob->capacity;
    double h;
    cs_status st = fac_heur_pmedian(c, sites, &h, NULL, 0);
    if (st) return st;
    size_t *order = cs_mallocarray(n, sizeof *order);
    double *rem = cs_mallocarray(m, sizeof *rem), *load = cs_mallocarray(m, sizeof *load);
    double *acc = cs_mallocarray(m, sizeof *acc);
    uint32_t *asg = cs_mallocarray(n, sizeof *asg), *cur = cs_mallocarray(P, sizeof *cur);
    uint8_t *isopen = cs_calloc(m, 1);
    if (!order || !rem || !load || !acc || !asg || !cur || !isopen) {
        st = CS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) order[i] = i;
    g_sort_w = c->w;
    qsort(order, n, sizeof *order, cmp_w_desc); /* g_sort_w is only read inside this call */
    memcpy(cur, sites, P * sizeof *cur);
    double best = INFINITY;
    for (int round = 0; round < 30; round++) {
        double cost = cp_assign(c, cur, P, order, rem, asg);
        if (!(cost < best - 1e-12 * fmax(1.0, fabs(best)))) break;
        best = cost;
        memcpy(sites, cur, P * sizeof *sites);
        memcpy(assign, asg, n * sizeof *asg);
        /* relocation step */
        memset(isopen, 0, m);
        for (size_t a = 0; a < P; a++) isopen[cur[a]] = 1;
        for (size_t a = 0; a < P; a++) {
            uint32_t r = cur[a];
            if (c->fixed[r]) continue;
            double ld = 0;
            for (size_t j = 0; j < m; j++) acc[j] = 0;
            for (size_t i = 0; i < n; i++) {
                if (asg[i] != r || c->w[i] <= 0) continue;
                ld += c->w[i];
                for (size_t j = 0; j < m; j++) acc[j] += c->w[i] * c->d[i * m + j];
            }
            uint32_t bj = r;
            for (size_t j = 0; j < m; j++) {
                if ((isopen[j] && j != r) || !(isinf(Q[j]) || isnan(Q[j]) || Q[j] >= ld)) continue;
                if (acc[j] < acc[bj]) bj = (uint32_t)j;
            }
            if (bj != r) {
                isopen[r] = 0;
                isopen[bj] = 1;
                cur[a] = bj;
            }
        }
    }
    *obj = best;
out:
    cs_free(order);
    cs_free(rem);
    cs_free(load);
    cs_free(acc);
    cs_free(asg);
    cs_free(cur);
    cs_free(isopen);
    return st;
}

/* hierarchy.c: rank-size (Gabaix–Ibragimov), CSN continuous power law, primacy, Herfindahl, secondary cities. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/hierarchy.h"
#include "citysys/alloc.h"

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}
static int cmp_asc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

cs_status cs_rank_size_gi(const double *sizes, size_t n, cs_rank_size *out)
{
    if (!sizes || !out) return cs_error_set(CS_EINVAL, "rank-size: NULL argument");
    if (n < 3) return cs_error_set(CS_EINVAL, "rank-size: need at least 3 sizes, got %zu", n);
    double *s = cs_mallocarray(n, sizeof *s);
    if (!s) return CS_ENOMEM;
    for (size_t k = 0; k < n; k++) {
        if (!(sizes[k] > 0) || !isfinite(sizes[k])) {
            cs_free(s);
            return cs_error_set(CS_EINVAL, "rank-size: size %zu is %g; sizes must be finite and > 0", k, sizes[k]);
        }
        s[k] = sizes[k];
    }
    qsort(s, n, sizeof *s, cmp_desc);
    double mx = 0, my = 0;
    for (size_t k = 0; k < n; k++) {
        mx += log(s[k]);
        my += log((double)(k + 1) - 0.5);
    }
    mx /= (double)n, my /= (double)n;
    double sxx = 0, sxy = 0, syy = 0;
    for (size_t k = 0; k < n; k++) {
        double dx = log(s[k]) - mx, dy = log((double)(k + 1) - 0.5) - my;
        sxx += dx * dx, sxy += dx * dy, syy += dy * dy;
    }
    cs_free(s);
    if (!(sxx > 0)) return cs_error_set(CS_EINVAL, "rank-size: all sizes are equal; the slope is undefined");
    double b = sxy / sxx, a = my - b * mx;
    double rss = syy - b * sxy;
    if (rss < 0) rss = 0;
    out->n = n;
    out->zeta_gi = -b;
    out->zeta_gi_se = -b * sqrt(2.0 / (double)n);
    out->intercept_gi = a;
    out->zeta_ols_se = sqrt(rss / (double)(n - 2) / sxx);
    out->r2_ols = syy > 0 ? 1 - rss / syy : NAN;
    return CS_OK;
}

void cs_powerlaw_opts_default(cs_powerlaw_opts *o)
{
    o->min_tail = 10;
    o->nboot = 1000;
    o->seed = 1;
}

/* KS distance of the continuous power law (xmin, alpha) against sorted (ascending) tail t[0..nt-1]; ties grouped. */
static double ks_tail(const double *t, size_t nt, double xmin, double alpha)
{
    double d = 0;
    size_t k = 0;
    while (k < nt) {
        size_t e = k;
        while (e + 1 < nt && t[e + 1] == t[k]) e++;
        double F = 1 - pow(t[k] / xmin, 1 - alpha);
        double lo = fabs((double)k / (double)nt - F), hi = fabs((double)(e + 1) / (double)nt - F);
        if (lo > d) d = lo;
        if (hi > d) d = hi;
        k = e + 1;
    }
    return d;
}

/* Scan x_min over unique values of sorted x (ascending) with tail >= min_tail; suffix log sums in sl (n+1). */
static int scan_fit(const double *x, size_t n, size_t min_tail, double *sl, double *xmin, double *alpha, double *D,
                    size_t *ntail)
{
    sl[n] = 0;
    for (size_t k = n; k-- > 0;) sl[k] = sl[k + 1] + log(x[k]);
    double best = INFINITY;
    int found = 0;
    for (size_t k = 0; k < n; k++) {
        if (k > 0 && x[k] == x[k - 1]) continue;
        size_t nt = n - k;
        if (nt < min_tail || nt < 2) break;
        double den = sl[k] - (double)nt * log(x[k]);
        if (!(den > 0)) continue;
        double a = 1 + (double)nt / den;
        double d = ks_tail(x + k, nt, x[k], a);
        if (d < best) {
            best = d, *xmin = x[k], *alpha = a, *ntail = nt;
            found = 1;
        }
    }
    *D = best;
    return found;
}

cs_status cs_powerlaw_fit_xmin(const double *x, size_t n, double xmin, cs_powerlaw *out)
{
    if (!x || !out || !(xmin > 0)) return cs_error_set(CS_EINVAL, "power law: NULL argument or x_min <= 0");
    double *t = cs_mallocarray(n ? n : 1, sizeof *t);
    if (!t) return CS_ENOMEM;
    size_t nt = 0;
    double sl = 0;
    for (size_t k = 0; k < n; k++) {
        if (!(x[k] > 0) || !isfinite(x[k])) {
            cs_free(t);
            return cs_error_set(CS_EINVAL, "power law: value %zu is %g; values must be finite and > 0", k, x[k]);
        }
        if (x[k] >= xmin) t[nt++] = x[k], sl += log(x[k] / xmin);
    }
    if (nt < 2 || !(sl > 0)) {
        cs_free(t);
        return cs_error_set(CS_EINVAL, "power law: fewer than 2 distinct values at or above x_min = %g", xmin);
    }
    qsort(t, nt, sizeof *t, cmp_asc);
    double a = 1 + (double)nt / sl;
    out->n = n;
    out->ntail = nt;
    out->xmin = xmin;
    out->alpha = a;
    out->alpha_se = (a - 1) / sqrt((double)nt);
    out->zeta = a - 1;
    out->ks_d = ks_tail(t, nt, xmin, a);
    out->p_value = NAN;
    out->nboot = 0;
    cs_free(t);
    return CS_OK;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double unif(uint64_t *s) { return (double)(splitmix(s) >> 11) * 0x1.0p-53; }

cs_status cs_powerlaw_fit(const double *x, size_t n, const cs_powerlaw_opts *opts, cs_powerlaw *out)
{
    cs_powerlaw_opts def;
    if (!opts) {
        cs_powerlaw_opts_default(&def);
        opts = &def;
    }
    if (!x || !out) return cs_error_set(CS_EINVAL, "power law: NULL argument");
    if (opts->nboot < 0) return cs_error_set(CS_EINVAL, "power law: nboot must be >= 0");
    double *s = cs_mallocarray(n + 1, sizeof *s), *sl = cs_mallocarray(n + 1, sizeof *sl);
    if (!s || !sl) {
        cs_free(s);
        cs_free(sl);
        return CS_ENOMEM;
    }
    for (size_t k = 0; k < n; k++) {
        if (!(x[k] > 0) || !isfinite(x[k])) {
            cs_free(s);
            cs_free(sl);
            return cs_error_set(CS_EINVAL, "power law: value %zu is %g; values must be finite and > 0", k, x[k]);
        }
        s[k] = x[k];
    }
    qsort(s, n, sizeof *s, cmp_asc);
    double xmin = NAN, alpha = NAN, D = NAN;
    size_t nt = 0;
    if (!scan_fit(s, n, opts->min_tail, sl, &xmin, &alpha, &D, &nt)) {
        cs_free(s);
        cs_free(sl);
        return cs_error_set(CS_EINVAL, "power law: no candidate x_min leaves a tail of at least %zu distinct-valued "
                                       "observations (n = %zu)",
                            opts->min_tail, n);
    }
    out->n = n;
    out->ntail = nt;
    out->xmin = xmin;
    out->alpha = alpha;
    out->alpha_se = (alpha - 1) / sqrt((double)nt);
    out->zeta = alpha - 1;
    out->ks_d = D;
    out->nboot = opts->nboot;
    out->p_value = NAN;
    if (opts->nboot > 0) {
        /* Semi-parametric bootstrap (CSN 2009, §4.1): each synthetic value is drawn, with probability
         * n_tail/n, from the fitted power law above x_min, otherwise uniformly from the observed values
         * below x_min; every replicate is refitted with its own x_min scan. Replicate b uses its own
         * RNG stream (seed, b), so the result does not depend on the thread count. */
        const size_t nbelow = n - nt;
        int ge = 0, failed = 0;
#pragma omp parallel reduction(+ : ge, failed)
        {
            double *y = cs_mallocarray(n + 1, sizeof *y), *yl = cs_mallocarray(n + 1, sizeof *yl);
            if (!y || !yl) failed++;
            /* every thread must reach the worksharing loop (an OpenMP rule); one without buffers skips its share */
#pragma omp for schedule(dynamic, 4)
            for (int b = 0; b < opts->nboot; b++) {
                if (!y || !yl) continue;
                uint64_t st = opts->seed * 0x2545f4914f6cdd1dULL + (uint64_t)b * 0x9e3779b97f4a7c15ULL + 1;
                splitmix(&st);
                for (size_t k = 0; k < n; k++) {
                    double u = unif(&st);
                    if (nbelow == 0 || u < (double)nt / (double)n) {
                        double v = unif(&st);
                        y[k] = xmin * pow(1 - v, -1 / (alpha - 1));
                    } else {
                        size_t idx = (size_t)(unif(&st) * (double)nbelow);
                        if (idx >= nbelow) idx = nbelow - 1;
                        y[k] = s[idx];
                    }
                }
                qsort(y, n, sizeof *y, cmp_asc);
                double bx, ba, bd;
                size_t bn;
                if (scan_fit(y, n, opts->min_tail, yl, &bx, &ba, &bd, &bn) && bd >= D) ge++;
            }
            cs_free(y);
            cs_free(yl);
        }
        if (failed) {
            cs_free(s);
            cs_free(sl);
            return cs_error_set(CS_ENOMEM, "power law: out of memory in the bootstrap");
        }
        out->p_value = (double)ge / (double)opts->nboot;
    }
    cs_free(s);
    cs_free(sl);
    return CS_OK;
}

cs_status cs_primacy_compute(const double *sizes, size_t n, cs_primacy *out)
{
    if (!sizes || !out) return cs_error_set(CS_EINVAL, "primacy: NULL argument");
    double *s = cs_mallocarray(n ? n : 1, sizeof *s);
    if (!s) return CS_ENOMEM;
    double tot = 0;
    for (size_t k = 0; k < n; k++) {
        if (!(sizes[k] >= 0) || !isfinite(sizes[k])) {
            cs_free(s);
            return cs_error_set(CS_EINVAL, "primacy: size %zu is %g; sizes must be finite and >= 0", k, sizes[k]);
        }
        s[k] = sizes[k];
        tot += sizes[k];
    }
    if (!(tot > 0)) {
        cs_free(s);
        return cs_error_set(CS_EINVAL, "primacy: total size is 0");
    }
    qsort(s, n, sizeof *s, cmp_desc);
    out->n = n;
    out->total = tot;
    out->largest = s[0];
    out->primacy_2 = n >= 2 ? s[0] / s[1] : NAN;
    out->primacy_4 = n >= 4 ? s[0] / (s[1] + s[2] + s[3]) : NAN;
    if (n >= 11) {
        double d = 0;
        for (size_t k = 1; k < 11; k++) d += s[k];
        out->primacy_11 = 2 * s[0] / d;
    } else {
        out->primacy_11 = NAN;
    }
    out->primate_share = s[0] / tot;
    double h = 0;
    for (size_t k = 0; k < n; k++) h += (s[k] / tot) * (s[k] / tot);
    out->herfindahl = h;
    cs_free(s);
    return CS_OK;
}

void cs_hierarchy_opts_default(cs_hierarchy_opts *o)
{
    cs_powerlaw_opts_default(&o->powerlaw);
    o->fit_powerlaw = 1;
    o->secondary_lo = 0.10;
    o->secondary_hi = 0.50;
}

void cs_hierarchy_free(cs_hierarchy *h)
{
    if (!h) return;
    if (h->groups)
        for (size_t g = 0; g < h->ngroups; g++) cs_free(h->groups[g].name);
    cs_free(h->groups);
    cs_free(h->rel_size);
    cs_free(h->is_secondary);
    cs_free(h);
}

typedef struct code_idx {
    const char *code;
    uint32_t i;
} code_idx;
static int cmp_code_idx(const void *a, const void *b)
{
    const code_idx *x = a, *y = b;
    int c = strcmp(x->code, y->code);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

static void nan_rank_size(cs_rank_size *r, size_t n)
{
    r->n = n;
    r->zeta_gi = r->zeta_gi_se = r->intercept_gi = r->zeta_ols_se = r->r2_ols = NAN;
}
static void nan_powerlaw(cs_powerlaw *p, size_t n)
{
    p->n = n;
    p->ntail = 0;
    p->xmin = p->alpha = p->alpha_se = p->zeta = p->ks_d = p->p_value = NAN;
    p->nboot = 0;
}

static cs_status group_stats(const double *pop, const uint32_t *idx, size_t m, const cs_hierarchy_opts *o,
                             const uint8_t *sec, cs_hierarchy_group *g, double *buf)
{
    size_t np = 0;
    g->n = m;
    g->n_secondary = 0;
    for (size_t k = 0; k < m; k++) {
        if (pop[idx[k]] > 0) buf[np++] = pop[idx[k]];
        if (sec[idx[k]]) g->n_secondary++;
    }
    g->n_positive = np;
    nan_rank_size(&g->rank_size, np);
    nan_powerlaw(&g->powerlaw, np);
    cs_status st;
    if (np >= 3) {
        /* all-equal sizes leave the slope undefined: keep NaN */
        cs_rank_size rs;
        st = cs_rank_size_gi(buf, np, &rs);
        if (st == CS_OK) g->rank_size = rs;
        else if (st == CS_ENOMEM) return st;
        else cs_error_clear();
    }
    if (o->fit_powerlaw && np > o->powerlaw.min_tail) {
        cs_powerlaw pl;
        st = cs_powerlaw_fit(buf, np, &o->powerlaw, &pl);
        if (st == CS_OK) g->powerlaw = pl;
        else if (st == CS_ENOMEM) return st;
        else cs_error_clear();
    }
    for (size_t k = 0; k < m; k++) buf[k] = pop[idx[k]];
    memset(&g->primacy, 0, sizeof g->primacy);
    st = cs_primacy_compute(buf, m, &g->primacy);
    if (st == CS_ENOMEM) return st;
    if (st) {
        cs_error_clear();
        g->primacy.n = m;
        g->primacy.total = 0;
        g->primacy.largest = 0;
        g->primacy.primacy_2 = g->primacy.primacy_4 = g->primacy.primacy_11 = NAN;
        g->primacy.primate_share = g->primacy.herfindahl = NAN;
    }
    return CS_OK;
}

cs_status cs_hierarchy_compute(const double *pop, const char *const *country, size_t n, const cs_hierarchy_opts *opts,
                               cs_hierarchy **out)
{
    cs_hierarchy_opts def;
    if (!opts) {
        cs_hierarchy_opts_default(&def);
        opts = &def;
    }
    if (!pop || !out) return cs_error_set(CS_EINVAL, "hierarchy: NULL argument");
    *out = NULL;
    if (!(opts->secondary_lo >= 0) || !(opts->secondary_hi >= opts->secondary_lo))
        return cs_error_set(CS_EINVAL, "hierarchy: secondary band must satisfy 0 <= lo <= hi (got %g, %g)",
                            opts->secondary_lo, opts->secondary_hi);
    for (size_t i = 0; i < n; i++)
        if (!(pop[i] >= 0) || !isfinite(pop[i]))
            return cs_error_set(CS_EINVAL, "hierarchy: population of city %zu is %g; must be finite and >= 0", i,
                                pop[i]);
    cs_status st = CS_OK;
    cs_hierarchy *h = cs_calloc(1, sizeof *h);
    uint32_t *idx = cs_mallocarray(n ? n : 1, sizeof *idx);
    double *buf = cs_mallocarray(n ? n : 1, sizeof *buf);
    if (!h || !idx || !buf) goto nomem;
    h->n = n;
    h->rel_size = cs_mallocarray(n ? n : 1, sizeof *h->rel_size);
    h->is_secondary = cs_calloc(n ? n : 1, 1);
    if (!h->rel_size || !h->is_secondary) goto nomem;
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    size_t ng = 1;
    if (country) {
        code_idx *ci = cs_mallocarray(n ? n : 1, sizeof *ci);
        if (!ci) goto nomem;
        for (size_t i = 0; i < n; i++) ci[i] = (code_idx){country[i] ? country[i] : "", (uint32_t)i};
        qsort(ci, n, sizeof *ci, cmp_code_idx);
        for (size_t i = 0; i < n; i++) idx[i] = ci[i].i;
        cs_free(ci);
        for (size_t k = 1; k < n; k++)
            if (strcmp(country[idx[k]], country[idx[k - 1]])) ng++;
        if (n) ng++;
    }
    h->groups = cs_calloc(ng, sizeof *h->groups);
    if (!h->groups) goto nomem;
    h->ngroups = ng;
    /* relative size and secondary flag per country (whole set when no country) */
    size_t g = 1, start = 0;
    for (size_t k = 0; k <= n; k++) {
        int boundary = (k == n) || (country && k > start && strcmp(country[idx[k]], country[idx[start]]));
        if (!boundary) continue;
        if (k > start) {
            double mx = 0;
            for (size_t q = start; q < k; q++) mx = fmax(mx, pop[idx[q]]);
            for (size_t q = start; q < k; q++) {
                size_t i = idx[q];
                h->rel_size[i] = mx > 0 ? pop[i] / mx : NAN;
                h->is_secondary[i] = mx > 0 && h->rel_size[i] >= opts->secondary_lo &&
                                     h->rel_size[i] <= opts->secondary_hi;
            }
            if (country) {
                cs_hierarchy_group *G = &h->groups[g++];
                if (!(G->name = cs_strdup(country[idx[start]]))) goto nomem;
                if ((st = group_stats(pop, idx + start, k - start, opts, h->is_secondary, G, buf))) goto done;
            }
        }
        start = k;
    }
    if (!(h->groups[0].name = cs_strdup("ALL"))) goto nomem;
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    if ((st = group_stats(pop, idx, n, opts, h->is_secondary, &h->groups[0], buf))) goto done;
    *out = h;
    h = NULL;
    goto done;
nomem:
    st = cs_error_set(CS_ENOMEM, "hierarchy: out of memory");
done:
    cs_hierarchy_free(h);
    cs_free(idx);
    cs_free(buf);
    return st;
}

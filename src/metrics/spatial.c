/*
 * spatial.c: Moran's I with analytical (normality, randomisation) and
 * permutation inference, and the spatial Gini of Rey & Smith (2013), both as
 * defined in PySAL (esda.Moran, inequality.gini.Gini_Spatial).
 * Formulas: docs/methods.md, "Spatial weights, spatial autocorrelation and convergence".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/inequality.h"
#include "citysys/spatial.h"

double cs_normal_sf(double x) { return 0.5 * erfc(x / M_SQRT2); }

cs_perm_opts cs_perm_opts_default(void)
{
    cs_perm_opts o = {.permutations = 999, .seed = 12345, .alternative = CS_PERM_FOLDED};
    return o;
}

/* ---- generator: xoshiro256** (Blackman & Vigna 2018) seeded by splitmix64 ---- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

/* uniform in [0, m), unbiased (rejection) */
static uint64_t rng_below(rng *r, uint64_t m)
{
    uint64_t lim = (uint64_t)(-m) % m, x;
    do x = rng_next(r);
    while (x < lim);
    return x % m;
}

static void shuffle(rng *r, double *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rng_below(r, i);
        double t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

static double perm_p(const double *sim, size_t P, double obs, cs_perm_alternative alt)
{
    size_t L = 0, S = 0;
    for (size_t k = 0; k < P; k++) {
        L += sim[k] >= obs;
        S += sim[k] <= obs;
    }
    size_t f = (P - L) < L ? P - L : L;
    double folded = (f + 1.0) / (P + 1.0);
    switch (alt) {
    case CS_PERM_GREATER: return (L + 1.0) / (P + 1.0);
    case CS_PERM_LESS: return (S + 1.0) / (P + 1.0);
    case CS_PERM_TWO_SIDED: return fmin(1.0, 2 * folded);
    default: return folded;
    }
}

static void mean_sd(const double *a, size_t n, double *mean, double *sd)
{
    long double m = 0, v = 0;
    for (size_t i = 0; i < n; i++) m += a[i];
    m /= n;
    for (size_t i = 0; i < n; i++) v += (a[i] - m) * (a[i] - m);
    *mean = (double)m;
    *sd = (double)sqrtl(v / n);
}

static cs_status check_weights(const cs_weights *w, size_t *nnz)
{
    if (!w || !w->offset || (w->n && (!w->nbr || !w->w))) return cs_error_set(CS_EINVAL, "weights: NULL argument");
    for (size_t i = 0; i < w->n; i++) {
        if (w->offset[i + 1] < w->offset[i]) return cs_error_set(CS_EINVAL, "weights: offsets not monotone");
        for (size_t k = w->offset[i]; k < w->offset[i + 1]; k++)
            if (w->nbr[k] >= w->n || !isfinite(w->w[k]))
                return cs_error_set(CS_EINVAL, "weights: entry %zu of unit %zu is out of range or not finite", k, i);
    }
    *nnz = w->offset[w->n];
    return CS_OK;
}

/* Σ_i z_i Σ_j w_ij z_j */
static long double cross(const cs_weights *w, const double *z)
{
    long double acc = 0;
    for (size_t i = 0; i < w->n; i++) {
        long double lag = 0;
        for (size_t k = w->offset[i]; k < w->offset[i + 1]; k++) lag += w->w[k] * z[w->nbr[k]];
        acc += z[i] * lag;
    }
    return acc;
}

static double weight_of(const cs_weights *w, size_t i, uint32_t j, int *found)
{
    size_t lo = w->offset[i], hi = w->offset[i + 1];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->nbr[mid] == j) {
            *found = 1;
            return w->w[mid];
        }
        if (w->nbr[mid] < j)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return 0;
}

cs_status cs_moran(const double *y, const cs_weights *w, const cs_perm_opts *opts, cs_moran_result *out)
{
    cs_perm_opts o = opts ? *opts : cs_perm_opts_default();
    size_t nnz;
    if (!y || !out) return cs_error_set(CS_EINVAL, "moran: NULL argument");
    cs_status s = check_weights(w, &nnz);
    if (s) return s;
    size_t n = w->n;
    if (n < 4) return cs_error_set(CS_EINVAL, "moran: needs at least 4 units (got %zu)", n);
    cs_moran_result r;
    memset(&r, 0, sizeof r);
    r.n = n;
    long double m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i])) return cs_error_set(CS_EINVAL, "moran: value at row %zu is not finite", i);
        m += y[i];
    }
    m /= n;
    double *z = cs_mallocarray(n, sizeof *z);
    double *rs = cs_calloc(n, sizeof *rs), *cs_ = cs_calloc(n, sizeof *cs_);
    double *sim = NULL;
    if (!z || !rs || !cs_) goto oom;
    long double z2 = 0, z4 = 0;
    for (size_t i = 0; i < n; i++) {
        z[i] = (double)(y[i] - m);
        z2 += (long double)z[i] * z[i];
        z4 += (long double)z[i] * z[i] * z[i] * z[i];
    }
    if (!(z2 > 0)) {
        s = cs_error_set(CS_EINVAL, "moran: the variable is constant (variance 0)");
        goto fail;
    }
    long double s0 = 0, s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = w->offset[i]; k < w->offset[i + 1]; k++) {
            uint32_t j = w->nbr[k];
            int found;
            double wji = weight_of(w, j, (uint32_t)i, &found);
            long double a = w->w[k];
            s0 += a;
            s1 += (a + wji) * (a + wji);
            if (!found) s1 += a * a; /* the pair (j, i) counts once more with w_ji = 0 */
            rs[i] += w->w[k];
            cs_[j] += w->w[k];
        }
    s1 /= 2;
    for (size_t i = 0; i < n; i++) s2 += ((long double)rs[i] + cs_[i]) * ((long double)rs[i] + cs_[i]);
    if (!(s0 != 0)) {
        s = cs_error_set(CS_EINVAL, "moran: the weights are empty (S0 = 0)");
        goto fail;
    }
    r.s0 = (double)s0;
    r.s1 = (double)s1;
    r.s2 = (double)s2;
    long double I = (long double)n / s0 * cross(w, z) / z2;
    r.I = (double)I;
    long double EI = -1.0L / (n - 1);
    r.EI = (double)EI;
    long double nn = n, n2 = nn * nn, s02 = s0 * s0;
    long double vn = (n2 * s1 - nn * s2 + 3 * s02) / ((nn - 1) * (nn + 1) * s02) - EI * EI;
    r.VI_norm = (double)vn;
    r.seI_norm = vn > 0 ? (double)sqrtl(vn) : 0;
    long double kurt = (z4 / nn) / ((z2 / nn) * (z2 / nn));
    long double A = nn * ((n2 - 3 * nn + 3) * s1 - nn * s2 + 3 * s02);
    long double B = kurt * ((n2 - nn) * s1 - 2 * nn * s2 + 6 * s02);
    long double vr = (A - B) / ((nn - 1) * (nn - 2) * (nn - 3) * s02) - EI * EI;
    r.VI_rand = (double)vr;
    r.seI_rand = vr > 0 ? (double)sqrtl(vr) : 0;
    if (!(r.seI_norm > 0) || !(r.seI_rand > 0)) {
        s = cs_error_set(CS_EINVAL, "moran: the variance of I is not positive (degenerate weights)");
        goto fail;
    }
    r.z_norm = (r.I - r.EI) / r.seI_norm;
    r.z_rand = (r.I - r.EI) / r.seI_rand;
    r.p_norm = cs_normal_sf(fabs(r.z_norm));
    r.p_norm_two = 2 * r.p_norm;
    r.p_rand = cs_normal_sf(fabs(r.z_rand));
    r.p_rand_two = 2 * r.p_rand;
    if (o.permutations > 0) {
        sim = cs_mallocarray(o.permutations, sizeof *sim);
        if (!sim) goto oom;
        rng g;
        rng_seed(&g, o.seed);
        double *zp = rs; /* reuse as the permuted copy */
        memcpy(zp, z, n * sizeof *zp);
        for (size_t p = 0; p < o.permutations; p++) {
            shuffle(&g, zp, n);
            sim[p] = (double)((long double)n / s0 * cross(w, zp) / z2);
        }
        r.permutations = o.permutations;
        mean_sd(sim, o.permutations, &r.EI_sim, &r.seI_sim);
        r.p_sim = perm_p(sim, o.permutations, r.I, o.alternative);
        if (r.seI_sim > 0) {
            r.z_sim = (r.I - r.EI_sim) / r.seI_sim;
            r.p_z_sim = cs_normal_sf(fabs(r.z_sim));
        } else {
            r.z_sim = 0;
            r.p_z_sim = 0.5;
        }
    }
    cs_free(z);
    cs_free(rs);
    cs_free(cs_);
    cs_free(sim);
    *out = r;
    return CS_OK;
oom:
    s = cs_error_set(CS_ENOMEM, "moran: out of memory");
fail:
    cs_free(z);
    cs_free(rs);
    cs_free(cs_);
    cs_free(sim);
    return s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, z = *(const double *)b;
    return (x > z) - (x < z);
}

static long double neighbour_abs(const cs_weights *w, const double *x)
{
    long double acc = 0;
    for (size_t i = 0; i < w->n; i++)
        for (size_t k = w->offset[i]; k < w->offset[i + 1]; k++) acc += fabs(x[i] - x[w->nbr[k]]);
    return acc;
}

cs_status cs_spatial_gini(const double *y, const cs_weights *w, const cs_perm_opts *opts, cs_spatial_gini_result *out)
{
    cs_perm_opts o = opts ? *opts : cs_perm_opts_default();
    size_t nnz;
    if (!y || !out) return cs_error_set(CS_EINVAL, "spatial gini: NULL argument");
    cs_status s = check_weights(w, &nnz);
    if (s) return s;
    if (!cs_weights_is_binary_symmetric(w))
        return cs_error_set(CS_EINVAL, "spatial gini: the weights must be binary and symmetric (Rey & Smith 2013); "
                                       "these are %s",
                            w->transform == CS_W_ROW ? "row-standardised" : "weighted or asymmetric");
    size_t n = w->n;
    cs_spatial_gini_result r;
    memset(&r, 0, sizeof r);
    if ((s = cs_gini(y, NULL, n, CS_GINI_POPULATION, &r.gini))) return s;
    long double mu = 0;
    for (size_t i = 0; i < n; i++) mu += y[i];
    mu /= n;
    long double den = mu * 2 * (long double)n * n;
    /* total from the definition (sorted values), Σ_ij |y_i − y_j| = 2 Σ_j y_(j) (2j − n + 1), 0-based j */
    double *c = cs_mallocarray(n, sizeof *c);
    if (!c) return cs_error_set(CS_ENOMEM, "spatial gini: out of memory");
    memcpy(c, y, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_double);
    long double total = 0;
    for (size_t j = 0; j < n; j++) total += 2.0L * c[j] * (2.0L * j - (long double)n + 1);
    cs_free(c);
    long double wg = neighbour_abs(w, y);
    r.total = (double)total;
    r.wg = (double)wg;
    r.wcg = (double)(total - wg);
    r.wcg_share = (double)((total - wg) / den);
    if (o.permutations > 0) {
        double *x = cs_mallocarray(n, sizeof *x), *sim = cs_mallocarray(o.permutations, sizeof *sim);
        if (!x || !sim) {
            cs_free(x);
            cs_free(sim);
            return cs_error_set(CS_ENOMEM, "spatial gini: out of memory");
        }
        memcpy(x, y, n * sizeof *x);
        rng g;
        rng_seed(&g, o.seed);
        for (size_t p = 0; p < o.permutations; p++) {
            shuffle(&g, x, n);
            sim[p] = (double)(total - neighbour_abs(w, x));
        }
        r.permutations = o.permutations;
        mean_sd(sim, o.permutations, &r.e_wcg, &r.s_wcg);
        r.p_sim = perm_p(sim, o.permutations, r.wcg, o.alternative);
        if (r.s_wcg > 0) {
            r.z_wcg = (r.wcg - r.e_wcg) / r.s_wcg;
            r.p_z_sim = cs_normal_sf(r.z_wcg);
        } else {
            r.z_wcg = 0;
            r.p_z_sim = 0.5;
        }
        cs_free(x);
        cs_free(sim);
    }
    *out = r;
    return CS_OK;
}

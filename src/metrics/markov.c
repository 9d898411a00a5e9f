/*
 * markov.c: quantile classes (rule of PySAL mapclassify.Quantiles), Markov
 * transition counts and probabilities (giddy.markov.Markov) and the steady
 * state. Rules: docs/methods.md, "Spatial weights, spatial autocorrelation and
 * convergence".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/inequality.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, z = *(const double *)b;
    return (x > z) - (x < z);
}

cs_status cs_quantile_classes(const double *y, size_t n, size_t k, uint32_t *cls, size_t *nclasses)
{
    if (!y || !cls || n == 0 || k == 0 || k > 1000)
        return cs_error_set(CS_EINVAL, "quantile classes: need n > 0 values and 1 <= k <= 1000 classes");
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i])) return cs_error_set(CS_EINVAL, "quantile classes: value at row %zu is not finite", i);
    double *s = cs_mallocarray(n, sizeof *s), *b = cs_mallocarray(k, sizeof *b);
    if (!s || !b) {
        cs_free(s);
        cs_free(b);
        return cs_error_set(CS_ENOMEM, "quantile classes: out of memory");
    }
    memcpy(s, y, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    /* percentiles p_c = w + c·w, w = 100/k (numpy.arange as in mapclassify), last clipped to 100;
       score at percentile with linear interpolation as scipy.stats.scoreatpercentile */
    double step = 100.0 / (double)k;
    size_t nb = 0;
    for (size_t c = 0; c < k; c++) {
        double p = step + (double)c * step;
        if (c == k - 1 || p > 100.0) p = p > 100.0 ? 100.0 : p;
        double idx = p / 100.0 * (double)(n - 1);
        size_t i = (size_t)idx;
        double q;
        if ((double)i == idx || i + 1 >= n)
            q = s[i < n ? i : n - 1];
        else
            q = s[i] + (s[i + 1] - s[i]) * (idx - (double)i);
        if (nb == 0 || q != b[nb - 1]) b[nb++] = q; /* numpy.unique of a sorted sequence */
    }
    /* class c: b[c-1] < y <= b[c] (mapclassify bin1d) */
    for (size_t i = 0; i < n; i++) {
        size_t lo = 0, hi = nb; /* first c with y <= b[c] */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (y[i] <= b[mid])
                hi = mid;
            else
                lo = mid + 1;
        }
        cls[i] = (uint32_t)(lo < nb ? lo : nb - 1);
    }
    if (nclasses) *nclasses = nb;
    cs_free(s);
    cs_free(b);
    return CS_OK;
}

void cs_markov_free(cs_markov *m)
{
    if (!m) return;
    cs_free(m->counts);
    cs_free(m->p);
    cs_free(m->steady_state);
    cs_free(m);
}

cs_status cs_markov_steady_state(const double *p, size_t k, double *pi, int *unique)
{
    if (!p || !pi || !unique || k == 0) return cs_error_set(CS_EINVAL, "steady state: NULL argument or k = 0");
    *unique = 0;
    for (size_t i = 0; i < k; i++) pi[i] = 0;
    /* the matrix must be row-stochastic */
    for (size_t i = 0; i < k; i++) {
        double s = 0;
        for (size_t j = 0; j < k; j++) s += p[i * k + j];
        if (fabs(s - 1) > 1e-9) return CS_OK; /* a class never left: no proper chain, not unique */
    }
    /* Solve (P − I)^T π = 0 with the last equation replaced by Σ π = 1 (Gaussian elimination, partial pivoting). */
    double *a = cs_mallocarray(k * (k + 1), sizeof *a);
    if (!a) return cs_error_set(CS_ENOMEM, "steady state: out of memory");
    size_t c1 = k + 1;
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < k; j++) a[i * c1 + j] = i == k - 1 ? 1.0 : p[j * k + i] - (i == j ? 1.0 : 0.0);
        a[i * c1 + k] = i == k - 1 ? 1.0 : 0.0;
    }
    int ok = 1;
    for (size_t c = 0; c < k && ok; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < k; r++)
            if (fabs(a[r * c1 + c]) > fabs(a[piv * c1 + c])) piv = r;
        if (fabs(a[piv * c1 + c]) < 1e-12) {
            ok = 0;
            break;
        }
        if (piv != c)
            for (size_t j = 0; j < c1; j++) {
                double t = a[c * c1 + j];
                a[c * c1 + j] = a[piv * c1 + j];
                a[piv * c1 + j] = t;
            }
        for (size_t r = 0; r < k; r++) {
            if (r == c) continue;
            double f = a[r * c1 + c] / a[c * c1 + c];
            if (f == 0) continue;
            for (size_t j = c; j < c1; j++) a[r * c1 + j] -= f * a[c * c1 + j];
        }
    }
    if (ok) {
        for (size_t i = 0; i < k; i++) {
            double v = a[i * c1 + k] / a[i * c1 + i];
            if (v < 0 && v > -1e-12) v = 0;
            if (v < 0) ok = 0;
            pi[i] = v;
        }
        if (!ok)
            for (size_t i = 0; i < k; i++) pi[i] = 0;
    }
    cs_free(a);
    *unique = ok;
    return CS_OK;
}

cs_status cs_markov_from_classes(const uint32_t *cls, size_t n, size_t nper, size_t k, cs_markov **out)
{
    if (!out) return cs_error_set(CS_EINVAL, "markov: NULL output");
    *out = NULL;
    if (!cls || n == 0 || nper < 2 || k == 0 || k > 1000)
        return cs_error_set(CS_EINVAL, "markov: need n > 0 units, at least 2 periods and 1 <= k <= 1000 classes");
    cs_markov *m = cs_calloc(1, sizeof *m);
    if (!m || !(m->counts = cs_calloc(k * k, sizeof(double))) || !(m->p = cs_calloc(k * k, sizeof(double))) ||
        !(m->steady_state = cs_calloc(k, sizeof(double)))) {
        cs_markov_free(m);
        return cs_error_set(CS_ENOMEM, "markov: out of memory");
    }
    m->k = k;
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < nper; t++)
            if (cls[i * nper + t] >= k) {
                cs_markov_free(m);
                return cs_error_set(CS_EINVAL, "markov: class %u of unit %zu, period %zu is out of range (k = %zu)",
                                    cls[i * nper + t], i, t, k);
            }
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t + 1 < nper; t++) m->counts[cls[i * nper + t] * k + cls[i * nper + t + 1]] += 1;
    for (size_t r = 0; r < k; r++) {
        double s = 0;
        for (size_t c = 0; c < k; c++) s += m->counts[r * k + c];
        if (s > 0)
            for (size_t c = 0; c < k; c++) m->p[r * k + c] = m->counts[r * k + c] / s;
    }
    cs_status s = cs_markov_steady_state(m->p, k, m->steady_state, &m->steady_state_unique);
    if (s) {
        cs_markov_free(m);
        return s;
    }
    *out = m;
    return CS_OK;
}

cs_status cs_markov_quantiles(const double *y, size_t n, size_t nper, size_t k, cs_markov **out)
{
    if (!out) return cs_error_set(CS_EINVAL, "markov: NULL output");
    *out = NULL;
    if (!y || n == 0 || nper < 2 || k == 0 || k > 1000)
        return cs_error_set(CS_EINVAL, "markov: need n > 0 units, at least 2 periods and 1 <= k <= 1000 classes");
    uint32_t *cls = cs_mallocarray(n * nper, sizeof *cls), *c1 = cs_mallocarray(n, sizeof *c1);
    double *col = cs_mallocarray(n, sizeof *col);
    cs_status s = CS_OK;
    if (!cls || !c1 || !col) {
        s = cs_error_set(CS_ENOMEM, "markov: out of memory");
        goto done;
    }
    for (size_t t = 0; t < nper; t++) {
        for (size_t i = 0; i < n; i++) col[i] = y[i * nper + t];
        size_t nc;
        if ((s = cs_quantile_classes(col, n, k, c1, &nc))) {
            cs_error_prefix("markov: period %zu: ", t);
            goto done;
        }
        if (nc != k) {
            s = cs_error_set(CS_EINVAL,
                             "markov: period %zu has only %zu distinct quantile bounds for %zu classes (too many ties)",
                             t, nc, k);
            goto done;
        }
        for (size_t i = 0; i < n; i++) cls[i * nper + t] = c1[i];
    }
    s = cs_markov_from_classes(cls, n, nper, k, out);
done:
    cs_free(cls);
    cs_free(c1);
    cs_free(col);
    return s;
}

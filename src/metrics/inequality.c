/*
 * inequality.c: Gini, GE(α), Theil, Atkinson, CV, Williamson and the group
 * decompositions (Shorrocks 1980 for GE, Dagum 1997 for Gini).
 * Formulas and sources: docs/methods.md, section "Inequality".
 * Sums are accumulated in long double so that results do not depend on the
 * input order beyond the last bits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/inequality.h"

/* What an index accepts. */
enum { ALLOW_NEG = 1, ALLOW_ZERO = 2 };

typedef struct stats {
    long double W, W2, mu; /* total weight, sum of squared weights, weighted mean */
} stats;

static cs_status check_input(const double *y, const double *w, size_t n, int allow, const char *index, stats *st)
{
    if (!y || n == 0) return cs_error_set(CS_EINVAL, "%s: no values (n = 0)", index);
    long double W = 0, W2 = 0, S = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1.0;
        if (!isfinite(y[i])) return cs_error_set(CS_EINVAL, "%s: value at row %zu is not finite", index, i);
        if (!isfinite(wi) || wi < 0)
            return cs_error_set(CS_EINVAL, "%s: weight (population) at row %zu is %g; weights must be finite and >= 0",
                                index, i, wi);
        if (wi > 0) {
            if (y[i] < 0 && !(allow & ALLOW_NEG))
                return cs_error_set(CS_EINVAL, "%s: value at row %zu is negative (%g); %s is defined for values >= 0 only",
                                    index, i, y[i], index);
            if (y[i] == 0 && !(allow & ALLOW_ZERO))
                return cs_error_set(CS_EINVAL,
                                    "%s: value at row %zu is 0; %s needs strictly positive values (log or negative "
                                    "power of 0)",
                                    index, i, index);
        }
        W += wi;
        W2 += (long double)wi * wi;
        S += (long double)wi * y[i];
    }
    if (!(W > 0)) return cs_error_set(CS_EINVAL, "%s: total weight (population) is 0", index);
    long double mu = S / W;
    if (!(mu > 0)) return cs_error_set(CS_EINVAL, "%s: mean is %Lg; inequality indices need a positive mean", index, mu);
    st->W = W;
    st->W2 = W2;
    st->mu = mu;
    return CS_OK;
}

cs_status cs_ineq_mean(const double *y, const double *w, size_t n, double *out)
{
    if (!out) return cs_error_set(CS_EINVAL, "mean: NULL output");
    if (!y || n == 0) return cs_error_set(CS_EINVAL, "mean: no values (n = 0)");
    long double W = 0, S = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1.0;
        if (!isfinite(y[i]) || !isfinite(wi) || wi < 0)
            return cs_error_set(CS_EINVAL, "mean: value or weight at row %zu is not valid", i);
        W += wi;
        S += (long double)wi * y[i];
    }
    if (!(W > 0)) return cs_error_set(CS_EINVAL, "mean: total weight is 0");
    *out = (double)(S / W);
    return CS_OK;
}

/* ---- Gini ---------------------------------------------------------- */

typedef struct yw {
    double y, w;
} yw;

static int cmp_yw(const void *a, const void *b)
{
    double x = ((const yw *)a)->y, z = ((const yw *)b)->y;
    return (x > z) - (x < z);
}

/* Σ_i Σ_j w_i w_j |y_i − y_j| over sorted values: 2 Σ_j w_j (y_j W_<j − S_<j). */
static long double sum_abs_diff_sorted(const yw *v, size_t n)
{
    long double Wc = 0, Sc = 0, acc = 0;
    for (size_t j = 0; j < n; j++) {
        acc += (long double)v[j].w * ((long double)v[j].y * Wc - Sc);
        Wc += v[j].w;
        Sc += (long double)v[j].w * v[j].y;
    }
    return 2 * acc;
}

static cs_status sorted_copy(const double *y, const double *w, size_t n, yw **out)
{
    yw *v = cs_mallocarray(n, sizeof *v);
    if (!v) return CS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        v[i].y = y[i];
        v[i].w = w ? w[i] : 1.0;
    }
    qsort(v, n, sizeof *v, cmp_yw);
    *out = v;
    return CS_OK;
}

cs_status cs_gini(const double *y, const double *w, size_t n, cs_gini_variant variant, double *out)
{
    stats st = {0, 0, 0};
    cs_status s = check_input(y, w, n, ALLOW_NEG | ALLOW_ZERO, "gini", &st);
    if (s) return s;
    if (!out || (variant != CS_GINI_POPULATION && variant != CS_GINI_SAMPLE))
        return cs_error_set(CS_EINVAL, "gini: bad variant or NULL output");
    if (variant == CS_GINI_SAMPLE && !(st.W * st.W - st.W2 > 0))
        return cs_error_set(CS_EINVAL, "gini_sample: needs at least two units with positive weight");
    yw *v;
    if ((s = sorted_copy(y, w, n, &v))) return s;
    long double d = sum_abs_diff_sorted(v, n);
    cs_free(v);
    long double g = d / (2 * st.W * st.W * st.mu);
    if (variant == CS_GINI_SAMPLE) g *= st.W * st.W / (st.W * st.W - st.W2);
    *out = (double)g;
    return CS_OK;
}

/* ---- GE family ------------------------------------------------------- */

static int is_int(double a, double v) { return fabs(a - v) < 1e-15; }

static int ge_allow(double alpha) { return alpha > 0 ? ALLOW_ZERO : 0; }

static long double ge_core(const double *y, const double *w, size_t n, double alpha, const stats *st)
{
    long double acc = 0;
    for (size_t i = 0; i < n; i++) {
        long double wi = w ? w[i] : 1.0;
        if (wi == 0) continue;
        long double r = (long double)y[i] / st->mu;
        if (is_int(alpha, 1.0)) {
            if (r > 0) acc += wi * r * logl(r);
        } else if (is_int(alpha, 0.0)) {
            acc -= wi * logl(r);
        } else {
            acc += wi * (powl(r, alpha) - 1);
        }
    }
    acc /= st->W;
    if (!is_int(alpha, 1.0) && !is_int(alpha, 0.0)) acc /= (long double)alpha * (alpha - 1);
    return acc;
}

static const char *ge_name(double alpha)
{
    if (is_int(alpha, 1.0)) return "theil_t (GE(1))";
    if (is_int(alpha, 0.0)) return "theil_l (GE(0), mean log deviation)";
    return "ge_alpha (GE(alpha))";
}

cs_status cs_ge(const double *y, const double *w, size_t n, double alpha, double *out)
{
    if (!isfinite(alpha)) return cs_error_set(CS_EINVAL, "GE(alpha): alpha must be finite");
    if (!out) return cs_error_set(CS_EINVAL, "GE(alpha): NULL output");
    stats st = {0, 0, 0};
    cs_status s = check_input(y, w, n, ge_allow(alpha), ge_name(alpha), &st);
    if (s) return s;
    long double g = ge_core(y, w, n, alpha, &st);
    if (g < 0 && g > -1e-15L) g = 0; /* rounding of an equal distribution */
    *out = (double)g;
    return CS_OK;
}

cs_status cs_theil_t(const double *y, const double *w, size_t n, double *out) { return cs_ge(y, w, n, 1.0, out); }
cs_status cs_theil_l(const double *y, const double *w, size_t n, double *out) { return cs_ge(y, w, n, 0.0, out); }

cs_status cs_atkinson(const double *y, const double *w, size_t n, double epsilon, double *out)
{
    if (!isfinite(epsilon) || epsilon < 0)
        return cs_error_set(CS_EINVAL, "atkinson: epsilon must be finite and >= 0 (got %g)", epsilon);
    if (!out) return cs_error_set(CS_EINVAL, "atkinson: NULL output");
    stats st = {0, 0, 0};
    cs_status s = check_input(y, w, n, epsilon < 1 ? ALLOW_ZERO : 0, "atkinson", &st);
    if (s) return s;
    long double acc = 0;
    int eps1 = is_int(epsilon, 1.0);
    for (size_t i = 0; i < n; i++) {
        long double wi = w ? w[i] : 1.0;
        if (wi == 0) continue;
        long double r = (long double)y[i] / st.mu;
        acc += wi * (eps1 ? logl(r) : powl(r, 1.0L - epsilon));
    }
    acc /= st.W;
    long double a = eps1 ? 1 - expl(acc) : 1 - powl(acc, 1.0L / (1.0L - epsilon));
    if (a < 0 && a > -1e-15L) a = 0;
    *out = (double)a;
    return CS_OK;
}

static long double weighted_var(const double *y, const double *w, size_t n, const stats *st)
{
    long double acc = 0;
    for (size_t i = 0; i < n; i++) {
        long double wi = w ? w[i] : 1.0;
        long double d = y[i] - st->mu;
        acc += wi * d * d;
    }
    return acc;
}

cs_status cs_cv(const double *y, const double *w, size_t n, cs_sd_variant variant, double *out)
{
    const char *name = variant == CS_SD_SAMPLE ? "cv_sample" : "cv";
    if (!out || (variant != CS_SD_POPULATION && variant != CS_SD_SAMPLE))
        return cs_error_set(CS_EINVAL, "cv: bad variant or NULL output");
    stats st = {0, 0, 0};
    cs_status s = check_input(y, w, n, ALLOW_NEG | ALLOW_ZERO, name, &st);
    if (s) return s;
    long double ss = weighted_var(y, w, n, &st);
    long double div = variant == CS_SD_SAMPLE ? st.W - st.W2 / st.W : st.W;
    if (!(div > 0)) return cs_error_set(CS_EINVAL, "%s: needs at least two units with positive weight", name);
    *out = (double)(sqrtl(ss / div) / st.mu);
    return CS_OK;
}

cs_status cs_williamson(const double *y, const double *pop, size_t n, double *out)
{
    if (!pop) return cs_error_set(CS_EINVAL, "williamson: needs the population of each unit");
    if (!out) return cs_error_set(CS_EINVAL, "williamson: NULL output");
    stats st = {0, 0, 0};
    cs_status s = check_input(y, pop, n, ALLOW_ZERO, "williamson", &st);
    if (s) return s;
    *out = (double)(sqrtl(weighted_var(y, pop, n, &st) / st.W) / st.mu);
    return CS_OK;
}

cs_ineq_opts cs_ineq_opts_default(void)
{
    cs_ineq_opts o = {.alpha = 2.0, .epsilon = 1.0, .omit_undefined = 0};
    return o;
}

cs_status cs_ineq_summarise(const double *y, const double *w, size_t n, const cs_ineq_opts *opts, cs_ineq_summary *out)
{
    cs_ineq_opts o = opts ? *opts : cs_ineq_opts_default();
    if (!out) return cs_error_set(CS_EINVAL, "inequality summary: NULL output");
    cs_ineq_summary r;
    memset(&r, 0, sizeof r);
    stats st = {0, 0, 0};
    cs_status s = check_input(y, w, n, ALLOW_NEG | ALLOW_ZERO, "inequality", &st);
    if (s) return s;
    r.n = n;
    r.total_weight = (double)st.W;
    r.mean = (double)st.mu;
    r.min = INFINITY;
    r.max = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (w && w[i] == 0) continue;
        if (y[i] < r.min) r.min = y[i];
        if (y[i] > r.max) r.max = y[i];
    }
    r.alpha = o.alpha;
    r.epsilon = o.epsilon;
    if ((s = cs_gini(y, w, n, CS_GINI_POPULATION, &r.gini))) return s;
    if (st.W * st.W - st.W2 > 0) {
        if ((s = cs_gini(y, w, n, CS_GINI_SAMPLE, &r.gini_sample))) return s;
        if ((s = cs_cv(y, w, n, CS_SD_SAMPLE, &r.cv_sample))) return s;
    } else {
        return cs_error_set(CS_EINVAL, "inequality: needs at least two units with positive weight");
    }
    /* the log/power indices: fail, or (omit_undefined) leave NaN with the bit clear */
    struct {
        double *dst;
        unsigned bit;
        int atk;
        double par;
    } idx[4] = {{&r.theil_t, CS_INEQ_THEIL_T, 0, 1.0},
                {&r.theil_l, CS_INEQ_THEIL_L, 0, 0.0},
                {&r.ge_alpha, CS_INEQ_GE_ALPHA, 0, o.alpha},
                {&r.atkinson, CS_INEQ_ATKINSON, 1, o.epsilon}};
    for (int k = 0; k < 4; k++) {
        s = idx[k].atk ? cs_atkinson(y, w, n, idx[k].par, idx[k].dst) : cs_ge(y, w, n, idx[k].par, idx[k].dst);
        if (s == CS_OK) {
            r.defined |= idx[k].bit;
        } else if (o.omit_undefined && s == CS_EINVAL && isfinite(idx[k].par) && (!idx[k].atk || idx[k].par >= 0)) {
            *idx[k].dst = NAN;
            cs_error_clear();
        } else {
            return s;
        }
    }
    if ((s = cs_cv(y, w, n, CS_SD_POPULATION, &r.cv))) return s;
    *out = r;
    return CS_OK;
}

/* ---- groups -------------------------------------------------------- */

void cs_groups_names_free(char **names, size_t ngroups)
{
    if (!names) return;
    for (size_t i = 0; i < ngroups; i++) cs_free(names[i]);
    cs_free(names);
}

/* FNV-1a */
static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

cs_status cs_groups_from_labels(const char *const *labels, size_t n, uint32_t **group, char ***names, size_t *ngroups)
{
    if (!labels || !group || !names || !ngroups) return cs_error_set(CS_EINVAL, "groups: NULL argument");
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    uint32_t *tab = cs_mallocarray(cap, sizeof *tab);
    uint32_t *g = cs_mallocarray(n ? n : 1, sizeof *g);
    char **nm = cs_calloc(n ? n : 1, sizeof *nm);
    size_t ng = 0;
    if (!tab || !g || !nm) goto oom;
    for (size_t i = 0; i < cap; i++) tab[i] = CS_INVALID_ID;
    for (size_t i = 0; i < n; i++) {
        const char *l = labels[i] ? labels[i] : "";
        size_t h = hash_str(l) & (cap - 1);
        while (tab[h] != CS_INVALID_ID && strcmp(nm[tab[h]], l)) h = (h + 1) & (cap - 1);
        if (tab[h] == CS_INVALID_ID) {
            if (!(nm[ng] = cs_strdup(l))) goto oom;
            tab[h] = (uint32_t)ng++;
        }
        g[i] = tab[h];
    }
    cs_free(tab);
    *group = g;
    *names = nm;
    *ngroups = ng;
    return CS_OK;
oom:
    cs_free(tab);
    cs_free(g);
    cs_groups_names_free(nm, ng);
    return cs_error_set(CS_ENOMEM, "groups: out of memory");
}

/* Per-group totals; refuses empty groups and bad ids. */
static cs_status group_totals(const double *y, const double *w, size_t n, const uint32_t *group, size_t ngroups,
                              size_t *gn, long double *gW, long double *gS)
{
    if (!group || ngroups == 0) return cs_error_set(CS_EINVAL, "decomposition: no groups given");
    for (size_t g = 0; g < ngroups; g++) {
        gn[g] = 0;
        gW[g] = gS[g] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (group[i] >= ngroups)
            return cs_error_set(CS_EINVAL, "decomposition: group id %u at row %zu is out of range (ngroups = %zu)",
                                group[i], i, ngroups);
        double wi = w ? w[i] : 1.0;
        gn[group[i]]++;
        gW[group[i]] += wi;
        gS[group[i]] += (long double)wi * y[i];
    }
    for (size_t g = 0; g < ngroups; g++)
        if (gn[g] == 0 || !(gW[g] > 0))
            return cs_error_set(CS_EINVAL, "decomposition: group %zu has no members%s", g,
                                gn[g] ? " with positive weight" : "");
    return CS_OK;
}

void cs_ge_decomp_free(cs_ge_decomp *d)
{
    if (!d) return;
    cs_free(d->group_n);
    cs_free(d->group_weight);
    cs_free(d->group_mean);
    cs_free(d->group_pop_share);
    cs_free(d->group_income_share);
    cs_free(d->group_index);
    cs_free(d->group_within);
    cs_free(d);
}

/* Copy of the members of each group, contiguous (counting sort), with group offsets. */
static cs_status split_groups(const double *y, const double *w, size_t n, const uint32_t *group, size_t ngroups,
                              const size_t *gn, double **ys, double **ws, size_t **off)
{
    double *a = cs_mallocarray(n, sizeof *a), *b = cs_mallocarray(n, sizeof *b);
    size_t *o = cs_mallocarray(ngroups + 1, sizeof *o), *pos = cs_mallocarray(ngroups, sizeof *pos);
    if (!a || !b || !o || !pos) {
        cs_free(a);
        cs_free(b);
        cs_free(o);
        cs_free(pos);
        return CS_ENOMEM;
    }
    o[0] = 0;
    for (size_t g = 0; g < ngroups; g++) o[g + 1] = o[g] + gn[g];
    memcpy(pos, o, ngroups * sizeof *pos);
    for (size_t i = 0; i < n; i++) {
        size_t p = pos[group[i]]++;
        a[p] = y[i];
        b[p] = w ? w[i] : 1.0;
    }
    cs_free(pos);
    *ys = a;
    *ws = b;
    *off = o;
    return CS_OK;
}

cs_status cs_ge_decompose(const double *y, const double *w, size_t n, const uint32_t *group, size_t ngroups,
                          double alpha, cs_ge_decomp **out)
{
    if (!out) return cs_error_set(CS_EINVAL, "GE decomposition: NULL output");
    *out = NULL;
    if (!isfinite(alpha)) return cs_error_set(CS_EINVAL, "GE decomposition: alpha must be finite");
    stats st = {0, 0, 0};
    cs_status s = check_input(y, w, n, ge_allow(alpha), ge_name(alpha), &st);
    if (s) return s;
    cs_ge_decomp *d = cs_calloc(1, sizeof *d);
    long double *gW = cs_mallocarray(ngroups ? ngroups : 1, sizeof *gW);
    long double *gS = cs_mallocarray(ngroups ? ngroups : 1, sizeof *gS);
    double *ys = NULL, *ws = NULL;
    size_t *off = NULL;
    if (!d || !gW || !gS) goto oom;
    d->ngroups = ngroups;
    d->alpha = alpha;
    size_t ng1 = ngroups ? ngroups : 1;
    d->group_n = cs_mallocarray(ng1, sizeof(size_t));
    d->group_weight = cs_mallocarray(ng1, sizeof(double));
    d->group_mean = cs_mallocarray(ng1, sizeof(double));
    d->group_pop_share = cs_mallocarray(ng1, sizeof(double));
    d->group_income_share = cs_mallocarray(ng1, sizeof(double));
    d->group_index = cs_mallocarray(ng1, sizeof(double));
    d->group_within = cs_mallocarray(ng1, sizeof(double));
    if (!d->group_n || !d->group_weight || !d->group_mean || !d->group_pop_share || !d->group_income_share ||
        !d->group_index || !d->group_within)
        goto oom;
    if ((s = group_totals(y, w, n, group, ngroups, d->group_n, gW, gS))) goto fail;
    if ((s = split_groups(y, w, n, group, ngroups, d->group_n, &ys, &ws, &off))) goto oom;
    d->total = (double)ge_core(y, w, n, alpha, &st);
    long double within = 0, between = 0;
    for (size_t g = 0; g < ngroups; g++) {
        stats sg = {.W = gW[g], .W2 = 0, .mu = gS[g] / gW[g]};
        long double v = gW[g] / st.W, sh = gS[g] / (st.W * st.mu), r = sg.mu / st.mu;
        long double ge_g = ge_core(ys + off[g], ws + off[g], d->group_n[g], alpha, &sg);
        long double wg;
        if (is_int(alpha, 1.0)) {
            wg = sh;
            between += v * r * logl(r);
        } else if (is_int(alpha, 0.0)) {
            wg = v;
            between -= v * logl(r);
        } else {
            wg = powl(v, 1 - (long double)alpha) * powl(sh, alpha);
            between += v * (powl(r, alpha) - 1) / ((long double)alpha * (alpha - 1));
        }
        d->group_weight[g] = (double)gW[g];
        d->group_mean[g] = (double)sg.mu;
        d->group_pop_share[g] = (double)v;
        d->group_income_share[g] = (double)sh;
        d->group_index[g] = (double)ge_g;
        d->group_within[g] = (double)(wg * ge_g);
        within += wg * ge_g;
    }
    d->within = (double)within;
    d->between = (double)between;
    cs_free(gW);
    cs_free(gS);
    cs_free(ys);
    cs_free(ws);
    cs_free(off);
    *out = d;
    return CS_OK;
oom:
    s = cs_error_set(CS_ENOMEM, "GE decomposition: out of memory");
fail:
    cs_free(gW);
    cs_free(gS);
    cs_free(ys);
    cs_free(ws);
    cs_free(off);
    cs_ge_decomp_free(d);
    return s;
}

/* ---- Dagum Gini decomposition ----------------------------------------- */

void cs_gini_decomp_free(cs_gini_decomp *d)
{
    if (!d) return;
    cs_free(d->group_n);
    cs_free(d->group_weight);
    cs_free(d->group_mean);
    cs_free(d->group_pop_share);
    cs_free(d->group_income_share);
    cs_free(d->group_gini);
    cs_free(d->group_within);
    cs_free(d->pair_gini);
    cs_free(d->pair_d);
    cs_free(d);
}

/*
 * Σ_{i∈a} Σ_{r∈b} w_i w_r |y_i − y_r| for two sorted groups, by a merge:
 * for each i, the weight and weighted sum of b's members below y_i.
 */
static long double cross_abs_diff(const yw *a, size_t na, const yw *b, size_t nb, long double Wb, long double Sb)
{
    long double acc = 0, Wl = 0, Sl = 0;
    size_t r = 0;
    for (size_t i = 0; i < na; i++) {
        while (r < nb && b[r].y < a[i].y) {
            Wl += b[r].w;
            Sl += (long double)b[r].w * b[r].y;
            r++;
        }
        long double yi = a[i].y;
        acc += (long double)a[i].w * ((yi * Wl - Sl) + ((Sb - Sl) - yi * (Wb - Wl)));
    }
    return acc;
}

cs_status cs_gini_decompose(const double *y, const double *w, size_t n, const uint32_t *group, size_t ngroups,
                            cs_gini_decomp **out)
{
    if (!out) return cs_error_set(CS_EINVAL, "Gini decomposition: NULL output");
    *out = NULL;
    stats st = {0, 0, 0};
    cs_status s = check_input(y, w, n, ALLOW_NEG | ALLOW_ZERO, "gini", &st);
    if (s) return s;
    size_t ng1 = ngroups ? ngroups : 1;
    cs_gini_decomp *d = cs_calloc(1, sizeof *d);
    long double *gW = cs_mallocarray(ng1, sizeof *gW), *gS = cs_mallocarray(ng1, sizeof *gS);
    yw *v = NULL;
    size_t *off = NULL;
    if (!d || !gW || !gS) goto oom;
    d->ngroups = ngroups;
    d->group_n = cs_mallocarray(ng1, sizeof(size_t));
    d->group_weight = cs_mallocarray(ng1, sizeof(double));
    d->group_mean = cs_mallocarray(ng1, sizeof(double));
    d->group_pop_share = cs_mallocarray(ng1, sizeof(double));
    d->group_income_share = cs_mallocarray(ng1, sizeof(double));
    d->group_gini = cs_mallocarray(ng1, sizeof(double));
    d->group_within = cs_mallocarray(ng1, sizeof(double));
    d->pair_gini = cs_calloc(ng1 * ng1, sizeof(double));
    d->pair_d = cs_calloc(ng1 * ng1, sizeof(double));
    if (!d->group_n || !d->group_weight || !d->group_mean || !d->group_pop_share || !d->group_income_share ||
        !d->group_gini || !d->group_within || !d->pair_gini || !d->pair_d)
        goto oom;
    if ((s = group_totals(y, w, n, group, ngroups, d->group_n, gW, gS))) goto fail;
    for (size_t g = 0; g < ngroups; g++)
        if (!(gS[g] > 0)) {
            s = cs_error_set(CS_EINVAL, "Gini decomposition: group %zu has a mean <= 0", g);
            goto fail;
        }
    /* members of each group, sorted */
    v = cs_mallocarray(n, sizeof *v);
    off = cs_mallocarray(ngroups + 1, sizeof *off);
    if (!v || !off) goto oom;
    off[0] = 0;
    for (size_t g = 0; g < ngroups; g++) off[g + 1] = off[g] + d->group_n[g];
    {
        size_t *pos = cs_mallocarray(ng1, sizeof *pos);
        if (!pos) goto oom;
        memcpy(pos, off, ngroups * sizeof *pos);
        for (size_t i = 0; i < n; i++) {
            size_t p = pos[group[i]]++;
            v[p].y = y[i];
            v[p].w = w ? w[i] : 1.0;
        }
        cs_free(pos);
    }
    for (size_t g = 0; g < ngroups; g++) qsort(v + off[g], d->group_n[g], sizeof *v, cmp_yw);
    long double total;
    {
        yw *all;
        if ((s = sorted_copy(y, w, n, &all))) goto oom;
        total = sum_abs_diff_sorted(all, n) / (2 * st.W * st.W * st.mu);
        cs_free(all);
    }
    long double within = 0, bnet = 0, over = 0;
    for (size_t j = 0; j < ngroups; j++) {
        long double mj = gS[j] / gW[j], pj = gW[j] / st.W, sj = gS[j] / (st.W * st.mu);
        long double djj = sum_abs_diff_sorted(v + off[j], d->group_n[j]) / (gW[j] * gW[j]);
        long double Gjj = djj / (2 * mj);
        d->group_weight[j] = (double)gW[j];
        d->group_mean[j] = (double)mj;
        d->group_pop_share[j] = (double)pj;
        d->group_income_share[j] = (double)sj;
        d->group_gini[j] = (double)Gjj;
        d->group_within[j] = (double)(Gjj * pj * sj);
        d->pair_gini[j * ngroups + j] = (double)Gjj;
        within += Gjj * pj * sj;
        for (size_t h = j + 1; h < ngroups; h++) {
            long double mh = gS[h] / gW[h], ph = gW[h] / st.W, sh = gS[h] / (st.W * st.mu);
            long double djh = cross_abs_diff(v + off[j], d->group_n[j], v + off[h], d->group_n[h], gW[h], gS[h]) /
                              (gW[j] * gW[h]);
            long double Gjh = djh / (mj + mh);
            long double D = djh > 0 ? (mj - mh) / djh : 0; /* signed: D_jh > 0 when group j is richer */
            long double wgt = Gjh * (pj * sh + ph * sj);
            long double aD = fabsl(D);
            if (aD > 1) aD = 1; /* |μ_j − μ_h| <= Δ_jh holds exactly; guard rounding */
            bnet += wgt * aD;
            over += wgt * (1 - aD);
            d->pair_gini[j * ngroups + h] = d->pair_gini[h * ngroups + j] = (double)Gjh;
            d->pair_d[j * ngroups + h] = (double)D;
            d->pair_d[h * ngroups + j] = (double)-D;
        }
    }
    d->total = (double)total;
    d->within = (double)within;
    d->between_net = (double)bnet;
    d->overlap = (double)over;
    d->between_gross = (double)(bnet + over);
    cs_free(gW);
    cs_free(gS);
    cs_free(v);
    cs_free(off);
    *out = d;
    return CS_OK;
oom:
    s = cs_error_set(CS_ENOMEM, "Gini decomposition: out of memory");
fail:
    cs_free(gW);
    cs_free(gS);
    cs_free(v);
    cs_free(off);
    cs_gini_decomp_free(d);
    return s;
}

cs_status cs_ineq_summarise_groups(const double *y, const double *w, size_t n, const uint32_t *group, size_t ngroups,
                                   const cs_ineq_opts *opts, cs_ineq_summary *out, cs_status *status)
{
    if (!y || !group || !out || !status || ngroups == 0)
        return cs_error_set(CS_EINVAL, "group summaries: NULL argument or no groups");
    for (size_t i = 0; i < n; i++)
        if (group[i] >= ngroups)
            return cs_error_set(CS_EINVAL, "group summaries: group id %u at row %zu is out of range (ngroups = %zu)",
                                group[i], i, ngroups);
    double *yg = cs_mallocarray(n ? n : 1, sizeof *yg), *wg = cs_mallocarray(n ? n : 1, sizeof *wg);
    if (!yg || !wg) {
        cs_free(yg);
        cs_free(wg);
        return cs_error_set(CS_ENOMEM, "group summaries: out of memory");
    }
    cs_status s = CS_OK;
    for (size_t g = 0; g < ngroups && s != CS_ENOMEM; g++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (group[i] == g) {
                yg[m] = y[i];
                wg[m] = w ? w[i] : 1.0;
                m++;
            }
        memset(&out[g], 0, sizeof out[g]);
        if (m == 0) {
            status[g] = cs_error_set(CS_EINVAL, "group %zu has no members", g);
            continue;
        }
        status[g] = cs_ineq_summarise(yg, w ? wg : NULL, m, opts, &out[g]);
        if (status[g] == CS_ENOMEM) s = CS_ENOMEM;
    }
    cs_free(yg);
    cs_free(wg);
    return s ? cs_error_set(CS_ENOMEM, "group summaries: out of memory") : CS_OK;
}

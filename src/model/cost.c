/* cost.c: generalised cost (time, distance, border penalties, soft frictions) and the iceberg mapping. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/cost.h"
#include "citysys/alloc.h"
#include "citysys/fileio.h"

void cs_cost_params_default(cs_cost_params *p)
{
    memset(p, 0, sizeof *p);
    p->time_weight = 1.0;
    p->dist_weight_per_km = 0.0;
    p->border_weight = 1.0;
    p->soft_apply = CS_SOFT_ON_TOTAL;
    p->internal_cost = 0.0;
    p->tau_c0 = 30.0;
    p->tau_delta = 1.0;
    p->tau_theta = 5.0;
}

cs_status cs_cost_params_set_elasticity(cs_cost_params *p, double beta)
{
    if (!p) return cs_error_set(CS_EINVAL, "cost: NULL params");
    if (!(beta < 0) || !isfinite(beta))
        return cs_error_set(CS_EINVAL, "cost: the ln-cost coefficient must be finite and negative, got %g", beta);
    p->tau_delta = -beta;
    return CS_OK;
}

double cs_cost_tau(double c, const cs_cost_params *p)
{
    if (isnan(c)) return NAN;
    if (c == INFINITY) return INFINITY;
    double r = c / p->tau_c0;
    if (!(r > 1)) return 1.0;
    return pow(r, p->tau_delta / p->tau_theta);
}

static cs_status check_params(const cs_cost_params *p)
{
    if (!(p->time_weight >= 0) || !(p->dist_weight_per_km >= 0) || !(p->border_weight >= 0) ||
        !(p->internal_cost >= 0) || !isfinite(p->time_weight) || !isfinite(p->dist_weight_per_km) ||
        !isfinite(p->border_weight))
        return cs_error_set(CS_EINVAL, "cost: weights and internal cost must be finite and >= 0");
    if (!(p->tau_c0 > 0) || !(p->tau_delta > 0) || !(p->tau_theta > 0) || !isfinite(p->tau_delta / p->tau_theta))
        return cs_error_set(CS_EINVAL, "cost: c_0, delta and theta must be finite and > 0");
    return CS_OK;
}

cs_status cs_cost_iceberg(const cs_matrix *cost, const cs_cost_params *p, cs_matrix **out)
{
    cs_cost_params def;
    if (!p) {
        cs_cost_params_default(&def);
        p = &def;
    }
    if (!cost || !out) return cs_error_set(CS_EINVAL, "iceberg: NULL argument");
    *out = NULL;
    cs_status st = check_params(p);
    if (st) return st;
    cs_matrix *t;
    if ((st = cs_matrix_clone(cost, &t))) return st;
    t->kind = CS_MATRIX_TRADECOST;
    snprintf(t->unit, sizeof t->unit, "%s", "");
    for (size_t i = 0; i < t->rows; i++)
        for (size_t j = 0; j < t->cols; j++) {
            double c = t->v[i * t->cols + j];
            if (c < 0) {
                cs_matrix_free(t);
                return cs_error_set(CS_EINVAL, "iceberg: negative cost %g from %s to %s", c, cost->row_ids[i],
                                    cost->col_ids[j]);
            }
            t->v[i * t->cols + j] = (i == j) ? 1.0 : cs_cost_tau(c, p);
        }
    *out = t;
    return CS_OK;
}

/* index of s in codes[0..k) or -1 */
static long find_code(char *const *codes, size_t k, const char *s)
{
    for (size_t q = 0; q < k; q++)
        if (!strcmp(codes[q], s)) return (long)q;
    return -1;
}

/* Map each city's code to a dense index over the unique codes (first-seen order). */
static cs_status code_index(const char *const *code, size_t n, uint32_t *idx, char ***uniq, size_t *nu)
{
    char **u = cs_mallocarray(n ? n : 1, sizeof *u);
    if (!u) return CS_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        long q = find_code(u, k, code[i] ? code[i] : "");
        if (q < 0) {
            u[k] = (char *)(code[i] ? code[i] : "");
            q = (long)k++;
        }
        idx[i] = (uint32_t)q;
    }
    *uniq = u;
    *nu = k;
    return CS_OK;
}

typedef struct pair_factor {
    uint32_t i, j;
    double f;
} pair_factor;
static int cmp_pair(const void *a, const void *b)
{
    const pair_factor *x = a, *y = b;
    if (x->i != y->i) return x->i < y->i ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

static double time_scale_min(const cs_matrix *m)
{
    if (!strcmp(m->unit, "min")) return 1.0;
    if (!strcmp(m->unit, "h")) return 60.0;
    return 1.0 / 60.0; /* seconds (library default) */
}
static double dist_scale_km(const cs_matrix *m) { return !strcmp(m->unit, "km") ? 1.0 : 1e-3; }

cs_status cs_cost_build(const cs_cost_inputs *in, const cs_cost_params *p, cs_matrix **out)
{
    cs_cost_params def;
    if (!p) {
        cs_cost_params_default(&def);
        p = &def;
    }
    if (!in || !out) return cs_error_set(CS_EINVAL, "cost: NULL argument");
    *out = NULL;
    cs_status st = check_params(p);
    if (st) return st;
    const cs_matrix *ref = in->time ? in->time : in->distance;
    if (!ref) return cs_error_set(CS_EINVAL, "cost: need a time or a distance matrix");
    const size_t n = ref->rows;
    if (ref->cols != n) return cs_error_set(CS_EINVAL, "cost: matrices must be square (got %zu x %zu)", n, ref->cols);
    if (in->time && in->distance && (in->distance->rows != n || in->distance->cols != n))
        return cs_error_set(CS_EINVAL, "cost: time and distance matrices differ in size");
    if (p->time_weight > 0 && !in->time)
        return cs_error_set(CS_EINVAL, "cost: time weight > 0 but no time matrix (set time_weight = 0 to use distance only)");
    if (p->dist_weight_per_km > 0 && !in->distance)
        return cs_error_set(CS_EINVAL, "cost: distance weight > 0 but no distance matrix");
    const int borders = p->border_weight > 0 && (in->border_time_min || in->border_dist_m);
    if (borders && !in->country) return cs_error_set(CS_EINVAL, "cost: border matrices need per-city country codes");
    for (size_t s = 0; s < in->nsoft; s++) {
        const cs_soft_link *l = &in->soft[s];
        if (!(l->factor > 0) || !isfinite(l->factor) || !l->a || !l->b)
            return cs_error_set(CS_EINVAL, "cost: soft link %zu has factor %g (must be finite and > 0) or no ends", s,
                                l->factor);
        if (l->level == CS_SOFT_REGION && !in->region)
            return cs_error_set(CS_EINVAL, "cost: region-level soft link %zu needs per-city region codes", s);
        if (l->level == CS_SOFT_COUNTRY && !in->country)
            return cs_error_set(CS_EINVAL, "cost: country-level soft link %zu needs per-city country codes", s);
    }

    cs_matrix *c = NULL;
    uint32_t *cidx = NULL, *ridx = NULL;
    char **cu = NULL, **ru = NULL;
    size_t ncu = 0, nru = 0;
    long *btix = NULL, *bdix = NULL;
    double *phi_c = NULL, *phi_r = NULL;
    pair_factor *pf = NULL;
    size_t npf = 0;
    if ((st = cs_matrix_new(n, n, CS_MATRIX_COST, &c))) return st;
    snprintf(c->unit, sizeof c->unit, "%s", "min");
    if ((st = cs_matrix_set_ids(c, (const char *const *)ref->row_ids, (const char *const *)ref->col_ids))) goto done;
    if (in->country) {
        cidx = cs_mallocarray(n ? n : 1, sizeof *cidx);
        if (!cidx) goto nomem;
        if ((st = code_index(in->country, n, cidx, &cu, &ncu))) goto done;
        btix = cs_mallocarray(ncu ? ncu : 1, sizeof *btix);
        bdix = cs_mallocarray(ncu ? ncu : 1, sizeof *bdix);
        phi_c = cs_mallocarray((ncu * ncu) > 0 ? ncu * ncu : 1, sizeof *phi_c);
        if (!btix || !bdix || !phi_c) goto nomem;
        for (size_t k = 0; k < ncu * ncu; k++) phi_c[k] = 1.0;
        for (size_t k = 0; k < ncu; k++) {
            btix[k] = bdix[k] = -1;
            if (!borders) continue;
            const cs_matrix *bm[2] = {in->border_time_min, in->border_dist_m};
            for (int b = 0; b < 2; b++) {
                if (!bm[b]) continue;
                if (bm[b]->rows != bm[b]->cols) {
                    st = cs_error_set(CS_EINVAL, "cost: border matrix must be square");
                    goto done;
                }
                long q = find_code(bm[b]->row_ids, bm[b]->rows, cu[k]);
                if (q < 0 || strcmp(bm[b]->col_ids[q], cu[k])) {
                    st = cs_error_set(CS_ENOTFOUND, "cost: country code '%s' is not in the border %s matrix "
                                                    "(rows and columns must list the same codes in the same order)",
                                      cu[k], b ? "distance" : "time");
                    goto done;
                }
                (b ? bdix : btix)[k] = q;
            }
        }
    }
    if (in->region) {
        ridx = cs_mallocarray(n ? n : 1, sizeof *ridx);
        if (!ridx) goto nomem;
        if ((st = code_index(in->region, n, ridx, &ru, &nru))) goto done;
        phi_r = cs_mallocarray((nru * nru) > 0 ? nru * nru : 1, sizeof *phi_r);
        if (!phi_r) goto nomem;
        for (size_t k = 0; k < nru * nru; k++) phi_r[k] = 1.0;
    }
    /* soft links: country/region factor tables, city pairs in a sorted list */
    size_t nlinks = in->links ? in->links->n : 0;
    pf = cs_mallocarray(2 * (in->nsoft + nlinks) + 1, sizeof *pf);
    if (!pf) goto nomem;
    for (size_t s = 0; s < in->nsoft; s++) {
        const cs_soft_link *l = &in->soft[s];
        if (l->level == CS_SOFT_CITY) {
            long a = find_code(ref->row_ids, n, l->a), b = find_code(ref->row_ids, n, l->b);
            if (a < 0 || b < 0) {
                st = cs_error_set(CS_ENOTFOUND, "cost: soft link %zu: city '%s' is not in the matrix", s,
                                  a < 0 ? l->a : l->b);
                goto done;
            }
            pf[npf++] = (pair_factor){(uint32_t)a, (uint32_t)b, l->factor};
            if (a != b) pf[npf++] = (pair_factor){(uint32_t)b, (uint32_t)a, l->factor};
            continue;
        }
        char **u = l->level == CS_SOFT_COUNTRY ? cu : ru;
        size_t nu = l->level == CS_SOFT_COUNTRY ? ncu : nru;
        double *tab = l->level == CS_SOFT_COUNTRY ? phi_c : phi_r;
        long a = find_code(u, nu, l->a), b = find_code(u, nu, l->b);
        if (a < 0 || b < 0) continue; /* a unit with no city in this set: nothing to apply */
        tab[(size_t)a * nu + (size_t)b] *= l->factor;
        if (a != b) tab[(size_t)b * nu + (size_t)a] *= l->factor;
    }
    for (size_t k = 0; k < nlinks; k++) {
        const cs_links *L = in->links;
        if (L->mode[k] != CS_MODE_SOFT || !L->friction || !isfinite(L->friction[k])) continue;
        if (!(L->friction[k] > 0)) {
            st = cs_error_set(CS_EINVAL, "cost: soft link '%s' has friction %g (must be > 0)", L->id[k], L->friction[k]);
            goto done;
        }
        if (L->from[k] >= n || L->to[k] >= n) {
            st = cs_error_set(CS_EINVAL, "cost: link '%s' refers to a city outside the matrix", L->id[k]);
            goto done;
        }
        pf[npf++] = (pair_factor){L->from[k], L->to[k], L->friction[k]};
        if (!(L->directed && L->directed[k]) && L->from[k] != L->to[k])
            pf[npf++] = (pair_factor){L->to[k], L->from[k], L->friction[k]};
    }
    qsort(pf, npf, sizeof *pf, cmp_pair);

    const double ts = in->time ? time_scale_min(in->time) : 0, dsc = in->distance ? dist_scale_km(in->distance) : 0;
    const double wt = p->time_weight, wd = p->dist_weight_per_km, wb = p->border_weight;
    long bad = -1;
    size_t pq = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            size_t k = i * n + j;
            if (i == j) {
                c->v[k] = p->internal_cost;
                continue;
            }
            double t = wt > 0 ? in->time->v[k] * ts : 0, d = wd > 0 ? in->distance->v[k] * dsc : 0;
            if (t < 0 || d < 0) {
                if (bad < 0) bad = (long)k;
                continue;
            }
            double base = wt * t + wd * d;
            double border = 0, phi = 1;
            if (cidx) {
                uint32_t a = cidx[i], b = cidx[j];
                if (a != b && borders) {
                    double bt = btix[a] >= 0 ? in->border_time_min->v[(size_t)btix[a] * in->border_time_min->cols +
                                                                      (size_t)btix[b]]
                                             : 0;
                    double bd = bdix[a] >= 0 ? in->border_dist_m->v[(size_t)bdix[a] * in->border_dist_m->cols +
                                                                    (size_t)bdix[b]] * 1e-3
                                             : 0;
                    border = wb * (wt * bt + wd * bd);
                }
                phi *= phi_c[(size_t)a * ncu + b];
            }
            if (ridx) phi *= phi_r[(size_t)ridx[i] * nru + ridx[j]];
            while (pq < npf && (pf[pq].i < i || (pf[pq].i == i && pf[pq].j < j))) pq++;
            for (size_t q = pq; q < npf && pf[q].i == i && pf[q].j == j; q++) phi *= pf[q].f;
            c->v[k] = p->soft_apply == CS_SOFT_ON_BORDER ? base + phi * border : phi * (base + border);
        }
    }
    if (bad >= 0) {
        st = cs_error_set(CS_EINVAL, "cost: negative time or distance from %s to %s", ref->row_ids[(size_t)bad / n],
                          ref->col_ids[(size_t)bad % n]);
        goto done;
    }
    {
        cs_sha256 h;
        cs_sha256_init(&h);
        cs_sha256_str(&h, "citysys generalised cost v1");
        const cs_matrix *ms[4] = {in->time, in->distance, in->border_time_min, in->border_dist_m};
        for (int q = 0; q < 4; q++) {
            if (!ms[q]) {
                cs_sha256_str(&h, "-");
            } else if (ms[q]->fingerprint[0]) {
                cs_sha256_str(&h, ms[q]->fingerprint);
            } else {
                cs_sha256_update(&h, ms[q]->v, ms[q]->rows * ms[q]->cols * sizeof(double));
            }
        }
        const double pv[7] = {p->time_weight, p->dist_weight_per_km, p->border_weight, (double)p->soft_apply,
                              p->internal_cost, p->tau_c0, p->tau_delta / p->tau_theta};
        cs_sha256_update(&h, pv, sizeof pv);
        for (size_t i = 0; i < n; i++) {
            cs_sha256_str(&h, in->country ? in->country[i] : "");
            cs_sha256_str(&h, in->region ? in->region[i] : "");
        }
        for (size_t q = 0; q < npf; q++) cs_sha256_update(&h, &pf[q], sizeof pf[q]);
        for (size_t s = 0; s < in->nsoft; s++) {
            const double lv = (double)in->soft[s].level;
            cs_sha256_update(&h, &lv, sizeof lv);
            cs_sha256_str(&h, in->soft[s].a);
            cs_sha256_str(&h, in->soft[s].b);
            cs_sha256_update(&h, &in->soft[s].factor, sizeof(double));
        }
        cs_sha256_hex(&h, c->fingerprint);
    }
    *out = c;
    c = NULL;
    goto done;
nomem:
    st = cs_error_set(CS_ENOMEM, "cost: out of memory");
done:
    cs_matrix_free(c);
    cs_free(cidx);
    cs_free(ridx);
    cs_free(cu);
    cs_free(ru);
    cs_free(btix);
    cs_free(bdix);
    cs_free(phi_c);
    cs_free(phi_r);
    cs_free(pf);
    return st;
}

static int is_member(const char *const *list, size_t n, const char *x)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && x && !strcmp(list[i], x)) return 1;
    return 0;
}

void cs_border_scale(cs_matrix *M, const char *const *members, size_t nmembers, double factor)
{
    if (!M || !M->row_ids || !M->col_ids) return;
    for (size_t r = 0; r < M->rows; r++) {
        if (!is_member(members, nmembers, M->row_ids[r])) continue;
        for (size_t c = 0; c < M->cols; c++)
            if (strcmp(M->row_ids[r], M->col_ids[c]) && is_member(members, nmembers, M->col_ids[c])) M->v[r * M->cols + c] *= factor;
    }
}

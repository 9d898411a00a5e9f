/* equilibrium.c: public API of the spatial equilibrium model — parameters,
 * calibration, levels and hat-algebra counterfactuals, uniqueness check,
 * welfare comparison (docs/model-equilibrium.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/equilibrium.h"
#include "citysys/error.h"
#include "model/eq_internal.h"

void cs_eq_params_default(cs_eq_params *p)
{
    p->theta = 8.0;
    p->alpha = 0.1;
    p->beta = -0.3;
    p->mobility = CS_EQ_PERFECT;
    p->kappa = 3.0;
    p->tol = 1e-10;
    p->max_iter = 100000;
    p->step = 0.5;
    p->progress.fn = NULL;
    p->progress.user = NULL;
}

cs_status cs_eq_params_check(const cs_eq_params *p)
{
    if (!p) return cs_error_set(CS_EINVAL, "equilibrium: parameters are NULL");
    if (!(p->theta > 0.0) || !isfinite(p->theta))
        return cs_error_set(CS_EINVAL, "equilibrium: theta must be a positive number, got %g", p->theta);
    if (!isfinite(p->alpha) || !isfinite(p->beta))
        return cs_error_set(CS_EINVAL, "equilibrium: alpha and beta must be finite");
    if (p->mobility != CS_EQ_PERFECT && p->mobility != CS_EQ_IMPERFECT)
        return cs_error_set(CS_EINVAL, "equilibrium: unknown mobility %d", (int)p->mobility);
    if (p->mobility == CS_EQ_IMPERFECT && (!(p->kappa > 0.0) || !isfinite(p->kappa)))
        return cs_error_set(CS_EINVAL, "equilibrium: kappa must be a positive number, got %g", p->kappa);
    if (!(p->tol > 0.0)) return cs_error_set(CS_EINVAL, "equilibrium: tol must be > 0, got %g", p->tol);
    if (p->max_iter < 1) return cs_error_set(CS_EINVAL, "equilibrium: max_iter must be >= 1");
    if (!(p->step > 0.0 && p->step <= 1.0))
        return cs_error_set(CS_EINVAL, "equilibrium: step must be in (0, 1], got %g", p->step);
    return CS_OK;
}

static double inv_kappa(const cs_eq_params *p) { return p->mobility == CS_EQ_IMPERFECT ? 1.0 / p->kappa : 0.0; }

void cs_eq_model_free(cs_eq_model *m)
{
    if (!m) return;
    cs_free(m->group);
    cs_free(m->group_pop);
    cs_free(m->Abar);
    cs_free(m->ubar);
    cs_free(m);
}

cs_status cs_eq_model_new(size_t n, size_t ngroups, const uint32_t *group, const double *group_pop,
                          const double *Abar, const double *ubar, const cs_eq_params *params, cs_eq_model **out)
{
    *out = NULL;
    if (n == 0 || ngroups == 0) return cs_error_set(CS_EINVAL, "equilibrium: need at least one city and group");
    if (params) {
        cs_status st = cs_eq_params_check(params);
        if (st) return st;
    }
    if (group)
        for (size_t i = 0; i < n; i++)
            if (group[i] >= ngroups)
                return cs_error_set(CS_EINVAL, "equilibrium: city %zu has group %u >= %zu groups", i, group[i],
                                    ngroups);
    if (!group && ngroups != 1) return cs_error_set(CS_EINVAL, "equilibrium: group is NULL but ngroups > 1");
    cs_eq_model *m = cs_calloc(1, sizeof *m);
    if (!m) return CS_ENOMEM;
    m->n = n;
    m->ngroups = ngroups;
    m->group = cs_mallocarray(n, sizeof *m->group);
    m->group_pop = cs_mallocarray(ngroups, sizeof *m->group_pop);
    m->Abar = cs_mallocarray(n, sizeof *m->Abar);
    m->ubar = cs_mallocarray(n, sizeof *m->ubar);
    if (!m->group || !m->group_pop || !m->Abar || !m->ubar) {
        cs_eq_model_free(m);
        return CS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        m->group[i] = group ? group[i] : 0;
        m->Abar[i] = Abar ? Abar[i] : 1.0;
        m->ubar[i] = ubar ? ubar[i] : 1.0;
    }
    for (size_t g = 0; g < ngroups; g++) m->group_pop[g] = group_pop ? group_pop[g] : NAN;
    if (params)
        m->params = *params;
    else
        cs_eq_params_default(&m->params);
    *out = m;
    return CS_OK;
}

cs_status cs_eq_groups_from_labels(const char *const *labels, size_t n, uint32_t **group, size_t *ngroups,
                                   const char ***names)
{
    *group = NULL;
    *ngroups = 0;
    if (names) *names = NULL;
    uint32_t *g = cs_mallocarray(n ? n : 1, sizeof *g);
    const char **nm = cs_mallocarray(n ? n : 1, sizeof *nm);
    if (!g || !nm) {
        cs_free(g);
        cs_free(nm);
        return CS_ENOMEM;
    }
    /* Linear scan over the distinct labels seen so far: O(n * groups), fine for countries. */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *li = labels && labels[i] ? labels[i] : "";
        size_t j;
        for (j = 0; j < k; j++)
            if (!strcmp(nm[j], li)) break;
        if (j == k) nm[k++] = li;
        g[i] = (uint32_t)j;
    }
    *group = g;
    *ngroups = k;
    if (names)
        *names = nm;
    else
        cs_free(nm);
    return CS_OK;
}

void cs_eq_state_free(cs_eq_state *s)
{
    if (!s) return;
    cs_free(s->w); /* one block */
    cs_free(s);
}

static cs_status state_new(size_t n, size_t ng, cs_eq_state **out)
{
    *out = NULL;
    cs_eq_state *s = cs_calloc(1, sizeof *s);
    if (!s) return CS_ENOMEM;
    double *b = cs_mallocarray(8 * n + ng, sizeof *b);
    if (!b) {
        cs_free(s);
        return CS_ENOMEM;
    }
    s->n = n;
    s->ngroups = ng;
    s->w = b;
    s->L = b + n;
    s->P = b + 2 * n;
    s->A = b + 3 * n;
    s->u = b + 4 * n;
    s->W = b + 5 * n;
    s->real_income = b + 6 * n;
    s->output = b + 7 * n;
    s->group_welfare = b + 8 * n;
    *out = s;
    return CS_OK;
}

/* Fill the derived fields of a state from w, L, P and the model. */
static void state_finish(const cs_eq_model *m, cs_eq_state *s, const double *a, const double *b)
{
    const cs_eq_params *p = &m->params;
    double Y = 0.0;
    for (size_t i = 0; i < s->n; i++) {
        s->A[i] = m->Abar[i] * (a ? a[i] : 1.0) * pow(s->L[i], p->alpha);
        s->u[i] = m->ubar[i] * (b ? b[i] : 1.0) * pow(s->L[i], p->beta);
        s->real_income[i] = s->w[i] / s->P[i];
        s->W[i] = s->real_income[i] * s->u[i];
        s->output[i] = s->w[i] * s->L[i];
        Y += s->output[i];
    }
    s->world_income = Y;
    for (size_t g = 0; g < s->ngroups; g++) s->group_welfare[g] = 0.0;
    if (p->mobility == CS_EQ_IMPERFECT) {
        for (size_t i = 0; i < s->n; i++) s->group_welfare[m->group[i]] += pow(s->W[i], p->kappa);
        for (size_t g = 0; g < s->ngroups; g++) s->group_welfare[g] = pow(s->group_welfare[g], 1.0 / p->kappa);
    } else {
        double *pop = cs_calloc(s->ngroups, sizeof *pop);
        for (size_t i = 0; i < s->n; i++) {
            s->group_welfare[m->group[i]] += s->L[i] * s->W[i];
            if (pop) pop[m->group[i]] += s->L[i];
        }
        for (size_t g = 0; g < s->ngroups; g++)
            s->group_welfare[g] /= pop ? pop[g] : m->group_pop[g];
        cs_free(pop);
    }
}

/* Validate a trade cost matrix for n cities. */
static cs_status check_tau(const cs_matrix *t, size_t n, const char *what)
{
    if (!t || !t->v) return cs_error_set(CS_EINVAL, "equilibrium: %s cost matrix is NULL", what);
    if (t->rows != n || t->cols != n)
        return cs_error_set(CS_EINVAL, "equilibrium: %s cost matrix is %zu x %zu, expected %zu x %zu", what,
                            t->rows, t->cols, n, n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            const double v = t->v[i * n + j];
            const char *ri = t->row_ids ? t->row_ids[i] : "?", *cj = t->col_ids ? t->col_ids[j] : "?";
            if (i == j && fabs(v - 1.0) > 1e-12) {
                cs_error_set(CS_EINVAL, "equilibrium: %s trade cost tau[%s][%s] = %g, must be 1 on the diagonal",
                             what, ri, cj, v);
                cs_error_set_object("city %s", ri);
                return CS_EINVAL;
            }
            if (!(v >= 1.0)) {
                cs_error_set(CS_EINVAL, "equilibrium: %s trade cost tau[%s][%s] = %g, must be >= 1 (or inf)", what,
                             ri, cj, v);
                cs_error_set_object("cities %s, %s", ri, cj);
                return CS_EINVAL;
            }
        }
    return CS_OK;
}

static int tau_symmetric(const cs_matrix *t)
{
    const size_t n = t->rows;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            const double a = t->v[i * n + j], b = t->v[j * n + i];
            if (a == b) continue;
            if (!(fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b)))) return 0;
        }
    return 1;
}

/* Spectral radius of a non-negative 2x2 matrix. */
static double rho2(double a, double b, double c, double d)
{
    /* ((a-d)/2)^2 + bc instead of tr^2/4 - det: no cancellation (b, c >= 0), so a matrix at the
     * boundary (e.g. the identity when alpha + beta = 0) gives rho = 1, not 1 + sqrt(eps) */
    const double h = (a - d) / 2.0;
    return (a + d) / 2.0 + sqrt(h * h + b * c);
}

cs_status cs_eq_check_uniqueness(const cs_eq_params *p, const cs_matrix *tau, cs_eq_horizon horizon,
                                 cs_eq_uniqueness *out)
{
    cs_status st = cs_eq_params_check(p);
    if (st) return st;
    out->symmetric = tau ? tau_symmetric(tau) : 0;
    const double th = p->theta, al = p->alpha, be = p->beta - inv_kappa(p);
    out->alpha_plus_beta = al + be;
    double G[4], B[4];
    if (horizon == CS_EQ_SHORT_RUN) {
        /* unknowns (w, P): w^(1+th) ~ sum K P^th w ; P^-th ~ sum K w^-th */
        G[0] = 1.0 + th, G[1] = 0.0, G[2] = 0.0, G[3] = -th;
        B[0] = 1.0, B[1] = th, B[2] = -th, B[3] = 0.0;
    } else {
        /* unknowns (w, L) after substituting P from the mobility condition (docs) */
        G[0] = 1.0 + th, G[1] = 1.0 - al * th, G[2] = -th, G[3] = -be * th;
        B[0] = 1.0 + th, B[1] = 1.0 + be * th, B[2] = -th, B[3] = al * th;
    }
    const double det = G[0] * G[3] - G[1] * G[2];
    if (det == 0.0) {
        out->spectral_radius = INFINITY;
    } else {
        const double gi[4] = {G[3] / det, -G[1] / det, -G[2] / det, G[0] / det};
        const double m0 = fabs(B[0] * gi[0] + B[1] * gi[2]), m1 = fabs(B[0] * gi[1] + B[1] * gi[3]);
        const double m2 = fabs(B[2] * gi[0] + B[3] * gi[2]), m3 = fabs(B[2] * gi[1] + B[3] * gi[3]);
        out->spectral_radius = rho2(m0, m1, m2, m3);
    }
    if (horizon == CS_EQ_SHORT_RUN)
        out->holds = 1;
    else if (out->symmetric)
        out->holds = out->alpha_plus_beta <= 1e-12;
    else
        out->holds = out->spectral_radius <= 1.0 + 1e-12;
    return CS_OK;
}

static cs_status uniqueness_note(const cs_eq_params *p, const cs_matrix *tau, cs_eq_horizon h, cs_diag *diag,
                                 cs_eq_state *s, const char *what)
{
    cs_eq_uniqueness u;
    cs_status st = cs_eq_check_uniqueness(p, tau, h, &u);
    if (st) return st;
    s->spectral_radius = u.spectral_radius;
    if (!u.symmetric) s->flags |= CS_EQ_FLAG_ASYMMETRIC;
    if (!u.holds) {
        s->flags |= CS_EQ_FLAG_NOT_UNIQUE;
        if (diag) {
            if (u.symmetric)
                st = cs_diag_add(diag, CS_SEV_WARNING, CS_OK, "", 0, 0, "",
                                 "%s: equilibrium may not be unique: alpha + beta%s = %g > 0 (Allen & Arkolakis "
                                 "2014 need <= 0 for symmetric costs)",
                                 what, p->mobility == CS_EQ_IMPERFECT ? " - 1/kappa" : "", u.alpha_plus_beta);
            else
                st = cs_diag_add(diag, CS_SEV_WARNING, CS_OK, "", 0, 0, "",
                                 "%s: equilibrium may not be unique: costs are asymmetric and the spectral radius "
                                 "rho(|B Gamma^-1|) = %.6g > 1 (Allen, Arkolakis & Li 2020, Theorem 1)",
                                 what, u.spectral_radius);
        }
    }
    return st;
}

/* log(tau^-theta) kernel in a new n x n buffer. */
static double *kernel_levels(const cs_matrix *tau, double theta)
{
    const size_t nn = tau->rows * tau->cols;
    double *K = cs_mallocarray(nn, sizeof *K);
    if (!K) return NULL;
#pragma omp parallel for schedule(static) if (nn >= 65536)
    for (size_t k = 0; k < nn; k++) K[k] = isinf(tau->v[k]) ? 0.0 : pow(tau->v[k], -theta);
    return K;
}

static cs_status check_positive(const double *v, size_t n, const char *what, int allow_null)
{
    if (!v) return allow_null ? CS_OK : cs_error_set(CS_EINVAL, "equilibrium: %s is NULL", what);
    for (size_t i = 0; i < n; i++)
        if (!(v[i] > 0.0) || !isfinite(v[i]))
            return cs_error_set(CS_EINVAL, "equilibrium: %s of city %zu is %g, must be positive and finite", what,
                                i, v[i]);
    return CS_OK;
}

cs_status cs_eq_solve(const cs_eq_model *m, const cs_matrix *tau, cs_eq_horizon horizon, const double *L_init,
                      const double *a_shift, const double *b_shift, double world_income, cs_diag *diag,
                      cs_eq_state **out)
{
    *out = NULL;
    if (!m) return cs_error_set(CS_EINVAL, "equilibrium: model is NULL");
    const size_t n = m->n;
    const cs_eq_params *p = &m->params;
    cs_status st = cs_eq_params_check(p);
    if (!st) st = check_tau(tau, n, "");
    if (!st) st = check_positive(m->Abar, n, "Abar", 0);
    if (!st) st = check_positive(m->ubar, n, "ubar", 0);
    if (!st) st = check_positive(a_shift, n, "productivity shifter", 1);
    if (!st) st = check_positive(b_shift, n, "amenity shifter", 1);
    if (!st) st = check_positive(L_init, n, "population", horizon != CS_EQ_SHORT_RUN);
    if (!st && horizon == CS_EQ_LONG_RUN) st = check_positive(m->group_pop, m->ngroups, "group population", 0);
    if (st) return st;
    if (!(world_income > 0.0) || !isfinite(world_income))
        return cs_error_set(CS_EINVAL, "equilibrium: world income must be positive, got %g", world_income);
    cs_eq_state *s = NULL;
    double *K = NULL, *v = NULL;
    if ((st = state_new(n, m->ngroups, &s))) return st;
    s->horizon = horizon;
    K = kernel_levels(tau, p->theta);
    v = cs_mallocarray(3 * n, sizeof *v);
    if (!K || !v) {
        st = CS_ENOMEM;
        goto done;
    }
    double *logp = v, *logq = v + n, *Phi = v + 2 * n;
    for (size_t i = 0; i < n; i++) {
        logp[i] = log(m->Abar[i] * (a_shift ? a_shift[i] : 1.0));
        logq[i] = log(m->ubar[i] * (b_shift ? b_shift[i] : 1.0));
        s->w[i] = 1.0;
    }
    if (L_init) {
        memcpy(s->L, L_init, n * sizeof *s->L);
    } else {
        size_t *cnt = cs_calloc(m->ngroups, sizeof *cnt);
        if (!cnt) {
            st = CS_ENOMEM;
            goto done;
        }
        for (size_t i = 0; i < n; i++) cnt[m->group[i]]++;
        for (size_t i = 0; i < n; i++) s->L[i] = m->group_pop[m->group[i]] / (double)cnt[m->group[i]];
        cs_free(cnt);
    }
    eq_sys S = {.n = n, .ng = m->ngroups, .group = m->group, .gpop = m->group_pop, .K = K,
                .theta = p->theta, .alpha = p->alpha, .beta = p->beta, .inv_kappa = inv_kappa(p),
                .mobile = horizon == CS_EQ_LONG_RUN, .logp = logp, .logq = logq, .Y = world_income,
                .tol = p->tol, .step = p->step, .max_iter = p->max_iter, .progress = p->progress};
    st = eq_run(&S, s->w, s->L, Phi, &s->iterations, &s->residual);
    if (st) goto done;
    for (size_t i = 0; i < n; i++) s->P[i] = pow(Phi[i], -1.0 / p->theta);
    state_finish(m, s, a_shift, b_shift);
    st = uniqueness_note(p, tau, horizon, diag, s, "costs");
done:
    cs_free(K);
    cs_free(v);
    if (st) {
        cs_eq_state_free(s);
        s = NULL;
    }
    *out = s;
    return st;
}

cs_status cs_eq_calibrate(const cs_eq_params *p, size_t n, const uint32_t *group, const double *L,
                          const double *w, const cs_matrix *tau, cs_diag *diag, cs_eq_model **model,
                          cs_eq_state **baseline)
{
    *model = NULL;
    *baseline = NULL;
    cs_status st = cs_eq_params_check(p);
    if (st) return st;
    if (n == 0) return cs_error_set(CS_EINVAL, "equilibrium: no cities to calibrate");
    if ((st = check_tau(tau, n, "baseline"))) return st;
    if ((st = check_positive(L, n, "population", 0)) || (st = check_positive(w, n, "income per head", 0))) return st;
    size_t ng = 1;
    if (group)
        for (size_t i = 0; i < n; i++)
            if ((size_t)group[i] + 1 > ng) ng = (size_t)group[i] + 1;
    cs_eq_model *m = NULL;
    cs_eq_state *s = NULL;
    double *K = NULL, *v = NULL;
    if ((st = cs_eq_model_new(n, ng, group, NULL, NULL, NULL, p, &m))) return st;
    for (size_t g = 0; g < ng; g++) m->group_pop[g] = 0.0;
    for (size_t i = 0; i < n; i++) m->group_pop[m->group[i]] += L[i];
    for (size_t g = 0; g < ng; g++)
        if (!(m->group_pop[g] > 0.0)) {
            st = cs_error_set(CS_EINVAL, "equilibrium: mobility group %zu has no cities", g);
            goto done;
        }
    if ((st = state_new(n, ng, &s))) goto done;
    s->horizon = CS_EQ_LONG_RUN;
    K = kernel_levels(tau, p->theta);
    v = cs_mallocarray(3 * n, sizeof *v);
    if (!K || !v) {
        st = CS_ENOMEM;
        goto done;
    }
    double *Y = v, *c = v + n, *Phi = v + 2 * n;
    for (size_t i = 0; i < n; i++) Y[i] = w[i] * L[i];
    st = eq_calibrate_c(K, n, Y, m->group, ng, p->tol, p->max_iter, p->progress, c, Phi, &s->iterations, &s->residual);
    if (st) {
        cs_error_prefix("calibrating productivities");
        goto done;
    }
    /* A_i = w_i c_i^(1/theta); Abar = A / L^alpha, scaled to population-weighted mean 1. */
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        m->Abar[i] = w[i] * pow(c[i], 1.0 / p->theta) / pow(L[i], p->alpha);
        num += L[i] * m->Abar[i];
        den += L[i];
    }
    const double scale = den / num; /* Abar -> scale Abar, c -> scale^theta c, Phi likewise */
    const double cs = pow(scale, p->theta);
    for (size_t i = 0; i < n; i++) {
        m->Abar[i] *= scale;
        Phi[i] *= cs;
        s->w[i] = w[i];
        s->L[i] = L[i];
        s->P[i] = pow(Phi[i], -1.0 / p->theta);
    }
    /* Amenities from the mobility condition. */
    for (size_t i = 0; i < n; i++) {
        const double Wi = p->mobility == CS_EQ_IMPERFECT ? pow(L[i] / m->group_pop[m->group[i]], 1.0 / p->kappa)
                                                         : 1.0;
        m->ubar[i] = Wi * s->P[i] / (w[i] * pow(L[i], p->beta));
    }
    state_finish(m, s, NULL, NULL);
    st = uniqueness_note(p, tau, CS_EQ_LONG_RUN, diag, s, "baseline costs");
done:
    cs_free(K);
    cs_free(v);
    if (st) {
        cs_eq_model_free(m);
        cs_eq_state_free(s);
        return st;
    }
    *model = m;
    *baseline = s;
    return CS_OK;
}

cs_status cs_eq_counterfactual(const cs_eq_model *m, const cs_eq_state *base, const cs_matrix *tau,
                               cs_matrix *tau_after, cs_eq_horizon horizon, const double *a_shift,
                               const double *b_shift, unsigned flags, cs_diag *diag, cs_eq_state **out)
{
    return cs_eq_counterfactual_from(m, base, tau, tau_after, horizon, a_shift, b_shift, flags, NULL, diag, out);
}

cs_status cs_eq_counterfactual_from(const cs_eq_model *m, const cs_eq_state *base, const cs_matrix *tau,
                                    cs_matrix *tau_after, cs_eq_horizon horizon, const double *a_shift,
                                    const double *b_shift, unsigned flags, const cs_eq_state *init, cs_diag *diag,
                                    cs_eq_state **out)
{
    return cs_eq_counterfactual_shares(m, base, tau, NULL, tau_after, horizon, a_shift, b_shift, flags, init, diag, out);
}

/* c0_i = (w_i/A_i)^-theta and Phi_j = P_j^-theta of the baseline (n each). */
static void base_c0_phi(const cs_eq_state *base, double theta, double *c0, double *Phi)
{
    for (size_t i = 0; i < base->n; i++) {
        c0[i] = pow(base->w[i] / base->A[i], -theta);
        Phi[i] = pow(base->P[i], -theta);
    }
}

cs_status cs_eq_trade_shares(const cs_eq_model *m, const cs_eq_state *base, const cs_matrix *tau, cs_matrix **out)
{
    *out = NULL;
    if (!m || !base) return cs_error_set(CS_EINVAL, "equilibrium: model or baseline is NULL");
    const size_t n = m->n;
    cs_status st = cs_eq_params_check(&m->params);
    if (!st && base->n != n) st = cs_error_set(CS_EINVAL, "equilibrium: baseline has %zu cities, model %zu", base->n, n);
    if (!st) st = check_tau(tau, n, "baseline");
    if (st) return st;
    double *v = cs_mallocarray(2 * n + 1, sizeof *v);
    cs_matrix *S = NULL;
    if (!v) return CS_ENOMEM;
    st = cs_matrix_new(n, n, CS_MATRIX_OTHER, &S);
    if (st) {
        cs_free(v);
        return st;
    }
    double *c0 = v, *Phi = v + n;
    const double th = m->params.theta;
    base_c0_phi(base, th, c0, Phi);
    /* the expression of the counterfactual's kernel for an unchanged pair, so the bits are the same */
#pragma omp parallel for schedule(static) if (n >= 256)
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            const double a = tau->v[i * n + j];
            S->v[i * n + j] = isinf(a) ? 0.0 : pow(a, -th) * c0[i] / Phi[j];
        }
    cs_free(v);
    *out = S;
    return CS_OK;
}

cs_status cs_eq_counterfactual_shares(const cs_eq_model *m, const cs_eq_state *base, const cs_matrix *tau,
                                      const cs_matrix *shares, cs_matrix *tau_after, cs_eq_horizon horizon,
                                      const double *a_shift, const double *b_shift, unsigned flags,
                                      const cs_eq_state *init, cs_diag *diag, cs_eq_state **out)
{
    *out = NULL;
    if (!m || !base) return cs_error_set(CS_EINVAL, "equilibrium: model or baseline is NULL");
    if (init && (init->n != m->n || init->ngroups != m->ngroups))
        return cs_error_set(CS_EINVAL, "equilibrium: starting guess has %zu cities, model %zu", init->n, m->n);
    if (init)
        for (size_t i = 0; i < init->n; i++)
            if (!(init->w[i] > 0) || !(init->L[i] > 0) || !isfinite(init->w[i]) || !isfinite(init->L[i])) {
                init = NULL; /* not a usable start: the baseline */
                break;
            }
    const size_t n = m->n;
    const cs_eq_params *p = &m->params;
    cs_status st = cs_eq_params_check(p);
    if (!st && base->n != n) st = cs_error_set(CS_EINVAL, "equilibrium: baseline has %zu cities, model %zu", base->n, n);
    if (!st) st = check_tau(tau, n, "baseline");
    if (!st) st = check_tau(tau_after, n, "scenario");
    if (!st) st = check_positive(a_shift, n, "productivity shifter", 1);
    if (!st) st = check_positive(b_shift, n, "amenity shifter", 1);
    if (!st && shares && (shares->rows != n || shares->cols != n))
        st = cs_error_set(CS_EINVAL, "equilibrium: trade shares are %zu x %zu, model has %zu cities", shares->rows, shares->cols, n);
    if (st) return st;
    const int reuse = (flags & CS_EQ_REUSE_TAU_AFTER) != 0;
    cs_eq_state *s = NULL;
    double *K = NULL, *v = NULL;
    if ((st = state_new(n, m->ngroups, &s))) return st;
    s->horizon = horizon;
    /* before tau_after's buffer may be reused for the kernel */
    if ((st = uniqueness_note(p, tau_after, horizon, diag, s, "scenario costs"))) goto done;
    v = cs_mallocarray(4 * n, sizeof *v);
    if (!v) {
        st = CS_ENOMEM;
        goto done;
    }
    double *logp = v, *logq = v + n, *Phi = v + 2 * n, *c0 = v + 3 * n;
    /* Baseline trade shares pi_ij = tau_ij^-theta c_i / Phi_j with c_i = (w_i/A_i)^-theta, Phi_j = P_j^-theta. */
    base_c0_phi(base, p->theta, c0, Phi);
    K = reuse ? tau_after->v : cs_mallocarray(n * n, sizeof *K);
    if (!K) {
        st = CS_ENOMEM;
        goto done;
    }
    const double th = p->theta;
#pragma omp parallel for schedule(static) if (n >= 256)
    for (size_t i = 0; i < n; i++) {
        const double *t0 = tau->v + i * n, *t1 = tau_after->v + i * n, *Si = shares ? shares->v + i * n : NULL;
        double *Ki = K + i * n;
        for (size_t j = 0; j < n; j++) {
            const double a = t0[j], b = t1[j];
            double k;
            if (isinf(b))
                k = 0.0;
            else if (isinf(a)) /* no baseline trade: the level cost enters directly */
                k = pow(b, -th) * c0[i] / Phi[j];
            else if (b == a) /* unchanged pair: tau_hat = 1, pow(1, -theta) = 1 exactly (the same bits, one pow less) */
                k = Si ? Si[j] : pow(a, -th) * c0[i] / Phi[j];
            else /* pi_ij * tau_hat_ij^-theta */
                k = (Si ? Si[j] : pow(a, -th) * c0[i] / Phi[j]) * pow(b / a, -th);
            Ki[j] = k;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const double a = a_shift ? a_shift[i] : 1.0, b = b_shift ? b_shift[i] : 1.0;
        logp[i] = log(a) + log(base->w[i]) - p->alpha * log(base->L[i]);
        logq[i] = log(base->W[i]) + log(b) - log(base->w[i]) - p->beta * log(base->L[i]);
        s->w[i] = init ? init->w[i] : base->w[i];
        /* the short run keeps the baseline population (nobody moves) */
        s->L[i] = init && horizon == CS_EQ_LONG_RUN ? init->L[i] : base->L[i];
    }
    double *gpop = cs_calloc(m->ngroups, sizeof *gpop);
    if (!gpop) {
        st = CS_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) gpop[m->group[i]] += base->L[i];
    eq_sys S = {.n = n, .ng = m->ngroups, .group = m->group, .gpop = gpop, .K = K,
                .theta = th, .alpha = p->alpha, .beta = p->beta, .inv_kappa = inv_kappa(p),
                .mobile = horizon == CS_EQ_LONG_RUN, .logp = logp, .logq = logq, .Y = base->world_income,
                .tol = p->tol, .step = p->step, .max_iter = p->max_iter, .progress = p->progress};
    st = eq_run(&S, s->w, s->L, Phi, &s->iterations, &s->residual);
    cs_free(gpop);
    if (st) goto done;
    /* P' = P0 * Phi_hat^(-1/theta) */
    for (size_t i = 0; i < n; i++) s->P[i] = base->P[i] * pow(Phi[i], -1.0 / th);
    state_finish(m, s, a_shift, b_shift);
done:
    if (!reuse) cs_free(K);
    cs_free(v);
    if (st) {
        cs_eq_state_free(s);
        s = NULL;
    }
    *out = s;
    return st;
}

void cs_eq_change_free(cs_eq_change *c)
{
    if (!c) return;
    cs_free(c->w_hat);
    cs_free(c->group_ev);
    cs_free(c);
}

cs_status cs_eq_compare(const cs_eq_model *m, const cs_eq_state *before, const cs_eq_state *after,
                        cs_eq_change **out)
{
    *out = NULL;
    if (!m || !before || !after) return cs_error_set(CS_EINVAL, "equilibrium: NULL argument to compare");
    const size_t n = m->n, ng = m->ngroups;
    if (before->n != n || after->n != n || before->ngroups != ng || after->ngroups != ng)
        return cs_error_set(CS_EINVAL, "equilibrium: states of different sizes cannot be compared");
    cs_eq_change *c = cs_calloc(1, sizeof *c);
    if (!c) return CS_ENOMEM;
    double *b = cs_mallocarray(7 * n, sizeof *b);
    double *g = cs_calloc(5 * ng, sizeof *g);
    if (!b || !g) {
        cs_free(b);
        cs_free(g);
        cs_free(c);
        return CS_ENOMEM;
    }
    c->n = n;
    c->ngroups = ng;
    c->w_hat = b, c->L_hat = b + n, c->P_hat = b + 2 * n, c->real_income_hat = b + 3 * n;
    c->welfare_hat = b + 4 * n, c->resident_welfare_hat = b + 5 * n, c->ev = b + 6 * n;
    c->group_ev = g, c->group_welfare_hat = g + ng, c->group_welfare_hat_pop = g + 2 * ng;
    double *gY = g + 3 * ng, *gL = g + 4 * ng;
    const int moved = after->horizon == CS_EQ_LONG_RUN;
    double Y = 0.0, Ltot = 0.0, popw = 0.0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t gi = m->group[i];
        c->w_hat[i] = after->w[i] / before->w[i];
        c->L_hat[i] = after->L[i] / before->L[i];
        c->P_hat[i] = after->P[i] / before->P[i];
        c->real_income_hat[i] = after->real_income[i] / before->real_income[i];
        c->welfare_hat[i] = after->W[i] / before->W[i];
        /* Long run: baseline residents of i are members of group g and get the group's welfare change
         * (perfect mobility: the common W; imperfect: the expected utility of the group). */
        c->resident_welfare_hat[i] =
            moved ? after->group_welfare[gi] / before->group_welfare[gi] : c->welfare_hat[i];
        const double yi = before->w[i] * before->L[i];
        c->ev[i] = (c->resident_welfare_hat[i] - 1.0) * yi;
        c->group_ev[gi] += c->ev[i];
        gY[gi] += yi;
        gL[gi] += before->L[i];
        c->group_welfare_hat_pop[gi] += before->L[i] * c->resident_welfare_hat[i];
        c->total_ev += c->ev[i];
        Y += yi;
        Ltot += before->L[i];
        popw += before->L[i] * c->resident_welfare_hat[i];
    }
    for (size_t k = 0; k < ng; k++) {
        c->group_welfare_hat[k] = 1.0 + c->group_ev[k] / gY[k];
        c->group_welfare_hat_pop[k] /= gL[k];
    }
    c->total_welfare_hat = 1.0 + c->total_ev / Y;
    c->total_welfare_hat_pop = popw / Ltot;
    *out = c;
    return CS_OK;
}

void cs_eq_aggregate_free(cs_eq_aggregate *a)
{
    if (!a) return;
    cs_free(a->pop_before);
    cs_free(a);
}

cs_status cs_eq_aggregate_by(const cs_eq_state *before, const cs_eq_state *after, const cs_eq_change *c,
                             const uint32_t *label, size_t nlabels, cs_eq_aggregate **out)
{
    *out = NULL;
    if (!before || !after || !c || !label || nlabels == 0)
        return cs_error_set(CS_EINVAL, "equilibrium: bad arguments to aggregate");
    const size_t n = c->n;
    for (size_t i = 0; i < n; i++)
        if (label[i] >= nlabels)
            return cs_error_set(CS_EINVAL, "equilibrium: city %zu has label %u >= %zu", i, label[i], nlabels);
    cs_eq_aggregate *a = cs_calloc(1, sizeof *a);
    double *b = cs_calloc(9 * nlabels, sizeof *b);
    if (!a || !b) {
        cs_free(a);
        cs_free(b);
        return CS_ENOMEM;
    }
    a->nlabels = nlabels;
    a->pop_before = b, a->pop_after = b + nlabels, a->income_before = b + 2 * nlabels;
    a->income_after = b + 3 * nlabels, a->ev = b + 4 * nlabels, a->welfare_hat = b + 5 * nlabels;
    a->real_income_hat = b + 6 * nlabels;
    double *rb = b + 7 * nlabels, *ra = b + 8 * nlabels;
    for (size_t i = 0; i < n; i++) {
        const uint32_t k = label[i];
        a->pop_before[k] += before->L[i];
        a->pop_after[k] += after->L[i];
        a->income_before[k] += before->output[i];
        a->income_after[k] += after->output[i];
        a->ev[k] += c->ev[i];
        rb[k] += before->L[i] * before->real_income[i];
        ra[k] += after->L[i] * after->real_income[i];
    }
    for (size_t k = 0; k < nlabels; k++) {
        a->welfare_hat[k] = 1.0 + a->ev[k] / a->income_before[k];
        a->real_income_hat[k] = (ra[k] / a->pop_after[k]) / (rb[k] / a->pop_before[k]);
    }
    *out = a;
    return CS_OK;
}

cs_status cs_eq_rank(const double *value, size_t n, uint32_t *order)
{
    if (!value || !order) return cs_error_set(CS_EINVAL, "equilibrium: NULL argument to rank");
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    /* Stable bottom-up merge sort (qsort has no context pointer in C17). */
    uint32_t *tmp = cs_mallocarray(n ? n : 1, sizeof *tmp);
    if (!tmp) return CS_ENOMEM;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                const uint32_t a = order[i], b = order[j];
                const double x = value[a], y = value[b];
                int take_b;
                if (isnan(x) != isnan(y))
                    take_b = isnan(x);
                else if (!isnan(x) && x != y)
                    take_b = y > x;
                else
                    take_b = b < a;
                tmp[k++] = take_b ? order[j++] : order[i++];
            }
            while (i < mid) tmp[k++] = order[i++];
            while (j < hi) tmp[k++] = order[j++];
        }
        memcpy(order, tmp, n * sizeof *order);
    }
    cs_free(tmp);
    return CS_OK;
}

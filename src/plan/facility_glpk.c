/* facility_glpk.c: exact facility location with GLPK (glp_simplex + glp_intopt).
 *
 * Formulations (docs/facilities.md):
 *  - p-median: the radius formulation of Cornuejols, Nemhauser & Wolsey (1980) in the form of
 *    Elloumi (2010, J. Comb. Optim. 19:69-83), with the reduction that a demand point's distance
 *    never exceeds its (m-P+1)-th smallest distance; only finite (reachable) distances enter.
 *  - capacitated p-median (single source): ReVelle & Swain (1970) with disaggregated x_ij <= y_j,
 *    x_ij only for reachable pairs, and sum_i w_i x_ij <= Q_j y_j.
 *  - MCLP: Church & ReVelle (1974).  SCP: Toregas, Swain, ReVelle & Bergman (1971).
 *  - p-center: binary search over the sorted distinct times; each step asks whether a set cover of
 *    radius D with at most p new sites exists (Minieka 1970), solved as an SCP MIP stopped at the
 *    first integer solution.
 * GLPK never prints (terminal hook captures its output) and never aborts the process: glp_error_hook
 * long-jumps back here, the GLPK environment is freed (glp_free_env) and CS_EDEPENDENCY is returned
 * with GLPK's last message.
 */
#include <glpk.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/alloc.h"
#include "plan/facility_internal.h"

/* ----------------------------------------------------- model description */

typedef struct mdl {
    int dir;
    double obj0;
    int ncols, ccap;
    double *clb, *cub, *cobj;
    unsigned char *cint, *cfix;
    int nrows, rcap;
    int *rtype;
    double *rlb, *rub;
    size_t nnz, zcap;
    int *ia, *ja;
    double *ar;
    int oom;
    int lp_only; /* stop after the LP relaxation: o->bound = LP value, status MIP_NOSOLUTION */
    const cs_progress *prog; /* progress/cancel during branch and bound (may be NULL) */
} mdl;

static void mdl_free(mdl *m)
{
    cs_free(m->clb);
    cs_free(m->cub);
    cs_free(m->cobj);
    cs_free(m->cint);
    cs_free(m->cfix);
    cs_free(m->rtype);
    cs_free(m->rlb);
    cs_free(m->rub);
    cs_free(m->ia);
    cs_free(m->ja);
    cs_free(m->ar);
    memset(m, 0, sizeof *m);
}

#define GROW(ptr, cap, need)                                                                                           \
    do {                                                                                                               \
        void *np_ = cs_reallocarray((ptr), (size_t)(cap), sizeof *(ptr));                                              \
        if (!np_) {                                                                                                    \
            m->oom = 1;                                                                                                \
            return 0;                                                                                                  \
        }                                                                                                              \
        (ptr) = np_;                                                                                                   \
    } while (0)

/* Column; returns its 1-based index, 0 on allocation failure. */
static int mdl_col(mdl *m, double lb, double ub, double obj, int isint)
{
    if (m->oom) return 0;
    if (m->ncols + 1 >= m->ccap) {
        int nc = m->ccap ? 2 * m->ccap : 256;
        GROW(m->clb, nc, 0);
        GROW(m->cub, nc, 0);
        GROW(m->cobj, nc, 0);
        GROW(m->cint, nc, 0);
        m->ccap = nc;
    }
    int k = ++m->ncols;
    m->clb[k] = lb;
    m->cub[k] = ub;
    m->cobj[k] = obj;
    m->cint[k] = (unsigned char)isint;
    return k;
}

static int mdl_row(mdl *m, int type, double lb, double ub)
{
    if (m->oom) return 0;
    if (m->nrows + 1 >= m->rcap) {
        int nc = m->rcap ? 2 * m->rcap : 256;
        GROW(m->rtype, nc, 0);
        GROW(m->rlb, nc, 0);
        GROW(m->rub, nc, 0);
        m->rcap = nc;
    }
    int k = ++m->nrows;
    m->rtype[k] = type;
    m->rlb[k] = lb;
    m->rub[k] = ub;
    return k;
}

static int mdl_nz(mdl *m, int row, int col, double v)
{
    if (m->oom) return 0;
    if (m->nnz + 1 >= m->zcap) {
        size_t nc = m->zcap ? 2 * m->zcap : 1024;
        GROW(m->ia, nc, 0);
        GROW(m->ja, nc, 0);
        GROW(m->ar, nc, 0);
        m->zcap = nc;
    }
    size_t k = ++m->nnz;
    m->ia[k] = row;
    m->ja[k] = col;
    m->ar[k] = v;
    return 1;
}

/* ----------------------------------------------------- guarded GLPK run */

typedef struct glp_guard {
    jmp_buf jb;
    char tail[1024]; /* last characters of GLPK's terminal output */
    size_t len;
} glp_guard;

static int term_cb(void *info, const char *s)
{
    glp_guard *g = info;
    size_t k = strlen(s);
    if (k >= sizeof g->tail) {
        s += k - (sizeof g->tail - 1);
        k = sizeof g->tail - 1;
    }
    if (g->len + k >= sizeof g->tail) {
        size_t drop = g->len + k - (sizeof g->tail - 1);
        memmove(g->tail, g->tail + drop, g->len - drop);
        g->len -= drop;
    }
    memcpy(g->tail + g->len, s, k);
    g->len += k;
    g->tail[g->len] = 0;
    return 1; /* suppress GLPK's own printing */
}

static void err_cb(void *info)
{
    glp_guard *g = info;
    longjmp(g->jb, 1);
}

/* Last non-empty line of the captured output. */
static const char *tail_line(glp_guard *g, char *buf, size_t sz)
{
    size_t e = g->len;
    while (e > 0 && (g->tail[e - 1] == '\n' || g->tail[e - 1] == ' ')) e--;
    size_t b = e;
    while (b > 0 && g->tail[b - 1] != '\n') b--;
    /* GLPK error reports span two lines ("Error: ...", "Error detected in file ..."): keep both */
    if (b > 0 && !strncmp(g->tail + b, "Error detected", 14)) {
        size_t b2 = b - 1;
        while (b2 > 0 && g->tail[b2 - 1] != '\n') b2--;
        b = b2;
    }
    snprintf(buf, sz, "%.*s", (int)(e - b), g->tail + b);
    for (char *p = buf; *p; p++)
        if (*p == '\n') *p = ' ';
    return buf;
}

typedef struct mip_cb {
    const cs_progress *prog;
    int cancelled;
    const double *init_x;
    int fed;
    int stop_on_feasible;
    int have_bound;
    double bound;
} mip_cb;

static void ios_cb(glp_tree *T, void *info)
{
    mip_cb *cb = info;
    int reason = glp_ios_reason(T);
    if (reason == GLP_IHEUR && cb->init_x && !cb->fed) {
        cb->fed = 1;
        glp_ios_heur_sol(T, cb->init_x);
    }
    if (reason == GLP_IBINGO && cb->stop_on_feasible) glp_ios_terminate(T);
    if (reason == GLP_ISELECT && cb->prog && cb->prog->fn) {
        int active = 0, nodes = 0, total = 0;
        glp_ios_tree_size(T, &active, &nodes, &total);
        if (cb->prog->fn(cb->prog->user, "GLPK branch and bound", (double)(total - active), (double)total)) {
            cb->cancelled = 1;
            glp_ios_terminate(T);
        }
    }
    int b = glp_ios_best_node(T);
    if (b) {
        cb->bound = glp_ios_node_bound(T, b);
        cb->have_bound = 1;
    }
}

enum { MIP_OPTIMAL = 0, MIP_FEASIBLE = 1, MIP_INFEASIBLE = 2, MIP_NOSOLUTION = 3 };

typedef struct mip_out {
    double *x; /* ncols+1, caller allocated */
    double obj, bound;
    int status;
    int time_limited;
    char msg[200];
} mip_out;

static cs_status mdl_solve(const mdl *m, const double *init_x, int stop_on_feasible, double tlim_s, double gap,
                           mip_out *o)
{
    if (m->oom) return CS_ENOMEM;
    glp_guard *g = cs_calloc(1, sizeof *g);
    mip_cb *cb = cs_calloc(1, sizeof *cb);
    if (!g || !cb) {
        cs_free(g);
        cs_free(cb);
        return CS_ENOMEM;
    }
    cb->init_x = init_x;
    cb->prog = m->prog;
    cb->stop_on_feasible = stop_on_feasible;
    o->status = MIP_NOSOLUTION;
    o->time_limited = 0;
    o->bound = NAN;
    o->obj = NAN;
    glp_term_hook(term_cb, g);
    glp_error_hook(err_cb, g);
    if (setjmp(g->jb)) {
        /* GLPK hit a fatal error: its environment is unusable; free it whole (this frees lp too). */
        char line[600];
        tail_line(g, line, sizeof line);
        glp_free_env();
        cs_status st = cs_error_set(CS_EDEPENDENCY, "GLPK failed: %s", line[0] ? line : "unknown error");
        cs_free(g);
        cs_free(cb);
        return st;
    }
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, m->dir);
    glp_set_obj_coef(lp, 0, m->obj0);
    if (m->ncols) glp_add_cols(lp, m->ncols);
    if (m->nrows) glp_add_rows(lp, m->nrows);
    for (int j = 1; j <= m->ncols; j++) {
        int type = m->clb[j] == m->cub[j] ? GLP_FX : (isinf(m->cub[j]) ? GLP_LO : GLP_DB);
        glp_set_col_bnds(lp, j, type, m->clb[j], isinf(m->cub[j]) ? 0.0 : m->cub[j]);
        glp_set_obj_coef(lp, j, m->cobj[j]);
        if (m->cint[j]) glp_set_col_kind(lp, j, m->clb[j] == 0 && m->cub[j] == 1 ? GLP_BV : GLP_IV);
    }
    for (int i = 1; i <= m->nrows; i++) glp_set_row_bnds(lp, i, m->rtype[i], m->rlb[i], m->rub[i]);
    if (m->nnz) glp_load_matrix(lp, (int)m->nnz, m->ia, m->ja, m->ar);
    double t0 = fac_now();
    glp_smcp sp;
    glp_init_smcp(&sp);
    sp.msg_lev = GLP_MSG_ERR;
    sp.presolve = GLP_OFF;
    if (tlim_s > 0) sp.tm_lim = (int)fmin(tlim_s * 1000.0, 2e9);
    glp_scale_prob(lp, GLP_SF_AUTO);
    glp_adv_basis(lp, 0);
    int rc = glp_simplex(lp, &sp);
    cs_status st = CS_OK;
    if (rc == GLP_ETMLIM) {
        o->time_limited = 1;
        snprintf(o->msg, sizeof o->msg, "time limit reached in the LP relaxation");
        goto fin;
    }
    if (rc != 0) {
        char line[600];
        st = cs_error_set(CS_EDEPENDENCY, "GLPK simplex failed (code %d): %s", rc, tail_line(g, line, sizeof line));
        goto fin;
    }
    int lps = glp_get_status(lp);
    if (lps == GLP_NOFEAS || lps == GLP_INFEAS) {
        o->status = MIP_INFEASIBLE;
        snprintf(o->msg, sizeof o->msg, "LP relaxation infeasible");
        goto fin;
    }
    if (lps != GLP_OPT) {
        st = cs_error_set(CS_EDEPENDENCY, "GLPK: LP relaxation not solved to optimality (status %d)", lps);
        goto fin;
    }
    double lpval = glp_get_obj_val(lp);
    if (m->lp_only) {
        o->bound = lpval;
        snprintf(o->msg, sizeof o->msg, "LP relaxation (GLPK %s)", glp_version());
        goto fin;
    }
    glp_iocp ip;
    glp_init_iocp(&ip);
    ip.msg_lev = GLP_MSG_ERR;
    ip.presolve = GLP_OFF;
    ip.cb_func = ios_cb;
    ip.cb_info = cb;
    ip.mip_gap = gap;
    ip.br_tech = GLP_BR_DTH;
    ip.bt_tech = GLP_BT_BLB;
    if (tlim_s > 0) {
        double rem = tlim_s - (fac_now() - t0);
        ip.tm_lim = rem > 0.001 ? (int)fmin(rem * 1000.0, 2e9) : 1;
    }
    rc = glp_intopt(lp, &ip);
    int ms = glp_mip_status(lp);
    if (cb->cancelled) {
        st = cs_error_set(CS_ECANCELED, "facility location cancelled during GLPK branch and bound");
        goto fin;
    }
    if (rc == GLP_ETMLIM) o->time_limited = 1;
    if (rc != 0 && rc != GLP_ETMLIM && rc != GLP_ESTOP && rc != GLP_EMIPGAP) {
        char line[600];
        st = cs_error_set(CS_EDEPENDENCY, "GLPK branch-and-bound failed (code %d): %s", rc,
                          tail_line(g, line, sizeof line));
        goto fin;
    }
    if (ms == GLP_OPT || ms == GLP_FEAS) {
        o->obj = glp_mip_obj_val(lp);
        for (int j = 1; j <= m->ncols; j++) o->x[j] = glp_mip_col_val(lp, j);
        o->status = (ms == GLP_OPT && rc == 0) ? MIP_OPTIMAL : MIP_FEASIBLE;
    } else if (ms == GLP_NOFEAS) {
        o->status = MIP_INFEASIBLE;
    }
    if (o->status == MIP_OPTIMAL) o->bound = o->obj;
    else if (cb->have_bound) o->bound = cb->bound;
    else o->bound = lpval;
    snprintf(o->msg, sizeof o->msg, "GLPK %s: %s", glp_version(),
             rc == GLP_ETMLIM ? "time limit reached" : rc == GLP_ESTOP ? "stopped at first solution"
                 : rc == GLP_EMIPGAP ? "relative gap tolerance reached" : o->status == MIP_OPTIMAL ? "optimal"
                 : o->status == MIP_INFEASIBLE ? "infeasible" : "no integer solution");
fin:
    glp_delete_prob(lp);
    glp_term_hook(NULL, NULL);
    glp_error_hook(NULL, NULL);
    cs_free(g);
    cs_free(cb);
    return st;
}

/* For tests: make GLPK fail (invalid column index) and return the translated status. */
cs_status fac_glpk_provoke_error(void);
cs_status fac_glpk_provoke_error(void)
{
    mdl m = {0};
    m.dir = GLP_MIN;
    mdl_col(&m, 0, 1, 1, 1);
    int r = mdl_row(&m, GLP_LO, 1, 0);
    mdl_nz(&m, r, 7, 1.0); /* column 7 does not exist: glp_load_matrix reports a fatal error */
    double x[2];
    mip_out o = {.x = x};
    cs_status st = mdl_solve(&m, NULL, 0, 0, 0, &o);
    mdl_free(&m);
    return st;
}

static double remaining(const fac_ctx *c, double t0)
{
    (void)t0;
    double tl = c->opts ? c->opts->time_limit_s : 0;
    if (tl <= 0) return 0;
    double r = tl - (fac_now() - c->t0);
    return r > 0.001 ? r : 0.001;
}

static double mip_gap_opt(const fac_ctx *c) { return c->opts ? c->opts->mip_gap : 0; }

static void fill_result(fac_result *r, const mip_out *o)
{
    r->objective = o->obj;
    r->bound = o->bound;
    r->optimal = o->status == MIP_OPTIMAL;
    r->time_limited = o->time_limited;
    snprintf(r->bound_kind, sizeof r->bound_kind, "mip");
    snprintf(r->message, sizeof r->message, "%s", o->msg);
}

static cs_status sites_from_y(const fac_ctx *c, const double *x, const int *ycol, fac_result *r)
{
    r->sites = cs_mallocarray(c->m, sizeof *r->sites);
    if (!r->sites) return CS_ENOMEM;
    r->nsites = 0;
    for (size_t j = 0; j < c->m; j++)
        if (x[ycol[j]] > 0.5) r->sites[r->nsites++] = (uint32_t)j;
    return CS_OK;
}

/* ------------------------------------------------------------ p-median */

typedef struct dj {
    double d;
    uint32_t j;
} dj;

static int cmp_dj(const void *a, const void *b)
{
    const dj *x = a, *y = b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

cs_status fac_glpk_pmedian(const fac_ctx *c, const uint32_t *init, double init_obj, const uint8_t *closed,
                           const uint8_t *opened, fac_result *r)
{
    size_t n = c->n, m = c->m, P = c->P;
    size_t mopen = 0; /* candidates not fixed closed */
    for (size_t j = 0; j < m; j++) mopen += !(closed && closed[j]);
    double t0 = fac_now();
    mdl M = {0};
    M.dir = GLP_MIN;
    int *ycol = cs_mallocarray(m, sizeof *ycol);
    dj *row = cs_mallocarray(m, sizeof *row);
    uint8_t *isinit = cs_calloc(m, 1);
    double *x = NULL, *xi = NULL;
    /* remember, per demand point, its first z column and levels to build the incumbent */
    int *zfirst = cs_mallocarray(n, sizeof *zfirst);
    int *zcount = cs_calloc(n, sizeof *zcount);
    double **lev = cs_calloc(n, sizeof *lev);
    cs_status st = CS_OK;
    if (!ycol || !row || !isinit || !zfirst || !zcount || !lev) {
        st = CS_ENOMEM;
        goto out;
    }
    if (mopen < P) {
        st = cs_error_set(CS_EINVAL, "p-median reduction left fewer candidates than sites");
        goto out;
    }
    for (size_t j = 0; j < m; j++) {
        int cl = closed && closed[j], op = c->fixed[j] || (opened && opened[j]);
        ycol[j] = cl ? 0 : mdl_col(&M, op ? 1 : 0, 1, 0, 1);
    }
    int card = mdl_row(&M, GLP_FX, (double)P, (double)P);
    for (size_t j = 0; j < m; j++)
        if (ycol[j]) mdl_nz(&M, card, ycol[j], 1.0);
    for (size_t i = 0; i < n; i++) {
        zfirst[i] = 0;
        if (c->w[i] <= 0) continue;
        size_t r_ = 0;
        for (size_t j = 0; j < m; j++)
            if (ycol[j] && isfinite(c->d[i * m + j])) row[r_++] = (dj){c->d[i * m + j], (uint32_t)j};
        if (r_ == 0) {
            st = cs_error_set(CS_EINFEASIBLE, "p-median: demand point '%s' reaches no candidate site",
                              c->prob->cost->row_ids ? c->prob->cost->row_ids[i] : "?");
            goto out;
        }
        qsort(row, r_, sizeof *row, cmp_dj);
        /* nearest open facility has rank <= m'-P+1 among the m' candidates left */
        size_t rank = mopen - P + 1 < r_ ? mopen - P + 1 : r_;
        double dmax = row[rank - 1].d;
        /* distinct levels D^1 < ... < D^K with D^K = dmax */
        size_t K = 0;
        double *L = cs_mallocarray(rank, sizeof *L);
        if (!L) {
            st = CS_ENOMEM;
            goto out;
        }
        lev[i] = L;
        for (size_t q = 0; q < r_ && row[q].d <= dmax; q++)
            if (K == 0 || L[K - 1] != row[q].d) L[K++] = row[q].d;
        zcount[i] = (int)K - 1;
        M.obj0 += c->w[i] * L[0];
        int zprev = 0;
        size_t q = 0;
        for (size_t k = 0; k < K; k++) {
            int z = 0;
            if (k + 1 < K) {
                z = mdl_col(&M, 0, INFINITY, c->w[i] * (L[k + 1] - L[k]), 0);
                if (k == 0) zfirst[i] = z;
            }
            /* z^k + sum_{d_ij = D^k} y_j - z^{k-1} >= [k == 0] */
            int rr = mdl_row(&M, GLP_LO, k == 0 ? 1.0 : 0.0, 0);
            if (z) mdl_nz(&M, rr, z, 1.0);
            if (zprev) mdl_nz(&M, rr, zprev, -1.0);
            for (; q < r_ && row[q].d == L[k]; q++) mdl_nz(&M, rr, ycol[row[q].j], 1.0);
            zprev = z;
        }
    }
    if (M.oom) {
        st = CS_ENOMEM;
        goto out;
    }
    x = cs_calloc((size_t)M.ncols + 1, sizeof *x);
    if (!x) {
        st = CS_ENOMEM;
        goto out;
    }
    int consistent = init != NULL;
    if (init) {
        for (size_t a = 0; a < P; a++) isinit[init[a]] = 1;
        for (size_t j = 0; j < m; j++)
            if ((isinit[j] && !ycol[j]) || (!isinit[j] && opened && opened[j])) consistent = 0;
    }
    if (consistent) {
        xi = cs_calloc((size_t)M.ncols + 1, sizeof *xi);
        if (!xi) {
            st = CS_ENOMEM;
            goto out;
        }
        for (size_t j = 0; j < m; j++)
            if (ycol[j]) xi[ycol[j]] = isinit[j];
        for (size_t i = 0; i < n; i++) {
            if (!zcount[i]) continue;
            double b = INFINITY;
            for (size_t j = 0; j < m; j++)
                if (isinit[j] && c->d[i * m + j] < b) b = c->d[i * m + j];
            for (int k = 0; k < zcount[i]; k++) xi[zfirst[i] + k] = b > lev[i][k] ? 1.0 : 0.0;
        }
    }
    mip_out o = {.x = x};
    M.prog = c->opts ? &c->opts->progress : NULL;
    if ((st = mdl_solve(&M, xi, 0, remaining(c, t0), mip_gap_opt(c), &o))) goto out;
    /* The reduction removed only regions whose solutions are no better than the incumbent, so the
     * optimum is min(reduced optimum, incumbent) and min(reduced bound, incumbent) is a valid bound. */
    int use_init = 0;
    if (o.status == MIP_INFEASIBLE || o.status == MIP_NOSOLUTION) {
        if (!init) {
            st = o.status == MIP_INFEASIBLE
                     ? cs_error_set(CS_EINFEASIBLE, "p-median infeasible: some demand point cannot reach any site")
                     : cs_error_set(CS_ECONVERGE, "p-median: no integer solution within the time limit");
            goto out;
        }
        use_init = 1;
        if (o.status == MIP_INFEASIBLE) {
            o.status = MIP_OPTIMAL;
            o.bound = init_obj;
        }
    } else if (init && init_obj <= o.obj) {
        use_init = 1;
    }
    fill_result(r, &o);
    if (init) r->bound = isnan(o.bound) ? NAN : fmin(o.bound, init_obj);
    if (use_init) {
        r->objective = init_obj;
        r->sites = cs_mallocarray(P, sizeof *r->sites);
        if (!r->sites) {
            st = CS_ENOMEM;
            goto out;
        }
        memcpy(r->sites, init, P * sizeof *init);
        r->nsites = P;
    } else {
        st = sites_from_y(c, x, ycol, r);
    }
out:
    if (lev)
        for (size_t i = 0; i < n; i++) cs_free(lev[i]);
    cs_free(lev);
    cs_free(zfirst);
    cs_free(zcount);
    cs_free(ycol);
    cs_free(row);
    cs_free(isinit);
    cs_free(x);
    cs_free(xi);
    mdl_free(&M);
    return st;
}

/* ------------------------------------------------- capacitated p-median */

cs_status fac_glpk_cpmedian(const fac_ctx *c, fac_result *r)
{
    size_t n = c->n, m = c->m, P = c->P;
    const double *Q = c->prob->capacity;
    double t0 = fac_now();
    mdl M = {0};
    M.dir = GLP_MIN;
    int *ycol = cs_mallocarray(m, sizeof *ycol);
    int *xcol = cs_calloc(n * m, sizeof *xcol);
    int *caprow = cs_calloc(m, sizeof *caprow);
    double *x = NULL;
    cs_status st = CS_OK;
    if (!ycol || !xcol || !caprow) {
        st = CS_ENOMEM;
        goto out;
    }
    for (size_t j = 0; j < m; j++) ycol[j] = mdl_col(&M, c->fixed[j] ? 1 : 0, 1, 0, 1);
    int card = mdl_row(&M, GLP_FX, (double)P, (double)P);
    for (size_t j = 0; j < m; j++) mdl_nz(&M, card, ycol[j], 1.0);
    for (size_t j = 0; j < m; j++) {
        if (!isfinite(Q[j])) continue;
        caprow[j] = mdl_row(&M, GLP_UP, 0, 0); /* sum_i w_i x_ij - Q_j y_j <= 0 */
        mdl_nz(&M, caprow[j], ycol[j], -Q[j]);
    }
    for (size_t i = 0; i < n; i++) {
        if (c->w[i] <= 0) continue;
        int asg = mdl_row(&M, GLP_FX, 1, 1);
        for (size_t j = 0; j < m; j++) {
            double d = c->d[i * m + j];
            if (!isfinite(d) || (isfinite(Q[j]) && c->w[i] > Q[j])) continue;
            int xc = mdl_col(&M, 0, 1, c->w[i] * d, 1);
            xcol[i * m + j] = xc;
            mdl_nz(&M, asg, xc, 1.0);
            int lk = mdl_row(&M, GLP_UP, 0, 0); /* x_ij - y_j <= 0 */
            mdl_nz(&M, lk, xc, 1.0);
            mdl_nz(&M, lk, ycol[j], -1.0);
            if (caprow[j]) mdl_nz(&M, caprow[j], xc, c->w[i]);
        }
    }
    if (M.oom) {
        st = CS_ENOMEM;
        goto out;
    }
    x = cs_calloc((size_t)M.ncols + 1, sizeof *x);
    if (!x) {
        st = CS_ENOMEM;
        goto out;
    }
    mip_out o = {.x = x};
    M.prog = c->opts ? &c->opts->progress : NULL;
    if ((st = mdl_solve(&M, NULL, 0, remaining(c, t0), mip_gap_opt(c), &o))) goto out;
    if (o.status == MIP_INFEASIBLE) {
        st = cs_error_set(CS_EINFEASIBLE, "capacitated p-median infeasible: the demand does not fit the capacities "
                                          "of any %zu sites", P);
        goto out;
    }
    if (o.status == MIP_NOSOLUTION) {
        st = cs_error_set(CS_ECONVERGE, "capacitated p-median: no integer solution within the time limit");
        goto out;
    }
    fill_result(r, &o);
    if ((st = sites_from_y(c, x, ycol, r))) goto out;
    r->assign = cs_mallocarray(n, sizeof *r->assign);
    if (!r->assign) {
        st = CS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t a = CS_INVALID_ID;
        if (c->w[i] > 0) {
            for (size_t j = 0; j < m; j++)
                if (xcol[i * m + j] && x[xcol[i * m + j]] > 0.5) a = (uint32_t)j;
        } else {
            /* zero demand uses no capacity: nearest open site */
            double b = INFINITY;
            for (size_t s = 0; s < r->nsites; s++)
                if (c->d[i * m + r->sites[s]] < b) {
                    b = c->d[i * m + r->sites[s]];
                    a = r->sites[s];
                }
        }
        r->assign[i] = a;
    }
out:
    cs_free(ycol);
    cs_free(xcol);
    cs_free(caprow);
    cs_free(x);
    mdl_free(&M);
    return st;
}

/* ------------------------------------------------------------------ MCLP */

static cs_status mclp_model(const fac_ctx *c, double radius, size_t P, const uint32_t *init, int lp_only, fac_result *r);

cs_status fac_glpk_mclp(const fac_ctx *c, double radius, size_t P, const uint32_t *init, fac_result *r)
{
    return mclp_model(c, radius, P, init, 0, r);
}

cs_status fac_glpk_mclp_lp(const fac_ctx *c, double radius, size_t P, double *bound)
{
    fac_result r;
    memset(&r, 0, sizeof r);
    r.bound = NAN;
    cs_status st = mclp_model(c, radius, P, NULL, 1, &r);
    *bound = r.bound;
    fac_result_clear(&r);
    return st;
}

static cs_status mclp_model(const fac_ctx *c, double radius, size_t P, const uint32_t *init, int lp_only, fac_result *r)
{
    size_t n = c->n, m = c->m;
    double t0 = fac_now();
    mdl M = {0};
    M.dir = GLP_MAX;
    int *ycol = cs_mallocarray(m, sizeof *ycol);
    int *ccol = cs_calloc(n, sizeof *ccol);
    double *x = NULL, *xi = NULL;
    cs_status st = CS_OK;
    if (!ycol || !ccol) {
        st = CS_ENOMEM;
        goto out;
    }
    for (size_t j = 0; j < m; j++) ycol[j] = mdl_col(&M, c->fixed[j] ? 1 : 0, 1, 0, 1);
    int card = mdl_row(&M, GLP_FX, (double)P, (double)P);
    for (size_t j = 0; j < m; j++) mdl_nz(&M, card, ycol[j], 1.0);
    for (size_t i = 0; i < n; i++) {
        if (c->w[i] <= 0) continue;
        int any = 0;
        for (size_t j = 0; j < m && !any; j++) any = c->d[i * m + j] <= radius;
        if (!any) continue;
        ccol[i] = mdl_col(&M, 0, 1, c->w[i], 0);
        int rr = mdl_row(&M, GLP_UP, 0, 0); /* c_i - sum_{d_ij <= S} y_j <= 0 */
        mdl_nz(&M, rr, ccol[i], 1.0);
        for (size_t j = 0; j < m; j++)
            if (c->d[i * m + j] <= radius) mdl_nz(&M, rr, ycol[j], -1.0);
    }
    if (M.oom) {
        st = CS_ENOMEM;
        goto out;
    }
    x = cs_calloc((size_t)M.ncols + 1, sizeof *x);
    xi = cs_calloc((size_t)M.ncols + 1, sizeof *xi);
    if (!x || !xi) {
        st = CS_ENOMEM;
        goto out;
    }
    if (init) {
        for (size_t a = 0; a < P; a++) xi[ycol[init[a]]] = 1;
        for (size_t i = 0; i < n; i++) {
            if (!ccol[i]) continue;
            for (size_t a = 0; a < P; a++)
                if (c->d[i * m + init[a]] <= radius) xi[ccol[i]] = 1;
        }
    }
    mip_out o = {.x = x};
    M.lp_only = lp_only;
    M.prog = c->opts ? &c->opts->progress : NULL;
    if ((st = mdl_solve(&M, init ? xi : NULL, 0, remaining(c, t0), mip_gap_opt(c), &o))) goto out;
    if (lp_only) {
        r->bound = o.bound;
        goto out;
    }
    if (o.status == MIP_INFEASIBLE) {
        st = cs_error_set(CS_EINFEASIBLE, "maximal covering infeasible");
        goto out;
    }
    if (o.status == MIP_NOSOLUTION) {
        if (!init) {
            st = cs_error_set(CS_ECONVERGE, "maximal covering: no integer solution within the time limit");
            goto out;
        }
        memcpy(x, xi, ((size_t)M.ncols + 1) * sizeof *x);
    }
    fill_result(r, &o);
    st = sites_from_y(c, x, ycol, r);
out:
    cs_free(ycol);
    cs_free(ccol);
    cs_free(x);
    cs_free(xi);
    mdl_free(&M);
    return st;
}

/* ------------------------------------------------------------------- SCP */

/* Set cover MIP of radius `radius`: min new sites; with limit >= 0 also sum new y <= limit and stop at
 * the first integer solution (feasibility question of the p-center search). */
static cs_status scp_mip(const fac_ctx *c, double radius, long limit, const uint32_t *init, size_t ninit, double tlim,
                         mip_out *o, fac_result *r)
{
    size_t n = c->n, m = c->m;
    mdl M = {0};
    M.dir = GLP_MIN;
    int *ycol = cs_mallocarray(m, sizeof *ycol);
    uint8_t *covered = cs_calloc(n, 1);
    double *x = NULL, *xi = NULL;
    cs_status st = CS_OK;
    if (!ycol || !covered) {
        st = CS_ENOMEM;
        goto out;
    }
    for (size_t j = 0; j < m; j++) ycol[j] = mdl_col(&M, c->fixed[j] ? 1 : 0, 1, c->fixed[j] ? 0 : 1, 1);
    if (limit >= 0) {
        int lr = mdl_row(&M, GLP_UP, 0, (double)limit);
        for (size_t j = 0; j < m; j++)
            if (!c->fixed[j]) mdl_nz(&M, lr, ycol[j], 1.0);
    }
    for (size_t i = 0; i < n; i++) {
        if (c->w[i] <= 0) continue;
        for (size_t k = 0; k < c->nfixed && !covered[i]; k++) covered[i] = c->d[i * m + c->fixed_list[k]] <= radius;
        if (covered[i]) continue;
        int rr = mdl_row(&M, GLP_LO, 1, 0);
        for (size_t j = 0; j < m; j++)
            if (c->d[i * m + j] <= radius) mdl_nz(&M, rr, ycol[j], 1.0);
    }
    if (M.oom) {
        st = CS_ENOMEM;
        goto out;
    }
    x = cs_calloc((size_t)M.ncols + 1, sizeof *x);
    if (!x) {
        st = CS_ENOMEM;
        goto out;
    }
    if (init) {
        xi = cs_calloc((size_t)M.ncols + 1, sizeof *xi);
        if (!xi) {
            st = CS_ENOMEM;
            goto out;
        }
        for (size_t a = 0; a < ninit; a++) xi[ycol[init[a]]] = 1;
    }
    o->x = x;
    M.lp_only = limit == -2; /* LP relaxation only (heuristic's bound) */
    M.prog = c->opts ? &c->opts->progress : NULL;
    if ((st = mdl_solve(&M, xi, limit >= 0, tlim, limit >= 0 ? 0 : mip_gap_opt(c), o))) goto out;
    if (M.lp_only) goto out;
    if (o->status == MIP_NOSOLUTION && xi && limit < 0) {
        memcpy(x, xi, ((size_t)M.ncols + 1) * sizeof *x);
        o->obj = NAN;
    } else if (o->status == MIP_NOSOLUTION || o->status == MIP_INFEASIBLE) {
        goto out;
    }
    fill_result(r, o);
    st = sites_from_y(c, x, ycol, r);
out:
    o->x = NULL;
    cs_free(ycol);
    cs_free(covered);
    cs_free(x);
    cs_free(xi);
    mdl_free(&M);
    return st;
}

cs_status fac_glpk_scp_lp(const fac_ctx *c, double radius, double *bound)
{
    mip_out o = {0};
    fac_result r;
    memset(&r, 0, sizeof r);
    cs_status st = scp_mip(c, radius, -2, NULL, 0, remaining(c, fac_now()), &o, &r);
    *bound = o.bound;
    fac_result_clear(&r);
    return st;
}

cs_status fac_glpk_scp(const fac_ctx *c, double radius, const uint32_t *init, size_t ninit, fac_result *r)
{
    double t0 = fac_now();
    mip_out o = {0};
    cs_status st = scp_mip(c, radius, -1, init, ninit, remaining(c, t0), &o, r);
    if (st) return st;
    if (o.status == MIP_INFEASIBLE)
        return cs_error_set(CS_EINFEASIBLE, "set covering infeasible within radius %g", radius);
    if (o.status == MIP_NOSOLUTION)
        return cs_error_set(CS_ECONVERGE, "set covering: no integer solution within the time limit");
    /* objective counts new sites; the MIP objective has no constant, so it is the same */
    r->objective = (double)(r->nsites - c->nfixed);
    return CS_OK;
}

/* ------------------------------------------------------------- p-center */

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

cs_status fac_glpk_pcenter(const fac_ctx *c, const uint32_t *init, double init_obj, fac_result *r)
{
    size_t n = c->n, m = c->m, P = c->P;
    double t0 = fac_now();
    /* candidate radii: distinct finite times of weighted rows, between the lower bound (max over i of
     * its nearest candidate) and the heuristic value */
    double lb = 0;
    for (size_t i = 0; i < n; i++) {
        if (c->w[i] <= 0) continue;
        double b = INFINITY;
        for (size_t j = 0; j < m; j++) b = fmin(b, c->d[i * m + j]);
        lb = fmax(lb, b);
    }
    size_t nv = 0;
    double *vals = cs_mallocarray(n * m, sizeof *vals);
    if (!vals) return CS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (c->w[i] <= 0) continue;
        for (size_t j = 0; j < m; j++) {
            double v = c->d[i * m + j];
            if (isfinite(v) && v >= lb && v <= init_obj) vals[nv++] = v;
        }
    }
    qsort(vals, nv, sizeof *vals, cmp_dbl);
    size_t u = 0;
    for (size_t q = 0; q < nv; q++)
        if (u == 0 || vals[u - 1] != vals[q]) vals[u++] = vals[q];
    nv = u;
    r->sites = cs_mallocarray(P, sizeof *r->sites);
    if (!r->sites) {
        cs_free(vals);
        return CS_ENOMEM;
    }
    memcpy(r->sites, init, P * sizeof *init);
    r->nsites = P;
    cs_status st = CS_OK;
    /* vals[hi] is feasible (the heuristic value); hi == nv: no feasible radius known yet */
    size_t lo = 0, hi = isfinite(init_obj) && nv ? nv - 1 : nv;
    int stopped = 0, steps = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double tl = c->opts && c->opts->time_limit_s > 0 ? remaining(c, t0) : 0;
        if (c->opts && c->opts->time_limit_s > 0 && fac_now() - c->t0 >= c->opts->time_limit_s) {
            stopped = 1;
            break;
        }
        mip_out o = {0};
        fac_result sub;
        memset(&sub, 0, sizeof sub);
        st = scp_mip(c, vals[mid], (long)(P - c->nfixed), NULL, 0, tl, &o, &sub);
        steps++;
        if (st) {
            fac_result_clear(&sub);
            break;
        }
        if (o.status == MIP_OPTIMAL || o.status == MIP_FEASIBLE) {
            hi = mid;
            /* pad the cover to P sites with the lowest-index closed candidates (never worse) */
            uint8_t *isopen = cs_calloc(m, 1);
            if (!isopen) {
                fac_result_clear(&sub);
                st = CS_ENOMEM;
                break;
            }
            size_t k = 0;
            for (size_t a = 0; a < sub.nsites && k < P; a++) {
                r->sites[k++] = sub.sites[a];
                isopen[sub.sites[a]] = 1;
            }
            for (size_t j = 0; j < m && k < P; j++)
                if (!isopen[j]) r->sites[k++] = (uint32_t)j;
            cs_free(isopen);
        } else if (o.status == MIP_INFEASIBLE) {
            lo = mid + 1;
        } else {
            stopped = 1; /* time limit without a decision */
            fac_result_clear(&sub);
            break;
        }
        fac_result_clear(&sub);
        if ((st = fac_progress(c, "p-center search", (double)steps, log2((double)nv + 1) + 1))) break;
    }
    if (!st && hi == nv && !stopped) {
        st = cs_error_set(CS_EINFEASIBLE, "p-center: there is no set of %zu sites reaching every demand point", P);
    } else if (!st && hi == nv) {
        st = cs_error_set(CS_ECONVERGE, "p-center: no feasible radius found within the time limit");
    } else if (!st) {
        r->objective = nv ? vals[hi] : init_obj;
        r->bound = nv ? vals[lo] : init_obj;
        r->optimal = !stopped;
        r->time_limited = stopped;
        snprintf(r->bound_kind, sizeof r->bound_kind, "mip");
        snprintf(r->message, sizeof r->message, "GLPK %s: binary search over %zu radii, %d set-covering MIPs%s",
                 glp_version(), nv, steps, stopped ? ", stopped by the time limit" : "");
    }
    cs_free(vals);
    return st;
}

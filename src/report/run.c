/*
 * run.c: the main job (run.h) — a list of steps, each cached by fingerprint,
 * written into a temporary folder that is swapped into place at the end with
 * manifest.json written last. Design: docs/architecture.md ("The main job").
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "citysys/alloc.h"
#include "citysys/cityio.h"
#include "citysys/run.h"
#include "report/run_steps.h"

/* Declared in project.h; defined here so that the project parser (src/io/project.c) does not depend on
 * the city readers (it is fuzzed and unit-tested on its own). */
cs_status cs_project_read_cities(const cs_project *p, cs_diag *diag, cs_cities **out)
{
    return cs_cities_read(cs_project_cities_path(p), cs_project_city_read_opts(p), diag, out);
}

/* ------------------------------------------------------------ steps */

/* validate: read the city table (with joins) and every link table; all problems to diag. */
static cs_status validate_hash(const cs_run_ctx *ctx, cs_sha256 *h)
{
    cs_status st = cs_project_hash_section(ctx->project, "cities", h);
    if (!st) st = cs_project_hash_section(ctx->project, "links", h);
    return st;
}

static cs_status validate_run(cs_run_ctx *ctx, const char *dir)
{
    (void)dir;
    const cs_project *p = ctx->project;
    cs_status st = cs_project_read_cities(p, ctx->diag, &ctx->cities);
    cs_status sc = cs_run_check_sections(ctx);
    if (sc && st == CS_OK) st = sc;
    size_t nl = cs_project_nlinks(p);
    if (nl) {
        ctx->links = cs_calloc(nl, sizeof *ctx->links);
        if (!ctx->links) return CS_ENOMEM;
        ctx->nlinks = nl;
        if (st == CS_OK) {
            /* link tables resolve city ids, so they can only be checked against a valid city table */
            for (size_t i = 0; i < nl; i++) {
                const cs_project_links *pl = cs_project_link(p, i);
                cs_status s2 = cs_links_read(pl->path, ctx->cities, &pl->fields, ctx->diag, &ctx->links[i]);
                if (s2 && st == CS_OK) st = s2;
            }
        }
    }
    return st;
}

/* export: the city table with every input column, and the link tables, in each format of outputs.formats.
 * Depends on the validate step (chained) and on the `outputs` section. */
static cs_status export_hash(const cs_run_ctx *ctx, cs_sha256 *h)
{
    return cs_project_hash_section(ctx->project, "outputs", h);
}

static cs_status export_run(cs_run_ctx *ctx, const char *dir)
{
    size_t nf;
    const cs_vector_format *f = cs_project_output_formats(ctx->project, &nf);
    for (size_t i = 0; i < nf; i++) {
        char *path = cs_asprintf("%s/cities.%s", dir, cs_project_format_ext(f[i]));
        if (!path) return CS_ENOMEM;
        cs_status st = cs_cities_write(ctx->cities, path, f[i], "cities");
        cs_free(path);
        if (st) return st;
        /* each link table as lines between its cities: links.EXT, or links_1.EXT, links_2.EXT, ... */
        for (size_t k = 0; k < ctx->nlinks; k++) {
            char *lp = ctx->nlinks == 1 ? cs_asprintf("%s/links.%s", dir, cs_project_format_ext(f[i]))
                                        : cs_asprintf("%s/links_%zu.%s", dir, k + 1, cs_project_format_ext(f[i]));
            if (!lp) return CS_ENOMEM;
            st = cs_links_write(ctx->links[k], ctx->cities, lp, f[i], "links");
            cs_free(lp);
            if (st) return st;
        }
    }
    return CS_OK;
}

static const cs_run_step step_validate = {"validate", 1, 0, NULL, validate_hash, validate_run, NULL};
static const cs_run_step step_export = {"export", 2, 1, NULL, export_hash, export_run, NULL};

/* The run order. Later modules add one entry each (docs/architecture.md). */
static const cs_run_step *const steps[] = {
    &step_validate,
    &cs_step_network,
    &cs_step_matrix,
    &cs_step_indicators,
    &cs_step_typology,
    &cs_step_flows,
    &cs_step_scenarios,
    &cs_step_portfolio,
    &cs_step_facilities,
    &step_export, /* late: a change of output formats must not redo the analyses (fingerprints chain) */
    &cs_step_report,
};
#define NSTEPS (sizeof steps / sizeof steps[0])

size_t cs_run_nsteps(void) { return NSTEPS; }
const char *cs_run_step_name(size_t i) { return i < NSTEPS ? steps[i]->name : NULL; }

void cs_run_opts_init(cs_run_opts *o)
{
    memset(o, 0, sizeof *o);
}

/* ------------------------------------------------------------ helpers */

typedef struct file_list {
    char **names;
    size_t n;
} file_list;

static void fl_free(file_list *fl)
{
    for (size_t i = 0; i < fl->n; i++) cs_free(fl->names[i]);
    cs_free(fl->names);
    fl->names = NULL;
    fl->n = 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Regular files of dir (not starting with '.', not step.json), sorted. */
static cs_status list_files(const char *dir, file_list *fl)
{
    fl->names = NULL;
    fl->n = 0;
    DIR *d = opendir(dir);
    if (!d) return cs_error_set_at(CS_EIO, dir, 0, 0, "cannot list folder: %s", strerror(errno));
    struct dirent *e;
    size_t cap = 0;
    cs_status st = CS_OK;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "step.json")) continue;
        char *full = cs_asprintf("%s/%s", dir, e->d_name);
        struct stat sb;
        int reg = full && stat(full, &sb) == 0 && S_ISREG(sb.st_mode);
        cs_free(full);
        if (!reg) continue;
        if (fl->n == cap) {
            cap = cap ? 2 * cap : 8;
            char **nn = cs_reallocarray(fl->names, cap, sizeof *nn);
            if (!nn) {
                st = CS_ENOMEM;
                break;
            }
            fl->names = nn;
        }
        if (!(fl->names[fl->n] = cs_strdup(e->d_name))) {
            st = CS_ENOMEM;
            break;
        }
        fl->n++;
    }
    closedir(d);
    if (st) fl_free(fl);
    else if (fl->n) qsort(fl->names, fl->n, sizeof *fl->names, cmp_str);
    return st;
}

static cs_status file_sha256(const char *path, char hex[65], long long *size)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return cs_error_set_at(CS_EIO, path, 0, 0, "%s", strerror(errno));
    *size = (long long)sb.st_size;
    cs_sha256 h;
    cs_sha256_init(&h);
    cs_status st = cs_sha256_file(&h, path);
    if (st) return st;
    cs_sha256_hex(&h, hex);
    return CS_OK;
}

static cs_status copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (!in) return cs_error_set_at(CS_EIO, from, 0, 0, "cannot read: %s", strerror(errno));
    FILE *out = fopen(to, "wbx");
    if (!out) {
        int e = errno;
        fclose(in);
        return cs_error_set_at(CS_EIO, to, 0, 0, "cannot create: %s", strerror(e));
    }
    char buf[1 << 16];
    size_t n;
    cs_status st = CS_OK;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (fwrite(buf, 1, n, out) != n) {
            st = cs_error_set_at(CS_EIO, to, 0, 0, "write failed: %s", strerror(errno));
            break;
        }
    }
    if (!st && ferror(in)) st = cs_error_set_at(CS_EIO, from, 0, 0, "read failed");
    fclose(in);
    if (fclose(out) != 0 && !st) st = cs_error_set_at(CS_EIO, to, 0, 0, "write failed: %s", strerror(errno));
    return st;
}

static cs_status write_json(const char *path, json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    if (!s) return cs_error_set(CS_ENOMEM, "out of memory writing %s", path);
    char *t = cs_asprintf("%s\n", s);
    free(s);
    if (!t) return CS_ENOMEM;
    cs_status st = cs_write_file_atomic(path, t, strlen(t));
    cs_free(t);
    return st;
}

/* Does dir hold a valid cache entry for fingerprint fp? */
static int cache_entry_valid(const char *dir, const char *fp)
{
    char *sj = cs_asprintf("%s/step.json", dir);
    if (!sj) return 0;
    json_error_t je;
    json_t *j = json_load_file(sj, 0, &je);
    cs_free(sj);
    if (!j) return 0;
    int ok = json_is_string(json_object_get(j, "fingerprint")) &&
             !strcmp(json_string_value(json_object_get(j, "fingerprint")), fp);
    json_t *files = json_object_get(j, "files");
    ok = ok && json_is_array(files);
    for (size_t i = 0; ok && i < json_array_size(files); i++) {
        json_t *f = json_array_get(files, i);
        const char *name = json_string_value(json_object_get(f, "path"));
        const char *sha = json_string_value(json_object_get(f, "sha256"));
        json_t *size = json_object_get(f, "size");
        if (!name || !sha || !json_is_integer(size) || strchr(name, '/')) {
            ok = 0;
            break;
        }
        char *path = cs_asprintf("%s/%s", dir, name);
        char hex[65];
        long long sz = -1;
        ok = path && file_sha256(path, hex, &sz) == CS_OK && sz == json_integer_value(size) && !strcmp(hex, sha);
        cs_free(path);
    }
    json_decref(j);
    cs_error_clear();
    return ok;
}

/* Write step.json (the entry's completion record) describing the files of dir. */
static cs_status write_step_json(const char *dir, const cs_run_step *s, const char *fp)
{
    file_list fl;
    cs_status st = list_files(dir, &fl);
    if (st) return st;
    json_t *j = json_object(), *files = json_array();
    if (!j || !files) st = CS_ENOMEM;
    if (!st) {
        json_object_set_new(j, "step", json_string(s->name));
        json_object_set_new(j, "version", json_integer(s->version));
        json_object_set_new(j, "fingerprint", json_string(fp));
        json_object_set_new(j, "citysys", json_string(cs_version()));
        json_object_set(j, "files", files);
    }
    for (size_t i = 0; !st && i < fl.n; i++) {
        char *path = cs_asprintf("%s/%s", dir, fl.names[i]);
        char hex[65];
        long long sz = 0;
        st = path ? file_sha256(path, hex, &sz) : CS_ENOMEM;
        cs_free(path);
        if (st) break;
        json_t *f = json_object();
        json_object_set_new(f, "path", json_string(fl.names[i]));
        json_object_set_new(f, "size", json_integer(sz));
        json_object_set_new(f, "sha256", json_string(hex));
        json_array_append_new(files, f);
    }
    if (!st) {
        char *sj = cs_asprintf("%s/step.json", dir);
        st = sj ? write_json(sj, j) : CS_ENOMEM;
        cs_free(sj);
    }
    json_decref(files);
    json_decref(j);
    fl_free(&fl);
    return st;
}

/* Copy every output file of srcdir into the run's temporary output folder. */
static cs_status publish(const char *srcdir, const char *outtmp)
{
    file_list fl;
    cs_status st = list_files(srcdir, &fl);
    for (size_t i = 0; !st && i < fl.n; i++) {
        char *a = cs_asprintf("%s/%s", srcdir, fl.names[i]);
        char *b = cs_asprintf("%s/%s", outtmp, fl.names[i]);
        st = (a && b) ? copy_file(a, b) : CS_ENOMEM;
        cs_free(a);
        cs_free(b);
    }
    fl_free(&fl);
    return st;
}

static char *parent_dir(const char *path)
{
    char *c = cs_strdup(path);
    if (!c) return NULL;
    size_t L = strlen(c);
    while (L > 1 && c[L - 1] == '/') c[--L] = 0;
    char *s = strrchr(c, '/');
    if (!s) {
        cs_free(c);
        return cs_strdup(".");
    }
    if (s == c) s[1] = 0;
    else *s = 0;
    return c;
}

/* The output folder may be created or replaced only if it is absent, empty or an earlier citysys output. */
static cs_status check_outdir(const char *outdir)
{
    struct stat sb;
    if (stat(outdir, &sb) != 0) return CS_OK;
    if (!S_ISDIR(sb.st_mode)) return cs_error_set_at(CS_EINVAL, outdir, 0, 0, "exists and is not a folder");
    char *m = cs_asprintf("%s/manifest.json", outdir);
    if (!m) return CS_ENOMEM;
    int has = stat(m, &sb) == 0, ours = 0;
    if (has) {
        /* only a citysys manifest marks a folder citysys may replace (web projects have manifest.json too) */
        json_error_t je;
        json_t *j = json_load_file(m, 0, &je);
        const char *fmt = json_string_value(json_object_get(j, "format"));
        ours = fmt && !strcmp(fmt, "citysys-manifest");
        json_decref(j);
    }
    cs_free(m);
    if (ours) return CS_OK;
    if (has)
        return cs_error_set_at(CS_EINVAL, outdir, 0, 0,
                               "refusing to replace this folder: its manifest.json is not a citysys manifest; "
                               "choose another -o folder");
    DIR *d = opendir(outdir);
    if (!d) return cs_error_set_at(CS_EIO, outdir, 0, 0, "cannot open folder: %s", strerror(errno));
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(d);
    if (!empty)
        return cs_error_set_at(CS_EINVAL, outdir, 0, 0,
                               "refusing to replace this folder: it is not empty and has no manifest.json "
                               "(not a citysys output folder); choose another -o folder");
    return CS_OK;
}

static json_t *versions_json(void)
{
    json_t *o = json_object();
    if (!o) return NULL;
    const char *s = cs_dependency_versions();
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t L = nl ? (size_t)(nl - s) : strlen(s);
        const char *sp = memchr(s, ' ', L);
        if (sp) {
            char name[64], ver[128];
            snprintf(name, sizeof name, "%.*s", (int)(sp - s), s);
            snprintf(ver, sizeof ver, "%.*s", (int)(L - (size_t)(sp - s) - 1), sp + 1);
            json_object_set_new(o, name, json_string(ver));
        }
        s += L;
        if (*s == '\n') s++;
    }
    return o;
}

static cs_status write_manifest(const cs_run_ctx *ctx, const char *outtmp, const char *projfp, json_t *jsteps)
{
    const cs_project *p = ctx->project;
    cs_status st = CS_OK;
    json_t *m = json_object();
    json_t *cs = json_object(), *proj = json_object(), *inputs = json_array(), *outputs = json_array();
    if (!m || !cs || !proj || !inputs || !outputs) {
        json_decref(m);
        json_decref(cs);
        json_decref(proj);
        json_decref(inputs);
        json_decref(outputs);
        return cs_error_set(CS_ENOMEM, "out of memory");
    }
    json_object_set_new(m, "format", json_string("citysys-manifest"));
    json_object_set_new(m, "manifest_version", json_integer(1));
    json_object_set_new(cs, "version", json_string(cs_version()));
    json_object_set_new(cs, "dependencies", versions_json());
    json_object_set_new(m, "citysys", cs);
    json_object_set_new(proj, "name", json_string(cs_project_name(p)));
    json_object_set_new(proj, "file", json_string(cs_project_path(p)));
    json_object_set_new(proj, "schema_version", json_integer(CS_PROJECT_SCHEMA_VERSION));
    json_object_set_new(proj, "fingerprint", json_string(projfp));
    json_object_set_new(m, "project", proj);
    for (size_t i = 0; !st && i < cs_project_ninputs(p); i++) {
        const cs_project_input *in = cs_project_input_at(p, i);
        char hex[65];
        long long sz = 0;
        st = file_sha256(in->path, hex, &sz);
        if (st) break;
        json_t *f = json_object();
        json_object_set_new(f, "key", json_string(in->keypath));
        json_object_set_new(f, "path", json_string(in->given));
        json_object_set_new(f, "size", json_integer(sz));
        json_object_set_new(f, "sha256", json_string(hex));
        json_array_append_new(inputs, f);
    }
    json_object_set_new(m, "inputs", inputs);
    json_object_set(m, "steps", jsteps);
    file_list fl = {NULL, 0};
    if (!st) st = list_files(outtmp, &fl);
    for (size_t i = 0; !st && i < fl.n; i++) {
        char *path = cs_asprintf("%s/%s", outtmp, fl.names[i]);
        char hex[65];
        long long sz = 0;
        st = path ? file_sha256(path, hex, &sz) : CS_ENOMEM;
        cs_free(path);
        if (st) break;
        json_t *f = json_object();
        json_object_set_new(f, "path", json_string(fl.names[i]));
        json_object_set_new(f, "size", json_integer(sz));
        json_object_set_new(f, "sha256", json_string(hex));
        json_array_append_new(outputs, f);
    }
    fl_free(&fl);
    json_object_set_new(m, "outputs", outputs);
    if (!st) {
        char *mp = cs_asprintf("%s/manifest.json", outtmp);
        st = mp ? write_json(mp, m) : CS_ENOMEM;
        cs_free(mp);
    }
    json_decref(m);
    return st;
}

static int report(const cs_run_ctx *ctx, const char *stage, double done, double total)
{
    return ctx->progress.fn ? ctx->progress.fn(ctx->progress.user, stage, done, total) : 0;
}

/* Run one cached step: reuse a valid entry or compute into a new atomic entry, then publish. */
static cs_status run_cached(cs_run_ctx *ctx, const cs_run_step *s, const char *cache, const char *fp,
                            const char *outtmp, int *reused)
{
    *reused = 0;
    cs_status st = cs_mkdir_p(cache);
    if (st) return st;
    char *entry = cs_asprintf("%s/%s-%s", cache, s->name, fp);
    if (!entry) return CS_ENOMEM;
    int fresh = !cache_entry_valid(entry, fp);
    if (!fresh) {
        *reused = 1;
        if (s->load) st = s->load(ctx, entry);
        if (st == CS_EFORMAT) {
            /* an entry this build cannot read (e.g. a file format of another build of the same version):
               compute the step again into a new entry, which replaces it */
            cs_error_clear();
            *reused = 0;
            fresh = 1;
            st = CS_OK;
        }
    }
    if (fresh) {
        cs_atomic_dir *ad = NULL;
        st = cs_atomic_dir_begin(entry, &ad);
        if (!st) st = s->run(ctx, cs_atomic_dir_path(ad));
        if (!st) st = write_step_json(cs_atomic_dir_path(ad), s, fp);
        if (!st) st = cs_atomic_dir_commit(ad);
        else cs_atomic_dir_abort(ad);
    }
    if (!st) st = publish(entry, outtmp);
    cs_free(entry);
    return st;
}

/* cs_run; with keep != NULL the output folder is dropped at the end and the context handed to *keep. */
static cs_status run_impl(const cs_project *p, const char *outdir, const cs_run_opts *opts, cs_diag *diag,
                          cs_run_summary *summary, cs_run_ctx *keep)
{
    if (!p || !outdir || !*outdir) return cs_error_set(CS_EINVAL, "cs_run: no project or output folder");
    cs_run_opts defaults;
    cs_run_opts_init(&defaults);
    if (!opts) opts = &defaults;
    cs_run_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.project = p;
    ctx.diag = diag;
    ctx.progress = opts->progress;

    char projfp[65] = "";
    char *cache = NULL;
    cs_atomic_dir *ad = NULL;
    json_t *jsteps = json_array();
    size_t nrun = 0, nreused = 0, ncached = 0;
    cs_status st = jsteps ? CS_OK : cs_error_set(CS_ENOMEM, "out of memory");
    if (!st) st = check_outdir(outdir);
    if (!st) st = cs_project_fingerprint(p, projfp);
    if (!st && !opts->no_cache) {
        if (opts->cache_dir) {
            cache = cs_strdup(opts->cache_dir);
        } else {
            char *par = parent_dir(outdir);
            cache = par ? cs_asprintf("%s/.citysys-cache", par) : NULL;
            cs_free(par);
        }
        if (!cache) st = CS_ENOMEM; /* created by the first cached step: invalid input writes nothing */
    }

    /* chain: fingerprint_i = H(citysys version, step name, step version, fingerprint_{i-1}, step inputs and parameters) */
    char prev[65] = "";
    size_t last = NSTEPS;
    if (!st && opts && opts->until) {
        for (size_t i = 0; i < NSTEPS; i++)
            if (!strcmp(steps[i]->name, opts->until)) last = i + 1;
        if (last == NSTEPS && strcmp(steps[NSTEPS - 1]->name, opts->until))
            st = cs_error_set(CS_EINVAL, "no step named '%s'", opts->until);
    }
    for (size_t i = 0; !st && i < last; i++) {
        const cs_run_step *s = steps[i];
        if (s->wanted && !s->wanted(&ctx)) continue;
        if (report(&ctx, s->name, (double)i, (double)NSTEPS)) {
            st = cs_error_set(CS_ECANCELED, "run cancelled");
            break;
        }
        cs_sha256 h;
        cs_sha256_init(&h);
        cs_sha256_str(&h, "citysys-step-v1");
        cs_sha256_str(&h, cs_version()); /* a new release never reuses an older release's entries */
        cs_sha256_str(&h, s->name);
        char ver[32];
        snprintf(ver, sizeof ver, "%u", s->version);
        cs_sha256_str(&h, ver);
        cs_sha256_str(&h, prev);
        if (s->hash) st = s->hash(&ctx, &h);
        if (st) break;
        char fp[65];
        cs_sha256_hex(&h, fp);
        /* the output folder is begun only once the inputs are valid: nothing is written for bad input */
        if (!ad && s->cached) {
            st = cs_atomic_dir_begin(outdir, &ad);
            if (st) break;
        }
        int reused = 0;
        if (s->cached && cache) {
            st = run_cached(&ctx, s, cache, fp, cs_atomic_dir_path(ad), &reused);
        } else if (s->cached) {
            st = s->run(&ctx, cs_atomic_dir_path(ad));
        } else {
            /* in-memory step (validate): writes nothing; its outputs are in the context */
            st = s->run(&ctx, ad ? cs_atomic_dir_path(ad) : NULL);
        }
        if (st) {
            if (st != CS_EPARSE && cs_error_last()->status == st) cs_error_prefix("step %s: ", s->name);
            break;
        }
        nrun++;
        nreused += (size_t)reused;
        ncached += s->cached ? 1u : 0u;
        json_t *js = json_object();
        json_object_set_new(js, "name", json_string(s->name));
        json_object_set_new(js, "version", json_integer(s->version));
        json_object_set_new(js, "fingerprint", json_string(fp));
        json_array_append_new(jsteps, js);
        memcpy(prev, fp, sizeof prev);
    }
    if (keep) {
        /* the caller wants the context, not the outputs */
        cs_atomic_dir_abort(ad);
        json_decref(jsteps);
        cs_free(cache);
        if (!st) {
            *keep = ctx;
            return CS_OK;
        }
        cs_run_ctx_free(&ctx);
        return st;
    }
    if (!st && !ad) st = cs_atomic_dir_begin(outdir, &ad);
    if (!st) st = report(&ctx, "manifest", (double)NSTEPS, (double)NSTEPS) ? cs_error_set(CS_ECANCELED, "run cancelled") : CS_OK;
    if (!st) st = write_manifest(&ctx, cs_atomic_dir_path(ad), projfp, jsteps);
    size_t nout = 0;
    if (!st) {
        file_list fl;
        if (list_files(cs_atomic_dir_path(ad), &fl) == CS_OK) {
            nout = fl.n;
            fl_free(&fl);
        }
        st = cs_atomic_dir_commit(ad);
        ad = NULL;
    }
    cs_atomic_dir_abort(ad);
    if (!st && summary) {
        summary->nsteps = nrun;
        summary->nreused = nreused;
        summary->ncached = ncached;
        summary->noutputs = nout;
        memcpy(summary->fingerprint, projfp, sizeof projfp);
    }
    json_decref(jsteps);
    cs_free(cache);
    cs_run_ctx_free(&ctx);
    return st;
}

cs_status cs_run(const cs_project *p, const char *outdir, const cs_run_opts *opts, cs_diag *diag,
                 cs_run_summary *summary)
{
    return run_impl(p, outdir, opts, diag, summary, NULL);
}

cs_status cs_run_context(const cs_project *p, const cs_run_opts *opts, cs_diag *diag, cs_run_ctx *out)
{
    memset(out, 0, sizeof *out);
    if (!opts || !opts->until) return cs_error_set(CS_EINVAL, "cs_run_context: opts.until is required");
    char *tp = cs_asprintf("%s/citysys-ctx-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
    if (!tp) return CS_ENOMEM;
    cs_status st = run_impl(p, tp, opts, diag, NULL, out);
    cs_free(tp);
    out->diag = NULL;
    out->progress = (cs_progress){NULL, NULL};
    return st;
}

void cs_run_ctx_free(cs_run_ctx *ctx)
{
    if (!ctx) return;
    cs_run_ctx_free_analysis(ctx);
    cs_cities_free(ctx->cities);
    for (size_t i = 0; i < ctx->nlinks; i++) cs_links_free(ctx->links[i]);
    cs_free(ctx->links);
    memset(ctx, 0, sizeof *ctx);
}

/* cli.c: option parsing, help, exit codes, diagnostics and the progress bar. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

int cli_quiet = 0;

static const cli_option *find_opt(const cli_command *cmd, const char *name, size_t len, char sh)
{
    if (!cmd->options) return NULL;
    for (const cli_option *o = cmd->options; o->name; o++) {
        if (sh ? o->short_name == sh : (strlen(o->name) == len && !strncmp(o->name, name, len))) return o;
    }
    return NULL;
}

void cli_print_help(const cli_command *cmd, FILE *out)
{
    fprintf(out, "Usage: %s\n\n%s\n", cmd->usage, cmd->summary);
    if (cmd->description && *cmd->description) fprintf(out, "\n%s\n", cmd->description);
    fprintf(out, "\nOptions:\n");
    if (cmd->options) {
        for (const cli_option *o = cmd->options; o->name; o++) {
            char left[128];
            if (o->short_name)
                snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
            else
                snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
            fprintf(out, "  %-30s %s\n", left, o->help);
        }
    }
    fprintf(out, "  %-30s %s\n", "-q, --quiet", "no progress bar or notes on stderr");
    fprintf(out, "  %-30s %s\n", "-h, --help", "show this help and exit");
    fprintf(out, "\nExit codes: 0 ok, 1 failure, 2 usage, 3 bad input, 4 I/O, 5 infeasible.\n");
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "citysys %s: error: ", cmd ? cmd->name : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'citysys %s --help'.\n", cmd ? cmd->name : "");
    return CLI_EXIT_USAGE;
}

static int add_set(cli_args *a, const char *name, const char *val)
{
    if (a->nset >= CLI_MAX_OPTS) return -1;
    a->set_name[a->nset] = name;
    a->set_value[a->nset] = val;
    a->nset++;
    return 0;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (only_pos || s[0] != '-' || s[1] == 0) {
            if (a->npos >= CLI_MAX_POS) return cli_usage_error(cmd, "too many arguments");
            a->pos[a->npos++] = s;
            continue;
        }
        if (!strcmp(s, "--")) {
            only_pos = 1;
            continue;
        }
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            cli_print_help(cmd, stdout);
            return CLI_EXIT_OK;
        }
        if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
            a->quiet = 1;
            cli_quiet = 1;
            continue;
        }
        const cli_option *o;
        const char *val = NULL;
        if (s[1] == '-') {
            const char *eq = strchr(s + 2, '=');
            size_t len = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
            o = find_opt(cmd, s + 2, len, 0);
            if (!o) return cli_usage_error(cmd, "unknown option '%.*s'", (int)len + 2, s);
            if (eq) val = eq + 1;
        } else {
            o = find_opt(cmd, NULL, 0, s[1]);
            if (!o) return cli_usage_error(cmd, "unknown option '%s'", s);
            if (s[2]) val = s + 2;
        }
        if (o->arg) {
            if (!val) {
                if (i + 1 >= argc) return cli_usage_error(cmd, "option --%s needs a value (%s)", o->name, o->arg);
                val = argv[++i];
            }
        } else if (val) {
            return cli_usage_error(cmd, "option --%s takes no value", o->name);
        } else {
            val = "";
        }
        if (add_set(a, o->name, val)) return cli_usage_error(cmd, "too many options");
    }
    if (a->npos < cmd->min_pos) return cli_usage_error(cmd, "missing argument (usage: %s)", cmd->usage);
    if (cmd->max_pos >= 0 && a->npos > cmd->max_pos)
        return cli_usage_error(cmd, "unexpected argument '%s' (usage: %s)", a->pos[cmd->max_pos], cmd->usage);
    return -1;
}

const char *cli_get(const cli_args *a, const char *name, const char *def)
{
    for (int i = a->nset - 1; i >= 0; i--)
        if (!strcmp(a->set_name[i], name)) return a->set_value[i];
    return def;
}

int cli_has(const cli_args *a, const char *name) { return cli_get(a, name, NULL) != NULL; }

double cli_get_double(const cli_args *a, const char *name, double def, int *ok)
{
    const char *v = cli_get(a, name, NULL);
    if (!v) return def;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || errno) {
        cli_usage_error(a->cmd, "option --%s: expected a number, got '%s'", name, v);
        *ok = 0;
        return def;
    }
    return d;
}

long cli_get_long(const cli_args *a, const char *name, long def, int *ok)
{
    const char *v = cli_get(a, name, NULL);
    if (!v) return def;
    char *end;
    errno = 0;
    long d = strtol(v, &end, 10);
    if (end == v || *end || errno) {
        cli_usage_error(a->cmd, "option --%s: expected an integer, got '%s'", name, v);
        *ok = 0;
        return def;
    }
    return d;
}

int cli_exit_code(cs_status st)
{
    switch (st) {
    case CS_OK: return CLI_EXIT_OK;
    case CS_EINVAL: return CLI_EXIT_USAGE;
    case CS_EPARSE:
    case CS_ENOTFOUND: return CLI_EXIT_INPUT;
    case CS_EIO:
    case CS_EFORMAT: return CLI_EXIT_IO;
    case CS_EINFEASIBLE: return CLI_EXIT_INFEASIBLE;
    default: return CLI_EXIT_FAILURE;
    }
}

int cli_fail(cs_status st)
{
    cli_progress_done();
    const cs_error *e = cs_error_last();
    char loc[700] = "";
    if (e->file[0]) {
        if (e->line > 0 && e->column > 0) snprintf(loc, sizeof loc, "%s:%ld:%ld: ", e->file, e->line, e->column);
        else if (e->line > 0) snprintf(loc, sizeof loc, "%s:%ld: ", e->file, e->line);
        else snprintf(loc, sizeof loc, "%s: ", e->file);
    }
    const char *msg = (e->status == st && e->message[0]) ? e->message : cs_strerror(st);
    fprintf(stderr, "citysys: error: %s%s%s%s\n", loc, e->object[0] ? e->object : "", e->object[0] ? ": " : "", msg);
    return cli_exit_code(st);
}

void cli_print_diag(const cs_diag *d)
{
    cli_progress_done();
    size_t n = cs_diag_count(d), shown_err = 0, hidden = 0;
    char buf[4096];
    for (size_t i = 0; i < n; i++) {
        const cs_diag_item *it = cs_diag_get(d, i);
        if (it->severity == CS_SEV_ERROR) {
            if (shown_err >= 20) {
                hidden++;
                continue;
            }
            shown_err++;
        } else if (cli_quiet) {
            continue;
        }
        cs_diag_format(d, i, buf, sizeof buf);
        fprintf(stderr, "citysys: %s\n", buf);
    }
    hidden += cs_diag_hidden(d);
    if (hidden) fprintf(stderr, "citysys: ... and %zu more error%s\n", hidden, hidden == 1 ? "" : "s");
}

void cli_note(const char *fmt, ...)
{
    if (cli_quiet) return;
    cli_progress_done();
    va_list ap;
    fprintf(stderr, "citysys: note: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- progress bar ---- */
static int bar_active = 0;
static double bar_last = -1;
static char bar_stage[64];
static struct timespec bar_t0;

static int progress_cb(void *user, const char *stage, double done, double total)
{
    (void)user;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!bar_active || strncmp(stage, bar_stage, sizeof bar_stage - 1)) {
        if (bar_active) fputc('\n', stderr);
        snprintf(bar_stage, sizeof bar_stage, "%s", stage);
        bar_t0 = now;
        bar_last = -1;
        bar_active = 1;
    }
    double f = total > 0 ? done / total : 0;
    if (f > 1) f = 1;
    double t = (double)(now.tv_sec - bar_t0.tv_sec) + 1e-9 * (double)(now.tv_nsec - bar_t0.tv_nsec);
    if (f - bar_last < 0.005 && f < 1) return 0;
    bar_last = f;
    int w = 30, k = (int)(f * w);
    char bar[64];
    for (int i = 0; i < w; i++) bar[i] = i < k ? '#' : '.';
    bar[w] = 0;
    fprintf(stderr, "\r%-28.28s [%s] %5.1f%%  %6.1fs", stage, bar, 100 * f, t);
    fflush(stderr);
    return 0;
}

cs_progress cli_progress(void)
{
    cs_progress p = {NULL, NULL};
    if (!cli_quiet && isatty(2)) p.fn = progress_cb;
    return p;
}

void cli_progress_done(void)
{
    if (bar_active) {
        fputc('\n', stderr);
        bar_active = 0;
    }
}

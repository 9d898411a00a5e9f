/*
 * cli.h: the thin command-line layer. Each command lives in cli/cmd_NAME.c
 * and defines `const cli_command cli_cmd_NAME`; the table is generated from
 * the file names. A command parses its options with cli_parse (which also
 * prints --help), calls the library, prints results, and returns an exit
 * code from cli_exit_code().
 */
#ifndef CITYSYS_CLI_H
#define CITYSYS_CLI_H
#include <stdio.h>
#include "citysys/citysys.h"

/* Documented exit codes (docs/errors.md). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_INPUT = 3,
    CLI_EXIT_IO = 4,
    CLI_EXIT_INFEASIBLE = 5
};

typedef struct cli_option {
    const char *name;  /**< long name without "--" */
    char short_name;   /**< 0 if none */
    const char *arg;   /**< metavariable ("FILE"); NULL for a flag */
    const char *help;  /**< one line; mention the default */
} cli_option;

typedef struct cli_command {
    const char *name;        /**< "info", or "network" for a command with subcommands */
    const char *summary;     /**< one line for `citysys --help` */
    const char *usage;       /**< "citysys info PROJECT" */
    const char *description; /**< paragraphs for `citysys CMD --help` */
    const cli_option *options; /**< terminated by {0}; --help and --quiet are implicit */
    int min_pos, max_pos;    /**< number of positional arguments (max -1 = unlimited) */
    int (*run)(int argc, char **argv); /**< argv[0] is the command name */
} cli_command;

#define CLI_MAX_OPTS 64
#define CLI_MAX_POS 64
typedef struct cli_args {
    const cli_command *cmd;
    int npos;
    const char *pos[CLI_MAX_POS];
    int nset;
    const char *set_name[CLI_MAX_OPTS];
    const char *set_value[CLI_MAX_OPTS]; /* "" for flags */
    int quiet;
} cli_args;

/* Global state set by main. */
extern int cli_quiet;

/**
 * Parse argv for cmd. Returns -1 to continue, or an exit code to return
 * at once (0 after --help, 2 after a usage error, message printed).
 */
int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *a);
/** Value of an option (last occurrence), or def when absent. */
const char *cli_get(const cli_args *a, const char *name, const char *def);
/** 1 if a flag/option was given. */
int cli_has(const cli_args *a, const char *name);
/** Number option; on a malformed value prints a usage error and returns 0 with *ok = 0. */
double cli_get_double(const cli_args *a, const char *name, double def, int *ok);
long cli_get_long(const cli_args *a, const char *name, long def, int *ok);
/** Print the help of a command to stream. */
void cli_print_help(const cli_command *cmd, FILE *out);

/** Map a library status to the documented exit code. */
int cli_exit_code(cs_status st);
/** Print the last library error in compiler form and return its exit code. */
int cli_fail(cs_status st);
/** Print a usage error ("citysys CMD: ...") and return 2. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Print diagnostics (at most 20 errors, then "and N more") to stderr. */
void cli_print_diag(const cs_diag *d);
/** Print a message to stderr unless --quiet ("citysys: note: ..."). */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Progress reporter for the library: a bar on a terminal's stderr, nothing otherwise or with --quiet. */
cs_progress cli_progress(void);
/** End the current progress line (call after a long step). */
void cli_progress_done(void);

/** Lookup a command by name (NULL if none). */
const cli_command *cli_find_command(const char *name);

#endif

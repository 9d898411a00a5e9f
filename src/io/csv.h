/*
 * csv.h: citysys's own RFC 4180 CSV tokenizer (internal).
 *
 * Why not GDAL's CSV driver: it reports feature numbers, not physical lines,
 * and a quoted field spanning several lines shifts every later line number.
 * This tokenizer records, for every field, the physical line on which the
 * field starts (1-based; CRLF, LF and lone CR each end a line) and its field
 * index (1-based column). It also:
 *   - skips a UTF-8 byte-order mark; refuses UTF-16/32 BOMs;
 *   - reports invalid UTF-8 (line, column) once per field and continues;
 *   - auto-detects the delimiter (',' ';' TAB: the most frequent outside
 *     quotes in the first record; ties prefer ',' then ';');
 *   - accepts "" escapes inside quoted fields; a quote inside an unquoted
 *     field is kept literally; text after a closing quote is an error;
 *   - skips blank lines; an unterminated quote is a fatal error naming the
 *     line and column where the quoted field opened.
 */
#ifndef CS_IO_CSV_H
#define CS_IO_CSV_H

#include <stddef.h>
#include "citysys/error.h"

typedef struct csv_doc {
    char delim;
    size_t nrec;        /* records (the header, when any, is record 0) */
    size_t *rec_first;  /* nrec+1 entries: fields of record r are rec_first[r] .. rec_first[r+1]-1 */
    size_t nfield;
    size_t *fstart;     /* offset of each field's NUL-terminated text in buf */
    long *fline;        /* physical line where each field starts */
    char *buf;          /* unescaped field text */
    size_t buflen;
    int truncated;      /* an unterminated quote ended the data: the last record is incomplete */
} csv_doc;

/* Problem callback: return non-zero when the report could not be stored (out of memory). */
typedef int (*csv_problem_fn)(void *user, long line, long column, const char *msg);

/*
 * Tokenize data[0..size). delim 0 = auto-detect. Problems go to fn; the call
 * returns CS_OK when there were none, CS_EPARSE when some were reported
 * (doc still filled unless the problem was fatal), CS_ENOMEM.
 */
cs_status csv_parse(const char *data, size_t size, char delim, csv_problem_fn fn, void *user, csv_doc *doc);
void csv_doc_free(csv_doc *doc);

static inline size_t csv_nfields(const csv_doc *d, size_t r) { return d->rec_first[r + 1] - d->rec_first[r]; }
static inline const char *csv_field(const csv_doc *d, size_t r, size_t c) { return d->buf + d->fstart[d->rec_first[r] + c]; }
static inline long csv_line(const csv_doc *d, size_t r, size_t c) { return d->fline[d->rec_first[r] + c]; }

#endif

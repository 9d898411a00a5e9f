/* csv.c: RFC 4180 tokenizer with physical line numbers (see csv.h for the rules). */
#include <stdio.h>
#include <string.h>
#include "citysys/alloc.h"
#include "io/csv.h"

void csv_doc_free(csv_doc *d)
{
    if (!d) return;
    cs_free(d->rec_first);
    cs_free(d->fstart);
    cs_free(d->fline);
    cs_free(d->buf);
    memset(d, 0, sizeof *d);
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, min = 0x10000;
    else return 0;
    if ((size_t)(end - p) < n) return 0;
    unsigned cp = c & (0xFF >> (n + 1));
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

static char detect_delim(const char *p, const char *end)
{
    size_t nc = 0, ns = 0, nt = 0;
    int inq = 0;
    for (; p < end; p++) {
        char ch = *p;
        if (ch == '"') inq = !inq;
        else if (!inq && (ch == '\n' || ch == '\r')) break;
        else if (!inq && ch == ',') nc++;
        else if (!inq && ch == ';') ns++;
        else if (!inq && ch == '\t') nt++;
    }
    if (ns > nc && ns >= nt) return ';';
    if (nt > nc && nt > ns) return '\t';
    return ',';
}

typedef struct tk {
    csv_doc *d;
    size_t capf, caprec;
    csv_problem_fn fn;
    void *user;
    int problems;
    int oom;
} tk;

static int problem(tk *t, long line, long col, const char *msg)
{
    t->problems++;
    if (t->fn && t->fn(t->user, line, col, msg)) t->oom = 1;
    return t->oom;
}

static int push_field(tk *t, size_t start, long line)
{
    csv_doc *d = t->d;
    if (d->nfield == t->capf) {
        size_t nc = t->capf ? t->capf * 2 : 256;
        size_t *fs = cs_reallocarray(d->fstart, nc, sizeof *fs);
        if (!fs) return -1;
        d->fstart = fs;
        long *fl = cs_reallocarray(d->fline, nc, sizeof *fl);
        if (!fl) return -1;
        d->fline = fl;
        t->capf = nc;
    }
    d->fstart[d->nfield] = start;
    d->fline[d->nfield] = line;
    d->nfield++;
    return 0;
}

static int push_record_end(tk *t)
{
    csv_doc *d = t->d;
    if (d->nrec + 2 > t->caprec) {
        size_t nc = t->caprec ? t->caprec * 2 : 256;
        size_t *r = cs_reallocarray(d->rec_first, nc, sizeof *r);
        if (!r) return -1;
        d->rec_first = r;
        t->caprec = nc;
    }
    d->nrec++;
    d->rec_first[d->nrec] = d->nfield;
    return 0;
}

cs_status csv_parse(const char *data, size_t size, char delim, csv_problem_fn fn, void *user, csv_doc *doc)
{
    memset(doc, 0, sizeof *doc);
    tk t = {doc, 0, 0, fn, user, 0, 0};
    const unsigned char *p = (const unsigned char *)data, *end = p + size;
    if (size >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) p += 3;
    else if (size >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF))) {
        problem(&t, 1, 1, "file is UTF-16 encoded (byte-order mark); convert it to UTF-8");
        return t.oom ? CS_ENOMEM : CS_EPARSE;
    }
    doc->delim = delim ? delim : detect_delim((const char *)p, (const char *)end);
    const char D = doc->delim;
    /* unescaped text is never longer than the input; each field adds one NUL (<= size+1 fields) */
    size_t bcap = (size_t)(end - p) * 2 + 2;
    doc->buf = cs_malloc(bcap);
    doc->rec_first = cs_calloc(256, sizeof *doc->rec_first);
    if (!doc->buf || !doc->rec_first) goto oom;
    t.caprec = 256;
    doc->rec_first[0] = 0;
    char *out = doc->buf;
    size_t o = 0;
    long line = 1;
    while (p < end) {
        /* start of a record */
        size_t rec_start_field = doc->nfield;
        long rec_line = line;
        /* blank line? */
        if (*p == '\n' || *p == '\r') {
            if (*p == '\r' && p + 1 < end && p[1] == '\n') p++;
            p++;
            line++;
            continue;
        }
        long col = 1;
        for (;;) {
            /* one field */
            size_t fstart = o;
            long fline = line;
            int bad_utf8 = 0;
            if (push_field(&t, fstart, fline)) goto oom;
            if (p < end && *p == '"') {
                long qline = line;
                p++;
                int closed = 0;
                while (p < end) {
                    if (*p == '"') {
                        if (p + 1 < end && p[1] == '"') {
                            out[o++] = '"';
                            p += 2;
                            continue;
                        }
                        p++;
                        closed = 1;
                        break;
                    }
                    if (*p == '\n' || *p == '\r') {
                        if (*p == '\r' && p + 1 < end && p[1] == '\n') out[o++] = (char)*p++;
                        out[o++] = (char)*p++;
                        line++;
                        continue;
                    }
                    size_t L = *p ? utf8_len(p, end) : 0;
                    if (!L) {
                        if (!bad_utf8 && problem(&t, line, col, *p ? "invalid UTF-8 byte sequence (give the file's "
                                                                     "encoding, or convert it to UTF-8)"
                                                                   : "NUL byte in the text (not a text file?)"))
                            goto oom;
                        bad_utf8 = 1;
                        L = 1;
                    }
                    memcpy(out + o, p, L);
                    o += L;
                    p += L;
                }
                if (!closed) {
                    problem(&t, qline, col, "unterminated quoted field (the quote opened here is never closed)");
                    out[o++] = 0;
                    if (t.oom) goto oom;
                    doc->buflen = o;
                    if (push_record_end(&t)) goto oom;
                    doc->truncated = 1;
                    return CS_EPARSE;
                }
                if (p < end && *p != (unsigned char)D && *p != '\n' && *p != '\r') {
                    if (problem(&t, line, col, "unexpected text after the closing quote of a quoted field"))
                        goto oom;
                    /* recovery: keep the rest of the field as text */
                }
            }
            /* unquoted part (or the rest after a closing quote) */
            while (p < end && *p != (unsigned char)D && *p != '\n' && *p != '\r') {
                size_t L = *p ? utf8_len(p, end) : 0;
                if (!L) {
                    if (!bad_utf8 && problem(&t, line, col, *p ? "invalid UTF-8 byte sequence (give the file's "
                                                                 "encoding, or convert it to UTF-8)"
                                                               : "NUL byte in the text (not a text file?)"))
                        goto oom;
                    bad_utf8 = 1;
                    L = 1;
                }
                memcpy(out + o, p, L);
                o += L;
                p += L;
            }
            out[o++] = 0;
            if (p < end && *p == (unsigned char)D) {
                p++;
                col++;
                continue;
            }
            /* end of line or of data */
            if (p < end) {
                if (*p == '\r' && p + 1 < end && p[1] == '\n') p++;
                p++;
                line++;
            }
            break;
        }
        (void)rec_start_field;
        (void)rec_line;
        if (push_record_end(&t)) goto oom;
    }
    doc->buflen = o;
    if (t.oom) goto oom;
    return t.problems ? CS_EPARSE : CS_OK;
oom:
    csv_doc_free(doc);
    return cs_error_set(CS_ENOMEM, "out of memory while reading CSV");
}

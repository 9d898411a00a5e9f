/* html.c: self-contained HTML report builder. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "citysys/alloc.h"
#include "citysys/fileio.h"
#include "citysys/report.h"

struct cs_html {
    char *title;
    char *buf;
    size_t n, cap;
    int failed;
};

static int put(cs_html *h, const char *s, size_t len)
{
    if (h->failed) return -1;
    if (h->n + len + 1 > h->cap) {
        size_t nc = h->cap ? h->cap : 4096;
        while (nc < h->n + len + 1) nc *= 2;
        char *nb = cs_realloc(h->buf, nc);
        if (!nb) {
            h->failed = 1;
            return -1;
        }
        h->buf = nb;
        h->cap = nc;
    }
    memcpy(h->buf + h->n, s, len);
    h->n += len;
    h->buf[h->n] = 0;
    return 0;
}
static int puts_(cs_html *h, const char *s) { return put(h, s, strlen(s)); }

static int esc(cs_html *h, const char *s)
{
    if (!s) return 0;
    for (; *s; s++) {
        const char *r = NULL;
        switch (*s) {
        case '&': r = "&amp;"; break;
        case '<': r = "&lt;"; break;
        case '>': r = "&gt;"; break;
        case '"': r = "&quot;"; break;
        case '\'': r = "&#39;"; break;
        }
        if (r ? puts_(h, r) : put(h, s, 1)) return -1;
    }
    return 0;
}

static cs_status st_of(cs_html *h) { return h->failed ? cs_error_set(CS_ENOMEM, "out of memory building the report") : CS_OK; }

cs_status cs_html_new(const char *title, cs_html **out)
{
    *out = NULL;
    cs_html *h = cs_calloc(1, sizeof *h);
    if (!h) return CS_ENOMEM;
    h->title = cs_strdup(title ? title : "citysys report");
    if (!h->title) {
        cs_free(h);
        return CS_ENOMEM;
    }
    *out = h;
    return CS_OK;
}

void cs_html_free(cs_html *h)
{
    if (!h) return;
    cs_free(h->title);
    cs_free(h->buf);
    cs_free(h);
}

static int valid_id(const char *id)
{
    if (!id || !*id) return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return 0;
    return 1;
}

cs_status cs_html_heading(cs_html *h, int level, const char *id, const char *text)
{
    if (level < 1 || level > 3) return cs_error_set(CS_EINVAL, "heading level %d (expected 1..3)", level);
    if (id && !valid_id(id)) return cs_error_set(CS_EINVAL, "invalid anchor id '%s'", id);
    char open[96];
    snprintf(open, sizeof open, "<h%d%s%s%s>", level + 1, id ? " id=\"" : "", id ? id : "", id ? "\"" : "");
    puts_(h, open);
    esc(h, text);
    snprintf(open, sizeof open, "</h%d>\n", level + 1);
    puts_(h, open);
    return st_of(h);
}

cs_status cs_html_paragraph(cs_html *h, const char *text)
{
    puts_(h, "<p>");
    esc(h, text);
    puts_(h, "</p>\n");
    return st_of(h);
}

cs_status cs_html_note(cs_html *h, const char *text, const char *source)
{
    puts_(h, "<aside class=\"note\"><strong>Method.</strong> ");
    esc(h, text);
    if (source && *source) {
        puts_(h, " <span class=\"src\">Source: ");
        esc(h, source);
        puts_(h, "</span>");
    }
    puts_(h, "</aside>\n");
    return st_of(h);
}

cs_status cs_html_figures(cs_html *h, size_t n, const char *const *labels, const char *const *values)
{
    puts_(h, "<div class=\"figs\">");
    for (size_t i = 0; i < n; i++) {
        puts_(h, "<div class=\"fig\"><div class=\"v\">");
        esc(h, values[i]);
        puts_(h, "</div><div class=\"l\">");
        esc(h, labels[i]);
        puts_(h, "</div></div>");
    }
    puts_(h, "</div>\n");
    return st_of(h);
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64(cs_html *h, const unsigned char *d, size_t n)
{
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        q[0] = B64[(v >> 18) & 63];
        q[1] = B64[(v >> 12) & 63];
        q[2] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? B64[v & 63] : '=';
        if (put(h, q, 4)) return -1;
    }
    return 0;
}

cs_status cs_html_image(cs_html *h, const char *path, const char *id, const char *alt, const char *caption)
{
    if (id && !valid_id(id)) return cs_error_set(CS_EINVAL, "invalid element id '%s'", id);
    const char *e = strrchr(path, '.');
    int svg = e && !strcmp(e, ".svg"), png = e && !strcmp(e, ".png");
    if (!svg && !png) return cs_error_set(CS_EINVAL, "%s: only .png and .svg images can be embedded", path);
    char *data;
    size_t n;
    cs_status st = cs_read_file(path, &data, &n);
    if (st) return st;
    puts_(h, "<figure");
    if (id) {
        puts_(h, " id=\"");
        puts_(h, id);
        puts_(h, "\"");
    }
    puts_(h, ">");
    /* both as data URIs: inline SVGs from Cairo share element ids (glyphs) that would clash in one page */
    puts_(h, "<img alt=\"");
    esc(h, alt ? alt : "");
    puts_(h, png ? "\" src=\"data:image/png;base64," : "\" src=\"data:image/svg+xml;base64,");
    if (svg && !strstr(data, "<svg")) {
        cs_free(data);
        return cs_error_set_at(CS_EPARSE, path, 0, 0, "not an SVG file");
    }
    b64(h, (const unsigned char *)data, n);
    puts_(h, "\">");
    cs_free(data);
    if (caption) {
        puts_(h, "<figcaption>");
        esc(h, caption);
        puts_(h, "</figcaption>");
    }
    puts_(h, "</figure>\n");
    return st_of(h);
}

cs_status cs_html_table(cs_html *h, const char *caption, size_t ncols, const char *const *header, size_t nrows,
                        const char *const *cells, const uint8_t *numeric)
{
    puts_(h, "<div class=\"tbl\"><table>");
    if (caption) {
        puts_(h, "<caption>");
        esc(h, caption);
        puts_(h, "</caption>");
    }
    puts_(h, "<thead><tr>");
    for (size_t c = 0; c < ncols; c++) {
        puts_(h, numeric && numeric[c] ? "<th class=\"n\">" : "<th>");
        esc(h, header[c]);
        puts_(h, "</th>");
    }
    puts_(h, "</tr></thead><tbody>\n");
    for (size_t r = 0; r < nrows; r++) {
        puts_(h, "<tr>");
        for (size_t c = 0; c < ncols; c++) {
            puts_(h, numeric && numeric[c] ? "<td class=\"n\">" : "<td>");
            esc(h, cells[r * ncols + c]);
            puts_(h, "</td>");
        }
        puts_(h, "</tr>\n");
    }
    puts_(h, "</tbody></table></div>\n");
    return st_of(h);
}

cs_status cs_html_raw(cs_html *h, const char *html)
{
    puts_(h, html);
    return st_of(h);
}

static const char *CSS =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:1050px;margin:0 auto;padding:1.2em 1.6em;"
    "color:#1a1a1a;line-height:1.45;background:#fff}"
    "h1{font-size:1.9em;margin:.2em 0 .4em}h2{font-size:1.45em;border-bottom:2px solid #0072b2;padding-bottom:.15em;"
    "margin-top:1.6em}h3{font-size:1.15em;margin-top:1.2em}h4{font-size:1em}"
    "figure{margin:1em 0;text-align:center}figure img,figure .svg svg{max-width:100%;height:auto;border:1px solid #ddd}"
    "figcaption{font-size:.9em;color:#444;margin-top:.3em}"
    ".note{background:#f3f7fa;border-left:4px solid #56b4e9;padding:.6em .9em;margin:1em 0;font-size:.92em}"
    ".note .src{color:#555;display:block;margin-top:.3em}"
    ".figs{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}.fig{flex:1 1 150px;background:#f7f7f7;"
    "border-radius:6px;padding:.6em .8em}.fig .v{font-size:1.5em;font-weight:bold;color:#0072b2}.fig .l{font-size:.85em;color:#444}"
    ".tbl{overflow-x:auto}table{border-collapse:collapse;margin:.8em 0;font-size:.9em;width:100%}"
    "caption{text-align:left;font-weight:bold;padding:.3em 0}th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left}"
    "th{background:#f0f0f0}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "footer{margin-top:2em;font-size:.8em;color:#666;border-top:1px solid #ddd;padding-top:.5em}"
    "@media print{@page{size:A4;margin:15mm}body{max-width:none;padding:0;font-size:10pt}"
    "h2{page-break-after:avoid}figure,table,.note,.figs{page-break-inside:avoid}}";

cs_status cs_html_write(const cs_html *h, const char *path)
{
    if (h->failed) return cs_error_set(CS_ENOMEM, "out of memory building the report");
    cs_html tmp = {0};
    puts_(&tmp, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
                "<title>");
    esc(&tmp, h->title);
    puts_(&tmp, "</title><style>");
    puts_(&tmp, CSS);
    puts_(&tmp, "</style></head><body>\n<h1>");
    esc(&tmp, h->title);
    puts_(&tmp, "</h1>\n");
    if (h->buf) puts_(&tmp, h->buf);
    puts_(&tmp, "<footer>Made with citysys ");
    puts_(&tmp, CS_VERSION_STRING);
    puts_(&tmp, ". Self-contained: this file loads nothing from the network.</footer>\n</body></html>\n");
    cs_status st = tmp.failed ? cs_error_set(CS_ENOMEM, "out of memory writing the report") : cs_write_file_atomic(path, tmp.buf, tmp.n);
    cs_free(tmp.buf);
    return st;
}

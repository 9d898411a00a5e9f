/*
 * report.h: a self-contained HTML report builder. Images are embedded as base64
 * data URIs (PNG and SVG), styles are inline, nothing is fetched from
 * the network to view it; readable on a laptop and printable to A4.
 * Text is HTML-escaped. Written atomically.
 */
#ifndef CITYSYS_REPORT_H
#define CITYSYS_REPORT_H

#include "citysys/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_html cs_html;

/** New report with a document title (escaped). */
CS_API cs_status cs_html_new(const char *title, cs_html **out);
CS_API void cs_html_free(cs_html *h);
/** Section heading, level 1..3, with an optional anchor id (letters, digits, '-'). */
CS_API cs_status cs_html_heading(cs_html *h, int level, const char *id, const char *text);
/** A paragraph of plain text (escaped). */
CS_API cs_status cs_html_paragraph(cs_html *h, const char *text);
/** A boxed "method note" for researchers: text plus an optional source citation. */
CS_API cs_status cs_html_note(cs_html *h, const char *text, const char *source);
/** Key figures shown as large numbers with labels. */
CS_API cs_status cs_html_figures(cs_html *h, size_t n, const char *const *labels, const char *const *values);
/**
 * Embed an image file (.png or .svg, as a data URI) with alt text and a
 * caption; `id` (may be NULL) becomes the element id (used by tests).
 */
CS_API cs_status cs_html_image(cs_html *h, const char *path, const char *id, const char *alt, const char *caption);
/**
 * A table: header[ncols], cells[nrows*ncols] (row-major strings, NULL = empty);
 * columns whose numeric[c] is non-zero are right-aligned.
 */
CS_API cs_status cs_html_table(cs_html *h, const char *caption, size_t ncols, const char *const *header, size_t nrows,
                               const char *const *cells, const uint8_t *numeric);
/** Raw, already-safe HTML (for library-generated fragments only). */
CS_API cs_status cs_html_raw(cs_html *h, const char *html);
/** Write the document atomically. */
CS_API cs_status cs_html_write(const cs_html *h, const char *path);

#ifdef __cplusplus
}
#endif
#endif

/* HTML report builder: escaping, embedded images, self-containment. */
#include <unistd.h>
#include "test.h"
#include "citysys/chart.h"
#include "citysys/report.h"

int main(void)
{
    char dir[] = "/tmp/cs-html-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char png[128], svg[128], out[128];
    snprintf(png, sizeof png, "%s/a.png", dir);
    snprintf(svg, sizeof svg, "%s/a.svg", dir);
    snprintf(out, sizeof out, "%s/report.html", dir);
    double v[3] = {1, 2, 3};
    CHECK_OK(cs_chart_lorenz(v, NULL, 3, 0.22, NULL, png));
    CHECK_OK(cs_chart_lorenz(v, NULL, 3, 0.22, NULL, svg));
    cs_html *h;
    CHECK_OK(cs_html_new("Cities <&> \"regions\"", &h));
    CHECK_OK(cs_html_heading(h, 1, "summary", "Summary"));
    CHECK(cs_html_heading(h, 1, "bad id!", "x") == CS_EINVAL);
    CHECK_OK(cs_html_paragraph(h, "a < b & c"));
    const char *lab[2] = {"cities", "Gini"}, *val[2] = {"453", "0.41"};
    CHECK_OK(cs_html_figures(h, 2, lab, val));
    CHECK_OK(cs_html_image(h, png, "lorenz", "Lorenz curve", "Figure 1"));
    CHECK_OK(cs_html_image(h, svg, "lorenz-svg", "Lorenz curve", NULL));
    const char *hdr[2] = {"city", "population"}, *cells[4] = {"A<1>", "10", "B", NULL};
    uint8_t num[2] = {0, 1};
    CHECK_OK(cs_html_table(h, "Cities", 2, hdr, 2, cells, num));
    CHECK_OK(cs_html_note(h, "Gini without small-sample correction.", "Cowell 2011"));
    CHECK_OK(cs_html_write(h, out));
    cs_html_free(h);
    char *doc;
    size_t n;
    CHECK_OK(cs_read_file(out, &doc, &n));
    CHECK(strstr(doc, "<title>Cities &lt;&amp;&gt; &quot;regions&quot;</title>") != NULL);
    CHECK(strstr(doc, "a &lt; b &amp; c") != NULL);
    CHECK(strstr(doc, "A&lt;1&gt;") != NULL);
    CHECK(strstr(doc, "data:image/png;base64,iVBORw0KGgo") != NULL); /* PNG magic in base64 */
    CHECK(strstr(doc, "data:image/svg+xml;base64,") != NULL);
    CHECK(strstr(doc, "id=\"lorenz\"") != NULL);
    /* self-contained: no external references */
    CHECK(strstr(doc, "src=\"http") == NULL && strstr(doc, "<script") == NULL && strstr(doc, "<link") == NULL);
    cs_free(doc);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    TEST_MAIN_END();
}

/* Charts: every kind written as PNG, SVG and PDF, not blank, written atomically; bad input refused. */
#include <cairo.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test.h"
#include "citysys/chart.h"

static char dir[64];

/* variance of the grey level of a PNG: a blank image has ~0 */
static double png_variance(const char *path, int *w, int *h)
{
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return -1;
    }
    *w = cairo_image_surface_get_width(s);
    *h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    unsigned char *d = cairo_image_surface_get_data(s);
    double sum = 0, sum2 = 0, n = 0;
    for (int y = 0; y < *h; y++)
        for (int x = 0; x < *w; x++) {
            uint32_t px = *(uint32_t *)(d + y * stride + 4 * x);
            double g = ((px >> 16) & 255) * 0.3 + ((px >> 8) & 255) * 0.59 + (px & 255) * 0.11;
            sum += g;
            sum2 += g * g;
            n++;
        }
    cairo_surface_destroy(s);
    return sum2 / n - (sum / n) * (sum / n);
}

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && sb.st_size > 100;
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/cs-chart-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    double v[6] = {1, 2, 3, 4, 10, 30}, w[6] = {5, 1, 1, 1, 2, 1};
    cs_chart_opts o;
    cs_chart_opts_default(&o);
    o.title = "Income per head";
    o.note = "Source: test data";
    const char *ext[3] = {"png", "svg", "pdf"};
    for (int e = 0; e < 3; e++) {
        snprintf(path, sizeof path, "%s/lorenz.%s", dir, ext[e]);
        CHECK_OK(cs_chart_lorenz(v, w, 6, 0.42, &o, path));
        CHECK(exists(path));
        snprintf(path, sizeof path, "%s/rank.%s", dir, ext[e]);
        double sz[6] = {1e6, 5e5, 3.3e5, 2.5e5, 2e5, 1.6e5};
        CHECK_OK(cs_chart_rank_size(sz, 6, 1.0, log(1e6 * 0.5), &o, path));
        CHECK(exists(path));
    }
    int W, H;
    snprintf(path, sizeof path, "%s/lorenz.png", dir);
    CHECK(png_variance(path, &W, &H) > 100);
    CHECK(W == 800 && H == 500);
    const char *cats[3] = {"Gini", "Theil T", "Theil L"}, *ser[2] = {"before", "after"};
    double bv[6] = {0.4, 0.3, 0.28, 0.38, 0.29, 0.27};
    snprintf(path, sizeof path, "%s/bars.png", dir);
    CHECK_OK(cs_chart_bars(3, cats, 2, ser, bv, &o, path));
    CHECK(png_variance(path, &W, &H) > 100);
    double x[4] = {1, 2, 3, 4}, y[4] = {10, 15, 17, 18};
    const char *pl[4] = {"a", "b", NULL, "d"};
    cs_xy_series s = {"coverage", 4, x, y, 1, 1, pl};
    snprintf(path, sizeof path, "%s/xy.svg", dir);
    CHECK_OK(cs_chart_xy(1, &s, &o, path));
    CHECK(exists(path));
    uint32_t cat[6] = {0, 0, 1, 1, 2, 2};
    const char *cn[3] = {"cluster", "corridor", "other"};
    snprintf(path, sizeof path, "%s/box.png", dir);
    CHECK_OK(cs_chart_box(6, v, cat, 3, cn, 1, &o, path));
    CHECK(png_variance(path, &W, &H) > 100);
    /* refusals leave nothing behind */
    double bad[2] = {-1, 2};
    snprintf(path, sizeof path, "%s/bad.png", dir);
    CHECK(cs_chart_lorenz(bad, NULL, 2, 0, &o, path) == CS_EINVAL);
    CHECK(!exists(path));
    snprintf(path, sizeof path, "%s/bad.gif", dir);
    CHECK(cs_chart_lorenz(v, NULL, 6, 0, &o, path) == CS_EINVAL);
    uint32_t badcat[1] = {5};
    snprintf(path, sizeof path, "%s/bad2.png", dir);
    CHECK(cs_chart_box(1, v, badcat, 3, cn, 0, &o, path) == CS_EINVAL);
    /* an existing file is replaced only on success */
    snprintf(path, sizeof path, "%s/lorenz.png", dir);
    CHECK(cs_chart_lorenz(bad, NULL, 2, 0, &o, path) == CS_EINVAL);
    CHECK(png_variance(path, &W, &H) > 100);
    char cmd[128];
    if (!getenv("CS_KEEP")) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
    } else {
        printf("kept %s\n", dir);
    }
    TEST_MAIN_END();
}

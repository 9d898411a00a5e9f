/* Maps: symbols at their projected positions, labels without overlaps, legend, not blank. */
#include <cairo.h>
#include <proj.h>
#include <unistd.h>
#include "test.h"
#include "citysys/map.h"

static double png_pixel_variance(const char *path)
{
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) return -1;
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s), st = cairo_image_surface_get_stride(s);
    unsigned char *d = cairo_image_surface_get_data(s);
    double a = 0, b = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double g = d[y * st + 4 * x + 1];
            a += g;
            b += g * g;
        }
    cairo_surface_destroy(s);
    double n = (double)w * h;
    return b / n - (a / n) * (a / n);
}

int main(void)
{
    /* a few real East African cities */
    double lon[8] = {36.817, 39.208, 32.582, 30.059, 29.36, 37.0, 34.76, 36.68};
    double lat[8] = {-1.286, -6.792, 0.347, -1.944, -3.38, -3.37, -0.09, -3.37};
    double pop[8] = {4.4e6, 6.7e6, 3.3e6, 1.1e6, 1.0e6, 0.4e6, 0.5e6, 0.42e6};
    const char *names[8] = {"Nairobi", "Dar es Salaam", "Kampala", "Kigali", "Bujumbura", "Moshi", "Kisumu", "Arusha"};
    uint32_t cat[8] = {0, 0, 0, 0, 0, 1, 1, 1};
    const char *cn[2] = {"primary city", "secondary city"};
    cs_map_opts o;
    cs_map_opts_default(&o);
    o.title = "East Africa";
    o.attribution = "Natural Earth";
    cs_map *m;
    CHECK_OK(cs_map_new(29, -7, 40, 0.5, &o, &m));
    char nep[512];
    snprintf(nep, sizeof nep, "%s/share/boundaries/ne_50m_countries.geojson.gz", CS_SRC_DIR);
    CHECK_OK(cs_map_add_boundaries(m, nep));
    uint64_t off[2] = {0, 3};
    double llon[3] = {36.817, 37.3, 39.208}, llat[3] = {-1.286, -3.3, -6.792}, lval[1] = {5.0};
    CHECK_OK(cs_map_add_lines(m, 1, off, llon, llat, lval, "road load"));
    cs_map_cities c = {8, lon, lat, pop, cat, 2, cn, NULL, NULL, names, 8};
    CHECK_OK(cs_map_add_cities(m, &c));
    char dir[] = "/tmp/cs-map-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/map.png", dir);
    CHECK_OK(cs_map_render(m, path));
    CHECK(png_pixel_variance(path) > 50);
    /* positions: independent PROJ pipeline with the same definition */
    PJ_CONTEXT *ctx = proj_context_create();
    PJ *pj = proj_create(ctx, cs_map_projection(m));
    CHECK(pj != NULL);
    double x0, y0, x1, y1;
    CHECK_OK(cs_map_project(m, lon[0], lat[0], &x0, &y0));
    CHECK_OK(cs_map_project(m, lon[1], lat[1], &x1, &y1));
    PJ_COORD a = proj_trans(pj, PJ_FWD, proj_coord(proj_torad(lon[0]), proj_torad(lat[0]), 0, 0));
    PJ_COORD b = proj_trans(pj, PJ_FWD, proj_coord(proj_torad(lon[1]), proj_torad(lat[1]), 0, 0));
    /* pixel distance / metre distance = the same scale in x and y (no distortion of the fit) */
    double sx = (x1 - x0) / (b.xy.x - a.xy.x), sy = -(y1 - y0) / (b.xy.y - a.xy.y);
    CHECK_NEAR(sx, sy, 1e-9);
    proj_destroy(pj);
    proj_context_destroy(ctx);
    /* labels: all eight fit here, none overlaps another */
    size_t nl = cs_map_label_count(m);
    CHECK(nl >= 6);
    for (size_t i = 0; i < nl; i++) {
        double bi[4];
        CHECK_OK(cs_map_label_box(m, i, bi, NULL));
        for (size_t j = i + 1; j < nl; j++) {
            double bj[4];
            CHECK_OK(cs_map_label_box(m, j, bj, NULL));
            int ov = bi[0] < bj[0] + bj[2] && bj[0] < bi[0] + bi[2] && bi[1] < bj[1] + bj[3] && bj[1] < bi[1] + bi[3];
            CHECK(!ov);
        }
    }
    snprintf(path, sizeof path, "%s/map.svg", dir);
    CHECK_OK(cs_map_render(m, path));
    snprintf(path, sizeof path, "%s/map.pdf", dir);
    CHECK_OK(cs_map_render(m, path));
    cs_map_free(m);
    /* diverging values map */
    CHECK_OK(cs_map_new(29, -7, 40, 0.5, &o, &m));
    double val[8] = {0.01, -0.02, 0.005, 0.0, 0.03, -0.01, 0.02, 0.0};
    cs_map_cities c2 = {8, lon, lat, pop, NULL, 0, NULL, val, "change in real income", names, 3};
    CHECK_OK(cs_map_add_cities(m, &c2));
    snprintf(path, sizeof path, "%s/change.png", dir);
    CHECK_OK(cs_map_render(m, path));
    CHECK(cs_map_label_count(m) == 3);
    cs_map_free(m);
    CHECK(cs_map_new(10, 0, 5, 1, &o, &m) == CS_EINVAL);
    if (!getenv("CS_KEEP")) {
        char cmd[160];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
    } else {
        printf("kept %s\n", dir);
    }
    TEST_MAIN_END();
}

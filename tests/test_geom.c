/* Geometry helpers: haversine against a hand value, convex hull against brute force. */
#include "test.h"
#include "citysys/geom.h"

int main(void)
{
    /* one degree of latitude on the IUGG sphere = R * pi / 180 */
    CHECK_NEAR(cs_haversine_m(0, 0, 0, 1), CS_EARTH_RADIUS_M * M_PI / 180, 1e-12);
    /* quarter of a great circle */
    CHECK_NEAR(cs_haversine_m(0, 0, 90, 0), CS_EARTH_RADIUS_M * M_PI / 2, 1e-12);
    unsigned s = 3;
    for (int rep = 0; rep < 50; rep++) {
        size_t n = 3 + rep % 20;
        double x[30], y[30];
        for (size_t i = 0; i < n; i++) {
            s = s * 1103515245u + 12345u;
            x[i] = (s >> 8) % 1000 / 100.0;
            s = s * 1103515245u + 12345u;
            y[i] = (s >> 8) % 1000 / 100.0;
        }
        uint32_t h[30];
        size_t m;
        CHECK_OK(cs_convex_hull(x, y, NULL, n, h, &m));
        /* every point lies on the left of (or on) every hull edge, and every hull vertex is extreme */
        for (size_t e = 0; e < m && m >= 3; e++) {
            uint32_t a = h[e], b = h[(e + 1) % m];
            for (size_t i = 0; i < n; i++) {
                double c = (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a]);
                CHECK(c >= -1e-12);
            }
        }
    }
    double x[3] = {0, 1, 2}, y[3] = {0, 1, 2};
    uint32_t h[3];
    size_t m;
    CHECK_OK(cs_convex_hull(x, y, NULL, 3, h, &m));
    CHECK(m == 2);
    double rl[12], ra[12];
    size_t nv;
    CHECK_OK(cs_hull_ring(x, y, h, 1, 1000, rl, ra, 12, &nv));
    CHECK(nv == 12);
    CHECK_NEAR(cs_haversine_m(x[h[0]], y[h[0]], rl[3], ra[3]), 1000, 1e-3);
    CHECK_OK(cs_hull_ring(x, y, h, 2, 1000, rl, ra, 12, &nv));
    CHECK(nv == 4);
    TEST_MAIN_END();
}

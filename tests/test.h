/* test.h: tiny assertion helpers for citysys unit tests (no framework needed). */
#ifndef CS_TEST_H
#define CS_TEST_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "citysys/citysys.h"

static int cs_test_failures = 0;
static int cs_test_checks = 0;

#define CHECK(cond)                                                                                 \
    do {                                                                                            \
        cs_test_checks++;                                                                           \
        if (!(cond)) {                                                                              \
            cs_test_failures++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                \
        }                                                                                           \
    } while (0)

#define CHECK_OK(expr)                                                                              \
    do {                                                                                            \
        cs_test_checks++;                                                                           \
        int cs__st = (int)(expr);                                                                   \
        if (cs__st != 0) {                                                                          \
            cs_test_failures++;                                                                     \
            fprintf(stderr, "%s:%d: %s returned %d (%s): %s\n", __FILE__, __LINE__, #expr, cs__st,  \
                    cs_strerror((cs_status)cs__st), cs_error_last()->message);                      \
        }                                                                                           \
    } while (0)

/* |a-b| <= tol*max(1,|b|) ; both infinite of same sign, or both NaN, also equal */
#define CHECK_NEAR(a, b, tol)                                                                       \
    do {                                                                                            \
        cs_test_checks++;                                                                           \
        double cs__a = (a), cs__b = (b);                                                            \
        int cs__ok = (isnan(cs__a) && isnan(cs__b)) || (cs__a == cs__b) ||                          \
                     fabs(cs__a - cs__b) <= (tol) * fmax(1.0, fabs(cs__b));                         \
        if (!cs__ok) {                                                                              \
            cs_test_failures++;                                                                     \
            fprintf(stderr, "%s:%d: %s = %.17g, expected %s = %.17g (tol %g)\n", __FILE__, __LINE__, \
                    #a, cs__a, #b, cs__b, (double)(tol));                                           \
        }                                                                                           \
    } while (0)

#define TEST_MAIN_END()                                                                             \
    do {                                                                                            \
        printf("%d checks, %d failed\n", cs_test_checks, cs_test_failures);                         \
        return cs_test_failures ? 1 : 0;                                                            \
    } while (0)

#endif

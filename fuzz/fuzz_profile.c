/* fuzz_profile.c: the car-profile JSON parser must accept or refuse any bytes without crashing, and a
 * parsed profile must evaluate a fixed set of way tags without crashing. */
#include <stdint.h>
#include "citysys/citysys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_profile *p = NULL;
    if (cs_profile_parse((const char *)data, size, "fuzz", &p) == CS_OK) {
        const char *k[] = {"highway", "maxspeed", "surface", "oneway", "access", "route", "duration"};
        const char *v[] = {"primary", "DE:urban|30 mph", "gravel", "-1", "no", "ferry", "PT1H"};
        cs_way_attr a;
        for (size_t n = 0; n <= 7; n++) cs_profile_way(p, k, v, n, &a);
        cs_profile_maxspeed(p, "walk");
        cs_profile_free(p);
    }
    return 0;
}

/* fuzz_cities.c: the city CSV reader (tokenizer, column detection, validation) must accept or refuse any
 * bytes without crashing or leaking; a refusal must come with at least one error in the diagnostics. */
#include <stdint.h>
#include <stdlib.h>
#include "citysys/citysys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_diag *d = cs_diag_new();
    if (!d) return 0;
    cs_city_read_opts o = {0};
    o.max_errors = 5;
    cs_cities *c = NULL;
    cs_status st = cs_cities_read_csv_mem(data, size, "fuzz.csv", &o, d, &c);
    if (st == CS_OK) {
        if (!c || c->n == 0) abort();
        (void)cs_cities_total_population(c);
        (void)cs_cities_find(c, c->id[0]);
        cs_cities_free(c);
    } else {
        if (c) abort();
        if (st == CS_EPARSE && cs_diag_errors(d) == 0) abort();
    }
    cs_diag_free(d);
    return 0;
}

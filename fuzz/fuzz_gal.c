/* fuzz_gal.c: the GAL weights parser must accept or refuse any bytes without crashing or leaking. */
#include <stdint.h>
#include "citysys/citysys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_weights *w = NULL;
    if (cs_weights_read_gal_mem((const char *)data, size, "fuzz.gal", &w) == CS_OK) {
        /* exercise the structure: symmetry check, row standardisation */
        (void)cs_weights_is_binary_symmetric(w);
        cs_weights_row_standardise(w);
        cs_weights_free(w);
    }
    return 0;
}

/* fuzz_matrix.c: the binary matrix-file reader must refuse or accept any bytes without crashing. */
#include <stdint.h>
#include "citysys/citysys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_matrix *m = NULL;
    if (cs_matrix_read_mem(data, size, "fuzz", NULL, &m) == CS_OK) cs_matrix_free(m);
    return 0;
}

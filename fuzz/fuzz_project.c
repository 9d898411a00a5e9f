/* fuzz_project.c: the project-file parser (jansson + our position scanner + schema checks) must accept
 * or refuse any bytes without crashing, leaking or reading out of bounds. File checks are off so the
 * target does not depend on the file system. */
#include <stdint.h>
#include "citysys/citysys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_diag *d = cs_diag_new();
    cs_project *p = NULL;
    if (cs_project_parse((const char *)data, size, "fuzz/project.json", CS_PROJECT_NO_FILE_CHECK, d, &p) == CS_OK) {
        long line, col;
        cs_project_locate(p, "cities.fields.id", 1, &line, &col);
        char *c = cs_project_canonical(p);
        cs_free(c);
        cs_project_free(p);
    }
    cs_diag_free(d);
    return 0;
}

/* gen_data.c: writes the small hand-made inputs of tests/equilibrium_cli.sh
 * (six cities in two countries on a line, 100 km apart; tau = 1 + 0.001 per km;
 * the scenario halves the extra cost between cities c and d, across the border).
 * Build and run once from the source root:
 *   cc -Iinclude tests/data/equilibrium/gen_data.c build/libcitysys.a $(pkg-config --libs gdal proj jansson \
 *      igraph cairo) -lreadosm -lglpk -lm -fopenmp -o /tmp/gen && (cd tests/data/equilibrium && /tmp/gen) */
#include <stdio.h>
#include "citysys/citysys.h"
int main(void)
{
    const char *ids[6] = {"a", "b", "c", "d", "e", "f"};
    cs_matrix *m;
    if (cs_matrix_new(6, 6, CS_MATRIX_TRADECOST, &m) || cs_matrix_set_ids(m, ids, ids)) return 1;
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) m->v[i * 6 + j] = 1.0 + 0.001 * 100.0 * (i > j ? i - j : j - i);
    if (cs_matrix_write(m, "tau_before.csmat")) return 1;
    m->v[2 * 6 + 3] = m->v[3 * 6 + 2] = 1.0 + 0.5 * (m->v[2 * 6 + 3] - 1.0);
    if (cs_matrix_write(m, "tau_after.csmat")) return 1;
    cs_matrix_free(m);
    return 0;
}

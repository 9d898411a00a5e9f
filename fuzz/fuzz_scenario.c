/* fuzz_scenario.c: the scenario reader (jansson + our position scanner + structural checks, JSON and
 * GeoJSON) must accept or refuse any bytes without crashing, leaking or reading out of bounds. Includes
 * are off so the target does not touch the file system; an accepted scenario is also validated against
 * three cities (no network: hard changes are refused), written back to JSON, re-read, split and merged. */
#include <stdint.h>
#include <string.h>
#include "citysys/citysys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_diag *d = cs_diag_new();
    cs_scenario_read_opts o;
    cs_scenario_read_opts_default(&o);
    o.allow_include = 0;
    cs_scenario *s = NULL;
    if (cs_scenario_parse((const char *)data, size, "fuzz/scenario.json", NULL, &o, d, &s) == CS_OK) {
        static cs_cities *cities;
        if (!cities && cs_cities_new(3, &cities) == CS_OK) {
            static const char *const ids[3] = {"c0", "c1", "c2"}, *const cc[3] = {"AAA", "AAA", "BBB"};
            cities->country = cs_calloc(3, sizeof(char *));
            cities->region = cs_calloc(3, sizeof(char *));
            for (int i = 0; i < 3; i++) {
                cities->id[i] = cs_strdup(ids[i]);
                cities->name[i] = cs_strdup(ids[i]);
                cities->population[i] = 1000 * (i + 1);
                if (cities->country) cities->country[i] = cs_strdup(cc[i]);
                if (cities->region) cities->region[i] = cs_strdup(ids[i]);
            }
            cities->n = 3;
        }
        if (cities) {
            cs_scenario_inputs in;
            cs_scenario_inputs_default(&in);
            in.cities = cities;
            (void)cs_scenario_validate(s, &in, d);
        }
        for (size_t k = 0; k < cs_scenario_nchanges(s); k++) {
            cs_change_info ci;
            cs_scenario_change(s, k, &ci);
            for (size_t i = 0; i < ci.nitems; i++) (void)cs_scenario_change_item(s, k, i);
        }
        char *txt = cs_scenario_to_json(s);
        cs_scenario *s2 = NULL;
        if (txt && cs_scenario_parse(txt, strlen(txt), "fuzz/again.json", NULL, &o, NULL, &s2) == CS_OK) {
            const cs_scenario *both[2] = {s, s2};
            cs_scenario *m = NULL, *sp = NULL;
            if (cs_scenario_merge(both, 2, "m", &m) == CS_OK) cs_scenario_free(m);
            if (cs_scenario_split(s, NULL, &sp) == CS_OK) cs_scenario_free(sp);
        }
        cs_scenario_free(s2);
        cs_free(txt);
        cs_scenario_free(s);
    }
    cs_diag_free(d);
    return 0;
}

/* fuzz_osmpbf.c: the built-in .osm.pbf reader must refuse or accept any bytes without crashing or leaking.
 * The reader works on files, so each input is written to a temporary file first. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "citysys/citysys.h"

static const char *prof_json =
    "{\"name\":\"f\",\"highway_speeds_kmh\":{\"primary\":50,\"residential\":20,\"motorway\":90},"
    "\"maxspeed_implicit_kmh\":{\"urban\":50},\"caps_kmh\":{\"surface\":{\"gravel\":40}},"
    "\"access_tags\":[\"motorcar\",\"access\"],\"access_deny\":[\"no\"],\"oneway_implied_junction\":[\"roundabout\"]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cs_profile *p = NULL;
    if (!p && cs_profile_parse(prof_json, strlen(prof_json), "fuzz", &p)) return 0;
    char path[64];
    snprintf(path, sizeof path, "/tmp/cs_fuzz_osmpbf_%ld.osm.pbf", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    cs_network *n = NULL;
    cs_osm_opts o;
    cs_osm_opts_default(&o);
    if (cs_network_from_osm(path, p, &o, &n, NULL) == CS_OK) cs_network_free(n);
    unlink(path);
    return 0;
}

/*
 * fuzz_graphfile.c: the graph-file loader (cs_router_load: magic, version, endianness, section table, sizes,
 * checksums, CSR and hierarchy structure) must refuse or accept any bytes without crashing; a file it
 * accepts must answer a small matrix query (first and last node, both ways) and an info call.
 * The loader maps a path, so each input is written to a temporary file first.
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "citysys/citysys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/cs_fuzz_graphfile_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    close(fd);
    cs_router *r = NULL;
    if (off == size && cs_router_load(path, NULL, &r) == CS_OK) {
        cs_router_info ri;
        cs_router_info_get(r, &ri);
        if (ri.nodes > 0) {
            cs_location l[2] = {cs_location_node(0), cs_location_node(ri.nodes - 1)};
            cs_matrix_opts mo;
            cs_matrix_opts_default(&mo);
            mo.threads = 1;
            uint64_t t[4], d[4];
            (void)cs_router_matrix_raw(r, l, 2, l, 2, &mo, t, d, NULL);
        }
        cs_router_free(r);
    }
    unlink(path);
    return 0;
}

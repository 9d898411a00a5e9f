/*
 * graphfile.c: the binary routing-graph file (graph + hierarchy + metric),
 * written atomically and loaded by mmap. Layout (little-endian host order,
 * checked by an endianness tag):
 *   header (256 bytes): magic "CSROUTER", version, endian tag 0x01020304,
 *     counts (nodes, segments, hierarchy arcs, components, tree height,
 *     non-road flag), number of sections, network fingerprint (64 hex),
 *     total file size, checksum of the header;
 *   section table: per section {id, element size, offset, bytes, checksum};
 *   sections, each 64-byte aligned.
 * The loader checks the size implied by the header against the file size,
 * every checksum, and the structure (permutation, CSR offsets monotone,
 * heads in range and increasing, elimination-tree parents, segment -> arc
 * map), so a stale, foreign, truncated or corrupt file is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "citysys/fileio.h"
#include "routing_internal.h"

#define RT_MAGIC "CSROUTER"
#define RT_ENDIAN 0x01020304u
#define RT_NSEC 18
#define RT_HDR 256
#define REBUILD "; rebuild it from the network (cs_router_build + cs_router_save, or rerun `citysys matrix` with --rebuild)"

typedef struct {
    char magic[8];
    uint32_t version, endian;
    uint32_t n, nseg, ncch, nscc, et_height, has_nonroad, nsec, pad;
    char fingerprint[72];
    uint64_t file_size;
    uint64_t hdr_checksum; /* of the bytes before this field */
    char reserved[RT_HDR - 8 - 4 * 10 - 72 - 16];
} rt_header;

typedef struct { uint32_t id, elem; uint64_t offset, bytes, checksum; } rt_section;

_Static_assert(sizeof(rt_header) == RT_HDR, "header size");

/* The sections, in file order: pointer, element size and count. */
static void sections(cs_router *r, void ***ptr, uint32_t *elem, uint64_t *count)
{
    void **p[RT_NSEC] = {
        (void **)&r->seg_u, (void **)&r->seg_v, (void **)&r->seg_fwd, (void **)&r->seg_bwd, (void **)&r->seg_len,
        (void **)&r->seg_mode, (void **)&r->seg_cch, (void **)&r->rank, (void **)&r->order, (void **)&r->parent,
        (void **)&r->first_up, (void **)&r->up_head, (void **)&r->w_up, (void **)&r->w_dn, (void **)&r->r_up,
        (void **)&r->r_dn, (void **)&r->scc, (void **)&r->scc_sizes};
    uint32_t e[RT_NSEC] = {4, 4, 4, 4, 4, 1, 4, 4, 4, 4, 4, 4, 8, 8, 8, 8, 4, 4};
    uint64_t c[RT_NSEC] = {r->nseg, r->nseg, r->nseg, r->nseg, r->nseg, r->nseg, r->nseg, r->n, r->n, r->n,
                           (uint64_t)r->n + 1, r->ncch, r->ncch, r->ncch, r->has_nonroad ? r->ncch : 0,
                           r->has_nonroad ? r->ncch : 0, r->n, r->nscc};
    for (int i = 0; i < RT_NSEC; i++) { ptr[i] = p[i]; elem[i] = e[i]; count[i] = c[i]; }
}

static uint64_t align64(uint64_t x) { return (x + 63) & ~(uint64_t)63; }

cs_status cs_router_save(const cs_router *rc, const char *path)
{
    cs_router *r = (cs_router *)rc; /* only read */
    void **ptr[RT_NSEC];
    uint32_t elem[RT_NSEC];
    uint64_t count[RT_NSEC];
    sections(r, ptr, elem, count);
    rt_section sec[RT_NSEC];
    uint64_t off = align64(RT_HDR + sizeof sec);
    for (int i = 0; i < RT_NSEC; i++) {
        sec[i].id = (uint32_t)i;
        sec[i].elem = elem[i];
        sec[i].offset = off;
        sec[i].bytes = count[i] * elem[i];
        sec[i].checksum = cs_checksum64(sec[i].bytes ? *ptr[i] : "", sec[i].bytes, (uint64_t)i);
        off = align64(off + sec[i].bytes);
    }
    rt_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, RT_MAGIC, 8);
    h.version = CS_ROUTER_FORMAT_VERSION;
    h.endian = RT_ENDIAN;
    h.n = r->n; h.nseg = r->nseg; h.ncch = r->ncch; h.nscc = r->nscc; h.et_height = r->et_height;
    h.has_nonroad = (uint32_t)r->has_nonroad;
    h.nsec = RT_NSEC;
    memcpy(h.fingerprint, r->fingerprint, 65);
    h.file_size = off;
    h.hdr_checksum = cs_checksum64(&h, offsetof(rt_header, hdr_checksum), 0x5eed);
    cs_atomic_file *f;
    cs_status st = cs_atomic_open(path, &f);
    if (st) return st;
    static const char zeros[64];
    uint64_t pos = 0;
    if ((st = cs_atomic_write(f, &h, sizeof h)) || (st = cs_atomic_write(f, sec, sizeof sec))) goto fail;
    pos = RT_HDR + sizeof sec;
    for (int i = 0; i < RT_NSEC; i++) {
        if ((st = cs_atomic_write(f, zeros, sec[i].offset - pos))) goto fail;
        pos = sec[i].offset;
        if (sec[i].bytes && (st = cs_atomic_write(f, *ptr[i], sec[i].bytes))) goto fail;
        pos += sec[i].bytes;
    }
    if ((st = cs_atomic_write(f, zeros, off - pos))) goto fail;
    return cs_atomic_commit(f);
fail:
    cs_atomic_abort(f);
    return st;
}

static cs_status bad(const char *path, const char *what)
{
    return cs_error_set_at(CS_EFORMAT, path, 0, 0, "not a usable routing graph file: %s" REBUILD, what);
}

static cs_status validate_structure(const cs_router *r, const char *path)
{
    uint32_t n = r->n;
    for (uint32_t v = 0; v < n; v++)
        if (r->rank[v] >= n || r->order[r->rank[v]] != v) return bad(path, "node order is not a permutation");
    if (r->first_up[0] != 0 || r->first_up[n] != r->ncch) return bad(path, "hierarchy offsets do not match the arc count");
    for (uint32_t v = 0; v < n; v++) {
        uint32_t b = r->first_up[v], e = r->first_up[v + 1];
        if (e < b || e > r->ncch) return bad(path, "hierarchy offsets not monotone");
        for (uint32_t a = b; a < e; a++)
            if (r->up_head[a] <= v || r->up_head[a] >= n || (a > b && r->up_head[a] <= r->up_head[a - 1]))
                return bad(path, "hierarchy arc heads out of range or not increasing");
        uint32_t p = r->parent[v];
        if (b < e ? p != r->up_head[b] : p != CS_INVALID_ID) return bad(path, "elimination tree parent mismatch");
    }
    for (uint32_t s = 0; s < r->nseg; s++) {
        if (r->seg_u[s] >= n || r->seg_v[s] >= n) return bad(path, "segment end node out of range");
        uint32_t a = r->rank[r->seg_u[s]], b = r->rank[r->seg_v[s]], e = r->seg_cch[s];
        if (a > b) { uint32_t t = a; a = b; b = t; }
        if (a == b ? e != CS_INVALID_ID : (e >= r->ncch || e < r->first_up[a] || e >= r->first_up[a + 1] ||
                                            r->up_head[e] != b))
            return bad(path, "segment to hierarchy arc map inconsistent");
    }
    uint64_t tot = 0;
    for (uint32_t c = 0; c < r->nscc; c++) tot += r->scc_sizes[c];
    if (tot != n) return bad(path, "component sizes do not add up");
    for (uint32_t v = 0; v < n; v++)
        if (r->scc[v] >= r->nscc) return bad(path, "component id out of range");
    return CS_OK;
}

cs_status cs_router_load(const char *path, const char *expected_fingerprint, cs_router **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return cs_error_set_at(CS_EIO, path, 0, 0, "cannot open routing graph: %s", strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return cs_error_set_at(CS_EIO, path, 0, 0, "cannot stat: %s", strerror(errno));
    }
    size_t size = (size_t)sb.st_size;
    if (size < RT_HDR + sizeof(rt_section) * RT_NSEC) { close(fd); return bad(path, "file too small"); }
    void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return cs_error_set_at(CS_EIO, path, 0, 0, "cannot map: %s", strerror(errno));
    cs_status st = CS_OK;
    cs_router *r = NULL;
    const rt_header *h = map;
    if (memcmp(h->magic, RT_MAGIC, 8) != 0) { st = bad(path, "foreign file (wrong magic)"); goto fail; }
    if (h->endian != RT_ENDIAN) { st = bad(path, "written on a machine of other endianness"); goto fail; }
    if (h->version != CS_ROUTER_FORMAT_VERSION) {
        st = cs_error_set_at(CS_EFORMAT, path, 0, 0, "routing graph format version %u, this build reads %u" REBUILD,
                             h->version, CS_ROUTER_FORMAT_VERSION);
        goto fail;
    }
    if (h->hdr_checksum != cs_checksum64(h, offsetof(rt_header, hdr_checksum), 0x5eed)) {
        st = bad(path, "header checksum mismatch (corrupt)");
        goto fail;
    }
    if (h->file_size != size) {
        st = cs_error_set_at(CS_EFORMAT, path, 0, 0, "routing graph truncated or padded: header says %llu bytes, file has %zu" REBUILD,
                             (unsigned long long)h->file_size, size);
        goto fail;
    }
    if (h->nsec != RT_NSEC) { st = bad(path, "unexpected section count"); goto fail; }
    if (h->fingerprint[64] != 0) { st = bad(path, "malformed fingerprint"); goto fail; }
    if (expected_fingerprint && expected_fingerprint[0] && strcmp(expected_fingerprint, h->fingerprint) != 0) {
        st = cs_error_set_at(CS_EFORMAT, path, 0, 0,
                             "stale routing graph: built from network %.12s..., the current network is %.12s..." REBUILD,
                             h->fingerprint, expected_fingerprint);
        goto fail;
    }
    r = cs_calloc(1, sizeof *r);
    if (!r) { st = CS_ENOMEM; goto fail; }
    r->n = h->n; r->nseg = h->nseg; r->ncch = h->ncch; r->nscc = h->nscc; r->et_height = h->et_height;
    r->has_nonroad = h->has_nonroad != 0;
    memcpy(r->fingerprint, h->fingerprint, 65);
    if (r->et_height > r->n) { st = bad(path, "elimination tree height out of range"); goto fail; }
    void **ptr[RT_NSEC];
    uint32_t elem[RT_NSEC];
    uint64_t count[RT_NSEC];
    sections(r, ptr, elem, count);
    const rt_section *sec = (const rt_section *)((const char *)map + RT_HDR);
    for (int i = 0; i < RT_NSEC; i++) {
        if (sec[i].id != (uint32_t)i || sec[i].elem != elem[i] || sec[i].bytes != count[i] * elem[i] ||
            sec[i].offset % 64 || sec[i].offset > size || sec[i].bytes > size - sec[i].offset) {
            st = bad(path, "section table inconsistent with the header counts");
            goto fail;
        }
        const void *p = (const char *)map + sec[i].offset;
        if (cs_checksum64(sec[i].bytes ? p : "", sec[i].bytes, (uint64_t)i) != sec[i].checksum) {
            char what[96];
            snprintf(what, sizeof what, "checksum mismatch in section %d (corrupt)", i);
            st = bad(path, what);
            goto fail;
        }
        *ptr[i] = sec[i].bytes ? (void *)p : NULL;
    }
    if (!r->has_nonroad) r->r_up = r->r_dn = NULL;
    if (!r->seg_u && r->nseg) { st = bad(path, "missing segments"); goto fail; }
    r->map = map;
    r->map_size = size;
    if ((st = validate_structure(r, path))) { r->map = NULL; goto fail; }
    *out = r;
    return CS_OK;
fail:
    cs_free(r);
    munmap(map, size);
    return st;
}

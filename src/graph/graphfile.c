/*
 * graphfile.c: the binary routing-graph file (graph + hierarchy + metric),
 * written atomically and loaded by mmap. Layout (little-endian host order,
 * checked by an endianness tag):
 *   header (256 bytes): magic "CSROUTER", version, endian tag 0x01020304,
 *     counts (nodes, segments, hierarchy arcs, components, tree height,
 *     non-road flag), number of sections, network fingerprint (64 hex),
 *     total file size, checksum of the header;
 *   section table: per section {id, element size, offset, bytes, checksum};
 *   sections, each 64-byte aligned (graph, hierarchy, metrics, components,
 *   and the query hierarchy of reduce.c); a section checksum is chained over
 *   1 MiB chunks.
 * The loader checks the size implied by the header against the file size,
 * every checksum, and the structure (permutation, CSR offsets monotone,
 * heads in range and increasing, elimination-tree parents, segment -> arc
 * map, query-hierarchy heads), so a stale, foreign, truncated or corrupt file
 * is refused. It reads the file with pread in 1 MiB chunks and maps it only
 * afterwards, so that a query makes resident only the pages it reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "citysys/fileio.h"
#include "routing_internal.h"

#define RT_MAGIC "CSROUTER"
#define RT_ENDIAN 0x01020304u
#define RT_NSEC 21
#define RT_HDR 256
#define RT_CHUNK ((size_t)1 << 20) /* checksum chunk (a multiple of every element size) */
#define REBUILD "; rebuild it from the network (cs_router_build + cs_router_save, or rerun `citysys matrix` with --rebuild)"

typedef struct {
    char magic[8];
    uint32_t version, endian;
    uint32_t n, nseg, ncch, nscc, et_height, has_nonroad, nsec, nq, has_q, pad;
    char fingerprint[72];
    uint64_t file_size;
    uint64_t hdr_checksum; /* of the bytes before this field */
    char reserved[RT_HDR - 8 - 4 * 12 - 72 - 16];
} rt_header;

typedef struct { uint32_t id, elem; uint64_t offset, bytes, checksum; } rt_section;

_Static_assert(sizeof(rt_header) == RT_HDR, "header size");

/* The sections, in file order: pointer, element size and count. */
static void sections(cs_router *r, void ***ptr, uint32_t *elem, uint64_t *count)
{
    int q = r->q_first != NULL;
    void **p[RT_NSEC] = {
        (void **)&r->seg_u, (void **)&r->seg_v, (void **)&r->seg_fwd, (void **)&r->seg_bwd, (void **)&r->seg_len,
        (void **)&r->seg_mode, (void **)&r->seg_cch, (void **)&r->rank, (void **)&r->order, (void **)&r->parent,
        (void **)&r->first_up, (void **)&r->up_head, (void **)&r->w_up, (void **)&r->w_dn, (void **)&r->r_up,
        (void **)&r->r_dn, (void **)&r->scc, (void **)&r->scc_sizes, (void **)&r->q_first, (void **)&r->q_head,
        (void **)&r->q_key};
    uint32_t e[RT_NSEC] = {4, 4, 4, 4, 4, 1, 4, 4, 4, 4, 4, 4, 8, 8, 8, 8, 4, 4, 4, 4, 8};
    uint64_t c[RT_NSEC] = {r->nseg, r->nseg, r->nseg, r->nseg, r->nseg, r->nseg, r->nseg, r->n, r->n, r->n,
                           (uint64_t)r->n + 1, r->ncch, r->ncch, r->ncch, r->has_nonroad ? r->ncch : 0,
                           r->has_nonroad ? r->ncch : 0, r->n, r->nscc, q ? (uint64_t)r->n + 1 : 0,
                           q ? r->nq : 0, q ? r->nq : 0};
    for (int i = 0; i < RT_NSEC; i++) { ptr[i] = p[i]; elem[i] = e[i]; count[i] = c[i]; }
}

static uint64_t align64(uint64_t x) { return (x + 63) & ~(uint64_t)63; }

/* Section checksum: cs_checksum64 chained over RT_CHUNK-byte chunks (so a loader can check it with
   bounded reads), starting from the checksum of the empty string seeded with the section id. */
static uint64_t sec_checksum(const void *data, uint64_t bytes, uint32_t id)
{
    uint64_t h = cs_checksum64("", 0, id);
    for (uint64_t o = 0; o < bytes; o += RT_CHUNK) {
        size_t k = bytes - o < RT_CHUNK ? (size_t)(bytes - o) : RT_CHUNK;
        h = cs_checksum64((const char *)data + o, k, h);
    }
    return h;
}

cs_status cs_router_save(const cs_router *rc, const char *path) { return cs_router_save_flags(rc, path, 0); }

cs_status cs_router_save_flags(const cs_router *rc, const char *path, unsigned flags)
{
    /* a copy of the descriptor: the query hierarchy of the current metric is derived here when the
       router has none (built without it, or changed since), without touching the caller's router */
    cs_router t = *rc, *r = &t;
    int own_q = 0;
    if (flags & CS_ROUTER_SAVE_NO_QUERY_HIERARCHY) {
        r->q_first = r->q_head = NULL;
        r->q_key = NULL;
        r->nq = 0;
    } else if (!r->q_first) {
        cs_status s0 = rt_reduce(r, 0);
        if (s0) return s0;
        own_q = r->q_first != NULL;
    }
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
        sec[i].checksum = sec_checksum(sec[i].bytes ? *ptr[i] : "", sec[i].bytes, (uint32_t)i);
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
    h.has_q = r->q_first != NULL;
    h.nq = h.has_q ? r->nq : 0;
    memcpy(h.fingerprint, r->fingerprint, 65);
    h.file_size = off;
    h.hdr_checksum = cs_checksum64(&h, offsetof(rt_header, hdr_checksum), 0x5eed);
    cs_atomic_file *f;
    cs_status st = cs_atomic_open(path, &f);
    if (st) goto out;
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
    st = cs_atomic_commit(f);
    goto out;
fail:
    cs_atomic_abort(f);
out:
    if (own_q) { cs_free(t.q_first); cs_free(t.q_head); cs_free(t.q_key); }
    return st;
}

static cs_status bad(const char *path, const char *what)
{
    return cs_error_set_at(CS_EFORMAT, path, 0, 0, "not a usable routing graph file: %s" REBUILD, what);
}

/* ---- loading: every section is read with pread in RT_CHUNK pieces (checksum and structure checks),
   never through the mapping, so that the mapping's pages become resident only when a query uses them ---- */

typedef struct {
    int fd;
    const rt_section *s;
    uint64_t pos; /* bytes of the section consumed */
    uint64_t h;
    void *buf;
} sec_reader;

static cs_status sr_open(sec_reader *R, int fd, const rt_section *s)
{
    R->fd = fd;
    R->s = s;
    R->pos = 0;
    R->h = cs_checksum64("", 0, s->id);
    if (!R->buf) R->buf = cs_malloc(RT_CHUNK);
    return R->buf ? CS_OK : CS_ENOMEM;
}

/* Next chunk: *data, *len (0 at the end); I/O errors are CS_EIO. */
static cs_status sr_next(sec_reader *R, const char *path, const void **data, size_t *len)
{
    *len = 0;
    *data = R->buf;
    if (R->pos >= R->s->bytes) return CS_OK;
    size_t k = R->s->bytes - R->pos < RT_CHUNK ? (size_t)(R->s->bytes - R->pos) : RT_CHUNK;
    size_t got = 0;
    while (got < k) {
        ssize_t x = pread(R->fd, (char *)R->buf + got, k - got, (off_t)(R->s->offset + R->pos + got));
        if (x < 0 && errno == EINTR) continue;
        if (x <= 0) return cs_error_set_at(CS_EIO, path, 0, 0, "cannot read routing graph: %s", x < 0 ? strerror(errno) : "unexpected end of file");
        got += (size_t)x;
    }
    R->h = cs_checksum64(R->buf, k, R->h);
    R->pos += k;
    *len = k;
    return CS_OK;
}

static cs_status sr_end(const sec_reader *R, const char *path)
{
    if (R->h != R->s->checksum) {
        char what[96];
        snprintf(what, sizeof what, "checksum mismatch in section %u (corrupt)", R->s->id);
        return bad(path, what);
    }
    return CS_OK;
}

/* Checksum a whole section; when dst != NULL also copy it there. */
static cs_status sr_all(sec_reader *R, int fd, const rt_section *s, const char *path, void *dst)
{
    cs_status st;
    if ((st = sr_open(R, fd, s))) return st;
    uint64_t at = 0;
    for (;;) {
        const void *d;
        size_t k;
        if ((st = sr_next(R, path, &d, &k))) return st;
        if (!k) break;
        if (dst) memcpy((char *)dst + at, d, k);
        at += k;
    }
    return sr_end(R, path);
}

typedef struct { uint32_t arc, head; } arc_check;

static int cmp_arc_check(const void *a, const void *b)
{
    const arc_check *x = a, *y = b;
    return x->arc < y->arc ? -1 : x->arc > y->arc;
}

/* Checks every section (checksum) and the structure (see the file comment). */
static cs_status check_file(int fd, const rt_header *h, const rt_section *sec, const char *path)
{
    uint32_t n = h->n, nseg = h->nseg, ncch = h->ncch;
    sec_reader R[3];
    memset(R, 0, sizeof R);
    uint32_t *rk = cs_mallocarray((size_t)n + 1, 4), *fu = cs_mallocarray((size_t)n + 1, 4),
             *par = cs_mallocarray((size_t)n + 1, 4);
    arc_check *pairs = cs_mallocarray((size_t)nseg + 1, sizeof *pairs);
    cs_status st = CS_OK;
    const void *d[3];
    size_t k[3];
    if (!rk || !fu || !par || !pairs) { st = CS_ENOMEM; goto out; }
    /* order is a permutation and rank its inverse */
    if ((st = sr_all(&R[0], fd, &sec[7], path, rk)) || (st = sr_open(&R[0], fd, &sec[8]))) goto out;
    for (uint64_t i = 0;;) {
        if ((st = sr_next(&R[0], path, &d[0], &k[0]))) goto out;
        if (!k[0]) break;
        const uint32_t *o = d[0];
        for (size_t q = 0; q < k[0] / 4; q++, i++)
            if (o[q] >= n || rk[o[q]] != i) { st = bad(path, "node order is not a permutation"); goto out; }
    }
    if ((st = sr_end(&R[0], path))) goto out;
    /* hierarchy offsets, parents */
    if ((st = sr_all(&R[0], fd, &sec[10], path, fu)) || (st = sr_all(&R[0], fd, &sec[9], path, par))) goto out;
    if (fu[0] != 0 || fu[n] != ncch) { st = bad(path, "hierarchy offsets do not match the arc count"); goto out; }
    for (uint32_t v = 0; v < n; v++)
        if (fu[v + 1] < fu[v]) { st = bad(path, "hierarchy offsets not monotone"); goto out; }
    /* segments: ends in range; each maps to the arc of its node pair (heads checked with the arcs below) */
    size_t np = 0;
    for (int j = 0; j < 3; j++)
        if ((st = sr_open(&R[j], fd, &sec[j == 2 ? 6 : j]))) goto out;
    for (uint64_t s = 0;;) {
        for (int j = 0; j < 3; j++)
            if ((st = sr_next(&R[j], path, &d[j], &k[j]))) goto out;
        if (!k[0]) break;
        const uint32_t *su = d[0], *sv = d[1], *sc = d[2];
        for (size_t q = 0; q < k[0] / 4; q++, s++) {
            if (su[q] >= n || sv[q] >= n) { st = bad(path, "segment end node out of range"); goto out; }
            uint32_t a = rk[su[q]], b = rk[sv[q]], e = sc[q];
            if (a > b) { uint32_t t = a; a = b; b = t; }
            if (a == b ? e != CS_INVALID_ID : (e >= ncch || e < fu[a] || e >= fu[a + 1])) {
                st = bad(path, "segment to hierarchy arc map inconsistent");
                goto out;
            }
            if (a != b) pairs[np++] = (arc_check){e, b};
        }
    }
    for (int j = 0; j < 3; j++)
        if ((st = sr_end(&R[j], path))) goto out;
    qsort(pairs, np, sizeof *pairs, cmp_arc_check);
    /* upward arcs: heads above their tail, in range, increasing; parent = lowest upper neighbour */
    if ((st = sr_open(&R[0], fd, &sec[11]))) goto out;
    uint32_t v = 0, prevh = 0;
    size_t pp = 0;
    for (uint64_t a = 0;;) {
        if ((st = sr_next(&R[0], path, &d[0], &k[0]))) goto out;
        if (!k[0]) break;
        const uint32_t *hd = d[0];
        for (size_t q = 0; q < k[0] / 4; q++, a++) {
            while (fu[v + 1] <= a) v++;
            uint32_t x = hd[q];
            if (x <= v || x >= n || (a > fu[v] && x <= prevh))
                { st = bad(path, "hierarchy arc heads out of range or not increasing"); goto out; }
            if (a == fu[v] && par[v] != x) { st = bad(path, "elimination tree parent mismatch"); goto out; }
            prevh = x;
            for (; pp < np && pairs[pp].arc == a; pp++)
                if (pairs[pp].head != x) { st = bad(path, "segment to hierarchy arc map inconsistent"); goto out; }
        }
    }
    if ((st = sr_end(&R[0], path))) goto out;
    for (v = 0; v < n; v++)
        if (fu[v] == fu[v + 1] && par[v] != CS_INVALID_ID) { st = bad(path, "elimination tree parent mismatch"); goto out; }
    /* metric and segment attributes: checksums */
    static const int plain[] = {2, 3, 4, 5, 12, 13, 14, 15, 20};
    for (size_t j = 0; j < sizeof plain / sizeof plain[0]; j++)
        if ((st = sr_all(&R[0], fd, &sec[plain[j]], path, NULL))) goto out;
    /* components */
    if ((st = sr_open(&R[0], fd, &sec[16]))) goto out;
    for (;;) {
        if ((st = sr_next(&R[0], path, &d[0], &k[0]))) goto out;
        if (!k[0]) break;
        const uint32_t *c = d[0];
        for (size_t q = 0; q < k[0] / 4; q++)
            if (c[q] >= h->nscc) { st = bad(path, "component id out of range"); goto out; }
    }
    if ((st = sr_end(&R[0], path)) || (st = sr_open(&R[0], fd, &sec[17]))) goto out;
    uint64_t tot = 0;
    for (;;) {
        if ((st = sr_next(&R[0], path, &d[0], &k[0]))) goto out;
        if (!k[0]) break;
        const uint32_t *c = d[0];
        for (size_t q = 0; q < k[0] / 4; q++) tot += c[q];
    }
    if ((st = sr_end(&R[0], path))) goto out;
    if (tot != n) { st = bad(path, "component sizes do not add up"); goto out; }
    /* query hierarchy: offsets, heads (above the tail, in range, a direction flag, non-decreasing) */
    if (h->has_q) {
        uint32_t *qf = fu; /* reuse */
        if ((st = sr_all(&R[0], fd, &sec[18], path, qf))) goto out;
        if (qf[0] != 0 || qf[n] != h->nq) { st = bad(path, "query hierarchy offsets do not match its size"); goto out; }
        for (v = 0; v < n; v++)
            if (qf[v + 1] < qf[v]) { st = bad(path, "query hierarchy offsets not monotone"); goto out; }
        if ((st = sr_open(&R[0], fd, &sec[19]))) goto out;
        v = 0;
        uint32_t prev = 0;
        for (uint64_t a = 0;;) {
            if ((st = sr_next(&R[0], path, &d[0], &k[0]))) goto out;
            if (!k[0]) break;
            const uint32_t *hd = d[0];
            for (size_t q = 0; q < k[0] / 4; q++, a++) {
                while (qf[v + 1] <= a) v++;
                uint32_t x = hd[q] & RT_QMASK;
                if (x <= v || x >= n || !(hd[q] & (RT_QUP | RT_QDN)) || (a > qf[v] && x < prev))
                    { st = bad(path, "query hierarchy heads out of range or not sorted"); goto out; }
                prev = x;
            }
        }
        if ((st = sr_end(&R[0], path))) goto out;
    } else if (sec[18].bytes || sec[19].bytes || sec[20].bytes) {
        st = bad(path, "query hierarchy sections without the header flag");
    }
out:
    for (int j = 0; j < 3; j++) cs_free(R[j].buf);
    cs_free(rk); cs_free(fu); cs_free(par); cs_free(pairs);
    return st;
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
    cs_status st = CS_OK;
    cs_router *r = NULL;
    void *map = NULL;
    rt_header hb;
    rt_section sec[RT_NSEC];
    const rt_header *h = &hb;
    if (size < RT_HDR) { close(fd); return bad(path, "file too small"); }
    if (pread(fd, &hb, sizeof hb, 0) != (ssize_t)sizeof hb) {
        close(fd);
        return cs_error_set_at(CS_EIO, path, 0, 0, "cannot read routing graph header: %s", strerror(errno));
    }
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
    if (h->nsec != RT_NSEC || size < RT_HDR + sizeof sec) { st = bad(path, "unexpected section count"); goto fail; }
    if (h->fingerprint[64] != 0) { st = bad(path, "malformed fingerprint"); goto fail; }
    if (expected_fingerprint && expected_fingerprint[0] && strcmp(expected_fingerprint, h->fingerprint) != 0) {
        st = cs_error_set_at(CS_EFORMAT, path, 0, 0,
                             "stale routing graph: built from network %.12s..., the current network is %.12s..." REBUILD,
                             h->fingerprint, expected_fingerprint);
        goto fail;
    }
    if (h->has_q > 1 || (h->has_q && h->n > RT_QMASK)) { st = bad(path, "query hierarchy flag out of range"); goto fail; }
    if (pread(fd, sec, sizeof sec, RT_HDR) != (ssize_t)sizeof sec) { st = bad(path, "cannot read the section table"); goto fail; }
    r = cs_calloc(1, sizeof *r);
    if (!r) { st = CS_ENOMEM; goto fail; }
    r->n = h->n; r->nseg = h->nseg; r->ncch = h->ncch; r->nscc = h->nscc; r->et_height = h->et_height;
    r->has_nonroad = h->has_nonroad != 0;
    r->nq = h->has_q ? h->nq : 0;
    memcpy(r->fingerprint, h->fingerprint, 65);
    if (r->et_height > r->n) { st = bad(path, "elimination tree height out of range"); goto fail; }
    void **ptr[RT_NSEC];
    uint32_t elem[RT_NSEC];
    uint64_t count[RT_NSEC];
    if (h->has_q) r->q_first = (uint32_t *)(uintptr_t)1; /* sections() sizes the query hierarchy */
    sections(r, ptr, elem, count);
    r->q_first = NULL;
    for (int i = 0; i < RT_NSEC; i++) {
        if (sec[i].id != (uint32_t)i || sec[i].elem != elem[i] || sec[i].bytes != count[i] * elem[i] ||
            sec[i].offset % 64 || sec[i].offset > size || sec[i].bytes > size - sec[i].offset) {
            st = bad(path, "section table inconsistent with the header counts");
            goto fail;
        }
    }
    if ((st = check_file(fd, h, sec, path))) goto fail;
    map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        map = NULL;
        st = cs_error_set_at(CS_EIO, path, 0, 0, "cannot map: %s", strerror(errno));
        goto fail;
    }
    /* no readahead / fault-around into the mapping: only the pages a query reads become resident */
    (void)madvise(map, size, MADV_RANDOM);
    for (int i = 0; i < RT_NSEC; i++) *ptr[i] = sec[i].bytes ? (void *)((char *)map + sec[i].offset) : NULL;
    if (!r->has_nonroad) r->r_up = r->r_dn = NULL;
    if (!h->has_q) { r->q_first = r->q_head = NULL; r->q_key = NULL; r->nq = 0; }
    r->map = map;
    r->map_size = size;
    close(fd);
    *out = r;
    return CS_OK;
fail:
    close(fd);
    cs_free(r);
    if (map) munmap(map, size);
    return st;
}

/* fileio.c: atomic file/dir writers, whole-file reads, SHA-256, checksums. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include "citysys/alloc.h"
#include "citysys/fileio.h"

struct cs_atomic_file {
    char *path;
    char *tmp;
    FILE *fp;
    int failed;
};

static char *dir_of(const char *path)
{
    const char *s = strrchr(path, '/');
    if (!s) return cs_strdup(".");
    if (s == path) return cs_strdup("/");
    return cs_strndup(path, (size_t)(s - path));
}

static void fsync_dir(const char *path)
{
    /* no allocation here: a commit must not skip the directory sync because memory is short */
    char d[4096];
    const char *s = strrchr(path, '/');
    if (!s) snprintf(d, sizeof d, ".");
    else if (s == path) snprintf(d, sizeof d, "/");
    else snprintf(d, sizeof d, "%.*s", (int)(s - path), path);
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

cs_status cs_atomic_open(const char *path, cs_atomic_file **out)
{
    *out = NULL;
    if (!path || !*path) return cs_error_set(CS_EINVAL, "empty output path");
    cs_atomic_file *f = cs_calloc(1, sizeof *f);
    if (!f) return CS_ENOMEM;
    f->path = cs_strdup(path);
    /* keep the extension at the end: GDAL picks drivers by it */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *ext = strrchr(base, '.');
    char *d = dir_of(path);
    f->tmp = (d && f->path) ? cs_asprintf("%s/.%s.tmp-XXXXXX%s", d, base, ext ? ext : "") : NULL;
    cs_free(d);
    if (!f->path || !f->tmp) {
        cs_free(f->path);
        cs_free(f->tmp);
        cs_free(f);
        return CS_ENOMEM;
    }
    int fd = mkstemps(f->tmp, ext ? (int)strlen(ext) : 0);
    if (fd < 0) {
        cs_status st = cs_error_set_at(CS_EIO, path, 0, 0, "cannot create a temporary file beside it: %s",
                                       strerror(errno));
        cs_free(f->path);
        cs_free(f->tmp);
        cs_free(f);
        return st;
    }
    fchmod(fd, 0644);
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        close(fd);
        unlink(f->tmp);
        cs_free(f->path);
        cs_free(f->tmp);
        cs_free(f);
        return cs_error_set_at(CS_EIO, path, 0, 0, "cannot open temporary file: %s", strerror(errno));
    }
    *out = f;
    return CS_OK;
}

FILE *cs_atomic_stream(cs_atomic_file *f) { return f ? f->fp : NULL; }
const char *cs_atomic_temp_path(const cs_atomic_file *f) { return f ? f->tmp : NULL; }

cs_status cs_atomic_write(cs_atomic_file *f, const void *data, size_t n)
{
    if (n && fwrite(data, 1, n, f->fp) != n) {
        f->failed = 1;
        return cs_error_set_at(CS_EIO, f->path, 0, 0, "write failed: %s", strerror(errno));
    }
    return CS_OK;
}

static void af_free(cs_atomic_file *f)
{
    cs_free(f->path);
    cs_free(f->tmp);
    cs_free(f);
}

cs_status cs_atomic_commit(cs_atomic_file *f)
{
    if (!f) return cs_error_set(CS_EINVAL, "no file");
    cs_status st = CS_OK;
    int err = 0;
    if (f->failed || ferror(f->fp)) err = EIO;
    if (!err && fflush(f->fp) != 0) err = errno;
    if (!err && fsync(fileno(f->fp)) != 0) err = errno;
    if (fclose(f->fp) != 0 && !err) err = errno;
    f->fp = NULL;
    if (!err && rename(f->tmp, f->path) != 0) err = errno;
    if (err) {
        unlink(f->tmp);
        st = cs_error_set_at(CS_EIO, f->path, 0, 0, "cannot write file: %s", strerror(err));
    } else {
        fsync_dir(f->path);
    }
    af_free(f);
    return st;
}

void cs_atomic_abort(cs_atomic_file *f)
{
    if (!f) return;
    if (f->fp) fclose(f->fp);
    unlink(f->tmp);
    af_free(f);
}

cs_status cs_write_file_atomic(const char *path, const void *data, size_t n)
{
    cs_atomic_file *f;
    cs_status st = cs_atomic_open(path, &f);
    if (st) return st;
    st = cs_atomic_write(f, data, n);
    if (st) {
        cs_atomic_abort(f);
        return st;
    }
    return cs_atomic_commit(f);
}

cs_status cs_read_file(const char *path, char **data, size_t *size)
{
    *data = NULL;
    if (size) *size = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return cs_error_set_at(CS_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    size_t cap = 65536, n = 0;
    char *buf = cs_malloc(cap);
    if (!buf) {
        fclose(fp);
        return CS_ENOMEM;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = cs_realloc(buf, cap * 2);
            if (!nb) {
                cs_free(buf);
                fclose(fp);
                return CS_ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, fp);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        cs_free(buf);
        return cs_error_set_at(CS_EIO, path, 0, 0, "read error");
    }
    buf[n] = 0;
    *data = buf;
    if (size) *size = n;
    return CS_OK;
}

/* ---- directories ---- */
struct cs_atomic_dir {
    char *path;
    char *tmp;
};

cs_status cs_mkdir_p(const char *path)
{
    char *p = cs_strdup(path);
    if (!p) return CS_ENOMEM;
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                cs_status st = cs_error_set_at(CS_EIO, p, 0, 0, "cannot create directory: %s", strerror(errno));
                cs_free(p);
                return st;
            }
            *s = '/';
        }
    }
    cs_status st = CS_OK;
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        st = cs_error_set_at(CS_EIO, p, 0, 0, "cannot create directory: %s", strerror(errno));
    cs_free(p);
    return st;
}

cs_status cs_remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) return errno == ENOENT ? CS_OK : cs_error_set_at(CS_EIO, path, 0, 0, "%s", strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (!d) return cs_error_set_at(CS_EIO, path, 0, 0, "cannot open directory: %s", strerror(errno));
        struct dirent *e;
        cs_status st = CS_OK;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *sub = cs_asprintf("%s/%s", path, e->d_name);
            if (!sub) {
                st = CS_ENOMEM;
                break;
            }
            st = cs_remove_tree(sub);
            cs_free(sub);
            if (st) break;
        }
        closedir(d);
        if (st) return st;
        if (rmdir(path) != 0) return cs_error_set_at(CS_EIO, path, 0, 0, "cannot remove: %s", strerror(errno));
        return CS_OK;
    }
    if (unlink(path) != 0) return cs_error_set_at(CS_EIO, path, 0, 0, "cannot remove: %s", strerror(errno));
    return CS_OK;
}

/* remove stale temporaries ".<base>.tmp-*" left by killed runs */
static void clean_stale(const char *path)
{
    char *d = dir_of(path);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *prefix = cs_asprintf(".%s.tmp-", base);
    if (d && prefix) {
        DIR *dir = opendir(d);
        if (dir) {
            struct dirent *e;
            size_t pl = strlen(prefix);
            while ((e = readdir(dir))) {
                if (!strncmp(e->d_name, prefix, pl)) {
                    char *sub = cs_asprintf("%s/%s", d, e->d_name);
                    if (sub) cs_remove_tree(sub);
                    cs_free(sub);
                }
            }
            closedir(dir);
        }
    }
    cs_free(d);
    cs_free(prefix);
}

cs_status cs_atomic_dir_begin(const char *path, cs_atomic_dir **out)
{
    *out = NULL;
    if (!path || !*path) return cs_error_set(CS_EINVAL, "empty output directory");
    char *clean = cs_strdup(path);
    if (!clean) return CS_ENOMEM;
    size_t L = strlen(clean);
    while (L > 1 && clean[L - 1] == '/') clean[--L] = 0;
    char *parent = dir_of(clean);
    if (!parent) {
        cs_free(clean);
        return CS_ENOMEM;
    }
    cs_status st = cs_mkdir_p(parent);
    cs_free(parent);
    if (st) {
        cs_free(clean);
        return st;
    }
    clean_stale(clean);
    cs_atomic_dir *d = cs_calloc(1, sizeof *d);
    char *base = strrchr(clean, '/');
    char *dn = dir_of(clean);
    char *tmp = (d && dn) ? cs_asprintf("%s/.%s.tmp-XXXXXX", dn, base ? base + 1 : clean) : NULL;
    cs_free(dn);
    if (!d || !tmp) {
        cs_free(d);
        cs_free(tmp);
        cs_free(clean);
        return CS_ENOMEM;
    }
    if (!mkdtemp(tmp)) {
        st = cs_error_set_at(CS_EIO, clean, 0, 0, "cannot create temporary directory: %s", strerror(errno));
        cs_free(d);
        cs_free(tmp);
        cs_free(clean);
        return st;
    }
    chmod(tmp, 0755);
    d->path = clean;
    d->tmp = tmp;
    *out = d;
    return CS_OK;
}

const char *cs_atomic_dir_path(const cs_atomic_dir *d) { return d ? d->tmp : NULL; }

cs_status cs_atomic_dir_commit(cs_atomic_dir *d)
{
    if (!d) return cs_error_set(CS_EINVAL, "no directory");
    cs_status st = CS_OK;
    /* make the content durable before it becomes visible */
    int dfd = open(d->tmp, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    struct stat sb;
    if (lstat(d->path, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) {
            st = cs_error_set_at(CS_EIO, d->path, 0, 0, "exists and is not a directory");
        } else if (renameat2(AT_FDCWD, d->tmp, AT_FDCWD, d->path, RENAME_EXCHANGE) != 0) {
            st = cs_error_set_at(CS_EIO, d->path, 0, 0, "cannot swap the new output into place: %s", strerror(errno));
        } else {
            fsync_dir(d->path);
            cs_remove_tree(d->tmp); /* now the old content; leftovers are cleaned by the next run */
            cs_free(d->path);
            cs_free(d->tmp);
            cs_free(d);
            return CS_OK;
        }
    } else if (rename(d->tmp, d->path) != 0) {
        st = cs_error_set_at(CS_EIO, d->path, 0, 0, "cannot move the new output into place: %s", strerror(errno));
    } else {
        fsync_dir(d->path);
    }
    if (st) cs_remove_tree(d->tmp);
    cs_free(d->path);
    cs_free(d->tmp);
    cs_free(d);
    return st;
}

void cs_atomic_dir_abort(cs_atomic_dir *d)
{
    if (!d) return;
    cs_remove_tree(d->tmp);
    cs_free(d->path);
    cs_free(d->tmp);
    cs_free(d);
}

/* ---- SHA-256 (FIPS 180-4) ---- */
static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(cs_sha256 *s, const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t S1 = ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = h + S1 + ch + K256[i] + w[i];
        uint32_t S0 = ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22);
        uint32_t mj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + mj;
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
    s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

void cs_sha256_init(cs_sha256 *s)
{
    static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, H0, sizeof H0);
    s->len = 0;
    s->nbuf = 0;
}

void cs_sha256_update(cs_sha256 *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->len += n;
    while (n) {
        if (s->nbuf == 0 && n >= 64) {
            sha_block(s, p);
            p += 64;
            n -= 64;
            continue;
        }
        size_t k = 64 - s->nbuf;
        if (k > n) k = n;
        memcpy(s->buf + s->nbuf, p, k);
        s->nbuf += k;
        p += k;
        n -= k;
        if (s->nbuf == 64) {
            sha_block(s, s->buf);
            s->nbuf = 0;
        }
    }
}

void cs_sha256_final(cs_sha256 *s, unsigned char out[32])
{
    uint64_t bits = s->len * 8;
    unsigned char pad = 0x80;
    cs_sha256_update(s, &pad, 1);
    unsigned char z = 0;
    while (s->nbuf != 56) cs_sha256_update(s, &z, 1);
    unsigned char L[8];
    for (int i = 0; i < 8; i++) L[i] = (unsigned char)(bits >> (56 - 8 * i));
    cs_sha256_update(s, L, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(s->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)s->h[i];
    }
}

void cs_sha256_hex(cs_sha256 *s, char out[65])
{
    unsigned char d[32];
    cs_sha256_final(s, d);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

void cs_sha256_str(cs_sha256 *s, const char *str)
{
    if (!str) str = "";
    cs_sha256_update(s, str, strlen(str) + 1);
}

cs_status cs_sha256_file(cs_sha256 *s, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return cs_error_set_at(CS_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    unsigned char buf[65536];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, fp)) > 0) cs_sha256_update(s, buf, r);
    int bad = ferror(fp);
    fclose(fp);
    return bad ? cs_error_set_at(CS_EIO, path, 0, 0, "read error") : CS_OK;
}

/* ---- fast checksum: 4-lane multiply-rotate over 64-bit words ---- */
static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t cs_checksum64(const void *data, size_t n, uint64_t seed)
{
    const uint64_t P1 = 0x9E3779B185EBCA87ULL, P2 = 0xC2B2AE3D27D4EB4FULL;
    const unsigned char *p = data;
    uint64_t a = seed + P1 + P2, b = seed + P2, c = seed, d = seed - P1;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, 32);
        a = rotl64(a + w[0] * P2, 31) * P1;
        b = rotl64(b + w[1] * P2, 31) * P1;
        c = rotl64(c + w[2] * P2, 31) * P1;
        d = rotl64(d + w[3] * P2, 31) * P1;
    }
    uint64_t h = rotl64(a, 1) + rotl64(b, 7) + rotl64(c, 12) + rotl64(d, 18) + (uint64_t)n;
    for (; i < n; i++) h = rotl64(h ^ (p[i] * P1), 11) * P2;
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    return h;
}

cs_status cs_data_find(const char *rel, char **path)
{
    *path = NULL;
    if (!rel || !*rel) return cs_error_set(CS_EINVAL, "empty data file name");
    char exe[4096] = "";
    ssize_t r = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (r > 0) {
        exe[r] = 0;
        char *sl = strrchr(exe, '/');
        if (sl) *sl = 0;
    }
    const char *env = getenv("CITYSYS_DATA_DIR");
    char *cand[6] = {0};
    int nc = 0;
    if (env && *env) cand[nc++] = cs_asprintf("%s/%s", env, rel);
    if (*exe) {
        cand[nc++] = cs_asprintf("%s/../share/citysys/%s", exe, rel);
        cand[nc++] = cs_asprintf("%s/../share/%s", exe, rel);
        cand[nc++] = cs_asprintf("%s/../../share/%s", exe, rel);
    }
#ifdef CS_SOURCE_SHARE_DIR
    cand[nc++] = cs_asprintf("%s/%s", CS_SOURCE_SHARE_DIR, rel);
#endif
    cs_status st = CS_ENOTFOUND;
    for (int i = 0; i < nc; i++) {
        if (!cand[i]) {
            st = CS_ENOMEM;
            break;
        }
        if (access(cand[i], R_OK) == 0) {
            *path = cand[i];
            cand[i] = NULL;
            st = CS_OK;
            break;
        }
    }
    if (st == CS_ENOTFOUND)
        cs_error_set(CS_ENOTFOUND, "bundled data file '%s' not found (set CITYSYS_DATA_DIR to the installed "
                     "share/citysys folder)", rel);
    for (int i = 0; i < nc; i++) cs_free(cand[i]);
    return st;
}

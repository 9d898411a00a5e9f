/*
 * fileio.h: atomic file and directory writers, file hashing, fingerprints.
 *
 * Atomic file: a temporary file is created in the target's directory; every
 * write is checked; commit flushes, fsyncs, renames over the target and
 * fsyncs the directory. On abort or any failure the temporary is removed and
 * the target is left exactly as it was.
 *
 * Atomic directory: outputs are written into a temporary sibling directory;
 * commit swaps it with the target atomically (renameat2 RENAME_EXCHANGE,
 * or a plain rename when the target does not exist), then removes the old
 * tree. A process killed at any moment leaves the target either as it was
 * or complete; stale temporaries are removed by the next run.
 */
#ifndef CITYSYS_FILEIO_H
#define CITYSYS_FILEIO_H

#include <stdio.h>
#include "citysys/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_atomic_file cs_atomic_file;

/** Start writing `path` atomically. *out receives the writer (owned). */
CS_API cs_status cs_atomic_open(const char *path, cs_atomic_file **out);
/** The stdio stream to write to (borrowed). */
CS_API FILE *cs_atomic_stream(cs_atomic_file *f);
/** Path of the temporary file (borrowed), for libraries that write by path (GDAL). */
CS_API const char *cs_atomic_temp_path(const cs_atomic_file *f);
/** Write n bytes, checked. */
CS_API cs_status cs_atomic_write(cs_atomic_file *f, const void *data, size_t n);
/** Flush, fsync, rename into place, fsync the directory; frees f in all cases. */
CS_API cs_status cs_atomic_commit(cs_atomic_file *f);
/** Remove the temporary, leave the target untouched; frees f. NULL is a no-op. */
CS_API void cs_atomic_abort(cs_atomic_file *f);

/** Write a whole buffer to path atomically. */
CS_API cs_status cs_write_file_atomic(const char *path, const void *data, size_t n);
/** Read a whole file into a new buffer (NUL-terminated; *size excludes the NUL). */
CS_API cs_status cs_read_file(const char *path, char **data, size_t *size);

typedef struct cs_atomic_dir cs_atomic_dir;
/** Begin writing directory `path` atomically; creates a temporary sibling. */
CS_API cs_status cs_atomic_dir_begin(const char *path, cs_atomic_dir **out);
/** Path of the temporary directory to write into (borrowed). */
CS_API const char *cs_atomic_dir_path(const cs_atomic_dir *d);
/** Swap the temporary into place; frees d in all cases. */
CS_API cs_status cs_atomic_dir_commit(cs_atomic_dir *d);
/** Remove the temporary tree; frees d. NULL is a no-op. */
CS_API void cs_atomic_dir_abort(cs_atomic_dir *d);
/** Remove a directory tree (like rm -rf). */
CS_API cs_status cs_remove_tree(const char *path);
/** mkdir -p */
CS_API cs_status cs_mkdir_p(const char *path);

/**
 * Find a bundled data file (e.g. "boundaries/ne_50m_countries.geojson.gz") in, in order:
 * $CITYSYS_DATA_DIR, <dir of the executable>/../share/citysys, <dir of the executable>/../share,
 * <dir of the executable>/../../share (build trees), and the source tree this library was built from.
 * *path receives an owned string. CS_ENOTFOUND lists the places searched.
 */
CS_API cs_status cs_data_find(const char *relpath, char **path);

/** SHA-256. */
typedef struct cs_sha256 {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t nbuf;
} cs_sha256;
CS_API void cs_sha256_init(cs_sha256 *s);
CS_API void cs_sha256_update(cs_sha256 *s, const void *data, size_t n);
CS_API void cs_sha256_final(cs_sha256 *s, unsigned char out[32]);
/** Final digest as 64 lowercase hex characters + NUL. */
CS_API void cs_sha256_hex(cs_sha256 *s, char out[65]);
/** Feed a string including its terminating NUL (so "a","b" != "ab"). */
CS_API void cs_sha256_str(cs_sha256 *s, const char *str);
/** Feed the content of a file. */
CS_API cs_status cs_sha256_file(cs_sha256 *s, const char *path);

/** Fast 64-bit checksum of a buffer (section checksums in binary files; not cryptographic). */
CS_API uint64_t cs_checksum64(const void *data, size_t n, uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif

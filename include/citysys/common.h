/*
 * citysys — analysis and planning of systems of secondary cities.
 * Copyright (C) 2026 the citysys authors. GPL-3.0-or-later.
 *
 * common.h: export macros, version, basic types shared by every module.
 *
 * Compatibility promise: within a major version, public functions keep their
 * signatures and meaning; incompatible changes require a new major version.
 */
#ifndef CITYSYS_COMMON_H
#define CITYSYS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CS_API __attribute__((visibility("default")))
#else
#define CS_API
#endif

#define CS_VERSION_MAJOR 0
#define CS_VERSION_MINOR 1
#define CS_VERSION_PATCH 0
#define CS_VERSION_STRING "0.1.0"

/** Invalid dense id (32-bit ids everywhere; OSM ids stay 64-bit). */
#define CS_INVALID_ID UINT32_MAX

/** Library version as "MAJOR.MINOR.PATCH" (static string). */
CS_API const char *cs_version(void);

/**
 * Versions of the libraries citysys was built with and runs with, one per
 * line ("gdal 3.6.2\njansson 2.14\n..."). Static storage, thread-safe.
 */
CS_API const char *cs_dependency_versions(void);

/**
 * Progress callback. The library never prints: long work calls this with a
 * stage name and done/total units. Return non-zero to ask for cancellation
 * (the call then fails with CS_ECANCELED). May be NULL everywhere.
 */
typedef int (*cs_progress_fn)(void *user, const char *stage, double done, double total);

typedef struct cs_progress {
    cs_progress_fn fn;
    void *user;
} cs_progress;

#ifdef __cplusplus
}
#endif
#endif

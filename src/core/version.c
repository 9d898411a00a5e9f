/* version.c: library and dependency versions. */
#include <stdio.h>
#include <cairo.h>
#include <gdal.h>
#include <glpk.h>
#include <igraph_version.h>
#include <jansson.h>
#include <proj.h>
#include <readosm.h>
#include "citysys/common.h"

const char *cs_version(void) { return CS_VERSION_STRING; }

const char *cs_dependency_versions(void)
{
    static _Thread_local char buf[1024];
    PJ_INFO pi = proj_info();
    int im, in, ip;
    igraph_version(NULL, &im, &in, &ip);
    snprintf(buf, sizeof buf,
             "gdal %s\nproj %s\njansson %s\nigraph %d.%d.%d\nglpk %s\ncairo %s\nreadosm %s\n",
             GDALVersionInfo("RELEASE_NAME"), pi.release, jansson_version_str(), im, in, ip, glp_version(),
             cairo_version_string(), readosm_version());
    return buf;
}

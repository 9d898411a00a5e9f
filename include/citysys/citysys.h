/*
 * citysys.h: umbrella header — include this to get the whole public API.
 * One header per module under include/citysys/.
 */
#ifndef CITYSYS_H
#define CITYSYS_H
#include "citysys/common.h"
#include "citysys/error.h"
#include "citysys/alloc.h"
#include "citysys/fileio.h"
#include "citysys/matrix.h"
#include "citysys/city.h"
/* Module headers present in this build (listed ahead so modules can land independently). */
#if __has_include("citysys/table.h")
#include "citysys/table.h"
#endif
#if __has_include("citysys/progress.h")
#include "citysys/progress.h"
#endif
#if __has_include("citysys/cityio.h")
#include "citysys/cityio.h"
#endif
#if __has_include("citysys/project.h")
#include "citysys/project.h"
#endif
#if __has_include("citysys/run.h")
#include "citysys/run.h"
#endif
#if __has_include("citysys/graph.h")
#include "citysys/graph.h"
#endif
#if __has_include("citysys/network.h")
#include "citysys/network.h"
#endif
#if __has_include("citysys/osm.h")
#include "citysys/osm.h"
#endif
#if __has_include("citysys/snap.h")
#include "citysys/snap.h"
#endif
#if __has_include("citysys/routing.h")
#include "citysys/routing.h"
#endif
#if __has_include("citysys/inequality.h")
#include "citysys/inequality.h"
#endif
#if __has_include("citysys/spatial.h")
#include "citysys/spatial.h"
#endif
#if __has_include("citysys/hierarchy.h")
#include "citysys/hierarchy.h"
#endif
#if __has_include("citysys/agglomerate.h")
#include "citysys/agglomerate.h"
#endif
#if __has_include("citysys/access.h")
#include "citysys/access.h"
#endif
#if __has_include("citysys/gravity.h")
#include "citysys/gravity.h"
#endif
#if __has_include("citysys/cost.h")
#include "citysys/cost.h"
#endif
#if __has_include("citysys/typology.h")
#include "citysys/typology.h"
#endif
#if __has_include("citysys/flows.h")
#include "citysys/flows.h"
#endif
#if __has_include("citysys/criticality.h")
#include "citysys/criticality.h"
#endif
#if __has_include("citysys/centrality.h")
#include "citysys/centrality.h"
#endif
#if __has_include("citysys/scenario.h")
#include "citysys/scenario.h"
#endif
#if __has_include("citysys/equilibrium.h")
#include "citysys/equilibrium.h"
#endif
#if __has_include("citysys/facility.h")
#include "citysys/facility.h"
#endif
#if __has_include("citysys/appraisal.h")
#include "citysys/appraisal.h"
#endif
#if __has_include("citysys/portfolio.h")
#include "citysys/portfolio.h"
#endif
#if __has_include("citysys/report.h")
#include "citysys/report.h"
#endif
#if __has_include("citysys/map.h")
#include "citysys/map.h"
#endif
#if __has_include("citysys/chart.h")
#include "citysys/chart.h"
#endif
#endif

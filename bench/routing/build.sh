#!/bin/sh
# Build the benchmark driver against an existing build tree (default ./build).
set -e
B=${1:-build}
S=$(cd "$(dirname "$0")/../.." && pwd)
cc -O2 -fopenmp -I"$S/include" "$S/bench/routing/bench_routing.c" "$B/libcitysys.a" \
  $(pkg-config --libs gdal proj jansson igraph cairo) -lreadosm -lglpk -lm -o "$B/bench_routing"
echo "$B/bench_routing"
# experiment (private router layout): perfect customization + arc removal, see bench/README.md
cc -O2 -Wall -Wextra -fopenmp -I"$S/include" -I"$S/src/graph" "$S/bench/routing/perfect_exp.c" "$B/libcitysys.a" \
  $(pkg-config --libs gdal proj jansson igraph cairo) -lreadosm -lglpk -lm -o "$B/perfect_exp"
echo "$B/perfect_exp"
cc -O2 -Wall -Wextra -fopenmp -I"$S/include" -I"$S/src/graph" "$S/bench/routing/perfect_rand.c" "$B/libcitysys.a" \
  $(pkg-config --libs gdal proj jansson igraph cairo) -lreadosm -lglpk -lm -o "$B/perfect_rand"
echo "$B/perfect_rand"

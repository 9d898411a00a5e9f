#!/bin/sh
# Build the benchmark driver against an existing build tree (default ./build).
set -e
B=${1:-build}
S=$(cd "$(dirname "$0")/../.." && pwd)
cc -O2 -fopenmp -I"$S/include" "$S/bench/structure/bench_structure.c" "$B/libcitysys.a" \
  $(pkg-config --libs gdal proj jansson igraph cairo) -lreadosm -lglpk -lm -o "$B/bench_structure"
echo "$B/bench_structure"
cc -O2 "$S/bench/structure/peer_igraph.c" $(pkg-config --cflags --libs igraph) -lm -o "$B/peer_igraph"
echo "$B/peer_igraph"

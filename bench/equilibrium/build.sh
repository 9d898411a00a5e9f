#!/bin/sh
# Build the equilibrium benchmark against the release library in build/ (run from the source root):
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2 && sh bench/equilibrium/build.sh
set -e
cc -O2 -march=native -fopenmp -std=c17 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc bench/equilibrium/bench_eq.c \
   build/libcitysys.a $(pkg-config --libs gdal proj jansson igraph cairo) -lreadosm -lglpk -lm -o build/bench_eq

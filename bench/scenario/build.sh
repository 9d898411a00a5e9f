#!/bin/sh
# Build the scenario benchmark against the library in build/ (run from the source root):
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2 && sh bench/scenario/build.sh
set -e
cc -O2 -fopenmp -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc bench/scenario/bench_scenario.c \
   build/libcitysys.a $(pkg-config --libs gdal proj jansson igraph cairo) -lreadosm -lglpk -lm -o build/bench_scenario

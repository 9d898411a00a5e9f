#!/bin/bash
# Runs every routing benchmark of bench/README.md and prints the figures.
# usage: bench/routing/run_all.sh BUILD_DIR DATA_DIR   (DATA_DIR holds k316/ and k1000/ from synth.py + points.py)
set -u
B=$1; D=$2
T=/usr/bin/time
echo "== machine"; lscpu | grep -E 'Model name|^CPU\(s\)'; nproc
run() { echo "== $*"; uptime; $T -f 'peak RSS %M kB, wall %e s' "$@" 2>&1 | grep -vE '^\s+\[' ; }
for K in 316 1000; do
  run "$B/bench_routing" "$D/k$K" 100 --save "$D/k$K.csr"
  run "$B/bench_routing" "$D/k$K" 1000                  # incl. preprocessing (default: no query hierarchy)
  run "$B/bench_routing" "$D/k$K" 1000 --qh             # the same with the query hierarchy built too
  run "$B/bench_routing" "$D/k$K" 1000 --change
  # memory after a load from the cached file (lines "memory ..."), 1,000 and 10,000 points
  run "$B/bench_routing" "$D/k$K" 1000 --load "$D/k$K.csr"
  run "$B/bench_routing" "$D/k$K" 10000 --load "$D/k$K.csr" --out "$D/k$K.m10000.bin"
done
for K in 316 1000; do
  S=100; [ $K = 1000 ] && S=10
  for N in 100 1000 10000; do
    run /usr/bin/python3 "$(dirname "$0")/peers.py" "$D/k$K" $N $S
  done
done
uptime

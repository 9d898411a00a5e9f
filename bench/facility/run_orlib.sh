#!/bin/bash
# Heuristic (10 starts, seed 1) on all 40 OR-Library p-median instances and exact pmed1-10.
# Usage: bench/facility/run_orlib.sh BUILD_DIR [SHARED_DIR]   -> bench/facility/orlib-heuristic.md
set -eu
B=${1:-build}; S=${2:-$(dirname "$0")/../../../shared}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$SRC/bench/facility/orlib-heuristic.md
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
{
  echo "Heuristic: greedy + fast interchange, 10 starts, seed 1; bound: Lagrangian (Beasley 1993) lower bound."
  echo "Machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F)"
  echo
  echo "| instance | n | p | optimum | heuristic | gap to optimum % | Lagrangian bound | gap to bound % | time s |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for k in $(seq 1 40); do
    zcat "$S/data/pmedian-orlib/pmed$k.txt.gz" > "$T/pmed$k.txt"
    opt=$(awk -v k="pmed$k" '$1==k {print $2}' "$S/data/pmedian-orlib/pmedopt.txt")
    "$B/tests/bench_facility" orlib "$T/pmed$k.txt" "$opt"
  done
} > "$OUT"
echo "wrote $OUT"

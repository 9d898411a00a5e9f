#!/bin/bash
# Heuristic (10 starts, seed 1) and its Lagrangian bound on all 40 OR-Library p-median instances.
# Usage: bench/facility/run_orlib.sh BUILD_DIR [SHARED_DIR]   -> bench/facility/orlib-heuristic.md and the
# table in docs/facilities.md
set -eu
B=${1:-build}; S=${2:-$(dirname "$0")/../../../shared}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$SRC/bench/facility/orlib-heuristic.md
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
{
  echo "Heuristic: greedy + fast interchange, 10 starts + 100 VNS iterations, seed 1; bound: Lagrangian (Beasley 1993) lower bound."
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
# Replace the table in docs/facilities.md between its markers.
python3 - "$OUT" "$SRC/docs/facilities.md" <<'PY'
import sys, re
table = open(sys.argv[1]).read().strip()
doc = open(sys.argv[2]).read()
b = doc.index("<!-- ORLIB-TABLE-BEGIN")
b = doc.index("\n", b) + 1
e = doc.index("<!-- ORLIB-TABLE-END -->")
open(sys.argv[2], "w").write(doc[:b] + table + "\n" + doc[e:])
print("updated", sys.argv[2])
PY

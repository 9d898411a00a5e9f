#!/usr/bin/env bash
# OSM import rate (parse + graph build incl. compression): built-in PBF reader vs readosm.
# Usage: bench/netimport_osm.sh BUILD_DIR [REPEATS]   (results: bench/README.md (OSM import rate))
set -euo pipefail
B=${1:-build}; R=${2:-5}
CS=$B/citysys
export CITYSYS_PROFILES="$(dirname "$0")/../share/profiles"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
files=(/work/shared/data/osm-*/*.osm.pbf)
osmium merge "${files[@]}" -o "$tmp/merged4.osm.pbf" -O 2>/dev/null && files+=("$tmp/merged4.osm.pbf")
printf "%-34s %9s %-8s %9s %9s %9s %12s\n" file osm_nodes reader read_s build_s total_s Mnodes_per_s
for f in "${files[@]}"; do
  for rd in builtin readosm; do
    best=""
    for i in $(seq "$R"); do
      out=$("$CS" network info "$f" -q $([ $rd = readosm ] && echo --readosm))
      n=$(awk -F'\t' '$1=="osm_nodes"{print $2}' <<<"$out")
      r=$(awk -F'\t' '$1=="read_s"{print $2}' <<<"$out")
      b=$(awk -F'\t' '$1=="build_s"{print $2}' <<<"$out")
      t=$(python3 -c "print($r+$b)")
      if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $t < $best else 1)"; then best=$t; br=$r; bb=$b; fi
    done
    printf "%-34s %9d %-8s %9.3f %9.3f %9.3f %12.2f\n" "$(basename "$f")" "$n" $rd "$br" "$bb" "$best" \
      "$(python3 -c "print($n/$best/1e6)")"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), nproc $(nproc), OMP_NUM_THREADS=${OMP_NUM_THREADS:-default}"

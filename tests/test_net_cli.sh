#!/usr/bin/env bash
# CLI: citysys network build|info|export on the test data; exit codes.
set -u
D="$CS_SRC/tests/data/net"
mkdir -p "$CS_TMP"
fail=0
check() { if ! eval "$1"; then echo "FAILED: $1" >&2; fail=1; fi; }
export CITYSYS_PROFILES="$CS_SRC/share/profiles"

out=$("$CITYSYS" network info "$D/andorra-2013-05-28.osm.pbf" -q); rc=$?
check "[ $rc -eq 0 ]"
check "grep -q '^routable_ways	1159$' <<<\"\$out\""
check "grep -q '^primary	[0-9]*	118.513	307$' <<<\"\$out\""

out=$("$CITYSYS" network info --nodes "$D/transafrican_nodes.csv.gz" --edges "$D/transafrican_edges.csv.gz"); rc=$?
check "[ $rc -eq 0 ]"
check "grep -q '^segments	2344$' <<<\"\$out\""
check "grep -q '^proposed_edges	481$' <<<\"\$out\""

"$CITYSYS" network build "$D/rules.osm" --profile developing -o "$CS_TMP/r.gpkg" -q; check "[ $? -eq 0 ]"
check "[ -s '$CS_TMP/r.gpkg' ]"
"$CITYSYS" network export "$D/lines.geojson" --time-field time_min --speed-field speed --dir-field dir \
  --class-field cls --penalty-fields border --id-field eid -o "$CS_TMP/l.csv" -q; check "[ $? -eq 0 ]"
check "[ \$(wc -l < '$CS_TMP/l.csv') -eq 7 ]"          # header + a, b, c, d, e (2 parts); f closed
check "[ -s '$CS_TMP/l.nodes.csv' ]"

# same output whatever the thread count
OMP_NUM_THREADS=1 "$CITYSYS" network export "$D/liechtenstein-2013-08-03.osm.pbf" -o "$CS_TMP/t1.csv" -q
OMP_NUM_THREADS=3 "$CITYSYS" network export "$D/liechtenstein-2013-08-03.osm.pbf" -o "$CS_TMP/t3.csv" -q
check "cmp -s '$CS_TMP/t1.csv' '$CS_TMP/t3.csv' && cmp -s '$CS_TMP/t1.nodes.csv' '$CS_TMP/t3.nodes.csv'"

# exit codes: usage 2, bad input 3, I/O 4
"$CITYSYS" network build "$D/rules.osm" 2>/dev/null; check "[ $? -eq 2 ]"           # missing -o
"$CITYSYS" network frobnicate 2>/dev/null; check "[ $? -eq 2 ]"
"$CITYSYS" network info "$D/rules.osm" --profile nope 2>/dev/null; check "[ $? -eq 3 ]"
"$CITYSYS" network info "$CS_TMP/none.osm.pbf" 2>/dev/null; check "[ $? -eq 4 ]"
"$CITYSYS" network info "$D/lines.geojson" --speed-field speed 2>/dev/null; check "[ $? -eq 3 ]"  # b has only a time
exit $fail

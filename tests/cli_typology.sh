#!/usr/bin/env bash
# CLI test of `citysys typology` on a hand-made system (tests/data/typology): outputs and exit codes.
set -u
D="$CS_SRC/tests/data/typology"
rm -rf "$CS_TMP"; mkdir -p "$CS_TMP"
fail=0
check() { if ! eval "$1"; then echo "FAILED: $1"; fail=1; fi; }
"$CITYSYS" typology "$D/cities.csv" --matrix "$D/time_min.csv" --time-unit min -o "$CS_TMP/out" -q
check '[ $? -eq 0 ]'
check '[ -f "$CS_TMP/out/typology.csv" ] && [ -f "$CS_TMP/out/typology.gpkg" ] && [ -f "$CS_TMP/out/typology.json" ]'
# satellites belong to the core's cluster; the chain A-T1-T2-T3-B is a corridor; the island is isolated
check 'grep -q "^S1,Sat one,10000,3," "$CS_TMP/out/typology.csv"'
check 'python3 -c "import json,sys; d=json.load(open(\"$CS_TMP/out/typology.json\")); sys.exit(0 if d[\"corridors\"]==1 else 1)"'
check 'grep "^I," "$CS_TMP/out/typology.csv" | grep -q ",1,10,5$"'
check 'ogrinfo -so "$CS_TMP/out/typology.gpkg" | grep -q "corridors (Line String)"'
# with a road network: the corridor follows its fastest route (line through the highway nodes, length, time)
"$CITYSYS" typology "$D/cities.csv" --matrix "$D/time_min.csv" --time-unit min -o "$CS_TMP/net" -q \
  --nodes "$D/nodes.csv" --edges "$D/edges.csv"
check '[ $? -eq 0 ]'
check 'ogrinfo -q "$CS_TMP/net/typology.gpkg" corridors | grep -q "LINESTRING (2 0,3 0,4 0,5 0,6 0)"'
check 'ogrinfo -q "$CS_TMP/net/typology.gpkg" corridors | grep -q "route_length_km (Real) = 444$"'
check 'ogrinfo -q "$CS_TMP/net/typology.gpkg" corridors | grep -q "route_time_min (Real) = 240$"'
check 'ogrinfo -q "$CS_TMP/net/typology.gpkg" corridors | grep -q "geometry (String) = route"'
check 'python3 -c "import json,sys; d=json.load(open(\"$CS_TMP/net/typology.json\")); sys.exit(0 if d[\"corridors_with_route\"]==1 else 1)"'
"$CITYSYS" typology "$D/cities.csv" --matrix "$D/time_min.csv" --time-unit min -o "$CS_TMP/x" --nodes "$D/nodes.csv" 2>/dev/null
check '[ $? -eq 2 ]'
# usage errors -> 2; a city missing from the matrix -> 3
"$CITYSYS" typology "$D/cities.csv" -o "$CS_TMP/x" 2>/dev/null; check '[ $? -eq 2 ]'
"$CITYSYS" typology "$D/cities.csv" --matrix "$D/time_min.csv" --time-unit weeks -o "$CS_TMP/x" 2>/dev/null; check '[ $? -eq 2 ]'
grep -v '^I,' "$D/time_min.csv" | grep -v ',I,' > "$CS_TMP/short.csv"
"$CITYSYS" typology "$D/cities.csv" --matrix "$CS_TMP/short.csv" -o "$CS_TMP/x" 2>"$CS_TMP/err"; rc=$?
check '[ $rc -eq 3 ]'
check 'grep -q "every city" "$CS_TMP/err"'
"$CITYSYS" typology --help | grep -q -- "--corridor-detour"; check '[ $? -eq 0 ]'
[ $fail -eq 0 ] && echo "cli_typology: all checks passed"
exit $fail

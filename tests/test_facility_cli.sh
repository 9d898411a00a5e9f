#!/bin/bash
# CLI test of `citysys plan facilities` on OR-Library pmed1 (no city table needed).
set -u
fail=0
check() { if ! eval "$1"; then echo "FAILED: $1"; fail=1; fi; }
rm -rf "$CS_TMP"; mkdir -p "$CS_TMP"
D="$CS_SRC/tests/data/facility"
"$CITYSYS" plan facilities --orlib "$D/pmed1.txt" --exact -o "$CS_TMP/out" -q > "$CS_TMP/stdout"; rc=$?
check '[ $rc -eq 0 ]'
check 'grep -q "objective 5819" "$CS_TMP/stdout"'
for f in sites.csv assignment.csv catchments.geojson solution.json; do check "[ -s \"$CS_TMP/out/$f\" ]"; done
check '[ $(wc -l < "$CS_TMP/out/sites.csv") -eq 6 ]'
check '[ $(wc -l < "$CS_TMP/out/assignment.csv") -eq 101 ]'
check 'grep -q "\"optimal\": true" "$CS_TMP/out/solution.json"'
# the same from a binary matrix file (written by the test_facility_mkmatrix fixture)
if [ -f facility-pmed1.csmat ]; then
  "$CITYSYS" plan facilities --matrix facility-pmed1.csmat -p 5 --exact -o "$CS_TMP/outm" -q > "$CS_TMP/stdoutm"; rc=$?
  check '[ $rc -eq 0 ]'
  check 'grep -q "objective 5819" "$CS_TMP/stdoutm"'
  "$CITYSYS" plan facilities --matrix facility-pmed1.csmat --model scp --radius 20 --heuristic -o "$CS_TMP/outm2" -q >/dev/null
  check '[ $? -eq 0 ]'
else
  echo "FAILED: fixture facility-pmed1.csmat missing"; fail=1
fi
# existing facility kept open, coverage curves, national level
"$CITYSYS" plan facilities --orlib "$D/pmed1.txt" -p 3 --existing 7 --curve-radii 20,40 --curve-max-sites 3 \
    --national 1 -o "$CS_TMP/out2" -q > "$CS_TMP/stdout2"; rc=$?
check '[ $rc -eq 0 ]'
check 'grep -q " 7\*" "$CS_TMP/stdout2"'
check '[ $(wc -l < "$CS_TMP/out2/coverage.csv") -eq 9 ]'
check '[ -s "$CS_TMP/out2/national/solution.json" ]'
# heuristic, other models
"$CITYSYS" plan facilities --orlib "$D/pmed1.txt" --heuristic --seed 3 -o "$CS_TMP/out3" -q >/dev/null; check '[ $? -eq 0 ]'
"$CITYSYS" plan facilities --orlib "$D/pmed1.txt" --model mclp --radius 30 -o "$CS_TMP/out4" -q >/dev/null; check '[ $? -eq 0 ]'
"$CITYSYS" plan facilities --orlib "$D/pmed1.txt" --model pcenter -o "$CS_TMP/out5" -q >/dev/null; check '[ $? -eq 0 ]'
# usage errors -> 2, missing file -> 4, unknown existing id -> 3
"$CITYSYS" plan facilities --orlib "$D/pmed1.txt" 2>/dev/null; check '[ $? -eq 2 ]'
"$CITYSYS" plan facilities --orlib "$D/pmed1.txt" --model nope -o "$CS_TMP/x" 2>/dev/null; check '[ $? -eq 2 ]'
"$CITYSYS" plan facilities --orlib "$D/pmed1.txt" --model mclp -o "$CS_TMP/x" 2>/dev/null; check '[ $? -eq 2 ]'
"$CITYSYS" plan facilities --orlib "$CS_TMP/missing.txt" -o "$CS_TMP/x" 2>/dev/null; check '[ $? -eq 4 ]'
"$CITYSYS" plan facilities --orlib "$D/pmed1.txt" --existing nope -o "$CS_TMP/x" 2>/dev/null; check '[ $? -eq 3 ]'
"$CITYSYS" plan nothing 2>/dev/null; check '[ $? -eq 2 ]'
"$CITYSYS" plan --help >/dev/null; check '[ $? -eq 0 ]'
exit $fail

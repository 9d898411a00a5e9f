#!/usr/bin/env bash
# `citysys run` on the bundled Trans-African example: network and matrix steps, checked against an
# independent SciPy shortest-path computation on the same edge table; cache reuse; a bad network section.
set -u
rm -rf "$CS_TMP"; mkdir -p "$CS_TMP"
fail=0
check() { if ! eval "$1"; then echo "FAILED: $1"; fail=1; fi; }
"$CITYSYS" run "$CS_SRC/examples/africa/project.json" -o "$CS_TMP/out" --cache-dir "$CS_TMP/cache" -q
check '[ $? -eq 0 ]'
check '[ -f "$CS_TMP/out/matrix_time.csmat" ] && [ -f "$CS_TMP/out/network.csgraph" ] && [ -f "$CS_TMP/out/snaps.csv" ]'
/usr/bin/python3 "$CS_SRC/tests/oracles/africa_matrix.py" "$CS_TMP/out/matrix_time.csmat" "$CS_SRC/examples/africa" 0.1
check '[ $? -eq 0 ]'
# unchanged re-run reuses every step
"$CITYSYS" run "$CS_SRC/examples/africa/project.json" -o "$CS_TMP/out" --cache-dir "$CS_TMP/cache" 2>"$CS_TMP/err"
check 'grep -q "(4 reused" "$CS_TMP/err" || grep -q "reused from the cache" "$CS_TMP/err"'
# a misspelt network key is an error at its line and column, nothing is written
sed 's/"snap"/"snapp"/' "$CS_SRC/examples/africa/project.json" > "$CS_TMP/bad.json"
for f in "$CS_SRC"/examples/africa/*.csv; do ln -sf "$f" "$CS_TMP/"; done
"$CITYSYS" run "$CS_TMP/bad.json" -o "$CS_TMP/out2" 2>"$CS_TMP/err2"; rc=$?
check '[ $rc -eq 3 ]'
check 'grep -q "bad.json:[0-9]*:[0-9]*: error: network.snapp: unknown key" "$CS_TMP/err2"'
check '[ ! -e "$CS_TMP/out2" ]'
[ $fail -eq 0 ] && echo "cli_run_network: all checks passed"
exit $fail

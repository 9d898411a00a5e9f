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
# the report step: results.gpkg with every layer, summary.json, maps, charts, report.html
check 'ogrinfo -so "$CS_TMP/out/results.gpkg" | grep -q "cities (Point)"'
check 'ogrinfo -so "$CS_TMP/out/results.gpkg" | grep -q "roads (Line String)"'
check 'ogrinfo -so "$CS_TMP/out/results.gpkg" | grep -q "corridors (Line String)"'
check 'ogrinfo -so "$CS_TMP/out/results.gpkg" | grep -q "facilities_regional_hubs_catchments (Polygon)"'
check 'ogrinfo -so "$CS_TMP/out/results.gpkg" | grep -q "scenario_all_proposed_links_changes (Line String)"'
check '[ "$(ogrinfo -so "$CS_TMP/out/results.gpkg" scenario_road_upgrades_cities | sed -n "s/^Feature Count: //p")" = 453 ]'
check '[ -s "$CS_TMP/out/report.html" ] && [ -s "$CS_TMP/out/map_typology.png" ] && [ -s "$CS_TMP/out/chart_lorenz.svg" ] && [ -s "$CS_TMP/out/map_roads.pdf" ]'
check '/usr/bin/python3 -c "import json,sys; d=json.load(open(\"$CS_TMP/out/summary.json\")); sys.exit(0 if d[\"cities\"]==453 and d[\"indicators\"][\"inequality\"][\"cities_used\"]==453 else 1)"'
check '! grep -q "src=\"http" "$CS_TMP/out/report.html"'
# the report is self-contained, its images are not blank, every city symbol is at its projected position,
# no two labels overlap
/usr/bin/python3 "$CS_SRC/tests/oracles/report_check.py" "$CS_TMP/out"
check '[ $? -eq 0 ]'
# inequality overall and per country equals a brute-force Gini; hierarchy per country
/usr/bin/python3 "$CS_SRC/tests/oracles/africa_gini.py" "$CS_TMP/out/inequality.csv" "$CS_SRC/examples/africa" >/dev/null
check '[ $? -eq 0 ]'
check 'grep -q "^Kenya," "$CS_TMP/out/hierarchy.csv"'
# scenarios: the three shipped ones evaluated; a scenario that changes nothing leaves every city unchanged
check '/usr/bin/python3 -c "import json,sys; d=json.load(open(\"$CS_TMP/out/summary.json\")); s={x[\"name\"]:x for x in d[\"scenarios\"]}; sys.exit(0 if len(s)==3 and s[\"eac_border_halving\"][\"total_equivalent_variation\"]>0 and \"npv\" in s[\"road_upgrades\"][\"appraisal\"] else 1)"'
check '[ -s "$CS_TMP/out/scenario_road_upgrades.csv" ] && [ -s "$CS_TMP/out/map_scenario_eac_border_halving.png" ]'
mkdir -p "$CS_TMP/sc"
for f in "$CS_SRC"/examples/africa/*.csv "$CS_SRC"/examples/africa/*.json; do ln -sf "$f" "$CS_TMP/sc/"; done
rm "$CS_TMP/sc/project.json"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); d.pop("facilities", None)
d["scenarios"]["list"] = [{"name": "nothing", "changes": []}]
json.dump(d, open(sys.argv[2], "w"), indent=1)' "$CS_SRC/examples/africa/project.json" "$CS_TMP/sc/project.json"
"$CITYSYS" run "$CS_TMP/sc/project.json" -o "$CS_TMP/scout" --cache-dir "$CS_TMP/cache" -q
check '[ $? -eq 0 ]'
check '/usr/bin/python3 -c "import csv,sys; r=list(csv.DictReader(open(\"$CS_TMP/scout/scenario_nothing.csv\"))); sys.exit(0 if len(r)==453 and all(abs(float(x[\"real_income_change\"])-1)<1e-9 and abs(float(x[\"population_change\"])-1)<1e-9 for x in r) else 1)"'
# an invalid scenario (unknown edge) stops the run with its position, and the previous output stays as it was
cp "$CS_TMP/scout/manifest.json" "$CS_TMP/manifest_before.json"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d["scenarios"]["list"] = [{"name": "bad", "changes": [{"type": "close", "edges": ["no-such-edge"]}]}]
json.dump(d, open(sys.argv[1], "w"), indent=1)' "$CS_TMP/sc/project.json"
"$CITYSYS" run "$CS_TMP/sc/project.json" -o "$CS_TMP/scout" --cache-dir "$CS_TMP/cache" 2>"$CS_TMP/scerr"; rc=$?
check '[ $rc -eq 3 ]'
check 'grep -q "project.json:[0-9]*:[0-9]*: error: scenarios.list\[0\].changes\[0\].edges\[0\]: no road segment with edge id" "$CS_TMP/scerr"'
check 'cmp -s "$CS_TMP/scout/manifest.json" "$CS_TMP/manifest_before.json"'
# centralities of the adjacency graph: one row per city
check '[ $(wc -l < "$CS_TMP/out/centrality.csv") -eq 454 ]'
# the shorthand commands run the main job up to their step
"$CITYSYS" centrality "$CS_SRC/examples/africa/project.json" -o "$CS_TMP/cent" --cache-dir "$CS_TMP/cache" -q >/dev/null
check '[ $? -eq 0 ] && [ -s "$CS_TMP/cent/centrality.csv" ] && [ ! -e "$CS_TMP/cent/report.html" ] && [ ! -e "$CS_TMP/cent/roads.csv" ]'
"$CITYSYS" criticality "$CS_SRC/examples/africa/project.json" -o "$CS_TMP/crit" --cache-dir "$CS_TMP/cache" -q >/dev/null
check '[ $? -eq 0 ] && [ -s "$CS_TMP/crit/roads.csv" ] && [ ! -e "$CS_TMP/crit/report.html" ]'
"$CITYSYS" run "$CS_SRC/examples/africa/project.json" -o "$CS_TMP/nope" --until nope 2>/dev/null
check '[ $? -eq 2 ]'
# facilities: every plan's layers in facilities.gpkg, its files, its coverage chart
check 'ogrinfo -so "$CS_TMP/out/facilities.gpkg" | grep -q "facilities_regional_hubs_catchments (Polygon)"'
check 'ogrinfo -so "$CS_TMP/out/facilities.gpkg" | grep -q "facilities_dry_ports_sites (Point)"'
check '[ -s "$CS_TMP/out/facilities_regional_hubs_solution.json" ] && [ -s "$CS_TMP/out/chart_coverage_regional_hubs.png" ]'
check 'grep -q "chart-coverage-0" "$CS_TMP/out/report.html"'
# citysys plan facilities on the run's matrix, with the city table: CSV, JSON and GeoPackage outputs
"$CITYSYS" plan facilities --matrix "$CS_TMP/out/matrix_time.csmat" --cities "$CS_SRC/examples/africa/africa_cities_ports.csv" \
  --model pmedian -p 4 --heuristic -o "$CS_TMP/fac" -q >/dev/null
check '[ $? -eq 0 ]'
check 'ogrinfo -so "$CS_TMP/fac/facilities.gpkg" | grep -q "catchments (Polygon)" && [ -s "$CS_TMP/fac/solution.json" ]'
# road plus border time: the edge table's border_time added to the segment times
mkdir -p "$CS_TMP/border"
for f in "$CS_SRC"/examples/africa/*.csv; do ln -sf "$f" "$CS_TMP/border/"; done
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); d["network"]["include_border_time"] = True
for k in ("indicators", "typology", "flows", "scenarios", "facilities"): d.pop(k, None)
json.dump(d, open(sys.argv[2], "w"))' "$CS_SRC/examples/africa/project.json" "$CS_TMP/border/project.json"
"$CITYSYS" run "$CS_TMP/border/project.json" -o "$CS_TMP/outb" --cache-dir "$CS_TMP/cache" -q
check '[ $? -eq 0 ]'
/usr/bin/python3 "$CS_SRC/tests/oracles/africa_matrix.py" "$CS_TMP/outb/matrix_time.csmat" "$CS_SRC/examples/africa" 0.1 border
check '[ $? -eq 0 ]'
# network build writes the routing graph file that citysys matrix loads
"$CITYSYS" network build "$CS_SRC/examples/andorra/andorra-2013-05-28.osm.pbf" -o "$CS_TMP/and.csgraph" -q
check '[ $? -eq 0 ] && [ -s "$CS_TMP/and.csgraph" ]'
printf 'id,node\na,0\nb,100\nc,1000\n' > "$CS_TMP/pts.csv"
"$CITYSYS" matrix --graph "$CS_TMP/and.csgraph" --points "$CS_TMP/pts.csv" --out "$CS_TMP/pts.csmat" -q
check '[ $? -eq 0 ] && [ -s "$CS_TMP/pts.csmat" ]'
# unchanged re-run reuses every step
"$CITYSYS" run "$CS_SRC/examples/africa/project.json" -o "$CS_TMP/out" --cache-dir "$CS_TMP/cache" 2>"$CS_TMP/err"
check 'grep -q "(4 reused" "$CS_TMP/err" || grep -q "reused from the cache" "$CS_TMP/err"'
# a cache entry this build cannot read is computed again, not an error: here the cached graph is replaced by
# a file of graph format 1 (another build) and step.json updated to match it, so the entry looks intact
g=$(ls "$CS_TMP"/cache/network-*/network.csgraph | head -1)
cp "$CS_SRC/fuzz/corpus/graphfile/v1_grid4.csgraph" "$g"
/usr/bin/python3 - "$g" <<'PY2'
import hashlib, json, os, sys
g = sys.argv[1]; sj = os.path.join(os.path.dirname(g), "step.json")
d = json.load(open(sj))
for f in d["files"]:
    if f["path"] == "network.csgraph":
        f["size"] = os.path.getsize(g); f["sha256"] = hashlib.sha256(open(g, "rb").read()).hexdigest()
json.dump(d, open(sj, "w"), indent=2)
PY2
cp "$CS_TMP/out/matrix_time.csmat" "$CS_TMP/mt_before.csmat"
"$CITYSYS" run "$CS_SRC/examples/africa/project.json" -o "$CS_TMP/out" --cache-dir "$CS_TMP/cache" -q 2>"$CS_TMP/err3"
check '[ $? -eq 0 ] && cmp -s "$CS_TMP/out/matrix_time.csmat" "$CS_TMP/mt_before.csmat"'
"$CITYSYS" run "$CS_SRC/examples/africa/project.json" -o "$CS_TMP/out" --cache-dir "$CS_TMP/cache" 2>"$CS_TMP/err4"
check 'grep -q "(4 reused" "$CS_TMP/err4" || grep -q "reused from the cache" "$CS_TMP/err4"'
# a misspelt network key is an error at its line and column, nothing is written
sed 's/"snap"/"snapp"/' "$CS_SRC/examples/africa/project.json" > "$CS_TMP/bad.json"
for f in "$CS_SRC"/examples/africa/*.csv "$CS_SRC"/examples/africa/scenario_*.json; do ln -sf "$f" "$CS_TMP/"; done
"$CITYSYS" run "$CS_TMP/bad.json" -o "$CS_TMP/out2" 2>"$CS_TMP/err2"; rc=$?
check '[ $rc -eq 3 ]'
check 'grep -q "bad.json:[0-9]*:[0-9]*: error: network.snapp: unknown key" "$CS_TMP/err2"'
check '[ ! -e "$CS_TMP/out2" ]'
[ $fail -eq 0 ] && echo "cli_run_network: all checks passed"
exit $fail

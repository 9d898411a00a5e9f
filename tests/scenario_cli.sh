#!/usr/bin/env bash
# CLI tests of `citysys scenario check`, `citysys simulate PROJECT --scenario` and `citysys compare` on the
# East African subset of examples/africa (tests/data/scenario, 42 cities): located errors and exit codes for
# a bad scenario, nothing written then; outputs of good ones (JSON, GeoJSON, includes, rail link); a scenario
# that changes nothing leaves every city unchanged; the project's own list with before/after typology.
source "$CS_SRC/tests/cli_common.sh"
D="$CS_SRC/tests/data/scenario"
P="$D/project.json"
PY=/usr/bin/python3

# check: good files
expect_exit 0 "$CITYSYS" scenario check "$P" "$D/links.json" "$D/drawn.geojson" "$D/nothing.json" "$D/eac_borders.json"
expect_in "$OUT" "links.json: ok"
# check: a bad file -> exit 3, every problem at its line:column with its JSON path
expect_exit 3 "$CITYSYS" scenario check "$P" "$D/bad.json"
expect_in "$ERR" "bad.json:3:38: error: changes[0].edges[1]: no road segment with edge id 'no-such-edge'"
expect_in "$ERR" "bad.json:4:50: error: changes[1].cities[1]: unknown city 'Atlantis'"
# a syntax error, an include cycle, a missing file
printf '{"changes": [\n  {"type": }]}\n' > "$CS_TMP/syntax.json"
expect_exit 3 "$CITYSYS" scenario check "$P" "$CS_TMP/syntax.json"
expect_re "$ERR" "syntax.json:2:[0-9]+: error"
printf '{"include": ["c2.json"], "changes": []}' > "$CS_TMP/c1.json"
printf '{"include": ["c1.json"], "changes": []}' > "$CS_TMP/c2.json"
expect_exit 3 "$CITYSYS" scenario check "$P" "$CS_TMP/c1.json"
expect_in "$ERR" "include cycle"
# with a step cache: the network entry is built once, then reused (same verdicts); nothing else is written
expect_exit 0 "$CITYSYS" scenario check "$P" "$D/links.json" --cache-dir "$CS_TMP/chkcache"
n1=$(ls "$CS_TMP/chkcache" | grep -c '^network-')
expect_exit 3 "$CITYSYS" scenario check "$P" "$D/bad.json" --cache-dir "$CS_TMP/chkcache"
expect_in "$ERR" "bad.json:3:38: error: changes[0].edges[1]: no road segment with edge id 'no-such-edge'"
n2=$(ls "$CS_TMP/chkcache" | grep -c '^network-')
if [ "$n1" = 1 ] && [ "$n2" = 1 ] && [ "$(ls "$CS_TMP/chkcache" | wc -l)" = 1 ]; then ok; else fail "scenario check cache entries: $(ls "$CS_TMP/chkcache")"; fi
expect_exit 4 "$CITYSYS" scenario check "$P" "$CS_TMP/missing.json"
expect_exit 2 "$CITYSYS" scenario check "$P"
expect_exit 0 "$CITYSYS" scenario --help

# simulate with a bad scenario: exit 3, located message, no output folder
expect_exit 3 "$CITYSYS" simulate "$P" --scenario "$D/bad.json" -o "$CS_TMP/simbad"
expect_in "$ERR" "bad.json:4:50: error: changes[1].cities[1]: unknown city 'Atlantis'"
[[ ! -e "$CS_TMP/simbad" ]] && ok || fail "an output folder was written for an invalid scenario"

expect_exit 4 "$CITYSYS" simulate "$P" --scenario "$CS_TMP/missing.json" -o "$CS_TMP/simmissing"
expect_in "$ERR" "missing.json: error: cannot read the scenario file"

# simulate: links (include + proposed links + rail) in the short run
expect_exit 0 "$CITYSYS" simulate "$P" --scenario "$D/links.json" --short-run -o "$CS_TMP/sim"
expect_re "$OUT" "^links +[0-9.e+]+"
for f in scenario_links.csv scenario_links.gpkg scenario_links_groups.csv scenario_links_countries.csv \
         scenario_links_inequality.csv scenarios.json map_scenario_links.png manifest.json; do
  [[ -s "$CS_TMP/sim/$f" ]] && ok || fail "missing $f"
done
$PY - "$CS_TMP/sim" <<'PYEOF' && ok || fail "simulate outputs"
import csv, json, sys
d = sys.argv[1]
j = json.load(open(d + "/scenarios.json"))
s = j["scenarios"][0]
assert s["name"] == "links" and s["horizon"] == "short run" and s["changes"] == 3, s
assert s["pairs_using_nonroad_links"] > 0 and s["pairs_faster"] > 0
assert abs(s["appraisal"]["capital_cost"] - 3.85e9) < 1
rows = list(csv.DictReader(open(d + "/scenario_links.csv")))
assert len(rows) == 42
# short run: nobody moves
assert all(abs(float(r["population_change"]) - 1) < 1e-12 for r in rows)
PYEOF

# compare: JSON, GeoJSON and a scenario that changes nothing, side by side (long run)
expect_exit 0 "$CITYSYS" compare "$P" "$D/eac_borders.json" "$D/drawn.geojson" "$D/nothing.json" -o "$CS_TMP/cmp"
$PY - "$CS_TMP/cmp" <<'PYEOF' && ok || fail "compare outputs"
import csv, sys
d = sys.argv[1]
rows = {r["scenario"]: r for r in csv.DictReader(open(d + "/scenarios_compare.csv"))}
assert list(rows) == ["eac_borders", "drawn", "nothing"], list(rows)
assert float(rows["eac_borders"]["total_equivalent_variation"]) > 0
assert float(rows["drawn"]["total_equivalent_variation"]) > 0
cities = list(csv.DictReader(open(d + "/scenarios_cities.csv")))
assert len(cities) == 42 and "drawn_real_income_change_pct" in cities[0]
# nothing changes: every city unchanged
for r in csv.DictReader(open(d + "/scenario_nothing.csv")):
    for k in ("income_change", "population_change", "price_index_change", "real_income_change", "welfare_change_residents"):
        assert abs(float(r[k]) - 1) < 1e-12, (k, r[k])
    assert float(r["market_access_before"]) == float(r["market_access_after"])
PYEOF

# the project's own list (a file and an inline scenario) with the typology before and after
expect_exit 0 "$CITYSYS" run "$P" -o "$CS_TMP/run" --until scenarios
for f in scenario_eac_borders.csv scenario_inline_amenity.csv scenario_eac_borders_typology.csv \
         map_scenario_eac_borders_typology.png scenario_eac_borders_roads.csv map_scenario_eac_borders_load.png \
         scenarios_compare.csv; do
  [[ -s "$CS_TMP/run/$f" ]] && ok || fail "missing $f"
done
finish

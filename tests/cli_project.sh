#!/usr/bin/env bash
# CLI: validate and info — exit codes 0/2/3/4, messages naming FILE:LINE:COLUMN, the African totals
# computed independently from the CSV (also after shuffling its rows).
source "$(dirname "$0")/cli_common.sh"
T=$CS_TMP
AF=$CS_SRC/examples/africa

# usage errors: 2
expect_exit 2 "$CITYSYS" validate
expect_exit 2 "$CITYSYS" info
expect_exit 2 "$CITYSYS" validate a.json b.json
expect_exit 2 "$CITYSYS" info --bogus "$AF/project.json"
expect_exit 0 "$CITYSYS" validate --help
expect_in "$OUT" "Usage: citysys validate PROJECT"

# project file missing: I/O error, 4
expect_exit 4 "$CITYSYS" validate "$T/none.json"
expect_in "$ERR" "none.json"

# bad project files: 3, each problem at FILE:LINE:COLUMN
mkdir -p "$T/p"
printf 'id,name,lon,lat,population\n1,A,1,2,10\n' >"$T/p/c.csv"
cat >"$T/p/unknown.json" <<'J'
{
  "schema_version": 1,
  "cities": {
    "path": "c.csv",
    "fields": {"populaton": "population"}
  },
  "colour": "red"
}
J
expect_exit 3 "$CITYSYS" validate "$T/p/unknown.json"
expect_in "$ERR" "unknown.json:5:16: error: cities.fields.populaton: unknown key 'populaton'; did you mean 'population'?"
expect_in "$ERR" "unknown.json:7:3: error: colour: unknown key 'colour'"

cat >"$T/p/types.json" <<'J'
{"schema_version": 1,
 "cities": {"path": ["c.csv"]},
 "outputs": {"formats": "gpkg"}}
J
expect_exit 3 "$CITYSYS" validate "$T/p/types.json"
expect_in "$ERR" "types.json:2:21: error: cities.path: expected a file name (string), got an array"
expect_in "$ERR" "types.json:3:25: error: outputs.formats: expected an array, got a string"

cat >"$T/p/missing.json" <<'J'
{"schema_version": 1,
 "cities": {"path": "nothere.csv"}}
J
expect_exit 3 "$CITYSYS" validate "$T/p/missing.json"
expect_in "$ERR" "missing.json:2:21: error: cities.path: input file 'nothere.csv' not found"

printf '{"schema_version": 1,\n "cities": {"path": "c.csv"},\n "name": "a",\n "name": "b"}\n' >"$T/p/dup.json"
expect_exit 3 "$CITYSYS" validate "$T/p/dup.json"
expect_re "$ERR" "dup.json:4:[0-9]+: error: .*duplicate"

printf '{"schema_version": 1,\n "cities": {"path": "c.csv",}}\n' >"$T/p/syntax.json"
expect_exit 3 "$CITYSYS" info "$T/p/syntax.json"
expect_re "$ERR" "syntax.json:2:[0-9]+: error: invalid JSON"

# a good minimal project
printf '{"schema_version": 1, "cities": {"path": "c.csv"}}\n' >"$T/p/good.json"
expect_exit 0 "$CITYSYS" validate "$T/p/good.json"
expect_in "$OUT" "valid: 1 cities"

# a project with a link table: counted by validate and info; a link to an unknown city is an error at
# its line and column (the `to` field is the second column)
printf 'id,name,lon,lat,population\n1,A,1,2,10\n2,B,1.5,2.5,20\n3,C,2,3,30\n' >"$T/p/c3.csv"
printf 'from,to,time,mode\n1,2,30,road\n2,3,45,rail\n' >"$T/p/links.csv"
printf '{"schema_version": 1, "cities": {"path": "c3.csv"},\n "links": [{"path": "links.csv", "fields": {"time_unit_s": 60}}]}\n' >"$T/p/links.json"
expect_exit 0 "$CITYSYS" validate "$T/p/links.json"
expect_in "$OUT" "valid: 3 cities, 1 link table (2 links)"
expect_exit 0 "$CITYSYS" info "$T/p/links.json"
expect_re "$OUT" "^Links: +2 "
printf 'from,to,time,mode\n1,2,30,road\n2,9,45,rail\n' >"$T/p/links.csv"
expect_exit 3 "$CITYSYS" validate "$T/p/links.json"
expect_re "$ERR" "links\.csv:3:2: error: "

# a join key without a match is a warning (exit 0), hidden by --quiet
printf 'id,name,lon,lat,population\n1,A,1,2,10\n2,B,1.5,2.5,20\n' >"$T/p/cj.csv"
printf 'key,gdp\n1,5\n' >"$T/p/j.csv"
printf '{"schema_version": 1, "cities": {"path": "cj.csv", "joins": [{"path": "j.csv", "left_key": "id", "right_key": "key", "fields": {"gdp": "gdp"}}]}}\n' >"$T/p/join.json"
expect_exit 0 "$CITYSYS" validate "$T/p/join.json"
expect_re "$ERR" "cj\.csv:3:1: warning: "
expect_exit 0 "$CITYSYS" validate -q "$T/p/join.json"
[[ -z $ERR ]] && ok || fail "--quiet printed a warning: $ERR"

# the bundled examples are valid
expect_exit 0 "$CITYSYS" validate "$CS_SRC/examples/andorra/project.json"
expect_in "$OUT" "valid: 10 cities"
expect_exit 0 "$CITYSYS" validate "$AF/project.json"
expect_in "$OUT" "valid: 453 cities"

# info on the African system: 453 cities, total population summed independently from the CSV
total=$(python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
print(len(rows), int(sum(float(r["population"]) for r in rows)))' "$AF/africa_cities_ports.csv")
n_want=${total% *}; pop_want=${total#* }
expect_exit 0 "$CITYSYS" info "$AF/project.json"
expect_re "$OUT" "^Cities: +453 "
expect_re "$OUT" "^Total population: +$pop_want\$"
expect_in "$OUT" "Largest cities:"
expect_in "$OUT" "Population by region"
expect_in "$OUT" "Population by country"
[[ $n_want == 453 ]] && ok || fail "CSV has $n_want rows, expected 453"

check_json() { # FILE-with-info-json EXPECTED_N EXPECTED_POP
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
n, pop = int(sys.argv[2]), int(sys.argv[3])
assert j["cities"] == n, j["cities"]
assert j["total_population"] == pop, (j["total_population"], pop)
assert len(j["largest"]) == 10
ps = [c["population"] for c in j["largest"]]
assert ps == sorted(ps, reverse=True)
assert sum(c["population"] for c in j["countries"]) == pop
assert sum(c["cities"] for c in j["countries"]) == n
assert sum(c["population"] for c in j["regions"]) == pop
lon0, lat0, lon1, lat1 = j["bbox"]
assert -26 < lon0 < lon1 < 60 and -40 < lat0 < lat1 < 40, j["bbox"]
PY
}
"$CITYSYS" info --json "$AF/project.json" >"$T/info.json" 2>"$T/err.txt" && ok || fail "info --json"
check_json "$T/info.json" 453 "$pop_want" && ok || fail "info --json content"

# largest city checked independently
big=$(python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
print(max(rows, key=lambda r: float(r["population"]))["city"])' "$AF/africa_cities_ports.csv")
expect_re "$OUT" "^ +1\. $big +[0-9]+ "

# shuffled rows: same counts and totals
mkdir -p "$T/shuf"
cp "$AF"/* "$T/shuf/"
python3 - "$T/shuf/africa_cities_ports.csv" <<'PY'
import random, sys
lines = open(sys.argv[1], encoding="utf-8", newline="").read().splitlines(keepends=True)
body = lines[1:]
random.Random(12345).shuffle(body)
open(sys.argv[1], "w", encoding="utf-8", newline="").write(lines[0] + "".join(body))
PY
cmp -s "$AF/africa_cities_ports.csv" "$T/shuf/africa_cities_ports.csv" && fail "shuffle did nothing" || ok
"$CITYSYS" info --json "$T/shuf/project.json" >"$T/info2.json" 2>"$T/err.txt" && ok || fail "info --json (shuffled): $(cat "$T/err.txt")"
check_json "$T/info2.json" 453 "$pop_want" && ok || fail "info --json content (shuffled)"
python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for k in ("largest", "countries", "regions", "bbox", "total_population", "cities"):
    assert a[k] == b[k], k' "$T/info.json" "$T/info2.json" && ok || fail "info differs after shuffling"

# Andorra: ten towns, population checked against the CSV
pop_ad=$(python3 -c '
import csv, sys
print(int(sum(float(r["population"]) for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")))))' "$CS_SRC/examples/andorra/cities.csv")
expect_exit 0 "$CITYSYS" info "$CS_SRC/examples/andorra/project.json"
expect_re "$OUT" "^Cities: +10 "
expect_re "$OUT" "^Total population: +$pop_ad\$"
expect_re "$OUT" "^ +1\. Andorra la Vella +20430 "
finish

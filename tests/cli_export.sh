#!/usr/bin/env bash
# CLI: export — GeoPackage that ogrinfo reads with every input column; GeoJSON and CSV; usage errors;
# nothing written for invalid input.
source "$(dirname "$0")/cli_common.sh"
T=$CS_TMP
AF=$CS_SRC/examples/africa

expect_exit 2 "$CITYSYS" export "$AF/project.json"
expect_exit 2 "$CITYSYS" export "$AF/project.json" -o "$T/x.shp"
expect_exit 2 "$CITYSYS" export "$AF/project.json" -o "$T/x.gpkg" --format parquet
[[ ! -e $T/x.shp && ! -e $T/x.gpkg ]] && ok || fail "usage error wrote a file"

expect_exit 0 "$CITYSYS" export "$AF/project.json" -o "$T/africa.gpkg"
[[ -s $T/africa.gpkg ]] && ok || fail "no africa.gpkg"
if command -v ogrinfo >/dev/null; then
  info=$(ogrinfo -so "$T/africa.gpkg" cities 2>&1)
  expect_re "$info" "Feature Count: 453"
  expect_re "$info" "Geometry: Point"
  # every input column of the city table and the joined columns: mapped columns under their standard
  # name (project "fields"), all others under their own name
  cols=$(python3 - "$AF/project.json" "$AF/africa_cities_ports.csv" <<'PY'
import csv, json, sys
p = json.load(open(sys.argv[1]))
inv = {v: k for k, v in p["cities"].get("fields", {}).items()}
for j in p["cities"].get("joins", []):
    inv.update({v: k for k, v in j.get("fields", {}).items()})
    jcols = j.get("columns", [])
hdr = next(csv.reader(open(sys.argv[2], encoding="utf-8")))
print(" ".join(inv.get(c, c) for c in hdr + jcols))
PY
)
  [[ $(wc -w <<<"$cols") -eq 17 ]] && ok || fail "column list: $cols"
  for c in $cols; do
    expect_re "$info" "^$c: "
  done
else
  echo "ogrinfo not found: GeoPackage layer check skipped"
fi

# GeoJSON and CSV
expect_exit 0 "$CITYSYS" export "$AF/project.json" -o "$T/africa.geojson"
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["type"] == "FeatureCollection" and len(j["features"]) == 453
p = j["features"][0]["properties"]
for c in ("name", "population", "region", "country", "iso3", "capital", "port_locode", "gdp_per_head", "IWI"):
    assert c in p, (c, sorted(p))' "$T/africa.geojson" && ok || fail "geojson content"
expect_exit 0 "$CITYSYS" export "$AF/project.json" -o "$T/africa.csv"
python3 -c '
import csv, sys
src = list(csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")))
out = list(csv.DictReader(open(sys.argv[2], encoding="utf-8", newline="")))
assert len(out) == len(src) == 453
cols = set(out[0])
for c in ("id", "name", "lon", "lat", "population", "region", "country", "iso3", "capital", "port_locode",
          "gdp_per_head", "IWI"):
    assert c in cols, (c, sorted(cols))
tot = sum(float(r["population"]) for r in src)
pc = [c for c in cols if c.lower() == "population"][0]
assert abs(sum(float(r[pc]) for r in out) - tot) < 1e-6 * tot
# GDP per head joined from the node table rows of the cities, checked independently
nodes = {r["city_country"]: r for r in csv.DictReader(open(sys.argv[3], encoding="utf-8", newline=""))
         if r["city_port"] == "TRUE"}
assert len(nodes) == 453
for r in out:
    n = nodes[r["id"]]
    assert abs(float(r["gdp_per_head"]) - float(n["gdp_cap"])) <= 1e-9 * float(n["gdp_cap"]), r["id"]
    assert abs(float(r["IWI"]) - float(n["IWI"])) <= 1e-9 * abs(float(n["IWI"])), r["id"]
' "$AF/africa_cities_ports.csv" "$T/africa.csv" "$AF/africa_network_nodes.csv" && ok || fail "csv content"

# output that cannot be written: I/O error, exit 4
expect_exit 4 "$CITYSYS" export "$AF/project.json" -o "$T/no/such/folder/x.csv"
echo x >"$T/plainfile"
expect_exit 4 "$CITYSYS" export "$AF/project.json" -o "$T/plainfile/x.gpkg"

# invalid input: exit 3, existing output untouched, no new output
mkdir -p "$T/bad"
printf 'id,name,lon,lat,population\n1,A,1,2,lots\n' >"$T/bad/c.csv"
printf '{"schema_version": 1, "cities": {"path": "c.csv"}}\n' >"$T/bad/p.json"
sum_before=$(sha256sum "$T/africa.csv")
expect_exit 3 "$CITYSYS" export "$T/bad/p.json" -o "$T/africa.csv"
[[ $(sha256sum "$T/africa.csv") == "$sum_before" ]] && ok || fail "invalid input modified the existing output"
expect_exit 3 "$CITYSYS" export "$T/bad/p.json" -o "$T/bad/out.gpkg"
[[ ! -e $T/bad/out.gpkg ]] && ok || fail "invalid input wrote out.gpkg"
n_tmp=$(find "$T" -name '.*tmp*' | wc -l)
[[ $n_tmp -eq 0 ]] && ok || fail "temporary files left: $(find "$T" -name '.*tmp*')"
finish

#!/usr/bin/env bash
# CLI: run — output folder with manifest.json (inputs, fingerprints, versions, outputs with SHA-256),
# step cache reuse and invalidation, failed runs leave the previous folder intact, user folders refused.
source "$(dirname "$0")/cli_common.sh"
T=$CS_TMP
mkdir -p "$T/proj"
cp "$CS_SRC"/examples/andorra/* "$T/proj/"
P=$T/proj/project.json

# "N steps (M of K cached steps reused from the cache)" -> NSTEPS, REUSED, CACHED
steps_counts() { local re='([0-9]+) steps \(([0-9]+) of ([0-9]+) cached'; if [[ $1 =~ $re ]]; then NSTEPS=${BASH_REMATCH[1]}; REUSED=${BASH_REMATCH[2]}; CACHED=${BASH_REMATCH[3]}; else NSTEPS=-1; REUSED=-1; CACHED=-1; fi; }
expect_exit 2 "$CITYSYS" run "$P"
expect_exit 0 "$CITYSYS" run "$P" -o "$T/out"
[[ $(tail -1 <<<"$OUT") == "$T/out" ]] && ok || fail "run did not print the output folder: $OUT"
steps_counts "$ERR"; [[ $REUSED -eq 0 && $NSTEPS -ge 4 ]] && ok || fail "first run: $ERR"

check_manifest() { # DIR PROJECT-FILE
  python3 - "$1" "$2" "$CITYSYS" <<'PY'
import hashlib, json, os, subprocess, sys
d, proj, exe = sys.argv[1:4]
m = json.load(open(os.path.join(d, "manifest.json")))
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
assert m["format"] == "citysys-manifest" and m["manifest_version"] == 1
ver = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.splitlines()
assert ver[0] == "citysys " + m["citysys"]["version"], (ver[0], m["citysys"])
for line in ver[1:]:
    name, v = line.split(" ", 1)
    assert m["citysys"]["dependencies"][name] == v
assert len(m["project"]["fingerprint"]) == 64
files = sorted(f for f in os.listdir(d) if f != "manifest.json")
assert [o["path"] for o in m["outputs"]] == files, (m["outputs"], files)
for o in m["outputs"]:
    p = os.path.join(d, o["path"])
    assert os.path.getsize(p) == o["size"] and sha(p) == o["sha256"], o
pdir = os.path.dirname(proj)
keys = [i["key"] for i in m["inputs"]]
assert "cities.path" in keys and "network.osm_path" in keys, keys
for i in m["inputs"]:
    p = os.path.join(pdir, i["path"])
    assert sha(p) == i["sha256"] and os.path.getsize(p) == i["size"], i
names = [s["name"] for s in m["steps"]]
assert names[0] == "validate" and "export" in names and "network" in names and "matrix" in names, names
print(" ".join(files))
PY
}
files=$(check_manifest "$T/out" "$P") && ok || fail "manifest check"
[[ " $files " == *" cities.csv "* && " $files " == *" cities.gpkg "* && " $files " == *" matrix_time.csmat "* ]] && ok || fail "outputs: $files"
python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
assert len(rows) == 10, len(rows)' "$T/out/cities.csv" && ok || fail "cities.csv in the output"
cp "$T/out/manifest.json" "$T/manifest1.json"

# re-run unchanged: every cached step reused, identical output folder
expect_exit 0 "$CITYSYS" run "$P" -o "$T/out"
steps_counts "$ERR"; [[ $REUSED -eq $CACHED && $CACHED -ge 3 ]] && ok || fail "unchanged re-run must reuse every cached step: $ERR"
cmp -s "$T/out/manifest.json" "$T/manifest1.json" && ok || fail "manifest changed on an unchanged re-run"
[[ -d $T/.citysys-cache ]] && ok || fail "no cache next to the output folder"

# change a parameter of the export step only: the export step re-runs, the new format is there
python3 - "$P" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); j["outputs"]["formats"] = ["geojson"]
json.dump(j, open(sys.argv[1], "w"), indent=1)
PY
expect_exit 0 "$CITYSYS" run "$P" -o "$T/out"
steps_counts "$ERR"; [[ $REUSED -eq $((CACHED - 1)) ]] && ok || fail "a format change must rerun export only (and what follows): $ERR"
[[ -s $T/out/cities.geojson && ! -e $T/out/cities.gpkg ]] && ok || fail "outputs after a format change: $(ls "$T/out")"
check_manifest "$T/out" "$P" >/dev/null && ok || fail "manifest after a format change"

# change an input file: never served from the cache (population of one town edited)
sed -i 's/^3039154,El Tarter,\(.*\),1052,/3039154,El Tarter,\1,1999,/' "$T/proj/cities.csv"
grep -q ',1999,' "$T/proj/cities.csv" && ok || fail "edit of cities.csv failed"
expect_exit 0 "$CITYSYS" run "$P" -o "$T/out"
expect_in "$ERR" "(0 of "
grep -q '1999' "$T/out/cities.geojson" && ok || fail "stale output after an input change"

# a corrupted cache entry is detected and rebuilt
entry=$(ls -d "$T"/.citysys-cache/export-* | head -1)
for f in "$T"/.citysys-cache/export-*/cities.*; do echo garbage >>"$f"; done
expect_exit 0 "$CITYSYS" run "$P" -o "$T/out"
steps_counts "$ERR"; [[ $REUSED -eq $((CACHED - 1)) ]] && ok || fail "only the corrupted export entry must be rebuilt: $ERR"
check_manifest "$T/out" "$P" >/dev/null && ok || fail "manifest after cache corruption"
[[ -n $entry ]] && ok || fail "no cache entry"

# --no-cache and --cache-dir
expect_exit 0 "$CITYSYS" run "$P" -o "$T/out2" --no-cache
cmp -s "$T/out/cities.geojson" "$T/out2/cities.geojson" && ok || fail "--no-cache output differs"
expect_exit 0 "$CITYSYS" run "$P" -o "$T/out3" --cache-dir "$T/mycache"
ls -d "$T"/mycache/export-* >/dev/null 2>&1 && ok || fail "--cache-dir not used"

# a failing run (invalid input) leaves the previous output folder exactly as it was
snap() { (cd "$1" && find . -type f | sort | xargs sha256sum); }
before=$(snap "$T/out")
cp "$T/proj/cities.csv" "$T/cities.good"
sed -i 's/^3041519,Arinsal,\(.*\),1419,/3041519,Arinsal,\1,unknown,/' "$T/proj/cities.csv"
expect_exit 3 "$CITYSYS" run "$P" -o "$T/out"
expect_re "$ERR" "cities\.csv:[0-9]+:5: error: "
[[ $(snap "$T/out") == "$before" ]] && ok || fail "failed run changed the output folder"
cp "$T/cities.good" "$T/proj/cities.csv"

# a non-empty folder that is not a citysys output is never replaced; a file is refused
mkdir -p "$T/user"; echo keep >"$T/user/precious.txt"
expect_exit 2 "$CITYSYS" run "$P" -o "$T/user"
expect_in "$ERR" "refusing to replace"
[[ $(cat "$T/user/precious.txt") == keep ]] && ok || fail "user folder touched"
mkdir -p "$T/web"; echo '{"name": "my app", "start_url": "/"}' >"$T/web/manifest.json"
expect_exit 2 "$CITYSYS" run "$P" -o "$T/web"
expect_in "$ERR" "not a citysys manifest"
[[ -f $T/web/manifest.json && $(ls "$T/web") == manifest.json ]] && ok || fail "web folder touched"
echo x >"$T/afile"
expect_exit 2 "$CITYSYS" run "$P" -o "$T/afile"
# an output folder that cannot be created: I/O error, exit 4
expect_exit 4 "$CITYSYS" run "$P" -o "$T/afile/sub" --no-cache
# an empty folder is fine
mkdir -p "$T/empty"
expect_exit 0 "$CITYSYS" run -q "$P" -o "$T/empty"
[[ -z $ERR ]] && ok || fail "--quiet printed: $ERR"

# link tables are exported with the cities (lines between their cities)
mkdir -p "$T/lk"
printf 'id,name,lon,lat,population\n1,A,1,2,10\n2,B,1.5,2.5,20\n3,C,2,3,30\n' >"$T/lk/c.csv"
printf 'from,to,time_min,mode\n1,2,30,road\n2,3,45,rail\n' >"$T/lk/links.csv"
printf '{"schema_version": 1, "cities": {"path": "c.csv"}, "links": [{"path": "links.csv"}]}\n' >"$T/lk/project.json"
expect_exit 0 "$CITYSYS" run "$T/lk/project.json" -o "$T/lk/out"
files=$(cd "$T/lk/out" && ls | tr '\n' ' ')
[[ $files == *"cities.csv cities.gpkg "* && $files == *"links.csv links.gpkg manifest.json "* && $files == *"report.html"* ]] && ok || fail "outputs with links: $files"
python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
assert len(rows) == 2, rows' "$T/lk/out/links.csv" && ok || fail "links.csv content"

# the bundled African example runs and its manifest is complete
expect_exit 0 "$CITYSYS" run "$CS_SRC/examples/africa/project.json" -o "$T/africa"
python3 - "$T/africa" <<'PY' && ok || fail "africa manifest"
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
paths = [o["path"] for o in m["outputs"]]
assert "cities.csv" in paths and "cities.gpkg" in paths and "matrix_time.csmat" in paths, paths
for o in m["outputs"]:
    assert hashlib.sha256(open(os.path.join(d, o["path"]), "rb").read()).hexdigest() == o["sha256"]
assert len(m["inputs"]) == 9, m["inputs"]  # cities, join, network tables, border matrices, 3 scenario files
PY
finish

#!/usr/bin/env bash
# CLI: `citysys run` and `citysys export` killed with SIGKILL at random moments leave the output folder
# (or file) either exactly as it was or complete — never partial.
#   cli_kill.sh [ITERATIONS [EXAMPLE]]   default 50 kills of each on examples/andorra (label cli);
#   the slow test runs more on examples/africa.
source "$(dirname "$0")/cli_common.sh"
N=${1:-50}
EX=${2:-andorra}
T=$CS_TMP
# two variants whose complete outputs differ, so "as before" and "complete" can be told apart
for v in a b; do
  mkdir -p "$T/$v"
  cp "$CS_SRC/examples/$EX"/* "$T/$v/"
done
python3 - "$T/b/project.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); j["outputs"] = {"formats": ["geojson", "csv"]}; j["name"] = "variant b"
json.dump(j, open(sys.argv[1], "w"), indent=1)
PY
OUTD=$T/out
state() { if [[ -d $1 ]]; then (cd "$1" && find . -type f | sort | xargs -r sha256sum | sha256sum); else echo absent; fi; }
complete() { # DIR PROJECT: manifest present, every listed output intact, nothing else, right project
  python3 - "$1" "$2" <<'PY'
import hashlib, json, os, sys
d, proj = sys.argv[1:3]
try:
    m = json.load(open(os.path.join(d, "manifest.json")))
except Exception as e:
    sys.exit("no valid manifest: %s" % e)
want = json.load(open(proj)).get("name")
if m["project"]["name"] != want:
    sys.exit("manifest of another project")
files = sorted(f for f in os.listdir(d) if f != "manifest.json")
if [o["path"] for o in m["outputs"]] != files:
    sys.exit("files %s != manifest %s" % (files, [o["path"] for o in m["outputs"]]))
for o in m["outputs"]:
    p = os.path.join(d, o["path"])
    if hashlib.sha256(open(p, "rb").read()).hexdigest() != o["sha256"]:
        sys.exit("checksum mismatch " + p)
PY
}
now_ms() { date +%s%3N; }
t0=$(now_ms); "$CITYSYS" run -q "$T/a/project.json" -o "$T/timing" >/dev/null || fail "timing run"; t1=$(now_ms)
dur=$((t1 - t0)); [[ $dur -lt 5 ]] && dur=5
echo "one run takes ${dur} ms; $N kills"
RANDOM=4242
n_before=0; n_complete=0
for ((i = 0; i < N; i++)); do
  v=$([[ $((RANDOM % 2)) -eq 0 ]] && echo a || echo b)
  before=$(state "$OUTD")
  # sleep uniformly in [0, 1.2 * duration]
  ms=$((RANDOM % (dur * 12 / 10 + 1)))
  "$CITYSYS" run -q "$T/$v/project.json" -o "$OUTD" >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  after=$(state "$OUTD")
  if [[ $after == "$before" ]]; then
    n_before=$((n_before + 1)); ok
  elif msg=$(complete "$OUTD" "$T/$v/project.json" 2>&1); then
    n_complete=$((n_complete + 1)); ok
  else
    fail "run kill $i after ${ms} ms: output folder neither as before nor complete: $msg"
  fi
done
echo "run: $n_before as before, $n_complete complete"
# the folder is still usable: a final uninterrupted run succeeds and is complete
"$CITYSYS" run -q "$T/a/project.json" -o "$OUTD" >/dev/null && complete "$OUTD" "$T/a/project.json" && ok || fail "final run"

# single-file writer: export to CSV; each variant's complete file is known from an uninterrupted export
python3 - "$T/b" <<'PY'
import csv, sys, os
# variant b: population of the first city doubled, so its export differs from a's
d = sys.argv[1]
import json
proj = json.load(open(os.path.join(d, "project.json")))
path = os.path.join(d, proj["cities"]["path"])
pop = proj["cities"].get("fields", {}).get("population", "population")
rows = list(csv.reader(open(path, encoding="utf-8", newline="")))
k = rows[0].index(pop)
rows[1][k] = str(int(float(rows[1][k])) * 2)
csv.writer(open(path, "w", encoding="utf-8", newline=""), lineterminator="\n").writerows(rows)
PY
for v in a b; do
  "$CITYSYS" export -q "$T/$v/project.json" -o "$T/ref_$v.csv" || fail "reference export $v"
done
cmp -s "$T/ref_a.csv" "$T/ref_b.csv" && fail "variants export the same bytes"
ref_a=$(sha256sum <"$T/ref_a.csv"); ref_b=$(sha256sum <"$T/ref_b.csv")
# GeoPackages hold a timestamp, so a complete one is recognised by content: read with Python's sqlite3,
# it must hold every city with the population of the right variant
gpkg_sig() { python3 - "$1" <<'PY'
import sqlite3, sys
con = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
rows = con.execute("SELECT id, population FROM cities ORDER BY id").fetchall()
print(";".join("%s=%s" % (i, int(p)) for i, p in rows))
PY
}
"$CITYSYS" export -q "$T/a/project.json" -o "$T/ref_a.gpkg" && "$CITYSYS" export -q "$T/b/project.json" -o "$T/ref_b.gpkg" ||
  fail "reference gpkg"
sig_a=$(gpkg_sig "$T/ref_a.gpkg"); sig_b=$(gpkg_sig "$T/ref_b.gpkg")
[[ -n $sig_a && $sig_a != "$sig_b" ]] && ok || fail "gpkg variants not distinguishable"
t0=$(now_ms); "$CITYSYS" export -q "$T/a/project.json" -o "$T/timing.gpkg"; t1=$(now_ms)
dur=$((t1 - t0)); [[ $dur -lt 5 ]] && dur=5
n_before=0; n_complete=0
for ((i = 0; i < N; i++)); do
  v=$([[ $((RANDOM % 2)) -eq 0 ]] && echo a || echo b)
  ext=$([[ $((RANDOM % 2)) -eq 0 ]] && echo csv || echo gpkg)
  F=$T/export.$ext
  before=$([[ -e $F ]] && sha256sum <"$F" || echo absent)
  ms=$((RANDOM % (dur * 12 / 10 + 1)))
  "$CITYSYS" export -q "$T/$v/project.json" -o "$F" >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  after=$([[ -e $F ]] && sha256sum <"$F" || echo absent)
  if [[ $after == "$before" ]]; then
    n_before=$((n_before + 1)); ok
  elif [[ $ext == csv && $after == "$([[ $v == a ]] && echo "$ref_a" || echo "$ref_b")" ]]; then
    n_complete=$((n_complete + 1)); ok
  elif [[ $ext == gpkg && $(gpkg_sig "$F" 2>/dev/null) == "$([[ $v == a ]] && echo "$sig_a" || echo "$sig_b")" ]]; then
    n_complete=$((n_complete + 1)); ok
  else
    fail "export ($ext) kill $i after ${ms} ms: file neither as before nor complete"
  fi
done
echo "export: $n_before as before, $n_complete complete"
finish

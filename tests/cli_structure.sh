#!/usr/bin/env bash
# `citysys flows` on the hand-made system of tests/data/typology (a core with satellites, a highway
# A–T1–T2–T3–B, an island off the network, rail and soft links): intermediacy against pair counts worked by
# hand, corridor route geometry, hard/soft centralities, and the QGIS layers of structure.gpkg (ogrinfo).
set -u
D="$CS_SRC/tests/data/typology"
rm -rf "$CS_TMP"; mkdir -p "$CS_TMP"
fail=0
check() { if ! eval "$1"; then echo "FAILED: $1"; fail=1; fi; }
"$CITYSYS" flows "$D/project.json" -o "$CS_TMP/out" --no-cache -q 2>"$CS_TMP/err"
check '[ $? -eq 0 ]'
O="$CS_TMP/out"
# intermediacy pairs: the road is the chain S1–C–S2 (C's junction), C–A, A–T1–T2–T3–B; ordered pairs of
# other cities whose route passes the city: C: S1<->S2 and {S1,S2}x{A,T1,T2,T3,B} both ways = 2 + 20;
# A: 3x4x2 = 24; T1: 4x3x2 = 24; T2: 5x2x2 = 20; T3: 6x1x2 = 12; ends 0; the island (not joined) empty
pairs() { awk -F, -v id="$1" '$1==id {print $4}' "$O/intermediacy.csv"; }
check '[ "$(pairs C)" = 22 ] && [ "$(pairs A)" = 24 ] && [ "$(pairs T1)" = 24 ] && [ "$(pairs T2)" = 20 ]'
check '[ "$(pairs T3)" = 12 ] && [ "$(pairs B)" = 0 ] && [ "$(pairs S1)" = 0 ] && [ -z "$(pairs I)" ]'
check '/usr/bin/python3 -c "import json,sys; d=json.load(open(\"$O/flows.json\")); sys.exit(0 if d[\"top_intermediacy\"][0][\"id\"]==\"T3\" else 1)"'
# hard and soft centralities: soft strengths (weights 3 + 1 at the island, 1 by default), combined columns
check 'head -1 "$O/centrality.csv" | grep -q "soft_strength,soft_harmonic,soft_eigenvector,combined_strength,combined_eigenvector"'
check '[ "$(awk -F, "\$1==\"I\" {print \$8}" "$O/centrality.csv")" = 4 ] && [ "$(awk -F, "\$1==\"C\" {print \$8}" "$O/centrality.csv")" = 1 ]'
# structure.gpkg: every layer, with the fields QGIS needs
G="$O/structure.gpkg"
check 'ogrinfo -so "$G" | grep -q "cities (Point)" && ogrinfo -so "$G" | grep -q "clusters (Polygon)"'
check 'ogrinfo -so "$G" | grep -q "corridors (Line String)" && ogrinfo -so "$G" | grep -q "roads (Line String)"'
check 'ogrinfo -so "$G" cities | grep -q "intermediacy_flow: Real" && ogrinfo -so "$G" cities | grep -q "is_secondary"'
check 'ogrinfo -so "$G" roads | grep -q "flow_forward: Real" && ogrinfo -so "$G" roads | grep -q "criticality_rank: Real"'
check 'ogrinfo -q "$G" corridors | grep -q "LINESTRING (2 0,3 0,4 0,5 0,6 0)"'
check 'ogrinfo -q "$G" corridors | grep -q "geometry (String) = route"'
check '[ "$(ogrinfo -q "$G" -sql "select count(*) from roads where criticality_rank is not null" | grep -o "= [0-9]*")" = "= 7" ]'
# the 3 most loaded segments on the overlay of terminals: the same figures as the full evaluation
mkdir -p "$CS_TMP/p3"
cp "$D"/*.csv "$CS_TMP/p3/"
sed 's/"criticality": true/"criticality": true, "criticality_max_segments": 3/' "$D/project.json" > "$CS_TMP/p3/project.json"
"$CITYSYS" flows "$CS_TMP/p3/project.json" -o "$CS_TMP/out3" --no-cache -q 2>/dev/null
check '[ $? -eq 0 ]'
check '/usr/bin/python3 - "$O/roads.csv" "$CS_TMP/out3/roads.csv" <<"PY"
import csv, sys, math
a = {r["segment"]: r for r in csv.DictReader(open(sys.argv[1]))}
b = [r for r in csv.DictReader(open(sys.argv[2])) if r["criticality_rank"] not in ("", "nan")]
top = sorted(a.values(), key=lambda r: (-(float(r["flow_forward"]) + float(r["flow_backward"])), int(r["segment"])))[:3]
ok = len(b) == 3 and {r["segment"] for r in b} == {r["segment"] for r in top}
for r in b:
    for k in ("closure_cost_flow_s", "closure_cut_flow", "closure_cut_population"):
        x, y = float(r[k]), float(a[r["segment"]][k])
        ok = ok and abs(x - y) <= 1e-9 * max(1.0, abs(y))
sys.exit(0 if ok else 1)
PY'
[ $fail -eq 0 ] && echo "cli_structure: all checks passed"
exit $fail

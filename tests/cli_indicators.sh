#!/bin/bash
# CLI tests of the indicator commands: cost, hierarchy, agglomerate, access, gravity.
# Needs the io module's city reader and CSV matrix reader; prints "skipped" and passes when they are absent.
set -u
D="$CS_SRC/tests/data/indicators"
T="$CS_TMP"
rm -rf "$T" && mkdir -p "$T"
fail=0
check() { if ! eval "$1"; then echo "FAIL: $1"; fail=1; fi; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }

# usage errors are exit code 2 (no reader needed)
"$CITYSYS" access >/dev/null 2>&1; check "[ $? -eq 2 ]"
"$CITYSYS" gravity bogus a b >/dev/null 2>&1; check "[ $? -eq 2 ]"
"$CITYSYS" hierarchy --help >/dev/null; check "[ $? -eq 0 ]"

if "$CITYSYS" hierarchy "$D/geonames_andorra.csv" -j "$T/probe.json" 2>&1 | grep -q "no city table reader"; then
    echo "skipped: city reader (io module) not in this build"
    exit $fail
fi
FIELDS="--id-field geonameid --pop-field population --country-field country"

# hierarchy: ALL group of Andorra
"$CITYSYS" hierarchy "$D/geonames_andorra.csv" $FIELDS --nboot 0 -o "$T/h.csv" -g "$T/hg.csv" -j "$T/h.json"
check "[ $? -eq 0 ]"
check "[ \"\$(json $T/h.json \"round(d['groups'][0]['primacy_2'], 10)\")\" = \"$(python3 -c 'print(round(20430/15853,10))')\" ]"
check "head -1 $T/hg.csv | grep -q zeta_gi_se"

# agglomerate: Andorra la Vella + les Escaldes within 1.5 km
"$CITYSYS" agglomerate "$D/geonames_andorra.csv" $FIELDS --max-km 1.5 -o "$T/a.csv" -m "$T/am.csv" -j "$T/a.json"
check "[ $? -eq 0 ]"
check "[ \"\$(json $T/a.json \"d['agglomerations']\")\" = 9 ]"
check "grep -q '^3041563,Andorra la Vella,AD,.*,36283,2,3040051;3041563$' $T/a.csv"

# access: 3-city hand case (minutes), theta 2, c_min 10
printf 'id,name,lon,lat,population\na,A,0,0,100\nb,B,1,0,200\nc,C,2,0,400\n' > "$T/c3.csv"
printf 'origin_id,destination_id,value\na,a,0\na,b,20\na,c,inf\nb,a,20\nb,b,0\nb,c,5\nc,a,40\nc,b,5\nc,c,0\n' > "$T/m3.csv"
"$CITYSYS" access "$T/c3.csv" "$T/m3.csv" --unit min --theta 2 --thresholds 30 -o "$T/acc.csv" -j "$T/acc.json"
check "[ $? -eq 0 ]"
check "grep -q '^b,B,4.25,' $T/acc.csv"
check "grep -q '^a,A,0.5,200,10,1$' $T/acc.csv"

# cost: KEN-UGA border time (export KEN + import UGA = 3097.5 min) halved by a customs-union soft link on the border part
printf 'id,name,lon,lat,population,country\nNBO,Nairobi,36.8,-1.3,4000000,KEN\nMBA,Mombasa,39.7,-4.0,1200000,KEN\nKLA,Kampala,32.6,0.3,3000000,UGA\n' > "$T/eac.csv"
printf 'origin_id,destination_id,value\nNBO,MBA,28800\nNBO,KLA,43200\nMBA,NBO,28800\nMBA,KLA,72000\nKLA,NBO,43200\nKLA,MBA,72000\nNBO,NBO,0\nMBA,MBA,0\nKLA,KLA,0\n' > "$T/eac_t.csv"
printf 'level,a,b,factor\ncountry,KEN,UGA,0.5\n' > "$T/soft.csv"
"$CITYSYS" cost -t "$T/eac_t.csv" -c "$T/eac.csv" --country-field country --border-time "$D/border_time_eac4.csv" \
    --soft "$T/soft.csv" --soft-on border -o "$T/eac_cost.cmx" --tau "$T/eac_tau.cmx" --csv "$T/eac_cost.csv" -j "$T/eac_cost.json"
check "[ $? -eq 0 ]"
check "grep -q '^NBO,KLA,2268.75,1$' $T/eac_cost.csv"
check "grep -q '^KLA,NBO,2869.5,1$' $T/eac_cost.csv"

# gravity predict: doubly constrained on the generalised cost, margins within the tolerance
"$CITYSYS" gravity predict "$T/eac.csv" "$T/eac_cost.cmx" --model doubly --beta 1 --tol 1e-9 -o "$T/flows.cmx" -j "$T/gp.json"
check "[ $? -eq 0 ]"
check "python3 -c \"import json,sys; d=json.load(open('$T/gp.json')); sys.exit(0 if d['max_rel_err_origin']<=1e-9 and d['max_rel_err_destination']<=1e-9 else 1)\""

# gravity fit: the African trade table against the statsmodels numbers
awk -F, 'NR>1{print $1","$2","$3}' "$D/africa_trade_pairs.csv" | sed '1i origin_id,destination_id,value' > "$T/flows.csv"
awk -F, 'NR>1{print $1","$2","$4}' "$D/africa_trade_pairs.csv" | sed '1i origin_id,destination_id,value' > "$T/dist.csv"
"$CITYSYS" gravity fit "$T/flows.csv" "$T/dist.csv" --unit km -o "$T/coef.csv" -j "$T/fit.json"
check "[ $? -eq 0 ]"
exp=$(grep '^ln_cost,' "$D/ppml_expected.csv" | cut -d, -f2)
check "python3 -c \"import json,sys; d=json.load(open('$T/fit.json')); sys.exit(0 if abs(d['cost_coef']-($exp))<1e-6 else 1)\""
exit $fail

#!/bin/bash
# CLI tests of `citysys inequality`: published PySAL values through the CLI, exit codes, located errors.
set -u
D="$CS_SRC/tests/data/inequality"
mkdir -p "$CS_TMP"
fail=0
check() { if ! eval "$1"; then echo "FAILED: $2"; fail=1; fi; }
# value of an index in the long CSV: get FILE SCOPE GROUP WEIGHTING INDEX
# (columns: scope,group,period,weighting,index,value; the first matching row)
get() { awk -F, -v s="$2" -v g="$3" -v w="$4" -v i="$5" '$1==s && $2==g && $4==w && $5==i {print $6; exit}' "$1"; }
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= t) }'; }

# Mexico 1940, hanson98 regions: Theil, its decomposition, Gini, spatial Gini (PROVENANCE.md)
"$CITYSYS" inequality -q --input "$D/mexico.csv" --value pcgdp1940 --group hanson98 --blocks --permutations 99 \
    -o "$CS_TMP/mex.csv" --json "$CS_TMP/mex.json"
check "[ $? -eq 0 ]" "mexico run"
O="$CS_TMP/mex.csv"
check "near $(get $O overall '' unweighted theil_t) 0.20894344 1e-7" "theil_t"
check "near $(get $O decomposition '' unweighted theil_t_between) 0.0345889 1e-7" "theil between"
check "near $(get $O decomposition '' unweighted theil_t_within) 0.17435454 1e-7" "theil within"
check "near $(get $O overall '' unweighted gini) 0.35372371173452849 1e-12" "gini"
check "near $(get $O spatial '' unweighted spatial_gini_wcg) 4353856.0 1e-6" "spatial gini wcg"
check "near $(get $O spatial '' unweighted spatial_gini_wg) 884130.0 1e-6" "spatial gini wg"
check "grep -q '\"between_net\"' $CS_TMP/mex.json" "json gini decomposition"
check "! grep -qi 'nan' $O" "no NaN in the table"

# St Louis homicide rates (zeros present): Moran's I with stl.gal, row-standardised
"$CITYSYS" inequality -q --input "$D/stl_hom.csv" --value HR8893 --weights "$D/stl.gal" --nonpositive omit \
    --permutations 99 -o "$CS_TMP/stl.csv"
check "[ $? -eq 0 ]" "stl run"
check "near $(get $CS_TMP/stl.csv spatial '' row_standardised moran_I) 0.24365582621771659 1e-9" "moran I"
check "near $(get $CS_TMP/stl.csv spatial '' row_standardised moran_p_norm) 0.00013573931385468807 1e-9" "moran p_norm"
check "[ -z \"$(get $CS_TMP/stl.csv overall '' unweighted theil_l)\" ]" "theil_l omitted with zeros"
# per-state Moran's I with the links inside each state
"$CITYSYS" inequality -q --input "$D/stl_hom.csv" --value HR8893 --nonpositive omit --group STATE_NAME \
    --weights "$D/stl.gal" --permutations 0 -o "$CS_TMP/stlg.csv" --json "$CS_TMP/stlg.json"
check "[ $? -eq 0 ]" "stl by state"
check "near $(get $CS_TMP/stlg.csv spatial '' row_standardised moran_I) 0.24365582621771659 1e-9" "moran I overall with groups"
check "[ -n \"$(get $CS_TMP/stlg.csv spatial Missouri row_standardised moran_I)\" ]" "moran I per state"
# contiguity from the WKT column: rook reproduces stl.gal, so the same I
"$CITYSYS" inequality -q --input "$D/stl_hom.csv" --value HR8893 --contiguity rook --nonpositive omit \
    --permutations 0 -o "$CS_TMP/stl2.csv"
check "near $(get $CS_TMP/stl2.csv spatial '' row_standardised moran_I) 0.24365582621771659 1e-9" "moran I rook"

# --alpha, --epsilon (oracle.py values) and --nonpositive drop
"$CITYSYS" inequality -q --input "$D/mexico.csv" --value pcgdp1940 --alpha 0.5 --epsilon 2 -o "$CS_TMP/mex2.csv"
check "near $(get $CS_TMP/mex2.csv overall '' unweighted ge_alpha) 0.20196308388243059 1e-12" "ge(0.5)"
check "near $(get $CS_TMP/mex2.csv overall '' unweighted atkinson) 0.3155980580204617 1e-12" "atkinson(2)"
"$CITYSYS" inequality --input "$D/stl_hom.csv" --value HR8893 --nonpositive drop -o "$CS_TMP/drop.csv" 2> "$CS_TMP/drop.txt"
check "[ $? -eq 0 ]" "drop run"
check "[ \"$(get $CS_TMP/drop.csv overall '' unweighted n)\" = 74 ]" "4 zero rows dropped"
check "grep -q '4 rows with HR8893 <= 0 dropped' $CS_TMP/drop.txt" "drop note"
"$CITYSYS" inequality --input "$D/stl_hom.csv" --value HR8893 --nonpositive drop --weights "$D/stl.gal" 2>/dev/null >/dev/null
check "[ $? -eq 3 ]" "dropped rows no longer match the GAL file -> 3"

# zeros refused by default, located error, exit 3
"$CITYSYS" inequality --input "$D/stl_hom.csv" --value HR8893 -o "$CS_TMP/x.csv" 2> "$CS_TMP/err.txt"
check "[ $? -eq 3 ]" "zeros -> exit 3"
check "grep -q 'stl_hom.csv:6:10: error: HR8893: value is 0' $CS_TMP/err.txt" "located zero error"
check "[ ! -e $CS_TMP/x.csv ]" "no output on error"

# US incomes: quintile Markov counts 1929-2009 and beta convergence
"$CITYSYS" inequality -q --input "$D/usjoin.csv" --value 2009 --panel 1929:2009 -o "$CS_TMP/us.csv" --json "$CS_TMP/us.json"
check "[ $? -eq 0 ]" "usjoin run"
want="729 71 1 0 0 72 567 80 3 0 0 81 631 86 2 0 3 86 573 56 0 0 1 57 741"
got=$(awk -F, '$1=="markov" && $5 ~ /^markov_count_/ {printf "%s%s", sep, $6; sep=" "}' "$CS_TMP/us.csv")
check "[ \"$got\" = \"$want\" ]" "markov counts ($got)"
check "near $(get $CS_TMP/us.csv beta '' unweighted beta) -0.0091532169839369307 1e-12" "beta"
check "grep -q '^sigma,,1929,unweighted,sigma_cv,0.355366893735539' $CS_TMP/us.csv" "sigma 1929"
check "grep -q '^beta,,1929-2009,unweighted,beta_half_life,' $CS_TMP/us.csv" "beta period"

# usage and input errors
"$CITYSYS" inequality --input "$D/mexico.csv" 2>/dev/null; check "[ $? -eq 2 ]" "missing --value -> 2"
"$CITYSYS" inequality --input "$D/mexico.csv" --value nope 2>/dev/null; check "[ $? -eq 3 ]" "unknown column -> 3"
"$CITYSYS" inequality --input "$D/mexico.csv" --value pcgdp1940 --weights "$D/stl.gal" 2>/dev/null
check "[ $? -eq 3 ]" "weights of another size -> 3"
"$CITYSYS" inequality --input "$D/nope.csv" --value a 2>/dev/null; check "[ $? -eq 4 ]" "missing file -> 4"
printf 'id,v\na,1\nb,x\nc,-2\n' > "$CS_TMP/bad.csv"
"$CITYSYS" inequality --input "$CS_TMP/bad.csv" --value v 2> "$CS_TMP/err2.txt"
check "[ $? -eq 3 ]" "bad number -> 3"
check "grep -q 'bad.csv:3:2: error: v: expected a number' $CS_TMP/err2.txt" "located number error"
"$CITYSYS" inequality --input "$D/mexico.csv" --value pcgdp1940 --contiguity hex 2>/dev/null
check "[ $? -eq 2 ]" "bad contiguity rule -> 2"

# population weights, groups, kNN, GAL matched by id (hand-checkable data)
cat > "$CS_TMP/cities.csv" <<'CSV'
id,country,lon,lat,pop,gdppc
a,X,0,0,1,1
b,X,1,0,3,3
c,Y,2,0,2,2
d,Y,4,0,2,6
CSV
printf '4\nd 1\nc\nc 2\nd b\nb 2\nc a\na 1\nb\n' > "$CS_TMP/cities.gal"
"$CITYSYS" inequality -q --input "$CS_TMP/cities.csv" --value gdppc --population pop --group country --knn 1 \
    --permutations 9 -o "$CS_TMP/c.csv" --json "$CS_TMP/c.json"
check "[ $? -eq 0 ]" "cities run"
# Williamson of y = {1,3,2,6}, p = {1,3,2,2}: ȳ = 26/8 = 3.25, variance = 23.5/8 = 2.9375
check "near $(get $CS_TMP/c.csv overall '' population williamson) $(awk 'BEGIN{printf "%.17g", sqrt(2.9375)/3.25}') 1e-9" "williamson"
check "near $(get $CS_TMP/c.csv group X population mean) 2.5 1e-12" "group mean weighted"
check "[ -z \"$(get $CS_TMP/c.csv overall '' unweighted williamson)\" ]" "no williamson unweighted"
check "grep -q '\"skipped\": \"needs binary symmetric' $CS_TMP/c.json" "spatial gini refused for knn"
# per-country sigma and beta with a panel (Mexico by hanson98 region)
"$CITYSYS" inequality -q --input "$D/mexico.csv" --value pcgdp2000 --group hanson98 --panel pcgdp1940:pcgdp2000 \
    -o "$CS_TMP/mexp.csv"
check "[ $? -eq 0 ]" "mexico panel by group"
check "grep -q '^sigma,5.000,1940,unweighted,sigma_cv,' $CS_TMP/mexp.csv" "sigma per group"
check "grep -q '^beta,5.000,1940-2000,unweighted,beta,' $CS_TMP/mexp.csv" "beta per group"
"$CITYSYS" inequality -q --input "$CS_TMP/cities.csv" --value gdppc --id id --weights "$CS_TMP/cities.gal" \
    --transform B --permutations 0 -o "$CS_TMP/c2.csv"
check "[ $? -eq 0 ]" "gal by id"
# binary chain a-b-c-d, z = {-2,0,-1,3}: I = (4/6) * 2*(0 + 0 + (-3)) / 14 = -2/7
check "near $(get $CS_TMP/c2.csv spatial '' binary moran_I) $(awk 'BEGIN{printf "%.17g", -2/7}') 1e-12" "moran I by id"
exit $fail

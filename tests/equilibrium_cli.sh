#!/bin/bash
# CLI test of `citysys simulate` on six hand-made cities (tests/data/equilibrium).
set -u
D="$CS_SRC/tests/data/equilibrium"
mkdir -p "$CS_TMP"
fail=0
check() { if ! eval "$1"; then echo "FAILED: $1"; fail=1; fi; }

# long run: one row per city, populations conserved within each country, positive total gain
"$CITYSYS" simulate --cities "$D/cities.csv" --tau-before "$D/tau_before.csmat" --tau-after "$D/tau_after.csmat" \
    -o "$CS_TMP/long.csv" --groups-out "$CS_TMP/groups.csv" > "$CS_TMP/long.txt"
check '[ $? -eq 0 ]'
check '[ $(wc -l < "$CS_TMP/long.csv") -eq 7 ]'
check 'head -1 "$CS_TMP/long.csv" | grep -q "^id,group,L_before,L_after"'
check 'awk -F, "NR>1 && \$2==\"XA\" {a+=\$3; b+=\$4} END {exit !(a>0 && (a-b)^2 < 1e-6)}" "$CS_TMP/long.csv"'
check 'grep -q "aggregate welfare change: +" "$CS_TMP/long.txt"'
check 'grep -q "^f,XB," "$CS_TMP/long.csv"'   # quoted name with a comma parsed
# per-group file: two groups, populations conserved, EV equals the sum of the cities' ev
check '[ $(wc -l < "$CS_TMP/groups.csv") -eq 3 ]'
check 'awk -F, "NR>1 {d=\$3-\$4; if (d*d > 1e-6) exit 1}" "$CS_TMP/groups.csv"'
check 'a=$(awk -F, "NR>1 {s+=\$7} END {printf \"%.6e\", s}" "$CS_TMP/groups.csv"); b=$(awk -F, "NR>1 {s+=\$21} END {printf \"%.6e\", s}" "$CS_TMP/long.csv"); [ "$a" = "$b" ]'
# W = real income x amenity is consistent with the hats: W_after / W_before = welfare_hat
check 'awk -F, "NR>1 {r=\$16/\$15/\$17; if ((r-1)^2 > 1e-16) exit 1}" "$CS_TMP/long.csv"' 

# short run: nobody moves
"$CITYSYS" simulate --cities "$D/cities.csv" --tau-before "$D/tau_before.csmat" --tau-after "$D/tau_after.csmat" \
    --short-run -q > "$CS_TMP/short.csv"
check '[ $? -eq 0 ]'
check 'awk -F, "NR>1 && \$5 != 1 {exit 1}" "$CS_TMP/short.csv"'

# no change: every hat is 1 and every ev 0 (to the printed precision)
"$CITYSYS" simulate --cities "$D/cities.csv" --tau-before "$D/tau_before.csmat" --tau-after "$D/tau_before.csmat" \
    -q > "$CS_TMP/same.csv"
check 'awk -F, "NR>1 && (\$5 != 1 || \$8 != 1 || \$20 != 1 || (\$21 > 1e-3 || \$21 < -1e-3)) {exit 1}" "$CS_TMP/same.csv"'

# bad input: exit 3 with file:line:column
sed 's/^c,Gamma,80000/c,Gamma,-5/' "$D/cities.csv" > "$CS_TMP/bad.csv"
"$CITYSYS" simulate --cities "$CS_TMP/bad.csv" --tau-before "$D/tau_before.csmat" --tau-after "$D/tau_after.csmat" \
    2> "$CS_TMP/bad.err" > /dev/null
check '[ $? -eq 3 ]'
check 'grep -q "bad.csv:4:3: error" "$CS_TMP/bad.err"'
# usage errors: exit 2
"$CITYSYS" simulate --cities "$D/cities.csv" 2> /dev/null
check '[ $? -eq 2 ]'
"$CITYSYS" simulate --cities "$D/cities.csv" --tau-before "$D/tau_before.csmat" --tau-after "$D/tau_after.csmat" \
    --short-run --long-run 2> /dev/null
check '[ $? -eq 2 ]'
"$CITYSYS" simulate --cities "$D/cities.csv" --tau-before "$D/tau_before.csmat" --tau-after "$D/tau_after.csmat" \
    --theta -2 2> /dev/null
check '[ $? -eq 2 ]'
# a city missing from the matrix: refused, not silently dropped
printf 'g,Gee,1000,900,XB\n' | cat "$D/cities.csv" - > "$CS_TMP/extra.csv"
"$CITYSYS" simulate --cities "$CS_TMP/extra.csv" --tau-before "$D/tau_before.csmat" --tau-after "$D/tau_after.csmat" \
    2> "$CS_TMP/extra.err" > /dev/null
check '[ $? -ne 0 ]'
check 'grep -q "g" "$CS_TMP/extra.err"'
exit $fail

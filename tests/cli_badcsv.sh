#!/usr/bin/env bash
# CLI: a cities CSV with a multi-line quoted name on an early row, a text population further down and a
# duplicated id: every error in one run, each naming the physical line and the column; exit 3; no output.
source "$(dirname "$0")/cli_common.sh"
T=$CS_TMP
mkdir -p "$T/p"
# physical lines: 1 header; 2-4 city A (name spans three lines); 5 B; 6 C; 7 D (text population); 8 E;
# 9 B again (duplicate id)
cat >"$T/p/cities.csv" <<'CSV'
id,name,lon,lat,population
A,"Port
of
Spain",10.0,5.0,1000
B,Bee,11.0,6.0,2000
C,Cee,12.0,7.0,3000
D,Dee,13.0,8.0,many
E,Eee,14.0,9.0,5000
B,Bee again,15.0,10.0,6000
CSV
printf '{"schema_version": 1, "cities": {"path": "cities.csv"}}\n' >"$T/p/project.json"
for cmd in validate info; do
  expect_exit 3 "$CITYSYS" $cmd "$T/p/project.json"
  # text population on physical line 7, column 5 (population is the fifth field)
  expect_re "$ERR" "cities\.csv:7:5: error: .*population"
  expect_re "$ERR" "cities\.csv:7:5: error: .*many"
  # duplicated id on physical line 9, column 1 (id is the first field)
  expect_re "$ERR" "cities\.csv:9:1: error: .*(duplicate|B)"
done
expect_exit 3 "$CITYSYS" export "$T/p/project.json" -o "$T/p/out.gpkg"
[[ ! -e $T/p/out.gpkg ]] && ok || fail "export wrote a file for invalid input"
expect_exit 3 "$CITYSYS" run "$T/p/project.json" -o "$T/p/out"
[[ ! -e $T/p/out ]] && ok || fail "run created the output folder for invalid input"
[[ ! -e $T/p/.citysys-cache ]] && ok || fail "run created the cache for invalid input"
n_tmp=$(find "$T/p" -name '.*tmp*' | wc -l)
[[ $n_tmp -eq 0 ]] && ok || fail "temporary files left"
finish

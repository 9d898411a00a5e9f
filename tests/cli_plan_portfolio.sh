#!/usr/bin/env bash
# `citysys plan portfolio` and the run step `portfolio` on a small East-African subset of examples/africa
# (tests/data/portfolio, 42 cities, 6 candidate links): outputs, budgets respected, exhaustive >= greedy,
# determinism, option overrides, located errors.
set -u
rm -rf "$CS_TMP"; mkdir -p "$CS_TMP"
fail=0
check() { if ! eval "$1"; then echo "FAILED: $1"; fail=1; fi; }
# chosen_scenario DIR CANDIDATES: DIR/chosen.json = the candidates a portfolio output DIR chose, as one scenario
chosen_scenario() {
$PY - "$1" "$2" <<'PYEOF2'
import csv, json, sys
names = [r["name"] for r in csv.DictReader(open(sys.argv[1] + "/portfolio_projects.csv"))]
c = json.load(open(sys.argv[2]))
json.dump({"name": "chosen", "changes": [x for x in c["changes"] if x["name"] in names]}, open(sys.argv[1] + "/chosen.json", "w"))
PYEOF2
}
# ev_matches DIR SIM: the portfolio's efficiency gain equals the simulated scenario's total EV (1e-6), positive
ev_matches() {
$PY - "$1" "$2" <<'PYEOF2'
import json, sys
g = json.load(open(sys.argv[1] + "/portfolio.json"))["efficiency_gain"]
e = json.load(open(sys.argv[2] + "/scenarios.json"))["scenarios"][0]["total_equivalent_variation"]
sys.exit(0 if abs(g - e) <= 1e-6 * abs(e) and e > 0 else 1)
PYEOF2
}
P="$CS_SRC/tests/data/portfolio/project.json"
PY=/usr/bin/python3
"$CITYSYS" plan portfolio "$P" -o "$CS_TMP/out" --cache-dir "$CS_TMP/cache" -q >/dev/null
check '[ $? -eq 0 ]'
for f in portfolio_projects.csv portfolio_frontier.csv portfolio_sensitivity.csv portfolio.json portfolio.gpkg \
         chart_portfolio_frontier.png chart_portfolio_frontier.svg chart_portfolio_frontier.pdf manifest.json; do
    check '[ -s "$CS_TMP/out/$f" ]'
done
# every frontier point within its budget; 2 budgets x 2 epsilons; epsilon = 0: objective = efficiency gain
check '$PY -c "
import csv,sys
r=list(csv.DictReader(open(\"$CS_TMP/out/portfolio_frontier.csv\")))
ok=len(r)==4 and all(float(x[\"capital_cost\"])<=float(x[\"budget\"])*(1+1e-12) for x in r)
ok=ok and all(abs(float(x[\"objective\"])-float(x[\"efficiency_gain\"]))<=1e-6*abs(float(x[\"efficiency_gain\"]))+1e-6 for x in r if float(x[\"epsilon\"])==0)
sys.exit(0 if ok else 1)"'
# ranked projects: ranks 1..n, the JSON agrees with the CSV, the sensitivity frequencies are shares
check '$PY -c "
import csv,json,sys
p=list(csv.DictReader(open(\"$CS_TMP/out/portfolio_projects.csv\")))
j=json.load(open(\"$CS_TMP/out/portfolio.json\"))
s=list(csv.DictReader(open(\"$CS_TMP/out/portfolio_sensitivity.csv\")))
ok=[int(x[\"rank\"]) for x in p]==list(range(1,len(p)+1)) and len(p)==j[\"n_selected\"]>0
ok=ok and abs(sum(float(x[\"capital_cost\"]) for x in p)-j[\"capital_cost\"])<=1e-6*j[\"capital_cost\"]
ok=ok and len(s)==len(p) and all(0<=float(x[\"selection_frequency\"])<=1 for x in s)
ok=ok and j[\"sensitivity\"][\"draws\"]==6 and 0<=j[\"sensitivity\"][\"portfolio_p_npv_positive\"]<=1
sys.exit(0 if ok else 1)"'
if command -v ogrinfo >/dev/null; then
    check 'ogrinfo -so "$CS_TMP/out/portfolio.gpkg" | grep -q "portfolio_links (Line String)"'
fi
# same input, same output (no cache)
"$CITYSYS" plan portfolio "$P" -o "$CS_TMP/out2" --no-cache -q >/dev/null
check 'cmp -s "$CS_TMP/out/portfolio_projects.csv" "$CS_TMP/out2/portfolio_projects.csv" && cmp -s "$CS_TMP/out/portfolio_sensitivity.csv" "$CS_TMP/out2/portfolio_sensitivity.csv"'
# the same numbers whatever the thread count (the draws run one per thread; warm starts chosen per draw)
for nt in 1 3; do
    OMP_WAIT_POLICY=passive OMP_NUM_THREADS=$nt "$CITYSYS" plan portfolio "$P" -o "$CS_TMP/t$nt" --no-cache -q >/dev/null
    check 'cmp -s "$CS_TMP/out/portfolio_projects.csv" "$CS_TMP/t$nt/portfolio_projects.csv" && cmp -s "$CS_TMP/out/portfolio_sensitivity.csv" "$CS_TMP/t$nt/portfolio_sensitivity.csv" && cmp -s "$CS_TMP/out/portfolio_frontier.csv" "$CS_TMP/t$nt/portfolio_frontier.csv"'
done
check '$PY -c "import json,sys; j=json.load(open(\"$CS_TMP/t3/portfolio.json\")); sys.exit(0 if j[\"model_runs\"][\"workers\"]==3 else 1)"'
# exhaustive search (6 candidates) is at least as good as greedy, within the same budget
"$CITYSYS" plan portfolio "$P" --budgets 3e8 --epsilons 0 --method exhaustive --draws 0 -o "$CS_TMP/ex" --cache-dir "$CS_TMP/cache" -q >/dev/null
check '[ $? -eq 0 ]'
"$CITYSYS" plan portfolio "$P" --budgets 3e8 --epsilons 0 --method greedy --draws 0 -o "$CS_TMP/gr" --cache-dir "$CS_TMP/cache" -q >/dev/null
check '$PY -c "
import json,sys
e=json.load(open(\"$CS_TMP/ex/portfolio.json\")); g=json.load(open(\"$CS_TMP/gr/portfolio.json\"))
sys.exit(0 if e[\"objective\"]>=g[\"objective\"]-1e-6*abs(g[\"objective\"]) and e[\"capital_cost\"]<=3e8 and g[\"capital_cost\"]<=3e8 and \"sensitivity\" not in e else 1)"'
# oracle: the scenario library evaluates the chosen links as one scenario to the same total equivalent
# variation (long-run welfare: the efficiency gain is the summed EV)
chosen_scenario "$CS_TMP/gr" "$CS_SRC/tests/data/portfolio/candidates.json"
"$CITYSYS" simulate "$P" --scenario "$CS_TMP/gr/chosen.json" --long-run -o "$CS_TMP/sim" --cache-dir "$CS_TMP/cache" -q >/dev/null 2>&1
check 'ev_matches "$CS_TMP/gr" "$CS_TMP/sim"'
# border, soft and ict candidates next to five links: the exact choice over the 8 candidates includes all three,
# and the scenario library, evaluating the chosen changes as one scenario, gives the same total EV (the
# friction enters the generalised cost as a scenario's border/soft change does); the greedy with its screen
# (first-order estimate of a friction candidate) runs within the budget
mkdir -p "$CS_TMP/fr"
$PY - "$P" "$CS_TMP/fr" <<'PYEOF'
import json, os, sys
src = os.path.dirname(sys.argv[1])
d = json.load(open(sys.argv[1]))
for k in ("cities",):
    d[k]["path"] = os.path.join(src, d[k]["path"])
    for j in d[k].get("joins", []): j["path"] = os.path.join(src, j["path"])
d["network"]["nodes_path"] = os.path.join(src, d["network"]["nodes_path"])
d["network"]["edges_path"] = os.path.join(src, d["network"]["edges_path"])
for k in ("border_time_path", "border_distance_path"):
    d["indicators"]["cost"][k] = os.path.join(src, d["indicators"]["cost"][k])
d["portfolio"]["candidates_path"] = "candidates.json"
json.dump(d, open(sys.argv[2] + "/project.json", "w"), indent=1)
c = json.load(open(os.path.join(src, "candidates.json")))
c["changes"] = c["changes"][:5] + [
    {"type": "border", "name": "border_eac", "countries": ["KEN", "UGA", "TZA", "RWA"], "factor": 0.5,
     "capital_cost": 4e7, "annual_cost": 1e6, "lifetime_years": 20, "construction_years": 2},
    {"type": "soft", "name": "soft_ken_tza", "countries": ["KEN", "TZA"], "factor": 0.9, "capital_cost": 2e7,
     "annual_cost": 5e5, "lifetime_years": 20},
    {"type": "ict", "name": "ict_backbone", "cities": ["Nairobi - Kenya", "Kampala - Uganda", "Kigali - Rwanda", "Nairobi - Kenya"],
     "friction_factor": 0.9, "productivity_factor": 1.01, "capital_cost": 3e7, "annual_cost": 1e6, "lifetime_years": 15}]
json.dump(c, open(sys.argv[2] + "/candidates.json", "w"), indent=1)
PYEOF
"$CITYSYS" plan portfolio "$CS_TMP/fr/project.json" --budgets 2e9 --epsilons 0 --method exhaustive --draws 0 -o "$CS_TMP/fr/ex" --cache-dir "$CS_TMP/cache" -q >/dev/null
check '[ $? -eq 0 ]'
chosen_scenario "$CS_TMP/fr/ex" "$CS_TMP/fr/candidates.json"
check 'grep -q border_eac "$CS_TMP/fr/ex/chosen.json" && grep -q soft_ken_tza "$CS_TMP/fr/ex/chosen.json" && grep -q ict_backbone "$CS_TMP/fr/ex/chosen.json"'
"$CITYSYS" simulate "$CS_TMP/fr/project.json" --scenario "$CS_TMP/fr/ex/chosen.json" --long-run -o "$CS_TMP/fr/sim" --cache-dir "$CS_TMP/cache" -q >/dev/null 2>&1
check 'ev_matches "$CS_TMP/fr/ex" "$CS_TMP/fr/sim"'
"$CITYSYS" plan portfolio "$CS_TMP/fr/project.json" --budgets 1.5e8 --epsilons 0,2 --method greedy --screen 2 --draws 2 -o "$CS_TMP/fr/gr" --cache-dir "$CS_TMP/cache" -q >/dev/null
check '[ $? -eq 0 ] && $PY -c "
import csv,sys
r=list(csv.DictReader(open(\"$CS_TMP/fr/gr/portfolio_frontier.csv\")))
sys.exit(0 if len(r)==2 and all(float(x[\"capital_cost\"])<=1.5e8*(1+1e-12) for x in r) else 1)"'
# a border candidate with a country outside the border matrices, a soft one with two member kinds: located errors
$PY - "$CS_TMP/fr/candidates.json" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["changes"][-3]["countries"] = ["KEN", "ZZZ"]
c["changes"][-2]["cities"] = ["a", "b"]
c["changes"][-1]["productivity_factor"] = 3
json.dump(c, open(sys.argv[1], "w"), indent=1)
PYEOF
"$CITYSYS" plan portfolio "$CS_TMP/fr/project.json" -o "$CS_TMP/fr/bad" --no-cache 2>"$CS_TMP/fr/err"; rc=$?
check '[ $rc -eq 3 ] && [ ! -e "$CS_TMP/fr/bad" ]'
check 'grep -q "candidates.json: error: changes\[5\]: countries\[1\]: no city has country .ZZZ." "$CS_TMP/fr/err"'
check 'grep -q "changes\[6\]: a soft change needs exactly one of cities, regions, countries" "$CS_TMP/fr/err"'
check 'grep -q "changes\[7\]: productivity_factor: expected a number in \[1, 2\]" "$CS_TMP/fr/err"'
# link (rail), drawn-build and facility candidates: each acts as the scenario's change does (a facility's reach
# is measured after the portfolio's road changes) — the exact choice among them and one proposed link,
# evaluated again by `citysys simulate`, gives the same total EV
mkdir -p "$CS_TMP/lk"
$PY - "$CS_TMP/fr/project.json" "$CS_TMP/lk" <<'PY2'
import json, os, sys
d = json.load(open(sys.argv[1]))
d["portfolio"]["candidates_path"] = "candidates.json"
json.dump(d, open(sys.argv[2] + "/project.json", "w"), indent=1)
c = json.load(open(os.path.join(os.environ["CS_SRC"], "tests/data/portfolio/candidates.json")))
c["changes"] = c["changes"][:1] + [
    {"type": "link", "name": "rail_nbo_dar", "mode": "rail", "from": "Nairobi - Kenya", "to": "Dar es Salaam - Tanzania",
     "time_min": 420, "transfer_min": [30, 20], "capital_cost": 9e8, "annual_cost": 2e7},
    {"type": "build", "name": "road_kla_kgl", "from": "Kampala - Uganda", "to": "Kigali - Rwanda", "speed_kmh": 100,
     "capital_cost": 4e8, "annual_cost": 8e6, "construction_years": 4},
    {"type": "facility", "name": "hospital_kgl", "city": "Kigali - Rwanda", "radius_min": 420, "factor": 1.02,
     "capital_cost": 1e8, "annual_cost": 5e6},
    {"type": "productivity", "name": "prod_twice_listed", "cities": ["Kigali - Rwanda", "Kigali - Rwanda"], "factor": 1.01,
     "capital_cost": 1e7}]
json.dump(c, open(sys.argv[2] + "/candidates.json", "w"), indent=1)
PY2
"$CITYSYS" plan portfolio "$CS_TMP/lk/project.json" --budgets 5e9 --epsilons 0 --method exhaustive --draws 0 -o "$CS_TMP/lk/ex" --cache-dir "$CS_TMP/cache" -q >/dev/null
check '[ $? -eq 0 ]'
chosen_scenario "$CS_TMP/lk/ex" "$CS_TMP/lk/candidates.json"
check 'grep -q rail_nbo_dar "$CS_TMP/lk/ex/chosen.json" && grep -q road_kla_kgl "$CS_TMP/lk/ex/chosen.json" && grep -q hospital_kgl "$CS_TMP/lk/ex/chosen.json" && grep -q prod_twice_listed "$CS_TMP/lk/ex/chosen.json"'
"$CITYSYS" simulate "$CS_TMP/lk/project.json" --scenario "$CS_TMP/lk/ex/chosen.json" --long-run -o "$CS_TMP/lk/sim" --cache-dir "$CS_TMP/cache" -q >/dev/null 2>&1
check 'ev_matches "$CS_TMP/lk/ex" "$CS_TMP/lk/sim"'
# the chosen rail link and road drawn as lines: one per chosen segment (the facility has none)
n_lk=$($PY -c "import csv; print(sum(1 for r in csv.DictReader(open('$CS_TMP/lk/ex/portfolio_projects.csv')) if not r['name'].startswith(('hospital', 'prod'))))")
check '! command -v ogrinfo >/dev/null || ogrinfo -q "$CS_TMP/lk/ex/portfolio.gpkg" -sql "SELECT COUNT(*) AS n FROM portfolio_links" 2>/dev/null | grep -q "n (Integer) = $n_lk"'
# a small budget override is respected
"$CITYSYS" plan portfolio "$P" --budgets 7e7 --draws 0 -o "$CS_TMP/b" --cache-dir "$CS_TMP/cache" -q >/dev/null
check '$PY -c "
import json,sys; j=json.load(open(\"$CS_TMP/b/portfolio.json\")); sys.exit(0 if j[\"capital_cost\"]<=7e7 else 1)"'
# the run step: `citysys run` includes it when the project has a portfolio section
"$CITYSYS" run "$P" -o "$CS_TMP/run" --cache-dir "$CS_TMP/cache" -q >/dev/null
check '[ $? -eq 0 ] && cmp -s "$CS_TMP/out/portfolio_projects.csv" "$CS_TMP/run/portfolio_projects.csv"'
check '$PY -c "import json,sys; d=json.load(open(\"$CS_TMP/run/summary.json\")); sys.exit(0 if d[\"portfolio\"][\"n_selected\"]>0 else 1)"'
check 'grep -q "id=.portfolio" "$CS_TMP/run/report.html"'
# errors located in the project file: unknown key, bad method, an unknown proposed link in the candidates
mkdir -p "$CS_TMP/bad"
for f in "$CS_SRC"/tests/data/portfolio/*.csv; do ln -sf "$f" "$CS_TMP/bad/"; done
$PY - "$P" "$CS_TMP/bad" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["portfolio"]["budgetz"] = 1
d["portfolio"]["method"] = "magic"
json.dump(d, open(sys.argv[2] + "/project.json", "w"), indent=1)
d["portfolio"].pop("budgetz"); d["portfolio"]["method"] = "greedy"
json.dump(d, open(sys.argv[2] + "/project2.json", "w"), indent=1)
c = json.load(open(sys.argv[1].replace("project.json", "candidates.json")))
c["changes"][0]["proposed"] = ["no-such-link"]
json.dump(c, open(sys.argv[2] + "/candidates.json", "w"), indent=1)
PYEOF
"$CITYSYS" plan portfolio "$CS_TMP/bad/project.json" -o "$CS_TMP/badout" --no-cache 2>"$CS_TMP/err"; rc=$?
check '[ $rc -eq 3 ]'
check 'grep -q "project.json:[0-9]*:[0-9]*: .*portfolio.budgetz" "$CS_TMP/err"'
check 'grep -q "portfolio.method" "$CS_TMP/err"'
check '[ ! -e "$CS_TMP/badout" ]'
# ids are checked once the network is read
"$CITYSYS" plan portfolio "$CS_TMP/bad/project2.json" -o "$CS_TMP/badout" --no-cache 2>"$CS_TMP/err"; rc=$?
check '[ $rc -eq 3 ]'
check 'grep -q "candidates.json: error: changes\[0\]: proposed\[0\]: no proposed link with edge id .no-such-link." "$CS_TMP/err"'
check '[ ! -e "$CS_TMP/badout" ]'
"$CITYSYS" plan portfolio "$P" --budgets x -o "$CS_TMP/u" -q 2>/dev/null; check '[ $? -eq 2 ]'
exit $fail

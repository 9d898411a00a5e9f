#!/usr/bin/env bash
# bench/portfolio/run.sh BUILD OUT: the portfolio targets of issue 8 on examples/africa (481 candidates).
#  1. greedy over the 481 proposed links, every pick re-evaluated with the model, one budget, epsilon 0,
#     no sensitivity (budgets 2e9 and 5e9);
#  2. sensitivity draws of the 20-project pool of the 2e9 portfolio (DRAWS, default 200).
# The earlier steps (network ... indicators) are cached by a first warm-up run and not timed; the figures
# are the wall time of the whole command and the per-part timings the step writes into portfolio.json.
set -eu
B=${1:-build}; OUT=${2:-/tmp/pf_bench}; DRAWS=${DRAWS:-200}; BUDGETS=${BUDGETS:-2e9 5e9}
P=examples/africa/project_portfolio.json
export OMP_WAIT_POLICY=passive
mkdir -p "$OUT"
"$B/citysys" run "$P" --until indicators -o "$OUT/warm" --cache-dir "$OUT/cache" -q >/dev/null
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
for budget in $BUDGETS; do
    rm -rf "$OUT/cache"/portfolio-*
    w=$(t "$B/citysys" plan portfolio "$P" --budgets $budget --epsilons 0 --draws 0 -o "$OUT/g$budget" --cache-dir "$OUT/cache" -q)
    /usr/bin/python3 - "$OUT/g$budget/portfolio.json" "$budget" "$w" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); m = j["model_runs"]
print("greedy budget %s: wall %.1f s (whole command, cached earlier steps); %d projects, capital %.3g, gain %.4g/yr; "
      "%d evaluations (%d fast path), %d estimate rounds; model %.1f s, estimate %.1f s, one-to-all %.1f s, cost %.1f s, routing %.1f s"
      % (sys.argv[2], float(sys.argv[3]), j["n_selected"], j["capital_cost"], j["efficiency_gain"], m["evaluations"],
         m["fast_path_evaluations"], m["estimates"], m["seconds_model"], m["seconds_estimate"], m["seconds_one_to_all"],
         m["seconds_cost"], m["seconds_routing"]))
PY
done
[ "$DRAWS" -gt 0 ] || exit 0
rm -rf "$OUT/cache"/portfolio-*
w0=$(t "$B/citysys" plan portfolio "$P" --budgets 2e9 --epsilons 0 --draws 0 -o "$OUT/s0" --cache-dir "$OUT/cache" -q)
rm -rf "$OUT/cache"/portfolio-*
w1=$(t "$B/citysys" plan portfolio "$P" --budgets 2e9 --epsilons 0 --draws $DRAWS -o "$OUT/s1" --cache-dir "$OUT/cache" -q)
/usr/bin/python3 - "$OUT/s1/portfolio.json" "$DRAWS" "$w0" "$w1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); s = j["sensitivity"]; m = j["model_runs"]
d = float(sys.argv[4]) - float(sys.argv[3])
print("sensitivity: %s draws of a %d-project pool: %.1f s (difference of the two wall times), %.2f s per draw; "
      "P(NPV>0) = %.2f; %d evaluations, %d calibrations in all"
      % (sys.argv[2], len(s["projects"]), d, d / float(sys.argv[2]), s["portfolio_p_npv_positive"], m["evaluations"], m["calibrations"]))
PY

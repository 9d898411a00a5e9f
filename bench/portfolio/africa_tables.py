#!/usr/bin/python3
"""africa_tables.py OUTDIR: Markdown tables for docs/portfolio.md from a `citysys plan portfolio` output
folder (portfolio_frontier.csv, portfolio.json, portfolio_sensitivity.csv)."""
import csv
import json
import sys

d = sys.argv[1]
fr = list(csv.DictReader(open(d + "/portfolio_frontier.csv")))
j = json.load(open(d + "/portfolio.json"))
b = lambda x: "%.2f" % (float(x) / 1e9)
print("| budget (USD bn) | ε | projects | capital (USD bn) | gain (USD bn/yr) | objective (USD bn/yr) | Theil L after | NPV at 6 % (USD bn) |")
print("|---|---|---|---|---|---|---|---|")
for r in fr:
    print("| %s | %g | %s | %s | %.3f | %.3f | %.6f | %.2f |" % (b(r["budget"]), float(r["epsilon"]), r["n_projects"], b(r["capital_cost"]),
          float(r["efficiency_gain"]) / 1e9, float(r["objective"]) / 1e9, float(r["theil_l_after"]), float(r["npv"]) / 1e9))
print()
print("Theil L before: %.6f. Projects chosen (names = link_<edge row>_<from country>_<to country>):" % j["theil_l_before"])
print()
for r in fr:
    names = r["projects"].split(";") if r["projects"] else []
    print("- budget %s bn, ε = %g (%d): %s" % (b(r["budget"]), float(r["epsilon"]), len(names), ", ".join(names)))
print()
print("Main portfolio (budget %s bn, ε = %g), first 10 in the order picked:" % (b(j["budget"]), j["epsilon"]))
print()
print("| rank | project | capital (USD m) | benefit (USD m/yr) | NPV (USD m) | BCR | EIRR |")
print("|---|---|---|---|---|---|---|")
for p in j["projects"][:10]:
    e = p["eirr"]
    print("| %d | %s | %.1f | %.1f | %.1f | %.2f | %s |" % (p["rank"], p["name"], p["capital_cost"] / 1e6, p["annual_benefit"] / 1e6,
          p["npv"] / 1e6, p["bcr"], "%.1f %%" % (100 * e) if e is not None else p["eirr_status"]))
a = j["appraisal"]
print()
print("Portfolio appraisal: NPV %.2f bn, BCR %.2f, EIRR %s, FYRR %.1f %%, switching values: costs +%.0f %%, benefits −%.0f %%."
      % (a["npv"] / 1e9, a["bcr"], "%.1f %%" % (100 * a["eirr"]) if a["eirr"] is not None else "n/a", 100 * a["fyrr"],
         100 * a["switching_value_cost"], 100 * a["switching_value_benefit"]))
if "sensitivity" in j:
    s = j["sensitivity"]
    print()
    print("Sensitivity (%d draws, seed %d, pool = the first %d projects): P(NPV > 0) of the pool portfolio = %.2f; "
          "NPV mean %.2f bn (p05 %.2f, p95 %.2f)." % (s["draws"], s["seed"], len(s["projects"]), s["portfolio_p_npv_positive"],
          s["portfolio_npv_mean"] / 1e9, s["portfolio_npv_p05"] / 1e9, s["portfolio_npv_p95"] / 1e9))
    print()
    print("| project | selected in | NPV mean (USD m) | p05 | p95 |")
    print("|---|---|---|---|---|")
    for p in s["projects"]:
        print("| %s | %.0f %% | %.1f | %.1f | %.1f |" % (p["name"], 100 * p["selection_frequency"], p["npv_mean"] / 1e6,
              p["npv_p05"] / 1e6, p["npv_p95"] / 1e6))
m = j["model_runs"]
print()
print("Model runs: %d exact evaluations (%d on the fast path), %d estimate rounds, %d calibrations."
      % (m["evaluations"], m["fast_path_evaluations"], m["estimates"], m["calibrations"]))

#!/usr/bin/python3
"""make_small.py: a small East-African subset of examples/africa for the portfolio tests — the nodes of
KEN, UGA, TZA, RWA, BDI, the edges between them (renumbered), their cities, the border matrices restricted
to the five countries, and 6 candidate projects (proposed links of the subset, costs as in
examples/africa/make_candidates.py). Run: /usr/bin/python3 tests/data/portfolio/make_small.py"""
import csv
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..", "..", "examples", "africa")
KEEP = ["KEN", "UGA", "TZA", "RWA", "BDI"]


def rows(name):
    with open(os.path.join(SRC, name), newline="") as f:
        r = csv.reader(f)
        head = next(r)
        return head, list(r)


def write(name, head, data):
    with open(os.path.join(HERE, name), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        w.writerows(data)


nh, nodes = rows("africa_network_nodes.csv")
iso = nh.index("iso3c")
keep = [i for i, r in enumerate(nodes) if r[iso] in KEEP]
newid = {i + 1: k + 1 for k, i in enumerate(keep)}
write("nodes.csv", nh, [nodes[i] for i in keep])
eh, edges = rows("africa_network_edges.csv")
kept_edges = []
cands = []
for r in edges:
    a, b = int(r[0]), int(r[1])
    if a in newid and b in newid:
        r = list(r)
        r[0], r[1] = str(newid[a]), str(newid[b])
        kept_edges.append(r)
write("edges.csv", eh, kept_edges)
for i, r in enumerate(kept_edges, start=1):
    d = dict(zip(eh, r))
    if d["add"] == "TRUE" and len(cands) < 6:
        cap = float(d["ug_cost_km"]) * float(d["distance"]) / 1000.0
        cands.append({"type": "build", "name": "link_%d" % i, "proposed": [str(i)], "speed_kmh": 80,
                      "capital_cost": round(cap, 2), "annual_cost": round(0.02 * cap, 2),
                      "lifetime_years": 30, "construction_years": 5})
json.dump({"name": "candidates_small", "changes": cands}, open(os.path.join(HERE, "candidates.json"), "w"), indent=1)
ch, cities = rows("africa_cities_ports.csv")
write("cities.csv", ch, [r for r in cities if r[ch.index("iso3")] in KEEP])
cnh, cn = rows("africa_city_nodes.csv")
write("city_nodes.csv", cnh, [r for r in cn if r[cnh.index("iso3c")] in KEEP])
for m in ("time", "dist"):
    h, mat = rows("africa_country_model_border_%s_mat.csv" % m)
    cols = [0] + [h.index(c) for c in KEEP]
    byc = {r[0]: r for r in mat}
    write("border_%s.csv" % m, [h[c] for c in cols], [[byc[k][c] for c in cols] for k in KEEP])
print(len(keep), "nodes,", len(kept_edges), "edges,", len(cands), "candidates")

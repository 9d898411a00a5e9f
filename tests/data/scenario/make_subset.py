#!/usr/bin/env python3
"""Cut the East African part (KEN, UGA, TZA, RWA, BDI) out of examples/africa for the scenario CLI test.
Edge ids of the subset are its 1-based rows (africa_edge_id keeps the original row).
Run from the source root: /usr/bin/python3 tests/data/scenario/make_subset.py"""
import csv, json, os
SRC = "examples/africa"
OUT = "tests/data/scenario"
KEEP = ["KEN", "UGA", "TZA", "RWA", "BDI"]

gdp = {}
with open(f"{SRC}/africa_city_nodes.csv", newline="") as f:
    for r in csv.DictReader(f):
        gdp[r["city_country"]] = (r["gdp_cap"], r["iso3c"])
with open(f"{SRC}/africa_cities_ports.csv", newline="") as f, open(f"{OUT}/cities.csv", "w", newline="") as g:
    w = csv.writer(g)
    w.writerow(["city_country", "city", "iso3c", "admin_name", "population", "gdp_cap", "lon", "lat"])
    for r in csv.DictReader(f):
        if r["iso3"] in KEEP and r["city_country"] in gdp:
            w.writerow([r["city_country"], r["city"], r["iso3"], r["admin_name"], r["population"],
                        gdp[r["city_country"]][0], r["lon"], r["lat"]])
rows = list(csv.DictReader(open(f"{SRC}/africa_network_nodes.csv", newline="")))
newid = {}
with open(f"{OUT}/nodes.csv", "w", newline="") as g:
    w = csv.writer(g)
    w.writerow(["lon", "lat", "iso3c"])
    for k, r in enumerate(rows, 1):
        if r["iso3c"] in KEEP:
            newid[k] = len(newid) + 1
            w.writerow([r["lon"], r["lat"], r["iso3c"]])
with open(f"{SRC}/africa_network_edges.csv", newline="") as f, open(f"{OUT}/edges.csv", "w", newline="") as g:
    w = csv.writer(g)
    w.writerow(["from", "to", "duration", "border_time", "distance", "add", "africa_edge_id"])
    for k, r in enumerate(csv.DictReader(f), 1):
        a, b = int(r["from"]), int(r["to"])
        if a in newid and b in newid:
            w.writerow([newid[a], newid[b], r["duration"], r["border_time"], r["distance"], r["add"], k])
for m in ("time", "dist"):
    with open(f"{SRC}/africa_country_model_border_{m}_mat.csv", newline="") as f:
        t = list(csv.reader(f))
    head = t[0]
    idx = [head.index(c) for c in KEEP]
    with open(f"{OUT}/border_{m}.csv", "w", newline="") as g:
        w = csv.writer(g)
        w.writerow([head[0]] + KEEP)
        rows = {row[0]: row for row in t[1:]}
        for c in KEEP:  # rows in the same order as the columns
            w.writerow([c] + [rows[c][i] for i in idx])

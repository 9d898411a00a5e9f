#!/usr/bin/env python3
"""Trim the Trans-African network tables (Krantz 2024, via flownet; GPL-3) to the
columns the tests use, and compute the expected values for tests/test_net_tables.c
independently of citysys (plain csv module).

  python3 tests/data/net/oracle_tables.py /work/shared/data/africa-transafrican-network \
      > tests/data/net/expected_tables.txt

Times in ms are rounded per edge half away from zero: floor(minutes*60*1000 + 0.5)
(the same double product the C code rounds with llround).
"""
import csv, gzip, math, os, sys

src = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
ecols = ["from", "to", "distance", "duration", "border_time", "total_time", "add"]
ncols = ["lon", "lat"]
edges = list(csv.DictReader(gzip.open(os.path.join(src, "africa_network_edges.csv.gz"), "rt")))
nodes = list(csv.DictReader(gzip.open(os.path.join(src, "africa_network_nodes.csv.gz"), "rt")))
for name, rows, cols in (("transafrican_edges.csv.gz", edges, ecols), ("transafrican_nodes.csv.gz", nodes, ncols)):
    with gzip.GzipFile(os.path.join(here, name), "wb", mtime=0) as g:
        import io
        t = io.TextIOWrapper(g, newline="")
        w = csv.writer(t, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([r[c] for c in cols])
        t.flush()
        t.detach()

def ms(x):
    return int(math.floor(float(x) * 60.0 * 1000.0 + 0.5))

base = [r for r in edges if r["add"] == "FALSE"]
prop = [r for r in edges if r["add"] == "TRUE"]
print("nodes", len(nodes))
print("base_edges", len(base))
print("proposed_edges", len(prop))
print("road_ms", sum(ms(r["duration"]) for r in base))
print("border_ms", sum(ms(r["border_time"]) for r in base))
print("total_time_ms_from_column", sum(ms(r["total_time"]) for r in base))
print("max_abs_total_minus_parts_min", "%.3g" % max(abs(float(r["total_time"]) - float(r["duration"]) - float(r["border_time"])) for r in base))
print("length_cm", sum(int(math.floor(float(r["distance"]) * 100 + 0.5)) for r in base))
print("proposed_length_cm", sum(int(math.floor(float(r["distance"]) * 100 + 0.5)) for r in prop))
print("cross_border_edges", sum(1 for r in base if float(r["border_time"]) > 0))

#!/usr/bin/python3
"""Oracle for the PPML test (tests/test_gravity.c).

1. `ppml_oracle.py build SHARED_DIR` aggregates the BACI trade table of the African example over the 21 HS sections
   into all 47 x 46 exporter-importer pairs (zeros kept), adds the great-circle distance between capitals and writes
   africa_trade_pairs.csv (committed).
   Capital: the city with capital == "primary" in africa_cities_ports.csv.gz; several (ZAF: Cape Town, Bloemfontein)
   -> the most populous; none (COG, GNQ, TZA) -> the most populous city of the country (Pointe-Noire, Bata,
   Dar es Salaam). Distance: haversine on a sphere of radius 6371.0088 km (IUGG mean Earth radius).
2. `ppml_oracle.py expect` fits the PPML model with statsmodels (Debian python3-statsmodels):
   GLM Poisson (log link), value ~ const + exporter dummies + importer dummies (first level in sorted ISO3 order
   dropped) + ln(distance), cov_type='HC0', and writes ppml_expected.csv with every coefficient and HC0 standard
   error, plus deviance, null deviance and log-likelihood.
"""
import csv, gzip, math, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
PAIRS = os.path.join(HERE, "africa_trade_pairs.csv")
EXPECTED = os.path.join(HERE, "ppml_expected.csv")
R_KM = 6371.0088


def hav(lon1, lat1, lon2, lat2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R_KM * math.asin(min(1.0, math.sqrt(a)))


def build(shared):
    d = os.path.join(shared, "data", "africa-transafrican-network")
    trade = {}
    for r in csv.DictReader(gzip.open(os.path.join(d, "africa_trade_baci_hs_sections.csv.gz"), "rt")):
        k = (r["iso3_o"], r["iso3_d"])
        trade[k] = trade.get(k, 0.0) + float(r["value"])
    countries = sorted({k[0] for k in trade} | {k[1] for k in trade})
    cities = list(csv.DictReader(gzip.open(os.path.join(d, "africa_cities_ports.csv.gz"), "rt")))
    cap = {}
    for c in countries:
        rows = [r for r in cities if r["iso3"] == c]
        prim = [r for r in rows if r["capital"] == "primary"]
        pick = max(prim or rows, key=lambda r: float(r["population"]))
        cap[c] = (float(pick["lon"]), float(pick["lat"]), pick["city"], "primary" if prim else "most populous")
    with open(PAIRS, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["iso3_o", "iso3_d", "value", "dist_km"])
        for o in countries:
            for dd in countries:
                if o == dd:
                    continue
                w.writerow([o, dd, repr(trade.get((o, dd), 0.0)), repr(hav(cap[o][0], cap[o][1], cap[dd][0], cap[dd][1]))])
    with open(os.path.join(HERE, "africa_capitals.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["iso3", "city", "lon", "lat", "rule"])
        for c in countries:
            w.writerow([c, cap[c][2], cap[c][0], cap[c][1], cap[c][3]])


def expect():
    import numpy as np
    import statsmodels.api as sm
    rows = list(csv.DictReader(open(PAIRS)))
    ctry = sorted({r["iso3_o"] for r in rows} | {r["iso3_d"] for r in rows})
    idx = {c: k for k, c in enumerate(ctry)}
    n = len(ctry)
    p = 1 + 2 * (n - 1) + 1
    X = np.zeros((len(rows), p))
    y = np.zeros(len(rows))
    for t, r in enumerate(rows):
        i, j = idx[r["iso3_o"]], idx[r["iso3_d"]]
        X[t, 0] = 1
        if i > 0:
            X[t, i] = 1
        if j > 0:
            X[t, n - 1 + j] = 1
        X[t, p - 1] = math.log(float(r["dist_km"]))
        y[t] = float(r["value"])
    names = ["const"] + ["fe_o_" + c for c in ctry[1:]] + ["fe_d_" + c for c in ctry[1:]] + ["ln_cost"]
    res = sm.GLM(y, X, family=sm.families.Poisson()).fit(cov_type="HC0", tol=1e-13, maxiter=1000)
    mu = res.fittedvalues
    with open(EXPECTED, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["name", "coef", "se_hc0"])
        for k, nm in enumerate(names):
            w.writerow([nm, repr(float(res.params[k])), repr(float(res.bse[k]))])
        w.writerow(["deviance", repr(float(res.deviance)), ""])
        w.writerow(["null_deviance", repr(float(res.null_deviance)), ""])
        w.writerow(["loglik", repr(float(res.llf)), ""])
        w.writerow(["nobs", len(y), ""])
        w.writerow(["nzero", int((y == 0).sum()), ""])
    print("ln_cost", res.params[-1], res.bse[-1], "deviance", res.deviance, "iterations", res.fit_history["iteration"])


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2])
    else:
        expect()

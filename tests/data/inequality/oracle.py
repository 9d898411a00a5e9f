#!/usr/bin/python3
"""Independent oracle for tests/test_inequality_pysal.c: recomputes, with numpy/scipy/statsmodels and
the textbook formulas (brute force where possible), the values that are not published in PROVENANCE.md.
Run: /usr/bin/python3 tests/data/inequality/oracle.py  (prints C-ready constants)."""
import csv, math, os
import numpy as np
from scipy import stats
import statsmodels.api as sm

here = os.path.dirname(os.path.abspath(__file__))
mex = list(csv.DictReader(open(os.path.join(here, "mexico.csv"))))
y = np.array([float(r["pcgdp1940"]) for r in mex])
n = len(y); mu = y.mean(); s = y / mu

def ge(a):
    if a == 1: return np.mean(s * np.log(s))
    if a == 0: return -np.mean(np.log(s))
    return np.mean(s**a - 1) / (a * (a - 1))

print("/* mexico pcgdp1940, unweighted */")
print("theil_l %.17g" % ge(0))
print("ge2 %.17g" % ge(2))
print("ge_half %.17g" % ge(0.5))
print("ge_m1 %.17g" % ge(-1))
print("atk1 %.17g" % (1 - stats.gmean(y) / mu))
print("atk05 %.17g" % (1 - np.mean(s**0.5)**2))
print("atk2 %.17g" % (1 - 1 / np.mean(1 / s)))
print("cv %.17g" % (y.std() / mu))
print("cv_sample %.17g" % (y.std(ddof=1) / mu))
g = np.abs(y[:, None] - y[None, :]).sum() / (2 * n * n * mu)
print("gini %.17g gini_sample %.17g" % (g, g * n / (n - 1)))

# weighted by pcgdp1950 as a stand-in "population" (any positive weights): brute force
p = np.array([float(r["pcgdp1950"]) for r in mex]) / 1000.0
W = p.sum(); muw = (p * y).sum() / W
gw = (p[:, None] * p[None, :] * np.abs(y[:, None] - y[None, :])).sum() / (2 * W * W * muw)
print("/* weighted by pcgdp1950/1000 */")
print("gini_w %.17g" % gw)
print("theil_t_w %.17g" % ((p / W) * (y / muw) * np.log(y / muw)).sum())
print("theil_l_w %.17g" % (-(p / W) * np.log(y / muw)).sum())
print("williamson %.17g" % (math.sqrt(((y - muw) ** 2 * p / W).sum()) / muw))

# Dagum decomposition, hanson98 groups, brute force
grp = np.array([int(float(r["hanson98"])) for r in mex])
G = np.unique(grp)
mus = {g_: y[grp == g_].mean() for g_ in G}
tot = np.abs(y[:, None] - y[None, :]).sum() / (2 * n * n * mu)
within = sum(np.abs(y[grp == g_][:, None] - y[grp == g_][None, :]).sum() for g_ in G) / (2 * n * n * mu)
bnet = 0.0
for a in G:
    for b in G:
        if a >= b: continue
        ya, yb = y[grp == a], y[grp == b]
        d = np.abs(ya[:, None] - yb[None, :]).sum()   # Δ · n_a n_b
        # net part: |μ_a − μ_b| n_a n_b  (·2 for both orders) / (2 n² μ)
        bnet += 2 * abs(mus[a] - mus[b]) * len(ya) * len(yb) / (2 * n * n * mu)
print("/* Dagum, hanson98 */")
print("dagum_total %.17g within %.17g between_net %.17g overlap %.17g" % (tot, within, bnet, tot - within - bnet))

# Moran on stl HR8893 with stl.gal, row-standardised: randomisation variance
stl = list(csv.DictReader(open(os.path.join(here, "stl_hom.csv"))))
hr = np.array([float(r["HR8893"]) for r in stl])
lines = [l.split() for l in open(os.path.join(here, "stl.gal")).read().splitlines() if l.strip()]
m = int(lines[0][0]); ids = []; nb = {}
for k in range(m):
    i, c = lines[1 + 2 * k]; ids.append(i); nb[i] = lines[2 + 2 * k] if int(c) else []
idx = {i: k for k, i in enumerate(ids)}
Wm = np.zeros((m, m))
for i in ids:
    for j in nb[i]: Wm[idx[i], idx[j]] = 1
Wr = Wm / Wm.sum(1, keepdims=True)
z = hr - hr.mean()
S0 = Wr.sum(); S1 = 0.5 * ((Wr + Wr.T) ** 2).sum(); S2 = ((Wr.sum(1) + Wr.sum(0)) ** 2).sum()
I = m / S0 * (z @ Wr @ z) / (z @ z)
EI = -1 / (m - 1)
VN = (m * m * S1 - m * S2 + 3 * S0 ** 2) / ((m * m - 1) * S0 ** 2) - EI ** 2
k = (np.sum(z ** 4) / m) / (np.sum(z ** 2) / m) ** 2
A = m * ((m * m - 3 * m + 3) * S1 - m * S2 + 3 * S0 ** 2)
B = k * ((m * m - m) * S1 - 2 * m * S2 + 6 * S0 ** 2)
VR = (A - B) / ((m - 1) * (m - 2) * (m - 3) * S0 ** 2) - EI ** 2
print("/* Moran stl */")
print("I %.17g VI_norm %.17g VI_rand %.17g z_rand %.17g p_rand %.17g" % (I, VN, VR, (I - EI) / math.sqrt(VR), stats.norm.sf(abs((I - EI) / math.sqrt(VR)))))
# binary weights
S0 = Wm.sum(); S1 = 0.5 * ((Wm + Wm.T) ** 2).sum(); S2 = ((Wm.sum(1) + Wm.sum(0)) ** 2).sum()
Ib = m / S0 * (z @ Wm @ z) / (z @ z)
VNb = (m * m * S1 - m * S2 + 3 * S0 ** 2) / ((m * m - 1) * S0 ** 2) - EI ** 2
print("I_binary %.17g VI_norm_binary %.17g" % (Ib, VNb))

# usjoin: Markov steady state from the published counts; beta and sigma convergence
C = np.array([[729,71,1,0,0],[72,567,80,3,0],[0,81,631,86,2],[0,3,86,573,56],[0,0,1,57,741]], float)
P = C / C.sum(1, keepdims=True)
ev, vec = np.linalg.eig(P.T)
v = np.real(vec[:, np.argmin(abs(ev - 1))]); v = v / v.sum()
print("/* Markov steady state */")
print("pi " + ", ".join("%.17g" % x for x in v))
us = list(csv.reader(open(os.path.join(here, "usjoin.csv"))))
hdr = us[0]; rows = us[1:]
y29 = np.array([float(r[hdr.index("1929")]) for r in rows]); y09 = np.array([float(r[hdr.index("2009")]) for r in rows])
gr = np.log(y09 / y29) / 80.0
X = sm.add_constant(np.log(y29))
f = sm.OLS(gr, X).fit()
b = f.params[1]
print("/* beta convergence usjoin 1929-2009 */")
print("alpha %.17g beta %.17g se_alpha %.17g se_beta %.17g t %.17g r2 %.17g speed %.17g" %
      (f.params[0], b, f.bse[0], f.bse[1], f.tvalues[1], f.rsquared, -math.log(1 + b * 80) / 80))
print("sigma 1929: cv %.17g sd_log %.17g" % (y29.std() / y29.mean(), np.log(y29).std()))
print("sigma 2009: cv %.17g sd_log %.17g" % (y09.std() / y09.mean(), np.log(y09).std()))

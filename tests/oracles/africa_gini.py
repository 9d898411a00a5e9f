#!/usr/bin/python3
"""Independent check of the run's inequality table on the Trans-African example: the population-weighted
Gini (no small-sample correction) of GDP per head, overall and for one country, by the brute-force
double sum G = sum_i sum_j w_i w_j |y_i - y_j| / (2 W^2 mu).
usage: africa_gini.py INEQUALITY.csv EXAMPLE_DIR"""
import csv, sys
rows = {(r['group'], r['weighting'], r['index']): float(r['value']) for r in csv.DictReader(open(sys.argv[1]))}
d = sys.argv[2].rstrip('/') + '/'
gdp = {r['city_country']: float(r['gdp_cap']) for r in csv.DictReader(open(d + 'africa_city_nodes.csv'))}
cities = list(csv.DictReader(open(d + 'africa_cities_ports.csv')))
def gini(pairs):
    W = sum(w for _, w in pairs); mu = sum(y * w for y, w in pairs) / W
    return sum(wi * wj * abs(yi - yj) for yi, wi in pairs for yj, wj in pairs) / (2 * W * W * mu)
allp = [(gdp[c['city_country']], float(c['population'])) for c in cities]
ng = [(gdp[c['city_country']], float(c['population'])) for c in cities if c['country'] == 'Nigeria']
ok = abs(gini(allp) - rows[('all', 'population', 'gini')]) < 1e-12 and \
     abs(gini(ng) - rows[('Nigeria', 'population', 'gini')]) < 1e-12
print('gini all %.15f (table %.15f), Nigeria %.15f (table %.15f)' % (gini(allp), rows[('all', 'population', 'gini')],
      gini(ng), rows[('Nigeria', 'population', 'gini')]))
sys.exit(0 if ok else 1)

#!/usr/bin/python3
"""Peers for bench/README.md: igraph's Dijkstra (C library) and SciPy's csgraph.dijkstra
on the same synth graph (nodes.csv, edges.csv: directed rows u,v,seconds,meters) and the
same points (points_N.csv). A peer too slow for all N sources is timed on the first S
sources and scaled linearly to N (stated in the output).

usage: peers.py GRAPHDIR N [S]   (default S = min(N, 100))
Prints, per peer: load time, time for S sources x N targets, the scaled N x N time,
peak RSS, and the row sums of the first 3 rows (seconds) to cross-check citysys."""
import resource, sys, time
import numpy as np

g, N = sys.argv[1], int(sys.argv[2])
S = int(sys.argv[3]) if len(sys.argv) > 3 else min(N, 100)
t0 = time.perf_counter()
E = np.loadtxt(g + '/edges.csv', delimiter=',', skiprows=1)
V = sum(1 for _ in open(g + '/nodes.csv')) - 1
P = np.loadtxt('%s/points_%d.csv' % (g, N), delimiter=',', skiprows=1, dtype=np.int64)[:, 1]
u, v, sec = E[:, 0].astype(np.int64), E[:, 1].astype(np.int64), E[:, 2]
t_read = time.perf_counter() - t0
src = P[:S]


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def report(name, t_load, t_q, D):
    D = np.asarray(D)
    sums = [float(np.sum(D[i][np.isfinite(D[i])])) for i in range(min(3, S))]
    print('%s: graph %s V=%d, load %.2f s, %d x %d in %.2f s -> %d x %d scaled %.1f s (%.3f s/source), '
          'peak RSS %.0f MB, rowsums %s' % (name, g, V, t_load, S, N, t_q, N, N, t_q * N / S, t_q / S, rss_mb(),
                                            ' '.join('%.1f' % s for s in sums)))
    sys.stdout.flush()


which = sys.argv[4] if len(sys.argv) > 4 else 'both'
if which in ('both', 'scipy'):
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra
    t1 = time.perf_counter()
    # duplicate (u,v) rows do not occur in synth graphs; csr_matrix would sum them
    A = csr_matrix((sec, (u, v)), shape=(V, V))
    t_load = time.perf_counter() - t1
    t2 = time.perf_counter()
    D = dijkstra(A, directed=True, indices=src)[:, P]
    report('scipy.csgraph.dijkstra', t_load, time.perf_counter() - t2, D)
if which in ('both', 'igraph'):
    import igraph as ig
    t1 = time.perf_counter()
    G = ig.Graph(n=V, edges=np.column_stack([u, v]).tolist(), directed=True)
    G.es['w'] = sec.tolist()
    t_load = time.perf_counter() - t1
    t2 = time.perf_counter()
    D = G.distances(source=src.tolist(), target=P.tolist(), weights='w', mode='out')
    report('igraph distances (Dijkstra)', t_load, time.perf_counter() - t2, D)

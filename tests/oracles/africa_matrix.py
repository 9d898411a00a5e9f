#!/usr/bin/python3
"""Independent oracle for the Trans-African matrix (issue 3): SciPy's Dijkstra on the raw edge table
(existing edges only, undirected, duration + border_time minutes), each city at its nearest node.
usage: africa_matrix.py MATRIX.csmat EXAMPLE_DIR [TOL [border]]  -> prints the max abs difference in seconds; exit 1 if > tol"""
import csv, struct, numpy as np, sys
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
def read_mat(path):
    b=open(path,'rb').read()
    rows,cols=struct.unpack_from('<QQ',b,24); idsz=struct.unpack_from('<Q',b,120)[0]
    ids=b[160:160+idsz].split(b'\0')[:-1]; pad=(8-(160+idsz)%8)%8
    v=np.frombuffer(b,dtype='<f8',count=rows*cols,offset=160+idsz+pad).reshape(rows,cols)
    return [i.decode() for i in ids[:rows]], v
ids, T = read_mat(sys.argv[1])
BORDER = len(sys.argv) > 4 and sys.argv[4] == 'border'
d=sys.argv[2].rstrip('/')+'/'
nodes=list(csv.DictReader(open(d+'africa_network_nodes.csv')))
edges=list(csv.DictReader(open(d+'africa_network_edges.csv')))
u=[];v=[];w=[]
for e in edges:
    if e['add']=='TRUE': continue
    a,b=int(e['from'])-1,int(e['to'])-1
    t=float(e['duration'])+(float(e['border_time']) if BORDER and e['border_time'] not in ('','NA') else 0)
    u+= [a,b]; v+=[b,a]; w+=[t,t]
G=coo_matrix((w,(u,v)),shape=(len(nodes),len(nodes))).tocsr()
cities=list(csv.DictReader(open(d+'africa_cities_ports.csv')))
import math
# city -> nearest node (cities sit on city_port nodes)
cn=[]
for c in cities:
    lo,la=float(c['lon']),float(c['lat'])
    best=min(range(len(nodes)),key=lambda i:(float(nodes[i]['lon'])-lo)**2+(float(nodes[i]['lat'])-la)**2)
    cn.append(best)
D=dijkstra(G,indices=cn)[:,cn]*60.0
idx={c['city_country']:i for i,c in enumerate(cities)}
perm=[idx[i] for i in ids]
D=D[np.ix_(perm,perm)]
fin=np.isfinite(D)
print('cities',len(ids),'unreachable oracle',(~fin).sum(),'ours',(~np.isfinite(T)).sum())
diff=np.abs(D[fin]-T[fin])
print('max abs diff (s)',diff.max(), 'median', np.median(diff))
tol = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
sys.exit(0 if (~fin).sum() == (~np.isfinite(T)).sum() and diff.max() <= tol else 1)

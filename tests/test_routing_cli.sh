#!/bin/bash
# citysys matrix: build a graph file from an edge table, compute a matrix, reuse the cached graph,
# refuse a corrupt graph file, usage errors.
set -u
fail=0
check() { if ! eval "$1"; then echo "FAILED: $1"; fail=1; fi; }
rm -rf "$CS_TMP"; mkdir -p "$CS_TMP"; cd "$CS_TMP"
# 3x3 grid, 100 m edges at 36 km/h = 10 s, both directions; node 9 isolated (in the node table only)
{
  echo "u,v,seconds,meters"
  for i in 0 1 2; do for j in 0 1 2; do
    n=$((i*3+j))
    if [ $j -lt 2 ]; then echo "$n,$((n+1)),10,100"; echo "$((n+1)),$n,10,100"; fi
    if [ $i -lt 2 ]; then echo "$n,$((n+3)),10,100"; echo "$((n+3)),$n,10,100"; fi
  done; done
  echo "9,9,1,1"
} > edges.csv
printf 'id,node\na,0\nb,8\nc,4\nz,9\n' > points.csv
"$CITYSYS" matrix --edges edges.csv --graph g.csr --points points.csv --out t.bin --dist-out d.bin -q
check '[ $? -eq 0 ] && [ -s g.csr ] && [ -s t.bin ] && [ -s d.bin ]'
# reuse the cached graph
"$CITYSYS" matrix --graph g.csr --points points.csv --out t2.bin -q
check '[ $? -eq 0 ] && cmp -s t.bin t2.bin'
# corrupt graph file: refused with exit 3 (bad input) and a message saying how to rebuild
cp g.csr bad.csr; printf 'XXXX' | dd of=bad.csr bs=1 seek=600 conv=notrunc 2>/dev/null
"$CITYSYS" matrix --graph bad.csr --points points.csv --out t3.bin 2> err.txt
rc=$?
check '[ $rc -ne 0 ] && grep -q rebuild err.txt'
# usage errors
"$CITYSYS" matrix --points points.csv --out x.bin 2>/dev/null
check '[ $? -eq 2 ]'
printf 'id,node\na,99\n' > badpts.csv
"$CITYSYS" matrix --graph g.csr --points badpts.csv --out x.bin 2>/dev/null
check '[ $? -eq 3 ]'
exit $fail

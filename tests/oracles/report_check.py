#!/usr/bin/python3
"""Checks of a `citysys run` output folder's report (issue 9):
 - report.html is self-contained: every image is a data: URI, no script, no external reference;
 - every embedded PNG map and chart is not blank (grey-level variance above a threshold);
 - every city symbol of the main map is drawn at its projected position: the map's sidecar
   (map_typology.json, written by the report step from the same projection) gives each city's pixel
   position, and the PNG has a non-background pixel within 1 px of it;
 - no two labels overlap (label boxes from the sidecar).
usage: report_check.py OUTDIR"""
import base64, json, os, re, struct, sys, zlib

def png_pixels(data):
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat, w = 8, b'', None
    while pos < len(data):
        ln, typ = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + ln]
        if typ == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and ctype in (2, 6), (depth, ctype)
            bpp = 4 if ctype == 6 else 3
        elif typ == b'IDAT':
            idat += body
        pos += 12 + ln
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows

def grey(rows, bpp, x, y):
    r, g, b = rows[y][x * bpp:x * bpp + 3]
    return 0.3 * r + 0.59 * g + 0.11 * b

def main():
    out = sys.argv[1]
    html = open(os.path.join(out, 'report.html'), encoding='utf-8').read()
    errors = []
    if re.search(r'<script|<link|src="(?!data:)|url\((?!data:)', html):
        errors.append('report.html references something outside itself')
    imgs = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    if len(imgs) < 3:
        errors.append('fewer than 3 embedded PNG images')
    for k, b64 in enumerate(imgs):
        w, h, bpp, rows = png_pixels(base64.b64decode(b64))
        vals = [grey(rows, bpp, x, y) for y in range(0, h, 4) for x in range(0, w, 4)]
        m = sum(vals) / len(vals)
        var = sum((v - m) ** 2 for v in vals) / len(vals)
        if var < 50:
            errors.append('embedded image %d looks blank (variance %.1f)' % (k, var))
    side = json.load(open(os.path.join(out, 'map_typology.json')))
    w, h, bpp, rows = png_pixels(open(os.path.join(out, 'map_typology.png'), 'rb').read())
    missing = 0
    for c in side['cities']:
        x, y = c['x'], c['y']
        if not (0 <= x < w and 0 <= y < h):
            continue
        ok = False
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                xi, yi = int(round(x)) + dx, int(round(y)) + dy
                if 0 <= xi < w and 0 <= yi < h:
                    r, g, b = rows[yi][xi * bpp:xi * bpp + 3]
                    # land and water backgrounds are near-white and unsaturated; symbols are saturated or dark
                    if max(r, g, b) - min(r, g, b) > 40 or max(r, g, b) < 150:
                        ok = True
        if not ok:
            missing += 1
    if missing:
        errors.append('%d city symbols not found at their projected position' % missing)
    labs = side['labels']
    for i in range(len(labs)):
        for j in range(i + 1, len(labs)):
            a, b = labs[i], labs[j]
            if a['x'] < b['x'] + b['w'] and b['x'] < a['x'] + a['w'] and a['y'] < b['y'] + b['h'] and b['y'] < a['y'] + a['h']:
                errors.append('labels %s and %s overlap' % (a['id'], b['id']))
    print('%d embedded images, %d cities checked on the map, %d labels' % (len(imgs), len(side['cities']), len(labs)))
    for e in errors:
        print('FAILED:', e)
    sys.exit(1 if errors else 0)


if __name__ == '__main__':
    main()

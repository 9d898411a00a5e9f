#!/usr/bin/env python3
"""Independent oracle for the OSM import tests (tests/test_net_osm.c).

For each OSM extract and profile it counts the routable ways per class and
their total length, and lists named one-way streets, WITHOUT citysys code:
ways come from osmium-tool (Debian package osmium-tool 1.15), the profile
rules are re-implemented here from docs/network.md reading the same JSON
profile, and lengths use the same documented formula (haversine, sphere of
radius 6371008.8 m) on the coordinates osmium exports (7 decimals, the PBF's
own 1e-7 degree grid).

Commands (run by this script for each FILE):
  osmium tags-filter FILE w/highway w/route=ferry -o TMP/f.osm.pbf -O
  osmium export TMP/f.osm.pbf -c TMP/cfg.json --geometry-types=linestring \
      -f geojsonseq -o TMP/f.geojsonseq -O
  with cfg.json = {"attributes":{"id":true},"linear_tags":true,"area_tags":false}

Regenerate the expected file (from the repository root):
  python3 tests/data/net/oracle_osm.py > tests/data/net/expected_osm.txt

Output lines:
  class PROFILE FILE CLASS WAYS LENGTH_M
  oneway PROFILE FILE WAY_ID MID_LON MID_LAT DIR   (DIR 1 = along the way, -1 = against)
"""
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
FILES = ["andorra-2013-05-28.osm.pbf", "liechtenstein-2013-08-03.osm.pbf"]
PROFILES = ["osrm-car", "developing"]
R = 6371008.8


def hav(lon1, lat1, lon2, lat2):
    d = math.pi / 180
    p1, p2 = lat1 * d, lat2 * d
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((lon2 - lon1) * d / 2) ** 2
    return 2 * R * math.asin(math.sqrt(min(1.0, h)))


def maxspeed(prof, v):
    if v is None:
        return 0.0
    best = 0.0
    for tok in v.replace(";", "|").split("|"):
        t = tok.strip().lower()
        if not t:
            continue
        if t[0].isdigit():
            num = ""
            i = 0
            while i < len(t) and (t[i].isdigit() or t[i] in ".eE+-"):
                num += t[i]
                i += 1
            unit = t[i:].strip()
            try:
                x = float(num)
            except ValueError:
                continue
            if unit in ("", "km/h", "kmh", "kph"):
                s = x
            elif unit == "mph":
                s = x * 1.609344
            elif unit in ("knots", "knot", "kn"):
                s = x * 1.852
            else:
                s = 0
        else:
            tab = {k.lower(): v for k, v in prof.get("maxspeed_implicit_kmh", {}).items()}
            s = tab.get(t)
            if s is None and ":" in t:
                s = tab.get(t.split(":", 1)[1])
            s = s or 0
        best = max(best, s)
    return best


def way_rule(prof, tags):
    """Returns (class, fwd_kmh, bwd_kmh) or None when not routable."""
    hs = prof["highway_speeds_kmh"]
    ferry = tags.get("route") == "ferry"
    if ferry:
        cls = "ferry"
    elif tags.get("highway") in hs:
        cls = tags["highway"]
    else:
        return None
    for k, vals in prof.get("exclude", {}).items():
        if tags.get(k) in vals:
            return None
    for k in prof.get("access_tags", []):
        if k in tags:
            if tags[k] in prof.get("access_deny", []):
                return None
            break
    fwd = bwd = True
    ow = tags.get("oneway")
    if ow in ("yes", "true", "1"):
        bwd = False
    elif ow in ("-1", "reverse"):
        fwd = False
    elif ow in ("reversible", "alternating"):
        if prof.get("reversible", "exclude") == "exclude":
            return None
    elif ow in ("no", "false", "0"):
        pass
    elif not ferry and (tags.get("highway") in prof.get("oneway_implied_highway", [])
                        or tags.get("junction") in prof.get("oneway_implied_junction", [])):
        bwd = False
    if ferry:
        sf = sb = prof.get("ferry_speed_kmh", 5)
    else:
        sf = sb = hs[cls]
        ms = maxspeed(prof, tags.get("maxspeed:advisory")) or maxspeed(prof, tags.get("maxspeed"))
        if not ms > 0:
            ms = maxspeed(prof, tags.get("maxspeed:lanes"))
        mf = maxspeed(prof, tags.get("maxspeed:forward")) or maxspeed(prof, tags.get("maxspeed:lanes:forward")) or ms
        mb = maxspeed(prof, tags.get("maxspeed:backward")) or maxspeed(prof, tags.get("maxspeed:lanes:backward")) or ms
        f = prof.get("maxspeed_factor", 1.0)
        if mf > 0:
            sf = mf * f
        if mb > 0:
            sb = mb * f
        for k, tab in prof.get("caps_kmh", {}).items():
            if tags.get(k) in tab:
                sf = min(sf, tab[tags[k]])
                sb = min(sb, tab[tags[k]])
        for k, tab in prof.get("factors", {}).items():
            if tags.get(k) in tab:
                sf *= tab[tags[k]]
                sb *= tab[tags[k]]
    sf = sf if fwd and sf > 0 else 0
    sb = sb if bwd and sb > 0 else 0
    if sf <= 0 and sb <= 0:
        return None
    return cls, sf, sb


def main():
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "cfg.json")
        with open(cfg, "w") as f:
            f.write('{"attributes":{"id":true},"linear_tags":true,"area_tags":false}')
        for fn in FILES:
            src = os.path.join(HERE, fn)
            filt = os.path.join(tmp, "f.osm.pbf")
            seq = os.path.join(tmp, "f.geojsonseq")
            subprocess.run(["osmium", "tags-filter", src, "w/highway", "w/route=ferry", "-o", filt, "-O"], check=True)
            subprocess.run(["osmium", "export", filt, "-c", cfg, "--geometry-types=linestring", "-f", "geojsonseq",
                            "-o", seq, "-O"], check=True)
            feats = []
            with open(seq) as f:
                for line in f:
                    line = line.strip().lstrip("\x1e")
                    if line:
                        feats.append(json.loads(line))
            for pname in PROFILES:
                with open(os.path.join(ROOT, "share", "profiles", pname + ".json")) as f:
                    prof = json.load(f)
                ways, length = {}, {}
                ones = []
                for ft in feats:
                    tags = {k: str(v) for k, v in ft["properties"].items() if k != "@id"}
                    r = way_rule(prof, tags)
                    if r is None:
                        continue
                    cls, sf, sb = r
                    c = ft["geometry"]["coordinates"]
                    ways[cls] = ways.get(cls, 0) + 1
                    length[cls] = length.get(cls, 0.0) + sum(
                        hav(c[i][0], c[i][1], c[i + 1][0], c[i + 1][1]) for i in range(len(c) - 1))
                    if "name" in tags and (sf > 0) != (sb > 0) and tags.get("oneway") in ("yes", "-1") \
                            and c[0] != c[1]:
                        ones.append((ft["properties"]["@id"], (c[0][0] + c[1][0]) / 2, (c[0][1] + c[1][1]) / 2,
                                     1 if sf > 0 else -1))
                for cls in sorted(ways):
                    out.append("class %s %s %s %d %.3f" % (pname, fn, cls, ways[cls], length[cls]))
                for w in sorted(ones)[:60]:
                    out.append("oneway %s %s %d %.7f %.7f %d" % (pname, fn, w[0], w[1], w[2], w[3]))
    sys.stdout.write("# generated by tests/data/net/oracle_osm.py (osmium-tool %s); do not edit\n" %
                     subprocess.run(["osmium", "--version"], capture_output=True, text=True).stdout.split()[2])
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# report.html of `citysys run` opened in headless Chromium (Debian's chromium): no console message (the
# page's Content-Security-Policy turns any attempted network load into one), a screenshot that is not
# blank, plus the structural checks of tests/oracles/report_check.py. The screenshot is kept in CS_TMP.
set -u
rm -rf "$CS_TMP"; mkdir -p "$CS_TMP"
fail=0
check() { if ! eval "$1"; then echo "FAILED: $1"; fail=1; fi; }
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $CHROMIUM ]]; then echo "skipped: chromium not installed (scripts/install-deps installs it)"; exit 0; fi
"$CITYSYS" run "$CS_SRC/examples/andorra/project.json" -o "$CS_TMP/out" --cache-dir "$CS_TMP/cache" -q >/dev/null
check '[ $? -eq 0 ] && [ -s "$CS_TMP/out/report.html" ]'
timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$CS_TMP/profile" \
  --enable-logging=stderr --v=0 --window-size=1100,3000 --screenshot="$CS_TMP/report.png" \
  "file://$CS_TMP/out/report.html" 2>"$CS_TMP/chromium.log" >/dev/null
check '[ -s "$CS_TMP/report.png" ]'
check '! grep -q "CONSOLE" "$CS_TMP/chromium.log"'
grep "CONSOLE" "$CS_TMP/chromium.log" | head -5
check '/usr/bin/python3 - "$CS_TMP/report.png" <<PY
import sys
sys.path.insert(0, "$CS_SRC/tests/oracles")
from report_check import png_pixels, grey
w, h, bpp, rows = png_pixels(open(sys.argv[1], "rb").read())
vals = [grey(rows, bpp, x, y) for y in range(0, h, 8) for x in range(0, w, 8)]
m = sum(vals) / len(vals)
sys.exit(0 if sum((v - m) ** 2 for v in vals) / len(vals) > 50 else 1)
PY'
/usr/bin/python3 "$CS_SRC/tests/oracles/report_check.py" "$CS_TMP/out"
check '[ $? -eq 0 ]'
[ $fail -eq 0 ] && echo "report_browser: all checks passed (screenshot $CS_TMP/report.png)"
exit $fail

#!/usr/bin/env bash
# Every command listed by `citysys --help` is documented in docs/cli.md and has a complete --help.
set -u
fail=0
for c in $("$CITYSYS" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR>1 && NF {print $1}'); do
  grep -q "citysys $c" "$CS_SRC/docs/cli.md" || { echo "FAILED: command '$c' missing from docs/cli.md"; fail=1; }
  "$CITYSYS" "$c" --help >/dev/null 2>&1 || { echo "FAILED: citysys $c --help"; fail=1; }
done
[ $fail -eq 0 ] && echo "cli_docs: every command documented"
exit $fail

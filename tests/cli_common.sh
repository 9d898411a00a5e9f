# cli_common.sh: helpers sourced by the tests/cli_*.sh scripts (not a test itself).
# Env from cs_script_test: CITYSYS (CLI binary), CS_SRC (source dir), CS_TMP (scratch dir for this test).
set -uo pipefail
: "${CITYSYS:?CITYSYS not set}" "${CS_SRC:?CS_SRC not set}" "${CS_TMP:?CS_TMP not set}"
rm -rf "$CS_TMP"
mkdir -p "$CS_TMP"
FAILS=0
CHECKS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { CHECKS=$((CHECKS + 1)); }
# expect_exit CODE CMD...: run CMD, capture stdout/stderr into $OUT/$ERR, check the exit code
expect_exit() {
  local want=$1; shift
  "$@" >"$CS_TMP/out.txt" 2>"$CS_TMP/err.txt"
  local got=$?
  OUT=$(cat "$CS_TMP/out.txt"); ERR=$(cat "$CS_TMP/err.txt")
  if [[ $got -ne $want ]]; then fail "exit $got (want $want): $*"; echo "  stdout: $OUT" >&2; echo "  stderr: $ERR" >&2; else ok; fi
}
# expect_in TEXT NEEDLE: NEEDLE (fixed string) occurs in TEXT
expect_in() { if [[ "$1" != *"$2"* ]]; then fail "expected '$2' in: $1"; else ok; fi; }
# expect_re TEXT REGEX
expect_re() { if ! grep -Eq -- "$2" <<<"$1"; then fail "expected /$2/ in: $1"; else ok; fi; }
finish() {
  echo "$CHECKS checks, $FAILS failed"
  [[ $FAILS -eq 0 ]]
  exit $?
}

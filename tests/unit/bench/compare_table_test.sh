#!/usr/bin/env bash
# compare.sh --table renders the tables from a results file alone (compare_fixture.results,
# figures chosen so every wrong formula shows): the VXLAN ratio, and the overhead of an
# encrypted path = its CPU-s/GB - its plaintext path's - the cipher's.
#   usage: compare_table_test.sh [SOURCE_DIR]
set -euo pipefail
ROOT=${1:-$(cd "$(dirname "$0")/../../.." && pwd)}
FIXTURE=$ROOT/tests/unit/bench/compare_fixture.results
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

out=$(bash "$ROOT/tests/bench/compare.sh" --table "$FIXTURE")

# cells ROW_NAME TABLE_HEADER_WORD: the row's cells (trimmed, '|'-separated) in the table
# whose header row names that column.
cells() {
  awk -F'|' -v row="$1" -v col="$2" '
    /^\| / && index($0, col) { in_table = 1; next }
    /^$/ { in_table = 0 }
    in_table {
      name = $2; gsub(/^ +| +$/, "", name)
      if (name != row) next
      line = ""
      for (i = 2; i < NF; i++) { c = $i; gsub(/^ +| +$/, "", c); line = line (i > 2 ? "|" : "") c }
      print line; exit
    }' <<<"$out"
}
expect() {  # WHAT ACTUAL EXPECTED
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# Main table: tund-udp moves 5 Gbit/s each way, veth 20, vxlan 10.
expect "tund-udp row" "$(cells tund-udp 'vs vxlan')" \
  "tund-udp|5.00|5.00|5.50|25%|50%|-|0.200|0.500|1.48|5"
expect "vxlan row" "$(cells vxlan 'vs vxlan')" "vxlan|10.00|10.00|15.00|50%|100%|-|0.050|0.060|-|-"

# Overhead of tund-udp-enc: CPU median(2.4, 2.6) = 2.50, plaintext 1.48; the cipher: the
# best AES figures of the two rounds (1400 B: seal 0.45, open 0.55; 64 B: 1.49375, 1.59375)
# make a seal 0.07 us + 0.0004 us/byte and an open 0.07 us + 0.0005 us/byte; per 1.3e9
# payload bytes 1e6 frames of 1e9 bytes were sealed (0.47 s) and 0.9e6 of 0.8e9 opened
# (0.463 s): 0.933 s / 1.3 = 0.72 CPU-s/GB (round 2: twice as much of all). 2.50 - 1.48 -
# 0.72 = 0.30: met (<=). Wrong ways give other figures: opens counted as seals 0.80,
# bytes only (no per-frame part) 0.68, the round-1 figures 0.86.
expect "tund-udp-enc overhead row" "$(cells tund-udp-enc overhead)" \
  "tund-udp-enc|AES-256-GCM|2.50|tund-udp|1.48|0.72|0.769|0.30|<= 0.3|yes|52%"
# No plaintext TCP path measured: no overhead; the cipher from the log (bytes estimated),
# ChaCha20 per byte only (one frame size): 1.8 * 1.4e9 / 1.348e9 = 1.87.
expect "tund-tcp-enc overhead row" "$(cells tund-tcp-enc overhead)" \
  "tund-tcp-enc|ChaCha20-Poly1305 (log)|3.00|tund-tcp|-|1.87|1.039|-|<= 0.3|-|-"
# The header comes from the #run line, not from this machine.
grep -q "^tund vs other tunnels, 2026-12-05, 2 cores (Fixture CPU @ 2.00GHz), kernel 6.1.0-fixture$" <<<"$out" ||
  fail "header not from the #run line"
grep -q ", 3 s per run, median of 2 rounds" <<<"$out" || fail "seconds/rounds not from the #run line"

# A missed target says so: the same file with tund-udp's CPU at 0.90 -> 0.88, "no".
sed 's/^\(tund-udp [12] .*\) 1\.480 5$/\1 0.900 5/' "$FIXTURE" >"${TMPDIR:-/tmp}/compare_fixture.$$"
trap 'rm -f "${TMPDIR:-/tmp}/compare_fixture.$$"' EXIT
out=$(bash "$ROOT/tests/bench/compare.sh" --table "${TMPDIR:-/tmp}/compare_fixture.$$")
expect "missed target" "$(cells tund-udp-enc overhead)" \
  "tund-udp-enc|AES-256-GCM|2.50|tund-udp|0.90|0.72|0.769|0.88|<= 0.3|no|52%"

# A missing file: one line, exit 2.
set +e
err=$(bash "$ROOT/tests/bench/compare.sh" --table /nonexistent/results 2>&1 >/dev/null)
rc=$?
set -e
expect "missing file exit" "$rc" 2
expect "missing file error lines" "$(wc -l <<<"$err")" 1

# Not a results file (garbage, a measurement line cut short, no #run): refused, exit 2,
# one line naming what is wrong, never a table of zeros.
bad="${TMPDIR:-/tmp}/compare_bad.$$"
trap 'rm -f "${TMPDIR:-/tmp}/compare_fixture.$$" "$bad"' EXIT
for content in "garbage" "$(head -5 "$FIXTURE"; echo "tund-udp 1 5000")" "$(grep -v '^#run' "$FIXTURE")"; do
  printf '%s\n' "$content" >"$bad"
  set +e
  err=$(bash "$ROOT/tests/bench/compare.sh" --table "$bad" 2>&1 >/dev/null)
  rc=$?
  set -e
  expect "bad file exit (${content:0:12})" "$rc" 2
  expect "bad file error lines (${content:0:12})" "$(wc -l <<<"$err")" 1
  case $err in *"not a compare.sh results file"*) ;; *) expect "bad file message" "$err" "not a compare.sh results file" ;; esac
done

[ "$failures" -eq 0 ] && echo "compare table: all passed"
exit $((failures > 0))

#!/usr/bin/env bash
# cipher_bench's interface (never its figures: timing is not a pass/fail matter): the
# --machine lines scripts read, the table, and bad frame sizes refused with one line, exit 2.
#   usage: cipher_bench_test.sh PATH/TO/cipher_bench
set -uo pipefail
BIN=${1:?usage: cipher_bench_test.sh PATH/TO/cipher_bench}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# --machine: one line per cipher tund can negotiate, "NAME SEAL OPEN", positive CPU-s/GB or
# "- -" (not available on this CPU); nothing on stderr.
out=$("$BIN" --machine 256 2>"${TMPDIR:-/tmp}/cipher_bench_err.$$")
rc=$?
err=$(cat "${TMPDIR:-/tmp}/cipher_bench_err.$$"); rm -f "${TMPDIR:-/tmp}/cipher_bench_err.$$"
[ "$rc" -eq 0 ] || fail "--machine exit $rc"
[ -z "$err" ] || fail "--machine wrote to stderr: $err"
[ "$(awk '{print $1}' <<<"$out" | tr '\n' ' ')" = "AES-256-GCM ChaCha20-Poly1305 " ] ||
  fail "--machine names: $(tr '\n' ' ' <<<"$out")"
while read -r name seal open extra; do
  num='^[0-9]+\.[0-9]+$'
  if [ -n "$extra" ]; then
    fail "--machine line with more than 3 fields: $name $seal $open $extra"
  elif [ "$seal $open" = "- -" ]; then
    [ "$name" = AES-256-GCM ] || fail "$name reported not available"
  elif ! [[ $seal =~ $num && $open =~ $num ]] || awk -v s="$seal" -v o="$open" 'BEGIN {exit !(s <= 0 || o <= 0)}'; then
    fail "--machine $name: not positive numbers: '$seal' '$open'"
  fi
done <<<"$out"
# ChaCha20-Poly1305 runs everywhere.
grep -q '^ChaCha20-Poly1305 [0-9]' <<<"$out" || fail "ChaCha20-Poly1305 not measured"

# The table names the frame size and has a row per cipher.
out=$("$BIN" 512) || fail "table exit $?"
grep -q '512-byte frames' <<<"$out" || fail "table does not name the frame size"
for name in AES-256-GCM ChaCha20-Poly1305; do
  grep -q "^| $name " <<<"$out" || fail "table has no row for $name"
done

# Bad sizes and arguments: exit 2, one line on stderr naming the argument, nothing on stdout.
for args in "0" "65476" "abc" "12x" "-5" "1400 1400" "--bogus" " 1400" "99999999999999999999"; do
  read -r -a argv <<<"$args"
  [ "$args" = " 1400" ] && argv=(" 1400")
  stdout=$("$BIN" "${argv[@]}" 2>"${TMPDIR:-/tmp}/cipher_bench_err.$$")
  rc=$?
  err=$(cat "${TMPDIR:-/tmp}/cipher_bench_err.$$"); rm -f "${TMPDIR:-/tmp}/cipher_bench_err.$$"
  [ "$rc" -eq 2 ] || fail "'$args': exit $rc, want 2"
  [ -z "$stdout" ] || fail "'$args': wrote to stdout"
  if [ "$(wc -l <<<"$err")" -ne 1 ] || [[ $err != cipher_bench:* ]]; then
    fail "'$args': error not one line: $err"
  fi
done
# The largest frame tund sends is accepted (checked without timing it: with a bad second argument).
err=$("$BIN" 65475 bogus 2>&1 >/dev/null)
[[ $err == *"'bogus'"* ]] || fail "65475 refused: $err"

[ "$failures" -eq 0 ] && echo "cipher_bench: all passed"
exit $((failures > 0))

#!/usr/bin/env bash
# pool_bench's interface (never its figures: timing is not a pass/fail matter): one
# --machine line per thread count, the table, and bad arguments refused with one line,
# exit 2.
#   usage: pool_bench_test.sh PATH/TO/pool_bench
set -uo pipefail
BIN=${1:?usage: pool_bench_test.sh PATH/TO/pool_bench}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ERR=${TMPDIR:-/tmp}/pool_bench_err.$$
trap 'rm -f "$ERR"' EXIT

# --machine with MAX_THREADS 2 and small frames: lines "1 ..." and "2 ...", four positive
# numbers each, the first line's speed-up exactly 1; nothing on stderr.
out=$("$BIN" --machine 2 256 2>"$ERR")
rc=$?
[ "$rc" -eq 0 ] || fail "--machine exit $rc"
[ ! -s "$ERR" ] || fail "--machine wrote to stderr: $(cat "$ERR")"
[ "$(awk '{print $1}' <<<"$out" | tr '\n' ' ')" = "1 2 " ] || fail "--machine thread counts: $(tr '\n' ' ' <<<"$out")"
num='^[0-9]+\.[0-9]+$'
while read -r threads rate speedup cpu extra; do
  [ -z "$extra" ] || fail "--machine line with more than 4 fields: $threads $rate $speedup $cpu $extra"
  for v in "$rate" "$speedup" "$cpu"; do
    if ! [[ $v =~ $num ]] || awk -v v="$v" 'BEGIN {exit !(v <= 0)}'; then
      fail "--machine $threads: '$v' is not a positive number"
    fi
  done
  [ "$threads" != 1 ] || [ "$speedup" = 1.0000 ] || fail "one thread's speed-up is $speedup, not 1"
done <<<"$out"

# The table names the frame size and has a row per thread count.
out=$("$BIN" 2 512) || fail "table exit $?"
grep -q '512 bytes' <<<"$out" || fail "table does not name the frame size"
for t in 1 2; do
  grep -Eq "^\| +$t \|" <<<"$out" || fail "table has no row for $t threads"
done

# Bad arguments: exit 2, one line on stderr naming it, nothing on stdout.
for args in "0" "65" "abc" "2x" "-1" "2 0" "2 65476" "2 1400 9" "--bogus" "99999999999999999999"; do
  read -r -a argv <<<"$args"
  stdout=$("$BIN" "${argv[@]}" 2>"$ERR")
  rc=$?
  err=$(cat "$ERR")
  [ "$rc" -eq 2 ] || fail "'$args': exit $rc, want 2"
  [ -z "$stdout" ] || fail "'$args': wrote to stdout"
  if [ "$(wc -l <<<"$err")" -ne 1 ] || [[ $err != pool_bench:* ]]; then
    fail "'$args': error not one line: $err"
  fi
done

[ "$failures" -eq 0 ] && echo "pool_bench: all passed"
exit $((failures > 0))

#!/usr/bin/env bash
# The key commands (genkey, genpsk, pubkey) as filters: output that cannot be written (a
# full disk, /dev/full, a closed stdout) is an error with status 1 and one line on stderr,
# never status 0 with an empty or truncated key file; bad input is one line, also under
# journald (a <3> priority prefix when JOURNAL_STREAM names stderr).
. "$(dirname "$0")/lib.sh"
require_tools stat timeout

"$TUND_BIN" genkey >"$WORK/s.key"

# expect_write_error NEEDLE CMD...: CMD (run with its stdout already redirected by the
# caller through "$@") exits 1 with exactly one stderr line containing NEEDLE.
expect_write_error() {
  local needle=$1 status=0
  shift
  timeout 5 "$@" 2>"$WORK/err" || status=$?
  [ $status = 1 ] || fail "'$*': exit status $status, not 1 ($(cat "$WORK/err"))"
  [ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "'$*': $(wc -l <"$WORK/err") lines on stderr: $(cat "$WORK/err")"
  grep -c -F -- "$needle" "$WORK/err" >/dev/null || fail "'$*': expected '$needle' in: $(cat "$WORK/err")"
  echo "   ok (exit 1): $(cat "$WORK/err")"
}

step "output to /dev/full or a closed stdout: status 1 and one error line"
expect_write_error "cannot write the key to standard output: No space left on device" \
  sh -c "exec '$TUND_BIN' genkey >/dev/full"
expect_write_error "cannot write the key to standard output: No space left on device" \
  sh -c "exec '$TUND_BIN' genpsk >/dev/full"
expect_write_error "cannot write the public key to standard output: No space left on device" \
  sh -c "exec '$TUND_BIN' pubkey <'$WORK/s.key' >/dev/full"
expect_write_error "cannot write the usage to standard output: No space left on device" \
  sh -c "exec '$TUND_BIN' genkey --help >/dev/full"
for cmd in genkey genpsk; do
  expect_write_error "cannot write the key to standard output: Bad file descriptor" \
    sh -c "exec '$TUND_BIN' $cmd >&-"
done
expect_write_error "cannot write the key to standard output: Bad file descriptor" \
  sh -c "exec '$TUND_BIN' pubkey <'$WORK/s.key' >&-"
expect_write_error "cannot read standard input: Bad file descriptor" \
  sh -c "exec '$TUND_BIN' pubkey <&- >'$WORK/p.pub'"
expect_write_error "cannot write the output to standard output: No space left on device" \
  sh -c "exec '$TUND_BIN' --help >/dev/full"
expect_write_error "cannot write the output to standard output: No space left on device" \
  sh -c "exec '$TUND_BIN' --version >/dev/full"
expect_write_error "cannot write the output to standard output: Bad file descriptor" \
  sh -c "exec '$TUND_BIN' --help >&-"
pass "genkey, genpsk, pubkey, --help and --version refuse to end with 0 when the output is lost"

step "a full file system: status 1, not a truncated key with status 0"
if mkdir -p "$WORK/tiny" && mount -t tmpfs -o size=4k tmpfs "$WORK/tiny" 2>/dev/null; then
  head -c 8192 /dev/zero >"$WORK/tiny/filler" 2>/dev/null || true
  status=0
  "$TUND_BIN" genkey >"$WORK/tiny/s.key" 2>"$WORK/err" || status=$?
  umount "$WORK/tiny"  # before any fail: the cleanup's rm -rf cannot remove a mount point
  [ $status = 1 ] || fail "genkey on a full file system: status $status ($(cat "$WORK/err"))"
  grep -c "cannot write the key to standard output: No space left on device" "$WORK/err" \
    >/dev/null || fail "genkey on a full file system: $(cat "$WORK/err")"
  pass "genkey on a full tmpfs exits 1: $(cat "$WORK/err")"
else
  echo "   (cannot mount a tmpfs here; the /dev/full checks above cover ENOSPC)"
fi

step "bad input: one line, status 1 or 2; pubkey < /dev/zero ends"
expect_write_error "not a key" sh -c "exec '$TUND_BIN' pubkey </dev/zero >/dev/null"
expect_write_error "expected a private key from tund genkey" \
  sh -c "exec '$TUND_BIN' pubkey </dev/null >/dev/null"
expect_write_error "cannot read standard input: Is a directory" \
  sh -c "exec '$TUND_BIN' pubkey <'$WORK' >/dev/null"
# An all-zero private key is refused here as the daemon refuses it.
head -c 32 /dev/zero | base64 >"$WORK/zero.key"
expect_write_error "all zeros, not a generated key" \
  sh -c "exec '$TUND_BIN' pubkey <'$WORK/zero.key' >/dev/null"
pass "no hang, one line each"

step "the key commands still work"
"$TUND_BIN" pubkey <"$WORK/s.key" >"$WORK/s.pub"
[ "$(stat -c %a "$WORK/s.key")" = 600 ] || fail "the key file is mode $(stat -c %a "$WORK/s.key")"
[ "$(wc -c <"$WORK/s.key")" = 45 ] || fail "the key file has $(wc -c <"$WORK/s.key") bytes"
[ "$(wc -c <"$WORK/s.pub")" = 45 ] || fail "the public key has $(wc -c <"$WORK/s.pub") bytes"
pass "genkey 0600 and 45 bytes, pubkey 45 bytes"

# journal_run NAME ARGS...: `tund ARGS` with stderr to $WORK/NAME.err and a JOURNAL_STREAM
# naming that file, stdin from /dev/null; sets $status.
journal_run() {
  local err=$WORK/$1.err
  shift
  : >"$err"
  status=0
  JOURNAL_STREAM=$(stat -c '%d:%i' "$err") timeout 5 "$TUND_BIN" "$@" </dev/null \
    >/dev/null 2>>"$err" || status=$?
}

step "JOURNAL_STREAM names stderr: key-command errors carry <3>"
for args in "genkey extra" "genpsk -s" "pubkey s.key" "pubkey"; do
  # shellcheck disable=SC2086 # word splitting wanted
  journal_run j $args
  [ $status != 0 ] || fail "'tund $args' succeeded"
  [ -s "$WORK/j.err" ] || fail "'tund $args': nothing on stderr"
  if grep -v '^<3>tund: error: ' "$WORK/j.err"; then fail "'tund $args': the line above lacks <3>"; fi
  echo "   ok (exit $status): $(cat "$WORK/j.err")"
done
: >"$WORK/full.err"
status=0
JOURNAL_STREAM=$(stat -c '%d:%i' "$WORK/full.err") "$TUND_BIN" genkey >/dev/full 2>>"$WORK/full.err" ||
  status=$?
[ $status = 1 ] || fail "genkey >/dev/full: status $status"
grep -c '^<3>tund: error: cannot write the key' "$WORK/full.err" >/dev/null ||
  fail "no <3> line for the write error: $(cat "$WORK/full.err")"
pass "usage and write errors of the key commands start with <3>"

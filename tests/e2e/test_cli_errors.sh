#!/usr/bin/env bash
# Bad input at start-up: one clear line on stderr, a non-zero exit, and no hang.
. "$(dirname "$0")/lib.sh"
require_tools setpriv timeout
make_underlay

# expect_startup_error NS NEEDLE ARGS...: tund must exit non-zero within 5 s, printing
# exactly one line on stderr that contains NEEDLE.
expect_startup_error() {
  local ns=$1 needle=$2
  shift 2
  local status=0
  timeout 5 ip netns exec "$ns" "$@" >"$WORK/out" 2>"$WORK/err" || status=$?
  [ $status -ne 0 ] || fail "'$*' succeeded"
  [ $status -ne 124 ] || fail "'$*' hung"
  [ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "'$*' printed $(wc -l <"$WORK/err") lines: $(cat "$WORK/err")"
  grep -qF -- "$needle" "$WORK/err" || fail "'$*': expected '$needle' in: $(cat "$WORK/err")"
  echo "   ok (exit $status): $(cat "$WORK/err")"
}

step "command line"
expect_startup_error "$NS_S" "--bogus" "$TUND_BIN" -s -i "t$ID" --bogus
expect_startup_error "$NS_S" "excludes" "$TUND_BIN" -s -c "$UNDER_S" -i "t$ID"
expect_startup_error "$NS_S" "one of -s/--server or -c/--connect" "$TUND_BIN" -i "t$ID"

step "start-up environment"
ip -n "$NS_S" tuntap add dev "tap$ID" mode tap
expect_startup_error "$NS_S" "exists as a TAP device" "$TUND_BIN" -s -i "tap$ID"
ip -n "$NS_S" tuntap add dev "tun$ID" mode tun
expect_startup_error "$NS_S" "exists as a TUN device" "$TUND_BIN" -s -i "tun$ID" -a
expect_startup_error "$NS_S" "not a TUN/TAP device" "$TUND_BIN" -s -i lo
expect_startup_error "$NS_S" "CAP_NET_ADMIN" \
  setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$TUND_BIN" -s -i "t$ID"
# The lookup may only ask a resolver on the namespace's own loopback (nothing listens).
netns_etc "$NS_C" resolv.conf "nameserver 127.0.0.1"
expect_startup_error "$NS_C" "cannot resolve host 'no-such-host.invalid'" \
  "$TUND_BIN" -c no-such-host.invalid -i "t$ID"
for proto in tcp udp; do
  start_tund "$NS_S" holder-$proto -s -i "h$proto$ID" -t "$proto"
  wait_until 5 grep -q listening "$WORK/holder-$proto.log"
  expect_startup_error "$NS_S" "Address already in use" "$TUND_BIN" -s -i "x$ID" -t "$proto"
done
expect_startup_error "$NS_S" "not an IPv4 or IPv6 address" "$TUND_BIN" -s -i "t$ID" --listen nope
# A failed start must not leave a device behind.
! ip -n "$NS_S" link show "t$ID" 2>/dev/null || fail "a failed start left device t$ID"
pass "every start-up error is one line and a non-zero exit"

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
  status=0
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
# Interface names the kernel refuses (dev_valid_name), as usage errors before anything exists.
for name in "a b" "a/b" "a:b" ".." "tun%d%d" "$(printf 'x%.0s' {1..16})"; do
  expect_startup_error "$NS_S" "--iface: '$name'" "$TUND_BIN" -s -i "$name"
  [ "$status" = 2 ] || fail "-i '$name': exit status $status, not 2 (usage)"
done
expect_startup_error "$NS_S" "--address: bad prefix length" "$TUND_BIN" -s -i "t$ID" \
  --address 10.9.0.1/33
expect_startup_error "$NS_S" "--peer: 'x'" "$TUND_BIN" -s -i "t$ID" --address 10.9.0.1/32 --peer x
expect_startup_error "$NS_S" "--link-ip: '10.9'" "$TUND_BIN" -s -i "t$ID" --link-ip 10.9

step "start-up environment"
ip -n "$NS_S" tuntap add dev "tap$ID" mode tap
expect_startup_error "$NS_S" "exists as a TAP device" "$TUND_BIN" -s -i "tap$ID"
ip -n "$NS_S" tuntap add dev "tun$ID" mode tun
expect_startup_error "$NS_S" "exists as a TUN device" "$TUND_BIN" -s -i "tun$ID" -a
expect_startup_error "$NS_S" "not a TUN/TAP device" "$TUND_BIN" -s -i lo
expect_startup_error "$NS_S" "CAP_NET_ADMIN" \
  setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$TUND_BIN" -s -i "t$ID"
# A name that does not exist (hosts file only: a definite "no such name", not a DNS server
# that cannot be reached, which tund rides out) is a start-up error.
netns_etc "$NS_C" resolv.conf "nameserver 127.0.0.1"
netns_etc "$NS_C" nsswitch.conf "hosts: files"
expect_startup_error "$NS_C" "cannot resolve host 'no-such-host.invalid'" \
  "$TUND_BIN" -c no-such-host.invalid -i "t$ID"
for proto in tcp udp; do
  start_tund "$NS_S" holder-$proto -s -i "h$proto$ID" -t "$proto"
  wait_until 5 grep -q listening "$WORK/holder-$proto.log"
  expect_startup_error "$NS_S" "Address already in use" "$TUND_BIN" -s -i "x$ID" -t "$proto"
done
expect_startup_error "$NS_S" "not an IPv4 or IPv6 address" "$TUND_BIN" -s -i "t$ID" --listen nope
step "keys that are not keys"
"$TUND_BIN" genkey >"$WORK/k.key"
PUB=$("$TUND_BIN" pubkey <"$WORK/k.key")
ZERO=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
ORDER1=AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=  # the point of order 1
ORDER8=4Ot6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuAA=  # a point of order 8
printf '%s\n' "$PUB" "$ORDER8" >"$WORK/allow-list"
printf '%s\n' "$ZERO" >"$WORK/zero.key"
chmod 600 "$WORK/zero.key"
KEY=(--private-key "$WORK/k.key")
for bad in "$ZERO" "$ORDER1" "$ORDER8"; do
  expect_startup_error "$NS_C" "--peer-key: key '$bad'" \
    "$TUND_BIN" -c "$UNDER_S" -i "t$ID" "${KEY[@]}" --peer-key "$bad"
  [ "$status" = 1 ] || fail "--peer-key $bad: exit status $status (an exception escaped?)"
  expect_startup_error "$NS_S" "--allow: key '$bad'" \
    "$TUND_BIN" -s -i "t$ID" "${KEY[@]}" --allow "$bad"
done
expect_startup_error "$NS_S" "allow-list:2: a low-order point" \
  "$TUND_BIN" -s -i "t$ID" "${KEY[@]}" --allow-file "$WORK/allow-list"
expect_startup_error "$NS_S" "zero.key: all zeros" \
  "$TUND_BIN" -s -i "t$ID" --private-key "$WORK/zero.key" --allow "$PUB"

# A failed start must not leave a device behind.
! ip -n "$NS_S" link show "t$ID" 2>/dev/null || fail "a failed start left device t$ID"
pass "every start-up error is one line and a non-zero exit"

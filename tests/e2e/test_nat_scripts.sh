#!/usr/bin/env bash
# The example configs and scripts, end to end (nat_scenario.sh): the configs configured
# from their templates as `cmake --install` does, pointing at the scripts in examples/.
# Then what the scripts refuse: no settings, NAT without knowing the clients' subnet, TAP
# routes without a gateway (usage or a one-line reason, exit 2, nothing changed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nat_scenario.sh"
require_tools nft socat getent
EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd)
mkdir "$WORK/examples"
for f in server client; do
  sed "s|@TUND_SCRIPTS_DIR@|$EXAMPLES|g" "$EXAMPLES/$f.conf.in" >"$WORK/examples/$f.conf"
done

nat_scenario "$TUND_BIN" "$WORK/examples" "$EXAMPLES"

step "the scripts refuse what they cannot do, with exit status 2"
# expect_refusal PATTERN NS ENV... : the script (last argument) exits 2 saying PATTERN.
expect_refusal() {
  local pattern=$1 ns=$2 out status=0
  shift 2
  out=$(ip netns exec "$ns" env "$@" 2>&1) || status=$?
  [ "$status" -eq 2 ] || fail "exit status $status, not 2, for: $* ($out)"
  grep -c -e "$pattern" <<<"$out" >/dev/null || fail "no '$pattern' from $*: $out"
}
for script in server-up.sh server-down.sh client-up.sh client-down.sh; do
  expect_refusal usage "$NS_S" sh "$EXAMPLES/$script"
done
ip -n "$NS_S" tuntap add dev tunr$ID mode tun
expect_refusal "NAT needs TUND_PREFIX or TUND_PEER_ADDR" "$NS_S" TUND_IFACE=tunr$ID \
  TUND_LOCAL_ADDR=10.0.0.1 TUND_PREFIX= NAT_IFACE=eth0 sh "$EXAMPLES/server-up.sh"
if ip netns exec "$NS_S" nft list table inet "tund_tunr$ID" >/dev/null 2>&1; then
  fail "a refused server-up.sh left a NAT table"
fi
ip -n "$NS_C" tuntap add dev tapr$ID mode tap
expect_refusal "GATEWAY" "$NS_C" TUND_IFACE=tapr$ID TUND_MODE=tap TUND_LOCAL_ADDR=10.0.0.2 \
  TUND_PREFIX=24 ROUTES=198.19.0.0/24 sh "$EXAMPLES/client-up.sh"
ip netns exec "$NS_C" env TUND_IFACE=tapr$ID TUND_MODE=tap TUND_LOCAL_ADDR=10.0.0.2 \
  TUND_PREFIX=24 ROUTES=198.19.0.0/24 GATEWAY=10.0.0.1 sh "$EXAMPLES/client-up.sh"
ip -n "$NS_C" route | grep -c "^198.19.0.0/24 via 10.0.0.1 dev tapr$ID" >/dev/null ||
  fail "TAP: no route via GATEWAY"
pass "usage without settings; NAT without a subnet and TAP routes without GATEWAY refused"

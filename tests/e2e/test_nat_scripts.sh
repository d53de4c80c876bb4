#!/usr/bin/env bash
# The example scripts and configs, end to end, in three namespaces:
#   client  --tunnel-->  server  --NAT-->  "internet" (198.19.0.2)
# The internet host must see the server's address as the source; the full-tunnel mode must
# reach it without a route for it, while the server stays reachable outside the tunnel.
. "$(dirname "$0")/lib.sh"
require_tools nft socat
EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd)
make_underlay
NET="tundi$ID"
EXTRA_NS+=("$NET")
ip netns add "$NET"
ip link add "vn$ID" netns "$NS_S" type veth peer name "vi$ID" netns "$NET"
ip -n "$NS_S" addr add 198.19.0.1/24 dev "vn$ID"
ip -n "$NET" addr add 198.19.0.2/24 dev "vi$ID"
ip -n "$NS_S" link set "vn$ID" up
ip -n "$NET" link set "vi$ID" up
ip -n "$NET" link set lo up
# The internet host answers with the address it saw the connection come from.
ip netns exec "$NET" socat TCP-LISTEN:7000,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR' &
PIDS+=($!)
wait_until 5 listening "$NET" 7000 || fail "the internet listener did not start"

# The example config templates, with only this test's names and paths substituted.
sed -e "s|^iface = .*|iface = tuns$ID|" -e "s|@TUND_SCRIPTS_DIR@|$EXAMPLES|g" \
    -e "s|NAT_IFACE=eth0|NAT_IFACE=vn$ID|g" "$EXAMPLES/server.conf.in" >"$WORK/server.conf"
sed -e "s|^iface = .*|iface = tunc$ID|" -e "s|@TUND_SCRIPTS_DIR@|$EXAMPLES|g" \
    "$EXAMPLES/client.conf.in" >"$WORK/client.conf"

step "routed mode: ROUTES=198.19.0.0/24 through the tunnel, NAT on the server"
start_tund "$NS_S" server --config "$WORK/server.conf"
SERVER_PID=$LAST_PID
start_tund "$NS_C" client --config "$WORK/client.conf"
CLIENT_PID=$LAST_PID
wait_until 10 ping_ok "$NS_C" 10.0.0.1 1 || fail "tunnel from the example configs did not come up"
grep -q "running up hook" "$WORK/server.log" || fail "server up hook did not run"
ip netns exec "$NS_S" nft list table ip "tund_tuns$ID" | grep -c masquerade >/dev/null || fail "no NAT rule"
seen=$(ip netns exec "$NS_C" socat -T 5 - TCP:198.19.0.2:7000 </dev/null)
[ "$seen" = "198.19.0.1" ] || fail "internet saw '$seen', not the server's address 198.19.0.1"
pass "client reached 198.19.0.2 through the tunnel; it saw the server (198.19.0.1) as source"

step "the scripts are idempotent"
before=$(ip netns exec "$NS_S" nft list table ip "tund_tuns$ID")
ip netns exec "$NS_S" env TUND_IFACE="tuns$ID" TUND_LOCAL_ADDR=10.0.0.1 TUND_PEER_ADDR=10.0.0.2 \
  NAT_IFACE="vn$ID" sh "$EXAMPLES/server-up.sh"
ip netns exec "$NS_S" env TUND_IFACE="tuns$ID" TUND_LOCAL_ADDR=10.0.0.1 TUND_PEER_ADDR=10.0.0.2 \
  NAT_IFACE="vn$ID" sh "$EXAMPLES/server-up.sh"
after=$(ip netns exec "$NS_S" nft list table ip "tund_tuns$ID")
[ "$before" = "$after" ] || fail "running server-up.sh again changed the rules"
ip netns exec "$NS_C" env TUND_IFACE="tunc$ID" TUND_LOCAL_ADDR=10.0.0.2 TUND_PEER_ADDR=10.0.0.1 \
  ROUTES=198.19.0.0/24 sh "$EXAMPLES/client-up.sh"
[ "$(ip -n "$NS_C" -4 addr show "tunc$ID" | grep -c inet)" -eq 1 ] || fail "address added twice"
ping_ok "$NS_C" 198.19.0.2 2 || fail "routing broken after re-running the scripts"
if sh "$EXAMPLES/server-up.sh" >/dev/null 2>&1; then fail "server-up.sh without settings succeeded"; fi
out=$(sh "$EXAMPLES/server-up.sh" 2>&1 || true)
grep -q usage <<<"$out" || fail "no usage message: $out"
pass "server-up.sh and client-up.sh twice: same state; without settings: usage and exit 2"

step "shutdown runs the down hooks"
stop_pid "$CLIENT_PID"
stop_pid "$SERVER_PID"
grep -q "running down hook" "$WORK/server.log" || fail "server down hook did not run"
if ip netns exec "$NS_S" nft list table ip "tund_tuns$ID" >/dev/null 2>&1; then
  fail "the NAT table is still there after server-down.sh"
fi
pass "server-down.sh removed the NAT table"

step "full-tunnel mode"
sed -i -e 's|ROUTES="198.19.0.0/24"|FULL_TUNNEL=yes|g' "$WORK/client.conf"
start_tund "$NS_S" server2 --config "$WORK/server.conf"
SERVER_PID=$LAST_PID
start_tund "$NS_C" client2 --config "$WORK/client.conf"
CLIENT_PID=$LAST_PID
wait_until 10 ping_ok "$NS_C" 10.0.0.1 1 || fail "full-tunnel client did not come up"
ip -n "$NS_C" route | grep -c "^0.0.0.0/1 via 10.0.0.1" >/dev/null || fail "no 0.0.0.0/1 route"
ip -n "$NS_C" route | grep -c "^$UNDER_S dev" >/dev/null || fail "no host route keeping the server outside"
seen=$(ip netns exec "$NS_C" socat -T 5 - TCP:198.19.0.2:7000 </dev/null)
[ "$seen" = "198.19.0.1" ] || fail "full tunnel: internet saw '$seen'"
ping_ok "$NS_C" "$UNDER_S" 2 || fail "full tunnel: the server's own address became unreachable"
ping_ok "$NS_C" 10.0.0.1 3 || fail "full tunnel: the tunnel stopped working"
stop_pid "$CLIENT_PID"
ip -n "$NS_C" route | grep -c "^$UNDER_S dev" >/dev/null && fail "client-down.sh left the host route"
pass "full tunnel: internet reached with no route of its own, server kept outside, cleaned up"

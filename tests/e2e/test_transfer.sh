#!/usr/bin/env bash
# A 50 MB file crosses the tunnel over TCP and over UDP and arrives with the same sha256.
. "$(dirname "$0")/lib.sh"
require_tools socat sha256sum
make_underlay
head -c $((50 * 1024 * 1024)) /dev/urandom >"$WORK/payload"
want=$(sha256sum <"$WORK/payload" | cut -d' ' -f1)
for proto in tcp udp; do
  step "50 MB over $proto"
  tunnel_up tun "$proto"
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto: tunnel did not come up"
  rm -f "$WORK/received"
  ip netns exec "$NS_S" socat -u "TCP-LISTEN:5001,bind=$TUN_S,reuseaddr" \
    "CREATE:$WORK/received" &
  RECV_PID=$!
  PIDS+=("$RECV_PID")
  wait_until 5 listening "$NS_S" 5001 || fail "listener on port 5001 did not start"
  sleep 0.2
  timeout 120 ip netns exec "$NS_C" socat -u "FILE:$WORK/payload" "TCP:$TUN_S:5001" \
    || fail "$proto: sender failed"
  wait "$RECV_PID" || true
  got=$(sha256sum <"$WORK/received" | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "$proto: sha256 mismatch ($(stat -c %s "$WORK/received") bytes)"
  tunnel_down
  pass "50 MB over $proto arrived intact (sha256 $want)"
done

#!/usr/bin/env bash
# simpletun compatibility over plaintext TCP, in both directions: a tund client against a
# simpletun-style server, and a simpletun-style client against a tund server. The peer
# (tests/e2e/peers/simpletun_peer.cpp) writes length and payload separately, as simpletun does.
. "$(dirname "$0")/lib.sh"
PEER_BIN=${TUND_BUILD_DIR:-$(dirname "$TUND_BIN")}/tests/simpletun_peer
[ -x "$PEER_BIN" ] || skip_or_fail "simpletun_peer not built at $PEER_BIN"
make_underlay

start_peer() {  # start_peer NS LOGNAME ARGS...
  local ns=$1 name=$2
  shift 2
  ip netns exec "$ns" "$PEER_BIN" "$@" >"$WORK/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

for mode in tun tap; do
  flag=-u
  [ "$mode" = tap ] && flag=-a
  step "$mode: tund client -> simpletun server"
  start_peer "$NS_S" simpletun-server -i "${mode}s$ID" -s "$flag"
  PEER_PID=$LAST_PID
  sleep 0.3
  start_tund "$NS_C" tund-client -c "$UNDER_S" -i "${mode}c$ID" "$flag"
  TUND_PID=$LAST_PID
  configure_link "$NS_S" "${mode}s$ID" "$TUN_S" "$TUN_C" "$mode"
  configure_link "$NS_C" "${mode}c$ID" "$TUN_C" "$TUN_S" "$mode"
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$mode: no ping through tund -> simpletun"
  ping_ok "$NS_S" "$TUN_C" 5 || fail "$mode: simpletun -> tund ping lost replies"
  ip netns exec "$NS_C" ping -c 3 -i 0.2 -s 1300 "$TUN_S" >/dev/null || fail "$mode: large ping"
  stop_pid "$TUND_PID"
  stop_pid "$PEER_PID"
  pass "$mode: tund client works against a simpletun server"

  step "$mode: simpletun client -> tund server"
  start_tund "$NS_S" tund-server -s -i "${mode}s$ID" "$flag"
  TUND_PID=$LAST_PID
  wait_until 5 grep -q listening "$WORK/tund-server.log"
  start_peer "$NS_C" simpletun-client -i "${mode}c$ID" -c "$UNDER_S" "$flag"
  PEER_PID=$LAST_PID
  configure_link "$NS_S" "${mode}s$ID" "$TUN_S" "$TUN_C" "$mode"
  configure_link "$NS_C" "${mode}c$ID" "$TUN_C" "$TUN_S" "$mode"
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$mode: no ping through simpletun -> tund"
  ping_ok "$NS_S" "$TUN_C" 5 || fail "$mode: tund -> simpletun ping lost replies"
  stop_pid "$PEER_PID"
  stop_pid "$TUND_PID"
  pass "$mode: simpletun client works against a tund server"
done

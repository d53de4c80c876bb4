#!/usr/bin/env bash
# simpletun compatibility over plaintext TCP, in both directions: a tund client against a
# simpletun-style server, and a simpletun-style client against a tund server. The peer
# (tests/e2e/peers/simpletun_peer.cpp) writes length and payload separately, as simpletun does.
# The peer's device has simpletun's MTU 1500 and tund its default 1400: packets between the
# two MTUs from the simpletun side (a 1450-byte DF ping, 1450-byte UDP datagrams) must be
# delivered by tund (the kernel takes them), not dropped as oversize.
. "$(dirname "$0")/lib.sh"
require_tools socat cmp
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

# udp_datagram FROM_NS TO_NS TO_ADDR: one 1450-byte UDP datagram arrives intact.
udp_datagram() {
  rm -f "$WORK/udp.in"
  ip netns exec "$2" timeout 5 socat -u "UDP-RECVFROM:5002,bind=$3" "CREATE:$WORK/udp.in" &
  local recv=$!
  PIDS+=("$recv")
  sleep 0.3
  ip netns exec "$1" socat -u "FILE:$WORK/udp.out" "UDP-SENDTO:$3:5002"
  wait "$recv" 2>/dev/null || true
  cmp -s "$WORK/udp.out" "$WORK/udp.in"
}

# above_our_mtu PEER_NS PEER_DEV PEER_ADDR TUND_NS TUND_ADDR: the simpletun side (its
# default MTU 1500) sends packets of 1478 bytes, above tund's 1400: a DF ping (its reply
# comes back fragmented by tund's kernel) and UDP datagrams both ways.
above_our_mtu() {
  ip -n "$1" link set "$2" mtu 1500
  ip netns exec "$1" ping -c 3 -i 0.2 -W 2 -s 1450 -M do "$5" >/dev/null ||
    fail "$mode: 1450-byte DF ping from the MTU-1500 simpletun side was lost"
  head -c 1450 /dev/urandom >"$WORK/udp.out"
  udp_datagram "$1" "$4" "$5" || fail "$mode: 1450-byte UDP datagram simpletun -> tund lost"
  udp_datagram "$4" "$1" "$3" || fail "$mode: 1450-byte UDP datagram tund -> simpletun lost"
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
  above_our_mtu "$NS_S" "${mode}s$ID" "$TUN_S" "$NS_C" "$TUN_C"
  stop_pid "$TUND_PID"
  stop_pid "$PEER_PID"
  pass "$mode: tund client works against a simpletun server"

  step "$mode: simpletun client -> tund server"
  start_tund "$NS_S" tund-server -s -i "${mode}s$ID" "$flag"
  TUND_PID=$LAST_PID
  # The peer gives up when its connect is refused: wait for the listener (slow under ASan).
  wait_until 15 listening "$NS_S" 55555 || fail "$mode: the tund server did not start listening"
  start_peer "$NS_C" simpletun-client -i "${mode}c$ID" -c "$UNDER_S" "$flag"
  PEER_PID=$LAST_PID
  configure_link "$NS_S" "${mode}s$ID" "$TUN_S" "$TUN_C" "$mode"
  configure_link "$NS_C" "${mode}c$ID" "$TUN_C" "$TUN_S" "$mode"
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$mode: no ping through simpletun -> tund"
  ping_ok "$NS_S" "$TUN_C" 5 || fail "$mode: tund -> simpletun ping lost replies"
  above_our_mtu "$NS_C" "${mode}c$ID" "$TUN_C" "$NS_S" "$TUN_S"
  stop_pid "$PEER_PID"
  stop_pid "$TUND_PID"
  pass "$mode: simpletun client works against a tund server"
done

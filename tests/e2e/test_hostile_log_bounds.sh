#!/usr/bin/env bash
# Log lines an outside party can make repeat are bounded per kind, then summarised with a
# count of what was suppressed: 400 junk TCP connections to an encrypted server (each one
# "connection from X; awaiting its handshake"), 400 to a plaintext TCP server (each one
# replacing the last), and keepalives from 100 source ports at a plaintext UDP server
# (each one "client moved").
. "$(dirname "$0")/lib.sh"
require_tools socat
FLOOD=${TUND_BUILD_DIR:-$(dirname "$TUND_BIN")}/tests/flood
[ -x "$FLOOD" ] || skip_or_fail "flood tool not built at $FLOOD"
make_underlay
make_keys
make_attacker  # a third namespace, 198.18.1.2

# bounded LOG PATTERN WHAT: at most 12 lines match PATTERN (5 per 10 s window, a few
# windows), and the total suppressed count is reported within 15 s.
bounded() {
  local n
  n=$(grep -c "$2" "$WORK/$1.log" || true)
  [ "$n" -le 12 ] || fail "$3: $n log lines (one per event from outside)"
  wait_until 15 grep -q "similar lines suppressed\|similar suppressed" "$WORK/$1.log" ||
    fail "$3: no count of the suppressed lines"
  pass "$3: $n lines, then: $(grep -o "[0-9]* similar.*suppressed" "$WORK/$1.log" | tail -n 1)"
}

step "400 junk TCP connections to an encrypted server"
start_tund "$NS_S" enc-server -s -i "tuns$ID" -u -t tcp --private-key "$WORK/server.key" \
  --allow "$WORK/client.pub"
SERVER_PID=$LAST_PID
wait_until 5 listening "$NS_S" 55555 || fail "server did not listen"
ip netns exec "$ATT" "$FLOOD" tcp-junk 198.18.1.1 55555 400 2 | sed 's/^/   /'
bounded enc-server "connection from" "encrypted tcp"
stop_pid "$SERVER_PID"

step "400 TCP connections to a plaintext server, each replacing the last"
start_tund "$NS_S" plain-server -s -i "tuns$ID" -u -t tcp
SERVER_PID=$LAST_PID
wait_until 5 listening "$NS_S" 55555 || fail "server did not listen"
ip netns exec "$ATT" "$FLOOD" tcp-junk 198.18.1.1 55555 400 2 | sed 's/^/   /'
bounded plain-server "connected\|disconnected" "plaintext tcp"
stop_pid "$SERVER_PID"

step "keepalives from 100 source ports at a plaintext UDP server"
start_tund "$NS_S" udp-server -s -i "tuns$ID" -u -t udp
SERVER_PID=$LAST_PID
sleep 0.5
for _ in $(seq 100); do
  printf '\002\000\000\000' | ip netns exec "$ATT" socat -u - UDP-SENDTO:198.18.1.1:55555
done
bounded udp-server "client moved\|is up" "plaintext udp"
stop_pid "$SERVER_PID"

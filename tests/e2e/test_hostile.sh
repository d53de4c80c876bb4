#!/usr/bin/env bash
# Garbage on the wire: random bytes, a zero length and an oversized length on the TCP port,
# and wrong-shaped datagrams on the UDP port. The server must log, count, keep running and
# still serve a real client afterwards.
. "$(dirname "$0")/lib.sh"
make_underlay

send_tcp() {  # send_tcp BYTES-PRODUCING-COMMAND: one connection from the client namespace
  ip netns exec "$NS_C" bash -c "exec 3<>/dev/tcp/$UNDER_S/55555 && { $1; } >&3; sleep 0.3" \
    2>/dev/null || true
}

step "tcp: hostile streams"
start_tund "$NS_S" server -s -i "tuns$ID"
SERVER_PID=$LAST_PID
configure_link "$NS_S" "tuns$ID" "$TUN_S" "$TUN_C" tun
wait_until 5 grep -q listening "$WORK/server.log"
send_tcp "head -c 20000 /dev/urandom"
send_tcp "printf '\\x00\\x00'"
send_tcp "printf '\\xff\\xff'; head -c 70000 /dev/zero"
send_tcp "printf '\\x00\\x54\\x45\\x00'"  # truncated: 84 announced, 2 sent
kill -0 "$SERVER_PID" || fail "server died on hostile input"
line=$(stats_of "$SERVER_PID" server)
echo "   $line"
[ "$(counter "$line" zero-length)" -ge 1 ] || fail "zero-length frame not counted"
# A 65535-byte frame is within the wire format (frames above our MTU are delivered, as a
# peer with a larger MTU sends them): its zeros are no packet, so the engine refuses it.
[ $(($(counter "$line" oversize) + $(counter "$line" malformed))) -ge 1 ] ||
  fail "the 65535-byte junk frame was not refused and counted"
[ "$(counter "$line" truncated)" -ge 1 ] || fail "truncated frame not counted"
start_tund "$NS_C" client -c "$UNDER_S" -i "tunc$ID"
CLIENT_PID=$LAST_PID
configure_link "$NS_C" "tunc$ID" "$TUN_C" "$TUN_S" tun
wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "a real client cannot connect after garbage"
ping_ok "$NS_C" "$TUN_S" 3 || fail "ping lost after garbage"
tunnel_down
pass "tcp: garbage, zero and oversize lengths dropped and counted; a real client still connects"

step "udp: wrong-shaped datagrams"
tunnel_up tun udp
wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "udp tunnel did not come up"
ip netns exec "$NS_C" bash -c "
  for i in \$(seq 200); do head -c \$((RANDOM % 1500)) /dev/urandom > /dev/udp/$UNDER_S/55555; done
  printf '\\x01\\x00\\x00\\x00' > /dev/udp/$UNDER_S/55555      # data without a frame
  printf '\\x02\\x00\\x00\\x00xx' > /dev/udp/$UNDER_S/55555    # keepalive with a body
  printf '\\x07\\x00\\x00\\x00abcd' > /dev/udp/$UNDER_S/55555  # unknown type
" 2>/dev/null || true
ping_ok "$NS_C" "$TUN_S" 3 || fail "the live session broke under junk datagrams"
line=$(stats_of "$SERVER_PID" server)
echo "   $line"
[ "$(counter "$line" bad-datagram)" -ge 3 ] || fail "bad datagrams not counted"
kill -0 "$SERVER_PID" || fail "server died on junk datagrams"
grep -q "similar suppressed\|dropped a" "$WORK/server.log" || fail "no log line for refusals"
[ "$(grep -c 'dropped a' "$WORK/server.log")" -le 20 ] || fail "refusal logging is not rate-limited"
tunnel_down
pass "udp: junk datagrams dropped, counted, logged at a bounded rate; session unaffected"

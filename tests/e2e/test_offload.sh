#!/usr/bin/env bash
# TUN offloads end to end: with offloads on, the sender's tund reads 64 KB super-packets
# and segments them, the receiver's merges segments back, the data arrives intact, and
# the wire still carries ordinary MTU-sized frames (a simpletun-style peer, which cannot
# take a frame over its MTU, receives a large transfer from an offloading tund). With
# --no-offload nothing of the kind happens. TAP never uses offloads.
. "$(dirname "$0")/lib.sh"
PEER_BIN=${TUND_BUILD_DIR:-$(dirname "$TUND_BIN")}/tests/simpletun_peer
[ -x "$PEER_BIN" ] || skip_or_fail "simpletun_peer not built at $PEER_BIN"
if [ "${TUND_E2E_NO_OFFLOAD:-0}" = 1 ]; then echo "SKIP: this test is about offloads (TUND_E2E_NO_OFFLOAD=1)"; exit 77; fi
make_underlay
head -c 30000000 /dev/urandom >"$WORK/payload"
want=$(sha256sum <"$WORK/payload" | cut -d' ' -f1)

for proto in tcp udp; do
  step "$proto: offloads on, 30 MB each way"
  tunnel_up tun "$proto"
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto: no tunnel"
  grep -q "offloads on" "$WORK/server.log" || fail "$proto: server did not enable offloads"
  [ "$(send_file "$WORK/payload")" = "$want" ] || fail "$proto: client->server data corrupted"
  # client -> server: the client segments, the server merges
  kill -USR1 "$CLIENT_PID" "$SERVER_PID"
  sleep 0.3
  c=$(grep "offload:" "$WORK/client.log" | tail -n1)
  s=$(grep "offload:" "$WORK/server.log" | tail -n1)
  [ "$(counter "$c" super-packets-read)" -gt 0 ] || fail "$proto: client read no super-packets: $c"
  [ "$(counter "$s" segments-merged)" -gt 0 ] || fail "$proto: server merged nothing: $s"
  [ "$(counter "$c" bad-super-packets)" -eq 0 ] || fail "$proto: bad super-packets: $c"
  pass "$proto: $(counter "$c" super-packets-read) super-packets segmented, $(counter "$s" segments-merged) segments merged, data intact"
  tunnel_down
done

step "tcp: an offloading tund sends a simpletun-style server only MTU-sized frames"
ip netns exec "$NS_S" "$PEER_BIN" -s -i "tuns$ID" -u >"$WORK/peer.log" 2>&1 &
PEER_PID=$!
PIDS+=("$PEER_PID")
sleep 0.3
start_tund "$NS_C" client -c "$UNDER_S" -i "tunc$ID"
CLIENT_PID=$LAST_PID
configure_link "$NS_S" "tuns$ID" "$TUN_S" "$TUN_C" tun
configure_link "$NS_C" "tunc$ID" "$TUN_C" "$TUN_S" tun
ip -n "$NS_S" link set "tuns$ID" mtu 1400
wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "no tunnel to the simpletun-style peer"
[ "$(send_file "$WORK/payload")" = "$want" ] || fail "data to the simpletun-style peer corrupted"
kill -0 "$PEER_PID" || fail "the simpletun-style peer died (a frame over its limit?)"
c=$(stats_of "$CLIENT_PID" client)
o=$(grep "offload:" "$WORK/client.log" | tail -n1)
[ "$(counter "$o" super-packets-read)" -gt 0 ] || fail "the client did not segment: $o"
pass "30 MB to a simpletun-style peer from $(counter "$o" super-packets-read) super-packets"
stop_pid "$CLIENT_PID"
stop_pid "$PEER_PID"

step "--no-offload and TAP: the plain path"
tunnel_up tun tcp --no-offload
wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "no tunnel with --no-offload"
grep -q "offloads off (--no-offload)" "$WORK/client.log" || fail "--no-offload not reported"
[ "$(send_file "$WORK/payload")" = "$want" ] || fail "--no-offload: data corrupted"
kill -USR1 "$CLIENT_PID"
sleep 0.3
grep -q "offload:" "$WORK/client.log" && fail "--no-offload still reports offload counters"
tunnel_down
tunnel_up tap tcp
wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "no TAP tunnel"
grep -q "offloads off (TAP device)" "$WORK/client.log" || fail "TAP offload state not reported"
tunnel_down
pass "--no-offload and TAP run the plain path and say so"

#!/usr/bin/env bash
# A session survives at least two rekeys with a ping flood running, over TCP and UDP, with
# no replies lost beyond the flood's noise. The rekey interval is shortened to 3 s with
# TUND_TEST_REKEY_SECONDS, a variable meant only for tests.
. "$(dirname "$0")/lib.sh"
make_underlay
make_keys
export TUND_TEST_REKEY_SECONDS=3
for proto in tcp udp; do
  step "$proto: ping flood across rekeys"
  secure_tunnel_up tun "$proto"
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto: tunnel did not come up"
  # 10 s at one ping per 5 ms: about 2000 echo requests spanning three rekey intervals.
  summary=$(ip netns exec "$NS_C" ping -q -i 0.005 -w 10 -W 1 "$TUN_S" | grep "packets transmitted")
  echo "   $summary"
  sent=$(awk '{print $1}' <<<"$summary")
  received=$(awk '{print $4}' <<<"$summary")
  line=$(stats_of "$SERVER_PID" server)
  handshakes=$(counter "$line" handshakes)
  echo "   server handshakes: $handshakes"
  [ "$handshakes" -ge 3 ] || fail "$proto: only $handshakes handshakes (wanted the first + 2 rekeys)"
  # "Beyond the flood's noise": at most 0.5% (and a couple of packets) may go missing.
  lost=$((sent - received))
  [ "$lost" -le $((sent / 200 + 2)) ] || fail "$proto: $lost of $sent replies lost across rekeys"
  ping_ok "$NS_C" "$TUN_S" 3 || fail "$proto: tunnel broken after the rekeys"
  tunnel_down
  pass "$proto: $handshakes handshakes during a $sent-ping flood, $lost lost"
done

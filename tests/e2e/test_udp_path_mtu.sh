#!/usr/bin/env bash
# An underlay path with MTU 1280 and the tunnel at its default 1400 over UDP with offloads
# on: full-size tunnel packets make outer datagrams above the path MTU. The kernel refuses
# them as one GSO send (EMSGSIZE/EINVAL) but fragments them sent one by one, so tund must
# fall back for that size, not drop the batch or mistake it for an address change.
# 4 MB each way, plaintext and encrypted: intact (sha256) within 30 s.
. "$(dirname "$0")/lib.sh"
require_tools socat sha256sum timeout
make_underlay
ip -n "$NS_S" link set "vs$ID" mtu 1280
ip -n "$NS_C" link set "vc$ID" mtu 1280
make_keys
head -c $((4 * 1024 * 1024)) /dev/urandom >"$WORK/payload"
want=$(sha256sum <"$WORK/payload" | cut -d' ' -f1)

# transfer FROM_NS TO_NS TO_ADDR: 4 MB from FROM_NS to a receiver at TO_ADDR in TO_NS,
# at most 30 s; prints the sha256 of what arrived.
transfer() {
  rm -f "$WORK/received"
  ip netns exec "$2" timeout 40 socat -u "TCP-LISTEN:5001,bind=$3,reuseaddr" \
    "CREATE:$WORK/received" &
  local recv=$!
  PIDS+=("$recv")
  wait_until 5 listening "$2" 5001 || fail "receiver did not start"
  timeout 30 ip netns exec "$1" socat -u "FILE:$WORK/payload" "TCP:$3:5001" ||
    echo "sender failed or timed out" >&2
  wait "$recv" || true
  sha256sum <"$WORK/received" | cut -d' ' -f1
}

for mode in plain encrypted; do
  step "udp over a 1280-byte path, $mode"
  if [ "$mode" = plain ]; then tunnel_up tun udp; else secure_tunnel_up tun udp; fi
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$mode: tunnel did not come up"
  started=$SECONDS
  [ "$(transfer "$NS_C" "$NS_S" "$TUN_S")" = "$want" ] || fail "$mode: client->server corrupt or incomplete"
  [ "$(transfer "$NS_S" "$NS_C" "$TUN_C")" = "$want" ] || fail "$mode: server->client corrupt or incomplete"
  took=$((SECONDS - started))
  for side in server client; do
    if grep -q "re-connected the UDP socket\|now sending from" "$WORK/$side.log"; then
      fail "$mode: $side took a refused send for an address change"
    fi
  done
  grep -h "GSO refused" "$WORK/server.log" "$WORK/client.log" | sed -n 1,2p || true
  tunnel_down
  pass "$mode: 4 MB each way intact in ${took} s"
done

#!/usr/bin/env bash
# The device changes under a running tund. (d) `ip link set DEV mtu 1500` on both ends of
# a 1400 tunnel: the tunnel follows (one log line), and 1450-byte pings cross with and
# without DF. (e) `ip link set DEV name NEW`: traffic continues, the log names the new
# name, and the --down hook and the exit line use it.
. "$(dirname "$0")/lib.sh"
make_underlay

for proto in udp tcp; do
  step "$proto: a 1400 tunnel, then MTU 1500 set on both live devices"
  rm -f "$WORK/down"
  tunnel_up tun "$proto" --down "echo \"\$TUND_IFACE\" >>$WORK/down"
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto: tunnel did not come up"
  ip -n "$NS_S" link set "$DEV_S" mtu 1500
  ip -n "$NS_C" link set "$DEV_C" mtu 1500
  for side in server client; do
    wait_until 5 grep -q "MTU changed from 1400 to 1500; the tunnel now carries up to 1500" \
      "$WORK/$side.log" || fail "$proto: $side did not log the new MTU"
  done
  for df in dont do; do
    out=$(ip netns exec "$NS_C" ping -c 3 -i 0.2 -W 2 -M $df -s 1422 "$TUN_S" 2>&1) ||
      fail "$proto: 1450-byte ping (-M $df) lost after the MTU change: $out"
  done
  pass "$proto: 1450-byte pings cross with and without DF; both sides logged the change"

  step "$proto: the server's device is renamed"
  NEW="tunz$ID"
  ip -n "$NS_S" link set "$DEV_S" down
  ip -n "$NS_S" link set "$DEV_S" name "$NEW"
  ip -n "$NS_S" link set "$NEW" up
  ip -n "$NS_S" addr replace "$TUN_S" peer "$TUN_C" dev "$NEW"
  wait_until 5 grep -q "device $DEV_S renamed to $NEW" "$WORK/server.log" ||
    fail "$proto: the rename was not logged"
  wait_until 5 ping_ok "$NS_C" "$TUN_S" 3 || fail "$proto: traffic stopped after the rename"
  ping_ok "$NS_S" "$TUN_C" 2 || fail "$proto: traffic from the renamed side"
  stop_pid "$SERVER_PID"
  grep -qx "$NEW" "$WORK/down" || fail "$proto: --down saw TUND_IFACE=$(cat "$WORK/down" 2>/dev/null), want $NEW"
  grep -q "device $NEW removed" "$WORK/server.log" || fail "$proto: the exit line does not name $NEW"
  pass "$proto: traffic continued after the rename; log, --down and the exit line say $NEW"
  tunnel_down
  mv "$WORK/server.log" "$WORK/server-$proto.log.txt"
  mv "$WORK/client.log" "$WORK/client-$proto.log.txt"
done

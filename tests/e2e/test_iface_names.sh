#!/usr/bin/env bash
# Interface-name templates, as simpletun and the kernel accept them: `-i 'tun%d'` and
# `-i 'tap%d' -a` let the kernel pick the name; tund then uses that name everywhere: the
# MTU and --address land on it, the --up hook's TUND_IFACE names it, the log names it,
# and two tunnels ends with templated names ping each other.
. "$(dirname "$0")/lib.sh"
make_underlay

# The kernel picks the lowest free number; a device that already exists is never reused.
ip -n "$NS_S" tuntap add dev tun0 mode tun
ip -n "$NS_S" tuntap add dev tap0 mode tap

for mode in tun tap; do
  flag=-u
  [ "$mode" = tap ] && flag=-a
  for proto in tcp udp; do
    step "$mode/$proto: -i '$mode%d' on both sides"
    rm -f "$WORK/up-s" "$WORK/up-c"
    start_tund "$NS_S" "server-$mode-$proto" -s -i "$mode%d" "$flag" -t "$proto" \
      --address "$TUN_S/24" --up "echo \"\$TUND_IFACE\" >$WORK/up-s"
    SERVER_PID=$LAST_PID
    start_tund "$NS_C" "client-$mode-$proto" -c "$UNDER_S" -i "$mode%d" "$flag" -t "$proto" \
      --address "$TUN_C/24" --up "echo \"\$TUND_IFACE\" >$WORK/up-c"
    CLIENT_PID=$LAST_PID
    wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$mode/$proto: the tunnel did not come up"
    for side in s c; do
      ns=$NS_S
      [ $side = c ] && ns=$NS_C
      name=$(cat "$WORK/up-$side" 2>/dev/null || true)
      [ -n "$name" ] || fail "$mode/$proto: the --up hook did not record TUND_IFACE"
      [[ "$name" =~ ^$mode[0-9]+$ ]] || fail "$mode/$proto: TUND_IFACE=$name is not a kernel-picked name"
      ip -n "$ns" -o link show "$name" | grep -c "mtu 1400" >/dev/null || fail "$mode/$proto: $name has no MTU 1400"
      ip -n "$ns" -o addr show dev "$name" | grep -c "10.77.0." >/dev/null || fail "$mode/$proto: no address on $name"
      ! ip -n "$ns" link show "$mode%d" >/dev/null 2>&1 || fail "$mode/$proto: a device is literally named $mode%d"
    done
    [ "$(cat "$WORK/up-s")" != "${mode}0" ] || fail "$mode/$proto: the existing ${mode}0 was taken"
    grep -q "$(cat "$WORK/up-s")" "$WORK/server-$mode-$proto.log" || fail "$mode/$proto: the log does not name the device"
    ping_ok "$NS_C" "$TUN_S" 3 || fail "$mode/$proto: ping across the tunnel"
    pass "$mode/$proto: server $(cat "$WORK/up-s"), client $(cat "$WORK/up-c"): addresses, MTU, hooks and ping"
    tunnel_down
  done
done

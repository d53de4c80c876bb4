#!/usr/bin/env bash
# ICMP manners (RFC 1122 3.2.2): a server with no client and `--address 10.77.0.1/24`
# answers a unicast packet for the far side with "host unreachable", but never sends an
# ICMP error about a broadcast: the subnet's directed broadcast, 255.255.255.255, or the
# broadcast of an address added by hand while tund runs, or an explicit `brd` address. A capture on the device proves
# no error was sent (and ping saw none).
. "$(dirname "$0")/lib.sh"
require_tools tcpdump
make_underlay

for mode in tun tap; do
  flag=-u
  [ "$mode" = tap ] && flag=-a
  DEV="${mode}s$ID"
  step "$mode: server without a client, --address $TUN_S/24"
  start_tund "$NS_S" "server-$mode" -s -i "$DEV" "$flag" --address "$TUN_S/24"
  SERVER_PID=$LAST_PID
  wait_until 5 ip -n "$NS_S" link show "$DEV" up || fail "$mode: device did not come up"
  wait_until 5 grep -q listening "$WORK/server-$mode.log" || fail "$mode: server did not start"
  # Added by hand: tund learns it from the device (netlink), not from its command line.
  ip -n "$NS_S" addr add 10.78.0.1/16 dev "$DEV"
  # An explicit broadcast that is not the subnet's all-ones address (`brd`): the kernel
  # treats it as a broadcast, so must tund.
  ip -n "$NS_S" addr add 10.79.0.1/24 brd 10.79.0.128 dev "$DEV"
  # TAP: nobody answers ARP for the absent far side; a static entry lets the probe out.
  [ "$mode" = tap ] && ip -n "$NS_S" neigh replace "$TUN_C" lladdr 02:00:00:00:00:02 dev "$DEV"
  ip netns exec "$NS_S" tcpdump --immediate-mode -i "$DEV" -U -n -w "$WORK/$mode.pcap" \
    "icmp[icmptype] == icmp-unreach" >/dev/null 2>&1 &
  DUMP=$!
  PIDS+=("$DUMP")
  sleep 1

  out=$(ip netns exec "$NS_S" ping -c 2 -i 0.3 -W 1 "$TUN_C" 2>&1 || true)
  grep -q "Destination Host Unreachable" <<<"$out" || fail "$mode: no host unreachable for $TUN_C: $out"
  pass "$mode: unicast to the absent far side gets host unreachable"

  for target in 10.77.0.255 255.255.255.255 10.78.255.255 10.79.0.128; do
    out=$(ip netns exec "$NS_S" ping -b -c 2 -i 0.3 -W 1 -I "$DEV" "$target" 2>&1 || true)
    ! grep -qi "unreachable" <<<"$out" || fail "$mode: ICMP error for broadcast $target: $out"
  done
  sleep 0.3
  stop_pid "$DUMP"
  errors=$(tcpdump -r "$WORK/$mode.pcap" -n 2>/dev/null | grep -c "unreachable" || true)
  from_broadcast=$(tcpdump -r "$WORK/$mode.pcap" -n 2>/dev/null | grep -c "255 >\|\.128 >" || true)
  [ "$from_broadcast" -eq 0 ] || fail "$mode: an ICMP error was sent from a broadcast address"
  # The two host-unreachables for the unicast probe, and nothing more.
  [ "$errors" -eq 2 ] || fail "$mode: $errors ICMP errors on the device, want the 2 unicast ones"
  pass "$mode: no ICMP error for 10.77.0.255, 255.255.255.255, 10.78.255.255 (added by hand), 10.79.0.128 (brd)"
  stop_pid "$SERVER_PID"
done

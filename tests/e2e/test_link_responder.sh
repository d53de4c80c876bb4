#!/usr/bin/env bash
# The responder on the tunnel link: ping and ping6 to the two --link-ip addresses (IPv4 and
# IPv6) are answered by the local tund with the peer down and up (a capture on the far side
# proves no probe, ARP request or Neighbor Solicitation for them crossed), TAP mode resolves
# them by ARP and NDP (the kernel's neighbour entry for the IPv6 one becomes REACHABLE), a
# packet for the far side while the peer is down gets "host unreachable" ("address
# unreachable" from the IPv6 link address), and an MTU raised on one live device is
# followed by the tunnel: the other side delivers the larger packets and says once that
# the MTUs differ.
. "$(dirname "$0")/lib.sh"
require_tools tcpdump
make_underlay
LINK=10.77.0.254
LINK6=fd00:77::fe
TUN6_S=fd00:77::1
TUN6_C=fd00:77::2

for mode in tun tap; do
  flag=-u
  [ "$mode" = tap ] && flag=-a
  step "$mode: link address with the peer down"
  start_tund "$NS_C" client -c "$UNDER_S" -i "${mode}c$ID" "$flag" --link-ip "$LINK" \
    --link-ip "$LINK6" --address "$TUN_C/24"
  CLIENT_PID=$LAST_PID
  wait_until 5 ip -n "$NS_C" link show "${mode}c$ID" up
  ip -n "$NS_C" addr add "$TUN6_C/64" dev "${mode}c$ID" nodad
  ping_ok "$NS_C" "$LINK" 3 || fail "$mode: link address not answered with the peer down"
  ping_ok "$NS_C" "$LINK6" 3 || fail "$mode: IPv6 link address not answered with the peer down"
  # TUN: no neighbour resolution, so the very first packet gets the unreachable. (TAP needs
  # the far side's MAC first; that case is checked below, after the peer went away.)
  if [ "$mode" = tun ]; then
    out=$(ip netns exec "$NS_C" ping -c 2 -i 0.3 -W 1 "$TUN_S" 2>&1 || true)
    grep -q "From $LINK .*Destination Host Unreachable" <<<"$out" || fail "tun: no host unreachable from $LINK: $out"
  fi
  if [ "$mode" = tap ]; then
    ip -n "$NS_C" neigh show "$LINK" | grep -c "lladdr 02:" >/dev/null \
      || fail "tap: the link address was not resolved by ARP to a locally administered MAC"
    ip -n "$NS_C" -6 neigh show "$LINK6" | quiet_grep "lladdr 02:.* REACHABLE" \
      || fail "tap: no REACHABLE neighbour entry for $LINK6: $(ip -n "$NS_C" -6 neigh show "$LINK6")"
  fi
  pass "$mode: ping $LINK and ping6 $LINK6 answered locally with the peer down"

  step "$mode: link address with the peer up; the far side sees no probe"
  start_tund "$NS_S" server -s -i "${mode}s$ID" "$flag" --address "$TUN_S/24"
  SERVER_PID=$LAST_PID
  wait_until 5 ip -n "$NS_S" link show "${mode}s$ID" up
  ip -n "$NS_S" addr add "$TUN6_S/64" dev "${mode}s$ID" nodad
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$mode: tunnel did not come up"
  ip netns exec "$NS_S" tcpdump --immediate-mode -i "${mode}s$ID" -U -w "$WORK/far.pcap" \
    "icmp or arp or icmp6" >/dev/null 2>&1 &
  DUMP=$!
  PIDS+=("$DUMP")
  sleep 1
  # Resolved again while the peer is up: the solicitations must not cross either.
  ip -n "$NS_C" -6 neigh flush dev "${mode}c$ID" 2>/dev/null || true
  ping_ok "$NS_C" "$LINK" 5 || fail "$mode: link address not answered with the peer up"
  ping_ok "$NS_C" "$LINK6" 3 || fail "$mode: IPv6 link address not answered with the peer up"
  ping_ok "$NS_C" "$TUN_S" 2 || fail "$mode: far side not reachable"
  ping_ok "$NS_C" "$TUN6_S" 2 || fail "$mode: far side not reachable over IPv6"
  sleep 0.3
  stop_pid "$DUMP"
  crossed=$(tcpdump -r "$WORK/far.pcap" -n 2>/dev/null | grep -c -e "$LINK" -e "$LINK6" || true)
  seen=$(tcpdump -r "$WORK/far.pcap" -n 2>/dev/null | grep -c "ICMP echo request" || true)
  seen6=$(tcpdump -r "$WORK/far.pcap" -n 2>/dev/null | grep -c "ICMP6, echo request" || true)
  [ "$seen" -ge 2 ] || fail "$mode: the capture did not see the far-side pings ($seen)"
  [ "$seen6" -ge 2 ] || fail "$mode: the capture did not see the far-side ping6s ($seen6)"
  [ "$crossed" -eq 0 ] || fail "$mode: $crossed packets for $LINK or $LINK6 crossed the tunnel"
  pass "$mode: $seen + $seen6 far-side pings captured there, none of the $LINK / $LINK6 probes"

  if [ "$mode" = tun ]; then
    step "tun: an MTU raised on the live device becomes the tunnel MTU; the peer is told"
    ip -n "$NS_C" link set "tunc$ID" mtu 1500  # raised on one side only
    wait_until 5 grep -q "MTU changed from 1400 to 1500" "$WORK/client.log" ||
      fail "the client did not follow its device's MTU"
    out=$(ip netns exec "$NS_C" ping -c 2 -i 0.3 -W 2 -M do -s 1422 "$TUN_S" 2>&1) ||
      fail "a 1450-byte DF ping did not cross to the 1400 side: $out"
    grep -q "peer sends packets up to 1450 bytes, above this tunnel's MTU 1400: set the same --mtu on both sides" \
      "$WORK/server.log" || fail "the 1400 side did not say the peer's packets are larger"
    [ "$(grep -c "peer sends packets up to" "$WORK/server.log")" -eq 1 ] || fail "the hint was logged more than once"
    ping_ok "$NS_C" "$TUN_S" 2 || fail "tunnel broken after the large packets"
    pass "tun: 1450-byte DF ping crossed; the 1400 side delivered it and logged the hint once"
  fi
  step "$mode: the peer goes away mid-session"
  kill -9 "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  sleep 0.5
  out=$(ip netns exec "$NS_C" ping -c 2 -i 0.3 -W 1 "$TUN_S" 2>&1 || true)
  grep -q "From $LINK .*Destination Host Unreachable" <<<"$out" \
    || fail "$mode: no host unreachable from $LINK after the peer left: $out"
  ping_ok "$NS_C" "$LINK" 2 || fail "$mode: link address stopped answering"
  out=$(ip netns exec "$NS_C" ping -c 1 -W 1 "$TUN6_S" 2>&1 || true)
  grep -q "From $LINK6 .*Address unreachable" <<<"$out" \
    || fail "$mode: no address unreachable from $LINK6 after the peer left: $out"
  pass "$mode: far side reported unreachable from $LINK and $LINK6 at once; the link address still answers"
  line=$(stats_of "$CLIENT_PID" client)
  link_line=$(grep "link:" "$WORK/client.log" | tail -n 1)
  sed 's/^/   /' <<<"$link_line"
  if [ "$mode" = tap ]; then
    [ "$(counter "$link_line" neighbor-advertisements)" -ge 2 ] \
      || fail "tap: the neighbour advertisements were not counted: $link_line"
  fi
  tunnel_down
done

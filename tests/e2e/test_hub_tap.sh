#!/usr/bin/env bash
# Hub mode, TAP (issue 13): the hub is a learning switch whose ports are its device and
# its peers. Over UDP and TCP, with three clients: every client pings the hub and the
# others; an ARP request from one client (a broadcast) reaches every other client and the
# hub's device; once MACs are learned, a unicast frame goes to its one port only (a third
# client sees none of it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_hub.sh"
require_tools tcpdump
require_hub
N=3
make_hub_underlay $N
make_hub_keys $N

check_pings() {
  hub_mesh "$1" $N
  pass "$1: $N TAP clients ping the hub and each other"
}

# Client 1 asks (ARP) for an address nobody has: the kernel broadcasts its who-has
# (3 tries); clients 2 and 3 and the hub's device must all see every one.
check_flooding() {
  local missing=$HUB_NET4.77 name seen
  start_capture "$NS_S" "$HUB_DEV" hub "arp and arp[24:4] = 0x0a58004d"
  start_capture "${HUB_NS[2]}" "hc$ID-2" c2 "arp and arp[24:4] = 0x0a58004d"
  start_capture "${HUB_NS[3]}" "hc$ID-3" c3 "arp and arp[24:4] = 0x0a58004d"
  captures_ready
  ip netns exec "${HUB_NS[1]}" ping -c 1 -W 3 "$missing" >/dev/null 2>&1 || true
  stop_captures
  for name in hub c2 c3; do
    seen=$(capture_count "$name")
    [ "$seen" -ge 1 ] || fail "$1: client 1's ARP broadcast for $missing did not reach $name"
  done
  pass "$1: an ARP broadcast from client 1 reached the hub and clients 2 and 3"
}

# After the pings above every MAC is learned: client 1's echo requests to client 2 are
# seen by client 2 and not by client 3.
check_unicast() {
  local to2 at3
  start_capture "${HUB_NS[2]}" "hc$ID-2" u2 "icmp and src host $(hub_addr4 1)"
  start_capture "${HUB_NS[3]}" "hc$ID-3" u3 "icmp and src host $(hub_addr4 1)"
  captures_ready
  ping_ok "${HUB_NS[1]}" "$(hub_addr4 2)" 5 || fail "$1: client 1 cannot ping client 2"
  stop_captures
  to2=$(capture_count u2)
  at3=$(capture_count u3)
  [ "$to2" -ge 5 ] || fail "$1: client 2 saw $to2 of client 1's 5 echo requests"
  [ "$at3" -eq 0 ] || fail "$1: client 3 saw $at3 frames of a unicast flow to client 2 (flooded)"
  pass "$1: unicast from client 1 to client 2 reached only client 2"
}

for proto in udp tcp; do
  step "TAP hub over $proto, $N clients"
  hub_up tap "$proto" $N
  check_pings "$proto"
  check_flooding "$proto"
  check_unicast "$proto"
  hub_down $N
done
pass "hub (TAP) over UDP and TCP"

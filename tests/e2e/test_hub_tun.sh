#!/usr/bin/env bash
# Hub mode, TUN (issue 13), over TCP and UDP: one server with a peers directory, four real
# clients in their own namespaces. Each client pings the hub (IPv4 and IPv6) and, through
# the hub's kernel, every other client; a client sending from an address outside its
# allowed-ips is dropped and counted (spoofing); a destination whose peer is configured
# but not connected, or that no peer owns, gets ICMP unreachable (ping says so), not
# silence; a network behind client 1 (in its allowed-ips, outside the hub's --address)
# is reached through the kernel route the hub adds (routes = auto, the default); over UDP
# one client roams (its underlay address changes) and keeps working. First: more peers than
# --max-peers is refused, and a disabled peer file's client gets no session.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_hub.sh"
require_hub
N=4
ABSENT=$HUB_NET4.99  # peer "absent": configured, never connected
NOBODY=$HUB_NET4.250 # no peer's allowed-ips
make_hub_underlay $N
make_hub_keys $N
"$TUND_BIN" genkey >"$WORK/absent.key"
hub_peer_file absent "$WORK/absent.key" "$ABSENT/32"
# Client 1 is a router for 10.99.1.0/24 (10.99.1.1, on its loopback, stands for a host
# of that network).
BEHIND=10.99.1.1
echo "allowed-ips = 10.99.1.0/24" >>"$HUB_PEERS/c1"
ip -n "${HUB_NS[1]}" addr add "$BEHIND/32" dev lo

check_mesh() {
  local i
  hub_mesh "$1" $N
  for ((i = 1; i <= N; i++)); do
    ping_ok "${HUB_NS[$i]}" "$HUB_NET6:1" 2 || fail "$1: client $i cannot ping the hub (IPv6)"
  done
  ping_ok "${HUB_NS[1]}" "$(hub_addr6 2)" 2 || fail "$1: client 1 cannot ping client 2 (IPv6)"
  pass "$1: $N clients ping the hub and each other (IPv4; IPv6 to the hub and 1->2)"
}

check_spoofing() {
  local dev="hc$ID-1" before after
  ip -n "${HUB_NS[1]}" addr add "$HUB_NET4.200/32" dev "$dev"
  before=$(peer_counter "$(hub_peer_line c1)" spoof)
  ip netns exec "${HUB_NS[1]}" ping -c 3 -i 0.2 -W 1 -I "$HUB_NET4.200" "$HUB_NET4.1" >/dev/null 2>&1 &&
    fail "$1: a ping from a spoofed source was answered"
  after=$(peer_counter "$(hub_peer_line c1)" spoof)
  [ -n "$after" ] || fail "$1: no spoofing counter in the hub's line for c1: $(hub_peer_line c1)"
  [ "$after" -ge $((${before:-0} + 3)) ] || fail "$1: spoofed drops went ${before:-0} -> $after, not +3"
  ip -n "${HUB_NS[1]}" addr del "$HUB_NET4.200/32" dev "$dev"
  ping_ok "${HUB_NS[1]}" "$HUB_NET4.1" 2 || fail "$1: client 1 lost its tunnel after spoofing"
  pass "$1: a spoofed source is dropped and counted (spoofed $((after - ${before:-0})))"
}

# The README's nftables rule for client isolation: clients still reach the hub, no longer
# each other (their traffic crosses the hub's kernel: in on the device, out on it).
check_isolation() {
  local table="tund_iso$ID"
  ip netns exec "$NS_S" nft add table inet "$table"
  ip netns exec "$NS_S" nft add chain inet "$table" forward \
    '{ type filter hook forward priority 0; policy accept; }'
  ip netns exec "$NS_S" nft add rule inet "$table" forward iifname "$HUB_DEV" oifname "$HUB_DEV" drop
  ping_ok "${HUB_NS[1]}" "$HUB_NET4.1" 2 || fail "$1: with isolation, client 1 lost the hub"
  ip netns exec "${HUB_NS[1]}" ping -c 2 -i 0.2 -W 1 "$(hub_addr4 2)" >/dev/null 2>&1 &&
    fail "$1: with the isolation rule, client 1 still reaches client 2"
  ip netns exec "$NS_S" nft delete table inet "$table"
  ping_ok "${HUB_NS[1]}" "$(hub_addr4 2)" 2 || fail "$1: without the rule, client 1 lost client 2"
  pass "$1: the README's nftables rule isolates clients from each other, not from the hub"
}

check_unreachable() {
  ping_fails_with "${HUB_NS[2]}" "$ABSENT" "Unreachable" ||
    fail "$1: a ping to a disconnected peer's address got no ICMP unreachable"
  ping_fails_with "$NS_S" "$ABSENT" "Unreachable" ||
    fail "$1: the hub's own ping to a disconnected peer got no ICMP unreachable"
  ping_fails_with "${HUB_NS[2]}" "$NOBODY" "Unreachable" ||
    fail "$1: a ping to an address no peer owns got no ICMP unreachable"
  pass "$1: disconnected peer and unowned address: ICMP unreachable, not silence"
}

check_unreachable6() {
  ping_fails_with "${HUB_NS[2]}" "$HUB_NET6:99" "nreachable" ||
    fail "$1: a ping to an IPv6 address no peer owns got no ICMPv6 unreachable"
  pass "$1: an IPv6 address no peer owns: ICMPv6 unreachable"
}

# routes = auto: the hub has a kernel route for client 1's network; client 2, with a route
# to it through its tunnel, reaches it through the hub too.
check_routes() {
  ip -n "$NS_S" route show 10.99.1.0/24 | quiet_grep "dev $HUB_DEV" ||
    fail "$1: the hub added no route for client 1's 10.99.1.0/24: $(ip -n "$NS_S" route)"
  ping_ok "$NS_S" "$BEHIND" 2 || fail "$1: the hub cannot reach $BEHIND behind client 1"
  ip -n "${HUB_NS[2]}" route replace 10.99.1.0/24 dev "hc$ID-2"
  ping_ok "${HUB_NS[2]}" "$BEHIND" 2 || fail "$1: client 2 cannot reach $BEHIND behind client 1"
  pass "$1: a network behind client 1 is reached (routes = auto)"
}

# Client N's underlay address changes under it (a new Wi-Fi, a NAT rebinding).
check_roaming() {
  local i=$N ns=${HUB_NS[$N]} old new line
  old=$(hub_under "$i")
  new=198.18.0.$((100 + i))
  # Deleted first: deleting a primary address takes the secondaries of its subnet along.
  ip -n "$ns" addr del "$old/24" dev "vh$ID-$i"
  ip -n "$ns" addr add "$new/24" dev "vh$ID-$i"
  wait_until 20 ping_ok "$ns" "$HUB_NET4.1" 1 || fail "$1: the roaming client lost its tunnel"
  ping_ok "${HUB_NS[1]}" "$(hub_addr4 "$i")" 2 || fail "$1: client 1 cannot reach the roamed client"
  line=$(hub_peer_line "c$i")
  grep -q "$new" <<<"$line" || fail "$1: the hub does not show c$i at $new: $line"
  pass "$1: client $i roamed from $old to $new and kept working"
}

# More enabled peer files than --max-peers: a configuration error (status 2) naming it. A
# disabled peer file does not count, and its client gets no session.
check_limits() {
  local status=0 extra
  mapfile -t extra < <(daemon_extra_args)
  ip netns exec "$NS_S" "$TUND_BIN" -s -i "hub$ID" -t udp --private-key "$WORK/hub.key" \
    --peers-dir "$HUB_PEERS" --address "$HUB_NET4.1/24" --max-peers 2 "${extra[@]}" \
    >"$WORK/limit.log" 2>&1 ||
    status=$?
  [ $status -eq 2 ] || fail "5 peers with --max-peers 2: status $status, not 2"
  grep -q -- "--max-peers" "$WORK/limit.log" || fail "the refusal does not name --max-peers: $(cat "$WORK/limit.log")"
  echo "disabled = true" >>"$HUB_PEERS/c$N"
  start_hub tun udp --max-peers 4
  for ((i = 1; i <= N; i++)); do start_hub_client "$i" tun udp; done
  wait_until 20 hub_clients_up $((N - 1)) || fail "the enabled clients did not come up"
  sleep 2
  ping_ok "$NS_S" "$(hub_addr4 $N)" 1 && fail "the client of a disabled peer file got a session"
  sed -i '/^disabled/d' "$HUB_PEERS/c$N"
  hub_down $N
  pass "more peers than --max-peers refused (status 2); a disabled peer file's client stays out"
}
check_limits

for proto in udp tcp; do
  step "hub over $proto, $N clients"
  hub_up tun "$proto" $N
  check_mesh "$proto"
  check_spoofing "$proto"
  check_isolation "$proto"
  check_unreachable "$proto"
  [ "$proto" = udp ] && check_roaming "$proto"
  check_routes "$proto"
  check_unreachable6 "$proto"
  hub_down $N
  ip -n "$NS_S" route show 10.99.1.0/24 | quiet_grep . && fail "$proto: the hub left its route behind"
  # The roamed client gets its first address back for the next round (the roamed one
  # deleted first: it would take a secondary of its subnet along).
  ip -n "${HUB_NS[$N]}" addr del "198.18.0.$((100 + N))/24" dev "vh$ID-$N" 2>/dev/null || true
  ip -n "${HUB_NS[$N]}" addr replace "$(hub_under "$N")/24" dev "vh$ID-$N"
done
pass "hub (TUN) over UDP and TCP"

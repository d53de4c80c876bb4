#!/usr/bin/env bash
# HOST as an IPv6 literal and as a name; the server's default dual-stack listener and
# --listen limiting it to one address. (Names resolve through /etc/netns/NS/hosts, which
# `ip netns exec` mounts over /etc/hosts: no DNS query leaves the machine.)
# And the tunnel's own addressing: dual-stack --address/--peer set by tund, TUN and TAP.
. "$(dirname "$0")/lib.sh"
make_underlay
UNDER6_S=2001:db8:77::1
UNDER6_C=2001:db8:77::2
ip -n "$NS_S" addr add "$UNDER6_S/64" dev "vs$ID" nodad
ip -n "$NS_C" addr add "$UNDER6_C/64" dev "vc$ID" nodad
netns_etc "$NS_C" hosts "$UNDER_S tund-server.test"
netns_etc "$NS_C" resolv.conf "nameserver 127.0.0.1"

# connect_with HOST PROTO [server args]: server + client, ping, tear down.
connect_with() {
  local host=$1 proto=$2
  shift 2
  start_tund "$NS_S" server -s -i "tuns$ID" -t "$proto" "$@"
  SERVER_PID=$LAST_PID
  start_tund "$NS_C" client -c "$host" -i "tunc$ID" -t "$proto"
  CLIENT_PID=$LAST_PID
  configure_link "$NS_S" "tuns$ID" "$TUN_S" "$TUN_C" tun
  configure_link "$NS_C" "tunc$ID" "$TUN_C" "$TUN_S" tun
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto via $host: no ping"
  ping_ok "$NS_S" "$TUN_C" 3 || fail "$proto via $host: server -> client ping lost"
  tunnel_down
}

for proto in tcp udp; do
  step "$proto: IPv6 underlay, server on the dual-stack default"
  connect_with "$UNDER6_S" "$proto"
  grep -q "\[$UNDER6_C\]" "$WORK/server.log" || fail "$proto: server did not see an IPv6 client"
  pass "$proto: client reached the server at [$UNDER6_S]"
  step "$proto: IPv4 client on the same dual-stack server"
  connect_with "$UNDER_S" "$proto"
  grep -q "$UNDER_C:" "$WORK/server.log" || fail "$proto: IPv4 client not shown as IPv4"
  pass "$proto: IPv4 client, shown as $UNDER_C"
done

step "HOST as a name"
connect_with tund-server.test tcp
pass "tund-server.test resolved and connected"

step "--listen limits the server to one address"
connect_with "$UNDER_S" tcp --listen "$UNDER_S"
start_tund "$NS_S" server -s -i "tuns$ID" --listen "$UNDER_S"
SERVER_PID=$LAST_PID
wait_until 5 grep -q "listening on $UNDER_S:55555" "$WORK/server.log" || fail "not listening on $UNDER_S"
if ip netns exec "$NS_C" bash -c "exec 3<>/dev/tcp/$UNDER6_S/55555" 2>/dev/null; then
  fail "--listen $UNDER_S still accepted a connection on $UNDER6_S"
fi
stop_pid "$SERVER_PID"
pass "--listen $UNDER_S: reachable there, refused on [$UNDER6_S]"

step "dual stack: --address and --peer of both families on both sides (issue 15)"
# Point to point for each family (IPv4 /32 and IPv6 /128 with --peer) and an IPv6 /64
# without one: tund sets every address itself, in order, and both families cross.
dual_stack() {  # dual_stack NS IFACE LOCAL_SUFFIX PEER_SUFFIX [tund args]
  local ns=$1 dev=$2 me=$3 other=$4
  shift 4
  start_tund "$ns" "$dev" -i "$dev" "$@" --address "10.77.0.$me/32" --peer "10.77.0.$other" \
    --address "fd77::$me/128" --peer "fd77::$other" --address "fd78::$me/64"
}
dual_stack "$NS_S" "tuns$ID" 1 2 -s
SERVER_PID=$LAST_PID
dual_stack "$NS_C" "tunc$ID" 2 1 -c "$UNDER_S"
CLIENT_PID=$LAST_PID
wait_until 10 ping_ok "$NS_C" 10.77.0.1 1 || fail "dual stack: no IPv4 ping"
for target in fd77::1 fd78::1; do
  ping_ok "$NS_C" "$target" 2 || fail "dual stack: no ping6 to $target"
done
ping_ok "$NS_S" fd77::2 2 || fail "dual stack: server -> client ping6 lost"
addrs=$(ip -n "$NS_S" addr show dev "tuns$ID")
for want in "inet 10.77.0.1 peer 10.77.0.2/32" "inet6 fd77::1 peer fd77::2/128" "inet6 fd78::1/64"; do
  grep -q "$want" <<<"$addrs" || fail "dual stack: '$want' missing from ip addr: $addrs"
done
tunnel_down
pass "dual stack: IPv4 and IPv6 (with and without --peer) set by tund and pinged across"

step "dual stack on TAP: an IPv4 /24 (with its broadcast) and an IPv6 /64 on one Ethernet link"
start_tund "$NS_S" taps -s -a -i "taps$ID" --address 10.78.0.1/24 --address fd79::1/64
SERVER_PID=$LAST_PID
start_tund "$NS_C" tapc -c "$UNDER_S" -a -i "tapc$ID" --address fd79::2/64 --address 10.78.0.2/24
CLIENT_PID=$LAST_PID
# The kernel's duplicate address detection keeps the IPv6 address tentative for a moment.
wait_until 10 ping_ok "$NS_C" fd79::1 1 || fail "TAP dual stack: no ping6"
ping_ok "$NS_C" 10.78.0.1 2 || fail "TAP dual stack: no IPv4 ping"
ip -n "$NS_S" addr show dev "taps$ID" | quiet_grep "inet 10.78.0.1/24 brd 10.78.0.255" ||
  fail "TAP dual stack: no broadcast address on the IPv4 subnet: $(ip -n "$NS_S" addr show dev "taps$ID")"
tunnel_down
pass "TAP dual stack: both families across the Ethernet link, IPv4 broadcast set"

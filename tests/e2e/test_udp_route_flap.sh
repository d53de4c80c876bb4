#!/usr/bin/env bash
# A UDP client whose route comes and goes behaves like the TCP client: it starts without a
# route and keeps retrying; it carries traffic again within 5 s after its address and
# route come back, however long they were gone (5 s plaintext, 30 s encrypted); it logs
# one line per change of state, not one per packet; and when the server's name has an
# AAAA and an A record but only IPv4 answers, it moves on to the IPv4 address.
. "$(dirname "$0")/lib.sh"
make_underlay
make_keys
VC="vc$ID"

# lines_about_route LOG: log lines a route problem can cause (per packet in the old tund).
lines_about_route() {
  grep -c "route\|reach\|sending from\|re-connected\|address required\|unreachable\|failed" "$1" || true
}

step "client started while it has no address and no route"
ip -n "$NS_C" addr del "$UNDER_C/24" dev "$VC"
start_tund "$NS_S" server -s -i "tuns$ID" -u -t udp
SERVER_PID=$LAST_PID
start_tund "$NS_C" client -c "$UNDER_S" -i "tunc$ID" -u -t udp
CLIENT_PID=$LAST_PID
configure_link "$NS_S" "tuns$ID" "$TUN_S" "$TUN_C" tun
configure_link "$NS_C" "tunc$ID" "$TUN_C" "$TUN_S" tun
sleep 3
kill -0 "$CLIENT_PID" 2>/dev/null || fail "the client exited without a route"
ip -n "$NS_C" addr add "$UNDER_C/24" dev "$VC"
back=$SECONDS
wait_until 5 ping_ok "$NS_C" "$TUN_S" 1 || fail "no ping within 5 s of the route appearing"
pass "started without a route; ping works $((SECONDS - back)) s after the route appeared"

# outage SECONDS MODE: the client's underlay address (and so its route) vanishes for
# SECONDS while pings keep trying; then ping must work within 5 s.
outage() {
  local gone=$1 mode=$2 before after
  before=$(lines_about_route "$WORK/client.log")
  ip -n "$NS_C" addr del "$UNDER_C/24" dev "$VC"
  # Traffic into the tunnel all along: 20 packets a second that cannot leave.
  ip netns exec "$NS_C" ping -q -i 0.05 -w "$gone" "$TUN_S" >/dev/null 2>&1 &
  PIDS+=("$!")
  sleep "$gone"
  ip -n "$NS_C" addr add "$UNDER_C/24" dev "$VC"
  back=$SECONDS
  wait_until 5 ping_ok "$NS_C" "$TUN_S" 1 || fail "$mode: no ping within 5 s after a $gone s outage"
  after=$(lines_about_route "$WORK/client.log")
  [ $((after - before)) -le 4 ] ||
    fail "$mode: $((after - before)) log lines about one $gone s outage (one per change expected)"
  pass "$mode: ping back $((SECONDS - back)) s after a $gone s outage; $((after - before)) log lines"
}

step "plaintext: address and route gone for 5 s"
outage 5 plaintext
tunnel_down

step "encrypted: address and route gone for 30 s"
secure_tunnel_up tun udp
wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "encrypted tunnel did not come up"
outage 30 encrypted
tunnel_down

step "name with AAAA and A records; the server answers on IPv4 only"
# The client has an IPv6 address on the link, so the AAAA address (owned by nobody) is
# routable and tried first (gai.conf puts IPv6 first), but never answers.
ip -n "$NS_C" addr add fd00:dead::2/64 dev "$VC" nodad
netns_etc "$NS_C" hosts "$(printf 'fd00:dead::1 vpn.test\n%s vpn.test' "$UNDER_S")"
netns_etc "$NS_C" gai.conf "precedence ::/0 100"
for mode in plain encrypted; do
  keys_s=() keys_c=()
  if [ $mode = encrypted ]; then
    keys_s=(--private-key "$WORK/server.key" --allow "$WORK/client.pub")
    keys_c=(--private-key "$WORK/client.key" --peer-key "$(cat "$WORK/server.pub")")
  fi
  start_tund "$NS_S" server -s -i "tuns$ID" -u -t udp "${keys_s[@]}"
  SERVER_PID=$LAST_PID
  start_tund "$NS_C" client-$mode -c vpn.test -i "tunc$ID" -u -t udp "${keys_c[@]}"
  CLIENT_PID=$LAST_PID
  configure_link "$NS_S" "tuns$ID" "$TUN_S" "$TUN_C" tun
  configure_link "$NS_C" "tunc$ID" "$TUN_C" "$TUN_S" tun
  started=$SECONDS
  wait_until 12 ping_ok "$NS_C" "$TUN_S" 1 || fail "$mode: the client never moved on to the IPv4 address"
  grep -q "fd00:dead::1" "$WORK/client-$mode.log" || fail "$mode: the IPv6 address was not tried first"
  tunnel_down
  pass "$mode: through on IPv4 $((SECONDS - started)) s after start"
done

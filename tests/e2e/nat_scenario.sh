# shellcheck shell=bash
# The shipped example configs and scripts, end to end, in three namespaces:
#   client  --tunnel over 198.18.0.0/24-->  server  --NAT out of eth0-->  "internet"
# (198.19.0.2 and fd00:19::2). Sourced after lib.sh; the package test calls it with the
# installed paths:
#   nat_scenario /usr/sbin/tund /usr/share/doc/tund/examples /usr/libexec/tund
# CONFIG_DIR holds server.conf and client.conf exactly as installed (their up/down lines
# name SCRIPTS_DIR). The configs run unchanged: the namespaces supply what they expect
# (the server at 198.18.0.1, its uplink named eth0; interface names are per namespace).
# Other addressings (point-to-point, IPv6) override only --address/--peer (and the
# client's ROUTES for IPv6) on the command line.

# nat_scenario TUND CONFIG_DIR SCRIPTS_DIR
nat_scenario() {
  TUND_BIN=$1  # used by start_tund (lib.sh)
  NS_CONFIGS=$2
  NS_SCRIPTS=$3
  local f
  for f in server.conf client.conf; do
    [ -r "$NS_CONFIGS/$f" ] || fail "no $NS_CONFIGS/$f"
    grep -c "$NS_SCRIPTS/" "$NS_CONFIGS/$f" >/dev/null || fail "$f does not use $NS_SCRIPTS"
  done
  nat_setup
  nat_shipped_subnet
  nat_idempotent
  nat_down_hooks
  nat_point_to_point
  nat_ipv6
  nat_full_tunnel
}

# The underlay (lib.sh) plus the internet namespace behind the server's eth0, with a
# listener that answers with the address a connection came from.
nat_setup() {
  make_underlay
  NET="tundi$ID"
  EXTRA_NS+=("$NET")
  ip netns add "$NET"
  ip link add "vn$ID" netns "$NS_S" type veth peer name "vi$ID" netns "$NET"
  ip -n "$NS_S" link set "vn$ID" name eth0
  ip -n "$NS_S" addr add 198.19.0.1/24 dev eth0
  ip -n "$NS_S" addr add fd00:19::1/64 dev eth0 nodad
  ip -n "$NET" addr add 198.19.0.2/24 dev "vi$ID"
  ip -n "$NET" addr add fd00:19::2/64 dev "vi$ID" nodad
  ip -n "$NS_S" link set eth0 up
  ip -n "$NET" link set "vi$ID" up
  ip -n "$NET" link set lo up
  ip netns exec "$NET" socat TCP4-LISTEN:7000,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR' &
  PIDS+=($!)
  ip netns exec "$NET" socat TCP6-LISTEN:7006,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR' &
  PIDS+=($!)
  wait_until 5 listening "$NET" 7000 || fail "the internet listener did not start"
  wait_until 5 listening "$NET" 7006 || fail "the internet IPv6 listener did not start"
}

# nat_pair NAME [server args] -- [client args]: the example configs plus overrides.
nat_pair() {
  local name=$1 server_args=() client_args=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do server_args+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  client_args=("$@")
  start_tund "$NS_S" "$name-server" --config "$NS_CONFIGS/server.conf" "${server_args[@]}"
  SERVER_PID=$LAST_PID
  start_tund "$NS_C" "$name-client" --config "$NS_CONFIGS/client.conf" "${client_args[@]}"
  CLIENT_PID=$LAST_PID
}

# seen_from NS HOST PORT: the source address the internet host saw.
seen_from() {
  ip netns exec "$1" socat -T 5 - "TCP:$2:$3" </dev/null
}

nat_shipped_subnet() {
  step "the example configs as shipped (10.0.0.1/24, 10.0.0.2/24): link addresses, NAT"
  nat_pair shipped
  wait_until 10 ping_ok "$NS_C" 10.0.0.1 1 || fail "the tunnel of the example configs did not come up"
  ping_ok "$NS_S" 10.0.0.254 || fail "the server's link address 10.0.0.254 does not answer"
  ping_ok "$NS_C" 10.0.0.253 || fail "the client's link address 10.0.0.253 does not answer"
  ping_ok "$NS_S" 10.0.0.2 || fail "the server cannot reach the client"
  grep -c "running up hook" "$WORK/shipped-server.log" >/dev/null || fail "server up hook did not run"
  ip netns exec "$NS_S" nft list table inet tund_tun3 | grep -c "ip saddr 10.0.0.0/24 .*masquerade" \
    >/dev/null || fail "no masquerade of the tunnel's subnet"
  local seen
  seen=$(seen_from "$NS_C" 198.19.0.2 7000)
  [ "$seen" = "198.19.0.1" ] || fail "internet saw '$seen', not the server's address 198.19.0.1"
  pass "link addresses answer; client reached 198.19.0.2 through the tunnel, NATed to 198.19.0.1"
}

# server_env / client_env: what tund gives the hooks in the shipped configs.
server_env() {
  ip netns exec "$NS_S" env TUND_IFACE=tun3 TUND_LOCAL_ADDR=10.0.0.1 TUND_PREFIX=24 \
    TUND_PEER_ADDR= NAT_IFACE=eth0 "$@"
}

nat_idempotent() {
  step "the scripts run again by hand: the same state"
  local before after
  before=$(ip netns exec "$NS_S" nft list table inet tund_tun3)
  server_env sh "$NS_SCRIPTS/server-up.sh"
  server_env sh "$NS_SCRIPTS/server-up.sh"
  after=$(ip netns exec "$NS_S" nft list table inet tund_tun3)
  [ "$before" = "$after" ] || fail "running server-up.sh again changed the rules"
  for _ in 1 2; do
    ip netns exec "$NS_C" env TUND_IFACE=tun11 TUND_LOCAL_ADDR=10.0.0.2 TUND_PREFIX=24 \
      TUND_PEER_ADDR= ROUTES=198.19.0.0/24 sh "$NS_SCRIPTS/client-up.sh"
  done
  [ "$(ip -n "$NS_C" -4 addr show tun11 | grep -c inet)" -eq 1 ] || fail "address added twice"
  [ "$(ip -n "$NS_S" -4 addr show tun3 | grep -c inet)" -eq 1 ] || fail "server address added twice"
  ping_ok "$NS_C" 198.19.0.2 2 || fail "routing broken after re-running the scripts"
  pass "server-up.sh and client-up.sh twice more: one address each, same rules, still routed"
}

nat_down_hooks() {
  step "shutdown runs the down hooks, which undo the up hooks"
  stop_pid "$CLIENT_PID"
  stop_pid "$SERVER_PID"
  grep -c "running down hook" "$WORK/shipped-server.log" >/dev/null || fail "server down hook did not run"
  if ip netns exec "$NS_S" nft list table inet tund_tun3 >/dev/null 2>&1; then
    fail "the NAT table is still there after server-down.sh"
  fi
  ip -n "$NS_C" route | grep -c "198.19.0.0/24" >/dev/null && fail "the client route is left"
  pass "server-down.sh removed the NAT table; no route left on the client"
}

nat_point_to_point() {
  step "point-to-point addressing (/32 + peer): the same scripts"
  nat_pair p2p --address 10.0.0.1/32 --peer 10.0.0.2 -- --address 10.0.0.2/32 --peer 10.0.0.1
  wait_until 10 ping_ok "$NS_C" 10.0.0.1 1 || fail "the point-to-point tunnel did not come up"
  ip netns exec "$NS_S" nft list table inet tund_tun3 | grep -c "ip saddr 10.0.0.2 .*masquerade" \
    >/dev/null || fail "no masquerade of the peer's address"
  local seen
  seen=$(seen_from "$NS_C" 198.19.0.2 7000)
  [ "$seen" = "198.19.0.1" ] || fail "point-to-point: internet saw '$seen'"
  stop_pid "$CLIENT_PID"
  stop_pid "$SERVER_PID"
  pass "point-to-point: client reached the internet host through the tunnel and NAT"
}

nat_ipv6() {
  step "IPv6 addressing (fd00::1/64, fd00::2/64): routes and NAT66"
  local routes='ROUTES="fd00:19::/64"'
  nat_pair v6 --address fd00::1/64 -- --address fd00::2/64 \
    --up "$routes $NS_SCRIPTS/client-up.sh" --down "$routes $NS_SCRIPTS/client-down.sh"
  wait_until 10 ping_ok "$NS_C" fd00::1 1 || fail "the IPv6 tunnel did not come up"
  ip netns exec "$NS_S" nft list table inet tund_tun3 | grep -c "ip6 saddr fd00::/64 .*masquerade" \
    >/dev/null || fail "no masquerade of the IPv6 subnet"
  local seen
  seen=$(seen_from "$NS_C" "[fd00:19::2]" 7006)
  # socat writes IPv6 addresses in full.
  [ "$seen" = "[fd00:0019:0000:0000:0000:0000:0000:0001]" ] ||
    fail "IPv6: internet saw '$seen', not the server's fd00:19::1"
  stop_pid "$CLIENT_PID"
  stop_pid "$SERVER_PID"
  if ip netns exec "$NS_S" nft list table inet tund_tun3 >/dev/null 2>&1; then
    fail "IPv6: the NAT table is still there"
  fi
  pass "IPv6: client reached fd00:19::2 through the tunnel, NATed to fd00:19::1; cleaned up"
}

nat_full_tunnel() {
  step "full-tunnel mode (FULL_TUNNEL=yes instead of ROUTES)"
  local full='FULL_TUNNEL=yes'
  nat_pair full -- --up "$full $NS_SCRIPTS/client-up.sh" --down "$full $NS_SCRIPTS/client-down.sh"
  wait_until 10 ping_ok "$NS_C" 10.0.0.1 1 || fail "full-tunnel client did not come up"
  ip -n "$NS_C" route | grep -c "^0.0.0.0/1 dev tun11" >/dev/null || fail "no 0.0.0.0/1 route"
  ip -n "$NS_C" route | grep -c "^$UNDER_S dev" >/dev/null || fail "no host route keeping the server outside"
  local seen
  seen=$(seen_from "$NS_C" 198.19.0.2 7000)
  [ "$seen" = "198.19.0.1" ] || fail "full tunnel: internet saw '$seen'"
  ping_ok "$NS_C" "$UNDER_S" 2 || fail "full tunnel: the server's own address became unreachable"
  ping_ok "$NS_C" 10.0.0.1 3 || fail "full tunnel: the tunnel stopped working"
  stop_pid "$CLIENT_PID"
  ip -n "$NS_C" route | grep -c "^$UNDER_S dev" >/dev/null && fail "client-down.sh left the host route"
  stop_pid "$SERVER_PID"
  pass "full tunnel: internet reached with no route of its own, server kept outside, cleaned up"

  step "full-tunnel mode over an IPv6 tunnel: ::/1 and 8000::/1 through it"
  nat_pair full6 --address fd00::1/64 -- --address fd00::2/64 \
    --up "$full $NS_SCRIPTS/client-up.sh" --down "$full $NS_SCRIPTS/client-down.sh"
  wait_until 10 ping_ok "$NS_C" fd00::1 1 || fail "IPv6 full-tunnel client did not come up"
  ip -n "$NS_C" -6 route | grep -c "^::/1 dev tun11" >/dev/null || fail "no ::/1 route"
  seen=$(seen_from "$NS_C" "[fd00:19::2]" 7006)
  [ "$seen" = "[fd00:0019:0000:0000:0000:0000:0000:0001]" ] || fail "IPv6 full tunnel: internet saw '$seen'"
  ping_ok "$NS_C" "$UNDER_S" 2 || fail "IPv6 full tunnel: the server (IPv4) became unreachable"
  stop_pid "$CLIENT_PID"
  ip -n "$NS_C" -6 route | grep -c "^::/1" >/dev/null && fail "client-down.sh left ::/1"
  stop_pid "$SERVER_PID"
  pass "IPv6 full tunnel: fd00:19::2 reached with no route of its own, IPv4 server untouched"
}

# shellcheck shell=bash
# The shipped example configs and scripts, end to end, in three namespaces:
#   client  --tunnel over 198.18.0.0/24 (fd00:18::/64)-->  server  --NAT out of eth0-->
#   "internet" (198.19.0.2 and fd00:19::2)
# Sourced after lib.sh; the package test calls it with the installed paths:
#   nat_scenario /usr/sbin/tund /usr/share/doc/tund/examples /usr/libexec/tund
# CONFIG_DIR holds server.conf and client.conf exactly as installed (their up/down lines
# name SCRIPTS_DIR). The configs run unchanged: the namespaces supply what they expect
# (the server at 198.18.0.1, its uplink named eth0; interface names are per namespace).
# Other addressings (point-to-point, IPv6, dual stack) override only --address/--peer or
# the hooks' settings on the command line. Dual stack both ways: tund's two --address
# (the hooks get TUND_LOCAL_ADDR6 from tund), and in the full-tunnel steps the second
# family given to the scripts by hand (TUND_LOCAL_ADDR6 in the hook command).
# The client also has an IPv6 route to the internet host around the tunnel (via the
# server's underlay address, which forwards): the path a full tunnel must not leak to.

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
  nat_dual_stack
  nat_full_tunnel
  nat_full_tunnel6
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
  # IPv6 on the underlay too, the server's names for the client (both families), and the
  # way around the tunnel: client -> server's underlay address -> internet, and back.
  ip -n "$NS_S" addr add fd00:18::1/64 dev "vs$ID" nodad
  ip -n "$NS_C" addr add fd00:18::2/64 dev "vc$ID" nodad
  netns_etc "$NS_C" hosts "$UNDER_S tund-server
fd00:18::1 tund-server"
  ip -n "$NS_C" -6 route add default via fd00:18::1
  ip netns exec "$NS_S" sysctl -q -w net.ipv6.conf.all.forwarding=1
  ip -n "$NET" -6 route add fd00:18::/64 via fd00:19::1
  # For NAT6=no: the tunnel's IPv6 prefix routed to the server, as a provider would.
  ip -n "$NET" -6 route add fd00::/64 via fd00:19::1
  # (The link-local addresses' DAD, which routers' neighbour discovery needs, takes ~2 s.)
  wait_until 5 ping_ok "$NS_C" fd00:19::2 1 || fail "no IPv6 path around the tunnel to the internet host"
}

# tunnel_ping6 ADDR: the client reaches the server's tunnel address ADDR through the
# tunnel (not around it by the IPv6 default route, which leads to the server too).
tunnel_ping6() {
  ip -n "$NS_C" -6 route get "$1" | grep -c "dev tun11" >/dev/null && ping_ok "$NS_C" "$1" 1
}

# server_nat PATTERN: the server's table has a rule matching PATTERN (its up hook may
# still be running when the tunnel already works: callers wait for it).
server_nat() {
  ip netns exec "$NS_S" nft list table inet tund_tun3 2>/dev/null | grep -c -e "$1" >/dev/null
}

# client_route ROUTE: the client has it (ip -6 route when ROUTE holds a ':'). (grep -c,
# not -q: -q stops reading at the first match, and under pipefail the writer's SIGPIPE
# would make a found route look missing.)
client_route() {
  case $1 in *:*) ip -n "$NS_C" -6 route ;; *) ip -n "$NS_C" route ;; esac | grep -c "^$1" >/dev/null
}

# no_tund_rules NS: nft has no table of the scripts in NS.
no_tund_rules() {
  [ -z "$(ip netns exec "$1" nft list tables | grep tund_)" ]
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

# The second family as the scripts take it by hand.
SIX_S='TUND_LOCAL_ADDR6=fd00::1 TUND_PREFIX6=64'
SIX_C='TUND_LOCAL_ADDR6=fd00::2 TUND_PREFIX6=64'
V6_SERVER='[fd00:0019:0000:0000:0000:0000:0000:0001]'  # as socat writes it
V6_CLIENT='[fd00:0000:0000:0000:0000:0000:0000:0002]'

nat_dual_stack() {
  step "dual stack (--address 10.0.0.x/24 --address fd00::x/64): NAT44 and NAT66 at once, one table"
  local routes='ROUTES="198.19.0.0/24 fd00:19::/64"' seen table
  # The server's hooks as shipped: they get the IPv6 address from tund (TUND_LOCAL_ADDR6).
  nat_pair dual --address 10.0.0.1/24 --address fd00::1/64 -- \
    --address 10.0.0.2/24 --address fd00::2/64 \
    --up "$routes $NS_SCRIPTS/client-up.sh" --down "$routes $NS_SCRIPTS/client-down.sh"
  wait_until 10 tunnel_ping6 fd00::1 || fail "dual stack: IPv6 through the tunnel did not come up"
  ping_ok "$NS_C" 10.0.0.1 1 || fail "dual stack: IPv4 through the tunnel broken"
  wait_until 5 server_nat "ip6 saddr fd00::/64 .*masquerade" || fail "no NAT66 rule"
  wait_until 5 client_route "fd00:19::/64 dev tun11" || fail "no IPv6 route of ROUTES"
  [ "$(ip netns exec "$NS_S" nft list tables | grep -c tund_)" -eq 1 ] ||
    fail "not one table: $(ip netns exec "$NS_S" nft list tables)"
  table=$(ip netns exec "$NS_S" nft list table inet tund_tun3)
  grep -c "ip saddr 10.0.0.0/24 .*masquerade" <<<"$table" >/dev/null || fail "no NAT44: $table"
  grep -c "ip6 saddr fd00::/64 .*masquerade" <<<"$table" >/dev/null || fail "no NAT66: $table"
  seen=$(seen_from "$NS_C" 198.19.0.2 7000)
  [ "$seen" = 198.19.0.1 ] || fail "dual stack: internet saw '$seen', not 198.19.0.1"
  seen=$(seen_from "$NS_C" "[fd00:19::2]" 7006)
  [ "$seen" = "$V6_SERVER" ] || fail "dual stack: internet saw '$seen', not fd00:19::1"
  pass "dual stack: the internet host saw the server's 198.19.0.1 and fd00:19::1 (NAT44, NAT66)"

  step "NAT6=no: IPv6 routed, not masqueraded (IPv4 still is)"
  server_env $SIX_S NAT6=no sh "$NS_SCRIPTS/server-up.sh"
  table=$(ip netns exec "$NS_S" nft list table inet tund_tun3)
  grep -c "ip6 saddr .*masquerade" <<<"$table" >/dev/null && fail "NAT6=no: still a NAT66 rule: $table"
  seen=$(seen_from "$NS_C" "[fd00:19::2]" 7006)
  [ "$seen" = "$V6_CLIENT" ] || fail "NAT6=no: internet saw '$seen', not the client's fd00::2"
  seen=$(seen_from "$NS_C" 198.19.0.2 7000)
  [ "$seen" = 198.19.0.1 ] || fail "NAT6=no: IPv4 not masqueraded any more: '$seen'"
  pass "NAT6=no: the internet host saw the client's fd00::2; IPv4 still NATed"

  step "dual stack undone: client-down.sh by hand, server-down.sh as the down hook"
  ip netns exec "$NS_C" env TUND_IFACE=tun11 ROUTES="198.19.0.0/24 fd00:19::/64" \
    sh "$NS_SCRIPTS/client-down.sh"
  ip -n "$NS_C" route | grep -c "^198.19.0.0/24" >/dev/null && fail "client-down.sh left the IPv4 route"
  ip -n "$NS_C" -6 route | grep -c "^fd00:19::/64 dev tun11" >/dev/null &&
    fail "client-down.sh left the IPv6 route"
  stop_pid "$CLIENT_PID"
  stop_pid "$SERVER_PID"
  no_tund_rules "$NS_S" || fail "server-down.sh left $(ip netns exec "$NS_S" nft list tables)"
  pass "no route of ROUTES left on the client (device still there), no table on the server"
}

# capture NAME: tcpdump on the client's underlay of the IPv6 packets to the internet host
# and of the tunnel's own packets (which show the capture saw traffic); DUMP is its PID.
capture() {
  ip netns exec "$NS_C" tcpdump --immediate-mode -i "vc$ID" -U -n -w "$WORK/$1.pcap" \
    "(ip6 and dst host fd00:19::2) or udp port 55555" 2>"$WORK/$1.tcpdump" &
  DUMP=$!
  PIDS+=("$DUMP")
  wait_until 5 grep -q "listening on" "$WORK/$1.tcpdump" || fail "tcpdump did not start"
}

# no_leak NAME: after capture NAME, no IPv6 packet to the internet host crossed the
# underlay outside the tunnel, and the tunnel's own packets did.
no_leak() {
  sleep 0.2
  stop_pid "$DUMP"
  local packets leaked tunnel
  packets=$(tcpdump -r "$WORK/$1.pcap" -n 2>/dev/null)
  leaked=$(grep -c "> fd00:19::2" <<<"$packets" || true)
  tunnel=$(grep -c "UDP" <<<"$packets" || true)
  [ "$leaked" -eq 0 ] || fail "$1: $leaked IPv6 packets to fd00:19::2 outside the tunnel"
  [ "$tunnel" -gt 0 ] || fail "$1: the capture saw no tunnel packet either"
}

# full_routes [gone]: the full tunnel's routes are all on the client (with "gone": none
# of them is); else status 1 and what is wrong in WRONG.
full_routes() {
  local want
  for want in "0.0.0.0/1 dev tun11" "128.0.0.0/1 dev tun11" "::/1 dev tun11" \
    "8000::/1 dev tun11" "$UNDER_S dev vc$ID" "fd00:18::1 dev vc$ID"; do
    if [ "${1:-}" = gone ]; then
      WRONG="left behind: $want"
      ! client_route "$want" || return 1
    else
      WRONG="no route $want: $(ip -n "$NS_C" route; ip -n "$NS_C" -6 route)"
      client_route "$want" || return 1
    fi
  done
}

nat_full_tunnel() {
  step "full tunnel (FULL_TUNNEL=yes), dual stack, server named (IPv4 and IPv6 address)"
  local full='TUND_REMOTE=tund-server FULL_TUNNEL=yes' seen
  nat_pair full --up "$SIX_S NAT_IFACE=eth0 $NS_SCRIPTS/server-up.sh" -- \
    --up "$SIX_C $full $NS_SCRIPTS/client-up.sh" --down "$full $NS_SCRIPTS/client-down.sh"
  wait_until 10 tunnel_ping6 fd00::1 || fail "full-tunnel client did not come up"
  wait_until 5 full_routes || fail "$WRONG"
  wait_until 5 server_nat "ip6 saddr fd00::/64 .*masquerade" || fail "no NAT66 rule"
  capture full
  seen=$(seen_from "$NS_C" 198.19.0.2 7000)
  [ "$seen" = 198.19.0.1 ] || fail "full tunnel: internet saw '$seen'"
  seen=$(seen_from "$NS_C" "[fd00:19::2]" 7006)
  [ "$seen" = "$V6_SERVER" ] || fail "full tunnel: internet saw '$seen', not the server's fd00:19::1"
  no_leak full
  ping_ok "$NS_C" "$UNDER_S" 1 || fail "full tunnel: the server's IPv4 address became unreachable"
  ping_ok "$NS_C" fd00:18::1 1 || fail "full tunnel: the server's IPv6 address became unreachable"
  pass "full tunnel: both families reach the internet through the tunnel (NATed), no IPv6 packet to it on the underlay, both server addresses kept outside"

  step "full tunnel with an IPv4-only tunnel: IPv6 still into the tunnel, not around it"
  ip netns exec "$NS_C" env TUND_IFACE=tun11 $full sh "$NS_SCRIPTS/client-down.sh"
  full_routes gone || fail "client-down.sh: $WRONG"
  ip -n "$NS_C" -6 addr flush dev tun11 scope global
  ip netns exec "$NS_C" env TUND_IFACE=tun11 TUND_LOCAL_ADDR=10.0.0.2 TUND_PREFIX=24 $full \
    sh "$NS_SCRIPTS/client-up.sh"
  full_routes || fail "IPv4-only tunnel: $WRONG"
  ip -n "$NS_C" -6 route get fd00:19::2 | grep -c "dev tun11" >/dev/null ||
    fail "IPv6 to the internet host does not go into the tunnel"
  capture full4
  # Into the tunnel its source is the client's underlay address (it has no IPv6 tunnel
  # address): the server must not forward that out of its uplink unmasqueraded.
  ip netns exec "$NET" tcpdump --immediate-mode -i "vi$ID" -U -n -w "$WORK/uplink4.pcap" \
    "ip6 and dst host fd00:19::2" 2>"$WORK/uplink4.tcpdump" &
  local uplink=$!
  PIDS+=("$uplink")
  wait_until 5 grep -q "listening on" "$WORK/uplink4.tcpdump" || fail "tcpdump did not start"
  ip netns exec "$NS_C" ping -c 2 -i 0.2 -W 1 fd00:19::2 >/dev/null 2>&1 || true
  no_leak full4
  stop_pid "$uplink"
  [ "$(tcpdump -r "$WORK/uplink4.pcap" -n 2>/dev/null | grep -c "> fd00:19::2")" -eq 0 ] ||
    fail "IPv4-only full tunnel: the server forwarded the client's IPv6 (from its underlay address) to the internet"
  ping_ok "$NS_C" 198.19.0.2 1 || fail "IPv4-only full tunnel: IPv4 broken"
  stop_pid "$CLIENT_PID"
  full_routes gone || fail "the down hook: $WRONG"
  stop_pid "$SERVER_PID"
  pass "IPv4-only tunnel: ::/1 and 8000::/1 still through it, no IPv6 packet on the underlay nor out of the server; down left no route"
}

nat_full_tunnel6() {
  step "full tunnel over an IPv6-only tunnel: both families through it, IPv4 server kept"
  local full='FULL_TUNNEL=yes' seen
  nat_pair full6 --address fd00::1/64 -- --address fd00::2/64 \
    --up "$full $NS_SCRIPTS/client-up.sh" --down "$full $NS_SCRIPTS/client-down.sh"
  wait_until 10 tunnel_ping6 fd00::1 || fail "IPv6 full-tunnel client did not come up"
  wait_until 5 server_nat "ip6 saddr fd00::/64 .*masquerade" ||
    fail "IPv6 only: no masquerade of the IPv6 subnet"
  wait_until 5 client_route "8000::/1 dev tun11" || fail "no 8000::/1 route"
  client_route "::/1 dev tun11" || fail "no ::/1 route"
  client_route "0.0.0.0/1 dev tun11" || fail "no 0.0.0.0/1 route"
  seen=$(seen_from "$NS_C" "[fd00:19::2]" 7006)
  [ "$seen" = "$V6_SERVER" ] || fail "IPv6 full tunnel: internet saw '$seen'"
  ping_ok "$NS_C" "$UNDER_S" 2 || fail "IPv6 full tunnel: the server (IPv4) became unreachable"
  stop_pid "$CLIENT_PID"
  ip -n "$NS_C" -6 route | grep -c "^::/1" >/dev/null && fail "client-down.sh left ::/1"
  stop_pid "$SERVER_PID"
  no_tund_rules "$NS_S" || fail "IPv6 only: server-down.sh left a table"
  pass "IPv6 only: fd00:19::2 reached through the tunnel (NAT66), 0.0.0.0/1 too, IPv4 server untouched"
}

#!/usr/bin/env bash
# IPv6 across the tunnel (issue 15). 1: ping6 both ways, at the tunnel's full MTU too, and
# a TCP transfer over IPv6 (through the offload path in TUN mode), over five tunnels that
# between them cover every pair of TUN/TAP x TCP/UDP x IPv4/IPv6 underlay x plaintext/
# encrypted (a pairwise covering array: every two axes meet in all four combinations).
# 2: with the peer down, ping6 to the far side fails at once with "Address unreachable"
# (tund's own ICMPv6 reply), not after ping's wait, on TCP and UDP.
# 3: dual stack: IPv4 and IPv6 on the same tunnel, and ssh over IPv6 across it.
. "$(dirname "$0")/lib.sh"
require_tools socat ssh ssh-keygen /usr/sbin/sshd
make_underlay
no_dad "$NS_S" "$NS_C"
underlay6
TUN6_S=fd00:77::1
TUN6_C=fd00:77::2
make_keys
head -c 4000000 /dev/urandom >"$WORK/payload"
want=$(sha256sum <"$WORK/payload" | cut -d' ' -f1)

# ipv6_tunnel_up MODE PROTO UNDERLAY(4|6) SECURITY(plain|secure): a tunnel with both
# families' addresses on it, the client reaching the server over that underlay.
ipv6_tunnel_up() {
  local mode=$1 proto=$2 under=$3 up=tunnel_up
  [ "$4" = secure ] && up=secure_tunnel_up
  if [ "$under" = 6 ]; then
    via_underlay "[$UNDER6_S]:55555" "$up" "$mode" "$proto"
  else
    "$up" "$mode" "$proto"
  fi
  add_addr6 "$NS_S" "$DEV_S" "$TUN6_S" "$TUN6_C" "$mode"
  add_addr6 "$NS_C" "$DEV_C" "$TUN6_C" "$TUN6_S" "$mode"
}

# offload_check NAME: after a transfer from the client, its tund segmented super-packets
# (IPv6 TSO) and none was bad. TAP and --no-offload runs have no offload path.
offload_check() {
  local line
  [ "${TUND_E2E_NO_OFFLOAD:-0}" = 1 ] && return 0
  grep -q "offloads on" "$WORK/client.log" || fail "$1: client did not enable offloads"
  kill -USR1 "$CLIENT_PID"
  wait_until 3 grep -q "offload:" "$WORK/client.log" || fail "$1: no offload counters"
  line=$(grep "offload:" "$WORK/client.log" | tail -n1)
  [ "$(counter "$line" super-packets-read)" -gt 0 ] || fail "$1: no IPv6 super-packet read: $line"
  [ "$(counter "$line" bad-super-packets)" -eq 0 ] || fail "$1: bad super-packets: $line"
}

for tunnel in "tun udp 4 plain" "tun tcp 6 secure" "tap udp 6 secure" "tap tcp 4 secure" \
  "tap tcp 6 plain"; do
  read -r mode proto under security <<<"$tunnel"
  name="$mode/$proto/IPv$under underlay/$security"
  step "$name"
  ipv6_tunnel_up "$mode" "$proto" "$under" "$security"
  wait_until 10 ping_ok "$NS_C" "$TUN6_S" 1 || fail "$name: no ping6 across the tunnel"
  if [ "$under" = 6 ]; then
    grep -q "\[$UNDER6_C\]" "$WORK/server.log" || fail "$name: the client did not come over IPv6"
  fi
  ping_ok "$NS_S" "$TUN6_C" 3 || fail "$name: server -> client ping6 lost replies"
  # The largest ICMPv6 echo the tunnel carries: MTU - 40 (IPv6) - 8 (ICMPv6).
  size=$(($(ip netns exec "$NS_C" cat "/sys/class/net/$DEV_C/mtu") - 48))
  ping_size_ok "$NS_C" "$TUN6_S" "$size" 3 || fail "$name: ping6 -s $size lost replies"
  ping_size_ok "$NS_S" "$TUN6_C" "$size" 3 || fail "$name: server -> client ping6 -s $size lost"
  # Over the MTU: the sender fragments (IPv6 fragment header), each fragment crosses.
  ping_size_ok "$NS_C" "$TUN6_S" 3000 2 || fail "$name: fragmented ping6 -s 3000 lost replies"
  if [ "$mode" = tun ]; then
    [ "$(send_file "$WORK/payload" "$TUN6_S")" = "$want" ] || fail "$name: IPv6 transfer corrupted"
    offload_check "$name"
  fi
  tunnel_down
  pass "$name: ping6 both ways (-s $size and fragmented -s 3000 too)$([ "$mode" = tun ] && echo ", 4 MB over TCP/IPv6")"
done

# ---- 2: the peer is down: tund answers for it at once -----------------------------------
# ping6_unreachable_now NAME: ping6 from the client to the server's tunnel address fails
# with tund's ICMPv6 "address unreachable" (RFC 4443 3.1, code 3), well within ping's 5 s.
ping6_unreachable_now() {
  local started out elapsed_ms
  started=$EPOCHREALTIME
  out=$(ip netns exec "$NS_C" ping -c 1 -W 5 "$TUN6_S" 2>&1) && fail "$1: ping6 answered with the peer down: $out"
  elapsed_ms=$(((${EPOCHREALTIME/./} - ${started/./}) / 1000))
  grep -q "From $TUN6_S icmp_seq=1 Destination unreachable: Address unreachable" <<<"$out" ||
    fail "$1: no ICMPv6 address unreachable from $TUN6_S: $out"
  [ "$elapsed_ms" -lt 2000 ] || fail "$1: ping6 took $elapsed_ms ms (want < 2000 of its 5 s wait)"
  pass "$1: ping6 failed after $elapsed_ms ms with 'Address unreachable' from $TUN6_S"
}

for proto in tcp udp; do
  step "tun/$proto: a client whose server never started"
  start_tund "$NS_C" client -c "$UNDER_S" -i "tunc$ID" -u -t "$proto"
  CLIENT_PID=$LAST_PID
  configure_link "$NS_C" "tunc$ID" "$TUN_C" "$TUN_S" tun
  add_addr6 "$NS_C" "tunc$ID" "$TUN6_C" "$TUN6_S" tun
  ping6_unreachable_now "$proto, server never started"
  stop_pid "$CLIENT_PID"
done

step "tun/tcp: the server stops while the tunnel carries IPv6"
ipv6_tunnel_up tun tcp 4 plain
wait_until 10 ping_ok "$NS_C" "$TUN6_S" 1 || fail "no ping6 before the server stopped"
stop_pid "$SERVER_PID"
wait_until 5 grep -q "disconnected from" "$WORK/client.log" || fail "the client did not see the server go"
ping6_unreachable_now "tcp, server stopped"
stop_pid "$CLIENT_PID"

# ---- 3: dual stack, ssh over IPv6 ---------------------------------------------------------
# The server pairs each family's address with a --peer (point to point), the client takes
# prefixes; tund sets every address itself (no `ip addr` here).
step "dual stack: --address twice on both sides (IPv6 underlay, encrypted UDP), ssh over IPv6"
start_tund "$NS_S" server -s -i "tuns$ID" -u -t udp "${SERVER_KEYS[@]}" \
  --address "$TUN_S/32" --peer "$TUN_C" --address "$TUN6_S/128" --peer "$TUN6_C"
SERVER_PID=$LAST_PID
start_tund "$NS_C" client -c "$UNDER6_S" -i "tunc$ID" -u -t udp "${CLIENT_KEYS[@]}" \
  --address "$TUN_C/24" --address "$TUN6_C/64"
CLIENT_PID=$LAST_PID
# has_addresses NS IFACE ADDR...: each ADDR (as `ip -o addr` prints it) is on IFACE.
has_addresses() {
  local ns=$1 dev=$2 have a
  shift 2
  have=$(ip -n "$ns" -o addr show dev "$dev" 2>/dev/null) || return 1
  for a in "$@"; do grep -qF " $a " <<<"$have" || return 1; done
}
wait_until 5 has_addresses "$NS_S" "tuns$ID" "$TUN_S peer $TUN_C/32" "$TUN6_S peer $TUN6_C/128" ||
  fail "server: not both addresses with their peers: $(ip -n "$NS_S" -o addr show dev "tuns$ID" 2>&1)"
wait_until 5 has_addresses "$NS_C" "tunc$ID" "$TUN_C/24" "$TUN6_C/64" ||
  fail "client: not both addresses: $(ip -n "$NS_C" -o addr show dev "tunc$ID" 2>&1)"
wait_until 10 ping_ok "$NS_C" "$TUN6_S" 1 || fail "dual stack: no ping6"
ping_ok "$NS_C" "$TUN_S" 3 || fail "dual stack: IPv4 ping lost replies"
ping_ok "$NS_S" "$TUN_C" 3 || fail "dual stack: server -> client IPv4 ping lost replies"
ping_ok "$NS_S" "$TUN6_C" 3 || fail "dual stack: server -> client ping6 lost replies"
pass "dual stack: IPv4 and IPv6 both ways over one tunnel, addresses set by tund"
start_sshd_at "$TUN6_S"
# sshd's view of the connection: the client's tunnel IPv6 address, to the server's.
out=$(ssh_run_at "$TUN6_S" 'echo "$SSH_CONNECTION"') || fail "ssh over IPv6 failed"
read -r from _ to _ <<<"$out"
[ "$from $to" = "$TUN6_C $TUN6_S" ] || fail "ssh did not run over the tunnel's IPv6: '$out'"
stop_pid "$SSHD_PID"
tunnel_down
pass "ssh over IPv6: $TUN6_C -> $TUN6_S ran a command across the tunnel"

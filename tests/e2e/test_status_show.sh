#!/usr/bin/env bash
# `tund show` (issue 14) against known traffic: a hub (TUN, UDP, encrypted) with two
# clients, and a single-client tunnel over TCP (encrypted). The tunnels are made quiet
# (IPv6 off on the devices: no ND/MLD frames), then counted pings cross them both ways.
# The per-peer counters of `tund show --json` move by exactly those packets and bytes on
# both ends (the client's tx is the hub's rx and back), the state, endpoint and allowed ips
# are right, and the four forms (text, --json, --dump, --prometheus) say the same; the
# latest handshake's age moves between two shows; the JSON validates against
# docs/tund-show.schema.json and promtool accepts the metrics. A TAP hub shows the MACs it
# learned. `tund show` without an interface lists the running tunds (default sockets in
# /run/tund, removed again at their exit).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_hub.sh"
require_hub
require_tools python3 promtool
python3 -c "import jsonschema" 2>/dev/null || skip_or_fail "needs python3-jsonschema"
make_hub_underlay 2
make_hub_keys 2
make_keys
HUB_SOCK=$WORK/ctl/hub.sock

# quiet NS DEV: no IPv6 on DEV, so nothing but the test's pings crosses the tunnel.
quiet() {
  ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"
}

# delta A B IFACE PEER FIELD: the field's growth from JSON file A to B.
delta() {
  echo $(($(status_get "$2" "$3" "$4" "$5") - $(status_get "$1" "$3" "$4" "$5")))
}

# expect_traffic A B IFACE PEER RXP RXB TXP TXB: the peer's counters moved by exactly that.
expect_traffic() {
  local a=$1 b=$2 ifn=$3 peer=$4 got
  got="$(delta "$a" "$b" "$ifn" "$peer" rx_packets) $(delta "$a" "$b" "$ifn" "$peer" rx_bytes)"
  got+=" $(delta "$a" "$b" "$ifn" "$peer" tx_packets) $(delta "$a" "$b" "$ifn" "$peer" tx_bytes)"
  [ "$got" = "$5 $6 $7 $8" ] ||
    fail "$ifn/$peer: rx/tx packets, bytes moved by '$got', the pings made '$5 $6 $7 $8'"
}

# mirror A B IFACE PEER A2 B2 IFACE2 PEER2: PEER's rx on IFACE moved as PEER2's tx on
# IFACE2 did, and back (the two ends of one tunnel).
mirror() {
  local f g
  for f in rx_packets rx_bytes tx_packets tx_bytes; do
    g=${f/rx/XX}; g=${g/tx/rx}; g=${g/XX/tx}
    [ "$(delta "$1" "$2" "$3" "$4" "$f")" = "$(delta "$5" "$6" "$7" "$8" "$g")" ] ||
      fail "$3/$4 $f moved $(delta "$1" "$2" "$3" "$4" "$f"), $7/$8 $g $(delta "$5" "$6" "$7" "$8" "$g")"
  done
}

# handshake_line FILE PEER: the latest-handshake line of PEER's block in a text form.
handshake_line() {
  awk -v p="peer: $2" '$0 == p {inside = 1; next} /^(peer|interface): / {inside = 0}
    inside && /handshake/ {print; exit}' "$1"
}

# check_forms NS SOCK IFACE PREFIX: the four forms agree, the JSON and metrics are valid.
check_forms() {
  show_forms "$@"
  forms_agree "$4"
  json_valid "$WORK/$4.json"
  prom_valid "$WORK/$4.prom"
}

step "hub over udp, 2 clients: counted pings, then tund show"
start_hub tun udp --control-socket "$HUB_SOCK"
for i in 1 2; do start_hub_client "$i" tun udp --control-socket "$WORK/ctl/c$i.sock"; done
wait_until 20 hub_clients_up 2 || fail "the hub's clients did not come up"
quiet "$NS_S" "$HUB_DEV"
for i in 1 2; do quiet "${HUB_NS[$i]}" "hc$ID-$i"; done
sleep 0.5 # the last MLD report of disabling IPv6 is through
CPEER=$($STATUS_FORMS peers <(tund_ctl "${HUB_NS[1]}" "$WORK/ctl/c1.sock" show "hc$ID-1" --json) "hc$ID-1")
[ "$(wc -l <<<"$CPEER")" = 1 ] || fail "a hub client shows $(wc -l <<<"$CPEER") peers, not 1"
snap() {  # snap NAME: --json of the hub and both clients
  show_json "$NS_S" "$HUB_SOCK" "$HUB_DEV" "$WORK/$1-hub.json"
  for i in 1 2; do show_json "${HUB_NS[$i]}" "$WORK/ctl/c$i.sock" "hc$ID-$i" "$WORK/$1-c$i.json"; done
}
# One-way traffic too (else a swap of rx and tx would go unseen): UDP datagrams from c1 to
# a receiver on the hub, which answers nothing.
ip netns exec "$NS_S" socat -u "UDP-RECV:7777,bind=$HUB_NET4.1" "OPEN:$WORK/udp.in,creat" &
PIDS+=("$!")
wait_until 5 bash -c "ip netns exec $NS_S ss -Hlun | grep -q ':7777 '" || fail "the UDP receiver did not start"
snap a
ip netns exec "${HUB_NS[1]}" bash -c "for i in 1 2 3; do printf '%050d' 0 >/dev/udp/$HUB_NET4.1/7777; done" ||
  fail "c1 could not send its UDP datagrams"
ip netns exec "${HUB_NS[1]}" ping -q -c 5 -i 0.05 -s 100 "$HUB_NET4.1" >/dev/null || fail "c1 -> hub ping lost"
ip netns exec "$NS_S" ping -q -c 3 -i 0.05 -s 300 "$(hub_addr4 2)" >/dev/null || fail "hub -> c2 ping lost"
ip netns exec "${HUB_NS[1]}" ping -q -c 2 -i 0.05 -s 200 "$(hub_addr4 2)" >/dev/null || fail "c1 -> c2 ping lost"
snap b
A=$WORK/a-hub.json B=$WORK/b-hub.json
# IPv4 packets of ping -s S are S + 28 bytes, of a UDP datagram of P bytes P + 28.
expect_traffic "$A" "$B" "$HUB_DEV" c1 10 $((5 * 128 + 2 * 228 + 3 * 78)) 7 $((5 * 128 + 2 * 228))
[ "$(stat -c %s "$WORK/udp.in")" = 150 ] || fail "the hub's receiver got $(stat -c %s "$WORK/udp.in") bytes, not 150"
expect_traffic "$A" "$B" "$HUB_DEV" c2 5 $((3 * 328 + 2 * 228)) 5 $((3 * 328 + 2 * 228))
for i in 1 2; do
  mirror "$A" "$B" "$HUB_DEV" "c$i" "$WORK/a-c$i.json" "$WORK/b-c$i.json" "hc$ID-$i" "$CPEER"
done
pass "udp hub: per-peer rx/tx packets and bytes moved by exactly the pings and datagrams, mirrored by the clients"

# frames_sum JSON: the frames the hub's threads sealed or opened (0: no worker pool).
frames_sum() { status_get "$1" "$HUB_DEV" - thread_frames | tr ',' '\n' | awk '{s += $1} END {print s + 0}'; }
threads=$(status_get "$B" "$HUB_DEV" - threads)
frames=$(status_get "$B" "$HUB_DEV" - thread_frames)
if [ "$threads" -gt 1 ]; then  # --threads auto: one per CPU (encrypted)
  [ "$(tr ',' '\n' <<<"$frames" | wc -l)" = "$threads" ] || fail "$threads threads, frames by thread '$frames'"
  [ "$(frames_sum "$B")" -gt "$(frames_sum "$A")" ] || fail "the pings moved no thread's frames: '$frames'"
else
  [ -z "$frames" ] || fail "one thread, yet frames by thread '$frames'"
fi
pass "udp hub: threads $threads, frames sealed/opened by thread '$frames'"

for i in 1 2; do
  [ "$(status_get "$B" "$HUB_DEV" "c$i" up)" = true ] || fail "c$i is not up in the hub's show"
  port=$(ip netns exec "${HUB_NS[$i]}" ss -Hunp | grep "pid=${CLIENT_PIDS[$i]}," |
    grep -o "$(hub_under "$i"):[0-9]*" | sed 's/.*://' | sed -n 1p)
  [ "$(status_get "$B" "$HUB_DEV" "c$i" endpoint)" = "$(hub_under "$i"):$port" ] ||
    fail "c$i's endpoint in the hub's show is $(status_get "$B" "$HUB_DEV" "c$i" endpoint), not $(hub_under "$i"):$port"
  [ "$(status_get "$B" "$HUB_DEV" "c$i" allowed_ips)" = "$(hub_addr4 "$i")/32,$(hub_addr6 "$i")/128" ] ||
    fail "c$i's allowed ips: $(status_get "$B" "$HUB_DEV" "c$i" allowed_ips)"
  [ "$(status_get "$B" "$HUB_DEV" "c$i" public_key)" = "$("$TUND_BIN" pubkey <"$WORK/c$i.key")" ] ||
    fail "c$i's key in the hub's show is not its public key"
  [ "$(status_get "$WORK/b-c$i.json" "hc$ID-$i" "$CPEER" endpoint)" = "$HUB_UNDER:55555" ] ||
    fail "client $i shows the hub at $(status_get "$WORK/b-c$i.json" "hc$ID-$i" "$CPEER" endpoint)"
  [ "$(status_get "$WORK/b-c$i.json" "hc$ID-$i" "$CPEER" public_key)" = "$(cat "$WORK/hub.pub")" ] ||
    fail "client $i does not show the hub's public key"
done
[ "$(status_get "$B" "$HUB_DEV" - role)" = hub ] || fail "the hub's role is $(status_get "$B" "$HUB_DEV" - role)"
[ "$(status_get "$B" "$HUB_DEV" - public_key)" = "$(cat "$WORK/hub.pub")" ] || fail "the hub's own key is wrong"
[ "$(status_get "$B" "$HUB_DEV" - pid)" = "$HUB_PID" ] || fail "the hub's pid is wrong"
pass "udp hub: state, endpoints (the clients' real ports), allowed ips, keys, role, pid"

check_forms "$NS_S" "$HUB_SOCK" "$HUB_DEV" hub1
check_forms "${HUB_NS[1]}" "$WORK/ctl/c1.sock" "hc$ID-1" c1
h1=$(handshake_line "$WORK/hub1.txt" c1)
hs=$(status_get "$WORK/hub1.json" "$HUB_DEV" c1 latest_handshake)
now=$(status_get "$WORK/hub1.json" "$HUB_DEV" - now)
[ "$hs" -gt 0 ] && [ "$hs" -le "$now" ] || fail "c1's latest handshake $hs is not in (0, now=$now]"
[[ "$h1" = *ago* ]] || fail "no 'latest handshake: ... ago' line for c1: '$h1'"
sleep 2.1
show_forms "$NS_S" "$HUB_SOCK" "$HUB_DEV" hub2
h2=$(handshake_line "$WORK/hub2.txt" c1)
[ "$h1" != "$h2" ] || fail "the handshake's age did not move in 2 s: '$h2'"
pass "hub and client: text, --json, --dump, --prometheus agree; schema and promtool pass; '$h1' -> '$h2'"

step "single-client tunnel over tcp (encrypted): counted pings both ways"
ctl_tunnel_up "${HUB_NS[2]}" tcp
quiet "$NS_S" "tuns$ID"
quiet "${HUB_NS[2]}" "tunc$ID"
wait_until 10 ping_ok "${HUB_NS[2]}" "$TUN_S" 1 || fail "the tcp tunnel did not come up"
sleep 0.3
show_json "$NS_S" "$SERVER_SOCK" "tuns$ID" "$WORK/a-srv.json"
show_json "${HUB_NS[2]}" "$CLIENT_SOCK" "tunc$ID" "$WORK/a-cli.json"
SPEER=$($STATUS_FORMS peers "$WORK/a-srv.json" "tuns$ID")
CLPEER=$($STATUS_FORMS peers "$WORK/a-cli.json" "tunc$ID")
ip netns exec "$NS_S" socat -u "UDP-RECV:7778,bind=$TUN_S" "OPEN:$WORK/udp2.in,creat" &
PIDS+=("$!")
wait_until 5 bash -c "ip netns exec $NS_S ss -Hlun | grep -q ':7778 '" || fail "the UDP receiver did not start"
show_json "$NS_S" "$SERVER_SOCK" "tuns$ID" "$WORK/a-srv.json"
show_json "${HUB_NS[2]}" "$CLIENT_SOCK" "tunc$ID" "$WORK/a-cli.json"
ip netns exec "${HUB_NS[2]}" bash -c "for i in 1 2; do printf '%050d' 0 >/dev/udp/$TUN_S/7778; done" ||
  fail "the client could not send its UDP datagrams"
ip netns exec "${HUB_NS[2]}" ping -q -c 4 -i 0.05 -s 500 "$TUN_S" >/dev/null || fail "client -> server ping lost"
ip netns exec "$NS_S" ping -q -c 3 -i 0.05 -s 64 "$TUN_C" >/dev/null || fail "server -> client ping lost"
show_json "$NS_S" "$SERVER_SOCK" "tuns$ID" "$WORK/b-srv.json"
show_json "${HUB_NS[2]}" "$CLIENT_SOCK" "tunc$ID" "$WORK/b-cli.json"
expect_traffic "$WORK/a-srv.json" "$WORK/b-srv.json" "tuns$ID" "$SPEER" 9 $((4 * 528 + 3 * 92 + 2 * 78)) 7 $((4 * 528 + 3 * 92))
mirror "$WORK/a-srv.json" "$WORK/b-srv.json" "tuns$ID" "$SPEER" "$WORK/a-cli.json" "$WORK/b-cli.json" "tunc$ID" "$CLPEER"
[ "$(status_get "$WORK/b-srv.json" "tuns$ID" - transport)" = tcp ] || fail "the server's transport is not tcp"
[ "$(status_get "$WORK/b-srv.json" "tuns$ID" "$SPEER" public_key)" = "$(cat "$WORK/client.pub")" ] ||
  fail "the server does not show the client's key"
[[ "$(status_get "$WORK/b-srv.json" "tuns$ID" "$SPEER" endpoint)" = "$(hub_under 2):"* ]] ||
  fail "the server shows the client at $(status_get "$WORK/b-srv.json" "tuns$ID" "$SPEER" endpoint)"
check_forms "$NS_S" "$SERVER_SOCK" "tuns$ID" srv
check_forms "${HUB_NS[2]}" "$CLIENT_SOCK" "tunc$ID" cli
stop_pid "$CLIENT_PID"
stop_pid "$SERVER_PID"
pass "tcp tunnel: counters moved by exactly the pings and datagrams on both ends, forms agree and validate"

step "TAP hub over udp: the MACs it learned"
kill -0 "$HUB_PID" || fail "the hub exited"
for i in 1 2; do stop_pid "${CLIENT_PIDS[$i]}"; done
stop_pid "$HUB_PID"
start_hub tap udp --control-socket "$HUB_SOCK"
for i in 1 2; do start_hub_client "$i" tap udp; done
wait_until 20 hub_clients_up 2 || fail "the TAP hub's clients did not come up"
show_forms "$NS_S" "$HUB_SOCK" "$HUB_DEV" tap
for i in 1 2; do
  mac=$(ip -n "${HUB_NS[$i]}" -br link show "hc$ID-$i" | awk '{print $3}')
  macs=$(status_get "$WORK/tap.json" "$HUB_DEV" "c$i" macs)
  [[ ",$macs," = *",$mac,"* ]] || fail "c$i's MAC $mac is not among its learned MACs in --json: '$macs'"
  awk -v p="peer: c$i" '$0 == p {inside = 1; next} /^(peer|interface): / {inside = 0} inside' \
    "$WORK/tap.txt" | quiet_grep "$mac" || fail "c$i's MAC $mac is not in its text block"
  grep -P "^$HUB_DEV\tc$i\t" "$WORK/tap.dump" | cut -f6 | quiet_grep "$mac" ||
    fail "c$i's MAC $mac is not in its --dump line"
done
json_valid "$WORK/tap.json"
prom_valid "$WORK/tap.prom"
pass "TAP hub: each client's MAC shown in --json, text and --dump"

step "tund show without an interface: every running tund (default sockets in /run/tund)"
A_IF="tst${ID}a" B_IF="tst${ID}b"
CLEANUP_PATHS+=("/run/tund/$A_IF.sock" "/run/tund/$B_IF.sock")
start_tund "$NS_S" lista -s -i "$A_IF" -p 55601
PID_A=$LAST_PID
start_tund "${HUB_NS[1]}" listb -c 198.18.0.99 -p 55601 -i "$B_IF"
PID_B=$LAST_PID
wait_until 5 test -S "/run/tund/$A_IF.sock" || fail "no default socket /run/tund/$A_IF.sock"
wait_until 5 test -S "/run/tund/$B_IF.sock" || fail "no default socket /run/tund/$B_IF.sock"
"$TUND_BIN" show >"$WORK/all.txt" 2>>"$WORK/ctl.log" || fail "tund show (all) failed"
"$TUND_BIN" show --json >"$WORK/all.json" 2>>"$WORK/ctl.log" || fail "tund show --json (all) failed"
for ifn in "$A_IF" "$B_IF"; do
  grep -qx "interface: $ifn" "$WORK/all.txt" || fail "tund show does not list $ifn"
  status_get "$WORK/all.json" "$ifn" - pid >/dev/null || fail "tund show --json does not list $ifn"
done
[ "$(status_get "$WORK/all.json" "$A_IF" - role)" = server ] || fail "$A_IF is not shown as a server"
[ "$(status_get "$WORK/all.json" "$B_IF" - role)" = client ] || fail "$B_IF is not shown as a client"
json_valid "$WORK/all.json"
stop_pid "$PID_A"
stop_pid "$PID_B"
[ ! -e "/run/tund/$A_IF.sock" ] && [ ! -e "/run/tund/$B_IF.sock" ] ||
  fail "a default socket was left behind at exit: $(ls /run/tund/"$A_IF".sock /run/tund/"$B_IF".sock 2>/dev/null)"
pass "tund show lists both running tunds (text and JSON); their sockets are removed at exit"

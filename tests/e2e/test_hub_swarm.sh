#!/usr/bin/env bash
# tund_swarm (tests/tools) against the real daemon, over UDP and TCP:
#   1. today's single-client server and one swarm client (TUN over UDP and TCP; TAP): the swarm client gets a session,
#      the server pings the swarm client's tunnel address and tund's responder in the
#      swarm answers, the swarm's own pings to the server are answered, SIGTERM ends it
#      cleanly (status 0 with --check);
#   2. a hub (issue 13) with SWARM_N (default 50) swarm clients, each from its own 127.x
#      source (UDP, TCP), then all from one address (UDP, as behind a NAT): all get a
#      session, the hub reaches a sample of them, all of them reach the hub, and the hub's
#      SIGUSR1 has a line for each peer; then (UDP) with a psk named in every peer file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_hub.sh"
SWARM=${TUND_BUILD_DIR:-$(dirname "$TUND_BIN")}/tests/tund_swarm
[ -x "$SWARM" ] || skip_or_fail "tund_swarm not built at $SWARM"
SWARM_N=${SWARM_N:-50}
ip netns add "$NS_S"
ip -n "$NS_S" link set lo up

# start_swarm PROTO [args]: tund_swarm run in the server namespace against 127.0.0.1
# (every client pinging the server's tunnel address, except in TAP mode).
start_swarm() {
  local proto=$1 udp=() ping=(--ping "$HUB_NET4.1")
  shift
  [ "$proto" = udp ] && udp=(--udp)
  [[ " $* " = *" --tap "* ]] && ping=()
  ip netns exec "$NS_S" "$SWARM" run --server 127.0.0.1 "${udp[@]}" --dir "$WORK/swarm" \
    --server-key "$WORK/hub.pub" "${ping[@]}" --interval 1 --check "$@" \
    >"$WORK/swarm.log" 2>&1 &
  SWARM_PID=$!
  PIDS+=("$SWARM_PID")
}

# stop_swarm WHAT: SIGTERM; the swarm must exit 0 (--check: every client up and answered).
stop_swarm() {
  local status=0
  kill -TERM "$SWARM_PID"
  wait "$SWARM_PID" || status=$?
  grep -q "stopping (SIGTERM)" "$WORK/swarm.log" || fail "$1: the swarm did not stop on SIGTERM"
  [ $status -eq 0 ] || fail "$1: the swarm exited $status: $(tail -n 2 "$WORK/swarm.log")"
}

all_have_sessions() { grep -q "all $1 clients have a session" "$WORK/swarm.log"; }

"$TUND_BIN" genkey >"$WORK/hub.key"
"$TUND_BIN" pubkey <"$WORK/hub.key" >"$WORK/hub.pub"
"$SWARM" keys --count "$SWARM_N" --dir "$WORK/swarm" --net "$HUB_NET4.0/24" >/dev/null ||
  fail "tund_swarm keys failed"
FIRST=$(awk 'NR == 1 { print $1 }' "$WORK/swarm/clients.list")
sed -n 's/^public-key *= *//p' "$WORK/swarm/peers/$FIRST" >"$WORK/first.pub"

for proto in udp tcp; do
  step "single-client server over $proto, one swarm client"
  start_tund "$NS_S" server -s -i "tuns$ID" -t "$proto" --private-key "$WORK/hub.key" \
    --allow "$WORK/first.pub" --address "$HUB_NET4.1/24"
  SERVER_PID=$LAST_PID
  wait_until 5 ip -n "$NS_S" link show "tuns$ID" || fail "the server's device did not appear"
  start_swarm "$proto" --count 1
  wait_until 10 all_have_sessions 1 || fail "$proto: the swarm client got no session"
  # The server's side of a session is up once the client's first message arrives.
  wait_until 5 ping_ok "$NS_S" "$HUB_NET4.2" 1 || fail "$proto: the server cannot ping the swarm client"
  ping_ok "$NS_S" "$HUB_NET4.2" 3 || fail "$proto: the server's pings to the swarm client were lost"
  wait_until 5 grep -q "pings [1-9][0-9]*/[1-9]" "$WORK/swarm.log" ||
    fail "$proto: the swarm's pings to the server were not answered"
  stop_swarm "$proto"
  grep "t=" "$WORK/swarm.log" | tail -n 1
  grep -q "answered [1-9]" "$WORK/swarm.log" || fail "$proto: the swarm counted no answer to the server"
  stop_pid "$SERVER_PID"
  pass "$proto: one swarm client against today's server: session, pinged, pings, clean stop"
done

step "single-client TAP server over udp, one swarm client (ARP and ping answered)"
start_tund "$NS_S" server -s -a -i "taps$ID" -t udp --private-key "$WORK/hub.key" \
  --allow "$WORK/first.pub" --address "$HUB_NET4.1/24"
SERVER_PID=$LAST_PID
wait_until 5 ip -n "$NS_S" link show "taps$ID" || fail "the server's device did not appear"
start_swarm udp --count 1 --tap
wait_until 10 all_have_sessions 1 || fail "tap: the swarm client got no session"
wait_until 5 ping_ok "$NS_S" "$HUB_NET4.2" 1 || fail "tap: the server cannot ping the swarm client"
ip -n "$NS_S" neigh show "$HUB_NET4.2" | quiet_grep "lladdr 02:" ||
  fail "tap: the swarm client's MAC was not learned by ARP"
stop_swarm tap
stop_pid "$SERVER_PID"
pass "tap: the swarm client answers ARP and ping"

require_hub
# hub_round PROTO SOURCES: SWARM_N swarm clients on a hub; SOURCES "own" (each from its own
# 127.x address) or "nat" (all from 127.0.0.1, as behind one NAT: the handshake rate limit
# must not lock them out).
hub_round() {
  local proto=$1 sources=() before named host
  [ "$2" = own ] && sources=(--source-net 127.88.0.0/16)
  step "hub over $proto, $SWARM_N swarm clients, sources: $2${3:+, psk}"
  HUB_PEERS=$WORK/swarm/peers
  start_hub tun "$proto"
  start_swarm "$proto" "${sources[@]}" ${3:+--psk "$3"}
  wait_until 20 all_have_sessions "$SWARM_N" ||
    fail "$proto/$2: not all $SWARM_N swarm clients got a session: $(grep t= "$WORK/swarm.log" | tail -n 1)"
  # A client counts its session from the handshake response; the hub counts the peer up
  # once the client's first message under it arrives (the responder's confirmation): on a
  # loaded machine the first ping may come between the two and get "unreachable".
  for host in 2 $((SWARM_N / 2)) $((SWARM_N + 1)); do
    wait_until 10 ping_ok "$NS_S" "$HUB_NET4.$host" 2 ||
      fail "$proto/$2: the hub cannot ping swarm client $HUB_NET4.$host"
  done
  sleep 2  # every client's pings to the hub: at least one round answered
  before=$(wc -l <"$WORK/hub.log")
  kill -USR1 "$HUB_PID"
  sleep 0.5
  named=$(tail -n +$((before + 1)) "$WORK/hub.log" | grep -oE "\bc[0-9]+\b" | sort -u | wc -l)
  [ "$named" -ge "$SWARM_N" ] || fail "$proto/$2: the hub's SIGUSR1 named $named peers, not $SWARM_N"
  stop_swarm "$proto/$2"
  grep "all $SWARM_N\|t=" "$WORK/swarm.log" | tail -n 2
  kill -0 "$HUB_PID" || fail "$proto/$2: the hub exited"
  stop_pid "$HUB_PID"
  pass "$proto/$2: $SWARM_N swarm clients on one hub"
}
hub_round udp own
hub_round tcp own
hub_round udp nat
# Per-peer psk: every peer file names one (`psk = FILE`), the clients use it.
"$TUND_BIN" genpsk >"$WORK/swarm.psk"
"$SWARM" keys --count "$SWARM_N" --dir "$WORK/swarm" --net "$HUB_NET4.0/24" --psk "$WORK/swarm.psk" >/dev/null
grep -q "^psk = $WORK/swarm.psk" "$WORK/swarm/peers/$FIRST" || fail "tund_swarm keys --psk wrote no psk line"
hub_round udp own "$WORK/swarm.psk"
step "hub over udp: clients with another psk than their peer files name get no session"
"$TUND_BIN" genpsk >"$WORK/other.psk"
start_hub tun udp
start_swarm udp --count 2 --psk "$WORK/other.psk" --exit-after 3
wait "$SWARM_PID" && fail "the swarm with the wrong psk passed its --check"
grep -q "have a session" "$WORK/swarm.log" && fail "a client with the wrong psk got a session"
grep "t=" "$WORK/swarm.log" | tail -n 1
stop_pid "$HUB_PID"
pass "udp: a wrong psk gets no session"

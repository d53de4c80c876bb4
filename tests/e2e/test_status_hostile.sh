#!/usr/bin/env bash
# Hostile clients of the control socket and the metrics endpoint (issue 14) while a ping
# flood crosses the tunnel (UDP, encrypted): against the socket a 1 MB request, a
# slowloris (bytes trickled, never a blank line), 1000 connections at once, binary
# garbage, a request then a half-close; against --metrics-listen slow headers, 1000
# connections, a 1 MB header, POST and other paths. Each attack is bounded (refused or
# closed in time), the daemon stays alive and answers `tund show` and a scrape right
# after, and the ping flood loses (almost) nothing. Under the sanitizer build a report in
# the daemon's log fails the test (lib.sh).
. "$(dirname "$0")/lib.sh"
require_tools python3 curl
HOSTILE="python3 $(cd "$(dirname "$0")" && pwd)/status_hostile.py"
ulimit -n 4096
make_underlay
make_keys
MPORT=9586
ctl_tunnel_up "$NS_C" udp --metrics-listen "127.0.0.1:$MPORT"
SOCK=$SERVER_SOCK
wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "the tunnel did not come up"
wait_until 5 test -S "$SOCK" || fail "no control socket at $SOCK"

scrape() { ip netns exec "$NS_S" curl -sf -m 5 "http://127.0.0.1:$MPORT/metrics"; }
# still_fine WHAT: the daemon is alive and answers show (and, from the metrics part on,
# a scrape) at once.
METRICS_TOO=0
still_fine() {
  kill -0 "$SERVER_PID" || fail "$1: the daemon died"
  timeout 10 ip netns exec "$NS_S" "$TUND_BIN" show "tuns$ID" --control-socket "$SOCK" \
    2>>"$WORK/ctl.log" | quiet_grep -x "interface: tuns$ID" || fail "$1: tund show got no answer right after"
  if [ $METRICS_TOO = 1 ]; then
    scrape | quiet_grep "^tund_peer_up" || fail "$1: no scrape right after"
  fi
}
# attack NAME ARGS...: one attack from status_hostile.py (run in the server's namespace),
# which must hold; then still_fine.
attack() {
  local out
  out=$(ip netns exec "$NS_S" $HOSTILE "$@" 2>&1) || fail "$1: $out"
  still_fine "$1"
  pass "$out"
}

step "a ping flood through the tunnel while the attacks run"
ip netns exec "$NS_C" ping -q -i 0.005 -c 6000 -W 2 "$TUN_S" >"$WORK/flood.out" 2>&1 &
FLOOD=$!
PIDS+=("$FLOOD")
sleep 0.5

step "the control socket"
attack huge "$SOCK"
attack slowloris "$SOCK" 9
attack many "$SOCK" 1000 2
attack garbage "$SOCK"
attack halfclose "$SOCK"
# All at once: 1000 idle connections holding the slots while a slowloris runs (it may be
# refused at once: the slots are full; show may be too, until the holders are gone).
ip netns exec "$NS_S" $HOSTILE many "$SOCK" 1000 6 >"$WORK/many.out" 2>&1 &
MANY=$!
out=$(ip netns exec "$NS_S" $HOSTILE slowloris "$SOCK" 9 2>&1) || fail "slowloris beside 1000 connections: $out"
wait $MANY || fail "1000 connections with a slowloris: $(cat "$WORK/many.out")"
still_fine "after 1000 connections and a slowloris"
pass "together: $out; $(cat "$WORK/many.out")"

step "the metrics endpoint"
wait_until 5 scrape >/dev/null || fail "no answer on --metrics-listen 127.0.0.1:$MPORT (not wired?)"
METRICS_TOO=1
attack http-many 127.0.0.1 $MPORT 1000 2
attack http-huge 127.0.0.1 $MPORT
for req in "POST /metrics 405" "PUT /metrics 405" "GET / 404" "GET /metrics/../x 404" "GET /status 404"; do
  set -- $req
  code=$(ip netns exec "$NS_S" $HOSTILE http-status 127.0.0.1 $MPORT "$1" "$2")
  [ "$code" = "$3" ] || [ "${3:0:1}${code:0:1}" = 44 ] ||
    fail "$1 $2 answered '$code', not $3"
  still_fine "$1 $2"
done
pass "POST/PUT 405, other paths 404"
# Slow headers: a client trickling a header (a byte each 0.2 s, so no single read waits
# long) must not stop a real scrape meanwhile, and neither it nor two more like it may
# hold a connection for good (the server's whole-connection deadline).
slow=()
slow_client() {
  ip netns exec "$NS_S" $HOSTILE http-slow 127.0.0.1 $MPORT 15 >"$WORK/slow$1.out" 2>&1 &
  slow+=("$!")
}
slow_client 1
sleep 1
t0=$(date +%s%N)
scrape >/dev/null || fail "no scrape answered within 5 s while a client trickles headers"
took=$((($(date +%s%N) - t0) / 1000000))
slow_client 2
slow_client 3
for i in 1 2 3; do
  wait "${slow[$((i - 1))]}" || fail "slow headers: $(cat "$WORK/slow$i.out")"
done
still_fine "slow headers"
pass "slow headers: a scrape answered in $took ms beside one; $(cat "$WORK/slow1.out"), $(cat "$WORK/slow3.out")"

step "the tunnel all along"
wait "$FLOOD" || true
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$WORK/flood.out")
[ -n "$loss" ] || fail "the ping flood printed no loss figure: $(cat "$WORK/flood.out")"
awk -v l="$loss" 'BEGIN {exit !(l <= 1)}' || fail "the ping flood lost $loss% during the attacks"
kill -0 "$SERVER_PID" || fail "the daemon died"
ping_ok "$NS_C" "$TUN_S" 3 || fail "the tunnel no longer carries pings"
pass "ping flood: $(grep -o '[0-9]* packets transmitted.*loss' "$WORK/flood.out"); daemon alive"
stop_pid "$CLIENT_PID"
stop_pid "$SERVER_PID"
[ ! -e "$SOCK" ] || fail "the control socket was left behind"

#!/usr/bin/env bash
# Hub reload (issue 13), over UDP and TCP: while client 4 runs iperf3 to the hub and
# client 1 pings it 20 times a second, one SIGHUP adds peer c5, removes c2 and moves c3's
# allowed-ips to another address. Then: c2 is cut within 1 s (the hub's ping to it gets
# ICMP unreachable, client 2 no longer reaches the hub), c5 connects, c3 works from its
# new address and its old one is dropped as spoofed, iperf3 finishes without losing its
# connection, and client 1 kept its session (at most 2.5% of its pings lost, to the load
# rather than the reload). A reload with a broken peer file changes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_hub.sh"
require_tools iperf3
require_hub
N=4
make_hub_underlay 5
make_hub_keys 5
mv "$HUB_PEERS/c5" "$WORK/c5.peer"  # c5 is added by the reload
C3_NEW=$HUB_NET4.44

reload_lines() { grep -c "reloaded\|keeping the running" "$WORK/hub.log" || true; }
more_reload_lines() { [ "$(reload_lines)" -gt "$1" ]; }

reload_hub() {
  local before
  before=$(reload_lines)
  kill -HUP "$HUB_PID"
  wait_until 5 more_reload_lines "$before" || fail "the hub logged nothing about the reload"
}

# A peer file that does not parse: the reload is refused as a whole, c2 stays.
check_bad_reload() {
  echo "allowed-ips = not-an-address" >"$HUB_PEERS/broken"
  reload_hub
  grep -q "keeping the running configuration" "$WORK/hub.log" ||
    fail "$1: a broken peer file was not refused: $(tail -n 3 "$WORK/hub.log")"
  rm "$HUB_PEERS/broken"
  ping_ok "${HUB_NS[2]}" "$HUB_NET4.1" 2 || fail "$1: a refused reload disturbed client 2"
  pass "$1: a reload with a broken peer file changed nothing"
}

check_reload() {
  local iperf pinger loss
  ip netns exec "$NS_S" iperf3 -s -1 -B "$HUB_NET4.1" -p 5201 >/dev/null 2>&1 &
  PIDS+=("$!")
  sleep 0.5
  ip netns exec "${HUB_NS[4]}" iperf3 -c "$HUB_NET4.1" -p 5201 -t 8 >"$WORK/iperf.out" 2>&1 &
  iperf=$!
  ip netns exec "${HUB_NS[1]}" ping -q -i 0.05 -c 120 -W 3 "$HUB_NET4.1" >"$WORK/ping1.out" 2>&1 &
  pinger=$!
  sleep 2
  cp "$WORK/c5.peer" "$HUB_PEERS/c5"
  rm "$HUB_PEERS/c2"
  sed -i "s|allowed-ips = $(hub_addr4 3)/32|allowed-ips = $C3_NEW/32|" "$HUB_PEERS/c3"
  reload_hub
  grep -q "reloaded the peers directory" "$WORK/hub.log" || fail "$1: the reload was refused"
  # Cut at once: the first ping after the reload's log line, within 1 s, goes nowhere.
  ip netns exec "${HUB_NS[2]}" ping -c 1 -W 1 "$HUB_NET4.1" >/dev/null 2>&1 &&
    fail "$1: the removed client 2 still reaches the hub after the reload"
  ping_fails_with "$NS_S" "$(hub_addr4 2)" "Unreachable" ||
    fail "$1: the hub's ping to the removed peer c2 got no ICMP unreachable"
  start_hub_client 5 tun "$2"
  wait_until 10 ping_ok "$NS_S" "$(hub_addr4 5)" 1 || fail "$1: the added peer c5 did not come up"
  ip -n "${HUB_NS[3]}" addr add "$C3_NEW/32" dev "hc$ID-3"
  ip netns exec "${HUB_NS[3]}" ping -c 2 -i 0.2 -W 2 -I "$C3_NEW" "$HUB_NET4.1" >/dev/null ||
    fail "$1: c3 does not work from its new allowed-ips address"
  ip netns exec "${HUB_NS[3]}" ping -c 2 -W 1 -I "$(hub_addr4 3)" "$HUB_NET4.1" >/dev/null 2>&1 &&
    fail "$1: c3's old address still passes after its allowed-ips changed"
  wait "$iperf" || fail "$1: iperf3 of the unchanged client 4 failed: $(tail -n 3 "$WORK/iperf.out")"
  wait "$pinger" || true
  loss=$(grep -o "[0-9.]*% packet loss" "$WORK/ping1.out" | cut -d% -f1)
  # A reload that touched c1 (its session cut or re-keyed) loses every ping for a second
  # or more: 20+ of these 120. One or two may drop anyway on a loaded machine, where
  # c4's iperf3 fills the hub's queues; up to 3 (2.5%) are that, not the reload.
  awk -v l="$loss" 'BEGIN { exit !(l <= 2.5) }' ||
    fail "$1: the unchanged client 1 lost $loss% of its pings across the reload"
  pass "$1: reload added c5, cut c2 at once, moved c3; c4's iperf3 and c1's pings unharmed"
}

for proto in udp tcp; do
  step "hub reload over $proto"
  [ -f "$HUB_PEERS/c2" ] || cp "$WORK/c2.peer" "$HUB_PEERS/c2"
  cp "$HUB_PEERS/c2" "$WORK/c2.peer"
  cp "$HUB_PEERS/c3" "$WORK/c3.peer"
  hub_up tun "$proto" $N
  check_bad_reload "$proto"
  check_reload "$proto" "$proto"
  stop_pid "${CLIENT_PIDS[5]}"
  hub_down $N
  # The next round starts from the first peers directory.
  mv "$WORK/c3.peer" "$HUB_PEERS/c3"
  rm -f "$HUB_PEERS/c5"
done
pass "hub reload over UDP and TCP"

#!/usr/bin/env bash
# Hub isolation (issue 13), over UDP and TCP: client 1's underlay is shaped to 1 Mbit/s
# (tc tbf on its bridge port, the hub's side) and the hub floods it (iperf3 UDP at
# 50 Mbit/s through the tunnel, far more than it can take); client 2's iperf3 TCP from the
# hub must keep at least half of what it gets alone, and the hub must keep answering
# client 3's pings. A stalled peer drops its own packets; it never stops the others.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_hub.sh"
require_tools iperf3 tc
require_hub
N=3
make_hub_underlay $N
make_hub_keys $N
SECS=5

# to_client I PORT [iperf3 args]: iperf3 from the hub to client I; prints receiver Mbit/s.
to_client() {
  local i=$1 port=$2
  shift 2
  ip netns exec "${HUB_NS[$i]}" iperf3 -s -1 -B "$(hub_addr4 "$i")" -p "$port" >/dev/null 2>&1 &
  PIDS+=("$!")
  sleep 0.5
  ip netns exec "$NS_S" iperf3 -c "$(hub_addr4 "$i")" -p "$port" -t "$SECS" -f m "$@" 2>/dev/null |
    awk '/receiver/ {for (i = 1; i <= NF; i++) if ($(i+1) == "Mbits/sec") r = $i} END {print r + 0}'
}

check_isolation() {
  local alone shared flood
  alone=$(to_client 2 5202)
  [ "${alone%.*}" -gt 0 ] || fail "$1: no throughput to client 2 even alone"
  tc -n "$NS_S" qdisc replace dev "vb$ID-1" root tbf rate 1mbit burst 16kb latency 50ms
  to_client 1 5201 -u -b 50M >"$WORK/flood.out" &
  flood=$!
  sleep 1
  shared=$(to_client 2 5203)
  ping_ok "${HUB_NS[3]}" "$HUB_NET4.1" 5 || fail "$1: client 3 lost pings while client 1 was flooded"
  wait "$flood" || true
  tc -n "$NS_S" qdisc del dev "vb$ID-1" root
  awk -v a="$alone" -v s="$shared" 'BEGIN {exit !(s >= a / 2)}' ||
    fail "$1: client 2 got $shared Mbit/s while client 1 was stalled, $alone alone"
  # Over TCP the flood's backlog (queue, socket buffers) drains and the connection's
  # retransmission timer may have backed off under the drops: allow it time.
  local back=$SECONDS
  wait_until 30 ping_ok "${HUB_NS[1]}" "$HUB_NET4.1" 1 || fail "$1: client 1 did not recover after the flood"
  echo "   client 1 answered again $((SECONDS - back)) s after the shaping ended"
  pass "$1: client 2 kept $shared of $alone Mbit/s while shaped client 1 was flooded"
}

for proto in udp tcp; do
  step "hub isolation over $proto"
  hub_up tun "$proto" $N
  check_isolation "$proto"
  line=$(hub_peer_line c1)
  echo "   c1 at the hub: ${line#*peer }"
  hub_down $N
done
pass "a stalled peer does not slow the others (UDP and TCP)"

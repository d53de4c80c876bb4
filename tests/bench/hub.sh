#!/usr/bin/env bash
# Hub benchmark (issue 13; not a test: it prints tables, it never fails on numbers).
# 1. Scale, with tund_swarm (tests/tools): a hub and N swarm clients, each from its own
#    127.x source, every client pinging the hub once a second. For each transport and N:
#      sessions   ms from starting the swarm until every client has a session
#      rss, fds   the hub's RSS (KiB) and descriptors with N peers configured and none
#                 connected (idle), then with all N connected; per peer = (up - idle) / N;
#                 marginal = (up - up of the first N) / the extra peers
#      reload     SIGHUP adding one peer: the hub's reload time (its own "in X ms" if its
#                 log line says so, else "~" and the SIGHUP-to-reload log timestamps)
#      pings      the swarm's pings to the hub over the run, sent/answered (an unchanged
#                 peer must lose none across the reload; the last second's are in flight)
# 2. Sharing, with real clients in namespaces (iperf3 TCP to the hub's tunnel address):
#    aggregate throughput of 1, 2 and 4 concurrent clients against one client's, Jain's
#    fairness index between them, and a fifth, idle client's ping RTT alone and while
#    four run iperf3.
# 3. Threads (issue 16): the aggregate of HUB_BENCH_CLIENTS (4) real clients at once, with
#    the hub started with --threads T for each T of HUB_BENCH_THREADS ("1 2 2always"; 2always: the free-CPU gate off) in the same
#    run, and the clients always with --threads 1 (their cost stays the same between rows).
#    Clients 1, 3 send to the hub and 2, 4 receive from it (iperf3 -R), so the hub both
#    opens and seals. Encrypted: the hub. Plaintext: hub mode is always encrypted, so a
#    point-to-point server and one client, as the control (no cipher work to share). One
#    table: per T, per transport and crypto, the aggregate Gbit/s, the hub's CPU seconds
#    per GB moved (user + system, all its threads; GB = 10^9 bytes of iperf3 payload) and
#    the aggregate's ratio to the first T's.
#   usage: tests/bench/hub.sh   HUB_BENCH_N="10 100 1000" HUB_BENCH_PROTOS="udp tcp"
#                               HUB_BENCH_SECONDS=8 (per iperf3 run),
#                               HUB_BENCH_PARTS="scale share threads",
#                               HUB_BENCH_THREADS="1 2 2always" (always: the hub's free-CPU
#                               gate off, TUND_TEST_WORKERS_SHARE) HUB_BENCH_CLIENTS=4
#                               HUB_BENCH_CRYPTO="enc plain" (part 3)
# Targets (issue 13): 1000 sessions within 5 s, <= 32 KiB RSS per idle peer, reload with
# 1000 peers <= 100 ms and no packet lost by an unchanged peer, 4 clients' aggregate >= 90%
# of one client's, fairness >= 0.9.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/lib_hub.sh"
require_tools iperf3 awk
require_hub
SWARM=${SWARM_BIN:-$(dirname "$TUND_BIN")/tests/tund_swarm}
[ -x "$SWARM" ] || skip_or_fail "tund_swarm not built at $SWARM"
read -r -a COUNTS <<<"${HUB_BENCH_N:-10 100 1000}"
read -r -a PROTOS <<<"${HUB_BENCH_PROTOS:-udp tcp}"
read -r -a PARTS <<<"${HUB_BENCH_PARTS:-scale share threads}"
read -r -a THREADS <<<"${HUB_BENCH_THREADS:-1 2 2always}"
read -r -a CRYPTOS <<<"${HUB_BENCH_CRYPTO:-enc plain}"
CLIENTS=${HUB_BENCH_CLIENTS:-4}
SECS=${HUB_BENCH_SECONDS:-8}
# Part 3 sets every daemon's --threads itself; the e2e suite's switch would override it.
unset TUND_E2E_THREADS
ulimit -n "$(ulimit -Hn)"

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
fd_count() { ls "/proc/$1/fd" | wc -l; }
log_ms() { date -d "$(cut -d' ' -f1 <<<"$1")" +%s%3N; }  # a log line's timestamp, ms

# ---- 1. scale ---------------------------------------------------------------------------

# scale_peers N: the first N swarm clients' peer files in $HUB_PEERS (the spare kept aside).
scale_peers() {
  rm -rf "$HUB_PEERS"
  mkdir -p "$HUB_PEERS"
  awk -v n="$1" 'NR <= n {print $1}' "$WORK/swarm/clients.list" |
    while read -r name; do cp "$WORK/swarm/peers/$name" "$HUB_PEERS/"; done
}

new_log_lines() { tail -n +$(($1 + 1)) "$WORK/hub.log"; }

# reload_ms N: SIGHUP with peer N+1 added; the hub's reload time.
reload_ms() {
  local spare before line took hup
  spare=$(awk -v n=$(($1 + 1)) 'NR == n {print $1}' "$WORK/swarm/clients.list")
  cp "$WORK/swarm/peers/$spare" "$HUB_PEERS/"
  before=$(wc -l <"$WORK/hub.log")
  kill -HUP "$HUB_PID"
  wait_until 10 bash -c "tail -n +$((before + 1)) '$WORK/hub.log' | grep -qi reload" || { echo "-"; return; }
  sleep 0.2
  line=$(new_log_lines "$before" | grep -i reload | tail -n 1)
  took=$(sed -n 's/.* in \([0-9.]*\) *ms.*/\1/p' <<<"$line")
  [ -n "$took" ] && { echo "$took"; return; }
  hup=$(new_log_lines "$before" | grep SIGHUP | sed -n 1p || new_log_lines "$before" | sed -n 1p)
  echo "~$(($(log_ms "$line") - $(log_ms "$hup")))"
}

# scale_row PROTO N
scale_row() {
  local proto=$1 n=$2 udp=() idle_rss idle_fds up_rss up_fds ms reload pings
  [ "$proto" = udp ] && udp=(--udp)
  scale_peers "$n"
  start_hub tun "$proto" --max-peers $((MAX + 16))
  sleep 1
  idle_rss=$(rss_kib "$HUB_PID")
  idle_fds=$(fd_count "$HUB_PID")
  # Emptied here, not by the redirection below: that happens in the background child, and
  # the wait could meanwhile read the previous row's line.
  : >"$WORK/swarm.log"
  ip netns exec "$NS_S" "$SWARM" run --server 127.0.0.1 "${udp[@]}" --dir "$WORK/swarm" \
    --count "$n" --server-key "$WORK/hub.pub" --source-net 127.66.0.0/16 --ping "$HUB_NET4.1" \
    --interval 5 >"$WORK/swarm.log" 2>&1 &
  local swarm=$!
  PIDS+=("$swarm")
  if wait_until 60 grep -q "clients have a session after [0-9]* ms" "$WORK/swarm.log"; then
    ms=$(sed -n 's/.*have a session after \([0-9]*\) ms.*/\1/p' "$WORK/swarm.log")
  else
    ms=">60000"
  fi
  sleep 3  # pings flowing, the hub settled
  up_rss=$(rss_kib "$HUB_PID")
  up_fds=$(fd_count "$HUB_PID")
  reload=$(reload_ms "$n")
  sleep 3
  stop_pid "$swarm"
  pings=$(grep -o 'pings [0-9]*/[0-9]*' "$WORK/swarm.log" | tail -n 1 | cut -d' ' -f2)
  stop_pid "$HUB_PID"
  [ "$n" = "${COUNTS[0]}" ] && { BASE_RSS=$up_rss; BASE_N=$n; }
  printf "%-5s %6s %11s %9s %9s %9s %8s %7s %9s %10s %13s\n" "$proto" "$n" "$ms" "$idle_rss" \
    "$up_rss" "$(((up_rss - idle_rss) / n))" "$idle_fds" "$up_fds" \
    "$(((up_rss - BASE_RSS) / (n > BASE_N ? n - BASE_N : 1)))" "$reload" "$pings"
}

scale() {
  local proto n
  ip netns add "$NS_S"
  ip -n "$NS_S" link set lo up
  MAX=0
  for n in "${COUNTS[@]}"; do [ "$n" -gt "$MAX" ] && MAX=$n; done
  "$TUND_BIN" genkey >"$WORK/hub.key"
  "$TUND_BIN" pubkey <"$WORK/hub.key" >"$WORK/hub.pub"
  "$SWARM" keys --count $((MAX + 1)) --dir "$WORK/swarm" --net "$HUB_NET4.0/16" >/dev/null
  HUB_PREFIX=16
  echo
  echo "1. scale: tund_swarm clients on one hub (rss KiB; per-peer, marginal: KiB per peer)"
  printf "%-5s %6s %11s %9s %9s %9s %8s %7s %9s %10s %13s\n" proto N sessions-ms rss-idle \
    rss-up per-peer fds-idle fds-up marginal reload-ms pings
  for proto in "${PROTOS[@]}"; do
    for n in "${COUNTS[@]}"; do scale_row "$proto" "$n"; done
  done
  ip netns del "$NS_S"
  HUB_PREFIX=24
}

# ---- 2. sharing -------------------------------------------------------------------------

# iperf_to I PORT: client I's iperf3 to the hub for SECS s; prints receiver Mbit/s.
iperf_to() {
  ip netns exec "${HUB_NS[$1]}" iperf3 -c "$HUB_NET4.1" -p "$2" -t "$SECS" -f m 2>/dev/null |
    awk '/receiver/ {for (i = 1; i <= NF; i++) if ($(i+1) == "Mbits/sec") r = $i} END {print r + 0}'
}

rtt_of() {  # rtt_of I COUNT: client I's average ping RTT to the hub, ms
  ip netns exec "${HUB_NS[$1]}" ping -q -c "$2" -i 0.1 "$HUB_NET4.1" 2>/dev/null |
    awk -F/ '/rtt/ {print $5}' || true
}

# concurrent K: K clients' iperf3 at once; prints "aggregate jain per-client..." and, with
# K = 4, client 5's RTT meanwhile as the last field.
concurrent() {
  local k=$1 i pids=() rtt=""
  for ((i = 1; i <= k; i++)); do
    iperf_to "$i" $((5200 + i)) >"$WORK/iperf-$i" &
    pids+=("$!")
  done
  [ "$k" = 4 ] && { sleep 1; rtt=$(rtt_of 5 $((SECS > 4 ? SECS * 10 - 30 : 10))); }
  for i in "${pids[@]}"; do wait "$i"; done
  for ((i = 1; i <= k; i++)); do cat "$WORK/iperf-$i"; done |
    awk -v rtt="$rtt" '{x[NR] = $1; s += $1; q += $1 * $1}
      END {printf "%.0f %.3f", s, (q > 0 ? s * s / (NR * q) : 0);
           for (i = 1; i <= NR; i++) printf " %.0f", x[i]; if (rtt != "") printf " rtt:%s", rtt; print ""}'
}

share() {
  local proto k single row idle
  rm -rf "$HUB_PEERS"
  make_hub_underlay 5
  make_hub_keys 5
  echo
  echo "2. sharing: iperf3 TCP from K real clients to the hub at once, $SECS s (Mbit/s)"
  printf "%-5s %3s %10s %9s %7s  %s\n" proto K aggregate vs-one jain "per client; client 5's RTT ms (idle / while 4 run)"
  for proto in "${PROTOS[@]}"; do
    hub_up tun "$proto" 5
    for k in 1 2 3 4; do
      ip netns exec "$NS_S" iperf3 -s -D -B "$HUB_NET4.1" -p $((5200 + k)) -I "$WORK/iperf-s$k.pid" >/dev/null
      wait_until 5 test -s "$WORK/iperf-s$k.pid" || fail "iperf3 server $k did not start"
      PIDS+=("$(cat "$WORK/iperf-s$k.pid")")
    done
    idle=$(rtt_of 5 20)
    single=""
    for k in 1 2 4; do
      row=$(concurrent $k)
      [ -z "$single" ] && single=${row%% *}
      printf "%-5s %3s %10s %8s%% %7s  %s\n" "$proto" "$k" "${row%% *}" \
        "$(awk -v a="${row%% *}" -v b="$single" 'BEGIN {printf "%.0f", (b > 0 ? 100 * a / b : 0)}')" \
        "$(cut -d' ' -f2 <<<"$row")" "$(cut -d' ' -f3- <<<"$row" | sed "s|rtt:| ; rtt $idle / |")"
    done
    for k in 1 2 3 4; do kill "$(cat "$WORK/iperf-s$k.pid")" 2>/dev/null || true; done
    hub_down 5
  done
  drop_hub_underlay
}

# drop_hub_underlay: the namespaces of make_hub_underlay, so that another part makes its own.
drop_hub_underlay() {
  local ns
  for ns in "$NS_S" "${HUB_NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  HUB_NS=()
}

# ---- 3. threads --------------------------------------------------------------------------

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, every thread

# iperf_json I PORT: client I's iperf3 to the hub for SECS s, even clients in reverse;
# prints "bits-per-second bytes" as its receiver counted them.
iperf_json() {
  local reverse=()
  [ $(($1 % 2)) = 0 ] && reverse=(-R)
  ip netns exec "${HUB_NS[$1]}" iperf3 -c "$HUB_NET4.1" -p "$2" -t "$SECS" "${reverse[@]}" -J \
    2>/dev/null | jq -r '"\(.end.sum_received.bits_per_second // 0) \(.end.sum_received.bytes // 0)"' ||
    echo "0 0"
}

# threads_up PROTO CRYPTO T: the hub (enc) or a point-to-point server (plain) with --threads
# T, and its clients (CLIENTS, or 1 for plain) with --threads 1; sets K, the client count.
threads_up() {
  local proto=$1 crypto=$2 t=${3%always} i
  # "2always": --threads 2 with the hub's free-CPU gate off (what the gate saves).
  [[ $3 == *always ]] && export TUND_TEST_WORKERS_SHARE=always
  if [ "$crypto" = enc ]; then
    K=$CLIENTS
    start_hub tun "$proto" --threads "$t"
    unset TUND_TEST_WORKERS_SHARE
    for ((i = 1; i <= K; i++)); do start_hub_client "$i" tun "$proto" --threads 1; done
  else
    K=1
    HUB_DEV="hub$ID"
    start_tund "$NS_S" hub -s -i "$HUB_DEV" -t "$proto" --address "$HUB_NET4.1/24" --threads "$t"
    unset TUND_TEST_WORKERS_SHARE
    HUB_PID=$LAST_PID
    start_tund "${HUB_NS[1]}" c1 -c "$HUB_UNDER" -i "hc$ID-1" -t "$proto" \
      --address "$(hub_addr4 1)/24" --threads 1
    CLIENT_PIDS[1]=$LAST_PID
  fi
  wait_until 20 hub_clients_up "$K" || fail "$proto $crypto --threads $t: not every client came up"
  for ((i = 1; i <= K; i++)); do
    ip netns exec "$NS_S" iperf3 -s -D -B "$HUB_NET4.1" -p $((5300 + i)) -I "$WORK/iperf-t$i.pid" >/dev/null
    wait_until 5 test -s "$WORK/iperf-t$i.pid" || fail "iperf3 server $i did not start"
    PIDS+=("$(cat "$WORK/iperf-t$i.pid")")
  done
}

threads_down() {
  local i
  for ((i = 1; i <= K; i++)); do kill "$(cat "$WORK/iperf-t$i.pid")" 2>/dev/null || true; done
  rm -f "$WORK"/iperf-t*.pid
  hub_down "$K"
}

# threads_cell PROTO CRYPTO T: CELL = "Gbit/s CPU-s/GB" of the K clients at once (a
# variable, not output: the daemons it starts must stay in this shell's PIDS for cleanup).
threads_cell() {
  local i pids=() ticks0 ticks1
  threads_up "$@"
  ticks0=$(cpu_ticks "$HUB_PID")
  for ((i = 1; i <= K; i++)); do
    iperf_json "$i" $((5300 + i)) >"$WORK/iperf-t$i.out" &
    pids+=("$!")
  done
  for i in "${pids[@]}"; do wait "$i"; done
  ticks1=$(cpu_ticks "$HUB_PID")
  threads_down
  CELL=$(cat "$WORK"/iperf-t*.out | awk -v t=$((ticks1 - ticks0)) -v hz="$(getconf CLK_TCK)" '
    { bps += $1; bytes += $2 }
    END { printf "%.2f %s\n", bps / 1e9, (bytes > 0 ? sprintf("%.2f", t / hz / (bytes / 1e9)) : "-") }')
  rm -f "$WORK"/iperf-t*.out
}

threads() {
  local proto crypto t cell cells=() gbit cpu
  "$TUND_BIN" --help | quiet_grep -- "--threads" || { echo "3. threads: this tund has no --threads"; return; }
  rm -rf "$HUB_PEERS"
  make_hub_underlay "$CLIENTS"
  make_hub_keys "$CLIENTS"
  for proto in "${PROTOS[@]}"; do
    for crypto in "${CRYPTOS[@]}"; do cells+=("$proto-$crypto"); done
  done
  # Results in RES[T,cell]; each cell's rows back to back, so a cell's ratio compares runs
  # made seconds apart.
  declare -A RES
  for cell in "${cells[@]}"; do
    for t in "${THREADS[@]}"; do
      threads_cell "${cell%-*}" "${cell#*-}" "$t"
      RES[$t,$cell]=$CELL
    done
  done
  echo
  echo "3. threads: aggregate of $CLIENTS clients at once (1 for plain: a point-to-point server), $SECS s;"
  echo "   the hub/server with --threads T, clients --threads 1; Gbit/s, the hub's CPU-s/GB, x the first T's"
  printf "%-7s" threads
  for cell in "${cells[@]}"; do printf " | %-24s" "$cell"; done
  echo
  printf "%-7s" ""
  for cell in "${cells[@]}"; do printf " | %7s %8s %7s" Gbit/s CPU-s/GB "vs-${THREADS[0]}"; done
  echo
  for t in "${THREADS[@]}"; do
    printf "%-7s" "$t"
    for cell in "${cells[@]}"; do
      read -r gbit cpu <<<"${RES[$t,$cell]}"
      printf " | %7s %8s %7s" "$gbit" "$cpu" "$(awk -v a="$gbit" -v b="${RES[${THREADS[0]},$cell]%% *}" \
        'BEGIN {printf (b > 0 ? "%.2fx" : "-"), (b > 0 ? a / b : 0)}')"
    done
    echo
  done
  drop_hub_underlay
}

echo "tund hub benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r); $TUND_BIN"
for part in "${PARTS[@]}"; do "$part"; done

#!/usr/bin/env bash
# Hub benchmark (issue 13; not a test: it prints a table, it never fails on numbers).
# One namespace; a hub (tund -s --peers-dir) and tund_swarm with N clients, each from its
# own 127.x source, every client pinging the hub once a second. For each transport and
# each N, in one run:
#   sessions   time from starting the swarm until every client has a session
#   rss/fds    the hub's RSS and open descriptors with N peers configured and none
#              connected (idle), then with all N connected; per peer = (up - idle) / N,
#              and the hub's whole RSS per peer against a 10-peer hub's
#   reload     SIGHUP adding one peer: the hub's reload time (its own "in X ms" if its log
#              line says so, else SIGHUP-line to reload-line timestamps)
#   pings      the swarm's pings to the hub, sent/answered over the whole run (an
#              unchanged peer must lose none across the reload)
#   usage: tests/bench/hub.sh            HUB_BENCH_N="10 100 1000" HUB_BENCH_PROTOS="udp tcp"
# Targets (issue 13): 1000 sessions within 5 s, <= 32 KiB RSS per idle peer, reload with
# 1000 peers <= 100 ms with no packet lost by an unchanged peer.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TUND=${TUND_BIN:-$ROOT/build/tund}
SWARM=${SWARM_BIN:-$ROOT/build/tests/tund_swarm}
read -r -a COUNTS <<<"${HUB_BENCH_N:-10 100 1000}"
read -r -a PROTOS <<<"${HUB_BENCH_PROTOS:-udp tcp}"
[ "$(id -u)" -eq 0 ] || { echo "hub bench: run as root" >&2; exit 1; }
[ -x "$TUND" ] && [ -x "$SWARM" ] || { echo "hub bench: build tund and tund_swarm first" >&2; exit 1; }
"$TUND" --help 2>&1 | grep -q -- --peers-dir || { echo "hub bench: $TUND has no hub mode" >&2; exit 1; }

NS="tundbh$$"
WORK=$(mktemp -d /tmp/tund-hub-bench.XXXXXX)
PIDS=()
cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.3
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$NS"
ip -n "$NS" link set lo up
ulimit -n "$(ulimit -Hn)"

MAX=0
for n in "${COUNTS[@]}"; do [ "$n" -gt "$MAX" ] && MAX=$n; done
"$TUND" genkey >"$WORK/hub.key"
"$TUND" pubkey <"$WORK/hub.key" >"$WORK/hub.pub"
# One spare client beyond the largest N: the peer the reload adds.
"$SWARM" keys --count $((MAX + 1)) --dir "$WORK/swarm" --net 10.66.0.0/16 >/dev/null

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }
wait_for() {  # wait_for SECONDS CMD...
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}
log_ms() {  # the log line's timestamp (2026-11-30T22:58:52.489Z) in ms since the epoch
  date -d "$(cut -d' ' -f1 <<<"$1")" +%s%3N
}

# peers_dir N: the first N clients' peer files (the spare one kept aside).
peers_dir() {
  rm -rf "$WORK/peers"
  mkdir "$WORK/peers"
  awk -v n="$1" 'NR <= n {print $1}' "$WORK/swarm/clients.list" |
    while read -r name; do cp "$WORK/swarm/peers/$name" "$WORK/peers/"; done
}

# reload_ms: SIGHUP with one peer added; the hub's reload time.
reload_ms() {
  local spare line took hup before
  spare=$(awk -v n=$(($1 + 1)) 'NR == n {print $1}' "$WORK/swarm/clients.list")
  cp "$WORK/swarm/peers/$spare" "$WORK/peers/"
  before=$(wc -l <"$WORK/hub.log")
  kill -HUP "$HUB_PID"
  wait_for 10 bash -c "tail -n +$((before + 1)) '$WORK/hub.log' | grep -qi 'reload'" || { echo "-"; return; }
  sleep 0.2
  line=$(tail -n +$((before + 1)) "$WORK/hub.log" | grep -i "reload" | tail -n 1)
  took=$(sed -n 's/.* in \([0-9.]*\) *ms.*/\1/p' <<<"$line")
  if [ -n "$took" ]; then echo "$took"; return; fi
  hup=$(tail -n +$((before + 1)) "$WORK/hub.log" | grep -m1 "SIGHUP" || true)
  [ -n "$hup" ] || hup=$(tail -n +$((before + 1)) "$WORK/hub.log" | head -n 1)
  echo "~$(($(log_ms "$line") - $(log_ms "$hup")))"
}

# measure PROTO N: one row.
measure() {
  local proto=$1 n=$2 idle_rss idle_fds up_rss up_fds ms reload pings
  peers_dir "$n"
  ip netns exec "$NS" "$TUND" -s -i "hb$$" -t "$proto" --private-key "$WORK/hub.key" \
    --peers-dir "$WORK/peers" --address 10.66.0.1/16 --max-peers $((MAX + 16)) \
    >"$WORK/hub.log" 2>&1 &
  HUB_PID=$!
  PIDS+=("$HUB_PID")
  wait_for 10 ip -n "$NS" link show "hb$$" || { echo "hub bench: the hub did not start" >&2; tail "$WORK/hub.log" >&2; exit 1; }
  sleep 1
  idle_rss=$(rss_kib "$HUB_PID")
  idle_fds=$(fds "$HUB_PID")
  local sudp=()
  [ "$proto" = udp ] && sudp=(--udp)
  ip netns exec "$NS" "$SWARM" run --server 127.0.0.1 "${sudp[@]}" --dir "$WORK/swarm" --count "$n" \
    --server-key "$WORK/hub.pub" --source-net 127.66.0.0/16 --ping 10.66.0.1 --interval 5 \
    >"$WORK/swarm.log" 2>&1 &
  SWARM_PID=$!
  PIDS+=("$SWARM_PID")
  if wait_for 60 grep -q "clients have a session" "$WORK/swarm.log"; then
    ms=$(sed -n 's/.*have a session after \([0-9]*\) ms.*/\1/p' "$WORK/swarm.log")
  else
    ms="> 60000 ($(grep -o 'up [0-9]*/[0-9]*' "$WORK/swarm.log" | tail -n 1))"
  fi
  sleep 3  # pings flowing, the hub settled
  up_rss=$(rss_kib "$HUB_PID")
  up_fds=$(fds "$HUB_PID")
  reload=$(reload_ms "$n")
  sleep 3
  kill -TERM "$SWARM_PID"
  wait "$SWARM_PID" 2>/dev/null || true
  pings=$(grep -o 'pings [0-9]*/[0-9]*' "$WORK/swarm.log" | tail -n 1 | cut -d' ' -f2)
  kill -TERM "$HUB_PID"
  wait "$HUB_PID" 2>/dev/null || true
  [ "$n" = "${COUNTS[0]}" ] && BASE_RSS=$up_rss BASE_N=$n
  printf "%-5s %6s %12s %10s %10s %9s %8s %8s %11s %12s %14s\n" "$proto" "$n" "$ms" \
    "$idle_rss" "$up_rss" "$(((up_rss - idle_rss) / n))" "$idle_fds" "$up_fds" \
    "$(((up_rss - BASE_RSS) / (n > BASE_N ? n - BASE_N : 1)))" "$reload" "$pings"
  cp "$WORK/hub.log" "$WORK/hub-$proto-$n.log"
}

echo "tund hub benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r); $TUND"
echo "sessions: ms until all N have one; rss in KiB (idle: N peers configured, none connected;"
echo "up: all connected); per-peer = (up - idle) / N; marginal = (up - up of N=${COUNTS[0]}) / extra peers;"
echo "reload: SIGHUP adding one peer, ms (~: from log timestamps); pings: swarm->hub sent/answered"
printf "%-5s %6s %12s %10s %10s %9s %8s %8s %11s %12s %14s\n" proto N sessions-ms rss-idle \
  rss-up KiB/peer fds-idle fds-up marginal reload-ms pings
for proto in "${PROTOS[@]}"; do
  for n in "${COUNTS[@]}"; do measure "$proto" "$n"; done
done

#!/usr/bin/env bash
# Status benchmark (issue 14; not a test: it prints tables, it never fails on numbers).
# 1. Query time with N peers (tund_swarm, tests/tools: a hub over UDP and N clients, each
#    from its own 127.x source, all up): `tund show` in each form and a GET /metrics scrape,
#    median and worst of STATUS_BENCH_REPS runs, in ms. `tund show` is timed as a user sees
#    it (the client's start-up included); the scrape with curl's own total time.
# 2. Scrape cost: iperf3 TCP through a single-client tunnel (UDP, encrypted) for
#    STATUS_BENCH_SECONDS, with no scrapes, then with a scrape every 100 ms, then none
#    again; the ratio is with / the mean of the two without.
#   usage: tests/bench/status.sh   STATUS_BENCH_N=1000 STATUS_BENCH_REPS=11
#                                  STATUS_BENCH_SECONDS=8 STATUS_BENCH_PARTS="query cost"
# Target (issue 14): one query <= 50 ms with 1000 peers.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/lib_hub.sh"
require_tools iperf3 awk curl
require_hub
SWARM=${SWARM_BIN:-${TUND_BUILD_DIR:-$(dirname "$TUND_BIN")}/tests/tund_swarm}
[ -x "$SWARM" ] || skip_or_fail "tund_swarm not built at $SWARM"
N=${STATUS_BENCH_N:-1000}
REPS=${STATUS_BENCH_REPS:-11}
SECS=${STATUS_BENCH_SECONDS:-8}
read -r -a PARTS <<<"${STATUS_BENCH_PARTS:-query cost}"
MPORT=9586
ulimit -n "$(ulimit -Hn)"

# stats: median and max of the numbers on stdin ("12.3 15.0").
stats() { sort -n | awk '{x[NR] = $1} END {printf "%.1f %.1f\n", x[int((NR + 1) / 2)], x[NR]}'; }

# show_ms ARGS...: one `tund show` of the hub, ms.
show_ms() {
  local t0 t1
  t0=$(date +%s%N)
  ip netns exec "$NS_S" "$TUND_BIN" show "$HUB_DEV" "$@" --control-socket "$SOCK" >/dev/null ||
    fail "tund show $* failed"
  t1=$(date +%s%N)
  awk -v d=$((t1 - t0)) 'BEGIN {printf "%.1f\n", d / 1e6}'
}
scrape_ms() {
  ip netns exec "$NS_S" curl -sf -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$MPORT/metrics" |
    awk '{printf "%.1f\n", $1 * 1000}'
}

# ---- 1. query time ----------------------------------------------------------------------
query() {
  local form i bytes
  ip netns add "$NS_S"
  ip -n "$NS_S" link set lo up
  "$TUND_BIN" genkey >"$WORK/hub.key"
  "$TUND_BIN" pubkey <"$WORK/hub.key" >"$WORK/hub.pub"
  "$SWARM" keys --count "$N" --dir "$WORK/swarm" --net "$HUB_NET4.0/16" >/dev/null
  HUB_PEERS=$WORK/swarm/peers HUB_PREFIX=16 SOCK=$WORK/ctl/hub.sock
  start_hub tun udp --max-peers $((N + 16)) --control-socket "$SOCK" --metrics-listen "127.0.0.1:$MPORT"
  ip netns exec "$NS_S" "$SWARM" run --server 127.0.0.1 --udp --dir "$WORK/swarm" --count "$N" \
    --server-key "$WORK/hub.pub" --source-net 127.66.0.0/16 --ping "$HUB_NET4.1" --interval 5 \
    >"$WORK/swarm.log" 2>&1 &
  local swarm=$!
  PIDS+=("$swarm")
  wait_until 60 grep -q "all $N clients have a session" "$WORK/swarm.log" || fail "the swarm did not come up"
  sleep 2
  echo
  echo "1. query time with $N peers up (ms, median and worst of $REPS; reply size)"
  printf "%-22s %8s %8s %10s\n" query median worst bytes
  for form in "" --json --dump --prometheus; do
    for ((i = 0; i < REPS; ++i)); do show_ms $form; done >"$WORK/times"
    bytes=$(ip netns exec "$NS_S" "$TUND_BIN" show "$HUB_DEV" $form --control-socket "$SOCK" | wc -c)
    read -r med worst < <(stats <"$WORK/times")
    printf "%-22s %8s %8s %10s\n" "tund show ${form:-(text)}" "$med" "$worst" "$bytes"
  done
  if scrape_ms >/dev/null 2>&1; then
    for ((i = 0; i < REPS; ++i)); do scrape_ms; done >"$WORK/times"
    bytes=$(ip netns exec "$NS_S" curl -sf "http://127.0.0.1:$MPORT/metrics" | wc -c)
    read -r med worst < <(stats <"$WORK/times")
    printf "%-22s %8s %8s %10s\n" "GET /metrics" "$med" "$worst" "$bytes"
  else
    printf "%-22s %8s\n" "GET /metrics" "(no answer on --metrics-listen)"
  fi
  echo "hub RSS with $N peers up: $(awk '/^VmRSS/ {print $2}' "/proc/$HUB_PID/status") KiB"
  stop_pid "$swarm"
  stop_pid "$HUB_PID"
  ip netns del "$NS_S"
}

# ---- 2. scrape cost ---------------------------------------------------------------------
# iperf_mbit: iperf3 TCP from the client to the server's tunnel address, receiver Mbit/s.
iperf_mbit() {
  ip netns exec "$NS_C" iperf3 -c "$TUN_S" -p 5201 -t "$SECS" -f m 2>/dev/null |
    awk '/receiver/ {for (i = 1; i <= NF; i++) if ($(i+1) == "Mbits/sec") r = $i} END {print r + 0}'
}

cost() {
  local none1 with none2 scraper scrapes
  make_underlay
  make_keys
  ctl_tunnel_up "$NS_C" udp --metrics-listen "127.0.0.1:$MPORT"
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "the tunnel did not come up"
  ip netns exec "$NS_S" iperf3 -s -D -B "$TUN_S" -p 5201 -I "$WORK/iperf.pid" >/dev/null
  wait_until 5 test -s "$WORK/iperf.pid" || fail "iperf3 server did not start"
  PIDS+=("$(cat "$WORK/iperf.pid")")
  scrape_ms >/dev/null 2>&1 || echo "(no answer on --metrics-listen: the 'with' run scrapes nothing)"
  none1=$(iperf_mbit)
  # One scraper process (as Prometheus is), a new connection per scrape: a curl started
  # every 100 ms would cost more CPU than the scrapes themselves on a small machine.
  ip netns exec "$NS_S" python3 -u -c '
import sys, time, urllib.request
while True:
    try:
        urllib.request.urlopen(sys.argv[1], timeout=5).read()
        print("x")
    except OSError:
        pass
    time.sleep(0.1)' "http://127.0.0.1:$MPORT/metrics" >"$WORK/scrapes" 2>/dev/null &
  scraper=$!
  PIDS+=("$scraper")
  with=$(iperf_mbit)
  kill "$scraper"
  scrapes=$(wc -l <"$WORK/scrapes")
  none2=$(iperf_mbit)
  echo
  echo "2. scrape cost: iperf3 TCP through one tunnel (udp, encrypted), $SECS s each (Mbit/s)"
  printf "%10s %12s %10s %8s %9s\n" none "every-100ms" none-again ratio scrapes
  printf "%10s %12s %10s %8s %9s\n" "$none1" "$with" "$none2" \
    "$(awk -v w="$with" -v a="$none1" -v b="$none2" 'BEGIN {printf "%.3f", (a + b > 0 ? 2 * w / (a + b) : 0)}')" "$scrapes"
  kill "$(cat "$WORK/iperf.pid")" 2>/dev/null || true
  tunnel_down
}

echo "tund status benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(hostname), $(nproc) cores," \
  "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r); $TUND_BIN"
for part in "${PARTS[@]}"; do "$part"; done

#!/usr/bin/env bash
# Throughput and latency benchmark (not a test: it prints a table, it never fails on numbers).
# Two namespaces joined by veth; iperf3 single TCP stream both ways and ping RTT over:
#   the bare veth link, tund over TCP and UDP (TUN mode) in plaintext and encrypted
#   (-enc: Noise IK, AES-256-GCM where the CPU has AES-NI), and a simpletun-style peer
#   (tests/e2e/peers/simpletun_peer: separate length/payload writes, as simpletun does).
# CPU seconds per GB are the tunnel processes' user+system time (both ends) per GB moved.
# Ratios are to the bare link measured in the same run; medians over ROUNDS, order rotated.
#   usage: tests/bench/throughput.sh [SECONDS_PER_RUN=8] [ROUNDS=2]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${1:-8}
ROUNDS=${2:-2}
TUND=${TUND_BIN:-$ROOT/build/tund}
PEER=${PEER_BIN:-$ROOT/build/tests/simpletun_peer}
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
for tool in iperf3 ping ip; do command -v $tool >/dev/null || { echo "bench: needs $tool" >&2; exit 1; }; done
[ -x "$TUND" ] && [ -x "$PEER" ] || { echo "bench: build first (tests/bootstrap.sh)" >&2; exit 1; }

ID=$$
S=tundbs$ID
C=tundbc$ID
PIDS=()
RESULTS=$(mktemp)
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for ns in "$S" "$C"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$RESULTS" "$KEYS"
}
trap cleanup EXIT

ip netns add "$S"
ip netns add "$C"
ip link add "bs$ID" netns "$S" type veth peer name "bc$ID" netns "$C"
ip -n "$S" addr add 198.18.0.1/24 dev "bs$ID"
ip -n "$C" addr add 198.18.0.2/24 dev "bc$ID"
for ns in "$S" "$C"; do ip -n "$ns" link set lo up; done
ip -n "$S" link set "bs$ID" up
ip -n "$C" link set "bc$ID" up
ip netns exec "$S" iperf3 -s -D -I "/tmp/iperf3-$ID.pid" >/dev/null
sleep 0.3
IPERF_PID=$(cat "/tmp/iperf3-$ID.pid" 2>/dev/null || true)
[ -n "$IPERF_PID" ] && PIDS+=("$IPERF_PID")
rm -f "/tmp/iperf3-$ID.pid"
KEYS=$(mktemp -d)
"$TUND" genkey >"$KEYS/s.key"
"$TUND" genkey >"$KEYS/c.key"
"$TUND" pubkey <"$KEYS/s.key" >"$KEYS/s.pub"
"$TUND" pubkey <"$KEYS/c.key" >"$KEYS/c.pub"

cpu_ticks() {  # total user+system clock ticks of the given PIDs
  local t=0
  for p in "$@"; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo $t
}

# iperf PEER_ADDR [-R]: prints "Mbit/s MBytes" of the receiver side (MBytes derived from
# the rate: iperf3 switches the transfer column to GBytes on its own)
iperf() {
  ip netns exec "$C" iperf3 -c "$1" -t "$DURATION" -f m ${2:-} 2>/dev/null \
    | awk -v d="$DURATION" '/receiver/ {for (i = 1; i <= NF; i++) if ($(i+1) == "Mbits/sec") r = $i}
                            END {printf "%s %.1f\n", r + 0, (r + 0) * d / 8}'
}

rtt() {  # average RTT in ms of 50 pings, 20 ms apart
  ip netns exec "$C" ping -q -c 50 -i 0.02 "$1" | awk -F/ '/rtt/ {print $5}'
}

# start_path NAME: brings up the tunnel for NAME and sets TARGET and TUNNEL_PIDS.
start_path() {
  TUNNEL_PIDS=()
  TARGET=198.18.0.1
  case $1 in
    veth) return ;;
    tund-*)
      local proto=${1#tund-}
      proto=${proto%-enc}
      local skeys=() ckeys=()
      if [[ $1 == *-enc ]]; then
        skeys=(--private-key "$KEYS/s.key" --allow "$KEYS/c.pub")
        ckeys=(--private-key "$KEYS/c.key" --peer-key "$KEYS/s.pub")
      fi
      ip netns exec "$S" "$TUND" -s -i tunb -t "$proto" "${skeys[@]}" >/dev/null 2>&1 &
      TUNNEL_PIDS+=($!)
      sleep 0.2
      ip netns exec "$C" "$TUND" -c 198.18.0.1 -i tunb -t "$proto" "${ckeys[@]}" >/dev/null 2>&1 &
      TUNNEL_PIDS+=($!) ;;
    simpletun)
      ip netns exec "$S" "$PEER" -s -i tunb >/dev/null 2>&1 &
      TUNNEL_PIDS+=($!)
      sleep 0.2
      ip netns exec "$C" "$PEER" -c 198.18.0.1 -i tunb >/dev/null 2>&1 &
      TUNNEL_PIDS+=($!)
      # simpletun does not set an MTU; give it the same as tund for a fair comparison.
      sleep 0.2
      ip -n "$S" link set tunb mtu 1400
      ip -n "$C" link set tunb mtu 1400 ;;
  esac
  PIDS+=("${TUNNEL_PIDS[@]}")
  sleep 0.3
  ip -n "$S" addr add 10.88.0.1 peer 10.88.0.2 dev tunb
  ip -n "$C" addr add 10.88.0.2 peer 10.88.0.1 dev tunb
  ip -n "$S" link set tunb up
  ip -n "$C" link set tunb up
  TARGET=10.88.0.1
  for _ in $(seq 50); do ip netns exec "$C" ping -c1 -W1 "$TARGET" >/dev/null 2>&1 && break; done
}

stop_path() {
  for p in "${TUNNEL_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
  sleep 0.3
}

measure() {  # measure NAME ROUND
  start_path "$1"
  local ticks0=0 ticks1=0
  [ ${#TUNNEL_PIDS[@]} -gt 0 ] && ticks0=$(cpu_ticks "${TUNNEL_PIDS[@]}")
  read -r up up_mb < <(iperf "$TARGET")
  sleep 1  # iperf3's server finishes the previous test first (slow over simpletun)
  read -r down down_mb < <(iperf "$TARGET" -R)
  [ ${#TUNNEL_PIDS[@]} -gt 0 ] && ticks1=$(cpu_ticks "${TUNNEL_PIDS[@]}")
  local lat
  lat=$(rtt "$TARGET")
  local cpu_per_gb=-
  if [ ${#TUNNEL_PIDS[@]} -gt 0 ]; then
    cpu_per_gb=$(awk -v t=$((ticks1 - ticks0)) -v hz="$(getconf CLK_TCK)" -v mb="$up_mb $down_mb" \
      'BEGIN {split(mb, m, " "); gb = (m[1] + m[2]) / 1024; printf "%.1f", (gb > 0 ? t / hz / gb : 0)}')
  fi
  echo "$1 $2 ${up:-0} ${down:-0} ${lat:-0} $cpu_per_gb" >>"$RESULTS"
  echo "  $1: up ${up:-0} Mbit/s (${up_mb:-0} MB), down ${down:-0} Mbit/s (${down_mb:-0} MB), rtt ${lat:-0} ms, cpu ticks $((ticks1 - ticks0)), CPU-s/GB $cpu_per_gb" >&2
  stop_path
}

# BENCH_PATHS="veth tund-udp" measures a subset.
read -r -a PATHS <<<"${BENCH_PATHS:-veth tund-tcp tund-udp tund-tcp-enc tund-udp-enc simpletun}"
for round in $(seq "$ROUNDS"); do
  n=${#PATHS[@]}
  for i in $(seq 0 $((n - 1))); do
    name=${PATHS[$(((i + round - 1) % n))]}
    echo "round $round: $name" >&2
    measure "$name" "$round"
  done
done

echo
echo "tund throughput benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)"
echo "iperf3 single TCP stream, ${DURATION} s per direction, median of $ROUNDS rounds (order rotated)"
echo
awk -v paths="${PATHS[*]}" '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { up[$1] = up[$1] " " $3; down[$1] = down[$1] " " $4; rtt[$1] = rtt[$1] " " $5; cpu[$1] = cpu[$1] " " $6 }
  END {
    printf "| %-12s | %12s | %12s | %9s | %10s | %14s |\n", "path", "up Gbit/s", "down Gbit/s", "vs veth", "ping ms", "CPU-s/GB"
    printf "|%s|%s|%s|%s|%s|%s|\n", "--------------", "--------------", "--------------", "-----------", "------------", "----------------"
    base = ("veth" in up) ? (median(up["veth"]) + median(down["veth"])) / 2 : 0
    n = split(paths, p, " ")
    for (i = 1; i <= n; i++) {
      k = p[i]; u = median(up[k]) / 1000; d = median(down[k]) / 1000
      c = (cpu[k] ~ /-/) ? "-" : sprintf("%.1f", median(cpu[k]))
      ratio = base > 0 ? sprintf("%.1f%%", 100 * (u + d) * 1000 / 2 / base) : "-"
      printf "| %-12s | %12.2f | %12.2f | %9s | %10.3f | %14s |\n", k, u, d, ratio, median(rtt[k]), c
    }
  }' "$RESULTS"

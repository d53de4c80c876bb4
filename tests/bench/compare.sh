#!/usr/bin/env bash
# Side-by-side benchmark (not a test: it prints a table, it never fails on numbers).
# Two namespaces joined by veth; over each path, in one run:
#   iperf3 single TCP stream up and down, iperf3 -P 4 up, ping RTT idle and under a
#   saturating iperf3, CPU seconds per GB of the tunnel processes (both ends, user+system)
#   and their peak RSS (VmHWM, the larger end).
# Paths: the bare veth link; tund over TCP/UDP, plaintext and encrypted, with offloads on
# and off (--no-offload); and the userspace peers Debian packages, installed when missing
# and configured as their documentation recommends: wireguard-go (+ wireguard-tools),
# OpenVPN 2.6 (AES-256-GCM, UDP and TCP, no DCO), vtun (TCP, aes256cbc and no crypto),
# fastd (UDP, null and salsa2012+umac); and the simpletun-style peer from tests/e2e/peers.
# Rounds rotate the order; the table shows medians and ratios to veth and to the best peer.
#   usage: tests/bench/compare.sh [SECONDS_PER_RUN=8] [ROUNDS=2]
#   COMPARE_PATHS="veth tund-tcp wireguard-go" measures a subset.
#   TUND_BASELINE_BIN=/path/to/older/tund adds base-tund-* paths run with that binary in the
#   same rounds, so a change is measured before/after in one run (e.g.
#   COMPARE_PATHS="base-tund-udp tund-udp base-tund-udp-enc tund-udp-enc").
set -euo pipefail
if [ "${1:-}" = --table ]; then  # re-render a saved results file: compare.sh --table FILE
  TABLE_ONLY=$2
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${1:-8}
ROUNDS=${2:-2}
[ -n "${TABLE_ONLY:-}" ] && { DURATION=?; ROUNDS=?; }
TUND=${TUND_BIN:-$ROOT/build/tund}
TUND_BASELINE=${TUND_BASELINE_BIN:-}
[ -z "$TUND_BASELINE" ] || [ -x "$TUND_BASELINE" ] ||
  { echo "compare: TUND_BASELINE_BIN $TUND_BASELINE is not executable" >&2; exit 1; }
PEER=${PEER_BIN:-$ROOT/build/tests/simpletun_peer}
[ "$(id -u)" -eq 0 ] || { echo "compare: run as root" >&2; exit 1; }
[ -x "$TUND" ] && [ -x "$PEER" ] || { echo "compare: build first (tests/bootstrap.sh)" >&2; exit 1; }

TUND_PATHS="tund-tcp tund-udp tund-tcp-enc tund-udp-enc tund-tcp-nooff tund-udp-nooff tund-tcp-enc-nooff tund-udp-enc-nooff"
PEER_PATHS="wireguard-go openvpn-udp openvpn-tcp vtun-aes vtun-plain fastd-null fastd-salsa simpletun"
read -r -a PATHS <<<"${COMPARE_PATHS:-veth $TUND_PATHS $PEER_PATHS}"
render_table() {  # FILE of "path round up down par idle loaded cpu rss" lines
echo
  echo "tund vs userspace tunnels, $(date -u +%Y-%m-%d), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), kernel $(uname -r)"
  echo "iperf3 TCP over two namespaces joined by veth, ${DURATION} s per run, median of $ROUNDS rounds (order rotated)"
  echo "ratios: mean of up and down vs the bare link, and vs the best peer's (the fastest non-tund path)"
  echo
  awk -v paths="${PATHS[*]}" -v peers="$PEER_PATHS" '
    function median(list,   n, a, i, j, t, m, b) {
      # A failed measurement (0) is left out; all failed gives 0.
      m = split(list, b, " "); n = 0
      for (i = 1; i <= m; i++) if (b[i] + 0 > 0 || b[i] == "-") a[++n] = b[i]
      if (n == 0) return 0
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { up[$1] = up[$1] " " $3; down[$1] = down[$1] " " $4; par[$1] = par[$1] " " $5
      idle[$1] = idle[$1] " " $6; loaded[$1] = loaded[$1] " " $7; cpu[$1] = cpu[$1] " " $8; rss[$1] = rss[$1] " " $9 }
    END {
      n = split(paths, p, " ")
      split(peers, pl, " "); for (i in pl) is_peer[pl[i]] = 1
      base = ("veth" in up) ? (median(up["veth"]) + median(down["veth"])) / 2 : 0
      best = 0; best_name = "-"
      for (i = 1; i <= n; i++) if (p[i] in is_peer) {
        t = (median(up[p[i]]) + median(down[p[i]])) / 2
        if (t > best) { best = t; best_name = p[i] }
      }
      printf "| %-18s | %7s | %7s | %8s | %7s | %7s | %9s | %9s | %8s | %6s |\n", "path", "up Gb/s", "down", "-P4 up", "vs veth", "vs best", "ping idle", "ping load", "CPU-s/GB", "RSS MB"
      printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", "--------------------", "---------", "---------", "----------", "---------", "---------", "-----------", "-----------", "----------", "--------"
      for (i = 1; i <= n; i++) {
        k = p[i]; u = median(up[k]); d = median(down[k]); t = (u + d) / 2
        rv = base > 0 ? sprintf("%.0f%%", 100 * t / base) : "-"
        rb = best > 0 ? sprintf("%.1fx", t / best) : "-"
        c = (cpu[k] ~ /-/) ? "-" : sprintf("%.1f", median(cpu[k]))
        r = (rss[k] ~ /-/) ? "-" : sprintf("%d", median(rss[k]))
        printf "| %-18s | %7.2f | %7.2f | %8.2f | %7s | %7s | %9.3f | %9.3f | %8s | %6s |\n", k, u / 1000, d / 1000, median(par[k]) / 1000, rv, rb, median(idle[k]), median(loaded[k]), c, r
      }
      printf "\nbest peer: %s\n", best_name
    }' "$1"
}
if [ -n "${TABLE_ONLY:-}" ]; then
  render_table "$TABLE_ONLY"
  exit 0
fi

# ---- tools ------------------------------------------------------------------------------
need_packages=()
for pair in iperf3:iperf3 ping:iputils-ping ip:iproute2 openssl:openssl wireguard-go:wireguard-go \
            wg:wireguard-tools openvpn:openvpn vtund:vtun fastd:fastd; do
  command -v "${pair%%:*}" >/dev/null || need_packages+=("${pair#*:}")
done
if [ ${#need_packages[@]} -gt 0 ]; then
  echo "compare: installing ${need_packages[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_packages[@]}" >&2
fi

ID=$$
S=cmps$ID
C=cmpc$ID
WORK=$(mktemp -d)
# Kept after the run (and after a failure), so the table can be re-rendered with --table.
RESULTS=/tmp/tund-compare-$ID.results
PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for ns in "$S" "$C"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # so a killed run still removes its namespaces

ip netns add "$S"
ip netns add "$C"
ip link add "cs$ID" netns "$S" type veth peer name "cc$ID" netns "$C"
ip -n "$S" addr add 198.18.0.1/24 dev "cs$ID"
ip -n "$C" addr add 198.18.0.2/24 dev "cc$ID"
for ns in "$S" "$C"; do ip -n "$ns" link set lo up; done
ip -n "$S" link set "cs$ID" up
ip -n "$C" link set "cc$ID" up
ip netns exec "$S" iperf3 -s -D -I "$WORK/iperf3.pid" >/dev/null
sleep 0.3
PIDS+=("$(cat "$WORK/iperf3.pid")")

# ---- keys and configurations --------------------------------------------------------------
"$TUND" genkey >"$WORK/s.key"
"$TUND" genkey >"$WORK/c.key"
"$TUND" pubkey <"$WORK/s.key" >"$WORK/s.pub"
"$TUND" pubkey <"$WORK/c.key" >"$WORK/c.pub"
wg genkey >"$WORK/wgs.key"
wg genkey >"$WORK/wgc.key"
wg pubkey <"$WORK/wgs.key" >"$WORK/wgs.pub"
wg pubkey <"$WORK/wgc.key" >"$WORK/wgc.pub"
# OpenVPN 2.6 peer-to-peer with self-signed certificates pinned by fingerprint (the
# documented replacement for static keys; the data channel negotiates AES-256-GCM).
for side in s c; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=bench-$side" -keyout "$WORK/ovpn-$side.key" -out "$WORK/ovpn-$side.crt" 2>/dev/null
done
fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
for side in s c; do
  fastd --generate-key 2>/dev/null >"$WORK/fastd-$side.keys"
done
fastd_secret() { awk '/Secret/ {print $2}' "$WORK/fastd-$1.keys"; }
fastd_public() { awk '/Public/ {print $2}' "$WORK/fastd-$1.keys"; }
write_fastd_conf() {  # SIDE METHOD
  local side=$1 other=s addr=198.18.0.1 peer_addr=198.18.0.2
  [ "$side" = s ] && other=c
  [ "$side" = c ] && { addr=198.18.0.2; peer_addr=198.18.0.1; }
  cat >"$WORK/fastd-$side.conf" <<EOF
interface "tunb";
mode tun;
method "$2";
secret "$(fastd_secret "$side")";
bind $addr:10000;
mtu 1400;
log level warn;
peer "$other" {
  key "$(fastd_public "$other")";
  remote $peer_addr:10000;
}
EOF
}
write_vtun_conf() {  # ENCRYPT (aes256cbc or no)
  cat >"$WORK/vtund.conf" <<EOF
options { port 5000; syslog daemon; timeout 60; }
bench {
  passwd benchsecret;
  type tun;
  proto tcp;
  device tunb;
  compress no;
  encrypt $1;
  keepalive yes;
  stat no;
}
EOF
}

# ---- measurements -------------------------------------------------------------------------
cpu_ticks() {  # total user+system clock ticks of the given PIDs
  local t=0
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo $t
}
peak_rss_kb() {  # the largest VmHWM among the given PIDs
  local m=0 v
  for p in "$@"; do
    v=$(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    [ "${v:-0}" -gt "$m" ] && m=$v
  done
  echo $m
}
# iperf TARGET [ARGS...]: receiver Mbit/s (the SUM line with -P); 0 if iperf3 kept failing
# (after a slow path the server may still be finishing the previous test: retries).
iperf() {
  local target=$1 result
  shift
  for _ in 1 2 3 4 5; do
    result=$(ip netns exec "$C" iperf3 -c "$target" -t "$DURATION" -f m "$@" 2>/dev/null \
      | awk '/receiver/ {for (i = 1; i <= NF; i++) if ($(i+1) == "Mbits/sec") r = $i} END {print r + 0}') || true
    [ "${result:-0}" != 0 ] && break
    sleep 2
  done
  echo "${result:-0}"
}
rtt() {  # average RTT in ms: COUNT pings, 20 ms apart
  ip netns exec "$C" ping -q -c "$2" -i 0.02 "$1" 2>/dev/null | awk -F/ '/rtt/ {print $5}' || true
}

wait_for_tunnel() {
  for _ in $(seq 100); do
    ip netns exec "$C" ping -c1 -W1 "$TARGET" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "  $1: tunnel did not come up; its log:" >&2
  tail -n 5 "$WORK/tunnel.log" >&2
  return 1
}

# Addresses on the tunnel devices, for the tools that leave that to the administrator.
address_tunnel() {  # DEV_S DEV_C
  ip -n "$S" addr add 10.88.0.1 peer 10.88.0.2 dev "$1"
  ip -n "$C" addr add 10.88.0.2 peer 10.88.0.1 dev "$2"
  ip -n "$S" link set "$1" up
  ip -n "$C" link set "$2" up
}

start_bg() {  # NS CMD... : starts a tunnel process, records its PID
  echo "== $*" >>"$WORK/tunnel.log"
  ip netns exec "$1" "${@:2}" >>"$WORK/tunnel.log" 2>&1 &
  TUNNEL_PIDS+=($!)
  PIDS+=($!)
}

# start_path NAME: brings up the tunnel for NAME; sets TARGET and TUNNEL_PIDS.
start_path() {
  TUNNEL_PIDS=()
  TARGET=10.88.0.1
  case $1 in
    veth) TARGET=198.18.0.1 ;;
    tund-* | base-tund-*)
      local proto=tcp extra=() skeys=() ckeys=() bin=$TUND
      [[ $1 == base-* ]] && bin=${TUND_BASELINE:?set TUND_BASELINE_BIN for $1}
      [[ $1 == *udp* ]] && proto=udp
      [[ $1 == *nooff* ]] && extra=(--no-offload)
      if [[ $1 == *-enc* ]]; then
        skeys=(--private-key "$WORK/s.key" --allow "$WORK/c.pub")
        ckeys=(--private-key "$WORK/c.key" --peer-key "$WORK/s.pub")
      fi
      start_bg "$S" "$bin" -s -i tunb -t $proto "${extra[@]}" "${skeys[@]}" \
        --address 10.88.0.1/32 --peer 10.88.0.2
      sleep 0.2
      start_bg "$C" "$bin" -c 198.18.0.1 -i tunb -t $proto "${extra[@]}" "${ckeys[@]}" \
        --address 10.88.0.2/32 --peer 10.88.0.1 ;;
    simpletun)
      start_bg "$S" "$PEER" -s -i tunb
      sleep 0.2
      start_bg "$C" "$PEER" -c 198.18.0.1 -i tunb
      sleep 0.3
      ip -n "$S" link set tunb mtu 1400
      ip -n "$C" link set tunb mtu 1400
      address_tunnel tunb tunb ;;
    wireguard-go)
      # Separate names: the UAPI sockets live in the shared /var/run/wireguard.
      WG_PROCESS_FOREGROUND=1 WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
        start_bg "$S" wireguard-go -f wgs$ID
      WG_PROCESS_FOREGROUND=1 WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
        start_bg "$C" wireguard-go -f wgc$ID
      for _ in $(seq 50); do [ -S /var/run/wireguard/wgc$ID.sock ] && [ -S /var/run/wireguard/wgs$ID.sock ] && break; sleep 0.1; done
      ip netns exec "$S" wg set wgs$ID private-key "$WORK/wgs.key" listen-port 51820 \
        peer "$(cat "$WORK/wgc.pub")" allowed-ips 10.88.0.2/32 endpoint 198.18.0.2:51820
      ip netns exec "$C" wg set wgc$ID private-key "$WORK/wgc.key" listen-port 51820 \
        peer "$(cat "$WORK/wgs.pub")" allowed-ips 10.88.0.1/32 endpoint 198.18.0.1:51820
      address_tunnel wgs$ID wgc$ID ;;
    openvpn-udp | openvpn-tcp)
      local sp=udp4 cp=udp4
      [ "$1" = openvpn-tcp ] && { sp=tcp4-server; cp=tcp4-client; }
      local common=(--dev-type tun --disable-dco --data-ciphers AES-256-GCM --dh none --verb 1
                    --ping 10 --ping-restart 60)
      start_bg "$S" openvpn "${common[@]}" --dev tunb --proto $sp --local 198.18.0.1 --lport 1194 \
        --ifconfig 10.88.0.1 10.88.0.2 --tls-server --cert "$WORK/ovpn-s.crt" \
        --key "$WORK/ovpn-s.key" --peer-fingerprint "$(fingerprint "$WORK/ovpn-c.crt")"
      sleep 0.3
      start_bg "$C" openvpn "${common[@]}" --dev tunb --proto $cp --remote 198.18.0.1 1194 --nobind \
        --ifconfig 10.88.0.2 10.88.0.1 --tls-client --cert "$WORK/ovpn-c.crt" \
        --key "$WORK/ovpn-c.key" --peer-fingerprint "$(fingerprint "$WORK/ovpn-s.crt")" ;;
    vtun-aes | vtun-plain)
      local enc=aes256cbc
      [ "$1" = vtun-plain ] && enc=no
      write_vtun_conf $enc
      # vtund exits when its first read finds the device down, so it attaches to
      # persistent devices that are configured and up before it starts.
      ip -n "$S" tuntap add tunb mode tun
      ip -n "$C" tuntap add tunb mode tun
      address_tunnel tunb tunb
      start_bg "$S" vtund -n -s -f "$WORK/vtund.conf" -P 5000
      sleep 0.3
      start_bg "$C" vtund -n -f "$WORK/vtund.conf" -P 5000 bench 198.18.0.1
      # The server forks a child per session: count it too.
      sleep 1
      for p in $(ip netns pids "$S"); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = vtund ] && [[ " ${TUNNEL_PIDS[*]} " != *" $p "* ]] && TUNNEL_PIDS+=("$p")
      done ;;
    fastd-null | fastd-salsa)
      local method=null
      [ "$1" = fastd-salsa ] && method=salsa2012+umac
      write_fastd_conf s $method
      write_fastd_conf c $method
      start_bg "$S" fastd --config "$WORK/fastd-s.conf"
      start_bg "$C" fastd --config "$WORK/fastd-c.conf"
      for _ in $(seq 50); do
        ip -n "$S" link show tunb >/dev/null 2>&1 && ip -n "$C" link show tunb >/dev/null 2>&1 && break
        sleep 0.1
      done
      address_tunnel tunb tunb ;;
    *) echo "compare: unknown path $1" >&2; exit 2 ;;
  esac
  wait_for_tunnel "$1"
}

stop_path() {
  for p in "${TUNNEL_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${TUNNEL_PIDS[@]}"; do
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  # Persistent devices (vtun) outlive their process.
  ip -n "$S" link del tunb 2>/dev/null || true
  ip -n "$C" link del tunb 2>/dev/null || true
  sleep 0.3
}

measure() {  # measure NAME ROUND
  if ! start_path "$1"; then
    stop_path
    echo "$1 $2 0 0 0 0 0 - -" >>"$RESULTS"
    return
  fi
  local ticks0=0 ticks1=0 tunneled=${#TUNNEL_PIDS[@]}
  [ "$tunneled" -gt 0 ] && ticks0=$(cpu_ticks "${TUNNEL_PIDS[@]}")
  local idle up down par loaded
  idle=$(rtt "$TARGET" 100)
  # The up run doubles as the load for the loaded-latency ping (started 1 s in).
  local pings=$(( (DURATION - 2) * 50 ))
  [ "$pings" -ge 20 ] || pings=20
  (sleep 1; rtt "$TARGET" "$pings" >"$WORK/loaded") &
  local pinger=$!
  up=$(iperf "$TARGET")
  wait "$pinger" || true
  loaded=$(cat "$WORK/loaded" 2>/dev/null || echo 0)
  sleep 0.5
  down=$(iperf "$TARGET" -R)
  sleep 0.5
  par=$(iperf "$TARGET" -P 4)
  local cpu=- rss=-
  if [ "$tunneled" -gt 0 ]; then
    ticks1=$(cpu_ticks "${TUNNEL_PIDS[@]}")
    cpu=$(awk -v t=$((ticks1 - ticks0)) -v hz="$(getconf CLK_TCK)" -v mbit="$up $down $par" -v d="$DURATION" \
      'BEGIN {split(mbit, m, " "); gb = (m[1] + m[2] + m[3]) * d / 8 / 1024; printf "%.1f", (gb > 0 ? t / hz / gb : 0)}')
    rss=$(( $(peak_rss_kb "${TUNNEL_PIDS[@]}") / 1024 ))
  fi
  echo "$1 $2 ${up:-0} ${down:-0} ${par:-0} ${idle:-0} ${loaded:-0} $cpu $rss" >>"$RESULTS"
  echo "  $1: up $up down $down -P4 $par Mbit/s; rtt idle ${idle} ms, loaded ${loaded} ms; CPU-s/GB $cpu; RSS ${rss} MB" >&2
  stop_path
}

for round in $(seq "$ROUNDS"); do
  n=${#PATHS[@]}
  sleep 1
  for i in $(seq 0 $((n - 1))); do
    name=${PATHS[$(((i + round - 1) % n))]}
    echo "round $round: $name" >&2
    measure "$name" "$round"
  done
done

render_table "$RESULTS"
echo "(raw results: $RESULTS)"

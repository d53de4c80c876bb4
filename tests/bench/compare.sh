#!/usr/bin/env bash
# Side-by-side benchmark (not a test: it prints tables, it never fails on numbers).
# Two namespaces joined by veth; over each path, in one run:
#   iperf3 single TCP stream up and down, iperf3 -P 4 up, ping RTT idle and under a
#   saturating iperf3, CPU seconds per GB of the tunnel processes (both ends, user+system)
#   and their peak RSS (VmHWM, the larger end).
# Paths: the bare veth link; kernel VXLAN over it (no userspace, no crypto: the ceiling of
# any tunnel); tund over TCP/UDP, plaintext and encrypted, with offloads on and off
# (--no-offload); and the userspace peers Debian packages, installed when missing (only
# those of the paths measured) and configured as their documentation recommends:
# wireguard-go (+ wireguard-tools), OpenVPN 2.6 (AES-256-GCM, UDP and TCP, no DCO), vtun
# (TCP, aes256cbc and no crypto), fastd (UDP, null and salsa2012+umac); and the
# simpletun-style peer from tests/e2e/peers. Tunnel MTU 1400 everywhere.
# Rounds rotate the order; the table shows medians and ratios to veth, to VXLAN and to the
# best peer. A second table gives each encrypted tund path's overhead: its CPU-s/GB minus
# its plaintext path's minus what the cipher itself costs (tests/bench/cipher_bench.cpp,
# run each round; the cipher as the daemons report it, tund show --dump), against the
# target of issue 16. The tables come from the results file alone (compare_render.sh).
#   usage: tests/bench/compare.sh [SECONDS_PER_RUN=8] [ROUNDS=2]
#          tests/bench/compare.sh --table RESULTS   (re-renders a saved results file)
#   COMPARE_PATHS="veth vxlan tund-tcp wireguard-go" measures a subset.
#   TUND_BASELINE_BIN=/path/to/older/tund adds base-tund-* paths run with that binary in the
#   same rounds, so a change is measured before/after in one run (e.g.
#   COMPARE_PATHS="base-tund-udp tund-udp base-tund-udp-enc tund-udp-enc").
#   CIPHER_BENCH_BIN: the cipher benchmark (default: tests/bench/cipher.sh, which builds it).
set -euo pipefail
# grep -q stops reading at the first match; under pipefail the writer's SIGPIPE then fails
# the whole pipeline (a flaky "not found"). This reads all its input.
quiet_grep() { grep "$@" >/dev/null; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/bench/compare_render.sh
source "$ROOT/tests/bench/compare_render.sh"
if [ "${1:-}" = --table ]; then  # re-render a saved results file: compare.sh --table FILE
  [ -r "${2:-}" ] || { echo "compare: --table needs a readable results file" >&2; exit 2; }
  why=$(check_results "$2") || { echo "compare: $2 is not a compare.sh results file: $why" >&2; exit 2; }
  render_results "$2"
  exit 0
fi
DURATION=${1:-8}
ROUNDS=${2:-2}
MTU=1400          # every tunnel's, as tund's default
SMALL_FRAME=64    # the cipher's second frame size: about an ACK's (see compare_render.sh)
TUND=${TUND_BIN:-$ROOT/build/tund}
TUND_BASELINE=${TUND_BASELINE_BIN:-}
[ -z "$TUND_BASELINE" ] || [ -x "$TUND_BASELINE" ] ||
  { echo "compare: TUND_BASELINE_BIN $TUND_BASELINE is not executable" >&2; exit 1; }
PEER=${PEER_BIN:-$ROOT/build/tests/simpletun_peer}
[ "$(id -u)" -eq 0 ] || { echo "compare: run as root" >&2; exit 1; }
[ -x "$TUND" ] || { echo "compare: build first (tests/bootstrap.sh)" >&2; exit 1; }

TUND_PATHS="tund-tcp tund-udp tund-tcp-enc tund-udp-enc tund-tcp-nooff tund-udp-nooff tund-tcp-enc-nooff tund-udp-enc-nooff"
read -r -a PATHS <<<"${COMPARE_PATHS:-veth vxlan $TUND_PATHS $PEER_PATHS}"
measuring() {  # PATTERN: true if a path to measure matches the shell pattern
  local p
  # shellcheck disable=SC2053  # $1 is a pattern
  for p in "${PATHS[@]}"; do [[ $p == $1 ]] && return 0; done
  return 1
}
measuring simpletun && { [ -x "$PEER" ] || { echo "compare: build first (tests/bootstrap.sh)" >&2; exit 1; }; }

# ---- tools ------------------------------------------------------------------------------
# COMMAND:PACKAGE pairs: the base tools, and each peer's only when its path is measured.
tools=(iperf3:iperf3 ping:iputils-ping ip:iproute2)
measuring wireguard-go && tools+=(wireguard-go:wireguard-go wg:wireguard-tools)
measuring 'openvpn-*' && tools+=(openssl:openssl openvpn:openvpn)
measuring 'vtun-*' && tools+=(vtund:vtun)
measuring 'fastd-*' && tools+=(fastd:fastd)
need_packages=()
for pair in "${tools[@]}"; do
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
# The iperf3 server: its PID in a file, as runs in subshells restart it (iperf below); the
# cleanup ends it with everything else in the namespace.
start_iperf_server() {
  ip netns exec "$S" iperf3 -s -D -I "$WORK/iperf3.pid" >/dev/null
  sleep 0.3
}
start_iperf_server

# ---- keys and configurations --------------------------------------------------------------
"$TUND" genkey >"$WORK/s.key"
"$TUND" genkey >"$WORK/c.key"
"$TUND" pubkey <"$WORK/s.key" >"$WORK/s.pub"
"$TUND" pubkey <"$WORK/c.key" >"$WORK/c.pub"
if measuring wireguard-go; then
  for side in s c; do
    wg genkey >"$WORK/wg$side.key"
    wg pubkey <"$WORK/wg$side.key" >"$WORK/wg$side.pub"
  done
fi
# OpenVPN 2.6 peer-to-peer with self-signed certificates pinned by fingerprint (the
# documented replacement for static keys; the data channel negotiates AES-256-GCM).
if measuring 'openvpn-*'; then
  for side in s c; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -subj "/CN=bench-$side" -keyout "$WORK/ovpn-$side.key" -out "$WORK/ovpn-$side.crt" 2>/dev/null
  done
fi
fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
if measuring 'fastd-*'; then
  for side in s c; do
    fastd --generate-key 2>/dev/null >"$WORK/fastd-$side.keys"
  done
fi
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
# A failed run can leave the server inside a test it never finishes (seen after a tunnel
# dropped a connection mid-test: every later run failed): each retry gets a new server.
# The last failure's message stays in $WORK/iperf.err.
iperf() {
  local target=$1 result out
  shift
  for _ in 1 2 3 4 5; do
    out=$(ip netns exec "$C" iperf3 -c "$target" -t "$DURATION" -f m "$@" 2>&1) || true
    result=$(awk '/receiver/ {for (i = 1; i <= NF; i++) if ($(i+1) == "Mbits/sec") r = $i} END {print r + 0}' <<<"$out")
    [ "${result:-0}" != 0 ] && break
    tail -n 2 <<<"$out" >"$WORK/iperf.err"
    sleep 1
    kill "$(cat "$WORK/iperf3.pid" 2>/dev/null)" 2>/dev/null || true
    sleep 1
    start_iperf_server
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

# Kernel VXLAN between the namespaces over the same veth: no userspace and no crypto, the
# ceiling of any tunnel on this underlay. No tunnel process: its CPU is the kernel's.
start_vxlan() {
  ip -n "$S" link add vx0 type vxlan id 42 remote 198.18.0.2 local 198.18.0.1 dstport 4789 dev "cs$ID" &&
    ip -n "$C" link add vx0 type vxlan id 42 remote 198.18.0.1 local 198.18.0.2 dstport 4789 dev "cc$ID" &&
    ip -n "$S" link set vx0 mtu "$MTU" && ip -n "$C" link set vx0 mtu "$MTU" &&
    ip -n "$S" addr add 10.88.0.1/24 dev vx0 && ip -n "$C" addr add 10.88.0.2/24 dev vx0 &&
    ip -n "$S" link set vx0 up && ip -n "$C" link set vx0 up
}

# start_path NAME: brings up the tunnel for NAME; sets TARGET and TUNNEL_PIDS.
start_path() {
  TUNNEL_PIDS=()
  TARGET=10.88.0.1
  case $1 in
    veth) TARGET=198.18.0.1 ;;
    vxlan) start_vxlan || return 1 ;;
    tund-* | base-tund-*)
      local proto=tcp extra=() skeys=() ckeys=() bin=$TUND
      [[ $1 == base-* ]] && bin=${TUND_BASELINE:?set TUND_BASELINE_BIN for $1}
      [[ $1 == *udp* ]] && proto=udp
      [[ $1 == *nooff* ]] && extra=(--no-offload)
      if [[ $1 == *-enc* ]]; then
        skeys=(--private-key "$WORK/s.key" --allow "$WORK/c.pub")
        ckeys=(--private-key "$WORK/c.key" --peer-key "$WORK/s.pub")
      fi
      # Both ends are named tunb and share /run: a control socket each, which tund show
      # asks for the cipher and the frames sealed. A tund without the option runs without.
      CONTROL_TUND=
      local sctl=() cctl=()
      if "$bin" --help 2>&1 | quiet_grep -- --control-socket; then
        CONTROL_TUND=$bin
        sctl=(--control-socket "$WORK/ctl-s.sock")
        cctl=(--control-socket "$WORK/ctl-c.sock")
      fi
      start_bg "$S" "$bin" -s -i tunb -t $proto "${extra[@]}" "${skeys[@]}" "${sctl[@]}" \
        --address 10.88.0.1/32 --peer 10.88.0.2
      sleep 0.2
      start_bg "$C" "$bin" -c 198.18.0.1 -i tunb -t $proto "${extra[@]}" "${ckeys[@]}" "${cctl[@]}" \
        --address 10.88.0.2/32 --peer 10.88.0.1 ;;
    simpletun)
      start_bg "$S" "$PEER" -s -i tunb
      sleep 0.2
      start_bg "$C" "$PEER" -c 198.18.0.1 -i tunb
      sleep 0.3
      ip -n "$S" link set tunb mtu "$MTU"
      ip -n "$C" link set tunb mtu "$MTU"
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
  for dev in tunb vx0; do
    ip -n "$S" link del $dev 2>/dev/null || true
    ip -n "$C" link del $dev 2>/dev/null || true
  done
  sleep 0.3
}

# ---- the cipher's share ---------------------------------------------------------------------
# What the ciphers cost on their own, this round (compare_render.sh takes the best round).
run_cipher_bench() {
  local size out
  for size in "$MTU" "$SMALL_FRAME"; do
    if ! out=$("$ROOT/tests/bench/cipher.sh" --machine "$size"); then
      echo "compare: cipher_bench failed: no cipher figures this round" >&2
      return 0
    fi
    awk -v size="$size" '{print "#cipher", size, $0}' <<<"$out" >>"$RESULTS"
  done
}

# "SEALED_FRAMES SEALED_BYTES OPENED_FRAMES OPENED_BYTES CIPHER ENDPOINT": both ends'
# counters so far, from tund show --dump (15 tab-separated fields, 13 before --threads; new
# ones only at the end, docs/CONTROL.md: rx bytes 8th, tx bytes 9th, rx packets 10th, tx
# packets 11th, cipher 13th): what an end sends it
# has sealed, what it delivers it has opened (frames lost on the way were sealed, never
# opened). The endpoint (5th, the server's view) tells a reconnection apart, after which
# the counters start again. Nothing when a daemon has no control socket or does not answer.
tund_counters() {
  local sf=0 sb=0 of=0 ob=0 ciphers=() line fields side endpoint=
  [ -n "${CONTROL_TUND:-}" ] || return 0
  for side in s c; do
    line=$("$CONTROL_TUND" show --control-socket "$WORK/ctl-$side.sock" --dump 2>/dev/null) || return 0
    IFS=$'\t' read -r -a fields <<<"${line%%$'\n'*}"
    [ ${#fields[@]} -ge 13 ] || return 0
    ob=$((ob + fields[7])) sb=$((sb + fields[8])) of=$((of + fields[9])) sf=$((sf + fields[10]))
    ciphers+=("${fields[12]}")
    [ $side = s ] && endpoint=${fields[4]}
  done
  local cipher=${ciphers[0]}
  [ "${ciphers[1]}" = "$cipher" ] || cipher="${ciphers[0]}/${ciphers[1]}"
  echo "$sf $sb $of $ob $cipher $endpoint"
}

# The cipher from the tund log lines of this path ("session with ... established (CIPHER)").
logged_cipher() {
  tail -n +"$((LOG_MARK + 1))" "$WORK/tunnel.log" |
    sed -n 's/.* established (\([^)]*\)).*/\1/p' | tail -n 1
}

# Appends the #frames line of an encrypted run (compare_render.sh): the daemons' counters
# over the run, or, when they could not be read or started again, an estimate: each
# MTU-sized packet carries MTU - 52 bytes of payload (IPv4 20, TCP 20, timestamps 12), so
# the payload fills payload / (MTU - 52) frames of MTU bytes, each sealed and opened once;
# ACKs, losses and retransmissions are left out there (the cipher's share comes out low,
# the overhead high).
record_frames() {  # PATH ROUND PAYLOAD COUNTERS_BEFORE COUNTERS_AFTER (tund_counters)
  local sf0 sb0 of0 ob0 c0 e0 sf1 sb1 of1 ob1 c1 e1
  read -r sf0 sb0 of0 ob0 c0 e0 <<<"$4"
  read -r sf1 sb1 of1 ob1 c1 e1 <<<"$5"
  [ "$3" -gt 0 ] || return 0
  if [ -n "$c1" ] && [ -n "$c0" ] && [ "$e0" = "$e1" ] && [ "$sb1" -ge "$sb0" ] && [ "$ob1" -ge "$ob0" ]; then
    [[ $c1 == "(none)" || $c1 == none ]] && c1=$(logged_cipher)
    echo "#frames $1 $2 ${c1:-unknown} $((sf1 - sf0)) $((sb1 - sb0)) $((of1 - of0)) $((ob1 - ob0)) $3 dump" >>"$RESULTS"
    return 0
  fi
  [ -n "$c1" ] && echo "  $1: the tunnel reconnected during the run: its frames estimated" >&2
  local cipher frames
  cipher=$(logged_cipher)
  frames=$(($3 / (MTU - 52)))
  echo "#frames $1 $2 ${cipher:-unknown} $frames $((frames * MTU)) $frames $((frames * MTU)) $3 log" >>"$RESULTS"
}

measure() {  # measure NAME ROUND
  LOG_MARK=$(wc -l <"$WORK/tunnel.log")
  if ! start_path "$1"; then
    stop_path
    echo "$1 $2 0 0 0 0 0 - -" >>"$RESULTS"
    return
  fi
  local ticks0=0 ticks1=0 tunneled=${#TUNNEL_PIDS[@]} counters0='' encrypted=
  [[ $1 == *tund-*-enc* ]] && encrypted=1
  [ -n "$encrypted" ] && counters0=$(tund_counters)
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
  local cpu=- rss=- payload
  # iperf3 payload bytes moved (receiver rates): what CPU-s/GB divides by (GB = 10^9 bytes).
  payload=$(awk -v mbit="$up $down $par" -v d="$DURATION" \
    'BEGIN {split(mbit, m, " "); printf "%.0f", (m[1] + m[2] + m[3]) * 1e6 / 8 * d}')
  if [ "$tunneled" -gt 0 ]; then
    ticks1=$(cpu_ticks "${TUNNEL_PIDS[@]}")
    [ -n "$encrypted" ] && record_frames "$1" "$2" "$payload" "$counters0" "$(tund_counters)"
    cpu=$(awk -v t=$((ticks1 - ticks0)) -v hz="$(getconf CLK_TCK)" -v bytes="$payload" \
      'BEGIN {printf "%.3f", (bytes > 0 ? t / hz / (bytes / 1e9) : 0)}')
    rss=$(( $(peak_rss_kb "${TUNNEL_PIDS[@]}") / 1024 ))
  fi
  echo "$1 $2 ${up:-0} ${down:-0} ${par:-0} ${idle:-0} ${loaded:-0} $cpu $rss" >>"$RESULTS"
  if [ "${up:-0}" = 0 ] || [ "${down:-0}" = 0 ] || [ "${par:-0}" = 0 ]; then
    echo "  $1: an iperf3 run failed: $(tr '\n' ' ' <"$WORK/iperf.err"); the tunnel's log:" >&2
    tail -n +"$((LOG_MARK + 1))" "$WORK/tunnel.log" | tail -n 5 >&2
  fi
  echo "  $1: up $up down $down -P4 $par Mbit/s; rtt idle ${idle} ms, loaded ${loaded} ms; CPU-s/GB $cpu; RSS ${rss} MB" >&2
  stop_path
}

paths_csv=$(tr ' ' ',' <<<"${PATHS[*]}")
echo "#run $(date -u +%Y-%m-%d) $DURATION $ROUNDS $MTU $paths_csv $(nproc) $(uname -r)" \
  "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" >>"$RESULTS"
: >"$WORK/tunnel.log"
for round in $(seq "$ROUNDS"); do
  n=${#PATHS[@]}
  measuring '*tund-*-enc*' && run_cipher_bench
  sleep 1
  for i in $(seq 0 $((n - 1))); do
    name=${PATHS[$(((i + round - 1) % n))]}
    echo "round $round: $name" >&2
    measure "$name" "$round"
  done
done

render_results "$RESULTS"
echo "(raw results: $RESULTS)"

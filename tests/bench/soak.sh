#!/usr/bin/env bash
# Soak benchmark (not a test): an encrypted tunnel carries iperf3 for DURATION seconds while
# the client tund is restarted every RECONNECT seconds; every 10 s it prints throughput and
# the resident memory and open file descriptors of both tund processes, then a summary:
# RSS spread after a 30 s warm-up and whether the fd count stayed constant.
#   usage: tests/bench/soak.sh [DURATION=300] [TRANSPORT=udp] [RECONNECT=60]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${1:-300}
PROTO=${2:-udp}
RECONNECT=${3:-60}
TUND=${TUND_BIN:-$ROOT/build/tund}
[ "$(id -u)" -eq 0 ] || { echo "soak: run as root" >&2; exit 1; }
ID=$$ S=tundss$$ C=tundsc$$
W=$(mktemp -d)
cleanup() {
  set +e
  for ns in $S $C; do ip netns pids $ns 2>/dev/null | xargs -r kill; done
  sleep 0.5
  for ns in $S $C; do ip netns pids $ns 2>/dev/null | xargs -r kill -9; ip netns del $ns 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
ip netns add $S; ip netns add $C
ip link add vs$ID netns $S type veth peer name vc$ID netns $C
ip -n $S addr add 198.18.0.1/24 dev vs$ID; ip -n $C addr add 198.18.0.2/24 dev vc$ID
for ns in $S $C; do ip -n $ns link set lo up; done
ip -n $S link set vs$ID up; ip -n $C link set vc$ID up
# Persistent devices keep their addresses across client restarts, so iperf3's connection
# inside the tunnel survives each reconnect (it only stalls).
ip -n $S tuntap add dev tsoak mode tun; ip -n $C tuntap add dev tsoak mode tun
"$TUND" genkey >"$W/s.key"; "$TUND" genkey >"$W/c.key"
"$TUND" pubkey <"$W/s.key" >"$W/s.pub"; "$TUND" pubkey <"$W/c.key" >"$W/c.pub"
ip netns exec $S "$TUND" -s -i tsoak -t "$PROTO" --mtu 1400 --address 10.66.0.1/32 --peer 10.66.0.2 \
  --private-key "$W/s.key" --allow "$W/c.pub" >"$W/server.log" 2>&1 &
SPID=$!
start_client() {
  ip netns exec $C "$TUND" -c 198.18.0.1 -i tsoak -t "$PROTO" --mtu 1400 --address 10.66.0.2/32 \
    --peer 10.66.0.1 --private-key "$W/c.key" --peer-key "$W/s.pub" >>"$W/client.log" 2>&1 &
  CPID=$!
}
start_client
for _ in $(seq 50); do ip netns exec $C ping -c1 -W1 10.66.0.1 >/dev/null 2>&1 && break; done
ip netns exec $S iperf3 -s -D >/dev/null
sleep 0.5
ip netns exec $C iperf3 -c 10.66.0.1 -t "$DURATION" -i 10 -f m --forceflush >"$W/iperf.out" 2>&1 &
IPERF=$!
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
echo "tund soak, $(date -u +%Y-%m-%d), $PROTO encrypted, ${DURATION}s, client restarted every ${RECONNECT}s"
printf "| %6s | %10s | %12s | %10s | %12s | %10s |\n" "t (s)" "Mbit/s" "server RSS" "server fds" "client RSS" "client fds"
printf "|%s|%s|%s|%s|%s|%s|\n" --------  ------------ -------------- ------------ -------------- ------------
start=$SECONDS
samples="$W/samples"
: >"$samples"
while [ $((SECONDS - start)) -lt "$DURATION" ]; do
  sleep 10
  t=$((SECONDS - start))
  rate=$(grep -E "sec .*Mbits/sec" "$W/iperf.out" | grep -v "sender\|receiver" | tail -n 1 | awk '{for (i=1;i<=NF;i++) if ($(i+1)=="Mbits/sec") print $i}')
  line=$(printf "%s %s %s %s %s %s" "$t" "${rate:-0}" "$(rss $SPID)" "$(fds $SPID)" "$(rss $CPID)" "$(fds $CPID)")
  echo "$line" >>"$samples"
  read -r a b c d e f <<<"$line"
  printf "| %6s | %10s | %9s kB | %10s | %9s kB | %10s |\n" "$a" "$b" "$c" "$d" "$e" "$f"
  if [ $((t % RECONNECT)) -lt 10 ] && [ "$t" -ge "$RECONNECT" ] && [ $((SECONDS - start)) -lt "$DURATION" ]; then
    kill "$CPID"; wait "$CPID" 2>/dev/null || true
    start_client
  fi
done
wait "$IPERF" 2>/dev/null || true
awk 'NR > 3 { if (min == "" || $3 < min) min = $3; if ($3 > max) max = $3;
              if (fmin == "" || $4 < fmin) fmin = $4; if ($4 > fmax) fmax = $4 }
     END { printf "server after 30 s warm-up: RSS %d..%d kB (spread %d kB), fds %d..%d\n", min, max, max - min, fmin, fmax }' "$samples"
grep -E "receiver" "$W/iperf.out" | awk '{for (i=1;i<=NF;i++) if ($(i+1)=="Mbits/sec") print "iperf3 average over the run: " $i " Mbit/s"}'
grep -c "session with .* established" "$W/server.log" | sed 's/^/server sessions established: /'

# shellcheck shell=bash
# Helpers for the hub tests (issue 13), sourced after lib.sh: one server namespace ($NS_S)
# with a bridge on the underlay (198.18.0.1/24), and client namespaces wired to it (client
# I at 198.18.0.(10+I)); the hub's keys and peer files; the per-peer SIGUSR1 lines.
# Tunnel: the hub 10.88.0.1/24 and fd00:88::1/64, client I 10.88.0.(1+I) and
# fd00:88::(1+I) (allowed-ips: those /32 and /128).

HUB_NET4=10.88.0
HUB_NET6=fd00:88:
HUB_UNDER=198.18.0.1
HUB_PEERS=$WORK/peers
HUB_PREFIX=24  # the hub's --address prefix (the scale benchmark's swarm needs a /16)
HUB_NS=()  # HUB_NS[I]: client I's namespace (I from 1)

# Skips (fails under CI) when this tund has no hub mode.
require_hub() {
  "$TUND_BIN" --help 2>&1 | quiet_grep -- "--peers-dir" || skip_or_fail "this tund has no hub mode (--peers-dir)"
}

hub_addr4() { echo "$HUB_NET4.$((1 + $1))"; }   # hub_addr4 I: client I's tunnel address
hub_addr6() { echo "$HUB_NET6:$((1 + $1))"; }
hub_under() { echo "198.18.0.$((10 + $1))"; }    # client I's underlay address

# make_hub_underlay N: the server namespace with its bridge, and N client namespaces.
make_hub_underlay() {
  local n=$1 i ns
  ip netns add "$NS_S"
  ip -n "$NS_S" link set lo up
  ip -n "$NS_S" link add "br$ID" type bridge
  ip -n "$NS_S" addr add "$HUB_UNDER/24" dev "br$ID"
  ip -n "$NS_S" link set "br$ID" up
  # Client-to-client traffic goes through the server's kernel (device in, device out).
  ip netns exec "$NS_S" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
    net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
  for ((i = 1; i <= n; i++)); do
    ns="tundh$ID-$i"
    HUB_NS[$i]=$ns
    EXTRA_NS+=("$ns")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add "vh$ID-$i" netns "$ns" type veth peer name "vb$ID-$i" netns "$NS_S"
    ip -n "$NS_S" link set "vb$ID-$i" master "br$ID" up
    ip -n "$ns" addr add "$(hub_under "$i")/24" dev "vh$ID-$i"
    ip -n "$ns" link set "vh$ID-$i" up
  done
}

# hub_peer_file NAME KEYFILE ALLOWED...: a peer file in $HUB_PEERS for KEYFILE's public key.
hub_peer_file() {
  local name=$1 key=$2 allowed
  shift 2
  mkdir -p "$HUB_PEERS"
  {
    echo "public-key = $("$TUND_BIN" pubkey <"$key")"
    for allowed in "$@"; do echo "allowed-ips = $allowed"; done
  } >"$HUB_PEERS/$name"
}

# make_hub_keys N: the hub's key ($WORK/hub.key, .pub) and client I's ($WORK/cI.key) with
# its peer file cI.
make_hub_keys() {
  local n=$1 i
  "$TUND_BIN" genkey >"$WORK/hub.key"
  "$TUND_BIN" pubkey <"$WORK/hub.key" >"$WORK/hub.pub"
  for ((i = 1; i <= n; i++)); do
    "$TUND_BIN" genkey >"$WORK/c$i.key"
    hub_peer_file "c$i" "$WORK/c$i.key" "$(hub_addr4 "$i")/32" "$(hub_addr6 "$i")/128"
  done
}

# start_hub MODE PROTO [extra args]: the hub in $NS_S (device hub$ID); sets HUB_PID, HUB_DEV.
start_hub() {
  local mode=$1 proto=$2 flag=-u
  shift 2
  [ "$mode" = tap ] && flag=-a
  HUB_DEV="hub$ID"
  start_tund "$NS_S" hub -s -i "$HUB_DEV" "$flag" -t "$proto" --private-key "$WORK/hub.key" \
    --peers-dir "$HUB_PEERS" --address "$HUB_NET4.1/$HUB_PREFIX" "$@"
  HUB_PID=$LAST_PID
  wait_until 5 ip -n "$NS_S" link show "$HUB_DEV" || fail "the hub's device did not appear"
  ip -n "$NS_S" addr add "$HUB_NET6:1/64" dev "$HUB_DEV" nodad
}

# start_hub_client I MODE PROTO [extra args]: client I in its namespace (device hc$ID-I);
# sets CLIENT_PIDS[I].
CLIENT_PIDS=()
start_hub_client() {
  local i=$1 mode=$2 proto=$3 flag=-u dev="hc$ID-$1"
  shift 3
  [ "$mode" = tap ] && flag=-a
  start_tund "${HUB_NS[$i]}" "c$i" -c "$HUB_UNDER" -i "$dev" "$flag" -t "$proto" \
    --private-key "$WORK/c$i.key" --peer-key "$(cat "$WORK/hub.pub")" \
    --address "$(hub_addr4 "$i")/24" "$@"
  CLIENT_PIDS[$i]=$LAST_PID
  wait_until 5 ip -n "${HUB_NS[$i]}" link show "$dev" || fail "client $i's device did not appear"
  ip -n "${HUB_NS[$i]}" addr add "$(hub_addr6 "$i")/64" dev "$dev" nodad
}

# hub_clients_up N: the hub's ping reaches each of clients 1..N.
hub_clients_up() {
  local i
  for ((i = 1; i <= $1; i++)); do ping_ok "$NS_S" "$(hub_addr4 "$i")" 1 || return 1; done
}

# hub_mesh LABEL N: each of clients 1..N pings the hub and every other client (IPv4).
hub_mesh() {
  local i j
  for ((i = 1; i <= $2; i++)); do
    ping_ok "${HUB_NS[$i]}" "$HUB_NET4.1" 2 || fail "$1: client $i cannot ping the hub"
    for ((j = 1; j <= $2; j++)); do
      [ "$i" = "$j" ] && continue
      ping_ok "${HUB_NS[$i]}" "$(hub_addr4 "$j")" 2 || fail "$1: client $i cannot ping client $j"
    done
  done
}

# hub_up MODE PROTO N: the hub and clients 1..N, all reached by the hub's ping in 20 s.
hub_up() {
  local i
  start_hub "$1" "$2"
  for ((i = 1; i <= $3; i++)); do start_hub_client "$i" "$1" "$2"; done
  wait_until 20 hub_clients_up "$3" || fail "$2: not every client came up within 20 s"
}

# hub_down N: stops clients 1..N and the hub, which must still have been running.
hub_down() {
  local i
  kill -0 "$HUB_PID" || fail "the hub exited"
  for ((i = 1; i <= $1; i++)); do stop_pid "${CLIENT_PIDS[$i]}"; done
  stop_pid "$HUB_PID"
}

# hub_peer_line NAME: asks the hub for its counters (SIGUSR1) and prints the newest line
# for peer NAME ("peer NAME: endpoint ADDR:PORT, up, rx ...; dropped: spoofed N ...").
hub_peer_line() {
  kill -USR1 "$HUB_PID"
  sleep 0.3
  { grep -E "peer $1: " "$WORK/hub.log" || true; } | tail -n 1
}

# peer_counter LINE WORD: the number after WORD (or WORD=, WORD:) in a per-peer line,
# e.g. peer_counter "$line" spoofed.
peer_counter() {
  sed -n "s/.*[ ;,(]$2[a-z-]*[ =:]\{1,2\}\([0-9][0-9]*\).*/\1/p" <<<"$1" | sed -n 1p || true
}

# ping_fails_with NS ADDR TEXT [SOURCE]: ping gets no answer and its output contains TEXT
# (e.g. "Unreachable"): an ICMP error came back, not silence.
ping_fails_with() {
  local out src=()
  [ -n "${4:-}" ] && src=(-I "$4")
  out=$(ip netns exec "$1" ping -c 2 -i 0.3 -W 2 "${src[@]}" "$2" 2>&1) && return 1
  grep -q "$3" <<<"$out"
}

# start_capture NS DEV NAME FILTER: tcpdump on DEV in NS into $WORK/cap-NAME.pcap (stopped
# by capture_count).
CAPTURES=()
start_capture() {
  ip netns exec "$1" tcpdump --immediate-mode -i "$2" -U -n -w "$WORK/cap-$3.pcap" "$4" \
    >/dev/null 2>&1 &
  CAPTURES+=("$!")
  PIDS+=("$!")
}
captures_ready() { sleep 1; }  # tcpdump needs a moment to attach

# stop_captures; capture_count NAME: packets in the capture.
stop_captures() {
  sleep 0.5
  for pid in "${CAPTURES[@]}"; do stop_pid "$pid"; done
  CAPTURES=()
}
capture_count() { tcpdump -r "$WORK/cap-$1.pcap" 2>/dev/null | wc -l; }

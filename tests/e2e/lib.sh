# Shared helpers for the end-to-end tests: two (or more) network namespaces joined by a
# veth underlay in 198.18.0.0/15, the real tund in each, and cleanup on every exit path.
# Names carry the test's PID so parallel runs never collide. Traffic stays inside the
# namespaces created here.
set -euo pipefail

TUND_BIN=${TUND_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/tund}
ID=$$
NS_S="tunds$ID"   # server side
NS_C="tundc$ID"   # client side
UNDER_S=198.18.0.1
UNDER_C=198.18.0.2
TUN_S=10.77.0.1
TUN_C=10.77.0.2
WORK=$(mktemp -d /tmp/tund-e2e.XXXXXX)
PIDS=()
EXTRA_NS=()
CLEANUP_PATHS=()

skip_or_fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: $1 (end-to-end tests must run under CI=true)"
    exit 1
  fi
  echo "SKIP: $1"
  exit 77
}

[ "$(id -u)" -eq 0 ] || skip_or_fail "needs root"
[ -c /dev/net/tun ] || skip_or_fail "needs /dev/net/tun"
[ -x "$TUND_BIN" ] || skip_or_fail "tund binary not built at $TUND_BIN"
# require_tools CMD...: every tool a test uses, checked before anything is set up.
require_tools() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || skip_or_fail "needs $tool (apt-get install it; .ci/run does)"
  done
}
require_tools ip ping
ip netns add "tundprobe$ID" 2>/dev/null || skip_or_fail "cannot create network namespaces"
ip netns del "tundprobe$ID"

cleanup() {
  local status=$?
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.2
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  for ns in "$NS_S" "$NS_C" "${EXTRA_NS[@]}"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  # Under a sanitizer build a report in any daemon's log fails the test, even if the
  # tunnel kept working (a leak at exit, say).
  if grep -l "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$WORK"/*.log 2>/dev/null; then
    echo "FAIL: sanitizer report in the logs above"
    [ $status -eq 0 ] && status=1
  fi
  if [ $status -ne 0 ] && [ $status -ne 77 ]; then
    echo "---- logs of the failed test ----"
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "== $f"; tail -n 40 "$f"; }; done
  fi
  rm -rf "$WORK" "${CLEANUP_PATHS[@]}"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# netns_etc NS FILE CONTENT: a file that `ip netns exec NS` mounts over /etc/FILE (hosts,
# resolv.conf), so name lookups in tests stay inside the namespace.
netns_etc() {
  mkdir -p "/etc/netns/$1"
  CLEANUP_PATHS+=("/etc/netns/$1")
  printf '%s\n' "$3" >"/etc/netns/$1/$2"
}

step() { echo "== $*"; }
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "PASS: $*"; }

# Two namespaces joined by a veth pair: server side UNDER_S, client side UNDER_C.
make_underlay() {
  ip netns add "$NS_S"
  ip netns add "$NS_C"
  ip link add "vs$ID" netns "$NS_S" type veth peer name "vc$ID" netns "$NS_C"
  ip -n "$NS_S" addr add "$UNDER_S/24" dev "vs$ID"
  ip -n "$NS_C" addr add "$UNDER_C/24" dev "vc$ID"
  for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
  ip -n "$NS_S" link set "vs$ID" up
  ip -n "$NS_C" link set "vc$ID" up
}

# daemon_extra_args: the options the environment adds to every daemon the suite starts,
# one a line; start_tund adds them, and so does each test that runs "$TUND_BIN" as a daemon
# itself (mapfile -t extra < <(daemon_extra_args); "$TUND_BIN" ... "${extra[@]}"):
#   TUND_E2E_NO_OFFLOAD=1  --no-offload (tests/run.sh runs the suite both ways)
#   TUND_E2E_THREADS=N     --threads N: N threads seal and open frames (the suite is meant
#                          to pass with 1 and with 2); unset: tund's default (auto)
# Subcommands (genkey, show...) and runs that only check the parser get none of them.
daemon_extra_args() {
  if [ "${TUND_E2E_NO_OFFLOAD:-0}" = 1 ]; then echo --no-offload; fi
  if [ -n "${TUND_E2E_THREADS:-}" ]; then printf '%s\n' --threads "$TUND_E2E_THREADS"; fi
}

# start_tund NS LOGNAME ARGS... : runs tund in NS in the background, with
# daemon_extra_args after ARGS; sets LAST_PID.
start_tund() {
  local ns=$1 name=$2 extra
  shift 2
  mapfile -t extra < <(daemon_extra_args)
  ip netns exec "$ns" "$TUND_BIN" "$@" "${extra[@]}" >"$WORK/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

stop_pid() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# wait_until SECONDS CMD... : polls CMD every 0.1 s.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# configure_link NS IFACE LOCAL PEER MODE: address (point-to-point for TUN, /24 for TAP), up.
configure_link() {
  local ns=$1 dev=$2 local_addr=$3 peer=$4 mode=$5
  wait_until 5 ip -n "$ns" link show "$dev" || fail "device $dev did not appear in $ns"
  if [ "$mode" = tap ]; then
    ip -n "$ns" addr add "$local_addr/24" dev "$dev"
  else
    ip -n "$ns" addr add "$local_addr" peer "$peer" dev "$dev"
  fi
  ip -n "$ns" link set "$dev" up
}

# tunnel_up MODE(tun|tap) TRANSPORT(tcp|udp) [extra tund args]: server + client + addresses.
tunnel_up() {
  local mode=$1 proto=$2
  shift 2
  local flag=-u
  [ "$mode" = tap ] && flag=-a
  DEV_S="${mode}s$ID"
  DEV_C="${mode}c$ID"
  start_tund "$NS_S" server -s -i "$DEV_S" "$flag" -t "$proto" "$@"
  SERVER_PID=$LAST_PID
  start_tund "$NS_C" client -c "$UNDER_S" -i "$DEV_C" "$flag" -t "$proto" "$@"
  CLIENT_PID=$LAST_PID
  configure_link "$NS_S" "$DEV_S" "$TUN_S" "$TUN_C" "$mode"
  configure_link "$NS_C" "$DEV_C" "$TUN_C" "$TUN_S" "$mode"
}

tunnel_down() {
  stop_pid "$CLIENT_PID"
  stop_pid "$SERVER_PID"
}

listening() {  # listening NS PORT: a TCP listener is up on PORT in NS
  ip netns exec "$1" ss -Hltn "sport = :$2" | grep -c . >/dev/null
}

# grep -q stops reading at the first match; under pipefail the writer's SIGPIPE then fails
# the whole pipeline (a flaky "not found"). This reads all its input.
quiet_grep() { grep "$@" >/dev/null; }
ping_ok() {  # ping_ok NS ADDR [count]: every one of the echo requests must be answered
  local count=${3:-3} out
  out=$(ip netns exec "$1" ping -c "$count" -i 0.2 -W 2 "$2" 2>&1) || return 1
  grep -q " $count received" <<<"$out"
}

# stats_of PID LOGNAME: asks tund for its counters (SIGUSR1) and prints the line.
stats_of() {
  kill -USR1 "$1"
  sleep 0.3
  grep "stats:" "$WORK/$2.log" | tail -n 1
}

# counter LINE NAME: the number after NAME in a stats line.
counter() {
  sed -n "s/.*[ ;]$2 \([0-9][0-9]*\).*/\1/p" <<<"$1"
}

# make_keys: server and client key pairs (and a psk) in $WORK via tund's own commands.
make_keys() {
  for who in server client other; do
    "$TUND_BIN" genkey >"$WORK/$who.key"
    "$TUND_BIN" pubkey <"$WORK/$who.key" >"$WORK/$who.pub"
  done
  "$TUND_BIN" genpsk >"$WORK/tunnel.psk"
}

# secure_tunnel_up MODE PROTO [extra args for both]: an encrypted tunnel with make_keys' keys.
secure_tunnel_up() {
  local mode=$1 proto=$2
  shift 2
  SERVER_KEYS=(--private-key "$WORK/server.key" --allow "$WORK/client.pub")
  CLIENT_KEYS=(--private-key "$WORK/client.key" --peer-key "$(cat "$WORK/server.pub")")
  DEV_S="${mode}s$ID"
  DEV_C="${mode}c$ID"
  local flag=-u
  [ "$mode" = tap ] && flag=-a
  start_tund "$NS_S" server -s -i "$DEV_S" "$flag" -t "$proto" "${SERVER_KEYS[@]}" "$@"
  SERVER_PID=$LAST_PID
  start_tund "$NS_C" client -c "$UNDER_S" -i "$DEV_C" "$flag" -t "$proto" "${CLIENT_KEYS[@]}" "$@"
  CLIENT_PID=$LAST_PID
  configure_link "$NS_S" "$DEV_S" "$TUN_S" "$TUN_C" "$mode"
  configure_link "$NS_C" "$DEV_C" "$TUN_C" "$TUN_S" "$mode"
}

# send_file FILE [ADDR]: sends FILE from the client namespace to a receiver on the server's
# tunnel address (or ADDR, IPv4 or IPv6, in the server namespace) and prints the sha256 of
# what arrived there.
send_file() {
  local addr=${2:-$TUN_S} listen=TCP-LISTEN connect
  connect="TCP:$addr"
  case $addr in *:*) listen=TCP6-LISTEN connect="TCP6:[$addr]" addr="[$addr]" ;; esac
  rm -f "$WORK/received"
  ip netns exec "$NS_S" socat -u "$listen:5001,bind=$addr,reuseaddr" "CREATE:$WORK/received" &
  local recv=$!
  PIDS+=("$recv")
  wait_until 5 listening "$NS_S" 5001 || fail "receiver did not start"
  timeout 120 ip netns exec "$NS_C" socat -u "FILE:$1" "$connect:5001" || fail "sender failed"
  wait "$recv" || true
  sha256sum <"$WORK/received" | cut -d' ' -f1
}

# start_sshd: an sshd on the server's tunnel address with generated host and user keys
# (once per test); ssh_run CMD runs CMD there from the client namespace.
start_sshd() {
  if [ ! -f "$WORK/sshd_config" ]; then
    ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey"
    ssh-keygen -q -t ed25519 -N '' -f "$WORK/userkey"
    cp "$WORK/userkey.pub" "$WORK/authorized_keys"
    printf '%s\n' "ListenAddress $TUN_S" "HostKey $WORK/hostkey" \
      "PermitRootLogin prohibit-password" "AuthorizedKeysFile $WORK/authorized_keys" \
      "StrictModes no" "PasswordAuthentication no" "KbdInteractiveAuthentication no" \
      "UsePAM no" "PidFile $WORK/sshd.pid" >"$WORK/sshd_config"
    mkdir -p /run/sshd
  fi
  ip netns exec "$NS_S" /usr/sbin/sshd -D -f "$WORK/sshd_config" -E "$WORK/sshd.log" &
  SSHD_PID=$!
  PIDS+=("$SSHD_PID")
  wait_until 5 listening "$NS_S" 22 || fail "sshd did not start"
}
ssh_run() {
  ip netns exec "$NS_C" ssh -i "$WORK/userkey" -o BatchMode=yes -o ConnectTimeout=5 \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    "root@$TUN_S" "$1"
}

# make_attacker: a third namespace ($ATT, 198.18.1.2) wired to the server namespace
# (198.18.1.1), playing an off-path attacker.
make_attacker() {
  ATT="tunda$ID"
  EXTRA_NS+=("$ATT")
  ip netns add "$ATT"
  ip link add "va$ID" netns "$ATT" type veth peer name "vx$ID" netns "$NS_S"
  ip -n "$ATT" addr add 198.18.1.2/24 dev "va$ID"
  ip -n "$NS_S" addr add 198.18.1.1/24 dev "vx$ID"
  ip -n "$ATT" link set "va$ID" up
  ip -n "$ATT" link set lo up
  ip -n "$NS_S" link set "vx$ID" up
}

# ---- issue 14: the control socket, `tund show` and its forms ---------------------------
STATUS_FORMS="python3 $(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/status_forms.py"
TUND_DOCS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/docs

# tund_ctl NS SOCKET CMD ARGS...: `tund CMD ARGS --control-socket SOCKET` run in NS; its
# stderr also goes to $WORK/ctl.log (a sanitizer report there fails the test).
tund_ctl() {
  local ns=$1 sock=$2 cmd=$3 status=0
  shift 3
  ip netns exec "$ns" "$TUND_BIN" "$cmd" "$@" --control-socket "$sock" 2>"$WORK/ctl.err" || status=$?
  cat "$WORK/ctl.err" >>"$WORK/ctl.log"
  cat "$WORK/ctl.err" >&2
  return $status
}

# show_forms NS SOCKET IFACE PREFIX: the four forms of `tund show IFACE` into
# $WORK/PREFIX.{txt,json,dump,prom}, one right after another.
show_forms() {
  local ns=$1 sock=$2 iface=$3 out=$WORK/$4
  tund_ctl "$ns" "$sock" show "$iface" >"$out.txt" || fail "tund show $iface failed"
  tund_ctl "$ns" "$sock" show "$iface" --json >"$out.json" || fail "tund show $iface --json failed"
  tund_ctl "$ns" "$sock" show "$iface" --dump >"$out.dump" || fail "tund show $iface --dump failed"
  tund_ctl "$ns" "$sock" show "$iface" --prometheus >"$out.prom" ||
    fail "tund show $iface --prometheus failed"
}

# show_json NS SOCKET IFACE FILE: `tund show IFACE --json` into FILE.
show_json() {
  tund_ctl "$1" "$2" show "$3" --json >"$4" || fail "tund show $3 --json failed"
}

# status_get JSON IFACE PEER FIELD: a peer's field from a show --json file (PEER "-": the
# interface's own field); lists comma-separated, booleans true/false.
status_get() { $STATUS_FORMS get "$@"; }

# peer_field NS SOCKET IFACE PEER FIELD: the field from a fresh `tund show --json`.
peer_field() {
  show_json "$1" "$2" "$3" "$WORK/peer_field.json"
  status_get "$WORK/peer_field.json" "$3" "$4" "$5"
}

# peer_is_up NS SOCKET IFACE PEER: true when the peer's state is up.
peer_is_up() { [ "$(peer_field "$@" up 2>/dev/null)" = true ]; }

# forms_agree PREFIX: the four forms in $WORK/PREFIX.* say the same (status_forms.py agree).
forms_agree() {
  local out=$WORK/$1 problems
  problems=$($STATUS_FORMS agree "$out.json" "$out.dump" "$out.prom" "$out.txt") ||
    fail "the forms of tund show disagree ($1):"$'\n'"$problems"
}

# json_valid FILE: validates against docs/tund-show.schema.json (python3-jsonschema).
json_valid() {
  local problems
  [ -f "$TUND_DOCS/tund-show.schema.json" ] || fail "no docs/tund-show.schema.json"
  problems=$($STATUS_FORMS schema "$1" "$TUND_DOCS/tund-show.schema.json") ||
    fail "$1 does not validate against docs/tund-show.schema.json:"$'\n'"$problems"
}

# prom_valid FILE: `promtool check metrics` accepts it (lint problems fail too).
prom_valid() {
  local out
  out=$(promtool check metrics <"$1" 2>&1) || fail "promtool check metrics on $1:"$'\n'"$out"
}

# notify_socket NS FILE: a datagram socket standing in for systemd's (tests/e2e/
# test_systemd.sh); every message becomes one line of FILE. Sets NOTIFY_SOCK (its path).
notify_socket() {
  NOTIFY_SOCK=$WORK/notify-$RANDOM.sock
  ip netns exec "$1" socat -u "UNIX-RECV:$NOTIFY_SOCK" "OPEN:$2,creat,append" </dev/null >/dev/null 2>&1 &
  PIDS+=($!)
  wait_until 5 test -S "$NOTIFY_SOCK" || fail "the fake notify socket did not appear"
}

# ctl_tunnel_up CLIENT_NS PROTO [server args]: an encrypted TUN tunnel (make_keys' keys)
# from $NS_S (tuns$ID, $TUN_S) to CLIENT_NS (tunc$ID, $TUN_C), reaching $UNDER_S, each end
# with its control socket ($SERVER_SOCK, $CLIENT_SOCK in $WORK/ctl); sets SERVER_PID and
# CLIENT_PID.
ctl_tunnel_up() {
  local ns=$1 proto=$2
  shift 2
  SERVER_SOCK=$WORK/ctl/server.sock
  CLIENT_SOCK=$WORK/ctl/client.sock
  start_tund "$NS_S" server -s -i "tuns$ID" -t "$proto" --private-key "$WORK/server.key" \
    --allow "$WORK/client.pub" --control-socket "$SERVER_SOCK" "$@"
  SERVER_PID=$LAST_PID
  start_tund "$ns" client -c "$UNDER_S" -i "tunc$ID" -t "$proto" --private-key "$WORK/client.key" \
    --peer-key "$(cat "$WORK/server.pub")" --control-socket "$CLIENT_SOCK"
  CLIENT_PID=$LAST_PID
  configure_link "$NS_S" "tuns$ID" "$TUN_S" "$TUN_C" tun
  configure_link "$ns" "tunc$ID" "$TUN_C" "$TUN_S" tun
}

# ---- issue 15: IPv6 on the tunnel and on the underlay -----------------------------------
# no_dad NS...: addresses the kernel adds later (a TAP device's link-local, say) skip
# duplicate address detection, so the first IPv6 packets do not fail for ~2 s.
no_dad() {
  local ns
  for ns in "$@"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  done
}

# underlay6: IPv6 on make_underlay's veth pair too, UNDER6_S / UNDER6_C in fd00:198:18::/64.
underlay6() {
  UNDER6_S=fd00:198:18::1
  UNDER6_C=fd00:198:18::2
  ip -n "$NS_S" addr add "$UNDER6_S/64" dev "vs$ID" nodad
  ip -n "$NS_C" addr add "$UNDER6_C/64" dev "vc$ID" nodad
}

# via_underlay HOST CMD...: runs CMD (tunnel_up, secure_tunnel_up...) with the client
# connecting to HOST ("[fd00:198:18::1]:55555", say) instead of $UNDER_S.
via_underlay() {
  local UNDER_S=$1
  shift
  "$@"
}

# add_addr6 NS IFACE LOCAL PEER MODE: an IPv6 address as configure_link adds IPv4 ones
# (point-to-point for TUN, /64 for TAP), without DAD; returns once PEER is routed there.
add_addr6() {
  local ns=$1 dev=$2 local_addr=$3 peer=$4 mode=$5
  if [ "$mode" = tap ]; then
    ip -n "$ns" -6 addr add "$local_addr/64" dev "$dev" nodad
  else
    ip -n "$ns" -6 addr add "$local_addr" peer "$peer" dev "$dev" nodad
  fi
  wait_until 5 routed6 "$ns" "$peer" "$dev" || fail "no route to $peer on $dev in $ns"
}

# routed6 NS ADDR IFACE: ADDR is routed out of IFACE in NS. The kernel adds a peer's route
# from a workqueue after `ip addr add` returns (at the end of DAD, even a skipped one), so
# a ping right after it can fail with "Network is unreachable" on a busy machine.
routed6() {
  local out
  out=$(ip -n "$1" -6 route get "$2" 2>/dev/null) || return 1
  grep -q " dev $3 " <<<"$out"
}

# ping_size_ok NS ADDR SIZE [count]: as ping_ok, with SIZE bytes of ICMP payload.
ping_size_ok() {
  local count=${4:-3} out
  out=$(ip netns exec "$1" ping -c "$count" -i 0.2 -W 2 -s "$3" "$2" 2>&1) || return 1
  grep -q " $count received" <<<"$out"
}

# start_sshd_at ADDR / ssh_run_at ADDR CMD: start_sshd and ssh_run for another address of
# the server namespace (an IPv6 one, say). start_sshd_at's first call fixes the address.
start_sshd_at() {
  local TUN_S=$1
  start_sshd
}
ssh_run_at() {
  local TUN_S=$1
  ssh_run "$2"
}

#!/usr/bin/env bash
# The service side: the unit passes systemd-analyze verify; tund speaks sd_notify on
# $NOTIFY_SOCKET and sends READY=1 only once the tunnel is usable (a client: only after it
# reached the server); --user drops root but keeps CAP_NET_ADMIN only.
. "$(dirname "$0")/lib.sh"
require_tools systemd-analyze socat
# The unit as configured by CMake for the build under test (systemd/tund@.service.in).
UNIT=${TUND_BUILD_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build}/systemd/tund@.service
[ -f "$UNIT" ] || fail "no configured unit at $UNIT (build with cmake first)"
make_underlay

step "systemd-analyze verify"
mkdir -p "$WORK/units"
# The unit as installed, pointing at the binary under test instead of the install prefix's.
# --man=no: the man pages it names are not installed here (the package test checks them).
sed "s|^ExecStart=[^ ]*|ExecStart=$TUND_BIN|" "$UNIT" >"$WORK/units/tund@office.service"
out=$(systemd-analyze verify --man=no "$WORK/units/tund@office.service" 2>&1) || fail "verify failed: $out"
grep -q "^Type=notify" "$UNIT" || fail "the unit is not Type=notify"
pass "systemd-analyze verify passes on tund@.service"

step "READY=1 only once the client's tunnel is up"
# A datagram socket standing in for systemd: every message becomes one line in a file.
socket="$WORK/notify.sock"
ip netns exec "$NS_C" socat -u "UNIX-RECV:$socket" "OPEN:$WORK/notify.log,creat,append" &
PIDS+=($!)
wait_until 5 test -S "$socket"
mapfile -t extra < <(daemon_extra_args)
ip netns exec "$NS_C" env NOTIFY_SOCKET="$socket" "$TUND_BIN" -c "$UNDER_S" -i "tunc$ID" \
  --address "$TUN_C/32" --peer "$TUN_S" "${extra[@]}" >"$WORK/client.log" 2>&1 &
CLIENT_PID=$!
PIDS+=("$CLIENT_PID")
sleep 2
if grep -q "READY=1" "$WORK/notify.log" 2>/dev/null; then fail "READY=1 sent with no server"; fi
# Before READY=1 the status says what it waits for (issue 14), and nothing else.
wait_until 3 grep -q "STATUS=waiting for the server at $UNDER_S:" "$WORK/notify.log" ||
  fail "no 'waiting for the server' status before the server came up"
grep "STATUS=" "$WORK/notify.log" | quiet_grep -v "STATUS=waiting for the server" &&
  fail "unexpected status before any event: $(grep STATUS= "$WORK/notify.log")"
start_tund "$NS_S" server -s -i "tuns$ID" --address "$TUN_S/32" --peer "$TUN_C"
SERVER_PID=$LAST_PID
wait_until 10 grep -q "READY=1" "$WORK/notify.log" || fail "no READY=1 after the server came up"
ping_ok "$NS_C" "$TUN_S" 1 || fail "READY=1 was sent but the tunnel does not carry traffic"
grep -q "STATUS=connected to $UNDER_S" "$WORK/notify.log" || fail "no STATUS line on connect"
pass "no READY=1 for 2 s without a server; READY=1 once connected, and ping worked at once"

step "STATUS on disconnect, STOPPING=1 on shutdown"
stop_pid "$SERVER_PID"
wait_until 5 grep -q "STATUS=reconnecting" "$WORK/notify.log" || fail "no STATUS on disconnect"
stop_pid "$CLIENT_PID"
wait_until 5 grep -q "STOPPING=1" "$WORK/notify.log" || fail "no STOPPING=1"
[ "$(grep -c READY=1 "$WORK/notify.log")" -eq 1 ] || fail "READY=1 sent more than once"
pass "STATUS=reconnecting, then STOPPING=1"

step "--user drops root, keeps only CAP_NET_ADMIN"
start_tund "$NS_S" server -s -i "tuns$ID" --address "$TUN_S/32" --peer "$TUN_C" --user nobody \
  --down "ip link set dev tuns$ID mtu 1280 && echo down-hook-ok"
SERVER_PID=$LAST_PID
start_tund "$NS_C" client -c "$UNDER_S" -i "tunc$ID" --address "$TUN_C/32" --peer "$TUN_S"
CLIENT_PID=$LAST_PID
wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "tunnel with --user nobody did not come up"
[ "$(ps -o user= -p "$SERVER_PID")" = nobody ] || fail "not running as nobody"
caps=$(awk '/^CapEff/ {print $2}' "/proc/$SERVER_PID/status")
[ "$caps" = "0000000000001000" ] || fail "effective capabilities are $caps, not CAP_NET_ADMIN only"
stop_pid "$SERVER_PID"
grep -q "down-hook-ok" "$WORK/server.log" || fail "the down hook could not use CAP_NET_ADMIN"
stop_pid "$CLIENT_PID"
pass "runs as nobody with CapEff=$caps; the down hook still configured the device"

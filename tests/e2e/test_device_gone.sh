#!/usr/bin/env bash
# The device disappears under a running tund (`ip link del`): TUN and TAP, TCP and UDP,
# with a peer connected (server) and while reconnecting (client). tund must notice it,
# run --down, and exit non-zero within 2 s (Restart=on-failure brings it back), without
# spinning on the dead fd meanwhile (its CPU time over the window stays small).
. "$(dirname "$0")/lib.sh"
make_underlay

EXIT_LIMIT=2
# grep -c, not -q: see test_hostile_floods.sh (SIGPIPE under pipefail).
if ldd "$TUND_BIN" 2>/dev/null | grep -c libasan >/dev/null; then EXIT_LIMIT=4; fi
CPU_LIMIT_TICKS=30  # 0.3 s of CPU (at 100 Hz) over the whole window; a spin uses ~2 s

cpu_ticks() {  # utime + stime of PID, in clock ticks (fields 14 and 15 of /proc/PID/stat)
  awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null
}

# delete_and_expect_exit NS DEV PID LOGNAME HOOKFILE: the whole check for one daemon.
delete_and_expect_exit() {
  local ns=$1 dev=$2 pid=$3 name=$4 hook=$5
  local before last now deadline status=0
  before=$(cpu_ticks "$pid")
  [ -n "$before" ] || fail "$name: tund is not running before the device was deleted"
  last=$before
  ip -n "$ns" link del "$dev"
  local start_ns
  start_ns=$(date +%s%N)
  deadline=$((start_ns + EXIT_LIMIT * 1000000000))
  while now=$(cpu_ticks "$pid") && [ -n "$now" ]; do
    last=$now
    if [ "$(date +%s%N)" -gt "$deadline" ]; then
      fail "$name: still running ${EXIT_LIMIT} s after its device was deleted (CPU $((last - before)) ticks)"
    fi
    # A zombie has exited: stop sampling.
    grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
    sleep 0.05
  done
  local took_ms=$((($(date +%s%N) - start_ns) / 1000000))
  wait "$pid" || status=$?
  [ "$status" -ne 0 ] || fail "$name: exit status 0 after the device vanished (want non-zero)"
  [ $((last - before)) -le $CPU_LIMIT_TICKS ] ||
    fail "$name: used $((last - before)) CPU ticks while its device was gone (spinning)"
  [ -s "$hook" ] || fail "$name: the --down hook did not run"
  grep -q "$dev" "$hook" || fail "$name: --down hook saw TUND_IFACE=$(cat "$hook"), want $dev"
  grep -q "device $dev" "$WORK/$name.log" || fail "$name: no log line naming the device"
  grep "device $dev" "$WORK/$name.log" | tail -n 2 | sed "s/^/   /"
  pass "$name: exit $status after ~${took_ms} ms (limit ${EXIT_LIMIT} s), $((last - before)) CPU ticks, --down ran"
}

for mode in tun tap; do
  for proto in tcp udp; do
    flag=-u
    [ "$mode" = tap ] && flag=-a
    step "$mode/$proto: the server's device is deleted with a client connected"
    DEV_S="${mode}s$ID" DEV_C="${mode}c$ID"
    rm -f "$WORK/down-s" "$WORK/down-c"
    start_tund "$NS_S" "server-$mode-$proto" -s -i "$DEV_S" "$flag" -t "$proto" \
      --address "$TUN_S/24" --down "echo \"\$TUND_IFACE\" >$WORK/down-s"
    SERVER_PID=$LAST_PID
    start_tund "$NS_C" "client-$mode-$proto" -c "$UNDER_S" -i "$DEV_C" "$flag" -t "$proto" \
      --address "$TUN_C/24" --down "echo \"\$TUND_IFACE\" >$WORK/down-c"
    CLIENT_PID=$LAST_PID
    wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$mode/$proto: tunnel did not come up"
    # Traffic towards the dying device keeps the write path busy too.
    ip netns exec "$NS_C" ping -f -w 3 "$TUN_S" >/dev/null 2>&1 &
    FLOOD=$!
    PIDS+=("$FLOOD")
    delete_and_expect_exit "$NS_S" "$DEV_S" "$SERVER_PID" "server-$mode-$proto" "$WORK/down-s"
    stop_pid "$FLOOD"

    step "$mode/$proto: the client's device is deleted while it reconnects"
    sleep 0.3
    delete_and_expect_exit "$NS_C" "$DEV_C" "$CLIENT_PID" "client-$mode-$proto" "$WORK/down-c"
  done
done

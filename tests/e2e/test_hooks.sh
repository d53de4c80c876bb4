#!/usr/bin/env bash
# Hooks get none of tund's descriptors, so a background child of a hook cannot keep tund's
# port after tund exits; --down sees the device as it is when --down runs (its current
# name and MTU); a --down that hangs is killed after its time limit; a background process
# of a hook that keeps the hook's output open does not hold tund up.
. "$(dirname "$0")/lib.sh"
require_tools timeout
make_underlay

step "a hook sees only stdin, stdout and stderr"
for proto in tcp udp; do
  start_tund "$NS_S" fds-$proto -s -i "f$proto$ID" -t "$proto" \
    --up "exec >$WORK/up-fds-$proto; ls /proc/\$\$/fd"
  wait_until 5 test -s "$WORK/up-fds-$proto" || fail "$proto: the up hook did not run"
  sleep 0.2
  stop_pid "$LAST_PID"
  fds=$(sort -n "$WORK/up-fds-$proto" | tr '\n' ' ')
  [ "$fds" = "0 1 2 " ] || fail "$proto: the up hook inherited descriptors: $fds"
done
pass "the up hook's shell held fds 0 1 2 only (tcp and udp)"

step "a hook's lingering child does not keep the port: tund starts again at once"
for proto in tcp udp; do
  start_tund "$NS_S" linger-$proto -s -i "l$proto$ID" -t "$proto" \
    --up '(sleep 300 </dev/null >/dev/null 2>&1 &)'
  pid=$LAST_PID
  wait_until 5 grep -q "listening" "$WORK/linger-$proto.log" || fail "$proto: did not start"
  stop_pid "$pid"
  start_tund "$NS_S" again-$proto -s -i "l$proto$ID" -t "$proto"
  wait_until 5 grep -q "listening" "$WORK/again-$proto.log" ||
    fail "$proto: the restarted server could not listen: $(cat "$WORK/again-$proto.log")"
  stop_pid "$LAST_PID"
done
pass "restart after SIGTERM with a lingering hook child: the port was free (tcp and udp)"

step "a background process holding the hook's output does not hold start-up"
# `sleep 100 &` inherits the hook's stdout and stderr (pipes tund reads): tund stops
# reading them a short grace after the hook exits, says so, and starts.
start_tund "$NS_S" bg -s -i "bg$ID" --up 'sleep 100 & echo started-bg'
pid=$LAST_PID
wait_until 10 grep -c "listening" "$WORK/bg.log" >/dev/null ||
  fail "not listening within 10 s: $(cat "$WORK/bg.log")"
grep -c "hook up: started-bg$" "$WORK/bg.log" >/dev/null || fail "the hook's output was not logged"
grep -c "up hook has exited, but a process it started still holds its output open" \
  "$WORK/bg.log" >/dev/null || fail "no warning about the held output"
stop_pid "$pid"
pass "started with the hook's background child holding its output; the hook's line was logged"

step "a --down that hangs is killed after its time limit (shortened to 2 s for the test)"
export TUND_TEST_DOWN_HOOK_SECONDS=2
start_tund "$NS_S" hang -s -i "hang$ID" --down "trap '' TERM; sleep 300"
unset TUND_TEST_DOWN_HOOK_SECONDS
pid=$LAST_PID
wait_until 5 grep -q "listening" "$WORK/hang.log" || fail "did not start"
start=$SECONDS
kill "$pid"
status=0
timeout 15 tail --pid="$pid" -f /dev/null || fail "tund hung in its --down hook"
wait "$pid" || status=$?
[ $status = 0 ] || fail "exit status $status after a killed --down"
grep -q "down hook still running after 2 s; killing it" "$WORK/hang.log" || fail "no log line"
pass "hanging --down killed after 2 s, tund exited 0 in $((SECONDS - start)) s"

# Needs the device to report its current name and MTU (helper A's device change).
step "--down gets the device's current name and MTU"
start_tund "$NS_S" renamed -s -i "rn$ID" --down "echo \$TUND_IFACE \$TUND_MTU >$WORK/down-env"
pid=$LAST_PID
wait_until 5 ip -n "$NS_S" link show "rn$ID" || fail "no device"
ip -n "$NS_S" link set "rn$ID" name "rz$ID"
ip -n "$NS_S" link set "rz$ID" mtu 1300
sleep 0.5
stop_pid "$pid"
[ "$(cat "$WORK/down-env")" = "rz$ID 1300" ] ||
  fail "--down saw '$(cat "$WORK/down-env")', not 'rz$ID 1300'"
pass "--down saw TUND_IFACE=rz$ID TUND_MTU=1300 after the rename and MTU change"

# Dual stack (issue 15): every address, the first of each family, both link addresses.
step "--up gets TUND_ADDRESSES and the first address of each family"
start_tund "$NS_S" dual -s -i "ds$ID" --address fd00:9::1/64 --address 10.9.0.1/32 --peer 10.9.0.2 \
  --address 10.9.1.1/24 --link-ip 10.9.1.9 --link-ip fd00:9::9 \
  --up "env | grep -E '^TUND_(ADDRESSES|LOCAL_ADDR|PREFIX|PEER_ADDR|LINK_IP)' | LC_ALL=C sort >$WORK/up-env.tmp; mv $WORK/up-env.tmp $WORK/up-env"
pid=$LAST_PID
wait_until 5 test -s "$WORK/up-env" || fail "--up did not run"
stop_pid "$pid"
want="TUND_ADDRESSES=fd00:9::1/64 10.9.0.1/32 10.9.1.1/24
TUND_LINK_IP6=fd00:9::9
TUND_LINK_IP=10.9.1.9
TUND_LOCAL_ADDR4=10.9.0.1
TUND_LOCAL_ADDR6=fd00:9::1
TUND_LOCAL_ADDR=fd00:9::1
TUND_PEER_ADDR4=10.9.0.2
TUND_PEER_ADDR6=
TUND_PEER_ADDR=
TUND_PREFIX4=32
TUND_PREFIX6=64
TUND_PREFIX=64"
[ "$(cat "$WORK/up-env")" = "$want" ] || fail "--up saw: $(cat "$WORK/up-env")"
pass "--up saw every address and the first of each family"

#!/usr/bin/env bash
# SIGTERM/SIGINT shut down cleanly: a device tund created disappears, a persistent one
# (ip tuntap add) stays, with its MTU untouched unless --mtu was given.
. "$(dirname "$0")/lib.sh"
make_underlay

step "created device goes away"
start_tund "$NS_S" created -s -i "tunx$ID"
wait_until 5 ip -n "$NS_S" link show "tunx$ID" || fail "device not created"
[ "$(cat /proc/sys/net/ipv4/ip_forward)" ] # no-op; keeps set -e happy on some shells
ip -n "$NS_S" link show "tunx$ID" | grep -c "mtu 1400" >/dev/null || fail "default MTU is not 1400"
kill -INT "$LAST_PID"
wait "$LAST_PID" || fail "SIGINT did not give exit status 0"
! ip -n "$NS_S" link show "tunx$ID" 2>/dev/null || fail "created device still exists"
grep -q "removed" "$WORK/created.log" || fail "shutdown not logged"
pass "created device removed on SIGINT, exit 0"

step "persistent device stays"
ip -n "$NS_S" tuntap add dev "tunp$ID" mode tun
ip -n "$NS_S" link set "tunp$ID" mtu 1300
start_tund "$NS_S" persistent -s -i "tunp$ID" -p 55556
wait_until 5 grep -q listening "$WORK/persistent.log" || fail "did not attach"
grep -q "mtu 1300, persistent" "$WORK/persistent.log" || fail "persistent MTU was changed"
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "SIGTERM did not give exit status 0"
ip -n "$NS_S" link show "tunp$ID" >/dev/null || fail "persistent device was removed"
grep -q "left in place" "$WORK/persistent.log" || fail "shutdown not logged"
pass "persistent device left in place on SIGTERM, exit 0"

step "--mtu applies to a persistent device"
start_tund "$NS_S" mtu -s -i "tunp$ID" -p 55557 --mtu 1280
wait_until 5 grep -q listening "$WORK/mtu.log" || fail "did not attach"
ip -n "$NS_S" link show "tunp$ID" | grep -c "mtu 1280" >/dev/null || fail "--mtu not applied"
stop_pid "$LAST_PID"
pass "--mtu 1280 applied"

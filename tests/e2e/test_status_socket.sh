#!/usr/bin/env bash
# The control socket (issue 14) of a hub (TUN, UDP, encrypted): the default path
# /run/tund/IFACE.sock is mode 0600, owner root, and removed at a normal exit; with
# --control-group users it is 0660, group users: a user outside the group is refused
# (Permission denied, exit 1, one line), one in it may show but not reload or disconnect;
# root may do all. `tund disconnect` drops a peer's session (it comes back), `tund reload`
# works like SIGHUP (a new peer file appears); a socket left by a SIGKILLed tund is
# replaced by the next one, a live one is never taken. systemd STATUS= (a fake
# NOTIFY_SOCKET) says how many peers are up and changes when one comes up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_hub.sh"
require_hub
require_tools setpriv socat stat python3
getent group users >/dev/null || skip_or_fail "needs the group 'users'"
USERS_GID=$(getent group users | cut -d: -f3)
make_hub_underlay 2
make_hub_keys 2
NOBODY=(setpriv --reuid=65534 --regid=65534)

step "default socket: /run/tund/hub$ID.sock, 0600 root, removed at exit"
CLEANUP_PATHS+=("/run/tund/hub$ID.sock")
start_hub tun udp
wait_until 5 test -S "/run/tund/hub$ID.sock" || fail "no socket at /run/tund/hub$ID.sock"
[ "$(stat -c '%a %U %G' "/run/tund/hub$ID.sock")" = "600 root root" ] ||
  fail "the default socket is $(stat -c '%a %U %G' "/run/tund/hub$ID.sock"), not 600 root root"
"$TUND_BIN" show "$HUB_DEV" 2>>"$WORK/ctl.log" | quiet_grep -x "interface: $HUB_DEV" ||
  fail "tund show $HUB_DEV (default path) did not answer"
stop_pid "$HUB_PID"
[ ! -e "/run/tund/hub$ID.sock" ] || fail "the socket was left behind at a normal exit"
pass "default path: mode 600, owner root; tund show IFACE reaches it; removed at exit"

step "--control-group users: 0660; STATUS= with 0 then 1 of 2 peers up"
# Only the socket's own mode may keep a user out: the directories above it are open, and
# the unprivileged user runs a copy of tund it can reach (the build tree may be in a
# directory only root may enter, e.g. /root).
chmod 0711 "$WORK"
mkdir -m 0755 "$WORK/bin"
install -m 0755 "$TUND_BIN" "$WORK/bin/tund"
SOCK=$WORK/ctl/hub.sock
notify_socket "$NS_S" "$WORK/notify.out"
NOTIFY_SOCKET=$NOTIFY_SOCK
export NOTIFY_SOCKET
start_hub tun udp --keepalive 1 --control-socket "$SOCK" --control-group users
unset NOTIFY_SOCKET
wait_until 5 test -S "$SOCK" || fail "no socket at $SOCK"
[ "$(stat -c '%a %U %G' "$SOCK")" = "660 root users" ] ||
  fail "with --control-group users the socket is $(stat -c '%a %U %G' "$SOCK"), not 660 root users"
[ "$(stat -c '%a' "$WORK/ctl")" = 755 ] || fail "the socket's directory was made $(stat -c '%a' "$WORK/ctl"), not 755"
STATUS_RE="peers up, rx [0-9.]+ [KMGTPE]?i?B tx [0-9.]+ [KMGTPE]?i?B"
wait_until 10 grep -qE "STATUS=0 of 2 $STATUS_RE" "$WORK/notify.out" ||
  fail "no 'STATUS=0 of 2 peers up, rx ... tx ...': $(grep STATUS= "$WORK/notify.out" | tail -n 2)"
start_hub_client 1 tun udp --keepalive 1
wait_until 15 hub_clients_up 1 || fail "client 1 did not come up"
wait_until 10 grep -qE "STATUS=1 of 2 $STATUS_RE" "$WORK/notify.out" ||
  fail "STATUS= did not change to '1 of 2 peers up': $(grep STATUS= "$WORK/notify.out" | tail -n 2)"
pass "660 root users; $(grep -oE "STATUS=1 of 2 $STATUS_RE" "$WORK/notify.out" | tail -n 1)"

step "permissions: outside the group refused; in it show only; root all"
status=0
"${NOBODY[@]}" --clear-groups "$WORK/bin/tund" show "$HUB_DEV" --control-socket "$SOCK" \
  >"$WORK/nobody.out" 2>"$WORK/nobody.err" || status=$?
cat "$WORK/nobody.err" >>"$WORK/ctl.log"
[ $status = 1 ] || fail "a user outside the group: exit $status, not 1"
[ "$(wc -l <"$WORK/nobody.err")" = 1 ] && grep -q "Permission denied" "$WORK/nobody.err" ||
  fail "a user outside the group did not get one 'Permission denied' line: $(cat "$WORK/nobody.err")"
[ ! -s "$WORK/nobody.out" ] || fail "a user outside the group got output: $(head -n 3 "$WORK/nobody.out")"
"${NOBODY[@]}" --groups="$USERS_GID" "$WORK/bin/tund" show "$HUB_DEV" --control-socket "$SOCK" \
  >"$WORK/member.out" 2>>"$WORK/ctl.log" || fail "a member of users could not show"
grep -qx "peer: c1" "$WORK/member.out" || fail "a member's show lacks peer c1"
sessions=$(peer_field "$NS_S" "$SOCK" "$HUB_DEV" c1 sessions)
"$TUND_BIN" genkey >"$WORK/c3.key"
hub_peer_file c3 "$WORK/c3.key" "$HUB_NET4.4/32"
for cmd in "disconnect $HUB_DEV c1" "reload $HUB_DEV"; do
  status=0
  # shellcheck disable=SC2086 # the command's words
  "${NOBODY[@]}" --groups="$USERS_GID" "$WORK/bin/tund" $cmd --control-socket "$SOCK" \
    >/dev/null 2>"$WORK/member.err" || status=$?
  cat "$WORK/member.err" >>"$WORK/ctl.log"
  [ $status = 1 ] || fail "a member of users ran '$cmd': exit $status, not 1"
  [ "$(wc -l <"$WORK/member.err")" = 1 ] || fail "'$cmd' refused without one line: $(cat "$WORK/member.err")"
done
show_json "$NS_S" "$SOCK" "$HUB_DEV" "$WORK/after-refused.json"
[ "$(status_get "$WORK/after-refused.json" "$HUB_DEV" c1 up)" = true ] &&
  [ "$(status_get "$WORK/after-refused.json" "$HUB_DEV" c1 sessions)" = "$sessions" ] ||
  fail "a refused disconnect dropped c1 anyway"
$STATUS_FORMS peers "$WORK/after-refused.json" "$HUB_DEV" | quiet_grep -x c3 && fail "a refused reload added c3"
pass "outside the group: '$(cat "$WORK/nobody.err")'; a member: show yes, '$(cat "$WORK/member.err")'"

step "root: tund disconnect drops c1's session, it comes back"
tund_ctl "$NS_S" "$SOCK" disconnect "$HUB_DEV" c1 >"$WORK/disc.out" || fail "root's disconnect failed"
[ "$(peer_field "$NS_S" "$SOCK" "$HUB_DEV" c1 up)" = false ] || fail "c1 is still up right after disconnect"
# Client 1's traffic finds no session at the hub; it notices the silence (--keepalive 1)
# and handshakes again.
back() {
  ip netns exec "${HUB_NS[1]}" ping -c 1 -W 1 "$HUB_NET4.1" >/dev/null 2>&1 || true
  peer_is_up "$NS_S" "$SOCK" "$HUB_DEV" c1
}
wait_until 25 back || fail "c1 did not come back within 25 s after disconnect"
after=$(peer_field "$NS_S" "$SOCK" "$HUB_DEV" c1 sessions)
[ "$after" -gt "$sessions" ] || fail "c1's sessions did not grow across disconnect ($sessions -> $after)"
ping_ok "${HUB_NS[1]}" "$HUB_NET4.1" 2 || fail "c1 came back but its pings fail"
status=0
tund_ctl "$NS_S" "$SOCK" disconnect "$HUB_DEV" nosuchpeer >/dev/null 2>"$WORK/nosuch.err" || status=$?
[ $status = 1 ] || fail "disconnect of an unknown peer: exit $status, not 1"
pass "disconnect: '$(cat "$WORK/disc.out")'; c1 down, then up again (sessions $sessions -> $after)"

step "root: tund reload works like SIGHUP"
tund_ctl "$NS_S" "$SOCK" reload "$HUB_DEV" >"$WORK/reload.out" || fail "root's reload failed"
show_json "$NS_S" "$SOCK" "$HUB_DEV" "$WORK/after-reload.json"
$STATUS_FORMS peers "$WORK/after-reload.json" "$HUB_DEV" | quiet_grep -x c3 || fail "c3 is not shown after reload"
[ "$(status_get "$WORK/after-reload.json" "$HUB_DEV" c3 allowed_ips)" = "$HUB_NET4.4/32" ] ||
  fail "c3's allowed ips after reload: $(status_get "$WORK/after-reload.json" "$HUB_DEV" c3 allowed_ips)"
[ "$(status_get "$WORK/after-reload.json" "$HUB_DEV" - peers_configured)" = 3 ] || fail "peers_configured is not 3"
grep -qi "reload" "$WORK/hub.log" || fail "the hub logged no reload"
pass "reload: '$(cat "$WORK/reload.out")'; c3 listed"

step "a live socket is never taken; a stale one is replaced; removed at exit"
start_tund "${HUB_NS[2]}" thief -c "$HUB_UNDER" -i "thf$ID" -t udp --control-socket "$SOCK"
THIEF=$LAST_PID
wait_until 10 bash -c "! kill -0 $THIEF" || fail "a second tund on a live socket kept running"
status=0
wait "$THIEF" || status=$?
[ $status -ne 0 ] || fail "a second tund on a live socket exited 0"
grep -q "$SOCK" "$WORK/thief.log" || fail "the second tund did not name the socket: $(tail -n 3 "$WORK/thief.log")"
grep -q "$SOCK" <<<"$(tail -n 1 "$WORK/thief.log")" || fail "its last line is not about the socket"
tund_ctl "$NS_S" "$SOCK" show "$HUB_DEV" | quiet_grep -x "peer: c1" || fail "the first tund no longer answers"
kill -9 "$HUB_PID"
wait "$HUB_PID" 2>/dev/null || true
test -S "$SOCK" || fail "a SIGKILLed tund's socket file is gone (nothing stale to test)"
start_hub tun udp --keepalive 1 --control-socket "$SOCK"
wait_until 10 tund_ctl "$NS_S" "$SOCK" show "$HUB_DEV" || fail "the next tund did not replace the stale socket"
stop_pid "$HUB_PID"
[ ! -e "$SOCK" ] || fail "the socket file was left behind at a normal exit"
pass "second tund: '$(tail -n 1 "$WORK/thief.log")'; stale socket replaced; removed at exit"

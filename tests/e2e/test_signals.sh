#!/usr/bin/env bash
# Signals from the first instruction to the last: SIGINT/SIGTERM are a clean exit (status 0,
# --down run if --up ran) at every stage of start-up and while running; SIGHUP (a closing
# terminal) never kills tund: it reloads the key files and says what it did. Checks that can
# fail (--user) run before --up.
. "$(dirname "$0")/lib.sh"
require_tools nft timeout
make_underlay

TABLE="tundsig$ID"
# --up makes something visible (an nft table in the server's namespace and a marker file),
# --down removes the table and leaves a marker of its own.
HOOKS=(--up "nft add table inet $TABLE && touch $WORK/up-ran"
       --down "nft delete table inet $TABLE; touch $WORK/down-ran")

has_table() { ip netns exec "$NS_S" nft list table inet "$TABLE" >/dev/null 2>&1; }
running() {  # running PID: alive and not a zombie
  local state
  state=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$state" != Z ]
}
# exit_status_after PID SIGNAL SECONDS: sends SIGNAL; sets status to the exit status, or
# "hung" if tund is still running after SECONDS.
exit_status_after() {
  kill -"$2" "$1"
  local deadline=$((SECONDS + $3))
  status=0
  while running "$1"; do
    [ $SECONDS -lt $deadline ] || { status=hung; return; }
    sleep 0.1
  done
  wait "$1" || status=$?
}
reset_markers() { rm -f "$WORK/up-ran" "$WORK/down-ran"; }
expect_clean_exit() {  # expect_clean_exit STATUS WHAT: status 0, --down ran, table gone
  [ "$1" = 0 ] || fail "$2: exit status $1, not 0"
  [ -e "$WORK/down-ran" ] || fail "$2: --down did not run"
  ! has_table || fail "$2: the table --up made was left behind"
}

step "SIGHUP during a session: the tunnel keeps working, --down not run"
tunnel_up tun tcp
stop_pid "$SERVER_PID"
start_tund "$NS_S" server -s -i "$DEV_S" -u -t tcp "${HOOKS[@]}"
SERVER_PID=$LAST_PID
configure_link "$NS_S" "$DEV_S" "$TUN_S" "$TUN_C" tun
wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "tunnel did not come up"
has_table || fail "--up did not run"
kill -HUP "$SERVER_PID"
sleep 0.5
running "$SERVER_PID" || fail "SIGHUP killed the server"
grep -q "received SIGHUP: nothing to reload" "$WORK/server.log" || fail "no log line for SIGHUP"
[ ! -e "$WORK/down-ran" ] || fail "SIGHUP ran --down"
ping_ok "$NS_C" "$TUN_S" 3 || fail "the tunnel stopped working after SIGHUP"
exit_status_after "$SERVER_PID" TERM 10
expect_clean_exit "$status" "SIGTERM after SIGHUP"
pass "SIGHUP logged, tunnel kept working; SIGTERM then ran --down and left nothing behind"

step "SIGINT while running: clean exit"
reset_markers
start_tund "$NS_S" server2 -s -i "$DEV_S" -u -t tcp "${HOOKS[@]}"
SERVER_PID=$LAST_PID
wait_until 5 has_table || fail "--up did not run"
wait_until 5 grep -q "listening" "$WORK/server2.log" || true
exit_status_after "$SERVER_PID" INT 10
expect_clean_exit "$status" "SIGINT"
tunnel_down
pass "SIGINT: exit 0, --down ran"

step "SIGTERM during a slow --up: the hook is stopped, --down runs, exit 0"
reset_markers
start_tund "$NS_S" slowup -s -i "slow$ID" --up "touch $WORK/up-ran; sleep 30" \
  --down "touch $WORK/down-ran"
pid=$LAST_PID
wait_until 5 test -e "$WORK/up-ran" || fail "--up did not start"
start=$SECONDS
exit_status_after "$pid" TERM 10
[ "$status" = 0 ] || fail "SIGTERM during --up: exit status $status"
[ $((SECONDS - start)) -le 5 ] || fail "SIGTERM during --up took $((SECONDS - start)) s"
[ -e "$WORK/down-ran" ] || fail "--down did not run after the stopped --up"
for p in $(ip netns pids "$NS_S"); do
  [ "$(cat "/proc/$p/comm" 2>/dev/null)" != sleep ] || fail "the stopped --up hook left its sleep"
done
pass "SIGTERM during --up: exit 0 in $((SECONDS - start)) s, --down ran"

step "SIGHUP reloads the allow-list: a newly allowed client gets in without a restart"
make_keys
: >"$WORK/allowed"
chmod 600 "$WORK/allowed"
cat "$WORK/other.pub" >>"$WORK/allowed"
start_tund "$NS_S" keyserver -s -i "ks$ID" -t udp --private-key "$WORK/server.key" \
  --allow-file "$WORK/allowed" --address "$TUN_S/32" --peer "$TUN_C"
SERVER_PID=$LAST_PID
start_tund "$NS_C" keyclient -c "$UNDER_S" -i "kc$ID" -t udp --private-key "$WORK/client.key" \
  --peer-key "$WORK/server.pub" --address "$TUN_C/32" --peer "$TUN_S"
CLIENT_PID=$LAST_PID
wait_until 10 grep -q "is not allowed" "$WORK/keyserver.log" || fail "the client was not refused"
cat "$WORK/client.pub" >>"$WORK/allowed"
kill -HUP "$SERVER_PID"
wait_until 5 grep -q "reloaded the key files.*2 allowed client keys (1 added, 0 removed)" \
  "$WORK/keyserver.log" || fail "no reload line"
wait_until 30 ping_ok "$NS_C" "$TUN_S" 1 || fail "the newly allowed client did not get in"
# A bad key in the file: the reload is refused, the current keys stay, the tunnel works.
echo "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" >>"$WORK/allowed"
kill -HUP "$SERVER_PID"
wait_until 5 grep -q "keeping the current keys.*all zeros" "$WORK/keyserver.log" ||
  fail "a bad reload was not refused with a reason"
running "$SERVER_PID" || fail "a bad reload ended the server"
ping_ok "$NS_C" "$TUN_S" 2 || fail "the tunnel stopped after a refused reload"
tunnel_down
pass "SIGHUP: a newly allowed key got in; a bad key file was refused and the old set kept"

for proto in tcp udp; do
  step "$proto: SIGHUP removes the client's key (the session ends), then allows it again"
  cat "$WORK/client.pub" >"$WORK/allowed"
  start_tund "$NS_S" "revoke-$proto" -s -i "rs$ID" -t "$proto" --private-key "$WORK/server.key" \
    --allow-file "$WORK/allowed" --address "$TUN_S/32" --peer "$TUN_C"
  SERVER_PID=$LAST_PID
  start_tund "$NS_C" "revokec-$proto" -c "$UNDER_S" -i "rc$ID" -t "$proto" \
    --private-key "$WORK/client.key" --peer-key "$WORK/server.pub" --address "$TUN_C/32" \
    --peer "$TUN_S"
  CLIENT_PID=$LAST_PID
  wait_until 15 ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto: tunnel did not come up"
  cat "$WORK/other.pub" >"$WORK/allowed"
  kill -HUP "$SERVER_PID"
  wait_until 5 grep -q "reloaded the key files.*(1 added, 1 removed)" "$WORK/revoke-$proto.log" ||
    fail "$proto: no reload line"
  sleep 1
  ! ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto: a removed key still carries traffic"
  cat "$WORK/client.pub" >"$WORK/allowed"
  kill -HUP "$SERVER_PID"
  start=$SECONDS
  # The client's retries (capped backoff, 5 s) find the key allowed again.
  wait_until 15 ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto: the client did not get back in"
  tunnel_down
  pass "$proto: a removed key lost its session; allowed again, back in $((SECONDS - start)) s"
done

step "SIGTERM while the server's name is being looked up (the DNS query hangs)"
# The namespace's resolver is its own loopback, where nft drops every DNS query: the lookup
# hangs for resolv.conf's timeouts (dropped on input: the sender sees no error). Nothing
# leaves the namespace.
netns_etc "$NS_C" resolv.conf "nameserver 127.0.0.1
options timeout:10 attempts:3"
ip netns exec "$NS_C" nft add table inet "dnsdrop$ID"
ip netns exec "$NS_C" nft add chain inet "dnsdrop$ID" in '{ type filter hook input priority 0; }'
ip netns exec "$NS_C" nft add rule inet "dnsdrop$ID" in udp dport 53 drop
ip netns exec "$NS_C" nft add rule inet "dnsdrop$ID" in tcp dport 53 drop
reset_markers
start_tund "$NS_C" lookup -c "server.hanging.example" -i "look$ID" --down "touch $WORK/down-ran"
pid=$LAST_PID
sleep 1.5
running "$pid" || fail "the client did not wait for its lookup"
start=$SECONDS
exit_status_after "$pid" TERM 10
[ "$status" = 0 ] || fail "SIGTERM during the lookup: exit status $status"
[ $((SECONDS - start)) -le 3 ] || fail "SIGTERM during the lookup took $((SECONDS - start)) s"
! ip -n "$NS_C" link show "look$ID" 2>/dev/null || fail "a device was left behind"
pass "SIGTERM during a hanging lookup: exit 0 in $((SECONDS - start)) s"

step "signals right after exec: SIGHUP does not kill, SIGTERM is a clean exit"
# As soon as tund holds SIGHUP and SIGTERM (blocked or caught), which main() does first.
signals_held() {
  local blk cgt
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = tund ] || return 1
  blk=$(awk '/^SigBlk/ {print $2}' "/proc/$1/status")
  cgt=$(awk '/^SigCgt/ {print $2}' "/proc/$1/status")
  [ $(((0x$blk | 0x$cgt) & 0x4001)) = $((0x4001)) ]
}
for sig in HUP TERM; do
  reset_markers
  start_tund "$NS_S" early-$sig -s -i "early$ID" -p 4444 "${HOOKS[@]}"
  pid=$LAST_PID
  wait_until 5 signals_held "$pid" || fail "tund never held SIGHUP/SIGTERM"
  kill -"$sig" "$pid"
  if [ $sig = HUP ]; then
    wait_until 5 grep -q "listening\|starting" "$WORK/early-$sig.log" || true
    sleep 0.5
    running "$pid" || fail "an early SIGHUP killed tund"
    exit_status_after "$pid" TERM 10
  else
    exit_status_after "$pid" TERM 10  # a second one: already shutting down
  fi
  [ "$status" = 0 ] || fail "early SIG$sig: exit status $status"
  if [ -e "$WORK/up-ran" ]; then expect_clean_exit "$status" "early SIG$sig"; fi
  ! has_table || fail "early SIG$sig: the table was left behind"
done
pass "an early SIGHUP is survived, an early SIGTERM is exit 0 with nothing left behind"

step "a bad --user is refused before --up runs"
reset_markers
status=0
mapfile -t extra < <(daemon_extra_args)
timeout 10 ip netns exec "$NS_S" "$TUND_BIN" -s -i "user$ID" --user "nosuchuser$ID" \
  "${HOOKS[@]}" "${extra[@]}" >"$WORK/out" 2>"$WORK/err" || status=$?
[ $status = 2 ] || fail "--user nosuchuser: exit status $status"
[ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "--user nosuchuser: more than one line: $(cat "$WORK/err")"
grep -q "no such user" "$WORK/err" || fail "unexpected message: $(cat "$WORK/err")"
[ ! -e "$WORK/up-ran" ] && ! has_table || fail "--up ran although --user was bad"
! ip -n "$NS_S" link show "user$ID" 2>/dev/null || fail "a device was left behind"
pass "bad --user: one line, exit 2 (a configuration error), --up never ran, no device"

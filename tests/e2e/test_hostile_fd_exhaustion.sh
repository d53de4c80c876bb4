#!/usr/bin/env bash
# A server out of file descriptors (a low RLIMIT_NOFILE and junk TCP connections held
# open) must not spin on accept: the connection left in the backlog makes accept fail with
# EMFILE at once, again and again, unless tund pauses accepting. Its CPU time stays small,
# the failure is logged at a bounded rate, and a real client gets in once the junk is gone.
. "$(dirname "$0")/lib.sh"
require_tools prlimit
FLOOD=${TUND_BUILD_DIR:-$(dirname "$TUND_BIN")}/tests/flood
[ -x "$FLOOD" ] || skip_or_fail "flood tool not built at $FLOOD"
# UBSan checks a member call's dynamic type with a probe that needs a spare descriptor
# (a pipe): out of descriptors it reports a false "invalid vptr" and aborts. So this runs
# on the normal build only (the suite runs both); grep -c, not -q (SIGPIPE under pipefail).
if ldd "$TUND_BIN" 2>/dev/null | grep -c libubsan >/dev/null; then
  echo "   (sanitizer build: UBSan cannot run out of descriptors; checked on the normal build)"
  exit 0
fi
make_underlay
make_keys
make_attacker  # a third namespace, 198.18.1.2

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

step "encrypted TCP server with 24 descriptors, 40 junk connections held for 4 s"
SERVER_KEYS=(--private-key "$WORK/server.key" --allow "$WORK/client.pub")
mapfile -t EXTRA < <(daemon_extra_args)
ip netns exec "$NS_S" prlimit --nofile=24:24 "$TUND_BIN" -s -i "tuns$ID" -u -t tcp \
  "${SERVER_KEYS[@]}" "${EXTRA[@]}" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
configure_link "$NS_S" "tuns$ID" "$TUN_S" "$TUN_C" tun
wait_until 5 listening "$NS_S" 55555 || fail "server did not listen"
before=$(cpu_ticks "$SERVER_PID")
ip netns exec "$ATT" "$FLOOD" tcp-junk 198.18.1.1 55555 40 4 | sed 's/^/   /'
used=$(($(cpu_ticks "$SERVER_PID") - before))
kill -0 "$SERVER_PID" || fail "the server died"
grep -q "Too many open files" "$WORK/server.log" || fail "the test never ran out of descriptors"
# 4 s of spinning is ~400 ticks; a pausing server uses a few.
[ "$used" -le 100 ] || fail "the server used $used CPU ticks (of ~400 in 4 s): it spins on accept"
n=$(grep -c "accept failed" "$WORK/server.log" || true)
[ "$n" -le 12 ] || fail "$n 'accept failed' lines: not bounded"
pass "out of descriptors: $used CPU ticks in 4 s, $n 'accept failed' lines"

step "a real client gets in afterwards"
start_tund "$NS_C" client -c "$UNDER_S" -i "tunc$ID" -u -t tcp --private-key "$WORK/client.key" \
  --peer-key "$(cat "$WORK/server.pub")"
configure_link "$NS_C" "tunc$ID" "$TUN_C" "$TUN_S" tun
wait_until 15 ping_ok "$NS_C" "$TUN_S" 1 || fail "no client got in after the junk left"
pass "a real client got in after the junk connections closed"

#!/usr/bin/env bash
# What encryption must refuse: a wrong server key, a client not on the allow-list,
# encryption on one side only, random and replayed datagrams (never answered, the live
# session undisturbed), and bad key material at start-up.
. "$(dirname "$0")/lib.sh"
require_tools tcpdump
make_underlay
make_keys

# no_ping: three pings must all go unanswered (the tunnel stays closed).
no_ping() { ! ip netns exec "$NS_C" ping -c 3 -i 0.3 -W 1 "$TUN_S" >/dev/null 2>&1; }

# pair PROTO "SERVER ARGS" "CLIENT ARGS": a server and a client with these extra arguments
# (key options, word-split), both links configured.
pair() {
  local proto=$1
  # shellcheck disable=SC2086
  start_tund "$NS_S" server -s -i "tuns$ID" -t "$proto" $2
  SERVER_PID=$LAST_PID
  # shellcheck disable=SC2086
  start_tund "$NS_C" client -c "$UNDER_S" -i "tunc$ID" -t "$proto" $3
  CLIENT_PID=$LAST_PID
  configure_link "$NS_S" "tuns$ID" "$TUN_S" "$TUN_C" tun
  configure_link "$NS_C" "tunc$ID" "$TUN_C" "$TUN_S" tun
}
SERVER_OK="--private-key $WORK/server.key --allow $WORK/client.pub"
CLIENT_OK="--private-key $WORK/client.key --peer-key $WORK/server.pub"

for proto in tcp udp; do
  step "$proto: client with a wrong server key"
  pair "$proto" "$SERVER_OK" "--private-key $WORK/client.key --peer-key $WORK/other.pub"
  no_ping || fail "$proto: traffic passed with a wrong server key"
  wait_until 8 grep -q "no handshake response\|closed before the handshake completed" "$WORK/client.log" \
    || fail "$proto: client did not log the failure"
  grep -q "failed authentication" "$WORK/server.log" || fail "$proto: server did not log the failure"
  tunnel_down
  pass "$proto: wrong server key: no traffic, both sides say why, the client keeps retrying"

  step "$proto: client not on the allow-list"
  pair "$proto" "--private-key $WORK/server.key --allow $WORK/other.pub" "$CLIENT_OK"
  no_ping || fail "$proto: a client that is not allowed got through"
  wait_until 5 grep -q "is not allowed" "$WORK/server.log" || fail "$proto: server did not log the refusal"
  tunnel_down
  pass "$proto: client key not allowed: refused and logged"

  step "$proto: encryption on one side only"
  pair "$proto" "$SERVER_OK" ""
  no_ping || fail "$proto: plaintext client talked to an encrypted server"
  wait_until 8 grep -q "encryption (--private-key)" "$WORK/client.log" \
    || fail "$proto: the plaintext client did not say why"
  grep -q "unencrypted message refused" "$WORK/server.log" || fail "$proto: the server did not say why"
  line=$(stats_of "$SERVER_PID" server)
  [ "$(counter "$line" writes)" -eq 0 ] || fail "$proto: a plaintext frame reached the server's device"
  tunnel_down
  pair "$proto" "" "$CLIENT_OK"
  ip netns exec "$NS_S" ping -c 3 -i 0.3 -W 1 "$TUN_C" >/dev/null 2>&1 && fail "$proto: plaintext server reached an encrypted client"
  no_ping || fail "$proto: encrypted client talked to a plaintext server"
  line=$(stats_of "$CLIENT_PID" client)
  [ "$(counter "$line" writes)" -eq 0 ] || fail "$proto: a plaintext frame reached the client's device"
  wait_until 8 grep -q "no handshake response\|closed before the handshake completed" \
    "$WORK/client.log" || fail "$proto: client did not log"
  tunnel_down
  pass "$proto: one-sided encryption: nothing passes in either direction, failures logged"
done

step "udp: random and replayed datagrams during a live session"
secure_tunnel_up tun udp
wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "encrypted udp tunnel did not come up"
ip netns exec "$NS_C" tcpdump --immediate-mode -i "vc$ID" -U -w "$WORK/live.pcap" "udp port 55555" >/dev/null 2>&1 &
DUMP=$!
PIDS+=("$DUMP")
sleep 1
ping_ok "$NS_C" "$TUN_S" 5
sleep 0.3
stop_pid "$DUMP"
make_attacker  # a third namespace, 198.18.1.2, playing the attacker
ip netns exec "$ATT" tcpdump --immediate-mode -i "va$ID" -U -w "$WORK/attacker.pcap" "udp and src 198.18.1.1" >/dev/null 2>&1 &
ADUMP=$!
PIDS+=("$ADUMP")
sleep 1
ip netns exec "$ATT" bash -c "
  for i in \$(seq 300); do head -c \$((RANDOM % 200 + 1)) /dev/urandom > /dev/udp/198.18.1.1/55555; done
  for t in 3 4 5; do for i in \$(seq 50); do
    { printf \"\\\\x0\$t\\\\x00\\\\x00\\\\x00\"; head -c 120 /dev/urandom; } > /dev/udp/198.18.1.1/55555
  done; done" 2>/dev/null || true
# Replays of the real session's captured datagrams, from the attacker's address.
tcpdump -r "$WORK/live.pcap" -x 2>/dev/null | awk '
  /^[0-9]/ { if (hex != "") print hex; hex = "" ; next }
  { for (i = 2; i <= NF; i++) hex = hex $i }
  END { if (hex != "") print hex }' | while read -r hex; do
    payload=${hex:56}  # strip the 20-byte IPv4 and 8-byte UDP headers
    printf '%s' "$payload" | xxd -r -p | ip netns exec "$ATT" bash -c "cat > /dev/udp/198.18.1.1/55555"
    REPLAYED=$((${REPLAYED:-0} + 1))
  done
sleep 1
stop_pid "$ADUMP"
answers=$(tcpdump -r "$WORK/attacker.pcap" 2>/dev/null | wc -l)
[ "$answers" -eq 0 ] || fail "the server answered the attacker $answers times"
ping_ok "$NS_C" "$TUN_S" 5 || fail "the live session was disturbed"
line=$(stats_of "$SERVER_PID" server)
echo "   $line"
[ "$(counter "$line" refused)" -ge 100 ] || fail "refusals not counted"
tunnel_down
pass "udp: random, forged and replayed datagrams got no answer; the session kept working"

step "bad key material at start-up"
chmod 644 "$WORK/other.key"
expect_fail() {  # expect_fail NEEDLE ARGS...
  local needle=$1 extra
  shift
  mapfile -t extra < <(daemon_extra_args)
  if timeout 5 ip netns exec "$NS_S" "$TUND_BIN" "$@" "${extra[@]}" >"$WORK/out" 2>"$WORK/err"; then
    fail "'$*' started"
  fi
  [ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "'$*': not one line: $(cat "$WORK/err")"
  grep -qF -- "$needle" "$WORK/err" || fail "'$*': expected '$needle' in $(cat "$WORK/err")"
  echo "   ok: $(cat "$WORK/err")"
}
expect_fail "accessible by group or others" -s -i "k$ID" --private-key "$WORK/other.key" --allow "$WORK/client.pub"
echo "not a key" >"$WORK/bad.pub"
expect_fail "not a base64-encoded 32-byte key" -s -i "k$ID" --private-key "$WORK/server.key" --allow "$WORK/bad.pub"
expect_fail "need --private-key" -c "$UNDER_S" -i "k$ID" --peer-key "$WORK/server.pub"
expect_fail "needs --peer-key" -c "$UNDER_S" -i "k$ID" --private-key "$WORK/client.key"
expect_fail "needs --allow" -s -i "k$ID" --private-key "$WORK/server.key"
expect_fail "cannot read key file" -s -i "k$ID" --private-key "$WORK/missing.key" --allow "$WORK/client.pub"
pass "bad keys and incomplete key options: one line, non-zero exit"

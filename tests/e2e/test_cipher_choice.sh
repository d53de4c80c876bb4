#!/usr/bin/env bash
# The data cipher by speed (docs/PROTOCOL.md §1): each end measures both ciphers at start
# and logs its score, the server (the responder) picks by the rule, and both ends run the
# cipher it named, as `tund show` says on each end; --cipher forces one. Ping works in
# every case. Scores other CPUs would measure come from TUND_TEST_CIPHER_SCORE (tests
# only). Forcing AES-256-GCM on a CPU without AES-NI cannot happen here: unit-tested
# (tests/unit/crypto/cipher_choice_test.cpp) with the capability injected.
. "$(dirname "$0")/lib.sh"
make_underlay
make_keys

SERVER_SOCK=$WORK/ctl/server.sock
CLIENT_SOCK=$WORK/ctl/client.sock

# start_pair PROTO "SERVER ARGS" "CLIENT ARGS" [SERVER_SCORE CLIENT_SCORE]: an encrypted
# TUN tunnel, each end with its own extra arguments (word-split) and, if given, its
# TUND_TEST_CIPHER_SCORE; up when ping crosses it.
start_pair() {
  local proto=$1 server_args=$2 client_args=$3 server_score=${4:-} client_score=${5:-}
  rm -f "$WORK/server.log" "$WORK/client.log"
  # shellcheck disable=SC2086 # the extra arguments are words
  TUND_TEST_CIPHER_SCORE=$server_score start_tund "$NS_S" server -s -i "tuns$ID" -t "$proto" \
    --private-key "$WORK/server.key" --allow "$WORK/client.pub" \
    --control-socket "$SERVER_SOCK" $server_args
  SERVER_PID=$LAST_PID
  # shellcheck disable=SC2086
  TUND_TEST_CIPHER_SCORE=$client_score start_tund "$NS_C" client -c "$UNDER_S" -i "tunc$ID" \
    -t "$proto" --private-key "$WORK/client.key" --peer-key "$(cat "$WORK/server.pub")" \
    --control-socket "$CLIENT_SOCK" $client_args
  CLIENT_PID=$LAST_PID
  configure_link "$NS_S" "tuns$ID" "$TUN_S" "$TUN_C" tun
  configure_link "$NS_C" "tunc$ID" "$TUN_C" "$TUN_S" tun
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "the tunnel did not come up ($*)"
  ping_ok "$NS_C" "$TUN_S" 3 || fail "ping lost replies ($*)"
}

# cipher_of NS SOCKET IFACE: the cipher `tund show` names for the one peer.
cipher_of() {
  tund_ctl "$1" "$2" show "$3" | sed -n 's/^ *cipher: //p'
}

# expect_cipher NAME WHY: both ends' `tund show` and session lines name cipher NAME.
expect_cipher() {
  local want=$1 why=$2 server client
  server=$(cipher_of "$NS_S" "$SERVER_SOCK" "tuns$ID")
  client=$(cipher_of "$NS_C" "$CLIENT_SOCK" "tunc$ID")
  [ "$server" = "$want" ] || fail "$why: the server shows cipher '$server', not $want"
  [ "$client" = "$want" ] || fail "$why: the client shows cipher '$client', not $want"
  grep -q "session with .* established ($want)" "$WORK/client.log" ||
    fail "$why: the client logged no session with $want: $(grep session "$WORK/client.log")"
  pass "$why: both ends run $want, ping crosses"
}

# score_in LOG: the score of its "cipher speed:" line.
score_in() {
  sed -n 's/.*cipher speed: .*, score \(-\{0,1\}[0-9]*\).*/\1/p' "$WORK/$1.log" | sed -n 1p
}

step "auto on both ends: the log line, and the cipher the two measured scores name"
start_pair udp "" ""
grep -E "cipher speed: aes-256-gcm ([0-9.]+ GB/s|not available), chacha20-poly1305 [0-9.]+ GB/s, score -?[0-9]+$" \
  "$WORK/server.log" >/dev/null || fail "no cipher speed line: $(grep cipher "$WORK/server.log")"
S=$(score_in server)
C=$(score_in client)
echo "measured here: $(sed -n 's/.*cipher speed: //p' "$WORK/server.log")"
AES=yes
grep -q "aes-256-gcm not available" "$WORK/server.log" && AES=no
# The rule with scores clamped to ±62 (a measured score), the responder's sign on a tie.
clamp() { local s=$1; ((s > 62)) && s=62; ((s < -62)) && s=-62; echo "$s"; }
S=$(clamp "$S")
C=$(clamp "$C")
SUM=$((S + C))
if [ $AES = no ] || ((SUM < 0)) || ((SUM == 0 && S < 0)); then
  WANT=ChaCha20-Poly1305
else
  WANT=AES-256-GCM
fi
expect_cipher "$WANT" "auto (scores: server $S, client $C)"
tunnel_down

step "--cipher chacha20-poly1305 on one end, auto on the other"
start_pair udp "" "--cipher chacha20-poly1305"
grep -q "cipher: chacha20-poly1305 (--cipher)" "$WORK/client.log" ||
  fail "the client did not log its forced cipher"
! grep -q "cipher speed:" "$WORK/client.log" || fail "a forced end measured anyway"
expect_cipher ChaCha20-Poly1305 "forced ChaCha on the client, auto on the server"
tunnel_down
start_pair tcp "--cipher chacha20-poly1305" "" "" 62
expect_cipher ChaCha20-Poly1305 "forced ChaCha on the server, auto on the client (TCP)"
tunnel_down

if [ $AES = no ]; then
  echo "SKIP: this CPU has no AES-NI: the AES-256-GCM cases cannot run (unit-tested)"
  exit 0
fi

step "--cipher aes-256-gcm on both ends; a forced end over a measuring one"
start_pair udp "--cipher aes-256-gcm" "--cipher aes-256-gcm"
expect_cipher AES-256-GCM "forced AES on both ends"
tunnel_down
start_pair udp "" "--cipher aes-256-gcm" -62 ""
expect_cipher AES-256-GCM "forced AES on the client over a server measuring ChaCha faster"
tunnel_down

step "two forced ends that disagree: ChaCha20-Poly1305 (it offers no AES), in either role"
start_pair udp "--cipher aes-256-gcm" "--cipher chacha20-poly1305"
expect_cipher ChaCha20-Poly1305 "server forces AES, client ChaCha"
tunnel_down
start_pair udp "--cipher chacha20-poly1305" "--cipher aes-256-gcm"
expect_cipher ChaCha20-Poly1305 "server forces ChaCha, client AES"
tunnel_down

step "two measuring ends that disagree: the sum, and on a tie the server (the responder)"
start_pair udp "" "" -10 20
expect_cipher AES-256-GCM "server -10, client +20: the sum (+10)"
tunnel_down
start_pair udp "" "" 10 -20
expect_cipher ChaCha20-Poly1305 "server +10, client -20: the sum (-10)"
tunnel_down
start_pair udp "" "" -10 10
expect_cipher ChaCha20-Poly1305 "server -10, client +10: a tie, the server's"
tunnel_down
start_pair tcp "" "" 10 -10
expect_cipher AES-256-GCM "server +10, client -10: a tie, the server's (TCP)"
tunnel_down
start_pair udp "" "" 0 0
expect_cipher AES-256-GCM "both 0 (as older tunds): AES-256-GCM, as before"
tunnel_down

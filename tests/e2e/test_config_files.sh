#!/usr/bin/env bash
# Config files as people write them, with the command line over them: a file saved by
# Notepad (byte-order mark, CRLF) with key paths relative to its own directory, read by a
# tund started from /; the public key logged at start; a warning for an option that does
# nothing; a server config used for a client by giving -c on the command line; and
# HOST:PORT / [IPv6]:PORT for -c.
. "$(dirname "$0")/lib.sh"
make_underlay
ip -n "$NS_S" addr add fd00:198::1/64 dev "vs$ID" nodad
ip -n "$NS_C" addr add fd00:198::2/64 dev "vc$ID" nodad

ETC=$WORK/etc
mkdir "$ETC"
"$TUND_BIN" genkey >"$ETC/server.key"
"$TUND_BIN" pubkey <"$ETC/server.key" >"$ETC/server.pub"
"$TUND_BIN" genkey >"$WORK/client.key"
"$TUND_BIN" pubkey <"$WORK/client.key" >"$ETC/clients"
TUNNEL=(--address "$TUN_C/32" --peer "$TUN_S" --address fd00:77::2/128 --peer fd00:77::1)

# client_pings NAME ARGS...: a client with ARGS comes up and pings the server's tunnel address.
client_pings() {
  local name=$1
  shift
  start_tund "$NS_C" "$name" "$@"
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$name: no ping through the tunnel"
  if [ -n "${PING6:-}" ]; then ping_ok "$NS_C" "$PING6" 1 || fail "$name: no ping6 to $PING6"; fi
  stop_pid "$LAST_PID"
  echo "   ok: $name: $(grep -m1 -o 'connected to .*\|session with .*' "$WORK/$name.log" || true)"
}

step "a Notepad config (BOM, CRLF), relative key paths, tund started from /"
printf '\357\273\277# server\r\nserver = true\r\niface = tuns%s\r\nport = 4000\r\n' "$ID" >"$ETC/s.conf"
printf 'private-key = server.key\r\nallow-file = clients\r\naddress = %s/32\r\npeer = %s\r\n' \
  "$TUN_S" "$TUN_C" >>"$ETC/s.conf"
printf 'keepalive = 5\r\n' >>"$ETC/s.conf"
# A second family: `address =` and `peer =` repeated, as lists (no "set again" warning).
printf 'address = fd00:77::1/128\r\npeer = fd00:77::2\r\n' >>"$ETC/s.conf"
cd /
start_tund "$NS_S" server --config "$ETC/s.conf"
cd - >/dev/null
SERVER_PID=$LAST_PID
wait_until 5 grep -q "listening on .*:4000" "$WORK/server.log" || fail "server did not start: $(cat "$WORK/server.log")"
grep -qF "public key: $(cat "$ETC/server.pub")" "$WORK/server.log" || fail "own public key not logged"
grep -qF "$ETC/s.conf line 9: --keepalive does nothing over TCP" "$WORK/server.log" ||
  fail "no warning for --keepalive over TCP: $(cat "$WORK/server.log")"
echo "   ok: $(grep -m1 'public key' "$WORK/server.log")"
echo "   ok: $(grep -m1 'keepalive' "$WORK/server.log")"

step "-c [IPv6]:PORT"
PING6=fd00:77::1 client_pings client-v6 -c "[fd00:198::1]:4000" -i "tunc$ID" --private-key "$WORK/client.key" \
  --peer-key "$ETC/server.pub" "${TUNNEL[@]}"
grep -qF "public key: $(cat "$ETC/clients")" "$WORK/client-v6.log" || fail "client's public key not logged"
! grep -q "set again" "$WORK/server.log" || fail "a repeated address/peer was taken for a setting given twice"

step "-c over an encrypted server config: the file's server-only options are dropped, with a warning"
client_pings client-from-encrypted-conf --config "$ETC/s.conf" -c "$UNDER_S" -i "tunc$ID" \
  --private-key "$WORK/client.key" --peer-key "$ETC/server.pub" "${TUNNEL[@]}"
grep -qF "$ETC/s.conf line 6: 'allow-file' ignored: -c on the command line makes this a client" \
  "$WORK/client-from-encrypted-conf.log" || fail "no warning: $(cat "$WORK/client-from-encrypted-conf.log")"
stop_pid "$SERVER_PID"

step "'#' inside a word or inside quotes is not a comment (as in sh), even in a hook"
printf 'server = true\niface = ts#%s\nport = 4002 # a comment\n' "$ID" >"$ETC/hash.conf"
printf 'up = echo "HOOK a # b" a#b >%s/hook.out # a comment\n' "$WORK" >>"$ETC/hash.conf"
start_tund "$NS_S" hash --config "$ETC/hash.conf"
wait_until 5 grep -q "listening on .*:4002" "$WORK/hash.log" || fail "server did not start: $(cat "$WORK/hash.log")"
[ "$(cat "$WORK/hook.out")" = "HOOK a # b a#b" ] || fail "up hook wrote '$(cat "$WORK/hook.out")'"
ip -n "$NS_S" link show "ts#$ID" >/dev/null || fail "no device ts#$ID"
stop_pid "$LAST_PID"
echo "   ok: device ts#$ID, hook wrote '$(cat "$WORK/hook.out")'"

step "the command line wins over the file, the mode included"
# 04001 is decimal 4001 (C's strtol(..., 0) would make it octal 2049).
printf 'server = true\niface = tuns%s\nport = 04001\ntap = yes\n' "$ID" >"$ETC/plain.conf"
start_tund "$NS_S" server2 --config "$ETC/plain.conf" -u --address "$TUN_S/32" --peer "$TUN_C"
SERVER_PID=$LAST_PID
wait_until 5 grep -q "listening on .*:4001" "$WORK/server2.log" || fail "server did not start"
# The file's port (4001) still applies; -c makes it a client, -u a TUN device.
client_pings client-from-server-conf --config "$ETC/plain.conf" -c "$UNDER_S" -u -i "tunc$ID" \
  "${TUNNEL[@]}"

step "-c HOST:PORT"
client_pings client-host-port -c "$UNDER_S:4001" -i "tunc$ID" "${TUNNEL[@]}"
pass "BOM/CRLF config with relative key paths from /, public key and warning logged, -c over a server config, [IPv6]:PORT and HOST:PORT"

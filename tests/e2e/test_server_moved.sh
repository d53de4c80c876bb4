#!/usr/bin/env bash
# The server moved: the client was started with a name (a namespace-local hosts entry);
# the server stops at address 1, the name is changed to address 2 and a server listens
# there. The client looks the name up again (TCP: on every reconnect attempt; UDP: when
# the server stops answering), logs the new address and follows within 15 s.
# TCP, UDP and encrypted UDP.
. "$(dirname "$0")/lib.sh"
make_underlay
make_keys
NEW_S=198.18.0.3
HOSTS="/etc/netns/$NS_C/hosts"

for mode in tcp udp udp-encrypted; do
  step "$mode: the server moves from $UNDER_S to $NEW_S"
  proto=${mode%-encrypted}
  keys_s=() keys_c=()
  if [ "$mode" = udp-encrypted ]; then
    keys_s=(--private-key "$WORK/server.key" --allow "$WORK/client.pub")
    keys_c=(--private-key "$WORK/client.key" --peer-key "$(cat "$WORK/server.pub")")
  fi
  ip -n "$NS_S" addr replace "$UNDER_S/24" dev "vs$ID"
  netns_etc "$NS_C" hosts "$UNDER_S vpn.test"
  inode=$(stat -c %i "$HOSTS")
  start_tund "$NS_S" server -s -i "tuns$ID" -u -t "$proto" "${keys_s[@]}"
  SERVER_PID=$LAST_PID
  start_tund "$NS_C" client-$mode -c vpn.test -i "tunc$ID" -u -t "$proto" "${keys_c[@]}"
  CLIENT_PID=$LAST_PID
  configure_link "$NS_S" "tuns$ID" "$TUN_S" "$TUN_C" tun
  configure_link "$NS_C" "tunc$ID" "$TUN_C" "$TUN_S" tun
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$mode: tunnel did not come up"

  stop_pid "$SERVER_PID"
  ip -n "$NS_S" addr del "$UNDER_S/24" dev "vs$ID"
  ip -n "$NS_S" addr add "$NEW_S/24" dev "vs$ID"
  # In place (same inode): the running client sees the file `ip netns exec` mounted.
  echo "$NEW_S vpn.test" | cat >"$HOSTS"
  [ "$(stat -c %i "$HOSTS")" = "$inode" ] || fail "hosts file was replaced, not rewritten"
  ip netns exec "$NS_C" getent hosts vpn.test | grep -c "$NEW_S" >/dev/null || fail "hosts change not visible"
  start_tund "$NS_S" server2-$mode -s -i "tuns$ID" -u -t "$proto" "${keys_s[@]}"
  SERVER_PID=$LAST_PID
  configure_link "$NS_S" "tuns$ID" "$TUN_S" "$TUN_C" tun
  moved=$SECONDS
  wait_until 15 ping_ok "$NS_C" "$TUN_S" 1 || fail "$mode: the client did not follow within 15 s"
  grep -q "vpn.test now resolves to $NEW_S" "$WORK/client-$mode.log" ||
    fail "$mode: the new address was not logged"
  tunnel_down
  ip -n "$NS_S" addr del "$NEW_S/24" dev "vs$ID"
  pass "$mode: the client followed the server to $NEW_S in $((SECONDS - moved)) s"
done

#!/usr/bin/env bash
# The server is killed and restarted: the client comes back by itself and ping works
# again within 10 s. A killed client is replaced by a new one. TCP and UDP.
. "$(dirname "$0")/lib.sh"
make_underlay
for proto in tcp udp; do
  step "$proto: server restart"
  tunnel_up tun "$proto"
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto: tunnel did not come up"
  kill -9 "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  sleep 2  # the client notices and starts backing off
  start_tund "$NS_S" server -s -i "$DEV_S" -t "$proto"
  SERVER_PID=$LAST_PID
  configure_link "$NS_S" "$DEV_S" "$TUN_S" "$TUN_C" tun
  restarted=$SECONDS
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto: no ping within 10 s of the restart"
  pass "$proto: ping works again $((SECONDS - restarted)) s after the server restarted"

  step "$proto: client killed, a new client takes over"
  kill -9 "$CLIENT_PID"
  wait "$CLIENT_PID" 2>/dev/null || true
  start_tund "$NS_C" client2 -c "$UNDER_S" -i "$DEV_C" -t "$proto"
  CLIENT_PID=$LAST_PID
  configure_link "$NS_C" "$DEV_C" "$TUN_C" "$TUN_S" tun
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto: new client got no ping through"
  ping_ok "$NS_S" "$TUN_C" 3 || fail "$proto: server cannot reach the new client"
  if [ "$proto" = tcp ]; then
    grep -q "reconnecting in" "$WORK/client.log" || fail "tcp: client did not log its reconnect"
  else
    # UDP has no connection: the restarted server learns the client from its next datagram.
    grep -q "client at .* is up" "$WORK/server.log" || fail "udp: server did not learn the client"
  fi
  tunnel_down
  pass "$proto: a new client replaced the killed one"
done

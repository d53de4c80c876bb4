#!/usr/bin/env bash
# Ping both ways across the tunnel in TUN and TAP mode, over TCP and over UDP.
. "$(dirname "$0")/lib.sh"
make_underlay
for mode in tun tap; do
  for proto in tcp udp; do
    step "$mode over $proto"
    tunnel_up "$mode" "$proto"
    wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$mode/$proto: tunnel did not come up"
    ping_ok "$NS_C" "$TUN_S" 5 || fail "$mode/$proto: client -> server ping lost replies"
    ping_ok "$NS_S" "$TUN_C" 5 || fail "$mode/$proto: server -> client ping lost replies"
    tunnel_down
    pass "$mode over $proto: ping both ways"
  done
done

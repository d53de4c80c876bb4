#!/usr/bin/env bash
# A 50 MB file crosses the tunnel over TCP and over UDP and arrives with the same sha256.
. "$(dirname "$0")/lib.sh"
require_tools socat sha256sum
make_underlay
head -c $((50 * 1024 * 1024)) /dev/urandom >"$WORK/payload"
want=$(sha256sum <"$WORK/payload" | cut -d' ' -f1)
for proto in tcp udp; do
  step "50 MB over $proto"
  tunnel_up tun "$proto"
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto: tunnel did not come up"
  got=$(send_file "$WORK/payload")
  [ "$got" = "$want" ] || fail "$proto: sha256 mismatch ($(stat -c %s "$WORK/received") bytes)"
  tunnel_down
  pass "50 MB over $proto arrived intact (sha256 $want)"
done

#!/usr/bin/env bash
# ssh across the tunnel: an sshd (generated host and user keys) listens on the server's
# tunnel address; the client namespace runs a command through it. TCP and UDP transport.
. "$(dirname "$0")/lib.sh"
require_tools ssh ssh-keygen /usr/sbin/sshd
make_underlay
for proto in tcp udp; do
  step "ssh over $proto"
  tunnel_up tun "$proto"
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto: tunnel did not come up"
  start_sshd
  out=$(ssh_run 'echo "remote says: $((6 * 7))"') || fail "$proto: ssh failed"
  [ "$out" = "remote says: 42" ] || fail "$proto: unexpected ssh output '$out'"
  stop_pid "$SSHD_PID"
  tunnel_down
  pass "ssh over $proto ran a command across the tunnel"
done

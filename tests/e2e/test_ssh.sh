#!/usr/bin/env bash
# ssh across the tunnel: an sshd (generated host and user keys) listens on the server's
# tunnel address; the client namespace runs a command through it. TCP and UDP transport.
. "$(dirname "$0")/lib.sh"
require_tools ssh ssh-keygen /usr/sbin/sshd
make_underlay
ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/userkey"
cp "$WORK/userkey.pub" "$WORK/authorized_keys"
cat >"$WORK/sshd_config" <<CONF
ListenAddress $TUN_S
HostKey $WORK/hostkey
PermitRootLogin prohibit-password
AuthorizedKeysFile $WORK/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile $WORK/sshd.pid
CONF
mkdir -p /run/sshd
for proto in tcp udp; do
  step "ssh over $proto"
  tunnel_up tun "$proto"
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto: tunnel did not come up"
  ip netns exec "$NS_S" /usr/sbin/sshd -D -f "$WORK/sshd_config" -E "$WORK/sshd.log" &
  SSHD_PID=$!
  PIDS+=("$SSHD_PID")
  wait_until 5 listening "$NS_S" 22 || fail "listener on port 22 did not start"
  out=$(ip netns exec "$NS_C" ssh -i "$WORK/userkey" -o BatchMode=yes -o ConnectTimeout=5 \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
        "root@$TUN_S" 'echo "remote says: $((6 * 7))"') || fail "$proto: ssh failed"
  [ "$out" = "remote says: 42" ] || fail "$proto: unexpected ssh output '$out'"
  stop_pid "$SSHD_PID"
  tunnel_down
  pass "ssh over $proto ran a command across the tunnel"
done

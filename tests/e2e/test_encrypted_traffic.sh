#!/usr/bin/env bash
# Encrypted tunnel over TCP and UDP: ping, ssh and a 50 MB transfer (sha256), and a capture
# on the underlay while a file full of a marker string crosses: the marker never appears.
. "$(dirname "$0")/lib.sh"
require_tools socat sha256sum tcpdump ssh ssh-keygen /usr/sbin/sshd
make_underlay
make_keys

step "keys"
[ "$(stat -c %a "$WORK/server.key")" = 600 ] || fail "genkey did not write the key file 0600"
[ "$(wc -c <"$WORK/server.pub")" -eq 45 ] || fail "pubkey output is not one base64 key"
pass "genkey writes 0600 files; pubkey derives the public key"

head -c $((50 * 1024 * 1024)) /dev/urandom >"$WORK/payload"
want=$(sha256sum <"$WORK/payload" | cut -d' ' -f1)
{ yes "TUND-SECRET-MARKER-7f3a" || true; } | head -c $((2 * 1024 * 1024)) >"$WORK/marker"

# capture_marker NAME: captures the underlay while the marker file crosses the tunnel and
# prints how many packets were seen; the capture is $WORK/capture-NAME.pcap.
capture_marker() {
  ip netns exec "$NS_C" tcpdump --immediate-mode -i "vc$ID" -U -w "$WORK/capture-$1.pcap" \
    "host $UNDER_S and port 55555" >/dev/null 2>&1 &
  local dump=$!
  PIDS+=("$dump")
  sleep 1
  send_file "$WORK/marker" >/dev/null
  sleep 0.5
  stop_pid "$dump"
  tcpdump -r "$WORK/capture-$1.pcap" 2>/dev/null | wc -l
}

step "control: the capture method sees the marker on a plaintext tunnel"
tunnel_up tun tcp
wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "plaintext tunnel did not come up"
capture_marker plain >/dev/null
grep -aq "TUND-SECRET-MARKER" "$WORK/capture-plain.pcap" || fail "control capture missed the marker"
tunnel_down
pass "plaintext: the marker is visible on the underlay (so its absence below means something)"

for proto in tcp udp; do
  step "encrypted $proto"
  secure_tunnel_up tun "$proto"
  wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$proto: encrypted tunnel did not come up"
  ping_ok "$NS_C" "$TUN_S" 5 || fail "$proto: ping lost replies"
  ping_ok "$NS_S" "$TUN_C" 5 || fail "$proto: reverse ping lost replies"
  grep -q "session with .* established" "$WORK/client.log" || fail "$proto: no session logged"
  pass "$proto: encrypted ping both ways"

  start_sshd
  out=$(ssh_run 'echo "remote says: $((6 * 7))"') || fail "$proto: ssh failed"
  [ "$out" = "remote says: 42" ] || fail "$proto: unexpected ssh output '$out'"
  stop_pid "$SSHD_PID"
  pass "$proto: ssh ran a command across the encrypted tunnel"

  got=$(send_file "$WORK/payload")
  [ "$got" = "$want" ] || fail "$proto: 50 MB transfer corrupted"
  pass "$proto: 50 MB arrived intact"

  packets=$(capture_marker "$proto")
  # Bytes, not packets: with TSO and UDP GSO a veth capture sees a few 64 KB bundles. At
  # least half the 2 MiB marker's worth (the capture may drop some under load): enough
  # that a marker in plaintext could not have been missed.
  bytes=$(stat -c %s "$WORK/capture-$proto.pcap")
  [ "$bytes" -gt $((1024 * 1024)) ] ||
    fail "$proto: the capture holds only $bytes bytes ($packets packets): it missed the transfer"
  if grep -aq "TUND-SECRET-MARKER" "$WORK/capture-$proto.pcap"; then
    fail "$proto: the marker string is visible on the underlay"
  fi
  pass "$proto: $packets packets captured on the underlay, no marker in them"
  tunnel_down
done

#!/usr/bin/env bash
# The demo of tund's main job, narrated: two network namespaces joined by a veth "underlay",
# a tund server in one, a tund client in the other, then ping and ssh across the tunnel.
# Installs what is missing and builds first. Run as root. Everything is removed at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
run() { printf '  $ %s\n' "$*"; "$@"; }

say "Installing dependencies (if missing) and building tund"
"$ROOT/tests/bootstrap.sh" | tail -n 1
TUND=$ROOT/build/tund

ID=$$
SRV=tund-demo-server-$ID
CLI=tund-demo-client-$ID
WORK=$(mktemp -d /tmp/tund-demo.XXXXXX)
cleanup() {
  set +e
  say "Cleaning up: stopping tund, removing namespaces"
  for ns in "$SRV" "$CLI"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
  done
  sleep 0.5
  for ns in "$SRV" "$CLI"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$WORK"
  echo "  done."
}
trap cleanup EXIT

say "1. Two hosts: namespaces $SRV (198.18.0.1) and $CLI (198.18.0.2), joined by veth"
run ip netns add "$SRV"
run ip netns add "$CLI"
run ip link add veth-s netns "$SRV" type veth peer name veth-c netns "$CLI"
run ip -n "$SRV" addr add 198.18.0.1/24 dev veth-s
run ip -n "$CLI" addr add 198.18.0.2/24 dev veth-c
for ns in "$SRV" "$CLI"; do ip -n "$ns" link set lo up; done
run ip -n "$SRV" link set veth-s up
run ip -n "$CLI" link set veth-c up

say "2. Server: tund -s -i tun3 (TUN device tun3, TCP port 55555)"
ip netns exec "$SRV" "$TUND" -s -i tun3 >"$WORK/server.log" 2>&1 &
sleep 0.3
sed 's/^/  server| /' "$WORK/server.log"

say "3. Client: tund -c 198.18.0.1 -i tun11"
ip netns exec "$CLI" "$TUND" -c 198.18.0.1 -i tun11 >"$WORK/client.log" 2>&1 &
sleep 0.3
sed 's/^/  client| /' "$WORK/client.log"

say "4. Tunnel addresses, both families: 10.0.0.1 and fd00::1 (server) <-> 10.0.0.2 and fd00::2 (client)"
# Link up first: Linux routes an IPv6 peer only if the address comes on an up link.
run ip -n "$SRV" link set tun3 up
run ip -n "$SRV" addr add 10.0.0.1 peer 10.0.0.2 dev tun3
run ip -n "$SRV" addr add fd00::1 peer fd00::2 dev tun3
run ip -n "$CLI" link set tun11 up
run ip -n "$CLI" addr add 10.0.0.2 peer 10.0.0.1 dev tun11
run ip -n "$CLI" addr add fd00::2 peer fd00::1 dev tun11

say "5. Ping across the tunnel, client -> server, IPv4 and IPv6"
run ip netns exec "$CLI" ping -c 4 -i 0.2 10.0.0.1
run ip netns exec "$CLI" ping -c 4 -i 0.2 fd00::1

say "6. ssh across the tunnel: an sshd on 10.0.0.1, a throwaway key for the client"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/userkey"
cp "$WORK/userkey.pub" "$WORK/authorized_keys"
printf '%s\n' "ListenAddress 10.0.0.1" "HostKey $WORK/hostkey" \
  "PermitRootLogin prohibit-password" "AuthorizedKeysFile $WORK/authorized_keys" \
  "StrictModes no" "PasswordAuthentication no" "UsePAM no" "PidFile $WORK/sshd.pid" \
  >"$WORK/sshd_config"
mkdir -p /run/sshd
ip netns exec "$SRV" /usr/sbin/sshd -f "$WORK/sshd_config" -E "$WORK/sshd.log"
sleep 0.3
run ip netns exec "$CLI" ssh -i "$WORK/userkey" -o StrictHostKeyChecking=no \
  -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes root@10.0.0.1 \
  'echo "  hello from $(cat /proc/sys/kernel/hostname) over ssh, via $(ip -brief addr show tun3)"'

say "7. What each side sees: tund show (the control socket, /run/tund/IFACE.sock)"
run ip netns exec "$SRV" "$TUND" show tun3
run ip netns exec "$CLI" "$TUND" show tun11 --dump

say "8. What tund logged"
sed 's/^/  server| /' "$WORK/server.log"
sed 's/^/  client| /' "$WORK/client.log"
say "Demo complete: ping and ssh crossed the tunnel."

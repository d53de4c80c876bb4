#!/bin/sh
# Client side of a tund tunnel: address, link up, routes through the tunnel.
#   ROUTES="198.51.100.0/24 203.0.113.0/24"   networks to reach through the tunnel
#   FULL_TUNNEL=yes                             everything through the tunnel (0/1 + 128/1),
#                                               keeping the server itself on the old route
# Works as a tund --up hook (TUND_* from tund) and by hand; idempotent.
set -eu

usage() {
  echo "usage: TUND_IFACE=tunX TUND_LOCAL_ADDR=A TUND_PEER_ADDR=B [TUND_REMOTE=server]" >&2
  echo "       [ROUTES='net/len ...'] [FULL_TUNNEL=yes] $0" >&2
  exit 2
}
[ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ] && usage
[ -n "${TUND_IFACE:-}" ] && [ -n "${TUND_LOCAL_ADDR:-}" ] && [ -n "${TUND_PEER_ADDR:-}" ] || usage

ip addr replace "$TUND_LOCAL_ADDR" peer "$TUND_PEER_ADDR" dev "$TUND_IFACE"
[ -n "${TUND_MTU:-}" ] && ip link set dev "$TUND_IFACE" mtu "$TUND_MTU"
ip link set dev "$TUND_IFACE" up

for net in ${ROUTES:-}; do
  ip route replace "$net" via "$TUND_PEER_ADDR" dev "$TUND_IFACE"
done

if [ "${FULL_TUNNEL:-no}" = yes ]; then
  [ -n "${TUND_REMOTE:-}" ] || { echo "FULL_TUNNEL needs TUND_REMOTE (the server)" >&2; exit 2; }
  # The server's own address must stay on the path it has now, or the tunnel would try
  # to carry itself.
  server=$(getent ahostsv4 "$TUND_REMOTE" | awk 'NR == 1 {print $1}')
  [ -n "$server" ] || { echo "cannot resolve $TUND_REMOTE" >&2; exit 1; }
  via=$(ip route get "$server" | sed -n 's/.* via \([^ ]*\).*/\1/p')
  dev=$(ip route get "$server" | sed -n 's/.* dev \([^ ]*\).*/\1/p')
  if [ -n "$via" ]; then
    ip route replace "$server/32" via "$via" dev "$dev"
  else
    ip route replace "$server/32" dev "$dev"
  fi
  ip route replace 0.0.0.0/1 via "$TUND_PEER_ADDR" dev "$TUND_IFACE"
  ip route replace 128.0.0.0/1 via "$TUND_PEER_ADDR" dev "$TUND_IFACE"
fi

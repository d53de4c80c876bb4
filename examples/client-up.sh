#!/bin/sh
# Client side of a tund tunnel: address, link up, routes through the tunnel.
#   ROUTES="198.51.100.0/24 203.0.113.0/24"   networks to reach through the tunnel
#   FULL_TUNNEL=yes                             everything of the tunnel's address family
#                                               through it (0.0.0.0/1 + 128.0.0.0/1, or
#                                               ::/1 + 8000::/1), keeping the server's own
#                                               addresses on the route they have now
#   GATEWAY=10.0.0.1                            TAP mode only: the server's tunnel address
#                                               (default: TUND_PEER_ADDR)
# Every addressing tund's --address takes: a prefix (TUND_PREFIX=24), a point-to-point
# peer (TUND_PEER_ADDR), IPv6. Works as a tund --up hook (TUND_* from tund) and by hand;
# idempotent. client-down.sh undoes it.
set -eu

usage() {
  echo "usage: TUND_IFACE=tunX TUND_LOCAL_ADDR=A [TUND_PREFIX=N] [TUND_PEER_ADDR=B]"
  echo "       [TUND_REMOTE=server] [ROUTES='net/len ...'] [FULL_TUNNEL=yes] [GATEWAY=G] $0"
}
# --help: usage on stdout, status 0; settings missing: usage on stderr, status 2.
case "${1:-}" in -h | --help) usage; exit 0 ;; esac
if [ -z "${TUND_IFACE:-}" ] || [ -z "${TUND_LOCAL_ADDR:-}" ]; then usage >&2; exit 2; fi
PREFIX=${TUND_PREFIX:-}
PEER=${TUND_PEER_ADDR:-}

# A TUN link carries IP packets with no link-layer address: a route needs only the device
# (a "via" would change nothing), so it works with a peer, a prefix or IPv6 alike. A TAP
# link is Ethernet: the next hop's MAC comes from its address, GATEWAY.
VIA=
if [ "${TUND_MODE:-tun}" = tap ]; then
  VIA=${GATEWAY:-$PEER}
  if [ -z "$VIA" ] && { [ -n "${ROUTES:-}" ] || [ "${FULL_TUNNEL:-no}" = yes ]; }; then
    echo "$0: TAP mode: set GATEWAY to the server's tunnel address for the routes" >&2
    exit 2
  fi
fi
if [ "${FULL_TUNNEL:-no}" = yes ] && [ -z "${TUND_REMOTE:-}" ]; then
  echo "$0: FULL_TUNNEL needs TUND_REMOTE (the server)" >&2
  exit 2
fi

# The address as tund's --address/--peer set it, link up: link-up.sh, next to this script.
case "$0" in */*) HERE=${0%/*} ;; *) HERE=. ;; esac
. "$HERE/link-up.sh"

tunnel_route() {
  if [ -n "$VIA" ]; then
    ip route replace "$1" via "$VIA" dev "$TUND_IFACE"
  else
    ip route replace "$1" dev "$TUND_IFACE"
  fi
}
for net in ${ROUTES:-}; do tunnel_route "$net"; done

# keep_outside ADDR/LEN: the route ADDR has now becomes a host route of its own.
keep_outside() {
  now=$(ip route get "${1%/*}")
  via=$(echo "$now" | sed -n 's/.* via \([^ ]*\).*/\1/p')
  dev=$(echo "$now" | sed -n 's/.* dev \([^ ]*\).*/\1/p')
  if [ -n "$via" ]; then
    ip route replace "$1" via "$via" dev "$dev"
  else
    ip route replace "$1" dev "$dev"
  fi
}

[ "${FULL_TUNNEL:-no}" = yes ] || exit 0
servers=$(getent ahosts "$TUND_REMOTE" | awk '{print $1}' | sort -u)
[ -n "$servers" ] || { echo "$0: cannot resolve $TUND_REMOTE" >&2; exit 1; }
case $TUND_LOCAL_ADDR in
  *:*) family=6 halves="::/1 8000::/1" ;;
  *) family=4 halves="0.0.0.0/1 128.0.0.0/1" ;;
esac
# Each of the server's addresses in the family the tunnel takes over (tund tries each in
# turn) stays on its current path, or the tunnel would try to carry itself.
for server in $servers; do
  case $server in
    *:*) if [ "$family" = 6 ]; then keep_outside "$server/128"; fi ;;
    *) if [ "$family" = 4 ]; then keep_outside "$server/32"; fi ;;
  esac
done
for half in $halves; do tunnel_route "$half"; done

#!/bin/sh
# Client side of a tund tunnel: addresses, link up, routes through the tunnel, IPv4 and
# IPv6 alike.
#   ROUTES="198.51.100.0/24 2001:db8:1::/48"   networks to reach through the tunnel (any
#                                               mix of IPv4 and IPv6 prefixes)
#   FULL_TUNNEL=yes                             everything through it, BOTH families
#                                               (0.0.0.0/1 + 128.0.0.0/1 and ::/1 +
#                                               8000::/1), keeping each of the server's own
#                                               addresses (either family) on the route it
#                                               has now
#   GATEWAY=10.0.0.1  GATEWAY6=fd00::1          TAP mode only: the server's tunnel
#                                               addresses (default: TUND_PEER_ADDR4 and
#                                               TUND_PEER_ADDR6)
# FULL_TUNNEL takes over both families whatever addresses the tunnel has: a tunnel with
# no IPv6 address still takes IPv6 traffic, which then fails inside the tunnel (no route
# on the far side) instead of leaking around it in the clear. The same for IPv4.
# Every addressing tund's --address takes (link-up.sh): a prefix (TUND_PREFIX=24), a
# point-to-point peer (TUND_PEER_ADDR), IPv6, a second family (TUND_LOCAL_ADDR6=fd00::2
# TUND_PREFIX6=64), more addresses (TUND_ADDRESSES). Works as a tund --up hook (TUND_*
# from tund) and by hand; idempotent. client-down.sh undoes it.
set -eu

usage() {
  echo "usage: TUND_IFACE=tunX TUND_LOCAL_ADDR=A [TUND_PREFIX=N] [TUND_PEER_ADDR=B]"
  echo "       [TUND_LOCAL_ADDR6=A6 [TUND_PREFIX6=N6] [TUND_PEER_ADDR6=B6]]"
  echo "       [TUND_REMOTE=server] [ROUTES='net/len ...'] [FULL_TUNNEL=yes]"
  echo "       [GATEWAY=G] [GATEWAY6=G6] $0"
}
# --help: usage on stdout, status 0; settings missing: usage on stderr, status 2.
case "${1:-}" in -h | --help) usage; exit 0 ;; esac
case "$0" in */*) HERE=${0%/*} ;; *) HERE=. ;; esac
# shellcheck disable=SC2034 # read by link-up.sh, sourced next: its functions only
LINK_UP_DEFINE_ONLY=yes
. "$HERE/link-up.sh"
tund_require usage
FULL_TUNNEL=${FULL_TUNNEL:-no}
if [ "$FULL_TUNNEL" = yes ] && [ -z "${TUND_REMOTE:-}" ]; then
  echo "$0: FULL_TUNNEL needs TUND_REMOTE (the server)" >&2
  exit 2
fi

# A TUN link carries IP packets with no link-layer address: a route needs only the device
# (a "via" would change nothing), so it works with a peer, a prefix or IPv6 alike. A TAP
# link is Ethernet: the next hop's MAC comes from its address, the gateway of the
# route's family. (GATEWAY may be IPv6, as before GATEWAY6 existed.)
VIA4='' VIA6=''
if [ "${TUND_MODE:-tun}" = tap ]; then
  case ${GATEWAY:-} in *:*) VIA6=$GATEWAY ;; *) VIA4=${GATEWAY:-} ;; esac
  VIA4=${VIA4:-$PEER4} VIA6=${GATEWAY6:-${VIA6:-$PEER6}}
  # needs_gateway FAMILY WHAT: refuse (before anything changes) a TAP route of that family
  # with no gateway to send it to.
  needs_gateway() {
    eval "via=\$VIA$1"
    [ -z "$via" ] || return 0
    if [ "$1" = 6 ]; then name=GATEWAY6; else name=GATEWAY; fi
    echo "$0: TAP mode: set $name to the server's tunnel address for $2" >&2
    exit 2
  }
  for net in ${ROUTES:-}; do
    case $net in *:*) needs_gateway 6 "$net" ;; *) needs_gateway 4 "$net" ;; esac
  done
  # Full tunnel of a family the tunnel has an address of needs its gateway; of a family
  # it has none of, the traffic goes into the link and fails there (no leak).
  if [ "$FULL_TUNNEL" = yes ]; then
    [ -z "$ADDR4" ] || needs_gateway 4 "the full tunnel"
    [ -z "$ADDR6" ] || needs_gateway 6 "the full tunnel"
  fi
fi

tund_link_up

# tunnel_route NET: NET through the tunnel, via the gateway of its family in TAP mode.
tunnel_route() {
  case $1 in *:*) via=$VIA6 ;; *) via=$VIA4 ;; esac
  if [ -n "$via" ]; then
    ip route replace "$1" via "$via" dev "$TUND_IFACE"
  else
    ip route replace "$1" dev "$TUND_IFACE"
  fi
}

# keep_outside ADDR/LEN: the route ADDR has now becomes a host route of its own. No route
# now (no IPv6 default route, say): nothing to keep, and tund cannot use that address.
keep_outside() {
  now=$(ip route get "${1%/*}" 2>/dev/null) || {
    echo "$0: no route to ${1%/*} now: left as it is" >&2
    return 0
  }
  via=$(echo "$now" | sed -n 's/.* via \([^ ]*\).*/\1/p')
  dev=$(echo "$now" | sed -n 's/.* dev \([^ ]*\).*/\1/p')
  # Already through the tunnel (a run before had no route for it): nothing outside to keep.
  [ "$dev" != "$TUND_IFACE" ] || return 0
  if [ -n "$via" ]; then
    ip route replace "$1" via "$via" dev "$dev"
  else
    ip route replace "$1" dev "$dev"
  fi
}

# Each of the server's addresses, of either family (tund tries each in turn), stays on its
# current path, or the tunnel would try to carry itself: pinned before any route of the
# tunnel (ROUTES too) can take it over.
if [ "$FULL_TUNNEL" = yes ]; then
  servers=$(getent ahosts "$TUND_REMOTE" | awk '{print $1}' | sort -u)
  [ -n "$servers" ] || { echo "$0: cannot resolve $TUND_REMOTE" >&2; exit 1; }
  for server in $servers; do
    case $server in
      *:*) keep_outside "$server/128" ;;
      *) keep_outside "$server/32" ;;
    esac
  done
fi
for net in ${ROUTES:-}; do tunnel_route "$net"; done

[ "$FULL_TUNNEL" = yes ] || exit 0
HALVES="0.0.0.0/1 128.0.0.0/1"
# A kernel without IPv6 (ipv6.disable=1) has no IPv6 to leak.
[ ! -d /proc/sys/net/ipv6 ] || HALVES="$HALVES ::/1 8000::/1"
for half in $HALVES; do tunnel_route "$half"; done

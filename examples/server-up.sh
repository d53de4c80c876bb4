#!/bin/sh
# Server side of a tund tunnel: address, link up, forwarding, NAT of the tunnel's clients
# out of NAT_IFACE. Works as a tund --up hook (tund sets the TUND_* variables) and by hand,
# with every addressing tund's --address takes:
#   TUND_IFACE=tun3 TUND_LOCAL_ADDR=10.0.0.1 TUND_PREFIX=24 NAT_IFACE=eth0 server-up.sh
#   TUND_IFACE=tun3 TUND_LOCAL_ADDR=10.0.0.1 TUND_PEER_ADDR=10.0.0.2 NAT_IFACE=eth0 server-up.sh
#   TUND_IFACE=tun3 TUND_LOCAL_ADDR=fd00::1 TUND_PREFIX=64 NAT_IFACE=eth0 server-up.sh
# NAT masquerades the tunnel's subnet (the peer's address/prefix with a point-to-point
# peer, else the local address's subnet), IPv4 or IPv6 (nftables table inet tund_<iface>;
# iptables/ip6tables if nft is missing). Idempotent; server-down.sh undoes it.
set -eu

usage() {
  echo "usage: TUND_IFACE=tunX TUND_LOCAL_ADDR=A [TUND_PREFIX=N] [TUND_PEER_ADDR=B] [NAT_IFACE=ethX] $0"
  echo "  NAT_IFACE: masquerade the tunnel's subnet out of this interface (optional)"
}
# --help: usage on stdout, status 0; settings missing: usage on stderr, status 2.
case "${1:-}" in -h | --help) usage; exit 0 ;; esac
if [ -z "${TUND_IFACE:-}" ] || [ -z "${TUND_LOCAL_ADDR:-}" ]; then usage >&2; exit 2; fi
NAT_IFACE=${NAT_IFACE:-}
PREFIX=${TUND_PREFIX:-}
PEER=${TUND_PEER_ADDR:-}
# The nft table is named after the interface with anything but letters, digits and '_'
# made '_' (an nft name cannot hold '@', '#', '"' or non-ASCII letters, which interface
# names may); inside the rules the names are quoted strings, which cannot hold '"' or '\'.
TABLE=tund_$(printf '%s' "$TUND_IFACE" | sed 's/[^A-Za-z0-9_]/_/g')
for name in "$TUND_IFACE" ${NAT_IFACE:+"$NAT_IFACE"}; do
  case $name in *[\"\\]*)
    echo "$0: interface name $name: the NAT rules cannot quote '\"' or '\\'" >&2
    exit 2 ;;
  esac
done

# Which sources to masquerade: the clients' addresses on the tunnel (checked before
# anything changes).
# A host prefix (/32, or /128 for IPv6) without a peer names only this side's own
# address: no client could be masqueraded.
case $TUND_LOCAL_ADDR in *:*) HOST_PREFIX=128 ;; *) HOST_PREFIX=32 ;; esac
if [ -z "$NAT_IFACE" ]; then
  NET=
elif [ -n "$PEER" ]; then
  NET=$PEER/${PREFIX:-32}
elif [ -n "$PREFIX" ] && [ "$PREFIX" != "$HOST_PREFIX" ]; then
  NET=$TUND_LOCAL_ADDR/$PREFIX
else
  echo "$0: NAT needs TUND_PREFIX (a subnet, not /$HOST_PREFIX) or TUND_PEER_ADDR (which addresses are the clients'?)" >&2
  exit 2
fi
# Masquerading out of an interface that does not exist would quietly do nothing.
if [ -n "$NAT_IFACE" ] && ! ip link show dev "$NAT_IFACE" >/dev/null 2>&1; then
  echo "$0: NAT_IFACE=$NAT_IFACE: no such interface (set it to the uplink, e.g. NAT_IFACE=ens3)" >&2
  exit 2
fi

# The address as tund's --address/--peer set it, link up: link-up.sh, next to this script.
case "$0" in */*) HERE=${0%/*} ;; *) HERE=. ;; esac
. "$HERE/link-up.sh"

[ -n "$NAT_IFACE" ] || exit 0
case $TUND_LOCAL_ADDR in
  *:*)
    FAMILY=ip6 IPT=ip6tables
    # Note: with forwarding on, an interface with accept_ra=1 ignores router
    # advertisements; an uplink configured by SLAAC needs accept_ra=2.
    sysctl -q -w net.ipv6.conf.all.forwarding=1
    ;;
  *)
    FAMILY=ip IPT=iptables
    sysctl -q -w net.ipv4.ip_forward=1
    ;;
esac

if command -v nft >/dev/null 2>&1; then
  # One table per tunnel, replaced whole in one transaction: idempotent by construction,
  # and no moment without rules. (table ip: what older versions of this script made.)
  nft delete table ip "$TABLE" 2>/dev/null || true
  nft -f - <<NFT
table inet $TABLE {}
delete table inet $TABLE
table inet $TABLE {
  chain forward {
    type filter hook forward priority 0; policy accept;
    iifname "$TUND_IFACE" oifname "$NAT_IFACE" accept
    iifname "$NAT_IFACE" oifname "$TUND_IFACE" ct state established,related accept
    iifname "$NAT_IFACE" oifname "$TUND_IFACE" drop
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    $FAMILY saddr $NET oifname "$NAT_IFACE" masquerade
  }
}
NFT
else
  # iptables fallback: -C checks first so rules are never added twice.
  $IPT -t nat -C POSTROUTING -s "$NET" -o "$NAT_IFACE" -j MASQUERADE 2>/dev/null ||
    $IPT -t nat -A POSTROUTING -s "$NET" -o "$NAT_IFACE" -j MASQUERADE
  $IPT -C FORWARD -i "$TUND_IFACE" -o "$NAT_IFACE" -j ACCEPT 2>/dev/null ||
    $IPT -A FORWARD -i "$TUND_IFACE" -o "$NAT_IFACE" -j ACCEPT
  $IPT -C FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -m state --state ESTABLISHED,RELATED -j ACCEPT 2>/dev/null ||
    $IPT -A FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -m state --state ESTABLISHED,RELATED -j ACCEPT
  # Only answers come in from the uplink, as in the nftables table (appended after the
  # rule above, so answers are accepted first).
  $IPT -C FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -j DROP 2>/dev/null ||
    $IPT -A FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -j DROP
fi

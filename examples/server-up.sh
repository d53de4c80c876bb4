#!/bin/sh
# Server side of a tund tunnel: addresses, link up, forwarding, NAT of the tunnel's clients
# out of NAT_IFACE, for IPv4 and IPv6 (the first address of each family the tunnel has).
# Works as a tund --up hook (tund sets the TUND_* variables) and by hand, with every
# addressing tund's --address takes:
#   TUND_IFACE=tun3 TUND_LOCAL_ADDR=10.0.0.1 TUND_PREFIX=24 NAT_IFACE=eth0 server-up.sh
#   TUND_IFACE=tun3 TUND_LOCAL_ADDR=10.0.0.1 TUND_PEER_ADDR=10.0.0.2 NAT_IFACE=eth0 server-up.sh
#   TUND_IFACE=tun3 TUND_LOCAL_ADDR=fd00::1 TUND_PREFIX=64 NAT_IFACE=eth0 server-up.sh
#   TUND_IFACE=tun3 TUND_LOCAL_ADDR=10.0.0.1 TUND_PREFIX=24 \
#     TUND_LOCAL_ADDR6=fd00::1 TUND_PREFIX6=64 NAT_IFACE=eth0 server-up.sh   (dual stack)
# (the addresses: link-up.sh). With NAT_IFACE, for each family: forwarding on, clients'
# traffic out of NAT_IFACE forwarded and only answers let back in, and the clients'
# subnet (the peer's address/prefix with a point-to-point peer, else the local address's
# subnet) masqueraded — NAT66 for IPv6. NAT6=no routes IPv6 instead of masquerading it:
# for a routed prefix (the clients' addresses are global and the uplink routes them here).
# nftables: one table, inet tund_<iface>, for both families; iptables/ip6tables if nft is
# missing. Idempotent; server-down.sh undoes it.
set -eu

usage() {
  echo "usage: TUND_IFACE=tunX TUND_LOCAL_ADDR=A [TUND_PREFIX=N] [TUND_PEER_ADDR=B]"
  echo "       [TUND_LOCAL_ADDR6=A6 [TUND_PREFIX6=N6] [TUND_PEER_ADDR6=B6]]"
  echo "       [NAT_IFACE=ethX] [NAT6=no] $0"
  echo "  NAT_IFACE: forward the tunnel's clients out of this interface and masquerade them"
  echo "  NAT6=no:   IPv6 routed (a routed prefix), not masqueraded"
}
# --help: usage on stdout, status 0; settings missing: usage on stderr, status 2.
case "${1:-}" in -h | --help) usage; exit 0 ;; esac
case "$0" in */*) HERE=${0%/*} ;; *) HERE=. ;; esac
# shellcheck disable=SC2034 # read by link-up.sh, sourced next: its functions only
LINK_UP_DEFINE_ONLY=yes
. "$HERE/link-up.sh"
tund_require usage
NAT_IFACE=${NAT_IFACE:-}
NAT6=${NAT6:-yes}
case $NAT6 in yes | no) ;; *) echo "$0: NAT6=$NAT6: yes or no" >&2; exit 2 ;; esac
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

# Which sources to masquerade, per family: the clients' addresses on the tunnel (checked
# before anything changes). A host prefix (/32, /128) without a peer names only this
# side's own address: no client could be masqueraded.
NET4='' NET6=''
if [ -n "$NAT_IFACE" ]; then
  for fam in 4 6; do
    eval "addr=\$ADDR$fam"
    [ -n "$addr" ] || continue
    [ "$fam$NAT6" != 6no ] || continue
    net=$(tund_subnet "$fam")
    if [ -z "$net" ]; then
      if [ "$fam" = 6 ]; then host=128; else host=32; fi
      echo "$0: NAT needs TUND_PREFIX (a subnet, not /$host) or TUND_PEER_ADDR for $addr (which addresses are the clients'?)" >&2
      exit 2
    fi
    eval "NET$fam=\$net"
  done
fi
# What may leave through NAT_IFACE, per family: the tunnel's own subnet (masqueraded or,
# with NAT6=no, routed); nothing of a family the tunnel has no address of. Anything else
# from the tunnel is dropped: a client on an IPv4-only full tunnel sends IPv6 into it from
# its underlay address, which must not leave here unmasqueraded (a leak of that address).
# A family whose subnet is unknown (NAT6=no with a host prefix and no peer) is not limited.
SRC4='' SRC6=''
[ -z "$ADDR4" ] || SRC4=$(tund_subnet 4)
[ -z "$ADDR6" ] || SRC6=$(tund_subnet 6)
# Masquerading out of an interface that does not exist would quietly do nothing.
if [ -n "$NAT_IFACE" ] && ! ip link show dev "$NAT_IFACE" >/dev/null 2>&1; then
  echo "$0: NAT_IFACE=$NAT_IFACE: no such interface (set it to the uplink, e.g. NAT_IFACE=ens3)" >&2
  exit 2
fi

tund_link_up

[ -n "$NAT_IFACE" ] || exit 0
[ -z "$ADDR4" ] || sysctl -q -w net.ipv4.ip_forward=1
# Note: with forwarding on, an interface with accept_ra=1 ignores router advertisements;
# an uplink configured by SLAAC needs accept_ra=2.
[ -z "$ADDR6" ] || sysctl -q -w net.ipv6.conf.all.forwarding=1

if command -v nft >/dev/null 2>&1; then
  # One table per tunnel for both families (the forward rules match either), replaced
  # whole in one transaction: idempotent by construction, and no moment without rules.
  # (table ip: what older versions of this script made.)
  MASQ4='' MASQ6=''
  [ -z "$NET4" ] || MASQ4="    ip saddr $NET4 oifname \"$NAT_IFACE\" masquerade
"
  [ -z "$NET6" ] || MASQ6="    ip6 saddr $NET6 oifname \"$NAT_IFACE\" masquerade
"
  OUT=''
  for fam in 4 6; do
    eval "addr=\$ADDR$fam src=\$SRC$fam"
    [ -n "$addr" ] || continue
    if [ "$fam" = 6 ]; then match="ip6 saddr $src" any="meta nfproto ipv6"; else match="ip saddr $src" any="meta nfproto ipv4"; fi
    [ -n "$src" ] || match=$any
    OUT="$OUT    iifname \"$TUND_IFACE\" oifname \"$NAT_IFACE\" $match accept
"
  done
  nft delete table ip "$TABLE" 2>/dev/null || true
  nft -f - <<NFT
table inet $TABLE {}
delete table inet $TABLE
table inet $TABLE {
  chain forward {
    type filter hook forward priority 0; policy accept;
$OUT    iifname "$TUND_IFACE" oifname "$NAT_IFACE" drop
    iifname "$NAT_IFACE" oifname "$TUND_IFACE" ct state established,related accept
    iifname "$NAT_IFACE" oifname "$TUND_IFACE" drop
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
$MASQ4$MASQ6  }
}
NFT
  exit 0
fi

# iptables fallback, per family: -C checks first so rules are never added twice.
# The tunnel's subnet out (accepted, then everything else from the tunnel dropped, as in
# the nftables table); a family without an address gets the drop alone.
for fam in 4 6; do
  eval "addr=\$ADDR$fam net=\$NET$fam src=\$SRC$fam"
  if [ "$fam" = 6 ]; then IPT=ip6tables; else IPT=iptables; fi
  if [ -n "$addr" ]; then
    if [ -n "$net" ]; then
      $IPT -t nat -C POSTROUTING -s "$net" -o "$NAT_IFACE" -j MASQUERADE 2>/dev/null ||
        $IPT -t nat -A POSTROUTING -s "$net" -o "$NAT_IFACE" -j MASQUERADE
    fi
    # An older version's accept of everything from the tunnel would come first.
    [ -z "$src" ] || $IPT -D FORWARD -i "$TUND_IFACE" -o "$NAT_IFACE" -j ACCEPT 2>/dev/null || true
    $IPT -C FORWARD -i "$TUND_IFACE" -o "$NAT_IFACE" ${src:+-s "$src"} -j ACCEPT 2>/dev/null ||
      $IPT -A FORWARD -i "$TUND_IFACE" -o "$NAT_IFACE" ${src:+-s "$src"} -j ACCEPT
  fi
  $IPT -C FORWARD -i "$TUND_IFACE" -o "$NAT_IFACE" -j DROP 2>/dev/null ||
    $IPT -A FORWARD -i "$TUND_IFACE" -o "$NAT_IFACE" -j DROP
  [ -n "$addr" ] || continue
  $IPT -C FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -m state --state ESTABLISHED,RELATED -j ACCEPT 2>/dev/null ||
    $IPT -A FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -m state --state ESTABLISHED,RELATED -j ACCEPT
  # Only answers come in from the uplink, as in the nftables table (appended after the
  # rule above, so answers are accepted first).
  $IPT -C FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -j DROP 2>/dev/null ||
    $IPT -A FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -j DROP
done

#!/bin/sh
# Undoes server-up.sh: the NAT and forward rules of both families (the addresses go with
# the device). IP forwarding (IPv4 and IPv6) stays on: other services may rely on it.
# Works as a tund --down hook and by hand (the same settings as server-up.sh); running
# it twice is harmless. With nftables it needs only TUND_IFACE (the table inet
# tund_<iface> holds every rule); the iptables fallback needs NAT_IFACE too, and the
# addresses for the masquerade rules (it computes the subnets as server-up.sh does).
set -eu
usage() {
  echo "usage: TUND_IFACE=tunX [TUND_LOCAL_ADDR=A TUND_PREFIX=N TUND_PEER_ADDR=B]"
  echo "       [TUND_LOCAL_ADDR6=A6 TUND_PREFIX6=N6 TUND_PEER_ADDR6=B6] [NAT_IFACE=ethX] $0"
}
# --help: usage on stdout, status 0; settings missing: usage on stderr, status 2.
case "${1:-}" in -h | --help) usage; exit 0 ;; esac
if [ -z "${TUND_IFACE:-}" ]; then usage >&2; exit 2; fi
NAT_IFACE=${NAT_IFACE:-}
if command -v nft >/dev/null 2>&1; then
  # The table name server-up.sh made from the interface name.
  TABLE=tund_$(printf '%s' "$TUND_IFACE" | sed 's/[^A-Za-z0-9_]/_/g')
  nft delete table inet "$TABLE" 2>/dev/null || true
  nft delete table ip "$TABLE" 2>/dev/null || true
  exit 0
fi
# iptables: the forward rules of both families (named by the interfaces alone), and the
# masquerade rules of the subnets server-up.sh computed from the addresses (link-up.sh's
# functions). A rule that is not there (NAT6=no: no IPv6 masquerade) is skipped.
[ -n "$NAT_IFACE" ] || exit 0
case "$0" in */*) HERE=${0%/*} ;; *) HERE=. ;; esac
# shellcheck disable=SC2034 # read by link-up.sh, sourced next: its functions only
LINK_UP_DEFINE_ONLY=yes
. "$HERE/link-up.sh"
tund_families 2>/dev/null || ADDR4='' ADDR6=''
for fam in 4 6; do
  if [ "$fam" = 6 ]; then IPT=ip6tables; else IPT=iptables; fi
  eval "addr=\$ADDR$fam"
  net=
  [ -z "$addr" ] || net=$(tund_subnet "$fam")
  if [ -n "$net" ]; then
    $IPT -t nat -D POSTROUTING -s "$net" -o "$NAT_IFACE" -j MASQUERADE 2>/dev/null || true
  fi
  # The tunnel's subnet out (src: as server-up.sh computed it), the drop of the rest, and
  # the unlimited accept older versions made.
  src=
  [ -z "$addr" ] || src=$(tund_subnet "$fam")
  [ -z "$src" ] || $IPT -D FORWARD -i "$TUND_IFACE" -o "$NAT_IFACE" -s "$src" -j ACCEPT 2>/dev/null || true
  $IPT -D FORWARD -i "$TUND_IFACE" -o "$NAT_IFACE" -j ACCEPT 2>/dev/null || true
  $IPT -D FORWARD -i "$TUND_IFACE" -o "$NAT_IFACE" -j DROP 2>/dev/null || true
  $IPT -D FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -m state --state ESTABLISHED,RELATED -j ACCEPT 2>/dev/null || true
  $IPT -D FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -j DROP 2>/dev/null || true
done

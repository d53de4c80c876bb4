#!/bin/sh
# Undoes server-up.sh: NAT and forward rules (the address goes with the device). IP
# forwarding stays on: other services may rely on it. Works as a tund --down hook and by
# hand (the same settings as server-up.sh); running it twice is harmless.
set -eu
usage() {
  echo "usage: TUND_IFACE=tunX [TUND_LOCAL_ADDR=A TUND_PREFIX=N TUND_PEER_ADDR=B NAT_IFACE=ethX] $0"
}
# --help: usage on stdout, status 0; settings missing: usage on stderr, status 2.
case "${1:-}" in -h | --help) usage; exit 0 ;; esac
if [ -z "${TUND_IFACE:-}" ]; then usage >&2; exit 2; fi
NAT_IFACE=${NAT_IFACE:-}
PREFIX=${TUND_PREFIX:-}
PEER=${TUND_PEER_ADDR:-}
LOCAL=${TUND_LOCAL_ADDR:-}
if command -v nft >/dev/null 2>&1; then
  # The table name server-up.sh made from the interface name.
  TABLE=tund_$(printf '%s' "$TUND_IFACE" | sed 's/[^A-Za-z0-9_]/_/g')
  nft delete table inet "$TABLE" 2>/dev/null || true
  nft delete table ip "$TABLE" 2>/dev/null || true
  exit 0
fi
# iptables: the same subnet server-up.sh computed.
case $LOCAL in *:*) HOST_PREFIX=128 ;; *) HOST_PREFIX=32 ;; esac
if [ -n "$PEER" ]; then
  NET=$PEER/${PREFIX:-32}
elif [ -n "$PREFIX" ] && [ -n "$LOCAL" ] && [ "$PREFIX" != "$HOST_PREFIX" ]; then
  NET=$LOCAL/$PREFIX
else
  NET=
fi
IPT=iptables
case $LOCAL in *:*) IPT=ip6tables ;; esac
if [ -n "$NAT_IFACE" ] && [ -n "$NET" ]; then
  $IPT -t nat -D POSTROUTING -s "$NET" -o "$NAT_IFACE" -j MASQUERADE 2>/dev/null || true
  $IPT -D FORWARD -i "$TUND_IFACE" -o "$NAT_IFACE" -j ACCEPT 2>/dev/null || true
  $IPT -D FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -m state --state ESTABLISHED,RELATED -j ACCEPT 2>/dev/null || true
  $IPT -D FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -j DROP 2>/dev/null || true
fi

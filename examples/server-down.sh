#!/bin/sh
# Undoes server-up.sh: NAT and forward rules (the address goes with the device).
# Works as a tund --down hook and by hand; running it twice is harmless.
set -eu
[ -n "${TUND_IFACE:-}" ] || { echo "usage: TUND_IFACE=tunX [TUND_PEER_ADDR=B NAT_IFACE=ethX] $0" >&2; exit 2; }
NAT_IFACE=${NAT_IFACE:-}
if command -v nft >/dev/null 2>&1; then
  nft delete table ip "tund_${TUND_IFACE}" 2>/dev/null || true
elif [ -n "$NAT_IFACE" ] && [ -n "${TUND_PEER_ADDR:-}" ]; then
  iptables -t nat -D POSTROUTING -s "$TUND_PEER_ADDR" -o "$NAT_IFACE" -j MASQUERADE 2>/dev/null || true
  iptables -D FORWARD -i "$TUND_IFACE" -o "$NAT_IFACE" -j ACCEPT 2>/dev/null || true
  iptables -D FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -m state --state ESTABLISHED,RELATED -j ACCEPT 2>/dev/null || true
fi
